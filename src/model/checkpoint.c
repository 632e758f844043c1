#include "robustcl/checkpoint.h"
#include <stdarg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/gemm.h"
#include "robustcl/version.h"
#include "robustcl/safetensors.h"

#define FORMAT "robustcl-checkpoint-1"

void rcl_checkpoint_info_fill(rcl_checkpoint_info *info, rcl_model *m, const rcl_dataset *ds, uint64_t seed,
                              const rcl_train_state *st, int total_epochs, double lr) {
    (void)m;
    memset(info, 0, sizeof *info);
    if (st)
        info->state = *st;
    info->total_epochs = total_epochs;
    info->lr = lr;
    info->seed = seed;
    info->norm = rcl_normalization_half();
    if (ds) {
        snprintf(info->dataset, sizeof info->dataset, "%s", ds->name);
        snprintf(info->dataset_sha256, sizeof info->dataset_sha256, "%s", ds->sha256);
    }
}

static rcl_status meta(rcl_st_writer *w, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static rcl_status meta(rcl_st_writer *w, const char *key, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return rcl_st_writer_set_metadata(w, key, buf);
}

static rcl_status add_tensor(rcl_st_writer *w, const char *name, const rcl_tensor *t, float *host) {
    int64_t shape[RCL_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++)
        shape[i] = t->shape[i];
    RCL_TRY(rcl_tensor_download(t, host));
    return rcl_st_writer_add(w, name, RCL_DT_F32, t->ndim, shape, host);
}

static rcl_status write_all(rcl_model *m, rcl_st_writer *w, const rcl_checkpoint_info *info, int with_opt) {
    const rcl_wrn_config *c = rcl_model_config(m);
    const rcl_device_info *di = rcl_device_get_info(rcl_model_device(m));
    size_t maxn = 0;
    for (int i = 0; i < rcl_model_param_count(m); i++)
        if (rcl_model_param(m, i)->value.n > maxn)
            maxn = rcl_model_param(m, i)->value.n;
    float *host = malloc(maxn * sizeof *host);
    if (!host)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory saving a checkpoint");
    rcl_status s = RCL_OK;
    int64_t tracked = rcl_model_steps(m);
    for (int i = 0; i < rcl_model_param_count(m) && s == RCL_OK; i++) {
        rcl_param *p = rcl_model_param(m, i);
        s = add_tensor(w, p->name, &p->value, host);
        size_t len = strlen(p->name);
        if (s == RCL_OK && len > 12 && !strcmp(p->name + len - 12, ".running_var")) {
            char name[128];
            snprintf(name, sizeof name, "%.*s.num_batches_tracked", (int)(len - 12), p->name);
            s = rcl_st_writer_add(w, name, RCL_DT_I64, 0, NULL, &tracked);
        }
        if (s == RCL_OK && with_opt && p->momentum.buf) {
            char name[128];
            snprintf(name, sizeof name, "optimizer.momentum.%s", p->name);
            s = add_tensor(w, name, &p->momentum, host);
        }
    }
    free(host);
    if (s != RCL_OK)
        return s;
    RCL_TRY(meta(w, "format", FORMAT));
    RCL_TRY(meta(w, "arch", "wrn-%d-%d", c->depth, c->widen));
    RCL_TRY(meta(w, "num_classes", "%d", c->num_classes));
    RCL_TRY(meta(w, "input_shape", "%dx%dx%d", c->in_c, c->in_h, c->in_w));
    RCL_TRY(meta(w, "dropout", "%.9g", c->dropout));
    RCL_TRY(meta(w, "fc_bias", "%d", c->fc_bias));
    const rcl_normalization *n = &info->norm;
    RCL_TRY(meta(w, "normalisation", "mean=%.9g,%.9g,%.9g std=%.9g,%.9g,%.9g", n->mean[0], n->mean[1], n->mean[2],
                 n->std[0], n->std[1], n->std[2]));
    RCL_TRY(meta(w, "dataset", "%s", info->dataset));
    RCL_TRY(meta(w, "dataset_sha256", "%s", info->dataset_sha256));
    RCL_TRY(meta(w, "epoch", "%d", info->state.epoch));
    RCL_TRY(meta(w, "batch", "%d", info->state.batch));
    RCL_TRY(meta(w, "step", "%ld", info->state.step));
    if (info->global_batch > 0)
        RCL_TRY(meta(w, "global_batch", "%d", info->global_batch));
    RCL_TRY(meta(w, "total_epochs", "%d", info->total_epochs));
    RCL_TRY(meta(w, "lr", "%.17g", info->lr));
    RCL_TRY(meta(w, "seed", "%llu", (unsigned long long)info->seed));
    RCL_TRY(meta(w, "model_steps", "%ld", rcl_model_steps(m)));
    RCL_TRY(meta(w, "dropout_counter", "%u", rcl_model_dropout_counter(m)));
    RCL_TRY(meta(w, "robustcl_version", "%s", rcl_version()));
    RCL_TRY(meta(w, "device", "%s", di->name));
    RCL_TRY(meta(w, "driver", "%s (%s)", di->driver_version, di->platform_version));
    RCL_TRY(meta(w, "gemm", "CLBlast %s %s", rcl_gemm_params_source(rcl_model_device(m)),
                 rcl_gemm_params_string(rcl_model_device(m))));
    char conv[2048];
    rcl_model_conv_summary(m, conv, sizeof conv);
    RCL_TRY(meta(w, "conv_algorithms", "%s", conv));
    return meta(w, "optimizer_state", "%s", with_opt ? "yes" : "no");
}

rcl_status rcl_checkpoint_save(rcl_model *m, const char *path, const rcl_checkpoint_info *info, int with_optimizer) {
    rcl_st_writer *w;
    RCL_TRY(rcl_st_writer_new(&w));
    rcl_status s = write_all(m, w, info, with_optimizer);
    if (s == RCL_OK)
        s = rcl_st_writer_commit(w, path);
    rcl_st_writer_free(w);
    return s;
}

static int meta_int(const rcl_st_file *f, const char *key, int dflt) {
    const char *v = rcl_st_metadata(f, key);
    return v ? atoi(v) : dflt;
}

static rcl_status config_of(const rcl_st_file *f, const char *path, rcl_wrn_config *cfg) {
    const char *fmt = rcl_st_metadata(f, "format"), *arch = rcl_st_metadata(f, "arch"),
               *shape = rcl_st_metadata(f, "input_shape");
    memset(cfg, 0, sizeof *cfg);
    if (!arch || !shape)
        return rcl_fail(RCL_ERR_FORMAT, "%s: not a robustcl checkpoint (no arch/input_shape metadata%s)", path,
                        fmt ? "" : "; import PyTorch files with `robustcl import`");
    if (rcl_wrn_parse_arch(arch, cfg) != RCL_OK)
        return rcl_fail(RCL_ERR_FORMAT, "%s: unknown architecture '%s'", path, arch);
    if (sscanf(shape, "%dx%dx%d", &cfg->in_c, &cfg->in_h, &cfg->in_w) != 3)
        return rcl_fail(RCL_ERR_FORMAT, "%s: bad input_shape '%s'", path, shape);
    cfg->num_classes = meta_int(f, "num_classes", 0);
    const char *dp = rcl_st_metadata(f, "dropout");
    cfg->dropout = dp ? (float)atof(dp) : 0.0f;
    cfg->fc_bias = meta_int(f, "fc_bias", 1);
    return RCL_OK;
}

rcl_status rcl_checkpoint_read_config(const char *path, rcl_wrn_config *cfg) {
    rcl_st_file *f;
    RCL_TRY(rcl_st_open(path, &f));
    rcl_status s = config_of(f, path, cfg);
    rcl_st_close(f);
    return s;
}

static rcl_status load_into(const rcl_st_file *f, const char *name, rcl_tensor *t) {
    int64_t shape[RCL_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++)
        shape[i] = t->shape[i];
    const rcl_st_tensor *st;
    RCL_TRY(rcl_st_get(f, name, RCL_DT_F32, t->ndim, shape, &st));
    float *tmp = malloc(t->n * sizeof *tmp);
    if (!tmp)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory loading %s", name);
    memcpy(tmp, st->data, t->n * sizeof *tmp); /* data may be unaligned */
    rcl_status s = rcl_tensor_upload(t, tmp);
    free(tmp);
    return s;
}

rcl_status rcl_checkpoint_read_global_batch(const char *path, int *global_batch) {
    rcl_st_file *f;
    RCL_TRY(rcl_st_open(path, &f));
    *global_batch = meta_int(f, "global_batch", 0);
    rcl_st_close(f);
    return RCL_OK;
}

rcl_status rcl_checkpoint_read_normalization(const char *path, rcl_normalization *norm) {
    rcl_st_file *f;
    RCL_TRY(rcl_st_open(path, &f));
    const char *v = rcl_st_metadata(f, "normalisation");
    rcl_normalization n = rcl_normalization_half();
    float m, s;
    rcl_status st = RCL_OK;
    if (v && sscanf(v, "mean=%f,%f,%f std=%f,%f,%f", &n.mean[0], &n.mean[1], &n.mean[2], &n.std[0], &n.std[1],
                    &n.std[2]) != 6) {
        if (sscanf(v, "mean=%f std=%f", &m, &s) == 2) /* older files: one value for every channel */
            for (int c = 0; c < 3; c++)
                n.mean[c] = m, n.std[c] = s;
        else
            st = rcl_fail(RCL_ERR_FORMAT, "%s: unreadable normalisation metadata '%s'", path, v);
    }
    for (int c = 0; st == RCL_OK && c < 3; c++)
        if (!(n.std[c] > 0))
            st = rcl_fail(RCL_ERR_FORMAT, "%s: normalisation metadata '%s' has a std <= 0", path, v);
    rcl_st_close(f);
    if (st == RCL_OK)
        *norm = n;
    return st;
}

static int is_head(const char *name) { return !strncmp(name, "fc.", 3); }

rcl_status rcl_checkpoint_load(rcl_model *m, const char *path, rcl_checkpoint_mode mode, rcl_train_state *state) {
    rcl_st_file *f;
    RCL_TRY(rcl_st_open(path, &f));
    rcl_wrn_config fc;
    const rcl_wrn_config *mc = rcl_model_config(m);
    rcl_status s = config_of(f, path, &fc);
    if (s == RCL_OK && (fc.depth != mc->depth || fc.widen != mc->widen))
        s = rcl_fail(RCL_ERR_INVALID_ARG, "%s: holds a WRN-%d-%d, the model is WRN-%d-%d", path, fc.depth, fc.widen,
                     mc->depth, mc->widen);
    else if (s == RCL_OK && fc.in_c != mc->in_c)
        s = rcl_fail(RCL_ERR_INVALID_ARG, "%s: trained on %d-channel inputs, the data has %d channels", path, fc.in_c,
                     mc->in_c);
    else if (s == RCL_OK && (mode == RCL_CKPT_EVAL || mode == RCL_CKPT_RESUME) && (fc.in_h != mc->in_h || fc.in_w != mc->in_w))
        s = rcl_fail(RCL_ERR_INVALID_ARG, "%s: trained on %dx%d inputs, the data is %dx%d", path, fc.in_h, fc.in_w,
                     mc->in_h, mc->in_w);
    else if (s == RCL_OK && (mode == RCL_CKPT_EVAL || mode == RCL_CKPT_RESUME) && fc.num_classes != mc->num_classes)
        s = rcl_fail(RCL_ERR_INVALID_ARG, "%s: has %d classes, the data has %d", path, fc.num_classes,
                     mc->num_classes);
    int head_matches = s == RCL_OK && fc.num_classes == mc->num_classes && fc.fc_bias == mc->fc_bias;
    int new_head = mode == RCL_CKPT_TRUNK || (mode == RCL_CKPT_FINETUNE && !head_matches);
    for (int i = 0; i < rcl_model_param_count(m) && s == RCL_OK; i++) {
        rcl_param *p = rcl_model_param(m, i);
        if (new_head && is_head(p->name))
            continue;
        s = load_into(f, p->name, &p->value);
        rcl_tensor_release(&p->momentum);
        if (s == RCL_OK && mode == RCL_CKPT_RESUME && p->trainable) {
            char name[128];
            snprintf(name, sizeof name, "optimizer.momentum.%s", p->name);
            if (rcl_st_find(f, name)) {
                char what[128];
                snprintf(what, sizeof what, "momentum of %s", p->name);
                s = rcl_tensor_create_shape(rcl_model_device(m), &p->momentum, what, p->value.ndim, p->value.shape);
                if (s == RCL_OK)
                    s = load_into(f, name, &p->momentum);
            }
        }
    }
    if (s == RCL_OK && new_head) {
        s = rcl_model_init_head(m, rcl_model_init_seed(m));
    }
    if (s == RCL_OK && mode == RCL_CKPT_RESUME) {
        if (!rcl_st_metadata(f, "optimizer_state") || strcmp(rcl_st_metadata(f, "optimizer_state"), "yes"))
            s = rcl_fail(RCL_ERR_FORMAT, "%s: has no optimizer state to resume from", path);
        else {
            const char *dc = rcl_st_metadata(f, "dropout_counter"), *ms = rcl_st_metadata(f, "model_steps");
            const char *seed = rcl_st_metadata(f, "seed");
            uint64_t sd = seed ? strtoull(seed, NULL, 10) : 0;
            rcl_model_set_dropout_state(m, (uint32_t)(sd * 2654435761u) ^ 0x5eed, dc ? (uint32_t)strtoul(dc, NULL, 10) : 0);
            rcl_model_set_steps(m, ms ? strtol(ms, NULL, 10) : 0);
            if (state) {
                state->epoch = meta_int(f, "epoch", 0);
                state->batch = meta_int(f, "batch", 0);
                const char *st = rcl_st_metadata(f, "step");
                state->step = st ? strtol(st, NULL, 10) : 0;
            }
        }
    } else if (s == RCL_OK && (mode == RCL_CKPT_FINETUNE || mode == RCL_CKPT_TRUNK)) {
        rcl_model_set_steps(m, 0);
    }
    rcl_st_close(f);
    return s;
}
