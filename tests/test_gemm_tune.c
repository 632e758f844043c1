/* GEMM parameter sets: the built-in set on PoCL only, the tuning cache round trip (write,
 * reload, applied at device open, ignored when corrupt or written for another device, ignored
 * by pinned devices), the description of where a device's set comes from, the shape recorder,
 * and a zero-budget tuning run. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/fileio.h"
#include "core/progress.h"
#include "robustcl/robustcl.h"

static rcl_device *open_unpinned(void) {
    rcl_device_options o = rcl_test_run_config()->device;
    rcl_device *d = NULL;
    CHECK_OK(rcl_device_open(&o, &d));
    return d;
}

/* C = A B on the device (m x k times k x n) against a double-precision product. */
static void check_product(rcl_device *d, int m, int n, int k) {
    rcl_rng r = rcl_rng_seed(11);
    double *ha = malloc(sizeof(double) * m * k), *hb = malloc(sizeof(double) * k * n),
           *want = calloc((size_t)m * n, sizeof(double));
    float *fa = malloc(sizeof(float) * m * k), *fb = malloc(sizeof(float) * k * n),
          *got = malloc(sizeof(float) * m * n);
    rcl_fill_uniform(&r, ha, (size_t)m * k, -1, 1);
    rcl_fill_uniform(&r, hb, (size_t)k * n, -1, 1);
    rcl_to_float(ha, fa, (size_t)m * k);
    rcl_to_float(hb, fb, (size_t)k * n);
    for (int i = 0; i < m; i++)
        for (int l = 0; l < k; l++)
            for (int j = 0; j < n; j++)
                want[i * n + j] += (double)fa[i * k + l] * fb[l * n + j];
    rcl_tensor a = {0}, b = {0}, c = {0};
    CHECK_OK(rcl_tensor_create(d, &a, "A", 2, m, k));
    CHECK_OK(rcl_tensor_create(d, &b, "B", 2, k, n));
    CHECK_OK(rcl_tensor_create(d, &c, "C", 2, m, n));
    CHECK_OK(rcl_tensor_upload(&a, fa));
    CHECK_OK(rcl_tensor_upload(&b, fb));
    CHECK_OK(rcl_gemm(d, 0, 0, (size_t)m, (size_t)n, (size_t)k, 1.0f, a.buf, 0, (size_t)k, b.buf, 0,
                      (size_t)n, 0.0f, c.buf, 0, (size_t)n));
    CHECK_OK(rcl_tensor_download(&c, got));
    rcl_check_close("gemm under tuned parameters", got, want, (size_t)m * n, 1e-5, 1e-4, 1e-4);
    rcl_tensor_release(&a), rcl_tensor_release(&b), rcl_tensor_release(&c);
    free(ha), free(hb), free(want), free(fa), free(fb), free(got);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static char *read_text(const char *path) {
    unsigned char *data = NULL;
    size_t n = 0;
    CHECK_OK(rcl_file_read(path, &data, &n));
    char *s = malloc(n + 1);
    memcpy(s, data, n);
    s[n] = 0;
    free(data);
    return s;
}

static void check_ignored(const char *path, const char *text, const char *why) {
    write_text(path, text);
    rcl_device *d = open_unpinned();
    rcl_gemm_params p;
    CHECK(!rcl_gemm_tuned_load(d, &p), "%s: loaded", why);
    CHECK(strcmp(rcl_gemm_params_source(d), "tuned") != 0, "%s: source %s", why,
          rcl_gemm_params_source(d));
    rcl_device_close(d);
}

int main(void) {
    char cache[4200], path[4400];
    snprintf(cache, sizeof cache, "%s/cache", rcl_test_tmpdir());
    rcl_test_run_config(); /* in force first: this test's own cache directory then replaces it */
    rcl_cache_set_dir(cache);

    /* no tuned file yet */
    rcl_device *d = open_unpinned();
    const rcl_device_info *inf = rcl_device_get_info(d);
    const char *start = rcl_gemm_params_source(d);
    int pocl_cpu = !inf->is_gpu && strstr(inf->platform_name, "Portable Computing Language");
    CHECK(!strcmp(start, pocl_cpu ? "builtin-pocl" : "clblast-database"),
          "source %s on %s (%s): the built-in set is PoCL's only", start, inf->name, inf->platform_name);
    char why[256];
    rcl_gemm_params_describe(inf, why, sizeof why);
    CHECK(strstr(why, "not tuned for this device") && !strncmp(why, pocl_cpu ? "built-in" : "CLBlast", 7),
          "untuned device described as '%s'", why);
    CHECK(rcl_gemm_tuned_path(d, path, sizeof path) && !strncmp(path, cache, strlen(cache)),
          "tuned path %s not under %s", path, cache);

    /* the recorder counts repeated shapes once, with their calls */
    rcl_gemm_shape shapes[4];
    int n = -1;
    rcl_tensor t = {0};
    CHECK_OK(rcl_tensor_create(d, &t, "scratch", 1, 64 * 64));
    rcl_gemm_record(d, shapes, 4, &n);
    CHECK_OK(rcl_gemm(d, 0, 0, 8, 16, 4, 1, t.buf, 0, 4, t.buf, 0, 16, 0, t.buf, 1024, 16));
    CHECK_OK(rcl_gemm(d, 0, 1, 8, 16, 4, 1, t.buf, 0, 4, t.buf, 0, 4, 0, t.buf, 1024, 16));
    CHECK_OK(rcl_gemm(d, 0, 0, 8, 16, 4, 1, t.buf, 0, 4, t.buf, 0, 16, 0, t.buf, 1024, 16));
    rcl_gemm_record(d, NULL, 0, NULL);
    CHECK_OK(rcl_gemm(d, 1, 1, 8, 16, 4, 1, t.buf, 0, 8, t.buf, 0, 4, 0, t.buf, 1024, 16));
    CHECK(n == 2, "recorded %d shapes, expected 2", n);
    CHECK(n >= 2 && shapes[0].calls == 2 && shapes[0].trans_b == 0 && shapes[1].calls == 1 &&
              shapes[1].trans_b == 1 && shapes[1].m == 8 && shapes[1].n == 16 && shapes[1].k == 4,
          "recorded shapes or counts wrong");
    rcl_tensor_release(&t);

    /* zero budget: the starting set is measured and checked, nothing else is tried */
    rcl_gemm_shape tiny[2] = {{0, 0, 16, 64, 9, 1}, {0, 1, 16, 9, 64, 2}};
    rcl_gemm_tune_result r;
    CHECK_OK(rcl_gemm_tune(d, tiny, 2, 0, 1, NULL, NULL, &r));
    CHECK(r.start_ms > 0 && r.best_ms == r.start_ms && r.tried == 0, "start %g best %g tried %d",
          r.start_ms, r.best_ms, r.tried);

    /* save a set that differs from the built-in one in every kernel */
    rcl_gemm_params p, q;
    rcl_gemm_params_builtin(&p);
    p.min_indirect = 384;
    p.direct[1] = 16, p.direct[9] = 32; /* MDIMAD, WGD (32 = 16 x VWMD 2) */
    p.xgemm[14] = 4;                     /* VWM (MWG 128 = MDIMA 16 x 4 x 2) */
    CHECK_OK(rcl_gemm_tuned_save(d, &p));
    rcl_device_close(d);

    d = open_unpinned();
    CHECK(!strcmp(rcl_gemm_params_source(d), "tuned"), "source %s after save",
          rcl_gemm_params_source(d));
    const char *ps = rcl_gemm_params_string(d);
    CHECK(strstr(ps, "XGEMM_MIN_INDIRECT_SIZE=384") && strstr(ps, "MDIMAD=16") && strstr(ps, "WGD=32") && strstr(ps, "VWM=4"),
          "params string lacks the tuned values: %s", ps);
    CHECK(rcl_gemm_tuned_load(d, &q) && !memcmp(&p, &q, sizeof p), "reload differs from saved set");
    rcl_gemm_params_describe(rcl_device_get_info(d), why, sizeof why);
    CHECK(!strncmp(why, "tuned (stored 20", 16), "tuned device described as '%s'", why);
    check_product(d, 33, 70, 45); /* XgemmDirect (below 384^3) under the tuned WGD */
    rcl_device_close(d);

    /* a pinned device (tests) ignores the tuned file */
    d = rcl_test_device(0);
    CHECK(!strcmp(rcl_gemm_params_source(d), "pinned"), "pinned device source %s",
          rcl_gemm_params_source(d));
    rcl_device_close(d);

    /* corrupt files are ignored: truncated, a value missing, another device, garbage */
    char *good = read_text(path);
    size_t len = strlen(good);
    char *bad = malloc(len + 64);
    memcpy(bad, good, len - 1), bad[len - 1] = 0; /* no final newline: interrupted write */
    check_ignored(path, bad, "truncated file");
    char *line = strstr(good, "KWID=");
    snprintf(bad, len + 64, "%.*s%s", (int)(line - good), good, strchr(line, '\n') + 1);
    check_ignored(path, bad, "missing parameter");
    snprintf(bad, len + 64, "%.*sKWID=abc\n%s", (int)(line - good), good, strchr(line, '\n') + 1);
    check_ignored(path, bad, "non-numeric value");
    snprintf(bad, len + 64, "%s%s", good, "WGD=16\n");
    check_ignored(path, bad, "duplicated parameter");
    line = strstr(good, "device ");
    snprintf(bad, len + 64, "%.*sdevice another one\n%s", (int)(line - good), good,
             strchr(line, '\n') + 1);
    check_ignored(path, bad, "another device");
    check_ignored(path, "\x7f" "ELF\1\1\1 not a tuning file\n", "garbage");
    free(bad);

    /* and the good file is taken again */
    write_text(path, good);
    d = open_unpinned();
    CHECK(!strcmp(rcl_gemm_params_source(d), "tuned"), "restored file: source %s",
          rcl_gemm_params_source(d));
    rcl_device_close(d);
    free(good);
    return rcl_test_finish();
}
