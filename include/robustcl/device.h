/* OpenCL devices: discovery, selection, the compiled kernel program and
 * kernel launches. One rcl_device owns a context, an in-order queue and the
 * program built from kernels/ (*.cl). */
#ifndef ROBUSTCL_DEVICE_H
#define ROBUSTCL_DEVICE_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>

#include "robustcl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcl_device_info {
    int platform_index, device_index;
    char platform_name[128], platform_version[128];
    char name[128], vendor[128], driver_version[128], version[160], c_version[128];
    unsigned compute_units;
    unsigned long long global_mem, local_mem, max_alloc;
    size_t max_work_group;
    int is_gpu, fp16, fp64;
    /* what the default kernel parameters derive from (docs/convolution.md) */
    unsigned vec_native, vec_preferred; /* float vector widths (CL_DEVICE_*_VECTOR_WIDTH_FLOAT) */
    unsigned clock_mhz;                 /* CL_DEVICE_MAX_CLOCK_FREQUENCY */
    int local_mem_dedicated;            /* CL_LOCAL: local memory on chip (GPUs), not emulated */
} rcl_device_info;

/* Which kernel variants a device gets (rcl_device_gpu_kernels). */
typedef enum {
    RCL_KERNEL_CLASS_AUTO = 0, /* the device's type */
    RCL_KERNEL_CLASS_GPU,      /* work-group reductions, work-groups of 64, whatever the device */
    RCL_KERNEL_CLASS_CPU,      /* a work item is plain vector code, no barriers */
} rcl_kernel_class;

/* How a device runs: everything that changes it is here, set by the caller (the command line
 * reads the environment into it once; the library reads no environment variable). Zeroed
 * options are the defaults. The device copies the strings. */
typedef struct rcl_device_options {
    /* "P:D", a case-insensitive substring of the device, vendor or platform name, or a comma
     * list of those (item local_rank mod count); NULL or "": the local rank's GPU (local_rank
     * mod the GPUs), else the first device */
    const char *selector;
    int local_rank;          /* this process's rank among the processes on its machine (data parallel) */
    int pin_gemm;            /* 1: fixed CLBlast parameters, no tuning cache (tests, determinism) */
    int profile;             /* 1: record per-kernel device time (OpenCL profiling events) */
    size_t workspace_cap;    /* bytes allowed for im2col workspace; 0: default (256 MiB) */
    size_t max_device_mem;   /* refuse allocations past this many bytes; 0: no limit */
    const char *conv_policy; /* convolution algorithms (rcl_conv_set_policy's syntax); NULL or "": auto */
    rcl_kernel_class kernel_class;
    const char *kernel_dir;  /* load kernels/ (*.cl) from this folder instead of the embedded copies */
    const char *cl_options;  /* extra OpenCL build options for every program (diagnostics) */
    /* program binaries in the cache directory: 0 on every platform but PoCL, which caches
     * compiled kernels itself and would otherwise compile every kernel before the first launch;
     * 1 always; -1 never */
    int binary_cache;
} rcl_device_options;

typedef struct rcl_device rcl_device;

/* All devices of all platforms; *infos is malloc'd (free it). */
rcl_status rcl_device_list(rcl_device_info **infos, int *count);

/* The rest of what a device says about itself, clinfo-like (robustcl devices --json). Vector
 * widths are in the order char, short, int, long, float, double, half. */
typedef struct rcl_device_props {
    char type[16];              /* "GPU", "CPU", "accelerator", "other" */
    char profile[32];           /* FULL_PROFILE, EMBEDDED_PROFILE */
    char extensions[8192];
    unsigned vec_preferred[7], vec_native[7];
    unsigned address_bits, max_work_item_dims, mem_base_addr_align;
    size_t max_work_item_sizes[3], max_parameter_size, timer_resolution_ns;
    unsigned long long max_constant_buffer, global_cache, global_cacheline;
    int available, compiler_available, image_support, unified_memory, little_endian, error_correction;
} rcl_device_props;
/* The properties of device platform_index:device_index (rcl_device_info's indices). */
rcl_status rcl_device_props_get(int platform_index, int device_index, rcl_device_props *p);
rcl_status rcl_device_open(const rcl_device_options *opt, rcl_device **out);
void rcl_device_close(rcl_device *d);

const rcl_device_info *rcl_device_get_info(const rcl_device *d);
/* 1 when d gets the kernel variants written for GPUs (work-groups that reduce in local memory,
 * many small work items) rather than those for CPUs (a work item is plain vector code, no
 * barriers): d's type, unless its options' kernel_class says otherwise (the tests run the GPU
 * variants on PoCL and oclgrind that way). */
