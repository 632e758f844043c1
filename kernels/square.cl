/* The L-inf Square Attack (Andriushchenko et al. 2020, as autoattack's square.py runs it):
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
