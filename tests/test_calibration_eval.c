/* The calibration evaluation of spec §9 (robustcl/evaluate.h): golden vectors C1 and
 * C6 through logits, what each mode reports, reliability bins, the score dump
 * re-measured (RMS/MAD by an independent sort), small sets and argument errors. Host only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/evaluate.h"
#include "core/fileio.h"

#define NEAR(got, want, tol, what) \
    CHECK(fabs((got) - (want)) <= (tol), "%s: got %.9f, want %.9f", what, (double)(got), (double)(want))

/* 2-class logits whose max softmax is conf[i] (> 0.5) on class 0; label 0 when correct. */
static void logits_for(const double *conf, const int *correct, int n, float *z, int32_t *y) {
    for (int i = 0; i < n; i++) {
        z[2 * i] = (float)log(conf[i] / (1 - conf[i]));
        z[2 * i + 1] = 0;
        y[i] = correct[i] ? 0 : 1;
    }
}

static void test_golden(void) {
    /* C1 with bins of 2 */
    const double conf[] = {.9, .8, .7, .6, .55, .95};
    const int correct[] = {1, 1, 0, 1, 0, 1};
    float z[12];
    int32_t y[6];
    logits_for(conf, correct, 6, z, y);
    rcl_logit_set t = {"c1", z, y, 6, 2};
    rcl_calib_config c = rcl_calib_defaults();
    CHECK(c.paper_mode == 1 && c.bin == 100 && c.ece_bins == 15, "defaults: paper mode, bins of 100, 15 ECE bins");
    c.bin = 2;
    rcl_calib_report r;
    CHECK_OK(rcl_calib_evaluate(&t, NULL, &c, &r));
    NEAR(r.at_1.rms_paper, 0.150693, 1e-6, "C1 paper RMS");
    NEAR(r.at_1.mad_paper, 0.108333, 1e-6, "C1 paper MAD");
    NEAR(r.at_1.rms_textbook, 0.156791, 1e-6, "C1 all-bins RMS");
    NEAR(r.at_1.mad_textbook, 0.133333, 1e-6, "C1 all-bins MAD");
    CHECK(!r.tuned && r.T == 1 && r.T_used == 1, "no validation set: T = 1, not tuned");
    CHECK(r.rms == r.at_1.rms_paper && r.mad == r.at_1.mad_paper, "paper mode headline = paper binning");
    NEAR(r.error, 2.0 / 6, 1e-12, "C1 error");
    /* correct by descending confidence: 1 1 1 0 1 0 */
    NEAR(r.at_1.aurra, (1 + 1 + 1 + 3.0 / 4 + 4.0 / 5 + 4.0 / 6) / 6, 1e-6, "C1 AURRA");
    int total = 0;
    for (int b = 0; b < r.n_bins; b++)
        total += r.bins[b].count;
    CHECK(r.n_bins == 15 && total == 6, "15 reliability bins holding all 6 images (%d)", total);
    /* conf .7 lies in (10/15, 11/15]: bin 10, alone and wrong; .95 alone in bin 14, right */
    CHECK(r.bins[10].count == 1 && fabs(r.bins[10].conf - 0.7) < 1e-6 && r.bins[10].acc == 0, "bin 10 holds .7, wrong");
    CHECK(r.bins[14].count == 1 && fabs(r.bins[14].conf - 0.95) < 1e-6 && r.bins[14].acc == 1, "bin 14 holds .95, right");
    rcl_calib_report_free(&r);
    c.paper_mode = 0;
    CHECK_OK(rcl_calib_evaluate(&t, NULL, &c, &r));
    CHECK(r.rms == r.at_1.rms_textbook && r.mad == r.at_1.mad_textbook && r.T_used == 1,
          "textbook mode without validation: every bin at T = 1");
    rcl_calib_report_free(&r);

    /* C6: validation logits [2 ln 3, 0] x4, labels 0 0 0 1 -> T* = 2 */
    float zv[8];
    int32_t yv[4] = {0, 0, 0, 1};
    for (int i = 0; i < 4; i++)
        zv[2 * i] = (float)(2 * log(3.0)), zv[2 * i + 1] = 0;
    rcl_logit_set v = {"c6", zv, yv, 4, 2};
    c.bin = 2;
    c.paper_mode = 1;
    CHECK_OK(rcl_calib_evaluate(&t, &v, &c, &r));
    CHECK(r.tuned, "validation set given: tuned");
    NEAR(r.T, 2.0, 1e-3, "C6 T*");
    NEAR(r.val_nll_T, 0.5623351, 1e-6, "C6 NLL(T*)");
    NEAR(r.val_nll_1, 0.6546667, 1e-6, "C6 NLL(1)");
    CHECK(r.T_used == 1 && r.rms == r.at_1.rms_paper, "paper mode reports T = 1 although T was tuned (Table 5)");
    CHECK(r.at_T.T == r.T && r.at_T.rms_paper < r.at_1.rms_paper,
          "at T = 2 the over-confident C1 set is better calibrated (%.4f < %.4f)", r.at_T.rms_paper,
          r.at_1.rms_paper);
    double nll_T;
    CHECK_OK(rcl_calib_nll(z, (const int *)y, 6, 2, r.T, &nll_T));
    NEAR(r.at_T.nll, nll_T, 1e-12, "test NLL at T");
    rcl_calib_report_free(&r);
    c.paper_mode = 0;
    CHECK_OK(rcl_calib_evaluate(&t, &v, &c, &r));
    CHECK(r.T_used == r.T && r.rms == r.at_T.rms_textbook && r.mad == r.at_T.mad_textbook,
          "textbook mode: the tuned T and every bin");
    rcl_calib_report_free(&r);
}

