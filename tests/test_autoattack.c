/* AutoAttack (spec §7.4), tests a no-op or overreaching attack cannot pass, for L-inf and L2:
 * - a linear softmax model of K classes with known weights, where the strongest perturbation
 *   towards each class is known in closed form (L-inf: each pixel eps towards the sign of the
 *   margin's gradient a, inside [0,1]; L2: at most eps*|a|_2, reached without the box, and at
 *   least the push along a clipped to the box): no image the closed form keeps robust is counted
 *   fooled (the projection and box hold), every image a quarter of the feasible push already
 *   flips is fooled, misclassified images are never attacked;
 * - eps 0 gives the clean accuracy; robust accuracy never rises from one attack to the next;
 *   max |x' - x| <= eps (L2: max |x' - x|_2); the same seed repeats a run, and APGD's and
 *   FAB-T's outcomes do not depend on the batch size; Square alone does something and stays
 *   sound; FAB-T alone (L-inf), whose linearisation is exact here, fools everything 0.9 of the
 *   optimal push flips;
 * - the DLR losses' references against finite differences;
 * - FAB's projection reference against a bisection on its radius: on the hyperplane, in the
 *   box, smallest radius; the nearest corner where the box cannot reach;
 * - spec parsing and its errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/ref.h"
#include "robustcl/autoattack.h"
#include "robustcl/loader.h"
#include "robustcl/tensor.h"

#define NC 2
#define H 5
#define W 5
#define PER (NC * H * W)
#define K 5
#define N 120

static const rcl_normalization NORM = {{0.4f, 0.5f, 0.5f}, {0.2f, 0.25f, 0.25f}};

typedef struct {
    float w[K * PER], b[K];
    rcl_dataset ds;
    double xpix[N * PER];
} problem;

/* z_j of a pixel image as the network sees it. */
static double logit(const problem *p, int j, const double *pix) {
    double z = p->b[j];
    for (int e = 0; e < PER; e++)
        z += p->w[j * PER + e] * ((pix[e] - NORM.mean[e / (H * W)]) / NORM.std[e / (H * W)]);
    return z;
}

/* The reduction of the margin z_y - z_j (gradient a) by a perturbation in the ball of radius eps
 * around x: L-inf, `push` times the strongest (each pixel by eps against the sign of a, inside
 * [0,1]); L2 with push 1, the bound eps*|a|_2 (the box ignored: no perturbation does more), else
 * `push` times the move -eps*a/|a|_2 clipped to the box (feasible: the optimum does at least that). */
static double reduction(const double *a, const double *x, double eps, double push, int l2) {
    double norm = 0, r = 0;
    for (int e = 0; e < PER; e++)
        norm += a[e] * a[e];
    norm = sqrt(norm);
    if (l2 && push == 1.0)
        return eps * norm;
    for (int e = 0; e < PER; e++) {
        double room = a[e] > 0 ? x[e] : 1 - x[e], want = l2 ? eps * fabs(a[e]) / (norm + 1e-300) : eps;
        r += fabs(a[e]) * fmin(want, room);
    }
    return push * r;
}

/* The lowest margin z_y - z_j over j != y after the reduction above towards j. */
static double best_margin(const problem *p, int i, double eps, double push, int l2) {
    const double *x = p->xpix + (size_t)i * PER;
    int y = p->ds.labels[i];
    double best = INFINITY, a[PER];
    for (int j = 0; j < K; j++) {
        if (j == y)
            continue;
        for (int e = 0; e < PER; e++)
            a[e] = (p->w[y * PER + e] - p->w[j * PER + e]) / NORM.std[e / (H * W)];
        best = fmin(best, logit(p, y, x) - logit(p, j, x) - reduction(a, x, eps, push, l2));
    }
    return best;
}

static int clean_correct(const problem *p, int i) {
    int am = 0;
    for (int j = 1; j < K; j++)
        if (logit(p, j, p->xpix + (size_t)i * PER) > logit(p, am, p->xpix + (size_t)i * PER))
            am = j;
    return am == p->ds.labels[i];
}

