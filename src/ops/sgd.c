/* The fused SGD step (spec §2, kernels/sgd.cl) and the cosine learning-rate schedule. */
#include <math.h>
#include <stdint.h>

#include "core/kernel.h"
#include "op_check.h"

rcl_status rcl_sgd_step(rcl_device *d, rcl_tensor *w, const rcl_tensor *g, rcl_tensor *buf,
                        float lr, float momentum, float wd, int nesterov, int first) {
    if (!w || !w->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "sgd weights: tensor missing");
    if (w->n > UINT32_MAX)
        return rcl_fail(RCL_ERR_INVALID_ARG, "sgd weights: %zu elements, too many", w->n);
    RCL_TRY(rcl_op_like(g, "sgd gradient", w));
    RCL_TRY(rcl_op_like(buf, "sgd momentum buffer", w));
    size_t gs = w->n;
    rcl_arg a[] = {RCL_MEM(w->buf), RCL_MEM(g->buf),    RCL_MEM(buf->buf),        RCL_UINT(w->n),
                   RCL_FLOAT(lr),   RCL_FLOAT(momentum), RCL_FLOAT(wd), RCL_INT(nesterov != 0),
                   RCL_INT(first != 0)};
    return rcl_kernel_launch(d, RCL_K_ew_sgd, 1, &gs, NULL, 9, a);
}

double rcl_cosine_lr(double lr, double lr_min, long t, long T) {
    if (T <= 0)
        return lr;
    if (t < 0)
        t = 0;
    if (t > T)
        t = T;
    /* lr*(lo + (1-lo)*c) with lo = lr_min/lr, written as lr_min + (lr-lr_min)*c so that
     * t = T (c = 0) gives lr_min exactly, with no rounding from lr_min/lr*lr. */
    const double pi = 3.14159265358979323846;
    double c = 0.5 * (1.0 + cos(pi * (double)t / (double)T));
    return lr_min + (lr - lr_min) * c;
}
