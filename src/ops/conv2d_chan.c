/* The channel-vector families (kernels/tuned/conv2d_chan.cl): a vector's lanes are VW
 * channels. The forward and the stride-1 input gradient run conv_chan_fwd (the input
 * gradient as the forward of the output gradient padded by K-1-P, with the weights flipped
 * and transposed); the weight gradient runs conv_chan_dw as a split reduction.
 *
 * Every pass reads its input either from a zero-padded copy (conv_pad) or, with BOUNDS=1, as it
 * is, testing each tap's bounds; the tuner measures which is cheaper per pass.
 *
 * Workspace slots: 0 the padded input, 1 the packed weights, 2 the padded or blocked output
 * gradient, 3 the weight gradient's partial sums. */
#include "conv2d_family.h"

#define GEOMETRIES {{3, 1, 1}, {3, 1, 2}, {1, 0, 1}, {1, 0, 2}}
#define PARAM_VW {"VW", 1, 3, {4, 8, 16}, "lanes per vector: channels of one block"}
#define PARAM_CB {"CB", 1, 2, {1, 2}, "channel blocks per tile (each input value feeds CB fmas)"}
#define PARAM_WG \
    {"WG", 0, 5, {1, 16, 32, 64, 128}, "work-group size (1 on CPU devices: a work item is a whole tile)"}
#define PARAM_BOUNDS \
    {"BOUNDS", 1, 2, {0, 1}, "0: read a zero-padded copy (conv_pad); 1: read the input, testing bounds"}

/* The buffer a kernel reads its input from: the input itself with BOUNDS, else its copy
 * (planes of h x w) zero-padded to hp x wp, `pad` rows and columns before it, in workspace
 * slot `slot`. */
static rcl_status chan_input(rcl_device *d, int bounds, int slot, cl_mem src, int planes, int h, int w,
                             int hp, int wp, int pad, cl_mem *out) {
    *out = src;
    if (bounds)
        return RCL_OK;
    RCL_TRY(rcl_device_workspace(d, slot, (size_t)planes * hp * wp * sizeof(float), out));
    return rcl_conv_pad(d, src, *out, planes, h, w, hp, wp, pad, pad, 0);
}

/* ---- forward tiles: R rows x X columns of one block of VW channels ---- */

typedef struct {
    int ytiles, xtiles, hp, wp; /* tiles over the output, padded input rows x columns */
} fwd_dims;

/* The tiles over an output of ho x wo from an input of h x w padded by pad on each side, and
 * the input the kernel reads: the padded copy, or with BOUNDS the input itself. */
static fwd_dims tile_dims(const conv_config *c, int k, int stride, int h, int w, int pad, int ho, int wo) {
    fwd_dims t;
    int r = conv_value(c, "R"), x = conv_value(c, "X");
    t.ytiles = conv_ceil_div(ho, r);
    t.xtiles = conv_ceil_div(wo, x);
    if (conv_value(c, "BOUNDS")) {
        t.hp = h;
        t.wp = w;
        return t;
    }
    t.hp = (t.ytiles * r - 1) * stride + k;
    t.wp = (t.xtiles * x - 1) * stride + k;
    if (t.hp < h + 2 * pad)
        t.hp = h + 2 * pad;
    if (t.wp < w + 2 * pad)
        t.wp = w + 2 * pad;
    return t;
}

/* parameter order of the forward and input-gradient families */
enum { T_VW, T_R, T_X, T_CB, T_WG, T_BOUNDS };

static int tile_valid(const rcl_device *d, const int *v) {
    /* CB*R*X accumulators: the register budget */
    return v[T_CB] * v[T_R] * v[T_X] <= 32 && conv_wg_ok(d, v[T_WG]);
}

/* R x X near half the vector registers (the other half holds the weights and the loads). */
static void tile_start(const rcl_device *d, int wo, int *v) {
    int budget = conv_vector_registers(d) / 2;
    v[T_VW] = conv_start_lanes(d);
    v[T_X] = wo >= 8 || budget < 16 ? 8 : 4;
    v[T_R] = budget / v[T_X] >= 2 ? 2 : 1;
    v[T_CB] = 1;
    v[T_WG] = rcl_device_gpu_kernels(d) ? 64 : 1;
    v[T_BOUNDS] = 0;
}

