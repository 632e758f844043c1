/* Read-only zip reader: end of central directory (+ zip64 locator/record), central
 * directory entries (+ zip64 extra field), local headers only to find the data.
 * Sizes always come from the central directory, so data descriptors (flag bit 3)
 * need no special handling. */
#include "io/zip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define EOCD_SIZE 22
#define LOCATOR64_SIZE 20
#define EOCD64_SIZE 56
#define CENTRAL_SIZE 46
#define LOCAL_SIZE 30
/* deflate cannot expand better than ~1032:1; a larger claimed size is bogus */
#define MAX_DEFLATE_RATIO 1032u

struct rcl_zip {
    int fd; /* -1 for memory archives */
    const unsigned char *mem;
    uint64_t size;
    char *label;
    rcl_zip_entry *entries;
    size_t n;
};

struct rcl_zip_stream {
    rcl_zip *z;
    const rcl_zip_entry *e;
    uint64_t in_pos, out_pos;
    uLong crc;
    int inflating, ended, done;
    z_stream zs;
    unsigned char in[1 << 16];
};

static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* Reads exactly n bytes at off, failing cleanly past the end of the archive. */
static rcl_status src_read(const rcl_zip *z, uint64_t off, void *buf, size_t n, const char *what) {
    if (off > z->size || n > z->size - off)
        return rcl_fail(RCL_ERR_FORMAT, "%s: %s lies past the end of the archive (truncated?)", z->label,
                        what);
    if (z->mem) {
        memcpy(buf, z->mem + off, n);
        return RCL_OK;
    }
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = pread(z->fd, p, n, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return rcl_fail(RCL_ERR_IO, "%s: read error: %s", z->label, strerror(errno));
        if (got == 0)
            return rcl_fail(RCL_ERR_FORMAT, "%s: %s: unexpected end of file", z->label, what);
        p += got;
        off += (uint64_t)got;
        n -= (size_t)got;
    }
    return RCL_OK;
}

void rcl_zip_close(rcl_zip *z) {
    if (!z)
        return;
    if (z->fd >= 0)
        close(z->fd);
    for (size_t i = 0; i < z->n; i++)
        free((char *)z->entries[i].name);
    free(z->entries);
    free(z->label);
    free(z);
}

/* Finds the end-of-central-directory record in the last 64 KiB + 22 bytes. */
static rcl_status find_eocd(rcl_zip *z, uint64_t *eocd_off, unsigned char rec[EOCD_SIZE]) {
    if (z->size < EOCD_SIZE)
        return rcl_fail(RCL_ERR_FORMAT, "%s: not a zip archive (only %llu bytes)", z->label,
                        (unsigned long long)z->size);
    size_t tail = z->size < 65535 + EOCD_SIZE ? (size_t)z->size : 65535 + EOCD_SIZE;
    unsigned char *buf = malloc(tail);
    if (!buf)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", z->label);
    uint64_t base = z->size - tail;
    rcl_status s = src_read(z, base, buf, tail, "end of central directory");
    if (s != RCL_OK) {
        free(buf);
        return s;
    }
    for (size_t p = tail - EOCD_SIZE + 1; p-- > 0;) {
        if (rd32(buf + p) == SIG_EOCD && p + EOCD_SIZE + rd16(buf + p + 20) <= tail) {
            memcpy(rec, buf + p, EOCD_SIZE);
            *eocd_off = base + p;
            free(buf);
            return RCL_OK;
        }
    }
    free(buf);
    return rcl_fail(RCL_ERR_FORMAT, "%s: not a zip archive (no end of central directory record)", z->label);
}

/* Applies the zip64 extended-information extra field (id 1) to the fields saturated
 * in the fixed header. */
