/* Kernel launches: kernels created on first use and kept per program, launch with fault
 * injection and profiling. The main program's kernels are indexed by rcl_kernel_id, a family
 * build's by their place in the build's list: a launch searches no names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
#include "kernel.h"

static cl_kernel create_kernel(cl_program program, const char *name, cl_int *e) {
    cl_kernel k = clCreateKernel(program, name, e);
    if (*e != CL_SUCCESS)
        rcl_fail(RCL_ERR_OPENCL, "clCreateKernel(%s) failed: %s", name, rcl_cl_error_name(*e));
    return k;
}

static int profile_slot(rcl_device *d, const char *name) {
    for (int i = 0; i < d->nprof; i++)
        if (strcmp(d->prof[i].name, name) == 0)
            return i;
    if (d->nprof == RCL_MAX_PROFILE)
        return RCL_MAX_PROFILE - 1; /* overflow lumps into the last slot */
    snprintf(d->prof[d->nprof].name, sizeof d->prof[0].name, "%s", name);
    return d->nprof++;
}

/* Queues ev for collection into profile slot `slot`; takes ownership. */
static void profile_event_slot(rcl_device *d, int slot, cl_event ev) {
    if (d->npending == d->cap_pending) {
        int cap = d->cap_pending ? 2 * d->cap_pending : 256;
        cl_event *pe = realloc(d->pending, (size_t)cap * sizeof *pe);
        if (pe)
            d->pending = pe;
        int *ps = realloc(d->pending_slot, (size_t)cap * sizeof *ps);
        if (ps)
            d->pending_slot = ps;
        if (!pe || !ps) {
            clReleaseEvent(ev);
            return;
        }
        d->cap_pending = cap;
    }
    d->pending[d->npending] = ev;
    d->pending_slot[d->npending++] = slot;
    if (d->npending >= 4096) { /* bound the backlog: fold finished events in */
        rcl_profile_entry *e;
        int n;
        rcl_device_profile(d, &e, &n);
    }
}

void rcl_device_profile_event(rcl_device *d, const char *name, cl_event ev) {
    if (ev)
        profile_event_slot(d, profile_slot(d, name), ev);
}

rcl_status rcl_device_profile(rcl_device *d, rcl_profile_entry **entries, int *count) {
    RCL_TRY(rcl_device_finish(d));
    for (int i = 0; i < d->npending; i++) {
        cl_ulong t0 = 0, t1 = 0;
        clGetEventProfilingInfo(d->pending[i], CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
        clGetEventProfilingInfo(d->pending[i], CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
        rcl_profile_entry *p = &d->prof[d->pending_slot[i]];
        if (t1 > t0)
            p->ms += (double)(t1 - t0) * 1e-6;
        p->calls++;
        clReleaseEvent(d->pending[i]);
    }
    d->npending = 0;
    *entries = d->prof;
    *count = d->nprof;
    return RCL_OK;
}

void rcl_device_profile_reset(rcl_device *d) {
    rcl_profile_entry *e;
    int n;
    rcl_device_profile(d, &e, &n);
    memset(d->prof, 0, sizeof d->prof);
    memset(d->kernel_prof, 0, sizeof d->kernel_prof);
    for (int v = 0; v < d->nvariants; v++)
        memset(d->variants[v].prof, 0, sizeof d->variants[v].prof);
    d->nprof = 0;
}

/* Enqueues k; its events go to profile slot *prof_slot (slot + 1, looked up by name when 0). */
static rcl_status launch(rcl_device *d, cl_kernel k, const char *name, int *prof_slot, int dims,
                         const size_t *global, const size_t *local, int nargs, const rcl_arg *args) {
    for (int i = 0; i < nargs; i++) {
        cl_int e = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].ptr);
        if (e != CL_SUCCESS)
            return rcl_fail(RCL_ERR_OPENCL, "clSetKernelArg(%s, %d) failed: %s", name, i,
                            rcl_cl_error_name(e));
    }
    /* Without a local size PoCL may pick tiny work-groups that it cannot
     * vectorise; every kernel bound-checks, so rounding the global size up is safe. */
    size_t auto_local[3] = {64, 1, 1};
    if (!local && dims == 1) {
        if (auto_local[0] > d->info.max_work_group)
            auto_local[0] = d->info.max_work_group;
        local = auto_local;
    }
    size_t g[3];
    for (int i = 0; i < dims; i++) {
        g[i] = global[i];
        if (local)
            g[i] = (g[i] + local[i] - 1) / local[i] * local[i];
        if (g[i] == 0)
            return RCL_OK; /* nothing to do */
    }
    cl_event ev = NULL;
    cl_int e = rcl_fault_inject(RCL_FAULT_LOST);
    if (e == CL_SUCCESS)
        e = clEnqueueNDRangeKernel(d->queue, k, (cl_uint)dims, NULL, g, local, 0, NULL,
                                   d->opt.profile ? &ev : NULL);
    if (e != CL_SUCCESS)
        return rcl_fail(e == CL_MEM_OBJECT_ALLOCATION_FAILURE || e == CL_OUT_OF_RESOURCES
                            ? RCL_ERR_DEVICE_MEMORY
                            : RCL_ERR_OPENCL,
                        "launching kernel %s on '%s' failed: %s: %s", name, d->info.name,
                        rcl_cl_error_name(e), rcl_fault_hint(e));
    if (ev) {
        if (!*prof_slot)
            *prof_slot = profile_slot(d, name) + 1;
        profile_event_slot(d, *prof_slot - 1, ev);
    }
    return RCL_OK;
}

