#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "robustcl/suite.h"

#define MAX_DIRS 256

static void help(void) {
    printf("usage: robustcl report DIR... [--out DIR]\n\n"
           "Collects the stage results (DIR/stages/NAME.json) of suite runs executed anywhere, e.g. the\n"
           "--only runs of `robustcl suite paper --plan` on many machines, and writes report.json and\n"
           "report.html with the paper's Tables 1-5 (pre-training error, label-noise error areas, class\n"
           "imbalance, adversarial accuracy, OOD AUROC/AUPR, calibration RMS/MAD) beside ours; prints the\n"
           "tables. Runs that have not been collected show as '-'.\n\n"
           "  --out DIR   where report.json and report.html go (default: the first DIR)\n");
}

int rcl_cmd_report(int argc, char **argv) {
    const char *dirs[MAX_DIRS], *out = NULL;
    int ndirs = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return 0;
        } else if (!strcmp(argv[i], "--out")) {
            if (++i == argc)
                return rcl_cli_usage("report", "--out needs a directory");
            out = argv[i];
        } else if (!strncmp(argv[i], "--out=", 6)) {
            out = argv[i] + 6;
        } else if (!strncmp(argv[i], "--", 2)) {
            return rcl_cli_usage("report", "unknown option '%s'", argv[i]);
        } else if (ndirs == MAX_DIRS) {
            return rcl_cli_usage("report", "more than %d directories", MAX_DIRS);
        } else {
            dirs[ndirs++] = argv[i];
        }
    }
    if (!ndirs)
        return rcl_cli_usage("report", "no directory given");
    if (!out)
        out = dirs[0];
    if (rcl_suite_report(dirs, ndirs, out, stdout) != RCL_OK)
        return rcl_cli_error();
    fprintf(stderr, "robustcl report: %s/report.json, %s/report.html\n", out, out);
    return 0;
}
