/* The generated corruptions (src/data/corrupt.c, spec §12), on real Fashion-MNIST images and on
 * edge cases: exact values where the arithmetic is simple enough to restate here (contrast,
 * brightness and saturate of known pixels, the Gaussian blur as a direct 2-D sum), the same
 * output for the same seed and another for another, damage growing with the severity, images at
 * 0 and 255, the names, and the written folder read back; spatter's two recipes by what they
 * must do to black and white images, and the OpenCV operations under it against hand-computed
 * values. The distributions of the random ones against the Python references are
 * bench/corruptions_peer.py's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "data/cv_ops.h"
#include "harness.h"
#include "robustcl/data.h"

static char frost_dir[1100]; /* synthetic stand-ins for the references' frost photographs */

static const rcl_corrupt_options *seed(uint64_t s) {
    static rcl_corrupt_options o[4];
    static int k;
    rcl_corrupt_options *p = &o[k++ % 4];
    p->seed = s;
    p->frost_dir = frost_dir;
    return p;
}

/* frost1.png .. frost5.jpg of 200 x 180 (PNG bytes under every name: the decoder reads the
 * content), ice-like streaks that differ per file. */
static void make_frost(void) {
    static const char *const names[5] = {"frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg"};
    snprintf(frost_dir, sizeof frost_dir, "%s/frost", rcl_test_tmpdir());
    CHECK_OK(rcl_mkdirs(frost_dir));
    uint8_t *chw = malloc(3 * 180 * 200);
    for (int f = 0; f < 5 && chw; f++) {
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < 180 * 200; i++)
                chw[k * 180 * 200 + i] = (uint8_t)(150 + 100 * sin(0.07 * (i % 200) * (f + 1) + 0.11 * (i / 200) + k));
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", frost_dir, names[f]);
        CHECK_OK(rcl_image_write_png(path, chw, 3, 180, 200));
    }
    free(chw);
}

/* Mean squared difference (in 0..255 units) between two sets. */
static double mse(const rcl_dataset *a, const rcl_dataset *b) {
    size_t n = (size_t)a->n * rcl_dataset_image_size(a);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += ((double)a->pixels[i] - b->pixels[i]) * ((double)a->pixels[i] - b->pixels[i]);
    return s / (double)n;
}