static void make_problem(problem *p) {
    rcl_rng r = rcl_rng_seed(77);
    CHECK_OK(rcl_dataset_alloc(&p->ds, N, NC, H, W, K, 0));
    for (int i = 0; i < K * PER; i++)
        p->w[i] = (float)(0.4 * (rcl_rng_uniform(&r) - 0.5));
    for (int j = 0; j < K; j++)
        p->b[j] = (float)(0.2 * (rcl_rng_uniform(&r) - 0.5));
    for (int i = 0; i < N * PER; i++) {
        int v = (int)rcl_rng_below(&r, 256);
        p->ds.pixels[i] = (uint8_t)(i % 11 == 0 ? 0 : (i % 13 == 0 ? 255 : v)); /* pixels at the range ends */
        p->xpix[i] = p->ds.pixels[i] / 255.0;
    }
    for (int i = 0; i < N; i++) { /* the argmax, except every 8th image: misclassified */
        p->ds.labels[i] = 0;
        int am = 0;
        for (int j = 1; j < K; j++)
            if (logit(p, j, p->xpix + (size_t)i * PER) > logit(p, am, p->xpix + (size_t)i * PER))
                am = j;
        p->ds.labels[i] = i % 8 == 7 ? (am + 1) % K : am;
    }
}

static rcl_autoattack_config config(const char *spec) {
    rcl_autoattack_config c;
    CHECK_OK(rcl_autoattack_parse(spec, &c));
    c.norm = NORM;
    return c;
}

static rcl_autoattack_result run(const rcl_classifier *f, const problem *p, const char *spec) {
    rcl_autoattack_config c = config(spec);
    rcl_autoattack_result r;
    CHECK_OK(rcl_autoattack_evaluate(f, &p->ds, NULL, 0, &c, &r));
    printf("%-60s clean %.3f robust %.3f (", spec, r.clean_accuracy, r.robust_accuracy);
    for (int a = 0; a < r.cfg.n_attacks; a++)
        printf("%s%s %ld", a ? ", " : "", rcl_aa_kind_name(r.cfg.attacks[a]), r.robust_after[a]);
    printf(") max_linf %.4f max_l2 %.4f, %.1f s\n", r.max_linf, r.max_l2, r.seconds);
    CHECK(r.count == N, "%s: %d images attacked", spec, r.count);
    if (c.l2)
        CHECK(r.max_l2 <= c.eps + 1e-5, "%s: max |x' - x|_2 %g beyond eps %g", spec, r.max_l2, c.eps);
    else
        CHECK(r.max_linf <= c.eps + 1e-6, "%s: max |x' - x| %g beyond eps %g", spec, r.max_linf, c.eps);
    CHECK(r.max_linf <= r.max_l2 + 1e-6 && r.max_l2 <= r.max_linf * sqrt(PER) + 1e-6,
          "%s: max_linf %g and max_l2 %g inconsistent", spec, r.max_linf, r.max_l2);
    for (int a = 1; a < r.cfg.n_attacks; a++)
        CHECK(r.robust_after[a] <= r.robust_after[a - 1], "%s: robust count rose after %s", spec,
              rcl_aa_kind_name(r.cfg.attacks[a]));
    return r;
}

/* Sound (nothing robust by the closed form is fooled) and effective (what `push` times the
 * optimal move flips is fooled; push 0: not checked); misclassified images are never attacked. */
static void check_against_closed_form(const problem *p, const rcl_autoattack_result *r, double push) {
    double eps = r->cfg.eps;
    int l2 = r->cfg.l2;
    int unsound = 0, missed = 0, wrong = 0, must = 0, safe = 0;
    for (int i = 0; i < N; i++) {
        int o = r->outcome[i];
        if (!clean_correct(p, i)) {
            wrong += o != RCL_AA_CLEAN_WRONG;
            continue;
        }
        if (o == RCL_AA_CLEAN_WRONG)
            wrong++;
        safe += best_margin(p, i, eps, 1.0, l2) > 1e-4;
        unsound += best_margin(p, i, eps, 1.0, l2) > 1e-4 && o != RCL_AA_ROBUST;
        if (push > 0 && best_margin(p, i, eps, push, l2) < 0) {
            must++;
            missed += o == RCL_AA_ROBUST;
        }
    }
    const char *norm = l2 ? "L2" : "L-inf";
    printf("  closed form: %d images robust for sure, %d flipped by a quarter push\n", safe, must);
    CHECK(wrong == 0, "%s eps %g: %d images with the wrong clean outcome", norm, eps, wrong);
    CHECK(unsound == 0, "%s eps %g: %d images fooled that no perturbation within eps can fool", norm, eps, unsound);
    if (push > 0)
        CHECK(missed == 0 && must > 5, "%s eps %g: %d of the %d images %g of the optimal push flips are still robust",
              norm, eps, missed, must, push);
}

