#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(void) {
    printf("usage: robustcl bench gemm [--device SEL] [--json FILE] [--repeat N]\n"
           "       robustcl bench step [--arch wrn-16-4] [--batch 128] [--input 32x32x3] [--classes 10]\n"
           "                           [--steps N] [--device SEL] [--json FILE]\n\n"
           "gemm: SGEMM GFLOP/s (best of --repeat) on the convolution shapes of PERFORMANCE-NOTES.\n"
           "step: training-step throughput (images/s) of a WRN on random data, with the device time\n"
           "      per kernel (OpenCL profiling events) and the peak device memory.\n");
}

static const int gemm_shapes[][3] = {{1024, 1024, 1024}, {64, 8192, 576}, {128, 2048, 1152},
                                     {256, 512, 2304},   {64, 8192, 1152}, {32, 25088, 288}};

static rcl_status bench_gemm(rcl_device *d, int repeat, FILE *json) {
    rcl_status s = RCL_OK;
    printf("%-20s %10s %12s\n", "M x N x K", "ms", "GFLOP/s");
    if (json)
        fprintf(json, "{\"bench\": \"gemm\", \"device\": \"%s\", \"gemm_params\": \"%s\", \"results\": [",
                rcl_device_get_info(d)->name, rcl_gemm_params_source(d));
    for (size_t i = 0; i < sizeof gemm_shapes / sizeof gemm_shapes[0] && s == RCL_OK; i++) {
        int m = gemm_shapes[i][0], n = gemm_shapes[i][1], k = gemm_shapes[i][2];
        rcl_tensor a, b, c;
        memset(&a, 0, sizeof a), memset(&b, 0, sizeof b), memset(&c, 0, sizeof c);
        if ((s = rcl_tensor_create(d, &a, "bench A", 1, m * k)) || (s = rcl_tensor_create(d, &b, "bench B", 1, k * n)) ||
            (s = rcl_tensor_create(d, &c, "bench C", 1, m * n)) || (s = rcl_tensor_fill(&a, 0.5f)) ||
            (s = rcl_tensor_fill(&b, 0.25f)))
            goto next;
        /* warm-up compiles CLBlast's kernels for this shape */
        if ((s = rcl_gemm(d, 0, 0, m, n, k, 1, a.buf, 0, k, b.buf, 0, n, 0, c.buf, 0, n)) || (s = rcl_device_finish(d)))
            goto next;
        double best = 1e30;
        for (int r = 0; r < repeat; r++) {
            double t0 = rcl_now();
            if ((s = rcl_gemm(d, 0, 0, m, n, k, 1, a.buf, 0, k, b.buf, 0, n, 0, c.buf, 0, n)) ||
                (s = rcl_device_finish(d)))
                goto next;
            double t = rcl_now() - t0;
            if (t < best)
                best = t;
        }
        double gf = 2.0 * m * n * k / best * 1e-9;
        char shape[32];
        snprintf(shape, sizeof shape, "%dx%dx%d", m, n, k);
        printf("%-20s %10.3f %12.1f\n", shape, best * 1e3, gf);
        if (json)
            fprintf(json, "%s{\"m\": %d, \"n\": %d, \"k\": %d, \"ms\": %.4f, \"gflops\": %.2f}", i ? ", " : "", m, n, k,
                    best * 1e3, gf);
    next:
        rcl_tensor_release(&a), rcl_tensor_release(&b), rcl_tensor_release(&c);
    }
    if (json)
        fprintf(json, "]}\n");
    return s;
}

