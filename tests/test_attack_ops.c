/* The attack's device ops against their double references (robustcl/adversarial.h),
 * the loss references against finite differences, and the properties each op promises
 * (sign(0) = 0, projection radius, [0,1] range, worst case kept). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/ref.h"
#include "robustcl/adversarial.h"
#include "robustcl/tensor.h"

static double *dalloc(size_t n) { return calloc(n, sizeof(double)); }

/* uploads doubles as floats and keeps the rounded values in x */
static void put(rcl_tensor *t, double *x) {
    float *f = malloc(t->n * sizeof *f);
    rcl_to_float(x, f, t->n);
    rcl_to_double(f, x, t->n);
    CHECK_OK(rcl_tensor_upload(t, f));
    free(f);
}

static void get(const rcl_tensor *t, float *out) { CHECK_OK(rcl_tensor_download(t, out)); }

static cl_mem ints(rcl_device *d, const int32_t *v, int n) {
    cl_mem m;
    CHECK_OK(rcl_device_alloc(d, (size_t)n * sizeof(cl_int), "test ints", &m));
    if (v)
        clEnqueueWriteBuffer(rcl_device_queue(d), m, CL_TRUE, 0, (size_t)n * sizeof(cl_int), v, 0, NULL, NULL);
    return m;
}

static void read_ints(rcl_device *d, cl_mem m, int32_t *v, int n) {
    clEnqueueReadBuffer(rcl_device_queue(d), m, CL_TRUE, 0, (size_t)n * sizeof(cl_int), v, 0, NULL, NULL);
}

static void conversions(rcl_device *d, rcl_rng *r, int n, int c, int h, int w) {
    int hw = h * w;
    size_t total = (size_t)n * c * hw;
    const float mean[3] = {0.4914f, 0.4822f, 0.4465f}, std[3] = {0.247f, 0.243f, 0.261f};
    double *x = dalloc(total), *p = dalloc(total), *adv = dalloc(total), *rp = dalloc(total), *ro = dalloc(total);
    float *out = malloc(total * sizeof *out);
    rcl_fill_uniform(r, x, total, -2.2, 2.2); /* beyond [0,1] in pixels: exercises the clamp */
    rcl_tensor tx, tp, ta, to;
    CHECK_OK(rcl_tensor_create(d, &tx, "x", 4, n, c, h, w));
    CHECK_OK(rcl_tensor_create(d, &tp, "p", 4, n, c, h, w));
    CHECK_OK(rcl_tensor_create(d, &ta, "adv", 4, n, c, h, w));
    CHECK_OK(rcl_tensor_create(d, &to, "out", 4, n, c, h, w));
    put(&tx, x);
    CHECK_OK(rcl_attack_to_pixels(d, &tx, mean, std, &tp));
    rcl_ref_attack_to_pixels(n, c, hw, x, mean, std, rp);
    get(&tp, out);
    rcl_check_close("attack_to_pixels", out, rp, total, 1e-6, 1e-6, 1e-6);
    int in_range = 1;
    for (size_t i = 0; i < total; i++)
        in_range &= out[i] >= 0.0f && out[i] <= 1.0f;
    CHECK(in_range, "pixels lie in [0,1]");
    rcl_to_double(out, p, total);
    for (size_t i = 0; i < total; i++)
        adv[i] = p[i] + (rcl_rng_uniform(r) - 0.5) * 0.1;
    put(&ta, adv);
    CHECK_OK(rcl_attack_to_network(d, &tx, &tp, &ta, std, &to));
    rcl_ref_attack_to_network(n, c, hw, x, p, adv, std, ro);
    get(&to, out);
    rcl_check_close("attack_to_network", out, ro, total, 1e-6, 1e-5, 1e-6);
    /* an unperturbed image maps back to the exact input bits; out may alias x */
    CHECK_OK(rcl_attack_to_network(d, &tx, &tp, &tp, std, &tx));
    get(&tx, out);
    int same = 1;
    for (size_t i = 0; i < total; i++)
        same &= out[i] == (float)x[i];
    CHECK(same, "attack_to_network of the unperturbed image is bit-identical to the input");
    float mean4[3] = {0, 0, 0};
    if (c <= 3) {
        rcl_tensor bad;
        CHECK_OK(rcl_tensor_create(d, &bad, "bad", 4, n, 4, h, w));
        CHECK_FAILS(rcl_attack_to_pixels(d, &bad, mean4, std, &bad), RCL_ERR_INVALID_ARG);
        rcl_tensor_release(&bad);
    }
    rcl_tensor_release(&tx), rcl_tensor_release(&tp), rcl_tensor_release(&ta), rcl_tensor_release(&to);
    free(x), free(p), free(adv), free(rp), free(ro), free(out);
}

