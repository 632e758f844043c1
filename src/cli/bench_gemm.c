/* robustcl bench gemm: CLBlast SGEMM GFLOP/s on the WRN convolution shapes, beside
 * numpy.matmul's (bench/peer_pytorch.py gemm) in the same run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static const int gemm_shapes[][3] = {{1024, 1024, 1024}, {64, 8192, 576}, {128, 2048, 1152},
                                     {256, 512, 2304},   {64, 8192, 1152}, {32, 25088, 288}};
#define NSHAPES (int)(sizeof gemm_shapes / sizeof gemm_shapes[0])

/* Best of `repeat` timed runs of C = A B after a warm-up run (the first compiles CLBlast's
 * kernels). */
static rcl_status time_shape(rcl_device *d, int m, int n, int k, int repeat, double *best) {
    rcl_tensor a = {0}, b = {0}, c = {0};
    rcl_status s;
    *best = 1e30;
    if (!(s = rcl_tensor_create(d, &a, "bench A", 1, m * k)) &&
        !(s = rcl_tensor_create(d, &b, "bench B", 1, k * n)) &&
        !(s = rcl_tensor_create(d, &c, "bench C", 1, m * n)) && !(s = rcl_tensor_fill(&a, 0.5f)) &&
        !(s = rcl_tensor_fill(&b, 0.25f)))
        for (int r = 0; r <= repeat && s == RCL_OK; r++) {
            double t0 = rcl_now();
            if (!(s = rcl_gemm(d, 0, 0, m, n, k, 1, a.buf, 0, k, b.buf, 0, n, 0, c.buf, 0, n)) &&
                !(s = rcl_device_finish(d)) && r > 0 && rcl_now() - t0 < *best)
                *best = rcl_now() - t0;
        }
    rcl_tensor_release(&a), rcl_tensor_release(&b), rcl_tensor_release(&c);
    return s;
}

/* Per shape: our GFLOP/s, the peer's and their ratio in each sample. */
typedef struct {
    double gf[NSHAPES][RCL_BENCH_MAX_REPEAT], peer[NSHAPES][RCL_BENCH_MAX_REPEAT];
    double ratio[NSHAPES][RCL_BENCH_MAX_REPEAT];
    int samples;
    rcl_json *last_peer;
    char why[512];
} gemm_samples;

static void print_table(rcl_device *d, const gemm_samples *g) {
    printf("%s, CLBlast parameters: %s; GFLOP/s %s of %d samples alternating with the peer\n",
           rcl_device_get_info(d)->name, rcl_gemm_params_source(d),
           g->samples > 1 ? "median (min-max)" : "one", g->samples);
    printf("%-18s %24s %24s %22s\n", "M x N x K", "GFLOP/s", "peer GFLOP/s", "fraction");
    for (int i = 0; i < NSHAPES; i++) {
        char shape[48], a[64], b[64], c[64];
        snprintf(shape, sizeof shape, "%dx%dx%d", gemm_shapes[i][0], gemm_shapes[i][1], gemm_shapes[i][2]);
        rcl_bench_stat sa = rcl_bench_stats(g->gf[i], g->samples), sb = rcl_bench_stats(g->peer[i], g->samples),
                       sc = rcl_bench_stats(g->ratio[i], g->samples);
        rcl_bench_stat_format(&sa, "%.1f", a, sizeof a);
        rcl_bench_stat_format(&sb, "%.1f", b, sizeof b);
        rcl_bench_stat_format(&sc, "%.2f", c, sizeof c);
        printf("%-18s %24s %24s %22s\n", shape, a, b, c);
    }
    if (g->last_peer)
        printf("peer: numpy.matmul with %s\n",
               rcl_json_get_string(g->last_peer, "blas") ? rcl_json_get_string(g->last_peer, "blas") : "?");
    else if (g->why[0])
        printf("%s\n", g->why);
}

