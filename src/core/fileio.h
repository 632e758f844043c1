/* Whole-file reads and crash-safe writes (temp file, fsync, rename). */
#ifndef ROBUSTCL_FILEIO_H
#define ROBUSTCL_FILEIO_H
#include <stddef.h>
#include <stdio.h>

#include "robustcl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads all of `path` into a malloc'd buffer (NUL-terminated past *size). */
rcl_status rcl_file_read(const char *path, unsigned char **data, size_t *size);

/* Writes `n` bytes to `path` atomically: the old file stays until the new one is complete. */
rcl_status rcl_file_write_atomic(const char *path, const void *data, size_t n);

/* Like rcl_file_write_atomic for content produced in pieces. */
typedef struct rcl_atomic_file rcl_atomic_file;
rcl_status rcl_atomic_open(const char *path, rcl_atomic_file **out);
rcl_status rcl_atomic_write(rcl_atomic_file *f, const void *data, size_t n);
rcl_status rcl_atomic_commit(rcl_atomic_file *f); /* fsync + rename; frees f */
void rcl_atomic_abort(rcl_atomic_file *f);        /* removes the temp file; frees f */

/* A text file built with stdio calls in memory (f) and written atomically by
 * rcl_text_commit, so that a report is either the old one or the whole new one. */
typedef struct rcl_text_out {
    FILE *f;
    char *buf;
    size_t len;
} rcl_text_out;
rcl_status rcl_text_open(rcl_text_out *t, const char *path);
rcl_status rcl_text_commit(rcl_text_out *t, const char *path); /* closes and frees t in any case */

/* RCL_OK when a file can be created next to `path` (its folder exists and is writable),
 * so a long run fails at once rather than at its first checkpoint. */
rcl_status rcl_file_check_writable(const char *path);

/* mkdir -p */
rcl_status rcl_mkdirs(const char *path);

#ifdef __cplusplus
}
#endif
#endif
