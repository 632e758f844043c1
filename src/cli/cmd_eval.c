#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "robustcl/adversarial.h"
#include "robustcl/checkpoint.h"
#include "robustcl/evaluate.h"

#define MAX_OOD_SETS 64
#define MAX_SWEEP 64

static void help(void) {
    printf("usage: robustcl eval --model CKPT [--data SPEC] [options]\n\n"
           "Evaluates a checkpoint (eval mode: BN running statistics, no dropout): top-1 error and\n"
           "per-class error; with options, OOD detection (PROTOCOL 8) and calibration (PROTOCOL 9).\n\n"
           "  --model FILE         a robustcl checkpoint (.safetensors)\n"
           "  --data SPEC          labelled test data = the in-distribution set (default: the test split of\n"
           "                       fashion-mnist)\n"
           "  --batch N            images per forward pass (default 256)\n"
           "  --json FILE          results as JSON (with provenance; \"ood\" and \"calibration\" objects when asked)\n"
           "  --dump-logits FILE   raw logits: little-endian float32 [N, classes], row i = image i\n"
           "  --device SEL         P:D or a name substring\n"
           "  --force              evaluate even on a device whose self-test failed\n"
           RCL_CONV_ALGO_HELP
           "  --normalize N        input normalisation: half | cifar | M1,M2,M3/S1,S2,S3 (default: the one stored\n"
           "                       in the checkpoint; 0.5/0.5 for checkpoints without it); one that differs from\n"
           "                       the checkpoint's is used, with a warning on stderr\n\n"
           "OOD detection: score = -max softmax (MSP), OOD positive; AUROC, AUPR (average precision),\n"
           "FPR at 95%% recall (paper variant: nearest recall, and first TPR >= 95%%). Each OOD set is\n"
           "drawn N times (test size / 5 images each, without replacement) against the whole test set and\n"
           "the measures averaged; a set of at most that size is used whole, once (\"used_whole\").\n"
           "  --ood SPEC[;SPEC...] OOD sets, ';'-separated (the option may also be repeated). Dataset specs\n"
           "                       as for --data (test split by default); gaussian, rademacher and blobs take\n"
           "                       the test set's shape and count (their own seed with ,seed=N)\n"
           "  --draws N            draws per OOD set (default 5)\n"
           "  --seed N             seed of the draws (default 0)\n\n"
           "Calibration: confidence = max softmax(z/T); RMS and MAD with adaptive bins of 100 (paper: the\n"
           "last bin is skipped but N still divides; textbook: every bin; both are reported), ECE (15\n"
           "bins), AURRA, NLL, 15 reliability-diagram bins, at T = 1 and at the tuned T.\n"
           "  --calibration        evaluate calibration on the test set\n"
           "  --val SPEC           labelled validation data (train split by default; hold it out of\n"
           "                       training) to tune T by bisection on [0.2, 5]; implies --calibration\n"
           "  --calibration-mode paper|textbook\n"
           "                       headline RMS/MAD: paper (default) = T = 1, last bin skipped (Table 5);\n"
           "                       textbook = the tuned T, every bin; implies --calibration\n\n"
           "  --attack SPEC        accuracy under an L-inf attack on the test set (PROTOCOL 7), pixel space\n"
           "                       [0,1], the input normalisation above: pgd|fgsm[:KEY=VALUE,...] with keys\n"
           "                       eps=8/255 step=2/255 steps=20 restarts=1 start=random|none\n"
           "                       mode=textbook|paper loss=ce|margin seed=N bn=auto|eval|train\n"
           "                       (default pgd: eps 8/255, step 2/255, 20 steps, random start, textbook, ce)\n"
           "  --attack-sweep LIST  accuracy vs eps: the --attack settings (default pgd) at each radius of the\n"
           "                       comma-separated LIST (numbers or a/b, e.g. 0,1/255,2/255,4/255,8/255,16/255),\n"
           "                       the PGD step scaled with eps (step/eps of --attack); prints a table (eps,\n"
           "                       accuracy, max |x_adv - x|, zero-gradient images) and writes\n"
           "                       \"adversarial_sweep\" into --json instead of \"adversarial\"\n\n"
           "  --dump-scores FILE   per-sample scores, tab-separated text with one header line:\n"
           "                         set name draw index label predicted confidence confidence_t msp_score correct\n"
           "                       set = id (the test set: draw 0, every image in order) or oodS (the S-th\n"
           "                       --ood set, 0-based; one block per draw, draw 0..N-1, indices ascending);\n"
           "                       name = the dataset's name; index = image index in that set; label and\n"
           "                       correct are -1 in OOD rows; predicted = argmax; confidence = max\n"
           "                       softmax(z); confidence_t = max softmax(z/T) at the tuned T (= confidence\n"
           "                       without --val); msp_score = -confidence; reals printed with 17 digits\n");
}

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

