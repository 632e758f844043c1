/* The channel-vector families (kernels/tuned/conv2d_chan.cl): a vector's lanes are VW
 * channels. The forward and the stride-1 input gradient run conv_chan_fwd (the input
 * gradient as the forward of the output gradient padded by K-1-P, with the weights flipped
 * and transposed); the weight gradient runs conv_chan_dw as a split reduction.
 *
 * Workspace slots: 0 the padded input, 1 the packed weights, 2 the padded or blocked output
 * gradient, 3 the weight gradient's partial sums. */
#include "conv2d_family.h"

#define GEOMETRIES {{3, 1, 1}, {3, 1, 2}, {1, 0, 1}, {1, 0, 2}}
#define PARAM_VW {"VW", 1, 3, {4, 8, 16}, "lanes per vector: channels of one block"}
#define PARAM_WG \
    {"WG", 0, 5, {1, 16, 32, 64, 128}, "work-group size (1 on CPU devices: a work item is a whole tile)"}

/* ---- forward tiles: R rows x X columns of one block of VW channels ---- */

typedef struct {
    int ytiles, xtiles, hp, wp; /* tiles over the output, padded input rows x columns */
} fwd_dims;

/* The tiles over an output of ho x wo from an input of h x w padded by pad on each side. */
static fwd_dims tile_dims(const conv_config *c, int k, int stride, int h, int w, int pad, int ho, int wo) {
    fwd_dims t;
    int r = conv_value(c, "R"), x = conv_value(c, "X");
    t.ytiles = conv_ceil_div(ho, r);
    t.xtiles = conv_ceil_div(wo, x);
    t.hp = (t.ytiles * r - 1) * stride + k;
    t.wp = (t.xtiles * x - 1) * stride + k;
    if (t.hp < h + 2 * pad)
        t.hp = h + 2 * pad;
    if (t.wp < w + 2 * pad)
        t.wp = w + 2 * pad;
    return t;
}

static int tile_valid(const rcl_device *d, const int *v) {
    return v[1] * v[2] <= 32 && conv_wg_ok(d, v[3]); /* R*X accumulators: the register budget */
}

/* R x X near half the vector registers (the other half holds the weights and the loads). */
static void tile_start(const rcl_device *d, int wo, int *v) {
    int budget = conv_vector_registers(d) / 2;
    v[0] = conv_start_lanes(d);
    v[2] = wo >= 8 || budget < 16 ? 8 : 4;
    v[1] = budget / v[2] >= 2 ? 2 : 1;
    v[3] = rcl_device_gpu_kernels(d) ? 64 : 1;
}

static rcl_status launch_fwd(rcl_device *d, int build, const conv_config *c, cl_mem xp, cl_mem wq,
                             cl_mem y, int n, int c_in, int c_out, int ho, int wo, const fwd_dims *t) {
    int vw = conv_value(c, "VW");
    size_t global = (size_t)n * conv_ceil_div(c_out, vw) * t->ytiles * t->xtiles;
    size_t local = (size_t)conv_value(c, "WG");
    rcl_arg a[] = {RCL_MEM(xp),      RCL_MEM(wq),    RCL_MEM(y),       RCL_INT(n),
                   RCL_INT(c_in),    RCL_INT(t->hp), RCL_INT(t->wp),   RCL_INT(c_out),
                   RCL_INT(ho),      RCL_INT(wo),    RCL_INT(t->ytiles), RCL_INT(t->xtiles)};
    return rcl_kernel_launch_variant(d, build, 0, 1, &global, &local, 12, a);
}

static int fwd_valid(const rcl_device *d, const rcl_conv_shape *s, const int *v) {
    conv_config c = {&rcl_conv_chan_fwd_family, {v[0], v[1], v[2], v[3]}};
    fwd_dims t = tile_dims(&c, s->kh, s->stride, s->h, s->w, s->pad, rcl_conv_out_h(s), rcl_conv_out_w(s));
    return tile_valid(d, v) && conv_fits(d, (size_t)s->n * s->c_in * t.hp * t.wp) &&
           conv_fits(d, (size_t)conv_round_up(s->c_out, v[0]) * s->c_in * s->kh * s->kw);
}

static void fwd_start(const rcl_device *d, const rcl_conv_shape *s, int *v) {
    tile_start(d, rcl_conv_out_w(s), v);
}

