/* Shared by the files of src/suite: run results, the stage cache, reports. */
#ifndef RCL_SUITE_INTERNAL_H
#define RCL_SUITE_INTERNAL_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "robustcl/adversarial.h"
#include "robustcl/autoattack.h"
#include "robustcl/imbalance_methods.h"
#include "robustcl/json.h"
#include "robustcl/noise_methods.h"
#include "robustcl/normalization.h"
#include "robustcl/suite.h"

#define RCL_RUN_METRICS 48
#define RCL_RUN_SERIES 24

typedef struct {
    char key[40];
    double value;
} rcl_metric;

typedef struct {
    char name[48];
    double *v;
    int n;
} rcl_series;

/* One training + evaluation of the suite. */
typedef struct rcl_run_result {
    char id[160];         /* e.g. "noise/0.4/glc/pretrained/seed=1" */
    char dataset[24];     /* suite paper: cifar10, cifar100, imagenet32; "" in the mini suite */
    char experiment[24];  /* clean, noise, imbalance, adversarial */
    char method[24];      /* normal, forward, glc, cost, oversample, smote, adversarial */
    char arm[16];         /* scratch, pretrained */
    double setting;       /* noise strength, gamma, eps */
    int seed;
    uint64_t hash;
    rcl_metric metrics[RCL_RUN_METRICS];
    int nmetrics;
    rcl_series series[RCL_RUN_SERIES];
    int nseries;
    char *provenance; /* the stage's run record, a JSON object (malloc'd; NULL: not recorded) */
} rcl_run_result;

void rcl_run_set(rcl_run_result *r, const char *key, double v);
double rcl_run_get(const rcl_run_result *r, const char *key, double dflt); /* dflt when absent */
void rcl_run_unset(rcl_run_result *r, const char *key);
/* Copies n values under `name`. */
void rcl_run_series(rcl_run_result *r, const char *name, const double *v, int n);
const rcl_series *rcl_run_find_series(const rcl_run_result *r, const char *name);
void rcl_run_free(rcl_run_result *r);

/* Stage cache: out_dir/stages/<id>.json holds the result and the hash of the
 * configuration that produced it. */
int rcl_stage_load(const char *out_dir, const char *id, uint64_t hash, rcl_run_result *r); /* 1 if cached */
rcl_status rcl_stage_store(const char *out_dir, const rcl_run_result *r);
void rcl_run_write_json(rcl_json_writer *w, const rcl_run_result *r);

/* Reads every stage result (OUT/stages/NAME.json) of each directory into *runs
 * (malloc'd; free each with rcl_run_free). Pre-training stages are included. */
rcl_status rcl_stage_collect(const char *const *dirs, int ndirs, rcl_run_result **runs, int *n);

/* ---- one stage: a training run and its evaluation (src/suite/suite_stage.c) ---- */

typedef struct rcl_stage_env {
    const rcl_run_config *run; /* the stages' record */
    rcl_device *d;
    const char *out;
    volatile sig_atomic_t *stop;
    double t0;
    int stages_run, stages_cached;
} rcl_stage_env;

typedef struct rcl_stage_spec {
    const char *dataset, *experiment, *method; /* identity; dataset may be "" */
    double setting;
    int seed, pretrained;
    const char *id;            /* or NULL: experiment/setting/method/arm/seed=N (dataset/ in front) */
    /* net and recipe */
    rcl_wrn_config net;        /* shape, arch, classes, dropout, fc_bias */
    int batch, epochs, min_steps;
    double lr;
    uint64_t init_seed;        /* rcl_model_init seed */
    const char *init_path;     /* pre-trained checkpoint (its trunk, a new head) or NULL */
    uint64_t init_hash;        /* identity of that checkpoint */
    int freeze_trunk;          /* train only fc */
    uint64_t train_seed;
    const char *save_path;     /* write the trained model here (pre-training) or NULL */
    /* what it trains on */
    const rcl_dataset *train;
    const int *indices;        /* or NULL: all of train */
    int count;
    const float *class_weights;
    const rcl_noise_run *noise; /* Forward/GLC runner (reinit filled in here), or NULL */
    const rcl_attack_config *adv_train; /* adversarial training, or NULL */
    /* evaluation */
    const rcl_dataset *test;
    const rcl_dataset *val;    /* calibration: temperature tuned on it (reported), or NULL */
    const rcl_dataset *const *ood;
    const char *const *ood_names;
    int n_ood;
    const char *dump_dir;      /* per-sample scores of OOD runs go here, or NULL */
    const unsigned char *minority;
    int calibration;
    const rcl_attack_config *adv_eval; /* or NULL */
    uint64_t extra_hash;       /* anything else that changes the run (data, labels) */
    const rcl_normalization *norm; /* input normalisation of training and evaluation, or NULL: 0.5/0.5 */
    /* common corruptions (spec §12): the mean corruption error "mce" of */
    const rcl_dataset *corrupt_test; /* corruptions[0..n_corruptions) generated from these images (seed
                                        corrupt_seed), or NULL */
    const int *corruptions;
    int n_corruptions;
    uint64_t corrupt_seed;
    const char *corrupted_dir;       /* or a released CIFAR-10-C / CIFAR-100-C folder, or NULL */
    /* AutoAttack (spec §7.4) on the first n test images, with the run's seed and the stage's
     * normalisation (metrics "autoattack", "autoattack_<attack>"), or NULL */
    const rcl_autoattack_config *autoattack;
} rcl_stage_spec;

