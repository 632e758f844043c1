/* The OOD-detection (spec §8) and calibration (spec §9) evaluations of a
 * model, over its logits: draws of OOD samples, averaged measures, ROC points,
 * temperature tuning, both calibration-error modes, reliability bins, and a
 * per-sample score dump from which every number can be recomputed. Host C in
 * double precision; the math itself is robustcl/metrics.h. Reports own their
 * arrays: free them with rcl_ood_report_free / rcl_calib_report_free. */
#ifndef ROBUSTCL_EVALUATE_H
#define ROBUSTCL_EVALUATE_H

#include <stdint.h>

#include "robustcl/data.h"
#include "robustcl/json.h"
#include "robustcl/metrics.h"
#include "robustcl/model.h"
#include "robustcl/normalization.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The logits of one dataset: [n, k] row-major, image i = row i. */
typedef struct rcl_logit_set {
    const char *name;      /* for reports and the dump (no tabs or newlines) */
    const float *logits;
    const int32_t *labels; /* [n] in [0,k), or NULL / -1 entries when unlabelled */
    int n, k;
} rcl_logit_set;

/* ---- OOD detection (src/eval/ood_eval.c) ---- */

#define RCL_OOD_DRAWS 5
#define RCL_OOD_DRAW_DIVISOR 5 /* draw size = in-distribution size / 5 (2000 for a 10000-image test set) */
#define RCL_ROC_GRID 101       /* ROC points for plots: TPR at FPR = 0, 0.01, ..., 1 */

typedef struct rcl_ood_config {
    int draws;           /* RCL_OOD_DRAWS */
    int draw_size;       /* 0: max(1, n_id / RCL_OOD_DRAW_DIVISOR) */
    uint64_t seed;       /* draws of set s come from rcl_rng stream (seed, s) */
    double recall_level; /* RCL_FPR_RECALL */
} rcl_ood_config;

rcl_ood_config rcl_ood_defaults(void);

typedef struct rcl_ood_set_result {
    char name[64];
    int n_total;      /* images in the OOD set */
    int draw_size;    /* images per draw (n_total when used whole) */
    int n_draws;      /* config draws, or 1 when used whole */
    int used_whole;   /* n_total <= the draw size: the whole set once (spec §8) */
    int *draw_index;  /* [n_draws * draw_size]: OOD-set indices of each draw, ascending within a draw */
    rcl_ood_measures *per_draw; /* [n_draws] */
    rcl_ood_measures mean;      /* averaged over the draws */
    /* For plots: at FPR = j / (RCL_ROC_GRID - 1), the ROC polyline's highest TPR (linear between
     * the curve's points, so a vertical jump at that FPR counts fully), averaged over the draws. */
    double roc_fpr[RCL_ROC_GRID], roc_tpr[RCL_ROC_GRID];
} rcl_ood_set_result;

typedef struct rcl_ood_report {
    int n_id;
    double recall_level;
    int n_sets;
    rcl_ood_set_result *sets; /* [n_sets] */
    rcl_ood_measures mean;    /* mean over the sets of their means (the paper's table entry) */
} rcl_ood_report;

/* Anomaly scores (higher = more anomalous; OOD is positive): in-distribution id[n_id] used
 * whole, each OOD set s drawn cfg->draws times without replacement (independent draws). */
rcl_status rcl_ood_evaluate_scores(const double *id, int n_id, const double *const *ood, const int *n_ood,
                                   const char *const *names, int n_sets, const rcl_ood_config *cfg,
                                   rcl_ood_report *out);
/* The MSP evaluation of spec §8: scores = -max softmax(logits) (T = 1), then as above. */
rcl_status rcl_ood_evaluate(const rcl_logit_set *id, const rcl_logit_set *ood, int n_sets,
                            const rcl_ood_config *cfg, rcl_ood_report *out);
void rcl_ood_report_free(rcl_ood_report *r);
/* {"score", "positive", "recall_level", "draws", "seed", "sets": [...], "mean": {...}} */
void rcl_ood_report_json(rcl_json_writer *w, const rcl_ood_report *r, const rcl_ood_config *cfg);

/* ---- calibration (src/eval/calibration_eval.c) ---- */

typedef struct rcl_calib_config {
    int paper_mode;       /* 1: headline RMS/MAD skip the last bin and use T = 1 (spec §9 QUIRKs);
                           * 0 (textbook): all bins, at the tuned temperature when there is one */
    int bin;              /* RCL_CALIB_BIN */
    int ece_bins;         /* RCL_ECE_BINS; also the reliability-diagram bins */
} rcl_calib_config;

rcl_calib_config rcl_calib_defaults(void); /* paper mode */

/* The calibration measures at one temperature. */
typedef struct rcl_calib_measures {
    double T;
    double rms_paper, mad_paper;       /* last bin skipped, divided by n */
    double rms_textbook, mad_textbook; /* every bin */
    double ece, aurra, nll;
} rcl_calib_measures;

