/* The steps of APGD (Croce & Hein 2020, Algorithm 1, as their autoattack code runs it for
 * L-inf and L2): the normalised random start, the momentum step with projection, the DLR losses,
 * target selection and the per-row bookkeeping of the step-size schedule (spec §7.4).
 * Elementwise kernels take one work item per element, row kernels one per image. */

/* A standard normal draw of element e (Box-Muller on the counter uniforms 2e and 2e+1): the
 * reference's L2 start draws torch.randn. */
float apgd_normal(uint key, uint counter, uint e) {
    float u1 = 1.0f - rcl_counter_uniform(key, counter, 2 * e); /* (0,1]: a finite log */
    float u2 = rcl_counter_uniform(key, counter, 2 * e + 1);
    return sqrt(-2.0f * log(u1)) * cos(6.28318530718f * u2);
}

/* Element e of the start's direction: uniform in [-1,1] for L-inf, normal for L2. */
float apgd_draw(uint key, uint counter, uint e, int l2) {
    return l2 ? apgd_normal(key, counter, e) : 2.0f * rcl_counter_uniform(key, counter, e) - 1.0f;
}

/* adv = clamp(x + eps*t/(|t| + 1e-12), 0, 1), |t| the max norm (L-inf) or the 2-norm (l2) of the
 * row's draws t keyed by (seed ^ hash(index), counter, element): one work item per row, as the
 * norm is the row's. */
__kernel void apgd_start(__global const float *x, __global const int *index, __global float *adv, uint n,
                         uint per, float eps, uint seed, uint counter, int l2) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    uint key = seed ^ rcl_hash((uint)index[r]);
    size_t base = (size_t)r * per;
    float m = 0.0f;
    for (uint e = 0; e < per; e++) {
        float t = apgd_draw(key, counter, e, l2);
        m = l2 ? m + t * t : fmax(m, fabs(t));
    }
    m = l2 ? sqrt(m) : m;
    for (uint e = 0; e < per; e++) {
        float t = apgd_draw(key, counter, e, l2);
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

/* The reference's L2 projection of v (whose row is at distance dist from x) onto the eps-ball
 * around x, then [0,1]: x + (v - x)/(dist + 1e-12)*min(eps, dist). */
float apgd_l2_project(float v, float x, float dist, float eps) {
    return clamp(x + (v - x) * (fmin(eps, dist) / (dist + 1e-12f)), 0.0f, 1.0f);
}

/* The momentum point before its projection: z = P(adv + s*g) with the first projection's
 * distance d1, then adv + a*(z - adv) + (1 - a)*(adv - old). */
float apgd_l2_momentum(float xa, float xo, float xi, float gv, float s, float d1, float eps, float a) {
    float z = apgd_l2_project(xa + s * gv, xi, d1, eps);
    return xa + (z - xa) * a + (xa - xo) * (1.0f - a);
}

/* APGD's L2 step: z = P(adv + step*g/(|g|_2 + 1e-12)); adv' = P(adv + a*(z - adv) + (1 - a)*(adv -
 * old)); old' = adv; P the L2 projection above. Each projection needs its row's distance, so one
 * work item runs a row in four passes (|g|, the distance of the gradient step, the distance of
 * the momentum point, the writes). */
__kernel void apgd_step_l2(__global const float *x, __global const float *g, __global const float *step,
                           __global float *old, __global float *adv, uint n, uint per, float eps, float a) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    __global const float *xr = x + (size_t)r * per, *gr = g + (size_t)r * per;
    __global float *ar = adv + (size_t)r * per, *orow = old + (size_t)r * per;
    float gn = 0.0f, d1 = 0.0f, d2 = 0.0f;
    for (uint e = 0; e < per; e++)
        gn += gr[e] * gr[e];
    float s = step[r] / (sqrt(gn) + 1e-12f);
    for (uint e = 0; e < per; e++) {
        float d = ar[e] + s * gr[e] - xr[e];
        d1 += d * d;
    }
    d1 = sqrt(d1);
    for (uint e = 0; e < per; e++) {
        float d = apgd_l2_momentum(ar[e], orow[e], xr[e], gr[e], s, d1, eps, a) - xr[e];
        d2 += d * d;
    }
    d2 = sqrt(d2);
    for (uint e = 0; e < per; e++) {
        float v = apgd_l2_momentum(ar[e], orow[e], xr[e], gr[e], s, d1, eps, a);
        orow[e] = ar[e];
        ar[e] = apgd_l2_project(v, xr[e], d2, eps);
    }
}

/* dist[r] = |a_r - b_r|_2, one work item per row (the L2 size of the points AutoAttack kept). */
__kernel void apgd_row_l2(__global const float *a, __global const float *b, __global float *dist, uint n,
                          uint per) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    size_t base = (size_t)r * per;
    float sum = 0.0f;
    for (uint e = 0; e < per; e++) {
        float d = a[base + e] - b[base + e];
        sum += d * d;
    }
    dist[r] = sqrt(sum);
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
