/* Implicit-GEMM convolution for GPUs (src/ops/conv2d_local.c, docs/convolution.md): each pass
 * is a matrix product C[M][N] = A[M][KD] B[KD][N] whose operands are gathered from the
 * tensors on the fly (no im2col buffer). A work-group computes a TSM x TSN tile of C; for
 * each chunk of TSK along the reduction its work items stage the A and B tiles in local
 * memory, wait at a barrier, and each accumulates WPTM x WPTN outputs in registers. This is
 * the design that brings dlprimitives to about half of cuDNN. On CPU devices a barrier
 * splits a kernel into loops with the live values spilled, so the family is for the GPU
 * kernel class only.
 *
 *   forward   M = c_out, N = n*ho*wo, KD = c_in*K*K: A = w, B[k][j] = x at the tap
 *   dx        M = c_in,  N = n*h*w,  KD = c_out*K*K: A[ci][co*KK + t] = w[co][ci][t],
 *             B[k][j] = dy at the output pixel the tap came from (zero where none)
 *   dw        M = c_out, N = c_in*K*K, KD = n*ho*wo, split into `slices` ranges of KD:
 *             A[co][j] = dy, B[j][k] = x at the tap; part[slice][co][ci*KK + t]
 *
 * Build options: TSM, TSN, TSK (the tiles), WPTM, WPTN (outputs per work item); the
 * work-group is (TSM/WPTM) x (TSN/WPTN) work items, the local memory (TSM + TSN) x TSK
 * floats. K, P, S: the geometry (any). */

#ifndef TSM
#define TSM 64
#endif
#ifndef TSN
#define TSN 64
#endif
#ifndef TSK
#define TSK 16
#endif
#ifndef WPTM
#define WPTM 4
#endif
#ifndef WPTN
#define WPTN 4
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
#define RTSM (TSM / WPTM)
#define RTSN (TSN / WPTN)
#define THREADS (RTSM * RTSN)
#define KK (K * K)

/* The shape every gather reads. */
typedef struct {
    int n, c_in, h, w, c_out, ho, wo;
} shape;

/* x at tap t = (ky, kx) of output pixel j = (n, oy, ox) of input channel ci; zero in the
 * padding. */
static inline float x_at(global const float *x, shape s, int ci, int t, int j) {
    int ox = j % s.wo, oy = (j / s.wo) % s.ho, n = j / (s.wo * s.ho);
    int iy = oy * S + t / K - P, ix = ox * S + t % K - P;
    return iy >= 0 && iy < s.h && ix >= 0 && ix < s.w
               ? x[(((size_t)n * s.c_in + ci) * s.h + iy) * s.w + ix]
               : 0.0f;
}

/* dy at the output pixel whose tap t reaches input pixel j = (n, iy, ix) of channel co; zero
 * when no output pixel's tap t lands there. */
static inline float dy_at(global const float *dy, shape s, int co, int t, int j) {
    int ix = j % s.w, iy = (j / s.w) % s.h, n = j / (s.w * s.h);
    int ty = iy + P - t / K, tx = ix + P - t % K;
    if (ty < 0 || tx < 0 || ty % S || tx % S || ty / S >= s.ho || tx / S >= s.wo)
        return 0.0f;
    return dy[(((size_t)n * s.c_out + co) * s.ho + ty / S) * s.wo + tx / S];
}

/* The operands' element (row, col) of each pass; rows or columns past the matrix read zero. */
static inline float a_elem(int pass, global const float *a, shape s, int m, int k, int kd, int mm) {
    if (m >= mm || k >= kd)
        return 0.0f;
    if (pass == 0) /* w[co][ci*KK + t] */
        return a[(size_t)m * kd + k];
    if (pass == 1) /* w[co][ci][t] with m = ci, k = co*KK + t */
        return a[((size_t)(k / KK) * s.c_in + m) * KK + k % KK];
    /* dw: dy[n][co][oy][ox] with m = co, k = (n, oy, ox) */
    int plane = s.ho * s.wo;
    return a[((size_t)(k / plane) * s.c_out + m) * plane + k % plane];
}

static inline float b_elem(int pass, global const float *b, shape s, int k, int j, int kd, int nn) {
    if (k >= kd || j >= nn)
        return 0.0f;
    if (pass == 0)
        return x_at(b, s, k / KK, k % KK, j);
    if (pass == 1)
        return dy_at(b, s, k / KK, k % KK, j);
    return x_at(b, s, j / KK, j % KK, k); /* dw: k = output pixel, j = ci*KK + t */
}

/* C[m0.., n0..] += A[m0..][k0..k1) B[k0..k1)[n0..] over the work-group's tile; every work
 * item reaches every barrier (no early return). */
