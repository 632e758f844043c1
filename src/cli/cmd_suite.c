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

/* A comma-separated list of numbers in [lo, hi] into ptr[RCL_SUITE_MAX], their count into aux. */
static int parse_list(rcl_args *a, const rcl_cli_option *o, const char *text) {
    double *v = o->ptr;
    int k = 0;
    for (const char *p = text;; k++) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || !(x >= o->lo && x <= o->hi) || (*end && *end != ',') || k == RCL_SUITE_MAX)
            return rcl_cli_usage(a->cmd, "%s '%s': expected up to %d comma-separated numbers in [%g, %g]", a->name,
                                 text, RCL_SUITE_MAX, o->lo, o->hi);
        v[k] = x;
        if (!*end)
            break;
        p = end + 1;
    }
    *(int *)o->aux = k + 1;
    return 0;
}

/* "none" or a comma-separated list of the names in choices "a|b|c", as a bit mask (bit i: name i). */
static int method_mask(rcl_args *a, const char *choices, const char *text, int *mask) {
    int m = 0;
    for (const char *p = text; strcmp(text, "none");) {
        size_t len = strcspn(p, ",");
        int i = rcl_cli_choice(choices, p, len);
        if (i < 0) {
            char list[256]; /* "a, b, c" */
            size_t w = 0;
            for (const char *c = choices; *c && w + 3 < sizeof list; c++)
                if (*c == '|')
                    list[w++] = ',', list[w++] = ' ';
                else
                    list[w++] = *c;
            list[w] = 0;
            return rcl_cli_usage(a->cmd, "%s '%s': unknown method '%.*s' (expected none or a list of %s)", a->name,
                                 text, (int)len, p, list);
        }
        m |= 1 << i;
        if (!p[len])
            break;
        p += len + 1;
    }
    *mask = m;
    return 0;
}

static int parse_methods(rcl_args *a, const rcl_cli_option *o, const char *text) {
    return method_mask(a, o->choices, text, o->ptr);
}

static int parse_profiles(rcl_args *a, const rcl_cli_option *o, const char *v) {
    int p = rcl_suite_profiles_from_name(v);
    if (p < 0)
        return rcl_cli_usage(a->cmd, "--imbalance-profile '%s': expected power, exp or both", v);
    if (p > 0)
        *(int *)o->ptr = p;
    return 0;
}

static int has_zero(const double *v, int n) {
    for (int i = 0; i < n; i++)
        if (v[i] == 0)
            return 1;
    return 0;
}

static const char usage_paper[] =
    "usage: robustcl suite paper --data-root DIR [options]\n\n"
    "The paper's recipes (spec §4) over every table's grid, paper mode for every QUIRK: ImageNet32\n"
    "pre-training (WRN-40-2, 100 epochs, lr 0.1, batch 256) and adversarial pre-training (WRN-28-10,\n"
    "PGD-10), then for CIFAR-10 and CIFAR-100, scratch vs pre-trained: label noise (uniform and flip,\n"
    "s = 0..1 step 0.1; Normal, Forward, GLC 5%/10%), class imbalance (gamma 0.2..2.0; Normal,\n"
    "cost-sensitive, oversampling, SMOTE, pre-training), adversarial robustness (normal training,\n"
    "adversarial training, adversarial pre-training + fine-tuning, last layer only; PGD-20 and\n"
    "AutoAttack), OOD detection and calibration. Every run is a stage, OUT/stages/ID.json, that can\n"
    "run on its own.\n"
    "DIR holds cifar10/ (binary), cifar100/ (binary) and imagenet32/ (npz).\n\n";

/* What `suite paper` does besides running the grid. */
typedef struct {
    const char *out, *only, *plan_dir;
    int plan, describe, slurm, ranks;
} paper_options;

