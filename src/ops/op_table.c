/* The op table (op_table.h) and its checks: each check generates inputs in [-1, 1] from the
 * run's random stream (rounded to float before the reference sees them), runs the device op
 * and its reference, and reports the norm-wise relative error of every output. */
#include "ops/op_table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conv2d_family.h"
#include "ops/ref.h"
#include "robustcl/tensor.h"

/* A device tensor and its double twin (f: the float copy uploaded or downloaded). */
typedef struct {
    rcl_tensor t;
    double *h;
    float *f;
} pair;

/* The pairs of one check, released together. */
#define BAG_PAIRS 20
typedef struct {
    rcl_op_run *r;
    pair p[BAG_PAIRS];
    int n;
    rcl_ibuf ints[10];
    int nints;
    char shape[48];
} bag;

static pair *make(bag *b, int ndim, const int *shape, int random, rcl_status *st) {
    if (*st)
        return &b->p[0];
    if (b->n == BAG_PAIRS) {
        *st = rcl_fail(RCL_ERR_INVALID_ARG, "op check: more than %d tensors", BAG_PAIRS);
        return &b->p[0];
    }
    pair *p = &b->p[b->n++];
    if ((*st = rcl_tensor_create_shape(b->r->d, &p->t, "op check", ndim, shape)))
        return p;
    p->h = calloc(p->t.n ? p->t.n : 1, sizeof *p->h);
    p->f = calloc(p->t.n ? p->t.n : 1, sizeof *p->f);
    if (!p->h || !p->f) {
        *st = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in an op check");
        return p;
    }
    for (size_t i = 0; i < p->t.n && random; i++) {
        p->f[i] = (float)(2 * rcl_rng_uniform(&b->r->rng) - 1);
        p->h[i] = p->f[i];
    }
    if (random)
        *st = rcl_tensor_upload(&p->t, p->f);
    return p;
}

/* Uploads p->h (rounded to float) after a check set its values by hand. */
static rcl_status put(pair *p) {
    for (size_t i = 0; i < p->t.n; i++)
        p->f[i] = (float)p->h[i], p->h[i] = p->f[i];
    return rcl_tensor_upload(&p->t, p->f);
}

static rcl_status fetch(pair *p) { return rcl_tensor_download(&p->t, p->f); }

/* An int32 device buffer holding v[0..n) (NULL: zeros); kept in the bag, which frees it. */
static cl_mem ints(bag *b, const int *v, int n, rcl_status *st) {
    if (*st || b->nints == 10) {
        if (!*st)
            *st = rcl_fail(RCL_ERR_INVALID_ARG, "op check: more than 10 int buffers");
        return NULL;
    }
    rcl_ibuf *ib = &b->ints[b->nints];
    if ((*st = rcl_ibuf_create(b->r->d, ib, "op check ints", (size_t)n)))
        return NULL;
    b->nints++;
    *st = v ? rcl_ibuf_write(ib, v, (size_t)n) : rcl_ibuf_fill(ib, 0);
    return ib->buf;
}

static rcl_status read_ints(bag *b, cl_mem m, int *v, int n) {
    for (int i = 0; i < b->nints; i++)
        if (b->ints[i].buf == m)
            return rcl_ibuf_read(&b->ints[i], v, (size_t)n);
    return rcl_fail(RCL_ERR_INVALID_ARG, "op check: reading ints it did not make");
}

static void bag_free(bag *b) {
    for (int i = 0; i < b->n; i++) {
        rcl_tensor_release(&b->p[i].t);
        free(b->p[i].h), free(b->p[i].f);
    }
    for (int i = 0; i < b->nints; i++)
        rcl_ibuf_release(&b->ints[i]);
}

static void report(bag *b, const char *op, const float *got, const double *want, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double e = got[i] - want[i];
        num += e * e;
        den += want[i] * want[i];
    }
    b->r->report(b->r->ctx, op, b->shape, den > 0 ? sqrt(num / den) : sqrt(num));
}

static void report_pair(bag *b, const char *op, pair *p) { report(b, op, p->f, p->h, p->t.n); }

static void report_ints(bag *b, const char *op, const int *got, const int *want, int n) {
    float *g = malloc((size_t)(n ? n : 1) * sizeof *g);
    double *w = malloc((size_t)(n ? n : 1) * sizeof *w);
    if (!g || !w) {
        b->r->report(b->r->ctx, op, b->shape, NAN);
    } else {
        for (int i = 0; i < n; i++)
            g[i] = (float)got[i], w[i] = want[i];
        report(b, op, g, w, (size_t)n);
    }
    free(g), free(w);
}

static int *random_labels(bag *b, int n, int k) {
    int *lab = malloc((size_t)n * sizeof *lab);
    for (int i = 0; lab && i < n; i++)
        lab[i] = (int)rcl_rng_below(&b->r->rng, (uint64_t)k);
    return lab;
}

/* ---------------------------------------------------------------- convolution */

static int conv_blocks(int c, int width) { return (c + width - 1) / width; }

/* The configuration of `family` the self-test checks for pass p of s: its start values on this
 * device (0 when the family does not run the shape here). The tests run every declared value;
 * the tuner checks every candidate it times. */
static int family_config(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p, const char *family,
                         char *out) {
    for (int i = 0; i < rcl_conv_family_table_size; i++) {
        const conv_family *f = rcl_conv_family_table[i];
        conv_config c;
        if (f->pass != p || strcmp(f->name, family) || !conv_geometry_ok(f, s))
            continue;
        conv_config_start(d, f, s, &c);
        if (!conv_config_ok(d, &c, s))
            return 0;
        conv_config_format(&c, out, RCL_CONV_CONFIG_LEN);
        return 1;
    }
    return 0;
}

/* Kernel family `family` with its start values on this device, forced for the passes it runs
 * on the shape (gemm for the others); only the family's passes are reported, as
 * "conv2d forward (chan:VW=16:R=2:X=8:CB=1:WG=1)" and so on. v: n c_in h c_out k stride pad. */
static rcl_status check_conv(rcl_op_run *r, const rcl_op_shape *sh, const char *family) {
    const int *v = sh->v;
    rcl_conv_shape s = {v[0], v[1], v[2], v[2], v[3], v[4], v[4], v[5], v[6]};
    char saved[160], cfg[RCL_CONV_PASSES][RCL_CONV_CONFIG_LEN], policy[3 * RCL_CONV_CONFIG_LEN + 16];
    int has[RCL_CONV_PASSES], any = 0, len = 0;
    for (int p = 0; p < RCL_CONV_PASSES; p++) {
        any |= has[p] = family_config(r->d, &s, (rcl_conv_pass)p, family, cfg[p]);
        len += snprintf(policy + len, sizeof policy - (size_t)len, "%s%s=%s", p ? "," : "",
                        rcl_conv_pass_name((rcl_conv_pass)p), has[p] ? cfg[p] : "gemm");
    }
    if (!any)
        return RCL_OK;
    rcl_conv_policy_string(r->d, saved, sizeof saved);
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%dx%dx%d k%d s%d -> %d", s.n, s.c_in, s.h, s.kh, s.stride, s.c_out);
    int ho = rcl_conv_out_h(&s);
    int xs[4] = {s.n, s.c_in, s.h, s.w}, ws[4] = {s.c_out, s.c_in, s.kh, s.kw}, ys[4] = {s.n, s.c_out, ho, ho};
    pair *x = make(&b, 4, xs, 1, &st), *w = make(&b, 4, ws, 1, &st), *y = make(&b, 4, ys, 0, &st);
    pair *dy = make(&b, 4, ys, 1, &st), *dx = make(&b, 4, xs, 0, &st), *dw = make(&b, 4, ws, 0, &st);
    if (!st && !(st = rcl_conv_set_policy(r->d, policy)) &&
        !(st = rcl_conv2d_forward(r->d, &s, &x->t, &w->t, &y->t)) &&
        !(st = rcl_conv2d_backward(r->d, &s, &x->t, &w->t, &dy->t, &dx->t, &dw->t)) && !(st = fetch(y)) &&
        !(st = fetch(dx)) && !(st = fetch(dw))) {
        rcl_ref_conv2d_forward(&s, x->h, w->h, y->h);
        rcl_ref_conv2d_backward(&s, x->h, w->h, dy->h, dx->h, dw->h);
        static const char *const parts[RCL_CONV_PASSES] = {"forward", "backward dx", "backward dw"};
        pair *outs[RCL_CONV_PASSES] = {y, dx, dw};
        for (int p = 0; p < RCL_CONV_PASSES; p++)
            if (has[p]) {
                char op[160];
                snprintf(op, sizeof op, "conv2d %s (%.63s)", parts[p], cfg[p]);
                report_pair(&b, op, outs[p]);
            }
    }
    bag_free(&b);
    rcl_status restored = rcl_conv_set_policy(r->d, saved);
    return st ? st : restored;
}

