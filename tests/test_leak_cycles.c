/* Repeated open/close leaks nothing: CYCLES times open the device, create and initialise a
 * WRN-10-1, train one epoch (2 steps), evaluate, free the model, close the device. Growth is
 * taken between the floors (minimum) of two WINDOW-cycle windows, right after WARMUP cycles and
 * at the end, for two measures:
 * - the heap in use (mallinfo2: bytes handed out and not freed), bounded tightly. It counts a
 *   leaked model, tensor or GEMM program (PoCL's buffers are host allocations; CLBlast's
 *   per-context programs were 6.7 MB) and nothing of the allocator's own bookkeeping.
 * - the resident set (/proc/self/statm), bounded loosely, as a backstop for memory that is not
 *   malloc's (mappings). It jitters by megabytes: freed memory that arenas keep, and more of it
 *   under load, when the driver's worker threads spread over more arenas (CI saw 92 KiB per
 *   cycle on a loaded machine with no leak, while the heap in use stayed flat).
 * Small host leaks are LeakSanitizer's part: sanitizer builds skip both bounds (ASan's
 * quarantine holds freed memory on purpose) and tests/CMakeLists.txt runs this test with
 * detect_leaks=1 there. */
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <unistd.h>

#include "harness.h"
#include "robustcl/model.h"
#include "robustcl/train.h"

#define CYCLES 80
#define WARMUP 10
#define WINDOW 10
/* measured on PoCL (AMD EPYC, idle and with 3 busy loops beside it): heap 0.8 KiB per cycle
 * (the driver's), RSS 0-119 KiB; CI saw RSS 92 KiB */
#define MAX_HEAP_GROWTH_KIB 16.0
#define MAX_RSS_GROWTH_KIB 1024.0

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

/* bytes the allocator has handed out and not had back: unlike RSS, free memory that an arena
 * keeps (fragmentation, per-thread arenas of the driver's worker threads) does not count */
static long heap_kib(void) {
    struct mallinfo2 mi = mallinfo2();
    return (long)((mi.uordblks + mi.hblkhd) / 1024);
}

#ifndef RCL_ASAN
static long floor_of(const long *v, int n) {
    long m = v[0];
    for (int i = 1; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

/* KiB per cycle between the floors of the first window after warm-up and the last window */
static double growth_per_cycle(const char *what, const long *v, double bound) {
    long early = floor_of(v + WARMUP, WINDOW), late = floor_of(v + CYCLES - WINDOW, WINDOW);
    CHECK(early > 0 && late > 0, "%s readable", what);
    double per_cycle = (double)(late - early) / (CYCLES - WINDOW - WARMUP);
    printf("%s: %ld KiB after cycle 1; floor %ld KiB over cycles %d-%d, %ld KiB over cycles %d-%d: "
           "%.2f KiB per cycle (bound %.0f)\n",
           what, v[0], early, WARMUP + 1, WARMUP + WINDOW, late, CYCLES - WINDOW + 1, CYCLES, per_cycle, bound);
    return per_cycle;
}
#endif

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
    long rss[CYCLES], heap[CYCLES];
    int failed = 0, kept_more = 0;
    size_t left0 = 0;
    for (int c = 0; c < CYCLES; c++) {
        size_t left = 0;
        failed += !cycle(&ds, (uint64_t)c + 1, &left);
        if (c == 0)
            left0 = left;
        kept_more += left != left0;
        rss[c] = rss_kib();
        heap[c] = heap_kib();
    }
    CHECK(failed == 0, "%d of %d cycles failed", failed, CYCLES);
    CHECK(kept_more == 0, "%d cycles left other than %zu bytes of device memory after freeing the model", kept_more,
          left0);
#ifdef RCL_ASAN
    printf("sanitizer build: growth bounds not applied (LeakSanitizer checks at exit)\n");
    (void)rss, (void)heap;
#else
    double rss_growth = growth_per_cycle("RSS", rss, MAX_RSS_GROWTH_KIB);
    double heap_growth = growth_per_cycle("heap in use", heap, MAX_HEAP_GROWTH_KIB);
    CHECK(heap_growth <= MAX_HEAP_GROWTH_KIB,
          "heap in use grows %.2f KiB per open/train/close cycle after warm-up (bound %.0f)", heap_growth,
          MAX_HEAP_GROWTH_KIB);
    CHECK(rss_growth <= MAX_RSS_GROWTH_KIB, "RSS grows %.2f KiB per open/train/close cycle after warm-up (bound %.0f)",
          rss_growth, MAX_RSS_GROWTH_KIB);
#endif
    rcl_dataset_free(&ds);
    return rcl_test_finish();
}
