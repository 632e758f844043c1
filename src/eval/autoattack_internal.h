/* Shared by AutoAttack's runner (autoattack.c) and its attacks (apgd.c, fab.c, square.c):
 * the device state of one batch of still-robust images. */
#ifndef RCL_EVAL_AUTOATTACK_INTERNAL_H
#define RCL_EVAL_AUTOATTACK_INTERNAL_H

#include "eval/attack_internal.h"
#include "robustcl/autoattack.h"

typedef struct rcl_aa_work {
    rcl_classifier f;
    int cap;
    /* images [cap, c, h, w]: the batch (network space), its pixels, the attack's points and
     * gradients, and the network input of the point being evaluated */
    rcl_tensor x_net, pix, adv, old, best, grad, grad_best, net;
    rcl_tensor dlogits, loss, maxdiff, l2dist;        /* [cap, k], [cap], [cap], [cap] */
    rcl_tensor loss_best, loss_prev, loss_best_last, step; /* APGD's per-row state */
    rcl_ibuf labels, index, target, correct, count, reduced, fooled, flag;
    rcl_tensor fab_room, fab_s, fab_sb; /* FAB's projection scratch (with old and grad_best) */
    rcl_ibuf fab_order;                 /* [cap * c * h * w] */
    const rcl_tensor *logits; /* the last evaluation's (the classifier owns them) */
    rcl_normalization norm;
    float eps;
    int l2; /* the L2 ball (else L-inf) */
    uint32_t seed;
} rcl_aa_work;

rcl_status rcl_aa_work_create(const rcl_classifier *f, rcl_aa_work *w);
void rcl_aa_work_free(rcl_aa_work *w);

/* The loss an evaluation computes: APGD's CE or DLR (targeted with w->target), Square's margin,
 * FAB-T's z_t - z_y (w->target). */
typedef enum {
    RCL_AA_LOSS_CE,
    RCL_AA_LOSS_DLR,
    RCL_AA_LOSS_DLR_TARGETED,
    RCL_AA_LOSS_MARGIN,
    RCL_AA_LOSS_FAB_TARGETED
} rcl_aa_loss;

/* The first n rows' logits of pixel image point (w->loss, w->correct), and with grad the
 * input gradient of the loss into w->grad. */
rcl_status rcl_aa_evaluate_point(rcl_aa_work *w, int n, const rcl_tensor *point, rcl_aa_loss loss, int grad);

/* One APGD run on the first n rows of w (x_net, pix, labels, index loaded; w->target set for
 * the targeted loss); fooled[r] (host) receives 1 for the rows misclassified at any point.
 * counter keys the random start. */
rcl_status rcl_aa_apgd(rcl_aa_work *w, int n, rcl_aa_loss loss, int iters, uint32_t counter, int32_t *fooled);

/* One FAB-T run on the first n rows towards w->target (restart > 0: from a random start);
 * fooled[r] receives 1 where the smallest adversarial point found is within eps, which
 * w->best then holds (the original image elsewhere). */
rcl_status rcl_aa_fab(rcl_aa_work *w, int n, int iters, uint32_t counter, int restart, int32_t *fooled);

/* The Square Attack on the first n rows; first_index keys the square positions. */
rcl_status rcl_aa_square(rcl_aa_work *w, int n, int queries, uint32_t counter, int32_t first_index,
                         int32_t *fooled);

#endif
