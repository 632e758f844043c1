/* robustcl bench gemm / bench step, each beside its peer (bench/peer_pytorch.py) in one run;
 * bench logits, the cross-device check of bench/device-check.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_peer.h"
#include "cli.h"
#include "robustcl/safetensors.h"

static void help(void) {
    printf("usage: robustcl bench gemm [--device SEL] [--json FILE] [--repeat 3] [--peer-script PATH]\n"
           "       robustcl bench step [--arch wrn-16-4] [--batch 128] [--input 32x32x3] [--classes 10]\n"
           "                           [--steps 3] [--device SEL] [--json FILE] [--peer]\n"
           "                           [--peer-threads 2] [--peer-device cpu] [--peer-script PATH]\n"
           "       robustcl bench conv [--arch wrn-16-4] [--batch 128] [--input 32x32x3] [--repeat 3]\n"
           "                           [--device SEL] [--json FILE] [--peer] [--peer-threads 2]\n"
           "                           [--peer-device cpu] [--peer-script PATH]\n"
           "       robustcl bench logits --model FILE [--input-tensor parity.input] [--reference FILE]\n"
           "                           [--tolerance 1e-4] [--device SEL] [--json FILE]\n"
           "       robustcl bench loader [--data fashion-mnist] [--batch 128] [--json FILE]\n\n"
           "gemm: SGEMM GFLOP/s (best of --repeat) on WRN convolution shapes, beside numpy.matmul's\n"
           "      (the peer script's gemm mode: OpenBLAS where libblas.so.3 is OpenBLAS; the JSON names\n"
           "      the library) and the fraction; \"peer unavailable\" without python3 + numpy.\n"
           "step: training-step throughput (images/s) of a WRN on random data after one warm-up\n"
           "      step, with the device time per kernel (OpenCL profiling events; CLBlast's indirect\n"
           "      GEMM helper kernels are not reported) and the peak device memory.\n"
           "      --peer also runs the same net, batch and input in PyTorch (the peer script's step\n"
           "      mode, --peer-threads threads, on --peer-device, TF32 off) and prints both rates and\n"
           "      robustcl/PyTorch.\n"
           "conv: every distinct convolution of the net (and how many times the net uses it),\n"
           "      each pass (fwd, dx = input gradient, dw = weight gradient) timed under every\n"
           "      algorithm that handles it (ms, best of --repeat after a warm-up; '-' = does not\n"
           "      handle the shape), the algorithm the device's policy runs (\"chosen\") with its\n"
           "      GFLOP/s, and with --peer PyTorch's conv2d / conv2d_input / conv2d_weight on the\n"
           "      same shapes and threads with the ratio PyTorch ms / robustcl ms (> 1: robustcl is\n"
           "      faster). The last line sums the net: uses x chosen time.\n"
           "logits: eval-mode logits of a checkpoint on an input batch stored in a safetensors file\n"
           "      (default: the checkpoint itself, e.g. tests/data/torch_parity.safetensors); --json\n"
           "      writes them; --reference compares with such a JSON (from another device) and fails\n"
           "      when max|diff| > tolerance x max|reference|.\n"
           "loader: images/s of the input pipeline alone (one epoch of --data with crop, flip and\n"
           "      normalisation on its background thread): it must far outrun bench step.\n"
           RCL_CONV_ALGO_HELP
           "--peer-script: default bench/peer_pytorch.py (run from the source tree); the interpreter\n"
           "      is $ROBUSTCL_PYTHON, default /usr/bin/python3 (Debian's, with python3-torch).\n");
}

static const int gemm_shapes[][3] = {{1024, 1024, 1024}, {64, 8192, 576}, {128, 2048, 1152},
                                     {256, 512, 2304},   {64, 8192, 1152}, {32, 25088, 288}};
#define NSHAPES (int)(sizeof gemm_shapes / sizeof gemm_shapes[0])

static rcl_status bench_gemm(rcl_device *d, int repeat, const char *script, rcl_json_writer *jw) {
    char args[1024], why[512] = "";
    int len = snprintf(args, sizeof args, "gemm --repeat %d --shapes ", repeat);
    for (int i = 0; i < NSHAPES; i++)
        len += snprintf(args + len, sizeof args - (size_t)len, "%s%dx%dx%d", i ? "," : "",
                        gemm_shapes[i][0], gemm_shapes[i][1], gemm_shapes[i][2]);
    double ms[NSHAPES], gf[NSHAPES];
    rcl_status s = RCL_OK;
    for (int i = 0; i < NSHAPES && s == RCL_OK; i++) {
        int m = gemm_shapes[i][0], n = gemm_shapes[i][1], k = gemm_shapes[i][2];
        rcl_tensor a, b, c;
        memset(&a, 0, sizeof a), memset(&b, 0, sizeof b), memset(&c, 0, sizeof c);
        double best = 1e30;
        if (!(s = rcl_tensor_create(d, &a, "bench A", 1, m * k)) &&
            !(s = rcl_tensor_create(d, &b, "bench B", 1, k * n)) &&
            !(s = rcl_tensor_create(d, &c, "bench C", 1, m * n)) && !(s = rcl_tensor_fill(&a, 0.5f)) &&
            !(s = rcl_tensor_fill(&b, 0.25f)))
            /* run 0 is a warm-up that compiles CLBlast's kernels for this shape */
            for (int r = 0; r <= repeat && s == RCL_OK; r++) {
                double t0 = rcl_now();
                if (!(s = rcl_gemm(d, 0, 0, m, n, k, 1, a.buf, 0, k, b.buf, 0, n, 0, c.buf, 0, n)) &&
                    !(s = rcl_device_finish(d)) && r > 0 && rcl_now() - t0 < best)
                    best = rcl_now() - t0;
            }
        ms[i] = best * 1e3, gf[i] = 2.0 * m * n * k / best * 1e-9;
        rcl_tensor_release(&a), rcl_tensor_release(&b), rcl_tensor_release(&c);
    }
    if (s != RCL_OK)
        return s;
    rcl_json *peer = rcl_bench_run_peer(script, args, why, sizeof why);
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
        printf("peer: numpy.matmul with %s\n", rcl_json_get_string(peer, "blas") ? rcl_json_get_string(peer, "blas") : "?");
    else
        printf("%s\n", why);
    if (jw) {
        rcl_jw_begin_object(jw);
        rcl_jw_key(jw, "bench"), rcl_jw_string(jw, "gemm");
        rcl_jw_key(jw, "device"), rcl_jw_string(jw, rcl_device_get_info(d)->name);
        rcl_jw_key(jw, "driver"), rcl_jw_string(jw, rcl_device_get_info(d)->driver_version);
        rcl_jw_key(jw, "gemm_params_source"), rcl_jw_string(jw, rcl_gemm_params_source(d));
        rcl_jw_key(jw, "gemm_params"), rcl_jw_string(jw, rcl_gemm_params_string(d));
        rcl_jw_key(jw, "peer_blas");
        peer && rcl_json_get_string(peer, "blas") ? rcl_jw_string(jw, rcl_json_get_string(peer, "blas"))
                                                  : rcl_jw_null(jw);
        if (!peer)
            rcl_jw_key(jw, "peer_unavailable"), rcl_jw_string(jw, why);
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
    rcl_json_free(peer);
    return RCL_OK;
}