static int parse_paper(int argc, char **argv, rcl_suite_paper_config *c, paper_options *p, int *rc) {
    const rcl_cli_option opts[] = {
        RCL_CLI_BUF("--data-root", "DIR", c->data_root,
                    "the datasets (required): cifar10/, cifar100/, imagenet32/; when there, the\n"
                    "released CIFAR-10-C/ and CIFAR-100-C/ (NAME.npy, labels.npy) give every\n"
                    "target run of that dataset its mean corruption error (mce)"),
        RCL_CLI_STRING("--out", "DIR", &p->out, "output directory (default suite-paper)"),
        RCL_CLI_FLAG("--plan", &p->plan,
                     "print every run as ID<TAB>DEPENDS<TAB>COMMAND (dependencies first; DEPENDS\n"
                     "is '-' or the pre-training run's ID) and exit; each COMMAND runs one run"),
        {.kind = RCL_OPT_CHOICE, .name = "--plan-format", .metavar = "tsv|slurm", .ptr = &p->slurm,
         .choices = "tsv|slurm", .given = &p->plan,
         .help = "tsv = the --plan lines (default); slurm = an sbatch-ready script set in\n"
                 "--plan-dir (implies --plan): pretrain.sbatch and pretrain-adv.sbatch, one\n"
                 "data-parallel job each (`srun robustcl train`, --slurm-ranks tasks with a GPU\n"
                 "each, the pre-training batch split over them) writing the model the\n"
                 "fine-tuning runs load; the other runs as job arrays (array.sbatch over\n"
                 "runs-scratch.txt, runs-pretrain.txt, runs-pretrain-adv.txt), fine-tuning\n"
                 "with --dependency=afterok:<its pre-training job>; report.sbatch after all;\n"
                 "submit.sh submits everything (robustcl must be on the nodes' PATH)"},
        RCL_CLI_STRING("--plan-dir", "DIR", &p->plan_dir, "where --plan-format slurm writes (default OUT/slurm)"),
        RCL_CLI_INT("--slurm-ranks", "N", &p->ranks, 1, 4096,
                    "tasks (GPUs) of each pre-training job (default 2: per-GPU batch 128 and BN\n"
                    "statistics per 128 images, like the paper's 2-GPU runs)"),
        RCL_CLI_STRING("--only", "ID[,ID...]", &p->only,
                       "run only these runs (shell patterns, e.g. 'cifar10/noise-flip/*'); a\n"
                       "fine-tuning run needs its pre-training run's model in the same OUT"),
        RCL_CLI_DOUBLE("--scale", "F", &c->scale, 1e-9, 1,
                       "F times the paper's epochs and images, 0 < F <= 1 (smoke runs; default 1)"),
        RCL_CLI_BUF("--datasets", "LIST", c->datasets, "targets (default cifar10,cifar100)"),
        RCL_CLI_BUF("--exclude", "FILE", c->exclude,
                    "ImageNet32 classes left out of pre-training, one a line: a 0-based index or a\n"
                    "wnid (n01440764), mapped through DIR/imagenet32/map_clsloc.txt"),
        RCL_CLI_BUF("--exclude-map", "FILE", c->exclude_map,
                    "the wnid map (map_clsloc.txt format: wnid, 1-based index, name) elsewhere"),
        RCL_CLI_INT("--seeds", "N", &c->nseeds, 1, RCL_SUITE_MAX,
                    "target runs per configuration, seeds 1..N (default 1)"),
        RCL_CLI_CHOICE("--quirk-normalize", "half|cifar", &c->quirk_normalize, "half|cifar",
                       "input normalisation of the Forward/GLC runs: half = 0.5/0.5 like every other\n"
                       "run (default, spec §3), cifar = the CIFAR mean/std the official GLC/Forward\n"
                       "scripts use even when fine-tuning (QUIRK)"),
        RCL_CLI_CALL("--imbalance-profile", "power|exp|both", parse_profiles, &c->imbalance_profiles,
                     "power = Table 2's power law (default); exp = CIFAR-LT rho = 100 runs\n"
                     "(IDs DATASET/imbalance-exp/100/...; CIFAR-10 total 12406) instead; both"),
        RCL_CLI_ARCH_BUF(c->arch, "main net (default wrn-40-2, the paper's)"),
        {.kind = RCL_OPT_CALL, .name = "--adv-arch", .metavar = "wrn-D-K", .fn = rcl_cli_arch, .ptr = c->adv_arch,
         .cap = sizeof c->adv_arch, .help = "adversarial experiments' net (default wrn-28-10, the paper's)"},
        RCL_CLI_INT("--batch", "N", &c->batch, 1, 4096, "target batch (default 128, the paper's)"),
        RCL_CLI_INT("--pretrain-batch", "N", &c->pretrain_batch, 1, 4096,
                    "pre-training batch (default 256, the paper's)"),
        RCL_CLI_BUF("--ood", "SPEC[;SPEC]", c->ood, "real OOD sets besides Gaussian, Rademacher, Blobs (e.g. svhn:FILE)"),
        RCL_CLI_INT("--autoattack-n", "N", &c->autoattack_n, 0, 100000000,
                    "AutoAttack (spec §7.4: APGD-CE, APGD-T, FAB-T, Square) of every\n"
                    "adversarial run's model at PGD-20's eps 8/255 on the first N test images,\n"
                    "beside its PGD-20 accuracy (default 1000; 0 = none)"),
        RCL_CLI_DEVICE("P:D or a name substring (default $ROBUSTCL_DEVICE, first GPU, first device)"),
        RCL_CLI_FORCE("run even on a device whose self-test failed (see robustcl selftest)"),
        RCL_CLI_CONV_ALGO,
        RCL_CLI_FLAG("--describe", &p->describe, "print the grid and exit"),
        RCL_CLI_TEXT("\nWithout --only every run executes in order and OUT/report.{json,html} follow; after runs on "
                     "many\nmachines, `robustcl report OUT...` collects their stage results into the report.\n"),
    };
    const rcl_cli_spec spec = {"suite paper", usage_paper, opts, RCL_CLI_COUNT(opts), 25, NULL, NULL};
    if (rcl_cli_parse(&spec, argc, argv, rc))
        return 1;
    if (!c->data_root[0])
        return *rc = rcl_cli_usage("suite paper", "--data-root DIR is required"), 1;
    return 0;
}

