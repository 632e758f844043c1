/* robustcl bench step: training-step images/s of a WRN on random data, the device time per
 * kernel and the peak device memory, beside PyTorch's step on the same net (the peer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define MAX_PROFILE 64 /* kernel names the device profiles (it lumps any more into its last) */

typedef struct {
    double seconds, warm_mib, mib; /* seconds: all timed steps */
    double ips[RCL_BENCH_MAX_REPEAT], peer_ips[RCL_BENCH_MAX_REPEAT], ratio[RCL_BENCH_MAX_REPEAT];
    int samples;
    rcl_json *peer; /* the peer's last answer */
    char why[512];  /* why the peer is unavailable */
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

static void run_peer(const rcl_bench_cfg *b, step_result *r, int i) {
    char args[512];
    snprintf(args, sizeof args, "step --arch %s --input %dx%dx%d --batch %d --classes %d --steps %d "
             "--threads %d --device %s", b->arch, b->h, b->w, b->c, b->batch, b->classes, b->steps,
             b->peer_threads, b->peer_device);
    rcl_json_free(r->peer);
    r->peer = rcl_bench_run_peer(b->script, args, r->why, sizeof r->why);
    r->peer_ips[i] = r->peer ? rcl_json_get_number(r->peer, "images_per_second", 0) : 0;
    if (r->peer && r->peer_ips[i] <= 0)
        snprintf(r->why, sizeof r->why, "peer unavailable (no images_per_second)");
    r->ratio[i] = r->peer_ips[i] > 0 ? r->ips[i] / r->peer_ips[i] : 0;
}

/* Step 0 warms up (kernel builds, allocation, convolution choices): not timed, and its peak
 * memory is reported apart from training's. Then --repeat samples of --steps steps each,
 * each followed by the peer's when asked: the two alternate, so both see the same machine. */
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
        for (int k = 0; s == RCL_OK && k < b->repeat; k++) {
            double t0 = rcl_now();
            for (int i = 0; s == RCL_OK && i < b->steps; i++)
                s = rcl_step_probe_step(&p, 1);
            if (!s && !(s = rcl_device_finish(d))) {
                double t = rcl_now() - t0;
                r->seconds += t, r->ips[k] = b->steps * b->batch / t, r->samples = k + 1;
                if (b->peer)
                    run_peer(b, r, k);
            }
        }
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
    int steps = b->steps * r->samples;
    double total = profiled_ms(r);
    rcl_bench_stat ips = rcl_bench_stats(r->ips, r->samples);
    char ours[96];
    rcl_bench_stat_format(&ips, "%.1f", ours, sizeof ours);
    printf("%s %dx%dx%d batch %d on %s (CLBlast %s): %s images/s (%s of %d x %d steps; %.1f ms/step), "
           "peak device memory %.1f MiB (warm-up step %.1f MiB)\n", b->arch, b->h, b->w, b->c, b->batch,
           rcl_device_get_info(d)->name, rcl_gemm_params_source(d), ours,
           r->samples > 1 ? "median (min-max)" : "one sample", r->samples, b->steps,
           1e3 * b->batch / ips.median, r->mib, r->warm_mib);
    printf("convolution kernels: %s\n", rcl_conv_params_source(d));
    printf("%-28s %10s %8s %7s\n", "kernel", "ms/step", "calls", "share");
    for (int i = 0; i < r->np; i++)
        if (r->prof[i].calls > 0)
            printf("%-28s %10.2f %8.1f %6.1f%%\n", r->prof[i].name, r->prof[i].ms / steps,
                   (double)r->prof[i].calls / steps, total > 0 ? 100 * r->prof[i].ms / total : 0);
    printf("%-28s %10.2f %8s %6.1f%% of the step\n", "profiled total", total / steps, "",
           100 * total / (1e3 * r->seconds));
    if (!b->peer)
        return;
    rcl_bench_stat peer = rcl_bench_stats(r->peer_ips, r->samples), ratio = rcl_bench_stats(r->ratio, r->samples);
    if (!peer.n) {
        printf("%s\n", r->why[0] ? r->why : "peer unavailable");
        return;
    }
    char theirs[96], rs[96];
    rcl_bench_stat_format(&peer, "%.1f", theirs, sizeof theirs);
    rcl_bench_stat_format(&ratio, "%.2f", rs, sizeof rs);
    printf("peer: PyTorch %s on %s, %d threads: %s images/s; robustcl/PyTorch = %sx (%s of %d pairs)\n",
           rcl_json_get_string(r->peer, "torch") ? rcl_json_get_string(r->peer, "torch") : "?",
           b->peer_device, b->peer_threads, theirs, rs, ratio.n > 1 ? "median (min-max)" : "one pair", ratio.n);
}

