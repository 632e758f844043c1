/* Images: PIL-exact resize + centre crop (references from tests/data/gen_data_images.py),
 * ImageFolder / flat folders, Tiny ImageNet layout, and undecodable files. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/data.h"
#include "core/fileio.h"
#include "core/sha256.h"
#include "data/data_internal.h"

static const char *data_dir;
static char tmpd[512];

static void test_pil_reference(void) {
    static const struct {
        const char *file;
        int h, w, exact;
    } cases[] = {
        {"rgb_35x47.png", 32, 32, 1},  {"rgb_35x47.png", 24, 40, 1}, {"grey_50x20.png", 32, 32, 1},
        {"rgba_33x33.png", 32, 32, 1}, {"rgb_9x13.png", 32, 32, 1},  {"rgb_64x64.png", 32, 32, 1},
        {"rgb_64x64.png", 64, 64, 1},  {"rgb_100x37.png", 32, 32, 1}, {"rgb_30x40.jpg", 32, 32, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        for (int c = 1; c <= 3; c += 2) {
            char src[1024], ref[1100], base[256];
            snprintf(src, sizeof src, "%s/data_resize/%s", data_dir, cases[k].file);
            snprintf(base, sizeof base, "%s", cases[k].file);
            *strrchr(base, '.') = 0;
            snprintf(ref, sizeof ref, "%s/data_resize/%s.%dx%d.c%d", data_dir, base, cases[k].h, cases[k].w, c);
            unsigned char *want;
            size_t n;
            CHECK_OK(rcl_file_read(ref, &want, &n));
            size_t m = (size_t)c * cases[k].h * cases[k].w;
            if (!want || n != m) {
                CHECK(0, "%s: reference of %zu bytes", ref, n);
                free(want);
                continue;
            }
            uint8_t *got = malloc(m);
            rcl_image_options o = {.h = cases[k].h, .w = cases[k].w, .channels = c};
            CHECK_OK(rcl_image_load_file(src, &o, got));
            long diff = 0;
            int maxd = 0;
            for (size_t i = 0; i < m; i++) {
                int d = abs(got[i] - want[i]);
                diff += d;
                maxd = d > maxd ? d : maxd;
            }
            if (cases[k].exact)
                CHECK(maxd == 0, "%s -> %dx%d c=%d: identical to Pillow (max diff %d)", cases[k].file, cases[k].h,
                      cases[k].w, c, maxd);
            else /* stb_image's JPEG decoder is not libjpeg's: close, not equal */
                CHECK(diff < (long)m && maxd <= 8, "%s c=%d: mean diff %.3f max %d vs Pillow+libjpeg", cases[k].file,
                      c, diff / (double)m, maxd);
            free(got);
            free(want);
        }
    /* equal sizes: a plain copy */
    uint8_t a[2 * 3 * 3], b[2 * 3 * 3];
    for (int i = 0; i < 18; i++)
        a[i] = (uint8_t)(i * 11);
    CHECK_OK(rcl_image_resize_u8(a, 3, 2, 3, b, 3, 2));
    CHECK(!memcmp(a, b, 18), "same size resize is the identity");
    /* a constant image stays constant through down- and up-sampling */
    uint8_t big[50 * 70], small[9 * 13], up[64 * 80];
    memset(big, 77, sizeof big);
    CHECK_OK(rcl_image_resize_u8(big, 70, 50, 1, small, 13, 9));
    CHECK_OK(rcl_image_resize_u8(small, 13, 9, 1, up, 80, 64));
    int cst = 1;
    for (size_t i = 0; i < sizeof small; i++)
        cst &= small[i] == 77;
    for (size_t i = 0; i < sizeof up; i++)
        cst &= up[i] == 77;
    CHECK(cst, "constant image preserved");
    CHECK_FAILS(rcl_image_resize_u8(a, 0, 2, 3, b, 3, 2), RCL_ERR_INVALID_ARG);

    /* PPM headers claiming 636633 x 3 (a fuzz finding: 13 bytes, then a 6.8M x 32 resize for
     * seconds) or a height of 0 are refused before decoding, naming the file */
    const char *bad[][2] = {{"P6636633\r3&~", "too elongated"},
                            {"P6\n3 636633\n255\n", "too elongated"},
                            {"P6\n3 a{", "empty"}};
    for (int i = 0; i < 3; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/bad%d.ppm", rcl_test_tmpdir(), i);
        CHECK_OK(rcl_file_write_atomic(path, bad[i][0], strlen(bad[i][0])));
        rcl_image_options o = {0};
        uint8_t chw[3 * 32 * 32];
        CHECK_FAILS(rcl_image_load_file(path, &o, chw), RCL_ERR_FORMAT);
        CHECK(strstr(rcl_last_error(), bad[i][1]) && strstr(rcl_last_error(), path), "%s", rcl_last_error());
    }
    /* 19-byte RLE TGAs claiming 38680 x 3852 pixels (a fuzz finding: 149 M pixels decoded from
     * 20 bytes) and 4000 x 4000 (within the pixel limit, not within what 19 bytes can hold) */
    unsigned char tga[] = {0x01, 0x00, 0x0a, 0x33, 0x20, 0x0a, 0x36, 0x31, 0x01, 0x00,
                           0x0d, 0x00, 0x18, 0x97, 0x0c, 0x0f, 0x10, 0x11, 0x12};
    for (int i = 0; i < 2; i++) {
        if (i)
            tga[12] = tga[14] = 0xa0, tga[13] = tga[15] = 0x0f;
        char path[600];
        snprintf(path, sizeof path, "%s/bomb%d.tga", rcl_test_tmpdir(), i);
        CHECK_OK(rcl_file_write_atomic(path, tga, sizeof tga));
        rcl_image_options o = {0};
        uint8_t chw[3 * 32 * 32];
        CHECK_FAILS(rcl_image_load_file(path, &o, chw), RCL_ERR_FORMAT);
        CHECK(strstr(rcl_last_error(), i ? "cannot hold" : "too large") && strstr(rcl_last_error(), path), "%s",
              rcl_last_error());
    }
}

