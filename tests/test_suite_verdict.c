/* The suite report's verdicts: pre-trained minus scratch paired by seed, a paired t-test at 95%,
 * the metric's direction and the paper's claim, on runs with known numbers; which runs the
 * paper's OOD and calibration claims attach to, the paper's numbers beside each row, the
 * headline, the below-chance flag, the corruption row (mce), the AutoAttack rows, the plots' means
 * over seeds and the table file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "harness.h"
#include "suite/suite_internal.h"

static rcl_run_result *add_to(rcl_run_result *runs, int *n, const char *dataset, const char *experiment,
                              const char *method, const char *arm, double setting, int seed, const char *key,
                              double v) {
    rcl_run_result *r = &runs[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->dataset, sizeof r->dataset, "%s", dataset);
    snprintf(r->experiment, sizeof r->experiment, "%s", experiment);
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->arm, sizeof r->arm, "%s", arm);
    r->setting = setting;
    r->seed = seed;
    rcl_run_set(r, key, v);
    return r;
}

static void add(rcl_run_result *runs, int *n, const char *experiment, const char *arm, double setting, int seed,
                const char *key, double v) {
    add_to(runs, n, "", experiment, "normal", arm, setting, seed, key, v);
}

static const rcl_summary_row *row_in(const rcl_summary_row *rows, int n, const char *dataset, const char *experiment,
                                     const char *metric) {
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].dataset, dataset) && !strcmp(rows[i].experiment, experiment) &&
            !strcmp(rows[i].metric, metric))
            return &rows[i];
    return NULL;
}

static const rcl_summary_row *row_of(const rcl_summary_row *rows, int n, const char *experiment, const char *metric) {
    return row_in(rows, n, "", experiment, metric);
}

static const char *paper_text(const rcl_summary_row *r, char *buf, size_t cap) {
    if (!r)
        return "(no row)";
    rcl_paper_text(&r->paper, buf, cap);
    return buf;
}

/* The verdicts (paired t-test, direction, one seed, no direction). */
static void check_verdicts(const rcl_summary_row *rows, int nr) {
    const rcl_summary_row *r = row_of(rows, nr, "noise", "error");
    CHECK(r && r->npaired == 3, "noise row paired over 3 seeds");
    CHECK(r && fabs(r->diff - (-(10 + 9.8 + 10.1) / 3)) < 1e-9, "difference is the mean of per-seed differences: %g",
          r ? r->diff : NAN);
    CHECK(r && r->verdict == RCL_VERDICT_HELPS && !strcmp(rcl_verdict_vs_paper(r), "agrees"),
          "lower error beyond the spread: helps, agrees (%s, %s)", r ? rcl_verdict_text(r) : "-",
          r ? rcl_verdict_vs_paper(r) : "-");
    r = row_of(rows, nr, "uncertainty", "rms");
    CHECK(r && r->verdict == RCL_VERDICT_HURTS && !strcmp(rcl_verdict_vs_paper(r), "disagrees"),
          "higher calibration error beyond the spread: hurts, disagrees");
    CHECK(r && fabs(r->diff_se - 1 / sqrt(3.0)) < 1e-9, "standard error of (5,6,7): %g", r ? r->diff_se : NAN);
    r = row_of(rows, nr, "clean", "error");
    CHECK(r && r->verdict == RCL_VERDICT_NO_DIFFERENCE, "within the spread: no measurable difference");
    CHECK(r && r->paper.direction == RCL_PAPER_MAY_NOT_IMPROVE && !strcmp(rcl_verdict_vs_paper(r), ""),
          "clean error: the paper says it may not improve, no claim to agree with");
    r = row_of(rows, nr, "adversarial", "adversarial_accuracy");
    CHECK(r && r->verdict == RCL_VERDICT_ONE_SEED && !strcmp(rcl_verdict_text(r), "n = 1: better"),
          "one seed: a direction, no verdict (%s)", r ? rcl_verdict_text(r) : "-");
    CHECK(r && r->n[0] == 1 && r->std[0] == 0, "one seed: n = 1");
    r = row_of(rows, nr, "adversarial", "clean_accuracy");
    CHECK(r && !strcmp(rcl_verdict_text(r), "n = 1: equal"), "one seed, no difference: equal (%s)",
          r ? rcl_verdict_text(r) : "-");
    r = row_of(rows, nr, "adversarial", "max_linf");
    CHECK(r && r->verdict == RCL_VERDICT_NONE && !strcmp(rcl_verdict_text(r), ""), "a diagnostic gets no verdict");
}

