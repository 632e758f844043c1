/* What every kernel family shares (conv2d_family.h): configs checked, started and written as
 * text, their builds and runs, walking a family's declared space, and the helpers of the
 * families' `valid` and `start`. The table of families is conv2d_families.c. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv2d_family.h"

int conv_param_index(const conv_family *f, const char *name) {
    for (int i = 0; i < f->nparams; i++)
        if (strcmp(f->params[i].name, name) == 0)
            return i;
    return -1;
}

int conv_value(const conv_config *c, const char *name) {
    int i = conv_param_index(c->family, name);
    return i >= 0 ? c->v[i] : 0;
}

int conv_geometry_ok(const conv_family *f, const rcl_conv_shape *s) {
    if (f->ngeom == 0)
        return 1;
    for (int i = 0; i < f->ngeom; i++)
        if (s->kh == f->geom[i].k && s->kw == f->geom[i].k && s->pad == f->geom[i].pad &&
            s->stride == f->geom[i].stride)
            return 1;
    return 0;
}

int conv_param_declared(const conv_param *q, int v) {
    for (int k = 0; k < q->nvalues; k++)
        if (q->values[k] == v)
            return 1;
    return 0;
}

int conv_config_ok(const rcl_device *d, const conv_config *c, const rcl_conv_shape *s) {
    const conv_family *f = c->family;
    if (!f || !conv_geometry_ok(f, s))
        return 0;
    for (int i = 0; i < f->nparams; i++)
        if (!conv_param_declared(&f->params[i], c->v[i]))
            return 0;
    return !f->valid || f->valid(d, s, c->v);
}

void conv_config_start(const rcl_device *d, const conv_family *f, const rcl_conv_shape *s,
                       conv_config *c) {
    memset(c, 0, sizeof *c);
    c->family = f;
    for (int i = 0; i < f->nparams; i++)
        c->v[i] = f->params[i].values[0];
    if (f->start)
        f->start(d, s, c->v);
}

void conv_config_format(const conv_config *c, char *out, size_t cap) {
    int n = snprintf(out, cap, "%s", c->family->name);
    for (int i = 0; i < c->family->nparams && n >= 0 && (size_t)n < cap; i++)
        n += snprintf(out + n, cap - (size_t)n, ":%s=%d", c->family->params[i].name, c->v[i]);
}

int conv_config_same(const conv_config *a, const conv_config *b) {
    if (a->family != b->family)
        return 0;
    for (int i = 0; i < a->family->nparams; i++)
        if (a->v[i] != b->v[i])
            return 0;
    return 1;
}

rcl_status conv_config_build(rcl_device *d, const conv_config *c, const rcl_conv_shape *s, int *build) {
    const conv_family *f = c->family;
    *build = -1;
    if (!f->file)
        return RCL_OK;
    /* -w: clang warns (-Wpsabi) at every wide vector passed to a built-in on a target whose
     * baseline lacks AVX; PoCL prints only the count, which would reach users as noise. */
    char defines[160];
    int n = snprintf(defines, sizeof defines, "-w -DK=%d -DP=%d -DS=%d", s->kh, s->pad, s->stride);
    for (int i = 0; i < f->nparams; i++)
        if (f->params[i].build)
            n += snprintf(defines + n, sizeof defines - (size_t)n, " -D%s=%d", f->params[i].name, c->v[i]);
    return rcl_program_variant(d, f->file, defines, f->kernels, f->kernels[1] ? 2 : 1, build);
}

rcl_status conv_config_run(rcl_device *d, const conv_config *c, const rcl_conv_shape *s,
                           const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out) {
    int build;
    RCL_TRY(conv_config_build(d, c, s, &build));
    return c->family->run(d, s, c, build, a, b, out);
}

void conv_config_first(const conv_family *f, conv_config *c) {
    memset(c, 0, sizeof *c);
    c->family = f;
    for (int i = 0; i < f->nparams; i++)
        c->v[i] = f->params[i].values[0];
}

int conv_config_next(conv_config *c) {
    const conv_family *f = c->family;
    for (int i = f->nparams - 1; i >= 0; i--) {
        const conv_param *q = &f->params[i];
        int k = 0;
        while (k < q->nvalues && q->values[k] != c->v[i])
            k++;
        if (k + 1 < q->nvalues) {
            c->v[i] = q->values[k + 1];
            return 1;
        }
        c->v[i] = q->values[0];
    }
    return 0;
}

long conv_family_space(const conv_family *f) {
    long n = 1;
    for (int i = 0; i < f->nparams; i++)
        n *= f->params[i].nvalues;
    return n;
}

int conv_fits(const rcl_device *d, size_t elements) {
    return elements <= INT_MAX && elements * sizeof(float) <= rcl_device_workspace_cap(d);
}

int conv_wg_ok(const rcl_device *d, int wg) {
    if (!rcl_device_gpu_kernels(d))
        return wg == 1;
    return (size_t)wg <= rcl_device_get_info(d)->max_work_group;
}

int conv_vector_registers(const rcl_device *d) {
    return rcl_device_get_info(d)->vec_native >= 16 ? 32 : 16;
}

int conv_start_lanes(const rcl_device *d) {
    unsigned v = rcl_device_get_info(d)->vec_native;
    return v >= 16 ? 16 : v >= 8 ? 8 : 4;
}
