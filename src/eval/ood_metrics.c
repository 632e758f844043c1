/* OOD detection metrics (spec §8) and the softmax helpers they use.
 * Everything is computed from the step curve at distinct thresholds, the
 * way sklearn's _binary_clf_curve builds it: tied scores form one threshold. */
#include "robustcl/metrics.h"

#include <math.h>
#include <stdlib.h>

/* ---- softmax helpers ---- */

static rcl_status check_logits(const float *logits, int n, int k, double T, const char *who) {
    if (!logits || n < 0 || k < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: bad logit matrix (n=%d, k=%d)", who, n, k);
    if (!(T > 0) || !isfinite(T))
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: temperature must be > 0 (got %g)", who, T);
    return RCL_OK;
}

/* Softmax of one row of z/T into p (double); returns the argmax (lowest index on ties),
 * or -1 if a logit is not finite. */
static int softmax_row(const float *z, int k, double T, double *p) {
    int am = 0;
    for (int j = 0; j < k; j++) {
        if (!isfinite(z[j]))
            return -1;
        if (z[j] > z[am])
            am = j;
    }
    double mx = (double)z[am] / T, sum = 0;
    for (int j = 0; j < k; j++) {
        p[j] = exp((double)z[j] / T - mx);
        sum += p[j];
    }
    for (int j = 0; j < k; j++)
        p[j] /= sum;
    return am;
}

rcl_status rcl_softmax_rows(const float *logits, int n, int k, double T, double *probs) {
    RCL_TRY(check_logits(logits, n, k, T, "softmax"));
    for (int i = 0; i < n; i++)
        if (softmax_row(logits + (size_t)i * k, k, T, probs + (size_t)i * k) < 0)
            return rcl_fail(RCL_ERR_NUMERIC, "softmax: row %d has a non-finite logit", i);
    return RCL_OK;
}

rcl_status rcl_confidence_correct(const float *logits, const int *labels, int n, int k, double T,
                                  double *conf, int *correct) {
    RCL_TRY(check_logits(logits, n, k, T, "confidence"));
    double *p = malloc(sizeof(double) * (size_t)k);
    if (!p)
        return rcl_fail(RCL_ERR_NO_MEMORY, "confidence: out of memory");
    for (int i = 0; i < n; i++) {
        int am = softmax_row(logits + (size_t)i * k, k, T, p);
        if (am < 0) {
            free(p);
            return rcl_fail(RCL_ERR_NUMERIC, "confidence: row %d has a non-finite logit", i);
        }
        /* max softmax is exactly the argmax entry, so no second scan */
        if (conf)
            conf[i] = p[am];
        if (correct)
            correct[i] = labels ? (am == labels[i]) : 0;
    }
    free(p);
    return RCL_OK;
}

rcl_status rcl_msp_scores(const float *logits, int n, int k, double T, double *score) {
    RCL_TRY(rcl_confidence_correct(logits, NULL, n, k, T, score, NULL));
    for (int i = 0; i < n; i++)
        score[i] = -score[i];
    return RCL_OK;
}

/* ---- the step curve ---- */

typedef struct {
    double s;
    int pos;
} scored;

typedef struct {
    int n;         /* distinct thresholds */
    double *thr;   /* descending */
    long long *tp; /* positives with score >= thr[t] */
    long long *fp; /* negatives with score >= thr[t] */
    long long P, N;
} curve;

static int cmp_desc(const void *a, const void *b) {
    double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x < y) - (x > y);
}

static void curve_free(curve *c) {
    free(c->thr);
    free(c->tp);
    free(c->fp);
}

static rcl_status curve_build(const double *ood, int n_ood, const double *id, int n_id, curve *c, const char *who) {
    c->thr = NULL, c->tp = c->fp = NULL;
    if (!ood || !id || n_ood < 1 || n_id < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: need at least one OOD and one in-distribution score (%d, %d)",
                        who, n_ood, n_id);
    int n = n_ood + n_id;
    scored *v = malloc(sizeof(scored) * (size_t)n);
    c->thr = malloc(sizeof(double) * (size_t)n);
    c->tp = malloc(sizeof(long long) * (size_t)n);
    c->fp = malloc(sizeof(long long) * (size_t)n);
    if (!v || !c->thr || !c->tp || !c->fp) {
        free(v);
        curve_free(c);
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory for %d scores", who, n);
    }
    for (int i = 0; i < n; i++) {
        v[i].s = i < n_ood ? ood[i] : id[i - n_ood];
        v[i].pos = i < n_ood;
        if (isnan(v[i].s)) {
            free(v);
            curve_free(c);
            return rcl_fail(RCL_ERR_NUMERIC, "%s: %s score %d is NaN", who, i < n_ood ? "OOD" : "ID",
                            i < n_ood ? i : i - n_ood);
        }
    }
    /* order within a tie is irrelevant: a tie group is one threshold */
    qsort(v, (size_t)n, sizeof(scored), cmp_desc);
    long long tp = 0, fp = 0;
    int t = 0;
    for (int i = 0; i < n; i++) {
        tp += v[i].pos;
        fp += !v[i].pos;
        if (i == n - 1 || v[i + 1].s != v[i].s) {
            c->thr[t] = v[i].s;
            c->tp[t] = tp;
            c->fp[t] = fp;
            t++;
        }
    }
    c->n = t;
    c->P = n_ood;
    c->N = n_id;
    free(v);
    return RCL_OK;
}