#define MAX_PROFILE 64 /* kernel names the device profiles (it lumps any more into its last) */

typedef struct {
    const char *arch;
    int batch, c, h, w, classes, steps;
} step_cfg;

/* One training step as the trainer runs it (upload, forward, loss, backward, SGD update). */
static rcl_status one_step(rcl_device *d, rcl_model *m, rcl_tensor *x, const float *host,
                           cl_mem labels, rcl_tensor *probs, rcl_tensor *loss, rcl_tensor *dlog) {
    const rcl_tensor *logits;
    RCL_TRY(rcl_tensor_upload(x, host));
    RCL_TRY(rcl_model_forward(m, x, 1, &logits));
    RCL_TRY(rcl_softmax_xent_forward(d, logits, labels, NULL, NULL, probs, loss));
    RCL_TRY(rcl_softmax_xent_backward(d, probs, labels, NULL, NULL, dlog));
    RCL_TRY(rcl_model_backward(m, dlog, NULL));
    RCL_TRY(rcl_model_step(m, 0.01f, 0.9f, 5e-4f, 1));
    return rcl_device_finish(d);
}

static rcl_status bench_step(rcl_device *d, const step_cfg *b, int peer_on, const char *script,
                             int peer_threads, const char *peer_device, rcl_json_writer *jw) {
    rcl_wrn_config cfg = {0};
    RCL_TRY(rcl_wrn_parse_arch(b->arch, &cfg));
    cfg.in_c = b->c, cfg.in_h = b->h, cfg.in_w = b->w, cfg.num_classes = b->classes, cfg.fc_bias = 1;
    rcl_model *m;
    RCL_TRY(rcl_model_create(d, &cfg, b->batch, &m));
    rcl_tensor x, probs, dlog, loss;
    cl_mem labels = NULL;
    memset(&x, 0, sizeof x), memset(&probs, 0, sizeof probs), memset(&dlog, 0, sizeof dlog);
    memset(&loss, 0, sizeof loss);
    size_t nin = (size_t)b->batch * b->c * b->h * b->w;
    int *lab = malloc((size_t)b->batch * sizeof *lab);
    float *host = malloc(nin * sizeof *host);
    rcl_profile_entry *pe, before[MAX_PROFILE];
    int np = 0, nbefore = 0;
    double el = 0;
    rcl_status s = lab && host ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    rcl_rng r = rcl_rng_seed(1);
    for (int i = 0; s == RCL_OK && i < b->batch; i++)
        lab[i] = (int)rcl_rng_below(&r, (uint64_t)b->classes);
    for (size_t i = 0; s == RCL_OK && i < nin; i++)
        host[i] = (float)(2 * rcl_rng_uniform(&r) - 1);
    if (!s && !(s = rcl_model_init(m, 1)) &&
        !(s = rcl_tensor_create(d, &x, "input", 4, b->batch, b->c, b->h, b->w)) &&
        !(s = rcl_tensor_create(d, &probs, "probs", 2, b->batch, b->classes)) &&
        !(s = rcl_tensor_create(d, &dlog, "dlogits", 2, b->batch, b->classes)) &&
        !(s = rcl_tensor_create(d, &loss, "loss", 1, 1)) &&
        !(s = rcl_device_alloc(d, (size_t)b->batch * sizeof(cl_int), "labels", &labels)) &&
        clEnqueueWriteBuffer(rcl_device_queue(d), labels, CL_TRUE, 0, (size_t)b->batch * sizeof(cl_int),
                             lab, 0, NULL, NULL) != CL_SUCCESS)
        s = rcl_fail(RCL_ERR_OPENCL, "bench step: uploading the labels failed");
    /* step 0 warms up (kernel compilation, allocation); the profile of the timed steps is
     * the difference of the totals after it and at the end */
    double warm_mib = 0;
    if (!s && !(s = one_step(d, m, &x, host, labels, &probs, &loss, &dlog)) &&
        !(s = rcl_device_profile(d, &pe, &nbefore))) {
        /* the peak of training, not of the warm-up's one-time algorithm measurements */
        warm_mib = rcl_device_mem_peak(d) / 1048576.0;
        rcl_device_mem_peak_reset(d);
        nbefore = nbefore < MAX_PROFILE ? nbefore : MAX_PROFILE;
        memcpy(before, pe, (size_t)nbefore * sizeof *pe);
        double t0 = rcl_now();
        for (int i = 0; s == RCL_OK && i < b->steps; i++)
            s = one_step(d, m, &x, host, labels, &probs, &loss, &dlog);
        el = rcl_now() - t0;
        if (!s)
            s = rcl_device_profile(d, &pe, &np);
    }
    for (int i = 0; !s && i < np; i++)
        for (int j = 0; j < nbefore; j++)
            if (!strcmp(pe[i].name, before[j].name)) {
                pe[i].ms -= before[j].ms, pe[i].calls -= before[j].calls;
                before[j].name[0] = 0; /* matched */
            }
    rcl_json *peer = NULL;
    char why[512] = "";
    if (!s) {
        double ips = b->steps * b->batch / el, total_ms = 0, mib = rcl_device_mem_peak(d) / 1048576.0;
        for (int i = 0; i < np; i++)
            total_ms += pe[i].ms;
        printf("%s %dx%dx%d batch %d on %s (CLBlast %s): %.1f images/s (%.1f ms/step), peak device "
               "memory %.1f MiB (warm-up step %.1f MiB)\n", b->arch, b->h, b->w, b->c, b->batch,
               rcl_device_get_info(d)->name, rcl_gemm_params_source(d), ips, 1e3 * el / b->steps, mib,
               warm_mib);
        printf("%-28s %10s %8s %7s\n", "kernel", "ms/step", "calls", "share");
        for (int i = 0; i < np; i++)
            if (pe[i].calls > 0)
                printf("%-28s %10.2f %8.1f %6.1f%%\n", pe[i].name, pe[i].ms / b->steps,
                       (double)pe[i].calls / b->steps, total_ms > 0 ? 100 * pe[i].ms / total_ms : 0);
        printf("%-28s %10.2f %8s %6.1f%% of the step\n", "profiled total", total_ms / b->steps, "",
               100 * total_ms / (1e3 * el));
        double peer_ips = 0;
        if (peer_on) {
            char args[512];
            snprintf(args, sizeof args, "step --arch %s --input %dx%dx%d --batch %d --classes %d --steps %d "
                     "--threads %d --device %s", b->arch, b->h, b->w, b->c, b->batch, b->classes, b->steps,
                     peer_threads, peer_device);
            peer = rcl_bench_run_peer(script, args, why, sizeof why);
            peer_ips = peer ? rcl_json_get_number(peer, "images_per_second", 0) : 0;
            if (peer_ips > 0)
                printf("peer: PyTorch %s on %s, %d threads: %.1f images/s; robustcl/PyTorch = %.2fx\n",
                       rcl_json_get_string(peer, "torch") ? rcl_json_get_string(peer, "torch") : "?",
                       peer_device, peer_threads, peer_ips, ips / peer_ips);
            else
                printf("%s\n", why[0] ? why : "peer unavailable (no images_per_second)");
        }
        if (jw) {
            rcl_jw_begin_object(jw);
            rcl_jw_key(jw, "bench"), rcl_jw_string(jw, "step");
            rcl_jw_key(jw, "arch"), rcl_jw_string(jw, b->arch);
            char in[64];
            snprintf(in, sizeof in, "%dx%dx%d", b->h, b->w, b->c);
            rcl_jw_key(jw, "input"), rcl_jw_string(jw, in);
            rcl_jw_key(jw, "batch"), rcl_jw_int(jw, b->batch);
            rcl_jw_key(jw, "steps"), rcl_jw_int(jw, b->steps);
            rcl_jw_key(jw, "device"), rcl_jw_string(jw, rcl_device_get_info(d)->name);
            rcl_jw_key(jw, "driver"), rcl_jw_string(jw, rcl_device_get_info(d)->driver_version);
            rcl_jw_key(jw, "gemm_params_source"), rcl_jw_string(jw, rcl_gemm_params_source(d));
            rcl_jw_key(jw, "gemm_params"), rcl_jw_string(jw, rcl_gemm_params_string(d));
            rcl_jw_key(jw, "images_per_second"), rcl_jw_number(jw, ips);
            rcl_jw_key(jw, "ms_per_step"), rcl_jw_number(jw, 1e3 * el / b->steps);
            rcl_jw_key(jw, "profiled_ms_per_step"), rcl_jw_number(jw, total_ms / b->steps);
            rcl_jw_key(jw, "peak_device_mib"), rcl_jw_number(jw, mib);
            rcl_jw_key(jw, "peak_device_mib_warmup"), rcl_jw_number(jw, warm_mib);
            rcl_jw_key(jw, "profile_ms_per_step");
            rcl_jw_begin_object(jw);
            for (int i = 0; i < np; i++)
                if (pe[i].calls > 0)
                    rcl_jw_key(jw, pe[i].name), rcl_jw_number(jw, pe[i].ms / b->steps);
            rcl_jw_end_object(jw);
            if (peer_on) {
                rcl_bench_json_peer(jw, peer, why);
                rcl_jw_key(jw, "ratio_to_peer");
                peer_ips > 0 ? rcl_jw_number(jw, ips / peer_ips) : rcl_jw_null(jw);
            }
            rcl_jw_end_object(jw);
        }
    }
    rcl_json_free(peer);
    free(lab);
    free(host);
    rcl_device_free(d, labels, (size_t)b->batch * sizeof(cl_int));
    rcl_tensor_release(&x), rcl_tensor_release(&probs), rcl_tensor_release(&dlog), rcl_tensor_release(&loss);
    rcl_model_free(m);
    return s;
}

