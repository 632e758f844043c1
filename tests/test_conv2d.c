/* conv2d: device vs the double-precision reference (forward, dx, dw) over assorted shapes
 * under every kernel family (im2col + GEMM, the pixel-vector and channel-vector families with
 * the device's start values, auto), every declared value of every family parameter (from
 * the families' declarations), batch chunking of the GEMM path under a small workspace cap,
 * determinism, dx == NULL, a finite-difference check of the reference itself, policy parsing
 * and shape validation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/conv2d_family.h"
#include "ops/ref.h"
#include "robustcl/ops.h"
#include "robustcl/tensor.h"

/* Random inputs of one conv, rounded to float (the values the device sees). */
typedef struct {
    rcl_conv_shape s;
    size_t nx, nw, ny;
    double *x, *w, *dy;
    float *fx, *fw, *fdy;
} conv_data;

static void data_init(conv_data *c, const rcl_conv_shape *s, uint64_t seed) {
    c->s = *s;
    c->nx = (size_t)s->n * s->c_in * s->h * s->w;
    c->nw = (size_t)s->c_out * s->c_in * s->kh * s->kw;
    c->ny = (size_t)s->n * s->c_out * rcl_conv_out_h(s) * rcl_conv_out_w(s);
    c->x = malloc(c->nx * sizeof(double));
    c->w = malloc(c->nw * sizeof(double));
    c->dy = malloc(c->ny * sizeof(double));
    c->fx = malloc(c->nx * sizeof(float));
    c->fw = malloc(c->nw * sizeof(float));
    c->fdy = malloc(c->ny * sizeof(float));
    rcl_rng r = rcl_rng_seed(seed);
    rcl_fill_uniform(&r, c->x, c->nx, -1, 1);
    rcl_fill_uniform(&r, c->w, c->nw, -1, 1);
    rcl_fill_uniform(&r, c->dy, c->ny, -1, 1);
    rcl_to_float(c->x, c->fx, c->nx), rcl_to_double(c->fx, c->x, c->nx);
    rcl_to_float(c->w, c->fw, c->nw), rcl_to_double(c->fw, c->w, c->nw);
    rcl_to_float(c->dy, c->fdy, c->ny), rcl_to_double(c->fdy, c->dy, c->ny);
}

static void data_free(conv_data *c) {
    free(c->x), free(c->w), free(c->dy), free(c->fx), free(c->fw), free(c->fdy);
}

/* Device results of one conv: y, dx (NULL: backward without dx), dw. Outputs
 * start as NaN so an element the device forgets to write shows up. */
static void device_run(rcl_device *d, const conv_data *c, float *y, float *dx, float *dw) {
    const rcl_conv_shape *s = &c->s;
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s);
    rcl_tensor tx, tw, ty, tdy, tdx = {0}, tdw;
    CHECK_OK(rcl_tensor_create(d, &tx, "x", 4, s->n, s->c_in, s->h, s->w));
    CHECK_OK(rcl_tensor_create(d, &tw, "w", 4, s->c_out, s->c_in, s->kh, s->kw));
    CHECK_OK(rcl_tensor_create(d, &ty, "y", 4, s->n, s->c_out, ho, wo));
    CHECK_OK(rcl_tensor_create(d, &tdy, "dy", 4, s->n, s->c_out, ho, wo));
    CHECK_OK(rcl_tensor_create(d, &tdw, "dw", 4, s->c_out, s->c_in, s->kh, s->kw));
    if (dx) {
        CHECK_OK(rcl_tensor_create(d, &tdx, "dx", 4, s->n, s->c_in, s->h, s->w));
        CHECK_OK(rcl_tensor_fill(&tdx, NAN));
    }
    CHECK_OK(rcl_tensor_upload(&tx, c->fx));
    CHECK_OK(rcl_tensor_upload(&tw, c->fw));
    CHECK_OK(rcl_tensor_upload(&tdy, c->fdy));
    CHECK_OK(rcl_tensor_fill(&ty, NAN));
    CHECK_OK(rcl_tensor_fill(&tdw, NAN));
    CHECK_OK(rcl_conv2d_forward(d, s, &tx, &tw, &ty));
    CHECK_OK(rcl_conv2d_backward(d, s, &tx, &tw, &tdy, dx ? &tdx : NULL, &tdw));
    CHECK_OK(rcl_tensor_download(&ty, y));
    CHECK_OK(rcl_tensor_download(&tdw, dw));
    if (dx)
        CHECK_OK(rcl_tensor_download(&tdx, dx));
    rcl_tensor_release(&tx), rcl_tensor_release(&tw), rcl_tensor_release(&ty);
    rcl_tensor_release(&tdy), rcl_tensor_release(&tdx), rcl_tensor_release(&tdw);
}

