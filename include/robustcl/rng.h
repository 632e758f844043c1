/* Seeded random numbers. Host side: splitmix64 streams for shuffles,
 * augmentation and data generation. Device side: a counter-based hash
 * (kernels/common.cl holds the same function) so dropout masks are a pure
 * function of (seed, counter, index) and need no stored state. */
#ifndef ROBUSTCL_RNG_H
#define ROBUSTCL_RNG_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcl_rng {
    uint64_t state;
} rcl_rng;

static inline rcl_rng rcl_rng_seed(uint64_t seed) {
    rcl_rng r = {seed ^ 0x9e3779b97f4a7c15ULL};
    return r;
}
static inline uint64_t rcl_rng_next(rcl_rng *r) {
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
/* Uniform in [0,1) with 53 random bits. 2^-53 spelt as a quotient of powers of two (exact)
 * because C++ before C++17 has no hexadecimal floating constants. */
static inline double rcl_rng_uniform(rcl_rng *r) {
    return (double)(rcl_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}
/* Uniform integer in [0,n), n > 0 (rejection sampling: unbiased). */
static inline uint64_t rcl_rng_below(rcl_rng *r, uint64_t n) {
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = rcl_rng_next(r);
    while (x >= lim);
    return x % n;
}
double rcl_rng_normal(rcl_rng *r); /* standard normal (Box-Muller) */
void rcl_rng_shuffle(rcl_rng *r, int *a, int n); /* Fisher-Yates */

/* The device's counter hash (must equal kernels/common.cl rcl_hash). */
static inline uint32_t rcl_hash32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}
/* Uniform float in [0,1) from (seed, counter, index), 24 bits; same on device. */
static inline float rcl_counter_uniform(uint32_t seed, uint32_t counter, uint32_t index) {
    uint32_t h = rcl_hash32(rcl_hash32(rcl_hash32(index) ^ seed) ^ counter);
    return (float)(h >> 8) * (1.0f / 16777216.0f);
}

#ifdef __cplusplus
}
#endif
#endif
