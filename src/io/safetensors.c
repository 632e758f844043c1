/* safetensors writer and strict reader (see safetensors.h). */
#include "robustcl/safetensors.h"

#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "robustcl/json.h"

static const struct {
    const char *name;
    size_t size;
} dtypes[RCL_DT_COUNT] = {
    [RCL_DT_BOOL] = {"BOOL", 1}, [RCL_DT_U8] = {"U8", 1},     [RCL_DT_I8] = {"I8", 1},
    [RCL_DT_I16] = {"I16", 2},   [RCL_DT_U16] = {"U16", 2},   [RCL_DT_F16] = {"F16", 2},
    [RCL_DT_BF16] = {"BF16", 2}, [RCL_DT_I32] = {"I32", 4},   [RCL_DT_U32] = {"U32", 4},
    [RCL_DT_F32] = {"F32", 4},   [RCL_DT_F64] = {"F64", 8},   [RCL_DT_I64] = {"I64", 8},
    [RCL_DT_U64] = {"U64", 8},
};

size_t rcl_st_dtype_size(rcl_st_dtype t) { return (unsigned)t < RCL_DT_COUNT ? dtypes[t].size : 0; }

const char *rcl_st_dtype_name(rcl_st_dtype t) { return (unsigned)t < RCL_DT_COUNT ? dtypes[t].name : "?"; }

static int host_little_endian(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = h >> 10 & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0x1F) {
        bits = sign | 0x7F800000u | man << 13; /* inf / nan */
    } else if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                man <<= 1;
                e++;
            } while (!(man & 0x400));
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3FF) << 13;
        }
    } else {
        bits = sign | (exp + 127 - 15) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

rcl_status rcl_st_to_f32(rcl_st_dtype t, const void *src, size_t n, float *dst) {
    const unsigned char *p = src;
    switch (t) {
    case RCL_DT_BOOL:
        for (size_t i = 0; i < n; i++)
            dst[i] = p[i] ? 1.0f : 0.0f;
        return RCL_OK;
    case RCL_DT_U8:
        for (size_t i = 0; i < n; i++)
            dst[i] = p[i];
        return RCL_OK;
    case RCL_DT_I8:
        for (size_t i = 0; i < n; i++)
            dst[i] = (int8_t)p[i];
        return RCL_OK;
    default:
        break;
    }
    /* wider types: memcpy each element (the source may be unaligned) */
    for (size_t i = 0; i < n; i++) {
        const unsigned char *e = p + i * rcl_st_dtype_size(t);
        union {
            int16_t i16;
            uint16_t u16;
            int32_t i32;
            uint32_t u32;
            float f32;
            double f64;
            int64_t i64;
            uint64_t u64;
        } u;
        memcpy(&u, e, rcl_st_dtype_size(t) ? rcl_st_dtype_size(t) : 1);
        switch (t) {
        case RCL_DT_I16: dst[i] = u.i16; break;
        case RCL_DT_U16: dst[i] = u.u16; break;
        case RCL_DT_F16: dst[i] = half_to_float(u.u16); break;
        case RCL_DT_BF16: {
            uint32_t bits = (uint32_t)u.u16 << 16;
            memcpy(&dst[i], &bits, 4);
            break;
        }
        case RCL_DT_I32: dst[i] = (float)u.i32; break;
        case RCL_DT_U32: dst[i] = (float)u.u32; break;
        case RCL_DT_F32: dst[i] = u.f32; break;
        case RCL_DT_F64: dst[i] = (float)u.f64; break;
        case RCL_DT_I64: dst[i] = (float)u.i64; break;
        case RCL_DT_U64: dst[i] = (float)u.u64; break;
        default: return rcl_fail(RCL_ERR_INVALID_ARG, "rcl_st_to_f32: unknown dtype %d", (int)t);
        }
    }
    return RCL_OK;
}

/* Element count of a shape; 0 with *ok = 0 on overflow of size_t bytes. */
static size_t shape_bytes(int ndim, const int64_t *shape, size_t esize, size_t *numel, int *ok) {
    size_t n = 1;
    *ok = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (uint64_t)shape[i] > SIZE_MAX) {
            *ok = 0;
            return 0;
        }
        size_t d = (size_t)shape[i];
        if (d != 0 && n > SIZE_MAX / d) {
            *ok = 0;
            return 0;
        }
        n *= d;
    }
    if (esize && n > SIZE_MAX / esize) {
        *ok = 0;
        return 0;
    }
    *numel = n;
    return n * esize;
}

