/* The OOD-detection evaluation of spec §8: the whole in-distribution test
 * set against seeded draws of each OOD set, measures averaged over draws and
 * then over sets, and a draw-averaged ROC curve for plots. */
#include "robustcl/evaluate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/rng.h"

rcl_ood_config rcl_ood_defaults(void) {
    rcl_ood_config c = {.draws = RCL_OOD_DRAWS, .draw_size = 0, .seed = 0, .recall_level = RCL_FPR_RECALL};
    return c;
}

void rcl_ood_report_free(rcl_ood_report *r) {
    if (!r)
        return;
    for (int s = 0; s < r->n_sets && r->sets; s++) {
        free(r->sets[s].draw_index);
        free(r->sets[s].per_draw);
    }
    free(r->sets);
    memset(r, 0, sizeof *r);
}

/* Prefixes the last error with `what` (copied first: rcl_fail writes the same buffer). */
static rcl_status fail_in(rcl_status s, const char *what) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", rcl_last_error());
    return rcl_fail(s, "%s: %s", what, msg);
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void measures_add(rcl_ood_measures *acc, const rcl_ood_measures *m, double w) {
    acc->auroc += w * m->auroc;
    acc->aupr += w * m->aupr;
    acc->fpr_paper += w * m->fpr_paper;
    acc->fpr_first += w * m->fpr_first;
}

/* Adds the curve, linearly interpolated at the grid FPRs, times w into tpr_acc. The curve
 * points are non-decreasing in both coordinates and start at (0,0); at a grid FPR f the value
 * is taken on the segment leaving the last point with fpr <= f (so a vertical jump at f counts
 * fully, as sklearn's plots draw it). */
static void roc_grid_add(const double *fpr, const double *tpr, int np, double w, double *tpr_acc) {
    int p = 0;
    for (int j = 0; j < RCL_ROC_GRID; j++) {
        double f = (double)j / (RCL_ROC_GRID - 1);
        while (p + 1 < np && fpr[p + 1] <= f)
            p++;
        double t = tpr[p];
        if (p + 1 < np)
            t += (tpr[p + 1] - tpr[p]) * (f - fpr[p]) / (fpr[p + 1] - fpr[p]);
        tpr_acc[j] += w * t;
    }
}

static rcl_status eval_set(const double *id, int n_id, const double *ood, int n_ood, const char *name, int set,
                           const rcl_ood_config *cfg, int draw_size, rcl_ood_set_result *r) {
    snprintf(r->name, sizeof r->name, "%s", name ? name : "ood");
    r->n_total = n_ood;
    r->used_whole = n_ood <= draw_size;
    r->draw_size = r->used_whole ? n_ood : draw_size;
    r->n_draws = r->used_whole ? 1 : cfg->draws;
    r->draw_index = malloc(sizeof(int) * (size_t)r->n_draws * (size_t)r->draw_size);
    r->per_draw = calloc((size_t)r->n_draws, sizeof *r->per_draw);
    int *perm = malloc(sizeof(int) * (size_t)n_ood);
    double *drawn = malloc(sizeof(double) * (size_t)r->draw_size);
    if (!r->draw_index || !r->per_draw || !perm || !drawn) {
        free(perm);
        free(drawn);
        return rcl_fail(RCL_ERR_NO_MEMORY, "OOD evaluation: out of memory for set %s (%d scores)", r->name, n_ood);
    }
    for (int i = 0; i < n_ood; i++)
        perm[i] = i;
    /* one stream per set, so adding a set does not change the draws of the others */
    rcl_rng rng = rcl_rng_seed(cfg->seed + 0x632be59bd9b4e019ULL * (uint64_t)(set + 1));
    rcl_status s = RCL_OK;
    double w = 1.0 / r->n_draws;
    for (int d = 0; d < r->n_draws && s == RCL_OK; d++) {
        int *idx = r->draw_index + (size_t)d * r->draw_size;
        /* partial Fisher-Yates: a uniform subset without replacement, independent of earlier draws */
        for (int i = 0; i < r->draw_size && !r->used_whole; i++) {
            int j = i + (int)rcl_rng_below(&rng, (uint64_t)(n_ood - i));
            int t = perm[i];
            perm[i] = perm[j], perm[j] = t;
        }
        memcpy(idx, perm, sizeof(int) * (size_t)r->draw_size);
        qsort(idx, (size_t)r->draw_size, sizeof(int), cmp_int);
        for (int i = 0; i < r->draw_size; i++)
            drawn[i] = ood[idx[i]];
        double *fpr = NULL, *tpr = NULL;
        int np = 0;
        if ((s = rcl_ood_measures_compute(drawn, r->draw_size, id, n_id, cfg->recall_level, &r->per_draw[d])) ==
                RCL_OK &&
            (s = rcl_ood_roc_curve(drawn, r->draw_size, id, n_id, &fpr, &tpr, NULL, &np)) == RCL_OK) {
            measures_add(&r->mean, &r->per_draw[d], w);
            roc_grid_add(fpr, tpr, np, w, r->roc_tpr);
        }
        free(fpr);
        free(tpr);
    }
    for (int j = 0; j < RCL_ROC_GRID; j++)
        r->roc_fpr[j] = (double)j / (RCL_ROC_GRID - 1);
    free(perm);
    free(drawn);
    if (s != RCL_OK)
        return fail_in(s, r->name);
    return RCL_OK;
}

