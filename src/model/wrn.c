/* Wide ResNet (pre-activation), spec §1.
 * Activations are allocated once for batch_cap images; smaller batches use
 * views (same buffer, smaller leading dimension). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/model.h"
#include "robustcl/rng.h"

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

typedef struct {
    rcl_param *w, *b, *rm, *rv;
    rcl_tensor mean, invstd; /* saved by the train-mode forward */
} bn_layer;

typedef struct {
    int in_c, out_c, stride, equal;
    rcl_conv_shape conv1, conv2, shortcut;
    bn_layer bn1, bn2;
    rcl_param *w1, *w2, *ws;
    rcl_tensor a, c1, o, od, y; /* bn1-relu out, conv1 out, bn2-relu out, dropout out, block out */
} wrn_block;

struct rcl_model {
    rcl_device *dev;
    rcl_wrn_config cfg;
    int cap;
    rcl_param *params;
    int nparams, cap_params;
    rcl_conv_shape stem;
    rcl_param *stem_w, *fc_w, *fc_b;
    bn_layer bn_final;
    wrn_block *blocks;
    int nblocks;
    rcl_tensor h0, f, feat, logits, scratch, gfeat;
    rcl_tensor g[4]; /* gradient buffers of the largest activation */
    int last_n, last_train;
    rcl_tensor last_x, feat_view, logits_view;
    long steps;
    uint32_t drop_seed, drop_counter;
    uint64_t init_seed;
    int bn_split;            /* ghost batch norm sub-batches (1: plain) */
    const rcl_bn_sync *bn_sync; /* or NULL: statistics of this process's batch */
};

static rcl_tensor view(const rcl_tensor *t, int n) {
    rcl_tensor v = *t;
    v.n = t->n / (size_t)t->shape[0] * (size_t)n;
    v.shape[0] = n;
    return v;
}

rcl_status rcl_wrn_parse_arch(const char *arch, rcl_wrn_config *cfg) {
    int d, k, used = 0;
    if (sscanf(arch, "wrn-%d-%d%n", &d, &k, &used) != 2 || arch[used] != 0)
        return rcl_fail(RCL_ERR_INVALID_ARG, "architecture '%s': expected wrn-DEPTH-WIDTH, e.g. wrn-40-2", arch);
    if (d < 10 || (d - 4) % 6 != 0 || k < 1 || k > 64)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "architecture '%s': depth must be 6n+4 >= 10 and width 1..64", arch);
    cfg->depth = d;
    cfg->widen = k;
    return RCL_OK;
}

rcl_status rcl_wrn_config_make(const char *arch, int c, int h, int w, int classes, rcl_wrn_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    RCL_TRY(rcl_wrn_parse_arch(arch, cfg));
    if (c < 1 || h < 1 || w < 1 || classes < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: inputs %dx%dx%d with %d classes: every size must be positive", arch,
                        h, w, c, classes);
    cfg->in_c = c, cfg->in_h = h, cfg->in_w = w;
    cfg->num_classes = classes;
    cfg->fc_bias = 1;
    return RCL_OK;
}

