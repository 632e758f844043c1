/* The in-memory dataset: allocation, class selection and seeded subsets. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"
#include "robustcl/rng.h"

void rcl_dataset_free(rcl_dataset *ds) {
    if (!ds)
        return;
    free(ds->pixels);
    free(ds->values);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

size_t rcl_dataset_image_size(const rcl_dataset *ds) {
    return (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
}

rcl_status rcl_dataset_alloc(rcl_dataset *ds, int n, int c, int h, int w, int num_classes,
                             int float_values) {
    memset(ds, 0, sizeof *ds);
    if (n < 0 || c <= 0 || h <= 0 || w <= 0 || num_classes < 0)
        return rcl_fail(RCL_ERR_INVALID_ARG, "dataset shape %d x %d x %d x %d is invalid", n, c, h, w);
    size_t img = (size_t)c * (size_t)h * (size_t)w;
    if (img > ((size_t)1 << 32) || (n && img > SIZE_MAX / 8 / (size_t)n))
        return rcl_fail(RCL_ERR_INVALID_ARG, "dataset shape %d x %d x %d x %d is too large", n, c, h, w);
    size_t total = img * (size_t)n;
    ds->n = n, ds->c = c, ds->h = h, ds->w = w, ds->num_classes = num_classes;
    if (float_values)
        ds->values = calloc(total ? total : 1, sizeof(float));
    else
        ds->pixels = calloc(total ? total : 1, 1);
    ds->labels = malloc(((size_t)n ? (size_t)n : 1) * sizeof(int32_t));
    if (!ds->labels || (float_values ? !ds->values : !ds->pixels)) {
        rcl_dataset_free(ds);
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of memory for %d images of %d x %d x %d", n, c, h, w);
    }
    for (int i = 0; i < n; i++)
        ds->labels[i] = -1;
    return RCL_OK;
}

rcl_status rcl_dataset_take(rcl_dataset *ds, const int64_t *idx, int m) {
    if (m < 0)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: negative subset size %d", ds->name, m);
    for (int i = 0; i < m; i++)
        if (idx[i] < 0 || idx[i] >= ds->n)
            return rcl_fail(RCL_ERR_INVALID_ARG, "%s: index %lld out of range [0,%d)", ds->name,
                            (long long)idx[i], ds->n);
    size_t img = rcl_dataset_image_size(ds);
    size_t esz = ds->values ? sizeof(float) : 1;
    size_t mm = m ? (size_t)m : 1;
    unsigned char *src = ds->values ? (unsigned char *)ds->values : ds->pixels;
    unsigned char *dst = malloc(mm * img * esz);
    int32_t *lab = malloc(mm * sizeof(int32_t));
    if (!dst || !lab) {
        free(dst);
        free(lab);
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory for a subset of %d images", ds->name, m);
    }
    for (int i = 0; i < m; i++) {
        memcpy(dst + (size_t)i * img * esz, src + (size_t)idx[i] * img * esz, img * esz);
        lab[i] = ds->labels ? ds->labels[idx[i]] : -1;
    }
    free(src);
    free(ds->labels);
    if (ds->values)
        ds->values = (float *)dst;
    else
        ds->pixels = dst;
    ds->labels = lab;
    ds->n = m;
    return RCL_OK;
}

/* Keeps images whose class has keep[class] set; relabels kept classes in order. */
static rcl_status keep_mask(rcl_dataset *ds, const unsigned char *keep) {
    int k = ds->num_classes;
    int *map = malloc((size_t)k * sizeof(int));
    int64_t *idx = malloc(((size_t)ds->n ? (size_t)ds->n : 1) * sizeof(int64_t));
    if (!map || !idx) {
        free(map);
        free(idx);
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory selecting classes", ds->name);
    }
    int kept = 0;
    for (int c = 0; c < k; c++)
        map[c] = keep[c] ? kept++ : -1;
    int m = 0;
    for (int i = 0; i < ds->n; i++) {
        int y = ds->labels[i];
        if (y >= 0 && y < k && map[y] >= 0)
            idx[m++] = i;
    }
    rcl_status st = rcl_dataset_take(ds, idx, m);
    if (st == RCL_OK) {
        for (int i = 0; i < ds->n; i++)
            ds->labels[i] = map[ds->labels[i]];
        ds->num_classes = kept;
    }
    free(map);
    free(idx);
    return st;
}

