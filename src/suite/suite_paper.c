/* suite paper's execution: the paper's recipes (spec §4), in paper mode, run as
 * independent stages; any subset of the plan's runs by ID pattern, or the whole suite with
 * its report. What runs is suite_paper_plan.c's. */
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hash.h"
#include "core/fileio.h"
#include "robustcl/imbalance_methods.h"
#include "robustcl/metrics.h"
#include "core/progress.h"
#include "suite_eval.h"
#include "report_provenance.h"
#include "suite_paper_internal.h"

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
    char corrupted[1100];     /* its released common corruptions (DATA_ROOT/CIFAR-10-C), or "": none */
} target;

typedef struct {
    const rcl_suite_paper_config *c;
    const char *out;
    rcl_run_config defaults; /* the run configuration when c has none */
    rcl_session session;     /* the device */
    rcl_stage_env env;
    target t[2];
    rcl_wrn_config net, adv_net;
    rcl_attack_config adv_train, adv_eval;
    rcl_autoattack_config autoattack; /* the adversarial runs' (with c->autoattack_n > 0) */
    rcl_normalization cifar_norm; /* the Forward/GLC runs' with quirk_normalize */
    char pretrain_path[2][4400];
    uint64_t pretrain_hash[2];
    char scores_dir[4200];
    rcl_run_result *runs;
    int nruns;
} paper;

static rcl_status copy_range(const rcl_dataset *src, int from, int n, rcl_dataset *out) {
    RCL_TRY(rcl_dataset_alloc(out, n, src->c, src->h, src->w, src->num_classes, 0));
    size_t per = rcl_dataset_image_size(src);
    memcpy(out->pixels, src->pixels + (size_t)from * per, (size_t)n * per);
    memcpy(out->labels, src->labels + from, (size_t)n * sizeof *out->labels);
    snprintf(out->name, sizeof out->name, "%s", src->name);
    snprintf(out->sha256, sizeof out->sha256, "%s", src->sha256);
    return RCL_OK;
}

/* The OOD sets of target d, shaped like its test set: the three synthetic ones, then c->ood's. */
static rcl_status load_ood(target *t, const rcl_suite_paper_config *c, int d) {
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
                            o->h, o->w, rcl_paper_datasets[d], t->test.c, t->test.h, t->test.w);
        if (i < 3)
            snprintf(t->ood_name_buf[t->n_ood], sizeof t->ood_name_buf[0], "%s", name);
        else
            snprintf(t->ood_name_buf[t->n_ood], sizeof t->ood_name_buf[0], "ood%d", i - 2);
        t->ood_names[t->n_ood] = t->ood_name_buf[t->n_ood];
        t->ood_ptr[t->n_ood] = o;
        t->n_ood++;
    }
    return RCL_OK;
}

/* DATA_ROOT/CIFAR-10-C (CIFAR-100-C) when it is there, its files checked; when not, the runs of d
 * report no corruption error and the suite says so once. */
static rcl_status find_corrupted(paper *P, int d) {
    target *t = &P->t[d];
    struct stat st;
    snprintf(t->corrupted, sizeof t->corrupted, "%s/%s", P->c->data_root, rcl_paper_corrupted_dirs[d]);
    if (stat(t->corrupted, &st) == 0 && S_ISDIR(st.st_mode)) {
        int found = 0;
        return rcl_corrupted_scan(t->corrupted, &found);
    }
    rcl_device_notice(P->env.d, "suite paper: no %s (the released .npy files): %s's runs report no mean corruption "
                      "error", t->corrupted, rcl_paper_datasets[d]);
    t->corrupted[0] = 0;
    return RCL_OK;
}

