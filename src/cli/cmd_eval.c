#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "robustcl/adversarial.h"
#include "robustcl/autoattack.h"
#include "robustcl/checkpoint.h"
#include "robustcl/evaluate.h"

#define MAX_OOD_SETS 64
#define MAX_SWEEP 64

/* One evaluated dataset: its images and the model's logits on them. */
typedef struct {
    rcl_dataset ds;
    float *logits;
} evaluated;

static rcl_status evaluate_set(rcl_model *m, int classes, const rcl_normalization *norm, evaluated *e,
                               double *error) {
    e->logits = malloc((size_t)e->ds.n * classes * sizeof *e->logits);
    if (!e->logits)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for the logits of %d images of %s", e->ds.n, e->ds.name);
    return rcl_evaluate(m, &e->ds, NULL, 0, norm, e->logits, error);
}

static rcl_logit_set logit_set(const evaluated *e, int classes) {
    rcl_logit_set l = {e->ds.name, e->logits, e->ds.labels, e->ds.n, classes};
    return l;
}

/* What `robustcl eval` was asked to do. */
typedef struct {
    const char *model, *data, *json, *logits_path, *scores_path, *val, *corruptions, *baseline, *corrupt_list;
    rcl_corrupt_options corrupt_opt;
    char *ood_specs[MAX_OOD_SETS];
    int n_ood, batch, seed, calibration, attack, nsweep, norm_given;
    int corrupt[RCL_CORRUPTED_NAMES], n_corrupt; /* --corrupt */
    double sweep_eps[MAX_SWEEP];
    rcl_normalization asked;
    rcl_attack_config atk;
    rcl_autoattack_config aa; /* --attack autoattack[:...] */
    int autoattack;
    rcl_ood_config ood_cfg;
    rcl_calib_config cal_cfg;
} eval_options;

/* --ood: a ';'-separated list of specs (empty parts skipped), added to those given before. */
static int add_ood_specs(rcl_args *a, const rcl_cli_option *opt, const char *value) {
    eval_options *o = opt->ptr;
    const char *p = value;
    if (!value[strspn(value, ";")])
        return rcl_cli_usage(a->cmd, "--ood: no dataset spec in '%s'", value);
    while (*p) {
        size_t len = strcspn(p, ";");
        if (len) {
            rcl_dataset_spec spec;
            if (o->n_ood == MAX_OOD_SETS)
                return rcl_cli_usage(a->cmd, "--ood: more than %d sets", MAX_OOD_SETS);
            if (!(o->ood_specs[o->n_ood] = malloc(len + 1)))
                return rcl_cli_usage(a->cmd, "--ood: out of memory");
            memcpy(o->ood_specs[o->n_ood], p, len);
            o->ood_specs[o->n_ood][len] = 0;
            if (rcl_dataset_spec_parse(o->ood_specs[o->n_ood++], &spec) != RCL_OK)
                return rcl_cli_usage(a->cmd, "--ood: %s", rcl_last_error());
        }
        p += len + (p[len] == ';');
    }
    return 0;
}

static int parse_attack(rcl_args *a, const rcl_cli_option *opt, const char *v) {
    eval_options *o = opt->ptr;
    o->autoattack = rcl_autoattack_is_spec(v);
    if ((o->autoattack ? rcl_autoattack_parse(v, &o->aa) : rcl_attack_parse(v, &o->atk)) != RCL_OK)
        return rcl_cli_usage(a->cmd, "--attack: %s", rcl_last_error());
    return 0;
}

static int parse_sweep(rcl_args *a, const rcl_cli_option *opt, const char *v) {
    eval_options *o = opt->ptr;
    if (rcl_attack_parse_eps_list(v, o->sweep_eps, MAX_SWEEP, &o->nsweep) != RCL_OK)
        return rcl_cli_usage(a->cmd, "--attack-sweep: %s", rcl_last_error());
    return 0;
}

static int parse_corrupt(rcl_args *a, const rcl_cli_option *opt, const char *v) {
    eval_options *o = opt->ptr;
    if (rcl_corrupt_parse(v, o->corrupt, &o->n_corrupt) != RCL_OK)
        return rcl_cli_usage(a->cmd, "--corrupt: %s", rcl_last_error());
    o->corrupt_list = v;
    return 0;
}

static int parse_normalize(rcl_args *a, const rcl_cli_option *opt, const char *v) {
    if (rcl_normalization_parse(v, opt->ptr) != RCL_OK)
        return rcl_cli_usage(a->cmd, "--normalize: %s", rcl_last_error());
    return 0;
}

