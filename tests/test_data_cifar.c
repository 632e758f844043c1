/* CIFAR-10 / CIFAR-100 binary batches: layout, labels, coarse labels, validation. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/data.h"
#include "core/fileio.h"
#include "core/sha256.h"

static char dir[512];

static uint8_t px(int img, int k) { return (uint8_t)(img * 13 + k * 7 + (k >> 10)); }

/* n records starting at image index `first`; labels via lab(i) */
static unsigned char *records(int n, int first, int nlab, size_t *size) {
    size_t rec = 3072 + (size_t)nlab;
    unsigned char *b = malloc(rec * (size_t)n);
    for (int i = 0; i < n; i++) {
        int g = first + i;
        unsigned char *r = b + rec * (size_t)i;
        if (nlab == 1) {
            r[0] = (unsigned char)(g % 10);
        } else {
            r[0] = (unsigned char)(g % 20);
            r[1] = (unsigned char)(g * 7 % 100);
        }
        for (int k = 0; k < 3072; k++)
            r[nlab + k] = px(g, k);
    }
    *size = rec * (size_t)n;
    return b;
}

static void write_records(const char *path, int n, int first, int nlab) {
    size_t sz;
    unsigned char *b = records(n, first, nlab, &sz);
    CHECK_OK(rcl_file_write_atomic(path, b, sz));
    free(b);
}

static void test_cifar10(void) {
    char d[600], sub[700], p[800];
    snprintf(d, sizeof d, "%s/c10", dir);
    snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", d); /* as the archive unpacks */
    CHECK_OK(rcl_mkdirs(sub));
    int per[5] = {3, 2, 4, 1, 2}, first = 0;
    rcl_sha256 h;
    rcl_sha256_init(&h);
    for (int b = 0; b < 5; b++) {
        snprintf(p, sizeof p, "%s/data_batch_%d.bin", sub, b + 1);
        write_records(p, per[b], first, 1);
        rcl_sha256_update_file(&h, p);
        first += per[b];
    }
    char want[65];
    rcl_sha256_final_hex(&h, want);
    snprintf(p, sizeof p, "%s/test_batch.bin", sub);
    write_records(p, 5, 100, 1);
    rcl_dataset ds;
    CHECK_OK(rcl_cifar10_load(d, 1, &ds));
    CHECK(ds.n == 12 && ds.c == 3 && ds.h == 32 && ds.w == 32 && ds.num_classes == 10, "train %d x %dx%dx%d", ds.n,
          ds.c, ds.h, ds.w);
    int ok = 1;
    for (int i = 0; i < ds.n && ok; i++) {
        ok &= ds.labels[i] == i % 10;
        /* the record's R, G, B planes are already CHW */
        for (int k = 0; k < 3072; k++)
            ok &= ds.pixels[(size_t)i * 3072 + k] == px(i, k);
    }
    CHECK(ok, "labels and planar pixels in file order across the 5 batches");
    CHECK(!strcmp(ds.name, "cifar10:train"), "name %s", ds.name);
    CHECK(!strcmp(ds.sha256, want), "provenance = sha256 of the 5 batches in order");
    rcl_dataset_free(&ds);
    CHECK_OK(rcl_cifar10_load(sub, 0, &ds)); /* the unpacked folder itself also works */
    CHECK(ds.n == 5 && ds.labels[0] == 0 && ds.pixels[1] == px(100, 1), "test batch");
    rcl_dataset_free(&ds);

    /* spec form, with class selection and a subset */
    char spec[800];
    snprintf(spec, sizeof spec, "cifar10:%s,classes=2-3", d);
    CHECK_OK(rcl_dataset_load(spec, 1, &ds));
    CHECK(ds.n == 2 && ds.num_classes == 2 && ds.labels[0] == 0 && ds.labels[1] == 1 && ds.pixels[0] == px(2, 0),
          "classes=2-3 keeps images 2 and 3 relabelled 0,1 (n=%d)", ds.n);
    rcl_dataset_free(&ds);

    /* a truncated last record */
    size_t sz;
    unsigned char *b = records(3, 0, 1, &sz);
    snprintf(p, sizeof p, "%s/trunc.bin", dir);
    CHECK_OK(rcl_file_write_atomic(p, b, sz - 100));
    const char *pp[1] = {p};
    CHECK_FAILS(rcl_cifar10_load_files(pp, 1, NULL, &ds), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "trunc.bin") && strstr(rcl_last_error(), "record 2"), "names file and record: %s",
          rcl_last_error());
    /* label out of range in record 1 */
    b[3073] = 10;
    snprintf(p, sizeof p, "%s/badlabel.bin", dir);
    CHECK_OK(rcl_file_write_atomic(p, b, sz));
    CHECK_FAILS(rcl_cifar10_load_files(pp, 1, NULL, &ds), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "badlabel.bin") && strstr(rcl_last_error(), "record 1"), "%s", rcl_last_error());
    CHECK(ds.pixels == NULL && ds.labels == NULL, "nothing left allocated");
    /* an empty file, a missing one */
    snprintf(p, sizeof p, "%s/empty.bin", dir);
    CHECK_OK(rcl_file_write_atomic(p, b, 0));
    CHECK_FAILS(rcl_cifar10_load_files(pp, 1, NULL, &ds), RCL_ERR_FORMAT);
    snprintf(p, sizeof p, "%s/missing.bin", dir);
    CHECK_FAILS(rcl_cifar10_load_files(pp, 1, NULL, &ds), RCL_ERR_IO);
    CHECK(strstr(rcl_last_error(), "missing.bin") != NULL, "%s", rcl_last_error());
    CHECK_FAILS(rcl_cifar10_load(dir, 1, &ds), RCL_ERR_IO);
    CHECK(strstr(rcl_last_error(), "data_batch_1.bin") != NULL, "%s", rcl_last_error());
    free(b);
}

