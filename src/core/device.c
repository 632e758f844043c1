/* Finding OpenCL devices, and opening and closing one: its context, queue, kernel program and
 * GEMM set-up. */
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
    cl_uint cu = 0, vn = 0, vp = 0, clock = 0;
    cl_device_local_mem_type lt = CL_GLOBAL;
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
    clGetDeviceInfo(dev, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof vn, &vn, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof vp, &vp, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof clock, &clock, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_LOCAL_MEM_TYPE, sizeof lt, &lt, NULL);
    inf->compute_units = cu;
    inf->vec_native = vn;
    inf->vec_preferred = vp;
    inf->clock_mhz = clock;
    inf->local_mem_dedicated = lt == CL_LOCAL;
    inf->global_mem = gm;
    inf->local_mem = lm;
    inf->max_alloc = ma;
    inf->max_work_group = wg;
    inf->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
    inf->fp16 = strstr(ext, "cl_khr_fp16") != NULL;
    inf->fp64 = strstr(ext, "cl_khr_fp64") != NULL;
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
    for (int i = 0; i < RCL_KERNEL_COUNT; i++)
        if (d->kernels[i])
            clReleaseKernel(d->kernels[i]);
    for (int v = 0; v < d->nvariants; v++) {
        for (int i = 0; i < d->variants[v].nkernels; i++)
            clReleaseKernel(d->variants[v].kernels[i]);
        clReleaseProgram(d->variants[v].program);
    }
    free(d->variants);
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

