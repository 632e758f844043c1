/* AutoAttack (spec §7.4; Croce & Hein, "Reliable evaluation of adversarial robustness with an
 * ensemble of diverse parameter-free attacks", ICML 2020): an ensemble of attacks, each run
 * only on the images every earlier attack left correctly classified. An image counts as
 * robust when no attack fools it.
 *
 *   apgd-ce   APGD on the cross-entropy (100 steps, 1 restart in "standard")
 *   apgd-t    APGD on the targeted DLR loss, one run per target: the 2nd..(targets+1)-th
 *             largest clean logit (9 targets in "standard")
 *   apgd-dlr  APGD on the untargeted DLR loss ("rand")
 *   fab-t     targeted FAB, one run per target as APGD-T's: 100 steps towards the linearised
 *             boundary to the target class from the current and the original point (alpha_max
 *             0.1, eta 1.05, beta 0.9); fooled when its smallest adversarial point is within eps
 *   square    the Square Attack, a random search on the margin (5000 queries, p_init 0.8)
 *
 * version=standard runs apgd-ce, apgd-t, fab-t, square; version=rand runs apgd-ce and apgd-dlr
 * with 5 restarts. Each attack runs in the L-inf ball or (norm=l2) the L2 ball of radius eps, as the
 * reference's norm='Linf' and norm='L2' branches (spec §7.4).
 *
 * Everything runs in pixel space [0,1] on the device through the classifier's forward and
 * backward (robustcl/adversarial.h's rcl_classifier); the host picks the images still robust
 * and Square's square positions. Random draws are keyed by the dataset index (as PGD's), so a
 * seed repeats a run at any batch size except for Square's positions, which are drawn per batch. */
#ifndef ROBUSTCL_AUTOATTACK_H
#define ROBUSTCL_AUTOATTACK_H

#include <stdint.h>

#include "robustcl/adversarial.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RCL_AA_APGD_CE = 0,
    RCL_AA_APGD_T = 1,
    RCL_AA_APGD_DLR = 2,
    RCL_AA_SQUARE = 3,
    RCL_AA_FAB_T = 4,
    RCL_AA_KINDS = 5
} rcl_aa_kind;

#define RCL_AA_MAX_ATTACKS 5

typedef struct rcl_autoattack_config {
    double eps;         /* the ball's radius in pixel units (L-inf: in [0,1]) */
    int l2;             /* 1: the L2 ball (norm=l2), 0: L-inf */
    int rand_version;   /* 0: standard, 1: rand */
    int n;              /* the first n images of the set (0: all) */
    uint64_t seed;
    int iters;          /* APGD's and FAB-T's steps (100) */
    int restarts;       /* APGD's and FAB-T's restarts (standard 1, rand 5) */
    int targets;        /* APGD-T's and FAB-T's targets (9, at most classes - 1) */
    int queries;        /* Square queries (5000) */
    rcl_aa_kind attacks[RCL_AA_MAX_ATTACKS];
    int n_attacks;
    rcl_normalization norm; /* the network input's */
} rcl_autoattack_config;

/* L-inf, eps 8/255, standard, all images, seed 0, 100 steps, 1 restart, 9 targets, 5000 queries. */
rcl_autoattack_config rcl_autoattack_defaults(void);
/* Parses autoattack[:KEY=VALUE,...]: eps (number or a/b; L-inf in [0,1], default 8/255; L2 >= 0,
 * default 0.5), norm=linf|l2, version=standard|rand, n, seed, iters, restarts, targets, queries,
 * attacks=NAME+NAME (a custom list, in order).
 * Errors (RCL_ERR_INVALID_ARG) name the spec and the part. */
rcl_status rcl_autoattack_parse(const char *spec, rcl_autoattack_config *cfg);
/* 1 when spec names AutoAttack (starts with "autoattack"). */
int rcl_autoattack_is_spec(const char *spec);
const char *rcl_autoattack_describe(const rcl_autoattack_config *cfg, char *buf, size_t cap);
const char *rcl_aa_kind_name(rcl_aa_kind kind); /* "apgd-ce", ... */

/* Per-image outcome: the index into cfg.attacks of the attack that fooled it first,
 * RCL_AA_CLEAN_WRONG when the clean image is misclassified, RCL_AA_ROBUST when none did. */
#define RCL_AA_CLEAN_WRONG (-1)
#define RCL_AA_ROBUST 100

typedef struct rcl_autoattack_result {
    rcl_autoattack_config cfg;
    int count, cap; /* images attacked; room in outcome and index */
    long clean_correct;
    long robust_after[RCL_AA_MAX_ATTACKS]; /* still robust after attacks 0..i */
    double seconds_of[RCL_AA_MAX_ATTACKS];
    double clean_accuracy, robust_accuracy; /* fractions of count; robust: after the whole ensemble */
    double max_linf;                        /* max |x' - x| over every point an attack kept */
    double max_l2;                          /* max |x' - x|_2 over the same points */
    double seconds;
    int *outcome;   /* [count] (malloc'd; rcl_autoattack_result_free) */
    int32_t *index; /* [count] the images' dataset indices */
} rcl_autoattack_result;

void rcl_autoattack_result_free(rcl_autoattack_result *r);

/* Clean accuracy and AutoAttack robust accuracy of ds (the first cfg->n images, or the
 * listed indices), batches of the classifier's batch_cap, BN in eval mode. */
rcl_status rcl_autoattack_evaluate(const rcl_classifier *f, const rcl_dataset *ds, const int *indices, int count,
                                   const rcl_autoattack_config *cfg, rcl_autoattack_result *res);

/* {"attack", "eps", "norm" ("linf"|"l2"), "version", "images", "clean_accuracy", "robust_accuracy",
 *  "max_linf", "max_l2" (both measured whatever the norm), "seconds",
 *  "after": [{"attack", "robust_accuracy", "seconds"}]} */
void rcl_autoattack_result_json(rcl_json_writer *w, const rcl_autoattack_result *r);

#ifdef __cplusplus
}
#endif
#endif
