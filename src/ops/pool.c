/* Global average pooling [N,C,H,W] -> [N,C] (kernels/pool.cl). */
#include <stdint.h>

#include "core/kernel.h"
#include "robustcl/ops.h"

/* x is [N, C, ...]; y must be [N, C]. */
static rcl_status pool_dims(const rcl_tensor *x, const char *wx, const rcl_tensor *y, const char *wy,
                            size_t *planes, size_t *hw) {
    if (!x || !x->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", wx);
    if (!y || !y->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", wy);
    if (x->ndim < 2)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %d dimensions, expected [N,C,H,W]", wx, x->ndim);
    if (x->n > UINT32_MAX)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %zu elements, too many", wx, x->n);
    RCL_TRY(rcl_tensor_expect(y, wy, 2, x->shape[0], x->shape[1]));
    *planes = (size_t)x->shape[0] * (size_t)x->shape[1];
    *hw = x->n / *planes;
    return RCL_OK;
}

rcl_status rcl_avgpool_forward(rcl_device *d, const rcl_tensor *x, rcl_tensor *y) {
    size_t planes = 0, hw = 0;
    RCL_TRY(pool_dims(x, "avgpool x", y, "avgpool y", &planes, &hw));
    rcl_arg a[] = {RCL_MEM(x->buf), RCL_MEM(y->buf), RCL_UINT(planes), RCL_UINT(hw)};
    return rcl_kernel_launch(d, RCL_K_pool_avg_fwd, 1, &planes, NULL, 4, a);
}

rcl_status rcl_avgpool_backward(rcl_device *d, const rcl_tensor *dy, rcl_tensor *dx) {
    size_t planes = 0, hw = 0;
    RCL_TRY(pool_dims(dx, "avgpool backward dx", dy, "avgpool backward dy", &planes, &hw));
    size_t g = dx->n;
    rcl_arg a[] = {RCL_MEM(dy->buf), RCL_MEM(dx->buf), RCL_UINT(planes), RCL_UINT(hw)};
    return rcl_kernel_launch(d, RCL_K_pool_avg_bwd, 1, &g, NULL, 4, a);
}
