/* Which kernel configuration runs each convolution pass (docs/convolution.md).
 *
 * A pass of a shape runs, in this order of precedence, with: the configuration the policy
 * forces; the one tuned or measured for the shape on this device (the cache file, batch in
 * the same power-of-two bucket); the one robustcl's database holds for the device and shape
 * (tuned at some batch);
 * else, under the default policy "auto", the fastest of the candidates timed on the call's
 * own tensors (a warm-up run, which also builds its kernel, then the best of MEASURE_RUNS),
 * which is stored in the cache file so later processes on the same device and driver reuse
 * it and stay bit-reproducible. The candidates are gemm and, per family, the configurations
 * tuned or in the database for the nearest shapes of the same geometry and the family's
 * start values derived from the device. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conv2d_database.h"
#include "core/fileio.h"
#include "hash.h"
#include "kernel_sources.h"

#define EXT_SLOT 0 /* rcl_device_ext slot of the choices */
#define MEASURE_RUNS 2
#define PER_FAMILY 4 /* stored configurations a family contributes to a pass's candidates */

typedef struct conv_state {
    conv_config forced[RCL_CONV_PASSES]; /* family NULL: auto */
    int forced_values[RCL_CONV_PASSES];  /* 1: the values given; 0: the family's best known */
    conv_row *rows;                      /* tuned and measured on this device */
    rcl_conv_choice *pub;                /* their public view, for rcl_conv_choices */
    int n, cap;
    conv_db_entry db;
    int has_db;
    char path[4200]; /* cache file, "" without a cache */
    char source[512];
} conv_state;


static const conv_family *gemm_of(rcl_conv_pass p) {
    return p == RCL_CONV_FWD ? &rcl_conv_gemm_fwd_family : p == RCL_CONV_DX ? &rcl_conv_gemm_dx_family : &rcl_conv_gemm_dw_family;
}

/* ---- the cache file: one row per choice ---- */

static conv_row *add_row(conv_state *st) {
    if (st->n == st->cap) {
        int cap = st->cap ? 2 * st->cap : 32;
        conv_row *p = realloc(st->rows, (size_t)cap * sizeof *p);
        if (!p)
            return NULL;
        st->rows = p;
        rcl_conv_choice *q = realloc(st->pub, (size_t)cap * sizeof *q);
        if (!q)
            return NULL;
        st->pub = q;
        st->cap = cap;
    }
    return &st->rows[st->n++];
}

