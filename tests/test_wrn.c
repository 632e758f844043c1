/* A whole WRN training step on the device against the same step composed
 * from the double-precision reference ops, plus determinism and init checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/model.h"
#include "ops/ref.h"
#include "robustcl/tensor.h"

typedef struct {
    rcl_model *m;
    double **v;  /* parameter values (host, double) */
    double **g;  /* reference gradients */
    int np;
} ref_net;

static double *pv(ref_net *r, const char *name, double ***which) {
    for (int i = 0; i < r->np; i++)
        if (!strcmp(rcl_model_param(r->m, i)->name, name))
            return (*which)[i];
    fprintf(stderr, "missing parameter %s\n", name);
    abort();
}
#define VAL(r, ...) (snprintf(nm, sizeof nm, __VA_ARGS__), pv(r, nm, &(r)->v))
#define GRAD(r, ...) (snprintf(nm, sizeof nm, __VA_ARGS__), pv(r, nm, &(r)->g))

typedef struct {
    double *x, *a, *c1, *o, *od, *y;
    double *m1, *s1, *m2, *s2;
    int cin, cout, stride, h, w, ho, wo, equal;
} ref_block;

/* Forward + backward of the reference WRN; returns the loss; fills r->g and dx. */
static double ref_step(ref_net *r, const rcl_wrn_config *c, int n, const double *x, const int *labels, uint32_t seed,
                       uint32_t counter, double *dx, double *logits_out) {
    char nm[128];
    int per = (c->depth - 4) / 6, nb = 3 * per;
    int widths[4] = {16, 16 * c->widen, 32 * c->widen, 64 * c->widen};
    ref_block *B = calloc((size_t)nb, sizeof *B);
    int h = c->in_h, w = c->in_w;
    rcl_conv_shape stem = {n, c->in_c, h, w, 16, 3, 3, 1, 1};
    double *h0 = calloc((size_t)n * 16 * h * w, sizeof *h0);
    rcl_ref_conv2d_forward(&stem, x, VAL(r, "conv1.weight"), h0);
    double *in = h0;
    int cin = 16;
    for (int b = 0; b < nb; b++) {
        ref_block *k = &B[b];
        int g = b / per, i = b % per;
        k->cin = cin, k->cout = widths[g + 1], k->stride = (i == 0 && g > 0) ? 2 : 1;
        k->equal = k->cin == k->cout && k->stride == 1;
        k->h = h, k->w = w, k->ho = (h - 1) / k->stride + 1, k->wo = (w - 1) / k->stride + 1;
        size_t ni = (size_t)n * k->cin * h * w, no = (size_t)n * k->cout * k->ho * k->wo;
        k->x = in;
        k->a = calloc(ni, sizeof(double));
        k->c1 = calloc(no, sizeof(double)), k->o = calloc(no, sizeof(double)), k->od = calloc(no, sizeof(double));
        k->y = calloc(no, sizeof(double));
        k->m1 = calloc(k->cin, sizeof(double)), k->s1 = calloc(k->cin, sizeof(double));
        k->m2 = calloc(k->cout, sizeof(double)), k->s2 = calloc(k->cout, sizeof(double));
        const char *pre = "block%d.layer.%d.";
        (void)pre;
        rcl_ref_batchnorm_forward(RCL_BN_TRAIN, 1, n, k->cin, h * w, in, VAL(r, "block%d.layer.%d.bn1.weight", g + 1, i),
                                  VAL(r, "block%d.layer.%d.bn1.bias", g + 1, i),
                                  VAL(r, "block%d.layer.%d.bn1.running_mean", g + 1, i),
                                  VAL(r, "block%d.layer.%d.bn1.running_var", g + 1, i), 0.1, 1e-5, k->a, k->m1, k->s1);
        rcl_conv_shape c1 = {n, k->cin, h, w, k->cout, 3, 3, k->stride, 1};
        rcl_ref_conv2d_forward(&c1, k->a, VAL(r, "block%d.layer.%d.conv1.weight", g + 1, i), k->c1);
        rcl_ref_batchnorm_forward(RCL_BN_TRAIN, 1, n, k->cout, k->ho * k->wo, k->c1,
                                  VAL(r, "block%d.layer.%d.bn2.weight", g + 1, i), VAL(r, "block%d.layer.%d.bn2.bias", g + 1, i),
                                  VAL(r, "block%d.layer.%d.bn2.running_mean", g + 1, i),
                                  VAL(r, "block%d.layer.%d.bn2.running_var", g + 1, i), 0.1, 1e-5, k->o, k->m2, k->s2);
        if (c->dropout > 0)
            rcl_ref_dropout_forward(no, c->dropout, seed, counter * (uint32_t)nb + (uint32_t)b, k->o, k->od);
        else
            memcpy(k->od, k->o, no * sizeof(double));
        rcl_conv_shape c2 = {n, k->cout, k->ho, k->wo, k->cout, 3, 3, 1, 1};
        double *t = calloc(no, sizeof(double));
        rcl_ref_conv2d_forward(&c2, k->od, VAL(r, "block%d.layer.%d.conv2.weight", g + 1, i), t);
        if (k->equal) {
            for (size_t j = 0; j < no; j++)
                k->y[j] = in[j] + t[j];
        } else {
            rcl_conv_shape cs = {n, k->cin, h, w, k->cout, 1, 1, k->stride, 0};
            rcl_ref_conv2d_forward(&cs, k->a, VAL(r, "block%d.layer.%d.convShortcut.weight", g + 1, i), k->y);
            for (size_t j = 0; j < no; j++)
                k->y[j] += t[j];
        }
        free(t);
        in = k->y, cin = k->cout, h = k->ho, w = k->wo;
    }
    int C = cin, hw = h * w, K = c->num_classes;
    double *f = calloc((size_t)n * C * hw, sizeof *f), *mf = calloc(C, sizeof *mf), *sf = calloc(C, sizeof *sf);
    double *feat = calloc((size_t)n * C, sizeof *feat), *lg = calloc((size_t)n * K, sizeof *lg), *pr = calloc((size_t)n * K, sizeof *pr);
    rcl_ref_batchnorm_forward(RCL_BN_TRAIN, 1, n, C, hw, in, VAL(r, "bn1.weight"), VAL(r, "bn1.bias"), VAL(r, "bn1.running_mean"),
                              VAL(r, "bn1.running_var"), 0.1, 1e-5, f, mf, sf);
    rcl_ref_avgpool_forward(n, C, hw, f, feat);
    rcl_ref_linear_forward(n, C, K, feat, VAL(r, "fc.weight"), VAL(r, "fc.bias"), lg);
    memcpy(logits_out, lg, (size_t)n * K * sizeof *lg);
    double loss = rcl_ref_softmax_xent_forward(n, K, lg, labels, NULL, NULL, pr);
    /* backward */
    double *dl = calloc((size_t)n * K, sizeof *dl), *dfeat = calloc((size_t)n * C, sizeof *dfeat);
    double *df = calloc((size_t)n * C * hw, sizeof *df), *dy = calloc((size_t)n * C * hw, sizeof *dy);
    rcl_ref_softmax_xent_backward(n, K, pr, labels, NULL, NULL, dl);
    rcl_ref_linear_backward(n, C, K, feat, VAL(r, "fc.weight"), dl, dfeat, GRAD(r, "fc.weight"), GRAD(r, "fc.bias"));
    rcl_ref_avgpool_backward(n, C, hw, dfeat, df);
    rcl_ref_batchnorm_backward(1, n, C, hw, in, f, df, VAL(r, "bn1.weight"), mf, sf, dy, GRAD(r, "bn1.weight"), GRAD(r, "bn1.bias"));
    for (int b = nb - 1; b >= 0; b--) {
        ref_block *k = &B[b];
        int g = b / per, i = b % per;
        size_t ni = (size_t)n * k->cin * k->h * k->w, no = (size_t)n * k->cout * k->ho * k->wo;
        double *t1 = calloc(no, sizeof(double)), *t2 = calloc(no, sizeof(double)), *t3 = calloc(ni, sizeof(double));
        double *dxb = calloc(ni, sizeof(double));
        rcl_conv_shape c2 = {n, k->cout, k->ho, k->wo, k->cout, 3, 3, 1, 1};
        rcl_ref_conv2d_backward(&c2, k->od, VAL(r, "block%d.layer.%d.conv2.weight", g + 1, i), dy, t1,
                                GRAD(r, "block%d.layer.%d.conv2.weight", g + 1, i));
        if (c->dropout > 0)
            rcl_ref_dropout_backward(no, c->dropout, seed, counter * (uint32_t)nb + (uint32_t)b, t1, t1);
        rcl_ref_batchnorm_backward(1, n, k->cout, k->ho * k->wo, k->c1, k->o, t1, VAL(r, "block%d.layer.%d.bn2.weight", g + 1, i),
                                   k->m2, k->s2, t2, GRAD(r, "block%d.layer.%d.bn2.weight", g + 1, i),
                                   GRAD(r, "block%d.layer.%d.bn2.bias", g + 1, i));
        rcl_conv_shape c1 = {n, k->cin, k->h, k->w, k->cout, 3, 3, k->stride, 1};
        rcl_ref_conv2d_backward(&c1, k->a, VAL(r, "block%d.layer.%d.conv1.weight", g + 1, i), t2, t3,
                                GRAD(r, "block%d.layer.%d.conv1.weight", g + 1, i));
        if (!k->equal) {
            double *ts = calloc(ni, sizeof(double));
            rcl_conv_shape cs = {n, k->cin, k->h, k->w, k->cout, 1, 1, k->stride, 0};
            rcl_ref_conv2d_backward(&cs, k->a, VAL(r, "block%d.layer.%d.convShortcut.weight", g + 1, i), dy, ts,
                                    GRAD(r, "block%d.layer.%d.convShortcut.weight", g + 1, i));
            for (size_t j = 0; j < ni; j++)
                t3[j] += ts[j];
            free(ts);
        }
        rcl_ref_batchnorm_backward(1, n, k->cin, k->h * k->w, k->x, k->a, t3, VAL(r, "block%d.layer.%d.bn1.weight", g + 1, i),
                                   k->m1, k->s1, dxb, GRAD(r, "block%d.layer.%d.bn1.weight", g + 1, i),
                                   GRAD(r, "block%d.layer.%d.bn1.bias", g + 1, i));
        if (k->equal)
            for (size_t j = 0; j < ni; j++)
                dxb[j] += dy[j];
        free(dy);
        dy = dxb;
        free(t1), free(t2), free(t3);
    }
    rcl_ref_conv2d_backward(&stem, x, VAL(r, "conv1.weight"), dy, dx, GRAD(r, "conv1.weight"));
    for (int b = 0; b < nb; b++) {
        ref_block *k = &B[b];
        free(k->a), free(k->c1), free(k->o), free(k->od), free(k->y), free(k->m1), free(k->s1), free(k->m2), free(k->s2);
    }
    free(B), free(h0), free(f), free(mf), free(sf), free(feat), free(lg), free(pr), free(dl), free(dfeat), free(df), free(dy);
    return loss;
}

