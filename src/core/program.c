/* Builds the kernel program, with a persistent binary cache keyed by a hash
 * of source, options, device, driver and platform. A damaged or foreign cache
 * entry is a miss, never an error. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device_internal.h"
#include "hash.h"
#include "kernel_sources.h"
#include "core/fileio.h"
#include "robustcl/log.h"

#define CACHE_MAGIC "RCLBIN01"

typedef struct {
    char magic[8];
    uint64_t key, size, checksum;
} cache_header;

static char cache_dir[4096]; /* "": no cache */

void rcl_cache_set_dir(const char *dir) { snprintf(cache_dir, sizeof cache_dir, "%s", dir ? dir : ""); }

int rcl_cache_dir(char *out, size_t cap) {
    int n = snprintf(out, cap, "%s", cache_dir);
    if (n <= 0 || (size_t)n >= cap) {
        out[0] = 0;
        return 0;
    }
    return 1;
}

/* Concatenates the kernel files that `want` selects (from the kernel_dir option when set). */
typedef int (*source_filter)(const rcl_kernel_source *src, const void *ctx);

static rcl_status gather_source(const rcl_device *d, source_filter want, const void *ctx, char **out) {
    const char *dir = d->opt.kernel_dir;
    size_t cap = 1 << 16, len = 0;
    char *src = malloc(cap);
    if (!src)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of memory loading kernels");
    src[0] = 0;
    for (int i = 0; i < rcl_kernel_source_count; i++) {
        if (!want(&rcl_kernel_sources[i], ctx))
            continue;
        const char *text = rcl_kernel_sources[i].text;
        unsigned char *disk = NULL;
        if (dir && *dir) {
            char path[4096];
            size_t sz;
            snprintf(path, sizeof path, "%s/%s", dir, rcl_kernel_sources[i].file);
            rcl_status s = rcl_file_read(path, &disk, &sz);
            if (s != RCL_OK) {
                free(src);
                return rcl_fail(s, "kernel folder (kernel_dir, ROBUSTCL_KERNEL_DIR): %s", rcl_last_error());
            }
            text = (const char *)disk;
        }
        char line[256];
        snprintf(line, sizeof line, "\n#line 1 \"%s\"\n", rcl_kernel_sources[i].file);
        size_t need = len + strlen(line) + strlen(text) + 1;
        if (need > cap) {
            while (cap < need)
                cap *= 2;
            char *ns = realloc(src, cap);
            if (!ns) {
                free(src);
                free(disk);
                return rcl_fail(RCL_ERR_NO_MEMORY, "out of memory loading kernels");
            }
            src = ns;
        }
        len += (size_t)sprintf(src + len, "%s%s", line, text);
        free(disk);
    }
    *out = src;
    return RCL_OK;
}

/* The cl_options option adds build options of the user's (diagnostics: CI builds with
 * -cl-opt-disable under oclgrind, whose value tracking stops at LLVM's optimised `freeze`). */
static void build_options(const rcl_device *d, const char *defines, char *out, size_t cap) {
    int major = 1, minor = 1;
    sscanf(d->info.c_version, "OpenCL C %d.%d", &major, &minor);
    const char *extra = d->opt.cl_options;
    /* Our kernels are OpenCL C 1.2 at most; ask for that when the device has it. */
    snprintf(out, cap, "-cl-std=CL%s%s%s%s%s", (major > 1 || minor >= 2) ? "1.2" : "1.1",
             defines && *defines ? " " : "", defines ? defines : "", extra && *extra ? " " : "",
             extra && *extra ? extra : "");
}

static int try_cached(rcl_device *d, const char *path, uint64_t key, const char *opts,
                      cl_program *out) {
    unsigned char *data;
    size_t size;
    if (rcl_file_read(path, &data, &size) != RCL_OK)
        return 0;
    cache_header h;
    int ok = size >= sizeof h;
    if (ok) {
        memcpy(&h, data, sizeof h);
        ok = memcmp(h.magic, CACHE_MAGIC, 8) == 0 && h.key == key &&
             h.size == size - sizeof h &&
             rcl_fnv1a(RCL_FNV_INIT, data + sizeof h, h.size) == h.checksum;
    }
    if (ok) {
        const unsigned char *bin = data + sizeof h;
        size_t bsize = (size_t)h.size;
        cl_int e, bs;
        cl_program p = clCreateProgramWithBinary(d->ctx, 1, &d->id, &bsize, &bin, &bs, &e);
        ok = e == CL_SUCCESS && bs == CL_SUCCESS;
        if (ok && clBuildProgram(p, 1, &d->id, opts, NULL, NULL) != CL_SUCCESS)
            ok = 0;
        if (ok)
            *out = p;
        else if (e == CL_SUCCESS)
            clReleaseProgram(p);
    }
    free(data);
    return ok;
}

