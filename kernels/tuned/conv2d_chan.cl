/* Channel-vector direct convolution (src/ops/conv2d_chan.c, docs/convolution.md): a vector's
 * lanes are VW channels (output channels of the forward, input channels of the input
 * gradient, output channels of the weight gradient), so no lane is wasted on a ragged image
 * width, and each input pixel is one scalar broadcast into an fma. One work item holds a
 * whole register tile, with no local memory and no barriers (on CPU devices a work item is
 * plain vector code). This is the layout oneDNN uses on AVX-512 (nChw16c), kept NCHW in
 * memory: the weights are packed per channel block, the outputs stored by lane.
 *
 * Build options (the family's declaration, src/ops/conv2d_family.c, gives their values):
 *   VW      lanes per vector: 4, 8 or 16
 *   K, S    kernel size and stride (the padding is done by conv_pad beforehand)
 *   R, X    conv_chan_fwd: a tile is R output rows x X output columns of one channel block
 *   CIB     conv_chan_dw: input channels per tile (CIB*K*K weight taps)
 *
 * Layouts (element offsets; the host sizes every buffer):
 *   xp  padded input [n][c_in][hp][wp]: every row and column a tile reads exists
 *   wq  packed weight [ceil(c_out/VW)][c_in][K][K][VW], zero past c_out
 *   db  output gradient in channel blocks [n][ceil(c_out/VW)][ho][wo][VW], zero past c_out
 *   part weight-gradient partial sums [slices][c_out][c_in*K*K]
 * Indices are int: the host refuses shapes whose buffers reach 2^31 elements. */

#define CHAN_CAT2(a, b) a##b
#define CHAN_CAT(a, b) CHAN_CAT2(a, b)
#define floatV CHAN_CAT(float, VW)
#define vloadV CHAN_CAT(vload, VW)
#define vstoreV CHAN_CAT(vstore, VW)

#ifndef VW
#define VW 8
#endif
#ifndef K
#define K 3
#endif
#ifndef S
#define S 1
#endif
#ifndef R
#define R 1
#endif
#ifndef X
#define X 8
#endif
#ifndef CIB
#define CIB 1
#endif

/* Lane l of every vector v[i] to dst[l*lane_stride + i]: a tile's channels are planes. */
#define CHAN_STORE_LANES(vec, dst, lane_stride, lanes)                                         \
    do {                                                                                       \
        float t_[VW];                                                                          \
        vstoreV(vec, 0, t_);                                                                   \
        for (int l_ = 0; l_ < (lanes); l_++)                                                   \
            (dst)[(size_t)l_ * (lane_stride)] = t_[l_];                                        \
    } while (0)

/* y[n][co][oy][ox] = sum over ci, ky, kx of w[co][ci][ky][kx] * xp[n][ci][oy*S+ky][ox*S+kx].
 * Work item id = ((n*blocks + cb)*ytiles + yt)*xtiles + xt. Also the input gradient at
 * stride 1: xp is then the padded output gradient and wq the flipped, transposed weight. */
kernel void conv_chan_fwd(global const float *xp, global const float *wq, global float *y,
                          int nimg, int c_in, int hp, int wp, int c_out, int ho, int wo,
                          int ytiles, int xtiles) {
    int gid = (int)get_global_id(0);
    int xt = gid % xtiles, t = gid / xtiles;
    int yt = t % ytiles;
    t /= ytiles;
    int blocks = (c_out + VW - 1) / VW;
    int cb = t % blocks, n = t / blocks;
    if (n >= nimg)
        return;
    int oy0 = yt * R, ox0 = xt * X;
    floatV acc[R][X];
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int x = 0; x < X; x++)
            acc[r][x] = (floatV)(0.0f);
    global const float *xb = xp + ((size_t)n * c_in * hp + oy0 * S) * wp + ox0 * S;
    global const float *wb = wq + (size_t)cb * c_in * K * K * VW;
    for (int ci = 0; ci < c_in; ci++) {
#pragma unroll
        for (int ky = 0; ky < K; ky++) {
#pragma unroll
            for (int kx = 0; kx < K; kx++) {
                floatV wv = vloadV(0, wb + (ky * K + kx) * VW);
#pragma unroll
                for (int r = 0; r < R; r++) {
                    global const float *xr = xb + (r * S + ky) * wp + kx;
#pragma unroll
                    for (int x = 0; x < X; x++)
                        acc[r][x] = fma((floatV)(xr[x * S]), wv, acc[r][x]);
                }
            }
        }
        xb += hp * wp;
        wb += K * K * VW;
    }
    int lanes = min(VW, c_out - cb * VW);
    size_t plane = (size_t)ho * wo;
    global float *yb = y + ((size_t)n * c_out + cb * VW) * plane;
