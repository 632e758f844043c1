/* IDX loader (raw and gzip), its validation, and the real Fashion-MNIST set. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/data.h"
#include "core/fileio.h"
#include "core/sha256.h"

#define N 7
#define H 5
#define W 4

static char dir[512];

static const char *tmp(const char *name) {
    static char bufs[4][600];
    static int k;
    char *p = bufs[k++ % 4];
    snprintf(p, 600, "%s/%s", dir, name);
    return p;
}

static void make_set(uint8_t *img, uint8_t *lab) {
    for (int i = 0; i < N * H * W; i++)
        img[i] = (uint8_t)(i * 7 + 3);
    for (int i = 0; i < N; i++)
        lab[i] = (uint8_t)(i * 3 % 8); /* 0 3 6 1 4 7 2 */
}

/* Writes bytes, and a copy with some edit applied. */
static void put(const char *name, const unsigned char *b, size_t n) {
    CHECK_OK(rcl_file_write_atomic(tmp(name), b, n));
}

static void sha_of_files(const char *a, const char *b, char hex[65]) {
    rcl_sha256 s;
    rcl_sha256_init(&s);
    rcl_sha256_update_file(&s, a);
    rcl_sha256_update_file(&s, b);
    rcl_sha256_final_hex(&s, hex);
}

#define EXPECT_FORMAT(expr, file_part, extra)                                                          \
    do {                                                                                               \
        rcl_dataset d_;                                                                                \
        CHECK_FAILS((expr), RCL_ERR_FORMAT);                                                           \
        CHECK(strstr(rcl_last_error(), file_part) != NULL, "message names %s: %s", file_part,           \
              rcl_last_error());                                                                       \
        CHECK(!(extra)[0] || strstr(rcl_last_error(), extra) != NULL, "message has '%s': %s", extra,    \
              rcl_last_error());                                                                       \
        (void)d_;                                                                                      \
    } while (0)

static void test_roundtrip(void) {
    uint8_t img[N * H * W], lab[N];
    make_set(img, lab);
    int di[3] = {N, H, W}, dl[1] = {N};
    for (int gz = 0; gz < 2; gz++) {
        const char *ip = tmp(gz ? "img.gz" : "img.idx"), *lp = tmp(gz ? "lab.gz" : "lab.idx");
        CHECK_OK(rcl_idx_save(ip, img, 3, di, gz));
        CHECK_OK(rcl_idx_save(lp, lab, 1, dl, gz));
        unsigned char *raw;
        size_t rn;
        CHECK_OK(rcl_file_read(ip, &raw, &rn));
        CHECK(gz ? (rn > 2 && raw[0] == 0x1f && raw[1] == 0x8b) : rn == 16 + sizeof img, "file form gz=%d", gz);
        free(raw);
        rcl_dataset ds;
        CHECK_OK(rcl_idx_load(ip, lp, 10, "t:idx", &ds));
        CHECK(ds.n == N && ds.c == 1 && ds.h == H && ds.w == W && ds.num_classes == 10, "shape %d %d %d %d",
              ds.n, ds.c, ds.h, ds.w);
        CHECK(ds.pixels && !memcmp(ds.pixels, img, sizeof img), "pixels equal (gz=%d)", gz);
        CHECK(ds.values == NULL, "no float values");
        int ok = 1;
        for (int i = 0; i < N; i++)
            ok &= ds.labels[i] == lab[i];
        CHECK(ok, "labels equal (gz=%d)", gz);
        CHECK(!strcmp(ds.name, "t:idx"), "name %s", ds.name);
        char want[65];
        sha_of_files(ip, lp, want);
        CHECK(!strcmp(ds.sha256, want), "provenance = sha256 of both files in order: %s vs %s", ds.sha256, want);
        rcl_dataset_free(&ds);
        CHECK(ds.pixels == NULL && ds.n == 0, "free zeroes");
    }
    /* num_classes 0: inferred as max label + 1 */
    rcl_dataset ds;
    CHECK_OK(rcl_idx_load(tmp("img.idx"), tmp("lab.idx"), 0, NULL, &ds));
    CHECK(ds.num_classes == 8, "inferred classes %d (max label 7)", ds.num_classes);
    rcl_dataset_free(&ds);
}

