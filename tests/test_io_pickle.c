/* Restricted unpickler: CIFAR / ImageNet32-style pickles written by numpy + pickle at
 * protocols 2, 4, 5 and in Python 2's style (tests/data/gen_io_pickle.py); rejection of
 * every global outside the allow-list; truncation and byte-flip sweeps. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/fileio.h"
#include "io/pickle.h"

static char *fixture(const char *name) {
    static char path[1024];
    const char *dir = getenv("RCL_TEST_DATA");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", name);
    return path;
}

static void check_images(const char *what, const rcl_py *a, int n) {
    CHECK(a && a->type == RCL_PY_NDARRAY && a->dtype == RCL_DT_U8 && a->ndim == 2 && a->shape[0] == n &&
              a->shape[1] == 3072 && a->nbytes == (size_t)n * 3072 && !a->fortran,
          "%s: data is a uint8 %d x 3072 array", what, n);
    if (!a || a->type != RCL_PY_NDARRAY || a->nbytes != (size_t)n * 3072)
        return;
    const unsigned char *d = a->data;
    int bad = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 3072; j++)
            bad += d[i * 3072 + j] != (unsigned char)((i * 31 + j * 7) % 256);
    CHECK(bad == 0, "%s: %d wrong pixels", what, bad);
}

static void check_labels(const char *what, const rcl_py *l, int n, int mod, int add) {
    int64_t *v = NULL;
    size_t k = 0;
    CHECK_OK(rcl_py_int_array(l, what, &v, &k));
    int bad = k != (size_t)n;
    for (size_t i = 0; !bad && i < k; i++)
        bad += v[i] != (int64_t)((i * 37) % (size_t)mod) + add;
    CHECK(!bad, "%s: labels", what);
    free(v);
}

static rcl_pickle *load(const char *name) {
    rcl_pickle *p = NULL;
    CHECK_OK(rcl_pickle_load_file(fixture(name), &p));
    return p;
}

static void test_cifar(void) {
    rcl_pickle *p = load("io_pickle_cifar100_p2.pkl");
    if (p) {
        const rcl_py *r = rcl_pickle_root(p);
        CHECK(r->type == RCL_PY_DICT && r->count == 5, "cifar100: dict of 5");
        CHECK(r->count && r->items[0]->type == RCL_PY_BYTES, "protocol-2 bytes keys arrive as bytes");
        check_images("cifar100", rcl_py_dict_get(r, "data"), 4);
        check_labels("fine_labels", rcl_py_dict_get(r, "fine_labels"), 4, 100, 0);
        check_labels("coarse_labels", rcl_py_dict_get(r, "coarse_labels"), 4, 20, 0);
        CHECK(rcl_py_is_text(rcl_py_dict_get(r, "batch_label"), "training batch 1 of 1"), "batch_label");
        const rcl_py *f = rcl_py_dict_get(r, "filenames");
        CHECK(f && f->type == RCL_PY_LIST && f->count == 4 && rcl_py_is_text(f->items[3], "img_3.png"), "filenames");
        CHECK(rcl_py_dict_get(r, "labels") == NULL, "absent key");
    }
    rcl_pickle_free(p);

    p = load("io_pickle_cifar10_py2.pkl");
    if (p) {
        const rcl_py *r = rcl_pickle_root(p);
        check_images("cifar10 py2", rcl_py_dict_get(r, "data"), 3);
        check_labels("cifar10 labels", rcl_py_dict_get(r, "labels"), 3, 10, 0);
        CHECK(rcl_py_is_text(rcl_py_dict_get(r, "batch_label"), "testing batch 1 of 1"), "py2 str");
    }
    rcl_pickle_free(p);

    p = load("io_pickle_imagenet32_p4.pkl");
    if (p) {
        const rcl_py *r = rcl_pickle_root(p);
        CHECK(r->count == 3 && r->items[0]->type == RCL_PY_STR, "imagenet32: str keys");
        check_images("imagenet32", rcl_py_dict_get(r, "data"), 5);
        check_labels("imagenet32 labels", rcl_py_dict_get(r, "labels"), 5, 1000, 1);
        const rcl_py *m = rcl_py_dict_get(r, "mean");
        CHECK(m && m->type == RCL_PY_NDARRAY && m->dtype == RCL_DT_F64 && m->ndim == 1 && m->shape[0] == 3072,
              "mean: float64 (3072,)");
        if (m && m->nbytes == 3072 * 8) {
            int bad = 0;
            for (int j = 0; j < 3072; j++) {
                double x;
                memcpy(&x, (const char *)m->data + 8 * j, 8);
                bad += x != j / 3072.0;
            }
            CHECK(bad == 0, "mean values");
        }
        int64_t *v;
        size_t n;
        CHECK_FAILS(rcl_py_int_array(m, "mean", &v, &n), RCL_ERR_FORMAT);
    }
    rcl_pickle_free(p);
}

static void check_misc(const char *file) {
    rcl_pickle *p = load(file);
    if (!p)
        return;
    const rcl_py *r = rcl_pickle_root(p);
    check_images(file, rcl_py_dict_get(r, "data"), 2);
    const rcl_py *f = rcl_py_dict_get(r, "f32");
    CHECK(f && f->type == RCL_PY_NDARRAY && f->dtype == RCL_DT_F32 && f->ndim == 2 && f->shape[0] == 2 &&
              f->shape[1] == 3,
          "%s: f32 2x3", file);
    if (f && f->nbytes == 24) {
        float x[6];
        memcpy(x, f->data, 24);
        CHECK(x[0] == 0 && x[1] == 0.25f && x[5] == 1.25f, "%s: f32 values", file);
    }
    int64_t *v = NULL;
    size_t n = 0;
    CHECK_OK(rcl_py_int_array(rcl_py_dict_get(r, "i64"), "i64", &v, &n));
    CHECK(n == 3 && v && v[0] == -5 && v[1] == 0 && v[2] == (int64_t)1 << 40, "%s: int64 array", file);
    free(v);
    const rcl_py *fo = rcl_py_dict_get(r, "fortran");
    CHECK(fo && fo->type == RCL_PY_NDARRAY && fo->fortran && fo->dtype == RCL_DT_I32, "%s: Fortran flag", file);
    if (fo && fo->nbytes == 24) {
        int32_t x[6];
        memcpy(x, fo->data, 24);
        CHECK(x[0] == 0 && x[1] == 3 && x[2] == 1 && x[5] == 5, "%s: column-major bytes", file);
    }
    const rcl_py *o = rcl_py_dict_get(r, "scalar_f");
    CHECK(o && o->type == RCL_PY_FLOAT && o->f == 2.5, "%s: numpy float32 scalar", file);
    o = rcl_py_dict_get(r, "scalar_i");
    CHECK(o && o->type == RCL_PY_INT && o->i == -7, "%s: numpy int64 scalar", file);
    o = rcl_py_dict_get(r, "none");
    CHECK(o && o->type == RCL_PY_NONE, "%s: None", file);
    o = rcl_py_dict_get(r, "flags");
    CHECK(o && o->type == RCL_PY_TUPLE && o->count == 2 && o->items[0]->type == RCL_PY_BOOL && o->items[0]->i == 1 &&
              o->items[1]->i == 0,
          "%s: (True, False)", file);
    o = rcl_py_dict_get(r, "float");
    CHECK(o && o->type == RCL_PY_FLOAT && o->f == -0.125, "%s: float", file);
    o = rcl_py_dict_get(r, "big");
    CHECK(o && o->type == RCL_PY_BIGINT && o->len == 9 && o->bytes[8] == 0x40, "%s: 2**70 as a big int", file);
    o = rcl_py_dict_get(r, "neg");
    CHECK(o && o->type == RCL_PY_INT && o->i == -300, "%s: -300", file);
    const rcl_py *a = rcl_py_dict_get(r, "a"), *b = rcl_py_dict_get(r, "b");
    CHECK(a && a == b && a->type == RCL_PY_LIST && a->count == 3 && a->items[2]->i == 3, "%s: shared list", file);
    o = rcl_py_dict_get(r, "empty");
    CHECK(o && o->type == RCL_PY_BYTES && o->len == 0, "%s: empty bytes", file);
    o = rcl_py_dict_get(r, "text");
    CHECK(o && o->type == RCL_PY_STR && !strcmp((const char *)o->bytes, "h\xc3\xa9llo"), "%s: str", file);
    rcl_pickle_free(p);
}

/* Must fail with RCL_ERR_FORMAT and a message containing `needle`. */
static void expect_bad(const char *what, const char *bytes, size_t n, const char *needle) {
    rcl_pickle *p = NULL;
    rcl_status s = rcl_pickle_load(bytes, n, what, &p, NULL);
    CHECK(s == RCL_ERR_FORMAT && !p, "%s: %s", what, rcl_status_name(s));
    CHECK(strstr(rcl_last_error(), what) && (!needle || strstr(rcl_last_error(), needle)),
          "%s: message '%s' lacks '%s'", what, rcl_last_error(), needle ? needle : "");
    rcl_pickle_free(p);
}
#define BAD(what, lit, needle) expect_bad(what, lit, sizeof(lit) - 1, needle)