/* Channels rounded up to whole groups of CB blocks: the packed weights' channel count. */
static int packed_channels(int c, const int *v) { return conv_round_up(c, v[T_VW] * v[T_CB]); }

static rcl_status launch_fwd(rcl_device *d, int build, const conv_config *c, cl_mem xp, cl_mem wq,
                             cl_mem y, int n, int c_in, int c_out, int ho, int wo, int pad, const fwd_dims *t) {
    size_t global = (size_t)n * (packed_channels(c_out, c->v) / (c->v[T_VW] * c->v[T_CB])) * t->ytiles * t->xtiles;
    size_t local = (size_t)c->v[T_WG];
    rcl_arg a[] = {RCL_MEM(xp),      RCL_MEM(wq),    RCL_MEM(y),       RCL_INT(n),
                   RCL_INT(c_in),    RCL_INT(t->hp), RCL_INT(t->wp),   RCL_INT(c_out),
                   RCL_INT(ho),      RCL_INT(wo),    RCL_INT(t->ytiles), RCL_INT(t->xtiles),
                   RCL_INT(pad)};
    return rcl_kernel_launch_variant(d, build, 0, 1, &global, &local, 13, a);
}

static int fwd_valid(const rcl_device *d, const rcl_conv_shape *s, const int *v) {
    conv_config c = {&rcl_conv_chan_fwd_family, {v[0], v[1], v[2], v[3], v[4], v[5]}};
    fwd_dims t = tile_dims(&c, s->kh, s->stride, s->h, s->w, s->pad, rcl_conv_out_h(s), rcl_conv_out_w(s));
    return tile_valid(d, v) && conv_fits(d, (size_t)s->n * s->c_in * t.hp * t.wp) &&
           conv_fits(d, (size_t)packed_channels(s->c_out, v) * s->c_in * s->kh * s->kw);
}

static void fwd_start(const rcl_device *d, const rcl_conv_shape *s, int *v) {
    tile_start(d, rcl_conv_out_w(s), v);
}

static rcl_status fwd_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                          const rcl_tensor *x, const rcl_tensor *w, rcl_tensor *y) {
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s), kk = s->kh * s->kw, pc = packed_channels(s->c_out, c->v);
    fwd_dims t = tile_dims(c, s->kh, s->stride, s->h, s->w, s->pad, ho, wo);
    cl_mem xp, wq;
    RCL_TRY(chan_input(d, c->v[T_BOUNDS], 0, x->buf, s->n * s->c_in, s->h, s->w, t.hp, t.wp, s->pad, &xp));
    RCL_TRY(rcl_device_workspace(d, 1, (size_t)pc * s->c_in * kk * sizeof(float), &wq));
    RCL_TRY(rcl_conv_pack(d, w->buf, wq, s->c_out, s->c_in, kk, c->v[T_VW], pc / c->v[T_VW], 0, 0));
    return launch_fwd(d, build, c, xp, wq, y->buf, s->n, s->c_in, s->c_out, ho, wo, s->pad, &t);
}

const conv_family rcl_conv_chan_fwd_family = {
    "chan", RCL_CONV_FWD, "tuned/conv2d_chan.cl", {"conv_chan_fwd"}, 4, GEOMETRIES, 6,
    {PARAM_VW,
     {"R", 1, 4, {1, 2, 3, 4}, "output rows per tile"},
     {"X", 1, 6, {2, 4, 6, 8, 12, 16}, "output columns per tile"},
     PARAM_CB, PARAM_WG, PARAM_BOUNDS},
    fwd_valid, fwd_start, fwd_run};

/* ---- input gradient: at stride 1 the forward of dy padded by K-1-P with the weights
 * flipped (conv_chan_fwd); at stride 2 one parity class of dx per tile (conv_chan_dx2) ---- */

