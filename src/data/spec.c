/* Dataset specs: "KIND[:ARG][,OPTION=VALUE]..." -> a loaded, filtered dataset. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

#ifndef RCL_HAVE_MATIO
int rcl_data_have_matio(void) { return 0; }
#endif

enum { ARG_NONE, ARG_OPTIONAL, ARG_REQUIRED };
enum {
    OPT_CLASSES = 1 << 0, OPT_EXCLUDE = 1 << 1, OPT_N = 1 << 2, OPT_SEED = 1 << 3, OPT_SPLIT = 1 << 4,
    OPT_SIZE = 1 << 5, OPT_CHANNELS = 1 << 6, OPT_LAYOUT = 1 << 7, OPT_LABELS = 1 << 8, OPT_SHAPE = 1 << 9,
    OPT_MAP = 1 << 10,
};
#define OPT_LABELLED (OPT_CLASSES | OPT_EXCLUDE | OPT_N | OPT_SEED | OPT_SPLIT | OPT_MAP)

static const struct {
    const char *kind;
    int arg;
    unsigned opts;
} kinds[] = {
    {"fashion-mnist", ARG_OPTIONAL, OPT_LABELLED},
    {"cifar10", ARG_REQUIRED, OPT_LABELLED},
    {"cifar100", ARG_REQUIRED, OPT_LABELLED | OPT_LABELS},
    {"imagenet32", ARG_REQUIRED, OPT_LABELLED},
    {"svhn", ARG_REQUIRED, OPT_LABELLED},
    {"folder", ARG_REQUIRED, (OPT_LABELLED & ~OPT_SPLIT) | OPT_SIZE | OPT_CHANNELS | OPT_LAYOUT},
    {"tinyimagenet", ARG_REQUIRED, OPT_LABELLED | OPT_SIZE | OPT_CHANNELS},
    {"gaussian", ARG_NONE, OPT_N | OPT_SEED | OPT_SHAPE},
    {"rademacher", ARG_NONE, OPT_N | OPT_SEED | OPT_SHAPE},
    {"blobs", ARG_NONE, OPT_N | OPT_SEED | OPT_SHAPE},
};

static int parse_int(const char *s, long lo, long hi, long *out) {
    if (!*s)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < lo || v > hi || !(*s >= '0' && *s <= '9'))
        return 0;
    *out = v;
    return 1;
}

rcl_status rcl_parse_class_ranges(const char *text, int **classes, int *k) {
    *classes = NULL;
    *k = 0;
    int cap = 16, n = 0;
    int *out = malloc((size_t)cap * sizeof(int));
    if (!out)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of memory");
    char tok[64];
    const char *p = text;
    if (!*p) {
        free(out);
        return rcl_fail(RCL_ERR_INVALID_ARG, "classes=: empty class list");
    }
    while (*p) {
        size_t len = strcspn(p, "+");
        if (len == 0 || len >= sizeof tok) {
            free(out);
            return rcl_fail(RCL_ERR_INVALID_ARG, "classes=%s: bad item (use 5-9 or 0+2+4)", text);
        }
        memcpy(tok, p, len);
        tok[len] = 0;
        char *dash = strchr(tok, '-');
        long a, b;
        int ok;
        if (dash) {
            *dash = 0;
            ok = parse_int(tok, 0, 1 << 24, &a) && parse_int(dash + 1, 0, 1 << 24, &b) && a <= b;
        } else {
            ok = parse_int(tok, 0, 1 << 24, &a);
            b = a;
        }
        if (!ok || b - a > 1 << 20) {
            free(out);
            return rcl_fail(RCL_ERR_INVALID_ARG, "classes=%s: bad item \"%.*s\" (use 5-9 or 0+2+4)", text,
                            (int)len, p);
        }
        for (long v = a; v <= b; v++) {
            if (n == cap) {
                int *nb = realloc(out, (size_t)(cap *= 2) * sizeof(int));
                if (!nb) {
                    free(out);
                    return rcl_fail(RCL_ERR_NO_MEMORY, "out of memory");
                }
                out = nb;
            }
            out[n++] = (int)v;
        }
        p += len;
        if (*p == '+') {
            p++;
            if (!*p) {
                free(out);
                return rcl_fail(RCL_ERR_INVALID_ARG, "classes=%s: trailing '+'", text);
            }
        }
    }
    *classes = out;
    *k = n;
    return RCL_OK;
}

/* "S" or "HxW" / "CxHxW" into dims[0..want) */
static int parse_dims(const char *s, int want, int *dims) {
    char buf[64];
    if (strlen(s) >= sizeof buf)
        return 0;
    snprintf(buf, sizeof buf, "%s", s);
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, "x", &save); t; t = strtok_r(NULL, "x", &save)) {
        long v;
        if (n == want || !parse_int(t, 1, 1 << 16, &v))
            return 0;
        dims[n++] = (int)v;
    }
    return n == want && s[strlen(s) - 1] != 'x' && s[0] != 'x' && !strstr(s, "xx");
}

