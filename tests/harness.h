/* Minimal test harness: counted checks, closeness of arrays, a test device.
 * Every test ends with `return rcl_test_finish();`, which prints
 * "N passed, N failed" and returns the exit status. */
#ifndef RCL_TEST_HARNESS_H
#define RCL_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "robustcl/adversarial.h"
#include "robustcl/device.h"
#include "robustcl/session.h"
#include "robustcl/rng.h"
#include "robustcl/status.h"
#include "robustcl/tensor.h"

extern int rcl_test_passed, rcl_test_failed;

#define CHECK(cond, ...)                                               \
    do {                                                               \
        if (cond) {                                                    \
            rcl_test_passed++;                                         \
        } else {                                                       \
            rcl_test_failed++;                                         \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);        \
            fprintf(stderr, __VA_ARGS__);                              \
            fprintf(stderr, "\n");                                     \
        }                                                              \
    } while (0)

/* Checks that an rcl_status expression is RCL_OK; prints rcl_last_error() if not. */
#define CHECK_OK(expr)                                                                     \
    do {                                                                                   \
        rcl_status s_ = (expr);                                                            \
        CHECK(s_ == RCL_OK, "%s -> %s: %s", #expr, rcl_status_name(s_), rcl_last_error()); \
    } while (0)

/* Checks that `expr` fails with status `want`. */
#define CHECK_FAILS(expr, want)                                                   \
    do {                                                                          \
        rcl_status s_ = (expr);                                                   \
        CHECK(s_ == (want), "%s -> %s, expected %s", #expr, rcl_status_name(s_),  \
              rcl_status_name(want));                                             \
    } while (0)

/* Compares got (float) with want (double): ||got-want||/||want|| <= rel_norm and
 * |got-want| <= atol + rtol*|want| element-wise. Counts one check. */
int rcl_check_close(const char *what, const float *got, const double *want, size_t n,
                    double rel_norm, double atol, double rtol);
/* Same for two double arrays (finite differences, reference vs reference). */
int rcl_check_close_d(const char *what, const double *got, const double *want, size_t n,
                      double rel_norm, double atol, double rtol);

void rcl_fill_uniform(rcl_rng *r, double *x, size_t n, double lo, double hi);
void rcl_to_float(const double *x, float *y, size_t n);
void rcl_to_double(const float *x, double *y, size_t n);

/* n uniform values in [lo,hi) (malloc'd), rounded to float so that a device op and its double
 * reference see the same inputs. */
double *rcl_test_rand_vec(rcl_rng *r, size_t n, double lo, double hi);
/* The same without the rounding, for tests of the double references alone. */
double *rcl_test_rand_vec_double(rcl_rng *r, size_t n, double lo, double hi);

/* A tensor of this shape on d holding x (NULL: filled with NaN, so that an element an op
 * forgets to write shows up). */
void rcl_test_tensor(rcl_device *d, rcl_tensor *t, const char *what, const double *x, int ndim, const int *shape);
/* A device buffer holding v[0..n) as cl_int. */
cl_mem rcl_test_int_buf(rcl_device *d, const int *v, size_t n);
/* The contents of t (malloc'd), as floats and as doubles. */
float *rcl_test_get(const rcl_tensor *t);
double *rcl_test_get_d(const rcl_tensor *t);
/* Device tensor vs the reference, named "what tag": rcl_check_close with rel_norm 1e-5. */
void rcl_test_cmp(const char *what, const char *tag, const rcl_tensor *t, const double *want, double atol,
                  double rtol);
/* 1 when two device tensors have the same size and identical bytes. */
int rcl_test_same_bits(const rcl_tensor *a, const rcl_tensor *b);

/* The run configuration of the tests: the environment read as the command line reads it
 * (src/cli/env.c: ROBUSTCL_DEVICE, ROBUSTCL_KERNEL_CLASS, ROBUSTCL_CACHE_DIR, ...), put in force
 * on the first call. */
const rcl_run_config *rcl_test_run_config(void);

/* The device for tests: the run configuration's, pinned GEMM parameters.
 * workspace_cap 0 = default. Exits the test (status 1) if no device opens. */
rcl_device *rcl_test_device(size_t workspace_cap);

/* Scratch directory for this test (created, unique per process). */
const char *rcl_test_tmpdir(void);

/* 1 when RCL_TEST_SMALL is set (not "0"): device tests then keep every tensor small, for
 * the oclgrind run of CI; the reference comparisons stay the same. */
int rcl_test_small(void);

/* A linear softmax classifier, logits = W x_flat + b, with W [k, c*h*w] and b [k] given: the
 * model the attack tests know the answer of in closed form. */
typedef struct rcl_test_linear {
    rcl_device *d;
    int k;
    rcl_tensor w, b, dw, db, logits, last_x;
} rcl_test_linear;
/* For batches of up to cap images of c x h x w. */
void rcl_test_linear_create(rcl_device *d, rcl_test_linear *l, int k, int c, int h, int w, int cap, const float *wt,
                            const float *b);
void rcl_test_linear_free(rcl_test_linear *l);
/* The model as an attack's classifier for images c x h x w, batches of `batch` (<= cap). */
rcl_classifier rcl_test_linear_classifier(rcl_test_linear *l, int c, int h, int w, int batch);

int rcl_test_finish(void);

#endif