static rcl_status fwd_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                          const rcl_tensor *x, const rcl_tensor *w, rcl_tensor *y) {
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s), kk = s->kh * s->kw, vw = conv_value(c, "VW");
    fwd_dims t = tile_dims(c, s->kh, s->stride, s->h, s->w, s->pad, ho, wo);
    cl_mem xp, wq;
    RCL_TRY(rcl_device_workspace(d, 0, (size_t)s->n * s->c_in * t.hp * t.wp * sizeof(float), &xp));
    RCL_TRY(rcl_device_workspace(d, 1, (size_t)conv_round_up(s->c_out, vw) * s->c_in * kk * sizeof(float), &wq));
    RCL_TRY(rcl_conv_pad(d, x->buf, xp, s->n * s->c_in, s->h, s->w, t.hp, t.wp, s->pad, s->pad, 0));
    RCL_TRY(rcl_conv_pack(d, w->buf, wq, s->c_out, s->c_in, kk, vw, 0, 0));
    return launch_fwd(d, build, c, xp, wq, y->buf, s->n, s->c_in, s->c_out, ho, wo, &t);
}

const conv_family rcl_conv_chan_fwd_family = {
    "chan", RCL_CONV_FWD, "tuned/conv2d_chan.cl", "conv_chan_fwd", 4, GEOMETRIES, 4,
    {PARAM_VW,
     {"R", 1, 4, {1, 2, 3, 4}, "output rows per tile"},
     {"X", 1, 6, {2, 4, 6, 8, 12, 16}, "output columns per tile"},
     PARAM_WG},
    fwd_valid, fwd_start, fwd_run};

/* ---- input gradient at stride 1: the forward of dy padded by K-1-P, weights flipped ---- */

static fwd_dims dx_dims(const rcl_conv_shape *s, const conv_config *c) {
    int q = s->kh - 1 - s->pad;
    return tile_dims(c, s->kh, 1, rcl_conv_out_h(s), rcl_conv_out_w(s), q, s->h, s->w);
}

static int dx_valid(const rcl_device *d, const rcl_conv_shape *s, const int *v) {
    conv_config c = {&rcl_conv_chan_dx_family, {v[0], v[1], v[2], v[3]}};
    fwd_dims t = dx_dims(s, &c);
    return tile_valid(d, v) && conv_fits(d, (size_t)s->n * s->c_out * t.hp * t.wp) &&
           conv_fits(d, (size_t)conv_round_up(s->c_in, v[0]) * s->c_out * s->kh * s->kw);
}

static void dx_start(const rcl_device *d, const rcl_conv_shape *s, int *v) { tile_start(d, s->w, v); }

static rcl_status dx_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                         const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx) {
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s), kk = s->kh * s->kw, vw = conv_value(c, "VW");
    int q = s->kh - 1 - s->pad;
    fwd_dims t = dx_dims(s, c);
    cl_mem dyp, wq;
    RCL_TRY(rcl_device_workspace(d, 2, (size_t)s->n * s->c_out * t.hp * t.wp * sizeof(float), &dyp));
    RCL_TRY(rcl_device_workspace(d, 1, (size_t)conv_round_up(s->c_in, vw) * s->c_out * kk * sizeof(float), &wq));
    RCL_TRY(rcl_conv_pad(d, dy->buf, dyp, s->n * s->c_out, ho, wo, t.hp, t.wp, q, q, 0));
    RCL_TRY(rcl_conv_pack(d, w->buf, wq, s->c_out, s->c_in, kk, vw, 1, 1));
    return launch_fwd(d, build, c, dyp, wq, dx->buf, s->n, s->c_out, s->c_in, s->h, s->w, &t);
}

const conv_family rcl_conv_chan_dx_family = {
    "chan", RCL_CONV_DX, "tuned/conv2d_chan.cl", "conv_chan_fwd", 2, {{3, 1, 1}, {1, 0, 1}}, 4,
    {PARAM_VW,
     {"R", 1, 4, {1, 2, 3, 4}, "input rows per tile"},
     {"X", 1, 6, {2, 4, 6, 8, 12, 16}, "input columns per tile"},
     PARAM_WG},
    dx_valid, dx_start, dx_run};

/* ---- weight gradient: CIB input channels x K*K taps x VW output channels per work item ---- */

typedef struct {
    int hp, wp, slices;
} dw_dims;

/* Work items: slices x channel blocks x input-channel groups, about SPLIT per compute unit
 * (a slice is at least one output row; the partial sums stay under the workspace cap). */
