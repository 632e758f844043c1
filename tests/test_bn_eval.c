/* Eval-mode batch-norm backward: device against the double reference, the reference
 * against finite differences, and a whole WRN differentiated after an eval-mode
 * forward (input and parameter gradients against directional finite differences). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/model.h"
#include "ops/ref.h"
#include "robustcl/tensor.h"

static double *dalloc(size_t n) { return calloc(n, sizeof(double)); }

static void device_vs_ref(rcl_device *d, rcl_rng *r, int n, int c, int hw, int relu) {
    size_t total = (size_t)n * c * hw;
    double *x = dalloc(total), *y = dalloc(total), *dy = dalloc(total), *dx = dalloc(total);
    double *g = dalloc(c), *b = dalloc(c), *rm = dalloc(c), *rv = dalloc(c), *dg = dalloc(c), *db = dalloc(c);
    rcl_fill_uniform(r, x, total, -2, 2);
    rcl_fill_uniform(r, dy, total, -1, 1);
    rcl_fill_uniform(r, g, c, 0.5, 1.5);
    rcl_fill_uniform(r, b, c, -0.5, 0.5);
    rcl_fill_uniform(r, rm, c, -0.5, 0.5);
    rcl_fill_uniform(r, rv, c, 0.2, 2.0);
    float *f = malloc(total * sizeof *f), *out = malloc(total * sizeof *out);
    rcl_tensor tx, ty, tdy, tdx, tg, tb, trm, trv, tdg, tdb;
    CHECK_OK(rcl_tensor_create(d, &tx, "x", 4, n, c, hw, 1));
    CHECK_OK(rcl_tensor_create(d, &ty, "y", 4, n, c, hw, 1));
    CHECK_OK(rcl_tensor_create(d, &tdy, "dy", 4, n, c, hw, 1));
    CHECK_OK(rcl_tensor_create(d, &tdx, "dx", 4, n, c, hw, 1));
    rcl_tensor *vecs[] = {&tg, &tb, &trm, &trv, &tdg, &tdb};
    for (int i = 0; i < 6; i++)
        CHECK_OK(rcl_tensor_create(d, vecs[i], "v", 1, c));
    /* y from the device's own eval forward: the mask the model would use */
    rcl_to_float(x, f, total);
    CHECK_OK(rcl_tensor_upload(&tx, f));
    double *hv[] = {g, b, rm, rv};
    for (int i = 0; i < 4; i++) {
        rcl_to_float(hv[i], f, c);
        CHECK_OK(rcl_tensor_upload(vecs[i], f));
    }
    CHECK_OK(rcl_batchnorm_forward(d, RCL_BN_EVAL, relu, &tx, &tg, &tb, &trm, &trv, 0.1f, 1e-5f, &ty, NULL, NULL));
    CHECK_OK(rcl_tensor_download(&ty, out));
    rcl_to_double(out, y, total);
    rcl_to_float(dy, f, total);
    CHECK_OK(rcl_tensor_upload(&tdy, f));
    CHECK_OK(rcl_batchnorm_backward_eval(d, relu, &tx, &ty, &tdy, &tg, &trm, &trv, 1e-5f, &tdx, &tdg, &tdb));
    double *rx = dalloc(total), *rg = dalloc(c), *rb = dalloc(c);
    /* the reference sees the float-rounded inputs */
    rcl_to_double(f, dy, total);
    for (int i = 0; i < 4; i++) {
        rcl_to_float(hv[i], f, c);
        rcl_to_double(f, hv[i], c);
    }
    rcl_to_float(x, f, total);
    rcl_to_double(f, x, total);
    rcl_ref_batchnorm_backward_eval(relu, n, c, hw, x, y, dy, g, rm, rv, 1e-5, rx, rg, rb);
    char what[96];
    snprintf(what, sizeof what, "bn eval dx n=%d c=%d hw=%d relu=%d", n, c, hw, relu);
    CHECK_OK(rcl_tensor_download(&tdx, out));
    rcl_check_close(what, out, rx, total, 1e-5, 1e-6, 1e-5);
    snprintf(what, sizeof what, "bn eval dgamma n=%d c=%d hw=%d relu=%d", n, c, hw, relu);
    CHECK_OK(rcl_tensor_download(&tdg, out));
    rcl_check_close(what, out, rg, c, 1e-5, 1e-5, 1e-4);
    snprintf(what, sizeof what, "bn eval dbeta n=%d c=%d hw=%d relu=%d", n, c, hw, relu);
    CHECK_OK(rcl_tensor_download(&tdb, out));
    rcl_check_close(what, out, rb, c, 1e-5, 1e-5, 1e-4);
    /* dx may alias dy */
    CHECK_OK(rcl_batchnorm_backward_eval(d, relu, &tx, &ty, &tdy, &tg, &trm, &trv, 1e-5f, &tdy, &tdg, &tdb));
    CHECK_OK(rcl_tensor_download(&tdy, out));
    snprintf(what, sizeof what, "bn eval dx in place n=%d c=%d", n, c);
    rcl_check_close(what, out, rx, total, 1e-5, 1e-6, 1e-5);
    CHECK_FAILS(rcl_batchnorm_backward_eval(d, relu, &tx, &ty, &tdy, &tg, &trm, &trv, 1e-5f, &tx, &tdg, &tdb),
                RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_batchnorm_backward_eval(d, relu, &tx, &ty, &tdy, &tdx, &trm, &trv, 0.0f, &tdx, &tdg, &tdb),
                RCL_ERR_INVALID_ARG);
    rcl_tensor *all[] = {&tx, &ty, &tdy, &tdx, &tg, &tb, &trm, &trv, &tdg, &tdb};
    for (int i = 0; i < 10; i++)
        rcl_tensor_release(all[i]);
    free(x), free(y), free(dy), free(dx), free(g), free(b), free(rm), free(rv), free(dg), free(db);
    free(rx), free(rg), free(rb), free(f), free(out);
}

