/* AutoAttack's device state of a batch and the evaluation of one point, which every attack
 * of the ensemble (apgd.c, fab.c, square.c) runs through. */
#include <string.h>

#include "eval/autoattack_internal.h"

rcl_status rcl_aa_work_create(const rcl_classifier *f, rcl_aa_work *w) {
    memset(w, 0, sizeof *w);
    w->f = *f;
    w->cap = f->batch_cap;
    rcl_device *d = f->dev;
    int cap = w->cap;
    rcl_status s = RCL_OK;
    rcl_tensor *imgs[] = {&w->x_net,     &w->pix,  &w->adv,   &w->old,   &w->best, &w->grad,
                          &w->grad_best, &w->net,  &w->fab_room, &w->fab_s, &w->fab_sb};
    for (size_t i = 0; i < sizeof imgs / sizeof imgs[0] && s == RCL_OK; i++)
        s = rcl_tensor_create(d, imgs[i], "autoattack images", 4, cap, f->in_c, f->in_h, f->in_w);
    if (s == RCL_OK)
        s = rcl_ibuf_create(d, &w->fab_order, "fab projection order", (size_t)cap * f->in_c * f->in_h * f->in_w);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &w->dlogits, "autoattack logit gradient", 2, cap, f->num_classes);
    rcl_tensor *rows[] = {&w->loss,      &w->maxdiff,   &w->l2dist,         &w->loss_best,
                          &w->loss_prev, &w->loss_best_last, &w->step};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0] && s == RCL_OK; i++)
        s = rcl_tensor_create(d, rows[i], "autoattack per-image values", 1, cap);
    rcl_ibuf *flags[] = {&w->labels, &w->index, &w->target, &w->correct,
                         &w->count,  &w->reduced, &w->fooled, &w->flag};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0] && s == RCL_OK; i++)
        s = rcl_ibuf_create(d, flags[i], "autoattack per-image flags", (size_t)cap);
    if (s != RCL_OK)
        rcl_aa_work_free(w);
    return s;
}

void rcl_aa_work_free(rcl_aa_work *w) {
    rcl_tensor *ts[] = {&w->x_net,   &w->pix,       &w->adv,       &w->old,       &w->best,
                        &w->grad,    &w->grad_best, &w->net,       &w->fab_room,  &w->fab_s,
                        &w->fab_sb,  &w->dlogits,   &w->loss,      &w->maxdiff,   &w->l2dist,
                        &w->loss_best, &w->loss_prev, &w->loss_best_last, &w->step};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        rcl_tensor_release(ts[i]);
    rcl_ibuf *fs[] = {&w->labels,  &w->index,  &w->target, &w->correct,
                      &w->count,   &w->reduced, &w->fooled, &w->flag, &w->fab_order};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        rcl_ibuf_release(fs[i]);
}

rcl_status rcl_aa_evaluate_point(rcl_aa_work *w, int n, const rcl_tensor *point, rcl_aa_loss loss, int grad) {
    rcl_device *d = w->f.dev;
    rcl_tensor x = rcl_attack_rows(&w->x_net, n), pix = rcl_attack_rows(&w->pix, n);
    rcl_tensor net = rcl_attack_rows(&w->net, n), dl = rcl_attack_rows(&w->dlogits, n);
    rcl_tensor rl = rcl_attack_rows(&w->loss, n), g = rcl_attack_rows(&w->grad, n);
    RCL_TRY(rcl_attack_to_network(d, &x, &pix, point, w->norm.std, &net));
    RCL_TRY(w->f.forward(w->f.ctx, &net, 0, &w->logits));
    if (loss == RCL_AA_LOSS_FAB_TARGETED)
        RCL_TRY(rcl_fab_diff(d, w->logits, w->labels.buf, w->target.buf, &dl, &rl, w->correct.buf));
    else if (loss == RCL_AA_LOSS_CE || loss == RCL_AA_LOSS_MARGIN)
        RCL_TRY(rcl_attack_loss_grad(d, loss == RCL_AA_LOSS_CE ? RCL_ATTACK_LOSS_CE : RCL_ATTACK_LOSS_MARGIN, w->logits,
                                     w->labels.buf, &dl, &rl, w->correct.buf));
    else
        RCL_TRY(rcl_apgd_dlr(d, w->logits, w->labels.buf, loss == RCL_AA_LOSS_DLR_TARGETED ? w->target.buf : NULL,
                             &dl, &rl, w->correct.buf));
    return grad ? w->f.backward(w->f.ctx, &dl, &g) : RCL_OK;
}
