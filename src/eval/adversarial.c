/* Adversarial evaluation: clean and attacked accuracy of a classifier over a dataset. */
#include <stdio.h>
#include <string.h>

#include "core/progress.h"
#include "eval/attack_internal.h"

/* One evaluation's device state: the attack, a batch and its labels, the clean correct count. */
typedef struct {
    const rcl_classifier *f;
    rcl_attack *a;
    rcl_tensor x;
    rcl_ibuf labels, correct;
} adv_eval;

/* Attacks a batch of n images and adds its counts to *res. */
static rcl_status eval_batch(adv_eval *e, const float *xs, const int32_t *ys, const int32_t *idx, int n,
                             rcl_adv_result *res) {
    const rcl_classifier *f = e->f;
    rcl_device *d = f->dev;
    rcl_tensor xv = rcl_attack_rows(&e->x, n);
    const rcl_tensor *logits;
    int32_t got = 0;
    rcl_attack_stats st;
    RCL_TRY(rcl_tensor_upload(&xv, xs));
    RCL_TRY(rcl_ibuf_write(&e->labels, ys, (size_t)n));
    RCL_TRY(f->forward(f->ctx, &xv, 0, &logits));
    RCL_TRY(rcl_count_correct(d, logits, e->labels.buf, e->correct.buf));
    RCL_TRY(rcl_ibuf_read(&e->correct, &got, 1));
    RCL_TRY(rcl_attack_run(e->a, &xv, e->labels.buf, idx, n, 0, &xv, &st));
    res->count += n;
    res->clean_correct += got;
    res->adv_correct += st.correct;
    res->zero_grad += st.zero_grad;
    if (st.max_linf > res->max_linf)
        res->max_linf = st.max_linf;
    return RCL_OK;
}

static void adv_eval_release(adv_eval *e) {
    rcl_ibuf_release(&e->labels);
    rcl_ibuf_release(&e->correct);
    rcl_tensor_release(&e->x);
    rcl_attack_free(e->a);
}

rcl_status rcl_adv_evaluate_classifier(const rcl_classifier *f, const rcl_dataset *ds, const int *indices, int count,
                                       const rcl_attack_config *cfg, rcl_adv_result *res) {
    memset(res, 0, sizeof *res);
    res->cfg = *cfg;
    if (ds->c != f->in_c || ds->h != f->in_h || ds->w != f->in_w)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: images are %dx%dx%d, the model takes %dx%dx%d", ds->name, ds->c,
                        ds->h, ds->w, f->in_c, f->in_h, f->in_w);
    if (!ds->labels || ds->num_classes < 1 || ds->num_classes > f->num_classes)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: an attack needs labels in [0,%d) (the dataset has %d classes)",
                        ds->name, f->num_classes, ds->num_classes);
    if (!indices)
        count = ds->n;
    rcl_device *d = f->dev;
    int cap = f->batch_cap;
    rcl_loader_options lo = rcl_loader_defaults();
    lo.batch = cap;
    lo.shuffle = 0;
    lo.augment = 0;
    lo.norm = cfg->norm;
    rcl_loader *l = NULL;
    adv_eval e = {f, NULL, {0}, {0}, {0}};
    rcl_status s = rcl_loader_create(ds, indices, count, &lo, &l);
    if (s == RCL_OK)
        s = rcl_attack_create(f, cfg, &e.a);
    if (s == RCL_OK)
        res->cfg = *rcl_attack_config_of(e.a); /* what runs (FGSM: one step of eps, no start) */
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &e.x, "attack batch", 4, cap, f->in_c, f->in_h, f->in_w);
    if (s == RCL_OK)
        s = rcl_ibuf_create(d, &e.labels, "attack labels", (size_t)cap);
    if (s == RCL_OK)
        s = rcl_ibuf_create(d, &e.correct, "attack correct count", 1);
    if (s == RCL_OK)
        s = rcl_loader_start(l, 0, 0);
    char what[256];
    rcl_progress prog;
    rcl_progress_begin(&prog, rcl_attack_describe(cfg, what, sizeof what), l ? rcl_loader_batches(l) : 0, cap);
    double t0 = rcl_now();
    long batches = 0;
    while (s == RCL_OK) {
        const float *xs;
        const int32_t *ys, *idx;
        int n;
        if ((s = rcl_loader_next(l, &xs, &ys, &idx, &n)) != RCL_OK || n == 0 ||
            (s = eval_batch(&e, xs, ys, idx, n, res)) != RCL_OK)
            break;
        char extra[96];
        snprintf(extra, sizeof extra, "clean %.1f%% adversarial %.1f%%", 100.0 * res->clean_correct / res->count,
                 100.0 * res->adv_correct / res->count);
        rcl_progress_update(&prog, ++batches, extra);
    }
    rcl_progress_end(&prog, "");
    res->seconds = rcl_now() - t0;
    if (res->count) {
        res->clean_accuracy = (double)res->clean_correct / res->count;
        res->adv_accuracy = (double)res->adv_correct / res->count;
    }
    adv_eval_release(&e);
    rcl_loader_free(l);
    return s;
}

rcl_status rcl_adv_evaluate(rcl_model *m, const rcl_dataset *ds, const int *indices, int count,
                            const rcl_attack_config *cfg, rcl_adv_result *res) {
    rcl_classifier f = rcl_model_classifier(m);
    return rcl_adv_evaluate_classifier(&f, ds, indices, count, cfg, res);
}