static void load_file(conv_state *st) {
    unsigned char *data;
    size_t size;
    if (!st->path[0] || rcl_file_read(st->path, &data, &size) != RCL_OK)
        return;
    char *save = NULL;
    conv_row r;
    for (char *line = strtok_r((char *)data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        conv_row *it;
        if (line[0] != '#' && conv_row_parse(line, &r) && (it = add_row(st)))
            *it = r;
    }
    free(data);
}

/* Rewrites the whole file; a cache that cannot be written only costs a re-measurement. */
static void save_file(const rcl_device *d, const conv_state *st) {
    if (!st->path[0])
        return;
    size_t cap = 512 + (size_t)st->n * 256, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return;
    const rcl_device_info *inf = rcl_device_get_info(d);
    len += (size_t)snprintf(buf, cap,
                            "# robustcl convolution kernels for '%s' (driver %s): pass, batch, c_in h w "
                            "c_out kh kw stride pad, the configuration, its ms, tuned or measured\n",
                            inf->name, inf->driver_version);
    for (int i = 0; i < st->n; i++)
        conv_row_format(&st->rows[i], buf, cap, &len);
    char dir[4096];
    if (len < cap && rcl_cache_dir(dir, sizeof dir) && rcl_mkdirs(dir) == RCL_OK)
        rcl_file_write_atomic(st->path, buf, len);
    free(buf);
}

static void state_free(void *p) {
    conv_state *st = p;
    free(st->rows);
    free(st->pub);
    conv_db_free(&st->db);
    free(st);
}

/* Where the parameters come from, in words (rcl_conv_params_source). */
static void describe_source(const rcl_device *d, conv_state *st) {
    int tuned = 0, n = 0;
    for (int i = 0; i < st->n; i++)
        tuned += strcmp(st->rows[i].pub.source, "tuned") == 0;
    size_t cap = sizeof st->source;
    if (tuned)
        n += snprintf(st->source, cap, "tuned on this device (%d shape passes, %s); ", tuned, st->path);
    if (st->has_db)
        n += snprintf(st->source + n, cap - (size_t)n, "robustcl's database: device '%s' platform '%s' "
                      "driver '%s' (%d shape passes)", st->db.device, st->db.platform, st->db.driver, st->db.n);
    else {
        const rcl_device_info *inf = rcl_device_get_info(d);
        n += snprintf(st->source + n, cap - (size_t)n,
                      "no database entry; start values derived from the device: %d lanes (native "
                      "float vector width %u), %d vector registers, %s kernels",
                      conv_start_lanes(d), inf->vec_native, conv_vector_registers(d),
                      rcl_device_gpu_kernels(d) ? "GPU" : "CPU");
    }
    if (!tuned)
        snprintf(st->source + n, cap - (size_t)n, "; not tuned here (robustcl tune)");
}

static rcl_status parse_policy(const char *spec, conv_config forced[RCL_CONV_PASSES], int given[RCL_CONV_PASSES]);

static rcl_status get_state(rcl_device *d, conv_state **out) {
    conv_state *st = rcl_device_ext(d, EXT_SLOT);
    if (st) {
        *out = st;
        return RCL_OK;
    }
    st = calloc(1, sizeof *st);
    if (!st)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for the convolution choices");
    const char *policy = rcl_device_get_options(d)->conv_policy;
    rcl_status s = parse_policy(policy && *policy ? policy : "auto", st->forced, st->forced_values);
    if (s != RCL_OK) {
        free(st);
        return rcl_fail(s, "convolution policy: %s", rcl_last_error());
    }
    char dir[4096];
    if (rcl_cache_dir(dir, sizeof dir)) {
        const rcl_device_info *inf = rcl_device_get_info(d);
        uint64_t key = rcl_fnv1a(RCL_FNV_INIT, "robustcl-conv-v3", 16);
        key = rcl_fnv1a(key, inf->name, strlen(inf->name) + 1);
        key = rcl_fnv1a(key, inf->driver_version, strlen(inf->driver_version) + 1);
        key = rcl_fnv1a(key, inf->platform_version, strlen(inf->platform_version) + 1);
        int gpu = rcl_device_gpu_kernels(d); /* the kernel class measured */
        key = rcl_fnv1a(key, &gpu, sizeof gpu);
        snprintf(st->path, sizeof st->path, "%s/conv-tuned-%016llx.txt", dir, (unsigned long long)key);
        load_file(st);
    }
    st->has_db = conv_db_find(d, rcl_kernel_database, &st->db);
    describe_source(d, st);
    rcl_device_set_ext(d, EXT_SLOT, st, state_free);
    *out = st;
    return RCL_OK;
}

const char *rcl_conv_params_source(rcl_device *d) {
    conv_state *st;
    return get_state(d, &st) == RCL_OK ? st->source : "?";
}

/* ---- policy ---- */

static rcl_status bad_policy(const char *spec, const char *item, size_t len) {
    return rcl_fail(RCL_ERR_INVALID_ARG,
                    "convolution policy '%s': unknown '%.*s' (use auto, a family for every pass "
                    "(gemm, direct, chan), or per pass fwd=CONFIG,dx=CONFIG,dw=CONFIG with CONFIG a "
                    "family and optionally its values, e.g. chan:VW=16:R=2:X=8; `robustcl tune "
                    "--help` lists every family's parameters)",
                    spec, (int)len, item);
}

static rcl_status parse_policy(const char *spec, conv_config forced[RCL_CONV_PASSES], int given[RCL_CONV_PASSES]) {
    memset(forced, 0, RCL_CONV_PASSES * sizeof *forced);
    memset(given, 0, RCL_CONV_PASSES * sizeof *given);
    if (strcmp(spec, "auto") == 0)
        return RCL_OK;
    size_t head = strcspn(spec, "=:");
    int per_pass = spec[head] == '=' && ((head == 3 && (!strncmp(spec, "fwd", 3))) ||
                                         (head == 2 && (!strncmp(spec, "dx", 2) || !strncmp(spec, "dw", 2))));
    if (!per_pass) { /* one config for every pass */
        if (strchr(spec, ','))
            return bad_policy(spec, spec, strlen(spec));
        for (int p = 0; p < RCL_CONV_PASSES; p++)
            RCL_TRY(conv_config_parse(spec, strlen(spec), (rcl_conv_pass)p, &forced[p], &given[p]));
        return RCL_OK;
    }
    for (const char *item = spec; *item;) {
        size_t len = strcspn(item, ",");
        const char *eq = memchr(item, '=', len);
        int p = -1;
        for (int i = 0; eq && i < RCL_CONV_PASSES; i++)
            if ((size_t)(eq - item) == strlen(rcl_conv_pass_name((rcl_conv_pass)i)) && strncmp(item, rcl_conv_pass_name((rcl_conv_pass)i), (size_t)(eq - item)) == 0)
                p = i;
        if (p < 0)
            return bad_policy(spec, item, len);
        size_t vlen = len - (size_t)(eq + 1 - item);
        if (vlen == 4 && strncmp(eq + 1, "auto", 4) == 0)
            memset(&forced[p], 0, sizeof forced[p]);
        else
            RCL_TRY(conv_config_parse(eq + 1, vlen, (rcl_conv_pass)p, &forced[p], &given[p]));
        item += len + (item[len] == ',');
    }
    return RCL_OK;
}

rcl_status rcl_conv_policy_check(const char *spec) {
    conv_config forced[RCL_CONV_PASSES];
    int given[RCL_CONV_PASSES];
    return parse_policy(spec && *spec ? spec : "auto", forced, given);
}

rcl_status rcl_conv_set_policy(rcl_device *d, const char *spec) {
    conv_state *st;
    RCL_TRY(get_state(d, &st));
    conv_config forced[RCL_CONV_PASSES];
    int given[RCL_CONV_PASSES];
    RCL_TRY(parse_policy(spec && *spec ? spec : "auto", forced, given));
    memcpy(st->forced, forced, sizeof forced);
    memcpy(st->forced_values, given, sizeof given);
    return RCL_OK;
}

int rcl_conv_policy_string(rcl_device *d, char *out, size_t cap) {
    conv_state *st;
    if (get_state(d, &st) != RCL_OK)
        return snprintf(out, cap, "?");
    int n = 0;
    for (int p = 0; p < RCL_CONV_PASSES; p++) {
        char cfg[CONV_CONFIG_LEN] = "auto";
        if (st->forced[p].family && st->forced_values[p])
            conv_config_format(&st->forced[p], cfg, sizeof cfg);
        else if (st->forced[p].family)
            snprintf(cfg, sizeof cfg, "%s", st->forced[p].family->name);
        n += snprintf(out + n, cap > (size_t)n ? cap - (size_t)n : 0, "%s%s=%s", p ? "," : "", rcl_conv_pass_name((rcl_conv_pass)p), cfg);
    }
    return n;
}

/* ---- the choice of a pass ---- */

/* The stored row for pass p of s, NULL when none: the cache file's (with_batch: only one
 * measured in the same batch bucket), else the database's for any batch (an entry tuned at one
 * batch serves the others: a known device then starts without measuring). */
static conv_row *stored(const rcl_device *d, conv_state *st, const rcl_conv_shape *s,
                        rcl_conv_pass p, const conv_family *family, int with_batch) {
    for (int i = 0; i < st->n; i++)
        if (conv_row_matches(&st->rows[i], p, s, with_batch) &&
            (!family || st->rows[i].cfg.family == family) && conv_config_ok(d, &st->rows[i].cfg, s))
            return &st->rows[i];
    for (int i = 0; i < st->db.n; i++)
        if (conv_row_matches(&st->db.rows[i], p, s, 0) &&
            (!family || st->db.rows[i].cfg.family == family) && conv_config_ok(d, &st->db.rows[i].cfg, s))
            return &st->db.rows[i];
    return NULL;
}

/* What pass p of s runs without measuring: *row, when a stored row (its build cached there),
 * else *cfg; returns 0 when auto has to measure. */
static int known_choice(const rcl_device *d, conv_state *st, const rcl_conv_shape *s, rcl_conv_pass p,
                        conv_config *cfg, conv_row **row) {
    *row = NULL;
    const conv_config *f = &st->forced[p];
    if (f->family) {
        if (st->forced_values[p]) {
            *cfg = *f;
        } else if ((*row = stored(d, st, s, p, f->family, 0))) {
            *cfg = (*row)->cfg;
        } else {
            conv_config_start(d, f->family, s, cfg);
        }
        if (!conv_config_ok(d, cfg, s)) { /* a forced family runs as gemm where it cannot */
            *row = NULL;
            conv_config_start(d, gemm_of(p), s, cfg);
        }
        return 1;
    }
    if ((*row = stored(d, st, s, p, NULL, 1))) {
        *cfg = (*row)->cfg;
        return 1;
    }
    return 0;
}

/* Appends c to list (n, cap) unless it is there or does not run s. */
static void add_candidate(const rcl_device *d, const rcl_conv_shape *s, const conv_config *c,
                          conv_config *list, int *n, int cap) {
    if (*n >= cap || !conv_config_ok(d, c, s))
        return;
    for (int i = 0; i < *n; i++)
        if (conv_config_same(&list[i], c))
            return;
    list[(*n)++] = *c;
}

/* The up to PER_FAMILY nearest stored rows of family f for pass p of s, nearest first. */
static void nearest_rows(const rcl_device *d, conv_state *st, const conv_family *f,
                         const rcl_conv_shape *s, rcl_conv_pass p, conv_config *list, int *n, int cap) {
    int start = *n;
    for (int dist = 0; dist <= 16 && *n - start < PER_FAMILY; dist++) {
        for (int i = 0; i < st->n + st->db.n && *n - start < PER_FAMILY; i++) {
            const conv_row *r = i < st->n ? &st->rows[i] : &st->db.rows[i - st->n];
            if (r->cfg.family == f && conv_row_distance(r, p, s) == dist)
                add_candidate(d, s, &r->cfg, list, n, cap);
        }
    }
}

static int candidates(rcl_device *d, conv_state *st, const rcl_conv_shape *s, rcl_conv_pass p,
                      conv_config *list, int cap) {
    int n = 0;
    for (int i = 0; i < rcl_conv_family_table_size; i++) {
        const conv_family *f = rcl_conv_family_table[i];
        if (f->pass != p || !conv_geometry_ok(f, s))
            continue;
        nearest_rows(d, st, f, s, p, list, &n, cap);
        conv_config c;
        conv_config_start(d, f, s, &c);
        add_candidate(d, s, &c, list, &n, cap);
    }
    return n;
}

int rcl_conv_candidate_configs(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                               conv_config *list, int cap) {
    conv_state *st;
    return get_state(d, &st) == RCL_OK ? candidates(d, st, s, p, list, cap) : 0;
}

int rcl_conv_candidates(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                        char (*out)[RCL_CONV_CONFIG_LEN], int cap) {
    conv_config list[32];
    int n = rcl_conv_candidate_configs(d, s, p, list, cap < 32 ? cap : 32);
    for (int i = 0; i < n; i++)
        conv_config_format(&list[i], out[i], RCL_CONV_CONFIG_LEN);
    return n;
}

/* ---- measurement ---- */

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

/* A candidate that fails to build or run times -1 and its error is dropped: the other
 * candidates still run. */
rcl_status rcl_conv_time_config(rcl_device *d, const conv_config *c, const rcl_conv_shape *s,
                                const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out,
                                int runs, double give_up_ms, double *ms) {
    *ms = -1;
    if (!conv_config_ok(d, c, s))
        return RCL_OK;
    RCL_TRY(rcl_device_finish(d));
    if (conv_config_run(d, c, s, a, b, out) != RCL_OK)
        return rcl_device_finish(d); /* a lost device fails here; anything else skips c */
    RCL_TRY(rcl_device_finish(d));
    double best = -1;
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        RCL_TRY(conv_config_run(d, c, s, a, b, out));
        RCL_TRY(rcl_device_finish(d));
        double t = now_ms() - t0;
        if (best < 0 || t < best)
            best = t;
        if (give_up_ms > 0 && best > give_up_ms)
            break; /* clearly slower than the best so far */
    }
    *ms = best;
    return RCL_OK;
}

