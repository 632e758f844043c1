/* Evaluation math: every golden vector of spec §10, the Table golden
 * counts of section 6, and properties of the metrics, matrices and samplers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/metrics.h"

#define TOL 1e-6
#define NEAR(got, want, tol, what) \
    CHECK(fabs((got) - (want)) <= (tol), "%s: got %.9f, want %.9f", what, (double)(got), (double)(want))
#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- OOD (spec §10 V1-V6) ---- */

static void ood_case(const char *name, const double *ood, int no, const double *id, int ni, double auroc, double ap,
                     double fpr_paper, double fpr_first) {
    rcl_ood_measures m;
    char what[96];
    CHECK_OK(rcl_ood_measures_compute(ood, no, id, ni, RCL_FPR_RECALL, &m));
    if (!isnan(auroc)) {
        snprintf(what, sizeof what, "%s AUROC", name);
        NEAR(m.auroc, auroc, TOL, what);
        double a = -1;
        CHECK_OK(rcl_ood_auroc(ood, no, id, ni, &a));
        CHECK(a == m.auroc, "%s: rcl_ood_auroc agrees with the combined call", name);
    }
    if (!isnan(ap)) {
        snprintf(what, sizeof what, "%s AP", name);
        NEAR(m.aupr, ap, TOL, what);
        double a = -1;
        CHECK_OK(rcl_ood_aupr(ood, no, id, ni, &a));
        CHECK(a == m.aupr, "%s: rcl_ood_aupr agrees with the combined call", name);
    }
    if (!isnan(fpr_paper)) {
        snprintf(what, sizeof what, "%s FPR95 paper", name);
        NEAR(m.fpr_paper, fpr_paper, 1e-12, what);
        double f = -1;
        CHECK_OK(rcl_ood_fpr_at_recall(ood, no, id, ni, RCL_FPR_RECALL, 1, &f));
        CHECK(f == m.fpr_paper, "%s: paper FPR via rcl_ood_fpr_at_recall", name);
    }
    if (!isnan(fpr_first)) {
        snprintf(what, sizeof what, "%s FPR95 first-TPR>=0.95", name);
        NEAR(m.fpr_first, fpr_first, 1e-12, what);
        double f = -1;
        CHECK_OK(rcl_ood_fpr_at_recall(ood, no, id, ni, RCL_FPR_RECALL, 0, &f));
        CHECK(f == m.fpr_first, "%s: first-TPR FPR via rcl_ood_fpr_at_recall", name);
    }
}

static void test_ood_golden(void) {
    const double v1o[] = {.9, .8, .6, .3}, v1i[] = {.7, .5, .4, .2, .1};
    ood_case("V1", v1o, 4, v1i, 5, 0.8, 93.0 / 112.0, 0.6, 0.6);
    const double v2o[] = {.5, .5}, v2i[] = {.5, .2};
    ood_case("V2", v2o, 2, v2i, 2, 0.75, 2.0 / 3.0, 0.5, 0.5);
    const double v3o[] = {1.0, .95, .9, .85, .8, .75, .7, .65, .6, .1}, v3i[] = {.5, .4, .3, .2, .1};
    ood_case("V3", v3o, 10, v3i, 5, NAN, NAN, 0.8, 1.0);
    const double v4o[] = {1.00, 0.99, 0.98, 0.97, 0.96, 0.95, 0.94, 0.93, 0.92, 0.91,
                          0.90, 0.89, 0.88, 0.87, 0.86, 0.85, 0.84, 0.83, 0.82, 0.10};
    const double v4i[] = {.955, .5, .4, .3, .2};
    ood_case("V4", v4o, 20, v4i, 5, NAN, NAN, 1.0, 0.2);
    const double v5o[] = {.5, .5}, v5i[] = {.5, .5, .5};
    ood_case("V5", v5o, 2, v5i, 3, 0.5, 0.4, 1.0, 1.0);
    const double v6o[] = {.9, .8}, v6i[] = {.2, .1};
    ood_case("V6", v6o, 2, v6i, 2, 1.0, 1.0, 0.0, 0.0);
}