static rcl_status load_target(paper *P, int d) {
    target *t = &P->t[d];
    if (t->loaded)
        return RCL_OK;
    const rcl_suite_paper_config *c = P->c;
    char spec[1200];
    snprintf(spec, sizeof spec, "%s:%s/%s", rcl_paper_datasets[d], c->data_root, rcl_paper_datasets[d]);
    RCL_TRY(rcl_dataset_load(spec, 1, &t->train));
    RCL_TRY(rcl_dataset_load(spec, 0, &t->test));
    int paper_train = d ? 500 : 5000, paper_test = d ? 100 : 1000;
    t->per_class = rcl_paper_count(c, paper_train, 2);
    RCL_TRY(rcl_suite_cap_per_class(&t->train, t->per_class, 101));
    RCL_TRY(rcl_suite_cap_per_class(&t->test, rcl_paper_count(c, paper_test, 1), 103));
    int *count = calloc((size_t)t->train.num_classes, sizeof *count), largest = 0;
    for (int i = 0; count && i < t->train.n; i++)
        count[t->train.labels[i]]++;
    for (int j = 0; count && j < t->train.num_classes; j++)
        largest = count[j] > largest ? count[j] : largest;
    free(count);
    if (largest < t->per_class)
        t->per_class = largest;
    int nval = t->train.n / 10; /* spec §9: the last 10% of the training set */
    RCL_TRY(copy_range(&t->train, 0, t->train.n - nval, &t->fit));
    RCL_TRY(copy_range(&t->train, t->train.n - nval, nval, &t->val));
    RCL_TRY(load_ood(t, c, d));
    RCL_TRY(find_corrupted(P, d));
    t->loaded = 1;
    return RCL_OK;
}

static void free_target(target *t) {
    rcl_dataset_free(&t->train), rcl_dataset_free(&t->test), rcl_dataset_free(&t->fit), rcl_dataset_free(&t->val);
    for (int i = 0; i < t->n_ood; i++)
        rcl_dataset_free(&t->ood[i]);
}

/* ---- the runs ---- */

static void pretrain_paths(paper *P) {
    for (int adv = 0; adv < 2; adv++)
        P->pretrain_hash[adv] =
            rcl_suite_paper_pretrain_model(P->c, P->out, adv, P->pretrain_path[adv], sizeof P->pretrain_path[0]);
}

