/* robustcl bench step: training-step images/s of a WRN on random data, the device time per
 * kernel and the peak device memory, beside PyTorch's step on the same net (the peer). */
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define MAX_PROFILE 64 /* kernel names the device profiles (it lumps any more into its last) */

typedef struct {
    double seconds, warm_mib, mib;
    int np;
    rcl_profile_entry prof[MAX_PROFILE]; /* device time of the timed steps per kernel */
    char convs[2048];                    /* the convolution algorithm chosen per layer */
} step_result;

/* The timed steps' profile: the totals at the end less those after the warm-up step. */
static void profile_diff(step_result *r, const rcl_profile_entry *before, int nbefore,
                         const rcl_profile_entry *after, int nafter) {
    r->np = nafter < MAX_PROFILE ? nafter : MAX_PROFILE;
    memcpy(r->prof, after, (size_t)r->np * sizeof *after);
    for (int i = 0; i < r->np; i++)
        for (int j = 0; j < nbefore; j++)
            if (!strcmp(r->prof[i].name, before[j].name)) {
                r->prof[i].ms -= before[j].ms, r->prof[i].calls -= before[j].calls;
                break;
            }
}

/* Step 0 warms up (kernel builds, allocation, convolution algorithm choices): not timed, and
 * its peak memory is reported apart from training's. */
static rcl_status measure(rcl_device *d, const rcl_bench_cfg *b, step_result *r) {
    rcl_wrn_config cfg = {0};
    RCL_TRY(rcl_wrn_parse_arch(b->arch, &cfg));
    cfg.in_c = b->c, cfg.in_h = b->h, cfg.in_w = b->w, cfg.num_classes = b->classes, cfg.fc_bias = 1;
    rcl_step_probe p;
    RCL_TRY(rcl_step_probe_create(d, &cfg, b->batch, &p));
    rcl_profile_entry *pe, before[MAX_PROFILE];
    int nbefore = 0, nafter = 0;
    rcl_status s;
    if (!(s = rcl_step_probe_step(&p, 1)) && !(s = rcl_device_profile(d, &pe, &nbefore))) {
        r->warm_mib = rcl_device_mem_peak(d) / 1048576.0;
        rcl_device_mem_peak_reset(d);
        nbefore = nbefore < MAX_PROFILE ? nbefore : MAX_PROFILE;
        memcpy(before, pe, (size_t)nbefore * sizeof *pe);
        double t0 = rcl_now();
        for (int i = 0; s == RCL_OK && i < b->steps; i++)
            s = rcl_step_probe_step(&p, 1);
        r->seconds = rcl_now() - t0;
        r->mib = rcl_device_mem_peak(d) / 1048576.0;
        if (!s && !(s = rcl_device_profile(d, &pe, &nafter)))
            profile_diff(r, before, nbefore, pe, nafter);
        rcl_model_conv_summary(p.model, r->convs, sizeof r->convs);
    }
    rcl_step_probe_free(&p);
    return s;
}

static double profiled_ms(const step_result *r) {
    double total = 0;
    for (int i = 0; i < r->np; i++)
        total += r->prof[i].ms;
    return total;
}

static void print_result(rcl_device *d, const rcl_bench_cfg *b, const step_result *r) {
    double ips = b->steps * b->batch / r->seconds, total = profiled_ms(r);
    printf("%s %dx%dx%d batch %d on %s (CLBlast %s): %.1f images/s (%.1f ms/step), peak device "
           "memory %.1f MiB (warm-up step %.1f MiB)\n", b->arch, b->h, b->w, b->c, b->batch,
           rcl_device_get_info(d)->name, rcl_gemm_params_source(d), ips, 1e3 * r->seconds / b->steps,
           r->mib, r->warm_mib);
    printf("%-28s %10s %8s %7s\n", "kernel", "ms/step", "calls", "share");
    for (int i = 0; i < r->np; i++)
        if (r->prof[i].calls > 0)
            printf("%-28s %10.2f %8.1f %6.1f%%\n", r->prof[i].name, r->prof[i].ms / b->steps,
                   (double)r->prof[i].calls / b->steps, total > 0 ? 100 * r->prof[i].ms / total : 0);
    printf("%-28s %10.2f %8s %6.1f%% of the step\n", "profiled total", total / b->steps, "",
           100 * total / (1e3 * r->seconds));
}

