/* Wide ResNet WRN-d-k (pre-activation), spec §1: builder, init,
 * forward (train/eval), backward (to parameters and optionally the input),
 * and the SGD step. Parameters carry the official PyTorch state_dict names. */
#ifndef ROBUSTCL_MODEL_H
#define ROBUSTCL_MODEL_H

#include <stdint.h>

#include "robustcl/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcl_wrn_config {
    int depth, widen;    /* WRN-depth-widen; (depth-4) % 6 == 0 */
    int in_c, in_h, in_w;
    int num_classes;
    float dropout;       /* inside each block, between conv1 and conv2 */
    int fc_bias;         /* 0: head without bias (Forward/GLC phase 2) */
} rcl_wrn_config;

/* Parses "wrn-40-2" into depth/widen. */
rcl_status rcl_wrn_parse_arch(const char *arch, rcl_wrn_config *cfg);
/* The configuration of every net a run builds: arch on c x h x w inputs (a dataset's c, h, w)
 * with `classes` outputs, a head with bias, no dropout. */
rcl_status rcl_wrn_config_make(const char *arch, int c, int h, int w, int classes, rcl_wrn_config *cfg);

typedef struct rcl_param {
    char name[96];       /* e.g. "block1.layer.0.bn1.weight" */
    rcl_tensor value;
    rcl_tensor grad;     /* unused (zeroed struct) for buffers */
    rcl_tensor momentum; /* SGD buffer, allocated on the first step */
    int trainable;       /* 0: BN running statistics */
    int frozen;          /* 1: excluded from the SGD step (e.g. --freeze-trunk) */
} rcl_param;

typedef struct rcl_model rcl_model;

/* Allocates parameters and activations for batches of up to batch_cap images. */
rcl_status rcl_model_create(rcl_device *d, const rcl_wrn_config *cfg, int batch_cap, rcl_model **out);
void rcl_model_free(rcl_model *m);
const rcl_wrn_config *rcl_model_config(const rcl_model *m);
rcl_device *rcl_model_device(const rcl_model *m);
int rcl_model_batch_cap(const rcl_model *m);

/* spec §1 initialisation from a seed (host RNG, uploaded once). */
rcl_status rcl_model_init(rcl_model *m, uint64_t seed);
/* The seed of the last rcl_model_init (new heads of fine-tuning derive from it). */
uint64_t rcl_model_init_seed(const rcl_model *m);
/* Re-initialises only the head: weight AND bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
rcl_status rcl_model_init_head(rcl_model *m, uint64_t seed);

int rcl_model_param_count(const rcl_model *m);
rcl_param *rcl_model_param(rcl_model *m, int i);
rcl_param *rcl_model_find(rcl_model *m, const char *name);
size_t rcl_model_num_weights(const rcl_model *m); /* trainable scalars */
/* Freezes every parameter but the head (fc.weight, fc.bias): training then tunes only the
 * last layer (the paper's last-layer-only ablation, Table 3; --freeze-trunk). */
void rcl_model_freeze_trunk(rcl_model *m);

/* Every convolution of the network in forward order, for batch n (benchmarks, tuning): writes
 * up to cap shapes and returns how many there are. */
int rcl_model_conv_shapes(const rcl_model *m, int n, rcl_conv_shape *out, int cap);
/* Provenance: the convolution policy and, per pass, the kernel configurations the net's
 * convolutions run with at its batch capacity, e.g. "fwd=auto,dx=auto,dw=auto; fwd
 * chan:VW=16:R=2:X=8:WG=1,direct:...; dx ...; dw ..." (from the stored choices: the same after a
 * resume). */
int rcl_model_conv_summary(rcl_model *m, char *out, size_t cap);

/* x: [n, in_c, in_h, in_w] with n <= batch_cap. train=1 uses batch statistics
 * (updating running ones) and dropout. *logits is a view [n, classes] owned by the model. */
rcl_status rcl_model_forward(rcl_model *m, const rcl_tensor *x, int train, const rcl_tensor **logits);
/* The penultimate features [n, 64k] of the last forward (a view owned by the model). */
const rcl_tensor *rcl_model_features(const rcl_model *m);
/* Backward of the last forward, from dlogits [n, classes]; writes every parameter
 * gradient, and dx [n, in_c, in_h, in_w] when dx is not NULL. After an eval-mode
 * forward the gradients are those of the eval-mode network (BN running statistics
 * constant, no dropout): what attacks on a trained model need. */
rcl_status rcl_model_backward(rcl_model *m, const rcl_tensor *dlogits, rcl_tensor *dx);
/* Train-mode batch norm: split K > 1 normalises K equal sub-batches separately (ghost batch
 * norm, the statistics of a K-device data-parallel run in one process; running statistics from
 * the first sub-batch); sync (kept, not copied; NULL: off) takes the statistics over every
 * data-parallel rank's batch. Default: split 1, no sync. */
rcl_status rcl_model_set_bn(rcl_model *m, int split, const rcl_bn_sync *sync);
/* One SGD step (spec §2) over trainable, non-frozen parameters. */
rcl_status rcl_model_step(rcl_model *m, float lr, float momentum, float wd, int nesterov);
/* Number of SGD steps taken (resets the "first step" of the momentum buffers when 0). */
long rcl_model_steps(const rcl_model *m);
void rcl_model_set_steps(rcl_model *m, long steps);
/* The dropout stream: masks are a function of (seed, counter); counter advances per train forward. */
void rcl_model_set_dropout_state(rcl_model *m, uint32_t seed, uint32_t counter);
uint32_t rcl_model_dropout_counter(const rcl_model *m);

#ifdef __cplusplus
}
#endif
#endif
