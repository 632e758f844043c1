/* End-to-end: `suite mini --quick` through the library. Every evaluation has both
 * arms; every metric is finite and in range; OOD and calibration numbers
 * recomputed from the per-sample score dump match the report; the headline and
 * table.txt are written; the clean runs' corruption row (mce) is in report.json,
 * table.txt and report.html; a rerun uses the cache; a changed adversarial setting
 * or corruption seed re-runs exactly the stages it affects, and a cache without the
 * corruption row re-runs the clean runs. The opt-in AutoAttack row (cheap settings here)
 * re-runs the two adversarial runs only and is in report.json, table.txt and report.html; with
 * fewer than 4 target classes it is refused before anything trains. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "harness.h"
#include "robustcl/json.h"
#include "robustcl/metrics.h"
#include "robustcl/suite.h"

static rcl_json *load(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/report.json", dir);
    rcl_json *j = NULL;
    CHECK_OK(rcl_json_parse_file(path, &j));
    return j;
}

static double stages(const rcl_json *j, const char *key) {
    return rcl_json_get_number(rcl_json_get(j, "stages"), key, -1);
}

static double metric(const rcl_json *j, const char *experiment, const char *method, const char *name, const char *arm) {
    const rcl_json *sum = rcl_json_get(j, "summary");
    for (size_t i = 0; sum && i < sum->len; i++) {
        const rcl_json *row = &sum->items[i];
        if (!strcmp(rcl_json_get_string(row, "experiment"), experiment) &&
            !strcmp(rcl_json_get_string(row, "method"), method) && !strcmp(rcl_json_get_string(row, "metric"), name))
            return rcl_json_get_number(rcl_json_get(row, arm), "mean", NAN);
    }
    return NAN;
}

static void check_summary(const rcl_json *j) {
    const rcl_json *sum = rcl_json_get(j, "summary");
    CHECK(sum && sum->len > 20, "summary has rows");
    int seen[5] = {0};
    const char *experiments[5] = {"clean", "uncertainty", "noise", "imbalance", "adversarial"};
    for (size_t i = 0; sum && i < sum->len; i++) {
        const rcl_json *row = &sum->items[i];
        const char *e = rcl_json_get_string(row, "experiment"), *m = rcl_json_get_string(row, "metric");
        for (int k = 0; k < 5; k++)
            seen[k] |= !strcmp(e, experiments[k]);
        int pretrain = !strcmp(e, "pretrain"); /* the source models: one arm, one run */
        for (int arm = 0; arm < 2 - pretrain; arm++) {
            const rcl_json *a = rcl_json_get(row, arm ? "pretrained" : "scratch");
            double v = rcl_json_get_number(a, "mean", NAN);
            CHECK(rcl_json_get_number(a, "seeds", 0) >= 1, "%s/%s/%s has the %s arm", e,
                  rcl_json_get_string(row, "method"), m, arm ? "pre-trained" : "scratch");
            double hi = !strcmp(m, "max_linf") ? 8.0 / 255 + 1e-6 : !strcmp(m, "zero_gradient_inputs") ? 1e9 : 100;
            CHECK(isfinite(v) && v >= 0 && v <= hi, "%s/%s %s = %g in [0, %g]", e, rcl_json_get_string(row, "method"),
                  m, v, hi);
        }
    }
    for (int k = 0; k < 5; k++)
        CHECK(seen[k], "experiment %s reported", experiments[k]);
}

/* Recomputes AUROC per OOD set (mean over draws) and textbook RMS from the dump of the
 * experiment's pre-trained run (clean: the covering source's model; uncertainty: the excluded one's). */
