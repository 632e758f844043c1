/* The suite's summary (mean +- std over seeds, scratch vs pre-trained), as
 * JSON and as a terminal table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/metrics.h"
#include "core/fileio.h"
#include "report_provenance.h"
#include "suite_internal.h"

static int same(const rcl_run_result *r, const char *dataset, const char *experiment, const char *method,
                double setting) {
    return !strcmp(r->dataset, dataset) && !strcmp(r->experiment, experiment) && !strcmp(r->method, method) &&
           fabs(r->setting - setting) < 1e-9;
}

/* Mean and sample standard deviation (two passes: no cancellation) of the non-NaN v[0..n);
 * returns how many there are. */
static int mean_std(const double *v, int n, double *mean, double *std) {
    double sum = 0, sq = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i]))
            sum += v[i], k++;
    *mean = k ? sum / k : NAN;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i]))
            sq += (v[i] - *mean) * (v[i] - *mean);
    *std = k > 1 ? sqrt(sq / (k - 1)) : (k ? 0 : NAN);
    return k;
}

int rcl_report_stat(const rcl_run_result *runs, int n, const char *dataset, const char *experiment,
                    const char *method, const char *arm, double setting, const char *key, double *mean,
                    double *std) {
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    int k = 0;
    for (int i = 0; v && i < n; i++)
        if (same(&runs[i], dataset, experiment, method, setting) && !strcmp(runs[i].arm, arm))
            v[k++] = rcl_run_get(&runs[i], key, NAN);
    k = v ? mean_std(v, k, mean, std) : 0;
    if (!v)
        *mean = *std = NAN;
    free(v);
    return k;
}

static int mini_run(const rcl_run_result *r, const char *experiment, const char *method, const char *arm,
                    double setting) {
    return same(r, "", experiment, method, setting) && !strcmp(r->arm, arm);
}

/* Element j of a run's series, NaN where the run lacks it or its mask is zero there. */
static double series_at(const rcl_run_result *r, const char *name, const char *mask, int j) {
    const rcl_series *s = rcl_run_find_series(r, name), *m = mask ? rcl_run_find_series(r, mask) : NULL;
    if (!s || j >= s->n || (mask && (!m || j >= m->n || m->v[j] == 0)))
        return NAN;
    return s->v[j];
}

int rcl_report_series_stat(const rcl_run_result *runs, int n, const char *experiment, const char *method,
                           const char *arm, double setting, const char *name, const char *mask, double *mean,
                           double *std, int cap) {
    int len = 0;
    for (int i = 0; i < n; i++) {
        const rcl_series *s = mini_run(&runs[i], experiment, method, arm, setting) ? rcl_run_find_series(&runs[i], name)
                                                                                    : NULL;
        if (s && s->n > len)
            len = s->n < cap ? s->n : cap;
    }
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v)
        return 0;
    for (int j = 0; j < len; j++) {
        int k = 0;
        for (int i = 0; i < n; i++)
            if (mini_run(&runs[i], experiment, method, arm, setting) && rcl_run_find_series(&runs[i], name))
                v[k++] = series_at(&runs[i], name, mask, j);
        mean_std(v, k, &mean[j], &std[j]);
    }
    free(v);
    return len;
}

/* Not results: how long a run trained, and its recipe. */
static int skip_metric(const char *key) {
    return !strcmp(key, "train_seconds") || !strcmp(key, "steps") || !strcmp(key, "lr") ||
           !strcmp(key, "source_excluded");
}

#define MAX_SEEDS 64

/* +1 when a higher value is better, -1 when lower is, 0 for diagnostics without a direction. */
static int better_direction(const char *metric) {
    static const char *const higher[] = {"accuracy", "auroc", "aupr", "aurra", "autoattack"};
    static const char *const lower[] = {"error", "fpr95", "rms", "mad", "ece", "nll", "mce"};
    for (size_t i = 0; i < sizeof higher / sizeof higher[0]; i++)
        if (strstr(metric, higher[i]))
            return 1;
    for (size_t i = 0; i < sizeof lower / sizeof lower[0]; i++)
        if (strstr(metric, lower[i]))
            return -1;
    return 0;
}