/* --plan-format slurm: the scripts in --plan-dir. */
static int write_slurm(const rcl_suite_paper_config *c, const paper_options *p) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/slurm", p->out);
    const char *to = p->plan_dir ? p->plan_dir : dir;
    if (c->pretrain_batch % p->ranks)
        return rcl_cli_usage("suite paper", "--slurm-ranks %d does not divide --pretrain-batch %d", p->ranks,
                             c->pretrain_batch);
    if (rcl_suite_paper_slurm(c, p->out, "robustcl", to, p->ranks) != RCL_OK)
        return rcl_cli_error();
    fprintf(stderr, "robustcl: wrote the SLURM scripts to %s: run %s/submit.sh\n", to, to);
    return 0;
}

static int cmd_paper(int argc, char **argv) {
    rcl_suite_paper_config c;
    rcl_suite_paper_defaults(&c);
    c.run = rcl_cli_run();
    paper_options p = {"suite-paper", NULL, NULL, 0, 0, 0, 2};
    int rc;
    if (parse_paper(argc, argv, &c, &p, &rc))
        return rc;
    if (p.plan && p.slurm)
        return write_slurm(&c, &p);
    if (p.plan)
        return rcl_suite_paper_plan(&c, p.out, "robustcl", stdout) == RCL_OK ? 0 : rcl_cli_error();
    rcl_suite_paper_describe(&c, stderr);
    if (p.describe)
        return 0;
    signal(SIGINT, on_sigint);
    c.table = stdout;
    rcl_status s = rcl_suite_paper_run(&c, p.out, p.only, &stop_requested);
    if (s == RCL_ERR_INTERRUPTED) {
        fprintf(stderr, "robustcl: interrupted; finished stages are kept in %s/stages: rerun to resume\n", p.out);
        return 130;
    }
    return s == RCL_OK ? 0 : rcl_cli_error();
}

