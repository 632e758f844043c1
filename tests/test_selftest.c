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
    /* every kernel family this device runs (the GPU family only on the GPU kernel class), on
     * every pass it implements, on the op table's shapes */
    static const char *const parts[RCL_CONV_PASSES] = {"forward", "backward dx", "backward dw"};
    rcl_conv_shape probe = {2, 16, 8, 8, 32, 3, 3, 1, 1};
    for (int f = 0; f < rcl_conv_family_count(); f++) {
        rcl_conv_pass p = rcl_conv_family_pass(f);
        char cands[16][RCL_CONV_CONFIG_LEN], want[64];
        int nc = rcl_conv_candidates(d, &probe, p, cands, 16), runs_here = 0;
        size_t len = strlen(rcl_conv_family_name(f));
        for (int i = 0; i < nc; i++)
            runs_here |= !strncmp(cands[i], rcl_conv_family_name(f), len);
        snprintf(want, sizeof want, "conv2d %s (%s", parts[p], rcl_conv_family_name(f));
        int rows_seen = 0;
        for (int i = 0; i < n; i++)
            rows_seen += !strncmp(rows[i].op, want, strlen(want));
        CHECK(runs_here ? rows_seen >= 5 : rows_seen == 0, "%s...): %d self-test rows, want %s", want,
              rows_seen, runs_here ? ">= 5" : "none (not on this device)");
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
