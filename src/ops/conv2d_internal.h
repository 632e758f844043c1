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

/* Register-tiled direct kernels (conv2d_direct.c, kernels/tuned/conv2d_direct.cl). */
typedef struct rcl_conv_tiles {
    int cob, pxv;   /* forward / input gradient: channels x float8 pixel vectors per tile */
    int dcob, dtb;  /* weight gradient: output channels x weight taps per register tile */
    int dgroup;     /* weight gradient: register tiles of output channels per work item */
    int local;      /* work-group size: 1 on CPUs (a work item is plain code), 64 on GPUs */
} rcl_conv_tiles;
/* 1 when the direct kernels handle s (kernel 3x3 pad 1 or 1x1 pad 0, stride 1 or 2, buffers
 * under 2^31 elements and the workspace cap). */
int rcl_conv_direct_supports(const rcl_device *d, const rcl_conv_shape *s, const rcl_conv_tiles *t);
rcl_status rcl_conv_direct_forward(rcl_device *d, const rcl_conv_shape *s, const rcl_conv_tiles *t,
                                   const rcl_tensor *x, const rcl_tensor *w, rcl_tensor *y);
rcl_status rcl_conv_direct_dx(rcl_device *d, const rcl_conv_shape *s, const rcl_conv_tiles *t,
                              const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx);
rcl_status rcl_conv_direct_dw(rcl_device *d, const rcl_conv_shape *s, const rcl_conv_tiles *t,
                              const rcl_tensor *x, const rcl_tensor *dy, rcl_tensor *dw);
/* Both gradients with one padding of dy (tx: the dx tiles, tw: the dw tiles). */
rcl_status rcl_conv_direct_backward(rcl_device *d, const rcl_conv_shape *s,
                                    const rcl_conv_tiles *tx, const rcl_conv_tiles *tw,
                                    const rcl_tensor *x, const rcl_tensor *w, const rcl_tensor *dy,
                                    rcl_tensor *dx, rcl_tensor *dw);

/* Runs pass p of s with the algorithm the device's policy gives (measuring it when needed).
 * For RCL_CONV_FWD out = y, a = x, b = w; RCL_CONV_DX out = dx, a = w, b = dy;
 * RCL_CONV_DW out = dw, a = x, b = dy. */
rcl_status rcl_conv_run(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                        const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out);
/* The backward: dw, and dx when it is not NULL, each with its chosen algorithm (one padding of
 * dy shared when both are direct). */
rcl_status rcl_conv_run_backward(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                                 const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx,
                                 rcl_tensor *dw);

#endif