/* A class list as people type it: "0,1,8,9" is "0+1+8+9" (the dataset spec's separator, since
 * commas separate spec options); ranges stay ("5-9"). */
static int parse_classes(rcl_args *a, const rcl_cli_option *o, const char *v) {
    if (strlen(v) >= o->cap)
        return rcl_cli_usage(a->cmd, "%s: longer than %zu characters", a->name, o->cap - 1);
    snprintf(o->ptr, o->cap, "%s", v);
    for (char *p = o->ptr; *p; p++)
        if (*p == ',')
            *p = '+';
    int *classes, k;
    if (rcl_parse_class_ranges(o->ptr, &classes, &k) != RCL_OK)
        return rcl_cli_usage(a->cmd, "%s: %s", a->name, rcl_last_error());
    free(classes);
    return 0;
}

/* --noise: the strengths, with 0 (the clean runs) added when missing. */
static int parse_noise(rcl_args *a, const rcl_cli_option *o, const char *v) {
    rcl_suite_config *c = o->ptr;
    const rcl_cli_option list = {.ptr = c->noise, .aux = &c->nnoise, .lo = 0, .hi = 1};
    int rc = parse_list(a, &list, v);
    if (rc || has_zero(c->noise, c->nnoise))
        return rc;
    if (c->nnoise == RCL_SUITE_MAX)
        return rcl_cli_usage(a->cmd, "--noise: at most %d strengths with 0", RCL_SUITE_MAX - 1);
    memmove(c->noise + 1, c->noise, (size_t)c->nnoise++ * sizeof *c->noise);
    c->noise[0] = 0;
    return 0;
}

static int parse_experiments(rcl_args *a, const rcl_cli_option *o, const char *v) {
    rcl_suite_config *c = o->ptr;
    int mask = 0, rc = method_mask(a, "noise|imbalance|adversarial", v, &mask);
    if (rc)
        return rc;
    c->nnoise = mask & 1 ? c->nnoise : 1; /* s = 0: the clean runs always run */
    c->imbalance = (mask & 2) != 0;
    c->adversarial = (mask & 4) != 0;
    return 0;
}