/* The L2 ball: the same checks as the L-inf runs below, at radii where the ball binds and
 * quarter pushes flip images. */
static void l2_tests(const rcl_classifier *f, const rcl_classifier *small, const problem *p) {
    const char *std_spec = "autoattack:norm=l2,eps=0.25,iters=40,queries=300,seed=3";
    rcl_autoattack_result a = run(f, p, std_spec), again = run(f, p, std_spec);
    check_against_closed_form(p, &a, 0.25);
    CHECK(!memcmp(a.outcome, again.outcome, N * sizeof *a.outcome), "L2: the same seed repeats the outcomes");
    CHECK(a.max_l2 > 0.25 - 1e-3, "L2: the kept points reach the ball's edge (max_l2 %g)", a.max_l2);
    const char *apgd_spec = "autoattack:norm=l2,eps=0.15,iters=40,attacks=apgd-ce+apgd-t,seed=3";
    rcl_autoattack_result big = run(f, p, apgd_spec), part = run(small, p, apgd_spec);
    CHECK(!memcmp(big.outcome, part.outcome, N * sizeof *big.outcome), "L2 APGD: batches of %d and 32 agree", N);
    check_against_closed_form(p, &big, 0.25);
    rcl_autoattack_result zero = run(f, p, "autoattack:norm=l2,eps=0,iters=10,queries=20");
    CHECK(zero.robust_after[zero.cfg.n_attacks - 1] == zero.clean_correct && zero.max_l2 == 0,
          "L2 eps 0: robust %ld = clean %ld", zero.robust_after[zero.cfg.n_attacks - 1], zero.clean_correct);
    rcl_autoattack_result sq = run(f, p, "autoattack:norm=l2,eps=0.25,attacks=square,queries=400,seed=1");
    check_against_closed_form(p, &sq, 0);
    CHECK(sq.robust_after[0] < sq.clean_correct, "L2 Square alone fools some images (%ld of %ld robust)",
          sq.robust_after[0], sq.clean_correct);
    rcl_autoattack_result rnd = run(f, p, "autoattack:norm=l2,eps=0.25,version=rand,iters=20,restarts=2");
    check_against_closed_form(p, &rnd, 0);
    /* FAB's L2 projection is exact on a linear model, as its L-inf one */
    const char *fab_spec = "autoattack:norm=l2,eps=0.15,attacks=fab-t,iters=20";
    rcl_autoattack_result fab = run(f, p, fab_spec), fab_part = run(small, p, fab_spec);
    check_against_closed_form(p, &fab, 0.9);
    CHECK(!memcmp(fab.outcome, fab_part.outcome, N * sizeof *fab.outcome), "L2 FAB-T: batches of %d and 32 agree", N);
    rcl_autoattack_result fab_rs = run(f, p, "autoattack:norm=l2,eps=0.15,attacks=fab-t,iters=10,restarts=2,seed=4");
    check_against_closed_form(p, &fab_rs, 0);
    rcl_autoattack_result *all[] = {&a, &again, &big, &part, &zero, &sq, &rnd, &fab, &fab_part, &fab_rs};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rcl_autoattack_result_free(all[i]);
}