static rcl_status apply_zip64_extra(const rcl_zip *z, const char *name, const unsigned char *x, size_t xlen,
                                    uint64_t *usize, uint64_t *csize, uint64_t *offset, int need_disk) {
    while (xlen >= 4) {
        uint16_t id = rd16(x), len = rd16(x + 2);
        if ((size_t)len > xlen - 4)
            return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: extra field overruns its header", z->label, name);
        if (id == 1) {
            const unsigned char *p = x + 4;
            size_t left = len;
            uint64_t *fields[3] = {usize, csize, offset};
            for (int i = 0; i < 3; i++) {
                if (*fields[i] != 0xFFFFFFFFu)
                    continue;
                if (left < 8)
                    return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: zip64 extra field too short", z->label,
                                    name);
                *fields[i] = rd64(p);
                p += 8;
                left -= 8;
            }
            if (need_disk && left < 4)
                return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: zip64 extra field too short", z->label, name);
            return RCL_OK;
        }
        x += 4 + len;
        xlen -= 4 + (size_t)len;
    }
    if (*usize == 0xFFFFFFFFu || *csize == 0xFFFFFFFFu || *offset == 0xFFFFFFFFu)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: saturated size or offset without a zip64 extra field",
                        z->label, name);
    return RCL_OK;
}

/* Parses one central directory entry at cd[*pos]; the central directory ends at cd_end. */
static rcl_status parse_entry(rcl_zip *z, const unsigned char *cd, size_t cd_size, size_t *pos, uint64_t data_end,
                              rcl_zip_entry *e) {
    size_t p = *pos;
    if (cd_size - p < CENTRAL_SIZE || rd32(cd + p) != SIG_CENTRAL)
        return rcl_fail(RCL_ERR_FORMAT, "%s: central directory entry %zu is malformed", z->label, z->n);
    const unsigned char *h = cd + p;
    size_t nlen = rd16(h + 28), xlen = rd16(h + 30), clen = rd16(h + 32);
    if (cd_size - p - CENTRAL_SIZE < nlen + xlen + clen)
        return rcl_fail(RCL_ERR_FORMAT, "%s: central directory entry %zu overruns the directory", z->label, z->n);
    const unsigned char *nm = h + CENTRAL_SIZE;
    if (memchr(nm, 0, nlen))
        return rcl_fail(RCL_ERR_FORMAT, "%s: central directory entry %zu has a NUL in its name", z->label, z->n);
    char *name = malloc(nlen + 1);
    if (!name)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", z->label);
    memcpy(name, nm, nlen);
    name[nlen] = 0;
    e->name = name; /* owned by z from here on, freed by rcl_zip_close */
    e->method = rd16(h + 10);
    e->crc32 = rd32(h + 16);
    e->comp_size = rd32(h + 20);
    e->size = rd32(h + 24);
    e->header_offset = rd32(h + 42);
    RCL_TRY(apply_zip64_extra(z, name, nm + nlen, xlen, &e->size, &e->comp_size, &e->header_offset,
                              rd16(h + 34) == 0xFFFF));
    *pos = p + CENTRAL_SIZE + nlen + xlen + clen;

    /* the local header: only its variable lengths matter, plus a name check */
    unsigned char lh[LOCAL_SIZE];
    if (e->header_offset > data_end || data_end - e->header_offset < LOCAL_SIZE)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: local header offset %llu out of range", z->label, name,
                        (unsigned long long)e->header_offset);
    RCL_TRY(src_read(z, e->header_offset, lh, LOCAL_SIZE, name));
    if (rd32(lh) != SIG_LOCAL)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: bad local header signature", z->label, name);
    size_t lnlen = rd16(lh + 26), lxlen = rd16(lh + 28);
    if (lnlen != nlen)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: local header names another file", z->label, name);
    e->data_offset = e->header_offset + LOCAL_SIZE + lnlen + lxlen;
    if (e->data_offset > data_end || e->comp_size > data_end - e->data_offset)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: data (%llu bytes at %llu) runs past the central directory",
                        z->label, name, (unsigned long long)e->comp_size, (unsigned long long)e->data_offset);
    if (nlen) {
        char *lname = malloc(nlen);
        if (!lname)
            return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", z->label);
        rcl_status s = src_read(z, e->header_offset + LOCAL_SIZE, lname, nlen, name);
        int differ = s == RCL_OK && memcmp(lname, name, nlen) != 0;
        free(lname);
        RCL_TRY(s);
        if (differ)
            return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: local header names another file", z->label, name);
    }
    if (e->method == RCL_ZIP_STORED && e->comp_size != e->size)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: stored with compressed size %llu != size %llu", z->label,
                        name, (unsigned long long)e->comp_size, (unsigned long long)e->size);
    if (e->method == RCL_ZIP_DEFLATED && e->size / MAX_DEFLATE_RATIO > e->comp_size + 64)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: implausible size %llu for %llu compressed bytes", z->label,
                        name, (unsigned long long)e->size, (unsigned long long)e->comp_size);
    if (rd16(h + 8) & 1)
        e->method = -1; /* encrypted: listed, refused on read */
    return RCL_OK;
}