static void test_rejections(void) {
    BAD("os.system", "\x80\x02" "cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.", "os.system");
    BAD("posix.system", "\x80\x02" "cposix\nsystem\n" "X\x02\x00\x00\x00ls\x85R.", "posix.system");
    BAD("builtins.eval", "\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93" "X\x01\x00\x00\x00" "1\x85R.",
        "builtins.eval");
    BAD("getattr", "\x80\x02" "c__builtin__\ngetattr\n.", "__builtin__.getattr");
    BAD("NEWOBJ", "\x80\x02" "ccollections\nOrderedDict\n)\x81.", "0x81");
    BAD("INST", "\x80\x02(ios\nsystem\n.", "0x69");
    BAD("EXT1", "\x80\x02\x82\x01.", "0x82");
    BAD("reduce on dict", "\x80\x02}))R.", "REDUCE");
    BAD("storage as callable", "\x80\x02" "ctorch\nFloatStorage\n)R.", "FloatStorage");
    BAD("set", "\x80\x04\x8f.", "0x8f");
    BAD("protocol 6", "\x80\x06N.", "protocol");
    BAD("unknown opcode", "\x80\x02\xff.", "0xff");
    BAD("memo index", "\x80\x02Nr\xff\xff\xff\x7f.", "memo");
    BAD("memo missing", "\x80\x02h\x05.", "memo");
    BAD("underflow", "\x80\x02\x85.", "underflow");
    BAD("empty stop", "\x80\x02.", "underflow");
    BAD("mark underflow", "\x80\x02N(\x85.", "underflow");
    BAD("no mark", "\x80\x02Nt.", "mark");
    BAD("append to dict", "\x80\x02}Na.", "APPEND");
    BAD("odd dict", "\x80\x02}(Nu.", "odd");
    BAD("truncated bytes", "\x80\x02" "B\x10\x00\x00\x00" "abc", "truncated");
    BAD("huge bytes8", "\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff.", "truncated");
    BAD("frame past end", "\x80\x04\x95\x00\x01\x00\x00\x00\x00\x00\x00N.", "frame");
    BAD("no stop", "\x80\x02N", "truncated");
    BAD("empty", "", "truncated");
    BAD("bad dtype", "\x80\x02" "cnumpy\ndtype\nX\x02\x00\x00\x00O8\x89\x88\x87R.", "O8");
    BAD("storage view", "\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00" "0"
                        "X\x03\x00\x00\x00" "cpuK\x01(X\x01\x00\x00\x00" "1K\x00K\x01ttQ.",
        "views");
    BAD("bad persid", "\x80\x02K\x01Q.", "persistent");
    BAD("storage key slash", "\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x04\x00\x00\x00../x"
                             "X\x03\x00\x00\x00" "cpuK\x01tQ.",
        "key");
    /* an ndarray whose data does not match its shape */
    BAD("short data", "\x80\x02" "cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" "C\x01" "b\x87R"
                      "(K\x01K\x04\x85" "cnumpy\ndtype\nX\x02\x00\x00\x00u1\x89\x88\x87R"
                      "(K\x03X\x01\x00\x00\x00|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
                      "\x89" "C\x03" "abctb.",
        "bytes");
}