/* Eval-mode logits of a checkpoint on a stored batch; optionally compared with a reference. */
static rcl_status bench_logits(rcl_device *d, const char *model, const char *input_tensor,
                               const char *reference, double tol, rcl_json_writer *jw) {
    rcl_wrn_config cfg;
    RCL_TRY(rcl_checkpoint_read_config(model, &cfg));
    rcl_st_file *f;
    RCL_TRY(rcl_st_open(model, &f));
    const rcl_st_tensor *in = rcl_st_find(f, input_tensor);
    rcl_status s = RCL_OK;
    if (!in || in->dtype != RCL_DT_F32 || in->ndim != 4 || in->shape[1] != cfg.in_c ||
        in->shape[2] != cfg.in_h || in->shape[3] != cfg.in_w || in->shape[0] < 1) {
        rcl_st_close(f);
        return rcl_fail(RCL_ERR_FORMAT, "%s: no F32 tensor '%s' of shape [n, %d, %d, %d]", model,
                        input_tensor, cfg.in_c, cfg.in_h, cfg.in_w);
    }
    int n = (int)in->shape[0];
    rcl_model *m = NULL;
    rcl_tensor x = {0};
    float *host = malloc(in->nbytes), *out = malloc(sizeof(float) * (size_t)n * cfg.num_classes);
    const rcl_tensor *logits;
    rcl_json *ref = NULL;
    if (!host || !out)
        s = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    else
        memcpy(host, in->data, in->nbytes); /* the file image may be unaligned */
    if (!s && !(s = rcl_model_create(d, &cfg, n, &m)) &&
        !(s = rcl_checkpoint_load(m, model, RCL_CKPT_EVAL, NULL)) &&
        !(s = rcl_tensor_create(d, &x, "input", 4, n, cfg.in_c, cfg.in_h, cfg.in_w)) &&
        !(s = rcl_tensor_upload(&x, host)) && !(s = rcl_model_forward(m, &x, 0, &logits)))
        s = rcl_tensor_download(logits, out);
    size_t nl = (size_t)n * cfg.num_classes;
    double max_diff = 0, max_ref = 0;
    if (!s && reference && !(s = rcl_json_parse_file(reference, &ref))) {
        const rcl_json *rl = rcl_json_get(ref, "logits");
        if (!rl || rl->type != RCL_JSON_ARRAY || rl->len != nl)
            s = rcl_fail(RCL_ERR_FORMAT, "%s: 'logits' is not an array of %zu numbers", reference, nl);
        for (size_t i = 0; !s && i < nl; i++) {
            double r = rl->items[i].number, diff = fabs(out[i] - r);
            max_diff = diff > max_diff ? diff : max_diff;
            max_ref = fabs(r) > max_ref ? fabs(r) : max_ref;
        }
    }
    if (!s) {
        printf("%s: %d x %d eval-mode logits on %s (CLBlast %s)\n", model, n, cfg.num_classes,
               rcl_device_get_info(d)->name, rcl_gemm_params_source(d));
        if (reference)
            printf("against %s: max |diff| %.3g, max |reference| %.3g, tolerance %.3g: %s\n", reference,
                   max_diff, max_ref, tol * max_ref, max_diff <= tol * max_ref ? "match" : "MISMATCH");
    }
    if (!s && jw) {
        rcl_jw_begin_object(jw);
        rcl_jw_key(jw, "bench"), rcl_jw_string(jw, "logits");
        rcl_jw_key(jw, "model"), rcl_jw_string(jw, model);
        rcl_jw_key(jw, "input_tensor"), rcl_jw_string(jw, input_tensor);
        rcl_jw_key(jw, "device"), rcl_jw_string(jw, rcl_device_get_info(d)->name);
        rcl_jw_key(jw, "driver"), rcl_jw_string(jw, rcl_device_get_info(d)->driver_version);
        rcl_jw_key(jw, "gemm_params_source"), rcl_jw_string(jw, rcl_gemm_params_source(d));
        rcl_jw_key(jw, "shape");
        rcl_jw_begin_array(jw), rcl_jw_int(jw, n), rcl_jw_int(jw, cfg.num_classes), rcl_jw_end_array(jw);
        rcl_jw_key(jw, "logits");
        rcl_jw_begin_array(jw);
        for (size_t i = 0; i < nl; i++)
            rcl_jw_number(jw, out[i]);
        rcl_jw_end_array(jw);
        if (reference) {
            rcl_jw_key(jw, "reference"), rcl_jw_string(jw, reference);
            rcl_jw_key(jw, "max_abs_diff"), rcl_jw_number(jw, max_diff);
            rcl_jw_key(jw, "match"), rcl_jw_bool(jw, max_diff <= tol * max_ref);
        }
        rcl_jw_end_object(jw);
    }
    if (!s && reference && !(max_diff <= tol * max_ref))
        s = rcl_fail(RCL_ERR_GEMM, "logits differ from %s: max |diff| %.3g > %.3g x max |reference| %.3g",
                     reference, max_diff, tol, max_ref);
    rcl_json_free(ref);
    rcl_tensor_release(&x);
    rcl_model_free(m);
    free(host);
    free(out);
    rcl_st_close(f);
    return s;
}