static dw_dims dw_dims_of(const rcl_device *d, const rcl_conv_shape *s, const int *v) {
    dw_dims g;
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s);
    g.hp = (ho - 1) * s->stride + s->kh;
    g.wp = (wo - 1) * s->stride + s->kw;
    if (g.hp < s->h + 2 * s->pad)
        g.hp = s->h + 2 * s->pad;
    if (g.wp < s->w + 2 * s->pad)
        g.wp = s->w + 2 * s->pad;
    long items = (long)conv_ceil_div(s->c_out, v[0]) * conv_ceil_div(s->c_in, v[1]);
    unsigned cu = rcl_device_get_info(d)->compute_units;
    long target = (long)(cu ? cu : 1) * v[2];
    long slices = (target + items - 1) / items, rows = (long)s->n * ho;
    size_t per_slice = (size_t)s->c_out * s->c_in * s->kh * s->kw;
    if (slices > rows)
        slices = rows;
    if (slices > 1 && !conv_fits(d, (size_t)slices * per_slice))
        slices = (long)(rcl_device_workspace_cap(d) / sizeof(float) / per_slice);
    g.slices = slices < 1 ? 1 : (int)slices;
    return g;
}

static int dw_valid(const rcl_device *d, const rcl_conv_shape *s, const int *v) {
    dw_dims g = dw_dims_of(d, s, v);
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s);
    return v[1] * s->kh * s->kw <= 36 && conv_wg_ok(d, v[3]) &&
           conv_fits(d, (size_t)s->n * s->c_in * g.hp * g.wp) &&
           conv_fits(d, (size_t)s->n * conv_round_up(s->c_out, v[0]) * ho * wo);
}

static void dw_start(const rcl_device *d, const rcl_conv_shape *s, int *v) {
    int budget = conv_vector_registers(d) - 4, taps = s->kh * s->kw;
    v[0] = conv_start_lanes(d);
    v[1] = 1;
    static const int cib[] = {1, 2, 3, 4, 8, 16};
    for (int i = 0; i < 6; i++)
        if (cib[i] * taps <= budget)
            v[1] = cib[i];
    v[2] = 32;
    v[3] = rcl_device_gpu_kernels(d) ? 64 : 1;
}

static rcl_status dw_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                         const rcl_tensor *x, const rcl_tensor *dy, rcl_tensor *dw) {
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s), vw = c->v[0];
    dw_dims g = dw_dims_of(d, s, c->v);
    size_t count = (size_t)s->c_out * s->c_in * s->kh * s->kw;
    cl_mem xp, db, part = dw->buf;
    RCL_TRY(rcl_device_workspace(d, 0, (size_t)s->n * s->c_in * g.hp * g.wp * sizeof(float), &xp));
    RCL_TRY(rcl_device_workspace(d, 2, (size_t)s->n * conv_round_up(s->c_out, vw) * ho * wo * sizeof(float), &db));
    if (g.slices > 1)
        RCL_TRY(rcl_device_workspace(d, 3, (size_t)g.slices * count * sizeof(float), &part));
    RCL_TRY(rcl_conv_pad(d, x->buf, xp, s->n * s->c_in, s->h, s->w, g.hp, g.wp, s->pad, s->pad, 0));
    RCL_TRY(rcl_conv_block(d, dy->buf, db, s->n, s->c_out, ho * wo, vw));
    size_t global = (size_t)g.slices * conv_ceil_div(s->c_out, vw) * conv_ceil_div(s->c_in, c->v[1]);
    size_t local = (size_t)c->v[3];
    rcl_arg a[] = {RCL_MEM(xp),     RCL_MEM(db),  RCL_MEM(part),     RCL_INT(s->n),
                   RCL_INT(s->c_in), RCL_INT(g.hp), RCL_INT(g.wp),    RCL_INT(s->c_out),
                   RCL_INT(ho),      RCL_INT(wo),   RCL_INT(g.slices)};
    RCL_TRY(rcl_kernel_launch_variant(d, build, 0, 1, &global, &local, 11, a));
    return g.slices > 1 ? rcl_conv_dw_reduce(d, part, dw->buf, g.slices, (int)count) : RCL_OK;
}

const conv_family rcl_conv_chan_dw_family = {
    "chan", RCL_CONV_DW, "tuned/conv2d_chan.cl", "conv_chan_dw", 4, GEOMETRIES, 4,
    {PARAM_VW,
     {"CIB", 1, 6, {1, 2, 3, 4, 8, 16}, "input channels per tile (CIB*K*K weight taps, at most 36)"},
     {"SPLIT", 0, 4, {2, 8, 32, 128}, "work items per compute unit the reduction is split into"},
     PARAM_WG},
    dw_valid, dw_start, dw_run};
