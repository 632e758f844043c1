#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "robustcl/suite.h"

static volatile sig_atomic_t stop_requested;
static void on_sigint(int sig) {
    (void)sig;
    stop_requested = 1;
}

/* A comma-separated list of numbers in [lo, hi] into v[RCL_SUITE_MAX]; 0 and a usage error if bad. */
static int parse_list(rcl_args *a, double lo, double hi, double *v, int *n) {
    const char *text = rcl_args_str(a);
    if (!text)
        return 0;
    int k = 0;
    for (const char *p = text;; k++) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || !(x >= lo && x <= hi) || (*end && *end != ',') || k == RCL_SUITE_MAX) {
            a->bad = 1;
            rcl_cli_usage(a->cmd, "%s '%s': expected up to %d comma-separated numbers in [%g, %g]", a->name, text,
                          RCL_SUITE_MAX, lo, hi);
            return 0;
        }
        v[k] = x;
        if (!*end)
            break;
        p = end + 1;
    }
    *n = k + 1;
    return 1;
}

/* "none" or a comma-separated list of names[i], as the bit mask of bits[i]. */
static int parse_methods(rcl_args *a, const char *const *names, const int *bits, int n, int *mask) {
    const char *text = rcl_args_str(a);
    if (!text)
        return 0;
    int m = 0;
    for (const char *p = text; strcmp(text, "none");) {
        size_t len = strcspn(p, ",");
        int i = 0;
        while (i < n && (strlen(names[i]) != len || strncmp(p, names[i], len)))
            i++;
        if (i == n) {
            a->bad = 1;
            rcl_cli_usage(a->cmd, "%s '%s': unknown method '%.*s' (expected none or a list of %s%s%s%s%s)", a->name,
                          text, (int)len, p, names[0], n > 1 ? ", " : "", n > 1 ? names[1] : "", n > 2 ? ", " : "",
                          n > 2 ? names[2] : "");
            return 0;
        }
        m |= bits[i];
        if (!p[len])
            break;
        p += len + 1;
    }
    *mask = m;
    return 1;
}

static int parse_profiles(rcl_args *a, int *profiles) {
    const char *v = rcl_args_str(a);
    int p = v ? rcl_suite_profiles_from_name(v) : -1;
    if (v && p < 0) {
        a->bad = 1;
        rcl_cli_usage(a->cmd, "--imbalance-profile '%s': expected power, exp or both", v);
    }
    if (p > 0)
        *profiles = p;
    return p > 0;
}

