/* Restricted unpickler: one or more pickles in a row, then the dataset-level lookups. */
#include "fuzz_util.h"
#include "io/pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    size_t off = 0;
    for (int k = 0; k < 4 && off < n; k++) {
        rcl_pickle *p;
        size_t used = 0;
        if (rcl_pickle_load(data + off, n - off, "fuzz.pkl", &p, &used) != RCL_OK)
            break;
        const rcl_py *root = rcl_pickle_root(p);
        const rcl_py *labels = rcl_py_dict_get(root, "labels");
        int64_t *ints;
        size_t count;
        if (labels && rcl_py_int_array(labels, "labels", &ints, &count) == RCL_OK)
            free(ints);
        rcl_py_is_text(root, "data");
        rcl_pickle_free(p);
        if (used == 0)
            break;
        off += used;
    }
    return 0;
}
