/* The corrected loss of Forward/GLC (spec §5): the golden vector of spec §10
 * on the reference and the device; the reference against the independent host
 * loss of metrics.h and against softmax cross-entropy for trusted rows; central
 * finite differences of the reference in double; device against reference on
 * random shapes with no, some and all rows trusted (all trusted must equal the
 * device's softmax cross-entropy); determinism; argument errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/metrics.h"
#include "robustcl/ops.h"
#include "ops/ref.h"
#include "robustcl/tensor.h"

static rcl_device *dev;
static rcl_rng rng;

/* Float-rounded uniform values from this test's stream (rcl_test_rand_vec). */
static double *rand_vec(size_t n, double lo, double hi) { return rcl_test_rand_vec(&rng, n, lo, hi); }

/* A random row-stochastic k x k matrix (float-rounded); with `sparse`, about half the
 * off-diagonal entries are zero, like a flip matrix. */
static double *rand_stochastic(int k, int sparse) {
    double *C = rand_vec((size_t)k * k, 0, 1);
    for (int i = 0; i < k; i++) {
        double s = 0;
        for (int j = 0; j < k; j++) {
            double *c = &C[(size_t)i * k + j];
            if (sparse && i != j && rcl_rng_uniform(&rng) < 0.5)
                *c = 0;
            s += *c;
        }
        for (int j = 0; j < k; j++)
            C[(size_t)i * k + j] = (float)(C[(size_t)i * k + j] / s);
    }
    return C;
}

/* An n0 x n1 tensor on this test's device (rcl_test_tensor). */
static void mk(rcl_tensor *t, const char *what, const double *x, int n0, int n1) {
    rcl_test_tensor(dev, t, what, x, 2, (int[]){n0, n1});
}

/* ---------------------------------------------------------------- golden */

static void test_golden(void) {
    /* spec §10: p = [.7 .2 .1], C = uniform(0.3, 3), noisy label 1 -> 1.4271164
     * (sum_i p_i C[i,1] = .7*.1 + .2*.8 + .1*.1 = .24, -log .24). */
    double z[3] = {log(0.7), log(0.2), log(0.1)}, C[9], p[3];
    CHECK_OK(rcl_noise_uniform_matrix(3, 0.3, C));
    int lab = 1, tr1 = 1;
    double l = rcl_ref_corrected_loss_forward(1, 3, z, &lab, NULL, C, p);
    CHECK(fabs(l - 1.4271164) < 1e-7, "golden reference loss %.9f, want 1.4271164", l);
    double lt = rcl_ref_corrected_loss_forward(1, 3, z, &lab, &tr1, C, p);
    CHECK(fabs(lt - -log(0.2)) < 1e-12, "trusted golden row is CE: %.9f, want %.9f", lt, -log(0.2));

    rcl_tensor tz, tC, tp, tl;
    mk(&tz, "logits", z, 1, 3), mk(&tC, "C", C, 3, 3), mk(&tp, "probs", NULL, 1, 3);
    CHECK_OK(rcl_tensor_create(dev, &tl, "loss", 1, 1));
    cl_mem tlab = rcl_test_int_buf(dev, &lab, 1), ttr = rcl_test_int_buf(dev, &tr1, 1);
    CHECK_OK(rcl_corrected_loss_forward(dev, &tz, tlab, NULL, &tC, &tp, &tl));
    float got = NAN;
    CHECK_OK(rcl_tensor_download(&tl, &got));
    CHECK(fabs(got - 1.4271164) < 2e-6, "golden device loss %.7f, want 1.4271164", got);
    CHECK_OK(rcl_corrected_loss_forward(dev, &tz, tlab, ttr, &tC, &tp, &tl));
    CHECK_OK(rcl_tensor_download(&tl, &got));
    CHECK(fabs(got - -log(0.2)) < 2e-6, "golden device trusted loss %.7f, want %.7f", got, -log(0.2));
    clReleaseMemObject(tlab), clReleaseMemObject(ttr);
    rcl_tensor_release(&tz), rcl_tensor_release(&tC), rcl_tensor_release(&tp), rcl_tensor_release(&tl);
}

/* The reference against metrics.h's per-example host loss and against the reference CE. */
static void test_reference_definition(void) {
    int n = 20, k = 7;
    double *z = rand_vec((size_t)n * k, -3, 3), *C = rand_stochastic(k, 1);
    double *p = malloc((size_t)n * k * sizeof *p), *pc = malloc((size_t)n * k * sizeof *pc);
    int lab[20], tr[20], one = 1;
    double want = 0;
    for (int i = 0; i < n; i++) {
        lab[i] = (int)rcl_rng_below(&rng, (uint64_t)k);
        tr[i] = i % 3 == 0;
    }
    rcl_ref_softmax_xent_forward(n, k, z, lab, NULL, NULL, pc);
    for (int i = 0; i < n; i++) {
        const double *pi = pc + (size_t)i * k;
        want += tr[i] ? -log(pi[lab[i]]) : rcl_noise_forward_loss(pi, C, k, lab[i]);
    }
    want /= n;
    double got = rcl_ref_corrected_loss_forward(n, k, z, lab, tr, C, p);
    CHECK(fabs(got - want) < 1e-12, "reference mix %.12f vs metrics.h + CE %.12f", got, want);
    /* all trusted = unweighted CE */
    int all[20];
    for (int i = 0; i < n; i++)
        all[i] = one;
    double ce = rcl_ref_softmax_xent_forward(n, k, z, lab, NULL, NULL, pc);
    got = rcl_ref_corrected_loss_forward(n, k, z, lab, all, C, p);
    CHECK(fabs(got - ce) < 1e-12, "reference all trusted %.12f vs CE %.12f", got, ce);
    free(z), free(C), free(p), free(pc);
}