static rcl_param *add_param(rcl_model *m, const char *name, int trainable, int ndim, const int *shape,
                            rcl_status *s) {
    if (*s != RCL_OK)
        return NULL;
    if (m->nparams == m->cap_params) {
        *s = rcl_fail(RCL_ERR_INVALID_ARG, "too many parameters");
        return NULL;
    }
    rcl_param *p = &m->params[m->nparams++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->trainable = trainable;
    *s = rcl_tensor_create_shape(m->dev, &p->value, name, ndim, shape);
    if (*s == RCL_OK && trainable) {
        char what[128];
        snprintf(what, sizeof what, "gradient of %s", name);
        *s = rcl_tensor_create_shape(m->dev, &p->grad, what, ndim, shape);
    }
    return p;
}

static rcl_param *add_conv(rcl_model *m, const char *name, int cout, int cin, int k, rcl_status *s) {
    int shape[4] = {cout, cin, k, k};
    return add_param(m, name, 1, 4, shape, s);
}

static void add_bn(rcl_model *m, const char *prefix, int c, bn_layer *bn, rcl_status *s) {
    char name[96];
    int shape[1] = {c};
    snprintf(name, sizeof name, "%s.weight", prefix);
    bn->w = add_param(m, name, 1, 1, shape, s);
    snprintf(name, sizeof name, "%s.bias", prefix);
    bn->b = add_param(m, name, 1, 1, shape, s);
    snprintf(name, sizeof name, "%s.running_mean", prefix);
    bn->rm = add_param(m, name, 0, 1, shape, s);
    snprintf(name, sizeof name, "%s.running_var", prefix);
    bn->rv = add_param(m, name, 0, 1, shape, s);
    if (*s == RCL_OK)
        *s = rcl_tensor_create(m->dev, &bn->mean, "batch-norm mean", 1, c);
    if (*s == RCL_OK)
        *s = rcl_tensor_create(m->dev, &bn->invstd, "batch-norm invstd", 1, c);
}

static void act(rcl_model *m, rcl_tensor *t, const char *what, int c, int h, int w, rcl_status *s) {
    if (*s == RCL_OK)
        *s = rcl_tensor_create(m->dev, t, what, 4, m->cap, c, h, w);
}

static rcl_conv_shape conv_shape(int cin, int h, int w, int cout, int k, int stride, int pad) {
    rcl_conv_shape c = {0, cin, h, w, cout, k, k, stride, pad};
    return c;
}

static rcl_status check_shape(const rcl_wrn_config *cfg, int batch_cap) {
    if (cfg->depth < 10 || (cfg->depth - 4) % 6 || cfg->widen < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "WRN-%d-%d: depth must be 6n+4 >= 10, width >= 1", cfg->depth,
                        cfg->widen);
    if (cfg->in_c < 1 || cfg->in_h < 4 || cfg->in_w < 4 || cfg->num_classes < 2 || batch_cap < 1 ||
        cfg->dropout < 0 || cfg->dropout >= 1)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "model config: input %dx%dx%d, %d classes, batch %d, dropout %g is invalid", cfg->in_c,
                        cfg->in_h, cfg->in_w, cfg->num_classes, batch_cap, cfg->dropout);
    return RCL_OK;
}

/* The host side of a model with nblocks blocks: its parameter table and blocks, empty. */
static rcl_status model_alloc(int nblocks, rcl_model **out) {
    rcl_model *m = calloc(1, sizeof *m);
    if (m) {
        m->nblocks = nblocks;
        m->cap_params = 8 + m->nblocks * 12;
        m->params = calloc((size_t)m->cap_params, sizeof *m->params);
        m->blocks = calloc((size_t)m->nblocks, sizeof *m->blocks);
    }
    if (!m || !m->params || !m->blocks) {
        if (m) {
            free(m->params);
            free(m->blocks);
        }
        free(m);
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory building the model");
    }
    *out = m;
    return RCL_OK;
}

/* Block `pre` (block<g>.layer.<i>) from in_c channels at h x w: its shapes, its parameters
 * in checkpoint order and its activations. Returns the largest activation per image. */
