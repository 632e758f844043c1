/* .npy from memory, then its use as a label array. */
#include "fuzz_util.h"
#include "robustcl/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    rcl_npy a;
    if (rcl_npy_from_memory(data, n, "fuzz.npy", &a) != RCL_OK)
        return 0;
    if (a.kind != 'f' && a.count <= 1 << 20) {
        int32_t *labels = malloc(a.count * sizeof *labels + 1);
        if (labels)
            rcl_npy_to_labels(&a, "fuzz.npy", 1, 1000, labels);
        free(labels);
    }
    rcl_npy_free(&a);
    return 0;
}
