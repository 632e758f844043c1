/* The attack engine: PGD / FGSM with restarts on a batch of one classifier. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/attack_internal.h"

struct rcl_attack {
    rcl_classifier f;
    rcl_attack_config cfg;
    int train, cap;
    rcl_tensor pix, centre, adv, net, grad, best, dlogits, row_loss, best_loss, maxdiff;
    rcl_ibuf index, row_correct, best_correct, zero;
};

void rcl_attack_free(rcl_attack *a) {
    if (!a)
        return;
    rcl_tensor *ts[] = {&a->pix,  &a->centre,  &a->adv,      &a->net,       &a->grad,
                        &a->best, &a->dlogits, &a->row_loss, &a->best_loss, &a->maxdiff};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        rcl_tensor_release(ts[i]);
    rcl_ibuf *ms[] = {&a->index, &a->row_correct, &a->best_correct, &a->zero};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        rcl_ibuf_release(ms[i]);
    free(a);
}

static rcl_status check_config(const rcl_attack_config *c) {
    if (c->kind != RCL_ATTACK_PGD && c->kind != RCL_ATTACK_FGSM)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack config: unknown kind %d", (int)c->kind);
    if (!(c->eps >= 0 && c->eps <= 1) || !(c->step >= 0 && c->step <= 1))
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack config: eps %g and step %g must lie in [0,1]", c->eps, c->step);
    if (c->steps < 1 || c->restarts < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack config: steps %d and restarts %d must be >= 1", c->steps,
                        c->restarts);
    for (int i = 0; i < 3; i++)
        if (!(c->norm.std[i] > 0) || !isfinite(c->norm.mean[i]))
            return rcl_fail(RCL_ERR_INVALID_ARG, "attack config: normalisation std[%d] = %g must be positive", i,
                            (double)c->norm.std[i]);
    return RCL_OK;
}

rcl_status rcl_attack_create(const rcl_classifier *f, const rcl_attack_config *cfg, rcl_attack **out) {
    *out = NULL;
    RCL_TRY(check_config(cfg));
    if (f->batch_cap < 1 || f->num_classes < 2 || f->in_c < 1 || f->in_c > 3)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack: classifier with batch %d, %d classes, %d channels (1..3)",
                        f->batch_cap, f->num_classes, f->in_c);
    rcl_attack *a = calloc(1, sizeof *a);
    if (!a)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory creating an attack");
    a->f = *f;
    a->cfg = *cfg;
    if (cfg->kind == RCL_ATTACK_FGSM) { /* one step of eps from the clean x */
        a->cfg.step = cfg->eps;
        a->cfg.steps = 1;
        a->cfg.restarts = 1;
        a->cfg.random_start = 0;
    }
    a->train = cfg->bn_train == 1;
    a->cap = f->batch_cap;
    rcl_device *d = f->dev;
    int cap = a->cap, k = f->num_classes;
    rcl_status s = RCL_OK;
    rcl_tensor *imgs[] = {&a->pix, &a->centre, &a->adv, &a->net, &a->grad, &a->best};
    for (size_t i = 0; i < sizeof imgs / sizeof imgs[0] && s == RCL_OK; i++)
        s = rcl_tensor_create(d, imgs[i], "attack images", 4, cap, f->in_c, f->in_h, f->in_w);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &a->dlogits, "attack logit gradient", 2, cap, k);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &a->row_loss, "attack losses", 1, cap);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &a->best_loss, "attack losses", 1, cap);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &a->maxdiff, "attack perturbation sizes", 1, cap);
    rcl_ibuf *ms[] = {&a->index, &a->row_correct, &a->best_correct, &a->zero};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0] && s == RCL_OK; i++)
        s = rcl_ibuf_create(d, ms[i], "attack per-image flags", (size_t)cap);
    if (s != RCL_OK) {
        rcl_attack_free(a);
        return s;
    }
    *out = a;
    return RCL_OK;
}

/* The network input for pixel image adv, its logits and loss gradient, and (grad not
 * NULL) the input gradient. */
static rcl_status evaluate_point(rcl_attack *a, const rcl_tensor *x, const rcl_tensor *pix, const rcl_tensor *adv,
                                 cl_mem labels, int n, rcl_tensor *grad) {
    rcl_device *d = a->f.dev;
    rcl_tensor net = rcl_attack_rows(&a->net, n), dl = rcl_attack_rows(&a->dlogits, n);
    rcl_tensor rl = rcl_attack_rows(&a->row_loss, n);
    const rcl_tensor *logits;
    RCL_TRY(rcl_attack_to_network(d, x, pix, adv, a->cfg.norm.std, &net));
    RCL_TRY(a->f.forward(a->f.ctx, &net, a->train, &logits));
    RCL_TRY(rcl_attack_loss_grad(d, a->cfg.loss, logits, labels, &dl, &rl, a->row_correct.buf));
    return grad ? a->f.backward(a->f.ctx, &dl, grad) : RCL_OK;
}

