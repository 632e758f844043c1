/* Batch norm over [N,C,HW] per channel, optionally fused with a following ReLU.
 * Train-mode forward and the backward run one work-group per channel and reduce
 * with a fixed-order tree in local memory (no atomics), so results are
 * bit-identical run to run. The local size must be a power of two.
 * `split` K > 1 is ghost batch norm: samples [k*N/K, (k+1)*N/K) are normalised with
 * their own statistics (saved at [k*C + ch]), as K independent batch norms would. */

/* The elements j (0..N*HW) of channel ch that one work item visits: strided
 * (j = lid, lid+l, ...: coalesced loads on GPUs) or, when `chunked`, one contiguous
 * run per work item (CPUs, where a work item's loop runs to the end before the next
 * item starts). j is tracked as (sample b, offset i) without a division per element. */
typedef struct {
    uint j, end, step, b, i, step_b, step_i;
} bn_cursor;

/* m: elements of the (sub-)batch starting at sample b0. */
bn_cursor bn_start(uint lid, uint l, uint m, uint hw, uint b0, int chunked) {
    bn_cursor p;
    if (chunked) {
        uint chunk = (m + l - 1) / l;
        p.j = min(lid * chunk, m);
        p.end = min(p.j + chunk, m);
        p.step = 1;
    } else {
        p.j = lid;
        p.end = m;
        p.step = l;
    }
    uint jb = p.j / hw;
    p.i = p.j - jb * hw;
    p.b = b0 + jb;
    p.step_b = p.step / hw;
    p.step_i = p.step - p.step_b * hw;
    return p;
}

size_t bn_addr(const bn_cursor *p, uint ch, uint c, uint hw) {
    return ((size_t)p->b * c + ch) * hw + p->i;
}

void bn_next(bn_cursor *p, uint hw) {
    p->j += p->step;
    p->b += p->step_b;
    p->i += p->step_i;
    if (p->i >= hw) {
        p->i -= hw;
        p->b++;
    }
}

/* Train mode: biased batch variance (two passes: mean, then squared deviations),
 * running stats updated with the unbiased variance (from the first sub-batch, like
 * replica 0 of a data-parallel run), mean and 1/sqrt(var+eps) saved. */
__kernel void bn_fwd_train(__global const float *x, __global const float *gamma,
                           __global const float *beta, __global float *run_mean,
                           __global float *run_var, __global float *y, __global float *save_mean,
                           __global float *save_invstd, uint n, uint c, uint hw, float momentum,
                           float eps, int relu, int chunked, uint split, __local float *scratch) {
    uint ch = get_group_id(0), lid = get_local_id(0), l = get_local_size(0);
    for (uint k = 0; k < split; k++) {
        uint b0 = k * n / split, m = ((k + 1) * n / split - b0) * hw;
        float s = 0.0f;
        bn_cursor p = bn_start(lid, l, m, hw, b0, chunked);
        for (; p.j < p.end; bn_next(&p, hw))
            s += x[bn_addr(&p, ch, c, hw)];
        float mean = rcl_group_sum(scratch, s) / (float)m;
        s = 0.0f;
        p = bn_start(lid, l, m, hw, b0, chunked);
        for (; p.j < p.end; bn_next(&p, hw)) {
            float dv = x[bn_addr(&p, ch, c, hw)] - mean;
            s += dv * dv;
        }
        float var = rcl_group_sum(scratch, s) / (float)m;
        float invstd = 1.0f / sqrt(var + eps);
        float g = gamma[ch] * invstd, b = beta[ch];
        p = bn_start(lid, l, m, hw, b0, chunked);
        for (; p.j < p.end; bn_next(&p, hw)) {
            size_t i = bn_addr(&p, ch, c, hw);
            float v = (x[i] - mean) * g + b;
            y[i] = relu ? fmax(v, 0.0f) : v;
        }
        if (lid == 0) {
            save_mean[k * c + ch] = mean;
            save_invstd[k * c + ch] = invstd;
        }
        if (lid == 0 && k == 0) {
            float unbiased = m > 1 ? var * ((float)m / (float)(m - 1)) : var;
            run_mean[ch] = (1.0f - momentum) * run_mean[ch] + momentum * mean;
            run_var[ch] = (1.0f - momentum) * run_var[ch] + momentum * unbiased;
        }
    }
}

