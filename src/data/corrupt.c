/* Generated common corruptions (spec §12): Hendrycks & Dietterich's corruption functions applied
 * to any dataset's images, with the parameters of CIFAR-10-C (the authors' make_cifar_c.py) for
 * images up to 32x32 and those of ImageNet-C (the imagecorruptions package) above. Each function
 * follows the reference's arithmetic on an image scaled to [0, 1]; the result is clipped, scaled
 * to 255 and truncated to uint8 as the references' np.uint8 does. Random draws come from a
 * generator seeded by (seed, corruption, severity, image index), so a set is the same on every
 * run and machine, but not the references' own draws: compare their distributions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_write.h>

#include "core/fileio.h"
#include "cv_ops.h"
#include "data_internal.h"
#include "robustcl/log.h"
#include "robustcl/rng.h"

/* The frost photographs, resized for the images at hand (interleaved RGB). */
#define FROST_FILES 5
typedef struct {
    int w[FROST_FILES], h[FROST_FILES];
    uint8_t *rgb[FROST_FILES];
} frost_set;

/* One image being corrupted: x holds c planes of h x w values, the image / 255. */
typedef struct {
    int c, h, w, small; /* small: CIFAR-10-C's parameters */
    double *x, *tmp;    /* c*h*w each */
    rcl_rng rng;
    const frost_set *frost;
} image;

#define AT(im, ch, y, xx) ((im)->x[((size_t)(ch) * (im)->h + (y)) * (im)->w + (xx)])

static double clip01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

/* ---- noises ---- */

static void gaussian_noise(image *im, int s) {
    static const double cifar[5] = {.04, .06, .08, .09, .10}, imnet[5] = {.08, .12, .18, .26, .38};
    double c = (im->small ? cifar : imnet)[s];
    for (size_t i = 0; i < (size_t)im->c * im->h * im->w; i++)
        im->x[i] += c * rcl_rng_normal(&im->rng);
}

/* Poisson(lam): products of uniforms below 10, Hormann's PTRS transformed rejection above (as
 * numpy): exact either way. */
static double poisson(rcl_rng *r, double lam) {
    if (lam <= 0)
        return 0;
    if (lam < 10) {
        double limit = exp(-lam), prod = rcl_rng_uniform(r);
        int k = 0;
        while (prod > limit)
            prod *= rcl_rng_uniform(r), k++;
        return k;
    }
    double slam = sqrt(lam), loglam = log(lam), b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        double u = rcl_rng_uniform(r) - 0.5, v = rcl_rng_uniform(r), us = 0.5 - fabs(u);
        double k = floor((2 * a / us + b) * u + lam + 0.43);
        if (us >= 0.07 && v <= vr)
            return k;
        if (k < 0 || (us < 0.013 && v > us))
            continue;
        if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -lam + k * loglam - lgamma(k + 1))
            return k;
    }
}

static void shot_noise(image *im, int s) {
    static const double cifar[5] = {500, 250, 100, 75, 50}, imnet[5] = {60, 25, 12, 5, 3};
    double c = (im->small ? cifar : imnet)[s];
    for (size_t i = 0; i < (size_t)im->c * im->h * im->w; i++)
        im->x[i] = poisson(&im->rng, im->x[i] * c) / c;
}

/* skimage.util.random_noise(mode='s&p'): each value independently, with probability `amount`,
 * becomes 1 or 0 with equal chances. */
static void impulse_noise(image *im, int s) {
    static const double cifar[5] = {.01, .02, .03, .05, .07}, imnet[5] = {.03, .06, .09, .17, .27};
    double c = (im->small ? cifar : imnet)[s];
    for (size_t i = 0; i < (size_t)im->c * im->h * im->w; i++) {
        int flip = rcl_rng_uniform(&im->rng) <= c, salt = rcl_rng_uniform(&im->rng) <= 0.5;
        if (flip)
            im->x[i] = salt;
    }
}

static void speckle_noise(image *im, int s) {
    static const double cifar[5] = {.06, .1, .12, .16, .2}, imnet[5] = {.15, .2, .35, .45, .6};
    double c = (im->small ? cifar : imnet)[s];
    for (size_t i = 0; i < (size_t)im->c * im->h * im->w; i++)
        im->x[i] += im->x[i] * c * rcl_rng_normal(&im->rng);
}

/* ---- blurs ---- */

/* scipy.ndimage.gaussian_filter of one h x w plane (skimage.filters.gaussian): mode 'nearest',
 * truncate 4, in double precision; line holds max(h, w) values. */
static rcl_status gaussian_plane(double *p, int h, int w, double sigma, double *line) {
    double taps[129];
    int n = rcl_gaussian_kernel1d(sigma, 4.0, taps, 129), r = n / 2;
    if (n < 0)
        return rcl_fail(RCL_ERR_INVALID_ARG, "corruption blur: sigma %g too wide", sigma);
    for (int pass = 0; pass < 2; pass++) {
        int len = pass ? w : h, lines = pass ? h : w;
        size_t stride = pass ? 1 : (size_t)w, step = pass ? (size_t)w : 1;
        for (int l = 0; l < lines; l++) {
            double *v = p + (size_t)l * step;
            for (int i = 0; i < len; i++)
                line[i] = v[(size_t)i * stride];
            for (int i = 0; i < len; i++) {
                double acc = 0;
                for (int t = -r; t <= r; t++) {
                    int k = i + t < 0 ? 0 : i + t >= len ? len - 1 : i + t;
                    acc += line[k] * taps[t + r];
                }
                v[(size_t)i * stride] = acc;
            }
        }
    }
    return RCL_OK;
}

/* The same over H and W of every channel (skimage.filters.gaussian, multichannel). */
static rcl_status gaussian_hw(image *im, double sigma) {
    for (int ch = 0; ch < im->c; ch++)
        RCL_TRY(gaussian_plane(im->x + (size_t)ch * im->h * im->w, im->h, im->w, sigma, im->tmp));
    return RCL_OK;
}

static rcl_status gaussian_blur(image *im, int s) {
    static const double cifar[5] = {.4, .6, .7, .8, 1}, imnet[5] = {1, 2, 3, 4, 6};
    return gaussian_hw(im, (im->small ? cifar : imnet)[s]);
}

/* make_cifar_c's disk(): an aliased disk on a (2L+1)^2 grid (L = 8, or the radius above 8),
 * normalised, then cv2.GaussianBlur (ksize 3 or 5, sigma alias) of it, in float32. */
static int disk_kernel(double radius, double alias, float *k) {
    int l = radius <= 8 ? 8 : (int)radius, n = 2 * l + 1, ks = radius <= 8 ? 3 : 5;
    float *d = malloc((size_t)n * n * sizeof *d);
    if (!d)
        return -1;
    float sum = 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            sum += d[y * n + x] = (float)((x - l) * (x - l) + (y - l) * (y - l)) <= (float)(radius * radius);
    for (int i = 0; i < n * n; i++)
        d[i] /= sum;
    double g[5], gs = 0;
    for (int i = 0; i < ks; i++)
        gs += g[i] = exp(-(i - ks / 2) * (i - ks / 2) / (2 * alias * alias));
    for (int i = 0; i < ks; i++)
        g[i] /= gs;
    for (int y = 0; y < n; y++) /* separable: rows, then columns */
        for (int x = 0; x < n; x++) {
            double acc = 0;
            for (int t = 0; t < ks; t++)
                acc += g[t] * d[y * n + rcl_cv_reflect101(x + t - ks / 2, n)];
            k[y * n + x] = (float)acc;
        }
    for (int x = 0; x < n; x++)
        for (int y = 0; y < n; y++)
            d[y * n + x] = k[y * n + x];
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            double acc = 0;
            for (int t = 0; t < ks; t++)
                acc += g[t] * d[rcl_cv_reflect101(y + t - ks / 2, n) * n + x];
            k[y * n + x] = (float)acc;
        }
    free(d);
    return n;
}

