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
    rcl_dataset source, source_test, target, test;
    rcl_dataset ood[MAX_OOD];
    const rcl_dataset *ood_ptr[MAX_OOD];
    const char *ood_names[MAX_OOD];
    char ood_name_buf[MAX_OOD][48];
    int n_ood;
    rcl_wrn_config net; /* in shape and arch; classes set per use */
    rcl_run_result *runs;
    int nruns, cap_runs;
    char pretrain_path[2][4400]; /* [adversarial]: one pre-trained model for every seed */
    uint64_t pretrain_hash[2];
    rcl_attack_config adv_train, adv_eval;
    char scores_dir[4200];
} suite;

/* ---- configuration hashes: every input of a stage goes into its key ---- */

static uint64_t base_hash(const rcl_suite_config *c) {
    return rcl_suite_hash(RCL_FNV_INIT, "v1|%s|%s|%s|%d|%d", c->data, c->source_classes, c->target_classes,
                          c->target_per_class, c->test_per_class);
}

/* ---- data ---- */

static rcl_status parse_classes(const char *text, int **classes, int *k) {
    return rcl_parse_class_ranges(text, classes, k);
}

static rcl_status load_classes(const char *spec, int train, const char *classes, rcl_dataset *out) {
    int *cls = NULL, k = 0;
    RCL_TRY(parse_classes(classes, &cls, &k));
    rcl_status s = rcl_dataset_load(spec, train, out);
    if (s == RCL_OK)
        s = rcl_dataset_keep_classes(out, cls, k);
    free(cls);
    return s;
}

/* A copy of the listed images of src (idx NULL: the first n), labels too, so they can be corrupted. */
static rcl_status copy_subset(const rcl_dataset *src, const int *idx, int n, rcl_dataset *out) {
    RCL_TRY(rcl_dataset_alloc(out, n, src->c, src->h, src->w, src->num_classes, 0));
    size_t per = (size_t)src->c * src->h * src->w;
    for (int i = 0; i < n; i++) {
        int j = idx ? idx[i] : i;
        memcpy(out->pixels + (size_t)i * per, src->pixels + (size_t)j * per, per);
        out->labels[i] = src->labels[j];
    }
    snprintf(out->name, sizeof out->name, "%s", src->name);
    snprintf(out->sha256, sizeof out->sha256, "%s", src->sha256);
    return RCL_OK;
}

static rcl_status prepare_data(suite *S) {
    const rcl_suite_config *c = S->c;
    RCL_TRY(load_classes(c->data, 1, c->source_classes, &S->source));
    RCL_TRY(load_classes(c->data, 0, c->source_classes, &S->source_test));
    RCL_TRY(load_classes(c->data, 1, c->target_classes, &S->target));
    RCL_TRY(load_classes(c->data, 0, c->target_classes, &S->test));
    if (!S->source.pixels || !S->target.pixels)
        return rcl_fail(RCL_ERR_INVALID_ARG, "suite: %s is not an image dataset", c->data);
    if (c->pretrain_images > 0 && c->pretrain_images < S->source.n)
        RCL_TRY(rcl_dataset_subset(&S->source, c->pretrain_images, 7));
    RCL_TRY(rcl_suite_cap_per_class(&S->source_test, c->test_per_class, 11));
    RCL_TRY(rcl_suite_cap_per_class(&S->test, c->test_per_class, 13));
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
} run_spec;

/* Scratch: spec §1 init and dropout at lr scratch_lr; pre-trained: this seed's trunk
 * with a new head at lr finetune_lr (Forward/GLC fine-tuning: a head without bias). */
