/* The pixel-vector families (kernels/tuned/conv2d_direct.cl): a vector's lanes are VW
 * neighbouring pixels of a row, a work item holds COB channels x PXV vectors. Each pass
 * zero-pads its input into a workspace slot (so the kernels have no bounds tests in their
 * inner loops) and packs the weights so a tile's weights are contiguous. The weight gradient
 * is a split reduction: partial sums over slices of the n*ho output rows, then their sum.
 *
 * Workspace slots: 0 padded x; 1 packed weights; 2 padded dy; 3 dw partial sums. */
#include "conv2d_family.h"

#define GEOMETRIES {{3, 1, 1}, {3, 1, 2}, {1, 0, 1}, {1, 0, 2}}
#define PARAM_VW {"VW", 1, 3, {4, 8, 16}, "lanes per vector: pixels of one row"}
#define PARAM_WG \
    {"WG", 0, 5, {1, 16, 32, 64, 128}, "work-group size (1 on CPU devices: a work item is a whole tile)"}
/* parameter order of the forward and input-gradient families */
enum { T_VW, T_COB, T_PXV, T_WG };
/* ... and of the weight-gradient family */
enum { W_VW, W_DCOB, W_DTB, W_GROUP, W_SPLIT, W_WG };

/* Width of the padded input rows: the image with its padding, and every column a tile of
 * `vec` output pixels reads (whole vectors past the last output column); even at stride 2,
 * whose rows are stored as even then odd columns. */
static int xpad_width(const rcl_conv_shape *s, int vec) {
    int need = s->stride * conv_round_up(rcl_conv_out_w(s), vec) + s->kw - 1;
    if (need < s->w + 2 * s->pad)
        need = s->w + 2 * s->pad;
    return s->stride == 2 ? conv_round_up(need, 2) : need;
}

/* ---- forward: COB output channels x PXV*VW pixels of one output row ---- */

static int fwd_valid(const rcl_device *d, const rcl_conv_shape *s, const int *v) {
    size_t hp = (size_t)s->h + 2 * s->pad;
    return v[T_COB] * v[T_PXV] <= 32 && conv_wg_ok(d, v[T_WG]) &&
           conv_fits(d, (size_t)s->n * s->c_in * hp * xpad_width(s, v[T_VW] * v[T_PXV])) &&
           conv_fits(d, (size_t)conv_round_up(s->c_out, v[T_COB]) * s->c_in * s->kh * s->kw);
}

/* COB x PXV near half the vector registers. */
static void tile_start(const rcl_device *d, int *v) {
    v[T_VW] = conv_start_lanes(d);
    v[T_COB] = conv_vector_registers(d) >= 32 ? 12 : 8;
    v[T_PXV] = 1;
    v[T_WG] = rcl_device_gpu_kernels(d) ? 64 : 1;
}

static void fwd_start(const rcl_device *d, const rcl_conv_shape *s, int *v) {
    (void)s;
    tile_start(d, v);
}

static rcl_status fwd_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                          const rcl_tensor *x, const rcl_tensor *w, rcl_tensor *y) {
    const int *v = c->v;
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s), kk = s->kh * s->kw, vec = v[T_VW] * v[T_PXV];
    int hp = s->h + 2 * s->pad, wp = xpad_width(s, vec);
    int blocks = conv_ceil_div(s->c_out, v[T_COB]), xtiles = conv_ceil_div(wo, vec);
    cl_mem xp, wf;
    RCL_TRY(rcl_device_workspace(d, 0, (size_t)s->n * s->c_in * hp * wp * sizeof(float), &xp));
    RCL_TRY(rcl_device_workspace(d, 1, (size_t)blocks * v[T_COB] * s->c_in * kk * sizeof(float), &wf));
    RCL_TRY(rcl_conv_pad(d, x->buf, xp, s->n * s->c_in, s->h, s->w, hp, wp, s->pad, s->pad, s->stride == 2));
    RCL_TRY(rcl_conv_pack(d, w->buf, wf, s->c_out, s->c_in, kk, v[T_COB], blocks, 0, 0));
    size_t global = (size_t)s->n * blocks * ho * xtiles, local = (size_t)v[T_WG];
    rcl_arg a[] = {RCL_MEM(xp),      RCL_MEM(wf), RCL_MEM(y->buf),   RCL_INT(s->n),
                   RCL_INT(s->c_in), RCL_INT(hp), RCL_INT(wp),       RCL_INT(s->c_out),
                   RCL_INT(ho),      RCL_INT(wo), RCL_INT(xtiles)};
    return rcl_kernel_launch_variant(d, build, 0, 1, &global, &local, 11, a);
}