static void shape_name(const rcl_conv_shape *s, const char *part, char *out, size_t cap) {
    snprintf(out, cap, "%s n%d %d->%d %dx%d k%dx%d s%d p%d", part, s->n, s->c_in, s->c_out, s->h,
             s->w, s->kh, s->kw, s->stride, s->pad);
}

/* Float32 sums: the error grows with the number of terms summed; inputs are
 * U(-1,1). Observed on PoCL: worst |error| <= 7e-8 * terms, norm-wise relative
 * error <= 1e-6 (dw of the 3->16 32x32 conv, 3072 terms). The bounds below
 * leave a margin of 4-5x; a wrong index gives O(1) errors. */
static void compare(const char *part, const rcl_conv_shape *s, const float *got,
                    const double *want, size_t n, double terms) {
    char what[128];
    shape_name(s, part, what, sizeof what);
    rcl_check_close(what, got, want, n, 5e-6, 3e-7 * terms, 1e-5);
}

/* RCL_TEST_SMALL (the oclgrind run) leaves out the shapes with large inputs or im2col columns. */
static int too_big(const rcl_conv_shape *s) {
    size_t hw = (size_t)rcl_conv_out_h(s) * rcl_conv_out_w(s);
    return (size_t)s->n * s->c_in * s->h * s->w > 4096 || (size_t)s->c_in * s->kh * s->kw * hw > 16384;
}

/* RCL_TEST_CONV_FAMILIES_ONLY=FAMILY (direct, chan, local) or 1 (each): robustcl's kernel
 * families alone, for CI's oclgrind pass that tracks uninitialised values (it cannot follow
 * CLBlast's GEMM: see .ci/run); CI runs one family per simulator process. */
static const char *families_only_value(void) {
    const char *v = getenv("RCL_TEST_CONV_FAMILIES_ONLY");
    return v && *v && strcmp(v, "0") != 0 ? v : NULL;
}
static int families_only(void) { return families_only_value() != NULL; }
/* 1 when family `name` is tested in this run. */
static int family_tested(const char *name) {
    const char *v = families_only_value();
    return !v || !strcmp(v, "1") || !strcmp(v, name);
}

/* The forward of s would run as im2col + GEMM under the device's (forced) policy. */
static int runs_gemm(rcl_device *d, const rcl_conv_shape *s) {
    char name[RCL_CONV_CONFIG_LEN];
    return rcl_conv_choice_for(d, s, RCL_CONV_FWD, NULL, NULL, NULL, name, sizeof name) != RCL_OK ||
           strcmp(name, "gemm") == 0;
}

