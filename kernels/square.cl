/* The Square Attack (Andriushchenko et al. 2020, as autoattack's square.py runs it), L-inf:
 * the vertical-stripe start, a proposal that sets one s x s square of every image to
 * +-eps per channel, and the acceptance of improved margins (spec §7.4). */

/* best = clamp(x + eps*sign, 0, 1), the sign drawn per (image, channel, column). */
__kernel void square_init(__global const float *x, __global const int *index, __global float *best,
                          uint total, uint c, uint h, uint w, float eps, uint seed, uint counter) {
    uint i = get_global_id(0);
    if (i >= total)
        return;
    uint col = i % w, ch = (i / (h * w)) % c, row = i / (c * h * w);
    float u = rcl_counter_uniform(seed ^ rcl_hash((uint)index[row]), counter, ch * w + col);
    best[i] = clamp(x[i] + (u < 0.5f ? -eps : eps), 0.0f, 1.0f);
}

/* cand = clamp(clamp(best + delta, x - eps, x + eps), 0, 1), delta = 2 eps*sign per (image,
 * channel) inside the square [vh, vh+s) x [vw, vw+s), 0 elsewhere. */
__kernel void square_propose(__global const float *x, __global const float *best, __global const int *index,
                             __global float *cand, uint total, uint c, uint h, uint w, float eps, uint vh,
                             uint vw, uint s, uint seed, uint counter) {
    uint i = get_global_id(0);
    if (i >= total)
        return;
    uint col = i % w, y = (i / w) % h, ch = (i / (h * w)) % c, row = i / (c * h * w);
    float v = best[i];
    if (y >= vh && y < vh + s && col >= vw && col < vw + s) {
        float u = rcl_counter_uniform(seed ^ rcl_hash((uint)index[row]), counter, ch);
        v += u < 0.5f ? -2.0f * eps : 2.0f * eps;
    }
    cand[i] = clamp(fmin(fmax(v, x[i] - eps), x[i] + eps), 0.0f, 1.0f);
}

/* margin = z_y - max_{j != y} z_j is -neg_margin (the attack's margin loss). first: the
 * start's margin becomes the best. Else a row still correctly classified (margin_min > 0)
 * takes the candidate (accept = 1) when its margin is lower or not positive. */
__kernel void square_accept(__global const float *neg_margin, __global float *margin_min,
                            __global int *accept, uint n, int first) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    float m = -neg_margin[r];
    if (first) {
        margin_min[r] = m;
        accept[r] = 0;
        return;
    }
    int take = margin_min[r] > 0.0f && (m < margin_min[r] || m <= 0.0f);
    if (take)
        margin_min[r] = m;
    accept[r] = take;
}

/* ---- L2 (square.py's L2 branch). Row kernels: one work item per image, as every update is
 * rescaled by norms of the image's perturbation. */

/* The authors' eta_rectangles(a, b) at (i, j), before its normalisation: nested squares around
 * (a/2, b/2) of radius k = 0..M-1 (M = max(a/2, b/2) + 1) each add 1/(k+1)^2, so a pixel at
 * Chebyshev distance d from the centre holds sum_{k=d}^{M-1} 1/(k+1)^2. */
float square_rect(int a, int b, int i, int j) {
    int d = max(abs(i - a / 2), abs(j - b / 2)), m = max(a / 2, b / 2) + 1;
    float v = 0.0f;
    for (int k = d; k < m; k++)
        v += 1.0f / (float)((k + 1) * (k + 1));
    return v;
}

float square_rect_norm(int a, int b) {
    float sum = 0.0f;
    for (int i = 0; i < a; i++)
        for (int j = 0; j < b; j++) {
            float v = square_rect(a, b, i, j);
            sum += v * v;
        }
    return sqrt(sum);
}

/* The 2-norms of eta(s)'s two halves before normalisation ([0]: the top s/2 rows, [1]: the rest). */
float2 square_eta_norms(int s) { return (float2)(square_rect_norm(s / 2, s), square_rect_norm(s - s / 2, s)); }

/* The authors' eta(s) at (i, j) (transposed: at (j, i)): the normalised rect(s/2, s) over the
 * normalised -rect(s - s/2, s), divided by the norm of both (sqrt 2; 1 when s = 1 leaves the top
 * half empty). */
float square_eta(int s, int i, int j, int transposed, float2 norms) {
    if (transposed) {
        int t = i;
        i = j;
        j = t;
    }
    float whole = s / 2 > 0 ? M_SQRT2_F : 1.0f;
    if (i < s / 2)
        return square_rect(s / 2, s, i, j) / norms.x / whole;
    return -square_rect(s - s / 2, s, i - s / 2, j) / norms.y / whole;
}

/* The start's perturbation at (ch, y, x): tiles of side s = h/5 from (sp, sp), sp = (h - 5s)/2,
 * h/s by w/s of them, each eta(s) (transposed at random) times a random sign per channel. Draw
 * t of the row's key: the transposition of tile t, tiles + ch*tiles + t: its sign. */
float square_init_delta(uint key, uint counter, int h, int w, int ch, int y, int x, float2 norms) {
    int s = h / 5, sp = (h - 5 * s) / 2, th = h / s, tw = w / s, tiles = th * tw;
    if (y < sp || x < sp || (y - sp) / s >= th || (x - sp) / s >= tw)
        return 0.0f;
    int ti = (y - sp) / s, tj = (x - sp) / s, t = ti * tw + tj;
    int transposed = rcl_counter_uniform(key, counter, (uint)t) > 0.5f;
    float sign = rcl_counter_uniform(key, counter, (uint)(tiles + ch * tiles + t)) < 0.5f ? -1.0f : 1.0f;
    return sign * square_eta(s, y - sp - ti * s, x - sp - tj * s, transposed, norms);
}

