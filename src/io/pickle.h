/* A restricted Python unpickler (protocols 2-5) for data files: it rebuilds only
 * None/bool/int/float/str/bytes, lists, tuples, dicts (also collections.OrderedDict),
 * numpy arrays and scalars (numpy[._]core.multiarray._reconstruct / numpy.ndarray /
 * numpy.dtype + BUILD, numpy[._]core.numeric._frombuffer, ...multiarray.scalar),
 * bytes via _codecs.encode(str, 'latin1') as Python 3 writes them at protocol 2, and
 * PyTorch tensors (torch._utils._rebuild_tensor[_v2], _rebuild_parameter, persistent
 * ids ('storage', torch.<T>Storage, key, location, numel)). Any other global is
 * RCL_ERR_FORMAT naming it: nothing is ever called, by construction.
 *
 * Python 2 str (BINSTRING) loads as bytes, like pickle.load(..., encoding='bytes').
 * All objects live in the rcl_pickle handle and die with it; bytes and array data may
 * point into the input, which must then outlive the handle. */
#ifndef ROBUSTCL_PICKLE_H
#define ROBUSTCL_PICKLE_H
#include <stddef.h>
#include <stdint.h>

#include "robustcl/safetensors.h" /* rcl_st_dtype, RCL_ST_MAX_DIMS */
#include "robustcl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RCL_PY_NONE,
    RCL_PY_BOOL,
    RCL_PY_INT,
    RCL_PY_BIGINT,  /* an int beyond int64: little-endian two's complement in bytes/len */
    RCL_PY_FLOAT,
    RCL_PY_STR,     /* UTF-8, NUL-terminated (len excludes the NUL) */
    RCL_PY_BYTES,
    RCL_PY_LIST,
    RCL_PY_TUPLE,
    RCL_PY_DICT,    /* keys items[2k], values items[2k+1], in insertion order */
    RCL_PY_NDARRAY,
    RCL_PY_TENSOR,
    RCL_PY_STORAGE, /* a torch storage named by a persistent id; data comes from elsewhere */
    RCL_PY_GLOBAL,  /* an allowed class or function, before it is applied */
    RCL_PY_DTYPE,   /* a numpy.dtype */
} rcl_py_type;

typedef struct rcl_py rcl_py;
struct rcl_py {
    rcl_py_type type;
    int64_t i;                  /* BOOL (0/1), INT */
    double f;                   /* FLOAT */
    const unsigned char *bytes; /* STR, BYTES, BIGINT */
    size_t len;
    rcl_py **items;             /* LIST, TUPLE; DICT as pairs */
    size_t count;               /* LIST/TUPLE elements, DICT pairs */
    size_t cap;
    /* NDARRAY: dtype, ndim, shape, fortran, data, nbytes.
     * TENSOR: dtype, ndim, shape, stride (elements), storage, storage_offset.
     * STORAGE: dtype, key, location, numel (data is attached by the torch reader).
     * DTYPE: dtype. GLOBAL: which (internal id). */
    rcl_st_dtype dtype;
    int ndim;
    int64_t shape[RCL_ST_MAX_DIMS];
    int64_t stride[RCL_ST_MAX_DIMS];
    int fortran;
    const void *data;
    size_t nbytes;
    rcl_py *storage;
    int64_t storage_offset;
    const char *key, *location;
    int64_t numel;
    int which;
    int big_endian; /* DTYPE */
};

typedef struct rcl_pickle rcl_pickle;

/* Unpickles one pickle from data[0..size); *consumed (may be NULL) gets the number of
 * bytes up to and including STOP, so several pickles in a row can be read. `data` must
 * outlive the handle. `label` names the input in messages. */
rcl_status rcl_pickle_load(const void *data, size_t size, const char *label, rcl_pickle **out,
                           size_t *consumed);
/* Reads a whole file holding one pickle (the handle keeps the file image). */
rcl_status rcl_pickle_load_file(const char *path, rcl_pickle **out);
const rcl_py *rcl_pickle_root(const rcl_pickle *p);
/* Every torch storage the pickle referenced (persistent ids), in order of first use. */
size_t rcl_pickle_storage_count(const rcl_pickle *p);
rcl_py *rcl_pickle_storage_at(const rcl_pickle *p, size_t i);
void rcl_pickle_free(rcl_pickle *p); /* NULL is fine */

const char *rcl_py_type_name(rcl_py_type t);
/* Dict lookup by a str key or a bytes key with the same bytes (CIFAR's b'data' and
 * ImageNet32's 'data' alike). NULL if absent or not a dict. */
const rcl_py *rcl_py_dict_get(const rcl_py *dict, const char *key);
/* 1 if o is a str or bytes equal to s. */
int rcl_py_is_text(const rcl_py *o, const char *s);
/* A list/tuple of ints or bools, or a 1-d integer/bool ndarray, as a malloc'd int64
 * array; RCL_ERR_FORMAT naming `what` otherwise. */
rcl_status rcl_py_int_array(const rcl_py *o, const char *what, int64_t **out, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
