/* bench --device all (or a list): the same benchmark on several devices in one run, compared
 * in one table (a column per device, the peer beside them) and on an HTML page with a bar
 * chart, the tool for benchmarking kernels across vendors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/fileio.h"
#include "suite/report_provenance.h"
#include "suite/svg_plot.h"

/* One allocation: the pointers, then the strings, so that free(list) frees everything. */
static char **pack_list(const char *const *items, int n) {
    size_t bytes = (size_t)n * sizeof(char *);
    for (int i = 0; i < n; i++)
        bytes += strlen(items[i]) + 1;
    char **list = malloc(bytes);
    if (!list)
        return NULL;
    char *p = (char *)(list + n);
    for (int i = 0; i < n; i++) {
        list[i] = p;
        p = stpcpy(p, items[i]) + 1;
    }
    return list;
}

static char **all_devices(int *count) {
    rcl_device_info *inf;
    int n;
    if (rcl_device_list(&inf, &n) != RCL_OK)
        return NULL;
    char(*sel)[24] = calloc((size_t)n + 1, sizeof *sel);
    const char **items = calloc((size_t)n + 1, sizeof *items);
    char **list = NULL;
    if (sel && items) {
        for (int i = 0; i < n; i++) {
            snprintf(sel[i], sizeof sel[i], "%d:%d", inf[i].platform_index, inf[i].device_index);
            items[i] = sel[i];
        }
        list = pack_list(items, n);
        *count = n;
    }
    free(items), free(sel), free(inf);
    return list;
}

char **rcl_bench_device_list(const char *sel, int *count) {
    *count = 0;
    if (!sel || (strcmp(sel, "all") && !strchr(sel, ',')))
        return NULL;
    if (!strcmp(sel, "all"))
        return all_devices(count);
    char *copy = strdup(sel);
    const char *items[64];
    int n = 0;
    for (char *save = NULL, *t = copy ? strtok_r(copy, ",", &save) : NULL; t && n < 64;
         t = strtok_r(NULL, ",", &save))
        items[n++] = t;
    char **list = n ? pack_list(items, n) : NULL;
    *count = list ? n : 0;
    free(copy);
    return list;
}

/* The peer's column comes from the first device's run, the only one that asks for it. */
static const rcl_bench_summary *peer_of(const rcl_bench_summary *sums, int n) {
    for (int i = 0; i < n; i++)
        if (sums[i].peer_name[0])
            return &sums[i];
    return NULL;
}

/* The rows of the first device that ran: every device runs the same rows. */
static const rcl_bench_summary *rows_of(const rcl_bench_summary *sums, int n) {
    for (int i = 0; i < n; i++)
        if (sums[i].rows > 0)
            return &sums[i];
    return NULL;
}

void rcl_bench_print_table(const char *const *devices, const char *const *names, const rcl_bench_summary *sums,
                           int n) {
    const rcl_bench_summary *rows = rows_of(sums, n), *peer = peer_of(sums, n);
    if (!rows)
        return;
    printf("\n== across devices: %s, %s (higher is better) ==\n%-28s", rows->title, rows->unit, "");
    for (int i = 0; i < n; i++)
        printf(" %12.12s", devices[i]);
    if (peer)
        printf(" %12s", "peer");
    printf("\n");
    for (int r = 0; r < rows->rows; r++) {
        printf("%-28s", rows->label[r]);
        for (int i = 0; i < n; i++)
            sums[i].rows > r ? printf(" %12.1f", sums[i].value[r]) : printf(" %12s", "failed");
        if (peer)
            peer->peer[r] > 0 ? printf(" %12.1f", peer->peer[r]) : printf(" %12s", "-");
        printf("\n");
    }
    for (int i = 0; i < n; i++)
        printf("%s: %s\n", devices[i], names[i]);
    if (peer)
        printf("peer: %s\n", peer->peer_name);
}

/* "table": the rows, a column per device (null where it failed) and the peer's. */
void rcl_bench_json_table(rcl_json_writer *jw, const char *const *sel, const char *const *names,
                          const rcl_bench_summary *sums, int n) {
    const rcl_bench_summary *rows = rows_of(sums, n), *peer = peer_of(sums, n);
    rcl_jw_key(jw, "table");
    if (!rows) {
        rcl_jw_null(jw);
        return;
    }
    rcl_jw_begin_object(jw);
    rcl_jw_key(jw, "title"), rcl_jw_string(jw, rows->title);
    rcl_jw_key(jw, "unit"), rcl_jw_string(jw, rows->unit);
    rcl_jw_key(jw, "rows");
    rcl_jw_begin_array(jw);
    for (int r = 0; r < rows->rows; r++)
        rcl_jw_string(jw, rows->label[r]);
    rcl_jw_end_array(jw);
    rcl_jw_key(jw, "columns");
    rcl_jw_begin_array(jw);
    for (int i = 0; i < n; i++) {
        rcl_jw_begin_object(jw);
        rcl_jw_key(jw, "selector"), rcl_jw_string(jw, sel[i]);
        rcl_jw_key(jw, "device"), rcl_jw_string(jw, names[i]);
        rcl_jw_key(jw, "values");
        rcl_jw_begin_array(jw);
        for (int r = 0; r < rows->rows; r++)
            sums[i].rows > r ? rcl_jw_number(jw, sums[i].value[r]) : rcl_jw_null(jw);
        rcl_jw_end_array(jw);
        rcl_jw_end_object(jw);
    }
    rcl_jw_end_array(jw);
    rcl_jw_key(jw, "peer");
    if (peer) {
        rcl_jw_begin_object(jw);
        rcl_jw_key(jw, "name"), rcl_jw_string(jw, peer->peer_name);
        rcl_jw_key(jw, "values");
        rcl_jw_begin_array(jw);
        for (int r = 0; r < rows->rows; r++)
            peer->peer[r] > 0 ? rcl_jw_number(jw, peer->peer[r]) : rcl_jw_null(jw);
        rcl_jw_end_array(jw);
        rcl_jw_end_object(jw);
    } else {
        rcl_jw_null(jw);
    }
    rcl_jw_end_object(jw);
}

