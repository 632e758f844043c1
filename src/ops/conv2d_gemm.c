/* conv2d as im2col + CLBlast GEMM, the reference algorithm and the fallback for every shape
 * (kernels/conv2d_gemm.cl). The batch is processed in chunks of nb images so the im2col buffers
 * (device workspace slots) stay under the workspace cap. Everything is enqueued; nothing
 * waits on the host.
 *
 * Layouts per chunk (P = Ho*Wo, K = C_in*kh*kw):
 *   col  [K][nb*P]      workspace slot 0
 *   tmp  [C_out][nb*P]  workspace slot 1 (GEMM output / permuted dy)
 *   dcol [K][nb*P]      workspace slot 2 (input gradient) */
#include <limits.h>
#include <stddef.h>

#include "core/kernel.h"
#include "conv2d_family.h"
#include "robustcl/gemm.h"

/* Images per chunk: the workspace (floats_per_image each) under the cap, at least 1, and
 * every buffer index within int range. */
static int chunk_images(const rcl_device *d, const rcl_conv_shape *s, const conv_dims *g,
                        size_t floats_per_image) {
    size_t nb = rcl_device_workspace_cap(d) / (floats_per_image * sizeof(float));
    size_t rows = (size_t)(g->k > s->c_out ? g->k : s->c_out);
    size_t int_limit = (size_t)INT_MAX / (rows * (size_t)g->hw);
    if (nb > int_limit)
        nb = int_limit;
    if (nb > (size_t)s->n)
        nb = (size_t)s->n;
    return nb < 1 ? 1 : (int)nb;
}

static rcl_status im2col(rcl_device *d, const rcl_conv_shape *s, const conv_dims *g,
                         const rcl_tensor *x, int n0, int m, cl_mem col) {
    size_t global = (size_t)g->k * (size_t)m * (size_t)g->ho; /* one item per output row */
    rcl_arg args[] = {RCL_MEM(x->buf), RCL_INT(n0 * s->c_in * s->h * s->w), RCL_MEM(col),
                      RCL_INT(m), RCL_INT(s->c_in), RCL_INT(s->h), RCL_INT(s->w),
                      RCL_INT(s->kh), RCL_INT(s->kw), RCL_INT(s->stride), RCL_INT(s->pad),
                      RCL_INT(g->ho), RCL_INT(g->wo)};
    return rcl_kernel_launch(d, RCL_K_conv_im2col, 1, &global, NULL, (int)(sizeof args / sizeof args[0]),
                          args);
}

static rcl_status col2im(rcl_device *d, const rcl_conv_shape *s, const conv_dims *g, cl_mem dcol,
                         rcl_tensor *dx, int n0, int m) {
    size_t global = (size_t)m * s->c_in * s->h; /* one item per dx row */
    rcl_arg args[] = {RCL_MEM(dcol), RCL_MEM(dx->buf), RCL_INT(n0 * s->c_in * s->h * s->w),
                      RCL_INT(m), RCL_INT(s->c_in), RCL_INT(s->h), RCL_INT(s->w),
                      RCL_INT(s->kh), RCL_INT(s->kw), RCL_INT(s->stride), RCL_INT(s->pad),
                      RCL_INT(g->ho), RCL_INT(g->wo)};
    return rcl_kernel_launch(d, RCL_K_conv_col2im, 1, &global, NULL, (int)(sizeof args / sizeof args[0]),
                          args);
}

/* to_nchw 1: tmp [C_out][m*P] -> images n0..n0+m-1 of an NCHW [n, C_out, Ho, Wo] tensor;
 * to_nchw 0: the reverse. */
static rcl_status permute(rcl_device *d, int to_nchw, const rcl_conv_shape *s, const conv_dims *g,
                          cl_mem tmp, cl_mem nchw, int n0, int m) {
    size_t global = (size_t)m * s->c_out; /* one item per row of hw */
    int off = n0 * s->c_out * g->hw;
    if (to_nchw) {
        rcl_arg a[] = {RCL_MEM(tmp), RCL_MEM(nchw), RCL_INT(off), RCL_INT(m), RCL_INT(s->c_out),
                       RCL_INT(g->hw)};
        return rcl_kernel_launch(d, RCL_K_conv_cn_to_nchw, 1, &global, NULL, 6, a);
    }
    rcl_arg a[] = {RCL_MEM(nchw), RCL_INT(off), RCL_MEM(tmp), RCL_INT(m), RCL_INT(s->c_out),
                   RCL_INT(g->hw)};
    return rcl_kernel_launch(d, RCL_K_conv_nchw_to_cn, 1, &global, NULL, 6, a);
}

/* The column and output-tile workspaces of forward and dW, sized for the image chunk. */
static rcl_status col_workspace(rcl_device *d, const rcl_conv_shape *s, conv_dims *g, int *nb,
                                cl_mem *col, cl_mem *tmp) {
    rcl_conv_dims(s, g);
    *nb = chunk_images(d, s, g, ((size_t)g->k + (size_t)s->c_out) * (size_t)g->hw);
    RCL_TRY(rcl_device_workspace(d, 0, (size_t)g->k * *nb * g->hw * sizeof(float), col));
    return rcl_device_workspace(d, 1, (size_t)s->c_out * *nb * g->hw * sizeof(float), tmp);
}