static fwd_dims dx_dims(const rcl_conv_shape *s, const conv_config *c) {
    if (s->stride == 1) {
        int q = s->kh - 1 - s->pad;
        return tile_dims(c, s->kh, 1, rcl_conv_out_h(s), rcl_conv_out_w(s), q, s->h, s->w);
    }
    fwd_dims t; /* tiles over (h/2) x (w/2) class pixels, dy padded below and right */
    int r = conv_value(c, "R"), x = conv_value(c, "X");
    t.ytiles = conv_ceil_div(conv_ceil_div(s->h, 2), r);
    t.xtiles = conv_ceil_div(conv_ceil_div(s->w, 2), x);
    t.hp = t.ytiles * r + 1;
    t.wp = t.xtiles * x + 1;
    if (t.hp < rcl_conv_out_h(s))
        t.hp = rcl_conv_out_h(s);
    if (t.wp < rcl_conv_out_w(s))
        t.wp = rcl_conv_out_w(s);
    return t;
}

static int dx_valid(const rcl_device *d, const rcl_conv_shape *s, const int *v) {
    conv_config c = {&rcl_conv_chan_dx_family, {v[0], v[1], v[2], v[3], v[4], v[5]}};
    if (v[T_BOUNDS] && s->stride != 1) /* conv_chan_dx2 reads a padded copy */
        return 0;
    fwd_dims t = dx_dims(s, &c);
    return tile_valid(d, v) && conv_fits(d, (size_t)s->n * s->c_out * t.hp * t.wp) &&
           conv_fits(d, (size_t)packed_channels(s->c_in, v) * s->c_out * s->kh * s->kw);
}

static void dx_start(const rcl_device *d, const rcl_conv_shape *s, int *v) {
    tile_start(d, s->stride == 1 ? s->w : conv_ceil_div(s->w, 2), v);
}

static rcl_status dx_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                         const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx) {
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s), kk = s->kh * s->kw, pc = packed_channels(s->c_in, c->v);
    int q = s->stride == 1 ? s->kh - 1 - s->pad : 0;
    fwd_dims t = dx_dims(s, c);
    cl_mem dyp, wq;
    RCL_TRY(chan_input(d, c->v[T_BOUNDS], 2, dy->buf, s->n * s->c_out, ho, wo, t.hp, t.wp, q, &dyp));
    RCL_TRY(rcl_device_workspace(d, 1, (size_t)pc * s->c_out * kk * sizeof(float), &wq));
    RCL_TRY(rcl_conv_pack(d, w->buf, wq, s->c_out, s->c_in, kk, c->v[T_VW], pc / c->v[T_VW], 1, s->stride == 1));
    if (s->stride == 1)
        return launch_fwd(d, build, c, dyp, wq, dx->buf, s->n, s->c_out, s->c_in, s->h, s->w, q, &t);
    size_t global = (size_t)s->n * (pc / (c->v[T_VW] * c->v[T_CB])) * 4 * t.ytiles * t.xtiles;
    size_t local = (size_t)c->v[T_WG];
    rcl_arg a[] = {RCL_MEM(dyp),       RCL_MEM(wq),    RCL_MEM(dx->buf), RCL_INT(s->n),
                   RCL_INT(s->c_out),  RCL_INT(t.hp),  RCL_INT(t.wp),    RCL_INT(s->c_in),
                   RCL_INT(s->h),      RCL_INT(s->w),  RCL_INT(t.ytiles), RCL_INT(t.xtiles)};
    return rcl_kernel_launch_variant(d, build, 1, 1, &global, &local, 12, a);
}

const conv_family rcl_conv_chan_dx_family = {
    "chan", RCL_CONV_DX, "tuned/conv2d_chan.cl", {"conv_chan_fwd", "conv_chan_dx2"}, 4, GEOMETRIES, 6,
    {PARAM_VW,
     {"R", 1, 4, {1, 2, 3, 4}, "input rows per tile (at stride 2: rows of one parity class)"},
     {"X", 1, 6, {2, 4, 6, 8, 12, 16}, "input columns per tile (at stride 2: of one parity class)"},
     PARAM_CB, PARAM_WG, PARAM_BOUNDS},
    dx_valid, dx_start, dx_run};

/* ---- weight gradient: CIB input channels x K*K taps x VW output channels per work item ---- */

