#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "robustcl/checkpoint.h"

static void help(void) {
    printf("usage: robustcl eval --model CKPT [--data SPEC] [options]\n\n"
           "Evaluates a checkpoint (eval mode: BN running statistics, no dropout): top-1 error and\n"
           "per-class error.\n\n"
           "  --model FILE         a robustcl checkpoint (.safetensors)\n"
           "  --data SPEC          labelled test data (default: the test split of fashion-mnist)\n"
           "  --batch N            images per forward pass (default 256)\n"
           "  --json FILE          results as JSON (with provenance)\n"
           "  --dump-logits FILE   raw logits: little-endian float32 [N, classes], row i = image i\n"
           "  --device SEL         P:D or a name substring\n"
           "  --force              evaluate even on a device whose self-test failed\n");
}

static rcl_status dump(const char *path, const float *logits, size_t n) {
    return rcl_file_write_atomic(path, logits, n * sizeof *logits);
}

int rcl_cmd_eval(int argc, char **argv) {
    const char *model = NULL, *data = "fashion-mnist", *json = NULL, *logits_path = NULL, *dev = NULL;
    int batch = 256, force = 0;
    rcl_args a;
    rcl_args_init(&a, "eval", argc, argv);
    while (rcl_args_next(&a)) {
        if (rcl_args_is(&a, "--help")) {
            help();
            return 0;
        } else if (rcl_args_is(&a, "--model")) model = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--data")) data = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--json")) json = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--dump-logits")) logits_path = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--device")) dev = rcl_args_str(&a);
        else if (rcl_args_is(&a, "--batch")) rcl_args_int(&a, 1, 65536, &batch);
        else if (rcl_args_is(&a, "--force")) force = 1;
        else return rcl_args_unknown(&a);
    }
    if (a.bad)
        return 2;
    if (!model)
        return rcl_cli_usage("eval", "--model is required");
    rcl_wrn_config cfg;
    rcl_dataset ds = {0};
    rcl_device *d = NULL;
    rcl_model *m = NULL;
    float *logits = NULL;
    int *per_n = NULL, *per_wrong = NULL;
    rcl_status s = rcl_checkpoint_read_config(model, &cfg);
    if (s == RCL_OK)
        s = rcl_dataset_load(data, 0, &ds);
    if (s == RCL_OK && (ds.c != cfg.in_c || ds.h != cfg.in_h || ds.w != cfg.in_w))
        s = rcl_fail(RCL_ERR_INVALID_ARG, "%s: trained on %dx%dx%d inputs, %s is %dx%dx%d", model, cfg.in_c, cfg.in_h,
                     cfg.in_w, ds.name, ds.c, ds.h, ds.w);
    if (s == RCL_OK && ds.labels && ds.num_classes > cfg.num_classes)
        s = rcl_fail(RCL_ERR_INVALID_ARG, "%s: has %d classes, %s has %d", model, cfg.num_classes, ds.name,
                     ds.num_classes);
    if (s == RCL_OK && (s = rcl_cli_open_device(dev, 0, &d)) == RCL_OK && (s = rcl_cli_check_device(d, force)) == RCL_OK &&
        (s = rcl_model_create(d, &cfg, batch, &m)) == RCL_OK)
        s = rcl_checkpoint_load(m, model, RCL_CKPT_EVAL, NULL);
    double err = -1;
    const float half[3] = {0.5f, 0.5f, 0.5f};
    if (s == RCL_OK) {
        logits = malloc((size_t)ds.n * cfg.num_classes * sizeof *logits);
        per_n = calloc((size_t)cfg.num_classes, sizeof *per_n);
        per_wrong = calloc((size_t)cfg.num_classes, sizeof *per_wrong);
        if (!logits || !per_n || !per_wrong)
            s = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for %d logits", ds.n);
    }
    if (s == RCL_OK)
        s = rcl_evaluate(m, &ds, NULL, 0, half, half, logits, &err);
    if (s == RCL_OK && ds.labels) {
        for (int i = 0; i < ds.n; i++) {
            const float *row = logits + (size_t)i * cfg.num_classes;
            int best = 0;
            for (int k = 1; k < cfg.num_classes; k++)
                if (row[k] > row[best])
                    best = k;
            per_n[ds.labels[i]]++;
            per_wrong[ds.labels[i]] += best != ds.labels[i];
        }
        printf("%s on %s: error %.2f%% (accuracy %.2f%%), %d images\n", model, ds.name, 100 * err, 100 * (1 - err), ds.n);
        printf("per-class error %%:");
        for (int k = 0; k < cfg.num_classes; k++)
            printf(" %d:%.1f", k, per_n[k] ? 100.0 * per_wrong[k] / per_n[k] : 0.0);
        printf("\n");
    }
    if (s == RCL_OK && logits_path)
        s = dump(logits_path, logits, (size_t)ds.n * cfg.num_classes);
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
            rcl_jw_string(&w, ds.name);
            rcl_jw_key(&w, "images");
            rcl_jw_int(&w, ds.n);
            rcl_jw_key(&w, "error");
            rcl_jw_number(&w, err);
            rcl_jw_key(&w, "per_class_error");
            rcl_jw_begin_array(&w);
            for (int k = 0; k < cfg.num_classes; k++)
                rcl_jw_number(&w, per_n[k] ? (double)per_wrong[k] / per_n[k] : 0.0);
            rcl_jw_end_array(&w);
            rcl_jw_key(&w, "provenance");
            rcl_checkpoint_provenance_json(&w, m, &ds, 0);
            rcl_jw_end_object(&w);
            s = rcl_jw_finish(&w);
            fclose(f);
        }
    }
    free(logits);
    free(per_n);
    free(per_wrong);
    rcl_model_free(m);
    rcl_device_close(d);
    rcl_dataset_free(&ds);
    return s == RCL_OK ? 0 : rcl_cli_error();
}
