/* Device-resident float32 tensors (NCHW, up to 4 dimensions). */
#ifndef ROBUSTCL_TENSOR_H
#define ROBUSTCL_TENSOR_H

#include <stdint.h>

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
/* Queued copies that return at once: the host memory must stay as it is until the queue has
 * run them (rcl_device_finish, or any blocking copy after them). */
rcl_status rcl_tensor_upload_async(rcl_tensor *t, const float *src);
rcl_status rcl_tensor_download_async(const rcl_tensor *t, float *dst);
/* Sets every element to `value`, bit for bit (a kernel, queued like any op). */
rcl_status rcl_tensor_fill(rcl_tensor *t, float value);
rcl_status rcl_tensor_copy(const rcl_tensor *src, rcl_tensor *dst);

/* RCL_OK if t has exactly this shape; otherwise an error naming `what`. */
rcl_status rcl_tensor_expect(const rcl_tensor *t, const char *what, int ndim, ...);

/* Device-resident int32 arrays (labels, correct counts, per-image flags and indices): the
 * integer twin of rcl_tensor. Ops take their buffer (.buf). Every copy of either names what it
 * copies when it fails. */
typedef struct rcl_ibuf {
    cl_mem buf;
    size_t n; /* number of elements */
    rcl_device *dev;
    char what[40]; /* for messages */
} rcl_ibuf;

/* Allocates n elements (uninitialised); `what` names it in errors. */
rcl_status rcl_ibuf_create(rcl_device *d, rcl_ibuf *b, const char *what, size_t n);
void rcl_ibuf_release(rcl_ibuf *b); /* safe on a zeroed or released buffer */
/* The first n elements (n <= b->n) from or to the host, blocking; _async as for tensors. */
rcl_status rcl_ibuf_write(rcl_ibuf *b, const int32_t *src, size_t n);
rcl_status rcl_ibuf_write_async(rcl_ibuf *b, const int32_t *src, size_t n);
rcl_status rcl_ibuf_read(const rcl_ibuf *b, int32_t *dst, size_t n);
rcl_status rcl_ibuf_read_async(const rcl_ibuf *b, int32_t *dst, size_t n);
/* Every element = value (written from the host: oclgrind counts a fill as one initialised element). */
rcl_status rcl_ibuf_fill(rcl_ibuf *b, int32_t value);

#ifdef __cplusplus
}
#endif
#endif