/* The input pipeline alone (background thread, crop + flip + normalisation): it must
 * outrun the device by far so training never waits for data. */
static rcl_status bench_loader(const char *spec, int batch, rcl_json_writer *jw) {
    rcl_dataset ds = {0};
    RCL_TRY(rcl_dataset_load(spec, 1, &ds));
    rcl_loader_options o = rcl_loader_defaults();
    o.batch = batch;
    rcl_loader *l = NULL;
    rcl_status s = rcl_loader_create(&ds, NULL, 0, &o, &l);
    long images = 0;
    double t0 = rcl_now();
    if (s == RCL_OK && (s = rcl_loader_start(l, 0, 0)) == RCL_OK)
        for (;;) {
            const float *x;
            const int32_t *y, *idx;
            int n;
            if ((s = rcl_loader_next(l, &x, &y, &idx, &n)) != RCL_OK || n == 0)
                break;
            images += n;
        }
    double el = rcl_now() - t0;
    if (s == RCL_OK) {
        printf("loader on %s (%dx%dx%d, batch %d, crop+flip+normalise, one producer thread): %.0f images/s "
               "(%ld images in %.2f s)\n", ds.name, ds.c, ds.h, ds.w, batch, images / el, images, el);
        if (jw) {
            rcl_jw_begin_object(jw);
            rcl_jw_key(jw, "bench"), rcl_jw_string(jw, "loader");
            rcl_jw_key(jw, "data"), rcl_jw_string(jw, ds.name);
            rcl_jw_key(jw, "batch"), rcl_jw_int(jw, batch);
            rcl_jw_key(jw, "images_per_second"), rcl_jw_number(jw, images / el);
            rcl_jw_end_object(jw);
        }
    }
    rcl_loader_free(l);
    rcl_dataset_free(&ds);
    return s;
}

