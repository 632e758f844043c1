/* Run results and the stage cache that makes the suite resumable. */
#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "suite_internal.h"

void rcl_run_set(rcl_run_result *r, const char *key, double v) {
    for (int i = 0; i < r->nmetrics; i++)
        if (!strcmp(r->metrics[i].key, key)) {
            r->metrics[i].value = v;
            return;
        }
    if (r->nmetrics == RCL_RUN_METRICS)
        return;
    snprintf(r->metrics[r->nmetrics].key, sizeof r->metrics[0].key, "%s", key);
    r->metrics[r->nmetrics++].value = v;
}

double rcl_run_get(const rcl_run_result *r, const char *key, double dflt) {
    for (int i = 0; i < r->nmetrics; i++)
        if (!strcmp(r->metrics[i].key, key))
            return r->metrics[i].value;
    return dflt;
}

void rcl_run_unset(rcl_run_result *r, const char *key) {
    for (int i = 0; i < r->nmetrics; i++)
        if (!strcmp(r->metrics[i].key, key)) {
            memmove(&r->metrics[i], &r->metrics[i + 1], (size_t)(r->nmetrics - i - 1) * sizeof r->metrics[0]);
            r->nmetrics--;
            return;
        }
}

void rcl_run_series(rcl_run_result *r, const char *name, const double *v, int n) {
    if (r->nseries == RCL_RUN_SERIES || n <= 0)
        return;
    rcl_series *s = &r->series[r->nseries];
    s->v = malloc((size_t)n * sizeof *s->v);
    if (!s->v)
        return;
    memcpy(s->v, v, (size_t)n * sizeof *s->v);
    s->n = n;
    snprintf(s->name, sizeof s->name, "%s", name);
    r->nseries++;
}

const rcl_series *rcl_run_find_series(const rcl_run_result *r, const char *name) {
    for (int i = 0; i < r->nseries; i++)
        if (!strcmp(r->series[i].name, name))
            return &r->series[i];
    return NULL;
}

void rcl_run_free(rcl_run_result *r) {
    for (int i = 0; i < r->nseries; i++)
        free(r->series[i].v);
    r->nseries = 0;
    free(r->provenance);
    r->provenance = NULL;
}

static void stage_path(const char *out_dir, const char *id, char *path, size_t cap) {
    char safe[200];
    size_t j = 0;
    for (size_t i = 0; id[i] && j + 1 < sizeof safe; i++)
        safe[j++] = (id[i] == '/' || id[i] == ' ') ? '_' : id[i];
    safe[j] = 0;
    snprintf(path, cap, "%s/stages/%s.json", out_dir, safe);
}

void rcl_run_write_json(rcl_json_writer *w, const rcl_run_result *r) {
    char hash[24];
    snprintf(hash, sizeof hash, "%016" PRIx64, r->hash);
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "id"), rcl_jw_string(w, r->id);
    if (r->dataset[0])
        rcl_jw_key(w, "dataset"), rcl_jw_string(w, r->dataset);
    rcl_jw_key(w, "experiment"), rcl_jw_string(w, r->experiment);
    rcl_jw_key(w, "method"), rcl_jw_string(w, r->method);
    rcl_jw_key(w, "arm"), rcl_jw_string(w, r->arm);
    rcl_jw_key(w, "setting"), rcl_jw_number(w, r->setting);
    rcl_jw_key(w, "seed"), rcl_jw_int(w, r->seed);
    rcl_jw_key(w, "config_hash"), rcl_jw_string(w, hash);
    rcl_jw_key(w, "metrics");
    rcl_jw_begin_object(w);
    for (int i = 0; i < r->nmetrics; i++)
        rcl_jw_key(w, r->metrics[i].key), rcl_jw_number(w, r->metrics[i].value);
    rcl_jw_end_object(w);
    rcl_jw_key(w, "series");
    rcl_jw_begin_object(w);
    for (int i = 0; i < r->nseries; i++) {
        rcl_jw_key(w, r->series[i].name);
        rcl_jw_begin_array(w);
        for (int j = 0; j < r->series[i].n; j++)
            rcl_jw_number(w, r->series[i].v[j]);
        rcl_jw_end_array(w);
    }
    rcl_jw_end_object(w);
    if (r->provenance)
        rcl_jw_key(w, "provenance"), rcl_jw_raw(w, r->provenance);
    rcl_jw_end_object(w);
}

rcl_status rcl_stage_store(const char *out_dir, const rcl_run_result *r) {
    char dir[4200], path[4400];
    snprintf(dir, sizeof dir, "%s/stages", out_dir);
    RCL_TRY(rcl_mkdirs(dir));
    stage_path(out_dir, r->id, path, sizeof path);
    rcl_json_writer w;
    rcl_jw_init(&w, NULL, 1);
    rcl_run_write_json(&w, r);
    return rcl_jw_save(&w, path);
}

static void copy_str(const rcl_json *obj, const char *key, char *out, size_t cap) {
    const char *v = rcl_json_get_string(obj, key);
    snprintf(out, cap, "%s", v ? v : "");
}

