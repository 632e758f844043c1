/* rcl_check_finite against a host scan: tensors of many sizes (1, odd, a few times the
 * launch width, larger than the items per tensor), more than one launch's worth of
 * tensors, NaN / +Inf / -Inf / NaN payloads at the first, last and random positions,
 * finite extremes (FLT_MAX, denormals, -0) that must not count, empty tensors, and
 * argument errors. RCL_TEST_SMALL=1 keeps every tensor small (for the oclgrind run of CI). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/ops.h"
#include "robustcl/tensor.h"

#define NT 37 /* tensors per round: more than two launches of 16 */

static float special(rcl_rng *r) {
    uint32_t bits;
    switch (rcl_rng_next(r) % 4) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    default:
        bits = 0x7f800001u | (uint32_t)(rcl_rng_next(r) & 0x7fffff); /* NaN with a payload */
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
}

static float finite_extreme(rcl_rng *r) {
    static const float v[] = {FLT_MAX, -FLT_MAX, FLT_MIN, 1e-45f, -0.0f, 0.0f, 3.0e38f};
    return v[rcl_rng_next(r) % (sizeof v / sizeof v[0])];
}

static int small;

static void round_of(rcl_device *d, rcl_rng *r, int round) {
    static const size_t sizes[] = {1, 2, 63, 64, 65, 127, 1000, 4097, 20000, 70001};
    size_t nsizes = small ? 6 : sizeof sizes / sizeof sizes[0];
    rcl_tensor t[NT];
    const rcl_tensor *list[NT];
    int want[NT], bad[NT], first = -2;
    memset(t, 0, sizeof t);
    for (int i = 0; i < NT; i++) {
        size_t n = sizes[rcl_rng_next(r) % nsizes];
        float *h = malloc(n * sizeof *h);
        for (size_t k = 0; k < n; k++)
            h[k] = (float)(rcl_rng_uniform(r) * 2 - 1);
        for (int e = 0; e < 3; e++)
            h[rcl_rng_next(r) % n] = finite_extreme(r);
        int kind = (int)(rcl_rng_next(r) % 4); /* 0, 1: clean; 2: one special; 3: at an end */
        if (kind == 2)
            h[rcl_rng_next(r) % n] = special(r);
        if (kind == 3)
            h[rcl_rng_next(r) % 2 ? n - 1 : 0] = special(r);
        want[i] = 0;
        for (size_t k = 0; k < n; k++)
            want[i] |= !isfinite(h[k]);
        CHECK_OK(rcl_tensor_create(d, &t[i], "finite test", 1, (int)n));
        CHECK_OK(rcl_tensor_upload(&t[i], h));
        free(h);
        list[i] = &t[i];
        bad[i] = -1;
    }
    CHECK_OK(rcl_check_finite(d, list, NT, bad, &first));
    int mism = 0, want_first = -1;
    for (int i = NT - 1; i >= 0; i--)
        if (want[i])
            want_first = i;
    for (int i = 0; i < NT; i++)
        mism += bad[i] != want[i];
    CHECK(mism == 0, "round %d: %d tensors flagged wrongly", round, mism);
    CHECK(first == want_first, "round %d: first bad %d, expected %d", round, first, want_first);
    for (int i = 0; i < NT; i++)
        rcl_tensor_release(&t[i]);
}

int main(void) {
    small = rcl_test_small();
    rcl_device *d = rcl_test_device(0);
    rcl_rng r = rcl_rng_seed(20190612);
    for (int round = 0; round < (small ? 1 : 6); round++)
        round_of(d, &r, round);

    /* a lone NaN deep inside a tensor longer than the items assigned to it (16384) */
    size_t n = small ? 16500 : 300000;
    float *h = calloc(n, sizeof *h);
    rcl_tensor big = {0}, empty = {0}, one = {0};
    CHECK_OK(rcl_tensor_create(d, &big, "big", 1, (int)n));
    CHECK_OK(rcl_tensor_create(d, &one, "one", 1, 1));
    h[n - 7] = NAN;
    CHECK_OK(rcl_tensor_upload(&big, h));
    CHECK_OK(rcl_tensor_fill(&one, INFINITY));
    const rcl_tensor *l3[3] = {&empty, &big, &one};
    size_t in_use = rcl_device_mem_in_use(d);
    int bad[3], first;
    CHECK_OK(rcl_check_finite(d, l3, 3, bad, &first));
    CHECK(bad[0] == 0 && bad[1] == 1 && bad[2] == 1 && first == 1, "empty/big/one: %d %d %d first %d", bad[0],
          bad[1], bad[2], first);
    /* the flags are cleared between calls */
    h[n - 7] = 0;
    CHECK_OK(rcl_tensor_upload(&big, h));
    CHECK_OK(rcl_tensor_fill(&one, -FLT_MAX));
    CHECK_OK(rcl_check_finite(d, l3, 3, bad, NULL));
    CHECK(bad[0] + bad[1] + bad[2] == 0, "after clearing: %d %d %d", bad[0], bad[1], bad[2]);
    /* only empty tensors, and nothing at all */
    const rcl_tensor *l1[1] = {&empty};
    CHECK_OK(rcl_check_finite(d, l1, 1, bad, &first));
    CHECK(bad[0] == 0 && first == -1, "empty alone: %d first %d", bad[0], first);
    CHECK_OK(rcl_check_finite(d, NULL, 0, NULL, &first));
    CHECK(first == -1, "no tensors: first %d", first);
    /* argument errors */
    const rcl_tensor *lnull[2] = {&big, NULL};
    CHECK_FAILS(rcl_check_finite(d, lnull, 2, bad, &first), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_check_finite(d, l3, -1, bad, &first), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_check_finite(d, l3, 3, NULL, &first), RCL_ERR_INVALID_ARG);
    CHECK(rcl_device_mem_in_use(d) == in_use, "flags buffer leaked: %zu bytes in use, %zu before",
          rcl_device_mem_in_use(d), in_use);
    free(h);
    rcl_tensor_release(&big);
    rcl_tensor_release(&one);
    rcl_device_close(d);
    return rcl_test_finish();
}
