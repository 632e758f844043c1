/* The label-noise methods (spec §5) on a tiny separable task (3 classes of
 * 8x8 images, a bright band per class; WRN-10-1): corrupted labels and gold
 * sets; at strong flip noise the corrected-loss hook with the true C beats
 * Normal; Forward's C_hat matches the label frequencies the network was
 * trained on; GLC's C_hat equals the mean softmax of the trusted examples of
 * each class under the phase-1 model (recomputed here from that model, caught
 * in the reinit callback) and phase 1 sees only the untrusted images; a class
 * without a trusted example fails before any training. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/metrics.h"
#include "robustcl/noise_methods.h"

#define K 3
#define N_TRAIN 150
#define N_TEST 60
#define BATCH 16
#define EPOCHS 6

static rcl_device *dev;

/* Class c: rows 2c..2c+2 bright, the rest dark, a little pixel noise. Labels cycle 0,1,2. */
static void make_set(rcl_dataset *ds, int n, uint64_t seed, const char *name) {
    CHECK_OK(rcl_dataset_alloc(ds, n, 1, 8, 8, K, 0));
    rcl_rng r = rcl_rng_seed(seed);
    for (int i = 0; i < n; i++) {
        int c = i % K;
        ds->labels[i] = c;
        for (int p = 0; p < 64; p++) {
            int row = p / 8, bright = row >= 2 * c && row < 2 * c + 2;
            ds->pixels[(size_t)i * 64 + p] = (uint8_t)((bright ? 200 : 40) + rcl_rng_below(&r, 3));
        }
    }
    snprintf(ds->name, sizeof ds->name, "%s", name);
}

static rcl_train_config config(const rcl_dataset *test) {
    rcl_train_config tc = rcl_train_defaults();
    tc.epochs = EPOCHS;
    tc.batch = BATCH;
    tc.lr = 0.05;
    tc.augment = 0;
    tc.seed = 3;
    tc.test = test;
    tc.norm = rcl_normalization_half();
    return tc;
}

static rcl_model *new_model(void) {
    rcl_wrn_config cfg = {10, 1, 1, 8, 8, K, 0.0f, 1};
    rcl_model *m = NULL;
    CHECK_OK(rcl_model_create(dev, &cfg, 64, &m));
    CHECK_OK(rcl_model_init(m, 11));
    return m;
}

/* Cyclic flip 0->1->2->0 with strength s (a permutation, so C is invertible for s != 0.5). */
static void cyclic_flip(double s, double *C) {
    memset(C, 0, sizeof(double) * K * K);
    for (int i = 0; i < K; i++) {
        C[i * K + i] = 1 - s;
        C[i * K + (i + 1) % K] = s;
    }
}

/* ---------------------------------------------------------------- corrupted labels */

