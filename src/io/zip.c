/* Read-only zip archives through libzip, which parses the directories (zip64 included),
 * inflates and checks each member's CRC-32 and size when its end is read. What stays
 * here is what libzip does not decide for us: refusing sizes implausible for their
 * compressed size (so no member can make us allocate far more than the archive holds),
 * refusing duplicate names (lookups would be ambiguous), and error messages that name
 * the archive and the member. */
#include "io/zip.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

/* deflate cannot expand better than ~1032:1; a larger claimed size is bogus */
#define MAX_DEFLATE_RATIO 1032u
#define EOCD_SIZE 22

struct rcl_zip {
    zip_t *za;
    uint64_t size; /* of the archive */
    char *label;
    rcl_zip_entry *entries;
    size_t n;
};

struct rcl_zip_stream {
    rcl_zip *z;
    const rcl_zip_entry *e;
    zip_file_t *f;
    uint64_t out_pos;
    int done;
};

/* libzip's memory and malformed-input errors as ours; a failing read of the file is I/O. */
static rcl_status zip_error_status(const zip_error_t *err) {
    int code = zip_error_code_zip(err);
    if (code == ZIP_ER_MEMORY)
        return RCL_ERR_NO_MEMORY;
    if ((code == ZIP_ER_READ || code == ZIP_ER_OPEN) && zip_error_code_system(err) != 0)
        return RCL_ERR_IO;
    return RCL_ERR_FORMAT;
}

static rcl_status fail_libzip(zip_error_t *err, const char *label, const char *member) {
    if (member)
        return rcl_fail(zip_error_status(err), "%s: member %s: %s", label, member, zip_error_strerror(err));
    return rcl_fail(zip_error_status(err), "%s: not a valid zip archive (%s)", label, zip_error_strerror(err));
}

void rcl_zip_close(rcl_zip *z) {
    if (!z)
        return;
    if (z->za)
        zip_discard(z->za); /* also frees the source, and with it the FILE of an archive on disk */
    for (size_t i = 0; i < z->n; i++)
        free((char *)z->entries[i].name);
    free(z->entries);
    free(z->label);
    free(z);
}

/* Lists one member and applies the checks libzip leaves to its callers. */
static rcl_status list_entry(rcl_zip *z, zip_uint64_t i, rcl_zip_entry *e) {
    zip_stat_t st;
    if (zip_stat_index(z->za, i, ZIP_FL_ENC_RAW, &st) != 0)
        return fail_libzip(zip_get_error(z->za), z->label, NULL);
    const zip_uint64_t need = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_CRC |
                              ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD;
    if ((st.valid & need) != need)
        return rcl_fail(RCL_ERR_FORMAT, "%s: central directory entry %llu is incomplete", z->label,
                        (unsigned long long)i);
    char *name = strdup(st.name);
    if (!name)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", z->label);
    e->name = name; /* owned by z from here on, freed by rcl_zip_close */
    e->size = st.size;
    e->comp_size = st.comp_size;
    e->crc32 = st.crc;
    e->method = st.comp_method;
    if (e->comp_size > z->size)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: %llu compressed bytes in a %llu-byte archive", z->label,
                        name, (unsigned long long)e->comp_size, (unsigned long long)z->size);
    if (e->method == RCL_ZIP_STORED && e->comp_size != e->size)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: stored with compressed size %llu != size %llu", z->label,
                        name, (unsigned long long)e->comp_size, (unsigned long long)e->size);
    if (e->method == RCL_ZIP_DEFLATED && e->size / MAX_DEFLATE_RATIO > e->comp_size + 64)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: implausible size %llu for %llu compressed bytes", z->label,
                        name, (unsigned long long)e->size, (unsigned long long)e->comp_size);
    if (st.encryption_method != ZIP_EM_NONE)
        e->method = -1; /* encrypted: listed, refused on read */
    return RCL_OK;
}

static rcl_status list_entries(rcl_zip *z) {
    zip_int64_t count = zip_get_num_entries(z->za, 0);
    if (count < 0)
        return fail_libzip(zip_get_error(z->za), z->label, NULL);
    z->entries = calloc(count ? (size_t)count : 1, sizeof *z->entries);
    if (!z->entries)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", z->label);
    rcl_status s = RCL_OK;
    for (zip_int64_t i = 0; s == RCL_OK && i < count; i++) {
        s = list_entry(z, (zip_uint64_t)i, &z->entries[z->n]);
        if (z->entries[z->n].name)
            z->n++; /* counted as soon as it owns a name, so close frees it */
    }
    RCL_TRY(s);
    for (size_t i = 0; i < z->n; i++)
        for (size_t j = i + 1; j < z->n; j++)
            if (!strcmp(z->entries[i].name, z->entries[j].name))
                return rcl_fail(RCL_ERR_FORMAT, "%s: member %s appears twice", z->label, z->entries[i].name);
    return RCL_OK;
}

/* Opens the archive over `src` (taking it over), lists and checks the members, then
 * has libzip compare every local header with the central directory. The consistency
 * pass comes last so that a bogus size is reported naming its member. */
