/* Evaluation math of spec §5-10: OOD detection metrics,
 * calibration, label-noise matrices and estimators, class-imbalance
 * profiles and resampling. Pure host C in double precision, no OpenCL.
 *
 * Conventions: logit matrices come from the device as float [n, k] row-major;
 * everything computed here is double. Where the official code differs from
 * the textbook reading (a quirk, spec "Paper mode and textbook mode"), the function takes `paper_mode`
 * (nonzero = replicate the official code). Fallible calls return rcl_status
 * and leave a message in rcl_last_error(); arrays returned through `T **`
 * are malloc'd and the caller frees them with free(). Seeds feed rcl_rng. */
#ifndef ROBUSTCL_METRICS_H
#define ROBUSTCL_METRICS_H

#include <stdint.h>

#include "robustcl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- softmax helpers (src/eval/ood_metrics.c) ---- */

/* probs[i,:] = softmax(logits[i,:] / T), T > 0, computed in double. */
rcl_status rcl_softmax_rows(const float *logits, int n, int k, double T, double *probs);
/* The MSP anomaly score of spec §8: score[i] = -max_j softmax(logits[i,:] / T)_j. */
rcl_status rcl_msp_scores(const float *logits, int n, int k, double T, double *score);
/* Confidence = max softmax(z/T) and correct = (argmax == label), argmax ties -> lowest index. */
rcl_status rcl_confidence_correct(const float *logits, const int *labels, int n, int k, double T,
                                  double *conf, int *correct);

/* ---- OOD detection (src/eval/ood_metrics.c); OOD is the positive class, higher score = more anomalous ---- */

#define RCL_FPR_RECALL 0.95

typedef struct rcl_ood_measures {
    double auroc;       /* ties count 1/2; equals sklearn roc_auc_score */
    double aupr;        /* average precision, sklearn average_precision_score */
    double fpr_paper;   /* FPR at the recall nearest the level, lowest such threshold (official code) */
    double fpr_first;   /* FPR at the first (highest) threshold whose TPR >= level */
} rcl_ood_measures;

/* All four measures in one sort. recall_level is usually RCL_FPR_RECALL. Needs n_ood, n_id >= 1, no NaN. */
rcl_status rcl_ood_measures_compute(const double *ood, int n_ood, const double *id, int n_id,
                                    double recall_level, rcl_ood_measures *m);
/* AUROC alone: P(score_ood > score_id) + P(tie)/2. */
rcl_status rcl_ood_auroc(const double *ood, int n_ood, const double *id, int n_id, double *auroc);
/* Average precision alone: sum over distinct thresholds of (R_t - R_{t-1}) * P_t. */
rcl_status rcl_ood_aupr(const double *ood, int n_ood, const double *id, int n_id, double *aupr);
/* FPR at recall_level: paper_mode = nearest recall, lowest threshold on ties (hendrycks
 * fpr_and_fdr_at_recall); otherwise the first threshold with TPR >= recall_level. */
rcl_status rcl_ood_fpr_at_recall(const double *ood, int n_ood, const double *id, int n_id,
                                 double recall_level, int paper_mode, double *fpr);
/* ROC curve at every distinct threshold (sklearn roc_curve, drop_intermediate=False): point 0 is
 * (0,0) at threshold +inf, then one point per distinct score, descending. thr may be NULL. */
rcl_status rcl_ood_roc_curve(const double *ood, int n_ood, const double *id, int n_id, double **fpr,
                             double **tpr, double **thr, int *n_points);

/* ---- calibration (src/eval/calibration.c); correct[i] is 0 or 1 ---- */

#define RCL_CALIB_BIN 100
#define RCL_ECE_BINS 15
#define RCL_TEMP_LO 0.2
#define RCL_TEMP_HI 5.0
#define RCL_TEMP_TOL 1e-4

/* RMS and MAD calibration error with adaptive bins of `bin` examples after a stable sort by
 * confidence (the last bin takes the remainder). paper_mode: skip the last bin but still divide
 * by n (spec §9 QUIRK; so bin <= n < 2 bin gives 0). n < bin: one bin, used in both modes
 * (the official code crashes there). rms or mad may be NULL. */
rcl_status rcl_calib_error(const double *conf, const int *correct, int n, int bin, int paper_mode,
                           double *rms, double *mad);
/* rcl_calib_error's RMS alone, and its MAD alone. */
rcl_status rcl_calib_rms(const double *conf, const int *correct, int n, int bin, int paper_mode, double *rms);
rcl_status rcl_calib_mad(const double *conf, const int *correct, int n, int bin, int paper_mode, double *mad);
/* ECE over nbins equal-width bins (lo, hi], weights n_b / n (Guo et al.). */
rcl_status rcl_calib_ece(const double *conf, const int *correct, int n, int nbins, double *ece);
/* Area under the response-rate accuracy curve: mean running accuracy, confidence descending (stable). */
rcl_status rcl_calib_aurra(const double *conf, const int *correct, int n, double *aurra);

typedef struct rcl_reliability_bin {
    double lo, hi;  /* bin (lo, hi] */
    int count;
    double conf;    /* mean confidence in the bin (0 if empty) */
    double acc;     /* accuracy in the bin (0 if empty) */
} rcl_reliability_bin;
/* Reliability-diagram data: nbins equal-width bins as in rcl_calib_ece; bins[nbins] from the caller. */
rcl_status rcl_calib_reliability(const double *conf, const int *correct, int n, int nbins,
                                 rcl_reliability_bin *bins);

