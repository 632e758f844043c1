/* rcl_gemm_tune: random search over CLBlast's GEMM parameters on the shapes a workload runs.
 * The value sets and constraints follow CLBlast's own tuners (src/tuning/kernels/xgemm*.hpp);
 * a candidate that breaks an unlisted constraint fails to build or gives wrong results, and
 * both are caught: every candidate's output is checked before it is timed. */
#include <clblast_c.h>
#include <math.h>
#include <string.h>

#include "device_internal.h"
#include "hash.h"
#include "robustcl/gemm.h"
#include "core/progress.h"
#include "robustcl/rng.h"

#define NCHECK 24     /* sampled output entries checked per shape */
#define MAX_SEEN 4096 /* candidates remembered, so none is measured twice */

static const size_t pow2_8_32[] = {8, 16, 32};
static const size_t vw[] = {1, 2, 4, 8};
static const size_t min_indirect_values[] = {0, 128, 256, 384, 512, 768, 1024, 4096};

static size_t pick(rcl_rng *r, const size_t *v, size_t n) { return v[rcl_rng_below(r, n)]; }
static int mult(size_t a, size_t b) { return b && a % b == 0; }

/* Xgemm with GEMMK=0 KREG=1 KWI=2 (names in gemm.h order). */
static int xgemm_valid(const rcl_device *d, const size_t *x) {
    size_t kwg = x[2], kwi = x[3], mdima = x[4], mdimc = x[5], mwg = x[6], ndimb = x[7],
           ndimc = x[8], nwg = x[9], sa = x[10], sb = x[11], vwm = x[14], vwn = x[15];
    return mult(kwg, kwi) && mult(mwg, mdimc * vwm) && mult(nwg, ndimc * vwn) &&
           mult(mwg, mdima * vwm) && mult(nwg, ndimb * vwn) &&
           mult(kwg, mdimc * ndimc / mdima) && mult(kwg, mdimc * ndimc / ndimb) &&
           mdimc * ndimc <= d->info.max_work_group &&
           (sa * kwg * mwg + sb * kwg * nwg) * sizeof(float) <= d->info.local_mem;
}

static void xgemm_random(rcl_rng *r, size_t *x) {
    static const size_t wg[] = {16, 32, 64, 128}, kwg[] = {16, 32};
    x[0] = 0, x[1] = 1, x[2] = pick(r, kwg, 2), x[3] = 2;
    x[4] = pick(r, pow2_8_32, 3), x[5] = pick(r, pow2_8_32, 3), x[6] = pick(r, wg, 4);
    x[7] = pick(r, pow2_8_32, 3), x[8] = pick(r, pow2_8_32, 3), x[9] = pick(r, wg, 4);
    x[10] = rcl_rng_below(r, 2), x[11] = rcl_rng_below(r, 2);
    x[12] = rcl_rng_below(r, 2), x[13] = rcl_rng_below(r, 2);
    x[14] = pick(r, vw, 4), x[15] = pick(r, vw, 4);
}

static int direct_valid(const rcl_device *d, const size_t *x) {
    size_t kwid = x[0], mdimad = x[1], mdimcd = x[2], ndimbd = x[3], ndimcd = x[4], pada = x[5],
           padb = x[6], vwmd = x[7], vwnd = x[8], wgd = x[9];
    return mult(wgd, kwid) && mult(wgd, mdimcd * vwmd) && mult(wgd, ndimcd * vwnd) &&
           mult(wgd, mdimad * vwmd) && mult(wgd, ndimbd * vwnd) &&
           mult(wgd, mdimcd * ndimcd / mdimad) && mult(wgd, mdimcd * ndimcd / ndimbd) &&
           mdimcd * ndimcd <= d->info.max_work_group &&
           (wgd * (wgd + pada) + wgd * (wgd + padb)) * sizeof(float) <= d->info.local_mem;
}

static void direct_random(rcl_rng *r, size_t *x) {
    static const size_t kwid[] = {2, 8, 16}, wgd[] = {8, 16, 32, 64, 128};
    x[0] = pick(r, kwid, 3), x[1] = pick(r, pow2_8_32, 3), x[2] = pick(r, pow2_8_32, 3);
    x[3] = pick(r, pow2_8_32, 3), x[4] = pick(r, pow2_8_32, 3);
    x[5] = rcl_rng_below(r, 2), x[6] = rcl_rng_below(r, 2);
    x[7] = pick(r, vw, 4), x[8] = pick(r, vw, 4), x[9] = pick(r, wgd, 5);
}

static int goes_direct(const rcl_gemm_shape *s, size_t min_indirect) {
    double e = (double)min_indirect;
    return (double)s->m * (double)s->n * (double)s->k < e * e * e;
}

/* A new valid candidate near `best`: the switch point, or one kernel's set (the kernel some
 * shape runs) redrawn whole or in one or two parameters. */