/* Trapezoid under the step ROC in integer units: exact Mann-Whitney with ties 1/2. */
static double curve_auroc(const curve *c) {
    long long ptp = 0, pfp = 0;
    double twice = 0; /* sum of dfp * (tp + ptp); each term and the sum are exact integers below 2^53 */
    for (int t = 0; t < c->n; t++) {
        twice += (double)(c->fp[t] - pfp) * (double)(c->tp[t] + ptp);
        ptp = c->tp[t], pfp = c->fp[t];
    }
    return twice / (2.0 * (double)c->P * (double)c->N);
}

/* sklearn average_precision_score: sum (R_t - R_{t-1}) P_t over distinct thresholds. */
static double curve_ap(const curve *c) {
    double ap = 0, prev_r = 0;
    for (int t = 0; t < c->n; t++) {
        double r = (double)c->tp[t] / (double)c->P;
        double p = (double)c->tp[t] / (double)(c->tp[t] + c->fp[t]);
        ap += (r - prev_r) * p;
        prev_r = r;
    }
    return ap;
}

/* hendrycks fpr_and_fdr_at_recall: the points up to the first full-recall threshold are visited
 * from that threshold upwards and np.argmin takes the first minimum of |recall - level|, so a tie
 * in distance goes to the lowest threshold. recall is tps / tps[-1] in double, as in numpy (V3
 * depends on |0.9 - 0.95| < |1.0 - 0.95| in floating point). */
static double curve_fpr_paper(const curve *c, double level) {
    int last = 0;
    while (c->tp[last] != c->P)
        last++;
    int best = last;
    double best_d = fabs((double)c->tp[last] / (double)c->P - level);
    for (int t = last - 1; t >= 0; t--) {
        double d = fabs((double)c->tp[t] / (double)c->P - level);
        if (d < best_d)
            best_d = d, best = t;
    }
    /* the code's appended (recall 1, fps 0) point ties with the full-recall point and never wins */
    return (double)c->fp[best] / (double)c->N;
}

static double curve_fpr_first(const curve *c, double level) {
    for (int t = 0; t < c->n; t++)
        if ((double)c->tp[t] / (double)c->P >= level)
            return (double)c->fp[t] / (double)c->N;
    return 1.0; /* level > 1: unreachable, report the worst case */
}

rcl_status rcl_ood_measures_compute(const double *ood, int n_ood, const double *id, int n_id,
                                    double recall_level, rcl_ood_measures *m) {
    curve c;
    RCL_TRY(curve_build(ood, n_ood, id, n_id, &c, "OOD measures"));
    m->auroc = curve_auroc(&c);
    m->aupr = curve_ap(&c);
    m->fpr_paper = curve_fpr_paper(&c, recall_level);
    m->fpr_first = curve_fpr_first(&c, recall_level);
    curve_free(&c);
    return RCL_OK;
}

rcl_status rcl_ood_auroc(const double *ood, int n_ood, const double *id, int n_id, double *auroc) {
    curve c;
    RCL_TRY(curve_build(ood, n_ood, id, n_id, &c, "AUROC"));
    *auroc = curve_auroc(&c);
    curve_free(&c);
    return RCL_OK;
}

rcl_status rcl_ood_aupr(const double *ood, int n_ood, const double *id, int n_id, double *aupr) {
    curve c;
    RCL_TRY(curve_build(ood, n_ood, id, n_id, &c, "AUPR"));
    *aupr = curve_ap(&c);
    curve_free(&c);
    return RCL_OK;
}

rcl_status rcl_ood_fpr_at_recall(const double *ood, int n_ood, const double *id, int n_id,
                                 double recall_level, int paper_mode, double *fpr) {
    curve c;
    RCL_TRY(curve_build(ood, n_ood, id, n_id, &c, "FPR at recall"));
    *fpr = paper_mode ? curve_fpr_paper(&c, recall_level) : curve_fpr_first(&c, recall_level);
    curve_free(&c);
    return RCL_OK;
}

rcl_status rcl_ood_roc_curve(const double *ood, int n_ood, const double *id, int n_id, double **fpr,
                             double **tpr, double **thr, int *n_points) {
    curve c;
    *fpr = *tpr = NULL;
    if (thr)
        *thr = NULL;
    RCL_TRY(curve_build(ood, n_ood, id, n_id, &c, "ROC curve"));
    int np = c.n + 1;
    double *f = malloc(sizeof(double) * (size_t)np), *r = malloc(sizeof(double) * (size_t)np);
    double *h = thr ? malloc(sizeof(double) * (size_t)np) : NULL;
    if (!f || !r || (thr && !h)) {
        free(f), free(r), free(h);
        curve_free(&c);
        return rcl_fail(RCL_ERR_NO_MEMORY, "ROC curve: out of memory");
    }
    f[0] = r[0] = 0;
    if (h)
        h[0] = INFINITY;
    for (int t = 0; t < c.n; t++) {
        f[t + 1] = (double)c.fp[t] / (double)c.N;
        r[t + 1] = (double)c.tp[t] / (double)c.P;
        if (h)
            h[t + 1] = c.thr[t];
    }
    curve_free(&c);
    *fpr = f, *tpr = r;
    if (thr)
        *thr = h;
    *n_points = np;
    return RCL_OK;
}
