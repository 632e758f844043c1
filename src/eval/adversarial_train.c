/* Adversarial training (spec §7): the step hook that attacks each training batch. */
#include <stdlib.h>
#include <string.h>

#include "robustcl/adversarial.h"

typedef struct {
    rcl_model *m;
    rcl_attack *a;
    int restarts;
} adv_train_ctx;

static rcl_status adv_train_input(void *ctx, rcl_model *m, rcl_tensor *x, cl_mem labels, const int32_t *index, int n) {
    adv_train_ctx *c = ctx;
    if (m != c->m)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "adversarial training hook: called with another model than it was made for");
    uint32_t counter = (uint32_t)rcl_model_steps(m) * (uint32_t)c->restarts;
    return rcl_attack_run(c->a, x, labels, index, n, counter, x, NULL);
}

rcl_status rcl_adv_train_hooks(const rcl_attack_config *cfg, rcl_model *m, rcl_step_hooks *out) {
    memset(out, 0, sizeof *out);
    rcl_attack_config c = *cfg;
    if (c.bn_train < 0)
        c.bn_train = 1; /* spec §7: the attack sees batch statistics during training */
    adv_train_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for adversarial training");
    ctx->m = m;
    ctx->restarts = c.kind == RCL_ATTACK_FGSM ? 1 : c.restarts;
    rcl_classifier f = rcl_model_classifier(m);
    rcl_status s = rcl_attack_create(&f, &c, &ctx->a);
    if (s != RCL_OK) {
        free(ctx);
        return s;
    }
    out->ctx = ctx;
    out->input = adv_train_input;
    return RCL_OK;
}

void rcl_adv_train_hooks_free(rcl_step_hooks *hooks) {
    adv_train_ctx *c = hooks ? hooks->ctx : NULL;
    if (c) {
        rcl_attack_free(c->a);
        free(c);
    }
    if (hooks)
        memset(hooks, 0, sizeof *hooks);
}