static rcl_status bench_step(rcl_device *d, const char *arch, int batch, int c, int h, int w, int classes, int steps,
                             FILE *json) {
    rcl_wrn_config cfg = {0};
    RCL_TRY(rcl_wrn_parse_arch(arch, &cfg));
    cfg.in_c = c, cfg.in_h = h, cfg.in_w = w, cfg.num_classes = classes, cfg.fc_bias = 1;
    rcl_model *m;
    RCL_TRY(rcl_model_create(d, &cfg, batch, &m));
    rcl_tensor x, probs, dlog, loss;
    cl_mem labels = NULL;
    memset(&x, 0, sizeof x), memset(&probs, 0, sizeof probs), memset(&dlog, 0, sizeof dlog), memset(&loss, 0, sizeof loss);
    int *lab = malloc((size_t)batch * sizeof *lab);
    float *host = malloc((size_t)batch * c * h * w * sizeof *host);
    rcl_status s = lab && host ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    rcl_rng r = rcl_rng_seed(1);
    for (int i = 0; s == RCL_OK && i < batch; i++)
        lab[i] = (int)rcl_rng_below(&r, (uint64_t)classes);
    for (size_t i = 0; s == RCL_OK && i < (size_t)batch * c * h * w; i++)
        host[i] = (float)(2 * rcl_rng_uniform(&r) - 1);
    if (s == RCL_OK && !(s = rcl_model_init(m, 1)) && !(s = rcl_tensor_create(d, &x, "input", 4, batch, c, h, w)) &&
        !(s = rcl_tensor_create(d, &probs, "probs", 2, batch, classes)) &&
        !(s = rcl_tensor_create(d, &dlog, "dlogits", 2, batch, classes)) && !(s = rcl_tensor_create(d, &loss, "loss", 1, 1)) &&
        !(s = rcl_device_alloc(d, (size_t)batch * sizeof(cl_int), "labels", &labels)) && !(s = rcl_tensor_upload(&x, host)))
        clEnqueueWriteBuffer(rcl_device_queue(d), labels, CL_TRUE, 0, (size_t)batch * sizeof(cl_int), lab, 0, NULL, NULL);
    double t_steps = 0;
    for (int i = 0; s == RCL_OK && i <= steps; i++) {
        if (i == 1) { /* step 0 warms up (kernel compilation, allocation) */
            rcl_device_profile_reset(d);
            t_steps = rcl_now();
        }
        const rcl_tensor *logits;
        if (!(s = rcl_tensor_upload(&x, host)) && !(s = rcl_model_forward(m, &x, 1, &logits)) &&
            !(s = rcl_softmax_xent_forward(d, logits, labels, NULL, NULL, &probs, &loss)) &&
            !(s = rcl_softmax_xent_backward(d, &probs, labels, NULL, NULL, &dlog)) &&
            !(s = rcl_model_backward(m, &dlog, NULL)) && !(s = rcl_model_step(m, 0.01f, 0.9f, 5e-4f, 1)))
            s = rcl_device_finish(d);
    }
    if (s == RCL_OK) {
        double el = rcl_now() - t_steps, ips = steps * batch / el;
        rcl_profile_entry *pe;
        int np = 0;
        rcl_device_profile(d, &pe, &np);
        double total_ms = 0;
        for (int i = 0; i < np; i++)
            total_ms += pe[i].ms;
        printf("%s %dx%dx%d batch %d on %s: %.1f images/s (%.1f ms/step), peak device memory %.1f MiB\n", arch, c, h, w,
               batch, rcl_device_get_info(d)->name, ips, 1e3 * el / steps, rcl_device_mem_peak(d) / 1048576.0);
        printf("%-28s %10s %8s %7s\n", "kernel", "ms/step", "calls", "share");
        for (int i = 0; i < np; i++)
            printf("%-28s %10.2f %8.1f %6.1f%%\n", pe[i].name, pe[i].ms / steps, (double)pe[i].calls / steps,
                   total_ms > 0 ? 100 * pe[i].ms / total_ms : 0);
        if (json) {
            fprintf(json, "{\"bench\": \"step\", \"arch\": \"%s\", \"input\": \"%dx%dx%d\", \"batch\": %d, \"device\": \"%s\", "
                          "\"gemm_params\": \"%s\", \"images_per_second\": %.3f, \"ms_per_step\": %.3f, "
                          "\"peak_device_mib\": %.1f, \"profile_ms_per_step\": {",
                    arch, c, h, w, batch, rcl_device_get_info(d)->name, rcl_gemm_params_source(d), ips, 1e3 * el / steps,
                    rcl_device_mem_peak(d) / 1048576.0);
            for (int i = 0; i < np; i++)
                fprintf(json, "%s\"%s\": %.4f", i ? ", " : "", pe[i].name, pe[i].ms / steps);
            fprintf(json, "}}\n");
        }
    }
    free(lab);
    free(host);
    rcl_device_free(d, labels, (size_t)batch * sizeof(cl_int));
    rcl_tensor_release(&x), rcl_tensor_release(&probs), rcl_tensor_release(&dlog), rcl_tensor_release(&loss);
    rcl_model_free(m);
    return s;
}

int rcl_cmd_bench(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        help();
        return argc < 2 ? 2 : 0;
    }
    const char *what = argv[1], *dev = NULL, *json_path = NULL, *arch = "wrn-16-4", *input = "32x32x3";
    int batch = 128, classes = 10, steps = 3, repeat = 3;
    if (strcmp(what, "gemm") && strcmp(what, "step"))
        return rcl_cli_usage("bench", "unknown benchmark '%s' (gemm or step)", what);
    rcl_args a;
    rcl_args_init(&a, "bench", argc - 1, argv + 1);
    while (rcl_args_next(&a)) {
        if (rcl_args_is(&a, "--help")) {
            help();
            return 0;
        } else if (rcl_args_is(&a, "--device")) dev = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--json")) json_path = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--arch")) arch = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--input")) input = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--batch")) rcl_args_int(&a, 1, 65536, &batch);
        else if (rcl_args_is(&a, "--classes")) rcl_args_int(&a, 2, 100000, &classes);
        else if (rcl_args_is(&a, "--steps")) rcl_args_int(&a, 1, 100000, &steps);
        else if (rcl_args_is(&a, "--repeat")) rcl_args_int(&a, 1, 1000, &repeat);
        else return rcl_args_unknown(&a);
    }
    if (a.bad)
        return 2;
    int h, w, c, used = 0;
    if (sscanf(input, "%dx%dx%d%n", &h, &w, &c, &used) != 3 || input[used] || h < 4 || w < 4 || c < 1)
        return rcl_cli_usage("bench", "--input '%s': expected HxWxC, e.g. 32x32x3", input);
    rcl_device *d;
    if (rcl_cli_open_device(dev, !strcmp(what, "step"), &d) != RCL_OK)
        return rcl_cli_error();
    FILE *json = NULL;
    if (json_path && !(json = fopen(json_path, "w"))) {
        rcl_device_close(d);
        rcl_fail(RCL_ERR_IO, "%s: cannot create", json_path);
        return rcl_cli_error();
    }
    rcl_status s = !strcmp(what, "gemm") ? bench_gemm(d, repeat, json)
                                         : bench_step(d, arch, batch, c, h, w, classes, steps, json);
    if (json)
        fclose(json);
    rcl_device_close(d);
    return s == RCL_OK ? 0 : rcl_cli_error();
}