static rcl_status check_conv_gemm(rcl_op_run *r, const rcl_op_shape *s) { return check_conv(r, s, "gemm"); }
static rcl_status check_conv_direct(rcl_op_run *r, const rcl_op_shape *s) { return check_conv(r, s, "direct"); }
static rcl_status check_conv_chan(rcl_op_run *r, const rcl_op_shape *s) { return check_conv(r, s, "chan"); }
static rcl_status check_conv_local(rcl_op_run *r, const rcl_op_shape *s) { return check_conv(r, s, "local"); }

/* The layout kernels the direct families share, against their references. v: n c h w
 * width. */
static rcl_status check_conv_layout(rcl_op_run *r, const rcl_op_shape *sh) {
    const int *v = sh->v;
    int n = v[0], c = v[1], h = v[2], w = v[3], width = v[4], kk = 9, c2 = c + 3;
    int hp = h + 3, wp = 2 * w + 2, slices = 3, count = c * c2 * kk;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%dx%dx%dx%d width %d", n, c, h, w, width);
    rcl_status st = RCL_OK;
    int xs[4] = {n, c, h, w}, ps[4] = {n, c, hp, wp}, ws[4] = {c2, c, 3, 3};
    /* packed: blocks over c_out = c2 (transpose 0, one block more than needed: zeros, as for a
     * group of two blocks) or over c_in = c (transpose 1) */
    int qs[1] = {(conv_blocks(c2, width) + 1) * width * c * kk}, qt[1] = {conv_blocks(c, width) * width * c2 * kk};
    int bs[1] = {n * conv_blocks(c, width) * width * h * w}, parts[1] = {slices * count}, dws[1] = {count};
    pair *x = make(&b, 4, xs, 1, &st), *pad = make(&b, 4, ps, 0, &st), *split = make(&b, 4, ps, 0, &st);
    pair *wt = make(&b, 4, ws, 1, &st), *pk = make(&b, 1, qs, 0, &st), *pt = make(&b, 1, qt, 0, &st);
    pair *blk = make(&b, 1, bs, 0, &st), *part = make(&b, 1, parts, 1, &st), *dw = make(&b, 1, dws, 0, &st);
    if (!st && !(st = rcl_conv_pad(r->d, x->t.buf, pad->t.buf, n * c, h, w, hp, wp, 1, 2, 0)) &&
        !(st = rcl_conv_pad(r->d, x->t.buf, split->t.buf, n * c, h, w, hp, wp, 2, 1, 1)) &&
        !(st = rcl_conv_pack(r->d, wt->t.buf, pk->t.buf, c2, c, kk, width, conv_blocks(c2, width) + 1, 0, 0)) &&
        !(st = rcl_conv_pack(r->d, wt->t.buf, pt->t.buf, c2, c, kk, width, conv_blocks(c, width), 1, 1)) &&
        !(st = rcl_conv_block(r->d, x->t.buf, blk->t.buf, n, c, h * w, width)) &&
        !(st = rcl_conv_dw_reduce(r->d, part->t.buf, dw->t.buf, slices, count)) && !(st = fetch(pad)) &&
        !(st = fetch(split)) && !(st = fetch(pk)) && !(st = fetch(pt)) && !(st = fetch(blk)) && !(st = fetch(dw))) {
        rcl_ref_conv_pad(x->h, pad->h, n * c, h, w, hp, wp, 1, 2, 0);
        rcl_ref_conv_pad(x->h, split->h, n * c, h, w, hp, wp, 2, 1, 1);
        rcl_ref_conv_pack(wt->h, pk->h, c2, c, kk, width, conv_blocks(c2, width) + 1, 0, 0);
        rcl_ref_conv_pack(wt->h, pt->h, c2, c, kk, width, conv_blocks(c, width), 1, 1);
        rcl_ref_conv_block(x->h, blk->h, n, c, h * w, width);
        rcl_ref_conv_dw_reduce(part->h, dw->h, slices, count);
        report_pair(&b, "conv layout pad", pad);
        report_pair(&b, "conv layout pad split", split);
        report_pair(&b, "conv layout pack", pk);
        report_pair(&b, "conv layout pack transposed flipped", pt);
        report_pair(&b, "conv layout block", blk);
        report_pair(&b, "conv layout dw_reduce", dw);
    }
    bag_free(&b);
    return st;
}

/* ---------------------------------------------------------------- batch norm */

/* Train-mode forward and backward with ReLU, the running statistics, eval-mode forward,
 * ghost batch norm (split 2: the reference on each half) and synchronised batch norm on
 * one rank (the reference on the whole batch). v: n c h. */
static rcl_status one_rank_sum(void *ctx, float *buf, int n) {
    (void)ctx, (void)buf, (void)n;
    return RCL_OK;
}

static rcl_status check_bn(rcl_op_run *r, const rcl_op_shape *sh) {
    int n = sh->v[0], ch = sh->v[1], hw = sh->v[2] * sh->v[2];
    int xs[4] = {n, ch, sh->v[2], sh->v[2]}, cs[1] = {ch}, cs2[1] = {2 * ch};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%dx%dx%dx%d", n, ch, sh->v[2], sh->v[2]);
    pair *x = make(&b, 4, xs, 1, &st), *g = make(&b, 1, cs, 1, &st), *be = make(&b, 1, cs, 1, &st);
    pair *rm = make(&b, 1, cs, 1, &st), *rv = make(&b, 1, cs, 0, &st), *y = make(&b, 4, xs, 0, &st);
    pair *dy = make(&b, 4, xs, 1, &st), *dx = make(&b, 4, xs, 0, &st), *dg = make(&b, 1, cs, 0, &st);
    pair *db = make(&b, 1, cs, 0, &st), *sm = make(&b, 1, cs, 0, &st), *si = make(&b, 1, cs, 0, &st);
    pair *sm2 = make(&b, 1, cs2, 0, &st), *si2 = make(&b, 1, cs2, 0, &st);
    if (st)
        goto done;
    for (int i = 0; i < ch; i++)
        rv->h[i] = 1.0;
    if ((st = put(rv)) ||
        (st = rcl_batchnorm_forward(r->d, RCL_BN_TRAIN, 1, &x->t, &g->t, &be->t, &rm->t, &rv->t, 0.1f, 1e-5f, &y->t,
                                    &sm->t, &si->t)) ||
        (st = rcl_batchnorm_backward(r->d, 1, &x->t, &y->t, &dy->t, &g->t, &sm->t, &si->t, &dx->t, &dg->t,
                                     &db->t)) ||
        (st = fetch(y)) || (st = fetch(dx)) || (st = fetch(dg)) || (st = fetch(db)) || (st = fetch(rv)))
        goto done;
    rcl_ref_batchnorm_forward(RCL_BN_TRAIN, 1, n, ch, hw, x->h, g->h, be->h, rm->h, rv->h, 0.1, 1e-5, y->h, sm->h,
                              si->h);
    rcl_ref_batchnorm_backward(1, n, ch, hw, x->h, y->h, dy->h, g->h, sm->h, si->h, dx->h, dg->h, db->h);
    report_pair(&b, "batchnorm+relu forward", y);
    report_pair(&b, "batchnorm running var", rv);
    report_pair(&b, "batchnorm+relu backward dx", dx);
    report_pair(&b, "batchnorm backward dgamma", dg);
    report_pair(&b, "batchnorm backward dbeta", db);

    /* eval mode with the running statistics just updated (the reference's) */
    if ((st = put(rm)) || (st = put(rv)) ||
        (st = rcl_batchnorm_forward(r->d, RCL_BN_EVAL, 1, &x->t, &g->t, &be->t, &rm->t, &rv->t, 0.1f, 1e-5f, &y->t,
                                    NULL, NULL)) ||
        (st = fetch(y)))
        goto done;
    rcl_ref_batchnorm_forward(RCL_BN_EVAL, 1, n, ch, hw, x->h, g->h, be->h, rm->h, rv->h, 0.1, 1e-5, y->h, NULL,
                              NULL);
    report_pair(&b, "batchnorm eval forward", y);

    /* synchronised over one rank: the whole batch's statistics */
    rcl_bn_sync one = {one_rank_sum, NULL};
    if ((st = rcl_batchnorm_forward_sync(r->d, 1, &one, &x->t, &g->t, &be->t, &rm->t, &rv->t, 0.1f, 1e-5f, &y->t,
                                         &sm->t, &si->t)) ||
        (st = rcl_batchnorm_backward_sync(r->d, 1, &one, &x->t, &y->t, &dy->t, &g->t, &sm->t, &si->t, &dx->t,
                                          &dg->t, &db->t)) ||
        (st = fetch(y)) || (st = fetch(dx)) || (st = fetch(dg)) || (st = fetch(db)))
        goto done;
    rcl_ref_batchnorm_forward(RCL_BN_TRAIN, 1, n, ch, hw, x->h, g->h, be->h, rm->h, rv->h, 0.1, 1e-5, y->h, sm->h,
                              si->h);
    rcl_ref_batchnorm_backward(1, n, ch, hw, x->h, y->h, dy->h, g->h, sm->h, si->h, dx->h, dg->h, db->h);
    report_pair(&b, "batchnorm sync forward", y);
    report_pair(&b, "batchnorm sync backward dx", dx);
    report_pair(&b, "batchnorm sync backward dgamma", dg);

    /* ghost batch norm: two sub-batches, each with its own statistics */
    if (n < 2)
        goto done;
    if ((st = rcl_batchnorm_forward_split(r->d, RCL_BN_TRAIN, 1, 2, &x->t, &g->t, &be->t, &rm->t, &rv->t, 0.1f,
                                          1e-5f, &y->t, &sm2->t, &si2->t)) ||
        (st = rcl_batchnorm_backward_split(r->d, 1, 2, &x->t, &y->t, &dy->t, &g->t, &sm2->t, &si2->t, &dx->t,
                                           &dg->t, &db->t)) ||
        (st = fetch(y)) || (st = fetch(dx)) || (st = fetch(dg)) || (st = fetch(db)))
        goto done;
    double *rm0 = malloc((size_t)ch * sizeof *rm0), *rv0 = malloc((size_t)ch * sizeof *rv0);
    double *dgk = malloc((size_t)ch * sizeof *dgk), *dbk = malloc((size_t)ch * sizeof *dbk);
    if (!rm0 || !rv0 || !dgk || !dbk) {
        free(rm0), free(rv0), free(dgk), free(dbk);
        st = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in an op check");
        goto done;
    }
    memset(dg->h, 0, (size_t)ch * sizeof *dg->h), memset(db->h, 0, (size_t)ch * sizeof *db->h);
    for (int k = 0; k < 2; k++) {
        int b0 = k * n / 2, nk = (k + 1) * n / 2 - b0;
        size_t off = (size_t)b0 * ch * hw;
        memcpy(rm0, rm->h, (size_t)ch * sizeof *rm0), memcpy(rv0, rv->h, (size_t)ch * sizeof *rv0);
        rcl_ref_batchnorm_forward(RCL_BN_TRAIN, 1, nk, ch, hw, x->h + off, g->h, be->h, rm0, rv0, 0.1, 1e-5,
                                  y->h + off, sm2->h + k * ch, si2->h + k * ch);
        rcl_ref_batchnorm_backward(1, nk, ch, hw, x->h + off, y->h + off, dy->h + off, g->h, sm2->h + k * ch,
                                   si2->h + k * ch, dx->h + off, dgk, dbk);
        for (int c = 0; c < ch; c++)
            dg->h[c] += dgk[c], db->h[c] += dbk[c];
    }
    free(rm0), free(rv0), free(dgk), free(dbk);
    report_pair(&b, "batchnorm split forward", y);
    report_pair(&b, "batchnorm split backward dx", dx);
    report_pair(&b, "batchnorm split backward dgamma", dg);
    report_pair(&b, "batchnorm split backward dbeta", db);
done:
    bag_free(&b);
    return st;
}

