/* Double-precision references of the Square Attack's device ops (src/ops/square.c). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "ops/ref.h"
#include "robustcl/rng.h"

static double clamp01(double v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }

void rcl_ref_square_init(int n, int c, int h, int w, const double *x_pix, const int32_t *index, double eps,
                         uint32_t seed, uint32_t counter, double *best) {
    for (int r = 0; r < n; r++)
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    size_t i = (((size_t)r * c + ch) * h + y) * w + x;
                    float u = rcl_counter_uniform(seed ^ rcl_hash32((uint32_t)index[r]), counter, (uint32_t)(ch * w + x));
                    best[i] = clamp01(x_pix[i] + (u < 0.5f ? -eps : eps));
                }
}

void rcl_ref_square_propose(int n, int c, int h, int w, const double *x_pix, const double *best,
                            const int32_t *index, double eps, int vh, int vw, int s, uint32_t seed, uint32_t counter,
                            double *cand) {
    for (int r = 0; r < n; r++)
        for (int ch = 0; ch < c; ch++) {
            float u = rcl_counter_uniform(seed ^ rcl_hash32((uint32_t)index[r]), counter, (uint32_t)ch);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    size_t i = (((size_t)r * c + ch) * h + y) * w + x;
                    double v = best[i];
                    if (y >= vh && y < vh + s && x >= vw && x < vw + s)
                        v += u < 0.5f ? -2 * eps : 2 * eps;
                    cand[i] = clamp01(fmin(fmax(v, x_pix[i] - eps), x_pix[i] + eps));
                }
        }
}

void rcl_ref_square_accept(int n, const double *neg_margin, int first, double *margin_min, int32_t *accept) {
    for (int r = 0; r < n; r++) {
        double m = -neg_margin[r];
        if (first) {
            margin_min[r] = m;
            accept[r] = 0;
            continue;
        }
        accept[r] = margin_min[r] > 0 && (m < margin_min[r] || m <= 0);
        if (accept[r])
            margin_min[r] = m;
    }
}

/* The authors' eta_rectangles(a, b) into r[a*b], built their way: nested rectangles around
 * (a/2, b/2) of half-size k (clipped to the grid) each add 1/(k+1)^2; then unit 2-norm. */
static void eta_rect(int a, int b, double *r) {
    int m = (a / 2 > b / 2 ? a / 2 : b / 2) + 1;
    double sq = 0;
    for (int i = 0; i < a * b; i++)
        r[i] = 0;
    for (int k = 0; k < m; k++)
        for (int i = a / 2 - k; i <= a / 2 + k; i++)
            for (int j = b / 2 - k; j <= b / 2 + k; j++)
                if (i >= 0 && i < a && j >= 0 && j < b)
                    r[i * b + j] += 1.0 / ((k + 1.0) * (k + 1.0));
    for (int i = 0; i < a * b; i++)
        sq += r[i] * r[i];
    for (int i = 0; i < a * b; i++)
        r[i] /= sqrt(sq);
}

/* eta(s) into e[s*s] : rect(s/2, s) over -rect(s - s/2, s), unit 2-norm. */
static void eta(int s, double *e) {
    double sq = 0;
    eta_rect(s / 2, s, e);
    eta_rect(s - s / 2, s, e + (s / 2) * s);
    for (int i = (s / 2) * s; i < s * s; i++)
        e[i] = -e[i];
    for (int i = 0; i < s * s; i++)
        sq += e[i] * e[i];
    for (int i = 0; i < s * s; i++)
        e[i] /= sqrt(sq);
}

static double sign_of(float u) { return u < 0.5f ? -1 : 1; }

/* eta at (i, j) of an s-square, transposed or not. */
static double eta_at(const double *e, int s, int i, int j, int transposed) {
    return transposed ? e[j * s + i] : e[i * s + j];
}

/* Scales row r of delta to eps and writes clamp(x + delta, 0, 1). */
static void place(int per, const double *x, const double *delta, double eps, double *out) {
    double sq = 0;
    for (int e = 0; e < per; e++)
        sq += delta[e] * delta[e];
    for (int e = 0; e < per; e++)
        out[e] = clamp01(x[e] + delta[e] * eps / (sqrt(sq) + 1e-12));
}

