/* The calibration evaluation of spec §9 over a model's test logits: RMS/MAD
 * in both binning modes, ECE, AURRA and NLL at T = 1 and at the temperature
 * tuned on validation logits, the mode's headline numbers and reliability bins. */
#include "robustcl/evaluate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rcl_calib_config rcl_calib_defaults(void) {
    rcl_calib_config c = {.paper_mode = 1, .bin = RCL_CALIB_BIN, .ece_bins = RCL_ECE_BINS};
    return c;
}

void rcl_calib_report_free(rcl_calib_report *r) {
    if (!r)
        return;
    free(r->bins);
    memset(r, 0, sizeof *r);
}

static rcl_status fail_in(rcl_status s, const char *what) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", rcl_last_error());
    return rcl_fail(s, "%s: %s", what, msg);
}

/* The labels as int (the metrics' type), each checked in [0,k). */
static rcl_status labels_of(const rcl_logit_set *ls, const char *role, int **out) {
    *out = NULL;
    if (!ls->logits || ls->n < 1 || ls->k < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "calibration: %s set %s has no logits", role, ls->name ? ls->name : "?");
    if (!ls->labels)
        return rcl_fail(RCL_ERR_INVALID_ARG, "calibration: %s set %s is unlabelled", role, ls->name ? ls->name : "?");
    int *y = malloc(sizeof(int) * (size_t)ls->n);
    if (!y)
        return rcl_fail(RCL_ERR_NO_MEMORY, "calibration: out of memory for %d labels", ls->n);
    for (int i = 0; i < ls->n; i++) {
        if (ls->labels[i] < 0 || ls->labels[i] >= ls->k) {
            free(y);
            return rcl_fail(RCL_ERR_INVALID_ARG, "calibration: %s set %s: label %d of image %d is not in [0,%d)", role,
                            ls->name ? ls->name : "?", (int)ls->labels[i], i, ls->k);
        }
        y[i] = ls->labels[i];
    }
    *out = y;
    return RCL_OK;
}

static rcl_status measures_at(const rcl_logit_set *ls, const int *y, double T, const rcl_calib_config *c,
                              double *conf, int *correct, rcl_calib_measures *m) {
    m->T = T;
    RCL_TRY(rcl_confidence_correct(ls->logits, y, ls->n, ls->k, T, conf, correct));
    RCL_TRY(rcl_calib_error(conf, correct, ls->n, c->bin, 1, &m->rms_paper, &m->mad_paper));
    RCL_TRY(rcl_calib_error(conf, correct, ls->n, c->bin, 0, &m->rms_textbook, &m->mad_textbook));
    RCL_TRY(rcl_calib_ece(conf, correct, ls->n, c->ece_bins, &m->ece));
    RCL_TRY(rcl_calib_aurra(conf, correct, ls->n, &m->aurra));
    return rcl_calib_nll(ls->logits, y, ls->n, ls->k, T, &m->nll);
}

static rcl_status evaluate(const rcl_logit_set *test, const rcl_logit_set *val, const rcl_calib_config *c,
                           const int *y, double *conf, int *correct, rcl_calib_report *r) {
    r->T = 1.0;
    if (val) {
        int *vy = NULL;
        rcl_status s = labels_of(val, "validation", &vy);
        if (s == RCL_OK && val->k != test->k)
            s = rcl_fail(RCL_ERR_INVALID_ARG, "calibration: validation set %s has %d logits per image, %s has %d",
                         val->name ? val->name : "?", val->k, test->name ? test->name : "?", test->k);
        if (s == RCL_OK)
            s = rcl_calib_tune_temperature(val->logits, vy, val->n, val->k, RCL_TEMP_LO, RCL_TEMP_HI, RCL_TEMP_TOL,
                                           &r->T);
        if (s == RCL_OK)
            s = rcl_calib_nll(val->logits, vy, val->n, val->k, 1.0, &r->val_nll_1);
        if (s == RCL_OK)
            s = rcl_calib_nll(val->logits, vy, val->n, val->k, r->T, &r->val_nll_T);
        free(vy);
        if (s != RCL_OK)
            return fail_in(s, val->name ? val->name : "validation set");
        r->tuned = 1;
    }
    const char *name = test->name ? test->name : "test set";
    rcl_status s = measures_at(test, y, r->T, c, conf, correct, &r->at_T);
    if (s == RCL_OK) /* T = 1 last: conf and correct are left at T = 1 */
        s = measures_at(test, y, 1.0, c, conf, correct, &r->at_1);
    if (s != RCL_OK)
        return fail_in(s, name);
    long right = 0;
    for (int i = 0; i < test->n; i++)
        right += correct[i];
    r->error = 1.0 - (double)right / test->n;
    /* paper mode: Table 5 reports T = 1 and skips the last bin; textbook: tuned T, all bins */
    const rcl_calib_measures *h = c->paper_mode ? &r->at_1 : &r->at_T;
    r->T_used = h->T;
    r->rms = c->paper_mode ? h->rms_paper : h->rms_textbook;
    r->mad = c->paper_mode ? h->mad_paper : h->mad_textbook;
    if (!c->paper_mode)
        RCL_TRY(rcl_confidence_correct(test->logits, y, test->n, test->k, r->T_used, conf, correct));
    return rcl_calib_reliability(conf, correct, test->n, r->n_bins, r->bins);
}

