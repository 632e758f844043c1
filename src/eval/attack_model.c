/* The WRN as an attack's classifier: rcl_classifier over an rcl_model. */
#include "robustcl/adversarial.h"

static rcl_status model_forward(void *ctx, const rcl_tensor *x, int train, const rcl_tensor **logits) {
    return rcl_model_forward(ctx, x, train, logits);
}

static rcl_status model_backward(void *ctx, const rcl_tensor *dlogits, rcl_tensor *dx) {
    return rcl_model_backward(ctx, dlogits, dx);
}

rcl_classifier rcl_model_classifier(rcl_model *m) {
    const rcl_wrn_config *c = rcl_model_config(m);
    rcl_classifier f = {m,
                        rcl_model_device(m),
                        c->in_c,
                        c->in_h,
                        c->in_w,
                        c->num_classes,
                        rcl_model_batch_cap(m),
                        model_forward,
                        model_backward};
    return f;
}
