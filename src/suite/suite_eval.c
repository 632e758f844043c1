/* Evaluation of one suite run on the target test set: error, per-class error,
 * and for the clean runs calibration (PROTOCOL 9) and OOD detection (PROTOCOL 8). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/metrics.h"
#include "robustcl/rng.h"
#include "robustcl/train.h"
#include "suite_eval.h"

static const float half[3] = {0.5f, 0.5f, 0.5f};

rcl_status rcl_suite_logits(rcl_model *m, const rcl_dataset *ds, float **logits) {
    int k = rcl_model_config(m)->num_classes;
    *logits = malloc((size_t)ds->n * k * sizeof **logits);
    if (!*logits)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for %d logits", ds->n);
    rcl_status s = rcl_evaluate(m, ds, NULL, 0, half, half, *logits, NULL);
    if (s != RCL_OK) {
        free(*logits);
        *logits = NULL;
    }
    return s;
}

static void error_metrics(rcl_run_result *r, const float *logits, const rcl_dataset *ds, int k,
                          const unsigned char *minority) {
    int *n = calloc((size_t)k, sizeof *n), *wrong = calloc((size_t)k, sizeof *wrong);
    double *per = calloc((size_t)k, sizeof *per);
    long total_wrong = 0, min_n = 0, min_wrong = 0;
    for (int i = 0; n && wrong && per && i < ds->n; i++) {
        const float *row = logits + (size_t)i * k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (row[j] > row[best])
                best = j;
        int y = ds->labels[i], bad = best != y;
        n[y]++;
        wrong[y] += bad;
        total_wrong += bad;
        if (minority && minority[y])
            min_n++, min_wrong += bad;
    }
    for (int j = 0; n && wrong && per && j < k; j++)
        per[j] = n[j] ? 100.0 * wrong[j] / n[j] : 0;
    rcl_run_set(r, "error", 100.0 * total_wrong / ds->n);
    if (minority)
        rcl_run_set(r, "minority_error", min_n ? 100.0 * min_wrong / min_n : 0.0 / 0.0);
    if (per)
        rcl_run_series(r, "per_class_error", per, k);
    free(n), free(wrong), free(per);
}

static rcl_status calibration_metrics(rcl_run_result *r, const float *logits, const rcl_dataset *ds, int k) {
    double *conf = malloc((size_t)ds->n * sizeof *conf);
    int *correct = malloc((size_t)ds->n * sizeof *correct);
    rcl_status s = conf && correct ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    if (s == RCL_OK)
        s = rcl_confidence_correct(logits, (const int *)ds->labels, ds->n, k, 1.0, conf, correct);
    double rms, mad, rms_p, mad_p, ece, aurra;
    if (s == RCL_OK && !(s = rcl_calib_error(conf, correct, ds->n, RCL_CALIB_BIN, 0, &rms, &mad)) &&
        !(s = rcl_calib_error(conf, correct, ds->n, RCL_CALIB_BIN, 1, &rms_p, &mad_p)) &&
        !(s = rcl_calib_ece(conf, correct, ds->n, RCL_ECE_BINS, &ece)) &&
        !(s = rcl_calib_aurra(conf, correct, ds->n, &aurra))) {
        rcl_run_set(r, "rms", 100 * rms);
        rcl_run_set(r, "mad", 100 * mad);
        rcl_run_set(r, "rms_paper", 100 * rms_p);
        rcl_run_set(r, "mad_paper", 100 * mad_p);
        rcl_run_set(r, "ece", 100 * ece);
        rcl_run_set(r, "aurra", 100 * aurra);
        rcl_reliability_bin bins[10];
        if (rcl_calib_reliability(conf, correct, ds->n, 10, bins) == RCL_OK) {
            double c[10], a[10], cnt[10];
            for (int i = 0; i < 10; i++)
                c[i] = bins[i].conf, a[i] = bins[i].acc, cnt[i] = bins[i].count;
            rcl_run_series(r, "reliability_confidence", c, 10);
            rcl_run_series(r, "reliability_accuracy", a, 10);
            rcl_run_series(r, "reliability_count", cnt, 10);
        }
    }
    free(conf), free(correct);
    return s;
}

/* PROTOCOL 8: 5 draws of test-size/5 OOD samples (all of a smaller set, once). */
static rcl_status ood_set(rcl_run_result *r, const char *name, const double *id, int n_id, const double *ood,
                          int n_ood, uint64_t seed) {
    int want = n_id / 5 > 0 ? n_id / 5 : 1, draws = n_ood > want ? 5 : 1, m = n_ood > want ? want : n_ood;
    double *sub = malloc((size_t)m * sizeof *sub);
    int *perm = malloc((size_t)n_ood * sizeof *perm);
    if (!sub || !perm) {
        free(sub), free(perm);
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    }
    rcl_ood_measures sum = {0}, one;
    rcl_rng g = rcl_rng_seed(seed);
    rcl_status s = RCL_OK;
    for (int d = 0; d < draws && s == RCL_OK; d++) {
        for (int i = 0; i < n_ood; i++)
            perm[i] = i;
        rcl_rng_shuffle(&g, perm, n_ood);
        for (int i = 0; i < m; i++)
            sub[i] = ood[perm[i]];
        if ((s = rcl_ood_measures_compute(sub, m, id, n_id, 0.95, &one)) == RCL_OK) {
            sum.auroc += one.auroc / draws;
            sum.aupr += one.aupr / draws;
            sum.fpr_paper += one.fpr_paper / draws;
        }
    }
    char key[64];
    snprintf(key, sizeof key, "auroc_%s", name);
    rcl_run_set(r, key, 100 * sum.auroc);
    snprintf(key, sizeof key, "aupr_%s", name);
    rcl_run_set(r, key, 100 * sum.aupr);
    snprintf(key, sizeof key, "fpr95_%s", name);
    rcl_run_set(r, key, 100 * sum.fpr_paper);
    /* the ROC of the first draw's full set, thinned to <= 64 points for plots */
    double *fpr = NULL, *tpr = NULL, *thr = NULL;
    int np = 0;
    if (s == RCL_OK && rcl_ood_roc_curve(ood, n_ood, id, n_id, &fpr, &tpr, &thr, &np) == RCL_OK && np > 0) {
        int step = np > 64 ? (np + 63) / 64 : 1, k = 0;
        double f[70], t[70];
        for (int i = 0; i < np && k < 69; i += step)
            f[k] = fpr[i], t[k++] = tpr[i];
        f[k] = fpr[np - 1], t[k++] = tpr[np - 1];
        snprintf(key, sizeof key, "roc_%s_fpr", name);
        rcl_run_series(r, key, f, k);
        snprintf(key, sizeof key, "roc_%s_tpr", name);
        rcl_run_series(r, key, t, k);
    }
    free(fpr), free(tpr), free(thr), free(sub), free(perm);
    return s;
}

