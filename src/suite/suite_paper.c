/* suite paper: the paper's recipes (PROTOCOL 4) over every table's grid, in paper
 * mode, as independent runs: a plan for a cluster scheduler, any subset of runs by
 * ID pattern, and the whole suite with its report. */
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "core/fileio.h"
#include "robustcl/imbalance_methods.h"
#include "robustcl/metrics.h"
#include "core/progress.h"
#include "suite_eval.h"
#include "robustcl/selftest.h"
#include "suite_internal.h"

/* ---- the grid ---- */

enum { P_PRETRAIN, P_PRETRAIN_ADV, P_NOISE, P_IMBALANCE, P_IMBALANCE_EXP, P_ADVERSARIAL, P_CLEAN };
enum { NOISE_NORMAL, NOISE_FORWARD, NOISE_GLC5, NOISE_GLC10 };
enum { ADV_NORMAL, ADV_PGD, ADV_LAST_LAYER };

static const char *const dataset_names[2] = {"cifar10", "cifar100"};
static const char *const noise_method_names[4] = {"normal", "forward", "glc5", "glc10"};
static const char *const adv_method_names[3] = {"normal", "pgd", "pgd-last-layer"};
static const double gammas[7] = {0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0};
#define ADV_EPS_255 8 /* eps = 8/255; the adversarial runs' setting */
#define LT_RHO 100    /* CIFAR-LT's usual ratio: the exponential profile's one setting */

typedef struct {
    char id[160];
    const char *depends; /* "-", "pretrain" or "pretrain-adv" */
    int kind, dataset, pretrained, corruption, method, seed;
    double setting;
} paper_run;

static void add(paper_run *runs, int *n, int kind, int dataset, const char *experiment, double setting,
                const char *method, int pretrained, int seed) {
    paper_run *r = &runs[*n];
    memset(r, 0, sizeof *r);
    r->kind = kind, r->dataset = dataset, r->setting = setting, r->pretrained = pretrained, r->seed = seed;
    if (kind == P_PRETRAIN || kind == P_PRETRAIN_ADV) {
        snprintf(r->id, sizeof r->id, "%s", kind == P_PRETRAIN ? "pretrain" : "pretrain-adv");
        r->depends = "-";
    } else {
        snprintf(r->id, sizeof r->id, "%s/%s/%g/%s/%s/seed=%d", dataset_names[dataset], experiment, setting, method,
                 pretrained ? "pretrained" : "scratch", seed);
        r->depends = !pretrained ? "-" : kind == P_ADVERSARIAL ? "pretrain-adv" : "pretrain";
    }
    (*n)++;
}

static int uses_dataset(const rcl_suite_paper_config *c, int d) {
    char list[80];
    snprintf(list, sizeof list, "%s", c->datasets);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (!strcmp(t, dataset_names[d]))
            return 1;
    return 0;
}

/* Every run, dependencies first. *runs malloc'd. */
static rcl_status grid(const rcl_suite_paper_config *c, paper_run **out, int *n) {
    int cap = 2 + 2 * c->nseeds * (2 * 11 * 4 * 2 + 7 * 5 + 5 + 4 + 2);
    paper_run *runs = malloc((size_t)cap * sizeof *runs);
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
                                noise_method_names[m], arm, seed);
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
                add(runs, n, P_ADVERSARIAL, d, "adversarial", ADV_EPS_255, adv_method_names[method], m >= 2, seed);
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

static int scaled_epochs(const rcl_suite_paper_config *c, int epochs) {
    long e = lround(epochs * c->scale);
    return e < 1 ? 1 : (int)e;
}

static int scaled_count(const rcl_suite_paper_config *c, int paper, int floor_) {
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
}

