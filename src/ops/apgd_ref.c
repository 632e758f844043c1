/* Double-precision references of APGD's device ops (src/ops/apgd.c). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "ops/ref.h"
#include "robustcl/rng.h"

static double project(double v, double x, double eps) {
    v = fmin(fmax(v, x - eps), x + eps);
    return v < 0 ? 0 : (v > 1 ? 1 : v);
}

/* The start's draw of element e: uniform in [-1,1], or (l2) normal by Box-Muller. */
static double start_draw(uint32_t key, uint32_t counter, int e, int l2) {
    if (!l2)
        return 2.0 * rcl_counter_uniform(key, counter, (uint32_t)e) - 1;
    double u1 = 1.0 - rcl_counter_uniform(key, counter, 2u * (uint32_t)e);
    double u2 = rcl_counter_uniform(key, counter, 2u * (uint32_t)e + 1);
    return sqrt(-2 * log(u1)) * cos(2 * 3.14159265358979323846 * u2);
}

void rcl_ref_apgd_start(int n, int per, const double *x_pix, const int32_t *index, double eps, uint32_t seed,
                        uint32_t counter, int l2, double *adv) {
    for (int r = 0; r < n; r++) {
        uint32_t key = seed ^ rcl_hash32((uint32_t)index[r]);
        double m = 0, sq = 0;
        for (int e = 0; e < per; e++) {
            double t = start_draw(key, counter, e, l2);
            m = fmax(m, fabs(t));
            sq += t * t;
        }
        double norm = l2 ? sqrt(sq) : m;
        for (int e = 0; e < per; e++) {
            size_t i = (size_t)r * per + e;
            adv[i] = project(x_pix[i] + eps * start_draw(key, counter, e, l2) / (norm + 1e-12), x_pix[i], INFINITY);
        }
    }
}

void rcl_ref_apgd_step(int n, int per, const double *x_pix, const double *grad, const double *step, double eps,
                       double momentum, double *old, double *adv) {
    for (size_t i = 0; i < (size_t)n * per; i++) {
        double xa = adv[i], s = grad[i] > 0 ? 1 : (grad[i] < 0 ? -1 : 0);
        double z = project(xa + step[i / (size_t)per] * s, x_pix[i], eps);
        double v = project(xa + (z - xa) * momentum + (xa - old[i]) * (1 - momentum), x_pix[i], eps);
        old[i] = xa;
        adv[i] = v;
    }
}

/* The 2-norm of a - b over per values. */
static double dist2(const double *a, const double *b, int per) {
    double s = 0;
    for (int e = 0; e < per; e++)
        s += (a[e] - b[e]) * (a[e] - b[e]);
    return sqrt(s);
}

/* out = v projected onto the L2 ball of radius eps around x, then clamped to [0,1] (per values). */
static void l2_project(int per, const double *x, const double *v, double eps, double *out) {
    double d = dist2(v, x, per);
    for (int e = 0; e < per; e++)
        out[e] = project(x[e] + (v[e] - x[e]) / (d + 1e-12) * fmin(eps, d), x[e], INFINITY);
}

void rcl_ref_apgd_step_l2(int n, int per, const double *x_pix, const double *grad, const double *step, double eps,
                          double momentum, double *old, double *adv) {
    double *z = malloc((size_t)per * sizeof *z), *v = malloc((size_t)per * sizeof *v);
    if (!z || !v) {
        free(z), free(v);
        return;
    }
    for (int r = 0; r < n; r++) {
        size_t o = (size_t)r * per;
        const double *x = x_pix + o, *g = grad + o;
        double *a = adv + o, *prev = old + o;
        double gn = 0;
        for (int e = 0; e < per; e++)
            gn += g[e] * g[e];
        gn = sqrt(gn) + 1e-12;
        for (int e = 0; e < per; e++)
            v[e] = a[e] + step[r] * g[e] / gn;
        l2_project(per, x, v, eps, z);
        for (int e = 0; e < per; e++)
            v[e] = a[e] + (z[e] - a[e]) * momentum + (a[e] - prev[e]) * (1 - momentum);
        l2_project(per, x, v, eps, z);
        for (int e = 0; e < per; e++)
            prev[e] = a[e], a[e] = z[e];
    }
    free(z), free(v);
}

