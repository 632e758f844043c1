/* Shared helpers of the command-line front end. Each command is one
 * cmd_<name>.c with an int rcl_cmd_<name>(int argc, char **argv) returning the
 * exit status: 0 ok, 1 failure, 2 usage error. */
#ifndef RCL_CLI_H
#define RCL_CLI_H

#include <stdio.h>

#include "core/fileio.h"
#include "core/progress.h"
#include "robustcl/robustcl.h"

int rcl_cmd_devices(int argc, char **argv);
int rcl_cmd_selftest(int argc, char **argv);
int rcl_cmd_train(int argc, char **argv);
int rcl_cmd_eval(int argc, char **argv);
int rcl_cmd_corrupt(int argc, char **argv);
int rcl_cmd_bench(int argc, char **argv);
int rcl_cmd_tune(int argc, char **argv);
int rcl_cmd_suite(int argc, char **argv);
int rcl_cmd_import(int argc, char **argv);
int rcl_cmd_report(int argc, char **argv);
int rcl_cmd_version(int argc, char **argv);

/* This process's run configuration: the command line and the environment read once at start
 * (rcl_cli_setup, env.c), then the options that change how a device runs (--device,
 * --conv-algo, --force, --max-device-mem). RCL_ERR_INVALID_ARG for an environment variable's
 * bad value. */
rcl_status rcl_cli_setup(int argc, char **argv);
rcl_run_config *rcl_cli_run(void);
/* The bench peer's interpreter: $ROBUSTCL_PYTHON, else /usr/bin/python3. */
const char *rcl_cli_python(void);

/* Prints "robustcl: <message>" for the last failure and returns 1. */
int rcl_cli_error(void);
/* Prints "robustcl <cmd>: <msg>" plus a --help hint and returns 2. */
int rcl_cli_usage(const char *cmd, const char *fmt, ...);

/* Options: each command declares its options once, in a table of rcl_cli_option rows, from
 * which rcl_cli_parse parses `--name value` / `--name=value` and rcl_cli_help prints --help. */
typedef struct rcl_args {
    const char *cmd;
    int argc, i;
    char **argv;
    const char *name, *value; /* the current argument (option name) and its inline value, if any */
    char name_buf[128];
} rcl_args;

typedef enum {
    RCL_OPT_TEXT,   /* no option: help text printed as it is (a paragraph before a group) */
    RCL_OPT_FLAG,   /* *(int *)ptr = lo */
    RCL_OPT_INT,    /* *(int *)ptr = an integer in lo..hi */
    RCL_OPT_DOUBLE, /* *(double *)ptr = a number in lo..hi */
    RCL_OPT_STRING, /* *(const char **)ptr = the value (the last one given) */
    RCL_OPT_BUF,    /* the value copied into char ptr[cap] */
    RCL_OPT_CHOICE, /* *(int *)ptr = the index of the value in choices "a|b|c" */
    RCL_OPT_CALL,   /* fn(a, opt, value) */
} rcl_opt_kind;

typedef struct rcl_cli_option rcl_cli_option;
struct rcl_cli_option {
    rcl_opt_kind kind;
    const char *name, *metavar; /* "--batch", "N" (NULL: a flag) */
    void *ptr, *aux;            /* where the value goes; aux: a second target for fn */
    double lo, hi;
    const char *choices; /* RCL_OPT_CHOICE, or names for fn */
    size_t cap;          /* RCL_OPT_BUF */
    /* RCL_OPT_CALL: takes the value; 0, or the usage error's status 2 after printing it */
    int (*fn)(rcl_args *a, const rcl_cli_option *opt, const char *value);
    int *given; /* set to 1 when the option appears (NULL: not recorded) */
    const char *help; /* description; lines after the first are indented to the column */
};

#define RCL_CLI_TEXT(text) {.kind = RCL_OPT_TEXT, .help = (text)}
#define RCL_CLI_FLAG(name_, p, help_) {.kind = RCL_OPT_FLAG, .name = (name_), .ptr = (p), .lo = 1, .help = (help_)}
#define RCL_CLI_FLAG_SET(name_, p, v, help_) \
    {.kind = RCL_OPT_FLAG, .name = (name_), .ptr = (p), .lo = (v), .help = (help_)}
#define RCL_CLI_INT(name_, mv, p, lo_, hi_, help_) \
    {.kind = RCL_OPT_INT, .name = (name_), .metavar = (mv), .ptr = (p), .lo = (lo_), .hi = (hi_), .help = (help_)}
#define RCL_CLI_DOUBLE(name_, mv, p, lo_, hi_, help_) \
    {.kind = RCL_OPT_DOUBLE, .name = (name_), .metavar = (mv), .ptr = (p), .lo = (lo_), .hi = (hi_), .help = (help_)}