static void test_misc_api(void) {
    /* two pickles in a row: consumed marks the end of the first */
    const char two[] = "\x80\x02K\x01.\x80\x02K\x02.";
    rcl_pickle *p = NULL;
    size_t used = 0;
    CHECK_OK(rcl_pickle_load(two, sizeof two - 1, "two", &p, &used));
    CHECK(p && used == 5 && rcl_pickle_root(p)->i == 1, "first pickle, consumed %zu", used);
    rcl_pickle_free(p);
    CHECK_OK(rcl_pickle_load(two + used, sizeof two - 1 - used, "two", &p, &used));
    CHECK(p && rcl_pickle_root(p)->i == 2, "second pickle");
    rcl_pickle_free(p);
    /* protocol-0-style text opcodes that old pickles use */
    const char text[] = "(lp0\nI42\naI01\nag0\na.";
    CHECK_OK(rcl_pickle_load(text, sizeof text - 1, "text", &p, NULL));
    const rcl_py *r = p ? rcl_pickle_root(p) : NULL;
    CHECK(r && r->type == RCL_PY_LIST && r->count == 3 && r->items[0]->i == 42 && r->items[1]->type == RCL_PY_BOOL &&
              r->items[2] == r,
          "text opcodes, self-reference");
    rcl_pickle_free(p);
    /* OrderedDict built from a list of pairs (protocol 0/1 style) */
    const char od[] = "\x80\x02" "ccollections\nOrderedDict\n]((X\x01\x00\x00\x00" "aK\x01t(X\x01\x00\x00\x00" "bK\x02te\x85R.";
    CHECK_OK(rcl_pickle_load(od, sizeof od - 1, "od", &p, NULL));
    r = p ? rcl_pickle_root(p) : NULL;
    CHECK(r && r->type == RCL_PY_DICT && r->count == 2 && rcl_py_dict_get(r, "b")->i == 2, "OrderedDict(pairs)");
    rcl_pickle_free(p);
    CHECK_FAILS(rcl_pickle_load_file(fixture("no_such.pkl"), &p), RCL_ERR_IO);
}

