/* The OOD evaluation of spec §8 (robustcl/evaluate.h): whole-set use of a small
 * set, seeded draws without replacement, per-draw measures against a brute-force
 * pairwise AUROC, averaging over draws and sets, the ROC grid, MSP from logits, the
 * score dump read back and re-measured, and argument errors. Host only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/evaluate.h"
#include "core/fileio.h"

#define NEAR(got, want, tol, what) \
    CHECK(fabs((got) - (want)) <= (tol), "%s: got %.12f, want %.12f", what, (double)(got), (double)(want))

/* P(ood > id) + P(tie)/2 by counting every pair: independent of the library's sort. */
static double pair_auroc(const double *ood, int no, const double *id, int ni) {
    double w = 0;
    for (int i = 0; i < no; i++)
        for (int j = 0; j < ni; j++)
            w += ood[i] > id[j] ? 1.0 : ood[i] == id[j] ? 0.5 : 0.0;
    return w / ((double)no * ni);
}

/* Scores on a coarse grid so ties between and within sets occur. */
static void fill_scores(rcl_rng *r, double *x, int n, double shift) {
    for (int i = 0; i < n; i++)
        x[i] = floor((rcl_rng_uniform(r) + shift) * 40) / 40;
}

static void test_small_set_used_whole(void) {
    /* spec §10 V1 as one OOD set smaller than the draw size */
    const double ood[] = {.9, .8, .6, .3}, id[] = {.7, .5, .4, .2, .1};
    const double *sets[] = {ood};
    const int n[] = {4};
    const char *names[] = {"v1"};
    rcl_ood_config c = rcl_ood_defaults();
    c.draw_size = 10;
    rcl_ood_report r;
    CHECK_OK(rcl_ood_evaluate_scores(id, 5, sets, n, names, 1, &c, &r));
    CHECK(r.n_sets == 1 && r.sets[0].used_whole == 1 && r.sets[0].n_draws == 1 && r.sets[0].draw_size == 4,
          "a set smaller than the draw size is used whole, once (%d draws of %d)", r.sets[0].n_draws,
          r.sets[0].draw_size);
    NEAR(r.sets[0].mean.auroc, 0.8, 1e-12, "V1 AUROC");
    NEAR(r.sets[0].mean.aupr, 93.0 / 112.0, 1e-12, "V1 AP");
    NEAR(r.sets[0].mean.fpr_paper, 0.6, 1e-12, "V1 FPR95");
    NEAR(r.mean.auroc, 0.8, 1e-12, "mean over one set");
    CHECK(!strcmp(r.sets[0].name, "v1"), "set name kept (%s)", r.sets[0].name);
    /* default draw size: 5 ID scores / 5 = 1 < 4, so the set is drawn 5 times, one score each */
    rcl_ood_report d;
    CHECK_OK(rcl_ood_evaluate_scores(id, 5, sets, n, names, 1, NULL, &d));
    CHECK(d.sets[0].used_whole == 0 && d.sets[0].n_draws == RCL_OOD_DRAWS && d.sets[0].draw_size == 1,
          "default: n_id/5 = 1 per draw, 5 draws (%d, %d)", d.sets[0].n_draws, d.sets[0].draw_size);
    rcl_ood_report_free(&d);
    /* perfectly separated (V6): the ROC grid is 1 everywhere, the vertical jump at FPR 0 counts */
    const double o6[] = {.9, .8}, i6[] = {.2, .1};
    const double *s6[] = {o6};
    const int n6[] = {2};
    rcl_ood_report r6;
    CHECK_OK(rcl_ood_evaluate_scores(i6, 2, s6, n6, NULL, 1, &c, &r6));
    int ones = 0;
    for (int j = 0; j < RCL_ROC_GRID; j++)
        ones += r6.sets[0].roc_tpr[j] == 1.0;
    CHECK(ones == RCL_ROC_GRID, "separated sets: TPR 1 at every grid FPR (%d of %d)", ones, RCL_ROC_GRID);
    rcl_ood_report_free(&r6);
    rcl_ood_report_free(&r);
    CHECK(r.sets == NULL && r.n_sets == 0, "free zeroes the report");
}

