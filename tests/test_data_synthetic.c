/* Synthetic OOD sets of spec §8: the Blobs blur (13-tap kernel, channel mixing matrix,
 * scipy reference), and the statistics / determinism of Gaussian, Rademacher and Blobs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/data.h"
#include "core/fileio.h"

static void test_kernel(void) {
    static const double want13[13] = {0.000089, 0.001028, 0.007597, 0.035994, 0.109341, 0.212968, 0.265964,
                                      0.212968, 0.109341, 0.035994, 0.007597, 0.001028, 0.000089};
    double t[64], w13[13];
    int n = rcl_gaussian_kernel1d(1.5, 4.0, t, 64);
    CHECK(n == 13, "sigma 1.5, truncate 4: %d taps (radius 6)", n);
    for (int i = 0; i < 13; i++)
        w13[i] = want13[i];
    if (n == 13) {
        float f[13];
        for (int i = 0; i < 13; i++)
            f[i] = (float)t[i];
        rcl_check_close("13 taps vs spec §8", f, w13, 13, 1e-5, 6e-7, 0);
    }
    n = rcl_gaussian_kernel1d(2.0, 4.0, t, 64);
    CHECK(n == 17, "sigma 2: %d taps (radius 8)", n);
    double s = 0;
    for (int i = 0; i < n; i++)
        s += t[i];
    CHECK(fabs(s - 1) < 1e-12 && t[8] > t[7] && t[0] == t[16], "normalised, symmetric, peaked");
    CHECK(rcl_gaussian_kernel1d(1.5, 4.0, t, 12) == -1, "too few slots -> -1");
    CHECK(rcl_gaussian_kernel1d(0, 4.0, t, 64) == -1, "sigma 0 -> -1");
    CHECK(rcl_blobs_sigma(32, 32) == 1.5 && rcl_blobs_sigma(28, 28) == 1.5 && rcl_blobs_sigma(64, 64) == 2.0,
          "sigma 1.5 below 64x64, 2 at 64x64");
}

/* On the 3-channel axis with nearest padding the blur is the spec's mixing matrix. */
static void test_mixing(void) {
    static const double M[3][3] = {
        {0.632982, 0.212968, 0.154050}, {0.367018, 0.265964, 0.367018}, {0.154050, 0.212968, 0.632982}};
    for (int j = 0; j < 3; j++) {
        float x[3] = {0, 0, 0};
        x[j] = 1;
        CHECK_OK(rcl_blobs_blur(x, 3, 1, 1, 1.5)); /* 1x1 image: only the channel axis acts */
        double col[3] = {M[0][j], M[1][j], M[2][j]};
        char what[64];
        snprintf(what, sizeof what, "mixing column %d", j);
        rcl_check_close(what, x, col, 3, 1e-5, 1.5e-6, 0);
    }
    /* an impulse in a 32x32x3 volume: taps(y) * taps(x) * M[c][1] */
    double t[13];
    rcl_gaussian_kernel1d(1.5, 4.0, t, 13);
    float *x = calloc(3 * 32 * 32, sizeof(float));
    double *want = calloc(3 * 32 * 32, sizeof(double));
    x[1 * 1024 + 16 * 32 + 16] = 1;
    CHECK_OK(rcl_blobs_blur(x, 3, 32, 32, 1.5));
    for (int c = 0; c < 3; c++)
        for (int y = 10; y <= 22; y++)
            for (int xx = 10; xx <= 22; xx++)
                want[c * 1024 + y * 32 + xx] = t[y - 10] * t[xx - 10] * M[c][1];
    rcl_check_close("3-D impulse response = taps x taps x mixing", x, want, 3 * 1024, 1e-5, 2e-7, 0);
    /* 1 channel: a plain 2-D blur (the length-1 channel axis leaves values alone) */
    memset(x, 0, 1024 * sizeof(float));
    memset(want, 0, 1024 * sizeof(double));
    x[5 * 32 + 20] = 1;
    CHECK_OK(rcl_blobs_blur(x, 1, 32, 32, 1.5));
    for (int y = 0; y <= 11; y++)
        for (int xx = 14; xx <= 26; xx++)
            want[y * 32 + xx] = t[xx - 20 + 6] * t[y - 5 + 6];
    rcl_check_close("1-channel impulse = 2-D taps x taps", x, want, 1024, 1e-5, 2e-7, 0);
    free(x);
    free(want);
}

