/* robustcl bench conv: every distinct convolution of a WRN (how often the net uses it), each
 * pass timed under every algorithm that handles it, the algorithm the device's policy runs,
 * its GFLOP/s, and PyTorch's conv2d / conv2d_input / conv2d_weight on the same shapes and
 * threads (bench/peer_pytorch.py conv) beside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define MAX_CONVS 256

typedef struct {
    rcl_conv_shape s;
    int uses;
    double ms[RCL_CONV_PASSES][RCL_BENCH_FAMILIES];
    char chosen[RCL_CONV_PASSES][RCL_CONV_CONFIG_LEN];
    double chosen_ms[RCL_CONV_PASSES], peer_ms[RCL_CONV_PASSES]; /* medians of the samples */
    double ours[RCL_CONV_PASSES][RCL_BENCH_MAX_REPEAT], peer[RCL_CONV_PASSES][RCL_BENCH_MAX_REPEAT];
} conv_row;

int rcl_bench_conv_families(const char *names[RCL_BENCH_FAMILIES]) {
    int n = 0;
    for (int i = 0; i < rcl_conv_family_count(); i++) {
        const char *name = rcl_conv_family_name(i);
        int k = 0;
        while (k < n && strcmp(names[k], name))
            k++;
        if (k == n && n < RCL_BENCH_FAMILIES)
            names[n++] = name;
    }
    return n;
}

int rcl_bench_wrn_convs(rcl_device *d, const rcl_wrn_config *cfg, int n, rcl_conv_shape *out,
                        int *uses, int cap) {
    rcl_model *m;
    /* the model only lists its convolutions: batch 1 keeps its activations small */
    if (rcl_model_create(d, cfg, 1, &m) != RCL_OK)
        return -1;
    rcl_conv_shape all[MAX_CONVS];
    int nall = rcl_model_conv_shapes(m, n, all, MAX_CONVS), count = 0;
    rcl_model_free(m);
    if (nall > MAX_CONVS) {
        rcl_fail(RCL_ERR_INVALID_ARG, "more than %d convolutions in the net", MAX_CONVS);
        return -1;
    }
    for (int i = 0; i < nall; i++) {
        int j = 0;
        while (j < count && memcmp(&out[j], &all[i], sizeof all[i]) != 0)
            j++;
        if (j == count) {
            if (count == cap)
                continue;
            out[count] = all[i];
            uses[count++] = 0;
        }
        uses[j]++;
    }
    return count;
}

static double conv_gflop(const rcl_conv_shape *s) {
    return 2.0 * s->n * s->c_out * rcl_conv_out_h(s) * rcl_conv_out_w(s) * s->c_in * s->kh * s->kw * 1e-9;
}

static rcl_status fill_random(rcl_tensor *t, rcl_rng *r) {
    float *h = malloc(t->n * sizeof *h);
    if (!h)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    for (size_t i = 0; i < t->n; i++)
        h[i] = (float)(2 * rcl_rng_uniform(r) - 1);
    rcl_status s = rcl_tensor_upload(t, h);
    free(h);
    return s;
}

/* The tensors of one convolution's three passes, the inputs (x, w, dy) random. */
typedef struct {
    rcl_tensor x, w, y, dy, dx, dw;
} conv_tensors;

static rcl_status tensors_create(rcl_device *d, const rcl_conv_shape *s, conv_tensors *t) {
    rcl_rng r = rcl_rng_seed(1);
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s);
    memset(t, 0, sizeof *t);
    RCL_TRY(rcl_tensor_create(d, &t->x, "x", 4, s->n, s->c_in, s->h, s->w));
    RCL_TRY(rcl_tensor_create(d, &t->w, "w", 4, s->c_out, s->c_in, s->kh, s->kw));
    RCL_TRY(rcl_tensor_create(d, &t->y, "y", 4, s->n, s->c_out, ho, wo));
    RCL_TRY(rcl_tensor_create(d, &t->dy, "dy", 4, s->n, s->c_out, ho, wo));
    RCL_TRY(rcl_tensor_create(d, &t->dx, "dx", 4, s->n, s->c_in, s->h, s->w));
    RCL_TRY(rcl_tensor_create(d, &t->dw, "dw", 4, s->c_out, s->c_in, s->kh, s->kw));
    RCL_TRY(fill_random(&t->x, &r));
    RCL_TRY(fill_random(&t->w, &r));
    return fill_random(&t->dy, &r);
}

