/* Softmax cross-entropy (weighted mean) and count_correct. The reductions run in
 * ONE work-group with a fixed-order tree in local memory (deterministic, no
 * atomics); the local size must be a power of two. */



/* Weight of sample r: class_w[label] * sample_w[r] (each optional). */
float loss_sample_weight(__global const int *labels, __global const float *class_w,
                         __global const float *sample_w, int has_cw, int has_sw, uint r, uint k) {
    float w = has_sw ? sample_w[r] : 1.0f;
    int lab = labels[r];
    if (has_cw && lab >= 0 && (uint)lab < k)
        w *= class_w[lab];
    return w;
}

/* probs = softmax(logits) (row max subtracted); loss[0] = sum w_i*l_i / sum w_i with
 * l_i = log(sum exp(z - max)) - (z_y - max), the log taken as log1p of the sum without one
 * maximum's exp(0) = 1: a confident row's loss (sum near 1) keeps its relative precision.
 * A label outside [0,k) makes the loss NaN. */
__kernel void loss_xent_fwd(__global const float *logits, __global const int *labels,
                            __global const float *class_w, __global const float *sample_w,
                            int has_cw, int has_sw, __global float *probs, __global float *loss,
                            uint n, uint k, __local float *scratch) {
    uint lid = get_local_id(0), l = get_local_size(0);
    float sl = 0.0f, sw = 0.0f;
    for (uint r = lid; r < n; r += l) {
        __global const float *z = logits + (size_t)r * k;
        __global float *p = probs + (size_t)r * k;
        float mx = z[0];
        for (uint j = 1; j < k; j++)
            mx = fmax(mx, z[j]);
        float rest = 0.0f;
        int max_seen = 0;
        for (uint j = 0; j < k; j++) {
            float e = exp(z[j] - mx);
            p[j] = e;
            if (!max_seen && z[j] == mx)
                max_seen = 1;
            else
                rest += e;
        }
        float inv = 1.0f / (1.0f + rest);
        for (uint j = 0; j < k; j++)
            p[j] *= inv;
        int lab = labels[r];
        float w = loss_sample_weight(labels, class_w, sample_w, has_cw, has_sw, r, k);
        float li = (lab >= 0 && (uint)lab < k) ? log1p(rest) - (z[lab] - mx) : NAN;
        sl += w * li;
        sw += w;
    }
    float tl = rcl_group_sum(scratch, sl);
    float tw = rcl_group_sum(scratch, sw);
    if (lid == 0)
        loss[0] = tl / tw;
}

/* dlogits = w_i * (probs - onehot(y_i)) / sum w. */
__kernel void loss_xent_bwd(__global const float *probs, __global const int *labels,
                            __global const float *class_w, __global const float *sample_w,
                            int has_cw, int has_sw, __global float *dlogits, uint n, uint k,
                            __local float *scratch) {
    uint lid = get_local_id(0), l = get_local_size(0);
    float sw = 0.0f;
    for (uint r = lid; r < n; r += l)
        sw += loss_sample_weight(labels, class_w, sample_w, has_cw, has_sw, r, k);
    float inv = 1.0f / rcl_group_sum(scratch, sw);
    uint total = n * k;
    for (uint i = lid; i < total; i += l) {
        uint r = i / k, j = i - r * k;
        int lab = labels[r];
        float w = loss_sample_weight(labels, class_w, sample_w, has_cw, has_sw, r, k) * inv;
        float t = (uint)lab == j ? 1.0f : 0.0f;
        dlogits[i] = (lab >= 0 && (uint)lab < k) ? w * (probs[i] - t) : NAN;
    }
}

/* correct[0] = rows whose argmax (the first maximum) equals the label. */
__kernel void loss_count_correct(__global const float *logits, __global const int *labels,
                                 __global int *correct, uint n, uint k, __local int *scratch) {
    uint lid = get_local_id(0), l = get_local_size(0);
    int cnt = 0;
    for (uint r = lid; r < n; r += l) {
        __global const float *z = logits + (size_t)r * k;
        uint best = 0;
        for (uint j = 1; j < k; j++)
            if (z[j] > z[best])
                best = j;
        cnt += labels[r] >= 0 && (uint)labels[r] == best;
    }
    int t = rcl_group_sum_int(scratch, cnt);
    if (lid == 0)
        correct[0] = t;
}