static void img(uint8_t *chw, int c, int h, int w, int seed) {
    for (int i = 0; i < c * h * w; i++)
        chw[i] = (uint8_t)(i * 3 + seed * 17);
}

static void put_png(const char *dir, const char *name, int seed) {
    char p[1024];
    uint8_t x[3 * 32 * 32];
    img(x, 3, 32, 32, seed);
    snprintf(p, sizeof p, "%s/%s", dir, name);
    CHECK_OK(rcl_image_write_png(p, x, 3, 32, 32));
}

static void put_text(const char *path, const char *text) { CHECK_OK(rcl_file_write_atomic(path, text, strlen(text))); }

static int pixels_are(const rcl_dataset *ds, int i, int seed) {
    uint8_t x[3 * 32 * 32];
    img(x, 3, 32, 32, seed);
    return !memcmp(ds->pixels + (size_t)i * 3072, x, 3072);
}

static void test_folders(void) {
    char root[700], d[800], p[900];
    snprintf(root, sizeof root, "%s/classes", tmpd);
    /* classes b_cls and a_cls (sorted: a_cls = 0); a nested folder; a non-image; a hidden file */
    snprintf(d, sizeof d, "%s/b_cls", root);
    CHECK_OK(rcl_mkdirs(d));
    put_png(d, "z.png", 1);
    put_png(d, "y.PNG", 2);
    snprintf(p, sizeof p, "%s/notes.txt", d);
    put_text(p, "not an image");
    snprintf(d, sizeof d, "%s/a_cls/sub", root);
    CHECK_OK(rcl_mkdirs(d));
    put_png(d, "a.png", 3);
    snprintf(d, sizeof d, "%s/a_cls", root);
    put_png(d, "m.png", 4);
    put_png(d, ".hidden.png", 9);
    rcl_dataset ds;
    rcl_image_options o = {0};
    CHECK_OK(rcl_image_folder_load(root, &o, &ds));
    /* os.walk order: a_cls/m.png, a_cls/sub/a.png, b_cls/y.PNG, b_cls/z.png */
    CHECK(ds.n == 4 && ds.num_classes == 2 && ds.c == 3 && ds.h == 32 && ds.w == 32, "n=%d classes=%d", ds.n,
          ds.num_classes);
    if (ds.n == 4) {
        CHECK(ds.labels[0] == 0 && ds.labels[1] == 0 && ds.labels[2] == 1 && ds.labels[3] == 1, "labels by sorted class");
        CHECK(pixels_are(&ds, 0, 4) && pixels_are(&ds, 1, 3) && pixels_are(&ds, 2, 2) && pixels_are(&ds, 3, 1),
              "file order within classes (dir, then name), pixels exact at 32x32");
    }
    rcl_sha256 h;
    rcl_sha256_init(&h);
    const char *order[4] = {"a_cls/m.png", "a_cls/sub/a.png", "b_cls/y.PNG", "b_cls/z.png"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", root, order[i]);
        rcl_sha256_update_file(&h, p);
    }
    char want[65];
    rcl_sha256_final_hex(&h, want);
    CHECK(!strcmp(ds.sha256, want), "provenance = sha256 of the image files in load order");
    rcl_dataset_free(&ds);

    /* the same folder flat: unlabelled, every image, sorted by (folder, name) */
    o.layout = RCL_FOLDER_FLAT;
    CHECK_OK(rcl_image_folder_load(root, &o, &ds));
    CHECK(ds.n == 4 && ds.num_classes == 0 && ds.labels[0] == -1 && pixels_are(&ds, 1, 3), "flat: n=%d", ds.n);
    rcl_dataset_free(&ds);
    /* a folder with images at its top is flat under auto; size and channels via the spec */
    char flat[700], spec[1200];
    snprintf(flat, sizeof flat, "%s/data_resize", data_dir);
    snprintf(spec, sizeof spec, "folder:%s,size=16,channels=1", flat);
    CHECK_OK(rcl_dataset_load(spec, 0, &ds));
    CHECK(ds.n == 7 && ds.num_classes == 0 && ds.c == 1 && ds.h == 16 && ds.w == 16, "auto flat: n=%d c=%d %dx%d",
          ds.n, ds.c, ds.h, ds.w);
    rcl_dataset_free(&ds);
    /* n= on a folder decodes only the chosen files: same images as loading all, then subsetting */
    rcl_dataset all;
    snprintf(spec, sizeof spec, "folder:%s", flat);
    CHECK_OK(rcl_dataset_load(spec, 0, &all));
    CHECK_OK(rcl_dataset_subset(&all, 3, 5));
    snprintf(spec, sizeof spec, "folder:%s,n=3,seed=5", flat);
    CHECK_OK(rcl_dataset_load(spec, 0, &ds));
    CHECK(ds.n == 3 && all.n == 3 && !memcmp(ds.pixels, all.pixels, 3 * 3072), "n=3 subset chosen before decoding");
    CHECK(strcmp(ds.sha256, all.sha256) != 0, "provenance covers only the files read");
    CHECK(strstr(ds.name, ",n=3,seed=5") != NULL, "name %s", ds.name);
    rcl_dataset_free(&ds);
    rcl_dataset_free(&all);
    snprintf(spec, sizeof spec, "folder:%s,n=8", flat);
    CHECK_FAILS(rcl_dataset_load(spec, 0, &ds), RCL_ERR_INVALID_ARG);
    snprintf(spec, sizeof spec, "folder:%s,classes=1,size=8x12", root);
    CHECK_OK(rcl_dataset_load(spec, 0, &ds));
    CHECK(ds.n == 2 && ds.num_classes == 1 && ds.h == 8 && ds.w == 12 && ds.labels[0] == 0, "classes=1: n=%d", ds.n);
    rcl_dataset_free(&ds);

    /* an undecodable image: RCL_ERR_FORMAT naming the file and its index */
    snprintf(p, sizeof p, "%s/b_cls/x_bad.png", root);
    put_text(p, "\x89PNG\r\n\x1a\n but then nonsense");
    o.layout = RCL_FOLDER_AUTO;
    CHECK_FAILS(rcl_image_folder_load(root, &o, &ds), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "x_bad.png") && strstr(rcl_last_error(), "image 2"), "%s", rcl_last_error());
    CHECK(ds.pixels == NULL, "nothing left allocated");
    /* a truncated PNG */
    unsigned char *b;
    size_t n;
    snprintf(p, sizeof p, "%s/b_cls/y.PNG", root);
    CHECK_OK(rcl_file_read(p, &b, &n));
    snprintf(p, sizeof p, "%s/b_cls/x_bad.png", root);
    CHECK_OK(rcl_file_write_atomic(p, b, n / 2));
    CHECK_FAILS(rcl_image_folder_load(root, &o, &ds), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "x_bad.png") != NULL, "%s", rcl_last_error());
    free(b);
    /* WebP is in torchvision's list but stb cannot decode it: a loud failure, not a skip */
    remove(p);
    snprintf(p, sizeof p, "%s/b_cls/w.webp", root);
    put_text(p, "RIFF\x10\0\0\0WEBPVP8 ");
    CHECK_FAILS(rcl_image_folder_load(root, &o, &ds), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "w.webp") != NULL, "%s", rcl_last_error());
    remove(p);
    /* a class folder without images */
    snprintf(d, sizeof d, "%s/c_empty", root);
    CHECK_OK(rcl_mkdirs(d));
    CHECK_FAILS(rcl_image_folder_load(root, &o, &ds), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "c_empty") != NULL, "%s", rcl_last_error());
    CHECK_FAILS(rcl_image_folder_load(d, &o, &ds), RCL_ERR_FORMAT); /* no images, no classes */
    snprintf(d, sizeof d, "%s/missing", root);
    CHECK_FAILS(rcl_image_folder_load(d, &o, &ds), RCL_ERR_IO);
    CHECK(strstr(rcl_last_error(), "missing") != NULL, "%s", rcl_last_error());

    /* PNG round trip of a 1-channel image */
    uint8_t g[5 * 7], back[5 * 7];
    for (int i = 0; i < 35; i++)
        g[i] = (uint8_t)(i * 7);
    snprintf(p, sizeof p, "%s/grey.png", tmpd);
    CHECK_OK(rcl_image_write_png(p, g, 1, 5, 7));
    rcl_image_options og = {.h = 5, .w = 7, .channels = 1};
    CHECK_OK(rcl_image_load_file(p, &og, back));
    CHECK(!memcmp(g, back, 35), "grey PNG round trip");
}