rcl_status rcl_conv_gemm_forward(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                                 const rcl_tensor *w, rcl_tensor *y) {
    conv_dims g;
    int nb;
    cl_mem col, tmp;
    RCL_TRY(col_workspace(d, s, &g, &nb, &col, &tmp));
    for (int n0 = 0; n0 < s->n; n0 += nb) {
        int m = s->n - n0 < nb ? s->n - n0 : nb;
        size_t ncols = (size_t)m * g.hw;
        RCL_TRY(im2col(d, s, &g, x, n0, m, col));
        /* tmp[C_out][ncols] = W[C_out][K] col[K][ncols] */
        RCL_TRY(rcl_gemm(d, 0, 0, (size_t)s->c_out, ncols, (size_t)g.k, 1.0f, w->buf, 0,
                         (size_t)g.k, col, 0, ncols, 0.0f, tmp, 0, ncols));
        RCL_TRY(permute(d, 1, s, &g, tmp, y->buf, n0, m));
    }
    return RCL_OK;
}

rcl_status rcl_conv_gemm_dw(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                            const rcl_tensor *dy, rcl_tensor *dw) {
    conv_dims g;
    int nb;
    cl_mem col, tmp;
    RCL_TRY(col_workspace(d, s, &g, &nb, &col, &tmp));
    for (int n0 = 0; n0 < s->n; n0 += nb) {
        int m = s->n - n0 < nb ? s->n - n0 : nb;
        size_t ncols = (size_t)m * g.hw;
        RCL_TRY(permute(d, 0, s, &g, tmp, dy->buf, n0, m));
        RCL_TRY(im2col(d, s, &g, x, n0, m, col));
        /* dW[C_out][K] (+)= tmp[C_out][ncols] col[K][ncols]^T: overwrite on the first chunk */
        RCL_TRY(rcl_gemm(d, 0, 1, (size_t)s->c_out, (size_t)g.k, ncols, 1.0f, tmp, 0, ncols, col, 0,
                         ncols, n0 == 0 ? 0.0f : 1.0f, dw->buf, 0, (size_t)g.k));
    }
    return RCL_OK;
}

rcl_status rcl_conv_gemm_dx(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *w,
                            const rcl_tensor *dy, rcl_tensor *dx) {
    conv_dims g;
    rcl_conv_dims(s, &g);
    int nb = chunk_images(d, s, &g, ((size_t)g.k + (size_t)s->c_out) * (size_t)g.hw);
    cl_mem tmp, dcol;
    RCL_TRY(rcl_device_workspace(d, 1, (size_t)s->c_out * nb * g.hw * sizeof(float), &tmp));
    RCL_TRY(rcl_device_workspace(d, 2, (size_t)g.k * nb * g.hw * sizeof(float), &dcol));
    for (int n0 = 0; n0 < s->n; n0 += nb) {
        int m = s->n - n0 < nb ? s->n - n0 : nb;
        size_t ncols = (size_t)m * g.hw;
        RCL_TRY(permute(d, 0, s, &g, tmp, dy->buf, n0, m));
        /* dcol[K][ncols] = W[C_out][K]^T tmp[C_out][ncols] */
        RCL_TRY(rcl_gemm(d, 1, 0, (size_t)g.k, ncols, (size_t)s->c_out, 1.0f, w->buf, 0,
                         (size_t)g.k, tmp, 0, ncols, 0.0f, dcol, 0, ncols));
        RCL_TRY(col2im(d, s, &g, dcol, dx, n0, m));
    }
    return RCL_OK;
}

/* ---- the family declarations: no parameters (CLBlast's are tuned by `robustcl tune`'s
 * GEMM search) and every geometry ---- */

static rcl_status fwd_family_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c,
                                 int build, const rcl_tensor *x, const rcl_tensor *w, rcl_tensor *y) {
    (void)c, (void)build;
    return rcl_conv_gemm_forward(d, s, x, w, y);
}

static rcl_status dx_family_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c,
                                int build, const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx) {
    (void)c, (void)build;
    return rcl_conv_gemm_dx(d, s, w, dy, dx);
}

static rcl_status dw_family_run(rcl_device *d, const rcl_conv_shape *s, const conv_config *c,
                                int build, const rcl_tensor *x, const rcl_tensor *dy, rcl_tensor *dw) {
    (void)c, (void)build;
    return rcl_conv_gemm_dw(d, s, x, dy, dw);
}

const conv_family rcl_conv_gemm_fwd_family = {"gemm", RCL_CONV_FWD, NULL, {NULL}, 0, {{0}}, 0, {{0}},
                                       NULL, NULL, fwd_family_run};
const conv_family rcl_conv_gemm_dx_family = {"gemm", RCL_CONV_DX, NULL, {NULL}, 0, {{0}}, 0, {{0}},
                                      NULL, NULL, dx_family_run};
const conv_family rcl_conv_gemm_dw_family = {"gemm", RCL_CONV_DW, NULL, {NULL}, 0, {{0}}, 0, {{0}},
                                      NULL, NULL, dw_family_run};
