/* PyTorch .pt state_dict reader (see torch_import.h). */
#include "robustcl/torch_import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "io/pickle.h"
#include "io/zip.h"

/* torch.serialization.MAGIC_NUMBER = 0x1950a86a20f9469cfc6c, as LONG1 bytes */
static const unsigned char torch_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
#define LEGACY_PROTOCOL_VERSION 1001

void rcl_torch_state_free(rcl_torch_state *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->t[i].name);
        free(s->t[i].data);
    }
    free(s->t);
    s->t = NULL;
    s->n = 0;
}

const rcl_torch_tensor *rcl_torch_find(const rcl_torch_state *s, const char *name) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->t[i].name, name))
            return &s->t[i];
    return NULL;
}

/* Row-major float32 copy of a strided view; bounds were checked by the caller. */
static rcl_status gather(rcl_st_dtype dt, const unsigned char *base, int ndim, const int64_t *shape,
                         const int64_t *stride, size_t numel, float *dst) {
    size_t es = rcl_st_dtype_size(dt);
    int contiguous = 1;
    int64_t expect = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        if (shape[d] != 1 && stride[d] != expect)
            contiguous = 0;
        expect *= shape[d];
    }
    if (contiguous || numel == 0)
        return rcl_st_to_f32(dt, base, numel, dst);
    int64_t idx[RCL_ST_MAX_DIMS] = {0};
    int64_t off = 0;
    for (size_t i = 0; i < numel; i++) {
        RCL_TRY(rcl_st_to_f32(dt, base + (size_t)off * es, 1, &dst[i]));
        for (int d = ndim - 1; d >= 0; d--) { /* odometer step */
            if (++idx[d] < shape[d]) {
                off += stride[d];
                break;
            }
            off -= stride[d] * (idx[d] - 1);
            idx[d] = 0;
        }
    }
    return RCL_OK;
}

/* One dict value (tensor or ndarray) into t. */
static rcl_status convert(const char *label, const char *name, const rcl_py *v, rcl_torch_tensor *t) {
    t->ndim = v->ndim;
    size_t numel = 1;
    for (int d = 0; d < v->ndim; d++) {
        t->shape[d] = v->shape[d];
        if (v->shape[d] && numel > SIZE_MAX / 8 / (size_t)v->shape[d])
            return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s: shape too large", label, name);
        numel *= (size_t)v->shape[d];
    }
    t->numel = numel;
    t->src_dtype = v->dtype;
    t->data = malloc((numel ? numel : 1) * sizeof(float));
    if (!t->data)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: tensor %s: out of memory for %zu floats", label, name, numel);
    if (v->type == RCL_PY_NDARRAY) {
        if (v->fortran && v->ndim > 1)
            return rcl_fail(RCL_ERR_FORMAT, "%s: array %s is in Fortran order (unsupported)", label, name);
        return rcl_st_to_f32(v->dtype, v->data, numel, t->data);
    }
    const rcl_py *s = v->storage;
    if (!s->data)
        return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s: storage %s has no data", label, name, s->key);
    if (numel > 0) { /* the last element the view touches must lie inside the storage */
        uint64_t last = (uint64_t)v->storage_offset;
        for (int d = 0; d < v->ndim; d++) {
            uint64_t span = (uint64_t)(v->shape[d] - 1), st = (uint64_t)v->stride[d];
            if (st && span > (UINT64_MAX - last) / st)
                return rcl_fail(RCL_ERR_FORMAT, "%s: tensor %s: strides overflow", label, name);
            last += span * st;
        }
        if (last >= (uint64_t)s->numel)
            return rcl_fail(RCL_ERR_FORMAT,
                            "%s: tensor %s: view (offset %lld) reaches element %llu of a %lld-element storage",
                            label, name, (long long)v->storage_offset, (unsigned long long)last,
                            (long long)s->numel);
    }
    if (numel == 0)
        return RCL_OK;
    const unsigned char *base = (const unsigned char *)s->data + (size_t)v->storage_offset * rcl_st_dtype_size(v->dtype);
    return gather(v->dtype, base, v->ndim, v->shape, v->stride, numel, t->data);
}

