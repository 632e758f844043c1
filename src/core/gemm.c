#define _POSIX_C_SOURCE 200809L /* localtime_r */
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "device_internal.h"
#include "hash.h"
#include "core/fileio.h"
#include "robustcl/gemm.h"

static const char *clblast_status_name(CLBlastStatusCode s) {
    switch (s) {
    case CLBlastNotImplemented: return "CLBlastNotImplemented";
    case CLBlastInvalidMatrixA: return "CLBlastInvalidMatrixA";
    case CLBlastInvalidMatrixB: return "CLBlastInvalidMatrixB";
    case CLBlastInvalidMatrixC: return "CLBlastInvalidMatrixC";
    case CLBlastInvalidDimension: return "CLBlastInvalidDimension";
    case CLBlastInvalidLeadDimA: return "CLBlastInvalidLeadDimA";
    case CLBlastInvalidLeadDimB: return "CLBlastInvalidLeadDimB";
    case CLBlastInvalidLeadDimC: return "CLBlastInvalidLeadDimC";
    case CLBlastInsufficientMemoryA: return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB: return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC: return "CLBlastInsufficientMemoryC";
    case CLBlastInsufficientMemoryTemp: return "CLBlastInsufficientMemoryTemp";
    case CLBlastInvalidOverrideKernel: return "CLBlastInvalidOverrideKernel";
    case CLBlastMissingOverrideParameter: return "CLBlastMissingOverrideParameter";
    case CLBlastInvalidLocalMemUsage: return "CLBlastInvalidLocalMemUsage";
    case CLBlastDatabaseError: return "CLBlastDatabaseError";
    case CLBlastUnknownError: return "CLBlastUnknownError";
    case CLBlastUnexpectedError: return "CLBlastUnexpectedError";
    default: return rcl_cl_error_name((int)s); /* shared with OpenCL's codes */
    }
}

const char *rcl_gemm_clblast_version(void) {
#define RCL_STR_(x) #x
#define RCL_STR(x) RCL_STR_(x)
    return RCL_STR(CLBLAST_VERSION_MAJOR) "." RCL_STR(CLBLAST_VERSION_MINOR) "." RCL_STR(CLBLAST_VERSION_PATCH);
#undef RCL_STR
#undef RCL_STR_
}

const char *const rcl_gemm_xgemm_names[RCL_GEMM_XGEMM_PARAMS] = {
    "GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
    "NDIMC", "NWG", "SA", "SB", "STRM", "STRN", "VWM", "VWN"};
const char *const rcl_gemm_direct_names[RCL_GEMM_DIRECT_PARAMS] = {
    "KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB", "VWMD", "VWND", "WGD"};
static const char *const routine_names[1] = {"XGEMM_MIN_INDIRECT_SIZE"};

/* Built-in PoCL set. Xgemm is CLBlast's tuner's best on a 2-core AVX-512 PoCL machine (the
 * project's tuning runs); min_indirect 0 sends every GEMM to it. XgemmDirect is then never
 * launched, but it sits in the same program and PoCL compiles all of a program's kernels when
 * CLBlast asks for its binary: with the tuned 64-wide direct tiles that took 31 s of a first
 * run's 65 s (and 19 s more for the variants launched), with CLBlast's own default 8-wide tiles
 * 3 s. The cost falls on `--conv-algo gemm` alone: its steps ran 30% slower through the indirect
 * path (WRN-10-2 28x28x1 b128: 71 against 101 images/s), where the kernel families run 6x
 * faster than either; the linear layers' small GEMMs lost nothing (WRN-10-1 b32 steps). Valid
 * on any device with >= 24 KiB local memory. */
void rcl_gemm_params_builtin(rcl_gemm_params *p) {
    static const rcl_gemm_params builtin = {
        {0, 1, 32, 2, 16, 8, 128, 32, 16, 64, 1, 1, 0, 0, 8, 2}, {1, 8, 8, 8, 8, 1, 1, 1, 1, 8}, 0};
    *p = builtin;
}