/* The paper's OOD and calibration claims: the mini suite's "uncertainty" rows (class-excluded
 * pre-training), not its "clean" rows (class-covering); suite paper's "clean" rows (dataset set). */
static void check_claims(const rcl_summary_row *rows, int nr) {
    char buf[96];
    const rcl_summary_row *r = row_of(rows, nr, "uncertainty", "auroc");
    CHECK(r && r->paper.direction == RCL_PAPER_HELPS && !strcmp(paper_text(r, buf, sizeof buf), "helps, 91.5 -> 94.5"),
          "uncertainty AUROC: the paper's Table 4 (%s)", paper_text(r, buf, sizeof buf));
    r = row_of(rows, nr, "clean", "auroc");
    CHECK(r && r->paper.direction == RCL_PAPER_NONE && !strcmp(rcl_verdict_vs_paper(r), ""),
          "mini clean AUROC (class-covering source): no claim of the paper");
    r = row_in(rows, nr, "cifar10", "clean", "auroc");
    CHECK(r && r->paper.direction == RCL_PAPER_HELPS && !strcmp(rcl_verdict_vs_paper(r), "agrees"),
          "suite paper's clean AUROC: the paper's claim, agrees");
    r = row_in(rows, nr, "cifar100", "clean", "rms_paper");
    CHECK(r && !strcmp(paper_text(r, buf, sizeof buf), "helps, 13.3 -> 3.6"), "CIFAR-100 rows quote CIFAR-100: %s",
          paper_text(r, buf, sizeof buf));
    r = row_of(rows, nr, "uncertainty", "rms");
    CHECK(r && !strcmp(paper_text(r, buf, sizeof buf), "helps, 6.4 -> 2.9"), "uncertainty RMS: Table 5 (%s)",
          paper_text(r, buf, sizeof buf));
    r = row_of(rows, nr, "noise", "error");
    CHECK(r && !strcmp(paper_text(r, buf, sizeof buf), "helps, error area 28.7 -> 15.9"),
          "noise error: Table 1's area (%s)", paper_text(r, buf, sizeof buf));
    r = row_of(rows, nr, "clean", "error");
    CHECK(r && !strcmp(paper_text(r, buf, sizeof buf), "may not improve"), "clean error: %s",
          paper_text(r, buf, sizeof buf));
    r = row_of(rows, nr, "adversarial", "adversarial_accuracy");
    CHECK(r && !strcmp(paper_text(r, buf, sizeof buf), "helps, 45.8 -> 57.4"), "adversarial: Table 3 (%s)",
          paper_text(r, buf, sizeof buf));
    rcl_paper_claim c = rcl_paper_claim_of("", "imbalance", "normal", "minority_error", 0.2);
    CHECK(c.direction == RCL_PAPER_HELPS && c.normal == 26.0 && c.pretrained == 8.8, "imbalance minority: Table 2");
    c = rcl_paper_claim_of("", "imbalance", "cost", "error", 0.2);
    CHECK(c.direction == RCL_PAPER_NONE, "Table 2 compares pre-training with Normal training only");
    c = rcl_paper_claim_of("", "noise", "normal", "error", 0);
    CHECK(c.direction == RCL_PAPER_NONE, "no claim on the error without noise");
}

static void check_headline(const rcl_summary_row *rows, int nr) {
    rcl_headline h[RCL_HEADLINES];
    rcl_report_headline(rows, nr, h);
    static const char *const want[RCL_HEADLINES] = {"reproduces here", "not run", "n = 1", "not shown", "disagrees",
                                                     "no measurable difference"};
    for (int i = 0; i < RCL_HEADLINES; i++)
        CHECK(!strcmp(h[i].status, want[i]), "headline %s: %s, expected %s", h[i].finding, h[i].status, want[i]);
    char text[512];
    rcl_headline_text(&h[0], text, sizeof text);
    CHECK(h[0].row && h[0].row->setting == 0.4 &&
              strstr(text, "noise/normal error at s = 0.4: 30.00 -> 20.03 (-9.97 +- 0.09)") &&
              strstr(text, "paper: helps, error area 28.7 -> 15.9"),
          "label noise: the strongest noise, its numbers and the paper's: %s", text);
    rcl_headline_text(&h[1], text, sizeof text);
    CHECK(!h[1].row && !strcmp(text, "class imbalance: not run; paper: helps, 23.7 -> 8.0"),
          "a finding that did not run still quotes the paper: %s", text);
    CHECK(h[3].row && !strcmp(h[3].row->experiment, "uncertainty"), "OOD detection: the uncertainty row");
}