typedef struct {
    int hp, wp, slices;
} dw_dims;
/* parameter order of the weight-gradient family */
enum { D_VW, D_CIB, D_CB, D_SPLIT, D_WG, D_BOUNDS };

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
    if (v[D_BOUNDS]) { /* the kernel reads x itself */
        g.hp = s->h;
        g.wp = s->w;
    }
    long items = (long)conv_ceil_div(s->c_out, v[D_VW] * v[D_CB]) * conv_ceil_div(s->c_in, v[D_CIB]);
    unsigned cu = rcl_device_get_info(d)->compute_units;
    long target = (long)(cu ? cu : 1) * v[D_SPLIT];
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
    return v[D_CB] * v[D_CIB] * s->kh * s->kw <= 36 && conv_wg_ok(d, v[D_WG]) &&
           conv_fits(d, (size_t)s->n * s->c_in * g.hp * g.wp) &&
           conv_fits(d, (size_t)s->n * conv_round_up(s->c_out, v[D_VW]) * ho * wo);
}

static void dw_start(const rcl_device *d, const rcl_conv_shape *s, int *v) {
    int budget = conv_vector_registers(d) - 4, taps = s->kh * s->kw;
    v[D_VW] = conv_start_lanes(d);
    v[D_CIB] = 1;
    static const int cib[] = {1, 2, 3, 4, 8, 16};
    for (int i = 0; i < 6; i++)
        if (cib[i] * taps <= budget)
            v[D_CIB] = cib[i];
    v[D_CB] = 1;
    v[D_SPLIT] = 32;
    v[D_WG] = rcl_device_gpu_kernels(d) ? 64 : 1;
    v[D_BOUNDS] = 0;
}

static rcl_status dw_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                         const rcl_tensor *x, const rcl_tensor *dy, rcl_tensor *dw) {
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s), vw = c->v[D_VW];
    dw_dims g = dw_dims_of(d, s, c->v);
    size_t count = (size_t)s->c_out * s->c_in * s->kh * s->kw;
    cl_mem xp, db, part = dw->buf;
    RCL_TRY(chan_input(d, c->v[D_BOUNDS], 0, x->buf, s->n * s->c_in, s->h, s->w, g.hp, g.wp, s->pad, &xp));
    RCL_TRY(rcl_device_workspace(d, 2, (size_t)s->n * conv_round_up(s->c_out, vw) * ho * wo * sizeof(float), &db));
    if (g.slices > 1)
        RCL_TRY(rcl_device_workspace(d, 3, (size_t)g.slices * count * sizeof(float), &part));
    RCL_TRY(rcl_conv_block(d, dy->buf, db, s->n, s->c_out, ho * wo, vw));
    size_t global = (size_t)g.slices * conv_ceil_div(s->c_out, vw * c->v[D_CB]) * conv_ceil_div(s->c_in, c->v[D_CIB]);
    size_t local = (size_t)c->v[D_WG];
    rcl_arg a[] = {RCL_MEM(xp),     RCL_MEM(db),  RCL_MEM(part),     RCL_INT(s->n),
                   RCL_INT(s->c_in), RCL_INT(g.hp), RCL_INT(g.wp),    RCL_INT(s->c_out),
                   RCL_INT(ho),      RCL_INT(wo),   RCL_INT(g.slices), RCL_INT(s->pad)};
    RCL_TRY(rcl_kernel_launch_variant(d, build, 0, 1, &global, &local, 12, a));
    return g.slices > 1 ? rcl_conv_dw_reduce(d, part, dw->buf, g.slices, (int)count) : RCL_OK;
}

const conv_family rcl_conv_chan_dw_family = {
    "chan", RCL_CONV_DW, "tuned/conv2d_chan.cl", {"conv_chan_dw"}, 4, GEOMETRIES, 6,
    {PARAM_VW,
     {"CIB", 1, 6, {1, 2, 3, 4, 8, 16}, "input channels per tile (CB*CIB*K*K accumulators, at most 36)"},
     PARAM_CB,
     {"SPLIT", 0, 4, {2, 8, 32, 128}, "work items per compute unit the reduction is split into"},
     PARAM_WG, PARAM_BOUNDS},
    dw_valid, dw_start, dw_run};
