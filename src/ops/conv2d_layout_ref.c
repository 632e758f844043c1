/* Plain-C references of the layout kernels (kernels/conv2d_layout.cl), for the op table. */
#include "ref.h"

void rcl_ref_conv_pad(const double *src, double *dst, int planes, int h, int w, int hp, int wp,
                      int top, int left, int split) {
    for (int p = 0; p < planes; p++)
        for (int y = 0; y < hp; y++)
            for (int j = 0; j < wp; j++) {
                int x = split ? 2 * (j % (wp / 2)) + j / (wp / 2) - left : j - left, sy = y - top;
                dst[((size_t)p * hp + y) * wp + j] =
                    sy >= 0 && sy < h && x >= 0 && x < w ? src[((size_t)p * h + sy) * w + x] : 0.0;
            }
}

void rcl_ref_conv_pack(const double *w, double *wq, int c_out, int c_in, int kk, int width,
                       int blocks, int transpose, int flip) {
    int blocked = transpose ? c_in : c_out, other = transpose ? c_out : c_in;
    for (int b = 0; b < blocks; b++)
        for (int o = 0; o < other; o++)
            for (int t = 0; t < kk; t++)
                for (int c = 0; c < width; c++) {
                    int cc = b * width + c, co = transpose ? o : cc, ci = transpose ? cc : o;
                    wq[(((size_t)b * other + o) * kk + t) * width + c] =
                        cc < blocked ? w[((size_t)co * c_in + ci) * kk + (flip ? kk - 1 - t : t)] : 0.0;
                }
}

void rcl_ref_conv_block(const double *dy, double *db, int n, int c, int plane, int width) {
    int blocks = (c + width - 1) / width;
    for (int i = 0; i < n; i++)
        for (int b = 0; b < blocks; b++)
            for (int p = 0; p < plane; p++)
                for (int l = 0; l < width; l++) {
                    int ch = b * width + l;
                    db[(((size_t)i * blocks + b) * plane + p) * width + l] =
                        ch < c ? dy[((size_t)i * c + ch) * plane + p] : 0.0;
                }
}

void rcl_ref_conv_dw_reduce(const double *part, double *dw, int slices, int count) {
    for (int i = 0; i < count; i++) {
        double acc = 0;
        for (int s = 0; s < slices; s++)
            acc += part[(size_t)s * count + i];
        dw[i] = acc;
    }
}