static void tiny_png(const char *dir, const char *name, int seed) {
    char p[1024];
    uint8_t x[3 * 64 * 64];
    img(x, 3, 64, 64, seed);
    snprintf(p, sizeof p, "%s/%s", dir, name);
    CHECK_OK(rcl_image_write_png(p, x, 3, 64, 64)); /* PNG bytes named .JPEG: stb goes by content */
}

static void test_tiny_imagenet(void) {
    char root[700], d[800], p[900];
    snprintf(root, sizeof root, "%s/tiny-imagenet-200", tmpd);
    const char *ids[2] = {"n02000000", "n01000000"};
    for (int c = 0; c < 2; c++) {
        snprintf(d, sizeof d, "%s/train/%s/images", root, ids[c]);
        CHECK_OK(rcl_mkdirs(d));
        for (int i = 0; i < 2; i++) {
            char name[64];
            snprintf(name, sizeof name, "%s_%d.JPEG", ids[c], i);
            tiny_png(d, name, c * 10 + i);
        }
        snprintf(p, sizeof p, "%s/train/%s/%s_boxes.txt", root, ids[c], ids[c]);
        put_text(p, "n_0.JPEG\t0\t0\t10\t10\n");
    }
    snprintf(p, sizeof p, "%s/wnids.txt", root);
    put_text(p, "n02000000\nn01000000\n");
    snprintf(d, sizeof d, "%s/val/images", root);
    CHECK_OK(rcl_mkdirs(d));
    tiny_png(d, "val_0.JPEG", 100);
    tiny_png(d, "val_1.JPEG", 101);
    tiny_png(d, "val_2.JPEG", 102);
    snprintf(p, sizeof p, "%s/val/val_annotations.txt", root);
    put_text(p, "val_0.JPEG\tn02000000\t0\t32\t44\t62\nval_1.JPEG\tn01000000\t1\t2\t3\t4\r\n"
                "val_2.JPEG\tn02000000\t5\t5\t9\t9\n");
    rcl_dataset ds;
    CHECK_OK(rcl_tiny_imagenet_load(root, 1, NULL, &ds));
    CHECK(ds.n == 4 && ds.num_classes == 2 && ds.h == 64 && ds.w == 64, "train n=%d %dx%d", ds.n, ds.h, ds.w);
    if (ds.n == 4) {
        uint8_t x[3 * 64 * 64];
        img(x, 3, 64, 64, 10); /* n01000000 (sorted first) image 0 */
        CHECK(ds.labels[0] == 0 && ds.labels[2] == 1 && !memcmp(ds.pixels, x, sizeof x),
              "classes in sorted wnid order, exact 64x64 pixels");
    }
    rcl_dataset_free(&ds);
    char spec[1200];
    snprintf(spec, sizeof spec, "tinyimagenet:%s,split=test,size=32", root);
    CHECK_OK(rcl_dataset_load(spec, 1, &ds));
    CHECK(ds.n == 3 && ds.h == 32 && ds.labels[0] == 1 && ds.labels[1] == 0 && ds.labels[2] == 1 &&
              !strcmp(ds.name, "tinyimagenet:val"),
          "val: annotation order, labels via wnid, resized to 32 (n=%d)", ds.n);
    rcl_dataset_free(&ds);
    CHECK_OK(rcl_tiny_imagenet_load(tmpd, 0, NULL, &ds)); /* the folder above tiny-imagenet-200/ */
    CHECK(ds.n == 3, "parent of tiny-imagenet-200/ accepted");
    rcl_dataset_free(&ds);
    /* an annotation naming an unknown class: file and line in the message */
    put_text(p, "val_0.JPEG\tn02000000\t0\t0\t1\t1\nval_1.JPEG\tn09999999\t0\t0\t1\t1\n");
    CHECK_FAILS(rcl_tiny_imagenet_load(root, 0, NULL, &ds), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "val_annotations.txt:2") && strstr(rcl_last_error(), "n09999999"), "%s",
          rcl_last_error());
    put_text(p, "val_0.JPEG n02000000\n");
    CHECK_FAILS(rcl_tiny_imagenet_load(root, 0, NULL, &ds), RCL_ERR_FORMAT);
    put_text(p, "val_7.JPEG\tn02000000\t0\t0\t1\t1\n");
    CHECK_FAILS(rcl_tiny_imagenet_load(root, 0, NULL, &ds), RCL_ERR_IO);
    CHECK(strstr(rcl_last_error(), "val_7.JPEG") != NULL, "%s", rcl_last_error());
    /* a train class folder missing from wnids.txt */
    snprintf(p, sizeof p, "%s/wnids.txt", root);
    put_text(p, "n01000000\n");
    CHECK_FAILS(rcl_tiny_imagenet_load(root, 1, NULL, &ds), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "n02000000") != NULL, "%s", rcl_last_error());
    /* without wnids.txt the train folders define the classes */
    remove(p);
    CHECK_OK(rcl_tiny_imagenet_load(root, 1, NULL, &ds));
    CHECK(ds.n == 4 && ds.num_classes == 2, "classes from train/ when wnids.txt is absent");
    rcl_dataset_free(&ds);
}