static rcl_json *run_peer(const rcl_bench_cfg *b, double ips, double *peer_ips, char *why, size_t cap) {
    char args[512];
    snprintf(args, sizeof args, "step --arch %s --input %dx%dx%d --batch %d --classes %d --steps %d "
             "--threads %d --device %s", b->arch, b->h, b->w, b->c, b->batch, b->classes, b->steps,
             b->peer_threads, b->peer_device);
    rcl_json *peer = rcl_bench_run_peer(b->script, args, why, cap);
    *peer_ips = peer ? rcl_json_get_number(peer, "images_per_second", 0) : 0;
    if (*peer_ips > 0)
        printf("peer: PyTorch %s on %s, %d threads: %.1f images/s; robustcl/PyTorch = %.2fx\n",
               rcl_json_get_string(peer, "torch") ? rcl_json_get_string(peer, "torch") : "?",
               b->peer_device, b->peer_threads, *peer_ips, ips / *peer_ips);
    else
        printf("%s\n", why[0] ? why : "peer unavailable (no images_per_second)");
    return peer;
}

static void write_json(rcl_json_writer *jw, rcl_device *d, const rcl_bench_cfg *b, const step_result *r,
                       const rcl_json *peer, double peer_ips, const char *why) {
    double ips = b->steps * b->batch / r->seconds;
    rcl_jw_begin_object(jw);
    rcl_jw_key(jw, "bench"), rcl_jw_string(jw, "step");
    rcl_jw_key(jw, "arch"), rcl_jw_string(jw, b->arch);
    char in[64];
    snprintf(in, sizeof in, "%dx%dx%d", b->h, b->w, b->c);
    rcl_jw_key(jw, "input"), rcl_jw_string(jw, in);
    rcl_jw_key(jw, "batch"), rcl_jw_int(jw, b->batch);
    rcl_jw_key(jw, "steps"), rcl_jw_int(jw, b->steps);
    rcl_bench_json_device(jw, d);
    rcl_jw_key(jw, "gemm_params"), rcl_jw_string(jw, rcl_gemm_params_string(d));
    rcl_jw_key(jw, "conv_algorithms"), rcl_jw_string(jw, r->convs);
    rcl_jw_key(jw, "images_per_second"), rcl_jw_number(jw, ips);
    rcl_jw_key(jw, "ms_per_step"), rcl_jw_number(jw, 1e3 * r->seconds / b->steps);
    rcl_jw_key(jw, "profiled_ms_per_step"), rcl_jw_number(jw, profiled_ms(r) / b->steps);
    rcl_jw_key(jw, "peak_device_mib"), rcl_jw_number(jw, r->mib);
    rcl_jw_key(jw, "peak_device_mib_warmup"), rcl_jw_number(jw, r->warm_mib);
    rcl_jw_key(jw, "profile_ms_per_step");
    rcl_jw_begin_object(jw);
    for (int i = 0; i < r->np; i++)
        if (r->prof[i].calls > 0)
            rcl_jw_key(jw, r->prof[i].name), rcl_jw_number(jw, r->prof[i].ms / b->steps);
    rcl_jw_end_object(jw);
    if (b->peer) {
        rcl_bench_json_peer(jw, peer, why);
        rcl_jw_key(jw, "ratio_to_peer");
        peer_ips > 0 ? rcl_jw_number(jw, ips / peer_ips) : rcl_jw_null(jw);
    }
    rcl_jw_end_object(jw);
}

rcl_status rcl_bench_step(rcl_device *d, const rcl_bench_cfg *b, rcl_json_writer *jw,
                          rcl_bench_summary *sum) {
    step_result r;
    memset(&r, 0, sizeof r);
    RCL_TRY(measure(d, b, &r));
    print_result(d, b, &r);
    double ips = b->steps * b->batch / r.seconds, peer_ips = 0;
    rcl_json *peer = NULL;
    char why[512] = "";
    if (b->peer)
        peer = run_peer(b, ips, &peer_ips, why, sizeof why);
    if (jw)
        write_json(jw, d, b, &r, peer, peer_ips, why);
    char label[48];
    snprintf(label, sizeof label, "%s %dx%dx%d b%d", b->arch, b->h, b->w, b->c, b->batch);
    sum->title = "training step", sum->unit = "images/s";
    rcl_bench_summary_add(sum, label, ips, peer_ips);
    if (peer)
        snprintf(sum->peer_name, sizeof sum->peer_name, "PyTorch %s %s",
                 rcl_json_get_string(peer, "torch") ? rcl_json_get_string(peer, "torch") : "?", b->peer_device);
    rcl_json_free(peer);
    return RCL_OK;
}
