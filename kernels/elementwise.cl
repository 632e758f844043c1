/* Elementwise ops: ReLU, add, axpy and inverted dropout.
 * One work item per element; n is the element count (global size may be larger). */

__kernel void ew_relu_fwd(__global const float *x, __global float *y, uint n) {
    uint i = get_global_id(0);
    if (i < n)
        y[i] = fmax(x[i], 0.0f);
}

/* dx = dy * (y > 0); dx may alias dy. */
__kernel void ew_relu_bwd(__global const float *y, __global const float *dy, __global float *dx,
                          uint n) {
    uint i = get_global_id(0);
    if (i < n)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

__kernel void ew_add(__global const float *a, __global const float *b, __global float *y, uint n) {
    uint i = get_global_id(0);
    if (i < n)
        y[i] = a[i] + b[i];
}

__kernel void ew_axpy(float alpha, __global const float *x, __global float *y, uint n) {
    uint i = get_global_id(0);
    if (i < n)
        y[i] += alpha * x[i];
}

/* Inverted dropout (forward and backward alike): keep element i where
 * rcl_counter_uniform(seed, counter, i) >= p, scaled by 1/(1-p); dropped ones are exactly 0. */
__kernel void ew_dropout(float p, float scale, uint seed, uint counter, __global const float *x,
                         __global float *y, uint n) {
    uint i = get_global_id(0);
    if (i < n)
        y[i] = rcl_counter_uniform(seed, counter, i) >= p ? x[i] * scale : 0.0f;
}
