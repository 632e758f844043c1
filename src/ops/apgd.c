/* Device ops of APGD (kernels/apgd.cl); declared in robustcl/ops.h. */
#include <stdint.h>

#include "core/kernel.h"
#include "ops/op_check.h"
#include "robustcl/ops.h"

/* A pixel batch [N,C,H,W] (kernels index with uint). */
static rcl_status image(const rcl_tensor *t, const char *what) {
    RCL_TRY(rcl_op_need(t, what));
    if (t->ndim != 4 || t->shape[0] < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: expected [N,C,H,W] (%d dims)", what, t->ndim);
    return RCL_OK;
}

static rcl_status rows(const rcl_tensor *t, const char *what, int n) {
    if (!t || !t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    return rcl_tensor_expect(t, what, 1, n);
}

rcl_status rcl_apgd_start(rcl_device *d, const rcl_tensor *x_pix, cl_mem index, float eps, uint32_t seed,
                          uint32_t counter, int l2, rcl_tensor *adv) {
    RCL_TRY(image(x_pix, "apgd start x"));
    RCL_TRY(rcl_op_like(adv, "apgd start adv", x_pix));
    if (!index || !(eps >= 0.0f))
        return rcl_fail(RCL_ERR_INVALID_ARG, "apgd start: dataset indices missing or eps %g < 0", (double)eps);
    size_t g = (size_t)x_pix->shape[0];
    rcl_arg a[] = {RCL_MEM(x_pix->buf),    RCL_MEM(index), RCL_MEM(adv->buf), RCL_UINT(g),      RCL_UINT(x_pix->n / g),
                   RCL_FLOAT(eps),         RCL_UINT(seed), RCL_UINT(counter), RCL_INT(l2 != 0)};
    return rcl_kernel_launch(d, RCL_K_apgd_start, 1, &g, NULL, 9, a);
}

/* The arguments of both steps (checked) and their launch: the L-inf step runs one work item
 * per element, the L2 step one per row. */
static rcl_status step_launch(rcl_device *d, const rcl_tensor *x_pix, const rcl_tensor *grad, const rcl_tensor *step,
                              float eps, float momentum, rcl_tensor *old, rcl_tensor *adv, int l2) {
    RCL_TRY(image(x_pix, "apgd step x"));
    RCL_TRY(rcl_op_like(grad, "apgd step gradient", x_pix));
    RCL_TRY(rcl_op_like(old, "apgd step previous point", x_pix));
    RCL_TRY(rcl_op_like(adv, "apgd step adv", x_pix));
    RCL_TRY(rows(step, "apgd step sizes", x_pix->shape[0]));
    if (!(eps >= 0.0f) || !(momentum >= 0.0f && momentum <= 1.0f))
        return rcl_fail(RCL_ERR_INVALID_ARG, "apgd step: eps %g must be >= 0 and the weight %g in [0,1]",
                        (double)eps, (double)momentum);
    size_t n = (size_t)x_pix->shape[0], per = x_pix->n / n, g = l2 ? n : x_pix->n;
    rcl_arg a[] = {RCL_MEM(x_pix->buf), RCL_MEM(grad->buf), RCL_MEM(step->buf), RCL_MEM(old->buf),
                   RCL_MEM(adv->buf),   RCL_UINT(g),        RCL_UINT(per),      RCL_FLOAT(eps),
                   RCL_FLOAT(momentum)};
    return rcl_kernel_launch(d, l2 ? RCL_K_apgd_step_l2 : RCL_K_apgd_step, 1, &g, NULL, 9, a);
}

rcl_status rcl_apgd_step(rcl_device *d, const rcl_tensor *x_pix, const rcl_tensor *grad, const rcl_tensor *step,
                         float eps, float momentum, rcl_tensor *old, rcl_tensor *adv) {
    return step_launch(d, x_pix, grad, step, eps, momentum, old, adv, 0);
}

rcl_status rcl_apgd_step_l2(rcl_device *d, const rcl_tensor *x_pix, const rcl_tensor *grad, const rcl_tensor *step,
                            float eps, float momentum, rcl_tensor *old, rcl_tensor *adv) {
    return step_launch(d, x_pix, grad, step, eps, momentum, old, adv, 1);
}

rcl_status rcl_apgd_row_l2(rcl_device *d, const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *dist) {
    RCL_TRY(image(a, "apgd row distance a"));
    RCL_TRY(rcl_op_like(b, "apgd row distance b", a));
    RCL_TRY(rows(dist, "apgd row distances", a->shape[0]));
    size_t g = (size_t)a->shape[0];
    rcl_arg args[] = {RCL_MEM(a->buf), RCL_MEM(b->buf), RCL_MEM(dist->buf), RCL_UINT(g), RCL_UINT(a->n / g)};
    return rcl_kernel_launch(d, RCL_K_apgd_row_l2, 1, &g, NULL, 5, args);
}

static rcl_status logits_of(const rcl_tensor *logits, int min_k, const char *what) {
    if (!logits || !logits->buf || logits->ndim != 2 || logits->shape[1] < min_k)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: logits must be [N,K] with K >= %d", what, min_k);
    return RCL_OK;
}

rcl_status rcl_apgd_target(rcl_device *d, const rcl_tensor *logits, int rank, cl_mem target) {
    RCL_TRY(logits_of(logits, 2, "apgd target"));
    if (rank < 1 || rank > logits->shape[1] || !target)
        return rcl_fail(RCL_ERR_INVALID_ARG, "apgd target: rank %d of %d classes, or no target buffer", rank,
                        logits->shape[1]);
    size_t g = (size_t)logits->shape[0];
    rcl_arg a[] = {RCL_MEM(logits->buf), RCL_MEM(target), RCL_UINT(g), RCL_UINT(logits->shape[1]), RCL_UINT(rank)};
    return rcl_kernel_launch(d, RCL_K_apgd_target, 1, &g, NULL, 5, a);
}

rcl_status rcl_apgd_dlr(rcl_device *d, const rcl_tensor *logits, cl_mem labels, cl_mem target, rcl_tensor *dlogits,
                        rcl_tensor *row_loss, cl_mem row_correct) {
    RCL_TRY(logits_of(logits, target ? 4 : 3, target ? "apgd targeted DLR" : "apgd DLR"));
    int n = logits->shape[0], k = logits->shape[1];
    if (!dlogits || !dlogits->buf || !labels || !row_correct)
        return rcl_fail(RCL_ERR_INVALID_ARG, "apgd DLR: a buffer is missing");
    RCL_TRY(rcl_tensor_expect(dlogits, "apgd DLR dlogits", 2, n, k));
    RCL_TRY(rows(row_loss, "apgd DLR per row", n));
    cl_mem t = target ? target : labels; /* unused untargeted */
    size_t g = (size_t)n;
    rcl_arg a[] = {RCL_MEM(logits->buf), RCL_MEM(labels), RCL_MEM(t),  RCL_MEM(dlogits->buf), RCL_MEM(row_loss->buf),
                   RCL_MEM(row_correct), RCL_UINT(n),     RCL_UINT(k), RCL_INT(target != NULL)};
    return rcl_kernel_launch(d, RCL_K_apgd_dlr, 1, &g, NULL, 9, a);
}

static rcl_status state_of(const rcl_apgd_state *s, int n) {
    RCL_TRY(rows(&s->loss_best, "apgd best losses", n));
    RCL_TRY(rows(&s->loss_prev, "apgd previous losses", n));
    RCL_TRY(rows(&s->loss_best_last, "apgd best losses at the last checkpoint", n));
    RCL_TRY(rows(&s->step, "apgd step sizes", n));
    if (!s->count || !s->reduced_last || !s->fooled || !s->flag)
        return rcl_fail(RCL_ERR_INVALID_ARG, "apgd state: a per-row flag buffer is missing");
    return RCL_OK;
}

rcl_status rcl_apgd_track(rcl_device *d, const rcl_tensor *row_loss, cl_mem row_correct, float eps, int first,
                          rcl_apgd_state *s) {
    if (!row_loss || row_loss->ndim != 1 || !row_correct)
        return rcl_fail(RCL_ERR_INVALID_ARG, "apgd track: per-row losses or correctness missing");
    int n = row_loss->shape[0];
    RCL_TRY(state_of(s, n));
    size_t g = (size_t)n;
    rcl_arg a[] = {RCL_MEM(row_loss->buf),       RCL_MEM(row_correct),       RCL_MEM(s->loss_best.buf),
                   RCL_MEM(s->loss_prev.buf),    RCL_MEM(s->loss_best_last.buf), RCL_MEM(s->step.buf),
                   RCL_MEM(s->count),            RCL_MEM(s->reduced_last),   RCL_MEM(s->fooled),
                   RCL_MEM(s->flag),             RCL_UINT(n),                RCL_FLOAT(eps),
                   RCL_INT(first != 0)};
    return rcl_kernel_launch(d, RCL_K_apgd_track, 1, &g, NULL, 13, a);
}

rcl_status rcl_apgd_checkpoint(rcl_device *d, int window, float rho, rcl_apgd_state *s) {
    int n = s->loss_best.ndim == 1 ? s->loss_best.shape[0] : 0;
    RCL_TRY(state_of(s, n));
    if (window < 1 || !(rho >= 0.0f && rho <= 1.0f))
        return rcl_fail(RCL_ERR_INVALID_ARG, "apgd checkpoint: window %d must be >= 1 and rho %g in [0,1]", window,
                        (double)rho);
    size_t g = (size_t)n;
    rcl_arg a[] = {RCL_MEM(s->loss_best.buf), RCL_MEM(s->loss_best_last.buf), RCL_MEM(s->step.buf),
                   RCL_MEM(s->count),         RCL_MEM(s->reduced_last),       RCL_MEM(s->flag),
                   RCL_UINT(n),               RCL_UINT(window),               RCL_FLOAT(rho)};
    return rcl_kernel_launch(d, RCL_K_apgd_checkpoint, 1, &g, NULL, 9, a);
}