/* cv2.filter2D of each plane with the disk, BORDER_REFLECT_101. */
static rcl_status defocus_blur(image *im, int s) {
    static const double cifar[5][2] = {{.3, .4}, {.4, .5}, {.5, .6}, {1, .2}, {1.5, .1}};
    static const double imnet[5][2] = {{3, .1}, {4, .5}, {6, .5}, {8, .5}, {10, .5}};
    const double *c = (im->small ? cifar : imnet)[s];
    float k[21 * 21];
    int n = disk_kernel(c[0], c[1], k), r = n / 2;
    if (n < 0)
        return rcl_fail(RCL_ERR_NO_MEMORY, "defocus_blur: out of memory");
    size_t plane = (size_t)im->h * im->w;
    for (int ch = 0; ch < im->c; ch++) {
        double *p = im->x + ch * plane;
        memcpy(im->tmp, p, plane * sizeof *p);
        for (int y = 0; y < im->h; y++)
            for (int x = 0; x < im->w; x++) {
                double acc = 0;
                for (int dy = -r; dy <= r; dy++)
                    for (int dx = -r; dx <= r; dx++)
                        acc += k[(dy + r) * n + dx + r] *
                               im->tmp[(size_t)rcl_cv_reflect101(y + dy, im->h) * im->w + rcl_cv_reflect101(x + dx, im->w)];
                p[(size_t)y * im->w + x] = acc;
            }
    }
    return RCL_OK;
}

/* The references' clipped_zoom of one h x w plane by z, added to acc: a centre crop of
 * ceil(size / z) zoomed by scipy.ndimage.zoom(order=1) (output pixel o reads input
 * o*(crop-1)/(out-1), linearly interpolated), then CIFAR-10-C's trims the zoom to its centre and
 * ImageNet-C's keeps its top-left corner. */
static void clipped_zoom_add(const double *src, int h, int w, double z, int small, double *acc) {
    int ch0 = (int)ceil(h / z), ch1 = (int)ceil(w / z), top0 = (h - ch0) / 2, top1 = (w - ch1) / 2;
    /* scipy sizes the zoom with Python's round(): halves to even, as nearbyint does */
    int out0 = (int)nearbyint(ch0 * z), out1 = (int)nearbyint(ch1 * z);
    int trim0 = small ? (out0 - h) / 2 : 0, trim1 = small ? (out1 - w) / 2 : 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int oy = y + trim0, ox = x + trim1;
            if (oy >= out0 || ox >= out1)
                continue;
            double fy = out0 > 1 ? oy * (double)(ch0 - 1) / (out0 - 1) : 0;
            double fx = out1 > 1 ? ox * (double)(ch1 - 1) / (out1 - 1) : 0;
            int y0 = (int)floor(fy), x0 = (int)floor(fx);
            int y1 = y0 + 1 < ch0 ? y0 + 1 : y0, x1 = x0 + 1 < ch1 ? x0 + 1 : x0;
            double wy = fy - y0, wx = fx - x0;
            const double *r0 = src + (size_t)(top0 + y0) * w + top1, *r1 = src + (size_t)(top0 + y1) * w + top1;
            acc[(size_t)y * w + x] += (1 - wy) * ((1 - wx) * r0[x0] + wx * r0[x1]) + wy * ((1 - wx) * r1[x0] + wx * r1[x1]);
        }
}

/* The mean of the image and its zooms by 1, 1 + step, ... below `stop` (numpy's arange count),
 * each a centre crop of ceil(size / z) zoomed back: CIFAR-10-C trims the zoom to its centre,
 * ImageNet-C keeps its top-left corner. */
static rcl_status zoom_blur(image *im, int s) {
    static const double cifar[5][2] = {{1.06, .01}, {1.11, .01}, {1.16, .01}, {1.21, .01}, {1.26, .01}};
    static const double imnet[5][2] = {{1.11, .01}, {1.16, .01}, {1.21, .02}, {1.26, .02}, {1.31, .03}};
    const double *c = (im->small ? cifar : imnet)[s];
    /* numpy's arange: ceil((stop - start) / step) values start + i * ((start + step) - start) */
    int n = (int)ceil((c[0] - 1.0) / c[1]);
    double delta = (1.0 + c[1]) - 1.0;
    size_t total = (size_t)im->c * im->h * im->w;
    memset(im->tmp, 0, total * sizeof *im->tmp);
    size_t plane = (size_t)im->h * im->w;
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < im->c; ch++)
            clipped_zoom_add(im->x + ch * plane, im->h, im->w, 1.0 + i * delta, im->small, im->tmp + ch * plane);
    for (size_t i = 0; i < total; i++)
        im->x[i] = (im->x[i] + im->tmp[i]) / (n + 1);
    return RCL_OK;
}

/* Gaussian blur, truncated to uint8, each pixel from the bottom-right corner up given a random
 * neighbour's (dx, dy in [-d, d)), `iterations` times, and blurred again. The references mean to
 * swap the two pixels, but their tuple assignment of numpy views copies the neighbour into the
 * pixel and leaves the neighbour as it was when the image has channels; a grey image (scalars)
 * is swapped. We do the same, as their released sets were made that way. */
static rcl_status glass_blur(image *im, int s) {
    static const double cifar[5][3] = {{.05, 1, 1}, {.25, 1, 1}, {.4, 1, 1}, {.25, 1, 2}, {.4, 1, 2}};
    static const double imnet[5][3] = {{.7, 1, 2}, {.9, 2, 1}, {1, 2, 3}, {1.1, 3, 2}, {1.5, 4, 2}};
    const double *c = (im->small ? cifar : imnet)[s];
    int d = (int)c[1];
    RCL_TRY(gaussian_hw(im, c[0]));
    for (size_t i = 0; i < (size_t)im->c * im->h * im->w; i++)
        im->x[i] = floor(im->x[i] * 255) / 255;
    for (int it = 0; it < (int)c[2]; it++)
        for (int y = im->h - d; y > d; y--)
            for (int x = im->w - d; x > d; x--) {
                int dx = (int)rcl_rng_below(&im->rng, 2 * (uint64_t)d) - d;
                int dy = (int)rcl_rng_below(&im->rng, 2 * (uint64_t)d) - d;
                for (int ch = 0; ch < im->c; ch++) {
                    double t = AT(im, ch, y, x);
                    AT(im, ch, y, x) = AT(im, ch, y + dy, x + dx);
                    if (im->c == 1)
                        AT(im, ch, y + dy, x + dx) = t;
                }
            }
    return gaussian_hw(im, c[0]);
}

