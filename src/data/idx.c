/* IDX files (MNIST / Fashion-MNIST), raw or gzip: images (n, h, w) + labels (n). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data_internal.h"

#define IDX_UBYTE 0x08

typedef struct {
    unsigned char *buf; /* whole decoded file */
    size_t size;
    int ndim;
    uint32_t dims[4];
    const unsigned char *data; /* payload after the header */
    size_t count;              /* product of dims */
} idx_file;

/* Reads, hashes, inflates and checks one IDX ubyte file of `want_ndim` dims. */
static rcl_status idx_read(const char *path, int want_ndim, rcl_sha256 *hash, idx_file *f) {
    memset(f, 0, sizeof *f);
    unsigned char *raw;
    size_t n;
    RCL_TRY(rcl_data_read_file(path, hash, &raw, &n));
    if (rcl_data_is_gzip(raw, n)) {
        rcl_status st = rcl_data_gunzip(path, raw, n, &f->buf, &f->size);
        free(raw);
        if (st != RCL_OK)
            return st;
    } else {
        f->buf = raw;
        f->size = n;
    }
    const unsigned char *p = f->buf;
    rcl_status st = RCL_OK;
    if (f->size < 4) {
        st = rcl_fail(RCL_ERR_FORMAT, "%s: not an IDX file (%zu bytes, no header)", path, f->size);
    } else if (p[0] != 0 || p[1] != 0) {
        st = rcl_fail(RCL_ERR_FORMAT, "%s: not an IDX file (magic %02x %02x %02x %02x)", path, p[0], p[1],
                      p[2], p[3]);
    } else if (p[2] != IDX_UBYTE) {
        st = rcl_fail(RCL_ERR_FORMAT, "%s: IDX element type 0x%02x, expected 0x08 (unsigned byte)", path, p[2]);
    } else if (p[3] != want_ndim) {
        st = rcl_fail(RCL_ERR_FORMAT, "%s: IDX file has %d dimensions, expected %d", path, p[3], want_ndim);
    } else if (f->size < 4 + 4 * (size_t)want_ndim) {
        st = rcl_fail(RCL_ERR_FORMAT, "%s: truncated IDX header", path);
    }
    if (st == RCL_OK) {
        f->ndim = want_ndim;
        uint64_t count = 1;
        size_t avail = f->size - 4 - 4 * (size_t)want_ndim;
        for (int i = 0; i < want_ndim; i++) {
            const unsigned char *d = p + 4 + 4 * i;
            f->dims[i] = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
            /* saturate at avail+1: a bogus header cannot overflow, and "more than present" stays visible */
            if (f->dims[i] != 0 && count > ((uint64_t)avail + 1) / f->dims[i])
                count = (uint64_t)avail + 1;
            else
                count *= f->dims[i];
        }
        if (want_ndim > 1 && f->dims[0] > 0 && (f->dims[1] == 0 || (want_ndim > 2 && f->dims[2] == 0)))
            st = rcl_fail(RCL_ERR_FORMAT, "%s: IDX image size %u x %u is empty", path, f->dims[1],
                          want_ndim > 2 ? f->dims[2] : 1);
        else if (f->dims[0] > INT32_MAX)
            st = rcl_fail(RCL_ERR_FORMAT, "%s: IDX count %u is too large", path, f->dims[0]);
        else if (count > avail)
            st = rcl_fail(RCL_ERR_FORMAT, "%s: truncated: the header promises more data than the %zu bytes present",
                          path, avail);
        else if (count < avail)
            st = rcl_fail(RCL_ERR_FORMAT, "%s: %zu trailing bytes after the IDX data", path,
                          avail - (size_t)count);
        f->data = p + 4 + 4 * want_ndim;
        f->count = (size_t)count;
    }
    if (st != RCL_OK) {
        free(f->buf);
        memset(f, 0, sizeof *f);
    }
    return st;
}

