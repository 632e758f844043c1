/* The suite's runner: data preparation, pre-training, and the grid of
 * (experiment, method, arm, setting, seed) runs, each a cached stage. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "robustcl/adversarial.h"
#include "robustcl/imbalance_methods.h"
#include "robustcl/noise_methods.h"
#include "core/fileio.h"
#include "robustcl/metrics.h"
#include "core/progress.h"
#include "robustcl/train.h"
#include "suite_eval.h"
#include "report_provenance.h"
#include "suite_internal.h"

#define MAX_OOD RCL_SUITE_MAX_OOD

typedef struct {
    const rcl_suite_config *c;
    const char *out;
    rcl_session session; /* the device */
    rcl_stage_env env;
    rcl_dataset source[2], source_test[2]; /* [RCL_SUITE_SOURCE_*] */
    rcl_dataset target, test;              /* target: the pool every target training set comes from */
    rcl_dataset corrupt_test;              /* the test subset the clean runs are corrupted from (n 0: none) */
    int corruptions[RCL_CORRUPTED_NAMES], n_corruptions;
    rcl_dataset ood[MAX_OOD];
    const rcl_dataset *ood_ptr[MAX_OOD];
    const char *ood_names[MAX_OOD];
    char ood_name_buf[MAX_OOD][48];
    int n_ood;
    rcl_wrn_config net; /* in shape and arch; classes set per use */
    rcl_run_result *runs;
    int nruns, cap_runs;
    char pretrain_path[2][2][4400]; /* [source][adversarial]: the current seed's pre-trained models */
    uint64_t pretrain_hash[2][2];
    rcl_attack_config adv_train, adv_eval;
    rcl_autoattack_config autoattack;     /* the adversarial runs' (with c->autoattack_n > 0) */
    char scores_dir[4200];
} suite;

/* ---- configuration hashes: every input of a stage goes into its key ---- */

static uint64_t base_hash(const rcl_suite_config *c) {
    return rcl_suite_hash(RCL_FNV_INIT, "v2|%s|%s|%s|%d|%d|pool %d", c->data, c->source_classes, c->target_classes,
                          c->target_per_class, c->test_per_class, c->target_pool);
}

/* ---- data ---- */

/* The pool's draw: fixed, so that every seed's pre-training leaves out the same images. */
#define POOL_SEED 5

/* Of one split (train: the pool and the two sources; test: the target's and the sources'). */
static rcl_status split_data(suite *S, int train, const int *src, int ks, const int *tgt, int kt) {
    const rcl_suite_config *c = S->c;
    int *both = malloc((size_t)(ks + kt) * sizeof *both);
    rcl_dataset all = {0};
    unsigned char *pool = NULL;
    rcl_status s = both ? rcl_dataset_load(c->data, train, &all) : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    if (s == RCL_OK && !all.pixels)
        s = rcl_fail(RCL_ERR_INVALID_ARG, "suite: %s is not an image dataset", c->data);
    if (s == RCL_OK && train && !(pool = malloc((size_t)all.n)))
        s = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    if (s == RCL_OK && train)
        s = rcl_suite_target_pool(&all, tgt, kt, c->target_pool, POOL_SEED, pool);
    if (s == RCL_OK) {
        memcpy(both, src, (size_t)ks * sizeof *both);
        memcpy(both + ks, tgt, (size_t)kt * sizeof *both);
    }
    rcl_dataset *sources = train ? S->source : S->source_test;
    if (s == RCL_OK)
        s = rcl_suite_split_take(&all, both, ks + kt, pool, 0, &sources[RCL_SUITE_SOURCE_COVERING]);
    if (s == RCL_OK)
        s = rcl_suite_split_take(&all, src, ks, pool, 0, &sources[RCL_SUITE_SOURCE_EXCLUDED]);
    if (s == RCL_OK)
        s = rcl_suite_split_take(&all, tgt, kt, pool, train, train ? &S->target : &S->test);
    rcl_dataset_free(&all);
    free(pool), free(both);
    return s;
}

/* A fixed, seeded subset of the target test set for the corruption row: 70 corrupted copies of the
 * whole test set would cost more than the rest of a clean run's evaluation (spec §11.1). */
