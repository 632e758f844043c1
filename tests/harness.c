#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "robustcl/fileio.h"

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

int rcl_test_finish(void) {
    printf("%d passed, %d failed\n", rcl_test_passed, rcl_test_failed);
    return rcl_test_failed == 0 && rcl_test_passed > 0 ? 0 : 1;
}
