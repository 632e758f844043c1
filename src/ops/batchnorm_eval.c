/* Backward of the eval-mode batch norm (kernels/batchnorm_eval.cl): the input gradient of a
 * network evaluated with running statistics, e.g. for attacks on a trained model. */
#include <stdint.h>

#include "core/kernel.h"
#include "op_check.h"

rcl_status rcl_batchnorm_backward_eval(rcl_device *d, int relu, const rcl_tensor *x, const rcl_tensor *y,
                                       const rcl_tensor *dy, const rcl_tensor *gamma, const rcl_tensor *running_mean,
                                       const rcl_tensor *running_var, float eps, rcl_tensor *dx, rcl_tensor *dgamma,
                                       rcl_tensor *dbeta) {
    int n, c, hw;
    RCL_TRY(rcl_op_nc_dims(x, "batchnorm eval backward x", &n, &c, &hw));
    if (relu)
        RCL_TRY(rcl_op_like(y, "batchnorm eval backward y", x));
    RCL_TRY(rcl_op_like(dy, "batchnorm eval backward dy", x));
    RCL_TRY(rcl_op_like(dx, "batchnorm eval backward dx", x));
    RCL_TRY(rcl_op_vec(gamma, "batchnorm eval backward gamma", c));
    RCL_TRY(rcl_op_vec(running_mean, "batchnorm eval backward running_mean", c));
    RCL_TRY(rcl_op_vec(running_var, "batchnorm eval backward running_var", c));
    RCL_TRY(rcl_op_vec(dgamma, "batchnorm eval backward dgamma", c));
    RCL_TRY(rcl_op_vec(dbeta, "batchnorm eval backward dbeta", c));
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
