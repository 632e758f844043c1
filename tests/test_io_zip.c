/* Zip reader: archives written by Python's zipfile (tests/data/gen_io_zip.py), stored and
 * deflated members, data descriptors, zip64; truncation and byte-flip sweeps. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/fileio.h"
#include "io/zip.h"

#define N_MEMBERS 5

static char *fixture(const char *name) {
    static char path[4][1024];
    static int k;
    const char *dir = getenv("RCL_TEST_DATA");
    char *p = path[k++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", dir ? dir : "tests/data", name);
    return p;
}

/* The member contents, as gen_io_zip.py writes them. */
static unsigned char *expected(int i, size_t noise_n, size_t *n) {
    static const char *names[N_MEMBERS] = {"hello.txt", "empty", "text.txt", "dir/noise.bin",
                                           "dir/noise_stored.bin"};
    (void)names;
    unsigned char *b = malloc(noise_n + 16384);
    size_t m = 0;
    if (i == 0) {
        m = (size_t)sprintf((char *)b, "hello, zip\n");
    } else if (i == 2) {
        for (int k = 0; k < 400; k++)
            m += (size_t)sprintf((char *)b + m, "the quick brown fox %d\n", k);
    } else if (i == 3 || i == 4) {
        size_t len = i == 3 ? noise_n : noise_n / 7;
        unsigned long x = 12345;
        for (size_t k = 0; k < len; k++) {
            x = (x * 1103515245ul + 12345ul) & 0x7FFFFFFFul;
            b[m++] = (unsigned char)((x >> 16) & 0xFF);
        }
    }
    *n = m;
    return b;
}

static const char *member_name(int i) {
    static const char *names[N_MEMBERS] = {"hello.txt", "empty", "text.txt", "dir/noise.bin",
                                           "dir/noise_stored.bin"};
    return names[i];
}

/* Reads every member; returns 1 when all read OK and match. Statuses other than OK and
 * FORMAT count as a failed check. */
static int read_all(rcl_zip *z, size_t noise_n, int report) {
    int all = 1;
    for (int i = 0; i < N_MEMBERS; i++) {
        unsigned char *got;
        size_t n, want_n;
        rcl_status s = rcl_zip_read_name(z, member_name(i), &got, &n);
        if (s != RCL_OK) {
            if (s != RCL_ERR_FORMAT)
                CHECK(0, "member %s: %s: %s", member_name(i), rcl_status_name(s), rcl_last_error());
            else if (report)
                CHECK(0, "member %s: %s", member_name(i), rcl_last_error());
            all = 0;
            continue;
        }
        unsigned char *want = expected(i, noise_n, &want_n);
        int same = n == want_n && !memcmp(got, want, n) && got[n] == 0;
        if (report)
            CHECK(same, "member %s content (%zu bytes, want %zu)", member_name(i), n, want_n);
        else
            CHECK(same, "a corrupted archive read OK but member %s differs", member_name(i));
        all = all && same;
        free(want);
        free(got);
    }
    return all;
}

static void test_fixture(const char *name, size_t noise_n) {
    rcl_zip *z = NULL;
    CHECK_OK(rcl_zip_open(fixture(name), &z));
    if (!z)
        return;
    CHECK(rcl_zip_count(z) == N_MEMBERS, "%s: %zu members", name, rcl_zip_count(z));
    for (int i = 0; i < N_MEMBERS && i < (int)rcl_zip_count(z); i++)
        CHECK(!strcmp(rcl_zip_entry_at(z, (size_t)i)->name, member_name(i)), "%s: member %d is %s", name, i,
              rcl_zip_entry_at(z, (size_t)i)->name);
    CHECK(rcl_zip_entry_at(z, N_MEMBERS) == NULL, "entry_at out of range is NULL");
    const rcl_zip_entry *e = rcl_zip_find(z, "hello.txt");
    CHECK(e && e->method == RCL_ZIP_STORED && e->size == 11, "hello.txt stored, 11 bytes");
    e = rcl_zip_find(z, "dir/noise.bin");
    CHECK(e && e->method == RCL_ZIP_DEFLATED && e->size == noise_n, "noise.bin deflated");
    CHECK(rcl_zip_find(z, "nope") == NULL, "absent member");
    read_all(z, noise_n, 1);

    /* streaming in odd-sized chunks gives the same bytes */
    for (int i = 2; i <= 4; i++) {
        e = rcl_zip_find(z, member_name(i));
        size_t want_n;
        unsigned char *want = expected(i, noise_n, &want_n);
        unsigned char *got = malloc(want_n + 1000);
        rcl_zip_stream *s = NULL;
        size_t total = 0, n = 0;
        rcl_status st = rcl_zip_stream_open(z, e, &s);
        while (st == RCL_OK) {
            st = rcl_zip_stream_read(s, got + total, 777, &n);
            total += n;
            if (n < 777)
                break;
        }
        CHECK(st == RCL_OK && total == want_n && !memcmp(got, want, want_n), "%s: streamed %s", name,
              member_name(i));
        st = rcl_zip_stream_read(s, got, 10, &n); /* past the end: nothing, no error */
        CHECK(st == RCL_OK && n == 0, "read past the end");
        rcl_zip_stream_close(s);
        free(got);
        free(want);
    }
    unsigned char *d;
    size_t n;
    CHECK_FAILS(rcl_zip_read_name(z, "nope", &d, &n), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "nope") && strstr(rcl_last_error(), name), "error names archive and member: %s",
          rcl_last_error());
    rcl_zip_close(z);
}

