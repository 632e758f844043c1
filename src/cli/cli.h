/* Shared helpers of the command-line front end. Each command is one
 * cmd_<name>.c with an int rcl_cmd_<name>(int argc, char **argv) returning the
 * exit status: 0 ok, 1 failure, 2 usage error. */
#ifndef RCL_CLI_H
#define RCL_CLI_H

#include "core/fileio.h"
#include "core/progress.h"
#include "robustcl/robustcl.h"

int rcl_cmd_devices(int argc, char **argv);
int rcl_cmd_selftest(int argc, char **argv);
int rcl_cmd_train(int argc, char **argv);
int rcl_cmd_eval(int argc, char **argv);
int rcl_cmd_bench(int argc, char **argv);
int rcl_cmd_tune(int argc, char **argv);
int rcl_cmd_suite(int argc, char **argv);
int rcl_cmd_import(int argc, char **argv);
int rcl_cmd_report(int argc, char **argv);

/* Prints "robustcl: <message>" for the last failure and returns 1. */
int rcl_cli_error(void);
/* Prints "robustcl <cmd>: <msg>" plus a --help hint and returns 2. */
int rcl_cli_usage(const char *cmd, const char *fmt, ...);

/* Option scanning: `--name value` or `--name=value`. */
typedef struct rcl_args {
    const char *cmd;
    int argc, i;
    char **argv;
    const char *name, *value; /* current option and its inline value, if any */
    int bad;                  /* a usage error was printed */
} rcl_args;
void rcl_args_init(rcl_args *a, const char *cmd, int argc, char **argv);
int rcl_args_next(rcl_args *a);               /* 1 while options remain */
int rcl_args_is(rcl_args *a, const char *name); /* current option is `name` */
const char *rcl_args_str(rcl_args *a);        /* its value (NULL + usage error if missing) */
int rcl_args_int(rcl_args *a, long lo, long hi, int *out);
int rcl_args_double(rcl_args *a, double lo, double hi, double *out);
int rcl_args_unknown(rcl_args *a);            /* prints the usage error, returns 2 */

/* --conv-algo SPEC: checks the policy and puts it in $ROBUSTCL_CONV_ALGO for every device the
 * command opens (1 taken, 0 usage error printed). */
int rcl_args_conv_algo(rcl_args *a);
#define RCL_CONV_ALGO_HELP                                                                        \
    "  --conv-algo SPEC     convolution algorithms: auto (default: measured per shape, cached),\n" \
    "                       gemm, direct, or fwd=NAME,dx=NAME,dw=NAME (docs/convolution.md)\n"

/* Opens the device named by --device (or the default) for a command. */
rcl_status rcl_cli_open_device(const char *selector, int profile, rcl_device **out);

#endif