static void test_draws(void) {
    enum { NI = 1000, NA = 800, NB = 150 };
    rcl_rng g = rcl_rng_seed(11);
    double *id = malloc(sizeof(double) * NI), *a = malloc(sizeof(double) * NA), *b = malloc(sizeof(double) * NB);
    double *sub = malloc(sizeof(double) * NA);
    fill_scores(&g, id, NI, 0.0);
    fill_scores(&g, a, NA, 0.3);
    fill_scores(&g, b, NB, 0.1);
    const double *sets[] = {a, b};
    const int n[] = {NA, NB};
    const char *names[] = {"a", "b"};
    rcl_ood_config c = rcl_ood_defaults();
    c.seed = 7;
    rcl_ood_report r;
    CHECK_OK(rcl_ood_evaluate_scores(id, NI, sets, n, names, 2, &c, &r));
    const rcl_ood_set_result *e = &r.sets[0];
    CHECK(e->draw_size == NI / 5 && e->n_draws == 5 && !e->used_whole, "set a: 5 draws of n_id/5 = 200 (%d of %d)",
          e->n_draws, e->draw_size);
    CHECK(r.sets[1].used_whole && r.sets[1].n_draws == 1 && r.sets[1].draw_size == NB,
          "set b (150 < 200) used whole once");
    double mean_auroc = 0, mean_fpr = 0;
    int sorted_distinct = 1, same_as_prev = 0;
    for (int d = 0; d < e->n_draws; d++) {
        const int *idx = e->draw_index + (size_t)d * e->draw_size;
        for (int i = 0; i < e->draw_size; i++) {
            if (idx[i] < 0 || idx[i] >= NA || (i && idx[i] <= idx[i - 1]))
                sorted_distinct = 0;
            sub[i] = a[idx[i]];
        }
        if (d && !memcmp(idx, idx - e->draw_size, sizeof(int) * (size_t)e->draw_size))
            same_as_prev = 1;
        double want = pair_auroc(sub, e->draw_size, id, NI);
        char what[64];
        snprintf(what, sizeof what, "draw %d AUROC vs pairwise count", d);
        NEAR(e->per_draw[d].auroc, want, 1e-12, what);
        rcl_ood_measures m;
        CHECK_OK(rcl_ood_measures_compute(sub, e->draw_size, id, NI, RCL_FPR_RECALL, &m));
        CHECK(m.aupr == e->per_draw[d].aupr && m.fpr_paper == e->per_draw[d].fpr_paper &&
                  m.fpr_first == e->per_draw[d].fpr_first,
              "draw %d: AUPR and FPRs are those of the drawn scores", d);
        mean_auroc += want / e->n_draws;
        mean_fpr += m.fpr_paper / e->n_draws;
    }
    CHECK(sorted_distinct, "draw indices are in range, distinct and ascending");
    CHECK(!same_as_prev, "consecutive draws differ");
    NEAR(e->mean.auroc, mean_auroc, 1e-12, "set mean AUROC = mean of draws");
    NEAR(e->mean.fpr_paper, mean_fpr, 1e-12, "set mean FPR = mean of draws");
    NEAR(r.sets[1].mean.auroc, pair_auroc(b, NB, id, NI), 1e-12, "whole set b AUROC");
    NEAR(r.mean.auroc, (e->mean.auroc + r.sets[1].mean.auroc) / 2, 1e-12, "mean over sets");
    NEAR(r.mean.aupr, (e->mean.aupr + r.sets[1].mean.aupr) / 2, 1e-12, "mean AUPR over sets");
    /* ROC grid: starts at FPR 0, ends at (1,1), non-decreasing; its trapezoid area is the
     * mean AUROC up to the grid's resolution */
    double area = 0;
    int mono = 1;
    for (int j = 1; j < RCL_ROC_GRID; j++) {
        area += (e->roc_fpr[j] - e->roc_fpr[j - 1]) * (e->roc_tpr[j] + e->roc_tpr[j - 1]) / 2;
        mono &= e->roc_tpr[j] >= e->roc_tpr[j - 1] - 1e-15;
    }
    CHECK(e->roc_fpr[0] == 0 && e->roc_fpr[RCL_ROC_GRID - 1] == 1 && fabs(e->roc_tpr[RCL_ROC_GRID - 1] - 1) < 1e-12,
          "ROC grid spans FPR 0..1 and ends at TPR 1");
    CHECK(mono, "ROC grid TPR is non-decreasing");
    NEAR(area, e->mean.auroc, 5e-3, "ROC grid area vs mean AUROC");

    /* seeded: same seed same draws; set a's draws do not depend on set b being there */
    rcl_ood_report r2, r3;
    CHECK_OK(rcl_ood_evaluate_scores(id, NI, sets, n, names, 1, &c, &r2));
    CHECK(!memcmp(r2.sets[0].draw_index, e->draw_index, sizeof(int) * 5 * e->draw_size),
          "same seed, fewer sets: the same draws");
    c.seed = 8;
    CHECK_OK(rcl_ood_evaluate_scores(id, NI, sets, n, names, 1, &c, &r3));
    CHECK(memcmp(r3.sets[0].draw_index, e->draw_index, sizeof(int) * 5 * e->draw_size) != 0,
          "another seed: other draws");
    rcl_ood_report_free(&r2);
    rcl_ood_report_free(&r3);
    rcl_ood_report_free(&r);
    free(id), free(a), free(b), free(sub);
}

