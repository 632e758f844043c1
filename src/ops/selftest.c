#include "robustcl/selftest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "core/fileio.h"
#include "ops/ref.h"
#include "robustcl/rng.h"
#include "robustcl/tensor.h"

#define TOL 1e-4

typedef struct {
    rcl_device *d;
    rcl_selftest_row *rows;
    int n, cap, failed;
    rcl_rng rng;
} st_ctx;

static void record(st_ctx *c, const char *op, const char *shape, const float *got, const double *want, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double e = got[i] - want[i];
        num += e * e;
        den += want[i] * want[i];
    }
    double rel = den > 0 ? sqrt(num / den) : sqrt(num);
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 32;
        rcl_selftest_row *r = realloc(c->rows, (size_t)cap * sizeof *r);
        if (!r)
            return;
        c->rows = r;
        c->cap = cap;
    }
    rcl_selftest_row *r = &c->rows[c->n++];
    snprintf(r->op, sizeof r->op, "%s", op);
    snprintf(r->shape, sizeof r->shape, "%s", shape);
    r->rel_err = rel;
    r->pass = rel <= TOL && !isnan(rel);
    c->failed += !r->pass;
}

/* A device tensor and its double twin, filled with random values in [-1, 1]. */
typedef struct {
    rcl_tensor t;
    double *h;
    float *f;
} pair;

static rcl_status pair_make(st_ctx *c, pair *p, int ndim, const int *shape, int random) {
    memset(p, 0, sizeof *p);
    RCL_TRY(rcl_tensor_create_shape(c->d, &p->t, "selftest", ndim, shape));
    p->h = calloc(p->t.n, sizeof *p->h);
    p->f = calloc(p->t.n, sizeof *p->f);
    if (!p->h || !p->f)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in selftest");
    for (size_t i = 0; i < p->t.n && random; i++) {
        p->f[i] = (float)(2 * rcl_rng_uniform(&c->rng) - 1);
        p->h[i] = p->f[i];
    }
    return random ? rcl_tensor_upload(&p->t, p->f) : RCL_OK;
}

static void pair_free(pair *p) {
    rcl_tensor_release(&p->t);
    free(p->h);
    free(p->f);
}

static rcl_status fetch(pair *p) { return rcl_tensor_download(&p->t, p->f); }

/* One convolution with candidate algorithm `algo` forced for the passes it implements (gemm,
 * already checked, for the others: nothing is measured here); only algo's passes are
 * recorded, named "conv2d forward (direct-8x8)" and so on. */
static rcl_status check_conv(st_ctx *c, int algo, int n, int cin, int h, int cout, int k, int stride,
                             int pad) {
    rcl_conv_shape s = {n, cin, h, h, cout, k, k, stride, pad};
    const char *name = rcl_conv_candidate_name(algo);
    char policy[128];
    int len = 0;
    for (int p = 0; p < RCL_CONV_PASSES; p++)
        len += snprintf(policy + len, sizeof policy - (size_t)len, "%s%s=%s", p ? "," : "",
                        rcl_conv_pass_name((rcl_conv_pass)p),
                        rcl_conv_candidate_has_pass(algo, (rcl_conv_pass)p) ? name : "gemm");
    RCL_TRY(rcl_conv_set_policy(c->d, policy));
    int ho = rcl_conv_out_h(&s);
    pair x, w, y, dy, dx, dw;
    int xs[4] = {n, cin, h, h}, ws[4] = {cout, cin, k, k}, ys[4] = {n, cout, ho, ho};
    rcl_status st;
    if ((st = pair_make(c, &x, 4, xs, 1)) || (st = pair_make(c, &w, 4, ws, 1)) || (st = pair_make(c, &y, 4, ys, 0)) ||
        (st = pair_make(c, &dy, 4, ys, 1)) || (st = pair_make(c, &dx, 4, xs, 0)) || (st = pair_make(c, &dw, 4, ws, 0)))
        goto done;
    if ((st = rcl_conv2d_forward(c->d, &s, &x.t, &w.t, &y.t)) ||
        (st = rcl_conv2d_backward(c->d, &s, &x.t, &w.t, &dy.t, &dx.t, &dw.t)) || (st = fetch(&y)) ||
        (st = fetch(&dx)) || (st = fetch(&dw)))
        goto done;
    rcl_ref_conv2d_forward(&s, x.h, w.h, y.h);
    rcl_ref_conv2d_backward(&s, x.h, w.h, dy.h, dx.h, dw.h);
    char shape[48], op[48];
    snprintf(shape, sizeof shape, "%dx%dx%d k%d s%d -> %d", n, cin, h, k, stride, cout);
    static const char *const parts[RCL_CONV_PASSES] = {"forward", "backward dx", "backward dw"};
    pair *outs[RCL_CONV_PASSES] = {&y, &dx, &dw};
    for (int p = 0; p < RCL_CONV_PASSES; p++)
        if (rcl_conv_candidate_has_pass(algo, (rcl_conv_pass)p)) {
            snprintf(op, sizeof op, "conv2d %s (%s)", parts[p], name);
            record(c, op, shape, outs[p]->f, outs[p]->h, outs[p]->t.n);
        }
done:
    pair_free(&x), pair_free(&w), pair_free(&y), pair_free(&dy), pair_free(&dx), pair_free(&dw);
    return st;
}