static const char *strip_module(const char *name) {
    while (!strncmp(name, "module.", 7))
        name += 7;
    return name;
}

/* The state dict of the root object into out. */
static rcl_status materialize(const char *label, const rcl_py *root, rcl_torch_state *out) {
    if (root->type == RCL_PY_DICT) {
        const rcl_py *sd = rcl_py_dict_get(root, "state_dict");
        if (sd && sd->type == RCL_PY_DICT)
            root = sd;
    }
    if (root->type != RCL_PY_DICT)
        return rcl_fail(RCL_ERR_FORMAT, "%s: the saved object is a %s, not a state_dict", label,
                        rcl_py_type_name(root->type));
    out->t = calloc(root->count ? root->count : 1, sizeof *out->t);
    if (!out->t)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", label);
    for (size_t i = 0; i < root->count; i++) {
        const rcl_py *k = root->items[2 * i], *v = root->items[2 * i + 1];
        if ((k->type != RCL_PY_STR && k->type != RCL_PY_BYTES) || memchr(k->bytes, 0, k->len))
            return rcl_fail(RCL_ERR_FORMAT, "%s: state_dict key %zu is a %s, not a name", label, i,
                            rcl_py_type_name(k->type));
        char *full = malloc(k->len + 1);
        if (!full)
            return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", label);
        memcpy(full, k->bytes, k->len);
        full[k->len] = 0;
        rcl_status s = RCL_OK;
        if (v->type != RCL_PY_TENSOR && v->type != RCL_PY_NDARRAY)
            s = rcl_fail(RCL_ERR_FORMAT, "%s: state_dict entry %s is a %s, not a tensor", label, full,
                         rcl_py_type_name(v->type));
        const char *name = strip_module(full);
        if (s == RCL_OK && rcl_torch_find(out, name))
            s = rcl_fail(RCL_ERR_FORMAT, "%s: two entries are named %s once 'module.' is stripped", label, name);
        rcl_torch_tensor *t = &out->t[out->n];
        if (s == RCL_OK) {
            t->name = strdup(name);
            if (!t->name)
                s = rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", label);
        }
        if (s == RCL_OK) {
            out->n++; /* owned from here on */
            s = convert(label, full, v, t);
        }
        free(full);
        RCL_TRY(s);
    }
    return RCL_OK;
}

/* ---------------- zip format ---------------- */