static void test_ood_properties(void) {
    /* perfectly separated and swapped */
    double hi[50], lo[80];
    for (int i = 0; i < 50; i++)
        hi[i] = 10 + i * 0.1;
    for (int i = 0; i < 80; i++)
        lo[i] = -i * 0.05;
    rcl_ood_measures m;
    CHECK_OK(rcl_ood_measures_compute(hi, 50, lo, 80, RCL_FPR_RECALL, &m));
    CHECK(m.auroc == 1.0 && m.aupr == 1.0 && m.fpr_paper == 0.0 && m.fpr_first == 0.0,
          "separated: AUROC %g AP %g FPR %g/%g", m.auroc, m.aupr, m.fpr_paper, m.fpr_first);
    CHECK_OK(rcl_ood_measures_compute(lo, 80, hi, 50, RCL_FPR_RECALL, &m));
    CHECK(m.auroc == 0.0 && m.fpr_paper == 1.0 && m.fpr_first == 1.0, "swapped: AUROC %g FPR %g/%g", m.auroc,
          m.fpr_paper, m.fpr_first);
    /* AP of the swapped case: positives ranked last, AP = mean_k k / (50 + k) over k = 1..80 */
    double ap = 0;
    for (int k = 1; k <= 80; k++)
        ap += (double)k / (50 + k) / 80;
    NEAR(m.aupr, ap, 1e-12, "swapped AP");

    /* ROC export of V1: (0,0) first, (1,1) last, monotone, trapezoid area = AUROC */
    const double v1o[] = {.9, .8, .6, .3}, v1i[] = {.7, .5, .4, .2, .1};
    double *fpr = NULL, *tpr = NULL, *thr = NULL;
    int np = 0;
    CHECK_OK(rcl_ood_roc_curve(v1o, 4, v1i, 5, &fpr, &tpr, &thr, &np));
    CHECK(np == 10, "V1 ROC: 9 distinct thresholds + origin, got %d points", np);
    if (np == 10) {
        CHECK(fpr[0] == 0 && tpr[0] == 0 && isinf(thr[0]) && fpr[np - 1] == 1 && tpr[np - 1] == 1,
              "ROC starts at (0,0,+inf) and ends at (1,1)");
        double area = 0;
        int mono = 1;
        for (int i = 1; i < np; i++) {
            area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
            mono &= fpr[i] >= fpr[i - 1] && tpr[i] >= tpr[i - 1] && thr[i] < thr[i - 1];
        }
        CHECK(mono, "ROC points are monotone, thresholds descending");
        NEAR(area, 0.8, 1e-12, "V1 ROC trapezoid area");
        NEAR(fpr[3], 0.2, 1e-15, "V1 ROC point at threshold .7 (fpr)");
        NEAR(tpr[3], 0.5, 1e-15, "V1 ROC point at threshold .7 (tpr)");
    }
    free(fpr), free(tpr), free(thr);
    CHECK_OK(rcl_ood_roc_curve(v1o, 4, v1i, 5, &fpr, &tpr, NULL, &np));
    free(fpr), free(tpr);

    /* argument errors */
    double a;
    CHECK_FAILS(rcl_ood_auroc(v1o, 0, v1i, 5, &a), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_ood_auroc(v1o, 4, v1i, 0, &a), RCL_ERR_INVALID_ARG);
    const double nan_id[] = {.5, NAN};
    CHECK_FAILS(rcl_ood_aupr(v1o, 4, nan_id, 2, &a), RCL_ERR_NUMERIC);
}

static void test_msp(void) {
    const float z[] = {2, 0, 0, 0, 0, 0, 1, 3, -1};
    const int y[] = {0, 1, 2};
    double s[3], conf[3], p[9];
    int ok[3];
    CHECK_OK(rcl_msp_scores(z, 3, 3, 1.0, s));
    double e2 = exp(2.0);
    NEAR(s[0], -e2 / (e2 + 2), 1e-12, "MSP row 0");
    NEAR(s[1], -1.0 / 3, 1e-12, "MSP row 1 (uniform)");
    CHECK_OK(rcl_msp_scores(z, 3, 3, 2.0, s));
    NEAR(s[0], -exp(1.0) / (exp(1.0) + 2), 1e-12, "MSP row 0 at T=2");
    CHECK_OK(rcl_confidence_correct(z, y, 3, 3, 1.0, conf, ok));
    CHECK(ok[0] == 1 && ok[1] == 0 && ok[2] == 0, "correct: argmax ties go to the lowest index (%d %d %d)", ok[0],
          ok[1], ok[2]);
    CHECK_OK(rcl_softmax_rows(z, 3, 3, 1.0, p));
    NEAR(p[6] + p[7] + p[8], 1.0, 1e-15, "softmax row sums to 1");
    NEAR(p[7], conf[2], 1e-15, "confidence is the max softmax");
    CHECK_FAILS(rcl_msp_scores(z, 3, 3, 0.0, s), RCL_ERR_INVALID_ARG);
    const float bad[] = {1, INFINITY};
    CHECK_FAILS(rcl_msp_scores(bad, 1, 2, 1.0, s), RCL_ERR_NUMERIC);
}

/* ---- calibration (C1, C2, C4, C6) ---- */