typedef struct {
    double c;
    int i, ok;
} keyed;

static int by_conf(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    return x->c != y->c ? (x->c < y->c ? -1 : 1) : x->i - y->i;
}

/* RMS/MAD as spec §9 words it, from (confidence, correct) pairs. */
static void rms_mad(const double *conf, const int *ok, int n, int bin, int paper, double *rms, double *mad) {
    keyed *v = malloc(sizeof(keyed) * (size_t)n);
    for (int i = 0; i < n; i++)
        v[i].c = conf[i], v[i].i = i, v[i].ok = ok[i];
    qsort(v, (size_t)n, sizeof(keyed), by_conf);
    int nb = n / bin;
    double sq = 0, ab = 0;
    for (int b = 0; b < nb - (paper ? 1 : 0); b++) {
        int lo = b * bin, hi = b == nb - 1 ? n : lo + bin;
        double sc = 0, sa = 0;
        for (int i = lo; i < hi; i++)
            sc += v[i].c, sa += v[i].ok;
        double gap = (sc - sa) / (hi - lo);
        sq += (hi - lo) * gap * gap / n;
        ab += (hi - lo) * fabs(gap) / n;
    }
    *rms = sqrt(sq), *mad = ab;
    free(v);
}

static void test_dump_recomputed(void) {
    enum { N = 537, K = 4, NV = 300 };
    rcl_rng g = rcl_rng_seed(21);
    float *z = malloc(sizeof(float) * N * K), *zv = malloc(sizeof(float) * NV * K);
    int32_t *y = malloc(sizeof(int32_t) * N), *yv = malloc(sizeof(int32_t) * NV);
    /* over-confident logits: the true class is boosted, then everything scaled by 3 */
    for (int i = 0; i < N + NV; i++) {
        float *row = i < N ? z + (size_t)i * K : zv + (size_t)(i - N) * K;
        int32_t lab = (int32_t)rcl_rng_below(&g, K);
        for (int k = 0; k < K; k++)
            row[k] = (float)(3 * (rcl_rng_normal(&g) + (k == lab ? 1.0 : 0.0)));
        if (i < N)
            y[i] = lab;
        else
            yv[i - N] = lab;
    }
    rcl_logit_set t = {"synthetic-test", z, y, N, K}, v = {"synthetic-val", zv, yv, NV, K};
    rcl_calib_report r;
    CHECK_OK(rcl_calib_evaluate(&t, &v, NULL, &r));
    CHECK(r.T > 1.2, "over-confident logits tune to T > 1 (%.3f)", r.T);
    char path[512];
    snprintf(path, sizeof path, "%s/calib.tsv", rcl_test_tmpdir());
    CHECK_OK(rcl_scores_dump(path, &t, NULL, 0, NULL, r.T));
    unsigned char *text = NULL;
    size_t size = 0;
    CHECK_OK(rcl_file_read(path, &text, &size));
    double *conf = malloc(sizeof(double) * N), *conf_t = malloc(sizeof(double) * N);
    int *ok = malloc(sizeof(int) * N), rows = 0;
    char *save = NULL, *line = text ? strtok_r((char *)text, "\n", &save) : NULL;
    while (line && (line = strtok_r(NULL, "\n", &save)) && rows < N) {
        char *f[10];
        f[0] = line;
        for (int k = 1; k < 10; k++)
            f[k] = strchr(f[k - 1], '\t') + 1;
        conf[rows] = strtod(f[6], NULL);
        conf_t[rows] = strtod(f[7], NULL);
        ok[rows++] = atoi(f[9]);
    }
    CHECK(rows == N, "dump has %d ID rows (want %d)", rows, N);
    if (rows == N) {
        double rms, mad, wrong = 0;
        rms_mad(conf, ok, N, 100, 1, &rms, &mad);
        NEAR(rms, r.at_1.rms_paper, 1e-12, "paper RMS from the dump");
        NEAR(mad, r.at_1.mad_paper, 1e-12, "paper MAD from the dump");
        NEAR(rms, r.rms, 1e-12, "paper headline RMS from the dump");
        rms_mad(conf, ok, N, 100, 0, &rms, &mad);
        NEAR(rms, r.at_1.rms_textbook, 1e-12, "textbook RMS from the dump");
        rms_mad(conf_t, ok, N, 100, 0, &rms, &mad);
        NEAR(rms, r.at_T.rms_textbook, 1e-12, "textbook RMS at T from confidence_t");
        NEAR(mad, r.at_T.mad_textbook, 1e-12, "textbook MAD at T from confidence_t");
        for (int i = 0; i < N; i++)
            wrong += !ok[i];
        NEAR(wrong / N, r.error, 1e-12, "error from the dump");
        /* 537 = 5 bins (the last of 137): paper mode drops 137 of 537 from the sum */
        CHECK(r.at_1.rms_paper != r.at_1.rms_textbook, "paper and textbook RMS differ here");
    }
    free(text), free(conf), free(conf_t), free(ok);
    rcl_calib_report_free(&r);
    free(z), free(zv), free(y), free(yv);
}