rcl_status rcl_idx_load(const char *images_path, const char *labels_path, int num_classes,
                        const char *name, rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    if (num_classes < 0 || num_classes > 256)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: num_classes %d out of range", labels_path, num_classes);
    rcl_sha256 hash;
    rcl_sha256_init(&hash);
    idx_file im, lb;
    RCL_TRY(idx_read(images_path, 3, &hash, &im));
    rcl_status st = idx_read(labels_path, 1, &hash, &lb);
    if (st != RCL_OK) {
        free(im.buf);
        return st;
    }
    if (im.dims[0] != lb.dims[0]) {
        st = rcl_fail(RCL_ERR_FORMAT, "%s: %u labels for the %u images of %s", labels_path, lb.dims[0],
                      im.dims[0], images_path);
        goto done;
    }
    int n = (int)im.dims[0];
    int k = num_classes;
    if (k == 0)
        for (int i = 0; i < n; i++)
            if (lb.data[i] + 1 > k)
                k = lb.data[i] + 1;
    for (int i = 0; i < n; i++)
        if (lb.data[i] >= k) {
            st = rcl_fail(RCL_ERR_FORMAT, "%s: label %d of record %d is out of range [0,%d)", labels_path,
                          lb.data[i], i, k);
            goto done;
        }
    st = rcl_dataset_alloc(out, n, 1, (int)im.dims[1], (int)im.dims[2], k, 0);
    if (st != RCL_OK)
        goto done;
    memcpy(out->pixels, im.data, im.count);
    for (int i = 0; i < n; i++)
        out->labels[i] = lb.data[i];
    if (name)
        rcl_data_set_name(out, "%s", name);
    else
        rcl_data_set_name(out, "idx:%s", images_path);
    rcl_sha256_final_hex(&hash, out->sha256);
done:
    free(im.buf);
    free(lb.buf);
    return st;
}

rcl_status rcl_idx_save(const char *path, const uint8_t *data, int ndim, const int *dims, int gzip) {
    if (ndim < 1 || ndim > 4)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: IDX needs 1..4 dimensions, got %d", path, ndim);
    unsigned char hdr[4 + 16] = {0, 0, IDX_UBYTE, (unsigned char)ndim};
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0)
            return rcl_fail(RCL_ERR_INVALID_ARG, "%s: negative IDX dimension", path);
        uint32_t d = (uint32_t)dims[i];
        hdr[4 + 4 * i] = (unsigned char)(d >> 24), hdr[5 + 4 * i] = (unsigned char)(d >> 16);
        hdr[6 + 4 * i] = (unsigned char)(d >> 8), hdr[7 + 4 * i] = (unsigned char)d;
        count *= (size_t)d;
    }
    gzFile f = gzopen(path, gzip ? "wb6" : "wbT");
    if (!f)
        return rcl_fail(RCL_ERR_IO, "%s: cannot create", path);
    int ok = gzwrite(f, hdr, (unsigned)(4 + 4 * ndim)) == 4 + 4 * ndim;
    for (size_t off = 0; ok && off < count;) {
        unsigned chunk = count - off > (1u << 30) ? (1u << 30) : (unsigned)(count - off);
        ok = gzwrite(f, data + off, chunk) == (int)chunk;
        off += chunk;
    }
    if (gzclose(f) != Z_OK || !ok)
        return rcl_fail(RCL_ERR_IO, "%s: write failed", path);
    return RCL_OK;
}

static char fashion_mnist_dir[1024]; /* "": Debian's */

void rcl_fashion_mnist_set_default_dir(const char *dir) {
    snprintf(fashion_mnist_dir, sizeof fashion_mnist_dir, "%s", dir ? dir : "");
}

const char *rcl_fashion_mnist_default_dir(void) {
    return fashion_mnist_dir[0] ? fashion_mnist_dir : "/usr/share/datasets/fashion-mnist";
}

/* dir/base.gz if present, else dir/base (the unpacked form). */
static rcl_status find_idx(const char *dir, const char *base, char *path, size_t cap) {
    char gz[1024];
    RCL_TRY(rcl_data_join(gz, sizeof gz, dir, base));
    size_t k = strlen(gz);
    if (k + 4 > sizeof gz)
        return rcl_fail(RCL_ERR_INVALID_ARG, "path too long: %s", gz);
    memcpy(gz + k, ".gz", 4);
    if (rcl_data_is_file(gz)) {
        snprintf(path, cap, "%s", gz);
        return RCL_OK;
    }
    RCL_TRY(rcl_data_join(path, cap, dir, base));
    if (!rcl_data_is_file(path))
        return rcl_fail(RCL_ERR_IO, "%s: no such file (nor %s)", gz, path);
    return RCL_OK;
}

rcl_status rcl_fashion_mnist_load(const char *dir, int train, rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    if (!dir || !*dir)
        dir = rcl_fashion_mnist_default_dir();
    char ip[1024], lp[1024];
    const char *pre = train ? "train" : "t10k";
    char b1[64], b2[64];
    snprintf(b1, sizeof b1, "%s-images-idx3-ubyte", pre);
    snprintf(b2, sizeof b2, "%s-labels-idx1-ubyte", pre);
    RCL_TRY(find_idx(dir, b1, ip, sizeof ip));
    RCL_TRY(find_idx(dir, b2, lp, sizeof lp));
    char name[64];
    snprintf(name, sizeof name, "fashion-mnist:%s", train ? "train" : "test");
    return rcl_idx_load(ip, lp, 10, name, out);
}
