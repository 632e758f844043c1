/* .npy headers (v1/v2/v3, label dtypes), released corruption folders (CIFAR-10-C) and
 * Downsampled-ImageNet32 .npz (stored, deflated, data descriptors, zip64), with numpy-written
 * fixtures from tests/data/gen_data_npz.py. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/data.h"
#include "core/fileio.h"
#include "core/sha256.h"

static const char *data_dir;

static const char *fx(const char *name) {
    static char bufs[4][1024];
    static int k;
    char *p = bufs[k++ % 4];
    snprintf(p, 1024, "%s/%s", data_dir, name);
    return p;
}

static uint8_t px(int i, int j, int seed) { return (uint8_t)((i * 37 + j * 11 + seed) % 256); }

static void test_npy_fixtures(void) {
    rcl_npy a;
    CHECK_OK(rcl_npy_load(fx("data_npy_v1_u1.npy"), &a));
    CHECK(a.kind == 'u' && a.itemsize == 1 && a.ndim == 3 && a.shape[0] == 2 && a.shape[1] == 2 && a.shape[2] == 3 &&
              a.count == 12,
          "v1 |u1 (2,2,3)");
    int ok = 1;
    for (int i = 0; i < 2 && a.data; i++)
        for (int j = 0; j < 6; j++)
            ok &= ((uint8_t *)a.data)[i * 6 + j] == px(i, j, 5);
    CHECK(ok, "v1 values");
    rcl_npy_free(&a);

    int32_t lab[8];
    CHECK_OK(rcl_npy_load(fx("data_npy_v2_i8.npy"), &a));
    CHECK(a.kind == 'i' && a.itemsize == 8 && a.ndim == 1 && a.count == 4, "v2 <i8");
    /* [0, 9, -3, 2^40]: -3 and 2^40 are out of range for 10 classes */
    CHECK_FAILS(rcl_npy_to_labels(&a, "v2", 0, 10, lab), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "record 2") != NULL, "first bad record is 2: %s", rcl_last_error());
    a.count = 2;
    CHECK_OK(rcl_npy_to_labels(&a, "v2", 0, 10, lab));
    CHECK(lab[0] == 0 && lab[1] == 9, "int64 labels");
    rcl_npy_free(&a);

    CHECK_OK(rcl_npy_load(fx("data_npy_v3_i2.npy"), &a));
    CHECK(a.kind == 'i' && a.itemsize == 2 && a.count == 3, "v3 <i2");
    CHECK_OK(rcl_npy_to_labels(&a, "v3", -2, 400, lab));
    CHECK(lab[0] == 9 && lab[1] == 0 && lab[2] == 302, "int16 labels with offset -2 (sign-extended)");
    rcl_npy_free(&a);

    CHECK_OK(rcl_npy_load(fx("data_npy_i1.npy"), &a));
    CHECK_OK(rcl_npy_to_labels(&a, "i1", -1, 10, lab));
    CHECK(lab[0] == 0 && lab[1] == 6, "int8 labels: -1 sign-extended");
    rcl_npy_free(&a);
    CHECK_OK(rcl_npy_load(fx("data_npy_i4.npy"), &a));
    CHECK_OK(rcl_npy_to_labels(&a, "i4", 1, 4, lab));
    CHECK(lab[0] == 3 && lab[1] == 2 && lab[2] == 1, "int32 labels minus 1");
    rcl_npy_free(&a);

    CHECK_FAILS(rcl_npy_load(fx("data_npy_fortran.npy"), &a), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "data_npy_fortran.npy") && strstr(rcl_last_error(), "Fortran"), "%s",
          rcl_last_error());
    CHECK_FAILS(rcl_npy_load(fx("data_npy_be.npy"), &a), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), ">i4") != NULL, "big-endian refused: %s", rcl_last_error());
    CHECK_FAILS(rcl_npy_load(fx("no_such.npy"), &a), RCL_ERR_IO);
}

