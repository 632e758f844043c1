#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "device_internal.h"
#include "robustcl/gemm.h"

#define CL_CHECK(call, what)                                                              \
    do {                                                                                  \
        cl_int e_ = (call);                                                               \
        if (e_ != CL_SUCCESS)                                                             \
            return rcl_fail(RCL_ERR_OPENCL, "%s failed: %s", what, rcl_cl_error_name(e_)); \
    } while (0)

/* ---- Fault injection for the reliability tests (tests/cli_badinput.sh, test_device_faults):
 * ROBUSTCL_INJECT=alloc[:N] makes the Nth (default the first) and every later buffer
 * allocation fail with CL_MEM_OBJECT_ALLOCATION_FAILURE; ROBUSTCL_INJECT=lost-device[:N]
 * makes the Nth and every later kernel launch and clFinish fail with CL_DEVICE_NOT_AVAILABLE,
 * as on a GPU that was reset. (build is handled in program.c.) PoCL overcommits memory
 * and never loses its device, so these faults cannot be made otherwise. ---- */
typedef enum { INJECT_ALLOC, INJECT_LOST } inject_kind;

static cl_int inject(inject_kind kind) {
    static const char *names[] = {"alloc", "lost-device"};
    static const cl_int codes[] = {CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_DEVICE_NOT_AVAILABLE};
    static long calls[2];
    const char *v = getenv("ROBUSTCL_INJECT");
    size_t n = strlen(names[kind]);
    if (!v || strncmp(v, names[kind], n) != 0 || (v[n] != 0 && v[n] != ':'))
        return CL_SUCCESS;
    long at = v[n] == ':' ? atol(v + n + 1) : 1;
    return ++calls[kind] >= at ? codes[kind] : CL_SUCCESS;
}

/* What to try after an OpenCL call failed on device d with e. */
static const char *fault_hint(cl_int e) {
    if (e == CL_DEVICE_NOT_AVAILABLE || e == CL_OUT_OF_RESOURCES)
        return "the device was lost, reset or is out of resources: check the driver (dmesg, "
               "nvidia-smi / rocm-smi), close other programs using it, then rerun (train: --resume)";
    return "check the driver with `robustcl devices` and `robustcl selftest`, or choose another --device";
}
/* ---- end of fault injection ---- */

static void info_str(cl_device_id dev, cl_device_info p, char *out, size_t cap) {
    out[0] = 0;
    if (clGetDeviceInfo(dev, p, cap, out, NULL) != CL_SUCCESS)
        snprintf(out, cap, "?");
    out[cap - 1] = 0;
}

static void fill_info(cl_platform_id plat, cl_device_id dev, int pi, int di, rcl_device_info *inf) {
    memset(inf, 0, sizeof *inf);
    inf->platform_index = pi;
    inf->device_index = di;
    clGetPlatformInfo(plat, CL_PLATFORM_NAME, sizeof inf->platform_name, inf->platform_name, NULL);
    clGetPlatformInfo(plat, CL_PLATFORM_VERSION, sizeof inf->platform_version, inf->platform_version, NULL);
    info_str(dev, CL_DEVICE_NAME, inf->name, sizeof inf->name);
    info_str(dev, CL_DEVICE_VENDOR, inf->vendor, sizeof inf->vendor);
    info_str(dev, CL_DRIVER_VERSION, inf->driver_version, sizeof inf->driver_version);
    info_str(dev, CL_DEVICE_VERSION, inf->version, sizeof inf->version);
    info_str(dev, CL_DEVICE_OPENCL_C_VERSION, inf->c_version, sizeof inf->c_version);
    cl_uint cu = 0;
    cl_ulong gm = 0, lm = 0, ma = 0;
    cl_device_type type = 0;
    size_t wg = 0;
    char ext[4096] = {0};
    clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gm, &gm, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof lm, &lm, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ma, &ma, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, sizeof ext - 1, ext, NULL);
    inf->compute_units = cu;
    inf->global_mem = gm;
    inf->local_mem = lm;
    inf->max_alloc = ma;
    inf->max_work_group = wg;
    inf->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
    inf->fp16 = strstr(ext, "cl_khr_fp16") != NULL;
    inf->fp64 = strstr(ext, "cl_khr_fp64") != NULL;
}

int rcl_platform_is_pocl(const rcl_device_info *inf) {
    return strstr(inf->platform_name, "Portable Computing Language") != NULL;
}

