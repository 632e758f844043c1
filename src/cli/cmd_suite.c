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
    printf("usage: robustcl suite mini [options]\n"
           "       robustcl suite paper --data-root DIR [options]   (robustcl suite paper --help)\n\n"
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
           "  --batch N              (default 32)\n"
           "  --seeds N              seeds 1..N (default 2)\n"
           "  --target-per-class N   target training images per class (default 100)\n"
           "  --test-per-class N     target test images per class (default 100; 0 = all)\n"
           "  --min-steps N          floor of optimizer steps per run (default 50)\n"
           "  --noise-methods LIST   label-noise methods besides normal: forward,glc (default glc)\n"
           "  --pretrain-images N    source images for pre-training (default 3000; 0 = all)\n"
           "  --ood SPEC[;SPEC]      extra OOD sets (same image shape as the data)\n"
           "  --device SEL           P:D or a name substring\n"
           "  --describe             print the grid and exit\n");
}

static void help_paper(void) {
    printf("usage: robustcl suite paper --data-root DIR [options]\n\n"
           "The paper's recipes (PROTOCOL 4) over every table's grid, paper mode for every QUIRK: ImageNet32\n"
           "pre-training (WRN-40-2, 100 epochs, lr 0.1, batch 256) and adversarial pre-training (WRN-28-10,\n"
           "PGD-10), then for CIFAR-10 and CIFAR-100, scratch vs pre-trained: label noise (uniform and flip,\n"
           "s = 0..1 step 0.1; Normal, Forward, GLC 5%%/10%%), class imbalance (gamma 0.2..2.0; Normal,\n"
           "cost-sensitive, oversampling, SMOTE, pre-training), adversarial robustness (normal training,\n"
           "adversarial training, adversarial pre-training + fine-tuning, last layer only; PGD-20), OOD\n"
           "detection and calibration. Every run is a stage, OUT/stages/ID.json, that can run on its own.\n"
           "DIR holds cifar10/ (binary), cifar100/ (binary) and imagenet32/ (npz).\n\n"
           "  --data-root DIR        the datasets (required)\n"
           "  --out DIR              output directory (default suite-paper)\n"
           "  --plan                 print every run as ID<TAB>DEPENDS<TAB>COMMAND (dependencies first; DEPENDS\n"
           "                         is '-' or the pre-training run's ID) and exit; each COMMAND runs one run\n"
           "  --only ID[,ID...]      run only these runs (shell patterns, e.g. 'cifar10/noise-flip/*'); a\n"
           "                         fine-tuning run needs its pre-training run's model in the same OUT\n"
           "  --scale F              F times the paper's epochs and images, 0 < F <= 1 (smoke runs; default 1)\n"
           "  --datasets LIST        targets (default cifar10,cifar100)\n"
           "  --exclude FILE         ImageNet32 classes (0-based, one a line) left out of pre-training\n"
           "  --seeds N              target runs per configuration, seeds 1..N (default 1)\n"
           "  --arch wrn-D-K         main net (default wrn-40-2)\n"
           "  --adv-arch wrn-D-K     adversarial experiments' net (default wrn-28-10)\n"
           "  --batch N              target batch (default 128)\n"
           "  --pretrain-batch N     pre-training batch (default 256)\n"
           "  --ood SPEC[;SPEC]      real OOD sets besides Gaussian, Rademacher, Blobs (e.g. svhn:FILE)\n"
           "  --device SEL           P:D or a name substring\n"
           "  --describe             print the grid and exit\n\n"
           "Without --only every run executes in order and OUT/report.{json,html} follow; after runs on many\n"
           "machines, `robustcl report OUT...` collects their stage results into the report.\n");
}

