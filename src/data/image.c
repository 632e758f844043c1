/* One image: decode (stb_image), PIL-exact bilinear resize, torchvision Resize+CenterCrop, PNG out.
 *
 * The resize is our own copy of Pillow's ImagingResample (BILINEAR, 8 bits per channel)
 * rather than stb_image_resize: Pillow widens the triangle filter by the downscale factor
 * (antialiasing), drops taps that fall outside the image and renormalises, and works in
 * 22-bit fixed point with a uint8 rounding between the horizontal and vertical passes;
 * stb's edge modes and float path give different pixels. spec §3 asks for PIL's result. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_write.h>

#include "data_internal.h"

#define PRECISION_BITS (32 - 8 - 2)

static inline uint8_t clip8(int32_t v) {
    v >>= PRECISION_BITS;
    return (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
}

static double bilinear_filter(double x) {
    if (x < 0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double box_filter(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }

/* A Pillow resampling filter and its support. */
typedef struct {
    double (*fn)(double);
    double support;
} resample_filter;

static const resample_filter bilinear = {bilinear_filter, 1.0}, box = {box_filter, 0.5};

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc for the box [0, in) -> out samples:
 * for output i, taps bounds[2i] .. bounds[2i]+bounds[2i+1]-1 with weights kk[i*ksize + t]. */
