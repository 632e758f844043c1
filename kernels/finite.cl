/* NaN/Inf detection (rcl_check_finite): one launch checks up to 16 tensors. Dimension 1
 * picks the tensor, dimension 0 strides over its elements; a work-group that sees a
 * non-finite value sets flags[base + j] (atomic_or: several groups may). The test is on
 * the exponent bits, so it holds under any floating-point build options. */

#define FINITE_PTRS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) \
                       X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define FINITE_PTR_ARG(i) __global const uint *t##i,
#define FINITE_LEN_ARG(i) uint n##i,
#define FINITE_PICK(i) case i: t = t##i; n = n##i; break;

__kernel void finite_check(__global int *flags, uint base, FINITE_PTRS(FINITE_PTR_ARG)
                           FINITE_PTRS(FINITE_LEN_ARG) __local int *scratch) {
    uint j = get_global_id(1);
    __global const uint *t = t0;
    uint n = 0;
    switch (j) {
        FINITE_PTRS(FINITE_PICK)
    }
    int bad = 0;
    for (uint i = get_global_id(0); i < n; i += get_global_size(0))
        bad |= (t[i] & 0x7f800000u) == 0x7f800000u;
    if (rcl_group_sum_int(scratch, bad) > 0 && get_local_id(0) == 0)
        atomic_or(&flags[base + j], 1);
}