void rcl_suite_paper_describe(const rcl_suite_paper_config *c, FILE *f) {
    fprintf(f, "suite paper: data root %s, targets %s, scale %g%s, seeds %d, paper mode for every QUIRK\n",
            c->data_root, c->datasets, c->scale, c->scale < 1 ? " (smoke run: numbers are not the paper's)" : "",
            c->nseeds);
    fprintf(f, "pre-training: ImageNet32 (%d training images at most%s%s), %s, %d epochs, lr 0.1, batch %d; "
               "adversarial: %s with PGD-10\n", scaled_count(c, 1281167, 1),
            c->exclude[0] ? ", classes excluded: " : "", c->exclude, c->arch, scaled_epochs(c, 100), c->pretrain_batch, c->adv_arch);
    fprintf(f, "targets: %d (CIFAR-10) / %d (CIFAR-100) training and %d / %d test images per class at most, batch %d\n",
            scaled_count(c, 5000, 2), scaled_count(c, 500, 2), scaled_count(c, 1000, 1), scaled_count(c, 100, 1),
            c->batch);
    fprintf(f, "scratch: %s, %d epochs, lr 0.1, dropout 0.3; fine-tuning: new head, every layer, dropout 0: "
               "label noise %d epochs lr 0.001 (Forward/GLC %d per phase, lr 0.01, head without bias), imbalance %d "
               "epochs lr 0.001, OOD/calibration %d epochs lr 0.001\n", c->arch, scaled_epochs(c, 100),
            scaled_epochs(c, 10), scaled_epochs(c, 10), scaled_epochs(c, 50), scaled_epochs(c, 10));
    fprintf(f, "label noise: uniform and flip, s = 0, 0.1, ..., 1; Normal, Forward, GLC with 5%% and 10%% trusted "
               "(%s); area under the error curve per corruption, Table 1 = their mean\n",
            c->scale < 1 ? "at least one per class, first in file order: smoke-run sizes"
                         : "the first f*N in file order");
    if (c->imbalance_profiles & RCL_SUITE_PROFILE_POWER)
        fprintf(f, "class imbalance: power law gamma = 0.2, 0.4, 0.6, 0.8, 1, 1.5, 2 (largest class = training "
                   "images per class, smallest = 1/20 of it); Normal, cost-sensitive, oversampling, SMOTE from "
                   "scratch; pre-training with CE, %d epochs\n", scaled_epochs(c, 50));
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
            rcl_imb_profile p = rcl_suite_imb_profile(exp, scaled_count(c, d ? 500 : 5000, 2), exp ? LT_RHO : 0.2, 0);
            fprintf(f, "  %s %s: training images per class ", dataset_names[d], exp ? "rho 100" : "gamma 0.2");
            rcl_suite_describe_counts(f, &p, d ? 100 : 10);
            fprintf(f, "\n");
        }
    }
    fprintf(f, "adversarial: %s; normal training and PGD-10 adversarial training from scratch (%d epochs, lr 0.1), "
               "adversarial pre-training + PGD-10 fine-tuning (%d epochs, lr 0.001), last layer only; PGD-20 "
               "evaluation, eps 8/255, step 2/255, paper mode\n", c->adv_arch, scaled_epochs(c, 100),
            scaled_epochs(c, 5));
    fprintf(f, "input normalisation: %s\n",
            c->quirk_normalize ? "0.5/0.5, but the Forward/GLC runs use the CIFAR mean/std (125.3,123.0,113.9)/255, "
                                 "(63.0,62.1,66.7)/255 like the official scripts (--quirk-normalize cifar)"
                               : "0.5/0.5 for every run (PROTOCOL 3's default; --quirk-normalize cifar gives the "
                                 "Forward/GLC runs the official scripts' CIFAR mean/std)");
    fprintf(f, "OOD: MSP on gaussian, rademacher, blobs%s%s; calibration: RMS/MAD paper mode at T = 1 (T tuned on the "
               "last 10%% of the training set, held out, reported)\n", c->ood[0] ? ", " : "", c->ood);
}

/* ---- the plan ---- */

static rcl_status check_config(const rcl_suite_paper_config *c) {
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
    fprintf(f, " --only ");
    quoted(f, id);
}

