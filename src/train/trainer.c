#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/progress.h"
#include "robustcl/train.h"

rcl_train_config rcl_train_defaults(void) {
    rcl_train_config c;
    memset(&c, 0, sizeof c);
    c.epochs = 1;
    c.batch = 128;
    c.lr = 0.1;
    c.lr_min = 1e-6;
    c.momentum = 0.9;
    c.wd = 5e-4;
    c.nesterov = 1;
    c.augment = 1;
    c.pad = 4;
    for (int i = 0; i < 3; i++)
        c.mean[i] = c.std[i] = 0.5f;
    return c;
}

/* Device buffers of one training step. */
typedef struct {
    rcl_tensor x, probs, dlogits, loss, class_w;
    cl_mem labels, correct;
} step_buffers;

static void step_release(rcl_device *d, step_buffers *b, int batch) {
    rcl_tensor_release(&b->x);
    rcl_tensor_release(&b->probs);
    rcl_tensor_release(&b->dlogits);
    rcl_tensor_release(&b->loss);
    rcl_tensor_release(&b->class_w);
    rcl_device_free(d, b->labels, (size_t)batch * sizeof(cl_int));
    rcl_device_free(d, b->correct, sizeof(cl_int));
}

static rcl_status step_alloc(rcl_model *m, int batch, const float *class_w, step_buffers *b) {
    const rcl_wrn_config *c = rcl_model_config(m);
    rcl_device *d = rcl_model_device(m);
    memset(b, 0, sizeof *b);
    RCL_TRY(rcl_tensor_create(d, &b->x, "input batch", 4, batch, c->in_c, c->in_h, c->in_w));
    RCL_TRY(rcl_tensor_create(d, &b->probs, "probabilities", 2, batch, c->num_classes));
    RCL_TRY(rcl_tensor_create(d, &b->dlogits, "logit gradient", 2, batch, c->num_classes));
    RCL_TRY(rcl_tensor_create(d, &b->loss, "loss", 1, 1));
    RCL_TRY(rcl_device_alloc(d, (size_t)batch * sizeof(cl_int), "labels", &b->labels));
    RCL_TRY(rcl_device_alloc(d, sizeof(cl_int), "correct count", &b->correct));
    if (class_w) {
        RCL_TRY(rcl_tensor_create(d, &b->class_w, "class weights", 1, c->num_classes));
        RCL_TRY(rcl_tensor_upload(&b->class_w, class_w));
    }
    return RCL_OK;
}

static rcl_tensor batch_view(const rcl_tensor *t, int n) {
    rcl_tensor v = *t;
    v.n = t->n / (size_t)t->shape[0] * (size_t)n;
    v.shape[0] = n;
    return v;
}

