/* The suite's summary (mean +- std over seeds, scratch vs pre-trained), as
 * JSON and as a terminal table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/metrics.h"
#include "suite_internal.h"

static int same(const rcl_run_result *r, const char *dataset, const char *experiment, const char *method,
                double setting) {
    return !strcmp(r->dataset, dataset) && !strcmp(r->experiment, experiment) && !strcmp(r->method, method) &&
           fabs(r->setting - setting) < 1e-9;
}

int rcl_report_stat(const rcl_run_result *runs, int n, const char *dataset, const char *experiment,
                    const char *method, const char *arm, double setting, const char *key, double *mean,
                    double *std) {
    double sum = 0, sq = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!same(&runs[i], dataset, experiment, method, setting) || strcmp(runs[i].arm, arm))
            continue;
        double v = rcl_run_get(&runs[i], key, NAN);
        if (isnan(v))
            continue;
        sum += v, sq += v * v, k++;
    }
    *mean = k ? sum / k : NAN;
    *std = k > 1 ? sqrt(fmax(0, (sq - sum * sum / k) / (k - 1))) : (k ? 0 : NAN);
    return k;
}

static int skip_metric(const char *key) { return !strcmp(key, "train_seconds") || !strcmp(key, "steps"); }

/* Error of (method, arm, seed) at strength s: the clean run stands for s = 0 of "normal". */
static double noise_error(const rcl_run_result *runs, int n, const char *method, const char *arm, int seed, double s) {
    for (int i = 0; i < n; i++) {
        const rcl_run_result *r = &runs[i];
        if (r->seed != seed || strcmp(r->arm, arm) || strcmp(r->method, method) || fabs(r->setting - s) > 1e-9)
            continue;
        if (!strcmp(r->experiment, "noise") || (!strcmp(r->experiment, "clean") && !strcmp(method, "normal")))
            return rcl_run_get(r, "error", NAN);
    }
    return NAN;
}

static void add_area_rows(const rcl_run_result *runs, int n, rcl_summary_row **rows, int *nrows, int *cap) {
    double grid[64];
    int ng = 0;
    const char *methods[8];
    int nm = 0, seeds[64], ns = 0;
    for (int i = 0; i < n; i++) {
        const rcl_run_result *r = &runs[i];
        if (r->dataset[0] || (strcmp(r->experiment, "noise") && strcmp(r->experiment, "clean")))
            continue; /* the mini suite's area; suite paper's is in its Table 1 */
        int f = 0;
        for (int j = 0; j < ng; j++)
            f |= fabs(grid[j] - r->setting) < 1e-9;
        if (!f && ng < 64)
            grid[ng++] = r->setting;
        f = 0;
        for (int j = 0; j < nm; j++)
            f |= !strcmp(methods[j], r->method);
        if (!f && nm < 8)
            methods[nm++] = r->method;
        f = 0;
        for (int j = 0; j < ns; j++)
            f |= seeds[j] == r->seed;
        if (!f && ns < 64)
            seeds[ns++] = r->seed;
    }
    if (ng < 2)
        return;
    for (int a = 1; a < ng; a++) /* sort the grid */
        for (int b = a; b > 0 && grid[b] < grid[b - 1]; b--) {
            double t = grid[b];
            grid[b] = grid[b - 1], grid[b - 1] = t;
        }
    for (int mi = 0; mi < nm; mi++) {
        rcl_summary_row row;
        memset(&row, 0, sizeof row);
        snprintf(row.experiment, sizeof row.experiment, "noise");
        snprintf(row.method, sizeof row.method, "%s", methods[mi]);
        snprintf(row.metric, sizeof row.metric, "error_area");
        row.setting = -1;
        for (int arm = 0; arm < 2; arm++) {
            double sum = 0, sq = 0;
            int k = 0;
            for (int si = 0; si < ns; si++) {
                double err[64], area;
                int ok = 1;
                for (int g = 0; g < ng; g++)
                    ok &= !isnan(err[g] = noise_error(runs, n, methods[mi], arm ? "pretrained" : "scratch", seeds[si], grid[g]));
                if (ok && rcl_noise_error_area(grid, err, ng, &area) == RCL_OK)
                    sum += area, sq += area * area, k++;
            }
            row.mean[arm] = k ? sum / k : NAN;
            row.std[arm] = k > 1 ? sqrt(fmax(0, (sq - sum * sum / k) / (k - 1))) : (k ? 0 : NAN);
            row.n[arm] = k;
        }
        if (row.n[0] + row.n[1] == 0)
            continue;
        if (*nrows == *cap) {
            *cap *= 2;
            rcl_summary_row *p = realloc(*rows, (size_t)*cap * sizeof *p);
            if (!p)
                return;
            *rows = p;
        }
        (*rows)[(*nrows)++] = row;
    }
}

int rcl_report_rows(const rcl_run_result *runs, int n, rcl_summary_row **out) {
    int cap = 64, nrows = 0;
    rcl_summary_row *rows = malloc((size_t)cap * sizeof *rows);
    if (!rows) {
        *out = NULL;
        return 0;
    }
    for (int i = 0; i < n; i++) {
        const rcl_run_result *r = &runs[i];
        for (int k = 0; k < r->nmetrics; k++) {
            const char *key = r->metrics[k].key;
            if (skip_metric(key))
                continue;
            int seen = 0;
            for (int j = 0; j < nrows && !seen; j++)
                seen = !strcmp(rows[j].dataset, r->dataset) && !strcmp(rows[j].experiment, r->experiment) && !strcmp(rows[j].method, r->method) &&
                       fabs(rows[j].setting - r->setting) < 1e-9 && !strcmp(rows[j].metric, key);
            if (seen)
                continue;
            if (nrows == cap) {
                cap *= 2;
                rcl_summary_row *p = realloc(rows, (size_t)cap * sizeof *p);
                if (!p)
                    break;
                rows = p;
            }
            rcl_summary_row *row = &rows[nrows++];
            memset(row, 0, sizeof *row);
            snprintf(row->dataset, sizeof row->dataset, "%s", r->dataset);
            snprintf(row->experiment, sizeof row->experiment, "%s", r->experiment);
            snprintf(row->method, sizeof row->method, "%s", r->method);
            snprintf(row->metric, sizeof row->metric, "%s", key);
            row->setting = r->setting;
            for (int arm = 0; arm < 2; arm++)
                row->n[arm] = rcl_report_stat(runs, n, r->dataset, r->experiment, r->method, arm ? "pretrained" : "scratch",
                                              r->setting, key, &row->mean[arm], &row->std[arm]);
        }
    }
    add_area_rows(runs, n, &rows, &nrows, &cap);
    *out = rows;
    return nrows;
}