static size_t add_block(rcl_model *m, wrn_block *b, const char *pre, int in_c, int out_c, int stride, int h, int w,
                        rcl_status *s) {
    char name[96];
    b->in_c = in_c;
    b->out_c = out_c;
    b->stride = stride;
    b->equal = b->in_c == b->out_c && b->stride == 1;
    int ho = (h + 2 - 3) / b->stride + 1, wo = (w + 2 - 3) / b->stride + 1;
    b->conv1 = conv_shape(b->in_c, h, w, b->out_c, 3, b->stride, 1);
    b->conv2 = conv_shape(b->out_c, ho, wo, b->out_c, 3, 1, 1);
    b->shortcut = conv_shape(b->in_c, h, w, b->out_c, 1, b->stride, 0);
    snprintf(name, sizeof name, "%s.bn1", pre);
    add_bn(m, name, b->in_c, &b->bn1, s);
    snprintf(name, sizeof name, "%s.conv1.weight", pre);
    b->w1 = add_conv(m, name, b->out_c, b->in_c, 3, s);
    snprintf(name, sizeof name, "%s.bn2", pre);
    add_bn(m, name, b->out_c, &b->bn2, s);
    snprintf(name, sizeof name, "%s.conv2.weight", pre);
    b->w2 = add_conv(m, name, b->out_c, b->out_c, 3, s);
    if (!b->equal) {
        snprintf(name, sizeof name, "%s.convShortcut.weight", pre);
        b->ws = add_conv(m, name, b->out_c, b->in_c, 1, s);
    }
    act(m, &b->a, "block activations", b->in_c, h, w, s);
    act(m, &b->c1, "block activations", b->out_c, ho, wo, s);
    act(m, &b->o, "block activations", b->out_c, ho, wo, s);
    if (m->cfg.dropout > 0)
        act(m, &b->od, "block activations", b->out_c, ho, wo, s);
    act(m, &b->y, "block activations", b->out_c, ho, wo, s);
    size_t in = (size_t)b->in_c * h * w, out = (size_t)b->out_c * ho * wo;
    return in > out ? in : out;
}

/* The head (final BN, fc) on in_c features of h x w, and the batch-wide work buffers. */
static rcl_status add_head(rcl_model *m, int in_c, int h, int w, size_t max_act, rcl_status s) {
    const rcl_wrn_config *cfg = &m->cfg;
    rcl_device *d = m->dev;
    add_bn(m, "bn1", in_c, &m->bn_final, &s);
    int fcw[2] = {cfg->num_classes, in_c}, fcb[1] = {cfg->num_classes};
    m->fc_w = add_param(m, "fc.weight", 1, 2, fcw, &s);
    if (cfg->fc_bias)
        m->fc_b = add_param(m, "fc.bias", 1, 1, fcb, &s);
    act(m, &m->f, "final activations", in_c, h, w, &s);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &m->feat, "features", 2, m->cap, in_c);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &m->gfeat, "feature gradient", 2, m->cap, in_c);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &m->logits, "logits", 2, m->cap, cfg->num_classes);
    for (int i = 0; i < 4 && s == RCL_OK; i++)
        s = rcl_tensor_create(d, &m->g[i], "activation gradients", 2, m->cap, (int)max_act);
    if (s == RCL_OK)
        s = rcl_tensor_create(d, &m->scratch, "conv scratch", 2, m->cap, (int)max_act);
    return s;
}

rcl_status rcl_model_create(rcl_device *d, const rcl_wrn_config *cfg, int batch_cap, rcl_model **out) {
    *out = NULL;
    RCL_TRY(check_shape(cfg, batch_cap));
    int nper = (cfg->depth - 4) / 6;
    rcl_model *m = NULL;
    RCL_TRY(model_alloc(3 * nper, &m));
    m->dev = d;
    m->cfg = *cfg;
    m->cap = batch_cap;
    m->drop_seed = 0x5eed;
    m->bn_split = 1;
    rcl_status s = RCL_OK;
    int widths[4] = {16, 16 * cfg->widen, 32 * cfg->widen, 64 * cfg->widen};
    int h = cfg->in_h, w = cfg->in_w;
    size_t max_act = (size_t)widths[0] * h * w;

    m->stem = conv_shape(cfg->in_c, h, w, 16, 3, 1, 1);
    m->stem_w = add_conv(m, "conv1.weight", 16, cfg->in_c, 3, &s);
    act(m, &m->h0, "conv1 output", 16, h, w, &s);
    int in_c = 16;
    for (int g = 0; g < 3; g++)
        for (int i = 0; i < nper; i++) {
            wrn_block *b = &m->blocks[g * nper + i];
            char pre[64];
            snprintf(pre, sizeof pre, "block%d.layer.%d", g + 1, i);
            size_t a = add_block(m, b, pre, in_c, widths[g + 1], (i == 0 && g > 0) ? 2 : 1, h, w, &s);
            if (a > max_act)
                max_act = a;
            in_c = b->out_c;
            h = b->conv2.h;
            w = b->conv2.w;
        }
    if ((s = add_head(m, in_c, h, w, max_act, s)) != RCL_OK) {
        rcl_model_free(m);
        return s;
    }
    *out = m;
    return RCL_OK;
}