/* A record's fields (strings, numbers, null: a provenance object is flat) back as JSON text. */
static char *flat_object(const rcl_json *o) {
    if (!o || o->type != RCL_JSON_OBJECT)
        return NULL;
    rcl_json_writer w;
    rcl_jw_init(&w, NULL, 0);
    rcl_jw_begin_object(&w);
    for (size_t i = 0; i < o->len; i++) {
        const rcl_json *v = &o->items[i];
        if (v->type == RCL_JSON_STRING)
            rcl_jw_key(&w, o->keys[i]), rcl_jw_string_n(&w, v->string, v->len);
        else if (v->type == RCL_JSON_NUMBER && v->is_int)
            rcl_jw_key(&w, o->keys[i]), rcl_jw_int(&w, v->integer);
        else if (v->type == RCL_JSON_NUMBER)
            rcl_jw_key(&w, o->keys[i]), rcl_jw_number(&w, v->number);
        else if (v->type == RCL_JSON_NULL)
            rcl_jw_key(&w, o->keys[i]), rcl_jw_null(&w);
    }
    rcl_jw_end_object(&w);
    return rcl_jw_take(&w, NULL);
}

static void from_json(const rcl_json *j, rcl_run_result *r) {
    memset(r, 0, sizeof *r);
    copy_str(j, "id", r->id, sizeof r->id);
    copy_str(j, "dataset", r->dataset, sizeof r->dataset);
    copy_str(j, "experiment", r->experiment, sizeof r->experiment);
    copy_str(j, "method", r->method, sizeof r->method);
    copy_str(j, "arm", r->arm, sizeof r->arm);
    r->setting = rcl_json_get_number(j, "setting", 0);
    r->seed = (int)rcl_json_get_number(j, "seed", 0);
    const char *h = rcl_json_get_string(j, "config_hash");
    r->hash = h ? strtoull(h, NULL, 16) : 0;
    const rcl_json *m = rcl_json_get(j, "metrics"), *s = rcl_json_get(j, "series");
    for (size_t i = 0; m && m->type == RCL_JSON_OBJECT && i < m->len; i++)
        rcl_run_set(r, m->keys[i], m->items[i].type == RCL_JSON_NUMBER ? m->items[i].number : 0.0 / 0.0);
    for (size_t i = 0; s && s->type == RCL_JSON_OBJECT && i < s->len; i++) {
        const rcl_json *arr = &s->items[i];
        int n = arr->type == RCL_JSON_ARRAY ? (int)arr->len : 0;
        double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
        for (int k = 0; v && k < n; k++)
            v[k] = arr->items[k].type == RCL_JSON_NUMBER ? arr->items[k].number : 0.0 / 0.0;
        if (v)
            rcl_run_series(r, s->keys[i], v, n);
        free(v);
    }
    r->provenance = flat_object(rcl_json_get(j, "provenance"));
}

int rcl_stage_load(const char *out_dir, const char *id, uint64_t hash, rcl_run_result *r) {
    char path[4400], want[24];
    stage_path(out_dir, id, path, sizeof path);
    rcl_json *j;
    if (rcl_json_parse_file(path, &j) != RCL_OK)
        return 0; /* absent or damaged: run the stage again */
    snprintf(want, sizeof want, "%016" PRIx64, hash);
    const char *h = rcl_json_get_string(j, "config_hash");
    int ok = h && !strcmp(h, want);
    if (ok)
        from_json(j, r);
    rcl_json_free(j);
    return ok;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The stage files of one directory, sorted by name (a stable report order). */
static rcl_status collect_dir(const char *dir, rcl_run_result **runs, int *n, int *cap) {
    char sdir[4200];
    snprintf(sdir, sizeof sdir, "%s/stages", dir);
    DIR *d = opendir(sdir);
    if (!d)
        return rcl_fail(RCL_ERR_IO, "%s: no stage directory (not the --out of a suite run?)", sdir);
    char **names = NULL;
    int nn = 0, capn = 0;
    rcl_status s = RCL_OK;
    for (struct dirent *e; s == RCL_OK && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
            continue;
        if (nn == capn) {
            capn = capn ? 2 * capn : 64;
            char **p = realloc(names, (size_t)capn * sizeof *p);
            if (!p) {
                s = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
                break;
            }
            names = p;
        }
        if (!(names[nn++] = strdup(e->d_name)))
            s = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    }
    closedir(d);
    if (s == RCL_OK && nn > 1)
        qsort(names, (size_t)nn, sizeof *names, by_name);
    for (int i = 0; s == RCL_OK && i < nn; i++) {
        char path[4600];
        snprintf(path, sizeof path, "%s/%s", sdir, names[i]);
        rcl_json *j;
        if ((s = rcl_json_parse_file(path, &j)) != RCL_OK)
            break;
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 128;
            rcl_run_result *p = realloc(*runs, (size_t)*cap * sizeof *p);
            if (!p) {
                rcl_json_free(j);
                s = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
                break;
            }
            *runs = p;
        }
        from_json(j, &(*runs)[(*n)++]);
        rcl_json_free(j);
    }
    for (int i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    return s;
}

rcl_status rcl_stage_collect(const char *const *dirs, int ndirs, rcl_run_result **runs, int *n) {
    int cap = 0;
    *runs = NULL, *n = 0;
    rcl_status s = RCL_OK;
    for (int i = 0; i < ndirs && s == RCL_OK; i++)
        s = collect_dir(dirs[i], runs, n, &cap);
    if (s != RCL_OK) {
        for (int i = 0; i < *n; i++)
            rcl_run_free(&(*runs)[i]);
        free(*runs);
        *runs = NULL, *n = 0;
    }
    return s;
}
