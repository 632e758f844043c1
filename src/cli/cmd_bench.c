/* robustcl bench gemm / bench step, each beside its peer (bench/peer_pytorch.py) in one run;
 * bench logits, the cross-device check of bench/device-check.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "robustcl/safetensors.h"

static void help(void) {
    printf("usage: robustcl bench gemm [--device SEL|all|LIST] [--json FILE] [--html FILE] [--repeat 3]\n"
           "                           [--peer-script PATH]\n"
           "       robustcl bench step [--arch wrn-16-4] [--batch 128] [--input 32x32x3] [--classes 10]\n"
           "                           [--steps 3] [--device SEL|all|LIST] [--json FILE] [--html FILE]\n"
           "                           [--peer]"
           " [--peer-threads 2] [--peer-device cpu] [--peer-script PATH]\n"
           "       robustcl bench conv [--arch wrn-16-4] [--batch 128] [--input 32x32x3] [--repeat 3]\n"
           "                           [--device SEL|all|LIST] [--json FILE] [--html FILE] [--peer]\n"
           "                           [--peer-threads 2]"
           " [--peer-device cpu] [--peer-script PATH]\n"
           "       robustcl bench logits --model FILE [--input-tensor parity.input] [--reference FILE]\n"
           "                           [--tolerance 1e-4] [--device SEL] [--json FILE]\n"
           "       robustcl bench loader [--data fashion-mnist] [--batch 128] [--json FILE]\n\n"
           "--device SEL: P:D or a name substring; for gemm, step and conv also `all` or a comma list\n"
           "      (e.g. 0:0,1:0): the benchmark on each device in turn (the peer once, with the first),\n"
           "      then a table across them, a column per device and the peer's beside them; --json\n"
           "      then writes {\"bench\", \"devices\": [each device's object with its provenance],\n"
           "      \"table\"}. A device that fails is reported and skipped (exit 1).\n"
           "--html FILE: (gemm, step, conv) a self-contained page: the devices, a bar chart and the\n"
           "      table. --json and --html are written atomically.\n"
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

typedef struct {
    const char *what, *model, *input_tensor, *reference;
    double tol;
} bench_job;

/* Opens the device (the self-test gate for step), runs the benchmark, closes it; name gets the
 * device's name, platform and driver for the comparison page. */
static rcl_status run_on(const bench_job *job, const char *sel, const rcl_bench_cfg *b,
                         rcl_json_writer *jw, rcl_bench_summary *sum, char *name, size_t cap) {
    rcl_device *d;
    RCL_TRY(rcl_cli_open_device(sel, !strcmp(job->what, "step"), &d));
    const rcl_device_info *inf = rcl_device_get_info(d);
    char gemm[256];
    rcl_gemm_params_describe(inf, gemm, sizeof gemm);
    if (snprintf(name, cap, "%s (%s, driver %s; GEMM parameters: %s)", inf->name, inf->platform_name,
                 inf->driver_version, gemm) >= (int)cap)
        name[cap - 1] = 0; /* a long name cut short */
    printf("device: %s\n", name); /* says so when the device has no tuned GEMM parameters */
    rcl_status s = !strcmp(job->what, "gemm")   ? rcl_bench_gemm(d, b, jw, sum)
                   : !strcmp(job->what, "conv") ? rcl_bench_conv(d, b, jw, sum)
                   : !strcmp(job->what, "step") ? rcl_bench_step(d, b, jw, sum)
                                                : bench_logits(d, job->model, job->input_tensor,
                                                               job->reference, job->tol, jw);
    rcl_device_close(d);
    return s;
}

/* One device (sel NULL: the default), or every listed device in turn with the peer run with the
 * first only, then the table across them. A device that fails is reported and skipped; the run
 * then exits non-zero. JSON: the benchmark's object, or for a list {"bench", "devices", "table"}. */
static int run_devices(const bench_job *job, char **sel, int n, int single, rcl_bench_cfg b,
                       const char *json_path, const char *html) {
    rcl_bench_summary *sums = calloc((size_t)n, sizeof *sums);
    char(*names)[512] = calloc((size_t)n, sizeof *names);
    const char **np = calloc((size_t)n, sizeof *np);
    rcl_json_writer jw_, *jw = json_path ? &jw_ : NULL;
    rcl_jw_init(&jw_, NULL, 2);
    if (!sums || !names || !np) {
        free(sums), free(names), free(np);
        rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
        return rcl_cli_error();
    }
    if (!single && jw) {
        rcl_jw_begin_object(jw);
        rcl_jw_key(jw, "bench"), rcl_jw_string(jw, job->what);
        rcl_jw_key(jw, "devices");
        rcl_jw_begin_array(jw);
    }
    int failed = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        if (!single)
            printf("%s== device %s ==\n", i ? "\n" : "", sel[i]);
        fflush(stdout);
        np[i] = names[i];
        if (run_on(job, sel[i], &b, jw, &sums[i], names[i], sizeof names[i]) != RCL_OK) {
            if (single) {
                rc = rcl_cli_error();
                break;
            }
            fprintf(stderr, "robustcl bench: device %s: %s\n", sel[i], rcl_last_error());
            snprintf(names[i], sizeof names[i], "failed: %s", rcl_last_error());
            failed++;
            memset(&sums[i], 0, sizeof sums[i]);
            if (jw) {
                rcl_jw_begin_object(jw);
                rcl_jw_key(jw, "selector"), rcl_jw_string(jw, sel[i]);
                rcl_jw_key(jw, "error"), rcl_jw_string(jw, rcl_last_error());
                rcl_jw_end_object(jw);
            }
        }
        b.peer = 0; /* the peer does not depend on the device: once is enough */
    }
    if (!single) {
        rcl_bench_print_table((const char *const *)sel, np, sums, n);
        if (jw) {
            rcl_jw_end_array(jw);
            rcl_bench_json_table(jw, (const char *const *)sel, np, sums, n);
            rcl_jw_end_object(jw);
        }
        rc = failed ? 1 : 0;
    }
    if ((rc == 0 || !single) && jw && rcl_jw_save(jw, json_path) != RCL_OK)
        rc = rcl_cli_error();
    const char *label = sel[0] ? sel[0] : "default device";
    if ((rc == 0 || !single) && html &&
        rcl_bench_write_html(html, job->what, single ? &label : (const char *const *)sel, np, sums, n) != RCL_OK)
        rc = rcl_cli_error();
    free(rcl_jw_take(&jw_, NULL));
    free(sums), free(names), free(np);
    return rc;
}

