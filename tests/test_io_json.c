/* JSON writer (escaping, round-tripping doubles, NaN -> null, misuse) and parser
 * (escapes, numbers, limits, malformed input with byte offsets). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/json.h"

static void test_writer_compact(void) {
    rcl_json_writer w;
    rcl_jw_init(&w, NULL, 0);
    rcl_jw_begin_object(&w);
    rcl_jw_key(&w, "s");
    rcl_jw_string(&w, "a\"b\\c\n\t\x01/\xc3\xa9");
    rcl_jw_key(&w, "bad utf8");
    rcl_jw_string(&w, "x\xff");
    rcl_jw_key(&w, "n");
    rcl_jw_begin_array(&w);
    rcl_jw_number(&w, 0.1);
    rcl_jw_number(&w, 1.0 / 3.0);
    rcl_jw_number(&w, NAN);
    rcl_jw_number(&w, -INFINITY);
    rcl_jw_number(&w, 1e300);
    rcl_jw_int(&w, INT64_MIN);
    rcl_jw_uint(&w, UINT64_MAX);
    rcl_jw_end_array(&w);
    rcl_jw_key(&w, "e");
    rcl_jw_begin_object(&w);
    rcl_jw_end_object(&w);
    rcl_jw_key(&w, "l");
    rcl_jw_begin_array(&w);
    rcl_jw_bool(&w, 1);
    rcl_jw_bool(&w, 0);
    rcl_jw_null(&w);
    rcl_jw_raw(&w, "[7]");
    rcl_jw_end_array(&w);
    rcl_jw_end_object(&w);
    CHECK_OK(rcl_jw_finish(&w));
    size_t len;
    char *text = rcl_jw_take(&w, &len);
    const char *want = "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001/\xc3\xa9\",\"bad utf8\":\"x\\ufffd\","
                       "\"n\":[0.1,0.3333333333333333,null,null,1e+300,-9223372036854775808,"
                       "18446744073709551615],\"e\":{},\"l\":[true,false,null,[7]]}";
    CHECK(text && !strcmp(text, want) && len == strlen(want), "compact text:\n%s\nwant\n%s", text, want);
    free(text);
}

static void test_writer_pretty_and_file(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/pretty.json", rcl_test_tmpdir());
    FILE *f = fopen(path, "w");
    rcl_json_writer w;
    rcl_jw_init(&w, f, 2);
    rcl_jw_begin_object(&w);
    rcl_jw_key(&w, "a");
    rcl_jw_begin_array(&w);
    rcl_jw_int(&w, 1);
    rcl_jw_int(&w, 2);
    rcl_jw_end_array(&w);
    rcl_jw_key(&w, "b");
    rcl_jw_begin_array(&w);
    rcl_jw_end_array(&w);
    rcl_jw_end_object(&w);
    CHECK_OK(rcl_jw_finish(&w));
    fclose(f);
    char buf[256] = {0};
    f = fopen(path, "r");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    const char *want = "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": []\n}\n";
    CHECK(n == strlen(want) && !strcmp(buf, want), "pretty text:\n%s", buf);
    rcl_json *v = NULL;
    CHECK_OK(rcl_json_parse_file(path, &v));
    CHECK(v && rcl_json_at(rcl_json_get(v, "a"), 1) && rcl_json_at(rcl_json_get(v, "a"), 1)->integer == 2,
          "parsed back");
    rcl_json_free(v);
}

static void test_writer_misuse(void) {
    rcl_json_writer w;
    rcl_jw_init(&w, NULL, 0);
    rcl_jw_begin_object(&w);
    rcl_jw_int(&w, 1); /* no key */
    CHECK_FAILS(rcl_jw_finish(&w), RCL_ERR_INVALID_ARG);
    rcl_jw_free(&w);

    rcl_jw_init(&w, NULL, 0);
    rcl_jw_begin_array(&w);
    CHECK_FAILS(rcl_jw_finish(&w), RCL_ERR_INVALID_ARG); /* unclosed */
    rcl_jw_free(&w);

    rcl_jw_init(&w, NULL, 0);
    rcl_jw_begin_array(&w);
    rcl_jw_end_array(&w);
    rcl_jw_int(&w, 3); /* a second top-level value */
    CHECK_FAILS(rcl_jw_finish(&w), RCL_ERR_INVALID_ARG);
    rcl_jw_free(&w);

    rcl_jw_init(&w, NULL, 0);
    rcl_jw_begin_array(&w);
    rcl_jw_end_object(&w); /* mismatched */
    CHECK_FAILS(rcl_jw_finish(&w), RCL_ERR_INVALID_ARG);
    rcl_jw_free(&w);

    rcl_jw_init(&w, NULL, 0);
    CHECK_FAILS(rcl_jw_finish(&w), RCL_ERR_INVALID_ARG); /* empty document */
    rcl_jw_free(&w);
}

