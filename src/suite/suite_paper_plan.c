/* suite paper's plan: the experiment grid of the paper's tables (spec §4), its sizes at
 * --scale, the description and the per-run commands that `suite paper --plan` prints. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "suite_paper_internal.h"

/* ---- the grid ---- */

static const double gammas[7] = {0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0};
#define ADV_EPS_255 8 /* eps = 8/255; the adversarial runs' setting */
#define LT_RHO 100    /* CIFAR-LT's usual ratio: the exponential profile's one setting */

const char *const rcl_paper_datasets[2] = {"cifar10", "cifar100"};
const char *const rcl_paper_corrupted_dirs[2] = {"CIFAR-10-C", "CIFAR-100-C"};
const char *const rcl_paper_noise_methods[4] = {"normal", "forward", "glc5", "glc10"};
const char *const rcl_paper_adv_methods[3] = {"normal", "pgd", "pgd-last-layer"};

static void add(rcl_paper_run *runs, int *n, int kind, int dataset, const char *experiment, double setting,
                const char *method, int pretrained, int seed) {
    rcl_paper_run *r = &runs[*n];
    memset(r, 0, sizeof *r);
    r->kind = kind, r->dataset = dataset, r->setting = setting, r->pretrained = pretrained, r->seed = seed;
    if (kind == P_PRETRAIN || kind == P_PRETRAIN_ADV) {
        snprintf(r->id, sizeof r->id, "%s", kind == P_PRETRAIN ? "pretrain" : "pretrain-adv");
        r->depends = "-";
    } else {
        snprintf(r->id, sizeof r->id, "%s/%s/%g/%s/%s/seed=%d", rcl_paper_datasets[dataset], experiment,
                 setting, method, pretrained ? "pretrained" : "scratch", seed);
        r->depends = !pretrained ? "-" : kind == P_ADVERSARIAL ? "pretrain-adv" : "pretrain";
    }
    (*n)++;
}

static int uses_dataset(const rcl_suite_paper_config *c, int d) {
    char list[80];
    snprintf(list, sizeof list, "%s", c->datasets);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (!strcmp(t, rcl_paper_datasets[d]))
            return 1;
    return 0;
}

rcl_status rcl_paper_grid(const rcl_suite_paper_config *c, rcl_paper_run **out, int *n) {
    int cap = 2 + 2 * c->nseeds * (2 * 11 * 4 * 2 + 7 * 5 + 5 + 4 + 2);
    rcl_paper_run *runs = malloc((size_t)cap * sizeof *runs);
    if (!runs)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    *n = 0;
    add(runs, n, P_PRETRAIN, -1, NULL, 0, NULL, 0, 1);
    add(runs, n, P_PRETRAIN_ADV, -1, NULL, 0, NULL, 0, 1);
    for (int d = 0; d < 2; d++) {
        if (!uses_dataset(c, d))
            continue;
        for (int seed = 1; seed <= c->nseeds; seed++) {
            for (int kind = 0; kind < 2; kind++)
                for (int si = 0; si <= 10; si++)
                    for (int m = 0; m < 4; m++)
                        for (int arm = 0; arm < 2; arm++) {
                            add(runs, n, P_NOISE, d, kind ? "noise-flip" : "noise-uniform", si / 10.0,
                                rcl_paper_noise_methods[m], arm, seed);
                            runs[*n - 1].corruption = kind;
                            runs[*n - 1].method = m;
                        }
            for (int g = 0; g < 8; g++) /* 7 gammas, then CIFAR-LT */
                for (int m = 0; m < 5; m++) { /* four methods from scratch; pre-training fine-tunes with CE */
                    int exp = g == 7;
                    if (!(c->imbalance_profiles & (exp ? RCL_SUITE_PROFILE_EXP : RCL_SUITE_PROFILE_POWER)))
                        continue;
                    const char *method = rcl_imb_method_name((rcl_imb_method)(m < 4 ? m : 0));
                    add(runs, n, exp ? P_IMBALANCE_EXP : P_IMBALANCE, d, exp ? "imbalance-exp" : "imbalance",
                        exp ? LT_RHO : gammas[g], method, m == 4, seed);
                    runs[*n - 1].method = m < 4 ? m : 0;
                }
            for (int m = 0; m < 4; m++) {
                int method = m < 2 ? m : m == 2 ? ADV_PGD : ADV_LAST_LAYER;
                add(runs, n, P_ADVERSARIAL, d, "adversarial", ADV_EPS_255, rcl_paper_adv_methods[method], m >= 2, seed);
                runs[*n - 1].method = method;
            }
            for (int arm = 0; arm < 2; arm++)
                add(runs, n, P_CLEAN, d, "clean", 0, "normal", arm, seed);
        }
    }
    *out = runs;
    return RCL_OK;
}

