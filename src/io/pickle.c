/* Restricted unpickler (see pickle.h): a stack machine over the binary opcodes of
 * protocols 2-5 whose only "calls" are a fixed table of constructors implemented here.
 * Memory use is linear in the input: every object needs at least one opcode byte, and
 * memo indices are bounded by the input length. */
#include "io/pickle.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"

/* ---------------- arena ---------------- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
} chunk;

struct rcl_pickle {
    chunk *arena;
    const rcl_py *root;
    unsigned char *owned; /* the file image for rcl_pickle_load_file */
    rcl_py **storages;
    size_t nstorages, storages_cap;
    char *label;
};

static void *arena_alloc(rcl_pickle *p, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    chunk *c = p->arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > (1u << 16) ? n : (1u << 16);
        chunk *nc = malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        if (n > (1u << 15) && c) { /* big blocks go behind the current chunk, keeping its free space */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            p->arena = nc;
        }
        c = nc;
    }
    void *r = c->data + c->used;
    c->used += n;
    return r;
}

void rcl_pickle_free(rcl_pickle *p) {
    if (!p)
        return;
    for (chunk *c = p->arena, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(p->storages);
    free(p->owned);
    free(p->label);
    free(p);
}

const rcl_py *rcl_pickle_root(const rcl_pickle *p) { return p->root; }
size_t rcl_pickle_storage_count(const rcl_pickle *p) { return p->nstorages; }
rcl_py *rcl_pickle_storage_at(const rcl_pickle *p, size_t i) { return i < p->nstorages ? p->storages[i] : NULL; }

/* ---------------- allowed globals ---------------- */

enum {
    G_ORDERED_DICT,
    G_REBUILD_TENSOR_V2,
    G_REBUILD_TENSOR,
    G_REBUILD_PARAMETER,
    G_REBUILD_PARAMETER_STATE,
    G_NP_RECONSTRUCT,
    G_NP_NDARRAY,
    G_NP_DTYPE,
    G_NP_FROMBUFFER,
    G_NP_SCALAR,
    G_CODECS_ENCODE,
    G_BYTES,
    G_STORAGE,
};

static const struct {
    const char *module, *name;
    int id;
    rcl_st_dtype dtype; /* G_STORAGE */
} allowed[] = {
    {"collections", "OrderedDict", G_ORDERED_DICT, 0},
    {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_TENSOR_V2, 0},
    {"torch._utils", "_rebuild_tensor", G_REBUILD_TENSOR, 0},
    {"torch._utils", "_rebuild_parameter", G_REBUILD_PARAMETER, 0},
    {"torch._utils", "_rebuild_parameter_with_state", G_REBUILD_PARAMETER_STATE, 0},
    {"numpy.core.multiarray", "_reconstruct", G_NP_RECONSTRUCT, 0},
    {"numpy._core.multiarray", "_reconstruct", G_NP_RECONSTRUCT, 0},
    {"numpy.core.multiarray", "scalar", G_NP_SCALAR, 0},
    {"numpy._core.multiarray", "scalar", G_NP_SCALAR, 0},
    {"numpy.core.numeric", "_frombuffer", G_NP_FROMBUFFER, 0},
    {"numpy._core.numeric", "_frombuffer", G_NP_FROMBUFFER, 0},
    {"numpy", "ndarray", G_NP_NDARRAY, 0},
    {"numpy", "dtype", G_NP_DTYPE, 0},
    {"_codecs", "encode", G_CODECS_ENCODE, 0},
    {"builtins", "bytes", G_BYTES, 0},
    {"__builtin__", "bytes", G_BYTES, 0},
    {"torch", "FloatStorage", G_STORAGE, RCL_DT_F32},
    {"torch", "DoubleStorage", G_STORAGE, RCL_DT_F64},
    {"torch", "HalfStorage", G_STORAGE, RCL_DT_F16},
    {"torch", "BFloat16Storage", G_STORAGE, RCL_DT_BF16},
    {"torch", "LongStorage", G_STORAGE, RCL_DT_I64},
    {"torch", "IntStorage", G_STORAGE, RCL_DT_I32},
    {"torch", "ShortStorage", G_STORAGE, RCL_DT_I16},
    {"torch", "CharStorage", G_STORAGE, RCL_DT_I8},
    {"torch", "ByteStorage", G_STORAGE, RCL_DT_U8},
    {"torch", "BoolStorage", G_STORAGE, RCL_DT_BOOL},
    {"torch", "UntypedStorage", G_STORAGE, RCL_DT_U8},
};

/* ---------------- the machine ---------------- */

typedef struct {
    rcl_pickle *p;
    const unsigned char *s;
    size_t n, pos, op_pos;
    rcl_py **stack;
    size_t sp, scap;
    size_t *marks;
    size_t nmarks, mcap;
    rcl_py **memo;
    size_t memo_cap, memo_count;
    const char *label;
} U;

static rcl_status fail_at(const U *u, const char *fmt, const char *a, const char *b) {
    char what[256];
    snprintf(what, sizeof what, fmt, a ? a : "", b ? b : "");
    return rcl_fail(RCL_ERR_FORMAT, "%s: pickle byte %zu: %s", u->label, u->op_pos, what);
}
#define FAIL(u, msg) fail_at((u), "%s%s" msg, NULL, NULL)

static rcl_status oom(const U *u) { return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory unpickling", u->label); }

static rcl_status need(U *u, size_t k) {
    if (u->n - u->pos < k)
        return FAIL(u, "truncated pickle");
    return RCL_OK;
}

static uint64_t le(const unsigned char *b, int k) {
    uint64_t v = 0;
    for (int i = k - 1; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static rcl_status take_uint(U *u, int k, uint64_t *v) {
    RCL_TRY(need(u, (size_t)k));
    *v = le(u->s + u->pos, k);
    u->pos += (size_t)k;
    return RCL_OK;
}

/* A text line (GLOBAL, PUT, GET, INT) without its newline; bounded length. */
static rcl_status take_line(U *u, const char **line, size_t *len) {
    const unsigned char *nl = memchr(u->s + u->pos, '\n', u->n - u->pos < 1024 ? u->n - u->pos : 1024);
    if (!nl)
        return FAIL(u, "unterminated or overlong text argument");
    *line = (const char *)u->s + u->pos;
    *len = (size_t)(nl - (u->s + u->pos));
    u->pos += *len + 1;
    return RCL_OK;
}

static rcl_py *new_obj(U *u, rcl_py_type t) {
    rcl_py *o = arena_alloc(u->p, sizeof *o);
    if (o) {
        memset(o, 0, sizeof *o);
        o->type = t;
    }
    return o;
}

static rcl_status push(U *u, rcl_py *o) {
    if (!o)
        return oom(u);
    if (u->sp == u->scap) {
        size_t nc = u->scap ? 2 * u->scap : 64;
        rcl_py **ns = realloc(u->stack, nc * sizeof *ns);
        if (!ns)
            return oom(u);
        u->stack = ns;
        u->scap = nc;
    }
    u->stack[u->sp++] = o;
    return RCL_OK;
}

static size_t base(const U *u) { return u->nmarks ? u->marks[u->nmarks - 1] : 0; }

static rcl_status pop(U *u, rcl_py **o) {
    if (u->sp <= base(u))
        return FAIL(u, "stack underflow");
    *o = u->stack[--u->sp];
    return RCL_OK;
}

static rcl_status top(U *u, rcl_py **o) {
    if (u->sp <= base(u))
        return FAIL(u, "stack underflow");
    *o = u->stack[u->sp - 1];
    return RCL_OK;
}

/* Pops to the last mark: the popped items are stack[*from .. *from + *k). */
static rcl_status pop_mark(U *u, size_t *from, size_t *k) {
    if (!u->nmarks)
        return FAIL(u, "no mark on the stack");
    size_t m = u->marks[--u->nmarks];
    *from = m;
    *k = u->sp - m;
    u->sp = m;
    return RCL_OK;
}

static rcl_status append_items(U *u, rcl_py *c, rcl_py **items, size_t k) {
    if (c->count + k > c->cap) {
        size_t nc = c->cap ? c->cap : 4;
        while (nc < c->count + k)
            nc *= 2;
        rcl_py **ni = arena_alloc(u->p, nc * sizeof *ni);
        if (!ni)
            return oom(u);
        if (c->count)
            memcpy(ni, c->items, c->count * sizeof *ni);
        c->items = ni;
        c->cap = nc;
    }
    memcpy(c->items + c->count, items, k * sizeof *items);
    c->count += k;
    return RCL_OK;
}

static rcl_status make_seq(U *u, rcl_py_type t, rcl_py **items, size_t k) {
    rcl_py *o = new_obj(u, t);
    if (!o)
        return oom(u);
    if (k)
        RCL_TRY(append_items(u, o, items, k));
    return push(u, o);
}

/* Adds key/value pairs to a dict: appended, lookups take the last (Python semantics). */
static rcl_status dict_add(U *u, rcl_py *d, rcl_py **kv, size_t k) {
    if (d->type != RCL_PY_DICT)
        return fail_at(u, "SETITEM(S) on a %s", rcl_py_type_name(d->type), NULL);
    if (k % 2)
        return FAIL(u, "odd number of dict items");
    if (k == 0)
        return RCL_OK;
    if (d->count * 2 + k > d->cap) {
        size_t nc = d->cap ? d->cap : 8;
        while (nc < d->count * 2 + k)
            nc *= 2;
        rcl_py **ni = arena_alloc(u->p, nc * sizeof *ni);
        if (!ni)
            return oom(u);
        if (d->count)
            memcpy(ni, d->items, d->count * 2 * sizeof *ni);
        d->items = ni;
        d->cap = nc;
    }
    memcpy(d->items + d->count * 2, kv, k * sizeof *kv);
    d->count += k / 2;
    return RCL_OK;
}

static rcl_status new_str(U *u, const unsigned char *b, size_t n) {
    rcl_py *o = new_obj(u, RCL_PY_STR);
    unsigned char *c = o ? arena_alloc(u->p, n + 1) : NULL;
    if (!c)
        return oom(u);
    memcpy(c, b, n);
    c[n] = 0;
    o->bytes = c;
    o->len = n;
    return push(u, o);
}

static rcl_status new_bytes(U *u, const unsigned char *b, size_t n) {
    rcl_py *o = new_obj(u, RCL_PY_BYTES);
    if (!o)
        return oom(u);
    o->bytes = b; /* zero-copy: points into the input */
    o->len = n;
    return push(u, o);
}

static rcl_status new_int(U *u, int64_t v, rcl_py_type t) {
    rcl_py *o = new_obj(u, t);
    if (!o)
        return oom(u);
    o->i = v;
    return push(u, o);
}

/* LONG1/LONG4: little-endian two's complement of n bytes. */
static rcl_status new_long(U *u, const unsigned char *b, size_t n) {
    if (n == 0)
        return new_int(u, 0, RCL_PY_INT);
    int neg = b[n - 1] & 0x80;
    size_t sig = n; /* drop redundant sign-extension bytes */
    while (sig > 1 && b[sig - 1] == (neg ? 0xFF : 0x00) && ((b[sig - 2] & 0x80) != 0) == (neg != 0))
        sig--;
    if (sig <= 8) {
        uint64_t v = le(b, (int)sig);
        if (neg && sig < 8)
            v |= ~(uint64_t)0 << (8 * sig);
        return new_int(u, (int64_t)v, RCL_PY_INT);
    }
    rcl_py *o = new_obj(u, RCL_PY_BIGINT);
    if (!o)
        return oom(u);
    o->bytes = b;
    o->len = n;
    return push(u, o);
}

static rcl_status memo_put(U *u, uint64_t idx) {
    rcl_py *o = NULL;
    RCL_TRY(top(u, &o));
    if (idx >= (uint64_t)u->n + 1024) /* a real pickler numbers its puts densely */
        return FAIL(u, "memo index out of range");
    if (idx >= u->memo_cap) {
        size_t nc = u->memo_cap ? u->memo_cap : 64;
        while (nc <= idx)
            nc *= 2;
        rcl_py **nm = realloc(u->memo, nc * sizeof *nm);
        if (!nm)
            return oom(u);
        memset(nm + u->memo_cap, 0, (nc - u->memo_cap) * sizeof *nm);
        u->memo = nm;
        u->memo_cap = nc;
    }
    if (!u->memo[idx])
        u->memo_count++;
    u->memo[idx] = o;
    return RCL_OK;
}

static rcl_status memo_get(U *u, uint64_t idx) {
    if (idx >= u->memo_cap || !u->memo[idx])
        return FAIL(u, "memo key missing");
    return push(u, u->memo[idx]);
}

static rcl_status parse_decimal(U *u, const char *line, size_t len, uint64_t *v) {
    *v = 0;
    if (len == 0 || len > 18)
        return FAIL(u, "bad decimal argument");
    for (size_t i = 0; i < len; i++) {
        if (line[i] < '0' || line[i] > '9')
            return FAIL(u, "bad decimal argument");
        *v = *v * 10 + (uint64_t)(line[i] - '0');
    }
    return RCL_OK;
}

static rcl_status push_global(U *u, const char *module, size_t mlen, const char *name, size_t nlen) {
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        if (strlen(allowed[i].module) == mlen && !memcmp(allowed[i].module, module, mlen) &&
            strlen(allowed[i].name) == nlen && !memcmp(allowed[i].name, name, nlen)) {
            rcl_py *g = new_obj(u, RCL_PY_GLOBAL);
            if (!g)
                return oom(u);
            g->which = allowed[i].id;
            g->dtype = allowed[i].dtype;
            g->key = allowed[i].name;
            return push(u, g);
        }
    }
    char m[96], n[96];
    snprintf(m, sizeof m, "%.*s", (int)(mlen < 90 ? mlen : 90), module);
    snprintf(n, sizeof n, "%.*s", (int)(nlen < 90 ? nlen : 90), name);
    for (char *c = m; *c; c++) /* keep the message printable */
        if ((unsigned char)*c < 0x20)
            *c = '?';
    for (char *c = n; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = '?';
    return fail_at(u, "global %s.%s is not allowed (restricted unpickler)", m, n);
}

/* numpy dtype codes: [<>|=]? kind size, e.g. '<f4', 'u1', 'i8', 'b1'. */
static int parse_dtype_code(const unsigned char *s, size_t n, rcl_st_dtype *dt, int *big) {
    *big = 0;
    if (n && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) {
        *big = s[0] == '>';
        s++;
        n--;
    }
    static const struct {
        const char *code;
        rcl_st_dtype dt;
    } codes[] = {{"b1", RCL_DT_BOOL}, {"?", RCL_DT_BOOL},  {"u1", RCL_DT_U8},   {"i1", RCL_DT_I8},
                 {"u2", RCL_DT_U16},  {"i2", RCL_DT_I16},  {"u4", RCL_DT_U32},  {"i4", RCL_DT_I32},
                 {"u8", RCL_DT_U64},  {"i8", RCL_DT_I64},  {"f2", RCL_DT_F16},  {"f4", RCL_DT_F32},
                 {"f8", RCL_DT_F64},  {"B", RCL_DT_U8},    {"b", RCL_DT_I8}};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        if (strlen(codes[i].code) == n && !memcmp(codes[i].code, s, n)) {
            *dt = codes[i].dt;
            return 1;
        }
    }
    return 0;
}

static int is_text(const rcl_py *o) { return o->type == RCL_PY_STR || o->type == RCL_PY_BYTES; }

/* A tuple of non-negative ints into shape[]; returns the count or -1. */
static int int_tuple(const rcl_py *t, int64_t *out) {
    if ((t->type != RCL_PY_TUPLE && t->type != RCL_PY_LIST) || t->count > RCL_ST_MAX_DIMS)
        return -1;
    for (size_t i = 0; i < t->count; i++) {
        if (t->items[i]->type != RCL_PY_INT || t->items[i]->i < 0)
            return -1;
        out[i] = t->items[i]->i;
    }
    return (int)t->count;
}

/* Product of a shape times the element size, with overflow checks; 0 and *ok=0 on overflow. */
static size_t array_bytes(const int64_t *shape, int ndim, size_t esize, int *ok) {
    size_t n = esize;
    *ok = 1;
    for (int i = 0; i < ndim; i++) {
        size_t d = (size_t)shape[i];
        if (d && n > SIZE_MAX / d) {
            *ok = 0;
            return 0;
        }
        n *= d;
    }
    return n;
}

/* Fills an ndarray from (shape, dtype, data) with validation. */
static rcl_status set_array(U *u, rcl_py *a, const rcl_py *shape, const rcl_py *dtype, const rcl_py *raw,
                            int fortran) {
    if (dtype->type != RCL_PY_DTYPE)
        return FAIL(u, "ndarray state without a numpy dtype");
    if (dtype->big_endian)
        return FAIL(u, "big-endian numpy arrays are not supported");
    int nd = int_tuple(shape, a->shape);
    if (nd < 0)
        return FAIL(u, "ndarray shape is not a tuple of at most 8 non-negative ints");
    if (!is_text(raw))
        return FAIL(u, "ndarray data is not bytes (object arrays are not supported)");
    int ok;
    size_t nb = array_bytes(a->shape, nd, rcl_st_dtype_size(dtype->dtype), &ok);
    if (!ok || nb != raw->len) {
        char got[32], want[32];
        snprintf(got, sizeof got, "%zu", raw->len);
        snprintf(want, sizeof want, "%zu", nb);
        return fail_at(u, "ndarray data has %s bytes, shape and dtype need %s", got, ok ? want : "too many");
    }
    a->type = RCL_PY_NDARRAY;
    a->ndim = nd;
    a->dtype = dtype->dtype;
    a->fortran = fortran;
    a->data = raw->bytes;
    a->nbytes = nb;
    return RCL_OK;
}

/* UTF-8 text of code points < 256 back to bytes (Python 3's protocol-2 bytes). */
static rcl_status latin1_encode(U *u, const rcl_py *str) {
    unsigned char *o = arena_alloc(u->p, str->len + 1);
    if (!o)
        return oom(u);
    size_t k = 0;
    for (size_t i = 0; i < str->len;) {
        unsigned c = str->bytes[i];
        if (c < 0x80) {
            o[k++] = (unsigned char)c;
            i++;
        } else if ((c == 0xC2 || c == 0xC3) && i + 1 < str->len && (str->bytes[i + 1] & 0xC0) == 0x80) {
            o[k++] = (unsigned char)((c & 0x03) << 6 | (str->bytes[i + 1] & 0x3F));
            i += 2;
        } else {
            return FAIL(u, "_codecs.encode: text is not latin-1");
        }
    }
    return new_bytes(u, o, k);
}

static rcl_status make_tensor(U *u, rcl_py **args, size_t nargs) {
    if (nargs < 4 || args[0]->type != RCL_PY_STORAGE || args[1]->type != RCL_PY_INT || args[1]->i < 0)
        return FAIL(u, "_rebuild_tensor: expected (storage, offset, size, stride, ...)");
    rcl_py *t = new_obj(u, RCL_PY_TENSOR);
    if (!t)
        return oom(u);
    int nd = int_tuple(args[2], t->shape);
    int ns = int_tuple(args[3], t->stride);
    if (nd < 0 || ns != nd)
        return FAIL(u, "_rebuild_tensor: size and stride must be tuples of equal length (<= 8) of ints >= 0");
    t->ndim = nd;
    t->storage = args[0];
    t->storage_offset = args[1]->i;
    t->dtype = args[0]->dtype;
    return push(u, t);
}

static rcl_status do_reduce(U *u) {
    rcl_py *args = NULL, *f = NULL;
    RCL_TRY(pop(u, &args));
    RCL_TRY(pop(u, &f));
    if (f->type != RCL_PY_GLOBAL)
        return fail_at(u, "REDUCE on a %s (only allowed globals can be applied)", rcl_py_type_name(f->type), NULL);
    if (args->type != RCL_PY_TUPLE)
        return fail_at(u, "REDUCE of %s with non-tuple arguments", f->key, NULL);
    rcl_py **a = args->items;
    size_t n = args->count;
    switch (f->which) {
    case G_ORDERED_DICT: {
        rcl_py *d = new_obj(u, RCL_PY_DICT);
        if (!d)
            return oom(u);
        if (n == 1 && (a[0]->type == RCL_PY_LIST || a[0]->type == RCL_PY_TUPLE)) {
            for (size_t i = 0; i < a[0]->count; i++) {
                rcl_py *pair = a[0]->items[i];
                if ((pair->type != RCL_PY_LIST && pair->type != RCL_PY_TUPLE) || pair->count != 2)
                    return FAIL(u, "OrderedDict items must be pairs");
                RCL_TRY(dict_add(u, d, pair->items, 2));
            }
        } else if (n != 0) {
            return FAIL(u, "OrderedDict: unexpected arguments");
        }
        return push(u, d);
    }
    case G_REBUILD_TENSOR_V2:
    case G_REBUILD_TENSOR:
        return make_tensor(u, a, n);
    case G_REBUILD_PARAMETER:
    case G_REBUILD_PARAMETER_STATE:
        if (n < 1 || a[0]->type != RCL_PY_TENSOR)
            return FAIL(u, "_rebuild_parameter of something other than a tensor");
        return push(u, a[0]);
    case G_NP_RECONSTRUCT: {
        if (n != 3 || a[0]->type != RCL_PY_GLOBAL || a[0]->which != G_NP_NDARRAY)
            return FAIL(u, "_reconstruct: only numpy.ndarray is supported");
        rcl_py *arr = new_obj(u, RCL_PY_NDARRAY);
        if (!arr)
            return oom(u);
        arr->ndim = 1; /* an empty placeholder until BUILD */
        arr->dtype = RCL_DT_U8;
        return push(u, arr);
    }
    case G_NP_DTYPE: {
        rcl_py *d = new_obj(u, RCL_PY_DTYPE);
        if (!d)
            return oom(u);
        if (n < 1 || !is_text(a[0]) || !parse_dtype_code(a[0]->bytes, a[0]->len, &d->dtype, &d->big_endian)) {
            char code[40] = "?";
            if (n >= 1 && is_text(a[0]))
                snprintf(code, sizeof code, "%.*s", (int)(a[0]->len < 32 ? a[0]->len : 32),
                         (const char *)a[0]->bytes);
            return fail_at(u, "numpy dtype '%s' is not supported", code, NULL);
        }
        return push(u, d);
    }
    case G_NP_FROMBUFFER: {
        if (n != 4 || a[1]->type != RCL_PY_DTYPE || !is_text(a[3]) || a[3]->len != 1)
            return FAIL(u, "_frombuffer: expected (buffer, dtype, shape, order)");
        rcl_py *arr = new_obj(u, RCL_PY_NDARRAY);
        if (!arr)
            return oom(u);
        RCL_TRY(set_array(u, arr, a[2], a[1], a[0], a[3]->bytes[0] == 'F'));
        return push(u, arr);
    }
    case G_NP_SCALAR: {
        if (n != 2 || a[0]->type != RCL_PY_DTYPE || !is_text(a[1]) ||
            a[1]->len != rcl_st_dtype_size(a[0]->dtype) || a[0]->big_endian)
            return FAIL(u, "numpy scalar: expected (dtype, bytes) of the dtype's size");
        rcl_st_dtype dt = a[0]->dtype;
        const unsigned char *b = a[1]->bytes;
        if (dt == RCL_DT_F16 || dt == RCL_DT_F32 || dt == RCL_DT_F64) {
            rcl_py *o = new_obj(u, RCL_PY_FLOAT);
            if (!o)
                return oom(u);
            if (dt == RCL_DT_F64) {
                memcpy(&o->f, b, 8);
            } else {
                float x;
                rcl_st_to_f32(dt, b, 1, &x);
                o->f = x;
            }
            return push(u, o);
        }
        int64_t v;
        size_t sz = rcl_st_dtype_size(dt);
        uint64_t raw = le(b, (int)sz);
        int is_signed = dt == RCL_DT_I8 || dt == RCL_DT_I16 || dt == RCL_DT_I32 || dt == RCL_DT_I64;
        if (is_signed && sz < 8 && (raw >> (8 * sz - 1) & 1))
            raw |= ~(uint64_t)0 << (8 * sz);
        if (dt == RCL_DT_U64 && raw > INT64_MAX)
            return FAIL(u, "numpy uint64 scalar beyond int64");
        v = (int64_t)raw;
        return new_int(u, v, dt == RCL_DT_BOOL ? RCL_PY_BOOL : RCL_PY_INT);
    }
    case G_CODECS_ENCODE:
        if (n != 2 || a[0]->type != RCL_PY_STR || a[1]->type != RCL_PY_STR ||
            (strcmp((const char *)a[1]->bytes, "latin1") && strcmp((const char *)a[1]->bytes, "latin-1")))
            return FAIL(u, "_codecs.encode: only (str, 'latin1') is supported");
        return latin1_encode(u, a[0]);
    case G_BYTES:
        if (n != 0)
            return FAIL(u, "bytes(): only the empty call is supported");
        return new_bytes(u, (const unsigned char *)"", 0);
    default:
        return fail_at(u, "%s cannot be called here", f->key, NULL);
    }
}

static rcl_status do_build(U *u) {
    rcl_py *state = NULL, *o = NULL;
    RCL_TRY(pop(u, &state));
    RCL_TRY(top(u, &o));
    if (o->type == RCL_PY_DTYPE) {
        /* (version, byteorder, subarray, names, fields, elsize, alignment, flags) */
        if (state->type != RCL_PY_TUPLE || state->count < 2 || !is_text(state->items[1]) ||
            state->items[1]->len != 1)
            return FAIL(u, "numpy dtype state is malformed");
        for (size_t i = 2; i < 5 && i < state->count; i++)
            if (state->items[i]->type != RCL_PY_NONE)
                return FAIL(u, "structured or subarray numpy dtypes are not supported");
        char bo = (char)state->items[1]->bytes[0];
        o->big_endian = bo == '>';
        return RCL_OK;
    }
    if (o->type == RCL_PY_NDARRAY) {
        /* (version, shape, dtype, is_fortran, rawdata) or without the version */
        if (state->type != RCL_PY_TUPLE || (state->count != 5 && state->count != 4))
            return FAIL(u, "ndarray state is not a 4- or 5-tuple");
        rcl_py **s = state->items + (state->count == 5);
        if (s[2]->type != RCL_PY_BOOL && s[2]->type != RCL_PY_INT)
            return FAIL(u, "ndarray state: is_fortran is not a bool");
        return set_array(u, o, s[0], s[1], s[3], s[2]->i != 0);
    }
    if (o->type == RCL_PY_DICT) {
        /* instance attributes of an OrderedDict (state_dict()._metadata): ignored */
        if (state->type == RCL_PY_DICT || (state->type == RCL_PY_TUPLE && state->count == 2))
            return RCL_OK;
        return FAIL(u, "BUILD on a dict with a strange state");
    }
    return fail_at(u, "BUILD on a %s is not supported", rcl_py_type_name(o->type), NULL);
}

static rcl_status do_persid(U *u) {
    rcl_py *pid = NULL;
    RCL_TRY(pop(u, &pid));
    /* ('storage', storage_type, key, location, numel[, view_metadata]) */
    if (pid->type != RCL_PY_TUPLE || pid->count < 5 || pid->count > 6 || !rcl_py_is_text(pid->items[0], "storage"))
        return FAIL(u, "persistent id is not a torch storage tuple");
    rcl_py **a = pid->items;
    if (a[1]->type != RCL_PY_GLOBAL || a[1]->which != G_STORAGE)
        return FAIL(u, "persistent id: unknown storage type");
    if (!is_text(a[2]) || a[2]->len == 0 || a[2]->len > 64 || !is_text(a[3]) || a[4]->type != RCL_PY_INT ||
        a[4]->i < 0)
        return FAIL(u, "persistent id: bad key, location or size");
    if (pid->count == 6 && a[5]->type != RCL_PY_NONE)
        return FAIL(u, "persistent id: storage views (torch < 0.4) are not supported");
    for (const unsigned char *c = a[2]->bytes; c < a[2]->bytes + a[2]->len; c++)
        if (*c == 0 || *c == '/' || *c < 0x20) /* keys name zip members: keep them tame */
            return FAIL(u, "persistent id: bad storage key");
    rcl_pickle *p = u->p;
    for (size_t i = 0; i < p->nstorages; i++) {
        rcl_py *s = p->storages[i];
        if (strlen(s->key) == a[2]->len && !memcmp(s->key, a[2]->bytes, a[2]->len)) {
            if (s->dtype != a[1]->dtype || s->numel != a[4]->i)
                return fail_at(u, "storage %s is referenced with two types or sizes", s->key, NULL);
            return push(u, s);
        }
    }
    rcl_py *s = new_obj(u, RCL_PY_STORAGE);
    char *key = arena_alloc(p, a[2]->len + 1), *loc = arena_alloc(p, a[3]->len + 1);
    if (!s || !key || !loc)
        return oom(u);
    memcpy(key, a[2]->bytes, a[2]->len);
    key[a[2]->len] = 0;
    memcpy(loc, a[3]->bytes, a[3]->len);
    loc[a[3]->len] = 0;
    s->key = key;
    s->location = loc;
    s->dtype = a[1]->dtype;
    s->numel = a[4]->i;
    if (p->nstorages == p->storages_cap) {
        size_t nc = p->storages_cap ? 2 * p->storages_cap : 16;
        rcl_py **ns = realloc(p->storages, nc * sizeof *ns);
        if (!ns)
            return oom(u);
        p->storages = ns;
        p->storages_cap = nc;
    }
    p->storages[p->nstorages++] = s;
    return push(u, s);
}

static rcl_status run(U *u, rcl_py **result) {
    for (;;) {
        u->op_pos = u->pos;
        RCL_TRY(need(u, 1));
        unsigned char op = u->s[u->pos++];
        uint64_t v = 0;
        rcl_py *o = NULL, *o2 = NULL;
        size_t from = 0, k = 0;
        const char *line = NULL, *line2 = NULL;
        size_t len = 0, len2 = 0;
        switch (op) {
        case 0x80: /* PROTO */
            RCL_TRY(take_uint(u, 1, &v));
            if (v > 5)
                return FAIL(u, "unsupported pickle protocol");
            break;
        case 0x95: /* FRAME: contents follow inline */
            RCL_TRY(take_uint(u, 8, &v));
            if (v > u->n - u->pos)
                return FAIL(u, "frame runs past the end of the input");
            break;
        case '.': /* STOP */
            RCL_TRY(pop(u, result));
            return RCL_OK;
        case '(': /* MARK */
            if (u->nmarks == u->mcap) {
                size_t nc = u->mcap ? 2 * u->mcap : 32;
                size_t *nm = realloc(u->marks, nc * sizeof *nm);
                if (!nm)
                    return oom(u);
                u->marks = nm;
                u->mcap = nc;
            }
            u->marks[u->nmarks++] = u->sp;
            break;
        case '0': /* POP */
            if (u->sp == base(u) && u->nmarks) { /* POP of a mark, as Python allows */
                u->nmarks--;
                break;
            }
            RCL_TRY(pop(u, &o));
            break;
        case '1': /* POP_MARK */
            RCL_TRY(pop_mark(u, &from, &k));
            break;
        case '2': /* DUP */
            RCL_TRY(top(u, &o));
            RCL_TRY(push(u, o));
            break;
        case 'N':
            RCL_TRY(push(u, new_obj(u, RCL_PY_NONE)));
            break;
        case 0x88: /* NEWTRUE */
        case 0x89: /* NEWFALSE */
            RCL_TRY(new_int(u, op == 0x88, RCL_PY_BOOL));
            break;
        case 'J': /* BININT */
            RCL_TRY(take_uint(u, 4, &v));
            RCL_TRY(new_int(u, (int32_t)(uint32_t)v, RCL_PY_INT));
            break;
        case 'K': /* BININT1 */
            RCL_TRY(take_uint(u, 1, &v));
            RCL_TRY(new_int(u, (int64_t)v, RCL_PY_INT));
            break;
        case 'M': /* BININT2 */
            RCL_TRY(take_uint(u, 2, &v));
            RCL_TRY(new_int(u, (int64_t)v, RCL_PY_INT));
            break;
        case 'I': /* INT (text): also True/False as I01/I00 */
            RCL_TRY(take_line(u, &line, &len));
            if (len == 2 && (!memcmp(line, "01", 2) || !memcmp(line, "00", 2))) {
                RCL_TRY(new_int(u, line[1] == '1', RCL_PY_BOOL));
            } else {
                int neg = len > 0 && line[0] == '-';
                RCL_TRY(parse_decimal(u, line + neg, len - (size_t)neg, &v));
                RCL_TRY(new_int(u, neg ? -(int64_t)v : (int64_t)v, RCL_PY_INT));
            }
            break;
        case 0x8a: /* LONG1 */
        case 0x8b: /* LONG4 */
            RCL_TRY(take_uint(u, op == 0x8a ? 1 : 4, &v));
            if (op == 0x8b && v > 0x7FFFFFFF)
                return FAIL(u, "negative LONG4 length");
            RCL_TRY(need(u, (size_t)v));
            u->pos += (size_t)v;
            RCL_TRY(new_long(u, u->s + u->pos - v, (size_t)v));
            break;
        case 'G': { /* BINFLOAT: big-endian double */
            RCL_TRY(need(u, 8));
            uint64_t bits = 0;
            for (int i = 0; i < 8; i++)
                bits = bits << 8 | u->s[u->pos + (size_t)i];
            u->pos += 8;
            o = new_obj(u, RCL_PY_FLOAT);
            if (!o)
                return oom(u);
            memcpy(&o->f, &bits, 8);
            RCL_TRY(push(u, o));
            break;
        }
        case 'X':  /* BINUNICODE */
        case 0x8c: /* SHORT_BINUNICODE */
        case 0x8d: /* BINUNICODE8 */
        case 'B':  /* BINBYTES */
        case 'C':  /* SHORT_BINBYTES */
        case 0x8e: /* BINBYTES8 */
        case 0x96: /* BYTEARRAY8 */
        case 'T':  /* BINSTRING (Python 2 str: bytes) */
        case 'U':  /* SHORT_BINSTRING */
        {
            int w = (op == 0x8c || op == 'C' || op == 'U') ? 1 : (op == 0x8d || op == 0x8e || op == 0x96) ? 8 : 4;
            RCL_TRY(take_uint(u, w, &v));
            if (op == 'T' && v > 0x7FFFFFFF)
                return FAIL(u, "negative BINSTRING length");
            RCL_TRY(need(u, v > SIZE_MAX ? SIZE_MAX : (size_t)v));
            const unsigned char *b = u->s + u->pos;
            u->pos += (size_t)v;
            if (op == 'X' || op == 0x8c || op == 0x8d)
                RCL_TRY(new_str(u, b, (size_t)v));
            else
                RCL_TRY(new_bytes(u, b, (size_t)v));
            break;
        }
        case '}': /* EMPTY_DICT */
            RCL_TRY(push(u, new_obj(u, RCL_PY_DICT)));
            break;
        case ']': /* EMPTY_LIST */
            RCL_TRY(push(u, new_obj(u, RCL_PY_LIST)));
            break;
        case ')': /* EMPTY_TUPLE */
            RCL_TRY(push(u, new_obj(u, RCL_PY_TUPLE)));
            break;
        case 't': /* TUPLE */
        case 'l': /* LIST */
            RCL_TRY(pop_mark(u, &from, &k));
            RCL_TRY(make_seq(u, op == 't' ? RCL_PY_TUPLE : RCL_PY_LIST, u->stack + from, k));
            break;
        case 0x85: /* TUPLE1..3 */
        case 0x86:
        case 0x87:
            k = (size_t)(op - 0x84);
            if (u->sp - base(u) < k)
                return FAIL(u, "stack underflow");
            u->sp -= k;
            RCL_TRY(make_seq(u, RCL_PY_TUPLE, u->stack + u->sp, k));
            break;
        case 'd': /* DICT */
            RCL_TRY(pop_mark(u, &from, &k));
            o = new_obj(u, RCL_PY_DICT);
            if (!o)
                return oom(u);
            RCL_TRY(dict_add(u, o, u->stack + from, k));
            RCL_TRY(push(u, o));
            break;
        case 'a': /* APPEND */
            RCL_TRY(pop(u, &o));
            RCL_TRY(top(u, &o2));
            if (o2->type != RCL_PY_LIST)
                return fail_at(u, "APPEND to a %s", rcl_py_type_name(o2->type), NULL);
            RCL_TRY(append_items(u, o2, &o, 1));
            break;
        case 'e': /* APPENDS */
            RCL_TRY(pop_mark(u, &from, &k));
            RCL_TRY(top(u, &o2));
            if (o2->type != RCL_PY_LIST)
                return fail_at(u, "APPENDS to a %s", rcl_py_type_name(o2->type), NULL);
            if (k)
                RCL_TRY(append_items(u, o2, u->stack + from, k));
            break;
        case 's': /* SETITEM */
            if (u->sp - base(u) < 3)
                return FAIL(u, "stack underflow");
            u->sp -= 2;
            RCL_TRY(dict_add(u, u->stack[u->sp - 1], u->stack + u->sp, 2));
            break;
        case 'u': /* SETITEMS */
            RCL_TRY(pop_mark(u, &from, &k));
            RCL_TRY(top(u, &o2));
            RCL_TRY(dict_add(u, o2, u->stack + from, k));
            break;
        case 'q': /* BINPUT */
        case 'r': /* LONG_BINPUT */
            RCL_TRY(take_uint(u, op == 'q' ? 1 : 4, &v));
            RCL_TRY(memo_put(u, v));
            break;
        case 'p': /* PUT (text) */
            RCL_TRY(take_line(u, &line, &len));
            RCL_TRY(parse_decimal(u, line, len, &v));
            RCL_TRY(memo_put(u, v));
            break;
        case 0x94: /* MEMOIZE */
            RCL_TRY(memo_put(u, u->memo_count));
            break;
        case 'h': /* BINGET */
        case 'j': /* LONG_BINGET */
            RCL_TRY(take_uint(u, op == 'h' ? 1 : 4, &v));
            RCL_TRY(memo_get(u, v));
            break;
        case 'g': /* GET (text) */
            RCL_TRY(take_line(u, &line, &len));
            RCL_TRY(parse_decimal(u, line, len, &v));
            RCL_TRY(memo_get(u, v));
            break;
        case 'c': /* GLOBAL */
            RCL_TRY(take_line(u, &line, &len));
            RCL_TRY(take_line(u, &line2, &len2));
            RCL_TRY(push_global(u, line, len, line2, len2));
            break;
        case 0x93: /* STACK_GLOBAL */
            RCL_TRY(pop(u, &o2));
            RCL_TRY(pop(u, &o));
            if (o->type != RCL_PY_STR || o2->type != RCL_PY_STR)
                return FAIL(u, "STACK_GLOBAL needs two str");
            RCL_TRY(push_global(u, (const char *)o->bytes, o->len, (const char *)o2->bytes, o2->len));
            break;
        case 'R': /* REDUCE */
            RCL_TRY(do_reduce(u));
            break;
        case 'b': /* BUILD */
            RCL_TRY(do_build(u));
            break;
        case 'Q': /* BINPERSID */
            RCL_TRY(do_persid(u));
            break;
        default: {
            char code[8];
            snprintf(code, sizeof code, "0x%02x", op);
            return fail_at(u, "opcode %s is not supported by the restricted unpickler", code, NULL);
        }
        }
    }
}

rcl_status rcl_pickle_load(const void *data, size_t size, const char *label, rcl_pickle **out, size_t *consumed) {
    *out = NULL;
    if (consumed)
        *consumed = 0;
    rcl_pickle *p = calloc(1, sizeof *p);
    if (p)
        p->label = strdup(label ? label : "(pickle)");
    if (!p || !p->label) {
        free(p);
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", label ? label : "(pickle)");
    }
    static const unsigned char empty[1];
    U u = {.p = p, .s = data ? data : empty, .n = data ? size : 0, .label = p->label};
    rcl_py *result = NULL;
    u.stack = malloc(64 * sizeof *u.stack); /* never NULL below: stack + k is always valid */
    u.scap = 64;
    rcl_status s = u.stack ? run(&u, &result) : oom(&u);
    free(u.stack);
    free(u.marks);
    free(u.memo);
    if (s != RCL_OK) {
        rcl_pickle_free(p);
        return s;
    }
    p->root = result;
    if (consumed)
        *consumed = u.pos;
    *out = p;
    return RCL_OK;
}

rcl_status rcl_pickle_load_file(const char *path, rcl_pickle **out) {
    *out = NULL;
    unsigned char *d;
    size_t n;
    RCL_TRY(rcl_file_read(path, &d, &n));
    rcl_status s = rcl_pickle_load(d, n, path, out, NULL);
    if (s != RCL_OK) {
        free(d);
        return s;
    }
    (*out)->owned = d;
    return RCL_OK;
}

/* ---------------- helpers ---------------- */

const char *rcl_py_type_name(rcl_py_type t) {
    static const char *names[] = {"None",    "bool",  "int",    "int (big)", "float",   "str",
                                  "bytes",   "list",  "tuple",  "dict",      "ndarray", "tensor",
                                  "storage", "global", "dtype"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

int rcl_py_is_text(const rcl_py *o, const char *s) {
    size_t n = strlen(s);
    return o && (o->type == RCL_PY_STR || o->type == RCL_PY_BYTES) && o->len == n && !memcmp(o->bytes, s, n);
}

const rcl_py *rcl_py_dict_get(const rcl_py *dict, const char *key) {
    if (!dict || dict->type != RCL_PY_DICT)
        return NULL;
    for (size_t i = dict->count; i-- > 0;) /* the last assignment wins */
        if (rcl_py_is_text(dict->items[2 * i], key))
            return dict->items[2 * i + 1];
    return NULL;
}

rcl_status rcl_py_int_array(const rcl_py *o, const char *what, int64_t **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!o)
        return rcl_fail(RCL_ERR_FORMAT, "%s: missing", what);
    if (o->type == RCL_PY_LIST || o->type == RCL_PY_TUPLE) {
        int64_t *a = malloc((o->count ? o->count : 1) * sizeof *a);
        if (!a)
            return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", what);
        for (size_t i = 0; i < o->count; i++) {
            if (o->items[i]->type != RCL_PY_INT && o->items[i]->type != RCL_PY_BOOL) {
                free(a);
                return rcl_fail(RCL_ERR_FORMAT, "%s: element %zu is a %s, not an int", what, i,
                                rcl_py_type_name(o->items[i]->type));
            }
            a[i] = o->items[i]->i;
        }
        *out = a;
        *n = o->count;
        return RCL_OK;
    }
    if (o->type == RCL_PY_NDARRAY && o->ndim == 1 && o->dtype != RCL_DT_F16 && o->dtype != RCL_DT_BF16 &&
        o->dtype != RCL_DT_F32 && o->dtype != RCL_DT_F64) {
        size_t cnt = (size_t)o->shape[0], es = rcl_st_dtype_size(o->dtype);
        int64_t *a = malloc((cnt ? cnt : 1) * sizeof *a);
        if (!a)
            return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", what);
        int is_signed = o->dtype == RCL_DT_I8 || o->dtype == RCL_DT_I16 || o->dtype == RCL_DT_I32 ||
                        o->dtype == RCL_DT_I64;
        const unsigned char *b = o->data;
        for (size_t i = 0; i < cnt; i++) {
            uint64_t raw = le(b + i * es, (int)es);
            if (is_signed && es < 8 && (raw >> (8 * es - 1) & 1))
                raw |= ~(uint64_t)0 << (8 * es);
            a[i] = (int64_t)raw;
        }
        *out = a;
        *n = cnt;
        return RCL_OK;
    }
    return rcl_fail(RCL_ERR_FORMAT, "%s: a %s, not a list of ints or a 1-d integer array", what,
                    rcl_py_type_name(o->type));
}
