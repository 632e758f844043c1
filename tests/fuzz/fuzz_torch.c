/* PyTorch checkpoints (zip and legacy formats) from memory. */
#include "fuzz_util.h"
#include "robustcl/torch_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    rcl_torch_state st;
    if (rcl_torch_load_memory(data, n, "fuzz.pt", &st) != RCL_OK)
        return 0;
    for (size_t i = 0; i < st.n; i++)
        if (rcl_torch_find(&st, st.t[i].name) == NULL)
            abort(); /* a loaded tensor must be found by its name */
    rcl_torch_state_free(&st);
    return 0;
}