static void eval_options_free(eval_options *o) {
    for (int i = 0; i < o->n_ood; i++)
        free(o->ood_specs[i]);
}

static const char usage[] =
    "usage: robustcl eval --model CKPT [--data SPEC] [options]\n\n"
    "Evaluates a checkpoint (eval mode: BN running statistics, no dropout): top-1 error and\n"
    "per-class error; with options, OOD detection (spec §8), calibration (spec §9), adversarial\n"
    "accuracy (spec §7) and the error under common corruptions (spec §12).\n\n";

/* The options into o (freed by eval_options_free also after a failure): 0, or 1 with the exit
 * status in *rc (help, usage error). */
static int parse(int argc, char **argv, eval_options *o, int *rc) {
    int textbook = !o->cal_cfg.paper_mode;
    const rcl_cli_option opts[] = {
        RCL_CLI_STRING("--model", "FILE", &o->model, "a robustcl checkpoint (.safetensors)"),
        RCL_CLI_DATASET("--data", &o->data,
                        "labelled test data = the in-distribution set (default: the test split of\nfashion-mnist)"),
        RCL_CLI_INT("--batch", "N", &o->batch, 1, 65536,
                    "images per forward pass (default 256: evaluation keeps no activations for a\n"
                    "backward, so twice train's 128 fits; the results do not depend on it)"),
        RCL_CLI_STRING("--json", "FILE", &o->json,
                       "results as JSON (with provenance; \"ood\" and \"calibration\" objects when asked)"),
        RCL_CLI_STRING("--dump-logits", "FILE", &o->logits_path,
                       "raw logits: little-endian float32 [N, classes], row i = image i"),
        RCL_CLI_DEVICE("P:D or a name substring (default $ROBUSTCL_DEVICE, first GPU, first device)"),
        RCL_CLI_FORCE("evaluate even on a device whose self-test failed"),
        RCL_CLI_CONV_ALGO,
        {.kind = RCL_OPT_CALL, .name = "--normalize", .metavar = "N", .fn = parse_normalize, .ptr = &o->asked,
         .given = &o->norm_given,
         .help = "input normalisation: half | cifar | M1,M2,M3/S1,S2,S3 (default: the one stored\n"
                 "in the checkpoint; 0.5/0.5 for checkpoints without it); one that differs from\n"
                 "the checkpoint's is used, with a warning on stderr"},
        RCL_CLI_TEXT("\nOOD detection: score = -max softmax (MSP), OOD positive; AUROC, AUPR (average precision),\n"
                     "FPR at 95% recall (paper variant: nearest recall, and first TPR >= 95%). Each OOD set is\n"
                     "drawn N times (test size / 5 images each, without replacement) against the whole test set "
                     "and\nthe measures averaged; a set of at most that size is used whole, once "
                     "(\"used_whole\").\n"),
        RCL_CLI_CALL("--ood", "SPEC[;SPEC...]", add_ood_specs, o,
                     "OOD sets, ';'-separated (the option may also be repeated). Dataset specs\n"
                     "as for --data (test split by default); gaussian, rademacher and blobs take\n"
                     "the test set's shape and count (their own seed with ,seed=N)"),
        RCL_CLI_INT("--draws", "N", &o->ood_cfg.draws, 1, 1000, "draws per OOD set (default 5)"),
        RCL_CLI_INT("--seed", "N", &o->seed, 0, 2147483647,
                    "seed of the draws and of --corrupt's corruptions (default 0)"),
        RCL_CLI_TEXT("\nCalibration: confidence = max softmax(z/T); RMS and MAD with adaptive bins of 100 (paper: "
                     "the\nlast bin is skipped but N still divides; textbook: every bin; both are reported), ECE "
                     "(15\nbins), AURRA, NLL, 15 reliability-diagram bins, at T = 1 and at the tuned T.\n"),
        RCL_CLI_FLAG("--calibration", &o->calibration, "evaluate calibration on the test set"),
        {.kind = RCL_OPT_CALL, .name = "--val", .metavar = "SPEC", .fn = rcl_cli_dataset, .ptr = &o->val,
         .given = &o->calibration,
         .help = "labelled validation data (train split by default; hold it out of\n"
                 "training) to tune T by bisection on [0.2, 5]; implies --calibration"},
        {.kind = RCL_OPT_CHOICE, .name = "--calibration-mode", .metavar = "paper|textbook", .ptr = &textbook,
         .choices = "paper|textbook", .given = &o->calibration,
         .help = "headline RMS/MAD: paper (default) = T = 1, last bin skipped (Table 5);\n"
                 "textbook = the tuned T, every bin; implies --calibration"},
        RCL_CLI_TEXT("\n"),
        {.kind = RCL_OPT_CALL, .name = "--attack", .metavar = "SPEC", .fn = parse_attack, .ptr = o,
         .given = &o->attack,
         .help = "accuracy under an attack on the test set (spec §7), pixel space\n"
                 "[0,1], the input normalisation above: pgd|fgsm[:KEY=VALUE,...] with keys\n"
                 "eps=8/255 step=2/255 steps=20 restarts=1 start=random|none\n"
                 "mode=textbook|paper loss=ce|margin seed=N bn=auto|eval|train\n"
                 "(default pgd: eps 8/255, step 2/255, 20 steps, random start, textbook, ce);\n"
                 "or AutoAttack (spec §7.4): autoattack[:KEY=VALUE,...] with keys eps=8/255\n"
                 "(norm=l2: eps=0.5) norm=linf|l2 (the ball; pgd and fgsm are L-inf)\n"
                 "version=standard|rand n=N (the first N test images; default all)\n"
                 "seed=N iters=100 restarts=1 targets=9 queries=5000\n"
                 "attacks=apgd-ce+apgd-t+square (a custom list of apgd-ce, apgd-t, apgd-dlr,\n"
                 "fab-t, square); standard = apgd-ce, apgd-t, fab-t, square (either norm),\n"
                 "rand = apgd-ce, apgd-dlr with 5 restarts; robust accuracy after each attack"},
        RCL_CLI_CALL("--attack-sweep", "LIST", parse_sweep, o,
                     "accuracy vs eps: the --attack settings (default pgd) at each radius of the\n"
                     "comma-separated LIST (numbers or a/b, e.g. 0,1/255,2/255,4/255,8/255,16/255),\n"
                     "the PGD step scaled with eps (step/eps of --attack); prints a table (eps,\n"
                     "accuracy, max |x_adv - x|, zero-gradient images) and writes\n"
                     "\"adversarial_sweep\" into --json instead of \"adversarial\""),
        RCL_CLI_TEXT("\nCommon corruptions (spec §12): the error at each of the 5 severities of each corruption,\n"
                     "the mean corruption error over the 15 standard ones found (the 4 extra ones apart).\n"),
        RCL_CLI_STRING("--corruptions", "DIR",
                       &o->corruptions,
                       "a released CIFAR-10-C / CIFAR-100-C folder: NAME.npy (uint8 [5*N, H, W, C],\n"
                       "severities 1-5 stacked) for each corruption there, and labels.npy; --data\n"
                       "is then the clean test set of the same images"),
        RCL_CLI_CALL("--corrupt", "all|NAME[,NAME]", parse_corrupt, o,
                     "the same on corruptions generated from --data (each at the 5 severities;\n"
                     "CIFAR-10-C's parameters up to 32x32 images, ImageNet-C's above; --seed sets\n"
                     "their draws): any of spec §12's 19, the 15 standard ones and the 4\n"
                     "extra ones (speckle_noise, gaussian_blur, spatter, saturate); frost needs\n"
                     "--frost"),
        RCL_CLI_STRING("--frost", "DIR", &o->corrupt_opt.frost_dir,
                       "the references' frost1.png .. frost5.jpg, which frost blends in (without\n"
                       "it, --corrupt all leaves frost out)"),
        RCL_CLI_STRING("--baseline", "CKPT|JSON",
                       &o->baseline,
                       "a baseline checkpoint (evaluated here on the same images and corruptions)\n"
                       "or the --json of its earlier eval: adds Hendrycks & Dietterich's mCE (errors\n"
                       "/ the baseline's) and relative mCE ((error - clean) / the baseline's); needs\n"
                       "--corruptions or --corrupt"),
        RCL_CLI_TEXT("\n"),
        RCL_CLI_STRING("--dump-scores", "FILE", &o->scores_path,
                       "per-sample scores, tab-separated text with one header line:\n"
                       "  set name draw index label predicted confidence confidence_t msp_score correct\n"
                       "set = id (the test set: draw 0, every image in order) or oodS (the S-th\n"
                       "--ood set, 0-based; one block per draw, draw 0..N-1, indices ascending);\n"
                       "name = the dataset's name; index = image index in that set; label and\n"
                       "correct are -1 in OOD rows; predicted = argmax; confidence = max\n"
                       "softmax(z); confidence_t = max softmax(z/T) at the tuned T (= confidence\n"
                       "without --val); msp_score = -confidence; reals printed with 17 digits;\n"
                       "with --attack autoattack a last column autoattack: robust, misclassified\n"
                       "(clean), the attack that fooled the image first, or - (not attacked)"),
    };
    const rcl_cli_spec spec = {"eval", usage, opts, RCL_CLI_COUNT(opts), 23, NULL, NULL};
    if (rcl_cli_parse(&spec, argc, argv, rc))
        return 1;
    o->cal_cfg.paper_mode = !textbook;
    o->ood_cfg.seed = (uint64_t)o->seed;
    if (!o->model)
        return *rc = rcl_cli_usage("eval", "--model is required"), 1;
    if (o->baseline && !o->corruptions && !o->n_corrupt)
        return *rc = rcl_cli_usage("eval", "--baseline: compares corruption results, give --corruptions or --corrupt"), 1;
    o->corrupt_opt.seed = (uint64_t)o->seed;
    if (o->corrupt_list && rcl_corrupt_select(o->corrupt_list, o->corrupt_opt.frost_dir, o->corrupt, &o->n_corrupt))
        return *rc = rcl_cli_usage("eval", "--corrupt: %s", rcl_last_error()), 1;
    if (o->corruptions && o->n_corrupt)
        return *rc = rcl_cli_usage("eval", "--corrupt: evaluates generated corruptions, --corruptions released ones: "
                                   "give one of them"), 1;
    if (o->nsweep && o->autoattack)
        return *rc = rcl_cli_usage("eval", "--attack-sweep: sweeps PGD or FGSM, not autoattack"), 1;
    if (o->nsweep && o->atk.kind == RCL_ATTACK_PGD && !(o->atk.eps > 0))
        return *rc = rcl_cli_usage("eval", "--attack-sweep: the --attack eps sets the step/eps ratio, so it must be > 0"),
               1;
    return 0;
}