static void check_dump(const char *dir, const rcl_json *j, const char *experiment) {
    char path[1024];
    snprintf(path, sizeof path, "%s/scores/%s_0_normal_pretrained_seed=1.tsv", dir, experiment);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "score dump %s exists", path);
    if (!f)
        return;
    int cap = 1 << 16, nid = 0, nood = 0;
    double *id = malloc(cap * sizeof *id), *conf = malloc(cap * sizeof *conf), *oscore = malloc(cap * sizeof *oscore);
    int *correct = malloc(cap * sizeof *correct), *oset = malloc(cap * sizeof *oset), *odraw = malloc(cap * sizeof *odraw);
    char line[1024], set[32], name[64];
    fgets(line, sizeof line, f); /* header */
    while (fgets(line, sizeof line, f) && nid < cap && nood < cap) {
        int draw, idx, label, pred, corr;
        double c, ct, msp;
        if (sscanf(line, "%31s %63s %d %d %d %d %lf %lf %lf %d", set, name, &draw, &idx, &label, &pred, &c, &ct, &msp,
                   &corr) != 10)
            continue;
        if (!strcmp(set, "id")) {
            id[nid] = msp, conf[nid] = c, correct[nid++] = corr;
        } else {
            oset[nood] = atoi(set + 3), odraw[nood] = draw, oscore[nood++] = msp;
        }
    }
    fclose(f);
    double rms, mad;
    CHECK_OK(rcl_calib_error(conf, correct, nid, RCL_CALIB_BIN, 0, &rms, &mad));
    double want = metric(j, experiment, "normal", "rms", "pretrained");
    CHECK(fabs(100 * rms - want) < 1e-6, "RMS from the dump %.9g vs report %.9g", 100 * rms, want);
    const char *names[3] = {"gaussian", "rademacher", "blobs"};
    for (int s = 0; s < 3; s++) {
        double sum = 0;
        int draws = 0;
        for (int d = 0; d < 5; d++) {
            double *sub = malloc(nood * sizeof *sub);
            int m = 0;
            for (int i = 0; i < nood; i++)
                if (oset[i] == s && odraw[i] == d)
                    sub[m++] = oscore[i];
            double au;
            if (m > 0 && rcl_ood_auroc(sub, m, id, nid, &au) == RCL_OK)
                sum += au, draws++;
            free(sub);
        }
        char key[64];
        snprintf(key, sizeof key, "auroc_%s", names[s]);
        double rep = metric(j, experiment, "normal", key, "pretrained");
        CHECK(draws == 5 && fabs(100 * sum / draws - rep) < 1e-6, "%s AUROC from the dump %.9g vs report %.9g (%d draws)",
              names[s], draws ? 100 * sum / draws : NAN, rep, draws);
    }
    free(id), free(conf), free(oscore), free(correct), free(oset), free(odraw);
}

/* The headline (the paper's five findings and the clean error; one seed: n = 1 at best) and
 * OUT/table.txt, written whatever the table option says. */
static void check_headline(const char *dir, const rcl_json *j) {
    static const char *const keys[] = {"label_noise", "class_imbalance", "adversarial_robustness", "ood_detection",
                                       "calibration", "clean_error"};
    const rcl_json *h = rcl_json_get(j, "headline");
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        const rcl_json *f = rcl_json_get(h, keys[k]);
        const char *text = rcl_json_get_string(f, "text");
        CHECK(text && strstr(text, rcl_json_get_string(f, "finding")), "headline.%s: %s", keys[k], text ? text : "-");
    }
    const char *noise = rcl_json_get_string(rcl_json_get(h, "label_noise"), "status");
    CHECK(noise && !strcmp(noise, "n = 1"), "one seed: label noise is n = 1 (%s)", noise ? noise : "-");
    CHECK(rcl_json_get_string(h, "mini_scale"), "headline.mini_scale");
    char path[1024];
    snprintf(path, sizeof path, "%s/table.txt", dir);
    unsigned char *table = NULL;
    size_t size = 0;
    CHECK_OK(rcl_file_read(path, &table, &size));
    CHECK(table && strstr((char *)table, "label noise: n = 1;") && strstr((char *)table, "Mini scale:"),
          "table.txt has the headline and the rows");
    /* each experiment's recipe, as it ran: the quick floors, and the source the uncertainty runs use */
    CHECK(table && strstr((char *)table, "(scratch 8 steps at lr 0.1, pre-trained 8 at lr 0.01 from the "
                                         "class-excluded source)"), "table.txt states the recipes");
    free(table);
    snprintf(path, sizeof path, "%s/report.html", dir);
    CHECK_OK(rcl_file_read(path, &table, &size));
    CHECK(table && strstr((char *)table, "pre-trained 8 at lr 0.01 from the class-excluded source</i>"),
          "report.html states the recipes");
    free(table);
}

