/* Device memory: buffers counted against the device's budget, reusable workspaces, and the
 * slots where higher layers keep per-device state. */
#include <stdio.h>

#include "device_internal.h"

rcl_status rcl_device_alloc(rcl_device *d, size_t bytes, const char *what, cl_mem *out) {
    *out = NULL;
    if (bytes == 0)
        bytes = 4; /* zero-sized buffers are invalid in OpenCL */
    if (d->opt.max_device_mem && d->mem_in_use + bytes > d->opt.max_device_mem)
        return rcl_fail(RCL_ERR_DEVICE_MEMORY,
                        "out of device memory allocating %s (%.1f MiB, %.1f MiB in use, limit %.1f MiB) "
                        "on '%s': try a smaller --batch",
                        what, bytes / 1048576.0, d->mem_in_use / 1048576.0,
                        d->opt.max_device_mem / 1048576.0, d->info.name);
    if (bytes > d->info.max_alloc)
        return rcl_fail(RCL_ERR_DEVICE_MEMORY,
                        "%s needs %.1f MiB, more than one buffer may hold on '%s' (%.1f MiB): "
                        "try a smaller --batch",
                        what, bytes / 1048576.0, d->info.name, d->info.max_alloc / 1048576.0);
    cl_int e = rcl_fault_inject(RCL_FAULT_ALLOC);
    cl_mem m = e == CL_SUCCESS ? clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, bytes, NULL, &e) : NULL;
    if (e != CL_SUCCESS)
        return rcl_fail(e == CL_MEM_OBJECT_ALLOCATION_FAILURE || e == CL_OUT_OF_RESOURCES ||
                                e == CL_INVALID_BUFFER_SIZE
                            ? RCL_ERR_DEVICE_MEMORY
                            : RCL_ERR_OPENCL,
                        "allocating %s (%.1f MiB) on '%s' failed: %s: try a smaller --batch", what,
                        bytes / 1048576.0, d->info.name, rcl_cl_error_name(e));
    d->mem_in_use += bytes;
    if (d->mem_in_use > d->mem_peak)
        d->mem_peak = d->mem_in_use;
    *out = m;
    return RCL_OK;
}

void rcl_device_free(rcl_device *d, cl_mem m, size_t bytes) {
    if (!m)
        return;
    if (bytes == 0)
        bytes = 4;
    clReleaseMemObject(m);
    d->mem_in_use -= bytes < d->mem_in_use ? bytes : d->mem_in_use;
}

rcl_status rcl_device_workspace(rcl_device *d, int slot, size_t bytes, cl_mem *out) {
    if (slot < 0 || slot >= RCL_WORKSPACE_SLOTS)
        return rcl_fail(RCL_ERR_INVALID_ARG, "workspace slot %d out of range", slot);
    if (d->ws[slot] && d->ws_size[slot] >= bytes) {
        *out = d->ws[slot];
        return RCL_OK;
    }
    /* Kernels still queued may read the slot being replaced. OpenCL defers the old buffer's
     * deletion until they finish, but oclgrind 21.10 reuses its memory at once, and its
     * uninitialised-value plugin then flags their reads: wait for them. A slot grows only
     * in a run's first steps. */
    if (d->ws[slot])
        RCL_TRY(rcl_device_finish(d));
    rcl_device_free(d, d->ws[slot], d->ws_size[slot]);
    d->ws[slot] = NULL;
    d->ws_size[slot] = 0;
    char what[48];
    snprintf(what, sizeof what, "workspace %d", slot);
    RCL_TRY(rcl_device_alloc(d, bytes, what, &d->ws[slot]));
    d->ws_size[slot] = bytes;
    *out = d->ws[slot];
    return RCL_OK;
}

void *rcl_device_ext(const rcl_device *d, int slot) {
    return slot >= 0 && slot < RCL_DEVICE_EXT_SLOTS ? d->ext[slot] : NULL;
}

void rcl_device_set_ext(rcl_device *d, int slot, void *state, void (*release)(void *)) {
    if (slot < 0 || slot >= RCL_DEVICE_EXT_SLOTS)
        return;
    if (d->ext[slot] && d->ext_free[slot] && d->ext[slot] != state)
        d->ext_free[slot](d->ext[slot]);
    d->ext[slot] = state;
    d->ext_free[slot] = release;
}

void rcl_device_workspace_release(rcl_device *d) {
    for (int i = 0; i < RCL_WORKSPACE_SLOTS; i++) {
        rcl_device_free(d, d->ws[i], d->ws_size[i]);
        d->ws[i] = NULL;
        d->ws_size[i] = 0;
    }
}

void rcl_device_mem_peak_reset(rcl_device *d) { d->mem_peak = d->mem_in_use; }