/* ================= writer ================= */

typedef struct {
    char *name;
    rcl_st_dtype dtype;
    int ndim;
    int64_t shape[RCL_ST_MAX_DIMS];
    size_t nbytes;
    const void *data;
    void *owned;
} w_tensor;

struct rcl_st_writer {
    w_tensor *t;
    size_t n, cap;
    char **meta; /* key, value pairs */
    size_t nmeta;
};

rcl_status rcl_st_writer_new(rcl_st_writer **out) {
    *out = calloc(1, sizeof **out);
    if (!*out)
        return rcl_fail(RCL_ERR_NO_MEMORY, "safetensors writer: out of memory");
    return RCL_OK;
}

void rcl_st_writer_free(rcl_st_writer *w) {
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++) {
        free(w->t[i].name);
        free(w->t[i].owned);
    }
    for (size_t i = 0; i < 2 * w->nmeta; i++)
        free(w->meta[i]);
    free(w->t);
    free(w->meta);
    free(w);
}

static rcl_status writer_add(rcl_st_writer *w, const char *name, rcl_st_dtype dtype, int ndim,
                             const int64_t *shape, const void *data, int copy) {
    if (!name || !name[0] || !strcmp(name, "__metadata__"))
        return rcl_fail(RCL_ERR_INVALID_ARG, "safetensors writer: invalid tensor name '%s'", name ? name : "");
    if (!rcl_st_dtype_size(dtype))
        return rcl_fail(RCL_ERR_INVALID_ARG, "safetensors writer: tensor %s: unknown dtype %d", name, (int)dtype);
    if (ndim < 0 || ndim > RCL_ST_MAX_DIMS)
        return rcl_fail(RCL_ERR_INVALID_ARG, "safetensors writer: tensor %s: %d dimensions", name, ndim);
    if (!host_little_endian())
        return rcl_fail(RCL_ERR_INVALID_ARG, "safetensors writer: big-endian hosts are not supported");
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->t[i].name, name))
            return rcl_fail(RCL_ERR_INVALID_ARG, "safetensors writer: tensor %s added twice", name);
    size_t numel;
    int ok;
    size_t nbytes = shape_bytes(ndim, shape, rcl_st_dtype_size(dtype), &numel, &ok);
    if (!ok)
        return rcl_fail(RCL_ERR_INVALID_ARG, "safetensors writer: tensor %s: invalid or too large shape", name);
    if (nbytes && !data)
        return rcl_fail(RCL_ERR_INVALID_ARG, "safetensors writer: tensor %s: NULL data", name);
    if (w->n == w->cap) {
        size_t nc = w->cap ? 2 * w->cap : 16;
        w_tensor *nt = realloc(w->t, nc * sizeof *nt);
        if (!nt)
            return rcl_fail(RCL_ERR_NO_MEMORY, "safetensors writer: out of memory");
        w->t = nt;
        w->cap = nc;
    }
    w_tensor *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (copy && nbytes) {
        t->owned = malloc(nbytes);
        if (t->owned)
            memcpy(t->owned, data, nbytes);
    }
    if (!t->name || (copy && nbytes && !t->owned)) {
        free(t->name);
        free(t->owned);
        return rcl_fail(RCL_ERR_NO_MEMORY, "safetensors writer: tensor %s: out of memory", name);
    }
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->nbytes = nbytes;
    t->data = copy ? t->owned : data;
    w->n++;
    return RCL_OK;
}

rcl_status rcl_st_writer_add(rcl_st_writer *w, const char *name, rcl_st_dtype dtype, int ndim,
                             const int64_t *shape, const void *data) {
    return writer_add(w, name, dtype, ndim, shape, data, 1);
}

rcl_status rcl_st_writer_add_ref(rcl_st_writer *w, const char *name, rcl_st_dtype dtype, int ndim,
                                 const int64_t *shape, const void *data) {
    return writer_add(w, name, dtype, ndim, shape, data, 0);
}

