/* Device discovery, selection, the program binary cache and the GEMM wrapper. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/fileio.h"
#include "robustcl/gemm.h"
#include "robustcl/tensor.h"

static void test_list_and_select(void) {
    rcl_device_info *inf;
    int n = 0;
    CHECK_OK(rcl_device_list(&inf, &n));
    CHECK(n >= 1, "at least one device, got %d", n);
    if (n < 1)
        return;
    rcl_device_options o = {0};
    char sel[32];
    snprintf(sel, sizeof sel, "%d:%d", inf[0].platform_index, inf[0].device_index);
    o.selector = sel;
    rcl_device *d = NULL;
    CHECK_OK(rcl_device_open(&o, &d));
    if (d) {
        CHECK(!strcmp(rcl_device_get_info(d)->name, inf[0].name), "P:D selects that device");
        rcl_device_close(d);
    }
    o.selector = "no-such-device-xyz";
    CHECK_FAILS(rcl_device_open(&o, &d), RCL_ERR_NO_DEVICE);
    CHECK(strstr(rcl_last_error(), "no-such-device-xyz") != NULL, "error names the selector: %s", rcl_last_error());
    CHECK(strstr(rcl_last_error(), "the devices are: ") && strstr(rcl_last_error(), inf[0].name),
          "and lists the devices: %s", rcl_last_error());
    o.selector = "99:0";
    CHECK_FAILS(rcl_device_open(&o, &d), RCL_ERR_NO_DEVICE);
    /* a list: item local_rank mod count (data parallel) */
    char list[64];
    snprintf(list, sizeof list, "no-such-device-xyz,%s", sel);
    o.selector = list;
    o.local_rank = 3;
    CHECK_OK(rcl_device_open(&o, &d));
    rcl_device_close(d);
    o.local_rank = 2;
    CHECK_FAILS(rcl_device_open(&o, &d), RCL_ERR_NO_DEVICE);
    CHECK(strstr(rcl_last_error(), "'no-such-device-xyz'") != NULL, "the rank's item is named: %s", rcl_last_error());
    free(inf);
}

static int count_cache_files(const char *dir, char *first, size_t cap) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/kernels-*.bin 2>/dev/null", dir);
    FILE *p = popen(cmd, "r");
    int n = 0;
    char line[1024];
    while (p && fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        if (n++ == 0)
            snprintf(first, cap, "%s", line);
    }
    if (p)
        pclose(p);
    return n;
}

/* A device of the tests' configuration with the binary cache as asked (1 always, -1 never). */
static rcl_device *open_cached(int binary_cache) {
    rcl_device_options o = rcl_test_run_config()->device;
    o.pin_gemm = 1;
    o.binary_cache = binary_cache; /* 1 also on PoCL, which otherwise caches by itself */
    rcl_device *d = NULL;
    CHECK_OK(rcl_device_open(&o, &d));
    return d;
}

static void test_program_cache(void) {
    char dir[512], file[1024] = "";
    snprintf(dir, sizeof dir, "%s/cache", rcl_test_tmpdir());
    rcl_cache_set_dir(dir);
    rcl_device *d = open_cached(1);
    rcl_device_close(d);
    CHECK(count_cache_files(dir, file, sizeof file) == 1, "one cache entry written in %s", dir);

    /* a warm open reads the entry and leaves it as it is */
    unsigned char *before = NULL, *after = NULL;
    size_t nb = 0, na = 0;
    CHECK_OK(rcl_file_read(file, &before, &nb));
    d = open_cached(1);
    rcl_device_close(d);
    CHECK_OK(rcl_file_read(file, &after, &na));
    CHECK(nb == na && nb > 0 && !memcmp(before, after, nb), "warm open keeps the entry");

    /* a corrupt entry is a miss: the device still opens and the entry is rewritten */
    if (before && nb > 64) {
        before[nb / 2] ^= 0xff;
        CHECK_OK(rcl_file_write_atomic(file, before, nb));
        d = open_cached(1);
        CHECK(d != NULL, "opens despite a corrupt cache entry");
        rcl_device_close(d);
        free(after);
        after = NULL;
        CHECK_OK(rcl_file_read(file, &after, &na));
        /* replaced, not necessarily by as many bytes: PoCL's binary carries the kernels its
         * shared cache has compiled so far, which concurrent tests change */
        CHECK(na > 64 && (na != nb || memcmp(before, after, nb) != 0), "corrupt entry replaced");
        /* a truncated entry too */
        CHECK_OK(rcl_file_write_atomic(file, before, 10));
        d = open_cached(1);
        rcl_device_close(d);
    }
    free(before);
    free(after);

    /* no cache directory (ROBUSTCL_CACHE=0) writes nothing */
    char dir2[600], f2[1024];
    snprintf(dir2, sizeof dir2, "%s/cache-off", rcl_test_tmpdir());
    rcl_cache_set_dir(NULL);
    d = open_cached(1);
    rcl_device_close(d);
    CHECK(count_cache_files(dir2, f2, sizeof f2) == 0, "no cache directory: no entry");
    /* the binary cache off (ROBUSTCL_BINARY_CACHE=0) neither */
    rcl_cache_set_dir(dir2);
    d = open_cached(-1);
    rcl_device_close(d);
    CHECK(count_cache_files(dir2, f2, sizeof f2) == 0, "binary cache off: no entry");
    rcl_cache_set_dir(rcl_test_run_config()->cache_dir);
}

