/* report.html: one self-contained page (inline SVG, no scripts, no external
 * files) with the grid, the scratch-vs-pre-trained table and the plots. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "report_provenance.h"
#include "suite_internal.h"
#include "svg_plot.h"

static const char *arm_color[2] = {"#d95f02", "#1b9e77"}; /* scratch, pre-trained */



static const rcl_run_result *first_run(const rcl_run_result *runs, int n, const char *experiment, const char *method,
                                       const char *arm) {
    for (int i = 0; i < n; i++)
        if (!strcmp(runs[i].experiment, experiment) && !strcmp(runs[i].method, method) && !strcmp(runs[i].arm, arm))
            return &runs[i];
    return NULL;
}

/* Error (mean over seeds) against corruption strength, per method and arm. */
static void plot_noise(FILE *f, const rcl_summary_row *rows, int nr) {
    const char *methods[8];
    int nm = 0;
    double smax = 0, emax = 0;
    for (int i = 0; i < nr; i++) {
        if (strcmp(rows[i].metric, "error") || (strcmp(rows[i].experiment, "noise") && strcmp(rows[i].experiment, "clean")))
            continue;
        int seen = 0;
        for (int j = 0; j < nm; j++)
            seen |= !strcmp(methods[j], rows[i].method);
        if (!seen && nm < 8)
            methods[nm++] = rows[i].method;
        smax = fmax(smax, rows[i].setting);
        for (int a = 0; a < 2; a++)
            if (!isnan(rows[i].mean[a]))
                emax = fmax(emax, rows[i].mean[a]);
    }
    if (nm == 0 || smax == 0)
        return;
    static const char *dash_colors[4] = {"#7570b3", "#e7298a", "#66a61e", "#e6ab02"};
    rcl_svg_plot p;
    rcl_svg_begin(&p, f, "Test error vs label corruption", "corruption strength s", "test error (%)", 0, smax, 0,
               ceil(emax / 10 + 0.01) * 10, 0);
    p.legend_bottom = 1;
    int li = 0;
    for (int mi = 0; mi < nm; mi++)
        for (int a = 0; a < 2; a++) {
            double x[64], y[64];
            int k = 0;
            for (int i = 0; i < nr && k < 64; i++)
                if (!strcmp(rows[i].metric, "error") && !strcmp(rows[i].method, methods[mi]) &&
                    (!strcmp(rows[i].experiment, "noise") ||
                     (!strcmp(rows[i].experiment, "clean") && !strcmp(methods[mi], "normal"))))
                    x[k] = rows[i].setting, y[k++] = rows[i].mean[a];
            for (int i = 1; i < k; i++) /* by strength */
                for (int j = i; j > 0 && x[j] < x[j - 1]; j--) {
                    double t = x[j];
                    x[j] = x[j - 1], x[j - 1] = t;
                    t = y[j], y[j] = y[j - 1], y[j - 1] = t;
                }
            const char *color = nm == 1 ? arm_color[a] : dash_colors[mi % 4];
            rcl_svg_polyline(&p, x, y, k, color, a == 0);
            char text[64];
            snprintf(text, sizeof text, "%s, %s", methods[mi], a ? "pre-trained" : "scratch (dashed)");
            rcl_svg_legend(&p, li++, color, text, a == 0);
        }
    rcl_svg_end(&p);
}

/* One plot per imbalance profile that ran: experiment "imbalance" (gamma) or "imbalance-exp" (rho). */
static void plot_per_class(FILE *f, const rcl_run_result *runs, int n, const char *experiment) {
    const rcl_run_result *r[2] = {first_run(runs, n, experiment, "normal", "scratch"),
                                  first_run(runs, n, experiment, "normal", "pretrained")};
    const rcl_series *s[2] = {r[0] ? rcl_run_find_series(r[0], "per_class_error") : NULL,
                              r[1] ? rcl_run_find_series(r[1], "per_class_error") : NULL};
    if (!s[0] || !s[1])
        return;
    int k = s[0]->n;
    double ymax = 0;
    for (int a = 0; a < 2; a++)
        for (int i = 0; i < s[a]->n; i++)
            ymax = fmax(ymax, s[a]->v[i]);
    rcl_svg_plot p;
    char title[96];
    snprintf(title, sizeof title, "Per-class error under imbalance (%s %g, seed %d)",
             strcmp(experiment, "imbalance") ? "CIFAR-LT rho" : "gamma", r[0]->setting, r[0]->seed);
    rcl_svg_begin(&p, f, title, "class (0 = largest)", "test error (%)", 0, k, 0, ceil(ymax / 10 + 0.01) * 10, k);
    rcl_svg_category_ticks(&p, k, NULL);
    for (int a = 0; a < 2; a++)
        for (int i = 0; i < k && i < s[a]->n; i++)
            rcl_svg_bar(&p, i + 0.1 + 0.4 * a, 0.4, s[a]->v[i], arm_color[a]);
    rcl_svg_legend(&p, 0, arm_color[0], "scratch", 0);
    rcl_svg_legend(&p, 1, arm_color[1], "pre-trained", 0);
    rcl_svg_end(&p);
}

