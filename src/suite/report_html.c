/* report.html: one self-contained page (inline SVG, no scripts, no external
 * files) with the headline, the grid, the plots (means and spreads over seeds)
 * and the scratch-vs-pre-trained table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "robustcl/evaluate.h"
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

/* A mean curve over seeds: line, a marker at every `every`-th point, and its sample std (bars, or
 * a band for dense curves). */
static void mean_curve(rcl_svg_plot *p, const double *x, const double *y, const double *sd, int n, int every,
                       const char *color, int dashed) {
    if (every == 1)
        rcl_svg_error_bars(p, x, y, sd, n, color);
    else
        rcl_svg_band(p, x, y, sd, n, color);
    rcl_svg_polyline(p, x, y, n, color, dashed);
    rcl_svg_markers(p, x, y, n, every, color);
}

/* Bars of both arms per category, each with its spread over seeds. */
static void arm_bars(rcl_svg_plot *p, double mean[2][64], double sd[2][64], int k) {
    for (int a = 0; a < 2; a++)
        for (int i = 0; i < k; i++) {
            double x = i + 0.3 + 0.4 * a;
            rcl_svg_bar(p, x - 0.2, 0.4, mean[a][i], arm_color[a]);
            rcl_svg_error_bars(p, &x, &mean[a][i], &sd[a][i], 1, "#333");
        }
}

static int is_noise_error(const rcl_summary_row *r, const char *method) {
    return !strcmp(r->metric, "error") && !r->dataset[0] && (!method || !strcmp(r->method, method)) &&
           (!strcmp(r->experiment, "noise") || (!strcmp(r->experiment, "clean") && !strcmp(r->method, "normal")));
}

/* Error against corruption strength (the clean run stands for s = 0), per method and arm. */
static void plot_noise(FILE *f, const rcl_summary_row *rows, int nr) {
    const char *methods[8];
    int nm = 0;
    double smax = 0, emax = 0;
    for (int i = 0; i < nr; i++) {
        if (!is_noise_error(&rows[i], NULL))
            continue;
        int seen = 0;
        for (int j = 0; j < nm; j++)
            seen |= !strcmp(methods[j], rows[i].method);
        if (!seen && nm < 8)
            methods[nm++] = rows[i].method;
        smax = fmax(smax, rows[i].setting);
        for (int a = 0; a < 2; a++)
            if (!isnan(rows[i].mean[a]))
                emax = fmax(emax, rows[i].mean[a] + (isnan(rows[i].std[a]) ? 0 : rows[i].std[a]));
    }
    if (nm == 0 || smax == 0)
        return;
    static const char *dash_colors[4] = {"#7570b3", "#e7298a", "#66a61e", "#e6ab02"};
    rcl_svg_plot p;
    rcl_svg_begin(&p, f, "Test error vs label corruption", "corruption strength s", "test error (%), mean ± std",
                  0, smax, 0, ceil(emax / 10 + 0.01) * 10, 0);
    p.legend_bottom = 1;
    int li = 0;
    for (int mi = 0; mi < nm; mi++)
        for (int a = 0; a < 2; a++) {
            double x[64], y[64], sd[64];
            int k = 0;
            for (int i = 0; i < nr && k < 64; i++)
                if (is_noise_error(&rows[i], methods[mi]))
                    x[k] = rows[i].setting, y[k] = rows[i].mean[a], sd[k++] = rows[i].std[a];
            for (int i = 1; i < k; i++) /* by strength */
                for (int j = i; j > 0 && x[j] < x[j - 1]; j--) {
                    double t = x[j];
                    x[j] = x[j - 1], x[j - 1] = t;
                    t = y[j], y[j] = y[j - 1], y[j - 1] = t;
                    t = sd[j], sd[j] = sd[j - 1], sd[j - 1] = t;
                }
            const char *color = nm == 1 ? arm_color[a] : dash_colors[mi % 4];
            mean_curve(&p, x, y, sd, k, 1, color, a == 0);
            char text[64];
            snprintf(text, sizeof text, "%s, %s", methods[mi], a ? "pre-trained" : "scratch (dashed)");
            rcl_svg_legend(&p, li++, color, text, a == 0);
        }
    rcl_svg_end(&p);
}

/* One plot per imbalance profile that ran: experiment "imbalance" (gamma) or "imbalance-exp" (rho), at
 * its first setting. */