static void test_corrupt(const rcl_dataset *clean) {
    int32_t noisy[N_TRAIN], noisy2[N_TRAIN];
    uint8_t tr[N_TRAIN];
    double C[K * K];
    int nt = -1;
    rcl_corruption_options o = {RCL_CORRUPT_UNIFORM, 0.0, 0.0, 1, 5};
    CHECK_OK(rcl_noise_corrupt_labels(clean, &o, noisy, tr, C, &nt));
    CHECK(memcmp(noisy, clean->labels, sizeof noisy) == 0 && nt == 0, "s = 0 keeps every label (trusted %d)", nt);

    /* flip at s = 1 with a paper-mode gold set: the first 15 keep their label, every other moves
     * to its row's single target */
    o = (rcl_corruption_options){RCL_CORRUPT_FLIP, 1.0, 0.1, 1, 5};
    CHECK_OK(rcl_noise_corrupt_labels(clean, &o, noisy, tr, C, &nt));
    int ok_gold = nt == 15, ok_rest = 1, ok_C = 1;
    for (int i = 0; i < K; i++) {
        int ones = 0;
        for (int j = 0; j < K; j++)
            ones += C[i * K + j] == 1.0;
        ok_C &= ones == 1 && C[i * K + i] == 0.0;
    }
    for (int i = 0; i < N_TRAIN; i++) {
        ok_gold &= tr[i] == (i < 15);
        if (i < 15)
            ok_gold &= noisy[i] == clean->labels[i];
        else
            ok_rest &= noisy[i] != clean->labels[i] && C[clean->labels[i] * K + noisy[i]] == 1.0;
    }
    CHECK(ok_C, "flip s=1: one target per row, off the diagonal");
    CHECK(ok_gold, "paper gold set = the first 15 images, labels kept (got %d)", nt);
    CHECK(ok_rest, "flip s=1: every untrusted label moved to its row's target");

    /* textbook gold set: stratified, 10 per class of 50 */
    o = (rcl_corruption_options){RCL_CORRUPT_UNIFORM, 0.5, 0.2, 0, 5};
    CHECK_OK(rcl_noise_corrupt_labels(clean, &o, noisy, tr, NULL, &nt));
    int per[K] = {0}, changed = 0, first_block = 0;
    for (int i = 0; i < N_TRAIN; i++) {
        per[clean->labels[i]] += tr[i];
        changed += !tr[i] && noisy[i] != clean->labels[i];
        first_block += i < 30 && tr[i];
        if (tr[i])
            CHECK(noisy[i] == clean->labels[i], "trusted image %d keeps its label", i);
    }
    CHECK(nt == 30 && per[0] == 10 && per[1] == 10 && per[2] == 10, "stratified gold set %d: %d %d %d", nt, per[0],
          per[1], per[2]);
    CHECK(first_block < 30, "textbook gold set is not the first images");
    /* uniform s = .5, K = 3: a label changes with probability 1/3 (120 untrusted images) */
    CHECK(changed > 20 && changed < 60, "uniform s=0.5 changed %d of 120 labels", changed);
    CHECK_OK(rcl_noise_corrupt_labels(clean, &o, noisy2, tr, NULL, NULL));
    CHECK(memcmp(noisy, noisy2, sizeof noisy) == 0, "same seed, same labels");
    o.seed = 6;
    CHECK_OK(rcl_noise_corrupt_labels(clean, &o, noisy2, tr, NULL, NULL));
    CHECK(memcmp(noisy, noisy2, sizeof noisy) != 0, "another seed, other labels");
    o.strength = 1.5;
    CHECK_FAILS(rcl_noise_corrupt_labels(clean, &o, noisy2, tr, NULL, NULL), RCL_ERR_INVALID_ARG);
}

/* ---------------------------------------------------------------- Forward */

static rcl_status reinit_fresh(void *ctx, rcl_model *m) {
    (void)ctx;
    return rcl_model_init(m, 11);
}

/* Strong flip noise (60% of each class moved to the next): Normal learns the flip, the
 * corrected loss with the true C learns the clean classes. */
static void test_true_C(const rcl_dataset *clean, const rcl_dataset *test) {
    double C[K * K];
    cyclic_flip(0.6, C);
    int32_t noisy[N_TRAIN];
    CHECK_OK(rcl_noise_resample_labels(C, K, clean->labels, NULL, N_TRAIN, 21, noisy));
    rcl_dataset v = *clean;
    v.labels = noisy;
    rcl_train_config tc = config(test);
    rcl_model *m = new_model();
    rcl_noise_run run = rcl_noise_run_defaults(RCL_NOISE_NORMAL);
    rcl_noise_result normal, corrected;
    CHECK_OK(rcl_noise_train(m, &v, &run, &tc, NULL, &normal));
    CHECK_OK(rcl_model_init(m, 11));
    rcl_model_set_steps(m, 0);
    rcl_noise_hook *h = NULL;
    CHECK_OK(rcl_noise_hook_create(dev, K, C, NULL, 0, BATCH, &h));
    tc.hooks = rcl_noise_hook_steps(h);
    CHECK_OK(rcl_train(m, &v, NULL, 0, &tc, &corrected.result));
    printf("flip 0.6, true C: Normal test error %.3f, corrected %.3f\n", normal.result.test_error,
           corrected.result.test_error);
    CHECK(normal.result.test_error > 0.5, "Normal learns the flip: test error %.3f", normal.result.test_error);
    CHECK(corrected.result.test_error < 0.15 && corrected.result.test_error < normal.result.test_error - 0.35,
          "the corrected loss with the true C recovers the classes: %.3f (Normal %.3f)", corrected.result.test_error,
          normal.result.test_error);
    rcl_noise_hook_free(h);
    rcl_model_free(m);
}

