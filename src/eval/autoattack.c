/* AutoAttack over a dataset (robustcl/autoattack.h, spec §7.4): per batch, the clean
 * prediction, then each attack of the ensemble on the images still robust, gathered into a
 * dense batch so no work goes to images already fooled. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/progress.h"
#include "eval/autoattack_internal.h"

/* The host side of a batch: its images and the outcome of each. */
typedef struct {
    const float *xs;
    const int32_t *ys, *idx;
    int n, per;
    int *outcome;                 /* [n] of the whole result */
    int *rows;                    /* scratch [cap]: the still-robust rows */
    float *gx;                    /* scratch [cap * per] */
    int32_t *gy, *gi, *fooled;    /* scratch [cap] */
    float *md, *md2;              /* scratch [cap] */
} aa_batch;

/* The largest distances of the points the attacks kept. */
typedef struct {
    double linf, l2;
} aa_dist;

/* Loads the images of b still robust into w (network space, pixels, labels, indices); *m
 * receives how many. */
static rcl_status load_robust(rcl_aa_work *w, aa_batch *b, int *m) {
    *m = 0;
    for (int i = 0; i < b->n; i++) {
        if (b->outcome[i] != RCL_AA_ROBUST)
            continue;
        memcpy(b->gx + (size_t)*m * b->per, b->xs + (size_t)i * b->per, (size_t)b->per * sizeof *b->gx);
        b->gy[*m] = b->ys[i];
        b->gi[*m] = b->idx[i];
        b->rows[(*m)++] = i;
    }
    if (*m == 0)
        return RCL_OK;
    rcl_tensor x = rcl_attack_rows(&w->x_net, *m), pix = rcl_attack_rows(&w->pix, *m);
    RCL_TRY(rcl_tensor_upload(&x, b->gx));
    RCL_TRY(rcl_ibuf_write(&w->labels, b->gy, (size_t)*m));
    RCL_TRY(rcl_ibuf_write(&w->index, b->gi, (size_t)*m));
    return rcl_attack_to_pixels(w->f.dev, &x, w->norm.mean, w->norm.std, &pix);
}

/* Marks the loaded rows that b->fooled flags as fooled by attack a; folds the largest L-inf and
 * L2 distances of the points the attack kept (w->best) into *far. */
static rcl_status mark_fooled(rcl_aa_work *w, aa_batch *b, int m, int a, aa_dist *far) {
    rcl_tensor best = rcl_attack_rows(&w->best, m), pix = rcl_attack_rows(&w->pix, m);
    rcl_tensor md = rcl_attack_rows(&w->maxdiff, m), l2 = rcl_attack_rows(&w->l2dist, m);
    RCL_TRY(rcl_attack_row_stats(w->f.dev, NULL, NULL, &best, &pix, &md));
    RCL_TRY(rcl_apgd_row_l2(w->f.dev, &best, &pix, &l2));
    RCL_TRY(rcl_tensor_download(&md, b->md));
    RCL_TRY(rcl_tensor_download(&l2, b->md2));
    for (int r = 0; r < m; r++) {
        if (b->fooled[r])
            b->outcome[b->rows[r]] = a;
        far->linf = b->md[r] > far->linf ? b->md[r] : far->linf;
        far->l2 = b->md2[r] > far->l2 ? b->md2[r] : far->l2;
    }
    return RCL_OK;
}

/* Counter bases keep the random draws of different attacks, rounds and restarts apart. */
static uint32_t counter_of(rcl_aa_kind kind, int round, int restart) {
    return ((uint32_t)kind << 28) | ((uint32_t)round << 20) | (uint32_t)restart;
}

/* Attack a of the ensemble on the images of b still robust: every restart (and for APGD-T
 * every target) takes the images the runs before it left. */
static rcl_status run_attack(rcl_aa_work *w, const rcl_autoattack_config *c, aa_batch *b, int a, aa_dist *far) {
    rcl_aa_kind kind = c->attacks[a];
    int targeted = kind == RCL_AA_APGD_T || kind == RCL_AA_FAB_T;
    int rounds = targeted ? c->targets : 1;
    int restarts = kind == RCL_AA_SQUARE ? 1 : c->restarts;
    rcl_aa_loss loss = kind == RCL_AA_APGD_CE ? RCL_AA_LOSS_CE
                     : kind == RCL_AA_APGD_DLR ? RCL_AA_LOSS_DLR
                                               : RCL_AA_LOSS_DLR_TARGETED;
    for (int t = 0; t < rounds; t++)
        for (int r = 0; r < restarts; r++) {
            int m;
            RCL_TRY(load_robust(w, b, &m));
            if (m == 0)
                return RCL_OK;
            uint32_t counter = counter_of(kind, t, r);
            if (targeted) { /* the (t+2)-th largest clean logit */
                rcl_tensor pix = rcl_attack_rows(&w->pix, m);
                RCL_TRY(rcl_aa_evaluate_point(w, m, &pix, RCL_AA_LOSS_CE, 0));
                RCL_TRY(rcl_apgd_target(w->f.dev, w->logits, t + 2, w->target.buf));
            }
            if (kind == RCL_AA_SQUARE)
                RCL_TRY(rcl_aa_square(w, m, c->queries, counter, b->gi[0], b->fooled));
            else if (kind == RCL_AA_FAB_T)
                RCL_TRY(rcl_aa_fab(w, m, c->iters, counter, r, b->fooled));
            else
                RCL_TRY(rcl_aa_apgd(w, m, loss, c->iters, counter, b->fooled));
            RCL_TRY(mark_fooled(w, b, m, a, far));
        }
    return RCL_OK;
}

