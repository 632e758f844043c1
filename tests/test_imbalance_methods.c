/* The class-imbalance sets and methods (spec §6) on a balanced synthetic set
 * (10 classes x 60 random 8x8 images): the imbalanced cut has the metrics.h
 * counts (power law and exponential), holds distinct source images with their
 * labels, depends on the seed only; per method: Normal leaves the set alone,
 * cost-sensitive weights are proportional to 1/n_c, the oversampled list and
 * the SMOTE set are balanced, every SMOTE image lies between two same-class
 * images one of which is among the other's 5 nearest neighbours; minority
 * classes; total and minority errors; one training epoch over each plan. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/imbalance_methods.h"
#include "robustcl/metrics.h"
#include "robustcl/train.h"

#define K 10
#define PER 60
#define D 64

static void make_balanced(rcl_dataset *ds) {
    CHECK_OK(rcl_dataset_alloc(ds, K * PER, 1, 8, 8, K, 0));
    rcl_rng r = rcl_rng_seed(4);
    for (int i = 0; i < K * PER; i++) {
        ds->labels[i] = i % K;
        for (int p = 0; p < D; p++)
            ds->pixels[(size_t)i * D + p] = (uint8_t)rcl_rng_below(&r, 256);
    }
    snprintf(ds->name, sizeof ds->name, "random:train");
}

static void class_counts(const rcl_dataset *ds, const int *idx, int n, int *cnt) {
    memset(cnt, 0, sizeof(int) * K);
    for (int i = 0; i < n; i++)
        cnt[ds->labels[idx ? idx[i] : i]]++;
}

/* The source index of image i of `sub` in `src` (images are random, so unique), or -1. */
static int find_source(const rcl_dataset *src, const rcl_dataset *sub, int i) {
    for (int j = 0; j < src->n; j++)
        if (memcmp(src->pixels + (size_t)j * D, sub->pixels + (size_t)i * D, D) == 0)
            return j;
    return -1;
}

static void check_cut(const rcl_dataset *bal, const rcl_dataset *imb, const int *want, const char *what) {
    int cnt[K], total = 0, ok_counts = 1;
    class_counts(imb, NULL, imb->n, cnt);
    for (int c = 0; c < K; c++) {
        ok_counts &= cnt[c] == want[c];
        total += want[c];
    }
    CHECK(ok_counts && imb->n == total, "%s: per-class counts equal metrics.h (%d images, want %d)", what, imb->n,
          total);
    int ok_src = 1, ok_order = 1, prev = -1;
    for (int i = 0; i < imb->n; i++) {
        int j = find_source(bal, imb, i);
        ok_src &= j >= 0 && bal->labels[j] == imb->labels[i];
        ok_order &= j > prev; /* file order, no repeats */
        prev = j;
    }
    CHECK(ok_src, "%s: every image is a source image with its label", what);
    CHECK(ok_order, "%s: distinct images in file order", what);
}

static void test_cut(const rcl_dataset *bal, rcl_dataset *imb) {
    rcl_imb_profile p = {0, PER, 3, 0.5, 0, 7};
    int want[K], got[K];
    CHECK_OK(rcl_imb_power_law_counts(K, PER, 3, 0.5, want));
    CHECK_OK(rcl_imb_make_dataset(bal, &p, imb, got));
    CHECK(memcmp(want, got, sizeof want) == 0, "power law: counts returned");
    check_cut(bal, imb, want, "power law");
    rcl_dataset again, other, ex;
    CHECK_OK(rcl_imb_make_dataset(bal, &p, &again, NULL));
    CHECK(again.n == imb->n && memcmp(again.pixels, imb->pixels, (size_t)imb->n * D) == 0, "same seed, same cut");
    p.seed = 8;
    CHECK_OK(rcl_imb_make_dataset(bal, &p, &other, NULL));
    CHECK(other.n == imb->n && memcmp(other.pixels, imb->pixels, (size_t)imb->n * D) != 0,
          "another seed, other images");
    rcl_imb_profile e = {1, 50, 0, 0, 10.0, 7};
    CHECK_OK(rcl_imb_exp_counts(K, 50, 10.0, want));
    CHECK_OK(rcl_imb_make_dataset(bal, &e, &ex, NULL));
    check_cut(bal, &ex, want, "exponential");
    rcl_dataset bad;
    e.a = PER + 1; /* more than the class has */
    CHECK_FAILS(rcl_imb_make_dataset(bal, &e, &bad, NULL), RCL_ERR_INVALID_ARG);
    rcl_dataset_free(&again), rcl_dataset_free(&other), rcl_dataset_free(&ex);
}