static void run_case(rcl_device *d, int depth, int widen, float dropout, int n, int cin, int hw) {
    rcl_wrn_config c = {depth, widen, cin, hw, hw, 5, dropout, 1};
    rcl_model *m = NULL;
    CHECK_OK(rcl_model_create(d, &c, n + 1, &m));
    if (!m)
        return;
    CHECK_OK(rcl_model_init(m, 42));
    int np = rcl_model_param_count(m);
    ref_net r = {m, calloc(np, sizeof(double *)), calloc(np, sizeof(double *)), np};
    float *buf = malloc(sizeof(float) * 4 * 1024 * 1024);
    for (int i = 0; i < np; i++) {
        rcl_param *p = rcl_model_param(m, i);
        r.v[i] = calloc(p->value.n, sizeof(double));
        r.g[i] = calloc(p->value.n, sizeof(double));
        CHECK_OK(rcl_tensor_download(&p->value, buf));
        rcl_to_double(buf, r.v[i], p->value.n);
    }
    rcl_rng g = rcl_rng_seed(5);
    size_t nx = (size_t)n * cin * hw * hw;
    double *x = calloc(nx, sizeof *x), *dx_ref = calloc(nx, sizeof *dx_ref), *lg_ref = calloc((size_t)n * 5, sizeof(double));
    rcl_fill_uniform(&g, x, nx, -1, 1);
    float *xf = malloc(nx * sizeof *xf);
    rcl_to_float(x, xf, nx);
    rcl_to_double(xf, x, nx);
    int labels[64];
    for (int i = 0; i < n; i++)
        labels[i] = (int)rcl_rng_below(&g, 5);

    /* device step (batch n < capacity exercises the views) */
    rcl_tensor tx, probs, dl, loss, dx;
    cl_mem lab;
    CHECK_OK(rcl_tensor_create(d, &tx, "x", 4, n, cin, hw, hw));
    CHECK_OK(rcl_tensor_create(d, &dx, "dx", 4, n, cin, hw, hw));
    CHECK_OK(rcl_tensor_create(d, &probs, "p", 2, n, 5));
    CHECK_OK(rcl_tensor_create(d, &dl, "dl", 2, n, 5));
    CHECK_OK(rcl_tensor_create(d, &loss, "loss", 1, 1));
    CHECK_OK(rcl_device_alloc(d, sizeof(cl_int) * n, "labels", &lab));
    clEnqueueWriteBuffer(rcl_device_queue(d), lab, CL_TRUE, 0, sizeof(cl_int) * n, labels, 0, NULL, NULL);
    CHECK_OK(rcl_tensor_upload(&tx, xf));
    const rcl_tensor *logits;
    CHECK_OK(rcl_model_forward(m, &tx, 1, &logits));
    uint32_t counter = rcl_model_dropout_counter(m);
    float lg_dev[5 * 64], loss_dev;
    CHECK_OK(rcl_tensor_download(logits, lg_dev));
    CHECK_OK(rcl_softmax_xent_forward(d, logits, lab, NULL, NULL, &probs, &loss));
    CHECK_OK(rcl_softmax_xent_backward(d, &probs, lab, NULL, NULL, &dl));
    CHECK_OK(rcl_model_backward(m, &dl, &dx));
    CHECK_OK(rcl_tensor_download(&loss, &loss_dev));

    /* the dropout seed is internal: recover it from the model state the same way init does */
    uint32_t seed = (uint32_t)(42ull * 2654435761u) ^ 0x5eed;
    double loss_ref = ref_step(&r, &c, n, x, labels, seed, counter, dx_ref, lg_ref);
    char what[160];
    snprintf(what, sizeof what, "WRN-%d-%d p=%.1f logits", depth, widen, dropout);
    rcl_check_close(what, lg_dev, lg_ref, (size_t)n * 5, 1e-5, 1e-5, 1e-4);
    CHECK(fabs(loss_dev - loss_ref) <= 1e-5 * (1 + fabs(loss_ref)), "loss %g vs %g", loss_dev, loss_ref);
    float *dxf = malloc(nx * sizeof *dxf);
    CHECK_OK(rcl_tensor_download(&dx, dxf));
    snprintf(what, sizeof what, "WRN-%d-%d p=%.1f input gradient", depth, widen, dropout);
    rcl_check_close(what, dxf, dx_ref, nx, 1e-4, 1e-6, 1e-3);
    for (int i = 0; i < np; i++) {
        rcl_param *p = rcl_model_param(m, i);
        if (!p->trainable)
            continue;
        CHECK_OK(rcl_tensor_download(&p->grad, buf));
        snprintf(what, sizeof what, "WRN-%d-%d p=%.1f grad %s", depth, widen, dropout, p->name);
        rcl_check_close(what, buf, r.g[i], p->value.n, 1e-4, 1e-6, 1e-3);
    }
    /* one SGD step on both sides */
    CHECK_OK(rcl_model_step(m, 0.1f, 0.9f, 5e-4f, 1));
    for (int i = 0; i < np; i++) {
        rcl_param *p = rcl_model_param(m, i);
        CHECK_OK(rcl_tensor_download(&p->value, buf));
        double *want = r.v[i];
        if (p->trainable) {
            double *mom = calloc(p->value.n, sizeof(double));
            rcl_ref_sgd_step(p->value.n, want, r.g[i], mom, 0.1, 0.9, 5e-4, 1, 1);
            free(mom);
        }
        snprintf(what, sizeof what, "WRN-%d-%d p=%.1f after step %s", depth, widen, dropout, p->name);
        rcl_check_close(what, buf, want, p->value.n, 1e-5, 1e-6, 1e-4);
    }
    for (int i = 0; i < np; i++)
        free(r.v[i]), free(r.g[i]);
    free(r.v), free(r.g), free(buf), free(x), free(xf), free(dx_ref), free(dxf), free(lg_ref);
    rcl_device_free(d, lab, sizeof(cl_int) * n);
    rcl_tensor_release(&tx), rcl_tensor_release(&dx), rcl_tensor_release(&probs), rcl_tensor_release(&dl),
        rcl_tensor_release(&loss);
    rcl_model_free(m);
}

