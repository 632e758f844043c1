/* PGD / FGSM attacks, adversarial evaluation and sweeps, and the adversarial-training
 * input hook (PROTOCOL 7); see robustcl/adversarial.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/adversarial.h"
#include "core/progress.h"

rcl_attack_config rcl_attack_defaults(void) {
    rcl_attack_config c;
    memset(&c, 0, sizeof c);
    c.kind = RCL_ATTACK_PGD;
    c.eps = 8.0 / 255.0;
    c.step = 2.0 / 255.0;
    c.steps = 20;
    c.restarts = 1;
    c.random_start = 1;
    c.mode = RCL_ATTACK_TEXTBOOK;
    c.loss = RCL_ATTACK_LOSS_CE;
    c.bn_train = -1;
    c.norm = rcl_normalization_half();
    return c;
}

const char *rcl_attack_mode_name(rcl_attack_mode mode) { return mode == RCL_ATTACK_PAPER ? "paper" : "textbook"; }

/* ---- spec parsing ---- */

/* A number or a fraction a/b, the whole of `v`. */
static int parse_number(const char *v, double *out) {
    char *end;
    errno = 0;
    double a = strtod(v, &end);
    if (end == v || errno)
        return 0;
    if (*end == '/') {
        const char *d = end + 1;
        double b = strtod(d, &end);
        if (end == d || errno || !(b > 0))
            return 0;
        a /= b;
    }
    if (*end || !isfinite(a))
        return 0;
    *out = a;
    return 1;
}

static int parse_int(const char *v, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi)
        return 0;
    *out = (int)x;
    return 1;
}

rcl_status rcl_attack_parse(const char *spec, rcl_attack_config *cfg) {
    rcl_attack_config c = rcl_attack_defaults();
    if (!spec || !*spec)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec is empty: expected pgd[:OPTIONS] or fgsm[:OPTIONS]");
    const char *colon = strchr(spec, ':');
    size_t klen = colon ? (size_t)(colon - spec) : strlen(spec);
    if (klen == 3 && !strncmp(spec, "pgd", 3))
        c.kind = RCL_ATTACK_PGD;
    else if (klen == 4 && !strncmp(spec, "fgsm", 4))
        c.kind = RCL_ATTACK_FGSM;
    else
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec '%s': unknown attack '%.*s' (pgd or fgsm)", spec, (int)klen,
                        spec);
    int step_given = 0;
    const char *p = colon ? colon + 1 : NULL;
    while (p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char opt[128];
        if (len == 0 || len >= sizeof opt)
            return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec '%s': empty or overlong option", spec);
        memcpy(opt, p, len);
        opt[len] = 0;
        char *eq = strchr(opt, '=');
        if (!eq || eq == opt || !eq[1])
            return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec '%s': option '%s' is not KEY=VALUE", spec, opt);
        *eq = 0;
        const char *k = opt, *v = eq + 1;
        int pgd_only = 0, ok = 1;
        if (!strcmp(k, "eps")) {
            ok = parse_number(v, &c.eps) && c.eps >= 0 && c.eps <= 1;
        } else if (!strcmp(k, "step")) {
            ok = parse_number(v, &c.step) && c.step >= 0 && c.step <= 1;
            step_given = pgd_only = 1;
        } else if (!strcmp(k, "steps")) {
            ok = parse_int(v, 1, 100000, &c.steps);
            pgd_only = 1;
        } else if (!strcmp(k, "restarts")) {
            ok = parse_int(v, 1, 10000, &c.restarts);
            pgd_only = 1;
        } else if (!strcmp(k, "start")) {
            ok = !strcmp(v, "random") || !strcmp(v, "none");
            c.random_start = !strcmp(v, "random");
            pgd_only = 1;
        } else if (!strcmp(k, "mode")) {
            ok = !strcmp(v, "textbook") || !strcmp(v, "paper");
            c.mode = !strcmp(v, "paper") ? RCL_ATTACK_PAPER : RCL_ATTACK_TEXTBOOK;
        } else if (!strcmp(k, "loss")) {
            ok = !strcmp(v, "ce") || !strcmp(v, "margin") || !strcmp(v, "cw");
            c.loss = !strcmp(v, "ce") ? RCL_ATTACK_LOSS_CE : RCL_ATTACK_LOSS_MARGIN;
        } else if (!strcmp(k, "seed")) {
            char *end;
            errno = 0;
            c.seed = strtoull(v, &end, 10);
            ok = *end == 0 && !errno && isdigit((unsigned char)v[0]);
        } else if (!strcmp(k, "bn")) {
            ok = !strcmp(v, "auto") || !strcmp(v, "eval") || !strcmp(v, "train");
            c.bn_train = !strcmp(v, "train") ? 1 : (!strcmp(v, "eval") ? 0 : -1);
        } else {
            return rcl_fail(RCL_ERR_INVALID_ARG,
                            "attack spec '%s': unknown option '%s' (eps, step, steps, restarts, start, mode, loss, "
                            "seed, bn)",
                            spec, k);
        }
        if (!ok)
            return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec '%s': bad value '%s' for %s", spec, v, k);
        if (pgd_only && c.kind == RCL_ATTACK_FGSM)
            return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec '%s': fgsm takes no '%s' (one step of eps, no start)",
                            spec, k);
        p = comma ? comma + 1 : NULL;
    }
    if (c.kind == RCL_ATTACK_FGSM) {
        c.step = c.eps;
        c.steps = 1;
        c.restarts = 1;
        c.random_start = 0;
    } else if (!step_given) {
        c.step = c.eps / 4;
    }
    *cfg = c;
    return RCL_OK;
}