static rcl_status load_zip(rcl_zip *z, const char *label, rcl_torch_state *out) {
    const rcl_zip_entry *pkl = NULL;
    for (size_t i = 0; i < rcl_zip_count(z); i++) {
        const char *n = rcl_zip_entry_at(z, i)->name, *slash = strchr(n, '/');
        if (slash && slash != n && !strcmp(slash, "/data.pkl")) {
            if (pkl)
                return rcl_fail(RCL_ERR_FORMAT, "%s: two data.pkl records (%s, %s)", label, pkl->name, n);
            pkl = rcl_zip_entry_at(z, i);
        }
    }
    if (!pkl)
        return rcl_fail(RCL_ERR_FORMAT, "%s: a zip file without <name>/data.pkl: not a torch.save archive", label);
    size_t plen = strlen(pkl->name) - strlen("/data.pkl");
    char member[512];
    if (plen > 256)
        return rcl_fail(RCL_ERR_FORMAT, "%s: archive name too long", label);

    snprintf(member, sizeof member, "%.*s/byteorder", (int)plen, pkl->name);
    const rcl_zip_entry *bo = rcl_zip_find(z, member);
    if (bo) {
        unsigned char *b;
        size_t n;
        RCL_TRY(rcl_zip_read(z, bo, &b, &n));
        int little = n == 6 && !memcmp(b, "little", 6);
        free(b);
        if (!little)
            return rcl_fail(RCL_ERR_FORMAT, "%s: big-endian torch archives are not supported", label);
    }

    unsigned char *pbuf;
    size_t pn;
    RCL_TRY(rcl_zip_read(z, pkl, &pbuf, &pn));
    char plabel[600];
    snprintf(plabel, sizeof plabel, "%s: %s", label, pkl->name);
    rcl_pickle *p = NULL;
    size_t used;
    rcl_status s = rcl_pickle_load(pbuf, pn, plabel, &p, &used);
    size_t ns = p ? rcl_pickle_storage_count(p) : 0;
    unsigned char **blobs = calloc(ns ? ns : 1, sizeof *blobs);
    if (s == RCL_OK && !blobs)
        s = rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", label);
    for (size_t i = 0; s == RCL_OK && i < ns; i++) {
        rcl_py *st = rcl_pickle_storage_at(p, i);
        snprintf(member, sizeof member, "%.*s/data/%s", (int)plen, pkl->name, st->key);
        const rcl_zip_entry *e = rcl_zip_find(z, member);
        size_t n = 0;
        if (!e) {
            s = rcl_fail(RCL_ERR_FORMAT, "%s: storage %s has no member %s", label, st->key, member);
            break;
        }
        uint64_t want = (uint64_t)st->numel * rcl_st_dtype_size(st->dtype);
        if (st->numel > (int64_t)(UINT64_MAX / 8) || e->size != want) {
            s = rcl_fail(RCL_ERR_FORMAT, "%s: storage %s: %llu bytes, expected %lld %s elements", label, st->key,
                         (unsigned long long)e->size, (long long)st->numel, rcl_st_dtype_name(st->dtype));
            break;
        }
        s = rcl_zip_read(z, e, &blobs[i], &n);
        st->data = blobs[i];
        st->nbytes = n;
    }
    if (s == RCL_OK)
        s = materialize(label, rcl_pickle_root(p), out);
    for (size_t i = 0; blobs && i < ns; i++)
        free(blobs[i]);
    free(blobs);
    rcl_pickle_free(p);
    free(pbuf);
    return s;
}

/* ---------------- legacy format ---------------- */