rcl_status rcl_st_writer_set_metadata(rcl_st_writer *w, const char *key, const char *value) {
    if (!key || !value)
        return rcl_fail(RCL_ERR_INVALID_ARG, "safetensors writer: NULL metadata key or value");
    char *v = strdup(value);
    if (!v)
        return rcl_fail(RCL_ERR_NO_MEMORY, "safetensors writer: out of memory");
    for (size_t i = 0; i < w->nmeta; i++) {
        if (!strcmp(w->meta[2 * i], key)) {
            free(w->meta[2 * i + 1]);
            w->meta[2 * i + 1] = v;
            return RCL_OK;
        }
    }
    char *k = strdup(key);
    char **nm = realloc(w->meta, (2 * w->nmeta + 2) * sizeof *nm);
    if (!k || !nm) {
        free(k);
        free(v);
        if (nm)
            w->meta = nm;
        return rcl_fail(RCL_ERR_NO_MEMORY, "safetensors writer: out of memory");
    }
    w->meta = nm;
    w->meta[2 * w->nmeta] = k;
    w->meta[2 * w->nmeta + 1] = v;
    w->nmeta++;
    return RCL_OK;
}

/* The reference order: dtype descending, then name (byte order). */
static int cmp_tensor(const void *a, const void *b) {
    const w_tensor *x = *(const w_tensor *const *)a, *y = *(const w_tensor *const *)b;
    if (x->dtype != y->dtype)
        return x->dtype > y->dtype ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_meta(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Builds the padded header (with its 8-byte length) and the tensor order. */
static rcl_status build_header(rcl_st_writer *w, char **header, size_t *hlen, w_tensor ***order) {
    *header = NULL;
    *order = malloc((w->n ? w->n : 1) * sizeof **order);
    if (!*order)
        return rcl_fail(RCL_ERR_NO_MEMORY, "safetensors writer: out of memory");
    for (size_t i = 0; i < w->n; i++)
        (*order)[i] = &w->t[i];
    qsort(*order, w->n, sizeof **order, cmp_tensor);
    /* metadata sorted by key, for a deterministic header */
    char **keys = malloc((w->nmeta ? w->nmeta : 1) * sizeof *keys);
    if (!keys) {
        free(*order);
        *order = NULL;
        return rcl_fail(RCL_ERR_NO_MEMORY, "safetensors writer: out of memory");
    }
    for (size_t i = 0; i < w->nmeta; i++)
        keys[i] = w->meta[2 * i];
    qsort(keys, w->nmeta, sizeof *keys, cmp_meta);

    rcl_json_writer j;
    rcl_jw_init(&j, NULL, 0);
    rcl_jw_begin_object(&j);
    if (w->nmeta) {
        rcl_jw_key(&j, "__metadata__");
        rcl_jw_begin_object(&j);
        for (size_t i = 0; i < w->nmeta; i++) {
            rcl_jw_key(&j, keys[i]);
            for (size_t m = 0; m < w->nmeta; m++)
                if (w->meta[2 * m] == keys[i])
                    rcl_jw_string(&j, w->meta[2 * m + 1]);
        }
        rcl_jw_end_object(&j);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n; i++) {
        const w_tensor *t = (*order)[i];
        rcl_jw_key(&j, t->name);
        rcl_jw_begin_object(&j);
        rcl_jw_key(&j, "dtype");
        rcl_jw_string(&j, rcl_st_dtype_name(t->dtype));
        rcl_jw_key(&j, "shape");
        rcl_jw_begin_array(&j);
        for (int d = 0; d < t->ndim; d++)
            rcl_jw_int(&j, t->shape[d]);
        rcl_jw_end_array(&j);
        rcl_jw_key(&j, "data_offsets");
        rcl_jw_begin_array(&j);
        rcl_jw_uint(&j, off);
        rcl_jw_uint(&j, off + t->nbytes);
        rcl_jw_end_array(&j);
        rcl_jw_end_object(&j);
        off += t->nbytes;
    }
    rcl_jw_end_object(&j);
    free(keys);
    rcl_status s = rcl_jw_finish(&j);
    size_t jlen;
    char *json = rcl_jw_take(&j, &jlen);
    if (s != RCL_OK || !json) {
        free(json);
        free(*order);
        *order = NULL;
        return s != RCL_OK ? s : rcl_fail(RCL_ERR_NO_MEMORY, "safetensors writer: out of memory");
    }
    size_t padded = (jlen + 7) / 8 * 8;
    char *h = malloc(8 + padded);
    if (!h) {
        free(json);
        free(*order);
        *order = NULL;
        return rcl_fail(RCL_ERR_NO_MEMORY, "safetensors writer: out of memory");
    }
    for (int b = 0; b < 8; b++)
        h[b] = (char)((uint64_t)padded >> (8 * b) & 0xFF);
    memcpy(h + 8, json, jlen);
    memset(h + 8 + jlen, ' ', padded - jlen);
    free(json);
    *header = h;
    *hlen = 8 + padded;
    return RCL_OK;
}

rcl_status rcl_st_writer_commit(rcl_st_writer *w, const char *path) {
    char *header;
    size_t hlen;
    w_tensor **order;
    RCL_TRY(build_header(w, &header, &hlen, &order));
    rcl_atomic_file *a;
    rcl_status s = rcl_atomic_open(path, &a);
    if (s == RCL_OK) {
        s = rcl_atomic_write(a, header, hlen);
        for (size_t i = 0; s == RCL_OK && i < w->n; i++)
            s = rcl_atomic_write(a, order[i]->data, order[i]->nbytes);
        if (s == RCL_OK)
            s = rcl_atomic_commit(a);
        else
            rcl_atomic_abort(a);
    }
    free(header);
    free(order);
    return s;
}

rcl_status rcl_st_writer_to_memory(rcl_st_writer *w, unsigned char **data, size_t *size) {
    *data = NULL;
    *size = 0;
    char *header;
    size_t hlen;
    w_tensor **order;
    RCL_TRY(build_header(w, &header, &hlen, &order));
    size_t total = hlen;
    for (size_t i = 0; i < w->n; i++)
        total += order[i]->nbytes;
    unsigned char *buf = malloc(total);
    if (!buf) {
        free(header);
        free(order);
        return rcl_fail(RCL_ERR_NO_MEMORY, "safetensors writer: out of memory for %zu bytes", total);
    }
    memcpy(buf, header, hlen);
    size_t pos = hlen;
    for (size_t i = 0; i < w->n; i++) {
        if (order[i]->nbytes)
            memcpy(buf + pos, order[i]->data, order[i]->nbytes);
        pos += order[i]->nbytes;
    }
    free(header);
    free(order);
    *data = buf;
    *size = total;
    return RCL_OK;
}

/* ================= reader ================= */

struct rcl_st_file {
    char *label;
    unsigned char *owned; /* the file image when opened from a path */
    rcl_st_tensor *t;
    size_t n;
    char **meta; /* key, value pairs */
    size_t nmeta;
    rcl_json *header;
};

void rcl_st_close(rcl_st_file *f) {
    if (!f)
        return;
    free(f->t);
    free(f->meta);
    rcl_json_free(f->header); /* tensor names and metadata point into it */
    free(f->owned);
    free(f->label);
    free(f);
}

static int cmp_offset(const void *a, const void *b) {
    const rcl_st_tensor *x = *(const rcl_st_tensor *const *)a, *y = *(const rcl_st_tensor *const *)b;
    const unsigned char *px = x->data, *py = y->data;
    if (px != py)
        return px < py ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes; /* empty tensors first */
}

static int get_u64(const rcl_json *v, uint64_t *out) {
    if (!v || v->type != RCL_JSON_NUMBER || !v->is_int || v->integer < 0)
        return 0;
    *out = (uint64_t)v->integer;
    return 1;
}

/* Validates one tensor entry of the header. */
static rcl_status parse_tensor(rcl_st_file *f, const char *name, const rcl_json *e, const unsigned char *data,
                               uint64_t data_len, rcl_st_tensor *t) {
    const char *L = f->label;
    if (e->type != RCL_JSON_OBJECT)
        return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s: header entry is not an object", L, name);
    const char *dt = rcl_json_get_string(e, "dtype");
    const rcl_json *shape = rcl_json_get(e, "shape"), *offs = rcl_json_get(e, "data_offsets");
    if (!dt || !shape || !offs)
        return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s: needs dtype, shape and data_offsets", L, name);
    t->name = name;
    t->dtype = RCL_DT_COUNT;
    for (int k = 0; k < RCL_DT_COUNT; k++)
        if (!strcmp(dt, dtypes[k].name))
            t->dtype = (rcl_st_dtype)k;
    if (t->dtype == RCL_DT_COUNT)
        return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s: unsupported dtype '%s'", L, name, dt);
    if (shape->type != RCL_JSON_ARRAY || shape->len > RCL_ST_MAX_DIMS)
        return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s: shape must be an array of at most %d sizes", L, name,
                        RCL_ST_MAX_DIMS);
    t->ndim = (int)shape->len;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t v;
        if (!get_u64(&shape->items[d], &v) || v > INT64_MAX)
            return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s: shape[%d] is not a non-negative integer", L, name, d);
        t->shape[d] = (int64_t)v;
    }
    uint64_t b, en;
    if (offs->type != RCL_JSON_ARRAY || offs->len != 2 || !get_u64(&offs->items[0], &b) ||
        !get_u64(&offs->items[1], &en) || b > en)
        return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s: data_offsets must be [begin, end] with begin <= end", L,
                        name);
    if (en > data_len)
        return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] outside the %llu-byte data area",
                        L, name, (unsigned long long)b, (unsigned long long)en, (unsigned long long)data_len);
    int ok;
    size_t nbytes = shape_bytes(t->ndim, t->shape, rcl_st_dtype_size(t->dtype), &t->numel, &ok);
    if (!ok || nbytes != en - b)
        return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s: shape and dtype %s need %s%zu bytes, data_offsets give %llu",
                        L, name, dt, ok ? "" : "more than ", nbytes, (unsigned long long)(en - b));
    t->nbytes = nbytes;
    t->data = data + b;
    return RCL_OK;
}