const conv_family rcl_conv_direct_fwd_family = {
    "direct", RCL_CONV_FWD, "tuned/conv2d_direct.cl", {"conv_direct_fwd"}, 4, GEOMETRIES, 4,
    {PARAM_VW,
     {"COB", 1, 6, {4, 6, 8, 12, 16, 24}, "output channels per tile"},
     {"PXV", 1, 2, {1, 2}, "pixel vectors per tile row"},
     PARAM_WG},
    fwd_valid, fwd_start, fwd_run};

/* ---- input gradient: COB/S input channels x PXV*VW*S pixels of one dx row ---- */

/* The padded dy rows the dx tiles read: dy at column qx of rows of wq floats, zeros past
 * it up to the last vector of the last tile. */
static void dx_dims(const rcl_conv_shape *s, const int *v, int *qx, int *wq, int *xtiles) {
    int vec = v[T_VW] * v[T_PXV];
    *qx = conv_ceil_div(s->kw - 1 - s->pad, s->stride);
    *xtiles = conv_ceil_div(s->w, vec * s->stride);
    *wq = *qx + *xtiles * vec + (s->stride - 1 + s->pad) / s->stride;
    if (*wq < *qx + rcl_conv_out_w(s))
        *wq = *qx + rcl_conv_out_w(s);
}

static int dx_valid(const rcl_device *d, const rcl_conv_shape *s, const int *v) {
    int qx, wq, xtiles;
    dx_dims(s, v, &qx, &wq, &xtiles);
    return v[T_COB] % s->stride == 0 && v[T_COB] * v[T_PXV] <= 32 && conv_wg_ok(d, v[T_WG]) &&
           conv_fits(d, (size_t)s->n * s->c_out * rcl_conv_out_h(s) * wq) &&
           conv_fits(d, (size_t)conv_round_up(s->c_in, v[T_COB]) * s->c_out * s->kh * s->kw);
}

static void dx_start(const rcl_device *d, const rcl_conv_shape *s, int *v) {
    (void)s;
    tile_start(d, v);
}

static rcl_status dx_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                         const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx) {
    const int *v = c->v;
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s), kk = s->kh * s->kw;
    int qx, wq, xtiles;
    dx_dims(s, v, &qx, &wq, &xtiles);
    int cbw = v[T_COB] / s->stride, blocks = conv_ceil_div(s->c_in, cbw);
    cl_mem dyq, wx;
    RCL_TRY(rcl_device_workspace(d, 2, (size_t)s->n * s->c_out * ho * wq * sizeof(float), &dyq));
    RCL_TRY(rcl_device_workspace(d, 1, (size_t)blocks * cbw * s->c_out * kk * sizeof(float), &wx));
    RCL_TRY(rcl_conv_pad(d, dy->buf, dyq, s->n * s->c_out, ho, wo, ho, wq, 0, qx, 0));
    RCL_TRY(rcl_conv_pack(d, w->buf, wx, s->c_out, s->c_in, kk, cbw, blocks, 1, 0));
    size_t global = (size_t)s->n * blocks * s->h * xtiles, local = (size_t)v[T_WG];
    rcl_arg a[] = {RCL_MEM(dyq),      RCL_MEM(wx), RCL_MEM(dx->buf), RCL_INT(s->n),
                   RCL_INT(s->c_out), RCL_INT(ho), RCL_INT(wq),      RCL_INT(qx),
                   RCL_INT(s->c_in),  RCL_INT(s->h), RCL_INT(s->w),  RCL_INT(xtiles)};
    return rcl_kernel_launch_variant(d, build, 0, 1, &global, &local, 12, a);
}

const conv_family rcl_conv_direct_dx_family = {
    "direct", RCL_CONV_DX, "tuned/conv2d_direct.cl", {"conv_direct_dx"}, 4, GEOMETRIES, 4,
    {PARAM_VW,
     {"COB", 1, 6, {4, 6, 8, 12, 16, 24}, "input channels per tile, times the stride"},
     {"PXV", 1, 2, {1, 2}, "pixel vectors per tile row"},
     PARAM_WG},
    dx_valid, dx_start, dx_run};

/* ---- weight gradient: groups of DCOB x DTB register tiles over slices of the rows ---- */

/* Rows per chunk: about 2048 output values of a channel, so a chunk's inputs stay in the
 * cache while every tile of a work item reads them; at most the kernel's DW_CHUNK. */
#define DW_CHUNK 64 /* = kernels/tuned/conv2d_direct.cl */
static int dw_chunk(const rcl_conv_shape *s, int vw) {
    int c = 2048 / conv_round_up(rcl_conv_out_w(s), vw);
    return c < 8 ? 8 : c > DW_CHUNK ? DW_CHUNK : c;
}

/* Slices of the n*ho output rows: about SPLIT work items (slices x channel groups) per
 * compute unit, at least one chunk per slice, the partial sums under the workspace cap. */