static void save_cached(cl_program prog, const char *dir, const char *path, uint64_t key) {
    size_t bsize = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof bsize, &bsize, NULL) != CL_SUCCESS ||
        bsize == 0)
        return;
    unsigned char *buf = malloc(sizeof(cache_header) + bsize);
    if (!buf)
        return;
    unsigned char *bin = buf + sizeof(cache_header);
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS) {
        cache_header h;
        memcpy(h.magic, CACHE_MAGIC, 8);
        h.key = key;
        h.size = bsize;
        h.checksum = rcl_fnv1a(RCL_FNV_INIT, bin, bsize);
        memcpy(buf, &h, sizeof h);
        /* a cache we cannot write only costs start-up time */
        if (rcl_mkdirs(dir) == RCL_OK)
            rcl_file_write_atomic(path, buf, sizeof h + bsize);
    }
    free(buf);
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* PoCL keeps its own cache of compiled kernels (POCL_CACHE_DIR), specialised per work-group
 * size, and compiles a kernel when it is first launched. Asking it for a program binary
 * instead compiles every kernel of the program generically first: 12 s for the main program
 * on a 2-core machine, most of it for kernels a run never launches. So on PoCL the binary
 * cache is left to PoCL, unless the binary_cache option says 1 (-1 turns it off everywhere). */
static int driver_caches_kernels(const rcl_device *d) {
    if (d->opt.binary_cache)
        return d->opt.binary_cache < 0;
    return rcl_platform_is_pocl(&d->info);
}

/* Builds src with `defines` for d into *out, through the binary cache (`what` names it in
 * the progress notice). Takes src. */