static rcl_status override(rcl_device *d, const char *kernel, int n, const char *const *names,
                           const size_t *values) {
    CLBlastStatusCode s = CLBlastOverrideParameters(d->id, kernel, CLBlastPrecisionSingle,
                                                    (size_t)n, (const char **)names, values);
    if (s != CLBlastSuccess)
        return rcl_fail(RCL_ERR_GEMM, "setting CLBlast %s parameters on '%s' failed: %s", kernel,
                        d->info.name, clblast_status_name(s));
    size_t len = strlen(d->gemm_params);
    len += (size_t)snprintf(d->gemm_params + len, sizeof d->gemm_params - len, "%s%s:",
                            len ? " " : "", kernel);
    for (int i = 0; i < n && len < sizeof d->gemm_params; i++)
        len += (size_t)snprintf(d->gemm_params + len, sizeof d->gemm_params - len, "%s%s=%zu",
                                i ? "," : "", names[i], values[i]);
    return RCL_OK;
}

rcl_status rcl_gemm_params_apply(rcl_device *d, const rcl_gemm_params *p, const char *source) {
    d->gemm_params[0] = 0;
    snprintf(d->gemm_source, sizeof d->gemm_source, "%s", source);
    RCL_TRY(override(d, "Xgemm", RCL_GEMM_XGEMM_PARAMS, rcl_gemm_xgemm_names, p->xgemm));
    RCL_TRY(override(d, "XgemmDirect", RCL_GEMM_DIRECT_PARAMS, rcl_gemm_direct_names, p->direct));
    return override(d, "GemmRoutine", 1, routine_names, &p->min_indirect);
}

static int tuned_path(const rcl_device_info *inf, char *out, size_t cap) {
    char dir[4096];
    if (!rcl_cache_dir(dir, sizeof dir))
        return 0;
    uint64_t h = rcl_fnv1a(RCL_FNV_INIT, inf->name, strlen(inf->name));
    h = rcl_fnv1a(h, inf->driver_version, strlen(inf->driver_version));
    h = rcl_fnv1a(h, inf->platform_version, strlen(inf->platform_version));
    snprintf(out, cap, "%s/gemm-tuned-%016llx.txt", dir, (unsigned long long)h);
    return 1;
}

int rcl_gemm_tuned_path(const rcl_device *d, char *out, size_t cap) {
    return tuned_path(&d->info, out, cap);
}

/* File format, one item per line:
 *   robustcl-gemm-tuned 1
 *   device NAME / driver VERSION / platform VERSION   (must match the device)
 *   NAME=VALUE                                        (every parameter exactly once) */
static const char magic[] = "robustcl-gemm-tuned 1";

static int parse_param(rcl_gemm_params *p, unsigned *seen, const char *line) {
    const char *eq = strchr(line, '=');
    if (!eq)
        return 0;
    char *end;
    unsigned long long v = strtoull(eq + 1, &end, 10);
    if (end == eq + 1 || *end || v > (1u << 20))
        return 0;
    size_t len = (size_t)(eq - line);
    for (int i = 0; i < RCL_GEMM_XGEMM_PARAMS + RCL_GEMM_DIRECT_PARAMS + 1; i++) {
        const char *name = i < RCL_GEMM_XGEMM_PARAMS ? rcl_gemm_xgemm_names[i]
                           : i < RCL_GEMM_XGEMM_PARAMS + RCL_GEMM_DIRECT_PARAMS
                               ? rcl_gemm_direct_names[i - RCL_GEMM_XGEMM_PARAMS]
                               : routine_names[0];
        if (strlen(name) != len || strncmp(name, line, len) || (*seen & (1u << i)))
            continue;
        *seen |= 1u << i;
        if (i < RCL_GEMM_XGEMM_PARAMS)
            p->xgemm[i] = (size_t)v;
        else if (i < RCL_GEMM_XGEMM_PARAMS + RCL_GEMM_DIRECT_PARAMS)
            p->direct[i - RCL_GEMM_XGEMM_PARAMS] = (size_t)v;
        else
            p->min_indirect = (size_t)v;
        return 1;
    }
    return 0;
}