/* One image c x h x w filled by fill(channel, y, x). */
static void one_image(rcl_dataset *ds, int c, int h, int w, int (*fill)(int, int, int)) {
    CHECK_OK(rcl_dataset_alloc(ds, 1, c, h, w, 1, 0));
    for (int k = 0; k < c; k++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                ds->pixels[(k * h + y) * w + x] = (uint8_t)fill(k, y, x);
    ds->labels[0] = 0;
}

static int ramp(int k, int y, int x) { return (37 * k + 11 * y + 5 * x) % 256; }
static int black(int k, int y, int x) { return (void)k, (void)y, (void)x, 0; }
static int white(int k, int y, int x) { return (void)k, (void)y, (void)x, 255; }

/* Every built corruption on 64 real images: repeatable, seed-dependent where random, and at
 * severity 5 at least as far from the clean images as at severity 1. */
static void test_real_images(void) {
    rcl_dataset clean;
    CHECK_OK(rcl_dataset_load("fashion-mnist,split=test,n=64", 0, &clean));
    if (!clean.n)
        return;
    static const int random[RCL_CORRUPTED_NAMES] = {1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0};
    for (int c = 0; c < RCL_CORRUPTED_NAMES; c++) {
        if (!rcl_corrupt_built(c))
            continue;
        const char *name = rcl_corrupted_names[c];
        rcl_dataset s1, s5, again, other;
        CHECK_OK(rcl_corrupt_dataset(&clean, c, 1, seed(7), &s1));
        CHECK_OK(rcl_corrupt_dataset(&clean, c, 5, seed(7), &s5));
        CHECK_OK(rcl_corrupt_dataset(&clean, c, 5, seed(7), &again));
        CHECK_OK(rcl_corrupt_dataset(&clean, c, 5, seed(8), &other));
        if (s1.n && s5.n && again.n && other.n) {
            CHECK(mse(&s5, &again) == 0, "%s: the same seed gives the same images", name);
            CHECK(random[c] ? mse(&s5, &other) > 0 : mse(&s5, &other) == 0, "%s: another seed %s", name,
                  random[c] ? "gives other draws" : "changes nothing (deterministic)");
            /* saturate leaves grey images as they are (its first channel: the references'); the
             * CIFAR-10-C elastic transform's affine part shrinks as its severity grows */
            double d1 = mse(&s1, &clean), d5 = mse(&s5, &clean);
            if (!strcmp(name, "saturate"))
                CHECK(d5 == 0 && d1 == 0, "saturate keeps grey images");
            else
                CHECK(!strcmp(name, "elastic_transform") ? d5 > 0 && d1 > 0 : d5 >= d1 && d5 > 0,
                      "%s: severity 5 (mse %.1f) damages at least as much as 1 (%.1f)", name, d5, d1);
            CHECK(s5.labels[3] == clean.labels[3] && s5.num_classes == clean.num_classes,
                  "%s: labels kept", name);
        }
        rcl_dataset_free(&s1), rcl_dataset_free(&s5), rcl_dataset_free(&again), rcl_dataset_free(&other);
    }
    rcl_dataset_free(&clean);
}

/* Values restated from the references' formulas on one 3 x 4 x 5 RGB image (CIFAR sizes). */
static void test_exact_values(void) {
    rcl_dataset img, out;
    one_image(&img, 3, 4, 5, ramp);
    int contrast = rcl_corrupted_find("contrast"), bright = rcl_corrupted_find("brightness");
    CHECK_OK(rcl_corrupt_dataset(&img, contrast, 2, seed(0), &out)); /* CIFAR severity 2: c = 0.5 */
    int ok = out.n == 1;
    for (int k = 0; ok && k < 3; k++) {
        double mean = 0;
        for (int i = 0; i < 20; i++)
            mean += img.pixels[k * 20 + i] / 255.0;
        mean /= 20;
        for (int i = 0; i < 20; i++) {
            double v = ((img.pixels[k * 20 + i] / 255.0 - mean) * 0.5 + mean) * 255;
            ok &= out.pixels[k * 20 + i] == (uint8_t)v;
        }
    }
    CHECK(ok, "contrast: (x - channel mean) * 0.5 + mean, truncated");
    rcl_dataset_free(&out);
    /* brightness adds 0.3 to the HSV value; with the hue and saturation kept, each channel of a
     * pixel whose max is v becomes x * (v + 0.3) / v, clipped at v + 0.3 <= 1 */
    CHECK_OK(rcl_corrupt_dataset(&img, bright, 5, seed(0), &out));
    ok = out.n == 1;
    for (int i = 0; ok && i < 20; i++) {
        double r = img.pixels[i] / 255.0, g = img.pixels[20 + i] / 255.0, b = img.pixels[40 + i] / 255.0;
        double v = fmax(r, fmax(g, b)), nv = fmin(v + 0.3, 1.0);
        for (int k = 0; k < 3 && v > 0; k++) {
            double want = (img.pixels[k * 20 + i] / 255.0) * nv / v * 255;
            ok &= fabs(out.pixels[k * 20 + i] - want) <= 1.0 + 1e-9;
        }
    }
    CHECK(ok, "brightness: the HSV value + 0.3, hue and saturation kept");
    rcl_dataset_free(&out);
    rcl_dataset_free(&img);
}

/* skimage's Gaussian blur (scipy's kernel, 'nearest' edges) as one direct 2-D sum. */
static void test_gaussian_blur(void) {
    rcl_dataset img, out;
    one_image(&img, 1, 9, 7, ramp);
    CHECK_OK(rcl_corrupt_dataset(&img, rcl_corrupted_find("gaussian_blur"), 5, seed(0), &out)); /* CIFAR sigma 1 */
    double taps[64];
    int n = rcl_gaussian_kernel1d(1.0, 4.0, taps, 64), r = n / 2, ok = out.n == 1;
    for (int y = 0; ok && y < 9; y++)
        for (int x = 0; x < 7; x++) {
            double acc = 0;
            for (int dy = -r; dy <= r; dy++)
                for (int dx = -r; dx <= r; dx++) {
                    int yy = y + dy < 0 ? 0 : y + dy > 8 ? 8 : y + dy, xx = x + dx < 0 ? 0 : x + dx > 6 ? 6 : x + dx;
                    acc += taps[dy + r] * taps[dx + r] * img.pixels[yy * 7 + xx] / 255.0;
                }
            ok &= abs((int)out.pixels[y * 7 + x] - (int)(acc * 255)) <= 1;
        }
    CHECK(ok, "gaussian_blur: the separable filter equals the 2-D sum (within the uint8 truncation)");
    rcl_dataset_free(&out);
    rcl_dataset_free(&img);
}

/* Images at 0 and at 255 through every corruption: values stay in range (uint8), noises of a
 * black image only brighten it, and contrast, pixelate and the blurs leave a constant image
 * constant. */
static void test_edges(void) {
    rcl_dataset b, w, out;
    one_image(&b, 3, 32, 32, black);
    one_image(&w, 3, 32, 32, white);
    for (int c = 0; c < RCL_CORRUPTED_NAMES; c++) {
        if (!rcl_corrupt_built(c))
            continue;
        const char *name = rcl_corrupted_names[c];
        int constant = !strcmp(name, "contrast") || !strcmp(name, "pixelate") || strstr(name, "blur");
        for (int white_img = 0; white_img < 2; white_img++) {
            rcl_dataset *in = white_img ? &w : &b;
            CHECK_OK(rcl_corrupt_dataset(in, c, 5, seed(3), &out));
            if (!out.n)
                continue;
            int same = 1;
            for (int i = 0; i < 3 * 32 * 32; i++)
                same &= abs((int)out.pixels[i] - (int)in->pixels[i]) <= (white_img ? 1 : 0);
            if (constant)
                CHECK(same, "%s keeps a constant %s image", name, white_img ? "white" : "black");
            rcl_dataset_free(&out);
        }
    }
    rcl_dataset_free(&b), rcl_dataset_free(&w);
}

/* cv2.distanceTransform(DIST_L2, 5) around one zero pixel: steps of 1 across, 1.4 diagonally and
 * 2.1969 for a knight's move, in 16.16 fixed point (so 1.4 is 91750 / 65536); 8192 without a
 * zero pixel. */
static void test_cv_distance(void) {
    uint8_t img[25];
    float d[25];
    memset(img, 255, sizeof img);
    img[12] = 0;
    CHECK_OK(rcl_cv_distance_transform(img, 5, 5, d));
    static const double want[3][3] = {{2.8, 2.1969, 2}, {2.1969, 1.4, 1}, {2, 1, 0}};
    int ok = 1;
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 5; x++)
            ok &= fabs(d[y * 5 + x] - want[y < 3 ? y : 4 - y][x < 3 ? x : 4 - x]) < 1e-4;
    CHECK(ok, "distance transform: 0, 1, 1.4, 2, 2.1969, 2.8 around a zero pixel (corner %g)", d[0]);
    CHECK(d[11] == 1 && d[6] == 91750 / 65536.0f && d[1] == 143976 / 65536.0f, "in OpenCV's fixed point");
    CHECK_OK(rcl_cv_distance_transform(img, 1, 3, d));
    CHECK(d[0] == 8192 && d[2] == 8192, "no zero pixel: OpenCV's 8192 everywhere (%g)", d[0]);
}