static int precompute(const resample_filter *f, int in, int out, int *bounds, int32_t **kk_out) {
    double scale = (double)in / out, filterscale = scale < 1.0 ? 1.0 : scale;
    double support = f->support * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *k = malloc((size_t)out * (size_t)ksize * sizeof(double));
    int32_t *kk = malloc((size_t)out * (size_t)ksize * sizeof(int32_t));
    if (!k || !kk) {
        free(k);
        free(kk);
        return -1;
    }
    for (int xx = 0; xx < out; xx++) {
        double center = (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in)
            xmax = in;
        xmax -= xmin;
        double *kr = k + (size_t)xx * ksize;
        int x;
        for (x = 0; x < xmax; x++) {
            double w = f->fn((x + xmin - center + 0.5) * ss);
            kr[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++)
            if (ww != 0.0)
                kr[x] /= ww;
        for (; x < ksize; x++)
            kr[x] = 0;
        bounds[2 * xx] = xmin;
        bounds[2 * xx + 1] = xmax;
    }
    for (size_t i = 0; i < (size_t)out * (size_t)ksize; i++)
        kk[i] = k[i] < 0 ? (int32_t)(-0.5 + k[i] * (1 << PRECISION_BITS))
                         : (int32_t)(0.5 + k[i] * (1 << PRECISION_BITS));
    free(k);
    *kk_out = kk;
    return ksize;
}

static rcl_status resize(const resample_filter *f, const uint8_t *src, int sw, int sh, int c, uint8_t *dst, int dw,
                         int dh) {
    if (sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 || c <= 0 || c > 4)
        return rcl_fail(RCL_ERR_INVALID_ARG, "resize %dx%d -> %dx%d (%d channels) is invalid", sw, sh, dw, dh, c);
    int need_h = sw != dw, need_v = sh != dh;
    int *bh = malloc(2 * (size_t)dw * sizeof(int)), *bv = malloc(2 * (size_t)dh * sizeof(int));
    int32_t *kh = NULL, *kv = NULL;
    int ksh = -1, ksv = -1;
    if (bh && bv) {
        ksh = precompute(f, sw, dw, bh, &kh);
        ksv = precompute(f, sh, dh, bv, &kv);
    }
    uint8_t *tmp = NULL;
    int y0 = 0, y1 = sh;
    if (ksh > 0 && ksv > 0 && need_h) {
        /* only the source rows the vertical pass will read */
        y0 = need_v ? bv[0] : 0;
        y1 = need_v ? bv[2 * dh - 2] + bv[2 * dh - 1] : sh;
        tmp = malloc((size_t)(y1 - y0) * (size_t)dw * (size_t)c + 1);
    }
    if (ksh < 0 || ksv < 0 || (need_h && !tmp)) {
        free(bh), free(bv), free(kh), free(kv), free(tmp);
        return rcl_fail(RCL_ERR_NO_MEMORY, "resize %dx%d -> %dx%d: out of memory", sw, sh, dw, dh);
    }
    const uint8_t *in = src;
    int in_w = sw;
    if (need_h) {
        for (int y = y0; y < y1; y++)
            for (int xx = 0; xx < dw; xx++) {
                int xmin = bh[2 * xx], xmax = bh[2 * xx + 1];
                const int32_t *k = kh + (size_t)xx * ksh;
                for (int ch = 0; ch < c; ch++) {
                    int32_t ss = 1 << (PRECISION_BITS - 1);
                    for (int x = 0; x < xmax; x++)
                        ss += (int32_t)src[((size_t)y * sw + (size_t)(x + xmin)) * c + ch] * k[x];
                    tmp[((size_t)(y - y0) * dw + xx) * c + ch] = clip8(ss);
                }
            }
        in = tmp;
        in_w = dw;
    }
    if (need_v) {
        for (int yy = 0; yy < dh; yy++) {
            int ymin = bv[2 * yy] - y0, ymax = bv[2 * yy + 1];
            const int32_t *k = kv + (size_t)yy * ksv;
            for (int xx = 0; xx < in_w; xx++)
                for (int ch = 0; ch < c; ch++) {
                    int32_t ss = 1 << (PRECISION_BITS - 1);
                    for (int y = 0; y < ymax; y++)
                        ss += (int32_t)in[((size_t)(ymin + y) * in_w + (size_t)xx) * c + ch] * k[y];
                    dst[((size_t)yy * dw + xx) * c + ch] = clip8(ss);
                }
        }
    } else {
        memcpy(dst, in, (size_t)dh * (size_t)dw * (size_t)c);
    }
    free(bh), free(bv), free(kh), free(kv), free(tmp);
    return RCL_OK;
}

rcl_status rcl_image_resize_u8(const uint8_t *src, int sw, int sh, int c, uint8_t *dst, int dw, int dh) {
    return resize(&bilinear, src, sw, sh, c, dst, dw, dh);
}

rcl_status rcl_image_resize_box_u8(const uint8_t *src, int sw, int sh, int c, uint8_t *dst, int dw, int dh) {
    return resize(&box, src, sw, sh, c, dst, dw, dh);
}

/* Python's round() on k/2: halves go to the even neighbour (torchvision's CenterCrop). */
static int half_round_even(int d) {
    if (d % 2 == 0)
        return d / 2;
    int q = d / 2; /* d/2 = q + 0.5 */
    return q % 2 == 0 ? q : q + 1;
}

/* torchvision Resize(size): the shorter side becomes size, the longer int(size*long/short). */
static int64_t fit_size(int sw, int sh, int h, int w, int64_t *nw, int64_t *nh) {
    if ((int64_t)sw * h >= (int64_t)sh * w) {
        *nh = h;
        *nw = (int64_t)((double)((int64_t)h * sw) / sh);
    } else {
        *nw = w;
        *nh = (int64_t)((double)((int64_t)w * sh) / sw);
    }
    if (*nw < w)
        *nw = w;
    if (*nh < h)
        *nh = h;
    return *nw * *nh;
}

/* An elongated image (a 13-byte PPM header can claim 636633 x 3) would be resized to
 * millions of pixels along its long side before the crop: refuse past this many. */
#define FIT_MAX_PIXELS ((int64_t)1 << 24)

rcl_status rcl_image_fit_u8(const uint8_t *src, int sw, int sh, int c, uint8_t *chw, int h, int w) {
    if (sw <= 0 || sh <= 0 || h <= 0 || w <= 0 || c <= 0)
        return rcl_fail(RCL_ERR_INVALID_ARG, "image fit %dx%d -> %dx%d is invalid", sw, sh, w, h);
    int64_t nw64, nh64;
    if (fit_size(sw, sh, h, w, &nw64, &nh64) > FIT_MAX_PIXELS)
        return rcl_fail(RCL_ERR_FORMAT, "image fit: a %d x %d image is too elongated to resize for %d x %d", sw, sh,
                        w, h);
    int nw = (int)nw64, nh = (int)nh64;
    uint8_t *r = malloc((size_t)nw * (size_t)nh * (size_t)c);
    if (!r)
        return rcl_fail(RCL_ERR_NO_MEMORY, "image fit: out of memory for %dx%d", nw, nh);
    rcl_status st = rcl_image_resize_u8(src, sw, sh, c, r, nw, nh);
    if (st == RCL_OK) {
        int top = half_round_even(nh - h), left = half_round_even(nw - w);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    chw[((size_t)ch * h + y) * w + x] = r[((size_t)(y + top) * nw + (x + left)) * c + ch];
    }
    free(r);
    return st;
}

/* The decoded pixels (comp channels: grey, grey+alpha, RGB, RGBA) as RGB, as stb's own
 * conversion would give them (grey replicated, alpha dropped), in a new buffer (free()). stb's
 * conversion is not used: in Debian's stb (2022-09) a 16-bit grey PNM asked for 3 channels is
 * converted as 8-bit, then read as 16-bit past the end of the buffer (found by fuzz_image). */
static unsigned char *to_rgb(const unsigned char *px, int comp, size_t np) {
    unsigned char *rgb = malloc(np * 3);
    if (!rgb)
        return NULL;
    for (size_t i = 0; i < np; i++)
        for (int ch = 0; ch < 3; ch++)
            rgb[3 * i + ch] = px[(size_t)comp * i + (comp >= 3 ? ch : 0)];
    return rgb;
}

/* The file's pixels as interleaved RGB at their own size, in *rgb (free()); fit_h x fit_w: the
 * size they will be fitted to (0: none), whose resize cost is bounded first. */
static rcl_status decode_rgb(const char *path, const unsigned char *data, size_t n, int fit_h, int fit_w,
                             unsigned char **rgb_out, int *w_out, int *h_out) {
    int h = fit_h, w = fit_w;
    if (n > INT32_MAX)
        return rcl_fail(RCL_ERR_FORMAT, "%s: image file too large (%zu bytes)", path, n);
    int iw, ih, comp;
    /* refuse absurd dimensions before stb allocates for them */
    if (!stbi_info_from_memory(data, (int)n, &iw, &ih, &comp))
        return rcl_fail(RCL_ERR_FORMAT, "%s: cannot decode image: %s", path, stbi_failure_reason());
    if (iw <= 0 || ih <= 0) /* a PNM header may say 0 (found by fuzz_image) */
        return rcl_fail(RCL_ERR_FORMAT, "%s: image of %d x %d pixels is empty", path, iw, ih);
    if ((int64_t)iw * ih > ((int64_t)1 << 26))
        return rcl_fail(RCL_ERR_FORMAT, "%s: image of %d x %d pixels is too large", path, iw, ih);
    int64_t fw, fh;
    if (h > 0 && fit_size(iw, ih, h, w, &fw, &fh) > FIT_MAX_PIXELS)
        return rcl_fail(RCL_ERR_FORMAT, "%s: a %d x %d image is too elongated to resize for %d x %d", path, iw, ih,
                        w, h);
    /* no format packs more than ~8000 pixels into a byte (1-bit PNG at deflate's 1032:1): a
     * 20-byte RLE TGA claiming 38680 x 3852 would otherwise be decoded (found by fuzz_image) */
    if ((int64_t)iw * ih > (int64_t)n * 16384 + (1 << 20))
        return rcl_fail(RCL_ERR_FORMAT, "%s: a %zu-byte file cannot hold a %d x %d image", path, n, iw, ih);
    unsigned char *px = stbi_load_from_memory(data, (int)n, &iw, &ih, &comp, 0);
    if (!px)
        return rcl_fail(RCL_ERR_FORMAT, "%s: cannot decode image: %s", path, stbi_failure_reason());
    if (comp < 1 || comp > 4) {
        stbi_image_free(px);
        return rcl_fail(RCL_ERR_FORMAT, "%s: image has %d channels", path, comp);
    }
    unsigned char *rgb = to_rgb(px, comp, (size_t)iw * ih);
    stbi_image_free(px);
    if (!rgb)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory decoding a %d x %d image", path, iw, ih);
    *rgb_out = rgb, *w_out = iw, *h_out = ih;
    return RCL_OK;
}

rcl_status rcl_data_decode_image(const char *path, const unsigned char *data, size_t n,
                                 const rcl_image_options *o, uint8_t *chw) {
    int h = o && o->h > 0 ? o->h : 32, w = o && o->w > 0 ? o->w : 32;
    int c = o && o->channels > 0 ? o->channels : 3, iw, ih;
    if (c != 1 && c != 3)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: channels must be 1 or 3, got %d", path, c);
    unsigned char *rgb;
    RCL_TRY(decode_rgb(path, data, n, h, w, &rgb, &iw, &ih));
    rcl_status st;
    if (c == 1) {
        /* PIL convert("L"): L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16 */
        size_t np = (size_t)iw * ih;
        for (size_t i = 0; i < np; i++) {
            const unsigned char *p = rgb + 3 * i;
            rgb[i] = (unsigned char)((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
        }
    }
    st = rcl_image_fit_u8(rgb, iw, ih, c, chw, h, w);
    free(rgb);
    return st;
}

rcl_status rcl_image_load_file(const char *path, const rcl_image_options *o, uint8_t *chw) {
    unsigned char *data;
    size_t n;
    RCL_TRY(rcl_data_read_file(path, NULL, &data, &n));
    rcl_status st = rcl_data_decode_image(path, data, n, o, chw);
    free(data);
    return st;
}

rcl_status rcl_image_read_rgb(const char *path, uint8_t **rgb, int *w, int *h) {
    unsigned char *data;
    size_t n;
    RCL_TRY(rcl_data_read_file(path, NULL, &data, &n));
    rcl_status st = decode_rgb(path, data, n, 0, 0, rgb, w, h);
    free(data);
    return st;
}

rcl_status rcl_image_write_png(const char *path, const uint8_t *chw, int c, int h, int w) {
    if ((c != 1 && c != 3) || h <= 0 || w <= 0)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: cannot write a %dx%dx%d image as PNG", path, c, h, w);
    uint8_t *hwc = malloc((size_t)c * h * w);
    if (!hwc)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", path);
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < h * w; i++)
            hwc[(size_t)i * c + ch] = chw[(size_t)ch * h * w + i];
    int ok = stbi_write_png(path, w, h, c, hwc, w * c);
    free(hwc);
    return ok ? RCL_OK : rcl_fail(RCL_ERR_IO, "%s: cannot write PNG", path);
}