/* Three SGD steps of a WRN-10-2 with dropout from a fixed seed; returns its weights (malloc'd). */
static float *short_run(rcl_device *d, size_t *count) {
    rcl_wrn_config c = {10, 2, 1, 12, 12, 4, 0.3f, 1};
    float *w = NULL;
    size_t total = 0;
    {
        rcl_model *m;
        CHECK_OK(rcl_model_create(d, &c, 8, &m));
        CHECK_OK(rcl_model_init(m, 7));
        rcl_tensor x, probs, dl, loss;
        cl_mem lab;
        rcl_tensor_create(d, &x, "x", 4, 8, 1, 12, 12);
        rcl_tensor_create(d, &probs, "p", 2, 8, 4);
        rcl_tensor_create(d, &dl, "dl", 2, 8, 4);
        rcl_tensor_create(d, &loss, "l", 1, 1);
        rcl_device_alloc(d, 8 * sizeof(cl_int), "labels", &lab);
        int labels[8] = {0, 1, 2, 3, 3, 2, 1, 0};
        clEnqueueWriteBuffer(rcl_device_queue(d), lab, CL_TRUE, 0, sizeof labels, labels, 0, NULL, NULL);
        rcl_rng g = rcl_rng_seed(3);
        float xs[8 * 144];
        for (int s = 0; s < 3; s++) {
            for (int i = 0; i < 8 * 144; i++)
                xs[i] = (float)rcl_rng_uniform(&g);
            const rcl_tensor *lg;
            CHECK_OK(rcl_tensor_upload(&x, xs));
            CHECK_OK(rcl_model_forward(m, &x, 1, &lg));
            CHECK_OK(rcl_softmax_xent_forward(d, lg, lab, NULL, NULL, &probs, &loss));
            CHECK_OK(rcl_softmax_xent_backward(d, &probs, lab, NULL, NULL, &dl));
            CHECK_OK(rcl_model_backward(m, &dl, NULL));
            CHECK_OK(rcl_model_step(m, 0.05f, 0.9f, 5e-4f, 1));
        }
        for (int i = 0; i < rcl_model_param_count(m); i++)
            total += rcl_model_param(m, i)->value.n;
        w = malloc(total * sizeof(float));
        size_t off = 0;
        for (int i = 0; i < rcl_model_param_count(m); i++) {
            rcl_param *p = rcl_model_param(m, i);
            rcl_tensor_download(&p->value, w + off);
            off += p->value.n;
        }
        rcl_device_free(d, lab, 8 * sizeof(cl_int));
        rcl_tensor_release(&x), rcl_tensor_release(&probs), rcl_tensor_release(&dl), rcl_tensor_release(&loss);
        rcl_model_free(m);
    }
    *count = total;
    return w;
}

