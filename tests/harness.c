#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"

int rcl_test_passed, rcl_test_failed;

int rcl_check_close_d(const char *what, const double *got, const double *want, size_t n,
                      double rel_norm, double atol, double rtol) {
    double num = 0, den = 0, worst = 0;
    size_t worst_i = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        double diff = got[i] - want[i];
        num += diff * diff;
        den += want[i] * want[i];
        double excess = fabs(diff) - (atol + rtol * fabs(want[i]));
        if (!(excess <= 0)) { /* catches NaN too */
            if (bad == 0 || excess > worst || isnan(excess)) {
                worst = excess;
                worst_i = i;
            }
            bad++;
        }
    }
    double rel = den > 0 ? sqrt(num / den) : sqrt(num);
    int ok = bad == 0 && rel <= rel_norm;
    CHECK(ok, "%s: n=%zu rel_norm=%.3g (max %.1g), %zu elements out of tolerance, worst [%zu] got %.9g want %.9g",
          what, n, rel, rel_norm, bad, worst_i, n ? got[worst_i] : 0.0, n ? want[worst_i] : 0.0);
    return ok;
}

int rcl_check_close(const char *what, const float *got, const double *want, size_t n,
                    double rel_norm, double atol, double rtol) {
    double *g = malloc((n ? n : 1) * sizeof *g);
    if (!g) {
        CHECK(0, "%s: out of memory", what);
        return 0;
    }
    rcl_to_double(got, g, n);
    int ok = rcl_check_close_d(what, g, want, n, rel_norm, atol, rtol);
    free(g);
    return ok;
}

void rcl_fill_uniform(rcl_rng *r, double *x, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * rcl_rng_uniform(r);
}

void rcl_to_float(const double *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++)
        y[i] = (float)x[i];
}

void rcl_to_double(const float *x, double *y, size_t n) {
    for (size_t i = 0; i < n; i++)
        y[i] = x[i];
}

/* oclgrind 21.10 (--uninitialized) keeps a buffer slot's shadow at the size of the first buffer
 * that used the slot, and gives released slots to new buffers: a larger buffer in such a slot reads
 * as uninitialised past the old size (false reports). So with RCL_TEST_OCLGRIND_SLOTS=1 the test
 * device on oclgrind first claims OCLGRIND_SLOTS slots with buffers of OCLGRIND_SLOT_BYTES, each
 * passed unwritten to one kernel launch (which gives it the shadow of a fresh, uninitialised
 * buffer), and releases them; tests keep every buffer below that size when RCL_TEST_SMALL is set.
 * (Only for --uninitialized runs: --data-races costs ~50 bytes of state per buffer byte.) */
#define OCLGRIND_SLOTS 160
#define OCLGRIND_SLOT_BYTES ((size_t)1 << 20)

static void oclgrind_claim_slots(rcl_device *d) {
    cl_mem m[OCLGRIND_SLOTS];
    rcl_status s = RCL_OK;
    int n = 0;
    for (; n < OCLGRIND_SLOTS && s == RCL_OK; n++) {
        s = rcl_device_alloc(d, OCLGRIND_SLOT_BYTES, "oclgrind slot", &m[n]);
        if (s != RCL_OK)
            break;
        size_t one = 1;
        rcl_arg a[] = {RCL_MEM(m[n]), RCL_UINT(0), RCL_UINT(0)}; /* n = 0: writes nothing */
        s = rcl_kernel_run(d, "tensor_fill", 1, &one, NULL, 3, a);
    }
    if (s == RCL_OK)
        s = rcl_device_finish(d);
    for (int i = 0; i < n; i++)
        rcl_device_free(d, m[i], OCLGRIND_SLOT_BYTES);
    if (s != RCL_OK) {
        fprintf(stderr, "FAIL: claiming oclgrind buffer slots: %s\n", rcl_last_error());
        printf("0 passed, 1 failed\n");
        exit(1);
    }
}

rcl_device *rcl_test_device(size_t workspace_cap) {
    rcl_device_options o = {0};
    o.pin_gemm = 1;
    o.workspace_cap = workspace_cap;
    rcl_device *d = NULL;
    rcl_status s = rcl_device_open(&o, &d);
    if (s != RCL_OK) {
        fprintf(stderr, "FAIL: cannot open a test device: %s\n", rcl_last_error());
        printf("0 passed, 1 failed\n");
        exit(1);
    }
    const char *slots = getenv("RCL_TEST_OCLGRIND_SLOTS");
    if (slots && !strcmp(slots, "1") && strstr(rcl_device_get_info(d)->platform_name, "Oclgrind"))
        oclgrind_claim_slots(d);
    return d;
}

const char *rcl_test_tmpdir(void) {
    static char dir[256];
    if (!dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/rcl-test-%ld", base && *base ? base : "/tmp", (long)getpid());
        if (rcl_mkdirs(dir) != RCL_OK) {
            fprintf(stderr, "FAIL: %s\n", rcl_last_error());
            exit(1);
        }
    }
    return dir;
}

int rcl_test_small(void) {
    const char *s = getenv("RCL_TEST_SMALL");
    return s && *s && strcmp(s, "0") != 0;
}

int rcl_test_finish(void) {
    printf("%d passed, %d failed\n", rcl_test_passed, rcl_test_failed);
    return rcl_test_failed == 0 && rcl_test_passed > 0 ? 0 : 1;
}
