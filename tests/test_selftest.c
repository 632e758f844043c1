/* `robustcl selftest`: every check passes on the test device, the verdict is
 * cached per device and driver, and a failed verdict is what training refuses. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/ops.h"
#include "robustcl/selftest.h"

int main(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/cache", rcl_test_tmpdir());
    setenv("ROBUSTCL_CACHE_DIR", dir, 1);
    rcl_device *d = rcl_test_device(0);
    rcl_selftest_row *rows = NULL;
    int n = 0, failed = -1;
    CHECK_OK(rcl_selftest_run(d, &rows, &n, &failed));
    CHECK(n >= 30 && failed == 0, "%d checks, %d failed", n, failed);
    int ops = 0;
    for (int i = 0; i < n; i++) {
        CHECK(rows[i].pass == (rows[i].rel_err <= 1e-4), "%s verdict matches its error", rows[i].op);
        ops += strstr(rows[i].op, "corrected loss") || strstr(rows[i].op, "eval backward");
    }
    CHECK(ops >= 4, "the self-test covers the corrected loss and the eval-mode backward (%d rows)", ops);
    /* every kernel family, on every pass it implements, on the shapes of its geometries (the
     * channel-vector input gradient: the three stride-1 shapes of five) */
    static const char *const parts[RCL_CONV_PASSES] = {"forward", "backward dx", "backward dw"};
    for (int f = 0; f < rcl_conv_family_count(); f++) {
        rcl_conv_pass p = rcl_conv_family_pass(f);
        char want[64];
        snprintf(want, sizeof want, "conv2d %s (%s", parts[p], rcl_conv_family_name(f));
        int rows_seen = 0;
        for (int i = 0; i < n; i++)
            rows_seen += !strncmp(rows[i].op, want, strlen(want));
        CHECK(rows_seen >= 3, "%s...): %d self-test rows, want >= 3", want, rows_seen);
    }
    char policy[256];
    rcl_conv_policy_string(d, policy, sizeof policy);
    CHECK(!strcmp(policy, "fwd=auto,dx=auto,dw=auto"), "the self-test restores the policy: %s", policy);
    free(rows);
    CHECK(rcl_selftest_cached(d) == -1, "no verdict before one is stored");
    CHECK_OK(rcl_selftest_store(d, 0));
    CHECK(rcl_selftest_cached(d) == 0, "a failed verdict is remembered");
    CHECK_OK(rcl_selftest_store(d, 1));
    CHECK(rcl_selftest_cached(d) == 1, "a passed verdict is remembered");
    rcl_device_close(d);
    return rcl_test_finish();
}
