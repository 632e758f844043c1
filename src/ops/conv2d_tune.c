/* rcl_conv_tune: the search over the kernel families' declared parameter spaces, per shape
 * and pass (docs/convolution.md, "Tuning a device"). Like CLBlast's tuner it is exhaustive
 * where the space fits the time left and random elsewhere, here with half the draws near
 * the best so far (one parameter moved to a neighbouring value). Every candidate's output is
 * checked on sampled entries against a double-precision sum before it is timed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conv2d_database.h"
#include "core/progress.h"
#include "robustcl/rng.h"

#define NCHECK 24      /* sampled output entries checked per candidate */
#define MAX_SPACE 4096 /* combinations remembered per item */
#define TIMED_RUNS 3

/* One item's data: the inputs on the host (for the reference) and on the device. */
typedef struct {
    const rcl_conv_shape *s;
    rcl_conv_pass p;
    float *hx, *hw, *hdy;
    rcl_tensor x, w, dy, out;
    size_t idx[NCHECK];
    double want[NCHECK], mag[NCHECK];
} tune_item;

static float *random_host(rcl_rng *r, size_t n) {
    float *h = malloc(n * sizeof *h);
    for (size_t i = 0; h && i < n; i++)
        h[i] = (float)(2 * rcl_rng_uniform(r) - 1);
    return h;
}

/* Entry `i` of the pass's output in double precision, and the sum of |terms| (its scale). */
static void reference_entry(const tune_item *t, size_t i, double *want, double *mag) {
    const rcl_conv_shape *s = t->s;
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s), k = s->kh;
    double acc = 0, m = 0;
    if (t->p == RCL_CONV_FWD) { /* y[n][co][oy][ox] */
        int ox = (int)(i % wo), oy = (int)(i / wo % ho), co = (int)(i / ((size_t)wo * ho) % s->c_out);
        int n = (int)(i / ((size_t)wo * ho * s->c_out));
        for (int ci = 0; ci < s->c_in; ci++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    int y = oy * s->stride + ky - s->pad, x = ox * s->stride + kx - s->pad;
                    if (y < 0 || y >= s->h || x < 0 || x >= s->w)
                        continue;
                    double v = (double)t->hw[((size_t)co * s->c_in + ci) * k * k + ky * k + kx] *
                               t->hx[(((size_t)n * s->c_in + ci) * s->h + y) * s->w + x];
                    acc += v, m += fabs(v);
                }
    } else if (t->p == RCL_CONV_DX) { /* dx[n][ci][y][x] */
        int x = (int)(i % s->w), y = (int)(i / s->w % s->h), ci = (int)(i / ((size_t)s->w * s->h) % s->c_in);
        int n = (int)(i / ((size_t)s->w * s->h * s->c_in));
        for (int co = 0; co < s->c_out; co++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    int ty = y + s->pad - ky, tx = x + s->pad - kx;
                    if (ty < 0 || tx < 0 || ty % s->stride || tx % s->stride || ty / s->stride >= ho ||
                        tx / s->stride >= wo)
                        continue;
                    double v = (double)t->hw[((size_t)co * s->c_in + ci) * k * k + ky * k + kx] *
                               t->hdy[(((size_t)n * s->c_out + co) * ho + ty / s->stride) * wo + tx / s->stride];
                    acc += v, m += fabs(v);
                }
    } else { /* dw[co][ci][ky][kx] */
        int kx = (int)(i % k), ky = (int)(i / k % k), ci = (int)(i / ((size_t)k * k) % s->c_in);
        int co = (int)(i / ((size_t)k * k * s->c_in));
        for (int n = 0; n < s->n; n++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    int y = oy * s->stride + ky - s->pad, x = ox * s->stride + kx - s->pad;
                    if (y < 0 || y >= s->h || x < 0 || x >= s->w)
                        continue;
                    double v = (double)t->hdy[(((size_t)n * s->c_out + co) * ho + oy) * wo + ox] *
                               t->hx[(((size_t)n * s->c_in + ci) * s->h + y) * s->w + x];
                    acc += v, m += fabs(v);
                }
    }
    *want = acc, *mag = m;
}

static void item_free(tune_item *t) {
    free(t->hx), free(t->hw), free(t->hdy);
    rcl_tensor_release(&t->x), rcl_tensor_release(&t->w), rcl_tensor_release(&t->dy);
    rcl_tensor_release(&t->out);
}

