/* The library example: train a few steps of a small WRN through the public
 * API only (robustcl/robustcl.h), on a synthetic two-class problem, and check
 * that the loss goes down. Build your own program the same way:
 *   cc my.c $(pkg-config --cflags --libs robustcl) */
#include <robustcl/robustcl.h>
#include <stdio.h>

int main(void) {
    rcl_device *dev;
    rcl_device_options opt = {0};
    if (rcl_device_open(&opt, &dev) != RCL_OK) {
        fprintf(stderr, "%s\n", rcl_last_error());
        printf("0 passed, 1 failed\n");
        return 1;
    }
    /* 64 images 1x8x8: class 1 is bright, class 0 dark */
    rcl_dataset ds;
    if (rcl_dataset_alloc(&ds, 64, 1, 8, 8, 2, 0) != RCL_OK) {
        fprintf(stderr, "%s\n", rcl_last_error());
        return 1;
    }
    rcl_rng r = rcl_rng_seed(1);
    for (int i = 0; i < 64; i++) {
        ds.labels[i] = i % 2;
        for (int j = 0; j < 64; j++)
            ds.pixels[i * 64 + j] = (uint8_t)(ds.labels[i] ? 160 + rcl_rng_below(&r, 90) : rcl_rng_below(&r, 90));
    }
    rcl_wrn_config cfg = {10, 1, 1, 8, 8, 2, 0.0f, 1};
    rcl_model *m;
    rcl_train_config tc = rcl_train_defaults();
    tc.epochs = 3;
    tc.batch = 16;
    tc.lr = 0.05;
    tc.augment = 0;
    rcl_train_result first, last;
    int ok = rcl_model_create(dev, &cfg, 16, &m) == RCL_OK && rcl_model_init(m, 1) == RCL_OK;
    tc.epochs = 1;
    ok = ok && rcl_train(m, &ds, NULL, 0, &tc, &first) == RCL_OK;
    tc.epochs = 3;
    tc.start.epoch = 1;
    tc.start.step = 4; /* 64 images / batch 16: resume the schedule where the first call ended */
    ok = ok && rcl_train(m, &ds, NULL, 0, &tc, &last) == RCL_OK;
    double err = 1;
    const rcl_normalization half = rcl_normalization_half();
    ok = ok && rcl_evaluate(m, &ds, NULL, 0, &half, NULL, &err) == RCL_OK;
    if (!ok)
        fprintf(stderr, "%s\n", rcl_last_error());
    printf("loss first epoch %.4f, last epoch %.4f, error %.3f\n", first.train_loss, last.train_loss, err);
    int pass = ok && last.train_loss < first.train_loss && err < 0.2;
    rcl_model_free(m);
    rcl_dataset_free(&ds);
    rcl_device_close(dev);
    printf("%d passed, %d failed\n", pass, !pass);
    return pass ? 0 : 1;
}
