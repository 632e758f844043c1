/* zip archives: every member read whole and streamed from memory, then the same bytes
 * as a Downsampled-ImageNet .npz through the dataset loader. */
#include "fuzz_util.h"
#include "robustcl/data.h"
#include "io/zip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    rcl_zip *z;
    if (rcl_zip_open_memory(data, n, "fuzz.zip", &z) == RCL_OK) {
        for (size_t i = 0; i < rcl_zip_count(z) && i < 8; i++) {
            const rcl_zip_entry *e = rcl_zip_entry_at(z, i);
            unsigned char *buf;
            size_t size;
            if (rcl_zip_read(z, e, &buf, &size) == RCL_OK)
                free(buf);
            rcl_zip_stream *st;
            if (rcl_zip_stream_open(z, e, &st) == RCL_OK) {
                unsigned char chunk[4096];
                size_t got = sizeof chunk;
                while (got == sizeof chunk && rcl_zip_stream_read(st, chunk, sizeof chunk, &got) == RCL_OK) {
                }
                rcl_zip_stream_close(st);
            }
        }
        rcl_zip_close(z);
    }
    const char *path = fuzz_file(0, ".npz", data, n);
    rcl_dataset ds;
    if (rcl_imagenet32_load_files(&path, 1, NULL, &ds) == RCL_OK)
        rcl_dataset_free(&ds);
    return 0;
}