rcl_status rcl_attack_parse_eps_list(const char *list, double *eps, int cap, int *n) {
    *n = 0;
    if (!list || !*list)
        return rcl_fail(RCL_ERR_INVALID_ARG, "eps list is empty: expected e.g. 0,1/255,2/255,8/255");
    for (const char *p = list;; p++) {
        size_t len = strcspn(p, ",");
        char item[64];
        if (len == 0 || len >= sizeof item)
            return rcl_fail(RCL_ERR_INVALID_ARG, "eps list '%s': empty or overlong item", list);
        memcpy(item, p, len);
        item[len] = 0;
        if (*n == cap)
            return rcl_fail(RCL_ERR_INVALID_ARG, "eps list '%s': more than %d values", list, cap);
        if (!parse_number(item, &eps[*n]) || eps[*n] < 0 || eps[*n] > 1)
            return rcl_fail(RCL_ERR_INVALID_ARG, "eps list '%s': '%s' is not a radius in [0,1] (a number or a/b)",
                            list, item);
        (*n)++;
        p += len;
        if (!*p)
            return RCL_OK;
    }
}

/* k/255 when the value is one, else %.9g. */
static void fmt_pixels(char *buf, size_t cap, double v) {
    double k = v * 255.0;
    if (fabs(k - round(k)) < 1e-9 && v != 0)
        snprintf(buf, cap, "%.0f/255", round(k));
    else
        snprintf(buf, cap, "%.9g", v);
}

const char *rcl_attack_describe(const rcl_attack_config *cfg, char *buf, size_t cap) {
    char eps[32], step[32], bn[16] = "";
    const char *loss = cfg->loss == RCL_ATTACK_LOSS_MARGIN ? "margin" : "ce";
    fmt_pixels(eps, sizeof eps, cfg->eps);
    fmt_pixels(step, sizeof step, cfg->step);
    if (cfg->bn_train >= 0)
        snprintf(bn, sizeof bn, ",bn=%s", cfg->bn_train ? "train" : "eval");
    if (cfg->kind == RCL_ATTACK_FGSM)
        snprintf(buf, cap, "fgsm:eps=%s,mode=%s,loss=%s,seed=%llu%s", eps, rcl_attack_mode_name(cfg->mode), loss,
                 (unsigned long long)cfg->seed, bn);
    else
        snprintf(buf, cap, "pgd:eps=%s,step=%s,steps=%d,restarts=%d,start=%s,mode=%s,loss=%s,seed=%llu%s", eps, step,
                 cfg->steps, cfg->restarts, cfg->random_start ? "random" : "none", rcl_attack_mode_name(cfg->mode),
                 loss, (unsigned long long)cfg->seed, bn);
    return buf;
}

/* ---- the WRN as a classifier ---- */

static rcl_status model_forward(void *ctx, const rcl_tensor *x, int train, const rcl_tensor **logits) {
    return rcl_model_forward(ctx, x, train, logits);
}

static rcl_status model_backward(void *ctx, const rcl_tensor *dlogits, rcl_tensor *dx) {
    return rcl_model_backward(ctx, dlogits, dx);
}