/* ---- CPU variants: one work item per channel (local size 1, no barriers), walking each
 * sample's contiguous run of hw values with float8 loads. On PoCL a work-group barrier turns
 * the group kernels above into loops with every live value spilled to memory; here each
 * work item is plain vector code and the C channels are the parallelism. The order of every
 * sum is fixed: deterministic. ---- */

float bn_hsum8(float8 v) {
    float4 h = v.lo + v.hi;
    return (h.x + h.y) + (h.z + h.w);
}

/* sum over samples b0..b1 of f(x) for channel ch, with f(v) = v - mu (sq = 0) or (v - mu)^2:
 * each sample's run summed in float8 lanes, then the per-sample sums added (two levels keep
 * the rounding error near that of a tree, ~1e-7 relative, not of one long running sum). */
float bn_row_sum(__global const float *x, uint b0, uint b1, uint ch, uint c, uint hw, float mu, int sq) {
    float total = 0.0f;
    uint hw8 = hw & ~7u;
    for (uint b = b0; b < b1; b++) {
        __global const float *r = x + ((size_t)b * c + ch) * hw;
        float8 acc = 0.0f;
        float tail = 0.0f;
        for (uint i = 0; i < hw8; i += 8) {
            float8 v = vload8(0, r + i) - mu;
            acc += sq ? v * v : v;
        }
        for (uint i = hw8; i < hw; i++) {
            float v = r[i] - mu;
            tail += sq ? v * v : v;
        }
        total += bn_hsum8(acc) + tail;
    }
    return total;
}

__kernel void bn_fwd_train_rows(__global const float *x, __global const float *gamma,
                                __global const float *beta, __global float *run_mean,
                                __global float *run_var, __global float *y, __global float *save_mean,
                                __global float *save_invstd, uint n, uint c, uint hw, float momentum,
                                float eps, int relu, uint split) {
    uint ch = get_global_id(0);
    if (ch >= c)
        return;
    for (uint k = 0; k < split; k++) {
        uint b0 = k * n / split, b1 = (k + 1) * n / split, m = (b1 - b0) * hw;
        float mean = bn_row_sum(x, b0, b1, ch, c, hw, 0.0f, 0) / (float)m;
        float var = bn_row_sum(x, b0, b1, ch, c, hw, mean, 1) / (float)m;
        float invstd = 1.0f / sqrt(var + eps);
        float g = gamma[ch] * invstd, sh = beta[ch];
        for (uint b = b0; b < b1; b++) {
            size_t o = ((size_t)b * c + ch) * hw;
            uint i = 0;
            for (; i + 8 <= hw; i += 8) {
                float8 v = (vload8(0, x + o + i) - mean) * g + sh;
                vstore8(relu ? fmax(v, 0.0f) : v, 0, y + o + i);
            }
            for (; i < hw; i++) {
                float v = (x[o + i] - mean) * g + sh;
                y[o + i] = relu ? fmax(v, 0.0f) : v;
            }
        }
        save_mean[k * c + ch] = mean;
        save_invstd[k * c + ch] = invstd;
        if (k == 0) {
            float unbiased = m > 1 ? var * ((float)m / (float)(m - 1)) : var;
            run_mean[ch] = (1.0f - momentum) * run_mean[ch] + momentum * mean;
            run_var[ch] = (1.0f - momentum) * run_var[ch] + momentum * unbiased;
        }
    }
}

/* dy masked by y > 0 when relu. */
float8 bn_grad8(__global const float *y, __global const float *dy, size_t i, int relu) {
    float8 g = vload8(0, dy + i);
    return relu ? select((float8)0.0f, g, vload8(0, y + i) > 0.0f) : g;
}

float bn_grad1(__global const float *y, __global const float *dy, size_t i, int relu) {
    return (relu && !(y[i] > 0.0f)) ? 0.0f : dy[i];
}

