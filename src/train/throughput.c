/* Measured speed of a net on a device: what time estimates of long runs are made from. */
#include <stdlib.h>

#include "robustcl/progress.h"
#include "robustcl/rng.h"
#include "robustcl/train.h"

/* One training step on random data: forward, cross-entropy, backward, SGD update. */
static rcl_status train_step(rcl_device *d, rcl_model *m, const rcl_tensor *x, cl_mem labels,
                             rcl_tensor *probs, rcl_tensor *loss, rcl_tensor *dlog) {
    const rcl_tensor *logits;
    RCL_TRY(rcl_model_forward(m, x, 1, &logits));
    RCL_TRY(rcl_softmax_xent_forward(d, logits, labels, NULL, NULL, probs, loss));
    RCL_TRY(rcl_softmax_xent_backward(d, probs, labels, NULL, NULL, dlog));
    RCL_TRY(rcl_model_backward(m, dlog, NULL));
    RCL_TRY(rcl_model_step(m, 0.01f, 0.9f, 5e-4f, 1));
    return rcl_device_finish(d);
}

static rcl_status fill(rcl_tensor *t, rcl_rng *r) {
    float *h = malloc(t->n * sizeof *h);
    if (!h)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    for (size_t i = 0; i < t->n; i++)
        h[i] = (float)(2 * rcl_rng_uniform(r) - 1);
    rcl_status s = rcl_tensor_upload(t, h);
    free(h);
    return s;
}

rcl_status rcl_measure_speed(rcl_device *d, const rcl_wrn_config *cfg, int batch, int steps,
                             double *step_seconds, double *eval_images_per_second) {
    rcl_model *m;
    RCL_TRY(rcl_model_create(d, cfg, batch, &m));
    rcl_tensor x = {0}, probs = {0}, dlog = {0}, loss = {0};
    cl_mem labels = NULL;
    int *lab = calloc((size_t)batch, sizeof *lab);
    rcl_rng r = rcl_rng_seed(1);
    rcl_status s = lab ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    if (!s && !(s = rcl_model_init(m, 1)) &&
        !(s = rcl_tensor_create(d, &x, "input", 4, batch, cfg->in_c, cfg->in_h, cfg->in_w)) &&
        !(s = rcl_tensor_create(d, &probs, "probs", 2, batch, cfg->num_classes)) &&
        !(s = rcl_tensor_create(d, &dlog, "dlogits", 2, batch, cfg->num_classes)) &&
        !(s = rcl_tensor_create(d, &loss, "loss", 1, 1)) && !(s = fill(&x, &r)) &&
        !(s = rcl_device_alloc(d, (size_t)batch * sizeof(cl_int), "labels", &labels)) &&
        clEnqueueWriteBuffer(rcl_device_queue(d), labels, CL_TRUE, 0, (size_t)batch * sizeof(cl_int),
                             lab, 0, NULL, NULL) != CL_SUCCESS)
        s = rcl_fail(RCL_ERR_OPENCL, "measuring speed: uploading labels failed");
    /* the first step builds kernels and chooses the convolution algorithms: not timed */
    if (!s)
        s = train_step(d, m, &x, labels, &probs, &loss, &dlog);
    double t0 = rcl_now();
    for (int i = 0; !s && i < steps; i++)
        s = train_step(d, m, &x, labels, &probs, &loss, &dlog);
    double t1 = rcl_now(), t2 = t1;
    const rcl_tensor *logits;
    for (int i = 0; !s && i <= steps; i++) {
        if (i == 1)
            t2 = rcl_now(); /* forward 0 warmed up eval mode */
        if (!(s = rcl_model_forward(m, &x, 0, &logits)))
            s = rcl_device_finish(d);
    }
    double t3 = rcl_now();
    if (!s) {
        *step_seconds = (t1 - t0) / steps;
        *eval_images_per_second = steps * batch / (t3 - t2);
    }
    free(lab);
    rcl_device_free(d, labels, (size_t)batch * sizeof(cl_int));
    rcl_tensor_release(&x), rcl_tensor_release(&probs), rcl_tensor_release(&dlog), rcl_tensor_release(&loss);
    rcl_model_free(m);
    return s;
}
