#include "robustcl/normalization.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rcl_normalization rcl_normalization_half(void) {
    rcl_normalization n = {{0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};
    return n;
}

rcl_normalization rcl_normalization_cifar(void) {
    rcl_normalization n = {{125.3f / 255, 123.0f / 255, 113.9f / 255}, {63.0f / 255, 62.1f / 255, 66.7f / 255}};
    return n;
}

/* Three comma-separated numbers, the whole of text[0..len). */
static int three(const char *text, size_t len, float *v) {
    char buf[128];
    if (len >= sizeof buf)
        return 0;
    memcpy(buf, text, len);
    buf[len] = 0;
    const char *p = buf;
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        double x = strtod(p, &end);
        if (end == p || errno || !isfinite(x) || *end != (i < 2 ? ',' : 0))
            return 0;
        v[i] = (float)x;
        p = end + 1;
    }
    return 1;
}

rcl_status rcl_normalization_parse(const char *spec, rcl_normalization *out) {
    if (!spec || !*spec)
        return rcl_fail(RCL_ERR_INVALID_ARG, "normalisation is empty: expected half, cifar or M1,M2,M3/S1,S2,S3");
    if (!strcmp(spec, "half")) {
        *out = rcl_normalization_half();
        return RCL_OK;
    }
    if (!strcmp(spec, "cifar")) {
        *out = rcl_normalization_cifar();
        return RCL_OK;
    }
    const char *slash = strchr(spec, '/');
    rcl_normalization n;
    if (!slash || !three(spec, (size_t)(slash - spec), n.mean) || !three(slash + 1, strlen(slash + 1), n.std))
        return rcl_fail(RCL_ERR_INVALID_ARG, "normalisation '%s': expected half, cifar or M1,M2,M3/S1,S2,S3", spec);
    for (int i = 0; i < 3; i++)
        if (!(n.std[i] > 0) || n.mean[i] < 0 || n.mean[i] > 1)
            return rcl_fail(RCL_ERR_INVALID_ARG, "normalisation '%s': means must be in [0,1] and stds > 0", spec);
    *out = n;
    return RCL_OK;
}

int rcl_normalization_equal(const rcl_normalization *a, const rcl_normalization *b) {
    return !memcmp(a->mean, b->mean, sizeof a->mean) && !memcmp(a->std, b->std, sizeof a->std);
}

const char *rcl_normalization_name(const rcl_normalization *n, char *buf, size_t cap) {
    rcl_normalization half = rcl_normalization_half(), cifar = rcl_normalization_cifar();
    if (rcl_normalization_equal(n, &half))
        snprintf(buf, cap, "half");
    else if (rcl_normalization_equal(n, &cifar))
        snprintf(buf, cap, "cifar");
    else
        snprintf(buf, cap, "%.9g,%.9g,%.9g/%.9g,%.9g,%.9g", n->mean[0], n->mean[1], n->mean[2], n->std[0], n->std[1],
                 n->std[2]);
    return buf;
}