static rcl_status zip_parse(rcl_zip *z) {
    unsigned char rec[EOCD_SIZE] = {0};
    uint64_t eocd_off = 0;
    RCL_TRY(find_eocd(z, &eocd_off, rec));
    uint64_t count = rd16(rec + 10), cd_size = rd32(rec + 12), cd_off = rd32(rec + 16);
    uint64_t cd_limit = eocd_off; /* the central directory must end before this */
    if ((rd16(rec + 4) != 0 && rd16(rec + 4) != 0xFFFF) || (rd16(rec + 6) != 0 && rd16(rec + 6) != 0xFFFF))
        return rcl_fail(RCL_ERR_FORMAT, "%s: multi-disk archives are not supported", z->label);

    unsigned char loc[LOCATOR64_SIZE];
    if (eocd_off >= LOCATOR64_SIZE && src_read(z, eocd_off - LOCATOR64_SIZE, loc, LOCATOR64_SIZE, "zip64 locator") ==
                                          RCL_OK && rd32(loc) == SIG_LOCATOR64) {
        uint64_t off64 = rd64(loc + 8);
        unsigned char r64[EOCD64_SIZE];
        if (off64 > eocd_off - LOCATOR64_SIZE || eocd_off - LOCATOR64_SIZE - off64 < EOCD64_SIZE)
            return rcl_fail(RCL_ERR_FORMAT, "%s: zip64 end of central directory offset %llu out of range", z->label,
                            (unsigned long long)off64);
        RCL_TRY(src_read(z, off64, r64, EOCD64_SIZE, "zip64 end of central directory"));
        if (rd32(r64) != SIG_EOCD64)
            return rcl_fail(RCL_ERR_FORMAT, "%s: bad zip64 end of central directory signature", z->label);
        if (rd32(r64 + 16) != 0 || rd32(r64 + 20) != 0)
            return rcl_fail(RCL_ERR_FORMAT, "%s: multi-disk archives are not supported", z->label);
        count = rd64(r64 + 32);
        cd_size = rd64(r64 + 40);
        cd_off = rd64(r64 + 48);
        cd_limit = off64;
    } else if (count == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) {
        return rcl_fail(RCL_ERR_FORMAT, "%s: saturated end of central directory without a zip64 record", z->label);
    }
    if (cd_off > cd_limit || cd_size > cd_limit - cd_off)
        return rcl_fail(RCL_ERR_FORMAT, "%s: central directory (%llu bytes at %llu) out of range", z->label,
                        (unsigned long long)cd_size, (unsigned long long)cd_off);
    if (count > cd_size / CENTRAL_SIZE)
        return rcl_fail(RCL_ERR_FORMAT, "%s: %llu entries cannot fit in a %llu-byte central directory", z->label,
                        (unsigned long long)count, (unsigned long long)cd_size);

    unsigned char *cd = malloc(cd_size ? (size_t)cd_size : 1);
    z->entries = calloc(count ? (size_t)count : 1, sizeof *z->entries);
    if (!cd || !z->entries) {
        free(cd);
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", z->label);
    }
    rcl_status s = src_read(z, cd_off, cd, (size_t)cd_size, "central directory");
    size_t pos = 0;
    for (uint64_t i = 0; s == RCL_OK && i < count; i++) {
        s = parse_entry(z, cd, (size_t)cd_size, &pos, cd_off, &z->entries[z->n]);
        if (z->entries[z->n].name)
            z->n++; /* counted as soon as it owns a name, so close frees it */
    }
    free(cd);
    RCL_TRY(s);
    /* duplicate names would make lookups ambiguous: refuse them */
    for (size_t i = 0; i < z->n; i++)
        for (size_t j = i + 1; j < z->n; j++)
            if (!strcmp(z->entries[i].name, z->entries[j].name))
                return rcl_fail(RCL_ERR_FORMAT, "%s: member %s appears twice", z->label, z->entries[i].name);
    return RCL_OK;
}

static rcl_status zip_new(const char *label, rcl_zip **out) {
    *out = NULL;
    rcl_zip *z = calloc(1, sizeof *z);
    if (z)
        z->label = strdup(label ? label : "(memory)");
    if (!z || !z->label) {
        free(z);
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", label ? label : "(memory)");
    }
    z->fd = -1;
    *out = z;
    return RCL_OK;
}

