/* A small JSON writer (to a FILE* or a growable buffer) and parser (into a tree).
 * The writer prints doubles with the shortest of %.15g, %.16g and %.17g that reads back to the
 * same value, and NaN/Inf as null.
 * The parser accepts RFC 8259 JSON with depth and size limits; malformed input is
 * RCL_ERR_FORMAT with the byte offset of the problem. */
#ifndef ROBUSTCL_JSON_H
#define ROBUSTCL_JSON_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "robustcl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- writer ---- */

#define RCL_JSON_MAX_DEPTH 64

typedef struct rcl_json_writer {
    FILE *file;   /* streaming target, or NULL for the buffer */
    char *buf;    /* buffer target: NUL-terminated text so far (owned; see rcl_jw_take) */
    size_t len, cap;
    int indent;   /* spaces per level; 0 = compact, one line */
    int depth;
    unsigned char stack[RCL_JSON_MAX_DEPTH]; /* per level: 'o'/'a', bit 0x80 = has members */
    int expect_value; /* after a key inside an object */
    int started;      /* the top-level value has begun */
    rcl_status error; /* sticky: the first failure */
} rcl_json_writer;

/* Initialises w to write to f (not closed by the writer) or to a growable buffer (f NULL). */
void rcl_jw_init(rcl_json_writer *w, FILE *f, int indent);
void rcl_jw_begin_object(rcl_json_writer *w);
void rcl_jw_end_object(rcl_json_writer *w);
void rcl_jw_begin_array(rcl_json_writer *w);
void rcl_jw_end_array(rcl_json_writer *w);
void rcl_jw_key(rcl_json_writer *w, const char *key); /* inside an object, before each value */
void rcl_jw_string(rcl_json_writer *w, const char *s);
void rcl_jw_string_n(rcl_json_writer *w, const char *s, size_t n); /* may contain NUL */
void rcl_jw_number(rcl_json_writer *w, double x); /* shortest round-trip form; NaN/Inf -> null */
void rcl_jw_int(rcl_json_writer *w, int64_t x);
void rcl_jw_uint(rcl_json_writer *w, uint64_t x);
void rcl_jw_bool(rcl_json_writer *w, int b);
void rcl_jw_null(rcl_json_writer *w);
/* Splices pre-formatted JSON text as one value (trusted: not checked). */
void rcl_jw_raw(rcl_json_writer *w, const char *json);
/* Checks the document is complete (all containers closed), adds a final newline when
 * indenting, flushes a FILE target. Returns the first error of the writer, if any. */
rcl_status rcl_jw_finish(rcl_json_writer *w);
/* Buffer target: finishes the document and writes it to path atomically (the old file stays
 * until the new one is complete); the writer is reset either way. */
rcl_status rcl_jw_save(rcl_json_writer *w, const char *path);
/* Buffer target: hands over the malloc'd text (caller frees) and resets the writer. */
char *rcl_jw_take(rcl_json_writer *w, size_t *len);
/* Frees a buffer target's text (no-op for a FILE target). */
void rcl_jw_free(rcl_json_writer *w);

/* ---- parser ---- */

typedef enum {
    RCL_JSON_NULL,
    RCL_JSON_BOOL,
    RCL_JSON_NUMBER,
    RCL_JSON_STRING,
    RCL_JSON_ARRAY,
    RCL_JSON_OBJECT,
} rcl_json_type;

typedef struct rcl_json rcl_json;
struct rcl_json {
    rcl_json_type type;
    int boolean;       /* BOOL */
    double number;     /* NUMBER */
    int is_int;        /* NUMBER written as an integer that fits int64 (exact in `integer`) */
    int64_t integer;
    char *string;      /* STRING: UTF-8, NUL-terminated (may also contain NUL: see len) */
    size_t len;        /* STRING: bytes; ARRAY/OBJECT: number of members */
    rcl_json *items;   /* ARRAY elements / OBJECT values, in document order */
    char **keys;       /* OBJECT keys (NUL-terminated UTF-8), parallel to items */
    size_t offset;     /* byte offset of the value in the text, for messages */
};

typedef struct rcl_json_limits {
    int max_depth;      /* 0 = 64 */
    size_t max_size;    /* bytes of input; 0 = 256 MiB */
} rcl_json_limits;

/* Parses text[0..len) (need not be NUL-terminated) into *out (free with rcl_json_free).
 * `label` names the input in messages; limits may be NULL. Whitespace may follow the value. */
rcl_status rcl_json_parse(const char *text, size_t len, const char *label, const rcl_json_limits *limits,
                          rcl_json **out);
rcl_status rcl_json_parse_file(const char *path, rcl_json **out);
void rcl_json_free(rcl_json *v); /* NULL is fine */

/* Lookups; NULL when absent or of another type. Objects: first member with that key. */
const rcl_json *rcl_json_get(const rcl_json *obj, const char *key);
const rcl_json *rcl_json_at(const rcl_json *arr, size_t i);
const char *rcl_json_get_string(const rcl_json *obj, const char *key);
/* Number member as double; returns `dflt` when absent or not a number. */
double rcl_json_get_number(const rcl_json *obj, const char *key, double dflt);

#ifdef __cplusplus
}
#endif
#endif
