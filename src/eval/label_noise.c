/* Label corruption (spec §5): corruption matrices, label resampling,
 * the trusted (gold) subset, the Forward and GLC estimates of C, the
 * forward-corrected loss as a host reference, and the error-area metric.
 * Matrices are k x k row-major, row = true class, column = observed label. */
#include "robustcl/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/rng.h"

static rcl_status check_s(int k, double s, const double *C, const char *who) {
    if (k < 1 || !C)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: need k >= 1 classes (got %d)", who, k);
    if (!(s >= 0 && s <= 1))
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: corruption strength must be in [0,1] (got %g)", who, s);
    return RCL_OK;
}

rcl_status rcl_noise_uniform_matrix(int k, double s, double *C) {
    RCL_TRY(check_s(k, s, C, "uniform corruption"));
    /* the true class can be redrawn: it keeps (1-s) + s/k */
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            C[(size_t)i * k + j] = (i == j ? 1.0 - s : 0.0) + s / k;
    return RCL_OK;
}

rcl_status rcl_noise_flip_matrix(int k, double s, uint64_t seed, double *C) {
    RCL_TRY(check_s(k, s, C, "flip corruption"));
    if (k < 2)
        return rcl_fail(RCL_ERR_INVALID_ARG, "flip corruption: needs k >= 2 classes (got %d)", k);
    rcl_rng r = rcl_rng_seed(seed);
    memset(C, 0, sizeof(double) * (size_t)k * k);
    for (int i = 0; i < k; i++) {
        /* uniform over the k-1 other classes, drawn independently per row (not a permutation) */
        int j = (int)rcl_rng_below(&r, (uint64_t)(k - 1));
        if (j >= i)
            j++;
        C[(size_t)i * k + i] = 1.0 - s;
        C[(size_t)i * k + j] = s;
    }
    return RCL_OK;
}

rcl_status rcl_noise_resample_labels(const double *C, int k, const int *clean, const unsigned char *keep_clean,
                                     int n, uint64_t seed, int *noisy) {
    if (!C || !clean || !noisy || k < 1 || n < 0)
        return rcl_fail(RCL_ERR_INVALID_ARG, "resample labels: bad arguments (k=%d, n=%d)", k, n);
    for (int i = 0; i < k; i++) {
        double sum = 0;
        for (int j = 0; j < k; j++) {
            double v = C[(size_t)i * k + j];
            if (!(v >= 0) || !isfinite(v))
                return rcl_fail(RCL_ERR_INVALID_ARG, "resample labels: C[%d,%d] = %g is not a probability", i, j, v);
            sum += v;
        }
        if (!(sum > 0))
            return rcl_fail(RCL_ERR_INVALID_ARG, "resample labels: row %d of C sums to 0", i);
    }
    for (int i = 0; i < n; i++)
        if (clean[i] < 0 || clean[i] >= k)
            return rcl_fail(RCL_ERR_INVALID_ARG, "resample labels: label %d of example %d is outside 0..%d",
                            clean[i], i, k - 1);
    rcl_rng r = rcl_rng_seed(seed);
    for (int i = 0; i < n; i++) {
        if (keep_clean && keep_clean[i]) {
            noisy[i] = clean[i];
            continue;
        }
        /* numpy random.choice(k, p=row): cdf normalised by its last entry, first cdf > u */
        const double *row = C + (size_t)clean[i] * k;
        double total = 0;
        for (int j = 0; j < k; j++)
            total += row[j];
        double u = rcl_rng_uniform(&r), cum = 0;
        int pick = -1, last_nz = 0;
        for (int j = 0; j < k; j++) {
            if (row[j] > 0)
                last_nz = j;
            cum += row[j];
            if (pick < 0 && cum / total > u)
                pick = j;
        }
        noisy[i] = pick >= 0 ? pick : last_nz; /* u just below 1 against a rounded cdf */
    }
    return RCL_OK;
}

typedef struct {
    double rem;
    int c;
} remainder_t;

static int cmp_rem(const void *a, const void *b) {
    const remainder_t *x = a, *y = b;
    if (x->rem != y->rem)
        return x->rem > y->rem ? -1 : 1;
    return (x->c > y->c) - (x->c < y->c);
}