/* One evaluation's data, model and results. */
typedef struct {
    rcl_wrn_config cfg; /* the checkpoint's */
    int K;              /* classes of the model */
    evaluated test, valset, ood[MAX_OOD_SETS];
    rcl_logit_set id, ood_ls[MAX_OOD_SETS];
    rcl_session s; /* the device, the model and its input normalisation */
    double err;
    int *per_n, *per_wrong; /* per class: test images, errors */
    rcl_ood_report ood_rep;
    rcl_calib_report cal_rep;
    rcl_attack_config atk; /* --attack with the input normalisation */
    rcl_adv_result adv, *sweep;
    rcl_autoattack_result aa;
    rcl_corrupted_report corr;
} evaluation;

/* The checkpoint's configuration: what the data must match. */
static rcl_status read_model(const eval_options *o, evaluation *ev) {
    RCL_TRY(rcl_checkpoint_read_config(o->model, &ev->cfg));
    ev->K = ev->cfg.num_classes;
    return RCL_OK;
}

/* The test set: the model's input shape, at most its classes, labelled when an evaluation needs
 * labels. */
static rcl_status load_test(const eval_options *o, evaluation *ev) {
    const rcl_wrn_config *cfg = &ev->cfg;
    const rcl_dataset *t = &ev->test.ds;
    RCL_TRY(rcl_dataset_load(o->data, 0, &ev->test.ds));
    if (t->c != cfg->in_c || t->h != cfg->in_h || t->w != cfg->in_w)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: trained on %dx%dx%d inputs, %s is %dx%dx%d", o->model, cfg->in_c,
                        cfg->in_h, cfg->in_w, t->name, t->c, t->h, t->w);
    if (t->labels && t->num_classes > ev->K)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: has %d classes, %s has %d", o->model, ev->K, t->name,
                        t->num_classes);
    if ((o->calibration || o->attack || o->nsweep || o->corruptions || o->n_corrupt) && (!t->labels || t->n < 1 || t->labels[0] < 0))
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %s is unlabelled",
                        o->calibration ? "--calibration" : o->nsweep ? "--attack-sweep" : o->attack ? "--attack"
                                                                                                  : "--corruptions/--corrupt",
                        t->name);
    return RCL_OK;
}

