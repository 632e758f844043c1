/* Label-corruption training methods (spec §5): corrupted labels with a gold
 * set, the corrected-loss step hook, and the Normal / Forward / GLC runner. */
#include "robustcl/noise_methods.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/metrics.h"
#include "robustcl/rng.h"

rcl_status rcl_noise_corrupt_labels(const rcl_dataset *clean, const rcl_corruption_options *o, int32_t *noisy,
                                    uint8_t *trusted, double *C, int *n_trusted) {
    if (!clean || !o || !noisy || !trusted || !clean->labels || clean->num_classes < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "corrupt labels: needs a labelled dataset, options and output arrays");
    int k = clean->num_classes, n = clean->n;
    if (o->kind != RCL_CORRUPT_UNIFORM && o->kind != RCL_CORRUPT_FLIP)
        return rcl_fail(RCL_ERR_INVALID_ARG, "corrupt labels: unknown corruption kind %d", (int)o->kind);
    double *Cm = malloc(sizeof(double) * (size_t)k * k);
    if (!Cm)
        return rcl_fail(RCL_ERR_NO_MEMORY, "corrupt labels: out of memory for a %dx%d matrix", k, k);
    /* one seed, three independent streams */
    rcl_rng r = rcl_rng_seed(o->seed);
    uint64_t flip_seed = rcl_rng_next(&r), gold_seed = rcl_rng_next(&r), label_seed = rcl_rng_next(&r);
    rcl_status s = o->kind == RCL_CORRUPT_FLIP ? rcl_noise_flip_matrix(k, o->strength, flip_seed, Cm)
                                               : rcl_noise_uniform_matrix(k, o->strength, Cm);
    if (s == RCL_OK)
        s = rcl_noise_trusted_subset(clean->labels, n, k, o->trusted_fraction, o->paper_mode, gold_seed, trusted,
                                     n_trusted);
    if (s == RCL_OK)
        s = rcl_noise_resample_labels(Cm, k, clean->labels, trusted, n, label_seed, noisy);
    if (s == RCL_OK && C)
        memcpy(C, Cm, sizeof(double) * (size_t)k * k);
    free(Cm);
    return s;
}

/* ---------------------------------------------------------------- the hook */

struct rcl_noise_hook {
    rcl_step_hooks steps;
    rcl_device *dev;
    rcl_tensor C, probs;     /* [k,k], [cap,k] */
    rcl_ibuf flags;          /* [cap], this batch's trusted flags */
    int32_t *host_flags;     /* [cap] */
    const uint8_t *trusted;  /* per dataset index, or NULL */
    int n_dataset, cap;
};

static rcl_status hook_loss(void *ctx, rcl_device *d, const rcl_tensor *logits, cl_mem labels, const int32_t *index,
                            int n, rcl_tensor *loss, rcl_tensor *dlogits) {
    rcl_noise_hook *h = ctx;
    if (n < 1 || n > h->cap)
        return rcl_fail(RCL_ERR_INVALID_ARG, "corrected-loss hook: batch of %d, built for at most %d", n, h->cap);
    cl_mem flags = NULL;
    if (h->trusted) {
        for (int i = 0; i < n; i++) {
            if (index[i] < 0 || index[i] >= h->n_dataset)
                return rcl_fail(RCL_ERR_INVALID_ARG,
                                "corrected-loss hook: dataset index %d outside the %d trusted flags", (int)index[i],
                                h->n_dataset);
            h->host_flags[i] = h->trusted[index[i]] != 0;
        }
        /* blocking: host_flags is rewritten by the next batch */
        RCL_TRY(rcl_ibuf_write(&h->flags, h->host_flags, (size_t)n));
        flags = h->flags.buf;
    }
    rcl_tensor pv = h->probs;
    pv.shape[0] = n;
    pv.n = (size_t)n * (size_t)h->probs.shape[1];
    RCL_TRY(rcl_corrected_loss_forward(d, logits, labels, flags, &h->C, &pv, loss));
    return rcl_corrected_loss_backward(d, &pv, labels, flags, &h->C, dlogits);
}

void rcl_noise_hook_free(rcl_noise_hook *h) {
    if (!h)
        return;
    rcl_tensor_release(&h->C);
    rcl_tensor_release(&h->probs);
    rcl_ibuf_release(&h->flags);
    free(h->host_flags);
    free(h);
}