static void plot_per_class(FILE *f, const rcl_run_result *runs, int n, const char *experiment) {
    const rcl_run_result *first = first_run(runs, n, experiment, "normal", "scratch");
    double mean[2][64], sd[2][64], ymax = 0, m, s;
    int k = 0;
    for (int a = 0; first && a < 2; a++) {
        int ka = rcl_report_series_stat(runs, n, experiment, "normal", a ? "pretrained" : "scratch", first->setting,
                                        "per_class_error", NULL, mean[a], sd[a], 64);
        k = a ? (ka < k ? ka : k) : ka;
        for (int i = 0; i < ka; i++)
            ymax = fmax(ymax, mean[a][i] + (isnan(sd[a][i]) ? 0 : sd[a][i]));
    }
    if (k == 0)
        return;
    int seeds = rcl_report_stat(runs, n, "", experiment, "normal", "scratch", first->setting, "error", &m, &s);
    rcl_svg_plot p;
    char title[128];
    snprintf(title, sizeof title, "Per-class error, %s %g (%d seed%s)",
             strcmp(experiment, "imbalance") ? "CIFAR-LT rho" : "gamma", first->setting, seeds, seeds == 1 ? "" : "s");
    rcl_svg_begin(&p, f, title, "class (0 = largest)", "test error (%), mean ± std", 0, k, 0,
                  ceil(ymax / 10 + 0.01) * 10, k);
    rcl_svg_category_ticks(&p, k, NULL);
    arm_bars(&p, mean, sd, k);
    rcl_svg_legend(&p, 0, arm_color[0], "scratch", 0);
    rcl_svg_legend(&p, 1, arm_color[1], "pre-trained", 0);
    rcl_svg_end(&p);
}

/* Clean and PGD accuracy, and AutoAttack's robust accuracy when the row ran. */
static void plot_adversarial(FILE *f, const rcl_summary_row *rows, int nr) {
    static const char *const metrics[3] = {"clean_accuracy", "adversarial_accuracy", "autoattack"};
    double v[2][64] = {{NAN, NAN, NAN}, {NAN, NAN, NAN}}, sd[2][64] = {{NAN, NAN, NAN}, {NAN, NAN, NAN}};
    int k = 2;
    for (int i = 0; i < nr; i++) {
        if (strcmp(rows[i].experiment, "adversarial") || rows[i].dataset[0])
            continue;
        for (int which = 0; which < 3; which++)
            if (!strcmp(rows[i].metric, metrics[which])) {
                for (int a = 0; a < 2; a++)
                    v[a][which] = rows[i].mean[a], sd[a][which] = rows[i].std[a];
                k = which == 2 ? 3 : k;
            }
    }
    if (isnan(v[0][0]) && isnan(v[1][0]))
        return;
    rcl_svg_plot p;
    static const char *const cats[3] = {"clean", "adversarial (PGD)", "AutoAttack"};
    rcl_svg_begin(&p, f, "Clean vs adversarial accuracy", "test inputs", "accuracy (%), mean ± std", 0, k, 0, 100,
                  k);
    rcl_svg_category_ticks(&p, k, cats);
    arm_bars(&p, v, sd, k);
    rcl_svg_legend(&p, 0, arm_color[0], "adversarial training from scratch", 0);
    rcl_svg_legend(&p, 1, arm_color[1], "adversarial pre-training + fine-tuning", 0);
    rcl_svg_end(&p);
}

/* The ROC of one OOD set: per arm, the mean TPR over seeds at each FPR of the grid, +- its std. */
static void plot_roc_set(FILE *f, const rcl_run_result *runs, int n, const char *experiment, const char *set) {
    char fname[64], tname[64], key[64], title[160], text[96];
    snprintf(fname, sizeof fname, "roc_%s_fpr", set);
    snprintf(tname, sizeof tname, "roc_%s_tpr", set);
    snprintf(key, sizeof key, "auroc_%s", set);
    double au[2], au_sd[2];
    int seeds = 0;
    for (int a = 0; a < 2; a++)
        seeds = rcl_report_stat(runs, n, "", experiment, "normal", a ? "pretrained" : "scratch", 0, key, &au[a], &au_sd[a]);
    snprintf(title, sizeof title, "ROC, %s (%s, %d seed%s)%s", set, experiment, seeds, seeds == 1 ? "" : "s",
             au[0] < 50 || au[1] < 50 ? ": below chance" : "");
    rcl_svg_plot p;
    rcl_svg_begin(&p, f, title, "false positive rate", "true positive rate, mean ± std", 0, 1, 0, 1, 0);
    p.legend_bottom = 1;
    double diag[2] = {0, 1};
    rcl_svg_polyline(&p, diag, diag, 2, "#bbb", 1);
    for (int a = 0; a < 2; a++) {
        const char *arm = a ? "pretrained" : "scratch";
        double x[RCL_ROC_GRID], sx[RCL_ROC_GRID], y[RCL_ROC_GRID], sy[RCL_ROC_GRID];
        int kx = rcl_report_series_stat(runs, n, experiment, "normal", arm, 0, fname, NULL, x, sx, RCL_ROC_GRID);
        int ky = rcl_report_series_stat(runs, n, experiment, "normal", arm, 0, tname, NULL, y, sy, RCL_ROC_GRID);
        mean_curve(&p, x, y, sy, kx < ky ? kx : ky, 10, arm_color[a], 0);
        snprintf(text, sizeof text, "%s (AUROC %.1f ± %.1f%%)", a ? "pre-trained" : "scratch", au[a], au_sd[a]);
        rcl_svg_legend(&p, a, arm_color[a], text, 0);
    }
    rcl_svg_end(&p);
}

