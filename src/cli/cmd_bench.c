/* robustcl bench: which benchmark, its options and their checks; the benchmarks themselves are
 * bench_gemm.c, bench_step.c, bench_conv.c, bench_logits.c and bench_loader.c, the device loop
 * bench_run.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"

/* The benchmarks, each with its usage and description (its --help); the options below say
 * which benchmarks take them. */
enum { B_GEMM = 1, B_STEP = 2, B_CONV = 4, B_LOGITS = 8, B_LOADER = 16, B_DEVICE = B_GEMM | B_STEP | B_CONV };
static const struct {
    const char *name;
    unsigned bit;
    const char *usage;
} benches[] = {
    {"gemm", B_GEMM,
     "usage: robustcl bench gemm [--device SEL|all|LIST] [--json FILE] [--html FILE] [--repeat 3]\n"
     "                           [--peer-script PATH]\n\n"
     "SGEMM GFLOP/s on WRN convolution shapes, beside numpy.matmul's (the peer script's gemm\n"
     "mode: OpenBLAS where libblas.so.3 is OpenBLAS; the JSON names the library) and the\n"
     "fraction; \"peer unavailable\" without python3 + numpy.\n\n"},
    {"step", B_STEP,
     "usage: robustcl bench step [--arch wrn-16-4] [--batch 128] [--input 32x32x3] [--classes 10]\n"
     "                           [--steps 3] [--repeat 3] [--device SEL|all|LIST] [--json FILE] [--html FILE]\n"
     "                           [--peer] [--peer-threads 2] [--peer-device cpu] [--peer-script PATH]\n\n"
     "Training-step throughput (images/s) of a WRN on random data after one warm-up step (a\n"
     "sample: --steps steps), with the device time per kernel (OpenCL profiling events over\n"
     "every sample; CLBlast's indirect GEMM helper kernels are not reported) and the peak\n"
     "device memory. --peer also runs the same net, batch and input in PyTorch (the peer\n"
     "script's step mode, --peer-threads threads, on --peer-device, TF32 off) and prints both\n"
     "rates and robustcl/PyTorch.\n\n"},
    {"conv", B_CONV,
     "usage: robustcl bench conv [--arch wrn-16-4] [--batch 128] [--input 32x32x3] [--repeat 3]\n"
     "                           [--device SEL|all|LIST] [--json FILE] [--html FILE] [--peer]\n"
     "                           [--peer-threads 2] [--peer-device cpu] [--peer-script PATH]\n\n"
     "Every distinct convolution of the net (and how many times the net uses it), each pass\n"
     "(fwd, dx = input gradient, dw = weight gradient) timed under each kernel family with its\n"
     "best known parameters (ms, best of 3 after a warm-up; '-' = does not run the shape), the\n"
     "configuration the device's policy runs (\"chosen\") with its GFLOP/s, and with --peer\n"
     "PyTorch's conv2d / conv2d_input / conv2d_weight on the same shapes and threads with the\n"
     "ratio PyTorch ms / robustcl ms (> 1: robustcl is faster). The last line sums the net:\n"
     "uses x chosen time.\n\n"},
    {"logits", B_LOGITS,
     "usage: robustcl bench logits --model FILE [--input-tensor parity.input] [--reference FILE]\n"
     "                           [--tolerance 1e-4] [--device SEL] [--json FILE]\n\n"
     "Eval-mode logits of a checkpoint on an input batch stored in a safetensors file (default:\n"
     "the checkpoint itself, e.g. tests/data/torch_parity.safetensors); --json writes them;\n"
     "--reference compares with such a JSON (from another device) and fails when max|diff| >\n"
     "tolerance x max|reference|.\n\n"},
    {"loader", B_LOADER,
     "usage: robustcl bench loader [--data fashion-mnist] [--batch 128] [--json FILE]\n\n"
     "Images/s of the input pipeline alone (one epoch of --data with crop, flip and\n"
     "normalisation on its background thread): it must far outrun bench step.\n\n"},
};
#define NBENCHES (int)(sizeof benches / sizeof *benches)

