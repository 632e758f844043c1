/* Shared by suite paper's plan (suite_paper_plan.c: what runs) and its execution
 * (suite_paper.c: running the stages). */
#ifndef RCL_SUITE_PAPER_INTERNAL_H
#define RCL_SUITE_PAPER_INTERNAL_H

#include <stdint.h>

#include "suite_internal.h"

enum { P_PRETRAIN, P_PRETRAIN_ADV, P_NOISE, P_IMBALANCE, P_IMBALANCE_EXP, P_ADVERSARIAL, P_CLEAN };
enum { NOISE_NORMAL, NOISE_FORWARD, NOISE_GLC5, NOISE_GLC10 };
enum { ADV_NORMAL, ADV_PGD, ADV_LAST_LAYER };

/* The names in run IDs, indexed by the enums above (datasets: 0 cifar10, 1 cifar100). */
extern const char *const rcl_paper_datasets[2];
/* The released common corruptions of each target under the data root, as their archives unpack
 * (spec §12): "CIFAR-10-C", "CIFAR-100-C". */
extern const char *const rcl_paper_corrupted_dirs[2];
extern const char *const rcl_paper_noise_methods[4];
extern const char *const rcl_paper_adv_methods[3];

/* One run of the grid. */
typedef struct {
    char id[160];
    const char *depends; /* "-", "pretrain" or "pretrain-adv" */
    int kind, dataset, pretrained, corruption, method, seed;
    double setting;
} rcl_paper_run;

rcl_status rcl_paper_check(const rcl_suite_paper_config *c);
/* Every run, dependencies first. *runs malloc'd. */
rcl_status rcl_paper_grid(const rcl_suite_paper_config *c, rcl_paper_run **runs, int *n);

/* Sizes: c->scale times the paper's `epochs` (at least 1), or its `paper` count (at least floor_). */
int rcl_paper_epochs(const rcl_suite_paper_config *c, int epochs);
int rcl_paper_count(const rcl_suite_paper_config *c, int paper, int floor_);
/* The identity of the data every run reads (stage keys). */
uint64_t rcl_paper_data_hash(const rcl_suite_paper_config *c);

#endif