rcl_status rcl_conv_time(rcl_device *d, const char *config, const rcl_conv_shape *s,
                         rcl_conv_pass p, const rcl_tensor *a, const rcl_tensor *b,
                         rcl_tensor *out, int runs, double *ms) {
    conv_config c;
    int given;
    memset(&c, 0, sizeof c);
    RCL_TRY(conv_config_parse(config, strlen(config), p, &c, &given));
    if (!given) {
        conv_state *st;
        RCL_TRY(get_state(d, &st));
        conv_row *row = stored(d, st, s, p, c.family, 0);
        if (row)
            c = row->cfg;
        else
            conv_config_start(d, c.family, s, &c);
    }
    return rcl_conv_time_config(d, &c, s, a, b, out, runs, -1, ms);
}

static void describe_shape(const rcl_conv_shape *s, char *out, size_t cap) {
    snprintf(out, cap, "n%d %d->%d %dx%d k%dx%d s%d", s->n, s->c_in, s->c_out, s->h, s->w, s->kh,
             s->kw, s->stride);
}

/* Replaces the row of the same key, if any. */
conv_row *rcl_conv_store_choice(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                                const conv_config *c, double ms, const char *source) {
    conv_state *st;
    if (get_state(d, &st) != RCL_OK)
        return NULL;
    conv_row *it = NULL;
    for (int i = 0; i < st->n && !it; i++)
        if (conv_row_matches(&st->rows[i], p, s, 1))
            it = &st->rows[i];
    if (!it && !(it = add_row(st)))
        return NULL;
    memset(it, 0, sizeof *it);
    it->pub.pass = p;
    it->pub.shape = *s;
    it->pub.ms = ms;
    snprintf(it->pub.source, sizeof it->pub.source, "%s", source);
    it->cfg = *c;
    conv_config_format(c, it->pub.config, sizeof it->pub.config);
    it->build = -1;
    save_file(d, st);
    describe_source(d, st);
    return it;
}