rcl_status rcl_suite_paper_runs(const rcl_suite_paper_config *c, rcl_plan_run **out, int *n) {
    RCL_TRY(check_config(c));
    paper_run *runs;
    RCL_TRY(grid(c, &runs, n));
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

/* ---- data, loaded when a run needs it ---- */

#define MAX_OOD RCL_SUITE_MAX_OOD

typedef struct {
    int loaded;
    rcl_dataset train, test;  /* scaled */
    rcl_dataset fit, val;     /* OOD/calibration runs: the first 90% and the held-out last 10% */
    rcl_dataset ood[MAX_OOD];
    const rcl_dataset *ood_ptr[MAX_OOD];
    const char *ood_names[MAX_OOD];
    char ood_name_buf[MAX_OOD][48];
    int n_ood;
    int per_class;            /* training images per class (the imbalance profile's largest class) */
} target;

typedef struct {
    const rcl_suite_paper_config *c;
    const char *out;
    rcl_stage_env env;
    target t[2];
    rcl_wrn_config net, adv_net;
    rcl_attack_config adv_train, adv_eval;
    rcl_normalization cifar_norm; /* the Forward/GLC runs' with quirk_normalize */
    char pretrain_path[2][4400];
    uint64_t pretrain_hash[2];
    char scores_dir[4200];
    rcl_run_result *runs;
    int nruns;
} paper;

static uint64_t data_hash(const rcl_suite_paper_config *c) {
    return rcl_suite_hash(RCL_FNV_INIT, "paper v1|%s|%.17g", c->data_root, c->scale);
}

static rcl_status copy_range(const rcl_dataset *src, int from, int n, rcl_dataset *out) {
    RCL_TRY(rcl_dataset_alloc(out, n, src->c, src->h, src->w, src->num_classes, 0));
    size_t per = rcl_dataset_image_size(src);
    memcpy(out->pixels, src->pixels + (size_t)from * per, (size_t)n * per);
    memcpy(out->labels, src->labels + from, (size_t)n * sizeof *out->labels);
    snprintf(out->name, sizeof out->name, "%s", src->name);
    snprintf(out->sha256, sizeof out->sha256, "%s", src->sha256);
    return RCL_OK;
}

static rcl_status load_target(paper *P, int d) {
    target *t = &P->t[d];
    if (t->loaded)
        return RCL_OK;
    const rcl_suite_paper_config *c = P->c;
    char spec[1200];
    snprintf(spec, sizeof spec, "%s:%s/%s", dataset_names[d], c->data_root, dataset_names[d]);
    RCL_TRY(rcl_dataset_load(spec, 1, &t->train));
    RCL_TRY(rcl_dataset_load(spec, 0, &t->test));
    int paper_train = d ? 500 : 5000, paper_test = d ? 100 : 1000;
    t->per_class = scaled_count(c, paper_train, 2);
    RCL_TRY(rcl_suite_cap_per_class(&t->train, t->per_class, 101));
    RCL_TRY(rcl_suite_cap_per_class(&t->test, scaled_count(c, paper_test, 1), 103));
    int *count = calloc((size_t)t->train.num_classes, sizeof *count), largest = 0;
    for (int i = 0; count && i < t->train.n; i++)
        count[t->train.labels[i]]++;
    for (int j = 0; count && j < t->train.num_classes; j++)
        largest = count[j] > largest ? count[j] : largest;
    free(count);
    if (largest < t->per_class)
        t->per_class = largest;
    int nval = t->train.n / 10; /* PROTOCOL 9: the last 10% of the training set */
    RCL_TRY(copy_range(&t->train, 0, t->train.n - nval, &t->fit));
    RCL_TRY(copy_range(&t->train, t->train.n - nval, nval, &t->val));
    const char *synth[3] = {"gaussian", "rademacher", "blobs"};
    char extra[1024];
    snprintf(extra, sizeof extra, "%s", c->ood);
    char *save = NULL, *tok = NULL;
    for (int i = 0; i < MAX_OOD; i++) {
        const char *name = i < 3 ? synth[i] : (tok = strtok_r(i == 3 ? extra : NULL, ";", &save));
        if (!name)
            break;
        rcl_dataset *o = &t->ood[t->n_ood];
        RCL_TRY(rcl_dataset_load_like(name, 0, &t->test, o));
        if (o->c != t->test.c || o->h != t->test.h || o->w != t->test.w)
            return rcl_fail(RCL_ERR_INVALID_ARG, "OOD set %s is %dx%dx%d, %s is %dx%dx%d (use size=HxW)", name, o->c,
                            o->h, o->w, dataset_names[d], t->test.c, t->test.h, t->test.w);
        if (i < 3)
            snprintf(t->ood_name_buf[t->n_ood], sizeof t->ood_name_buf[0], "%s", name);
        else
            snprintf(t->ood_name_buf[t->n_ood], sizeof t->ood_name_buf[0], "ood%d", i - 2);
        t->ood_names[t->n_ood] = t->ood_name_buf[t->n_ood];
        t->ood_ptr[t->n_ood] = o;
        t->n_ood++;
    }
    t->loaded = 1;
    return RCL_OK;
}

static void free_target(target *t) {
    rcl_dataset_free(&t->train), rcl_dataset_free(&t->test), rcl_dataset_free(&t->fit), rcl_dataset_free(&t->val);
    for (int i = 0; i < t->n_ood; i++)
        rcl_dataset_free(&t->ood[i]);
}

/* ---- the runs ---- */

/* The pre-trained models' identity and file: a hash of the configuration alone, so a
 * fine-tuning run elsewhere finds the model without loading ImageNet32. */
uint64_t rcl_suite_paper_pretrain_model(const rcl_suite_paper_config *c, const char *out_dir, int adv, char *path,
                                        size_t cap) {
    uint64_t h = rcl_suite_hash(data_hash(c), "|pretrain%d|%s|%s|%d|%d", adv, adv ? c->adv_arch : c->arch, c->exclude,
                                c->pretrain_batch, scaled_epochs(c, 100));
    if (c->exclude_map[0]) /* keys without a map stay as they were */
        h = rcl_suite_hash(h, "|map %s", c->exclude_map);
    snprintf(path, cap, "%s/stages/%s_%016" PRIx64 ".safetensors", out_dir, adv ? "pretrain-adv" : "pretrain", h);
    return h;
}

static void pretrain_paths(paper *P) {
    for (int adv = 0; adv < 2; adv++)
        P->pretrain_hash[adv] =
            rcl_suite_paper_pretrain_model(P->c, P->out, adv, P->pretrain_path[adv], sizeof P->pretrain_path[0]);
}

rcl_attack_config rcl_suite_paper_attack(int steps) {
    rcl_attack_config a = rcl_attack_defaults(); /* eps 8/255, step 2/255 */
    a.mode = RCL_ATTACK_PAPER;
    a.steps = steps;
    return a;
}

void rcl_suite_paper_pretrain_sizes(const rcl_suite_paper_config *c, int *epochs, int *train_images, int *val_images) {
    *epochs = scaled_epochs(c, 100);
    *train_images = scaled_count(c, 1281167, 1);
    *val_images = scaled_count(c, 50000, 1);
}

static rcl_status run_pretrain(paper *P, const paper_run *pr, rcl_run_result *r) {
    const rcl_suite_paper_config *c = P->c;
    int adv = pr->kind == P_PRETRAIN_ADV;
    char spec[3300];
    snprintf(spec, sizeof spec, "imagenet32:%s/imagenet32%s%s%s%s", c->data_root, c->exclude[0] ? ",exclude=" : "",
             c->exclude, c->exclude_map[0] ? ",map=" : "", c->exclude_map);
    rcl_dataset train = {0}, val = {0};
    rcl_status s = rcl_dataset_load(spec, 1, &train);
    if (s == RCL_OK)
        s = rcl_dataset_load(spec, 0, &val);
    int epochs, ntrain, nval;
    rcl_suite_paper_pretrain_sizes(c, &epochs, &ntrain, &nval);
    if (s == RCL_OK && ntrain < train.n)
        s = rcl_dataset_subset(&train, ntrain, 107);
    if (s == RCL_OK && nval < val.n)
        s = rcl_dataset_subset(&val, nval, 109);
    if (s == RCL_OK) {
        rcl_stage_spec sp = {0};
        sp.dataset = "imagenet32", sp.experiment = "pretrain", sp.method = adv ? "pgd" : "normal";
        sp.seed = pr->seed, sp.id = pr->id;
        sp.net = adv ? P->adv_net : P->net;
        sp.net.num_classes = train.num_classes;
        sp.batch = c->pretrain_batch;
        sp.epochs = epochs;
        sp.lr = 0.1;
        sp.init_seed = 1000003u + 2 + (uint64_t)adv;
        sp.train_seed = 104729u + 3;
        sp.save_path = P->pretrain_path[adv];
        sp.train = &train;
        sp.adv_train = adv ? &P->adv_train : NULL;
        sp.test = &val;
        sp.extra_hash = P->pretrain_hash[adv];
        s = rcl_stage_run(&P->env, &sp, r);
    }
    rcl_dataset_free(&train);
    rcl_dataset_free(&val);
    return s;
}

/* PROTOCOL 5 labels; the GLC trusted set is the first f*N images in file order (paper
 * mode), or at smoke-run sizes the first max(1, f*n_c) of each class so every class has one. */
static rcl_status noise_labels(const paper *P, const rcl_dataset *clean, const paper_run *pr, double fraction,
                               int32_t *labels, uint8_t *trusted) {
    rcl_corruption_options o = {pr->corruption ? RCL_CORRUPT_FLIP : RCL_CORRUPT_UNIFORM, pr->setting,
                                P->c->scale < 1 ? 0 : fraction, 1,
                                (uint64_t)pr->seed * 977u + (uint64_t)lround(pr->setting * 1000) + 7u * pr->corruption};
    RCL_TRY(rcl_noise_corrupt_labels(clean, &o, labels, trusted, NULL, NULL));
    if (P->c->scale >= 1 || fraction == 0)
        return RCL_OK;
    int k = clean->num_classes, *have = calloc((size_t)k, sizeof *have), *count = calloc((size_t)k, sizeof *count);
    if (!have || !count) {
        free(have), free(count);
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    }
    for (int i = 0; i < clean->n; i++)
        count[clean->labels[i]]++;
    for (int i = 0; i < clean->n; i++) {
        int y = clean->labels[i], want = (int)(fraction * count[y]);
        if (have[y] < (want > 1 ? want : 1))
            have[y]++, trusted[i] = 1, labels[i] = y;
    }
    free(have), free(count);
    return RCL_OK;
}

static void recipe(const paper *P, const paper_run *pr, rcl_stage_spec *sp) {
    const rcl_suite_paper_config *c = P->c;
    int adv_net = pr->kind == P_ADVERSARIAL;
    sp->dataset = dataset_names[pr->dataset];
    sp->setting = pr->setting, sp->seed = pr->seed, sp->pretrained = pr->pretrained, sp->id = pr->id;
    sp->net = adv_net ? P->adv_net : P->net;
    sp->net.num_classes = P->t[pr->dataset].train.num_classes;
    sp->net.dropout = pr->pretrained || adv_net ? 0.0f : 0.3f; /* PROTOCOL 4 */
    sp->batch = c->batch;
    sp->epochs = scaled_epochs(c, 100);
    sp->lr = 0.1;
    if (pr->pretrained) {
        int forward_glc = pr->kind == P_NOISE && pr->method != NOISE_NORMAL;
        sp->epochs = scaled_epochs(c, pr->kind == P_IMBALANCE || pr->kind == P_IMBALANCE_EXP ? 50 : pr->kind == P_ADVERSARIAL ? 5 : 10);
        sp->lr = forward_glc ? 0.01 : 0.001;
        sp->net.fc_bias = !forward_glc;
        sp->init_path = P->pretrain_path[adv_net];
        sp->init_hash = P->pretrain_hash[adv_net];
    }
    sp->init_seed = (uint64_t)pr->seed * 1000003u + 1;
    sp->train_seed = (uint64_t)pr->seed * 7919u + 17;
    sp->test = &P->t[pr->dataset].test;
    sp->extra_hash = data_hash(c);
}

static rcl_status run_target(paper *P, const paper_run *pr, rcl_run_result *r) {
    RCL_TRY(load_target(P, pr->dataset));
    target *t = &P->t[pr->dataset];
    rcl_stage_spec sp = {0};
    recipe(P, pr, &sp);
    sp.experiment = pr->kind == P_NOISE ? (pr->corruption ? "noise-flip" : "noise-uniform")
                    : pr->kind == P_IMBALANCE ? "imbalance" : pr->kind == P_IMBALANCE_EXP ? "imbalance-exp"
                    : pr->kind == P_ADVERSARIAL ? "adversarial" : "clean";
    rcl_status s = RCL_OK;
    if (pr->kind == P_NOISE) {
        sp.method = noise_method_names[pr->method];
        double fraction = pr->method == NOISE_GLC5 ? 0.05 : pr->method == NOISE_GLC10 ? 0.10 : 0;
        int32_t *labels = malloc((size_t)t->train.n * sizeof *labels);
        uint8_t *trusted = malloc((size_t)t->train.n);
        s = labels && trusted ? noise_labels(P, &t->train, pr, fraction, labels, trusted)
                              : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
        rcl_dataset noisy = t->train; /* a view with the corrupted labels */
        noisy.labels = labels;
        rcl_noise_run nr = rcl_noise_run_defaults(pr->method == NOISE_FORWARD ? RCL_NOISE_FORWARD : RCL_NOISE_GLC);
        nr.trusted = trusted;
        sp.train = &noisy;
        sp.noise = pr->method == NOISE_NORMAL ? NULL : &nr;
        sp.norm = sp.noise && P->c->quirk_normalize ? &P->cifar_norm : NULL;
        uint64_t h = rcl_fnv1a(RCL_FNV_INIT, labels ? labels : (void *)"", labels ? (size_t)t->train.n * 4 : 0);
        sp.extra_hash = rcl_fnv1a(h, trusted ? trusted : (void *)"", trusted ? (size_t)t->train.n : 0) ^ sp.extra_hash;
        if (s == RCL_OK)
            s = rcl_stage_run(&P->env, &sp, r);
        free(labels), free(trusted);
    } else if (pr->kind == P_IMBALANCE || pr->kind == P_IMBALANCE_EXP) {
        sp.method = rcl_imb_method_name((rcl_imb_method)pr->method);
        rcl_imb_profile prof = rcl_suite_imb_profile(pr->kind == P_IMBALANCE_EXP, t->per_class, pr->setting,
                                                     (uint64_t)pr->seed * 31337u);
        rcl_dataset imb = {0};
        rcl_imb_plan plan;
        memset(&plan, 0, sizeof plan);
        if ((s = rcl_imb_make_dataset(&t->train, &prof, &imb, NULL)) == RCL_OK &&
            (s = rcl_imb_plan_make(&imb, (rcl_imb_method)pr->method, (uint64_t)pr->seed, &plan)) == RCL_OK) {
            sp.train = plan.train, sp.indices = plan.indices, sp.count = plan.count;
            sp.class_weights = plan.class_weights;
            sp.minority = plan.is_minority;
            s = rcl_stage_run(&P->env, &sp, r);
        }
        rcl_imb_plan_free(&plan);
        rcl_dataset_free(&imb);
    } else if (pr->kind == P_ADVERSARIAL) {
        sp.method = adv_method_names[pr->method];
        sp.train = &t->train;
        sp.adv_train = pr->method == ADV_NORMAL ? NULL : &P->adv_train;
        sp.freeze_trunk = pr->method == ADV_LAST_LAYER;
        sp.adv_eval = &P->adv_eval;
        s = rcl_stage_run(&P->env, &sp, r);
    } else {
        sp.method = "normal";
        sp.train = &t->fit;
        sp.val = &t->val;
        sp.calibration = 1;
        sp.ood = t->ood_ptr, sp.ood_names = t->ood_names, sp.n_ood = t->n_ood;
        sp.dump_dir = P->scores_dir;
        s = rcl_stage_run(&P->env, &sp, r);
    }
    return s;
}

static int matches(const char *only, const char *id) {
    if (!only)
        return 1;
    char list[4096];
    snprintf(list, sizeof list, "%s", only);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (!fnmatch(t, id, 0))
            return 1;
    return 0;
}

rcl_status rcl_suite_paper_run(const rcl_suite_paper_config *c, const char *out_dir, const char *only,
                               volatile sig_atomic_t *stop) {
    RCL_TRY(check_config(c));
    paper P;
    memset(&P, 0, sizeof P);
    P.c = c;
    P.out = out_dir;
    P.env.out = out_dir;
    P.env.stop = stop;
    P.env.t0 = rcl_now();
    P.cifar_norm = rcl_normalization_cifar();
    snprintf(P.scores_dir, sizeof P.scores_dir, "%s/scores", out_dir);
    paper_run *runs;
    int n, selected = 0;
    RCL_TRY(grid(c, &runs, &n));
    for (int i = 0; i < n; i++)
        selected += matches(only, runs[i].id);
    rcl_status s = RCL_OK;
    if (!selected)
        s = rcl_fail(RCL_ERR_INVALID_ARG, "suite paper: --only '%s' matches no run (see --plan)", only);
    if (s == RCL_OK)
        s = rcl_wrn_parse_arch(c->arch, &P.net);
    if (s == RCL_OK)
        s = rcl_wrn_parse_arch(c->adv_arch, &P.adv_net);
    P.net.in_c = P.adv_net.in_c = 3, P.net.in_h = P.adv_net.in_h = 32, P.net.in_w = P.adv_net.in_w = 32;
    P.net.fc_bias = P.adv_net.fc_bias = 1;
    /* PROTOCOL 7 in paper mode: PGD-10 training, PGD-20 evaluation, eps 8/255, step 2/255 */
    P.adv_train = rcl_suite_paper_attack(10);
    P.adv_eval = rcl_suite_paper_attack(20);
    pretrain_paths(&P);
    rcl_device_options o = {0};
    o.selector = c->device[0] ? c->device : NULL;
    o.notice = rcl_progress_notice;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/stages", out_dir);
    if (s == RCL_OK)
        s = rcl_mkdirs(dir);
    if (s == RCL_OK)
        s = rcl_device_open(&o, &P.env.d);
    if (s == RCL_OK)
        s = rcl_selftest_gate(P.env.d, c->force); /* as every command that trains */
    if (s == RCL_OK && !(P.runs = calloc((size_t)selected, sizeof *P.runs)))
        s = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    for (int i = 0; i < n && s == RCL_OK; i++) {
        if (!matches(only, runs[i].id))
            continue;
        rcl_run_result *r = &P.runs[P.nruns];
        s = runs[i].kind == P_PRETRAIN || runs[i].kind == P_PRETRAIN_ADV ? run_pretrain(&P, &runs[i], r)
                                                                         : run_target(&P, &runs[i], r);
        if (s == RCL_OK)
            P.nruns++;
    }
    if (s == RCL_OK && !only) {
        s = rcl_report_paper(out_dir, P.runs, P.nruns, stdout);
        rcl_device_notice(P.env.d, "suite paper finished in %.0f s: %d stages run, %d cached; %s/report.{json,html}",
                          rcl_now() - P.env.t0, P.env.stages_run, P.env.stages_cached, out_dir);
    }
    for (int i = 0; i < P.nruns; i++)
        rcl_run_free(&P.runs[i]);
    free(P.runs);
    free(runs);
    free_target(&P.t[0]), free_target(&P.t[1]);
    rcl_device_close(P.env.d);
    return s;
}
