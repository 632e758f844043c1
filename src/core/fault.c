/* Fault injection for the reliability tests (tests/cli_badinput.sh, cli_resume.sh, the MPI
 * tests). This file is the library's only reader of the environment: its variables exist to
 * make the library fail on purpose, which no option should offer (README "Environment").
 * ROBUSTCL_INJECT, read once per process:
 *   alloc[:N]        the Nth (default the first) and every later buffer allocation fails with
 *                    CL_MEM_OBJECT_ALLOCATION_FAILURE;
 *   lost-device[:N]  the Nth and every later kernel launch and clFinish fail with
 *                    CL_DEVICE_NOT_AVAILABLE, as on a GPU that was reset;
 *   build            the program build fails as a broken driver's would (program.c).
 * PoCL overcommits memory and never loses its device, so these faults cannot be made otherwise.
 * ROBUSTCL_FAIL_WRITE_AFTER (fileio.c) and ROBUSTCL_DIST_FAULT (src/parallel/dist.c): below. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"

static struct {
    rcl_fault kind; /* RCL_FAULT_NONE when unset */
    long at;
    atomic_long calls;
} plan;
static atomic_int plan_read;

static void read_plan(void) {
    static const char *names[] = {"alloc", "lost-device", "build"};
    static const rcl_fault kinds[] = {RCL_FAULT_ALLOC, RCL_FAULT_LOST, RCL_FAULT_BUILD};
    const char *v = getenv("ROBUSTCL_INJECT");
    plan.kind = RCL_FAULT_NONE;
    for (int i = 0; v && i < 3; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(v, names[i], n) == 0 && (v[n] == 0 || v[n] == ':')) {
            plan.kind = kinds[i];
            plan.at = v[n] == ':' ? atol(v + n + 1) : 1;
        }
    }
}

static void ensure_plan(void) {
    /* Several threads may race here only to read the same variable into the same values. */
    if (!atomic_load(&plan_read)) {
        read_plan();
        atomic_store(&plan_read, 1);
    }
}

cl_int rcl_fault_inject(rcl_fault kind) {
    static const cl_int codes[] = {CL_SUCCESS, CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_DEVICE_NOT_AVAILABLE,
                                   CL_BUILD_PROGRAM_FAILURE};
    ensure_plan();
    if (plan.kind != kind || kind == RCL_FAULT_NONE)
        return CL_SUCCESS;
    if (kind == RCL_FAULT_BUILD)
        return codes[kind];
    return atomic_fetch_add(&plan.calls, 1) + 1 >= plan.at ? codes[kind] : CL_SUCCESS;
}

const char *rcl_fault_hint(cl_int e) {
    if (e == CL_DEVICE_NOT_AVAILABLE || e == CL_OUT_OF_RESOURCES)
        return "the device was lost, reset or is out of resources: check the driver (dmesg, "
               "nvidia-smi / rocm-smi), close other programs using it, then rerun (train: --resume)";
    return "check the driver with `robustcl devices` and `robustcl selftest`, or choose another --device";
}

long long rcl_fault_write_budget(void) {
    const char *v = getenv("ROBUSTCL_FAIL_WRITE_AFTER");
    char *end;
    long long n = v && *v ? strtoll(v, &end, 10) : -1;
    return n >= 0 && v && !*end ? n : -1;
}

const char *rcl_fault_dist(void) {
    const char *v = getenv("ROBUSTCL_DIST_FAULT");
    return v && *v ? v : NULL;
}
