/* Evaluation of one suite run on the target test set: error, per-class error,
 * and for the clean runs calibration (spec §9), OOD detection (spec §8) and the
 * mean corruption error (spec §12); AutoAttack of the adversarial runs (spec §7.4). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/autoattack.h"
#include "robustcl/evaluate.h"
#include "robustcl/train.h"
#include "suite_eval.h"

rcl_status rcl_suite_logits(rcl_model *m, const rcl_dataset *ds, const rcl_normalization *norm, float **logits) {
    int k = rcl_model_config(m)->num_classes;
    *logits = malloc((size_t)ds->n * k * sizeof **logits);
    if (!*logits)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for %d logits", ds->n);
    rcl_status s = rcl_evaluate(m, ds, NULL, 0, norm, *logits, NULL);
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

/* spec §9 at T = 1: textbook values as the headline, the paper-mode ones beside
 * them; the temperature tuned on val (when given) is reported, not applied (Table 5). */
static rcl_status calibration_metrics(rcl_run_result *r, const rcl_logit_set *test, const rcl_logit_set *val) {
    rcl_calib_config cc = rcl_calib_defaults();
    cc.paper_mode = 1; /* bins at T = 1 */
    rcl_calib_report cr;
    RCL_TRY(rcl_calib_evaluate(test, val, &cc, &cr));
    if (cr.tuned)
        rcl_run_set(r, "temperature", cr.T);
    rcl_run_set(r, "rms", 100 * cr.at_1.rms_textbook);
    rcl_run_set(r, "mad", 100 * cr.at_1.mad_textbook);
    rcl_run_set(r, "rms_paper", 100 * cr.at_1.rms_paper);
    rcl_run_set(r, "mad_paper", 100 * cr.at_1.mad_paper);
    rcl_run_set(r, "ece", 100 * cr.at_1.ece);
    rcl_run_set(r, "aurra", 100 * cr.at_1.aurra);
    double c[64], a[64], cnt[64];
    int nb = cr.n_bins < 64 ? cr.n_bins : 64;
    for (int i = 0; i < nb; i++)
        c[i] = cr.bins[i].conf, a[i] = cr.bins[i].acc, cnt[i] = cr.bins[i].count;
    rcl_run_series(r, "reliability_confidence", c, nb);
    rcl_run_series(r, "reliability_accuracy", a, nb);
    rcl_run_series(r, "reliability_count", cnt, nb);
    rcl_calib_report_free(&cr);
    return RCL_OK;
}

/* spec §8 with MSP scores: 5 draws of test-size/5 per set, means over draws and sets. */
static rcl_status ood_metrics(rcl_run_result *r, const rcl_logit_set *id, const rcl_logit_set *ood, int n_ood,
                              uint64_t seed, const char *dump_path) {
    rcl_ood_config oc = rcl_ood_defaults();
    oc.seed = seed;
    rcl_ood_report rep;
    RCL_TRY(rcl_ood_evaluate(id, ood, n_ood, &oc, &rep));
    char key[96];
    for (int i = 0; i < rep.n_sets; i++) {
        const rcl_ood_set_result *set = &rep.sets[i];
        snprintf(key, sizeof key, "auroc_%s", set->name);
        rcl_run_set(r, key, 100 * set->mean.auroc);
        snprintf(key, sizeof key, "aupr_%s", set->name);
        rcl_run_set(r, key, 100 * set->mean.aupr);
        snprintf(key, sizeof key, "fpr95_%s", set->name);
        rcl_run_set(r, key, 100 * set->mean.fpr_paper);
        snprintf(key, sizeof key, "roc_%s_fpr", set->name);
        rcl_run_series(r, key, set->roc_fpr, RCL_ROC_GRID);
        snprintf(key, sizeof key, "roc_%s_tpr", set->name);
        rcl_run_series(r, key, set->roc_tpr, RCL_ROC_GRID);
    }
    rcl_run_set(r, "auroc", 100 * rep.mean.auroc);
    rcl_run_set(r, "aupr", 100 * rep.mean.aupr);
    rcl_run_set(r, "fpr95", 100 * rep.mean.fpr_paper);
    rcl_status s = dump_path ? rcl_scores_dump(dump_path, id, ood, n_ood, &rep, 1.0) : RCL_OK;
    rcl_ood_report_free(&rep);
    return s;
}

