/* report.html: one self-contained page (inline SVG, no scripts, no external
 * files) with the grid, the scratch-vs-pre-trained table and the plots. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "suite_internal.h"

#define W 420
#define H 280
#define ML 52 /* margins */
#define MR 14
#define MT 30
#define MB 40

static const char *arm_color[2] = {"#d95f02", "#1b9e77"}; /* scratch, pre-trained */

typedef struct {
    FILE *f;
    double x0, x1, y0, y1;
    int categories; /* > 0: the x axis counts categories (classes, bars): tick i at i + 0.5 */
    int legend_bottom; /* stack the legend up from the lower right, where curves rarely are */
} plot;

static double px(const plot *p, double x) { return ML + (x - p->x0) / (p->x1 - p->x0) * (W - ML - MR); }
static double py(const plot *p, double y) { return H - MB - (y - p->y0) / (p->y1 - p->y0) * (H - MT - MB); }

static void esc(FILE *f, const char *s) {
    for (; *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        default: fputc(*s, f);
        }
}

static void plot_begin(plot *p, FILE *f, const char *title, const char *xlabel, const char *ylabel, double x0,
                       double x1, double y0, double y1, int categories) {
    p->f = f, p->x0 = x0, p->x1 = x1 > x0 ? x1 : x0 + 1, p->y0 = y0, p->y1 = y1 > y0 ? y1 : y0 + 1;
    p->categories = categories;
    p->legend_bottom = 0;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d' role='img'>\n", W, H,
            W, H);
    fprintf(f, "<text x='%d' y='18' font-size='14' font-weight='bold'>", W / 2 - 150);
    esc(f, title);
    fprintf(f, "</text>\n<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#888'/>\n", ML, MT,
            W - ML - MR, H - MT - MB);
    for (int i = 0; i <= 4; i++) {
        double x = p->x0 + (p->x1 - p->x0) * i / 4, y = p->y0 + (p->y1 - p->y0) * i / 4;
        if (!p->categories)
            fprintf(f, "<text x='%.1f' y='%d' font-size='10' text-anchor='middle'>%.3g</text>\n", px(p, x),
                    H - MB + 14, x);
        fprintf(f, "<text x='%d' y='%.1f' font-size='10' text-anchor='end'>%.3g</text>\n", ML - 4, py(p, y) + 3, y);
        fprintf(f, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#eee'/>\n", ML, W - MR, py(p, y), py(p, y));
    }
    fprintf(f, "<text x='%d' y='%d' font-size='11' text-anchor='middle'>", (ML + W - MR) / 2, H - 6);
    esc(f, xlabel);
    fprintf(f, "</text>\n<text x='12' y='%d' font-size='11' text-anchor='middle' transform='rotate(-90 12 %d)'>",
            (MT + H - MB) / 2, (MT + H - MB) / 2);
    esc(f, ylabel);
    fprintf(f, "</text>\n");
}

/* Integer ticks under categories 0..n-1 (at most about 12 labels), or the given labels. */
static void category_ticks(plot *p, int n, const char *const *labels) {
    p->categories = n;
    int step = n > 12 ? (n + 11) / 12 : 1;
    for (int i = 0; i < n; i += step) {
        fprintf(p->f, "<text x='%.1f' y='%d' font-size='10' text-anchor='middle'>", px(p, i + 0.5), H - MB + 14);
        if (labels)
            esc(p->f, labels[i]);
        else
            fprintf(p->f, "%d", i);
        fprintf(p->f, "</text>\n");
    }
}

static void legend(plot *p, int i, const char *color, const char *text, int dashed) {
    int y = p->legend_bottom ? H - MB - 10 - 14 * i : MT + 12 + 14 * i;
    int x = p->legend_bottom ? W - MR - 190 : ML + 8;
    fprintf(p->f, "<line x1='%d' x2='%d' y1='%d' y2='%d' stroke='%s' stroke-width='2'%s/>", x, x + 18, y, y, color,
            dashed ? " stroke-dasharray='4 3'" : "");
    fprintf(p->f, "<text x='%d' y='%d' font-size='10'>", x + 22, y + 3);
    esc(p->f, text);
    fprintf(p->f, "</text>\n");
}

static void polyline(plot *p, const double *x, const double *y, int n, const char *color, int dashed) {
    fprintf(p->f, "<polyline fill='none' stroke='%s' stroke-width='2'%s points='", color,
            dashed ? " stroke-dasharray='4 3'" : "");
    for (int i = 0; i < n; i++)
        if (!isnan(x[i]) && !isnan(y[i]))
            fprintf(p->f, "%.1f,%.1f ", px(p, x[i]), py(p, y[i]));
    fprintf(p->f, "'/>\n");
}

static void bar(plot *p, double x, double width, double y, const char *color) {
    if (isnan(y))
        return;
    double top = py(p, y), bottom = py(p, p->y0);
    fprintf(p->f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'/>\n", px(p, x), top,
            px(p, x + width) - px(p, x), bottom - top, color);
}

