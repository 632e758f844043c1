/* Every row of the op table (src/ops/op_table.c: each device op against its plain-C
 * reference on the row's shapes; `test_ops --list` prints the rows, `test_ops --op NAME` or
 * RCL_TEST_OP=NAME runs one row alone, as .ci/run's oclgrind loop does). Then special cases
 * of every op except conv2d: device results against the double-precision
 * references (forward and every backward output) over assorted shapes (odd
 * sizes, batch 1, a WRN-scale batch norm), BN eval mode and running
 * statistics, the dropout mask, weighted softmax cross-entropy, count_correct
 * with ties, determinism of the reductions, and shape validation. Inputs are
 * rounded to float before the reference sees them; outputs start as NaN so an
 * element the device forgets to write shows up. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/ops.h"
#include "ops/op_table.h"
#include "ops/ref.h"
#include "robustcl/tensor.h"

static rcl_device *dev;
static rcl_rng rng;

/* The harness helpers, bound to this test's device and random stream. */
static double *rand_vec(size_t n, double lo, double hi) { return rcl_test_rand_vec(&rng, n, lo, hi); }

static double *copy_vec(const double *x, size_t n) {
    double *y = malloc((n ? n : 1) * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

static void mk(rcl_tensor *t, const char *what, const double *x, int ndim, const int *shape) {
    rcl_test_tensor(dev, t, what, x, ndim, shape);
}

static void mk1(rcl_tensor *t, const char *what, const double *x, int n) {
    mk(t, what, x, 1, (int[]){n});
}

static cl_mem int_buf(const int *v, size_t n) { return rcl_test_int_buf(dev, v, n); }

static int read_int(cl_mem m) {
    cl_int v = -12345;
    cl_int e = clEnqueueReadBuffer(rcl_device_queue(dev), m, CL_TRUE, 0, sizeof v, &v, 0, NULL, NULL);
    CHECK(e == CL_SUCCESS, "reading an int: %s", rcl_cl_error_name(e));
    return v;
}

/* ---------------------------------------------------------------- batch norm */

static void bn_case(int n, int c, int h, int w, int relu) {
    char what[96];
    snprintf(what, sizeof what, "bn [%d,%d,%d,%d] relu=%d", n, c, h, w, relu);
    int hw = h * w, shape[4] = {n, c, h, w};
    size_t cnt = (size_t)n * c * hw;
    const double mom = 0.1f, eps = 1e-5f; /* the float values the device uses */
    /* per-channel offset and scale: the variance must not rely on a zero mean */
    double *off = rand_vec((size_t)c, -3, 3), *sc = rand_vec((size_t)c, 0.2, 3);
    double *x = rand_vec(cnt, -1, 1);
    for (size_t i = 0; i < cnt; i++) {
        int ch = (int)(i / (size_t)hw % (size_t)c);
        x[i] = (float)(off[ch] + sc[ch] * x[i]);
    }
    double *gamma = rand_vec((size_t)c, -1.5, 1.5), *beta = rand_vec((size_t)c, -0.5, 0.5);
    double *rm = rand_vec((size_t)c, -0.5, 0.5), *rv = rand_vec((size_t)c, 0.5, 2);
    double *dy = rand_vec(cnt, -1, 1);
    double *rm_ref = copy_vec(rm, (size_t)c), *rv_ref = copy_vec(rv, (size_t)c);
    double *y_ref = malloc(cnt * sizeof *y_ref), *sm = malloc((size_t)c * sizeof *sm),
           *si = malloc((size_t)c * sizeof *si);

    rcl_tensor tx, tg, tb, trm, trv, ty, tsm, tsi, tdy, tdx, tdg, tdb, tdx2, tdg2, tdb2, ty2;
    mk(&tx, "x", x, 4, shape);
    mk1(&tg, "gamma", gamma, c), mk1(&tb, "beta", beta, c);
    mk1(&trm, "running_mean", rm, c), mk1(&trv, "running_var", rv, c);
    mk(&ty, "y", NULL, 4, shape), mk1(&tsm, "save_mean", NULL, c), mk1(&tsi, "save_invstd", NULL, c);
    CHECK_OK(rcl_batchnorm_forward(dev, RCL_BN_TRAIN, relu, &tx, &tg, &tb, &trm, &trv, (float)mom,
                                   (float)eps, &ty, &tsm, &tsi));
    rcl_ref_batchnorm_forward(RCL_BN_TRAIN, relu, n, c, hw, x, gamma, beta, rm_ref, rv_ref, mom, eps,
                              y_ref, sm, si);
    rcl_test_cmp(what, "train y", &ty, y_ref, 2e-5, 1e-5);
    rcl_test_cmp(what, "save_mean", &tsm, sm, 1e-6, 1e-5);
    rcl_test_cmp(what, "save_invstd", &tsi, si, 1e-6, 1e-5);
    rcl_test_cmp(what, "running_mean", &trm, rm_ref, 1e-6, 1e-5);
    rcl_test_cmp(what, "running_var", &trv, rv_ref, 1e-6, 1e-5);

    /* backward: the reference takes its relu mask from the device's y, so an
     * element that rounds to the other side of 0 cannot flip the comparison */
    double *y_dev = rcl_test_get_d(&ty), *dx_ref = malloc(cnt * sizeof *dx_ref);
    double *dg_ref = malloc((size_t)c * sizeof *dg_ref), *db_ref = malloc((size_t)c * sizeof *db_ref);
    rcl_ref_batchnorm_backward(relu, n, c, hw, x, y_dev, dy, gamma, sm, si, dx_ref, dg_ref, db_ref);
    mk(&tdy, "dy", dy, 4, shape), mk(&tdx, "dx", NULL, 4, shape);
    mk1(&tdg, "dgamma", NULL, c), mk1(&tdb, "dbeta", NULL, c);
    CHECK_OK(rcl_batchnorm_backward(dev, relu, &tx, &ty, &tdy, &tg, &tsm, &tsi, &tdx, &tdg, &tdb));
    double msq = sqrt((double)n * hw); /* reductions over M terms of size ~1 */
    rcl_test_cmp(what, "dx", &tdx, dx_ref, 2e-5, 1e-5);
    rcl_test_cmp(what, "dgamma", &tdg, dg_ref, 2e-6 * msq, 1e-5);
    rcl_test_cmp(what, "dbeta", &tdb, db_ref, 2e-6 * msq, 1e-5);

    /* determinism: the same calls give the same bits */
    mk(&tdx2, "dx2", NULL, 4, shape), mk1(&tdg2, "dgamma2", NULL, c), mk1(&tdb2, "dbeta2", NULL, c);
    CHECK_OK(rcl_batchnorm_backward(dev, relu, &tx, &ty, &tdy, &tg, &tsm, &tsi, &tdx2, &tdg2, &tdb2));
    CHECK(rcl_test_same_bits(&tdx, &tdx2) && rcl_test_same_bits(&tdg, &tdg2) && rcl_test_same_bits(&tdb, &tdb2),
          "%s: backward twice gives identical bits", what);
    mk(&ty2, "y2", NULL, 4, shape);
    rcl_tensor rm2, rv2, sm2, si2;
    mk1(&rm2, "rm2", rm, c), mk1(&rv2, "rv2", rv, c), mk1(&sm2, "sm2", NULL, c), mk1(&si2, "si2", NULL, c);
    CHECK_OK(rcl_batchnorm_forward(dev, RCL_BN_TRAIN, relu, &tx, &tg, &tb, &rm2, &rv2, (float)mom,
                                   (float)eps, &ty2, &sm2, &si2));
    CHECK(rcl_test_same_bits(&ty, &ty2) && rcl_test_same_bits(&tsm, &sm2) && rcl_test_same_bits(&tsi, &si2) &&
              rcl_test_same_bits(&trm, &rm2) && rcl_test_same_bits(&trv, &rv2),
          "%s: forward twice gives identical bits", what);

    /* eval mode with the updated running statistics; save_* may be NULL */
    double *rm_e = rcl_test_get_d(&trm), *rv_e = rcl_test_get_d(&trv);
    rcl_ref_batchnorm_forward(RCL_BN_EVAL, relu, n, c, hw, x, gamma, beta, rm_e, rv_e, mom, eps, y_ref,
                              NULL, NULL);
    CHECK_OK(rcl_tensor_fill(&ty, NAN));
    CHECK_OK(rcl_batchnorm_forward(dev, RCL_BN_EVAL, relu, &tx, &tg, &tb, &trm, &trv, (float)mom,
                                   (float)eps, &ty, NULL, NULL));
    rcl_test_cmp(what, "eval y", &ty, y_ref, 2e-5, 1e-5);
    double *rm_after = rcl_test_get_d(&trm);
    CHECK(memcmp(rm_after, rm_e, (size_t)c * sizeof(double)) == 0, "%s: eval leaves running_mean", what);

    rcl_tensor *ts[] = {&tx, &tg, &tb, &trm, &trv, &ty, &tsm, &tsi, &tdy, &tdx, &tdg, &tdb,
                        &tdx2, &tdg2, &tdb2, &ty2, &rm2, &rv2, &sm2, &si2};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        rcl_tensor_release(ts[i]);
    free(off), free(sc), free(x), free(gamma), free(beta), free(rm), free(rv), free(dy);
    free(rm_ref), free(rv_ref), free(y_ref), free(sm), free(si), free(y_dev), free(dx_ref);
    free(rm_e), free(rv_e), free(rm_after), free(dg_ref), free(db_ref);
}

static void test_batchnorm(void) {
    bn_case(2, 3, 5, 7, 0);
    bn_case(2, 3, 5, 7, 1);
    bn_case(1, 5, 3, 3, 1);     /* batch 1 */
    bn_case(7, 4, 1, 1, 0);     /* 1x1 spatial: M = 7 */
    bn_case(3, 2, 19, 23, 1);   /* M = 1311, several elements per work item */
    if (!rcl_test_small())
        bn_case(32, 160, 32, 32, 1); /* WRN-28-10 scale: M = 32768 per channel */
}

static void test_batchnorm_errors(void) {
    rcl_tensor x, g, b, rm, rv, y, sm, si, g5;
    int shape[4] = {2, 4, 3, 3};
    mk(&x, "x", NULL, 4, shape), mk(&y, "y", NULL, 4, shape);
    mk1(&g, "g", NULL, 4), mk1(&b, "b", NULL, 4), mk1(&rm, "rm", NULL, 4), mk1(&rv, "rv", NULL, 4);
    mk1(&sm, "sm", NULL, 4), mk1(&si, "si", NULL, 4), mk1(&g5, "g5", NULL, 5);
    CHECK_FAILS(rcl_batchnorm_forward(dev, RCL_BN_TRAIN, 0, &x, &g5, &b, &rm, &rv, 0.1f, 1e-5f, &y, &sm, &si),
                RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "gamma") != NULL, "error names gamma: %s", rcl_last_error());
    CHECK_FAILS(rcl_batchnorm_forward(dev, RCL_BN_TRAIN, 0, &x, &g, &b, &rm, &rv, 0.1f, 1e-5f, &y, &sm, NULL),
                RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "save_invstd") != NULL, "error names save_invstd: %s", rcl_last_error());
    CHECK_FAILS(rcl_batchnorm_forward(dev, RCL_BN_TRAIN, 0, &x, &g, &b, &rm, &rv, 0.1f, 1e-5f, &g5, &sm, &si),
                RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "batchnorm y") != NULL, "error names y: %s", rcl_last_error());
    CHECK_FAILS(rcl_batchnorm_backward(dev, 1, &x, NULL, &y, &g, &sm, &si, &x, &g, &b), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_batchnorm_backward(dev, 0, &x, NULL, &y, &g, &sm, &si, &y, &rm, &rv), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "dx") != NULL, "aliasing dx and dy is refused: %s", rcl_last_error());
    rcl_tensor x1, y1;
    mk(&x1, "x1", NULL, 4, (int[]){1, 4, 1, 1}), mk(&y1, "y1", NULL, 4, (int[]){1, 4, 1, 1});
    CHECK_FAILS(rcl_batchnorm_forward(dev, RCL_BN_TRAIN, 0, &x1, &g, &b, &rm, &rv, 0.1f, 1e-5f, &y1, &sm, &si),
                RCL_ERR_INVALID_ARG);
    rcl_tensor *ts[] = {&x, &g, &b, &rm, &rv, &y, &sm, &si, &g5, &x1, &y1};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        rcl_tensor_release(ts[i]);
}

