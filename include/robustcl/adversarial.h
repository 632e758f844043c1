/* Adversarial robustness (spec §7): L-inf PGD and FGSM in pixel space [0,1],
 * restarts, cross-entropy or margin (CW) loss, evaluation (clean and adversarial
 * accuracy, measured max |x_adv - x|, zero-gradient count), accuracy-vs-eps sweeps
 * and adversarial training as trainer hooks.
 *
 * The network sees x_net = (x_pix - mean)/std per channel. An attack derives the
 * pixel image from the network-space batch (x_pix = clamp(x_net*std + mean, 0, 1)),
 * perturbs it and hands the network x_net + (x_adv_pix - x_pix)/std, so eps = 0
 * leaves the input bit-identical. Everything runs on the device: a PGD step is a
 * forward, a loss-gradient kernel, a backward to the input and a step kernel; the
 * host reads back only per-batch statistics.
 *
 * Modes (spec §7 QUIRK):
 *   textbook  start = clamp(x + delta0, 0, 1); every step projects onto
 *             [x - eps, x + eps] around the clean x, so |x_adv - x| <= eps.
 *   paper     the official code: the start x + delta0 is not clamped before the
 *             first gradient and the projection is centred on it, so |x_adv - x|
 *             reaches 2 eps.
 * A step is a += step*sign(g) (sign(0) = 0), projection, then clamp to [0,1]. FGSM is one
 * step of size eps from the clean x (no random start): both modes give the same result.
 *
 * Random start: delta0 = eps*(2u - 1) with u = rcl_counter_uniform(seed32 ^
 * rcl_hash32(i), counter, e) (robustcl/rng.h) for element e (0..c*h*w) of the image
 * with dataset index i; seed32 = (uint32_t)(seed ^ (seed >> 32)); counter = base + r for
 * restart r (0-based), where base is 0 in evaluation and step*restarts in adversarial
 * training (step = rcl_model_steps before the update, so a resumed run repeats the same
 * starts). Results therefore do not depend on the batch size.
 *
 * Freezing the trunk (Table 3, "tuning only the last layer"): call rcl_model_freeze_trunk
 * before rcl_train. rcl_model_step then skips every parameter but fc.weight and fc.bias;
 * the attack still differentiates through the whole network. Frozen BN layers still run
 * in train mode during training (batch statistics, running statistics updated): what the
 * official code did there is UNCONFIRMED. */
#ifndef ROBUSTCL_ADVERSARIAL_H
#define ROBUSTCL_ADVERSARIAL_H

#include <stdint.h>

#include "robustcl/data.h"
#include "robustcl/json.h"
#include "robustcl/model.h"
#include "robustcl/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RCL_ATTACK_PGD = 0, RCL_ATTACK_FGSM = 1 } rcl_attack_kind;

typedef struct rcl_attack_config {
    rcl_attack_kind kind;
    double eps;       /* L-inf radius in pixel units ([0,1] scale) */
    double step;      /* PGD step size (FGSM: eps) */
    int steps;        /* PGD iterations (FGSM: 1) */
    int restarts;     /* >= 1; the worst case per example is kept (misclassified, then higher loss) */
    int random_start; /* PGD: delta0 ~ U(-eps, eps) (FGSM: 0) */
    rcl_attack_mode mode;
    rcl_attack_loss loss;
    uint64_t seed;
    /* BN mode of the attack's forwards: -1 = eval mode in evaluation and train mode
     * (batch statistics, running statistics updated) in adversarial training (spec §7);
     * 0 = always eval; 1 = always train. */
    int bn_train;
    rcl_normalization norm; /* the network input's (spec §3: 0.5/0.5) */
} rcl_attack_config;

/* PGD-20, eps 8/255, step 2/255, 1 restart, random start, textbook, CE, seed 0,
 * bn_train -1, mean = std = 0.5. (Adversarial training uses steps = 10.) */
rcl_attack_config rcl_attack_defaults(void);

/* Parses KIND[:KEY=VALUE,...] into *cfg, starting from rcl_attack_defaults() (set
 * norm afterwards). KIND: pgd | fgsm. Keys:
 *   eps=8/255        radius; a number or a fraction a/b, 0 <= eps <= 1
 *   step=2/255       PGD step size (default eps/4, i.e. 2/255 at 8/255)
 *   steps=20         PGD iterations >= 1
 *   restarts=1       PGD random restarts >= 1
 *   start=random|none  PGD random start (default random)
 *   mode=textbook|paper
 *   loss=ce|margin   (cw is accepted for margin)
 *   seed=N
 *   bn=auto|eval|train  BN mode of the attack's forwards (bn_train -1/0/1)
 * fgsm accepts eps, mode, loss, seed and bn. Errors (RCL_ERR_INVALID_ARG) name the spec
 * and the offending part. */
rcl_status rcl_attack_parse(const char *spec, rcl_attack_config *cfg);

/* Parses a comma-separated list of radii (each a number or a fraction a/b in [0,1],
 * e.g. "0,1/255,2/255,8/255") into eps[0..cap); *n receives the count. Errors
 * (RCL_ERR_INVALID_ARG) name the list and the offending item. */
rcl_status rcl_attack_parse_eps_list(const char *list, double *eps, int cap, int *n);

/* A canonical spec that rcl_attack_parse reads back, e.g.
 * "pgd:eps=8/255,step=2/255,steps=20,restarts=1,start=random,mode=textbook,loss=ce,seed=0".
 * Returns buf. */
