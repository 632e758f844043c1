/* Error under common corruptions (spec §12): a model evaluated on every file of a released
 * corruption benchmark (CIFAR-10-C, CIFAR-100-C), per corruption and severity; the mean
 * corruption error; with a baseline, Hendrycks & Dietterich's normalised and relative mCE. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "robustcl/evaluate.h"
#include "robustcl/log.h"
#include "robustcl/model.h"
#include "robustcl/train.h"

/* The error on each severity of one loaded file. */
static rcl_status evaluate_file(rcl_model *m, const rcl_normalization *norm, const rcl_dataset *ds,
                                double err[RCL_SEVERITIES]) {
    const rcl_wrn_config *cfg = rcl_model_config(m);
    if (ds->num_classes > cfg->num_classes)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: labels up to %d, the model has %d classes", ds->name,
                        ds->num_classes - 1, cfg->num_classes);
    int per = ds->n / RCL_SEVERITIES;
    size_t image = rcl_dataset_image_size(ds);
    for (int s = 0; s < RCL_SEVERITIES; s++) {
        rcl_dataset part = *ds; /* a view of severity s + 1: no copy */
        part.n = per;
        part.pixels = ds->pixels + (size_t)s * per * image;
        part.labels = ds->labels + (size_t)s * per;
        RCL_TRY(rcl_evaluate(m, &part, NULL, 0, norm, NULL, &err[s]));
    }
    return RCL_OK;
}

static double mean_of(const double *v, int n) {
    double s = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return s / n;
}

/* The means over the standard and the extra corruptions found. */
static void summarise(rcl_corrupted_report *r) {
    double sum[2] = {0, 0};
    int count[2] = {0, 0};
    for (int i = 0; i < r->n; i++) {
        int extra = r->index[i] >= RCL_CORRUPTED_STANDARD;
        sum[extra] += mean_of(r->error[i], RCL_SEVERITIES);
        count[extra]++;
    }
    r->n_standard = count[0];
    r->mce = count[0] ? sum[0] / count[0] : NAN;
    r->extra = count[1] ? sum[1] / count[1] : NAN;
}

/* An empty report against the clean error, before any corruption is evaluated. */
static void report_start(rcl_corrupted_report *r, double clean) {
    memset(r, 0, sizeof *r);
    r->clean = clean;
    r->mce_normalized = r->mce_relative = NAN;
}

rcl_status rcl_corrupted_evaluate(rcl_model *m, const rcl_normalization *norm, const char *dir, double clean,
                                  rcl_corrupted_report *r) {
    report_start(r, clean);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    char path[1100];
    for (int c = 0; c < RCL_CORRUPTED_NAMES; c++) {
        snprintf(path, sizeof path, "%s/%s.npy", dir, rcl_corrupted_names[c]);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        fclose(f);
        rcl_dataset ds;
        RCL_TRY(rcl_corrupted_load(dir, rcl_corrupted_names[c], &ds));
        rcl_log(RCL_LOG_PROGRESS, "corruptions: %s, %d images a severity", rcl_corrupted_names[c], ds.n / RCL_SEVERITIES);
        rcl_status st = evaluate_file(m, norm, &ds, r->error[r->n]);
        r->images = ds.n / RCL_SEVERITIES;
        rcl_dataset_free(&ds);
        RCL_TRY(st);
        r->index[r->n++] = c;
    }
    if (!r->n) /* rcl_corrupted_scan names the folder */
        return rcl_corrupted_scan(dir, &r->n);
    rcl_log(RCL_LOG_PROGRESS_DONE, "corruptions: %d evaluated, %d images a severity", r->n, r->images);
    summarise(r);
    return RCL_OK;
}

