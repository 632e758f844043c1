/* conv2d on the device: im2col + GEMM forward; backward as GEMMs plus a
 * col2im gather (kernels/conv.cl). The batch is processed in chunks of nb
 * images so the im2col buffers (device workspace slots) stay under the
 * workspace cap. Everything is enqueued; nothing waits on the host.
 *
 * Layouts per chunk (P = Ho*Wo, K = C_in*kh*kw):
 *   col  [K][nb*P]      workspace slot 0
 *   tmp  [C_out][nb*P]  workspace slot 1 (GEMM output / permuted dy)
 *   dcol [K][nb*P]      workspace slot 2 (backward, only when dx is wanted)
 */
#include <limits.h>
#include <stddef.h>

#include "robustcl/gemm.h"
#include "robustcl/ops.h"

typedef struct {
    int ho, wo, hw; /* output size, hw = ho*wo */
    int k;          /* C_in*kh*kw: GEMM inner dimension */
} conv_dims;

/* Checks the shape and the x and w tensors; fills the derived sizes. */
static rcl_status conv_setup(const rcl_conv_shape *s, const rcl_tensor *x, const rcl_tensor *w,
                             conv_dims *g) {
    if (!s || !x || !w)
        return rcl_fail(RCL_ERR_INVALID_ARG, "conv2d: shape, x and w must not be NULL");
    if (s->n < 1 || s->c_in < 1 || s->h < 1 || s->w < 1 || s->c_out < 1 || s->kh < 1 || s->kw < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "conv2d: sizes must be >= 1 (n=%d c_in=%d h=%d w=%d c_out=%d kernel %dx%d)",
                        s->n, s->c_in, s->h, s->w, s->c_out, s->kh, s->kw);
    if (s->stride < 1 || s->pad < 0)
        return rcl_fail(RCL_ERR_INVALID_ARG, "conv2d: stride %d (must be >= 1), pad %d (must be >= 0)",
                        s->stride, s->pad);
    /* checked before dividing: C division truncates a negative span towards 0 */
    if (s->h + 2 * s->pad < s->kh || s->w + 2 * s->pad < s->kw)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "conv2d: kernel %dx%d larger than the padded input %dx%d (pad %d)", s->kh,
                        s->kw, s->h + 2 * s->pad, s->w + 2 * s->pad, s->pad);
    g->ho = rcl_conv_out_h(s);
    g->wo = rcl_conv_out_w(s);
    g->hw = g->ho * g->wo;
    g->k = s->c_in * s->kh * s->kw;
    RCL_TRY(rcl_tensor_expect(x, "conv2d input x", 4, s->n, s->c_in, s->h, s->w));
    RCL_TRY(rcl_tensor_expect(w, "conv2d weight w", 4, s->c_out, s->c_in, s->kh, s->kw));
    /* the kernels index with int: tensors, and the im2col buffer of one image */
    if (x->n > INT_MAX || (size_t)s->n * s->c_out * g->hw > INT_MAX)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "conv2d: input or output of 2^31 elements or more (n=%d): use a smaller batch",
                        s->n);
    if ((size_t)(g->k > s->c_out ? g->k : s->c_out) * g->hw > INT_MAX)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "conv2d: im2col of one image has 2^31 elements or more (%d x %d)",
                        g->k > s->c_out ? g->k : s->c_out, g->hw);
    return RCL_OK;
}

/* Images per chunk: the workspace (floats_per_image each) under the cap, at
 * least 1, and every buffer index within int range. */
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
    return rcl_kernel_run(d, "conv_im2col", 1, &global, NULL, (int)(sizeof args / sizeof args[0]),
                          args);
}

static rcl_status col2im(rcl_device *d, const rcl_conv_shape *s, const conv_dims *g, cl_mem dcol,
                         rcl_tensor *dx, int n0, int m) {
    size_t global = (size_t)m * s->c_in * s->h; /* one item per dx row */
    rcl_arg args[] = {RCL_MEM(dcol), RCL_MEM(dx->buf), RCL_INT(n0 * s->c_in * s->h * s->w),
                      RCL_INT(m), RCL_INT(s->c_in), RCL_INT(s->h), RCL_INT(s->w),
                      RCL_INT(s->kh), RCL_INT(s->kw), RCL_INT(s->stride), RCL_INT(s->pad),
                      RCL_INT(g->ho), RCL_INT(g->wo)};
    return rcl_kernel_run(d, "conv_col2im", 1, &global, NULL, (int)(sizeof args / sizeof args[0]),
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
        return rcl_kernel_run(d, "conv_cn_to_nchw", 1, &global, NULL, 6, a);
    }
    rcl_arg a[] = {RCL_MEM(nchw), RCL_INT(off), RCL_MEM(tmp), RCL_INT(m), RCL_INT(s->c_out),
                   RCL_INT(g->hw)};
    return rcl_kernel_run(d, "conv_nchw_to_cn", 1, &global, NULL, 6, a);
}

