/* Double-precision references of ReLU and inverted dropout. */
#include <stddef.h>

#include "ops/ref.h"
#include "robustcl/rng.h"

void rcl_ref_relu_forward(size_t n, const double *x, double *y) {
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0 ? x[i] : 0;
}

void rcl_ref_relu_backward(size_t n, const double *y, const double *dy, double *dx) {
    for (size_t i = 0; i < n; i++)
        dx[i] = y[i] > 0 ? dy[i] : 0;
}

/* Same mask as the device: keep where the counter uniform (float) >= p. */
void rcl_ref_dropout_forward(size_t n, double p, uint32_t seed, uint32_t counter, const double *x,
                             double *y) {
    for (size_t i = 0; i < n; i++) {
        int keep = p < 1 && (double)rcl_counter_uniform(seed, counter, (uint32_t)i) >= p;
        y[i] = keep ? x[i] / (1 - p) : 0;
    }
}

void rcl_ref_dropout_backward(size_t n, double p, uint32_t seed, uint32_t counter, const double *dy,
                              double *dx) {
    rcl_ref_dropout_forward(n, p, seed, counter, dy, dx); /* linear: the same mask and scale */
}