/* scipy.ndimage.gaussian_filter on LCG masks (tests/data/gen_data_blobs.py) */
static void test_scipy_reference(const char *data_dir) {
    char p[1024];
    snprintf(p, sizeof p, "%s/data_blobs_ref.f32", data_dir);
    unsigned char *ref;
    size_t n;
    CHECK_OK(rcl_file_read(p, &ref, &n));
    if (!ref)
        return;
    static const int cases[4][3] = {{32, 32, 3}, {16, 16, 1}, {64, 64, 3}, {5, 7, 3}};
    static const double sig[4] = {1.5, 1.5, 2.0, 1.5};
    size_t off = 0;
    for (int k = 0; k < 4; k++) {
        int h = cases[k][0], w = cases[k][1], c = cases[k][2];
        size_t m = (size_t)h * w * c;
        CHECK(off + m * 4 <= n, "reference file holds case %d", k);
        if (off + m * 4 > n)
            break;
        float *x = malloc(m * sizeof(float));
        uint32_t s = 1000 + (uint32_t)k;
        /* the mask is generated in H, W, C order; our image is CHW */
        for (size_t i = 0; i < m; i++) {
            s = (s * 1103515245u + 12345u) & 0x7fffffffu;
            int hw = (int)(i / (size_t)c), ch = (int)(i % (size_t)c);
            x[(size_t)ch * h * w + hw] = ((s >> 16) % 10 < 7) ? 1.0f : 0.0f;
        }
        CHECK_OK(rcl_blobs_blur(x, c, h, w, sig[k]));
        int exact = 0;
        double maxd = 0;
        for (size_t i = 0; i < m; i++) {
            float r;
            memcpy(&r, ref + off + 4 * i, 4);
            int hw = (int)(i / (size_t)c), ch = (int)(i % (size_t)c);
            float g = x[(size_t)ch * h * w + hw];
            exact += g == r;
            if (fabs((double)g - r) > maxd)
                maxd = fabs((double)g - r);
        }
        CHECK(maxd <= 1.2e-7, "case %dx%dx%d sigma %.1f: max |diff| %.3g vs scipy", h, w, c, sig[k], maxd);
        CHECK(exact == (int)m, "case %dx%dx%d: %d of %zu values bit-identical to scipy", h, w, c, exact, m);
        off += m * 4;
        free(x);
    }
    free(ref);
}

static void stats(const rcl_dataset *d, double *mean, double *sd) {
    size_t m = (size_t)d->n * rcl_dataset_image_size(d);
    double s = 0, s2 = 0;
    for (size_t i = 0; i < m; i++)
        s += d->values[i], s2 += (double)d->values[i] * d->values[i];
    *mean = s / m;
    *sd = sqrt(s2 / m - *mean * *mean);
}

