/* FNV-1a 64-bit: cache keys and checksums (not cryptographic). */
#ifndef RCL_HASH_H
#define RCL_HASH_H
#include <stddef.h>
#include <stdint.h>

#define RCL_FNV_INIT 0xcbf29ce484222325ULL

static inline uint64_t rcl_fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#endif
