/* Batch norm for data parallelism against the double-precision reference:
 * ghost batch norm (rcl_batchnorm_*_split) = the reference run on each sub-batch, with
 * uneven sub-batches and running statistics from the first; synchronised batch norm
 * (rcl_batchnorm_*_sync) on one "rank" holding part of a batch, the other rank simulated
 * by a sum callback that adds its partial sums, = the reference over the whole batch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/ops.h"
#include "ops/ref.h"
#include "robustcl/tensor.h"

static rcl_device *dev;
static rcl_rng rng;

/* Float-rounded uniform values from this test's stream (rcl_test_rand_vec). */
static double *rand_vec(size_t n, double lo, double hi) { return rcl_test_rand_vec(&rng, n, lo, hi); }

/* A tensor on this test's device (rcl_test_tensor). */
static void mk(rcl_tensor *t, const char *what, const double *x, int ndim, const int *shape) {
    rcl_test_tensor(dev, t, what, x, ndim, shape);
}

/* x with a per-channel offset and scale (the variance must not rely on a zero mean). */
static double *bn_input(int n, int c, int hw) {
    size_t cnt = (size_t)n * c * hw;
    double *x = rand_vec(cnt, -1, 1), *off = rand_vec((size_t)c, -3, 3), *sc = rand_vec((size_t)c, 0.2, 3);
    for (size_t i = 0; i < cnt; i++) {
        int ch = (int)(i / (size_t)hw % (size_t)c);
        x[i] = (float)(off[ch] + sc[ch] * x[i]);
    }
    free(off), free(sc);
    return x;
}