static void bn_release(bn_layer *bn) {
    rcl_tensor_release(&bn->mean);
    rcl_tensor_release(&bn->invstd);
}

void rcl_model_free(rcl_model *m) {
    if (!m)
        return;
    for (int i = 0; i < m->nparams; i++) {
        rcl_tensor_release(&m->params[i].value);
        rcl_tensor_release(&m->params[i].grad);
        rcl_tensor_release(&m->params[i].momentum);
    }
    for (int i = 0; i < m->nblocks && m->blocks; i++) {
        wrn_block *b = &m->blocks[i];
        bn_release(&b->bn1);
        bn_release(&b->bn2);
        rcl_tensor_release(&b->a);
        rcl_tensor_release(&b->c1);
        rcl_tensor_release(&b->o);
        rcl_tensor_release(&b->od);
        rcl_tensor_release(&b->y);
    }
    bn_release(&m->bn_final);
    rcl_tensor_release(&m->h0);
    rcl_tensor_release(&m->f);
    rcl_tensor_release(&m->feat);
    rcl_tensor_release(&m->gfeat);
    rcl_tensor_release(&m->logits);
    rcl_tensor_release(&m->scratch);
    for (int i = 0; i < 4; i++)
        rcl_tensor_release(&m->g[i]);
    free(m->params);
    free(m->blocks);
    free(m);
}

const rcl_wrn_config *rcl_model_config(const rcl_model *m) { return &m->cfg; }
rcl_device *rcl_model_device(const rcl_model *m) { return m->dev; }
int rcl_model_batch_cap(const rcl_model *m) { return m->cap; }
int rcl_model_param_count(const rcl_model *m) { return m->nparams; }
rcl_param *rcl_model_param(rcl_model *m, int i) { return &m->params[i]; }
long rcl_model_steps(const rcl_model *m) { return m->steps; }
uint64_t rcl_model_init_seed(const rcl_model *m) { return m->init_seed; }
void rcl_model_set_steps(rcl_model *m, long steps) { m->steps = steps; }
uint32_t rcl_model_dropout_counter(const rcl_model *m) { return m->drop_counter; }
const rcl_tensor *rcl_model_features(const rcl_model *m) { return &m->feat_view; }

void rcl_model_set_dropout_state(rcl_model *m, uint32_t seed, uint32_t counter) {
    m->drop_seed = seed;
    m->drop_counter = counter;
}

rcl_param *rcl_model_find(rcl_model *m, const char *name) {
    for (int i = 0; i < m->nparams; i++)
        if (!strcmp(m->params[i].name, name))
            return &m->params[i];
    return NULL;
}

void rcl_model_freeze_trunk(rcl_model *m) {
    for (int i = 0; i < m->nparams; i++)
        m->params[i].frozen = strncmp(m->params[i].name, "fc.", 3) != 0;
}

size_t rcl_model_num_weights(const rcl_model *m) {
    size_t n = 0;
    for (int i = 0; i < m->nparams; i++)
        if (m->params[i].trainable)
            n += m->params[i].value.n;
    return n;
}

static rcl_status upload_values(rcl_param *p, const float *v) { return rcl_tensor_upload(&p->value, v); }

static rcl_status init_uniform(rcl_param *p, rcl_rng *r, double bound, float *buf) {
    for (size_t i = 0; i < p->value.n; i++)
        buf[i] = (float)((2.0 * rcl_rng_uniform(r) - 1.0) * bound);
    return upload_values(p, buf);
}

