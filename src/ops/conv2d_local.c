/* The local-memory implicit-GEMM families for GPUs (kernels/tuned/conv2d_local.cl): every
 * pass as a tiled matrix product whose operands are gathered from the tensors, work-groups
 * staging their tiles in local memory. Any kernel size, padding and stride. Only for the GPU
 * kernel class: on a CPU device (PoCL) the barriers would spill every live value. The weight
 * gradient splits its reduction over the output pixels into slices (workspace slot 3), added
 * in order by conv_dw_reduce. Square kernels of any size, any padding and stride. */
#include "conv2d_family.h"

/* parameter order */
enum { L_TSM, L_TSN, L_TSK, L_WPTM, L_WPTN, L_SPLIT };

#define PARAMS_TILE                                                                           \
    {"TSM", 1, 4, {16, 32, 64, 128}, "output rows (channels) per work-group tile"},           \
        {"TSN", 1, 4, {16, 32, 64, 128}, "output columns (pixels, or weight taps of dw) per tile"}, \
        {"TSK", 1, 3, {8, 16, 32}, "reduction chunk staged in local memory"},                 \
        {"WPTM", 1, 4, {1, 2, 4, 8}, "rows per work item"},                                   \
        {"WPTN", 1, 4, {1, 2, 4, 8}, "columns per work item"}

static int threads(const int *v) { return (v[L_TSM] / v[L_WPTM]) * (v[L_TSN] / v[L_WPTN]); }

/* GPU kernels only; the work-group within the device's limits; the tiles in local memory. */
static int tile_valid(const rcl_device *d, const int *v) {
    const rcl_device_info *inf = rcl_device_get_info(d);
    return rcl_device_gpu_kernels(d) && (size_t)threads(v) <= inf->max_work_group &&
           threads(v) >= 16 && v[L_WPTM] * v[L_WPTN] <= 64 &&
           (unsigned long long)(v[L_TSM] + v[L_TSN]) * v[L_TSK] * sizeof(float) <= inf->local_mem;
}

/* The smallest of 16, 32, 64 that covers a side of the pass's matrix (a small layer wastes
 * less of its tiles and gets more work-groups), 16 deep, 4 x 4 outputs per work item (8 x 8
 * where work-groups hold fewer than 256 items and the tile is large). */
static int side(long m) { return m <= 16 ? 16 : m <= 32 ? 32 : 64; }

static void tile_start(const rcl_device *d, int mm, long nn, int *v) {
    v[L_TSM] = side(mm), v[L_TSN] = side(nn), v[L_TSK] = 16;
    v[L_WPTM] = v[L_WPTN] = 4;
    if ((v[L_TSM] / 4) * (v[L_TSN] / 4) > (int)rcl_device_get_info(d)->max_work_group)
        v[L_WPTM] = v[L_WPTN] = 8;
}

static void fwd_start(const rcl_device *d, const rcl_conv_shape *s, int *v) {
    tile_start(d, s->c_out, (long)s->n * rcl_conv_out_h(s) * rcl_conv_out_w(s), v);
}

static void dx_start(const rcl_device *d, const rcl_conv_shape *s, int *v) {
    tile_start(d, s->c_in, (long)s->n * s->h * s->w, v);
}

static int pass_valid(const rcl_device *d, const rcl_conv_shape *s, const int *v) {
    return s->kh == s->kw && tile_valid(d, v);
}

/* One TSM x TSN tile per work-group: a = weights, b = x (forward) or dy (dx). */
static rcl_status launch(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                         int kernel, cl_mem a, cl_mem b, cl_mem out, int mm, long nn) {
    const int *v = c->v;
    size_t local = (size_t)threads(v);
    size_t global = (size_t)conv_ceil_div(mm, v[L_TSM]) * (size_t)((nn + v[L_TSN] - 1) / v[L_TSN]) * local;
    rcl_arg args[] = {RCL_MEM(a),       RCL_MEM(b),    RCL_MEM(out),       RCL_INT(s->n),
                      RCL_INT(s->c_in), RCL_INT(s->h), RCL_INT(s->w),      RCL_INT(s->c_out),
                      RCL_INT(rcl_conv_out_h(s)), RCL_INT(rcl_conv_out_w(s))};
    return rcl_kernel_launch_variant(d, build, kernel, 1, &global, &local, 10, args);
}