/* Doubles survive writer -> parser exactly. */
static void test_double_round_trip(void) {
    double xs[] = {0.0, -0.0, 0.1, 1.0 / 3.0, 2.0 / 3.0, M_PI, 1e-310, 5e-324, DBL_MAX, DBL_MIN, -1.5e-7,
                   123456789012345678.0, 0.30000000000000004, 100.0, 1e21, 9007199254740993.0};
    size_t n = sizeof xs / sizeof xs[0];
    rcl_rng r = rcl_rng_seed(7);
    rcl_json_writer w;
    rcl_jw_init(&w, NULL, 0);
    rcl_jw_begin_array(&w);
    for (size_t i = 0; i < n; i++)
        rcl_jw_number(&w, xs[i]);
    double rnd[200];
    for (int i = 0; i < 200; i++) {
        rnd[i] = (rcl_rng_uniform(&r) - 0.5) * pow(10.0, (double)(i % 40) - 20);
        rcl_jw_number(&w, rnd[i]);
    }
    rcl_jw_end_array(&w);
    CHECK_OK(rcl_jw_finish(&w));
    size_t len;
    char *text = rcl_jw_take(&w, &len);
    rcl_json *v = NULL;
    CHECK_OK(rcl_json_parse(text, len, "doubles", NULL, &v));
    int bad = 0;
    for (size_t i = 0; v && i < n + 200; i++) {
        double want = i < n ? xs[i] : rnd[i - n];
        const rcl_json *e = rcl_json_at(v, i);
        if (!e || e->type != RCL_JSON_NUMBER || memcmp(&e->number, &want, sizeof want) != 0) {
            if (!(want == 0 && e && e->number == 0)) /* -0 prints as -0: accept either zero */
                bad++;
        }
    }
    CHECK(v && v->len == n + 200 && bad == 0, "%d doubles did not round-trip: %s", bad, text);
    rcl_json_free(v);
    free(text);
}

static void test_parser(void) {
    const char *doc = " {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\\u0000y\"],"
                      " \"big\": 9223372036854775807, \"bigger\": 9223372036854775808, \"neg\": -9223372036854775808,"
                      " \"a\": 5, \"o\": {\"k\": {}}} \n";
    rcl_json *v = NULL;
    CHECK_OK(rcl_json_parse(doc, strlen(doc), "doc", NULL, &v));
    if (!v)
        return;
    CHECK(v->type == RCL_JSON_OBJECT && v->len == 6, "object of 6 members (duplicate key kept)");
    const rcl_json *a = rcl_json_get(v, "a");
    CHECK(a && a->type == RCL_JSON_ARRAY && a->len == 6, "first 'a' is the array");
    CHECK(rcl_json_at(a, 0)->is_int && rcl_json_at(a, 0)->integer == 1, "int");
    CHECK(!rcl_json_at(a, 1)->is_int && rcl_json_at(a, 1)->number == -2500.0, "exponent");
    CHECK(rcl_json_at(a, 2)->type == RCL_JSON_BOOL && rcl_json_at(a, 2)->boolean, "true");
    CHECK(rcl_json_at(a, 3)->type == RCL_JSON_BOOL && !rcl_json_at(a, 3)->boolean, "false");
    CHECK(rcl_json_at(a, 4)->type == RCL_JSON_NULL, "null");
    const rcl_json *s = rcl_json_at(a, 5);
    CHECK(s->type == RCL_JSON_STRING && s->len == 9 && !memcmp(s->string, "x\xc3\xa9\xf0\x9f\x98\x80\0y", 9),
          "escapes decode to UTF-8, \\u0000 kept (len %zu)", s->len);
    CHECK(rcl_json_at(a, 6) == NULL, "at out of range");
    const rcl_json *big = rcl_json_get(v, "big");
    CHECK(big->is_int && big->integer == INT64_MAX, "INT64_MAX exact");
    CHECK(!rcl_json_get(v, "bigger")->is_int && rcl_json_get(v, "bigger")->number == 9223372036854775808.0,
          "past INT64_MAX: double only");
    CHECK(rcl_json_get(v, "neg")->is_int && rcl_json_get(v, "neg")->integer == INT64_MIN, "INT64_MIN exact");
    CHECK(rcl_json_get(rcl_json_get(v, "o"), "k")->type == RCL_JSON_OBJECT, "nested");
    CHECK(rcl_json_get_number(v, "big", 0) > 9e18 && rcl_json_get_number(v, "nope", -1) == -1, "get_number");
    CHECK(rcl_json_get_string(v, "a") == NULL, "get_string of a non-string");
    CHECK(rcl_json_get(a, "x") == NULL, "get on an array");
    rcl_json_free(v);
}