static void test_calibration_golden(void) {
    const double c1[] = {.9, .8, .7, .6, .55, .95};
    const int k1[] = {1, 1, 0, 1, 0, 1};
    double rms = -1, mad = -1;
    CHECK_OK(rcl_calib_error(c1, k1, 6, 2, 1, &rms, &mad));
    NEAR(rms, 0.150693, TOL, "C1 paper RMS");
    NEAR(mad, 0.108333, TOL, "C1 paper MAD");
    CHECK_OK(rcl_calib_error(c1, k1, 6, 2, 0, &rms, &mad));
    NEAR(rms, 0.156791, TOL, "C1 all-bins RMS");
    NEAR(mad, 0.133333, TOL, "C1 all-bins MAD");
    CHECK_OK(rcl_calib_rms(c1, k1, 6, 2, 1, &rms));
    CHECK_OK(rcl_calib_mad(c1, k1, 6, 2, 1, &mad));
    NEAR(rms, 0.150693, TOL, "C1 paper RMS via rcl_calib_rms");
    NEAR(mad, 0.108333, TOL, "C1 paper MAD via rcl_calib_mad");

    const double c2[] = {.9, .8, .7, .6};
    const int k2[] = {1, 0, 1, 0};
    double au = -1;
    CHECK_OK(rcl_calib_aurra(c2, k2, 4, &au));
    NEAR(au, 2.0 / 3.0, 1e-12, "C2 AURRA");

    const double c4[] = {.55, .62, .71, .83, .88, .97};
    const int k4[] = {0, 1, 0, 1, 1, 1};
    double ece = -1;
    CHECK_OK(rcl_calib_ece(c4, k4, 6, 10, &ece));
    NEAR(ece, 0.326667, TOL, "C4 ECE 10 bins");
    rcl_reliability_bin rb[10];
    CHECK_OK(rcl_calib_reliability(c4, k4, 6, 10, rb));
    CHECK(rb[8].count == 2 && fabs(rb[8].conf - 0.855) < 1e-12 && rb[8].acc == 1.0 && rb[0].count == 0 &&
              fabs(rb[8].lo - 0.8) < 1e-15 && fabs(rb[8].hi - 0.9) < 1e-15,
          "C4 reliability bin (0.8,0.9]: count %d conf %g acc %g", rb[8].count, rb[8].conf, rb[8].acc);

    /* C6: logits [2 ln 3, 0] x4, labels [0 0 0 1] */
    float z[8];
    const int y[] = {0, 0, 0, 1};
    for (int i = 0; i < 4; i++)
        z[2 * i] = (float)(2 * log(3.0)), z[2 * i + 1] = 0;
    double T = -1, nll = -1;
    CHECK_OK(rcl_calib_tune_temperature(z, y, 4, 2, RCL_TEMP_LO, RCL_TEMP_HI, RCL_TEMP_TOL, &T));
    CHECK(fabs(T - 2.0) <= RCL_TEMP_TOL, "C6 T* = %.6f, want 2.0 within the bisection tolerance", T);
    CHECK_OK(rcl_calib_nll(z, y, 4, 2, T, &nll));
    NEAR(nll, 0.5623351, TOL, "C6 NLL(T*)");
    CHECK_OK(rcl_calib_nll(z, y, 4, 2, 1.0, &nll));
    NEAR(nll, 0.6546667, TOL, "C6 NLL(1)");
    const int bad_y[] = {0, 0, 0, 2};
    CHECK_FAILS(rcl_calib_tune_temperature(z, bad_y, 4, 2, RCL_TEMP_LO, RCL_TEMP_HI, RCL_TEMP_TOL, &T),
                RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_calib_tune_temperature(z, y, 4, 2, 5.0, 0.2, RCL_TEMP_TOL, &T), RCL_ERR_INVALID_ARG);
}