static rcl_status item_init(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p, rcl_rng *r,
                            tune_item *t) {
    memset(t, 0, sizeof *t);
    t->s = s, t->p = p;
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s);
    size_t nx = (size_t)s->n * s->c_in * s->h * s->w, nw = (size_t)s->c_out * s->c_in * s->kh * s->kw;
    size_t ny = (size_t)s->n * s->c_out * ho * wo;
    t->hx = random_host(r, nx), t->hw = random_host(r, nw), t->hdy = random_host(r, ny);
    if (!t->hx || !t->hw || !t->hdy)
        return rcl_fail(RCL_ERR_NO_MEMORY, "conv tuning: out of host memory");
    RCL_TRY(rcl_tensor_create(d, &t->x, "tune x", 4, s->n, s->c_in, s->h, s->w));
    RCL_TRY(rcl_tensor_create(d, &t->w, "tune w", 4, s->c_out, s->c_in, s->kh, s->kw));
    RCL_TRY(rcl_tensor_create(d, &t->dy, "tune dy", 4, s->n, s->c_out, ho, wo));
    if (p == RCL_CONV_FWD)
        RCL_TRY(rcl_tensor_create(d, &t->out, "tune y", 4, s->n, s->c_out, ho, wo));
    else if (p == RCL_CONV_DX)
        RCL_TRY(rcl_tensor_create(d, &t->out, "tune dx", 4, s->n, s->c_in, s->h, s->w));
    else
        RCL_TRY(rcl_tensor_create(d, &t->out, "tune dw", 4, s->c_out, s->c_in, s->kh, s->kw));
    RCL_TRY(rcl_tensor_upload(&t->x, t->hx));
    RCL_TRY(rcl_tensor_upload(&t->w, t->hw));
    RCL_TRY(rcl_tensor_upload(&t->dy, t->hdy));
    for (int j = 0; j < NCHECK; j++) {
        t->idx[j] = (size_t)rcl_rng_below(r, t->out.n);
        reference_entry(t, t->idx[j], &t->want[j], &t->mag[j]);
    }
    return RCL_OK;
}

static const rcl_tensor *in_a(const tune_item *t) { return t->p == RCL_CONV_DX ? &t->w : &t->x; }
static const rcl_tensor *in_b(const tune_item *t) { return t->p == RCL_CONV_FWD ? &t->w : &t->dy; }

/* Runs c once (building it) and compares the sampled entries: 1 when right. */
static int check(rcl_device *d, const conv_config *c, tune_item *t) {
    if (rcl_tensor_fill(&t->out, NAN) != RCL_OK ||
        conv_config_run(d, c, t->s, in_a(t), in_b(t), &t->out) != RCL_OK || rcl_device_finish(d) != RCL_OK)
        return 0;
    for (int j = 0; j < NCHECK; j++) {
        float got;
        if (clEnqueueReadBuffer(rcl_device_queue(d), t->out.buf, CL_TRUE, t->idx[j] * sizeof got,
                                sizeof got, &got, 0, NULL, NULL) != CL_SUCCESS ||
            !(fabs(got - t->want[j]) <= 1e-5 * t->mag[j] + 1e-6))
            return 0;
    }
    return 1;
}

/* The space of pass p on s: every valid combination of every family's values. */
static int space(const rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p, conv_config *out, int cap) {
    int n = 0;
    for (int i = 0; i < rcl_conv_family_table_size; i++) {
        const conv_family *f = rcl_conv_family_table[i];
        if (f->pass != p || !conv_geometry_ok(f, s))
            continue;
        conv_config c;
        conv_config_first(f, &c);
        do
            if (n < cap && conv_config_ok(d, &c, s))
                out[n++] = c;
        while (conv_config_next(&c));
    }
    return n;
}

/* A neighbour of c: one parameter moved to the next value up or down. */
static void neighbour(rcl_rng *r, const conv_config *c, conv_config *out) {
    *out = *c;
    const conv_family *f = c->family;
    if (!f->nparams)
        return;
    const conv_param *q = &f->params[rcl_rng_below(r, (uint64_t)f->nparams)];
    int i = (int)(q - f->params), k = 0;
    while (k < q->nvalues && q->values[k] != c->v[i])
        k++;
    int step = rcl_rng_below(r, 2) ? 1 : -1;
    if (k + step < 0 || k + step >= q->nvalues)
        step = -step;
    if (k + step >= 0 && k + step < q->nvalues)
        out->v[i] = q->values[k + step];
}

static int index_of(const conv_config *list, int n, const conv_config *c) {
    for (int i = 0; i < n; i++)
        if (conv_config_same(&list[i], c))
            return i;
    return -1;
}

typedef struct {
    conv_config *all;
    char *done;
    int n, left;
} search_space;

/* The next combination to try: first the candidates auto measures, then (exhaustive) every
 * other one, or (past the time) random ones and neighbours of the best. -1 when none is left. */