rcl_kernel_id rcl_kernel_lookup(const char *name) {
    for (int i = 0; i < RCL_KERNEL_COUNT; i++)
        if (strcmp(rcl_kernel_names[i], name) == 0)
            return (rcl_kernel_id)i;
    return RCL_KERNEL_COUNT;
}

rcl_status rcl_kernel_launch(rcl_device *d, rcl_kernel_id id, int dims, const size_t *global,
                             const size_t *local, int nargs, const rcl_arg *args) {
    if ((unsigned)id >= RCL_KERNEL_COUNT)
        return rcl_fail(RCL_ERR_INVALID_ARG, "no kernel with id %d", (int)id);
    const char *name = rcl_kernel_names[id];
    if (!d->kernels[id]) {
        cl_int e;
        d->kernels[id] = create_kernel(d->program, name, &e);
        if (e != CL_SUCCESS) {
            d->kernels[id] = NULL;
            return RCL_ERR_OPENCL;
        }
    }
    return launch(d, d->kernels[id], name, &d->kernel_prof[id], dims, global, local, nargs, args);
}

rcl_status rcl_kernel_run(rcl_device *d, const char *name, int dims, const size_t *global,
                          const size_t *local, int nargs, const rcl_arg *args) {
    rcl_kernel_id id = rcl_kernel_lookup(name);
    if (id == RCL_KERNEL_COUNT)
        return rcl_fail(RCL_ERR_INVALID_ARG, "no kernel %s in kernels/", name);
    return rcl_kernel_launch(d, id, dims, global, local, nargs, args);
}

rcl_status rcl_kernel_launch_variant(rcl_device *d, int handle, int kernel, int dims,
                                     const size_t *global, const size_t *local, int nargs,
                                     const rcl_arg *args) {
    if (handle < 0 || handle >= d->nvariants || kernel < 0 || kernel >= d->variants[handle].nkernels)
        return rcl_fail(RCL_ERR_INVALID_ARG, "no kernel %d in kernel family build %d", kernel, handle);
    rcl_variant *v = &d->variants[handle];
    return launch(d, v->kernels[kernel], v->names[kernel], &v->prof[kernel], dims, global, local,
                  nargs, args);
}
