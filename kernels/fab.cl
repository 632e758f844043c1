/* The steps of targeted FAB, L-inf or L2 (Croce & Hein, "Minimally distorted adversarial examples
 * with a fast adaptive boundary attack", ICML 2020, as their autoattack code runs it for
 * FAB-T; spec §7.4): the linearised decision function f_t - f_y and its gradient, the step
 * that projects onto the linearised boundary from the current and the original point and
 * extrapolates between them, and the bookkeeping of the smallest adversarial point.
 * Every kernel takes one work item per image: the projection sorts the image's pixels. */

/* r of a pixel whose weight is (nearly) zero: it never saturates (the reference's 1e12) */
#define FAB_FAR 1e12f

/* g = e_t - e_y, loss = z_t - z_y (FAB's targeted f), correct: the first maximum is y. */
__kernel void fab_diff(__global const float *logits, __global const int *labels, __global const int *target,
                       __global float *dlogits, __global float *row_loss, __global int *row_correct, uint n,
                       uint k) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    __global const float *z = logits + (size_t)r * k;
    __global float *g = dlogits + (size_t)r * k;
    int y = labels[r], t = target[r];
    for (uint j = 0; j < k; j++)
        g[j] = ((int)j == t) - ((int)j == y);
    row_loss[r] = z[t] - z[y];
    row_correct[r] = (int)apgd_ranked(z, k, 1) == y;
}

/* w_e, the pixel-space gradient: the network input is (pixel - mean)/std. */
float fab_weight(__global const float *g, uint e, uint hw, uint c, float s0, float s1, float s2) {
    return g[e] / attack_channel((e / hw) % c, s0, s1, s2);
}

/* Heap sort of key[0..n) ascending, order[] carried along. */
void fab_sift(__global float *key, __global int *order, uint root, uint end) {
    while (2 * root + 1 < end) {
        uint child = 2 * root + 1;
        if (child + 1 < end && key[child + 1] > key[child])
            child++;
        if (key[root] >= key[child])
            return;
        float tk = key[root];
        int to = order[root];
        key[root] = key[child], order[root] = order[child];
        key[child] = tk, order[child] = to;
        root = child;
    }
}

void fab_sort(__global float *key, __global int *order, uint n) {
    for (uint i = n / 2; i-- > 0;)
        fab_sift(key, order, i, n);
    for (uint end = n - 1; end > 0; end--) {
        float tk = key[0];
        int to = order[0];
        key[0] = key[end], order[0] = order[end];
        key[end] = tk, order[end] = to;
        fab_sift(key, order, 0, end);
    }
}

/* d = the smallest L-inf step from t onto the hyperplane <w, z> = b with t + d in [0,1]
 * (autoattack's projection_linf): every pixel moves by min(lambda, its room) towards the
 * side that moves <w, z> to b; lambda comes from the pixels sorted by room, suffix sums of
 * |w| and of the saturated pixels' share, and a bisection over the sorted positions. Where
 * the box cannot reach the hyperplane, d is the box corner nearest to it. Returns max |d|.
 * room, order, s, sb: scratch of per. */
