/* Class imbalance (spec §6): count profiles, the seeded subset, minority
 * classes, cost-sensitive weights, oversampling and SMOTE. */
#include "robustcl/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/rng.h"

rcl_status rcl_imb_power_law_counts(int k, int a, int b, double gamma, int *counts) {
    if (k < 1 || a < 1 || b < 1 || b > a || !(gamma > 0) || !counts)
        return rcl_fail(RCL_ERR_INVALID_ARG, "power-law counts: need k >= 1, a >= b >= 1, gamma > 0 (k=%d a=%d b=%d gamma=%g)",
                        k, a, b, gamma);
    /* UNCONFIRMED reading of the paper's a/(b+c^gamma) (spec §6): normalised so that
     * n_0 = a and n_{k-1} = b. Same double arithmetic as Python's a/b and (c/(K-1))**g. */
    for (int c = 0; c < k; c++) {
        double x = k > 1 ? (double)c / (double)(k - 1) : 0.0;
        counts[c] = (int)floor((double)a / (1.0 + ((double)a / (double)b - 1.0) * pow(x, gamma)));
    }
    return RCL_OK;
}

rcl_status rcl_imb_exp_counts(int k, int n_max, double rho, int *counts) {
    if (k < 1 || n_max < 1 || !(rho >= 1) || !isfinite(rho) || !counts)
        return rcl_fail(RCL_ERR_INVALID_ARG, "exponential counts: need k >= 1, n_max >= 1, rho >= 1 (k=%d n_max=%d rho=%g)",
                        k, n_max, rho);
    for (int i = 0; i < k; i++) {
        double e = k > 1 ? -(double)i / (double)(k - 1) : 0.0;
        counts[i] = (int)floor((double)n_max * pow(rho, e));
    }
    return RCL_OK;
}

/* Members of each class in file order: members[start[c] .. start[c+1]). */
typedef struct {
    int *start, *members;
} by_class;

static void by_class_free(by_class *g) {
    free(g->start);
    free(g->members);
}

static rcl_status group(const int *labels, int n, int k, by_class *g, const char *who) {
    g->start = g->members = NULL;
    if (!labels || n < 0 || k < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: bad arguments (n=%d, k=%d)", who, n, k);
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= k)
            return rcl_fail(RCL_ERR_INVALID_ARG, "%s: label %d of example %d is outside 0..%d", who, labels[i], i,
                            k - 1);
    g->start = calloc((size_t)k + 1, sizeof(int));
    g->members = malloc(sizeof(int) * (size_t)(n ? n : 1));
    int *pos = calloc((size_t)k, sizeof(int));
    if (!g->start || !g->members || !pos) {
        free(pos);
        by_class_free(g);
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", who);
    }
    for (int i = 0; i < n; i++)
        g->start[labels[i] + 1]++;
    for (int c = 0; c < k; c++)
        g->start[c + 1] += g->start[c];
    for (int i = 0; i < n; i++)
        g->members[g->start[labels[i]] + pos[labels[i]]++] = i;
    free(pos);
    return RCL_OK;
}