static int tuned_load(const rcl_device_info *inf, rcl_gemm_params *p) {
    char path[4200];
    unsigned char *data;
    size_t n;
    if (!tuned_path(inf, path, sizeof path) || rcl_file_read(path, &data, &n) != RCL_OK)
        return 0;
    rcl_gemm_params q;
    unsigned seen = 0;
    int ok = n < 65536 && !memchr(data, 0, n), line_no = 0;
    const char *expect[3] = {inf->name, inf->driver_version, inf->platform_version};
    static const char *const keys[3] = {"device ", "driver ", "platform "};
    for (char *line = (char *)data, *next; ok && line < (char *)data + n; line = next, line_no++) {
        char *nl = memchr(line, '\n', (size_t)((char *)data + n - line));
        next = nl ? nl + 1 : (char *)data + n;
        if (nl)
            *nl = 0;
        else
            ok = 0; /* a truncated last line: an interrupted write */
        if (!ok)
            break;
        if (line_no == 0)
            ok = !strcmp(line, magic);
        else if (line_no <= 3)
            ok = !strncmp(line, keys[line_no - 1], strlen(keys[line_no - 1])) &&
                 !strcmp(line + strlen(keys[line_no - 1]), expect[line_no - 1]);
        else
            ok = parse_param(&q, &seen, line);
    }
    free(data);
    if (!ok || seen != (1u << (RCL_GEMM_XGEMM_PARAMS + RCL_GEMM_DIRECT_PARAMS + 1)) - 1)
        return 0;
    *p = q;
    return 1;
}

int rcl_gemm_tuned_load(const rcl_device *d, rcl_gemm_params *p) { return tuned_load(&d->info, p); }

rcl_status rcl_gemm_tuned_save(const rcl_device *d, const rcl_gemm_params *p) {
    char path[4200], dir[4096], buf[2048];
    if (!rcl_gemm_tuned_path(d, path, sizeof path) || !rcl_cache_dir(dir, sizeof dir))
        return rcl_fail(RCL_ERR_IO, "gemm tuning: no cache directory to store the parameters in (the command "
                        "line's ROBUSTCL_CACHE=0, or rcl_cache_set_dir)");
    int len = snprintf(buf, sizeof buf, "%s\ndevice %s\ndriver %s\nplatform %s\n", magic,
                       d->info.name, d->info.driver_version, d->info.platform_version);
    for (int i = 0; i < RCL_GEMM_XGEMM_PARAMS; i++)
        len += snprintf(buf + len, sizeof buf - (size_t)len, "%s=%zu\n", rcl_gemm_xgemm_names[i],
                        p->xgemm[i]);
    for (int i = 0; i < RCL_GEMM_DIRECT_PARAMS; i++)
        len += snprintf(buf + len, sizeof buf - (size_t)len, "%s=%zu\n", rcl_gemm_direct_names[i],
                        p->direct[i]);
    len += snprintf(buf + len, sizeof buf - (size_t)len, "%s=%zu\n", routine_names[0],
                    p->min_indirect);
    RCL_TRY(rcl_mkdirs(dir));
    return rcl_file_write_atomic(path, buf, (size_t)len);
}

void rcl_gemm_clear_cache(void) { CLBlastClearCache(); }

/* PoCL's set only on PoCL: CLBlast's database has no entry worth using there (2x slower steps
 * measured on WRN-10-2), but the set suits PoCL's compiler only: Intel's CPU runtime ran it at
 * a quarter of PoCL's GFLOP/s (issue 11). Other devices keep CLBlast's own database: its tuned
 * entries on GPUs, its vendor or generic defaults elsewhere. */
static int uses_pocl_set(const rcl_device_info *inf) {
    return !inf->is_gpu && rcl_platform_is_pocl(inf);
}