static rcl_status check_setup(const rcl_classifier *f, const rcl_dataset *ds, const rcl_autoattack_config *c) {
    if (ds->c != f->in_c || ds->h != f->in_h || ds->w != f->in_w)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: images are %dx%dx%d, the model takes %dx%dx%d", ds->name, ds->c,
                        ds->h, ds->w, f->in_c, f->in_h, f->in_w);
    if (!ds->labels || ds->num_classes < 1 || ds->num_classes > f->num_classes)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: autoattack needs labels in [0,%d) (the dataset has %d classes)",
                        ds->name, f->num_classes, ds->num_classes);
    if (c->n_attacks < 1 || c->iters < 1 || c->restarts < 1 || c->queries < 1 || !(c->eps >= 0) ||
        (!c->l2 && c->eps > 1))
        return rcl_fail(RCL_ERR_INVALID_ARG, "autoattack: no attack, or a count below 1, or eps %g outside %s",
                        c->eps, c->l2 ? "[0,inf)" : "[0,1]");
    for (int a = 0; a < c->n_attacks; a++) {
        /* the L2 square start tiles the image with squares of side h/5 */
        if (c->l2 && c->attacks[a] == RCL_AA_SQUARE && f->in_h < 5)
            return rcl_fail(RCL_ERR_INVALID_ARG,
                            "autoattack: the L2 square attack needs images of 5 rows at least (%d)", f->in_h);
        /* the DLR losses divide by the gap to the 3rd (targeted: 3rd and 4th) largest logit */
        int need = c->attacks[a] == RCL_AA_APGD_T ? 4 : c->attacks[a] == RCL_AA_APGD_DLR ? 3 : 2;
        if (f->num_classes < need)
            return rcl_fail(RCL_ERR_INVALID_ARG, "autoattack: %s needs at least %d classes, the model has %d",
                            rcl_aa_kind_name(c->attacks[a]), need, f->num_classes);
    }
    return RCL_OK;
}

void rcl_autoattack_result_free(rcl_autoattack_result *r) {
    free(r->outcome);
    free(r->index);
    r->outcome = NULL;
    r->index = NULL;
}

static void batch_free(aa_batch *b) {
    free(b->rows), free(b->gx), free(b->gy), free(b->gi), free(b->fooled), free(b->md), free(b->md2);
}

static rcl_status batch_alloc(aa_batch *b, int cap, int per) {
    memset(b, 0, sizeof *b);
    b->per = per;
    b->rows = malloc((size_t)cap * sizeof *b->rows);
    b->gx = malloc((size_t)cap * per * sizeof *b->gx);
    b->gy = malloc((size_t)cap * sizeof *b->gy);
    b->gi = malloc((size_t)cap * sizeof *b->gi);
    b->fooled = malloc((size_t)cap * sizeof *b->fooled);
    b->md = malloc((size_t)cap * sizeof *b->md);
    b->md2 = malloc((size_t)cap * sizeof *b->md2);
    if (b->rows && b->gx && b->gy && b->gi && b->fooled && b->md && b->md2)
        return RCL_OK;
    batch_free(b);
    return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for an autoattack batch of %d images", cap);
}

/* The clean prediction of a batch, then every attack; res->outcome[first..first+n) filled. */
static rcl_status attack_batch(rcl_aa_work *w, const rcl_autoattack_config *c, aa_batch *b,
                               rcl_autoattack_result *res) {
    for (int i = 0; i < b->n; i++)
        b->outcome[i] = RCL_AA_ROBUST;
    int m;
    RCL_TRY(load_robust(w, b, &m));
    rcl_tensor pix = rcl_attack_rows(&w->pix, m);
    RCL_TRY(rcl_aa_evaluate_point(w, m, &pix, RCL_AA_LOSS_CE, 0));
    RCL_TRY(rcl_ibuf_read(&w->correct, b->fooled, (size_t)m));
    for (int i = 0; i < m; i++)
        if (!b->fooled[i])
            b->outcome[i] = RCL_AA_CLEAN_WRONG;
    aa_dist far = {res->max_linf, res->max_l2};
    for (int a = 0; a < c->n_attacks; a++) {
        double t0 = rcl_now();
        rcl_status s = run_attack(w, c, b, a, &far);
        res->seconds_of[a] += rcl_now() - t0;
        res->max_linf = far.linf, res->max_l2 = far.l2;
        RCL_TRY(s);
    }
    return RCL_OK;
}

