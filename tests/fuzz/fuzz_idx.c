/* IDX images + labels (raw or gzip): input = [u16 split][images file][labels file]. */
#include "fuzz_util.h"
#include "robustcl/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    const uint8_t *a, *b;
    size_t na, nb;
    fuzz_split(data, n, &a, &na, &b, &nb);
    const char *img = fuzz_file(0, "-images", a, na), *lab = fuzz_file(1, "-labels", b, nb);
    rcl_dataset ds;
    if (rcl_idx_load(img, lab, 0, NULL, &ds) == RCL_OK)
        rcl_dataset_free(&ds);
    return 0;
}