static void test_forward(const rcl_dataset *clean, const rcl_dataset *test) {
    double C[K * K], C_hat[K * K], freq[K * K] = {0};
    cyclic_flip(0.3, C);
    int32_t noisy[N_TRAIN];
    CHECK_OK(rcl_noise_resample_labels(C, K, clean->labels, NULL, N_TRAIN, 22, noisy));
    /* what the network sees: the label frequencies of each (near-identical) class */
    int cnt[K] = {0};
    for (int i = 0; i < N_TRAIN; i++) {
        freq[clean->labels[i] * K + noisy[i]] += 1;
        cnt[clean->labels[i]]++;
    }
    for (int i = 0; i < K * K; i++)
        freq[i] /= cnt[i / K];
    rcl_dataset v = *clean;
    v.labels = noisy;
    rcl_train_config tc = config(test);
    tc.epochs = 10; /* near the CE optimum: the softmax of a class = its label frequencies */
    tc.lr = 0.1;
    rcl_model *m = new_model();
    rcl_noise_run run = rcl_noise_run_defaults(RCL_NOISE_FORWARD);
    run.reinit = reinit_fresh;
    rcl_noise_result res;
    CHECK_OK(rcl_noise_train(m, &v, &run, &tc, C_hat, &res));
    double worst = 0;
    for (int i = 0; i < K * K; i++)
        worst = fmax(worst, fabs(C_hat[i] - freq[i]));
    printf("Forward C_hat (flip 0.3), max |C_hat - label frequencies| %.3f:\n", worst);
    for (int i = 0; i < K; i++)
        printf("  %.3f %.3f %.3f   (%.3f %.3f %.3f)\n", C_hat[i * K], C_hat[i * K + 1], C_hat[i * K + 2],
               freq[i * K], freq[i * K + 1], freq[i * K + 2]);
    CHECK(worst < 0.12, "Forward C_hat within 0.12 of the trained label frequencies (%.3f)", worst);
    long per_epoch = (N_TRAIN + BATCH - 1) / BATCH;
    CHECK(res.phase1.steps == tc.epochs * per_epoch && res.result.steps == tc.epochs * per_epoch,
          "both phases train all images (%ld, %ld steps)", res.phase1.steps, res.result.steps);
    printf("Forward test error: phase 1 (Normal) %.3f, phase 2 %.3f\n", res.phase1.test_error, res.result.test_error);
    CHECK(res.result.test_error < 0.1, "Forward phase 2 test error %.3f", res.result.test_error);
    run.reinit = NULL;
    CHECK_FAILS(rcl_noise_train(m, &v, &run, &tc, C_hat, &res), RCL_ERR_INVALID_ARG);
    rcl_model_free(m);
}

/* ---------------------------------------------------------------- GLC */

typedef struct {
    const rcl_dataset *ds;
    const uint8_t *trusted;
    double expect[K * K];
    int calls;
} glc_probe;

/* Phase 1 just ended: the mean softmax of each class's trusted images, from this model. */
static rcl_status glc_reinit(void *ctx, rcl_model *m) {
    glc_probe *g = ctx;
    g->calls++;
    int idx[N_TRAIN] = {0}, n = 0, cnt[K] = {0};
    for (int i = 0; i < g->ds->n; i++)
        if (g->trusted[i])
            idx[n++] = i;
    float logits[N_TRAIN * K];
    const rcl_normalization half = rcl_normalization_half();
    RCL_TRY(rcl_evaluate(m, g->ds, idx, n, &half, logits, NULL));
    memset(g->expect, 0, sizeof g->expect);
    for (int r = 0; r < n; r++) {
        int y = g->ds->labels[idx[r]];
        double mx = logits[r * K], se = 0;
        for (int j = 1; j < K; j++)
            mx = fmax(mx, logits[r * K + j]);
        for (int j = 0; j < K; j++)
            se += exp(logits[r * K + j] - mx);
        for (int j = 0; j < K; j++)
            g->expect[y * K + j] += exp(logits[r * K + j] - mx) / se;
        cnt[y]++;
    }
    for (int i = 0; i < K * K; i++)
        g->expect[i] /= cnt[i / K];
    return rcl_model_init(m, 11);
}

