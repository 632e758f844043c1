/* The linear layer's bias add and bias gradient (src/ops/linear.c; the products are
 * CLBlast GEMMs). One work item per element or per column. */

/* y[r, j] += b[j] over y [n, k]. */
__kernel void loss_bias_add(__global float *y, __global const float *b, uint n, uint k) {
    uint i = get_global_id(0);
    if (i < n * k)
        y[i] += b[i % k];
}

/* db[j] = sum over rows of dy[r, j], summed in row order (deterministic). */
__kernel void loss_col_sum(__global const float *dy, __global float *db, uint n, uint k) {
    uint j = get_global_id(0);
    if (j >= k)
        return;
    float s = 0.0f;
    for (uint r = 0; r < n; r++)
        s += dy[(size_t)r * k + j];
    db[j] = s;
}
