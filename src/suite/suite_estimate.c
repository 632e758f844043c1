/* How long `suite mini` will take: its runs' optimizer steps and evaluated images, counted the
 * way suite_run.c runs them, times the net's speed measured on the device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/progress.h"
#include "robustcl/evaluate.h"
#include "robustcl/train.h"
#include "suite_eval.h"
#include "suite_internal.h"

/* Optimizer steps of a run on n images: whole epochs, at least `epochs` and `floor` steps
 * (as suite_stage.c). */
static double run_steps(int n, int batch, int epochs, int floor) {
    int per_epoch = (n + batch - 1) / batch;
    int need = floor > 0 ? (floor + per_epoch - 1) / per_epoch : 0;
    return (double)per_epoch * (need > epochs ? need : epochs);
}

typedef struct {
    double steps, images; /* optimizer steps (training-step equivalents), eval-mode forward images */
    double corrupted;     /* images the corruption row generates (and evaluates, counted in images) */
    double autoattack;    /* forward-image equivalents of the AutoAttack row at most: every image still
                             robust after every attack (attacks stop on the images they fool) */
} cost;

/* Both arms of one run on n training images (factor: training passes, e.g. methods that train
 * twice), the pre-trained arm fine-tuned by `recipe`, each arm evaluated on `evals` images. */
static void both_arms(const rcl_suite_config *c, int n, int recipe, double factor, double evals, cost *t) {
    t->steps += factor * (run_steps(n, c->batch, c->scratch_epochs, c->min_steps) +
                          run_steps(n, c->batch, 1, c->finetune[recipe].min_steps));
    t->images += 2 * evals;
}

/* Images of the imbalanced set of one profile setting. */
static int imbalanced_size(const rcl_suite_config *c, int k, int exp, double setting) {
    rcl_imb_profile p = rcl_suite_imb_profile(exp, c->imbalance_largest, setting, 0);
    int *counts = calloc((size_t)k, sizeof *counts), n = 0;
    if (counts && rcl_imb_profile_counts(&p, k, counts) == RCL_OK)
        for (int j = 0; j < k; j++)
            n += counts[j];
    free(counts);
    return n > 0 ? n : k * c->target_per_class;
}

/* Forward-image equivalents of AutoAttack on one image that every attack leaves robust: APGD ~3
 * forwards a step (a forward and a backward), FAB-T ~4 (and a second forward), Square 1 a query. */
static double autoattack_forwards(const rcl_autoattack_config *a, int k) {
    int targets = a->targets < k - 1 ? a->targets : k - 1; /* as rcl_autoattack_evaluate clamps */
    double total = 0;
    for (int i = 0; i < a->n_attacks; i++) {
        rcl_aa_kind kind = a->attacks[i];
        double per_step = kind == RCL_AA_FAB_T ? 4.0 : 3.0;
        double rounds = kind == RCL_AA_APGD_T || kind == RCL_AA_FAB_T ? targets : 1;
        total += kind == RCL_AA_SQUARE ? a->queries : per_step * a->iters * a->restarts * rounds;
    }
    return total;
}

/* One seed's pre-training: the first source, the class-excluded one (unless it is the first),
 * the adversarial model. */
static void pretrain_work(const rcl_suite_config *c, const int n_source[2], int n_source_test, cost *t) {
    double adv = 1 + c->adv_train_steps; /* a PGD step costs about a training step */
    int first = c->source;
    for (int src = 0; src < 2; src++)
        if (src == first || src == RCL_SUITE_SOURCE_EXCLUDED) {
            t->steps += run_steps(n_source[src], c->batch, c->pretrain_epochs, c->pretrain_min_steps);
            t->images += n_source_test;
        }
    if (c->adversarial) {
        int n = c->adv_pretrain_images > 0 && c->adv_pretrain_images < n_source[first] ? c->adv_pretrain_images
                                                                                       : n_source[first];
        t->steps += adv * run_steps(n, c->batch, c->pretrain_epochs, c->adv_min_steps);
        t->images += n_source_test;
    }
}

