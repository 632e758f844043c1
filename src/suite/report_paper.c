/* suite paper's report: the paper's Tables 1-5 (spec §5-9) with our numbers
 * beside the paper's, from stage results gathered wherever the runs executed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "robustcl/metrics.h"
#include "report_provenance.h"
#include "suite_internal.h"
#include "svg_plot.h"

#define MAX_ROWS 96
#define MAX_COLS 8
#define RCL_PAPER_TABLES 7 /* pre-training, Tables 1-5, common corruptions */

typedef struct {
    char label[2][32];
    double v[MAX_COLS]; /* NAN: not run / not in the paper */
} trow;

typedef struct {
    const char *key, *title, *note;
    const char *labels[2];
    const char *cols[MAX_COLS];
    int nval;
    trow rows[MAX_ROWS];
    int n;
} table;

static trow *row(table *t, const char *a, const char *b) {
    if (t->n == MAX_ROWS)
        return NULL;
    trow *r = &t->rows[t->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->label[0], sizeof r->label[0], "%s", a);
    snprintf(r->label[1], sizeof r->label[1], "%s", b);
    for (int i = 0; i < MAX_COLS; i++)
        r->v[i] = NAN;
    return r;
}

static double ours(const rcl_run_result *runs, int n, const char *dataset, const char *experiment, const char *method,
                   const char *arm, double setting, const char *key) {
    double mean, std;
    rcl_report_stat(runs, n, dataset, experiment, method, arm, setting, key, &mean, &std);
    return mean;
}

static const char *const datasets[2] = {"cifar10", "cifar100"};

/* ---- Table 1: area under the error curve, mean over uniform and flip and seeds ---- */

/* Area of one (dataset, corruption, method, arm, seed) over the strengths that ran; NAN if < 2. */
static double area_of(const rcl_run_result *runs, int n, const char *dataset, const char *experiment,
                      const char *method, const char *arm, int seed, int *points) {
    double s[64], e[64];
    int m = 0;
    for (int i = 0; i < n && m < 64; i++) {
        const rcl_run_result *r = &runs[i];
        if (r->seed != seed || strcmp(r->dataset, dataset) || strcmp(r->experiment, experiment) ||
            strcmp(r->method, method) || strcmp(r->arm, arm))
            continue;
        int j = m++;
        for (; j > 0 && s[j - 1] > r->setting; j--) /* insertion by strength */
            s[j] = s[j - 1], e[j] = e[j - 1];
        s[j] = r->setting, e[j] = rcl_run_get(r, "error", NAN);
    }
    double area;
    *points = m;
    return m >= 2 && rcl_noise_error_area(s, e, m, &area) == RCL_OK ? area : NAN;
}

static double table1_value(const rcl_run_result *runs, int n, const char *dataset, const char *method,
                           const char *arm, int *min_points) {
    static const char *const kinds[2] = {"noise-uniform", "noise-flip"};
    double sum = 0;
    int k = 0;
    for (int i = 0; i < n; i++) { /* each seed once: at its first run of this method */
        const rcl_run_result *r = &runs[i];
        if (strcmp(r->dataset, dataset) || strncmp(r->experiment, "noise-", 6) || strcmp(r->method, method) ||
            strcmp(r->arm, arm))
            continue;
        int first = 1;
        for (int j = 0; j < i && first; j++)
            first = !(runs[j].seed == r->seed && !strcmp(runs[j].dataset, dataset) &&
                      !strncmp(runs[j].experiment, "noise-", 6) && !strcmp(runs[j].method, method) &&
                      !strcmp(runs[j].arm, arm));
        if (!first)
            continue;
        for (int kind = 0; kind < 2; kind++) {
            int points;
            double a = area_of(runs, n, dataset, kinds[kind], method, arm, r->seed, &points);
            if (!isnan(a)) {
                sum += a, k++;
                if (points < *min_points)
                    *min_points = points;
            }
        }
    }
    return k ? sum / k : NAN;
}