/* Two-sided 95% critical value of Student's t with df degrees of freedom. */
static double t_critical(int df) {
    static const double t[] = {0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                               2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086};
    return df < 1 ? INFINITY : df <= 20 ? t[df] : df <= 30 ? 2.05 : 1.98;
}

/* Fills diff/diff_se/npaired from paired per-seed values, then the verdict. */
static void judge(rcl_summary_row *row, const double *pre, const double *scr, int nseeds) {
    double d[MAX_SEEDS], sd;
    for (int i = 0; i < nseeds && i < MAX_SEEDS; i++)
        d[i] = pre[i] - scr[i]; /* NaN unless both arms ran */
    int k = mean_std(d, nseeds < MAX_SEEDS ? nseeds : MAX_SEEDS, &row->diff, &sd);
    row->npaired = k;
    row->diff_se = k > 1 ? sd / sqrt(k) : NAN;
    row->better = better_direction(row->metric);
    row->paper = rcl_paper_claim_of(row->dataset, row->experiment, row->method, row->metric, row->setting);
    if (!row->better || k == 0)
        row->verdict = RCL_VERDICT_NONE;
    else if (k == 1)
        row->verdict = RCL_VERDICT_ONE_SEED;
    else if (fabs(row->diff) <= t_critical(k - 1) * row->diff_se || row->diff == 0)
        row->verdict = RCL_VERDICT_NO_DIFFERENCE;
    else
        row->verdict = row->diff * row->better > 0 ? RCL_VERDICT_HELPS : RCL_VERDICT_HURTS;
}

const char *rcl_verdict_text(const rcl_summary_row *r) {
    switch (r->verdict) {
    case RCL_VERDICT_HELPS: return "helps";
    case RCL_VERDICT_HURTS: return "hurts";
    case RCL_VERDICT_NO_DIFFERENCE: return "no measurable difference";
    case RCL_VERDICT_ONE_SEED:
        return r->diff == 0 ? "n = 1: equal" : r->diff * r->better > 0 ? "n = 1: better" : "n = 1: worse";
    default: return "";
    }
}

const char *rcl_verdict_vs_paper(const rcl_summary_row *r) {
    if (r->paper.direction != RCL_PAPER_HELPS)
        return "";
    switch (r->verdict) {
    case RCL_VERDICT_HELPS: return "agrees";
    case RCL_VERDICT_HURTS: return "disagrees";
    case RCL_VERDICT_NO_DIFFERENCE: return "not shown";
    case RCL_VERDICT_ONE_SEED: return "n = 1";
    default: return "";
    }
}


/* The value of key in the run of (dataset, experiment, method, arm, setting, seed) that has it,
 * or NaN. */
static double seed_value(const rcl_run_result *runs, int n, const rcl_summary_row *row, const char *arm, int seed) {
    for (int i = 0; i < n; i++)
        if (runs[i].seed == seed && same(&runs[i], row->dataset, row->experiment, row->method, row->setting) &&
            !strcmp(runs[i].arm, arm) && !isnan(rcl_run_get(&runs[i], row->metric, NAN)))
            return rcl_run_get(&runs[i], row->metric, NAN);
    return NAN;
}

static int seeds_of(const rcl_run_result *runs, int n, int *seeds) {
    int ns = 0;
    for (int i = 0; i < n; i++) {
        int f = 0;
        for (int j = 0; j < ns; j++)
            f |= seeds[j] == runs[i].seed;
        if (!f && ns < MAX_SEEDS)
            seeds[ns++] = runs[i].seed;
    }
    return ns;
}

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
        double per_seed[2][64];
        for (int arm = 0; arm < 2; arm++) {
            for (int si = 0; si < ns; si++) {
                double err[64], area;
                int ok = 1;
                for (int g = 0; g < ng; g++)
                    ok &= !isnan(err[g] = noise_error(runs, n, methods[mi], arm ? "pretrained" : "scratch", seeds[si], grid[g]));
                per_seed[arm][si] = ok && rcl_noise_error_area(grid, err, ng, &area) == RCL_OK ? area : NAN;
            }
            row.n[arm] = mean_std(per_seed[arm], ns, &row.mean[arm], &row.std[arm]);
        }
        judge(&row, per_seed[1], per_seed[0], ns);
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
    int cap = 64, nrows = 0, seeds[MAX_SEEDS];
    int nseeds = seeds_of(runs, n, seeds);
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
            double pre[MAX_SEEDS], scr[MAX_SEEDS];
            for (int si = 0; si < nseeds; si++) {
                pre[si] = seed_value(runs, n, row, "pretrained", seeds[si]);
                scr[si] = seed_value(runs, n, row, "scratch", seeds[si]);
            }
            judge(row, pre, scr, nseeds);
        }
    }
    add_area_rows(runs, n, &rows, &nrows, &cap);
    *out = rows;
    return nrows;
}