/* scipy.ndimage's 'reflect' (half-sample symmetric: d c b a | a b c d) index into [0, n). */
static int reflect_half(int i, int n) {
    int period = 2 * n;
    i %= period;
    if (i < 0)
        i += period;
    return i < n ? i : period - 1 - i;
}

/* skimage.filters.gaussian of a 2-D array with per-axis sigmas, mode 'reflect', truncate 3;
 * f holds h x w values, tmp at least max(h, w). */
static rcl_status gaussian_reflect(double *f, int h, int w, const double sigma[2], double *tmp) {
    for (int axis = 0; axis < 2; axis++) {
        double taps[257];
        if (!(sigma[axis] > 0))
            continue;
        int n = rcl_gaussian_kernel1d(sigma[axis], 3.0, taps, 257), r = n / 2;
        if (n < 0)
            return rcl_fail(RCL_ERR_INVALID_ARG, "elastic_transform: sigma %g too wide", sigma[axis]);
        int len = axis ? w : h, lines = axis ? h : w;
        size_t stride = axis ? 1 : (size_t)w, step = axis ? (size_t)w : 1;
        for (int l = 0; l < lines; l++) {
            double *line = f + (size_t)l * step;
            for (int i = 0; i < len; i++)
                tmp[i] = line[(size_t)i * stride];
            for (int i = 0; i < len; i++) {
                double acc = 0;
                for (int t = -r; t <= r; t++)
                    acc += tmp[reflect_half(i + t, len)] * taps[t + r];
                line[(size_t)i * stride] = acc;
            }
        }
    }
    return RCL_OK;
}

/* Plane p of im at (y, x), linearly interpolated, out-of-range neighbours mapped by `edge`. */
static double bilinear_at(const image *im, int ch, double y, double x, int (*edge)(int, int)) {
    int y0 = (int)floor(y), x0 = (int)floor(x);
    double wy = y - y0, wx = x - x0;
    int ya = edge(y0, im->h), yb = edge(y0 + 1, im->h), xa = edge(x0, im->w), xb = edge(x0 + 1, im->w);
    return (1 - wy) * ((1 - wx) * AT(im, ch, ya, xa) + wx * AT(im, ch, ya, xb)) +
           wy * ((1 - wx) * AT(im, ch, yb, xa) + wx * AT(im, ch, yb, xb));
}

/* CIFAR-10-C: a random affine map of three points around the centre (cv2.warpAffine, bilinear,
 * reflect-101 edges), then both: each pixel displaced by smoothed uniform noise
 * (scipy.ndimage.map_coordinates, order 1, 'reflect'). ImageNet-C has no affine step and scales
 * its noise with the image. */
static rcl_status elastic_transform(image *im, int s) {
    static const double cifar[5][3] = {{0, 0, .08}, {.05, .2, .07}, {.08, .06, .06}, {.1, .04, .05}, {.1, .03, .03}};
    static const double imnet_alpha[5] = {250 * .05, 250 * .065, 250 * .085, 250 * .1, 250 * .12};
    int h = im->h, w = im->w;
    size_t plane = (size_t)h * w, total = plane * im->c;
    double *d = malloc(2 * plane * sizeof *d), *line = malloc((size_t)(h > w ? h : w) * sizeof *line);
    if (!d || !line) {
        free(d), free(line);
        return rcl_fail(RCL_ERR_NO_MEMORY, "elastic_transform: out of memory");
    }
    double alpha, sigma[2], range;
    if (im->small) {
        const double *c = cifar[s];
        alpha = 32 * c[0], sigma[0] = sigma[1] = 32 * c[1], range = 1;
        /* pts2 = pts1 + noise; dst(p) = src(A^-1 (p - b)) with A, b mapping pts1 onto pts2 */
        double cy = h / 2, cx = w / 2, sq = (h < w ? h : w) / 3, p1[3][2] = {{cy + sq, cx + sq}, {cy + sq, cx - sq},
                                                                               {cy - sq, cx - sq}}, p2[3][2];
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 2; k++)
                p2[i][k] = p1[i][k] + (2 * rcl_rng_uniform(&im->rng) - 1) * 32 * c[2];
        double u1[2] = {p1[1][0] - p1[0][0], p1[1][1] - p1[0][1]}, u2[2] = {p1[2][0] - p1[0][0], p1[2][1] - p1[0][1]};
        double v1[2] = {p2[1][0] - p2[0][0], p2[1][1] - p2[0][1]}, v2[2] = {p2[2][0] - p2[0][0], p2[2][1] - p2[0][1]};
        /* the inverse map: destination offsets (v1, v2) back onto source offsets (u1, u2) */
        double det = v1[0] * v2[1] - v2[0] * v1[1];
        memcpy(im->tmp, im->x, total * sizeof *im->x);
        image src = *im;
        src.x = im->tmp;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                /* (x, y) as cv2's point (first coordinate x): pts hold (first, second) pairs */
                double q0 = x - p2[0][0], q1 = y - p2[0][1];
                double a = (q0 * v2[1] - v2[0] * q1) / det, b = (v1[0] * q1 - q0 * v1[1]) / det;
                double sx = p1[0][0] + a * u1[0] + b * u2[0], sy = p1[0][1] + a * u1[1] + b * u2[1];
                for (int ch = 0; ch < im->c; ch++)
                    AT(im, ch, y, x) = bilinear_at(&src, ch, sy, sx, rcl_cv_reflect101);
            }
    } else {
        alpha = imnet_alpha[s], sigma[0] = h * .01, sigma[1] = w * .01, range = h * .005;
    }
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < plane; i++)
            d[k * plane + i] = (2 * rcl_rng_uniform(&im->rng) - 1) * range;
        rcl_status st = gaussian_reflect(d + k * plane, h, w, sigma, line);
        if (st != RCL_OK) {
            free(d), free(line);
            return st;
        }
        for (size_t i = 0; i < plane; i++)
            d[k * plane + i] = (float)(d[k * plane + i] * alpha);
    }
    memcpy(im->tmp, im->x, total * sizeof *im->x);
    image src = *im;
    src.x = im->tmp;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < im->c; ch++) /* dx (the first draw) moves columns, dy rows */
                AT(im, ch, y, x) = bilinear_at(&src, ch, y + d[plane + (size_t)y * w + x], x + d[(size_t)y * w + x],
                                               reflect_half);
    free(d), free(line);
    return RCL_OK;
}

/* ImageMagick's MotionBlurImage, as imagecorruptions restates it: a one-sided Gaussian of width
 * 2 * radius + 1 along `angle` degrees, tap i reading the pixel ceil(i * (cos, sin) - 0.5) away,
 * edges replicated; taps that would leave the image stop the sum (imagecorruptions). One plane
 * of h x w from src into dst. */
