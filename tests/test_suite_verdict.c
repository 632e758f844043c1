/* The suite report's verdicts: pre-trained minus scratch paired by seed, a paired t-test at 95%,
 * the metric's direction and the paper's claim, on runs with known numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "suite/suite_internal.h"

static void add(rcl_run_result *runs, int *n, const char *experiment, const char *arm, double setting, int seed,
                const char *key, double v) {
    rcl_run_result *r = &runs[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->experiment, sizeof r->experiment, "%s", experiment);
    snprintf(r->method, sizeof r->method, "normal");
    snprintf(r->arm, sizeof r->arm, "%s", arm);
    r->setting = setting;
    r->seed = seed;
    rcl_run_set(r, key, v);
}

static const rcl_summary_row *row_of(const rcl_summary_row *rows, int n, const char *experiment, const char *metric) {
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].experiment, experiment) && !strcmp(rows[i].metric, metric))
            return &rows[i];
    return NULL;
}

int main(void) {
    static rcl_run_result runs[64];
    int n = 0;
    /* noise 0.4 error: pre-trained 10 +- 0.1 below scratch on every seed: helps, agrees */
    const double scr[3] = {30, 25, 35}, pre[3] = {20, 15.2, 24.9};
    for (int s = 0; s < 3; s++) {
        add(runs, &n, "noise", "scratch", 0.4, s + 1, "error", scr[s]);
        add(runs, &n, "noise", "pretrained", 0.4, s + 1, "error", pre[s]);
    }
    /* clean rms: pre-trained higher by 5, 6, 7: hurts, disagrees with the paper */
    for (int s = 0; s < 3; s++) {
        add(runs, &n, "clean", "scratch", 0, s + 1, "rms", 5);
        add(runs, &n, "clean", "pretrained", 0, s + 1, "rms", 10 + s);
    }
    /* clean error: differences -3, +4, -1: within the spread; the paper makes no claim */
    const double d[3] = {-3, 4, -1};
    for (int s = 0; s < 3; s++) {
        add(runs, &n, "clean", "scratch", 0, s + 1, "error", 10);
        add(runs, &n, "clean", "pretrained", 0, s + 1, "error", 10 + d[s]);
    }
    /* adversarial accuracy (higher is better), one seed only */
    add(runs, &n, "adversarial", "scratch", 0.03, 1, "adversarial_accuracy", 40);
    add(runs, &n, "adversarial", "pretrained", 0.03, 1, "adversarial_accuracy", 45);
    /* a diagnostic without a direction */
    add(runs, &n, "adversarial", "scratch", 0.03, 1, "max_linf", 3);
    add(runs, &n, "adversarial", "pretrained", 0.03, 1, "max_linf", 3);

    rcl_summary_row *rows;
    int nr = rcl_report_rows(runs, n, &rows);
    const rcl_summary_row *r = row_of(rows, nr, "noise", "error");
    CHECK(r && r->npaired == 3, "noise row paired over 3 seeds");
    CHECK(r && fabs(r->diff - (-(10 + 9.8 + 10.1) / 3)) < 1e-9, "difference is the mean of per-seed differences: %g",
          r ? r->diff : NAN);
    CHECK(r && r->verdict == RCL_VERDICT_HELPS && !strcmp(rcl_verdict_vs_paper(r), "agrees"),
          "lower error beyond the spread: helps, agrees (%s, %s)", r ? rcl_verdict_text(r) : "-",
          r ? rcl_verdict_vs_paper(r) : "-");
    r = row_of(rows, nr, "clean", "rms");
    CHECK(r && r->verdict == RCL_VERDICT_HURTS && !strcmp(rcl_verdict_vs_paper(r), "disagrees"),
          "higher calibration error beyond the spread: hurts, disagrees");
    CHECK(r && fabs(r->diff_se - 1 / sqrt(3.0)) < 1e-9, "standard error of (5,6,7): %g", r ? r->diff_se : NAN);
    r = row_of(rows, nr, "clean", "error");
    CHECK(r && r->verdict == RCL_VERDICT_NO_DIFFERENCE, "within the spread: no measurable difference");
    CHECK(r && !r->paper_claims && !strcmp(rcl_verdict_vs_paper(r), ""), "clean error: no claim of the paper");
    r = row_of(rows, nr, "adversarial", "adversarial_accuracy");
    CHECK(r && r->verdict == RCL_VERDICT_ONE_SEED && !strcmp(rcl_verdict_text(r), "n = 1: better"),
          "one seed: a direction, no verdict (%s)", r ? rcl_verdict_text(r) : "-");
    CHECK(r && r->n[0] == 1 && r->std[0] == 0, "one seed: n = 1");
    r = row_of(rows, nr, "adversarial", "max_linf");
    CHECK(r && r->verdict == RCL_VERDICT_NONE && !strcmp(rcl_verdict_text(r), ""), "a diagnostic gets no verdict");
    free(rows);
    for (int i = 0; i < n; i++)
        rcl_run_free(&runs[i]);
    return rcl_test_finish();
}
