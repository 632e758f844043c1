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

rcl_status rcl_device_for_each(rcl_device_visit fn, void *ctx) {
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
    rcl_status s = rcl_device_for_each(collect, &l);
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

typedef struct {
    const char *sel;    /* a name substring */
    int want_p, want_d; /* >= 0 for "P:D" */
    int gpu_only, skip; /* skip: matches to pass over first (the local rank's GPU) */
    cl_platform_id plat;
    cl_device_id dev;
    int pi, di, found;
} pick_state;

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return n == 0;
}

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
    if (ok && st->skip > 0) {
        st->skip--;
        return 0;
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

static int count_gpu(cl_platform_id plat, cl_device_id dev, int pi, int di, void *ctx) {
    (void)plat, (void)pi, (void)di;
    cl_device_type t = 0;
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof t, &t, NULL);
    *(int *)ctx += (t & CL_DEVICE_TYPE_GPU) != 0;
    return 0;
}

/* "0:0 'NAME' (PLATFORM), ..." of every device, for a selector that matched none. */
static void list_devices(char *out, size_t cap) {
    rcl_device_info *inf;
    int n = 0;
    out[0] = 0;
    if (rcl_device_list(&inf, &n) == RCL_OK) {
        size_t len = 0;
        for (int i = 0; i < n && len < cap; i++)
            len += (size_t)snprintf(out + len, cap - len, "%s%d:%d '%s' (%s)", i ? ", " : "", inf[i].platform_index,
                                    inf[i].device_index, inf[i].name, inf[i].platform_name);
        free(inf);
    }
}

/* Item (local_rank mod count) of a comma-separated selector. */
static void rank_item(const char *sel, int local_rank, const char **item, size_t *len) {
    int items = 1;
    for (const char *p = sel; *p; p++)
        items += *p == ',';
    const char *p = sel;
    for (int i = 0; i < (local_rank < 0 ? 0 : local_rank) % items; i++)
        p = strchr(p, ',') + 1;
    *item = p;
    *len = strcspn(p, ",");
}

/* The device of a selector (rcl_device_options.selector) for this local rank. */
static rcl_status select_device(const char *sel, int local_rank, pick_state *st) {
    memset(st, 0, sizeof *st);
    st->want_p = st->want_d = -1;
    if (sel && *sel) {
        const char *item;
        size_t len;
        rank_item(sel, local_rank, &item, &len);
        int p, dd, used = 0;
        char one[256];
        snprintf(one, sizeof one, "%.*s", (int)len, item);
        if (sscanf(one, "%d:%d%n", &p, &dd, &used) == 2 && one[used] == 0) {
            st->want_p = p;
            st->want_d = dd;
        } else {
            st->sel = one;
        }
        RCL_TRY(rcl_device_for_each(pick, st));
        if (!st->found) {
            char devices[2048];
            list_devices(devices, sizeof devices);
            return rcl_fail(RCL_ERR_NO_DEVICE, "no OpenCL device matches '%s'; the devices are: %s", one,
                            devices[0] ? devices : "none");
        }
        return RCL_OK;
    }
    int gpus = 0;
    RCL_TRY(rcl_device_for_each(count_gpu, &gpus));
    st->gpu_only = gpus > 0;
    st->skip = gpus > 0 && local_rank > 0 ? local_rank % gpus : 0;
    RCL_TRY(rcl_device_for_each(pick, st));
    if (!st->found)
        return rcl_fail(RCL_ERR_NO_DEVICE, "%s", no_platform_hint);
    return RCL_OK;
}

/* CLBlast keeps the GEMM programs of every context it has seen (about 6 MB each, holding the
 * context) until told to clear them: so repeated open/close would grow without bound. They
 * are cleared when the last open device closes; any device open then only rebuilds them. */
static atomic_int open_devices;

/* The options with the device's own copies of their strings (freed by rcl_device_close). */
static rcl_status keep_options(rcl_device *d, const rcl_device_options *o) {
    d->opt = *o;
    d->opt.selector = NULL;
    if (!d->opt.workspace_cap)
        d->opt.workspace_cap = (size_t)256 << 20;
    const char *const *from[3] = {&o->conv_policy, &o->kernel_dir, &o->cl_options};
    const char **to[3] = {&d->opt.conv_policy, &d->opt.kernel_dir, &d->opt.cl_options};
    for (int i = 0; i < 3; i++)
        if (*from[i] && !(*to[i] = d->strings[i] = strdup(*from[i])))
            return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory opening a device");
    return RCL_OK;
}

rcl_status rcl_device_open(const rcl_device_options *opt, rcl_device **out) {
    rcl_device_options o = {0};
    if (opt)
        o = *opt;
    pick_state st;
    RCL_TRY(select_device(o.selector, o.local_rank, &st));

    rcl_device *d = calloc(1, sizeof *d);
    if (!d)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory opening a device");
    atomic_fetch_add(&open_devices, 1); /* rcl_device_close, also on failure below, counts it down */
    d->platform = st.plat;
    d->id = st.dev;
    fill_info(st.plat, st.dev, st.pi, st.di, &d->info);
    rcl_status s = keep_options(d, &o);
    if (s != RCL_OK)
        goto fail;
    d->gpu_kernels = o.kernel_class == RCL_KERNEL_CLASS_GPU   ? 1
                     : o.kernel_class == RCL_KERNEL_CLASS_CPU ? 0
                                                              : d->info.is_gpu;

    cl_int e;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)st.plat, 0};
    d->ctx = clCreateContext(props, 1, &st.dev, NULL, NULL, &e);
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
    for (int i = 0; i < 3; i++)
        free(d->strings[i]);
    free(d);
    if (atomic_fetch_sub(&open_devices, 1) == 1)
        rcl_gemm_clear_cache();
}

