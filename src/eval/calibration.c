/* Calibration metrics (spec §9): adaptive-bin RMS/MAD, ECE, AURRA,
 * reliability-diagram bins, NLL and temperature tuning. */
#include "robustcl/metrics.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    double c;
    int i;
} keyed;

/* Ascending confidence, ties in original order: a stable sort (the official code's
 * np.argsort is quicksort and does not promise this; spec §9 asks for stable). */
static int cmp_asc(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->c != y->c)
        return x->c < y->c ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Descending confidence, ties in original order (stable sort on -conf). */
static int cmp_desc(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->c != y->c)
        return x->c > y->c ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static rcl_status check_conf(const double *conf, const int *correct, int n, const char *who) {
    if (!conf || !correct || n < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: need at least one example (n=%d)", who, n);
    for (int i = 0; i < n; i++)
        if (isnan(conf[i]))
            return rcl_fail(RCL_ERR_NUMERIC, "%s: confidence %d is NaN", who, i);
    return RCL_OK;
}

static keyed *sorted_keys(const double *conf, int n, int descending) {
    keyed *v = malloc(sizeof(keyed) * (size_t)n);
    if (!v)
        return NULL;
    for (int i = 0; i < n; i++)
        v[i].c = conf[i], v[i].i = i;
    qsort(v, (size_t)n, sizeof(keyed), descending ? cmp_desc : cmp_asc);
    return v;
}

rcl_status rcl_calib_error(const double *conf, const int *correct, int n, int bin, int paper_mode,
                           double *rms, double *mad) {
    RCL_TRY(check_conf(conf, correct, n, "calibration error"));
    if (bin < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "calibration error: bin size must be >= 1 (got %d)", bin);
    keyed *v = sorted_keys(conf, n, 0);
    if (!v)
        return rcl_fail(RCL_ERR_NO_MEMORY, "calibration error: out of memory");
    /* n / bin bins, the last takes the remainder; n < bin: one bin of all examples. The official
     * code crashes there (bins[-1] of no bins), so paper mode cannot skip that only bin. */
    int nb = n / bin;
    int single = nb == 0;
    if (single)
        nb = 1;
    /* QUIRK (spec §9): the official loop stops before the last (most confident) bin yet
     * weights every bin by n_b / N with the full N. */
    int visit = paper_mode && !single ? nb - 1 : nb;
    double sq = 0, ab = 0;
    for (int b = 0; b < visit; b++) {
        int lo = b * bin, hi = b == nb - 1 ? n : lo + bin;
        double sc = 0, sa = 0;
        for (int j = lo; j < hi; j++) {
            sc += v[j].c;
            sa += correct[v[j].i] != 0;
        }
        double cnt = hi - lo, diff = fabs(sc / cnt - sa / cnt);
        sq += cnt / n * diff * diff;
        ab += cnt / n * diff;
    }
    free(v);
    if (rms)
        *rms = sqrt(sq);
    if (mad)
        *mad = ab;
    return RCL_OK;
}

rcl_status rcl_calib_rms(const double *conf, const int *correct, int n, int bin, int paper_mode, double *rms) {
    return rcl_calib_error(conf, correct, n, bin, paper_mode, rms, NULL);
}

rcl_status rcl_calib_mad(const double *conf, const int *correct, int n, int bin, int paper_mode, double *mad) {
    return rcl_calib_error(conf, correct, n, bin, paper_mode, NULL, mad);
}

/* Bin of conf among nbins equal-width bins (lo, hi]; -1 if outside (0, 1] (Guo et al. drop it). */
static int width_bin(double c, int nbins) {
    if (!(c > 0) || c > 1)
        return -1;
    int b = (int)ceil(c * nbins) - 1;
    if (b < 0)
        b = 0;
    if (b > nbins - 1)
        b = nbins - 1;
    /* settle on the exact edges b/nbins, whatever ceil's rounding did */
    while (b > 0 && c <= (double)b / nbins)
        b--;
    while (b < nbins - 1 && c > (double)(b + 1) / nbins)
        b++;
    return b;
}

rcl_status rcl_calib_reliability(const double *conf, const int *correct, int n, int nbins,
                                 rcl_reliability_bin *bins) {
    RCL_TRY(check_conf(conf, correct, n, "reliability"));
    if (nbins < 1 || !bins)
        return rcl_fail(RCL_ERR_INVALID_ARG, "reliability: need >= 1 bin (got %d)", nbins);
    for (int b = 0; b < nbins; b++) {
        bins[b].lo = (double)b / nbins;
        bins[b].hi = (double)(b + 1) / nbins;
        bins[b].count = 0;
        bins[b].conf = bins[b].acc = 0;
    }
    for (int i = 0; i < n; i++) {
        int b = width_bin(conf[i], nbins);
        if (b < 0)
            continue;
        bins[b].count++;
        bins[b].conf += conf[i];
        bins[b].acc += correct[i] != 0;
    }
    for (int b = 0; b < nbins; b++)
        if (bins[b].count) {
            bins[b].conf /= bins[b].count;
            bins[b].acc /= bins[b].count;
        }
    return RCL_OK;
}

rcl_status rcl_calib_ece(const double *conf, const int *correct, int n, int nbins, double *ece) {
    if (nbins < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "ECE: need >= 1 bin (got %d)", nbins);
    rcl_reliability_bin *bins = malloc(sizeof(rcl_reliability_bin) * (size_t)nbins);
    if (!bins)
        return rcl_fail(RCL_ERR_NO_MEMORY, "ECE: out of memory");
    rcl_status s = rcl_calib_reliability(conf, correct, n, nbins, bins);
    if (s == RCL_OK) {
        double e = 0;
        for (int b = 0; b < nbins; b++)
            e += (double)bins[b].count / n * fabs(bins[b].conf - bins[b].acc);
        *ece = e;
    }
    free(bins);
    return s;
}

rcl_status rcl_calib_aurra(const double *conf, const int *correct, int n, double *aurra) {
    RCL_TRY(check_conf(conf, correct, n, "AURRA"));
    keyed *v = sorted_keys(conf, n, 1);
    if (!v)
        return rcl_fail(RCL_ERR_NO_MEMORY, "AURRA: out of memory");
    double hits = 0, sum = 0;
    for (int r = 0; r < n; r++) {
        hits += correct[v[r].i] != 0;
        sum += hits / (r + 1);
    }
    free(v);
    *aurra = sum / n;
    return RCL_OK;
}

/* ---- NLL and temperature ---- */

static rcl_status check_logits_labels(const float *logits, const int *labels, int n, int k, const char *who) {
    if (!logits || !labels || n < 1 || k < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: need a non-empty logit matrix (n=%d, k=%d)", who, n, k);
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= k)
            return rcl_fail(RCL_ERR_INVALID_ARG, "%s: label %d of example %d is outside 0..%d", who, labels[i], i,
                            k - 1);
    for (size_t i = 0; i < (size_t)n * k; i++)
        if (!isfinite(logits[i]))
            return rcl_fail(RCL_ERR_NUMERIC, "%s: logit %zu is not finite", who, i);
    return RCL_OK;
}

/* Mean NLL at T and, if grad != NULL, the sign-carrying part of dNLL/dT:
 * d/dT [lse(z/T) - z_y/T] = (z_y - E_p[z]) / T^2. */
static double nll_at(const float *logits, const int *labels, int n, int k, double T, double *grad) {
    double nll = 0, g = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        double mx = z[0];
        for (int j = 1; j < k; j++)
            if (z[j] > mx)
                mx = z[j];
        double se = 0, sez = 0;
        for (int j = 0; j < k; j++) {
            double e = exp(((double)z[j] - mx) / T);
            se += e;
            sez += e * z[j];
        }
        nll += log(se) - ((double)z[labels[i]] - mx) / T;
        g += (double)z[labels[i]] - sez / se;
    }
    if (grad)
        *grad = g / n / (T * T);
    return nll / n;
}