static inline void tile_product(int pass, global const float *a, global const float *b, shape s,
                                int mm, int nn, int kd, int k0, int k1, int m0, int n0,
                                local float *as, local float *bs, float acc[WPTM][WPTN]) {
    int tid = (int)get_local_id(0);
    int tm = tid % RTSM, tn = tid / RTSM;
    for (int kc = k0; kc < k1; kc += TSK) {
        for (int e = tid; e < TSM * TSK; e += THREADS) { /* as[kk][mm]: row kk of the chunk */
            int r = e % TSM, c = e / TSM;
            as[c * TSM + r] = kc + c < k1 ? a_elem(pass, a, s, m0 + r, kc + c, kd, mm) : 0.0f;
        }
        for (int e = tid; e < TSN * TSK; e += THREADS) {
            int r = e % TSN, c = e / TSN;
            bs[c * TSN + r] = kc + c < k1 ? b_elem(pass, b, s, kc + c, n0 + r, kd, nn) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int c = 0; c < TSK; c++) {
            float av[WPTM], bv[WPTN];
#pragma unroll
            for (int i = 0; i < WPTM; i++)
                av[i] = as[c * TSM + tm + i * RTSM];
#pragma unroll
            for (int j = 0; j < WPTN; j++)
                bv[j] = bs[c * TSN + tn + j * RTSN];
#pragma unroll
            for (int i = 0; i < WPTM; i++)
#pragma unroll
                for (int j = 0; j < WPTN; j++)
                    acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

/* The forward (pass 0) and the input gradient (pass 1): one TSM x TSN tile of the output. */
static inline void forward_like(int pass, global const float *a, global const float *b, global float *c,
                                shape s, int mm, int nn, int kd, int plane, local float *as,
                                local float *bs) {
    int g = (int)get_group_id(0);
    int m0 = (g % ((mm + TSM - 1) / TSM)) * TSM, n0 = (g / ((mm + TSM - 1) / TSM)) * TSN;
    float acc[WPTM][WPTN];
#pragma unroll
    for (int i = 0; i < WPTM; i++)
#pragma unroll
        for (int j = 0; j < WPTN; j++)
            acc[i][j] = 0.0f;
    tile_product(pass, a, b, s, mm, nn, kd, 0, kd, m0, n0, as, bs, acc);
    int tid = (int)get_local_id(0), tm = tid % RTSM, tn = tid / RTSM;
#pragma unroll
    for (int i = 0; i < WPTM; i++)
#pragma unroll
        for (int j = 0; j < WPTN; j++) {
            int m = m0 + tm + i * RTSM, col = n0 + tn + j * RTSN;
            if (m < mm && col < nn) /* col = (n, pixel): NCHW */
                c[((size_t)(col / plane) * mm + m) * plane + col % plane] = acc[i][j];
        }
}

kernel void conv_local_fwd(global const float *w, global const float *x, global float *y, int n,
                           int c_in, int h, int wd, int c_out, int ho, int wo) {
    local float as[TSM * TSK], bs[TSN * TSK]; /* at kernel scope, as OpenCL C 1.2 wants */
    shape s = {n, c_in, h, wd, c_out, ho, wo};
    forward_like(0, w, x, y, s, c_out, n * ho * wo, c_in * KK, ho * wo, as, bs);
}

kernel void conv_local_dx(global const float *w, global const float *dy, global float *dx, int n,
                          int c_in, int h, int wd, int c_out, int ho, int wo) {
    local float as[TSM * TSK], bs[TSN * TSK];
    shape s = {n, c_in, h, wd, c_out, ho, wo};
    forward_like(1, w, dy, dx, s, c_in, n * h * wd, c_out * KK, h * wd, as, bs);
}

/* The weight gradient: group id = tile + tiles*slice; slice s sums its range of the output
 * pixels into part[s] (conv_dw_reduce adds the slices in order). */
kernel void conv_local_dw(global const float *dy, global const float *x, global float *part, int n,
                          int c_in, int h, int wd, int c_out, int ho, int wo, int slices) {
    shape s = {n, c_in, h, wd, c_out, ho, wo};
    local float as[TSM * TSK], bs[TSN * TSK];
    int mm = c_out, nn = c_in * KK, kd = n * ho * wo;
    int mt = (mm + TSM - 1) / TSM, tiles = mt * ((nn + TSN - 1) / TSN);
    int g = (int)get_group_id(0), tile = g % tiles, sl = g / tiles;
    int m0 = (tile % mt) * TSM, n0 = (tile / mt) * TSN;
    int k0 = (int)((long)kd * sl / slices), k1 = (int)((long)kd * (sl + 1) / slices);
    float acc[WPTM][WPTN];
#pragma unroll
    for (int i = 0; i < WPTM; i++)
#pragma unroll
        for (int j = 0; j < WPTN; j++)
            acc[i][j] = 0.0f;
    tile_product(2, dy, x, s, mm, nn, kd, k0, k1, m0, n0, as, bs, acc);
    int tid = (int)get_local_id(0), tm = tid % RTSM, tn = tid / RTSM;
#pragma unroll
    for (int i = 0; i < WPTM; i++)
#pragma unroll
        for (int j = 0; j < WPTN; j++) {
            int m = m0 + tm + i * RTSM, col = n0 + tn + j * RTSN;
            if (m < mm && col < nn)
                part[((size_t)sl * mm + m) * nn + col] = acc[i][j];
        }
}
