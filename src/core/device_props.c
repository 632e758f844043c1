/* Everything else a device says about itself (rcl_device_props): what `robustcl devices --json`
 * lists, as clinfo would. */
#include <stdio.h>
#include <string.h>

#include "device_internal.h"

typedef struct {
    int pi, di, found;
    rcl_device_props *p;
} props_query;

static void vector_widths(cl_device_id dev, rcl_device_props *p) {
    static const cl_device_info pref[7] = {
        CL_DEVICE_PREFERRED_VECTOR_WIDTH_CHAR, CL_DEVICE_PREFERRED_VECTOR_WIDTH_SHORT,
        CL_DEVICE_PREFERRED_VECTOR_WIDTH_INT, CL_DEVICE_PREFERRED_VECTOR_WIDTH_LONG,
        CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, CL_DEVICE_PREFERRED_VECTOR_WIDTH_DOUBLE,
        CL_DEVICE_PREFERRED_VECTOR_WIDTH_HALF};
    static const cl_device_info native[7] = {
        CL_DEVICE_NATIVE_VECTOR_WIDTH_CHAR, CL_DEVICE_NATIVE_VECTOR_WIDTH_SHORT, CL_DEVICE_NATIVE_VECTOR_WIDTH_INT,
        CL_DEVICE_NATIVE_VECTOR_WIDTH_LONG, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, CL_DEVICE_NATIVE_VECTOR_WIDTH_DOUBLE,
        CL_DEVICE_NATIVE_VECTOR_WIDTH_HALF};
    for (int i = 0; i < 7; i++) {
        clGetDeviceInfo(dev, pref[i], sizeof p->vec_preferred[i], &p->vec_preferred[i], NULL);
        clGetDeviceInfo(dev, native[i], sizeof p->vec_native[i], &p->vec_native[i], NULL);
    }
}

/* A cl_bool property as 0/1 (0 when the driver does not say). */
static int flag(cl_device_id dev, cl_device_info what) {
    cl_bool b = CL_FALSE;
    return clGetDeviceInfo(dev, what, sizeof b, &b, NULL) == CL_SUCCESS && b;
}

static void limits(cl_device_id dev, rcl_device_props *p) {
    cl_uint u;
    cl_ulong l;
    size_t z;
#define GET(what, var, field) \
    if (clGetDeviceInfo(dev, what, sizeof var, &var, NULL) == CL_SUCCESS) p->field = var
    GET(CL_DEVICE_ADDRESS_BITS, u, address_bits);
    GET(CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, u, max_work_item_dims);
    GET(CL_DEVICE_MEM_BASE_ADDR_ALIGN, u, mem_base_addr_align);
    GET(CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE, u, global_cacheline);
    GET(CL_DEVICE_MAX_CONSTANT_BUFFER_SIZE, l, max_constant_buffer);
    GET(CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, l, global_cache);
    GET(CL_DEVICE_MAX_PARAMETER_SIZE, z, max_parameter_size);
    GET(CL_DEVICE_PROFILING_TIMER_RESOLUTION, z, timer_resolution_ns);
#undef GET
    size_t sizes[16] = {0};
    if (clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof sizes, sizes, NULL) == CL_SUCCESS)
        memcpy(p->max_work_item_sizes, sizes, sizeof p->max_work_item_sizes);
    p->available = flag(dev, CL_DEVICE_AVAILABLE);
    p->compiler_available = flag(dev, CL_DEVICE_COMPILER_AVAILABLE);
    p->image_support = flag(dev, CL_DEVICE_IMAGE_SUPPORT);
    p->unified_memory = flag(dev, CL_DEVICE_HOST_UNIFIED_MEMORY);
    p->little_endian = flag(dev, CL_DEVICE_ENDIAN_LITTLE);
    p->error_correction = flag(dev, CL_DEVICE_ERROR_CORRECTION_SUPPORT);
}

static int describe(cl_platform_id plat, cl_device_id dev, int pi, int di, void *ctx) {
    (void)plat;
    props_query *q = ctx;
    if (pi != q->pi || di != q->di)
        return 0;
    rcl_device_props *p = q->p;
    cl_device_type t = 0;
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof t, &t, NULL);
    snprintf(p->type, sizeof p->type, "%s", t & CL_DEVICE_TYPE_GPU           ? "GPU"
                                            : t & CL_DEVICE_TYPE_CPU         ? "CPU"
                                            : t & CL_DEVICE_TYPE_ACCELERATOR ? "accelerator"
                                                                             : "other");
    clGetDeviceInfo(dev, CL_DEVICE_PROFILE, sizeof p->profile - 1, p->profile, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, sizeof p->extensions - 1, p->extensions, NULL);
    vector_widths(dev, p);
    limits(dev, p);
    q->found = 1;
    return 1;
}

rcl_status rcl_device_props_get(int platform_index, int device_index, rcl_device_props *p) {
    memset(p, 0, sizeof *p);
    props_query q = {platform_index, device_index, 0, p};
    RCL_TRY(rcl_device_for_each(describe, &q));
    if (!q.found)
        return rcl_fail(RCL_ERR_NO_DEVICE, "no OpenCL device %d:%d (see `robustcl devices`)", platform_index,
                        device_index);
    return RCL_OK;
}
