/* conv2d with the register-tiled direct kernels of kernels/tuned/conv2d_direct.cl: no im2col
 * buffer. Each pass zero-pads its input into a workspace slot (so the kernels have no
 * bounds tests in their inner loops), packs the weights so a tile's weights are contiguous,
 * and launches one work item per output tile. The weight gradient is a split reduction:
 * partial sums over slices of the n*ho output rows, then conv_dw_reduce.
 *
 * Workspace slots: 0 padded x; 1 packed weights; 2 padded dy (one layout for both backward
 * passes, padded once when both run direct); 3 dw partial sums. */
#include <limits.h>
#include <stdio.h>

#include "conv2d_internal.h"

#define FAMILY "tuned/conv2d_direct.cl"

static int round_up(int a, int m) { return (a + m - 1) / m * m; }
static int ceil_div(int a, int m) { return (a + m - 1) / m; }

static int geometry_ok(const rcl_conv_shape *s) {
    if (s->kh != s->kw || (s->stride != 1 && s->stride != 2))
        return 0;
    return (s->kh == 3 && s->pad == 1) || (s->kh == 1 && s->pad == 0);
}

/* Width of the padded input rows: the image with its padding, and every column a tile of
 * `vec` output pixels reads (whole vectors past the last output column); even at stride 2,
 * whose rows are stored as even then odd columns. */
static int xpad_width(const rcl_conv_shape *s, const conv_dims *g, int vec) {
    int need = s->stride * round_up(g->wo, vec) + s->kw - 1;
    if (need < s->w + 2 * s->pad)
        need = s->w + 2 * s->pad;
    return s->stride == 2 ? round_up(need, 2) : need;
}

/* dx pass: left padding and width of the padded dy rows. */
static void dyq_dims(const rcl_conv_shape *s, const conv_dims *g, const rcl_conv_tiles *t, int *qx,
                     int *wq, int *xtiles) {
    *qx = ceil_div(s->kw - 1 - s->pad, s->stride);
    *xtiles = ceil_div(s->w, 8 * s->stride * t->pxv);
    *wq = *qx + *xtiles * 8 * t->pxv + (s->stride - 1 + s->pad) / s->stride;
    if (*wq < *qx + g->wo)
        *wq = *qx + g->wo;
}

/* How the weight gradient is split: rows per chunk (about 2048 output values of a channel, so
 * a chunk's inputs stay in the cache while every tile of a work item reads them, at most the
 * kernel's DW_CHUNK), and slices of the n*ho output rows: enough work items (slices x channel
 * groups) to fill the device (measured on PoCL: 32 per compute unit), at least one chunk per
 * slice, the partial sums under the workspace cap. */
#define DW_CHUNK 64 /* = kernels/tuned/conv2d_direct.cl */
static int dw_chunk(const conv_dims *g) {
    int c = 2048 / round_up(g->wo, 8);
    return c < 8 ? 8 : c > DW_CHUNK ? DW_CHUNK : c;
}

static int dw_slices(const rcl_device *d, const rcl_conv_shape *s, const conv_dims *g,
                     const rcl_conv_tiles *t) {
    const rcl_device_info *inf = rcl_device_get_info(d);
    long groups = ceil_div(ceil_div(s->c_out, t->dcob), t->dgroup);
    long target = (long)(inf->compute_units ? inf->compute_units : 1) * (rcl_device_gpu_kernels(d) ? 256 : 32);
    long slices = (target + groups - 1) / groups;
    long rows = (long)s->n * g->ho;
    if (slices > rows / dw_chunk(g))
        slices = rows / dw_chunk(g);
    size_t per_slice = (size_t)s->c_out * g->k * sizeof(float);
    if ((size_t)slices * per_slice > rcl_device_workspace_cap(d))
        slices = (long)(rcl_device_workspace_cap(d) / per_slice);
    return slices < 1 ? 1 : (int)slices;
}