/* The --ood sets (shaped like the test set where synthetic) and the --val set. */
static rcl_status load_others(const eval_options *o, evaluation *ev) {
    const rcl_wrn_config *cfg = &ev->cfg;
    for (int i = 0; i < o->n_ood; i++) {
        const rcl_dataset *ds = &ev->ood[i].ds;
        RCL_TRY(rcl_dataset_load_like(o->ood_specs[i], 0, &ev->test.ds, &ev->ood[i].ds));
        if (ds->c != cfg->in_c || ds->h != cfg->in_h || ds->w != cfg->in_w)
            return rcl_fail(RCL_ERR_INVALID_ARG,
                            "--ood %s: images are %dx%dx%d, the model takes %dx%dx%d (size=, channels=)",
                            o->ood_specs[i], ds->c, ds->h, ds->w, cfg->in_c, cfg->in_h, cfg->in_w);
    }
    int found;
    if (o->corruptions)
        RCL_TRY(rcl_corrupted_scan(o->corruptions, &found));
    const rcl_dataset *v = &ev->valset.ds;
    if (!o->val)
        return RCL_OK;
    RCL_TRY(rcl_dataset_load(o->val, 1, &ev->valset.ds));
    if (!v->labels || v->labels[0] < 0 || v->num_classes > ev->K)
        return rcl_fail(RCL_ERR_INVALID_ARG, "--val: %s must be labelled with at most the model's %d classes",
                        v->name, ev->K);
    return RCL_OK;
}
static void print_ood(const rcl_ood_report *r) {
    for (int s = 0; s < r->n_sets; s++) {
        const rcl_ood_set_result *e = &r->sets[s];
        printf("OOD %s: AUROC %.2f%% AUPR %.2f%% FPR95 %.2f%% (%s)\n", e->name, 100 * e->mean.auroc,
               100 * e->mean.aupr, 100 * e->mean.fpr_paper, e->used_whole ? "used whole, once" : "mean of draws");
    }
    printf("OOD mean over %d set%s: AUROC %.2f%% AUPR %.2f%% FPR95 %.2f%%\n", r->n_sets, r->n_sets == 1 ? "" : "s",
           100 * r->mean.auroc, 100 * r->mean.aupr, 100 * r->mean.fpr_paper);
}