/* Two identical short runs end with bit-identical weights. */
static void determinism(rcl_device *d) {
    size_t n0, n1;
    float *w0 = short_run(d, &n0), *w1 = short_run(d, &n1);
    CHECK(n0 == n1 && memcmp(w0, w1, n0 * sizeof(float)) == 0, "two identical runs give bit-identical weights");
    free(w0), free(w1);
}

/* The same short training under each kernel family ends within float tolerance of
 * the reference path (im2col + GEMM): the algorithms sum in different orders, nothing more. */
static void algorithms_agree(rcl_device *d) {
    static const char *const policies[] = {"direct", "chan"};
    size_t n_ref, n;
    CHECK_OK(rcl_conv_set_policy(d, "gemm"));
    float *ref = short_run(d, &n_ref);
    double *refd = malloc(n_ref * sizeof(double));
    rcl_to_double(ref, refd, n_ref);
    for (int i = 0; i < 2; i++) {
        CHECK_OK(rcl_conv_set_policy(d, policies[i]));
        float *w = short_run(d, &n);
        char what[96];
        snprintf(what, sizeof what, "weights after 3 steps, %s vs gemm", policies[i]);
        CHECK(n == n_ref, "%s: same size", what);
        rcl_check_close(what, w, refd, n, 1e-5, 1e-6, 1e-3);
        free(w);
    }
    CHECK_OK(rcl_conv_set_policy(d, "auto"));
    free(ref), free(refd);
}

