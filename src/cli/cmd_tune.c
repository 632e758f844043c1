/* robustcl tune: the convolution kernel families' parameters searched on every convolution
 * of a WRN (docs/convolution.md, "Tuning a device"), and CLBlast's GEMM parameters searched
 * on the GEMMs its training step runs; both stored per device, driver and platform. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "core/fileio.h"
#include "robustcl/log.h"

#define MAX_SHAPES 256

typedef struct tune_opts {
    const char *dev, *json, *entry, *arch, *input;
    int batch, classes, seed, conv_only, gemm_only, entry_only, h, w, c;
    double conv_seconds, gemm_seconds;
} tune_opts;

static rcl_status net_config(const tune_opts *o, rcl_wrn_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    RCL_TRY(rcl_wrn_parse_arch(o->arch, cfg));
    cfg->in_c = o->c, cfg->in_h = o->h, cfg->in_w = o->w, cfg->num_classes = o->classes, cfg->fc_bias = 1;
    return RCL_OK;
}

static rcl_status record_step(rcl_device *d, const tune_opts *o, rcl_gemm_shape *shapes, int *n) {
    rcl_wrn_config cfg;
    RCL_TRY(net_config(o, &cfg));
    rcl_model *m;
    RCL_TRY(rcl_model_create(d, &cfg, o->batch, &m));
    rcl_tensor x, dlog;
    memset(&x, 0, sizeof x), memset(&dlog, 0, sizeof dlog);
    const rcl_tensor *logits;
    rcl_status s;
    if (!(s = rcl_model_init(m, 1)) && !(s = rcl_tensor_create(d, &x, "input", 4, o->batch, o->c, o->h, o->w)) &&
        !(s = rcl_tensor_create(d, &dlog, "dlogits", 2, o->batch, o->classes)) &&
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

static void gemm_progress(const rcl_gemm_tune_result *r, void *ctx) {
    double t0 = *(double *)ctx;
    printf("  %4.0f s  candidate %d (%d rejected): best %.2f ms (start %.2f, %.2fx)\n",
           rcl_now() - t0, r->tried, r->failed, r->best_ms, r->start_ms, r->start_ms / r->best_ms);
    fflush(stdout);
}

/* The GEMM search: its result and the shapes, for the JSON. */
static rcl_status tune_gemm(rcl_device *d, const tune_opts *o, rcl_gemm_shape *shapes, int *n,
                            rcl_gemm_tune_result *r, char *path, size_t cap) {
    RCL_TRY(record_step(d, o, shapes, n));
    printf("GEMM: %s %dx%dx%d batch %d: %d shapes; start: %s\n", o->arch, o->h, o->w, o->c, o->batch, *n,
           rcl_gemm_params_source(d));
    double t0 = rcl_now();
    RCL_TRY(rcl_gemm_tune(d, shapes, *n, o->gemm_seconds, (uint64_t)o->seed, gemm_progress, &t0, r));
    int improved = r->best_known && r->best_ms < r->start_ms;
    if (improved) {
        RCL_TRY(rcl_gemm_tuned_save(d, &r->best));
        rcl_gemm_tuned_path(d, path, cap);
    }
    printf("GEMM: %d candidates (%d rejected); time per step %.2f ms -> %.2f ms (%.2fx)\n", r->tried,
           r->failed, r->start_ms, r->best_ms, r->start_ms / r->best_ms);
    if (improved)
        printf("stored %s\n  %s\n", path, rcl_gemm_params_string(d));
    else
        printf("nothing beat the starting set; nothing stored\n");
    return RCL_OK;
}

/* One finished shape and pass of the convolution search, for the table and the JSON. */
typedef struct conv_result {
    rcl_conv_shape s;
    rcl_conv_pass pass;
    int tried, rejected, space;
    double start_ms, best_ms;
    char best[RCL_CONV_CONFIG_LEN];
} conv_result;

typedef struct conv_progress {
    double t0;
    double shown_ms; /* the best already printed for the item */
    conv_result *results;
    int n;
} conv_progress;

