#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/env.h"
#include "core/fileio.h"
#include "robustcl/ops.h"

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

double *rcl_test_rand_vec_double(rcl_rng *r, size_t n, double lo, double hi) {
    double *x = malloc((n ? n : 1) * sizeof *x);
    rcl_fill_uniform(r, x, n, lo, hi);
    return x;
}

double *rcl_test_rand_vec(rcl_rng *r, size_t n, double lo, double hi) {
    double *x = rcl_test_rand_vec_double(r, n, lo, hi);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)x[i];
    return x;
}

void rcl_test_tensor(rcl_device *d, rcl_tensor *t, const char *what, const double *x, int ndim, const int *shape) {
    CHECK_OK(rcl_tensor_create_shape(d, t, what, ndim, shape));
    if (!t->buf)
        return;
    if (!x) {
        CHECK_OK(rcl_tensor_fill(t, NAN));
        return;
    }
    float *f = malloc(t->n * sizeof *f);
    rcl_to_float(x, f, t->n);
    CHECK_OK(rcl_tensor_upload(t, f));
    free(f);
}

cl_mem rcl_test_int_buf(rcl_device *d, const int *v, size_t n) {
    cl_int e;
    cl_mem m = clCreateBuffer(rcl_device_context(d), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, n * sizeof(cl_int),
                              (void *)v, &e);
    CHECK(e == CL_SUCCESS, "clCreateBuffer for %zu ints: %s", n, rcl_cl_error_name(e));
    return m;
}

float *rcl_test_get(const rcl_tensor *t) {
    float *f = malloc((t->n ? t->n : 1) * sizeof *f);
    CHECK_OK(rcl_tensor_download(t, f));
    return f;
}

double *rcl_test_get_d(const rcl_tensor *t) {
    float *f = rcl_test_get(t);
    double *x = malloc((t->n ? t->n : 1) * sizeof *x);
    rcl_to_double(f, x, t->n);
    free(f);
    return x;
}

void rcl_test_cmp(const char *what, const char *tag, const rcl_tensor *t, const double *want, double atol,
                  double rtol) {
    char name[160];
    snprintf(name, sizeof name, "%s %s", what, tag);
    float *f = rcl_test_get(t);
    rcl_check_close(name, f, want, t->n, 1e-5, atol, rtol);
    free(f);
}

int rcl_test_same_bits(const rcl_tensor *a, const rcl_tensor *b) {
    float *fa = rcl_test_get(a), *fb = rcl_test_get(b);
    int same = a->n == b->n && memcmp(fa, fb, a->n * sizeof(float)) == 0;
    free(fa), free(fb);
    return same;
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

const rcl_run_config *rcl_test_run_config(void) {
    static rcl_run_config run;
    static int read;
    if (!read) {
        const char *python;
        rcl_run_config_init(&run, 0, NULL);
        if (rcl_env_read(&run, &python) != RCL_OK) {
            fprintf(stderr, "FAIL: %s\n", rcl_last_error());
            printf("0 passed, 1 failed\n");
            exit(1);
        }
        rcl_run_config_apply(&run);
        read = 1;
    }
    return &run;
}

rcl_device *rcl_test_device(size_t workspace_cap) {
    rcl_device_options o = rcl_test_run_config()->device;
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

/* ---- the linear classifier of the attack tests ---- */

static rcl_tensor linear_flat(const rcl_tensor *x) {
    rcl_tensor v = *x;
    v.ndim = 2;
    v.shape[1] = (int)(x->n / (size_t)x->shape[0]);
    v.shape[2] = v.shape[3] = 0;
    return v;
}

static rcl_status linear_forward(void *ctx, const rcl_tensor *x, int train, const rcl_tensor **logits) {
    rcl_test_linear *l = ctx;
    (void)train;
    l->last_x = linear_flat(x);
    l->logits.shape[0] = x->shape[0];
    l->logits.n = (size_t)x->shape[0] * l->k;
    *logits = &l->logits;
    return rcl_linear_forward(l->d, &l->last_x, &l->w, &l->b, &l->logits);
}

static rcl_status linear_backward(void *ctx, const rcl_tensor *dlogits, rcl_tensor *dx) {
    rcl_test_linear *l = ctx;
    rcl_tensor dxf = linear_flat(dx);
    return rcl_linear_backward(l->d, &l->last_x, &l->w, dlogits, &dxf, &l->dw, &l->db);
}

void rcl_test_linear_create(rcl_device *d, rcl_test_linear *l, int k, int c, int h, int w, int cap, const float *wt,
                            const float *b) {
    memset(l, 0, sizeof *l);
    l->d = d;
    l->k = k;
    int per = c * h * w;
    CHECK_OK(rcl_tensor_create(d, &l->w, "w", 2, k, per));
    CHECK_OK(rcl_tensor_create(d, &l->dw, "dw", 2, k, per));
    CHECK_OK(rcl_tensor_create(d, &l->b, "b", 1, k));
    CHECK_OK(rcl_tensor_create(d, &l->db, "db", 1, k));
    CHECK_OK(rcl_tensor_create(d, &l->logits, "logits", 2, cap, k));
    CHECK_OK(rcl_tensor_upload(&l->w, wt));
    CHECK_OK(rcl_tensor_upload(&l->b, b));
}

void rcl_test_linear_free(rcl_test_linear *l) {
    rcl_tensor *ts[] = {&l->w, &l->b, &l->dw, &l->db, &l->logits};
    for (int i = 0; i < 5; i++)
        rcl_tensor_release(ts[i]);
}

rcl_classifier rcl_test_linear_classifier(rcl_test_linear *l, int c, int h, int w, int batch) {
    rcl_classifier f = {l, l->d, c, h, w, l->k, batch, linear_forward, linear_backward};
    return f;
}
