/* Synthetic OOD sets of spec §8 (Gaussian, Rademacher, Blobs), made in network space. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"
#include "robustcl/rng.h"

#define MAX_TAPS 257

int rcl_synthetic_kind_from_name(const char *name) {
    if (!strcmp(name, "gaussian"))
        return RCL_SYNTH_GAUSSIAN;
    if (!strcmp(name, "rademacher"))
        return RCL_SYNTH_RADEMACHER;
    if (!strcmp(name, "blobs"))
        return RCL_SYNTH_BLOBS;
    return -1;
}

double rcl_blobs_sigma(int h, int w) { return (h < w ? h : w) >= 64 ? 2.0 : 1.5; }

/* numpy's pairwise summation (what phi_x.sum() does), so the taps match to the last bit. */
static double pairwise_sum(const double *a, int n) {
    if (n < 8) {
        double r = 0.0;
        for (int i = 0; i < n; i++)
            r += a[i];
        return r;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        int i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    int n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

int rcl_gaussian_kernel1d(double sigma, double truncate, double *taps, int max_taps) {
    if (!(sigma > 0) || !(truncate > 0))
        return -1;
    /* scipy.ndimage._gaussian_kernel1d: radius = int(truncate * sd + 0.5) */
    double rr = truncate * sigma + 0.5;
    if (rr > (double)(max_taps / 2 + 1))
        return -1;
    int radius = (int)rr;
    int n = 2 * radius + 1;
    if (n > max_taps)
        return -1;
    double s2 = sigma * sigma;
    for (int i = 0; i < n; i++) {
        double x = i - radius;
        taps[i] = exp(-0.5 / s2 * (x * x)); /* numpy: (-0.5 / sigma2) * x**2 */
    }
    double sum = pairwise_sum(taps, n);
    for (int i = 0; i < n; i++)
        taps[i] /= sum;
    return n;
}

/* scipy's NI_Correlate1D for a symmetric filter with mode 'nearest': the line is copied
 * into doubles with `radius` edge copies each side; out = x[0]*w0 + sum_{j=r..1}
 * (x[-j] + x[j]) * w_j, in that order, then cast to float. */
static void blur_line(float *x, int len, size_t stride, const double *center, int radius,
                      double *buf) {
    for (int i = -radius; i < len + radius; i++) {
        int k = i < 0 ? 0 : (i >= len ? len - 1 : i);
        buf[i + radius] = x[(size_t)k * stride];
    }
    for (int i = 0; i < len; i++) {
        const double *p = buf + i + radius;
        double acc = p[0] * center[0];
        for (int j = radius; j >= 1; j--)
            acc += (p[-j] + p[j]) * center[j];
        x[(size_t)i * stride] = (float)acc;
    }
}

rcl_status rcl_blobs_blur(float *chw, int c, int h, int w, double sigma) {
    double taps[MAX_TAPS];
    int n = rcl_gaussian_kernel1d(sigma, 4.0, taps, MAX_TAPS);
    if (n < 0 || c <= 0 || h <= 0 || w <= 0)
        return rcl_fail(RCL_ERR_INVALID_ARG, "blobs blur: bad sigma %g or shape %dx%dx%d", sigma, c, h, w);
    int radius = n / 2;
    const double *center = taps + radius;
    int maxlen = c > h ? c : h;
    if (w > maxlen)
        maxlen = w;
    double *buf = malloc(((size_t)maxlen + 2 * (size_t)radius) * sizeof(double));
    if (!buf)
        return rcl_fail(RCL_ERR_NO_MEMORY, "blobs blur: out of memory");
    size_t plane = (size_t)h * (size_t)w;
    /* scipy filters axis 0, 1, 2 of the HWC array: H, then W, then C. A length-1 axis is a
     * no-op (all taps land on the one value and sum to 1 within rounding), skip it so
     * 1-channel data gets exactly the 2-D blur. */
    if (h > 1)
        for (int ch = 0; ch < c; ch++)
            for (int x = 0; x < w; x++)
                blur_line(chw + ch * plane + (size_t)x, h, (size_t)w, center, radius, buf);
    if (w > 1)
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                blur_line(chw + ch * plane + (size_t)y * (size_t)w, w, 1, center, radius, buf);
    if (c > 1)
        for (size_t p = 0; p < plane; p++)
            blur_line(chw + p, c, plane, center, radius, buf);
    free(buf);
    return RCL_OK;
}

/* Independent stream per image: image i depends on (seed, i) only. */
static rcl_rng image_rng(uint64_t seed, int i) {
    rcl_rng t = rcl_rng_seed(seed);
    t.state += (uint64_t)i * 0xd1b54a32d192ed03ULL;
    return rcl_rng_seed(rcl_rng_next(&t));
}

rcl_status rcl_dataset_synthetic(rcl_synthetic_kind kind, int n, int c, int h, int w,
                                 uint64_t seed, rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    if (kind != RCL_SYNTH_GAUSSIAN && kind != RCL_SYNTH_RADEMACHER && kind != RCL_SYNTH_BLOBS)
        return rcl_fail(RCL_ERR_INVALID_ARG, "unknown synthetic dataset kind %d", (int)kind);
    RCL_TRY(rcl_dataset_alloc(out, n, c, h, w, 0, 1));
    size_t img = rcl_dataset_image_size(out);
    double sigma = rcl_blobs_sigma(h, w);
    for (int i = 0; i < n; i++) {
        rcl_rng r = image_rng(seed, i);
        float *x = out->values + (size_t)i * img;
        switch (kind) {
        case RCL_SYNTH_GAUSSIAN:
            for (size_t j = 0; j < img; j++) {
                double v = 0.5 * rcl_rng_normal(&r);
                x[j] = (float)(v < -1 ? -1 : (v > 1 ? 1 : v));
            }
            break;
        case RCL_SYNTH_RADEMACHER:
            for (size_t j = 0; j < img; j++)
                x[j] = (rcl_rng_next(&r) >> 63) ? 1.0f : -1.0f;
            break;
        case RCL_SYNTH_BLOBS: {
            for (size_t j = 0; j < img; j++)
                x[j] = rcl_rng_uniform(&r) < 0.7 ? 1.0f : 0.0f;
            rcl_status st = rcl_blobs_blur(x, c, h, w, sigma);
            if (st != RCL_OK) {
                rcl_dataset_free(out);
                return st;
            }
            for (size_t j = 0; j < img; j++)
                x[j] = x[j] < 0.75f ? -1.0f : 2.0f * x[j] - 1.0f;
            break;
        }
        }
    }
    static const char *names[] = {"gaussian", "rademacher", "blobs"};
    rcl_data_set_name(out, "%s:%dx%dx%d:seed=%llu", names[kind], c, h, w, (unsigned long long)seed);
    /* no file was read: the digest of the values (little-endian floats) is the provenance */
    rcl_sha256_hex(out->values, img * (size_t)n * sizeof(float), out->sha256);
    return RCL_OK;
}