/* Splits a ';'-separated --ood value into specs (empty parts skipped). */
static int add_ood_specs(const char *value, char **specs, int *n) {
    const char *p = value;
    if (!value[strspn(value, ";")])
        return rcl_cli_usage("eval", "--ood: no dataset spec in '%s'", value);
    while (*p) {
        size_t len = strcspn(p, ";");
        if (len) {
            if (*n == MAX_OOD_SETS)
                return rcl_cli_usage("eval", "--ood: more than %d sets", MAX_OOD_SETS);
            if (!(specs[*n] = malloc(len + 1)))
                return rcl_cli_usage("eval", "--ood: out of memory");
            memcpy(specs[*n], p, len);
            specs[(*n)++][len] = 0;
        }
        p += len + (p[len] == ';');
    }
    return 0;
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

static void adversarial_json(rcl_json_writer *w, const rcl_adv_result *r) {
    char spec[256];
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "attack");
    rcl_jw_string(w, rcl_attack_describe(&r->cfg, spec, sizeof spec));
    rcl_jw_key(w, "mode");
    rcl_jw_string(w, rcl_attack_mode_name(r->cfg.mode));
    rcl_jw_key(w, "eps");
    rcl_jw_number(w, r->cfg.eps);
    rcl_jw_key(w, "images");
    rcl_jw_int(w, r->count);
    rcl_jw_key(w, "clean_accuracy");
    rcl_jw_number(w, r->clean_accuracy);
    rcl_jw_key(w, "adversarial_accuracy");
    rcl_jw_number(w, r->adv_accuracy);
    rcl_jw_key(w, "max_linf");
    rcl_jw_number(w, r->max_linf);
    rcl_jw_key(w, "zero_gradient_images");
    rcl_jw_int(w, r->zero_grad);
    rcl_jw_key(w, "seconds");
    rcl_jw_number(w, r->seconds);
    rcl_jw_end_object(w);
}

static void sweep_json(rcl_json_writer *w, const rcl_attack_config *base, const rcl_adv_result *r, int n) {
    char spec[256];
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "attack");
    rcl_jw_string(w, rcl_attack_describe(base, spec, sizeof spec));
    rcl_jw_key(w, "mode");
    rcl_jw_string(w, rcl_attack_mode_name(base->mode));
    rcl_jw_key(w, "images");
    rcl_jw_int(w, r[0].count);
    rcl_jw_key(w, "clean_accuracy");
    rcl_jw_number(w, r[0].clean_accuracy);
    rcl_jw_key(w, "points");
    rcl_jw_begin_array(w);
    for (int i = 0; i < n; i++) {
        rcl_jw_begin_object(w);
        rcl_jw_key(w, "eps");
        rcl_jw_number(w, r[i].cfg.eps);
        rcl_jw_key(w, "step");
        rcl_jw_number(w, r[i].cfg.step);
        rcl_jw_key(w, "adversarial_accuracy");
        rcl_jw_number(w, r[i].adv_accuracy);
        rcl_jw_key(w, "max_linf");
        rcl_jw_number(w, r[i].max_linf);
        rcl_jw_key(w, "zero_gradient_images");
        rcl_jw_int(w, r[i].zero_grad);
        rcl_jw_key(w, "seconds");
        rcl_jw_number(w, r[i].seconds);
        rcl_jw_end_object(w);
    }
    rcl_jw_end_array(w);
    rcl_jw_end_object(w);
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