static void test_vs_reference(rcl_device *d) {
    static const rcl_conv_shape shapes[] = {
        /* n, c_in, h, w, c_out, kh, kw, stride, pad */
        {2, 3, 5, 7, 4, 3, 3, 1, 1},      /* odd, non-square image */
        {1, 1, 8, 8, 8, 3, 3, 1, 1},      /* batch 1, C_in = 1 first layer */
        {3, 4, 9, 9, 6, 3, 3, 2, 1},      /* stride 2, pad 1, odd size */
        {2, 8, 8, 8, 16, 1, 1, 2, 0},     /* 1x1 stride-2 shortcut */
        {2, 6, 7, 7, 5, 1, 1, 2, 0},      /* 1x1 stride-2 on an odd size */
        {2, 5, 7, 6, 3, 5, 5, 1, 2},      /* 5x5 */
        {2, 3, 6, 9, 4, 3, 5, 2, 1},      /* non-square kernel, stride 2 */
        {1, 2, 4, 4, 3, 3, 3, 1, 0},      /* no padding */
        {2, 4, 3, 3, 2, 3, 3, 3, 2},      /* stride 3, outputs that see only padding */
        {3, 3, 32, 32, 16, 3, 3, 1, 1},   /* WRN conv1 on CIFAR, C_in = 3 */
        /* WRN-28-10 block1 scale; batch 2 keeps the double reference (~1.4e9
         * multiply-adds forward + backward) to a few seconds */
        {2, 160, 32, 32, 160, 3, 3, 1, 1},
        /* direct-kernel edges: channels that are not multiples of any tile, widths of 1, 2 and
         * 3 float8 vectors plus a ragged end, stride 2 on odd and wide images, batch 1 */
        {2, 5, 28, 28, 10, 3, 3, 1, 1},
        {1, 16, 14, 14, 33, 3, 3, 2, 1},
        {3, 13, 7, 7, 20, 1, 1, 1, 0},
        {2, 7, 17, 33, 9, 3, 3, 2, 1},
        {1, 9, 5, 23, 14, 3, 3, 1, 1},
        {2, 11, 15, 15, 7, 1, 1, 2, 0},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const rcl_conv_shape *s = &shapes[i];
        if ((rcl_test_small() && too_big(s)) || (families_only() && runs_gemm(d, s)))
            continue;
        conv_data c;
        data_init(&c, s, 100 + i);
        double *y = malloc(c.ny * sizeof(double)), *dx = malloc(c.nx * sizeof(double)),
               *dw = malloc(c.nw * sizeof(double));
        float *fy = malloc(c.ny * sizeof(float)), *fdx = malloc(c.nx * sizeof(float)),
              *fdw = malloc(c.nw * sizeof(float));
        rcl_ref_conv2d_forward(s, c.x, c.w, y);
        rcl_ref_conv2d_backward(s, c.x, c.w, c.dy, dx, dw);
        device_run(d, &c, fy, fdx, fdw);
        double k = (double)s->c_in * s->kh * s->kw;
        double n_out = (double)s->n * rcl_conv_out_h(s) * rcl_conv_out_w(s);
        compare("forward y", s, fy, y, c.ny, k);
        compare("backward dx", s, fdx, dx, c.nx, (double)s->c_out * s->kh * s->kw);
        compare("backward dw", s, fdw, dw, c.nw, n_out);
        free(y), free(dx), free(dw), free(fy), free(fdx), free(fdw);
        data_free(&c);
    }
}

/* The same conv on a device whose workspace cap forces chunks of nb_want
 * images (1: a cap too small even for one image) equals the one-chunk run:
 * y and dx bit for bit (each column of the GEMM is the same dot product),
 * dw within rounding (its sum over images is split across chunks). */
