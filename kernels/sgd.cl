/* The fused SGD step (src/ops/sgd.c). One work item per element; n is the element count
 * (global size may be larger). */

/* SGD with momentum (spec §2): d = g + wd*w; buf = first ? d : momentum*buf + d;
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
