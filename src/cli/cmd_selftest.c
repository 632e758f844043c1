#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "robustcl/selftest.h"

int rcl_cmd_selftest(int argc, char **argv) {
    const rcl_cli_option opts[] = {
        RCL_CLI_DEVICE("P:D or a name substring (default $ROBUSTCL_DEVICE, first GPU, first device)"),
    };
    const rcl_cli_spec spec = {
        "selftest",
        "usage: robustcl selftest [--device SEL]\n\nRuns every device op of the op table (docs/ops.md) on the "
        "device against its plain-C\nreference at a few shapes (every convolution algorithm on each pass it "
        "implements, batch\nnorm in train, eval, split and synchronised form, the head, losses, count_correct, "
        "dropout,\nSGD, the finite check, the attack kernels) and prints a pass/fail table (relative error\n"
        "<= 1e-4 passes). The verdict is cached per device and driver; train, eval and the suites\nrefuse a "
        "device whose self-test failed unless given --force.\n\n",
        opts, RCL_CLI_COUNT(opts), 23, NULL, NULL};
    int rc;
    if (rcl_cli_parse(&spec, argc, argv, &rc))
        return rc;
    rcl_device *d;
    if (rcl_cli_open_device(NULL, 0, &d) != RCL_OK)
        return rcl_cli_error();
    rcl_selftest_row *rows = NULL;
    int n = 0, failed = 0;
    double t0 = rcl_now();
    rcl_status s = rcl_selftest_run(d, &rows, &n, &failed);
    if (s != RCL_OK) {
        rcl_device_close(d);
        free(rows);
        return rcl_cli_error();
    }
    printf("self-test on %s (%s)\n", rcl_device_get_info(d)->name, rcl_device_get_info(d)->driver_version);
    printf("%-28s %-22s %12s  %s\n", "op", "shape", "rel. error", "result");
    for (int i = 0; i < n; i++)
        printf("%-28s %-22s %12.2e  %s\n", rows[i].op, rows[i].shape, rows[i].rel_err, rows[i].pass ? "pass" : "FAIL");
    printf("%d passed, %d failed (%.1f s)\n", n - failed, failed, rcl_now() - t0);
    rcl_selftest_store(d, failed == 0);
    free(rows);
    rcl_device_close(d);
    return failed ? 1 : 0;
}
