/* Reading a PyTorch state_dict saved with torch.save, without Python or torch:
 *  - the zip format (torch >= 1.6): <name>/data.pkl plus one member <name>/data/<key>
 *    per storage;
 *  - the legacy format (_use_new_zipfile_serialization=False): pickles of the magic
 *    number, the protocol version and sys_info, then the object pickle, then a pickled
 *    list of storage keys, then per storage an 8-byte little-endian element count and
 *    the raw little-endian data.
 * The pickles go through the restricted unpickler (pickle.h): no code runs.
 * The root object must be a dict (or OrderedDict) of name -> tensor, or a dict with such
 * a dict under "state_dict". Tensor views (storage offsets, arbitrary non-negative
 * strides, shared storages) are gathered into contiguous row-major float32; every
 * numeric dtype is converted (num_batches_tracked arrives as a float). */
#ifndef ROBUSTCL_TORCH_IMPORT_H
#define ROBUSTCL_TORCH_IMPORT_H
#include <stddef.h>
#include <stdint.h>

#include "robustcl/safetensors.h"
#include "robustcl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcl_torch_tensor {
    char *name;             /* leading "module." prefixes (DataParallel) stripped */
    int ndim;
    int64_t shape[RCL_ST_MAX_DIMS];
    size_t numel;
    float *data;            /* numel values, row-major */
    rcl_st_dtype src_dtype; /* the dtype in the file */
} rcl_torch_tensor;

typedef struct rcl_torch_state {
    rcl_torch_tensor *t; /* in the order of the file's dict */
    size_t n;
} rcl_torch_state;

/* Loads a .pt file of either format. On failure *out is empty. */
rcl_status rcl_torch_load(const char *path, rcl_torch_state *out);
/* Same from memory (either format); `label` names it in messages. */
rcl_status rcl_torch_load_memory(const void *data, size_t size, const char *label, rcl_torch_state *out);
void rcl_torch_state_free(rcl_torch_state *s); /* leaves *s empty */
const rcl_torch_tensor *rcl_torch_find(const rcl_torch_state *s, const char *name); /* NULL if absent */

#ifdef __cplusplus
}
#endif
#endif