static void table1(table *t, const rcl_run_result *runs, int n) {
    static const char *const methods[4] = {"normal", "forward", "glc5", "glc10"};
    static const char *const names[4] = {"No correction", "Forward", "GLC 5%", "GLC 10%"};
    int min_points = 11;
    for (int d = 0; d < 2; d++)
        for (int m = 0; m < 4; m++) {
            trow *r = row(t, datasets[d], names[m]);
            for (int arm = 0; arm < 2 && r; arm++) {
                r->v[2 * arm] = table1_value(runs, n, datasets[d], methods[m], arm ? "pretrained" : "scratch",
                                             &min_points);
                r->v[2 * arm + 1] = rcl_paper.noise_area[d][m][arm];
            }
        }
    t->note = min_points < 11 ? "some areas are over fewer than the paper's 11 strengths (a reduced grid ran)"
                              : "areas over s = 0..1 step 0.1, mean of uniform and flip";
}

/* ---- Table 2: class imbalance ---- */

static void table2(table *t, const rcl_run_result *runs, int n) {
    static const char *const methods[5] = {"normal", "cost-sensitive", "oversample", "smote", "normal"};
    static const char *const names[5] = {"Normal", "Cost sensitive", "Oversampling", "SMOTE", "Pre-training"};
    static const double gammas[7] = {0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0};
    for (int d = 0; d < 2; d++)
        for (int g = 0; g < 7; g++)
            for (int m = 0; m < 5; m++) {
                const char *arm = m == 4 ? "pretrained" : "scratch";
                double total = ours(runs, n, datasets[d], "imbalance", methods[m], arm, gammas[g], "error");
                if (isnan(total) && g > 0)
                    continue; /* gamma 0.2 rows always (the paper's), others when they ran */
                char label[32];
                snprintf(label, sizeof label, "%s g=%g", datasets[d], gammas[g]);
                trow *r = row(t, label, names[m]);
                if (!r)
                    return;
                r->v[0] = total;
                r->v[1] = ours(runs, n, datasets[d], "imbalance", methods[m], arm, gammas[g], "minority_error");
                if (g == 0 && (m == 0 || m == 4)) {
                    r->v[2] = rcl_paper.imbalance[d][m == 4][0];
                    r->v[3] = rcl_paper.imbalance[d][m == 4][1];
                }
            }
    t->note = "test error %, total and minority classes; the paper's values at gamma = 0.2";
}

/* ---- Table 3: adversarial robustness (PGD-20, paper mode) ---- */

static void table3(table *t, const rcl_run_result *runs, int n) {
    static const char *const methods[4] = {"normal", "pgd", "pgd", "pgd-last-layer"};
    static const char *const arms[4] = {"scratch", "scratch", "pretrained", "pretrained"};
    static const char *const names[4] = {"Normal training", "Adversarial training", "Adv. pre-training + tuning",
                                         "Tuning only the last layer"};
    for (int d = 0; d < 2; d++)
        for (int m = 0; m < 4; m++) {
            trow *r = row(t, datasets[d], names[m]);
            if (!r)
                return;
            r->v[0] = ours(runs, n, datasets[d], "adversarial", methods[m], arms[m], 8, "clean_accuracy");
            r->v[1] = ours(runs, n, datasets[d], "adversarial", methods[m], arms[m], 8, "adversarial_accuracy");
            r->v[2] = ours(runs, n, datasets[d], "adversarial", methods[m], arms[m], 8, "autoattack");
            r->v[3] = rcl_paper.adversarial[d][m][0];
            r->v[4] = rcl_paper.adversarial[d][m][1];
        }
    t->note = "accuracy %: clean and under PGD-20 (eps 8/255, paper mode: perturbations reach 2 eps); AutoAttack: "
              "AutoAttack robust accuracy (%): APGD-CE, APGD-T, FAB-T and Square, eps 8/255, on the first "
              "--autoattack-n test images (spec 7.4; '-' when off); the paper reports PGD only. For context, RobustBench lists this paper's adversarially pre-trained "
              "WRN-28-10 on CIFAR-10 at 54.92% AutoAttack";
}

