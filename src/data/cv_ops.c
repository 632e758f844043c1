/* OpenCV 4's Canny, 5x5 chamfer distance transform, histogram equalisation and 3x3 filtering,
 * restated from their definitions (spec §12.1, spatter) so that the spatter
 * corruption needs no OpenCV. Integer arithmetic where OpenCV's is integer, so the results are
 * OpenCV's to the value. */
#include "cv_ops.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Canny ---- */

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* 3x3 Sobel derivatives (x to the right, y down), edges replicated as OpenCV's Canny asks. */
static void sobel3(const uint8_t *src, int h, int w, int *dx, int *dy) {
#define P(yy, xx) ((int)src[(size_t)(yy) * w + (xx)])
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int ym = clampi(y - 1, 0, h - 1), yp = clampi(y + 1, 0, h - 1);
            int xm = clampi(x - 1, 0, w - 1), xp = clampi(x + 1, 0, w - 1);
            dx[(size_t)y * w + x] = P(ym, xp) - P(ym, xm) + 2 * (P(y, xp) - P(y, xm)) + P(yp, xp) - P(yp, xm);
            dy[(size_t)y * w + x] = P(yp, xm) - P(ym, xm) + 2 * (P(yp, x) - P(ym, x)) + P(yp, xp) - P(ym, xp);
        }
#undef P
}

/* Whether magnitude mag[i] (a plane padded with a ring of zeros, rows `stride` apart) is a
 * local maximum across the edge: against its two neighbours along the gradient (gx, gy),
 * whose direction is binned with tan(22.5 degrees) in OpenCV's 15-bit fixed point. The
 * comparisons are OpenCV's: above the first neighbour, at least the second (diagonals: above
 * both). */
static int canny_is_peak(const int *mag, size_t i, ptrdiff_t stride, int gx, int gy) {
    const long tg22 = (long)(0.4142135623730950488 * (1 << 15) + 0.5);
    long ax = labs(gx), ay = labs(gy) * (1L << 15), t22 = ax * tg22;
    int m = mag[i];
    if (ay < t22)
        return m > mag[i - 1] && m >= mag[i + 1];
    if (ay > t22 + ax * (1L << 16))
        return m > mag[i - stride] && m >= mag[i + stride];
    ptrdiff_t s = (gx < 0) != (gy < 0) ? -1 : 1;
    return m > mag[i - stride - s] && m > mag[i + stride + s];
}

/* Hysteresis on state (padded like the magnitude; 1: no edge, 0: candidate, 2: edge): every
 * candidate 8-connected to an edge becomes one. stack holds up to h*w indices. */
static void canny_track(uint8_t *state, ptrdiff_t stride, size_t *stack, size_t top) {
    const ptrdiff_t nb[8] = {-stride - 1, -stride, -stride + 1, -1, 1, stride - 1, stride, stride + 1};
    while (top > 0) {
        size_t i = stack[--top];
        for (int k = 0; k < 8; k++)
            if (state[i + nb[k]] == 0) {
                state[i + nb[k]] = 2;
                stack[top++] = i + nb[k];
            }
    }
}

rcl_status rcl_cv_canny_detect(const uint8_t *src, int h, int w, int low, int high, uint8_t *edges) {
    size_t plane = (size_t)h * w, padded = (size_t)(h + 2) * (w + 2);
    ptrdiff_t stride = w + 2;
    int *dx = malloc(plane * sizeof *dx), *dy = malloc(plane * sizeof *dy), *mag = calloc(padded, sizeof *mag);
    uint8_t *state = malloc(padded);
    size_t *stack = malloc(plane * sizeof *stack), top = 0;
    if (!dx || !dy || !mag || !state || !stack) {
        free(dx), free(dy), free(mag), free(state), free(stack);
        return rcl_fail(RCL_ERR_NO_MEMORY, "canny: out of memory for a %dx%d plane", w, h);
    }
    sobel3(src, h, w, dx, dy);
    memset(state, 1, padded);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            mag[(size_t)(y + 1) * stride + x + 1] = abs(dx[(size_t)y * w + x]) + abs(dy[(size_t)y * w + x]);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)(y + 1) * stride + x + 1, p = (size_t)y * w + x;
            if (mag[i] <= low || !canny_is_peak(mag, i, stride, dx[p], dy[p]))
                continue;
            state[i] = mag[i] > high ? 2 : 0;
            if (state[i] == 2)
                stack[top++] = i;
        }
    canny_track(state, stride, stack, top);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            edges[(size_t)y * w + x] = state[(size_t)(y + 1) * stride + x + 1] == 2 ? 255 : 0;
    free(dx), free(dy), free(mag), free(state), free(stack);
    return RCL_OK;
}