/* Eval-mode batch-norm backward (attacks on trained models) with ReLU. v: n c h. */
static rcl_status check_bn_eval(rcl_op_run *r, const rcl_op_shape *sh) {
    int n = sh->v[0], ch = sh->v[1], xs[4] = {n, ch, sh->v[2], sh->v[2]}, cs[1] = {ch};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%dx%dx%dx%d", n, ch, sh->v[2], sh->v[2]);
    pair *x = make(&b, 4, xs, 1, &st), *y = make(&b, 4, xs, 1, &st), *dy = make(&b, 4, xs, 1, &st);
    pair *g = make(&b, 1, cs, 1, &st), *rm = make(&b, 1, cs, 1, &st), *rv = make(&b, 1, cs, 0, &st);
    pair *dx = make(&b, 4, xs, 0, &st), *dg = make(&b, 1, cs, 0, &st), *db = make(&b, 1, cs, 0, &st);
    if (st)
        goto done;
    for (int i = 0; i < ch; i++)
        rv->h[i] = 0.5 + (double)i / ch;
    if ((st = put(rv)) ||
        (st = rcl_batchnorm_backward_eval(r->d, 1, &x->t, &y->t, &dy->t, &g->t, &rm->t, &rv->t, 1e-5f, &dx->t,
                                          &dg->t, &db->t)) ||
        (st = fetch(dx)) || (st = fetch(dg)) || (st = fetch(db)))
        goto done;
    rcl_ref_batchnorm_backward_eval(1, n, ch, sh->v[2] * sh->v[2], x->h, y->h, dy->h, g->h, rm->h, rv->h, 1e-5f,
                                    dx->h, dg->h, db->h);
    report_pair(&b, "batchnorm eval backward dx", dx);
    report_pair(&b, "batchnorm eval backward dgamma", dg);
    report_pair(&b, "batchnorm eval backward dbeta", db);
done:
    bag_free(&b);
    return st;
}

/* ---------------------------------------------------------------- the head */

/* v: n c h. */
static rcl_status check_pool(rcl_op_run *r, const rcl_op_shape *sh) {
    int n = sh->v[0], ch = sh->v[1], hw = sh->v[2] * sh->v[2];
    int xs[4] = {n, ch, sh->v[2], sh->v[2]}, fs[2] = {n, ch};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%dx%dx%dx%d", n, ch, sh->v[2], sh->v[2]);
    pair *x = make(&b, 4, xs, 1, &st), *y = make(&b, 2, fs, 0, &st), *dy = make(&b, 2, fs, 1, &st);
    pair *dx = make(&b, 4, xs, 0, &st);
    if (!st && !(st = rcl_avgpool_forward(r->d, &x->t, &y->t)) && !(st = rcl_avgpool_backward(r->d, &dy->t, &dx->t)) &&
        !(st = fetch(y)) && !(st = fetch(dx))) {
        rcl_ref_avgpool_forward(n, ch, hw, x->h, y->h);
        rcl_ref_avgpool_backward(n, ch, hw, dy->h, dx->h);
        report_pair(&b, "avgpool forward", y);
        report_pair(&b, "avgpool backward dx", dx);
    }
    bag_free(&b);
    return st;
}

/* v: n f k. */
static rcl_status check_linear(rcl_op_run *r, const rcl_op_shape *sh) {
    int n = sh->v[0], f = sh->v[1], k = sh->v[2];
    int xs[2] = {n, f}, ws[2] = {k, f}, bs[1] = {k}, ys[2] = {n, k};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%dx%d -> %d", n, f, k);
    pair *x = make(&b, 2, xs, 1, &st), *w = make(&b, 2, ws, 1, &st), *bi = make(&b, 1, bs, 1, &st);
    pair *y = make(&b, 2, ys, 0, &st), *dy = make(&b, 2, ys, 1, &st), *dx = make(&b, 2, xs, 0, &st);
    pair *dw = make(&b, 2, ws, 0, &st), *db = make(&b, 1, bs, 0, &st);
    if (!st && !(st = rcl_linear_forward(r->d, &x->t, &w->t, &bi->t, &y->t)) &&
        !(st = rcl_linear_backward(r->d, &x->t, &w->t, &dy->t, &dx->t, &dw->t, &db->t)) && !(st = fetch(y)) &&
        !(st = fetch(dx)) && !(st = fetch(dw)) && !(st = fetch(db))) {
        rcl_ref_linear_forward(n, f, k, x->h, w->h, bi->h, y->h);
        rcl_ref_linear_backward(n, f, k, x->h, w->h, dy->h, dx->h, dw->h, db->h);
        report_pair(&b, "linear forward", y);
        report_pair(&b, "linear backward dx", dx);
        report_pair(&b, "linear backward dw", dw);
        report_pair(&b, "linear backward db", db);
    }
    bag_free(&b);
    return st;
}

/* Weighted softmax cross-entropy forward and backward, and count_correct. v: n k. */
static rcl_status check_loss(rcl_op_run *r, const rcl_op_shape *sh) {
    int n = sh->v[0], k = sh->v[1], ls[2] = {n, k}, one[1] = {1}, ks[1] = {k}, ns[1] = {n};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%dx%d", n, k);
    int *lab = random_labels(&b, n, k);
    if (!lab)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in an op check");
    pair *lg = make(&b, 2, ls, 1, &st), *pr = make(&b, 2, ls, 0, &st), *loss = make(&b, 1, one, 0, &st);
    pair *dl = make(&b, 2, ls, 0, &st), *cw = make(&b, 1, ks, 1, &st), *sw = make(&b, 1, ns, 1, &st);
    cl_mem labels = ints(&b, lab, n, &st), correct = ints(&b, NULL, 1, &st);
    if (st)
        goto done;
    for (int i = 0; i < k; i++)
        cw->h[i] = 1.5 + cw->h[i]; /* positive weights */
    for (int i = 0; i < n; i++)
        sw->h[i] = 1 + sw->h[i];
    int got = -1, want = 0;
    if ((st = put(cw)) || (st = put(sw)) ||
        (st = rcl_softmax_xent_forward(r->d, &lg->t, labels, &cw->t, &sw->t, &pr->t, &loss->t)) ||
        (st = rcl_softmax_xent_backward(r->d, &pr->t, labels, &cw->t, &sw->t, &dl->t)) || (st = fetch(pr)) ||
        (st = fetch(loss)) || (st = fetch(dl)) || (st = rcl_count_correct(r->d, &lg->t, labels, correct)) ||
        (st = read_ints(&b, correct, &got, 1)))
        goto done;
    loss->h[0] = rcl_ref_softmax_xent_forward(n, k, lg->h, lab, cw->h, sw->h, pr->h);
    rcl_ref_softmax_xent_backward(n, k, pr->h, lab, cw->h, sw->h, dl->h);
    for (int i = 0; i < n; i++) { /* the first maximum is the prediction */
        int best = 0;
        for (int j = 1; j < k; j++)
            best = lg->h[i * k + j] > lg->h[i * k + best] ? j : best;
        want += best == lab[i];
    }
    report_pair(&b, "softmax cross-entropy probs", pr);
    report_pair(&b, "softmax cross-entropy", loss);
    report_pair(&b, "softmax cross-entropy backward", dl);
    report_ints(&b, "count_correct", &got, &want, 1);
done:
    free(lab);
    bag_free(&b);
    return st;
}