rcl_status rcl_gemm_setup(rcl_device *d) {
    rcl_gemm_params p;
    d->gemm_params[0] = 0;
    if (d->opt.pin_gemm) {
        rcl_gemm_params_builtin(&p);
        return rcl_gemm_params_apply(d, &p, "pinned");
    }
    /* a tuned file that CLBlast refuses is ignored like a corrupt one */
    if (rcl_gemm_tuned_load(d, &p) && rcl_gemm_params_apply(d, &p, "tuned") == RCL_OK)
        return RCL_OK;
    d->gemm_params[0] = 0;
    if (!uses_pocl_set(&d->info)) {
        snprintf(d->gemm_source, sizeof d->gemm_source, "clblast-database");
        return RCL_OK;
    }
    rcl_gemm_params_builtin(&p);
    return rcl_gemm_params_apply(d, &p, "builtin-pocl");
}

const char *rcl_gemm_params_describe(const rcl_device_info *inf, char *out, size_t cap) {
    static const char *const untuned = "not tuned for this device: run `robustcl tune`";
    rcl_gemm_params p;
    char path[4200], date[32] = "?";
    struct stat st;
    struct tm tm;
    if (tuned_load(inf, &p) && tuned_path(inf, path, sizeof path)) {
        if (stat(path, &st) == 0 && localtime_r(&st.st_mtime, &tm))
            strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm);
        snprintf(out, cap, "tuned (stored %s)", date);
    } else if (uses_pocl_set(inf)) {
        snprintf(out, cap, "built-in set for PoCL CPUs (%s)", untuned);
    } else if (inf->is_gpu) {
        snprintf(out, cap, "CLBlast's database for GPUs (%s)", untuned);
    } else {
        snprintf(out, cap, "CLBlast defaults: %s", untuned);
    }
    return out;
}

const char *rcl_gemm_params_source(const rcl_device *d) { return d->gemm_source; }
const char *rcl_gemm_params_string(const rcl_device *d) { return d->gemm_params; }

/* The shape recorder (rcl_gemm_record). */
static struct {
    const rcl_device *d;
    rcl_gemm_shape *shapes;
    int cap, *count;
} recorder;

void rcl_gemm_record(const rcl_device *d, rcl_gemm_shape *shapes, int cap, int *count) {
    recorder.d = shapes ? d : NULL;
    recorder.shapes = shapes;
    recorder.cap = cap;
    recorder.count = count;
    if (count)
        *count = 0;
}

static void record(const rcl_device *d, int ta, int tb, size_t m, size_t n, size_t k) {
    if (recorder.d != d)
        return;
    for (int i = 0; i < *recorder.count; i++) {
        rcl_gemm_shape *s = &recorder.shapes[i];
        if (s->trans_a == ta && s->trans_b == tb && s->m == m && s->n == n && s->k == k) {
            s->calls++;
            return;
        }
    }
    if (*recorder.count < recorder.cap)
        recorder.shapes[(*recorder.count)++] = (rcl_gemm_shape){ta, tb, m, n, k, 1};
}

rcl_status rcl_gemm(rcl_device *d, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                    float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                    size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc) {
    if (m == 0 || n == 0)
        return RCL_OK;
    record(d, trans_a, trans_b, m, n, k);
    cl_event ev = NULL;
    CLBlastStatusCode s = CLBlastSgemm(
        CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a, a_off, lda, b, b_off,
        ldb, beta, c, c_off, ldc, &d->queue, d->opt.profile ? &ev : NULL);
    if (s != CLBlastSuccess)
        return rcl_fail(s == CLBlastInsufficientMemoryTemp || s == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
                                s == CL_OUT_OF_RESOURCES
                            ? RCL_ERR_DEVICE_MEMORY
                            : RCL_ERR_GEMM,
                        "GEMM %zux%zux%zu (trans %d%d) on '%s' failed: %s", m, n, k, trans_a,
                        trans_b, d->info.name, clblast_status_name(s));
    if (ev)
        rcl_device_profile_event(d, "gemm", ev);
    return RCL_OK;
}