rcl_status rcl_suite_eval(rcl_model *m, const rcl_dataset *test, const rcl_dataset *const *ood, const char *const *ood_names,
                          int n_ood, const unsigned char *minority, int calibration, uint64_t seed, rcl_run_result *r) {
    int k = rcl_model_config(m)->num_classes;
    float *logits;
    RCL_TRY(rcl_suite_logits(m, test, &logits));
    error_metrics(r, logits, test, k, minority);
    rcl_status s = calibration ? calibration_metrics(r, logits, test, k) : RCL_OK;
    if (s == RCL_OK && n_ood > 0) {
        double *id = malloc((size_t)test->n * sizeof *id);
        s = id ? rcl_msp_scores(logits, test->n, k, 1.0, id) : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
        double mean_auroc = 0, mean_aupr = 0, mean_fpr = 0;
        for (int i = 0; i < n_ood && s == RCL_OK; i++) {
            float *ol;
            if ((s = rcl_suite_logits(m, ood[i], &ol)) != RCL_OK)
                break;
            double *sc = malloc((size_t)ood[i]->n * sizeof *sc);
            s = sc ? rcl_msp_scores(ol, ood[i]->n, k, 1.0, sc) : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
            if (s == RCL_OK)
                s = ood_set(r, ood_names[i], id, test->n, sc, ood[i]->n, seed + (uint64_t)i);
            char key[64];
            snprintf(key, sizeof key, "auroc_%s", ood_names[i]);
            mean_auroc += rcl_run_get(r, key, 0) / n_ood;
            snprintf(key, sizeof key, "aupr_%s", ood_names[i]);
            mean_aupr += rcl_run_get(r, key, 0) / n_ood;
            snprintf(key, sizeof key, "fpr95_%s", ood_names[i]);
            mean_fpr += rcl_run_get(r, key, 0) / n_ood;
            free(sc), free(ol);
        }
        if (s == RCL_OK) {
            rcl_run_set(r, "auroc", mean_auroc);
            rcl_run_set(r, "aupr", mean_aupr);
            rcl_run_set(r, "fpr95", mean_fpr);
        }
        free(id);
    }
    free(logits);
    return s;
}
