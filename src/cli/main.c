/* robustcl: the command-line front end. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*run)(int, char **);
    const char *help;
} command;

static const command commands[] = {
    {"devices", rcl_cmd_devices, "list OpenCL platforms and devices"},
    {"selftest", rcl_cmd_selftest, "check every op on the device against its C reference"},
    {"train", rcl_cmd_train, "train a Wide ResNet"},
    {"eval", rcl_cmd_eval, "evaluate a checkpoint"},
    {"bench", rcl_cmd_bench, "GEMM and training-step benchmarks"},
    {"tune", rcl_cmd_tune, "tune CLBlast's GEMM parameters for this device"},
    {"import", rcl_cmd_import, "convert a PyTorch WRN state_dict (.pt) into a checkpoint"},
    {"suite", rcl_cmd_suite, "the scratch vs pre-trained robustness suite (mini, paper)"},
    {"report", rcl_cmd_report, "collect suite stage results into the report beside the paper's tables"},
};
#define NCOMMANDS (int)(sizeof commands / sizeof commands[0])

int rcl_cli_error(void) {
    fprintf(stderr, "robustcl: %s\n", rcl_last_error());
    return 1;
}

int rcl_cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "robustcl %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see robustcl %s --help)\n", cmd);
    return 2;
}

static void usage(FILE *f) {
    fprintf(f, "robustcl %s: Wide ResNets and the robustness evaluations of Hendrycks et al. (2019)\n"
               "on any OpenCL device.\n\nusage: robustcl COMMAND [options]   (robustcl COMMAND --help)\n\n"
               "commands:\n", rcl_version());
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nenvironment: ROBUSTCL_DEVICE (device selector), ROBUSTCL_CACHE_DIR, ROBUSTCL_CACHE=0,\n"
               "             ROBUSTCL_KERNEL_DIR (load kernels/*.cl from disk)\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("robustcl %s\n", rcl_version());
        return 0;
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "robustcl: unknown command '%s' (see robustcl --help)\n", argv[1]);
    return 2;
}