static void motion_plane(const double *src, int h, int w, int radius, double sigma, double angle, double *dst) {
    int width = 2 * radius + 1;
    const double rad = angle * 3.14159265358979323846 / 180;
    double kernel[64], sum = 0, py = width * sin(rad), px = width * cos(rad);
    double hyp = hypot(py, px);
    for (int i = 0; i < width; i++)
        sum += kernel[i] = exp(-(double)i * i / (2 * sigma * sigma));
    for (size_t p = 0; p < (size_t)h * w; p++)
        dst[p] = 0;
    for (int i = 0; i < width; i++) {
        int dy = -(int)ceil(i * py / hyp - 0.5), dx = -(int)ceil(i * px / hyp - 0.5);
        if (abs(dy) >= h || abs(dx) >= w)
            break;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int sy = y - dy < 0 ? 0 : y - dy >= h ? h - 1 : y - dy, sx = x - dx < 0 ? 0 : x - dx >= w ? w - 1 : x - dx;
                dst[(size_t)y * w + x] += kernel[i] / sum * src[(size_t)sy * w + sx];
            }
    }
}

static rcl_status motion_blur(image *im, int s) {
    static const double cifar[5][2] = {{6, 1}, {6, 1.5}, {6, 2}, {8, 2}, {9, 2.5}};
    static const double imnet[5][2] = {{10, 3}, {15, 5}, {15, 8}, {15, 12}, {20, 15}};
    const double *c = (im->small ? cifar : imnet)[s];
    double angle = -45 + 90 * rcl_rng_uniform(&im->rng);
    size_t plane = (size_t)im->h * im->w, total = plane * im->c;
    /* on the 0..255 values, as both references sum them: a flat region then stays exactly flat */
    for (size_t i = 0; i < total; i++)
        im->x[i] = round(im->x[i] * 255);
    for (int ch = 0; ch < im->c; ch++)
        motion_plane(im->x + ch * plane, im->h, im->w, (int)c[0], c[1], angle, im->tmp + ch * plane);
    /* truncated to 8 bits: imagecorruptions' np.uint8, and CIFAR-10-C's ImageMagick PNG (measured
     * against Wand: within 1 of the floor of this sum, not of its rounding); the half step keeps
     * the final truncation on that value */
    for (size_t i = 0; i < total; i++)
        im->x[i] = (floor(im->tmp[i] < 0 ? 0 : im->tmp[i] > 255 ? 255 : im->tmp[i]) + 0.5) / 255;
    return RCL_OK;
}

/* A layer of Gaussian noise, zoomed, thresholded, motion-blurred (8-bit, as both references
 * store it) and added twice (the second turned by 180 degrees) to the image brightened towards
 * its 1.5 x grey + 0.5 (OpenCV's RGB2GRAY weights; a grey image is its own grey). */
static rcl_status snow(image *im, int s) {
    static const double cifar[5][7] = {{.1, .2, 1, .6, 8, 3, .95}, {.1, .2, 1, .5, 10, 4, .9},
                                       {.15, .3, 1.75, .55, 10, 4, .9}, {.25, .3, 2.25, .6, 12, 6, .85},
                                       {.3, .3, 1.25, .65, 14, 12, .8}};
    static const double imnet[5][7] = {{.1, .3, 3, .5, 10, 4, .8}, {.2, .3, 2, .5, 12, 4, .7},
                                       {.55, .3, 4, .9, 12, 8, .7}, {.55, .3, 4.5, .85, 12, 8, .65},
                                       {.55, .3, 2.5, .85, 12, 12, .55}};
    const double *c = (im->small ? cifar : imnet)[s];
    int h = im->h, w = im->w;
    size_t plane = (size_t)h * w;
    double *layer = calloc(3 * plane, sizeof *layer);
    if (!layer)
        return rcl_fail(RCL_ERR_NO_MEMORY, "snow: out of memory");
    double *zoomed = layer + plane, *blurred = layer + 2 * plane;
    for (size_t p = 0; p < plane; p++)
        layer[p] = c[0] + c[1] * rcl_rng_normal(&im->rng);
    clipped_zoom_add(layer, h, w, c[2], im->small, zoomed);
    /* thresholded and blurred: CIFAR-10-C's as 8-bit values through ImageMagick (whose PNG
     * truncates), ImageNet-C's in [0, 1] and then rounded to 8 bits */
    for (size_t p = 0; p < plane; p++)
        zoomed[p] = zoomed[p] < c[3] ? 0 : im->small ? floor(clip01(zoomed[p]) * 255) : clip01(zoomed[p]);
    motion_plane(zoomed, h, w, (int)c[4], c[5], -135 + 90 * rcl_rng_uniform(&im->rng), blurred);
    for (size_t p = 0; p < plane; p++)
        blurred[p] = im->small ? floor(fmin(fmax(blurred[p], 0), 255)) / 255 : round(clip01(blurred[p]) * 255) / 255;
    for (size_t p = 0; p < plane; p++) {
        double grey = im->c == 3 ? 0.299 * im->x[p] + 0.587 * im->x[plane + p] + 0.114 * im->x[2 * plane + p] : im->x[p];
        double flakes = blurred[p] + blurred[plane - 1 - p];
        for (int ch = 0; ch < im->c; ch++) {
            double *v = &im->x[ch * plane + p];
            *v = c[6] * *v + (1 - c[6]) * fmax(*v, grey * 1.5 + 0.5) + flakes;
        }
    }
    free(layer);
    return RCL_OK;
}

/* ---- weather ---- */

/* The diamond-square height map of make_cifar_c / imagecorruptions (size a power of two), in
 * [0, 1]: each new point the mean of its four neighbours (wrapping) plus a uniform wibble that
 * shrinks by `decay` each level. */
static void plasma(rcl_rng *r, double *m, int size, double decay) {
    double wibble = 100;
    m[0] = 0;
#define M(y, x) m[(size_t)(((y) % size + size) % size) * size + (((x) % size + size) % size)]
    for (int step = size; step >= 2; step /= 2, wibble /= decay) {
        int half = step / 2;
        for (int y = 0; y < size; y += step) /* squares */
            for (int x = 0; x < size; x += step) {
                double sum = M(y, x) + M(y + step, x) + M(y, x + step) + M(y + step, x + step);
                M(y + half, x + half) = sum / 4 + wibble * (2 * rcl_rng_uniform(r) - 1) * wibble;
            }
        for (int y = 0; y < size; y += step) /* diamonds: the points between corners */
            for (int x = 0; x < size; x += step) {
                double s1 = M(y + half, x + half) + M(y - half, x + half) + M(y, x) + M(y, x + step);
                M(y, x + half) = s1 / 4 + wibble * (2 * rcl_rng_uniform(r) - 1) * wibble;
                double s2 = M(y + half, x + half) + M(y + half, x - half) + M(y, x) + M(y + step, x);
                M(y + half, x) = s2 / 4 + wibble * (2 * rcl_rng_uniform(r) - 1) * wibble;
            }
    }
#undef M
    double lo = m[0], hi = m[0];
    for (size_t i = 0; i < (size_t)size * size; i++)
        lo = m[i] < lo ? m[i] : lo;
    for (size_t i = 0; i < (size_t)size * size; i++)
        hi = (m[i] -= lo) > hi ? m[i] : hi;
    for (size_t i = 0; i < (size_t)size * size; i++)
        m[i] = hi > 0 ? m[i] / hi : 0;
}