/* The corruption row: lower is better, a verdict like any row, no claim of the paper (mini suite and
 * suite paper alike). */
static void check_corruption(const rcl_summary_row *rows, int nr) {
    const rcl_summary_row *r = row_of(rows, nr, "clean", "mce");
    CHECK(r && r->better == -1 && r->npaired == 3 && r->verdict == RCL_VERDICT_HELPS,
          "mce 10 lower on every seed: helps (%s)", r ? rcl_verdict_text(r) : "no row");
    CHECK(r && fabs(r->mean[0] - 40) < 1e-9 && fabs(r->mean[1] - 30) < 1e-9 && fabs(r->diff + 10) < 1e-9,
          "mce means 40 -> 30, difference -10");
    CHECK(r && r->paper.direction == RCL_PAPER_NONE && !strcmp(rcl_verdict_vs_paper(r), ""),
          "mce: no claim of the paper");
    r = row_in(rows, nr, "cifar10", "clean", "mce");
    CHECK(r && r->verdict == RCL_VERDICT_HURTS && r->paper.direction == RCL_PAPER_NONE,
          "suite paper's mce higher on every seed: hurts, no claim (%s)", r ? rcl_verdict_text(r) : "no row");
    CHECK(!row_of(rows, nr, "uncertainty", "mce"), "no corruption row outside the clean runs");
}

/* The AutoAttack rows: higher is better, a verdict like any row, no claim of the paper (whose PGD
 * claim is on adversarial_accuracy only), in the mini suite and suite paper alike. */
static void check_autoattack(const rcl_summary_row *rows, int nr) {
    const rcl_summary_row *r = row_of(rows, nr, "adversarial", "autoattack");
    CHECK(r && r->better == 1 && r->npaired == 3 && r->verdict == RCL_VERDICT_HELPS,
          "autoattack 5 higher on every seed: helps (%s)", r ? rcl_verdict_text(r) : "no row");
    CHECK(r && r->paper.direction == RCL_PAPER_NONE && !strcmp(rcl_verdict_vs_paper(r), ""),
          "autoattack: no claim of the paper");
    r = row_of(rows, nr, "adversarial", "autoattack_apgd_ce");
    CHECK(r && r->better == 1 && r->paper.direction == RCL_PAPER_NONE, "autoattack_apgd_ce: higher is better, no claim");
    r = row_in(rows, nr, "cifar10", "adversarial", "autoattack");
    CHECK(r && r->verdict == RCL_VERDICT_HURTS && r->paper.direction == RCL_PAPER_NONE,
          "suite paper's autoattack lower on every seed: hurts, no claim (%s)", r ? rcl_verdict_text(r) : "no row");
}

static void check_below_chance(const rcl_summary_row *rows, int nr) {
    const rcl_summary_row *r = row_of(rows, nr, "uncertainty", "auroc_blobs");
    CHECK(r && rcl_summary_below_chance(r), "AUROC under 50 is flagged");
    r = row_of(rows, nr, "uncertainty", "auroc");
    CHECK(r && !rcl_summary_below_chance(r), "AUROC over 50 is not");
    r = row_of(rows, nr, "uncertainty", "rms");
    CHECK(r && !rcl_summary_below_chance(r), "only AUROC rows are flagged");
}