/* L = sum w*y of the reference eval forward; its gradient by central differences. */
static double ref_loss(int relu, int n, int c, int hw, const double *x, const double *g, const double *b,
                       const double *rm, const double *rv, const double *w) {
    size_t total = (size_t)n * c * hw;
    double *y = dalloc(total), *m2 = dalloc(c), *v2 = dalloc(c), l = 0;
    memcpy(m2, rm, c * sizeof(double));
    memcpy(v2, rv, c * sizeof(double));
    rcl_ref_batchnorm_forward(RCL_BN_EVAL, relu, n, c, hw, x, g, b, m2, v2, 0.1, 1e-5, y, NULL, NULL);
    for (size_t i = 0; i < total; i++)
        l += w[i] * y[i];
    free(y), free(m2), free(v2);
    return l;
}

static void fd_check(rcl_rng *r, int relu) {
    int n = 3, c = 2, hw = 5;
    size_t total = (size_t)n * c * hw;
    double *x = dalloc(total), *w = dalloc(total), *y = dalloc(total), *dx = dalloc(total), *fdx = dalloc(total);
    double g[2], b[2], rm[2], rv[2], dg[2], db[2], fdg[2], fdb[2];
    rcl_fill_uniform(r, x, total, -2, 2);
    rcl_fill_uniform(r, w, total, -1, 1);
    rcl_fill_uniform(r, g, 2, 0.5, 1.5);
    rcl_fill_uniform(r, b, 2, -0.5, 0.5);
    rcl_fill_uniform(r, rm, 2, -0.5, 0.5);
    rcl_fill_uniform(r, rv, 2, 0.2, 2.0);
    double m2[2] = {rm[0], rm[1]}, v2[2] = {rv[0], rv[1]};
    rcl_ref_batchnorm_forward(RCL_BN_EVAL, relu, n, c, hw, x, g, b, m2, v2, 0.1, 1e-5, y, NULL, NULL);
    rcl_ref_batchnorm_backward_eval(relu, n, c, hw, x, y, w, g, rm, rv, 1e-5, dx, dg, db);
    const double h = 1e-6;
    for (size_t i = 0; i < total; i++) {
        double v = x[i];
        x[i] = v + h;
        double lp = ref_loss(relu, n, c, hw, x, g, b, rm, rv, w);
        x[i] = v - h;
        double lm = ref_loss(relu, n, c, hw, x, g, b, rm, rv, w);
        x[i] = v;
        fdx[i] = (lp - lm) / (2 * h);
    }
    for (int ch = 0; ch < 2; ch++) {
        double *ps[2] = {g, b}, *out[2] = {fdg, fdb};
        for (int k = 0; k < 2; k++) {
            double v = ps[k][ch];
            ps[k][ch] = v + h;
            double lp = ref_loss(relu, n, c, hw, x, g, b, rm, rv, w);
            ps[k][ch] = v - h;
            double lm = ref_loss(relu, n, c, hw, x, g, b, rm, rv, w);
            ps[k][ch] = v;
            out[k][ch] = (lp - lm) / (2 * h);
        }
    }
    rcl_check_close_d(relu ? "bn eval dx vs finite differences (relu)" : "bn eval dx vs finite differences", dx, fdx,
                      total, 1e-6, 1e-7, 1e-6);
    rcl_check_close_d("bn eval dgamma vs finite differences", dg, fdg, 2, 1e-6, 1e-7, 1e-6);
    rcl_check_close_d("bn eval dbeta vs finite differences", db, fdb, 2, 1e-6, 1e-7, 1e-6);
    free(x), free(w), free(y), free(dx), free(fdx);
}