/* Offset of a member's data: after its local header (signature, name at 30, extra). */
static size_t local_data_offset(const unsigned char *buf, size_t size, const char *name) {
    size_t nlen = strlen(name);
    for (size_t p = 0; p + 30 + nlen <= size; p++)
        if (!memcmp(buf + p, "PK\3\4", 4) && buf[p + 26] + 256u * buf[p + 27] == nlen &&
            !memcmp(buf + p + 30, name, nlen))
            return p + 30 + nlen + buf[p + 28] + 256u * buf[p + 29];
    return 0;
}

static void test_corruption(void) {
    unsigned char *buf;
    size_t size;
    const size_t noise_n = 3000;
    CHECK_OK(rcl_file_read(fixture("io_zip_descriptor.zip"), &buf, &size));
    if (!buf)
        return;
    unsigned char *copy = malloc(size);

    /* truncation anywhere: the end record is gone, so opening fails */
    int bad = 0;
    for (size_t len = 0; len < size; len += (len + 200 < size ? 37 : 1)) {
        memcpy(copy, buf, len);
        rcl_zip *z = NULL;
        rcl_status s = rcl_zip_open_memory(copy, len, "trunc", &z);
        if (s != RCL_ERR_FORMAT || z)
            bad++;
        rcl_zip_close(z);
    }
    CHECK(bad == 0, "%d truncated archives did not fail with RCL_ERR_FORMAT", bad);

    /* single-byte flips: the reader fails cleanly or returns the right bytes (CRC) */
    int opened = 0, failed = 0;
    for (size_t pos = 0; pos < size; pos += (pos > size - 400 ? 1 : 13)) {
        memcpy(copy, buf, size);
        copy[pos] ^= 0x5A;
        rcl_zip *z = NULL;
        rcl_status s = rcl_zip_open_memory(copy, size, "flip", &z);
        if (s == RCL_OK) {
            opened++;
            if (!read_all(z, noise_n, 0))
                failed++;
        } else {
            CHECK(s == RCL_ERR_FORMAT, "flip at %zu: %s", pos, rcl_status_name(s));
            failed++;
        }
        rcl_zip_close(z);
    }
    CHECK(opened > 0 && failed > 0, "flips: %d opened, %d failed somewhere", opened, failed);

    /* a flipped data byte of a deflated member is a CRC or deflate error naming it */
    const rcl_zip_entry *e;
    rcl_zip *z = NULL;
    CHECK_OK(rcl_zip_open_memory(buf, size, "orig", &z));
    e = z ? rcl_zip_find(z, "dir/noise_stored.bin") : NULL;
    if (e) {
        memcpy(copy, buf, size);
        size_t data = local_data_offset(buf, size, e->name);
        CHECK(data > 0, "found the local header of %s", e->name);
        copy[data + 5] ^= 1;
        rcl_zip *z2 = NULL;
        CHECK_OK(rcl_zip_open_memory(copy, size, "crc", &z2));
        unsigned char *d = NULL;
        size_t n;
        if (z2) {
            CHECK_FAILS(rcl_zip_read_name(z2, "dir/noise_stored.bin", &d, &n), RCL_ERR_FORMAT);
            CHECK(strstr(rcl_last_error(), "CRC") && strstr(rcl_last_error(), "noise_stored.bin"),
                  "CRC error names the member: %s", rcl_last_error());
            CHECK(d == NULL, "no data on failure");
        }
        rcl_zip_close(z2);
    }
    rcl_zip_close(z);

    /* a bogus huge size in the central directory is refused without allocating it */
    CHECK_OK(rcl_zip_open_memory(buf, size, "orig", &z));
    e = z ? rcl_zip_find(z, "text.txt") : NULL;
    if (e) {
        /* find text.txt's central entry: signature then offset 24 = uncompressed size */
        memcpy(copy, buf, size);
        for (size_t p = 0; p + 46 < size; p++) {
            if (!memcmp(copy + p, "PK\1\2", 4) && !memcmp(copy + p + 46, "text.txt", 8)) {
                copy[p + 24] = copy[p + 25] = copy[p + 26] = 0xFF;
                copy[p + 27] = 0x7F;
                break;
            }
        }
        rcl_zip *z2 = NULL;
        CHECK_FAILS(rcl_zip_open_memory(copy, size, "huge", &z2), RCL_ERR_FORMAT);
        CHECK(strstr(rcl_last_error(), "text.txt") != NULL, "names the member: %s", rcl_last_error());
    }
    rcl_zip_close(z);
    free(copy);
    free(buf);
}

static void test_not_zip(void) {
    rcl_zip *z = NULL;
    CHECK_FAILS(rcl_zip_open_memory("", 0, "empty", &z), RCL_ERR_FORMAT);
    char junk[300];
    memset(junk, 'x', sizeof junk);
    CHECK_FAILS(rcl_zip_open_memory(junk, sizeof junk, "junk", &z), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "junk") != NULL, "names the input: %s", rcl_last_error());
    /* an empty archive (end record only) is valid */
    unsigned char eocd[22] = {'P', 'K', 5, 6};
    CHECK_OK(rcl_zip_open_memory(eocd, sizeof eocd, "empty zip", &z));
    if (z)
        CHECK(rcl_zip_count(z) == 0, "no members");
    rcl_zip_close(z);
    z = NULL;
    CHECK_FAILS(rcl_zip_open(fixture("no_such_file.zip"), &z), RCL_ERR_IO);
    CHECK(z == NULL, "no handle on failure");
}

int main(void) {
    test_fixture("io_zip_basic.zip", 70000);
    test_fixture("io_zip_descriptor.zip", 3000);
    test_fixture("io_zip_force64.zip", 3000);
    test_fixture("io_zip_force64_descriptor.zip", 3000);
    test_fixture("io_zip_eocd64.zip", 3000);
    test_corruption();
    test_not_zip();
    return rcl_test_finish();
}