/* Every OOD index is equally likely to be drawn: 50 images, draws of 10, 2000 draws. */
static void test_draw_uniformity(void) {
    enum { NI = 50, NO = 50, DRAWS = 2000 };
    double id[NI], ood[NO];
    for (int i = 0; i < NI; i++)
        id[i] = i, ood[i] = i + 0.5;
    const double *sets[] = {ood};
    const int n[] = {NO};
    rcl_ood_config c = rcl_ood_defaults();
    c.draws = DRAWS;
    c.draw_size = 10;
    rcl_ood_report r;
    CHECK_OK(rcl_ood_evaluate_scores(id, NI, sets, n, NULL, 1, &c, &r));
    int count[NO] = {0};
    for (int i = 0; i < DRAWS * 10; i++)
        count[r.sets[0].draw_index[i]]++;
    int lo = count[0], hi = count[0];
    for (int i = 1; i < NO; i++)
        lo = count[i] < lo ? count[i] : lo, hi = count[i] > hi ? count[i] : hi;
    /* expected 400 each, sd about 18 */
    CHECK(lo > 310 && hi < 490, "inclusion counts within 5 sd of 400 (min %d, max %d)", lo, hi);
    rcl_ood_report_free(&r);
}

/* 2-class logits [a, 0]: max softmax = 1 / (1 + exp(-|a|)). */
static void fill_logits(rcl_rng *g, float *z, int32_t *y, int n, double spread) {
    for (int i = 0; i < n; i++) {
        z[2 * i] = (float)(spread * (2 * rcl_rng_uniform(g) - 1));
        z[2 * i + 1] = 0;
        if (y)
            y[i] = (int32_t)rcl_rng_below(g, 2);
    }
}

static double line_field(char *line, int field, char **text) {
    char *p = line;
    for (int f = 0; f < field; f++)
        p = strchr(p, '\t') + 1;
    if (text)
        *text = p;
    return strtod(p, NULL);
}