static const rcl_json *summary_row(const rcl_json *j, const char *experiment, const char *metric) {
    const rcl_json *sum = rcl_json_get(j, "summary");
    for (size_t i = 0; sum && i < sum->len; i++)
        if (!strcmp(rcl_json_get_string(&sum->items[i], "experiment"), experiment) &&
            !strcmp(rcl_json_get_string(&sum->items[i], "metric"), metric))
            return &sum->items[i];
    return NULL;
}

/* The corruption row: the clean runs of both arms have an mce (and no other run has), its summary
 * row has a verdict and no claim of the paper, and the three reports show it with its note. */
static void check_corruption(const char *dir, const rcl_json *j) {
    const rcl_json *row = summary_row(j, "clean", "mce"), *runs = rcl_json_get(j, "runs");
    for (int arm = 0; arm < 2; arm++) {
        double v = rcl_json_get_number(rcl_json_get(row, arm ? "pretrained" : "scratch"), "mean", NAN);
        CHECK(isfinite(v) && v >= 0 && v <= 100, "clean mce of the %s arm: %g", arm ? "pre-trained" : "scratch", v);
    }
    const char *verdict = row ? rcl_json_get_string(row, "verdict") : NULL;
    CHECK(verdict && !strncmp(verdict, "n = 1: ", 7), "the corruption row has a verdict: %s", verdict ? verdict : "-");
    CHECK(row && !rcl_json_get(row, "paper") && !strcmp(rcl_json_get_string(row, "vs_paper"), ""),
          "the corruption row: no claim of the paper");
    CHECK(!summary_row(j, "uncertainty", "mce"), "no corruption row for the uncertainty runs");
    int with = 0, clean = 0;
    for (size_t i = 0; runs && i < runs->len; i++) {
        const rcl_json *r = &runs->items[i];
        int is_clean = !strcmp(rcl_json_get_string(r, "experiment"), "clean");
        int has = rcl_json_get(rcl_json_get(r, "metrics"), "mce") != NULL;
        clean += is_clean, with += has;
        CHECK(has == is_clean, "run %s: mce %s", rcl_json_get_string(r, "id"), has ? "present" : "absent");
    }
    CHECK(clean == 2 && with == 2, "both clean arms have an mce (%d of %d)", with, clean);
    const char *note = rcl_json_get_string(j, "corruption_note");
    CHECK(note && strstr(note, "Frost is left out"), "report.json: the corruption note");
    char path[1024], line[128];
    unsigned char *text = NULL;
    size_t size = 0;
    snprintf(path, sizeof path, "%s/table.txt", dir);
    CHECK_OK(rcl_file_read(path, &text, &size));
    snprintf(line, sizeof line, "\n%-12s %-12s %-8s %-22s", "clean", "normal", "0", "mce");
    CHECK(text && strstr((char *)text, line) && strstr((char *)text, "mce: the mean corruption error"),
          "table.txt: the corruption row and its note");
    free(text);
    snprintf(path, sizeof path, "%s/report.html", dir);
    CHECK_OK(rcl_file_read(path, &text, &size));
    CHECK(text && strstr((char *)text, "<td>0</td><td class='l'>mce</td>") &&
              strstr((char *)text, "<p class='corruption'>mce:"), "report.html: the corruption row and its note");
    free(text);
}

/* The AutoAttack row: the adversarial runs of both arms (and no other run) have "autoattack", at most
 * what APGD-CE alone leaves and equal to what Square, the last attack, leaves; its summary row has a
 * verdict and no claim of the paper; the three reports show it with its note. */
