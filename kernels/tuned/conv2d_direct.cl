/* Direct convolution: no im2col buffer, one work item per register tile, no local memory
 * and no barriers (src/ops/conv2d_direct.c, docs/convolution.md).
 *
 * Why this shape: on CPU devices (PoCL) a work item is plain C code and a barrier turns the
 * rest of a kernel into a loop over work items with every live value spilled to memory. So
 * each work item keeps a whole tile of outputs in float8 registers and streams its inputs
 * with vector loads and explicit fma; work is split into many more work items than compute
 * units. Zero padding is done beforehand (conv_pad), so the inner loops have no bounds tests.
 *
 * Tile sizes are compile-time options, chosen per device by measurement:
 *   COB  output channels per tile of conv_fwd (input channels per tile of conv_dx: COB/stride)
 *   PXV  float8 pixel vectors per tile row (conv_fwd, conv_dx)
 *   DCOB output channels and DTB weight taps per register tile of conv_dw (and, at run time,
 *        `group` such blocks per work item)
 * Geometries (kernel size, padding, stride) are instantiated at the end of this file as
 * conv_*_k{K}p{P}s{S}: the body functions take them as arguments, which become constants
 * once inlined, so every tap loop is unrolled.
 *
 * Layouts (element offsets; the host sizes every buffer, see conv2d_direct.c):
 *   xp  padded input   [n][c_in][hp][wp], x at (pad, pad), zero elsewhere; at stride 2 each
 *       row holds its even columns, then its odd ones (xcol)
 *   wf  conv_fwd weight [ceil(c_out/COB)][c_in][k][k][COB]   (zero past c_out)
 *   dyq padded output gradient [n][c_out][ho][wq], dy at column qx, zero elsewhere (conv_dx;
 *       conv_dw reads its rows from column qx as wov = wo rounded up to 8 values)
 *   wx  conv_dx weight  [ceil(c_in/CB)][c_out][k][k][CB], CB = COB/stride (zero past c_in)
 *   part conv_dw partial sums [slices][c_out][c_in*k*k]
 * Indices are int: the host refuses (falls back to im2col) when a buffer has 2^31 elements. */

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
#if COB % 2 != 0
#error "COB must be even (conv_dx uses COB/2 channels at stride 2)"
#endif

/* Where padded input column c of a row lies: at stride 1 in place; at stride 2 the row is
 * stored as its even columns, then its odd ones (from odd_at = half the row), so the 8 columns a tap
 * reads at stride 2 (c, c+2, ..., c+14) are 8 consecutive floats. */
static inline int xcol(int c, int stride, int odd_at) {
    return stride == 1 ? c : (c & 1) * odd_at + (c >> 1);
}

/* y row vector from a float8 accumulator: whole vectors with vstore8, the ragged end by lane. */
static inline void store_row8(float8 v, global float *dst, int count) {
    if (count >= 8) {
        vstore8(v, 0, dst);
        return;
    }
    float t[8];
    vstore8(v, 0, t);
    for (int l = 0; l < count; l++)
        dst[l] = t[l];
}

/* dst[plane][y][x] = src[src_off + (plane*h + y - top)*w + x - left], zero outside src; with
 * split, each row is stored as its even columns, then its odd ones (xcol at stride 2; wp even).
 * One work item per destination row. */
kernel void conv_pad(global const float *src, int src_off, global float *dst, int planes, int h,
                     int w, int hp, int wp, int top, int left, int split) {
    int gid = (int)get_global_id(0);
    if (gid >= planes * hp)
        return;
    int y = gid % hp, plane = gid / hp;
    global float *d = dst + (size_t)gid * wp;
    int sy = y - top;
    if (sy < 0 || sy >= h) {
        for (int x = 0; x < wp; x++)
            d[x] = 0.0f;
        return;
    }
    global const float *s = src + src_off + ((size_t)plane * h + sy) * w;
    if (split) { /* even columns to the first half, odd ones to the second */
        int half_wp = wp / 2;
        for (int p = 0; p < 2; p++)
            for (int j = 0; j < half_wp; j++) {
                int x = 2 * j + p - left;
                d[p * half_wp + j] = x >= 0 && x < w ? s[x] : 0.0f;
            }
        return;
    }
    for (int x = 0; x < left; x++)
        d[x] = 0.0f;
    for (int x = 0; x < w; x++)
        d[left + x] = s[x];
    for (int x = left + w; x < wp; x++)
        d[x] = 0.0f;
}

/* wf[((cb*c_in + ci)*kk + t)*COB + c] = w[cb*COB + c][ci][t]. One item per wf element. */
kernel void conv_pack_fwd(global const float *w, global float *wf, int c_out, int c_in, int kk) {
    int gid = (int)get_global_id(0);
    int blocks = (c_out + COB - 1) / COB;
    if (gid >= blocks * c_in * kk * COB)
        return;
    int c = gid % COB, r = gid / COB;
    int t = r % kk, ci = (r / kk) % c_in, cb = r / (kk * c_in);
    int co = cb * COB + c;
    wf[gid] = co < c_out ? w[(co * c_in + ci) * kk + t] : 0.0f;
}

