/* The steps of APGD (Croce & Hein 2020, Algorithm 1, as their autoattack code runs it for
 * L-inf): the normalised random start, the momentum step with projection, the DLR losses,
 * target selection and the per-row bookkeeping of the step-size schedule (spec §7.4).
 * Elementwise kernels take one work item per element, row kernels one per image. */

/* adv = clamp(x + eps*t/(max|t| + 1e-12), 0, 1), t = 2u - 1 keyed by (seed ^ hash(index),
 * counter, element): one work item per row, as the max is the row's. */
__kernel void apgd_start(__global const float *x, __global const int *index, __global float *adv, uint n,
                         uint per, float eps, uint seed, uint counter) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    uint key = seed ^ rcl_hash((uint)index[r]);
    size_t base = (size_t)r * per;
    float m = 0.0f;
    for (uint e = 0; e < per; e++)
        m = fmax(m, fabs(2.0f * rcl_counter_uniform(key, counter, e) - 1.0f));
    for (uint e = 0; e < per; e++) {
        float t = 2.0f * rcl_counter_uniform(key, counter, e) - 1.0f;
        adv[base + e] = clamp(x[base + e] + eps * (t / (m + 1e-12f)), 0.0f, 1.0f);
    }
}

float apgd_project(float v, float x, float eps) { return clamp(fmin(fmax(v, x - eps), x + eps), 0.0f, 1.0f); }

/* z = P(adv + step*sign(g)); adv' = P(adv + a*(z - adv) + (1 - a)*(adv - old)); old' = adv.
 * P: projection onto the eps-ball around x, then [0,1]; step per row. */
__kernel void apgd_step(__global const float *x, __global const float *g, __global const float *step,
                        __global float *old, __global float *adv, uint total, uint per, float eps, float a) {
    uint i = get_global_id(0);
    if (i >= total)
        return;
    float xa = adv[i], gv = g[i], xi = x[i];
    float sg = gv > 0.0f ? 1.0f : (gv < 0.0f ? -1.0f : 0.0f);
    float z = apgd_project(xa + step[i / per] * sg, xi, eps);
    float v = apgd_project(xa + (z - xa) * a + (xa - old[i]) * (1.0f - a), xi, eps);
    old[i] = xa;
    adv[i] = v;
}

/* The rank-th largest logit's index (rank 1: the largest); ties go to the lower index. */
uint apgd_ranked(__global const float *z, uint k, uint rank) {
    uint prev = k;
    for (uint r = 0; r < rank; r++) {
        uint best = k;
        for (uint j = 0; j < k; j++) {
            if (prev < k && (z[j] > z[prev] || (z[j] == z[prev] && j <= prev)))
                continue; /* ranked already */
            if (best == k || z[j] > z[best])
                best = j;
        }
        prev = best;
    }
    return prev;
}

/* target[r] = the rank-th largest clean logit of row r (APGD-T's target of round rank-1). */
__kernel void apgd_target(__global const float *logits, __global int *target, uint n, uint k, uint rank) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    target[r] = (int)apgd_ranked(logits + (size_t)r * k, k, rank);
}

/* DLR loss and its gradient, one row per work item. Untargeted (target NULL-flagged by
 * targeted == 0): -(z_y - max_{j!=y} z_j)/(z_p1 - z_p3 + 1e-12); targeted:
 * -(z_y - z_t)/(z_p1 - (z_p3 + z_p4)/2 + 1e-12), p_i the i-th largest. correct: the first
 * maximum is y. */
__kernel void apgd_dlr(__global const float *logits, __global const int *labels, __global const int *target,
                       __global float *dlogits, __global float *row_loss, __global int *row_correct, uint n,
                       uint k, int targeted) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    __global const float *z = logits + (size_t)r * k;
    __global float *g = dlogits + (size_t)r * k;
    for (uint j = 0; j < k; j++)
        g[j] = 0.0f;
    int y = labels[r];
    uint p1 = apgd_ranked(z, k, 1), p2 = apgd_ranked(z, k, 2), p3 = apgd_ranked(z, k, 3);
    row_correct[r] = (int)p1 == y;
    uint o = targeted ? (uint)target[r] : ((int)p1 == y ? p2 : p1);
    float num = z[y] - z[o], den;
    if (targeted) {
        uint p4 = apgd_ranked(z, k, 4);
        den = z[p1] - 0.5f * (z[p3] + z[p4]) + 1e-12f;
        g[p3] -= 0.5f * num / (den * den);
        g[p4] -= 0.5f * num / (den * den);
    } else {
        den = z[p1] - z[p3] + 1e-12f;
        g[p3] -= num / (den * den);
    }
    g[p1] += num / (den * den);
    g[y] -= 1.0f / den;
    g[o] += 1.0f / den;
    row_loss[r] = -num / den;
}

/* After the loss at the start point (first) or at a step: fooled |= misclassified; count
 * the increases over the previous step's loss (the previous of the first step is 0, as
 * the reference's zero-filled history gives); improved = the loss beats the best, which
 * it then becomes. first also resets the schedule: step = 2 eps, no reduction "last time". */
__kernel void apgd_track(__global const float *loss, __global const int *correct, __global float *loss_best,
                         __global float *loss_prev, __global float *loss_best_last, __global float *step,
                         __global int *count, __global int *reduced_last, __global int *fooled,
                         __global int *improved, uint n, float eps, int first) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    float l = loss[r];
    if (first) {
        loss_best[r] = l;
        loss_best_last[r] = l;
        loss_prev[r] = 0.0f;
        step[r] = 2.0f * eps;
        count[r] = 0;
        reduced_last[r] = 1;
        fooled[r] = !correct[r];
        improved[r] = 1;
        return;
    }
    fooled[r] |= !correct[r];
    count[r] += l > loss_prev[r];
    loss_prev[r] = l;
    int better = l > loss_best[r];
    if (better)
        loss_best[r] = l;
    improved[r] = better;
}

/* A checkpoint after `window` steps: halve the step (reset = 1, the caller restarts the
 * row from its best point) when at most rho*window of them increased the loss, or when the
 * step was not halved last time and the best loss has not improved since. */
__kernel void apgd_checkpoint(__global const float *loss_best, __global float *loss_best_last,
                              __global float *step, __global int *count, __global int *reduced_last,
                              __global int *reset, uint n, uint window, float rho) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    int oscillating = (float)count[r] <= (float)window * rho;
    int stalled = !reduced_last[r] && loss_best_last[r] >= loss_best[r];
    int fl = oscillating || stalled;
    reduced_last[r] = fl;
    loss_best_last[r] = loss_best[r];
    if (fl)
        step[r] *= 0.5f;
    reset[r] = fl;
    count[r] = 0;
}
