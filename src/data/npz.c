/* Downsampled ImageNet 32x32 as .npz (zip of data.npy N x 3072 uint8, labels.npy 1..1000).
 * The pixel arrays are streamed straight into the dataset (no second 3.9 GB copy): a first
 * pass reads each data.npy header for the counts, the second fills the one allocation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"
#include "io/zip.h"

#define IMNET_IMG 3072
#define IMNET_CLASSES 1000

/* Reads exactly n bytes of a member stream; short = truncated member. */
static rcl_status stream_exact(rcl_zip_stream *s, void *buf, size_t n, const char *what) {
    size_t got = 0;
    while (got < n) {
        size_t g = 0;
        size_t chunk = n - got > (1u << 26) ? (1u << 26) : n - got;
        RCL_TRY(rcl_zip_stream_read(s, (unsigned char *)buf + got, chunk, &g));
        if (g == 0)
            return rcl_fail(RCL_ERR_FORMAT, "%s: truncated (%zu of %zu bytes)", what, got, n);
        got += g;
    }
    return RCL_OK;
}

/* Opens `path`, finds data.npy, streams its header: *n images, stream left at the data. */
static rcl_status open_data(const char *path, rcl_zip **zip, rcl_zip_stream **stream, int64_t *n,
                            char *what, size_t whatcap) {
    *zip = NULL;
    *stream = NULL;
    snprintf(what, whatcap, "%s:data.npy", path);
    RCL_TRY(rcl_zip_open(path, zip));
    const rcl_zip_entry *e = rcl_zip_find(*zip, "data.npy");
    if (!e)
        return rcl_fail(RCL_ERR_FORMAT, "%s: no member data.npy (not an ImageNet32 .npz)", path);
    RCL_TRY(rcl_zip_stream_open(*zip, e, stream));
    unsigned char pre[12];
    if (e->size < 12)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member of %llu bytes is no .npy", what, (unsigned long long)e->size);
    RCL_TRY(stream_exact(*stream, pre, 12, what));
    size_t hlen = pre[6] == 1 ? (size_t)(10 + (pre[8] | pre[9] << 8))
                              : (size_t)12 + ((size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
                                              (size_t)pre[11] << 24);
    if (hlen < sizeof pre) /* a v1 header shorter than the 12 bytes already read */
        return rcl_fail(RCL_ERR_FORMAT, "%s: .npy header is too short", what);
    if (hlen > e->size || hlen > (1u << 20))
        return rcl_fail(RCL_ERR_FORMAT, "%s: .npy header length %zu is impossible", what, hlen);
    unsigned char *hdr = malloc(hlen);
    if (!hdr)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", what);
    memcpy(hdr, pre, 12);
    rcl_status st = hlen > 12 ? stream_exact(*stream, hdr + 12, hlen - 12, what) : RCL_OK;
    rcl_npy h;
    size_t off = 0;
    if (st == RCL_OK)
        st = rcl_npy_parse_header(hdr, hlen, what, &h, &off);
    free(hdr);
    if (st != RCL_OK)
        return st;
    if (h.kind != 'u' || h.itemsize != 1 || h.ndim != 2 || h.shape[1] != IMNET_IMG)
        return rcl_fail(RCL_ERR_FORMAT, "%s: expected a uint8 array of shape (N, 3072)", what);
    if (e->size - hlen != h.count)
        return rcl_fail(RCL_ERR_FORMAT, "%s: %llu data bytes for %lld images", what,
                        (unsigned long long)(e->size - hlen), (long long)h.shape[0]);
    *n = h.shape[0];
    return RCL_OK;
}

/* The images of each file (counts[f]) and their total, each checked against its file's size. */
static rcl_status count_images(const char *const *paths, int nfiles, int64_t *counts, int64_t *total) {
    char what[1100];
    rcl_status st = RCL_OK;
    *total = 0;
    for (int f = 0; f < nfiles && st == RCL_OK; f++) {
        rcl_zip *z;
        rcl_zip_stream *s;
        int64_t fsize = rcl_data_file_size(paths[f]);
        st = open_data(paths[f], &z, &s, &counts[f], what, sizeof what);
        /* deflate cannot beat ~1032:1, so more pixels than that is a lying header */
        if (st == RCL_OK && (double)counts[f] * IMNET_IMG > (double)fsize * 1100.0 + 4096.0)
            st = rcl_fail(RCL_ERR_FORMAT, "%s: %lld images cannot fit in a %lld-byte file", what,
                          (long long)counts[f], (long long)fsize);
        *total += counts[f];
        rcl_zip_stream_close(s);
        rcl_zip_close(z);
    }
    if (st == RCL_OK && *total > INT32_MAX)
        st = rcl_fail(RCL_ERR_FORMAT, "imagenet32: %lld images are too many", (long long)*total);
    return st;
}

/* The count images of `path` and their labels into rows at.. of out. */
static rcl_status load_file(const char *path, int64_t count, rcl_dataset *out, int64_t at) {
    char what[1100];
    rcl_zip *z;
    rcl_zip_stream *s;
    int64_t n = 0;
    rcl_status st = open_data(path, &z, &s, &n, what, sizeof what);
    if (st == RCL_OK && n != count)
        st = rcl_fail(RCL_ERR_IO, "%s: changed while loading", path);
    if (st == RCL_OK)
        st = stream_exact(s, out->pixels + (size_t)at * IMNET_IMG, (size_t)n * IMNET_IMG, what);
    if (st == RCL_OK) {
        /* the CRC is checked once the last byte has been read: ask for one more */
        unsigned char extra;
        size_t g = 1;
        st = rcl_zip_stream_read(s, &extra, 1, &g);
        if (st == RCL_OK && g != 0)
            st = rcl_fail(RCL_ERR_FORMAT, "%s: trailing data", what);
    }
    rcl_zip_stream_close(s);
    unsigned char *lb = NULL;
    size_t lsize = 0;
    char lwhat[1100];
    snprintf(lwhat, sizeof lwhat, "%s:labels.npy", path);
    if (st == RCL_OK && !rcl_zip_find(z, "labels.npy"))
        st = rcl_fail(RCL_ERR_FORMAT, "%s: no member labels.npy", path);
    if (st == RCL_OK)
        st = rcl_zip_read_name(z, "labels.npy", &lb, &lsize);
    rcl_npy la = {0};
    if (st == RCL_OK)
        st = rcl_npy_from_memory(lb, lsize, lwhat, &la);
    free(lb);
    if (st == RCL_OK && (la.ndim != 1 || (int64_t)la.count != n))
        st = rcl_fail(RCL_ERR_FORMAT, "%s: %zu labels for %lld images", lwhat, la.count, (long long)n);
    if (st == RCL_OK)
        st = rcl_npy_to_labels(&la, lwhat, 1, IMNET_CLASSES, out->labels + at);
    rcl_npy_free(&la);
    rcl_zip_close(z);
    return st;
}

rcl_status rcl_imagenet32_load_files(const char *const *paths, int nfiles, const char *name,
                                     rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    if (nfiles < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "imagenet32: no files given");
    int64_t total = 0;
    int64_t *counts = calloc((size_t)nfiles, sizeof *counts);
    if (!counts)
        return rcl_fail(RCL_ERR_NO_MEMORY, "imagenet32: out of memory");
    rcl_status st = count_images(paths, nfiles, counts, &total);
    if (st == RCL_OK)
        st = rcl_dataset_alloc(out, (int)total, 3, 32, 32, IMNET_CLASSES, 0);
    rcl_sha256 hash;
    rcl_sha256_init(&hash);
    int64_t at = 0;
    for (int f = 0; f < nfiles && st == RCL_OK; f++) {
        st = rcl_sha256_update_file(&hash, paths[f]);
        if (st == RCL_OK)
            st = load_file(paths[f], counts[f], out, at);
        at += counts[f];
    }
    free(counts);
    if (st != RCL_OK) {
        rcl_dataset_free(out);
        return st;
    }
    rcl_data_set_name(out, "%s", name ? name : "imagenet32");
    rcl_sha256_final_hex(&hash, out->sha256);
    return RCL_OK;
}