int rcl_summary_below_chance(const rcl_summary_row *r) {
    return !strncmp(r->metric, "auroc", 5) && (r->mean[0] < 50 || r->mean[1] < 50);
}

const char *rcl_report_uncertainty_experiment(const rcl_run_result *runs, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(runs[i].experiment, "uncertainty"))
            return "uncertainty";
    return "clean";
}

const char rcl_report_scale_note[] =
    "Mini scale: a WRN-10-1 (the default net) fine-tuned on tens to hundreds of 28x28 Fashion-MNIST images "
    "per target class after minutes of pre-training on tens of thousands of Fashion-MNIST images, where the "
    "paper pre-trains a WRN-40-2 for 100 epochs on 1.28 million Downsampled ImageNet images and trains on "
    "CIFAR's 50,000. An effect the paper reports may be smaller here or absent, a verdict covers this scale "
    "only, and the OOD sets are synthetic (Gaussian, Rademacher, Blobs, and any --ood), where most of the "
    "paper's are real images.";

const char rcl_report_corruption_note[] =
    "mce: the mean corruption error, the test error averaged over 5 severities of each standard common "
    "corruption the generator builds and then over the corruptions (spec 12), on corruptions generated from a "
    "fixed, seeded subset of the target test set (its size and seed are in the grid). Frost is left out: the "
    "suite has no frost photographs. Lower is better; the paper makes no claim on it.";

const char rcl_report_autoattack_note[] =
    "autoattack: AutoAttack robust accuracy (%): the test images (the first N of the target test set, N in the "
    "grid) that APGD-CE, APGD-T, FAB-T and Square at the PGD evaluation's eps all leave correctly classified "
    "(spec 7.4). "
    "autoattack_<attack>: the accuracy still robust after the attacks up to that one. Higher is better; the paper "
    "reports PGD only and makes no claim on it.";

int rcl_report_has_metric(const rcl_summary_row *rows, int nr, const char *metric) {
    for (int i = 0; i < nr; i++)
        if (!strcmp(rows[i].metric, metric))
            return 1;
    return 0;
}

const char rcl_report_calibration_note[] =
    "rms_paper and mad_paper skip the most confident bin of 100 test images and still divide by all N "
    "(spec 9.1, paper mode). A skipped bin whose mean confidence is off its accuracy by g changes RMS^2 by "
    "(100/N) g^2 and MAD by (100/N) g. At mini scale the nets are right on their 100 most confident test "
    "images at a confidence within about 1e-4 of 1, so rms_paper equals rms to about 1e-6 points and "
    "mad_paper equals mad to about 1e-4; the two modes part when the most confident images are wrong or "
    "under-confident (spec 11.4).";

/* ---- the headline: the paper's five findings and the clean error ---- */

static const struct {
    const char *key, *finding, *experiment, *method, *metric;
    double setting; /* the representative row is the one nearest this setting */
} findings[RCL_HEADLINES] = {
    {"label_noise", "label noise", "noise", "normal", "error", 1}, /* the strongest noise that ran */
    {"class_imbalance", "class imbalance", "imbalance", "normal", "error", 0.2}, /* the paper's gamma */
    {"adversarial_robustness", "adversarial robustness", "adversarial", "pgd", "adversarial_accuracy", 0},
    {"ood_detection", "OOD detection", "uncertainty", "normal", "auroc", 0},
    {"calibration", "calibration", "uncertainty", "normal", "rms", 0},
    {"clean_error", "clean error", "clean", "normal", "error", 0},
};

