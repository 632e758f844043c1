/* CIFAR-10 / CIFAR-100 binary batches: fixed-size records of label byte(s) + 32x32x3 planar. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

#define CIFAR_IMG 3072

/* Loads record files; `nlab` label bytes per record (1: CIFAR-10, 2: coarse+fine). */
/* The number of records in the files, from their sizes on disk, so a bad file cannot inflate it. */
static rcl_status count_records(const char *const *paths, int nfiles, int nlab, const char *name, int64_t *total) {
    const size_t rec = (size_t)nlab + CIFAR_IMG;
    *total = 0;
    for (int f = 0; f < nfiles; f++) {
        int64_t sz = rcl_data_file_size(paths[f]);
        if (sz < 0)
            return rcl_fail(RCL_ERR_IO, "%s: no such file", paths[f]);
        if (sz == 0 || sz % (int64_t)rec != 0)
            return rcl_fail(RCL_ERR_FORMAT,
                            "%s: size %lld is not a whole number of %zu-byte CIFAR%s records (record %lld is truncated)",
                            paths[f], (long long)sz, rec, nlab == 1 ? "-10" : "-100",
                            (long long)(sz / (int64_t)rec));
        *total += sz / (int64_t)rec;
    }
    if (*total > INT32_MAX)
        return rcl_fail(RCL_ERR_FORMAT, "%s: too many records (%lld)", name, (long long)*total);
    return RCL_OK;
}

/* The m records of `path` in buf into rows at.. of out (and their coarse labels into co). */
static rcl_status decode_records(const unsigned char *buf, int64_t m, int nlab, const char *path, int64_t at,
                                 rcl_dataset *out, int32_t *co) {
    const size_t rec = (size_t)nlab + CIFAR_IMG;
    const int k_fine = nlab == 1 ? 10 : 100, k_coarse = 20;
    for (int64_t i = 0; i < m; i++) {
        const unsigned char *r = buf + (size_t)i * rec;
        int y = r[nlab - 1];
        if (y >= k_fine)
            return rcl_fail(RCL_ERR_FORMAT, "%s: record %lld: %slabel %d out of range [0,%d)", path, (long long)i,
                            nlab == 2 ? "fine " : "", y, k_fine);
        if (nlab == 2 && r[0] >= k_coarse)
            return rcl_fail(RCL_ERR_FORMAT, "%s: record %lld: coarse label %d out of range [0,%d)", path,
                            (long long)i, r[0], k_coarse);
        out->labels[at + i] = y;
        if (co)
            co[at + i] = r[0];
        memcpy(out->pixels + (size_t)(at + i) * CIFAR_IMG, r + nlab, CIFAR_IMG);
    }
    return RCL_OK;
}

static rcl_status cifar_load(const char *const *paths, int nfiles, int nlab, const char *name,
                             rcl_dataset *out, int32_t **coarse) {
    memset(out, 0, sizeof *out);
    if (coarse)
        *coarse = NULL;
    if (nfiles < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: no files given", name);
    const size_t rec = (size_t)nlab + CIFAR_IMG;
    int64_t total;
    RCL_TRY(count_records(paths, nfiles, nlab, name, &total));
    RCL_TRY(rcl_dataset_alloc(out, (int)total, 3, 32, 32, nlab == 1 ? 10 : 100, 0));
    int32_t *co = NULL;
    if (coarse && nlab == 2) {
        co = malloc((size_t)(total ? total : 1) * sizeof(int32_t));
        if (!co) {
            rcl_dataset_free(out);
            return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory for coarse labels", name);
        }
    }
    rcl_sha256 hash;
    rcl_sha256_init(&hash);
    rcl_status st = RCL_OK;
    int64_t at = 0;
    for (int f = 0; f < nfiles && st == RCL_OK; f++) {
        unsigned char *buf;
        size_t n;
        st = rcl_data_read_file(paths[f], &hash, &buf, &n);
        if (st != RCL_OK)
            break;
        if (n % rec != 0 || at + (int64_t)(n / rec) > total)
            st = rcl_fail(RCL_ERR_IO, "%s: the file changed size while loading", paths[f]);
        else
            st = decode_records(buf, (int64_t)(n / rec), nlab, paths[f], at, out, co);
        at += (int64_t)(n / rec);
        free(buf);
    }
    if (st != RCL_OK) {
        free(co);
        rcl_dataset_free(out);
        return st;
    }
    rcl_data_set_name(out, "%s", name);
    rcl_sha256_final_hex(&hash, out->sha256);
    if (coarse)
        *coarse = co;
    return RCL_OK;
}

rcl_status rcl_cifar10_load_files(const char *const *paths, int nfiles, const char *name,
                                  rcl_dataset *out) {
    return cifar_load(paths, nfiles, 1, name ? name : "cifar10", out, NULL);
}

rcl_status rcl_cifar100_load_files(const char *const *paths, int nfiles, const char *name,
                                   rcl_dataset *out, int32_t **coarse) {
    return cifar_load(paths, nfiles, 2, name ? name : "cifar100", out, coarse);
}

/* dir itself, or dir/sub when the archive's top folder was not stripped. */
static rcl_status find_dir(const char *dir, const char *sub, const char *probe, char *res, size_t cap) {
    char p[1024];
    RCL_TRY(rcl_data_join(p, sizeof p, dir, probe));
    if (rcl_data_is_file(p)) {
        snprintf(res, cap, "%s", dir);
        return RCL_OK;
    }
    char d2[1024];
    RCL_TRY(rcl_data_join(d2, sizeof d2, dir, sub));
    RCL_TRY(rcl_data_join(p, sizeof p, d2, probe));
    if (rcl_data_is_file(p)) {
        snprintf(res, cap, "%s", d2);
        return RCL_OK;
    }
    return rcl_fail(RCL_ERR_IO, "%s/%s: no such file (nor in %s/)", dir, probe, d2);
}

rcl_status rcl_cifar10_load(const char *dir, int train, rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    char d[1024], paths[5][1100];
    const char *pp[5];
    RCL_TRY(find_dir(dir, "cifar-10-batches-bin", train ? "data_batch_1.bin" : "test_batch.bin", d, sizeof d));
    int nf = train ? 5 : 1;
    for (int i = 0; i < nf; i++) {
        if (train)
            snprintf(paths[i], sizeof paths[i], "%s/data_batch_%d.bin", d, i + 1);
        else
            snprintf(paths[i], sizeof paths[i], "%s/test_batch.bin", d);
        pp[i] = paths[i];
    }
    return rcl_cifar10_load_files(pp, nf, train ? "cifar10:train" : "cifar10:test", out);
}

rcl_status rcl_cifar100_load(const char *dir, int train, rcl_dataset *out, int32_t **coarse) {
    memset(out, 0, sizeof *out);
    if (coarse)
        *coarse = NULL;
    char d[1024], path[1100];
    const char *file = train ? "train.bin" : "test.bin";
    RCL_TRY(find_dir(dir, "cifar-100-binary", file, d, sizeof d));
    snprintf(path, sizeof path, "%s/%s", d, file);
    const char *pp[1] = {path};
    return rcl_cifar100_load_files(pp, 1, train ? "cifar100:train" : "cifar100:test", out, coarse);
}