static int has_zero(const double *v, int n) {
    for (int i = 0; i < n; i++)
        if (v[i] == 0)
            return 1;
    return 0;
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
           "  --source-classes LIST  pre-training classes (default 0-4), e.g. 0,1,8,9 or 0+1+8+9 or 0-2+8\n"
           "  --target-classes LIST  target classes, relabelled 0..K-1 (default 5-9)\n"
           "  --arch wrn-D-K         (default wrn-10-1)\n"
           "  --batch N              (default 32)\n"
           "  --seeds N              seeds 1..N (default 3)\n"
           "  --target-per-class N   target training images per class (default 100)\n"
           "  --test-per-class N     target and source test images per class (default 0 = all)\n"
           "  --min-steps N          floor of optimizer steps per scratch run (default 1024)\n"
           "  --finetune-min-steps N the same for the fine-tuning runs of the pre-trained arm (default 1024)\n"
           "  --adv-min-steps N      the same for both arms of the adversarial experiment (default 256)\n"
           "  --experiments LIST     besides the clean runs: noise,imbalance,adversarial (default noise,imbalance;\n"
           "                         the adversarial one doubles the time; none: the clean runs only)\n"
           "  --noise LIST           uniform label-noise strengths in [0,1] (default 0,0.4; 0, the clean runs\n"
           "                         that calibration and OOD detection use, is always included)\n"
           "  --noise-methods LIST   label-noise methods besides normal: none or forward,glc (default none)\n"
           "  --imbalance-methods LIST  besides normal: none or cost,oversample,smote (default none;\n"
           "                         --quick runs every method)\n"
           "  --imbalance-profile power|exp|both\n"
           "                         class-imbalance profile (PROTOCOL 6; default power): power law with --gamma,\n"
           "                         CIFAR-LT exponential n_c = floor(target size * rho^(-c/(K-1))) with --rho\n"
           "                         (runs \"imbalance-exp\"); at least 2 images a class (SMOTE)\n"
           "  --gamma LIST           power-law exponents, comma-separated (default 0.2)\n"
           "  --rho LIST             CIFAR-LT ratios >= 1, comma-separated (default 100)\n"
           "  --pretrain-epochs N    epochs of pre-training (default 2)\n"
           "  --pretrain-images N    source images for pre-training (default 0 = all); one pre-trained\n"
           "                         model (and one adversarially pre-trained) serves every seed\n"
           "  --adv-pretrain-images N  adversarial pre-training uses the first N of those (default 4000;\n"
           "                         0 = all): PGD training costs (1 + steps) passes an image\n"
           "  --ood SPEC[;SPEC]      extra OOD sets (same image shape as the data)\n"
           "  --device SEL           P:D or a name substring\n"
           "  --force                run even on a device whose self-test failed (see robustcl selftest)\n"
           RCL_CONV_ALGO_HELP
           "  --describe             print the grid (with the imbalanced class sizes) and the time it will\n"
           "                         take on the device (its speed measured now), and exit\n");
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
           "  --plan-format tsv|slurm\n"
           "                         tsv = the --plan lines (default); slurm = an sbatch-ready script set in\n"
           "                         --plan-dir (implies --plan): pretrain.sbatch and pretrain-adv.sbatch, one\n"
           "                         data-parallel job each (`srun robustcl train`, --slurm-ranks tasks with a GPU\n"
           "                         each, the pre-training batch split over them) writing the model the\n"
           "                         fine-tuning runs load; the other runs as job arrays (array.sbatch over\n"
           "                         runs-scratch.txt, runs-pretrain.txt, runs-pretrain-adv.txt), fine-tuning\n"
           "                         with --dependency=afterok:<its pre-training job>; report.sbatch after all;\n"
           "                         submit.sh submits everything (robustcl must be on the nodes' PATH)\n"
           "  --plan-dir DIR         where --plan-format slurm writes (default OUT/slurm)\n"
           "  --slurm-ranks N        tasks (GPUs) of each pre-training job (default 2: per-GPU batch 128 and BN\n"
           "                         statistics per 128 images, like the paper's 2-GPU runs)\n"
           "  --only ID[,ID...]      run only these runs (shell patterns, e.g. 'cifar10/noise-flip/*'); a\n"
           "                         fine-tuning run needs its pre-training run's model in the same OUT\n"
           "  --scale F              F times the paper's epochs and images, 0 < F <= 1 (smoke runs; default 1)\n"
           "  --datasets LIST        targets (default cifar10,cifar100)\n"
           "  --exclude FILE         ImageNet32 classes left out of pre-training, one a line: a 0-based index or a\n"
           "                         wnid (n01440764), mapped through DIR/imagenet32/map_clsloc.txt\n"
           "  --exclude-map FILE     the wnid map (map_clsloc.txt format: wnid, 1-based index, name) elsewhere\n"
           "  --seeds N              target runs per configuration, seeds 1..N (default 1)\n"
           "  --quirk-normalize half|cifar\n"
           "                         input normalisation of the Forward/GLC runs: half = 0.5/0.5 like every other\n"
           "                         run (default, PROTOCOL 3), cifar = the CIFAR mean/std the official GLC/Forward\n"
           "                         scripts use even when fine-tuning (QUIRK)\n"
           "  --imbalance-profile power|exp|both\n"
           "                         power = Table 2's power law (default); exp = CIFAR-LT rho = 100 runs\n"
           "                         (IDs DATASET/imbalance-exp/100/...; CIFAR-10 total 12406) instead; both\n"
           "  --arch wrn-D-K         main net (default wrn-40-2)\n"
           "  --adv-arch wrn-D-K     adversarial experiments' net (default wrn-28-10)\n"
           "  --batch N              target batch (default 128)\n"
           "  --pretrain-batch N     pre-training batch (default 256)\n"
           "  --ood SPEC[;SPEC]      real OOD sets besides Gaussian, Rademacher, Blobs (e.g. svhn:FILE)\n"
           "  --device SEL           P:D or a name substring\n"
           "  --force                run even on a device whose self-test failed (see robustcl selftest)\n"
           "  --describe             print the grid and exit\n\n"
           "Without --only every run executes in order and OUT/report.{json,html} follow; after runs on many\n"
           "machines, `robustcl report OUT...` collects their stage results into the report.\n");
}