static cost count_work(const rcl_suite_config *c, int k, const int n_source[2], int n_source_test, int n_test) {
    cost t = {0, 0, 0, 0};
    int n_target = k * c->target_per_class, corr[RCL_CORRUPTED_NAMES];
    /* the corruption row: both clean arms, each corruption at 5 severities of the subset */
    int n_corrupt = c->corrupt_per_class * k < n_test ? c->corrupt_per_class * k : n_test; /* 0: no row */
    double corrupted = (double)n_corrupt * RCL_SEVERITIES * rcl_suite_corruptions(corr);
    double adv = 1 + c->adv_train_steps;
    int methods = 1 + !!(c->noise_methods & RCL_SUITE_NOISE_FORWARD) + !!(c->noise_methods & RCL_SUITE_NOISE_GLC);
    double clean_evals = n_test * (4.0 + (c->ood[0] ? 1 : 0)); /* test set, 3 synthetic OOD sets, extras */
    for (int si = 0; si < c->nseeds; si++) {
        pretrain_work(c, n_source, n_source_test, &t);
        both_arms(c, n_target, RCL_SUITE_RECIPE_NOISE, 1, clean_evals + corrupted, &t);
        t.corrupted += 2 * corrupted;
        t.steps += run_steps(n_target, c->batch, 1, c->finetune[RCL_SUITE_RECIPE_UNCERTAINTY].min_steps);
        t.images += clean_evals;
        for (int ni = 0; ni < c->nnoise; ni++)
            if (c->noise[ni] > 0) { /* Forward and GLC train twice: to estimate C, then corrected */
                both_arms(c, n_target, RCL_SUITE_RECIPE_NOISE, 1, n_test, &t);
                both_arms(c, n_target, RCL_SUITE_RECIPE_CORRECTED, 2.0 * (methods - 1),
                          n_test * (methods - 1) + n_target * (methods - 1), &t);
            }
        int imb_methods = 1 + !!(c->imbalance_methods & RCL_SUITE_IMB_COST) +
                          !!(c->imbalance_methods & RCL_SUITE_IMB_OVERSAMPLE) +
                          !!(c->imbalance_methods & RCL_SUITE_IMB_SMOTE);
        for (int exp = 0; exp < 2 && c->imbalance; exp++)
            for (int i = 0; (c->imbalance_profiles & (exp ? RCL_SUITE_PROFILE_EXP : RCL_SUITE_PROFILE_POWER)) &&
                            i < (exp ? c->nrhos : c->ngammas); i++)
                both_arms(c, imbalanced_size(c, k, exp, exp ? c->rhos[i] : c->gammas[i]), RCL_SUITE_RECIPE_IMBALANCE,
                          imb_methods, (double)n_test * imb_methods, &t);
        if (c->adversarial) { /* PGD evaluation: a forward and a backward (~3 forwards) per step */
            t.steps += adv * (run_steps(n_target, c->batch, 1, c->adv_min_steps) +
                              run_steps(n_target, c->batch, 1, c->finetune[RCL_SUITE_RECIPE_ADVERSARIAL].min_steps));
            t.images += 2 * n_test * (2.0 + 3.0 * c->adv_eval_steps);
            double n_aa = c->autoattack_n < n_test ? c->autoattack_n : n_test;
            t.autoattack += 2 * n_aa * autoattack_forwards(&c->autoattack, k);
        }
    }
    return t;
}

/* The counts of images the suite works with (as prepare_data selects them) and the net it trains. */
static rcl_status data_counts(const rcl_suite_config *c, int *k, int n_source[2], int *n_source_test, int *n_test,
                              rcl_wrn_config *net) {
    rcl_dataset src = {0}, tst = {0};
    char spec[1400];
    int *cls = NULL;
    RCL_TRY(rcl_parse_class_ranges(c->target_classes, &cls, k));
    free(cls);
    snprintf(spec, sizeof spec, "%s,classes=%s", c->data, c->source_classes);
    RCL_TRY(rcl_dataset_load(spec, 1, &src));
    snprintf(spec, sizeof spec, "%s,classes=%s", c->data, c->target_classes);
    RCL_TRY(rcl_dataset_load(spec, 1, &tst));
    n_source[RCL_SUITE_SOURCE_EXCLUDED] = src.n;
    n_source[RCL_SUITE_SOURCE_COVERING] = src.n + tst.n - *k * c->target_pool;
    for (int i = 0; i < 2; i++)
        if (c->pretrain_images > 0 && c->pretrain_images < n_source[i])
            n_source[i] = c->pretrain_images;
    rcl_status s = rcl_wrn_config_make(c->arch, src.c, src.h, src.w, *k > 2 ? *k : 2, net);
    rcl_dataset_free(&src), rcl_dataset_free(&tst);
    RCL_TRY(s);
    snprintf(spec, sizeof spec, "%s,classes=%s,split=test", c->data, c->target_classes);
    RCL_TRY(rcl_dataset_load(spec, 0, &tst));
    *n_test = c->test_per_class > 0 && c->test_per_class * *k < tst.n ? c->test_per_class * *k : tst.n;
    *n_source_test = *n_test; /* the source test split is capped the same way; a close enough count */
    rcl_dataset_free(&tst);
    return RCL_OK;
}