rcl_status rcl_model_init(rcl_model *m, uint64_t seed) {
    size_t maxn = 0;
    for (int i = 0; i < m->nparams; i++)
        if (m->params[i].value.n > maxn)
            maxn = m->params[i].value.n;
    float *buf = malloc(maxn * sizeof *buf);
    if (!buf)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory initialising the model");
    rcl_rng r = rcl_rng_seed(seed);
    rcl_status s = RCL_OK;
    for (int i = 0; i < m->nparams && s == RCL_OK; i++) {
        rcl_param *p = &m->params[i];
        const char *leaf = strrchr(p->name, '.') + 1;
        if (p->value.ndim == 4) { /* conv: N(0, sqrt(2 / (kh*kw*C_out))) */
            double std = sqrt(2.0 / (p->value.shape[2] * p->value.shape[3] * p->value.shape[0]));
            for (size_t j = 0; j < p->value.n; j++)
                buf[j] = (float)(std * rcl_rng_normal(&r));
            s = upload_values(p, buf);
        } else if (p == m->fc_w) {
            s = init_uniform(p, &r, 1.0 / sqrt((double)p->value.shape[1]), buf);
        } else {
            float v = (!strcmp(leaf, "weight") || !strcmp(leaf, "running_var")) ? 1.0f : 0.0f;
            s = rcl_tensor_fill(&p->value, v);
        }
        rcl_tensor_release(&p->momentum);
    }
    free(buf);
    m->steps = 0;
    m->init_seed = seed;
    m->drop_seed = (uint32_t)(seed * 2654435761u) ^ 0x5eed;
    m->drop_counter = 0;
    return s;
}

rcl_status rcl_model_init_head(rcl_model *m, uint64_t seed) {
    size_t n = m->fc_w->value.n;
    float *buf = malloc(n * sizeof *buf);
    if (!buf)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory initialising the head");
    rcl_rng r = rcl_rng_seed(seed ^ 0x4ead);
    double bound = 1.0 / sqrt((double)m->fc_w->value.shape[1]);
    rcl_status s = init_uniform(m->fc_w, &r, bound, buf);
    if (s == RCL_OK && m->fc_b)
        s = init_uniform(m->fc_b, &r, bound, buf);
    rcl_tensor_release(&m->fc_w->momentum);
    if (m->fc_b)
        rcl_tensor_release(&m->fc_b->momentum);
    free(buf);
    return s;
}

static rcl_status bn_forward(rcl_model *m, bn_layer *bn, int train, const rcl_tensor *x, rcl_tensor *y) {
    if (train && m->bn_sync)
        return rcl_batchnorm_forward_sync(m->dev, 1, m->bn_sync, x, &bn->w->value, &bn->b->value, &bn->rm->value,
                                          &bn->rv->value, BN_MOMENTUM, BN_EPS, y, &bn->mean, &bn->invstd);
    return rcl_batchnorm_forward_split(m->dev, train ? RCL_BN_TRAIN : RCL_BN_EVAL, 1, m->bn_split, x, &bn->w->value,
                                       &bn->b->value, &bn->rm->value, &bn->rv->value, BN_MOMENTUM, BN_EPS, y,
                                       &bn->mean, &bn->invstd);
}

static rcl_status bn_resize(rcl_model *m, bn_layer *bn, int split) {
    int c = bn->w->value.shape[0];
    bn_release(bn);
    RCL_TRY(rcl_tensor_create(m->dev, &bn->mean, "batch-norm mean", 1, split * c));
    return rcl_tensor_create(m->dev, &bn->invstd, "batch-norm invstd", 1, split * c);
}