static void linear_tests(rcl_device *d) {
    problem *p = calloc(1, sizeof *p);
    make_problem(p);
    rcl_test_linear lm;
    rcl_test_linear_create(d, &lm, K, NC, H, W, N, p->w, p->b);
    rcl_classifier f = rcl_test_linear_classifier(&lm, NC, H, W, N);
    rcl_classifier small = rcl_test_linear_classifier(&lm, NC, H, W, 32);
    const char *std_spec = "autoattack:eps=8/255,iters=40,queries=300,seed=3";
    rcl_autoattack_result a = run(&f, p, std_spec);
    check_against_closed_form(p, &a, 0.25);
    long correct = 0;
    for (int i = 0; i < N; i++)
        correct += clean_correct(p, i);
    CHECK(a.clean_correct == correct, "clean correct %ld, the closed form %ld", a.clean_correct, correct);
    rcl_autoattack_result again = run(&f, p, std_spec);
    CHECK(!memcmp(a.outcome, again.outcome, N * sizeof *a.outcome), "the same seed repeats the outcomes");
    rcl_autoattack_result_free(&again);
    /* APGD's draws are keyed by dataset index: any batch size gives the same outcome */
    const char *apgd_spec = "autoattack:eps=4/255,iters=40,attacks=apgd-ce+apgd-t,seed=3";
    rcl_autoattack_result big = run(&f, p, apgd_spec), part = run(&small, p, apgd_spec);
    CHECK(!memcmp(big.outcome, part.outcome, N * sizeof *big.outcome), "APGD: batches of %d and 32 agree", N);
    check_against_closed_form(p, &big, 0.25);
    rcl_autoattack_result zero = run(&f, p, "autoattack:eps=0,iters=10,queries=20");
    CHECK(zero.robust_after[zero.cfg.n_attacks - 1] == zero.clean_correct && zero.max_linf == 0,
          "eps 0: robust %ld = clean %ld", zero.robust_after[zero.cfg.n_attacks - 1], zero.clean_correct);
    rcl_autoattack_result sq = run(&f, p, "autoattack:eps=8/255,attacks=square,queries=400,seed=1");
    check_against_closed_form(p, &sq, 0);
    CHECK(sq.robust_after[0] < sq.clean_correct, "Square alone fools some images (%ld of %ld robust)",
          sq.robust_after[0], sq.clean_correct);
    /* on a linear model FAB's linearisation is exact: it finds the smallest move to each target
     * class, so everything 0.9 of the optimal push flips is fooled, at either batch size */
    const char *fab_spec = "autoattack:eps=4/255,attacks=fab-t,iters=20";
    rcl_autoattack_result fab = run(&f, p, fab_spec), fab_part = run(&small, p, fab_spec);
    check_against_closed_form(p, &fab, 0.9);
    CHECK(!memcmp(fab.outcome, fab_part.outcome, N * sizeof *fab.outcome), "FAB-T: batches of %d and 32 agree", N);
    rcl_autoattack_result fab_rs = run(&f, p, "autoattack:eps=4/255,attacks=fab-t,iters=10,restarts=2,seed=4");
    check_against_closed_form(p, &fab_rs, 0);
    rcl_autoattack_result rnd = run(&f, p, "autoattack:eps=8/255,version=rand,iters=20,restarts=2");
    check_against_closed_form(p, &rnd, 0);
    CHECK(rnd.cfg.n_attacks == 2 && rnd.cfg.attacks[1] == RCL_AA_APGD_DLR, "rand: apgd-ce then apgd-dlr");
    rcl_autoattack_result *all[] = {&a, &big, &part, &zero, &sq, &fab, &fab_part, &fab_rs, &rnd};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rcl_autoattack_result_free(all[i]);
    l2_tests(&f, &small, p);
    /* too few classes for the targeted DLR loss */
    rcl_classifier three = f;
    three.num_classes = 3;
    rcl_autoattack_config c = config("autoattack");
    rcl_autoattack_result r;
    CHECK_FAILS(rcl_autoattack_evaluate(&three, &p->ds, NULL, 0, &c, &r), RCL_ERR_INVALID_ARG);
    rcl_test_linear_free(&lm);
    rcl_dataset_free(&p->ds);
    free(p);
}

