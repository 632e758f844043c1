/* Class-imbalance training sets and methods (spec §6): the imbalanced cut of
 * a balanced set, and per method the dataset, index list or class weights. */
#include "robustcl/imbalance_methods.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/metrics.h"

static rcl_status check_labelled(const rcl_dataset *ds, const char *who) {
    if (!ds || !ds->labels || ds->num_classes < 1 || ds->n < 1 || (!ds->pixels && !ds->values))
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %s is not a non-empty labelled image set", who,
                        ds ? ds->name : "(null)");
    return RCL_OK;
}

/* A new dataset with images idx[0..m) of src (same shape, classes and provenance). */
static rcl_status copy_images(const rcl_dataset *src, const int *idx, int m, int extra, const char *suffix,
                              rcl_dataset *out) {
    RCL_TRY(rcl_dataset_alloc(out, m + extra, src->c, src->h, src->w, src->num_classes, src->pixels == NULL));
    size_t d = rcl_dataset_image_size(src);
    for (int i = 0; i < m; i++) {
        if (src->pixels)
            memcpy(out->pixels + (size_t)i * d, src->pixels + (size_t)idx[i] * d, d);
        else
            memcpy(out->values + (size_t)i * d, src->values + (size_t)idx[i] * d, d * sizeof(float));
        out->labels[i] = src->labels[idx[i]];
    }
    snprintf(out->name, sizeof out->name, "%.48s+%s", src->name, suffix);
    memcpy(out->sha256, src->sha256, sizeof out->sha256);
    return RCL_OK;
}

rcl_status rcl_imb_profile_counts(const rcl_imb_profile *p, int k, int *counts) {
    RCL_TRY(p->exponential ? rcl_imb_exp_counts(k, p->a, p->rho, counts)
                           : rcl_imb_power_law_counts(k, p->a, p->b, p->gamma, counts));
    for (int c = 0; p->exponential && c < k; c++)
        if (counts[c] < p->b) /* e.g. SMOTE's 2 images a class when rho exceeds a/2 */
            counts[c] = p->b < p->a ? p->b : p->a;
    return RCL_OK;
}

rcl_status rcl_imb_make_dataset(const rcl_dataset *balanced, const rcl_imb_profile *p, rcl_dataset *out,
                                int *counts) {
    memset(out, 0, sizeof *out);
    RCL_TRY(check_labelled(balanced, "imbalanced set"));
    if (!p)
        return rcl_fail(RCL_ERR_INVALID_ARG, "imbalanced set: no profile");
    int k = balanced->num_classes;
    int *cnt = malloc(sizeof(int) * (size_t)k), *idx = NULL, m = 0;
    if (!cnt)
        return rcl_fail(RCL_ERR_NO_MEMORY, "imbalanced set: out of memory");
    rcl_status s = rcl_imb_profile_counts(p, k, cnt);
    if (s == RCL_OK)
        s = rcl_imb_select(balanced->labels, balanced->n, k, cnt, p->seed, &idx, &m);
    if (s == RCL_OK)
        s = copy_images(balanced, idx, m, 0, "imbalanced", out);
    if (s == RCL_OK && counts)
        memcpy(counts, cnt, sizeof(int) * (size_t)k);
    free(idx);
    free(cnt);
    return s;
}

static const char *const method_names[] = {"normal", "cost-sensitive", "oversample", "smote"};

int rcl_imb_method_from_name(const char *name) {
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, method_names[i]) == 0)
            return i;
    return -1;
}

const char *rcl_imb_method_name(rcl_imb_method m) {
    return m >= RCL_IMB_NORMAL && m <= RCL_IMB_SMOTE ? method_names[m] : "unknown";
}

void rcl_imb_plan_free(rcl_imb_plan *plan) {
    free(plan->indices);
    free(plan->class_weights);
    free(plan->counts);
    free(plan->is_minority);
    rcl_dataset_free(&plan->synthetic);
    memset(plan, 0, sizeof *plan);
}