static const char *no_platform_hint =
    "no OpenCL platform found: install a driver (CPU: apt-get install pocl-opencl-icd; "
    "GPUs: the vendor's OpenCL ICD) and check that /etc/OpenCL/vendors lists its .icd file";

/* Calls fn(plat, dev, pi, di, ctx) for every device; stops when fn returns nonzero. */
typedef int (*device_visit)(cl_platform_id, cl_device_id, int, int, void *);
static rcl_status for_each_device(device_visit fn, void *ctx) {
    cl_uint np = 0;
    cl_int e = clGetPlatformIDs(0, NULL, &np);
    if (e == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || np == 0)
        return rcl_fail(RCL_ERR_NO_DEVICE, "%s", no_platform_hint);
    CL_CHECK(e, "clGetPlatformIDs");
    cl_platform_id plats[16];
    if (np > 16)
        np = 16;
    CL_CHECK(clGetPlatformIDs(np, plats, NULL), "clGetPlatformIDs");
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue;
        cl_device_id devs[32];
        if (nd > 32)
            nd = 32;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL) != CL_SUCCESS)
            continue;
        for (cl_uint i = 0; i < nd; i++)
            if (fn(plats[p], devs[i], (int)p, (int)i, ctx))
                return RCL_OK;
    }
    return RCL_OK;
}

typedef struct {
    rcl_device_info *items;
    int n, cap;
} info_list;

static int collect(cl_platform_id plat, cl_device_id dev, int pi, int di, void *ctx) {
    info_list *l = ctx;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 8;
        rcl_device_info *p = realloc(l->items, (size_t)cap * sizeof *p);
        if (!p)
            return 1;
        l->items = p;
        l->cap = cap;
    }
    fill_info(plat, dev, pi, di, &l->items[l->n++]);
    return 0;
}

rcl_status rcl_device_list(rcl_device_info **infos, int *count) {
    info_list l = {0};
    rcl_status s = for_each_device(collect, &l);
    if (s != RCL_OK) {
        free(l.items);
        return s;
    }
    if (l.n == 0) {
        free(l.items);
        return rcl_fail(RCL_ERR_NO_DEVICE, "%s", no_platform_hint);
    }
    *infos = l.items;
    *count = l.n;
    return RCL_OK;
}

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return n == 0;
}

typedef struct {
    const char *sel;
    int want_p, want_d; /* >= 0 for "P:D" */
    int gpu_only;
    cl_platform_id plat;
    cl_device_id dev;
    int pi, di, found;
} pick_state;

static int pick(cl_platform_id plat, cl_device_id dev, int pi, int di, void *ctx) {
    pick_state *st = ctx;
    int ok;
    if (st->want_p >= 0) {
        ok = pi == st->want_p && di == st->want_d;
    } else if (st->sel) {
        rcl_device_info inf;
        fill_info(plat, dev, pi, di, &inf);
        ok = contains_nocase(inf.name, st->sel) || contains_nocase(inf.vendor, st->sel) ||
             contains_nocase(inf.platform_name, st->sel);
    } else {
        cl_device_type t = 0;
        clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof t, &t, NULL);
        ok = !st->gpu_only || (t & CL_DEVICE_TYPE_GPU);
    }
    if (ok) {
        st->plat = plat;
        st->dev = dev;
        st->pi = pi;
        st->di = di;
        st->found = 1;
    }
    return ok;
}

static rcl_status select_device(const char *sel, pick_state *st) {
    memset(st, 0, sizeof *st);
    st->want_p = st->want_d = -1;
    if (sel && *sel) {
        int p, dd, used = 0;
        if (sscanf(sel, "%d:%d%n", &p, &dd, &used) == 2 && sel[used] == 0) {
            st->want_p = p;
            st->want_d = dd;
        } else {
            st->sel = sel;
        }
        RCL_TRY(for_each_device(pick, st));
        if (!st->found)
            return rcl_fail(RCL_ERR_NO_DEVICE,
                            "no OpenCL device matches '%s' (see `robustcl devices`)", sel);
        return RCL_OK;
    }
    st->gpu_only = 1;
    RCL_TRY(for_each_device(pick, st));
    if (!st->found) {
        st->gpu_only = 0;
        RCL_TRY(for_each_device(pick, st));
    }
    if (!st->found)
        return rcl_fail(RCL_ERR_NO_DEVICE, "%s", no_platform_hint);
    return RCL_OK;
}

