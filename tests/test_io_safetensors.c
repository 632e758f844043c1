/* safetensors: reading a file written by hand in Python per the format spec
 * (tests/data/gen_io_safetensors.py), writing the identical bytes, atomic round trip,
 * dtype conversions, and a corruption sweep that must always fail cleanly. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/fileio.h"
#include "robustcl/safetensors.h"

static char *fixture(const char *name) {
    static char path[1024];
    const char *dir = getenv("RCL_TEST_DATA");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", name);
    return path;
}

/* The table of gen_io_safetensors.py. */
static float fc_w[12], fc_b[3] = {1.0f, -2.0f, 3.5f}, conv_w[18];
static int64_t step = 123456789012LL;
static int32_t counts[5] = {-2, -1, 0, 1, 2147483647};
static uint8_t labels[6] = {0, 1, 2, 253, 254, 255};
static const char *note = "h\xc3\xa9llo \"quoted\"\n\ttab";

static void init_table(void) {
    for (int i = 0; i < 12; i++)
        fc_w[i] = (float)(i * 0.25 - 1.5);
    for (int i = 0; i < 18; i++)
        conv_w[i] = (float)((i - 9) / 8.0);
}

static void add_table(rcl_st_writer *w) {
    /* deliberately not in file order: the writer sorts */
    CHECK_OK(rcl_st_writer_add(w, "labels", RCL_DT_U8, 2, (int64_t[]){2, 3}, labels));
    CHECK_OK(rcl_st_writer_add(w, "fc.weight", RCL_DT_F32, 2, (int64_t[]){3, 4}, fc_w));
    CHECK_OK(rcl_st_writer_add_ref(w, "step", RCL_DT_I64, 0, NULL, &step));
    CHECK_OK(rcl_st_writer_add(w, "empty", RCL_DT_F32, 2, (int64_t[]){0, 3}, NULL));
    CHECK_OK(rcl_st_writer_add(w, "conv1.weight", RCL_DT_F32, 4, (int64_t[]){2, 1, 3, 3}, conv_w));
    CHECK_OK(rcl_st_writer_add(w, "counts", RCL_DT_I32, 1, (int64_t[]){5}, counts));
    CHECK_OK(rcl_st_writer_add(w, "fc.bias", RCL_DT_F32, 1, (int64_t[]){3}, fc_b));
    CHECK_OK(rcl_st_writer_set_metadata(w, "note", "placeholder"));
    CHECK_OK(rcl_st_writer_set_metadata(w, "format", "pt"));
    CHECK_OK(rcl_st_writer_set_metadata(w, "note", note)); /* replaces */
}

