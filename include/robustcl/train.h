/* Training (spec §2: SGD Nesterov, weight decay, cosine schedule per
 * iteration, mean cross-entropy) and evaluation of a model on a dataset. */
#ifndef ROBUSTCL_TRAIN_H
#define ROBUSTCL_TRAIN_H

#include <signal.h>
#include <stdio.h>

#include "robustcl/data.h"
#include "robustcl/loader.h"
#include "robustcl/checkpoint.h"
#include "robustcl/model.h"

#ifdef __cplusplus
extern "C" {
#endif


/* Called to save a checkpoint (periodically, on interruption and at the end). */
typedef rcl_status (*rcl_checkpoint_fn)(void *ctx, rcl_model *m, const rcl_train_state *st, int final);

/* Hooks that change what a step trains on, for the evaluations' methods.
 * index: the dataset indices of the batch's n images (host memory). */
typedef struct rcl_step_hooks {
    void *ctx;
    /* Replaces x [n,...] (network space) before the forward, e.g. by PGD examples
     * (adversarial training). May run the model; the trainer's forward follows. */
    rcl_status (*input)(void *ctx, rcl_model *m, rcl_tensor *x, cl_mem labels, const int32_t *index, int n);
    /* Replaces the mean cross-entropy: writes the scalar loss [1] and dlogits [n,K]
     * from logits (e.g. the Forward/GLC corrected losses). */
    rcl_status (*loss)(void *ctx, rcl_device *d, const rcl_tensor *logits, cl_mem labels, const int32_t *index,
                       int n, rcl_tensor *loss, rcl_tensor *dlogits);
} rcl_step_hooks;

typedef struct rcl_train_config {
    int epochs, batch;
    double lr, lr_min, momentum, wd;
    int nesterov;
    uint64_t seed;
    int augment, pad;
    rcl_normalization norm;
    const float *class_weights;      /* [classes] or NULL: weighted-mean cross-entropy */
    FILE *log;                       /* JSON lines per epoch, or NULL */
    const rcl_dataset *test;         /* evaluated after each epoch, or NULL */
    rcl_checkpoint_fn checkpoint;    /* or NULL */
    void *checkpoint_ctx;
    long checkpoint_every_steps;     /* 0: off */
    double checkpoint_every_minutes; /* 0: off */
    volatile sig_atomic_t *stop;     /* nonzero: checkpoint and return RCL_ERR_INTERRUPTED */
    rcl_train_state start;           /* resume position */
    const char *label;               /* progress label */
    const rcl_step_hooks *hooks;     /* or NULL: plain cross-entropy on the batch */
} rcl_train_config;

/* batch 128, lr 0.1 -> 1e-6, momentum 0.9 Nesterov, wd 5e-4, augmentation on, pad 4, 0.5/0.5. */
rcl_train_config rcl_train_defaults(void);

typedef struct rcl_train_result {
    double train_loss, train_error; /* over the last epoch, as trained (augmented, train mode) */
    double test_error;              /* after the last epoch; -1 without a test set */
    double seconds, images_per_s;
    long steps;
} rcl_train_result;

rcl_status rcl_train(rcl_model *m, const rcl_dataset *ds, const int *indices, int count,
                     const rcl_train_config *cfg, rcl_train_result *res);

/* Eval-mode pass over ds (or the listed images): top-1 error, and the logits
 * [count, classes] when `logits` is not NULL. */
rcl_status rcl_evaluate(rcl_model *m, const rcl_dataset *ds, const int *indices, int count,
                        const rcl_normalization *norm, float *logits, double *error);

/* A model with a random input batch and labels on the device, for timing training steps
 * (bench step, time estimates). */
typedef struct rcl_step_probe {
    rcl_model *model;
    rcl_tensor x, probs, dlogits, loss;
    rcl_ibuf labels;
    float *host_x; /* the random input, which a step uploads again when asked to */
    int batch;
} rcl_step_probe;

rcl_status rcl_step_probe_create(rcl_device *d, const rcl_wrn_config *cfg, int batch,
                                 rcl_step_probe *p);
/* One training step as the trainer runs it ((upload,) forward, cross-entropy, backward, SGD
 * update), finished on the device. */
rcl_status rcl_step_probe_step(rcl_step_probe *p, int upload);
void rcl_step_probe_free(rcl_step_probe *p); /* safe on a zeroed or freed probe */

/* Measured speed of the net cfg at batch on d, on random data: seconds per training step
 * (forward, loss, backward, SGD update; the mean of `steps` after a warm-up step, which builds
 * kernels and chooses convolution algorithms) and eval-mode forward images per second. */
rcl_status rcl_measure_speed(rcl_device *d, const rcl_wrn_config *cfg, int batch, int steps,
                             double *step_seconds, double *eval_images_per_second);

#ifdef __cplusplus
}
#endif
#endif
