/* Pixel-vector direct convolution (src/ops/conv2d_direct.c, docs/convolution.md): a vector's
 * lanes are VW neighbouring pixels of one row, one work item per register tile, no local
 * memory and no barriers.
 *
 * Why this shape: on CPU devices (PoCL) a work item is plain C code and a barrier turns the
 * rest of a kernel into a loop over work items with every live value spilled to memory. So
 * each work item keeps a whole tile of outputs in vector registers and streams its inputs
 * with vector loads and explicit fma; work is split into many more work items than compute
 * units. Zero padding is done beforehand (conv_pad), so the inner loops have no bounds tests.
 * It suits layers with few channels and wide rows; the channel-vector family
 * (conv2d_chan.cl) suits the rest.
 *
 * Build options (the family's declaration, src/ops/conv2d_family.c, gives their values):
 *   VW      lanes per vector: 4, 8 or 16
 *   K, P, S kernel size, padding and stride
 *   COB     output channels per tile of conv_direct_fwd (input channels per tile of
 *           conv_direct_dx: COB/S)
 *   PXV     pixel vectors per tile row (conv_direct_fwd, conv_direct_dx)
 *   DCOB    output channels and DTB weight taps per register tile of conv_direct_dw (and, at
 *           run time, `group` such blocks per work item)
 *
 * Layouts (element offsets; the host sizes every buffer, see conv2d_direct.c):
 *   xp  padded input   [n][c_in][hp][wp], x at (P, P), zero elsewhere; at stride 2 each
 *       row holds its even columns, then its odd ones (xcol)
 *   wf  conv_direct_fwd weight [ceil(c_out/COB)][c_in][K][K][COB]   (zero past c_out)
 *   dyq padded output gradient [n][c_out][ho][wq], dy at column qx, zero elsewhere (dx;
 *       dw reads its rows from column qx as wov = wo rounded up to VW values)
 *   wx  conv_direct_dx weight  [ceil(c_in/CB)][c_out][K][K][CB], CB = COB/S (zero past c_in)
 *   part weight-gradient partial sums [slices][c_out][c_in*K*K]
 * Indices are int: the host refuses (falls back to im2col) when a buffer has 2^31 elements. */

#define DIRECT_CAT2(a, b) a##b
#define DIRECT_CAT(a, b) DIRECT_CAT2(a, b)
#define floatV DIRECT_CAT(float, VW)
#define vloadV DIRECT_CAT(vload, VW)
#define vstoreV DIRECT_CAT(vstore, VW)

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
#ifndef COB
#define COB 8
#endif
#ifndef PXV
#define PXV 1
#endif
#ifndef DCOB
#define DCOB 2
#endif
#ifndef DTB
#define DTB 6
#endif
#if COB % S != 0
#error "COB must be a multiple of the stride (conv_direct_dx uses COB/S channels)"
#endif

/* Where padded input column c of a row lies: at stride 1 in place; at stride 2 the row is
 * stored as its even columns, then its odd ones (from odd_at = half the row), so the VW
 * columns a tap reads at stride 2 (c, c+2, ...) are VW consecutive floats. */
static inline int xcol(int c, int odd_at) {
    return S == 1 ? c : (c & 1) * odd_at + (c >> 1);
}

/* A row vector to dst: a whole vector with vstore, the ragged end by lane. */
static inline void store_row(floatV v, global float *dst, int count) {
    if (count >= VW) {
        vstoreV(v, 0, dst);
        return;
    }
    float t[VW];
    vstoreV(v, 0, t);
    for (int l = 0; l < count; l++)
        dst[l] = t[l];
}

/* The sum of a vector's lanes, pairwise (lane l + lane l + VW/2, and so on down), from single
 * lanes: oclgrind 21.10 takes the halves of a float16 (.lo/.hi) for uninitialised. */
static inline float hsum(floatV v) {
#if VW == 16
    float8 a = (float8)(v.s0 + v.s8, v.s1 + v.s9, v.s2 + v.sa, v.s3 + v.sb, v.s4 + v.sc, v.s5 + v.sd,
                        v.s6 + v.se, v.s7 + v.sf);
#elif VW == 8
    float8 a = v;
#endif
#if VW >= 8
    float4 b = (float4)(a.s0 + a.s4, a.s1 + a.s5, a.s2 + a.s6, a.s3 + a.s7);
#else
    float4 b = v;
#endif
    return (b.s0 + b.s2) + (b.s1 + b.s3);
}

/* Forward: a tile is COB output channels x PXV*VW pixels of one output row. Work item id =
 * ((n*blocks + cb)*ho + oy)*xtiles + xt: neighbours share the weight block and input rows. */
