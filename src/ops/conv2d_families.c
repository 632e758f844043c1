/* The table of the convolution's kernel families (conv2d_family.h), and what needs all of
 * them: their names and passes, and configs read from text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv2d_family.h"

static const char *const pass_names[RCL_CONV_PASSES] = {"fwd", "dx", "dw"};

const char *rcl_conv_pass_name(rcl_conv_pass p) {
    return p >= 0 && p < RCL_CONV_PASSES ? pass_names[p] : "?";
}

const conv_family *const rcl_conv_family_table[] = {
    &rcl_conv_gemm_fwd_family,   &rcl_conv_gemm_dx_family,   &rcl_conv_gemm_dw_family,
    &rcl_conv_direct_fwd_family, &rcl_conv_direct_dx_family, &rcl_conv_direct_dw_family,
    &rcl_conv_chan_fwd_family,   &rcl_conv_chan_dx_family,   &rcl_conv_chan_dw_family,
    &rcl_conv_local_fwd_family,  &rcl_conv_local_dx_family,  &rcl_conv_local_dw_family,
};
const int rcl_conv_family_table_size =
    (int)(sizeof rcl_conv_family_table / sizeof rcl_conv_family_table[0]);

int rcl_conv_family_count(void) { return rcl_conv_family_table_size; }

const char *rcl_conv_family_name(int i) {
    return i >= 0 && i < rcl_conv_family_table_size ? rcl_conv_family_table[i]->name : NULL;
}

rcl_conv_pass rcl_conv_family_pass(int i) {
    return i >= 0 && i < rcl_conv_family_table_size ? rcl_conv_family_table[i]->pass : RCL_CONV_FWD;
}

int rcl_conv_family_describe(int i, char *out, size_t cap) {
    if (i < 0 || i >= rcl_conv_family_table_size)
        return snprintf(out, cap, "?");
    const conv_family *f = rcl_conv_family_table[i];
    int n = 0;
    out[0] = 0;
    for (int p = 0; p < f->nparams; p++) {
        const conv_param *q = &f->params[p];
        n += snprintf(out + n, cap > (size_t)n ? cap - (size_t)n : 0, "%s ", q->name);
        for (int k = 0; k < q->nvalues; k++)
            n += snprintf(out + n, cap > (size_t)n ? cap - (size_t)n : 0, "%s%d", k ? "," : "",
                          q->values[k]);
        n += snprintf(out + n, cap > (size_t)n ? cap - (size_t)n : 0, ": %s\n", q->what);
    }
    return n;
}

static rcl_status bad_value(const char *text, size_t len, const conv_param *q) {
    char vals[96];
    int n = 0;
    for (int k = 0; k < q->nvalues; k++)
        n += snprintf(vals + n, sizeof vals - (size_t)n, "%s%d", k ? ", " : "", q->values[k]);
    return rcl_fail(RCL_ERR_INVALID_ARG, "kernel configuration '%.*s': %s must be one of %s",
                    (int)len, text, q->name, vals);
}

/* One "NAME=VALUE" item of a config's text into c. */
static rcl_status parse_item(const char *text, size_t len, const char *item, size_t ilen,
                             conv_config *c) {
    const char *eq = memchr(item, '=', ilen);
    const conv_family *f = c->family;
    for (int i = 0; eq && i < f->nparams; i++) {
        const conv_param *q = &f->params[i];
        if (strlen(q->name) != (size_t)(eq - item) || strncmp(q->name, item, (size_t)(eq - item)))
            continue;
        char num[16];
        size_t vlen = ilen - (size_t)(eq + 1 - item);
        if (vlen == 0 || vlen >= sizeof num)
            return bad_value(text, len, q);
        memcpy(num, eq + 1, vlen);
        num[vlen] = 0;
        char *end;
        long v = strtol(num, &end, 10);
        if (*end || !conv_param_declared(q, (int)v))
            return bad_value(text, len, q);
        c->v[i] = (int)v;
        return RCL_OK;
    }
    char names[96] = "";
    int n = 0;
    for (int i = 0; i < f->nparams; i++)
        n += snprintf(names + n, sizeof names - (size_t)n, "%s%s", i ? ", " : "", f->params[i].name);
    return rcl_fail(RCL_ERR_INVALID_ARG,
                    "kernel configuration '%.*s': unknown '%.*s' (%s takes %s)", (int)len, text,
                    (int)ilen, item, f->name, f->nparams ? names : "no parameters");
}

rcl_status conv_config_parse(const char *text, size_t len, rcl_conv_pass p, conv_config *c,
                             int *given) {
    size_t flen = strcspn(text, ":");
    if (flen > len)
        flen = len;
    const conv_family *f = NULL;
    for (int i = 0; i < rcl_conv_family_table_size && !f; i++) {
        const conv_family *g = rcl_conv_family_table[i];
        if (g->pass == p && strlen(g->name) == flen && strncmp(g->name, text, flen) == 0)
            f = g;
    }
    if (!f)
        return rcl_fail(RCL_ERR_INVALID_ARG, "kernel configuration '%.*s': no family '%.*s' for %s",
                        (int)len, text, (int)flen, text, rcl_conv_pass_name(p));
    if (c->family != f) {
        memset(c, 0, sizeof *c);
        c->family = f;
        for (int i = 0; i < f->nparams; i++)
            c->v[i] = f->params[i].values[0];
    }
    *given = 0;
    for (size_t at = flen; at < len;) {
        at++; /* the ':' */
        size_t ilen = strcspn(text + at, ":");
        if (at + ilen > len)
            ilen = len - at;
        RCL_TRY(parse_item(text, len, text + at, ilen, c));
        *given = 1;
        at += ilen;
    }
    return RCL_OK;
}