static void check_table(const rcl_st_file *f) {
    CHECK(rcl_st_count(f) == 7, "7 tensors, got %zu", rcl_st_count(f));
    CHECK(rcl_st_metadata_count(f) == 2, "2 metadata entries");
    CHECK(rcl_st_metadata(f, "format") && !strcmp(rcl_st_metadata(f, "format"), "pt"), "metadata format");
    CHECK(rcl_st_metadata(f, "note") && !strcmp(rcl_st_metadata(f, "note"), note), "metadata with escapes");
    CHECK(rcl_st_metadata(f, "nope") == NULL, "absent metadata");
    const rcl_st_tensor *t;
    CHECK_OK(rcl_st_get(f, "fc.weight", RCL_DT_F32, 2, (int64_t[]){3, 4}, &t));
    CHECK(t && !memcmp(t->data, fc_w, sizeof fc_w) && t->numel == 12, "fc.weight");
    CHECK_OK(rcl_st_get(f, "fc.bias", RCL_DT_F32, 1, (int64_t[]){3}, &t));
    CHECK(t && !memcmp(t->data, fc_b, sizeof fc_b), "fc.bias");
    CHECK_OK(rcl_st_get(f, "conv1.weight", RCL_DT_F32, 4, (int64_t[]){2, 1, 3, 3}, &t));
    CHECK(t && !memcmp(t->data, conv_w, sizeof conv_w), "conv1.weight");
    CHECK_OK(rcl_st_get(f, "step", RCL_DT_I64, 0, NULL, &t));
    CHECK(t && t->numel == 1 && !memcmp(t->data, &step, 8), "scalar step");
    CHECK_OK(rcl_st_get(f, "counts", RCL_DT_I32, 1, (int64_t[]){5}, &t));
    CHECK(t && !memcmp(t->data, counts, sizeof counts), "counts");
    CHECK_OK(rcl_st_get(f, "labels", RCL_DT_U8, 2, (int64_t[]){2, 3}, &t));
    CHECK(t && !memcmp(t->data, labels, sizeof labels), "labels");
    CHECK_OK(rcl_st_get(f, "empty", RCL_DT_F32, 2, (int64_t[]){0, 3}, &t));
    CHECK(t && t->numel == 0 && t->nbytes == 0, "empty");
    /* file order: I64 first, then F32 by name, I32, U8 */
    const char *order[] = {"step", "conv1.weight", "empty", "fc.bias", "fc.weight", "counts", "labels"};
    for (size_t i = 0; i < 7 && i < rcl_st_count(f); i++)
        CHECK(!strcmp(rcl_st_tensor_at(f, i)->name, order[i]), "tensor %zu is %s", i, rcl_st_tensor_at(f, i)->name);
    CHECK(rcl_st_tensor_at(f, 7) == NULL, "tensor_at out of range");

    CHECK_FAILS(rcl_st_get(f, "fc.weight", RCL_DT_F32, 2, (int64_t[]){4, 3}, &t), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "fc.weight") && strstr(rcl_last_error(), "[3,4]") &&
              strstr(rcl_last_error(), rcl_st_label(f)),
          "shape mismatch message: %s", rcl_last_error());
    CHECK_FAILS(rcl_st_get(f, "counts", RCL_DT_F32, 1, (int64_t[]){5}, &t), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "I32") != NULL, "dtype mismatch message: %s", rcl_last_error());
    CHECK_FAILS(rcl_st_get(f, "missing.weight", RCL_DT_F32, 0, NULL, &t), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "missing.weight") != NULL, "absent message: %s", rcl_last_error());
}

static void test_reference_file(unsigned char **ref, size_t *ref_n) {
    rcl_st_file *f = NULL;
    CHECK_OK(rcl_st_open(fixture("io_st_ref.safetensors"), &f));
    if (f)
        check_table(f);
    rcl_st_close(f);
    CHECK_OK(rcl_file_read(fixture("io_st_ref.safetensors"), ref, ref_n));
}

static void test_writer_bytes(const unsigned char *ref, size_t ref_n) {
    rcl_st_writer *w;
    CHECK_OK(rcl_st_writer_new(&w));
    add_table(w);
    unsigned char *mem = NULL;
    size_t n = 0;
    CHECK_OK(rcl_st_writer_to_memory(w, &mem, &n));
    CHECK(n == ref_n && !memcmp(mem, ref, n), "writer output is byte-identical to the reference layout (%zu vs %zu)",
          n, ref_n);
    uint64_t hlen;
    memcpy(&hlen, mem, 8);
    CHECK(hlen % 8 == 0 && mem[8 + hlen - 1] == ' ', "header padded with spaces to a multiple of 8");

    char path[1024];
    snprintf(path, sizeof path, "%s/rt.safetensors", rcl_test_tmpdir());
    CHECK_OK(rcl_st_writer_commit(w, path));
    rcl_st_writer_free(w);
    rcl_st_file *f = NULL;
    CHECK_OK(rcl_st_open(path, &f));
    if (f)
        check_table(f);
    rcl_st_close(f);
    unsigned char *disk;
    size_t dn;
    CHECK_OK(rcl_file_read(path, &disk, &dn));
    CHECK(dn == n && !memcmp(disk, mem, n), "file equals memory image");
    free(disk);
    free(mem);
    /* no temporary file left behind */
    DIR *d = opendir(rcl_test_tmpdir());
    int tmp = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        tmp += strstr(de->d_name, ".tmp") != NULL;
    if (d)
        closedir(d);
    CHECK(tmp == 0, "%d temp files left", tmp);
    /* commit into a missing directory fails with an IO error, not a crash */
    CHECK_OK(rcl_st_writer_new(&w));
    snprintf(path, sizeof path, "%s/no/such/dir/x.safetensors", rcl_test_tmpdir());
    CHECK_FAILS(rcl_st_writer_commit(w, path), RCL_ERR_IO);
    rcl_st_writer_free(w);
}

