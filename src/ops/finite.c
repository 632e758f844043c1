/* NaN/Inf detection over many tensors at once (kernels/finite.cl): the trainer's
 * per-step check of weights and gradients, so it must cost little next to a step. */
#include <stdint.h>
#include <stdlib.h>

#include "core/kernel.h"
#include "robustcl/ops.h"

#define FINITE_PER_LAUNCH 16 /* tensors per launch: must match kernels/finite.cl */
#define FINITE_LOCAL 64
#define FINITE_MAX_GLOBAL (FINITE_LOCAL * 256) /* items per tensor; each strides beyond */

rcl_status rcl_check_finite(rcl_device *d, const rcl_tensor *const *tensors, int count, int *bad,
                            int *first_bad) {
    if (first_bad)
        *first_bad = -1;
    if (count < 0 || (count > 0 && (!tensors || !bad)))
        return rcl_fail(RCL_ERR_INVALID_ARG, "check_finite: %d tensors, or a NULL list", count);
    for (int i = 0; i < count; i++) {
        if (!tensors[i])
            return rcl_fail(RCL_ERR_INVALID_ARG, "check_finite: tensor %d is NULL", i);
        if (tensors[i]->n > UINT32_MAX)
            return rcl_fail(RCL_ERR_INVALID_ARG, "check_finite: tensor %d has %zu elements, too many", i,
                            tensors[i]->n);
        bad[i] = 0;
    }
    if (count == 0)
        return RCL_OK;
    cl_mem flags;
    size_t bytes = (size_t)count * sizeof(cl_int);
    RCL_TRY(rcl_device_alloc(d, bytes, "check_finite flags", &flags));
    /* bad[] (zeroed above) clears the flags: a write rather than clEnqueueFillBuffer, which
     * oclgrind 21.10 treats as initialising only the first element */
    cl_int e = clEnqueueWriteBuffer(rcl_device_queue(d), flags, CL_TRUE, 0, bytes, bad, 0, NULL, NULL);
    rcl_status s = e == CL_SUCCESS ? RCL_OK
                                   : rcl_fail(RCL_ERR_OPENCL, "check_finite: clearing the flags failed: %s",
                                              rcl_cl_error_name(e));
    for (int base = 0; s == RCL_OK && base < count; base += FINITE_PER_LAUNCH) {
        int k = count - base < FINITE_PER_LAUNCH ? count - base : FINITE_PER_LAUNCH;
        rcl_arg a[2 + 2 * FINITE_PER_LAUNCH + 1];
        cl_mem mems[FINITE_PER_LAUNCH];
        cl_uint lens[FINITE_PER_LAUNCH];
        cl_mem some = NULL; /* unused slots and empty tensors pass a real buffer with length 0 */
        for (int j = 0; j < k; j++)
            if (tensors[base + j]->buf)
                some = tensors[base + j]->buf;
        size_t longest = 0;
        a[0] = RCL_MEM(flags);
        a[1] = RCL_UINT(base);
        for (int j = 0; j < FINITE_PER_LAUNCH; j++) {
            const rcl_tensor *t = j < k && tensors[base + j]->buf ? tensors[base + j] : NULL;
            mems[j] = t ? t->buf : some;
            lens[j] = t ? (cl_uint)t->n : 0;
            if (lens[j] > longest)
                longest = lens[j];
            a[2 + j] = RCL_MEM(mems[j]);
            a[2 + FINITE_PER_LAUNCH + j] = (rcl_arg){sizeof(cl_uint), &lens[j]};
        }
        a[2 + 2 * FINITE_PER_LAUNCH] = RCL_LOCAL(FINITE_LOCAL * sizeof(cl_int));
        if (longest == 0)
            continue; /* k empty tensors: finite */
        size_t global[2] = {longest < FINITE_MAX_GLOBAL ? longest : FINITE_MAX_GLOBAL, (size_t)k};
        size_t local[2] = {FINITE_LOCAL, 1};
        s = rcl_kernel_launch(d, RCL_K_finite_check, 2, global, local, 2 + 2 * FINITE_PER_LAUNCH + 1, a);
    }
    if (s == RCL_OK) {
        e = clEnqueueReadBuffer(rcl_device_queue(d), flags, CL_TRUE, 0, bytes, bad, 0, NULL, NULL);
        if (e != CL_SUCCESS)
            s = rcl_fail(RCL_ERR_OPENCL, "check_finite: reading the flags failed: %s", rcl_cl_error_name(e));
    }
    rcl_device_free(d, flags, bytes);
    if (s != RCL_OK)
        return s;
    for (int i = count - 1; i >= 0; i--)
        if (bad[i] && first_bad)
            *first_bad = i;
    return RCL_OK;
}