rcl_status rcl_calib_nll(const float *logits, const int *labels, int n, int k, double T, double *nll) {
    RCL_TRY(check_logits_labels(logits, labels, n, k, "NLL"));
    if (!(T > 0) || !isfinite(T))
        return rcl_fail(RCL_ERR_INVALID_ARG, "NLL: temperature must be > 0 (got %g)", T);
    *nll = nll_at(logits, labels, n, k, T, NULL);
    return RCL_OK;
}

rcl_status rcl_calib_tune_temperature(const float *logits, const int *labels, int n, int k, double lo,
                                      double hi, double tol, double *T) {
    RCL_TRY(check_logits_labels(logits, labels, n, k, "temperature"));
    if (lo < 1e-6) /* spec §9: clamp T > 0 */
        lo = 1e-6;
    if (!(hi > lo) || !(tol > 0) || !isfinite(hi))
        return rcl_fail(RCL_ERR_INVALID_ARG, "temperature: bad search range [%g, %g] or tolerance %g", lo, hi, tol);
    while (hi - lo > tol) {
        double mid = 0.5 * (lo + hi), g;
        nll_at(logits, labels, n, k, mid, &g);
        if (g > 0)
            hi = mid; /* NLL rising at mid: the minimum lies below */
        else
            lo = mid;
    }
    double cand[3] = {lo, 0.5 * (lo + hi), hi}, best = 0, best_nll = INFINITY;
    for (int c = 0; c < 3; c++) {
        double v = nll_at(logits, labels, n, k, cand[c], NULL);
        if (v < best_nll)
            best_nll = v, best = cand[c];
    }
    *T = best;
    return RCL_OK;
}