/* ---- Tables 4 and 5: OOD detection and calibration of the clean runs ---- */

static void table_clean(table *t, const rcl_run_result *runs, int n, const char *key0, const char *key1,
                        const double paper[2][2][2]) { /* rcl_paper.ood or .calibration */
    for (int d = 0; d < 2; d++)
        for (int arm = 0; arm < 2; arm++) {
            trow *r = row(t, datasets[d], arm ? "Pre-training" : "Normal");
            if (!r)
                return;
            const char *a = arm ? "pretrained" : "scratch";
            r->v[0] = ours(runs, n, datasets[d], "clean", "normal", a, 0, key0);
            r->v[1] = paper[d][arm][0];
            r->v[2] = ours(runs, n, datasets[d], "clean", "normal", a, 0, key1);
            r->v[3] = paper[d][arm][1];
        }
}

/* The clean runs' mean corruption error on the released CIFAR-10-C / CIFAR-100-C (spec §12); the
 * paper reports none. */
static void table_corruptions(table *t, const rcl_run_result *runs, int n) {
    for (int d = 0; d < 2; d++)
        for (int arm = 0; arm < 2; arm++) {
            trow *r = row(t, datasets[d], arm ? "Pre-training" : "Normal");
            if (r)
                r->v[0] = ours(runs, n, datasets[d], "clean", "normal", arm ? "pretrained" : "scratch", 0, "mce");
        }
}

static void table_pretrain(table *t, const rcl_run_result *runs, int n) {
    static const char *const ids[2] = {"pretrain", "pretrain-adv"};
    static const char *const names[2] = {"WRN (clean)", "WRN (PGD-10 adversarial)"};
    for (int a = 0; a < 2; a++) {
        trow *r = row(t, "imagenet32", names[a]);
        for (int i = 0; r && i < n; i++)
            if (!strcmp(runs[i].id, ids[a]))
                r->v[0] = rcl_run_get(&runs[i], "error", NAN);
        if (r)
            r->v[1] = rcl_paper.pretrain_error[a];
    }
    t->note = "ImageNet32 validation top-1 error %, clean images";
}

static int build(table *t, const rcl_run_result *runs, int n) {
    static const struct {
        const char *key, *title, *note, *labels[2], *cols[5];
        int nval;
    } defs[RCL_PAPER_TABLES] = {
        {"pretraining", "Pre-training", NULL, {"data", "model"}, {"error", "paper"}, 2},
        {"table1", "Table 1: label corruption, area under the error curve (%)", NULL, {"dataset", "method"},
         {"normal", "normal (paper)", "pre-trained", "pre-trained (paper)"}, 4},
        {"table2", "Table 2: class imbalance, test error (%)", NULL, {"dataset, gamma", "method"},
         {"total", "minority", "total (paper)", "minority (paper)"}, 4},
        {"table3", "Table 3: adversarial robustness, accuracy (%)", NULL, {"dataset", "training"},
         {"clean", "adversarial", "AutoAttack", "clean (paper)", "adversarial (paper)"}, 5},
        {"table4", "Table 4: OOD detection with MSP, mean over OOD sets (%)",
         "our OOD sets: Gaussian, Rademacher, Blobs (+ --ood); the paper's also include real ones",
         {"dataset", "training"}, {"AUROC", "AUROC (paper)", "AUPR", "AUPR (paper)"}, 4},
        {"table5", "Table 5: calibration error at T = 1, paper mode (%)",
         "RMS and MAD, adaptive bins of 100, last bin skipped (QUIRK)", {"dataset", "training"},
         {"RMS", "RMS (paper)", "MAD", "MAD (paper)"}, 4},
        {"corruptions", "Common corruptions: mean corruption error (%)",
         "the clean runs on DATA_ROOT/CIFAR-10-C and CIFAR-100-C, the released .npy files (spec 12), mean over the "
         "standard corruptions found of their errors at severities 1-5; '-' without the folder; every run's mce is "
         "in report.json's summary; the paper reports no corruption error", {"dataset", "training"}, {"mCE"}, 1},
    };
    for (int i = 0; i < RCL_PAPER_TABLES; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].key = defs[i].key, t[i].title = defs[i].title, t[i].note = defs[i].note, t[i].nval = defs[i].nval;
        t[i].labels[0] = defs[i].labels[0], t[i].labels[1] = defs[i].labels[1];
        for (int c = 0; c < defs[i].nval; c++)
            t[i].cols[c] = defs[i].cols[c];
    }
    table_pretrain(&t[0], runs, n);
    table1(&t[1], runs, n);
    table2(&t[2], runs, n);
    table3(&t[3], runs, n);
    table_clean(&t[4], runs, n, "auroc", "aupr", rcl_paper.ood);
    table_clean(&t[5], runs, n, "rms_paper", "mad_paper", rcl_paper.calibration);
    table_corruptions(&t[6], runs, n);
    return RCL_PAPER_TABLES;
}