static void start_and_step(rcl_device *d, rcl_rng *r, int n, int c, int h, int w, rcl_attack_mode mode,
                           int random_start) {
    int per = c * h * w;
    size_t total = (size_t)n * per;
    double *x = dalloc(total), *adv = dalloc(total), *cen = dalloc(total), *g = dalloc(total);
    float *fa = malloc(total * sizeof *fa), *fc = malloc(total * sizeof *fc);
    int32_t *index = malloc((size_t)n * sizeof *index);
    for (int i = 0; i < n; i++)
        index[i] = (int32_t)rcl_rng_below(r, 1000000);
    rcl_fill_uniform(r, x, total, 0, 1);
    for (size_t i = 0; i < total; i += 7) /* pixels at the edges of the range */
        x[i] = (i / 7) % 2 ? 1.0 : 0.0;
    rcl_tensor tx, ta, tc, tg;
    CHECK_OK(rcl_tensor_create(d, &tx, "x", 4, n, c, h, w));
    CHECK_OK(rcl_tensor_create(d, &ta, "adv", 4, n, c, h, w));
    CHECK_OK(rcl_tensor_create(d, &tc, "centre", 4, n, c, h, w));
    CHECK_OK(rcl_tensor_create(d, &tg, "grad", 4, n, c, h, w));
    put(&tx, x);
    cl_mem ib = ints(d, index, n);
    const float eps = 8.0f / 255.0f, step = 2.0f / 255.0f;
    uint32_t seed = 12345u, counter = 3;
    CHECK_OK(rcl_attack_start(d, &tx, ib, random_start, eps, mode, seed, counter, &ta, &tc));
    rcl_ref_attack_start(n, per, x, index, random_start, eps, mode, seed, counter, adv, cen);
    char what[128];
    snprintf(what, sizeof what, "attack_start adv (mode %s, random %d)", rcl_attack_mode_name(mode), random_start);
    get(&ta, fa);
    rcl_check_close(what, fa, adv, total, 1e-6, 1e-6, 1e-6);
    snprintf(what, sizeof what, "attack_start centre (mode %s, random %d)", rcl_attack_mode_name(mode), random_start);
    get(&tc, fc);
    rcl_check_close(what, fc, cen, total, 1e-6, 1e-6, 1e-6);
    /* start: within eps of x; textbook clamps it, paper does not; the noise is not constant */
    int within = 1, clamped = 1, moved = 0;
    for (size_t i = 0; i < total; i++) {
        within &= fabs(fa[i] - x[i]) <= eps + 1e-6;
        clamped &= fa[i] >= 0.0f && fa[i] <= 1.0f;
        moved += fa[i] != (float)x[i];
    }
    CHECK(within, "start within eps of x");
    if (mode == RCL_ATTACK_TEXTBOOK || !random_start)
        CHECK(clamped, "textbook start clamped to [0,1]");
    else if (total >= 64) /* a seventh of the pixels sit at 0 or 1: about half of those leave the range */
        CHECK(!clamped, "paper start left unclamped (some pixels outside [0,1])");
    CHECK(random_start ? moved > (int)total / 2 : moved == 0, "start moved %d of %zu pixels", moved, total);
    for (int it = 0; it < 6; it++) {
        rcl_fill_uniform(r, g, total, -1, 1);
        for (size_t i = 0; i < total; i += 5)
            g[i] = 0; /* sign(0) = 0 */
        put(&tg, g);
        double *before = dalloc(total);
        memcpy(before, adv, total * sizeof *adv);
        CHECK_OK(rcl_attack_step(d, &tg, &tc, step, eps, &ta));
        rcl_ref_attack_step(total, g, cen, step, eps, adv);
        get(&ta, fa);
        snprintf(what, sizeof what, "attack_step %d (mode %s, random %d)", it, rcl_attack_mode_name(mode),
                 random_start);
        rcl_check_close(what, fa, adv, total, 1e-6, 1e-6, 1e-6);
        int zero_kept = 1, in_box = 1, in_range = 1;
        for (size_t i = 0; i < total; i++) {
            if (g[i] == 0)
                zero_kept &= fabs(fa[i] - fmin(fmax(fmin(fmax(before[i], cen[i] - eps), cen[i] + eps), 0), 1)) < 1e-6;
            in_box &= fabs(fa[i] - fc[i]) <= eps + 1e-6;
            in_range &= fa[i] >= 0.0f && fa[i] <= 1.0f;
        }
        CHECK(zero_kept, "a zero gradient moves nothing (only projection and clamp apply)");
        CHECK(in_box, "step stays within eps of the centre");
        CHECK(in_range, "step stays in [0,1]");
        rcl_to_double(fa, adv, total); /* continue from the device's values */
        free(before);
    }
    rcl_device_free(d, ib, (size_t)n * sizeof(cl_int));
    rcl_tensor_release(&tx), rcl_tensor_release(&ta), rcl_tensor_release(&tc), rcl_tensor_release(&tg);
    free(x), free(adv), free(cen), free(g), free(fa), free(fc), free(index);
}