rcl_status rcl_calib_evaluate(const rcl_logit_set *test, const rcl_logit_set *val, const rcl_calib_config *cfg,
                              rcl_calib_report *out) {
    memset(out, 0, sizeof *out);
    rcl_calib_config c = cfg ? *cfg : rcl_calib_defaults();
    if (!test)
        return rcl_fail(RCL_ERR_INVALID_ARG, "calibration: no test set");
    if (c.bin < 1 || c.ece_bins < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "calibration: bin size and ECE bins must be >= 1 (got %d, %d)", c.bin,
                        c.ece_bins);
    int *y = NULL;
    RCL_TRY(labels_of(test, "test", &y));
    out->paper_mode = c.paper_mode;
    out->bin = c.bin;
    out->n_bins = c.ece_bins;
    out->n = test->n;
    double *conf = malloc(sizeof(double) * (size_t)test->n);
    int *correct = malloc(sizeof(int) * (size_t)test->n);
    out->bins = calloc((size_t)c.ece_bins, sizeof *out->bins);
    rcl_status s = conf && correct && out->bins
                       ? evaluate(test, val, &c, y, conf, correct, out)
                       : rcl_fail(RCL_ERR_NO_MEMORY, "calibration: out of memory for %d images", test->n);
    free(y);
    free(conf);
    free(correct);
    if (s != RCL_OK)
        rcl_calib_report_free(out);
    return s;
}

static void measures_json(rcl_json_writer *w, const rcl_calib_measures *m) {
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "T");
    rcl_jw_number(w, m->T);
    rcl_jw_key(w, "rms_paper");
    rcl_jw_number(w, m->rms_paper);
    rcl_jw_key(w, "mad_paper");
    rcl_jw_number(w, m->mad_paper);
    rcl_jw_key(w, "rms_textbook");
    rcl_jw_number(w, m->rms_textbook);
    rcl_jw_key(w, "mad_textbook");
    rcl_jw_number(w, m->mad_textbook);
    rcl_jw_key(w, "ece");
    rcl_jw_number(w, m->ece);
    rcl_jw_key(w, "aurra");
    rcl_jw_number(w, m->aurra);
    rcl_jw_key(w, "nll");
    rcl_jw_number(w, m->nll);
    rcl_jw_end_object(w);
}

void rcl_calib_report_json(rcl_json_writer *w, const rcl_calib_report *r) {
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "mode");
    rcl_jw_string(w, r->paper_mode ? "paper" : "textbook");
    rcl_jw_key(w, "bin_size");
    rcl_jw_int(w, r->bin);
    rcl_jw_key(w, "images");
    rcl_jw_int(w, r->n);
    rcl_jw_key(w, "error");
    rcl_jw_number(w, r->error);
    rcl_jw_key(w, "temperature");
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "tuned");
    rcl_jw_bool(w, r->tuned);
    rcl_jw_key(w, "T");
    rcl_jw_number(w, r->T);
    rcl_jw_key(w, "used");
    rcl_jw_number(w, r->T_used);
    if (r->tuned) {
        rcl_jw_key(w, "validation_nll_at_1");
        rcl_jw_number(w, r->val_nll_1);
        rcl_jw_key(w, "validation_nll_at_T");
        rcl_jw_number(w, r->val_nll_T);
    }
    rcl_jw_end_object(w);
    rcl_jw_key(w, "rms");
    rcl_jw_number(w, r->rms);
    rcl_jw_key(w, "mad");
    rcl_jw_number(w, r->mad);
    rcl_jw_key(w, "at_1");
    measures_json(w, &r->at_1);
    if (r->tuned) {
        rcl_jw_key(w, "at_T");
        measures_json(w, &r->at_T);
    }
    rcl_jw_key(w, "reliability");
    rcl_jw_begin_array(w);
    for (int b = 0; b < r->n_bins; b++) {
        rcl_jw_begin_object(w);
        rcl_jw_key(w, "lo");
        rcl_jw_number(w, r->bins[b].lo);
        rcl_jw_key(w, "hi");
        rcl_jw_number(w, r->bins[b].hi);
        rcl_jw_key(w, "count");
        rcl_jw_int(w, r->bins[b].count);
        rcl_jw_key(w, "confidence");
        rcl_jw_number(w, r->bins[b].conf);
        rcl_jw_key(w, "accuracy");
        rcl_jw_number(w, r->bins[b].acc);
        rcl_jw_end_object(w);
    }
    rcl_jw_end_array(w);
    rcl_jw_end_object(w);
}