__kernel void bn_bwd_rows(__global const float *x, __global const float *y, __global const float *dy,
                          __global const float *gamma, __global const float *save_mean,
                          __global const float *save_invstd, __global float *dx,
                          __global float *dgamma, __global float *dbeta, uint n, uint c, uint hw,
                          int relu, uint split) {
    uint ch = get_global_id(0);
    if (ch >= c)
        return;
    float dg_all = 0.0f, db_all = 0.0f;
    for (uint k = 0; k < split; k++) {
        uint b0 = k * n / split, b1 = (k + 1) * n / split, m = (b1 - b0) * hw;
        float mean = save_mean[k * c + ch], invstd = save_invstd[k * c + ch];
        float db = 0.0f, dg = 0.0f; /* summed per sample, then over samples (see bn_row_sum) */
        for (uint b = b0; b < b1; b++) {
            size_t o = ((size_t)b * c + ch) * hw;
            float8 adb = 0.0f, adg = 0.0f;
            float tdb = 0.0f, tdg = 0.0f;
            uint i = 0;
            for (; i + 8 <= hw; i += 8) {
                float8 g = bn_grad8(y, dy, o + i, relu);
                adb += g;
                adg += g * (vload8(0, x + o + i) - mean);
            }
            for (; i < hw; i++) {
                float g = bn_grad1(y, dy, o + i, relu);
                tdb += g;
                tdg += g * (x[o + i] - mean);
            }
            db += bn_hsum8(adb) + tdb;
            dg += bn_hsum8(adg) + tdg;
        }
        dg *= invstd;
        float mdb = db / (float)m, mdg = dg / (float)m, gi = gamma[ch] * invstd;
        for (uint b = b0; b < b1; b++) {
            size_t o = ((size_t)b * c + ch) * hw;
            uint i = 0;
            for (; i + 8 <= hw; i += 8) {
                float8 xhat = (vload8(0, x + o + i) - mean) * invstd;
                vstore8(gi * (bn_grad8(y, dy, o + i, relu) - mdb - xhat * mdg), 0, dx + o + i);
            }
            for (; i < hw; i++) {
                float xhat = (x[o + i] - mean) * invstd;
                dx[o + i] = gi * (bn_grad1(y, dy, o + i, relu) - mdb - xhat * mdg);
            }
        }
        dg_all = k ? dg_all + dg : dg;
        db_all = k ? db_all + db : db;
    }
    dgamma[ch] = dg_all;
    dbeta[ch] = db_all;
}

/* Eval mode: normalise with the running statistics; one work item per element. */
__kernel void bn_fwd_eval(__global const float *x, __global const float *gamma,
                          __global const float *beta, __global const float *run_mean,
                          __global const float *run_var, __global float *y, uint total, uint c,
                          uint hw, float eps, int relu) {
    uint i = get_global_id(0);
    if (i >= total)
        return;
    uint ch = (i / hw) % c;
    float v = (x[i] - run_mean[ch]) * (gamma[ch] / sqrt(run_var[ch] + eps)) + beta[ch];
    y[i] = relu ? fmax(v, 0.0f) : v;
}

/* Backward of the train-mode forward: with relu, dy is first masked by y > 0;
 * dbeta = sum dy, dgamma = sum dy*xhat, dx = gamma*invstd*(dy - dbeta/M - xhat*dgamma/M)
 * per sub-batch; dgamma and dbeta sum over the sub-batches. y may be any buffer when relu is 0. */
__kernel void bn_bwd(__global const float *x, __global const float *y, __global const float *dy,
                     __global const float *gamma, __global const float *save_mean,
                     __global const float *save_invstd, __global float *dx,
                     __global float *dgamma, __global float *dbeta, uint n, uint c, uint hw,
                     int relu, int chunked, uint split, __local float *scratch) {
    uint ch = get_group_id(0), lid = get_local_id(0), l = get_local_size(0);
    float dg_all = 0.0f, db_all = 0.0f;
    for (uint k = 0; k < split; k++) {
        uint b0 = k * n / split, m = ((k + 1) * n / split - b0) * hw;
        float mean = save_mean[k * c + ch], invstd = save_invstd[k * c + ch];
        float sdb = 0.0f, sdg = 0.0f;
        bn_cursor p = bn_start(lid, l, m, hw, b0, chunked);
        for (; p.j < p.end; bn_next(&p, hw)) {
            size_t i = bn_addr(&p, ch, c, hw);
            float g = (relu && !(y[i] > 0.0f)) ? 0.0f : dy[i];
            sdb += g;
            sdg += g * ((x[i] - mean) * invstd);
        }
        float db = rcl_group_sum(scratch, sdb);
        float dg = rcl_group_sum(scratch, sdg);
        float mdb = db / (float)m, mdg = dg / (float)m, gi = gamma[ch] * invstd;
        p = bn_start(lid, l, m, hw, b0, chunked);
        for (; p.j < p.end; bn_next(&p, hw)) {
            size_t i = bn_addr(&p, ch, c, hw);
            float g = (relu && !(y[i] > 0.0f)) ? 0.0f : dy[i];
            float xhat = (x[i] - mean) * invstd;
            dx[i] = gi * (g - mdb - xhat * mdg);
        }
        dg_all = k ? dg_all + dg : dg;
        db_all = k ? db_all + db : db;
    }
    if (lid == 0) {
        dgamma[ch] = dg_all;
        dbeta[ch] = db_all;
    }
}

