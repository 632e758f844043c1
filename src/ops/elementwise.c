/* Elementwise device ops: ReLU, inverted dropout, add, axpy. */
#include <stdint.h>
#include <stdio.h>

#include "core/kernel.h"
#include "robustcl/ops.h"

/* RCL_OK when t exists and has exactly ref's shape; otherwise an error naming `what`. */
static rcl_status same_shape(const rcl_tensor *t, const char *what, const rcl_tensor *ref) {
    if (!t || !t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    return rcl_tensor_expect(t, what, ref->ndim, ref->shape[0], ref->shape[1], ref->shape[2],
                             ref->shape[3]);
}

static rcl_status present(const rcl_tensor *t, const char *what) {
    if (!t || !t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    if (t->n > UINT32_MAX)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %zu elements, more than the kernels index", what, t->n);
    return RCL_OK;
}

rcl_status rcl_relu_forward(rcl_device *d, const rcl_tensor *x, rcl_tensor *y) {
    RCL_TRY(present(x, "relu x"));
    RCL_TRY(same_shape(y, "relu y", x));
    size_t g = x->n;
    rcl_arg a[] = {RCL_MEM(x->buf), RCL_MEM(y->buf), RCL_UINT(x->n)};
    return rcl_kernel_launch(d, RCL_K_ew_relu_fwd, 1, &g, NULL, 3, a);
}

rcl_status rcl_relu_backward(rcl_device *d, const rcl_tensor *y, const rcl_tensor *dy, rcl_tensor *dx) {
    RCL_TRY(present(y, "relu backward y"));
    RCL_TRY(same_shape(dy, "relu backward dy", y));
    RCL_TRY(same_shape(dx, "relu backward dx", y));
    size_t g = y->n;
    rcl_arg a[] = {RCL_MEM(y->buf), RCL_MEM(dy->buf), RCL_MEM(dx->buf), RCL_UINT(y->n)};
    return rcl_kernel_launch(d, RCL_K_ew_relu_bwd, 1, &g, NULL, 4, a);
}

/* Forward and backward apply the same mask and scale. */
static rcl_status dropout(rcl_device *d, const char *name, float p, uint32_t seed, uint32_t counter,
                          const rcl_tensor *x, rcl_tensor *y) {
    char wx[48], wy[48];
    snprintf(wx, sizeof wx, "%s input", name);
    snprintf(wy, sizeof wy, "%s output", name);
    RCL_TRY(present(x, wx));
    RCL_TRY(same_shape(y, wy, x));
    if (!(p >= 0.0f && p <= 1.0f))
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: probability %g outside [0,1]", name, (double)p);
    float scale = p < 1.0f ? (float)(1.0 / (1.0 - (double)p)) : 0.0f; /* p=1 keeps nothing */
    size_t g = x->n;
    rcl_arg a[] = {RCL_FLOAT(p),      RCL_FLOAT(scale),  RCL_UINT(seed), RCL_UINT(counter),
                   RCL_MEM(x->buf), RCL_MEM(y->buf), RCL_UINT(x->n)};
    return rcl_kernel_launch(d, RCL_K_ew_dropout, 1, &g, NULL, 7, a);
}

rcl_status rcl_dropout_forward(rcl_device *d, float p, uint32_t seed, uint32_t counter,
                               const rcl_tensor *x, rcl_tensor *y) {
    return dropout(d, "dropout", p, seed, counter, x, y);
}

rcl_status rcl_dropout_backward(rcl_device *d, float p, uint32_t seed, uint32_t counter,
                                const rcl_tensor *dy, rcl_tensor *dx) {
    return dropout(d, "dropout backward", p, seed, counter, dy, dx);
}

rcl_status rcl_add(rcl_device *d, const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *y) {
    RCL_TRY(present(a, "add a"));
    RCL_TRY(same_shape(b, "add b", a));
    RCL_TRY(same_shape(y, "add y", a));
    size_t g = a->n;
    rcl_arg args[] = {RCL_MEM(a->buf), RCL_MEM(b->buf), RCL_MEM(y->buf), RCL_UINT(a->n)};
    return rcl_kernel_launch(d, RCL_K_ew_add, 1, &g, NULL, 4, args);
}

rcl_status rcl_axpy(rcl_device *d, float alpha, const rcl_tensor *x, rcl_tensor *y) {
    RCL_TRY(present(x, "axpy x"));
    RCL_TRY(same_shape(y, "axpy y", x));
    size_t g = x->n;
    rcl_arg args[] = {RCL_FLOAT(alpha), RCL_MEM(x->buf), RCL_MEM(y->buf), RCL_UINT(x->n)};
    return rcl_kernel_launch(d, RCL_K_ew_axpy, 1, &g, NULL, 4, args);
}