static const char overview[] =
    "usage: robustcl bench gemm|step|conv|logits|loader [options]   (robustcl bench NAME --help)\n\n"
    "gemm: SGEMM GFLOP/s on WRN convolution shapes beside numpy's BLAS; step: training-step\n"
    "images/s with the device time per kernel (--peer: beside PyTorch); conv: every convolution\n"
    "of a WRN, each pass under every kernel family, beside PyTorch; logits: eval logits of a\n"
    "checkpoint, compared across devices; loader: the input pipeline's images/s alone.\n\n"
    "gemm, step and conv take --repeat N samples: robustcl's and the peer's measurements\n"
    "alternate N times in the one run, so both see the same machine, and each number is the\n"
    "median of its samples with their min-max spread, as is the ratio of each pair; the JSON\n"
    "keeps every sample. Single runs on a small machine move by 10-30%. Every --json carries\n"
    "the run's \"provenance\".\n\n"
    "The nets default to wrn-16-4 at batch 128 on 32x32x3 inputs (tune's too): big enough that\n"
    "every kernel family and the GEMMs run at the sizes training uses, small enough to time in\n"
    "seconds; train's default is the paper's wrn-40-2.\n";

/* What the options set. */
typedef struct {
    const char *dev, *json_path, *html, *input, *data;
    rcl_bench_job job;
    rcl_bench_cfg b;
} bench_options;

/* The options of every benchmark and which benchmarks take each (a mask of B_*). */
typedef struct {
    const rcl_cli_option *all;
    const unsigned *takes;
    int n;
} bench_options_table;

/* "step and conv": the benchmarks of mask, in words. */
static void bench_names(unsigned mask, char *out, size_t cap) {
    const char *names[NBENCHES];
    int k = 0;
    for (int i = 0; i < NBENCHES; i++)
        if (mask & benches[i].bit)
            names[k++] = benches[i].name;
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < k && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i == 0 ? "" : i == k - 1 ? " and " : ", ", names[i]);
}

/* An argument that is no option of this benchmark: one of another's, or unknown. */
static int not_here(rcl_args *a, void *ctx) {
    const bench_options_table *t = ctx;
    const char *arg = a->argv[a->i];
    size_t len = strcspn(arg, "=");
    for (int i = 0; i < t->n; i++)
        if (strlen(t->all[i].name) == len && !strncmp(arg, t->all[i].name, len)) {
            char names[64];
            bench_names(t->takes[i], names, sizeof names);
            return rcl_cli_usage(a->cmd, "%s: not an option of this benchmark (only of %s)", t->all[i].name, names);
        }
    return rcl_cli_unknown(a);
}