#pragma unroll
    for (int r = 0; r < R; r++) {
        if (oy0 + r >= ho)
            break;
#pragma unroll
        for (int x = 0; x < X; x++) {
            if (ox0 + x >= wo)
                break;
            CHAN_STORE_LANES(acc[r][x], yb + (oy0 + r) * wo + ox0 + x, plane, lanes);
        }
    }
}

/* Weight gradient as a split reduction: a work item owns one slice of the n*ho output rows,
 * one block of VW output channels and CIB input channels, and sums dy x input over its rows
 * into CIB*K*K vectors: part[slice][co][ci*K*K + ky*K + kx]. Work item id =
 * (slice*blocks + cb)*groups + cg: neighbours share the block's dy rows. */
kernel void conv_chan_dw(global const float *xp, global const float *db, global float *part,
                         int nimg, int c_in, int hp, int wp, int c_out, int ho, int wo,
                         int slices) {
    int gid = (int)get_global_id(0);
    int groups = (c_in + CIB - 1) / CIB, blocks = (c_out + VW - 1) / VW;
    int cg = gid % groups, t = gid / groups;
    int cb = t % blocks, s = t / blocks;
    if (s >= slices)
        return;
    int rows = nimg * ho;
    int r0 = (int)((long)rows * s / slices), r1 = (int)((long)rows * (s + 1) / slices);
    int ci0 = cg * CIB, cin = min(CIB, c_in - ci0);
    floatV acc[CIB][K * K];
#pragma unroll
    for (int c = 0; c < CIB; c++)
#pragma unroll
        for (int j = 0; j < K * K; j++)
            acc[c][j] = (floatV)(0.0f);
    for (int row = r0; row < r1; row++) {
        int n = row / ho, oy = row % ho;
        global const float *dr = db + (((size_t)n * blocks + cb) * ho + oy) * wo * VW;
        /* input channels past c_in read the last one (a valid address); they are not stored */
        global const float *xr = xp + (((size_t)n * c_in + ci0) * hp + oy * S) * wp;
        for (int ox = 0; ox < wo; ox++) {
            floatV dv = vloadV(0, dr + ox * VW);
#pragma unroll
            for (int c = 0; c < CIB; c++) {
                global const float *xc = xr + (size_t)min(c, cin - 1) * hp * wp + ox * S;
#pragma unroll
                for (int ky = 0; ky < K; ky++)
#pragma unroll
                    for (int kx = 0; kx < K; kx++)
                        acc[c][ky * K + kx] = fma((floatV)(xc[ky * wp + kx]), dv, acc[c][ky * K + kx]);
            }
        }
    }
    int lanes = min(VW, c_out - cb * VW), kk = c_in * K * K;
    global float *ps = part + (size_t)s * c_out * kk + (size_t)cb * VW * kk + ci0 * K * K;
#pragma unroll
    for (int c = 0; c < CIB; c++) {
        if (c >= cin)
            break;
#pragma unroll
        for (int j = 0; j < K * K; j++)
            CHAN_STORE_LANES(acc[c][j], ps + c * K * K + j, kk, lanes);
    }
}
