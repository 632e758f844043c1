/* Double-precision reference of the linear layer y = x w^T + b. */
#include <stddef.h>

#include "ops/ref.h"

void rcl_ref_linear_forward(int n, int f, int k, const double *x, const double *w, const double *b,
                            double *y) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) {
            double s = b ? b[j] : 0;
            for (int p = 0; p < f; p++)
                s += x[(size_t)i * f + p] * w[(size_t)j * f + p];
            y[(size_t)i * k + j] = s;
        }
}

void rcl_ref_linear_backward(int n, int f, int k, const double *x, const double *w, const double *dy,
                             double *dx, double *dw, double *db) {
    if (dx)
        for (int i = 0; i < n; i++)
            for (int p = 0; p < f; p++) {
                double s = 0;
                for (int j = 0; j < k; j++)
                    s += dy[(size_t)i * k + j] * w[(size_t)j * f + p];
                dx[(size_t)i * f + p] = s;
            }
    for (int j = 0; j < k; j++)
        for (int p = 0; p < f; p++) {
            double s = 0;
            for (int i = 0; i < n; i++)
                s += dy[(size_t)i * k + j] * x[(size_t)i * f + p];
            dw[(size_t)j * f + p] = s;
        }
    if (db)
        for (int j = 0; j < k; j++) {
            double s = 0;
            for (int i = 0; i < n; i++)
                s += dy[(size_t)i * k + j];
            db[j] = s;
        }
}
