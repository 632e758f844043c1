/* The suite: pre-train on source classes, then for each evaluation train a
 * scratch and a pre-trained model (and the task methods) on the target
 * classes, evaluate, and report scratch vs pre-trained (spec §4-11).
 * Every run is a stage cached under the output directory by a hash of its
 * configuration: a rerun skips finished stages, an interrupted suite resumes. */
#ifndef ROBUSTCL_SUITE_H
#define ROBUSTCL_SUITE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "robustcl/autoattack.h"
#include "robustcl/session.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RCL_SUITE_MAX 16

/* How long and how fast a pre-trained model is fine-tuned: at least min_steps optimizer steps
 * (whole epochs) at learning rate lr, cosine to 1e-6 (spec §4, §11.1). */
typedef struct rcl_suite_recipe {
    int min_steps;
    double lr;
} rcl_suite_recipe;

/* The experiments with a fine-tuning recipe of their own, as the paper's (spec §4). */
enum {
    RCL_SUITE_RECIPE_NOISE,       /* clean error and label noise without correction */
    RCL_SUITE_RECIPE_CORRECTED,   /* Forward and GLC */
    RCL_SUITE_RECIPE_IMBALANCE,
    RCL_SUITE_RECIPE_UNCERTAINTY, /* OOD detection and calibration */
    RCL_SUITE_RECIPE_ADVERSARIAL,
    RCL_SUITE_RECIPES
};
/* "noise", "corrected", "imbalance", "uncertainty", "adversarial"; -1 for another name. */
int rcl_suite_recipe_from_name(const char *name);
const char *rcl_suite_recipe_name(int recipe);

/* Pre-training sources (spec §11.1): every image of the source and target classes outside the
 * target pool, or the source classes alone (the paper's ablation without the target's classes). */
enum { RCL_SUITE_SOURCE_COVERING = 0, RCL_SUITE_SOURCE_EXCLUDED = 1 };

typedef struct rcl_suite_config {
    char data[1024];              /* dataset spec (train split for training, test split for testing) */
    char source_classes[256];     /* e.g. "0-4" */
    char target_classes[256];     /* e.g. "5-9" */
    char arch[32];
    int batch;
    /* the target pool and the two pre-training sources (spec §11.1) */
    int target_pool;              /* training images per target class held out of pre-training; every
                                     target training set is drawn from this pool */
    int source;                   /* RCL_SUITE_SOURCE_*: the pre-training of clean error, label noise,
                                     imbalance and adversarial (OOD and calibration: always excluded) */
    int pretrain_images;          /* 0 = all source images */
    int adv_pretrain_images;      /* adversarial pre-training: a seeded N of those (0 = all) */
    int pretrain_epochs, pretrain_min_steps;
    double pretrain_lr;
    /* target tasks */
    int target_per_class;         /* training images per target class (from the pool) */
    int test_per_class;           /* 0 = the whole target test split */
    int min_steps;                /* floor of optimizer steps per scratch run (spec §11) */
    int adv_min_steps;            /* the same for adversarial scratch training and adversarial
                                     pre-training (PGD training costs 1 + steps passes a step) */
    int scratch_epochs;
    double scratch_lr, scratch_dropout;
    rcl_suite_recipe finetune[RCL_SUITE_RECIPES]; /* fine-tuning per experiment (RCL_SUITE_RECIPE_*) */
    int seeds[RCL_SUITE_MAX], nseeds;
    /* label corruption */
    double noise[RCL_SUITE_MAX];  /* strengths s (uniform), 0 = clean */
    int nnoise;
    int noise_methods;            /* bit set of RCL_NOISE_* below */
    double trusted_fraction;      /* GLC */
    /* class imbalance */
    int imbalance_profiles;       /* bit set of RCL_SUITE_PROFILE_* below */
    int imbalance_largest;        /* the largest class of the imbalanced sets (a of spec §6.1), from the
                                     pool; the smallest is a/20 */
    double gammas[RCL_SUITE_MAX]; /* power law exponents */
    int ngammas;
    double rhos[RCL_SUITE_MAX];   /* CIFAR-LT ratios (experiment "imbalance-exp", setting = rho) */
    int nrhos;
    int imbalance_methods;        /* bit set of RCL_IMB_* below */
    int imbalance;                /* 0: no class-imbalance experiment */
    /* adversarial */
    int adversarial;              /* 0 off */
    double adv_eps;
    int adv_train_steps, adv_eval_steps;
    /* OOD */
    char ood[1024];               /* extra OOD specs, ';'-separated (synthetic sets always) */
    /* common corruptions of the clean runs (spec §11.1, §12.1) */
    int corrupt_per_class;        /* a seeded subset of this many target test images per class, corrupted
                                     by every standard corruption built without frost photographs (0: none) */
    uint64_t corrupt_seed;        /* draws that subset and the corruptions' random parts */
    /* AutoAttack of the adversarial runs (spec §7.4, §11.1): opt-in, its 100 APGD steps x 9 targets
     * do not fit the default run's 20 minutes on 2 cores */
    int autoattack_n;             /* the first N target test images (0: no AutoAttack row) */
    rcl_autoattack_config autoattack; /* its settings but n and eps (adv_eps): standard (tests: fewer steps) */
    int quick;
    const rcl_run_config *run; /* the device, how it runs, the run record (NULL: the defaults) */
    FILE *table; /* where the results table is printed at the end (NULL: nowhere) */
} rcl_suite_config;