/* ---------------------------------------------------------------- elementwise */

static void test_relu_add_axpy(void) {
    int shape[4] = {3, 5, 7, 9};
    size_t n = 3 * 5 * 7 * 9;
    double *x = rand_vec(n, -1, 1), *b = rand_vec(n, -1, 1), *dy = rand_vec(n, -1, 1);
    double *y = malloc(n * sizeof *y), *dx = malloc(n * sizeof *dx);
    rcl_tensor tx, tb, ty, tdy, tdx;
    mk(&tx, "x", x, 4, shape), mk(&tb, "b", b, 4, shape), mk(&ty, "y", NULL, 4, shape);
    mk(&tdy, "dy", dy, 4, shape), mk(&tdx, "dx", NULL, 4, shape);

    CHECK_OK(rcl_relu_forward(dev, &tx, &ty));
    rcl_ref_relu_forward(n, x, y);
    rcl_test_cmp("relu", "y", &ty, y, 0, 0);
    CHECK_OK(rcl_relu_backward(dev, &ty, &tdy, &tdx));
    rcl_ref_relu_backward(n, y, dy, dx);
    rcl_test_cmp("relu", "dx", &tdx, dx, 0, 0);
    CHECK_OK(rcl_relu_backward(dev, &ty, &tdy, &tdy)); /* dx aliasing dy */
    rcl_test_cmp("relu", "dx in place", &tdy, dx, 0, 0);

    CHECK_OK(rcl_add(dev, &tx, &tb, &ty));
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] + b[i];
    rcl_test_cmp("add", "y", &ty, y, 1e-7, 1e-7);

    CHECK_OK(rcl_axpy(dev, -0.75f, &tx, &ty)); /* y = x + b - 0.75x */
    for (size_t i = 0; i < n; i++)
        y[i] = (double)(float)(x[i] + b[i]) - 0.75 * x[i];
    rcl_test_cmp("axpy", "y", &ty, y, 1e-7, 1e-6);

    CHECK_OK(rcl_relu_forward(dev, &tx, &tx)); /* in place */
    rcl_ref_relu_forward(n, x, y);
    rcl_test_cmp("relu", "in place", &tx, y, 0, 0);

    rcl_tensor small;
    mk(&small, "small", NULL, 2, (int[]){3, 5});
    CHECK_FAILS(rcl_add(dev, &tx, &small, &ty), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "add b") != NULL, "error names b: %s", rcl_last_error());
    CHECK_FAILS(rcl_relu_forward(dev, &tx, &small), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_axpy(dev, 1.0f, &small, &tx), RCL_ERR_INVALID_ARG);
    rcl_tensor_release(&tx), rcl_tensor_release(&tb), rcl_tensor_release(&ty);
    rcl_tensor_release(&tdy), rcl_tensor_release(&tdx), rcl_tensor_release(&small);
    free(x), free(b), free(dy), free(y), free(dx);
}

