/* Argument checks and launch sizes shared by the files of src/ops. */
#ifndef RCL_OP_CHECK_H
#define RCL_OP_CHECK_H

#include <stdint.h>

#include "robustcl/ops.h"

/* Work-group size of a single-group reduction over m elements: a power of two, at
 * most 256, the device maximum and what m needs. Fixed per device and shape, so the
 * reduction order (and the result) is the same run to run. */
size_t rcl_op_group_size(rcl_device *d, size_t m);

/* t exists and has fewer than 2^32 elements (kernels index with uint). */
rcl_status rcl_op_need(const rcl_tensor *t, const char *what);

/* m is an int32 buffer of at least `count` elements. */
rcl_status rcl_op_int_buffer(cl_mem m, const char *what, size_t count);

/* t exists and is a vector of c elements. */
rcl_status rcl_op_vec(const rcl_tensor *t, const char *what, int c);

/* t exists and has ref's shape (up to 4 dimensions). */
rcl_status rcl_op_like(const rcl_tensor *t, const char *what, const rcl_tensor *ref);

/* x is [N, C, ...] of fewer than 2^32 elements: N, C and the product of the remaining dimensions. */
rcl_status rcl_op_nc_dims(const rcl_tensor *x, const char *what, int *n, int *c, int *hw);

#endif