static void check_autoattack(const char *dir, const rcl_json *j) {
    const rcl_json *row = summary_row(j, "adversarial", "autoattack"), *runs = rcl_json_get(j, "runs");
    const char *verdict = row ? rcl_json_get_string(row, "verdict") : NULL;
    CHECK(verdict && !strncmp(verdict, "n = 1: ", 7), "the AutoAttack row has a verdict: %s", verdict ? verdict : "-");
    CHECK(row && !rcl_json_get(row, "paper") && !strcmp(rcl_json_get_string(row, "vs_paper"), ""),
          "the AutoAttack row: no claim of the paper");
    int with = 0, adv = 0;
    for (size_t i = 0; runs && i < runs->len; i++) {
        const rcl_json *r = &runs->items[i], *m = rcl_json_get(r, "metrics");
        int is_adv = !strcmp(rcl_json_get_string(r, "experiment"), "adversarial");
        double aa = rcl_json_get_number(m, "autoattack", NAN), ce = rcl_json_get_number(m, "autoattack_apgd_ce", NAN);
        double t = rcl_json_get_number(m, "autoattack_apgd_t", NAN), sq = rcl_json_get_number(m, "autoattack_square", NAN);
        double fab = rcl_json_get_number(m, "autoattack_fab_t", NAN);
        adv += is_adv, with += !isnan(aa);
        CHECK((!isnan(aa)) == is_adv, "run %s: autoattack %s", rcl_json_get_string(r, "id"), isnan(aa) ? "absent" : "present");
        if (is_adv)
            CHECK(aa >= 0 && aa <= sq && sq <= fab && fab <= t && t <= ce && ce <= 100 && fabs(aa - sq) < 1e-9,
                  "run %s: robust after APGD-CE %g >= APGD-T %g >= FAB-T %g >= Square %g = AutoAttack %g",
                  rcl_json_get_string(r, "id"), ce, t, fab, sq, aa);
    }
    CHECK(adv == 2 && with == 2, "both adversarial arms have an AutoAttack accuracy (%d of %d)", with, adv);
    const char *note = rcl_json_get_string(j, "autoattack_note"), *grid = rcl_json_get_string(j, "grid");
    CHECK(note && strstr(note, "APGD-CE, APGD-T, FAB-T and Square"), "report.json: the AutoAttack note");
    CHECK(grid && strstr(grid, "AutoAttack (adversarial runs, both arms): the first 8 target test images"),
          "the grid states the AutoAttack images");
    char path[1024];
    unsigned char *text = NULL;
    size_t size = 0;
    snprintf(path, sizeof path, "%s/table.txt", dir);
    CHECK_OK(rcl_file_read(path, &text, &size));
    CHECK(text && strstr((char *)text, " autoattack ") && strstr((char *)text, "autoattack: AutoAttack robust accuracy"),
          "table.txt: the AutoAttack row and its note");
    free(text);
    snprintf(path, sizeof path, "%s/report.html", dir);
    CHECK_OK(rcl_file_read(path, &text, &size));
    CHECK(text && strstr((char *)text, "<td class='l'>autoattack</td>") &&
              strstr((char *)text, "<p class='autoattack'>autoattack:") &&
              strstr((char *)text, "text-anchor='middle'>AutoAttack</text>"),
          "report.html: the AutoAttack row, its note and its bars beside PGD's");
    free(text);
}

/* The suite's record and every stage's: version, device, parameters, time, host. */
static void check_provenance(const rcl_json *j) {
    static const char *const keys[] = {"robustcl_version", "commit", "clblast_version", "platform", "device", "driver",
                                       "opencl_c", "gemm_params_source", "conv_policy", "conv_params_source",
                                       "started_utc", "host", "cpu"};
    const rcl_json *p = rcl_json_get(j, "provenance"), *runs = rcl_json_get(j, "runs");
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        const char *v = rcl_json_get_string(p, keys[k]);
        CHECK(v && *v, "report.json provenance.%s filled: %s", keys[k], v ? v : "(absent)");
    }
    CHECK(rcl_json_get_number(p, "wall_seconds", -1) > 0, "report.json provenance.wall_seconds");
    size_t with = 0;
    for (size_t i = 0; runs && i < runs->len; i++) {
        const rcl_json *rp = rcl_json_get(&runs->items[i], "provenance");
        with += rp && rcl_json_get_string(rp, "conv_configs") && rcl_json_get_string(rp, "dataset_sha256");
    }
    CHECK(runs && runs->len > 0 && with == runs->len, "every stage has its record: %zu of %zu", with,
          runs ? runs->len : 0);
    const rcl_json *d = rcl_json_get(j, "provenance_differences");
    CHECK(d && d->type == RCL_JSON_ARRAY && d->len == 0, "one device and version: no differences");
}

