/* Fault injection for the reliability tests (fault.c): the one place where the library reads
 * the environment, and only variables that exist to make it fail on purpose. */
#ifndef RCL_FAULT_H
#define RCL_FAULT_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

/* ROBUSTCL_INJECT: device faults. */
typedef enum { RCL_FAULT_NONE, RCL_FAULT_ALLOC, RCL_FAULT_LOST, RCL_FAULT_BUILD } rcl_fault;
/* The OpenCL error to pretend for this call of kind, or CL_SUCCESS. */
cl_int rcl_fault_inject(rcl_fault kind);
/* What to try after an OpenCL call failed with e. */
const char *rcl_fault_hint(cl_int e);

/* ROBUSTCL_FAIL_WRITE_AFTER=N: the bytes this process may write through rcl_atomic_write before
 * every write fails as on a full disk; -1: no limit. */
long long rcl_fault_write_budget(void);

/* ROBUSTCL_DIST_FAULT=RANK:STEP:exit|hang (the text, or NULL): an MPI rank that dies or hangs. */
const char *rcl_fault_dist(void);

#endif