rcl_status rcl_suite_eval(rcl_model *m, const rcl_normalization *norm, const rcl_dataset *test, const rcl_dataset *val,
                          const rcl_dataset *const *ood, const char *const *ood_names,
                          int n_ood, const unsigned char *minority, int calibration, uint64_t seed,
                          const char *dump_path, rcl_run_result *r) {
    int k = rcl_model_config(m)->num_classes;
    float *logits, *ol[RCL_SUITE_MAX_OOD] = {0};
    RCL_TRY(rcl_suite_logits(m, test, norm, &logits));
    error_metrics(r, logits, test, k, minority);
    rcl_logit_set id = {"test", logits, test->labels, test->n, k};
    rcl_logit_set sets[RCL_SUITE_MAX_OOD];
    float *vl = NULL;
    rcl_status s = RCL_OK;
    if (calibration && val)
        s = rcl_suite_logits(m, val, norm, &vl);
    rcl_logit_set vs = {"val", vl, val ? val->labels : NULL, val ? val->n : 0, k};
    if (s == RCL_OK && calibration)
        s = calibration_metrics(r, &id, vl ? &vs : NULL);
    free(vl);
    if (n_ood > RCL_SUITE_MAX_OOD)
        n_ood = RCL_SUITE_MAX_OOD;
    for (int i = 0; i < n_ood && s == RCL_OK; i++) {
        s = rcl_suite_logits(m, ood[i], norm, &ol[i]);
        rcl_logit_set o = {ood_names[i], ol[i], NULL, ood[i]->n, k};
        sets[i] = o;
    }
    if (s == RCL_OK && n_ood > 0)
        s = ood_metrics(r, &id, sets, n_ood, seed, dump_path);
    for (int i = 0; i < n_ood; i++)
        free(ol[i]);
    free(logits);
    return s;
}

int rcl_suite_corruptions(int out[RCL_CORRUPTED_NAMES]) {
    int n = 0, frost = rcl_corrupted_find("frost");
    for (int i = 0; i < RCL_CORRUPTED_STANDARD; i++)
        if (i != frost && rcl_corrupt_built(i))
            out[n++] = i;
    return n;
}

rcl_status rcl_suite_corruption_eval(rcl_model *m, const rcl_normalization *norm, const rcl_dataset *images,
                                     const int *corruptions, int n, uint64_t seed, const char *dir, double clean,
                                     rcl_run_result *r) {
    rcl_corrupted_report rep;
    rcl_corrupt_options o = {seed, NULL};
    RCL_TRY(dir ? rcl_corrupted_evaluate(m, norm, dir, clean / 100, &rep)
                : rcl_corrupted_evaluate_generated(m, norm, images, corruptions, n, &o, clean / 100, &rep));
    rcl_run_set(r, "mce", 100 * rep.mce);
    return RCL_OK;
}

rcl_status rcl_suite_autoattack_eval(rcl_model *m, const rcl_normalization *norm, const rcl_dataset *test,
                                     const rcl_autoattack_config *cfg, rcl_run_result *r) {
    rcl_autoattack_config ac = *cfg;
    ac.norm = *norm;
    rcl_classifier f = rcl_model_classifier(m);
    rcl_autoattack_result res;
    RCL_TRY(rcl_autoattack_evaluate(&f, test, NULL, 0, &ac, &res));
    rcl_run_set(r, "autoattack", 100 * res.robust_accuracy);
    for (int i = 0; i < res.cfg.n_attacks; i++) { /* "autoattack_apgd_ce": robust after the attacks up to it */
        char key[40];
        snprintf(key, sizeof key, "autoattack_%s", rcl_aa_kind_name(res.cfg.attacks[i]));
        for (char *p = key; *p; p++)
            *p = *p == '-' ? '_' : *p;
        rcl_run_set(r, key, res.count ? 100.0 * res.robust_after[i] / res.count : NAN);
    }
    rcl_autoattack_result_free(&res);
    return RCL_OK;
}