kernel void conv_direct_fwd(global const float *xp, global const float *wf, global float *y,
                            int nimg, int c_in, int hp, int wp, int c_out, int ho, int wo,
                            int xtiles) {
    int gid = (int)get_global_id(0);
    int xt = gid % xtiles, t = gid / xtiles;
    int oy = t % ho;
    t /= ho;
    int blocks = (c_out + COB - 1) / COB;
    int cb = t % blocks, n = t / blocks;
    if (n >= nimg)
        return;
    int ox0 = xt * PXV * VW;
    floatV acc[COB][PXV];
#pragma unroll
    for (int c = 0; c < COB; c++)
#pragma unroll
        for (int v = 0; v < PXV; v++)
            acc[c][v] = (floatV)(0.0f);
    global const float *xrow = xp + ((size_t)n * c_in * hp + oy * S) * wp + ox0;
    global const float *wb = wf + (size_t)cb * c_in * K * K * COB;
    for (int ci = 0; ci < c_in; ci++) {
#pragma unroll
        for (int ky = 0; ky < K; ky++) {
            global const float *xr = xrow + ((size_t)ci * hp + ky) * wp;
#pragma unroll
            for (int kx = 0; kx < K; kx++) {
                floatV xv[PXV];
#pragma unroll
                for (int v = 0; v < PXV; v++)
                    xv[v] = vloadV(0, xr + xcol(kx, wp / 2) + v * VW);
#pragma unroll
                for (int c = 0; c < COB; c++) {
                    floatV wv = (floatV)(wb[c]);
#pragma unroll
                    for (int v = 0; v < PXV; v++)
                        acc[c][v] = fma(wv, xv[v], acc[c][v]);
                }
                wb += COB;
            }
        }
    }
#pragma unroll
    for (int c = 0; c < COB; c++) {
        int co = cb * COB + c;
        if (co >= c_out)
            break;
        global float *yr = y + (((size_t)n * c_out + co) * ho + oy) * wo;
#pragma unroll
        for (int v = 0; v < PXV; v++)
            if (ox0 + v * VW < wo)
                store_row(acc[c][v], yr + ox0 + v * VW, wo - ox0 - v * VW);
    }
}

/* Input gradient, the adjoint of the forward: a tile is COB/S input channels x one dx row x
 * PXV*VW*S pixels. At stride 2 the pixels of a vector are one parity (phase b), so every
 * tap that reaches them reads VW consecutive dy values; the two phases are interleaved on
 * store. */
kernel void conv_direct_dx(global const float *dyq, global const float *wx, global float *dx,
                           int nimg, int c_out, int ho, int wq, int qx, int c_in, int h, int w,
                           int xtiles) {
    const int cbw = COB / S;
    int gid = (int)get_global_id(0);
    int xt = gid % xtiles, t = gid / xtiles;
    int iy = t % h;
    t /= h;
    int blocks = (c_in + cbw - 1) / cbw;
    int cb = t % blocks, n = t / blocks;
    if (n >= nimg)
        return;
    int ix0 = xt * PXV * VW * S;
    floatV acc[COB / S][PXV][S];
#pragma unroll
    for (int c = 0; c < cbw; c++)
#pragma unroll
        for (int v = 0; v < PXV; v++)
#pragma unroll
            for (int b = 0; b < S; b++)
                acc[c][v][b] = (floatV)(0.0f);
    global const float *wb = wx + (size_t)cb * c_out * K * K * cbw;
    for (int co = 0; co < c_out; co++) {
        global const float *dyimg = dyq + ((size_t)n * c_out + co) * ho * wq + qx + ix0 / S;
#pragma unroll
        for (int ky = 0; ky < K; ky++) {
            int ty = iy + P - ky; /* = oy * S */
            if (ty < 0 || ty % S != 0 || ty / S >= ho)
                continue;
            global const float *row = dyimg + (ty / S) * wq;
#pragma unroll
            for (int kx = 0; kx < K; kx++) {
                global const float *wt = wb + (ky * K + kx) * cbw;
#pragma unroll
                for (int b = 0; b < S; b++) {
                    if ((b + P - kx + S * K) % S != 0)
                        continue; /* this tap never reaches phase b */
                    int off = (b + P - kx) / S;
#pragma unroll
                    for (int v = 0; v < PXV; v++) {
                        floatV g = vloadV(0, row + off + v * VW);
#pragma unroll
                        for (int c = 0; c < cbw; c++)
                            acc[c][v][b] = fma((floatV)(wt[c]), g, acc[c][v][b]);
                    }
                }
            }
        }
        wb += K * K * cbw;
    }
#pragma unroll
    for (int c = 0; c < cbw; c++) {
        int ci = cb * cbw + c;
        if (ci >= c_in)
            break;
        global float *dr = dx + (((size_t)n * c_in + ci) * h + iy) * w;
#pragma unroll
        for (int v = 0; v < PXV; v++) {
            int x0 = ix0 + v * VW * S;
            if (x0 >= w)
                break;
#if S == 1
            store_row(acc[c][v][0], dr + x0, w - x0);
#else
            float te[VW], to[VW]; /* even and odd columns, interleaved */
            vstoreV(acc[c][v][0], 0, te);
            vstoreV(acc[c][v][S - 1], 0, to);
            for (int l = 0; l < VW && x0 + 2 * l < w; l++) {
                dr[x0 + 2 * l] = te[l];
                if (x0 + 2 * l + 1 < w)
                    dr[x0 + 2 * l + 1] = to[l];
            }
#endif
        }
    }
}

