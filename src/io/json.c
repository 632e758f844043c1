/* JSON writer and parser (see json.h). Numbers are printed with the fewest of 15..17
 * significant digits that read back to the same double. Both sides assume the C
 * locale for numbers (the library never calls setlocale). */
#include "robustcl/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"

/* ================= writer ================= */

#define W_OBJECT 'o'
#define W_ARRAY 'a'
#define W_HAS 0x80

void rcl_jw_init(rcl_json_writer *w, FILE *f, int indent) {
    memset(w, 0, sizeof *w);
    w->file = f;
    w->indent = indent < 0 ? 0 : indent;
}

static void w_fail(rcl_json_writer *w, rcl_status s, const char *what) {
    if (w->error == RCL_OK)
        w->error = rcl_fail(s, "JSON writer: %s", what);
}

static void w_put(rcl_json_writer *w, const char *s, size_t n) {
    if (w->error != RCL_OK || n == 0)
        return;
    if (w->file) {
        if (fwrite(s, 1, n, w->file) != n)
            w_fail(w, RCL_ERR_IO, "write failed");
        return;
    }
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *nb = realloc(w->buf, cap);
        if (!nb) {
            w_fail(w, RCL_ERR_NO_MEMORY, "out of memory");
            return;
        }
        w->buf = nb;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

static void w_puts(rcl_json_writer *w, const char *s) { w_put(w, s, strlen(s)); }

static void w_newline(rcl_json_writer *w) {
    if (!w->indent)
        return;
    w_put(w, "\n", 1);
    for (int i = 0; i < w->depth * w->indent; i++)
        w_put(w, " ", 1);
}

/* Emits the separator before a value and checks the value is allowed here. */
static int w_before_value(rcl_json_writer *w) {
    if (w->error != RCL_OK)
        return 0;
    if (w->depth == 0) {
        if (w->started) {
            w_fail(w, RCL_ERR_INVALID_ARG, "a second top-level value");
            return 0;
        }
        w->started = 1;
        return 1;
    }
    unsigned char *top = &w->stack[w->depth - 1];
    if ((*top & 0x7F) == W_OBJECT) {
        if (w->expect_value != 1) {
            w_fail(w, RCL_ERR_INVALID_ARG, "a value in an object without a key");
            return 0;
        }
        w->expect_value = 0;
        return 1;
    }
    if (*top & W_HAS)
        w_put(w, ",", 1);
    *top |= W_HAS;
    w_newline(w);
    return 1;
}

static void w_begin(rcl_json_writer *w, unsigned char kind) {
    if (!w_before_value(w))
        return;
    if (w->depth >= RCL_JSON_MAX_DEPTH) {
        w_fail(w, RCL_ERR_INVALID_ARG, "nesting too deep");
        return;
    }
    w_put(w, kind == W_OBJECT ? "{" : "[", 1);
    w->stack[w->depth++] = kind;
}

static void w_end(rcl_json_writer *w, unsigned char kind) {
    if (w->error != RCL_OK)
        return;
    if (w->depth == 0 || (w->stack[w->depth - 1] & 0x7F) != kind || w->expect_value == 1) {
        w_fail(w, RCL_ERR_INVALID_ARG, kind == W_OBJECT ? "unbalanced end_object" : "unbalanced end_array");
        return;
    }
    int had = w->stack[w->depth - 1] & W_HAS;
    w->depth--;
    if (had)
        w_newline(w);
    w_put(w, kind == W_OBJECT ? "}" : "]", 1);
}

void rcl_jw_begin_object(rcl_json_writer *w) { w_begin(w, W_OBJECT); }
void rcl_jw_end_object(rcl_json_writer *w) { w_end(w, W_OBJECT); }
void rcl_jw_begin_array(rcl_json_writer *w) { w_begin(w, W_ARRAY); }
void rcl_jw_end_array(rcl_json_writer *w) { w_end(w, W_ARRAY); }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t k;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        k = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        k = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        k = 4, min = 0x10000;
    else
        return 0;
    if (n < k)
        return 0;
    unsigned cp = c & (0x7F >> k);
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k;
}