float fab_project(__global const float *t, __global const float *g, uint per, uint hw, uint c, float s0, float s1,
                  float s2, float b, __global float *d, __global float *room, __global int *order,
                  __global float *s, __global float *sb) {
    float side = -b;
    for (uint e = 0; e < per; e++)
        side += fab_weight(g, e, hw, c, s0, s1, s2) * t[e];
    float sg = side >= 0.0f ? 1.0f : -1.0f, need = sg * b, b0 = 0.0f;
    for (uint e = 0; e < per; e++) {
        float w = sg * fab_weight(g, e, hw, c, s0, s1, s2), up = w < 0.0f ? 1.0f : 0.0f;
        need -= w * t[e];
        d[e] = w != 0.0f ? up - t[e] : 0.0f;
        room[e] = w < 0.0f ? 1.0f - t[e] : t[e];
        order[e] = (int)e;
        b0 += w * d[e];
    }
    fab_sort(room, order, per);
    float acc_s = 0.0f, acc_b = b0;
    for (uint j = 0; j < per; j++) { /* largest room first */
        uint e = (uint)order[per - 1 - j];
        float w = sg * fab_weight(g, e, hw, c, s0, s1, s2);
        acc_s += fabs(w);
        acc_b -= w * d[e];
        s[j] = acc_s;
        sb[j] = acc_b;
    }
    int low = need - (sb[per - 1] - s[per - 1] * room[0]) > 0.0f; /* reached before any pixel saturates */
    int mid = !low && need - b0 > 0.0f;
    uint lb = per - 1;
    if (mid) {
        uint lo = 0, hi = per - 1, steps = 0;
        while ((1u << steps) < per)
            steps++;
        for (uint it = 0; it < steps; it++) {
            uint c4 = (lo + hi) / 2;
            if (need - (sb[c4] - s[c4] * room[per - 1 - c4]) > 0.0f)
                lo = c4;
            else
                hi = c4;
        }
        lb = lo;
    }
    float lam = (low || mid) && s[lb] > 0.0f ? fmax((need - sb[lb]) / -s[lb], 0.0f) : 0.0f, most = 0.0f;
    for (uint e = 0; e < per; e++) {
        float w = sg * fab_weight(g, e, hw, c, s0, s1, s2), v = d[e];
        if (w == 0.0f)
            v = 0.0f;
        else if (low)
            v = w < 0.0f ? lam : -lam;
        else if (mid)
            v = w < 0.0f ? fmin(lam, v) : fmax(-lam, v);
        d[e] = v;
        most = fmax(most, fabs(v));
    }
    return most;
}

/* d = the smallest L2 step from t onto the hyperplane <w, z> = b with t + d in [0,1]
 * (autoattack's projection_l2): d_e = clamp(-alpha w_e, -t_e, 1 - t_e) for the alpha >= 0 that
 * lands on it, after the sign of w is turned so that alpha moves towards the hyperplane. Pixel
 * e saturates once alpha passes r_e; with the pixels sorted by r_e, <w, d(alpha)> is linear
 * between breakpoints, and a scan of the prefix sums finds the piece that holds the hyperplane
 * (the reference bisects over the same sums; they are monotone, so both find the same piece).
 * Where the box cannot reach the hyperplane, d is the corner nearest to it. Returns ||d||_2.
 * r, order, tail: scratch of per. */
float fab_project_l2(__global const float *t, __global const float *g, uint per, uint hw, uint c, float s0,
                     float s1, float s2, float b, __global float *d, __global float *r, __global int *order,
                     __global float *tail) {
    float side = -b;
    for (uint e = 0; e < per; e++)
        side += fab_weight(g, e, hw, c, s0, s1, s2) * t[e];
    float sg = side < 0.0f ? -1.0f : 1.0f, cc = sg * side, w5 = 0.0f, corner = cc;
    for (uint e = 0; e < per; e++) {
        float w = sg * fab_weight(g, e, hw, c, s0, s1, s2);
        int live = fabs(w) > 1e-8f;
        r[e] = live ? fmax(t[e] / w, (t[e] - 1.0f) / w) : FAB_FAR;
        order[e] = (int)e;
        d[e] = live ? -r[e] * w : 0.0f;
        corner += w * d[e];
        w5 += w * w;
    }
    float alpha = 0.0f;
    if (corner <= 0.0f) { /* reachable inside the box: else d stays the nearest corner */
        fab_sort(r, order, per);
        float acc = 0.0f;
        for (uint j = per; j-- > 0;) { /* tail[j]: the squared weights still moving after r[j] */
            tail[j] = acc;
            float w = fab_weight(g, (uint)order[j], hw, c, s0, s1, s2);
            acc += w * w;
        }
        float r0 = r[0] < FAB_FAR ? r[0] : 0.0f, sj = -w5 * r0;
        if (sj + cc < 0.0f) { /* reached before any pixel saturates */
            alpha = cc / w5;
        } else {
            uint lb = 0;
            for (; lb + 1 < per; lb++) {
                float ra = r[lb] < FAB_FAR ? r[lb] : 0.0f, rb = r[lb + 1] < FAB_FAR ? r[lb + 1] : 0.0f;
                float next = sj + (ra - rb) * tail[lb];
                if (!(next + cc > 0.0f))
                    break;
                sj = next;
            }
            float ra = r[lb] < FAB_FAR ? r[lb] : 0.0f;
            alpha = tail[lb] != 0.0f ? (sj + cc) / tail[lb] + ra : 0.0f;
        }
    }
    float sq = 0.0f;
    for (uint e = 0; e < per; e++) {
        float w = sg * fab_weight(g, e, hw, c, s0, s1, s2), v = d[e];
        if (!(fabs(w) > 1e-8f))
            v = 0.0f;
        else if (corner <= 0.0f && !(alpha > fmax(t[e] / w, (t[e] - 1.0f) / w)))
            v = -alpha * w;
        d[e] = v;
        sq += v * v;
    }
    return sqrt(sq);
}