static void test_chunking(rcl_device *d_full) {
    CHECK_OK(rcl_conv_set_policy(d_full, "gemm"));
    static const rcl_conv_shape shapes[] = {
        {5, 3, 7, 6, 4, 3, 3, 1, 1},
        {5, 6, 9, 9, 8, 1, 1, 2, 0},
        {3, 32, 16, 16, 32, 3, 3, 1, 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const rcl_conv_shape *s = &shapes[i];
        if (rcl_test_small() && too_big(s))
            continue;
        conv_data c;
        data_init(&c, s, 200 + i);
        float *y0 = malloc(c.ny * sizeof(float)), *dx0 = malloc(c.nx * sizeof(float)),
              *dw0 = malloc(c.nw * sizeof(float)), *y = malloc(c.ny * sizeof(float)),
              *dx = malloc(c.nx * sizeof(float)), *dw = malloc(c.nw * sizeof(float));
        double *dw0d = malloc(c.nw * sizeof(double));
        device_run(d_full, &c, y0, dx0, dw0);
        rcl_to_double(dw0, dw0d, c.nw);
        size_t hw = (size_t)rcl_conv_out_h(s) * rcl_conv_out_w(s);
        size_t k = (size_t)s->c_in * s->kh * s->kw;
        /* backward with dx holds col, tmp and dcol per image: the largest user */
        size_t per_image = (2 * k + (size_t)s->c_out) * hw * sizeof(float);
        const size_t caps[] = {1, 2 * per_image + 16};
        for (int ci = 0; ci < 2; ci++) {
            rcl_device *d = rcl_test_device(caps[ci]);
            CHECK_OK(rcl_conv_set_policy(d, "gemm"));
            device_run(d, &c, y, dx, dw);
            char what[128];
            shape_name(s, ci ? "chunks of 2" : "chunks of 1", what, sizeof what);
            CHECK(!memcmp(y, y0, c.ny * sizeof(float)), "%s: forward y bit-identical", what);
            CHECK(!memcmp(dx, dx0, c.nx * sizeof(float)), "%s: dx bit-identical", what);
            compare(ci ? "chunks of 2: dw" : "chunks of 1: dw", s, dw, dw0d, c.nw, (double)(s->n * hw));
            if (ci == 0) /* the workspace was sized for exactly one image */
                CHECK(rcl_device_mem_in_use(d) == per_image, "%s: workspace %zu bytes, one image %zu",
                      what, rcl_device_mem_in_use(d), per_image);
            /* dx == NULL takes another chunk size (less workspace per image) */
            device_run(d, &c, y, NULL, dw);
            compare(ci ? "chunks of 2, no dx: dw" : "chunks of 1, no dx: dw", s, dw, dw0d, c.nw,
                    (double)(s->n * hw));
            rcl_device_close(d);
        }
        free(y0), free(dx0), free(dw0), free(y), free(dx), free(dw), free(dw0d);
        data_free(&c);
    }
}

/* Backward twice gives the same bits (no atomics, no order-dependent sums). */
static void test_determinism(rcl_device *d) {
    rcl_conv_shape s = {4, 16, 12, 10, 24, 3, 3, 2, 1};
    conv_data c;
    data_init(&c, &s, 300);
    float *y = malloc(c.ny * sizeof(float)), *dx1 = malloc(c.nx * sizeof(float)),
          *dw1 = malloc(c.nw * sizeof(float)), *dx2 = malloc(c.nx * sizeof(float)),
          *dw2 = malloc(c.nw * sizeof(float));
    device_run(d, &c, y, dx1, dw1);
    device_run(d, &c, y, dx2, dw2);
    CHECK(!memcmp(dx1, dx2, c.nx * sizeof(float)), "dx bit-identical across runs");
    CHECK(!memcmp(dw1, dw2, c.nw * sizeof(float)), "dw bit-identical across runs");
    free(y), free(dx1), free(dw1), free(dx2), free(dw2);
    data_free(&c);
}

/* dx == NULL: only dw is computed, and it is still right. */
static void test_no_dx(rcl_device *d) {
    rcl_conv_shape s = {3, 5, 9, 8, 7, 3, 3, 2, 1};
    conv_data c;
    data_init(&c, &s, 400);
    double *dw = malloc(c.nw * sizeof(double));
    float *fy = malloc(c.ny * sizeof(float)), *fdw = malloc(c.nw * sizeof(float));
    rcl_ref_conv2d_backward(&s, c.x, c.w, c.dy, NULL, dw);
    device_run(d, &c, fy, NULL, fdw);
    compare("dx=NULL dw", &s, fdw, dw, c.nw, (double)s.n * rcl_conv_out_h(&s) * rcl_conv_out_w(&s));
    free(dw), free(fy), free(fdw);
    data_free(&c);
}

/* loss = sum(y .* r); central differences of the reference forward against the
 * reference backward. The loss is linear in each x and w entry, so the
 * difference quotient has no truncation error, only rounding (~1e-16/h). */
static double fd_loss(const rcl_conv_shape *s, const double *x, const double *w, const double *r,
                      double *y, size_t ny) {
    rcl_ref_conv2d_forward(s, x, w, y);
    double l = 0;
    for (size_t i = 0; i < ny; i++)
        l += y[i] * r[i];
    return l;
}

static void test_reference_gradient(void) {
    static const rcl_conv_shape shapes[] = {
        {2, 3, 5, 6, 4, 3, 3, 2, 1},
        {2, 2, 7, 5, 3, 3, 2, 1, 1}, /* non-square kernel, pad wider than needed on w */
        {1, 4, 6, 6, 2, 1, 1, 2, 0},
    };
    const double h = 1e-6;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const rcl_conv_shape *s = &shapes[si];
        conv_data c;
        data_init(&c, s, 500 + si);
        double *y = malloc(c.ny * sizeof(double)), *dx = malloc(c.nx * sizeof(double)),
               *dw = malloc(c.nw * sizeof(double));
        rcl_ref_conv2d_backward(s, c.x, c.w, c.dy, dx, dw); /* r = dy */
        enum { SAMPLES = 24 };
        double got[2 * SAMPLES], want[2 * SAMPLES];
        rcl_rng r = rcl_rng_seed(600 + si);
        for (int k = 0; k < 2 * SAMPLES; k++) {
            int is_w = k >= SAMPLES;
            double *p = is_w ? c.w : c.x;
            size_t i = (size_t)rcl_rng_below(&r, is_w ? c.nw : c.nx);
            double keep = p[i];
            p[i] = keep + h;
            double lp = fd_loss(s, c.x, c.w, c.dy, y, c.ny);
            p[i] = keep - h;
            double lm = fd_loss(s, c.x, c.w, c.dy, y, c.ny);
            p[i] = keep;
            got[k] = (lp - lm) / (2 * h);
            want[k] = is_w ? dw[i] : dx[i];
        }
        char what[128];
        shape_name(s, "reference finite differences", what, sizeof what);
        /* observed: norm-wise relative error ~5e-10 */
        rcl_check_close_d(what, got, want, 2 * SAMPLES, 1e-8, 1e-8, 1e-7);
        free(y), free(dx), free(dw);
        data_free(&c);
    }
}

