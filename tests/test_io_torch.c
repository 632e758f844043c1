/* PyTorch state_dict import from files written by torch.save in both serialisations
 * (tests/data/gen_io_torch.py): names with 'module.' stripped, views of shared storages,
 * dtype conversion, checkpoint dicts, refusal of pickled code, corruption sweeps. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/fileio.h"
#include "robustcl/torch_import.h"

static char *fixture(const char *name) {
    static char path[2][1024];
    static int k;
    const char *dir = getenv("RCL_TEST_DATA");
    char *p = path[k++ % 2];
    snprintf(p, sizeof path[0], "%s/%s", dir ? dir : "tests/data", name);
    return p;
}

typedef struct {
    char name[128], dtype[8];
    int ndim;
    int64_t shape[8];
    size_t numel;
    float *v;
} expect;

static expect exp_t[64];
static int n_exp;

static void read_expected(void) {
    FILE *f = fopen(fixture("io_torch_expected.txt"), "r");
    CHECK(f != NULL, "io_torch_expected.txt opens");
    if (!f)
        return;
    char line[8192];
    while (fgets(line, sizeof line, f) && n_exp < 64) {
        if (line[0] == '#')
            continue;
        expect *e = &exp_t[n_exp];
        char *s = line, *end;
        int used = 0;
        if (sscanf(s, "%127s %7s %d%n", e->name, e->dtype, &e->ndim, &used) != 3)
            continue;
        s += used;
        for (int d = 0; d < e->ndim; d++)
            e->shape[d] = strtoll(s, &s, 10);
        e->numel = strtoul(s, &s, 10);
        e->v = malloc((e->numel + 1) * sizeof(float));
        for (size_t i = 0; i < e->numel; i++) {
            e->v[i] = strtof(s, &end);
            s = end;
        }
        n_exp++;
    }
    fclose(f);
    CHECK(n_exp == 14, "14 expected tensors, read %d", n_exp);
}

static void check_state(const char *what, const rcl_torch_state *st) {
    CHECK(st->n == (size_t)n_exp, "%s: %zu tensors, want %d", what, st->n, n_exp);
    for (int i = 0; i < n_exp && (size_t)i < st->n; i++) {
        const expect *e = &exp_t[i];
        const rcl_torch_tensor *t = &st->t[i];
        int same = !strcmp(t->name, e->name) && t->ndim == e->ndim && t->numel == e->numel &&
                   !strcmp(rcl_st_dtype_name(t->src_dtype), e->dtype);
        for (int d = 0; same && d < e->ndim; d++)
            same = t->shape[d] == e->shape[d];
        CHECK(same, "%s: tensor %d is %s (%s, %d dims), want %s (%s)", what, i, t->name,
              rcl_st_dtype_name(t->src_dtype), t->ndim, e->name, e->dtype);
        if (same)
            CHECK(!memcmp(t->data, e->v, e->numel * sizeof(float)), "%s: values of %s", what, e->name);
    }
    CHECK(rcl_torch_find(st, "fc.bias") && !rcl_torch_find(st, "module.fc.bias"), "%s: module. stripped", what);
}

static void test_formats(void) {
    const char *files[] = {"io_torch_zip.pt", "io_torch_legacy.pt", "io_torch_ckpt.pt"};
    for (int i = 0; i < 3; i++) {
        rcl_torch_state st = {0};
        CHECK_OK(rcl_torch_load(fixture(files[i]), &st));
        check_state(files[i], &st);
        rcl_torch_state_free(&st);
        CHECK(st.n == 0 && st.t == NULL, "freed state is empty");

        unsigned char *buf;
        size_t n;
        CHECK_OK(rcl_file_read(fixture(files[i]), &buf, &n));
        CHECK_OK(rcl_torch_load_memory(buf, n, files[i], &st));
        check_state(files[i], &st);
        rcl_torch_state_free(&st);
        free(buf);
    }
}

static void test_refusals(void) {
    rcl_torch_state st = {0};
    CHECK_FAILS(rcl_torch_load(fixture("io_torch_evil.pt"), &st), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "system") && strstr(rcl_last_error(), "not allowed"),
          "names the refused global: %s", rcl_last_error());
    CHECK(st.n == 0 && st.t == NULL, "nothing returned");
    CHECK_FAILS(rcl_torch_load(fixture("io_pickle_cifar10_py2.pkl"), &st), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "magic") != NULL, "plain pickle: %s", rcl_last_error());
    CHECK_FAILS(rcl_torch_load(fixture("io_zip_basic.zip"), &st), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "data.pkl") != NULL, "plain zip: %s", rcl_last_error());
    CHECK_FAILS(rcl_torch_load(fixture("io_torch_expected.txt"), &st), RCL_ERR_FORMAT);
    CHECK_FAILS(rcl_torch_load(fixture("no_such.pt"), &st), RCL_ERR_IO);
    CHECK_FAILS(rcl_torch_load_memory("", 0, "empty", &st), RCL_ERR_FORMAT);
}

/* Truncations fail; byte flips fail cleanly or load (legacy data has no checksum). */
static void sweep(const char *name, int stride) {
    unsigned char *buf;
    size_t n;
    CHECK_OK(rcl_file_read(fixture(name), &buf, &n));
    if (!buf)
        return;
    unsigned char *copy = malloc(n);
    int bad = 0;
    for (size_t len = 0; len < n; len += (len > n - 64) ? 1 : (size_t)stride) {
        memcpy(copy, buf, len);
        rcl_torch_state st = {0};
        rcl_status s = rcl_torch_load_memory(copy, len, "trunc", &st);
        if (s != RCL_ERR_FORMAT || st.n)
            bad++;
        rcl_torch_state_free(&st);
    }
    CHECK(bad == 0, "%s: %d truncations did not fail with RCL_ERR_FORMAT", name, bad);
    int ok = 0, failed = 0;
    bad = 0;
    for (size_t pos = 0; pos < n; pos += (size_t)stride) {
        static const unsigned char masks[] = {0x01, 0x40, 0xFF};
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(copy, buf, n);
            copy[pos] ^= masks[m];
            rcl_torch_state st = {0};
            rcl_status s = rcl_torch_load_memory(copy, n, "flip", &st);
            if (s == RCL_OK)
                ok++;
            else if (s == RCL_ERR_FORMAT)
                failed++;
            else
                bad++;
            rcl_torch_state_free(&st);
        }
    }
    CHECK(bad == 0 && failed > 0, "%s: flips %d ok, %d failed, %d other", name, ok, failed, bad);
    free(copy);
    free(buf);
}

int main(void) {
    read_expected();
    test_formats();
    test_refusals();
    sweep("io_torch_legacy.pt", 1);
    sweep("io_torch_zip.pt", 3);
    for (int i = 0; i < n_exp; i++)
        free(exp_t[i].v);
    return rcl_test_finish();
}