static void tally(rcl_autoattack_result *r) {
    for (int i = 0; i < r->count; i++) {
        int o = r->outcome[i];
        r->clean_correct += o != RCL_AA_CLEAN_WRONG;
        for (int a = 0; a < r->cfg.n_attacks; a++)
            r->robust_after[a] += o == RCL_AA_ROBUST || o > a;
    }
    if (r->count) {
        r->clean_accuracy = (double)r->clean_correct / r->count;
        r->robust_accuracy = (double)r->robust_after[r->cfg.n_attacks - 1] / r->count;
    }
}

static rcl_status run_batches(rcl_aa_work *w, rcl_loader *l, const rcl_autoattack_config *c,
                              rcl_autoattack_result *res) {
    aa_batch b;
    RCL_TRY(batch_alloc(&b, w->cap, w->f.in_c * w->f.in_h * w->f.in_w));
    char what[256];
    rcl_progress prog;
    rcl_progress_begin(&prog, rcl_autoattack_describe(c, what, sizeof what), rcl_loader_batches(l), w->cap);
    rcl_status s = rcl_loader_start(l, 0, 0);
    long batches = 0;
    while (s == RCL_OK) {
        int n;
        if ((s = rcl_loader_next(l, &b.xs, &b.ys, &b.idx, &n)) != RCL_OK || n == 0)
            break;
        if (res->count + n > res->cap) {
            s = rcl_fail(RCL_ERR_INVALID_ARG, "autoattack: the loader gave more than the %d images asked", res->cap);
            break;
        }
        b.n = n;
        b.outcome = res->outcome + res->count;
        memcpy(res->index + res->count, b.idx, (size_t)n * sizeof *b.idx);
        if ((s = attack_batch(w, c, &b, res)) != RCL_OK)
            break;
        res->count += n;
        long robust = 0, clean = 0;
        for (int i = 0; i < res->count; i++)
            robust += res->outcome[i] == RCL_AA_ROBUST, clean += res->outcome[i] != RCL_AA_CLEAN_WRONG;
        char extra[96];
        snprintf(extra, sizeof extra, "clean %.1f%% robust %.1f%%", 100.0 * clean / res->count,
                 100.0 * robust / res->count);
        rcl_progress_update(&prog, ++batches, extra);
    }
    rcl_progress_end(&prog, "");
    batch_free(&b);
    return s;
}

rcl_status rcl_autoattack_evaluate(const rcl_classifier *f, const rcl_dataset *ds, const int *indices, int count,
                                   const rcl_autoattack_config *cfg, rcl_autoattack_result *res) {
    memset(res, 0, sizeof *res);
    res->cfg = *cfg;
    RCL_TRY(check_setup(f, ds, cfg));
    if (!indices)
        count = ds->n;
    if (cfg->n > 0 && cfg->n < count)
        count = cfg->n;
    int *first = NULL; /* the loader takes a count only with a list */
    if (!indices && count < ds->n) {
        if (!(first = malloc((size_t)count * sizeof *first)))
            return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for %d image indices", count);
        for (int i = 0; i < count; i++)
            first[i] = i;
        indices = first;
    }
    if (cfg->targets > f->num_classes - 1) /* every class but the true one, at most */
        res->cfg.targets = f->num_classes - 1;
    rcl_loader_options lo = rcl_loader_defaults();
    lo.batch = f->batch_cap;
    lo.shuffle = 0;
    lo.augment = 0;
    lo.norm = cfg->norm;
    rcl_loader *l = NULL;
    rcl_aa_work w;
    res->outcome = malloc((size_t)count * sizeof *res->outcome);
    res->index = malloc((size_t)count * sizeof *res->index);
    if (!res->outcome || !res->index) {
        free(first);
        rcl_autoattack_result_free(res);
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for %d autoattack outcomes", count);
    }
    double t0 = rcl_now();
    rcl_status s = rcl_loader_create(ds, indices, count, &lo, &l);
    free(first); /* the loader copied the list */
    res->cap = count;
    if (s == RCL_OK && (s = rcl_aa_work_create(f, &w)) == RCL_OK) {
        w.norm = cfg->norm;
        w.eps = (float)cfg->eps;
        w.l2 = cfg->l2;
        w.seed = (uint32_t)(cfg->seed ^ (cfg->seed >> 32));
        s = run_batches(&w, l, &res->cfg, res);
        rcl_aa_work_free(&w);
    }
    rcl_loader_free(l);
    res->seconds = rcl_now() - t0;
    tally(res);
    return s;
}
