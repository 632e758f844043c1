#include "robustcl/rng.h"

#include <math.h>

double rcl_rng_normal(rcl_rng *r) {
    double u1 = rcl_rng_uniform(r), u2 = rcl_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void rcl_rng_shuffle(rcl_rng *r, int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rcl_rng_below(r, (uint64_t)i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