static int cmd_paper(int argc, char **argv) {
    rcl_suite_paper_config c;
    rcl_suite_paper_defaults(&c);
    const char *out = "suite-paper", *only = NULL;
    int plan = 0, describe = 0;
    rcl_args a;
    rcl_args_init(&a, "suite paper", argc, argv);
    while (rcl_args_next(&a)) {
        const char *v = NULL;
        if (rcl_args_is(&a, "--help")) {
            help_paper();
            return 0;
        } else if (rcl_args_is(&a, "--plan")) {
            plan = 1;
        } else if (rcl_args_is(&a, "--describe")) {
            describe = 1;
        } else if (rcl_args_is(&a, "--out")) {
            out = rcl_args_str(&a);
        } else if (rcl_args_is(&a, "--only")) {
            only = rcl_args_str(&a);
        } else if (rcl_args_is(&a, "--data-root") && (v = rcl_args_str(&a))) {
            snprintf(c.data_root, sizeof c.data_root, "%s", v);
        } else if (rcl_args_is(&a, "--exclude") && (v = rcl_args_str(&a))) {
            snprintf(c.exclude, sizeof c.exclude, "%s", v);
        } else if (rcl_args_is(&a, "--datasets") && (v = rcl_args_str(&a))) {
            snprintf(c.datasets, sizeof c.datasets, "%s", v);
        } else if (rcl_args_is(&a, "--arch") && (v = rcl_args_str(&a))) {
            snprintf(c.arch, sizeof c.arch, "%s", v);
        } else if (rcl_args_is(&a, "--adv-arch") && (v = rcl_args_str(&a))) {
            snprintf(c.adv_arch, sizeof c.adv_arch, "%s", v);
        } else if (rcl_args_is(&a, "--ood") && (v = rcl_args_str(&a))) {
            snprintf(c.ood, sizeof c.ood, "%s", v);
        } else if (rcl_args_is(&a, "--device") && (v = rcl_args_str(&a))) {
            snprintf(c.device, sizeof c.device, "%s", v);
        } else if (rcl_args_is(&a, "--scale")) {
            rcl_args_double(&a, 1e-9, 1, &c.scale);
        } else if (rcl_args_is(&a, "--seeds")) {
            rcl_args_int(&a, 1, RCL_SUITE_MAX, &c.nseeds);
        } else if (rcl_args_is(&a, "--batch")) {
            rcl_args_int(&a, 1, 4096, &c.batch);
        } else if (rcl_args_is(&a, "--pretrain-batch")) {
            rcl_args_int(&a, 1, 4096, &c.pretrain_batch);
        } else if (!a.bad) {
            return rcl_args_unknown(&a);
        }
    }
    if (a.bad || !out)
        return 2;
    if (!c.data_root[0])
        return rcl_cli_usage("suite paper", "--data-root DIR is required");
    rcl_wrn_config wc;
    if (rcl_wrn_parse_arch(c.arch, &wc) != RCL_OK || rcl_wrn_parse_arch(c.adv_arch, &wc) != RCL_OK)
        return rcl_cli_usage("suite paper", "%s", rcl_last_error());
    if (plan)
        return rcl_suite_paper_plan(&c, out, "robustcl", stdout) == RCL_OK ? 0 : rcl_cli_error();
    rcl_suite_paper_describe(&c, stderr);
    if (describe)
        return 0;
    signal(SIGINT, on_sigint);
    rcl_status s = rcl_suite_paper_run(&c, out, only, &stop_requested);
    if (s == RCL_ERR_INTERRUPTED) {
        fprintf(stderr, "robustcl: interrupted; finished stages are kept in %s/stages: rerun to resume\n", out);
        return 130;
    }
    return s == RCL_OK ? 0 : rcl_cli_error();
}

int rcl_cmd_suite(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        help();
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "paper"))
        return cmd_paper(argc - 1, argv + 1);
    if (strcmp(argv[1], "mini"))
        return rcl_cli_usage("suite", "unknown suite '%s' (available: mini, paper)", argv[1]);
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
        } else if (rcl_args_is(&a, "--batch")) {
            rcl_args_int(&a, 1, 4096, &c.batch);
        } else if (rcl_args_is(&a, "--seeds")) {
            if (rcl_args_int(&a, 1, RCL_SUITE_MAX, &nseeds)) {
                c.nseeds = nseeds;
                for (int i = 0; i < nseeds; i++)
                    c.seeds[i] = i + 1;
            }
        } else if (rcl_args_is(&a, "--test-per-class")) {
            rcl_args_int(&a, 0, 100000, &c.test_per_class);
        } else if (rcl_args_is(&a, "--target-per-class")) {
            rcl_args_int(&a, 2, 100000, &c.target_per_class);
        } else if (rcl_args_is(&a, "--noise-methods") && (v = rcl_args_str(&a))) {
            c.noise_methods = (strstr(v, "forward") ? RCL_SUITE_NOISE_FORWARD : 0) | (strstr(v, "glc") ? RCL_SUITE_NOISE_GLC : 0);
        } else if (rcl_args_is(&a, "--pretrain-images")) {
            rcl_args_int(&a, 0, 100000000, &c.pretrain_images);
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
