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
    rcl_ibuf labels, correct;
} step_buffers;

static void step_release(step_buffers *b) {
    rcl_tensor_release(&b->x);
    rcl_tensor_release(&b->probs);
    rcl_tensor_release(&b->dlogits);
    rcl_tensor_release(&b->loss);
    rcl_tensor_release(&b->class_w);
    rcl_ibuf_release(&b->labels);
    rcl_ibuf_release(&b->correct);
}

static rcl_status step_alloc(rcl_model *m, int batch, const float *class_w, step_buffers *b) {
    const rcl_wrn_config *c = rcl_model_config(m);
    rcl_device *d = rcl_model_device(m);
    memset(b, 0, sizeof *b);
    RCL_TRY(rcl_tensor_create(d, &b->x, "input batch", 4, batch, c->in_c, c->in_h, c->in_w));
    RCL_TRY(rcl_tensor_create(d, &b->probs, "probabilities", 2, batch, c->num_classes));
    RCL_TRY(rcl_tensor_create(d, &b->dlogits, "logit gradient", 2, batch, c->num_classes));
    RCL_TRY(rcl_tensor_create(d, &b->loss, "loss", 1, 1));
    RCL_TRY(rcl_ibuf_create(d, &b->labels, "labels", (size_t)batch));
    RCL_TRY(rcl_ibuf_create(d, &b->correct, "correct count", 1));
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
        int32_t got = 0;
        if ((s = rcl_tensor_upload(&xv, x)) != RCL_OK ||
            (s = rcl_model_forward(m, &xv, 0, &out)) != RCL_OK)
            break;
        int has_labels = y[0] >= 0;
        if (has_labels) {
            if ((s = rcl_ibuf_write(&b.labels, y, (size_t)n)) != RCL_OK ||
                (s = rcl_count_correct(d, out, b.labels.buf, b.correct.buf)) != RCL_OK ||
                (s = rcl_ibuf_read(&b.correct, &got, 1)) != RCL_OK)
                break;
            correct += got;
            labelled += n;
        }
        if (logits && (s = rcl_tensor_download(out, logits + (size_t)pos * c->num_classes)) != RCL_OK)
            break;
        pos += n;
    }
    step_release(&b);
    rcl_loader_free(l);
    if (s == RCL_OK && error)
        *error = labelled ? 1.0 - (double)correct / (double)labelled : -1.0;
    return s;
}