static void plot_roc(FILE *f, const rcl_run_result *runs, int n) {
    const char *experiment = rcl_report_uncertainty_experiment(runs, n);
    const rcl_run_result *r = first_run(runs, n, experiment, "normal", "scratch");
    for (int i = 0; r && i < r->nseries; i++) {
        const char *name = r->series[i].name;
        size_t len = strlen(name);
        if (strncmp(name, "roc_", 4) || len < 8 || strcmp(name + len - 4, "_fpr"))
            continue;
        char set[48];
        snprintf(set, sizeof set, "%.*s", (int)(len - 8), name + 4);
        plot_roc_set(f, runs, n, experiment, set);
    }
}

/* Per arm: each confidence bin's accuracy, mean over the seeds with images in it, +- its std. */
static void plot_reliability(FILE *f, const rcl_run_result *runs, int n) {
    const char *experiment = rcl_report_uncertainty_experiment(runs, n);
    for (int a = 0; a < 2; a++) {
        const char *arm = a ? "pretrained" : "scratch";
        double acc[64], sd[64], x[64], rms, rms_sd;
        int k = rcl_report_series_stat(runs, n, experiment, "normal", arm, 0, "reliability_accuracy",
                                       "reliability_count", acc, sd, 64);
        int seeds = rcl_report_stat(runs, n, "", experiment, "normal", arm, 0, "rms", &rms, &rms_sd);
        if (k == 0)
            continue;
        rcl_svg_plot p;
        char title[160];
        char text[96];
        snprintf(title, sizeof title, "Reliability, %s, %s (%d seed%s)", experiment, a ? "pre-trained" : "scratch",
                 seeds, seeds == 1 ? "" : "s");
        snprintf(text, sizeof text, "accuracy per confidence bin (RMS %.1f ± %.1f%%)", rms, rms_sd);
        rcl_svg_begin(&p, f, title, "confidence", "accuracy, mean ± std", 0, 1, 0, 1, 0);
        double diag[2] = {0, 1};
        rcl_svg_polyline(&p, diag, diag, 2, "#bbb", 1);
        for (int i = 0; i < k; i++) {
            x[i] = (i + 0.5) / k;
            rcl_svg_bar(&p, i / (double)k + 0.01, 1.0 / k - 0.02, acc[i], arm_color[a]);
        }
        rcl_svg_error_bars(&p, x, acc, sd, k, "#333");
        rcl_svg_legend(&p, 0, arm_color[a], text, 0);
        rcl_svg_legend(&p, 1, "#bbb", "perfect calibration", 1);
        rcl_svg_end(&p);
    }
}

static const char *status_color(const char *status) {
    return !strcmp(status, "reproduces here") || !strcmp(status, "helps")   ? "#1b7a1b"
           : !strcmp(status, "disagrees") || !strcmp(status, "hurts") ? "#b22222"
                                                                       : "#666";
}

static void html_headline(FILE *f, const rcl_summary_row *rows, int nr) {
    rcl_headline h[RCL_HEADLINES];
    rcl_report_headline(rows, nr, h);
    fprintf(f, "<h2>Does pre-training help here?</h2>\n<p>The paper's five findings and the clean error, one "
               "representative row each: scratch &rarr; pre-trained (pre &minus; scratch &plusmn; its standard "
               "error); <i>reproduces here</i> when pre-training helps beyond the seed spread (paired t-test, "
               "95%%); paper: its direction and CIFAR-10 numbers, normal &rarr; pre-trained.</p>\n<ul>\n");
    for (int i = 0; i < RCL_HEADLINES; i++) {
        char line[512];
        rcl_headline_text(&h[i], line, sizeof line);
        fprintf(f, "<li style='color:%s'>", status_color(h[i].status));
        rcl_html_escape(f, line);
        fprintf(f, "</li>\n");
    }
    fprintf(f, "</ul>\n<p>");
    rcl_html_escape(f, rcl_report_scale_note);
    fprintf(f, "</p>\n");
}

static void html_cell(FILE *f, double mean, double std, int n) {
    if (!n || isnan(mean))
        fprintf(f, "<td>-</td>");
    else if (n == 1)
        fprintf(f, "<td>%.2f (n = 1)</td>", mean);
    else
        fprintf(f, "<td>%.2f &plusmn; %.2f</td>", mean, std);
}

