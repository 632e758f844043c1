/* The one GEMM entry point: CLBlast SGEMM, row-major, offsets in elements. */
#ifndef ROBUSTCL_GEMM_H
#define ROBUSTCL_GEMM_H

#include "robustcl/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* C[m,n] = alpha * op(A) * op(B) + beta * C. */
rcl_status rcl_gemm(rcl_device *d, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                    float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                    size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc);

/* Applies GEMM parameters at device open: the pinned set, or the tuned set from the cache. */
rcl_status rcl_gemm_setup(rcl_device *d);

/* "pinned", "tuned" or "clblast-database", and the parameter string in force (for provenance). */
const char *rcl_gemm_params_source(const rcl_device *d);
const char *rcl_gemm_params_string(const rcl_device *d);

#ifdef __cplusplus
}
#endif
#endif