int main(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/suite", rcl_test_tmpdir());
    setenv("ROBUSTCL_QUIET", "1", 1);
    rcl_suite_config c;
    rcl_suite_defaults(&c, 1);
    c.run = rcl_test_run_config();
    CHECK_OK(rcl_suite_run(&c, dir, NULL));
    rcl_json *j = load(dir);
    if (j) {
        check_summary(j);
        check_headline(dir, j);
        check_provenance(j);
        check_corruption(dir, j);
        check_dump(dir, j, "clean");
        check_dump(dir, j, "uncertainty");
        /* one stage a seed is shared: the uncertainty experiment's scratch arm is the clean one */
        CHECK(stages(j, "stages_cached") == c.nseeds && stages(j, "stages_run") > 20,
              "first run ran %g stages, %g from the cache", stages(j, "stages_run"), stages(j, "stages_cached"));
    }
    rcl_json_free(j);

    /* the same configuration again: everything from the cache */
    CHECK_OK(rcl_suite_run(&c, dir, NULL));
    j = load(dir);
    CHECK(j && stages(j, "stages_run") == 0, "rerun ran %g stages (all should be cached)", j ? stages(j, "stages_run") : -1);
    rcl_json_free(j);

    /* a changed evaluation attack re-runs the adversarial runs only (one seed, two arms) */
    c.adv_eval_steps += 1;
    CHECK_OK(rcl_suite_run(&c, dir, NULL));
    j = load(dir);
    CHECK(j && stages(j, "stages_run") == 2, "changed attack re-ran %g stages, expected the 2 adversarial runs",
          j ? stages(j, "stages_run") : -1);
    rcl_json_free(j);

    /* a changed corruption seed re-runs the two clean runs only (the uncertainty scratch arm is one of them) */
    c.corrupt_seed += 1;
    CHECK_OK(rcl_suite_run(&c, dir, NULL));
    j = load(dir);
    CHECK(j && stages(j, "stages_run") == 2, "changed corruption seed re-ran %g stages, expected the 2 clean runs",
          j ? stages(j, "stages_run") : -1);
    rcl_json_free(j);

    /* stages cached without the corruption row (as before it existed) re-run to add it */
    c.corrupt_per_class = 0;
    CHECK_OK(rcl_suite_run(&c, dir, NULL));
    j = load(dir);
    CHECK(j && stages(j, "stages_run") == 2 && !summary_row(j, "clean", "mce") && !rcl_json_get(j, "corruption_note"),
          "without corruptions: the 2 clean runs re-ran (%g), no corruption row", j ? stages(j, "stages_run") : -1);
    rcl_json_free(j);
    c.corrupt_per_class = 4;
    CHECK_OK(rcl_suite_run(&c, dir, NULL));
    j = load(dir);
    CHECK(j && stages(j, "stages_run") == 2 && summary_row(j, "clean", "mce"),
          "a cache without the corruption row: the 2 clean runs re-ran (%g) and report it",
          j ? stages(j, "stages_run") : -1);
    CHECK(j && !summary_row(j, "adversarial", "autoattack") && !rcl_json_get(j, "autoattack_note"),
          "no AutoAttack row by default");
    rcl_json_free(j);

    /* the AutoAttack row, on 8 images with a few steps, targets and queries (seconds): the 2
     * adversarial runs re-run */
    c.autoattack_n = 8;
    c.autoattack.iters = 4, c.autoattack.targets = 2, c.autoattack.queries = 20;
    CHECK_OK(rcl_suite_run(&c, dir, NULL));
    j = load(dir);
    CHECK(j && stages(j, "stages_run") == 2, "AutoAttack on: re-ran %g stages, expected the 2 adversarial runs",
          j ? stages(j, "stages_run") : -1);
    if (j)
        check_autoattack(dir, j);
    rcl_json_free(j);
    /* 3 target classes: APGD-T cannot run, refused before anything trains */
    snprintf(c.target_classes, sizeof c.target_classes, "5-7");
    CHECK_FAILS(rcl_suite_run(&c, dir, NULL), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "APGD-T needs at least 4 target classes"), "names why: %s", rcl_last_error());
    return rcl_test_finish();
}
