/* robustcl bench gemm: CLBlast SGEMM GFLOP/s on the WRN convolution shapes, beside
 * numpy.matmul's (bench/peer_pytorch.py gemm) in the same run. */
#include <stdio.h>
#include <string.h>

#include "bench.h"

static const int gemm_shapes[][3] = {{1024, 1024, 1024}, {64, 8192, 576}, {128, 2048, 1152},
                                     {256, 512, 2304},   {64, 8192, 1152}, {32, 25088, 288}};
#define NSHAPES (int)(sizeof gemm_shapes / sizeof gemm_shapes[0])

/* Best of `repeat` timed runs of C = A B after a warm-up that compiles CLBlast's kernels. */
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

static void print_table(rcl_device *d, const double *ms, const double *gf, const rcl_json *peer,
                        const char *why) {
    const rcl_json *pr = peer ? rcl_json_get(peer, "results") : NULL;
    printf("%s, CLBlast parameters: %s\n", rcl_device_get_info(d)->name, rcl_gemm_params_source(d));
    printf("%-18s %9s %9s %12s %9s\n", "M x N x K", "ms", "GFLOP/s", "peer GFLOP/s", "fraction");
    for (int i = 0; i < NSHAPES; i++) {
        char shape[48];
        snprintf(shape, sizeof shape, "%dx%dx%d", gemm_shapes[i][0], gemm_shapes[i][1], gemm_shapes[i][2]);
        double pg = pr ? rcl_json_get_number(rcl_json_at(pr, (size_t)i), "gflops", 0) : 0;
        if (pg > 0)
            printf("%-18s %9.3f %9.1f %12.1f %8.0f%%\n", shape, ms[i], gf[i], pg, 100 * gf[i] / pg);
        else
            printf("%-18s %9.3f %9.1f %12s %9s\n", shape, ms[i], gf[i], "-", "-");
    }
    if (peer)
        printf("peer: numpy.matmul with %s\n",
               rcl_json_get_string(peer, "blas") ? rcl_json_get_string(peer, "blas") : "?");
    else if (why[0])
        printf("%s\n", why);
}

static void write_json(rcl_json_writer *jw, rcl_device *d, const double *ms, const double *gf,
                       const rcl_json *peer, const char *why, int peer_asked) {
    const rcl_json *pr = peer ? rcl_json_get(peer, "results") : NULL;
    rcl_jw_begin_object(jw);
    rcl_jw_key(jw, "bench"), rcl_jw_string(jw, "gemm");
    rcl_bench_json_device(jw, d);
    rcl_jw_key(jw, "gemm_params"), rcl_jw_string(jw, rcl_gemm_params_string(d));
    if (peer_asked) {
        rcl_jw_key(jw, "peer_blas");
        peer && rcl_json_get_string(peer, "blas") ? rcl_jw_string(jw, rcl_json_get_string(peer, "blas"))
                                                  : rcl_jw_null(jw);
        if (!peer)
            rcl_jw_key(jw, "peer_unavailable"), rcl_jw_string(jw, why);
    }
    rcl_jw_key(jw, "results");
    rcl_jw_begin_array(jw);
    for (int i = 0; i < NSHAPES; i++) {
        double pg = pr ? rcl_json_get_number(rcl_json_at(pr, (size_t)i), "gflops", 0) : 0;
        rcl_jw_begin_object(jw);
        rcl_jw_key(jw, "m"), rcl_jw_int(jw, gemm_shapes[i][0]);
        rcl_jw_key(jw, "n"), rcl_jw_int(jw, gemm_shapes[i][1]);
        rcl_jw_key(jw, "k"), rcl_jw_int(jw, gemm_shapes[i][2]);
        rcl_jw_key(jw, "ms"), rcl_jw_number(jw, ms[i]);
        rcl_jw_key(jw, "gflops"), rcl_jw_number(jw, gf[i]);
        rcl_jw_key(jw, "peer_gflops"), pg > 0 ? rcl_jw_number(jw, pg) : rcl_jw_null(jw);
        rcl_jw_key(jw, "fraction_of_peer"), pg > 0 ? rcl_jw_number(jw, gf[i] / pg) : rcl_jw_null(jw);
        rcl_jw_end_object(jw);
    }
    rcl_jw_end_array(jw);
    rcl_jw_end_object(jw);
}

rcl_status rcl_bench_gemm(rcl_device *d, const rcl_bench_cfg *b, rcl_json_writer *jw,
                          rcl_bench_summary *sum) {
    double ms[NSHAPES], gf[NSHAPES];
    for (int i = 0; i < NSHAPES; i++) {
        int m = gemm_shapes[i][0], n = gemm_shapes[i][1], k = gemm_shapes[i][2];
        double best;
        RCL_TRY(time_shape(d, m, n, k, b->repeat, &best));
        ms[i] = best * 1e3, gf[i] = 2.0 * m * n * k / best * 1e-9;
    }
    char args[1024], why[512] = "";
    int len = snprintf(args, sizeof args, "gemm --repeat %d --shapes ", b->repeat);
    for (int i = 0; i < NSHAPES; i++)
        len += snprintf(args + len, sizeof args - (size_t)len, "%s%dx%dx%d", i ? "," : "",
                        gemm_shapes[i][0], gemm_shapes[i][1], gemm_shapes[i][2]);
    rcl_json *peer = b->peer ? rcl_bench_run_peer(b->script, args, why, sizeof why) : NULL;
    print_table(d, ms, gf, peer, why);
    if (jw)
        write_json(jw, d, ms, gf, peer, why, b->peer);
    const rcl_json *pr = peer ? rcl_json_get(peer, "results") : NULL;
    sum->title = "SGEMM, WRN shapes (M x N x K)", sum->unit = "GFLOP/s";
    for (int i = 0; i < NSHAPES; i++) {
        char shape[48];
        snprintf(shape, sizeof shape, "%dx%dx%d", gemm_shapes[i][0], gemm_shapes[i][1], gemm_shapes[i][2]);
        rcl_bench_summary_add(sum, shape, gf[i],
                              pr ? rcl_json_get_number(rcl_json_at(pr, (size_t)i), "gflops", 0) : 0);
    }
    if (peer)
        snprintf(sum->peer_name, sizeof sum->peer_name, "numpy.matmul (%s)",
                 rcl_json_get_string(peer, "blas") ? rcl_json_get_string(peer, "blas") : "?");
    rcl_json_free(peer);
    return RCL_OK;
}