/* wx[((cb*c_out + co)*kk + t)*cbw + c] = w[co][cb*cbw + c][t], cbw = COB/stride. */
kernel void conv_pack_dx(global const float *w, global float *wx, int c_out, int c_in, int kk,
                         int cbw) {
    int gid = (int)get_global_id(0);
    int blocks = (c_in + cbw - 1) / cbw;
    if (gid >= blocks * c_out * kk * cbw)
        return;
    int c = gid % cbw, r = gid / cbw;
    int t = r % kk, co = (r / kk) % c_out, cb = r / (kk * c_out);
    int ci = cb * cbw + c;
    wx[gid] = ci < c_in ? w[(co * c_in + ci) * kk + t] : 0.0f;
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

/* Forward: a tile is COB output channels x PXV*8 pixels of one output row. Work item id =
 * ((n*blocks + cb)*ho + oy)*xtiles + xt: neighbours share the weight block and input rows. */
static inline void fwd_body(int ks, int stride, global const float *xp, global const float *wf, global float *y,
              int nimg, int c_in, int hp, int wp, int c_out, int ho, int wo, int xtiles) {
    int gid = (int)get_global_id(0);
    int xt = gid % xtiles, t = gid / xtiles;
    int oy = t % ho;
    t /= ho;
    int blocks = (c_out + COB - 1) / COB;
    int cb = t % blocks, n = t / blocks;
    if (n >= nimg)
        return;
    int ox0 = xt * PXV * 8;
    float8 acc[COB][PXV];
#pragma unroll
    for (int c = 0; c < COB; c++)
#pragma unroll
        for (int v = 0; v < PXV; v++)
            acc[c][v] = (float8)(0.0f);
    global const float *xrow = xp + ((size_t)n * c_in * hp + oy * stride) * wp + ox0;
    global const float *wb = wf + (size_t)cb * c_in * ks * ks * COB;
    for (int ci = 0; ci < c_in; ci++) {
#pragma unroll
        for (int ky = 0; ky < ks; ky++) {
            global const float *xr = xrow + ((size_t)ci * hp + ky) * wp;
#pragma unroll
            for (int kx = 0; kx < ks; kx++) {
                float8 xv[PXV];
#pragma unroll
                for (int v = 0; v < PXV; v++)
                    xv[v] = vload8(0, xr + xcol(kx, stride, wp / 2) + v * 8);
#pragma unroll
                for (int c = 0; c < COB; c++) {
                    float8 wv = (float8)(wb[c]);
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
            if (ox0 + v * 8 < wo)
                store_row8(acc[c][v], yr + ox0 + v * 8, wo - ox0 - v * 8);
    }
}

/* Input gradient, the adjoint of fwd_body: a tile is COB/stride input channels x one dx row x
 * PXV*8*stride pixels. At stride 2 the pixels of a vector are one parity (phase b), so every
 * tap that reaches them reads 8 consecutive dy values; the two phases are interleaved on store. */
static inline void dx_body(int ks, int pad, int stride, global const float *dyq, global const float *wx,
             global float *dx, int nimg, int c_out, int ho, int wq, int qx, int c_in, int h, int w,
             int xtiles) {
    const int cbw = COB / stride;
    int gid = (int)get_global_id(0);
    int xt = gid % xtiles, t = gid / xtiles;
    int iy = t % h;
    t /= h;
    int blocks = (c_in + cbw - 1) / cbw;
    int cb = t % blocks, n = t / blocks;
    if (n >= nimg)
        return;
    int ix0 = xt * PXV * 8 * stride;
    float8 acc[COB][PXV][2];
#pragma unroll
    for (int c = 0; c < COB; c++)
#pragma unroll
        for (int v = 0; v < PXV; v++)
#pragma unroll
            for (int b = 0; b < 2; b++)
                acc[c][v][b] = (float8)(0.0f);
    global const float *wb = wx + (size_t)cb * c_out * ks * ks * cbw;
    for (int co = 0; co < c_out; co++) {
        global const float *dyimg = dyq + ((size_t)n * c_out + co) * ho * wq + qx + ix0 / stride;
#pragma unroll
        for (int ky = 0; ky < ks; ky++) {
            int ty = iy + pad - ky; /* = oy * stride */
            if (ty < 0 || ty % stride != 0 || ty / stride >= ho)
                continue;
            global const float *row = dyimg + (ty / stride) * wq;
#pragma unroll
            for (int kx = 0; kx < ks; kx++) {
                global const float *wt = wb + (ky * ks + kx) * cbw;
#pragma unroll
                for (int b = 0; b < stride; b++) {
                    if ((b + pad - kx + stride * ks) % stride != 0)
                        continue; /* this tap never reaches phase b */
                    int off = (b + pad - kx) / stride;
#pragma unroll
                    for (int v = 0; v < PXV; v++) {
                        float8 g = vload8(0, row + off + v * 8);
#pragma unroll
                        for (int c = 0; c < cbw; c++)
                            acc[c][v][b] = fma((float8)(wt[c]), g, acc[c][v][b]);
                    }
                }
            }
        }
        wb += ks * ks * cbw;
    }
#pragma unroll
    for (int c = 0; c < cbw; c++) {
        int ci = cb * cbw + c;
        if (ci >= c_in)
            break;
        global float *dr = dx + (((size_t)n * c_in + ci) * h + iy) * w;
#pragma unroll
        for (int v = 0; v < PXV; v++) {
            int x0 = ix0 + v * 8 * stride;
            if (x0 >= w)
                break;
            if (stride == 1) {
                store_row8(acc[c][v][0], dr + x0, w - x0);
            } else {
                float8 e = acc[c][v][0], o = acc[c][v][1]; /* even and odd columns */
                store_row8((float8)(e.s0, o.s0, e.s1, o.s1, e.s2, o.s2, e.s3, o.s3), dr + x0, w - x0);
                if (x0 + 8 < w)
                    store_row8((float8)(e.s4, o.s4, e.s5, o.s5, e.s6, o.s6, e.s7, o.s7), dr + x0 + 8,
                               w - x0 - 8);
            }
        }
    }
}

/* Weight gradient as a split reduction, blocked for the cache. A work item owns one slice of
 * the n*ho output rows and a group of `group` blocks of DCOB output channels, and writes their
 * partial sums over its slice to part[slice] (conv_dw_reduce adds the slices). It walks its
 * slice in chunks of up to DW_CHUNK rows; for each chunk, every register tile (DCOB output
 * channels x DTB consecutive weight taps k = (ci*ks + ky)*ks + kx) streams the chunk's rows
 * and adds its float8 sums to part: the chunk's inputs are read from the cache by every tile
 * of the group instead of from memory. Lanes past wo read zeros in dyq. */
#define DW_CHUNK 64
static inline void dw_body(int ks, int stride, global const float *xp, global const float *dyq,
                           global float *part, int nimg, int c_in, int hp, int wp, int c_out, int ho,
                           int wq, int qx, int wov, int slices, int group, int chunk) {
    int gid = (int)get_global_id(0);
    int kk = c_in * ks * ks;
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
            xoff[i] = (n * c_in * hp + oy * stride) * wp;
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
                    int kx = k % ks, ky = (k / ks) % ks, ci = k / (ks * ks);
                    off[j] = (ci * hp + ky) * wp + xcol(kx, stride, wp / 2);
                }
                float8 acc[DCOB][DTB];
#pragma unroll
                for (int c = 0; c < DCOB; c++)
#pragma unroll
                    for (int j = 0; j < DTB; j++)
                        acc[c][j] = (float8)(0.0f);
                for (int i = 0; i < nr; i++) {
                    global const float *xb = xp + xoff[i], *db = dyq + doff[i];
                    for (int x0 = 0; x0 < wov; x0 += 8) {
                        float8 a[DCOB];
#pragma unroll
                        for (int c = 0; c < DCOB; c++)
                            a[c] = vload8(0, db + coff[c] + x0);
#pragma unroll
                        for (int j = 0; j < DTB; j++) {
                            float8 b = vload8(0, xb + off[j] + x0);
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
                    for (int j = 0; j < DTB; j++) {
                        float4 q = acc[c][j].lo + acc[c][j].hi;
                        float2 q2 = q.lo + q.hi;
                        if (kt * DTB + j < kk)
                            ps[(size_t)co * kk + kt * DTB + j] += q2.x + q2.y;
                    }
                }
            }
        }
    }
}

/* One set of kernels per supported geometry: kernel size K, padding P, stride S. */
#define CONV_DIRECT_GEOMETRY(K, P, S)                                                          \
    kernel void conv_fwd_k##K##p##P##s##S(global const float *xp, global const float *wf,      \
                                          global float *y, int nimg, int c_in, int hp, int wp, \
                                          int c_out, int ho, int wo, int xtiles) {             \
        fwd_body(K, S, xp, wf, y, nimg, c_in, hp, wp, c_out, ho, wo, xtiles);                  \
    }                                                                                          \
    kernel void conv_dx_k##K##p##P##s##S(global const float *dyq, global const float *wx,      \
                                         global float *dx, int nimg, int c_out, int ho, int wq, \
                                         int qx, int c_in, int h, int w, int xtiles) {         \
        dx_body(K, P, S, dyq, wx, dx, nimg, c_out, ho, wq, qx, c_in, h, w, xtiles);            \
    }                                                                                          \
    kernel void conv_dw_k##K##p##P##s##S(global const float *xp, global const float *dyq,      \
                                         global float *part, int nimg, int c_in, int hp,       \
                                         int wp, int c_out, int ho, int wq, int qx, int wov,   \
                                         int slices, int group, int chunk) {                   \
        dw_body(K, S, xp, dyq, part, nimg, c_in, hp, wp, c_out, ho, wq, qx, wov, slices,       \
                group, chunk);                                                                 \
    }

CONV_DIRECT_GEOMETRY(3, 1, 1)
CONV_DIRECT_GEOMETRY(3, 1, 2)
CONV_DIRECT_GEOMETRY(1, 0, 1)
CONV_DIRECT_GEOMETRY(1, 0, 2)