static void write_json(rcl_json_writer *jw, rcl_device *d, const gemm_samples *g, int peer_asked) {
    rcl_jw_begin_object(jw);
    rcl_jw_key(jw, "bench"), rcl_jw_string(jw, "gemm");
    rcl_jw_key(jw, "repeat"), rcl_jw_int(jw, g->samples);
    rcl_bench_json_device(jw, d);
    rcl_jw_key(jw, "gemm_params"), rcl_jw_string(jw, rcl_gemm_params_string(d));
    if (peer_asked) {
        const rcl_json *peer = g->last_peer;
        rcl_jw_key(jw, "peer_blas");
        peer && rcl_json_get_string(peer, "blas") ? rcl_jw_string(jw, rcl_json_get_string(peer, "blas"))
                                                  : rcl_jw_null(jw);
        if (!peer)
            rcl_jw_key(jw, "peer_unavailable"), rcl_jw_string(jw, g->why);
    }
    rcl_jw_key(jw, "results");
    rcl_jw_begin_array(jw);
    for (int i = 0; i < NSHAPES; i++) {
        rcl_bench_stat sa = rcl_bench_stats(g->gf[i], g->samples), sc = rcl_bench_stats(g->ratio[i], g->samples);
        rcl_bench_stat sb = rcl_bench_stats(g->peer[i], g->samples);
        rcl_jw_begin_object(jw);
        rcl_jw_key(jw, "m"), rcl_jw_int(jw, gemm_shapes[i][0]);
        rcl_jw_key(jw, "n"), rcl_jw_int(jw, gemm_shapes[i][1]);
        rcl_jw_key(jw, "k"), rcl_jw_int(jw, gemm_shapes[i][2]);
        rcl_jw_key(jw, "gflops"), rcl_jw_number(jw, sa.median);
        rcl_jw_key(jw, "peer_gflops"), sb.n ? rcl_jw_number(jw, sb.median) : rcl_jw_null(jw);
        rcl_jw_key(jw, "fraction_of_peer"), sc.n ? rcl_jw_number(jw, sc.median) : rcl_jw_null(jw);
        rcl_bench_json_stat(jw, "gflops_samples", g->gf[i], g->samples);
        rcl_bench_json_stat(jw, "peer_gflops_samples", g->peer[i], g->samples);
        rcl_bench_json_stat(jw, "fraction_samples", g->ratio[i], g->samples);
        rcl_jw_end_object(jw);
    }
    rcl_jw_end_array(jw);
    rcl_jw_end_object(jw);
}

/* One sample: every shape once (after a warm-up run), then the peer's. */
static rcl_status sample(rcl_device *d, const rcl_bench_cfg *b, gemm_samples *g, int k) {
    for (int i = 0; i < NSHAPES; i++) {
        int m = gemm_shapes[i][0], n = gemm_shapes[i][1], kk = gemm_shapes[i][2];
        double best;
        RCL_TRY(time_shape(d, m, n, kk, 1, &best));
        g->gf[i][k] = 2.0 * m * n * kk / best * 1e-9;
    }
    if (!b->peer)
        return RCL_OK;
    char args[1024];
    int len = snprintf(args, sizeof args, "gemm --repeat 1 --shapes ");
    for (int i = 0; i < NSHAPES; i++)
        len += snprintf(args + len, sizeof args - (size_t)len, "%s%dx%dx%d", i ? "," : "",
                        gemm_shapes[i][0], gemm_shapes[i][1], gemm_shapes[i][2]);
    rcl_json_free(g->last_peer);
    g->last_peer = rcl_bench_run_peer(b->script, args, g->why, sizeof g->why);
    const rcl_json *pr = g->last_peer ? rcl_json_get(g->last_peer, "results") : NULL;
    for (int i = 0; i < NSHAPES; i++) {
        g->peer[i][k] = pr ? rcl_json_get_number(rcl_json_at(pr, (size_t)i), "gflops", 0) : 0;
        g->ratio[i][k] = g->peer[i][k] > 0 ? g->gf[i][k] / g->peer[i][k] : 0;
    }
    return RCL_OK;
}

rcl_status rcl_bench_gemm(rcl_device *d, const rcl_bench_cfg *b, rcl_json_writer *jw,
                          rcl_bench_summary *sum) {
    gemm_samples *g = calloc(1, sizeof *g);
    if (!g)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    rcl_status s = RCL_OK;
    for (int k = 0; k < b->repeat && !s; k++)
        if (!(s = sample(d, b, g, k)))
            g->samples = k + 1;
    if (!s) {
        print_table(d, g);
        if (jw)
            write_json(jw, d, g, b->peer);
        sum->title = "SGEMM, WRN shapes (M x N x K)", sum->unit = "GFLOP/s";
        for (int i = 0; i < NSHAPES; i++) {
            char shape[48];
            snprintf(shape, sizeof shape, "%dx%dx%d", gemm_shapes[i][0], gemm_shapes[i][1], gemm_shapes[i][2]);
            rcl_bench_summary_add(sum, shape, rcl_bench_stats(g->gf[i], g->samples).median,
                                  rcl_bench_stats(g->peer[i], g->samples).median);
        }
        if (g->last_peer)
            snprintf(sum->peer_name, sizeof sum->peer_name, "numpy.matmul (%s)",
                     rcl_json_get_string(g->last_peer, "blas") ? rcl_json_get_string(g->last_peer, "blas") : "?");
    }
    rcl_json_free(g->last_peer);
    free(g);
    return s;
}