static rcl_status zip_from_source(rcl_zip *z, zip_source_t *src) {
    if (z->size < EOCD_SIZE) {
        zip_source_free(src);
        return rcl_fail(RCL_ERR_FORMAT, "%s: not a zip archive (only %llu bytes)", z->label,
                        (unsigned long long)z->size);
    }
    zip_error_t err;
    zip_error_init(&err);
    z->za = zip_open_from_source(src, ZIP_RDONLY, &err); /* owns src on success only */
    rcl_status s = z->za ? list_entries(z) : fail_libzip(&err, z->label, NULL);
    if (!z->za)
        zip_source_free(src);
    if (s == RCL_OK) {
        zip_source_keep(src); /* the second archive borrows it */
        zip_t *strict = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
        if (strict) {
            zip_discard(strict);
        } else {
            zip_source_free(src);
            s = rcl_fail(zip_error_status(&err), "%s: local file headers disagree with the central directory (%s)",
                         z->label, zip_error_strerror(&err));
        }
    }
    zip_error_fini(&err);
    return s;
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
    *out = z;
    return RCL_OK;
}

static rcl_status zip_finish(rcl_zip *z, rcl_status s, rcl_zip **out) {
    if (s != RCL_OK) {
        rcl_zip_close(z);
        return s;
    }
    *out = z;
    return RCL_OK;
}

rcl_status rcl_zip_open(const char *path, rcl_zip **out) {
    rcl_zip *z;
    RCL_TRY(zip_new(path, &z));
    struct stat st;
    FILE *f = fopen(path, "rbe");
    if (!f || fstat(fileno(f), &st) != 0) {
        rcl_status s = rcl_fail(RCL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        if (f)
            fclose(f);
        rcl_zip_close(z);
        return s;
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(f);
        rcl_zip_close(z);
        return rcl_fail(RCL_ERR_IO, "%s: not a regular file", path);
    }
    z->size = (uint64_t)st.st_size;
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_filep_create(f, 0, -1, &err); /* owns f from here on, even on failure */
    rcl_status s = src ? zip_from_source(z, src) : fail_libzip(&err, path, NULL);
    zip_error_fini(&err);
    return zip_finish(z, s, out);
}

rcl_status rcl_zip_open_memory(const void *data, size_t size, const char *label, rcl_zip **out) {
    rcl_zip *z;
    RCL_TRY(zip_new(label, &z));
    z->size = data ? size : 0;
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_buffer_create(data, z->size, 0, &err); /* not copied */
    rcl_status s = src ? zip_from_source(z, src) : fail_libzip(&err, z->label, NULL);
    zip_error_fini(&err);
    return zip_finish(z, s, out);
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
    s->f = zip_fopen_index(z->za, (zip_uint64_t)(e - z->entries), 0);
    if (!s->f) {
        rcl_status st = fail_libzip(zip_get_error(z->za), z->label, e->name);
        free(s);
        return st;
    }
    *out = s;
    return RCL_OK;
}

void rcl_zip_stream_close(rcl_zip_stream *s) {
    if (!s)
        return;
    zip_fclose(s->f);
    free(s);
}

/* Reads exactly n bytes of the member, or fails naming it. */
static rcl_status stream_fill(rcl_zip_stream *s, unsigned char *buf, size_t n) {
    while (n > 0) {
        zip_int64_t got = zip_fread(s->f, buf, n);
        if (got < 0) {
            zip_error_t *err = zip_file_get_error(s->f);
            if (zip_error_code_zip(err) == ZIP_ER_CRC)
                return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: CRC-32 mismatch (stored %08x)", s->z->label,
                                s->e->name, (unsigned)s->e->crc32);
            return fail_libzip(err, s->z->label, s->e->name);
        }
        if (got == 0)
            return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: data ends after %llu of %llu bytes", s->z->label,
                            s->e->name, (unsigned long long)s->out_pos, (unsigned long long)s->e->size);
        s->out_pos += (uint64_t)got;
        buf += got;
        n -= (size_t)got;
    }
    return RCL_OK;
}

/* At the declared size the member must end: libzip checks the CRC-32 and size when it
 * reaches the end, so read on until it does. */
static rcl_status stream_finish(rcl_zip_stream *s) {
    unsigned char extra;
    zip_int64_t got = zip_fread(s->f, &extra, 1);
    if (got > 0)
        return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: more data than the declared %llu bytes", s->z->label,
                        s->e->name, (unsigned long long)s->e->size);
    if (got < 0) {
        zip_error_t *err = zip_file_get_error(s->f);
        if (zip_error_code_zip(err) == ZIP_ER_CRC)
            return rcl_fail(RCL_ERR_FORMAT, "%s: member %s: CRC-32 mismatch (stored %08x)", s->z->label,
                            s->e->name, (unsigned)s->e->crc32);
        return fail_libzip(err, s->z->label, s->e->name);
    }
    s->done = 1;
    return RCL_OK;
}

rcl_status rcl_zip_stream_read(rcl_zip_stream *s, void *buf, size_t n, size_t *got) {
    *got = 0;
    uint64_t left = s->e->size - s->out_pos;
    size_t m = n < left ? n : (size_t)left;
    if (m > 0)
        RCL_TRY(stream_fill(s, buf, m));
    if (s->out_pos == s->e->size && !s->done)
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