rcl_status rcl_evaluate(rcl_model *m, const rcl_dataset *ds, const int *indices, int count,
                        const float *mean, const float *std, float *logits, double *error) {
    rcl_device *d = rcl_model_device(m);
    const rcl_wrn_config *c = rcl_model_config(m);
    if (ds->c != c->in_c || ds->h != c->in_h || ds->w != c->in_w)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: images are %dx%dx%d, the model takes %dx%dx%d", ds->name, ds->c,
                        ds->h, ds->w, c->in_c, c->in_h, c->in_w);
    if (!indices)
        count = ds->n;
    int cap = rcl_model_batch_cap(m);
    rcl_loader_options lo = rcl_loader_defaults();
    lo.batch = cap;
    lo.shuffle = 0;
    lo.augment = 0;
    memcpy(lo.mean, mean, sizeof lo.mean);
    memcpy(lo.std, std, sizeof lo.std);
    rcl_loader *l;
    RCL_TRY(rcl_loader_create(ds, indices, count, &lo, &l));
    step_buffers b;
    rcl_status s = step_alloc(m, cap, NULL, &b);
    long correct = 0, labelled = 0;
    int pos = 0;
    if (s == RCL_OK)
        s = rcl_loader_start(l, 0, 0);
    while (s == RCL_OK) {
        const float *x;
        const int32_t *y, *idx;
        int n;
        if ((s = rcl_loader_next(l, &x, &y, &idx, &n)) != RCL_OK || n == 0)
            break;
        rcl_tensor xv = batch_view(&b.x, n);
        const rcl_tensor *out;
        cl_int got = 0;
        cl_command_queue q = rcl_device_queue(d);
        if ((s = rcl_tensor_upload(&xv, x)) != RCL_OK ||
            (s = rcl_model_forward(m, &xv, 0, &out)) != RCL_OK)
            break;
        int has_labels = y[0] >= 0;
        if (has_labels) {
            clEnqueueWriteBuffer(q, b.labels, CL_TRUE, 0, (size_t)n * sizeof(cl_int), y, 0, NULL, NULL);
            if ((s = rcl_count_correct(d, out, b.labels, b.correct)) != RCL_OK)
                break;
            if (clEnqueueReadBuffer(q, b.correct, CL_TRUE, 0, sizeof got, &got, 0, NULL, NULL) != CL_SUCCESS) {
                s = rcl_fail(RCL_ERR_OPENCL, "reading the correct count failed");
                break;
            }
            correct += got;
            labelled += n;
        }
        if (logits && (s = rcl_tensor_download(out, logits + (size_t)pos * c->num_classes)) != RCL_OK)
            break;
        pos += n;
    }
    step_release(d, &b, cap);
    rcl_loader_free(l);
    if (s == RCL_OK && error)
        *error = labelled ? 1.0 - (double)correct / (double)labelled : -1.0;
    return s;
}

static rcl_status read_scalars(rcl_device *d, step_buffers *b, float *loss, cl_int *correct) {
    cl_command_queue q = rcl_device_queue(d);
    cl_int e = clEnqueueReadBuffer(q, b->correct, CL_FALSE, 0, sizeof *correct, correct, 0, NULL, NULL);
    if (e == CL_SUCCESS)
        e = clEnqueueReadBuffer(q, b->loss.buf, CL_TRUE, 0, sizeof *loss, loss, 0, NULL, NULL);
    if (e != CL_SUCCESS)
        return rcl_fail(RCL_ERR_OPENCL, "reading the loss failed: %s", rcl_cl_error_name(e));
    return RCL_OK;
}

/* Gradients then weights of every trainable parameter: checked for NaN/Inf after each
 * step, so a diverging run stops within one step, before its next checkpoint. */
typedef struct {
    const rcl_tensor **t;
    const char **what;
    int *bad, n;
} finite_check;

static rcl_status finite_check_make(rcl_model *m, finite_check *fc) {
    int np = rcl_model_param_count(m);
    fc->t = malloc(sizeof *fc->t * (size_t)(2 * np));
    fc->what = malloc(sizeof *fc->what * (size_t)(2 * np));
    fc->bad = malloc(sizeof *fc->bad * (size_t)(2 * np));
    fc->n = 0;
    if (!fc->t || !fc->what || !fc->bad)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < np; i++) {
            rcl_param *p = rcl_model_param(m, i);
            if (!p->trainable)
                continue;
            fc->t[fc->n] = pass ? &p->value : &p->grad;
            fc->what[fc->n++] = p->name;
        }
    return RCL_OK;
}

static void finite_check_free(finite_check *fc) {
    free(fc->t), free(fc->what), free(fc->bad);
}

static rcl_status finite_check_run(rcl_device *d, finite_check *fc, const rcl_train_state *st) {
    int first = -1;
    RCL_TRY(rcl_check_finite(d, fc->t, fc->n, fc->bad, &first));
    if (first < 0)
        return RCL_OK;
    int grads = fc->n / 2;
    return rcl_fail(RCL_ERR_NUMERIC, "NaN or Inf in the %s of %s at step %ld (epoch %d, batch %d): stopping; the last "
                    "checkpoint is kept (try a lower --lr)",
                    first < grads ? "gradient" : "weights", fc->what[first], st->step + 1, st->epoch + 1, st->batch + 1);
}

