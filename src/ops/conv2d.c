/* conv2d on the device: argument checks, then each pass (forward, input gradient, weight
 * gradient) runs with the algorithm chosen for the device and shape (conv2d_algo.c). */
#include <limits.h>
#include <stddef.h>

#include "conv2d_internal.h"

/* Checks the shape and the x and w tensors. */
static rcl_status conv_setup(const rcl_conv_shape *s, const rcl_tensor *x, const rcl_tensor *w) {
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
    conv_dims g;
    rcl_conv_dims(s, &g);
    RCL_TRY(rcl_tensor_expect(x, "conv2d input x", 4, s->n, s->c_in, s->h, s->w));
    RCL_TRY(rcl_tensor_expect(w, "conv2d weight w", 4, s->c_out, s->c_in, s->kh, s->kw));
    /* the kernels index with int: tensors, and the im2col buffer of one image */
    if (x->n > INT_MAX || (size_t)s->n * s->c_out * g.hw > INT_MAX)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "conv2d: input or output of 2^31 elements or more (n=%d): use a smaller batch",
                        s->n);
    if ((size_t)(g.k > s->c_out ? g.k : s->c_out) * g.hw > INT_MAX)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "conv2d: im2col of one image has 2^31 elements or more (%d x %d)",
                        g.k > s->c_out ? g.k : s->c_out, g.hw);
    return RCL_OK;
}

rcl_status rcl_conv2d_forward(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                              const rcl_tensor *w, rcl_tensor *y) {
    RCL_TRY(conv_setup(s, x, w));
    if (!y)
        return rcl_fail(RCL_ERR_INVALID_ARG, "conv2d forward: output y is NULL");
    RCL_TRY(rcl_tensor_expect(y, "conv2d output y", 4, s->n, s->c_out, rcl_conv_out_h(s),
                              rcl_conv_out_w(s)));
    if (y->buf == x->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "conv2d forward: y must not alias x");
    return rcl_conv_run(d, s, RCL_CONV_FWD, x, w, y);
}

rcl_status rcl_conv2d_backward(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                               const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx,
                               rcl_tensor *dw) {
    RCL_TRY(conv_setup(s, x, w));
    if (!dy || !dw)
        return rcl_fail(RCL_ERR_INVALID_ARG, "conv2d backward: dy and dw must not be NULL");
    RCL_TRY(rcl_tensor_expect(dy, "conv2d output gradient dy", 4, s->n, s->c_out,
                              rcl_conv_out_h(s), rcl_conv_out_w(s)));
    RCL_TRY(rcl_tensor_expect(dw, "conv2d weight gradient dw", 4, s->c_out, s->c_in, s->kh, s->kw));
    if (dx) {
        RCL_TRY(rcl_tensor_expect(dx, "conv2d input gradient dx", 4, s->n, s->c_in, s->h, s->w));
        if (dx->buf == dy->buf || dx->buf == x->buf)
            return rcl_fail(RCL_ERR_INVALID_ARG, "conv2d backward: dx must not alias x or dy");
    }
    return rcl_conv_run_backward(d, s, x, w, dy, dx, dw);
}