static void split_case(int n, int c, int hw, int split, int relu) {
    char what[128];
    snprintf(what, sizeof what, "ghost bn [%d,%d,%d] split %d relu %d", n, c, hw, split, relu);
    size_t cnt = (size_t)n * c * hw, sc = (size_t)split * c;
    const double mom = 0.1f, eps = 1e-5f;
    int shape[3] = {n, c, hw};
    double *x = bn_input(n, c, hw), *dy = rand_vec(cnt, -1, 1);
    double *gamma = rand_vec((size_t)c, -1.5, 1.5), *beta = rand_vec((size_t)c, -0.5, 0.5);
    double *rm = rand_vec((size_t)c, -0.5, 0.5), *rv = rand_vec((size_t)c, 0.5, 2);
    rcl_tensor tx, tg, tb, trm, trv, ty, tsm, tsi, tdy, tdx, tdg, tdb;
    mk(&tx, "x", x, 3, shape), mk(&tdy, "dy", dy, 3, shape), mk(&ty, "y", NULL, 3, shape);
    mk(&tdx, "dx", NULL, 3, shape);
    mk(&tg, "gamma", gamma, 1, &c), mk(&tb, "beta", beta, 1, &c), mk(&trm, "rm", rm, 1, &c);
    mk(&trv, "rv", rv, 1, &c), mk(&tdg, "dgamma", NULL, 1, &c), mk(&tdb, "dbeta", NULL, 1, &c);
    int sshape = (int)sc;
    mk(&tsm, "save_mean", NULL, 1, &sshape), mk(&tsi, "save_invstd", NULL, 1, &sshape);
    CHECK_OK(rcl_batchnorm_forward_split(dev, RCL_BN_TRAIN, relu, split, &tx, &tg, &tb, &trm, &trv, (float)mom,
                                         (float)eps, &ty, &tsm, &tsi));
    CHECK_OK(rcl_batchnorm_backward_split(dev, relu, split, &tx, &ty, &tdy, &tg, &tsm, &tsi, &tdx, &tdg, &tdb));

    /* the reference: one batch norm per sub-batch; the running statistics of the first only */
    double *y = malloc(cnt * sizeof *y), *dx = malloc(cnt * sizeof *dx), *sm = malloc(sc * sizeof *sm),
           *si = malloc(sc * sizeof *si), *dg = calloc((size_t)c, sizeof *dg), *db = calloc((size_t)c, sizeof *db),
           *dgk = malloc((size_t)c * sizeof *dgk), *dbk = malloc((size_t)c * sizeof *dbk),
           *rm_k = malloc((size_t)c * sizeof *rm_k), *rv_k = malloc((size_t)c * sizeof *rv_k);
    double *y_dev = rcl_test_get_d(&ty); /* the relu mask of the device (rounding at 0 cannot flip it) */
    for (int k = 0; k < split; k++) {
        int b0 = k * n / split, nk = (k + 1) * n / split - b0;
        size_t o = (size_t)b0 * c * hw;
        memcpy(rm_k, rm, (size_t)c * sizeof *rm_k), memcpy(rv_k, rv, (size_t)c * sizeof *rv_k);
        rcl_ref_batchnorm_forward(RCL_BN_TRAIN, relu, nk, c, hw, x + o, gamma, beta, k ? rm_k : rm, k ? rv_k : rv,
                                  mom, eps, y + o, sm + (size_t)k * c, si + (size_t)k * c);
        rcl_ref_batchnorm_backward(relu, nk, c, hw, x + o, y_dev + o, dy + o, gamma, sm + (size_t)k * c,
                                   si + (size_t)k * c, dx + o, dgk, dbk);
        for (int i = 0; i < c; i++)
            dg[i] += dgk[i], db[i] += dbk[i];
    }
    double msq = sqrt((double)n * hw);
#define CMP(t, want, atol) rcl_test_cmp(what, #t, &t, want, atol, 1e-5)
    CMP(ty, y, 2e-5);
    CMP(tsm, sm, 1e-6);
    CMP(tsi, si, 1e-5);
    CMP(trm, rm, 1e-6);
    CMP(trv, rv, 1e-5);
    CMP(tdx, dx, 2e-5);
    CMP(tdg, dg, 2e-6 * msq);
    CMP(tdb, db, 2e-6 * msq);
    /* a sub-batch is not the whole batch: its statistics differ from the plain batch norm */
    double *plain_sm = malloc((size_t)c * sizeof *plain_sm), *plain_si = malloc((size_t)c * sizeof *plain_si);
    memcpy(rm_k, rm, (size_t)c * sizeof *rm_k), memcpy(rv_k, rv, (size_t)c * sizeof *rv_k);
    rcl_ref_batchnorm_forward(RCL_BN_TRAIN, relu, n, c, hw, x, gamma, beta, rm_k, rv_k, mom, eps, dx, plain_sm,
                              plain_si);
    CHECK(fabs(plain_sm[0] - sm[0]) > 1e-4, "%s: sub-batch statistics differ from the batch's", what);
    rcl_tensor *ts[] = {&tx, &tg, &tb, &trm, &trv, &ty, &tsm, &tsi, &tdy, &tdx, &tdg, &tdb};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++)
        rcl_tensor_release(ts[i]);
    free(x), free(dy), free(gamma), free(beta), free(rm), free(rv), free(y), free(dx), free(sm), free(si);
    free(dg), free(db), free(dgk), free(dbk), free(rm_k), free(rv_k), free(y_dev), free(plain_sm), free(plain_si);
}

/* The other rank: adds its partial sums of the whole-batch statistics (from the reference). */
typedef struct {
    int c, hw, nb, relu, calls;
    const double *x, *y, *dy, *mean, *invstd; /* its rows; the statistics of the whole batch */
    double *dg, *db;                          /* its local dgamma, dbeta */
} peer;

static rcl_status peer_sum(void *ctx, float *buf, int n) {
    peer *p = ctx;
    int c = p->c, call = p->calls++;
    CHECK(n == (call < 2 ? c + 1 : 2 * c + 1), "sum call %d has %d values", call, n);
    for (int ch = 0; ch < c; ch++) {
        double a = 0, b = 0;
        for (int s = 0; s < p->nb; s++)
            for (int i = 0; i < p->hw; i++) {
                size_t k = ((size_t)s * c + ch) * p->hw + i;
                double v = p->x[k] - p->mean[ch], g = p->relu && !(p->y[k] > 0) ? 0 : p->dy[k];
                a += call == 0 ? p->x[k] : call == 1 ? v * v : g * v * p->invstd[ch];
                b += g;
            }
        buf[ch] += (float)a;
        if (call == 2) {
            buf[c + ch] += (float)b;
            p->dg[ch] = a, p->db[ch] = b;
        }
    }
    buf[n - 1] += (float)(p->nb * p->hw);
    return RCL_OK;
}

