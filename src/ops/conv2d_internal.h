/* The convolution algorithms behind rcl_conv2d_forward/backward (src/ops/conv2d*.c):
 * each implements some of the three passes; conv2d_algo.c chooses one per device, shape and
 * pass by measuring them (docs/convolution.md). */
#ifndef RCL_CONV2D_INTERNAL_H
#define RCL_CONV2D_INTERNAL_H

#include "robustcl/ops.h"

/* Output size and the GEMM inner dimension of a checked shape. */
typedef struct conv_dims {
    int ho, wo, hw; /* output size, hw = ho*wo */
    int k;          /* c_in*kh*kw */
} conv_dims;
static inline void rcl_conv_dims(const rcl_conv_shape *s, conv_dims *g) {
    g->ho = rcl_conv_out_h(s);
    g->wo = rcl_conv_out_w(s);
    g->hw = g->ho * g->wo;
    g->k = s->c_in * s->kh * s->kw;
}

/* im2col + CLBlast GEMM (conv2d_gemm.c): every shape; the batch is chunked under the
 * workspace cap. */
rcl_status rcl_conv_gemm_forward(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                                 const rcl_tensor *w, rcl_tensor *y);
rcl_status rcl_conv_gemm_dx(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *w,
                            const rcl_tensor *dy, rcl_tensor *dx);
rcl_status rcl_conv_gemm_dw(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                            const rcl_tensor *dy, rcl_tensor *dw);

/* The layouts the direct families read (conv2d_layout.c, kernels/conv2d_layout.cl). */
/* dst = src zero-padded: planes of h x w placed at (top, left) in planes of hp x wp; split:
 * rows stored as even then odd columns (the pixel-vector family's stride-2 input). */
rcl_status rcl_conv_pad(rcl_device *d, cl_mem src, cl_mem dst, int planes, int h, int w, int hp,
                        int wp, int top, int left, int split);
/* w [c_out][c_in][kk] packed in `blocks` blocks of `width` channels (transpose: blocks over
 * c_in; flip: taps reversed): wq[((b*c_other + o)*kk + t)*width + c], zero past the channels. */
rcl_status rcl_conv_pack(rcl_device *d, cl_mem w, cl_mem wq, int c_out, int c_in, int kk,
                         int width, int blocks, int transpose, int flip);
/* dy [n][c][plane] in blocks of `width` channels, channels innermost. */
rcl_status rcl_conv_block(rcl_device *d, cl_mem dy, cl_mem db, int n, int c, int plane, int width);
/* dw = the sum over `slices` of part [slices][count], in order. */
rcl_status rcl_conv_dw_reduce(rcl_device *d, cl_mem part, cl_mem dw, int slices, int count);

/* Runs pass p of s with the algorithm the device's policy gives (measuring it when needed).
 * For RCL_CONV_FWD out = y, a = x, b = w; RCL_CONV_DX out = dx, a = w, b = dy;
 * RCL_CONV_DW out = dw, a = x, b = dy. */
rcl_status rcl_conv_run(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                        const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out);
/* The backward: dw, and dx when it is not NULL, each with its chosen configuration. */
rcl_status rcl_conv_run_backward(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                                 const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx,
                                 rcl_tensor *dw);

#endif