/* A WRN with dropout and non-trivial running statistics, eval-mode forward, then
 * backward: the input gradient and parameter gradients against directional central
 * differences of L = sum r*logits computed on a double-precision eval-mode forward
 * composed from the references (the network is piecewise linear, so the differences
 * are exact up to rounding unless a ReLU kink lies within h). */
typedef struct {
    rcl_model *m;
    double **v;
} ref_net;

static double *pv(ref_net *t, const char *name) {
    for (int i = 0; i < rcl_model_param_count(t->m); i++)
        if (!strcmp(rcl_model_param(t->m, i)->name, name))
            return t->v[i];
    fprintf(stderr, "missing parameter %s\n", name);
    abort();
}

static double *bnp(ref_net *t, const char *pre, const char *leaf) {
    char nm[128];
    snprintf(nm, sizeof nm, "%s.%s", pre, leaf);
    return pv(t, nm);
}

static void ref_bn(ref_net *t, const char *pre, int n, int c, int hw, const double *x, double *y) {
    rcl_ref_batchnorm_forward(RCL_BN_EVAL, 1, n, c, hw, x, bnp(t, pre, "weight"), bnp(t, pre, "bias"),
                              bnp(t, pre, "running_mean"), bnp(t, pre, "running_var"), 0.1, 1e-5, y, NULL, NULL);
}

static double ref_eval_loss(ref_net *t, const rcl_wrn_config *c, int n, const double *x, const double *r) {
    int per = (c->depth - 4) / 6, widths[4] = {16, 16 * c->widen, 32 * c->widen, 64 * c->widen};
    int h = c->in_h, w = c->in_w, cin = 16;
    size_t cap = (size_t)n * 64 * c->widen * h * w + (size_t)n * 16 * h * w;
    double *in = dalloc(cap), *a = dalloc(cap), *c1 = dalloc(cap), *o = dalloc(cap), *y = dalloc(cap),
           *tt = dalloc(cap);
    rcl_conv_shape stem = {n, c->in_c, h, w, 16, 3, 3, 1, 1};
    rcl_ref_conv2d_forward(&stem, x, pv(t, "conv1.weight"), in);
    for (int g = 0; g < 3; g++)
        for (int i = 0; i < per; i++) {
            char pre[64], nm[128];
            int cout = widths[g + 1], stride = (i == 0 && g > 0) ? 2 : 1, equal = cin == cout && stride == 1;
            int ho = (h - 1) / stride + 1, wo = (w - 1) / stride + 1;
            snprintf(pre, sizeof pre, "block%d.layer.%d", g + 1, i);
            snprintf(nm, sizeof nm, "%s.bn1", pre);
            ref_bn(t, nm, n, cin, h * w, in, a);
            rcl_conv_shape s1 = {n, cin, h, w, cout, 3, 3, stride, 1};
            snprintf(nm, sizeof nm, "%s.conv1.weight", pre);
            rcl_ref_conv2d_forward(&s1, a, pv(t, nm), c1);
            snprintf(nm, sizeof nm, "%s.bn2", pre);
            ref_bn(t, nm, n, cout, ho * wo, c1, o);
            rcl_conv_shape s2 = {n, cout, ho, wo, cout, 3, 3, 1, 1};
            snprintf(nm, sizeof nm, "%s.conv2.weight", pre);
            rcl_ref_conv2d_forward(&s2, o, pv(t, nm), tt);
            size_t no = (size_t)n * cout * ho * wo;
            if (equal) {
                for (size_t k = 0; k < no; k++)
                    y[k] = in[k] + tt[k];
            } else {
                rcl_conv_shape ss = {n, cin, h, w, cout, 1, 1, stride, 0};
                snprintf(nm, sizeof nm, "%s.convShortcut.weight", pre);
                rcl_ref_conv2d_forward(&ss, a, pv(t, nm), y);
                for (size_t k = 0; k < no; k++)
                    y[k] += tt[k];
            }
            memcpy(in, y, no * sizeof *y);
            cin = cout, h = ho, w = wo;
        }
    ref_bn(t, "bn1", n, cin, h * w, in, a);
    double feat[64 * 8], logits[64];
    rcl_ref_avgpool_forward(n, cin, h * w, a, feat);
    rcl_ref_linear_forward(n, cin, c->num_classes, feat, pv(t, "fc.weight"), pv(t, "fc.bias"), logits);
    double l = 0;
    for (int i = 0; i < n * c->num_classes; i++)
        l += r[i] * logits[i];
    free(in), free(a), free(c1), free(o), free(y), free(tt);
    return l;
}