static void test_build_failure(void) {
    /* a kernel directory whose common.cl does not compile: the open fails with RCL_ERR_BUILD */
    char kdir[512], cmd[4096], src[600];
    snprintf(kdir, sizeof kdir, "%s/kernels", rcl_test_tmpdir());
    snprintf(src, sizeof src, "%s/kernels", getenv("RCL_SOURCE_DIR") ? getenv("RCL_SOURCE_DIR") : ".");
    snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s/*.cl %s/ && echo 'this is not OpenCL C;' >> %s/common.cl",
             kdir, src, kdir, kdir);
    CHECK(system(cmd) == 0, "prepare a broken kernel dir");
    rcl_cache_set_dir(NULL);
    rcl_device_options o = {0};
    o.kernel_dir = kdir;
    rcl_device *d = NULL;
    CHECK_FAILS(rcl_device_open(&o, &d), RCL_ERR_BUILD);
    rcl_cache_set_dir(rcl_test_run_config()->cache_dir);
}

static void ref_gemm(int ta, int tb, int m, int n, int k, double alpha, const double *a, const double *b,
                     double beta, double *c) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++)
                s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
            c[i * n + j] = alpha * s + beta * c[i * n + j];
        }
}

static void test_gemm(rcl_device *d) {
    const int shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {64, 300, 144}, {33, 65, 1152}};
    rcl_rng r = rcl_rng_seed(7);
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int m = shapes[si][0], n = shapes[si][1], k = shapes[si][2];
                double *a = malloc(sizeof(double) * m * k), *b = malloc(sizeof(double) * k * n),
                       *c = malloc(sizeof(double) * m * n);
                float *f = malloc(sizeof(float) * (size_t)(m * k + k * n + m * n));
                rcl_fill_uniform(&r, a, (size_t)m * k, -1, 1);
                rcl_fill_uniform(&r, b, (size_t)k * n, -1, 1);
                rcl_fill_uniform(&r, c, (size_t)m * n, -1, 1);
                rcl_tensor ta_, tb_, tc_;
                CHECK_OK(rcl_tensor_create(d, &ta_, "A", 1, m * k));
                CHECK_OK(rcl_tensor_create(d, &tb_, "B", 1, k * n));
                CHECK_OK(rcl_tensor_create(d, &tc_, "C", 1, m * n));
                rcl_to_float(a, f, (size_t)m * k);
                CHECK_OK(rcl_tensor_upload(&ta_, f));
                rcl_to_float(b, f, (size_t)k * n);
                CHECK_OK(rcl_tensor_upload(&tb_, f));
                rcl_to_float(c, f, (size_t)m * n);
                CHECK_OK(rcl_tensor_upload(&tc_, f));
                /* round the inputs as the device sees them */
                rcl_to_float(a, f, (size_t)m * k), rcl_to_double(f, a, (size_t)m * k);
                rcl_to_float(b, f, (size_t)k * n), rcl_to_double(f, b, (size_t)k * n);
                rcl_to_float(c, f, (size_t)m * n), rcl_to_double(f, c, (size_t)m * n);
                CHECK_OK(rcl_gemm(d, ta, tb, m, n, k, 0.5f, ta_.buf, 0, ta ? m : k, tb_.buf, 0, tb ? k : n,
                                  0.25f, tc_.buf, 0, n));
                ref_gemm(ta, tb, m, n, k, 0.5, a, b, 0.25, c);
                CHECK_OK(rcl_tensor_download(&tc_, f));
                char what[64];
                snprintf(what, sizeof what, "gemm %dx%dx%d t%d%d", m, n, k, ta, tb);
                rcl_check_close(what, f, c, (size_t)m * n, 1e-5, 1e-5, 1e-5);
                rcl_tensor_release(&ta_);
                rcl_tensor_release(&tb_);
                rcl_tensor_release(&tc_);
                free(a), free(b), free(c), free(f);
            }
    CHECK(!strcmp(rcl_gemm_params_source(d), "pinned"), "tests pin GEMM parameters");
    CHECK(strstr(rcl_gemm_params_string(d), "XgemmDirect:") != NULL, "parameter string recorded");
    CHECK(rcl_device_mem_in_use(d) == 0, "all tensors released (%zu bytes in use)", rcl_device_mem_in_use(d));
}

static void test_alloc_limit(void) {
    rcl_device_options o = {0};
    o.pin_gemm = 1;
    o.max_device_mem = 1 << 20;
    rcl_device *d = NULL;
    CHECK_OK(rcl_device_open(&o, &d));
    if (!d)
        return;
    rcl_tensor t;
    CHECK_FAILS(rcl_tensor_create(d, &t, "big activations", 2, 1024, 1024), RCL_ERR_DEVICE_MEMORY);
    CHECK(strstr(rcl_last_error(), "big activations") && strstr(rcl_last_error(), "--batch"),
          "OOM names the allocation and suggests a smaller batch: %s", rcl_last_error());
    CHECK_FAILS(rcl_tensor_create(d, &t, "bad", 2, 0, 4), RCL_ERR_INVALID_ARG);
    rcl_device_close(d);
}

int main(void) {
    rcl_test_run_config(); /* in force before the tests change the cache directory */
    test_list_and_select();
    test_program_cache();
    test_build_failure();
    rcl_device *d = rcl_test_device(0);
    test_gemm(d);
    rcl_device_close(d);
    test_alloc_limit();
    return rcl_test_finish();
}
