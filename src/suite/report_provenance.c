/* Run records in reports (report_provenance.h). */
#include "report_provenance.h"

#include <stdlib.h>
#include <string.h>

#include "robustcl/log.h"
#include "robustcl/provenance.h"
#include "svg_plot.h"

char *rcl_report_provenance_text(const rcl_run_config *run, rcl_device *d, rcl_model *m, const rcl_dataset *data,
                                 uint64_t seed) {
    rcl_run_config defaults;
    if (!run) {
        rcl_run_config_init(&defaults, 0, NULL);
        run = &defaults;
    }
    rcl_json_writer w;
    rcl_jw_init(&w, NULL, 0);
    rcl_provenance_json(&w, run, d, m, data, seed);
    return rcl_jw_take(&w, NULL);
}

/* What must be the same in every stage a report merges for its numbers to compare. */
static const char *const compared[] = {"robustcl_version", "clblast_version", "platform", "device", "driver"};
#define NCOMPARED (int)(sizeof compared / sizeof *compared)
#define MAX_VALUES 16

typedef struct {
    char value[MAX_VALUES][160];
    int stages[MAX_VALUES], n;
} tally;

static void count(tally *t, const char *v) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->value[i], v)) {
            t->stages[i]++;
            return;
        }
    if (t->n == MAX_VALUES)
        return;
    snprintf(t->value[t->n], sizeof t->value[0], "%s", v);
    t->stages[t->n++] = 1;
}

/* Each compared field's values over the stages that have a record (NULL: none have). */
static tally *tally_stages(const rcl_run_result *runs, int n) {
    tally *t = calloc(NCOMPARED, sizeof *t);
    for (int i = 0; t && i < n; i++) {
        rcl_json *p = NULL;
        if (!runs[i].provenance ||
            rcl_json_parse(runs[i].provenance, strlen(runs[i].provenance), "provenance", NULL, &p) != RCL_OK)
            continue;
        for (int k = 0; k < NCOMPARED; k++) {
            const char *v = rcl_json_get_string(p, compared[k]);
            count(&t[k], v ? v : "none");
        }
        rcl_json_free(p);
    }
    return t;
}

void rcl_report_provenance_json(rcl_json_writer *w, const char *self, const rcl_run_result *runs, int n) {
    rcl_jw_key(w, "provenance");
    rcl_jw_raw(w, self ? self : "null");
    tally *t = tally_stages(runs, n);
    rcl_jw_key(w, "provenance_differences");
    rcl_jw_begin_array(w);
    for (int k = 0; t && k < NCOMPARED; k++) {
        if (t[k].n < 2)
            continue;
        rcl_jw_begin_object(w);
        rcl_jw_key(w, "field"), rcl_jw_string(w, compared[k]);
        rcl_jw_key(w, "stages");
        rcl_jw_begin_object(w);
        for (int i = 0; i < t[k].n; i++)
            rcl_jw_key(w, t[k].value[i]), rcl_jw_int(w, t[k].stages[i]);
        rcl_jw_end_object(w);
        rcl_jw_end_object(w);
    }
    rcl_jw_end_array(w);
    free(t);
}

/* "'A' (3 stages), 'B' (1 stage)". */
static void values_text(const tally *t, char *out, size_t cap) {
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < t->n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s'%s' (%d stage%s)", i ? ", " : "", t->value[i],
                                t->stages[i], t->stages[i] == 1 ? "" : "s");
}

void rcl_report_provenance_warn(const rcl_run_result *runs, int n) {
    tally *t = tally_stages(runs, n);
    for (int k = 0; t && k < NCOMPARED; k++)
        if (t[k].n > 1) {
            char text[2048];
            values_text(&t[k], text, sizeof text);
            rcl_log(RCL_LOG_WARNING, "warning: the stages merged here differ in %s: %s", compared[k], text);
        }
    free(t);
}

/* self's fields as a definition list. */
static void self_html(FILE *f, const char *self) {
    rcl_json *p = NULL;
    if (!self || rcl_json_parse(self, strlen(self), "provenance", NULL, &p) != RCL_OK)
        return;
    fprintf(f, "<dl style='display:grid;grid-template-columns:max-content auto;gap:0 1em;margin:0'>\n");
    for (size_t i = 0; i < p->len; i++) {
        const rcl_json *v = &p->items[i];
        char num[64];
        const char *text = v->type == RCL_JSON_STRING ? v->string : v->type == RCL_JSON_NULL ? "none" : num;
        if (v->type == RCL_JSON_NUMBER)
            snprintf(num, sizeof num, "%.6g", v->number);
        else if (v->type != RCL_JSON_STRING && v->type != RCL_JSON_NULL)
            continue;
        fprintf(f, "<dt>");
        rcl_html_escape(f, p->keys[i]);
        fprintf(f, "</dt><dd style='margin:0'>");
        rcl_html_escape(f, text);
        fprintf(f, "</dd>\n");
    }
    fprintf(f, "</dl>\n");
    rcl_json_free(p);
}

void rcl_report_provenance_html(FILE *f, const char *self, const rcl_run_result *runs, int n) {
    fprintf(f, "<footer style='margin-top:2em;border-top:1px solid #ccc;color:#555;font-size:85%%'>\n"
               "<h2>Provenance</h2>\n");
    self_html(f, self);
    tally *t = tally_stages(runs, n);
    for (int k = 0; t && k < NCOMPARED; k++)
        if (t[k].n > 1) {
            char text[2048];
            values_text(&t[k], text, sizeof text);
            fprintf(f, "<p style='color:#b22222'>The stages differ in %s: ", compared[k]);
            rcl_html_escape(f, text);
            fprintf(f, "</p>\n");
        }
    free(t);
    if (n > 0)
        fprintf(f, "<p>Every stage's own record is in report.json (runs[].provenance).</p>\n");
    fprintf(f, "</footer>\n");
}