static void print_sweep(const rcl_attack_config *base, const rcl_adv_result *r, int n) {
    char spec[256];
    printf("accuracy vs eps, %s (clean accuracy %.2f%%, %d images):\n", rcl_attack_describe(base, spec, sizeof spec),
           100 * r[0].clean_accuracy, r[0].count);
    printf("%12s %10s %12s %14s\n", "eps", "accuracy%", "max|x_adv-x|", "zero-gradient");
    for (int i = 0; i < n; i++)
        printf("%12.6f %10.2f %12.6f %14ld\n", r[i].cfg.eps, 100 * r[i].adv_accuracy, r[i].max_linf, r[i].zero_grad);
}

static void print_calibration(const rcl_calib_report *r) {
    printf("calibration (%s mode, T = %.4g): RMS %.2f%% MAD %.2f%% ECE %.2f%% AURRA %.2f%%",
           r->paper_mode ? "paper" : "textbook", r->T_used, 100 * r->rms, 100 * r->mad, 100 * (r->paper_mode ? r->at_1.ece : r->at_T.ece),
           100 * (r->paper_mode ? r->at_1.aurra : r->at_T.aurra));
    if (r->tuned)
        printf("; tuned T = %.4f", r->T);
    printf("\n");
}


/* The device (self-test gate), the checkpoint's model on it and its input normalisation
 * (--normalize's, with a warning, when it differs). */
static rcl_status open_model(const eval_options *o, evaluation *ev) {
    rcl_session_spec spec = {.gate = 1, .checkpoint = o->model, .batch = o->batch,
                             .norm = o->norm_given ? &o->asked : NULL};
    return rcl_session_open(rcl_cli_run(), &spec, &ev->s);
}

/* Top-1 error and, on labelled data, the error of each class. */
static rcl_status evaluate_test(const eval_options *o, evaluation *ev) {
    int K = ev->K;
    const rcl_dataset *t = &ev->test.ds;
    ev->per_n = calloc((size_t)K, sizeof *ev->per_n);
    ev->per_wrong = calloc((size_t)K, sizeof *ev->per_wrong);
    if (!ev->per_n || !ev->per_wrong)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for %d classes", K);
    RCL_TRY(evaluate_set(ev->s.model, K, &ev->s.norm, &ev->test, &ev->err));
    ev->id = logit_set(&ev->test, K);
    if (!t->labels || t->labels[0] < 0)
        return RCL_OK;
    for (int i = 0; i < t->n; i++) {
        const float *row = ev->test.logits + (size_t)i * K;
        int best = 0;
        for (int k = 1; k < K; k++)
            if (row[k] > row[best])
                best = k;
        ev->per_n[t->labels[i]]++;
        ev->per_wrong[t->labels[i]] += best != t->labels[i];
    }
    printf("%s on %s: error %.2f%% (accuracy %.2f%%), %d images\n", o->model, t->name, 100 * ev->err,
           100 * (1 - ev->err), t->n);
    printf("per-class error %%:");
    for (int k = 0; k < K; k++)
        printf(" %d:%.1f", k, ev->per_n[k] ? 100.0 * ev->per_wrong[k] / ev->per_n[k] : 0.0);
    printf("\n");
    return RCL_OK;
}