static void tensors_release(conv_tensors *t) {
    rcl_tensor_release(&t->x), rcl_tensor_release(&t->w), rcl_tensor_release(&t->y);
    rcl_tensor_release(&t->dy), rcl_tensor_release(&t->dx), rcl_tensor_release(&t->dw);
}

/* Times pass p of s with config on t (best of runs after a warm-up). */
static rcl_status time_pass(rcl_device *d, const char *config, const rcl_conv_shape *s, int p,
                            conv_tensors *t, int runs, double *ms) {
    const rcl_tensor *a[RCL_CONV_PASSES] = {&t->x, &t->w, &t->x}, *b[RCL_CONV_PASSES] = {&t->w, &t->dy, &t->dy};
    rcl_tensor *out[RCL_CONV_PASSES] = {&t->y, &t->dx, &t->dw};
    return rcl_conv_time(d, config, s, (rcl_conv_pass)p, a[p], b[p], out[p], runs, ms);
}

/* Times each family's best known configuration on every pass of one convolution (-1: the
 * family does not run the shape), then the configuration the policy chooses. */
rcl_status rcl_bench_conv_shape(rcl_device *d, const rcl_conv_shape *s, int repeat,
                                double ms[RCL_CONV_PASSES][RCL_BENCH_FAMILIES],
                                char chosen[RCL_CONV_PASSES][RCL_CONV_CONFIG_LEN],
                                double chosen_ms[RCL_CONV_PASSES]) {
    const char *fams[RCL_BENCH_FAMILIES];
    int nf = rcl_bench_conv_families(fams);
    conv_tensors t;
    rcl_status st = tensors_create(d, s, &t);
    for (int p = 0; p < RCL_CONV_PASSES && !st; p++) {
        for (int f = 0; f < nf && !st; f++)
            if (time_pass(d, fams[f], s, p, &t, repeat, &ms[p][f]) != RCL_OK)
                ms[p][f] = -1; /* a family without this pass */
        const rcl_tensor *a[RCL_CONV_PASSES] = {&t.x, &t.w, &t.x}, *b[RCL_CONV_PASSES] = {&t.w, &t.dy, &t.dy};
        rcl_tensor *out[RCL_CONV_PASSES] = {&t.y, &t.dx, &t.dw};
        if (!(st = rcl_conv_choice_for(d, s, p, a[p], b[p], out[p], chosen[p], RCL_CONV_CONFIG_LEN)))
            st = time_pass(d, chosen[p], s, p, &t, repeat, &chosen_ms[p]);
    }
    tensors_release(&t);
    return st;
}

/* PyTorch's times for every row, as sample k (left 0 when the peer is unavailable). */
static rcl_json *run_peer_convs(const rcl_bench_cfg *b, conv_row *rows, int n, int k, char *why,
                                size_t cap) {
    size_t len = (size_t)n * 64 + 256;
    char *args = malloc(len);
    if (!args) {
        snprintf(why, cap, "peer unavailable (out of memory)");
        return NULL;
    }
    int at = snprintf(args, len, "conv --repeat 1 --threads %d --device %s --convs '", b->peer_threads,
                      b->peer_device);
    for (int i = 0; i < n; i++) {
        const rcl_conv_shape *s = &rows[i].s;
        at += snprintf(args + at, len - (size_t)at, "%s%d,%d,%d,%d,%d,%d,%d,%d", i ? ";" : "", s->n,
                       s->c_in, s->h, s->w, s->c_out, s->kh, s->stride, s->pad);
    }
    snprintf(args + at, len - (size_t)at, "'");
    rcl_json *peer = rcl_bench_run_peer(b->script, args, why, cap);
    free(args);
    const rcl_json *res = peer ? rcl_json_get(peer, "results") : NULL;
    static const char *const keys[RCL_CONV_PASSES] = {"fwd_ms", "dx_ms", "dw_ms"};
    for (int i = 0; res && i < n; i++)
        for (int p = 0; p < RCL_CONV_PASSES; p++)
            rows[i].peer[p][k] = rcl_json_get_number(rcl_json_at(res, (size_t)i), keys[p], 0);
    return peer;
}

/* Sample k of every row's chosen configurations (one run each after the warm-up runs
 * rcl_bench_conv_shape made), then the peer's. */
