/* conv2d as im2col + GEMM (src/ops/conv2d.c). Layouts, for a chunk of nb images:
 *   col  [C_in*kh*kw][nb*Ho*Wo]  row r = (c*kh + i)*kw + j, column q = (img*Ho + oy)*Wo + ox
 *   tmp  [C_out][nb*Ho*Wo]       GEMM output (forward) / permuted dy (backward)
 * x_off, y_off are element offsets of the chunk's first image in the NCHW tensors.
 * One work item per output element; every kernel bound-checks its id. Indices are
 * int: the host refuses tensors and chunks of 2^31 elements or more. */

/* col[r][q] = x[img][c][oy*stride - pad + i][ox*stride - pad + j], 0 outside the image.
 * One work item per (r, img, oy) writes a row of wo columns: integer division is
 * scalar on CPUs, so it is paid once per row, not per element. */
kernel void conv_im2col(global const float *x, int x_off, global float *col, int nb, int c_in,
                        int h, int w, int kh, int kw, int stride, int pad, int ho, int wo) {
    int gid = (int)get_global_id(0);
    int rows = nb * ho;
    if (gid >= c_in * kh * kw * rows)
        return;
    int r = gid / rows, t = gid % rows;
    int j = r % kw, i = (r / kw) % kh, c = r / (kw * kh);
    int oy = t % ho, img = t / ho;
    int iy = oy * stride - pad + i;
    global float *dst = col + (size_t)r * (nb * ho * wo) + (size_t)t * wo;
    if (iy < 0 || iy >= h) {
        for (int ox = 0; ox < wo; ox++)
            dst[ox] = 0.0f;
        return;
    }
    global const float *src = x + x_off + ((img * c_in + c) * h + iy) * w;
    for (int ox = 0; ox < wo; ox++) {
        int ix = ox * stride - pad + j;
        dst[ox] = (ix >= 0 && ix < w) ? src[ix] : 0.0f;
    }
}

/* The adjoint of conv_im2col as a gather: each dx element sums, in a fixed order,
 * the dcol entries that im2col copied it to. No atomics, so the result is
 * deterministic. One work item per (img, c, iy) row of dx. Overwrites
 * dx[x_off .. x_off + nb*c_in*h*w). */
kernel void conv_col2im(global const float *dcol, global float *dx, int x_off, int nb, int c_in,
                        int h, int w, int kh, int kw, int stride, int pad, int ho, int wo) {
    int gid = (int)get_global_id(0);
    if (gid >= nb * c_in * h)
        return;
    int iy = gid % h, c = (gid / h) % c_in, img = gid / (h * c_in);
    int ncols = nb * ho * wo;
    global float *out = dx + x_off + (size_t)gid * w;
    for (int ix = 0; ix < w; ix++)
        out[ix] = 0.0f;
    for (int i = 0; i < kh; i++) {
        int ty = iy + pad - i; /* = oy * stride */
        if (ty < 0 || ty % stride != 0 || ty / stride >= ho)
            continue;
        int oy = ty / stride;
        for (int j = 0; j < kw; j++) {
            global const float *src = dcol + (size_t)((c * kh + i) * kw + j) * ncols + (img * ho + oy) * wo;
            for (int ix = 0; ix < w; ix++) {
                int tx = ix + pad - j;
                if (tx < 0 || tx % stride != 0 || tx / stride >= wo)
                    continue;
                out[ix] += src[tx / stride];
            }
        }
    }
}

/* y[y_off + (img*c_out + co)*hw + p] = tmp[co][img*hw + p]  (GEMM layout -> NCHW).
 * One work item per (img, co) copies a contiguous row of hw: no per-element
 * integer division, which is scalar (slow) on CPUs. */
kernel void conv_cn_to_nchw(global const float *tmp, global float *y, int y_off, int nb,
                            int c_out, int hw) {
    int gid = (int)get_global_id(0);
    if (gid >= nb * c_out)
        return;
    int co = gid % c_out, img = gid / c_out;
    global const float *src = tmp + (size_t)co * nb * hw + (size_t)img * hw;
    global float *dst = y + y_off + (size_t)gid * hw;
    for (int p = 0; p < hw; p++)
        dst[p] = src[p];
}

/* tmp[co][img*hw + p] = y[y_off + (img*c_out + co)*hw + p]  (NCHW -> GEMM layout), row-wise */
kernel void conv_nchw_to_cn(global const float *y, int y_off, global float *tmp, int nb,
                            int c_out, int hw) {
    int gid = (int)get_global_id(0);
    if (gid >= nb * c_out)
        return;
    int co = gid % c_out, img = gid / c_out;
    global const float *src = y + y_off + (size_t)gid * hw;
    global float *dst = tmp + (size_t)co * nb * hw + (size_t)img * hw;
    for (int p = 0; p < hw; p++)
        dst[p] = src[p];
}
