/* Double-precision reference of batch norm (+ optional ReLU). */
#include <math.h>
#include <stddef.h>

#include "ops/ref.h"

void rcl_ref_batchnorm_forward(rcl_bn_mode mode, int relu, int n, int c, int hw, const double *x,
                               const double *gamma, const double *beta, double *running_mean,
                               double *running_var, double momentum, double eps, double *y,
                               double *save_mean, double *save_invstd) {
    size_t m = (size_t)n * (size_t)hw;
    for (int ch = 0; ch < c; ch++) {
        double mean, invstd;
        if (mode == RCL_BN_TRAIN) {
            double s = 0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < hw; i++)
                    s += x[((size_t)b * c + ch) * hw + i];
            mean = s / (double)m;
            double v = 0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < hw; i++) {
                    double dv = x[((size_t)b * c + ch) * hw + i] - mean;
                    v += dv * dv;
                }
            double var = v / (double)m; /* biased: normalises */
            invstd = 1.0 / sqrt(var + eps);
            if (save_mean)
                save_mean[ch] = mean;
            if (save_invstd)
                save_invstd[ch] = invstd;
            double unbiased = m > 1 ? var * (double)m / (double)(m - 1) : var;
            if (running_mean)
                running_mean[ch] = (1 - momentum) * running_mean[ch] + momentum * mean;
            if (running_var)
                running_var[ch] = (1 - momentum) * running_var[ch] + momentum * unbiased;
        } else {
            mean = running_mean[ch];
            invstd = 1.0 / sqrt(running_var[ch] + eps);
        }
        for (int b = 0; b < n; b++)
            for (int i = 0; i < hw; i++) {
                size_t k = ((size_t)b * c + ch) * hw + i;
                double v = (x[k] - mean) * invstd * gamma[ch] + beta[ch];
                y[k] = relu && v < 0 ? 0 : v;
            }
    }
}

void rcl_ref_batchnorm_backward(int relu, int n, int c, int hw, const double *x, const double *y,
                                const double *dy, const double *gamma, const double *save_mean,
                                const double *save_invstd, double *dx, double *dgamma, double *dbeta) {
    size_t m = (size_t)n * (size_t)hw;
    for (int ch = 0; ch < c; ch++) {
        double mean = save_mean[ch], invstd = save_invstd[ch], db = 0, dg = 0;
        for (int b = 0; b < n; b++)
            for (int i = 0; i < hw; i++) {
                size_t k = ((size_t)b * c + ch) * hw + i;
                double g = relu && !(y[k] > 0) ? 0 : dy[k];
                db += g;
                dg += g * (x[k] - mean) * invstd;
            }
        dgamma[ch] = dg;
        dbeta[ch] = db;
        double scale = gamma[ch] * invstd / (double)m;
        for (int b = 0; b < n; b++)
            for (int i = 0; i < hw; i++) {
                size_t k = ((size_t)b * c + ch) * hw + i;
                double g = relu && !(y[k] > 0) ? 0 : dy[k];
                double xhat = (x[k] - mean) * invstd;
                dx[k] = scale * ((double)m * g - db - xhat * dg);
            }
    }
}