static void html_row(FILE *f, const rcl_summary_row *r) {
    fprintf(f, "<tr><td class='l'>");
    rcl_html_escape(f, r->experiment);
    fprintf(f, "</td><td class='l'>");
    rcl_html_escape(f, r->method);
    if (r->setting < 0)
        fprintf(f, "</td><td>all</td><td class='l'>");
    else
        fprintf(f, "</td><td>%g</td><td class='l'>", r->setting);
    rcl_html_escape(f, r->metric);
    if (rcl_summary_below_chance(r))
        fprintf(f, " <b style='color:#b22222'>below chance</b>");
    fprintf(f, "</td>");
    html_cell(f, r->mean[0], r->std[0], r->n[0]);
    html_cell(f, r->mean[1], r->std[1], r->n[1]);
    if (r->npaired == 0 || isnan(r->diff))
        fprintf(f, "<td>-</td>");
    else if (r->npaired == 1)
        fprintf(f, "<td>%+.2f</td>", r->diff);
    else
        fprintf(f, "<td>%+.2f &plusmn; %.2f</td>", r->diff, r->diff_se);
    char paper[96];
    rcl_paper_text(&r->paper, paper, sizeof paper);
    fprintf(f, "<td class='l' style='color:%s'>%s</td><td class='l'>%s</td><td class='l'>%s</td></tr>\n",
            status_color(rcl_verdict_text(r)), rcl_verdict_text(r), rcl_verdict_vs_paper(r), paper);
}

static void html_table(FILE *f, const rcl_run_result *runs, int n, const rcl_summary_row *rows, int nr) {
    int below = 0;
    fprintf(f, "<h2>Summary</h2>\n<p>Percent. Each arm: mean &plusmn; sample std over seeds "
               "(one seed: n = 1). <b>pre &minus; scratch</b>: mean &plusmn; standard error of the per-seed "
               "differences (the two arms of a seed train on the same target subset). <b>pre-training here</b>: "
               "<i>helps</i> or <i>hurts</i> when the difference is beyond its spread (paired t-test, 95%%), "
               "else <i>no measurable difference</i>. <b>vs paper</b>: whether that agrees with the paper's finding "
               "that pre-training helps, on the metrics where it reports one; <b>paper</b>: its direction and "
               "CIFAR-10 numbers, normal &rarr; pre-trained.</p>\n<table>\n"
               "<tr><th class='l'>experiment</th><th class='l'>method</th><th>setting</th><th class='l'>metric</th>"
               "<th>scratch</th><th>pre-trained</th><th>pre &minus; scratch</th><th class='l'>pre-training here</th>"
               "<th class='l'>vs paper</th><th class='l'>paper (CIFAR-10)</th></tr>\n");
    for (int i = 0; i < nr; i++) {
        char recipe[160];
        if (rcl_report_group_recipe(runs, n, rows, i, recipe, sizeof recipe))
            fprintf(f, "<tr><td class='l' colspan='10'><i>%s</i></td></tr>\n", recipe);
        html_row(f, &rows[i]);
        below |= rcl_summary_below_chance(&rows[i]);
    }
    fprintf(f, "</table>\n");
    if (rcl_report_has_metric(rows, nr, "mce")) {
        fprintf(f, "<p class='corruption'>");
        rcl_html_escape(f, rcl_report_corruption_note);
        fprintf(f, "</p>\n");
    }
    if (rcl_report_has_metric(rows, nr, "autoattack")) {
        fprintf(f, "<p class='autoattack'>");
        rcl_html_escape(f, rcl_report_autoattack_note);
        fprintf(f, "</p>\n");
    }
    if (below)
        fprintf(f, "<p><b style='color:#b22222'>below chance</b>: AUROC under 50, the detector ranks this OOD set "
                   "as more in-distribution than the test set.</p>\n");
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
    fprintf(f, "<h1>robustcl suite: scratch vs pre-trained</h1>\n");
    html_headline(f, rows, nr);
    fprintf(f, "<h2>Grid</h2>\n<pre>");
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
    fprintf(f, "</div>\n");
    html_table(f, runs, n, rows, nr);
    fprintf(f, "<p>Calibration metrics are in textbook mode (all bins); <code>rms_paper</code>/"
               "<code>mad_paper</code> give the paper-mode values (last bin skipped, spec §9). ");
    rcl_html_escape(f, rcl_report_calibration_note);
    fprintf(f, " Forward's estimate of the corruption matrix runs in paper mode (spec §5). OOD: MSP score, "
               "5 draws of test-size/5 per set (spec §8).</p>\n");
    rcl_report_provenance_html(f, self, runs, n);
    fprintf(f, "</body></html>\n");
    free(rows);
    return rcl_text_commit(&out, path);
}