rcl_status rcl_model_set_bn(rcl_model *m, int split, const rcl_bn_sync *sync) {
    if (split < 1 || split > m->cap || (split > 1 && sync))
        return rcl_fail(RCL_ERR_INVALID_ARG, "batch norm: %d sub-batches (batches of up to %d)%s", split, m->cap,
                        split > 1 && sync ? " cannot be combined with synchronised statistics" : "");
    for (int i = 0; i < m->nblocks; i++) {
        RCL_TRY(bn_resize(m, &m->blocks[i].bn1, split));
        RCL_TRY(bn_resize(m, &m->blocks[i].bn2, split));
    }
    RCL_TRY(bn_resize(m, &m->bn_final, split));
    m->bn_split = split;
    m->bn_sync = sync;
    return RCL_OK;
}

static rcl_conv_shape with_n(rcl_conv_shape s, int n) {
    s.n = n;
    return s;
}

int rcl_model_conv_shapes(const rcl_model *m, int n, rcl_conv_shape *out, int cap) {
    int count = 0;
#define PUT(shape)                          \
    do {                                    \
        if (count < cap)                    \
            out[count] = with_n(shape, n);  \
        count++;                            \
    } while (0)
    PUT(m->stem);
    for (int i = 0; i < m->nblocks; i++) {
        const wrn_block *b = &m->blocks[i];
        PUT(b->conv1);
        PUT(b->conv2);
        if (!b->equal)
            PUT(b->shortcut);
    }
#undef PUT
    return count;
}

int rcl_model_conv_summary(rcl_model *m, char *out, size_t cap) {
    enum { MAX_LISTED = 16 };
    rcl_conv_shape shapes[256];
    int n = rcl_model_conv_shapes(m, m->cap, shapes, 256);
    size_t len = (size_t)rcl_conv_policy_string(m->dev, out, cap);
    for (int p = 0; p < RCL_CONV_PASSES; p++) {
        char listed[MAX_LISTED][RCL_CONV_CONFIG_LEN];
        int nl = 0;
        for (int i = 0; i < n && i < 256; i++) {
            char name[RCL_CONV_CONFIG_LEN];
            if (!rcl_conv_choice_known(m->dev, &shapes[i], (rcl_conv_pass)p, name, sizeof name))
                snprintf(name, sizeof name, "unmeasured");
            int k = 0;
            while (k < nl && strcmp(listed[k], name))
                k++;
            if (k < nl || nl == MAX_LISTED)
                continue;
            snprintf(listed[nl++], sizeof listed[0], "%s", name);
            len += (size_t)snprintf(out + len, cap > len ? cap - len : 0, "%s%s", nl == 1 ? "; " : ",",
                                    nl == 1 ? rcl_conv_pass_name((rcl_conv_pass)p) : "");
            len += (size_t)snprintf(out + len, cap > len ? cap - len : 0, "%s%s", nl == 1 ? " " : "", name);
        }
    }
    return (int)len;
}