/* SMOTE in the set's own space (pixels as floats, or values), appended to a copy. */
static rcl_status smote(const rcl_dataset *ds, uint64_t seed, rcl_dataset *out) {
    size_t d = rcl_dataset_image_size(ds), total = (size_t)ds->n * d;
    float *x = ds->values;
    if (ds->pixels) {
        if (!(x = malloc(sizeof(float) * total)))
            return rcl_fail(RCL_ERR_NO_MEMORY, "SMOTE on %s: out of memory for %d images", ds->name, ds->n);
        for (size_t i = 0; i < total; i++)
            x[i] = ds->pixels[i];
    }
    float *xn = NULL;
    int *yn = NULL, nn = 0, *all = malloc(sizeof(int) * (size_t)ds->n);
    rcl_status s = all ? rcl_imb_smote(x, ds->labels, ds->n, (int)d, ds->num_classes, 5, seed, &xn, &yn, &nn)
                       : rcl_fail(RCL_ERR_NO_MEMORY, "SMOTE on %s: out of memory", ds->name);
    for (int i = 0; s == RCL_OK && i < ds->n; i++)
        all[i] = i;
    if (s == RCL_OK)
        s = copy_images(ds, all, ds->n, nn, "smote", out);
    for (int i = 0; s == RCL_OK && i < nn; i++) {
        const float *src = xn + (size_t)i * d;
        size_t at = (size_t)(ds->n + i) * d;
        if (ds->pixels)
            for (size_t j = 0; j < d; j++) /* between two pixels of 0..255: rounding stays in range */
                out->pixels[at + j] = (uint8_t)lrintf(fminf(fmaxf(src[j], 0.0f), 255.0f));
        else
            memcpy(out->values + at, src, d * sizeof(float));
        out->labels[ds->n + i] = yn[i];
    }
    if (x != ds->values)
        free(x);
    free(xn), free(yn), free(all);
    return s;
}

rcl_status rcl_imb_plan_make(const rcl_dataset *imbalanced, rcl_imb_method method, uint64_t seed,
                             rcl_imb_plan *plan) {
    memset(plan, 0, sizeof *plan);
    RCL_TRY(check_labelled(imbalanced, "imbalance plan"));
    if (method < RCL_IMB_NORMAL || method > RCL_IMB_SMOTE)
        return rcl_fail(RCL_ERR_INVALID_ARG, "imbalance plan: unknown method %d", (int)method);
    int k = imbalanced->num_classes;
    plan->train = imbalanced;
    plan->num_classes = k;
    plan->counts = calloc((size_t)k, sizeof(int));
    plan->is_minority = calloc((size_t)k, 1);
    if (!plan->counts || !plan->is_minority) {
        rcl_imb_plan_free(plan);
        return rcl_fail(RCL_ERR_NO_MEMORY, "imbalance plan: out of memory");
    }
    for (int i = 0; i < imbalanced->n; i++) {
        int y = imbalanced->labels[i];
        if (y < 0 || y >= k) {
            rcl_imb_plan_free(plan);
            return rcl_fail(RCL_ERR_INVALID_ARG, "imbalance plan: %s label %d of image %d is outside 0..%d",
                            imbalanced->name, y, i, k - 1);
        }
        plan->counts[y]++;
    }
    plan->n_minority = rcl_imb_minority(plan->counts, k, plan->is_minority);
    rcl_status s = RCL_OK;
    if (method == RCL_IMB_COST_SENSITIVE) {
        double *w = malloc(sizeof(double) * (size_t)k);
        plan->class_weights = malloc(sizeof(float) * (size_t)k);
        s = w && plan->class_weights ? rcl_imb_class_weights(plan->counts, k, w)
                                     : rcl_fail(RCL_ERR_NO_MEMORY, "imbalance plan: out of memory");
        for (int c = 0; s == RCL_OK && c < k; c++)
            plan->class_weights[c] = (float)w[c];
        free(w);
    } else if (method == RCL_IMB_OVERSAMPLE) {
        s = rcl_imb_oversample(imbalanced->labels, imbalanced->n, k, seed, &plan->indices, &plan->count);
    } else if (method == RCL_IMB_SMOTE) {
        s = smote(imbalanced, seed, &plan->synthetic);
        plan->train = &plan->synthetic;
    }
    if (s != RCL_OK)
        rcl_imb_plan_free(plan);
    return s;
}

rcl_status rcl_imb_errors(const float *logits, const int32_t *labels, int n, int k, const uint8_t *is_minority,
                          double *total, double *minority) {
    if (!logits || !labels || !is_minority || n < 1 || k < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "imbalance errors: needs logits, labels and minority flags (n=%d, k=%d)",
                        n, k);
    long wrong = 0, m_wrong = 0, m_n = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        int best = 0, y = labels[i];
        if (y < 0 || y >= k)
            return rcl_fail(RCL_ERR_INVALID_ARG, "imbalance errors: label %d of example %d is outside 0..%d", y, i,
                            k - 1);
        for (int j = 1; j < k; j++)
            if (z[j] > z[best])
                best = j;
        wrong += best != y;
        if (is_minority[y]) {
            m_n++;
            m_wrong += best != y;
        }
    }
    if (total)
        *total = (double)wrong / n;
    if (minority)
        *minority = m_n ? (double)m_wrong / m_n : -1.0;
    return RCL_OK;
}
