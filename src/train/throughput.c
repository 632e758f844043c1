/* Measured speed of a net on a device: what benchmarks and the time estimates of long runs
 * are made from. */
#include <stdlib.h>
#include <string.h>

#include "core/progress.h"
#include "robustcl/rng.h"
#include "robustcl/train.h"

static rcl_status probe_upload_labels(rcl_step_probe *p, rcl_device *d, rcl_rng *r, int classes) {
    int32_t *lab = malloc((size_t)p->batch * sizeof *lab);
    if (!lab)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    for (int i = 0; i < p->batch; i++)
        lab[i] = (int32_t)rcl_rng_below(r, (uint64_t)classes);
    rcl_status s = rcl_ibuf_create(d, &p->labels, "step probe labels", (size_t)p->batch);
    if (!s)
        s = rcl_ibuf_write(&p->labels, lab, (size_t)p->batch);
    free(lab);
    return s;
}

rcl_status rcl_step_probe_create(rcl_device *d, const rcl_wrn_config *cfg, int batch,
                                 rcl_step_probe *p) {
    memset(p, 0, sizeof *p);
    p->batch = batch;
    size_t nin = (size_t)batch * cfg->in_c * cfg->in_h * cfg->in_w;
    rcl_rng r = rcl_rng_seed(1);
    rcl_status s = rcl_model_create(d, cfg, batch, &p->model);
    if (!s && !(p->host_x = malloc(nin * sizeof *p->host_x)))
        s = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    for (size_t i = 0; !s && i < nin; i++)
        p->host_x[i] = (float)(2 * rcl_rng_uniform(&r) - 1);
    if (!s && !(s = rcl_model_init(p->model, 1)) &&
        !(s = rcl_tensor_create(d, &p->x, "input", 4, batch, cfg->in_c, cfg->in_h, cfg->in_w)) &&
        !(s = rcl_tensor_create(d, &p->probs, "probs", 2, batch, cfg->num_classes)) &&
        !(s = rcl_tensor_create(d, &p->dlogits, "dlogits", 2, batch, cfg->num_classes)) &&
        !(s = rcl_tensor_create(d, &p->loss, "loss", 1, 1)) && !(s = rcl_tensor_upload(&p->x, p->host_x)))
        s = probe_upload_labels(p, d, &r, cfg->num_classes);
    if (s)
        rcl_step_probe_free(p);
    return s;
}

rcl_status rcl_step_probe_step(rcl_step_probe *p, int upload) {
    rcl_device *d = p->x.dev;
    const rcl_tensor *logits;
    if (upload)
        RCL_TRY(rcl_tensor_upload(&p->x, p->host_x));
    RCL_TRY(rcl_model_forward(p->model, &p->x, 1, &logits));
    RCL_TRY(rcl_softmax_xent_forward(d, logits, p->labels.buf, NULL, NULL, &p->probs, &p->loss));
    RCL_TRY(rcl_softmax_xent_backward(d, &p->probs, p->labels.buf, NULL, NULL, &p->dlogits));
    RCL_TRY(rcl_model_backward(p->model, &p->dlogits, NULL));
    RCL_TRY(rcl_model_step(p->model, 0.01f, 0.9f, 5e-4f, 1));
    return rcl_device_finish(d);
}

void rcl_step_probe_free(rcl_step_probe *p) {
    rcl_ibuf_release(&p->labels);
    rcl_tensor_release(&p->x), rcl_tensor_release(&p->probs);
    rcl_tensor_release(&p->dlogits), rcl_tensor_release(&p->loss);
    rcl_model_free(p->model);
    free(p->host_x);
    memset(p, 0, sizeof *p);
}

rcl_status rcl_measure_speed(rcl_device *d, const rcl_wrn_config *cfg, int batch, int steps,
                             double *step_seconds, double *eval_images_per_second) {
    rcl_step_probe p;
    RCL_TRY(rcl_step_probe_create(d, cfg, batch, &p));
    /* the first step builds kernels and chooses the convolution algorithms: not timed */
    rcl_status s = rcl_step_probe_step(&p, 0);
    double t0 = rcl_now();
    for (int i = 0; !s && i < steps; i++)
        s = rcl_step_probe_step(&p, 0);
    double t1 = rcl_now(), t2 = t1;
    const rcl_tensor *logits;
    for (int i = 0; !s && i <= steps; i++) {
        if (i == 1)
            t2 = rcl_now(); /* forward 0 warmed up eval mode */
        if (!(s = rcl_model_forward(p.model, &p.x, 0, &logits)))
            s = rcl_device_finish(d);
    }
    double t3 = rcl_now();
    if (!s) {
        *step_seconds = (t1 - t0) / steps;
        *eval_images_per_second = steps * batch / (t3 - t2);
    }
    rcl_step_probe_free(&p);
    return s;
}