static rcl_status load_legacy(const unsigned char *d, size_t size, const char *label, rcl_torch_state *out) {
    size_t pos = 0, used;
    rcl_pickle *hdr = NULL;
    /* 1. magic number */
    if (rcl_pickle_load(d, size, label, &hdr, &used) != RCL_OK) {
        rcl_pickle_free(hdr);
        return rcl_fail(RCL_ERR_FORMAT, "%s: neither a torch zip archive nor a legacy torch.save file", label);
    }
    const rcl_py *m = rcl_pickle_root(hdr);
    int magic = m->type == RCL_PY_BIGINT && m->len == sizeof torch_magic && !memcmp(m->bytes, torch_magic, 10);
    rcl_pickle_free(hdr);
    if (!magic)
        return rcl_fail(RCL_ERR_FORMAT, "%s: a pickle, but without the torch.save magic number", label);
    pos += used;
    /* 2. protocol version */
    RCL_TRY(rcl_pickle_load(d + pos, size - pos, label, &hdr, &used));
    m = rcl_pickle_root(hdr);
    int version_ok = m->type == RCL_PY_INT && m->i == LEGACY_PROTOCOL_VERSION;
    rcl_pickle_free(hdr);
    if (!version_ok)
        return rcl_fail(RCL_ERR_FORMAT, "%s: unsupported legacy torch.save protocol version", label);
    pos += used;
    /* 3. sys_info */
    RCL_TRY(rcl_pickle_load(d + pos, size - pos, label, &hdr, &used));
    const rcl_py *le = rcl_py_dict_get(rcl_pickle_root(hdr), "little_endian");
    int big = le && le->type == RCL_PY_BOOL && !le->i;
    rcl_pickle_free(hdr);
    if (big)
        return rcl_fail(RCL_ERR_FORMAT, "%s: saved on a big-endian machine (unsupported)", label);
    pos += used;
    /* 4. the object, 5. the storage keys */
    rcl_pickle *obj = NULL, *keys = NULL;
    RCL_TRY(rcl_pickle_load(d + pos, size - pos, label, &obj, &used));
    pos += used;
    rcl_status s = rcl_pickle_load(d + pos, size - pos, label, &keys, &used);
    if (s == RCL_OK) {
        pos += used;
        const rcl_py *list = rcl_pickle_root(keys);
        if (list->type != RCL_PY_LIST)
            s = rcl_fail(RCL_ERR_FORMAT, "%s: the storage key list is a %s", label, rcl_py_type_name(list->type));
        /* 6. per key: u64 element count, then the data */
        for (size_t i = 0; s == RCL_OK && i < list->count; i++) {
            const rcl_py *k = list->items[i];
            rcl_py *st = NULL;
            for (size_t j = 0; k->type == RCL_PY_STR && j < rcl_pickle_storage_count(obj); j++)
                if (!strcmp(rcl_pickle_storage_at(obj, j)->key, (const char *)k->bytes))
                    st = rcl_pickle_storage_at(obj, j);
            if (!st) {
                s = rcl_fail(RCL_ERR_FORMAT, "%s: storage key %zu is not used by any tensor", label, i);
                break;
            }
            if (size - pos < 8) {
                s = rcl_fail(RCL_ERR_FORMAT, "%s: truncated before storage %s", label, st->key);
                break;
            }
            uint64_t count = 0;
            for (int b = 7; b >= 0; b--)
                count = count << 8 | d[pos + (size_t)b];
            pos += 8;
            size_t es = rcl_st_dtype_size(st->dtype);
            if (count != (uint64_t)st->numel || count > (size - pos) / es) {
                s = rcl_fail(RCL_ERR_FORMAT, "%s: storage %s: %llu elements recorded, %lld expected, %zu bytes left",
                             label, st->key, (unsigned long long)count, (long long)st->numel, size - pos);
                break;
            }
            if (st->data) {
                s = rcl_fail(RCL_ERR_FORMAT, "%s: storage %s appears twice", label, st->key);
                break;
            }
            st->data = d + pos;
            st->nbytes = (size_t)count * es;
            pos += st->nbytes;
        }
    }
    if (s == RCL_OK)
        s = materialize(label, rcl_pickle_root(obj), out);
    rcl_pickle_free(keys);
    rcl_pickle_free(obj);
    return s;
}

rcl_status rcl_torch_load_memory(const void *data, size_t size, const char *label, rcl_torch_state *out) {
    out->t = NULL;
    out->n = 0;
    if (!label)
        label = "(memory)";
    const unsigned char *d = data;
    rcl_status s;
    if (size >= 4 && !memcmp(d, "PK\3\4", 4)) {
        rcl_zip *z;
        RCL_TRY(rcl_zip_open_memory(data, size, label, &z));
        s = load_zip(z, label, out);
        rcl_zip_close(z);
    } else {
        s = load_legacy(d, size, label, out);
    }
    if (s != RCL_OK)
        rcl_torch_state_free(out);
    return s;
}

rcl_status rcl_torch_load(const char *path, rcl_torch_state *out) {
    out->t = NULL;
    out->n = 0;
    unsigned char head[4] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return rcl_fail(RCL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t got = fread(head, 1, 4, f);
    fclose(f);
    if (got == 4 && !memcmp(head, "PK\3\4", 4)) { /* zip: read member by member, not the whole file */
        rcl_zip *z;
        RCL_TRY(rcl_zip_open(path, &z));
        rcl_status s = load_zip(z, path, out);
        rcl_zip_close(z);
        if (s != RCL_OK)
            rcl_torch_state_free(out);
        return s;
    }
    unsigned char *d;
    size_t n;
    RCL_TRY(rcl_file_read(path, &d, &n));
    rcl_status s = rcl_torch_load_memory(d, n, path, out);
    free(d);
    return s;
}