static rcl_status check_bn(st_ctx *c, int n, int ch, int h) {
    int xs[4] = {n, ch, h, h}, cs[1] = {ch};
    pair x, g, b, rm, rv, y, dy, dx, dg, db, sm, si;
    rcl_status st;
    if ((st = pair_make(c, &x, 4, xs, 1)) || (st = pair_make(c, &g, 1, cs, 1)) || (st = pair_make(c, &b, 1, cs, 1)) ||
        (st = pair_make(c, &rm, 1, cs, 1)) || (st = pair_make(c, &rv, 1, cs, 0)) || (st = pair_make(c, &y, 4, xs, 0)) ||
        (st = pair_make(c, &dy, 4, xs, 1)) || (st = pair_make(c, &dx, 4, xs, 0)) || (st = pair_make(c, &dg, 1, cs, 0)) ||
        (st = pair_make(c, &db, 1, cs, 0)) || (st = pair_make(c, &sm, 1, cs, 0)) || (st = pair_make(c, &si, 1, cs, 0)))
        goto done;
    for (int i = 0; i < ch; i++)
        rv.f[i] = 1.0f, rv.h[i] = 1.0;
    if ((st = rcl_tensor_upload(&rv.t, rv.f)) ||
        (st = rcl_batchnorm_forward(c->d, RCL_BN_TRAIN, 1, &x.t, &g.t, &b.t, &rm.t, &rv.t, 0.1f, 1e-5f, &y.t, &sm.t,
                                    &si.t)) ||
        (st = rcl_batchnorm_backward(c->d, 1, &x.t, &y.t, &dy.t, &g.t, &sm.t, &si.t, &dx.t, &dg.t, &db.t)) ||
        (st = fetch(&y)) || (st = fetch(&dx)) || (st = fetch(&dg)) || (st = fetch(&db)) || (st = fetch(&rv)))
        goto done;
    rcl_ref_batchnorm_forward(RCL_BN_TRAIN, 1, n, ch, h * h, x.h, g.h, b.h, rm.h, rv.h, 0.1, 1e-5, y.h, sm.h, si.h);
    rcl_ref_batchnorm_backward(1, n, ch, h * h, x.h, y.h, dy.h, g.h, sm.h, si.h, dx.h, dg.h, db.h);
    char shape[48];
    snprintf(shape, sizeof shape, "%dx%dx%dx%d", n, ch, h, h);
    record(c, "batchnorm+relu forward", shape, y.f, y.h, y.t.n);
    record(c, "batchnorm running var", shape, rv.f, rv.h, rv.t.n);
    record(c, "batchnorm+relu backward dx", shape, dx.f, dx.h, dx.t.n);
    record(c, "batchnorm backward dgamma", shape, dg.f, dg.h, dg.t.n);
    record(c, "batchnorm backward dbeta", shape, db.f, db.h, db.t.n);
done:
    pair_free(&x), pair_free(&g), pair_free(&b), pair_free(&rm), pair_free(&rv), pair_free(&y);
    pair_free(&dy), pair_free(&dx), pair_free(&dg), pair_free(&db), pair_free(&sm), pair_free(&si);
    return st;
}