static int fits(const rcl_device *d, size_t elements) {
    return elements <= INT_MAX && elements * sizeof(float) <= rcl_device_workspace_cap(d);
}

int rcl_conv_direct_supports(const rcl_device *d, const rcl_conv_shape *s, const rcl_conv_tiles *t) {
    if (!geometry_ok(s) || t->cob % 2 != 0)
        return 0;
    conv_dims g;
    rcl_conv_dims(s, &g);
    size_t planes_in = (size_t)s->n * s->c_in, planes_out = (size_t)s->n * s->c_out;
    size_t hp = (size_t)s->h + 2 * s->pad;
    int qx, wq, xtiles;
    dyq_dims(s, &g, t, &qx, &wq, &xtiles);
    /* dw reads whole float8 rows of the padded dy from column qx */
    if (qx + round_up(g.wo, 8) > wq)
        return 0;
    return fits(d, planes_in * hp * xpad_width(s, &g, 8 * t->pxv)) &&
           fits(d, planes_in * hp * xpad_width(s, &g, 8)) && fits(d, planes_out * g.ho * wq) &&
           fits(d, planes_out * g.ho * round_up(g.wo, 8)) &&
           fits(d, (size_t)round_up(s->c_out, t->cob) * round_up(s->c_in, t->cob) * s->kh * s->kw);
}

/* -w: clang warns (-Wpsabi) at every float8/float16 passed to a built-in on a target whose
 * baseline lacks AVX; PoCL prints only the count, which would reach users as noise. */
static rcl_status family(rcl_device *d, const rcl_conv_tiles *t, int *handle) {
    char defines[96];
    snprintf(defines, sizeof defines, "-w -DCOB=%d -DPXV=%d -DDCOB=%d -DDTB=%d", t->cob, t->pxv,
             t->dcob, t->dtb);
    return rcl_program_variant(d, FAMILY, defines, handle);
}

static void kernel_name(const char *pass, const rcl_conv_shape *s, char *out, size_t cap) {
    snprintf(out, cap, "conv_%s_k%dp%ds%d", pass, s->kh, s->pad, s->stride);
}

/* dst = src zero-padded: planes of h x w placed at (top, left) in planes of hp x wp; split:
 * rows stored as even then odd columns (the input of a stride-2 convolution). */
static rcl_status pad(rcl_device *d, int handle, cl_mem src, cl_mem dst, int planes, int h, int w,
                      int hp, int wp, int top, int left, int split) {
    size_t global = (size_t)planes * hp;
    rcl_arg a[] = {RCL_MEM(src), RCL_INT(0),  RCL_MEM(dst), RCL_INT(planes), RCL_INT(h),    RCL_INT(w),
                   RCL_INT(hp),  RCL_INT(wp), RCL_INT(top), RCL_INT(left),   RCL_INT(split)};
    return rcl_kernel_run_variant(d, handle, "conv_pad", 1, &global, NULL, 11, a);
}

rcl_status rcl_conv_direct_forward(rcl_device *d, const rcl_conv_shape *s, const rcl_conv_tiles *t,
                                   const rcl_tensor *x, const rcl_tensor *w, rcl_tensor *y) {
    conv_dims g;
    rcl_conv_dims(s, &g);
    int h;
    RCL_TRY(family(d, t, &h));
    int hp = s->h + 2 * s->pad, wp = xpad_width(s, &g, 8 * t->pxv), kk = s->kh * s->kw;
    int blocks = ceil_div(s->c_out, t->cob), xtiles = ceil_div(g.wo, 8 * t->pxv);
    cl_mem xp, wf;
    RCL_TRY(rcl_device_workspace(d, 0, (size_t)s->n * s->c_in * hp * wp * sizeof(float), &xp));
    RCL_TRY(rcl_device_workspace(d, 1, (size_t)blocks * s->c_in * kk * t->cob * sizeof(float), &wf));
    RCL_TRY(pad(d, h, x->buf, xp, s->n * s->c_in, s->h, s->w, hp, wp, s->pad, s->pad, s->stride == 2));
    size_t npack = (size_t)blocks * s->c_in * kk * t->cob;
    rcl_arg pa[] = {RCL_MEM(w->buf), RCL_MEM(wf), RCL_INT(s->c_out), RCL_INT(s->c_in), RCL_INT(kk)};
    RCL_TRY(rcl_kernel_run_variant(d, h, "conv_pack_fwd", 1, &npack, NULL, 5, pa));
    char name[32];
    kernel_name("fwd", s, name, sizeof name);
    size_t global = (size_t)s->n * blocks * g.ho * xtiles, local = (size_t)t->local;
    rcl_arg a[] = {RCL_MEM(xp),         RCL_MEM(wf),     RCL_MEM(y->buf), RCL_INT(s->n),
                   RCL_INT(s->c_in),    RCL_INT(hp),     RCL_INT(wp),     RCL_INT(s->c_out),
                   RCL_INT(g.ho),       RCL_INT(g.wo),   RCL_INT(xtiles)};
    return rcl_kernel_run_variant(d, h, name, 1, &global, &local, 11, a);
}