/* Data-parallel (synchronised) batch norm runs in passes around a sum over ranks.
 * bn_stats: per channel the sum of x (pass 0) or of (x - mean)^2 (pass 1). */
__kernel void bn_stats(__global const float *x, __global const float *mean, __global float *out, uint n,
                       uint c, uint hw, int pass, int chunked, __local float *scratch) {
    uint ch = get_group_id(0), lid = get_local_id(0), l = get_local_size(0);
    float mu = pass ? mean[ch] : 0.0f, s = 0.0f;
    bn_cursor p = bn_start(lid, l, n * hw, hw, 0, chunked);
    for (; p.j < p.end; bn_next(&p, hw)) {
        float v = x[bn_addr(&p, ch, c, hw)] - mu;
        s += pass ? v * v : v;
    }
    s = rcl_group_sum(scratch, s);
    if (lid == 0)
        out[ch] = s;
}

/* y = (x - mean) * gamma * invstd + beta (+ ReLU), with given statistics; one work item per element. */
__kernel void bn_fwd_apply(__global const float *x, __global const float *gamma, __global const float *beta,
                           __global const float *mean, __global const float *invstd, __global float *y,
                           uint total, uint c, uint hw, int relu) {
    uint i = get_global_id(0);
    if (i >= total)
        return;
    uint ch = (i / hw) % c;
    float v = (x[i] - mean[ch]) * (gamma[ch] * invstd[ch]) + beta[ch];
    y[i] = relu ? fmax(v, 0.0f) : v;
}

/* The local sums of the backward: dbeta = sum dy, dgamma = sum dy*xhat (dy masked by y > 0 with relu). */
__kernel void bn_bwd_sums(__global const float *x, __global const float *y, __global const float *dy,
                          __global const float *save_mean, __global const float *save_invstd,
                          __global float *dgamma, __global float *dbeta, uint n, uint c, uint hw, int relu,
                          int chunked, __local float *scratch) {
    uint ch = get_group_id(0), lid = get_local_id(0), l = get_local_size(0);
    float mean = save_mean[ch], invstd = save_invstd[ch], sdb = 0.0f, sdg = 0.0f;
    bn_cursor p = bn_start(lid, l, n * hw, hw, 0, chunked);
    for (; p.j < p.end; bn_next(&p, hw)) {
        size_t i = bn_addr(&p, ch, c, hw);
        float g = (relu && !(y[i] > 0.0f)) ? 0.0f : dy[i];
        sdb += g;
        sdg += g * ((x[i] - mean) * invstd);
    }
    float db = rcl_group_sum(scratch, sdb);
    float dg = rcl_group_sum(scratch, sdg);
    if (lid == 0) {
        dgamma[ch] = dg;
        dbeta[ch] = db;
    }
}

/* dx from the sums over all ranks: sums [2C] = (dgamma, dbeta) totals over m_total values per channel. */
__kernel void bn_bwd_apply(__global const float *x, __global const float *y, __global const float *dy,
                           __global const float *gamma, __global const float *save_mean,
                           __global const float *save_invstd, __global const float *sums, __global float *dx,
                           uint total, uint c, uint hw, float m_total, int relu) {
    uint i = get_global_id(0);
    if (i >= total)
        return;
    uint ch = (i / hw) % c;
    float mean = save_mean[ch], invstd = save_invstd[ch];
    float g = (relu && !(y[i] > 0.0f)) ? 0.0f : dy[i];
    float xhat = (x[i] - mean) * invstd;
    dx[i] = gamma[ch] * invstd * (g - sums[c + ch] / m_total - xhat * (sums[ch] / m_total));
}