static rcl_status fog(image *im, int s) {
    static const double cifar[5][2] = {{.2, 3}, {.5, 3}, {.75, 2.5}, {1, 2}, {1.5, 1.75}};
    static const double imnet[5][2] = {{1.5, 2}, {2, 2}, {2.5, 1.7}, {2.5, 1.5}, {3, 1.4}};
    const double *c = (im->small ? cifar : imnet)[s];
    int size = 1, side = im->h > im->w ? im->h : im->w;
    while (size < side)
        size *= 2;
    double *m = malloc((size_t)size * size * sizeof *m), max = 0;
    if (!m)
        return rcl_fail(RCL_ERR_NO_MEMORY, "fog: out of memory");
    plasma(&im->rng, m, size, c[1]);
    for (size_t i = 0; i < (size_t)im->c * im->h * im->w; i++)
        max = im->x[i] > max ? im->x[i] : max;
    for (int ch = 0; ch < im->c; ch++)
        for (int y = 0; y < im->h; y++)
            for (int x = 0; x < im->w; x++)
                AT(im, ch, y, x) = (AT(im, ch, y, x) + c[0] * m[(size_t)y * size + x]) * max / (max + c[0]);
    free(m);
    return RCL_OK;
}

/* OpenCV's resize of interleaved RGB to dw x dh: bilinear (a = 0) or bicubic (a = -0.75), source
 * x = (dx + 0.5) * sw / dw - 0.5, edges clamped, rounded to uint8. */
static uint8_t *cv_resize(const uint8_t *src, int sw, int sh, int dw, int dh, int cubic) {
    uint8_t *dst = malloc((size_t)dw * dh * 3);
    if (!dst)
        return NULL;
    int taps = cubic ? 4 : 2;
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            double fy = (y + 0.5) * sh / dh - 0.5, fx = (x + 0.5) * sw / dw - 0.5, wy[4], wx[4];
            int y0 = (int)floor(fy) - (cubic ? 1 : 0), x0 = (int)floor(fx) - (cubic ? 1 : 0);
            double ty = fy - floor(fy), tx = fx - floor(fx);
            for (int k = 0; k < taps; k++) {
                if (!cubic) {
                    wy[k] = k ? ty : 1 - ty, wx[k] = k ? tx : 1 - tx;
                    continue;
                }
                double dyk = fabs(ty - (k - 1)), dxk = fabs(tx - (k - 1)), a = -0.75;
                wy[k] = dyk <= 1 ? ((a + 2) * dyk - (a + 3)) * dyk * dyk + 1 : ((a * dyk - 5 * a) * dyk + 8 * a) * dyk - 4 * a;
                wx[k] = dxk <= 1 ? ((a + 2) * dxk - (a + 3)) * dxk * dxk + 1 : ((a * dxk - 5 * a) * dxk + 8 * a) * dxk - 4 * a;
            }
            for (int ch = 0; ch < 3; ch++) {
                double acc = 0;
                for (int i = 0; i < taps; i++)
                    for (int j = 0; j < taps; j++) {
                        int yy = y0 + i < 0 ? 0 : y0 + i >= sh ? sh - 1 : y0 + i;
                        int xx = x0 + j < 0 ? 0 : x0 + j >= sw ? sw - 1 : x0 + j;
                        acc += wy[i] * wx[j] * src[((size_t)yy * sw + xx) * 3 + ch];
                    }
                dst[((size_t)y * dw + x) * 3 + ch] = (uint8_t)(acc < 0 ? 0 : acc > 255 ? 255 : lround(acc));
            }
        }
    return dst;
}

static void frost_free(frost_set *f) {
    for (int i = 0; i < FROST_FILES; i++)
        free(f->rgb[i]);
}

/* The references' frost1.png .. frost5.jpg (the sixth is never drawn), resized as each reference
 * does for images of h x w: CIFAR-10-C to a fifth (bilinear); ImageNet-C by 1.1 times what makes
 * the photograph cover the image (bicubic). */
static rcl_status frost_load(const char *dir, int h, int w, int small, frost_set *f) {
    static const char *const files[FROST_FILES] = {"frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg"};
    memset(f, 0, sizeof *f);
    if (!dir)
        return rcl_fail(RCL_ERR_INVALID_ARG, "frost needs the references' frost images: give --frost DIR (frost1.png "
                        ".. frost5.jpg, in imagecorruptions' package or hendrycks/robustness's ImageNet-C/create_c)");
    for (int i = 0; i < FROST_FILES; i++) {
        char path[1100];
        uint8_t *rgb;
        int fw, fh;
        RCL_TRY(rcl_data_join(path, sizeof path, dir, files[i]));
        rcl_status st = rcl_image_read_rgb(path, &rgb, &fw, &fh);
        if (st != RCL_OK) {
            frost_free(f);
            return st;
        }
        double scale = 0.2;
        if (!small) {
            scale = fh >= h && fw >= w ? 1 : fh < h && fw >= w ? (double)h / fh : fh >= h ? (double)w / fw
                                                                                          : fmax((double)h / fh, (double)w / fw);
            scale *= 1.1;
        }
        int dw = small ? (int)lround(fw * scale) : (int)ceil(fw * scale);
        int dh = small ? (int)lround(fh * scale) : (int)ceil(fh * scale);
        f->rgb[i] = dw > w && dh > h ? cv_resize(rgb, fw, fh, dw, dh, !small) : NULL;
        f->w[i] = dw, f->h[i] = dh;
        free(rgb);
        if (!f->rgb[i]) {
            frost_free(f);
            return rcl_fail(RCL_ERR_INVALID_ARG, "%s: a %dx%d frost image is too small for %dx%d images (or out of "
                            "memory)", path, fw, fh, w, h);
        }
    }
    return RCL_OK;
}

/* c0 x + c1 * a random crop of a random frost photograph, in 0..255. A grey image takes the
 * crop's grey as imagecorruptions computes it (its weights 0.2989, 0.587, 0.114 meet the crop's
 * channels in OpenCV's BGR order). */
static rcl_status frost(image *im, int s) {
    static const double cifar[5][2] = {{1, .2}, {1, .3}, {.9, .4}, {.85, .4}, {.75, .45}};
    static const double imnet[5][2] = {{1, .4}, {.8, .6}, {.7, .7}, {.65, .7}, {.6, .75}};
    const double *c = (im->small ? cifar : imnet)[s];
    const frost_set *f = im->frost;
    int k = (int)rcl_rng_below(&im->rng, FROST_FILES);
    int y0 = (int)rcl_rng_below(&im->rng, (uint64_t)(f->h[k] - im->h));
    int x0 = (int)rcl_rng_below(&im->rng, (uint64_t)(f->w[k] - im->w));
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++) {
            const uint8_t *p = f->rgb[k] + ((size_t)(y0 + y) * f->w[k] + x0 + x) * 3;
            double grey = 0.2989 * p[2] + 0.5870 * p[1] + 0.1140 * p[0];
            for (int ch = 0; ch < im->c; ch++)
                AT(im, ch, y, x) = (c[0] * AT(im, ch, y, x) * 255 + c[1] * (im->c == 3 ? p[ch] : grey)) / 255;
        }
    return RCL_OK;
}

/* ---- spatter ---- */

/* Water's strength at each pixel of the liquid layer, before its normalisation: the layer in 8
 * bits (numpy's astype(uint8), which wraps a value past 255 on x86, as we do), its Canny edges
 * (50, 150), the chamfer distance to them capped at 20, box-blurred and truncated to 8 bits,
 * equalised, embossed (cv2.filter2D, saturated to 8 bits) and box-blurred again (8 bits, rounded),
 * times the 8-bit layer. */