void rcl_ref_square_init_l2(int n, int c, int h, int w, const double *x_pix, const int32_t *index, double eps,
                            uint32_t seed, uint32_t counter, double *best) {
    int s = h / 5, sp = (h - 5 * s) / 2, th = h / s, tw = w / s, tiles = th * tw, per = c * h * w;
    double *e = malloc((size_t)s * s * sizeof *e), *delta = malloc((size_t)per * sizeof *delta);
    if (!e || !delta) {
        free(e), free(delta);
        return;
    }
    eta(s, e);
    for (int r = 0; r < n; r++) {
        uint32_t key = seed ^ rcl_hash32((uint32_t)index[r]);
        for (int i = 0; i < per; i++)
            delta[i] = 0;
        for (int ti = 0; ti < th; ti++)
            for (int tj = 0; tj < tw; tj++) {
                int t = ti * tw + tj, tr = rcl_counter_uniform(key, counter, (uint32_t)t) > 0.5f;
                for (int ch = 0; ch < c; ch++) {
                    double sg = sign_of(rcl_counter_uniform(key, counter, (uint32_t)(tiles + ch * tiles + t)));
                    for (int i = 0; i < s; i++)
                        for (int j = 0; j < s; j++) {
                            int y = sp + ti * s + i, x = sp + tj * s + j;
                            if (y < h && x < w)
                                delta[(ch * h + y) * w + x] += sg * eta_at(e, s, i, j, tr);
                        }
                }
            }
        place(per, x_pix + (size_t)r * per, delta, eps, best + (size_t)r * per);
    }
    free(e), free(delta);
}

static double window_sq(const double *d, int w, int vh, int vw, int s) {
    double sq = 0;
    for (int i = 0; i < s; i++)
        for (int j = 0; j < s; j++)
            sq += d[(vh + i) * w + vw + j] * d[(vh + i) * w + vw + j];
    return sq;
}

void rcl_ref_square_propose_l2(int n, int c, int h, int w, const double *x_pix, const double *best,
                               const int32_t *index, double eps, int s, int vh, int vw, int vh2, int vw2,
                               uint32_t seed, uint32_t counter, double *cand) {
    int per = c * h * w, plane = h * w;
    double *e = malloc((size_t)s * s * sizeof *e), *delta = malloc((size_t)per * sizeof *delta);
    double *both = malloc((size_t)plane * sizeof *both), *fresh = malloc((size_t)s * s * sizeof *fresh);
    if (!e || !delta || !both || !fresh) {
        free(e), free(delta), free(both), free(fresh);
        return;
    }
    eta(s, e);
    for (int r = 0; r < n; r++) {
        const double *x = x_pix + (size_t)r * per, *b = best + (size_t)r * per;
        uint32_t key = seed ^ rcl_hash32((uint32_t)index[r]);
        int tr = rcl_counter_uniform(key, counter, (uint32_t)c) > 0.5f;
        double img = 0;
        for (int i = 0; i < per; i++)
            delta[i] = b[i] - x[i], img += delta[i] * delta[i];
        for (int ch = 0; ch < c; ch++) {
            double *d = delta + (size_t)ch * plane, sg = sign_of(rcl_counter_uniform(key, counter, (uint32_t)ch));
            double w1 = sqrt(window_sq(d, w, vh, vw, s)), fsq = 0;
            for (int i = 0; i < plane; i++) /* the union of the windows: window 2 zeroed, window 1 counted after */
                both[i] = d[i];
            for (int i = 0; i < s; i++)
                for (int j = 0; j < s; j++)
                    both[(vh2 + i) * w + vw2 + j] = 0;
            double both_sq = window_sq(d, w, vh2, vw2, s) + window_sq(both, w, vh, vw, s);
            for (int i = 0; i < s; i++)
                for (int j = 0; j < s; j++) {
                    fresh[i * s + j] = sg * eta_at(e, s, i, j, tr) + d[(vh + i) * w + vw + j] / (w1 + 1e-12);
                    fsq += fresh[i * s + j] * fresh[i * s + j];
                }
            double scale = sqrt(fmax(eps * eps - img, 0) / c + both_sq) / (sqrt(fsq) + 1e-12);
            for (int i = 0; i < s; i++)
                for (int j = 0; j < s; j++)
                    d[(vh2 + i) * w + vw2 + j] = 0;
            for (int i = 0; i < s; i++)
                for (int j = 0; j < s; j++)
                    d[(vh + i) * w + vw + j] = fresh[i * s + j] * scale;
        }
        place(per, x, delta, eps, cand + (size_t)r * per);
    }
    free(e), free(delta), free(both), free(fresh);
}