static void test_bad_shapes(rcl_device *d) {
    rcl_conv_shape s = {2, 3, 8, 8, 4, 3, 3, 1, 1};
    rcl_tensor x, w, y, dx, dw, other;
    CHECK_OK(rcl_tensor_create(d, &x, "x", 4, 2, 3, 8, 8));
    CHECK_OK(rcl_tensor_create(d, &w, "w", 4, 4, 3, 3, 3));
    CHECK_OK(rcl_tensor_create(d, &y, "y", 4, 2, 4, 8, 8));
    CHECK_OK(rcl_tensor_create(d, &dx, "dx", 4, 2, 3, 8, 8));
    CHECK_OK(rcl_tensor_create(d, &dw, "dw", 4, 4, 3, 3, 3));
    CHECK_OK(rcl_tensor_create(d, &other, "other", 4, 2, 3, 7, 8));
    CHECK_OK(rcl_conv2d_forward(d, &s, &x, &w, &y));
    CHECK_OK(rcl_conv2d_backward(d, &s, &x, &w, &y, &dx, &dw));

    CHECK_FAILS(rcl_conv2d_forward(d, &s, &other, &w, &y), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "input x") != NULL, "error names x: %s", rcl_last_error());
    CHECK_FAILS(rcl_conv2d_forward(d, &s, &x, &other, &y), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "weight w") != NULL, "error names w: %s", rcl_last_error());
    CHECK_FAILS(rcl_conv2d_forward(d, &s, &x, &w, &other), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "output y") != NULL, "error names y: %s", rcl_last_error());
    CHECK_FAILS(rcl_conv2d_backward(d, &s, &x, &w, &other, &dx, &dw), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "dy") != NULL, "error names dy: %s", rcl_last_error());
    CHECK_FAILS(rcl_conv2d_backward(d, &s, &x, &w, &y, &other, &dw), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "dx") != NULL, "error names dx: %s", rcl_last_error());
    CHECK_FAILS(rcl_conv2d_backward(d, &s, &x, &w, &y, &dx, &other), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "dw") != NULL, "error names dw: %s", rcl_last_error());
    CHECK_FAILS(rcl_conv2d_backward(d, &s, &x, &w, &y, &dx, NULL), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_conv2d_forward(d, &s, &x, &w, NULL), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_conv2d_forward(d, &s, &x, &w, &x), RCL_ERR_INVALID_ARG); /* wrong shape anyway */

    rcl_conv_shape b = s;
    b.stride = 0;
    CHECK_FAILS(rcl_conv2d_forward(d, &b, &x, &w, &y), RCL_ERR_INVALID_ARG);
    b = s, b.pad = -1;
    CHECK_FAILS(rcl_conv2d_forward(d, &b, &x, &w, &y), RCL_ERR_INVALID_ARG);
    b = s, b.n = 3; /* tensors no longer match */
    CHECK_FAILS(rcl_conv2d_forward(d, &b, &x, &w, &y), RCL_ERR_INVALID_ARG);
    b = s, b.c_out = 0;
    CHECK_FAILS(rcl_conv2d_backward(d, &b, &x, &w, &y, &dx, &dw), RCL_ERR_INVALID_ARG);
    /* a kernel larger than the padded input has no output (9x9 on 8x8, pad 0):
     * (8-9)/1+1 truncates to 1 in C, so this must be caught before dividing */
    rcl_tensor w9, y1;
    CHECK_OK(rcl_tensor_create(d, &w9, "w9", 4, 4, 3, 9, 9));
    CHECK_OK(rcl_tensor_create(d, &y1, "y1", 4, 2, 4, 1, 1));
    b = s, b.kh = 9, b.kw = 9, b.pad = 0, b.stride = 2;
    CHECK_FAILS(rcl_conv2d_forward(d, &b, &x, &w9, &y1), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "larger") != NULL, "error says why: %s", rcl_last_error());
    CHECK_FAILS(rcl_conv2d_forward(d, NULL, &x, &w, &y), RCL_ERR_INVALID_ARG);
    rcl_tensor_release(&w9), rcl_tensor_release(&y1);
    rcl_tensor_release(&x), rcl_tensor_release(&w), rcl_tensor_release(&y);
    rcl_tensor_release(&dx), rcl_tensor_release(&dw), rcl_tensor_release(&other);
}