static rcl_status water_strength(const double *liquid, int h, int w, double *out) {
    static const double ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, emboss[9] = {-2, -1, 0, -1, 1, 1, 0, 1, 2};
    size_t plane = (size_t)h * w;
    uint8_t *layer = malloc(2 * plane);
    float *dist = malloc(plane * sizeof *dist);
    double *a = malloc(2 * plane * sizeof *a);
    rcl_status st = layer && dist && a ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "spatter: out of memory");
    uint8_t *u8 = layer ? layer + plane : NULL;
    double *b = a ? a + plane : NULL;
    for (size_t p = 0; st == RCL_OK && p < plane; p++)
        layer[p] = (uint8_t)(int)(liquid[p] * 255);
    if (st == RCL_OK)
        st = rcl_cv_canny_detect(layer, h, w, 50, 150, u8);
    for (size_t p = 0; st == RCL_OK && p < plane; p++)
        u8[p] = 255 - u8[p];
    if (st == RCL_OK)
        st = rcl_cv_distance_transform(u8, h, w, dist);
    if (st == RCL_OK) {
        for (size_t p = 0; p < plane; p++)
            a[p] = dist[p] > 20 ? 20 : dist[p];
        rcl_cv_filter3_sum(a, h, w, ones, b);
        for (size_t p = 0; p < plane; p++) /* cv2.blur in float32, then astype(uint8) truncates */
            u8[p] = (uint8_t)(float)(b[p] * (1.0 / 9));
        rcl_cv_hist_equalize(u8, plane, u8);
        for (size_t p = 0; p < plane; p++)
            a[p] = u8[p];
        rcl_cv_filter3_sum(a, h, w, emboss, b);
        for (size_t p = 0; p < plane; p++)
            a[p] = b[p] < 0 ? 0 : b[p] > 255 ? 255 : b[p];
        rcl_cv_filter3_sum(a, h, w, ones, b);
        for (size_t p = 0; p < plane; p++) /* an 8-bit mean of 9 is never a tie */
            out[p] = layer[p] * nearbyint(b[p] / 9);
    }
    free(layer), free(dist), free(a);
    return st;
}

/* x plus m times the colour (rgb in 0..255), or for mud (cover) x * (1 - m) plus it. A grey
 * image takes the colour's grey, each channel clipped first, as imagecorruptions computes it. */
static void spatter_blend(image *im, const double *m, const double rgb[3], int cover) {
    static const double weight[3] = {0.2989, 0.5870, 0.1140};
    size_t plane = (size_t)im->h * im->w;
    for (size_t p = 0; p < plane; p++) {
        double grey = 0;
        for (int k = 0; k < 3; k++)
            grey += weight[k] * clip01(m[p] * rgb[k] / 255);
        for (int ch = 0; ch < im->c; ch++) {
            double *v = &im->x[ch * plane + p];
            *v = (cover ? *v * (1 - m[p]) : *v) + (im->c == 3 ? m[p] * rgb[ch] / 255 : grey);
        }
    }
}

/* Water: pale turquoise in proportion to water_strength, scaled to `scale` at its largest. */
static rcl_status spatter_water(image *im, const double *liquid, double scale, double *m) {
    static const double turquoise[3] = {175, 238, 238};
    size_t plane = (size_t)im->h * im->w;
    double max = 0;
    RCL_TRY(water_strength(liquid, im->h, im->w, m));
    for (size_t p = 0; p < plane; p++)
        max = m[p] > max ? m[p] : max;
    /* the references divide by the largest strength, 0 / 0 when there is no water: none then */
    for (size_t p = 0; p < plane; p++)
        m[p] = max > 0 ? m[p] / max * scale : 0;
    spatter_blend(im, m, turquoise, 0);
    return RCL_OK;
}

/* Mud: where the layer is above the threshold, blurred by sigma and kept from 0.8 up, brown
 * covers the image. */
static rcl_status spatter_mud(image *im, const double *liquid, double threshold, double sigma, double *m) {
    static const double brown[3] = {63, 42, 20};
    size_t plane = (size_t)im->h * im->w;
    for (size_t p = 0; p < plane; p++)
        m[p] = liquid[p] > threshold;
    RCL_TRY(gaussian_plane(m, im->h, im->w, sigma, im->tmp));
    for (size_t p = 0; p < plane; p++)
        m[p] = m[p] < 0.8 ? 0 : m[p];
    spatter_blend(im, m, brown, 1);
    return RCL_OK;
}

/* A liquid layer of Gaussian noise (mean c[0], SD c[1]) blurred by c[2] and zero below c[3],
 * then water (c[5] = 0: severities 1-3 in both references) of strength c[4], or mud (c[5] = 1:
 * severities 4-5) blurred by c[4]. The layer does not depend on the image. */
static rcl_status spatter(image *im, int s) {
    static const double cifar[5][6] = {{.62, .1, .7, .7, .5, 0}, {.65, .1, .8, .7, .5, 0}, {.65, .3, 1, .69, .5, 0},
                                       {.65, .1, .7, .69, .6, 1}, {.65, .1, .5, .68, .6, 1}};
    static const double imnet[5][6] = {{.65, .3, 4, .69, .6, 0}, {.65, .3, 3, .68, .6, 0}, {.65, .3, 2, .68, .5, 0},
                                       {.65, .3, 1, .65, 1.5, 1}, {.67, .4, 1, .65, 1.5, 1}};
    const double *c = (im->small ? cifar : imnet)[s];
    size_t plane = (size_t)im->h * im->w;
    double *liquid = malloc(2 * plane * sizeof *liquid);
    if (!liquid)
        return rcl_fail(RCL_ERR_NO_MEMORY, "spatter: out of memory");
    for (size_t p = 0; p < plane; p++)
        liquid[p] = c[0] + c[1] * rcl_rng_normal(&im->rng);
    rcl_status st = gaussian_plane(liquid, im->h, im->w, c[2], im->tmp);
    for (size_t p = 0; p < plane; p++)
        liquid[p] = liquid[p] < c[3] ? 0 : liquid[p];
    if (st == RCL_OK)
        st = c[5] ? spatter_mud(im, liquid, c[3], c[4], liquid + plane) : spatter_water(im, liquid, c[4], liquid + plane);
    free(liquid);
    return st;
}

/* ---- digital ---- */

static void contrast(image *im, int s) {
    static const double cifar[5] = {.75, .5, .4, .3, .15}, imnet[5] = {.4, .3, .2, .1, .05};
    double c = (im->small ? cifar : imnet)[s];
    size_t plane = (size_t)im->h * im->w;
    for (int ch = 0; ch < im->c; ch++) {
        double mean = 0, *p = im->x + ch * plane;
        for (size_t i = 0; i < plane; i++)
            mean += p[i];
        mean /= (double)plane;
        for (size_t i = 0; i < plane; i++)
            p[i] = (p[i] - mean) * c + mean;
    }
}