static void test_glc(const rcl_dataset *clean, const rcl_dataset *test) {
    int32_t noisy[N_TRAIN];
    uint8_t tr[N_TRAIN];
    int nt = 0;
    rcl_corruption_options o = {RCL_CORRUPT_UNIFORM, 0.5, 0.2, 0, 8};
    CHECK_OK(rcl_noise_corrupt_labels(clean, &o, noisy, tr, NULL, &nt));
    rcl_dataset v = *clean;
    v.labels = noisy;
    rcl_train_config tc = config(test);
    rcl_model *m = new_model();
    glc_probe g = {&v, tr, {0}, 0};
    rcl_noise_run run = rcl_noise_run_defaults(RCL_NOISE_GLC);
    run.trusted = tr;
    run.reinit = glc_reinit;
    run.reinit_ctx = &g;
    double C_hat[K * K];
    rcl_noise_result res;
    CHECK_OK(rcl_noise_train(m, &v, &run, &tc, C_hat, &res));
    CHECK(g.calls == 1, "reinit called once (%d)", g.calls);
    double worst = 0;
    for (int i = 0; i < K * K; i++)
        worst = fmax(worst, fabs(C_hat[i] - g.expect[i]));
    CHECK(worst < 1e-9, "GLC C_hat = mean softmax of the trusted images per class (off by %.3g)", worst);
    double rowsum = C_hat[0] + C_hat[1] + C_hat[2];
    CHECK(fabs(rowsum - 1) < 1e-9 && C_hat[0] > 0.4,
          "GLC C_hat row 0 is a distribution near the noise row: %.3f %.3f %.3f", C_hat[0], C_hat[1], C_hat[2]);
    long untrusted = N_TRAIN - nt;
    CHECK(res.phase1.steps == EPOCHS * ((untrusted + BATCH - 1) / BATCH),
          "GLC phase 1 trains the %ld untrusted images only (%ld steps)", untrusted, res.phase1.steps);
    CHECK(res.result.steps == EPOCHS * ((N_TRAIN + BATCH - 1) / BATCH), "GLC phase 2 trains all images (%ld steps)",
          res.result.steps);
    printf("GLC (uniform 0.5, 20%% gold) test error: phase 1 %.3f, phase 2 %.3f\n", res.phase1.test_error,
           res.result.test_error);
    CHECK(res.result.test_error < 0.2, "GLC phase 2 test error %.3f", res.result.test_error);

    /* class 2 has no trusted example: a clean error before any training */
    for (int i = 0; i < N_TRAIN; i++)
        if (clean->labels[i] == 2)
            tr[i] = 0;
    g.calls = 0;
    CHECK_FAILS(rcl_noise_train(m, &v, &run, &tc, C_hat, &res), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "class 2") != NULL, "error names the class: %s", rcl_last_error());
    CHECK(g.calls == 0 && res.phase1.steps == 0, "nothing trained before the error");
    run.trusted = NULL;
    CHECK_FAILS(rcl_noise_train(m, &v, &run, &tc, C_hat, &res), RCL_ERR_INVALID_ARG);
    rcl_model_free(m);
}

int main(void) {
    CHECK(rcl_noise_method_from_name("glc") == RCL_NOISE_GLC &&
              rcl_noise_method_from_name("forward") == RCL_NOISE_FORWARD &&
              rcl_noise_method_from_name("normal") == RCL_NOISE_NORMAL && rcl_noise_method_from_name("x") == -1,
          "method names");
    CHECK(strcmp(rcl_noise_method_name(RCL_NOISE_GLC), "glc") == 0, "method name glc");
    setenv("ROBUSTCL_QUIET", "1", 0);
    dev = rcl_test_device(0);
    rcl_dataset train, test;
    make_set(&train, N_TRAIN, 1, "bands:train");
    make_set(&test, N_TEST, 2, "bands:test");
    test_corrupt(&train);
    test_true_C(&train, &test);
    test_forward(&train, &test);
    test_glc(&train, &test);
    rcl_dataset_free(&train);
    rcl_dataset_free(&test);
    rcl_device_close(dev);
    return rcl_test_finish();
}
