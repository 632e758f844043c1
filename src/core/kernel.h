/* Kernel launches by rcl_kernel_id (generated from the .cl files of kernels/ by
 * kernels/embed.cmake): the ops' launch path, which indexes the device's kernel handles
 * instead of searching names. */
#ifndef RCL_CORE_KERNEL_H
#define RCL_CORE_KERNEL_H

#include "kernel_ids.h"
#include "robustcl/device.h"

/* rcl_kernel_run for kernel `id` of the main program. */
rcl_status rcl_kernel_launch(rcl_device *d, rcl_kernel_id id, int dims, const size_t *global,
                             const size_t *local, int nargs, const rcl_arg *args);

/* The id of the main program's kernel `name`, or RCL_KERNEL_COUNT when it has none. */
rcl_kernel_id rcl_kernel_lookup(const char *name);

#endif
