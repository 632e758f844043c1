/* Double-precision references of the attack's device ops (src/ops/attack.c). */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "ops/ref.h"
#include "robustcl/rng.h"

static double clamp01(double v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }

void rcl_ref_attack_to_pixels(int n, int c, int hw, const double *x_net, const float *mean, const float *std,
                              double *x_pix) {
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < hw; i++) {
                size_t k = ((size_t)b * c + ch) * hw + i;
                x_pix[k] = clamp01(x_net[k] * std[ch < 3 ? ch : 2] + mean[ch < 3 ? ch : 2]);
            }
}

void rcl_ref_attack_to_network(int n, int c, int hw, const double *x_net, const double *x_pix, const double *adv,
                               const float *std, double *out) {
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < hw; i++) {
                size_t k = ((size_t)b * c + ch) * hw + i;
                out[k] = x_net[k] + (adv[k] - x_pix[k]) / std[ch < 3 ? ch : 2];
            }
}

void rcl_ref_attack_start(int n, int per, const double *x_pix, const int32_t *index, int random_start, double eps,
                          rcl_attack_mode mode, uint32_t seed, uint32_t counter, double *adv, double *centre) {
    for (int r = 0; r < n; r++)
        for (int e = 0; e < per; e++) {
            size_t k = (size_t)r * per + e;
            double v = x_pix[k];
            if (!random_start) {
                adv[k] = centre[k] = v;
                continue;
            }
            double u = rcl_counter_uniform(seed ^ rcl_hash32((uint32_t)index[r]), counter, (uint32_t)e);
            double s = v + eps * (2 * u - 1);
            adv[k] = mode == RCL_ATTACK_PAPER ? s : clamp01(s);
            centre[k] = mode == RCL_ATTACK_PAPER ? s : v;
        }
}

void rcl_ref_attack_step(size_t total, const double *grad, const double *centre, double step, double eps, double *adv) {
    for (size_t i = 0; i < total; i++) {
        double s = grad[i] > 0 ? 1 : (grad[i] < 0 ? -1 : 0);
        double a = fmin(fmax(adv[i] + step * s, centre[i] - eps), centre[i] + eps);
        adv[i] = clamp01(a);
    }
}

void rcl_ref_attack_loss(rcl_attack_loss loss, int n, int k, const double *logits, const int32_t *labels,
                         double *dlogits, double *row_loss, int32_t *row_correct) {
    for (int r = 0; r < n; r++) {
        const double *z = logits + (size_t)r * k;
        double *g = dlogits + (size_t)r * k;
        int y = labels[r], am = 0;
        memset(g, 0, (size_t)k * sizeof *g);
        if (y < 0 || y >= k) {
            row_loss[r] = 0;
            row_correct[r] = 0;
            continue;
        }
        for (int j = 1; j < k; j++)
            if (z[j] > z[am])
                am = j;
        row_correct[r] = am == y;
        if (loss == RCL_ATTACK_LOSS_MARGIN) {
            int o = -1;
            for (int j = 0; j < k; j++)
                if (j != y && (o < 0 || z[j] > z[o]))
                    o = j;
            g[o] = 1;
            g[y] = -1;
            row_loss[r] = z[o] - z[y];
            continue;
        }
        double s = 0;
        for (int j = 0; j < k; j++)
            s += exp(z[j] - z[am]);
        for (int j = 0; j < k; j++)
            g[j] = exp(z[j] - z[am]) / s - (j == y);
        row_loss[r] = z[am] + log(s) - z[y];
    }
}

void rcl_ref_attack_keep_worst(int n, int per, const double *adv, const double *row_loss, const int32_t *row_correct,
                               int first, double *best, double *best_loss, int32_t *best_correct) {
    for (int r = 0; r < n; r++) {
        if (!first && !((!row_correct[r] && best_correct[r]) ||
                        (row_correct[r] == best_correct[r] && row_loss[r] > best_loss[r])))
            continue;
        memcpy(best + (size_t)r * per, adv + (size_t)r * per, (size_t)per * sizeof *best);
        best_loss[r] = row_loss[r];
        best_correct[r] = row_correct[r];
    }
}

void rcl_ref_attack_copy_rows(int n, int per, const double *src, const int32_t *flag, double *dst) {
    for (int r = 0; r < n; r++)
        if (flag[r])
            memcpy(dst + (size_t)r * per, src + (size_t)r * per, (size_t)per * sizeof *dst);
}