static void test_malformed(void) {
    struct {
        const char *text;
        size_t at;
    } cases[] = {
        {"", 0},           {"   ", 3},         {"{\"a\":1,}", 7},  {"[1 2]", 3},       {"tru", 0},
        {"\"abc", 0},      {"01", 1},          {"1.", 0},          {"-", 0},           {"{\"a\" 1}", 5},
        {"[", 1},          {"\"\\x\"", 1},     {"\"\\ud800\"", 1}, {"\"\\udc00x\"", 1}, {"\"a\nb\"", 2},
        {"\"\xff\"", 1},   {"1e999", 0},       {"nan", 0},         {"{} x", 3},        {"{1:2}", 1},
        {"[1,]", 3},       {"+1", 0},          {".5", 0},          {"[\"\\u12\"]", 2}, {"\"\xc0\x80\"", 1},
        {"\"\xed\xa0\x80\"", 1}, {"{\"a\":}", 5}, {"Infinity", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rcl_json *v = NULL;
        rcl_status s = rcl_json_parse(cases[i].text, strlen(cases[i].text), "bad", NULL, &v);
        char want[64];
        snprintf(want, sizeof want, "byte %zu:", cases[i].at);
        CHECK(s == RCL_ERR_FORMAT && v == NULL && strstr(rcl_last_error(), want) &&
                  strstr(rcl_last_error(), "bad:"),
              "case %zu '%s': %s %s (want %s)", i, cases[i].text, rcl_status_name(s), rcl_last_error(), want);
    }
    /* depth limit */
    char deep[300];
    for (int i = 0; i < 100; i++)
        deep[i] = '[', deep[199 - i] = ']';
    rcl_json *v = NULL;
    CHECK_FAILS(rcl_json_parse(deep, 200, "deep", NULL, &v), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "deep") != NULL, "depth error: %s", rcl_last_error());
    rcl_json_limits lim = {128, 0};
    CHECK_OK(rcl_json_parse(deep, 200, "deep", &lim, &v));
    rcl_json_free(v);
    v = NULL;
    /* size limit */
    lim.max_depth = 0;
    lim.max_size = 10;
    CHECK_FAILS(rcl_json_parse("[1,2,3,4,5,6]", 13, "size", &lim, &v), RCL_ERR_FORMAT);
    /* not NUL-terminated: the parser stays inside len */
    char nonul[4] = {'[', '1', ']', '9'};
    CHECK_OK(rcl_json_parse(nonul, 3, "nonul", NULL, &v));
    rcl_json_free(v);
    v = NULL;
    char num[2] = {'1', '2'};
    CHECK_OK(rcl_json_parse(num, 1, "num", NULL, &v));
    CHECK(v && v->integer == 1, "number stops at len");
    rcl_json_free(v);
    v = NULL;
    /* every proper prefix of an object document is malformed */
    const char *doc = "{\"k\":[1,2.5,\"s\\u0041\",{\"t\":true,\"n\":null}],\"z\":false}";
    int bad = 0;
    for (size_t n = 0; n < strlen(doc); n++) {
        rcl_status s = rcl_json_parse(doc, n, "prefix", NULL, &v);
        if (s != RCL_ERR_FORMAT || v)
            bad++;
        rcl_json_free(v);
        v = NULL;
    }
    CHECK(bad == 0, "%d prefixes did not fail cleanly", bad);
    CHECK_OK(rcl_json_parse(doc, strlen(doc), "full", NULL, &v));
    rcl_json_free(v);
    /* every single-byte corruption fails cleanly or parses */
    char buf[128];
    bad = 0;
    for (size_t i = 0; i < strlen(doc); i++) {
        for (int c = 0; c < 256; c += 17) {
            memcpy(buf, doc, strlen(doc));
            buf[i] = (char)c;
            v = NULL;
            rcl_status s = rcl_json_parse(buf, strlen(doc), "flip", NULL, &v);
            if (s != RCL_OK && s != RCL_ERR_FORMAT)
                bad++;
            rcl_json_free(v);
        }
    }
    CHECK(bad == 0, "%d corruptions gave an unexpected status", bad);
}

int main(void) {
    test_writer_compact();
    test_writer_pretty_and_file();
    test_writer_misuse();
    test_double_round_trip();
    test_parser();
    test_malformed();
    return rcl_test_finish();
}
