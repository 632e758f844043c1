/* The layouts the direct convolution families read and write (src/ops/conv2d_layout.c):
 * zero-padded inputs, packed weights, output gradients in channel blocks, and the sum of a
 * split weight-gradient reduction. They do not depend on a family's tile sizes, so they live
 * in the main program and every family build shares them. */

/* dst[plane][y][x] = src[src_off + (plane*h + y - top)*w + x - left], zero outside src; with
 * split, each row is stored as its even columns, then its odd ones (the stride-2 input of
 * the pixel-vector family; wp even). One work item per destination plane: a row is too
 * little work for a CPU work item. */
kernel void conv_pad(global const float *src, int src_off, global float *dst, int planes, int h,
                     int w, int hp, int wp, int top, int left, int split) {
    int plane = (int)get_global_id(0);
    if (plane >= planes)
        return;
    global const float *sp = src + src_off + (size_t)plane * h * w;
    global float *dp = dst + (size_t)plane * hp * wp;
    int half_wp = wp / 2;
    for (int y = 0; y < hp; y++) {
        global float *d = dp + (size_t)y * wp;
        int sy = y - top;
        if (sy < 0 || sy >= h) {
            for (int x = 0; x < wp; x++)
                d[x] = 0.0f;
            continue;
        }
        global const float *s = sp + (size_t)sy * w;
        if (split) {
            for (int j = 0; j < wp; j++) {
                int x = 2 * (j % half_wp) + j / half_wp - left;
                d[j] = x >= 0 && x < w ? s[x] : 0.0f;
            }
            continue;
        }
        for (int x = 0; x < left; x++)
            d[x] = 0.0f;
        for (int x = 0; x < w; x++)
            d[left + x] = s[x];
        for (int x = left + w; x < wp; x++)
            d[x] = 0.0f;
    }
}

/* Weights w[c_out][c_in][kk] packed in `blocks` blocks of `width` channels, the block's
 * channels innermost: wq[((b*c_other + o)*kk + t)*width + c]. Blocks run over the output
 * channels (transpose 0: o = input channel) or, for an input gradient, over the input
 * channels (transpose 1: o = output channel); flip reverses the taps (t -> kk-1-t: the input
 * gradient at stride 1 as a forward convolution). Zero past the last channel. */
kernel void conv_pack(global const float *w, global float *wq, int c_out, int c_in, int kk,
                      int width, int blocks, int transpose, int flip) {
    int gid = (int)get_global_id(0);
    int c_blocked = transpose ? c_in : c_out, c_other = transpose ? c_out : c_in;
    if (gid >= blocks * c_other * kk * width)
        return;
    int c = gid % width, r = gid / width;
    int t = r % kk, o = (r / kk) % c_other, b = r / (kk * c_other);
    int cc = b * width + c;
    int co = transpose ? o : cc, ci = transpose ? cc : o;
    wq[gid] = cc < c_blocked ? w[(co * c_in + ci) * kk + (flip ? kk - 1 - t : t)] : 0.0f;
}

/* dy[n][c][plane] in blocks of `width` channels, the channels innermost:
 * db[((n*blocks + b)*plane + p)*width + l] = dy[(n*c + b*width + l)*plane + p], zero past c.
 * One work item per (n, b) and run of BLOCK_RUN pixels: it reads each channel's run
 * contiguously, and the run's width x BLOCK_RUN outputs stay in the cache while they fill. */
#define BLOCK_RUN 64
kernel void conv_block(global const float *dy, global float *db, int nimg, int c, int plane,
                       int width) {
    int gid = (int)get_global_id(0);
    int blocks = (c + width - 1) / width, runs = (plane + BLOCK_RUN - 1) / BLOCK_RUN;
    if (gid >= nimg * blocks * runs)
        return;
    int run = gid % runs, t = gid / runs;
    int b = t % blocks, n = t / blocks;
    int p0 = run * BLOCK_RUN, np = min(BLOCK_RUN, plane - p0);
    global float *d = db + (((size_t)n * blocks + b) * plane + p0) * width;
    for (int l = 0; l < width; l++) {
        int ch = b * width + l;
        if (ch >= c) {
            for (int p = 0; p < np; p++)
                d[p * width + l] = 0.0f;
            continue;
        }
        global const float *s = dy + ((size_t)n * c + ch) * plane + p0;
        for (int p = 0; p < np; p++)
            d[p * width + l] = s[p];
    }
}

/* dw[i] = sum over s of part[s*count + i], in order s = 0, 1, ...: deterministic. */
kernel void conv_dw_reduce(global const float *part, global float *dw, int slices, int count) {
    int i = (int)get_global_id(0);
    if (i >= count)
        return;
    float acc = 0.0f;
    for (int s = 0; s < slices; s++)
        acc += part[(size_t)s * count + i];
    dw[i] = acc;
}