static void test_calibration_properties(void) {
    /* stable sort of tied confidences: bins {1,1} {1,0} in the original order; paper mode sees
     * only the first (diff .5), a reversed tie order would show it {0,1} (diff 0) */
    const double tie[] = {.5, .5, .5, .5};
    const int tk[] = {1, 1, 1, 0};
    double rms, mad;
    CHECK_OK(rcl_calib_error(tie, tk, 4, 2, 0, &rms, &mad));
    NEAR(rms, sqrt(0.5 * 0.25), 1e-12, "tied confidences, all bins: RMS");
    NEAR(mad, 0.25, 1e-12, "tied confidences, all bins: MAD");
    CHECK_OK(rcl_calib_error(tie, tk, 4, 2, 1, &rms, &mad));
    NEAR(rms, sqrt(0.5 * 0.25), 1e-12, "tied confidences, stable sort, paper RMS (first bin only, / full N)");
    NEAR(mad, 0.25, 1e-12, "tied confidences, stable sort, paper MAD");
    double au;
    const int tk2[] = {1, 0};
    CHECK_OK(rcl_calib_aurra(tie, tk2, 2, &au));
    NEAR(au, 0.75, 1e-12, "AURRA keeps tied confidences in original order");

    /* n < bin: one bin, no crash, both modes */
    const double c[] = {.9, .7, .8};
    const int k[] = {1, 0, 1};
    CHECK_OK(rcl_calib_error(c, k, 3, 100, 0, &rms, &mad));
    NEAR(mad, fabs(0.8 - 2.0 / 3.0), 1e-12, "n < bin: single-bin MAD");
    NEAR(rms, fabs(0.8 - 2.0 / 3.0), 1e-12, "n < bin: single-bin RMS");
    CHECK_OK(rcl_calib_error(c, k, 3, 100, 1, &rms, NULL));
    NEAR(rms, fabs(0.8 - 2.0 / 3.0), 1e-12, "n < bin, paper mode: the only bin is used");
    /* bin <= n < 2 bin: one bin, which paper mode skips */
    CHECK_OK(rcl_calib_error(c, k, 3, 2, 1, &rms, &mad));
    CHECK(rms == 0 && mad == 0, "paper mode with one (last) bin reports 0");
    /* last bin takes the remainder: 7 examples, bin 3 -> bins of 3 and 4 */
    const double c7[] = {.1, .2, .3, .4, .5, .6, .7};
    const int k7[] = {0, 0, 1, 1, 1, 1, 0};
    CHECK_OK(rcl_calib_error(c7, k7, 7, 3, 0, NULL, &mad));
    NEAR(mad, 3.0 / 7 * fabs(0.2 - 1.0 / 3) + 4.0 / 7 * fabs(0.55 - 0.75), 1e-12, "remainder bin MAD");
    CHECK_FAILS(rcl_calib_error(c, k, 0, 2, 0, &rms, &mad), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_calib_error(c, k, 3, 0, 0, &rms, &mad), RCL_ERR_INVALID_ARG);
    /* perfectly calibrated ECE: confidence 1 and always right */
    const double one[] = {1, 1, 1};
    const int yes[] = {1, 1, 1};
    double ece;
    CHECK_OK(rcl_calib_ece(one, yes, 3, RCL_ECE_BINS, &ece));
    CHECK(ece == 0, "ECE of confident and right is 0 (got %g)", ece);
    /* bin edges are (lo, hi]: 0.6 falls in (0.5, 0.6] with 10 bins */
    const double edge[] = {0.6};
    const int no[] = {0};
    rcl_reliability_bin rb[10];
    CHECK_OK(rcl_calib_reliability(edge, no, 1, 10, rb));
    CHECK(rb[5].count == 1, "0.6 lands in bin (0.5,0.6]");
}

/* ---- label noise ---- */

static void test_matrices(void) {
    double C[100];
    CHECK_OK(rcl_noise_uniform_matrix(10, 0.3, C));
    int ok = 1;
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 10; j++)
            ok &= fabs(C[i * 10 + j] - (i == j ? 0.73 : 0.03)) < 1e-12;
    CHECK(ok, "uniform C(0.3, 10): diag 0.73, off 0.03");
    CHECK_FAILS(rcl_noise_uniform_matrix(10, 1.5, C), RCL_ERR_INVALID_ARG);

    int differs = 0;
    double first[100];
    for (uint64_t seed = 1; seed <= 20; seed++) {
        CHECK_OK(rcl_noise_flip_matrix(10, 0.4, seed, C));
        int good = 1;
        for (int i = 0; i < 10; i++) {
            double sum = 0;
            int off = 0;
            for (int j = 0; j < 10; j++) {
                double v = C[i * 10 + j];
                sum += v;
                if (j != i && v != 0) {
                    off++;
                    good &= v == 0.4;
                }
            }
            good &= fabs(sum - 1) < 1e-12 && C[i * 10 + i] == 0.6 && off == 1;
        }
        CHECK(good, "flip seed %llu: rows sum to 1, diag 0.6, exactly one other class gets s", (unsigned long long)seed);
        if (seed == 1)
            memcpy(first, C, sizeof C);
        else
            differs |= memcmp(first, C, sizeof C) != 0;
    }
    CHECK(differs, "flip matrices depend on the seed");
    /* s = 1: the row's mass all goes to the other class, never i -> i */
    CHECK_OK(rcl_noise_flip_matrix(7, 1.0, 3, C));
    int never_self = 1;
    for (int i = 0; i < 7; i++)
        never_self &= C[i * 7 + i] == 0;
    CHECK(never_self, "flip s=1 never maps i -> i");
    CHECK_FAILS(rcl_noise_flip_matrix(1, 0.2, 1, C), RCL_ERR_INVALID_ARG);
}