/* The output gradient zero-padded for both backward kernels: rows of wq floats, dy at column
 * qx and zeros past it (whole float8 vectors of the dx tiles and of dw's rows). Slot 2. */
typedef struct {
    cl_mem buf;
    int qx, wq, xtiles;
} padded_dy;

static rcl_status pad_dy(rcl_device *d, int h, const rcl_conv_shape *s, const conv_dims *g,
                         const rcl_conv_tiles *t, const rcl_tensor *dy, padded_dy *q) {
    dyq_dims(s, g, t, &q->qx, &q->wq, &q->xtiles);
    RCL_TRY(rcl_device_workspace(d, 2, (size_t)s->n * s->c_out * g->ho * q->wq * sizeof(float), &q->buf));
    return pad(d, h, dy->buf, q->buf, s->n * s->c_out, g->ho, g->wo, g->ho, q->wq, 0, q->qx, 0);
}

static rcl_status dx_run(rcl_device *d, int h, const rcl_conv_shape *s, const conv_dims *g,
                         const rcl_conv_tiles *t, const rcl_tensor *w, const padded_dy *q,
                         rcl_tensor *dx) {
    int kk = s->kh * s->kw, cbw = t->cob / s->stride, blocks = ceil_div(s->c_in, cbw);
    cl_mem wx;
    RCL_TRY(rcl_device_workspace(d, 1, (size_t)blocks * s->c_out * kk * cbw * sizeof(float), &wx));
    size_t npack = (size_t)blocks * s->c_out * kk * cbw;
    rcl_arg pa[] = {RCL_MEM(w->buf), RCL_MEM(wx), RCL_INT(s->c_out), RCL_INT(s->c_in), RCL_INT(kk),
                    RCL_INT(cbw)};
    RCL_TRY(rcl_kernel_run_variant(d, h, "conv_pack_dx", 1, &npack, NULL, 6, pa));
    char name[32];
    kernel_name("dx", s, name, sizeof name);
    size_t global = (size_t)s->n * blocks * s->h * q->xtiles, local = (size_t)t->local;
    rcl_arg a[] = {RCL_MEM(q->buf),   RCL_MEM(wx),   RCL_MEM(dx->buf), RCL_INT(s->n),
                   RCL_INT(s->c_out), RCL_INT(g->ho), RCL_INT(q->wq),  RCL_INT(q->qx),
                   RCL_INT(s->c_in),  RCL_INT(s->h), RCL_INT(s->w),    RCL_INT(q->xtiles)};
    return rcl_kernel_run_variant(d, h, name, 1, &global, &local, 12, a);
}

