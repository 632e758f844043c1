/* Batch norm, optionally fused with a following ReLU (kernels/batchnorm.cl). */
#include <stdint.h>

#include "op_check.h"

/* How a work item walks its channel: contiguous runs on CPUs (each work item's loop
 * runs to completion before the next starts, so strided access would thrash the
 * cache), strided on GPUs (coalesced loads). Fixed per device: still deterministic. */
static int chunked(rcl_device *d) { return !rcl_device_get_info(d)->is_gpu; }

static rcl_status vec(const rcl_tensor *t, const char *what, int c) {
    if (!t || !t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    return rcl_tensor_expect(t, what, 1, c);
}

static rcl_status like(const rcl_tensor *t, const char *what, const rcl_tensor *ref) {
    if (!t || !t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    return rcl_tensor_expect(t, what, ref->ndim, ref->shape[0], ref->shape[1], ref->shape[2],
                             ref->shape[3]);
}

/* x is [N, C, ...]: N, C and the product of the remaining dimensions. */
static rcl_status dims(const rcl_tensor *x, const char *what, int *n, int *c, int *hw) {
    if (!x || !x->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    if (x->ndim < 2)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %d dimensions, expected [N,C,...]", what, x->ndim);
    if (x->n > UINT32_MAX)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %zu elements, too many", what, x->n);
    *n = x->shape[0];
    *c = x->shape[1];
    *hw = (int)(x->n / ((size_t)*n * (size_t)*c));
    return RCL_OK;
}

rcl_status rcl_batchnorm_forward(rcl_device *d, rcl_bn_mode mode, int relu, const rcl_tensor *x,
                                 const rcl_tensor *gamma, const rcl_tensor *beta,
                                 rcl_tensor *running_mean, rcl_tensor *running_var, float momentum,
                                 float eps, rcl_tensor *y, rcl_tensor *save_mean,
                                 rcl_tensor *save_invstd) {
    int n = 0, c = 0, hw = 0;
    RCL_TRY(dims(x, "batchnorm x", &n, &c, &hw));
    RCL_TRY(vec(gamma, "batchnorm gamma", c));
    RCL_TRY(vec(beta, "batchnorm beta", c));
    RCL_TRY(vec(running_mean, "batchnorm running_mean", c));
    RCL_TRY(vec(running_var, "batchnorm running_var", c));
    RCL_TRY(like(y, "batchnorm y", x));
    if (!(eps > 0.0f))
        return rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm: eps %g must be positive", (double)eps);
    if (mode == RCL_BN_EVAL) {
        size_t g = x->n;
        rcl_arg a[] = {RCL_MEM(x->buf),          RCL_MEM(gamma->buf),       RCL_MEM(beta->buf),
                       RCL_MEM(running_mean->buf), RCL_MEM(running_var->buf), RCL_MEM(y->buf),
                       RCL_UINT(x->n),           RCL_UINT(c),               RCL_UINT(hw),
                       RCL_FLOAT(eps),           RCL_INT(relu != 0)};
        return rcl_kernel_run(d, "bn_fwd_eval", 1, &g, NULL, 11, a);
    }
    if (mode != RCL_BN_TRAIN)
        return rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm: unknown mode %d", (int)mode);
    RCL_TRY(vec(save_mean, "batchnorm save_mean", c));
    RCL_TRY(vec(save_invstd, "batchnorm save_invstd", c));
    size_t m = (size_t)n * (size_t)hw;
    if (m < 2)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "batchnorm x: train mode needs more than one value per channel (shape N=%d, %d per sample)",
                        n, hw);
    size_t l = rcl_op_group_size(d, m), g = l * (size_t)c;
    rcl_arg a[] = {RCL_MEM(x->buf),           RCL_MEM(gamma->buf),      RCL_MEM(beta->buf),
                   RCL_MEM(running_mean->buf), RCL_MEM(running_var->buf), RCL_MEM(y->buf),
                   RCL_MEM(save_mean->buf),    RCL_MEM(save_invstd->buf), RCL_UINT(n),
                   RCL_UINT(c),                RCL_UINT(hw),              RCL_FLOAT(momentum),
                   RCL_FLOAT(eps),             RCL_INT(relu != 0),        RCL_INT(chunked(d)),
                   RCL_LOCAL(l * sizeof(float))};
    return rcl_kernel_run(d, "bn_fwd_train", 1, &g, &l, 16, a);
}

rcl_status rcl_batchnorm_backward(rcl_device *d, int relu, const rcl_tensor *x, const rcl_tensor *y,
                                  const rcl_tensor *dy, const rcl_tensor *gamma,
                                  const rcl_tensor *save_mean, const rcl_tensor *save_invstd,
                                  rcl_tensor *dx, rcl_tensor *dgamma, rcl_tensor *dbeta) {
    int n = 0, c = 0, hw = 0;
    RCL_TRY(dims(x, "batchnorm backward x", &n, &c, &hw));
    if (relu)
        RCL_TRY(like(y, "batchnorm backward y", x));
    RCL_TRY(like(dy, "batchnorm backward dy", x));
    RCL_TRY(like(dx, "batchnorm backward dx", x));
    RCL_TRY(vec(gamma, "batchnorm backward gamma", c));
    RCL_TRY(vec(save_mean, "batchnorm backward save_mean", c));
    RCL_TRY(vec(save_invstd, "batchnorm backward save_invstd", c));
    RCL_TRY(vec(dgamma, "batchnorm backward dgamma", c));
    RCL_TRY(vec(dbeta, "batchnorm backward dbeta", c));
    if (dx->buf == dy->buf || dx->buf == x->buf || (relu && dx->buf == y->buf))
        return rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm backward dx: must not alias x, y or dy");
    cl_mem ybuf = relu ? y->buf : x->buf; /* unused without relu */
    size_t m = (size_t)n * (size_t)hw;
    size_t l = rcl_op_group_size(d, m), g = l * (size_t)c;
    rcl_arg a[] = {RCL_MEM(x->buf),           RCL_MEM(ybuf),         RCL_MEM(dy->buf),
                   RCL_MEM(gamma->buf),       RCL_MEM(save_mean->buf), RCL_MEM(save_invstd->buf),
                   RCL_MEM(dx->buf),          RCL_MEM(dgamma->buf),  RCL_MEM(dbeta->buf),
                   RCL_UINT(n),               RCL_UINT(c),           RCL_UINT(hw),
                   RCL_INT(relu != 0),        RCL_INT(chunked(d)),   RCL_LOCAL(l * sizeof(float))};
    return rcl_kernel_run(d, "bn_bwd", 1, &g, &l, 15, a);
}