static rcl_status corruption_subset(suite *S) {
    const rcl_suite_config *c = S->c;
    S->n_corruptions = rcl_suite_corruptions(S->corruptions);
    RCL_TRY(rcl_suite_copy_subset(&S->test, NULL, S->test.n, &S->corrupt_test));
    return rcl_suite_cap_per_class(&S->corrupt_test, c->corrupt_per_class, c->corrupt_seed);
}

static rcl_status prepare_data(suite *S) {
    const rcl_suite_config *c = S->c;
    int *src = NULL, *tgt = NULL, ks = 0, kt = 0;
    rcl_status s = rcl_parse_class_ranges(c->source_classes, &src, &ks);
    if (s == RCL_OK)
        s = rcl_parse_class_ranges(c->target_classes, &tgt, &kt);
    if (s == RCL_OK)
        s = split_data(S, 1, src, ks, tgt, kt);
    if (s == RCL_OK)
        s = split_data(S, 0, src, ks, tgt, kt);
    free(src), free(tgt);
    for (int i = 0; i < 2 && s == RCL_OK; i++) {
        if (c->pretrain_images > 0 && c->pretrain_images < S->source[i].n)
            s = rcl_dataset_subset(&S->source[i], c->pretrain_images, 7);
        if (s == RCL_OK)
            s = rcl_suite_cap_per_class(&S->source_test[i], c->test_per_class, 11);
    }
    if (s == RCL_OK)
        s = rcl_suite_cap_per_class(&S->test, c->test_per_class, 13);
    if (s == RCL_OK && c->corrupt_per_class > 0)
        s = corruption_subset(S);
    RCL_TRY(s);
    const char *synth[3] = {"gaussian", "rademacher", "blobs"};
    for (int i = 0; i < 3; i++) {
        snprintf(S->ood_name_buf[S->n_ood], sizeof S->ood_name_buf[0], "%s", synth[i]);
        RCL_TRY(rcl_dataset_load_like(synth[i], 0, &S->test, &S->ood[S->n_ood]));
        S->ood_names[S->n_ood] = S->ood_name_buf[S->n_ood];
        S->ood_ptr[S->n_ood] = &S->ood[S->n_ood];
        S->n_ood++;
    }
    char extra[1024];
    snprintf(extra, sizeof extra, "%s", c->ood);
    for (char *save = NULL, *tok = strtok_r(extra, ";", &save); tok && S->n_ood < MAX_OOD;
         tok = strtok_r(NULL, ";", &save)) {
        rcl_dataset *o = &S->ood[S->n_ood];
        RCL_TRY(rcl_dataset_load_like(tok, 0, &S->test, o));
        if (o->c != S->test.c || o->h != S->test.h || o->w != S->test.w)
            return rcl_fail(RCL_ERR_INVALID_ARG, "OOD set %s is %dx%dx%d, the data is %dx%dx%d (use size=HxW)", tok,
                            o->c, o->h, o->w, S->test.c, S->test.h, S->test.w);
        snprintf(S->ood_name_buf[S->n_ood], sizeof S->ood_name_buf[0], "ood%d", S->n_ood - 2);
        S->ood_names[S->n_ood] = S->ood_name_buf[S->n_ood];
        S->ood_ptr[S->n_ood] = o;
        S->n_ood++;
    }
    return rcl_wrn_config_make(c->arch, S->target.c, S->target.h, S->target.w, S->target.num_classes, &S->net);
}

/* ---- runs ---- */

static rcl_status add_run(suite *S, const rcl_run_result *r) {
    if (S->nruns == S->cap_runs) {
        int cap = S->cap_runs ? 2 * S->cap_runs : 64;
        rcl_run_result *p = realloc(S->runs, (size_t)cap * sizeof *p);
        if (!p)
            return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
        S->runs = p;
        S->cap_runs = cap;
    }
    S->runs[S->nruns++] = *r;
    return RCL_OK;
}

