/* robustcl bench: which benchmark, its options and their checks; the benchmarks themselves are
 * bench_gemm.c, bench_step.c, bench_conv.c, bench_logits.c and bench_loader.c, the device loop
 * bench_run.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"

static const char usage[] =
    "usage: robustcl bench gemm [--device SEL|all|LIST] [--json FILE] [--html FILE] [--repeat 3]\n"
    "                           [--peer-script PATH]\n"
    "       robustcl bench step [--arch wrn-16-4] [--batch 128] [--input 32x32x3] [--classes 10]\n"
    "                           [--steps 3] [--repeat 3] [--device SEL|all|LIST] [--json FILE] [--html FILE]\n"
    "                           [--peer] [--peer-threads 2] [--peer-device cpu] [--peer-script PATH]\n"
    "       robustcl bench conv [--arch wrn-16-4] [--batch 128] [--input 32x32x3] [--repeat 3]\n"
    "                           [--device SEL|all|LIST] [--json FILE] [--html FILE] [--peer]\n"
    "                           [--peer-threads 2] [--peer-device cpu] [--peer-script PATH]\n"
    "       robustcl bench logits --model FILE [--input-tensor parity.input] [--reference FILE]\n"
    "                           [--tolerance 1e-4] [--device SEL] [--json FILE]\n"
    "       robustcl bench loader [--data fashion-mnist] [--batch 128] [--json FILE]\n\n"
    "gemm, step and conv take --repeat N samples: robustcl's and the peer's measurements\n"
    "alternate N times in the one run, so both see the same machine, and each number is the\n"
    "median of its samples with their min-max spread, as is the ratio of each pair; the JSON\n"
    "keeps every sample. Single runs on a small machine move by 10-30%.\n\n"
    "gemm: SGEMM GFLOP/s on WRN convolution shapes, beside numpy.matmul's\n"
    "      (the peer script's gemm mode: OpenBLAS where libblas.so.3 is OpenBLAS; the JSON names\n"
    "      the library) and the fraction; \"peer unavailable\" without python3 + numpy.\n"
    "step: training-step throughput (images/s) of a WRN on random data after one warm-up\n"
    "      step (a sample: --steps steps), with the device time per kernel (OpenCL profiling\n"
    "      events over every sample; CLBlast's indirect\n"
    "      GEMM helper kernels are not reported) and the peak device memory.\n"
    "      --peer also runs the same net, batch and input in PyTorch (the peer script's step\n"
    "      mode, --peer-threads threads, on --peer-device, TF32 off) and prints both rates and\n"
    "      robustcl/PyTorch.\n"
    "conv: every distinct convolution of the net (and how many times the net uses it),\n"
    "      each pass (fwd, dx = input gradient, dw = weight gradient) timed under each kernel\n"
    "      family with its best known parameters (ms, best of 3 after a warm-up; '-' = does\n"
    "      not run the shape), the configuration the device's policy runs (\"chosen\") with its\n"
    "      GFLOP/s, and with --peer PyTorch's conv2d / conv2d_input / conv2d_weight on the\n"
    "      same shapes and threads with the ratio PyTorch ms / robustcl ms (> 1: robustcl is\n"
    "      faster). The last line sums the net: uses x chosen time.\n"
    "logits: eval-mode logits of a checkpoint on an input batch stored in a safetensors file\n"
    "      (default: the checkpoint itself, e.g. tests/data/torch_parity.safetensors); --json\n"
    "      writes them; --reference compares with such a JSON (from another device) and fails\n"
    "      when max|diff| > tolerance x max|reference|.\n"
    "loader: images/s of the input pipeline alone (one epoch of --data with crop, flip and\n"
    "      normalisation on its background thread): it must far outrun bench step.\n\n"
    "options:\n";

/* What the options set. */
typedef struct {
    const char *dev, *json_path, *html, *input, *data;
    rcl_bench_job job;
    rcl_bench_cfg b;
} bench_options;