static rcl_status st_validate(rcl_st_file *f, const unsigned char *img, size_t size) {
    const char *L = f->label;
    if (!host_little_endian())
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: big-endian hosts are not supported", L);
    /* a safetensors file starts with its header's length and the header's '{': anything else
     * (a text file, another format) is named as what it is not, before its bytes are read as a length */
    if (size < 9 || img[8] != '{')
        return rcl_fail(RCL_ERR_FORMAT, "%s: not a safetensors checkpoint (%s)", L,
                        size < 9 ? "shorter than a safetensors header" : "no safetensors header at its start");
    uint64_t hlen = 0;
    for (int b = 7; b >= 0; b--)
        hlen = hlen << 8 | img[b];
    if (hlen > size - 8)
        return rcl_fail(RCL_ERR_FORMAT, "%s: header length %llu exceeds the file size %zu (truncated?)", L,
                        (unsigned long long)hlen, size);
    if (hlen > RCL_ST_MAX_HEADER)
        return rcl_fail(RCL_ERR_FORMAT, "%s: header length %llu exceeds the limit of %u bytes", L,
                        (unsigned long long)hlen, RCL_ST_MAX_HEADER);
    if (hlen < 2)
        return rcl_fail(RCL_ERR_FORMAT, "%s: header is not a JSON object", L);
    rcl_json_limits lim = {8, 0}; /* the schema is only 3 levels deep */
    RCL_TRY(rcl_json_parse((const char *)img + 8, (size_t)hlen, L, &lim, &f->header));
    const rcl_json *h = f->header;
    if (h->type != RCL_JSON_OBJECT)
        return rcl_fail(RCL_ERR_FORMAT, "%s: header is not a JSON object", L);
    const unsigned char *data = img + 8 + hlen;
    uint64_t data_len = size - 8 - hlen;

    f->t = calloc(h->len ? h->len : 1, sizeof *f->t);
    if (!f->t)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", L);
    for (size_t i = 0; i < h->len; i++) {
        const char *key = h->keys[i];
        for (size_t k = 0; k < i; k++)
            if (!strcmp(h->keys[k], key))
                return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s appears twice in the header", L, key);
        if (!key[0])
            return rcl_fail(RCL_ERR_FORMAT, "%s: empty tensor name", L);
        if (!strcmp(key, "__metadata__")) {
            const rcl_json *m = &h->items[i];
            if (m->type != RCL_JSON_OBJECT)
                return rcl_fail(RCL_ERR_FORMAT, "%s: __metadata__ is not an object", L);
            f->meta = malloc((2 * m->len + 1) * sizeof *f->meta);
            if (!f->meta)
                return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", L);
            for (size_t k = 0; k < m->len; k++) {
                if (m->items[k].type != RCL_JSON_STRING)
                    return rcl_fail(RCL_ERR_FORMAT, "%s: __metadata__ value of %s is not a string", L, m->keys[k]);
                f->meta[2 * k] = m->keys[k];
                f->meta[2 * k + 1] = m->items[k].string;
            }
            f->nmeta = m->len;
            continue;
        }
        RCL_TRY(parse_tensor(f, key, &h->items[i], data, data_len, &f->t[f->n]));
        f->n++;
    }

    /* the tensors must tile the data area exactly: no overlap, no gap, nothing after */
    rcl_st_tensor **by_off = malloc((f->n ? f->n : 1) * sizeof *by_off);
    if (!by_off)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", L);
    for (size_t i = 0; i < f->n; i++)
        by_off[i] = &f->t[i];
    qsort(by_off, f->n, sizeof *by_off, cmp_offset);
    uint64_t end = 0;
    rcl_status s = RCL_OK;
    for (size_t i = 0; i < f->n && s == RCL_OK; i++) {
        uint64_t b = (uint64_t)((const unsigned char *)by_off[i]->data - data);
        if (b < end)
            s = rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s overlaps %s", L, by_off[i]->name,
                         i ? by_off[i - 1]->name : "?");
        else if (b > end)
            s = rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s: gap of %llu bytes before its data", L, by_off[i]->name,
                         (unsigned long long)(b - end));
        end = b + by_off[i]->nbytes;
    }
    free(by_off);
    RCL_TRY(s);
    if (end != data_len)
        return rcl_fail(RCL_ERR_FORMAT, "%s: the tensors cover %llu of the %llu data bytes", L,
                        (unsigned long long)end, (unsigned long long)data_len);
    return RCL_OK;
}

