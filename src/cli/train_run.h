/* `robustcl train` after its options are parsed (cmd_train.c): one run, single- or
 * multi-process (MPI ranks), from the data to the checkpoint and the result JSON. */
#ifndef RCL_TRAIN_RUN_H
#define RCL_TRAIN_RUN_H

#include <signal.h>

#include "cli.h"

typedef struct rcl_train_run_options {
    const rcl_run_config *run; /* the device, how it runs, the run record */
    const char *data, *test, *arch, *out, *init, *log, *json, *adv_train;
    double dropout, lr, wd;
    int epochs, batch, seed, augment, resume, keep, freeze_trunk;
    int bn_split, sync_bn; /* ghost batch norm sub-batches; BN statistics over all MPI ranks */
    double dist_timeout;   /* seconds a rank waits for the others in a collective */
    rcl_normalization norm; /* --normalize (default 0.5/0.5) */
    int norm_given;
    long every_steps;
    double every_minutes;
    volatile sig_atomic_t *stop;
} rcl_train_run_options;

void rcl_train_run_defaults(rcl_train_run_options *o);
rcl_status rcl_train_run(const rcl_train_run_options *o);

#endif
