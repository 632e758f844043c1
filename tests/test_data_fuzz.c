/* Deterministic mutation run over the loaders' fixtures: flipped bytes and cut files must
 * load or fail with RCL_ERR_FORMAT (never crash, never another status). Run it under
 * -DRCL_SANITIZE=ON to catch out-of-bounds reads. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/data.h"
#include "core/fileio.h"
#include "robustcl/rng.h"

enum { K_NPZ, K_IDX, K_IMAGE, K_NPY, K_SVHN, K_CIFAR, K_PICKLE };

static const char *data_dir;

/* plain write: rcl_file_write_atomic's fsync per case would make this test I/O bound */
static void write_plain(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

static rcl_status load(int kind, const char *path, const char *aux) {
    rcl_dataset d;
    rcl_status s;
    const char *pp[1] = {path};
    switch (kind) {
    case K_NPZ: s = rcl_imagenet32_load_files(pp, 1, NULL, &d); break;
    case K_PICKLE: s = rcl_imagenet32_pickle_load_files(pp, 1, NULL, &d); break;
    case K_IDX: s = rcl_idx_load(path, aux, 0, NULL, &d); break;
    case K_CIFAR: s = rcl_cifar100_load_files(pp, 1, NULL, &d, NULL); break;
    case K_SVHN: {
        char spec[700];
        snprintf(spec, sizeof spec, "svhn:%s", path);
        s = rcl_dataset_load(spec, 0, &d);
        break;
    }
    case K_IMAGE: {
        rcl_image_options o = {.h = 32, .w = 32, .channels = 3};
        static uint8_t out[3 * 32 * 32];
        return rcl_image_load_file(path, &o, out);
    }
    default: {
        rcl_npy a;
        s = rcl_npy_load(path, &a);
        if (s == RCL_OK)
            rcl_npy_free(&a);
        return s;
    }
    }
    if (s == RCL_OK)
        rcl_dataset_free(&d);
    return s;
}

static void mutate(const char *what, int kind, const unsigned char *b, size_t n, const char *ext, const char *aux,
                   int iters, uint64_t seed) {
    char path[600];
    snprintf(path, sizeof path, "%s/mut%s", rcl_test_tmpdir(), ext);
    unsigned char *c = malloc(n);
    rcl_rng r = rcl_rng_seed(seed);
    int ok = 0, fmt = 0, other = 0;
    for (int it = 0; it < iters; it++) {
        memcpy(c, b, n);
        int flips = 1 + (int)rcl_rng_below(&r, 4);
        for (int f = 0; f < flips; f++)
            c[rcl_rng_below(&r, n)] ^= (unsigned char)(1 + rcl_rng_below(&r, 255));
        size_t len = rcl_rng_below(&r, 4) == 0 ? (size_t)rcl_rng_below(&r, n + 1) : n;
        write_plain(path, c, len);
        rcl_status s = load(kind, path, aux);
        if (s == RCL_OK)
            ok++;
        else if (s == RCL_ERR_FORMAT && strstr(rcl_last_error(), "mut"))
            fmt++;
        else if (other++ == 0)
            fprintf(stderr, "%s: %s: %s\n", what, rcl_status_name(s), rcl_last_error());
    }
    CHECK(other == 0, "%s: %d loads, %d format errors naming the file, %d other outcomes", what, ok, fmt, other);
    free(c);
}

static void run_file(const char *what, int kind, const char *rel, const char *ext, const char *aux, int iters) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", data_dir, rel);
    unsigned char *b;
    size_t n;
    CHECK_OK(rcl_file_read(p, &b, &n));
    if (b)
        mutate(what, kind, b, n, ext, aux, iters, 1234 + (uint64_t)kind);
    free(b);
}

int main(void) {
    data_dir = getenv("RCL_TEST_DATA");
    if (!data_dir)
        return 1;
    run_file("npz stored", K_NPZ, "data_imagenet32/train_data_batch_2.npz", ".npz", NULL, 300);
    run_file("npz deflated+descriptors", K_NPZ, "data_imagenet32/val_data.npz", ".npz", NULL, 300);
    run_file("npz zip64", K_NPZ, "data_imnet_zip64.npz", ".npz", NULL, 200);
    run_file("imagenet32 pickle", K_PICKLE, "data_imagenet32_pkl/train_data_batch_2", ".pkl", NULL, 300);
    run_file("png", K_IMAGE, "data_resize/rgb_35x47.png", ".png", NULL, 300);
    run_file("jpeg", K_IMAGE, "data_resize/rgb_30x40.jpg", ".jpg", NULL, 300);
    run_file("npy", K_NPY, "data_npy_v3_i2.npy", ".npy", NULL, 300);
    if (rcl_data_have_matio())
        run_file("svhn mat", K_SVHN, "data_svhn_z.mat", ".mat", NULL, 200);

    /* IDX gzip and CIFAR-100 records made here */
    char lab[600], img[600];
    uint8_t px[6 * 5 * 4], lb[6] = {0, 1, 2, 3, 4, 5};
    for (int i = 0; i < 120; i++)
        px[i] = (uint8_t)(i * 5);
    int di[3] = {6, 5, 4}, dl[1] = {6};
    snprintf(lab, sizeof lab, "%s/lab.idx", rcl_test_tmpdir());
    snprintf(img, sizeof img, "%s/img.gz", rcl_test_tmpdir());
    CHECK_OK(rcl_idx_save(lab, lb, 1, dl, 0));
    CHECK_OK(rcl_idx_save(img, px, 3, di, 1));
    unsigned char *b;
    size_t n;
    CHECK_OK(rcl_file_read(img, &b, &n));
    if (b)
        mutate("idx gzip", K_IDX, b, n, ".gz", lab, 400, 99);
    free(b);
    unsigned char rec[3 * 3074];
    for (size_t i = 0; i < sizeof rec; i++)
        rec[i] = (unsigned char)(i % 3074 < 2 ? i % 7 : i);
    mutate("cifar100", K_CIFAR, rec, sizeof rec, ".bin", NULL, 200, 5);
    return rcl_test_finish();
}
