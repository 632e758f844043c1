/* What the device benchmarks share: their peer (bench/peer_pytorch.py run as a subprocess, its
 * JSON read back), the device provenance they record and their summary rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* Runs the peer script with `args`; returns its JSON (last line of stdout) or NULL, with the
 * reason in why. */
rcl_json *rcl_bench_run_peer(const char *script, const char *args, char *why, size_t cap) {
    const char *py = rcl_cli_python();
    FILE *probe = fopen(script, "r");
    if (!probe) {
        snprintf(why, cap, "peer unavailable (no %s; see --peer-script)", script);
        return NULL;
    }
    fclose(probe);
    if (strchr(script, '\'') || strchr(py, '\'')) {
        snprintf(why, cap, "peer unavailable (quote in the script or interpreter path)");
        return NULL;
    }
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' '%s' %s 2>&1", py, script, args);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    if (!p) {
        snprintf(why, cap, "peer unavailable (cannot run %s)", py);
        return NULL;
    }
    char line[65536], last[65536] = "";
    while (fgets(line, sizeof line, p))
        if (line[0] != '\n')
            memcpy(last, line, sizeof line);
    int rc = pclose(p);
    rcl_json *j = NULL;
    if (rc != 0 || rcl_json_parse(last, strlen(last), "peer output", NULL, &j) != RCL_OK) {
        last[strcspn(last, "\n")] = 0;
        snprintf(why, cap, "peer unavailable (%s: %.200s)", py, last[0] ? last : "no output");
        rcl_json_free(j);
        return NULL;
    }
    return j;
}

void rcl_bench_json_peer(rcl_json_writer *jw, const rcl_json *peer, const char *why) {
    rcl_jw_key(jw, "peer");
    if (!peer) {
        rcl_jw_null(jw);
        rcl_jw_key(jw, "peer_unavailable"), rcl_jw_string(jw, why);
        return;
    }
    rcl_json_writer tmp; /* the peer's object verbatim */
    rcl_jw_init(&tmp, NULL, 0);
    rcl_jw_begin_object(&tmp);
    for (size_t i = 0; i < peer->len; i++) {
        const rcl_json *v = &peer->items[i];
        if (v->type == RCL_JSON_STRING || v->type == RCL_JSON_NUMBER || v->type == RCL_JSON_BOOL) {
            rcl_jw_key(&tmp, peer->keys[i]);
            v->type == RCL_JSON_STRING ? rcl_jw_string(&tmp, v->string)
            : v->type == RCL_JSON_BOOL ? rcl_jw_bool(&tmp, v->boolean)
                                       : rcl_jw_number(&tmp, v->number);
        }
    }
    rcl_jw_end_object(&tmp);
    char *text = rcl_jw_take(&tmp, NULL);
    rcl_jw_raw(jw, text ? text : "null");
    free(text);
}


void rcl_bench_json_device(rcl_json_writer *jw, rcl_device *d) {
    const rcl_device_info *inf = rcl_device_get_info(d);
    rcl_jw_key(jw, "device"), rcl_jw_string(jw, inf->name);
    rcl_jw_key(jw, "platform"), rcl_jw_string(jw, inf->platform_name);
    rcl_jw_key(jw, "driver"), rcl_jw_string(jw, inf->driver_version);
    rcl_jw_key(jw, "opencl_c"), rcl_jw_string(jw, inf->c_version);
    rcl_jw_key(jw, "gemm_params_source"), rcl_jw_string(jw, rcl_gemm_params_source(d));
    char gemm[256];
    rcl_jw_key(jw, "gemm_params_described"), rcl_jw_string(jw, rcl_gemm_params_describe(inf, gemm, sizeof gemm));
    rcl_cli_provenance(jw, d);
}

void rcl_bench_summary_add(rcl_bench_summary *sum, const char *label, double value, double peer) {
    if (sum->rows == RCL_BENCH_ROWS)
        return;
    snprintf(sum->label[sum->rows], sizeof sum->label[0], "%s", label);
    sum->value[sum->rows] = value, sum->peer[sum->rows] = peer;
    sum->rows++;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

rcl_bench_stat rcl_bench_stats(const double *v, int n) {
    rcl_bench_stat s = {0, 0, 0, 0};
    double sorted[RCL_BENCH_MAX_REPEAT];
    for (int i = 0; i < n && i < RCL_BENCH_MAX_REPEAT; i++)
        if (v[i] > 0)
            sorted[s.n++] = v[i];
    if (!s.n)
        return s;
    qsort(sorted, (size_t)s.n, sizeof *sorted, cmp_double);
    s.median = s.n % 2 ? sorted[s.n / 2] : 0.5 * (sorted[s.n / 2 - 1] + sorted[s.n / 2]);
    s.min = sorted[0], s.max = sorted[s.n - 1];
    return s;
}

int rcl_bench_stat_format(const rcl_bench_stat *s, const char *fmt, char *out, size_t cap) {
    if (!s->n)
        return snprintf(out, cap, "-");
    char a[32], b[32], c[32];
    snprintf(a, sizeof a, fmt, s->median), snprintf(b, sizeof b, fmt, s->min), snprintf(c, sizeof c, fmt, s->max);
    return s->n == 1 ? snprintf(out, cap, "%s", a) : snprintf(out, cap, "%s (%s-%s)", a, b, c);
}

void rcl_bench_json_stat(rcl_json_writer *jw, const char *key, const double *v, int n) {
    rcl_bench_stat s = rcl_bench_stats(v, n);
    rcl_jw_key(jw, key);
    rcl_jw_begin_object(jw);
    rcl_jw_key(jw, "median"), s.n ? rcl_jw_number(jw, s.median) : rcl_jw_null(jw);
    rcl_jw_key(jw, "min"), s.n ? rcl_jw_number(jw, s.min) : rcl_jw_null(jw);
    rcl_jw_key(jw, "max"), s.n ? rcl_jw_number(jw, s.max) : rcl_jw_null(jw);
    rcl_jw_key(jw, "samples");
    rcl_jw_begin_array(jw);
    for (int i = 0; i < n; i++)
        v[i] > 0 ? rcl_jw_number(jw, v[i]) : rcl_jw_null(jw);
    rcl_jw_end_array(jw);
    rcl_jw_end_object(jw);
}