static void cell(FILE *f, double mean, double std, int n) {
    if (!n || isnan(mean))
        fprintf(f, " %16s", "-");
    else
        fprintf(f, " %8.2f +- %5.2f", mean, std);
}

void rcl_report_table(FILE *f, const rcl_run_result *runs, int n) {
    rcl_summary_row *rows;
    int nr = rcl_report_rows(runs, n, &rows);
    fprintf(f, "\n%-12s %-12s %-8s %-22s %16s %16s\n", "experiment", "method", "setting", "metric (%)", "scratch",
            "pre-trained");
    for (int i = 0; i < nr; i++) {
        rcl_summary_row *r = &rows[i];
        char setting[16];
        if (r->setting < 0)
            snprintf(setting, sizeof setting, "all");
        else
            snprintf(setting, sizeof setting, "%g", r->setting);
        char experiment[64];
        snprintf(experiment, sizeof experiment, "%s%s%s", r->dataset, r->dataset[0] ? "/" : "", r->experiment);
        fprintf(f, "%-12s %-12s %-8s %-22s", experiment, r->method, setting, r->metric);
        cell(f, r->mean[0], r->std[0], r->n[0]);
        cell(f, r->mean[1], r->std[1], r->n[1]);
        fprintf(f, "\n");
    }
    fprintf(f, "(mean +- sample std over seeds; percent)\n");
    free(rows);
}

void rcl_report_summary_json(rcl_json_writer *w, const rcl_run_result *runs, int n) {
    rcl_jw_key(w, "summary");
    rcl_jw_begin_array(w);
    rcl_summary_row *rows;
    int nr = rcl_report_rows(runs, n, &rows);
    for (int i = 0; i < nr; i++) {
        rcl_jw_begin_object(w);
        if (rows[i].dataset[0])
            rcl_jw_key(w, "dataset"), rcl_jw_string(w, rows[i].dataset);
        rcl_jw_key(w, "experiment"), rcl_jw_string(w, rows[i].experiment);
        rcl_jw_key(w, "method"), rcl_jw_string(w, rows[i].method);
        rcl_jw_key(w, "setting"), rows[i].setting < 0 ? rcl_jw_string(w, "all") : rcl_jw_number(w, rows[i].setting);
        rcl_jw_key(w, "metric"), rcl_jw_string(w, rows[i].metric);
        for (int arm = 0; arm < 2; arm++) {
            rcl_jw_key(w, arm ? "pretrained" : "scratch");
            rcl_jw_begin_object(w);
            rcl_jw_key(w, "mean"), rcl_jw_number(w, rows[i].mean[arm]);
            rcl_jw_key(w, "std"), rcl_jw_number(w, rows[i].std[arm]);
            rcl_jw_key(w, "seeds"), rcl_jw_int(w, rows[i].n[arm]);
            rcl_jw_end_object(w);
        }
        rcl_jw_end_object(w);
    }
    free(rows);
    rcl_jw_end_array(w);
}

rcl_status rcl_report_json_close(rcl_json_writer *w, FILE *f, const char *path, const rcl_run_result *runs, int n) {
    rcl_report_summary_json(w, runs, n);
    rcl_jw_key(w, "runs");
    rcl_jw_begin_array(w);
    for (int i = 0; i < n; i++)
        rcl_run_write_json(w, &runs[i]);
    rcl_jw_end_array(w);
    rcl_jw_end_object(w);
    rcl_status s = rcl_jw_finish(w);
    if (fclose(f) != 0 && s == RCL_OK)
        s = rcl_fail(RCL_ERR_IO, "%s: write failed", path);
    return s;
}

rcl_status rcl_report_json(const char *path, const rcl_suite_config *c, const rcl_run_result *runs, int n,
                           const char *stages_json) {
    FILE *f = fopen(path, "w");
    if (!f)
        return rcl_fail(RCL_ERR_IO, "%s: cannot create the report", path);
    rcl_json_writer w;
    rcl_jw_init(&w, f, 1);
    rcl_jw_begin_object(&w);
    rcl_jw_key(&w, "suite");
    rcl_jw_string(&w, c->quick ? "mini --quick" : "mini");
    rcl_jw_key(&w, "grid");
    char *desc = NULL;
    size_t dlen = 0;
    FILE *mf = open_memstream(&desc, &dlen);
    if (mf) {
        rcl_suite_describe(c, mf);
        fclose(mf);
    }
    rcl_jw_string(&w, desc ? desc : "");
    free(desc);
    rcl_jw_key(&w, "modes");
    rcl_jw_string(&w, "textbook (calibration also reported in paper mode: rms_paper, mad_paper)");
    if (stages_json) {
        rcl_jw_key(&w, "stages");
        rcl_jw_raw(&w, stages_json);
    }
    return rcl_report_json_close(&w, f, path, runs, n);
}