/* The uncertainty runs when present, else the clean ones; series means over seeds. */
static void check_plot_inputs(rcl_run_result *runs, int n, int n_without_uncertainty) {
    CHECK(!strcmp(rcl_report_uncertainty_experiment(runs, n), "uncertainty"), "plots use the uncertainty runs");
    CHECK(!strcmp(rcl_report_uncertainty_experiment(runs, n_without_uncertainty), "clean"),
          "without them, the clean runs");
    double mean[4], sd[4];
    int k = rcl_report_series_stat(runs, n, "uncertainty", "normal", "pretrained", 0, "reliability_accuracy",
                                   "reliability_count", mean, sd, 4);
    CHECK(k == 3 && fabs(mean[0] - 0.5) < 1e-12 && fabs(sd[0] - 0.1) < 1e-12,
          "bin 0: mean 0.5, std 0.1 over 3 seeds (%d, %g, %g)", k, mean[0], sd[0]);
    CHECK(k == 3 && fabs(mean[1] - 0.9) < 1e-12 && sd[1] == 0, "bin 1: a seed without images left out (%g)", mean[1]);
    CHECK(k == 3 && isnan(mean[2]), "bin 2: no seed has images in it");
}

static void check_table(const rcl_run_result *runs, int n) {
    char *text = NULL, path[512];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    rcl_report_table(f, runs, n);
    fclose(f);
    CHECK(strstr(text, "label noise: reproduces here;") && strstr(text, "Mini scale:") &&
              strstr(text, "agrees; paper: helps, error area 28.7 -> 15.9") && strstr(text, "auroc_blobs (!)") &&
              strstr(text, "(!) below chance") && strstr(text, "rms_paper and mad_paper skip"),
          "table: headline, scale, the paper's numbers, the flag, the calibration note:\n%s", text);
    char mce[128];
    snprintf(mce, sizeof mce, "\n%-12s %-12s %-8s %-22s    40.00 +-  0.00    30.00 +-  0.50   -10.00 +-  0.29  helps",
             "clean", "normal", "0", "mce");
    CHECK(strstr(text, mce) && strstr(text, "mce: the mean corruption error") && strstr(text, "Frost is left out"),
          "table: the corruption row with its verdict and its note");
    snprintf(path, sizeof path, "%s/table.txt", rcl_test_tmpdir());
    CHECK_OK(rcl_report_table_save(path, runs, n));
    unsigned char *saved = NULL;
    size_t size = 0;
    CHECK_OK(rcl_file_read(path, &saved, &size));
    CHECK(saved && size == len && !memcmp(saved, text, len), "table.txt holds the printed table");
    free(saved);
    free(text);
}