/* Our writer, numpy's format, and malformed variants of it. */
static void test_npy_written(void) {
    const char *dir = rcl_test_tmpdir();
    char p[600];
    snprintf(p, sizeof p, "%s/w.npy", dir);
    int64_t shape[2] = {3, 5};
    int64_t vals[15];
    for (int i = 0; i < 15; i++)
        vals[i] = i * 1000003LL - 7;
    CHECK_OK(rcl_npy_save(p, "<i8", 2, shape, vals));
    rcl_npy a;
    CHECK_OK(rcl_npy_load(p, &a));
    CHECK(a.ndim == 2 && a.shape[0] == 3 && a.shape[1] == 5 && a.data && !memcmp(a.data, vals, sizeof vals),
          "round trip <i8 (3,5)");
    rcl_npy_free(&a);
    unsigned char *b;
    size_t n;
    CHECK_OK(rcl_file_read(p, &b, &n));
    CHECK((n - 15 * 8) % 64 == 0, "data starts on a 64-byte boundary");
    CHECK_FAILS(rcl_npy_from_memory(b, n - 1, "cut", &a), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "cut") && strstr(rcl_last_error(), "truncated"), "%s", rcl_last_error());
    CHECK_FAILS(rcl_npy_from_memory(b, 40, "hdrcut", &a), RCL_ERR_FORMAT);
    CHECK_FAILS(rcl_npy_from_memory(b, 5, "tiny", &a), RCL_ERR_FORMAT);
    unsigned char *c = malloc(n + 8);
    memcpy(c, b, n);
    c[n] = 0;
    CHECK_FAILS(rcl_npy_from_memory(c, n + 1, "extra", &a), RCL_ERR_FORMAT);
    memcpy(c, b, n);
    c[1] = 'X';
    CHECK_FAILS(rcl_npy_from_memory(c, n, "magic", &a), RCL_ERR_FORMAT);
    memcpy(c, b, n);
    c[6] = 9;
    CHECK_FAILS(rcl_npy_from_memory(c, n, "version", &a), RCL_ERR_FORMAT);
    memcpy(c, b, n);
    c[8] = 0xff, c[9] = 0xff; /* header length beyond the file */
    CHECK_FAILS(rcl_npy_from_memory(c, n, "hlen", &a), RCL_ERR_FORMAT);
    /* shapes promising 2^64 elements or 3 TB over a few bytes: refused before any allocation */
    unsigned char h[200];
    const char *dicts[] = {
        "{'descr': '|u1', 'fortran_order': False, 'shape': (4611686018427387904, 8), }",
        "{'descr': '|u1', 'fortran_order': False, 'shape': (1000000000, 3072), }",
        "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3 }",
        "{'descr': '|u1', 'fortran_order': False }",
        "{'descr': '|u1', 'fortran_order': maybe, 'shape': (2,), }",
        "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
        "['descr', '|u1']",
    };
    for (size_t i = 0; i < sizeof dicts / sizeof *dicts; i++) {
        size_t dl = strlen(dicts[i]);
        memcpy(h, "\x93NUMPY\x01\x00", 8);
        h[8] = (unsigned char)(dl + 1), h[9] = 0;
        memcpy(h + 10, dicts[i], dl);
        h[10 + dl] = '\n';
        memset(h + 11 + dl, 7, 6);
        CHECK_FAILS(rcl_npy_from_memory(h, 11 + dl + 6, "crafted", &a), RCL_ERR_FORMAT);
        CHECK(a.data == NULL, "nothing allocated for %s", dicts[i]);
    }
    memcpy(c, b, n);
    char *s = strstr((char *)c + 10, "'<i8'");
    if (s)
        memcpy(s, "'|b1'", 5);
    CHECK_FAILS(rcl_npy_from_memory(c, n, "bool", &a), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "|b1") != NULL, "%s", rcl_last_error());
    /* a float array is not a label array */
    float f[2] = {1, 2};
    int64_t s2[1] = {2};
    snprintf(p, sizeof p, "%s/f.npy", dir);
    CHECK_OK(rcl_npy_save(p, "<f4", 1, s2, f));
    CHECK_OK(rcl_npy_load(p, &a));
    int32_t lab[2];
    CHECK_FAILS(rcl_npy_to_labels(&a, "floats", 0, 10, lab), RCL_ERR_FORMAT);
    rcl_npy_free(&a);
    free(b);
    free(c);
}

static void check_imnet(const rcl_dataset *ds, int at, int n, int seed, const int *labels1) {
    int ok = 1;
    for (int i = 0; i < n; i++) {
        ok &= ds->labels[at + i] == labels1[i] - 1;
        for (int j = 0; j < 3072; j += 97)
            ok &= ds->pixels[(size_t)(at + i) * 3072 + j] == px(i, j, seed);
        ok &= ds->pixels[(size_t)(at + i) * 3072 + 3071] == px(i, 3071, seed);
    }
    CHECK(ok, "images %d..%d: pixels and labels-1", at, at + n - 1);
}