/* The imbalanced training set's profile of both suites (spec §6): power law from
 * per_class down to 1/20 of it, or CIFAR-LT with ratio rho (setting); at least 2 images a
 * class either way (SMOTE needs a neighbour). */
rcl_imb_profile rcl_suite_imb_profile(int exponential, int per_class, double setting, uint64_t seed);
/* "[n_0, ..., n_{k-1}] total T" of the profile for k classes, to f (the declared grid). */
void rcl_suite_describe_counts(FILE *f, const rcl_imb_profile *p, int k);

/* ---- the mini suite's data (src/suite/suite_data.c, spec §11.1) ---- */

/* Marks in in_pool[0..all->n) the target pool: `pool` training images of each class of
 * target[0..kt), a seeded subset in file order. RCL_ERR_INVALID_ARG when a class has fewer. */
rcl_status rcl_suite_target_pool(const rcl_dataset *all, const int *target, int kt, int pool, uint64_t seed,
                                 unsigned char *in_pool);
/* A copy of the images of classes[0..k) whose in_pool mark equals from_pool (pool NULL: every
 * image of those classes when from_pool is 0), relabelled 0..k'-1 in ascending class order. */
rcl_status rcl_suite_split_take(const rcl_dataset *all, const int *classes, int k, const unsigned char *pool,
                                int from_pool, rcl_dataset *out);
/* A copy of the listed images of src (idx NULL: the first n), labels too, so they can be corrupted. */
rcl_status rcl_suite_copy_subset(const rcl_dataset *src, const int *idx, int n, rcl_dataset *out);

