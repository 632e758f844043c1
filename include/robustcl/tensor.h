/* Device-resident float32 tensors (NCHW, up to 4 dimensions). */
#ifndef ROBUSTCL_TENSOR_H
#define ROBUSTCL_TENSOR_H

#include "robustcl/device.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RCL_MAX_DIMS 4

typedef struct rcl_tensor {
    cl_mem buf;
    int ndim;
    int shape[RCL_MAX_DIMS];
    size_t n; /* number of elements */
    rcl_device *dev;
} rcl_tensor;

/* rcl_tensor_create(d, &t, "what", ndim, d0, d1, ...): allocates (uninitialised). */
rcl_status rcl_tensor_create(rcl_device *d, rcl_tensor *t, const char *what, int ndim, ...);
rcl_status rcl_tensor_create_shape(rcl_device *d, rcl_tensor *t, const char *what, int ndim,
                                   const int *shape);
void rcl_tensor_release(rcl_tensor *t); /* safe on a zeroed or released tensor */

rcl_status rcl_tensor_upload(rcl_tensor *t, const float *src);
rcl_status rcl_tensor_download(const rcl_tensor *t, float *dst);
/* Sets every element to `value`, bit for bit (a kernel, queued like any op). */
rcl_status rcl_tensor_fill(rcl_tensor *t, float value);
rcl_status rcl_tensor_copy(const rcl_tensor *src, rcl_tensor *dst);

/* RCL_OK if t has exactly this shape; otherwise an error naming `what`. */
rcl_status rcl_tensor_expect(const rcl_tensor *t, const char *what, int ndim, ...);

#ifdef __cplusplus
}
#endif
#endif