static void test_resample(void) {
    enum { N = 200000, K = 5 };
    int *clean = malloc(sizeof(int) * N), *noisy = malloc(sizeof(int) * N);
    double C[K * K];
    CHECK_OK(rcl_noise_flip_matrix(K, 0.35, 11, C));
    for (int i = 0; i < N; i++)
        clean[i] = i % K;
    CHECK_OK(rcl_noise_resample_labels(C, K, clean, NULL, N, 5, noisy));
    double freq[K * K] = {0};
    for (int i = 0; i < N; i++)
        freq[clean[i] * K + noisy[i]] += 1.0 / (N / K);
    double worst = 0;
    for (int i = 0; i < K * K; i++)
        worst = fmax(worst, fabs(freq[i] - C[i]));
    CHECK(worst < 0.01, "flip: resampled frequencies match C within 0.01 (worst %g)", worst);
    CHECK_OK(rcl_noise_uniform_matrix(K, 0.8, C));
    CHECK_OK(rcl_noise_resample_labels(C, K, clean, NULL, N, 6, noisy));
    memset(freq, 0, sizeof freq);
    for (int i = 0; i < N; i++)
        freq[clean[i] * K + noisy[i]] += 1.0 / (N / K);
    worst = 0;
    for (int i = 0; i < K * K; i++)
        worst = fmax(worst, fabs(freq[i] - C[i]));
    CHECK(worst < 0.01, "uniform: resampled frequencies match C within 0.01 (worst %g)", worst);

    /* the trusted set keeps its labels; s = 1 flips everything else */
    unsigned char *keep = calloc(N, 1);
    for (int i = 0; i < N; i += 7)
        keep[i] = 1;
    CHECK_OK(rcl_noise_flip_matrix(K, 1.0, 2, C));
    CHECK_OK(rcl_noise_resample_labels(C, K, clean, keep, N, 7, noisy));
    int kept = 1, flipped = 1;
    for (int i = 0; i < N; i++) {
        if (keep[i])
            kept &= noisy[i] == clean[i];
        else
            flipped &= noisy[i] != clean[i];
    }
    CHECK(kept && flipped, "trusted labels stay clean, the rest follow C");
    /* same seed, same labels */
    int *again = malloc(sizeof(int) * N);
    CHECK_OK(rcl_noise_resample_labels(C, K, clean, keep, N, 7, again));
    CHECK(!memcmp(again, noisy, sizeof(int) * N), "resampling is a function of the seed");
    clean[3] = K;
    CHECK_FAILS(rcl_noise_resample_labels(C, K, clean, NULL, N, 1, noisy), RCL_ERR_INVALID_ARG);
    free(again), free(keep), free(clean), free(noisy);
}

static void test_trusted(void) {
    /* class c has 50 + 30c examples, interleaved */
    enum { K = 10 };
    int n = 0, labels[2000], per[K] = {0};
    for (int round = 0; round < 320; round++)
        for (int c = 0; c < K; c++)
            if (round < 50 + 30 * c)
                labels[n++] = c;
    CHECK(n == 1850, "1850 examples");
    unsigned char t[2000], t2[2000];
    int m = 0;
    CHECK_OK(rcl_noise_trusted_subset(labels, n, K, 0.05, 1, 0, t, &m));
    int prefix = m == 92;
    for (int i = 0; i < n; i++)
        prefix &= t[i] == (i < 92);
    CHECK(prefix, "paper mode: the first int(0.05 * 1850) = 92 in file order (got %d)", m);

    CHECK_OK(rcl_noise_trusted_subset(labels, n, K, 0.1, 0, 42, t, &m));
    int total = 0;
    for (int i = 0; i < n; i++)
        if (t[i])
            per[labels[i]]++, total++;
    int strat = m == 185 && total == 185;
    for (int c = 0; c < K; c++)
        strat &= per[c] == 5 + 3 * c;
    CHECK(strat, "textbook: stratified, exactly 10%% of every class (total %d)", total);
    int prefix_only = 1;
    for (int i = 0; i < n; i++)
        prefix_only &= t[i] == (i < 185);
    CHECK(!prefix_only, "textbook is not the file-order prefix");
    CHECK_OK(rcl_noise_trusted_subset(labels, n, K, 0.1, 0, 42, t2, &m));
    CHECK(!memcmp(t, t2, (size_t)n), "same seed, same subset");
    CHECK_OK(rcl_noise_trusted_subset(labels, n, K, 0.1, 0, 43, t2, &m));
    CHECK(memcmp(t, t2, (size_t)n) != 0, "another seed, another subset");
    /* fractional quotas: 5% of 50+30c is 2.5+1.5c; totals stay int(f N), each class within one */
    CHECK_OK(rcl_noise_trusted_subset(labels, n, K, 0.05, 0, 1, t, &m));
    memset(per, 0, sizeof per);
    for (int i = 0; i < n; i++)
        per[labels[i]] += t[i];
    int near = m == 92;
    for (int c = 0; c < K; c++)
        near &= fabs(per[c] - 0.05 * (50 + 30 * c)) < 1.0;
    CHECK(near, "5%% stratified: %d trusted, every class within one of f n_c", m);
    CHECK_FAILS(rcl_noise_trusted_subset(labels, n, K, 1.5, 0, 1, t, &m), RCL_ERR_INVALID_ARG);
}

