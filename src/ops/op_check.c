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