int main(void) {
    static rcl_run_result runs[96];
    int n = 0;
    /* clean error: differences -3, +4, -1: within the spread; the paper: may not improve */
    const double d[3] = {-3, 4, -1};
    for (int s = 0; s < 3; s++) {
        add(runs, &n, "clean", "scratch", 0, s + 1, "error", 10);
        add(runs, &n, "clean", "pretrained", 0, s + 1, "error", 10 + d[s]);
    }
    /* noise 0.4 error: pre-trained 10 +- 0.1 below scratch on every seed: helps, agrees */
    const double scr[3] = {30, 25, 35}, pre[3] = {20, 15.2, 24.9};
    for (int s = 0; s < 3; s++) {
        add(runs, &n, "noise", "scratch", 0.4, s + 1, "error", scr[s]);
        add(runs, &n, "noise", "pretrained", 0.4, s + 1, "error", pre[s]);
    }
    /* adversarial accuracy (higher is better), one seed only */
    add_to(runs, &n, "", "adversarial", "pgd", "scratch", 0.03, 1, "adversarial_accuracy", 40);
    add_to(runs, &n, "", "adversarial", "pgd", "pretrained", 0.03, 1, "adversarial_accuracy", 45);
    add_to(runs, &n, "", "adversarial", "pgd", "scratch", 0.03, 1, "clean_accuracy", 80);
    add_to(runs, &n, "", "adversarial", "pgd", "pretrained", 0.03, 1, "clean_accuracy", 80);
    /* a diagnostic without a direction */
    add_to(runs, &n, "", "adversarial", "pgd", "scratch", 0.03, 1, "max_linf", 3);
    add_to(runs, &n, "", "adversarial", "pgd", "pretrained", 0.03, 1, "max_linf", 3);
    /* mini clean AUROC: no claim; suite paper's CIFAR-10 clean AUROC, higher by 2, 3, 4: agrees */
    for (int s = 0; s < 3; s++) {
        add(runs, &n, "clean", "scratch", 0, s + 1, "auroc", 60);
        add(runs, &n, "clean", "pretrained", 0, s + 1, "auroc", 70);
        add_to(runs, &n, "cifar10", "clean", "normal", "scratch", 0, s + 1, "auroc", 90);
        add_to(runs, &n, "cifar10", "clean", "normal", "pretrained", 0, s + 1, "auroc", 92 + s);
        add_to(runs, &n, "cifar100", "clean", "normal", "scratch", 0, s + 1, "rms_paper", 10);
        add_to(runs, &n, "cifar100", "clean", "normal", "pretrained", 0, s + 1, "rms_paper", 5);
    }
    /* mean corruption error: 10 lower on every seed (helps); suite paper's CIFAR-10: higher (hurts) */
    const double md[3] = {-10.5, -10, -9.5};
    for (int s = 0; s < 3; s++) {
        add(runs, &n, "clean", "scratch", 0, s + 1, "mce", 40);
        add(runs, &n, "clean", "pretrained", 0, s + 1, "mce", 40 + md[s]);
        add_to(runs, &n, "cifar10", "clean", "normal", "scratch", 0, s + 1, "mce", 20);
        add_to(runs, &n, "cifar10", "clean", "normal", "pretrained", 0, s + 1, "mce", 25 + s);
    }
    int without_uncertainty = n;
    /* uncertainty: rms higher by 5, 6, 7 (hurts, disagrees); AUROC within the spread; Blobs below
     * chance; reliability bins of 3 seeds, the second seed without images in bin 1 */
    const double ad[3] = {-3, 4, -1}, acc0[3] = {0.4, 0.5, 0.6}, acc1[3] = {0.9, 0, 0.9}, cnt1[3] = {5, 0, 7};
    for (int s = 0; s < 3; s++) {
        add(runs, &n, "uncertainty", "scratch", 0, s + 1, "rms", 5);
        add(runs, &n, "uncertainty", "pretrained", 0, s + 1, "rms", 10 + s);
        add(runs, &n, "uncertainty", "scratch", 0, s + 1, "auroc", 70);
        add(runs, &n, "uncertainty", "pretrained", 0, s + 1, "auroc", 70 + ad[s]);
        add(runs, &n, "uncertainty", "scratch", 0, s + 1, "auroc_blobs", 30);
        add(runs, &n, "uncertainty", "pretrained", 0, s + 1, "auroc_blobs", 35);
        rcl_run_result *u = add_to(runs, &n, "", "uncertainty", "normal", "pretrained", 0, s + 1, "ece", 1);
        double acc[3] = {acc0[s], acc1[s], 0}, cnt[3] = {10, cnt1[s], 0};
        rcl_run_series(u, "reliability_accuracy", acc, 3);
        rcl_run_series(u, "reliability_count", cnt, 3);
    }
    /* AutoAttack: 5 higher on every seed (helps); suite paper's CIFAR-10 pgd: lower (hurts) */
    for (int s = 0; s < 3; s++) {
        add_to(runs, &n, "", "adversarial", "pgd", "scratch", 0.03, s + 1, "autoattack", 20);
        add_to(runs, &n, "", "adversarial", "pgd", "pretrained", 0.03, s + 1, "autoattack", 25 + 0.1 * s);
        add_to(runs, &n, "", "adversarial", "pgd", "pretrained", 0.03, s + 1, "autoattack_apgd_ce", 30);
        add_to(runs, &n, "cifar10", "adversarial", "pgd", "scratch", 8, s + 1, "autoattack", 50);
        add_to(runs, &n, "cifar10", "adversarial", "pgd", "pretrained", 8, s + 1, "autoattack", 45 - s);
    }

    rcl_summary_row *rows;
    int nr = rcl_report_rows(runs, n, &rows);
    check_verdicts(rows, nr);
    check_claims(rows, nr);
    check_headline(rows, nr);
    check_below_chance(rows, nr);
    check_corruption(rows, nr);
    check_autoattack(rows, nr);
    free(rows);
    check_plot_inputs(runs, n, without_uncertainty);
    check_table(runs, n);
    for (int i = 0; i < n; i++)
        rcl_run_free(&runs[i]);
    return rcl_test_finish();
}