static void loss_grad(rcl_device *d, rcl_rng *r, int n, int k, rcl_attack_loss loss) {
    size_t total = (size_t)n * k;
    double *z = dalloc(total), *g = dalloc(total), *rl = dalloc(n);
    int32_t *y = malloc((size_t)n * sizeof *y), *rc = malloc((size_t)n * sizeof *rc),
            *dc = malloc((size_t)n * sizeof *dc);
    float *fg = malloc(total * sizeof *fg), *fl = malloc((size_t)n * sizeof *fl);
    rcl_fill_uniform(r, z, total, -5, 5);
    for (int i = 0; i < n; i++) {
        y[i] = (int32_t)rcl_rng_below(r, (uint64_t)k);
        if (i % 4 == 1) /* ties: the first maximum decides correctness */
            z[(size_t)i * k + (k - 1)] = z[(size_t)i * k] = 7.0;
        if (i % 4 == 2)
            z[(size_t)i * k + y[i]] = 9.0;
    }
    y[n - 1] = k; /* an out-of-range label gives a zero row */
    rcl_tensor tz, tg, tl;
    CHECK_OK(rcl_tensor_create(d, &tz, "logits", 2, n, k));
    CHECK_OK(rcl_tensor_create(d, &tg, "dlogits", 2, n, k));
    CHECK_OK(rcl_tensor_create(d, &tl, "row loss", 1, n));
    put(&tz, z);
    cl_mem yb = ints(d, y, n), cb = ints(d, NULL, n);
    CHECK_OK(rcl_attack_loss_grad(d, loss, &tz, yb, &tg, &tl, cb));
    rcl_ref_attack_loss(loss, n, k, z, y, g, rl, rc);
    char what[96];
    snprintf(what, sizeof what, "attack loss %s gradient n=%d k=%d", loss ? "margin" : "ce", n, k);
    get(&tg, fg);
    rcl_check_close(what, fg, g, total, 1e-5, 1e-6, 1e-5);
    snprintf(what, sizeof what, "attack loss %s value n=%d k=%d", loss ? "margin" : "ce", n, k);
    get(&tl, fl);
    rcl_check_close(what, fl, rl, n, 1e-5, 1e-5, 1e-5);
    read_ints(d, cb, dc, n);
    CHECK(!memcmp(dc, rc, (size_t)n * sizeof *dc), "attack loss correctness flags match the reference");
    /* correctness against a plain first-argmax, and the reference gradient against differences */
    int ok_flags = 1;
    for (int i = 0; i < n - 1; i++) {
        int am = 0;
        for (int j = 1; j < k; j++)
            if (z[(size_t)i * k + j] > z[(size_t)i * k + am])
                am = j;
        ok_flags &= rc[i] == (am == y[i]);
    }
    CHECK(ok_flags && rc[n - 1] == 0, "correct = first maximum is the label");
    double *zp = dalloc(total), *gp = dalloc(total), *lp = dalloc(n), *lm = dalloc(n), *fd = dalloc(total);
    int32_t *cp = malloc((size_t)n * sizeof *cp);
    const double h = 1e-6;
    for (size_t e = 0; e < total; e++) {
        memcpy(zp, z, total * sizeof *z);
        zp[e] += h;
        rcl_ref_attack_loss(loss, n, k, zp, y, gp, lp, cp);
        zp[e] -= 2 * h;
        rcl_ref_attack_loss(loss, n, k, zp, y, gp, lm, cp);
        fd[e] = (lp[e / k] - lm[e / k]) / (2 * h);
    }
    /* margin: non-differentiable at ties among the other logits; rows 1 mod 4 have them */
    for (int i = 0; i < n; i++)
        if (loss == RCL_ATTACK_LOSS_MARGIN && i % 4 == 1)
            for (int j = 0; j < k; j++)
                fd[(size_t)i * k + j] = g[(size_t)i * k + j];
    snprintf(what, sizeof what, "attack loss %s gradient vs differences", loss ? "margin" : "ce");
    rcl_check_close_d(what, g, fd, total, 1e-6, 1e-7, 1e-5);
    rcl_device_free(d, yb, (size_t)n * sizeof(cl_int));
    rcl_device_free(d, cb, (size_t)n * sizeof(cl_int));
    rcl_tensor_release(&tz), rcl_tensor_release(&tg), rcl_tensor_release(&tl);
    free(z), free(g), free(rl), free(y), free(rc), free(dc), free(fg), free(fl);
    free(zp), free(gp), free(lp), free(lm), free(fd), free(cp);
}