/* CLBlast keeps the GEMM programs of every context it has seen (about 6 MB each, holding the
 * context) until told to clear them: so repeated open/close would grow without bound. They
 * are cleared when the last open device closes; any device open then only rebuilds them. */
static atomic_int open_devices;

rcl_status rcl_device_open(const rcl_device_options *opt, rcl_device **out) {
    rcl_device_options o = {0};
    if (opt)
        o = *opt;
    const char *sel = o.selector;
    if (!sel || !*sel)
        sel = getenv("ROBUSTCL_DEVICE");
    pick_state st;
    RCL_TRY(select_device(sel, &st));

    rcl_device *d = calloc(1, sizeof *d);
    if (!d)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory opening a device");
    atomic_fetch_add(&open_devices, 1); /* rcl_device_close, also on failure below, counts it down */
    d->opt = o;
    d->opt.selector = NULL;
    if (!d->opt.workspace_cap)
        d->opt.workspace_cap = (size_t)256 << 20;
    d->platform = st.plat;
    d->id = st.dev;
    fill_info(st.plat, st.dev, st.pi, st.di, &d->info);
    const char *kc = getenv("ROBUSTCL_KERNEL_CLASS");
    d->gpu_kernels = kc && !strcmp(kc, "gpu") ? 1 : kc && !strcmp(kc, "cpu") ? 0 : d->info.is_gpu;

    cl_int e;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)st.plat, 0};
    d->ctx = clCreateContext(props, 1, &st.dev, NULL, NULL, &e);
    rcl_status s = RCL_OK;
    if (e != CL_SUCCESS) {
        s = rcl_fail(RCL_ERR_OPENCL, "clCreateContext on '%s' failed: %s", d->info.name,
                     rcl_cl_error_name(e));
        goto fail;
    }
    d->queue = clCreateCommandQueue(d->ctx, st.dev, o.profile ? CL_QUEUE_PROFILING_ENABLE : 0, &e);
    if (e != CL_SUCCESS) {
        s = rcl_fail(RCL_ERR_OPENCL, "clCreateCommandQueue on '%s' failed: %s", d->info.name,
                     rcl_cl_error_name(e));
        goto fail;
    }
    if ((s = rcl_program_build(d)) != RCL_OK)
        goto fail;
    if ((s = rcl_gemm_setup(d)) != RCL_OK)
        goto fail;
    *out = d;
    return RCL_OK;
fail:
    rcl_device_close(d);
    return s;
}

void rcl_device_close(rcl_device *d) {
    if (!d)
        return;
    if (d->queue)
        clFinish(d->queue);
    for (int i = 0; i < d->npending; i++)
        clReleaseEvent(d->pending[i]);
    free(d->pending);
    free(d->pending_slot);
    rcl_device_workspace_release(d);
    for (int i = 0; i < RCL_DEVICE_EXT_SLOTS; i++)
        if (d->ext[i] && d->ext_free[i])
            d->ext_free[i](d->ext[i]);
    for (int i = 0; i < d->nkernels; i++)
        clReleaseKernel(d->kernels[i].kernel);
    for (int v = 0; v < d->nvariants; v++) {
        for (int i = 0; i < d->variants[v].nkernels; i++)
            clReleaseKernel(d->variants[v].kernels[i].kernel);
        clReleaseProgram(d->variants[v].program);
    }
    if (d->program)
        clReleaseProgram(d->program);
    if (d->queue)
        clReleaseCommandQueue(d->queue);
    if (d->ctx)
        clReleaseContext(d->ctx);
    free(d);
    if (atomic_fetch_sub(&open_devices, 1) == 1)
        rcl_gemm_clear_cache();
}

const rcl_device_info *rcl_device_get_info(const rcl_device *d) { return &d->info; }
int rcl_device_gpu_kernels(const rcl_device *d) { return d->gpu_kernels; }
cl_context rcl_device_context(const rcl_device *d) { return d->ctx; }
cl_command_queue rcl_device_queue(const rcl_device *d) { return d->queue; }
cl_device_id rcl_device_id(const rcl_device *d) { return d->id; }
size_t rcl_device_workspace_cap(const rcl_device *d) { return d->opt.workspace_cap; }
size_t rcl_device_mem_in_use(const rcl_device *d) { return d->mem_in_use; }
size_t rcl_device_mem_peak(const rcl_device *d) { return d->mem_peak; }