static rcl_status run_pretrain(paper *P, const rcl_paper_run *pr, rcl_run_result *r) {
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

/* spec §5 labels; the GLC trusted set is the first f*N images in file order (paper
 * mode), or at smoke-run sizes the first max(1, f*n_c) of each class so every class has one. */
static rcl_status noise_labels(const paper *P, const rcl_dataset *clean, const rcl_paper_run *pr, double fraction,
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

static void recipe(const paper *P, const rcl_paper_run *pr, rcl_stage_spec *sp) {
    const rcl_suite_paper_config *c = P->c;
    int adv_net = pr->kind == P_ADVERSARIAL;
    sp->dataset = rcl_paper_datasets[pr->dataset];
    sp->setting = pr->setting, sp->seed = pr->seed, sp->pretrained = pr->pretrained, sp->id = pr->id;
    sp->net = adv_net ? P->adv_net : P->net;
    sp->net.num_classes = P->t[pr->dataset].train.num_classes;
    sp->net.dropout = pr->pretrained || adv_net ? 0.0f : 0.3f; /* spec §4 */
    sp->batch = c->batch;
    sp->epochs = rcl_paper_epochs(c, 100);
    sp->lr = 0.1;
    if (pr->pretrained) {
        int forward_glc = pr->kind == P_NOISE && pr->method != NOISE_NORMAL;
        int imbalance = pr->kind == P_IMBALANCE || pr->kind == P_IMBALANCE_EXP;
        sp->epochs = rcl_paper_epochs(c, imbalance ? 50 : pr->kind == P_ADVERSARIAL ? 5 : 10);
        sp->lr = forward_glc ? 0.01 : 0.001;
        sp->net.fc_bias = !forward_glc;
        sp->init_path = P->pretrain_path[adv_net];
        sp->init_hash = P->pretrain_hash[adv_net];
    }
    sp->init_seed = (uint64_t)pr->seed * 1000003u + 1;
    sp->train_seed = (uint64_t)pr->seed * 7919u + 17;
    sp->test = &P->t[pr->dataset].test;
    sp->extra_hash = rcl_paper_data_hash(c);
}

static rcl_status run_noise(paper *P, const rcl_paper_run *pr, target *t, rcl_stage_spec *sp, rcl_run_result *r) {
    sp->method = rcl_paper_noise_methods[pr->method];
    double fraction = pr->method == NOISE_GLC5 ? 0.05 : pr->method == NOISE_GLC10 ? 0.10 : 0;
    int32_t *labels = malloc((size_t)t->train.n * sizeof *labels);
    uint8_t *trusted = malloc((size_t)t->train.n);
    rcl_status s = labels && trusted ? noise_labels(P, &t->train, pr, fraction, labels, trusted)
                                     : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    rcl_dataset noisy = t->train; /* a view with the corrupted labels */
    noisy.labels = labels;
    rcl_noise_run nr = rcl_noise_run_defaults(pr->method == NOISE_FORWARD ? RCL_NOISE_FORWARD : RCL_NOISE_GLC);
    nr.trusted = trusted;
    sp->train = &noisy;
    sp->noise = pr->method == NOISE_NORMAL ? NULL : &nr;
    sp->norm = sp->noise && P->c->quirk_normalize ? &P->cifar_norm : NULL;
    uint64_t h = rcl_fnv1a(RCL_FNV_INIT, labels ? labels : (void *)"", labels ? (size_t)t->train.n * 4 : 0);
    sp->extra_hash = rcl_fnv1a(h, trusted ? trusted : (void *)"", trusted ? (size_t)t->train.n : 0) ^ sp->extra_hash;
    if (s == RCL_OK)
        s = rcl_stage_run(&P->env, sp, r);
    free(labels), free(trusted);
    return s;
}

static rcl_status run_imbalance(paper *P, const rcl_paper_run *pr, target *t, rcl_stage_spec *sp,
                                rcl_run_result *r) {
    sp->method = rcl_imb_method_name((rcl_imb_method)pr->method);
    rcl_imb_profile prof = rcl_suite_imb_profile(pr->kind == P_IMBALANCE_EXP, t->per_class, pr->setting,
                                                 (uint64_t)pr->seed * 31337u);
    rcl_dataset imb = {0};
    rcl_imb_plan plan;
    memset(&plan, 0, sizeof plan);
    rcl_status s;
    if ((s = rcl_imb_make_dataset(&t->train, &prof, &imb, NULL)) == RCL_OK &&
        (s = rcl_imb_plan_make(&imb, (rcl_imb_method)pr->method, (uint64_t)pr->seed, &plan)) == RCL_OK) {
        sp->train = plan.train, sp->indices = plan.indices, sp->count = plan.count;
        sp->class_weights = plan.class_weights;
        sp->minority = plan.is_minority;
        s = rcl_stage_run(&P->env, sp, r);
    }
    rcl_imb_plan_free(&plan);
    rcl_dataset_free(&imb);
    return s;
}

static rcl_status run_target(paper *P, const rcl_paper_run *pr, rcl_run_result *r) {
    RCL_TRY(load_target(P, pr->dataset));
    target *t = &P->t[pr->dataset];
    rcl_stage_spec sp = {0};
    recipe(P, pr, &sp);
    sp.experiment = pr->kind == P_NOISE ? (pr->corruption ? "noise-flip" : "noise-uniform")
                    : pr->kind == P_IMBALANCE ? "imbalance" : pr->kind == P_IMBALANCE_EXP ? "imbalance-exp"
                    : pr->kind == P_ADVERSARIAL ? "adversarial" : "clean";
    sp.corrupted_dir = t->corrupted[0] ? t->corrupted : NULL; /* every model of the target */
    if (pr->kind == P_NOISE)
        return run_noise(P, pr, t, &sp, r);
    if (pr->kind == P_IMBALANCE || pr->kind == P_IMBALANCE_EXP)
        return run_imbalance(P, pr, t, &sp, r);
    if (pr->kind == P_ADVERSARIAL) {
        sp.method = rcl_paper_adv_methods[pr->method];
        sp.train = &t->train;
        sp.adv_train = pr->method == ADV_NORMAL ? NULL : &P->adv_train;
        sp.freeze_trunk = pr->method == ADV_LAST_LAYER;
        sp.adv_eval = &P->adv_eval;
        sp.autoattack = P->c->autoattack_n > 0 ? &P->autoattack : NULL;
    } else {
        sp.method = "normal";
        sp.train = &t->fit;
        sp.val = &t->val;
        sp.calibration = 1;
        sp.ood = t->ood_ptr, sp.ood_names = t->ood_names, sp.n_ood = t->n_ood;
        sp.dump_dir = P->scores_dir;
    }
    return rcl_stage_run(&P->env, &sp, r);
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

static void paper_init(paper *P, const rcl_suite_paper_config *c, const char *out_dir, volatile sig_atomic_t *stop) {
    memset(P, 0, sizeof *P);
    P->c = c;
    P->out = out_dir;
    if (!c->run)
        rcl_run_config_init(&P->defaults, 0, NULL);
    P->env.run = c->run ? c->run : &P->defaults;
    P->env.out = out_dir;
    P->env.stop = stop;
    P->env.t0 = rcl_now();
    P->cifar_norm = rcl_normalization_cifar();
    snprintf(P->scores_dir, sizeof P->scores_dir, "%s/scores", out_dir);
}

/* The two networks, the attacks and the pre-trained models' files every run shares. */
static rcl_status paper_recipes(paper *P) {
    const rcl_suite_paper_config *c = P->c;
    /* CIFAR and ImageNet32: 32x32x3; classes are set per run */
    rcl_status s = rcl_wrn_config_make(c->arch, 3, 32, 32, 10, &P->net);
    if (s == RCL_OK)
        s = rcl_wrn_config_make(c->adv_arch, 3, 32, 32, 10, &P->adv_net);
    /* spec §7 in paper mode: PGD-10 training, PGD-20 evaluation, eps 8/255, step 2/255 */
    P->adv_train = rcl_suite_paper_attack(10);
    P->adv_eval = rcl_suite_paper_attack(20);
    P->autoattack = c->autoattack;
    P->autoattack.eps = P->adv_eval.eps; /* 8/255, PGD-20's radius */
    P->autoattack.n = c->autoattack_n;
    pretrain_paths(P);
    return s;
}

/* OUT/stages, the device (self-tested, as every command that trains) and room for the results. */
static rcl_status paper_open(paper *P, int selected) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/stages", P->out);
    RCL_TRY(rcl_mkdirs(dir));
    rcl_session_spec spec = {.gate = 1};
    RCL_TRY(rcl_session_open(P->env.run, &spec, &P->session));
    P->env.d = P->session.device;
    if (!(P->runs = calloc((size_t)selected, sizeof *P->runs)))
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    return RCL_OK;
}

static void paper_free(paper *P) {
    for (int i = 0; i < P->nruns; i++)
        rcl_run_free(&P->runs[i]);
    free(P->runs);
    free_target(&P->t[0]), free_target(&P->t[1]);
    rcl_session_close(&P->session);
}

rcl_status rcl_suite_paper_run(const rcl_suite_paper_config *c, const char *out_dir, const char *only,
                               volatile sig_atomic_t *stop) {
    RCL_TRY(rcl_paper_check(c));
    paper P;
    paper_init(&P, c, out_dir, stop);
    rcl_paper_run *runs;
    int n, selected = 0;
    RCL_TRY(rcl_paper_grid(c, &runs, &n));
    for (int i = 0; i < n; i++)
        selected += matches(only, runs[i].id);
    rcl_status s = RCL_OK;
    if (!selected)
        s = rcl_fail(RCL_ERR_INVALID_ARG, "suite paper: --only '%s' matches no run (see --plan)", only);
    if (s == RCL_OK)
        s = paper_recipes(&P);
    if (s == RCL_OK)
        s = paper_open(&P, selected);
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
        rcl_report_provenance_warn(P.runs, P.nruns); /* cached stages may come from elsewhere */
        char *self = rcl_report_provenance_text(P.env.run, P.env.d, NULL, NULL, 0);
        s = self ? rcl_report_paper(out_dir, self, P.runs, P.nruns, c->table)
                 : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
        free(self);
        rcl_device_notice(P.env.d, "suite paper finished in %.0f s: %d stages run, %d cached; %s/report.{json,html}",
                          rcl_now() - P.env.t0, P.env.stages_run, P.env.stages_cached, out_dir);
    }
    free(runs);
    paper_free(&P);
    return s;
}
