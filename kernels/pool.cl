/* Global average pooling [N,C,H,W] -> [N,C]. */

/* One work item per (n,c) plane, summed in a fixed order (deterministic). */
__kernel void pool_avg_fwd(__global const float *x, __global float *y, uint planes, uint hw) {
    uint p = get_global_id(0);
    if (p >= planes)
        return;
    __global const float *xp = x + (size_t)p * hw;
    float s = 0.0f;
    for (uint i = 0; i < hw; i++)
        s += xp[i];
    y[p] = s / (float)hw;
}

/* dx[n,c,i] = dy[n,c] / hw, one work item per element of dx. */
__kernel void pool_avg_bwd(__global const float *dy, __global float *dx, uint planes, uint hw) {
    size_t i = get_global_id(0);
    if (i >= (size_t)planes * hw)
        return;
    dx[i] = dy[i / hw] / (float)hw;
}
