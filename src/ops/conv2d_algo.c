/* Which algorithm runs each convolution pass (docs/convolution.md).
 *
 * Under the default policy "auto" the first call of a pass on a new shape times every
 * candidate that handles it (a warm-up run, which also builds its kernels, then the best of
 * up to MEASURE_RUNS) on the call's own tensors, keeps the fastest, and stores the choice in
 * the device's cache file, so later processes on the same device and driver reuse it (and
 * stay bit-reproducible). The batch size enters the key rounded up to a power of two. A
 * policy may also force an algorithm for every pass or per pass ("fwd=gemm,dw=direct-4x3").
 * Under "auto" the choice then runs once more, so the output is the chosen algorithm's. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conv2d_internal.h"
#include "hash.h"
#include "core/fileio.h"

#define EXT_SLOT 0 /* rcl_device_ext slot of the choices */
#define MEASURE_RUNS 2
#define FWD_DX ((1 << RCL_CONV_FWD) | (1 << RCL_CONV_DX))
#define ALL_PASSES (FWD_DX | (1 << RCL_CONV_DW))

typedef struct candidate {
    const char *name;
    int passes;           /* bit p: implements pass p */
    int direct;           /* 0: im2col + GEMM */
    rcl_conv_tiles tiles; /* direct: tile sizes (local is set per device) */
} candidate;

/* Direct candidates vary one pass's tiles from the first set, so a device builds few programs. */
static const candidate candidates[RCL_CONV_CANDIDATES] = {
    {"gemm", ALL_PASSES, 0, {0}},
    {"direct-8x8", FWD_DX, 1, {8, 1, 2, 6, 4, 0}},
    {"direct-12x8", FWD_DX, 1, {12, 1, 2, 6, 4, 0}},
    {"direct-2x6", 1 << RCL_CONV_DW, 1, {8, 1, 2, 6, 4, 0}},
    {"direct-4x3", 1 << RCL_CONV_DW, 1, {8, 1, 4, 3, 4, 0}},
};
static const char *const pass_names[RCL_CONV_PASSES] = {"fwd", "dx", "dw"};

typedef struct conv_state {
    int forced[RCL_CONV_PASSES]; /* candidate index, or -1: auto */
    rcl_conv_choice *items;
    int n, cap;
    char path[4200]; /* cache file, "" without a cache */
} conv_state;

const char *rcl_conv_pass_name(rcl_conv_pass p) {
    return p >= 0 && p < RCL_CONV_PASSES ? pass_names[p] : "?";
}

int rcl_conv_candidate_count(void) { return RCL_CONV_CANDIDATES; }

const char *rcl_conv_candidate_name(int i) {
    return i >= 0 && i < RCL_CONV_CANDIDATES ? candidates[i].name : NULL;
}

int rcl_conv_candidate_has_pass(int i, rcl_conv_pass p) {
    return i >= 0 && i < RCL_CONV_CANDIDATES && (candidates[i].passes >> p & 1);
}

static rcl_conv_tiles tiles_for(const rcl_device *d, int i) {
    rcl_conv_tiles t = candidates[i].tiles;
    t.local = rcl_device_gpu_kernels(d) ? 64 : 1;
    return t;
}

static int supports(const rcl_device *d, int i, const rcl_conv_shape *s) {
    if (!candidates[i].direct)
        return 1;
    rcl_conv_tiles t = tiles_for(d, i);
    return rcl_conv_direct_supports(d, s, &t);
}

static rcl_status run_candidate(rcl_device *d, int i, const rcl_conv_shape *s, rcl_conv_pass p,
                                const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out) {
    if (!candidates[i].direct) {
        if (p == RCL_CONV_FWD)
            return rcl_conv_gemm_forward(d, s, a, b, out);
        return p == RCL_CONV_DX ? rcl_conv_gemm_dx(d, s, a, b, out) : rcl_conv_gemm_dw(d, s, a, b, out);
    }
    rcl_conv_tiles t = tiles_for(d, i);
    if (p == RCL_CONV_FWD)
        return rcl_conv_direct_forward(d, s, &t, a, b, out);
    return p == RCL_CONV_DX ? rcl_conv_direct_dx(d, s, &t, a, b, out)
                            : rcl_conv_direct_dw(d, s, &t, a, b, out);
}