/* The DLR references' gradients against central differences, untargeted and targeted. */
static void dlr_finite_differences(void) {
    rcl_rng r = rcl_rng_seed(5);
    enum { n = 6, k = 7 };
    double z[n * k], g[n * k], loss[n], lp[n], lm[n], gd[n * k];
    int32_t y[n], t[n], corr[n];
    for (int i = 0; i < n * k; i++)
        z[i] = 4 * (rcl_rng_uniform(&r) - 0.5);
    for (int i = 0; i < n; i++) {
        y[i] = (int)rcl_rng_below(&r, k);
        t[i] = (y[i] + 1 + (int)rcl_rng_below(&r, k - 1)) % k;
    }
    for (int targeted = 0; targeted <= 1; targeted++) {
        rcl_ref_apgd_dlr(n, k, z, y, targeted ? t : NULL, g, loss, corr);
        double worst = 0;
        for (int i = 0; i < n * k; i++) {
            double h = 1e-6, keep = z[i];
            z[i] = keep + h;
            rcl_ref_apgd_dlr(n, k, z, y, targeted ? t : NULL, gd, lp, corr);
            z[i] = keep - h;
            rcl_ref_apgd_dlr(n, k, z, y, targeted ? t : NULL, gd, lm, corr);
            z[i] = keep;
            double fd = (lp[i / k] - lm[i / k]) / (2 * h);
            worst = fmax(worst, fabs(fd - g[i]));
        }
        CHECK(worst < 1e-5, "%s DLR gradient vs finite differences: largest gap %g", targeted ? "targeted" : "untargeted",
              worst);
    }
}

/* The smallest lambda with -sum |w| min(lambda, room) <= need, by bisection on lambda: a
 * different route to the projection's radius than the reference's scan. */
static double brute_lambda(int per, const double *t, const double *w, double b) {
    double side = -b, lo = 0, hi = 1;
    for (int e = 0; e < per; e++)
        side += w[e] * t[e];
    double need = -fabs(side);
    for (int it = 0; it < 200; it++) {
        double mid = (lo + hi) / 2, got = 0;
        for (int e = 0; e < per; e++) {
            double up = (side >= 0 ? w[e] : -w[e]) < 0, room = up ? 1 - t[e] : t[e];
            got -= fabs(w[e]) * fmin(mid, room);
        }
        *(got <= need ? &hi : &lo) = mid;
    }
    return hi;
}

/* A projection trial's problem, kind = trial % 3: 0, small |f| and interior pixels; 1, pixels
 * at 0 and 1 and half the box's reach; 2, out of reach. Returns b; *sg: the side t is on. */
static double projection_problem(rcl_rng *r, int trial, int per, double *t, double *w, double *sg) {
    int kind = trial % 3;
    double wt = 0, reach = 0;
    *sg = trial % 2 ? 1 : -1;
    for (int e = 0; e < per; e++) {
        w[e] = e % 7 == 3 ? 0 : 2 * rcl_rng_uniform(r) - 1;
        t[e] = kind == 0 ? 0.2 + 0.6 * rcl_rng_uniform(r) : (e % 9 == 0 ? (double)(e % 2) : rcl_rng_uniform(r));
        wt += w[e] * t[e];
        reach += *sg * w[e] > 0 ? fabs(w[e]) * t[e] : fabs(w[e]) * (1 - t[e]); /* how far the box moves <w, x> */
    }
    return wt - *sg * (kind == 0 ? 0.01 : kind == 1 ? 0.5 : 1.5) * reach; /* <w, t> - b = that share of it */
}

/* What both norms' projections must meet: t + d in the box, pixels without weight still, and
 * out of reach (kind 2) every other pixel at the corner on the hyperplane's side. Returns how
 * far t + d is off the hyperplane. */
