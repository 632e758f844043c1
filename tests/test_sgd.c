/* The SGD step (spec §2) on the device and in the reference, against
 * values worked out by hand from the formulas (first and later steps, Nesterov
 * on and off, weight decay, momentum 0), the device against the reference over
 * many elements and steps, and the cosine schedule. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/ops.h"
#include "ops/ref.h"
#include "robustcl/tensor.h"

static rcl_device *dev;

static const double w0[4] = {1.0, -2.0, 0.5, 0.0};
static const double g1[4] = {0.1, 0.2, -0.3, 0.4};
static const double g2[4] = {0.05, -0.1, 0.2, 0.0};

/* One scenario: two steps from w0 (gradients g1 then g2, the first with
 * first=1 and a momentum buffer holding garbage), compared after each step. */
typedef struct {
    const char *name;
    double lr1, lr2, momentum, wd;
    int nesterov;
    double w1[4], buf1[4], w2[4], buf2[4];
} scenario;

static const scenario scenarios[] = {
    /* Nesterov, wd 0.01, momentum 0.9.
     * step 1: d = g1 + 0.01*w0 = [0.11, 0.18, -0.295, 0.4]; buf = d;
     *         d + 0.9*buf = 1.9*d = [0.209, 0.342, -0.5605, 0.76]; w = w0 - 0.1*that.
     * step 2 (lr 0.05): d = g2 + 0.01*w1 = [0.059791, -0.120342, 0.2055605, -0.00076];
     *         buf = 0.9*buf1 + d = [0.158791, 0.041658, -0.0599395, 0.35924];
     *         d + 0.9*buf = [0.2027029, -0.0828498, 0.15161495, 0.322556]; w = w1 - 0.05*that. */
    {"nesterov wd", 0.1, 0.05, 0.9, 0.01, 1,
     {0.9791, -2.0342, 0.55605, -0.076}, {0.11, 0.18, -0.295, 0.4},
     {0.968964855, -2.03005751, 0.5484692525, -0.0921278}, {0.158791, 0.041658, -0.0599395, 0.35924}},
    /* Plain momentum, no wd: step 1 w = w0 - 0.1*g1, buf = g1;
     * step 2 buf = 0.9*g1 + g2 = [0.14, 0.08, -0.07, 0.36], w = w1 - 0.1*buf. */
    {"momentum", 0.1, 0.1, 0.9, 0.0, 0,
     {0.99, -2.02, 0.53, -0.04}, {0.1, 0.2, -0.3, 0.4},
     {0.976, -2.028, 0.537, -0.076}, {0.14, 0.08, -0.07, 0.36}},
    /* Momentum 0 with wd 0.01 (Nesterov or not is the same): w -= lr*(g + wd*w).
     * step 1: d = [0.11, 0.18, -0.295, 0.4], w = [0.989, -2.018, 0.5295, -0.04];
     * step 2 (lr 0.2): d = g2 + 0.01*w1 = [0.05989, -0.12018, 0.205295, -0.0004],
     *         w = w1 - 0.2*d = [0.977022, -1.993964, 0.488441, -0.03992]. */
    {"momentum 0", 0.1, 0.2, 0.0, 0.01, 1,
     {0.989, -2.018, 0.5295, -0.04}, {0.11, 0.18, -0.295, 0.4},
     {0.977022, -1.993964, 0.488441, -0.03992}, {0.05989, -0.12018, 0.205295, -0.0004}},
};

static void upload(rcl_tensor *t, const double *x) {
    float f[4];
    rcl_to_float(x, f, 4);
    CHECK_OK(rcl_tensor_upload(t, f));
}

static void check_dev(const char *what, const rcl_tensor *t, const double *want) {
    float f[4];
    CHECK_OK(rcl_tensor_download(t, f));
    rcl_check_close(what, f, want, 4, 1e-6, 1e-6, 1e-6);
}