static void test_dropout(void) {
    const size_t n = 20011;
    int shape[2] = {1, (int)n};
    double *x = rand_vec(n, 0.5, 1.5), *dy = rand_vec(n, -1, -0.5); /* no zeros: the mask is visible */
    double *y = malloc(n * sizeof *y), *dx = malloc(n * sizeof *dx);
    rcl_tensor tx, ty, tdy, tdx;
    mk(&tx, "x", x, 2, shape), mk(&ty, "y", NULL, 2, shape);
    mk(&tdy, "dy", dy, 2, shape), mk(&tdx, "dx", NULL, 2, shape);
    const float p = 0.3f;
    const uint32_t seed = 12345, counter = 77;

    CHECK_OK(rcl_dropout_forward(dev, p, seed, counter, &tx, &ty));
    rcl_ref_dropout_forward(n, p, seed, counter, x, y);
    float *fy = rcl_test_get(&ty);
    size_t mism = 0, kept = 0;
    for (size_t i = 0; i < n; i++) {
        mism += (fy[i] == 0) != (y[i] == 0);
        kept += fy[i] != 0;
    }
    CHECK(mism == 0, "dropout mask equals the reference's (%zu mismatches)", mism);
    double frac = (double)kept / n;
    CHECK(fabs(frac - 0.7) < 0.02, "dropout keeps ~70%% (%.4f)", frac);
    rcl_test_cmp("dropout", "y", &ty, y, 0, 3e-7);
    /* every kept value is x/(1-p), every dropped one exactly 0 */
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (fy[i] != 0 && fabs(fy[i] - x[i] / (1 - 0.3)) > 1e-6 * fabs(x[i]) + 1e-6)
            bad++;
    CHECK(bad == 0, "kept values scaled by 1/(1-p) (%zu bad)", bad);
    free(fy);

    CHECK_OK(rcl_dropout_backward(dev, p, seed, counter, &tdy, &tdx));
    rcl_ref_dropout_backward(n, p, seed, counter, dy, dx);
    rcl_test_cmp("dropout", "dx", &tdx, dx, 0, 3e-7);
    float *fdx = rcl_test_get(&tdx);
    fy = rcl_test_get(&ty);
    mism = 0;
    for (size_t i = 0; i < n; i++)
        mism += (fdx[i] == 0) != (fy[i] == 0);
    CHECK(mism == 0, "dropout backward uses the forward's mask (%zu mismatches)", mism);
    free(fdx);

    /* another counter: another mask */
    CHECK_OK(rcl_dropout_forward(dev, p, seed, counter + 1, &tx, &tdx));
    fdx = rcl_test_get(&tdx);
    mism = 0;
    for (size_t i = 0; i < n; i++)
        mism += (fdx[i] == 0) != (fy[i] == 0);
    CHECK(mism > n / 10, "a new counter draws a new mask (%zu differ)", mism);
    free(fdx), free(fy);

    /* p = 0: identity, bit for bit */
    CHECK_OK(rcl_dropout_forward(dev, 0.0f, seed, counter, &tx, &ty));
    CHECK(rcl_test_same_bits(&tx, &ty), "dropout p=0 is the identity");
    CHECK_FAILS(rcl_dropout_forward(dev, 1.5f, seed, counter, &tx, &ty), RCL_ERR_INVALID_ARG);
    rcl_tensor_release(&tx), rcl_tensor_release(&ty), rcl_tensor_release(&tdy), rcl_tensor_release(&tdx);
    free(x), free(dy), free(y), free(dx);
}