void rcl_ref_apgd_row_l2(int n, int per, const double *a, const double *b, double *dist) {
    for (int r = 0; r < n; r++)
        dist[r] = dist2(a + (size_t)r * per, b + (size_t)r * per, per);
}

/* The rank-th largest of z[0..k), ties to the lower index. */
static int ranked(const double *z, int k, int rank) {
    int prev = -1;
    for (int r = 0; r < rank; r++) {
        int best = -1;
        for (int j = 0; j < k; j++) {
            if (prev >= 0 && (z[j] > z[prev] || (z[j] == z[prev] && j <= prev)))
                continue;
            if (best < 0 || z[j] > z[best])
                best = j;
        }
        prev = best;
    }
    return prev;
}

void rcl_ref_apgd_target(int n, int k, const double *logits, int rank, int32_t *target) {
    for (int r = 0; r < n; r++)
        target[r] = ranked(logits + (size_t)r * k, k, rank);
}

void rcl_ref_apgd_dlr(int n, int k, const double *logits, const int32_t *labels, const int32_t *target,
                      double *dlogits, double *row_loss, int32_t *row_correct) {
    for (int r = 0; r < n; r++) {
        const double *z = logits + (size_t)r * k;
        double *g = dlogits + (size_t)r * k;
        int y = labels[r], p1 = ranked(z, k, 1), p2 = ranked(z, k, 2), p3 = ranked(z, k, 3);
        int o = target ? target[r] : (p1 == y ? p2 : p1);
        for (int j = 0; j < k; j++)
            g[j] = 0;
        row_correct[r] = p1 == y;
        double num = z[y] - z[o], den;
        if (target) {
            int p4 = ranked(z, k, 4);
            den = z[p1] - 0.5 * (z[p3] + z[p4]) + 1e-12;
            g[p3] -= 0.5 * num / (den * den);
            g[p4] -= 0.5 * num / (den * den);
        } else {
            den = z[p1] - z[p3] + 1e-12;
            g[p3] -= num / (den * den);
        }
        g[p1] += num / (den * den);
        g[y] -= 1 / den;
        g[o] += 1 / den;
        row_loss[r] = -num / den;
    }
}

void rcl_ref_apgd_track(int n, const double *row_loss, const int32_t *row_correct, double eps, int first,
                        rcl_ref_apgd_state *s) {
    for (int r = 0; r < n; r++) {
        double l = row_loss[r];
        if (first) {
            s->loss_best[r] = s->loss_best_last[r] = l;
            s->loss_prev[r] = 0;
            s->step[r] = 2 * eps;
            s->count[r] = 0;
            s->reduced_last[r] = 1;
            s->fooled[r] = !row_correct[r];
            s->flag[r] = 1;
            continue;
        }
        s->fooled[r] |= !row_correct[r];
        s->count[r] += l > s->loss_prev[r];
        s->loss_prev[r] = l;
        s->flag[r] = l > s->loss_best[r];
        if (s->flag[r])
            s->loss_best[r] = l;
    }
}

void rcl_ref_apgd_checkpoint(int n, int window, double rho, rcl_ref_apgd_state *s) {
    for (int r = 0; r < n; r++) {
        int fl = s->count[r] <= window * rho || (!s->reduced_last[r] && s->loss_best_last[r] >= s->loss_best[r]);
        s->reduced_last[r] = fl;
        s->loss_best_last[r] = s->loss_best[r];
        if (fl)
            s->step[r] *= 0.5;
        s->flag[r] = fl;
        s->count[r] = 0;
    }
}
