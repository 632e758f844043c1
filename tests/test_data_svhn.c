/* SVHN .mat via libmatio (through the spec parser, so this also builds without matio). */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/data.h"
#include "core/fileio.h"
#include "core/sha256.h"

static const char *data_dir;

static int load(const char *file, rcl_dataset *ds) {
    char spec[1200];
    snprintf(spec, sizeof spec, "svhn:%s/%s", data_dir, file);
    return rcl_dataset_load(spec, 0, ds);
}

static void check_content(const rcl_dataset *ds) {
    static const int want[4] = {1, 0, 5, 3}; /* y = 1, 10, 5, 3 with 10 -> digit 0 */
    CHECK(ds->n == 4 && ds->c == 3 && ds->h == 32 && ds->w == 32 && ds->num_classes == 10, "shape n=%d", ds->n);
    if (ds->n != 4)
        return;
    int ok = 1;
    for (int i = 0; i < 4; i++) {
        ok &= ds->labels[i] == want[i];
        for (int ch = 0; ch < 3; ch++)
            for (int r = 0; r < 32; r++)
                for (int c = 0; c < 32; c++)
                    ok &= ds->pixels[(size_t)i * 3072 + ch * 1024 + r * 32 + c] ==
                          (uint8_t)((r + 3 * c + 50 * ch + 7 * i) % 256);
    }
    CHECK(ok, "X(row, col, ch, i) -> planar CHW, labels 10 -> 0");
}

int main(void) {
    data_dir = getenv("RCL_TEST_DATA");
    if (!data_dir)
        return 1;
    rcl_dataset ds;
    if (!rcl_data_have_matio()) {
        CHECK_FAILS(load("data_svhn.mat", &ds), RCL_ERR_INVALID_ARG);
        CHECK(strstr(rcl_last_error(), "built without libmatio") != NULL, "%s", rcl_last_error());
        printf("SKIP SVHN loading: built without libmatio\n");
        return rcl_test_finish();
    }
    CHECK_OK(load("data_svhn.mat", &ds));
    check_content(&ds);
    char p[1200], hex[65];
    snprintf(p, sizeof p, "%s/data_svhn.mat", data_dir);
    CHECK_OK(rcl_sha256_file(p, hex));
    CHECK(!strcmp(ds.sha256, hex), "provenance = sha256 of the .mat");
    rcl_dataset_free(&ds);
    CHECK_OK(load("data_svhn_z.mat", &ds)); /* compressed v5, uint8 y */
    check_content(&ds);
    rcl_dataset_free(&ds);

    /* svhn:DIR picks test_32x32.mat / train_32x32.mat by split */
    unsigned char *b;
    size_t n;
    CHECK_OK(rcl_file_read(p, &b, &n));
    char dir[600], q[700];
    snprintf(dir, sizeof dir, "%s/svhn", rcl_test_tmpdir());
    CHECK_OK(rcl_mkdirs(dir));
    snprintf(q, sizeof q, "%s/test_32x32.mat", dir);
    CHECK_OK(rcl_file_write_atomic(q, b, n));
    char spec[800];
    snprintf(spec, sizeof spec, "svhn:%s", dir);
    CHECK_OK(rcl_dataset_load(spec, 0, &ds));
    CHECK(ds.n == 4 && !strcmp(ds.name, "svhn:test"), "svhn:DIR test split, name %s", ds.name);
    rcl_dataset_free(&ds);
    CHECK_FAILS(rcl_dataset_load(spec, 1, &ds), RCL_ERR_IO);
    CHECK(strstr(rcl_last_error(), "train_32x32.mat") != NULL, "%s", rcl_last_error());

    struct {
        const char *file, *want;
    } bad[] = {
        {"data_svhn_badlabel.mat", "record 1"},
        {"data_svhn_badshape.mat", "32x32x3xN"},
        {"data_svhn_count.mat", "2 entries"},
        {"data_npy_v1_u1.npy", "data_npy_v1_u1.npy"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_FAILS(load(bad[i].file, &ds), RCL_ERR_FORMAT);
        CHECK(strstr(rcl_last_error(), bad[i].file) && strstr(rcl_last_error(), bad[i].want), "%s: %s", bad[i].file,
              rcl_last_error());
    }
    /* a MAT v4 header (no v5 endian mark) whose name length claims 2 GB: matio's v4 reader
     * allocated that unchecked (fuzz_mat); refused before matio sees it */
    {
        unsigned char v4[160] = {0};
        const uint32_t hdr[5] = {0, 1, 1, 0, 0x7fffff00u}; /* type, rows, cols, imagf, name length */
        memcpy(v4, hdr, sizeof hdr);
        snprintf(q, sizeof q, "%s/v4.mat", dir);
        CHECK_OK(rcl_file_write_atomic(q, v4, sizeof v4));
        snprintf(spec, sizeof spec, "svhn:%s", q);
        CHECK_FAILS(rcl_dataset_load(spec, 0, &ds), RCL_ERR_FORMAT);
        CHECK(strstr(rcl_last_error(), "v4.mat") && strstr(rcl_last_error(), "endian mark"), "%s", rcl_last_error());
    }
    /* truncated copies fail cleanly (matio must not crash on them) */
    snprintf(q, sizeof q, "%s/cut.mat", dir);
    snprintf(spec, sizeof spec, "svhn:%s", q);
    int all = 1;
    for (size_t cut = 0; cut < n; cut += n / 17 + 1) {
        rcl_file_write_atomic(q, b, cut);
        rcl_status st = rcl_dataset_load(spec, 0, &ds);
        all &= st == RCL_ERR_FORMAT && strstr(rcl_last_error(), "cut.mat") != NULL;
        if (st == RCL_OK)
            rcl_dataset_free(&ds);
    }
    CHECK(all, "truncated .mat files fail with RCL_ERR_FORMAT naming the file");
    free(b);
    snprintf(spec, sizeof spec, "svhn:%s/none.mat", dir);
    CHECK_FAILS(rcl_dataset_load(spec, 0, &ds), RCL_ERR_IO);
    return rcl_test_finish();
}