/* ---------------------------------------------------------------- finite differences */

typedef struct {
    int n, k;
    double *z, *C, *p;
    int *lab, *tr;
} fd_ctx;

static double fd_loss(const fd_ctx *c) {
    return rcl_ref_corrected_loss_forward(c->n, c->k, c->z, c->lab, c->tr, c->C, c->p);
}

static void gradcheck_case(int n, int k, int trusted_mode, int sparse) {
    char what[96];
    snprintf(what, sizeof what, "gradcheck n%d k%d trusted=%d sparse=%d", n, k, trusted_mode, sparse);
    size_t cnt = (size_t)n * k;
    fd_ctx c = {n, k, rand_vec(cnt, -3, 3), rand_stochastic(k, sparse), malloc(cnt * sizeof(double)),
                malloc((size_t)n * sizeof(int)), malloc((size_t)n * sizeof(int))};
    for (int i = 0; i < n; i++) {
        c.lab[i] = (int)rcl_rng_below(&rng, (uint64_t)k);
        c.tr[i] = trusted_mode == 2 || (trusted_mode == 1 && i % 2);
    }
    int *tr_save = c.tr;
    if (trusted_mode == 0)
        c.tr = NULL;
    double *g = malloc(cnt * sizeof *g), *num = malloc(cnt * sizeof *num);
    fd_loss(&c);
    rcl_ref_corrected_loss_backward(n, k, c.p, c.lab, c.tr, c.C, g);
    for (size_t i = 0; i < cnt; i++) {
        double save = c.z[i], h = 1e-6 * fmax(1.0, fabs(save));
        c.z[i] = save + h;
        double lp = fd_loss(&c);
        c.z[i] = save - h;
        double lm = fd_loss(&c);
        c.z[i] = save;
        num[i] = (lp - lm) / (2 * h);
    }
    rcl_check_close_d(what, num, g, cnt, 1e-7, 1e-8, 1e-6);
    free(c.z), free(c.C), free(c.p), free(c.lab), free(tr_save), free(g), free(num);
}

/* ---------------------------------------------------------------- device vs reference */

/* trusted_mode: 0 none (NULL), 1 every third row, 2 all rows. */
static void device_case(int n, int k, int trusted_mode, int sparse, double shift) {
    char what[128];
    snprintf(what, sizeof what, "device n%d k%d trusted=%d sparse=%d shift=%g", n, k, trusted_mode, sparse, shift);
    size_t cnt = (size_t)n * k;
    double *z = rand_vec(cnt, -4, 4), *C = rand_stochastic(k, sparse);
    for (size_t i = 0; i < cnt; i++)
        z[i] = (float)(z[i] + shift); /* large logits: exp must not overflow */
    int *lab = malloc((size_t)n * sizeof *lab), *tr = malloc((size_t)n * sizeof *tr);
    for (int i = 0; i < n; i++) {
        lab[i] = (int)rcl_rng_below(&rng, (uint64_t)k);
        tr[i] = trusted_mode == 2 || (trusted_mode == 1 && i % 3 == 0);
    }
    const int *trp = trusted_mode ? tr : NULL;
    double *p = malloc(cnt * sizeof *p), *dz = malloc(cnt * sizeof *dz);
    double loss = rcl_ref_corrected_loss_forward(n, k, z, lab, trp, C, p);
    rcl_ref_corrected_loss_backward(n, k, p, lab, trp, C, dz);

    rcl_tensor tz, tC, tp, tdz, tl, tdz2, tl2;
    mk(&tz, "logits", z, n, k), mk(&tC, "C", C, k, k), mk(&tp, "probs", NULL, n, k);
    mk(&tdz, "dlogits", NULL, n, k), mk(&tdz2, "dlogits2", NULL, n, k);
    mk(&tl, "loss", NULL, 1, 1), mk(&tl2, "loss2", NULL, 1, 1);
    cl_mem tlab = rcl_test_int_buf(dev, lab, (size_t)n), ttr = rcl_test_int_buf(dev, tr, (size_t)n);
    cl_mem tflags = trusted_mode ? ttr : NULL;
    CHECK_OK(rcl_corrected_loss_forward(dev, &tz, tlab, tflags, &tC, &tp, &tl));
    rcl_test_cmp(what, "probs", &tp, p, 1e-7, 1e-5);
    rcl_test_cmp(what, "loss", &tl, &loss, 1e-6, 1e-5);
    CHECK_OK(rcl_corrected_loss_backward(dev, &tp, tlab, tflags, &tC, &tdz));
    rcl_test_cmp(what, "dlogits", &tdz, dz, 1e-7 / n, 1e-4);
    CHECK_OK(rcl_corrected_loss_forward(dev, &tz, tlab, tflags, &tC, &tp, &tl2));
    CHECK_OK(rcl_corrected_loss_backward(dev, &tp, tlab, tflags, &tC, &tdz2));
    CHECK(rcl_test_same_bits(&tl, &tl2) && rcl_test_same_bits(&tdz, &tdz2), "%s: twice gives identical bits", what);
    if (trusted_mode == 2) {
        /* every row trusted: exactly the device's own softmax cross-entropy */
        CHECK_OK(rcl_softmax_xent_forward(dev, &tz, tlab, NULL, NULL, &tp, &tl2));
        CHECK_OK(rcl_softmax_xent_backward(dev, &tp, tlab, NULL, NULL, &tdz2));
        float a = 0, b = 1;
        CHECK_OK(rcl_tensor_download(&tl, &a));
        CHECK_OK(rcl_tensor_download(&tl2, &b));
        CHECK(fabsf(a - b) <= 1e-6f * fabsf(b), "%s: loss %.8g equals CE %.8g", what, a, b);
        float *ga = rcl_test_get(&tdz), *gb = rcl_test_get(&tdz2);
        double *gbd = malloc(cnt * sizeof *gbd);
        rcl_to_double(gb, gbd, cnt);
        char name[160];
        snprintf(name, sizeof name, "%s dlogits vs CE", what);
        rcl_check_close(name, ga, gbd, cnt, 1e-6, 1e-8, 1e-5);
        free(ga), free(gb), free(gbd);
    }
    clReleaseMemObject(tlab), clReleaseMemObject(ttr);
    rcl_tensor *ts[] = {&tz, &tC, &tp, &tdz, &tl, &tdz2, &tl2};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        rcl_tensor_release(ts[i]);
    free(z), free(C), free(lab), free(tr), free(p), free(dz);
}