static int next_candidate(search_space *sp, rcl_rng *r, const conv_config *first, int nfirst,
                          int *at_first, const conv_config *best) {
    while (*at_first < nfirst) {
        int i = index_of(sp->all, sp->n, &first[(*at_first)++]);
        if (i >= 0 && !sp->done[i])
            return i;
    }
    if (sp->left == 0)
        return -1;
    if (best && rcl_rng_below(r, 2)) {
        for (int attempt = 0; attempt < 8; attempt++) {
            conv_config c;
            neighbour(r, best, &c);
            int i = index_of(sp->all, sp->n, &c);
            if (i >= 0 && !sp->done[i])
                return i;
        }
    }
    int k = (int)rcl_rng_below(r, (uint64_t)sp->left);
    for (int i = 0; i < sp->n; i++)
        if (!sp->done[i] && k-- == 0)
            return i;
    return -1;
}

static rcl_status tune_item_run(rcl_device *d, tune_item *t, double seconds, rcl_rng *r,
                                rcl_conv_tune_progress *pr,
                                void (*progress)(const rcl_conv_tune_progress *, void *), void *ctx) {
    search_space sp = {0};
    sp.all = malloc(MAX_SPACE * sizeof *sp.all);
    sp.done = calloc(MAX_SPACE, 1);
    if (!sp.all || !sp.done) {
        free(sp.all), free(sp.done);
        return rcl_fail(RCL_ERR_NO_MEMORY, "conv tuning: out of host memory");
    }
    sp.n = sp.left = space(d, t->s, t->p, sp.all, MAX_SPACE);
    /* the choice in force first, then what auto would measure: the start time is the
     * choice's, or without one the best of what auto would measure */
    conv_config first[17], best;
    int known = rcl_conv_known_config(d, t->s, t->p, &first[0]), nfirst = known, at_first = 0, have = 0;
    nfirst += rcl_conv_candidate_configs(d, t->s, t->p, first + nfirst, 16);
    pr->space = sp.n, pr->tried = pr->rejected = 0, pr->best_ms = pr->start_ms = -1, pr->best[0] = 0;
    double t_end = rcl_now() + seconds;
    rcl_status st = RCL_OK;
    while (!st && (at_first < nfirst || rcl_now() < t_end)) {
        int i = next_candidate(&sp, r, first, nfirst, &at_first, have ? &best : NULL);
        if (i < 0)
            break;
        sp.done[i] = 1, sp.left--;
        double ms = -1;
        if (!check(d, &sp.all[i], t)) {
            pr->rejected++;
            st = rcl_device_finish(d); /* a lost device ends the search */
        } else {
            st = rcl_conv_time_config(d, &sp.all[i], t->s, in_a(t), in_b(t), &t->out, TIMED_RUNS,
                                      have ? 1.5 * pr->best_ms : -1, &ms);
            pr->tried++;
        }
        if (ms > 0 && (!have || ms < pr->best_ms)) {
            best = sp.all[i], have = 1, pr->best_ms = ms;
            conv_config_format(&best, pr->best, sizeof pr->best);
        }
        if (pr->start_ms < 0 && ((known && ms > 0) || (!known && at_first == nfirst)))
            pr->start_ms = known ? ms : pr->best_ms;
        if (progress && !st)
            progress(pr, ctx);
    }
    if (!st && have)
        rcl_conv_store_choice(d, t->s, t->p, &best, pr->best_ms, "tuned");
    pr->done = 1;
    if (progress && !st)
        progress(pr, ctx);
    pr->done = 0;
    free(sp.all), free(sp.done);
    return st;
}

rcl_status rcl_conv_tune(rcl_device *d, const rcl_conv_shape *shapes, int nshapes,
                         double budget_seconds, unsigned long long seed,
                         void (*progress)(const rcl_conv_tune_progress *p, void *ctx), void *ctx) {
    if (!d || !shapes || nshapes < 1 || !(budget_seconds > 0))
        return rcl_fail(RCL_ERR_INVALID_ARG, "conv tuning: need a device, >= 1 shape and a budget > 0");
    rcl_rng r = rcl_rng_seed(seed);
    rcl_conv_tune_progress pr = {0};
    pr.items = nshapes * RCL_CONV_PASSES;
    double t_end = rcl_now() + budget_seconds;
    rcl_status st = RCL_OK;
    for (int i = 0; i < nshapes && !st; i++)
        for (int p = 0; p < RCL_CONV_PASSES && !st; p++) {
            tune_item t;
            pr.shape = &shapes[i], pr.pass = (rcl_conv_pass)p;
            double left = t_end - rcl_now();
            int items_left = pr.items - pr.item;
            if (!(st = item_init(d, &shapes[i], (rcl_conv_pass)p, &r, &t)))
                st = tune_item_run(d, &t, left > 0 ? left / items_left : 0, &r, &pr, progress, ctx);
            item_free(&t);
            pr.item++;
        }
    RCL_TRY(rcl_device_finish(d));
    rcl_device_workspace_release(d);
    return st;
}