/* What a run trains on and how it is evaluated. */
typedef struct {
    const char *experiment, *method;
    double setting;
    int seed, pretrained;
    const rcl_dataset *train;
    const int *indices;             /* or NULL: all of train */
    int count;
    const float *class_weights;
    const rcl_noise_run *noise;     /* Forward/GLC runner, or NULL */
    int adversarial;                /* adversarial training (and adversarially pre-trained trunk) */
    const unsigned char *minority;  /* classes reported as minority */
    int calibration, ood;
    uint64_t extra_hash;            /* anything else that changes the run */
    int recipe;                     /* RCL_SUITE_RECIPE_*: how the pre-trained arm is fine-tuned */
    int source;                     /* RCL_SUITE_SOURCE_*: the pre-trained arm's source */
    const char *report_as;          /* the experiment it is reported under (NULL: experiment): a run
                                       shared by two experiments is one stage */
    int corrupt;                    /* the mean corruption error too (the clean runs) */
} run_spec;

/* Scratch: spec §1 init and dropout at lr scratch_lr; pre-trained: this seed's trunk from the
 * run's source with a new head, fine-tuned by the run's recipe (Forward/GLC: a head without bias). */
static rcl_status run_one(suite *S, const run_spec *rs) {
    const rcl_suite_config *c = S->c;
    const rcl_suite_recipe *ft = &c->finetune[rs->recipe];
    rcl_stage_spec sp = {0};
    sp.dataset = "", sp.experiment = rs->experiment, sp.method = rs->method;
    sp.setting = rs->setting, sp.seed = rs->seed, sp.pretrained = rs->pretrained;
    sp.net = S->net;
    sp.net.num_classes = S->target.num_classes;
    sp.net.dropout = rs->pretrained || rs->adversarial ? 0.0f : (float)c->scratch_dropout; /* spec §4 */
    sp.net.fc_bias = !(rs->noise && rs->pretrained);
    sp.batch = c->batch;
    sp.epochs = rs->pretrained ? 1 : c->scratch_epochs;
    sp.min_steps = rs->pretrained ? ft->min_steps : rs->adversarial ? c->adv_min_steps : c->min_steps;
    sp.lr = rs->pretrained ? ft->lr : c->scratch_lr;
    sp.init_seed = (uint64_t)rs->seed * 1000003u + 1;
    sp.init_path = rs->pretrained ? S->pretrain_path[rs->source][rs->adversarial] : NULL;
    sp.init_hash = S->pretrain_hash[rs->source][rs->adversarial];
    sp.train_seed = (uint64_t)rs->seed * 7919u + 17;
    sp.train = rs->train, sp.indices = rs->indices, sp.count = rs->count;
    sp.class_weights = rs->class_weights;
    sp.noise = rs->noise;
    sp.adv_train = rs->adversarial ? &S->adv_train : NULL;
    sp.test = &S->test;
    sp.ood = S->ood_ptr, sp.ood_names = S->ood_names, sp.n_ood = rs->ood ? S->n_ood : 0;
    sp.dump_dir = S->scores_dir;
    sp.minority = rs->minority;
    sp.calibration = rs->calibration;
    sp.adv_eval = rs->adversarial ? &S->adv_eval : NULL;
    sp.autoattack = rs->adversarial && c->autoattack_n > 0 ? &S->autoattack : NULL;
    sp.extra_hash = rcl_suite_hash(base_hash(c), "|%" PRIx64, rs->extra_hash);
    if (rs->corrupt && S->corrupt_test.n > 0) {
        sp.corrupt_test = &S->corrupt_test;
        sp.corruptions = S->corruptions, sp.n_corruptions = S->n_corruptions;
        sp.corrupt_seed = c->corrupt_seed;
    }
    rcl_run_result r;
    RCL_TRY(rcl_stage_run(&S->env, &sp, &r));
    if (rs->report_as) { /* the corruption row is the clean experiment's, with both of its arms */
        snprintf(r.experiment, sizeof r.experiment, "%s", rs->report_as);
        rcl_run_unset(&r, "mce");
    }
    if (rs->pretrained) /* the recipe the report states: which source was fine-tuned */
        rcl_run_set(&r, "source_excluded", rs->source == RCL_SUITE_SOURCE_EXCLUDED);
    return add_run(S, &r);
}

/* ---- pre-training ---- */

/* A seeded n of the source's images (all when n is 0 or covers them), for adversarial pre-training:
 * PGD training costs (1 + steps) passes an image. */