/* ---- output ---- */

static void text(FILE *f, const table *t) {
    fprintf(f, "\n%s\n%-18s %-28s", t->title, t->labels[0], t->labels[1]);
    for (int c = 0; c < t->nval; c++)
        fprintf(f, " %20s", t->cols[c]);
    fputc('\n', f);
    for (int i = 0; i < t->n; i++) {
        fprintf(f, "%-18s %-28s", t->rows[i].label[0], t->rows[i].label[1]);
        for (int c = 0; c < t->nval; c++)
            if (isnan(t->rows[i].v[c]))
                fprintf(f, " %20s", "-");
            else
                fprintf(f, " %20.2f", t->rows[i].v[c]);
        fputc('\n', f);
    }
    if (t->note)
        fprintf(f, "(%s)\n", t->note);
}

static void json_table(rcl_json_writer *w, const table *t) {
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "key"), rcl_jw_string(w, t->key);
    rcl_jw_key(w, "title"), rcl_jw_string(w, t->title);
    if (t->note)
        rcl_jw_key(w, "note"), rcl_jw_string(w, t->note);
    rcl_jw_key(w, "columns");
    rcl_jw_begin_array(w);
    rcl_jw_string(w, t->labels[0]), rcl_jw_string(w, t->labels[1]);
    for (int c = 0; c < t->nval; c++)
        rcl_jw_string(w, t->cols[c]);
    rcl_jw_end_array(w);
    rcl_jw_key(w, "rows");
    rcl_jw_begin_array(w);
    for (int i = 0; i < t->n; i++) {
        rcl_jw_begin_array(w);
        rcl_jw_string(w, t->rows[i].label[0]), rcl_jw_string(w, t->rows[i].label[1]);
        for (int c = 0; c < t->nval; c++)
            if (isnan(t->rows[i].v[c]))
                rcl_jw_raw(w, "null");
            else
                rcl_jw_number(w, t->rows[i].v[c]);
        rcl_jw_end_array(w);
    }
    rcl_jw_end_array(w);
    rcl_jw_end_object(w);
}