static rcl_status sample(rcl_device *d, const rcl_bench_cfg *b, conv_row *rows, int n, int k,
                         rcl_json **peer, char *why, size_t cap) {
    for (int i = 0; i < n; i++) {
        conv_tensors t;
        rcl_status st = tensors_create(d, &rows[i].s, &t);
        for (int p = 0; p < RCL_CONV_PASSES && !st; p++)
            st = time_pass(d, rows[i].chosen[p], &rows[i].s, p, &t, 1, &rows[i].ours[p][k]);
        tensors_release(&t);
        RCL_TRY(st);
    }
    if (b->peer) {
        rcl_json_free(*peer);
        *peer = run_peer_convs(b, rows, n, k, why, cap);
    }
    return RCL_OK;
}

/* The net's total ms in sample k: uses x the chosen time, ours or the peer's. */
static double net_ms(const conv_row *rows, int n, int k, int peer) {
    double t = 0;
    for (int i = 0; i < n; i++)
        for (int p = 0; p < RCL_CONV_PASSES; p++) {
            double v = peer ? rows[i].peer[p][k] : rows[i].ours[p][k];
            if (v <= 0)
                return 0;
            t += v * rows[i].uses;
        }
    return t;
}

static void print_rows(const rcl_bench_cfg *b, rcl_device *d, const conv_row *rows, int n,
                       int peer_ok, int samples) {
    printf("%s %dx%dx%d batch %d on %s: convolution passes in ms (families: best of 3; chosen and "
           "PyTorch: median of %d samples, alternating)\nkernel parameters: %s\n", b->arch, b->h, b->w,
           b->c, b->batch, rcl_device_get_info(d)->name, samples, rcl_conv_params_source(d));
    const char *fams[RCL_BENCH_FAMILIES];
    int nf = rcl_bench_conv_families(fams);
    printf("%-27s %4s %4s", "conv (n c_in->c_out hxw kxk/s)", "uses", "pass");
    for (int i = 0; i < nf; i++)
        printf(" %9s", fams[i]);
    printf("  %-36s %7s", "chosen", "GFLOP/s");
    if (peer_ok)
        printf(" %9s %7s %6s", "PyTorch", "GFLOP/s", "ratio");
    printf("\n");
    double tot[RCL_CONV_PASSES] = {0}, ptot[RCL_CONV_PASSES] = {0}, flop = 0;
    for (int r = 0; r < n; r++) {
        const rcl_conv_shape *s = &rows[r].s;
        char shape[64];
        snprintf(shape, sizeof shape, "%d %d->%d %dx%d %dx%d/%d", s->n, s->c_in, s->c_out, s->h, s->w,
                 s->kh, s->kw, s->stride);
        double gf = conv_gflop(s);
        flop += gf * rows[r].uses;
        for (int p = 0; p < RCL_CONV_PASSES; p++) {
            printf("%-27s %4d %4s", p ? "" : shape, rows[r].uses, rcl_conv_pass_name(p));
            for (int i = 0; i < nf; i++)
                rows[r].ms[p][i] >= 0 ? printf(" %9.2f", rows[r].ms[p][i]) : printf(" %9s", "-");
            double ms = rows[r].chosen_ms[p], pm = rows[r].peer_ms[p];
            printf("  %-36s %7.1f", rows[r].chosen[p], ms > 0 ? gf / ms * 1e3 : 0);
            if (peer_ok)
                printf(" %9.2f %7.1f %5.2fx", pm, pm > 0 ? gf / pm * 1e3 : 0, ms > 0 ? pm / ms : 0);
            printf("\n");
            tot[p] += ms * rows[r].uses;
            ptot[p] += pm * rows[r].uses;
        }
    }
    double all = tot[0] + tot[1] + tot[2];
    printf("net total (uses x chosen): fwd %.1f ms, dx %.1f ms, dw %.1f ms = %.1f ms, %.1f GFLOP/s\n",
           tot[0], tot[1], tot[2], all, all > 0 ? 3 * flop / all * 1e3 : 0);
    if (!peer_ok)
        return;
    double ours[RCL_BENCH_MAX_REPEAT], theirs[RCL_BENCH_MAX_REPEAT], ratio[RCL_BENCH_MAX_REPEAT];
    for (int k = 0; k < samples; k++) {
        ours[k] = net_ms(rows, n, k, 0), theirs[k] = net_ms(rows, n, k, 1);
        ratio[k] = ours[k] > 0 && theirs[k] > 0 ? theirs[k] / ours[k] : 0;
    }
    rcl_bench_stat so = rcl_bench_stats(ours, samples), st = rcl_bench_stats(theirs, samples),
                   sr = rcl_bench_stats(ratio, samples);
    char a[64], c[64], r[64];
    rcl_bench_stat_format(&so, "%.1f", a, sizeof a);
    rcl_bench_stat_format(&st, "%.1f", c, sizeof c);
    rcl_bench_stat_format(&sr, "%.2f", r, sizeof r);
    printf("net, %d samples alternating, median (min-max): robustcl %s ms, PyTorch %s ms; "
           "PyTorch ms / robustcl ms = %sx; %.1f vs %.1f GFLOP/s\n", samples, a, c, r,
           so.median > 0 ? 3 * flop / so.median * 1e3 : 0, st.median > 0 ? 3 * flop / st.median * 1e3 : 0);
    (void)ptot;
}

