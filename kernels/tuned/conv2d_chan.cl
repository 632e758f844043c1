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
 *   K, P, S kernel size, padding and stride (the padded copies are made by conv_pad)
 *   R, X    conv_chan_fwd: a tile is R output rows x X output columns of CB channel blocks
 *           (a broadcast input pixel feeds CB fmas); conv_chan_dx2: R x X input pixels of
 *           one parity class
 *   CIB     conv_chan_dw: input channels per tile (CIB*K*K weight taps), with CB blocks of
 *           output channels (each input value feeds CB fmas)
 *   BOUNDS  conv_chan_fwd, conv_chan_dw: 0 reads a padded copy; 1 reads the input itself and
 *           tests each tap's row and column (no copy: cheaper where the copy costs more than
 *           the tests)
 *
 * Layouts (element offsets; the host sizes every buffer):
 *   xp  padded input [n][c_in][hp][wp]: every row and column a tile reads exists
 *   wq  packed weight [ceil(c_out/(VW*CB))*CB][c_in][K][K][VW], zero past c_out
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
#ifndef P
#define P 1
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
#ifndef CB
#define CB 1
#endif
#ifndef CIB
#define CIB 1
#endif
#ifndef BOUNDS
#define BOUNDS 0
#endif

/* BOUNDS: tap coordinate i of a dimension of n pixels, clamped into it (a valid address);
 * *inside says whether it lies there (else the tap takes 0). */
static inline int chan_tap(int i, int n, bool *inside) {
    *inside = i >= 0 && i < n;
    return clamp(i, 0, n - 1);
}

/* Lane l of every vector v[i] to dst[l*lane_stride + i]: a tile's channels are planes. */
#define CHAN_STORE_LANES(vec, dst, lane_stride, lanes)                                         \
    do {                                                                                       \
        float t_[VW];                                                                          \
        vstoreV(vec, 0, t_);                                                                   \
        for (int l_ = 0; l_ < (lanes); l_++)                                                   \
            (dst)[(size_t)l_ * (lane_stride)] = t_[l_];                                        \
    } while (0)

/* y[n][co][oy][ox] = sum over ci, ky, kx of w[co][ci][ky][kx] * xp[n][ci][oy*S+ky][ox*S+kx].
 * Work item id = ((n*groups + cg)*ytiles + yt)*xtiles + xt, a group being CB blocks. Also the
 * input gradient at stride 1: xp is then the padded output gradient and wq the flipped,
 * transposed weight. With BOUNDS, xp is the unpadded input of hp x wp pixels, padded by `pad`
 * on each side: a tap outside it reads the nearest pixel (a valid address) and takes 0. */
