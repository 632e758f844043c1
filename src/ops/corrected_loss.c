/* The corrected loss of the label-noise methods, Forward and GLC (kernels/corrected_loss.cl).
 * The forward reduction runs in a single work-group, so it is deterministic. */
#include <stdint.h>
#include <stdio.h>

#include "core/kernel.h"
#include "op_check.h"

/* Checks x [N,K] (logits or probs), labels [N], trusted [N] (optional), C [K,K] and
 * out [N,K]; *n and *k set. `op` prefixes the messages. */
static rcl_status check_args(const char *op, const rcl_tensor *x, const char *xname, cl_mem labels, cl_mem trusted,
                             const rcl_tensor *C, const rcl_tensor *out, const char *outname, int *n, int *k) {
    char what[96];
    snprintf(what, sizeof what, "%s %s", op, xname);
    RCL_TRY(rcl_op_need(x, what));
    if (x->ndim != 2)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %d dimensions, expected [N,K]", what, x->ndim);
    *n = x->shape[0];
    *k = x->shape[1];
    snprintf(what, sizeof what, "%s labels", op);
    RCL_TRY(rcl_op_int_buffer(labels, what, (size_t)*n));
    if (trusted) {
        snprintf(what, sizeof what, "%s trusted", op);
        RCL_TRY(rcl_op_int_buffer(trusted, what, (size_t)*n));
    }
    snprintf(what, sizeof what, "%s C", op);
    RCL_TRY(rcl_op_need(C, what));
    RCL_TRY(rcl_tensor_expect(C, what, 2, *k, *k));
    snprintf(what, sizeof what, "%s %s", op, outname);
    RCL_TRY(rcl_op_need(out, what));
    return rcl_tensor_expect(out, what, 2, *n, *k);
}

rcl_status rcl_corrected_loss_forward(rcl_device *d, const rcl_tensor *logits, cl_mem labels, cl_mem trusted,
                                      const rcl_tensor *C, rcl_tensor *probs, rcl_tensor *loss) {
    int n = 0, k = 0;
    RCL_TRY(check_args("corrected_loss", logits, "logits", labels, trusted, C, probs, "probs", &n, &k));
    RCL_TRY(rcl_op_need(loss, "corrected_loss loss"));
    if (loss->n != 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "corrected_loss loss: %zu elements, expected 1", loss->n);
    cl_mem tr = trusted ? trusted : labels; /* absent flags: any valid buffer, never read */
    size_t l = rcl_op_group_size(d, SIZE_MAX);
    rcl_arg a[] = {RCL_MEM(logits->buf), RCL_MEM(labels),    RCL_MEM(tr),      RCL_INT(trusted != NULL),
                   RCL_MEM(C->buf),      RCL_MEM(probs->buf), RCL_MEM(loss->buf), RCL_UINT(n),
                   RCL_UINT(k),          RCL_LOCAL(l * sizeof(float))};
    return rcl_kernel_launch(d, RCL_K_corrected_loss_fwd, 1, &l, &l, 10, a);
}

rcl_status rcl_corrected_loss_backward(rcl_device *d, const rcl_tensor *probs, cl_mem labels, cl_mem trusted,
                                       const rcl_tensor *C, rcl_tensor *dlogits) {
    int n = 0, k = 0;
    RCL_TRY(check_args("corrected_loss backward", probs, "probs", labels, trusted, C, dlogits, "dlogits", &n, &k));
    cl_mem tr = trusted ? trusted : labels;
    size_t g = (size_t)n;
    rcl_arg a[] = {RCL_MEM(probs->buf), RCL_MEM(labels),      RCL_MEM(tr), RCL_INT(trusted != NULL),
                   RCL_MEM(C->buf),     RCL_MEM(dlogits->buf), RCL_UINT(n), RCL_UINT(k)};
    return rcl_kernel_launch(d, RCL_K_corrected_loss_bwd, 1, &g, NULL, 8, a);
}