static rcl_status check_head(st_ctx *c, int n, int ch, int h, int k) {
    /* avgpool -> linear -> softmax cross-entropy, forward and backward */
    int xs[4] = {n, ch, h, h}, fs[2] = {n, ch}, ws[2] = {k, ch}, bs[1] = {k}, ls[2] = {n, k}, one[1] = {1};
    pair x, f, w, b, lg, pr, loss, dl, df, dw, db, dx;
    cl_mem labels = NULL;
    int *lab = malloc((size_t)n * sizeof *lab);
    rcl_status st;
    if (!lab)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in selftest");
    for (int i = 0; i < n; i++)
        lab[i] = (int)rcl_rng_below(&c->rng, (uint64_t)k);
    if ((st = pair_make(c, &x, 4, xs, 1)) || (st = pair_make(c, &f, 2, fs, 0)) || (st = pair_make(c, &w, 2, ws, 1)) ||
        (st = pair_make(c, &b, 1, bs, 1)) || (st = pair_make(c, &lg, 2, ls, 0)) || (st = pair_make(c, &pr, 2, ls, 0)) ||
        (st = pair_make(c, &loss, 1, one, 0)) || (st = pair_make(c, &dl, 2, ls, 0)) || (st = pair_make(c, &df, 2, fs, 0)) ||
        (st = pair_make(c, &dw, 2, ws, 0)) || (st = pair_make(c, &db, 1, bs, 0)) || (st = pair_make(c, &dx, 4, xs, 0)))
        goto done;
    if ((st = rcl_device_alloc(c->d, (size_t)n * sizeof(cl_int), "selftest labels", &labels)))
        goto done;
    clEnqueueWriteBuffer(rcl_device_queue(c->d), labels, CL_TRUE, 0, (size_t)n * sizeof(cl_int), lab, 0, NULL, NULL);
    if ((st = rcl_avgpool_forward(c->d, &x.t, &f.t)) || (st = rcl_linear_forward(c->d, &f.t, &w.t, &b.t, &lg.t)) ||
        (st = rcl_softmax_xent_forward(c->d, &lg.t, labels, NULL, NULL, &pr.t, &loss.t)) ||
        (st = rcl_softmax_xent_backward(c->d, &pr.t, labels, NULL, NULL, &dl.t)) ||
        (st = rcl_linear_backward(c->d, &f.t, &w.t, &dl.t, &df.t, &dw.t, &db.t)) ||
        (st = rcl_avgpool_backward(c->d, &df.t, &dx.t)) || (st = fetch(&lg)) || (st = fetch(&loss)) ||
        (st = fetch(&dw)) || (st = fetch(&db)) || (st = fetch(&dx)))
        goto done;
    rcl_ref_avgpool_forward(n, ch, h * h, x.h, f.h);
    rcl_ref_linear_forward(n, ch, k, f.h, w.h, b.h, lg.h);
    loss.h[0] = rcl_ref_softmax_xent_forward(n, k, lg.h, lab, NULL, NULL, pr.h);
    rcl_ref_softmax_xent_backward(n, k, pr.h, lab, NULL, NULL, dl.h);
    rcl_ref_linear_backward(n, ch, k, f.h, w.h, dl.h, df.h, dw.h, db.h);
    rcl_ref_avgpool_backward(n, ch, h * h, df.h, dx.h);
    char shape[48];
    snprintf(shape, sizeof shape, "%dx%dx%dx%d -> %d", n, ch, h, h, k);
    record(c, "avgpool+linear forward", shape, lg.f, lg.h, lg.t.n);
    record(c, "softmax cross-entropy", shape, loss.f, loss.h, 1);
    record(c, "linear backward dw", shape, dw.f, dw.h, dw.t.n);
    record(c, "linear backward db", shape, db.f, db.h, db.t.n);
    record(c, "head backward dx", shape, dx.f, dx.h, dx.t.n);
done:
    rcl_device_free(c->d, labels, (size_t)n * sizeof(cl_int));
    free(lab);
    pair_free(&x), pair_free(&f), pair_free(&w), pair_free(&b), pair_free(&lg), pair_free(&pr);
    pair_free(&loss), pair_free(&dl), pair_free(&df), pair_free(&dw), pair_free(&db), pair_free(&dx);
    return st;
}