/* ---------------------------------------------------------------- pool, linear */

static void pool_case(int n, int c, int h, int w) {
    char what[64];
    snprintf(what, sizeof what, "avgpool [%d,%d,%d,%d]", n, c, h, w);
    size_t cnt = (size_t)n * c * h * w, planes = (size_t)n * c;
    double *x = rand_vec(cnt, -1, 1), *dy = rand_vec(planes, -1, 1);
    double *y = malloc(planes * sizeof *y), *dx = malloc(cnt * sizeof *dx);
    rcl_tensor tx, ty, tdy, tdx;
    mk(&tx, "x", x, 4, (int[]){n, c, h, w}), mk(&tdx, "dx", NULL, 4, (int[]){n, c, h, w});
    mk(&ty, "y", NULL, 2, (int[]){n, c}), mk(&tdy, "dy", dy, 2, (int[]){n, c});
    CHECK_OK(rcl_avgpool_forward(dev, &tx, &ty));
    rcl_ref_avgpool_forward(n, c, h * w, x, y);
    rcl_test_cmp(what, "y", &ty, y, 1e-6, 1e-5);
    CHECK_OK(rcl_avgpool_backward(dev, &tdy, &tdx));
    rcl_ref_avgpool_backward(n, c, h * w, dy, dx);
    rcl_test_cmp(what, "dx", &tdx, dx, 1e-7, 1e-6);
    CHECK_FAILS(rcl_avgpool_forward(dev, &tx, &tdx), RCL_ERR_INVALID_ARG); /* y must be [N,C] */
    CHECK(strstr(rcl_last_error(), "avgpool y") != NULL, "error names y: %s", rcl_last_error());
    rcl_tensor_release(&tx), rcl_tensor_release(&ty), rcl_tensor_release(&tdy), rcl_tensor_release(&tdx);
    free(x), free(dy), free(y), free(dx);
}