static void test_errors(void) {
    double z[6] = {0, 1, 2, 0, 1, 2}, C[4] = {1, 0, 0, 1};
    int lab[2] = {0, 2};
    rcl_tensor tz, tC, tp, tl, tdz;
    mk(&tz, "logits", z, 2, 3), mk(&tC, "C2", C, 2, 2), mk(&tp, "probs", NULL, 2, 3);
    mk(&tl, "loss", NULL, 1, 2), mk(&tdz, "dlogits", NULL, 2, 3);
    cl_mem tlab = rcl_test_int_buf(dev, lab, 2), short_tr = rcl_test_int_buf(dev, lab, 1);
    CHECK_FAILS(rcl_corrected_loss_forward(dev, &tz, tlab, NULL, &tC, &tp, &tl), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "corrected_loss C") != NULL, "error names C: %s", rcl_last_error());
    CHECK_FAILS(rcl_corrected_loss_backward(dev, &tp, tlab, NULL, &tC, &tdz), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "C") != NULL, "backward error names C: %s", rcl_last_error());
    rcl_tensor_release(&tC);
    double C3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    mk(&tC, "C3", C3, 3, 3);
    CHECK_FAILS(rcl_corrected_loss_forward(dev, &tz, tlab, short_tr, &tC, &tp, &tl), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "trusted") != NULL, "error names trusted: %s", rcl_last_error());
    CHECK_FAILS(rcl_corrected_loss_forward(dev, &tz, tlab, NULL, &tC, &tp, &tl), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "loss") != NULL, "error names loss: %s", rcl_last_error());
    CHECK_FAILS(rcl_corrected_loss_forward(dev, &tz, short_tr, NULL, &tC, &tp, &tl), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "labels") != NULL, "error names labels: %s", rcl_last_error());
    clReleaseMemObject(tlab), clReleaseMemObject(short_tr);
    rcl_tensor_release(&tz), rcl_tensor_release(&tC), rcl_tensor_release(&tp);
    rcl_tensor_release(&tl), rcl_tensor_release(&tdz);
}

int main(void) {
    rng = rcl_rng_seed(2019);
    test_reference_definition();
    gradcheck_case(1, 2, 0, 0);
    gradcheck_case(6, 5, 0, 0);
    gradcheck_case(6, 5, 1, 1);
    gradcheck_case(5, 4, 2, 0);
    dev = rcl_test_device(0);
    test_golden();
    device_case(1, 2, 0, 0, 0);
    device_case(37, 10, 0, 0, 0);
    device_case(37, 10, 1, 1, 0);
    device_case(37, 10, 2, 0, 0);
    device_case(rcl_test_small() ? 70 : 300, 100, 1, 1, 500); /* more rows than work items; logits past exp's range */
    if (!rcl_test_small())
        device_case(128, 1000, 0, 0, -300);
    test_errors();
    rcl_device_close(dev);
    return rcl_test_finish();
}