static void test_small_and_errors(void) {
    const double conf[] = {.9, .6, .7};
    const int correct[] = {1, 0, 1};
    float z[6];
    int32_t y[3];
    logits_for(conf, correct, 3, z, y);
    rcl_logit_set t = {"three", z, y, 3, 2};
    rcl_calib_report r;
    CHECK_OK(rcl_calib_evaluate(&t, NULL, NULL, &r));
    double want = sqrt(pow((.9 + .6 + .7) / 3 - 2.0 / 3, 2));
    NEAR(r.rms, want, 1e-6, "n < bin: one bin of everything");
    rcl_calib_report_free(&r);
    rcl_logit_set u = t;
    u.labels = NULL;
    CHECK_FAILS(rcl_calib_evaluate(&u, NULL, NULL, &r), RCL_ERR_INVALID_ARG);
    int32_t bad[3] = {0, 2, 1};
    u.labels = bad;
    CHECK_FAILS(rcl_calib_evaluate(&u, NULL, NULL, &r), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "three") != NULL, "the error names the set (%s)", rcl_last_error());
    float zv[3] = {1, 2, 3};
    int32_t yv[1] = {0};
    rcl_logit_set v = {"val3", zv, yv, 1, 3};
    CHECK_FAILS(rcl_calib_evaluate(&t, &v, NULL, &r), RCL_ERR_INVALID_ARG);
    float zn[2] = {NAN, 0};
    rcl_logit_set n = {"nan-test", zn, y, 1, 2};
    CHECK_FAILS(rcl_calib_evaluate(&n, NULL, NULL, &r), RCL_ERR_NUMERIC);
    CHECK(strstr(rcl_last_error(), "nan-test") != NULL, "the error names the set (%s)", rcl_last_error());
    CHECK(r.bins == NULL, "a failed evaluation leaves nothing to free");
}

int main(void) {
    test_golden();
    test_dump_recomputed();
    test_small_and_errors();
    return rcl_test_finish();
}