rcl_status rcl_corrupted_evaluate_generated(rcl_model *m, const rcl_normalization *norm, const rcl_dataset *test,
                                            const int *corruptions, int n, const rcl_corrupt_options *o,
                                            double clean, rcl_corrupted_report *r) {
    report_start(r, clean);
    r->images = test->n;
    snprintf(r->dir, sizeof r->dir, "generated from %s, seed %llu", test->name, (unsigned long long)o->seed);
    for (int i = 0; i < n; i++) {
        rcl_log(i + 1 < n ? RCL_LOG_PROGRESS : RCL_LOG_PROGRESS_DONE, "corruptions: %s (%d of %d), %d images a severity",
                rcl_corrupted_names[corruptions[i]], i + 1, n, test->n);
        for (int s = 0; s < RCL_SEVERITIES; s++) {
            rcl_dataset ds;
            RCL_TRY(rcl_corrupt_dataset(test, corruptions[i], s + 1, o, &ds));
            rcl_status st = rcl_evaluate(m, &ds, NULL, 0, norm, NULL, &r->error[r->n][s]);
            rcl_dataset_free(&ds);
            RCL_TRY(st);
        }
        r->index[r->n++] = corruptions[i];
    }
    summarise(r);
    return RCL_OK;
}

/* The errors of corruption `name` in a report object (spec §12's JSON), or NULL. */
static const rcl_json *errors_of(const rcl_json *obj, const char *name) {
    const rcl_json *e = rcl_json_get(rcl_json_get(obj, "errors"), name);
    if (!e || e->type != RCL_JSON_ARRAY || e->len != RCL_SEVERITIES)
        return NULL;
    for (size_t i = 0; i < e->len; i++)
        if (rcl_json_at(e, i)->type != RCL_JSON_NUMBER)
            return NULL;
    return e;
}

rcl_status rcl_corrupted_report_read(const char *path, rcl_corrupted_report *r) {
    memset(r, 0, sizeof *r);
    rcl_json *doc = NULL;
    RCL_TRY(rcl_json_parse_file(path, &doc));
    const rcl_json *b = rcl_json_get(doc, "corruptions");
    r->clean = rcl_json_get_number(b, "clean_error", NAN);
    rcl_status st = RCL_OK;
    if (!b || !(r->clean >= 0 && r->clean <= 1))
        st = rcl_fail(RCL_ERR_FORMAT, "--baseline %s: no \"corruptions\" object with a clean_error (the --json of an "
                      "eval --corruptions)", path);
    for (int c = 0; st == RCL_OK && c < RCL_CORRUPTED_NAMES; c++) {
        const rcl_json *e = errors_of(b, rcl_corrupted_names[c]);
        if (!e)
            continue;
        for (int s = 0; s < RCL_SEVERITIES; s++)
            r->error[r->n][s] = rcl_json_at(e, (size_t)s)->number;
        r->index[r->n++] = c;
    }
    snprintf(r->dir, sizeof r->dir, "%s", path);
    rcl_json_free(doc);
    return st;
}

/* The row of corruption c in r, or -1. */
static int row_of(const rcl_corrupted_report *r, int c) {
    for (int i = 0; i < r->n; i++)
        if (r->index[i] == c)
            return i;
    return -1;
}

rcl_status rcl_corrupted_compare(rcl_corrupted_report *r, const rcl_corrupted_report *base, const char *label) {
    double norm_sum = 0, rel_sum = 0;
    int n_rel = 0;
    for (int i = 0; i < r->n; i++) {
        int k = row_of(base, r->index[i]);
        if (k < 0)
            return rcl_fail(RCL_ERR_FORMAT, "--baseline %s: no 5 errors for %s", label, rcl_corrupted_names[r->index[i]]);
        double mine = 0, theirs = 0, mine_rel = 0, theirs_rel = 0;
        for (int s = 0; s < RCL_SEVERITIES; s++) {
            mine += r->error[i][s], theirs += base->error[k][s];
            mine_rel += r->error[i][s] - r->clean, theirs_rel += base->error[k][s] - base->clean;
        }
        r->ce_normalized[i] = theirs > 0 ? mine / theirs : NAN;
        /* undefined when the baseline loses nothing to the corruption */
        r->ce_relative[i] = theirs_rel > 0 ? mine_rel / theirs_rel : NAN;
        if (r->index[i] >= RCL_CORRUPTED_STANDARD)
            continue;
        norm_sum += r->ce_normalized[i];
        if (!isnan(r->ce_relative[i]))
            rel_sum += r->ce_relative[i], n_rel++;
    }
    snprintf(r->baseline, sizeof r->baseline, "%s", label);
    r->mce_normalized = r->n_standard ? norm_sum / r->n_standard : NAN;
    r->mce_relative = n_rel ? rel_sum / n_rel : NAN;
    r->n_relative = n_rel;
    return RCL_OK;
}

