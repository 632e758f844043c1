/* The class-imbalance evaluation's training sets and methods (spec §6): the
 * imbalanced training set cut from a balanced one, and per method what to train
 * on (a dataset, an index list, class weights), plus the total and minority
 * test errors. The counts, weights and resampling are those of robustcl/metrics.h. */
#ifndef ROBUSTCL_IMBALANCE_METHODS_H
#define ROBUSTCL_IMBALANCE_METHODS_H

#include <stdint.h>

#include "robustcl/data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcl_imb_profile {
    int exponential; /* 0: power law (a, b, gamma); 1: CIFAR-LT n_i = floor(a * rho^(-i/(K-1))) */
    int a, b;        /* largest and (power law) smallest class; exponential: b is a floor (0 = none) */
    double gamma;    /* power law exponent, smaller = more imbalanced */
    double rho;      /* exponential imbalance ratio */
    uint64_t seed;   /* which images each class keeps */
} rcl_imb_profile;

/* The profile's class sizes counts[0..k) (metrics.h profiles, the exponential one raised to
 * its floor b). */
rcl_status rcl_imb_profile_counts(const rcl_imb_profile *p, int k, int *counts);

/* Cuts the imbalanced training set from a balanced labelled one: class c keeps a seeded
 * random subset of counts[c] images (metrics.h profiles), in file order. *out is a new
 * dataset (free with rcl_dataset_free); counts [K] (K = balanced->num_classes) unless NULL. */
rcl_status rcl_imb_make_dataset(const rcl_dataset *balanced, const rcl_imb_profile *p, rcl_dataset *out,
                                int *counts);

typedef enum {
    RCL_IMB_NORMAL = 0,         /* plain cross-entropy */
    RCL_IMB_COST_SENSITIVE = 1, /* class weights proportional to 1/n_c */
    RCL_IMB_OVERSAMPLE = 2,     /* minority images replicated to the majority count, once */
    RCL_IMB_SMOTE = 3,          /* new minority images x + u (x_nn - x), 5 same-class neighbours */
} rcl_imb_method;

/* "normal" | "cost-sensitive" | "oversample" | "smote" -> method; -1 if none. */
int rcl_imb_method_from_name(const char *name);
const char *rcl_imb_method_name(rcl_imb_method m);

/* What one method trains on. Pass train, indices, count to rcl_train and class_weights to
 * rcl_train_config.class_weights; epochs then count over the resampled set. For SMOTE,
 * train points into the plan itself: use the plan where it was made, do not copy it. */
typedef struct rcl_imb_plan {
    const rcl_dataset *train; /* the imbalanced set, or &synthetic (SMOTE) */
    int *indices, count;      /* OVERSAMPLE: every image once + the replicas; else NULL, 0 */
    float *class_weights;     /* COST_SENSITIVE: [K], mean 1; else NULL */
    rcl_dataset synthetic;    /* SMOTE: the imbalanced set + the new images as uint8 pixels; else zeroed */
    int num_classes;
    int *counts;              /* [K] training images per class before resampling */
    uint8_t *is_minority;     /* [K] counts[c] < mean count */
    int n_minority;
} rcl_imb_plan;

/* The plan of `method` on the imbalanced set (which must outlive the plan); seed drives the
 * oversampling and SMOTE draws. SMOTE interpolates in pixel space and rounds to the nearest
 * uint8 (or interpolates `values` for float sets). */
rcl_status rcl_imb_plan_make(const rcl_dataset *imbalanced, rcl_imb_method method, uint64_t seed,
                             rcl_imb_plan *plan);
void rcl_imb_plan_free(rcl_imb_plan *plan); /* safe on a zeroed plan */

/* Top-1 errors from logits [n, k] (argmax, first maximum): over all examples and over those
 * whose label is a minority class (-1 when there is none). */
rcl_status rcl_imb_errors(const float *logits, const int32_t *labels, int n, int k, const uint8_t *is_minority,
                          double *total, double *minority);

#ifdef __cplusplus
}
#endif
#endif
