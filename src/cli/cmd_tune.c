/* robustcl tune: CLBlast GEMM parameters searched on the GEMMs a WRN training step runs, then
 * the convolution algorithms of that WRN measured anew on the device (docs/convolution.md). */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cli.h"

#define MAX_SHAPES 256

static rcl_status record_step(rcl_device *d, const char *arch, int batch, int c, int h, int w,
                              int classes, rcl_gemm_shape *shapes, int *n) {
    rcl_wrn_config cfg = {0};
    RCL_TRY(rcl_wrn_parse_arch(arch, &cfg));
    cfg.in_c = c, cfg.in_h = h, cfg.in_w = w, cfg.num_classes = classes, cfg.fc_bias = 1;
    rcl_model *m;
    RCL_TRY(rcl_model_create(d, &cfg, batch, &m));
    rcl_tensor x, dlog;
    memset(&x, 0, sizeof x), memset(&dlog, 0, sizeof dlog);
    const rcl_tensor *logits;
    rcl_status s;
    if (!(s = rcl_model_init(m, 1)) && !(s = rcl_tensor_create(d, &x, "input", 4, batch, c, h, w)) &&
        !(s = rcl_tensor_create(d, &dlog, "dlogits", 2, batch, classes)) &&
        !(s = rcl_tensor_fill(&x, 0.5f)) && !(s = rcl_tensor_fill(&dlog, 0.01f))) {
        /* the GEMMs of the im2col path: the convolutions' fallback and candidate */
        if (!(s = rcl_conv_set_policy(d, "gemm")))
            rcl_gemm_record(d, shapes, MAX_SHAPES, n);
        if (!s && !(s = rcl_model_forward(m, &x, 1, &logits)))
            s = rcl_model_backward(m, &dlog, NULL);
        rcl_gemm_record(d, NULL, 0, NULL);
        rcl_status ps = rcl_conv_set_policy(d, "auto");
        if (!s)
            s = ps;
        if (!s)
            s = rcl_device_finish(d);
    }
    rcl_tensor_release(&x), rcl_tensor_release(&dlog);
    rcl_model_free(m);
    return s;
}

/* Measures every convolution of the net again and stores the choices; prints them. */
static rcl_status tune_convs(rcl_device *d, const char *arch, int batch, int c, int h, int w,
                             int classes) {
    rcl_wrn_config cfg = {0};
    RCL_TRY(rcl_wrn_parse_arch(arch, &cfg));
    cfg.in_c = c, cfg.in_h = h, cfg.in_w = w, cfg.num_classes = classes, cfg.fc_bias = 1;
    rcl_conv_shape shapes[MAX_SHAPES];
    int uses[MAX_SHAPES];
    int n = rcl_bench_wrn_convs(d, &cfg, batch, shapes, uses, MAX_SHAPES);
    if (n < 0)
        return RCL_ERR_INVALID_ARG;
    printf("convolution algorithms, ms per pass (best of 3):\n%-27s %4s", "conv (n c_in->c_out hxw kxk/s)",
           "pass");
    for (int i = 0; i < RCL_CONV_CANDIDATES; i++)
        printf(" %11s", rcl_conv_candidate_name(i));
    printf("  chosen\n");
    for (int i = 0; i < n; i++) {
        double ms[RCL_CONV_PASSES][RCL_CONV_CANDIDATES];
        const char *chosen[RCL_CONV_PASSES];
        RCL_TRY(rcl_bench_conv_shape(d, &shapes[i], 3, 1, ms, chosen));
        const rcl_conv_shape *s = &shapes[i];
        char name[64];
        snprintf(name, sizeof name, "%d %d->%d %dx%d %dx%d/%d", s->n, s->c_in, s->c_out, s->h, s->w,
                 s->kh, s->kw, s->stride);
        for (int p = 0; p < RCL_CONV_PASSES; p++) {
            printf("%-27s %4s", p ? "" : name, rcl_conv_pass_name(p));
            for (int k = 0; k < RCL_CONV_CANDIDATES; k++)
                ms[p][k] >= 0 ? printf(" %11.2f", ms[p][k]) : printf(" %11s", "-");
            printf("  %s\n", chosen[p]);
        }
    }
    return RCL_OK;
}