/* Seconds to generate one corrupted image: every corruption of the row at severity 3 of a few test
 * images (the generator runs on the host, not on the device). */
static rcl_status corrupt_speed(const rcl_suite_config *c, double *seconds) {
    rcl_dataset few = {0}, out;
    char spec[1400];
    int corr[RCL_CORRUPTED_NAMES], n = rcl_suite_corruptions(corr);
    snprintf(spec, sizeof spec, "%s,classes=%s,split=test,n=20", c->data, c->target_classes);
    RCL_TRY(rcl_dataset_load(spec, 0, &few));
    rcl_corrupt_options o = {c->corrupt_seed, NULL};
    rcl_status s = RCL_OK;
    double t0 = rcl_now();
    for (int i = 0; i < n && s == RCL_OK; i++)
        if ((s = rcl_corrupt_dataset(&few, corr[i], 3, &o, &out)) == RCL_OK)
            rcl_dataset_free(&out);
    *seconds = n > 0 && few.n > 0 ? (rcl_now() - t0) / ((double)n * few.n) : 0;
    rcl_dataset_free(&few);
    return s;
}

rcl_status rcl_suite_estimate(const rcl_suite_config *c, FILE *f) {
    int k, n_source[2], n_source_test, n_test;
    rcl_wrn_config net;
    RCL_TRY(data_counts(c, &k, n_source, &n_source_test, &n_test, &net));
    rcl_run_config defaults;
    if (!c->run)
        rcl_run_config_init(&defaults, 0, NULL);
    rcl_session session;
    RCL_TRY(rcl_session_open(c->run ? c->run : &defaults, NULL, &session));
    rcl_device *d = session.device;
    fprintf(f, "images: %d class-covering and %d class-excluded source (pre-training), %d target classes x %d "
               "training, %d target test, about %d source test\n", n_source[RCL_SUITE_SOURCE_COVERING],
            n_source[RCL_SUITE_SOURCE_EXCLUDED], k, c->target_per_class, n_test, n_source_test);
    double step_s = 0, fwd = 0, corrupt_s = 0;
    rcl_status s = rcl_measure_speed(d, &net, c->batch, 20, &step_s, &fwd);
    if (s == RCL_OK && c->corrupt_per_class > 0)
        s = corrupt_speed(c, &corrupt_s);
    if (s == RCL_OK) {
        cost t = count_work(c, k, n_source, n_source_test, n_test);
        double seconds = t.steps * step_s + t.images / fwd + t.corrupted * corrupt_s;
        char corrupt[96] = "";
        if (t.corrupted > 0)
            snprintf(corrupt, sizeof corrupt, " + %.0f corrupted images generated at %.0f/s", t.corrupted,
                     corrupt_s > 0 ? 1 / corrupt_s : 0);
        fprintf(f, "estimate on %s: %.0f optimizer steps x %.1f ms + %.0f evaluated images at %.0f/s%s = %.0f min "
                   "(measured now on random data; evaluation and start-up add a little)\n",
                rcl_device_get_info(d)->name, t.steps, 1e3 * step_s, t.images, fwd, corrupt, ceil(seconds / 60));
        if (t.autoattack > 0)
            fprintf(f, "AutoAttack row: at most %.0f more min (%.0f forward-image equivalents, were every image "
                       "robust to the last query; its attacks stop on the images they fool)\n",
                    ceil(t.autoattack / fwd / 60), t.autoattack);
    }
    rcl_session_close(&session);
    return s;
}
