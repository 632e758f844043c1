/* APGD on a batch (spec §7.4): Croce & Hein's Algorithm 1 with the step-size schedule of
 * their autoattack code, L-inf or L2 (w->l2: the start, the step and its projection). Every
 * step runs on the device; the host only counts steps to the checkpoints and reads the fooled
 * flags. */
#include <string.h>

#include "eval/autoattack_internal.h"

/* Momentum weight and the oscillation threshold rho of the paper. */
#define APGD_MOMENTUM 0.75f
#define APGD_RHO 0.75f

static rcl_apgd_state state_rows(rcl_aa_work *w, int n) {
    rcl_apgd_state s = {rcl_attack_rows(&w->loss_best, n), rcl_attack_rows(&w->loss_prev, n),
                        rcl_attack_rows(&w->loss_best_last, n), rcl_attack_rows(&w->step, n), w->count.buf,
                        w->reduced.buf, w->fooled.buf, w->flag.buf};
    return s;
}

static int max_int(int a, int b) { return a > b ? a : b; }

/* How many rows are fooled; all of them ends the run early (a fooled row stays fooled, and the
 * others' steps do not depend on it). */
static rcl_status fooled_count(rcl_aa_work *w, int n, int32_t *fooled, int *count) {
    RCL_TRY(rcl_ibuf_read(&w->fooled, fooled, (size_t)n));
    *count = 0;
    for (int r = 0; r < n; r++)
        *count += fooled[r] != 0;
    return RCL_OK;
}

rcl_status rcl_aa_apgd(rcl_aa_work *w, int n, rcl_aa_loss loss, int iters, uint32_t counter, int32_t *fooled) {
    rcl_device *d = w->f.dev;
    rcl_tensor pix = rcl_attack_rows(&w->pix, n), adv = rcl_attack_rows(&w->adv, n);
    rcl_tensor old = rcl_attack_rows(&w->old, n), best = rcl_attack_rows(&w->best, n);
    rcl_tensor grad = rcl_attack_rows(&w->grad, n), grad_best = rcl_attack_rows(&w->grad_best, n);
    rcl_tensor rl = rcl_attack_rows(&w->loss, n);
    rcl_apgd_state st = state_rows(w, n);
    RCL_TRY(rcl_apgd_start(d, &pix, w->index.buf, w->eps, w->seed, counter, w->l2, &adv));
    RCL_TRY(rcl_aa_evaluate_point(w, n, &adv, loss, 1));
    RCL_TRY(rcl_apgd_track(d, &rl, w->correct.buf, w->eps, 1, &st));
    RCL_TRY(rcl_attack_copy_rows(d, &adv, w->flag.buf, &best)); /* the first track flags every row */
    RCL_TRY(rcl_attack_copy_rows(d, &grad, w->flag.buf, &grad_best));
    RCL_TRY(rcl_attack_copy_rows(d, &adv, w->flag.buf, &old));
    int window = max_int((int)(0.22 * iters), 1), min_window = max_int((int)(0.06 * iters), 1);
    int decrease = max_int((int)(0.03 * iters), 1), since = 0, done = 0;
    for (int i = 0; i < iters && done < n; i++) {
        RCL_TRY((w->l2 ? rcl_apgd_step_l2 : rcl_apgd_step)(d, &pix, &grad, &st.step, w->eps, i ? APGD_MOMENTUM : 1.0f,
                                                            &old, &adv));
        RCL_TRY(rcl_aa_evaluate_point(w, n, &adv, loss, 1));
        RCL_TRY(rcl_apgd_track(d, &rl, w->correct.buf, w->eps, 0, &st));
        RCL_TRY(rcl_attack_copy_rows(d, &adv, w->flag.buf, &best));
        RCL_TRY(rcl_attack_copy_rows(d, &grad, w->flag.buf, &grad_best));
        if (++since == window) {
            RCL_TRY(rcl_apgd_checkpoint(d, window, APGD_RHO, &st));
            RCL_TRY(rcl_attack_copy_rows(d, &best, w->flag.buf, &adv));
            RCL_TRY(rcl_attack_copy_rows(d, &grad_best, w->flag.buf, &grad));
            window = max_int(window - decrease, min_window);
            since = 0;
            RCL_TRY(fooled_count(w, n, fooled, &done));
        }
    }
    return fooled_count(w, n, fooled, &done);
}
