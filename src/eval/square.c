/* The Square Attack on a batch (spec §7.4), L-inf or L2 (w->l2): Andriushchenko et al.'s random
 * search as autoattack's square.py runs it, p_init 0.8 and its fixed schedule of square sizes. */
#include <math.h>
#include <stdlib.h>

#include "eval/autoattack_internal.h"
#include "robustcl/rng.h"

#define SQUARE_P_INIT 0.8

/* The fraction of pixels a square covers at iteration it (the reference's schedule, not rescaled
 * to the query budget, as AutoAttack runs it). */
static double p_selection(int it) {
    static const int bound[] = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000};
    int halvings = 0;
    while (halvings < 9 && it > bound[halvings])
        halvings++;
    return SQUARE_P_INIT / (double)(1 << halvings);
}

/* fooled[r] = margin_min[r] <= 0; returns how many. */
static rcl_status read_fooled(rcl_aa_work *w, int n, float *margin, int32_t *fooled, int *count) {
    RCL_TRY(rcl_tensor_download(&w->loss_best, margin)); /* the whole buffer: rows beyond n unused */
    *count = 0;
    for (int r = 0; r < n; r++)
        *count += (fooled[r] = margin[r] <= 0.0f);
    return RCL_OK;
}

/* The side of iteration it's squares: sqrt(p*h*w) rounded half to even (Python's round), at
 * least 1 (L2: at least 3 and odd), at most the image's side. */
static int square_side(const rcl_aa_work *w, int it) {
    int side = (int)nearbyint(sqrt(p_selection(it) * w->f.in_h * w->f.in_w));
    if (w->l2) {
        side = side < 3 ? 3 : side;
        side += side % 2 == 0;
    }
    side = side < 1 ? 1 : side;
    side = side > w->f.in_h ? w->f.in_h : side;
    return side > w->f.in_w ? w->f.in_w : side;
}

/* Iteration it's candidate into cand: the host draws the square positions (shared by the batch,
 * as the reference's), in the reference's order (L2: window 1, then window 2). */
static rcl_status propose(rcl_aa_work *w, const rcl_tensor *pix, const rcl_tensor *best, rcl_rng *rng, int it,
                          uint32_t counter, rcl_tensor *cand) {
    int h = w->f.in_h, wd = w->f.in_w;
    rcl_square_windows win = {square_side(w, it), 0, 0, 0, 0};
    win.vh = (int)(rcl_rng_uniform(rng) * (h - win.s));
    win.vw = (int)(rcl_rng_uniform(rng) * (wd - win.s));
    if (!w->l2)
        return rcl_square_propose(w->f.dev, pix, best, w->index.buf, w->eps, win.vh, win.vw, win.s, w->seed, counter,
                                  cand);
    win.vh2 = (int)(rcl_rng_uniform(rng) * (h - win.s));
    win.vw2 = (int)(rcl_rng_uniform(rng) * (wd - win.s));
    return rcl_square_propose_l2(w->f.dev, pix, best, w->index.buf, w->eps, &win, w->seed, counter, cand);
}

rcl_status rcl_aa_square(rcl_aa_work *w, int n, int queries, uint32_t counter, int32_t first_index,
                         int32_t *fooled) {
    rcl_device *d = w->f.dev;
    rcl_tensor pix = rcl_attack_rows(&w->pix, n), best = rcl_attack_rows(&w->best, n);
    rcl_tensor cand = rcl_attack_rows(&w->adv, n), rl = rcl_attack_rows(&w->loss, n);
    rcl_tensor margin_min = rcl_attack_rows(&w->loss_best, n);
    int done = 0;
    float *margin = malloc((size_t)w->cap * sizeof *margin);
    if (!margin)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in the square attack");
    rcl_rng rng = rcl_rng_seed(((uint64_t)w->seed << 32) ^ rcl_hash32((uint32_t)first_index) ^ counter);
    rcl_status s =
        (w->l2 ? rcl_square_init_l2 : rcl_square_init)(d, &pix, w->index.buf, w->eps, w->seed, counter, &best);
    if (s == RCL_OK)
        s = rcl_aa_evaluate_point(w, n, &best, RCL_AA_LOSS_MARGIN, 0);
    if (s == RCL_OK)
        s = rcl_square_accept(d, &rl, 1, &margin_min, w->flag.buf);
    if (s == RCL_OK)
        s = read_fooled(w, n, margin, fooled, &done);
    for (int it = 0; it < queries && done < n && s == RCL_OK; it++) {
        s = propose(w, &pix, &best, &rng, it, counter + 1 + (uint32_t)it, &cand);
        if (s == RCL_OK)
            s = rcl_aa_evaluate_point(w, n, &cand, RCL_AA_LOSS_MARGIN, 0);
        if (s == RCL_OK)
            s = rcl_square_accept(d, &rl, 0, &margin_min, w->flag.buf);
        if (s == RCL_OK)
            s = rcl_attack_copy_rows(d, &cand, w->flag.buf, &best);
        if (s == RCL_OK && it % 16 == 15)
            s = read_fooled(w, n, margin, fooled, &done);
    }
    if (s == RCL_OK)
        s = read_fooled(w, n, margin, fooled, &done);
    free(margin);
    return s;
}