#define RCL_CLI_STRING(name_, mv, p, help_) \
    {.kind = RCL_OPT_STRING, .name = (name_), .metavar = (mv), .ptr = (p), .help = (help_)}
/* buf: a char array (its size is the limit) */
#define RCL_CLI_BUF(name_, mv, buf, help_) \
    {.kind = RCL_OPT_BUF, .name = (name_), .metavar = (mv), .ptr = (buf), .cap = sizeof(buf), .help = (help_)}
#define RCL_CLI_CHOICE(name_, mv, p, choices_, help_) \
    {.kind = RCL_OPT_CHOICE, .name = (name_), .metavar = (mv), .ptr = (p), .choices = (choices_), .help = (help_)}
#define RCL_CLI_CALL(name_, mv, fn_, p, help_) \
    {.kind = RCL_OPT_CALL, .name = (name_), .metavar = (mv), .fn = (fn_), .ptr = (p), .help = (help_)}

typedef struct rcl_cli_spec {
    const char *cmd;   /* as in messages: "eval", "suite paper" */
    const char *usage; /* --help before the table: the usage line(s) and the description */
    const rcl_cli_option *opts;
    int nopts;
    int column; /* where the descriptions start in --help */
    /* an argument that is no option of the table (NULL: unknown argument): 0 or status 2 */
    int (*operand)(rcl_args *a, void *ctx);
    void *ctx;
} rcl_cli_spec;
#define RCL_CLI_COUNT(table) (int)(sizeof(table) / sizeof((table)[0]))

/* Parses argv[1..argc-1] by the table. 0: go on; 1: stop with status *exit_code, 0 after --help
 * or -h (printed), 2 after a usage error (one line printed). */
int rcl_cli_parse(const rcl_cli_spec *spec, int argc, char **argv, int *exit_code);
void rcl_cli_help(const rcl_cli_spec *spec, FILE *f);
/* "unknown argument 'ARG'" for the current argument; returns 2. */
int rcl_cli_unknown(const rcl_args *a);
/* The index of s[0..len) in choices "a|b|c", or -1. */
int rcl_cli_choice(const char *choices, const char *s, size_t len);

/* --conv-algo SPEC: checks the policy and puts it into the run configuration (rcl_cli_run), for
 * every device the command opens. */
int rcl_cli_conv_algo(rcl_args *a, const rcl_cli_option *o, const char *v);
#define RCL_CLI_CONV_ALGO                                                                                 \
    RCL_CLI_CALL("--conv-algo", "SPEC", rcl_cli_conv_algo, NULL,                                          \
                 "convolution algorithms: auto (default: measured per shape, cached),\n"                  \
                 "gemm, direct, or fwd=NAME,dx=NAME,dw=NAME (docs/convolution.md)")
/* --device SEL into the run configuration's selector. */
#define RCL_CLI_DEVICE(help_) RCL_CLI_STRING("--device", "SEL", &rcl_cli_run()->device.selector, help_)
/* --force into the run configuration. */
#define RCL_CLI_FORCE(help_) RCL_CLI_FLAG("--force", &rcl_cli_run()->force, help_)

/* Options checked when given, so a wrong value is a usage error naming the option (status 2):
 * --arch wrn-D-K (ptr: a const char * or, with cap, a char buffer) and dataset specs. */
int rcl_cli_arch(rcl_args *a, const rcl_cli_option *o, const char *v);
int rcl_cli_dataset(rcl_args *a, const rcl_cli_option *o, const char *v);
#define RCL_CLI_ARCH(p, help_) RCL_CLI_CALL("--arch", "wrn-D-K", rcl_cli_arch, (p), help_)
#define RCL_CLI_ARCH_BUF(buf, help_)                                                                     \
    {.kind = RCL_OPT_CALL, .name = "--arch", .metavar = "wrn-D-K", .fn = rcl_cli_arch, .ptr = (buf),      \
     .cap = sizeof(buf), .help = (help_)}
#define RCL_CLI_DATASET(name_, p, help_) RCL_CLI_CALL(name_, "SPEC", rcl_cli_dataset, (p), help_)

/* Opens the device of selector (NULL: the run configuration's, --device or the default) as
 * the run configuration says, for a command that neither trains nor evaluates (no self-test
 * gate); profile: per-kernel device time. */
rcl_status rcl_cli_open_device(const char *selector, int profile, rcl_device **out);

/* Writes "provenance": this process's run record on d (NULL: none), into the open object. */
void rcl_cli_provenance(rcl_json_writer *w, rcl_device *d);

#endif
