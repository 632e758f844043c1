/* Double-precision reference of the eval-mode batch-norm backward. */
#include <math.h>
#include <stddef.h>

#include "ops/ref.h"

void rcl_ref_batchnorm_backward_eval(int relu, int n, int c, int hw, const double *x, const double *y, const double *dy,
                                     const double *gamma, const double *running_mean, const double *running_var,
                                     double eps, double *dx, double *dgamma, double *dbeta) {
    for (int ch = 0; ch < c; ch++) {
        double invstd = 1.0 / sqrt(running_var[ch] + eps), db = 0, dg = 0;
        for (int b = 0; b < n; b++)
            for (int i = 0; i < hw; i++) {
                size_t k = ((size_t)b * c + ch) * hw + i;
                double g = (relu && !(y[k] > 0)) ? 0.0 : dy[k];
                db += g;
                dg += g * (x[k] - running_mean[ch]) * invstd;
                dx[k] = g * gamma[ch] * invstd;
            }
        dgamma[ch] = dg;
        dbeta[ch] = db;
    }
}
