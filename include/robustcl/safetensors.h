/* safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON header (padded with spaces to a multiple of 8), then
 * the tensor data, contiguous and little-endian.
 *
 * The writer orders tensors like the reference implementation (dtype descending, then
 * name), so its output is byte-identical to safetensors' save_file for the same input
 * (metadata keys sorted), and writes atomically (temp file, fsync, rename).
 * The reader validates strictly: header length, JSON, dtypes, shapes against offsets,
 * offsets covering the data area exactly with no gap or overlap, unique names. Any
 * malformed file is RCL_ERR_FORMAT naming the file and the tensor. */
#ifndef ROBUSTCL_SAFETENSORS_H
#define ROBUSTCL_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>

#include "robustcl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element types, in the reference implementation's order (used for sorting). Also used
 * by the pickle reader for numpy arrays and torch tensors. */
typedef enum {
    RCL_DT_BOOL,
    RCL_DT_U8,
    RCL_DT_I8,
    RCL_DT_I16,
    RCL_DT_U16,
    RCL_DT_F16,
    RCL_DT_BF16,
    RCL_DT_I32,
    RCL_DT_U32,
    RCL_DT_F32,
    RCL_DT_F64,
    RCL_DT_I64,
    RCL_DT_U64,
    RCL_DT_COUNT
} rcl_st_dtype;

size_t rcl_st_dtype_size(rcl_st_dtype t);       /* bytes per element; 0 if unknown */
const char *rcl_st_dtype_name(rcl_st_dtype t);  /* "F32", ...; "?" if unknown */
/* Converts n little-endian elements of type t to float32 (bool -> 0/1; 64-bit integers
 * rounded). Returns RCL_ERR_INVALID_ARG for an unknown type. */
rcl_status rcl_st_to_f32(rcl_st_dtype t, const void *src, size_t n, float *dst);

#define RCL_ST_MAX_DIMS 8
#define RCL_ST_MAX_HEADER (100u * 1000u * 1000u)

/* ---- writer ---- */

typedef struct rcl_st_writer rcl_st_writer;

rcl_status rcl_st_writer_new(rcl_st_writer **out);
void rcl_st_writer_free(rcl_st_writer *w); /* NULL is fine */
/* Adds a tensor; `data` holds prod(shape) elements, host order (little-endian hosts only).
 * _add copies the data; _add_ref only keeps the pointer, which must stay valid until the
 * writer has written. Names must be unique, non-empty and not "__metadata__". */
rcl_status rcl_st_writer_add(rcl_st_writer *w, const char *name, rcl_st_dtype dtype, int ndim,
                             const int64_t *shape, const void *data);
rcl_status rcl_st_writer_add_ref(rcl_st_writer *w, const char *name, rcl_st_dtype dtype, int ndim,
                                 const int64_t *shape, const void *data);
/* Sets (or replaces) a __metadata__ entry. */
rcl_status rcl_st_writer_set_metadata(rcl_st_writer *w, const char *key, const char *value);
/* Writes the file atomically; the writer stays valid (free it with rcl_st_writer_free). */
rcl_status rcl_st_writer_commit(rcl_st_writer *w, const char *path);
/* The same bytes into a malloc'd buffer. */
rcl_status rcl_st_writer_to_memory(rcl_st_writer *w, unsigned char **data, size_t *size);

/* ---- reader ---- */

typedef struct rcl_st_tensor {
    const char *name;
    rcl_st_dtype dtype;
    int ndim;
    int64_t shape[RCL_ST_MAX_DIMS];
    size_t numel;
    size_t nbytes;
    const void *data; /* inside the file image; may be unaligned for files of other writers */
} rcl_st_tensor;

typedef struct rcl_st_file rcl_st_file;

/* Reads and validates a whole file. */
rcl_status rcl_st_open(const char *path, rcl_st_file **out);
/* Validates a memory image, which must outlive the handle (not copied). */
rcl_status rcl_st_parse(const void *data, size_t size, const char *label, rcl_st_file **out);
void rcl_st_close(rcl_st_file *f); /* NULL is fine */

size_t rcl_st_count(const rcl_st_file *f);
const rcl_st_tensor *rcl_st_tensor_at(const rcl_st_file *f, size_t i); /* in file order */
const rcl_st_tensor *rcl_st_find(const rcl_st_file *f, const char *name); /* NULL if absent */
/* Finds `name` and checks its dtype and shape; RCL_ERR_FORMAT naming the file and the
 * tensor (absent, other dtype, other shape) otherwise. */
rcl_status rcl_st_get(const rcl_st_file *f, const char *name, rcl_st_dtype dtype, int ndim,
                      const int64_t *shape, const rcl_st_tensor **out);
const char *rcl_st_label(const rcl_st_file *f);

size_t rcl_st_metadata_count(const rcl_st_file *f);
const char *rcl_st_metadata(const rcl_st_file *f, const char *key); /* NULL if absent */
/* i-th metadata entry (file order); returns 0 if i is out of range. */
int rcl_st_metadata_at(const rcl_st_file *f, size_t i, const char **key, const char **value);

#ifdef __cplusplus
}
#endif
#endif