static rcl_status build_cached(rcl_device *d, const char *what, char *src, const char *defines,
                               cl_program *out) {
    char opts[512];
    build_options(d, defines, opts, sizeof opts);

    uint64_t key = rcl_fnv1a(RCL_FNV_INIT, "robustcl-program-v1", 19);
    key = rcl_fnv1a(key, src, strlen(src) + 1);
    key = rcl_fnv1a(key, opts, strlen(opts) + 1);
    key = rcl_fnv1a(key, d->info.name, strlen(d->info.name) + 1);
    key = rcl_fnv1a(key, d->info.driver_version, strlen(d->info.driver_version) + 1);
    key = rcl_fnv1a(key, d->info.platform_version, strlen(d->info.platform_version) + 1);

    char dir[4096], path[4200];
    int cache = !driver_caches_kernels(d) && rcl_cache_dir(dir, sizeof dir);
    if (rcl_fault_inject(RCL_FAULT_BUILD) != CL_SUCCESS)
        cache = 0; /* the injected fault is in the build below */
    if (cache) {
        snprintf(path, sizeof path, "%s/kernels-%016llx.bin", dir, (unsigned long long)key);
        if (try_cached(d, path, key, opts, out)) {
            free(src);
            return RCL_OK;
        }
    }

    /* a miss of our cache compiles for certain; a driver with its own cache may be quick: say so after */
    int own_cache = !driver_caches_kernels(d);
    if (own_cache)
        rcl_device_notice(d, "compiling %s%s%s for '%s' (kept in the kernel cache)", what,
                          defines ? " " : "", defines ? defines : "", d->info.name);
    double t0 = now_seconds();
    cl_int e;
    const char *srcp = src;
    cl_program prog = clCreateProgramWithSource(d->ctx, 1, &srcp, NULL, &e);
    free(src);
    if (e != CL_SUCCESS)
        return rcl_fail(RCL_ERR_OPENCL, "clCreateProgramWithSource failed: %s", rcl_cl_error_name(e));
    if (rcl_fault_inject(RCL_FAULT_BUILD) != CL_SUCCESS)
        e = CL_BUILD_PROGRAM_FAILURE;
    else
        e = clBuildProgram(prog, 1, &d->id, opts, NULL, NULL);
    if (e != CL_SUCCESS) {
        size_t n = 0;
        clGetProgramBuildInfo(prog, d->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
        char *log = malloc(n + 1);
        if (log) {
            log[0] = 0;
            clGetProgramBuildInfo(prog, d->id, CL_PROGRAM_BUILD_LOG, n, log, NULL);
            log[n] = 0;
            rcl_log(RCL_LOG_WARNING, "kernel build log for '%s':\n%s", d->info.name, log);
            free(log);
        }
        clReleaseProgram(prog);
        return rcl_fail(RCL_ERR_BUILD,
                        "building the kernels for '%s' (%s) failed: %s (build log above): update "
                        "the OpenCL driver or choose another --device (see `robustcl devices`)",
                        d->info.name, opts, rcl_cl_error_name(e));
    }
    if (cache)
        save_cached(prog, dir, path, key);
    double took = now_seconds() - t0;
    if (!own_cache && took > 2)
        rcl_device_notice(d, "compiled %s%s%s for '%s' in %.0f s (the driver keeps it)", what,
                          defines ? " " : "", defines ? defines : "", d->info.name, took);
    *out = prog;
    return RCL_OK;
}

static int main_program_file(const rcl_kernel_source *src, const void *ctx) {
    (void)ctx;
    return !src->family;
}

rcl_status rcl_program_build(rcl_device *d) {
    char *src = NULL;
    RCL_TRY(gather_source(d, main_program_file, NULL, &src));
    return build_cached(d, "the kernels", src, NULL, &d->program);
}

/* A family's program: common.cl, then the family's file. */
static int family_file(const rcl_kernel_source *src, const void *ctx) {
    return strcmp(src->file, "common.cl") == 0 || strcmp(src->file, (const char *)ctx) == 0;
}

static rcl_status variant_kernels(rcl_variant *v, const char *const *kernels, int nkernels) {
    for (int i = 0; i < nkernels; i++) {
        cl_int e;
        v->kernels[i] = clCreateKernel(v->program, kernels[i], &e);
        if (e != CL_SUCCESS)
            return rcl_fail(RCL_ERR_OPENCL, "clCreateKernel(%s) failed: %s", kernels[i],
                            rcl_cl_error_name(e));
        v->names[i] = kernels[i];
        v->nkernels = i + 1;
    }
    return RCL_OK;
}

static void variant_release(rcl_variant *v) {
    for (int i = 0; i < v->nkernels; i++)
        clReleaseKernel(v->kernels[i]);
    if (v->program)
        clReleaseProgram(v->program);
}

rcl_status rcl_program_variant(rcl_device *d, const char *file, const char *defines,
                               const char *const *kernels, int nkernels, int *handle) {
    char key[RCL_VARIANT_KEY];
    int len = snprintf(key, sizeof key, "%s %s", file, defines ? defines : "");
    for (int i = 0; i < nkernels && len < (int)sizeof key; i++)
        len += snprintf(key + len, sizeof key - (size_t)len, " %s", kernels[i]);
    if (len >= (int)sizeof key)
        return rcl_fail(RCL_ERR_INVALID_ARG, "kernel family options too long: %s", defines);
    for (int i = 0; i < d->nvariants; i++)
        if (strcmp(d->variants[i].key, key) == 0) {
            *handle = i;
            return RCL_OK;
        }
    if (nkernels < 1 || nkernels > RCL_VARIANT_KERNELS)
        return rcl_fail(RCL_ERR_INVALID_ARG, "kernel family %s: %d kernels (1 to %d)", file,
                        nkernels, RCL_VARIANT_KERNELS);
    int known = 0;
    for (int i = 0; i < rcl_kernel_source_count; i++)
        known |= rcl_kernel_sources[i].family && strcmp(rcl_kernel_sources[i].file, file) == 0;
    if (!known)
        return rcl_fail(RCL_ERR_INVALID_ARG, "no kernel family %s", file);
    if (d->nvariants == d->cap_variants) {
        int cap = d->cap_variants ? 2 * d->cap_variants : 16;
        rcl_variant *nv = realloc(d->variants, (size_t)cap * sizeof *nv);
        if (!nv)
            return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for kernel family builds");
        d->variants = nv;
        d->cap_variants = cap;
    }
    char *src = NULL;
    RCL_TRY(gather_source(d, family_file, file, &src));
    rcl_variant *v = &d->variants[d->nvariants];
    memset(v, 0, sizeof *v);
    rcl_status s = build_cached(d, file, src, defines, &v->program);
    if (s == RCL_OK)
        s = variant_kernels(v, kernels, nkernels);
    if (s != RCL_OK) {
        variant_release(v);
        memset(v, 0, sizeof *v);
        return s;
    }
    snprintf(v->key, sizeof v->key, "%s", key);
    *handle = d->nvariants++;
    return RCL_OK;
}
