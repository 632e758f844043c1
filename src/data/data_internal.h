/* Helpers shared by the dataset loaders (not public API). */
#ifndef RCL_DATA_INTERNAL_H
#define RCL_DATA_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

#include "robustcl/data.h"
#include "core/sha256.h"

/* Reads a whole regular file (exact-size allocation, NUL past the end) and adds its
 * bytes to `hash` unless NULL. Missing/unreadable: RCL_ERR_IO naming the file. */
rcl_status rcl_data_read_file(const char *path, rcl_sha256 *hash, unsigned char **data,
                              size_t *size);
/* 1 if the buffer starts with the gzip magic. */
int rcl_data_is_gzip(const unsigned char *p, size_t n);
/* Inflates a gzip stream (all members) from memory. The output grows with the data
 * actually decoded (capped at 1100x the input: deflate's ratio limit), so a lying header
 * cannot force a big allocation. Truncated/corrupt: RCL_ERR_FORMAT naming `path`. */
rcl_status rcl_data_gunzip(const char *path, const unsigned char *in, size_t n,
                           unsigned char **out, size_t *outn);
/* dir + "/" + name into out; RCL_ERR_INVALID_ARG if it does not fit. */
rcl_status rcl_data_join(char *out, size_t cap, const char *dir, const char *name);
int rcl_data_is_file(const char *path);
int rcl_data_is_dir(const char *path);
/* Size of a regular file, -1 if it is not one. */
int64_t rcl_data_file_size(const char *path);
void rcl_data_set_name(rcl_dataset *ds, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The seeded choice of m of `total` items rcl_dataset_subset makes: *idx (malloc'd, m
 * entries) sorted ascending. RCL_ERR_INVALID_ARG if m > total; `what` names the set. */
rcl_status rcl_data_pick(const char *what, int total, int m, uint64_t seed, int64_t **idx);

/* Decodes an image file's bytes (stb_image) and fits them (rcl_image_fit_u8) into chw.
 * Undecodable: RCL_ERR_FORMAT naming `path`. */
rcl_status rcl_data_decode_image(const char *path, const unsigned char *data, size_t n,
                                 const rcl_image_options *o, uint8_t *chw);

#endif
