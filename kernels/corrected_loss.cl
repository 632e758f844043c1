/* Corrected losses of the label-noise methods (spec §5), Forward (Patrini 2017)
 * and GLC (Hendrycks 2018): per sample, trusted ? CE(z, y) : -log sum_j softmax(z)_j C[j, y];
 * batch loss = sum / n. The forward reduction runs in ONE work-group with the fixed-order
 * tree of common.cl (deterministic); the local size must be a power of two. */

/* Nonzero when sample r is trusted (plain cross-entropy). */
int corrected_loss_is_trusted(__global const int *trusted, int has_trusted, uint r) {
    return has_trusted && trusted[r] != 0;
}

/* probs = softmax(logits); loss[0] = sum l_r / n. Untrusted: l = log(se) - log(sum_j e_j C[j,y])
 * with e = exp(z - max) and se = sum e, i.e. -log sum_j p_j C[j,y] without forming p first.
 * A label outside [0,k) makes the loss NaN. */
__kernel void corrected_loss_fwd(__global const float *logits, __global const int *labels,
                                 __global const int *trusted, int has_trusted, __global const float *C,
                                 __global float *probs, __global float *loss, uint n, uint k,
                                 __local float *scratch) {
    uint lid = get_local_id(0), l = get_local_size(0);
    float sl = 0.0f;
    for (uint r = lid; r < n; r += l) {
        __global const float *z = logits + (size_t)r * k;
        __global float *p = probs + (size_t)r * k;
        int lab = labels[r];
        int ok = lab >= 0 && (uint)lab < k;
        int tr = corrected_loss_is_trusted(trusted, has_trusted, r);
        float mx = z[0];
        for (uint j = 1; j < k; j++)
            mx = fmax(mx, z[j]);
        float se = 0.0f, sc = 0.0f;
        for (uint j = 0; j < k; j++) {
            float e = exp(z[j] - mx);
            p[j] = e;
            se += e;
            if (ok && !tr)
                sc += e * C[(size_t)j * k + lab];
        }
        float inv = 1.0f / se;
        for (uint j = 0; j < k; j++)
            p[j] *= inv;
        float li = !ok ? NAN : tr ? log(se) - (z[lab] - mx) : log(se) - log(sc);
        sl += li;
    }
    float tl = rcl_group_sum(scratch, sl);
    if (lid == 0)
        loss[0] = tl / (float)n;
}

/* One work item per row: dlogits = (p - t) / n with t = onehot(y) when trusted, else
 * t_j = p_j C[j,y] / sum_i p_i C[i,y] (the posterior of the clean class given y). */
__kernel void corrected_loss_bwd(__global const float *probs, __global const int *labels,
                                 __global const int *trusted, int has_trusted, __global const float *C,
                                 __global float *dlogits, uint n, uint k) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    __global const float *p = probs + (size_t)r * k;
    __global float *g = dlogits + (size_t)r * k;
    int lab = labels[r];
    float inv_n = 1.0f / (float)n;
    if (lab < 0 || (uint)lab >= k) {
        for (uint j = 0; j < k; j++)
            g[j] = NAN;
        return;
    }
    if (corrected_loss_is_trusted(trusted, has_trusted, r)) {
        for (uint j = 0; j < k; j++)
            g[j] = (p[j] - ((uint)lab == j ? 1.0f : 0.0f)) * inv_n;
        return;
    }
    float s = 0.0f;
    for (uint j = 0; j < k; j++)
        s += p[j] * C[(size_t)j * k + lab];
    float inv_s = 1.0f / s;
    for (uint j = 0; j < k; j++)
        g[j] = p[j] * (1.0f - C[(size_t)j * k + lab] * inv_s) * inv_n;
}