const rcl_attack_config *rcl_attack_config_of(const rcl_attack *a) { return &a->cfg; }

/* Checks the batch's shapes and uploads its dataset indices (they seed a random start). */
static rcl_status load_batch(rcl_attack *a, const rcl_tensor *x, const int32_t *index, int n,
                             const rcl_tensor *x_adv) {
    const rcl_classifier *f = &a->f;
    if (n < 1 || n > a->cap)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack: batch of %d images, built for 1..%d", n, a->cap);
    RCL_TRY(rcl_tensor_expect(x, "attack input", 4, n, f->in_c, f->in_h, f->in_w));
    RCL_TRY(rcl_tensor_expect(x_adv, "attack output", 4, n, f->in_c, f->in_h, f->in_w));
    if (!a->cfg.random_start)
        return RCL_OK;
    if (!index)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack: a random start needs the images' dataset indices");
    return rcl_ibuf_write(&a->index, index, (size_t)n);
}

/* *st of the result: its correct and zero-gradient counts and its largest L-inf distance from pix. */
static rcl_status read_stats(rcl_attack *a, const rcl_tensor *result, const rcl_tensor *pix, rcl_tensor *md, int n,
                             rcl_attack_stats *st) {
    rcl_device *d = a->f.dev;
    RCL_TRY(rcl_attack_row_stats(d, NULL, NULL, result, pix, md));
    int32_t *flags = malloc((size_t)n * 2 * sizeof *flags);
    float *diff = malloc((size_t)n * sizeof *diff);
    rcl_status s = flags && diff ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in an attack");
    if (s == RCL_OK)
        s = rcl_ibuf_read(&a->best_correct, flags, (size_t)n);
    if (s == RCL_OK)
        s = rcl_ibuf_read(&a->zero, flags + n, (size_t)n);
    if (s == RCL_OK)
        s = rcl_tensor_download(md, diff);
    if (s == RCL_OK) {
        memset(st, 0, sizeof *st);
        for (int i = 0; i < n; i++) {
            st->correct += flags[i] != 0;
            st->zero_grad += flags[n + i] != 0;
            if (diff[i] > st->max_linf)
                st->max_linf = diff[i];
        }
    }
    free(flags);
    free(diff);
    return s;
}

rcl_status rcl_attack_run(rcl_attack *a, const rcl_tensor *x, cl_mem labels, const int32_t *index, int n,
                          uint32_t counter, rcl_tensor *x_adv, rcl_attack_stats *st) {
    rcl_device *d = a->f.dev;
    const rcl_attack_config *c = &a->cfg;
    RCL_TRY(load_batch(a, x, index, n, x_adv));
    rcl_tensor pix = rcl_attack_rows(&a->pix, n), centre = rcl_attack_rows(&a->centre, n);
    rcl_tensor adv = rcl_attack_rows(&a->adv, n), grad = rcl_attack_rows(&a->grad, n);
    rcl_tensor best = rcl_attack_rows(&a->best, n), rl = rcl_attack_rows(&a->row_loss, n);
    rcl_tensor bl = rcl_attack_rows(&a->best_loss, n), md = rcl_attack_rows(&a->maxdiff, n);
    uint32_t seed32 = (uint32_t)(c->seed ^ (c->seed >> 32));
    float eps = (float)c->eps, step = (float)c->step;
    int score = st || c->restarts > 1; /* else the last iterate is the result, unscored */
    RCL_TRY(rcl_attack_to_pixels(d, x, c->norm.mean, c->norm.std, &pix));
    for (int r = 0; r < c->restarts; r++) {
        RCL_TRY(rcl_attack_start(d, &pix, a->index.buf, c->random_start, eps, c->mode, seed32,
                                 counter + (uint32_t)r, &adv, &centre));
        for (int i = 0; i < c->steps; i++) {
            RCL_TRY(evaluate_point(a, x, &pix, &adv, labels, n, &grad));
            if (st && r == 0 && i == 0)
                RCL_TRY(rcl_attack_row_stats(d, &grad, a->zero.buf, &adv, &pix, &md));
            RCL_TRY(rcl_attack_step(d, &grad, &centre, step, eps, &adv));
        }
        if (score) {
            RCL_TRY(evaluate_point(a, x, &pix, &adv, labels, n, NULL));
            RCL_TRY(rcl_attack_keep_worst(d, &adv, &rl, a->row_correct.buf, r == 0, &best, &bl, a->best_correct.buf));
        }
    }
    const rcl_tensor *result = score ? &best : &adv;
    if (st)
        RCL_TRY(read_stats(a, result, &pix, &md, n, st));
    return rcl_attack_to_network(d, x, &pix, result, c->norm.std, x_adv);
}