static void w_string(rcl_json_writer *w, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    w_put(w, "\"", 1);
    size_t run = 0; /* bytes of p[i-run..i) still to copy verbatim */
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        const char *esc = NULL;
        char ubuf[8];
        size_t k = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20) {
            snprintf(ubuf, sizeof ubuf, "\\u%04x", c);
            esc = ubuf;
        } else if (c >= 0x80 && (k = utf8_len(p + i, n - i)) == 0) {
            esc = "\\ufffd"; /* invalid UTF-8 byte: the replacement character */
            k = 1;
        }
        if (esc) {
            w_put(w, (const char *)p + i - run, run);
            run = 0;
            w_puts(w, esc);
        } else {
            run += k;
        }
        i += k;
    }
    w_put(w, (const char *)p + n - run, run);
    w_put(w, "\"", 1);
}

void rcl_jw_key(rcl_json_writer *w, const char *key) {
    if (w->error != RCL_OK)
        return;
    if (w->depth == 0 || (w->stack[w->depth - 1] & 0x7F) != W_OBJECT || w->expect_value == 1) {
        w_fail(w, RCL_ERR_INVALID_ARG, "a key outside an object or without its value");
        return;
    }
    unsigned char *top = &w->stack[w->depth - 1];
    if (*top & W_HAS)
        w_put(w, ",", 1);
    *top |= W_HAS;
    w_newline(w);
    w_string(w, key, strlen(key));
    w_puts(w, w->indent ? ": " : ":");
    w->expect_value = 1;
}

void rcl_jw_string(rcl_json_writer *w, const char *s) {
    if (!s) {
        rcl_jw_null(w);
        return;
    }
    rcl_jw_string_n(w, s, strlen(s));
}

void rcl_jw_string_n(rcl_json_writer *w, const char *s, size_t n) {
    if (w_before_value(w))
        w_string(w, s, n);
}

void rcl_jw_number(rcl_json_writer *w, double x) {
    if (!isfinite(x)) {
        rcl_jw_null(w);
        return;
    }
    if (!w_before_value(w))
        return;
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) { /* shortest that round-trips */
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    w_puts(w, buf);
}

void rcl_jw_int(rcl_json_writer *w, int64_t x) {
    if (!w_before_value(w))
        return;
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)x);
    w_puts(w, buf);
}

void rcl_jw_uint(rcl_json_writer *w, uint64_t x) {
    if (!w_before_value(w))
        return;
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)x);
    w_puts(w, buf);
}

void rcl_jw_bool(rcl_json_writer *w, int b) {
    if (w_before_value(w))
        w_puts(w, b ? "true" : "false");
}

void rcl_jw_null(rcl_json_writer *w) {
    if (w_before_value(w))
        w_puts(w, "null");
}

void rcl_jw_raw(rcl_json_writer *w, const char *json) {
    if (w_before_value(w))
        w_puts(w, json);
}

rcl_status rcl_jw_finish(rcl_json_writer *w) {
    if (w->error == RCL_OK && (w->depth != 0 || !w->started))
        w_fail(w, RCL_ERR_INVALID_ARG, "document incomplete (unclosed container or no value)");
    if (w->error == RCL_OK && w->indent)
        w_put(w, "\n", 1);
    if (w->error == RCL_OK && w->file && fflush(w->file) != 0)
        w_fail(w, RCL_ERR_IO, "flush failed");
    return w->error;
}

char *rcl_jw_take(rcl_json_writer *w, size_t *len) {
    char *b = w->buf;
    if (len)
        *len = w->len;
    if (!b && !w->file) { /* nothing written: still hand over a valid string */
        b = malloc(1);
        if (b)
            b[0] = 0;
    }
    int indent = w->indent;
    rcl_jw_init(w, NULL, indent);
    return b;
}