static void propose(const rcl_device *d, rcl_rng *r, const rcl_gemm_params *best,
                    const rcl_gemm_shape *shapes, int n, rcl_gemm_params *c) {
    *c = *best;
    int any_direct = 0, any_indirect = 0;
    for (int i = 0; i < n; i++)
        goes_direct(&shapes[i], best->min_indirect) ? (any_direct = 1) : (any_indirect = 1);
    if (rcl_rng_uniform(r) < 0.2) {
        c->min_indirect = pick(r, min_indirect_values, sizeof min_indirect_values / sizeof(size_t));
        return;
    }
    int direct = any_direct && (!any_indirect || rcl_rng_below(r, 2));
    size_t *x = direct ? c->direct : c->xgemm;
    for (int attempt = 0; attempt < 1000; attempt++) {
        size_t t[RCL_GEMM_XGEMM_PARAMS];
        direct ? direct_random(r, t) : xgemm_random(r, t);
        size_t np = direct ? RCL_GEMM_DIRECT_PARAMS : RCL_GEMM_XGEMM_PARAMS;
        size_t y[RCL_GEMM_XGEMM_PARAMS];
        memcpy(y, direct ? best->direct : best->xgemm, np * sizeof(size_t));
        if (rcl_rng_below(r, 2)) { /* redraw all */
            memcpy(y, t, np * sizeof(size_t));
        } else { /* mutate one or two parameters */
            for (int j = 0, nm = 1 + (int)rcl_rng_below(r, 2); j < nm; j++) {
                size_t p = rcl_rng_below(r, np);
                y[p] = t[p];
            }
        }
        if (direct ? direct_valid(d, y) : xgemm_valid(d, y)) {
            memcpy(x, y, np * sizeof(size_t));
            return;
        }
    }
}

typedef struct {
    cl_mem a, b, c;
    size_t na, nb, nc;
    float *ha, *hb;
} tune_bufs;

/* Runs every shape once under the parameters in force, checks sampled entries against a
 * double-precision product, then times one run per shape. *ms: sum of calls x time; stops
 * early (ms = INFINITY) once past `limit_ms`. Returns 0 for a wrong or failed candidate. */
static int measure(rcl_device *d, const rcl_gemm_shape *shapes, int n, const tune_bufs *b,
                   rcl_rng *r, double limit_ms, double *ms) {
    *ms = 0;
    for (int i = 0; i < n; i++) {
        const rcl_gemm_shape *s = &shapes[i];
        size_t lda = s->trans_a ? s->m : s->k, ldb = s->trans_b ? s->k : s->n;
        const float nan = NAN;
        if (clEnqueueFillBuffer(d->queue, b->c, &nan, sizeof nan, 0, s->m * s->n * sizeof(float),
                                0, NULL, NULL) != CL_SUCCESS)
            return 0;
        for (int run = 0; run < 2; run++) {
            double t0 = rcl_now();
            if (rcl_gemm(d, s->trans_a, s->trans_b, s->m, s->n, s->k, 1.0f, b->a, 0, lda, b->b, 0,
                         ldb, 0.0f, b->c, 0, s->n) != RCL_OK ||
                rcl_device_finish(d) != RCL_OK)
                return 0;
            double t = rcl_now() - t0;
            if (run == 1) {
                *ms += 1e3 * t * s->calls;
                break;
            }
            for (int j = 0; j < NCHECK; j++) { /* run 0 compiled the kernels: check it */
                size_t row = rcl_rng_below(r, s->m), col = rcl_rng_below(r, s->n);
                double ref = 0, mag = 0;
                for (size_t l = 0; l < s->k; l++) {
                    double av = b->ha[s->trans_a ? l * lda + row : row * lda + l];
                    double bv = b->hb[s->trans_b ? col * ldb + l : l * ldb + col];
                    ref += av * bv, mag += fabs(av * bv);
                }
                float got;
                if (clEnqueueReadBuffer(d->queue, b->c, CL_TRUE, (row * s->n + col) * sizeof got,
                                        sizeof got, &got, 0, NULL, NULL) != CL_SUCCESS ||
                    !(fabs(got - ref) <= 1e-4 * mag + 1e-6))
                    return 0;
            }
        }
        if (*ms > limit_ms) {
            *ms = INFINITY;
            return 1;
        }
    }
    return 1;
}