static void sync_case(int na, int nb, int c, int hw, int relu) {
    char what[128];
    snprintf(what, sizeof what, "sync bn [%d+%d,%d,%d] relu %d", na, nb, c, hw, relu);
    int n = na + nb, shape[3] = {na, c, hw};
    size_t cnt = (size_t)n * c * hw, ca = (size_t)na * c * hw;
    const double mom = 0.1f, eps = 1e-5f;
    double *x = bn_input(n, c, hw), *dy = rand_vec(cnt, -1, 1);
    double *gamma = rand_vec((size_t)c, -1.5, 1.5), *beta = rand_vec((size_t)c, -0.5, 0.5);
    double *rm = rand_vec((size_t)c, -0.5, 0.5), *rv = rand_vec((size_t)c, 0.5, 2);
    rcl_tensor tx, tg, tb, trm, trv, ty, tsm, tsi, tdy, tdx, tdg, tdb;
    mk(&tx, "x", x, 3, shape), mk(&tdy, "dy", dy, 3, shape), mk(&ty, "y", NULL, 3, shape);
    mk(&tdx, "dx", NULL, 3, shape);
    mk(&tg, "gamma", gamma, 1, &c), mk(&tb, "beta", beta, 1, &c), mk(&trm, "rm", rm, 1, &c);
    mk(&trv, "rv", rv, 1, &c), mk(&tdg, "dgamma", NULL, 1, &c), mk(&tdb, "dbeta", NULL, 1, &c);
    mk(&tsm, "save_mean", NULL, 1, &c), mk(&tsi, "save_invstd", NULL, 1, &c);

    double *y = malloc(cnt * sizeof *y), *dx = malloc(cnt * sizeof *dx), *sm = malloc((size_t)c * sizeof *sm),
           *si = malloc((size_t)c * sizeof *si), *dg = malloc((size_t)c * sizeof *dg),
           *db = malloc((size_t)c * sizeof *db), *pdg = malloc((size_t)c * sizeof *pdg),
           *pdb = malloc((size_t)c * sizeof *pdb);
    rcl_ref_batchnorm_forward(RCL_BN_TRAIN, relu, n, c, hw, x, gamma, beta, rm, rv, mom, eps, y, sm, si);
    peer p = {c, hw, nb, relu, 0, x + ca, y + ca, dy + ca, sm, si, pdg, pdb};
    rcl_bn_sync sync = {peer_sum, &p};
    CHECK_OK(rcl_batchnorm_forward_sync(dev, relu, &sync, &tx, &tg, &tb, &trm, &trv, (float)mom, (float)eps, &ty,
                                        &tsm, &tsi));
    char tag[160];
    CMP(ty, y, 2e-5);
    CMP(tsm, sm, 1e-6);
    CMP(tsi, si, 1e-5);
    CMP(trm, rm, 1e-6);
    CMP(trv, rv, 1e-5);
    double *y_dev = rcl_test_get_d(&ty);
    memcpy(y, y_dev, ca * sizeof *y); /* this rank's relu mask as the device saw it */
    rcl_ref_batchnorm_backward(relu, n, c, hw, x, y, dy, gamma, sm, si, dx, dg, db);
    CHECK_OK(rcl_batchnorm_backward_sync(dev, relu, &sync, &tx, &ty, &tdy, &tg, &tsm, &tsi, &tdx, &tdg, &tdb));
    CHECK(p.calls == 3, "%s: 3 sums over the ranks (2 forward, 1 backward), got %d", what, p.calls);
    CMP(tdx, dx, 2e-5);
    /* dgamma/dbeta are this rank's share: with the peer's they make the whole batch's */
    double *gdg = rcl_test_get_d(&tdg), *gdb = rcl_test_get_d(&tdb);
    for (int i = 0; i < c; i++)
        gdg[i] += pdg[i], gdb[i] += pdb[i];
    double msq = sqrt((double)n * hw);
    snprintf(tag, sizeof tag, "%s dgamma (both ranks)", what);
    rcl_check_close_d(tag, gdg, dg, (size_t)c, 1e-5, 2e-6 * msq, 1e-5);
    snprintf(tag, sizeof tag, "%s dbeta (both ranks)", what);
    rcl_check_close_d(tag, gdb, db, (size_t)c, 1e-5, 2e-6 * msq, 1e-5);
#undef CMP
    rcl_tensor *ts[] = {&tx, &tg, &tb, &trm, &trv, &ty, &tsm, &tsi, &tdy, &tdx, &tdg, &tdb};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++)
        rcl_tensor_release(ts[i]);
    free(x), free(dy), free(gamma), free(beta), free(rm), free(rv), free(y), free(dx), free(sm), free(si);
    free(dg), free(db), free(pdg), free(pdb), free(y_dev), free(gdg), free(gdb);
}