rcl_status rcl_jw_save(rcl_json_writer *w, const char *path) {
    rcl_status s = rcl_jw_finish(w);
    size_t len = 0;
    char *text = rcl_jw_take(w, &len);
    if (s == RCL_OK)
        s = text ? rcl_file_write_atomic(path, text, len) : rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", path);
    free(text);
    return s;
}

void rcl_jw_free(rcl_json_writer *w) {
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

/* ================= parser ================= */

typedef struct {
    const char *s;
    size_t n, pos;
    int depth, max_depth;
    const char *label;
} parser;

static rcl_status p_fail(const parser *p, size_t at, const char *what) {
    return rcl_fail(RCL_ERR_FORMAT, "%s: malformed JSON at byte %zu: %s", p->label, at, what);
}

static void p_ws(parser *p) {
    while (p->pos < p->n) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static void node_clear(rcl_json *v) {
    if (v->type == RCL_JSON_STRING) {
        free(v->string);
    } else if (v->type == RCL_JSON_ARRAY || v->type == RCL_JSON_OBJECT) {
        for (size_t i = 0; i < v->len; i++) {
            node_clear(&v->items[i]);
            if (v->keys)
                free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
    }
    memset(v, 0, sizeof *v);
}

void rcl_json_free(rcl_json *v) {
    if (!v)
        return;
    node_clear(v);
    free(v);
}

static int hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

static size_t utf8_put(char *o, unsigned cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a string at p->pos (the opening quote); the decoded text is never longer
 * than the source, so one allocation of the source length suffices. */
static rcl_status p_string(parser *p, char **out, size_t *out_len) {
    size_t start = p->pos++;
    size_t end = p->pos;
    while (end < p->n && p->s[end] != '"') /* find the closing quote to size the buffer */
        end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->n)
        return p_fail(p, start, "unterminated string");
    char *o = malloc(end - p->pos + 1);
    if (!o)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory parsing JSON", p->label);
    size_t k = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) {
            free(o);
            return p_fail(p, p->pos, "control character in string");
        }
        if (c >= 0x80) {
            size_t m = utf8_len((const unsigned char *)p->s + p->pos, end - p->pos);
            if (!m) {
                free(o);
                return p_fail(p, p->pos, "invalid UTF-8 in string");
            }
            memcpy(o + k, p->s + p->pos, m);
            k += m;
            p->pos += m;
            continue;
        }
        if (c != '\\') {
            o[k++] = (char)c;
            p->pos++;
            continue;
        }
        size_t at = p->pos;
        char e = p->s[p->pos + 1]; /* in range: end is past this escape */
        p->pos += 2;
        switch (e) {
        case '"': o[k++] = '"'; break;
        case '\\': o[k++] = '\\'; break;
        case '/': o[k++] = '/'; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (end - p->pos < 4 || !hex4(p->s + p->pos, &cp)) {
                free(o);
                return p_fail(p, at, "bad \\u escape");
            }
            p->pos += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) { /* a high surrogate needs its low half */
                if (end - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
                    !hex4(p->s + p->pos + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    free(o);
                    return p_fail(p, at, "unpaired surrogate in \\u escape");
                }
                p->pos += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                free(o);
                return p_fail(p, at, "unpaired surrogate in \\u escape");
            }
            k += utf8_put(o + k, cp); /* <= 6 source bytes -> <= 4 output bytes */
            break;
        }
        default:
            free(o);
            return p_fail(p, at, "bad escape in string");
        }
    }
    o[k] = 0;
    p->pos = end + 1;
    *out = o;
    *out_len = k;
    return RCL_OK;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static rcl_status p_number(parser *p, rcl_json *v) {
    size_t start = p->pos, i = p->pos;
    int integral = 1;
    if (i < p->n && p->s[i] == '-')
        i++;
    if (i >= p->n || !is_digit(p->s[i]))
        return p_fail(p, start, "bad number");
    if (p->s[i] == '0')
        i++;
    else
        while (i < p->n && is_digit(p->s[i]))
            i++;
    if (i < p->n && p->s[i] == '.') {
        integral = 0;
        i++;
        if (i >= p->n || !is_digit(p->s[i]))
            return p_fail(p, start, "bad number (digit expected after '.')");
        while (i < p->n && is_digit(p->s[i]))
            i++;
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        integral = 0;
        i++;
        if (i < p->n && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        if (i >= p->n || !is_digit(p->s[i]))
            return p_fail(p, start, "bad number (digit expected in exponent)");
        while (i < p->n && is_digit(p->s[i]))
            i++;
    }
    size_t len = i - start;
    char small[64], *tok = len < sizeof small ? small : malloc(len + 1);
    if (!tok)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory parsing JSON", p->label);
    memcpy(tok, p->s + start, len);
    tok[len] = 0;
    v->type = RCL_JSON_NUMBER;
    v->number = strtod(tok, NULL);
    if (integral) {
        /* exact int64 when it fits: offsets and counts need no rounding */
        const char *d = tok + (tok[0] == '-');
        uint64_t mag = 0;
        int fits = 1;
        for (; *d; d++) {
            if (mag > (UINT64_MAX - 9) / 10) {
                fits = 0;
                break;
            }
            mag = mag * 10 + (uint64_t)(*d - '0');
        }
        if (fits && tok[0] == '-' && mag <= (uint64_t)INT64_MAX + 1) {
            v->is_int = 1;
            v->integer = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
        } else if (fits && tok[0] != '-' && mag <= (uint64_t)INT64_MAX) {
            v->is_int = 1;
            v->integer = (int64_t)mag;
        }
    }
    if (tok != small)
        free(tok);
    if (!isfinite(v->number))
        return p_fail(p, start, "number out of range");
    p->pos = i;
    return RCL_OK;
}

static rcl_status p_value(parser *p, rcl_json *v);

/* Appends a zeroed slot to a container under construction. */
static rcl_status p_grow(parser *p, rcl_json *v, size_t *cap, int with_keys) {
    if (v->len < *cap)
        return RCL_OK;
    size_t nc = *cap ? *cap * 2 : 4;
    rcl_json *ni = realloc(v->items, nc * sizeof *ni);
    if (ni)
        v->items = ni;
    char **nk = NULL;
    if (ni && with_keys) {
        nk = realloc(v->keys, nc * sizeof *nk);
        if (nk)
            v->keys = nk;
    }
    if (!ni || (with_keys && !nk))
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory parsing JSON", p->label);
    *cap = nc;
    return RCL_OK;
}

static rcl_status p_container(parser *p, rcl_json *v, int object) {
    size_t open = p->pos++;
    if (++p->depth > p->max_depth)
        return p_fail(p, open, "nesting too deep");
    v->type = object ? RCL_JSON_OBJECT : RCL_JSON_ARRAY;
    size_t cap = 0;
    char close = object ? '}' : ']';
    p_ws(p);
    if (p->pos < p->n && p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return RCL_OK;
    }
    for (;;) {
        RCL_TRY(p_grow(p, v, &cap, object));
        rcl_json *slot = &v->items[v->len];
        memset(slot, 0, sizeof *slot);
        if (object) {
            p_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != '"')
                return p_fail(p, p->pos, "object key expected");
            size_t klen;
            v->keys[v->len] = NULL;
            v->len++; /* from here on the slot is owned by v (freed on failure) */
            RCL_TRY(p_string(p, &v->keys[v->len - 1], &klen));
            p_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != ':')
                return p_fail(p, p->pos, "':' expected after object key");
            p->pos++;
        } else {
            v->len++;
        }
        RCL_TRY(p_value(p, slot));
        p_ws(p);
        if (p->pos >= p->n)
            return p_fail(p, p->pos, object ? "unterminated object" : "unterminated array");
        char c = p->s[p->pos++];
        if (c == close)
            break;
        if (c != ',')
            return p_fail(p, p->pos - 1, object ? "',' or '}' expected" : "',' or ']' expected");
    }
    p->depth--;
    return RCL_OK;
}

