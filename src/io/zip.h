/* Read-only zip archives (numpy .npz, PyTorch .pt) through libzip: stored and deflated
 * members, zip64 and data descriptors, CRC-32 checked. Sizes come from the central
 * directory and are bounded by the archive size, so a bogus header cannot cause a huge
 * allocation. Every failure on malformed input is RCL_ERR_FORMAT naming the archive
 * (and the member, where one is to blame). */
#ifndef ROBUSTCL_ZIP_H
#define ROBUSTCL_ZIP_H
#include <stddef.h>
#include <stdint.h>

#include "robustcl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcl_zip rcl_zip;

enum { RCL_ZIP_STORED = 0, RCL_ZIP_DEFLATED = 8 };

typedef struct rcl_zip_entry {
    const char *name;      /* NUL-terminated member name */
    uint64_t size;         /* uncompressed size */
    uint64_t comp_size;    /* compressed size (== size when stored) */
    uint32_t crc32;
    int method;            /* RCL_ZIP_STORED or RCL_ZIP_DEFLATED; -1 when encrypted */
} rcl_zip_entry;

/* Opens an archive on disk; the file stays open until rcl_zip_close. */
rcl_status rcl_zip_open(const char *path, rcl_zip **out);
/* Same over a memory buffer, which must outlive the handle (not copied).
 * `label` names the buffer in error messages. */
rcl_status rcl_zip_open_memory(const void *data, size_t size, const char *label, rcl_zip **out);
void rcl_zip_close(rcl_zip *z); /* NULL is fine */

size_t rcl_zip_count(const rcl_zip *z);
const rcl_zip_entry *rcl_zip_entry_at(const rcl_zip *z, size_t i); /* NULL if i out of range */
const rcl_zip_entry *rcl_zip_find(const rcl_zip *z, const char *name); /* NULL if absent */
const char *rcl_zip_label(const rcl_zip *z); /* the path or label it was opened with */

/* Reads a whole member into a malloc'd buffer (NUL-terminated past *size), CRC checked. */
rcl_status rcl_zip_read(rcl_zip *z, const rcl_zip_entry *e, unsigned char **data, size_t *size);
/* Same by name; RCL_ERR_FORMAT if the member is absent. */
rcl_status rcl_zip_read_name(rcl_zip *z, const char *name, unsigned char **data, size_t *size);

/* Streaming read of one member (large .npy arrays without a second copy).
 * rcl_zip_stream_read reads up to n bytes; *got < n only at the end of the member.
 * The CRC is checked when the last byte has been read. One zip may have several
 * streams open; they share the archive but not its position. */
typedef struct rcl_zip_stream rcl_zip_stream;
rcl_status rcl_zip_stream_open(rcl_zip *z, const rcl_zip_entry *e, rcl_zip_stream **out);
rcl_status rcl_zip_stream_read(rcl_zip_stream *s, void *buf, size_t n, size_t *got);
void rcl_zip_stream_close(rcl_zip_stream *s); /* NULL is fine */

#ifdef __cplusplus
}
#endif
#endif