static void html_table(FILE *f, const table *t) {
    fprintf(f, "<h2>");
    rcl_html_escape(f, t->title);
    fprintf(f, "</h2>\n<table>\n<tr><th>");
    rcl_html_escape(f, t->labels[0]);
    fprintf(f, "</th><th>");
    rcl_html_escape(f, t->labels[1]);
    fprintf(f, "</th>");
    for (int c = 0; c < t->nval; c++) {
        fprintf(f, "<th%s>", strstr(t->cols[c], "(paper)") ? " class='paper'" : "");
        rcl_html_escape(f, t->cols[c]);
        fprintf(f, "</th>");
    }
    fprintf(f, "</tr>\n");
    for (int i = 0; i < t->n; i++) {
        fprintf(f, "<tr><td>");
        rcl_html_escape(f, t->rows[i].label[0]);
        fprintf(f, "</td><td>");
        rcl_html_escape(f, t->rows[i].label[1]);
        fprintf(f, "</td>");
        for (int c = 0; c < t->nval; c++) {
            const char *cls = strstr(t->cols[c], "(paper)") ? " class='paper'" : "";
            if (isnan(t->rows[i].v[c]))
                fprintf(f, "<td%s>-</td>", cls);
            else
                fprintf(f, "<td%s>%.2f</td>", cls, t->rows[i].v[c]);
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
    if (t->note) {
        fprintf(f, "<p class='note'>");
        rcl_html_escape(f, t->note);
        fprintf(f, "</p>\n");
    }
}

static rcl_status write_json(const char *path, const char *self, const table *t, int nt, const rcl_run_result *runs,
                             int n) {
    rcl_json_writer w; /* in memory, then written atomically */
    rcl_jw_init(&w, NULL, 1);
    rcl_jw_begin_object(&w);
    rcl_jw_key(&w, "suite"), rcl_jw_string(&w, "paper");
    rcl_jw_key(&w, "modes"), rcl_jw_string(&w, "paper (spec quirks as in the official code)");
    rcl_jw_key(&w, "stages"), rcl_jw_int(&w, n);
    rcl_jw_key(&w, "tables");
    rcl_jw_begin_array(&w);
    for (int i = 0; i < nt; i++)
        json_table(&w, &t[i]);
    rcl_jw_end_array(&w);
    return rcl_report_json_close(&w, path, self, runs, n);
}

static rcl_status write_html(const char *path, const char *self, const table *t, int nt, const rcl_run_result *runs,
                             int n) {
    rcl_text_out out;
    RCL_TRY(rcl_text_open(&out, path));
    FILE *f = out.f;
    fprintf(f, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>robustcl suite paper</title>\n"
               "<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
               "td,th{border:1px solid #bbb;padding:2px 8px;text-align:right}"
               "td:first-child,td:nth-child(2),th:first-child,th:nth-child(2){text-align:left}"
               ".paper{background:#eef3fb;color:#345}.note{color:#555;font-size:90%%}</style>"
               "</head><body>\n<h1>Hendrycks, Lee &amp; Mazeika (2019): our numbers beside the paper's</h1>\n"
               "<p>%d stage results; paper mode for every QUIRK; shaded columns are the paper's values, "
               "'-' a run that has not been collected or a value the paper does not give.</p>\n", n);
    for (int i = 0; i < nt; i++)
        html_table(f, &t[i]);
    rcl_report_provenance_html(f, self, runs, n);
    fprintf(f, "</body></html>\n");
    return rcl_text_commit(&out, path);
}

rcl_status rcl_report_paper(const char *out_dir, const char *self, const rcl_run_result *runs, int n, FILE *f) {
    table *t = malloc(RCL_PAPER_TABLES * sizeof *t);
    if (!t)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    int nt = build(t, runs, n);
    char path[4200];
    snprintf(path, sizeof path, "%s/report.json", out_dir);
    rcl_status s = write_json(path, self, t, nt, runs, n);
    snprintf(path, sizeof path, "%s/report.html", out_dir);
    if (s == RCL_OK)
        s = write_html(path, self, t, nt, runs, n);
    for (int i = 0; f && s == RCL_OK && i < nt; i++)
        text(f, &t[i]);
    free(t);
    return s;
}

rcl_status rcl_suite_report(const rcl_run_config *run, const char *const *dirs, int ndirs, const char *out_dir,
                            FILE *table) {
    rcl_run_result *runs;
    int n;
    RCL_TRY(rcl_stage_collect(dirs, ndirs, &runs, &n));
    rcl_report_provenance_warn(runs, n);
    char *self = rcl_report_provenance_text(run, NULL, NULL, NULL, 0);
    rcl_status s = self ? rcl_mkdirs(out_dir) : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    if (s == RCL_OK)
        s = rcl_report_paper(out_dir, self, runs, n, table);
    free(self);
    for (int i = 0; i < n; i++)
        rcl_run_free(&runs[i]);
    free(runs);
    return s;
}