int rcl_cmd_eval(int argc, char **argv) {
    const char *model = NULL, *data = "fashion-mnist", *json = NULL, *logits_path = NULL, *dev = NULL;
    const char *val = NULL, *scores_path = NULL;
    char *ood_specs[MAX_OOD_SETS];
    int n_ood = 0, batch = 256, force = 0, calibration = 0, seed = 0, attack = 0, rc = 0, nsweep = 0;
    double sweep_eps[MAX_SWEEP];
    rcl_adv_result *sweep = NULL;
    rcl_normalization norm = rcl_normalization_half(), asked;
    int norm_given = 0;
    rcl_attack_config atk = rcl_attack_defaults();
    rcl_adv_result adv = {0};
    rcl_ood_config ood_cfg = rcl_ood_defaults();
    rcl_calib_config cal_cfg = rcl_calib_defaults();
    rcl_args a;
    rcl_args_init(&a, "eval", argc, argv);
    int helped = 0;
    while (!rc && !helped && rcl_args_next(&a)) {
        if (rcl_args_is(&a, "--help")) {
            help();
            helped = 1;
        } else if (rcl_args_is(&a, "--model")) model = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--data")) data = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--json")) json = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--dump-logits")) logits_path = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--dump-scores")) scores_path = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--device")) dev = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--batch")) rcl_args_int(&a, 1, 65536, &batch);
        else if (rcl_args_is(&a, "--force")) force = 1;
        else if (rcl_args_is(&a, "--conv-algo")) rcl_args_conv_algo(&a);
        else if (rcl_args_is(&a, "--ood")) {
            const char *v = rcl_args_str(&a);
            if (v)
                rc = add_ood_specs(v, ood_specs, &n_ood);
        } else if (rcl_args_is(&a, "--draws")) rcl_args_int(&a, 1, 1000, &ood_cfg.draws);
        else if (rcl_args_is(&a, "--seed")) rcl_args_int(&a, 0, 2147483647, &seed);
        else if (rcl_args_is(&a, "--calibration")) calibration = 1;
        else if (rcl_args_is(&a, "--val")) val = rcl_args_str(&a), calibration = 1;
        else if (rcl_args_is(&a, "--calibration-mode")) {
            const char *v = rcl_args_str(&a);
            calibration = 1;
            if (v && strcmp(v, "paper") && strcmp(v, "textbook"))
                rc = rcl_cli_usage("eval", "--calibration-mode: expected paper or textbook, got '%s'", v);
            cal_cfg.paper_mode = v && !strcmp(v, "paper");
        } else if (rcl_args_is(&a, "--attack")) {
            const char *v = rcl_args_str(&a);
            if (v && rcl_attack_parse(v, &atk) != RCL_OK)
                rc = rcl_cli_usage("eval", "--attack: %s", rcl_last_error());
            attack = v != NULL;
        } else if (rcl_args_is(&a, "--normalize")) {
            const char *v = rcl_args_str(&a);
            if (v && rcl_normalization_parse(v, &asked) != RCL_OK)
                rc = rcl_cli_usage("eval", "--normalize: %s", rcl_last_error());
            norm_given = v != NULL;
        } else if (rcl_args_is(&a, "--attack-sweep")) {
            const char *v = rcl_args_str(&a);
            if (v && rcl_attack_parse_eps_list(v, sweep_eps, MAX_SWEEP, &nsweep) != RCL_OK)
                rc = rcl_cli_usage("eval", "--attack-sweep: %s", rcl_last_error());
        } else rc = rcl_args_unknown(&a);
    }
    if (!rc && a.bad)
        rc = 2;
    if (!rc && !helped && !model)
        rc = rcl_cli_usage("eval", "--model is required");
    if (!rc && !helped && nsweep && atk.kind == RCL_ATTACK_PGD && !(atk.eps > 0))
        rc = rcl_cli_usage("eval", "--attack-sweep: the --attack eps sets the step/eps ratio, so it must be > 0");
    if (rc || helped) { /* the --ood specs collected so far are freed on every early return */
        for (int i = 0; i < n_ood; i++)
            free(ood_specs[i]);
        return rc;
    }
    ood_cfg.seed = (uint64_t)seed;
    rcl_wrn_config cfg = {0};
    evaluated test = {0}, valset = {0}, ood[MAX_OOD_SETS];
    memset(ood, 0, sizeof ood);
    rcl_ood_report ood_rep = {0};
    rcl_calib_report cal_rep = {0};
    rcl_device *d = NULL;
    rcl_model *m = NULL;
    int *per_n = NULL, *per_wrong = NULL;
    rcl_status s = rcl_checkpoint_read_config(model, &cfg);
    int K = cfg.num_classes;
    if (s == RCL_OK)
        s = rcl_checkpoint_read_normalization(model, &norm);
    if (s == RCL_OK && norm_given && !rcl_normalization_equal(&norm, &asked)) {
        char was[96], now[96];
        fprintf(stderr,
                "robustcl: warning: %s records --normalize %s (half when it records none); evaluating with %s as "
                "asked\n",
                model, rcl_normalization_name(&norm, was, sizeof was), rcl_normalization_name(&asked, now, sizeof now));
    }
    if (norm_given)
        norm = asked;
    if (s == RCL_OK)
        s = rcl_dataset_load(data, 0, &test.ds);
    if (s == RCL_OK && (test.ds.c != cfg.in_c || test.ds.h != cfg.in_h || test.ds.w != cfg.in_w))
        s = rcl_fail(RCL_ERR_INVALID_ARG, "%s: trained on %dx%dx%d inputs, %s is %dx%dx%d", model, cfg.in_c, cfg.in_h,
                     cfg.in_w, test.ds.name, test.ds.c, test.ds.h, test.ds.w);
    if (s == RCL_OK && test.ds.labels && test.ds.num_classes > K)
        s = rcl_fail(RCL_ERR_INVALID_ARG, "%s: has %d classes, %s has %d", model, K, test.ds.name, test.ds.num_classes);
    if (s == RCL_OK && (calibration || attack || nsweep) &&
        (!test.ds.labels || test.ds.n < 1 || test.ds.labels[0] < 0))
        s = rcl_fail(RCL_ERR_INVALID_ARG, "%s: %s is unlabelled",
                     calibration ? "--calibration" : nsweep ? "--attack-sweep" : "--attack", test.ds.name);
    /* every data set is read (and checked) before the device work starts */
    for (int i = 0; i < n_ood && s == RCL_OK; i++)
        if ((s = rcl_dataset_load_like(ood_specs[i], 0, &test.ds, &ood[i].ds)) == RCL_OK &&
            (ood[i].ds.c != cfg.in_c || ood[i].ds.h != cfg.in_h || ood[i].ds.w != cfg.in_w))
            s = rcl_fail(RCL_ERR_INVALID_ARG,
                         "--ood %s: images are %dx%dx%d, the model takes %dx%dx%d (size=, channels=)", ood_specs[i],
                         ood[i].ds.c, ood[i].ds.h, ood[i].ds.w, cfg.in_c, cfg.in_h, cfg.in_w);
    if (s == RCL_OK && val && (s = rcl_dataset_load(val, 1, &valset.ds)) == RCL_OK &&
        (!valset.ds.labels || valset.ds.labels[0] < 0 || valset.ds.num_classes > K))
        s = rcl_fail(RCL_ERR_INVALID_ARG, "--val: %s must be labelled with at most the model's %d classes",
                     valset.ds.name, K);
    if (s == RCL_OK && (s = rcl_cli_open_device(dev, 0, &d)) == RCL_OK &&
        (s = rcl_selftest_gate(d, force)) == RCL_OK && (s = rcl_model_create(d, &cfg, batch, &m)) == RCL_OK)
        s = rcl_checkpoint_load(m, model, RCL_CKPT_EVAL, NULL);
    double err = -1;
    if (s == RCL_OK) {
        per_n = calloc((size_t)K, sizeof *per_n);
        per_wrong = calloc((size_t)K, sizeof *per_wrong);
        if (!per_n || !per_wrong)
            s = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for %d classes", K);
    }
    if (s == RCL_OK && (s = evaluate_set(m, K, &norm, &test, &err)) == RCL_OK && test.ds.labels && test.ds.labels[0] >= 0) {
        for (int i = 0; i < test.ds.n; i++) {
            const float *row = test.logits + (size_t)i * K;
            int best = 0;
            for (int k = 1; k < K; k++)
                if (row[k] > row[best])
                    best = k;
            per_n[test.ds.labels[i]]++;
            per_wrong[test.ds.labels[i]] += best != test.ds.labels[i];
        }
        printf("%s on %s: error %.2f%% (accuracy %.2f%%), %d images\n", model, test.ds.name, 100 * err,
               100 * (1 - err), test.ds.n);
        printf("per-class error %%:");
        for (int k = 0; k < K; k++)
            printf(" %d:%.1f", k, per_n[k] ? 100.0 * per_wrong[k] / per_n[k] : 0.0);
        printf("\n");
    }
    rcl_logit_set id = logit_set(&test, K), ood_ls[MAX_OOD_SETS];
    for (int i = 0; i < n_ood && s == RCL_OK; i++)
        if ((s = evaluate_set(m, K, &norm, &ood[i], NULL)) == RCL_OK) {
            ood_ls[i] = logit_set(&ood[i], K);
            ood_ls[i].labels = NULL; /* another label space: no label or correctness in the dump */
        }
    if (s == RCL_OK && n_ood && (s = rcl_ood_evaluate(&id, ood_ls, n_ood, &ood_cfg, &ood_rep)) == RCL_OK)
        print_ood(&ood_rep);
    if (s == RCL_OK && val)
        s = evaluate_set(m, K, &norm, &valset, NULL);
    rcl_logit_set val_ls = logit_set(&valset, K);
    if (s == RCL_OK && calibration && (s = rcl_calib_evaluate(&id, val ? &val_ls : NULL, &cal_cfg, &cal_rep)) == RCL_OK)
        print_calibration(&cal_rep);
    atk.norm = norm;
    if (s == RCL_OK && nsweep && !(sweep = calloc((size_t)nsweep, sizeof *sweep)))
        s = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for the sweep");
    if (s == RCL_OK && nsweep && (s = rcl_adv_sweep(m, &test.ds, NULL, 0, &atk, sweep_eps, nsweep, sweep)) == RCL_OK)
        print_sweep(&atk, sweep, nsweep);
    if (s == RCL_OK && attack && !nsweep && (s = rcl_adv_evaluate(m, &test.ds, NULL, 0, &atk, &adv)) == RCL_OK)
        printf("attack %s (%s): accuracy %.2f%% clean, %.2f%% adversarial; max |x_adv - x| %.4f\n",
               atk.kind == RCL_ATTACK_FGSM ? "fgsm" : "pgd", rcl_attack_mode_name(atk.mode), 100 * adv.clean_accuracy,
               100 * adv.adv_accuracy, adv.max_linf);
    if (s == RCL_OK && logits_path)
        s = rcl_file_write_atomic(logits_path, test.logits, (size_t)test.ds.n * K * sizeof *test.logits);
    if (s == RCL_OK && scores_path)
        s = rcl_scores_dump(scores_path, &id, ood_ls, n_ood, &ood_rep, calibration ? cal_rep.T : 1.0);
    if (s == RCL_OK && json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            s = rcl_fail(RCL_ERR_IO, "%s: cannot create the result file", json);
        } else {
            rcl_json_writer w;
            rcl_jw_init(&w, f, 2);
            rcl_jw_begin_object(&w);
            rcl_jw_key(&w, "command");
            rcl_jw_string(&w, "eval");
            rcl_jw_key(&w, "model");
            rcl_jw_string(&w, model);
            rcl_jw_key(&w, "data");
            rcl_jw_string(&w, test.ds.name);
            rcl_jw_key(&w, "images");
            rcl_jw_int(&w, test.ds.n);
            char nname[96];
            rcl_jw_key(&w, "normalization");
            rcl_jw_string(&w, rcl_normalization_name(&norm, nname, sizeof nname));
            rcl_jw_key(&w, "error");
            rcl_jw_number(&w, err);
            rcl_jw_key(&w, "per_class_error");
            rcl_jw_begin_array(&w);
            for (int k = 0; k < K; k++)
                rcl_jw_number(&w, per_n[k] ? (double)per_wrong[k] / per_n[k] : 0.0);
            rcl_jw_end_array(&w);
            if (n_ood) {
                rcl_jw_key(&w, "ood");
                rcl_ood_report_json(&w, &ood_rep, &ood_cfg);
            }
            if (calibration) {
                rcl_jw_key(&w, "calibration");
                rcl_calib_report_json(&w, &cal_rep);
                rcl_jw_key(&w, "validation");
                if (val)
                    rcl_jw_string(&w, valset.ds.name);
                else
                    rcl_jw_null(&w);
            }
            if (nsweep) {
                rcl_jw_key(&w, "adversarial_sweep");
                sweep_json(&w, &atk, sweep, nsweep);
            } else if (attack) {
                rcl_jw_key(&w, "adversarial");
                adversarial_json(&w, &adv);
            }
            rcl_jw_key(&w, "provenance");
            rcl_checkpoint_provenance_json(&w, m, &test.ds, 0);
            rcl_jw_end_object(&w);
            s = rcl_jw_finish(&w);
            fclose(f);
        }
    }
    free(sweep);
    rcl_ood_report_free(&ood_rep);
    rcl_calib_report_free(&cal_rep);
    for (int i = 0; i < n_ood; i++) {
        free(ood_specs[i]);
        free(ood[i].logits);
        rcl_dataset_free(&ood[i].ds);
    }
    free(test.logits);
    free(valset.logits);
    rcl_dataset_free(&test.ds);
    rcl_dataset_free(&valset.ds);
    free(per_n);
    free(per_wrong);
    rcl_model_free(m);
    rcl_device_close(d);
    return s == RCL_OK ? 0 : rcl_cli_error();
}