#define CHAN_TAP_ROWS ((R - 1) * S + K)
#define CHAN_TAP_COLS ((X - 1) * S + K)
kernel void conv_chan_fwd(global const float *xp, global const float *wq, global float *y,
                          int nimg, int c_in, int hp, int wp, int c_out, int ho, int wo,
                          int ytiles, int xtiles, int pad) {
    int gid = (int)get_global_id(0);
    int xt = gid % xtiles, t = gid / xtiles;
    int yt = t % ytiles;
    t /= ytiles;
    int groups = (c_out + VW * CB - 1) / (VW * CB);
    int cg = t % groups, n = t / groups;
    if (n >= nimg)
        return;
    int oy0 = yt * R, ox0 = xt * X;
    floatV acc[CB][R][X];
#pragma unroll
    for (int b = 0; b < CB; b++)
#pragma unroll
        for (int r = 0; r < R; r++)
#pragma unroll
            for (int x = 0; x < X; x++)
                acc[b][r][x] = (floatV)(0.0f);
#if BOUNDS
    /* the tile's tap rows and columns: offset into a plane, and whether inside the image */
    int roff[CHAN_TAP_ROWS], coff[CHAN_TAP_COLS];
    bool rok[CHAN_TAP_ROWS], cok[CHAN_TAP_COLS];
#pragma unroll
    for (int i = 0; i < CHAN_TAP_ROWS; i++)
        roff[i] = chan_tap(oy0 * S - pad + i, hp, &rok[i]) * wp;
#pragma unroll
    for (int j = 0; j < CHAN_TAP_COLS; j++)
        coff[j] = chan_tap(ox0 * S - pad + j, wp, &cok[j]);
    global const float *xb = xp + (size_t)n * c_in * hp * wp;
#else
    (void)pad;
    global const float *xb = xp + ((size_t)n * c_in * hp + oy0 * S) * wp + ox0 * S;
#endif
    size_t block = (size_t)c_in * K * K * VW; /* one block's packed weights */
    global const float *wb = wq + cg * CB * block;
    for (int ci = 0; ci < c_in; ci++) {
#pragma unroll
        for (int ky = 0; ky < K; ky++) {
#pragma unroll
            for (int kx = 0; kx < K; kx++) {
                floatV wv[CB];
#pragma unroll
                for (int b = 0; b < CB; b++)
                    wv[b] = vloadV(0, wb + b * block + (ky * K + kx) * VW);
#pragma unroll
                for (int r = 0; r < R; r++) {
#if !BOUNDS
                    global const float *xr = xb + (r * S + ky) * wp + kx;
#endif
#pragma unroll
                    for (int x = 0; x < X; x++) {
#if BOUNDS
                        float v = xb[roff[r * S + ky] + coff[x * S + kx]];
                        floatV xv = (floatV)(rok[r * S + ky] && cok[x * S + kx] ? v : 0.0f);
#else
                        floatV xv = (floatV)(xr[x * S]);
#endif
#pragma unroll
                        for (int b = 0; b < CB; b++)
                            acc[b][r][x] = fma(xv, wv[b], acc[b][r][x]);
                    }
                }
            }
        }
        xb += hp * wp;
        wb += K * K * VW;
    }
    size_t plane = (size_t)ho * wo;
#pragma unroll
    for (int b = 0; b < CB; b++) {
        int co0 = (cg * CB + b) * VW, lanes = min(VW, c_out - co0);
        global float *yb = y + ((size_t)n * c_out + co0) * plane;
#pragma unroll
        for (int r = 0; r < R; r++) {
            if (oy0 + r >= ho || lanes <= 0)
                break;
#pragma unroll
            for (int x = 0; x < X; x++) {
                if (ox0 + x >= wo)
                    break;
                CHAN_STORE_LANES(acc[b][r][x], yb + (oy0 + r) * wo + ox0 + x, plane, lanes);
            }
        }
    }
}

/* Weight gradient as a split reduction: a work item owns one slice of the n*ho output rows,
 * CB blocks of VW output channels and CIB input channels, and sums dy x input over its rows
 * into CB*CIB*K*K vectors: part[slice][co][ci*K*K + ky*K + kx]. Work item id =
 * (slice*groups + cg)*cgroups + ig, a group being CB blocks: neighbours share dy rows. */