/* ---- the cache file: one line per choice ---- */

static int find_candidate(const char *name) {
    for (int i = 0; i < RCL_CONV_CANDIDATES; i++)
        if (strcmp(candidates[i].name, name) == 0)
            return i;
    return -1;
}

static int bucket(int n) {
    int b = 1;
    while (b < n && b < (1 << 30))
        b <<= 1;
    return b;
}

static int same_key(const rcl_conv_choice *c, rcl_conv_pass p, const rcl_conv_shape *s) {
    const rcl_conv_shape *k = &c->shape;
    return c->pass == p && bucket(k->n) == bucket(s->n) && k->c_in == s->c_in && k->h == s->h &&
           k->w == s->w && k->c_out == s->c_out && k->kh == s->kh && k->kw == s->kw &&
           k->stride == s->stride && k->pad == s->pad;
}

static rcl_conv_choice *add_item(conv_state *st) {
    if (st->n == st->cap) {
        int cap = st->cap ? 2 * st->cap : 32;
        rcl_conv_choice *p = realloc(st->items, (size_t)cap * sizeof *p);
        if (!p)
            return NULL;
        st->items = p;
        st->cap = cap;
    }
    return &st->items[st->n++];
}

/* "fwd 32 16 28 28 16 3 3 1 1 direct-8x8 gemm=3.210 direct-8x8=1.100 ..." */
static void parse_line(conv_state *st, char *line) {
    char pass[8], chosen[32];
    rcl_conv_shape s;
    int used = 0;
    if (sscanf(line, "%7s %d %d %d %d %d %d %d %d %d %31s%n", pass, &s.n, &s.c_in, &s.h, &s.w,
               &s.c_out, &s.kh, &s.kw, &s.stride, &s.pad, chosen, &used) != 11)
        return;
    int p = -1;
    for (int i = 0; i < RCL_CONV_PASSES; i++)
        if (strcmp(pass, pass_names[i]) == 0)
            p = i;
    int c = find_candidate(chosen);
    if (p < 0 || c < 0 || !(candidates[c].passes >> p & 1) || s.n < 1 || s.c_in < 1 || s.h < 1 ||
        s.w < 1 || s.c_out < 1 || s.kh < 1 || s.kw < 1 || s.stride < 1 || s.pad < 0)
        return;
    rcl_conv_choice *it = add_item(st);
    if (!it)
        return;
    memset(it, 0, sizeof *it);
    it->pass = (rcl_conv_pass)p;
    it->shape = s;
    it->chosen = c;
    for (int i = 0; i < RCL_CONV_CANDIDATES; i++)
        it->ms[i] = -1;
    char *tok = strtok(line + used, " \n");
    for (; tok; tok = strtok(NULL, " \n")) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = 0;
        int k = find_candidate(tok);
        if (k >= 0)
            it->ms[k] = atof(eq + 1);
    }
}