static void json_rows(rcl_json_writer *jw, const rcl_bench_cfg *b, rcl_device *d,
                      const conv_row *rows, int n, const rcl_json *peer, const char *why, int samples) {
    rcl_jw_begin_object(jw);
    rcl_jw_key(jw, "bench"), rcl_jw_string(jw, "conv");
    rcl_jw_key(jw, "arch"), rcl_jw_string(jw, b->arch);
    char in[64];
    snprintf(in, sizeof in, "%dx%dx%d", b->h, b->w, b->c);
    rcl_jw_key(jw, "input"), rcl_jw_string(jw, in);
    rcl_jw_key(jw, "batch"), rcl_jw_int(jw, b->batch);
    rcl_jw_key(jw, "repeat"), rcl_jw_int(jw, samples);
    rcl_bench_json_device(jw, d);
    rcl_jw_key(jw, "conv_params_source"), rcl_jw_string(jw, rcl_conv_params_source(d));
    rcl_jw_key(jw, "convs");
    rcl_jw_begin_array(jw);
    for (int r = 0; r < n; r++) {
        const rcl_conv_shape *s = &rows[r].s;
        rcl_jw_begin_object(jw);
        int shape[9] = {s->n, s->c_in, s->h, s->w, s->c_out, s->kh, s->kw, s->stride, s->pad};
        static const char *const names[9] = {"n", "c_in", "h", "w", "c_out", "kh", "kw", "stride", "pad"};
        for (int i = 0; i < 9; i++)
            rcl_jw_key(jw, names[i]), rcl_jw_int(jw, shape[i]);
        rcl_jw_key(jw, "uses"), rcl_jw_int(jw, rows[r].uses);
        rcl_jw_key(jw, "gflop"), rcl_jw_number(jw, conv_gflop(s));
        for (int p = 0; p < RCL_CONV_PASSES; p++) {
            rcl_jw_key(jw, rcl_conv_pass_name(p));
            rcl_jw_begin_object(jw);
            rcl_jw_key(jw, "ms");
            rcl_jw_begin_object(jw);
            const char *fams[RCL_BENCH_FAMILIES];
            int nf = rcl_bench_conv_families(fams);
            for (int i = 0; i < nf; i++)
                if (rows[r].ms[p][i] >= 0)
                    rcl_jw_key(jw, fams[i]), rcl_jw_number(jw, rows[r].ms[p][i]);
            rcl_jw_end_object(jw);
            rcl_jw_key(jw, "chosen"), rcl_jw_string(jw, rows[r].chosen[p]);
            rcl_jw_key(jw, "chosen_ms"), rcl_jw_number(jw, rows[r].chosen_ms[p]);
            rcl_jw_key(jw, "peer_ms");
            rows[r].peer_ms[p] > 0 ? rcl_jw_number(jw, rows[r].peer_ms[p]) : rcl_jw_null(jw);
            rcl_bench_json_stat(jw, "chosen_ms_samples", rows[r].ours[p], samples);
            if (peer)
                rcl_bench_json_stat(jw, "peer_ms_samples", rows[r].peer[p], samples);
            rcl_jw_end_object(jw);
        }
        rcl_jw_end_object(jw);
    }
    rcl_jw_end_array(jw);
    double ours[RCL_BENCH_MAX_REPEAT], theirs[RCL_BENCH_MAX_REPEAT], ratio[RCL_BENCH_MAX_REPEAT];
    for (int k = 0; k < samples; k++) {
        ours[k] = net_ms(rows, n, k, 0), theirs[k] = net_ms(rows, n, k, 1);
        ratio[k] = ours[k] > 0 && theirs[k] > 0 ? theirs[k] / ours[k] : 0;
    }
    rcl_bench_json_stat(jw, "net_ms", ours, samples);
    if (b->peer) {
        rcl_bench_json_stat(jw, "peer_net_ms", theirs, samples);
        rcl_bench_json_stat(jw, "peer_ms_over_ours", ratio, samples);
        rcl_bench_json_peer(jw, peer, why);
    }
    rcl_jw_end_object(jw);
}

