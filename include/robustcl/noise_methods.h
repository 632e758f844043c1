/* The label-corruption evaluation's training methods (spec §5): the corrupted
 * training labels with their trusted (gold) set, the corrected loss as a trainer
 * step hook, and one runner for Normal, Forward (Patrini 2017) and GLC
 * (Hendrycks 2018). The estimators are those of robustcl/metrics.h; the loss
 * runs on the device (rcl_corrected_loss_* in robustcl/ops.h). */
#ifndef ROBUSTCL_NOISE_METHODS_H
#define ROBUSTCL_NOISE_METHODS_H

#include <stdint.h>

#include "robustcl/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- corrupted labels ---- */

typedef enum { RCL_CORRUPT_UNIFORM = 0, RCL_CORRUPT_FLIP = 1 } rcl_corruption;

typedef struct rcl_corruption_options {
    rcl_corruption kind;
    double strength;         /* s in [0,1] */
    double trusted_fraction; /* gold fraction f in [0,1]: (int)(f*n) examples keep their clean label */
    int paper_mode;          /* trusted = the first f*n in file order; else a seeded class-stratified sample */
    uint64_t seed;           /* the flip targets, the trusted sample and the resampled labels */
} rcl_corruption_options;

/* Noisy training labels for a clean labelled set: C from kind and strength (returned in C
 * [K*K] unless NULL, K = clean->num_classes), trusted[i] = 1 for the gold set, every other
 * label resampled from row C[y_i]. noisy [n] and trusted [n] come from the caller; n_trusted
 * may be NULL. The noisy set is a view: rcl_dataset v = *clean; v.labels = noisy (never
 * free v). Test sets stay clean. */
rcl_status rcl_noise_corrupt_labels(const rcl_dataset *clean, const rcl_corruption_options *o, int32_t *noisy,
                                    uint8_t *trusted, double *C, int *n_trusted);

/* ---- the corrected loss as a step hook ---- */

typedef struct rcl_noise_hook rcl_noise_hook;

/* A loss hook computing rcl_corrected_loss_forward/backward with C [k*k] (copied to the
 * device) and per-sample trusted flags looked up by dataset index in trusted[0..n_dataset)
 * (NULL: none trusted, Forward; the array must outlive the hook). batch_cap >= the
 * trainer's batch. Use: cfg.hooks = rcl_noise_hook_steps(h). */
rcl_status rcl_noise_hook_create(rcl_device *d, int k, const double *C, const uint8_t *trusted, int n_dataset,
                                 int batch_cap, rcl_noise_hook **out);
const rcl_step_hooks *rcl_noise_hook_steps(const rcl_noise_hook *h);
void rcl_noise_hook_free(rcl_noise_hook *h); /* safe on NULL */

/* ---- the methods ---- */

typedef enum { RCL_NOISE_NORMAL = 0, RCL_NOISE_FORWARD = 1, RCL_NOISE_GLC = 2 } rcl_noise_method;

/* "normal" | "forward" | "glc" -> method; -1 if none. */
int rcl_noise_method_from_name(const char *name);
const char *rcl_noise_method_name(rcl_noise_method m);

/* Restores the model's initial weights between the two phases: scratch = the same fresh
 * init, pre-trained = the pre-trained trunk with a fresh (bias-less) head. */
typedef rcl_status (*rcl_reinit_fn)(void *ctx, rcl_model *m);

typedef struct rcl_noise_run {
    rcl_noise_method method;
    const uint8_t *trusted;    /* GLC (required): gold flags per dataset index; the others ignore it */
    rcl_reinit_fn reinit;      /* Forward and GLC (required) */
    void *reinit_ctx;
    double forward_percentile; /* Forward: 97 (the CIFAR-10 code's outlier filter), 0 = plain argmax */
    int paper_mode;            /* Forward: the in-place zeroing QUIRK of spec §5 */
} rcl_noise_run;

/* method, percentile 97, paper mode on, the rest NULL. */
rcl_noise_run rcl_noise_run_defaults(rcl_noise_method method);

typedef struct rcl_noise_result {
    rcl_train_result phase1; /* Forward/GLC: the cross-entropy phase (Forward's is a Normal run); zeroed for Normal */
    rcl_train_result result; /* the model returned: Normal's only phase, or phase 2 */
} rcl_noise_result;

/* Trains m on noisy_train (noisy labels; gold examples keep clean ones) with tc:
 *   NORMAL:  cross-entropy on all images (tc as given).
 *   FORWARD: phase 1 cross-entropy on all images; softmax of every training image (eval
 *            mode, no augmentation) -> rcl_noise_forward_estimate; reinit; phase 2 with
 *            -log sum_i p_i C_hat[i, y~].
 *   GLC:     phase 1 cross-entropy on the untrusted images only; C_hat[i] = mean softmax of
 *            the trusted images of class i (a class without one fails before any training);
 *            reinit; phase 2 on all images, CE on trusted + corrected loss on the rest, / batch.
 * Both phases use tc (epochs, schedule, test set, log); the model's step count restarts at 0
 * for phase 2; only phase 2 checkpoints. Forward/GLC take no tc->hooks, class weights or
 * resume position. C_hat [K*K] (K = model classes) receives the estimate unless NULL
 * (Normal leaves it untouched). */
rcl_status rcl_noise_train(rcl_model *m, const rcl_dataset *noisy_train, const rcl_noise_run *run,
                           const rcl_train_config *tc, double *C_hat, rcl_noise_result *res);

#ifdef __cplusplus
}
#endif
#endif