/* FNV-1a of a formatted string, chained from h (stage keys). */
uint64_t rcl_suite_hash(uint64_t h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Keeps at most per_class images of each class, a seeded subset in file order (0: all). */
rcl_status rcl_suite_cap_per_class(rcl_dataset *ds, int per_class, uint64_t seed);
/* The stage's cache key: every input of the spec. */
uint64_t rcl_stage_hash(const rcl_stage_spec *sp);
/* Runs the stage, or loads it from env->out/stages when its hash matches (and its
 * save_path exists). *r receives the result. */
rcl_status rcl_stage_run(rcl_stage_env *env, const rcl_stage_spec *sp, rcl_run_result *r);

/* One line of the scratch-vs-pre-trained summary: a metric of one (dataset, experiment,
 * method, setting), mean and sample std over seeds for each arm (0 scratch, 1 pre-trained). */
/* The verdict of a row: pre-trained vs scratch, paired by seed (the arms of a seed train on the
 * same target subset), two-sided paired t-test at 95%. */
typedef enum {
    RCL_VERDICT_NONE = 0, /* no direction for this metric, or no paired seeds */
    RCL_VERDICT_HELPS,
    RCL_VERDICT_HURTS,
    RCL_VERDICT_NO_DIFFERENCE, /* within the seed spread */
    RCL_VERDICT_ONE_SEED,      /* n = 1: a direction, no spread to judge it by */
} rcl_verdict;

/* The paper's numbers (Hendrycks, Lee & Mazeika 2019), percent, written once (src/suite/paper_claims.c):
 * [d] 0 CIFAR-10, 1 CIFAR-100; [arm] 0 normal training, 1 pre-training. */
typedef struct rcl_paper_numbers {
    double pretrain_error[2];    /* ImageNet32 validation top-1 error: WRN-40-2, PGD-10 adversarial WRN-28-10 */
    double noise_area[2][4][2];  /* Table 1, error area [d][no correction, Forward, GLC 5%, GLC 10%][arm] */
    double imbalance[2][2][2];   /* Table 2 at gamma 0.2 [d][arm][total error, minority error] */
    double adversarial[2][4][2]; /* Table 3 [d][normal training, adversarial training, adversarial
                                    pre-training + tuning, last layer only][clean, PGD-20 accuracy] */
    double ood[2][2][2];         /* Table 4, MSP, mean over the OOD sets [d][arm][AUROC, AUPR] */
    double calibration[2][2][2]; /* Table 5, T = 1, paper mode [d][arm][RMS, MAD] */
} rcl_paper_numbers;
extern const rcl_paper_numbers rcl_paper;

/* What the paper says pre-training does to a row's metric (spec §11.4). */
typedef enum {
    RCL_PAPER_NONE = 0,        /* nothing */
    RCL_PAPER_HELPS,           /* its Tables 1-5 */
    RCL_PAPER_MAY_NOT_IMPROVE, /* the clean error */
} rcl_paper_direction;

typedef struct rcl_paper_claim {
    rcl_paper_direction direction;
    const char *what;          /* the paper's metric when its number is of another one ("error area"), or NULL */
    double normal, pretrained; /* its CIFAR-10 number (CIFAR-100 rows: CIFAR-100's) without and with
                                  pre-training; NaN: none for this row */
} rcl_paper_claim;

typedef struct rcl_summary_row {
    char dataset[24], experiment[24], method[24], metric[40];
    double setting;
    double mean[2], std[2];
    int n[2];
    double diff, diff_se; /* mean over seeds of pre-trained - scratch, its standard error */
    int npaired;          /* seeds with both arms */
    int better;           /* +1 higher is better, -1 lower is better, 0 no direction */
    rcl_verdict verdict;
    rcl_paper_claim paper;
} rcl_summary_row;
/* "helps", "hurts", "no measurable difference", "n = 1: better", "n = 1: worse", "n = 1: equal", "" */
const char *rcl_verdict_text(const rcl_summary_row *r);
/* For a metric the paper says pre-training helps: "agrees" / "disagrees" / "not shown" / "n = 1", else "". */
const char *rcl_verdict_vs_paper(const rcl_summary_row *r);
/* What the paper claims on a row's metric (spec §11.4; src/suite/paper_claims.c). */
rcl_paper_claim rcl_paper_claim_of(const char *dataset, const char *experiment, const char *method, const char *metric,
                                   double setting);
/* The paper's side of a row: "helps, 28.7 -> 15.9", "helps, error area 28.7 -> 15.9", "helps",
 * "may not improve", or "" (no claim). */
void rcl_paper_text(const rcl_paper_claim *c, char *buf, size_t cap);
/* 1 when an arm's mean AUROC (a set's or the mean) is below 50: the detector ranks that OOD set as
 * more in-distribution than the test set. */
int rcl_summary_below_chance(const rcl_summary_row *r);
/* All rows, incl. the label-noise error area (spec §5) per method; *rows malloc'd. */
int rcl_report_rows(const rcl_run_result *runs, int n, rcl_summary_row **rows);
/* The experiment whose runs carry the OOD and calibration numbers the paper makes claims on:
 * "uncertainty" (class-excluded pre-training) when the runs have it, else "clean". */
const char *rcl_report_uncertainty_experiment(const rcl_run_result *runs, int n);

/* The headline: for each of the paper's five findings and the clean error, one representative
 * row of the mini suite (dataset "") and what it shows. */
#define RCL_HEADLINES 6
typedef struct rcl_headline {
    const char *key, *finding;  /* "label_noise", "label noise" */
    const rcl_summary_row *row; /* or NULL: not run */
    rcl_paper_claim paper;      /* also when the row did not run */
    const char *status;         /* "reproduces here", "not shown", "disagrees", "n = 1", "not run";
                                   the clean error: its verdict, as the paper makes no claim */
} rcl_headline;
void rcl_report_headline(const rcl_summary_row *rows, int nr, rcl_headline out[RCL_HEADLINES]);
/* "label noise: not shown; noise/normal error at s = 0.4: 12.89 -> 10.89 (-2.00 +- 1.16); paper: helps, ..." */
void rcl_headline_text(const rcl_headline *h, char *buf, size_t cap);
/* What mini scale can and cannot show; why rms_paper equals rms there; what the mce and the
 * autoattack rows measure. */
extern const char rcl_report_scale_note[], rcl_report_calibration_note[], rcl_report_corruption_note[],
    rcl_report_autoattack_note[];
/* 1 when a row reports `metric`. */
int rcl_report_has_metric(const rcl_summary_row *rows, int nr, const char *metric);

/* "summary": [rows...] (a key and its array) into an open JSON object. */
void rcl_report_summary_json(rcl_json_writer *w, const rcl_run_result *runs, int n);
/* Ends the report JSON that w (a buffer writer) holds: the report's own record (self), where the
 * stages' records differ, the summary and every run; writes it to path atomically. */
rcl_status rcl_report_json_close(rcl_json_writer *w, const char *path, const char *self, const rcl_run_result *runs,
                                 int n);
/* Reports over all runs (aggregated over seeds). self: the suite run's record (a JSON object);
 * stages_json: pre-formatted JSON of how many stages ran and were cached. */
rcl_status rcl_report_json(const char *path, const rcl_suite_config *c, const char *self, const rcl_run_result *runs,
                           int n, const char *stages_json);
rcl_status rcl_report_html(const char *path, const rcl_suite_config *c, const char *self, const rcl_run_result *runs,
                           int n);
/* The headline, the rows, the notes. */
void rcl_report_table(FILE *f, const rcl_run_result *runs, int n);
/* When rows[i] starts an (experiment, method, setting) group: the recipe its runs trained with, read
 * from them ("scratch 1024 steps at lr 0.1, pre-trained 112 at lr 0.01 from the class-covering
 * source"; the first seed's, as every seed runs the same), and 1; else "" and 0. */
int rcl_report_group_recipe(const rcl_run_result *runs, int n, const rcl_summary_row *rows, int i, char *out,
                            size_t cap);
/* The same table written atomically to path (OUT/table.txt). */
rcl_status rcl_report_table_save(const char *path, const rcl_run_result *runs, int n);

/* Mean and sample standard deviation of `key` over the runs matching (dataset,
 * experiment, method, arm, setting) — one per seed. Returns the number of runs found. */
int rcl_report_stat(const rcl_run_result *runs, int n, const char *dataset, const char *experiment,
                    const char *method, const char *arm, double setting, const char *key, double *mean,
                    double *std);
/* Element-wise mean and sample std over the seeds of the series `name` of the mini suite's runs
 * (dataset "") matching (experiment, method, arm, setting); a seed's element counts only where its
 * series `mask` (or NULL: everywhere) is non-zero, else the element is NaN. Returns the length (at
 * most cap), 0 when no run has the series. */
int rcl_report_series_stat(const rcl_run_result *runs, int n, const char *experiment, const char *method,
                           const char *arm, double setting, const char *name, const char *mask, double *mean,
                           double *std, int cap);

/* ---- suite paper's runs for a scheduler (src/suite/suite_paper_plan.c) ---- */

typedef struct rcl_plan_run {
    char id[160];
    char depends[16]; /* "-", "pretrain" or "pretrain-adv" */
} rcl_plan_run;
/* Every run, dependencies first (*runs malloc'd). */
rcl_status rcl_suite_paper_runs(const rcl_suite_paper_config *c, rcl_plan_run **runs, int *n);
/* The command that runs `id` alone: `program suite paper ... --out OUT --only ID` (no newline). */
void rcl_suite_paper_command(FILE *f, const rcl_suite_paper_config *c, const char *out_dir, const char *program,
                             const char *id);
/* The (adversarial) pre-trained model that fine-tuning runs load; returns its identity hash. */
uint64_t rcl_suite_paper_pretrain_model(const rcl_suite_paper_config *c, const char *out_dir, int adv, char *path,
                                        size_t cap);
/* spec §7 in paper mode with `steps` PGD steps: eps 8/255, step 2/255. */
rcl_attack_config rcl_suite_paper_attack(int steps);
/* Pre-training epochs and the ImageNet32 training/validation images it uses at c->scale. */
void rcl_suite_paper_pretrain_sizes(const rcl_suite_paper_config *c, int *epochs, int *train_images, int *val_images);
/* s single-quoted for a POSIX shell. */
void rcl_suite_quote(FILE *f, const char *s);

/* suite paper's report (src/suite/report_paper.c): the paper's Tables 1-5 with our
 * numbers beside the paper's, the summary and every run; report.json and report.html
 * in out_dir, the tables on f (or NULL). */
rcl_status rcl_report_paper(const char *out_dir, const char *self, const rcl_run_result *runs, int n, FILE *f);

#endif