static const char *headline_status(const rcl_summary_row *r) {
    if (!r || r->verdict == RCL_VERDICT_NONE)
        return "not run";
    if (r->paper.direction != RCL_PAPER_HELPS)
        return rcl_verdict_text(r); /* the clean error: no claim to reproduce */
    switch (r->verdict) {
    case RCL_VERDICT_HELPS: return "reproduces here";
    case RCL_VERDICT_HURTS: return "disagrees";
    case RCL_VERDICT_NO_DIFFERENCE: return "not shown";
    default: return "n = 1";
    }
}

void rcl_report_headline(const rcl_summary_row *rows, int nr, rcl_headline out[RCL_HEADLINES]) {
    for (int h = 0; h < RCL_HEADLINES; h++) {
        const rcl_summary_row *best = NULL;
        for (int i = 0; i < nr; i++) {
            const rcl_summary_row *r = &rows[i];
            if (r->dataset[0] || strcmp(r->experiment, findings[h].experiment) || strcmp(r->method, findings[h].method) ||
                strcmp(r->metric, findings[h].metric) || r->paper.direction == RCL_PAPER_NONE)
                continue; /* no claim: the noise experiment's s = 0 */
            if (!best || fabs(r->setting - findings[h].setting) < fabs(best->setting - findings[h].setting))
                best = r;
        }
        out[h].key = findings[h].key, out[h].finding = findings[h].finding, out[h].row = best;
        out[h].paper = best ? best->paper
                            : rcl_paper_claim_of("", findings[h].experiment, findings[h].method, findings[h].metric,
                                                 findings[h].setting);
        out[h].status = headline_status(best);
    }
}

/* "noise/normal error at s = 0.4" */
static void row_name(const rcl_summary_row *r, char *buf, size_t cap) {
    const char *e = r->experiment;
    const char *var = !strncmp(e, "noise", 5) ? "s" : !strncmp(e, "imbalance-exp", 13) ? "rho"
                      : !strncmp(e, "imbalance", 9) ? "gamma" : NULL;
    if (var && r->setting >= 0)
        snprintf(buf, cap, "%s/%s %s at %s = %g", e, r->method, r->metric, var, r->setting);
    else
        snprintf(buf, cap, "%s/%s %s", e, r->method, r->metric);
}

void rcl_headline_text(const rcl_headline *h, char *buf, size_t cap) {
    char name[160] = "", numbers[96] = "", paper[96];
    const rcl_summary_row *r = h->row;
    if (r) {
        row_name(r, name, sizeof name);
        if (r->npaired == 0)
            snprintf(numbers, sizeof numbers, ": one arm only");
        else if (r->npaired > 1)
            snprintf(numbers, sizeof numbers, ": %.2f -> %.2f (%+.2f +- %.2f)", r->mean[0], r->mean[1], r->diff,
                     r->diff_se);
        else
            snprintf(numbers, sizeof numbers, ": %.2f -> %.2f (%+.2f, n = 1)", r->mean[0], r->mean[1], r->diff);
    }
    rcl_paper_text(&h->paper, paper, sizeof paper);
    snprintf(buf, cap, "%s: %s; %s%s%spaper: %s", h->finding, h->status, name, numbers, r ? "; " : "", paper);
}

/* ---- the terminal table ---- */

/* text in lines of at most `width` characters, broken at spaces */
static void print_wrapped(FILE *f, const char *text, int width) {
    while (*text) {
        int len = (int)strlen(text), cut = len;
        if (len > width)
            for (cut = width; cut > 0 && text[cut] != ' '; cut--)
                ;
        if (cut == 0)
            cut = width; /* one word longer than a line */
        fprintf(f, "%.*s\n", cut, text);
        text += cut;
        while (*text == ' ')
            text++;
    }
}

static void cell(FILE *f, double mean, double std, int n) {
    if (!n || isnan(mean))
        fprintf(f, " %16s", "-");
    else if (n == 1)
        fprintf(f, " %8.2f (n = 1)", mean);
    else
        fprintf(f, " %8.2f +- %5.2f", mean, std);
}

static void diff_cell(FILE *f, const rcl_summary_row *r) {
    if (r->npaired == 0 || isnan(r->diff))
        fprintf(f, " %16s", "-");
    else if (r->npaired == 1)
        fprintf(f, " %+8.2f        ", r->diff);
    else
        fprintf(f, " %+8.2f +- %5.2f", r->diff, r->diff_se);
}