static void keep_worst_and_stats(rcl_device *d, rcl_rng *r, int n, int per) {
    size_t total = (size_t)n * per;
    double *adv = dalloc(total), *best = dalloc(total), *loss = dalloc(n), *bl = dalloc(n);
    int32_t *corr = malloc((size_t)n * sizeof *corr), *bc = malloc((size_t)n * sizeof *bc);
    int32_t *dc = malloc((size_t)n * sizeof *dc), *zero = malloc((size_t)n * sizeof *zero);
    float *fb = malloc(total * sizeof *fb), *fl = malloc((size_t)n * sizeof *fl);
    rcl_tensor ta, tb, tl, tbl, tmd;
    CHECK_OK(rcl_tensor_create(d, &ta, "adv", 4, n, per, 1, 1));
    CHECK_OK(rcl_tensor_create(d, &tb, "best", 4, n, per, 1, 1));
    CHECK_OK(rcl_tensor_create(d, &tl, "loss", 1, n));
    CHECK_OK(rcl_tensor_create(d, &tbl, "best loss", 1, n));
    CHECK_OK(rcl_tensor_create(d, &tmd, "maxdiff", 1, n));
    cl_mem cb = ints(d, NULL, n), bcb = ints(d, NULL, n), zb = ints(d, NULL, n);
    for (int round = 0; round < 4; round++) {
        rcl_fill_uniform(r, adv, total, 0, 1);
        rcl_fill_uniform(r, loss, n, 0, 3);
        for (int i = 0; i < n; i++)
            corr[i] = rcl_rng_below(r, 2) ? 1 : 0;
        put(&ta, adv);
        put(&tl, loss);
        clEnqueueWriteBuffer(rcl_device_queue(d), cb, CL_TRUE, 0, (size_t)n * sizeof(cl_int), corr, 0, NULL, NULL);
        CHECK_OK(rcl_attack_keep_worst(d, &ta, &tl, cb, round == 0, &tb, &tbl, bcb));
        int was_correct[4096];
        for (int i = 0; i < n && round > 0; i++)
            was_correct[i] = bc[i];
        rcl_ref_attack_keep_worst(n, per, adv, loss, corr, round == 0, best, bl, bc);
        get(&tb, fb);
        rcl_check_close("attack_keep_worst best", fb, best, total, 1e-7, 1e-7, 1e-7);
        get(&tbl, fl);
        rcl_check_close("attack_keep_worst best loss", fl, bl, n, 1e-7, 1e-7, 1e-7);
        read_ints(d, bcb, dc, n);
        CHECK(!memcmp(dc, bc, (size_t)n * sizeof *dc), "attack_keep_worst flags match the reference (round %d)", round);
        /* once misclassified, an image stays misclassified at its worst case */
        int monotone = 1;
        for (int i = 0; i < n && round > 0; i++)
            monotone &= !(was_correct[i] == 0 && dc[i] == 1);
        CHECK(monotone, "worst case never returns to correct");
    }
    /* row statistics: some gradient rows all zero, one with a single nonzero (the last element) */
    double *g = dalloc(total), *a = dalloc(total), *b = dalloc(total);
    rcl_fill_uniform(r, g, total, -1, 1);
    rcl_fill_uniform(r, a, total, 0, 1);
    rcl_fill_uniform(r, b, total, 0, 1);
    for (int i = 0; i < n; i++) {
        if (i % 3 == 0)
            memset(g + (size_t)i * per, 0, (size_t)per * sizeof *g);
        if (i % 3 == 1) {
            memset(g + (size_t)i * per, 0, (size_t)per * sizeof *g);
            g[(size_t)i * per + per - 1] = -1e-30;
        }
    }
    rcl_tensor tg, tb2;
    CHECK_OK(rcl_tensor_create(d, &tg, "grad", 4, n, per, 1, 1));
    CHECK_OK(rcl_tensor_create(d, &tb2, "b", 4, n, per, 1, 1));
    put(&tg, g);
    put(&ta, a);
    put(&tb2, b);
    CHECK_OK(rcl_attack_row_stats(d, &tg, zb, &ta, &tb2, &tmd));
    read_ints(d, zb, zero, n);
    get(&tmd, fl);
    double *want = dalloc(n);
    int zero_ok = 1;
    for (int i = 0; i < n; i++) {
        for (int e = 0; e < per; e++)
            want[i] = fmax(want[i], fabs(a[(size_t)i * per + e] - b[(size_t)i * per + e]));
        zero_ok &= zero[i] == (i % 3 == 0);
    }
    CHECK(zero_ok, "zero-gradient rows found exactly (a single tiny nonzero counts as nonzero)");
    rcl_check_close("attack_row_stats maxdiff", fl, want, n, 1e-6, 1e-6, 1e-6);
    CHECK_OK(rcl_attack_row_stats(d, NULL, NULL, &tb2, &ta, &tmd));
    get(&tmd, fl);
    rcl_check_close("attack_row_stats maxdiff without gradient", fl, want, n, 1e-6, 1e-6, 1e-6);
    rcl_device_free(d, cb, (size_t)n * sizeof(cl_int));
    rcl_device_free(d, bcb, (size_t)n * sizeof(cl_int));
    rcl_device_free(d, zb, (size_t)n * sizeof(cl_int));
    rcl_tensor *ts[] = {&ta, &tb, &tl, &tbl, &tmd, &tg, &tb2};
    for (int i = 0; i < 7; i++)
        rcl_tensor_release(ts[i]);
    free(adv), free(best), free(loss), free(bl), free(corr), free(bc), free(dc), free(zero), free(fb), free(fl);
    free(g), free(a), free(b), free(want);
}

int main(void) {
    rcl_device *d = rcl_test_device(0);
    rcl_rng r = rcl_rng_seed(7);
    conversions(d, &r, 1, 1, 1, 1);
    conversions(d, &r, 3, 3, 5, 7);
    conversions(d, &r, 17, 1, 28, 28);
    for (int mode = 0; mode < 2; mode++)
        for (int rs = 0; rs < 2; rs++) {
            start_and_step(d, &r, 1, 1, 3, 3, (rcl_attack_mode)mode, rs);
            start_and_step(d, &r, 9, 3, 8, 8, (rcl_attack_mode)mode, rs);
        }
    int ks[] = {2, 3, 10, 100};
    for (int i = 0; i < 4; i++) {
        loss_grad(d, &r, 13, ks[i], RCL_ATTACK_LOSS_CE);
        loss_grad(d, &r, 13, ks[i], RCL_ATTACK_LOSS_MARGIN);
    }
    keep_worst_and_stats(d, &r, 1, 5);
    keep_worst_and_stats(d, &r, 37, 300);
    if (!rcl_test_small())
        keep_worst_and_stats(d, &r, 128, 3072);
    rcl_device_close(d);
    return rcl_test_finish();
}