/* Forward/GLC corrected loss with a third of the rows trusted. v: n k. */
static rcl_status check_corrected_loss(rcl_op_run *r, const rcl_op_shape *sh) {
    int n = sh->v[0], k = sh->v[1], ls[2] = {n, k}, cs[2] = {k, k}, one[1] = {1};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%dx%d", n, k);
    int *lab = random_labels(&b, n, k), *tr = malloc((size_t)n * sizeof *tr);
    if (!lab || !tr) {
        free(lab), free(tr);
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in an op check");
    }
    for (int i = 0; i < n; i++)
        tr[i] = i % 3 == 0;
    pair *lg = make(&b, 2, ls, 1, &st), *C = make(&b, 2, cs, 0, &st), *pr = make(&b, 2, ls, 0, &st);
    pair *loss = make(&b, 1, one, 0, &st), *dl = make(&b, 2, ls, 0, &st);
    cl_mem labels = ints(&b, lab, n, &st), trusted = ints(&b, tr, n, &st);
    if (st)
        goto done;
    for (int i = 0; i < k * k; i++) /* uniform corruption, s = 0.4 */
        C->h[i] = (i / k == i % k ? 0.6 : 0.0) + 0.4 / k;
    if ((st = put(C)) || (st = rcl_corrected_loss_forward(r->d, &lg->t, labels, trusted, &C->t, &pr->t, &loss->t)) ||
        (st = rcl_corrected_loss_backward(r->d, &pr->t, labels, trusted, &C->t, &dl->t)) || (st = fetch(loss)) ||
        (st = fetch(dl)))
        goto done;
    loss->h[0] = rcl_ref_corrected_loss_forward(n, k, lg->h, lab, tr, C->h, pr->h);
    rcl_ref_corrected_loss_backward(n, k, pr->h, lab, tr, C->h, dl->h);
    report_pair(&b, "corrected loss", loss);
    report_pair(&b, "corrected loss backward", dl);
done:
    free(lab), free(tr);
    bag_free(&b);
    return st;
}

/* ---------------------------------------------------------------- elementwise, SGD */

/* ReLU forward and backward, add, axpy, dropout forward and backward. v: n. */
static rcl_status check_elementwise(rcl_op_run *r, const rcl_op_shape *sh) {
    int n = sh->v[0], s1[1] = {n};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%d", n);
    pair *x = make(&b, 1, s1, 1, &st), *y = make(&b, 1, s1, 0, &st), *dy = make(&b, 1, s1, 1, &st);
    pair *dx = make(&b, 1, s1, 0, &st), *a = make(&b, 1, s1, 1, &st);
    if (st)
        goto done;
    if ((st = rcl_relu_forward(r->d, &x->t, &y->t)) || (st = fetch(y)))
        goto done;
    rcl_ref_relu_forward((size_t)n, x->h, y->h);
    report_pair(&b, "relu forward", y);
    if ((st = rcl_relu_backward(r->d, &y->t, &dy->t, &dx->t)) || (st = fetch(dx)))
        goto done;
    rcl_ref_relu_backward((size_t)n, y->h, dy->h, dx->h);
    report_pair(&b, "relu backward", dx);
    if ((st = rcl_add(r->d, &x->t, &a->t, &y->t)) || (st = fetch(y)))
        goto done;
    for (int i = 0; i < n; i++)
        y->h[i] = x->h[i] + a->h[i];
    report_pair(&b, "add", y);
    if ((st = rcl_axpy(r->d, -0.75f, &x->t, &a->t)) || (st = fetch(a)))
        goto done;
    for (int i = 0; i < n; i++)
        a->h[i] += -0.75 * x->h[i];
    report_pair(&b, "axpy", a);
    if ((st = rcl_dropout_forward(r->d, 0.3f, 11, 5, &x->t, &y->t)) || (st = fetch(y)) ||
        (st = rcl_dropout_backward(r->d, 0.3f, 11, 5, &dy->t, &dx->t)) || (st = fetch(dx)))
        goto done;
    rcl_ref_dropout_forward((size_t)n, 0.3f, 11, 5, x->h, y->h);
    rcl_ref_dropout_backward((size_t)n, 0.3f, 11, 5, dy->h, dx->h);
    report_pair(&b, "dropout forward", y);
    report_pair(&b, "dropout backward", dx);
done:
    bag_free(&b);
    return st;
}

/* A first (buffer-initialising) plain step, then a Nesterov step. v: n. */
static rcl_status check_sgd(rcl_op_run *r, const rcl_op_shape *sh) {
    int n = sh->v[0], s1[1] = {n};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%d", n);
    pair *w = make(&b, 1, s1, 1, &st), *g = make(&b, 1, s1, 1, &st), *buf = make(&b, 1, s1, 0, &st);
    if (st)
        goto done;
    if ((st = rcl_sgd_step(r->d, &w->t, &g->t, &buf->t, 0.1f, 0.9f, 5e-4f, 0, 1)) ||
        (st = rcl_sgd_step(r->d, &w->t, &g->t, &buf->t, 0.05f, 0.9f, 5e-4f, 1, 0)) || (st = fetch(w)) ||
        (st = fetch(buf)))
        goto done;
    rcl_ref_sgd_step((size_t)n, w->h, g->h, buf->h, 0.1f, 0.9f, 5e-4f, 0, 1);
    rcl_ref_sgd_step((size_t)n, w->h, g->h, buf->h, 0.05f, 0.9f, 5e-4f, 1, 0);
    report_pair(&b, "sgd nesterov step", w);
    report_pair(&b, "sgd momentum buffer", buf);
done:
    bag_free(&b);
    return st;
}

/* ---------------------------------------------------------------- finite check, fill */

/* v[0] tensors of v[1] elements; tensor i holds a NaN (i % 3 == 1) or an infinity
 * (i % 3 == 2) at a random place, the others are finite. */
static rcl_status check_finite(rcl_op_run *r, const rcl_op_shape *sh) {
    enum { MAXT = 18 };
    int count = sh->v[0] < MAXT ? sh->v[0] : MAXT, s1[1] = {sh->v[1]};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%d x %d", count, sh->v[1]);
    const rcl_tensor *ts[MAXT];
    int want[MAXT], got[MAXT], first = -2, want_first = -1;
    for (int i = 0; i < count && !st; i++) {
        pair *p = make(&b, 1, s1, 1, &st);
        ts[i] = &p->t;
        want[i] = i % 3 != 0;
        if (st || !want[i])
            continue;
        if (want_first < 0)
            want_first = i;
        p->h[rcl_rng_below(&r->rng, (uint64_t)sh->v[1])] = i % 3 == 1 ? NAN : INFINITY;
        st = put(p);
    }
    if (!st && !(st = rcl_check_finite(r->d, ts, count, got, &first))) {
        report_ints(&b, "finite_check flags", got, want, count);
        report_ints(&b, "finite_check first", &first, &want_first, 1);
    }
    bag_free(&b);
    return st;
}

/* v: n. */
static rcl_status check_fill(rcl_op_run *r, const rcl_op_shape *sh) {
    int s1[1] = {sh->v[0]};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%d", sh->v[0]);
    pair *t = make(&b, 1, s1, 1, &st);
    if (!st && !(st = rcl_tensor_fill(&t->t, -2.5f)) && !(st = fetch(t))) {
        for (size_t i = 0; i < t->t.n; i++)
            t->h[i] = -2.5;
        report_pair(&b, "tensor_fill", t);
    }
    bag_free(&b);
    return st;
}

/* ---------------------------------------------------------------- attack */

/* One PGD step end to end: pixels, a random start (both modes), a signed step, both
 * losses, keeping the worst, the row statistics, back to network inputs. v: n c h k. */