rcl_status rcl_conv2d_forward(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                              const rcl_tensor *w, rcl_tensor *y) {
    conv_dims g;
    RCL_TRY(conv_setup(s, x, w, &g));
    if (!y)
        return rcl_fail(RCL_ERR_INVALID_ARG, "conv2d forward: output y is NULL");
    RCL_TRY(rcl_tensor_expect(y, "conv2d output y", 4, s->n, s->c_out, g.ho, g.wo));
    if (y->buf == x->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "conv2d forward: y must not alias x");

    int nb = chunk_images(d, s, &g, ((size_t)g.k + (size_t)s->c_out) * (size_t)g.hw);
    cl_mem col, tmp;
    RCL_TRY(rcl_device_workspace(d, 0, (size_t)g.k * nb * g.hw * sizeof(float), &col));
    RCL_TRY(rcl_device_workspace(d, 1, (size_t)s->c_out * nb * g.hw * sizeof(float), &tmp));
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

rcl_status rcl_conv2d_backward(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                               const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx,
                               rcl_tensor *dw) {
    conv_dims g;
    RCL_TRY(conv_setup(s, x, w, &g));
    if (!dy || !dw)
        return rcl_fail(RCL_ERR_INVALID_ARG, "conv2d backward: dy and dw must not be NULL");
    RCL_TRY(rcl_tensor_expect(dy, "conv2d output gradient dy", 4, s->n, s->c_out, g.ho, g.wo));
    RCL_TRY(rcl_tensor_expect(dw, "conv2d weight gradient dw", 4, s->c_out, s->c_in, s->kh, s->kw));
    if (dx) {
        RCL_TRY(rcl_tensor_expect(dx, "conv2d input gradient dx", 4, s->n, s->c_in, s->h, s->w));
        if (dx->buf == dy->buf || dx->buf == x->buf)
            return rcl_fail(RCL_ERR_INVALID_ARG, "conv2d backward: dx must not alias x or dy");
    }

    size_t per_image = ((size_t)g.k + (size_t)s->c_out + (dx ? (size_t)g.k : 0)) * (size_t)g.hw;
    int nb = chunk_images(d, s, &g, per_image);
    cl_mem col, tmp, dcol = NULL;
    RCL_TRY(rcl_device_workspace(d, 0, (size_t)g.k * nb * g.hw * sizeof(float), &col));
    RCL_TRY(rcl_device_workspace(d, 1, (size_t)s->c_out * nb * g.hw * sizeof(float), &tmp));
    if (dx)
        RCL_TRY(rcl_device_workspace(d, 2, (size_t)g.k * nb * g.hw * sizeof(float), &dcol));
    for (int n0 = 0; n0 < s->n; n0 += nb) {
        int m = s->n - n0 < nb ? s->n - n0 : nb;
        size_t ncols = (size_t)m * g.hw;
        RCL_TRY(permute(d, 0, s, &g, tmp, dy->buf, n0, m));
        RCL_TRY(im2col(d, s, &g, x, n0, m, col));
        /* dW[C_out][K] (+)= tmp[C_out][ncols] col[K][ncols]^T: overwrite on the first chunk */
        RCL_TRY(rcl_gemm(d, 0, 1, (size_t)s->c_out, (size_t)g.k, ncols, 1.0f, tmp, 0, ncols, col, 0,
                         ncols, n0 == 0 ? 0.0f : 1.0f, dw->buf, 0, (size_t)g.k));
        if (dx) {
            /* dcol[K][ncols] = W[C_out][K]^T tmp[C_out][ncols] */
            RCL_TRY(rcl_gemm(d, 1, 0, (size_t)g.k, ncols, (size_t)s->c_out, 1.0f, w->buf, 0,
                             (size_t)g.k, tmp, 0, ncols, 0.0f, dcol, 0, ncols));
            RCL_TRY(col2im(d, s, &g, dcol, dx, n0, m));
        }
    }
    return RCL_OK;
}