/* The options after the benchmark's name into o: 0, or 1 with the exit status in *rc. */
static int parse(int argc, char **argv, bench_options *o, int *rc) {
    rcl_bench_cfg *b = &o->b;
    rcl_bench_job *job = &o->job;
    const rcl_cli_option opts[] = {
        RCL_CLI_STRING("--device", "SEL|all|LIST", &o->dev,
                       "P:D or a name substring; for gemm, step and conv also `all` or a comma\n"
                       "list (e.g. 0:0,1:0): the benchmark on each device in turn (the peer once,\n"
                       "with the first), then a table across them, a column per device and the\n"
                       "peer's beside them; --json then writes {\"bench\", \"devices\": [each\n"
                       "device's object with its provenance], \"table\"}. A device that fails is\n"
                       "reported and skipped (exit 1)."),
        RCL_CLI_STRING("--json", "FILE", &o->json_path, "the results as JSON, written atomically"),
        RCL_CLI_STRING("--html", "FILE", &o->html,
                       "(gemm, step, conv) a self-contained page: the devices, a bar chart and the\n"
                       "table; written atomically"),
        RCL_CLI_INT("--repeat", "N", &b->repeat, 1, RCL_BENCH_MAX_REPEAT,
                    "(gemm, step, conv) samples, alternating with the peer: medians and spread (default 3)"),
        RCL_CLI_STRING("--arch", "wrn-D-K", &b->arch, "(step, conv) the network (default wrn-16-4)"),
        RCL_CLI_STRING("--input", "HxWxC", &o->input, "(step, conv) its input (default 32x32x3)"),
        RCL_CLI_INT("--batch", "N", &b->batch, 1, 65536, "(step, conv, loader) the batch (default 128)"),
        RCL_CLI_INT("--classes", "N", &b->classes, 2, 100000, "(step) the network's classes (default 10)"),
        RCL_CLI_INT("--steps", "N", &b->steps, 1, 100000, "(step) timed steps (default 3)"),
        RCL_CLI_FLAG("--peer", &b->peer, "(step, conv) also run PyTorch (gemm always runs its peer)"),
        RCL_CLI_INT("--peer-threads", "N", &b->peer_threads, 1, 1024, "threads of the peer (default 2)"),
        RCL_CLI_STRING("--peer-device", "DEV", &b->peer_device, "the peer's PyTorch device (default cpu)"),
        RCL_CLI_STRING("--peer-script", "PATH", &b->script,
                       "default bench/peer_pytorch.py (run from the source tree); the interpreter\n"
                       "is $ROBUSTCL_PYTHON, default /usr/bin/python3 (Debian's, with python3-torch)"),
        RCL_CLI_STRING("--model", "FILE", &job->model, "(logits) the checkpoint"),
        RCL_CLI_STRING("--input-tensor", "NAME", &job->input_tensor,
                       "(logits) the input batch: a tensor of --model (default parity.input)"),
        RCL_CLI_STRING("--reference", "FILE", &job->reference, "(logits) the JSON of another device to compare with"),
        RCL_CLI_DOUBLE("--tolerance", "X", &job->tol, 0, 1,
                       "(logits) allowed max|diff| as a fraction of max|reference| (default 1e-4)"),
        RCL_CLI_STRING("--data", "SPEC", &o->data, "(loader) the dataset (default fashion-mnist)"),
        RCL_CLI_CONV_ALGO,
    };
    const rcl_cli_spec spec = {"bench", usage, opts, RCL_CLI_COUNT(opts), 23, NULL, NULL};
    return rcl_cli_parse(&spec, argc, argv, rc);
}

/* Checks what the options say against each other and the benchmark: 0, or the usage error's 2. */
static int check(bench_options *o) {
    const char *what = o->job.what, *input = o->input;
    rcl_bench_cfg *b = &o->b;
    if (!strcmp(what, "logits") && !o->job.model)
        return rcl_cli_usage("bench", "logits needs --model FILE");
    int used = 0;
    if (sscanf(input, "%dx%dx%d%n", &b->h, &b->w, &b->c, &used) != 3 || input[used] || b->h < 4 || b->w < 4 ||
        b->c < 1)
        return rcl_cli_usage("bench", "--input '%s': expected HxWxC, e.g. 32x32x3", input);
    if (strspn(b->arch, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(b->arch) ||
        strspn(b->peer_device, "abcdefghijklmnopqrstuvwxyz0123456789:") != strlen(b->peer_device))
        return rcl_cli_usage("bench", "--arch / --peer-device: letters, digits, '-' and ':' only");
    if (o->html && !strcmp(what, "logits"))
        return rcl_cli_usage("bench", "--html: gemm, step and conv only");
    return 0;
}

/* The device benchmarks: on --device (one, all or a list), after checking that the outputs can
 * be written. */
static int run_device_bench(const bench_options *o) {
    int ndev = 0;
    const char *dev = o->dev;
    char **list = rcl_bench_device_list(dev, &ndev);
    if (dev && (!strcmp(dev, "all") || strchr(dev, ',')) && !list)
        return rcl_cli_usage("bench", "--device '%s': no device to run on", dev);
    if (list && !strcmp(o->job.what, "logits")) {
        free(list);
        return rcl_cli_usage("bench", "--device all / a list: gemm, step and conv only");
    }
    if (o->json_path || o->html) { /* fail now, not after the benchmark */
        rcl_status ws = o->json_path ? rcl_file_check_writable(o->json_path) : RCL_OK;
        if (!ws && o->html)
            ws = rcl_file_check_writable(o->html);
        if (ws) {
            free(list);
            return rcl_cli_error();
        }
    }
    char *one[1] = {(char *)dev};
    int rc = rcl_bench_run_devices(&o->job, list ? list : one, list ? ndev : 1, list == NULL, o->b, o->json_path,
                                   o->html);
    free(list);
    return rc;
}

int rcl_cmd_bench(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        int rc = 0;
        parse(2, (char *[]){argv[0], "--help", NULL}, &(bench_options){0}, &rc);
        return argc < 2 ? 2 : 0;
    }
    const char *what = argv[1];
    bench_options o = {NULL, NULL, NULL, "32x32x3", "fashion-mnist", {what, NULL, "parity.input", NULL, 1e-4},
                       {"wrn-16-4", 128, 0, 0, 0, 10, 3, 3, !strcmp(what, "gemm"), 2, "bench/peer_pytorch.py", "cpu"}};
    if (strcmp(what, "gemm") && strcmp(what, "step") && strcmp(what, "conv") && strcmp(what, "logits") &&
        strcmp(what, "loader"))
        return rcl_cli_usage("bench", "unknown benchmark '%s' (gemm, step, conv, logits or loader)", what);
    int rc;
    if (parse(argc - 1, argv + 1, &o, &rc) || (rc = check(&o)))
        return rc;
    if (!strcmp(what, "loader"))
        return rcl_bench_run_loader(o.data, o.b.batch, o.json_path);
    return run_device_bench(&o);
}