static rcl_status check_attack(rcl_op_run *r, const rcl_op_shape *sh) {
    int n = sh->v[0], c = sh->v[1], hw = sh->v[2] * sh->v[2], k = sh->v[3], per = c * hw;
    int xs[4] = {n, c, sh->v[2], sh->v[2]}, ls[2] = {n, k}, ns[1] = {n};
    const float mean[3] = {0.4914f, 0.4822f, 0.4465f}, sd[3] = {0.247f, 0.243f, 0.261f};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%dx%dx%dx%d, %d classes", n, c, sh->v[2], sh->v[2], k);
    int *lab = random_labels(&b, n, k), *idx = malloc((size_t)n * sizeof *idx);
    int *corr = malloc((size_t)n * sizeof *corr), *corr_ref = malloc((size_t)n * sizeof *corr_ref);
    int *bcorr = malloc((size_t)n * sizeof *bcorr), *bcorr_ref = malloc((size_t)n * sizeof *bcorr_ref);
    int *zero = malloc((size_t)n * sizeof *zero), *zero_ref = malloc((size_t)n * sizeof *zero_ref);
    if (!lab || !idx || !corr || !corr_ref || !bcorr || !bcorr_ref || !zero || !zero_ref) {
        st = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in an op check");
        goto done;
    }
    for (int i = 0; i < n; i++)
        idx[i] = 100 + 7 * i, bcorr_ref[i] = 1;
    pair *x = make(&b, 4, xs, 1, &st), *pix = make(&b, 4, xs, 0, &st), *adv = make(&b, 4, xs, 0, &st);
    pair *ctr = make(&b, 4, xs, 0, &st), *grad = make(&b, 4, xs, 1, &st), *best = make(&b, 4, xs, 0, &st);
    pair *out = make(&b, 4, xs, 0, &st), *lg = make(&b, 2, ls, 1, &st), *dl = make(&b, 2, ls, 0, &st);
    pair *rl = make(&b, 1, ns, 0, &st), *bl = make(&b, 1, ns, 0, &st), *md = make(&b, 1, ns, 0, &st);
    cl_mem labels = ints(&b, lab, n, &st), index = ints(&b, idx, n, &st), rc = ints(&b, NULL, n, &st);
    cl_mem bc = ints(&b, bcorr_ref, n, &st);
    if (st)
        goto done;
    for (int i = 0; i < n * per; i++)
        x->h[i] *= 2.2; /* beyond [0,1] in pixels: the clamp is exercised */
    for (int i = 0; i < n * per; i += 5)
        grad->h[i] = 0; /* sign(0) = 0, and rows with zeros */
    for (int e = 0; e < per; e++)
        grad->h[e] = 0; /* row 0: an all-zero gradient */
    if ((st = put(x)) || (st = put(grad)) || (st = rcl_attack_to_pixels(r->d, &x->t, mean, sd, &pix->t)) ||
        (st = fetch(pix)))
        goto done;
    rcl_ref_attack_to_pixels(n, c, hw, x->h, mean, sd, pix->h);
    report_pair(&b, "attack to_pixels", pix);
    for (size_t i = 0; i < pix->t.n; i++) /* later steps start from the device's pixels */
        pix->h[i] = pix->f[i];
    for (int mode = RCL_ATTACK_TEXTBOOK; mode <= RCL_ATTACK_PAPER && !st; mode++) {
        if ((st = rcl_attack_start(r->d, &pix->t, index, 1, 8 / 255.0f, (rcl_attack_mode)mode, 3, 9, &adv->t,
                                   &ctr->t)) ||
            (st = fetch(adv)) || (st = fetch(ctr)))
            goto done;
        rcl_ref_attack_start(n, per, pix->h, idx, 1, 8 / 255.0f, (rcl_attack_mode)mode, 3, 9, adv->h, ctr->h);
        report_pair(&b, mode ? "attack start (paper) adv" : "attack start (textbook) adv", adv);
        report_pair(&b, mode ? "attack start (paper) centre" : "attack start (textbook) centre", ctr);
    }
    if ((st = rcl_attack_step(r->d, &grad->t, &ctr->t, 2 / 255.0f, 8 / 255.0f, &adv->t)) || (st = fetch(adv)))
        goto done;
    rcl_ref_attack_step((size_t)n * per, grad->h, ctr->h, 2 / 255.0f, 8 / 255.0f, adv->h);
    report_pair(&b, "attack step", adv);
    for (int loss = RCL_ATTACK_LOSS_CE; loss <= RCL_ATTACK_LOSS_MARGIN && !st; loss++) {
        if ((st = rcl_attack_loss_grad(r->d, (rcl_attack_loss)loss, &lg->t, labels, &dl->t, &rl->t, rc)) ||
            (st = fetch(dl)) || (st = fetch(rl)) || (st = read_ints(&b, rc, corr, n)))
            goto done;
        rcl_ref_attack_loss((rcl_attack_loss)loss, n, k, lg->h, lab, dl->h, rl->h, corr_ref);
        report_pair(&b, loss ? "attack margin loss" : "attack ce loss", rl);
        report_pair(&b, loss ? "attack margin dlogits" : "attack ce dlogits", dl);
        report_ints(&b, loss ? "attack margin correct" : "attack ce correct", corr, corr_ref, n);
    }
    /* keep the worst: a first call copies, a second compares with what it kept */
    for (int first = 1; first >= 0; first--) {
        if ((st = rcl_attack_keep_worst(r->d, first ? &pix->t : &adv->t, &rl->t, rc, first, &best->t, &bl->t, bc)))
            goto done;
        rcl_ref_attack_keep_worst(n, per, first ? pix->h : adv->h, rl->h, corr_ref, first, best->h, bl->h,
                                  bcorr_ref);
        if (first) /* the second call sees a loss half of the rows beat */
            for (int i = 0; i < n; i++)
                rl->h[i] += i % 2 ? 0.5 : -0.5;
        if (first && (st = put(rl)))
            goto done;
    }
    if ((st = fetch(best)) || (st = fetch(bl)) || (st = read_ints(&b, bc, bcorr, n)))
        goto done;
    report_pair(&b, "attack keep_worst adv", best);
    report_pair(&b, "attack keep_worst loss", bl);
    report_ints(&b, "attack keep_worst correct", bcorr, bcorr_ref, n);
    if ((st = rcl_attack_row_stats(r->d, &grad->t, rc, &adv->t, &pix->t, &md->t)) || (st = fetch(md)) ||
        (st = read_ints(&b, rc, zero, n)))
        goto done;
    for (int i = 0; i < n; i++) {
        zero_ref[i] = 1, md->h[i] = 0;
        for (int e = 0; e < per; e++) {
            zero_ref[i] &= grad->h[i * per + e] == 0;
            md->h[i] = fmax(md->h[i], fabs(adv->f[i * per + e] - pix->f[i * per + e]));
        }
    }
    report_pair(&b, "attack row_stats maxdiff", md);
    report_ints(&b, "attack row_stats zero", zero, zero_ref, n);
    if ((st = fetch(best)) || (st = rcl_attack_copy_rows(r->d, &grad->t, rc, &best->t))) /* rc: the zero flags */
        goto done;
    for (size_t i = 0; i < best->t.n; i++)
        best->h[i] = best->f[i];
    rcl_ref_attack_copy_rows(n, per, grad->h, zero_ref, best->h);
    if ((st = fetch(best)))
        goto done;
    report_pair(&b, "attack copy_rows", best);
    if ((st = fetch(adv)) || (st = fetch(pix)) || (st = rcl_attack_to_network(r->d, &x->t, &pix->t, &adv->t, sd, &out->t)) ||
        (st = fetch(out)))
        goto done;
    for (size_t i = 0; i < x->t.n; i++)
        adv->h[i] = adv->f[i], pix->h[i] = pix->f[i];
    rcl_ref_attack_to_network(n, c, hw, x->h, pix->h, adv->h, sd, out->h);
    report_pair(&b, "attack to_network", out);
done:
    free(lab), free(idx), free(corr), free(corr_ref), free(bcorr), free(bcorr_ref), free(zero), free(zero_ref);
    bag_free(&b);
    return st;
}

/* ---------------------------------------------------------------- APGD, Square */

/* Pixels in [0,1] with some at 0 and 1 exactly (the clamp's edges). */
static rcl_status put_pixels(pair *p) {
    for (size_t i = 0; i < p->t.n; i++)
        p->h[i] = i % 7 == 0 ? (double)(i % 2) : (p->h[i] + 1) / 2;
    return put(p);
}

static void sync_host(pair *p) {
    for (size_t i = 0; i < p->t.n; i++)
        p->h[i] = p->f[i];
}

/* The L2 ops on the check's data: the start, two steps (the first without momentum; at eps 0.5
 * the ball binds some rows, the box others) and the row distances into dist [n]. */