static void test_imagenet32(void) {
    rcl_dataset ds;
    static const int l1[5] = {1, 1000, 500, 2, 7}, l2[3] = {3, 3, 999}, lv[4] = {10, 20, 30, 40};
    CHECK_OK(rcl_imagenet32_load(fx("data_imagenet32"), 1, &ds));
    CHECK(ds.n == 8 && ds.c == 3 && ds.h == 32 && ds.w == 32 && ds.num_classes == 1000 && ds.pixels && !ds.values,
          "train: batches 1 (stored) + 2 (deflated, int32 labels): n=%d", ds.n);
    if (ds.n == 8) {
        check_imnet(&ds, 0, 5, 0, l1);
        check_imnet(&ds, 5, 3, 1, l2);
    }
    rcl_sha256 h;
    rcl_sha256_init(&h);
    rcl_sha256_update_file(&h, fx("data_imagenet32/train_data_batch_1.npz"));
    rcl_sha256_update_file(&h, fx("data_imagenet32/train_data_batch_2.npz"));
    char want[65];
    rcl_sha256_final_hex(&h, want);
    CHECK(!strcmp(ds.sha256, want), "provenance over both .npz files");
    CHECK(!strcmp(ds.name, "imagenet32:train"), "name %s", ds.name);
    rcl_dataset_free(&ds);

    CHECK_OK(rcl_imagenet32_load(fx("data_imagenet32"), 0, &ds));
    CHECK(ds.n == 4, "val (deflated, data descriptors): n=%d", ds.n);
    if (ds.n == 4)
        check_imnet(&ds, 0, 4, 2, lv);
    rcl_dataset_free(&ds);

    /* the original pickled batches: same content through the restricted unpickler */
    CHECK_OK(rcl_imagenet32_load(fx("data_imagenet32_pkl"), 1, &ds));
    CHECK(ds.n == 8 && ds.num_classes == 1000 && ds.c == 3, "pickled train batches: n=%d", ds.n);
    if (ds.n == 8) {
        check_imnet(&ds, 0, 5, 0, l1);
        check_imnet(&ds, 5, 3, 1, l2);
    }
    rcl_sha256_init(&h);
    rcl_sha256_update_file(&h, fx("data_imagenet32_pkl/train_data_batch_1"));
    rcl_sha256_update_file(&h, fx("data_imagenet32_pkl/train_data_batch_2"));
    rcl_sha256_final_hex(&h, want);
    CHECK(!strcmp(ds.sha256, want), "provenance over the pickled files");
    rcl_dataset_free(&ds);
    CHECK_OK(rcl_imagenet32_load(fx("data_imagenet32_pkl"), 0, &ds));
    CHECK(ds.n == 4 && !strcmp(ds.name, "imagenet32:val"), "pickled val_data: n=%d", ds.n);
    if (ds.n == 4)
        check_imnet(&ds, 0, 4, 2, lv);
    rcl_dataset_free(&ds);
    struct {
        const char *file, *want;
    } badp[] = {
        {"data_imnet_badlabel.pkl", "record 1"},
        {"data_imnet_list.pkl", "dict"},
        {"data_imnet_u16.pkl", "uint8"},
        {"data_imnet_evil.pkl", "system"}, /* a global outside the allow-list: never called */
        {"data_npy_v1_u1.npy", "data_npy_v1_u1.npy"},
    };
    for (size_t i = 0; i < sizeof badp / sizeof *badp; i++) {
        const char *pp[1] = {fx(badp[i].file)};
        CHECK_FAILS(rcl_imagenet32_pickle_load_files(pp, 1, NULL, &ds), RCL_ERR_FORMAT);
        CHECK(strstr(rcl_last_error(), badp[i].file) && strstr(rcl_last_error(), badp[i].want), "%s: %s",
              badp[i].file, rcl_last_error());
        CHECK(ds.pixels == NULL && ds.n == 0, "nothing left allocated");
    }

    /* the official zip's folder: DIR/Imagenet32_val_npz/val_data.npz */
    {
        char sub[700], q[800];
        unsigned char *vb;
        size_t vn;
        snprintf(sub, sizeof sub, "%s/Imagenet32_val_npz", rcl_test_tmpdir());
        CHECK_OK(rcl_mkdirs(sub));
        CHECK_OK(rcl_file_read(fx("data_imagenet32/val_data.npz"), &vb, &vn));
        snprintf(q, sizeof q, "%s/val_data.npz", sub);
        CHECK_OK(rcl_file_write_atomic(q, vb, vn));
        free(vb);
        snprintf(q, sizeof q, "imagenet32:%s,split=test", rcl_test_tmpdir());
        CHECK_OK(rcl_dataset_load(q, 1, &ds));
        CHECK(ds.n == 4 && !strcmp(ds.name, "imagenet32:val"), "Imagenet32_val_npz/ found: n=%d", ds.n);
        rcl_dataset_free(&ds);
    }

    const char *z64[1] = {fx("data_imnet_zip64.npz")};
    static const int lz[2] = {1, 2};
    CHECK_OK(rcl_imagenet32_load_files(z64, 1, NULL, &ds));
    CHECK(ds.n == 2, "zip64 archive: n=%d", ds.n);
    if (ds.n == 2)
        check_imnet(&ds, 0, 2, 3, lz);
    rcl_dataset_free(&ds);

    /* spec with class exclusion: classes 0..998 of 1000 minus {0, 999}: relabelled */
    char spec[1200], ex[600];
    snprintf(ex, sizeof ex, "%s/exclude.txt", rcl_test_tmpdir());
    const char *lines = "# CIFAR-ish classes\n0\n\n999  \n";
    CHECK_OK(rcl_file_write_atomic(ex, lines, strlen(lines)));
    snprintf(spec, sizeof spec, "imagenet32:%s,exclude=%s", fx("data_imagenet32"), ex);
    CHECK_OK(rcl_dataset_load(spec, 1, &ds));
    /* train labels-1: 0 999 499 1 6 2 2 998 -> drop 0 and 999 -> 499 1 6 2 2 998 -> -1 each */
    CHECK(ds.n == 6 && ds.num_classes == 998, "exclude: n=%d classes=%d", ds.n, ds.num_classes);
    if (ds.n == 6)
        CHECK(ds.labels[0] == 498 && ds.labels[1] == 0 && ds.labels[2] == 5 && ds.labels[5] == 997,
              "relabelled in original order");
    rcl_dataset_free(&ds);

    struct {
        const char *file, *want;
    } bad[] = {
        {"data_imnet_badlabel.npz", "record 1"},
        {"data_imnet_badshape.npz", "3072"},
        {"data_imnet_count.npz", "2 labels"},
        {"data_imnet_nolabels.npz", "labels.npy"},
        {"data_imnet_shorthdr.npz", "too short"}, /* fuzz finding: read 12 bytes into a 10-byte header */
        {"data_npy_v1_u1.npy", "data_npy_v1_u1.npy"}, /* not a zip at all */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *pp[1] = {fx(bad[i].file)};
        CHECK_FAILS(rcl_imagenet32_load_files(pp, 1, NULL, &ds), RCL_ERR_FORMAT);
        CHECK(strstr(rcl_last_error(), bad[i].file) && strstr(rcl_last_error(), bad[i].want), "%s: %s", bad[i].file,
              rcl_last_error());
        CHECK(ds.pixels == NULL, "nothing allocated");
    }
    /* truncated archive: every cut of the stored batch fails cleanly */
    unsigned char *b;
    size_t n;
    CHECK_OK(rcl_file_read(fx("data_imagenet32/train_data_batch_1.npz"), &b, &n));
    char p[600];
    snprintf(p, sizeof p, "%s/cut.npz", rcl_test_tmpdir());
    const char *pp[1] = {p};
    int all = 1;
    for (size_t cut = 0; cut < n; cut += n / 13 + 1) {
        rcl_file_write_atomic(p, b, cut);
        rcl_status st = rcl_imagenet32_load_files(pp, 1, NULL, &ds);
        all &= st == RCL_ERR_FORMAT && strstr(rcl_last_error(), "cut.npz") != NULL;
    }
    CHECK(all, "truncated archives fail with RCL_ERR_FORMAT naming the file");
    /* a flipped byte in the deflated data: CRC or inflate error, never success */
    free(b);
    CHECK_OK(rcl_file_read(fx("data_imagenet32/val_data.npz"), &b, &n));
    b[120] ^= 0x10;
    rcl_file_write_atomic(p, b, n);
    CHECK_FAILS(rcl_imagenet32_load_files(pp, 1, NULL, &ds), RCL_ERR_FORMAT);
    free(b);
    CHECK_FAILS(rcl_imagenet32_load(rcl_test_tmpdir(), 1, &ds), RCL_ERR_IO);
    CHECK(strstr(rcl_last_error(), "train_data_batch_1.npz") != NULL, "%s", rcl_last_error());
}

