/* Shared by the files of src/suite: run results, the stage cache, reports. */
#ifndef RCL_SUITE_INTERNAL_H
#define RCL_SUITE_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "robustcl/json.h"
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
    char id[160];         /* e.g. "noise/s=0.4/glc/pretrained/seed=1" */
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
} rcl_run_result;

void rcl_run_set(rcl_run_result *r, const char *key, double v);
double rcl_run_get(const rcl_run_result *r, const char *key, double dflt); /* dflt when absent */
/* Copies n values under `name`. */
void rcl_run_series(rcl_run_result *r, const char *name, const double *v, int n);
const rcl_series *rcl_run_find_series(const rcl_run_result *r, const char *name);
void rcl_run_free(rcl_run_result *r);

/* Stage cache: out_dir/stages/<id>.json holds the result and the hash of the
 * configuration that produced it. */
int rcl_stage_load(const char *out_dir, const char *id, uint64_t hash, rcl_run_result *r); /* 1 if cached */
rcl_status rcl_stage_store(const char *out_dir, const rcl_run_result *r);
void rcl_run_write_json(rcl_json_writer *w, const rcl_run_result *r);

/* One line of the scratch-vs-pre-trained summary: a metric of one (experiment,
 * method, setting), mean and sample std over seeds for each arm (0 scratch, 1 pre-trained). */
typedef struct rcl_summary_row {
    char experiment[24], method[24], metric[40];
    double setting;
    double mean[2], std[2];
    int n[2];
} rcl_summary_row;
/* All rows, incl. the label-noise error area (PROTOCOL 5) per method; *rows malloc'd. */
int rcl_report_rows(const rcl_run_result *runs, int n, rcl_summary_row **rows);

/* Reports over all runs (aggregated over seeds). */
/* stages_json: pre-formatted JSON of how many stages ran and were cached. */
rcl_status rcl_report_json(const char *path, const rcl_suite_config *c, const rcl_run_result *runs, int n,
                           const char *stages_json);
rcl_status rcl_report_html(const char *path, const rcl_suite_config *c, const rcl_run_result *runs, int n);
void rcl_report_table(FILE *f, const rcl_run_result *runs, int n);

/* Mean and sample standard deviation of `key` over the runs matching (experiment,
 * method, arm, setting) — one per seed. Returns the number of runs found. */
int rcl_report_stat(const rcl_run_result *runs, int n, const char *experiment, const char *method,
                    const char *arm, double setting, const char *key, double *mean, double *std);

#endif
