/* A NaN in the gradients stops training within the step, naming the step and
 * the tensor, and no checkpoint of the broken weights is written. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "robustcl/train.h"

static int poison_at_step = 3, steps_seen;

static rcl_status poisoned_loss(void *ctx, rcl_device *d, const rcl_tensor *logits, cl_mem labels,
                                const int32_t *index, int n, rcl_tensor *loss, rcl_tensor *dlogits) {
    (void)ctx, (void)index;
    rcl_tensor probs;
    RCL_TRY(rcl_tensor_create(d, &probs, "probs", 2, n, logits->shape[1]));
    rcl_status s = rcl_softmax_xent_forward(d, logits, labels, NULL, NULL, &probs, loss);
    if (s == RCL_OK)
        s = rcl_softmax_xent_backward(d, &probs, labels, NULL, NULL, dlogits);
    if (s == RCL_OK && ++steps_seen == poison_at_step)
        s = rcl_tensor_fill(dlogits, NAN);
    rcl_tensor_release(&probs);
    return s;
}

static int checkpoints;
static rcl_status count_checkpoint(void *ctx, rcl_model *m, const rcl_train_state *st, int final) {
    (void)ctx, (void)m, (void)st, (void)final;
    checkpoints++;
    return RCL_OK;
}

int main(void) {
    rcl_device *d = rcl_test_device(0);
    rcl_dataset ds;
    CHECK_OK(rcl_dataset_alloc(&ds, 64, 1, 8, 8, 2, 0));
    for (int i = 0; i < 64 * 64; i++)
        ds.pixels[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 64; i++)
        ds.labels[i] = i % 2;
    rcl_wrn_config cfg = {10, 1, 1, 8, 8, 2, 0.0f, 1};
    rcl_model *m;
    CHECK_OK(rcl_model_create(d, &cfg, 8, &m));
    CHECK_OK(rcl_model_init(m, 1));
    rcl_step_hooks hooks = {NULL, NULL, poisoned_loss};
    rcl_train_config tc = rcl_train_defaults();
    tc.batch = 8;
    tc.epochs = 2;
    tc.augment = 0;
    tc.hooks = &hooks;
    tc.checkpoint = count_checkpoint;
    tc.checkpoint_every_steps = 1;
    rcl_train_result r;
    CHECK_FAILS(rcl_train(m, &ds, NULL, 0, &tc, &r), RCL_ERR_NUMERIC);
    CHECK(strstr(rcl_last_error(), "step 3") && strstr(rcl_last_error(), "gradient of"),
          "the message names the step and the tensor: %s", rcl_last_error());
    CHECK(checkpoints == 2, "checkpoints after steps 1 and 2 only (got %d)", checkpoints);
    rcl_model_free(m);
    rcl_dataset_free(&ds);
    rcl_device_close(d);
    return rcl_test_finish();
}