static rcl_status check_apgd_l2(bag *b, pair *x, pair *g, pair *step, pair *old, pair *adv, cl_mem index,
                                const int *idx, pair *dist) {
    rcl_device *d = b->r->d;
    int n = x->t.shape[0], per = (int)(x->t.n / (size_t)n);
    rcl_status st;
    if ((st = rcl_apgd_start(d, &x->t, index, 0.5f, 5, 3, 1, &adv->t)) || (st = fetch(adv)))
        return st;
    rcl_ref_apgd_start(n, per, x->h, idx, 0.5, 5, 3, 1, adv->h);
    report_pair(b, "apgd L2 start", adv);
    sync_host(adv);
    for (int i = 0; i < 2; i++) {
        float a = i ? 0.75f : 1.0f;
        if ((st = rcl_apgd_step_l2(d, &x->t, &g->t, &step->t, 0.5f, a, &old->t, &adv->t)) || (st = fetch(adv)) ||
            (st = fetch(old)))
            return st;
        rcl_ref_apgd_step_l2(n, per, x->h, g->h, step->h, 0.5, a, old->h, adv->h);
        report_pair(b, i ? "apgd L2 momentum step adv" : "apgd L2 step adv", adv);
        report_pair(b, i ? "apgd L2 momentum step previous" : "apgd L2 step previous", old);
        sync_host(adv), sync_host(old);
    }
    if ((st = rcl_apgd_row_l2(d, &adv->t, &x->t, &dist->t)) || (st = fetch(dist)))
        return st;
    rcl_ref_apgd_row_l2(n, per, adv->h, x->h, dist->h);
    report_pair(b, "apgd row L2 distance", dist);
    return RCL_OK;
}

/* The start, a momentum step (L-inf and L2), targets, both DLR losses and two rounds of the
 * schedule's bookkeeping. v: n c h k. */
static rcl_status check_apgd(rcl_op_run *r, const rcl_op_shape *sh) {
    int n = sh->v[0], c = sh->v[1], hw = sh->v[2], k = sh->v[3], per = c * hw * hw;
    int xs[4] = {n, c, hw, hw}, ls[2] = {n, k}, ns[1] = {n};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%dx%dx%dx%d, %d classes", n, c, hw, hw, k);
    enum { NI = 8 };
    int *iv[NI] = {0}, *iref[NI] = {0};
    for (int i = 0; i < NI; i++)
        iv[i] = calloc((size_t)n, sizeof(int)), iref[i] = calloc((size_t)n, sizeof(int));
    int *lab = random_labels(&b, n, k);
    pair *x = make(&b, 4, xs, 1, &st), *adv = make(&b, 4, xs, 0, &st), *old = make(&b, 4, xs, 1, &st);
    pair *g = make(&b, 4, xs, 1, &st), *step = make(&b, 1, ns, 1, &st), *lg = make(&b, 2, ls, 1, &st);
    pair *dl = make(&b, 2, ls, 0, &st), *rl = make(&b, 1, ns, 1, &st), *dist = make(&b, 1, ns, 0, &st);
    pair *sp[4] = {make(&b, 1, ns, 0, &st), make(&b, 1, ns, 0, &st), make(&b, 1, ns, 0, &st), make(&b, 1, ns, 0, &st)};
    cl_mem m[NI];
    for (int i = 0; i < NI; i++)
        m[i] = ints(&b, NULL, n, &st);
    if (st || !lab || !iv[NI - 1] || !iref[NI - 1]) {
        st = st ? st : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in an op check");
        goto done;
    }
    for (int i = 0; i < n; i++)
        iv[0][i] = 3 + 11 * i; /* dataset indices */
    /* m: 0 index, 1 labels, 2 target, 3 correct, 4 count, 5 reduced_last, 6 fooled, 7 flag */
    if ((st = rcl_ibuf_write(&b.ints[0], iv[0], (size_t)n)) || (st = rcl_ibuf_write(&b.ints[1], lab, (size_t)n)) ||
        (st = put_pixels(x)))
        goto done;
    for (int i = 0; i < n; i++)
        step->h[i] = 0.01 + 0.02 * fabs(step->h[i]);
    for (int i = 0; i < n * per; i += 4)
        g->h[i] = 0; /* sign(0) = 0 */
    for (int i = 0; i < n * per; i++)
        old->h[i] = x->h[i] + 0.05 * old->h[i];
    for (int i = 0; i < n * k; i++)
        lg->h[i] *= 3;
    lg->h[0] = lg->h[1]; /* a tie in the ranking */
    if ((st = put(step)) || (st = put(g)) || (st = put(old)) || (st = put(lg)))
        goto done;
    if ((st = rcl_apgd_start(r->d, &x->t, m[0], 8 / 255.0f, 5, 2, 0, &adv->t)) || (st = fetch(adv)))
        goto done;
    rcl_ref_apgd_start(n, per, x->h, iv[0], 8 / 255.0f, 5, 2, 0, adv->h);
    report_pair(&b, "apgd start", adv);
    sync_host(adv);
    if ((st = rcl_apgd_step(r->d, &x->t, &g->t, &step->t, 8 / 255.0f, 0.75f, &old->t, &adv->t)) || (st = fetch(adv)) ||
        (st = fetch(old)))
        goto done;
    rcl_ref_apgd_step(n, per, x->h, g->h, step->h, 8 / 255.0f, 0.75, old->h, adv->h);
    report_pair(&b, "apgd step adv", adv);
    report_pair(&b, "apgd step previous", old);
    sync_host(old);
    if ((st = check_apgd_l2(&b, x, g, step, old, adv, m[0], iv[0], dist)))
        goto done;
    if ((st = rcl_apgd_target(r->d, &lg->t, 2, m[2])) || (st = read_ints(&b, m[2], iv[2], n)))
        goto done;
    rcl_ref_apgd_target(n, k, lg->h, 2, iref[2]);
    report_ints(&b, "apgd target", iv[2], iref[2], n);
    for (int targeted = 0; targeted <= 1; targeted++) {
        if ((st = rcl_apgd_dlr(r->d, &lg->t, m[1], targeted ? m[2] : NULL, &dl->t, &rl->t, m[3])) ||
            (st = fetch(dl)) || (st = fetch(rl)) || (st = read_ints(&b, m[3], iv[3], n)))
            goto done;
        rcl_ref_apgd_dlr(n, k, lg->h, lab, targeted ? iref[2] : NULL, dl->h, rl->h, iref[3]);
        report_pair(&b, targeted ? "apgd targeted dlr loss" : "apgd dlr loss", rl);
        report_pair(&b, targeted ? "apgd targeted dlr dlogits" : "apgd dlr dlogits", dl);
        report_ints(&b, targeted ? "apgd targeted dlr correct" : "apgd dlr correct", iv[3], iref[3], n);
    }
    rcl_apgd_state ds = {sp[0]->t, sp[1]->t, sp[2]->t, sp[3]->t, m[4], m[5], m[6], m[7]};
    rcl_ref_apgd_state hs = {sp[0]->h, sp[1]->h, sp[2]->h, sp[3]->h, iref[4], iref[5], iref[6], iref[7]};
    for (int round = 0; round < 3; round++) { /* first, a step, a step */
        sync_host(rl);
        if ((st = rcl_apgd_track(r->d, &rl->t, m[3], 8 / 255.0f, round == 0, &ds)))
            goto done;
        rcl_ref_apgd_track(n, rl->h, iref[3], 8 / 255.0, round == 0, &hs);
        for (int i = 0; i < n; i++) /* half the rows improve next time */
            rl->h[i] += i % 2 ? 0.25 : -0.25;
        if ((st = put(rl)))
            goto done;
    }
    if ((st = rcl_apgd_checkpoint(r->d, 2, 0.75f, &ds)))
        goto done;
    rcl_ref_apgd_checkpoint(n, 2, 0.75, &hs);
    static const char *const fnames[4] = {"apgd best loss", "apgd previous loss", "apgd best loss at checkpoint",
                                          "apgd step size"};
    static const char *const inames[4] = {"apgd increases", "apgd reduced", "apgd fooled", "apgd restart flag"};
    for (int i = 0; i < 4 && !st; i++)
        if (!(st = fetch(sp[i])))
            report_pair(&b, fnames[i], sp[i]);
    for (int i = 4; i < NI && !st; i++)
        if (!(st = read_ints(&b, m[i], iv[i], n)))
            report_ints(&b, inames[i - 4], iv[i], iref[i], n);
done:
    for (int i = 0; i < NI; i++)
        free(iv[i]), free(iref[i]);
    free(lab);
    bag_free(&b);
    return st;
}

/* The L2 start and two proposals from it: windows shifted by a pixel, then in opposite corners (at eps 1 the box
 * binds some pixels). Needs h >= 5. */
static rcl_status check_square_l2(bag *b, pair *x, pair *best, pair *cand, cl_mem index, const int *idx) {
    rcl_device *d = b->r->d;
    int n = x->t.shape[0], c = x->t.shape[1], h = x->t.shape[2], s = h >= 7 ? 5 : 3;
    rcl_status st;
    if ((st = rcl_square_init_l2(d, &x->t, index, 1.0f, 7, 4, &best->t)) || (st = fetch(best)))
        return st;
    rcl_ref_square_init_l2(n, c, h, h, x->h, idx, 1.0, 7, 4, best->h);
    report_pair(b, "square L2 start", best);
    sync_host(best);
    const rcl_square_windows wins[2] = {{s, 0, 1, h - s - 1 > 0 ? 1 : 0, 0}, {s, h - s, 0, 0, h - s}};
    for (int i = 0; i < 2; i++) {
        const rcl_square_windows *v = &wins[i];
        if ((st = rcl_square_propose_l2(d, &x->t, &best->t, index, 1.0f, v, 7, 5 + (uint32_t)i, &cand->t)) ||
            (st = fetch(cand)))
            return st;
        rcl_ref_square_propose_l2(n, c, h, h, x->h, best->h, idx, 1.0, v->s, v->vh, v->vw, v->vh2, v->vw2, 7,
                                  5 + (uint32_t)i, cand->h);
        report_pair(b, i ? "square L2 proposal, corner windows" : "square L2 proposal, shifted windows", cand);
    }
    return RCL_OK;
}