static void plot_adversarial(FILE *f, const rcl_summary_row *rows, int nr) {
    double v[2][2] = {{NAN, NAN}, {NAN, NAN}};
    for (int i = 0; i < nr; i++) {
        if (strcmp(rows[i].experiment, "adversarial"))
            continue;
        int which = !strcmp(rows[i].metric, "clean_accuracy") ? 0 : !strcmp(rows[i].metric, "adversarial_accuracy") ? 1 : -1;
        if (which >= 0)
            for (int a = 0; a < 2; a++)
                v[a][which] = rows[i].mean[a];
    }
    if (isnan(v[0][0]) && isnan(v[1][0]))
        return;
    rcl_svg_plot p;
    static const char *const cats[2] = {"clean", "adversarial (PGD)"};
    rcl_svg_begin(&p, f, "Clean vs adversarial accuracy", "test inputs", "accuracy (%)", 0, 2, 0, 100, 2);
    rcl_svg_category_ticks(&p, 2, cats);
    for (int m = 0; m < 2; m++)
        for (int a = 0; a < 2; a++)
            rcl_svg_bar(&p, m + 0.1 + 0.4 * a, 0.4, v[a][m], arm_color[a]);
    rcl_svg_legend(&p, 0, arm_color[0], "adversarial training from scratch", 0);
    rcl_svg_legend(&p, 1, arm_color[1], "adversarial pre-training + fine-tuning", 0);
    rcl_svg_end(&p);
}

static void plot_roc(FILE *f, const rcl_run_result *runs, int n) {
    const rcl_run_result *r[2] = {first_run(runs, n, "clean", "normal", "scratch"),
                                  first_run(runs, n, "clean", "normal", "pretrained")};
    if (!r[0] || !r[1])
        return;
    for (int i = 0; i < r[0]->nseries; i++) {
        const char *name = r[0]->series[i].name;
        size_t len = strlen(name);
        if (strncmp(name, "roc_", 4) || len < 8 || strcmp(name + len - 4, "_fpr"))
            continue;
        char set[48], tname[56];
        snprintf(set, sizeof set, "%.*s", (int)(len - 8), name + 4);
        snprintf(tname, sizeof tname, "roc_%s_tpr", set);
        rcl_svg_plot p;
        char title[96];
        snprintf(title, sizeof title, "ROC, OOD set %s (seed %d)", set, r[0]->seed);
        rcl_svg_begin(&p, f, title, "false positive rate", "true positive rate", 0, 1, 0, 1, 0);
        p.legend_bottom = 1;
        double diag[2] = {0, 1};
        rcl_svg_polyline(&p, diag, diag, 2, "#bbb", 1);
        for (int a = 0; a < 2; a++) {
            const rcl_series *fx = rcl_run_find_series(r[a], name), *ty = rcl_run_find_series(r[a], tname);
            if (fx && ty)
                rcl_svg_polyline(&p, fx->v, ty->v, fx->n < ty->n ? fx->n : ty->n, arm_color[a], 0);
            char text[64], key[64];
            snprintf(key, sizeof key, "auroc_%s", set);
            snprintf(text, sizeof text, "%s (AUROC %.1f%%)", a ? "pre-trained" : "scratch", rcl_run_get(r[a], key, NAN));
            rcl_svg_legend(&p, a, arm_color[a], text, 0);
        }
        rcl_svg_end(&p);
    }
}

static void plot_reliability(FILE *f, const rcl_run_result *runs, int n) {
    for (int a = 0; a < 2; a++) {
        const rcl_run_result *r = first_run(runs, n, "clean", "normal", a ? "pretrained" : "scratch");
        const rcl_series *c = r ? rcl_run_find_series(r, "reliability_confidence") : NULL;
        const rcl_series *acc = r ? rcl_run_find_series(r, "reliability_accuracy") : NULL;
        const rcl_series *cnt = r ? rcl_run_find_series(r, "reliability_count") : NULL;
        if (!c || !acc || !cnt)
            continue;
        rcl_svg_plot p;
        char title[96];
        snprintf(title, sizeof title, "Reliability, %s (RMS %.1f%%, seed %d)", a ? "pre-trained" : "scratch",
                 rcl_run_get(r, "rms", NAN), r->seed);
        rcl_svg_begin(&p, f, title, "confidence", "accuracy", 0, 1, 0, 1, 0);
        double diag[2] = {0, 1};
        rcl_svg_polyline(&p, diag, diag, 2, "#bbb", 1);
        for (int i = 0; i < acc->n; i++)
            if (cnt->v[i] > 0)
                rcl_svg_bar(&p, i / (double)acc->n + 0.01, 1.0 / acc->n - 0.02, acc->v[i], arm_color[a]);
        rcl_svg_legend(&p, 0, arm_color[a], "accuracy per confidence bin", 0);
        rcl_svg_legend(&p, 1, "#bbb", "perfect calibration", 1);
        rcl_svg_end(&p);
    }
}

