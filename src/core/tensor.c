#include "robustcl/tensor.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"

rcl_status rcl_tensor_create_shape(rcl_device *d, rcl_tensor *t, const char *what, int ndim,
                                   const int *shape) {
    memset(t, 0, sizeof *t);
    if (ndim < 1 || ndim > RCL_MAX_DIMS)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %d dimensions (1..4 allowed)", what, ndim);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0)
            return rcl_fail(RCL_ERR_INVALID_ARG, "%s: dimension %d is %d", what, i, shape[i]);
        t->shape[i] = shape[i];
        n *= (size_t)shape[i];
    }
    t->ndim = ndim;
    t->n = n;
    t->dev = d;
    rcl_status s = rcl_device_alloc(d, n * sizeof(float), what, &t->buf);
    if (s != RCL_OK)
        memset(t, 0, sizeof *t);
    return s;
}

rcl_status rcl_tensor_create(rcl_device *d, rcl_tensor *t, const char *what, int ndim, ...) {
    int shape[RCL_MAX_DIMS] = {0};
    va_list ap;
    va_start(ap, ndim);
    for (int i = 0; i < ndim && i < RCL_MAX_DIMS; i++)
        shape[i] = va_arg(ap, int);
    va_end(ap);
    return rcl_tensor_create_shape(d, t, what, ndim, shape);
}

void rcl_tensor_release(rcl_tensor *t) {
    if (t->buf)
        rcl_device_free(t->dev, t->buf, t->n * sizeof(float));
    memset(t, 0, sizeof *t);
}

rcl_status rcl_tensor_upload(rcl_tensor *t, const float *src) {
    cl_int e = clEnqueueWriteBuffer(rcl_device_queue(t->dev), t->buf, CL_TRUE, 0,
                                    t->n * sizeof(float), src, 0, NULL, NULL);
    if (e != CL_SUCCESS)
        return rcl_fail(RCL_ERR_OPENCL, "uploading a tensor failed: %s", rcl_cl_error_name(e));
    return RCL_OK;
}

rcl_status rcl_tensor_download(const rcl_tensor *t, float *dst) {
    cl_int e = clEnqueueReadBuffer(rcl_device_queue(t->dev), t->buf, CL_TRUE, 0,
                                   t->n * sizeof(float), dst, 0, NULL, NULL);
    if (e != CL_SUCCESS)
        return rcl_fail(RCL_ERR_OPENCL, "downloading a tensor failed: %s", rcl_cl_error_name(e));
    return RCL_OK;
}

rcl_status rcl_tensor_fill(rcl_tensor *t, float value) {
    if (!t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "fill: tensor missing");
    if (t->n > UINT32_MAX)
        return rcl_fail(RCL_ERR_INVALID_ARG, "fill: %zu elements, more than the kernel indexes", t->n);
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    size_t g = t->n;
    rcl_arg a[] = {RCL_MEM(t->buf), RCL_UINT(bits), RCL_UINT(t->n)};
    return rcl_kernel_launch(t->dev, RCL_K_tensor_fill, 1, &g, NULL, 3, a);
}

rcl_status rcl_tensor_copy(const rcl_tensor *src, rcl_tensor *dst) {
    if (src->n != dst->n)
        return rcl_fail(RCL_ERR_INVALID_ARG, "tensor copy of %zu elements into %zu", src->n, dst->n);
    cl_int e = clEnqueueCopyBuffer(rcl_device_queue(src->dev), src->buf, dst->buf, 0, 0,
                                   src->n * sizeof(float), 0, NULL, NULL);
    if (e != CL_SUCCESS)
        return rcl_fail(RCL_ERR_OPENCL, "copying a tensor failed: %s", rcl_cl_error_name(e));
    return RCL_OK;
}

rcl_status rcl_tensor_expect(const rcl_tensor *t, const char *what, int ndim, ...) {
    int want[RCL_MAX_DIMS] = {0};
    va_list ap;
    va_start(ap, ndim);
    for (int i = 0; i < ndim && i < RCL_MAX_DIMS; i++)
        want[i] = va_arg(ap, int);
    va_end(ap);
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = t->shape[i] == want[i];
    if (ok)
        return RCL_OK;
    char got[64] = "", exp[64] = "";
    for (int i = 0; i < t->ndim; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), i ? "x%d" : "%d", t->shape[i]);
    for (int i = 0; i < ndim; i++)
        snprintf(exp + strlen(exp), sizeof exp - strlen(exp), i ? "x%d" : "%d", want[i]);
    return rcl_fail(RCL_ERR_INVALID_ARG, "%s: shape %s, expected %s", what, got, exp);
}
