/* Evaluation of a trained suite model (src/suite/suite_eval.c). */
#ifndef RCL_SUITE_EVAL_H
#define RCL_SUITE_EVAL_H

#include "robustcl/autoattack.h"
#include "robustcl/data.h"
#include "robustcl/model.h"
#include "suite_internal.h"

/* Eval-mode logits [ds->n, classes] (malloc'd), input normalised with norm. */
rcl_status rcl_suite_logits(rcl_model *m, const rcl_dataset *ds, const rcl_normalization *norm, float **logits);

#define RCL_SUITE_MAX_OOD 8

/* error, minority_error (when `minority` flags classes), per_class_error; with
 * calibration: rms, mad (textbook), rms_paper, mad_paper, ece, aurra, reliability
 * bins (T = 1), and with a validation set val the temperature tuned on it (reported
 * only); with OOD sets: auroc/aupr/fpr95 per set (5 draws of test-size/5) and means,
 * ROC points. All in percent. dump_path (or NULL): per-sample scores (robustcl eval
 * --dump-scores format) when OOD sets are given. */
rcl_status rcl_suite_eval(rcl_model *m, const rcl_normalization *norm, const rcl_dataset *test, const rcl_dataset *val,
                          const rcl_dataset *const *ood, const char *const *ood_names,
                          int n_ood, const unsigned char *minority, int calibration, uint64_t seed,
                          const char *dump_path, rcl_run_result *r);

/* The standard corruptions the generator builds without frost photographs (the suite has none), in
 * the benchmark's order; returns how many. */
int rcl_suite_corruptions(int out[RCL_CORRUPTED_NAMES]);

/* "mce": the mean corruption error (percent) of m on the generated corruptions corruptions[0..n) of
 * images (seed), or, with dir, on the released files there (spec §12); clean: its clean error, %. */
rcl_status rcl_suite_corruption_eval(rcl_model *m, const rcl_normalization *norm, const rcl_dataset *images,
                                     const int *corruptions, int n, uint64_t seed, const char *dir, double clean,
                                     rcl_run_result *r);

/* "autoattack": the AutoAttack robust accuracy (percent) of m on the first cfg->n images of test
 * (cfg's seed; its normalisation replaced by norm), and "autoattack_<attack>" (autoattack_apgd_ce,
 * autoattack_apgd_t, autoattack_fab_t, autoattack_square), the accuracy still robust after each attack in turn. */
rcl_status rcl_suite_autoattack_eval(rcl_model *m, const rcl_normalization *norm, const rcl_dataset *test,
                                     const rcl_autoattack_config *cfg, rcl_run_result *r);

#endif