rcl_status rcl_report_html(const char *path, const rcl_suite_config *c, const char *self, const rcl_run_result *runs,
                           int n) {
    rcl_text_out out; /* in memory, then written atomically */
    RCL_TRY(rcl_text_open(&out, path));
    FILE *f = out.f;
    rcl_summary_row *rows;
    int nr = rcl_report_rows(runs, n, &rows);
    fprintf(f, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>robustcl suite report</title>\n"
               "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}table{border-collapse:collapse}"
               "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td.l,th.l{text-align:left}"
               "svg{margin:4px;border:1px solid #eee}pre{background:#f6f6f6;padding:8px;white-space:pre-wrap}</style></head><body>\n");
    fprintf(f, "<h1>robustcl suite: scratch vs pre-trained</h1>\n<h2>Grid</h2>\n<pre>");
    char *desc = NULL;
    size_t dlen = 0;
    FILE *mf = open_memstream(&desc, &dlen);
    if (mf) {
        rcl_suite_describe(c, mf);
        fclose(mf);
        rcl_html_escape(f, desc ? desc : "");
    }
    free(desc);
    fprintf(f, "</pre>\n<h2>Plots</h2>\n<div>\n");
    plot_noise(f, rows, nr);
    plot_per_class(f, runs, n, "imbalance");
    plot_per_class(f, runs, n, "imbalance-exp");
    plot_adversarial(f, rows, nr);
    plot_roc(f, runs, n);
    plot_reliability(f, runs, n);
    fprintf(f, "</div>\n<h2>Summary</h2>\n<p>Percent. Each arm: mean &plusmn; sample std over seeds "
               "(one seed: n = 1). <b>pre &minus; scratch</b>: mean &plusmn; standard error of the per-seed "
               "differences (the two arms of a seed train on the same target subset). <b>pre-training here</b>: "
               "<i>helps</i> or <i>hurts</i> when the difference is beyond its spread (paired t-test, 95%%), "
               "else <i>no measurable difference</i>. <b>paper</b>: whether that agrees with the paper's finding "
               "that pre-training helps, on the metrics where it reports one.</p>\n<table>\n"
               "<tr><th class='l'>experiment</th><th class='l'>method</th><th>setting</th><th class='l'>metric</th>"
               "<th>scratch</th><th>pre-trained</th><th>pre &minus; scratch</th><th class='l'>pre-training here</th>"
               "<th class='l'>paper</th></tr>\n");
    for (int i = 0; i < nr; i++) {
        const rcl_summary_row *r = &rows[i];
        fprintf(f, "<tr><td class='l'>");
        rcl_html_escape(f, r->experiment);
        fprintf(f, "</td><td class='l'>");
        rcl_html_escape(f, r->method);
        fprintf(f, "</td><td>");
        if (r->setting < 0)
            fprintf(f, "all");
        else
            fprintf(f, "%g", r->setting);
        fprintf(f, "</td><td class='l'>");
        rcl_html_escape(f, r->metric);
        fprintf(f, "</td>");
        for (int a = 0; a < 2; a++) {
            if (!r->n[a] || isnan(r->mean[a]))
                fprintf(f, "<td>-</td>");
            else if (r->n[a] == 1)
                fprintf(f, "<td>%.2f (n = 1)</td>", r->mean[a]);
            else
                fprintf(f, "<td>%.2f &plusmn; %.2f</td>", r->mean[a], r->std[a]);
        }
        if (r->npaired == 0 || isnan(r->diff))
            fprintf(f, "<td>-</td>");
        else if (r->npaired == 1)
            fprintf(f, "<td>%+.2f</td>", r->diff);
        else
            fprintf(f, "<td>%+.2f &plusmn; %.2f</td>", r->diff, r->diff_se);
        static const char *const color[] = {"#000", "#1b7a1b", "#b22222", "#666", "#666"};
        fprintf(f, "<td class='l' style='color:%s'>%s</td><td class='l'>%s</td></tr>\n", color[r->verdict],
                rcl_verdict_text(r), rcl_verdict_vs_paper(r));
    }
    fprintf(f, "</table>\n<p>Calibration metrics are in textbook mode (all bins); <code>rms_paper</code>/"
               "<code>mad_paper</code> give the paper-mode values (last bin skipped, spec §9). Forward's estimate "
               "of the corruption matrix runs in paper mode (spec §5). OOD: MSP score, "
               "5 draws of test-size/5 per set (spec §8).</p>\n");
    rcl_report_provenance_html(f, self, runs, n);
    fprintf(f, "</body></html>\n");
    free(rows);
    return rcl_text_commit(&out, path);
}
