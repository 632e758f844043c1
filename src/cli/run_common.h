/* The options and body of `robustcl train` (single- and multi-process), kept apart from its
 * argument parsing in cmd_train.c. */
#ifndef RCL_RUN_COMMON_H
#define RCL_RUN_COMMON_H

#include <signal.h>

#include "cli.h"

typedef struct rcl_run_options {
    const char *data, *test, *arch, *device, *out, *init, *log, *json, *adv_train;
    double dropout, lr, wd;
    int epochs, batch, seed, augment, resume, force, keep, freeze_trunk, max_device_mem_mib;
    int bn_split, sync_bn; /* ghost batch norm sub-batches; BN statistics over all MPI ranks */
    double dist_timeout;   /* seconds a rank waits for the others in a collective */
    rcl_normalization norm; /* --normalize (default 0.5/0.5) */
    int norm_given;
    long every_steps;
    double every_minutes;
    volatile sig_atomic_t *stop;
} rcl_run_options;

void rcl_run_options_default(rcl_run_options *o);
/* Consumes the current option if it is a training option: 1 taken, 0 usage error printed, -1 not ours. */
int rcl_run_option(rcl_run_options *o, rcl_args *a);
rcl_status rcl_run_train(const rcl_run_options *o);

#endif