static void test_dtypes(void) {
    rcl_st_writer *w;
    CHECK_OK(rcl_st_writer_new(&w));
    uint16_t f16[6] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x3555};
    uint16_t bf16[3] = {0x3F80, 0xC040, 0x0000};
    double f64[2] = {0.5, -1e300};
    int8_t i8[3] = {-128, 0, 127};
    uint8_t b[3] = {0, 1, 2};
    int16_t i16[2] = {-32768, 7};
    uint64_t u64[1] = {1ull << 40};
    CHECK_OK(rcl_st_writer_add(w, "f16", RCL_DT_F16, 1, (int64_t[]){6}, f16));
    CHECK_OK(rcl_st_writer_add(w, "bf16", RCL_DT_BF16, 1, (int64_t[]){3}, bf16));
    CHECK_OK(rcl_st_writer_add(w, "f64", RCL_DT_F64, 1, (int64_t[]){2}, f64));
    CHECK_OK(rcl_st_writer_add(w, "i8", RCL_DT_I8, 1, (int64_t[]){3}, i8));
    CHECK_OK(rcl_st_writer_add(w, "bool", RCL_DT_BOOL, 1, (int64_t[]){3}, b));
    CHECK_OK(rcl_st_writer_add(w, "i16", RCL_DT_I16, 1, (int64_t[]){2}, i16));
    CHECK_OK(rcl_st_writer_add(w, "u64", RCL_DT_U64, 1, (int64_t[]){1}, u64));
    unsigned char *mem;
    size_t n;
    CHECK_OK(rcl_st_writer_to_memory(w, &mem, &n));
    rcl_st_writer_free(w);
    rcl_st_file *f = NULL;
    CHECK_OK(rcl_st_parse(mem, n, "dtypes", &f));
    float out[6];
    const rcl_st_tensor *t = f ? rcl_st_find(f, "f16") : NULL;
    if (t) {
        CHECK_OK(rcl_st_to_f32(t->dtype, t->data, t->numel, out));
        CHECK(out[0] == 1.0f && out[1] == -2.0f && out[2] == 65504.0f && out[3] == ldexpf(1.0f, -24) &&
                  isinf(out[4]) && fabsf(out[5] - 0.33325195f) < 1e-7f,
              "f16: %g %g %g %g %g %g", out[0], out[1], out[2], out[3], out[4], out[5]);
    }
    t = f ? rcl_st_find(f, "bf16") : NULL;
    if (t) {
        CHECK_OK(rcl_st_to_f32(t->dtype, t->data, t->numel, out));
        CHECK(out[0] == 1.0f && out[1] == -3.0f && out[2] == 0.0f, "bf16");
    }
    struct {
        const char *name;
        float want[3];
    } cases[] = {{"f64", {0.5f, -INFINITY}}, {"i8", {-128, 0, 127}}, {"bool", {0, 1, 1}},
                 {"i16", {-32768, 7}},       {"u64", {1099511627776.0f}}};
    for (size_t c = 0; f && c < sizeof cases / sizeof cases[0]; c++) {
        t = rcl_st_find(f, cases[c].name);
        CHECK(t != NULL, "%s present", cases[c].name);
        if (!t)
            continue;
        CHECK_OK(rcl_st_to_f32(t->dtype, t->data, t->numel, out));
        CHECK(!memcmp(out, cases[c].want, t->numel * sizeof(float)), "%s converts", cases[c].name);
    }
    CHECK_FAILS(rcl_st_to_f32(RCL_DT_COUNT, mem, 1, out), RCL_ERR_INVALID_ARG);
    rcl_st_close(f);
    free(mem);
}

