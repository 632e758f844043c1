#include "robustcl/tensor.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
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

/* Every copy between host and device memory: the first `bytes` of m, to the device (write) or
 * from it, waited for or queued, with the one error message. */
static rcl_status transfer(rcl_device *d, cl_mem m, int write, int blocking, size_t bytes, void *host,
                           const char *what) {
    cl_command_queue q = rcl_device_queue(d);
    cl_bool b = blocking ? CL_TRUE : CL_FALSE;
    cl_int e = write ? clEnqueueWriteBuffer(q, m, b, 0, bytes, host, 0, NULL, NULL)
                     : clEnqueueReadBuffer(q, m, b, 0, bytes, host, 0, NULL, NULL);
    if (e != CL_SUCCESS)
        return rcl_fail(RCL_ERR_OPENCL, "%s %s (%zu bytes) on '%s' failed: %s: %s", write ? "writing" : "reading",
                        what, bytes, rcl_device_get_info(d)->name, rcl_cl_error_name(e), rcl_fault_hint(e));
    return RCL_OK;
}

rcl_status rcl_tensor_upload(rcl_tensor *t, const float *src) {
    return transfer(t->dev, t->buf, 1, 1, t->n * sizeof(float), (void *)src, "a tensor");
}

rcl_status rcl_tensor_download(const rcl_tensor *t, float *dst) {
    return transfer(t->dev, t->buf, 0, 1, t->n * sizeof(float), dst, "a tensor");
}

rcl_status rcl_tensor_upload_async(rcl_tensor *t, const float *src) {
    return transfer(t->dev, t->buf, 1, 0, t->n * sizeof(float), (void *)src, "a tensor");
}

rcl_status rcl_tensor_download_async(const rcl_tensor *t, float *dst) {
    return transfer(t->dev, t->buf, 0, 0, t->n * sizeof(float), dst, "a tensor");
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

rcl_status rcl_ibuf_create(rcl_device *d, rcl_ibuf *b, const char *what, size_t n) {
    memset(b, 0, sizeof *b);
    snprintf(b->what, sizeof b->what, "%s", what);
    RCL_TRY(rcl_device_alloc(d, n * sizeof(int32_t), what, &b->buf));
    b->n = n;
    b->dev = d;
    return RCL_OK;
}

void rcl_ibuf_release(rcl_ibuf *b) {
    if (b->buf)
        rcl_device_free(b->dev, b->buf, b->n * sizeof(int32_t));
    memset(b, 0, sizeof *b);
}

/* The first n elements of b, checked against its size. */
static rcl_status ibuf_copy(const rcl_ibuf *b, int write, int blocking, size_t n, void *host) {
    if (n > b->n)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %zu elements copied, it holds %zu", b->what, n, b->n);
    return transfer(b->dev, b->buf, write, blocking, n * sizeof(int32_t), host, b->what);
}

rcl_status rcl_ibuf_write(rcl_ibuf *b, const int32_t *src, size_t n) { return ibuf_copy(b, 1, 1, n, (void *)src); }
rcl_status rcl_ibuf_write_async(rcl_ibuf *b, const int32_t *src, size_t n) {
    return ibuf_copy(b, 1, 0, n, (void *)src);
}
rcl_status rcl_ibuf_read(const rcl_ibuf *b, int32_t *dst, size_t n) { return ibuf_copy(b, 0, 1, n, dst); }
rcl_status rcl_ibuf_read_async(const rcl_ibuf *b, int32_t *dst, size_t n) { return ibuf_copy(b, 0, 0, n, dst); }

rcl_status rcl_ibuf_fill(rcl_ibuf *b, int32_t value) {
    int32_t *v = malloc((b->n ? b->n : 1) * sizeof *v);
    if (!v)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory filling %s", b->what);
    for (size_t i = 0; i < b->n; i++)
        v[i] = value;
    rcl_status s = ibuf_copy(b, 1, 1, b->n, v);
    free(v);
    return s;
}
