/* robustcl: the command-line front end. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "robustcl/log.h"

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
    {"corrupt", rcl_cmd_corrupt, "write common corruptions of a dataset as CIFAR-10-C is laid out"},
    {"bench", rcl_cmd_bench, "GEMM and training-step benchmarks"},
    {"tune", rcl_cmd_tune, "tune CLBlast's GEMM parameters for this device"},
    {"import", rcl_cmd_import, "convert a PyTorch WRN state_dict (.pt) into a checkpoint"},
    {"suite", rcl_cmd_suite, "the scratch vs pre-trained robustness suite (mini, paper)"},
    {"report", rcl_cmd_report, "collect suite stage results into the report beside the paper's tables"},
    {"version", rcl_cmd_version, "robustcl's version and commit, and CLBlast's"},
};
#define NCOMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(void) {
    printf("robustcl %s: Wide ResNets and the robustness evaluations of Hendrycks et al. (2019)\n"
           "on any OpenCL device.\n\nusage: robustcl COMMAND [options]   (robustcl COMMAND --help)\n\n"
           "commands:\n", rcl_version());
    for (int i = 0; i < NCOMMANDS; i++)
        printf("  %-10s %s\n", commands[i].name, commands[i].help);
    printf("  %-10s %s\n", "help data", "the dataset spec syntax of --data, --test and --ood");
    printf("\nenvironment (read once, into the run configuration; README \"Environment\"): ROBUSTCL_DEVICE\n"
           "  (--device), ROBUSTCL_CONV_ALGO (--conv-algo), ROBUSTCL_CACHE_DIR, ROBUSTCL_CACHE=0,\n"
           "  ROBUSTCL_BINARY_CACHE, ROBUSTCL_KERNEL_DIR, ROBUSTCL_KERNEL_CLASS, ROBUSTCL_CL_OPTIONS,\n"
           "  ROBUSTCL_QUIET, RCL_FASHION_MNIST_DIR, ROBUSTCL_PYTHON\n"
           "\nwhat every number means: docs/specification.md (\"spec §N\" in the help texts)\n");
}

/* `robustcl help data`: the dataset spec syntax every --data/--test/--ood takes (src/data/spec.c). */
static void data_help(void) {
    printf("dataset spec: KIND[:PATH][,KEY=VALUE...]\n\n"
           "kinds:\n"
           "  fashion-mnist[:DIR]  IDX files, .gz or not (default DIR /usr/share/datasets/fashion-mnist)\n"
           "  cifar10:DIR          CIFAR-10 binary batches\n"
           "  cifar100:DIR         CIFAR-100 binary (labels=fine|coarse)\n"
           "  imagenet32:DIR       Downsampled ImageNet 32x32 (npz or pickled batches)\n"
           "  svhn:FILE.mat        SVHN test_32x32.mat\n"
           "  folder:DIR           images in class folders or flat (layout=auto|classes|flat, size=HxW, channels=1|3)\n"
           "  tinyimagenet:DIR     Tiny ImageNet 64x64 (size=HxW, channels=1|3)\n"
           "  gaussian, rademacher, blobs   synthetic OOD sets (n=N, seed=N, shape=CxHxW)\n\n"
           "options of the labelled kinds:\n"
           "  classes=5-9 or 0+2+4  keep these classes, relabelled 0..K'-1 in order\n"
           "  exclude=FILE          leave out the classes listed in FILE (one a line)\n"
           "  n=N, seed=N           a seeded random subset of N images\n"
           "  split=train|test      which split (default: train for --data, test for --test)\n\n"
           "examples: fashion-mnist,classes=5-9,n=500   cifar10:/data/cifar-10-batches-bin,split=test\n");
}

int main(int argc, char **argv) {
    /* The library's messages as this program has always shown them: "robustcl: ..." lines on
     * stderr, progress as a bar redrawn in place when stderr is a terminal. That is what
     * rcl_log_stderr does; naming it here keeps our output off the library's default. */
    rcl_log_set(rcl_log_stderr, NULL, isatty(STDERR_FILENO));
    if (rcl_cli_setup(argc, argv) != RCL_OK) {
        fprintf(stderr, "robustcl: %s\n", rcl_last_error());
        return 2;
    }
    if (argc < 2) {
        fprintf(stderr, "robustcl: no command given (robustcl --help lists them)\n");
        return 2;
    }
    if (!strcmp(argv[1], "help") && argc > 2) {
        if (!strcmp(argv[2], "data")) {
            data_help();
            return 0;
        }
        for (int i = 0; i < NCOMMANDS; i++)
            if (!strcmp(argv[2], commands[i].name)) {
                static char help_flag[] = "--help";
                char *sub[] = {argv[2], help_flag, NULL};
                return commands[i].run(2, sub);
            }
        fprintf(stderr, "robustcl: no help on '%s' (topics: data, or a command)\n", argv[2]);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage();
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
