/* Status codes and the per-thread error message. Library code never exits:
 * every fallible call returns an rcl_status and leaves a one-line message
 * (naming the file, tensor or device involved) in rcl_last_error(). */
#ifndef ROBUSTCL_STATUS_H
#define ROBUSTCL_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RCL_OK = 0,
    RCL_ERR_INVALID_ARG,   /* caller passed something wrong (shape, option) */
    RCL_ERR_IO,            /* open/read/write/rename failed */
    RCL_ERR_FORMAT,        /* a file is malformed, truncated or of another kind */
    RCL_ERR_NO_MEMORY,     /* host allocation failed */
    RCL_ERR_DEVICE_MEMORY, /* device allocation failed */
    RCL_ERR_NO_DEVICE,     /* no OpenCL platform/device, or the selector matched none */
    RCL_ERR_OPENCL,        /* an OpenCL call failed */
    RCL_ERR_BUILD,         /* kernel program failed to build */
    RCL_ERR_GEMM,          /* CLBlast returned an error */
    RCL_ERR_NUMERIC,       /* NaN/Inf detected */
    RCL_ERR_SELFTEST,      /* device failed its self-test */
    RCL_ERR_INTERRUPTED,   /* stopped on request (SIGINT) */
} rcl_status;

/* Short stable name of a status, e.g. "RCL_ERR_FORMAT". */
const char *rcl_status_name(rcl_status s);

/* The message of the last failure on this thread ("" if none). */
const char *rcl_last_error(void);

/* Records a message for rcl_last_error() and returns s (for `return rcl_fail(...)`). */
rcl_status rcl_fail(rcl_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Name of an OpenCL error code, e.g. "CL_OUT_OF_RESOURCES". */
const char *rcl_cl_error_name(int err);

#define RCL_TRY(expr)                      \
    do {                                   \
        rcl_status rcl_try_s_ = (expr);    \
        if (rcl_try_s_ != RCL_OK)          \
            return rcl_try_s_;             \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