/* Mean negative log-likelihood of labels under softmax(logits / T). */
rcl_status rcl_calib_nll(const float *logits, const int *labels, int n, int k, double T, double *nll);
/* Temperature by bisection on the sign of dNLL/dT over [lo, hi] until hi - lo <= tol, then the
 * argmin of NLL over {lo, mid, hi}. spec §9: lo 0.2, hi 5.0, tol 1e-4 (RCL_TEMP_*). */
rcl_status rcl_calib_tune_temperature(const float *logits, const int *labels, int n, int k, double lo,
                                      double hi, double tol, double *T);

/* ---- label noise (src/eval/label_noise.c); matrices are k x k row-major, row = true class ---- */

/* C = (1-s) I + s 11^T / k. */
rcl_status rcl_noise_uniform_matrix(int k, double s, double *C);
/* C = (1-s) I, plus s at one class j != i per row i, drawn with the seed (k >= 2). */
rcl_status rcl_noise_flip_matrix(int k, double s, uint64_t seed, double *C);
/* noisy[i] ~ row C[clean[i]] (numpy random.choice semantics); examples with keep_clean[i] != 0
 * (the trusted set; keep_clean may be NULL) keep their label and draw nothing. */
rcl_status rcl_noise_resample_labels(const double *C, int k, const int *clean, const unsigned char *keep_clean,
                                     int n, uint64_t seed, int *noisy);
/* Trusted (gold) set of (int)(fraction * n) examples: paper_mode = the first ones in file order;
 * textbook = a seeded class-stratified sample (largest remainders). trusted[n] gets 0/1. */
rcl_status rcl_noise_trusted_subset(const int *labels, int n, int k, double fraction, int paper_mode,
                                    uint64_t seed, unsigned char *trusted, int *n_trusted);
/* Forward C_hat from softmax rows probs[n,k] of the noisy training set: row j = the row of the
 * example with the highest p_j, after excluding p_j >= the column's `percentile` (numpy 'higher');
 * percentile 0 disables the filter. paper_mode: the zeroing writes into the shared matrix, so
 * row j carries zeros at columns i <= j where p_i >= thresh_i (spec §5 QUIRK). */
rcl_status rcl_noise_forward_estimate(const double *probs, int n, int k, double percentile, int paper_mode,
                                      double *C_hat);
/* GLC C_hat: row i = mean softmax row over trusted examples of true class i; a class with no
 * trusted example is RCL_ERR_INVALID_ARG. */
rcl_status rcl_noise_glc_estimate(const double *probs, const int *labels, int n, int k, double *C_hat);
/* Host reference of the forward-corrected loss of one example: -log sum_i p_i C[i, noisy_label]. */
double rcl_noise_forward_loss(const double *p, const double *C, int k, int noisy_label);
/* Area under error vs s: trapezoid over the grid actually run (s strictly increasing, n >= 2),
 * divided by s[n-1] - s[0]. */
rcl_status rcl_noise_error_area(const double *s, const double *err, int n, double *area);

/* ---- class imbalance (src/eval/imbalance.c) ---- */

/* Power law: counts[c] = floor(a / (1 + (a/b - 1) (c/(k-1))^gamma)), so counts[0] = a, counts[k-1] = b. */
rcl_status rcl_imb_power_law_counts(int k, int a, int b, double gamma, int *counts);
/* CIFAR-LT: counts[i] = floor(n_max * rho^(-i/(k-1))). */
rcl_status rcl_imb_exp_counts(int k, int n_max, double rho, int *counts);
/* Seeded random subset with counts[c] examples of each class c; *idx lists them ascending. */
rcl_status rcl_imb_select(const int *labels, int n, int k, const int *counts, uint64_t seed, int **idx,
                          int *n_idx);
/* is_minority[c] = counts[c] < mean count; returns how many classes are minority (-1 on bad args). */
int rcl_imb_minority(const int *counts, int k, unsigned char *is_minority);
/* Cost-sensitive weights w_c proportional to 1/counts[c], scaled so the mean over classes is 1. */
rcl_status rcl_imb_class_weights(const int *counts, int k, double *w);
/* Oversampling: every index once, then per class (max count - count) indices of that class drawn
 * uniformly with replacement. Every class needs >= 1 example. */
rcl_status rcl_imb_oversample(const int *labels, int n, int k, uint64_t seed, int **idx, int *n_idx);
/* out = x + u (nn - x), elementwise over d features (the SMOTE step). */
void rcl_smote_interpolate(const float *x, const float *nn, int d, double u, float *out);
/* SMOTE: per class, (max count - count) new samples from a random member x and one of its
 * n_neighbours nearest same-class neighbours (squared L2, ties by index), u ~ U[0,1).
 * A class of one example duplicates it. Returns only the new samples (x_new [n_new, d], y_new). */
rcl_status rcl_imb_smote(const float *x, const int *labels, int n, int d, int k, int n_neighbours,
                         uint64_t seed, float **x_new, int **y_new, int *n_new);

#ifdef __cplusplus
}
#endif
#endif