static rcl_status dw_run(rcl_device *d, int h, const rcl_conv_shape *s, const conv_dims *g,
                         const rcl_conv_tiles *t, const rcl_tensor *x, const padded_dy *q,
                         rcl_tensor *dw) {
    int hp = s->h + 2 * s->pad, wp = xpad_width(s, g, 8), wov = round_up(g->wo, 8);
    int slices = dw_slices(d, s, g, t);
    cl_mem xp, part = dw->buf;
    RCL_TRY(rcl_device_workspace(d, 0, (size_t)s->n * s->c_in * hp * wp * sizeof(float), &xp));
    if (slices > 1)
        RCL_TRY(rcl_device_workspace(d, 3, (size_t)slices * s->c_out * g->k * sizeof(float), &part));
    RCL_TRY(pad(d, h, x->buf, xp, s->n * s->c_in, s->h, s->w, hp, wp, s->pad, s->pad, s->stride == 2));
    char name[32];
    kernel_name("dw", s, name, sizeof name);
    size_t groups = (size_t)ceil_div(ceil_div(s->c_out, t->dcob), t->dgroup);
    size_t global = (size_t)slices * groups, local = (size_t)t->local;
    rcl_arg a[] = {RCL_MEM(xp),       RCL_MEM(q->buf), RCL_MEM(part),     RCL_INT(s->n),
                   RCL_INT(s->c_in),  RCL_INT(hp),     RCL_INT(wp),       RCL_INT(s->c_out),
                   RCL_INT(g->ho),    RCL_INT(q->wq),  RCL_INT(q->qx),    RCL_INT(wov),
                   RCL_INT(slices),   RCL_INT(t->dgroup), RCL_INT(dw_chunk(g))};
    RCL_TRY(rcl_kernel_run_variant(d, h, name, 1, &global, &local, 15, a));
    if (slices == 1)
        return RCL_OK; /* the single slice wrote dw itself */
    size_t count = (size_t)s->c_out * g->k;
    rcl_arg r[] = {RCL_MEM(part), RCL_MEM(dw->buf), RCL_INT(slices), RCL_INT(count)};
    return rcl_kernel_run_variant(d, h, "conv_dw_reduce", 1, &count, NULL, 4, r);
}

/* What each backward pass needs first: the kernel family and dy padded for the tiles. */
static rcl_status backward_prepare(rcl_device *d, const rcl_conv_shape *s, const rcl_conv_tiles *t,
                                   const rcl_tensor *dy, conv_dims *g, int *h, padded_dy *q) {
    rcl_conv_dims(s, g);
    RCL_TRY(family(d, t, h));
    return pad_dy(d, *h, s, g, t, dy, q);
}

rcl_status rcl_conv_direct_dx(rcl_device *d, const rcl_conv_shape *s, const rcl_conv_tiles *t,
                              const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx) {
    conv_dims g;
    int h;
    padded_dy q;
    RCL_TRY(backward_prepare(d, s, t, dy, &g, &h, &q));
    return dx_run(d, h, s, &g, t, w, &q, dx);
}

rcl_status rcl_conv_direct_dw(rcl_device *d, const rcl_conv_shape *s, const rcl_conv_tiles *t,
                              const rcl_tensor *x, const rcl_tensor *dy, rcl_tensor *dw) {
    conv_dims g;
    int h;
    padded_dy q;
    RCL_TRY(backward_prepare(d, s, t, dy, &g, &h, &q));
    return dw_run(d, h, s, &g, t, x, &q, dw);
}

rcl_status rcl_conv_direct_backward(rcl_device *d, const rcl_conv_shape *s,
                                    const rcl_conv_tiles *tx, const rcl_conv_tiles *tw,
                                    const rcl_tensor *x, const rcl_tensor *w, const rcl_tensor *dy,
                                    rcl_tensor *dx, rcl_tensor *dw) {
    conv_dims g;
    int hx, hw;
    padded_dy q;
    RCL_TRY(backward_prepare(d, s, tx, dy, &g, &hx, &q)); /* padded once, read by both passes */
    RCL_TRY(family(d, tw, &hw));
    RCL_TRY(dw_run(d, hw, s, &g, tw, x, &q, dw));
    return dx_run(d, hx, s, &g, tx, w, &q, dx);
}