kernel void conv_chan_dw(global const float *xp, global const float *db, global float *part,
                         int nimg, int c_in, int hp, int wp, int c_out, int ho, int wo,
                         int slices, int pad) {
    int gid = (int)get_global_id(0);
    int igroups = (c_in + CIB - 1) / CIB, blocks = (c_out + VW - 1) / VW;
    int groups = (blocks + CB - 1) / CB;
    int ig = gid % igroups, t = gid / igroups;
    int cg = t % groups, s = t / groups;
    if (s >= slices)
        return;
    int rows = nimg * ho;
    int r0 = (int)((long)rows * s / slices), r1 = (int)((long)rows * (s + 1) / slices);
    int ci0 = ig * CIB, cin = min(CIB, c_in - ci0);
    floatV acc[CB][CIB][K * K];
#pragma unroll
    for (int b = 0; b < CB; b++)
#pragma unroll
        for (int c = 0; c < CIB; c++)
#pragma unroll
            for (int j = 0; j < K * K; j++)
                acc[b][c][j] = (floatV)(0.0f);
    /* blocks past the last read the last one (a valid address); they are not stored */
    int bstep = cg * CB + 1 < blocks ? 1 : 0;
    size_t bsize = (size_t)ho * wo * VW;
    for (int row = r0; row < r1; row++) {
        int n = row / ho, oy = row % ho;
        global const float *dr = db + (((size_t)n * blocks + cg * CB) * ho + oy) * wo * VW;
        /* input channels past c_in read the last one (a valid address); they are not stored */
#if BOUNDS
        /* xp unpadded (hp x wp, padded by `pad`): a tap outside reads the nearest pixel, takes 0 */
        global const float *xr = xp + ((size_t)n * c_in + ci0) * hp * wp;
        int roff[K];
        bool rok[K];
#pragma unroll
        for (int ky = 0; ky < K; ky++)
            roff[ky] = chan_tap(oy * S - pad + ky, hp, &rok[ky]) * wp;
#else
        (void)pad;
        global const float *xr = xp + (((size_t)n * c_in + ci0) * hp + oy * S) * wp;
#endif
        for (int ox = 0; ox < wo; ox++) {
            floatV dv[CB];
#pragma unroll
            for (int b = 0; b < CB; b++)
                dv[b] = vloadV(0, dr + b * bstep * bsize + ox * VW);
#if BOUNDS
            int coff[K];
            bool cok[K];
#pragma unroll
            for (int kx = 0; kx < K; kx++)
                coff[kx] = chan_tap(ox * S - pad + kx, wp, &cok[kx]);
#endif
#pragma unroll
            for (int c = 0; c < CIB; c++) {
#if BOUNDS
                global const float *xc = xr + (size_t)min(c, cin - 1) * hp * wp;
#else
                global const float *xc = xr + (size_t)min(c, cin - 1) * hp * wp + ox * S;
#endif
#pragma unroll
                for (int ky = 0; ky < K; ky++)
#pragma unroll
                    for (int kx = 0; kx < K; kx++) {
#if BOUNDS
                        float v = xc[roff[ky] + coff[kx]];
                        floatV xv = (floatV)(rok[ky] && cok[kx] ? v : 0.0f);
#else
                        floatV xv = (floatV)(xc[ky * wp + kx]);
#endif
#pragma unroll
                        for (int b = 0; b < CB; b++)
                            acc[b][c][ky * K + kx] = fma(xv, dv[b], acc[b][c][ky * K + kx]);
                    }
            }
        }
    }
    int kk = c_in * K * K;
#pragma unroll
    for (int b = 0; b < CB; b++) {
        int co0 = (cg * CB + b) * VW, lanes = min(VW, c_out - co0);
        global float *ps = part + (size_t)s * c_out * kk + (size_t)co0 * kk + ci0 * K * K;
#pragma unroll
        for (int c = 0; c < CIB; c++) {
            if (c >= cin || lanes <= 0)
                break;
#pragma unroll
            for (int j = 0; j < K * K; j++)
                CHAN_STORE_LANES(acc[b][c][j], ps + c * K * K + j, kk, lanes);
        }
    }
}

/* Input gradient at stride 2, one parity class of dx per work item: the input pixels
 * (2j+py, 2i+px) all take the same taps, ky with py+P-ky even and kx with px+P-kx even, each
 * reading dy at (j + (py+P-ky)/2, i + (px+P-kx)/2). A tile is VW input channels x R rows j x
 * X columns i of one class; dp is dy padded at the bottom and the right so every tile reads
 * within it, wq the weights packed in blocks of input channels (not flipped). Work item id =
 * (((n*groups + cg)*4 + class)*jtiles + jt)*itiles + it, a group being CB blocks. */