void rcl_device_notice(const rcl_device *d, const char *fmt, ...) {
    if (!d || !d->opt.notice)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->opt.notice(d->opt.notice_ctx, msg);
}

rcl_status rcl_device_finish(rcl_device *d) {
    cl_int e = inject(INJECT_LOST);
    if (e == CL_SUCCESS)
        e = clFinish(d->queue);
    if (e != CL_SUCCESS)
        return rcl_fail(RCL_ERR_OPENCL, "waiting for '%s' failed: %s: %s", d->info.name,
                        rcl_cl_error_name(e), fault_hint(e));
    return RCL_OK;
}

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
    cl_int e = inject(INJECT_ALLOC);
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

/* The kernel `name` of `program`, created on first use and kept in table[0..*n). */
void rcl_device_workspace_release(rcl_device *d) {
    for (int i = 0; i < RCL_WORKSPACE_SLOTS; i++) {
        rcl_device_free(d, d->ws[i], d->ws_size[i]);
        d->ws[i] = NULL;
        d->ws_size[i] = 0;
    }
}

void rcl_device_mem_peak_reset(rcl_device *d) { d->mem_peak = d->mem_in_use; }

static rcl_status find_kernel(cl_program program, rcl_named_kernel *table, int *n, int cap,
                              const char *name, cl_kernel *out) {
    for (int i = 0; i < *n; i++)
        if (strcmp(table[i].name, name) == 0) {
            *out = table[i].kernel;
            return RCL_OK;
        }
    if (*n == cap || strlen(name) >= sizeof table[0].name)
        return rcl_fail(RCL_ERR_INVALID_ARG, "kernel table full or name too long: %s", name);
    cl_int e;
    cl_kernel k = clCreateKernel(program, name, &e);
    if (e != CL_SUCCESS)
        return rcl_fail(RCL_ERR_OPENCL, "clCreateKernel(%s) failed: %s", name, rcl_cl_error_name(e));
    snprintf(table[*n].name, sizeof table[0].name, "%s", name);
    table[(*n)++].kernel = k;
    *out = k;
    return RCL_OK;
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

void rcl_device_profile_event(rcl_device *d, const char *name, cl_event ev) {
    if (!ev)
        return;
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
    d->pending_slot[d->npending++] = profile_slot(d, name);
    if (d->npending >= 4096) { /* bound the backlog: fold finished events in */
        rcl_profile_entry *e;
        int n;
        rcl_device_profile(d, &e, &n);
    }
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
    d->nprof = 0;
}

static rcl_status launch(rcl_device *d, cl_kernel k, const char *name, int dims,
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
    cl_int e = inject(INJECT_LOST);
    if (e == CL_SUCCESS)
        e = clEnqueueNDRangeKernel(d->queue, k, (cl_uint)dims, NULL, g, local, 0, NULL,
                                   d->opt.profile ? &ev : NULL);
    if (e != CL_SUCCESS)
        return rcl_fail(e == CL_MEM_OBJECT_ALLOCATION_FAILURE || e == CL_OUT_OF_RESOURCES
                            ? RCL_ERR_DEVICE_MEMORY
                            : RCL_ERR_OPENCL,
                        "launching kernel %s on '%s' failed: %s: %s", name, d->info.name,
                        rcl_cl_error_name(e), fault_hint(e));
    if (ev)
        rcl_device_profile_event(d, name, ev);
    return RCL_OK;
}

rcl_status rcl_kernel_run(rcl_device *d, const char *name, int dims, const size_t *global,
                          const size_t *local, int nargs, const rcl_arg *args) {
    cl_kernel k = NULL;
    RCL_TRY(find_kernel(d->program, d->kernels, &d->nkernels, RCL_MAX_KERNELS, name, &k));
    return launch(d, k, name, dims, global, local, nargs, args);
}

rcl_status rcl_kernel_run_variant(rcl_device *d, int handle, const char *name, int dims,
                                  const size_t *global, const size_t *local, int nargs,
                                  const rcl_arg *args) {
    if (handle < 0 || handle >= d->nvariants)
        return rcl_fail(RCL_ERR_INVALID_ARG, "kernel %s: no kernel family build %d", name, handle);
    rcl_variant *v = &d->variants[handle];
    cl_kernel k = NULL;
    RCL_TRY(find_kernel(v->program, v->kernels, &v->nkernels, RCL_VARIANT_KERNELS, name, &k));
    return launch(d, k, name, dims, global, local, nargs, args);
}
