/* Targeted FAB on a batch, L-inf or L2 (spec §7.4): Croce & Hein's fast adaptive boundary
 * attack as their autoattack code runs FAB-T. Each step linearises f = z_t - z_y at the current point,
 * projects the current and the original point onto its zero set inside the box, and moves to
 * a biased mix of the two (kernels/fab.cl); a point that crosses is kept when it is the closest
 * so far, and the search steps back towards the original. The host only counts steps and reads
 * the distances found. */
#include <stdlib.h>

#include "eval/autoattack_internal.h"

/* The reference's constants: the largest weight of the original point's projection, the
 * overshoot and the backward step. */
#define FAB_ALPHA_MAX 0.1f
#define FAB_ETA 1.05f
#define FAB_BETA 0.9f
#define FAB_NOT_FOUND 1e10f

/* fooled[r] = dist[r] <= eps (the reference's check of its result); *count of them. */
static rcl_status read_fooled(rcl_aa_work *w, int n, float *dist, int32_t *fooled, int *count) {
    RCL_TRY(rcl_tensor_download(&w->loss_best, dist)); /* the whole buffer: rows beyond n unused */
    *count = 0;
    for (int r = 0; r < n; r++)
        *count += (fooled[r] = dist[r] <= w->eps);
    return RCL_OK;
}

/* A run's start: the image itself, or (restart > 0) the reference's random start, half of
 * APGD's normalised one in the same norm. */
static rcl_status start(rcl_aa_work *w, int n, uint32_t counter, int restart) {
    rcl_tensor pix = rcl_attack_rows(&w->pix, n), adv = rcl_attack_rows(&w->adv, n);
    rcl_tensor best = rcl_attack_rows(&w->best, n), dist = rcl_attack_rows(&w->loss_best, n);
    RCL_TRY(rcl_tensor_copy(&pix, &best));
    RCL_TRY(rcl_tensor_fill(&dist, FAB_NOT_FOUND));
    if (restart)
        return rcl_apgd_start(w->f.dev, &pix, w->index.buf, 0.5f * w->eps, w->seed, counter, w->l2, &adv);
    return rcl_tensor_copy(&pix, &adv);
}

/* Rows not fooled keep the original image as their point (what max_linf and max_l2 measure). */
static rcl_status finish(rcl_aa_work *w, int n, const int32_t *fooled, int32_t *flag) {
    for (int r = 0; r < n; r++)
        flag[r] = !fooled[r];
    RCL_TRY(rcl_ibuf_write(&w->flag, flag, (size_t)n));
    rcl_tensor pix = rcl_attack_rows(&w->pix, n), best = rcl_attack_rows(&w->best, n);
    return rcl_attack_copy_rows(w->f.dev, &pix, w->flag.buf, &best);
}

rcl_status rcl_aa_fab(rcl_aa_work *w, int n, int iters, uint32_t counter, int restart, int32_t *fooled) {
    rcl_device *d = w->f.dev;
    rcl_tensor pix = rcl_attack_rows(&w->pix, n), adv = rcl_attack_rows(&w->adv, n);
    rcl_tensor best = rcl_attack_rows(&w->best, n), grad = rcl_attack_rows(&w->grad, n);
    rcl_tensor rl = rcl_attack_rows(&w->loss, n), dist = rcl_attack_rows(&w->loss_best, n);
    rcl_fab_scratch sc = {rcl_attack_rows(&w->old, n),   rcl_attack_rows(&w->grad_best, n),
                          rcl_attack_rows(&w->fab_room, n), rcl_attack_rows(&w->fab_s, n),
                          rcl_attack_rows(&w->fab_sb, n), w->fab_order.buf};
    float *host = malloc((size_t)w->cap * (sizeof(float) + sizeof(int32_t)));
    if (!host)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in FAB");
    int32_t *flag = (int32_t *)(host + w->cap);
    int done = 0;
    rcl_status s = start(w, n, counter, restart);
    /* once every row has a point within eps the outcome is settled: later steps only shrink it */
    for (int it = 0; it < iters && done < n && s == RCL_OK; it++) {
        s = rcl_aa_evaluate_point(w, n, &adv, RCL_AA_LOSS_FAB_TARGETED, 1);
        if (s == RCL_OK)
            s = rcl_fab_step(d, &pix, &grad, &rl, w->norm.std, FAB_ETA, FAB_ALPHA_MAX, w->l2, &sc, &adv);
        if (s == RCL_OK)
            s = rcl_aa_evaluate_point(w, n, &adv, RCL_AA_LOSS_FAB_TARGETED, 0);
        if (s == RCL_OK)
            s = rcl_fab_track(d, &pix, w->correct.buf, FAB_BETA, w->l2, &adv, &best, &dist);
        if (s == RCL_OK && it % 10 == 9)
            s = read_fooled(w, n, host, fooled, &done);
    }
    if (s == RCL_OK)
        s = read_fooled(w, n, host, fooled, &done);
    if (s == RCL_OK)
        s = finish(w, n, fooled, flag);
    free(host);
    return s;
}