static void test_avgpool(void) {
    pool_case(1, 1, 1, 1);
    pool_case(3, 5, 7, 7);
    pool_case(1, 3, 13, 11);
    if (!rcl_test_small())
        pool_case(128, 128, 8, 8); /* WRN-40-2 head */
}

/* x is [n, f] (or [n, f, 1, 1] when as4d). */
static void linear_case(int n, int f, int k, int bias, int want_dx, int as4d) {
    char what[96];
    snprintf(what, sizeof what, "linear n%d f%d k%d bias=%d dx=%d%s", n, f, k, bias, want_dx,
             as4d ? " 4-D x" : "");
    double *x = rand_vec((size_t)n * f, -1, 1), *w = rand_vec((size_t)k * f, -1, 1);
    double *b = rand_vec((size_t)k, -1, 1), *dy = rand_vec((size_t)n * k, -1, 1);
    double *y = malloc((size_t)n * k * sizeof *y), *dx = malloc((size_t)n * f * sizeof *dx);
    double *dw = malloc((size_t)k * f * sizeof *dw), *db = malloc((size_t)k * sizeof *db);
    rcl_tensor tx, tw, tb, ty, tdy, tdx, tdw, tdb;
    if (as4d)
        mk(&tx, "x", x, 4, (int[]){n, f, 1, 1}), mk(&tdx, "dx", NULL, 4, (int[]){n, f, 1, 1});
    else
        mk(&tx, "x", x, 2, (int[]){n, f}), mk(&tdx, "dx", NULL, 2, (int[]){n, f});
    mk(&tw, "w", w, 2, (int[]){k, f}), mk(&tdw, "dw", NULL, 2, (int[]){k, f});
    mk1(&tb, "b", b, k), mk1(&tdb, "db", NULL, k);
    mk(&ty, "y", NULL, 2, (int[]){n, k}), mk(&tdy, "dy", dy, 2, (int[]){n, k});
    CHECK_OK(rcl_linear_forward(dev, &tx, &tw, bias ? &tb : NULL, &ty));
    rcl_ref_linear_forward(n, f, k, x, w, bias ? b : NULL, y);
    double sf = sqrt((double)f), sn = sqrt((double)n);
    rcl_test_cmp(what, "y", &ty, y, 2e-6 * sf, 1e-5);
    CHECK_OK(rcl_linear_backward(dev, &tx, &tw, &tdy, want_dx ? &tdx : NULL, &tdw, bias ? &tdb : NULL));
    rcl_ref_linear_backward(n, f, k, x, w, dy, dx, dw, db);
    rcl_test_cmp(what, "dw", &tdw, dw, 2e-6 * sn, 1e-5);
    if (want_dx)
        rcl_test_cmp(what, "dx", &tdx, dx, 2e-6 * sqrt((double)k), 1e-5);
    if (bias)
        rcl_test_cmp(what, "db", &tdb, db, 2e-6 * sn, 1e-5);
    rcl_tensor *ts[] = {&tx, &tw, &tb, &ty, &tdy, &tdx, &tdw, &tdb};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        rcl_tensor_release(ts[i]);
    free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db);
}