rcl_classifier rcl_model_classifier(rcl_model *m) {
    const rcl_wrn_config *c = rcl_model_config(m);
    rcl_classifier f = {m,
                        rcl_model_device(m),
                        c->in_c,
                        c->in_h,
                        c->in_w,
                        c->num_classes,
                        rcl_model_batch_cap(m),
                        model_forward,
                        model_backward};
    return f;
}

/* ---- the attack ---- */

struct rcl_attack {
    rcl_classifier f;
    rcl_attack_config cfg;
    int train, cap;
    rcl_tensor pix, centre, adv, net, grad, best, dlogits, row_loss, best_loss, maxdiff;
    cl_mem index, row_correct, best_correct, zero;
};

static rcl_tensor view(const rcl_tensor *t, int n) {
    rcl_tensor v = *t;
    v.n = t->n / (size_t)t->shape[0] * (size_t)n;
    v.shape[0] = n;
    return v;
}

void rcl_attack_free(rcl_attack *a) {
    if (!a)
        return;
    rcl_tensor *ts[] = {&a->pix,  &a->centre,  &a->adv,      &a->net,       &a->grad,
                        &a->best, &a->dlogits, &a->row_loss, &a->best_loss, &a->maxdiff};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        rcl_tensor_release(ts[i]);
    size_t ib = (size_t)a->cap * sizeof(cl_int);
    cl_mem ms[] = {a->index, a->row_correct, a->best_correct, a->zero};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        if (ms[i])
            rcl_device_free(a->f.dev, ms[i], ib);
    free(a);
}

static rcl_status check_config(const rcl_attack_config *c) {
    if (c->kind != RCL_ATTACK_PGD && c->kind != RCL_ATTACK_FGSM)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack config: unknown kind %d", (int)c->kind);
    if (!(c->eps >= 0 && c->eps <= 1) || !(c->step >= 0 && c->step <= 1))
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack config: eps %g and step %g must lie in [0,1]", c->eps, c->step);
    if (c->steps < 1 || c->restarts < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack config: steps %d and restarts %d must be >= 1", c->steps,
                        c->restarts);
    for (int i = 0; i < 3; i++)
        if (!(c->norm.std[i] > 0) || !isfinite(c->norm.mean[i]))
            return rcl_fail(RCL_ERR_INVALID_ARG, "attack config: normalisation std[%d] = %g must be positive", i,
                            (double)c->norm.std[i]);
    return RCL_OK;
}

rcl_status rcl_attack_create(const rcl_classifier *f, const rcl_attack_config *cfg, rcl_attack **out) {
    *out = NULL;
    RCL_TRY(check_config(cfg));
    if (f->batch_cap < 1 || f->num_classes < 2 || f->in_c < 1 || f->in_c > 3)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack: classifier with batch %d, %d classes, %d channels (1..3)",
                        f->batch_cap, f->num_classes, f->in_c);
    rcl_attack *a = calloc(1, sizeof *a);
    if (!a)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory creating an attack");
    a->f = *f;
    a->cfg = *cfg;
    if (cfg->kind == RCL_ATTACK_FGSM) { /* one step of eps from the clean x */
        a->cfg.step = cfg->eps;
        a->cfg.steps = 1;
        a->cfg.restarts = 1;
        a->cfg.random_start = 0;
    }
    a->train = cfg->bn_train == 1;
    a->cap = f->batch_cap;
    rcl_device *d = f->dev;
    int cap = a->cap, k = f->num_classes;
    rcl_status s = RCL_OK;
    rcl_tensor *imgs[] = {&a->pix, &a->centre, &a->adv, &a->net, &a->grad, &a->best};
    for (size_t i = 0; i < sizeof imgs / sizeof imgs[0] && s == RCL_OK; i++)
        s = rcl_tensor_create(d, imgs[i], "attack images", 4, cap, f->in_c, f->in_h, f->in_w);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &a->dlogits, "attack logit gradient", 2, cap, k);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &a->row_loss, "attack losses", 1, cap);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &a->best_loss, "attack losses", 1, cap);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &a->maxdiff, "attack perturbation sizes", 1, cap);
    cl_mem *ms[] = {&a->index, &a->row_correct, &a->best_correct, &a->zero};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0] && s == RCL_OK; i++)
        s = rcl_device_alloc(d, (size_t)cap * sizeof(cl_int), "attack per-image flags", ms[i]);
    if (s != RCL_OK) {
        rcl_attack_free(a);
        return s;
    }
    *out = a;
    return RCL_OK;
}