static const char *const colors[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"};
#define NCOLORS (int)(sizeof colors / sizeof colors[0])

static void chart(FILE *f, const char *const *devices, const rcl_bench_summary *sums, int n) {
    const rcl_bench_summary *rows = rows_of(sums, n), *peer = peer_of(sums, n);
    double ymax = 0;
    for (int r = 0; r < rows->rows; r++) {
        for (int i = 0; i < n; i++)
            if (sums[i].rows > r && sums[i].value[r] > ymax)
                ymax = sums[i].value[r];
        if (peer && peer->peer[r] > ymax)
            ymax = peer->peer[r];
    }
    int groups = n + (peer != NULL);
    double width = 0.8 / groups;
    char *labels[RCL_BENCH_ROWS];
    char numbers[RCL_BENCH_ROWS][8];
    for (int r = 0; r < rows->rows; r++) {
        snprintf(numbers[r], sizeof numbers[r], "%d", r + 1);
        labels[r] = numbers[r];
    }
    rcl_svg_plot p;
    rcl_svg_begin(&p, f, rows->title, "row of the table below", rows->unit, 0, rows->rows, 0, ymax * 1.25,
                  rows->rows);
    rcl_svg_category_ticks(&p, rows->rows, (const char *const *)labels);
    for (int i = 0; i < groups; i++) {
        const char *color = colors[i % NCOLORS];
        for (int r = 0; r < rows->rows; r++) {
            double v = i < n ? (sums[i].rows > r ? sums[i].value[r] : 0) : peer->peer[r];
            rcl_svg_bar(&p, r + 0.1 + width * i, width, v, color);
        }
        rcl_svg_legend(&p, i, color, i < n ? devices[i] : "peer", 0);
    }
    rcl_svg_end(&p);
}

static void table(FILE *f, const char *const *devices, const rcl_bench_summary *sums, int n) {
    const rcl_bench_summary *rows = rows_of(sums, n), *peer = peer_of(sums, n);
    fprintf(f, "<table><tr><th>#</th><th class='l'>");
    rcl_html_escape(f, rows->unit);
    fprintf(f, "</th>");
    for (int i = 0; i < n; i++) {
        fprintf(f, "<th>");
        rcl_html_escape(f, devices[i]);
        fprintf(f, "</th>");
    }
    fprintf(f, "%s</tr>\n", peer ? "<th>peer</th>" : "");
    for (int r = 0; r < rows->rows; r++) {
        fprintf(f, "<tr><td>%d</td><td class='l'>", r + 1);
        rcl_html_escape(f, rows->label[r]);
        fprintf(f, "</td>");
        for (int i = 0; i < n; i++)
            sums[i].rows > r ? fprintf(f, "<td>%.1f</td>", sums[i].value[r]) : fprintf(f, "<td>failed</td>");
        if (peer)
            peer->peer[r] > 0 ? fprintf(f, "<td>%.1f</td>", peer->peer[r]) : fprintf(f, "<td>-</td>");
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
}

static void page(FILE *f, const char *what, const char *const *devices, const char *const *names,
                 const rcl_bench_summary *sums, int n) {
    const rcl_bench_summary *peer = peer_of(sums, n);
    fprintf(f, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>robustcl bench ");
    rcl_html_escape(f, what);
    fprintf(f, "</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
               "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
               "td.l,th.l{text-align:left}svg{margin:4px;border:1px solid #eee}</style></head><body>\n"
               "<h1>robustcl bench ");
    rcl_html_escape(f, what);
    fprintf(f, " across devices</h1>\n<ul>\n");
    for (int i = 0; i < n; i++) {
        fprintf(f, "<li><b>");
        rcl_html_escape(f, devices[i]);
        fprintf(f, "</b>: ");
        rcl_html_escape(f, names[i]);
        fprintf(f, "</li>\n");
    }
    if (peer) {
        fprintf(f, "<li><b>peer</b>: ");
        rcl_html_escape(f, peer->peer_name);
        fprintf(f, "</li>\n");
    }
    fprintf(f, "</ul>\n");
    if (rows_of(sums, n)) {
        chart(f, devices, sums, n);
        table(f, devices, sums, n);
    } else {
        fprintf(f, "<p>No device completed the benchmark.</p>\n");
    }
    /* the run's record; each device's is in the JSON */
    char *self = rcl_report_provenance_text(rcl_cli_run(), NULL, NULL, NULL, 0);
    rcl_report_provenance_html(f, self, NULL, 0);
    free(self);
    fprintf(f, "</body></html>\n");
}

rcl_status rcl_bench_write_html(const char *path, const char *what, const char *const *devices,
                                const char *const *names, const rcl_bench_summary *sums, int n) {
    char *text = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&text, &len);
    if (!mf)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory writing the page", path);
    page(mf, what, devices, names, sums, n);
    fclose(mf);
    rcl_status s = rcl_file_write_atomic(path, text, len);
    free(text);
    return s;
}