rcl_status rcl_ood_evaluate_scores(const double *id, int n_id, const double *const *ood, const int *n_ood,
                                   const char *const *names, int n_sets, const rcl_ood_config *cfg,
                                   rcl_ood_report *out) {
    memset(out, 0, sizeof *out);
    rcl_ood_config c = cfg ? *cfg : rcl_ood_defaults();
    if (!id || n_id < 1 || n_sets < 1 || !ood || !n_ood)
        return rcl_fail(RCL_ERR_INVALID_ARG, "OOD evaluation: need in-distribution scores (n=%d) and >= 1 OOD set (%d)",
                        n_id, n_sets);
    if (c.draws < 1 || c.draw_size < 0)
        return rcl_fail(RCL_ERR_INVALID_ARG, "OOD evaluation: draws must be >= 1 and draw size >= 0 (got %d, %d)",
                        c.draws, c.draw_size);
    if (!(c.recall_level > 0 && c.recall_level <= 1))
        return rcl_fail(RCL_ERR_INVALID_ARG, "OOD evaluation: recall level must be in (0,1] (got %g)", c.recall_level);
    for (int s = 0; s < n_sets; s++)
        if (!ood[s] || n_ood[s] < 1)
            return rcl_fail(RCL_ERR_INVALID_ARG, "OOD evaluation: set %s has no scores",
                            names && names[s] ? names[s] : "?");
    int draw_size = c.draw_size ? c.draw_size : n_id / RCL_OOD_DRAW_DIVISOR;
    if (draw_size < 1)
        draw_size = 1;
    out->sets = calloc((size_t)n_sets, sizeof *out->sets);
    if (!out->sets)
        return rcl_fail(RCL_ERR_NO_MEMORY, "OOD evaluation: out of memory for %d sets", n_sets);
    out->n_sets = n_sets;
    out->n_id = n_id;
    out->recall_level = c.recall_level;
    for (int s = 0; s < n_sets; s++) {
        rcl_status st = eval_set(id, n_id, ood[s], n_ood[s], names ? names[s] : NULL, s, &c, draw_size, &out->sets[s]);
        if (st != RCL_OK) {
            rcl_ood_report_free(out);
            return st;
        }
        measures_add(&out->mean, &out->sets[s].mean, 1.0 / n_sets);
    }
    return RCL_OK;
}

static rcl_status msp(const rcl_logit_set *ls, double **score) {
    if (!ls || !ls->logits || ls->n < 1 || ls->k < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "OOD evaluation: set %s has no logits", ls && ls->name ? ls->name : "?");
    *score = malloc(sizeof(double) * (size_t)ls->n);
    if (!*score)
        return rcl_fail(RCL_ERR_NO_MEMORY, "OOD evaluation: out of memory for %d scores of %s", ls->n, ls->name);
    rcl_status s = rcl_msp_scores(ls->logits, ls->n, ls->k, 1.0, *score);
    if (s != RCL_OK)
        return fail_in(s, ls->name ? ls->name : "logits");
    return RCL_OK;
}