static rcl_status read_ints(rcl_device *d, cl_mem m, int n, cl_int *out) {
    cl_int e = clEnqueueReadBuffer(rcl_device_queue(d), m, CL_TRUE, 0, (size_t)n * sizeof(cl_int), out, 0, NULL, NULL);
    if (e != CL_SUCCESS)
        return rcl_fail(RCL_ERR_OPENCL, "reading attack statistics failed: %s", rcl_cl_error_name(e));
    return RCL_OK;
}

/* The network input for pixel image adv, its logits and loss gradient, and (grad not
 * NULL) the input gradient. */
static rcl_status evaluate_point(rcl_attack *a, const rcl_tensor *x, const rcl_tensor *pix, const rcl_tensor *adv,
                                 cl_mem labels, int n, rcl_tensor *grad) {
    rcl_device *d = a->f.dev;
    rcl_tensor net = view(&a->net, n), dl = view(&a->dlogits, n), rl = view(&a->row_loss, n);
    const rcl_tensor *logits;
    RCL_TRY(rcl_attack_to_network(d, x, pix, adv, a->cfg.norm.std, &net));
    RCL_TRY(a->f.forward(a->f.ctx, &net, a->train, &logits));
    RCL_TRY(rcl_attack_loss_grad(d, a->cfg.loss, logits, labels, &dl, &rl, a->row_correct));
    return grad ? a->f.backward(a->f.ctx, &dl, grad) : RCL_OK;
}

rcl_status rcl_attack_run(rcl_attack *a, const rcl_tensor *x, cl_mem labels, const int32_t *index, int n,
                          uint32_t counter, rcl_tensor *x_adv, rcl_attack_stats *st) {
    const rcl_classifier *f = &a->f;
    rcl_device *d = f->dev;
    const rcl_attack_config *c = &a->cfg;
    if (n < 1 || n > a->cap)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack: batch of %d images, built for 1..%d", n, a->cap);
    RCL_TRY(rcl_tensor_expect(x, "attack input", 4, n, f->in_c, f->in_h, f->in_w));
    RCL_TRY(rcl_tensor_expect(x_adv, "attack output", 4, n, f->in_c, f->in_h, f->in_w));
    if (c->random_start) {
        if (!index)
            return rcl_fail(RCL_ERR_INVALID_ARG, "attack: a random start needs the images' dataset indices");
        cl_int e = clEnqueueWriteBuffer(rcl_device_queue(d), a->index, CL_TRUE, 0, (size_t)n * sizeof(cl_int), index, 0,
                                        NULL, NULL);
        if (e != CL_SUCCESS)
            return rcl_fail(RCL_ERR_OPENCL, "uploading attack indices failed: %s", rcl_cl_error_name(e));
    }
    rcl_tensor pix = view(&a->pix, n), centre = view(&a->centre, n), adv = view(&a->adv, n);
    rcl_tensor grad = view(&a->grad, n), best = view(&a->best, n), rl = view(&a->row_loss, n);
    rcl_tensor bl = view(&a->best_loss, n), md = view(&a->maxdiff, n);
    uint32_t seed32 = (uint32_t)(c->seed ^ (c->seed >> 32));
    float eps = (float)c->eps, step = (float)c->step;
    int score = st || c->restarts > 1; /* else the last iterate is the result, unscored */
    RCL_TRY(rcl_attack_to_pixels(d, x, c->norm.mean, c->norm.std, &pix));
    for (int r = 0; r < c->restarts; r++) {
        RCL_TRY(rcl_attack_start(d, &pix, a->index, c->random_start, eps, c->mode, seed32, counter + (uint32_t)r, &adv,
                                 &centre));
        for (int i = 0; i < c->steps; i++) {
            RCL_TRY(evaluate_point(a, x, &pix, &adv, labels, n, &grad));
            if (st && r == 0 && i == 0)
                RCL_TRY(rcl_attack_row_stats(d, &grad, a->zero, &adv, &pix, &md));
            RCL_TRY(rcl_attack_step(d, &grad, &centre, step, eps, &adv));
        }
        if (score) {
            RCL_TRY(evaluate_point(a, x, &pix, &adv, labels, n, NULL));
            RCL_TRY(rcl_attack_keep_worst(d, &adv, &rl, a->row_correct, r == 0, &best, &bl, a->best_correct));
        }
    }
    const rcl_tensor *result = score ? &best : &adv;
    if (st) {
        RCL_TRY(rcl_attack_row_stats(d, NULL, NULL, result, &pix, &md));
        cl_int *flags = malloc((size_t)n * 2 * sizeof *flags);
        float *diff = malloc((size_t)n * sizeof *diff);
        rcl_status s = flags && diff ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory in an attack");
        if (s == RCL_OK)
            s = read_ints(d, a->best_correct, n, flags);
        if (s == RCL_OK)
            s = read_ints(d, a->zero, n, flags + n);
        if (s == RCL_OK)
            s = rcl_tensor_download(&md, diff);
        if (s == RCL_OK) {
            memset(st, 0, sizeof *st);
            for (int i = 0; i < n; i++) {
                st->correct += flags[i] != 0;
                st->zero_grad += flags[n + i] != 0;
                if (diff[i] > st->max_linf)
                    st->max_linf = diff[i];
            }
        }
        free(flags);
        free(diff);
        RCL_TRY(s);
    }
    return rcl_attack_to_network(d, x, &pix, result, c->norm.std, x_adv);
}

