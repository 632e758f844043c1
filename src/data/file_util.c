/* File reading, gzip inflation and path helpers for the loaders. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data_internal.h"

rcl_status rcl_data_read_file(const char *path, rcl_sha256 *hash, unsigned char **data,
                              size_t *size) {
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rcl_fail(RCL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return rcl_fail(RCL_ERR_IO, "%s: not a regular file", path);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory for %zu bytes", path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got > (1u << 30) ? (1u << 30) : n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = errno;
            close(fd);
            free(buf);
            if (r == 0)
                return rcl_fail(RCL_ERR_IO, "%s: file shrank while reading", path);
            return rcl_fail(RCL_ERR_IO, "%s: read error: %s", path, strerror(e));
        }
        got += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    if (hash)
        rcl_sha256_update(hash, buf, n);
    *data = buf;
    *size = n;
    return RCL_OK;
}

int rcl_data_is_gzip(const unsigned char *p, size_t n) { return n >= 2 && p[0] == 0x1f && p[1] == 0x8b; }

rcl_status rcl_data_gunzip(const char *path, const unsigned char *in, size_t n,
                           unsigned char **out, size_t *outn) {
    *out = NULL;
    *outn = 0;
    size_t limit = n > ((size_t)-1) / 1100 ? (size_t)-1 : n * 1100 + 4096;
    size_t cap = n * 4 + 4096, len = 0;
    if (cap > limit)
        cap = limit;
    unsigned char *buf = malloc(cap + 1);
    if (!buf)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory inflating", path);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        free(buf);
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: inflateInit failed", path);
    }
    size_t pos = 0;
    rcl_status st = RCL_OK;
    for (;;) {
        if (len == cap) {
            if (cap >= limit) {
                st = rcl_fail(RCL_ERR_FORMAT, "%s: gzip data inflates beyond %zu bytes", path, limit);
                break;
            }
            size_t ncap = cap * 2 > limit ? limit : cap * 2;
            unsigned char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                st = rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory inflating", path);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        /* zlib counts in uInt: feed at most 1 GiB at a time */
        size_t in_chunk = n - pos > (1u << 30) ? (1u << 30) : n - pos;
        size_t out_chunk = cap - len > (1u << 30) ? (1u << 30) : cap - len;
        zs.next_in = (Bytef *)(in + pos);
        zs.avail_in = (uInt)in_chunk;
        zs.next_out = buf + len;
        zs.avail_out = (uInt)out_chunk;
        int r = inflate(&zs, Z_NO_FLUSH);
        pos += in_chunk - zs.avail_in;
        len += out_chunk - zs.avail_out;
        if (r == Z_STREAM_END) {
            /* concatenated gzip members are one stream (gzip -c a b); trailing zeros are padding */
            size_t k = pos;
            while (k < n && in[k] == 0)
                k++;
            if (k == n)
                break;
            if (!rcl_data_is_gzip(in + pos, n - pos)) {
                st = rcl_fail(RCL_ERR_FORMAT, "%s: garbage after the gzip data at byte %zu", path, pos);
                break;
            }
            inflateReset(&zs);
            continue;
        }
        if (r == Z_OK)
            continue;
        if (r == Z_BUF_ERROR && zs.avail_out == 0)
            continue;
        if (r == Z_BUF_ERROR)
            st = rcl_fail(RCL_ERR_FORMAT, "%s: truncated gzip data (%zu bytes decoded)", path, len);
        else
            st = rcl_fail(RCL_ERR_FORMAT, "%s: corrupt gzip data: %s", path, zs.msg ? zs.msg : "inflate error");
        break;
    }
    inflateEnd(&zs);
    if (st != RCL_OK) {
        free(buf);
        return st;
    }
    buf[len] = 0;
    *out = buf;
    *outn = len;
    return RCL_OK;
}

rcl_status rcl_data_join(char *out, size_t cap, const char *dir, const char *name) {
    int k = snprintf(out, cap, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= cap)
        return rcl_fail(RCL_ERR_INVALID_ARG, "path too long: %s/%s", dir, name);
    return RCL_OK;
}

int rcl_data_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int rcl_data_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int64_t rcl_data_file_size(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    return (int64_t)st.st_size;
}

void rcl_data_set_name(rcl_dataset *ds, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ds->name, sizeof ds->name, fmt, ap);
    va_end(ap);
}