static void write_json(rcl_json_writer *jw, rcl_device *d, const rcl_bench_cfg *b, const step_result *r) {
    int steps = b->steps * r->samples;
    rcl_bench_stat ips = rcl_bench_stats(r->ips, r->samples);
    rcl_jw_begin_object(jw);
    rcl_jw_key(jw, "bench"), rcl_jw_string(jw, "step");
    rcl_jw_key(jw, "arch"), rcl_jw_string(jw, b->arch);
    char in[64];
    snprintf(in, sizeof in, "%dx%dx%d", b->h, b->w, b->c);
    rcl_jw_key(jw, "input"), rcl_jw_string(jw, in);
    rcl_jw_key(jw, "batch"), rcl_jw_int(jw, b->batch);
    rcl_jw_key(jw, "steps"), rcl_jw_int(jw, b->steps);
    rcl_jw_key(jw, "repeat"), rcl_jw_int(jw, b->repeat);
    rcl_bench_json_device(jw, d);
    rcl_jw_key(jw, "gemm_params"), rcl_jw_string(jw, rcl_gemm_params_string(d));
    rcl_jw_key(jw, "conv_params_source"), rcl_jw_string(jw, rcl_conv_params_source(d));
    rcl_jw_key(jw, "conv_algorithms"), rcl_jw_string(jw, r->convs);
    rcl_jw_key(jw, "images_per_second"), rcl_jw_number(jw, ips.median);
    rcl_bench_json_stat(jw, "images_per_second_samples", r->ips, r->samples);
    rcl_jw_key(jw, "ms_per_step"), rcl_jw_number(jw, 1e3 * b->batch / ips.median);
    rcl_jw_key(jw, "profiled_ms_per_step"), rcl_jw_number(jw, profiled_ms(r) / steps);
    rcl_jw_key(jw, "peak_device_mib"), rcl_jw_number(jw, r->mib);
    rcl_jw_key(jw, "peak_device_mib_warmup"), rcl_jw_number(jw, r->warm_mib);
    rcl_jw_key(jw, "profile_ms_per_step");
    rcl_jw_begin_object(jw);
    for (int i = 0; i < r->np; i++)
        if (r->prof[i].calls > 0)
            rcl_jw_key(jw, r->prof[i].name), rcl_jw_number(jw, r->prof[i].ms / steps);
    rcl_jw_end_object(jw);
    if (b->peer) {
        rcl_bench_json_peer(jw, r->peer, r->why);
        rcl_bench_json_stat(jw, "peer_images_per_second", r->peer_ips, r->samples);
        rcl_bench_json_stat(jw, "ratio_to_peer_samples", r->ratio, r->samples);
        rcl_bench_stat ratio = rcl_bench_stats(r->ratio, r->samples);
        rcl_jw_key(jw, "ratio_to_peer");
        ratio.n ? rcl_jw_number(jw, ratio.median) : rcl_jw_null(jw);
    }
    rcl_jw_end_object(jw);
}

rcl_status rcl_bench_step(rcl_device *d, const rcl_bench_cfg *b, rcl_json_writer *jw,
                          rcl_bench_summary *sum) {
    step_result *r = calloc(1, sizeof *r);
    if (!r)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    rcl_status s = measure(d, b, r);
    if (!s) {
        print_result(d, b, r);
        if (jw)
            write_json(jw, d, b, r);
        char label[48];
        snprintf(label, sizeof label, "%s %dx%dx%d b%d", b->arch, b->h, b->w, b->c, b->batch);
        sum->title = "training step", sum->unit = "images/s";
        rcl_bench_summary_add(sum, label, rcl_bench_stats(r->ips, r->samples).median,
                              rcl_bench_stats(r->peer_ips, r->samples).median);
        if (r->peer)
            snprintf(sum->peer_name, sizeof sum->peer_name, "PyTorch %s %s",
                     rcl_json_get_string(r->peer, "torch") ? rcl_json_get_string(r->peer, "torch") : "?",
                     b->peer_device);
    }
    rcl_json_free(r->peer);
    free(r);
    return s;
}