static rcl_status run_one(suite *S, const run_spec *rs) {
    const rcl_suite_config *c = S->c;
    rcl_stage_spec sp = {0};
    sp.dataset = "", sp.experiment = rs->experiment, sp.method = rs->method;
    sp.setting = rs->setting, sp.seed = rs->seed, sp.pretrained = rs->pretrained;
    sp.net = S->net;
    sp.net.num_classes = S->target.num_classes;
    sp.net.dropout = rs->pretrained || rs->adversarial ? 0.0f : (float)c->scratch_dropout; /* spec §4 */
    sp.net.fc_bias = !(rs->noise && rs->pretrained);
    sp.batch = c->batch;
    sp.epochs = rs->pretrained ? c->finetune_epochs : c->scratch_epochs;
    sp.min_steps = rs->adversarial ? c->adv_min_steps : rs->pretrained ? c->finetune_min_steps : c->min_steps;
    sp.lr = rs->pretrained ? c->finetune_lr : c->scratch_lr;
    sp.init_seed = (uint64_t)rs->seed * 1000003u + 1;
    sp.init_path = rs->pretrained ? S->pretrain_path[rs->adversarial] : NULL;
    sp.init_hash = S->pretrain_hash[rs->adversarial];
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
    sp.extra_hash = rcl_suite_hash(base_hash(c), "|%" PRIx64, rs->extra_hash);
    rcl_run_result r;
    RCL_TRY(rcl_stage_run(&S->env, &sp, &r));
    return add_run(S, &r);
}

/* ---- pre-training ---- */

/* One pre-trained model (clean, and adversarial) serves every seed's fine-tuning runs, as the
 * paper fine-tunes its one ImageNet model: the seeds vary the target subset, head and order. */
static rcl_status pretrain(suite *S, int adversarial) {
    const rcl_suite_config *c = S->c;
    int seed = c->seeds[0];
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/stages", S->out);
    RCL_TRY(rcl_mkdirs(dir));
    char id[64];
    snprintf(id, sizeof id, "pretrain%s/seed=%d", adversarial ? "-adversarial" : "", seed);
    rcl_stage_spec sp = {0};
    sp.dataset = "", sp.experiment = "pretrain", sp.method = adversarial ? "pgd" : "normal", sp.seed = seed;
    sp.id = id;
    sp.net = S->net;
    sp.net.num_classes = S->source.num_classes;
    sp.batch = c->batch;
    sp.epochs = c->pretrain_epochs;
    sp.lr = c->pretrain_lr;
    sp.init_seed = (uint64_t)seed * 1000003u + 2;
    sp.train_seed = (uint64_t)seed * 104729u + 3;
    sp.train = &S->source;
    /* PGD training costs (1 + steps) passes an image: the adversarial model may see fewer */
    int n = adversarial && c->adv_pretrain_images > 0 && c->adv_pretrain_images < S->source.n
                ? c->adv_pretrain_images : 0;
    int *first = n ? malloc((size_t)n * sizeof *first) : NULL;
    if (n && !first)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    for (int i = 0; i < n; i++)
        first[i] = i; /* the source set is already a seeded random subset */
    sp.indices = first, sp.count = n;
    sp.adv_train = adversarial ? &S->adv_train : NULL;
    sp.test = &S->source_test;
    /* what pre-training reads: not the target classes or sizes (another target reuses the model) */
    sp.extra_hash = rcl_suite_hash(RCL_FNV_INIT, "pretrain-v2|%s|%s|%d|%d|%d", c->data, c->source_classes,
                                   c->test_per_class, c->pretrain_images, n);
    uint64_t h = rcl_stage_hash(&sp);
    S->pretrain_hash[adversarial] = h;
    char *path = S->pretrain_path[adversarial];
    snprintf(path, sizeof S->pretrain_path[0], "%s/stages/pretrain%s_seed=%d_%016" PRIx64 ".safetensors", S->out,
             adversarial ? "-adversarial" : "", seed, h);
    sp.save_path = path;
    rcl_run_result r;
    rcl_status s = rcl_stage_run(&S->env, &sp, &r);
    if (s == RCL_OK) /* the report shows the source model's test error */
        s = add_run(S, &r);
    free(first);
    return s;
}

/* ---- the experiments ---- */

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
        s = copy_subset(&S->target, idx, n, out);
    free(idx);
    return s;
}