static void conv_progress_print(const rcl_conv_tune_progress *p, void *ctx) {
    conv_progress *c = ctx;
    const rcl_conv_shape *s = p->shape;
    char shape[64];
    snprintf(shape, sizeof shape, "n%d %d->%d %dx%d k%d s%d %s", s->n, s->c_in, s->c_out, s->h, s->w,
             s->kh, s->stride, rcl_conv_pass_name(p->pass));
    if (p->done) {
        printf("[%2d/%d] %-28s %4d tried (%d wrong or failed) of %4d: %-36s %8.2f ms (start %.2f, %.2fx)  %4.0f s\n",
               p->item + 1, p->items, shape, p->tried, p->rejected, p->space, p->best, p->best_ms,
               p->start_ms, p->best_ms > 0 ? p->start_ms / p->best_ms : 0, rcl_now() - c->t0);
        conv_result *r = &c->results[c->n++];
        r->s = *s, r->pass = p->pass, r->tried = p->tried, r->rejected = p->rejected, r->space = p->space;
        r->start_ms = p->start_ms, r->best_ms = p->best_ms;
        snprintf(r->best, sizeof r->best, "%s", p->best);
        c->shown_ms = -1;
    } else if (p->best_ms > 0 && (c->shown_ms < 0 || p->best_ms < c->shown_ms)) {
        rcl_log(RCL_LOG_PROGRESS, "[%2d/%d] %s: %d tried, best %s %.2f ms", p->item + 1, p->items, shape,
                p->tried, p->best, p->best_ms);
        c->shown_ms = p->best_ms;
    }
    fflush(stdout);
}

static rcl_status tune_convs(rcl_device *d, const tune_opts *o, conv_progress *pr) {
    rcl_wrn_config cfg;
    RCL_TRY(net_config(o, &cfg));
    rcl_conv_shape shapes[MAX_SHAPES];
    int uses[MAX_SHAPES];
    int n = rcl_bench_wrn_convs(d, &cfg, o->batch, shapes, uses, MAX_SHAPES);
    if (n < 0)
        return RCL_ERR_INVALID_ARG;
    pr->results = calloc((size_t)n * RCL_CONV_PASSES, sizeof *pr->results);
    if (!pr->results)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    printf("convolutions: %s %dx%dx%d batch %d on %s: %d shapes x 3 passes, %.0f s\n  start: %s\n", o->arch,
           o->h, o->w, o->c, o->batch, rcl_device_get_info(d)->name, n, o->conv_seconds, rcl_conv_params_source(d));
    pr->t0 = rcl_now();
    pr->shown_ms = -1;
    RCL_TRY(rcl_conv_tune(d, shapes, n, o->conv_seconds, (unsigned long long)o->seed, conv_progress_print, pr));
    printf("stored: %s\n", rcl_conv_params_source(d));
    return RCL_OK;
}