static void load_file(conv_state *st) {
    unsigned char *data;
    size_t size;
    if (!st->path[0] || rcl_file_read(st->path, &data, &size) != RCL_OK)
        return;
    char *save = NULL;
    for (char *line = strtok_r((char *)data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (line[0] != '#')
            parse_line(st, line);
    free(data);
}

/* Rewrites the whole file; a cache that cannot be written only costs a re-measurement. */
static void save_file(const rcl_device *d, const conv_state *st) {
    if (!st->path[0])
        return;
    size_t cap = 256 + (size_t)st->n * 320, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return;
    const rcl_device_info *inf = rcl_device_get_info(d);
    len += (size_t)snprintf(buf, cap,
                            "# robustcl convolution algorithms for '%s' (driver %s): pass, batch "
                            "bucket, c_in h w c_out kh kw stride pad, chosen, ms per candidate\n",
                            inf->name, inf->driver_version);
    for (int i = 0; i < st->n && len < cap; i++) {
        const rcl_conv_choice *c = &st->items[i];
        const rcl_conv_shape *s = &c->shape;
        len += (size_t)snprintf(buf + len, cap - len, "%s %d %d %d %d %d %d %d %d %d %s",
                                pass_names[c->pass], s->n, s->c_in, s->h, s->w, s->c_out, s->kh,
                                s->kw, s->stride, s->pad, candidates[c->chosen].name);
        for (int k = 0; k < RCL_CONV_CANDIDATES && len < cap; k++)
            if (c->ms[k] >= 0)
                len += (size_t)snprintf(buf + len, cap - len, " %s=%.4f", candidates[k].name, c->ms[k]);
        if (len < cap)
            buf[len++] = '\n';
    }
    char dir[4096];
    if (len < cap && rcl_cache_dir(dir, sizeof dir) && rcl_mkdirs(dir) == RCL_OK)
        rcl_file_write_atomic(st->path, buf, len);
    free(buf);
}

static void state_free(void *p) {
    conv_state *st = p;
    free(st->items);
    free(st);
}

static rcl_status parse_policy(const char *spec, int forced[RCL_CONV_PASSES]);

static rcl_status get_state(rcl_device *d, conv_state **out) {
    conv_state *st = rcl_device_ext(d, EXT_SLOT);
    if (st) {
        *out = st;
        return RCL_OK;
    }
    st = calloc(1, sizeof *st);
    if (!st)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for the convolution choices");
    const char *env = getenv("ROBUSTCL_CONV_ALGO");
    rcl_status s = parse_policy(env && *env ? env : "auto", st->forced);
    if (s != RCL_OK) {
        free(st);
        return rcl_fail(s, "ROBUSTCL_CONV_ALGO: %s", rcl_last_error());
    }
    char dir[4096];
    if (rcl_cache_dir(dir, sizeof dir)) {
        const rcl_device_info *inf = rcl_device_get_info(d);
        uint64_t key = rcl_fnv1a(RCL_FNV_INIT, "robustcl-conv-v2", 16);
        key = rcl_fnv1a(key, inf->name, strlen(inf->name) + 1);
        key = rcl_fnv1a(key, inf->driver_version, strlen(inf->driver_version) + 1);
        key = rcl_fnv1a(key, inf->platform_version, strlen(inf->platform_version) + 1);
        int gpu = rcl_device_gpu_kernels(d); /* the kernel variants measured */
        key = rcl_fnv1a(key, &gpu, sizeof gpu);
        snprintf(st->path, sizeof st->path, "%s/conv-algos-%016llx.txt", dir, (unsigned long long)key);
        load_file(st);
    }
    rcl_device_set_ext(d, EXT_SLOT, st, state_free);
    *out = st;
    return RCL_OK;
}

/* ---- policy ---- */

/* A name valid for pass p: a candidate of p, or "direct" for p's first direct candidate. */
static int resolve_name(const char *name, size_t len, rcl_conv_pass p) {
    for (int i = 0; i < RCL_CONV_CANDIDATES; i++) {
        if (!(candidates[i].passes >> p & 1))
            continue;
        if (strlen(candidates[i].name) == len && strncmp(candidates[i].name, name, len) == 0)
            return i;
        if (len == 6 && strncmp(name, "direct", 6) == 0 && candidates[i].direct)
            return i;
    }
    return -1;
}

static rcl_status bad_policy(const char *spec, const char *item, size_t len) {
    return rcl_fail(RCL_ERR_INVALID_ARG,
                    "convolution algorithm '%s': unknown '%.*s' (use auto, gemm, direct, or "
                    "per pass fwd=NAME,dx=NAME,dw=NAME with NAME gemm, direct, direct-8x8, "
                    "direct-12x8 (fwd, dx), direct-2x6, direct-4x3 (dw))",
                    spec, (int)len, item);
}

static rcl_status parse_policy(const char *spec, int forced[RCL_CONV_PASSES]) {
    for (int p = 0; p < RCL_CONV_PASSES; p++)
        forced[p] = -1;
    if (strcmp(spec, "auto") == 0)
        return RCL_OK;
    if (!strchr(spec, '=')) {
        for (int p = 0; p < RCL_CONV_PASSES; p++)
            if ((forced[p] = resolve_name(spec, strlen(spec), (rcl_conv_pass)p)) < 0)
                return bad_policy(spec, spec, strlen(spec));
        return RCL_OK;
    }
    for (const char *item = spec; *item;) {
        size_t len = strcspn(item, ",");
        const char *eq = memchr(item, '=', len);
        int p = -1;
        for (int i = 0; eq && i < RCL_CONV_PASSES; i++)
            if ((size_t)(eq - item) == strlen(pass_names[i]) && strncmp(item, pass_names[i], eq - item) == 0)
                p = i;
        if (p < 0)
            return bad_policy(spec, item, len);
        size_t vlen = len - (size_t)(eq + 1 - item);
        if (!(vlen == 4 && strncmp(eq + 1, "auto", 4) == 0) &&
            (forced[p] = resolve_name(eq + 1, vlen, (rcl_conv_pass)p)) < 0)
            return bad_policy(spec, item, len);
        item += len + (item[len] == ',');
    }
    return RCL_OK;
}

rcl_status rcl_conv_policy_check(const char *spec) {
    int forced[RCL_CONV_PASSES];
    return parse_policy(spec && *spec ? spec : "auto", forced);
}

rcl_status rcl_conv_set_policy(rcl_device *d, const char *spec) {
    conv_state *st;
    RCL_TRY(get_state(d, &st));
    int forced[RCL_CONV_PASSES];
    RCL_TRY(parse_policy(spec && *spec ? spec : "auto", forced));
    memcpy(st->forced, forced, sizeof forced);
    return RCL_OK;
}

int rcl_conv_policy_string(rcl_device *d, char *out, size_t cap) {
    conv_state *st;
    if (get_state(d, &st) != RCL_OK)
        return snprintf(out, cap, "?");
    int n = 0;
    for (int p = 0; p < RCL_CONV_PASSES; p++)
        n += snprintf(out + n, cap > (size_t)n ? cap - (size_t)n : 0, "%s%s=%s", p ? "," : "",
                      pass_names[p], st->forced[p] < 0 ? "auto" : candidates[st->forced[p]].name);
    return n;
}

/* ---- measurement ---- */

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

/* Time of candidate i on the tensors given: best of `runs` after a warm-up; -1 when it
 * does not handle s or fails (its error is dropped: the other candidates still run). */
static rcl_status time_candidate(rcl_device *d, int i, const rcl_conv_shape *s, rcl_conv_pass p,
                                 const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out,
                                 int runs, double give_up_ms, double *ms) {
    *ms = -1;
    if (!(candidates[i].passes >> p & 1) || !supports(d, i, s))
        return RCL_OK;
    RCL_TRY(rcl_device_finish(d));
    if (run_candidate(d, i, s, p, a, b, out) != RCL_OK)
        return rcl_device_finish(d); /* a lost device fails here; anything else skips i */
    RCL_TRY(rcl_device_finish(d));
    double best = -1;
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        RCL_TRY(run_candidate(d, i, s, p, a, b, out));
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

rcl_status rcl_conv_measure(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                            const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out, int runs,
                            double ms[RCL_CONV_CANDIDATES]) {
    double best = -1;
    /* the direct candidates first, so the (usually slower) GEMM path can stop early */
    for (int i = RCL_CONV_CANDIDATES - 1; i >= 0; i--) {
        RCL_TRY(time_candidate(d, i, s, p, a, b, out, runs, best > 0 ? 1.5 * best : -1, &ms[i]));
        if (ms[i] >= 0 && (best < 0 || ms[i] < best))
            best = ms[i];
    }
    return RCL_OK;
}

static void describe_shape(const rcl_conv_shape *s, char *out, size_t cap) {
    snprintf(out, cap, "n%d %d->%d %dx%d k%dx%d s%d", s->n, s->c_in, s->c_out, s->h, s->w, s->kh,
             s->kw, s->stride);
}

/* Measures every candidate of pass p on s and records the fastest. */
static rcl_status choose(rcl_device *d, conv_state *st, const rcl_conv_shape *s, rcl_conv_pass p,
                         const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out, int *chosen) {
    double ms[RCL_CONV_CANDIDATES];
    RCL_TRY(rcl_conv_measure(d, s, p, a, b, out, MEASURE_RUNS, ms));
    /* the candidates' workspace (im2col columns) need not outlive the measurement */
    RCL_TRY(rcl_device_finish(d));
    rcl_device_workspace_release(d);
    int best = 0; /* gemm handles every shape */
    for (int i = 0; i < RCL_CONV_CANDIDATES; i++)
        if (ms[i] >= 0 && (ms[best] < 0 || ms[i] < ms[best]))
            best = i;
    char shape[96], times[256];
    int len = 0;
    describe_shape(s, shape, sizeof shape);
    times[0] = 0;
    for (int i = 0; i < RCL_CONV_CANDIDATES; i++)
        if (ms[i] >= 0 && len < (int)sizeof times)
            len += snprintf(times + len, sizeof times - (size_t)len, "%s%s %.2f", len ? ", " : "",
                            candidates[i].name, ms[i]);
    rcl_device_notice(d, "convolution %s %s: %s (ms: %s)", shape, pass_names[p],
                      candidates[best].name, times);
    rcl_conv_choice *it = add_item(st);
    if (it) {
        it->pass = p;
        it->shape = *s;
        it->chosen = best;
        memcpy(it->ms, ms, sizeof ms);
        save_file(d, st);
    }
    *chosen = best;
    return RCL_OK;
}

/* The candidate the policy gives without measuring, or -1 (auto, not measured yet). */
static int known_choice(rcl_device *d, const conv_state *st, const rcl_conv_shape *s, rcl_conv_pass p) {
    if (st->forced[p] >= 0)
        return supports(d, st->forced[p], s) ? st->forced[p] : 0;
    for (int i = 0; i < st->n; i++)
        if (same_key(&st->items[i], p, s) && supports(d, st->items[i].chosen, s))
            return st->items[i].chosen;
    return -1;
}

static rcl_status pick(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p, const rcl_tensor *a,
                       const rcl_tensor *b, rcl_tensor *out, int *chosen, int *measured) {
    conv_state *st;
    RCL_TRY(get_state(d, &st));
    *measured = 0;
    if ((*chosen = known_choice(d, st, s, p)) >= 0)
        return RCL_OK;
    if (!a || !b || !out)
        return rcl_fail(RCL_ERR_INVALID_ARG, "conv2d %s: no algorithm chosen yet for this shape, "
                        "and no tensors to measure the candidates on", pass_names[p]);
    *measured = 1;
    return choose(d, st, s, p, a, b, out, chosen);
}

rcl_status rcl_conv_run(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                        const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out) {
    int chosen, measured;
    RCL_TRY(pick(d, s, p, a, b, out, &chosen, &measured));
    return run_candidate(d, chosen, s, p, a, b, out);
}

rcl_status rcl_conv_run_backward(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                                 const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx,
                                 rcl_tensor *dw) {
    int cw, cx = -1, measured;
    RCL_TRY(pick(d, s, RCL_CONV_DW, x, dy, dw, &cw, &measured));
    if (dx)
        RCL_TRY(pick(d, s, RCL_CONV_DX, w, dy, dx, &cx, &measured));
    if (dx && candidates[cw].direct && candidates[cx].direct) {
        rcl_conv_tiles tx = tiles_for(d, cx), tw = tiles_for(d, cw);
        return rcl_conv_direct_backward(d, s, &tx, &tw, x, w, dy, dx, dw);
    }
    RCL_TRY(run_candidate(d, cw, s, RCL_CONV_DW, x, dy, dw));
    return dx ? run_candidate(d, cx, s, RCL_CONV_DX, w, dy, dx) : RCL_OK;
}

const char *rcl_conv_choice_known(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p) {
    conv_state *st;
    if (get_state(d, &st) != RCL_OK)
        return NULL;
    int c = known_choice(d, st, s, p);
    return c >= 0 ? candidates[c].name : NULL;
}

rcl_status rcl_conv_choice_for(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                               const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out,
                               const char **name) {
    int chosen, measured;
    RCL_TRY(pick(d, s, p, a, b, out, &chosen, &measured));
    *name = candidates[chosen].name;
    return RCL_OK;
}

rcl_status rcl_conv_rechoose(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                             const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out,
                             const char **name) {
    conv_state *st;
    RCL_TRY(get_state(d, &st));
    int kept = 0;
    for (int i = 0; i < st->n; i++)
        if (!same_key(&st->items[i], p, s))
            st->items[kept++] = st->items[i];
    st->n = kept;
    int chosen;
    RCL_TRY(choose(d, st, s, p, a, b, out, &chosen));
    *name = candidates[chosen].name;
    return RCL_OK;
}

int rcl_conv_choices(rcl_device *d, const rcl_conv_choice **list) {
    conv_state *st;
    if (get_state(d, &st) != RCL_OK) {
        *list = NULL;
        return 0;
    }
    *list = st->items;
    return st->n;
}
