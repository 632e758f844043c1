/* SHA-256 (FIPS 180-4): provenance digests of the dataset files a run read. */
#ifndef ROBUSTCL_SHA256_H
#define ROBUSTCL_SHA256_H
#include <stddef.h>
#include <stdint.h>

#include "robustcl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcl_sha256 {
    uint32_t h[8];
    uint64_t len;     /* bytes hashed so far */
    uint8_t buf[64];  /* pending partial block */
    size_t nbuf;
} rcl_sha256;

void rcl_sha256_init(rcl_sha256 *s);
void rcl_sha256_update(rcl_sha256 *s, const void *data, size_t n);
/* Writes the 32-byte digest; s must be re-initialised before reuse. */
void rcl_sha256_final(rcl_sha256 *s, uint8_t digest[32]);
/* Final digest as 64 lowercase hex digits + NUL. */
void rcl_sha256_final_hex(rcl_sha256 *s, char hex[65]);
void rcl_sha256_to_hex(const uint8_t digest[32], char hex[65]);

/* One-shot digest of a buffer, as hex. */
void rcl_sha256_hex(const void *data, size_t n, char hex[65]);
/* Adds every byte of `path` to s (streamed, no whole-file buffer). RCL_ERR_IO names the file. */
rcl_status rcl_sha256_update_file(rcl_sha256 *s, const char *path);
/* Digest of the file `path`, as hex (equals `sha256sum path`). */
rcl_status rcl_sha256_file(const char *path, char hex[65]);

#ifdef __cplusplus
}
#endif
#endif