static void test_linear(void) {
    linear_case(1, 1, 1, 1, 1, 0);
    linear_case(7, 13, 5, 1, 1, 0);
    linear_case(1, 128, 10, 1, 1, 1); /* batch 1, pooled features as [N,C,1,1] */
    if (!rcl_test_small())
        linear_case(128, 640, 100, 1, 1, 0);
    linear_case(33, 17, 3, 0, 1, 0); /* bias-less head */
    linear_case(9, 12, 7, 1, 0, 0);  /* dx not wanted */
    rcl_tensor x, w, y;
    mk(&x, "x", NULL, 2, (int[]){4, 6}), mk(&w, "w", NULL, 2, (int[]){3, 5}), mk(&y, "y", NULL, 2, (int[]){4, 3});
    CHECK_FAILS(rcl_linear_forward(dev, &x, &w, NULL, &y), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "linear w") != NULL, "error names w: %s", rcl_last_error());
    rcl_tensor_release(&w);
    mk(&w, "w", NULL, 2, (int[]){3, 6});
    rcl_tensor b;
    mk1(&b, "b", NULL, 4);
    CHECK_FAILS(rcl_linear_forward(dev, &x, &w, &b, &y), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "linear b") != NULL, "error names b: %s", rcl_last_error());
    rcl_tensor_release(&x), rcl_tensor_release(&w), rcl_tensor_release(&y), rcl_tensor_release(&b);
}

/* ---------------------------------------------------------------- loss */

static void xent_case(int n, int k, int use_cw, int use_sw, double shift) {
    char what[96];
    snprintf(what, sizeof what, "xent n%d k%d cw=%d sw=%d shift=%g", n, k, use_cw, use_sw, shift);
    double *z = rand_vec((size_t)n * k, -4, 4);
    for (size_t i = 0; i < (size_t)n * k; i++)
        z[i] = (float)(z[i] + shift); /* large logits: exp must not overflow */
    int *lab = malloc((size_t)n * sizeof *lab);
    for (int i = 0; i < n; i++)
        lab[i] = (int)rcl_rng_below(&rng, (uint64_t)k);
    double *cw = rand_vec((size_t)k, 0.1, 3), *sw = rand_vec((size_t)n, 0, 2);
    double *p = malloc((size_t)n * k * sizeof *p), *dz = malloc((size_t)n * k * sizeof *dz);
    double loss = rcl_ref_softmax_xent_forward(n, k, z, lab, use_cw ? cw : NULL, use_sw ? sw : NULL, p);
    rcl_ref_softmax_xent_backward(n, k, p, lab, use_cw ? cw : NULL, use_sw ? sw : NULL, dz);

    rcl_tensor tz, tcw, tsw, tp, tl, tdz, tl2, tdz2;
    mk(&tz, "logits", z, 2, (int[]){n, k}), mk(&tp, "probs", NULL, 2, (int[]){n, k});
    mk(&tdz, "dlogits", NULL, 2, (int[]){n, k}), mk(&tdz2, "dlogits2", NULL, 2, (int[]){n, k});
    mk1(&tcw, "class_w", cw, k), mk1(&tsw, "sample_w", sw, n);
    mk1(&tl, "loss", NULL, 1), mk1(&tl2, "loss2", NULL, 1);
    cl_mem tlab = int_buf(lab, (size_t)n);
    const rcl_tensor *pc = use_cw ? &tcw : NULL, *ps = use_sw ? &tsw : NULL;
    CHECK_OK(rcl_softmax_xent_forward(dev, &tz, tlab, pc, ps, &tp, &tl));
    rcl_test_cmp(what, "probs", &tp, p, 1e-7, 1e-5);
    rcl_test_cmp(what, "loss", &tl, &loss, 1e-6, 1e-5);
    CHECK_OK(rcl_softmax_xent_backward(dev, &tp, tlab, pc, ps, &tdz));
    rcl_test_cmp(what, "dlogits", &tdz, dz, 1e-7 / n, 1e-5);
    /* determinism */
    CHECK_OK(rcl_softmax_xent_forward(dev, &tz, tlab, pc, ps, &tp, &tl2));
    CHECK_OK(rcl_softmax_xent_backward(dev, &tp, tlab, pc, ps, &tdz2));
    CHECK(rcl_test_same_bits(&tl, &tl2) && rcl_test_same_bits(&tdz, &tdz2), "%s: twice gives identical bits", what);
    clReleaseMemObject(tlab);
    rcl_tensor *ts[] = {&tz, &tcw, &tsw, &tp, &tl, &tdz, &tl2, &tdz2};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        rcl_tensor_release(ts[i]);
    free(z), free(lab), free(cw), free(sw), free(p), free(dz);
}