rcl_status rcl_zip_open(const char *path, rcl_zip **out) {
    rcl_zip *z;
    RCL_TRY(zip_new(path, &z));
    struct stat st;
    z->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (z->fd < 0 || fstat(z->fd, &st) != 0) {
        rcl_status s = rcl_fail(RCL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        rcl_zip_close(z);
        return s;
    }
    if (!S_ISREG(st.st_mode)) {
        rcl_zip_close(z);
        return rcl_fail(RCL_ERR_IO, "%s: not a regular file", path);
    }
    z->size = (uint64_t)st.st_size;
    rcl_status s = zip_parse(z);
    if (s != RCL_OK) {
        rcl_zip_close(z);
        return s;
    }
    *out = z;
    return RCL_OK;
}

rcl_status rcl_zip_open_memory(const void *data, size_t size, const char *label, rcl_zip **out) {
    rcl_zip *z;
    RCL_TRY(zip_new(label, &z));
    static const unsigned char empty[1];
    z->mem = data ? data : empty;
    z->size = data ? size : 0;
    rcl_status s = zip_parse(z);
    if (s != RCL_OK) {
        rcl_zip_close(z);
        return s;
    }
    *out = z;
    return RCL_OK;
}

size_t rcl_zip_count(const rcl_zip *z) { return z->n; }

const rcl_zip_entry *rcl_zip_entry_at(const rcl_zip *z, size_t i) { return i < z->n ? &z->entries[i] : NULL; }

const rcl_zip_entry *rcl_zip_find(const rcl_zip *z, const char *name) {
    for (size_t i = 0; i < z->n; i++)
        if (!strcmp(z->entries[i].name, name))
            return &z->entries[i];
    return NULL;
}

const char *rcl_zip_label(const rcl_zip *z) { return z->label; }

rcl_status rcl_zip_stream_open(rcl_zip *z, const rcl_zip_entry *e, rcl_zip_stream **out) {
    *out = NULL;
    if (e->method == -1)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s is encrypted", z->label, e->name);
    if (e->method != RCL_ZIP_STORED && e->method != RCL_ZIP_DEFLATED)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: unsupported compression method %d", z->label, e->name,
                        e->method);
    rcl_zip_stream *s = calloc(1, sizeof *s);
    if (!s)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", z->label);
    s->z = z;
    s->e = e;
    s->crc = crc32(0L, Z_NULL, 0);
    if (e->method == RCL_ZIP_DEFLATED) {
        if (inflateInit2(&s->zs, -15) != Z_OK) { /* raw deflate, no zlib header */
            free(s);
            return rcl_fail(RCL_ERR_NO_MEMORY, "%s: member %s: inflateInit2 failed", z->label, e->name);
        }
        s->inflating = 1;
    }
    *out = s;
    return RCL_OK;
}

void rcl_zip_stream_close(rcl_zip_stream *s) {
    if (!s)
        return;
    if (s->inflating)
        inflateEnd(&s->zs);
    free(s);
}

/* Inflates into buf[0..n); n <= remaining size. */
static rcl_status stream_inflate(rcl_zip_stream *s, unsigned char *buf, size_t n) {
    const rcl_zip *z = s->z;
    const rcl_zip_entry *e = s->e;
    while (n > 0) {
        if (s->ended)
            return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: deflate data ends after %llu of %llu bytes", z->label,
                            e->name, (unsigned long long)s->out_pos, (unsigned long long)e->size);
        if (s->zs.avail_in == 0 && s->in_pos < e->comp_size) {
            size_t m = e->comp_size - s->in_pos < sizeof s->in ? (size_t)(e->comp_size - s->in_pos) : sizeof s->in;
            RCL_TRY(src_read(z, e->data_offset + s->in_pos, s->in, m, e->name));
            s->in_pos += m;
            s->zs.next_in = s->in;
            s->zs.avail_in = (uInt)m;
        }
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        s->zs.next_out = buf;
        s->zs.avail_out = chunk;
        int r = inflate(&s->zs, Z_NO_FLUSH);
        size_t made = chunk - s->zs.avail_out;
        if (r == Z_STREAM_END)
            s->ended = 1;
        else if (r == Z_BUF_ERROR && made == 0 && s->zs.avail_in == 0)
            return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: compressed data is truncated", z->label, e->name);
        else if (r != Z_OK && r != Z_BUF_ERROR)
            return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: corrupt deflate data (%s)", z->label, e->name,
                            s->zs.msg ? s->zs.msg : "inflate error");
        s->crc = crc32(s->crc, buf, (uInt)made);
        s->out_pos += made;
        buf += made;
        n -= made;
    }
    return RCL_OK;
}

