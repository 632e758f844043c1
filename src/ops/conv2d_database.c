/* Stored kernel configurations: rows of the cache file and of robustcl's database
 * (conv2d_database.h). */
#define _POSIX_C_SOURCE 200809L
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv2d_database.h"

int conv_batch_bucket(int n) {
    int b = 1;
    while (b < n && b < (1 << 30))
        b <<= 1;
    return b;
}

int conv_row_parse(const char *line, conv_row *out) {
    char pass[8], config[RCL_CONV_CONFIG_LEN];
    rcl_conv_shape s;
    int used = 0;
    if (sscanf(line, " %7s %d %d %d %d %d %d %d %d %d %63s%n", pass, &s.n, &s.c_in, &s.h, &s.w,
               &s.c_out, &s.kh, &s.kw, &s.stride, &s.pad, config, &used) != 11)
        return 0;
    if (s.n < 1 || s.c_in < 1 || s.h < 1 || s.w < 1 || s.c_out < 1 || s.kh < 1 || s.kw < 1 ||
        s.stride < 1 || s.pad < 0)
        return 0;
    int p = -1;
    for (int i = 0; i < RCL_CONV_PASSES; i++)
        if (strcmp(pass, rcl_conv_pass_name((rcl_conv_pass)i)) == 0)
            p = i;
    conv_row r;
    memset(&r, 0, sizeof r);
    int given;
    if (p < 0 || conv_config_parse(config, strlen(config), (rcl_conv_pass)p, &r.cfg, &given) != RCL_OK)
        return 0;
    /* a row names every parameter; one the family has since gained keeps its first value */
    r.pub.pass = (rcl_conv_pass)p;
    r.pub.shape = s;
    conv_config_format(&r.cfg, r.pub.config, sizeof r.pub.config);
    r.pub.ms = -1;
    snprintf(r.pub.source, sizeof r.pub.source, "measured");
    char key[16], value[32];
    for (const char *at = line + used; sscanf(at, " %15[^= ]=%31s%n", key, value, &used) == 2; at += used) {
        if (strcmp(key, "ms") == 0)
            r.pub.ms = atof(value);
        else if (strcmp(key, "from") == 0)
            snprintf(r.pub.source, sizeof r.pub.source, "%.11s", value);
    }
    r.build = -1;
    *out = r;
    return 1;
}

void conv_row_format(const conv_row *r, char *out, size_t cap, size_t *len) {
    const rcl_conv_shape *s = &r->pub.shape;
    if (*len >= cap)
        return;
    *len += (size_t)snprintf(out + *len, cap - *len, "%s %d %d %d %d %d %d %d %d %d %s ms=%.4f from=%s\n",
                             rcl_conv_pass_name(r->pub.pass), s->n, s->c_in, s->h, s->w, s->c_out,
                             s->kh, s->kw, s->stride, s->pad, r->pub.config, r->pub.ms, r->pub.source);
}

static int same_geometry(const rcl_conv_shape *a, const rcl_conv_shape *b) {
    return a->kh == b->kh && a->kw == b->kw && a->stride == b->stride && a->pad == b->pad;
}

int conv_row_matches(const conv_row *r, rcl_conv_pass p, const rcl_conv_shape *s, int with_batch) {
    const rcl_conv_shape *k = &r->pub.shape;
    return r->pub.pass == p && same_geometry(k, s) && k->c_in == s->c_in && k->h == s->h &&
           k->w == s->w && k->c_out == s->c_out &&
           (!with_batch || conv_batch_bucket(k->n) == conv_batch_bucket(s->n));
}

static int differs(int a, int b) { return a != b; }

int conv_row_distance(const conv_row *r, rcl_conv_pass p, const rcl_conv_shape *s) {
    const rcl_conv_shape *k = &r->pub.shape;
    if (r->pub.pass != p || !same_geometry(k, s))
        return -1;
    return 4 * (differs(k->h, s->h) + differs(k->w, s->w)) + 2 * differs(k->c_out, s->c_out) +
           differs(k->c_in, s->c_in) + differs(conv_batch_bucket(k->n), conv_batch_bucket(s->n));
}

/* ---- the database ---- */

static int add_row(conv_db_entry *e, const conv_row *r) {
    conv_row *rows = realloc(e->rows, (size_t)(e->n + 1) * sizeof *rows);
    if (!rows)
        return 0;
    e->rows = rows;
    e->rows[e->n++] = *r;
    return 1;
}

/* The rest of a "key VALUE" line, trimmed, into out. */
static void line_value(const char *line, size_t skip, char *out, size_t cap) {
    const char *v = line + skip;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strcspn(v, "\n\r");
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    snprintf(out, cap, "%.*s", (int)n, v);
}

static int entry_matches(const rcl_device *d, const conv_db_entry *e) {
    const rcl_device_info *inf = rcl_device_get_info(d);
    return fnmatch(e->device, inf->name, 0) == 0 && fnmatch(e->platform, inf->platform_name, 0) == 0 &&
           fnmatch(e->driver, inf->driver_version, 0) == 0;
}

int conv_db_find(const rcl_device *d, const char *text, conv_db_entry *e) {
    memset(e, 0, sizeof *e);
    int in_entry = 0, found = 0;
    for (const char *line = text; *line && !found;) {
        size_t len = strcspn(line, "\n");
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
        line += len + (line[len] == '\n');
        if (strncmp(buf, "device ", 7) == 0) {
            if (in_entry && entry_matches(d, e))
                found = 1;
            else {
                conv_db_free(e);
                line_value(buf, 7, e->device, sizeof e->device);
                snprintf(e->platform, sizeof e->platform, "*");
                snprintf(e->driver, sizeof e->driver, "*");
                in_entry = 1;
            }
            continue;
        }
        conv_row r;
        if (!in_entry || buf[0] == '#')
            continue;
        if (strncmp(buf, "platform ", 9) == 0)
            line_value(buf, 9, e->platform, sizeof e->platform);
        else if (strncmp(buf, "driver ", 7) == 0)
            line_value(buf, 7, e->driver, sizeof e->driver);
        else if (conv_row_parse(buf, &r) && !add_row(e, &r))
            break;
    }
    if (!found && in_entry && entry_matches(d, e))
        found = 1;
    if (!found)
        conv_db_free(e);
    return found;
}

void conv_db_free(conv_db_entry *e) {
    free(e->rows);
    memset(e, 0, sizeof *e);
}