static inline void dx2_class(int py, int px, global const float *dp, global const float *wq,
                             global float *dx, int n, int cg, int c_out, int hp, int wp,
                             int c_in, int h, int w, int j0, int i0) {
    floatV acc[CB][R][X];
#pragma unroll
    for (int b = 0; b < CB; b++)
#pragma unroll
        for (int r = 0; r < R; r++)
#pragma unroll
            for (int x = 0; x < X; x++)
                acc[b][r][x] = (floatV)(0.0f);
    global const float *db = dp + ((size_t)n * c_out * hp + j0) * wp + i0;
    size_t block = (size_t)c_out * K * K * VW;
    global const float *wb = wq + cg * CB * block;
    for (int co = 0; co < c_out; co++) {
#pragma unroll
        for (int ky = 0; ky < K; ky++) {
            if ((py + P - ky + 2 * K) % 2 != 0 || py + P - ky < 0)
                continue;
#pragma unroll
            for (int kx = 0; kx < K; kx++) {
                if ((px + P - kx + 2 * K) % 2 != 0 || px + P - kx < 0)
                    continue;
                floatV wv[CB];
#pragma unroll
                for (int b = 0; b < CB; b++)
                    wv[b] = vloadV(0, wb + b * block + (ky * K + kx) * VW);
#pragma unroll
                for (int r = 0; r < R; r++) {
                    global const float *dr = db + (r + (py + P - ky) / 2) * wp + (px + P - kx) / 2;
#pragma unroll
                    for (int x = 0; x < X; x++) {
                        floatV g = (floatV)(dr[x]);
#pragma unroll
                        for (int b = 0; b < CB; b++)
                            acc[b][r][x] = fma(g, wv[b], acc[b][r][x]);
                    }
                }
            }
        }
        db += hp * wp;
        wb += K * K * VW;
    }
    size_t plane = (size_t)h * w;
#pragma unroll
    for (int b = 0; b < CB; b++) {
        int ci0 = (cg * CB + b) * VW, lanes = min(VW, c_in - ci0);
        global float *xb = dx + ((size_t)n * c_in + ci0) * plane;
#pragma unroll
        for (int r = 0; r < R; r++) {
            int iy = 2 * (j0 + r) + py;
            if (iy >= h || lanes <= 0)
                break;
#pragma unroll
            for (int x = 0; x < X; x++) {
                int ix = 2 * (i0 + x) + px;
                if (ix >= w)
                    break;
                CHAN_STORE_LANES(acc[b][r][x], xb + iy * w + ix, plane, lanes);
            }
        }
    }
}

kernel void conv_chan_dx2(global const float *dp, global const float *wq, global float *dx,
                          int nimg, int c_out, int hp, int wp, int c_in, int h, int w, int jtiles,
                          int itiles) {
    int gid = (int)get_global_id(0);
    int it = gid % itiles, t = gid / itiles;
    int jt = t % jtiles;
    t /= jtiles;
    int cls = t % 4;
    t /= 4;
    int groups = (c_in + VW * CB - 1) / (VW * CB);
    int cg = t % groups, n = t / groups;
    if (n >= nimg)
        return;
    int j0 = jt * R, i0 = it * X;
    switch (cls) { /* each class its own unrolled taps */
    case 0: dx2_class(0, 0, dp, wq, dx, n, cg, c_out, hp, wp, c_in, h, w, j0, i0); break;
    case 1: dx2_class(0, 1, dp, wq, dx, n, cg, c_out, hp, wp, c_in, h, w, j0, i0); break;
    case 2: dx2_class(1, 0, dp, wq, dx, n, cg, c_out, hp, wp, c_in, h, w, j0, i0); break;
    default: dx2_class(1, 1, dp, wq, dx, n, cg, c_out, hp, wp, c_in, h, w, j0, i0); break;
    }
}
