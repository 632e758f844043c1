/* Private layout of rcl_device, shared by the files of src/core. */
#ifndef RCL_DEVICE_INTERNAL_H
#define RCL_DEVICE_INTERNAL_H

#include "robustcl/device.h"
#include "core/fault.h"
#include "kernel_ids.h"

#define RCL_MAX_PROFILE 64
#define RCL_VARIANT_KERNELS 4
#define RCL_VARIANT_KEY 256

/* A kernel family built with its own -D options (rcl_program_variant), its kernels created
 * with the build (a launch indexes them) and their profile slots (slot + 1; 0: not yet). */
typedef struct rcl_variant {
    char key[RCL_VARIANT_KEY]; /* "file defines kernels" */
    cl_program program;
    cl_kernel kernels[RCL_VARIANT_KERNELS];
    const char *names[RCL_VARIANT_KERNELS];
    int prof[RCL_VARIANT_KERNELS];
    int nkernels;
} rcl_variant;

struct rcl_device {
    rcl_device_info info;
    cl_platform_id platform;
    cl_device_id id;
    cl_context ctx;
    cl_command_queue queue;
    cl_program program;
    /* the main program's kernels by rcl_kernel_id, created on first launch, and their
     * profile slots (slot + 1; 0: not looked up since the last profile reset) */
    cl_kernel kernels[RCL_KERNEL_COUNT];
    int kernel_prof[RCL_KERNEL_COUNT];
    rcl_variant *variants; /* grows: the tuner builds many */
    int nvariants, cap_variants;
    void *ext[RCL_DEVICE_EXT_SLOTS];
    void (*ext_free[RCL_DEVICE_EXT_SLOTS])(void *);
    rcl_device_options opt;  /* its strings are `strings` */
    char *strings[3];        /* copies of conv_policy, kernel_dir, cl_options */
    int gpu_kernels; /* rcl_device_gpu_kernels */
    size_t mem_in_use, mem_peak;
    char gemm_source[24], gemm_params[512];
    cl_mem ws[RCL_WORKSPACE_SLOTS];
    size_t ws_size[RCL_WORKSPACE_SLOTS];
    /* profiling: events pending collection, totals per name */
    cl_event *pending;
    int *pending_slot;
    int npending, cap_pending;
    rcl_profile_entry prof[RCL_MAX_PROFILE];
    int nprof;
};

/* 1 for PoCL's devices: its compiler wants its own GEMM parameters, and it caches compiled
 * kernels itself (program.c). */
int rcl_platform_is_pocl(const rcl_device_info *inf);

/* Drops CLBlast's compiled GEMM programs of every context (the last device has closed). */
void rcl_gemm_clear_cache(void);

/* Calls fn(plat, dev, pi, di, ctx) for every device of every platform; stops when fn returns
 * nonzero. RCL_ERR_NO_DEVICE (saying how to install one) without an OpenCL platform. */
typedef int (*rcl_device_visit)(cl_platform_id, cl_device_id, int, int, void *);
rcl_status rcl_device_for_each(rcl_device_visit fn, void *ctx);

/* Builds (or loads from the binary cache) the program of all kernels. */
rcl_status rcl_program_build(rcl_device *d);

#endif