/* At the end of the declared size: the deflate stream must end too, with nothing more. */
static rcl_status stream_finish(rcl_zip_stream *s) {
    const rcl_zip *z = s->z;
    const rcl_zip_entry *e = s->e;
    while (s->inflating && !s->ended) {
        unsigned char extra;
        if (s->zs.avail_in == 0 && s->in_pos < e->comp_size) {
            size_t m = e->comp_size - s->in_pos < sizeof s->in ? (size_t)(e->comp_size - s->in_pos) : sizeof s->in;
            RCL_TRY(src_read(z, e->data_offset + s->in_pos, s->in, m, e->name));
            s->in_pos += m;
            s->zs.next_in = s->in;
            s->zs.avail_in = (uInt)m;
        }
        s->zs.next_out = &extra;
        s->zs.avail_out = 1;
        int r = inflate(&s->zs, Z_NO_FLUSH);
        if (s->zs.avail_out == 0)
            return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: more data than the declared %llu bytes", z->label,
                            e->name, (unsigned long long)e->size);
        if (r == Z_STREAM_END)
            s->ended = 1;
        else if (r != Z_OK)
            return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: compressed data is truncated or corrupt", z->label,
                            e->name);
    }
    if ((uint32_t)s->crc != e->crc32)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: CRC-32 mismatch (stored %08x, computed %08x)", z->label,
                        e->name, (unsigned)e->crc32, (unsigned)s->crc);
    s->done = 1;
    return RCL_OK;
}

rcl_status rcl_zip_stream_read(rcl_zip_stream *s, void *buf, size_t n, size_t *got) {
    *got = 0;
    const rcl_zip_entry *e = s->e;
    uint64_t left = e->size - s->out_pos;
    size_t m = n < left ? n : (size_t)left;
    if (m > 0) {
        if (s->inflating) {
            RCL_TRY(stream_inflate(s, buf, m));
        } else {
            RCL_TRY(src_read(s->z, e->data_offset + s->out_pos, buf, m, e->name));
            for (size_t done = 0; done < m;) { /* crc32 takes a uInt length */
                uInt c = m - done > (1u << 30) ? (1u << 30) : (uInt)(m - done);
                s->crc = crc32(s->crc, (const unsigned char *)buf + done, c);
                done += c;
            }
            s->out_pos += m;
        }
    }
    if (s->out_pos == e->size && !s->done)
        RCL_TRY(stream_finish(s));
    *got = m;
    return RCL_OK;
}

rcl_status rcl_zip_read(rcl_zip *z, const rcl_zip_entry *e, unsigned char **data, size_t *size) {
    *data = NULL;
    *size = 0;
    if (e->size >= SIZE_MAX)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: member %s too large", z->label, e->name);
    rcl_zip_stream *s;
    RCL_TRY(rcl_zip_stream_open(z, e, &s));
    unsigned char *buf = malloc((size_t)e->size + 1);
    if (!buf) {
        rcl_zip_stream_close(s);
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: member %s: out of memory for %llu bytes", z->label, e->name,
                        (unsigned long long)e->size);
    }
    size_t got = 0;
    rcl_status st = rcl_zip_stream_read(s, buf, (size_t)e->size, &got);
    rcl_zip_stream_close(s);
    if (st != RCL_OK) {
        free(buf);
        return st;
    }
    buf[got] = 0;
    *data = buf;
    *size = got;
    return RCL_OK;
}

rcl_status rcl_zip_read_name(rcl_zip *z, const char *name, unsigned char **data, size_t *size) {
    const rcl_zip_entry *e = rcl_zip_find(z, name);
    if (!e) {
        *data = NULL;
        *size = 0;
        return rcl_fail(RCL_ERR_FORMAT, "%s: no member named %s", z->label, name);
    }
    return rcl_zip_read(z, e, data, size);
}