static void test_estimators(void) {
    /* Forward loss golden: p = [.7 .2 .1], C = uniform(0.3, 3), noisy label 1 */
    double C3[9];
    const double p[] = {.7, .2, .1};
    CHECK_OK(rcl_noise_uniform_matrix(3, 0.3, C3));
    NEAR(rcl_noise_forward_loss(p, C3, 3, 1), 1.4271164, TOL, "Forward loss golden");
    CHECK(isnan(rcl_noise_forward_loss(p, C3, 3, 3)), "Forward loss with a bad label is NaN");

    /* GLC golden */
    const double gp[] = {.6, .4, .8, .2, .3, .7};
    const int gy[] = {0, 0, 1};
    double G[4];
    CHECK_OK(rcl_noise_glc_estimate(gp, gy, 3, 2, G));
    const double gw[] = {.7, .3, .3, .7};
    rcl_check_close_d("GLC C_hat golden", G, gw, 4, 1e-12, 1e-12, 0);
    const int gy_missing[] = {0, 0, 0};
    CHECK_FAILS(rcl_noise_glc_estimate(gp, gy_missing, 3, 2, G), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "class 1") != NULL, "GLC error names the missing class: %s", rcl_last_error());

    /* Forward C_hat, 97th percentile with n = 5: the threshold is the column max, so the arg-max
     * is the runner-up; row 0 holds the max of column 0 and is then picked for class 1 */
    const double fp[] = {.55, .45, .00, /* r0 */
                         .40, .10, .50, /* r1 */
                         .50, .20, .30, /* r2 */
                         .10, .80, .10, /* r3 */
                         .05, .15, .80 /* r4 */};
    double F[9];
    CHECK_OK(rcl_noise_forward_estimate(fp, 5, 3, 97, 0, F));
    const double ft[] = {.50, .20, .30, .55, .45, .00, .40, .10, .50};
    rcl_check_close_d("Forward C_hat textbook", F, ft, 9, 1e-14, 1e-15, 0);
    CHECK_OK(rcl_noise_forward_estimate(fp, 5, 3, 97, 1, F));
    const double fpm[] = {.50, .20, .30, .00, .45, .00, .40, .10, .50};
    rcl_check_close_d("Forward C_hat paper (shared zeroing)", F, fpm, 9, 1e-14, 1e-15, 0);
    CHECK_OK(rcl_noise_forward_estimate(fp, 5, 3, 0, 1, F));
    const double fnf[] = {.55, .45, .00, .10, .80, .10, .05, .15, .80};
    rcl_check_close_d("Forward C_hat without the percentile filter", F, fnf, 9, 1e-14, 1e-15, 0);

    /* numpy percentile 'higher' on 101 values i/100: element ceil(0.97 * 100) = 97 */
    double col[202];
    for (int i = 0; i <= 100; i++)
        col[2 * i] = i / 100.0, col[2 * i + 1] = 1 - i / 100.0;
    CHECK_OK(rcl_noise_forward_estimate(col, 101, 2, 97, 0, F));
    NEAR(F[0], 0.96, 1e-15, "97th percentile 'higher' of 101 values excludes 0.97..1.00");
    CHECK_FAILS(rcl_noise_forward_estimate(col, 101, 2, 120, 0, F), RCL_ERR_INVALID_ARG);
}

static void test_area(void) {
    const double s[] = {0, .1, .2, .3, .4, .5, .6, .7, .8, .9, 1.0};
    const double e[] = {5, 6, 7, 8, 10, 12, 15, 20, 30, 50, 90};
    double a = -1;
    CHECK_OK(rcl_noise_error_area(s, e, 11, &a));
    NEAR(a, 20.55, 1e-9, "error area golden");
    const double s3[] = {0, .5, 1}, e3[] = {10, 20, 40};
    CHECK_OK(rcl_noise_error_area(s3, e3, 3, &a));
    NEAR(a, 22.5, 1e-12, "reduced grid area");
    const double s2[] = {.2, .6}, e2[] = {10, 30};
    CHECK_OK(rcl_noise_error_area(s2, e2, 2, &a));
    NEAR(a, 20, 1e-12, "area divides by the range actually run");
    const double sb[] = {0, .5, .5};
    CHECK_FAILS(rcl_noise_error_area(sb, e3, 3, &a), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_noise_error_area(s, e, 1, &a), RCL_ERR_INVALID_ARG);
}

