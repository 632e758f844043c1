/* The per-sample score dump of `robustcl eval --dump-scores`: one TSV row per
 * in-distribution image and per OOD draw member, with every value the OOD and
 * calibration numbers are computed from (format in robustcl/evaluate.h). */
#include "robustcl/evaluate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"

/* Per-image values of one set: argmax, max softmax at T = 1 and at T. */
typedef struct {
    int *pred;
    double *conf, *conf_t;
} per_image;

static void per_image_free(per_image *p) {
    free(p->pred);
    free(p->conf);
    free(p->conf_t);
}

static rcl_status per_image_compute(const rcl_logit_set *ls, double T, per_image *p) {
    memset(p, 0, sizeof *p);
    if (!ls->logits || ls->n < 1 || ls->k < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "score dump: set %s has no logits", ls->name ? ls->name : "?");
    p->pred = malloc(sizeof(int) * (size_t)ls->n);
    p->conf = malloc(sizeof(double) * (size_t)ls->n);
    p->conf_t = malloc(sizeof(double) * (size_t)ls->n);
    if (!p->pred || !p->conf || !p->conf_t)
        return rcl_fail(RCL_ERR_NO_MEMORY, "score dump: out of memory for %d images of %s", ls->n, ls->name);
    RCL_TRY(rcl_confidence_correct(ls->logits, NULL, ls->n, ls->k, 1.0, p->conf, NULL));
    RCL_TRY(rcl_confidence_correct(ls->logits, NULL, ls->n, ls->k, T, p->conf_t, NULL));
    for (int i = 0; i < ls->n; i++) {
        const float *z = ls->logits + (size_t)i * ls->k;
        int am = 0;
        for (int j = 1; j < ls->k; j++)
            if (z[j] > z[am])
                am = j;
        p->pred[i] = am;
    }
    return RCL_OK;
}

/* extra: the row's value of the extra column, or NULL when the dump has none. */
static rcl_status row(rcl_atomic_file *f, const char *set, const rcl_logit_set *ls, int draw, int i,
                      const per_image *p, const char *extra) {
    int label = ls->labels && ls->labels[i] >= 0 ? ls->labels[i] : -1;
    char line[512];
    int len = snprintf(line, sizeof line, "%s\t%s\t%d\t%d\t%d\t%d\t%.17g\t%.17g\t%.17g\t%d%s%s\n", set, ls->name, draw,
                       i, label, p->pred[i], p->conf[i], p->conf_t[i], -p->conf[i],
                       label < 0 ? -1 : p->pred[i] == label, extra ? "\t" : "", extra ? extra : "");
    return rcl_atomic_write(f, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
}

static const char *clean_name(const rcl_logit_set *ls) {
    return ls->name && *ls->name && !strpbrk(ls->name, "\t\n\r") ? ls->name : NULL;
}

static rcl_status write_all(rcl_atomic_file *f, const rcl_logit_set *id, const rcl_logit_set *ood, int n_sets,
                            const rcl_ood_report *rep, double T, const rcl_score_column *extra) {
    char header[256];
    int hl = snprintf(header, sizeof header,
                      "set\tname\tdraw\tindex\tlabel\tpredicted\tconfidence\tconfidence_t\tmsp_score\tcorrect%s%s\n",
                      extra ? "\t" : "", extra ? extra->name : "");
    RCL_TRY(rcl_atomic_write(f, header, (size_t)hl));
    const char *none = extra ? "-" : NULL;
    per_image p;
    rcl_status s = per_image_compute(id, T, &p);
    for (int i = 0; i < id->n && s == RCL_OK; i++)
        s = row(f, "id", id, 0, i, &p, extra && i < extra->n ? extra->values[i] : none);
    per_image_free(&p);
    for (int k = 0; k < n_sets && s == RCL_OK; k++) {
        const rcl_ood_set_result *r = &rep->sets[k];
        char set[32];
        snprintf(set, sizeof set, "ood%d", k);
        if (r->n_total != ood[k].n)
            return rcl_fail(RCL_ERR_INVALID_ARG, "score dump: OOD set %s has %d images, its report %d", ood[k].name,
                            ood[k].n, r->n_total);
        if ((s = per_image_compute(&ood[k], T, &p)) == RCL_OK)
            for (int d = 0; d < r->n_draws && s == RCL_OK; d++)
                for (int j = 0; j < r->draw_size && s == RCL_OK; j++)
                    s = row(f, set, &ood[k], d, r->draw_index[(size_t)d * r->draw_size + j], &p, none);
        per_image_free(&p);
    }
    return s;
}

rcl_status rcl_scores_dump(const char *path, const rcl_logit_set *id, const rcl_logit_set *ood, int n_sets,
                           const rcl_ood_report *ood_report, double T) {
    return rcl_scores_dump_column(path, id, ood, n_sets, ood_report, T, NULL);
}

rcl_status rcl_scores_dump_column(const char *path, const rcl_logit_set *id, const rcl_logit_set *ood, int n_sets,
                                  const rcl_ood_report *ood_report, double T, const rcl_score_column *extra) {
    if (!path || !id)
        return rcl_fail(RCL_ERR_INVALID_ARG, "score dump: no path or no in-distribution set");
    if (n_sets > 0 && (!ood || !ood_report || ood_report->n_sets != n_sets))
        return rcl_fail(RCL_ERR_INVALID_ARG, "score dump: %d OOD sets without a matching OOD report", n_sets);
    if (!clean_name(id))
        return rcl_fail(RCL_ERR_INVALID_ARG, "score dump: the in-distribution set needs a name without tabs");
    for (int k = 0; k < n_sets; k++)
        if (!clean_name(&ood[k]))
            return rcl_fail(RCL_ERR_INVALID_ARG, "score dump: OOD set %d needs a name without tabs", k);
    if (extra && (!extra->name || strpbrk(extra->name, "\t\n\r") || strlen(extra->name) > 64 || extra->n < 0 ||
                  extra->n > id->n || (extra->n && !extra->values)))
        return rcl_fail(RCL_ERR_INVALID_ARG, "score dump: the extra column needs a name without tabs and <= %d values",
                        id->n);
    rcl_atomic_file *f;
    RCL_TRY(rcl_atomic_open(path, &f));
    rcl_status s = write_all(f, id, ood, n_sets, ood_report, T, extra);
    if (s != RCL_OK) {
        rcl_atomic_abort(f);
        return s;
    }
    return rcl_atomic_commit(f);
}
