/* Double-precision reference of the corrected loss of Forward and GLC, written
 * as the definition: l = -log sum_j p_j C[j, y] (untrusted) or -log p_y (trusted). */
#include <math.h>
#include <stddef.h>

#include "ops/ref.h"

/* sum_j p_j C[j, y]: the model's probability of observing noisy label y. */
static double noisy_prob(int k, const double *p, const double *C, int y) {
    double s = 0;
    for (int j = 0; j < k; j++)
        s += p[j] * C[(size_t)j * k + y];
    return s;
}

double rcl_ref_corrected_loss_forward(int n, int k, const double *logits, const int *labels, const int *trusted,
                                      const double *C, double *probs) {
    double sl = 0;
    for (int i = 0; i < n; i++) {
        double *p = probs + (size_t)i * k;
        rcl_ref_softmax_row(k, logits + (size_t)i * k, p);
        int y = labels[i];
        sl += trusted && trusted[i] ? -log(p[y]) : -log(noisy_prob(k, p, C, y));
    }
    return sl / n;
}

void rcl_ref_corrected_loss_backward(int n, int k, const double *probs, const int *labels, const int *trusted,
                                     const double *C, double *dlogits) {
    for (int i = 0; i < n; i++) {
        const double *p = probs + (size_t)i * k;
        double *g = dlogits + (size_t)i * k;
        int y = labels[i];
        if (trusted && trusted[i]) {
            for (int j = 0; j < k; j++)
                g[j] = (p[j] - (j == y ? 1.0 : 0.0)) / n;
            continue;
        }
        /* d/dz_j of -log sum_i p_i C[i,y] = p_j - p_j C[j,y] / s */
        double s = noisy_prob(k, p, C, y);
        for (int j = 0; j < k; j++)
            g[j] = (p[j] - p[j] * C[(size_t)j * k + y] / s) / n;
    }
}