/* --finetune EXP=STEPS@LR[,EXP=STEPS@LR...]: fine-tuning recipes per experiment. */
static int parse_recipes(rcl_args *a, const rcl_cli_option *o, const char *text) {
    rcl_suite_config *c = o->ptr;
    for (const char *p = text;;) {
        size_t len = strcspn(p, ","), name = strcspn(p, "=");
        char exp[32], *end;
        int r = -1;
        if (name < len && name < sizeof exp) {
            memcpy(exp, p, name), exp[name] = 0;
            r = rcl_suite_recipe_from_name(exp);
        }
        long steps = r >= 0 ? strtol(p + name + 1, &end, 10) : 0;
        double lr = r >= 0 && *end == '@' ? strtod(end + 1, &end) : 0;
        if (r < 0 || steps < 1 || steps > 10000000 || !(lr > 0 && lr <= 10) || end != p + len)
            return rcl_cli_usage(a->cmd, "%s '%.*s': expected EXPERIMENT=STEPS@LR, EXPERIMENT one of noise, corrected, "
                                 "imbalance, uncertainty, adversarial", a->name, (int)len, p);
        c->finetune[r] = (rcl_suite_recipe){(int)steps, lr};
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

static int parse_source(rcl_args *a, const rcl_cli_option *o, const char *v) {
    int i = rcl_cli_choice("covering|excluded", v, strlen(v));
    if (i < 0)
        return rcl_cli_usage(a->cmd, "%s '%s': expected covering or excluded", a->name, v);
    *(int *)o->ptr = i;
    return 0;
}

static const char usage_mini[] =
    "usage: robustcl suite mini [options]\n"
    "       robustcl suite paper --data-root DIR [options]   (robustcl suite paper --help)\n\n"
    "The paper's design at a size a 2-core machine runs in minutes (spec §11): per seed, models\n"
    "pre-trained on a class-covering source (every class, outside a held-out target pool) and on a\n"
    "class-excluded one (the source classes only), then for each evaluation a scratch and a fine-tuned\n"
    "model on the target classes, evaluated and compared: clean error, the mean error under generated\n"
    "common corruptions (mce), test error under uniform label noise and its area, class imbalance, PGD\n"
    "robustness (covering source; AutoAttack with --autoattack-n), calibration and OOD detection on\n"
    "Gaussian, Rademacher and Blobs noise plus any --ood set (excluded source).\n"
    "Writes OUT/report.json, OUT/report.html, OUT/table.txt and prints the table.\n"
    "Every run is a stage cached in OUT/stages by a hash of its configuration: a rerun skips finished\n"
    "stages, a changed option re-runs what it affects, an interrupted suite resumes.\n\n";

/* suite mini's options; argv[0] is "mini" (or --help). */
static int parse_mini(int argc, char **argv, rcl_suite_config *c, const char **out, int *describe, int *rc) {
    int quick = 0, nseeds = 0, finetune_steps = 0, corrupt_seed = (int)c->corrupt_seed;
    const rcl_cli_option opts[] = {
        RCL_CLI_STRING("--out", "DIR", out, "output directory (default suite-mini)"),
        RCL_CLI_FLAG("--quick", &quick, "CI-sized grid (a few minutes on 2 cores; numbers are not meaningful)"),
        {.kind = RCL_OPT_CALL, .name = "--data", .metavar = "SPEC", .fn = rcl_cli_dataset, .ptr = c->data,
         .cap = sizeof c->data, .help = "labelled dataset (default fashion-mnist)"},
        {.kind = RCL_OPT_CALL, .name = "--source-classes", .metavar = "LIST", .fn = parse_classes,
         .ptr = c->source_classes, .cap = sizeof c->source_classes,
         .help = "pre-training classes (default 0-4), e.g. 0,1,8,9 or 0+1+8+9 or 0-2+8"},
        {.kind = RCL_OPT_CALL, .name = "--target-classes", .metavar = "LIST", .fn = parse_classes,
         .ptr = c->target_classes, .cap = sizeof c->target_classes,
         .help = "target classes, relabelled 0..K-1 (default 5-9)"},
        RCL_CLI_ARCH_BUF(c->arch, "(default wrn-10-1: train's wrn-40-2 and batch 128 would not fit\n"
                                  "the suite's 20 minutes on 2 cores; spec §11)"),
        RCL_CLI_INT("--batch", "N", &c->batch, 1, 4096, "(default 32: at 100 images a class, 128 would leave\n"
                                                        "a few steps an epoch; spec §11)"),
        RCL_CLI_INT("--seeds", "N", &nseeds, 1, RCL_SUITE_MAX, "seeds 1..N (default 4)"),
        RCL_CLI_INT("--target-per-class", "N", &c->target_per_class, 2, 100000,
                    "target training images per class, from the pool (default 100)"),
        RCL_CLI_INT("--target-pool", "N", &c->target_pool, 2, 100000,
                    "training images per target class held out of pre-training; every\n"
                    "target training set is drawn from them (default 1000)"),
        RCL_CLI_CALL("--source", "covering|excluded", parse_source, &c->source,
                     "pre-training source of clean error, label noise, imbalance and adversarial:\n"
                     "every class outside the pool (default), or the source classes only (the\n"
                     "paper's ablation); OOD detection and calibration always use the latter"),
        RCL_CLI_INT("--test-per-class", "N", &c->test_per_class, 0, 100000,
                    "target and source test images per class (default 0 = all)"),
        RCL_CLI_INT("--min-steps", "N", &c->min_steps, 1, 10000000,
                    "floor of optimizer steps per scratch run (default 1024)"),
        RCL_CLI_CALL("--finetune", "EXP=STEPS@LR,...", parse_recipes, c,
                     "fine-tuning recipe per experiment: noise (and clean error), corrected\n"
                     "(Forward, GLC), imbalance, uncertainty (OOD, calibration), adversarial\n"
                     "(defaults in --describe; spec §11.1)"),
        RCL_CLI_INT("--finetune-min-steps", "N", &finetune_steps, 1, 10000000, "every experiment's fine-tuning steps (or --finetune)"),
        RCL_CLI_INT("--adv-min-steps", "N", &c->adv_min_steps, 1, 10000000,
                    "the same for adversarial training from scratch and adversarial\n"
                    "pre-training (default 256)"),
        RCL_CLI_CALL("--experiments", "LIST", parse_experiments, c,
                     "besides the clean and uncertainty runs: noise,imbalance,adversarial (default\n"
                     "all three; none: the clean and uncertainty runs only)"),
        RCL_CLI_CALL("--noise", "LIST", parse_noise, c,
                     "uniform label-noise strengths in [0,1] (default 0,0.4; 0, the clean runs\n"
                     "that calibration and OOD detection use, is always included)"),
        {.kind = RCL_OPT_CALL, .name = "--noise-methods", .metavar = "LIST", .fn = parse_methods,
         .ptr = &c->noise_methods, .choices = "forward|glc",
         .help = "label-noise methods besides normal: none or forward,glc (default none)"},
        {.kind = RCL_OPT_CALL, .name = "--imbalance-methods", .metavar = "LIST", .fn = parse_methods,
         .ptr = &c->imbalance_methods, .choices = "cost|oversample|smote",
         .help = "besides normal: none or cost,oversample,smote (default none;\n--quick runs every method)"},
        RCL_CLI_CALL("--imbalance-profile", "power|exp|both", parse_profiles, &c->imbalance_profiles,
                     "class-imbalance profile (spec §6; default power): power law with --gamma,\n"
                     "CIFAR-LT exponential n_c = floor(target size * rho^(-c/(K-1))) with --rho\n"
                     "(runs \"imbalance-exp\"); at least 2 images a class (SMOTE)"),
        {.kind = RCL_OPT_CALL, .name = "--gamma", .metavar = "LIST", .fn = parse_list, .ptr = c->gammas,
         .aux = &c->ngammas, .lo = 1e-6, .hi = 100, .help = "power-law exponents, comma-separated (default 0.2)"},
        {.kind = RCL_OPT_CALL, .name = "--rho", .metavar = "LIST", .fn = parse_list, .ptr = c->rhos,
         .aux = &c->nrhos, .lo = 1, .hi = 1e9, .help = "CIFAR-LT ratios >= 1, comma-separated (default 100)"},
        RCL_CLI_INT("--imbalance-largest", "N", &c->imbalance_largest, 2, 100000,
                    "largest class of the imbalanced sets, at most --target-pool; the\n"
                    "smallest is 1/20 of it (default 1000)"),
        RCL_CLI_INT("--pretrain-epochs", "N", &c->pretrain_epochs, 1, 100000, "epochs of pre-training (default 1)"),
        RCL_CLI_INT("--pretrain-min-steps", "N", &c->pretrain_min_steps, 0, 100000000,
                    "and at least N steps, in whole epochs (default 1500)"),
        RCL_CLI_INT("--pretrain-images", "N", &c->pretrain_images, 0, 100000000,
                    "a seeded N of each source's images for pre-training (default 0 = all);\n"
                    "each seed pre-trains its own models"),
        RCL_CLI_INT("--adv-pretrain-images", "N", &c->adv_pretrain_images, 0, 100000000,
                    "adversarial pre-training on a seeded N of those (default 4000;\n"
                    "0 = all): PGD training costs (1 + steps) passes an image"),
        RCL_CLI_BUF("--ood", "SPEC[;SPEC]", c->ood, "extra OOD sets (same image shape as the data)"),
        RCL_CLI_INT("--corrupt-per-class", "N", &c->corrupt_per_class, 0, 100000,
                    "the corruption row (mce of the clean runs): generated common corruptions of a\n"
                    "seeded N target test images per class (default 50, --quick 4; 0 = no row)"),
        RCL_CLI_INT("--corrupt-seed", "N", &corrupt_seed, 0, 2147483647,
                    "seed of that subset and of the random corruptions (default 0)"),
        RCL_CLI_INT("--autoattack-n", "N", &c->autoattack_n, 0, 100000000,
                    "the AutoAttack row (spec §7.4): the adversarial runs' robust accuracy on\n"
                    "the first N target test images at the PGD eval eps (default 0 = no row:\n"
                    "100 APGD steps x (1 + 4 targets), 100 FAB-T steps x 4 targets and 5000\n"
                    "Square queries an image on the 8 adversarial models\n"
                    "do not fit the 20 minutes on 2 cores; --describe gives the most it adds)"),
        RCL_CLI_DEVICE("P:D or a name substring (default $ROBUSTCL_DEVICE, first GPU, first device)"),
        RCL_CLI_FORCE("run even on a device whose self-test failed (see robustcl selftest)"),
        RCL_CLI_CONV_ALGO,
        RCL_CLI_FLAG("--describe", describe,
                     "print the grid (with the imbalanced class sizes) and the time it will\n"
                     "take on the device (its speed measured now), and exit"),
    };
    const rcl_cli_spec spec = {"suite mini", usage_mini, opts, RCL_CLI_COUNT(opts), 25, NULL, NULL};
    if (rcl_cli_parse(&spec, argc, argv, rc))
        return 1;
    c->corrupt_seed = (uint64_t)corrupt_seed;
    rcl_suite_config defaults;
    rcl_suite_defaults(&defaults, quick);
    if (finetune_steps && memcmp(defaults.finetune, c->finetune, sizeof defaults.finetune)) {
        *rc = rcl_cli_usage("suite mini", "--finetune-min-steps and --finetune: give one of them");
        return 1;
    }
    for (int i = 0; finetune_steps && i < RCL_SUITE_RECIPES; i++)
        c->finetune[i].min_steps = finetune_steps;
    if (c->target_per_class > c->target_pool || c->imbalance_largest > c->target_pool) {
        *rc = rcl_cli_usage("suite mini", "--target-per-class %d and --imbalance-largest %d must not exceed "
                            "--target-pool %d", c->target_per_class, c->imbalance_largest, c->target_pool);
        return 1;
    }
    if (nseeds) {
        c->nseeds = nseeds;
        for (int i = 0; i < nseeds; i++)
            c->seeds[i] = i + 1;
    }
    return 0;
}

int rcl_cmd_suite(int argc, char **argv) {
    rcl_suite_config c;
    const char *out = "suite-mini";
    int describe = 0, rc;
    if (argc < 2)
        return rcl_cli_usage("suite", "which suite? mini or paper");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        rcl_suite_defaults(&c, 0);
        parse_mini(2, (char *[]){argv[0], "--help", NULL}, &c, &out, &describe, &rc);
        return 0;
    }
    if (!strcmp(argv[1], "paper"))
        return cmd_paper(argc - 1, argv + 1);
    if (strcmp(argv[1], "mini"))
        return rcl_cli_usage("suite", "unknown suite '%s' (available: mini, paper)", argv[1]);
    int quick = 0;
    for (int i = 2; i < argc; i++) /* the defaults depend on it */
        quick |= !strcmp(argv[i], "--quick");
    rcl_suite_defaults(&c, quick);
    c.run = rcl_cli_run();
    if (parse_mini(argc - 1, argv + 1, &c, &out, &describe, &rc))
        return rc;
    rcl_suite_describe(&c, stderr);
    if (describe)
        return rcl_suite_estimate(&c, stderr) == RCL_OK ? 0 : rcl_cli_error();
    signal(SIGINT, on_sigint);
    c.table = stdout;
    rcl_status s = rcl_suite_run(&c, out, &stop_requested);
    if (s == RCL_ERR_INTERRUPTED) {
        fprintf(stderr, "robustcl: interrupted; finished stages are kept in %s/stages: rerun to resume\n", out);
        return 130;
    }
    return s == RCL_OK ? 0 : rcl_cli_error();
}