/* One FAB step per image: with f = row_loss and its gradient g at x1, the linearised
 * boundary is <w, z> = <w, x1> - f; d1, d2 are the projections of x1 and of the original x0
 * onto it (l2: in the L2 norm, else L-inf), and
 * x1 <- clamp((x1 + eta d1)(1 - a) + (x0 + eta d2) a, 0, 1) with
 * a = min(|d1| / (|d1| + |d2|), alpha_max) in the same norm. */
__kernel void fab_step(__global const float *x0, __global float *x1, __global const float *g,
                       __global const float *row_loss, __global float *d1, __global float *d2,
                       __global float *room, __global int *order, __global float *s, __global float *sb, uint n,
                       uint per, uint hw, uint c, float s0, float s1, float s2, float eta, float alpha_max,
                       uint l2) {
    uint r = get_global_id(0);
    if (r >= n)
        return;
    size_t o = (size_t)r * per;
    __global float *p = x1 + o;
    __global const float *q = x0 + o, *gr = g + o;
    float b = -row_loss[r];
    for (uint e = 0; e < per; e++)
        b += fab_weight(gr, e, hw, c, s0, s1, s2) * p[e];
    float a1, a2;
    if (l2) {
        a1 = fab_project_l2(p, gr, per, hw, c, s0, s1, s2, b, d1 + o, room + o, order + o, s + o);
        a2 = fab_project_l2(q, gr, per, hw, c, s0, s1, s2, b, d2 + o, room + o, order + o, s + o);
    } else {
        a1 = fab_project(p, gr, per, hw, c, s0, s1, s2, b, d1 + o, room + o, order + o, s + o, sb + o);
        a2 = fab_project(q, gr, per, hw, c, s0, s1, s2, b, d2 + o, room + o, order + o, s + o, sb + o);
    }
    a1 = fmax(a1, 1e-8f);
    a2 = fmax(a2, 1e-8f);
    float a = fmin(fmax(a1 / (a1 + a2), 0.0f), alpha_max);
    for (uint e = 0; e < per; e++)
        p[e] = clamp((p[e] + eta * d1[o + e]) * (1.0f - a) + (q[e] + eta * d2[o + e]) * a, 0.0f, 1.0f);
}

/* After the prediction at x1: a misclassified x1 closer to x0 (L2 distance with l2, else
 * L-inf) than the best so far becomes the best (best, dist), and x1 steps back towards x0 by
 * beta. */
__kernel void fab_track(__global const float *x0, __global float *x1, __global const int *correct,
                        __global float *best, __global float *dist, uint n, uint per, float beta, uint l2) {
    uint r = get_global_id(0);
    if (r >= n || correct[r])
        return;
    size_t o = (size_t)r * per;
    float m = 0.0f;
    for (uint e = 0; e < per; e++) {
        float v = x1[o + e] - x0[o + e];
        m = l2 ? m + v * v : fmax(m, fabs(v));
    }
    m = l2 ? sqrt(m) : m;
    if (m < dist[r]) {
        dist[r] = m;
        for (uint e = 0; e < per; e++)
            best[o + e] = x1[o + e];
    }
    for (uint e = 0; e < per; e++)
        x1[o + e] = x0[o + e] + (x1[o + e] - x0[o + e]) * beta;
}