static int dw_slices(const rcl_device *d, const rcl_conv_shape *s, const int *v) {
    unsigned cu = rcl_device_get_info(d)->compute_units;
    long groups = conv_ceil_div(conv_ceil_div(s->c_out, v[W_DCOB]), v[W_GROUP]);
    long target = (long)(cu ? cu : 1) * v[W_SPLIT];
    long slices = (target + groups - 1) / groups;
    long rows = (long)s->n * rcl_conv_out_h(s);
    if (slices > rows / dw_chunk(s, v[W_VW]))
        slices = rows / dw_chunk(s, v[W_VW]);
    size_t per_slice = (size_t)s->c_out * s->c_in * s->kh * s->kw;
    if (slices > 1 && !conv_fits(d, (size_t)slices * per_slice))
        slices = (long)(rcl_device_workspace_cap(d) / sizeof(float) / per_slice);
    return slices < 1 ? 1 : (int)slices;
}

static int dw_valid(const rcl_device *d, const rcl_conv_shape *s, const int *v) {
    int wq = conv_round_up(rcl_conv_out_w(s), v[W_VW]);
    return v[W_DCOB] * v[W_DTB] <= 24 && conv_wg_ok(d, v[W_WG]) &&
           conv_fits(d, (size_t)s->n * s->c_in * (s->h + 2 * s->pad) * xpad_width(s, v[W_VW])) &&
           conv_fits(d, (size_t)s->n * s->c_out * rcl_conv_out_h(s) * wq);
}

static void dw_start(const rcl_device *d, const rcl_conv_shape *s, int *v) {
    (void)s;
    v[W_VW] = conv_start_lanes(d);
    v[W_DCOB] = 4;
    v[W_DTB] = 3;
    v[W_GROUP] = 4;
    v[W_SPLIT] = rcl_device_gpu_kernels(d) ? 256 : 32;
    v[W_WG] = rcl_device_gpu_kernels(d) ? 64 : 1;
}

static rcl_status dw_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                         const rcl_tensor *x, const rcl_tensor *dy, rcl_tensor *dw) {
    const int *v = c->v;
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s);
    int hp = s->h + 2 * s->pad, wp = xpad_width(s, v[W_VW]), wq = conv_round_up(wo, v[W_VW]);
    int slices = dw_slices(d, s, v);
    size_t count = (size_t)s->c_out * s->c_in * s->kh * s->kw;
    cl_mem xp, dyq, part = dw->buf;
    RCL_TRY(rcl_device_workspace(d, 0, (size_t)s->n * s->c_in * hp * wp * sizeof(float), &xp));
    RCL_TRY(rcl_device_workspace(d, 2, (size_t)s->n * s->c_out * ho * wq * sizeof(float), &dyq));
    if (slices > 1)
        RCL_TRY(rcl_device_workspace(d, 3, (size_t)slices * count * sizeof(float), &part));
    RCL_TRY(rcl_conv_pad(d, x->buf, xp, s->n * s->c_in, s->h, s->w, hp, wp, s->pad, s->pad, s->stride == 2));
    RCL_TRY(rcl_conv_pad(d, dy->buf, dyq, s->n * s->c_out, ho, wo, ho, wq, 0, 0, 0));
    size_t groups = (size_t)conv_ceil_div(conv_ceil_div(s->c_out, v[W_DCOB]), v[W_GROUP]);
    size_t global = (size_t)slices * groups, local = (size_t)v[W_WG];
    rcl_arg a[] = {RCL_MEM(xp),       RCL_MEM(dyq), RCL_MEM(part),       RCL_INT(s->n),
                   RCL_INT(s->c_in),  RCL_INT(hp),  RCL_INT(wp),         RCL_INT(s->c_out),
                   RCL_INT(ho),       RCL_INT(wq),  RCL_INT(0),          RCL_INT(wq),
                   RCL_INT(slices),   RCL_INT(v[W_GROUP]), RCL_INT(dw_chunk(s, v[W_VW]))};
    RCL_TRY(rcl_kernel_launch_variant(d, build, 0, 1, &global, &local, 15, a));
    return slices > 1 ? rcl_conv_dw_reduce(d, part, dw->buf, slices, (int)count) : RCL_OK;
}

const conv_family rcl_conv_direct_dw_family = {
    "direct", RCL_CONV_DW, "tuned/conv2d_direct.cl", {"conv_direct_dw"}, 4, GEOMETRIES, 6,
    {PARAM_VW,
     {"DCOB", 1, 3, {1, 2, 4}, "output channels per register tile"},
     {"DTB", 1, 3, {3, 6, 9}, "weight taps per register tile"},
     {"GROUP", 0, 4, {1, 2, 4, 8}, "register tiles of output channels per work item (they share a chunk of rows in the cache)"},
     {"SPLIT", 0, 4, {8, 32, 128, 256}, "work items per compute unit the reduction is split into"},
     PARAM_WG},
    dw_valid, dw_start, dw_run};
