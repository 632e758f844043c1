/* Device ops of FAB-T, L-inf and L2 (kernels/fab.cl); declared in robustcl/ops.h. */
#include <stdint.h>

#include "core/kernel.h"
#include "ops/op_check.h"
#include "robustcl/ops.h"

/* x a pixel batch [N,C,H,W] (kernels index with uint) and y of its shape. */
static rcl_status images(const rcl_tensor *x, const rcl_tensor *y, const char *what) {
    RCL_TRY(rcl_op_need(x, what));
    if (x->ndim != 4 || x->shape[0] < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: expected [N,C,H,W] (%d dims)", what, x->ndim);
    return rcl_op_like(y, what, x);
}

static rcl_status rows(const rcl_tensor *t, const char *what, int n) {
    if (!t || !t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    return rcl_tensor_expect(t, what, 1, n);
}

static float at(const float *v, int c) { return v[c < 3 ? c : 2]; }

rcl_status rcl_fab_diff(rcl_device *d, const rcl_tensor *logits, cl_mem labels, cl_mem target, rcl_tensor *dlogits,
                        rcl_tensor *row_loss, cl_mem row_correct) {
    if (!logits || !logits->buf || logits->ndim != 2 || logits->shape[1] < 2)
        return rcl_fail(RCL_ERR_INVALID_ARG, "fab difference: logits must be [N,K] with K >= 2");
    int n = logits->shape[0], k = logits->shape[1];
    if (!dlogits || !dlogits->buf || !labels || !target || !row_correct)
        return rcl_fail(RCL_ERR_INVALID_ARG, "fab difference: a buffer is missing");
    RCL_TRY(rcl_tensor_expect(dlogits, "fab difference dlogits", 2, n, k));
    RCL_TRY(rows(row_loss, "fab difference per row", n));
    size_t g = (size_t)n;
    rcl_arg a[] = {RCL_MEM(logits->buf),   RCL_MEM(labels),       RCL_MEM(target), RCL_MEM(dlogits->buf),
                   RCL_MEM(row_loss->buf), RCL_MEM(row_correct), RCL_UINT(n),     RCL_UINT(k)};
    return rcl_kernel_launch(d, RCL_K_fab_diff, 1, &g, NULL, 8, a);
}

rcl_status rcl_fab_step(rcl_device *d, const rcl_tensor *x0, const rcl_tensor *grad, const rcl_tensor *row_loss,
                        const float *std, float eta, float alpha_max, int l2, rcl_fab_scratch *sc, rcl_tensor *x1) {
    RCL_TRY(images(x0, x1, "fab step point"));
    RCL_TRY(images(x0, grad, "fab step gradient"));
    const rcl_tensor *scratch[] = {&sc->d1, &sc->d2, &sc->room, &sc->s, &sc->sb};
    for (int i = 0; i < 5; i++)
        RCL_TRY(images(x0, scratch[i], "fab step scratch"));
    int n = x0->shape[0];
    RCL_TRY(rows(row_loss, "fab step per row", n));
    RCL_TRY(rcl_op_int_buffer(sc->order, "fab step order", x0->n));
    if (!std || !(eta >= 1.0f) || !(alpha_max >= 0.0f && alpha_max <= 1.0f))
        return rcl_fail(RCL_ERR_INVALID_ARG, "fab step: std missing, eta %g below 1 or alpha_max %g outside [0,1]",
                        (double)eta, (double)alpha_max);
    size_t g = (size_t)n;
    rcl_arg a[] = {RCL_MEM(x0->buf),        RCL_MEM(x1->buf),       RCL_MEM(grad->buf),
                   RCL_MEM(row_loss->buf),  RCL_MEM(sc->d1.buf),    RCL_MEM(sc->d2.buf),
                   RCL_MEM(sc->room.buf),   RCL_MEM(sc->order),     RCL_MEM(sc->s.buf),
                   RCL_MEM(sc->sb.buf),     RCL_UINT(n),            RCL_UINT(x0->n / g),
                   RCL_UINT(x0->shape[2] * x0->shape[3]),           RCL_UINT(x0->shape[1]),
                   RCL_FLOAT(at(std, 0)),   RCL_FLOAT(at(std, 1)),  RCL_FLOAT(at(std, 2)),
                   RCL_FLOAT(eta),          RCL_FLOAT(alpha_max),   RCL_UINT(l2 != 0)};
    return rcl_kernel_launch(d, RCL_K_fab_step, 1, &g, NULL, 20, a);
}

rcl_status rcl_fab_track(rcl_device *d, const rcl_tensor *x0, cl_mem correct, float beta, int l2, rcl_tensor *x1,
                         rcl_tensor *best, rcl_tensor *dist) {
    RCL_TRY(images(x0, x1, "fab track point"));
    RCL_TRY(images(x0, best, "fab track best point"));
    int n = x0->shape[0];
    RCL_TRY(rows(dist, "fab track distances", n));
    if (!correct || !(beta >= 0.0f && beta <= 1.0f))
        return rcl_fail(RCL_ERR_INVALID_ARG, "fab track: correctness missing or beta %g outside [0,1]", (double)beta);
    size_t g = (size_t)n;
    rcl_arg a[] = {RCL_MEM(x0->buf), RCL_MEM(x1->buf),    RCL_MEM(correct), RCL_MEM(best->buf), RCL_MEM(dist->buf),
                   RCL_UINT(n),      RCL_UINT(x0->n / g), RCL_FLOAT(beta),  RCL_UINT(l2 != 0)};
    return rcl_kernel_launch(d, RCL_K_fab_track, 1, &g, NULL, 9, a);
}