/* The options of benchmark `bit` into o: 0, or 1 with the exit status in *rc. */
static int parse(int argc, char **argv, int bi, bench_options *o, int *rc) {
    rcl_bench_cfg *b = &o->b;
    rcl_bench_job *job = &o->job;
    const rcl_cli_option all[] = {
        RCL_CLI_STRING("--device", "SEL|all|LIST", &o->dev,
                       "P:D or a name substring (default $ROBUSTCL_DEVICE, first GPU, first device);\n"
                       "gemm, step and conv also take `all` or a comma list (e.g. 0:0,1:0): the\n"
                       "benchmark on each device in turn (the peer once, with the first), then a\n"
                       "table across them, a column per device and the peer's beside them; --json\n"
                       "then writes {\"bench\", \"devices\": [each device's object with its\n"
                       "provenance], \"table\"}. A device that fails is reported and skipped (exit 1)."),
        RCL_CLI_STRING("--json", "FILE", &o->json_path, "the results as JSON, written atomically"),
        RCL_CLI_STRING("--html", "FILE", &o->html,
                       "a self-contained page: the devices, a bar chart and the table; written atomically"),
        RCL_CLI_INT("--repeat", "N", &b->repeat, 1, RCL_BENCH_MAX_REPEAT,
                    "samples, alternating with the peer: medians and spread (default 3)"),
        RCL_CLI_ARCH(&b->arch, "the network (default wrn-16-4: see robustcl bench --help)"),
        RCL_CLI_STRING("--input", "HxWxC", &o->input, "its input (default 32x32x3)"),
        RCL_CLI_INT("--batch", "N", &b->batch, 1, 65536, "the batch (default 128, as train's)"),
        RCL_CLI_INT("--classes", "N", &b->classes, 2, 100000, "the network's classes (default 10)"),
        RCL_CLI_INT("--steps", "N", &b->steps, 1, 100000, "timed steps (default 3)"),
        RCL_CLI_FLAG("--peer", &b->peer, "also run PyTorch"),
        RCL_CLI_INT("--peer-threads", "N", &b->peer_threads, 1, 1024, "threads of the peer (default 2)"),
        RCL_CLI_STRING("--peer-device", "DEV", &b->peer_device, "the peer's PyTorch device (default cpu)"),
        RCL_CLI_STRING("--peer-script", "PATH", &b->script,
                       "default bench/peer_pytorch.py (run from the source tree); the interpreter\n"
                       "is $ROBUSTCL_PYTHON, default /usr/bin/python3 (Debian's, with python3-torch)"),
        RCL_CLI_STRING("--model", "FILE", &job->model, "the checkpoint"),
        RCL_CLI_STRING("--input-tensor", "NAME", &job->input_tensor,
                       "the input batch: a tensor of --model (default parity.input)"),
        RCL_CLI_STRING("--reference", "FILE", &job->reference, "the JSON of another device to compare with"),
        RCL_CLI_DOUBLE("--tolerance", "X", &job->tol, 0, 1,
                       "allowed max|diff| as a fraction of max|reference| (default 1e-4)"),
        RCL_CLI_DATASET("--data", &o->data, "the dataset (default fashion-mnist)"),
        RCL_CLI_CONV_ALGO,
    };
    /* which benchmarks take each option of `all`, in its order */
    static const unsigned takes[] = {B_DEVICE | B_LOGITS, ~0u, B_DEVICE, B_DEVICE, B_STEP | B_CONV, B_STEP | B_CONV,
                                     B_STEP | B_CONV | B_LOADER, B_STEP, B_STEP, B_STEP | B_CONV, B_STEP | B_CONV,
                                     B_STEP | B_CONV, B_DEVICE, B_LOGITS, B_LOGITS, B_LOGITS, B_LOGITS, B_LOADER,
                                     B_STEP | B_CONV | B_LOGITS};
    enum { N = RCL_CLI_COUNT(all) };
    _Static_assert(sizeof takes / sizeof *takes == N, "one entry per option");
    rcl_cli_option mine[N];
    int n = 0;
    for (int i = 0; i < N; i++)
        if (takes[i] & benches[bi].bit)
            mine[n++] = all[i];
    bench_options_table table = {all, takes, N};
    char cmd[32];
    snprintf(cmd, sizeof cmd, "bench %s", benches[bi].name);
    const rcl_cli_spec spec = {cmd, benches[bi].usage, mine, n, 23, not_here, &table};
    return rcl_cli_parse(&spec, argc, argv, rc);
}

/* Checks what the options say against each other: 0, or the usage error's 2. */
static int check(bench_options *o) {
    const char *what = o->job.what, *input = o->input;
    rcl_bench_cfg *b = &o->b;
    char cmd[32];
    snprintf(cmd, sizeof cmd, "bench %s", what);
    if (!strcmp(what, "logits") && !o->job.model)
        return rcl_cli_usage(cmd, "--model FILE is required");
    int used = 0;
    if (sscanf(input, "%dx%dx%d%n", &b->h, &b->w, &b->c, &used) != 3 || input[used] || b->h < 4 || b->w < 4 ||
        b->c < 1)
        return rcl_cli_usage(cmd, "--input '%s': expected HxWxC, e.g. 32x32x3", input);
    if (strspn(b->peer_device, "abcdefghijklmnopqrstuvwxyz0123456789:") != strlen(b->peer_device))
        return rcl_cli_usage(cmd, "--peer-device '%s': letters, digits and ':' only", b->peer_device);
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
        return rcl_cli_usage("bench logits", "--device all / a list: gemm, step and conv only");
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
    if (argc < 2)
        return rcl_cli_usage("bench", "which benchmark? gemm, step, conv, logits or loader");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(overview, stdout);
        return 0;
    }
    const char *what = argv[1];
    int bi = -1;
    for (int i = 0; i < NBENCHES; i++)
        if (!strcmp(what, benches[i].name))
            bi = i;
    if (bi < 0)
        return rcl_cli_usage("bench", "unknown benchmark '%s' (gemm, step, conv, logits or loader)", what);
    bench_options o = {NULL, NULL, NULL, "32x32x3", "fashion-mnist", {what, NULL, "parity.input", NULL, 1e-4},
                       {"wrn-16-4", 128, 0, 0, 0, 10, 3, 3, !strcmp(what, "gemm"), 2, "bench/peer_pytorch.py", "cpu"}};
    int rc;
    if (parse(argc - 1, argv + 1, bi, &o, &rc) || (rc = check(&o)))
        return rc;
    if (!strcmp(what, "loader"))
        return rcl_bench_run_loader(o.data, o.b.batch, o.json_path);
    return run_device_bench(&o);
}