/* Eval-mode BN backward (attacks on trained models) with ReLU. */
static rcl_status check_bn_eval(st_ctx *c, int n, int ch, int h) {
    int xs[4] = {n, ch, h, h}, cs[1] = {ch};
    pair x, y, dy, g, rm, rv, dx, dg, db;
    rcl_status st;
    if ((st = pair_make(c, &x, 4, xs, 1)) || (st = pair_make(c, &y, 4, xs, 1)) || (st = pair_make(c, &dy, 4, xs, 1)) ||
        (st = pair_make(c, &g, 1, cs, 1)) || (st = pair_make(c, &rm, 1, cs, 1)) || (st = pair_make(c, &rv, 1, cs, 0)) ||
        (st = pair_make(c, &dx, 4, xs, 0)) || (st = pair_make(c, &dg, 1, cs, 0)) || (st = pair_make(c, &db, 1, cs, 0)))
        goto done;
    for (int i = 0; i < ch; i++)
        rv.f[i] = 0.5f + (float)i / ch, rv.h[i] = rv.f[i];
    if ((st = rcl_tensor_upload(&rv.t, rv.f)) ||
        (st = rcl_batchnorm_backward_eval(c->d, 1, &x.t, &y.t, &dy.t, &g.t, &rm.t, &rv.t, 1e-5f, &dx.t, &dg.t, &db.t)) ||
        (st = fetch(&dx)) || (st = fetch(&dg)) || (st = fetch(&db)))
        goto done;
    rcl_ref_batchnorm_backward_eval(1, n, ch, h * h, x.h, y.h, dy.h, g.h, rm.h, rv.h, 1e-5f, dx.h, dg.h, db.h);
    char shape[48];
    snprintf(shape, sizeof shape, "%dx%dx%dx%d", n, ch, h, h);
    record(c, "batchnorm eval backward dx", shape, dx.f, dx.h, dx.t.n);
    record(c, "batchnorm eval backward dgamma", shape, dg.f, dg.h, dg.t.n);
    record(c, "batchnorm eval backward dbeta", shape, db.f, db.h, db.t.n);
done:
    pair_free(&x), pair_free(&y), pair_free(&dy), pair_free(&g), pair_free(&rm), pair_free(&rv);
    pair_free(&dx), pair_free(&dg), pair_free(&db);
    return st;
}