static rcl_status st_new(const char *label, rcl_st_file **out) {
    *out = calloc(1, sizeof **out);
    if (*out)
        (*out)->label = strdup(label ? label : "(memory)");
    if (!*out || !(*out)->label) {
        free(*out);
        *out = NULL;
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", label ? label : "(memory)");
    }
    return RCL_OK;
}

rcl_status rcl_st_parse(const void *data, size_t size, const char *label, rcl_st_file **out) {
    rcl_st_file *f;
    RCL_TRY(st_new(label, &f));
    static const unsigned char empty[1];
    rcl_status s = st_validate(f, data ? data : empty, data ? size : 0);
    if (s != RCL_OK) {
        rcl_st_close(f);
        f = NULL;
    }
    *out = f;
    return s;
}

rcl_status rcl_st_open(const char *path, rcl_st_file **out) {
    *out = NULL;
    rcl_st_file *f;
    RCL_TRY(st_new(path, &f));
    size_t size;
    rcl_status s = rcl_file_read(path, &f->owned, &size);
    if (s == RCL_OK)
        s = st_validate(f, f->owned, size);
    if (s != RCL_OK) {
        rcl_st_close(f);
        return s;
    }
    *out = f;
    return RCL_OK;
}

size_t rcl_st_count(const rcl_st_file *f) { return f->n; }

