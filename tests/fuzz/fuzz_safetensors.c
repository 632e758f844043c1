/* safetensors from memory: every tensor converted to float32, every metadata entry read. */
#include "fuzz_util.h"
#include "robustcl/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    rcl_st_file *f;
    if (rcl_st_parse(data, n, "fuzz.safetensors", &f) != RCL_OK)
        return 0;
    for (size_t i = 0; i < rcl_st_count(f); i++) {
        const rcl_st_tensor *t = rcl_st_tensor_at(f, i);
        if (t->numel <= 1 << 20) {
            float *v = malloc(t->numel * sizeof *v + 1);
            if (v)
                rcl_st_to_f32(t->dtype, t->data, t->numel, v);
            free(v);
        }
        if (rcl_st_find(f, t->name) == NULL)
            abort(); /* a listed tensor must be found by its name */
    }
    const char *k, *v;
    for (size_t i = 0; rcl_st_metadata_at(f, i, &k, &v); i++)
        if (rcl_st_metadata(f, k) == NULL)
            abort();
    rcl_st_close(f);
    return 0;
}