/* Forward/GLC corrected loss with a mix of trusted rows. */
static rcl_status check_corrected_loss(st_ctx *c, int n, int k) {
    int ls[2] = {n, k}, cs[2] = {k, k}, one[1] = {1};
    pair lg, C, pr, loss, dl;
    cl_mem labels = NULL, trusted = NULL;
    int *lab = malloc((size_t)n * sizeof *lab), *tr = malloc((size_t)n * sizeof *tr);
    rcl_status st = lab && tr ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in selftest");
    for (int i = 0; st == RCL_OK && i < n; i++)
        lab[i] = (int)rcl_rng_below(&c->rng, (uint64_t)k), tr[i] = i % 3 == 0;
    if (st || (st = pair_make(c, &lg, 2, ls, 1)) || (st = pair_make(c, &C, 2, cs, 0)) || (st = pair_make(c, &pr, 2, ls, 0)) ||
        (st = pair_make(c, &loss, 1, one, 0)) || (st = pair_make(c, &dl, 2, ls, 0)))
        goto done;
    for (int i = 0; i < k * k; i++) /* uniform corruption, s = 0.4 */
        C.f[i] = (float)((i / k == i % k ? 0.6 : 0.0) + 0.4 / k), C.h[i] = C.f[i];
    if ((st = rcl_tensor_upload(&C.t, C.f)) ||
        (st = rcl_device_alloc(c->d, (size_t)n * sizeof(cl_int), "selftest labels", &labels)) ||
        (st = rcl_device_alloc(c->d, (size_t)n * sizeof(cl_int), "selftest trusted", &trusted)))
        goto done;
    clEnqueueWriteBuffer(rcl_device_queue(c->d), labels, CL_TRUE, 0, (size_t)n * sizeof(cl_int), lab, 0, NULL, NULL);
    clEnqueueWriteBuffer(rcl_device_queue(c->d), trusted, CL_TRUE, 0, (size_t)n * sizeof(cl_int), tr, 0, NULL, NULL);
    if ((st = rcl_corrected_loss_forward(c->d, &lg.t, labels, trusted, &C.t, &pr.t, &loss.t)) ||
        (st = rcl_corrected_loss_backward(c->d, &pr.t, labels, trusted, &C.t, &dl.t)) || (st = fetch(&loss)) ||
        (st = fetch(&dl)))
        goto done;
    loss.h[0] = rcl_ref_corrected_loss_forward(n, k, lg.h, lab, tr, C.h, pr.h);
    rcl_ref_corrected_loss_backward(n, k, pr.h, lab, tr, C.h, dl.h);
    char shape[48];
    snprintf(shape, sizeof shape, "%dx%d", n, k);
    record(c, "corrected loss", shape, loss.f, loss.h, 1);
    record(c, "corrected loss backward", shape, dl.f, dl.h, dl.t.n);
done:
    rcl_device_free(c->d, labels, (size_t)n * sizeof(cl_int));
    rcl_device_free(c->d, trusted, (size_t)n * sizeof(cl_int));
    free(lab), free(tr);
    pair_free(&lg), pair_free(&C), pair_free(&pr), pair_free(&loss), pair_free(&dl);
    return st;
}

static rcl_status check_elementwise(st_ctx *c, int n) {
    int s1[1] = {n};
    pair x, y, g, buf, w;
    rcl_status st;
    if ((st = pair_make(c, &x, 1, s1, 1)) || (st = pair_make(c, &y, 1, s1, 0)) || (st = pair_make(c, &g, 1, s1, 1)) ||
        (st = pair_make(c, &buf, 1, s1, 1)) || (st = pair_make(c, &w, 1, s1, 1)))
        goto done;
    char shape[48];
    snprintf(shape, sizeof shape, "%d", n);
    if ((st = rcl_dropout_forward(c->d, 0.3f, 11, 5, &x.t, &y.t)) || (st = fetch(&y)))
        goto done;
    rcl_ref_dropout_forward((size_t)n, 0.3f, 11, 5, x.h, y.h);
    record(c, "dropout forward", shape, y.f, y.h, (size_t)n);
    if ((st = rcl_sgd_step(c->d, &w.t, &g.t, &buf.t, 0.05f, 0.9f, 5e-4f, 1, 0)) || (st = fetch(&w)))
        goto done;
    rcl_ref_sgd_step((size_t)n, w.h, g.h, buf.h, 0.05f, 0.9f, 5e-4f, 1, 0);
    record(c, "sgd nesterov step", shape, w.f, w.h, (size_t)n);
done:
    pair_free(&x), pair_free(&y), pair_free(&g), pair_free(&buf), pair_free(&w);
    return st;
}

