/* The attack step of PGD/FGSM (include/robustcl/adversarial.h), in pixel space [0,1]:
 * conversions between network and pixel space, random start, sign step with projection
 * and clamp, the per-row loss gradient (cross-entropy or CW margin) and the
 * bookkeeping of restarts. Elementwise kernels take one work item per element. */

float attack_channel(uint ch, float v0, float v1, float v2) {
    return ch == 0 ? v0 : (ch == 1 ? v1 : v2);
}

/* p = clamp(x*std + mean, 0, 1): the clamp removes the rounding of the normalisation. */
__kernel void attack_to_pixels(__global const float *x, __global float *p, uint total, uint c, uint hw,
                               float m0, float m1, float m2, float s0, float s1, float s2) {
    uint i = get_global_id(0);
    if (i >= total)
        return;
    uint ch = (i / hw) % c;
    p[i] = clamp(x[i] * attack_channel(ch, s0, s1, s2) + attack_channel(ch, m0, m1, m2), 0.0f, 1.0f);
}

/* out = x + (adv - p)/std: the perturbation added to the original network input, so
 * an unperturbed pixel leaves the input bit-identical. out may alias x. */
__kernel void attack_to_network(__global const float *x, __global const float *p, __global const float *adv,
                                __global float *out, uint total, uint c, uint hw, float s0, float s1,
                                float s2) {
    uint i = get_global_id(0);
    if (i >= total)
        return;
    uint ch = (i / hw) % c;
    out[i] = x[i] + (adv[i] - p[i]) / attack_channel(ch, s0, s1, s2);
}

/* delta = eps*(2u - 1), u keyed by (seed ^ hash(dataset index), counter, element). */
__kernel void attack_start(__global const float *x, __global const int *index, __global float *adv,
                           __global float *centre, uint total, uint per, int random_start, float eps,
                           int paper, uint seed, uint counter) {
    uint i = get_global_id(0);
    if (i >= total)
        return;
    float v = x[i];
    if (!random_start) {
        adv[i] = v;
        centre[i] = v;
        return;
    }
    uint row = i / per, e = i - row * per;
    float u = rcl_counter_uniform(seed ^ rcl_hash((uint)index[row]), counter, e);
    float s = v + eps * (2.0f * u - 1.0f);
    adv[i] = paper ? s : clamp(s, 0.0f, 1.0f);
    centre[i] = paper ? s : v;
}

__kernel void attack_step(__global const float *g, __global const float *centre, __global float *adv,
                          uint total, float step, float eps) {
    uint i = get_global_id(0);
    if (i >= total)
        return;
    float gv = g[i];
    float sg = gv > 0.0f ? 1.0f : (gv < 0.0f ? -1.0f : 0.0f);
    float c = centre[i];
    float a = fmin(fmax(adv[i] + step * sg, c - eps), c + eps);
    adv[i] = clamp(a, 0.0f, 1.0f);
}

/* One work item per row. ce: loss = logsumexp(z) - z_y, gradient softmax - onehot.
 * margin: loss = z_j - z_y with j the first largest other logit, gradient e_j - e_y.
 * correct: the first maximum of z is y. A label outside [0,k) gives a zero row. */
__kernel void attack_loss(__global const float *logits, __global const int *labels, __global float *dlogits,
                          __global float *row_loss, __global int *row_correct, uint n, uint k, int margin) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    __global const float *z = logits + (size_t)r * k;
    __global float *g = dlogits + (size_t)r * k;
    int y = labels[r];
    for (uint j = 0; j < k; j++)
        g[j] = 0.0f;
    if (y < 0 || y >= (int)k) {
        row_loss[r] = 0.0f;
        row_correct[r] = 0;
        return;
    }
    uint am = 0;
    for (uint j = 1; j < k; j++)
        if (z[j] > z[am])
            am = j;
    row_correct[r] = (int)am == y;
    if (margin) {
        uint o = y == 0 ? 1 : 0;
        for (uint j = o + 1; j < k; j++)
            if ((int)j != y && z[j] > z[o])
                o = j;
        g[o] = 1.0f;
        g[y] = -1.0f;
        row_loss[r] = z[o] - z[y];
        return;
    }
    float zmax = z[am], s = 0.0f;
    for (uint j = 0; j < k; j++)
        s += exp(z[j] - zmax);
    for (uint j = 0; j < k; j++)
        g[j] = exp(z[j] - zmax) / s;
    g[y] -= 1.0f;
    row_loss[r] = zmax + log(s) - z[y];
}

/* The worse of two results: misclassified beats correct, then the higher loss. */
int attack_worse(int correct, float loss, int best_correct, float best_loss) {
    return (!correct && best_correct) || (correct == best_correct && loss > best_loss);
}

/* Elementwise part of keeping the worst case; attack_keep_worst_rows must follow. */
__kernel void attack_keep_worst(__global const float *adv, __global const float *loss,
                                __global const int *correct, __global float *best,
                                __global const float *best_loss, __global const int *best_correct,
                                uint total, uint per, int first) {
    uint i = get_global_id(0);
    if (i >= total)
        return;
    uint r = i / per;
    if (first || attack_worse(correct[r], loss[r], best_correct[r], best_loss[r]))
        best[i] = adv[i];
}

__kernel void attack_keep_worst_rows(__global const float *loss, __global const int *correct,
                                     __global float *best_loss, __global int *best_correct, uint n,
                                     int first) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    if (first || attack_worse(correct[r], loss[r], best_correct[r], best_loss[r])) {
        best_loss[r] = loss[r];
        best_correct[r] = correct[r];
    }
}

/* One work-group per row (power-of-two local size): zero[r] = the gradient row is all
 * zero (when has_grad), maxdiff[r] = max |a - b| over the row. */
__kernel void attack_row_stats(__global const float *grad, __global int *zero, __global const float *a,
                               __global const float *b, __global float *maxdiff, uint per, int has_grad,
                               __local float *fbuf, __local int *ibuf) {
    uint r = get_group_id(0), lid = get_local_id(0), l = get_local_size(0);
    size_t base = (size_t)r * per;
    int nonzero = 0;
    float mx = 0.0f;
    for (uint e = lid; e < per; e += l) {
        if (has_grad && grad[base + e] != 0.0f)
            nonzero = 1;
        mx = fmax(mx, fabs(a[base + e] - b[base + e]));
    }
    int any = rcl_group_sum_int(ibuf, nonzero);
    fbuf[lid] = mx;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = l / 2; s > 0; s >>= 1) {
        if (lid < s)
            fbuf[lid] = fmax(fbuf[lid], fbuf[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        if (has_grad)
            zero[r] = any == 0;
        maxdiff[r] = fbuf[0];
    }
}

/* dst = src in the rows whose flag is set (APGD's and Square's bookkeeping). */
__kernel void attack_copy_rows(__global const float *src, __global float *dst, __global const int *flag,
                               uint total, uint per) {
    uint i = get_global_id(0);
    if (i >= total)
        return;
    if (flag[i / per])
        dst[i] = src[i];
}