void rcl_corrupted_report_print(const rcl_corrupted_report *r) {
    printf("corruptions in %s (%d images a severity), error %%:\n", r->dir, r->images);
    printf("%-18s %7s %7s %7s %7s %7s %7s%s\n", "corruption", "s1", "s2", "s3", "s4", "s5", "mean",
           r->baseline[0] ? "   CE/base  rel.CE" : "");
    for (int i = 0; i < r->n; i++) {
        printf("%-18s", rcl_corrupted_names[r->index[i]]);
        for (int s = 0; s < RCL_SEVERITIES; s++)
            printf(" %7.2f", 100 * r->error[i][s]);
        printf(" %7.2f", 100 * mean_of(r->error[i], RCL_SEVERITIES));
        if (r->baseline[0])
            printf(" %9.2f %7.2f", 100 * r->ce_normalized[i], 100 * r->ce_relative[i]);
        printf("%s\n", r->index[i] >= RCL_CORRUPTED_STANDARD ? "  (extra)" : "");
    }
    printf("mean corruption error %.2f%% over %d of the %d standard corruptions (clean error %.2f%%)",
           100 * r->mce, r->n_standard, RCL_CORRUPTED_STANDARD, 100 * r->clean);
    if (!isnan(r->extra))
        printf("; extra corruptions %.2f%%", 100 * r->extra);
    printf("\n");
    if (r->baseline[0])
        printf("against %s: mCE %.2f%%, relative mCE %.2f%% (over %d corruptions)\n", r->baseline,
               100 * r->mce_normalized, 100 * r->mce_relative, r->n_relative);
}

void rcl_corrupted_report_json(rcl_json_writer *w, const rcl_corrupted_report *r) {
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "dir");
    rcl_jw_string(w, r->dir);
    rcl_jw_key(w, "images_per_severity");
    rcl_jw_int(w, r->images);
    rcl_jw_key(w, "clean_error");
    rcl_jw_number(w, r->clean);
    rcl_jw_key(w, "errors");
    rcl_jw_begin_object(w);
    for (int i = 0; i < r->n; i++) {
        rcl_jw_key(w, rcl_corrupted_names[r->index[i]]);
        rcl_jw_begin_array(w);
        for (int s = 0; s < RCL_SEVERITIES; s++)
            rcl_jw_number(w, r->error[i][s]);
        rcl_jw_end_array(w);
    }
    rcl_jw_end_object(w);
    rcl_jw_key(w, "mean_corruption_error");
    rcl_jw_number(w, r->mce);
    rcl_jw_key(w, "standard_corruptions");
    rcl_jw_int(w, r->n_standard);
    rcl_jw_key(w, "extra_mean_error");
    rcl_jw_number(w, r->extra);
    rcl_jw_key(w, "baseline");
    if (!r->baseline[0]) {
        rcl_jw_null(w);
    } else {
        rcl_jw_begin_object(w);
        rcl_jw_key(w, "file");
        rcl_jw_string(w, r->baseline);
        rcl_jw_key(w, "mce");
        rcl_jw_number(w, r->mce_normalized);
        rcl_jw_key(w, "relative_mce");
        rcl_jw_number(w, r->mce_relative);
        rcl_jw_key(w, "relative_corruptions");
        rcl_jw_int(w, r->n_relative);
        const char *keys[2] = {"ce", "relative_ce"};
        for (int k = 0; k < 2; k++) {
            rcl_jw_key(w, keys[k]);
            rcl_jw_begin_object(w);
            for (int i = 0; i < r->n; i++) {
                rcl_jw_key(w, rcl_corrupted_names[r->index[i]]);
                rcl_jw_number(w, k ? r->ce_relative[i] : r->ce_normalized[i]);
            }
            rcl_jw_end_object(w);
        }
        rcl_jw_end_object(w);
    }
    rcl_jw_end_object(w);
}
