/* Downsampled ImageNet 32x32 in its original pickled form (train_data_batch_1..10, val_data:
 * dicts of `data` uint8 N x 3072 planar, `labels` 1..1000, `mean`), via the restricted
 * unpickler (nothing in the file is ever called). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"
#include "io/pickle.h"

#define IMNET_IMG 3072
#define IMNET_CLASSES 1000

/* Appends one batch file to out (pixels/labels grown with realloc: glibc moves large
 * blocks with mremap, so there is no second copy of the set). */
static rcl_status append_batch(const char *path, rcl_sha256 *hash, rcl_dataset *out, size_t *cap) {
    unsigned char *buf;
    size_t size;
    RCL_TRY(rcl_data_read_file(path, hash, &buf, &size));
    rcl_pickle *pk = NULL;
    rcl_status st = rcl_pickle_load(buf, size, path, &pk, NULL);
    const rcl_py *root = st == RCL_OK ? rcl_pickle_root(pk) : NULL;
    const rcl_py *data = NULL, *labels = NULL;
    if (st == RCL_OK) {
        data = rcl_py_dict_get(root, "data");
        labels = rcl_py_dict_get(root, "labels");
        if (!data || !labels)
            st = rcl_fail(RCL_ERR_FORMAT, "%s: not an ImageNet32 batch (needs a dict with 'data' and 'labels')", path);
    }
    if (st == RCL_OK && (data->type != RCL_PY_NDARRAY || data->dtype != RCL_DT_U8 || data->ndim != 2 ||
                         data->shape[1] != IMNET_IMG || data->fortran ||
                         data->nbytes != (size_t)data->shape[0] * IMNET_IMG))
        st = rcl_fail(RCL_ERR_FORMAT, "%s: 'data' must be a C-order uint8 array of shape (N, 3072)", path);
    int64_t *lab = NULL;
    size_t nl = 0;
    if (st == RCL_OK)
        st = rcl_py_int_array(labels, path, &lab, &nl);
    size_t n = st == RCL_OK ? (size_t)data->shape[0] : 0;
    if (st == RCL_OK && nl != n)
        st = rcl_fail(RCL_ERR_FORMAT, "%s: %zu labels for %zu images", path, nl, n);
    for (size_t i = 0; st == RCL_OK && i < n; i++)
        if (lab[i] < 1 || lab[i] > IMNET_CLASSES)
            st = rcl_fail(RCL_ERR_FORMAT, "%s: label %lld of record %zu out of range [1,1000]", path,
                          (long long)lab[i], i);
    if (st == RCL_OK && (size_t)out->n + n > INT32_MAX)
        st = rcl_fail(RCL_ERR_FORMAT, "%s: too many images in all", path);
    if (st == RCL_OK && (size_t)out->n + n > *cap) {
        size_t nc = *cap * 2 > (size_t)out->n + n ? *cap * 2 : (size_t)out->n + n;
        if (nc > INT32_MAX)
            nc = INT32_MAX;
        uint8_t *np = realloc(out->pixels, nc * IMNET_IMG);
        if (np)
            out->pixels = np;
        int32_t *nlab = np ? realloc(out->labels, nc * sizeof(int32_t)) : NULL;
        if (nlab)
            out->labels = nlab;
        if (!np || !nlab)
            st = rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory for %zu images", path, nc);
        else
            *cap = nc;
    }
    if (st == RCL_OK) {
        memcpy(out->pixels + (size_t)out->n * IMNET_IMG, data->data, n * IMNET_IMG);
        for (size_t i = 0; i < n; i++)
            out->labels[(size_t)out->n + i] = (int32_t)(lab[i] - 1);
        out->n += (int)n;
    }
    free(lab);
    rcl_pickle_free(pk);
    free(buf);
    return st;
}

rcl_status rcl_imagenet32_pickle_load_files(const char *const *paths, int nfiles, const char *name,
                                            rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    if (nfiles < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "imagenet32: no files given");
    out->c = 3, out->h = 32, out->w = 32, out->num_classes = IMNET_CLASSES;
    rcl_sha256 hash;
    rcl_sha256_init(&hash);
    size_t cap = 0;
    rcl_status st = RCL_OK;
    for (int f = 0; f < nfiles && st == RCL_OK; f++)
        st = append_batch(paths[f], &hash, out, &cap);
    if (st == RCL_OK && out->n == 0)
        st = rcl_fail(RCL_ERR_FORMAT, "%s: no images", paths[0]);
    if (st != RCL_OK) {
        rcl_dataset_free(out);
        return st;
    }
    /* give back the slack of the last doubling */
    uint8_t *np = realloc(out->pixels, (size_t)out->n * IMNET_IMG);
    if (np)
        out->pixels = np;
    rcl_data_set_name(out, "%s", name ? name : "imagenet32");
    rcl_sha256_final_hex(&hash, out->sha256);
    return RCL_OK;
}