static void run_scenario(const scenario *s) {
    char what[96];
    /* reference (double): exact up to rounding */
    double w[4], buf[4] = {7, 7, 7, 7};
    memcpy(w, w0, sizeof w);
    rcl_ref_sgd_step(4, w, g1, buf, s->lr1, s->momentum, s->wd, s->nesterov, 1);
    snprintf(what, sizeof what, "ref %s step 1 w", s->name);
    rcl_check_close_d(what, w, s->w1, 4, 1e-13, 1e-14, 1e-13);
    snprintf(what, sizeof what, "ref %s step 1 buf", s->name);
    rcl_check_close_d(what, buf, s->buf1, 4, 1e-13, 1e-14, 1e-13);
    rcl_ref_sgd_step(4, w, g2, buf, s->lr2, s->momentum, s->wd, s->nesterov, 0);
    snprintf(what, sizeof what, "ref %s step 2 w", s->name);
    rcl_check_close_d(what, w, s->w2, 4, 1e-13, 1e-14, 1e-13);
    snprintf(what, sizeof what, "ref %s step 2 buf", s->name);
    rcl_check_close_d(what, buf, s->buf2, 4, 1e-13, 1e-14, 1e-13);

    /* device (float) */
    rcl_tensor tw, tg, tb;
    CHECK_OK(rcl_tensor_create(dev, &tw, "w", 1, 4));
    CHECK_OK(rcl_tensor_create(dev, &tg, "g", 1, 4));
    CHECK_OK(rcl_tensor_create(dev, &tb, "buf", 1, 4));
    upload(&tw, w0);
    upload(&tg, g1);
    CHECK_OK(rcl_tensor_fill(&tb, 7.0f)); /* first=1 must ignore it */
    CHECK_OK(rcl_sgd_step(dev, &tw, &tg, &tb, (float)s->lr1, (float)s->momentum, (float)s->wd,
                          s->nesterov, 1));
    snprintf(what, sizeof what, "device %s step 1 w", s->name);
    check_dev(what, &tw, s->w1);
    snprintf(what, sizeof what, "device %s step 1 buf", s->name);
    check_dev(what, &tb, s->buf1);
    upload(&tg, g2);
    CHECK_OK(rcl_sgd_step(dev, &tw, &tg, &tb, (float)s->lr2, (float)s->momentum, (float)s->wd,
                          s->nesterov, 0));
    snprintf(what, sizeof what, "device %s step 2 w", s->name);
    check_dev(what, &tw, s->w2);
    snprintf(what, sizeof what, "device %s step 2 buf", s->name);
    check_dev(what, &tb, s->buf2);
    rcl_tensor_release(&tw), rcl_tensor_release(&tg), rcl_tensor_release(&tb);
}

/* Device against the reference: 100003 elements (4099 with RCL_TEST_SMALL), 4 steps, changing gradients and lr. */
static void test_many(int nesterov) {
    const size_t n = rcl_test_small() ? 4099 : 100003;
    rcl_rng r = rcl_rng_seed(11 + (uint64_t)nesterov);
    double *w = malloc(n * sizeof *w), *g = malloc(n * sizeof *g), *buf = calloc(n, sizeof *buf);
    float *f = malloc(n * sizeof *f);
    rcl_fill_uniform(&r, w, n, -1, 1);
    rcl_to_float(w, f, n), rcl_to_double(f, w, n);
    rcl_tensor tw, tg, tb;
    CHECK_OK(rcl_tensor_create(dev, &tw, "w", 2, 1, (int)n));
    CHECK_OK(rcl_tensor_create(dev, &tg, "g", 2, 1, (int)n));
    CHECK_OK(rcl_tensor_create(dev, &tb, "buf", 2, 1, (int)n));
    CHECK_OK(rcl_tensor_upload(&tw, f));
    CHECK_OK(rcl_tensor_fill(&tb, NAN)); /* first=1 must not read it */
    for (int step = 0; step < 4; step++) {
        rcl_fill_uniform(&r, g, n, -0.5, 0.5);
        rcl_to_float(g, f, n), rcl_to_double(f, g, n);
        CHECK_OK(rcl_tensor_upload(&tg, f));
        float lr = 0.1f / (float)(step + 1);
        CHECK_OK(rcl_sgd_step(dev, &tw, &tg, &tb, lr, 0.9f, 5e-4f, nesterov, step == 0));
        rcl_ref_sgd_step(n, w, g, buf, lr, 0.9f, 5e-4f, nesterov, step == 0);
    }
    char what[64];
    CHECK_OK(rcl_tensor_download(&tw, f));
    snprintf(what, sizeof what, "sgd nesterov=%d 4 steps w", nesterov);
    rcl_check_close(what, f, w, n, 1e-6, 1e-6, 1e-6);
    CHECK_OK(rcl_tensor_download(&tb, f));
    snprintf(what, sizeof what, "sgd nesterov=%d 4 steps buf", nesterov);
    rcl_check_close(what, f, buf, n, 1e-6, 1e-6, 1e-5);

    rcl_tensor small;
    CHECK_OK(rcl_tensor_create(dev, &small, "small", 1, 3));
    CHECK_FAILS(rcl_sgd_step(dev, &tw, &small, &tb, 0.1f, 0.9f, 0, 1, 0), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "gradient") != NULL, "error names the gradient: %s", rcl_last_error());
    CHECK_FAILS(rcl_sgd_step(dev, &tw, &tg, &small, 0.1f, 0.9f, 0, 1, 0), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "momentum buffer") != NULL, "error names the buffer: %s", rcl_last_error());
    rcl_tensor_release(&small);
    rcl_tensor_release(&tw), rcl_tensor_release(&tg), rcl_tensor_release(&tb);
    free(w), free(g), free(buf), free(f);
}

