/* Double-precision reference of global average pooling. */
#include <stddef.h>

#include "ops/ref.h"

void rcl_ref_avgpool_forward(int n, int c, int hw, const double *x, double *y) {
    for (size_t p = 0; p < (size_t)n * c; p++) {
        double s = 0;
        for (int i = 0; i < hw; i++)
            s += x[p * hw + i];
        y[p] = s / hw;
    }
}

void rcl_ref_avgpool_backward(int n, int c, int hw, const double *dy, double *dx) {
    for (size_t p = 0; p < (size_t)n * c; p++)
        for (int i = 0; i < hw; i++)
            dx[p * hw + i] = dy[p] / hw;
}
