/* Shared by the bench commands: the peer script (bench/peer_pytorch.py) and its JSON. */
#ifndef RCL_BENCH_PEER_H
#define RCL_BENCH_PEER_H

#include "cli.h"

/* Runs the peer script with `args`; returns its JSON (last line of stdout) or NULL, with the
 * reason in why. */
rcl_json *rcl_bench_run_peer(const char *script, const char *args, char *why, size_t cap);
/* Writes "peer": the peer's scalar fields, or null and "peer_unavailable": why. */
void rcl_bench_json_peer(rcl_json_writer *jw, const rcl_json *peer, const char *why);

/* bench conv (bench_conv.c): every convolution of a WRN, each pass under every algorithm. */
typedef struct rcl_bench_conv_cfg {
    const char *arch;
    int batch, c, h, w, classes, repeat;
    int peer, peer_threads;
    const char *script, *peer_device;
} rcl_bench_conv_cfg;
rcl_status rcl_bench_conv(rcl_device *d, const rcl_bench_conv_cfg *b, rcl_json_writer *jw);
/* One convolution: every candidate's time per pass (best of repeat; -1: not applicable) and
 * the algorithm the policy runs (rechoose: measured anew and stored, as robustcl tune does). */
rcl_status rcl_bench_conv_shape(rcl_device *d, const rcl_conv_shape *s, int repeat, int rechoose,
                                double ms[RCL_CONV_PASSES][RCL_CONV_CANDIDATES],
                                const char *chosen[RCL_CONV_PASSES]);
/* The distinct convolutions of a WRN at batch n, with how often the net uses each. */
int rcl_bench_wrn_convs(rcl_device *d, const rcl_wrn_config *cfg, int n, rcl_conv_shape *out,
                        int *uses, int cap);

#endif
