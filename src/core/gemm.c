#include <clblast_c.h>
#include <stdio.h>
#include <string.h>

#include "device_internal.h"
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

typedef struct {
    const char *kernel;
    int n;
    const char *names[16];
    size_t values[16];
} param_set;

/* Pinned parameters: CLBlast's tuner's best on a 2-core AVX-512 PoCL machine
 * (../shared/PERFORMANCE-NOTES.md); valid on any device with >= 24 KiB local memory. */
static const param_set pinned[] = {
    {"Xgemm", 16,
     {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB", "NDIMC", "NWG", "SA", "SB",
      "STRM", "STRN", "VWM", "VWN"},
     {0, 1, 32, 2, 16, 8, 128, 32, 16, 64, 1, 1, 0, 0, 8, 2}},
    {"XgemmDirect", 10,
     {"KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB", "VWMD", "VWND", "WGD"},
     {2, 32, 8, 8, 8, 0, 1, 2, 4, 64}},
};

static rcl_status apply(rcl_device *d, const param_set *p) {
    CLBlastStatusCode s = CLBlastOverrideParameters(d->id, p->kernel, CLBlastPrecisionSingle,
                                                    (size_t)p->n, (const char **)p->names, p->values);
    if (s != CLBlastSuccess)
        return rcl_fail(RCL_ERR_GEMM, "setting CLBlast %s parameters on '%s' failed: %s", p->kernel,
                        d->info.name, clblast_status_name(s));
    size_t len = strlen(d->gemm_params);
    len += (size_t)snprintf(d->gemm_params + len, sizeof d->gemm_params - len, "%s%s:",
                            len ? " " : "", p->kernel);
    for (int i = 0; i < p->n && len < sizeof d->gemm_params; i++)
        len += (size_t)snprintf(d->gemm_params + len, sizeof d->gemm_params - len, "%s%s=%zu",
                                i ? "," : "", p->names[i], p->values[i]);
    return RCL_OK;
}

rcl_status rcl_gemm_setup(rcl_device *d) {
    d->gemm_params[0] = 0;
    /* CLBlast's database has no entry worth using for PoCL CPUs (2x slower steps
     * measured on WRN-10-2); GPUs keep CLBlast's own tuned database. */
    if (!d->opt.pin_gemm && d->info.is_gpu) {
        snprintf(d->gemm_source, sizeof d->gemm_source, "clblast-database");
        return RCL_OK;
    }
    snprintf(d->gemm_source, sizeof d->gemm_source, d->opt.pin_gemm ? "pinned" : "builtin-cpu");
    for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++)
        RCL_TRY(apply(d, &pinned[i]));
    return RCL_OK;
}

const char *rcl_gemm_params_source(const rcl_device *d) { return d->gemm_source; }
const char *rcl_gemm_params_string(const rcl_device *d) { return d->gemm_params; }

rcl_status rcl_gemm(rcl_device *d, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                    float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                    size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc) {
    if (m == 0 || n == 0)
        return RCL_OK;
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