rcl_status rcl_train(rcl_model *m, const rcl_dataset *ds, const int *indices, int count,
                     const rcl_train_config *cfg, rcl_train_result *res) {
    rcl_device *d = rcl_model_device(m);
    const rcl_wrn_config *mc = rcl_model_config(m);
    memset(res, 0, sizeof *res);
    res->test_error = -1;
    if (ds->c != mc->in_c || ds->h != mc->in_h || ds->w != mc->in_w)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: images are %dx%dx%d, the model takes %dx%dx%d", ds->name, ds->c,
                        ds->h, ds->w, mc->in_c, mc->in_h, mc->in_w);
    if (ds->num_classes > mc->num_classes || !ds->labels)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %d classes, the model has %d outputs", ds->name,
                        ds->num_classes, mc->num_classes);
    if (cfg->batch > rcl_model_batch_cap(m) || cfg->epochs < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "train: batch %d (model built for %d), %d epochs", cfg->batch,
                        rcl_model_batch_cap(m), cfg->epochs);
    rcl_loader_options lo = rcl_loader_defaults();
    lo.batch = cfg->batch;
    lo.augment = cfg->augment;
    lo.pad = cfg->pad;
    lo.seed = cfg->seed;
    memcpy(lo.mean, cfg->mean, sizeof lo.mean);
    memcpy(lo.std, cfg->std, sizeof lo.std);
    rcl_loader *l;
    RCL_TRY(rcl_loader_create(ds, indices, count, &lo, &l));
    step_buffers b;
    rcl_status s = step_alloc(m, cfg->batch, cfg->class_weights, &b);
    finite_check fc = {0};
    if (s == RCL_OK)
        s = finite_check_make(m, &fc);
    long per_epoch = rcl_loader_batches(l), total = per_epoch * cfg->epochs;
    rcl_train_state st = cfg->start;
    rcl_progress prog;
    rcl_progress_begin(&prog, cfg->label ? cfg->label : "train", total, (double)rcl_loader_size(l) / per_epoch);
    double t0 = rcl_now(), last_ckpt = t0;
    long images = 0, steps_at_start = st.step;
    for (; s == RCL_OK && st.epoch < cfg->epochs; st.epoch++, st.batch = 0) {
        double loss_sum = 0;
        long seen = 0, correct_sum = 0;
        if ((s = rcl_loader_start(l, st.epoch, st.batch)) != RCL_OK)
            break;
        for (;;) {
            if (cfg->stop && *cfg->stop) {
                s = rcl_fail(RCL_ERR_INTERRUPTED, "interrupted at epoch %d, batch %d", st.epoch + 1, st.batch);
                break;
            }
            const float *x;
            const int32_t *y, *idx;
            int n;
            if ((s = rcl_loader_next(l, &x, &y, &idx, &n)) != RCL_OK || n == 0)
                break;
            rcl_tensor xv = batch_view(&b.x, n), pv = batch_view(&b.probs, n), gv = batch_view(&b.dlogits, n);
            const rcl_tensor *logits;
            const rcl_tensor *cw = cfg->class_weights ? &b.class_w : NULL;
            double lr = rcl_cosine_lr(cfg->lr, cfg->lr_min, st.step + 1, total);
            cl_int e = clEnqueueWriteBuffer(rcl_device_queue(d), xv.buf, CL_FALSE, 0, xv.n * sizeof(float), x, 0,
                                            NULL, NULL);
            if (e == CL_SUCCESS)
                e = clEnqueueWriteBuffer(rcl_device_queue(d), b.labels, CL_FALSE, 0, (size_t)n * sizeof(cl_int), y,
                                         0, NULL, NULL);
            if (e != CL_SUCCESS) {
                s = rcl_fail(RCL_ERR_OPENCL, "uploading a batch failed: %s", rcl_cl_error_name(e));
                break;
            }
            float loss = 0;
            cl_int correct = 0;
            const rcl_step_hooks *hk = cfg->hooks;
            if (hk && hk->input && (s = hk->input(hk->ctx, m, &xv, b.labels, idx, n)) != RCL_OK)
                break;
            if ((s = rcl_model_forward(m, &xv, 1, &logits)) != RCL_OK ||
                (s = rcl_count_correct(d, logits, b.labels, b.correct)) != RCL_OK)
                break;
            if (hk && hk->loss)
                s = hk->loss(hk->ctx, d, logits, b.labels, idx, n, &b.loss, &gv);
            else if ((s = rcl_softmax_xent_forward(d, logits, b.labels, cw, NULL, &pv, &b.loss)) == RCL_OK)
                s = rcl_softmax_xent_backward(d, &pv, b.labels, cw, NULL, &gv);
            if (s != RCL_OK || (s = rcl_model_backward(m, &gv, NULL)) != RCL_OK ||
                (s = rcl_model_step(m, (float)lr, (float)cfg->momentum, (float)cfg->wd, cfg->nesterov)) != RCL_OK ||
                (s = read_scalars(d, &b, &loss, &correct)) != RCL_OK)
                break;
            if (!isfinite(loss)) {
                s = rcl_fail(RCL_ERR_NUMERIC, "the loss is %g at step %ld (epoch %d, batch %d): stopping; the last "
                             "checkpoint is kept (try a lower --lr)", loss, st.step + 1, st.epoch + 1, st.batch + 1);
                break;
            }
            if ((s = finite_check_run(d, &fc, &st)) != RCL_OK)
                break;
            st.step++;
            st.batch++;
            images += n;
            seen += n;
            loss_sum += (double)loss * n;
            correct_sum += correct;
            char extra[96];
            snprintf(extra, sizeof extra, "epoch %d/%d loss %.4f acc %.1f%%", st.epoch + 1, cfg->epochs,
                     loss_sum / seen, 100.0 * correct_sum / seen);
            rcl_progress_update(&prog, st.step, extra);
            int due = (cfg->checkpoint_every_steps > 0 && st.step % cfg->checkpoint_every_steps == 0) ||
                      (cfg->checkpoint_every_minutes > 0 && rcl_now() - last_ckpt >= 60 * cfg->checkpoint_every_minutes);
            if (due && cfg->checkpoint) {
                if ((s = cfg->checkpoint(cfg->checkpoint_ctx, m, &st, 0)) != RCL_OK)
                    break;
                last_ckpt = rcl_now();
            }
        }
        if (s != RCL_OK)
            break;
        res->train_loss = seen ? loss_sum / seen : 0;
        res->train_error = seen ? 1.0 - (double)correct_sum / seen : 0;
        if (cfg->test)
            s = rcl_evaluate(m, cfg->test, NULL, 0, cfg->mean, cfg->std, NULL, &res->test_error);
        if (s == RCL_OK && cfg->log) {
            fprintf(cfg->log,
                    "{\"epoch\": %d, \"step\": %ld, \"lr\": %.9g, \"train_loss\": %.6f, \"train_error\": %.6f, "
                    "\"test_error\": %.6f, \"seconds\": %.3f}\n",
                    st.epoch + 1, st.step, rcl_cosine_lr(cfg->lr, cfg->lr_min, st.step, total), res->train_loss,
                    res->train_error, res->test_error, rcl_now() - t0);
            fflush(cfg->log);
        }
    }
    if (s == RCL_ERR_INTERRUPTED && cfg->checkpoint) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", rcl_last_error());
        rcl_status cs = cfg->checkpoint(cfg->checkpoint_ctx, m, &st, 0);
        if (cs != RCL_OK)
            s = cs;
        else
            rcl_fail(s, "%s", msg);
    } else if (s == RCL_OK && cfg->checkpoint) {
        s = cfg->checkpoint(cfg->checkpoint_ctx, m, &st, 1);
    }
    res->seconds = rcl_now() - t0;
    res->steps = st.step - steps_at_start;
    res->images_per_s = res->seconds > 0 ? images / res->seconds : 0;
    char extra[96];
    snprintf(extra, sizeof extra, "loss %.4f train err %.2f%%", res->train_loss, 100 * res->train_error);
    rcl_progress_end(&prog, extra);
    finite_check_free(&fc);
    step_release(d, &b, cfg->batch);
    rcl_loader_free(l);
    return s;
}