enum { RCL_SUITE_NOISE_FORWARD = 1, RCL_SUITE_NOISE_GLC = 2 };
enum { RCL_SUITE_IMB_COST = 1, RCL_SUITE_IMB_OVERSAMPLE = 2, RCL_SUITE_IMB_SMOTE = 4 };
/* Imbalance profiles (spec §6): power law, CIFAR-LT exponential. */
enum { RCL_SUITE_PROFILE_POWER = 1, RCL_SUITE_PROFILE_EXP = 2 };
/* "power" | "exp" | "both" -> bit set; -1 if none. */
int rcl_suite_profiles_from_name(const char *name);

/* The mini suite's defaults (spec §11); quick = the CI-sized version. */
void rcl_suite_defaults(rcl_suite_config *c, int quick);
/* Prints the grid (every size, epoch count, method) to f, as the report does. */
void rcl_suite_describe(const rcl_suite_config *c, FILE *f);
/* Prints how long the suite will take on its device: every run's optimizer steps and evaluated
 * images, counted as the suite runs them, times the net's speed measured on the device now. */
rcl_status rcl_suite_estimate(const rcl_suite_config *c, FILE *f);

rcl_status rcl_suite_run(const rcl_suite_config *c, const char *out_dir, volatile sig_atomic_t *stop);

/* ---- suite paper: the paper's recipes and grids (spec §4-9), paper mode ----
 * Pre-training on ImageNet32 (clean WRN-40-2; adversarial WRN-28-10 with PGD-10), then
 * for CIFAR-10 and CIFAR-100: label noise (uniform and flip, s = 0..1 step 0.1; Normal,
 * Forward, GLC 5%, GLC 10%), class imbalance (power law, gamma 0.2..2.0; Normal,
 * cost-sensitive, oversampling, SMOTE, pre-training; with RCL_SUITE_PROFILE_EXP also or instead
 * CIFAR-LT rho = 100, "imbalance-exp"), adversarial robustness (normal
 * training, adversarial training, adversarial pre-training + fine-tuning, last layer only;
 * PGD-20), OOD detection and calibration. Each run is a stage (OUT/stages/ID.json, IDs
 * like "cifar10/noise-flip/0.4/glc5/pretrained/seed=1") that can run on its own. */