static rcl_status evaluate_ood(const eval_options *o, evaluation *ev) {
    for (int i = 0; i < o->n_ood; i++) {
        RCL_TRY(evaluate_set(ev->s.model, ev->K, &ev->s.norm, &ev->ood[i], NULL));
        ev->ood_ls[i] = logit_set(&ev->ood[i], ev->K);
        ev->ood_ls[i].labels = NULL; /* another label space: no label or correctness in the dump */
    }
    if (!o->n_ood)
        return RCL_OK;
    RCL_TRY(rcl_ood_evaluate(&ev->id, ev->ood_ls, o->n_ood, &o->ood_cfg, &ev->ood_rep));
    print_ood(&ev->ood_rep);
    return RCL_OK;
}

static rcl_status evaluate_calibration(const eval_options *o, evaluation *ev) {
    if (o->val)
        RCL_TRY(evaluate_set(ev->s.model, ev->K, &ev->s.norm, &ev->valset, NULL));
    if (!o->calibration)
        return RCL_OK;
    rcl_logit_set val_ls = logit_set(&ev->valset, ev->K);
    RCL_TRY(rcl_calib_evaluate(&ev->id, o->val ? &val_ls : NULL, &o->cal_cfg, &ev->cal_rep));
    print_calibration(&ev->cal_rep);
    return RCL_OK;
}

static void print_autoattack(const rcl_autoattack_result *r) {
    char spec[512];
    printf("%s on %d images: clean accuracy %.2f%%\n", rcl_autoattack_describe(&r->cfg, spec, sizeof spec), r->count,
           100 * r->clean_accuracy);
    printf("  %-10s %16s %10s\n", "attack", "robust accuracy", "seconds");
    for (int a = 0; a < r->cfg.n_attacks; a++)
        printf("  %-10s %15.2f%% %10.1f\n", rcl_aa_kind_name(r->cfg.attacks[a]),
               r->count ? 100.0 * r->robust_after[a] / r->count : 0, r->seconds_of[a]);
    printf("AutoAttack robust accuracy %.2f%% (%s, %s); max |x_adv - x|%s %.4f\n", 100 * r->robust_accuracy,
           r->cfg.rand_version ? "rand" : "standard", r->cfg.l2 ? "L2" : "L-inf", r->cfg.l2 ? "_2" : "",
           r->cfg.l2 ? r->max_l2 : r->max_linf);
}

/* --attack autoattack[:...] on the test set. */
static rcl_status evaluate_autoattack(const eval_options *o, evaluation *ev) {
    rcl_autoattack_config cfg = o->aa;
    cfg.norm = ev->s.norm;
    rcl_classifier f = rcl_model_classifier(ev->s.model);
    RCL_TRY(rcl_autoattack_evaluate(&f, &ev->test.ds, NULL, 0, &cfg, &ev->aa));
    print_autoattack(&ev->aa);
    return RCL_OK;
}

/* --attack-sweep, or else --attack, in the input normalisation. */
static rcl_status evaluate_adversarial(const eval_options *o, evaluation *ev) {
    rcl_attack_config atk = o->atk;
    rcl_normalization norm = ev->s.norm;
    atk.norm = norm;
    ev->atk = atk;
    int nsweep = o->nsweep;
    if (nsweep) {
        if (!(ev->sweep = calloc((size_t)nsweep, sizeof *ev->sweep)))
            return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for the sweep");
        RCL_TRY(rcl_adv_sweep(ev->s.model, &ev->test.ds, NULL, 0, &atk, o->sweep_eps, nsweep, ev->sweep));
        print_sweep(&atk, ev->sweep, nsweep);
    } else if (o->autoattack) {
        RCL_TRY(evaluate_autoattack(o, ev));
    } else if (o->attack) {
        rcl_adv_result *adv = &ev->adv;
        RCL_TRY(rcl_adv_evaluate(ev->s.model, &ev->test.ds, NULL, 0, &atk, adv));
        printf("attack %s (%s): accuracy %.2f%% clean, %.2f%% adversarial; max |x_adv - x| %.4f\n",
               atk.kind == RCL_ATTACK_FGSM ? "fgsm" : "pgd", rcl_attack_mode_name(atk.mode),
               100 * adv->clean_accuracy, 100 * adv->adv_accuracy, adv->max_linf);
    }
    return RCL_OK;
}

