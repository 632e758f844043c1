/* What an open device holds and tells: its info, queue, notices, and the wait for its work. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "device_internal.h"
#include "robustcl/log.h"

int rcl_platform_is_pocl(const rcl_device_info *inf) {
    return strstr(inf->platform_name, "Portable Computing Language") != NULL;
}

const rcl_device_info *rcl_device_get_info(const rcl_device *d) { return &d->info; }
int rcl_device_gpu_kernels(const rcl_device *d) { return d->gpu_kernels; }
const rcl_device_options *rcl_device_get_options(const rcl_device *d) { return &d->opt; }
cl_context rcl_device_context(const rcl_device *d) { return d->ctx; }
cl_command_queue rcl_device_queue(const rcl_device *d) { return d->queue; }
cl_device_id rcl_device_id(const rcl_device *d) { return d->id; }
size_t rcl_device_workspace_cap(const rcl_device *d) { return d->opt.workspace_cap; }
size_t rcl_device_mem_in_use(const rcl_device *d) { return d->mem_in_use; }
size_t rcl_device_mem_peak(const rcl_device *d) { return d->mem_peak; }

void rcl_device_notice(const rcl_device *d, const char *fmt, ...) {
    (void)d; /* the call sites say which device; the log is one for all */
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rcl_log(RCL_LOG_NOTICE, "%s", msg);
}

rcl_status rcl_device_finish(rcl_device *d) {
    cl_int e = rcl_fault_inject(RCL_FAULT_LOST);
    if (e == CL_SUCCESS)
        e = clFinish(d->queue);
    if (e != CL_SUCCESS)
        return rcl_fail(RCL_ERR_OPENCL, "waiting for '%s' failed: %s: %s", d->info.name,
                        rcl_cl_error_name(e), rcl_fault_hint(e));
    return RCL_OK;
}