static void test_logits_and_dump(void) {
    enum { NI = 600, NA = 500, NB = 90 };
    rcl_rng g = rcl_rng_seed(3);
    float *zi = malloc(sizeof(float) * 2 * NI), *za = malloc(sizeof(float) * 2 * NA), *zb = malloc(sizeof(float) * 2 * NB);
    int32_t *yi = malloc(sizeof(int32_t) * NI);
    fill_logits(&g, zi, yi, NI, 6.0);
    fill_logits(&g, za, NULL, NA, 2.0);
    fill_logits(&g, zb, NULL, NB, 1.0);
    rcl_logit_set id = {"test-set", zi, yi, NI, 2};
    rcl_logit_set ood[2] = {{"gaussian:1x2x2", za, NULL, NA, 2}, {"tiny", zb, NULL, NB, 2}};
    rcl_ood_config c = rcl_ood_defaults();
    c.seed = 5;
    rcl_ood_report r;
    CHECK_OK(rcl_ood_evaluate(&id, ood, 2, &c, &r));
    /* the same through scores computed here */
    double *si = malloc(sizeof(double) * NI), *sa = malloc(sizeof(double) * NA), *sb = malloc(sizeof(double) * NB);
    for (int i = 0; i < NI; i++)
        si[i] = -1 / (1 + exp(-fabs((double)zi[2 * i])));
    for (int i = 0; i < NA; i++)
        sa[i] = -1 / (1 + exp(-fabs((double)za[2 * i])));
    for (int i = 0; i < NB; i++)
        sb[i] = -1 / (1 + exp(-fabs((double)zb[2 * i])));
    const double *sets[] = {sa, sb};
    const int n[] = {NA, NB};
    rcl_ood_report rs;
    CHECK_OK(rcl_ood_evaluate_scores(si, NI, sets, n, NULL, 2, &c, &rs));
    NEAR(r.mean.auroc, rs.mean.auroc, 1e-9, "MSP from logits = -sigmoid(|a|) scores (AUROC)");
    NEAR(r.mean.fpr_first, rs.mean.fpr_first, 1e-9, "MSP from logits (FPR first)");
    CHECK(!memcmp(r.sets[0].draw_index, rs.sets[0].draw_index, sizeof(int) * 5 * r.sets[0].draw_size),
          "draws do not depend on the entry point");
    rcl_ood_report_free(&rs);

    /* the dump: header, one row per ID image and per draw member; re-measured from the text */
    char path[512];
    snprintf(path, sizeof path, "%s/scores.tsv", rcl_test_tmpdir());
    CHECK_OK(rcl_scores_dump(path, &id, ood, 2, &r, 1.5));
    unsigned char *text = NULL;
    size_t size = 0;
    CHECK_OK(rcl_file_read(path, &text, &size));
    if (!text) {
        rcl_ood_report_free(&r);
        return;
    }
    char *save = NULL, *line = strtok_r((char *)text, "\n", &save);
    CHECK(line && !strcmp(line, "set\tname\tdraw\tindex\tlabel\tpredicted\tconfidence\tconfidence_t\tmsp_score\tcorrect"),
          "dump header (%s)", line ? line : "none");
    int rows_id = 0, rows_a = 0, rows_b = 0, fields_ok = 1, id_ok = 1;
    double *dump_id = malloc(sizeof(double) * NI), *dump_a = malloc(sizeof(double) * NA * 5);
    double *dump_b = malloc(sizeof(double) * NB);
    while ((line = strtok_r(NULL, "\n", &save))) {
        int tabs = 0;
        for (char *p = line; *p; p++)
            tabs += *p == '\t';
        fields_ok &= tabs == 9;
        if (tabs != 9)
            continue;
        char *name;
        line_field(line, 1, &name);
        int draw = (int)line_field(line, 2, NULL), index = (int)line_field(line, 3, NULL);
        int label = (int)line_field(line, 4, NULL), pred = (int)line_field(line, 5, NULL);
        double conf = line_field(line, 6, NULL), conf_t = line_field(line, 7, NULL), msp = line_field(line, 8, NULL);
        int correct = (int)line_field(line, 9, NULL);
        if (!strncmp(line, "id\t", 3)) {
            double a = zi[2 * index];
            int want_pred = a > 0 ? 0 : 1;
            double want_t = 1 / (1 + exp(-fabs(a) / 1.5));
            if (draw != 0 || index != rows_id || label != yi[index] || pred != want_pred || correct != (pred == label) ||
                fabs(conf + si[index]) > 1e-12 || fabs(conf_t - want_t) > 1e-12 || msp != -conf ||
                strncmp(name, "test-set\t", 9))
                id_ok = 0;
            dump_id[rows_id++] = msp;
        } else if (!strncmp(line, "ood0\t", 5) && rows_a < NA * 5) {
            if (label != -1 || correct != -1 || draw != rows_a / r.sets[0].draw_size ||
                index != r.sets[0].draw_index[rows_a])
                fields_ok = 0;
            dump_a[rows_a++] = msp;
        } else if (!strncmp(line, "ood1\t", 5) && rows_b < NB) {
            dump_b[rows_b++] = msp;
        }
    }
    CHECK(fields_ok, "every row has 10 fields; OOD rows are unlabelled and follow the draws");
    CHECK(id_ok, "ID rows: index order, label, argmax, correct, confidence at T=1 and T=1.5, msp = -confidence");
    CHECK(rows_id == NI && rows_a == 5 * r.sets[0].draw_size && rows_b == NB,
          "row counts: %d ID (want %d), %d set-0 (want %d), %d set-1 (want %d)", rows_id, NI, rows_a,
          5 * r.sets[0].draw_size, rows_b, NB);
    if (rows_id == NI && rows_a == 5 * r.sets[0].draw_size) {
        double worst = 0;
        for (int d = 0; d < 5; d++) {
            double got = pair_auroc(dump_a + (size_t)d * r.sets[0].draw_size, r.sets[0].draw_size, dump_id, NI);
            worst = fmax(worst, fabs(got - r.sets[0].per_draw[d].auroc));
        }
        CHECK(worst <= 1e-12, "AUROC re-measured from the dump equals the report per draw (max diff %g)", worst);
        NEAR(pair_auroc(dump_b, rows_b, dump_id, NI), r.sets[1].mean.auroc, 1e-12, "whole set AUROC from the dump");
    }
    free(dump_id), free(dump_a), free(dump_b), free(text);
    /* a name with a tab would break the format */
    rcl_logit_set bad = id;
    bad.name = "a\tb";
    CHECK_FAILS(rcl_scores_dump(path, &bad, NULL, 0, NULL, 1.0), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_scores_dump(path, &id, ood, 2, NULL, 1.0), RCL_ERR_INVALID_ARG);
    rcl_ood_report_free(&r);
    free(zi), free(za), free(zb), free(yi), free(si), free(sa), free(sb);
}