/* Runs config c of family f on shape s, the other passes by the same family, against the
 * reference. */
static void test_family_config(rcl_device *d, const conv_family *f, const conv_config *c,
                               const rcl_conv_shape *s, uint64_t seed) {
    /* the other passes run the same family (auto would measure gemm too: CLBlast's kernels
     * derail oclgrind's uninitialised-value tracking, see .ci/run) */
    char cfg[RCL_CONV_CONFIG_LEN], policy[RCL_CONV_CONFIG_LEN + 64];
    conv_config_format(c, cfg, sizeof cfg);
    int len = 0;
    for (int p = 0; p < RCL_CONV_PASSES; p++)
        len += snprintf(policy + len, sizeof policy - (size_t)len, "%s%s=%s", p ? "," : "",
                        rcl_conv_pass_name((rcl_conv_pass)p), p == (int)f->pass ? cfg : f->name);
    CHECK_OK(rcl_conv_set_policy(d, policy));
    conv_data cd;
    data_init(&cd, s, seed);
    double *y = malloc(cd.ny * sizeof(double)), *dx = malloc(cd.nx * sizeof(double)),
           *dw = malloc(cd.nw * sizeof(double));
    float *fy = malloc(cd.ny * sizeof(float)), *fdx = malloc(cd.nx * sizeof(float)),
          *fdw = malloc(cd.nw * sizeof(float));
    rcl_ref_conv2d_forward(s, cd.x, cd.w, y);
    rcl_ref_conv2d_backward(s, cd.x, cd.w, cd.dy, dx, dw);
    device_run(d, &cd, fy, fdx, fdw);
    double n_out = (double)s->n * rcl_conv_out_h(s) * rcl_conv_out_w(s);
    if (f->pass == RCL_CONV_FWD)
        compare(cfg, s, fy, y, cd.ny, (double)s->c_in * s->kh * s->kw);
    else if (f->pass == RCL_CONV_DX)
        compare(cfg, s, fdx, dx, cd.nx, (double)s->c_out * s->kh * s->kw);
    else
        compare(cfg, s, fdw, dw, cd.nw, n_out);
    free(y), free(dx), free(dw), free(fy), free(fdx), free(fdw);
    data_free(&cd);
}

