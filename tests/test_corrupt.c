/* The generated corruptions (src/data/corrupt.c, spec §12), on real Fashion-MNIST images and on
 * edge cases: exact values where the arithmetic is simple enough to restate here (contrast,
 * brightness and saturate of known pixels, the Gaussian blur as a direct 2-D sum), the same
 * output for the same seed and another for another, damage growing with the severity, images at
 * 0 and 255, the names, and the written folder read back. The distributions of the random ones
 * against the Python references are bench/corruptions_peer.py's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
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

static void test_names_and_files(void) {
    int list[RCL_CORRUPTED_NAMES], n = 0;
    CHECK_OK(rcl_corrupt_parse("all", list, &n));
    CHECK(n == 18, "all: the 18 corruptions built (%d)", n);
    CHECK_OK(rcl_corrupt_select("all", NULL, list, &n));
    CHECK(n == 17, "all without frost images: frost left out (%d)", n);
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
    CHECK_FAILS(rcl_corrupt_parse("spatter", list, &n), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "not built") != NULL, "an unbuilt corruption is named so: %s", rcl_last_error());
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
    test_names_and_files();
    return rcl_test_finish();
}
