/* Softmax cross-entropy (weighted mean) and count_correct (kernels/loss.cl).
 * The reductions run in a single work-group, so they are deterministic. */
#include <stdint.h>

#include "core/kernel.h"
#include "op_check.h"

/* Checks logits [N,K], labels and the optional weights; *n, *k set. */
static rcl_status xent_args(const rcl_tensor *logits, const char *wl, cl_mem labels, const char *wlab,
                            const rcl_tensor *class_w, const char *wc, const rcl_tensor *sample_w,
                            const char *ws, int *n, int *k) {
    RCL_TRY(rcl_op_need(logits, wl));
    if (logits->ndim != 2)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %d dimensions, expected [N,K]", wl, logits->ndim);
    *n = logits->shape[0];
    *k = logits->shape[1];
    RCL_TRY(rcl_op_int_buffer(labels, wlab, (size_t)*n));
    if (class_w) {
        RCL_TRY(rcl_op_need(class_w, wc));
        RCL_TRY(rcl_tensor_expect(class_w, wc, 1, *k));
    }
    if (sample_w) {
        RCL_TRY(rcl_op_need(sample_w, ws));
        RCL_TRY(rcl_tensor_expect(sample_w, ws, 1, *n));
    }
    return RCL_OK;
}

rcl_status rcl_softmax_xent_forward(rcl_device *d, const rcl_tensor *logits, cl_mem labels,
                                    const rcl_tensor *class_w, const rcl_tensor *sample_w,
                                    rcl_tensor *probs, rcl_tensor *loss) {
    int n = 0, k = 0;
    RCL_TRY(xent_args(logits, "softmax_xent logits", labels, "softmax_xent labels", class_w,
                      "softmax_xent class_w", sample_w, "softmax_xent sample_w", &n, &k));
    RCL_TRY(rcl_op_need(probs, "softmax_xent probs"));
    RCL_TRY(rcl_tensor_expect(probs, "softmax_xent probs", 2, n, k));
    RCL_TRY(rcl_op_need(loss, "softmax_xent loss"));
    if (loss->n != 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "softmax_xent loss: %zu elements, expected 1", loss->n);
    /* absent weights: any valid buffer, never read */
    cl_mem cw = class_w ? class_w->buf : logits->buf, sw = sample_w ? sample_w->buf : logits->buf;
    size_t l = rcl_op_group_size(d, SIZE_MAX);
    rcl_arg a[] = {RCL_MEM(logits->buf), RCL_MEM(labels),     RCL_MEM(cw),
                   RCL_MEM(sw),          RCL_INT(class_w != NULL), RCL_INT(sample_w != NULL),
                   RCL_MEM(probs->buf),  RCL_MEM(loss->buf),  RCL_UINT(n),
                   RCL_UINT(k),          RCL_LOCAL(l * sizeof(float))};
    return rcl_kernel_launch(d, RCL_K_loss_xent_fwd, 1, &l, &l, 11, a);
}

rcl_status rcl_softmax_xent_backward(rcl_device *d, const rcl_tensor *probs, cl_mem labels,
                                     const rcl_tensor *class_w, const rcl_tensor *sample_w,
                                     rcl_tensor *dlogits) {
    int n = 0, k = 0;
    RCL_TRY(xent_args(probs, "softmax_xent backward probs", labels, "softmax_xent backward labels",
                      class_w, "softmax_xent backward class_w", sample_w,
                      "softmax_xent backward sample_w", &n, &k));
    RCL_TRY(rcl_op_need(dlogits, "softmax_xent backward dlogits"));
    RCL_TRY(rcl_tensor_expect(dlogits, "softmax_xent backward dlogits", 2, n, k));
    cl_mem cw = class_w ? class_w->buf : probs->buf, sw = sample_w ? sample_w->buf : probs->buf;
    size_t l = rcl_op_group_size(d, SIZE_MAX);
    rcl_arg a[] = {RCL_MEM(probs->buf), RCL_MEM(labels), RCL_MEM(cw), RCL_MEM(sw),
                   RCL_INT(class_w != NULL), RCL_INT(sample_w != NULL), RCL_MEM(dlogits->buf),
                   RCL_UINT(n), RCL_UINT(k), RCL_LOCAL(l * sizeof(float))};
    return rcl_kernel_launch(d, RCL_K_loss_xent_bwd, 1, &l, &l, 10, a);
}

rcl_status rcl_count_correct(rcl_device *d, const rcl_tensor *logits, cl_mem labels, cl_mem correct) {
    RCL_TRY(rcl_op_need(logits, "count_correct logits"));
    if (logits->ndim != 2)
        return rcl_fail(RCL_ERR_INVALID_ARG, "count_correct logits: %d dimensions, expected [N,K]",
                        logits->ndim);
    int n = logits->shape[0], k = logits->shape[1];
    RCL_TRY(rcl_op_int_buffer(labels, "count_correct labels", (size_t)n));
    RCL_TRY(rcl_op_int_buffer(correct, "count_correct correct", 1));
    size_t l = rcl_op_group_size(d, SIZE_MAX);
    rcl_arg a[] = {RCL_MEM(logits->buf), RCL_MEM(labels), RCL_MEM(correct), RCL_UINT(n), RCL_UINT(k),
                   RCL_LOCAL(l * sizeof(cl_int))};
    return rcl_kernel_launch(d, RCL_K_loss_count_correct, 1, &l, &l, 6, a);
}