/* A released-corruption folder: HWC images to planar CHW, severities kept in order, the
 * classes from the labels; files of the wrong shape or count refused, naming the file. */
static void test_corrupted(void) {
    char dir[1100], path[1200];
    snprintf(dir, sizeof dir, "%s/cc", rcl_test_tmpdir());
    CHECK_OK(rcl_mkdirs(dir));
    uint8_t img[5 * 2 * 3 * 3];
    for (int i = 0; i < (int)sizeof img; i++)
        img[i] = (uint8_t)(i * 7 + 1);
    uint8_t lab[5] = {0, 3, 1, 2, 0};
    int64_t shape[4] = {5, 2, 3, 3}, lshape[1] = {5};
    snprintf(path, sizeof path, "%s/fog.npy", dir);
    CHECK_OK(rcl_npy_save(path, "|u1", 4, shape, img));
    snprintf(path, sizeof path, "%s/labels.npy", dir);
    CHECK_OK(rcl_npy_save(path, "|u1", 1, lshape, lab));
    int found = 0;
    CHECK_OK(rcl_corrupted_scan(dir, &found));
    CHECK(found == 1, "scan finds fog.npy alone");
    rcl_dataset ds;
    CHECK_OK(rcl_corrupted_load(dir, "fog", &ds));
    int ok = ds.n == 5 && ds.c == 3 && ds.h == 2 && ds.w == 3 && ds.num_classes == 4 && !strcmp(ds.name, "corrupted:fog");
    for (int i = 0; ok && i < 5; i++)
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
                for (int c = 0; c < 3; c++)
                    ok &= ds.pixels[((i * 3 + c) * 2 + y) * 3 + x] == img[((i * 2 + y) * 3 + x) * 3 + c];
    for (int i = 0; ok && i < 5; i++)
        ok &= ds.labels[i] == lab[i];
    CHECK(ok, "HWC -> CHW, labels, 4 classes, name");
    rcl_dataset_free(&ds);
    CHECK(rcl_corrupted_find("jpeg_compression") == 14 && rcl_corrupted_find("saturate") == 18 &&
              rcl_corrupted_find("fogg") == -1,
          "the 15 standard corruptions, then the 4 extra ones");
    shape[0] = 4; /* not five severities */
    snprintf(path, sizeof path, "%s/snow.npy", dir);
    CHECK_OK(rcl_npy_save(path, "|u1", 4, shape, img));
    CHECK_FAILS(rcl_corrupted_scan(dir, &found), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "snow.npy") != NULL, "the bad file is named: %s", rcl_last_error());
    CHECK_FAILS(rcl_corrupted_load(dir, "snow", &ds), RCL_ERR_FORMAT);
    shape[0] = 5, shape[3] = 2; /* two channels */
    CHECK_OK(rcl_npy_save(path, "|u1", 4, shape, img));
    CHECK_FAILS(rcl_corrupted_load(dir, "snow", &ds), RCL_ERR_FORMAT);
    remove(path);
    lshape[0] = 4;
    snprintf(path, sizeof path, "%s/labels.npy", dir);
    CHECK_OK(rcl_npy_save(path, "|u1", 1, lshape, lab));
    CHECK_FAILS(rcl_corrupted_load(dir, "fog", &ds), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "labels.npy") != NULL, "the labels file is named: %s", rcl_last_error());
    snprintf(path, sizeof path, "%s/empty", dir);
    CHECK_OK(rcl_mkdirs(path));
    CHECK_FAILS(rcl_corrupted_scan(path, &found), RCL_ERR_IO);
}

int main(void) {
    data_dir = getenv("RCL_TEST_DATA");
    if (!data_dir) {
        fprintf(stderr, "RCL_TEST_DATA is not set\n");
        return 1;
    }
    test_npy_fixtures();
    test_npy_written();
    test_imagenet32();
    test_corrupted();
    return rcl_test_finish();
}