/* The stripe start, a proposal, and the acceptance (first, then of better and worse margins).
 * v: n c h. */
static rcl_status check_square(rcl_op_run *r, const rcl_op_shape *sh) {
    int n = sh->v[0], c = sh->v[1], h = sh->v[2], side = h / 2 > 0 ? h / 2 : 1;
    int xs[4] = {n, c, h, h}, ns[1] = {n};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%dx%dx%dx%d", n, c, h, h);
    int *idx = malloc((size_t)n * sizeof *idx), *acc = malloc((size_t)n * sizeof *acc);
    int *acc_ref = malloc((size_t)n * sizeof *acc_ref);
    pair *x = make(&b, 4, xs, 1, &st), *best = make(&b, 4, xs, 0, &st), *cand = make(&b, 4, xs, 0, &st);
    pair *nm = make(&b, 1, ns, 1, &st), *mm = make(&b, 1, ns, 0, &st);
    cl_mem index = ints(&b, NULL, n, &st), accept = ints(&b, NULL, n, &st);
    if (st || !idx || !acc || !acc_ref) {
        st = st ? st : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in an op check");
        goto done;
    }
    for (int i = 0; i < n; i++)
        idx[i] = 40 + 3 * i;
    if ((st = rcl_ibuf_write(&b.ints[0], idx, (size_t)n)) || (st = put_pixels(x)))
        goto done;
    if ((st = rcl_square_init(r->d, &x->t, index, 8 / 255.0f, 7, 1, &best->t)) || (st = fetch(best)))
        goto done;
    rcl_ref_square_init(n, c, h, h, x->h, idx, 8 / 255.0f, 7, 1, best->h);
    report_pair(&b, "square start", best);
    sync_host(best);
    if ((st = rcl_square_propose(r->d, &x->t, &best->t, index, 8 / 255.0f, h - side, 0, side, 7, 2, &cand->t)) ||
        (st = fetch(cand)))
        goto done;
    rcl_ref_square_propose(n, c, h, h, x->h, best->h, idx, 8 / 255.0f, h - side, 0, side, 7, 2, cand->h);
    report_pair(&b, "square proposal", cand);
    if ((st = check_square_l2(&b, x, best, cand, index, idx)))
        goto done;
    for (int first = 1; first >= 0; first--) {
        if ((st = rcl_square_accept(r->d, &nm->t, first, &mm->t, accept)))
            goto done;
        rcl_ref_square_accept(n, nm->h, first, mm->h, acc_ref);
        for (int i = 0; i < n; i++) /* lower, higher and negative margins next */
            nm->h[i] += i % 3 == 0 ? 0.3 : (i % 3 == 1 ? -0.3 : -5);
        if ((st = put(nm)))
            goto done;
    }
    if ((st = fetch(mm)) || (st = read_ints(&b, accept, acc, n)))
        goto done;
    report_pair(&b, "square best margin", mm);
    report_ints(&b, "square accept", acc, acc_ref, n);
done:
    free(idx), free(acc), free(acc_ref);
    bag_free(&b);
    return st;
}

/* FAB's step and tracking from the same start in both norms (L-inf, then L2), each against
 * its reference; x1 and dist hold the start on the host. */
static rcl_status check_fab_norms(bag *b, pair *x0, pair *x1, pair *g, pair *rl, pair *best, pair *dist,
                                  pair **scr, cl_mem order, cl_mem correct, const float *std) {
    int n = x0->t.shape[0], c = x0->t.shape[1], hw = x0->t.shape[2] * x0->t.shape[3], per = c * hw;
    double *start = malloc((size_t)(n * per + n) * sizeof *start);
    int *corr = malloc((size_t)n * sizeof *corr);
    rcl_status st = start && corr ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in an op check");
    for (int i = 0; i < n; i++)
        corr[i] = i % 2;
    if (!st) {
        memcpy(start, x1->h, (size_t)n * per * sizeof *start);
        memcpy(start + (size_t)n * per, dist->h, (size_t)n * sizeof *start);
        st = rcl_ibuf_write(&b->ints[2], corr, (size_t)n);
    }
    rcl_fab_scratch sc = {scr[0]->t, scr[1]->t, scr[2]->t, scr[3]->t, scr[4]->t, order};
    for (int l2 = 0; l2 < 2 && !st; l2++) {
        memcpy(x1->h, start, (size_t)n * per * sizeof *start);
        memcpy(dist->h, start + (size_t)n * per, (size_t)n * sizeof *start);
        memcpy(best->h, x0->h, (size_t)n * per * sizeof *start);
        if ((st = put(x1)) || (st = put(dist)) || (st = put(best)) ||
            (st = rcl_fab_step(b->r->d, &x0->t, &g->t, &rl->t, std, 1.05f, 0.1f, l2, &sc, &x1->t)) ||
            (st = fetch(x1)))
            break;
        rcl_ref_fab_step(n, c, hw, x0->h, g->h, rl->h, std, 1.05, 0.1, l2, x1->h);
        report_pair(b, l2 ? "fab step l2" : "fab step", x1);
        sync_host(x1);
        if ((st = rcl_fab_track(b->r->d, &x0->t, correct, 0.9f, l2, &x1->t, &best->t, &dist->t)) ||
            (st = fetch(x1)) || (st = fetch(best)) || (st = fetch(dist)))
            break;
        rcl_ref_fab_track(n, per, x0->h, corr, 0.9, l2, x1->h, best->h, dist->h);
        report_pair(b, l2 ? "fab track point l2" : "fab track point", x1);
        report_pair(b, l2 ? "fab track best l2" : "fab track best", best);
        report_pair(b, l2 ? "fab track distance l2" : "fab track distance", dist);
    }
    free(start), free(corr);
    return st;
}

/* FAB-T's difference, a step (rows whose projection is reached before any pixel saturates,
 * after some do, and not at all: |f| from tiny to huge; pixels at 0 and 1; zero gradients) and
 * the tracking of the closest adversarial point. v: n c h k. */
static rcl_status check_fab(rcl_op_run *r, const rcl_op_shape *sh) {
    int n = sh->v[0], c = sh->v[1], hw = sh->v[2], k = sh->v[3], per = c * hw * hw;
    int xs[4] = {n, c, hw, hw}, ls[2] = {n, k}, ns[1] = {n};
    static const float std[3] = {0.2f, 0.25f, 0.3f};
    rcl_status st = RCL_OK;
    bag b = {.r = r};
    snprintf(b.shape, sizeof b.shape, "%dx%dx%dx%d, %d classes", n, c, hw, hw, k);
    int *lab = random_labels(&b, n, k), *tgt = malloc((size_t)n * sizeof *tgt);
    int *corr = malloc((size_t)n * sizeof *corr), *corr_ref = malloc((size_t)n * sizeof *corr_ref);
    pair *x0 = make(&b, 4, xs, 1, &st), *x1 = make(&b, 4, xs, 1, &st), *g = make(&b, 4, xs, 1, &st);
    pair *best = make(&b, 4, xs, 1, &st), *rl = make(&b, 1, ns, 1, &st), *dist = make(&b, 1, ns, 1, &st);
    pair *lg = make(&b, 2, ls, 1, &st), *dl = make(&b, 2, ls, 0, &st), *diff = make(&b, 1, ns, 0, &st);
    pair *scr[5] = {make(&b, 4, xs, 0, &st), make(&b, 4, xs, 0, &st), make(&b, 4, xs, 0, &st),
                    make(&b, 4, xs, 0, &st), make(&b, 4, xs, 0, &st)};
    cl_mem labels = ints(&b, NULL, n, &st), target = ints(&b, NULL, n, &st), correct = ints(&b, NULL, n, &st);
    cl_mem order = ints(&b, NULL, n * per, &st);
    if (st || !lab || !tgt || !corr || !corr_ref) {
        st = st ? st : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in an op check");
        goto done;
    }
    static const double scale[4] = {0.002, 0.3, 3, 300};
    for (int i = 0; i < n; i++) {
        tgt[i] = (lab[i] + 1 + i % (k - 1)) % k;
        rl->h[i] *= scale[i % 4];
        dist->h[i] = i % 3 ? 1e10 : 0.0; /* a row already closer keeps its best point */
    }
    for (int i = 0; i < n * per; i++) {
        x1->h[i] = 0.5 + 0.4 * x1->h[i];
        g->h[i] = i % 5 == 0 ? 0 : g->h[i];
    }
    if ((st = rcl_ibuf_write(&b.ints[0], lab, (size_t)n)) || (st = rcl_ibuf_write(&b.ints[1], tgt, (size_t)n)) ||
        (st = put_pixels(x0)) || (st = put(x1)) || (st = put(g)) || (st = put(rl)) || (st = put(dist)))
        goto done;
    if ((st = rcl_fab_diff(r->d, &lg->t, labels, target, &dl->t, &diff->t, correct)) || (st = fetch(dl)) ||
        (st = fetch(diff)) || (st = read_ints(&b, correct, corr, n)))
        goto done;
    rcl_ref_fab_diff(n, k, lg->h, lab, tgt, dl->h, diff->h, corr_ref);
    report_pair(&b, "fab difference", diff);
    report_pair(&b, "fab difference dlogits", dl);
    report_ints(&b, "fab difference correct", corr, corr_ref, n);
    if ((st = check_fab_norms(&b, x0, x1, g, rl, best, dist, scr, order, correct, std)))
        goto done;
done:
    free(lab), free(tgt), free(corr), free(corr_ref);
    bag_free(&b);
    return st;
}