/* Every prefix fails; every single-byte corruption fails cleanly or loads. */
static void sweep(const char *name, int stride) {
    unsigned char *buf;
    size_t n;
    CHECK_OK(rcl_file_read(fixture(name), &buf, &n));
    if (!buf)
        return;
    int bad = 0;
    for (size_t len = 0; len < n; len += (len < 512 || len > n - 64) ? 1 : (size_t)stride) {
        rcl_pickle *p = NULL;
        rcl_status s = rcl_pickle_load(buf, len, "prefix", &p, NULL);
        if (s != RCL_ERR_FORMAT || p)
            bad++;
        rcl_pickle_free(p);
    }
    CHECK(bad == 0, "%s: %d prefixes did not fail with RCL_ERR_FORMAT", name, bad);
    unsigned char *copy = malloc(n);
    int ok = 0, failed = 0;
    bad = 0;
    for (size_t pos = 0; pos < n; pos += (pos < 1024 || pos > n - 64) ? 1 : (size_t)stride) {
        static const unsigned char masks[] = {0x01, 0x10, 0x80, 0xFF};
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(copy, buf, n);
            copy[pos] ^= masks[m];
            rcl_pickle *p = NULL;
            rcl_status s = rcl_pickle_load(copy, n, "flip", &p, NULL);
            if (s == RCL_OK)
                ok++;
            else if (s == RCL_ERR_FORMAT)
                failed++;
            else
                bad++;
            rcl_pickle_free(p);
        }
    }
    CHECK(bad == 0 && failed > 0, "%s: flips %d ok, %d failed, %d other", name, ok, failed, bad);
    free(copy);
    free(buf);
}

int main(void) {
    test_cifar();
    check_misc("io_pickle_misc_p5.pkl");
    check_misc("io_pickle_misc_p2.pkl");
    test_rejections();
    test_misc_api();
    sweep("io_pickle_misc_p5.pkl", 7);
    sweep("io_pickle_misc_p2.pkl", 7);
    sweep("io_pickle_cifar10_py2.pkl", 61);
    return rcl_test_finish();
}