/* skimage's rgb2hsv (ties: blue over green over red) and hsv2rgb, on one pixel. */
static void rgb2hsv(const double *rgb, double *hsv) {
    double v = fmax(rgb[0], fmax(rgb[1], rgb[2])), delta = v - fmin(rgb[0], fmin(rgb[1], rgb[2])), h = 0;
    if (rgb[2] == v)
        h = 4 + (rgb[0] - rgb[1]) / delta;
    else if (rgb[1] == v)
        h = 2 + (rgb[2] - rgb[0]) / delta;
    else
        h = (rgb[1] - rgb[2]) / delta;
    hsv[0] = delta == 0 ? 0 : fmod(fmod(h / 6, 1) + 1, 1);
    hsv[1] = delta == 0 ? 0 : delta / v;
    hsv[2] = v;
}

static void hsv2rgb(const double *hsv, double *rgb) {
    double hi = floor(hsv[0] * 6), f = hsv[0] * 6 - hi, v = hsv[2];
    double p = v * (1 - hsv[1]), q = v * (1 - f * hsv[1]), t = v * (1 - (1 - f) * hsv[1]);
    const double table[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
    int k = ((int)hi % 6 + 6) % 6;
    memcpy(rgb, table[k], sizeof table[k]);
}

/* An HSV channel scaled and shifted: value (brightness) or saturation; a grey image is
 * converted as three equal channels and its first channel kept, as imagecorruptions does. */
static void hsv_adjust(image *im, int channel, double scale, double shift) {
    size_t plane = (size_t)im->h * im->w;
    for (size_t i = 0; i < plane; i++) {
        double rgb[3], hsv[3];
        for (int k = 0; k < 3; k++)
            rgb[k] = im->x[(im->c == 3 ? k : 0) * plane + i];
        rgb2hsv(rgb, hsv);
        hsv[channel] = clip01(hsv[channel] * scale + shift);
        hsv2rgb(hsv, rgb);
        for (int k = 0; k < im->c; k++)
            im->x[k * plane + i] = rgb[k];
    }
}

static void brightness(image *im, int s) {
    static const double cifar[5] = {.05, .1, .15, .2, .3}, imnet[5] = {.1, .2, .3, .4, .5};
    hsv_adjust(im, 2, 1, (im->small ? cifar : imnet)[s]);
}

static void saturate(image *im, int s) {
    static const double cifar[5][2] = {{.3, 0}, {.1, 0}, {1.5, 0}, {2, .1}, {2.5, .2}};
    static const double imnet[5][2] = {{.3, 0}, {.1, 0}, {2, 0}, {5, .1}, {20, .2}};
    const double *c = (im->small ? cifar : imnet)[s];
    hsv_adjust(im, 1, c[0], c[1]);
}

/* ---- on uint8 images (PIL's pixelate and JPEG): interleaved HWC in and out ---- */

static rcl_status pixelate(const uint8_t *hwc, int c, int h, int w, int small, int s, uint8_t *out) {
    static const double cifar[5] = {.95, .9, .85, .75, .65}, imnet[5] = {.6, .5, .4, .3, .25};
    double f = (small ? cifar : imnet)[s];
    int sw = (int)(w * f), sh = (int)(h * f);
    uint8_t *mid = malloc((size_t)(sw ? sw : 1) * (sh ? sh : 1) * c);
    if (!mid)
        return rcl_fail(RCL_ERR_NO_MEMORY, "pixelate: out of memory");
    rcl_status st = rcl_image_resize_box_u8(hwc, w, h, c, mid, sw, sh);
    if (st == RCL_OK)
        st = rcl_image_resize_box_u8(mid, sw, sh, c, out, w, h);
    free(mid);
    return st;
}

typedef struct {
    uint8_t *buf;
    size_t len, cap;
} membuf;

static void mem_write(void *ctx, void *data, int size) {
    membuf *m = ctx;
    if (!m->buf || m->len + (size_t)size > m->cap) {
        size_t cap = (m->len + (size_t)size) * 2 + 1024;
        uint8_t *b = realloc(m->buf, cap);
        if (!b)
            return; /* the decode below then fails */
        m->buf = b, m->cap = cap;
    }
    memcpy(m->buf + m->len, data, (size_t)size);
    m->len += (size_t)size;
}

/* Encoded by stb's JPEG writer at the reference's quality (4:2:0 chroma below quality 90, like
 * PIL's default) and decoded by stb_image. */
static rcl_status jpeg_compression(const uint8_t *hwc, int c, int h, int w, int small, int s, uint8_t *out) {
    static const int cifar[5] = {80, 65, 58, 50, 40}, imnet[5] = {25, 18, 15, 10, 7};
    membuf m = {0};
    int ok = stbi_write_jpg_to_func(mem_write, &m, w, h, c, hwc, (small ? cifar : imnet)[s]), dw, dh, dc;
    uint8_t *dec = ok && m.buf ? stbi_load_from_memory(m.buf, (int)m.len, &dw, &dh, &dc, c) : NULL;
    free(m.buf);
    if (!dec || dw != w || dh != h) {
        stbi_image_free(dec);
        return rcl_fail(RCL_ERR_NO_MEMORY, "jpeg_compression: encoding or decoding a %dx%d image failed", w, h);
    }
    memcpy(out, dec, (size_t)w * h * c);
    stbi_image_free(dec);
    return RCL_OK;
}

/* ---- the table ---- */

typedef struct {
    void (*simple)(image *, int);
    rcl_status (*filter)(image *, int);
    rcl_status (*bytes)(const uint8_t *, int, int, int, int, int, uint8_t *);
} corruption_fn;

/* In rcl_corrupted_names order. */
static const corruption_fn table[RCL_CORRUPTED_NAMES] = {
    {gaussian_noise, NULL, NULL}, {shot_noise, NULL, NULL}, {impulse_noise, NULL, NULL},
    {NULL, defocus_blur, NULL},   {NULL, glass_blur, NULL}, {NULL, motion_blur, NULL},
    {NULL, zoom_blur, NULL},      {NULL, snow, NULL},       {NULL, frost, NULL},
    {NULL, fog, NULL},            {brightness, NULL, NULL}, {contrast, NULL, NULL},
    {NULL, elastic_transform, NULL}, {NULL, NULL, pixelate}, {NULL, NULL, jpeg_compression},
    {speckle_noise, NULL, NULL},  {NULL, gaussian_blur, NULL}, {NULL, spatter, NULL},
    {saturate, NULL, NULL}};

int rcl_corrupt_built(int corruption) {
    if (corruption < 0 || corruption >= RCL_CORRUPTED_NAMES)
        return 0;
    const corruption_fn *f = &table[corruption];
    return f->simple || f->filter || f->bytes;
}

/* Image k of in (planar CHW) corrupted into out (the same layout). */
static rcl_status corrupt_one(const corruption_fn *f, image *im, int s, const uint8_t *in, uint8_t *out, uint8_t *hwc) {
    int c = im->c, h = im->h, w = im->w;
    size_t plane = (size_t)h * w;
    if (f->bytes) {
        for (int k = 0; k < c; k++)
            for (size_t i = 0; i < plane; i++)
                hwc[i * c + k] = in[k * plane + i];
        RCL_TRY(f->bytes(hwc, c, h, w, im->small, s, hwc + plane * c));
        for (int k = 0; k < c; k++)
            for (size_t i = 0; i < plane; i++)
                out[k * plane + i] = hwc[plane * c + i * c + k];
        return RCL_OK;
    }
    for (size_t i = 0; i < plane * c; i++)
        im->x[i] = in[i] / 255.0;
    if (f->simple)
        f->simple(im, s);
    else
        RCL_TRY(f->filter(im, s));
    for (size_t i = 0; i < plane * c; i++)
        out[i] = (uint8_t)(clip01(im->x[i]) * 255); /* np.uint8 truncates */
    return RCL_OK;
}

rcl_status rcl_corrupt_dataset(const rcl_dataset *in, int corruption, int severity, const rcl_corrupt_options *o,
                               rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    if (!rcl_corrupt_built(corruption) || severity < 1 || severity > 5 || !in->pixels)
        return rcl_fail(RCL_ERR_INVALID_ARG, "corrupt: %s at severity %d is not available%s",
                        corruption >= 0 && corruption < RCL_CORRUPTED_NAMES ? rcl_corrupted_names[corruption] : "?",
                        severity, in->pixels ? "" : " (the images are not 8-bit)");
    int small = in->h <= 32 && in->w <= 32;
    frost_set fs = {0};
    if (table[corruption].filter == frost)
        RCL_TRY(frost_load(o->frost_dir, in->h, in->w, small, &fs));
    rcl_status st = rcl_dataset_alloc(out, in->n, in->c, in->h, in->w, in->num_classes, 0);
    size_t size = rcl_dataset_image_size(in), line = (size_t)(in->h > in->w ? in->h : in->w) + 1;
    image im = {in->c, in->h, in->w, small, malloc(size * sizeof(double)),
                malloc((size > line ? size : line) * sizeof(double)), rcl_rng_seed(0), &fs};
    uint8_t *hwc = malloc(2 * size);
    if (st == RCL_OK && (!im.x || !im.tmp || !hwc))
        st = rcl_fail(RCL_ERR_NO_MEMORY, "corrupt: out of memory");
    for (int k = 0; st == RCL_OK && k < in->n; k++) {
        im.rng = rcl_rng_seed(o->seed ^ ((uint64_t)(corruption * 5 + severity) << 40) ^
                              (uint64_t)k * 0x9e3779b97f4a7c15ULL);
        st = corrupt_one(&table[corruption], &im, severity - 1, in->pixels + k * size, out->pixels + k * size, hwc);
    }
    free(im.x), free(im.tmp), free(hwc);
    frost_free(&fs);
    if (st != RCL_OK) {
        rcl_dataset_free(out);
        return st;
    }
    if (in->labels)
        memcpy(out->labels, in->labels, (size_t)in->n * sizeof *in->labels);
    rcl_data_set_name(out, "%.40s+%s:%d", in->name, rcl_corrupted_names[corruption], severity);
    memcpy(out->sha256, in->sha256, sizeof out->sha256);
    return RCL_OK;
}

rcl_status rcl_corrupt_parse(const char *list, int out[RCL_CORRUPTED_NAMES], int *n) {
    *n = 0;
    if (!strcmp(list, "all")) {
        for (int i = 0; i < RCL_CORRUPTED_NAMES; i++)
            if (rcl_corrupt_built(i))
                out[(*n)++] = i;
        return RCL_OK;
    }
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        char name[40];
        snprintf(name, sizeof name, "%.*s", (int)(len < 39 ? len : 39), p);
        int i = len < 39 ? rcl_corrupted_find(name) : -1;
        if (i < 0)
            return rcl_fail(RCL_ERR_INVALID_ARG, "unknown corruption '%.*s' (all, or gaussian_noise, ..., saturate)",
                            (int)len, p);
        int seen = 0;
        for (int k = 0; k < *n; k++)
            seen |= out[k] == i;
        if (!seen)
            out[(*n)++] = i;
        p += len + (p[len] == ',');
    }
    return *n ? RCL_OK : rcl_fail(RCL_ERR_INVALID_ARG, "no corruption named in '%s'", list);
}