static void check_minority(const rcl_imb_plan *pl, const int *cnt) {
    double mean = 0;
    for (int c = 0; c < K; c++)
        mean += cnt[c] / (double)K;
    int ok = 1, m = 0;
    for (int c = 0; c < K; c++) {
        ok &= pl->counts[c] == cnt[c] && pl->is_minority[c] == (cnt[c] < mean);
        m += cnt[c] < mean;
    }
    CHECK(ok && pl->n_minority == m && m > 0 && m < K, "minority classes: %d (want %d)", pl->n_minority, m);
}

/* Does new image x lie between images a and b: x = round(a + u (b - a)) for one u in [0,1]? */
static int between(const uint8_t *x, const uint8_t *a, const uint8_t *b) {
    int far = 0;
    for (int p = 0; p < D; p++)
        if (abs(b[p] - a[p]) > abs(b[far] - a[far]))
            far = p;
    if (a[far] == b[far])
        return memcmp(x, a, D) == 0;
    double u = (double)(x[far] - a[far]) / (b[far] - a[far]);
    if (u < -1e-9 || u > 1 + 1e-9)
        return 0;
    for (int p = 0; p < D; p++) {
        int lo = a[p] < b[p] ? a[p] : b[p], hi = a[p] < b[p] ? b[p] : a[p];
        /* u is known to 0.5/|b-a| at the far pixel: the prediction elsewhere to 0.5 + 0.5 */
        if (x[p] < lo || x[p] > hi || fabs(a[p] + u * (b[p] - a[p]) - x[p]) > 1.0 + 1e-9)
            return 0;
    }
    return 1;
}

static double dist2(const uint8_t *a, const uint8_t *b) {
    double s = 0;
    for (int p = 0; p < D; p++)
        s += (double)(a[p] - b[p]) * (a[p] - b[p]);
    return s;
}

/* Is b among the 5 nearest other members of a's class in the first n images (ties by index)? */
static int near5(const rcl_dataset *ds, int n, int a, int b) {
    double db = dist2(ds->pixels + (size_t)a * D, ds->pixels + (size_t)b * D);
    int closer = 0;
    for (int j = 0; j < n; j++) {
        if (j == a || j == b || ds->labels[j] != ds->labels[a])
            continue;
        double dj = dist2(ds->pixels + (size_t)a * D, ds->pixels + (size_t)j * D);
        closer += dj < db || (dj == db && j < b);
    }
    return closer < 5;
}

static void test_plans(const rcl_dataset *imb) {
    int cnt[K], mx = 0;
    class_counts(imb, NULL, imb->n, cnt);
    for (int c = 0; c < K; c++)
        mx = cnt[c] > mx ? cnt[c] : mx;
    rcl_imb_plan pl;

    CHECK_OK(rcl_imb_plan_make(imb, RCL_IMB_NORMAL, 1, &pl));
    CHECK(pl.train == imb && !pl.indices && !pl.class_weights, "normal: the imbalanced set as it is");
    check_minority(&pl, cnt);
    rcl_imb_plan_free(&pl);

    CHECK_OK(rcl_imb_plan_make(imb, RCL_IMB_COST_SENSITIVE, 1, &pl));
    int ok = pl.class_weights != NULL && pl.train == imb;
    double mean = 0;
    for (int c = 0; ok && c < K; c++) {
        ok &= fabs(pl.class_weights[c] * cnt[c] - pl.class_weights[0] * cnt[0]) < 1e-5 * pl.class_weights[0] * cnt[0];
        mean += pl.class_weights[c] / K;
    }
    CHECK(ok && fabs(mean - 1) < 1e-5, "cost-sensitive: w_c n_c constant, mean weight 1 (%.6f)", mean);
    rcl_imb_plan_free(&pl);

    CHECK_OK(rcl_imb_plan_make(imb, RCL_IMB_OVERSAMPLE, 1, &pl));
    int over[K];
    class_counts(imb, pl.indices, pl.count, over);
    ok = pl.count == mx * K && pl.train == imb;
    for (int c = 0; c < K; c++)
        ok &= over[c] == mx;
    CHECK(ok, "oversampled list balanced: %d images, %d per class", pl.count, mx);
    unsigned char seen[K * PER] = {0};
    for (int i = 0; i < pl.count; i++)
        seen[pl.indices[i]] = 1;
    int all = 1;
    for (int i = 0; i < imb->n; i++)
        all &= seen[i];
    CHECK(all, "oversampled list keeps every image");
    rcl_imb_plan_free(&pl);

    CHECK_OK(rcl_imb_plan_make(imb, RCL_IMB_SMOTE, 1, &pl));
    const rcl_dataset *s = pl.train;
    CHECK(s == &pl.synthetic && s->n == mx * K, "SMOTE set: %d images, want %d", s->n, mx * K);
    CHECK(memcmp(s->pixels, imb->pixels, (size_t)imb->n * D) == 0 &&
              memcmp(s->labels, imb->labels, sizeof(int32_t) * (size_t)imb->n) == 0,
          "SMOTE set starts with the imbalanced set");
    int sm[K];
    class_counts(s, NULL, s->n, sm);
    ok = 1;
    for (int c = 0; c < K; c++)
        ok &= sm[c] == mx;
    CHECK(ok, "SMOTE set balanced");
    int placed = 0, interior = 0, n_new = s->n - imb->n;
    for (int i = imb->n; i < s->n; i++) {
        const uint8_t *x = s->pixels + (size_t)i * D;
        int found = 0;
        for (int a = 0; a < imb->n && !found; a++) {
            if (imb->labels[a] != s->labels[i])
                continue;
            for (int b = 0; b < imb->n && !found; b++)
                found = b != a && imb->labels[b] == s->labels[i] && near5(imb, imb->n, a, b) &&
                        between(x, imb->pixels + (size_t)a * D, imb->pixels + (size_t)b * D);
        }
        placed += found;
        interior += find_source(imb, s, i) < 0; /* not a copy of an original */
    }
    printf("SMOTE: %d new images, %d between a same-class image and one of its 5 nearest, %d not copies\n", n_new,
           placed, interior);
    CHECK(n_new > 0 && placed == n_new, "every SMOTE image lies between two same-class neighbours (%d of %d)", placed,
          n_new);
    CHECK(interior > n_new / 2, "SMOTE images are new images, not copies (%d of %d)", interior, n_new);
    rcl_imb_plan_free(&pl);
    CHECK_FAILS(rcl_imb_plan_make(imb, (rcl_imb_method)7, 1, &pl), RCL_ERR_INVALID_ARG);
}

