/* Central finite differences, in double, of every reference forward (batch
 * norm with and without ReLU, ReLU, dropout, average pool, linear, weighted
 * softmax cross-entropy) against the reference backward. Ops whose output is a
 * tensor are reduced to a scalar as L = sum(out .* r) with a random r, whose
 * gradient with respect to the output is r. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/ref.h"

static rcl_rng rng;

/* Uniform doubles (not rounded: only references run here) from this test's stream. */
static double *rand_vec(size_t n, double lo, double hi) { return rcl_test_rand_vec_double(&rng, n, lo, hi); }

static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

typedef double (*loss_fn)(void *ctx);

/* Central differences of f with respect to each element of v (perturbed in
 * place and restored), compared with the analytic gradient. */
static void fd_check(const char *what, loss_fn f, void *ctx, double *v, size_t n, const double *grad) {
    double *num = malloc(n * sizeof *num);
    for (size_t i = 0; i < n; i++) {
        double save = v[i], h = 1e-6 * fmax(1.0, fabs(save));
        v[i] = save + h;
        double lp = f(ctx);
        v[i] = save - h;
        double lm = f(ctx);
        v[i] = save;
        num[i] = (lp - lm) / (2 * h);
    }
    rcl_check_close_d(what, num, grad, n, 1e-7, 1e-7, 1e-6);
    free(num);
}

/* ---------------------------------------------------------------- batch norm */

typedef struct {
    int n, c, hw, relu;
    double *x, *gamma, *beta, *r, *y, *rm, *rv, *sm, *si;
} bn_ctx;

static double bn_loss(void *p) {
    bn_ctx *b = p;
    rcl_ref_batchnorm_forward(RCL_BN_TRAIN, b->relu, b->n, b->c, b->hw, b->x, b->gamma, b->beta, b->rm,
                              b->rv, 0.1, 1e-5, b->y, b->sm, b->si);
    return dot(b->y, b->r, (size_t)b->n * b->c * b->hw);
}

static void bn_case(int n, int c, int hw, int relu) {
    char what[96];
    size_t cnt = (size_t)n * c * hw;
    bn_ctx b = {n, c, hw, relu, rand_vec(cnt, -2, 3), rand_vec((size_t)c, 0.5, 1.5),
                rand_vec((size_t)c, -0.5, 0.5), rand_vec(cnt, -1, 1), malloc(cnt * sizeof(double)),
                rand_vec((size_t)c, 0, 0), rand_vec((size_t)c, 1, 1), malloc((size_t)c * sizeof(double)),
                malloc((size_t)c * sizeof(double))};
    double *dx = malloc(cnt * sizeof *dx), *dg = malloc((size_t)c * sizeof *dg),
           *db = malloc((size_t)c * sizeof *db);
    bn_loss(&b);
    if (relu) { /* the mask must matter: some outputs clamped, some not */
        size_t zeros = 0;
        for (size_t i = 0; i < cnt; i++)
            zeros += b.y[i] == 0;
        CHECK(zeros > 0 && zeros < cnt, "bn relu case clamps some outputs (%zu of %zu)", zeros, cnt);
    }
    rcl_ref_batchnorm_backward(relu, n, c, hw, b.x, b.y, b.r, b.gamma, b.sm, b.si, dx, dg, db);
    snprintf(what, sizeof what, "bn [%d,%d,%d] relu=%d dx", n, c, hw, relu);
    fd_check(what, bn_loss, &b, b.x, cnt, dx);
    snprintf(what, sizeof what, "bn [%d,%d,%d] relu=%d dgamma", n, c, hw, relu);
    fd_check(what, bn_loss, &b, b.gamma, (size_t)c, dg);
    snprintf(what, sizeof what, "bn [%d,%d,%d] relu=%d dbeta", n, c, hw, relu);
    fd_check(what, bn_loss, &b, b.beta, (size_t)c, db);
    free(b.x), free(b.gamma), free(b.beta), free(b.r), free(b.y), free(b.rm), free(b.rv), free(b.sm);
    free(b.si), free(dx), free(dg), free(db);
}

/* ---------------------------------------------------------------- relu, dropout, pool */

typedef struct {
    size_t n;
    double *x, *r, *y;
    double p;
    uint32_t seed, counter;
    int kind; /* 0 relu, 1 dropout */
} ew_ctx;

static double ew_loss(void *p) {
    ew_ctx *e = p;
    if (e->kind == 0)
        rcl_ref_relu_forward(e->n, e->x, e->y);
    else
        rcl_ref_dropout_forward(e->n, e->p, e->seed, e->counter, e->x, e->y);
    return dot(e->y, e->r, e->n);
}