static void test_corrupt(void) {
    uint8_t img[N * H * W], lab[N];
    make_set(img, lab);
    int di[3] = {N, H, W}, dl[1] = {N};
    CHECK_OK(rcl_idx_save(tmp("img.idx"), img, 3, di, 0));
    CHECK_OK(rcl_idx_save(tmp("lab.idx"), lab, 1, dl, 0));
    CHECK_OK(rcl_idx_save(tmp("img.gz"), img, 3, di, 1));
    unsigned char *raw, *gz;
    size_t rn, gn;
    CHECK_OK(rcl_file_read(tmp("img.idx"), &raw, &rn));
    CHECK_OK(rcl_file_read(tmp("img.gz"), &gz, &gn));
    unsigned char *b = malloc(rn + 64);
    rcl_dataset ds;
    char L[600];
    snprintf(L, sizeof L, "%s", tmp("lab.idx"));

    put("trunc.idx", raw, rn - 10);
    EXPECT_FORMAT(rcl_idx_load(tmp("trunc.idx"), L, 10, NULL, &ds), "trunc.idx", "truncated");
    put("trunc.gz", gz, gn / 2);
    EXPECT_FORMAT(rcl_idx_load(tmp("trunc.gz"), L, 10, NULL, &ds), "trunc.gz", "truncated");
    put("short.gz", gz, gn - 4); /* deflate data complete, gzip trailer cut */
    EXPECT_FORMAT(rcl_idx_load(tmp("short.gz"), L, 10, NULL, &ds), "short.gz", "");
    memcpy(b, gz, gn);
    for (size_t i = 12; i < gn - 8; i++)
        b[i] ^= 0x5a;
    put("corrupt.gz", b, gn);
    EXPECT_FORMAT(rcl_idx_load(tmp("corrupt.gz"), L, 10, NULL, &ds), "corrupt.gz", "");
    memcpy(b, raw, rn);
    b[0] = 1;
    put("magic.idx", b, rn);
    EXPECT_FORMAT(rcl_idx_load(tmp("magic.idx"), L, 10, NULL, &ds), "magic.idx", "magic");
    memcpy(b, raw, rn);
    b[2] = 0x0d; /* float elements */
    put("type.idx", b, rn);
    EXPECT_FORMAT(rcl_idx_load(tmp("type.idx"), L, 10, NULL, &ds), "type.idx", "0x0d");
    EXPECT_FORMAT(rcl_idx_load(L, L, 10, NULL, &ds), "lab.idx", "dimensions"); /* labels as images */
    memcpy(b, raw, rn);
    b[rn] = 0;
    put("trailing.idx", b, rn + 1);
    EXPECT_FORMAT(rcl_idx_load(tmp("trailing.idx"), L, 10, NULL, &ds), "trailing.idx", "trailing");
    /* a header claiming 2^31-1 images of 65535 x 65535 over a few bytes: refused, no allocation */
    memcpy(b, raw, rn);
    memcpy(b + 4, "\x7f\xff\xff\xff\x00\x00\xff\xff\x00\x00\xff\xff", 12);
    put("huge.idx", b, rn);
    EXPECT_FORMAT(rcl_idx_load(tmp("huge.idx"), L, 10, NULL, &ds), "huge.idx", "");
    put("empty.idx", b, 0);
    EXPECT_FORMAT(rcl_idx_load(tmp("empty.idx"), L, 10, NULL, &ds), "empty.idx", "");
    put("hdr.idx", raw, 9);
    EXPECT_FORMAT(rcl_idx_load(tmp("hdr.idx"), L, 10, NULL, &ds), "hdr.idx", "");
    /* count mismatch: 6 labels for 7 images */
    int d6[1] = {N - 1};
    CHECK_OK(rcl_idx_save(tmp("lab6.idx"), lab, 1, d6, 0));
    EXPECT_FORMAT(rcl_idx_load(tmp("img.idx"), tmp("lab6.idx"), 10, NULL, &ds), "lab6.idx", "6 labels");
    /* label out of range: record 3 has label 10 */
    uint8_t bad[N];
    memcpy(bad, lab, N);
    bad[3] = 10;
    CHECK_OK(rcl_idx_save(tmp("labbad.gz"), bad, 1, dl, 1));
    EXPECT_FORMAT(rcl_idx_load(tmp("img.idx"), tmp("labbad.gz"), 10, NULL, &ds), "labbad.gz", "record 3");
    CHECK(ds.pixels == NULL && ds.n == 0, "failed load leaves the dataset empty");
    /* missing file: I/O error naming it */
    CHECK_FAILS(rcl_idx_load(tmp("nope.idx"), L, 10, NULL, &ds), RCL_ERR_IO);
    CHECK(strstr(rcl_last_error(), "nope.idx") != NULL, "names the missing file: %s", rcl_last_error());
    /* a directory is not a file */
    CHECK_FAILS(rcl_idx_load(dir, L, 10, NULL, &ds), RCL_ERR_IO);
    free(raw);
    free(gz);
    free(b);
}