/* The dataset's kind and its ':' argument, before the first ','; *kip: its row of kinds. */
static rcl_status parse_head(const char *spec, rcl_dataset_spec *o, int *kip) {
    size_t headlen = strcspn(spec, ",");
    size_t kindlen = strcspn(spec, ":,");
    if (kindlen >= sizeof o->kind || kindlen == 0)
        return rcl_fail(RCL_ERR_INVALID_ARG, "dataset spec '%s': bad dataset name", spec);
    memcpy(o->kind, spec, kindlen);
    int ki = -1;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(kinds[i].kind, o->kind))
            ki = (int)i;
    if (ki < 0)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "dataset spec '%s': unknown dataset '%s' (fashion-mnist, cifar10, cifar100, imagenet32, svhn, "
                        "folder, tinyimagenet, gaussian, rademacher, blobs)",
                        spec, o->kind);
    if (kindlen < headlen) {
        size_t alen = headlen - kindlen - 1;
        if (alen >= sizeof o->arg)
            return rcl_fail(RCL_ERR_INVALID_ARG, "dataset spec '%s': path too long", spec);
        memcpy(o->arg, spec + kindlen + 1, alen);
        o->arg[alen] = 0;
    }
    if (kinds[ki].arg == ARG_NONE && o->arg[0])
        return rcl_fail(RCL_ERR_INVALID_ARG, "dataset spec '%s': %s takes no ':' argument", spec, o->kind);
    if (kinds[ki].arg == ARG_REQUIRED && !o->arg[0])
        return rcl_fail(RCL_ERR_INVALID_ARG, "dataset spec '%s': %s needs a path (%s:PATH)", spec, o->kind, o->kind);
    *kip = ki;
    return RCL_OK;
}

/* Option `bit` (an OPT_ flag's bit) of o from val; *ok 0 when val is no value for it (a bad
 * class list fails with its own message). */
static rcl_status set_option(rcl_dataset_spec *o, int bit, const char *val, int *okp) {
    long v;
    int ok = 1;
    switch (1 << bit) {
    case OPT_CLASSES: {
        int *cl, k;
        RCL_TRY(rcl_parse_class_ranges(val, &cl, &k));
        free(cl);
        ok = strlen(val) < sizeof o->classes;
        if (ok)
            snprintf(o->classes, sizeof o->classes, "%s", val);
        break;
    }
    case OPT_EXCLUDE:
        ok = *val && strlen(val) < sizeof o->exclude;
        if (ok)
            snprintf(o->exclude, sizeof o->exclude, "%s", val);
        break;
    case OPT_MAP:
        ok = *val && strlen(val) < sizeof o->map;
        if (ok)
            snprintf(o->map, sizeof o->map, "%s", val);
        break;
    case OPT_N:
        ok = parse_int(val, 1, INT_MAX, &v);
        o->n = ok ? (int)v : 0;
        break;
    case OPT_SEED: {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(val, &end, 10);
        ok = *val >= '0' && *val <= '9' && !*end && !errno;
        o->seed = s;
        break;
    }
    case OPT_SPLIT:
        if (!strcmp(val, "train"))
            o->split = 1;
        else if (!strcmp(val, "test") || !strcmp(val, "val"))
            o->split = 0;
        else
            ok = 0;
        break;
    case OPT_SIZE: {
        int d[2];
        if (parse_dims(val, 1, d))
            o->size_h = o->size_w = d[0];
        else if (parse_dims(val, 2, d))
            o->size_h = d[0], o->size_w = d[1];
        else
            ok = 0;
        break;
    }
    case OPT_CHANNELS:
        ok = !strcmp(val, "1") || !strcmp(val, "3");
        o->channels = atoi(val);
        break;
    case OPT_LAYOUT:
        if (!strcmp(val, "auto"))
            o->layout = RCL_FOLDER_AUTO;
        else if (!strcmp(val, "classes"))
            o->layout = RCL_FOLDER_CLASSES;
        else if (!strcmp(val, "flat"))
            o->layout = RCL_FOLDER_FLAT;
        else
            ok = 0;
        break;
    case OPT_LABELS:
        if (!strcmp(val, "coarse"))
            o->coarse = 1;
        else if (strcmp(val, "fine"))
            ok = 0;
        break;
    case OPT_SHAPE: {
        int d[3];
        ok = parse_dims(val, 3, d);
        if (ok)
            o->shape_c = d[0], o->shape_h = d[1], o->shape_w = d[2];
        break;
    }
    }
    *okp = ok;
    return RCL_OK;
}