/* Central difference of the reference loss along v of `target` (n values). */
static double ref_directional(ref_net *t, const rcl_wrn_config *c, int n, double *x, const double *r, double *target,
                              const double *v, size_t count) {
    const double h = 1e-6;
    for (size_t i = 0; i < count; i++)
        target[i] += h * v[i];
    double lp = ref_eval_loss(t, c, n, x, r);
    for (size_t i = 0; i < count; i++)
        target[i] -= 2 * h * v[i];
    double lm = ref_eval_loss(t, c, n, x, r);
    for (size_t i = 0; i < count; i++)
        target[i] += h * v[i];
    return (lp - lm) / (2 * h);
}

static void model_check(rcl_device *d, rcl_rng *r) {
    rcl_wrn_config cfg = {10, 1, 2, 8, 8, 3, 0.3f, 1};
    rcl_model *m;
    CHECK_OK(rcl_model_create(d, &cfg, 4, &m));
    CHECK_OK(rcl_model_init(m, 7));
    int n = 3, k = cfg.num_classes, np = rcl_model_param_count(m);
    size_t total = (size_t)cfg.in_c * cfg.in_h * cfg.in_w * n, maxp = total;
    for (int i = 0; i < np; i++)
        if (rcl_model_param(m, i)->value.n > maxp)
            maxp = rcl_model_param(m, i)->value.n;
    float *buf = malloc(maxp * sizeof *buf);
    double *v = dalloc(maxp);
    ref_net t = {m, calloc(np > 0 ? (size_t)np : 1, sizeof(double *))};
    for (int i = 0; i < np; i++) {
        rcl_param *p = rcl_model_param(m, i);
        const char *leaf = strrchr(p->name, '.') + 1;
        int rmean = !strcmp(leaf, "running_mean"), rvar = !strcmp(leaf, "running_var");
        int bnw = p->value.ndim == 1 && !strcmp(leaf, "weight") && strcmp(p->name, "fc.weight");
        if (rmean || rvar || bnw) { /* BN statistics and scales away from the identity */
            for (size_t j = 0; j < p->value.n; j++)
                buf[j] = (float)(rmean ? 0.2 * (rcl_rng_uniform(r) - 0.5) : 0.5 + rcl_rng_uniform(r));
            CHECK_OK(rcl_tensor_upload(&p->value, buf));
        }
        t.v[i] = dalloc(p->value.n);
        CHECK_OK(rcl_tensor_download(&p->value, buf));
        rcl_to_double(buf, t.v[i], p->value.n);
    }
    rcl_tensor x, dlog, dx;
    CHECK_OK(rcl_tensor_create(d, &x, "x", 4, n, cfg.in_c, cfg.in_h, cfg.in_w));
    CHECK_OK(rcl_tensor_create(d, &dx, "dx", 4, n, cfg.in_c, cfg.in_h, cfg.in_w));
    CHECK_OK(rcl_tensor_create(d, &dlog, "dlogits", 2, n, k));
    float xs[3 * 128], rs[9], gx[3 * 128];
    double xd[3 * 128], rd[9];
    for (size_t i = 0; i < total; i++)
        xs[i] = (float)(2 * rcl_rng_uniform(r) - 1);
    for (int i = 0; i < n * k; i++)
        rs[i] = (float)(2 * rcl_rng_uniform(r) - 1);
    rcl_to_double(xs, xd, total);
    rcl_to_double(rs, rd, (size_t)n * k);
    CHECK_OK(rcl_tensor_upload(&x, xs));
    CHECK_OK(rcl_tensor_upload(&dlog, rs));
    const rcl_tensor *logits;
    CHECK_OK(rcl_model_forward(m, &x, 0, &logits));
    CHECK_OK(rcl_model_backward(m, &dlog, &dx));
    CHECK_OK(rcl_tensor_download(&dx, gx));
    for (int dir = 0; dir < 3; dir++) {
        double dd = 0;
        for (size_t i = 0; i < total; i++) {
            v[i] = 2 * rcl_rng_uniform(r) - 1;
            dd += gx[i] * v[i];
        }
        double fd = ref_directional(&t, &cfg, n, xd, rd, xd, v, total);
        printf("eval-mode input gradient along direction %d: %.6f, reference difference %.6f\n", dir, dd, fd);
        CHECK(fabs(dd - fd) <= 1e-4 * (1 + fabs(fd)), "eval-mode dx: directional derivative %g vs difference %g", dd,
              fd);
    }
    const char *names[] = {"conv1.weight",
                           "block1.layer.0.conv2.weight",
                           "block2.layer.0.convShortcut.weight",
                           "block3.layer.0.bn2.weight",
                           "block1.layer.0.bn1.bias",
                           "bn1.weight",
                           "fc.weight",
                           "fc.bias"};
    for (size_t j = 0; j < sizeof names / sizeof names[0]; j++) {
        rcl_param *p = rcl_model_find(m, names[j]);
        CHECK(p != NULL, "parameter %s exists", names[j]);
        if (!p)
            continue;
        CHECK_OK(rcl_tensor_download(&p->grad, buf));
        double dd = 0;
        for (size_t i = 0; i < p->value.n; i++) {
            v[i] = 2 * rcl_rng_uniform(r) - 1;
            dd += buf[i] * v[i];
        }
        double fd = ref_directional(&t, &cfg, n, xd, rd, pv(&t, names[j]), v, p->value.n);
        printf("eval-mode gradient of %s: %.6f, reference difference %.6f\n", names[j], dd, fd);
        CHECK(fabs(dd - fd) <= 1e-4 * (1 + fabs(fd)), "eval-mode %s: directional derivative %g vs difference %g",
              names[j], dd, fd);
    }
    /* a train-mode backward still works after the eval-mode one */
    CHECK_OK(rcl_model_forward(m, &x, 1, &logits));
    CHECK_OK(rcl_model_backward(m, &dlog, &dx));
    rcl_tensor_release(&x);
    rcl_tensor_release(&dx);
    rcl_tensor_release(&dlog);
    for (int i = 0; i < np; i++)
        free(t.v[i]);
    free(t.v);
    rcl_model_free(m);
    free(buf), free(v);
}

int main(void) {
    rcl_device *d = rcl_test_device(0);
    rcl_rng r = rcl_rng_seed(42);
    int shapes[][3] = {{1, 1, 1}, {1, 3, 7}, {2, 5, 9}, {4, 16, 64}, {7, 3, 33}, {32, 8, 49}, {3, 64, 1}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int relu = 0; relu < 2; relu++)
            device_vs_ref(d, &r, shapes[i][0], shapes[i][1], shapes[i][2], relu);
    fd_check(&r, 0);
    fd_check(&r, 1);
    model_check(d, &r);
    rcl_device_close(d);
    return rcl_test_finish();
}