rcl_status rcl_ood_evaluate(const rcl_logit_set *id, const rcl_logit_set *ood, int n_sets,
                            const rcl_ood_config *cfg, rcl_ood_report *out) {
    memset(out, 0, sizeof *out);
    if (n_sets < 1 || !ood)
        return rcl_fail(RCL_ERR_INVALID_ARG, "OOD evaluation: no OOD set given");
    double *id_s = NULL;
    double **ood_s = calloc((size_t)n_sets, sizeof *ood_s);
    int *n_ood = calloc((size_t)n_sets, sizeof *n_ood);
    const char **names = calloc((size_t)n_sets, sizeof *names);
    rcl_status s = ood_s && n_ood && names ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "OOD evaluation: out of memory");
    if (s == RCL_OK)
        s = msp(id, &id_s);
    for (int i = 0; i < n_sets && s == RCL_OK; i++) {
        if (ood[i].k != id->k)
            s = rcl_fail(RCL_ERR_INVALID_ARG, "OOD evaluation: %s has %d logits per image, %s has %d", ood[i].name,
                         ood[i].k, id->name, id->k);
        else if ((s = msp(&ood[i], &ood_s[i])) == RCL_OK)
            n_ood[i] = ood[i].n, names[i] = ood[i].name;
    }
    if (s == RCL_OK)
        s = rcl_ood_evaluate_scores(id_s, id->n, (const double *const *)ood_s, n_ood, names, n_sets, cfg, out);
    for (int i = 0; ood_s && i < n_sets; i++)
        free(ood_s[i]);
    free(ood_s);
    free(n_ood);
    free(names);
    free(id_s);
    return s;
}

static void measures_json(rcl_json_writer *w, const rcl_ood_measures *m) {
    rcl_jw_key(w, "auroc");
    rcl_jw_number(w, m->auroc);
    rcl_jw_key(w, "aupr");
    rcl_jw_number(w, m->aupr);
    rcl_jw_key(w, "fpr_paper");
    rcl_jw_number(w, m->fpr_paper);
    rcl_jw_key(w, "fpr_first");
    rcl_jw_number(w, m->fpr_first);
}

void rcl_ood_report_json(rcl_json_writer *w, const rcl_ood_report *r, const rcl_ood_config *cfg) {
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "score");
    rcl_jw_string(w, "msp: -max softmax(logits), T = 1");
    rcl_jw_key(w, "positive");
    rcl_jw_string(w, "ood");
    rcl_jw_key(w, "in_distribution_images");
    rcl_jw_int(w, r->n_id);
    rcl_jw_key(w, "recall_level");
    rcl_jw_number(w, r->recall_level);
    rcl_jw_key(w, "draws");
    rcl_jw_int(w, cfg ? cfg->draws : RCL_OOD_DRAWS);
    rcl_jw_key(w, "seed");
    rcl_jw_uint(w, cfg ? cfg->seed : 0);
    rcl_jw_key(w, "sets");
    rcl_jw_begin_array(w);
    for (int s = 0; s < r->n_sets; s++) {
        const rcl_ood_set_result *e = &r->sets[s];
        rcl_jw_begin_object(w);
        rcl_jw_key(w, "name");
        rcl_jw_string(w, e->name);
        rcl_jw_key(w, "images");
        rcl_jw_int(w, e->n_total);
        rcl_jw_key(w, "draw_size");
        rcl_jw_int(w, e->draw_size);
        rcl_jw_key(w, "draws");
        rcl_jw_int(w, e->n_draws);
        rcl_jw_key(w, "used_whole");
        rcl_jw_bool(w, e->used_whole);
        measures_json(w, &e->mean);
        rcl_jw_key(w, "per_draw");
        rcl_jw_begin_array(w);
        for (int d = 0; d < e->n_draws; d++) {
            rcl_jw_begin_object(w);
            measures_json(w, &e->per_draw[d]);
            rcl_jw_end_object(w);
        }
        rcl_jw_end_array(w);
        rcl_jw_key(w, "roc");
        rcl_jw_begin_object(w);
        rcl_jw_key(w, "fpr");
        rcl_jw_begin_array(w);
        for (int j = 0; j < RCL_ROC_GRID; j++)
            rcl_jw_number(w, e->roc_fpr[j]);
        rcl_jw_end_array(w);
        rcl_jw_key(w, "tpr");
        rcl_jw_begin_array(w);
        for (int j = 0; j < RCL_ROC_GRID; j++)
            rcl_jw_number(w, e->roc_tpr[j]);
        rcl_jw_end_array(w);
        rcl_jw_end_object(w);
        rcl_jw_end_object(w);
    }
    rcl_jw_end_array(w);
    rcl_jw_key(w, "mean");
    rcl_jw_begin_object(w);
    measures_json(w, &r->mean);
    rcl_jw_end_object(w);
    rcl_jw_end_object(w);
}
