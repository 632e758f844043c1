#include "robustcl/status.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[1024];

const char *rcl_status_name(rcl_status s) {
    switch (s) {
    case RCL_OK: return "RCL_OK";
    case RCL_ERR_INVALID_ARG: return "RCL_ERR_INVALID_ARG";
    case RCL_ERR_IO: return "RCL_ERR_IO";
    case RCL_ERR_FORMAT: return "RCL_ERR_FORMAT";
    case RCL_ERR_NO_MEMORY: return "RCL_ERR_NO_MEMORY";
    case RCL_ERR_DEVICE_MEMORY: return "RCL_ERR_DEVICE_MEMORY";
    case RCL_ERR_NO_DEVICE: return "RCL_ERR_NO_DEVICE";
    case RCL_ERR_OPENCL: return "RCL_ERR_OPENCL";
    case RCL_ERR_BUILD: return "RCL_ERR_BUILD";
    case RCL_ERR_GEMM: return "RCL_ERR_GEMM";
    case RCL_ERR_NUMERIC: return "RCL_ERR_NUMERIC";
    case RCL_ERR_SELFTEST: return "RCL_ERR_SELFTEST";
    case RCL_ERR_INTERRUPTED: return "RCL_ERR_INTERRUPTED";
    }
    return "RCL_ERR_UNKNOWN";
}

const char *rcl_last_error(void) { return last_error; }

rcl_status rcl_fail(rcl_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

const char *rcl_cl_error_name(int err) {
    switch (err) {
#define E(x, v) case v: return #x;
    E(CL_SUCCESS, 0) E(CL_DEVICE_NOT_FOUND, -1) E(CL_DEVICE_NOT_AVAILABLE, -2)
    E(CL_COMPILER_NOT_AVAILABLE, -3) E(CL_MEM_OBJECT_ALLOCATION_FAILURE, -4)
    E(CL_OUT_OF_RESOURCES, -5) E(CL_OUT_OF_HOST_MEMORY, -6)
    E(CL_PROFILING_INFO_NOT_AVAILABLE, -7) E(CL_MEM_COPY_OVERLAP, -8)
    E(CL_BUILD_PROGRAM_FAILURE, -11) E(CL_MAP_FAILURE, -12)
    E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, -14)
    E(CL_INVALID_VALUE, -30) E(CL_INVALID_DEVICE_TYPE, -31) E(CL_INVALID_PLATFORM, -32)
    E(CL_INVALID_DEVICE, -33) E(CL_INVALID_CONTEXT, -34) E(CL_INVALID_QUEUE_PROPERTIES, -35)
    E(CL_INVALID_COMMAND_QUEUE, -36) E(CL_INVALID_HOST_PTR, -37) E(CL_INVALID_MEM_OBJECT, -38)
    E(CL_INVALID_BINARY, -42) E(CL_INVALID_BUILD_OPTIONS, -43) E(CL_INVALID_PROGRAM, -44)
    E(CL_INVALID_PROGRAM_EXECUTABLE, -45) E(CL_INVALID_KERNEL_NAME, -46)
    E(CL_INVALID_KERNEL_DEFINITION, -47) E(CL_INVALID_KERNEL, -48) E(CL_INVALID_ARG_INDEX, -49)
    E(CL_INVALID_ARG_VALUE, -50) E(CL_INVALID_ARG_SIZE, -51) E(CL_INVALID_KERNEL_ARGS, -52)
    E(CL_INVALID_WORK_DIMENSION, -53) E(CL_INVALID_WORK_GROUP_SIZE, -54)
    E(CL_INVALID_WORK_ITEM_SIZE, -55) E(CL_INVALID_GLOBAL_OFFSET, -56)
    E(CL_INVALID_EVENT_WAIT_LIST, -57) E(CL_INVALID_EVENT, -58) E(CL_INVALID_OPERATION, -59)
    E(CL_INVALID_BUFFER_SIZE, -61) E(CL_INVALID_GLOBAL_WORK_SIZE, -63)
    E(CL_PLATFORM_NOT_FOUND_KHR, -1001)
#undef E
    }
    return "CL_UNKNOWN_ERROR";
}
