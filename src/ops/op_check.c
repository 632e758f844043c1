#include "op_check.h"

size_t rcl_op_group_size(rcl_device *d, size_t m) {
    size_t max = rcl_device_get_info(d)->max_work_group, l = 1;
    while (l < 256 && l < m && l * 2 <= max)
        l *= 2;
    return l;
}

rcl_status rcl_op_need(const rcl_tensor *t, const char *what) {
    if (!t || !t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    if (t->n > UINT32_MAX)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %zu elements, too many", what, t->n);
    return RCL_OK;
}

rcl_status rcl_op_int_buffer(cl_mem m, const char *what, size_t count) {
    if (!m)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: buffer missing", what);
    size_t size = 0;
    cl_int e = clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof size, &size, NULL);
    if (e != CL_SUCCESS)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: not a buffer (%s)", what, rcl_cl_error_name(e));
    if (size < count * sizeof(cl_int))
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %zu bytes, need %zu int32 values", what, size, count);
    return RCL_OK;
}

rcl_status rcl_op_vec(const rcl_tensor *t, const char *what, int c) {
    if (!t || !t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    return rcl_tensor_expect(t, what, 1, c);
}

rcl_status rcl_op_like(const rcl_tensor *t, const char *what, const rcl_tensor *ref) {
    if (!t || !t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    return rcl_tensor_expect(t, what, ref->ndim, ref->shape[0], ref->shape[1], ref->shape[2], ref->shape[3]);
}

rcl_status rcl_op_nc_dims(const rcl_tensor *x, const char *what, int *n, int *c, int *hw) {
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