static void progress(const rcl_gemm_tune_result *r, void *ctx) {
    double t0 = *(double *)ctx;
    printf("  %4.0f s  candidate %d (%d rejected): best %.2f ms (start %.2f, %.2fx)\n",
           rcl_now() - t0, r->tried, r->failed, r->best_ms, r->start_ms, r->start_ms / r->best_ms);
    fflush(stdout);
}

static const char usage[] =
    "usage: robustcl tune [--device SEL] [--arch wrn-16-4] [--input 32x32x3] [--batch 32]\n"
    "                     [--classes 10] [--budget-seconds 300] [--seed 1] [--conv-only]\n"
    "                     [--json FILE]\n\n"
    "Records the GEMMs of one training step (forward and backward) of the WRN, then searches\n"
    "CLBlast's parameters (Xgemm, XgemmDirect, and the direct/indirect switch point) at random\n"
    "within CLBlast's constraints for the least total GEMM time, checking every candidate's\n"
    "products against a double-precision reference. Stops after --budget-seconds (the start\n"
    "set is always measured). The best set is stored per device and driver in the cache\n"
    "directory and applied whenever the device is opened (not in tests, which pin their\n"
    "parameters); provenance then says \"tuned\". Delete the file to go back.\n"
    "A smaller --batch tunes faster; the shapes keep their channel counts.\n\n"
    "Then every convolution of the WRN at --batch is measured again under every algorithm\n"
    "(im2col + GEMM with the parameters now in force, and each direct kernel; best of 3)\n"
    "and the fastest per pass replaces the stored choice (the choices of other shapes and\n"
    "batch sizes stay). The table shows each pass's time per algorithm in ms ('-': does not\n"
    "handle the shape) and the choice. --conv-only skips the GEMM search.\n\n";