rcl_status rcl_imb_select(const int *labels, int n, int k, const int *counts, uint64_t seed, int **idx,
                          int *n_idx) {
    *idx = NULL;
    if (!counts)
        return rcl_fail(RCL_ERR_INVALID_ARG, "imbalance subset: no counts");
    by_class g;
    RCL_TRY(group(labels, n, k, &g, "imbalance subset"));
    for (int c = 0; c < k; c++) {
        int have = g.start[c + 1] - g.start[c];
        if (counts[c] < 0 || counts[c] > have) {
            by_class_free(&g);
            return rcl_fail(RCL_ERR_INVALID_ARG, "imbalance subset: class %d wants %d examples but has %d", c,
                            counts[c], have);
        }
    }
    unsigned char *keep = calloc((size_t)(n ? n : 1), 1);
    if (!keep) {
        by_class_free(&g);
        return rcl_fail(RCL_ERR_NO_MEMORY, "imbalance subset: out of memory");
    }
    rcl_rng r = rcl_rng_seed(seed);
    int total = 0;
    for (int c = 0; c < k; c++) {
        int *m = g.members + g.start[c];
        rcl_rng_shuffle(&r, m, g.start[c + 1] - g.start[c]);
        for (int j = 0; j < counts[c]; j++)
            keep[m[j]] = 1;
        total += counts[c];
    }
    int *out = malloc(sizeof(int) * (size_t)(total ? total : 1));
    if (!out) {
        free(keep);
        by_class_free(&g);
        return rcl_fail(RCL_ERR_NO_MEMORY, "imbalance subset: out of memory");
    }
    /* ascending: the subset keeps file order */
    int t = 0;
    for (int i = 0; i < n; i++)
        if (keep[i])
            out[t++] = i;
    free(keep);
    by_class_free(&g);
    *idx = out;
    *n_idx = total;
    return RCL_OK;
}

int rcl_imb_minority(const int *counts, int k, unsigned char *is_minority) {
    if (!counts || k < 1)
        return -1;
    double mean = 0;
    for (int c = 0; c < k; c++)
        mean += counts[c];
    mean /= k;
    int m = 0;
    for (int c = 0; c < k; c++) {
        int minor = counts[c] < mean;
        if (is_minority)
            is_minority[c] = (unsigned char)minor;
        m += minor;
    }
    return m;
}

rcl_status rcl_imb_class_weights(const int *counts, int k, double *w) {
    if (!counts || !w || k < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "class weights: bad arguments (k=%d)", k);
    double sum = 0;
    for (int c = 0; c < k; c++) {
        if (counts[c] < 1)
            return rcl_fail(RCL_ERR_INVALID_ARG, "class weights: class %d has %d training examples", c, counts[c]);
        sum += 1.0 / counts[c];
    }
    /* only the ratios matter to sum w_y l / sum w_y; mean 1 keeps the values readable */
    for (int c = 0; c < k; c++)
        w[c] = (1.0 / counts[c]) / (sum / k);
    return RCL_OK;
}

/* Largest class size; RCL_ERR_INVALID_ARG if some class is empty. */
static rcl_status majority(const by_class *g, int k, int *mx, const char *who) {
    *mx = 0;
    for (int c = 0; c < k; c++) {
        int nc = g->start[c + 1] - g->start[c];
        if (nc == 0)
            return rcl_fail(RCL_ERR_INVALID_ARG, "%s: class %d has no example to replicate", who, c);
        if (nc > *mx)
            *mx = nc;
    }
    return RCL_OK;
}

rcl_status rcl_imb_oversample(const int *labels, int n, int k, uint64_t seed, int **idx, int *n_idx) {
    *idx = NULL;
    by_class g;
    RCL_TRY(group(labels, n, k, &g, "oversampling"));
    int mx;
    rcl_status s = majority(&g, k, &mx, "oversampling");
    if (s != RCL_OK) {
        by_class_free(&g);
        return s;
    }
    int total = mx * k;
    int *out = malloc(sizeof(int) * (size_t)total);
    if (!out) {
        by_class_free(&g);
        return rcl_fail(RCL_ERR_NO_MEMORY, "oversampling: out of memory for %d indices", total);
    }
    for (int i = 0; i < n; i++)
        out[i] = i;
    int t = n;
    rcl_rng r = rcl_rng_seed(seed);
    for (int c = 0; c < k; c++) {
        int nc = g.start[c + 1] - g.start[c];
        /* with replacement, as imbalanced-learn's RandomOverSampler */
        for (int j = nc; j < mx; j++)
            out[t++] = g.members[g.start[c] + (int)rcl_rng_below(&r, (uint64_t)nc)];
    }
    by_class_free(&g);
    *idx = out;
    *n_idx = t;
    return RCL_OK;
}

void rcl_smote_interpolate(const float *x, const float *nn, int d, double u, float *out) {
    for (int i = 0; i < d; i++)
        out[i] = (float)((double)x[i] + u * ((double)nn[i] - (double)x[i]));
}