typedef struct rcl_calib_report {
    int paper_mode, bin, n_bins;
    int n;                  /* labelled test images */
    double error;           /* top-1 error */
    int tuned;              /* a validation set was given */
    double T;               /* tuned on the validation set (1 when not tuned) */
    double val_nll_1, val_nll_T; /* validation NLL at T = 1 and at T (when tuned) */
    rcl_calib_measures at_1;     /* at T = 1 */
    rcl_calib_measures at_T;     /* at the tuned T (equal to at_1 when not tuned) */
    double T_used, rms, mad;     /* headline: the mode's temperature and binning */
    rcl_reliability_bin *bins;   /* [n_bins] at T_used */
} rcl_calib_report;

/* test must be labelled (all labels in [0,k)); val may be NULL (then T = 1, not tuned). */
rcl_status rcl_calib_evaluate(const rcl_logit_set *test, const rcl_logit_set *val, const rcl_calib_config *cfg,
                              rcl_calib_report *out);
void rcl_calib_report_free(rcl_calib_report *r);
void rcl_calib_report_json(rcl_json_writer *w, const rcl_calib_report *r);

/* ---- per-sample scores (src/eval/scores_dump.c) ---- */

/* Writes the TSV score dump (atomically). Header line, then one row per sample:
 *   set  name  draw  index  label  predicted  confidence  confidence_t  msp_score  correct
 * set: "id" for the in-distribution set (draw 0, every image in order), "oodS" for OOD set S
 * (0-based, --ood order) with one block per draw (draw 0..n_draws-1, its indices ascending).
 * label and correct are -1 when unlabelled (the CLI passes OOD sets without labels);
 * predicted = argmax (lowest index on ties);
 * confidence = max softmax(z), confidence_t = max softmax(z / T), msp_score = -confidence;
 * reals as %.17g. ood / ood_report may be NULL / 0 sets. */
rcl_status rcl_scores_dump(const char *path, const rcl_logit_set *id, const rcl_logit_set *ood, int n_sets,
                           const rcl_ood_report *ood_report, double T);
/* An extra last column of the dump, named `name`: values[i] for in-distribution image i < n,
 * "-" for the others and for OOD rows (e.g. eval's per-image AutoAttack outcome). */
typedef struct rcl_score_column {
    const char *name;
    const char *const *values;
    int n;
} rcl_score_column;
rcl_status rcl_scores_dump_column(const char *path, const rcl_logit_set *id, const rcl_logit_set *ood, int n_sets,
                                  const rcl_ood_report *ood_report, double T, const rcl_score_column *extra);

/* ---- common corruptions (src/eval/corrupted_eval.c, spec §12) ---- */

#define RCL_SEVERITIES 5
typedef struct rcl_corrupted_report {
    char dir[1024];
    int n;                                 /* corruption files found */
    int index[RCL_CORRUPTED_NAMES];        /* each one's index in rcl_corrupted_names, in that order */
    double error[RCL_CORRUPTED_NAMES][RCL_SEVERITIES]; /* top-1 error (fraction) at severity 1..5 */
    int images;                            /* images a severity */
    double clean;                          /* the clean test error it is compared with */
    double mce;                            /* mean over the standard corruptions found of their mean error */
    int n_standard;
    double extra;                          /* the same over the extra corruptions (NaN: none) */
    char baseline[1024];                   /* "" without a baseline */
    double ce_normalized[RCL_CORRUPTED_NAMES]; /* sum of errors / the baseline's */
    double ce_relative[RCL_CORRUPTED_NAMES];   /* sum of (error - clean) / the baseline's (NaN: undefined) */
    double mce_normalized, mce_relative;   /* their means over the standard corruptions (NaN: none) */
    int n_relative;                        /* standard corruptions with a defined relative CE */
} rcl_corrupted_report;

/* Evaluates m (eval mode, input normalisation norm) on every rcl_corrupted_names file in dir
 * (rcl_corrupted_load), severity by severity; `clean` is the model's clean test error. */
rcl_status rcl_corrupted_evaluate(rcl_model *m, const rcl_normalization *norm, const char *dir, double clean,
                                  rcl_corrupted_report *r);
/* The same on the generated corruptions (rcl_corrupt_dataset) corruptions[0..n) of the test
 * set, each at the 5 severities. */
rcl_status rcl_corrupted_evaluate_generated(rcl_model *m, const rcl_normalization *norm, const rcl_dataset *test,
                                            const int *corruptions, int n, const rcl_corrupt_options *o,
                                            double clean, rcl_corrupted_report *r);
/* Adds the normalised and relative errors against a baseline's report, which must have every
 * corruption r has; label names it (a file). */
rcl_status rcl_corrupted_compare(rcl_corrupted_report *r, const rcl_corrupted_report *base, const char *label);
/* The report in the --json file of an earlier `eval --corruptions` or `--corrupt`. */
rcl_status rcl_corrupted_report_read(const char *path, rcl_corrupted_report *r);
void rcl_corrupted_report_print(const rcl_corrupted_report *r);
void rcl_corrupted_report_json(rcl_json_writer *w, const rcl_corrupted_report *r);

#ifdef __cplusplus
}
#endif
#endif
