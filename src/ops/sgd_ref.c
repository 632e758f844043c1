/* Double-precision reference of the SGD step (spec §2). */
#include <stddef.h>

#include "ops/ref.h"

void rcl_ref_sgd_step(size_t n, double *w, const double *g, double *buf, double lr, double momentum,
                      double wd, int nesterov, int first) {
    for (size_t i = 0; i < n; i++) {
        double d = g[i] + wd * w[i];
        buf[i] = first ? d : momentum * buf[i] + d;
        d = nesterov ? d + momentum * buf[i] : buf[i];
        w[i] -= lr * d;
    }
}
