/* rcl_tensor_fill (kernels/tensor.cl) against a host fill, bit for bit: sizes around the
 * work-group size, special values (-0, NaN with a payload, infinities, a denormal), a
 * neighbouring tensor left alone, and a missing tensor refused. RCL_TEST_SMALL=1 keeps the
 * sizes small (the oclgrind run of CI). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/tensor.h"

static float from_bits(uint32_t b) {
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

int main(void) {
    int small = rcl_test_small();
    rcl_device *d = rcl_test_device(0);
    rcl_rng r = rcl_rng_seed(7);

    const int sizes[] = {1, 63, 64, 65, 1000, 300007};
    const float values[] = {0.0f, -0.0f, 1.5f, -FLT_MAX, INFINITY, -INFINITY, from_bits(0x7fc12345u),
                            from_bits(0xffa00001u) /* a signalling NaN */, FLT_TRUE_MIN};
    const int nsizes = small ? 5 : 6, nvalues = small ? 4 : (int)(sizeof values / sizeof *values);
    for (int si = 0; si < nsizes; si++) {
        int n = sizes[si];
        size_t m = n > 64 ? (size_t)n : 64; /* host arrays also hold the 64-element neighbour */
        float *host = malloc(m * sizeof *host), *got = malloc(m * sizeof *got), *want = malloc(m * sizeof *want);
        double *noise = malloc(m * sizeof *noise);
        rcl_fill_uniform(&r, noise, m, -10.0, 10.0);
        rcl_to_float(noise, host, m);
        rcl_tensor t = {0}, next = {0};
        CHECK_OK(rcl_tensor_create(d, &t, "fill", 1, n));
        CHECK_OK(rcl_tensor_create(d, &next, "neighbour", 1, 64));
        CHECK_OK(rcl_tensor_upload(&next, host));
        for (int vi = 0; vi < nvalues; vi++) {
            CHECK_OK(rcl_tensor_upload(&t, host)); /* earlier contents must all be overwritten */
            CHECK_OK(rcl_tensor_fill(&t, values[vi]));
            for (int i = 0; i < n; i++) /* the reference */
                want[i] = values[vi];
            CHECK_OK(rcl_tensor_download(&t, got));
            CHECK(!memcmp(got, want, (size_t)n * sizeof *got), "n=%d value %g: not every element has its bits", n,
                  (double)values[vi]);
        }
        CHECK_OK(rcl_tensor_download(&next, got));
        CHECK(!memcmp(got, host, 64 * sizeof *got), "n=%d: the neighbouring tensor changed", n);
        rcl_tensor_release(&t);
        rcl_tensor_release(&next);
        free(host);
        free(got);
        free(want);
        free(noise);
    }
    rcl_tensor none = {0};
    CHECK_FAILS(rcl_tensor_fill(&none, 1.0f), RCL_ERR_INVALID_ARG);
    rcl_device_close(d);
    return rcl_test_finish();
}