const char *rcl_attack_describe(const rcl_attack_config *cfg, char *buf, size_t cap);
const char *rcl_attack_mode_name(rcl_attack_mode mode); /* "textbook" | "paper" */

/* What an attack differentiates: the WRN (rcl_model_classifier) or any network with
 * the same two calls, e.g. a linear model in the tests. */
typedef struct rcl_classifier {
    void *ctx;
    rcl_device *dev;
    int in_c, in_h, in_w, num_classes, batch_cap;
    /* logits [n, num_classes] (owned by the classifier) of x [n, in_c, in_h, in_w]
     * (network space); train: BN batch statistics. */
    rcl_status (*forward)(void *ctx, const rcl_tensor *x, int train, const rcl_tensor **logits);
    /* dx [n, in_c, in_h, in_w] of the last forward from dlogits [n, num_classes]. */
    rcl_status (*backward)(void *ctx, const rcl_tensor *dlogits, rcl_tensor *dx);
} rcl_classifier;

rcl_classifier rcl_model_classifier(rcl_model *m);

/* ---- the attack on one batch ---- */

typedef struct rcl_attack rcl_attack;

/* Allocates the attack's device buffers for batches of up to f->batch_cap images.
 * bn_train -1 counts as eval mode here. *f is copied; what f->ctx points to must
 * outlive the attack. */
rcl_status rcl_attack_create(const rcl_classifier *f, const rcl_attack_config *cfg, rcl_attack **out);
void rcl_attack_free(rcl_attack *a);

typedef struct rcl_attack_stats {
    int correct;     /* images classified correctly at their worst case */
    int zero_grad;   /* images whose input gradient was all zero at the first step of restart 0 */
    double max_linf; /* max over the batch of max |x_adv - x| in pixel space */
} rcl_attack_stats;

/* Attacks x [n, c, h, w] (network space, not modified) with labels (device, int32 [n])
 * and dataset indices index (host [n]; they key the random start). Writes x_adv
 * [n, c, h, w] (network space; may be x itself). counter: the base of the random
 * start's counter (see above).
 * st: NULL reads nothing back (adversarial training with one restart then skips the
 * forward that scores the final examples). */
rcl_status rcl_attack_run(rcl_attack *a, const rcl_tensor *x, cl_mem labels, const int32_t *index, int n,
                          uint32_t counter, rcl_tensor *x_adv, rcl_attack_stats *st);

/* ---- evaluation ---- */

typedef struct rcl_adv_result {
    rcl_attack_config cfg; /* what ran (mode, eps, ...) */
    int count;             /* images evaluated */
    long clean_correct, adv_correct;
    double clean_accuracy, adv_accuracy; /* fractions of count */
    double max_linf;                     /* measured max |x_adv - x| over all images, pixel space */
    long zero_grad;                      /* images whose input gradient was all zero (gradient masking) */
    double seconds;
} rcl_adv_result;

/* Clean accuracy (eval mode) and accuracy under the attack of ds (or the listed
 * images), normalised with cfg->norm, batches of the model's batch_cap. */
rcl_status rcl_adv_evaluate(rcl_model *m, const rcl_dataset *ds, const int *indices, int count,
                            const rcl_attack_config *cfg, rcl_adv_result *res);
rcl_status rcl_adv_evaluate_classifier(const rcl_classifier *f, const rcl_dataset *ds, const int *indices, int count,
                                       const rcl_attack_config *cfg, rcl_adv_result *res);

/* Accuracy vs eps: res[i] is rcl_adv_evaluate at eps[i] with the step scaled in
 * proportion (step * eps[i] / cfg->eps; cfg->step itself when cfg->eps is 0). */
rcl_status rcl_adv_sweep(rcl_model *m, const rcl_dataset *ds, const int *indices, int count,
                         const rcl_attack_config *cfg, const double *eps, int neps, rcl_adv_result *res);
rcl_status rcl_adv_sweep_classifier(const rcl_classifier *f, const rcl_dataset *ds, const int *indices, int count,
                                    const rcl_attack_config *cfg, const double *eps, int neps, rcl_adv_result *res);

/* {"attack" (the canonical spec), "mode", "eps", "images", "clean_accuracy",
 * "adversarial_accuracy", "max_linf", "zero_gradient_images", "seconds"} */
void rcl_adv_result_json(rcl_json_writer *w, const rcl_adv_result *r);
/* A sweep's n results (rcl_adv_sweep with base): {"attack", "mode", "images", "clean_accuracy",
 * "points": [{"eps", "step", "adversarial_accuracy", "max_linf", "zero_gradient_images", "seconds"}]} */
void rcl_adv_sweep_json(rcl_json_writer *w, const rcl_attack_config *base, const rcl_adv_result *r, int n);

/* ---- adversarial training (spec §4, 7) ----
 * Fills *out with an input hook that replaces each training batch by its PGD examples
 * (BN in train mode unless cfg->bn_train is 0; the loss is then computed on the
 * adversarial examples only, as in the paper). Use e.g. cfg "pgd:steps=10" and set
 * rcl_train_config.hooks = out; the trainer's own forward/backward/step follow.
 * Free with rcl_adv_train_hooks_free after training. */
rcl_status rcl_adv_train_hooks(const rcl_attack_config *cfg, rcl_model *m, rcl_step_hooks *out);
void rcl_adv_train_hooks_free(rcl_step_hooks *hooks);

#ifdef __cplusplus
}
#endif
#endif
