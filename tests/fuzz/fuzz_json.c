/* JSON parser (small depth limit so deep nesting is exercised), then the tree written back
 * and parsed again: a parsed document must survive the round trip. */
#include "fuzz_util.h"
#include "robustcl/json.h"

static void emit(rcl_json_writer *w, const rcl_json *v) {
    switch (v->type) {
    case RCL_JSON_NULL: rcl_jw_null(w); break;
    case RCL_JSON_BOOL: rcl_jw_bool(w, v->boolean); break;
    case RCL_JSON_NUMBER:
        if (v->is_int)
            rcl_jw_int(w, v->integer);
        else
            rcl_jw_number(w, v->number);
        break;
    case RCL_JSON_STRING: rcl_jw_string_n(w, v->string, v->len); break;
    case RCL_JSON_ARRAY:
        rcl_jw_begin_array(w);
        for (size_t i = 0; i < v->len; i++)
            emit(w, &v->items[i]);
        rcl_jw_end_array(w);
        break;
    case RCL_JSON_OBJECT:
        rcl_jw_begin_object(w);
        for (size_t i = 0; i < v->len; i++) {
            rcl_jw_key(w, v->keys[i]);
            emit(w, &v->items[i]);
        }
        rcl_jw_end_object(w);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    rcl_json_limits lim = {16, 1 << 20};
    rcl_json *v;
    if (rcl_json_parse((const char *)data, n, "fuzz.json", &lim, &v) != RCL_OK)
        return 0;
    rcl_json_writer w;
    rcl_jw_init(&w, NULL, 0);
    emit(&w, v);
    if (rcl_jw_finish(&w) == RCL_OK) {
        size_t len;
        char *text = rcl_jw_take(&w, &len);
        rcl_json *again;
        if (rcl_json_parse(text, len, "round trip", &lim, &again) != RCL_OK)
            abort(); /* the writer produced text its own parser rejects */
        rcl_json_free(again);
        free(text);
    } else {
        rcl_jw_free(&w);
    }
    rcl_json_free(v);
    return 0;
}