/* --corruptions or --corrupt of model m on the test set, whose clean error is `clean`. */
static rcl_status corruptions_of(const eval_options *o, const evaluation *ev, rcl_model *m,
                                 const rcl_normalization *norm, double clean, rcl_corrupted_report *r) {
    if (o->n_corrupt)
        return rcl_corrupted_evaluate_generated(m, norm, &ev->test.ds, o->corrupt, o->n_corrupt, &o->corrupt_opt,
                                                clean, r);
    return rcl_corrupted_evaluate(m, norm, o->corruptions, clean, r);
}

/* --baseline: a checkpoint, evaluated here on the same test set and corruptions (with its own
 * input normalisation), or the --json of its earlier evaluation. */
static rcl_status baseline_report(const eval_options *o, const evaluation *ev, rcl_corrupted_report *base) {
    rcl_wrn_config cfg;
    if (rcl_checkpoint_read_config(o->baseline, &cfg) != RCL_OK)
        return rcl_corrupted_report_read(o->baseline, base);
    if (ev->test.ds.num_classes > cfg.num_classes)
        return rcl_fail(RCL_ERR_INVALID_ARG, "--baseline %s: has %d classes, %s has %d", o->baseline,
                        cfg.num_classes, ev->test.ds.name, ev->test.ds.num_classes);
    rcl_session b;
    rcl_session_spec spec = {.checkpoint = o->baseline, .batch = o->batch};
    RCL_TRY(rcl_session_open(rcl_cli_run(), &spec, &b));
    double clean = 0;
    rcl_status st = rcl_evaluate(b.model, &ev->test.ds, NULL, 0, &b.norm, NULL, &clean);
    if (st == RCL_OK)
        st = corruptions_of(o, ev, b.model, &b.norm, clean, base);
    rcl_session_close(&b);
    return st;
}

/* --corruptions or --corrupt (and --baseline): the clean error is the test set's. */
static rcl_status evaluate_corruptions(const eval_options *o, evaluation *ev) {
    if (!o->n_corrupt && !o->corruptions)
        return RCL_OK;
    RCL_TRY(corruptions_of(o, ev, ev->s.model, &ev->s.norm, ev->err, &ev->corr));
    if (o->baseline) {
        rcl_corrupted_report base;
        RCL_TRY(baseline_report(o, ev, &base));
        RCL_TRY(rcl_corrupted_compare(&ev->corr, &base, o->baseline));
    }
    rcl_corrupted_report_print(&ev->corr);
    return RCL_OK;
}

static rcl_status write_json(const eval_options *o, const evaluation *ev) {
    rcl_json_writer w; /* in memory, then written atomically: a result file is whole or absent */
    rcl_jw_init(&w, NULL, 2);
    rcl_jw_begin_object(&w);
    rcl_jw_key(&w, "command");
    rcl_jw_string(&w, "eval");
    rcl_jw_key(&w, "model");
    rcl_jw_string(&w, o->model);
    rcl_jw_key(&w, "data");
    rcl_jw_string(&w, ev->test.ds.name);
    rcl_jw_key(&w, "images");
    rcl_jw_int(&w, ev->test.ds.n);
    char nname[96];
    rcl_jw_key(&w, "normalization");
    rcl_jw_string(&w, rcl_normalization_name(&ev->s.norm, nname, sizeof nname));
    rcl_jw_key(&w, "error");
    rcl_jw_number(&w, ev->err);
    rcl_jw_key(&w, "per_class_error");
    rcl_jw_begin_array(&w);
    for (int k = 0; k < ev->K; k++)
        rcl_jw_number(&w, ev->per_n[k] ? (double)ev->per_wrong[k] / ev->per_n[k] : 0.0);
    rcl_jw_end_array(&w);
    if (o->n_ood) {
        rcl_jw_key(&w, "ood");
        rcl_ood_report_json(&w, &ev->ood_rep, &o->ood_cfg);
    }
    if (o->calibration) {
        rcl_jw_key(&w, "calibration");
        rcl_calib_report_json(&w, &ev->cal_rep);
        rcl_jw_key(&w, "validation");
        if (o->val)
            rcl_jw_string(&w, ev->valset.ds.name);
        else
            rcl_jw_null(&w);
    }
    if (o->nsweep) {
        rcl_jw_key(&w, "adversarial_sweep");
        rcl_adv_sweep_json(&w, &ev->atk, ev->sweep, o->nsweep);
    } else if (o->autoattack) {
        rcl_jw_key(&w, "autoattack");
        rcl_autoattack_result_json(&w, &ev->aa);
    } else if (o->attack) {
        rcl_jw_key(&w, "adversarial");
        rcl_adv_result_json(&w, &ev->adv);
    }
    if (o->corruptions || o->n_corrupt) {
        rcl_jw_key(&w, "corruptions");
        rcl_corrupted_report_json(&w, &ev->corr);
    }
    rcl_jw_key(&w, "provenance");
    rcl_provenance_json(&w, rcl_cli_run(), ev->s.device, ev->s.model, &ev->test.ds, 0);
    rcl_jw_end_object(&w);
    return rcl_jw_save(&w, o->json);
}