rcl_status rcl_dataset_spec_parse(const char *spec, rcl_dataset_spec *o) {
    memset(o, 0, sizeof *o);
    o->split = -1;
    if (!spec || !*spec)
        return rcl_fail(RCL_ERR_INVALID_ARG, "empty dataset spec");
    int ki = 0;
    RCL_TRY(parse_head(spec, o, &ki));
    const char *p = spec + strcspn(spec, ",");
    while (*p == ',') {
        p++;
        size_t len = strcspn(p, ",");
        char item[1100];
        if (len >= sizeof item)
            return rcl_fail(RCL_ERR_INVALID_ARG, "dataset spec '%s': option too long", spec);
        memcpy(item, p, len);
        item[len] = 0;
        p += len;
        char *eq = strchr(item, '=');
        if (!eq || eq == item)
            return rcl_fail(RCL_ERR_INVALID_ARG, "dataset spec '%s': option '%s' is not KEY=VALUE%s", spec, item,
                            item[0] >= '0' && item[0] <= '9' ? " (class lists use '+': classes=0+2+4)" : "");
        *eq = 0;
        const char *key = item, *val = eq + 1;
        static const char *names[] = {"classes", "exclude", "n",      "seed",   "split", "size",
                                      "channels", "layout", "labels", "shape", "map"};
        int bit = -1;
        for (int i = 0; i < 11; i++)
            if (!strcmp(key, names[i]))
                bit = i;
        if (bit < 0)
            return rcl_fail(RCL_ERR_INVALID_ARG, "dataset spec '%s': unknown option '%s'", spec, key);
        if (!(kinds[ki].opts & (1u << bit)))
            return rcl_fail(RCL_ERR_INVALID_ARG, "dataset spec '%s': option '%s' does not apply to %s", spec, key,
                            o->kind);
        int ok;
        RCL_TRY(set_option(o, bit, val, &ok));
        if (!ok)
            return rcl_fail(RCL_ERR_INVALID_ARG, "dataset spec '%s': bad value '%s' for %s", spec, val, key);
    }
    return RCL_OK;
}

/* Appends to ds->name, truncating at its 63 characters. */
static void append_name(rcl_dataset *ds, const char *suffix) {
    size_t nl = strlen(ds->name), room = sizeof ds->name - 1 - nl, sl = strlen(suffix);
    if (sl > room)
        sl = room;
    memcpy(ds->name + nl, suffix, sl);
    ds->name[nl + sl] = 0;
}

static rcl_status load_svhn(const char *arg, int train, rcl_dataset *out) {
#ifdef RCL_HAVE_MATIO
    char p[1100];
    if (rcl_data_is_dir(arg)) {
        RCL_TRY(rcl_data_join(p, sizeof p, arg, train ? "train_32x32.mat" : "test_32x32.mat"));
        arg = p;
    }
    return rcl_svhn_load(arg, out);
#else
    (void)train;
    (void)out;
    return rcl_fail(RCL_ERR_INVALID_ARG, "svhn:%s: built without libmatio, SVHN .mat files cannot be read", arg);
#endif
}