static double projection_common(const char *norm, int trial, int per, const double *t, const double *w,
                                 const double *d, double b, double sg) {
    double on = -b, outside = 0;
    for (int e = 0; e < per; e++) {
        on += w[e] * (t[e] + d[e]);
        outside = fmax(outside, fmax(-(t[e] + d[e]), t[e] + d[e] - 1));
        CHECK(w[e] != 0 || d[e] == 0, "%s trial %d: a pixel without weight moved", norm, trial);
        CHECK(trial % 3 != 2 || w[e] == 0 || fabs(fabs(d[e]) - (sg * w[e] > 0 ? t[e] : 1 - t[e])) < 1e-12,
              "%s trial %d: out of reach, pixel %d is not at its corner", norm, trial, e);
    }
    CHECK(outside <= 1e-12, "%s trial %d: outside the box by %g", norm, trial, outside);
    return on;
}

/* FAB's L-inf projection: on the hyperplane at the smallest L-inf radius, which a bisection on
 * the radius finds. Rows reached before any pixel saturates, after some do, and never. */
static void projection_tests(void) {
    rcl_rng r = rcl_rng_seed(9);
    enum { per = 40 };
    double t[per], w[per], d[per], sg;
    int cases[3] = {0};
    for (int trial = 0; trial < 300; trial++) {
        int kind = trial % 3;
        double b = projection_problem(&r, trial, per, t, w, &sg), most = rcl_ref_fab_project(per, t, w, b, d), m = 0;
        double on = projection_common("L-inf", trial, per, t, w, d, b, sg);
        for (int e = 0; e < per; e++)
            m = fmax(m, fabs(d[e]));
        CHECK(m == most, "trial %d: max %g vs %g", trial, m, most);
        if (kind == 2) {
            cases[2]++;
            continue;
        }
        double lam = brute_lambda(per, t, w, b);
        CHECK(fabs(on) < 1e-9 && fabs(most - lam) < 1e-9, "trial %d: off the hyperplane by %g, radius %.12f vs %.12f",
              trial, on, most, lam);
        cases[kind] += kind == 1 || most < 0.2; /* kind 0 stays inside every pixel's room */
    }
    CHECK(cases[0] > 50 && cases[1] > 50 && cases[2] > 50, "projection cases: %d small, %d partly saturated, %d out of reach",
          cases[0], cases[1], cases[2]);
}

/* FAB's L2 projection reference against the optimality conditions of its problem (convex, so
 * they decide): on the hyperplane, and d_e = clamp(-alpha w_e, -t_e, 1 - t_e) for one
 * alpha >= 0, read off an unsaturated pixel. The same three kinds of rows. */
static void projection_l2_tests(void) {
    rcl_rng r = rcl_rng_seed(11);
    enum { per = 40 };
    double t[per], w[per], d[per], sg;
    int cases[3] = {0};
    for (int trial = 0; trial < 300; trial++) {
        int kind = trial % 3, saturated = 0;
        double b = projection_problem(&r, trial, per, t, w, &sg), norm = rcl_ref_fab_project_l2(per, t, w, b, d);
        double on = projection_common("L2", trial, per, t, w, d, b, sg), sq = 0, alpha = -1;
        for (int e = 0; e < per; e++) {
            int at_bound = fabs(t[e] + d[e]) < 1e-12 || fabs(t[e] + d[e] - 1) < 1e-12;
            sq += d[e] * d[e];
            saturated += w[e] != 0 && at_bound;
            if (w[e] != 0 && !at_bound)
                alpha = -d[e] * sg / w[e];
        }
        CHECK(fabs(sqrt(sq) - norm) < 1e-12, "L2 trial %d: norm %g vs %g", trial, sqrt(sq), norm);
        if (kind == 2) {
            cases[2]++;
            continue;
        }
        CHECK(fabs(on) < 1e-9 && alpha >= 0, "L2 trial %d: off the hyperplane by %g (alpha %g)", trial, on, alpha);
        for (int e = 0; e < per; e++) {
            double want = w[e] != 0 ? fmin(fmax(-alpha * sg * w[e], -t[e]), 1 - t[e]) : 0;
            CHECK(fabs(d[e] - want) < 1e-9, "L2 trial %d: pixel %d moved %g, not clamp(-alpha w) %g", trial, e, d[e],
                  want);
        }
        cases[kind] += kind == 1 ? saturated > 0 : saturated == 0;
    }
    CHECK(cases[0] > 50 && cases[1] > 50 && cases[2] > 50,
          "L2 projection cases: %d unsaturated, %d partly saturated, %d out of reach", cases[0], cases[1], cases[2]);
}