/* ---- sizes: F times the paper's, files smaller than that used whole ---- */

int rcl_paper_epochs(const rcl_suite_paper_config *c, int epochs) {
    long e = lround(epochs * c->scale);
    return e < 1 ? 1 : (int)e;
}

int rcl_paper_count(const rcl_suite_paper_config *c, int paper, int floor_) {
    long v = lround(paper * c->scale);
    return v < floor_ ? floor_ : (int)v;
}

void rcl_suite_paper_defaults(rcl_suite_paper_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->datasets, sizeof c->datasets, "cifar10,cifar100");
    snprintf(c->arch, sizeof c->arch, "wrn-40-2");
    snprintf(c->adv_arch, sizeof c->adv_arch, "wrn-28-10");
    c->batch = 128;
    c->pretrain_batch = 256;
    c->scale = 1;
    c->nseeds = 1;
    c->imbalance_profiles = RCL_SUITE_PROFILE_POWER;
    c->autoattack_n = 1000;
    c->autoattack = rcl_autoattack_defaults();
}

void rcl_suite_paper_describe(const rcl_suite_paper_config *c, FILE *f) {
    fprintf(f, "suite paper: data root %s, targets %s, scale %g%s, seeds %d, paper mode for every QUIRK\n",
            c->data_root, c->datasets, c->scale, c->scale < 1 ? " (smoke run: numbers are not the paper's)" : "",
            c->nseeds);
    fprintf(f, "pre-training: ImageNet32 (%d training images at most%s%s), %s, %d epochs, lr 0.1, batch %d; "
               "adversarial: %s with PGD-10\n", rcl_paper_count(c, 1281167, 1),
            c->exclude[0] ? ", classes excluded: " : "", c->exclude, c->arch, rcl_paper_epochs(c, 100),
            c->pretrain_batch, c->adv_arch);
    fprintf(f, "targets: %d (CIFAR-10) / %d (CIFAR-100) training and %d / %d test images per class at most, batch %d\n",
            rcl_paper_count(c, 5000, 2), rcl_paper_count(c, 500, 2), rcl_paper_count(c, 1000, 1),
            rcl_paper_count(c, 100, 1), c->batch);
    fprintf(f, "scratch: %s, %d epochs, lr 0.1, dropout 0.3; fine-tuning: new head, every layer, dropout 0: "
               "label noise %d epochs lr 0.001 (Forward/GLC %d per phase, lr 0.01, head without bias), imbalance %d "
               "epochs lr 0.001, OOD/calibration %d epochs lr 0.001\n", c->arch, rcl_paper_epochs(c, 100),
            rcl_paper_epochs(c, 10), rcl_paper_epochs(c, 10), rcl_paper_epochs(c, 50), rcl_paper_epochs(c, 10));
    fprintf(f, "label noise: uniform and flip, s = 0, 0.1, ..., 1; Normal, Forward, GLC with 5%% and 10%% trusted "
               "(%s); area under the error curve per corruption, Table 1 = their mean\n",
            c->scale < 1 ? "at least one per class, first in file order: smoke-run sizes"
                         : "the first f*N in file order");
    if (c->imbalance_profiles & RCL_SUITE_PROFILE_POWER)
        fprintf(f, "class imbalance: power law gamma = 0.2, 0.4, 0.6, 0.8, 1, 1.5, 2 (largest class = training "
                   "images per class, smallest = 1/20 of it); Normal, cost-sensitive, oversampling, SMOTE from "
                   "scratch; pre-training with CE, %d epochs\n", rcl_paper_epochs(c, 50));
    if (c->imbalance_profiles & RCL_SUITE_PROFILE_EXP)
        fprintf(f, "class imbalance, CIFAR-LT: exponential profile rho = %d (n_c = floor(n_max * rho^(-c/(K-1))), at "
                   "least 2); the same methods and recipes\n", LT_RHO);
    for (int d = 0; d < 2; d++) {
        if (!uses_dataset(c, d))
            continue;
        for (int exp = 0; exp < 2; exp++) {
            if (!(c->imbalance_profiles & (exp ? RCL_SUITE_PROFILE_EXP : RCL_SUITE_PROFILE_POWER)))
                continue;
            /* the sizes runs use when the files hold the paper's per-class counts */
            rcl_imb_profile p =
                rcl_suite_imb_profile(exp, rcl_paper_count(c, d ? 500 : 5000, 2), exp ? LT_RHO : 0.2, 0);
            fprintf(f, "  %s %s: training images per class ", rcl_paper_datasets[d], exp ? "rho 100" : "gamma 0.2");
            rcl_suite_describe_counts(f, &p, d ? 100 : 10);
            fprintf(f, "\n");
        }
    }
    fprintf(f, "adversarial: %s; normal training and PGD-10 adversarial training from scratch (%d epochs, lr 0.1), "
               "adversarial pre-training + PGD-10 fine-tuning (%d epochs, lr 0.001), last layer only; PGD-20 "
               "evaluation, eps 8/255, step 2/255, paper mode\n", c->adv_arch, rcl_paper_epochs(c, 100),
            rcl_paper_epochs(c, 5));
    if (c->autoattack_n > 0)
        fprintf(f, "  AutoAttack of those models: the first %d test images, eps 8/255, APGD-CE, APGD-T, FAB-T and "
                   "Square (%d steps, %d targets, %d queries), seed: the run's (spec §7.4)\n",
                c->autoattack_n, c->autoattack.iters, c->autoattack.targets, c->autoattack.queries);
    fprintf(f, "input normalisation: %s\n",
            c->quirk_normalize ? "0.5/0.5, but the Forward/GLC runs use the CIFAR mean/std (125.3,123.0,113.9)/255, "
                                 "(63.0,62.1,66.7)/255 like the official scripts (--quirk-normalize cifar)"
                               : "0.5/0.5 for every run (spec §3's default; --quirk-normalize cifar gives the "
                                 "Forward/GLC runs the official scripts' CIFAR mean/std)");
    fprintf(f, "OOD: MSP on gaussian, rademacher, blobs%s%s; calibration: RMS/MAD paper mode at T = 1 (T tuned on the "
               "last 10%% of the training set, held out, reported)\n", c->ood[0] ? ", " : "", c->ood);
    fprintf(f, "common corruptions: every target run's mean corruption error (mce) on the released files in %s/%s and "
               "%s/%s when they are there (spec §12)\n", c->data_root, rcl_paper_corrupted_dirs[0], c->data_root,
            rcl_paper_corrupted_dirs[1]);
}