static rcl_status failing_sum(void *ctx, float *buf, int n) {
    (void)ctx, (void)buf, (void)n;
    return rcl_fail(RCL_ERR_IO, "rank 0: no reply from the other ranks within 1 s (a rank died or hangs)");
}

static void test_errors(void) {
    rcl_tensor x, y, g, sm2, sm;
    int shape[3] = {4, 3, 2}, c = 3, c2 = 6;
    mk(&x, "x", NULL, 3, shape), mk(&y, "y", NULL, 3, shape), mk(&g, "g", NULL, 1, &c);
    mk(&sm, "sm", NULL, 1, &c), mk(&sm2, "sm2", NULL, 1, &c2);
    CHECK_OK(rcl_tensor_fill(&x, 1.0f));
    CHECK_FAILS(rcl_batchnorm_forward_split(dev, RCL_BN_TRAIN, 0, 5, &x, &g, &g, &g, &g, 0.1f, 1e-5f, &y, &sm2, &sm2),
                RCL_ERR_INVALID_ARG); /* 5 sub-batches of 4 */
    CHECK_FAILS(rcl_batchnorm_forward_split(dev, RCL_BN_TRAIN, 0, 2, &x, &g, &g, &g, &g, 0.1f, 1e-5f, &y, &sm, &sm),
                RCL_ERR_INVALID_ARG); /* saved statistics need split*C */
    CHECK(strstr(rcl_last_error(), "save_mean") != NULL, "error names save_mean: %s", rcl_last_error());
    rcl_bn_sync bad = {failing_sum, NULL};
    CHECK_FAILS(rcl_batchnorm_forward_sync(dev, 0, &bad, &x, &g, &g, &g, &g, 0.1f, 1e-5f, &y, &sm, &sm), RCL_ERR_IO);
    CHECK(strstr(rcl_last_error(), "no reply") != NULL, "the collective's error is passed on: %s", rcl_last_error());
    rcl_tensor_release(&x), rcl_tensor_release(&y), rcl_tensor_release(&g), rcl_tensor_release(&sm);
    rcl_tensor_release(&sm2);
}

int main(void) {
    dev = rcl_test_device(0);
    rng = rcl_rng_seed(77);
    split_case(8, 4, 16, 2, 1);
    split_case(7, 3, 6, 3, 0); /* uneven sub-batches 2, 2, 3 */
    split_case(5, 2, 1, 2, 1); /* 1x1 spatial: 2 and 3 values per channel */
    sync_case(4, 2, 3, 9, 1);  /* uneven ranks */
    sync_case(3, 3, 5, 20, 0);
    sync_case(2, 6, 4, 1, 1);
    test_errors();
    CHECK(rcl_device_mem_in_use(dev) == 0, "all tensors released (%zu bytes in use)", rcl_device_mem_in_use(dev));
    rcl_device_close(dev);
    return rcl_test_finish();
}
