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

/* Receives one-line messages about slow one-time work (kernel builds, convolution algorithm
 * measurements) so that a front end can show progress; the library itself never prints. */
typedef void (*rcl_notice_fn)(void *ctx, const char *message);

typedef struct rcl_device_options {
    const char *selector;    /* "P:D", a name/vendor substring, or NULL: $ROBUSTCL_DEVICE, first GPU, first device */
    int pin_gemm;            /* 1: fixed CLBlast parameters, no tuning cache (tests, determinism) */
    int profile;             /* 1: record per-kernel device time (OpenCL profiling events) */
    size_t workspace_cap;    /* bytes allowed for im2col workspace; 0: default (256 MiB) */
    size_t max_device_mem;   /* refuse allocations past this many bytes; 0: no limit */
    rcl_notice_fn notice;    /* or NULL: no progress messages */
    void *notice_ctx;
} rcl_device_options;

typedef struct rcl_device rcl_device;

/* All devices of all platforms; *infos is malloc'd (free it). */
rcl_status rcl_device_list(rcl_device_info **infos, int *count);
rcl_status rcl_device_open(const rcl_device_options *opt, rcl_device **out);
void rcl_device_close(rcl_device *d);

const rcl_device_info *rcl_device_get_info(const rcl_device *d);
/* 1 when d gets the kernel variants written for GPUs (work-groups that reduce in local memory,
 * many small work items) rather than those for CPUs (a work item is plain vector code, no
 * barriers): d's type, unless ROBUSTCL_KERNEL_CLASS=gpu or cpu says otherwise (the tests run
 * the GPU variants on PoCL and oclgrind that way). Read at device open. */
int rcl_device_gpu_kernels(const rcl_device *d);
cl_context rcl_device_context(const rcl_device *d);
cl_command_queue rcl_device_queue(const rcl_device *d);
cl_device_id rcl_device_id(const rcl_device *d);
size_t rcl_device_workspace_cap(const rcl_device *d);
rcl_status rcl_device_finish(rcl_device *d);
/* Passes a printf-style message to the device's notice callback, if any. */
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

/* Cache directory for program binaries, tuning and self-test results
 * ($ROBUSTCL_CACHE_DIR, else $XDG_CACHE_HOME/robustcl, else ~/.cache/robustcl).
 * Returns 0 and writes "" when caching is disabled (ROBUSTCL_CACHE=0). */
int rcl_cache_dir(char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