static void test_errors_and_names(void) {
    /* 4 examples, 3 classes, class 2 minority: argmax per row 0, 2, 0 (first of a tie), 2 */
    float z[12] = {3, 1, 0, 0, 1, 5, 2, 2, 0, 0, 0, 1};
    int32_t y[4] = {0, 2, 2, 1};
    uint8_t minor[3] = {0, 0, 1};
    double total = -1, minority = -1;
    CHECK_OK(rcl_imb_errors(z, y, 4, 3, minor, &total, &minority));
    CHECK(total == 0.5 && minority == 0.5, "errors total %.3f (want 0.5), minority %.3f (want 0.5)", total, minority);
    uint8_t none[3] = {0, 0, 0};
    CHECK_OK(rcl_imb_errors(z, y, 4, 3, none, &total, &minority));
    CHECK(minority == -1, "no minority class: -1");
    for (int m = 0; m < 4; m++)
        CHECK(rcl_imb_method_from_name(rcl_imb_method_name((rcl_imb_method)m)) == m, "method name %d round trip", m);
    CHECK(rcl_imb_method_from_name("smote") == RCL_IMB_SMOTE && rcl_imb_method_from_name("bogus") == -1, "names");
}

/* One epoch over each plan: the trainer takes the list, the weights and the SMOTE set. */
static void test_train(const rcl_dataset *imb) {
    rcl_device *dev = rcl_test_device(0);
    rcl_wrn_config cfg = {10, 1, 1, 8, 8, K, 0.0f, 1};
    rcl_model *m = NULL;
    CHECK_OK(rcl_model_create(dev, &cfg, 64, &m));
    for (int meth = 1; m && meth < 4; meth++) {
        rcl_imb_plan pl;
        CHECK_OK(rcl_imb_plan_make(imb, (rcl_imb_method)meth, 2, &pl));
        CHECK_OK(rcl_model_init(m, 1));
        rcl_model_set_steps(m, 0);
        rcl_train_config tc = rcl_train_defaults();
        tc.batch = 64;
        tc.augment = 0;
        tc.class_weights = pl.class_weights;
        rcl_train_result res;
        CHECK_OK(rcl_train(m, pl.train, pl.indices, pl.count, &tc, &res));
        int n = pl.indices ? pl.count : pl.train->n;
        CHECK(res.steps == (n + 63) / 64 && isfinite(res.train_loss), "%s: one epoch of %d images in %ld steps",
              rcl_imb_method_name((rcl_imb_method)meth), n, res.steps);
        rcl_imb_plan_free(&pl);
    }
    rcl_model_free(m);
    rcl_device_close(dev);
}

int main(void) {
    setenv("ROBUSTCL_QUIET", "1", 0);
    rcl_dataset bal, imb;
    make_balanced(&bal);
    test_cut(&bal, &imb);
    test_plans(&imb);
    test_errors_and_names();
    test_train(&imb);
    rcl_dataset_free(&imb);
    rcl_dataset_free(&bal);
    return rcl_test_finish();
}