static void test_xent(void) {
    xent_case(1, 2, 0, 0, 0);
    xent_case(37, 10, 0, 0, 0);
    xent_case(37, 10, 1, 0, 0);
    xent_case(37, 10, 0, 1, 0);
    xent_case(37, 10, 1, 1, 0);
    xent_case(rcl_test_small() ? 70 : 300, 100, 1, 1, 500); /* more rows than work items; logits past exp's range */
    if (!rcl_test_small())
        xent_case(128, 1000, 0, 0, -300);

    /* a hand-made case: logits [0, ln 3] with label 1 -> p = [1/4, 3/4], l = ln(4/3);
     * label 0 -> l = ln 4. Weighted: class_w = [1, 3] -> (1*ln4 + 3*ln(4/3)) / 4. */
    double z[4] = {0, log(3.0), 0, log(3.0)}, cw[2] = {1, 3};
    int lab[2] = {0, 1};
    rcl_tensor tz, tp, tl, tcw, tdz;
    mk(&tz, "logits", z, 2, (int[]){2, 2}), mk(&tp, "probs", NULL, 2, (int[]){2, 2});
    mk(&tdz, "dlogits", NULL, 2, (int[]){2, 2});
    mk1(&tl, "loss", NULL, 1), mk1(&tcw, "class_w", cw, 2);
    cl_mem tlab = int_buf(lab, 2);
    CHECK_OK(rcl_softmax_xent_forward(dev, &tz, tlab, &tcw, NULL, &tp, &tl));
    double want_p[4] = {0.25, 0.75, 0.25, 0.75};
    double want_l = (log(4.0) + 3 * log(4.0 / 3.0)) / 4;
    rcl_test_cmp("xent hand", "probs", &tp, want_p, 1e-7, 1e-6);
    rcl_test_cmp("xent hand", "loss", &tl, &want_l, 1e-7, 1e-6);
    CHECK_OK(rcl_softmax_xent_backward(dev, &tp, tlab, &tcw, NULL, &tdz));
    /* row 0: w=1/4 * (p - [1,0]); row 1: w=3/4 * (p - [0,1]) */
    double want_dz[4] = {0.25 * -0.75, 0.25 * 0.75, 0.75 * 0.25, 0.75 * -0.25};
    rcl_test_cmp("xent hand", "dlogits", &tdz, want_dz, 1e-7, 1e-6);

    /* shape errors name the tensor */
    rcl_tensor bad;
    mk1(&bad, "cw3", NULL, 3);
    CHECK_FAILS(rcl_softmax_xent_forward(dev, &tz, tlab, &bad, NULL, &tp, &tl), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "class_w") != NULL, "error names class_w: %s", rcl_last_error());
    CHECK_FAILS(rcl_softmax_xent_forward(dev, &tz, tlab, NULL, &bad, &tp, &tl), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "sample_w") != NULL, "error names sample_w: %s", rcl_last_error());
    CHECK_FAILS(rcl_softmax_xent_forward(dev, &tz, tlab, NULL, NULL, &tp, &bad), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "loss") != NULL, "error names loss: %s", rcl_last_error());
    cl_mem short_lab = int_buf(lab, 1);
    CHECK_FAILS(rcl_softmax_xent_forward(dev, &tz, short_lab, NULL, NULL, &tp, &tl), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "labels") != NULL, "error names labels: %s", rcl_last_error());
    clReleaseMemObject(short_lab);
    clReleaseMemObject(tlab);
    rcl_tensor_release(&tz), rcl_tensor_release(&tp), rcl_tensor_release(&tl);
    rcl_tensor_release(&tcw), rcl_tensor_release(&tdz), rcl_tensor_release(&bad);
}