/* ---- imbalance ---- */

static int sum_of(const int *v, int n) {
    int s = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return s;
}

static void test_counts(void) {
    int n[10];
    CHECK_OK(rcl_imb_power_law_counts(10, 5000, 250, 0.2, n));
    const int g02[] = {5000, 377, 331, 307, 291, 279, 269, 262, 255, 250};
    CHECK(!memcmp(n, g02, sizeof g02) && sum_of(n, 10) == 7621, "gamma=0.2 counts (total %d)", sum_of(n, 10));
    unsigned char minor[10];
    CHECK(rcl_imb_minority(n, 10, minor) == 9 && !minor[0] && minor[9], "gamma=0.2: 9 minority classes");
    CHECK_OK(rcl_imb_power_law_counts(10, 5000, 250, 1.0, n));
    const int g10[] = {5000, 1607, 957, 681, 529, 432, 365, 316, 279, 250};
    CHECK(!memcmp(n, g10, sizeof g10), "gamma=1.0 counts");
    CHECK(rcl_imb_minority(n, 10, minor) == 8 && !minor[1] && minor[2], "gamma=1.0: 8 minority classes");
    CHECK_OK(rcl_imb_power_law_counts(10, 5000, 250, 0.4, n));
    CHECK(rcl_imb_minority(n, 10, NULL) == 9, "gamma=0.4: 9 minority classes (spec §6 note)");
    CHECK_OK(rcl_imb_power_law_counts(10, 5000, 250, 2.0, n));
    CHECK(sum_of(n, 10) == 16506, "gamma=2.0 total %d, want 16506", sum_of(n, 10));
    int n100[100];
    CHECK_OK(rcl_imb_power_law_counts(100, 500, 25, 0.2, n100));
    CHECK(n100[0] == 500 && n100[99] == 25, "CIFAR-100 profile ends at a=500 and b=25");
    CHECK_OK(rcl_imb_exp_counts(10, 5000, 100, n));
    const int lt[] = {5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50};
    CHECK(!memcmp(n, lt, sizeof lt) && sum_of(n, 10) == 12406, "CIFAR-LT rho=100 total %d", sum_of(n, 10));
    CHECK_FAILS(rcl_imb_power_law_counts(10, 250, 5000, 0.2, n), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_imb_exp_counts(10, 5000, 0.5, n), RCL_ERR_INVALID_ARG);

    const int cw[] = {100, 50, 25};
    double w[3];
    CHECK_OK(rcl_imb_class_weights(cw, 3, w));
    const double ww[] = {3.0 / 7, 6.0 / 7, 12.0 / 7};
    rcl_check_close_d("class weights 1/n_c, mean 1", w, ww, 3, 1e-12, 1e-12, 0);
    const int c0[] = {10, 0};
    CHECK_FAILS(rcl_imb_class_weights(c0, 2, w), RCL_ERR_INVALID_ARG);
}

static void test_select_and_oversample(void) {
    enum { K = 10, PER = 600, N = K * PER };
    int *labels = malloc(sizeof(int) * N);
    for (int i = 0; i < N; i++)
        labels[i] = (i * 7) % K;
    int counts[K];
    CHECK_OK(rcl_imb_power_law_counts(K, 500, 25, 0.5, counts));
    int *idx = NULL, *idx2 = NULL, m = 0, m2 = 0;
    CHECK_OK(rcl_imb_select(labels, N, K, counts, 9, &idx, &m));
    int per[K] = {0}, asc = 1;
    for (int i = 0; i < m; i++) {
        per[labels[idx[i]]]++;
        if (i)
            asc &= idx[i] > idx[i - 1];
    }
    CHECK(m == sum_of(counts, K) && asc && !memcmp(per, counts, sizeof counts),
          "subset has the per-class counts, ascending, no repeats");
    CHECK_OK(rcl_imb_select(labels, N, K, counts, 9, &idx2, &m2));
    CHECK(m2 == m && !memcmp(idx, idx2, sizeof(int) * (size_t)m), "same seed, same subset");
    free(idx2);
    CHECK_OK(rcl_imb_select(labels, N, K, counts, 10, &idx2, &m2));
    CHECK(memcmp(idx, idx2, sizeof(int) * (size_t)m) != 0, "another seed, another subset");
    free(idx2);
    counts[3] = PER + 1;
    CHECK_FAILS(rcl_imb_select(labels, N, K, counts, 9, &idx2, &m2), RCL_ERR_INVALID_ARG);

    /* oversample the imbalanced subset */
    int *sub = malloc(sizeof(int) * (size_t)m);
    for (int i = 0; i < m; i++)
        sub[i] = labels[idx[i]];
    int *os = NULL, no = 0;
    CHECK_OK(rcl_imb_oversample(sub, m, K, 4, &os, &no));
    int got[K] = {0}, orig = 1, inrange = 1;
    for (int i = 0; i < no; i++) {
        inrange &= os[i] >= 0 && os[i] < m;
        if (inrange)
            got[sub[os[i]]]++;
    }
    for (int i = 0; i < m; i++)
        orig &= os[i] == i;
    int bal = no == 500 * K;
    for (int c = 0; c < K; c++)
        bal &= got[c] == 500;
    CHECK(inrange && orig && bal, "oversampling: every original once, every class at the majority count 500");
    free(os), free(sub), free(idx), free(labels);
    const int empty[] = {0, 0, 2};
    CHECK_FAILS(rcl_imb_oversample(empty, 3, 3, 1, &os, &no), RCL_ERR_INVALID_ARG);
}