rcl_status rcl_noise_trusted_subset(const int *labels, int n, int k, double fraction, int paper_mode,
                                    uint64_t seed, unsigned char *trusted, int *n_trusted) {
    if (!labels || !trusted || n < 0 || k < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "trusted subset: bad arguments (n=%d, k=%d)", n, k);
    if (!(fraction >= 0 && fraction <= 1))
        return rcl_fail(RCL_ERR_INVALID_ARG, "trusted subset: fraction must be in [0,1] (got %g)", fraction);
    int m = (int)(fraction * (double)n); /* Python int(): truncation, as the official code */
    memset(trusted, 0, (size_t)n);
    if (paper_mode) {
        /* QUIRK (spec §5): the official GLC code keeps the first f*N images in file order */
        for (int i = 0; i < m; i++)
            trusted[i] = 1;
        if (n_trusted)
            *n_trusted = m;
        return RCL_OK;
    }
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= k)
            return rcl_fail(RCL_ERR_INVALID_ARG, "trusted subset: label %d of example %d is outside 0..%d",
                            labels[i], i, k - 1);
    int *count = calloc((size_t)k, sizeof(int)), *quota = calloc((size_t)k, sizeof(int));
    int *start = calloc((size_t)k + 1, sizeof(int)), *members = malloc(sizeof(int) * (size_t)(n ? n : 1));
    int *pos = calloc((size_t)k, sizeof(int));
    remainder_t *rem = malloc(sizeof(remainder_t) * (size_t)k);
    if (!count || !quota || !start || !members || !pos || !rem) {
        free(count), free(quota), free(start), free(members), free(pos), free(rem);
        return rcl_fail(RCL_ERR_NO_MEMORY, "trusted subset: out of memory");
    }
    for (int i = 0; i < n; i++)
        count[labels[i]]++;
    /* largest remainders: class c gets floor(m n_c / n) and the leftovers go to the largest
     * fractional parts, so the total is exactly m and every class is within one of f n_c */
    int given = 0;
    for (int c = 0; c < k; c++) {
        double t = n ? (double)m * count[c] / n : 0;
        quota[c] = (int)floor(t);
        if (quota[c] > count[c])
            quota[c] = count[c];
        rem[c].rem = t - quota[c];
        rem[c].c = c;
        given += quota[c];
    }
    qsort(rem, (size_t)k, sizeof(remainder_t), cmp_rem);
    while (given < m) {
        int moved = 0;
        for (int r = 0; r < k && given < m; r++)
            if (quota[rem[r].c] < count[rem[r].c])
                quota[rem[r].c]++, given++, moved = 1;
        if (!moved)
            break;
    }
    /* members grouped by class in file order, then a seeded shuffle per class */
    for (int c = 0; c < k; c++)
        start[c + 1] = start[c] + count[c];
    for (int i = 0; i < n; i++)
        members[start[labels[i]] + pos[labels[i]]++] = i;
    rcl_rng r = rcl_rng_seed(seed);
    int total = 0;
    for (int c = 0; c < k; c++) {
        rcl_rng_shuffle(&r, members + start[c], count[c]);
        for (int j = 0; j < quota[c]; j++)
            trusted[members[start[c] + j]] = 1;
        total += quota[c];
    }
    if (n_trusted)
        *n_trusted = total;
    free(pos), free(count), free(quota), free(start), free(members), free(rem);
    return RCL_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

