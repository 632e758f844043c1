/* CIFAR-10 / CIFAR-100 binary batches: the first byte picks the format, the rest is the file. */
#include "fuzz_util.h"
#include "robustcl/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    if (n < 1)
        return 0;
    const char *path = fuzz_file(0, ".bin", data + 1, n - 1);
    const char *paths[2] = {path, path};
    rcl_dataset ds;
    int32_t *coarse = NULL;
    rcl_status s = data[0] & 1 ? rcl_cifar100_load_files(paths, 1 + (data[0] >> 7), NULL, &ds, &coarse)
                               : rcl_cifar10_load_files(paths, 1 + (data[0] >> 7), NULL, &ds);
    if (s == RCL_OK)
        rcl_dataset_free(&ds);
    free(coarse);
    return 0;
}