/* ---- the plan ---- */

rcl_status rcl_paper_check(const rcl_suite_paper_config *c) {
    if (!c->data_root[0])
        return rcl_fail(RCL_ERR_INVALID_ARG, "suite paper: --data-root DIR is required");
    if (!(c->scale > 0 && c->scale <= 1))
        return rcl_fail(RCL_ERR_INVALID_ARG, "suite paper: --scale must be in (0, 1] (got %g)", c->scale);
    if (!uses_dataset(c, 0) && !uses_dataset(c, 1))
        return rcl_fail(RCL_ERR_INVALID_ARG, "suite paper: --datasets '%s' names neither cifar10 nor cifar100",
                        c->datasets);
    return RCL_OK;
}

void rcl_suite_quote(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

#define quoted rcl_suite_quote

void rcl_suite_paper_command(FILE *f, const rcl_suite_paper_config *c, const char *out_dir, const char *program,
                             const char *id) {
    fprintf(f, "%s suite paper --data-root ", program);
    quoted(f, c->data_root);
    fprintf(f, " --out ");
    quoted(f, out_dir);
    fprintf(f, " --datasets %s --scale %.17g --seeds %d --arch %s --adv-arch %s --batch %d --pretrain-batch %d",
            c->datasets, c->scale, c->nseeds, c->arch, c->adv_arch, c->batch, c->pretrain_batch);
    if (c->imbalance_profiles != RCL_SUITE_PROFILE_POWER)
        fprintf(f, " --imbalance-profile %s", c->imbalance_profiles == RCL_SUITE_PROFILE_EXP ? "exp" : "both");
    if (c->quirk_normalize)
        fprintf(f, " --quirk-normalize cifar");
    if (c->exclude[0])
        fprintf(f, " --exclude "), quoted(f, c->exclude);
    if (c->exclude_map[0])
        fprintf(f, " --exclude-map "), quoted(f, c->exclude_map);
    if (c->ood[0])
        fprintf(f, " --ood "), quoted(f, c->ood);
    fprintf(f, " --autoattack-n %d", c->autoattack_n);
    fprintf(f, " --only ");
    quoted(f, id);
}

rcl_status rcl_suite_paper_runs(const rcl_suite_paper_config *c, rcl_plan_run **out, int *n) {
    RCL_TRY(rcl_paper_check(c));
    rcl_paper_run *runs;
    RCL_TRY(rcl_paper_grid(c, &runs, n));
    *out = malloc((size_t)(*n ? *n : 1) * sizeof **out);
    for (int i = 0; *out && i < *n; i++) {
        snprintf((*out)[i].id, sizeof (*out)[i].id, "%s", runs[i].id);
        snprintf((*out)[i].depends, sizeof (*out)[i].depends, "%s", runs[i].depends);
    }
    free(runs);
    return *out ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
}

rcl_status rcl_suite_paper_plan(const rcl_suite_paper_config *c, const char *out_dir, const char *program, FILE *f) {
    rcl_plan_run *runs;
    int n;
    RCL_TRY(rcl_suite_paper_runs(c, &runs, &n));
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s\t%s\t", runs[i].id, runs[i].depends);
        rcl_suite_paper_command(f, c, out_dir, program, runs[i].id);
        fputc('\n', f);
    }
    free(runs);
    return RCL_OK;
}