static void test_sets(void) {
    rcl_dataset g, r, b, b1, b64;
    CHECK_OK(rcl_dataset_synthetic(RCL_SYNTH_GAUSSIAN, 40, 3, 32, 32, 1, &g));
    CHECK_OK(rcl_dataset_synthetic(RCL_SYNTH_RADEMACHER, 40, 3, 32, 32, 1, &r));
    CHECK_OK(rcl_dataset_synthetic(RCL_SYNTH_BLOBS, 40, 3, 32, 32, 1, &b));
    CHECK_OK(rcl_dataset_synthetic(RCL_SYNTH_BLOBS, 40, 1, 28, 28, 1, &b1));
    CHECK_OK(rcl_dataset_synthetic(RCL_SYNTH_BLOBS, 10, 3, 64, 64, 1, &b64));
    CHECK(g.values && !g.pixels && g.n == 40 && g.c == 3 && g.num_classes == 0 && g.labels[0] == -1,
          "float set, unlabelled");
    size_t m = 40 * 3072;
    double mean, sd;
    stats(&g, &mean, &sd);
    int in = 1, clipped = 0;
    for (size_t i = 0; i < m; i++) {
        in &= g.values[i] >= -1 && g.values[i] <= 1;
        clipped += fabsf(g.values[i]) == 1.0f;
    }
    CHECK(in && fabs(mean) < 0.01 && fabs(sd - 0.4794) < 0.01, "gaussian: in [-1,1], mean %.4f, sd %.4f", mean, sd);
    CHECK(fabs(clipped / (double)m - 0.0455) < 0.005, "gaussian: %.4f clipped (2 P(Z>2) = 0.0455)", clipped / (double)m);
    stats(&r, &mean, &sd);
    int pm = 1;
    for (size_t i = 0; i < m; i++)
        pm &= r.values[i] == 1.0f || r.values[i] == -1.0f;
    CHECK(pm && fabs(mean) < 0.01, "rademacher: +-1, mean %.4f", mean);
    struct {
        rcl_dataset *d;
        double frac;
    } bl[3] = {{&b, 0.2073}, {&b1, 0.3088}, {&b64, 0.1317}}; /* scipy simulation, 300 images */
    for (int k = 0; k < 3; k++) {
        const rcl_dataset *d = bl[k].d;
        size_t mm = (size_t)d->n * rcl_dataset_image_size(d), on = 0;
        int valid = 1;
        for (size_t i = 0; i < mm; i++) {
            float v = d->values[i];
            valid &= v == -1.0f || (v >= 0.5f && v <= 1.0f);
            on += v != -1.0f;
        }
        double f = on / (double)mm;
        CHECK(valid, "blobs %dx%dx%d: values -1 or 2x-1 for x in [0.75,1]", d->c, d->h, d->w);
        CHECK(fabs(f - bl[k].frac) < 0.03, "blobs %dx%dx%d: %.4f above the threshold, scipy gives %.4f", d->c, d->h,
              d->w, f, bl[k].frac);
    }
    /* determinism: image i depends on (seed, i) only */
    rcl_dataset g2, g3;
    CHECK_OK(rcl_dataset_synthetic(RCL_SYNTH_GAUSSIAN, 40, 3, 32, 32, 1, &g2));
    CHECK(!strcmp(g.sha256, g2.sha256) && !memcmp(g.values, g2.values, m * 4), "same seed, same set");
    rcl_dataset_free(&g2);
    CHECK_OK(rcl_dataset_synthetic(RCL_SYNTH_GAUSSIAN, 5, 3, 32, 32, 1, &g2));
    CHECK(!memcmp(g.values, g2.values, 5 * 3072 * 4), "a smaller n is a prefix");
    CHECK_OK(rcl_dataset_synthetic(RCL_SYNTH_GAUSSIAN, 5, 3, 32, 32, 2, &g3));
    CHECK(memcmp(g3.values, g2.values, 5 * 3072 * 4) && strcmp(g3.sha256, g2.sha256), "another seed differs");
    rcl_dataset_free(&g2);
    rcl_dataset_free(&g3);

    /* specs: explicit shape, or the shape and count of a reference set */
    rcl_dataset s;
    CHECK_OK(rcl_dataset_load("blobs,n=40,shape=3x32x32,seed=1", 0, &s));
    CHECK(s.n == 40 && !memcmp(s.values, b.values, m * 4), "blobs spec = direct call");
    rcl_dataset_free(&s);
    CHECK_OK(rcl_dataset_load_like("rademacher,seed=1", 0, &g, &s));
    CHECK(s.n == 40 && s.c == 3 && s.h == 32 && !memcmp(s.values, r.values, m * 4), "shape and n from `like`");
    rcl_dataset_free(&s);
    CHECK_OK(rcl_dataset_load_like("gaussian,n=7", 0, &b1, &s));
    CHECK(s.n == 7 && s.c == 1 && s.h == 28, "n option overrides like->n");
    rcl_dataset_free(&s);
    CHECK_FAILS(rcl_dataset_load("gaussian", 0, &s), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_dataset_synthetic(RCL_SYNTH_BLOBS, 2, 0, 32, 32, 0, &s), RCL_ERR_INVALID_ARG);
    CHECK_FAILS(rcl_dataset_synthetic((rcl_synthetic_kind)7, 2, 3, 32, 32, 0, &s), RCL_ERR_INVALID_ARG);
    CHECK(rcl_synthetic_kind_from_name("blobs") == RCL_SYNTH_BLOBS && rcl_synthetic_kind_from_name("x") == -1,
          "kind names");
    rcl_dataset_free(&g);
    rcl_dataset_free(&r);
    rcl_dataset_free(&b);
    rcl_dataset_free(&b1);
    rcl_dataset_free(&b64);
}

int main(void) {
    const char *data_dir = getenv("RCL_TEST_DATA");
    test_kernel();
    test_mixing();
    if (data_dir)
        test_scipy_reference(data_dir);
    else
        CHECK(0, "RCL_TEST_DATA is not set");
    test_sets();
    return rcl_test_finish();
}
