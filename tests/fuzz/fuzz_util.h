/* Shared by the libFuzzer harnesses: parsers that only take a path get the input
 * through a per-process scratch file (in /dev/shm when there is one: no disk I/O). */
#ifndef RCL_FUZZ_UTIL_H
#define RCL_FUZZ_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Path of scratch file `slot` (0..3) of this process. */
static inline const char *fuzz_path(int slot, const char *suffix) {
    static char paths[4][256];
    if (!paths[slot][0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        snprintf(paths[slot], sizeof paths[slot], "%s/rcl-fuzz-%ld-%d%s", dir, (long)getpid(), slot, suffix);
    }
    return paths[slot];
}

static inline const char *fuzz_file(int slot, const char *suffix, const uint8_t *data, size_t n) {
    const char *p = fuzz_path(slot, suffix);
    FILE *f = fopen(p, "wb");
    /* a short write would fuzz a different file than libFuzzer recorded: the harness
     * itself is broken (full /dev/shm, say), make it loud */
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0)
        abort();
    return p;
}

/* The first two bytes (little-endian) split the rest into two parts. */
static inline void fuzz_split(const uint8_t *data, size_t n, const uint8_t **a, size_t *na,
                              const uint8_t **b, size_t *nb) {
    size_t cut = n >= 2 ? (size_t)data[0] | (size_t)data[1] << 8 : 0;
    data += n >= 2 ? 2 : n;
    n -= n >= 2 ? 2 : n;
    if (cut > n)
        cut = n;
    *a = data;
    *na = cut;
    *b = data + cut;
    *nb = n - cut;
}

#endif