static int cmd_paper(int argc, char **argv) {
    rcl_suite_paper_config c;
    rcl_suite_paper_defaults(&c);
    const char *out = "suite-paper", *only = NULL, *plan_dir = NULL;
    int plan = 0, describe = 0, slurm = 0, ranks = 2;
    rcl_args a;
    rcl_args_init(&a, "suite paper", argc, argv);
    while (rcl_args_next(&a)) {
        const char *v = NULL;
        if (rcl_args_is(&a, "--help")) {
            help_paper();
            return 0;
        } else if (rcl_args_is(&a, "--plan")) {
            plan = 1;
        } else if (rcl_args_is(&a, "--plan-format") && (v = rcl_args_str(&a))) {
            if (strcmp(v, "tsv") && strcmp(v, "slurm"))
                return rcl_cli_usage("suite paper", "--plan-format '%s': expected tsv or slurm", v);
            slurm = !strcmp(v, "slurm");
            plan = 1;
        } else if (rcl_args_is(&a, "--plan-dir")) {
            plan_dir = rcl_args_str(&a);
        } else if (rcl_args_is(&a, "--slurm-ranks")) {
            rcl_args_int(&a, 1, 4096, &ranks);
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
        } else if (rcl_args_is(&a, "--exclude-map") && (v = rcl_args_str(&a))) {
            snprintf(c.exclude_map, sizeof c.exclude_map, "%s", v);
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
        } else if (rcl_args_is(&a, "--force")) {
            c.force = 1;
        } else if (rcl_args_is(&a, "--scale")) {
            rcl_args_double(&a, 1e-9, 1, &c.scale);
        } else if (rcl_args_is(&a, "--seeds")) {
            rcl_args_int(&a, 1, RCL_SUITE_MAX, &c.nseeds);
        } else if (rcl_args_is(&a, "--imbalance-profile")) {
            parse_profiles(&a, &c.imbalance_profiles);
        } else if (rcl_args_is(&a, "--quirk-normalize") && (v = rcl_args_str(&a))) {
            if (strcmp(v, "half") && strcmp(v, "cifar"))
                return rcl_cli_usage("suite paper", "--quirk-normalize '%s': expected half or cifar", v);
            c.quirk_normalize = !strcmp(v, "cifar");
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
    if (plan && slurm) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/slurm", out);
        if (c.pretrain_batch % ranks)
            return rcl_cli_usage("suite paper", "--slurm-ranks %d does not divide --pretrain-batch %d", ranks,
                                 c.pretrain_batch);
        if (rcl_suite_paper_slurm(&c, out, "robustcl", plan_dir ? plan_dir : dir, ranks) != RCL_OK)
            return rcl_cli_error();
        fprintf(stderr, "robustcl: wrote the SLURM scripts to %s: run %s/submit.sh\n", plan_dir ? plan_dir : dir,
                plan_dir ? plan_dir : dir);
        return 0;
    }
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

/* A class list as people type it: "0,1,8,9" is "0+1+8+9" (the dataset spec's separator, since
 * commas separate spec options); ranges stay ("5-9"). */
static void class_list(char *dst, size_t cap, const char *v) {
    snprintf(dst, cap, "%s", v);
    for (char *p = dst; *p; p++)
        if (*p == ',')
            *p = '+';
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
            class_list(c.source_classes, sizeof c.source_classes, v);
        } else if (rcl_args_is(&a, "--target-classes") && (v = rcl_args_str(&a))) {
            class_list(c.target_classes, sizeof c.target_classes, v);
        } else if (rcl_args_is(&a, "--arch") && (v = rcl_args_str(&a))) {
            snprintf(c.arch, sizeof c.arch, "%s", v);
        } else if (rcl_args_is(&a, "--ood") && (v = rcl_args_str(&a))) {
            snprintf(c.ood, sizeof c.ood, "%s", v);
        } else if (rcl_args_is(&a, "--device") && (v = rcl_args_str(&a))) {
            snprintf(c.device, sizeof c.device, "%s", v);
        } else if (rcl_args_is(&a, "--force")) {
            c.force = 1;
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
        } else if (rcl_args_is(&a, "--noise")) {
            if (parse_list(&a, 0, 1, c.noise, &c.nnoise) && !has_zero(c.noise, c.nnoise)) {
                if (c.nnoise == RCL_SUITE_MAX)
                    return rcl_cli_usage("suite", "--noise: at most %d strengths with 0", RCL_SUITE_MAX - 1);
                memmove(c.noise + 1, c.noise, (size_t)c.nnoise++ * sizeof *c.noise);
                c.noise[0] = 0;
            }
        } else if (rcl_args_is(&a, "--noise-methods")) {
            static const char *const names[] = {"forward", "glc"};
            static const int bits[] = {RCL_SUITE_NOISE_FORWARD, RCL_SUITE_NOISE_GLC};
            parse_methods(&a, names, bits, 2, &c.noise_methods);
        } else if (rcl_args_is(&a, "--imbalance-methods")) {
            static const char *const names[] = {"cost", "oversample", "smote"};
            static const int bits[] = {RCL_SUITE_IMB_COST, RCL_SUITE_IMB_OVERSAMPLE, RCL_SUITE_IMB_SMOTE};
            parse_methods(&a, names, bits, 3, &c.imbalance_methods);
        } else if (rcl_args_is(&a, "--imbalance-profile")) {
            parse_profiles(&a, &c.imbalance_profiles);
        } else if (rcl_args_is(&a, "--gamma")) {
            parse_list(&a, 1e-6, 100, c.gammas, &c.ngammas);
        } else if (rcl_args_is(&a, "--rho")) {
            parse_list(&a, 1, 1e9, c.rhos, &c.nrhos);
        } else if (rcl_args_is(&a, "--pretrain-images")) {
            rcl_args_int(&a, 0, 100000000, &c.pretrain_images);
        } else if (rcl_args_is(&a, "--adv-pretrain-images")) {
            rcl_args_int(&a, 0, 100000000, &c.adv_pretrain_images);
        } else if (rcl_args_is(&a, "--min-steps")) {
            rcl_args_int(&a, 1, 10000000, &c.min_steps);
        } else if (rcl_args_is(&a, "--finetune-min-steps")) {
            rcl_args_int(&a, 1, 10000000, &c.finetune_min_steps);
        } else if (rcl_args_is(&a, "--adv-min-steps")) {
            rcl_args_int(&a, 1, 10000000, &c.adv_min_steps);
        } else if (rcl_args_is(&a, "--pretrain-epochs")) {
            rcl_args_int(&a, 1, 100000, &c.pretrain_epochs);
        } else if (rcl_args_is(&a, "--experiments")) {
            static const char *const names[] = {"noise", "imbalance", "adversarial"};
            static const int bits[] = {1, 2, 4};
            int mask = 0;
            if (parse_methods(&a, names, bits, 3, &mask)) {
                c.nnoise = mask & 1 ? c.nnoise : 1; /* s = 0: the clean runs always run */
                c.imbalance = (mask & 2) != 0;
                c.adversarial = (mask & 4) != 0;
            }
        } else if (rcl_args_is(&a, "--conv-algo")) {
            rcl_args_conv_algo(&a);
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
        return rcl_suite_estimate(&c, stderr) == RCL_OK ? 0 : rcl_cli_error();
    signal(SIGINT, on_sigint);
    rcl_status s = rcl_suite_run(&c, out, &stop_requested);
    if (s == RCL_ERR_INTERRUPTED) {
        fprintf(stderr, "robustcl: interrupted; finished stages are kept in %s/stages: rerun to resume\n", out);
        return 130;
    }
    return s == RCL_OK ? 0 : rcl_cli_error();
}
