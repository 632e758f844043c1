#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/dist.h"
#include "core/progress.h"
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
    c.norm = rcl_normalization_half();
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
                        const rcl_normalization *norm, float *logits, double *error) {
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
    lo.norm = *norm;
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

/* Data parallelism, one host-staged buffer per step: every trainable gradient weighted by this
 * rank's share of the global batch, then the step's loss, correct count and stop request,
 * summed over the ranks in one allreduce. One bucket after the backward, no overlap: on PoCL
 * device memory is host memory and a rank has no idle core to overlap with (README). */
typedef struct {
    rcl_param **p;
    int np;
    float *host;
    size_t n; /* gradient floats; host holds n + 3 */
} grad_sync;

static rcl_status grad_sync_make(rcl_model *m, grad_sync *gs) {
    int np = rcl_model_param_count(m);
    gs->p = malloc(sizeof *gs->p * (size_t)np);
    if (!gs->p)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    for (int i = 0; i < np; i++) {
        rcl_param *p = rcl_model_param(m, i);
        if (p->trainable && !p->frozen) {
            gs->p[gs->np++] = p;
            gs->n += p->grad.n;
        }
    }
    gs->host = malloc(sizeof *gs->host * (gs->n + 3));
    return gs->host ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for %zu gradients", gs->n);
}

static void grad_sync_free(grad_sync *gs) {
    free(gs->p);
    free(gs->host);
}

/* On return the gradients are the global-batch means and *loss, *correct global; *stop: any rank stops. */
static rcl_status grad_sync_run(rcl_device *d, grad_sync *gs, int n, int n_global, float *loss, cl_int *correct,
                                int *stop) {
    cl_command_queue q = rcl_device_queue(d);
    float *h = gs->host, w = (float)n / (float)n_global;
    cl_int e = CL_SUCCESS;
    for (int i = 0, off = 0; i < gs->np && e == CL_SUCCESS; off += (int)gs->p[i]->grad.n, i++)
        e = clEnqueueReadBuffer(q, gs->p[i]->grad.buf, CL_FALSE, 0, gs->p[i]->grad.n * sizeof *h, h + off, 0, NULL,
                                NULL);
    if (e == CL_SUCCESS)
        e = clFinish(q);
    if (e != CL_SUCCESS)
        return rcl_fail(RCL_ERR_OPENCL, "reading the gradients failed: %s", rcl_cl_error_name(e));
    for (size_t i = 0; i < gs->n; i++)
        h[i] *= w;
    h[gs->n] = *loss * w;
    h[gs->n + 1] = (float)*correct;
    h[gs->n + 2] = (float)*stop;
    RCL_TRY(rcl_dist_sum(h, gs->n + 3));
    for (int i = 0, off = 0; i < gs->np && e == CL_SUCCESS; off += (int)gs->p[i]->grad.n, i++)
        e = clEnqueueWriteBuffer(q, gs->p[i]->grad.buf, CL_FALSE, 0, gs->p[i]->grad.n * sizeof *h, h + off, 0, NULL,
                                 NULL);
    if (e == CL_SUCCESS)
        e = clFinish(q);
    if (e != CL_SUCCESS)
        return rcl_fail(RCL_ERR_OPENCL, "writing the gradients failed: %s", rcl_cl_error_name(e));
    *loss = h[gs->n];
    *correct = (cl_int)h[gs->n + 1];
    *stop = h[gs->n + 2] > 0;
    return RCL_OK;
}

/* The BN running statistics of rank 0 on every rank (what PyTorch DDP's broadcast_buffers
 * does), then each rank evaluates its slice of the test set. */
static rcl_status evaluate_dist(rcl_model *m, const rcl_train_config *cfg, double *error) {
    int np = rcl_model_param_count(m), rank = rcl_dist_rank(), ranks = rcl_dist_size();
    size_t n = 0;
    for (int i = 0; i < np; i++)
        if (!rcl_model_param(m, i)->trainable)
            n += rcl_model_param(m, i)->value.n;
    const rcl_dataset *t = cfg->test;
    int lo = (int)((long)rank * t->n / ranks), hi = (int)((long)(rank + 1) * t->n / ranks);
    float *h = malloc(sizeof *h * (n + 2));
    int *idx = malloc(sizeof *idx * (size_t)(hi - lo + 1));
    rcl_status s = h && idx ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    size_t off = 0;
    for (int i = 0; i < np && s == RCL_OK; i++) {
        rcl_param *p = rcl_model_param(m, i);
        if (!p->trainable && (s = rcl_tensor_download(&p->value, h + off)) == RCL_OK && rank)
            memset(h + off, 0, p->value.n * sizeof *h);
        off += p->trainable ? 0 : p->value.n;
    }
    if (s == RCL_OK)
        s = rcl_dist_sum(h, n);
    off = 0;
    for (int i = 0; i < np && s == RCL_OK; i++) {
        rcl_param *p = rcl_model_param(m, i);
        if (!p->trainable) {
            s = rcl_tensor_upload(&p->value, h + off);
            off += p->value.n;
        }
    }
    for (int i = lo; i < hi; i++)
        idx[i - lo] = i;
    double err = 0;
    if (s == RCL_OK && hi > lo)
        s = rcl_evaluate(m, t, idx, hi - lo, &cfg->norm, NULL, &err);
    if (s == RCL_OK) {
        h[0] = (float)((1.0 - err) * (hi - lo) + 0.5); /* correct, an integer */
        h[0] = (float)(long)h[0];
        h[1] = (float)(hi - lo);
        s = rcl_dist_sum(h, 2);
    }
    if (s == RCL_OK)
        *error = t->labels && h[1] > 0 ? 1.0 - h[0] / h[1] : -1.0;
    free(h);
    free(idx);
    return s;
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
    /* data parallelism: batch per rank; `batch` in the train state counts global batches */
    int rank = rcl_dist_rank(), ranks = rcl_dist_size();
    long global_batch = (long)cfg->batch * ranks, tail = (indices ? count : ds->n) % global_batch;
    if (ranks > 1 && tail > 0 && tail < ranks)
        return rcl_fail(RCL_ERR_INVALID_ARG, "train: the last batch of each epoch has %ld images, fewer than the %d "
                        "ranks: choose another --batch", tail, ranks);
    rcl_loader_options lo = rcl_loader_defaults();
    lo.batch = (int)global_batch;
    lo.shard = rank;
    lo.shards = ranks;
    lo.augment = cfg->augment;
    lo.pad = cfg->pad;
    lo.seed = cfg->seed;
    lo.norm = cfg->norm;
    rcl_loader *l;
    RCL_TRY(rcl_loader_create(ds, indices, count, &lo, &l));
    step_buffers b;
    rcl_status s = step_alloc(m, cfg->batch, cfg->class_weights, &b);
    finite_check fc = {0};
    grad_sync gs = {0};
    if (s == RCL_OK)
        s = finite_check_make(m, &fc);
    if (s == RCL_OK && ranks > 1)
        s = grad_sync_make(m, &gs);
    long per_epoch = rcl_loader_batches(l), total = per_epoch * cfg->epochs;
    rcl_train_state st = cfg->start;
    rcl_progress prog;
    rcl_progress_begin(&prog, cfg->label ? cfg->label : "train", total, (double)rcl_loader_size(l) / per_epoch);
    prog.quiet |= rank != 0;
    double t0 = rcl_now(), last_ckpt = t0;
    long images = 0, steps_at_start = st.step;
    for (; s == RCL_OK && st.epoch < cfg->epochs; st.epoch++, st.batch = 0) {
        double loss_sum = 0;
        long seen = 0, correct_sum = 0;
        if ((s = rcl_loader_start(l, st.epoch, st.batch)) != RCL_OK)
            break;
        for (;;) {
            if (cfg->stop && *cfg->stop && ranks == 1) {
                s = rcl_fail(RCL_ERR_INTERRUPTED, "interrupted at epoch %d, batch %d", st.epoch + 1, st.batch);
                break;
            }
            const float *x;
            const int32_t *y, *idx;
            int n;
            if ((s = rcl_loader_next(l, &x, &y, &idx, &n)) != RCL_OK || n == 0)
                break;
            rcl_dist_fault_point(st.step);
            long first = (long)st.batch * global_batch, n_global = rcl_loader_size(l) - first;
            if (n_global > global_batch)
                n_global = global_batch;
            int stop_all = ranks > 1 && cfg->stop && *cfg->stop;
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
            if (s != RCL_OK || (s = rcl_model_backward(m, &gv, NULL)) != RCL_OK)
                break;
            if (ranks > 1 && ((s = read_scalars(d, &b, &loss, &correct)) != RCL_OK ||
                              (s = grad_sync_run(d, &gs, n, (int)n_global, &loss, &correct, &stop_all)) != RCL_OK))
                break;
            if ((s = rcl_model_step(m, (float)lr, (float)cfg->momentum, (float)cfg->wd, cfg->nesterov)) != RCL_OK ||
                (ranks == 1 && (s = read_scalars(d, &b, &loss, &correct)) != RCL_OK))
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
            images += n_global;
            seen += n_global;
            loss_sum += (double)loss * n_global;
            correct_sum += correct;
            char extra[96];
            snprintf(extra, sizeof extra, "epoch %d/%d loss %.4f acc %.1f%%", st.epoch + 1, cfg->epochs,
                     loss_sum / seen, 100.0 * correct_sum / seen);
            rcl_progress_update(&prog, st.step, extra);
            int due = (cfg->checkpoint_every_steps > 0 && st.step % cfg->checkpoint_every_steps == 0) ||
                      (cfg->checkpoint_every_minutes > 0 && rcl_now() - last_ckpt >= 60 * cfg->checkpoint_every_minutes);
            if (due && cfg->checkpoint && rank == 0) {
                if ((s = cfg->checkpoint(cfg->checkpoint_ctx, m, &st, 0)) != RCL_OK)
                    break;
                last_ckpt = rcl_now();
            }
            if (stop_all) { /* every rank stops after the same step */
                s = rcl_fail(RCL_ERR_INTERRUPTED, "interrupted at epoch %d, batch %d", st.epoch + 1, st.batch);
                break;
            }
        }
        if (s != RCL_OK)
            break;
        res->train_loss = seen ? loss_sum / seen : 0;
        res->train_error = seen ? 1.0 - (double)correct_sum / seen : 0;
        if (cfg->test)
            s = ranks > 1 ? evaluate_dist(m, cfg, &res->test_error)
                          : rcl_evaluate(m, cfg->test, NULL, 0, &cfg->norm, NULL, &res->test_error);
        if (s == RCL_OK && cfg->log) {
            fprintf(cfg->log,
                    "{\"epoch\": %d, \"step\": %ld, \"lr\": %.9g, \"train_loss\": %.6f, \"train_error\": %.6f, "
                    "\"test_error\": %.6f, \"seconds\": %.3f}\n",
                    st.epoch + 1, st.step, rcl_cosine_lr(cfg->lr, cfg->lr_min, st.step, total), res->train_loss,
                    res->train_error, res->test_error, rcl_now() - t0);
            fflush(cfg->log);
        }
    }
    if (s == RCL_ERR_INTERRUPTED && cfg->checkpoint && rank == 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", rcl_last_error());
        rcl_status cs = cfg->checkpoint(cfg->checkpoint_ctx, m, &st, 0);
        if (cs != RCL_OK)
            s = cs;
        else
            rcl_fail(s, "%s", msg);
    } else if (s == RCL_OK && cfg->checkpoint && rank == 0) {
        s = cfg->checkpoint(cfg->checkpoint_ctx, m, &st, 1);
    }
    res->seconds = rcl_now() - t0;
    res->steps = st.step - steps_at_start;
    res->images_per_s = res->seconds > 0 ? images / res->seconds : 0;
    char extra[96];
    snprintf(extra, sizeof extra, "loss %.4f train err %.2f%%", res->train_loss, 100 * res->train_error);
    rcl_progress_end(&prog, extra);
    finite_check_free(&fc);
    grad_sync_free(&gs);
    step_release(d, &b, cfg->batch);
    rcl_loader_free(l);
    return s;
}