static void test_writer_misuse(void) {
    rcl_st_writer *w;
    float x[2] = {1, 2};
    CHECK_OK(rcl_st_writer_new(&w));
    CHECK_OK(rcl_st_writer_add(w, "a", RCL_DT_F32, 1, (int64_t[]){2}, x));
    CHECK_FAILS(rcl_st_writer_add(w, "a", RCL_DT_F32, 1, (int64_t[]){2}, x), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_st_writer_add(w, "__metadata__", RCL_DT_F32, 1, (int64_t[]){2}, x), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_st_writer_add(w, "", RCL_DT_F32, 1, (int64_t[]){2}, x), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_st_writer_add(w, "b", RCL_DT_COUNT, 1, (int64_t[]){2}, x), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_st_writer_add(w, "c", RCL_DT_F32, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 2}, x),
                RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_st_writer_add(w, "d", RCL_DT_F32, 1, (int64_t[]){-1}, x), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_st_writer_add(w, "e", RCL_DT_F32, 2, (int64_t[]){INT64_MAX, 4}, x), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_st_writer_add(w, "f", RCL_DT_F32, 1, (int64_t[]){2}, NULL), RCL_ERR_INVALID_ARG);
    unsigned char *mem;
    size_t n;
    CHECK_OK(rcl_st_writer_to_memory(w, &mem, &n)); /* the failed adds left nothing behind */
    rcl_st_file *f = NULL;
    CHECK_OK(rcl_st_parse(mem, n, "misuse", &f));
    CHECK(f && rcl_st_count(f) == 1 && rcl_st_metadata_count(f) == 0, "one tensor, no metadata");
    rcl_st_close(f);
    free(mem);
    rcl_st_writer_free(w);
}

/* A file image from a header text (padded) and `data_len` bytes of data. */
static unsigned char *craft(const char *header, size_t data_len, size_t *n) {
    size_t h = strlen(header), p = (h + 7) / 8 * 8;
    *n = 8 + p + data_len;
    unsigned char *b = calloc(1, *n);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)p >> (8 * i));
    memcpy(b + 8, header, h);
    memset(b + 8 + h, ' ', p - h);
    return b;
}

static void expect_bad(const char *what, const char *header, size_t data_len, const char *needle) {
    size_t n;
    unsigned char *b = craft(header, data_len, &n);
    rcl_st_file *f = NULL;
    rcl_status s = rcl_st_parse(b, n, what, &f);
    CHECK(s == RCL_ERR_FORMAT && f == NULL, "%s: %s", what, rcl_status_name(s));
    CHECK(strstr(rcl_last_error(), what) && (!needle || strstr(rcl_last_error(), needle)),
          "%s: message '%s' should name '%s'", what, rcl_last_error(), needle ? needle : "");
    rcl_st_close(f);
    free(b);
}