/* --dump-scores, with the per-image AutoAttack outcome as a last column when it ran. */
static rcl_status dump_scores(const eval_options *o, const evaluation *ev) {
    const rcl_autoattack_result *r = &ev->aa;
    double T = o->calibration ? ev->cal_rep.T : 1.0;
    if (!o->autoattack)
        return rcl_scores_dump(o->scores_path, &ev->id, ev->ood_ls, o->n_ood, &ev->ood_rep, T);
    const char **values = malloc((size_t)(r->count ? r->count : 1) * sizeof *values);
    if (!values)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for the score dump");
    for (int i = 0; i < r->count; i++)
        values[i] = r->outcome[i] == RCL_AA_ROBUST       ? "robust"
                    : r->outcome[i] == RCL_AA_CLEAN_WRONG ? "misclassified"
                                                          : rcl_aa_kind_name(r->cfg.attacks[r->outcome[i]]);
    rcl_score_column col = {"autoattack", values, r->count};
    rcl_status s = rcl_scores_dump_column(o->scores_path, &ev->id, ev->ood_ls, o->n_ood, &ev->ood_rep, T, &col);
    free(values);
    return s;
}

/* --dump-logits, --dump-scores and --json. */
static rcl_status write_outputs(const eval_options *o, const evaluation *ev) {
    if (o->logits_path)
        RCL_TRY(rcl_file_write_atomic(o->logits_path, ev->test.logits,
                                      (size_t)ev->test.ds.n * ev->K * sizeof *ev->test.logits));
    if (o->scores_path)
        RCL_TRY(dump_scores(o, ev));
    return o->json ? write_json(o, ev) : RCL_OK;
}

static void evaluation_free(evaluation *ev, int n_ood) {
    free(ev->sweep);
    rcl_autoattack_result_free(&ev->aa);
    rcl_ood_report_free(&ev->ood_rep);
    rcl_calib_report_free(&ev->cal_rep);
    for (int i = 0; i < n_ood; i++) {
        free(ev->ood[i].logits);
        rcl_dataset_free(&ev->ood[i].ds);
    }
    free(ev->test.logits);
    free(ev->valset.logits);
    rcl_dataset_free(&ev->test.ds);
    rcl_dataset_free(&ev->valset.ds);
    free(ev->per_n);
    free(ev->per_wrong);
    rcl_session_close(&ev->s);
}

int rcl_cmd_eval(int argc, char **argv) {
    eval_options o = {0};
    o.data = "fashion-mnist";
    o.batch = 256;
    o.asked = rcl_normalization_half();
    o.atk = rcl_attack_defaults();
    o.ood_cfg = rcl_ood_defaults();
    o.cal_cfg = rcl_calib_defaults();
    int rc = 0;
    if (parse(argc, argv, &o, &rc)) {
        eval_options_free(&o);
        return rc;
    }
    evaluation ev;
    memset(&ev, 0, sizeof ev);
    ev.err = -1;
    /* every data set is read (and checked) before the device work starts */
    rcl_status s = read_model(&o, &ev);
    if (s == RCL_OK && (s = load_test(&o, &ev)) == RCL_OK && (s = load_others(&o, &ev)) == RCL_OK &&
        (s = open_model(&o, &ev)) == RCL_OK && (s = evaluate_test(&o, &ev)) == RCL_OK &&
        (s = evaluate_ood(&o, &ev)) == RCL_OK && (s = evaluate_calibration(&o, &ev)) == RCL_OK &&
        (s = evaluate_adversarial(&o, &ev)) == RCL_OK && (s = evaluate_corruptions(&o, &ev)) == RCL_OK)
        s = write_outputs(&o, &ev);
    evaluation_free(&ev, o.n_ood);
    eval_options_free(&o);
    return s == RCL_OK ? 0 : rcl_cli_error();
}