/* spec §5: uniform corruption of strength s; a trusted (gold) fraction for GLC. */
static rcl_status noisy_labels(const rcl_dataset *clean, double strength, double trusted_fraction, uint64_t seed,
                               int32_t *noisy, uint8_t *trusted) {
    rcl_corruption_options o = {RCL_CORRUPT_UNIFORM, strength, trusted_fraction, 0, seed};
    return rcl_noise_corrupt_labels(clean, &o, noisy, trusted, NULL, NULL);
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
            int is_clean = strength == 0 && method == RCL_NOISE_NORMAL;
            s = noisy_labels(clean, strength, fraction, (uint64_t)seed * 977u + (uint64_t)(strength * 1000), labels,
                             trusted);
            rcl_dataset noisy = *clean; /* a view with the corrupted labels */
            noisy.labels = labels;
            rcl_noise_run nr = rcl_noise_run_defaults(method);
            nr.trusted = trusted;
            for (int arm = 0; arm < 2 && s == RCL_OK; arm++) {
                run_spec rs = {is_clean ? "clean" : "noise", rcl_noise_method_name(method), strength, seed, arm,
                               &noisy, NULL, 0, NULL, method == RCL_NOISE_NORMAL ? NULL : &nr, 0, NULL,
                               is_clean, is_clean, (uint64_t)(fraction * 1e6)};
                s = run_one(S, &rs);
            }
        }
    }
    free(labels);
    free(trusted);
    return s;
}

/* spec §6: the power-law profile from the target size down to 1/20 of it ("imbalance",
 * setting gamma), or the CIFAR-LT exponential one ("imbalance-exp", setting rho). */
static rcl_status imbalance_experiment(suite *S, int seed, const rcl_dataset *clean, int exponential) {
    const rcl_suite_config *c = S->c;
    static const rcl_imb_method methods[4] = {RCL_IMB_NORMAL, RCL_IMB_COST_SENSITIVE, RCL_IMB_OVERSAMPLE, RCL_IMB_SMOTE};
    static const int bits[4] = {0, RCL_SUITE_IMB_COST, RCL_SUITE_IMB_OVERSAMPLE, RCL_SUITE_IMB_SMOTE};
    const double *settings = exponential ? c->rhos : c->gammas;
    rcl_status s = RCL_OK;
    for (int gi = 0; gi < (exponential ? c->nrhos : c->ngammas) && s == RCL_OK; gi++) {
        rcl_imb_profile prof = rcl_suite_imb_profile(exponential, c->target_per_class, settings[gi],
                                                     (uint64_t)seed * 31337u);
        rcl_dataset imb = {0};
        if ((s = rcl_imb_make_dataset(clean, &prof, &imb, NULL)) != RCL_OK)
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
                               NULL, 0, plan.is_minority, 0, 0, 0};
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
        run_spec rs = {"adversarial", "pgd", S->c->adv_eps, seed, arm, clean, NULL, 0, NULL, NULL, 1, NULL, 0, 0, 0};
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
    if (s == RCL_OK)
        s = pretrain(&S, 0);
    if (s == RCL_OK && c->adversarial)
        s = pretrain(&S, 1);
    for (int si = 0; si < c->nseeds && s == RCL_OK; si++) {
        rcl_dataset clean = {0};
        s = target_train_set(&S, c->seeds[si], &clean);
        if (s == RCL_OK)
            s = noise_experiment(&S, c->seeds[si], &clean);
        if (s == RCL_OK && c->imbalance && c->ngammas > 0 && (c->imbalance_profiles & RCL_SUITE_PROFILE_POWER))
            s = imbalance_experiment(&S, c->seeds[si], &clean, 0);
        if (s == RCL_OK && c->imbalance && c->nrhos > 0 && (c->imbalance_profiles & RCL_SUITE_PROFILE_EXP))
            s = imbalance_experiment(&S, c->seeds[si], &clean, 1);
        if (s == RCL_OK && c->adversarial)
            s = adversarial_experiment(&S, c->seeds[si], &clean);
        rcl_dataset_free(&clean);
    }
    if (s == RCL_OK)
        s = report(&S);
    for (int i = 0; i < S.nruns; i++)
        rcl_run_free(&S.runs[i]);
    free(S.runs);
    rcl_dataset_free(&S.source), rcl_dataset_free(&S.source_test), rcl_dataset_free(&S.target),
        rcl_dataset_free(&S.test);
    for (int i = 0; i < S.n_ood; i++)
        rcl_dataset_free(&S.ood[i]);
    rcl_session_close(&S.session);
    return s;
}
