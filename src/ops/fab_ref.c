/* Double-precision references of FAB-T's device ops (src/ops/fab.c). Each projection takes
 * another route than its kernel: L-inf finds its lambda by a scan over the sorted rooms (the
 * kernel bisects), L2 bisects on alpha itself (the kernel scans sorted breakpoints); the two
 * agree only if both solve the same problem. */
#include <math.h>
#include <stdlib.h>

#include "ops/ref.h"

void rcl_ref_fab_diff(int n, int k, const double *logits, const int32_t *labels, const int32_t *target,
                      double *dlogits, double *row_loss, int32_t *row_correct) {
    for (int r = 0; r < n; r++) {
        const double *z = logits + (size_t)r * k;
        int y = labels[r], t = target[r], am = 0;
        for (int j = 0; j < k; j++) {
            dlogits[(size_t)r * k + j] = (j == t) - (j == y);
            am = z[j] > z[am] ? j : am;
        }
        row_loss[r] = z[t] - z[y];
        row_correct[r] = am == y;
    }
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The lambda at which -sum_e |w_e| min(lambda, room_e) reaches need (< 0 and reachable):
 * breakpoints ascending, each pixel saturating as lambda passes its room. */
static double solve_lambda(int per, const double *w, const double *room, double need) {
    double *pairs = malloc((size_t)per * 2 * sizeof *pairs), sat = 0, unsat = 0, lam = 0;
    int m = 0;
    for (int e = 0; e < per; e++)
        if (w[e] != 0) {
            pairs[2 * m] = room[e], pairs[2 * m + 1] = fabs(w[e]);
            unsat += fabs(w[e]);
            m++;
        }
    qsort(pairs, (size_t)m, 2 * sizeof *pairs, by_value);
    for (int j = 0; j < m && unsat > 0; j++) {
        lam = (-need - sat) / unsat;
        if (lam <= pairs[2 * j])
            break;
        sat += pairs[2 * j + 1] * pairs[2 * j];
        unsat -= pairs[2 * j + 1];
        lam = pairs[2 * j];
    }
    free(pairs);
    return fmax(lam, 0);
}

double rcl_ref_fab_project(int per, const double *t, const double *w, double b, double *d) {
    double side = -b, need = 0, b0 = 0, most = 0;
    for (int e = 0; e < per; e++)
        side += w[e] * t[e];
    double sg = side >= 0 ? 1 : -1;
    double *ws = malloc((size_t)per * 2 * sizeof *ws), *room = ws + per;
    need = sg * b;
    for (int e = 0; e < per; e++) {
        ws[e] = sg * w[e];
        int up = ws[e] < 0;
        need -= ws[e] * t[e];
        room[e] = up ? 1 - t[e] : t[e];
        d[e] = ws[e] != 0 ? up - t[e] : 0;
        b0 += ws[e] * d[e];
    }
    if (need > b0) { /* reachable inside the box: else d stays the nearest corner */
        double lam = solve_lambda(per, ws, room, need);
        for (int e = 0; e < per; e++)
            d[e] = ws[e] < 0 ? fmin(lam, d[e]) : (ws[e] > 0 ? fmax(-lam, d[e]) : 0);
    }
    for (int e = 0; e < per; e++)
        most = fmax(most, fabs(d[e]));
    free(ws);
    return most;
}

/* c + sum_e w_e clamp(-alpha w_e, -t_e, 1 - t_e): how far the L2 step of alpha leaves to go
 * to the hyperplane (w's sign turned so that c >= 0); falls as alpha grows. */
static double l2_left(int per, const double *t, const double *w, double c, double alpha) {
    for (int e = 0; e < per; e++)
        if (w[e] != 0) /* alpha may be infinite */
            c += w[e] * fmin(fmax(-alpha * w[e], -t[e]), 1 - t[e]);
    return c;
}

double rcl_ref_fab_project_l2(int per, const double *t, const double *w, double b, double *d) {
    double side = -b, sq = 0;
    for (int e = 0; e < per; e++)
        side += w[e] * t[e];
    double sg = side < 0 ? -1 : 1, *ws = malloc((size_t)per * sizeof *ws), lo = 0, hi = 1;
    for (int e = 0; e < per; e++)
        ws[e] = fabs(w[e]) > 1e-8 ? sg * w[e] : 0;
    if (l2_left(per, t, ws, sg * side, INFINITY) > 0) { /* unreachable: the nearest corner */
        hi = INFINITY;
    } else {
        while (l2_left(per, t, ws, sg * side, hi) > 0)
            hi *= 2;
        for (int it = 0; it < 200; it++) {
            double mid = 0.5 * (lo + hi);
            *(l2_left(per, t, ws, sg * side, mid) > 0 ? &lo : &hi) = mid;
        }
    }
    for (int e = 0; e < per; e++) {
        d[e] = ws[e] != 0 ? fmin(fmax(-hi * ws[e], -t[e]), 1 - t[e]) : 0;
        sq += d[e] * d[e];
    }
    free(ws);
    return sqrt(sq);
}

void rcl_ref_fab_step(int n, int c, int hw, const double *x0, const double *grad, const double *row_loss,
                      const float *std, double eta, double alpha_max, int l2, double *x1) {
    int per = c * hw;
    double *w = malloc((size_t)per * 3 * sizeof *w), *d1 = w + per, *d2 = d1 + per;
    for (int r = 0; r < n; r++) {
        const double *q = x0 + (size_t)r * per, *g = grad + (size_t)r * per;
        double *p = x1 + (size_t)r * per, b = -row_loss[r];
        for (int e = 0; e < per; e++) {
            w[e] = g[e] / std[e / hw < 3 ? e / hw : 2];
            b += w[e] * p[e];
        }
        double (*project)(int, const double *, const double *, double, double *) =
            l2 ? rcl_ref_fab_project_l2 : rcl_ref_fab_project;
        double a1 = fmax(project(per, p, w, b, d1), 1e-8), a2 = fmax(project(per, q, w, b, d2), 1e-8);
        double a = fmin(a1 / (a1 + a2), alpha_max);
        for (int e = 0; e < per; e++)
            p[e] = fmin(fmax((p[e] + eta * d1[e]) * (1 - a) + (q[e] + eta * d2[e]) * a, 0), 1);
    }
    free(w);
}

void rcl_ref_fab_track(int n, int per, const double *x0, const int32_t *correct, double beta, int l2, double *x1,
                       double *best, double *dist) {
    for (int r = 0; r < n; r++) {
        if (correct[r])
            continue;
        size_t o = (size_t)r * per;
        double m = 0;
        for (int e = 0; e < per; e++) {
            double v = x1[o + e] - x0[o + e];
            m = l2 ? m + v * v : fmax(m, fabs(v));
        }
        m = l2 ? sqrt(m) : m;
        if (m < dist[r]) {
            dist[r] = m;
            for (int e = 0; e < per; e++)
                best[o + e] = x1[o + e];
        }
        for (int e = 0; e < per; e++)
            x1[o + e] = x0[o + e] + (x1[o + e] - x0[o + e]) * beta;
    }
}