static void test_cifar100(void) {
    char d[600], p[800];
    snprintf(d, sizeof d, "%s/c100", dir);
    CHECK_OK(rcl_mkdirs(d));
    snprintf(p, sizeof p, "%s/train.bin", d);
    write_records(p, 30, 0, 2);
    snprintf(p, sizeof p, "%s/test.bin", d);
    write_records(p, 4, 50, 2);
    rcl_dataset ds;
    int32_t *coarse = NULL;
    CHECK_OK(rcl_cifar100_load(d, 1, &ds, &coarse));
    CHECK(ds.n == 30 && ds.num_classes == 100 && coarse, "train n=%d classes=%d", ds.n, ds.num_classes);
    int ok = 1;
    for (int i = 0; i < ds.n && coarse; i++) {
        ok &= ds.labels[i] == i * 7 % 100 && coarse[i] == i % 20;
        ok &= ds.pixels[(size_t)i * 3072 + 5] == px(i, 5) && ds.pixels[(size_t)i * 3072 + 3071] == px(i, 3071);
    }
    CHECK(ok, "fine labels, coarse labels kept aside, pixels after the 2 label bytes");
    free(coarse);
    rcl_dataset_free(&ds);
    CHECK_OK(rcl_cifar100_load(d, 0, &ds, NULL));
    CHECK(ds.n == 4 && !strcmp(ds.name, "cifar100:test"), "test n=%d", ds.n);
    rcl_dataset_free(&ds);
    char spec[800];
    snprintf(spec, sizeof spec, "cifar100:%s,labels=coarse,split=train", d);
    CHECK_OK(rcl_dataset_load(spec, 0, &ds));
    CHECK(ds.n == 30 && ds.num_classes == 20 && ds.labels[21] == 1, "labels=coarse: %d classes", ds.num_classes);
    rcl_dataset_free(&ds);

    size_t sz;
    unsigned char *b = records(3, 0, 2, &sz);
    const char *pp[1] = {p};
    snprintf(p, sizeof p, "%s/c100bad.bin", dir);
    b[2 * 3074 + 1] = 100; /* fine label of record 2 */
    CHECK_OK(rcl_file_write_atomic(p, b, sz));
    CHECK_FAILS(rcl_cifar100_load_files(pp, 1, NULL, &ds, NULL), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "c100bad.bin") && strstr(rcl_last_error(), "record 2"), "%s", rcl_last_error());
    b[2 * 3074 + 1] = 5;
    b[3074] = 20; /* coarse label of record 1 */
    CHECK_OK(rcl_file_write_atomic(p, b, sz));
    CHECK_FAILS(rcl_cifar100_load_files(pp, 1, NULL, &ds, NULL), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "coarse") && strstr(rcl_last_error(), "record 1"), "%s", rcl_last_error());
    /* a CIFAR-10 file read as CIFAR-100 (3073-byte records) */
    free(b);
    b = records(2, 0, 1, &sz);
    CHECK_OK(rcl_file_write_atomic(p, b, sz));
    CHECK_FAILS(rcl_cifar100_load_files(pp, 1, NULL, &ds, NULL), RCL_ERR_FORMAT);
    free(b);
}

int main(void) {
    snprintf(dir, sizeof dir, "%s", rcl_test_tmpdir());
    test_cifar10();
    test_cifar100();
    return rcl_test_finish();
}