/* Every declared value of every parameter of every kernel family, moved from the family's
 * start values, on a shape of the family's geometries (taken in turn, the next one where a
 * geometry rules the value out) whose channel counts and widths are multiples of no tile:
 * pass by pass against the reference. BOUNDS, which changes how the input is addressed, on
 * every geometry. Under the simulator (RCL_TEST_SMALL) every value of VW and BOUNDS from the
 * family's start values, on small shapes: a build there takes seconds. */
static void test_family_space(rcl_device *d) {
    /* a family that runs every geometry is tried on these */
    static const conv_geometry any[] = {{3, 1, 1}, {3, 1, 2}, {1, 0, 2}, {5, 2, 1}, {1, 0, 1}};
    int configs = 0;
    for (int fi = 0; fi < rcl_conv_family_table_size; fi++) {
        const conv_family *f = rcl_conv_family_table[fi];
        if (!family_tested(f->name))
            continue;
        int g = 0, ngeom = f->ngeom ? f->ngeom : 5;
        for (int pi = 0; pi < f->nparams; pi++) {
            int every_geometry = strcmp(f->params[pi].name, "BOUNDS") == 0;
            if (rcl_test_small() && pi > 0 && !every_geometry)
                continue;
            for (int k = 0; k < f->params[pi].nvalues; k++)
                for (int tries = 0; tries < ngeom; tries++, g++) {
                    const conv_geometry *geo = f->ngeom ? &f->geom[g % f->ngeom] : &any[g % 5];
                    /* oclgrind: each value once on small shapes is slow enough */
                    rcl_conv_shape s = {2, 5, 10, 19, 19, geo->k, geo->k, geo->stride, geo->pad};
                    if (rcl_test_small())
                        s = (rcl_conv_shape){1, 3, 5, 9, 17, geo->k, geo->k, geo->stride, geo->pad};
                    conv_config c;
                    conv_config_start(d, f, &s, &c);
                    c.v[pi] = f->params[pi].values[k];
                    if (!conv_config_ok(d, &c, &s))
                        continue; /* a value this device or shape rules out (a work-group on a CPU) */
                    test_family_config(d, f, &c, &s, 700 + (uint64_t)configs++);
                    if (!every_geometry) {
                        g++;
                        break;
                    }
                }
        }
    }
    CHECK(configs >= (families_only() ? 1 : rcl_test_small() ? 6 : 40), "%d family configurations tested", configs);
    CHECK_OK(rcl_conv_set_policy(d, "auto"));
}

/* The policy's configuration is the one that runs: a forced family on the shapes it handles,
 * im2col + GEMM on the others (5x5 here). */
static void test_policy(rcl_device *d, const char *policy, const char *fwd, const char *dw) {
    rcl_conv_shape ok = {2, 5, 9, 9, 6, 3, 3, 2, 1}, other = {2, 5, 9, 9, 6, 5, 5, 1, 2};
    char name[RCL_CONV_CONFIG_LEN];
    CHECK_OK(rcl_conv_set_policy(d, policy));
    CHECK_OK(rcl_conv_choice_for(d, &ok, RCL_CONV_FWD, NULL, NULL, NULL, name, sizeof name));
    CHECK(strncmp(name, fwd, strlen(fwd)) == 0, "%s: forward runs %s (want %s)", policy, name, fwd);
    CHECK_OK(rcl_conv_choice_for(d, &ok, RCL_CONV_DW, NULL, NULL, NULL, name, sizeof name));
    CHECK(strncmp(name, dw, strlen(dw)) == 0, "%s: dw runs %s (want %s)", policy, name, dw);
    CHECK_OK(rcl_conv_choice_for(d, &other, RCL_CONV_DX, NULL, NULL, NULL, name, sizeof name));
    CHECK(strcmp(name, "gemm") == 0, "%s: 5x5 dx runs %s (want gemm)", policy, name);
}

