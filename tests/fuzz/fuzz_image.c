/* Image decode (stb_image) + resize/crop: the first byte picks channels and output size. */
#include "fuzz_util.h"
#include "robustcl/data.h"
#include "data/data_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    if (n < 1)
        return 0;
    static const int sizes[4][2] = {{32, 32}, {64, 64}, {24, 40}, {1, 7}};
    rcl_image_options o = {0};
    o.channels = data[0] & 1 ? 1 : 3;
    o.h = sizes[(data[0] >> 1) & 3][0];
    o.w = sizes[(data[0] >> 1) & 3][1];
    static uint8_t chw[3 * 64 * 64];
    rcl_data_decode_image("fuzz.img", data + 1, n - 1, &o, chw);
    return 0;
}