/* A 16-bit grey PNM (P5, maxval > 255): Debian's stb converted it to RGB as if 8-bit, then read
 * it as 16-bit past the end of its buffer (a crash, found by fuzz_image). It decodes now, its
 * three channels equal; the fuzzer's truncated file decodes or fails, and does not crash. */
static void test_pnm_16bit(void) {
    enum { W = 101, H = 723 };
    char hdr[32];
    int hn = snprintf(hdr, sizeof hdr, "P5\n%d %d\n7233\n", W, H);
    size_t n = (size_t)hn + 2 * W * H;
    unsigned char *f = malloc(n);
    memcpy(f, hdr, (size_t)hn);
    for (size_t i = 0; i < (size_t)W * H; i++) {
        unsigned v = (unsigned)(i * 37 % 7234);
        f[hn + 2 * i] = (unsigned char)(v >> 8), f[hn + 2 * i + 1] = (unsigned char)v;
    }
    static uint8_t chw[3 * 32 * 32];
    rcl_image_options o = {.h = 32, .w = 32, .channels = 3};
    CHECK_OK(rcl_data_decode_image("p5-16bit.pgm", f, n, &o, chw));
    int same = 1, varied = 0;
    for (int i = 0; i < 32 * 32; i++) {
        same &= chw[i] == chw[1024 + i] && chw[i] == chw[2048 + i];
        varied |= chw[i] != chw[0];
    }
    CHECK(same && varied, "16-bit grey PNM: three equal, non-constant channels");
    static const char cut[] = "P50101\n723\n7233";
    rcl_status st = rcl_data_decode_image("cut.pgm", (const unsigned char *)cut, sizeof cut - 1, &o, chw);
    CHECK(st == RCL_OK || st == RCL_ERR_FORMAT, "truncated 16-bit PNM: status %d", (int)st);
    free(f);
}

int main(void) {
    data_dir = getenv("RCL_TEST_DATA");
    if (!data_dir)
        return 1;
    snprintf(tmpd, sizeof tmpd, "%s", rcl_test_tmpdir());
    test_pil_reference();
    test_folders();
    test_tiny_imagenet();
    test_pnm_16bit();
    return rcl_test_finish();
}