/* Measures every candidate of pass p on s and stores the fastest. */
static rcl_status choose(rcl_device *d, conv_state *st, const rcl_conv_shape *s, rcl_conv_pass p,
                         const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out, conv_config *chosen,
                         conv_row **row) {
    conv_config list[16];
    double ms[16], best = -1;
    int n = candidates(d, st, s, p, list, 16), pick = 0;
    /* the kernel families first, so the (usually slower) GEMM path can stop early */
    for (int i = n - 1; i >= 0; i--) {
        RCL_TRY(rcl_conv_time_config(d, &list[i], s, a, b, out, MEASURE_RUNS, best > 0 ? 1.5 * best : -1, &ms[i]));
        if (ms[i] >= 0 && (best < 0 || ms[i] < best))
            best = ms[i], pick = i;
    }
    /* the candidates' workspace (im2col columns) need not outlive the measurement */
    RCL_TRY(rcl_device_finish(d));
    rcl_device_workspace_release(d);
    char shape[96], times[640];
    size_t len = 0;
    describe_shape(s, shape, sizeof shape);
    times[0] = 0;
    for (int i = 0; i < n && len < sizeof times; i++)
        if (ms[i] >= 0) {
            char name[CONV_CONFIG_LEN];
            conv_config_format(&list[i], name, sizeof name);
            len += (size_t)snprintf(times + len, sizeof times - len, "%s%s %.2f", len ? ", " : "", name, ms[i]);
        }
    char name[CONV_CONFIG_LEN];
    conv_config_format(&list[pick], name, sizeof name);
    rcl_device_notice(d, "convolution %s %s: %s (ms: %s)", shape, rcl_conv_pass_name((rcl_conv_pass)p), name, times);
    *chosen = list[pick];
    *row = rcl_conv_store_choice(d, s, p, &list[pick], ms[pick], "measured");
    return RCL_OK;
}