/* The kk nearest members of the class to member `self` (squared L2 in double, ties by index). */
static void nearest(const float *x, int d, const int *m, int nc, int self, int kk, int *nb, double *nd) {
    int got = 0;
    const float *xs = x + (size_t)m[self] * d;
    for (int j = 0; j < nc; j++) {
        if (j == self)
            continue;
        const float *xj = x + (size_t)m[j] * d;
        double dist = 0;
        for (int t = 0; t < d; t++) {
            double e = (double)xj[t] - (double)xs[t];
            dist += e * e;
        }
        /* members are in ascending index order, so '<' keeps the lower index on ties */
        if (got == kk && !(dist < nd[kk - 1]))
            continue;
        int p = got < kk ? got++ : kk - 1;
        while (p > 0 && dist < nd[p - 1]) {
            nd[p] = nd[p - 1];
            nb[p] = nb[p - 1];
            p--;
        }
        nd[p] = dist;
        nb[p] = m[j];
    }
}

rcl_status rcl_imb_smote(const float *x, const int *labels, int n, int d, int k, int n_neighbours,
                         uint64_t seed, float **x_new, int **y_new, int *n_new) {
    *x_new = NULL;
    *y_new = NULL;
    *n_new = 0;
    if (!x || d < 1 || n_neighbours < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "SMOTE: need features (d=%d) and >= 1 neighbour (got %d)", d,
                        n_neighbours);
    by_class g;
    RCL_TRY(group(labels, n, k, &g, "SMOTE"));
    int mx;
    rcl_status s = majority(&g, k, &mx, "SMOTE");
    if (s != RCL_OK) {
        by_class_free(&g);
        return s;
    }
    int total = mx * k - n;
    float *xo = malloc(sizeof(float) * (size_t)(total ? total : 1) * (size_t)d);
    int *yo = malloc(sizeof(int) * (size_t)(total ? total : 1));
    /* neighbour lists computed on first use: only the drawn bases pay the n_c * d scan */
    int *nb = malloc(sizeof(int) * (size_t)(n ? n : 1) * (size_t)n_neighbours);
    double *nd = malloc(sizeof(double) * (size_t)n_neighbours);
    unsigned char *done = calloc((size_t)(n ? n : 1), 1);
    if (!xo || !yo || !nb || !nd || !done) {
        free(xo), free(yo), free(nb), free(nd), free(done);
        by_class_free(&g);
        return rcl_fail(RCL_ERR_NO_MEMORY, "SMOTE: out of memory for %d new samples of %d features", total, d);
    }
    rcl_rng r = rcl_rng_seed(seed);
    int t = 0;
    for (int c = 0; c < k; c++) {
        const int *m = g.members + g.start[c];
        int nc = g.start[c + 1] - g.start[c];
        int kk = n_neighbours < nc - 1 ? n_neighbours : nc - 1;
        for (int j = nc; j < mx; j++, t++) {
            int b = (int)rcl_rng_below(&r, (uint64_t)nc);
            const float *xb = x + (size_t)m[b] * d;
            float *out = xo + (size_t)t * d;
            yo[t] = c;
            if (kk == 0) { /* a class of one example: nothing to interpolate towards, duplicate it */
                memcpy(out, xb, sizeof(float) * (size_t)d);
                continue;
            }
            int *list = nb + (size_t)m[b] * n_neighbours;
            if (!done[m[b]]) {
                nearest(x, d, m, nc, b, kk, list, nd);
                done[m[b]] = 1;
            }
            int pick = list[rcl_rng_below(&r, (uint64_t)kk)];
            double u = rcl_rng_uniform(&r);
            rcl_smote_interpolate(xb, x + (size_t)pick * d, d, u, out);
        }
    }
    free(nb), free(nd), free(done);
    by_class_free(&g);
    *x_new = xo;
    *y_new = yo;
    *n_new = total;
    return RCL_OK;
}
