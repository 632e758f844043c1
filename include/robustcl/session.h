/* A run: its configuration (everything that changes how the library runs, in one struct the
 * caller fills; the library reads no environment variable) and its set-up (the device, its
 * tuned parameters, the self-test gate, the model and its input normalisation), written once
 * for every command and both suites. */
#ifndef ROBUSTCL_SESSION_H
#define ROBUSTCL_SESSION_H

#include <stdint.h>

#include "robustcl/data.h"
#include "robustcl/device.h"
#include "robustcl/dist.h"
#include "robustcl/model.h"
#include "robustcl/normalization.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcl_run_config {
    /* how the device runs: selector, local rank, convolution policy, kernel class, kernel
     * folder, extra build options, binary cache, profiling, memory limits */
    rcl_device_options device;
    /* process-wide (rcl_run_config_apply) */
    const char *cache_dir;         /* NULL or "": no cache */
    const char *fashion_mnist_dir; /* data directory of a `fashion-mnist` spec without a path (NULL: Debian's) */
    int quiet;                     /* warnings only: no notices, no progress */
    int force;                     /* run on a device whose self-test failed */
    rcl_dist_launch launch;        /* data parallel: what the launcher said (rcl_dist_init) */
    /* the run's record (robustcl/provenance.h) */
    char command_line[2048];
    double started; /* seconds since the epoch, UTC */
} rcl_run_config;

/* Defaults (all zero: auto device, no cache, Debian's data), the command line argv[0..argc)
 * (argc 0: none) and the start time now. */
void rcl_run_config_init(rcl_run_config *c, int argc, char **argv);
/* Puts the process-wide parts in force: the cache directory (rcl_cache_set_dir), the data
 * directory (rcl_fashion_mnist_set_default_dir) and quiet (rcl_log_set_quiet). Call it once,
 * before the work (the command line does at start); sessions do not, so that they leave what a
 * program set process-wide as it is. */
void rcl_run_config_apply(const rcl_run_config *c);

/* What a session sets up besides the device. */
typedef struct rcl_session_spec {
    int gate;    /* the self-test gate (train, eval, the suites): refuse a device whose self-test
                  * failed, unless run->force */
    int profile; /* per-kernel device time (bench step) */
    /* the model: from an architecture and a dataset, or from a checkpoint; neither: none */
    const char *arch;              /* "wrn-40-2" */
    const rcl_dataset *data;       /* its input shape and classes */
    float dropout;
    uint64_t seed;                 /* rcl_model_init's */
    const char *checkpoint;        /* its architecture, classes, input and weights (eval mode) */
    int batch;                     /* batch capacity */
    const rcl_normalization *norm; /* NULL: the checkpoint's (0.5/0.5 without one); a checkpoint's
                                    * that differs is replaced, with a warning */
} rcl_session_spec;

typedef struct rcl_session {
    const rcl_run_config *run;
    rcl_device *device;
    rcl_model *model; /* NULL without one */
    rcl_normalization norm;
} rcl_session;

/* Opens the run configuration's device (which applies the device's tuned GEMM parameters),
 * loads its convolution choices and policy, runs the self-test gate when asked and builds the
 * model. run must outlive the session (its record). On failure *s is closed. */
rcl_status rcl_session_open(const rcl_run_config *run, const rcl_session_spec *spec, rcl_session *s);
/* Frees the model and closes the device; safe on a zeroed or closed session. */
void rcl_session_close(rcl_session *s);

#ifdef __cplusplus
}
#endif
#endif
