/* The op table cannot fall behind the kernels: every kernel of kernels/ (and kernels/tuned/)
 * belongs to a row whose kernel file holds it, every kernel a row lists exists, every kernel
 * file but common.cl has a row, a row's kernel file and op file share a stem, and the op
 * file, reference and argument checks a row names exist. No device needed. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "harness.h"
#include "core/kernel_sources.h"
#include "ops/op_table.h"

/* The kernels declared in text, as space-separated names; a name pasted by a macro
 * (conv_fwd_k##K...) is its literal prefix and "*". */
static void kernels_of(const char *text, char *out, size_t cap) {
    size_t len = 0;
    out[0] = 0;
    for (const char *p = strstr(text, "kernel"); p; p = strstr(p + 1, "kernel")) {
        if (p > text && (isalnum((unsigned char)p[-1]) || (p[-1] == '_' && !(p - 1 > text && p[-2] == '_'))))
            continue;
        const char *q = p + 6;
        if (!isspace((unsigned char)*q))
            continue;
        while (isspace((unsigned char)*q))
            q++;
        if (strncmp(q, "void", 4) || !isspace((unsigned char)q[4]))
            continue;
        q += 4;
        while (isspace((unsigned char)*q))
            q++;
        size_t n = 0;
        while (isalnum((unsigned char)q[n]) || q[n] == '_')
            n++;
        len += (size_t)snprintf(out + len, cap - len, "%.*s%s ", (int)n, q, q[n] == '#' ? "*" : "");
    }
}

/* name[0..n) is a word of the space-separated list. */
static int listed(const char *list, const char *name, size_t n) {
    for (const char *p = list; *p;) {
        size_t m = strcspn(p, " ");
        if (m == n && strncmp(p, name, n) == 0)
            return 1;
        p += m + (p[m] == ' ');
    }
    return 0;
}

static const rcl_op_entry *entry_of_file(const char *file) {
    for (int i = 0; i < rcl_op_count; i++)
        if (!strcmp(rcl_op_table[i].kernel_file, file))
            return &rcl_op_table[i];
    return NULL;
}

static char *read_src(const char *rel) {
    const char *root = getenv("RCL_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/src/%s", root ? root : ".", rel);
    unsigned char *data = NULL;
    size_t n = 0;
    if (rcl_file_read(path, &data, &n) != RCL_OK)
        return NULL;
    char *s = realloc(data, n + 1);
    s[n] = 0;
    return s;
}

/* The stem of a path: its file name without directory and extension. */
static void stem(const char *path, char *out, size_t cap) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strcspn(b, ".");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), b);
}

static void check_kernels_covered(void) {
    static char found[8192];
    for (int i = 0; i < rcl_kernel_source_count; i++) {
        const rcl_kernel_source *src = &rcl_kernel_sources[i];
        kernels_of(src->text, found, sizeof found);
        if (!strcmp(src->file, "common.cl")) {
            CHECK(found[0] == 0, "common.cl holds helpers only, no kernels: %s", found);
            continue;
        }
        const rcl_op_entry *e = entry_of_file(src->file);
        CHECK(e != NULL, "kernels/%s has a row in the op table (src/ops/op_table.c)", src->file);
        if (!e)
            continue;
        for (const char *p = found; *p;) {
            size_t n = strcspn(p, " ");
            CHECK(listed(e->kernels, p, n), "kernel %.*s of kernels/%s is listed by op table row %s", (int)n, p,
                  src->file, e->name);
            p += n + (p[n] == ' ');
        }
        for (const char *p = e->kernels; *p;) {
            size_t n = strcspn(p, " ");
            CHECK(listed(found, p, n), "op table row %s lists kernel %.*s, which kernels/%s has", e->name, (int)n, p,
                  src->file);
            p += n + (p[n] == ' ');
        }
    }
}

static void check_rows(void) {
    for (int i = 0; i < rcl_op_count; i++) {
        const rcl_op_entry *e = &rcl_op_table[i];
        CHECK(rcl_op_find(e->name) == e, "row %s is named once", e->name);
        int has_source = 0;
        for (int k = 0; k < rcl_kernel_source_count; k++)
            has_source |= !strcmp(rcl_kernel_sources[k].file, e->kernel_file);
        CHECK(has_source, "row %s: kernels/%s exists", e->name, e->kernel_file);
        char ks[64], os[64];
        stem(e->kernel_file, ks, sizeof ks), stem(e->op_file, os, sizeof os);
        CHECK(!strcmp(ks, os), "row %s: kernel file %s and op file %s are named alike", e->name, e->kernel_file,
              e->op_file);
        char *op = read_src(e->op_file);
        CHECK(op != NULL, "row %s: src/%s exists", e->name, e->op_file);
        free(op);
        if (e->reference) {
            char *ref = read_src(e->reference);
            CHECK(ref != NULL, "row %s: src/%s exists", e->name, e->reference);
            free(ref);
        }
        char file[128];
        size_t n = strcspn(e->arg_check, " ");
        snprintf(file, sizeof file, "%.*s", (int)n, e->arg_check);
        char *text = read_src(file);
        CHECK(text != NULL, "row %s: src/%s exists", e->name, file);
        for (const char *p = e->arg_check + n; text && *p;) {
            p += strspn(p, " ");
            size_t m = strcspn(p, " ");
            char fn[96];
            snprintf(fn, sizeof fn, "%.*s(", (int)m, p);
            CHECK(strstr(text, fn) != NULL, "row %s: src/%s has %s", e->name, file, fn);
            p += m;
        }
        free(text);
        CHECK(e->check && e->shapes[0].v[0] > 0, "row %s has a check and a shape", e->name);
    }
}

int main(void) {
    check_kernels_covered();
    check_rows();
    return rcl_test_finish();
}
