/* The device benchmarks of robustcl bench (gemm, step, conv), their peer (the script
 * bench/peer_pytorch.py) and the cross-device comparison of `--device all`. */
#ifndef RCL_BENCH_H
#define RCL_BENCH_H

#include "cli.h"

/* Runs the peer script with `args`; returns its JSON (last line of stdout) or NULL, with the
 * reason in why. */
rcl_json *rcl_bench_run_peer(const char *script, const char *args, char *why, size_t cap);
/* Writes "peer": the peer's scalar fields, or null and "peer_unavailable": why. */
void rcl_bench_json_peer(rcl_json_writer *jw, const rcl_json *peer, const char *why);

/* Timings users can trust: robustcl and the peer alternate --repeat times in one run, and each
 * is reported as the median with the min-max spread of its samples (and so is the ratio of
 * each pair). */
#define RCL_BENCH_MAX_REPEAT 100
typedef struct rcl_bench_stat {
    double median, min, max;
    int n; /* positive samples (a sample <= 0: missing) */
} rcl_bench_stat;
rcl_bench_stat rcl_bench_stats(const double *v, int n);
/* "12.3 (11.9-13.0)" with fmt for each number ("-" without samples): snprintf's count. */
int rcl_bench_stat_format(const rcl_bench_stat *s, const char *fmt, char *out, size_t cap);
/* "key": {"median", "min", "max", "samples": [every sample]}. */
void rcl_bench_json_stat(rcl_json_writer *jw, const char *key, const double *v, int n);

/* What a device benchmark runs: the net and input (step, conv), how often, and the peer. */
typedef struct rcl_bench_cfg {
    const char *arch;
    int batch, c, h, w, classes, steps, repeat;
    int peer, peer_threads; /* peer: also run the peer script */
    const char *script, *peer_device;
} rcl_bench_cfg;

/* One benchmark's headline numbers on one device (higher is better), with the peer's where
 * it ran: the rows of the cross-device table and page. */
#define RCL_BENCH_ROWS 48
typedef struct rcl_bench_summary {
    const char *title, *unit;
    int rows;
    char label[RCL_BENCH_ROWS][48];
    double value[RCL_BENCH_ROWS], peer[RCL_BENCH_ROWS]; /* peer 0: none */
    char peer_name[192];
} rcl_bench_summary;
/* Appends a row (ignored past RCL_BENCH_ROWS). */
void rcl_bench_summary_add(rcl_bench_summary *sum, const char *label, double value, double peer);

/* Writes the device's provenance into the open JSON object: name, platform, driver, OpenCL C
 * version, where its GEMM parameters come from, and the run's "provenance" object. */
void rcl_bench_json_device(rcl_json_writer *jw, rcl_device *d);

/* bench gemm (bench_gemm.c): CLBlast SGEMM GFLOP/s on WRN shapes beside numpy.matmul's. */
rcl_status rcl_bench_gemm(rcl_device *d, const rcl_bench_cfg *b, rcl_json_writer *jw,
                          rcl_bench_summary *sum);
/* bench step (bench_step.c): training-step images/s with the device time per kernel. */
rcl_status rcl_bench_step(rcl_device *d, const rcl_bench_cfg *b, rcl_json_writer *jw,
                          rcl_bench_summary *sum);
/* bench conv (bench_conv.c): every convolution of a WRN, each pass under every algorithm. */
rcl_status rcl_bench_conv(rcl_device *d, const rcl_bench_cfg *b, rcl_json_writer *jw,
                          rcl_bench_summary *sum);
/* The kernel families' names, each once (gemm, direct, chan): count. */
#define RCL_BENCH_FAMILIES 8
int rcl_bench_conv_families(const char *names[RCL_BENCH_FAMILIES]);
/* One convolution: per pass, each family's best known configuration's time (best of repeat;
 * -1: the family does not run it) and the configuration the policy runs, with its time. */
rcl_status rcl_bench_conv_shape(rcl_device *d, const rcl_conv_shape *s, int repeat,
                                double ms[RCL_CONV_PASSES][RCL_BENCH_FAMILIES],
                                char chosen[RCL_CONV_PASSES][RCL_CONV_CONFIG_LEN],
                                double chosen_ms[RCL_CONV_PASSES]);
/* The distinct convolutions of a WRN at batch n, with how often the net uses each. */
int rcl_bench_wrn_convs(rcl_device *d, const rcl_wrn_config *cfg, int n, rcl_conv_shape *out,
                        int *uses, int cap);

/* bench logits (bench_logits.c): eval-mode logits of a checkpoint on a batch stored in a
 * safetensors file, compared with a reference JSON (max|diff| <= tol x max|reference|) if given. */
rcl_status rcl_bench_logits(rcl_device *d, const char *model, const char *input_tensor, const char *reference,
                            double tol, rcl_json_writer *jw);
/* bench loader (bench_loader.c): one epoch of the input pipeline alone, host only. */
rcl_status rcl_bench_loader(const char *spec, int batch, rcl_json_writer *jw);
/* Runs bench loader and writes json_path (NULL: none); the exit status. */
int rcl_bench_run_loader(const char *data, int batch, const char *json_path);

/* A device benchmark to run (bench_run.c): gemm, step, conv or logits (with its inputs). */
typedef struct rcl_bench_job {
    const char *what, *model, *input_tensor, *reference;
    double tol;
} rcl_bench_job;
/* The job on the n devices of sel (single: sel[0] alone, NULL = the default device), writing
 * json_path and html when given (NULL: not); the exit status. */
int rcl_bench_run_devices(const rcl_bench_job *job, char **sel, int n, int single, rcl_bench_cfg b,
                          const char *json_path, const char *html);

/* bench_devices.c: the device list of --device (all, or selectors separated by commas; NULL
 * when it names one device), the cross-device table and its HTML page. */
char **rcl_bench_device_list(const char *sel, int *count);
void rcl_bench_print_table(const char *const *devices, const char *const *names, const rcl_bench_summary *sums,
                           int n);
/* Writes "table" into the open JSON object: the rows, a column per device (null where it
 * failed) and the peer's. */
void rcl_bench_json_table(rcl_json_writer *jw, const char *const *sel, const char *const *names,
                          const rcl_bench_summary *sums, int n);
rcl_status rcl_bench_write_html(const char *path, const char *what, const char *const *devices,
                                const char *const *names, const rcl_bench_summary *sums, int n);

#endif