static void parse_tests(void) {
    rcl_autoattack_config c;
    char buf[512];
    CHECK_OK(rcl_autoattack_parse("autoattack", &c));
    CHECK(c.n_attacks == 4 && c.attacks[0] == RCL_AA_APGD_CE && c.attacks[1] == RCL_AA_APGD_T &&
              c.attacks[2] == RCL_AA_FAB_T && c.attacks[3] == RCL_AA_SQUARE && c.iters == 100 && c.targets == 9 && c.queries == 5000 &&
              c.restarts == 1 && fabs(c.eps - 8 / 255.0) < 1e-12,
          "standard defaults");
    rcl_autoattack_config back;
    CHECK_OK(rcl_autoattack_parse(rcl_autoattack_describe(&c, buf, sizeof buf), &back));
    CHECK(back.n_attacks == c.n_attacks && back.eps == c.eps && back.iters == c.iters, "describe reads back: %s", buf);
    CHECK_OK(rcl_autoattack_parse("autoattack:restarts=2,version=rand", &c));
    CHECK(c.rand_version && c.restarts == 2 && c.n_attacks == 2, "restarts= survives a later version=");
    CHECK_OK(rcl_autoattack_parse("autoattack:attacks=square+apgd-ce,eps=1/255,n=50", &c));
    CHECK(c.n_attacks == 2 && c.attacks[0] == RCL_AA_SQUARE && c.n == 50, "a custom list in its order");
    CHECK_OK(rcl_autoattack_parse("autoattack:attacks=fab-t+square+apgd-dlr+apgd-t+apgd-ce", &c));
    CHECK(c.n_attacks == 5 && c.attacks[0] == RCL_AA_FAB_T, "all five attacks in a custom list");
    CHECK_OK(rcl_autoattack_parse("autoattack:norm=l2,attacks=fab-t", &c));
    CHECK(c.l2 && c.n_attacks == 1 && c.attacks[0] == RCL_AA_FAB_T, "FAB-T alone in the L2 ball");
    CHECK(rcl_autoattack_is_spec("autoattack:eps=1/255") && !rcl_autoattack_is_spec("autoattackx") &&
              !rcl_autoattack_is_spec("pgd"),
          "is_spec");
    CHECK_OK(rcl_autoattack_parse("autoattack:norm=l2", &c));
    CHECK(c.l2 && c.eps == 0.5 && c.n_attacks == 4 && c.attacks[2] == RCL_AA_FAB_T && c.attacks[3] == RCL_AA_SQUARE,
          "norm=l2: eps 0.5, the standard attacks");
    CHECK_OK(rcl_autoattack_parse(rcl_autoattack_describe(&c, buf, sizeof buf), &back));
    CHECK(back.l2 && back.eps == 0.5 && strstr(buf, "norm=l2"), "L2 describe reads back: %s", buf);
    CHECK_OK(rcl_autoattack_parse("autoattack:eps=3,norm=l2", &c));
    CHECK(c.l2 && c.eps == 3, "an L2 eps beyond 1, given before norm=");
    const char *bad[] = {"autoattack:norm=l1",        "autoattack:version=plus", "autoattack:eps=2",
                         "autoattack:norm=l2,eps=-1", "autoattack:eps=2,norm=l2,norm=linf",
                         "autoattack:attacks=fab",    "autoattack:attacks=apgd-ce+apgd-ce",
                         "autoattack:iters=0",        "autoattack:seed=-1",      "autoattack:bogus=1",
                         "autoattack:",               "autoattack:eps",          "pgd:eps=1/255"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_FAILS(rcl_autoattack_parse(bad[i], &c), RCL_ERR_INVALID_ARG);
}

int main(void) {
    setenv("ROBUSTCL_QUIET", "1", 0);
    parse_tests();
    dlr_finite_differences();
    projection_tests();
    projection_l2_tests();
    rcl_device *d = rcl_test_device(0);
    linear_tests(d);
    rcl_device_close(d);
    return rcl_test_finish();
}