/* The correct count queued, then the loss, whose blocking read waits for both. */
static rcl_status read_scalars(step_buffers *b, float *loss, cl_int *correct) {
    RCL_TRY(rcl_ibuf_read_async(&b->correct, correct, 1));
    return rcl_tensor_download(&b->loss, loss);
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
    float *h = gs->host, w = (float)n / (float)n_global;
    for (int i = 0, off = 0; i < gs->np; off += (int)gs->p[i]->grad.n, i++)
        RCL_TRY(rcl_tensor_download_async(&gs->p[i]->grad, h + off));
    RCL_TRY(rcl_device_finish(d));
    for (size_t i = 0; i < gs->n; i++)
        h[i] *= w;
    h[gs->n] = *loss * w;
    h[gs->n + 1] = (float)*correct;
    h[gs->n + 2] = (float)*stop;
    RCL_TRY(rcl_dist_sum(h, gs->n + 3));
    for (int i = 0, off = 0; i < gs->np; off += (int)gs->p[i]->grad.n, i++)
        RCL_TRY(rcl_tensor_upload_async(&gs->p[i]->grad, h + off));
    RCL_TRY(rcl_device_finish(d));
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

/* One training run: its loader, step buffers, checks, progress and where it stands. */
typedef struct {
    rcl_model *m;
    rcl_device *d;
    const rcl_train_config *cfg;
    int rank, ranks;
    long global_batch, total, images, steps_at_start;
    rcl_loader *l;
    step_buffers b;
    finite_check fc;
    grad_sync gs;
    rcl_train_state st;
    rcl_progress prog;
    double t0, last_ckpt;
} train_run;

/* Running sums of one epoch's steps. */
typedef struct {
    double loss_sum;
    long seen, correct_sum;
} epoch_sums;

static rcl_status train_check(rcl_model *m, const rcl_dataset *ds, const int *indices, int count,
                              const rcl_train_config *cfg) {
    const rcl_wrn_config *mc = rcl_model_config(m);
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
    int ranks = rcl_dist_size();
    long global_batch = (long)cfg->batch * ranks, tail = (indices ? count : ds->n) % global_batch;
    if (ranks > 1 && tail > 0 && tail < ranks)
        return rcl_fail(RCL_ERR_INVALID_ARG, "train: the last batch of each epoch has %ld images, fewer than the %d "
                        "ranks: choose another --batch", tail, ranks);
    return RCL_OK;
}

/* The run's shape and its loader (nothing else is held when this fails). */
static rcl_status train_open(train_run *r, rcl_model *m, const rcl_dataset *ds, const int *indices, int count,
                             const rcl_train_config *cfg) {
    memset(r, 0, sizeof *r);
    r->m = m;
    r->d = rcl_model_device(m);
    r->cfg = cfg;
    r->rank = rcl_dist_rank();
    r->ranks = rcl_dist_size();
    r->global_batch = (long)cfg->batch * r->ranks;
    rcl_loader_options lo = rcl_loader_defaults();
    lo.batch = (int)r->global_batch;
    lo.shard = r->rank;
    lo.shards = r->ranks;
    lo.augment = cfg->augment;
    lo.pad = cfg->pad;
    lo.seed = cfg->seed;
    lo.norm = cfg->norm;
    return rcl_loader_create(ds, indices, count, &lo, &r->l);
}

/* The step buffers, the finiteness check and (several ranks) the gradient sum. */
static rcl_status train_alloc(train_run *r) {
    RCL_TRY(step_alloc(r->m, r->cfg->batch, r->cfg->class_weights, &r->b));
    RCL_TRY(finite_check_make(r->m, &r->fc));
    return r->ranks > 1 ? grad_sync_make(r->m, &r->gs) : RCL_OK;
}

/* Where the run starts (cfg->start: a resumed run), its progress line and its clock. */
static void train_begin(train_run *r) {
    long per_epoch = rcl_loader_batches(r->l);
    r->total = per_epoch * r->cfg->epochs;
    r->st = r->cfg->start;
    rcl_progress_begin(&r->prog, r->cfg->label ? r->cfg->label : "train", r->total,
                       (double)rcl_loader_size(r->l) / per_epoch);
    r->prog.quiet |= r->rank != 0;
    r->t0 = r->last_ckpt = rcl_now();
    r->steps_at_start = r->st.step;
}

/* One step on a batch of n images (n_global over all ranks): upload, the input hook, forward,
 * loss, backward, the ranks' gradient sum, the SGD step; *loss and *correct of the step. */
static rcl_status train_step(train_run *r, const float *x, const int32_t *y, const int32_t *idx, int n,
                             long n_global, int *stop_all, float *loss, cl_int *correct) {
    const rcl_train_config *cfg = r->cfg;
    rcl_device *d = r->d;
    rcl_model *m = r->m;
    step_buffers *b = &r->b;
    rcl_tensor xv = batch_view(&b->x, n), pv = batch_view(&b->probs, n), gv = batch_view(&b->dlogits, n);
    const rcl_tensor *logits;
    const rcl_tensor *cw = cfg->class_weights ? &b->class_w : NULL;
    double lr = rcl_cosine_lr(cfg->lr, cfg->lr_min, r->st.step + 1, r->total);
    RCL_TRY(rcl_tensor_upload_async(&xv, x));
    RCL_TRY(rcl_ibuf_write_async(&b->labels, y, (size_t)n));
    const rcl_step_hooks *hk = cfg->hooks;
    if (hk && hk->input)
        RCL_TRY(hk->input(hk->ctx, m, &xv, b->labels.buf, idx, n));
    RCL_TRY(rcl_model_forward(m, &xv, 1, &logits));
    RCL_TRY(rcl_count_correct(d, logits, b->labels.buf, b->correct.buf));
    if (hk && hk->loss) {
        RCL_TRY(hk->loss(hk->ctx, d, logits, b->labels.buf, idx, n, &b->loss, &gv));
    } else {
        RCL_TRY(rcl_softmax_xent_forward(d, logits, b->labels.buf, cw, NULL, &pv, &b->loss));
        RCL_TRY(rcl_softmax_xent_backward(d, &pv, b->labels.buf, cw, NULL, &gv));
    }
    RCL_TRY(rcl_model_backward(m, &gv, NULL));
    if (r->ranks > 1) {
        RCL_TRY(read_scalars(b, loss, correct));
        RCL_TRY(grad_sync_run(d, &r->gs, n, (int)n_global, loss, correct, stop_all));
    }
    RCL_TRY(rcl_model_step(m, (float)lr, (float)cfg->momentum, (float)cfg->wd, cfg->nesterov));
    if (r->ranks == 1)
        RCL_TRY(read_scalars(b, loss, correct));
    if (!isfinite(*loss))
        return rcl_fail(RCL_ERR_NUMERIC, "the loss is %g at step %ld (epoch %d, batch %d): stopping; the last "
                        "checkpoint is kept (try a lower --lr)", *loss, r->st.step + 1, r->st.epoch + 1,
                        r->st.batch + 1);
    return finite_check_run(d, &r->fc, &r->st);
}

/* A checkpoint when one is due by steps or minutes (rank 0 writes it). */
static rcl_status train_checkpoint_due(train_run *r) {
    const rcl_train_config *cfg = r->cfg;
    int due = (cfg->checkpoint_every_steps > 0 && r->st.step % cfg->checkpoint_every_steps == 0) ||
              (cfg->checkpoint_every_minutes > 0 && rcl_now() - r->last_ckpt >= 60 * cfg->checkpoint_every_minutes);
    if (!due || !cfg->checkpoint || r->rank != 0)
        return RCL_OK;
    RCL_TRY(cfg->checkpoint(cfg->checkpoint_ctx, r->m, &r->st, 0));
    r->last_ckpt = rcl_now();
    return RCL_OK;
}

/* The steps of the epoch the loader was started on, until it runs dry or the run is stopped. */
static rcl_status train_epoch_steps(train_run *r, epoch_sums *e) {
    const rcl_train_config *cfg = r->cfg;
    rcl_train_state *st = &r->st;
    for (;;) {
        if (cfg->stop && *cfg->stop && r->ranks == 1)
            return rcl_fail(RCL_ERR_INTERRUPTED, "interrupted at epoch %d, batch %d", st->epoch + 1, st->batch);
        const float *x;
        const int32_t *y, *idx;
        int n;
        rcl_status s = rcl_loader_next(r->l, &x, &y, &idx, &n);
        if (s != RCL_OK || n == 0)
            return s;
        rcl_dist_fault_point(st->step);
        long first = (long)st->batch * r->global_batch, n_global = rcl_loader_size(r->l) - first;
        if (n_global > r->global_batch)
            n_global = r->global_batch;
        int stop_all = r->ranks > 1 && cfg->stop && *cfg->stop;
        float loss = 0;
        cl_int correct = 0;
        RCL_TRY(train_step(r, x, y, idx, n, n_global, &stop_all, &loss, &correct));
        st->step++;
        st->batch++;
        r->images += n_global;
        e->seen += n_global;
        e->loss_sum += (double)loss * n_global;
        e->correct_sum += correct;
        char extra[96];
        snprintf(extra, sizeof extra, "epoch %d/%d loss %.4f acc %.1f%%", st->epoch + 1, cfg->epochs,
                 e->loss_sum / e->seen, 100.0 * e->correct_sum / e->seen);
        rcl_progress_update(&r->prog, st->step, extra);
        RCL_TRY(train_checkpoint_due(r));
        if (stop_all) /* every rank stops after the same step */
            return rcl_fail(RCL_ERR_INTERRUPTED, "interrupted at epoch %d, batch %d", st->epoch + 1, st->batch);
    }
}

/* The epoch's training figures, its test error and its line of the JSON log. */
static rcl_status train_epoch_end(train_run *r, const epoch_sums *e, rcl_train_result *res) {
    const rcl_train_config *cfg = r->cfg;
    rcl_status s = RCL_OK;
    res->train_loss = e->seen ? e->loss_sum / e->seen : 0;
    res->train_error = e->seen ? 1.0 - (double)e->correct_sum / e->seen : 0;
    if (cfg->test)
        s = r->ranks > 1 ? evaluate_dist(r->m, cfg, &res->test_error)
                         : rcl_evaluate(r->m, cfg->test, NULL, 0, &cfg->norm, NULL, &res->test_error);
    if (s == RCL_OK && cfg->log) {
        fprintf(cfg->log,
                "{\"epoch\": %d, \"step\": %ld, \"lr\": %.9g, \"train_loss\": %.6f, \"train_error\": %.6f, "
                "\"test_error\": %.6f, \"seconds\": %.3f}\n",
                r->st.epoch + 1, r->st.step, rcl_cosine_lr(cfg->lr, cfg->lr_min, r->st.step, r->total),
                res->train_loss, res->train_error, res->test_error, rcl_now() - r->t0);
        fflush(cfg->log);
    }
    return s;
}

static rcl_status train_epochs(train_run *r, rcl_train_result *res) {
    rcl_status s = RCL_OK;
    for (; s == RCL_OK && r->st.epoch < r->cfg->epochs; r->st.epoch++, r->st.batch = 0) {
        epoch_sums e = {0};
        if ((s = rcl_loader_start(r->l, r->st.epoch, r->st.batch)) != RCL_OK ||
            (s = train_epoch_steps(r, &e)) != RCL_OK)
            break;
        s = train_epoch_end(r, &e, res);
    }
    return s;
}

/* Rank 0's last checkpoint: where an interrupted run stopped (the interruption stays the
 * error unless saving fails), or the finished run's final state. */
static rcl_status train_final_checkpoint(train_run *r, rcl_status s) {
    const rcl_train_config *cfg = r->cfg;
    if (!cfg->checkpoint || r->rank != 0)
        return s;
    if (s == RCL_ERR_INTERRUPTED) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", rcl_last_error());
        rcl_status cs = cfg->checkpoint(cfg->checkpoint_ctx, r->m, &r->st, 0);
        if (cs != RCL_OK)
            s = cs;
        else
            rcl_fail(s, "%s", msg);
    } else if (s == RCL_OK) {
        s = cfg->checkpoint(cfg->checkpoint_ctx, r->m, &r->st, 1);
    }
    return s;
}

static void train_close(train_run *r, rcl_train_result *res) {
    res->seconds = rcl_now() - r->t0;
    res->steps = r->st.step - r->steps_at_start;
    res->images_per_s = res->seconds > 0 ? r->images / res->seconds : 0;
    char extra[96];
    snprintf(extra, sizeof extra, "loss %.4f train err %.2f%%", res->train_loss, 100 * res->train_error);
    rcl_progress_end(&r->prog, extra);
    finite_check_free(&r->fc);
    grad_sync_free(&r->gs);
    step_release(&r->b);
    rcl_loader_free(r->l);
}

rcl_status rcl_train(rcl_model *m, const rcl_dataset *ds, const int *indices, int count,
                     const rcl_train_config *cfg, rcl_train_result *res) {
    memset(res, 0, sizeof *res);
    res->test_error = -1;
    RCL_TRY(train_check(m, ds, indices, count, cfg));
    train_run r;
    RCL_TRY(train_open(&r, m, ds, indices, count, cfg));
    rcl_status s = train_alloc(&r);
    train_begin(&r);
    if (s == RCL_OK)
        s = train_epochs(&r, res);
    s = train_final_checkpoint(&r, s);
    train_close(&r, res);
    return s;
}