/* ---- evaluation ---- */

rcl_status rcl_adv_evaluate_classifier(const rcl_classifier *f, const rcl_dataset *ds, const int *indices, int count,
                                       const rcl_attack_config *cfg, rcl_adv_result *res) {
    memset(res, 0, sizeof *res);
    res->cfg = *cfg;
    if (ds->c != f->in_c || ds->h != f->in_h || ds->w != f->in_w)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: images are %dx%dx%d, the model takes %dx%dx%d", ds->name, ds->c,
                        ds->h, ds->w, f->in_c, f->in_h, f->in_w);
    if (!ds->labels || ds->num_classes < 1 || ds->num_classes > f->num_classes)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: an attack needs labels in [0,%d) (the dataset has %d classes)",
                        ds->name, f->num_classes, ds->num_classes);
    if (!indices)
        count = ds->n;
    rcl_device *d = f->dev;
    int cap = f->batch_cap;
    rcl_loader_options lo = rcl_loader_defaults();
    lo.batch = cap;
    lo.shuffle = 0;
    lo.augment = 0;
    lo.norm = cfg->norm;
    rcl_loader *l = NULL;
    rcl_attack *a = NULL;
    rcl_tensor x = {0};
    cl_mem labels = NULL, correct = NULL;
    rcl_status s = rcl_loader_create(ds, indices, count, &lo, &l);
    if (s == RCL_OK)
        s = rcl_attack_create(f, cfg, &a);
    if (s == RCL_OK)
        res->cfg = a->cfg; /* what runs (FGSM: one step of eps, no start) */
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &x, "attack batch", 4, cap, f->in_c, f->in_h, f->in_w);
    if (s == RCL_OK)
        s = rcl_device_alloc(d, (size_t)cap * sizeof(cl_int), "attack labels", &labels);
    if (s == RCL_OK)
        s = rcl_device_alloc(d, sizeof(cl_int), "attack correct count", &correct);
    if (s == RCL_OK)
        s = rcl_loader_start(l, 0, 0);
    char what[256];
    rcl_progress prog;
    rcl_progress_begin(&prog, rcl_attack_describe(cfg, what, sizeof what), l ? rcl_loader_batches(l) : 0, cap);
    double t0 = rcl_now();
    long batches = 0;
    cl_command_queue q = rcl_device_queue(d);
    while (s == RCL_OK) {
        const float *xs;
        const int32_t *ys, *idx;
        int n;
        if ((s = rcl_loader_next(l, &xs, &ys, &idx, &n)) != RCL_OK || n == 0)
            break;
        rcl_tensor xv = view(&x, n);
        const rcl_tensor *logits;
        cl_int got = 0;
        rcl_attack_stats st;
        if ((s = rcl_tensor_upload(&xv, xs)) != RCL_OK)
            break;
        if (clEnqueueWriteBuffer(q, labels, CL_TRUE, 0, (size_t)n * sizeof(cl_int), ys, 0, NULL, NULL) != CL_SUCCESS) {
            s = rcl_fail(RCL_ERR_OPENCL, "uploading attack labels failed");
            break;
        }
        if ((s = f->forward(f->ctx, &xv, 0, &logits)) != RCL_OK ||
            (s = rcl_count_correct(d, logits, labels, correct)) != RCL_OK)
            break;
        if ((s = read_ints(d, correct, 1, &got)) != RCL_OK ||
            (s = rcl_attack_run(a, &xv, labels, idx, n, 0, &xv, &st)) != RCL_OK)
            break;
        res->count += n;
        res->clean_correct += got;
        res->adv_correct += st.correct;
        res->zero_grad += st.zero_grad;
        if (st.max_linf > res->max_linf)
            res->max_linf = st.max_linf;
        char extra[96];
        snprintf(extra, sizeof extra, "clean %.1f%% adversarial %.1f%%", 100.0 * res->clean_correct / res->count,
                 100.0 * res->adv_correct / res->count);
        rcl_progress_update(&prog, ++batches, extra);
    }
    rcl_progress_end(&prog, "");
    res->seconds = rcl_now() - t0;
    if (res->count) {
        res->clean_accuracy = (double)res->clean_correct / res->count;
        res->adv_accuracy = (double)res->adv_correct / res->count;
    }
    if (labels)
        rcl_device_free(d, labels, (size_t)cap * sizeof(cl_int));
    if (correct)
        rcl_device_free(d, correct, sizeof(cl_int));
    rcl_tensor_release(&x);
    rcl_attack_free(a);
    rcl_loader_free(l);
    return s;
}