static void test_smote(void) {
    const float base[] = {0, 3}, nn[] = {0, 0};
    float out[2];
    rcl_smote_interpolate(base, nn, 2, 0.25, out);
    CHECK(out[0] == 0.0f && out[1] == 2.25f, "SMOTE golden: (%g, %g), want (0, 2.25)", out[0], out[1]);

    /* class 0: 20 points; class 1: 8 points on the x axis at 0,1,2,4,...,64; class 2: one point */
    enum { D = 2 };
    const float xs1[] = {0, 1, 2, 4, 8, 16, 32, 64};
    float x[29 * D];
    int y[29], n = 0;
    for (int i = 0; i < 20; i++, n++)
        x[n * D] = 100 + i, x[n * D + 1] = 50, y[n] = 0;
    for (int i = 0; i < 8; i++, n++)
        x[n * D] = xs1[i], x[n * D + 1] = 0, y[n] = 1;
    x[n * D] = -7, x[n * D + 1] = -7, y[n] = 2, n++;
    float *xn = NULL;
    int *yn = NULL, nn_ = 0;
    CHECK_OK(rcl_imb_smote(x, y, n, D, 3, 2, 17, &xn, &yn, &nn_));
    CHECK(nn_ == 12 + 19, "SMOTE makes %d new samples, want 31", nn_);
    int ok_label = 1, ok_seg = 1, ok_dup = 1, c1 = 0;
    for (int i = 0; i < nn_; i++) {
        float px = xn[i * D], py = xn[i * D + 1];
        if (yn[i] == 2) {
            ok_dup &= px == -7 && py == -7;
            continue;
        }
        ok_label &= yn[i] == 1;
        c1++;
        /* must lie on [b, nb] for a class-1 point b and one of its 2 nearest class-1 neighbours */
        int found = 0;
        for (int b = 0; b < 8 && !found; b++) {
            int n1 = -1, n2 = -1;
            for (int j = 0; j < 8; j++) {
                if (j == b)
                    continue;
                float dj = fabsf(xs1[j] - xs1[b]);
                if (n1 < 0 || dj < fabsf(xs1[n1] - xs1[b]))
                    n2 = n1, n1 = j;
                else if (n2 < 0 || dj < fabsf(xs1[n2] - xs1[b]))
                    n2 = j;
            }
            for (int t = 0; t < 2; t++) {
                float o = xs1[t ? n2 : n1], lo = fminf(o, xs1[b]), hi = fmaxf(o, xs1[b]);
                found |= py == 0 && px >= lo && px <= hi;
            }
        }
        ok_seg &= found;
    }
    CHECK(ok_label && c1 == 12, "12 new class-1 samples");
    CHECK(ok_seg, "every SMOTE sample lies between a point and one of its k nearest same-class neighbours");
    CHECK(ok_dup, "a class of one example is duplicated");
    free(xn), free(yn);
    const int bad[] = {0, 0, 5};
    CHECK_FAILS(rcl_imb_smote(x, bad, 3, D, 3, 5, 1, &xn, &yn, &nn_), RCL_ERR_INVALID_ARG);
}

int main(void) {
    test_ood_golden();
    test_ood_properties();
    test_msp();
    test_calibration_golden();
    test_calibration_properties();
    test_matrices();
    test_resample();
    test_trusted();
    test_estimators();
    test_area();
    test_counts();
    test_select_and_oversample();
    test_smote();
    return rcl_test_finish();
}