static rcl_status alloc_bufs(rcl_device *d, const rcl_gemm_shape *shapes, int n, tune_bufs *b) {
    for (int i = 0; i < n; i++) {
        size_t na = shapes[i].m * shapes[i].k, nb = shapes[i].k * shapes[i].n,
               nc = shapes[i].m * shapes[i].n;
        b->na = na > b->na ? na : b->na, b->nb = nb > b->nb ? nb : b->nb;
        b->nc = nc > b->nc ? nc : b->nc;
    }
    b->ha = malloc(b->na * sizeof(float));
    b->hb = malloc(b->nb * sizeof(float));
    if (!b->ha || !b->hb)
        return rcl_fail(RCL_ERR_NO_MEMORY, "gemm tuning: out of host memory for %zu + %zu floats",
                        b->na, b->nb);
    rcl_rng r = rcl_rng_seed(5);
    for (size_t i = 0; i < b->na; i++)
        b->ha[i] = (float)(2 * rcl_rng_uniform(&r) - 1);
    for (size_t i = 0; i < b->nb; i++)
        b->hb[i] = (float)(2 * rcl_rng_uniform(&r) - 1);
    RCL_TRY(rcl_device_alloc(d, b->na * sizeof(float), "gemm tuning A", &b->a));
    RCL_TRY(rcl_device_alloc(d, b->nb * sizeof(float), "gemm tuning B", &b->b));
    RCL_TRY(rcl_device_alloc(d, b->nc * sizeof(float), "gemm tuning C", &b->c));
    if (clEnqueueWriteBuffer(d->queue, b->a, CL_TRUE, 0, b->na * sizeof(float), b->ha, 0, NULL,
                             NULL) != CL_SUCCESS ||
        clEnqueueWriteBuffer(d->queue, b->b, CL_TRUE, 0, b->nb * sizeof(float), b->hb, 0, NULL,
                             NULL) != CL_SUCCESS)
        return rcl_fail(RCL_ERR_OPENCL, "gemm tuning: uploading the test matrices failed");
    return RCL_OK;
}

static void free_bufs(rcl_device *d, tune_bufs *b) {
    rcl_device_free(d, b->a, b->na * sizeof(float));
    rcl_device_free(d, b->b, b->nb * sizeof(float));
    rcl_device_free(d, b->c, b->nc * sizeof(float));
    free(b->ha);
    free(b->hb);
}

static rcl_status tune(rcl_device *d, const rcl_gemm_shape *shapes, int n, double budget,
                       uint64_t seed, void (*progress)(const rcl_gemm_tune_result *, void *),
                       void *ctx, tune_bufs *b, rcl_gemm_tune_result *out) {
    double t_end = rcl_now() + budget;
    rcl_rng r = rcl_rng_seed(seed);
    memset(out, 0, sizeof *out);
    /* start: the set in force (CLBlast's database on a GPU: measured as is) */
    out->best_known = strcmp(d->gemm_source, "clblast-database") != 0;
    if (!(!strcmp(d->gemm_source, "tuned") && rcl_gemm_tuned_load(d, &out->best)))
        rcl_gemm_params_builtin(&out->best);
    if (out->best_known)
        RCL_TRY(rcl_gemm_params_apply(d, &out->best, "tuned"));
    if (!measure(d, shapes, n, b, &r, INFINITY, &out->start_ms))
        return rcl_fail(RCL_ERR_GEMM, "gemm tuning: the starting parameters (%s) give wrong "
                                      "products on '%s'", d->gemm_source, d->info.name);
    out->best_ms = out->start_ms;
    uint64_t seen[MAX_SEEN];
    int nseen = 0;
    while (rcl_now() < t_end) {
        rcl_gemm_params c;
        uint64_t h = 0;
        int fresh = 0;
        for (int attempt = 0; attempt < 50 && !fresh; attempt++) {
            propose(d, &r, &out->best, shapes, n, &c);
            h = rcl_fnv1a(RCL_FNV_INIT, &c, sizeof c);
            fresh = 1;
            for (int i = 0; i < nseen && fresh; i++)
                fresh = seen[i] != h;
        }
        if (!fresh)
            break; /* the neighbourhood is exhausted */
        if (nseen < MAX_SEEN)
            seen[nseen++] = h;
        double ms, again;
        out->tried++;
        if (rcl_gemm_params_apply(d, &c, "tuned") != RCL_OK ||
            !measure(d, shapes, n, b, &r, out->best_ms, &ms)) {
            out->failed++;
        } else if (ms < out->best_ms && measure(d, shapes, n, b, &r, INFINITY, &again)) {
            /* confirm with a second pass: one fast pass on a busy machine is not enough */
            ms = again > ms ? again : ms;
            if (ms < out->best_ms) {
                out->best = c, out->best_ms = ms, out->best_known = 1;
            }
        }
        if (progress)
            progress(out, ctx);
    }
    if (out->best_known)
        RCL_TRY(rcl_gemm_params_apply(d, &out->best, "tuned"));
    return RCL_OK;
}

rcl_status rcl_gemm_tune(rcl_device *d, const rcl_gemm_shape *shapes, int nshapes,
                         double budget_seconds, uint64_t seed,
                         void (*progress)(const rcl_gemm_tune_result *r, void *ctx), void *ctx,
                         rcl_gemm_tune_result *out) {
    if (!d || !shapes || nshapes < 1 || !out || !(budget_seconds >= 0))
        return rcl_fail(RCL_ERR_INVALID_ARG, "gemm tuning: need a device, >= 1 shape and a budget >= 0");
    tune_bufs b = {0};
    rcl_status s = alloc_bufs(d, shapes, nshapes, &b);
    if (s == RCL_OK)
        s = tune(d, shapes, nshapes, budget_seconds, seed, progress, ctx, &b, out);
    free_bufs(d, &b);
    return s;
}
