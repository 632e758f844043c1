/* Released common-corruption benchmarks in .npy form (CIFAR-10-C, CIFAR-100-C: Hendrycks &
 * Dietterich, ICLR 2019): one file per corruption holding its five severities stacked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

const char *const rcl_corrupted_names[RCL_CORRUPTED_NAMES] = {
    "gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur",
    "motion_blur",    "zoom_blur",  "snow",          "frost",        "fog",
    "brightness",     "contrast",   "elastic_transform", "pixelate", "jpeg_compression",
    "speckle_noise",  "gaussian_blur", "spatter",    "saturate"};

int rcl_corrupted_find(const char *name) {
    for (int i = 0; i < RCL_CORRUPTED_NAMES; i++)
        if (!strcmp(rcl_corrupted_names[i], name))
            return i;
    return -1;
}

/* RCL_OK when a (its header is enough) holds the five severities' images. */
static rcl_status check_images(const rcl_npy *a, const char *what) {
    if (a->kind != 'u' || a->itemsize != 1 || a->ndim != 4 || (a->shape[3] != 1 && a->shape[3] != 3) ||
        a->shape[0] < 5 || a->shape[0] % 5 || a->shape[0] > (1 << 24) || a->shape[1] < 1 || a->shape[1] > 4096 ||
        a->shape[2] < 1 || a->shape[2] > 4096)
        return rcl_fail(RCL_ERR_FORMAT, "%s: expected uint8 images [5*N, H, W, C] (C 1 or 3, the five severities "
                        "stacked), got a '%c%d' array of %d dimensions", what, a->kind, a->itemsize, a->ndim);
    return RCL_OK;
}

static rcl_status check_labels(const rcl_npy *lab, const char *lpath, const rcl_npy *img, const char *path) {
    if (lab->ndim != 1 || (lab->kind != 'u' && lab->kind != 'i'))
        return rcl_fail(RCL_ERR_FORMAT, "%s: expected one integer label per image, got a '%c%d' array of %d "
                        "dimensions", lpath, lab->kind, lab->itemsize, lab->ndim);
    if (img->ndim >= 1 && lab->shape[0] != img->shape[0])
        return rcl_fail(RCL_ERR_FORMAT, "%s: %lld labels for the %lld images of %s", lpath,
                        (long long)lab->shape[0], (long long)img->shape[0], path);
    return RCL_OK;
}

/* Images [m, h, w, c] uint8 (HWC, as the files store them) into ds's planar CHW pixels. */
static rcl_status images_from(const rcl_npy *a, const char *what, rcl_dataset *ds, int num_classes) {
    RCL_TRY(check_images(a, what));
    int m = (int)a->shape[0], h = (int)a->shape[1], w = (int)a->shape[2], c = (int)a->shape[3];
    RCL_TRY(rcl_dataset_alloc(ds, m, c, h, w, num_classes, 0));
    const uint8_t *src = a->data;
    for (int i = 0; i < m; i++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < c; k++)
                    ds->pixels[(((size_t)i * c + k) * h + y) * w + x] = src[(((size_t)i * h + y) * w + x) * c + k];
    return RCL_OK;
}

rcl_status rcl_corrupted_load(const char *dir, const char *name, rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    char path[1100], lpath[1100];
    RCL_TRY(rcl_data_join(path, sizeof path - 4, dir, name));
    strcat(path, ".npy");
    RCL_TRY(rcl_data_join(lpath, sizeof lpath, dir, "labels.npy"));
    rcl_npy img = {0}, lab = {0};
    rcl_status st = rcl_npy_load(lpath, &lab);
    if (st == RCL_OK)
        st = rcl_npy_load(path, &img);
    if (st == RCL_OK)
        st = check_labels(&lab, lpath, &img, path);
    int classes = 0;
    int32_t *labels = NULL;
    if (st == RCL_OK && !(labels = malloc((lab.count ? lab.count : 1) * sizeof *labels)))
        st = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for the labels of %s", lpath);
    if (st == RCL_OK)
        st = rcl_npy_to_labels(&lab, lpath, 0, 1 << 20, labels);
    for (size_t i = 0; st == RCL_OK && i < lab.count; i++) /* the classes: the largest label + 1 */
        if (labels[i] + 1 > classes)
            classes = labels[i] + 1;
    if (st == RCL_OK)
        st = images_from(&img, path, out, classes);
    if (st == RCL_OK)
        memcpy(out->labels, labels, lab.count * sizeof *labels);
    free(labels);
    rcl_sha256 hash;
    rcl_sha256_init(&hash);
    if (st == RCL_OK && (st = rcl_sha256_update_file(&hash, path)) == RCL_OK &&
        (st = rcl_sha256_update_file(&hash, lpath)) == RCL_OK)
        rcl_sha256_final_hex(&hash, out->sha256);
    rcl_npy_free(&img);
    rcl_npy_free(&lab);
    if (st != RCL_OK) {
        rcl_dataset_free(out);
        return st;
    }
    rcl_data_set_name(out, "corrupted:%s", name);
    return RCL_OK;
}

/* The header of the .npy at path (RCL_ERR_IO when there is no such file). */
static rcl_status read_header(const char *path, rcl_npy *h) {
    unsigned char buf[1 << 16];
    FILE *f = fopen(path, "rb");
    if (!f)
        return rcl_fail(RCL_ERR_IO, "%s: cannot open", path);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t at;
    return rcl_npy_parse_header(buf, n, path, h, &at);
}

rcl_status rcl_corrupted_scan(const char *dir, int *found) {
    char path[1100], lpath[1100];
    rcl_npy lab = {0};
    *found = 0;
    RCL_TRY(rcl_data_join(lpath, sizeof lpath, dir, "labels.npy"));
    for (int c = 0; c < RCL_CORRUPTED_NAMES; c++) {
        RCL_TRY(rcl_data_join(path, sizeof path - 4, dir, rcl_corrupted_names[c]));
        strcat(path, ".npy");
        if (!rcl_data_is_file(path))
            continue;
        rcl_npy img = {0};
        if (!*found)
            RCL_TRY(read_header(lpath, &lab));
        RCL_TRY(read_header(path, &img));
        RCL_TRY(check_images(&img, path));
        RCL_TRY(check_labels(&lab, lpath, &img, path));
        (*found)++;
    }
    return *found ? RCL_OK
                  : rcl_fail(RCL_ERR_IO, "%s: no corruption file there (NAME.npy with NAME one of gaussian_noise, ..., "
                             "jpeg_compression, speckle_noise, gaussian_blur, spatter, saturate)", dir);
}