/* Per convolution and for the net: GFLOP/s of the three passes under the chosen algorithms. */
static void summarize(rcl_bench_summary *sum, const conv_row *rows, int n, const rcl_json *peer) {
    sum->title = "convolutions, fwd + dx + dw", sum->unit = "GFLOP/s";
    double flop = 0, all = 0, pall = 0;
    for (int r = 0; r < n; r++) {
        const rcl_conv_shape *s = &rows[r].s;
        double ms = 0, pm = 0, gf = 3 * conv_gflop(s);
        for (int p = 0; p < RCL_CONV_PASSES; p++)
            ms += rows[r].chosen_ms[p], pm += rows[r].peer_ms[p];
        char label[48];
        snprintf(label, sizeof label, "%d->%d %dx%d %dx%d/%d", s->c_in, s->c_out, s->h, s->w, s->kh, s->kw,
                 s->stride);
        rcl_bench_summary_add(sum, label, ms > 0 ? gf / ms * 1e3 : 0, pm > 0 ? gf / pm * 1e3 : 0);
        flop += gf * rows[r].uses, all += ms * rows[r].uses, pall += pm * rows[r].uses;
    }
    rcl_bench_summary_add(sum, "net (uses x chosen)", all > 0 ? flop / all * 1e3 : 0,
                          pall > 0 ? flop / pall * 1e3 : 0);
    if (peer)
        snprintf(sum->peer_name, sizeof sum->peer_name, "PyTorch %s",
                 rcl_json_get_string(peer, "torch") ? rcl_json_get_string(peer, "torch") : "?");
}

rcl_status rcl_bench_conv(rcl_device *d, const rcl_bench_cfg *b, rcl_json_writer *jw,
                          rcl_bench_summary *sum) {
    rcl_wrn_config cfg = {0};
    RCL_TRY(rcl_wrn_parse_arch(b->arch, &cfg));
    cfg.in_c = b->c, cfg.in_h = b->h, cfg.in_w = b->w, cfg.num_classes = b->classes, cfg.fc_bias = 1;
    rcl_conv_shape shapes[MAX_CONVS];
    int uses[MAX_CONVS];
    int n = rcl_bench_wrn_convs(d, &cfg, b->batch, shapes, uses, MAX_CONVS);
    if (n < 0)
        return RCL_ERR_INVALID_ARG;
    conv_row *rows = calloc((size_t)n + 1, sizeof *rows);
    if (!rows)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    rcl_status s = RCL_OK;
    for (int i = 0; i < n && !s; i++) {
        rows[i].s = shapes[i];
        rows[i].uses = uses[i];
        s = rcl_bench_conv_shape(d, &rows[i].s, 3, rows[i].ms, rows[i].chosen, rows[i].chosen_ms);
    }
    rcl_json *peer = NULL;
    char why[512] = "";
    int samples = 0;
    for (int k = 0; k < b->repeat && !s; k++)
        if (!(s = sample(d, b, rows, n, k, &peer, why, sizeof why)))
            samples = k + 1;
    for (int i = 0; i < n; i++)
        for (int p = 0; p < RCL_CONV_PASSES; p++) {
            rows[i].chosen_ms[p] = rcl_bench_stats(rows[i].ours[p], samples).median;
            rows[i].peer_ms[p] = rcl_bench_stats(rows[i].peer[p], samples).median;
        }
    if (!s) {
        if (b->peer && !peer)
            printf("%s\n", why);
        print_rows(b, d, rows, n, peer != NULL, samples);
        summarize(sum, rows, n, peer);
        if (jw)
            json_rows(jw, b, d, rows, n, peer, why, samples);
    }
    rcl_json_free(peer);
    free(rows);
    return s;
}