/* "agrees; paper: helps, 28.7 -> 15.9", "paper: may not improve", or "" */
static void vs_paper_cell(FILE *f, const rcl_summary_row *r) {
    char paper[96];
    rcl_paper_text(&r->paper, paper, sizeof paper);
    const char *word = rcl_verdict_vs_paper(r);
    if (paper[0])
        fprintf(f, "%s%spaper: %s", word, word[0] ? "; " : "", paper);
}

static void table_headline(FILE *f, const rcl_summary_row *rows, int nr) {
    rcl_headline h[RCL_HEADLINES];
    rcl_report_headline(rows, nr, h);
    fprintf(f, "\nDoes pre-training help here, beyond the seed spread (paired t-test, 95%%)? The paper's findings,\n"
               "one row each; paper: its direction and CIFAR-10 numbers, normal -> pre-trained\n");
    for (int i = 0; i < RCL_HEADLINES; i++) {
        char line[512];
        rcl_headline_text(&h[i], line, sizeof line);
        fprintf(f, "  %s\n", line);
    }
    print_wrapped(f, rcl_report_scale_note, 110);
}

static void table_row(FILE *f, const rcl_summary_row *r) {
    char setting[16], experiment[64], metric[48];
    if (r->setting < 0)
        snprintf(setting, sizeof setting, "all");
    else
        snprintf(setting, sizeof setting, "%g", r->setting);
    snprintf(experiment, sizeof experiment, "%s%s%s", r->dataset, r->dataset[0] ? "/" : "", r->experiment);
    snprintf(metric, sizeof metric, "%s%s", r->metric, rcl_summary_below_chance(r) ? " (!)" : "");
    fprintf(f, "%-12s %-12s %-8s %-22s", experiment, r->method, setting, metric);
    cell(f, r->mean[0], r->std[0], r->n[0]);
    cell(f, r->mean[1], r->std[1], r->n[1]);
    diff_cell(f, r);
    fprintf(f, "  %-24s ", rcl_verdict_text(r));
    vs_paper_cell(f, r);
    fputc('\n', f);
}

static void recipe_text(const rcl_run_result *runs, int n, const rcl_summary_row *row, char *out, size_t cap) {
    const rcl_run_result *arm[2] = {NULL, NULL};
    for (int i = 0; i < n; i++) {
        const rcl_run_result *r = &runs[i];
        int a = !strcmp(r->arm, "pretrained");
        if (!arm[a] && !strcmp(r->dataset, row->dataset) && !strcmp(r->experiment, row->experiment) &&
            !strcmp(r->method, row->method) && fabs(r->setting - row->setting) < 1e-9)
            arm[a] = r;
    }
    *out = 0;
    if (!arm[0] || !arm[1] || isnan(rcl_run_get(arm[1], "lr", NAN)))
        return;
    double src = rcl_run_get(arm[1], "source_excluded", NAN);
    snprintf(out, cap, "scratch %.0f steps at lr %g, pre-trained %.0f at lr %g%s", rcl_run_get(arm[0], "steps", 0),
             rcl_run_get(arm[0], "lr", 0), rcl_run_get(arm[1], "steps", 0), rcl_run_get(arm[1], "lr", 0),
             isnan(src) ? "" : src ? " from the class-excluded source" : " from the class-covering source");
}

int rcl_report_group_recipe(const rcl_run_result *runs, int n, const rcl_summary_row *rows, int i, char *out,
                            size_t cap) {
    *out = 0;
    if (i == 0 || strcmp(rows[i].experiment, rows[i - 1].experiment) || strcmp(rows[i].method, rows[i - 1].method) ||
        rows[i].setting != rows[i - 1].setting || strcmp(rows[i].dataset, rows[i - 1].dataset))
        recipe_text(runs, n, &rows[i], out, cap);
    return *out != 0;
}