/* Weight gradient as a split reduction, blocked for the cache. A work item owns one slice of
 * the n*ho output rows and a group of `group` blocks of DCOB output channels, and writes their
 * partial sums over its slice to part[slice] (conv_dw_reduce adds the slices). It walks its
 * slice in chunks of up to DW_CHUNK rows; for each chunk, every register tile (DCOB output
 * channels x DTB consecutive weight taps k = (ci*K + ky)*K + kx) streams the chunk's rows
 * and adds its vector sums to part: the chunk's inputs are read from the cache by every tile
 * of the group instead of from memory. Lanes past wo read zeros in dyq. */
#define DW_CHUNK 64
kernel void conv_direct_dw(global const float *xp, global const float *dyq, global float *part,
                           int nimg, int c_in, int hp, int wp, int c_out, int ho, int wq, int qx,
                           int wov, int slices, int group, int chunk) {
    int gid = (int)get_global_id(0);
    int kk = c_in * K * K;
    int ktiles = (kk + DTB - 1) / DTB, blocks = (c_out + DCOB - 1) / DCOB;
    int groups = (blocks + group - 1) / group;
    int cg = gid % groups, s = gid / groups;
    if (s >= slices)
        return;
    int rows = nimg * ho;
    int r0 = (int)((long)rows * s / slices), r1 = (int)((long)rows * (s + 1) / slices);
    int cb0 = cg * group, cb1 = min(cb0 + group, blocks);
    global float *ps = part + (size_t)s * c_out * kk;
    for (int co = cb0 * DCOB; co < min(cb1 * DCOB, c_out); co++)
        for (int k = 0; k < kk; k++)
            ps[(size_t)co * kk + k] = 0.0f;
    int xoff[DW_CHUNK], doff[DW_CHUNK];
    for (int rc = r0; rc < r1; rc += chunk) {
        int nr = min(chunk, r1 - rc);
        for (int i = 0; i < nr; i++) {
            int n = (rc + i) / ho, oy = (rc + i) % ho;
            xoff[i] = (n * c_in * hp + oy * S) * wp;
            doff[i] = (n * c_out * ho + oy) * wq + qx;
        }
        for (int cb = cb0; cb < cb1; cb++) {
            int coff[DCOB];
#pragma unroll
            for (int c = 0; c < DCOB; c++)
                coff[c] = min(cb * DCOB + c, c_out - 1) * ho * wq;
            for (int kt = 0; kt < ktiles; kt++) {
                int off[DTB];
#pragma unroll
                for (int j = 0; j < DTB; j++) {
                    int k = min(kt * DTB + j, kk - 1); /* past the end: a valid tap, not stored */
                    int kx = k % K, ky = (k / K) % K, ci = k / (K * K);
                    off[j] = (ci * hp + ky) * wp + xcol(kx, wp / 2);
                }
                floatV acc[DCOB][DTB];
#pragma unroll
                for (int c = 0; c < DCOB; c++)
#pragma unroll
                    for (int j = 0; j < DTB; j++)
                        acc[c][j] = (floatV)(0.0f);
                for (int i = 0; i < nr; i++) {
                    global const float *xb = xp + xoff[i], *db = dyq + doff[i];
                    for (int x0 = 0; x0 < wov; x0 += VW) {
                        floatV a[DCOB];
#pragma unroll
                        for (int c = 0; c < DCOB; c++)
                            a[c] = vloadV(0, db + coff[c] + x0);
#pragma unroll
                        for (int j = 0; j < DTB; j++) {
                            floatV b = vloadV(0, xb + off[j] + x0);
#pragma unroll
                            for (int c = 0; c < DCOB; c++)
                                acc[c][j] = fma(a[c], b, acc[c][j]);
                        }
                    }
                }
#pragma unroll
                for (int c = 0; c < DCOB; c++) {
                    int co = cb * DCOB + c;
                    if (co >= c_out)
                        break;
#pragma unroll
                    for (int j = 0; j < DTB; j++)
                        if (kt * DTB + j < kk)
                            ps[(size_t)co * kk + kt * DTB + j] += hsum(acc[c][j]);
                }
            }
        }
    }
}