typedef struct rcl_suite_paper_config {
    char data_root[1024];  /* cifar10/ (binary), cifar100/ (binary), imagenet32/ (npz) */
    char exclude[1024];    /* file of ImageNet32 classes left out of pre-training (indices or wnids), or "" */
    char exclude_map[1024]; /* wnid map of that list, or "": data_root/imagenet32/map_clsloc.txt */
    char datasets[64];     /* targets, comma-separated: "cifar10,cifar100" */
    char arch[32];         /* the main net (spec §4: wrn-40-2) */
    char adv_arch[32];     /* the adversarial experiments' net (wrn-28-10) */
    int batch, pretrain_batch; /* 128, 256 */
    double scale;          /* 1 = the paper; F < 1: F times the paper's epochs and images */
    int nseeds;            /* target runs per configuration, seeds 1..N (pre-training once) */
    int imbalance_profiles; /* RCL_SUITE_PROFILE_*: power = Table 2 (default), exp = CIFAR-LT rho = 100 */
    int quirk_normalize;   /* 1: Forward/GLC runs normalise with the CIFAR mean/std like the official
                            * scripts (spec §3 QUIRK); 0 (default): 0.5/0.5 everywhere */
    char ood[1024];        /* extra OOD sets (';'-separated specs) besides the synthetic ones */
    int autoattack_n;      /* AutoAttack of the adversarial runs on the first N test images (default
                            * 1000; 0: none), eps 8/255 like PGD-20 (spec §7.4) */
    rcl_autoattack_config autoattack; /* its settings but n and eps: standard (tests: fewer steps) */
    const rcl_run_config *run; /* the device, how it runs, the run record (NULL: the defaults); the
                                * plan's pre-training jobs pass its device selector on */
    FILE *table;           /* where the paper's tables are printed at the end (NULL: nowhere) */
} rcl_suite_paper_config;

void rcl_suite_paper_defaults(rcl_suite_paper_config *c);
void rcl_suite_paper_describe(const rcl_suite_paper_config *c, FILE *f);
/* One line per run, dependencies first: ID TAB DEPENDS (comma-separated IDs, or "-") TAB
 * a command that runs it alone (`program suite paper ... --out OUT --only ID`). */
rcl_status rcl_suite_paper_plan(const rcl_suite_paper_config *c, const char *out_dir, const char *program, FILE *f);
/* The plan as sbatch-ready scripts in dir (src/suite/suite_slurm.c): pretrain.sbatch and
 * pretrain-adv.sbatch, each one data-parallel job of `ranks` tasks with a GPU each running
 * `srun program train ...` (pre-training batch / ranks images per rank) into the model file
 * the fine-tuning runs load; runs-scratch.txt, runs-pretrain.txt, runs-pretrain-adv.txt (one
 * `--only ID` command a line) run by array.sbatch as job arrays; report.sbatch; and
 * submit.sh, which submits them with --dependency=afterok:<pre-training job> for the
 * fine-tuning arrays and the report after everything. Every run of the plan once. */
rcl_status rcl_suite_paper_slurm(const rcl_suite_paper_config *c, const char *out_dir, const char *program,
                                 const char *dir, int ranks);
/* Runs the runs whose ID matches one of the comma-separated shell patterns in only
 * (NULL: every run, then OUT/report.{json,html}). A fine-tuning run needs its pre-training
 * run's model in OUT/stages (run it first, with the same OUT). RCL_ERR_INVALID_ARG when
 * only matches no run. */
rcl_status rcl_suite_paper_run(const rcl_suite_paper_config *c, const char *out_dir, const char *only,
                               volatile sig_atomic_t *stop);

/* robustcl report: collects the stage results of suite runs executed anywhere
 * (DIR/stages/NAME.json of each dir) into out_dir/report.json and report.html with the paper's
 * Tables 1-5 beside ours; the tables also go to table (or NULL). Each stage keeps its run record;
 * stages that came from different devices, drivers or versions are named in a warning, the
 * JSON and the page. run: this command's record (NULL: none). */
rcl_status rcl_suite_report(const rcl_run_config *run, const char *const *dirs, int ndirs, const char *out_dir,
                            FILE *table);

#ifdef __cplusplus
}
#endif
#endif