rcl_status rcl_noise_hook_create(rcl_device *d, int k, const double *C, const uint8_t *trusted, int n_dataset,
                                 int batch_cap, rcl_noise_hook **out) {
    *out = NULL;
    if (!d || !C || k < 1 || batch_cap < 1 || (trusted && n_dataset < 1))
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "corrected-loss hook: needs a device, C, k >= 1 and a batch (k=%d, batch=%d)", k, batch_cap);
    rcl_noise_hook *h = calloc(1, sizeof *h);
    float *cf = malloc(sizeof(float) * (size_t)k * k);
    if (!h || !cf) {
        free(h), free(cf);
        return rcl_fail(RCL_ERR_NO_MEMORY, "corrected-loss hook: out of memory");
    }
    h->dev = d;
    h->trusted = trusted;
    h->n_dataset = n_dataset;
    h->cap = batch_cap;
    h->steps.ctx = h;
    h->steps.loss = hook_loss;
    for (size_t i = 0; i < (size_t)k * k; i++)
        cf[i] = (float)C[i];
    rcl_status s = rcl_tensor_create(d, &h->C, "corrected-loss C", 2, k, k);
    if (s == RCL_OK)
        s = rcl_tensor_upload(&h->C, cf);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &h->probs, "corrected-loss probabilities", 2, batch_cap, k);
    if (s == RCL_OK && trusted) {
        h->host_flags = malloc(sizeof(int32_t) * (size_t)batch_cap);
        s = h->host_flags ? rcl_ibuf_create(d, &h->flags, "trusted flags", (size_t)batch_cap)
                          : rcl_fail(RCL_ERR_NO_MEMORY, "corrected-loss hook: out of memory");
    }
    free(cf);
    if (s != RCL_OK) {
        rcl_noise_hook_free(h);
        return s;
    }
    *out = h;
    return RCL_OK;
}

const rcl_step_hooks *rcl_noise_hook_steps(const rcl_noise_hook *h) { return &h->steps; }

/* ---------------------------------------------------------------- the runner */

static const char *const method_names[] = {"normal", "forward", "glc"};

int rcl_noise_method_from_name(const char *name) {
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, method_names[i]) == 0)
            return i;
    return -1;
}

const char *rcl_noise_method_name(rcl_noise_method m) {
    return m >= RCL_NOISE_NORMAL && m <= RCL_NOISE_GLC ? method_names[m] : "unknown";
}

rcl_noise_run rcl_noise_run_defaults(rcl_noise_method method) {
    rcl_noise_run r;
    memset(&r, 0, sizeof r);
    r.method = method;
    r.forward_percentile = 97;
    r.paper_mode = 1;
    return r;
}

/* Softmax rows (double) of the listed images under the model in eval mode. */
static rcl_status softmax_of(rcl_model *m, const rcl_dataset *ds, const int *idx, int count,
                             const rcl_train_config *tc, double **probs) {
    int k = rcl_model_config(m)->num_classes;
    *probs = NULL;
    float *logits = malloc(sizeof(float) * (size_t)count * k);
    double *p = malloc(sizeof(double) * (size_t)count * k);
    if (!logits || !p) {
        free(logits), free(p);
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory for %d softmax rows", ds->name, count);
    }
    rcl_status s = rcl_evaluate(m, ds, idx, count, &tc->norm, logits, NULL);
    if (s == RCL_OK)
        s = rcl_softmax_rows(logits, count, k, 1.0, p);
    free(logits);
    if (s != RCL_OK) {
        free(p);
        return s;
    }
    *probs = p;
    return RCL_OK;
}

/* The dataset indices with trusted[i] == want. */
static rcl_status split_indices(const uint8_t *trusted, int n, int want, int **idx, int *count) {
    int *out = malloc(sizeof(int) * (size_t)(n ? n : 1)), c = 0;
    if (!out)
        return rcl_fail(RCL_ERR_NO_MEMORY, "GLC: out of memory for %d indices", n);
    for (int i = 0; i < n; i++)
        if ((trusted[i] != 0) == want)
            out[c++] = i;
    *idx = out;
    *count = c;
    return RCL_OK;
}

/* GLC needs a trusted example of every class; checked before any training. */
static rcl_status check_gold_classes(const rcl_dataset *ds, const uint8_t *trusted, int k) {
    int *cnt = calloc((size_t)k, sizeof(int));
    if (!cnt)
        return rcl_fail(RCL_ERR_NO_MEMORY, "GLC: out of memory");
    for (int i = 0; i < ds->n; i++)
        if (trusted[i] && ds->labels[i] >= 0 && ds->labels[i] < k)
            cnt[ds->labels[i]]++;
    int missing = -1;
    for (int c = k - 1; c >= 0; c--)
        if (!cnt[c])
            missing = c;
    free(cnt);
    if (missing >= 0)
        return rcl_fail(RCL_ERR_INVALID_ARG, "GLC on %s: class %d has no trusted example; raise the trusted fraction",
                        ds->name, missing);
    return RCL_OK;
}