/* ---------------------------------------------------------------- the table */

const rcl_op_entry rcl_op_table[] = {
    {"conv2d_gemm", "conv2d_gemm.cl", "conv_im2col conv_col2im conv_cn_to_nchw conv_nchw_to_cn",
     "ops/conv2d_gemm.c", "ops/conv2d_ref.c", "ops/conv2d.c conv_setup", 1,
     {{{2, 3, 9, 16, 3, 1, 1}, 0}, {{3, 16, 8, 32, 3, 2, 1}, 0}, {{2, 32, 8, 64, 1, 2, 0}, 0},
      {{2, 24, 7, 40, 1, 1, 0}, 0}, {{1, 160, 16, 160, 3, 1, 1}, 1}},
     check_conv_gemm},
    {"conv2d_direct", "tuned/conv2d_direct.cl", "conv_direct_fwd conv_direct_dx conv_direct_dw",
     "ops/conv2d_direct.c", "ops/conv2d_ref.c", "ops/conv2d.c conv_setup", 1,
     {{{2, 3, 9, 16, 3, 1, 1}, 0}, {{3, 16, 8, 32, 3, 2, 1}, 0}, {{2, 32, 8, 64, 1, 2, 0}, 0},
      {{2, 24, 7, 40, 1, 1, 0}, 0}, {{1, 160, 16, 160, 3, 1, 1}, 1}},
     check_conv_direct},
    {"conv2d_chan", "tuned/conv2d_chan.cl", "conv_chan_fwd conv_chan_dw conv_chan_dx2", "ops/conv2d_chan.c",
     "ops/conv2d_ref.c", "ops/conv2d.c conv_setup", 1,
     {{{2, 3, 9, 16, 3, 1, 1}, 0}, {{3, 16, 8, 32, 3, 2, 1}, 0}, {{2, 32, 8, 64, 1, 2, 0}, 0},
      {{2, 24, 7, 40, 1, 1, 0}, 0}, {{1, 160, 16, 160, 3, 1, 1}, 1}},
     check_conv_chan},
    {"conv2d_local", "tuned/conv2d_local.cl", "conv_local_fwd conv_local_dx conv_local_dw",
     "ops/conv2d_local.c", "ops/conv2d_ref.c", "ops/conv2d.c conv_setup", 0,
     {{{2, 3, 9, 16, 3, 1, 1}, 0}, {{3, 16, 8, 32, 3, 2, 1}, 0}, {{2, 32, 8, 64, 1, 2, 0}, 0},
      {{2, 24, 7, 40, 1, 1, 0}, 0}, {{1, 160, 16, 160, 3, 1, 1}, 1}},
     check_conv_local},
    {"conv2d_layout", "conv2d_layout.cl", "conv_pad conv_pack conv_block conv_dw_reduce",
     "ops/conv2d_layout.c", "ops/conv2d_layout_ref.c", "ops/conv2d.c conv_setup", 0,
     {{{2, 5, 6, 7, 4}, 0}, {{1, 17, 3, 9, 16}, 0}}, check_conv_layout},
    {"batchnorm", "batchnorm.cl",
     "bn_fwd_train bn_fwd_train_rows bn_bwd bn_bwd_rows bn_fwd_eval bn_stats bn_fwd_apply bn_bwd_sums bn_bwd_apply",
     "ops/batchnorm.c", "ops/batchnorm_ref.c", "ops/batchnorm.c dims vec like check_backward", 0,
     {{{4, 16, 7}, 0}, {{8, 64, 8}, 1}, {{3, 5, 5}, 0}}, check_bn},
    {"batchnorm_eval", "batchnorm_eval.cl", "bn_eval_bwd", "ops/batchnorm_eval.c", "ops/batchnorm_eval_ref.c",
     "ops/batchnorm_eval.c vec like", 0, {{{3, 16, 6}, 0}}, check_bn_eval},
    {"pool", "pool.cl", "pool_avg_fwd pool_avg_bwd", "ops/pool.c", "ops/pool_ref.c", "ops/pool.c pool_dims", 0,
     {{{5, 32, 8}, 0}, {{3, 5, 7}, 0}}, check_pool},
    {"linear", "linear.cl", "loss_bias_add loss_col_sum", "ops/linear.c", "ops/linear_ref.c",
     "ops/linear.c linear_dims", 1, {{{5, 32, 10}, 0}, {{7, 13, 5}, 0}}, check_linear},
    {"loss", "loss.cl", "loss_xent_fwd loss_xent_bwd loss_count_correct", "ops/loss.c", "ops/loss_ref.c",
     "ops/loss.c xent_args", 0, {{{5, 10}, 0}, {{37, 10}, 0}, {{300, 100}, 1}}, check_loss},
    {"corrected_loss", "corrected_loss.cl", "corrected_loss_fwd corrected_loss_bwd", "ops/corrected_loss.c",
     "ops/corrected_loss_ref.c", "ops/corrected_loss.c check_args", 0, {{{37, 10}, 0}}, check_corrected_loss},
    {"elementwise", "elementwise.cl", "ew_relu_fwd ew_relu_bwd ew_add ew_axpy ew_dropout", "ops/elementwise.c",
     "ops/elementwise_ref.c", "ops/elementwise.c same_shape present", 0, {{{10007}, 0}, {{1}, 0}}, check_elementwise},
    {"sgd", "sgd.cl", "ew_sgd", "ops/sgd.c", "ops/sgd_ref.c", "ops/sgd.c like", 0, {{{10007}, 0}},
     check_sgd},
    {"finite", "finite.cl", "finite_check", "ops/finite.c", NULL, "ops/finite.c rcl_check_finite", 0,
     {{{18, 1000}, 0}, {{3, 1}, 0}}, check_finite},
    {"attack", "attack.cl",
     "attack_to_pixels attack_to_network attack_start attack_step attack_loss attack_keep_worst "
     "attack_keep_worst_rows attack_row_stats attack_copy_rows",
     "ops/attack.c", "ops/attack_ref.c", "ops/attack.c image like channels", 0, {{{4, 3, 5, 10}, 0}, {{3, 1, 7, 4}, 0}},
     check_attack},
    {"apgd", "apgd.cl", "apgd_start apgd_step apgd_step_l2 apgd_row_l2 apgd_target apgd_dlr apgd_track apgd_checkpoint",
     "ops/apgd.c", "ops/apgd_ref.c", "ops/apgd.c image rows step_launch logits_of state_of", 0,
     {{{4, 3, 5, 10}, 0}, {{3, 1, 7, 4}, 0}}, check_apgd},
    {"square", "square.cl", "square_init square_propose square_init_l2 square_propose_l2 square_accept", "ops/square.c",
     "ops/square_ref.c",
     "ops/square.c images fits", 0, {{{4, 3, 5}, 0}, {{3, 1, 8}, 0}, {{2, 2, 12}, 0}, {{2, 1, 28}, 0}},
     check_square},
    {"fab", "fab.cl", "fab_diff fab_step fab_track", "ops/fab.c", "ops/fab_ref.c", "ops/fab.c images rows", 0,
     {{{8, 3, 5, 10}, 0}, {{3, 1, 7, 4}, 0}}, check_fab},
    {"tensor", "tensor.cl", "tensor_fill", "core/tensor.c", NULL, "core/tensor.c rcl_tensor_fill", 0,
     {{{1000}, 0}}, check_fill},
};
const int rcl_op_count = (int)(sizeof rcl_op_table / sizeof rcl_op_table[0]);

const rcl_op_entry *rcl_op_find(const char *name) {
    for (int i = 0; i < rcl_op_count; i++)
        if (strcmp(rcl_op_table[i].name, name) == 0)
            return &rcl_op_table[i];
    return NULL;
}

static int shape_set(const rcl_op_shape *s) {
    for (int i = 0; i < 8; i++)
        if (s->v[i])
            return 1;
    return 0;
}

rcl_status rcl_op_run_entry(rcl_op_run *r, const rcl_op_entry *e, int small) {
    for (int i = 0; i < RCL_OP_MAX_SHAPES && shape_set(&e->shapes[i]); i++)
        if (!(small && e->shapes[i].big))
            RCL_TRY(e->check(r, &e->shapes[i]));
    return RCL_OK;
}