int rcl_cmd_bench(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        help();
        return argc < 2 ? 2 : 0;
    }
    const char *what = argv[1], *dev = NULL, *json_path = NULL, *input = "32x32x3";
    const char *script = "bench/peer_pytorch.py", *peer_device = "cpu", *model = NULL;
    const char *input_tensor = "parity.input", *reference = NULL, *data = "fashion-mnist";
    double tol = 1e-4;
    step_cfg b = {"wrn-16-4", 128, 0, 0, 0, 10, 3};
    int repeat = 3, peer = 0, peer_threads = 2;
    if (strcmp(what, "gemm") && strcmp(what, "step") && strcmp(what, "conv") && strcmp(what, "logits") &&
        strcmp(what, "loader"))
        return rcl_cli_usage("bench", "unknown benchmark '%s' (gemm, step, conv, logits or loader)", what);
    rcl_args a;
    rcl_args_init(&a, "bench", argc - 1, argv + 1);
    while (rcl_args_next(&a)) {
        if (rcl_args_is(&a, "--help")) {
            help();
            return 0;
        } else if (rcl_args_is(&a, "--device")) dev = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--json")) json_path = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--arch")) b.arch = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--input")) input = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--batch")) rcl_args_int(&a, 1, 65536, &b.batch);
        else if (rcl_args_is(&a, "--classes")) rcl_args_int(&a, 2, 100000, &b.classes);
        else if (rcl_args_is(&a, "--steps")) rcl_args_int(&a, 1, 100000, &b.steps);
        else if (rcl_args_is(&a, "--repeat")) rcl_args_int(&a, 1, 1000, &repeat);
        else if (rcl_args_is(&a, "--peer")) peer = 1;
        else if (rcl_args_is(&a, "--peer-script")) script = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--peer-threads")) rcl_args_int(&a, 1, 1024, &peer_threads);
        else if (rcl_args_is(&a, "--peer-device")) peer_device = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--model")) model = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--input-tensor")) input_tensor = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--reference")) reference = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--tolerance")) rcl_args_double(&a, 0, 1, &tol);
        else if (rcl_args_is(&a, "--data")) data = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--conv-algo")) rcl_args_conv_algo(&a);
        else return rcl_args_unknown(&a);
    }
    if (a.bad)
        return 2;
    if (!strcmp(what, "logits") && !model)
        return rcl_cli_usage("bench", "logits needs --model FILE");
    int used = 0;
    if (sscanf(input, "%dx%dx%d%n", &b.h, &b.w, &b.c, &used) != 3 || input[used] || b.h < 4 ||
        b.w < 4 || b.c < 1)
        return rcl_cli_usage("bench", "--input '%s': expected HxWxC, e.g. 32x32x3", input);
    if (strspn(b.arch, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(b.arch) ||
        strspn(peer_device, "abcdefghijklmnopqrstuvwxyz0123456789:") != strlen(peer_device))
        return rcl_cli_usage("bench", "--arch / --peer-device: letters, digits, '-' and ':' only");
    FILE *json = NULL;
    if (!strcmp(what, "loader")) { /* host only: no device */
        if (json_path && !(json = fopen(json_path, "w"))) {
            rcl_fail(RCL_ERR_IO, "%s: cannot create", json_path);
            return rcl_cli_error();
        }
        rcl_json_writer jl;
        if (json)
            rcl_jw_init(&jl, json, 2);
        rcl_status ls = data ? bench_loader(data, b.batch, json ? &jl : NULL) : RCL_ERR_INVALID_ARG;
        if (json) {
            rcl_jw_finish(&jl);
            fclose(json);
        }
        return ls == RCL_OK ? 0 : rcl_cli_error();
    }
    rcl_device *d;
    if (rcl_cli_open_device(dev, !strcmp(what, "step"), &d) != RCL_OK)
        return rcl_cli_error();

    if (json_path && !(json = fopen(json_path, "w"))) {
        rcl_device_close(d);
        rcl_fail(RCL_ERR_IO, "%s: cannot create", json_path);
        return rcl_cli_error();
    }
    rcl_json_writer jw;
    if (json)
        rcl_jw_init(&jw, json, 2);
    rcl_bench_conv_cfg bc = {b.arch, b.batch, b.c, b.h, b.w, b.classes, repeat, peer, peer_threads,
                             script, peer_device};
    rcl_status s = !strcmp(what, "gemm")   ? bench_gemm(d, repeat, script, json ? &jw : NULL)
                   : !strcmp(what, "conv") ? rcl_bench_conv(d, &bc, json ? &jw : NULL)
                   : !strcmp(what, "step") ? bench_step(d, &b, peer, script, peer_threads, peer_device,
                                                        json ? &jw : NULL)
                                           : bench_logits(d, model, input_tensor, reference, tol,
                                                          json ? &jw : NULL);
    if (json) {
        rcl_status js = rcl_jw_finish(&jw);
        if (!s)
            s = js;
        if (fclose(json) && !s)
            s = rcl_fail(RCL_ERR_IO, "%s: write failed", json_path);
    }
    rcl_device_close(d);
    return s == RCL_OK ? 0 : rcl_cli_error();
}