static rcl_status load_base(const rcl_dataset_spec *s, int train, const rcl_dataset *like, rcl_dataset *out) {
    int kind = rcl_synthetic_kind_from_name(s->kind);
    if (kind >= 0) {
        int c = s->shape_c, h = s->shape_h, w = s->shape_w, n = s->n;
        if (!c && like)
            c = like->c, h = like->h, w = like->w;
        if (!n && like)
            n = like->n;
        if (!c || !n)
            return rcl_fail(RCL_ERR_INVALID_ARG, "%s: give shape=CxHxW and n=N (or a reference dataset)", s->kind);
        return rcl_dataset_synthetic((rcl_synthetic_kind)kind, n, c, h, w, s->seed, out);
    }
    rcl_image_options io = {s->size_h, s->size_w, s->channels, s->layout, 0, 0};
    /* without a class selection, n= is applied to the file list: only n images are decoded */
    if (s->n && !s->classes[0] && !s->exclude[0])
        io.n = s->n, io.seed = s->seed;
    if (!strcmp(s->kind, "fashion-mnist"))
        return rcl_fashion_mnist_load(s->arg[0] ? s->arg : NULL, train, out);
    if (!strcmp(s->kind, "cifar10"))
        return rcl_cifar10_load(s->arg, train, out);
    if (!strcmp(s->kind, "cifar100")) {
        int32_t *coarse = NULL;
        RCL_TRY(rcl_cifar100_load(s->arg, train, out, s->coarse ? &coarse : NULL));
        if (s->coarse) {
            free(out->labels);
            out->labels = coarse;
            out->num_classes = 20;
            append_name(out, ":coarse");
        }
        return RCL_OK;
    }
    if (!strcmp(s->kind, "imagenet32"))
        return rcl_imagenet32_load(s->arg, train, out);
    if (!strcmp(s->kind, "svhn"))
        return load_svhn(s->arg, train, out);
    if (!strcmp(s->kind, "folder"))
        return rcl_image_folder_load(s->arg, &io, out);
    if (!strcmp(s->kind, "tinyimagenet"))
        return rcl_tiny_imagenet_load(s->arg, train, &io, out);
    return rcl_fail(RCL_ERR_INVALID_ARG, "unknown dataset kind '%s'", s->kind);
}

rcl_status rcl_dataset_load_like(const char *spec, int train, const rcl_dataset *like,
                                 rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    rcl_dataset_spec s;
    RCL_TRY(rcl_dataset_spec_parse(spec, &s));
    if (s.split >= 0)
        train = s.split;
    RCL_TRY(load_base(&s, train, like, out));
    rcl_status st = RCL_OK;
    if (s.map[0] && !s.exclude[0])
        st = rcl_fail(RCL_ERR_INVALID_ARG, "dataset spec '%s': map= maps the wnids of an exclude= list: give one", spec);
    if (st == RCL_OK && s.exclude[0]) {
        int *cl = NULL, k = 0;
        char near[1100] = ""; /* the map next to the data (imagenet32:DIR/map_clsloc.txt) */
        if (!s.map[0] && s.arg[0] && rcl_data_is_dir(s.arg)) {
            snprintf(near, sizeof near, "%s/map_clsloc.txt", s.arg);
            FILE *f = fopen(near, "rb");
            if (f)
                fclose(f);
            else
                near[0] = 0;
        }
        st = rcl_read_class_list_mapped(s.exclude, s.map[0] ? s.map : near[0] ? near : NULL, out->num_classes, &cl,
                                        &k);
        if (st == RCL_OK)
            st = rcl_dataset_exclude_classes(out, cl, k);
        free(cl);
    }
    if (st == RCL_OK && s.classes[0]) {
        int *cl = NULL, k = 0;
        st = rcl_parse_class_ranges(s.classes, &cl, &k);
        if (st == RCL_OK)
            st = rcl_dataset_keep_classes(out, cl, k);
        free(cl);
    }
    int synthetic = rcl_synthetic_kind_from_name(s.kind) >= 0;
    int image_kind = !strcmp(s.kind, "folder") || !strcmp(s.kind, "tinyimagenet");
    int subset_done = image_kind && !s.classes[0] && !s.exclude[0]; /* done while listing */
    if (st == RCL_OK && s.n && !synthetic && !subset_done)
        st = rcl_dataset_subset(out, s.n, s.seed);
    if (st != RCL_OK) {
        rcl_dataset_free(out);
        return st;
    }
    /* the name records the selection: "fashion-mnist:train,classes=5-9,n=500" (truncated at 63) */
    char sel[256] = "";
    size_t k = 0;
    if (s.classes[0])
        k += (size_t)snprintf(sel + k, sizeof sel - k, ",classes=%s", s.classes);
    if (s.exclude[0] && k < sizeof sel)
        k += (size_t)snprintf(sel + k, sizeof sel - k, ",exclude");
    if (s.n && !synthetic && k < sizeof sel)
        k += (size_t)snprintf(sel + k, sizeof sel - k, ",n=%d,seed=%llu", s.n, (unsigned long long)s.seed);
    append_name(out, sel);
    return RCL_OK;
}

rcl_status rcl_dataset_load(const char *spec, int train, rcl_dataset *out) {
    return rcl_dataset_load_like(spec, train, NULL, out);
}