static rcl_status class_mask(rcl_dataset *ds, const int *classes, int k, int keep_listed) {
    if (ds->num_classes <= 0 || !ds->labels)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: class selection needs a labelled dataset", ds->name);
    unsigned char *keep = malloc((size_t)ds->num_classes);
    if (!keep)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory selecting classes", ds->name);
    memset(keep, keep_listed ? 0 : 1, (size_t)ds->num_classes);
    for (int i = 0; i < k; i++) {
        if (classes[i] < 0 || classes[i] >= ds->num_classes) {
            free(keep);
            return rcl_fail(RCL_ERR_INVALID_ARG, "%s: class %d out of range [0,%d)", ds->name, classes[i],
                            ds->num_classes);
        }
        keep[classes[i]] = keep_listed ? 1 : 0;
    }
    rcl_status st = keep_mask(ds, keep);
    free(keep);
    return st;
}

rcl_status rcl_dataset_keep_classes(rcl_dataset *ds, const int *classes, int k) {
    return class_mask(ds, classes, k, 1);
}

rcl_status rcl_dataset_exclude_classes(rcl_dataset *ds, const int *classes, int k) {
    return class_mask(ds, classes, k, 0);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

rcl_status rcl_data_pick(const char *what, int total, int m, uint64_t seed, int64_t **out) {
    *out = NULL;
    if (m < 0 || m > total)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: subset of %d images asked, the set has %d", what, m, total);
    int64_t *idx = malloc(((size_t)total ? (size_t)total : 1) * sizeof(int64_t));
    if (!idx)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory for a subset", what);
    for (int i = 0; i < total; i++)
        idx[i] = i;
    /* partial Fisher-Yates: the first m entries are a uniform sample */
    rcl_rng r = rcl_rng_seed(seed);
    for (int i = 0; i < m; i++) {
        int j = i + (int)rcl_rng_below(&r, (uint64_t)(total - i));
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    qsort(idx, (size_t)m, sizeof *idx, cmp_i64);
    *out = idx;
    return RCL_OK;
}

rcl_status rcl_dataset_subset(rcl_dataset *ds, int m, uint64_t seed) {
    int64_t *idx;
    RCL_TRY(rcl_data_pick(ds->name, ds->n, m, seed, &idx));
    rcl_status st = rcl_dataset_take(ds, idx, m);
    free(idx);
    return st;
}

/* An ImageNet wnid: 'n' and digits. */
static int is_wnid(const char *s) {
    if (s[0] != 'n' || !s[1])
        return 0;
    for (s++; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

typedef struct {
    char (*wnid)[16];
    int *index, n;
} wnid_map;

/* map_clsloc.txt: "n02119789 1 kit_fox" per line (wnid, 1-based index, name). */
static rcl_status read_wnid_map(const char *path, wnid_map *m) {
    unsigned char *text;
    size_t size;
    RCL_TRY(rcl_data_read_file(path, NULL, &text, &size));
    int cap = 0, line = 0;
    rcl_status st = RCL_OK;
    for (char *p = (char *)text; st == RCL_OK && p < (char *)text + size;) {
        char *e = memchr(p, '\n', (size_t)((char *)text + size - p));
        if (!e)
            e = (char *)text + size;
        *e = 0;
        line++;
        char wnid[16], rest[2];
        long idx;
        int got = sscanf(p, "%15s %ld %1s", wnid, &idx, rest);
        p = e + 1;
        if (got <= 0)
            continue; /* blank line */
        if (got < 3 || !is_wnid(wnid) || idx < 1 || idx > INT_MAX) {
            st = rcl_fail(RCL_ERR_FORMAT, "%s:%d: expected \"WNID INDEX NAME\" (map_clsloc.txt: n02119789 1 kit_fox)",
                          path, line);
            break;
        }
        if (m->n == cap) {
            cap = cap ? 2 * cap : 1024;
            char(*w)[16] = realloc(m->wnid, (size_t)cap * sizeof *w);
            if (w)
                m->wnid = w;
            int *ix = realloc(m->index, (size_t)cap * sizeof *ix);
            if (ix)
                m->index = ix;
            if (!w || !ix) {
                st = rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", path);
                break;
            }
        }
        snprintf(m->wnid[m->n], sizeof m->wnid[0], "%s", wnid);
        m->index[m->n++] = (int)(idx - 1);
    }
    free(text);
    return st;
}

rcl_status rcl_read_class_list(const char *path, int num_classes, int **classes, int *k) {
    return rcl_read_class_list_mapped(path, NULL, num_classes, classes, k);
}

/* p without its '#' comment and surrounding blanks (edited in place). */
static char *trim_line(char *p) {
    char *hash = strchr(p, '#');
    if (hash)
        *hash = 0;
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    char *tail = p + strlen(p);
    while (tail > p && (tail[-1] == ' ' || tail[-1] == '\t' || tail[-1] == '\r'))
        *--tail = 0;
    return p;
}

/* The class of entry p (line `line` of path): an index, or a wnid looked up in the map at
 * map_path (read into *map on first use, then *map_read is set). */
static rcl_status entry_class(const char *path, int line, const char *p, const char *map_path, wnid_map *map,
                              int *map_read, int num_classes, long *out) {
    long v = -1;
    if (is_wnid(p)) {
        if (!map_path)
            return rcl_fail(RCL_ERR_FORMAT, "%s:%d: wnid %s needs a wnid map (map_clsloc.txt next to the data, "
                            "or map=FILE)", path, line, p);
        if (!*map_read)
            RCL_TRY(read_wnid_map(map_path, map));
        *map_read = 1;
        for (int i = 0; i < map->n && v < 0; i++)
            if (!strcmp(map->wnid[i], p))
                v = map->index[i];
        if (v < 0)
            return rcl_fail(RCL_ERR_FORMAT, "%s:%d: unknown wnid %s (not in %s)", path, line, p, map_path);
    } else {
        char *end;
        errno = 0;
        v = strtol(p, &end, 10);
        if (end == p || *end || errno)
            v = -1;
    }
    if (v < 0 || v > INT_MAX || (num_classes > 0 && v >= num_classes))
        return rcl_fail(RCL_ERR_FORMAT, "%s:%d: expected a class index in [0,%d) or a wnid, got \"%s\"%s", path,
                        line, num_classes, p, is_wnid(p) ? " (its index in the map is out of range)" : "");
    *out = v;
    return RCL_OK;
}

rcl_status rcl_read_class_list_mapped(const char *path, const char *map_path, int num_classes, int **classes,
                                      int *k) {
    *classes = NULL;
    *k = 0;
    unsigned char *text;
    size_t size;
    RCL_TRY(rcl_data_read_file(path, NULL, &text, &size));
    int cap = 16, n = 0, line = 0;
    int *out = malloc((size_t)cap * sizeof(int));
    rcl_status st = out ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", path);
    wnid_map map = {NULL, NULL, 0};
    int map_read = 0;
    char *p = (char *)text;
    while (st == RCL_OK && p < (char *)text + size) {
        char *e = memchr(p, '\n', (size_t)((char *)text + size - p));
        if (!e)
            e = (char *)text + size;
        *e = 0;
        line++;
        p = trim_line(p);
        long v = 0;
        if (*p && (st = entry_class(path, line, p, map_path, &map, &map_read, num_classes, &v)) == RCL_OK) {
            if (n == cap) {
                int *nb = realloc(out, (size_t)(cap *= 2) * sizeof(int));
                if (!nb) {
                    st = rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", path);
                    break;
                }
                out = nb;
            }
            out[n++] = (int)v;
        }
        p = e + 1;
    }
    free(text);
    free(map.wnid);
    free(map.index);
    if (st != RCL_OK) {
        free(out);
        return st;
    }
    *classes = out;
    *k = n;
    return RCL_OK;
}