/* Phase 1 and the estimate: C_hat from the cross-entropy model. */
static rcl_status estimate(rcl_model *m, const rcl_dataset *ds, const rcl_noise_run *run, const rcl_train_config *tc1,
                           double *C_hat, rcl_train_result *res) {
    int k = rcl_model_config(m)->num_classes;
    int *idx = NULL, count = ds->n;
    double *p = NULL;
    rcl_status s = RCL_OK;
    if (run->method == RCL_NOISE_GLC) {
        RCL_TRY(split_indices(run->trusted, ds->n, 0, &idx, &count));
        if (count == 0)
            s = rcl_fail(RCL_ERR_INVALID_ARG, "GLC on %s: every example is trusted, nothing to train phase 1 on",
                         ds->name);
    }
    if (s == RCL_OK)
        s = rcl_train(m, ds, idx, count, tc1, res);
    if (s == RCL_OK && run->method == RCL_NOISE_FORWARD) {
        s = softmax_of(m, ds, NULL, ds->n, tc1, &p);
        if (s == RCL_OK)
            s = rcl_noise_forward_estimate(p, ds->n, k, run->forward_percentile, run->paper_mode, C_hat);
    } else if (s == RCL_OK) {
        free(idx);
        idx = NULL;
        int n_gold = 0;
        int *gold_labels = NULL;
        s = split_indices(run->trusted, ds->n, 1, &idx, &n_gold);
        if (s == RCL_OK)
            s = softmax_of(m, ds, idx, n_gold, tc1, &p);
        if (s == RCL_OK && !(gold_labels = malloc(sizeof(int) * (size_t)n_gold)))
            s = rcl_fail(RCL_ERR_NO_MEMORY, "GLC: out of memory");
        for (int i = 0; s == RCL_OK && i < n_gold; i++)
            gold_labels[i] = ds->labels[idx[i]];
        if (s == RCL_OK)
            s = rcl_noise_glc_estimate(p, gold_labels, n_gold, k, C_hat);
        free(gold_labels);
    }
    free(idx);
    free(p);
    return s;
}

rcl_status rcl_noise_train(rcl_model *m, const rcl_dataset *noisy_train, const rcl_noise_run *run,
                           const rcl_train_config *tc, double *C_hat, rcl_noise_result *res) {
    memset(res, 0, sizeof *res);
    if (!m || !noisy_train || !run || !tc)
        return rcl_fail(RCL_ERR_INVALID_ARG, "noise training: model, dataset, method and config are required");
    if (run->method == RCL_NOISE_NORMAL)
        return rcl_train(m, noisy_train, NULL, 0, tc, &res->result);
    const char *name = rcl_noise_method_name(run->method);
    if (run->method != RCL_NOISE_FORWARD && run->method != RCL_NOISE_GLC)
        return rcl_fail(RCL_ERR_INVALID_ARG, "noise training: unknown method %d", (int)run->method);
    if (!run->reinit)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: needs a reinit callback to restart phase 2", name);
    if (run->method == RCL_NOISE_GLC && !run->trusted)
        return rcl_fail(RCL_ERR_INVALID_ARG, "GLC: needs the trusted flags of %s", noisy_train->name);
    if (tc->hooks || tc->class_weights || tc->start.step || tc->start.epoch || tc->start.batch)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: the config must have no hooks, class weights or resume position",
                        name);
    int k = rcl_model_config(m)->num_classes;
    if (run->method == RCL_NOISE_GLC && noisy_train->labels)
        RCL_TRY(check_gold_classes(noisy_train, run->trusted, k));
    double *Ch = malloc(sizeof(double) * (size_t)k * k);
    if (!Ch)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory for C_hat", name);
    char label1[96], label2[96];
    snprintf(label1, sizeof label1, "%s phase 1", tc->label ? tc->label : name);
    snprintf(label2, sizeof label2, "%s phase 2", tc->label ? tc->label : name);
    rcl_train_config tc1 = *tc, tc2 = *tc;
    tc1.label = label1;
    tc1.checkpoint = NULL; /* phase 1's model is thrown away */
    tc2.label = label2;
    rcl_status s = estimate(m, noisy_train, run, &tc1, Ch, &res->phase1);
    if (s == RCL_OK)
        s = run->reinit(run->reinit_ctx, m);
    rcl_noise_hook *h = NULL;
    if (s == RCL_OK) {
        rcl_model_set_steps(m, 0); /* fresh momentum buffers */
        s = rcl_noise_hook_create(rcl_model_device(m), k, Ch,
                                  run->method == RCL_NOISE_GLC ? run->trusted : NULL, noisy_train->n, tc->batch, &h);
    }
    if (s == RCL_OK) {
        tc2.hooks = rcl_noise_hook_steps(h);
        s = rcl_train(m, noisy_train, NULL, 0, &tc2, &res->result);
    }
    rcl_noise_hook_free(h);
    if (s == RCL_OK && C_hat)
        memcpy(C_hat, Ch, sizeof(double) * (size_t)k * k);
    free(Ch);
    return s;
}