static rcl_status adversarial_subset(const rcl_dataset *source, int n, uint64_t seed, int **idx, int *count) {
    *idx = NULL, *count = 0;
    if (n <= 0 || n >= source->n)
        return RCL_OK;
    int k = source->num_classes, *counts = calloc((size_t)k, sizeof *counts), *all = NULL, m = 0;
    if (!counts)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    for (int i = 0; i < source->n; i++)
        counts[source->labels[i]]++;
    for (int j = 0, left = n, rest = source->n; j < k; j++) { /* each class in proportion */
        int take = (int)((long)left * counts[j] / (rest > 0 ? rest : 1));
        rest -= counts[j], left -= take, counts[j] = take;
    }
    rcl_status s = rcl_imb_select((const int *)source->labels, source->n, k, counts, seed, &all, &m);
    free(counts);
    if (s == RCL_OK)
        *idx = all, *count = m;
    return s;
}

/* This seed's pre-trained model from one source (clean, or adversarial): the seed varies the
 * initial weights and the order, so a verdict covers the variance of pre-training (spec §11.2). */
static rcl_status pretrain(suite *S, int source, int adversarial, int seed) {
    const rcl_suite_config *c = S->c;
    const rcl_dataset *data = &S->source[source];
    static const char *const names[2][2] = {{"pretrain", "pretrain-adversarial"},
                                            {"pretrain-excluded", "pretrain-excluded-adversarial"}};
    char dir[4200], id[64];
    snprintf(dir, sizeof dir, "%s/stages", S->out);
    RCL_TRY(rcl_mkdirs(dir));
    snprintf(id, sizeof id, "%s/seed=%d", names[source][adversarial], seed);
    rcl_stage_spec sp = {0};
    sp.dataset = "", sp.experiment = "pretrain", sp.method = adversarial ? "pgd" : "normal", sp.seed = seed;
    sp.id = id;
    sp.net = S->net;
    sp.net.num_classes = data->num_classes;
    sp.batch = c->batch;
    sp.epochs = c->pretrain_epochs;
    sp.min_steps = adversarial ? c->adv_min_steps : c->pretrain_min_steps;
    sp.lr = c->pretrain_lr;
    sp.init_seed = (uint64_t)seed * 1000003u + 2;
    sp.train_seed = (uint64_t)seed * 104729u + 3;
    sp.train = data;
    int *subset = NULL, n = 0;
    if (adversarial)
        RCL_TRY(adversarial_subset(data, c->adv_pretrain_images, (uint64_t)seed * 104729u + 5, &subset, &n));
    sp.indices = subset, sp.count = n;
    sp.adv_train = adversarial ? &S->adv_train : NULL;
    sp.test = &S->source_test[source];
    /* what pre-training reads: the classes and the pool, not the target's sizes or recipes */
    sp.extra_hash = rcl_suite_hash(RCL_FNV_INIT, "pretrain-v3|%s|%s|%s|%d|%d|%d|%d", c->data, c->source_classes,
                                   c->target_classes, c->target_pool, c->test_per_class, c->pretrain_images, n);
    uint64_t h = rcl_stage_hash(&sp);
    S->pretrain_hash[source][adversarial] = h;
    char *path = S->pretrain_path[source][adversarial];
    snprintf(path, sizeof S->pretrain_path[0][0], "%s/stages/%s_seed=%d_%016" PRIx64 ".safetensors", S->out,
             names[source][adversarial], seed, h);
    sp.save_path = path;
    rcl_run_result r;
    rcl_status s = rcl_stage_run(&S->env, &sp, &r);
    if (s == RCL_OK) { /* the report shows each source model's test error, a row per source */
        snprintf(r.method, sizeof r.method, "%s%s", source ? "excluded" : "covering", adversarial ? "-pgd" : "");
        s = add_run(S, &r);
    }
    free(subset);
    return s;
}

/* Every model this seed's experiments fine-tune. */
static rcl_status pretrain_seed(suite *S, int seed) {
    const rcl_suite_config *c = S->c;
    RCL_TRY(pretrain(S, c->source, 0, seed));
    if (c->source != RCL_SUITE_SOURCE_EXCLUDED) /* OOD detection and calibration */
        RCL_TRY(pretrain(S, RCL_SUITE_SOURCE_EXCLUDED, 0, seed));
    return c->adversarial ? pretrain(S, c->source, 1, seed) : RCL_OK;
}

/* ---- the experiments ---- */