int rcl_cmd_tune(int argc, char **argv) {
    const char *dev = NULL, *json_path = NULL, *arch = "wrn-16-4", *input = "32x32x3";
    int batch = 32, classes = 10, seed = 1, conv_only = 0;
    double budget = 300;
    const rcl_cli_option opts[] = {
        RCL_CLI_STRING("--device", "SEL", &dev, "P:D or a name substring: the device to tune"),
        RCL_CLI_STRING("--arch", "wrn-D-K", &arch, "the network whose step is recorded (default wrn-16-4)"),
        RCL_CLI_STRING("--input", "HxWxC", &input, "its input (default 32x32x3)"),
        RCL_CLI_INT("--batch", "N", &batch, 1, 65536, "its batch (default 32)"),
        RCL_CLI_INT("--classes", "N", &classes, 2, 100000, "its classes (default 10)"),
        RCL_CLI_DOUBLE("--budget-seconds", "S", &budget, 0, 1e6, "time for the GEMM search (default 300)"),
        RCL_CLI_INT("--seed", "N", &seed, 0, 1 << 30, "seed of the random search (default 1)"),
        RCL_CLI_FLAG("--conv-only", &conv_only, "skip the GEMM search: only the convolution algorithms"),
        RCL_CLI_STRING("--json", "FILE", &json_path, "the search's result, the parameters and the GEMM shapes"),
    };
    const rcl_cli_spec spec = {"tune", usage, opts, RCL_CLI_COUNT(opts), 23, NULL, NULL};
    int rc;
    if (rcl_cli_parse(&spec, argc, argv, &rc))
        return rc;
    int h, w, c, used = 0;
    if (sscanf(input, "%dx%dx%d%n", &h, &w, &c, &used) != 3 || input[used] || h < 4 || w < 4 || c < 1)
        return rcl_cli_usage("tune", "--input '%s': expected HxWxC, e.g. 32x32x3", input);
    rcl_device *d;
    if (rcl_cli_open_device(dev, 0, &d) != RCL_OK)
        return rcl_cli_error();
    static rcl_gemm_shape shapes[MAX_SHAPES];
    int n = 0;
    rcl_gemm_tune_result r;
    memset(&r, 0, sizeof r);
    char path[4200] = "";
    if (conv_only) {
        rcl_status cs = tune_convs(d, arch, batch, c, h, w, classes);
        rcl_device_close(d);
        return cs == RCL_OK ? 0 : rcl_cli_error();
    }
    rcl_status s = record_step(d, arch, batch, c, h, w, classes, shapes, &n);
    if (!s) {
        printf("%s %dx%dx%d batch %d on %s: %d GEMM shapes; start: %s\n", arch, h, w, c, batch,
               rcl_device_get_info(d)->name, n, rcl_gemm_params_source(d));
        for (int i = 0; i < n; i++)
            printf("  %s%s %6zu x %6zu x %6zu  x%d\n", shapes[i].trans_a ? "T" : "N",
                   shapes[i].trans_b ? "T" : "N", shapes[i].m, shapes[i].n, shapes[i].k,
                   shapes[i].calls);
        double t0 = rcl_now();
        s = rcl_gemm_tune(d, shapes, n, budget, (uint64_t)seed, progress, &t0, &r);
    }
    int improved = !s && r.best_known && r.best_ms < r.start_ms;
    if (improved && !(s = rcl_gemm_tuned_save(d, &r.best)))
        rcl_gemm_tuned_path(d, path, sizeof path);
    if (!s) {
        printf("%d candidates (%d rejected); GEMM time per step %.2f ms -> %.2f ms (%.2fx)\n",
               r.tried, r.failed, r.start_ms, r.best_ms, r.start_ms / r.best_ms);
        if (improved)
            printf("stored %s\n  %s\n", path, rcl_gemm_params_string(d));
        else
            printf("nothing beat the starting set; nothing stored\n");
        s = tune_convs(d, arch, batch, c, h, w, classes);
    }
    if (!s && json_path) {
        rcl_json_writer jw; /* in memory, then written atomically */
        rcl_jw_init(&jw, NULL, 2);
        rcl_jw_begin_object(&jw);
        rcl_jw_key(&jw, "device"), rcl_jw_string(&jw, rcl_device_get_info(d)->name);
        rcl_jw_key(&jw, "driver"), rcl_jw_string(&jw, rcl_device_get_info(d)->driver_version);
        rcl_jw_key(&jw, "arch"), rcl_jw_string(&jw, arch);
        rcl_jw_key(&jw, "input"), rcl_jw_string(&jw, input);
        rcl_jw_key(&jw, "batch"), rcl_jw_int(&jw, batch);
        rcl_jw_key(&jw, "budget_seconds"), rcl_jw_number(&jw, budget);
        rcl_jw_key(&jw, "candidates"), rcl_jw_int(&jw, r.tried);
        rcl_jw_key(&jw, "rejected"), rcl_jw_int(&jw, r.failed);
        rcl_jw_key(&jw, "start_ms"), rcl_jw_number(&jw, r.start_ms);
        rcl_jw_key(&jw, "best_ms"), rcl_jw_number(&jw, r.best_ms);
        rcl_jw_key(&jw, "stored"), rcl_jw_string(&jw, path);
        rcl_jw_key(&jw, "gemm_params_source"), rcl_jw_string(&jw, rcl_gemm_params_source(d));
        rcl_jw_key(&jw, "gemm_params"), rcl_jw_string(&jw, rcl_gemm_params_string(d));
        rcl_jw_key(&jw, "shapes");
        rcl_jw_begin_array(&jw);
        for (int i = 0; i < n; i++) {
            rcl_jw_begin_object(&jw);
            rcl_jw_key(&jw, "trans_a"), rcl_jw_int(&jw, shapes[i].trans_a);
            rcl_jw_key(&jw, "trans_b"), rcl_jw_int(&jw, shapes[i].trans_b);
            rcl_jw_key(&jw, "m"), rcl_jw_uint(&jw, shapes[i].m);
            rcl_jw_key(&jw, "n"), rcl_jw_uint(&jw, shapes[i].n);
            rcl_jw_key(&jw, "k"), rcl_jw_uint(&jw, shapes[i].k);
            rcl_jw_key(&jw, "calls"), rcl_jw_int(&jw, shapes[i].calls);
            rcl_jw_end_object(&jw);
        }
        rcl_jw_end_array(&jw);
        rcl_jw_end_object(&jw);
        s = rcl_jw_save(&jw, json_path);
    }
    rcl_device_close(d);
    return s == RCL_OK ? 0 : rcl_cli_error();
}