static void test_count_correct(void) {
    /* ties resolve to the first maximum */
    double z[] = {1, 3, 3,  /* argmax 1 */
                  1, 3, 3,  /* argmax 1 */
                  5, 5, 5,  /* argmax 0 */
                  5, 5, 5,  /* argmax 0 */
                  0, -1, 2, /* argmax 2 */
                  -2, -1, -1.5};
    /* first-maximum argmax: 1 1 0 0 2 1 -> rows 0, 2, 4 correct (3); a last-maximum
     * argmax (2 2 2 2 2 1) would count rows 1 and 4 (2) */
    int lab[] = {1, 2, 0, 1, 2, 0};
    rcl_tensor tz;
    mk(&tz, "logits", z, 2, (int[]){6, 3});
    cl_mem tlab = int_buf(lab, 6), corr = int_buf((int[]){-1}, 1);
    CHECK_OK(rcl_count_correct(dev, &tz, tlab, corr));
    int got = read_int(corr);
    CHECK(got == 3, "count_correct with ties: %d, want 3", got);
    clReleaseMemObject(tlab);
    rcl_tensor_release(&tz);

    /* many rows of small integers (ties everywhere), counted here independently */
    const int n = 1000, k = 7;
    double *zz = malloc((size_t)n * k * sizeof *zz);
    int *ll = malloc((size_t)n * sizeof *ll), want = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < k; j++)
            zz[i * k + j] = (double)rcl_rng_below(&rng, 3);
        ll[i] = (int)rcl_rng_below(&rng, (uint64_t)k);
        int best = 0;
        for (int j = 1; j < k; j++)
            if (zz[i * k + j] > zz[i * k + best])
                best = j;
        want += best == ll[i];
    }
    mk(&tz, "logits", zz, 2, (int[]){n, k});
    tlab = int_buf(ll, (size_t)n);
    CHECK_OK(rcl_count_correct(dev, &tz, tlab, corr));
    got = read_int(corr);
    CHECK(got == want && want > 0, "count_correct %d rows: %d, want %d", n, got, want);
    CHECK_FAILS(rcl_count_correct(dev, &tz, corr, corr), RCL_ERR_INVALID_ARG); /* labels too short */
    clReleaseMemObject(tlab), clReleaseMemObject(corr);
    rcl_tensor_release(&tz);
    free(zz), free(ll);
}

/* ---------------------------------------------------------------- the op table */

static void table_report(void *ctx, const char *op, const char *shape, double rel) {
    (void)ctx;
    CHECK(rel <= RCL_OP_TOL && !isnan(rel), "%s [%s]: relative error %.2e (at most %.0e)", op, shape, rel,
          RCL_OP_TOL);
}

static void test_table_entry(const rcl_op_entry *e) {
    rcl_op_run run = {dev, rcl_rng_seed(2019), table_report, NULL};
    CHECK_OK(rcl_op_run_entry(&run, e, rcl_test_small()));
    rcl_device_workspace_release(dev); /* the convolutions' im2col columns are no tensors */
}

/* One row per line: its name, then "gemm" when it runs CLBlast's GEMM (.ci/run gives those
 * the oclgrind data-race pass only). */
static void list_table(void) {
    for (int i = 0; i < rcl_op_count; i++)
        printf("%s%s\n", rcl_op_table[i].name, rcl_op_table[i].gemm ? " gemm" : "");
}

int main(int argc, char **argv) {
    const char *only = getenv("RCL_TEST_OP");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--list")) {
            list_table();
            return 0;
        } else if (!strcmp(argv[i], "--op") && i + 1 < argc) {
            only = argv[++i];
        } else {
            fprintf(stderr, "usage: test_ops [--list | --op NAME]\n");
            return 2;
        }
    }
    const rcl_op_entry *one = only && *only ? rcl_op_find(only) : NULL;
    if (only && *only && !one) {
        fprintf(stderr, "test_ops: no op %s in the op table (see --list)\n", only);
        return 2;
    }
    dev = rcl_test_device(0);
    rng = rcl_rng_seed(2024);
    for (int i = 0; i < rcl_op_count; i++)
        if (!one || one == &rcl_op_table[i])
            test_table_entry(&rcl_op_table[i]);
    if (one) {
        CHECK(rcl_device_mem_in_use(dev) == 0, "all tensors released (%zu bytes in use)", rcl_device_mem_in_use(dev));
        rcl_device_close(dev);
        return rcl_test_finish();
    }
    test_relu_add_axpy();
    test_dropout();
    test_avgpool();
    test_linear();
    test_xent();
    test_count_correct();
    test_batchnorm_errors();
    test_batchnorm();
    CHECK(rcl_device_mem_in_use(dev) == 0, "all tensors released (%zu bytes in use)", rcl_device_mem_in_use(dev));
    rcl_device_close(dev);
    return rcl_test_finish();
}