static void test_bad_policy(rcl_device *d) {
    CHECK_FAILS(rcl_conv_set_policy(d, "fastest"), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "fastest") != NULL, "error names the word: %s", rcl_last_error());
    CHECK_FAILS(rcl_conv_set_policy(d, "fwd=chan:CIB=2"), RCL_ERR_INVALID_ARG); /* a dw parameter */
    CHECK(strstr(rcl_last_error(), "CIB") != NULL, "error names the parameter: %s", rcl_last_error());
    CHECK_FAILS(rcl_conv_set_policy(d, "fwd=chan:VW=5"), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "4, 8, 16") != NULL, "error lists the values: %s", rcl_last_error());
    CHECK_FAILS(rcl_conv_set_policy(d, "fwd=chan:VW="), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_conv_set_policy(d, "bwd=gemm"), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_conv_set_policy(d, "direct-8x8"), RCL_ERR_INVALID_ARG); /* the old names */
    CHECK_OK(rcl_conv_set_policy(d, "fwd=gemm,dw=auto"));
    rcl_conv_shape s = {1, 3, 5, 5, 2, 3, 3, 1, 1};
    char name[RCL_CONV_CONFIG_LEN];
    CHECK_FAILS(rcl_conv_choice_for(d, &s, RCL_CONV_DW, NULL, NULL, NULL, name, sizeof name), RCL_ERR_INVALID_ARG);
    char buf[256];
    rcl_conv_policy_string(d, buf, sizeof buf);
    CHECK(strcmp(buf, "fwd=gemm,dx=auto,dw=auto") == 0, "policy string %s", buf);
    CHECK_OK(rcl_conv_set_policy(d, "dw=chan:VW=8:CIB=2"));
    rcl_conv_policy_string(d, buf, sizeof buf);
    CHECK(strstr(buf, "dw=chan:VW=8:CIB=2:") != NULL, "policy string %s", buf);
}

int main(void) {
    test_reference_gradient();
    rcl_device *d = rcl_test_device(0);
    if (families_only()) { /* oclgrind: the kernel families alone */
        static const char *const families[] = {"direct", "chan", "local"}; /* local: GPU class */
        for (int i = 0; i < 3; i++) {
            if (!family_tested(families[i]))
                continue;
            CHECK_OK(rcl_conv_set_policy(d, families[i]));
            test_vs_reference(d); /* (determinism: in the full run, for every family) */
        }
        test_family_space(d);
        rcl_device_close(d);
        return rcl_test_finish();
    }
    /* every family against the reference (each pinned; local runs as gemm on the CPU kernel
     * class), then auto */
    static const char *const policies[] = {"gemm", "direct", "chan", "local", "auto"};
    for (int i = 0; i < 5; i++) {
        CHECK_OK(rcl_conv_set_policy(d, policies[i]));
        test_vs_reference(d);
        test_determinism(d);
        test_no_dx(d);
    }
    test_family_space(d);
    test_policy(d, "direct", "direct:", "direct:");
    test_policy(d, "chan", "chan:", "chan:");
    test_policy(d, "fwd=chan:VW=8:R=1:X=4,dx=gemm,dw=direct", "chan:VW=8:R=1:X=4:CB=1:WG=", "direct:");
    test_policy(d, "gemm", "gemm", "gemm");
    test_bad_policy(d);
    test_chunking(d);
    test_bad_shapes(d);
    rcl_device_close(d);
    return rcl_test_finish();
}