rcl_status rcl_adv_evaluate(rcl_model *m, const rcl_dataset *ds, const int *indices, int count,
                            const rcl_attack_config *cfg, rcl_adv_result *res) {
    rcl_classifier f = rcl_model_classifier(m);
    return rcl_adv_evaluate_classifier(&f, ds, indices, count, cfg, res);
}

rcl_status rcl_adv_sweep_classifier(const rcl_classifier *f, const rcl_dataset *ds, const int *indices, int count,
                                    const rcl_attack_config *cfg, const double *eps, int neps, rcl_adv_result *res) {
    for (int i = 0; i < neps; i++) {
        rcl_attack_config c = *cfg;
        c.eps = eps[i];
        if (cfg->eps > 0)
            c.step = cfg->step * eps[i] / cfg->eps;
        if (c.kind == RCL_ATTACK_FGSM)
            c.step = c.eps;
        RCL_TRY(rcl_adv_evaluate_classifier(f, ds, indices, count, &c, &res[i]));
    }
    return RCL_OK;
}

rcl_status rcl_adv_sweep(rcl_model *m, const rcl_dataset *ds, const int *indices, int count,
                         const rcl_attack_config *cfg, const double *eps, int neps, rcl_adv_result *res) {
    rcl_classifier f = rcl_model_classifier(m);
    return rcl_adv_sweep_classifier(&f, ds, indices, count, cfg, eps, neps, res);
}

/* ---- adversarial training ---- */

typedef struct {
    rcl_model *m;
    rcl_attack *a;
    int restarts;
} adv_train_ctx;

static rcl_status adv_train_input(void *ctx, rcl_model *m, rcl_tensor *x, cl_mem labels, const int32_t *index, int n) {
    adv_train_ctx *c = ctx;
    if (m != c->m)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "adversarial training hook: called with another model than it was made for");
    uint32_t counter = (uint32_t)rcl_model_steps(m) * (uint32_t)c->restarts;
    return rcl_attack_run(c->a, x, labels, index, n, counter, x, NULL);
}

rcl_status rcl_adv_train_hooks(const rcl_attack_config *cfg, rcl_model *m, rcl_step_hooks *out) {
    memset(out, 0, sizeof *out);
    rcl_attack_config c = *cfg;
    if (c.bn_train < 0)
        c.bn_train = 1; /* PROTOCOL 7: the attack sees batch statistics during training */
    adv_train_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for adversarial training");
    ctx->m = m;
    ctx->restarts = c.kind == RCL_ATTACK_FGSM ? 1 : c.restarts;
    rcl_classifier f = rcl_model_classifier(m);
    rcl_status s = rcl_attack_create(&f, &c, &ctx->a);
    if (s != RCL_OK) {
        free(ctx);
        return s;
    }
    out->ctx = ctx;
    out->input = adv_train_input;
    return RCL_OK;
}

void rcl_adv_train_hooks_free(rcl_step_hooks *hooks) {
    adv_train_ctx *c = hooks ? hooks->ctx : NULL;
    if (c) {
        rcl_attack_free(c->a);
        free(c);
    }
    if (hooks)
        memset(hooks, 0, sizeof *hooks);
}