/* The configuration of pass p of s (measuring when auto has none), and its build. */
static rcl_status pick(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p, const rcl_tensor *a,
                       const rcl_tensor *b, rcl_tensor *out, conv_config *cfg, conv_row **row) {
    conv_state *st;
    RCL_TRY(get_state(d, &st));
    if (known_choice(d, st, s, p, cfg, row))
        return RCL_OK;
    if (!a || !b || !out)
        return rcl_fail(RCL_ERR_INVALID_ARG, "conv2d %s: no configuration chosen yet for this shape, "
                        "and no tensors to measure the candidates on", rcl_conv_pass_name((rcl_conv_pass)p));
    return choose(d, st, s, p, a, b, out, cfg, row);
}

/* Runs cfg, with the build cached in row when there is one. */
static rcl_status run_choice(rcl_device *d, const rcl_conv_shape *s, const conv_config *cfg,
                             conv_row *row, const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out) {
    if (!row)
        return conv_config_run(d, cfg, s, a, b, out);
    if (row->build < 0)
        RCL_TRY(conv_config_build(d, cfg, s, &row->build));
    return cfg->family->run(d, s, cfg, row->build, a, b, out);
}

rcl_status rcl_conv_run(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                        const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out) {
    conv_config cfg;
    conv_row *row;
    RCL_TRY(pick(d, s, p, a, b, out, &cfg, &row));
    return run_choice(d, s, &cfg, row, a, b, out);
}