static rcl_status fwd_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                          const rcl_tensor *x, const rcl_tensor *w, rcl_tensor *y) {
    long nn = (long)s->n * rcl_conv_out_h(s) * rcl_conv_out_w(s);
    return launch(d, s, c, build, 0, w->buf, x->buf, y->buf, s->c_out, nn);
}

static rcl_status dx_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                         const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx) {
    return launch(d, s, c, build, 0, w->buf, dy->buf, dx->buf, s->c_in, (long)s->n * s->h * s->w);
}

const conv_family rcl_conv_local_fwd_family = {
    "local", RCL_CONV_FWD, "tuned/conv2d_local.cl", {"conv_local_fwd"}, 0, {{0}}, 5,
    {PARAMS_TILE}, pass_valid, fwd_start, fwd_run};

const conv_family rcl_conv_local_dx_family = {
    "local", RCL_CONV_DX, "tuned/conv2d_local.cl", {"conv_local_dx"}, 0, {{0}}, 5,
    {PARAMS_TILE}, pass_valid, dx_start, dx_run};

/* ---- weight gradient: the reduction over n*ho*wo split into slices ---- */

/* About SPLIT work-groups per compute unit, a slice at least one tile of the reduction, the
 * partial sums under the workspace cap. */
static int dw_slices(const rcl_device *d, const rcl_conv_shape *s, const int *v) {
    long tiles = (long)conv_ceil_div(s->c_out, v[L_TSM]) * conv_ceil_div(s->c_in * s->kh * s->kw, v[L_TSN]);
    unsigned cu = rcl_device_get_info(d)->compute_units;
    long target = (long)(cu ? cu : 1) * v[L_SPLIT];
    long slices = (target + tiles - 1) / tiles;
    long kd = (long)s->n * rcl_conv_out_h(s) * rcl_conv_out_w(s);
    if (slices > kd / v[L_TSK])
        slices = kd / v[L_TSK];
    size_t per_slice = (size_t)s->c_out * s->c_in * s->kh * s->kw;
    if (slices > 1 && !conv_fits(d, (size_t)slices * per_slice))
        slices = (long)(rcl_device_workspace_cap(d) / sizeof(float) / per_slice);
    return slices < 1 ? 1 : (int)slices;
}

static void dw_start(const rcl_device *d, const rcl_conv_shape *s, int *v) {
    tile_start(d, s->c_out, (long)s->c_in * s->kh * s->kw, v);
    v[L_SPLIT] = 4;
}

static rcl_status dw_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                         const rcl_tensor *x, const rcl_tensor *dy, rcl_tensor *dw) {
    const int *v = c->v;
    int slices = dw_slices(d, s, v);
    size_t count = (size_t)s->c_out * s->c_in * s->kh * s->kw;
    cl_mem part = dw->buf;
    if (slices > 1)
        RCL_TRY(rcl_device_workspace(d, 3, (size_t)slices * count * sizeof(float), &part));
    size_t local = (size_t)threads(v);
    size_t global = (size_t)conv_ceil_div(s->c_out, v[L_TSM]) *
                    conv_ceil_div(s->c_in * s->kh * s->kw, v[L_TSN]) * slices * local;
    rcl_arg args[] = {RCL_MEM(dy->buf),  RCL_MEM(x->buf), RCL_MEM(part),     RCL_INT(s->n),
                      RCL_INT(s->c_in),  RCL_INT(s->h),   RCL_INT(s->w),     RCL_INT(s->c_out),
                      RCL_INT(rcl_conv_out_h(s)), RCL_INT(rcl_conv_out_w(s)), RCL_INT(slices)};
    RCL_TRY(rcl_kernel_launch_variant(d, build, 0, 1, &global, &local, 11, args));
    return slices > 1 ? rcl_conv_dw_reduce(d, part, dw->buf, slices, (int)count) : RCL_OK;
}

const conv_family rcl_conv_local_dw_family = {
    "local", RCL_CONV_DW, "tuned/conv2d_local.cl", {"conv_local_dw"}, 0, {{0}}, 6,
    {PARAMS_TILE, {"SPLIT", 0, 4, {1, 2, 4, 8}, "work-groups per compute unit the reduction is split into"}},
    pass_valid, dw_start, dw_run};
