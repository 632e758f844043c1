/* The suite: pre-train on source classes, then for each evaluation train a
 * scratch and a pre-trained model (and the task methods) on the target
 * classes, evaluate, and report scratch vs pre-trained (PROTOCOL 4-11).
 * Every run is a stage cached under the output directory by a hash of its
 * configuration: a rerun skips finished stages, an interrupted suite resumes. */
#ifndef ROBUSTCL_SUITE_H
#define ROBUSTCL_SUITE_H

#include <signal.h>
#include <stdio.h>

#include "robustcl/device.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RCL_SUITE_MAX 16

typedef struct rcl_suite_config {
    char data[1024];              /* dataset spec (train split for training, test split for testing) */
    char source_classes[256];     /* e.g. "0-4" */
    char target_classes[256];     /* e.g. "5-9" */
    char arch[32];
    int batch;
    /* pre-training on the source classes */
    int pretrain_images;          /* 0 = all source images */
    int pretrain_epochs;
    double pretrain_lr;
    /* target tasks */
    int target_per_class;         /* training images per target class */
    int test_per_class;           /* 0 = the whole target test split */
    int min_steps;                /* floor of optimizer steps per run (PROTOCOL 11) */
    int scratch_epochs, finetune_epochs;
    double scratch_lr, finetune_lr, scratch_dropout;
    int seeds[RCL_SUITE_MAX], nseeds;
    /* label corruption */
    double noise[RCL_SUITE_MAX];  /* strengths s (uniform), 0 = clean */
    int nnoise;
    int noise_methods;            /* bit set of RCL_NOISE_* below */
    double trusted_fraction;      /* GLC */
    /* class imbalance */
    double gammas[RCL_SUITE_MAX];
    int ngammas;
    int imbalance_methods;        /* bit set of RCL_IMB_* below */
    /* adversarial */
    int adversarial;              /* 0 off */
    double adv_eps;
    int adv_train_steps, adv_eval_steps;
    /* OOD */
    char ood[1024];               /* extra OOD specs, ';'-separated (synthetic sets always) */
    int quick;
    char device[128];
} rcl_suite_config;

enum { RCL_SUITE_NOISE_FORWARD = 1, RCL_SUITE_NOISE_GLC = 2 };
enum { RCL_SUITE_IMB_COST = 1, RCL_SUITE_IMB_OVERSAMPLE = 2, RCL_SUITE_IMB_SMOTE = 4 };

/* The mini suite's defaults (PROTOCOL 11); quick = the CI-sized version. */
void rcl_suite_defaults(rcl_suite_config *c, int quick);
/* Prints the grid (every size, epoch count, method) to f, as the report does. */
void rcl_suite_describe(const rcl_suite_config *c, FILE *f);

rcl_status rcl_suite_run(const rcl_suite_config *c, const char *out_dir, volatile sig_atomic_t *stop);

#ifdef __cplusplus
}
#endif
#endif