static rcl_status p_literal(parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->n - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return p_fail(p, p->pos, "unexpected character");
    p->pos += n;
    return RCL_OK;
}

static rcl_status p_value(parser *p, rcl_json *v) {
    p_ws(p);
    v->offset = p->pos;
    if (p->pos >= p->n)
        return p_fail(p, p->pos, "value expected, found the end of the input");
    char c = p->s[p->pos];
    switch (c) {
    case '{': return p_container(p, v, 1);
    case '[': return p_container(p, v, 0);
    case '"':
        v->type = RCL_JSON_STRING;
        return p_string(p, &v->string, &v->len);
    case 't':
        v->type = RCL_JSON_BOOL;
        v->boolean = 1;
        return p_literal(p, "true");
    case 'f':
        v->type = RCL_JSON_BOOL;
        return p_literal(p, "false");
    case 'n':
        v->type = RCL_JSON_NULL;
        return p_literal(p, "null");
    default:
        if (c == '-' || is_digit(c))
            return p_number(p, v);
        return p_fail(p, p->pos, "unexpected character");
    }
}

rcl_status rcl_json_parse(const char *text, size_t len, const char *label, const rcl_json_limits *limits,
                          rcl_json **out) {
    *out = NULL;
    parser p = {text, len, 0, 0, 64, label ? label : "(json)"};
    size_t max_size = 256u << 20;
    if (limits && limits->max_depth > 0)
        p.max_depth = limits->max_depth;
    if (limits && limits->max_size > 0)
        max_size = limits->max_size;
    if (len > max_size)
        return rcl_fail(RCL_ERR_FORMAT, "%s: JSON text of %zu bytes exceeds the limit of %zu", p.label, len,
                        max_size);
    if (!text && len)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: NULL JSON text", p.label);
    rcl_json *v = calloc(1, sizeof *v);
    if (!v)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory parsing JSON", p.label);
    rcl_status s = p_value(&p, v);
    if (s == RCL_OK) {
        p_ws(&p);
        if (p.pos != p.n)
            s = p_fail(&p, p.pos, "trailing characters after the value");
    }
    if (s != RCL_OK) {
        rcl_json_free(v);
        return s;
    }
    *out = v;
    return RCL_OK;
}

rcl_status rcl_json_parse_file(const char *path, rcl_json **out) {
    unsigned char *d;
    size_t n;
    *out = NULL;
    RCL_TRY(rcl_file_read(path, &d, &n));
    rcl_status s = rcl_json_parse((const char *)d, n, path, NULL, out);
    free(d);
    return s;
}

const rcl_json *rcl_json_get(const rcl_json *obj, const char *key) {
    if (!obj || obj->type != RCL_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->len; i++)
        if (!strcmp(obj->keys[i], key))
            return &obj->items[i];
    return NULL;
}

const rcl_json *rcl_json_at(const rcl_json *arr, size_t i) {
    if (!arr || arr->type != RCL_JSON_ARRAY || i >= arr->len)
        return NULL;
    return &arr->items[i];
}

const char *rcl_json_get_string(const rcl_json *obj, const char *key) {
    const rcl_json *v = rcl_json_get(obj, key);
    return v && v->type == RCL_JSON_STRING ? v->string : NULL;
}

double rcl_json_get_number(const rcl_json *obj, const char *key, double dflt) {
    const rcl_json *v = rcl_json_get(obj, key);
    return v && v->type == RCL_JSON_NUMBER ? v->number : dflt;
}