/* fashion-mnist loader on a folder of unpacked (raw) files, as `gunzip *.gz` leaves them */
static void test_fashion_layout(void) {
    uint8_t img[N * 28 * 28], lab[N];
    for (int i = 0; i < N * 28 * 28; i++)
        img[i] = (uint8_t)(i % 251);
    for (int i = 0; i < N; i++)
        lab[i] = (uint8_t)i;
    char fm[600];
    snprintf(fm, sizeof fm, "%s/fm", dir);
    CHECK_OK(rcl_mkdirs(fm));
    int di[3] = {N, 28, 28}, dl[1] = {N};
    char p[700];
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", fm);
    CHECK_OK(rcl_idx_save(p, img, 3, di, 0));
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", fm);
    CHECK_OK(rcl_idx_save(p, lab, 1, dl, 0));
    rcl_dataset ds;
    CHECK_OK(rcl_fashion_mnist_load(fm, 0, &ds));
    CHECK(ds.n == N && ds.h == 28 && !strcmp(ds.name, "fashion-mnist:test"), "raw layout: n=%d name=%s", ds.n,
          ds.name);
    rcl_dataset_free(&ds);
    CHECK_FAILS(rcl_fashion_mnist_load(fm, 1, &ds), RCL_ERR_IO); /* no train files there */
    CHECK(strstr(rcl_last_error(), "train-images-idx3-ubyte") != NULL, "names the file: %s", rcl_last_error());
}

static void test_real_fashion_mnist(void) {
    const char *d = "/usr/share/datasets/fashion-mnist";
    char p[256];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", d);
    FILE *f = fopen(p, "rb");
    if (!f) {
        printf("SKIP real Fashion-MNIST: %s not installed (Debian package dataset-fashion-mnist)\n", p);
        return;
    }
    fclose(f);
    /* the Debian files' checksums (sha256sum), so a changed package is noticed */
    static const char *files[4][2] = {
        {"train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"},
        {"train-labels-idx1-ubyte.gz", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"},
        {"t10k-images-idx3-ubyte.gz", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"},
        {"t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"},
    };
    for (int i = 0; i < 4; i++) {
        char hex[65];
        snprintf(p, sizeof p, "%s/%s", d, files[i][0]);
        CHECK_OK(rcl_sha256_file(p, hex));
        CHECK(!strcmp(hex, files[i][1]), "%s sha256 %s", files[i][0], hex);
    }
    for (int train = 1; train >= 0; train--) {
        rcl_dataset ds;
        CHECK_OK(rcl_fashion_mnist_load(NULL, train, &ds));
        int n = train ? 60000 : 10000;
        CHECK(ds.n == n && ds.c == 1 && ds.h == 28 && ds.w == 28 && ds.num_classes == 10, "%s: %d x %dx%dx%d",
              ds.name, ds.n, ds.c, ds.h, ds.w);
        if (ds.n != n)
            continue;
        CHECK(!strcmp(ds.name, train ? "fashion-mnist:train" : "fashion-mnist:test"), "name %s", ds.name);
        int count[10] = {0}, ok = 1;
        for (int i = 0; i < n; i++) {
            ok &= ds.labels[i] >= 0 && ds.labels[i] < 10;
            if (ok)
                count[ds.labels[i]]++;
        }
        CHECK(ok, "labels in 0..9");
        for (int c = 0; c < 10; c++)
            CHECK(count[c] == n / 10, "class %d has %d images", c, count[c]);
        static const int first_train[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, first_test[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
        for (int i = 0; i < 10; i++)
            CHECK(ds.labels[i] == (train ? first_train : first_test)[i], "label %d", i);
        long long s0 = 0, sl = 0, all = 0;
        for (int i = 0; i < 784; i++) {
            s0 += ds.pixels[i];
            sl += ds.pixels[(size_t)(n - 1) * 784 + i];
        }
        for (size_t i = 0; i < (size_t)n * 784; i++)
            all += ds.pixels[i];
        CHECK(s0 == (train ? 76247 : 33456) && sl == (train ? 16684 : 24390), "first/last image sums %lld %lld", s0,
              sl);
        CHECK(all == (train ? 3431114169LL : 573469082LL), "pixel sum %lld", all);
        CHECK(ds.pixels[14 * 28 + 14] == (train ? 217 : 110), "pixel (14,14) of image 0");
        /* provenance: sha256 of images.gz then labels.gz (cat a b | sha256sum) */
        const char *want = train ? "8a7d774f94e35a4b1b24d354583140d3cad10f742fae0e0465e4e7f3b13c09be"
                                 : "2745d3e0a451fa5316dcdbabb5ffe689a6aa831f9f3922f9c2b96a38d353b07b";
        CHECK(!strcmp(ds.sha256, want), "provenance %s", ds.sha256);
        rcl_dataset_free(&ds);
    }
}

int main(void) {
    snprintf(dir, sizeof dir, "%s", rcl_test_tmpdir());
    test_roundtrip();
    test_corrupt();
    test_fashion_layout();
    test_real_fashion_mnist();
    return rcl_test_finish();
}