rcl_status rcl_noise_forward_estimate(const double *probs, int n, int k, double percentile, int paper_mode,
                                      double *C_hat) {
    if (!probs || !C_hat || n < 1 || k < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "Forward estimate: need a non-empty softmax matrix (n=%d, k=%d)", n, k);
    if (!(percentile >= 0 && percentile <= 100))
        return rcl_fail(RCL_ERR_INVALID_ARG, "Forward estimate: percentile must be in [0,100] (got %g)", percentile);
    for (size_t i = 0; i < (size_t)n * k; i++)
        if (isnan(probs[i]))
            return rcl_fail(RCL_ERR_NUMERIC, "Forward estimate: probability %zu is NaN", i);
    int filter = percentile > 0;
    double *thresh = malloc(sizeof(double) * (size_t)k), *col = malloc(sizeof(double) * (size_t)n);
    if (!thresh || !col) {
        free(thresh), free(col);
        return rcl_fail(RCL_ERR_NO_MEMORY, "Forward estimate: out of memory");
    }
    /* numpy percentile(..., interpolation='higher') (numpy <1.22 formula, same as the newer one
     * for these sizes): the sorted element at ceil(q/100 * (n-1)) */
    for (int j = 0; j < k && filter; j++) {
        for (int i = 0; i < n; i++)
            col[i] = probs[(size_t)i * k + j];
        qsort(col, (size_t)n, sizeof(double), cmp_double);
        double idx = ceil(percentile / 100.0 * (double)(n - 1));
        int ii = idx < 0 ? 0 : idx > n - 1 ? n - 1 : (int)idx;
        thresh[j] = col[ii];
    }
    for (int j = 0; j < k; j++) {
        /* argmax of column j after zeroing entries >= thresh_j; np.argsort(...)[-1] leaves ties
         * to quicksort, we take the last index (what a stable sort would give) */
        int best = 0;
        double best_v = -INFINITY;
        for (int i = 0; i < n; i++) {
            double v = probs[(size_t)i * k + j];
            if (filter && v >= thresh[j])
                v = 0;
            if (v >= best_v)
                best_v = v, best = i;
        }
        const double *row = probs + (size_t)best * k;
        for (int i = 0; i < k; i++) {
            double v = row[i];
            /* QUIRK (spec §5): the zeroing wrote into the shared matrix, so columns already
             * processed (i <= j) show zeros where they were >= their threshold */
            if (paper_mode && filter && i <= j && v >= thresh[i])
                v = 0;
            C_hat[(size_t)j * k + i] = v;
        }
    }
    free(thresh), free(col);
    return RCL_OK;
}

rcl_status rcl_noise_glc_estimate(const double *probs, const int *labels, int n, int k, double *C_hat) {
    if (!probs || !labels || !C_hat || n < 0 || k < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "GLC estimate: bad arguments (n=%d, k=%d)", n, k);
    int *cnt = calloc((size_t)k, sizeof(int));
    if (!cnt)
        return rcl_fail(RCL_ERR_NO_MEMORY, "GLC estimate: out of memory");
    memset(C_hat, 0, sizeof(double) * (size_t)k * k);
    for (int i = 0; i < n; i++) {
        int y = labels[i];
        if (y < 0 || y >= k) {
            free(cnt);
            return rcl_fail(RCL_ERR_INVALID_ARG, "GLC estimate: label %d of trusted example %d is outside 0..%d", y,
                            i, k - 1);
        }
        cnt[y]++;
        for (int j = 0; j < k; j++)
            C_hat[(size_t)y * k + j] += probs[(size_t)i * k + j];
    }
    for (int c = 0; c < k; c++) {
        if (!cnt[c]) {
            free(cnt);
            /* the official code divides by zero here and trains on NaN */
            return rcl_fail(RCL_ERR_INVALID_ARG,
                            "GLC estimate: class %d has no trusted example; raise the trusted fraction", c);
        }
        for (int j = 0; j < k; j++)
            C_hat[(size_t)c * k + j] /= cnt[c];
    }
    free(cnt);
    return RCL_OK;
}

double rcl_noise_forward_loss(const double *p, const double *C, int k, int noisy_label) {
    if (!p || !C || k < 1 || noisy_label < 0 || noisy_label >= k)
        return NAN;
    double s = 0;
    for (int i = 0; i < k; i++)
        s += p[i] * C[(size_t)i * k + noisy_label];
    return -log(s);
}

rcl_status rcl_noise_error_area(const double *s, const double *err, int n, double *area) {
    if (!s || !err || n < 2)
        return rcl_fail(RCL_ERR_INVALID_ARG, "error area: needs at least two grid points (got %d)", n);
    double a = 0;
    for (int i = 0; i + 1 < n; i++) {
        if (!(s[i + 1] > s[i]))
            return rcl_fail(RCL_ERR_INVALID_ARG, "error area: s must increase strictly (s[%d]=%g, s[%d]=%g)", i, s[i],
                            i + 1, s[i + 1]);
        a += 0.5 * (s[i + 1] - s[i]) * (err[i] + err[i + 1]);
    }
    *area = a / (s[n - 1] - s[0]);
    return RCL_OK;
}
