#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "robustcl/suite.h"

static volatile sig_atomic_t stop_requested;
static void on_sigint(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void help(void) {
    printf("usage: robustcl suite mini [options]\n\n"
           "Pre-trains on the source classes, then for each evaluation trains scratch and pre-trained models\n"
           "on the target classes, evaluates them and reports scratch vs pre-trained (PROTOCOL 4-11):\n"
           "clean error, calibration (RMS/MAD/ECE/AURRA) and OOD detection (AUROC/AUPR/FPR95 on Gaussian,\n"
           "Rademacher and Blobs noise plus any --ood set) of the clean runs; test error under uniform label\n"
           "noise and its area over the strength grid. Writes OUT/report.json, OUT/report.html and a table.\n"
           "Every run is a stage cached in OUT/stages by a hash of its configuration: a rerun skips finished\n"
           "stages, a changed option re-runs what it affects, an interrupted suite resumes.\n\n"
           "  --out DIR              output directory (default suite-mini)\n"
           "  --quick                CI-sized grid (a few minutes on 2 cores; numbers are not meaningful)\n"
           "  --data SPEC            labelled dataset (default fashion-mnist)\n"
           "  --source-classes LIST  pre-training classes (default 0-4), e.g. 0+1+8+9\n"
           "  --target-classes LIST  target classes, relabelled 0..K-1 (default 5-9)\n"
           "  --arch wrn-D-K         (default wrn-10-1)\n"
           "  --seeds N              seeds 1..N (default 2)\n"
           "  --target-per-class N   target training images per class (default 100)\n"
           "  --min-steps N          floor of optimizer steps per run (default 200)\n"
           "  --ood SPEC[;SPEC]      extra OOD sets (same image shape as the data)\n"
           "  --device SEL           P:D or a name substring\n"
           "  --describe             print the grid and exit\n");
}

int rcl_cmd_suite(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        help();
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "mini"))
        return rcl_cli_usage("suite", "unknown suite '%s' (available: mini)", argv[1]);
    int quick = 0, describe = 0;
    for (int i = 2; i < argc; i++)
        quick |= !strcmp(argv[i], "--quick");
    rcl_suite_config c;
    rcl_suite_defaults(&c, quick);
    const char *out = "suite-mini";
    rcl_args a;
    rcl_args_init(&a, "suite", argc - 1, argv + 1);
    while (rcl_args_next(&a)) {
        const char *v = NULL;
        int nseeds;
        if (rcl_args_is(&a, "--help")) {
            help();
            return 0;
        } else if (rcl_args_is(&a, "--quick")) {
        } else if (rcl_args_is(&a, "--describe")) {
            describe = 1;
        } else if (rcl_args_is(&a, "--out")) {
            out = rcl_args_str(&a);
        } else if (rcl_args_is(&a, "--data") && (v = rcl_args_str(&a))) {
            snprintf(c.data, sizeof c.data, "%s", v);
        } else if (rcl_args_is(&a, "--source-classes") && (v = rcl_args_str(&a))) {
            snprintf(c.source_classes, sizeof c.source_classes, "%s", v);
        } else if (rcl_args_is(&a, "--target-classes") && (v = rcl_args_str(&a))) {
            snprintf(c.target_classes, sizeof c.target_classes, "%s", v);
        } else if (rcl_args_is(&a, "--arch") && (v = rcl_args_str(&a))) {
            snprintf(c.arch, sizeof c.arch, "%s", v);
        } else if (rcl_args_is(&a, "--ood") && (v = rcl_args_str(&a))) {
            snprintf(c.ood, sizeof c.ood, "%s", v);
        } else if (rcl_args_is(&a, "--device") && (v = rcl_args_str(&a))) {
            snprintf(c.device, sizeof c.device, "%s", v);
        } else if (rcl_args_is(&a, "--seeds")) {
            if (rcl_args_int(&a, 1, RCL_SUITE_MAX, &nseeds)) {
                c.nseeds = nseeds;
                for (int i = 0; i < nseeds; i++)
                    c.seeds[i] = i + 1;
            }
        } else if (rcl_args_is(&a, "--target-per-class")) {
            rcl_args_int(&a, 2, 100000, &c.target_per_class);
        } else if (rcl_args_is(&a, "--min-steps")) {
            rcl_args_int(&a, 1, 10000000, &c.min_steps);
        } else if (!a.bad) {
            return rcl_args_unknown(&a);
        }
    }
    if (a.bad || !out)
        return 2;
    rcl_wrn_config wc;
    if (rcl_wrn_parse_arch(c.arch, &wc) != RCL_OK)
        return rcl_cli_usage("suite", "%s", rcl_last_error());
    rcl_suite_describe(&c, stderr);
    if (describe)
        return 0;
    signal(SIGINT, on_sigint);
    rcl_status s = rcl_suite_run(&c, out, &stop_requested);
    if (s == RCL_ERR_INTERRUPTED) {
        fprintf(stderr, "robustcl: interrupted; finished stages are kept in %s/stages: rerun to resume\n", out);
        return 130;
    }
    return s == RCL_OK ? 0 : rcl_cli_error();
}
