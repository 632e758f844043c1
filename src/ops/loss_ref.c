/* Double-precision reference of softmax cross-entropy, weighted mean. */
#include <math.h>
#include <stddef.h>

#include "ops/ref.h"

static double sample_weight(int i, const int *labels, const double *class_w, const double *sample_w) {
    return (class_w ? class_w[labels[i]] : 1.0) * (sample_w ? sample_w[i] : 1.0);
}

double rcl_ref_softmax_row(int k, const double *z, double *p) {
    double mx = z[0];
    for (int j = 1; j < k; j++)
        mx = z[j] > mx ? z[j] : mx;
    double se = 0;
    for (int j = 0; j < k; j++)
        se += exp(z[j] - mx);
    for (int j = 0; j < k; j++)
        p[j] = exp(z[j] - mx) / se;
    return mx + log(se);
}

double rcl_ref_softmax_xent_forward(int n, int k, const double *logits, const int *labels,
                                    const double *class_w, const double *sample_w, double *probs) {
    double sl = 0, sw = 0;
    for (int i = 0; i < n; i++) {
        const double *z = logits + (size_t)i * k;
        double lse = rcl_ref_softmax_row(k, z, probs + (size_t)i * k);
        double w = sample_weight(i, labels, class_w, sample_w);
        sl += w * (lse - z[labels[i]]);
        sw += w;
    }
    return sl / sw;
}

void rcl_ref_softmax_xent_backward(int n, int k, const double *probs, const int *labels,
                                   const double *class_w, const double *sample_w, double *dlogits) {
    double sw = 0;
    for (int i = 0; i < n; i++)
        sw += sample_weight(i, labels, class_w, sample_w);
    for (int i = 0; i < n; i++) {
        double w = sample_weight(i, labels, class_w, sample_w) / sw;
        for (int j = 0; j < k; j++)
            dlogits[(size_t)i * k + j] = w * (probs[(size_t)i * k + j] - (j == labels[i] ? 1.0 : 0.0));
    }
}
