/* Double-precision references of the Square Attack's device ops (src/ops/square.c). */
#include <math.h>
#include <stddef.h>

#include "ops/ref.h"
#include "robustcl/rng.h"

static double clamp01(double v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }

void rcl_ref_square_init(int n, int c, int h, int w, const double *x_pix, const int32_t *index, double eps,
                         uint32_t seed, uint32_t counter, double *best) {
    for (int r = 0; r < n; r++)
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    size_t i = (((size_t)r * c + ch) * h + y) * w + x;
                    float u = rcl_counter_uniform(seed ^ rcl_hash32((uint32_t)index[r]), counter, (uint32_t)(ch * w + x));
                    best[i] = clamp01(x_pix[i] + (u < 0.5f ? -eps : eps));
                }
}

void rcl_ref_square_propose(int n, int c, int h, int w, const double *x_pix, const double *best,
                            const int32_t *index, double eps, int vh, int vw, int s, uint32_t seed, uint32_t counter,
                            double *cand) {
    for (int r = 0; r < n; r++)
        for (int ch = 0; ch < c; ch++) {
            float u = rcl_counter_uniform(seed ^ rcl_hash32((uint32_t)index[r]), counter, (uint32_t)ch);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    size_t i = (((size_t)r * c + ch) * h + y) * w + x;
                    double v = best[i];
                    if (y >= vh && y < vh + s && x >= vw && x < vw + s)
                        v += u < 0.5f ? -2 * eps : 2 * eps;
                    cand[i] = clamp01(fmin(fmax(v, x_pix[i] - eps), x_pix[i] + eps));
                }
        }
}

void rcl_ref_square_accept(int n, const double *neg_margin, int first, double *margin_min, int32_t *accept) {
    for (int r = 0; r < n; r++) {
        double m = -neg_margin[r];
        if (first) {
            margin_min[r] = m;
            accept[r] = 0;
            continue;
        }
        accept[r] = margin_min[r] > 0 && (m < margin_min[r] || m <= 0);
        if (accept[r])
            margin_min[r] = m;
    }
}
