#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "robustcl/suite.h"

#define MAX_DIRS 256

typedef struct {
    const char *dirs[MAX_DIRS];
    int ndirs;
} report_dirs;

/* DIR...: every argument that is no option. */
static int add_dir(rcl_args *a, void *ctx) {
    report_dirs *r = ctx;
    const char *arg = a->argv[a->i];
    if (!strncmp(arg, "--", 2))
        return rcl_cli_usage("report", "unknown option '%s'", arg);
    if (r->ndirs == MAX_DIRS)
        return rcl_cli_usage("report", "more than %d directories", MAX_DIRS);
    r->dirs[r->ndirs++] = arg;
    return 0;
}

int rcl_cmd_report(int argc, char **argv) {
    report_dirs r = {{0}, 0};
    const char *out = NULL;
    const rcl_cli_option opts[] = {
        RCL_CLI_STRING("--out", "DIR", &out, "where report.json and report.html go (default: the first DIR)"),
    };
    const rcl_cli_spec spec = {
        "report",
        "usage: robustcl report DIR... [--out DIR]\n\n"
        "Collects the stage results (DIR/stages/NAME.json) of suite runs executed anywhere, e.g. the\n"
        "--only runs of `robustcl suite paper --plan` on many machines, and writes report.json and\n"
        "report.html with the paper's Tables 1-5 (pre-training error, label-noise error areas, class\n"
        "imbalance, adversarial accuracy, OOD AUROC/AUPR, calibration RMS/MAD) beside ours; prints the\n"
        "tables. Runs that have not been collected show as '-'. Each stage keeps its run record\n"
        "(\"provenance\"); a warning names the devices, drivers or versions when the stages differ.\n\n",
        opts, RCL_CLI_COUNT(opts), 14, add_dir, &r};
    int rc;
    if (rcl_cli_parse(&spec, argc, argv, &rc))
        return rc;
    if (!r.ndirs)
        return rcl_cli_usage("report", "no directory given");
    if (!out)
        out = r.dirs[0];
    if (rcl_suite_report(rcl_cli_run(), r.dirs, r.ndirs, out, stdout) != RCL_OK)
        return rcl_cli_error();
    fprintf(stderr, "robustcl report: %s/report.json, %s/report.html\n", out, out);
    return 0;
}