/* best = clamp(x + eps*delta/(|delta|_2 + 1e-12), 0, 1), delta the tiled start above (h >= 5). */
__kernel void square_init_l2(__global const float *x, __global const int *index, __global float *best, uint n,
                             uint c, uint h, uint w, float eps, uint seed, uint counter) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    uint key = seed ^ rcl_hash((uint)index[r]);
    size_t base = (size_t)r * c * h * w;
    float2 norms = square_eta_norms((int)h / 5);
    float sum = 0.0f;
    for (uint e = 0; e < c * h * w; e++) {
        float d = square_init_delta(key, counter, (int)h, (int)w, (int)(e / (h * w)), (int)(e / w % h), (int)(e % w),
                                    norms);
        sum += d * d;
    }
    float scale = eps / (sqrt(sum) + 1e-12f);
    for (uint e = 0; e < c * h * w; e++) {
        float d = square_init_delta(key, counter, (int)h, (int)w, (int)(e / (h * w)), (int)(e / w % h), (int)(e % w),
                                    norms);
        best[base + e] = clamp(x[base + e] + d * scale, 0.0f, 1.0f);
    }
}

int square_inside(uint y, uint x, uint vh, uint vw, uint s) { return y >= vh && y < vh + s && x >= vw && x < vw + s; }

/* The proposal inside window 1 of one channel before its rescaling: sign*eta(s) plus the
 * current perturbation there over its norm w1 (+ 1e-12). */
float square_window_delta(float d, float sign, int s, int i, int j, int transposed, float2 norms, float w1) {
    return sign * square_eta(s, i, j, transposed, norms) + d / (w1 + 1e-12f);
}

/* One L2 proposal (square.py's update): with delta = best - x, per channel the s x s window 1
 * at (vh, vw) becomes sign*eta(s) + delta_w1/|delta_w1|, rescaled to the norm
 * sqrt(max(eps^2 - |delta|^2, 0)/c + |delta on windows 1 and 2|^2) (the budget left plus what the
 * two windows held), window 2 at (vh2, vw2) outside window 1 becomes 0, and
 * cand = clamp(x + eps*delta'/(|delta'|_2 + 1e-12), 0, 1). Draws of the row's key: ch, the sign
 * of channel ch; c, the transposition of eta. cand holds delta' between the passes. */
__kernel void square_propose_l2(__global const float *x, __global const float *best, __global const int *index,
                                __global float *cand, uint n, uint c, uint h, uint w, float eps, uint vh, uint vw,
                                uint vh2, uint vw2, uint s, uint seed, uint counter) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    uint key = seed ^ rcl_hash((uint)index[r]), plane = h * w;
    __global const float *xr = x + (size_t)r * c * plane, *br = best + (size_t)r * c * plane;
    __global float *cr = cand + (size_t)r * c * plane;
    int transposed = rcl_counter_uniform(key, counter, c) > 0.5f;
    float2 norms = square_eta_norms((int)s);
    float whole = 0.0f, total = 0.0f;
    for (uint e = 0; e < c * plane; e++)
        whole += (br[e] - xr[e]) * (br[e] - xr[e]);
    float budget = fmax(eps * eps - whole, 0.0f) / (float)c;
    for (uint ch = 0; ch < c; ch++) {
        __global const float *xc = xr + ch * plane, *bc = br + ch * plane;
        __global float *cc = cr + ch * plane;
        float sign = rcl_counter_uniform(key, counter, ch) < 0.5f ? -1.0f : 1.0f;
        float w1 = 0.0f, both = 0.0f, fresh = 0.0f;
        for (uint e = 0; e < plane; e++) {
            float d = bc[e] - xc[e];
            int in1 = square_inside(e / w, e % w, vh, vw, s), in2 = square_inside(e / w, e % w, vh2, vw2, s);
            w1 += in1 ? d * d : 0.0f;
            both += in1 || in2 ? d * d : 0.0f;
        }
        w1 = sqrt(w1);
        for (uint e = 0; e < plane; e++)
            if (square_inside(e / w, e % w, vh, vw, s)) {
                float v = square_window_delta(bc[e] - xc[e], sign, (int)s, (int)(e / w - vh), (int)(e % w - vw),
                                              transposed, norms, w1);
                fresh += v * v;
            }
        float scale = sqrt(budget + both) / (sqrt(fresh) + 1e-12f);
        for (uint e = 0; e < plane; e++) {
            float d = bc[e] - xc[e];
            if (square_inside(e / w, e % w, vh, vw, s))
                d = scale * square_window_delta(d, sign, (int)s, (int)(e / w - vh), (int)(e % w - vw), transposed,
                                                norms, w1);
            else if (square_inside(e / w, e % w, vh2, vw2, s))
                d = 0.0f;
            cc[e] = d;
            total += d * d;
        }
    }
    float to_eps = eps / (sqrt(total) + 1e-12f);
    for (uint e = 0; e < c * plane; e++)
        cr[e] = clamp(xr[e] + cr[e] * to_eps, 0.0f, 1.0f);
}