static void test_errors(void) {
    const double id[] = {.1, .2, .3}, ood[] = {.5, NAN};
    const double *sets[] = {ood};
    const int n[] = {2}, n1[] = {1};
    rcl_ood_report r;
    CHECK_FAILS(rcl_ood_evaluate_scores(id, 3, sets, n, NULL, 0, NULL, &r), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_ood_evaluate_scores(id, 0, sets, n, NULL, 1, NULL, &r), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_ood_evaluate_scores(id, 3, sets, n, NULL, 1, NULL, &r), RCL_ERR_NUMERIC);
    CHECK(r.sets == NULL, "a failed evaluation leaves nothing to free");
    rcl_ood_config c = rcl_ood_defaults();
    c.draws = 0;
    CHECK_FAILS(rcl_ood_evaluate_scores(id, 3, sets, n1, NULL, 1, &c, &r), RCL_ERR_INVALID_ARG);
    const float zi[] = {1, 0, 0, 1}, zo[] = {1, 0, 0};
    rcl_logit_set li = {"id", zi, NULL, 2, 2}, lo = {"ood", zo, NULL, 1, 3};
    CHECK_FAILS(rcl_ood_evaluate(&li, &lo, 1, NULL, &r), RCL_ERR_INVALID_ARG);
    const float zn[] = {NAN, 0};
    rcl_logit_set ln = {"nan-set", zn, NULL, 1, 2};
    CHECK_FAILS(rcl_ood_evaluate(&li, &ln, 1, NULL, &r), RCL_ERR_NUMERIC);
    CHECK(strstr(rcl_last_error(), "nan-set") != NULL, "the error names the set (%s)", rcl_last_error());
}

int main(void) {
    test_small_set_used_whole();
    test_draws();
    test_draw_uniformity();
    test_logits_and_dump();
    test_errors();
    return rcl_test_finish();
}