rcl_status rcl_corrupt_select(const char *list, const char *frost_dir, int out[RCL_CORRUPTED_NAMES], int *n) {
    RCL_TRY(rcl_corrupt_parse(list, out, n));
    int f = rcl_corrupted_find("frost"), k = 0;
    for (int i = 0; i < *n; i++) {
        if (out[i] != f || frost_dir) {
            out[k++] = out[i];
            continue;
        }
        if (strcmp(list, "all"))
            return rcl_fail(RCL_ERR_INVALID_ARG, "frost needs the references' frost images: give --frost DIR");
        rcl_log(RCL_LOG_NOTICE, "corruptions: frost left out (it needs --frost DIR, the references' frost images)");
    }
    *n = k;
    return RCL_OK;
}

/* Planar CHW images into the interleaved HWC of a released set. */
static void to_hwc(const rcl_dataset *ds, uint8_t *out) {
    size_t plane = (size_t)ds->h * ds->w, size = plane * ds->c;
    for (int i = 0; i < ds->n; i++)
        for (size_t p = 0; p < plane; p++)
            for (int k = 0; k < ds->c; k++)
                out[i * size + p * ds->c + k] = ds->pixels[i * size + k * plane + p];
}

rcl_status rcl_corrupt_write(const rcl_dataset *in, const int *names, int n, const rcl_corrupt_options *o,
                             const char *dir) {
    if (!in->labels || in->n < 1 || in->labels[0] < 0)
        return rcl_fail(RCL_ERR_INVALID_ARG, "corrupt: %s is unlabelled", in->name);
    size_t size = rcl_dataset_image_size(in), count = (size_t)5 * in->n;
    uint8_t *all = malloc(count * size), *lab = malloc(count);
    rcl_status st = all && lab ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "corrupt: out of memory for 5 x %d images", in->n);
    char path[1100];
    int64_t shape[4] = {(int64_t)count, in->h, in->w, in->c}, lshape[1] = {(int64_t)count};
    for (size_t i = 0; st == RCL_OK && i < count; i++) /* uint8: the labels.npy of CIFAR-10-C */
        lab[i] = (uint8_t)in->labels[i % in->n];
    if (st == RCL_OK && in->num_classes > 256)
        st = rcl_fail(RCL_ERR_INVALID_ARG, "corrupt: %d classes do not fit labels.npy's uint8", in->num_classes);
    if (st == RCL_OK && (st = rcl_mkdirs(dir)) == RCL_OK && (st = rcl_data_join(path, sizeof path, dir, "labels.npy")) == RCL_OK)
        st = rcl_npy_save(path, "|u1", 1, lshape, lab);
    for (int c = 0; st == RCL_OK && c < n; c++) {
        for (int s = 1; st == RCL_OK && s <= 5; s++) {
            rcl_dataset ds;
            if ((st = rcl_corrupt_dataset(in, names[c], s, o, &ds)) == RCL_OK)
                to_hwc(&ds, all + (size_t)(s - 1) * in->n * size);
            rcl_dataset_free(&ds);
        }
        if (st == RCL_OK && (st = rcl_data_join(path, sizeof path - 4, dir, rcl_corrupted_names[names[c]])) == RCL_OK) {
            strcat(path, ".npy");
            st = rcl_npy_save(path, "|u1", 4, shape, all);
            rcl_log(RCL_LOG_NOTICE, "corrupt: wrote %s (%zu images)", path, count);
        }
    }
    free(all), free(lab);
    return st;
}
