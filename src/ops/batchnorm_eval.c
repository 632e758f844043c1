/* Backward of the eval-mode batch norm (kernels/batchnorm_eval.cl): the input gradient of a
 * network evaluated with running statistics, e.g. for attacks on a trained model. */
#include <stdint.h>

#include "core/kernel.h"
#include "robustcl/ops.h"

static rcl_status vec(const rcl_tensor *t, const char *what, int c) {
    if (!t || !t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    return rcl_tensor_expect(t, what, 1, c);
}

static rcl_status like(const rcl_tensor *t, const char *what, const rcl_tensor *ref) {
    if (!t || !t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    return rcl_tensor_expect(t, what, ref->ndim, ref->shape[0], ref->shape[1], ref->shape[2], ref->shape[3]);
}

rcl_status rcl_batchnorm_backward_eval(rcl_device *d, int relu, const rcl_tensor *x, const rcl_tensor *y,
                                       const rcl_tensor *dy, const rcl_tensor *gamma, const rcl_tensor *running_mean,
                                       const rcl_tensor *running_var, float eps, rcl_tensor *dx, rcl_tensor *dgamma,
                                       rcl_tensor *dbeta) {
    if (!x || !x->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm eval backward x: tensor missing");
    if (x->ndim < 2 || x->n > UINT32_MAX)
        return rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm eval backward x: expected [N,C,...] of at most 2^32 elements");
    int n = x->shape[0], c = x->shape[1];
    int hw = (int)(x->n / ((size_t)n * (size_t)c));
    if (relu)
        RCL_TRY(like(y, "batchnorm eval backward y", x));
    RCL_TRY(like(dy, "batchnorm eval backward dy", x));
    RCL_TRY(like(dx, "batchnorm eval backward dx", x));
    RCL_TRY(vec(gamma, "batchnorm eval backward gamma", c));
    RCL_TRY(vec(running_mean, "batchnorm eval backward running_mean", c));
    RCL_TRY(vec(running_var, "batchnorm eval backward running_var", c));
    RCL_TRY(vec(dgamma, "batchnorm eval backward dgamma", c));
    RCL_TRY(vec(dbeta, "batchnorm eval backward dbeta", c));
    if (!(eps > 0.0f))
        return rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm eval backward: eps %g must be positive", (double)eps);
    if (dx->buf == x->buf || (relu && dx->buf == y->buf))
        return rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm eval backward dx: must not alias x or y");
    /* CPUs: whole planes per work item (contiguous); GPUs: strided elements (coalesced). */
    const rcl_device_info *info = rcl_device_get_info(d);
    int chunked = !rcl_device_gpu_kernels(d);
    size_t need = chunked ? (size_t)n : (size_t)n * (size_t)hw, l = 1;
    while (l < 256 && l < need && l * 2 <= info->max_work_group)
        l *= 2;
    size_t g = l * (size_t)c;
    cl_mem ybuf = relu ? y->buf : x->buf; /* unused without relu */
    rcl_arg a[] = {RCL_MEM(x->buf),
                   RCL_MEM(ybuf),
                   RCL_MEM(dy->buf),
                   RCL_MEM(gamma->buf),
                   RCL_MEM(running_mean->buf),
                   RCL_MEM(running_var->buf),
                   RCL_MEM(dx->buf),
                   RCL_MEM(dgamma->buf),
                   RCL_MEM(dbeta->buf),
                   RCL_UINT(n),
                   RCL_UINT(c),
                   RCL_UINT(hw),
                   RCL_FLOAT(eps),
                   RCL_INT(relu != 0),
                   RCL_INT(chunked),
                   RCL_LOCAL(l * sizeof(float))};
    return rcl_kernel_launch(d, RCL_K_bn_eval_bwd, 1, &g, &l, 16, a);
}