/* cv2.equalizeHist: 2 x 0, 3 x 5, 7 x 9 maps 0 to 0 and v to round(255 * count(0 < x <= v) / 10):
 * 5 to 76.5, which OpenCV rounds to the even 76, and 9 to 255. */
static void test_cv_equalize(void) {
    const uint8_t in[12] = {0, 0, 5, 5, 5, 9, 9, 9, 9, 9, 9, 9}, flat[4] = {7, 7, 7, 7};
    uint8_t out[12];
    rcl_cv_hist_equalize(in, 12, out);
    CHECK(out[0] == 0 && out[2] == 76 && out[4] == 76 && out[5] == 255 && out[11] == 255,
          "equalised: 0, 76, 255 (%d %d %d)", out[0], out[2], out[11]);
    rcl_cv_hist_equalize(flat, 4, out);
    CHECK(out[0] == 7 && out[3] == 7, "a constant plane stays as it is");
}

/* Canny (50, 150) on 8 x 10 steps between columns 4 and 5: a step of 200 is an edge down column
 * 4 (both columns' L1 magnitude is 800; the suppression keeps the first); a step of 30 (120,
 * between the thresholds) is none, unless it joins a strong edge, as when its top two rows step
 * to 50. */
static void test_cv_canny(void) {
    uint8_t img[80], e[80];
    int ok = 1;
    for (int i = 0; i < 80; i++)
        img[i] = i % 10 >= 5 ? 200 : 0;
    CHECK_OK(rcl_cv_canny_detect(img, 8, 10, 50, 150, e));
    for (int i = 0; i < 80; i++)
        ok &= e[i] == (i % 10 == 4 ? 255 : 0);
    CHECK(ok, "canny: a step of 200 is an edge down column 4 and nowhere else");
    for (int i = 0; i < 80; i++)
        img[i] = i % 10 >= 5 ? 30 : 0;
    CHECK_OK(rcl_cv_canny_detect(img, 8, 10, 50, 150, e));
    ok = 1;
    for (int i = 0; i < 80; i++)
        ok &= e[i] == 0;
    CHECK(ok, "canny: a step of 30 alone is no edge (hysteresis)");
    for (int i = 0; i < 20; i++)
        img[i] = i % 10 >= 5 ? 50 : 0;
    CHECK_OK(rcl_cv_canny_detect(img, 8, 10, 50, 150, e));
    ok = 1;
    for (int y = 3; y < 8; y++)
        ok &= e[y * 10 + 4] == 255;
    CHECK(ok, "canny: the weak step is an edge once joined to a strong one");
}