const rcl_st_tensor *rcl_st_tensor_at(const rcl_st_file *f, size_t i) { return i < f->n ? &f->t[i] : NULL; }

const rcl_st_tensor *rcl_st_find(const rcl_st_file *f, const char *name) {
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name))
            return &f->t[i];
    return NULL;
}

const char *rcl_st_label(const rcl_st_file *f) { return f->label; }

rcl_status rcl_st_get(const rcl_st_file *f, const char *name, rcl_st_dtype dtype, int ndim,
                      const int64_t *shape, const rcl_st_tensor **out) {
    *out = NULL;
    const rcl_st_tensor *t = rcl_st_find(f, name);
    if (!t)
        return rcl_fail(RCL_ERR_FORMAT, "%s: no tensor named %s", f->label, name);
    if (t->dtype != dtype)
        return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s is %s, expected %s", f->label, name,
                        rcl_st_dtype_name(t->dtype), rcl_st_dtype_name(dtype));
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++)
        same = t->shape[d] == shape[d];
    if (!same) {
        char got[160] = "", want[160] = "";
        size_t g = 0, w = 0;
        for (int d = 0; d < t->ndim && g < sizeof got - 24; d++)
            g += (size_t)snprintf(got + g, sizeof got - g, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        for (int d = 0; d < ndim && w < sizeof want - 24; d++)
            w += (size_t)snprintf(want + w, sizeof want - w, "%s%lld", d ? "," : "", (long long)shape[d]);
        return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s has shape [%s], expected [%s]", f->label, name, got, want);
    }
    *out = t;
    return RCL_OK;
}

size_t rcl_st_metadata_count(const rcl_st_file *f) { return f->nmeta; }

const char *rcl_st_metadata(const rcl_st_file *f, const char *key) {
    for (size_t i = 0; i < f->nmeta; i++)
        if (!strcmp(f->meta[2 * i], key))
            return f->meta[2 * i + 1];
    return NULL;
}

int rcl_st_metadata_at(const rcl_st_file *f, size_t i, const char **key, const char **value) {
    if (i >= f->nmeta)
        return 0;
    *key = f->meta[2 * i];
    *value = f->meta[2 * i + 1];
    return 1;
}