static void json_write(rcl_json_writer *jw, rcl_device *d, const tune_opts *o, const rcl_gemm_tune_result *r,
                       const rcl_gemm_shape *shapes, int n, const char *path, const conv_progress *cp) {
    rcl_jw_begin_object(jw);
    rcl_bench_json_device(jw, d);
    rcl_jw_key(jw, "arch"), rcl_jw_string(jw, o->arch);
    rcl_jw_key(jw, "input"), rcl_jw_string(jw, o->input);
    rcl_jw_key(jw, "batch"), rcl_jw_int(jw, o->batch);
    rcl_jw_key(jw, "conv_seconds"), rcl_jw_number(jw, o->conv_seconds);
    rcl_jw_key(jw, "gemm_seconds"), rcl_jw_number(jw, o->gemm_seconds);
    rcl_jw_key(jw, "conv");
    rcl_jw_begin_array(jw);
    for (int i = 0; i < cp->n; i++) {
        const conv_result *c = &cp->results[i];
        rcl_jw_begin_object(jw);
        int shape[9] = {c->s.n, c->s.c_in, c->s.h, c->s.w, c->s.c_out, c->s.kh, c->s.kw, c->s.stride, c->s.pad};
        static const char *const names[9] = {"n", "c_in", "h", "w", "c_out", "kh", "kw", "stride", "pad"};
        for (int k = 0; k < 9; k++)
            rcl_jw_key(jw, names[k]), rcl_jw_int(jw, shape[k]);
        rcl_jw_key(jw, "pass"), rcl_jw_string(jw, rcl_conv_pass_name(c->pass));
        rcl_jw_key(jw, "config"), rcl_jw_string(jw, c->best);
        rcl_jw_key(jw, "ms"), rcl_jw_number(jw, c->best_ms);
        rcl_jw_key(jw, "start_ms"), rcl_jw_number(jw, c->start_ms);
        rcl_jw_key(jw, "tried"), rcl_jw_int(jw, c->tried);
        rcl_jw_key(jw, "rejected"), rcl_jw_int(jw, c->rejected);
        rcl_jw_key(jw, "space"), rcl_jw_int(jw, c->space);
        rcl_jw_end_object(jw);
    }
    rcl_jw_end_array(jw);
    rcl_jw_key(jw, "gemm");
    rcl_jw_begin_object(jw);
    rcl_jw_key(jw, "candidates"), rcl_jw_int(jw, r->tried);
    rcl_jw_key(jw, "rejected"), rcl_jw_int(jw, r->failed);
    rcl_jw_key(jw, "start_ms"), rcl_jw_number(jw, r->start_ms);
    rcl_jw_key(jw, "best_ms"), rcl_jw_number(jw, r->best_ms);
    rcl_jw_key(jw, "stored"), rcl_jw_string(jw, path);
    rcl_jw_key(jw, "params"), rcl_jw_string(jw, rcl_gemm_params_string(d));
    rcl_jw_key(jw, "shapes");
    rcl_jw_begin_array(jw);
    for (int i = 0; i < n; i++) {
        rcl_jw_begin_object(jw);
        rcl_jw_key(jw, "trans_a"), rcl_jw_int(jw, shapes[i].trans_a);
        rcl_jw_key(jw, "trans_b"), rcl_jw_int(jw, shapes[i].trans_b);
        rcl_jw_key(jw, "m"), rcl_jw_uint(jw, shapes[i].m);
        rcl_jw_key(jw, "n"), rcl_jw_uint(jw, shapes[i].n);
        rcl_jw_key(jw, "k"), rcl_jw_uint(jw, shapes[i].k);
        rcl_jw_key(jw, "calls"), rcl_jw_int(jw, shapes[i].calls);
        rcl_jw_end_object(jw);
    }
    rcl_jw_end_array(jw);
    rcl_jw_end_object(jw);
    rcl_jw_end_object(jw);
}

/* The device's tuned rows as a database entry, to FILE. */
static rcl_status write_entry(rcl_device *d, const char *path) {
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    if (!buf)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    int n = rcl_conv_database_entry(d, buf, cap);
    rcl_status s = rcl_file_write_atomic(path, buf, (size_t)n < cap ? (size_t)n : cap - 1);
    free(buf);
    if (!s)
        printf("database entry: %s (add it to kernels/tuned/database.txt)\n", path);
    return s;
}

static const char usage[] =
    "usage: robustcl tune [--device SEL] [--arch wrn-16-4] [--input 32x32x3] [--batch 128]\n"
    "                     [--classes 10] [--budget-seconds 600] [--gemm-seconds 60] [--seed 1]\n"
    "                     [--conv-only | --gemm-only] [--database-entry FILE [--entry-only]]\n"
    "                     [--json FILE]\n\n"
    "Tunes robustcl's convolution kernels on the device: for every distinct convolution of\n"
    "the WRN at --batch and each pass (fwd, dx, dw), every kernel family's declared\n"
    "parameters are searched (docs/convolution.md lists them): every combination when they\n"
    "fit the pass's share of --budget-seconds, else at random with half the draws next to\n"
    "the best so far. The configurations auto would measure come first, so the start is\n"
    "always known; each candidate is built, its output checked against a double-precision\n"
    "reference on sampled entries, then timed (best of 3). The fastest is stored per device,\n"
    "driver and platform in the cache directory and used from then on (robustcl devices and\n"
    "every bench say so); the choices of other shapes and batch sizes stay, so tuning\n"
    "several nets adds up. --database-entry FILE writes the device's tuned rows as an entry\n"
    "of robustcl's database (kernels/tuned/database.txt), to contribute it (--entry-only:\n"
    "without searching).\n\n"
    "Then CLBlast's GEMM parameters (Xgemm, XgemmDirect and the direct/indirect switch point)\n"
    "are searched at random within CLBlast's constraints for the least total time of the\n"
    "step's im2col GEMMs (the fallback path, and the classifier), each candidate checked\n"
    "against a double-precision reference, for --gemm-seconds. Stored per device and driver\n"
    "and applied whenever the device is opened (not in tests, which pin their parameters).\n"
    "Delete the files in the cache directory to go back.\n\n";