/* ---- distance transform ---- */

/* One chamfer step: the offset (dy, dx) and which of the three weights it costs. */
typedef struct {
    int dy, dx, weight;
} chamfer_step;

/* The 5x5 mask's half that precedes a pixel in raster order (the forward pass); the backward
 * pass uses its mirror image. */
static const chamfer_step forward_half[8] = {{-2, -1, 2}, {-2, 1, 2}, {-1, -2, 2}, {-1, -1, 1},
                                             {-1, 0, 0},  {-1, 1, 1}, {-1, 2, 2},  {0, -1, 0}};

static int chamfer_min(const int *t, size_t i, ptrdiff_t stride, const int weight[3], int sign, int t0) {
    for (int k = 0; k < 8; k++) {
        const chamfer_step *s = &forward_half[k];
        int v = t[i + sign * (s->dy * stride + s->dx)] + weight[s->weight];
        t0 = v < t0 ? v : t0;
    }
    return t0;
}

rcl_status rcl_cv_distance_transform(const uint8_t *src, int h, int w, float *dist) {
    /* OpenCV's start value (far, yet far from overflowing when steps are added) and its weights
     * 1, 1.4 and 2.1969 (float) in 16.16 fixed point */
    const int far = INT_MAX >> 2;
    const int weight[3] = {(int)lrintf(1.0f * 65536), (int)lrintf(1.4f * 65536), (int)lrintf(2.1969f * 65536)};
    ptrdiff_t stride = w + 4;
    size_t padded = (size_t)(h + 4) * stride;
    int *t = malloc(padded * sizeof *t);
    if (!t)
        return rcl_fail(RCL_ERR_NO_MEMORY, "distance transform: out of memory for a %dx%d plane", w, h);
    for (size_t i = 0; i < padded; i++)
        t[i] = far;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)(y + 2) * stride + x + 2;
            t[i] = src[(size_t)y * w + x] ? chamfer_min(t, i, stride, weight, 1, far) : 0;
        }
    for (int y = h - 1; y >= 0; y--)
        for (int x = w - 1; x >= 0; x--) {
            size_t i = (size_t)(y + 2) * stride + x + 2;
            if (t[i] > weight[0]) /* a distance of 1 or less cannot shrink */
                t[i] = chamfer_min(t, i, stride, weight, -1, t[i]);
            dist[(size_t)y * w + x] = (float)t[i] * (1.0f / 65536);
        }
    free(t);
    return RCL_OK;
}

/* ---- histogram equalisation and 3x3 filters ---- */

void rcl_cv_hist_equalize(const uint8_t *src, size_t n, uint8_t *dst) {
    size_t hist[256] = {0};
    uint8_t lut[256] = {0};
    for (size_t i = 0; i < n; i++)
        hist[src[i]]++;
    int lo = 0;
    while (lo < 255 && !hist[lo])
        lo++;
    if (hist[lo] == n) { /* one value (or none): OpenCV leaves it */
        memmove(dst, src, n);
        return;
    }
    float scale = 255.0f / (float)(n - hist[lo]);
    size_t sum = 0;
    for (int v = lo + 1; v < 256; v++) {
        sum += hist[v];
        float r = rintf((float)sum * scale); /* OpenCV's saturate_cast: to nearest, ties to even */
        lut[v] = (uint8_t)(r > 255 ? 255 : r);
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = lut[src[i]];
}

int rcl_cv_reflect101(int i, int n) {
    if (n == 1)
        return 0;
    while (i < 0 || i >= n)
        i = i < 0 ? -i : 2 * n - 2 - i;
    return i;
}

void rcl_cv_filter3_sum(const double *src, int h, int w, const double k[9], double *dst) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double acc = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                    acc += k[(dy + 1) * 3 + dx + 1] * src[(size_t)rcl_cv_reflect101(y + dy, h) * w + rcl_cv_reflect101(x + dx, w)];
            dst[(size_t)y * w + x] = acc;
        }
}