rcl_status rcl_model_forward(rcl_model *m, const rcl_tensor *x, int train, const rcl_tensor **logits) {
    const rcl_wrn_config *c = &m->cfg;
    int n = x->ndim == 4 ? x->shape[0] : 0;
    if (n < 1 || n > m->cap)
        return rcl_fail(RCL_ERR_INVALID_ARG, "model input: batch of %d images, model built for 1..%d", n, m->cap);
    RCL_TRY(rcl_tensor_expect(x, "model input", 4, n, c->in_c, c->in_h, c->in_w));
    rcl_device *d = m->dev;
    m->last_n = n;
    m->last_train = train;
    m->last_x = *x;
    if (train)
        m->drop_counter++;

    rcl_conv_shape cs = with_n(m->stem, n);
    rcl_tensor h0 = view(&m->h0, n);
    RCL_TRY(rcl_conv2d_forward(d, &cs, x, &m->stem_w->value, &h0));
    rcl_tensor in = h0;
    for (int i = 0; i < m->nblocks; i++) {
        wrn_block *b = &m->blocks[i];
        rcl_tensor a = view(&b->a, n), c1 = view(&b->c1, n), o = view(&b->o, n), y = view(&b->y, n);
        rcl_tensor tmp = view(&m->scratch, n);
        tmp.ndim = 4;
        memcpy(tmp.shape, y.shape, sizeof y.shape);
        tmp.n = y.n;
        RCL_TRY(bn_forward(m, &b->bn1, train, &in, &a));
        cs = with_n(b->conv1, n);
        RCL_TRY(rcl_conv2d_forward(d, &cs, &a, &b->w1->value, &c1));
        RCL_TRY(bn_forward(m, &b->bn2, train, &c1, &o));
        rcl_tensor conv2_in = o;
        if (train && c->dropout > 0) {
            rcl_tensor od = view(&b->od, n);
            RCL_TRY(rcl_dropout_forward(d, c->dropout, m->drop_seed,
                                        m->drop_counter * (uint32_t)m->nblocks + (uint32_t)i, &o, &od));
            conv2_in = od;
        }
        cs = with_n(b->conv2, n);
        RCL_TRY(rcl_conv2d_forward(d, &cs, &conv2_in, &b->w2->value, &tmp));
        if (b->equal) {
            RCL_TRY(rcl_add(d, &in, &tmp, &y));
        } else {
            cs = with_n(b->shortcut, n);
            RCL_TRY(rcl_conv2d_forward(d, &cs, &a, &b->ws->value, &y));
            RCL_TRY(rcl_axpy(d, 1.0f, &tmp, &y));
        }
        in = y;
    }
    rcl_tensor f = view(&m->f, n);
    RCL_TRY(bn_forward(m, &m->bn_final, train, &in, &f));
    m->feat_view = view(&m->feat, n);
    RCL_TRY(rcl_avgpool_forward(d, &f, &m->feat_view));
    m->logits_view = view(&m->logits, n);
    RCL_TRY(rcl_linear_forward(d, &m->feat_view, &m->fc_w->value, m->fc_b ? &m->fc_b->value : NULL,
                               &m->logits_view));
    *logits = &m->logits_view;
    return RCL_OK;
}

/* A gradient buffer viewed with the shape of activation t (batch n). */
static rcl_tensor grad_like(const rcl_tensor *g, const rcl_tensor *t, int n) {
    rcl_tensor v = view(t, n);
    v.buf = g->buf;
    v.dev = g->dev;
    return v;
}

/* After an eval-mode forward the running statistics are constants (input gradients
 * for attacks on a trained model); the BN parameter gradients are then those of the
 * eval-mode network, like every other parameter gradient. */
static rcl_status bn_backward(rcl_model *m, bn_layer *bn, const rcl_tensor *x, const rcl_tensor *y,
                              const rcl_tensor *dy, rcl_tensor *dx) {
    if (!m->last_train)
        return rcl_batchnorm_backward_eval(m->dev, 1, x, y, dy, &bn->w->value, &bn->rm->value, &bn->rv->value,
                                           BN_EPS, dx, &bn->w->grad, &bn->b->grad);
    if (m->bn_sync)
        return rcl_batchnorm_backward_sync(m->dev, 1, m->bn_sync, x, y, dy, &bn->w->value, &bn->mean, &bn->invstd,
                                           dx, &bn->w->grad, &bn->b->grad);
    return rcl_batchnorm_backward_split(m->dev, 1, m->bn_split, x, y, dy, &bn->w->value, &bn->mean, &bn->invstd,
                                        dx, &bn->w->grad, &bn->b->grad);
}

