/* The suite's grid: defaults (PROTOCOL 11, sized for a 2-core machine) and
 * the description every report prints. */
#include <stdio.h>
#include <string.h>

#include "robustcl/suite.h"

void rcl_suite_defaults(rcl_suite_config *c, int quick) {
    memset(c, 0, sizeof *c);
    snprintf(c->data, sizeof c->data, "fashion-mnist");
    snprintf(c->source_classes, sizeof c->source_classes, "0-4");
    snprintf(c->target_classes, sizeof c->target_classes, "5-9");
    snprintf(c->arch, sizeof c->arch, "wrn-10-1");
    /* sized so the default suite (2 seeds) fits 20 minutes on 2 CPU cores with PoCL
     * (WRN-10-1 trains at ~130 images/s there); the report prints every size */
    c->batch = 32;
    c->pretrain_images = 3000;
    c->pretrain_epochs = 1;
    c->pretrain_lr = 0.1;
    c->target_per_class = 100;
    c->test_per_class = 100;
    c->min_steps = 50;
    c->scratch_epochs = 1;
    c->finetune_epochs = 1;
    c->scratch_lr = 0.1;
    c->finetune_lr = 0.01;
    c->scratch_dropout = 0.3;
    c->seeds[0] = 1;
    c->seeds[1] = 2;
    c->nseeds = 2;
    c->noise[0] = 0.0;
    c->noise[1] = 0.5;
    c->nnoise = 2;
    c->noise_methods = RCL_SUITE_NOISE_GLC;
    c->trusted_fraction = 0.1;
    c->gammas[0] = 0.2;
    c->ngammas = 1;
    c->imbalance_methods = RCL_SUITE_IMB_COST | RCL_SUITE_IMB_OVERSAMPLE | RCL_SUITE_IMB_SMOTE;
    c->adversarial = 1;
    c->adv_eps = 8.0 / 255.0;
    c->adv_train_steps = 1;
    c->adv_eval_steps = 3;
    if (quick) {
        c->quick = 1;
        c->nseeds = 1;
        c->pretrain_images = 640;
        c->target_per_class = 24;
        c->test_per_class = 40;
        c->min_steps = 6;
        c->noise_methods = RCL_SUITE_NOISE_FORWARD | RCL_SUITE_NOISE_GLC;
        c->adv_eval_steps = 2;
    }
}

static void list_d(FILE *f, const double *v, int n) {
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%g", i ? ", " : "", v[i]);
}

void rcl_suite_describe(const rcl_suite_config *c, FILE *f) {
    fprintf(f, "data %s: source classes %s, target classes %s%s\n", c->data, c->source_classes, c->target_classes,
            c->quick ? " (quick: CI-sized)" : "");
    fprintf(f, "net %s, batch %d, SGD Nesterov 0.9, wd 5e-4, cosine to 1e-6, crop+flip\n", c->arch, c->batch);
    fprintf(f, "pre-training: %d source images (0 = all), %d epochs, lr %g\n", c->pretrain_images, c->pretrain_epochs,
            c->pretrain_lr);
    fprintf(f, "target: %d training images per class, %d test images per class (0 = all); every run trains at least "
               "%d steps\n", c->target_per_class, c->test_per_class, c->min_steps);
    fprintf(f, "scratch: lr %g, dropout %g; pre-trained: new head, whole net fine-tuned at lr %g\n", c->scratch_lr,
            c->scratch_dropout, c->finetune_lr);
    fprintf(f, "seeds: %d; label noise (uniform) s = ", c->nseeds);
    list_d(f, c->noise, c->nnoise);
    fprintf(f, ", methods normal%s%s (trusted %g%%)\n", c->noise_methods & RCL_SUITE_NOISE_FORWARD ? ", forward" : "",
            c->noise_methods & RCL_SUITE_NOISE_GLC ? ", glc" : "", 100 * c->trusted_fraction);
    fprintf(f, "class imbalance: power law gamma = ");
    list_d(f, c->gammas, c->ngammas);
    fprintf(f, " (largest class = target size, smallest = 1/20 of it, at least 2), methods normal%s%s%s\n",
            c->imbalance_methods & RCL_SUITE_IMB_COST ? ", cost-sensitive" : "",
            c->imbalance_methods & RCL_SUITE_IMB_OVERSAMPLE ? ", oversampling" : "",
            c->imbalance_methods & RCL_SUITE_IMB_SMOTE ? ", SMOTE" : "");
    if (c->adversarial)
        fprintf(f, "adversarial: L-inf eps %.4g, PGD-%d training (from scratch vs fine-tuning), PGD-%d evaluation, "
                   "textbook mode\n", c->adv_eps, c->adv_train_steps, c->adv_eval_steps);
    fprintf(f, "OOD: gaussian, rademacher, blobs%s%s; calibration: RMS/MAD (textbook, paper value beside), ECE, AURRA\n",
            c->ood[0] ? ", " : "", c->ood);
}
