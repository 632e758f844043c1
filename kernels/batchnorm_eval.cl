/* Backward of the eval-mode batch norm (kernels/batchnorm.cl bn_fwd_eval): the running
 * statistics are constants, so with scale = gamma/sqrt(running_var + eps) and g = dy
 * (masked by y > 0 with relu): dx = g*scale, dbeta = sum g, dgamma = sum g*xhat with
 * xhat = (x - running_mean)/sqrt(running_var + eps). One work-group per channel with a
 * fixed-order reduction (deterministic); the local size must be a power of two.
 * `chunked` (CPUs) gives each work item whole planes (contiguous runs), otherwise items
 * stride over the channel's elements (coalesced loads on GPUs). dx may alias dy. */
__kernel void bn_eval_bwd(__global const float *x, __global const float *y, __global const float *dy,
                          __global const float *gamma, __global const float *run_mean,
                          __global const float *run_var, __global float *dx, __global float *dgamma,
                          __global float *dbeta, uint n, uint c, uint hw, float eps, int relu,
                          int chunked, __local float *scratch) {
    uint ch = get_group_id(0), lid = get_local_id(0), l = get_local_size(0);
    float rstd = sqrt(run_var[ch] + eps);
    float scale = gamma[ch] / rstd, mean = run_mean[ch], invstd = 1.0f / rstd;
    float sdb = 0.0f, sdg = 0.0f;
    uint m = n * hw;
    uint j = chunked ? lid * hw : lid, step = chunked ? l * hw : l;
    for (; j < m; j += step) {
        uint b = j / hw, i0 = j - b * hw, i1 = chunked ? hw : i0 + 1;
        for (uint i = i0; i < i1; i++) {
            size_t k = ((size_t)b * c + ch) * hw + i;
            float g = (relu && !(y[k] > 0.0f)) ? 0.0f : dy[k];
            sdb += g;
            sdg += g * ((x[k] - mean) * invstd);
            dx[k] = g * scale;
        }
    }
    float db = rcl_group_sum(scratch, sdb);
    float dg = rcl_group_sum(scratch, sdg);
    if (lid == 0) {
        dgamma[ch] = dg;
        dbeta[ch] = db;
    }
}
