/* Elementwise ops: ReLU, add, axpy, inverted dropout and the fused SGD step.
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

/* SGD with momentum (PROTOCOL 2): d = g + wd*w; buf = first ? d : momentum*buf + d;
 * d = nesterov ? d + momentum*buf : buf; w -= lr*d. */
__kernel void ew_sgd(__global float *w, __global const float *g, __global float *buf, uint n,
                     float lr, float momentum, float wd, int nesterov, int first) {
    uint i = get_global_id(0);
    if (i >= n)
        return;
    float wi = w[i];
    float d = g[i] + wd * wi;
    float b = d;
    if (!first) /* a branch, not a select: the first step must not read buf (uninitialised) */
        b = momentum * buf[i] + d;
    buf[i] = b;
    d = nesterov ? d + momentum * b : b;
    w[i] = wi - lr * d;
}