static void test_cosine(void) {
    const double pairs[][2] = {{0.1, 1e-6}, {0.001, 1e-6}, {0.01, 1e-6}, {0.3, 0.003}};
    const long Ts[] = {1, 7, 1000, 39100};
    for (size_t pi = 0; pi < sizeof pairs / sizeof pairs[0]; pi++)
        for (size_t ti = 0; ti < sizeof Ts / sizeof Ts[0]; ti++) {
            double lr = pairs[pi][0], lo = pairs[pi][1];
            long T = Ts[ti];
            double last = rcl_cosine_lr(lr, lo, T, T);
            CHECK(last == lo, "cosine lr=%g T=%ld: t=T gives %.17g, want exactly %.17g", lr, T, last, lo);
            if (T % 2 == 0) {
                double mid = rcl_cosine_lr(lr, lo, T / 2, T);
                CHECK(fabs(mid - (lr + lo) / 2) <= 1e-15 * lr,
                      "cosine lr=%g T=%ld: t=T/2 gives %.17g, want %.17g", lr, T, mid, (lr + lo) / 2);
            }
            double first = rcl_cosine_lr(lr, lo, 1, T);
            CHECK(first <= lr && first >= lo, "cosine lr=%g T=%ld: t=1 gives %g", lr, T, first);
            int mono = 1;
            double prev = rcl_cosine_lr(lr, lo, 0, T);
            CHECK(fabs(prev - lr) <= 1e-15 * lr, "cosine t=0 gives lr (%.17g)", prev);
            for (long t = 1; t <= T; t++) {
                double v = rcl_cosine_lr(lr, lo, t, T);
                if (!(v < prev))
                    mono = 0;
                prev = v;
            }
            CHECK(mono, "cosine lr=%g T=%ld strictly decreasing over t=1..T", lr, T);
        }
    /* a quarter of the way: lr_min + (lr - lr_min) * (1 + cos(pi/4)) / 2, with
     * cos(pi/4) = 0.70710678118654752: 1e-6 + 0.099999 * 0.85355339059327376 */
    double q = rcl_cosine_lr(0.1, 1e-6, 250, 1000);
    CHECK(fabs(q - 0.0853554855059368) < 1e-15, "cosine t=T/4: %.17g", q);
    /* the schedule's own definition, lr*(lo + (1-lo)*0.5*(1+cos(pi t/T))) with lo = lr_min/lr */
    double lo = 1e-6 / 0.1, t = 377, T = 1000;
    double want = 0.1 * (lo + (1 - lo) * 0.5 * (1 + cos(3.14159265358979323846 * t / T)));
    CHECK(fabs(rcl_cosine_lr(0.1, 1e-6, 377, 1000) - want) < 1e-16, "cosine matches spec §2 at t=377");
}

int main(void) {
    dev = rcl_test_device(0);
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        run_scenario(&scenarios[i]);
    test_many(1);
    test_many(0);
    test_cosine();
    rcl_device_close(dev);
    return rcl_test_finish();
}