int rcl_device_gpu_kernels(const rcl_device *d);
/* The options d was opened with (its own copies of the strings; selector NULL). */
const rcl_device_options *rcl_device_get_options(const rcl_device *d);
cl_context rcl_device_context(const rcl_device *d);
cl_command_queue rcl_device_queue(const rcl_device *d);
cl_device_id rcl_device_id(const rcl_device *d);
size_t rcl_device_workspace_cap(const rcl_device *d);
rcl_status rcl_device_finish(rcl_device *d);
/* A notice about slow one-time work on d (kernel builds, convolution measurements): rcl_log at
 * RCL_LOG_NOTICE, the one way notices go (the message names the device where that matters). */
void rcl_device_notice(const rcl_device *d, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Device memory with accounting: every allocation is named, so an
 * out-of-memory error says what was being allocated. */
rcl_status rcl_device_alloc(rcl_device *d, size_t bytes, const char *what, cl_mem *out);
void rcl_device_free(rcl_device *d, cl_mem m, size_t bytes);
size_t rcl_device_mem_in_use(const rcl_device *d);
size_t rcl_device_mem_peak(const rcl_device *d);

/* Scratch buffers owned by the device and reused across calls (slots
 * 0..RCL_WORKSPACE_SLOTS-1, e.g. im2col columns). A slot grows when asked for more;
 * its contents are undefined between calls. */
#define RCL_WORKSPACE_SLOTS 4
rcl_status rcl_device_workspace(rcl_device *d, int slot, size_t bytes, cl_mem *out);
/* Frees every slot (after one-time work that needed more, such as measuring algorithms). */
void rcl_device_workspace_release(rcl_device *d);
/* Restarts the peak at the memory in use now (to measure the peak of a phase). */
void rcl_device_mem_peak_reset(rcl_device *d);

/* A kernel argument: a value of `size` bytes at `ptr`, or local memory when ptr is NULL. */
typedef struct rcl_arg {
    size_t size;
    const void *ptr;
} rcl_arg;
#define RCL_MEM(m) ((rcl_arg){sizeof(cl_mem), &(m)})
#define RCL_INT(i) ((rcl_arg){sizeof(cl_int), &(cl_int){(cl_int)(i)}})
#define RCL_UINT(i) ((rcl_arg){sizeof(cl_uint), &(cl_uint){(cl_uint)(i)}})
#define RCL_FLOAT(f) ((rcl_arg){sizeof(cl_float), &(cl_float){(cl_float)(f)}})
#define RCL_LOCAL(bytes) ((rcl_arg){(bytes), NULL})

/* Enqueues kernel `name` (from kernels/ (*.cl)). local may be NULL; otherwise
 * each global size is rounded up to a multiple of local (kernels bound-check). */
rcl_status rcl_kernel_run(rcl_device *d, const char *name, int dims, const size_t *global,
                          const size_t *local, int nargs, const rcl_arg *args);

/* Kernel families with compile-time parameters (kernels/tuned/ (*.cl): tile sizes, vector
 * widths, geometry): the family's file, after common.cl, built with `defines` (e.g. "-DVW=16
 * -DR=2") on first use and binary-cached like the main program, its kernels kernels[0..n)
 * created with it. *handle names the build for rcl_kernel_launch_variant; the same file,
 * defines and kernels give the same handle. The names must outlive the device. */
rcl_status rcl_program_variant(rcl_device *d, const char *file, const char *defines,
                               const char *const *kernels, int nkernels, int *handle);
/* rcl_kernel_run for kernel `kernel` (an index into the build's list) of build `handle`. */
rcl_status rcl_kernel_launch_variant(rcl_device *d, int handle, int kernel, int dims,
                                     const size_t *global, const size_t *local, int nargs,
                                     const rcl_arg *args);

/* State that a higher layer keeps per device (e.g. the convolution algorithms chosen on it),
 * released with the device by `release`. Slots are numbered by their owners' headers. */
#define RCL_DEVICE_EXT_SLOTS 4
void *rcl_device_ext(const rcl_device *d, int slot);
void rcl_device_set_ext(rcl_device *d, int slot, void *state, void (*release)(void *));

/* Per-kernel device time, when opened with profile=1. Waits for the queue. */
typedef struct rcl_profile_entry {
    char name[48];
    double ms;
    long calls;
} rcl_profile_entry;
rcl_status rcl_device_profile(rcl_device *d, rcl_profile_entry **entries, int *count);
void rcl_device_profile_reset(rcl_device *d);
/* Records an event from outside rcl_kernel_run (CLBlast) under `name`; takes ownership. */
void rcl_device_profile_event(rcl_device *d, const char *name, cl_event ev);

/* The cache directory: compiled program binaries, self-test verdicts, tuned GEMM parameters
 * and convolution choices. One per process (set it before opening devices; the command line
 * sets $ROBUSTCL_CACHE_DIR, $XDG_CACHE_HOME/robustcl or ~/.cache/robustcl); NULL or "": no
 * cache, the default. */
void rcl_cache_set_dir(const char *dir);
/* Writes it into out; returns 0 and writes "" when there is none. */
int rcl_cache_dir(char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