/* This seed's balanced training set: target_per_class images of each class, from the pool. */
static rcl_status target_train_set(suite *S, int seed, rcl_dataset *out) {
    const rcl_suite_config *c = S->c;
    int k = S->target.num_classes, *counts = malloc((size_t)k * sizeof *counts), *idx = NULL, n = 0;
    if (!counts)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    for (int j = 0; j < k; j++)
        counts[j] = c->target_per_class;
    rcl_status s = rcl_imb_select((const int *)S->target.labels, S->target.n, k, counts, (uint64_t)seed, &idx, &n);
    free(counts);
    if (s == RCL_OK)
        s = rcl_suite_copy_subset(&S->target, idx, n, out);
    free(idx);
    return s;
}

/* spec §5: uniform corruption of strength s; a trusted (gold) fraction for GLC. */
static rcl_status noisy_labels(const rcl_dataset *clean, double strength, double trusted_fraction, uint64_t seed,
                               int32_t *noisy, uint8_t *trusted) {
    rcl_corruption_options o = {RCL_CORRUPT_UNIFORM, strength, trusted_fraction, 0, seed};
    return rcl_noise_corrupt_labels(clean, &o, noisy, trusted, NULL, NULL);
}

/* Both arms of one noise strength and method; s = 0 of Normal is the clean pair, evaluated for
 * calibration and OOD detection too. */
static rcl_status noise_pair(suite *S, int seed, const rcl_dataset *noisy, rcl_noise_method method, double strength,
                             const rcl_noise_run *nr, double fraction) {
    int is_clean = strength == 0 && method == RCL_NOISE_NORMAL;
    rcl_status s = RCL_OK;
    for (int arm = 0; arm < 2 && s == RCL_OK; arm++) {
        run_spec rs = {is_clean ? "clean" : "noise", rcl_noise_method_name(method), strength, seed, arm,
                       noisy, NULL, 0, NULL, method == RCL_NOISE_NORMAL ? NULL : nr, 0, NULL, is_clean, is_clean,
                       (uint64_t)(fraction * 1e6),
                       method == RCL_NOISE_NORMAL ? RCL_SUITE_RECIPE_NOISE : RCL_SUITE_RECIPE_CORRECTED,
                       S->c->source, NULL, is_clean};
        s = run_one(S, &rs);
    }
    return s;
}

static rcl_status noise_experiment(suite *S, int seed, const rcl_dataset *clean) {
    const rcl_suite_config *c = S->c;
    int32_t *labels = malloc((size_t)clean->n * sizeof *labels);
    uint8_t *trusted = malloc((size_t)clean->n);
    rcl_status s = labels && trusted ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    static const rcl_noise_method methods[3] = {RCL_NOISE_NORMAL, RCL_NOISE_FORWARD, RCL_NOISE_GLC};
    for (int mi = 0; mi < 3 && s == RCL_OK; mi++) {
        rcl_noise_method method = methods[mi];
        if ((method == RCL_NOISE_FORWARD && !(c->noise_methods & RCL_SUITE_NOISE_FORWARD)) ||
            (method == RCL_NOISE_GLC && !(c->noise_methods & RCL_SUITE_NOISE_GLC)))
            continue;
        double fraction = method == RCL_NOISE_GLC ? c->trusted_fraction : 0;
        for (int ni = 0; ni < c->nnoise && s == RCL_OK; ni++) {
            double strength = c->noise[ni];
            s = noisy_labels(clean, strength, fraction, (uint64_t)seed * 977u + (uint64_t)(strength * 1000), labels,
                             trusted);
            rcl_dataset noisy = *clean; /* a view with the corrupted labels */
            noisy.labels = labels;
            rcl_noise_run nr = rcl_noise_run_defaults(method);
            nr.trusted = trusted;
            if (s == RCL_OK)
                s = noise_pair(S, seed, &noisy, method, strength, &nr, fraction);
        }
    }
    free(labels);
    free(trusted);
    return s;
}

/* OOD detection and calibration (spec §8-9) fine-tune the class-excluded source's model, as the
 * paper's uncertainty experiments do; the scratch arm is the clean pair's scratch run. */