void rcl_report_table(FILE *f, const rcl_run_result *runs, int n) {
    rcl_summary_row *rows;
    int nr = rcl_report_rows(runs, n, &rows), below = 0;
    table_headline(f, rows, nr);
    fprintf(f, "\n%-12s %-12s %-8s %-22s %16s %16s %16s  %-24s %s\n", "experiment", "method", "setting",
            "metric (%)", "scratch", "pre-trained", "pre - scratch", "pre-training here", "vs paper (CIFAR-10)");
    for (int i = 0; i < nr; i++) {
        char recipe[160];
        if (rcl_report_group_recipe(runs, n, rows, i, recipe, sizeof recipe))
            fprintf(f, "%-12s (%s)\n", "", recipe);
        table_row(f, &rows[i]);
        below |= rcl_summary_below_chance(&rows[i]);
    }
    fprintf(f, "(percent; mean +- sample std over seeds; pre - scratch: mean +- standard error of the per-seed\n"
               " differences; \"helps\"/\"hurts\": the difference is beyond its spread (paired t-test, 95%%);\n"
               " vs paper: whether this agrees with the paper's finding that pre-training helps, and the paper's\n"
               " direction and CIFAR-10 numbers, normal -> pre-trained)\n");
    if (below)
        fprintf(f, "(!) below chance: AUROC under 50, the detector ranks this OOD set as more in-distribution than "
                   "the test set\n");
    if (rcl_report_has_metric(rows, nr, "mce"))
        print_wrapped(f, rcl_report_corruption_note, 110);
    if (rcl_report_has_metric(rows, nr, "autoattack"))
        print_wrapped(f, rcl_report_autoattack_note, 110);
    print_wrapped(f, rcl_report_calibration_note, 110);
    free(rows);
}

rcl_status rcl_report_table_save(const char *path, const rcl_run_result *runs, int n) {
    rcl_text_out out; /* in memory, then written atomically */
    RCL_TRY(rcl_text_open(&out, path));
    rcl_report_table(out.f, runs, n);
    return rcl_text_commit(&out, path);
}

/* ---- report.json ---- */

/* The paper's claim; its numbers are CIFAR-100's on suite paper's cifar100 rows, else CIFAR-10's. */
static void paper_json(rcl_json_writer *w, const rcl_paper_claim *c, const char *dataset) {
    static const char *const direction[] = {"", "helps", "may not improve"};
    rcl_jw_key(w, "paper");
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "direction"), rcl_jw_string(w, direction[c->direction]);
    if (!isnan(c->normal)) {
        rcl_jw_key(w, "dataset"), rcl_jw_string(w, strcmp(dataset, "cifar100") ? "CIFAR-10" : "CIFAR-100");
        if (c->what)
            rcl_jw_key(w, "metric"), rcl_jw_string(w, c->what);
        rcl_jw_key(w, "normal"), rcl_jw_number(w, c->normal);
        rcl_jw_key(w, "pretrained"), rcl_jw_number(w, c->pretrained);
    }
    rcl_jw_end_object(w);
}

static void row_json(rcl_json_writer *w, const rcl_summary_row *r) {
    if (r->dataset[0])
        rcl_jw_key(w, "dataset"), rcl_jw_string(w, r->dataset);
    rcl_jw_key(w, "experiment"), rcl_jw_string(w, r->experiment);
    rcl_jw_key(w, "method"), rcl_jw_string(w, r->method);
    rcl_jw_key(w, "setting"), r->setting < 0 ? rcl_jw_string(w, "all") : rcl_jw_number(w, r->setting);
    rcl_jw_key(w, "metric"), rcl_jw_string(w, r->metric);
    for (int arm = 0; arm < 2; arm++) {
        rcl_jw_key(w, arm ? "pretrained" : "scratch");
        rcl_jw_begin_object(w);
        rcl_jw_key(w, "mean"), rcl_jw_number(w, r->mean[arm]);
        rcl_jw_key(w, "std"), rcl_jw_number(w, r->std[arm]);
        rcl_jw_key(w, "seeds"), rcl_jw_int(w, r->n[arm]);
        rcl_jw_end_object(w);
    }
    rcl_jw_key(w, "difference"), rcl_jw_number(w, r->diff);
    rcl_jw_key(w, "difference_se"), rcl_jw_number(w, r->diff_se);
    rcl_jw_key(w, "paired_seeds"), rcl_jw_int(w, r->npaired);
    rcl_jw_key(w, "verdict"), rcl_jw_string(w, rcl_verdict_text(r));
}

