/* SVHN .mat (v5, through libmatio). */
#include "fuzz_util.h"
#include "robustcl/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    const char *path = fuzz_file(0, ".mat", data, n);
    rcl_dataset ds;
    if (rcl_svhn_load(path, &ds) == RCL_OK)
        rcl_dataset_free(&ds);
    return 0;
}