int rcl_cmd_tune(int argc, char **argv) {
    tune_opts o = {NULL, NULL, NULL, "wrn-16-4", "32x32x3", 128, 10, 1, 0, 0, 0, 0, 0, 0, 600, 60};
    const rcl_cli_option opts[] = {
        RCL_CLI_STRING("--device", "SEL", &o.dev, "P:D or a name substring: the device to tune"),
        RCL_CLI_STRING("--arch", "wrn-D-K", &o.arch, "the network whose convolutions and GEMMs are tuned (default wrn-16-4)"),
        RCL_CLI_STRING("--input", "HxWxC", &o.input, "its input (default 32x32x3)"),
        RCL_CLI_INT("--batch", "N", &o.batch, 1, 65536, "its batch: tune at the batch you train with (default 128)"),
        RCL_CLI_INT("--classes", "N", &o.classes, 2, 100000, "its classes (default 10)"),
        RCL_CLI_DOUBLE("--budget-seconds", "S", &o.conv_seconds, 1, 1e6,
                       "time for the convolution search, shared by the shapes and passes (default 600)"),
        RCL_CLI_DOUBLE("--gemm-seconds", "S", &o.gemm_seconds, 1, 1e6, "time for the GEMM search (default 60)"),
        RCL_CLI_INT("--seed", "N", &o.seed, 0, 1 << 30, "seed of the random searches (default 1)"),
        RCL_CLI_FLAG("--conv-only", &o.conv_only, "skip the GEMM search"),
        RCL_CLI_FLAG("--gemm-only", &o.gemm_only, "skip the convolution search"),
        RCL_CLI_STRING("--database-entry", "FILE", &o.entry, "write the device's tuned convolutions as a database entry"),
        RCL_CLI_FLAG("--entry-only", &o.entry_only, "with --database-entry: write the entry of what is tuned, search nothing"),
        RCL_CLI_STRING("--json", "FILE", &o.json, "every search's result, the parameters and the shapes"),
    };
    const rcl_cli_spec spec = {"tune", usage, opts, RCL_CLI_COUNT(opts), 23, NULL, NULL};
    int rc, used = 0;
    if (rcl_cli_parse(&spec, argc, argv, &rc))
        return rc;
    if (sscanf(o.input, "%dx%dx%d%n", &o.h, &o.w, &o.c, &used) != 3 || o.input[used] || o.h < 4 || o.w < 4 || o.c < 1)
        return rcl_cli_usage("tune", "--input '%s': expected HxWxC, e.g. 32x32x3", o.input);
    if (o.conv_only && o.gemm_only)
        return rcl_cli_usage("tune", "--conv-only and --gemm-only exclude each other");
    if (o.entry_only && !o.entry)
        return rcl_cli_usage("tune", "--entry-only needs --database-entry FILE");
    rcl_wrn_config check;
    if (net_config(&o, &check) != RCL_OK)
        return rcl_cli_usage("tune", "--arch: %s", rcl_last_error());
    rcl_device *d;
    if (rcl_cli_open_device(o.dev, 0, &d) != RCL_OK)
        return rcl_cli_error();
    static rcl_gemm_shape shapes[MAX_SHAPES];
    int n = 0;
    rcl_gemm_tune_result r;
    memset(&r, 0, sizeof r);
    char path[4200] = "";
    conv_progress cp = {0};
    rcl_status s = RCL_OK;
    if (!o.gemm_only && !o.entry_only)
        s = tune_convs(d, &o, &cp);
    if (!s && !o.conv_only && !o.entry_only)
        s = tune_gemm(d, &o, shapes, &n, &r, path, sizeof path);
    if (!s && o.entry)
        s = write_entry(d, o.entry);
    if (!s && o.json) {
        rcl_json_writer jw; /* in memory, then written atomically */
        rcl_jw_init(&jw, NULL, 2);
        json_write(&jw, d, &o, &r, shapes, n, path, &cp);
        s = rcl_jw_save(&jw, o.json);
    }
    free(cp.results);
    rcl_device_close(d);
    return s == RCL_OK ? 0 : rcl_cli_error();
}