void rcl_report_summary_json(rcl_json_writer *w, const rcl_run_result *runs, int n) {
    rcl_jw_key(w, "summary");
    rcl_jw_begin_array(w);
    rcl_summary_row *rows;
    int nr = rcl_report_rows(runs, n, &rows);
    for (int i = 0; i < nr; i++) {
        rcl_jw_begin_object(w);
        row_json(w, &rows[i]);
        rcl_jw_key(w, "paper_claims_pretraining_helps"), rcl_jw_bool(w, rows[i].paper.direction == RCL_PAPER_HELPS);
        rcl_jw_key(w, "vs_paper"), rcl_jw_string(w, rcl_verdict_vs_paper(&rows[i]));
        if (rows[i].paper.direction != RCL_PAPER_NONE)
            paper_json(w, &rows[i].paper, rows[i].dataset);
        if (!strncmp(rows[i].metric, "auroc", 5))
            rcl_jw_key(w, "below_chance"), rcl_jw_bool(w, rcl_summary_below_chance(&rows[i]));
        char recipe[160];
        recipe_text(runs, n, &rows[i], recipe, sizeof recipe);
        if (*recipe)
            rcl_jw_key(w, "recipe"), rcl_jw_string(w, recipe);
        rcl_jw_end_object(w);
    }
    free(rows);
    rcl_jw_end_array(w);
}

/* "headline": {"label_noise": {finding, status, text, the row, paper}, ..., "mini_scale": note} */
static void headline_json(rcl_json_writer *w, const rcl_run_result *runs, int n) {
    rcl_summary_row *rows;
    int nr = rcl_report_rows(runs, n, &rows);
    rcl_headline h[RCL_HEADLINES];
    rcl_report_headline(rows, nr, h);
    rcl_jw_key(w, "headline");
    rcl_jw_begin_object(w);
    for (int i = 0; i < RCL_HEADLINES; i++) {
        char text[512];
        rcl_headline_text(&h[i], text, sizeof text);
        rcl_jw_key(w, h[i].key);
        rcl_jw_begin_object(w);
        rcl_jw_key(w, "finding"), rcl_jw_string(w, h[i].finding);
        rcl_jw_key(w, "status"), rcl_jw_string(w, h[i].status);
        rcl_jw_key(w, "text"), rcl_jw_string(w, text);
        if (h[i].row)
            row_json(w, h[i].row);
        paper_json(w, &h[i].paper, "");
        rcl_jw_end_object(w);
    }
    rcl_jw_key(w, "mini_scale"), rcl_jw_string(w, rcl_report_scale_note);
    rcl_jw_end_object(w);
    free(rows);
}

rcl_status rcl_report_json_close(rcl_json_writer *w, const char *path, const char *self, const rcl_run_result *runs,
                                 int n) {
    rcl_report_provenance_json(w, self, runs, n);
    rcl_report_summary_json(w, runs, n);
    rcl_jw_key(w, "runs");
    rcl_jw_begin_array(w);
    for (int i = 0; i < n; i++)
        rcl_run_write_json(w, &runs[i]);
    rcl_jw_end_array(w);
    rcl_jw_end_object(w);
    return rcl_jw_save(w, path);
}

rcl_status rcl_report_json(const char *path, const rcl_suite_config *c, const char *self, const rcl_run_result *runs,
                           int n, const char *stages_json) {
    rcl_json_writer w; /* in memory, then written atomically */
    rcl_jw_init(&w, NULL, 1);
    rcl_jw_begin_object(&w);
    rcl_jw_key(&w, "suite");
    rcl_jw_string(&w, c->quick ? "mini --quick" : "mini");
    headline_json(&w, runs, n);
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
    rcl_jw_string(&w, "textbook, except Forward's estimate of C (paper mode, spec 5); calibration also "
                       "reported in paper mode (rms_paper, mad_paper)");
    rcl_jw_key(&w, "calibration_note"), rcl_jw_string(&w, rcl_report_calibration_note);
    if (c->corrupt_per_class > 0)
        rcl_jw_key(&w, "corruption_note"), rcl_jw_string(&w, rcl_report_corruption_note);
    if (c->adversarial && c->autoattack_n > 0)
        rcl_jw_key(&w, "autoattack_note"), rcl_jw_string(&w, rcl_report_autoattack_note);
    if (stages_json) {
        rcl_jw_key(&w, "stages");
        rcl_jw_raw(&w, stages_json);
    }
    return rcl_report_json_close(&w, path, self, runs, n);
}