/* bench loader: host only, no device. */
static int run_loader(const char *data, int batch, const char *json_path) {
    rcl_json_writer jw;
    rcl_jw_init(&jw, NULL, 2);
    rcl_status s = bench_loader(data, batch, json_path ? &jw : NULL);
    if (!s && json_path)
        s = rcl_jw_save(&jw, json_path);
    free(rcl_jw_take(&jw, NULL));
    return s == RCL_OK ? 0 : rcl_cli_error();
}

int rcl_cmd_bench(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        help();
        return argc < 2 ? 2 : 0;
    }
    const char *dev = NULL, *json_path = NULL, *html = NULL, *input = "32x32x3", *data = "fashion-mnist";
    bench_job job = {argv[1], NULL, "parity.input", NULL, 1e-4};
    rcl_bench_cfg b = {"wrn-16-4", 128, 0, 0, 0, 10, 3, 3, !strcmp(job.what, "gemm"), 2,
                       "bench/peer_pytorch.py", "cpu"};
    const char *what = job.what;
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
        else if (rcl_args_is(&a, "--html")) html = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--arch")) b.arch = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--input")) input = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--batch")) rcl_args_int(&a, 1, 65536, &b.batch);
        else if (rcl_args_is(&a, "--classes")) rcl_args_int(&a, 2, 100000, &b.classes);
        else if (rcl_args_is(&a, "--steps")) rcl_args_int(&a, 1, 100000, &b.steps);
        else if (rcl_args_is(&a, "--repeat")) rcl_args_int(&a, 1, 1000, &b.repeat);
        else if (rcl_args_is(&a, "--peer")) b.peer = 1;
        else if (rcl_args_is(&a, "--peer-script")) b.script = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--peer-threads")) rcl_args_int(&a, 1, 1024, &b.peer_threads);
        else if (rcl_args_is(&a, "--peer-device")) b.peer_device = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--model")) job.model = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--input-tensor")) job.input_tensor = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--reference")) job.reference = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--tolerance")) rcl_args_double(&a, 0, 1, &job.tol);
        else if (rcl_args_is(&a, "--data")) data = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--conv-algo")) rcl_args_conv_algo(&a);
        else return rcl_args_unknown(&a);
    }
    if (a.bad)
        return 2;
    if (!strcmp(what, "logits") && !job.model)
        return rcl_cli_usage("bench", "logits needs --model FILE");
    int used = 0;
    if (sscanf(input, "%dx%dx%d%n", &b.h, &b.w, &b.c, &used) != 3 || input[used] || b.h < 4 ||
        b.w < 4 || b.c < 1)
        return rcl_cli_usage("bench", "--input '%s': expected HxWxC, e.g. 32x32x3", input);
    if (strspn(b.arch, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(b.arch) ||
        strspn(b.peer_device, "abcdefghijklmnopqrstuvwxyz0123456789:") != strlen(b.peer_device))
        return rcl_cli_usage("bench", "--arch / --peer-device: letters, digits, '-' and ':' only");
    if (!strcmp(what, "loader"))
        return run_loader(data, b.batch, json_path);
    if (html && !strcmp(what, "logits"))
        return rcl_cli_usage("bench", "--html: gemm, step and conv only");
    int ndev = 0;
    char **list = rcl_bench_device_list(dev, &ndev);
    if (dev && (!strcmp(dev, "all") || strchr(dev, ',')) && !list)
        return rcl_cli_usage("bench", "--device '%s': no device to run on", dev);
    if (list && !strcmp(what, "logits")) {
        free(list);
        return rcl_cli_usage("bench", "--device all / a list: gemm, step and conv only");
    }
    if (json_path || html) { /* fail now, not after the benchmark */
        rcl_status ws = json_path ? rcl_file_check_writable(json_path) : RCL_OK;
        if (!ws && html)
            ws = rcl_file_check_writable(html);
        if (ws) {
            free(list);
            return rcl_cli_error();
        }
    }
    char *one[1] = {(char *)dev};
    int rc = run_devices(&job, list ? list : one, list ? ndev : 1, list == NULL, b, json_path, html);
    free(list);
    return rc;
}