static void plot_end(plot *p) { fprintf(p->f, "</svg>\n"); }

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
    plot p;
    plot_begin(&p, f, "Test error vs label corruption", "corruption strength s", "test error (%)", 0, smax, 0,
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
            polyline(&p, x, y, k, color, a == 0);
            char text[64];
            snprintf(text, sizeof text, "%s, %s", methods[mi], a ? "pre-trained" : "scratch (dashed)");
            legend(&p, li++, color, text, a == 0);
        }
    plot_end(&p);
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
    plot p;
    char title[96];
    snprintf(title, sizeof title, "Per-class error under imbalance (%s %g, seed %d)",
             strcmp(experiment, "imbalance") ? "CIFAR-LT rho" : "gamma", r[0]->setting, r[0]->seed);
    plot_begin(&p, f, title, "class (0 = largest)", "test error (%)", 0, k, 0, ceil(ymax / 10 + 0.01) * 10, k);
    category_ticks(&p, k, NULL);
    for (int a = 0; a < 2; a++)
        for (int i = 0; i < k && i < s[a]->n; i++)
            bar(&p, i + 0.1 + 0.4 * a, 0.4, s[a]->v[i], arm_color[a]);
    legend(&p, 0, arm_color[0], "scratch", 0);
    legend(&p, 1, arm_color[1], "pre-trained", 0);
    plot_end(&p);
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
    plot p;
    static const char *const cats[2] = {"clean", "adversarial (PGD)"};
    plot_begin(&p, f, "Clean vs adversarial accuracy", "test inputs", "accuracy (%)", 0, 2, 0, 100, 2);
    category_ticks(&p, 2, cats);
    for (int m = 0; m < 2; m++)
        for (int a = 0; a < 2; a++)
            bar(&p, m + 0.1 + 0.4 * a, 0.4, v[a][m], arm_color[a]);
    legend(&p, 0, arm_color[0], "adversarial training from scratch", 0);
    legend(&p, 1, arm_color[1], "adversarial pre-training + fine-tuning", 0);
    plot_end(&p);
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
        plot p;
        char title[96];
        snprintf(title, sizeof title, "ROC, OOD set %s (seed %d)", set, r[0]->seed);
        plot_begin(&p, f, title, "false positive rate", "true positive rate", 0, 1, 0, 1, 0);
        p.legend_bottom = 1;
        double diag[2] = {0, 1};
        polyline(&p, diag, diag, 2, "#bbb", 1);
        for (int a = 0; a < 2; a++) {
            const rcl_series *fx = rcl_run_find_series(r[a], name), *ty = rcl_run_find_series(r[a], tname);
            if (fx && ty)
                polyline(&p, fx->v, ty->v, fx->n < ty->n ? fx->n : ty->n, arm_color[a], 0);
            char text[64], key[64];
            snprintf(key, sizeof key, "auroc_%s", set);
            snprintf(text, sizeof text, "%s (AUROC %.1f%%)", a ? "pre-trained" : "scratch", rcl_run_get(r[a], key, NAN));
            legend(&p, a, arm_color[a], text, 0);
        }
        plot_end(&p);
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
        plot p;
        char title[96];
        snprintf(title, sizeof title, "Reliability, %s (RMS %.1f%%, seed %d)", a ? "pre-trained" : "scratch",
                 rcl_run_get(r, "rms", NAN), r->seed);
        plot_begin(&p, f, title, "confidence", "accuracy", 0, 1, 0, 1, 0);
        double diag[2] = {0, 1};
        polyline(&p, diag, diag, 2, "#bbb", 1);
        for (int i = 0; i < acc->n; i++)
            if (cnt->v[i] > 0)
                bar(&p, i / (double)acc->n + 0.01, 1.0 / acc->n - 0.02, acc->v[i], arm_color[a]);
        legend(&p, 0, arm_color[a], "accuracy per confidence bin", 0);
        legend(&p, 1, "#bbb", "perfect calibration", 1);
        plot_end(&p);
    }
}

rcl_status rcl_report_html(const char *path, const rcl_suite_config *c, const rcl_run_result *runs, int n) {
    FILE *f = fopen(path, "w");
    if (!f)
        return rcl_fail(RCL_ERR_IO, "%s: cannot create the report", path);
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
        esc(f, desc ? desc : "");
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
        esc(f, r->experiment);
        fprintf(f, "</td><td class='l'>");
        esc(f, r->method);
        fprintf(f, "</td><td>");
        if (r->setting < 0)
            fprintf(f, "all");
        else
            fprintf(f, "%g", r->setting);
        fprintf(f, "</td><td class='l'>");
        esc(f, r->metric);
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
               "<code>mad_paper</code> give the paper-mode values (last bin skipped, PROTOCOL 9). OOD: MSP score, "
               "5 draws of test-size/5 per set (PROTOCOL 8).</p>\n</body></html>\n");
    free(rows);
    if (fclose(f) != 0)
        return rcl_fail(RCL_ERR_IO, "%s: write failed", path);
    return RCL_OK;
}