/* A 3x3 correlation of an impulse at the centre of a 3 x 3 plane: the centre reads k[4]; a corner
 * reaches the centre from both sides through the reflect-101 edge: k[0] + k[2] + k[6] + k[8]. */
static void test_cv_filter3(void) {
    const double k[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, in[9] = {0, 0, 0, 0, 1, 0, 0, 0, 0};
    double out[9];
    rcl_cv_filter3_sum(in, 3, 3, k, out);
    CHECK(out[4] == 5 && out[0] == 20 && out[1] == 10 && out[5] == 10,
          "filter3: centre %g, corner %g, edges %g %g", out[4], out[0], out[1], out[5]);
}

/* n images of c x side x side at one value. */
static void flat_images(rcl_dataset *ds, int n, int c, int side, uint8_t v) {
    CHECK_OK(rcl_dataset_alloc(ds, n, c, side, side, 1, 0));
    memset(ds->pixels, v, (size_t)n * c * side * side);
    memset(ds->labels, 0, (size_t)n * sizeof *ds->labels);
}

/* Spatter at severities 1 (water) and 5 (mud) on black and white images of CIFAR and ImageNet
 * sizes, grey and colour: water adds pale turquoise (175, 238, 238) and leaves white as it is;
 * mud covers with brown (63, 42, 20), so red >= green >= blue; a grey image changes too. */
static void test_spatter_recipes(void) {
    static const int shapes[4][2] = {{3, 32}, {1, 28}, {3, 40}, {1, 48}};
    int sp = rcl_corrupted_find("spatter");
    for (int i = 0; i < 4; i++)
        for (int sev = 1; sev <= 5; sev += 4)
            for (uint8_t v = 0;; v = 255) {
                int c = shapes[i][0], side = shapes[i][1];
                size_t plane = (size_t)side * side;
                rcl_dataset in, out;
                flat_images(&in, 4, c, side, v);
                CHECK_OK(rcl_corrupt_dataset(&in, sp, sev, seed(11), &out));
                int changed = 0, colour_ok = 1;
                for (int k = 0; out.n && k < 4; k++)
                    for (size_t p = 0; p < plane; p++) {
                        const uint8_t *px = out.pixels + (size_t)k * c * plane + p;
                        changed |= px[0] != v;
                        if (c == 3 && sev == 1)
                            colour_ok &= px[0] <= px[plane] && px[plane] == px[2 * plane];
                        if (c == 3 && sev == 5)
                            colour_ok &= px[0] >= px[plane] && px[plane] >= px[2 * plane];
                    }
                CHECK(out.n == 4 && colour_ok && (sev == 1 && v == 255 ? !changed : changed),
                      "spatter %dx%dx%d severity %d on %s: %s", c, side, side, sev, v ? "white" : "black",
                      sev == 1 && v ? "stays white" : sev == 1 ? "turquoise water" : "brown mud");
                rcl_dataset_free(&in), rcl_dataset_free(&out);
                if (v == 255)
                    break;
            }
}

/* Of the changed pixels of plane 1 (green) of black images, the share whose right neighbour
 * changed too: spatter's blobs, larger under ImageNet-C's wider blurs. */
static double spatter_coherence(int side) {
    rcl_dataset in, out;
    flat_images(&in, 16, 3, side, 0);
    CHECK_OK(rcl_corrupt_dataset(&in, rcl_corrupted_find("spatter"), 1, seed(1), &out));
    size_t plane = (size_t)side * side;
    long changed = 0, pairs = 0;
    for (int k = 0; out.n && k < 16; k++) {
        const uint8_t *g = out.pixels + ((size_t)k * 3 + 1) * plane;
        for (int y = 0; y < side; y++)
            for (int x = 0; x + 1 < side; x++)
                if (g[y * side + x])
                    changed++, pairs += g[y * side + x + 1] != 0;
    }
    rcl_dataset_free(&in), rcl_dataset_free(&out);
    return changed ? (double)pairs / changed : 0;
}

/* The same seed repeats and another differs, in colour at both sizes; a 33x33 image takes
 * ImageNet-C's parameters (severity 1 blurs the liquid by 4 pixels, not CIFAR-10-C's 0.7), so
 * its drops hang together where a 32x32 image's are specks (measured 0.19-0.25 against
 * 0.76-0.83 over seeds 1-5). */
static void test_spatter_draws(void) {
    int sp = rcl_corrupted_find("spatter");
    for (int side = 32; side <= 40; side += 8) {
        rcl_dataset img, a, b, other;
        one_image(&img, 3, side, side, ramp);
        CHECK_OK(rcl_corrupt_dataset(&img, sp, 2, seed(4), &a));
        CHECK_OK(rcl_corrupt_dataset(&img, sp, 2, seed(4), &b));
        CHECK_OK(rcl_corrupt_dataset(&img, sp, 2, seed(5), &other));
        if (a.n && b.n && other.n)
            CHECK(mse(&a, &b) == 0 && mse(&a, &other) > 0, "spatter %dx%d: the same seed repeats, another differs",
                  side, side);
        rcl_dataset_free(&img), rcl_dataset_free(&a), rcl_dataset_free(&b), rcl_dataset_free(&other);
    }
    double small = spatter_coherence(32), large = spatter_coherence(33);
    CHECK(small < 0.45 && large > 0.6, "spatter: CIFAR-10-C's specks at 32x32 (%.2f), ImageNet-C's drops at 33x33 (%.2f)",
          small, large);
}

static void test_names_and_files(void) {
    int list[RCL_CORRUPTED_NAMES], n = 0;
    CHECK_OK(rcl_corrupt_parse("all", list, &n));
    CHECK(n == 19, "all: the 19 corruptions (%d)", n);
    CHECK_OK(rcl_corrupt_select("all", NULL, list, &n));
    CHECK(n == 18, "all without frost images: frost left out (%d)", n);
    CHECK_FAILS(rcl_corrupt_select("fog,frost", NULL, list, &n), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "--frost") != NULL, "frost asked for without images names --frost");
    rcl_dataset one, out;
    one_image(&one, 3, 32, 32, ramp);
    rcl_corrupt_options none = {0, NULL};
    CHECK_FAILS(rcl_corrupt_dataset(&one, rcl_corrupted_find("frost"), 1, &none, &out), RCL_ERR_INVALID_ARG);
    rcl_dataset_free(&one);
    CHECK_OK(rcl_corrupt_parse("fog,contrast,fog", list, &n));
    CHECK(n == 2 && list[0] == rcl_corrupted_find("fog") && list[1] == rcl_corrupted_find("contrast"),
          "a list, in order, each once");
    CHECK_FAILS(rcl_corrupt_parse("fogg", list, &n), RCL_ERR_INVALID_ARG);
    CHECK_OK(rcl_corrupt_parse("spatter", list, &n));
    CHECK(n == 1 && list[0] == rcl_corrupted_find("spatter"), "spatter parses");
    CHECK_FAILS(rcl_corrupt_parse("", list, &n), RCL_ERR_INVALID_ARG);

    rcl_dataset clean, back, direct;
    CHECK_OK(rcl_dataset_load("fashion-mnist,split=test,n=10", 0, &clean));
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/written", rcl_test_tmpdir());
    int fog = rcl_corrupted_find("fog");
    CHECK_OK(rcl_corrupt_write(&clean, &fog, 1, seed(5), dir));
    CHECK_OK(rcl_corrupted_load(dir, "fog", &back));
    CHECK_OK(rcl_corrupt_dataset(&clean, fog, 4, seed(5), &direct));
    size_t size = rcl_dataset_image_size(&clean);
    CHECK(back.n == 50 && direct.n == 10 && !memcmp(back.pixels + 3 * 10 * size, direct.pixels, 10 * size) &&
              back.labels[31] == clean.labels[1],
          "the written folder reads back: severity 4 is images 30..39, labels repeated");
    rcl_dataset_free(&clean), rcl_dataset_free(&back), rcl_dataset_free(&direct);
}

int main(void) {
    make_frost();
    test_real_images();
    test_exact_values();
    test_gaussian_blur();
    test_edges();
    test_cv_distance();
    test_cv_equalize();
    test_cv_canny();
    test_cv_filter3();
    test_spatter_recipes();
    test_spatter_draws();
    test_names_and_files();
    return rcl_test_finish();
}