static rcl_status uncertainty_experiment(suite *S, int seed, const rcl_dataset *clean) {
    rcl_status s = RCL_OK;
    for (int arm = 0; arm < 2 && s == RCL_OK; arm++) {
        run_spec rs = {arm ? "uncertainty" : "clean", "normal", 0, seed, arm, clean, NULL, 0, NULL, NULL, 0, NULL,
                       1, 1, 0, RCL_SUITE_RECIPE_UNCERTAINTY, RCL_SUITE_SOURCE_EXCLUDED, "uncertainty",
                       !arm}; /* the scratch arm is the clean scratch stage: the same key */
        s = run_one(S, &rs);
    }
    return s;
}

/* spec §6: the power-law profile from imbalance_largest down to 1/20 of it ("imbalance", setting
 * gamma), or the CIFAR-LT exponential one ("imbalance-exp", setting rho), drawn from the pool. */
static rcl_status imbalance_experiment(suite *S, int seed, int exponential) {
    const rcl_suite_config *c = S->c;
    static const rcl_imb_method methods[4] = {RCL_IMB_NORMAL, RCL_IMB_COST_SENSITIVE, RCL_IMB_OVERSAMPLE, RCL_IMB_SMOTE};
    static const int bits[4] = {0, RCL_SUITE_IMB_COST, RCL_SUITE_IMB_OVERSAMPLE, RCL_SUITE_IMB_SMOTE};
    const double *settings = exponential ? c->rhos : c->gammas;
    rcl_status s = RCL_OK;
    for (int gi = 0; gi < (exponential ? c->nrhos : c->ngammas) && s == RCL_OK; gi++) {
        rcl_imb_profile prof = rcl_suite_imb_profile(exponential, c->imbalance_largest, settings[gi],
                                                     (uint64_t)seed * 31337u);
        rcl_dataset imb = {0};
        if ((s = rcl_imb_make_dataset(&S->target, &prof, &imb, NULL)) != RCL_OK)
            break;
        for (int mi = 0; mi < 4 && s == RCL_OK; mi++) {
            if (mi && !(c->imbalance_methods & bits[mi]))
                continue;
            rcl_imb_plan plan;
            memset(&plan, 0, sizeof plan);
            if ((s = rcl_imb_plan_make(&imb, methods[mi], (uint64_t)seed, &plan)) != RCL_OK)
                break;
            for (int arm = 0; arm < 2 && s == RCL_OK; arm++) {
                run_spec rs = {exponential ? "imbalance-exp" : "imbalance", rcl_imb_method_name(methods[mi]),
                               settings[gi], seed, arm, plan.train, plan.indices, plan.count, plan.class_weights,
                               NULL, 0, plan.is_minority, 0, 0, 0, RCL_SUITE_RECIPE_IMBALANCE, c->source, NULL, 0};
                s = run_one(S, &rs);
            }
            rcl_imb_plan_free(&plan);
        }
        rcl_dataset_free(&imb);
    }
    return s;
}

/* spec §4/7: adversarial training from scratch vs adversarial pre-training + adversarial fine-tuning. */
static rcl_status adversarial_experiment(suite *S, int seed, const rcl_dataset *clean) {
    rcl_status s = RCL_OK;
    for (int arm = 0; arm < 2 && s == RCL_OK; arm++) {
        run_spec rs = {"adversarial", "pgd", S->c->adv_eps, seed, arm, clean, NULL, 0, NULL, NULL, 1, NULL, 0, 0, 0,
                       RCL_SUITE_RECIPE_ADVERSARIAL, S->c->source, NULL, 0};
        s = run_one(S, &rs);
    }
    return s;
}

/* report.json, report.html (each with the suite run's record) and table.txt; the table also to c->table. */
static rcl_status report(suite *S) {
    const rcl_suite_config *c = S->c;
    char path[4200], counts[96];
    snprintf(path, sizeof path, "%s/report.json", S->out);
    snprintf(counts, sizeof counts, "{\"stages_run\": %d, \"stages_cached\": %d}", S->env.stages_run,
             S->env.stages_cached);
    rcl_report_provenance_warn(S->runs, S->nruns); /* cached stages may come from elsewhere */
    char *self = rcl_report_provenance_text(S->env.run, S->env.d, NULL, NULL, 0);
    rcl_status s = self ? rcl_report_json(path, c, self, S->runs, S->nruns, counts)
                        : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    snprintf(path, sizeof path, "%s/report.html", S->out);
    if (s == RCL_OK)
        s = rcl_report_html(path, c, self, S->runs, S->nruns);
    free(self);
    snprintf(path, sizeof path, "%s/table.txt", S->out);
    if (s == RCL_OK)
        s = rcl_report_table_save(path, S->runs, S->nruns);
    if (s == RCL_OK && c->table)
        rcl_report_table(c->table, S->runs, S->nruns);
    rcl_device_notice(S->env.d, "suite finished in %.0f s: %d stages run, %d cached; %s/report.{json,html}, table.txt",
                      rcl_now() - S->env.t0, S->env.stages_run, S->env.stages_cached, S->out);
    return s;
}

