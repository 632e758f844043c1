/* NumPy .npy arrays (format v1/v2/v3): header parsing, integer label conversion, writing. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "data_internal.h"

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* The header is a Python dict literal; a tiny scanner over [p, end). */
typedef struct {
    const char *p, *end;
} scan;

static void skip_ws(scan *s) {
    while (s->p < s->end && isspace((unsigned char)*s->p))
        s->p++;
}

static int eat(scan *s, char c) {
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* A quoted string into buf; 0 on failure. */
static int parse_str(scan *s, char *buf, size_t cap) {
    skip_ws(s);
    if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
        return 0;
    char q = *s->p++;
    size_t n = 0;
    while (s->p < s->end && *s->p != q) {
        if (n + 1 >= cap)
            return 0;
        buf[n++] = *s->p++;
    }
    if (s->p >= s->end)
        return 0;
    s->p++;
    buf[n] = 0;
    return 1;
}

static int parse_word(scan *s, const char *w) {
    skip_ws(s);
    size_t k = strlen(w);
    if ((size_t)(s->end - s->p) >= k && !memcmp(s->p, w, k)) {
        s->p += k;
        return 1;
    }
    return 0;
}

/* (d0, d1, ...) with an optional trailing comma; () is a scalar. */
static int parse_shape(scan *s, rcl_npy *h) {
    if (!eat(s, '('))
        return 0;
    h->ndim = 0;
    for (;;) {
        if (eat(s, ')'))
            return 1;
        skip_ws(s);
        if (s->p >= s->end || !isdigit((unsigned char)*s->p))
            return 0;
        int64_t v = 0;
        while (s->p < s->end && isdigit((unsigned char)*s->p)) {
            if (v > (INT64_MAX - 9) / 10)
                return 0;
            v = v * 10 + (*s->p++ - '0');
        }
        /* Python 2 era files may write 3L */
        if (s->p < s->end && (*s->p == 'L' || *s->p == 'l'))
            s->p++;
        if (h->ndim == RCL_NPY_MAX_DIMS)
            return 0;
        h->shape[h->ndim++] = v;
        if (!eat(s, ',')) {
            return eat(s, ')');
        }
    }
}

/* The magic, the format version and the header length: the dict is at b + *pre, *hlen bytes. */
static rcl_status parse_preamble(const unsigned char *b, size_t n, const char *what, size_t *pre, size_t *hlen) {
    if (n < 10 || memcmp(b, npy_magic, 6) != 0)
        return rcl_fail(RCL_ERR_FORMAT, "%s: not a .npy array (bad magic)", what);
    int major = b[6];
    if (major == 1) {
        *pre = 10;
        *hlen = (size_t)b[8] | (size_t)b[9] << 8;
    } else if (major == 2 || major == 3) {
        if (n < 12)
            return rcl_fail(RCL_ERR_FORMAT, "%s: truncated .npy header", what);
        *pre = 12;
        *hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    } else {
        return rcl_fail(RCL_ERR_FORMAT, "%s: unsupported .npy format version %d.%d", what, major, b[7]);
    }
    if (*hlen > n - *pre)
        return rcl_fail(RCL_ERR_FORMAT, "%s: truncated .npy header (%zu bytes announced, %zu present)", what,
                        *hlen, n - *pre);
    return RCL_OK;
}

/* The header dict: descr (into descr, cap bytes) and shape (into h), C order required. */
static rcl_status parse_dict(scan *s, const char *what, char *descr, size_t cap, rcl_npy *h) {
    int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0;
    if (!eat(s, '{'))
        return rcl_fail(RCL_ERR_FORMAT, "%s: .npy header is not a dict", what);
    for (;;) {
        if (eat(s, '}'))
            break;
        char key[32];
        if (!parse_str(s, key, sizeof key) || !eat(s, ':'))
            return rcl_fail(RCL_ERR_FORMAT, "%s: malformed .npy header", what);
        if (!strcmp(key, "descr")) {
            if (!parse_str(s, descr, cap))
                return rcl_fail(RCL_ERR_FORMAT, "%s: .npy descr is not a simple dtype string", what);
            have_descr = 1;
        } else if (!strcmp(key, "fortran_order")) {
            if (parse_word(s, "True"))
                fortran = 1;
            else if (!parse_word(s, "False"))
                return rcl_fail(RCL_ERR_FORMAT, "%s: malformed fortran_order in the .npy header", what);
            have_order = 1;
        } else if (!strcmp(key, "shape")) {
            if (!parse_shape(s, h))
                return rcl_fail(RCL_ERR_FORMAT, "%s: malformed shape in the .npy header", what);
            have_shape = 1;
        } else {
            return rcl_fail(RCL_ERR_FORMAT, "%s: unknown key '%s' in the .npy header", what, key);
        }
        if (!eat(s, ',')) {
            if (!eat(s, '}'))
                return rcl_fail(RCL_ERR_FORMAT, "%s: malformed .npy header", what);
            break;
        }
    }
    if (!have_descr || !have_order || !have_shape)
        return rcl_fail(RCL_ERR_FORMAT, "%s: .npy header lacks descr, fortran_order or shape", what);
    if (fortran)
        return rcl_fail(RCL_ERR_FORMAT, "%s: Fortran-order .npy arrays are not supported", what);
    return RCL_OK;
}

rcl_status rcl_npy_parse_header(const void *buf, size_t n, const char *what, rcl_npy *h,
                                size_t *header_bytes) {
    memset(h, 0, sizeof *h);
    *header_bytes = 0;
    const unsigned char *b = buf;
    size_t pre = 0, hlen = 0;
    RCL_TRY(parse_preamble(b, n, what, &pre, &hlen));
    scan s = {(const char *)b + pre, (const char *)b + pre + hlen};
    char descr[32] = "";
    RCL_TRY(parse_dict(&s, what, descr, sizeof descr, h));
    /* byte order: '<' little, '|' not applicable (1-byte types) */
    char order = descr[0], kind = descr[1];
    int size = atoi(descr + 2);
    size_t dl = strlen(descr);
    int ok = dl >= 3 && dl <= 4 && strspn(descr + 2, "0123456789") == dl - 2 &&
             (kind == 'u' || kind == 'i' || kind == 'f') && (size == 1 || size == 2 || size == 4 || size == 8) &&
             !(kind == 'f' && size < 4) && (order == '<' || (order == '|' && size == 1));
    if (!ok)
        return rcl_fail(RCL_ERR_FORMAT, "%s: unsupported .npy dtype '%s'", what, descr);
    h->kind = kind;
    h->itemsize = size;
    size_t count = 1;
    for (int i = 0; i < h->ndim; i++) {
        if (h->shape[i] < 0 || (h->shape[i] && count > ((size_t)-1 / 16) / (size_t)h->shape[i]))
            return rcl_fail(RCL_ERR_FORMAT, "%s: .npy shape too large", what);
        count *= (size_t)h->shape[i];
    }
    h->count = count;
    *header_bytes = pre + hlen;
    return RCL_OK;
}

rcl_status rcl_npy_from_memory(const void *buf, size_t n, const char *what, rcl_npy *out) {
    size_t off;
    RCL_TRY(rcl_npy_parse_header(buf, n, what, out, &off));
    size_t bytes = out->count * (size_t)out->itemsize;
    if (n - off != bytes) {
        rcl_status st = rcl_fail(RCL_ERR_FORMAT, "%s: .npy %s: the header needs %zu data bytes, %zu present", what,
                                 n - off < bytes ? "truncated" : "has trailing bytes", bytes, n - off);
        memset(out, 0, sizeof *out);
        return st;
    }
    out->data = malloc(bytes ? bytes : 1);
    if (!out->data) {
        memset(out, 0, sizeof *out);
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory for %zu bytes", what, bytes);
    }
    memcpy(out->data, (const unsigned char *)buf + off, bytes);
    return RCL_OK;
}

rcl_status rcl_npy_load(const char *path, rcl_npy *out) {
    memset(out, 0, sizeof *out);
    unsigned char *buf;
    size_t n;
    RCL_TRY(rcl_data_read_file(path, NULL, &buf, &n));
    rcl_status st = rcl_npy_from_memory(buf, n, path, out);
    free(buf);
    return st;
}

void rcl_npy_free(rcl_npy *a) {
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* Element i of an integer array as int64 (little-endian storage). */
static int64_t npy_int_at(const rcl_npy *a, size_t i) {
    const unsigned char *p = (const unsigned char *)a->data + i * (size_t)a->itemsize;
    uint64_t u = 0;
    for (int b = a->itemsize - 1; b >= 0; b--)
        u = u << 8 | p[b];
    if (a->kind == 'i' && a->itemsize < 8 && (u >> (8 * a->itemsize - 1)) & 1)
        u |= ~(uint64_t)0 << (8 * a->itemsize); /* sign-extend */
    if (a->kind == 'u' && a->itemsize == 8 && u > (uint64_t)INT64_MAX)
        return INT64_MAX;
    return (int64_t)u;
}

rcl_status rcl_npy_to_labels(const rcl_npy *a, const char *what, int64_t offset, int num_classes,
                             int32_t *labels) {
    if (a->kind != 'i' && a->kind != 'u')
        return rcl_fail(RCL_ERR_FORMAT, "%s: labels must be integers, the array is '%c%d'", what, a->kind,
                        a->itemsize);
    for (size_t i = 0; i < a->count; i++) {
        int64_t v = npy_int_at(a, i);
        if (v < offset || v - offset >= num_classes)
            return rcl_fail(RCL_ERR_FORMAT, "%s: label %lld of record %zu out of range [%lld,%lld]", what,
                            (long long)v, i, (long long)offset, (long long)offset + num_classes - 1);
        labels[i] = (int32_t)(v - offset);
    }
    return RCL_OK;
}

rcl_status rcl_npy_save(const char *path, const char *descr, int ndim, const int64_t *shape,
                        const void *data) {
    if (ndim < 0 || ndim > RCL_NPY_MAX_DIMS || strlen(descr) < 3)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: bad .npy descr/shape", path);
    int itemsize = atoi(descr + 2);
    char dict[512], shp[256] = "";
    size_t count = 1, k = 0;
    for (int i = 0; i < ndim; i++) {
        k += (size_t)snprintf(shp + k, sizeof shp - k, "%lld%s", (long long)shape[i],
                              ndim == 1 ? "," : (i + 1 < ndim ? ", " : ""));
        count *= (size_t)shape[i];
    }
    int hl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shp);
    /* numpy pads so the data starts on a 64-byte boundary, header ends with '\n' */
    size_t total = 10 + (size_t)hl + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)hl + pad + 1;
    unsigned char head[10 + 512 + 64] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 255),
                                         (unsigned char)(hlen >> 8)};
    memcpy(head + 10, dict, (size_t)hl);
    memset(head + 10 + hl, ' ', pad);
    head[10 + hl + pad] = '\n';
    rcl_atomic_file *f; /* a reader sees the old file or the whole new one */
    RCL_TRY(rcl_atomic_open(path, &f));
    size_t bytes = count * (size_t)itemsize;
    rcl_status st = rcl_atomic_write(f, head, 10 + hlen);
    if (st == RCL_OK && bytes)
        st = rcl_atomic_write(f, data, bytes);
    if (st != RCL_OK) {
        rcl_atomic_abort(f);
        return st;
    }
    return rcl_atomic_commit(f);
}
