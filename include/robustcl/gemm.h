/* The one GEMM entry point: CLBlast SGEMM, row-major, offsets in elements,
 * and the CLBlast parameters in force (built-in, pinned, tuned or CLBlast's database). */
#ifndef ROBUSTCL_GEMM_H
#define ROBUSTCL_GEMM_H

#include <stdint.h>

#include "robustcl/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* C[m,n] = alpha * op(A) * op(B) + beta * C. */
rcl_status rcl_gemm(rcl_device *d, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                    float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                    size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc);

/* Applies GEMM parameters at device open: the pinned set when opt.pin_gemm, else the tuned set
 * from the cache (rcl_gemm_tuned_path), else the built-in set on PoCL's CPU devices and
 * CLBlast's database (its tuned entries, else its defaults) on every other device. */
rcl_status rcl_gemm_setup(rcl_device *d);

/* The CLBlast version robustcl was built with ("1.5.3", from clblast_c.h). */
const char *rcl_gemm_clblast_version(void);

/* "pinned", "builtin-pocl", "tuned" or "clblast-database", and the parameter string in force
 * (for provenance). */
const char *rcl_gemm_params_source(const rcl_device *d);
const char *rcl_gemm_params_string(const rcl_device *d);

/* One complete CLBlast parameter set, in the order of the names below. CLBlast runs a GEMM
 * with m*n*k < min_indirect^3 as the single XgemmDirect kernel, else as Xgemm plus
 * pad/transpose helper kernels ("GemmRoutine" XGEMM_MIN_INDIRECT_SIZE). */
#define RCL_GEMM_XGEMM_PARAMS 16
#define RCL_GEMM_DIRECT_PARAMS 10
typedef struct rcl_gemm_params {
    size_t xgemm[RCL_GEMM_XGEMM_PARAMS];   /* GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC NWG SA SB STRM STRN VWM VWN */
    size_t direct[RCL_GEMM_DIRECT_PARAMS]; /* KWID MDIMAD MDIMCD NDIMBD NDIMCD PADA PADB VWMD VWND WGD */
    size_t min_indirect;
} rcl_gemm_params;
extern const char *const rcl_gemm_xgemm_names[RCL_GEMM_XGEMM_PARAMS];
extern const char *const rcl_gemm_direct_names[RCL_GEMM_DIRECT_PARAMS];

/* Where an unpinned device open takes the device's GEMM parameters from, in words, without
 * opening it: "tuned (stored 2026-12-03 17:10)", "built-in set for PoCL CPUs (not tuned for
 * this device: run `robustcl tune`)", "CLBlast's database for GPUs (...)" or "CLBlast
 * defaults: not tuned for this device: run `robustcl tune`". Writes out[0..cap); returns out. */
const char *rcl_gemm_params_describe(const rcl_device_info *inf, char *out, size_t cap);

/* The built-in set for PoCL's CPU devices (also the pinned set of tests, on every device). */
void rcl_gemm_params_builtin(rcl_gemm_params *p);
/* Puts p in force on d (CLBlastOverrideParameters) and records `source` as its provenance. */
rcl_status rcl_gemm_params_apply(rcl_device *d, const rcl_gemm_params *p, const char *source);

/* Tuning cache: one file per device, driver and platform version in rcl_cache_dir.
 * path returns 0 when caching is disabled. load returns 1 and fills p only for a complete
 * file written for this device; anything else (absent, corrupt, another device) gives 0. */
int rcl_gemm_tuned_path(const rcl_device *d, char *out, size_t cap);
int rcl_gemm_tuned_load(const rcl_device *d, rcl_gemm_params *p);
rcl_status rcl_gemm_tuned_save(const rcl_device *d, const rcl_gemm_params *p);

/* A GEMM a workload runs and how many times (the tuning objective). */
typedef struct rcl_gemm_shape {
    int trans_a, trans_b;
    size_t m, n, k;
    int calls;
} rcl_gemm_shape;

/* While recording, every rcl_gemm on d also adds its shape to shapes[0..cap) (repeats count
 * in .calls; shapes past cap are dropped). Pass shapes == NULL to stop. One recorder per
 * process; not thread-safe. */
void rcl_gemm_record(const rcl_device *d, rcl_gemm_shape *shapes, int cap, int *count);

/* Random search over CLBlast parameters for the shapes (sum of calls x time), each candidate
 * checked against a double-precision product on sampled entries. Starts from the set in force;
 * stops after budget_seconds (at least the starting set is measured). On return the best set
 * is in force on d when best_known (else the last candidate: reopen the device). progress (may be NULL) is called after each candidate. */
typedef struct rcl_gemm_tune_result {
    rcl_gemm_params best;
    int best_known;            /* 0: nothing beat CLBlast's database (GPU start) */
    double start_ms, best_ms;  /* objective: ms per workload pass */
    int tried, failed;         /* candidates measured; rejected (build error or wrong result) */
} rcl_gemm_tune_result;
rcl_status rcl_gemm_tune(rcl_device *d, const rcl_gemm_shape *shapes, int nshapes,
                         double budget_seconds, uint64_t seed,
                         void (*progress)(const rcl_gemm_tune_result *r, void *ctx), void *ctx,
                         rcl_gemm_tune_result *out);

#ifdef __cplusplus
}
#endif
#endif