/* APGD-T's loss needs 4 logits: refused before any training, not after the first seed's. */
static rcl_status check_autoattack(const suite *S) {
    for (int i = 0; i < S->autoattack.n_attacks; i++)
        if (S->autoattack.attacks[i] == RCL_AA_APGD_T && S->target.num_classes < 4)
            return rcl_fail(RCL_ERR_INVALID_ARG, "suite mini --autoattack-n: APGD-T needs at least 4 target "
                            "classes, the suite has %d", S->target.num_classes);
    return RCL_OK;
}

rcl_status rcl_suite_run(const rcl_suite_config *c, const char *out_dir, volatile sig_atomic_t *stop) {
    suite S;
    memset(&S, 0, sizeof S);
    S.c = c;
    S.out = out_dir;
    rcl_run_config defaults;
    if (!c->run)
        rcl_run_config_init(&defaults, 0, NULL);
    S.env.run = c->run ? c->run : &defaults;
    S.env.out = out_dir;
    S.env.stop = stop;
    S.env.t0 = rcl_now();
    snprintf(S.scores_dir, sizeof S.scores_dir, "%s/scores", out_dir);
    rcl_session_spec spec = {.gate = 1}; /* as every command that trains */
    rcl_status s = rcl_mkdirs(out_dir);
    if (s == RCL_OK)
        s = rcl_session_open(S.env.run, &spec, &S.session);
    S.env.d = S.session.device;
    if (s == RCL_OK)
        s = prepare_data(&S);
    S.adv_train = rcl_attack_defaults();
    S.adv_train.eps = c->adv_eps;
    S.adv_train.step = c->adv_eps / 4;
    S.adv_train.steps = c->adv_train_steps;
    S.adv_eval = S.adv_train;
    S.adv_eval.steps = c->adv_eval_steps;
    S.autoattack = c->autoattack;
    S.autoattack.eps = c->adv_eps; /* the PGD evaluation's radius */
    S.autoattack.n = c->autoattack_n;
    if (s == RCL_OK && c->adversarial && c->autoattack_n > 0)
        s = check_autoattack(&S);
    for (int si = 0; si < c->nseeds && s == RCL_OK; si++) {
        int seed = c->seeds[si];
        rcl_dataset clean = {0};
        s = pretrain_seed(&S, seed);
        if (s == RCL_OK)
            s = target_train_set(&S, seed, &clean);
        if (s == RCL_OK)
            s = noise_experiment(&S, seed, &clean);
        if (s == RCL_OK)
            s = uncertainty_experiment(&S, seed, &clean);
        if (s == RCL_OK && c->imbalance && c->ngammas > 0 && (c->imbalance_profiles & RCL_SUITE_PROFILE_POWER))
            s = imbalance_experiment(&S, seed, 0);
        if (s == RCL_OK && c->imbalance && c->nrhos > 0 && (c->imbalance_profiles & RCL_SUITE_PROFILE_EXP))
            s = imbalance_experiment(&S, seed, 1);
        if (s == RCL_OK && c->adversarial)
            s = adversarial_experiment(&S, seed, &clean);
        rcl_dataset_free(&clean);
    }
    if (s == RCL_OK)
        s = report(&S);
    for (int i = 0; i < S.nruns; i++)
        rcl_run_free(&S.runs[i]);
    free(S.runs);
    for (int i = 0; i < 2; i++)
        rcl_dataset_free(&S.source[i]), rcl_dataset_free(&S.source_test[i]);
    rcl_dataset_free(&S.target), rcl_dataset_free(&S.test), rcl_dataset_free(&S.corrupt_test);
    for (int i = 0; i < S.n_ood; i++)
        rcl_dataset_free(&S.ood[i]);
    rcl_session_close(&S.session);
    return s;
}
