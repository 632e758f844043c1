/* Repeated open/close leaks nothing: CYCLES times open the device, create and initialise a
 * WRN-10-1, train one epoch (2 steps), evaluate, free the model, close the device. The
 * resident set (/proc/self/statm) jitters by megabytes from cycle to cycle (allocator and
 * driver pools), so growth is taken between the floors (minimum) of two WINDOW-cycle windows:
 * right after WARMUP cycles and at the end. It must stay below MAX_GROWTH_KIB per cycle: a
 * leaked model, tensor or GEMM program per cycle is far more (CLBlast's per-context programs
 * were 6.7 MB). Small host leaks are LeakSanitizer's part: sanitizer builds skip the RSS bound
 * (ASan's quarantine holds freed memory on purpose) and tests/CMakeLists.txt runs this test
 * with detect_leaks=1 there. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "robustcl/model.h"
#include "robustcl/train.h"

#define CYCLES 80
#define WARMUP 10
#define WINDOW 10
/* measured: 0-7 KiB per cycle, plus now and then a one-off step of ~2 MB (a malloc arena) */
#define MAX_GROWTH_KIB 64.0

#if defined(__SANITIZE_ADDRESS__)
#define RCL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RCL_ASAN 1
#endif
#endif

static long rss_kib(void) {
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    if (f)
        fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static long floor_of(const long *v, int n) {
    long m = v[0];
    for (int i = 1; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

/* One cycle; *left: device memory still allocated once the model is freed (the workspace). */
static int cycle(const rcl_dataset *ds, uint64_t seed, size_t *left) {
    rcl_device *d = rcl_test_device(0);
    rcl_wrn_config cfg = {10, 1, 1, 8, 8, 2, 0.0f, 1};
    rcl_model *m = NULL;
    rcl_train_config tc = rcl_train_defaults();
    tc.epochs = 1;
    tc.batch = 16;
    tc.augment = 0;
    rcl_train_result res;
    double err = 1;
    const rcl_normalization half = rcl_normalization_half();
    int ok = rcl_model_create(d, &cfg, 16, &m) == RCL_OK && rcl_model_init(m, seed) == RCL_OK &&
             rcl_train(m, ds, NULL, 0, &tc, &res) == RCL_OK &&
             rcl_evaluate(m, ds, NULL, 0, &half, NULL, &err) == RCL_OK;
    if (!ok)
        fprintf(stderr, "cycle %llu: %s\n", (unsigned long long)seed, rcl_last_error());
    rcl_model_free(m);
    *left = rcl_device_mem_in_use(d);
    rcl_device_close(d);
    return ok;
}

int main(void) {
    rcl_dataset ds;
    CHECK_OK(rcl_dataset_alloc(&ds, 32, 1, 8, 8, 2, 0));
    rcl_rng r = rcl_rng_seed(5);
    for (int i = 0; i < 32 * 64; i++)
        ds.pixels[i] = (uint8_t)rcl_rng_below(&r, 256);
    for (int i = 0; i < 32; i++)
        ds.labels[i] = i % 2;
    long rss[CYCLES];
    int failed = 0, kept_more = 0;
    size_t left0 = 0;
    for (int c = 0; c < CYCLES; c++) {
        size_t left = 0;
        failed += !cycle(&ds, (uint64_t)c + 1, &left);
        if (c == 0)
            left0 = left;
        kept_more += left != left0;
        rss[c] = rss_kib();
    }
    CHECK(failed == 0, "%d of %d cycles failed", failed, CYCLES);
    CHECK(kept_more == 0, "%d cycles left other than %zu bytes of device memory after freeing the model", kept_more,
          left0);
    long early = floor_of(rss + WARMUP, WINDOW), late = floor_of(rss + CYCLES - WINDOW, WINDOW);
    CHECK(early > 0 && late > 0, "/proc/self/statm readable");
    double per_cycle = (double)(late - early) / (CYCLES - WINDOW - WARMUP);
    printf("RSS: %ld KiB after cycle 1; floor %ld KiB over cycles %d-%d, %ld KiB over cycles %d-%d: "
           "%.2f KiB per cycle (bound %.0f)\n",
           rss[0], early, WARMUP + 1, WARMUP + WINDOW, late, CYCLES - WINDOW + 1, CYCLES, per_cycle,
           MAX_GROWTH_KIB);
#ifdef RCL_ASAN
    printf("sanitizer build: RSS bound not applied (LeakSanitizer checks at exit)\n");
#else
    CHECK(per_cycle <= MAX_GROWTH_KIB, "RSS grows %.2f KiB per open/train/close cycle after warm-up (bound %.0f)",
          per_cycle, MAX_GROWTH_KIB);
#endif
    rcl_dataset_free(&ds);
    return rcl_test_finish();
}