rcl_status rcl_conv_run_backward(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                                 const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx,
                                 rcl_tensor *dw) {
    RCL_TRY(rcl_conv_run(d, s, RCL_CONV_DW, x, dy, dw));
    return dx ? rcl_conv_run(d, s, RCL_CONV_DX, w, dy, dx) : RCL_OK;
}

int rcl_conv_known_config(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p, conv_config *c) {
    conv_state *st;
    conv_row *row;
    return get_state(d, &st) == RCL_OK && known_choice(d, st, s, p, c, &row);
}

int rcl_conv_choice_known(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p, char *config,
                          size_t cap) {
    conv_config cfg;
    config[0] = 0;
    if (!rcl_conv_known_config(d, s, p, &cfg))
        return 0;
    conv_config_format(&cfg, config, cap);
    return 1;
}

rcl_status rcl_conv_choice_for(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                               const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out,
                               char *config, size_t cap) {
    conv_config cfg;
    conv_row *row;
    RCL_TRY(pick(d, s, p, a, b, out, &cfg, &row));
    conv_config_format(&cfg, config, cap);
    return RCL_OK;
}

int rcl_conv_choices(rcl_device *d, const rcl_conv_choice **list) {
    conv_state *st;
    if (get_state(d, &st) != RCL_OK) {
        *list = NULL;
        return 0;
    }
    for (int i = 0; i < st->n; i++)
        st->pub[i] = st->rows[i].pub;
    *list = st->pub;
    return st->n;
}

int rcl_conv_database_entry(rcl_device *d, char *out, size_t cap) {
    conv_state *st;
    if (get_state(d, &st) != RCL_OK)
        return snprintf(out, cap, "?");
    const rcl_device_info *inf = rcl_device_get_info(d);
    size_t len = (size_t)snprintf(out, cap, "device %s\nplatform %s\ndriver %s\n", inf->name,
                                  inf->platform_name, inf->driver_version);
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->rows[i].pub.source, "tuned") == 0)
            conv_row_format(&st->rows[i], out, cap, &len);
    return (int)len;
}