static void test_malformed(const unsigned char *ref, size_t ref_n) {
    expect_bad("bad dtype", "{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "w");
    expect_bad("past data", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "w");
    expect_bad("shape mismatch", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "w");
    expect_bad("reversed", "{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4, "w");
    expect_bad("overlap",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               12, "overlaps");
    expect_bad("gap",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
               12, "b");
    expect_bad("trailing data", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "cover");
    expect_bad("duplicate",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
               8, "twice");
    expect_bad("negative dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0, "w");
    expect_bad("fractional dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "w");
    expect_bad("huge dims",
               "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,0]}}", 0, "w");
    expect_bad("nine dims", "{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
               "w");
    expect_bad("missing field", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "w");
    expect_bad("three offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4, "w");
    expect_bad("string offset", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", 4, "w");
    expect_bad("entry not object", "{\"w\":[1,2]}", 0, "w");
    expect_bad("metadata not object", "{\"__metadata__\":[\"a\"]}", 0, "__metadata__");
    expect_bad("metadata value", "{\"__metadata__\":{\"k\":1}}", 0, "k");
    expect_bad("array header", "[]", 0, NULL);
    expect_bad("bad json", "{\"w\":{\"dtype\":\"F32\",}", 0, "byte");
    expect_bad("nested too deep", "{\"w\":{\"dtype\":[[[[[[[[[[1]]]]]]]]]]}}", 0, NULL);

    /* empty header object and no data: a valid, empty file */
    size_t n;
    unsigned char *b = craft("{}", 0, &n);
    rcl_st_file *f = NULL;
    CHECK_OK(rcl_st_parse(b, n, "empty", &f));
    CHECK(f && rcl_st_count(f) == 0, "empty file");
    rcl_st_close(f);
    free(b);

    /* header length beyond the file, and beyond the 100 MB limit */
    unsigned char small[16] = {0xF0, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    CHECK_FAILS(rcl_st_parse(small, sizeof small, "long header", &f), RCL_ERR_FORMAT);
    unsigned char huge_len[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    CHECK_FAILS(rcl_st_parse(huge_len, sizeof huge_len, "2^64 header", &f), RCL_ERR_FORMAT);
    /* another kind of file: named as what it is not, its first bytes not read as a length */
    const char text[] = "# robustcl\n\nWide ResNets and the robustness evaluations of ...\n";
    CHECK_FAILS(rcl_st_parse((const unsigned char *)text, sizeof text - 1, "README.md", &f), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "README.md: not a safetensors checkpoint") != NULL, "a text file: %s",
          rcl_last_error());
    size_t big_n = RCL_ST_MAX_HEADER + 16;
    unsigned char *big = calloc(1, big_n);
    uint64_t hl = RCL_ST_MAX_HEADER + 1;
    memcpy(big, &hl, 8);
    big[8] = '{';
    CHECK_FAILS(rcl_st_parse(big, big_n, "100MB", &f), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "limit") != NULL, "limit message: %s", rcl_last_error());
    free(big);
    CHECK_FAILS(rcl_st_parse(NULL, 0, "null", &f), RCL_ERR_FORMAT);
    CHECK_FAILS(rcl_st_open(fixture("no_such.safetensors"), &f), RCL_ERR_IO);

    /* every truncation of the reference file fails */
    unsigned char *copy = malloc(ref_n);
    int bad = 0;
    for (size_t len = 0; len < ref_n; len++) {
        memcpy(copy, ref, len);
        f = NULL;
        rcl_status s = rcl_st_parse(copy, len, "trunc", &f);
        if (s != RCL_ERR_FORMAT || f)
            bad++;
        rcl_st_close(f);
    }
    CHECK(bad == 0, "%d truncations did not fail with RCL_ERR_FORMAT", bad);

    /* every header byte flipped (several ways): clean failure, or a file whose tensors
     * still lie inside the image */
    uint64_t hlen;
    memcpy(&hlen, ref, 8);
    int ok = 0, failed = 0;
    bad = 0;
    for (size_t pos = 0; pos < 8 + hlen; pos++) {
        static const unsigned char masks[] = {0x01, 0x02, 0x08, 0x20, 0x80, 0xFF};
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(copy, ref, ref_n);
            copy[pos] ^= masks[m];
            f = NULL;
            rcl_status s = rcl_st_parse(copy, ref_n, "flip", &f);
            if (s == RCL_OK) {
                ok++;
                for (size_t i = 0; i < rcl_st_count(f); i++) {
                    const rcl_st_tensor *t = rcl_st_tensor_at(f, i);
                    const unsigned char *d = t->data;
                    if (d < copy || d + t->nbytes > copy + ref_n ||
                        t->nbytes != t->numel * rcl_st_dtype_size(t->dtype))
                        bad++;
                }
            } else if (s == RCL_ERR_FORMAT) {
                failed++;
            } else {
                bad++;
            }
            rcl_st_close(f);
        }
    }
    CHECK(bad == 0 && failed > 0, "flips: %d ok, %d failed, %d bad", ok, failed, bad);
    free(copy);
}

int main(void) {
    init_table();
    unsigned char *ref = NULL;
    size_t ref_n = 0;
    test_reference_file(&ref, &ref_n);
    if (ref) {
        test_writer_bytes(ref, ref_n);
        test_malformed(ref, ref_n);
    }
    test_dtypes();
    test_writer_misuse();
    free(ref);
    return rcl_test_finish();
}