rcl_status rcl_model_backward(rcl_model *m, const rcl_tensor *dlogits, rcl_tensor *dx) {
    int n = m->last_n;
    if (n < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "model backward needs a forward first");
    RCL_TRY(rcl_tensor_expect(dlogits, "logit gradient", 2, n, m->cfg.num_classes));
    rcl_device *d = m->dev;
    rcl_tensor gfeat = view(&m->gfeat, n);
    RCL_TRY(rcl_linear_backward(d, &m->feat_view, &m->fc_w->value, dlogits, &gfeat, &m->fc_w->grad,
                                m->fc_b ? &m->fc_b->grad : NULL));
    int gi[4] = {0, 1, 2, 3}; /* gi[0] holds the gradient flowing down */
    rcl_tensor f = view(&m->f, n);
    rcl_tensor gf = grad_like(&m->g[gi[1]], &f, n);
    RCL_TRY(rcl_avgpool_backward(d, &gfeat, &gf));
    rcl_tensor last = m->nblocks ? view(&m->blocks[m->nblocks - 1].y, n) : view(&m->h0, n);
    rcl_tensor dy = grad_like(&m->g[gi[0]], &last, n);
    RCL_TRY(bn_backward(m, &m->bn_final, &last, &f, &gf, &dy));

    for (int i = m->nblocks - 1; i >= 0; i--) {
        wrn_block *b = &m->blocks[i];
        rcl_tensor in = i ? view(&m->blocks[i - 1].y, n) : view(&m->h0, n);
        rcl_tensor a = view(&b->a, n), c1 = view(&b->c1, n), o = view(&b->o, n);
        int dropout = m->cfg.dropout > 0 && m->last_train;
        rcl_tensor conv2_in = dropout ? view(&b->od, n) : o;
        rcl_tensor t1 = grad_like(&m->g[gi[1]], &o, n);
        rcl_tensor t2 = grad_like(&m->g[gi[2]], &c1, n);
        rcl_tensor t3 = grad_like(&m->g[gi[3]], &a, n);
        rcl_conv_shape cs = with_n(b->conv2, n);
        RCL_TRY(rcl_conv2d_backward(d, &cs, &conv2_in, &b->w2->value, &dy, &t1, &b->w2->grad));
        if (dropout)
            RCL_TRY(rcl_dropout_backward(d, m->cfg.dropout, m->drop_seed,
                                         m->drop_counter * (uint32_t)m->nblocks + (uint32_t)i, &t1, &t1));
        RCL_TRY(bn_backward(m, &b->bn2, &c1, &o, &t1, &t2));
        cs = with_n(b->conv1, n);
        RCL_TRY(rcl_conv2d_backward(d, &cs, &a, &b->w1->value, &t2, &t3, &b->w1->grad));
        if (!b->equal) {
            rcl_tensor ts = grad_like(&m->g[gi[1]], &a, n);
            cs = with_n(b->shortcut, n);
            RCL_TRY(rcl_conv2d_backward(d, &cs, &a, &b->ws->value, &dy, &ts, &b->ws->grad));
            RCL_TRY(rcl_axpy(d, 1.0f, &ts, &t3));
        }
        rcl_tensor dx_block = grad_like(&m->g[gi[2]], &in, n);
        RCL_TRY(bn_backward(m, &b->bn1, &in, &a, &t3, &dx_block));
        if (b->equal)
            RCL_TRY(rcl_axpy(d, 1.0f, &dy, &dx_block));
        int old0 = gi[0];
        gi[0] = gi[2];
        gi[2] = old0;
        dy = dx_block;
    }
    rcl_conv_shape cs = with_n(m->stem, n);
    return rcl_conv2d_backward(d, &cs, &m->last_x, &m->stem_w->value, &dy, dx, &m->stem_w->grad);
}

rcl_status rcl_model_step(rcl_model *m, float lr, float momentum, float wd, int nesterov) {
    for (int i = 0; i < m->nparams; i++) {
        rcl_param *p = &m->params[i];
        if (!p->trainable || p->frozen)
            continue;
        int first = p->momentum.buf == NULL;
        if (first) {
            char what[128];
            snprintf(what, sizeof what, "momentum of %s", p->name);
            RCL_TRY(rcl_tensor_create_shape(m->dev, &p->momentum, what, p->value.ndim, p->value.shape));
        }
        RCL_TRY(rcl_sgd_step(m->dev, &p->value, &p->grad, &p->momentum, lr, momentum, wd, nesterov, first));
    }
    m->steps++;
    return RCL_OK;
}