rcl_status rcl_selftest_run(rcl_device *d, rcl_selftest_row **rows, int *count, int *failed) {
    st_ctx c = {d, NULL, 0, 0, 0, rcl_rng_seed(2019)};
    rcl_status s = RCL_OK;
    /* every convolution algorithm on the shapes of a WRN: 3x3 stride 1 and 2, 1x1 shortcuts */
    char policy[160];
    rcl_conv_policy_string(d, policy, sizeof policy);
    for (int a = 0; a < rcl_conv_candidate_count() && !s; a++) {
        rcl_device_notice(d, "self-test: convolutions with %s%s", rcl_conv_candidate_name(a),
                          a ? "" : " (im2col + CLBlast: its first GEMMs compile its kernels, a "
                                   "minute or two on a CPU device)");
        if (!s) s = check_conv(&c, a, 2, 3, 9, 16, 3, 1, 1);
        if (!s) s = check_conv(&c, a, 3, 16, 8, 32, 3, 2, 1);
        if (!s) s = check_conv(&c, a, 2, 32, 8, 64, 1, 2, 0);
        if (!s) s = check_conv(&c, a, 2, 24, 7, 40, 1, 1, 0);
        if (!s) s = check_conv(&c, a, 1, 160, 16, 160, 3, 1, 1);
    }
    rcl_status restored = rcl_conv_set_policy(d, policy);
    if (!s)
        s = restored;
    if (!s) s = check_bn(&c, 4, 16, 7);
    if (!s) s = check_bn(&c, 8, 64, 8);
    if (!s) s = check_head(&c, 5, 32, 8, 10);
    if (!s) s = check_bn_eval(&c, 3, 16, 6);
    if (!s) s = check_corrected_loss(&c, 37, 10);
    if (!s) s = check_elementwise(&c, 10007);
    *rows = c.rows;
    *count = c.n;
    *failed = c.failed;
    return s;
}

static int verdict_path(const rcl_device *d, char *out, size_t cap) {
    char dir[4096];
    if (!rcl_cache_dir(dir, sizeof dir))
        return 0;
    const rcl_device_info *inf = rcl_device_get_info(d);
    uint64_t h = rcl_fnv1a(RCL_FNV_INIT, inf->name, strlen(inf->name));
    h = rcl_fnv1a(h, inf->driver_version, strlen(inf->driver_version));
    h = rcl_fnv1a(h, inf->platform_version, strlen(inf->platform_version));
    snprintf(out, cap, "%s/selftest-%016llx.txt", dir, (unsigned long long)h);
    return 1;
}

int rcl_selftest_cached(const rcl_device *d) {
    char path[4200];
    unsigned char *data;
    size_t n;
    if (!verdict_path(d, path, sizeof path) || rcl_file_read(path, &data, &n) != RCL_OK)
        return -1;
    int v = !strncmp((char *)data, "pass", 4) ? 1 : !strncmp((char *)data, "fail", 4) ? 0 : -1;
    free(data);
    return v;
}

rcl_status rcl_selftest_store(const rcl_device *d, int passed) {
    char path[4200], dir[4096];
    if (!verdict_path(d, path, sizeof path) || !rcl_cache_dir(dir, sizeof dir))
        return RCL_OK;
    RCL_TRY(rcl_mkdirs(dir));
    const char *v = passed ? "pass\n" : "fail\n";
    return rcl_file_write_atomic(path, v, strlen(v));
}

rcl_status rcl_selftest_gate(rcl_device *d, int force) {
    int v = rcl_selftest_cached(d);
    if (v < 0) {
        rcl_selftest_row *rows;
        int n, failed;
        rcl_device_notice(d, "first use of '%s' with this driver: running the self-test",
                          rcl_device_get_info(d)->name);
        RCL_TRY(rcl_selftest_run(d, &rows, &n, &failed));
        free(rows);
        v = failed == 0;
        RCL_TRY(rcl_selftest_store(d, v));
    }
    if (!v && !force)
        return rcl_fail(RCL_ERR_SELFTEST,
                        "'%s' failed its self-test (its driver computes wrong results; see `robustcl selftest`): "
                        "use another device, or --force",
                        rcl_device_get_info(d)->name);
    return RCL_OK;
}
