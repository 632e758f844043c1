/* Linear layer y[N,K] = x[N,F] w[K,F]^T + b: CLBlast GEMM plus a bias kernel
 * (kernels/linear.cl). x may have any trailing shape: F is its per-sample size. */
#include <stdint.h>

#include "core/kernel.h"
#include "robustcl/gemm.h"
#include "op_check.h"

/* N, F from x ([N, ...]) and K from w, which must be [K, F]. */
static rcl_status linear_dims(const rcl_tensor *x, const char *wx, const rcl_tensor *w, const char *ww,
                              int *n, int *f, int *k) {
    RCL_TRY(rcl_op_need(x, wx));
    RCL_TRY(rcl_op_need(w, ww));
    *n = x->shape[0];
    *f = (int)(x->n / (size_t)*n);
    if (w->ndim != 2 || w->shape[1] != *f)
        return rcl_tensor_expect(w, ww, 2, w->ndim >= 1 ? w->shape[0] : 0, *f);
    *k = w->shape[0];
    return RCL_OK;
}

rcl_status rcl_linear_forward(rcl_device *d, const rcl_tensor *x, const rcl_tensor *w,
                              const rcl_tensor *b, rcl_tensor *y) {
    int n = 0, f = 0, k = 0;
    RCL_TRY(linear_dims(x, "linear x", w, "linear w", &n, &f, &k));
    RCL_TRY(rcl_op_need(y, "linear y"));
    RCL_TRY(rcl_tensor_expect(y, "linear y", 2, n, k));
    if (b) {
        RCL_TRY(rcl_op_need(b, "linear b"));
        RCL_TRY(rcl_tensor_expect(b, "linear b", 1, k));
    }
    RCL_TRY(rcl_gemm(d, 0, 1, (size_t)n, (size_t)k, (size_t)f, 1.0f, x->buf, 0, (size_t)f, w->buf, 0,
                     (size_t)f, 0.0f, y->buf, 0, (size_t)k));
    if (!b)
        return RCL_OK;
    size_t g = y->n;
    rcl_arg a[] = {RCL_MEM(y->buf), RCL_MEM(b->buf), RCL_UINT(n), RCL_UINT(k)};
    return rcl_kernel_launch(d, RCL_K_loss_bias_add, 1, &g, NULL, 4, a);
}

rcl_status rcl_linear_backward(rcl_device *d, const rcl_tensor *x, const rcl_tensor *w,
                               const rcl_tensor *dy, rcl_tensor *dx, rcl_tensor *dw, rcl_tensor *db) {
    int n = 0, f = 0, k = 0;
    RCL_TRY(linear_dims(x, "linear backward x", w, "linear backward w", &n, &f, &k));
    RCL_TRY(rcl_op_need(dy, "linear backward dy"));
    RCL_TRY(rcl_tensor_expect(dy, "linear backward dy", 2, n, k));
    RCL_TRY(rcl_op_need(dw, "linear backward dw"));
    RCL_TRY(rcl_tensor_expect(dw, "linear backward dw", 2, k, f));
    if (dx) {
        RCL_TRY(rcl_op_need(dx, "linear backward dx"));
        RCL_TRY(rcl_tensor_expect(dx, "linear backward dx", x->ndim, x->shape[0], x->shape[1],
                                  x->shape[2], x->shape[3]));
    }
    if (db) {
        RCL_TRY(rcl_op_need(db, "linear backward db"));
        RCL_TRY(rcl_tensor_expect(db, "linear backward db", 1, k));
    }
    /* dw[K,F] = dy^T[K,N] x[N,F] */
    RCL_TRY(rcl_gemm(d, 1, 0, (size_t)k, (size_t)f, (size_t)n, 1.0f, dy->buf, 0, (size_t)k, x->buf, 0,
                     (size_t)f, 0.0f, dw->buf, 0, (size_t)f));
    /* dx[N,F] = dy[N,K] w[K,F] */
    if (dx)
        RCL_TRY(rcl_gemm(d, 0, 0, (size_t)n, (size_t)f, (size_t)k, 1.0f, dy->buf, 0, (size_t)k, w->buf,
                         0, (size_t)f, 0.0f, dx->buf, 0, (size_t)f));
    if (db) {
        size_t g = (size_t)k;
        rcl_arg a[] = {RCL_MEM(dy->buf), RCL_MEM(db->buf), RCL_UINT(n), RCL_UINT(k)};
        RCL_TRY(rcl_kernel_launch(d, RCL_K_loss_col_sum, 1, &g, NULL, 4, a));
    }
    return RCL_OK;
}
