#include "robustcl/selftest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "core/fileio.h"
#include "core/kernel_sources.h"
#include "ops/op_table.h"
#include "robustcl/rng.h"
#include "robustcl/version.h"

typedef struct {
    rcl_selftest_row *rows;
    int n, cap, failed;
} st_rows;

static void record(void *ctx, const char *op, const char *shape, double rel) {
    st_rows *c = ctx;
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 64;
        rcl_selftest_row *r = realloc(c->rows, (size_t)cap * sizeof *r);
        if (!r) {
            c->failed++; /* a check that cannot be shown does not pass */
            return;
        }
        c->rows = r;
        c->cap = cap;
    }
    rcl_selftest_row *r = &c->rows[c->n++];
    snprintf(r->op, sizeof r->op, "%s", op);
    snprintf(r->shape, sizeof r->shape, "%s", shape);
    r->rel_err = rel;
    r->pass = rel <= RCL_OP_TOL && !isnan(rel);
    c->failed += !r->pass;
}

/* Every row of the op table (src/ops/op_table.c) on each of its shapes. */
rcl_status rcl_selftest_run(rcl_device *d, rcl_selftest_row **rows, int *count, int *failed) {
    st_rows c = {NULL, 0, 0, 0};
    rcl_op_run run = {d, rcl_rng_seed(2019), record, &c};
    rcl_status s = RCL_OK;
    for (int i = 0; i < rcl_op_count && !s; i++) {
        const rcl_op_entry *e = &rcl_op_table[i];
        rcl_device_notice(d, "self-test: %s%s", e->name,
                          e->gemm && i == 0 ? " (its first GEMMs compile CLBlast's kernels: seconds, a "
                                              "minute or more on some CPU runtimes)"
                                            : "");
        s = rcl_op_run_entry(&run, e, 0);
    }
    *rows = c.rows;
    *count = c.n;
    *failed = c.failed;
    return s;
}

static int verdict_path(const rcl_device *d, char *out, size_t cap) {
    char dir[4096];
    if (!rcl_cache_dir(dir, sizeof dir))
        return 0;
    const rcl_device_info *inf = rcl_device_get_info(d);
    uint64_t h = rcl_fnv1a(RCL_FNV_INIT, inf->name, strlen(inf->name));
    h = rcl_fnv1a(h, inf->driver_version, strlen(inf->driver_version));
    h = rcl_fnv1a(h, inf->platform_version, strlen(inf->platform_version));
    /* a verdict holds for the kernels and references it ran: another build tests again */
    h = rcl_fnv1a(h, rcl_version(), strlen(rcl_version()));
    for (int i = 0; i < rcl_kernel_source_count; i++)
        h = rcl_fnv1a(h, rcl_kernel_sources[i].text, strlen(rcl_kernel_sources[i].text));
    snprintf(out, cap, "%s/selftest-%016llx.txt", dir, (unsigned long long)h);
    return 1;
}

int rcl_selftest_cached(const rcl_device *d) {
    char path[4200];
    unsigned char *data;
    size_t n;
    if (!verdict_path(d, path, sizeof path) || rcl_file_read(path, &data, &n) != RCL_OK)
        return -1;
    int v = !strncmp((char *)data, "pass", 4) ? 1 : !strncmp((char *)data, "fail", 4) ? 0 : -1;
    free(data);
    return v;
}

rcl_status rcl_selftest_store(const rcl_device *d, int passed) {
    char path[4200], dir[4096];
    if (!verdict_path(d, path, sizeof path) || !rcl_cache_dir(dir, sizeof dir))
        return RCL_OK;
    RCL_TRY(rcl_mkdirs(dir));
    const char *v = passed ? "pass\n" : "fail\n";
    return rcl_file_write_atomic(path, v, strlen(v));
}

rcl_status rcl_selftest_gate(rcl_device *d, int force) {
    int v = rcl_selftest_cached(d);
    if (v < 0) {
        rcl_selftest_row *rows;
        int n, failed;
        rcl_device_notice(d, "first use of '%s' with this driver: running the self-test",
                          rcl_device_get_info(d)->name);
        RCL_TRY(rcl_selftest_run(d, &rows, &n, &failed));
        free(rows);
        v = failed == 0;
        RCL_TRY(rcl_selftest_store(d, v));
    }
    if (!v && !force)
        return rcl_fail(RCL_ERR_SELFTEST,
                        "'%s' failed its self-test (its driver computes wrong results; see `robustcl selftest`): "
                        "use another device, or --force",
                        rcl_device_get_info(d)->name);
    return RCL_OK;
}