/* ---- what the runs share: data identity, pre-trained models, the attack, sizes ---- */

uint64_t rcl_paper_data_hash(const rcl_suite_paper_config *c) {
    return rcl_suite_hash(RCL_FNV_INIT, "paper v1|%s|%.17g", c->data_root, c->scale);
}

/* The pre-trained models' identity and file: a hash of the configuration alone, so a
 * fine-tuning run elsewhere finds the model without loading ImageNet32. */
uint64_t rcl_suite_paper_pretrain_model(const rcl_suite_paper_config *c, const char *out_dir, int adv, char *path,
                                        size_t cap) {
    uint64_t h = rcl_suite_hash(rcl_paper_data_hash(c), "|pretrain%d|%s|%s|%d|%d", adv, adv ? c->adv_arch : c->arch,
                                c->exclude, c->pretrain_batch, rcl_paper_epochs(c, 100));
    if (c->exclude_map[0]) /* keys without a map stay as they were */
        h = rcl_suite_hash(h, "|map %s", c->exclude_map);
    snprintf(path, cap, "%s/stages/%s_%016" PRIx64 ".safetensors", out_dir, adv ? "pretrain-adv" : "pretrain", h);
    return h;
}

rcl_attack_config rcl_suite_paper_attack(int steps) {
    rcl_attack_config a = rcl_attack_defaults(); /* eps 8/255, step 2/255 */
    a.mode = RCL_ATTACK_PAPER;
    a.steps = steps;
    return a;
}

void rcl_suite_paper_pretrain_sizes(const rcl_suite_paper_config *c, int *epochs, int *train_images, int *val_images) {
    *epochs = rcl_paper_epochs(c, 100);
    *train_images = rcl_paper_count(c, 1281167, 1);
    *val_images = rcl_paper_count(c, 50000, 1);
}