/* --freeze-trunk: a step changes fc only. */
static void frozen_trunk(rcl_device *d) {
    rcl_wrn_config c = {10, 1, 1, 8, 8, 3, 0.0f, 1};
    rcl_model *m;
    CHECK_OK(rcl_model_create(d, &c, 4, &m));
    CHECK_OK(rcl_model_init(m, 3));
    rcl_model_freeze_trunk(m);
    int frozen_ok = 1;
    for (int i = 0; i < rcl_model_param_count(m); i++)
        frozen_ok &= rcl_model_param(m, i)->frozen == (strncmp(rcl_model_param(m, i)->name, "fc.", 3) != 0);
    CHECK(frozen_ok, "every parameter but fc.* is frozen");
    rcl_param *w = rcl_model_find(m, "block2.layer.0.conv1.weight"), *fc = rcl_model_find(m, "fc.weight");
    float before_w[8], before_fc[8], after_w[8], after_fc[8];
    float *tmp = malloc(sizeof(float) * (w->value.n > fc->value.n ? w->value.n : fc->value.n));
    rcl_tensor_download(&w->value, tmp), memcpy(before_w, tmp, sizeof before_w);
    rcl_tensor_download(&fc->value, tmp), memcpy(before_fc, tmp, sizeof before_fc);
    rcl_tensor x, probs, dl, loss;
    cl_mem lab;
    rcl_tensor_create(d, &x, "x", 4, 4, 1, 8, 8);
    rcl_tensor_create(d, &probs, "p", 2, 4, 3);
    rcl_tensor_create(d, &dl, "dl", 2, 4, 3);
    rcl_tensor_create(d, &loss, "l", 1, 1);
    rcl_device_alloc(d, 4 * sizeof(cl_int), "labels", &lab);
    int labels[4] = {0, 1, 2, 1};
    clEnqueueWriteBuffer(rcl_device_queue(d), lab, CL_TRUE, 0, sizeof labels, labels, 0, NULL, NULL);
    float xs[256];
    for (int i = 0; i < 256; i++)
        xs[i] = (float)((i * 37) % 17) / 8.0f - 1.0f;
    const rcl_tensor *lg;
    CHECK_OK(rcl_tensor_upload(&x, xs));
    CHECK_OK(rcl_model_forward(m, &x, 1, &lg));
    CHECK_OK(rcl_softmax_xent_forward(d, lg, lab, NULL, NULL, &probs, &loss));
    CHECK_OK(rcl_softmax_xent_backward(d, &probs, lab, NULL, NULL, &dl));
    CHECK_OK(rcl_model_backward(m, &dl, NULL));
    CHECK_OK(rcl_model_step(m, 0.1f, 0.9f, 5e-4f, 1));
    rcl_tensor_download(&w->value, tmp), memcpy(after_w, tmp, sizeof after_w);
    rcl_tensor_download(&fc->value, tmp), memcpy(after_fc, tmp, sizeof after_fc);
    CHECK(!memcmp(before_w, after_w, sizeof before_w), "a frozen trunk weight does not move");
    CHECK(memcmp(before_fc, after_fc, sizeof before_fc) != 0, "the head moves");
    free(tmp);
    rcl_device_free(d, lab, 4 * sizeof(cl_int));
    rcl_tensor_release(&x), rcl_tensor_release(&probs), rcl_tensor_release(&dl), rcl_tensor_release(&loss);
    rcl_model_free(m);
}

