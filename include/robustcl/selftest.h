/* `robustcl selftest`: the ops of a training step on the chosen device against
 * their C references at a few shapes. Drivers that silently compute wrong results exist; training
 * refuses a device whose cached self-test failed unless forced. */
#ifndef ROBUSTCL_SELFTEST_H
#define ROBUSTCL_SELFTEST_H

#include <stdio.h>

#include "robustcl/device.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcl_selftest_row {
    char op[40], shape[48];
    double rel_err; /* ||device - ref|| / ||ref|| */
    int pass;
} rcl_selftest_row;

/* Runs all checks; rows (malloc'd) and counts returned. RCL_OK even when some fail. */
rcl_status rcl_selftest_run(rcl_device *d, rcl_selftest_row **rows, int *count, int *failed);

/* Cached verdict for this device and driver: 1 passed, 0 failed, -1 unknown. */
int rcl_selftest_cached(const rcl_device *d);
rcl_status rcl_selftest_store(const rcl_device *d, int passed);

/* The gate of every command that trains or evaluates: runs the self-test on the first use of
 * this device and driver (announced as a notice through rcl_log) and stores the
 * verdict; a device whose self-test failed is refused (RCL_ERR_SELFTEST) unless force. */
rcl_status rcl_selftest_gate(rcl_device *d, int force);

#ifdef __cplusplus
}
#endif
#endif