static void test_relu_dropout(void) {
    const size_t n = 301;
    ew_ctx e = {n, rand_vec(n, 0.1, 1), rand_vec(n, -1, 1), malloc(n * sizeof(double)), 0.4, 99, 3, 0};
    for (size_t i = 0; i < n; i += 2)
        e.x[i] = -e.x[i]; /* half negative, none within 0.1 of the kink */
    double *dx = malloc(n * sizeof *dx);
    ew_loss(&e);
    rcl_ref_relu_backward(n, e.y, e.r, dx);
    fd_check("relu dx", ew_loss, &e, e.x, n, dx);

    e.kind = 1;
    ew_loss(&e);
    size_t dropped = 0;
    for (size_t i = 0; i < n; i++)
        dropped += e.y[i] == 0;
    CHECK(dropped > n / 5 && dropped < n / 2 + n / 10, "dropout p=0.4 drops ~40%% (%zu of %zu)", dropped, n);
    rcl_ref_dropout_backward(n, e.p, e.seed, e.counter, e.r, dx);
    fd_check("dropout dx", ew_loss, &e, e.x, n, dx);
    free(e.x), free(e.r), free(e.y), free(dx);
}

typedef struct {
    int n, c, hw;
    double *x, *r, *y;
} pool_ctx;

static double pool_loss(void *p) {
    pool_ctx *q = p;
    rcl_ref_avgpool_forward(q->n, q->c, q->hw, q->x, q->y);
    return dot(q->y, q->r, (size_t)q->n * q->c);
}

static void test_pool(void) {
    int n = 3, c = 4, hw = 7;
    size_t cnt = (size_t)n * c * hw;
    pool_ctx q = {n, c, hw, rand_vec(cnt, -1, 1), rand_vec((size_t)n * c, -1, 1),
                  malloc((size_t)n * c * sizeof(double))};
    double *dx = malloc(cnt * sizeof *dx);
    rcl_ref_avgpool_backward(n, c, hw, q.r, dx);
    fd_check("avgpool dx", pool_loss, &q, q.x, cnt, dx);
    free(q.x), free(q.r), free(q.y), free(dx);
}

/* ---------------------------------------------------------------- linear */

typedef struct {
    int n, f, k;
    double *x, *w, *b, *r, *y;
} lin_ctx;

static double lin_loss(void *p) {
    lin_ctx *l = p;
    rcl_ref_linear_forward(l->n, l->f, l->k, l->x, l->w, l->b, l->y);
    return dot(l->y, l->r, (size_t)l->n * l->k);
}

static void test_linear(void) {
    int n = 5, f = 7, k = 3;
    lin_ctx l = {n, f, k, rand_vec((size_t)n * f, -1, 1), rand_vec((size_t)k * f, -1, 1),
                 rand_vec((size_t)k, -1, 1), rand_vec((size_t)n * k, -1, 1),
                 malloc((size_t)n * k * sizeof(double))};
    double *dx = malloc((size_t)n * f * sizeof *dx), *dw = malloc((size_t)k * f * sizeof *dw),
           *db = malloc((size_t)k * sizeof *db);
    rcl_ref_linear_backward(n, f, k, l.x, l.w, l.r, dx, dw, db);
    fd_check("linear dx", lin_loss, &l, l.x, (size_t)n * f, dx);
    fd_check("linear dw", lin_loss, &l, l.w, (size_t)k * f, dw);
    fd_check("linear db", lin_loss, &l, l.b, (size_t)k, db);
    free(l.x), free(l.w), free(l.b), free(l.r), free(l.y), free(dx), free(dw), free(db);
}

/* ---------------------------------------------------------------- softmax xent */

typedef struct {
    int n, k;
    double *z, *cw, *sw, *p;
    int *lab;
} xent_ctx;

static double xent_loss(void *p) {
    xent_ctx *x = p;
    return rcl_ref_softmax_xent_forward(x->n, x->k, x->z, x->lab, x->cw, x->sw, x->p);
}

static void xent_case(int use_cw, int use_sw) {
    int n = 6, k = 5;
    xent_ctx x = {n, k, rand_vec((size_t)n * k, -3, 3), NULL, NULL, malloc((size_t)n * k * sizeof(double)),
                  malloc((size_t)n * sizeof(int))};
    double *cw = rand_vec((size_t)k, 0.2, 3), *sw = rand_vec((size_t)n, 0.1, 2);
    x.cw = use_cw ? cw : NULL;
    x.sw = use_sw ? sw : NULL;
    for (int i = 0; i < n; i++)
        x.lab[i] = (int)rcl_rng_below(&rng, (uint64_t)k);
    double *dz = malloc((size_t)n * k * sizeof *dz);
    xent_loss(&x);
    rcl_ref_softmax_xent_backward(n, k, x.p, x.lab, x.cw, x.sw, dz);
    char what[64];
    snprintf(what, sizeof what, "softmax xent cw=%d sw=%d dlogits", use_cw, use_sw);
    fd_check(what, xent_loss, &x, x.z, (size_t)n * k, dz);
    free(x.z), free(x.p), free(x.lab), free(cw), free(sw), free(dz);
}

int main(void) {
    rng = rcl_rng_seed(4242);
    bn_case(3, 4, 6, 0);
    bn_case(3, 4, 6, 1);
    bn_case(1, 2, 5, 0); /* batch 1 */
    bn_case(5, 3, 1, 1); /* 1x1 spatial */
    test_relu_dropout();
    test_pool();
    test_linear();
    xent_case(0, 0);
    xent_case(1, 0);
    xent_case(0, 1);
    xent_case(1, 1);
    return rcl_test_finish();
}