static void structure(rcl_device *d) {
    rcl_wrn_config c = {40, 2, 3, 32, 32, 10, 0, 1};
    rcl_model *m;
    CHECK_OK(rcl_model_create(d, &c, 1, &m));
    if (!m)
        return;
    /* spec §1: WRN-40-2 has ~2.2M parameters */
    size_t n = rcl_model_num_weights(m);
    CHECK(n > 2100000 && n < 2300000, "WRN-40-2 has %zu weights", n);
    CHECK(rcl_model_find(m, "block1.layer.0.convShortcut.weight") != NULL, "16->32 needs a shortcut conv");
    CHECK(rcl_model_find(m, "block1.layer.1.convShortcut.weight") == NULL, "equal blocks have none");
    CHECK(rcl_model_find(m, "block3.layer.5.bn2.running_var") != NULL, "names follow the official state_dict");
    rcl_param *fc = rcl_model_find(m, "fc.weight");
    CHECK(fc && fc->value.shape[0] == 10 && fc->value.shape[1] == 128, "fc is [10, 128]");
    CHECK_OK(rcl_model_init(m, 1));
    /* init statistics: conv std sqrt(2/(9*C_out)), fc U(+-1/sqrt(128)) */
    rcl_param *w = rcl_model_find(m, "block3.layer.2.conv1.weight");
    float *buf = malloc(w->value.n * sizeof *buf);
    rcl_tensor_download(&w->value, buf);
    double ss = 0;
    for (size_t i = 0; i < w->value.n; i++)
        ss += (double)buf[i] * buf[i];
    double std = sqrt(ss / w->value.n), want = sqrt(2.0 / (9 * 128));
    CHECK(fabs(std - want) < 0.02 * want, "conv init std %g want %g", std, want);
    free(buf);
    float fcw[1280];
    rcl_tensor_download(&fc->value, fcw);
    double mx = 0;
    for (int i = 0; i < 1280; i++)
        mx = fmax(mx, fabs(fcw[i]));
    CHECK(mx <= 1 / sqrt(128.0) && mx > 0.9 / sqrt(128.0), "fc init bound %g", mx);
    rcl_wrn_config bad = c;
    bad.depth = 12;
    rcl_model *m2;
    CHECK_FAILS(rcl_model_create(d, &bad, 1, &m2), RCL_ERR_INVALID_ARG);
    rcl_model_free(m);
}

int main(void) {
    rcl_device *d = rcl_test_device(0);
    structure(d);
    /* one step against the reference composed from the op references, under each family */
    static const char *const policies[] = {"gemm", "direct", "chan"};
    for (int i = 0; i < 3; i++) {
        CHECK_OK(rcl_conv_set_policy(d, policies[i]));
        run_case(d, 10, 1, 0.0f, 3, 3, 8);
        run_case(d, 10, 2, 0.3f, 2, 1, 9);
        run_case(d, 16, 1, 0.0f, 2, 3, 12); /* batch 1 with 2x2 maps makes BN ill-conditioned in float */
    }
    CHECK_OK(rcl_conv_set_policy(d, "auto"));
    determinism(d);
    algorithms_agree(d);
    frozen_trunk(d);
    rcl_device_close(d);
    return rcl_test_finish();
}
