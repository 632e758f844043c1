/* Device ops: each a *_forward / *_backward pair over rcl_tensor, all work
 * enqueued on the device's in-order queue (nothing waits on the host).
 * The plain-C reference of every op is in src/ops/ref.h, beside the op (X_ref.c by X.c).
 * Backward functions overwrite their gradient outputs (no accumulation)
 * unless stated. Tensors are NCHW float32. */
#ifndef ROBUSTCL_OPS_H
#define ROBUSTCL_OPS_H

#include "robustcl/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- conv2d: three passes (forward, input gradient dx, weight gradient dw), each run by
 * the kernel configuration chosen for the device and shape (docs/convolution.md): im2col +
 * CLBlast GEMM ("gemm", every shape) or one of robustcl's kernel families ("direct",
 * "chan": 3x3 pad 1 and 1x1 pad 0, stride 1 or 2) with its tuned parameters. Every
 * configuration is deterministic. ---- */
typedef struct rcl_conv_shape {
    int n, c_in, h, w;      /* input */
    int c_out, kh, kw;      /* weight [c_out, c_in, kh, kw], no bias */
    int stride, pad;
} rcl_conv_shape;
static inline int rcl_conv_out_h(const rcl_conv_shape *s) { return (s->h + 2 * s->pad - s->kh) / s->stride + 1; }
static inline int rcl_conv_out_w(const rcl_conv_shape *s) { return (s->w + 2 * s->pad - s->kw) / s->stride + 1; }

/* y[n, c_out, ho, wo] = conv(x, w). */
rcl_status rcl_conv2d_forward(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                              const rcl_tensor *w, rcl_tensor *y);
/* dx (may be NULL: not needed) and dw from dy. */
rcl_status rcl_conv2d_backward(rcl_device *d, const rcl_conv_shape *s, const rcl_tensor *x,
                               const rcl_tensor *w, const rcl_tensor *dy, rcl_tensor *dx,
                               rcl_tensor *dw);

/* Kernel configurations. A configuration is a kernel family and a value for each of the
 * family's parameters, written "chan:VW=16:R=2:X=8" (or "gemm"). The policy of a device
 * (rcl_device_options.conv_policy, or rcl_conv_set_policy) is "auto" (default): a pass runs with the configuration tuned for its
 * shape on this device (robustcl tune), else the one robustcl's database holds for the
 * device, else the first call on a new shape (batch rounded up to a power of two) times the
 * candidates (gemm, and per family the configurations tuned or stored for similar shapes
 * and the family's start values derived from the device) on its own tensors, runs the
 * fastest from then on and stores the choice in the cache directory; or one family or
 * configuration for every pass ("gemm", "direct", "chan"); or per pass
 * "fwd=CONFIG,dx=CONFIG,dw=CONFIG" (a pass left out, or auto, stays auto; a family without
 * values takes its best known values). A forced family runs as gemm on shapes it does not
 * handle. */
typedef enum { RCL_CONV_FWD = 0, RCL_CONV_DX = 1, RCL_CONV_DW = 2 } rcl_conv_pass;
#define RCL_CONV_PASSES 3
#define RCL_CONV_CONFIG_LEN 64
rcl_status rcl_conv_set_policy(rcl_device *d, const char *spec);
/* RCL_OK when spec is a valid policy (else the error names what is wrong). */
rcl_status rcl_conv_policy_check(const char *spec);
/* "fwd=auto,dx=chan,dw=auto": the policy in force (provenance). Returns snprintf's count. */
int rcl_conv_policy_string(rcl_device *d, char *out, size_t cap);
const char *rcl_conv_pass_name(rcl_conv_pass p); /* "fwd", "dx", "dw" */

/* The kernel families: name ("gemm", "direct", "chan") and pass of family i. */
int rcl_conv_family_count(void);
const char *rcl_conv_family_name(int i);
rcl_conv_pass rcl_conv_family_pass(int i);
/* Every parameter of family i, with its values, one per line ("VW 4,8,16: lanes ..."). */
int rcl_conv_family_describe(int i, char *out, size_t cap);

/* The configuration pass p of s runs with, without measuring: forced, tuned, from the
 * database, or stored by auto; 0 (and "") when auto has not chosen yet. */
int rcl_conv_choice_known(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p, char *config,
                          size_t cap);
/* Where the device's kernel parameters come from, for `robustcl devices` and every bench:
 * "tuned on this device (N shapes, FILE)", "robustcl's database: ENTRY" or "derived from the
 * device: ...". */
const char *rcl_conv_params_source(rcl_device *d);
/* The configurations auto would measure for pass p of s (gemm first), as text: count. */
int rcl_conv_candidates(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                        char (*out)[RCL_CONV_CONFIG_LEN], int cap);
/* Times configuration `config` on pass p of s with the tensors given (forward: a = x, b = w,
 * out = y; dx: a = w, b = dy, out = dx; dw: a = x, b = dy, out = dw): the best of `runs`
 * after a warm-up, which also builds its kernel. *ms = -1 when it does not handle s. */
rcl_status rcl_conv_time(rcl_device *d, const char *config, const rcl_conv_shape *s,
                         rcl_conv_pass p, const rcl_tensor *a, const rcl_tensor *b,
                         rcl_tensor *out, int runs, double *ms);
/* The configuration pass p of s runs with under the policy (measuring the candidates, as
 * auto does, when it has no choice yet); config gets its text. */
rcl_status rcl_conv_choice_for(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                               const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out,
                               char *config, size_t cap);
/* The choices in force on d: tuned, from the database, or measured by auto. */
typedef struct rcl_conv_choice {
    rcl_conv_pass pass;
    rcl_conv_shape shape; /* as tuned or first measured (n: the batch) */
    char config[RCL_CONV_CONFIG_LEN];
    double ms;            /* its time then, or -1 when not known */
    char source[12];      /* "tuned", "measured" */
} rcl_conv_choice;
int rcl_conv_choices(rcl_device *d, const rcl_conv_choice **list);

/* The tuner (robustcl tune): for every shape and pass, searches each family's declared
 * parameter space (every combination when it fits the time left, else at random and then
 * around the best so far), checks each candidate's output against a double-precision
 * reference on sampled entries before timing it, keeps the fastest and stores it as the
 * tuned choice of that shape on this device (source "tuned"). budget_seconds is shared by
 * the shapes x passes; progress (may be NULL) is called after every candidate. */
typedef struct rcl_conv_tune_progress {
    int item, items;                 /* shape x pass being tuned, of how many */
    const rcl_conv_shape *shape;
    rcl_conv_pass pass;
    int tried, rejected, space;      /* candidates timed, wrong or failed, combinations */
    char best[RCL_CONV_CONFIG_LEN];
    double best_ms, start_ms;        /* the best so far, and the starting choice's time */
    int done;                        /* 1 on the item's last call */
} rcl_conv_tune_progress;
rcl_status rcl_conv_tune(rcl_device *d, const rcl_conv_shape *shapes, int nshapes,
                         double budget_seconds, unsigned long long seed,
                         void (*progress)(const rcl_conv_tune_progress *p, void *ctx), void *ctx);
/* The tuned choices of d as a database entry (the text kernels/tuned/database.txt holds, for
 * contributing a device): the device, platform and driver patterns, then one line per
 * choice. Returns snprintf's count. */
int rcl_conv_database_entry(rcl_device *d, char *out, size_t cap);

/* ---- batch norm over [N,C,H,W] per channel, optionally fused with a following ReLU ----
 * train: normalise with the biased batch variance; running_mean/var updated with
 *        momentum (running = (1-m)*running + m*batch, unbiased variance), mean and
 *        1/sqrt(var+eps) saved for backward.
 * eval:  normalise with the running statistics (save_* unused, may be NULL). */
typedef enum { RCL_BN_TRAIN = 0, RCL_BN_EVAL = 1 } rcl_bn_mode;
rcl_status rcl_batchnorm_forward(rcl_device *d, rcl_bn_mode mode, int relu, const rcl_tensor *x,
                                 const rcl_tensor *gamma, const rcl_tensor *beta,
                                 rcl_tensor *running_mean, rcl_tensor *running_var, float momentum,
                                 float eps, rcl_tensor *y, rcl_tensor *save_mean,
                                 rcl_tensor *save_invstd);
/* Backward of a train-mode forward. With relu, y (the forward output) masks dy. dx may alias nothing. */
rcl_status rcl_batchnorm_backward(rcl_device *d, int relu, const rcl_tensor *x, const rcl_tensor *y,
                                  const rcl_tensor *dy, const rcl_tensor *gamma,
                                  const rcl_tensor *save_mean, const rcl_tensor *save_invstd,
                                  rcl_tensor *dx, rcl_tensor *dgamma, rcl_tensor *dbeta);
/* Ghost batch norm: train mode normalises samples [k*N/K, (k+1)*N/K) of each of the K = split
 * sub-batches with their own statistics (save_mean/save_invstd are [K*C], sub-batch major); the
 * running statistics follow the first sub-batch (as replica 0 of a data-parallel run);
 * dgamma/dbeta sum over the sub-batches. split 1 is rcl_batchnorm_forward/backward. */
rcl_status rcl_batchnorm_forward_split(rcl_device *d, rcl_bn_mode mode, int relu, int split, const rcl_tensor *x,
                                       const rcl_tensor *gamma, const rcl_tensor *beta,
                                       rcl_tensor *running_mean, rcl_tensor *running_var, float momentum,
                                       float eps, rcl_tensor *y, rcl_tensor *save_mean,
                                       rcl_tensor *save_invstd);
rcl_status rcl_batchnorm_backward_split(rcl_device *d, int relu, int split, const rcl_tensor *x,
                                        const rcl_tensor *y, const rcl_tensor *dy, const rcl_tensor *gamma,
                                        const rcl_tensor *save_mean, const rcl_tensor *save_invstd,
                                        rcl_tensor *dx, rcl_tensor *dgamma, rcl_tensor *dbeta);

/* Synchronised batch norm across data-parallel ranks: train-mode statistics over the union
 * of every rank's batch. sum(ctx, buf, n) must replace buf[0..n) by its sum over the ranks
 * (every rank calls it in the same order). Running statistics follow the global batch;
 * dgamma/dbeta are this rank's local sums (the gradient averaging then makes them global);
 * dx uses the global sums. With one rank the result equals rcl_batchnorm_forward/backward
 * up to float summation order. */
typedef struct rcl_bn_sync {
    rcl_status (*sum)(void *ctx, float *buf, int n);
    void *ctx;
} rcl_bn_sync;
rcl_status rcl_batchnorm_forward_sync(rcl_device *d, int relu, const rcl_bn_sync *sync, const rcl_tensor *x,
                                      const rcl_tensor *gamma, const rcl_tensor *beta, rcl_tensor *running_mean,
                                      rcl_tensor *running_var, float momentum, float eps, rcl_tensor *y,
                                      rcl_tensor *save_mean, rcl_tensor *save_invstd);
rcl_status rcl_batchnorm_backward_sync(rcl_device *d, int relu, const rcl_bn_sync *sync, const rcl_tensor *x,
                                       const rcl_tensor *y, const rcl_tensor *dy, const rcl_tensor *gamma,
                                       const rcl_tensor *save_mean, const rcl_tensor *save_invstd,
                                       rcl_tensor *dx, rcl_tensor *dgamma, rcl_tensor *dbeta);

/* ---- ReLU (y may alias x) ---- */
rcl_status rcl_relu_forward(rcl_device *d, const rcl_tensor *x, rcl_tensor *y);
/* dx = dy * (y > 0) (dx may alias dy) */
rcl_status rcl_relu_backward(rcl_device *d, const rcl_tensor *y, const rcl_tensor *dy, rcl_tensor *dx);

/* ---- inverted dropout: keep where rcl_counter_uniform(seed, counter, i) >= p, scale 1/(1-p) ---- */
rcl_status rcl_dropout_forward(rcl_device *d, float p, uint32_t seed, uint32_t counter,
                               const rcl_tensor *x, rcl_tensor *y);
rcl_status rcl_dropout_backward(rcl_device *d, float p, uint32_t seed, uint32_t counter,
                                const rcl_tensor *dy, rcl_tensor *dx);

/* ---- global average pool [N,C,H,W] -> [N,C] ---- */
rcl_status rcl_avgpool_forward(rcl_device *d, const rcl_tensor *x, rcl_tensor *y);
rcl_status rcl_avgpool_backward(rcl_device *d, const rcl_tensor *dy, rcl_tensor *dx);

/* ---- linear: y[N,K] = x[N,F] w[K,F]^T + b (b may be NULL) ---- */
rcl_status rcl_linear_forward(rcl_device *d, const rcl_tensor *x, const rcl_tensor *w,
                              const rcl_tensor *b, rcl_tensor *y);
/* dx may be NULL; db may be NULL (no bias). */
rcl_status rcl_linear_backward(rcl_device *d, const rcl_tensor *x, const rcl_tensor *w,
                               const rcl_tensor *dy, rcl_tensor *dx, rcl_tensor *dw, rcl_tensor *db);

/* ---- softmax cross-entropy, weighted mean ----
 * labels: int32 buffer of N classes in [0,K). class_w [K] and sample_w [N] may be NULL.
 * Per-sample weight w_i = class_w[y_i] * sample_w[i]; loss = sum w_i*l_i / sum w_i.
 * probs [N,K] receives softmax(logits); loss [1] the scalar. */
rcl_status rcl_softmax_xent_forward(rcl_device *d, const rcl_tensor *logits, cl_mem labels,
                                    const rcl_tensor *class_w, const rcl_tensor *sample_w,
                                    rcl_tensor *probs, rcl_tensor *loss);
/* dlogits = w_i * (probs - onehot) / sum w. */
rcl_status rcl_softmax_xent_backward(rcl_device *d, const rcl_tensor *probs, cl_mem labels,
                                     const rcl_tensor *class_w, const rcl_tensor *sample_w,
                                     rcl_tensor *dlogits);
/* correct[0] = number of rows whose argmax (first maximum) equals the label. */
rcl_status rcl_count_correct(rcl_device *d, const rcl_tensor *logits, cl_mem labels, cl_mem correct);

/* ---- elementwise ---- */
rcl_status rcl_add(rcl_device *d, const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *y); /* y = a + b */
rcl_status rcl_axpy(rcl_device *d, float alpha, const rcl_tensor *x, rcl_tensor *y);        /* y += alpha x */

/* ---- SGD (spec §2): d = g + wd*w; buf = first ? d : momentum*buf + d;
 *      d = nesterov ? d + momentum*buf : buf; w -= lr*d ---- */
rcl_status rcl_sgd_step(rcl_device *d, rcl_tensor *w, const rcl_tensor *g, rcl_tensor *buf,
                        float lr, float momentum, float wd, int nesterov, int first);

/* Cosine schedule (spec §2): learning rate for update t (1-based) of T. */
double rcl_cosine_lr(double lr, double lr_min, long t, long T);

/* ---- corrected loss of the label-noise methods (spec §5: Forward, GLC) ----
 * Per sample r: trusted[r] ? CE(logits_r, y_r) : -log sum_j softmax(logits_r)_j C[j, y_r];
 * loss [1] = sum / N (the batch size: GLC's divisor, and the plain mean of Forward).
 * labels: int32 [N]; trusted: int32 [N], nonzero = trusted, or NULL (none trusted);
 * C [K,K] row-major, row = true class. probs [N,K] receives softmax(logits). */
rcl_status rcl_corrected_loss_forward(rcl_device *d, const rcl_tensor *logits, cl_mem labels, cl_mem trusted,
                                      const rcl_tensor *C, rcl_tensor *probs, rcl_tensor *loss);
/* dlogits = (probs - onehot(y)) / N for trusted rows, else probs_j (1 - C[j,y] / sum_i probs_i C[i,y]) / N. */
rcl_status rcl_corrected_loss_backward(rcl_device *d, const rcl_tensor *probs, cl_mem labels, cl_mem trusted,
                                       const rcl_tensor *C, rcl_tensor *dlogits);

/* ---- NaN/Inf detection: bad[i] = 1 when tensors[i] holds a NaN or an infinity, else 0;
 * *first_bad (may be NULL) = the first such index, or -1. One launch per 16 tensors and one
 * blocking read, so the trainer can check every weight and gradient each step. A tensor
 * without a buffer (a zeroed struct) counts as finite. ---- */
rcl_status rcl_check_finite(rcl_device *d, const rcl_tensor *const *tensors, int count, int *bad,
                            int *first_bad);

/* ---- batch-norm backward of an eval-mode forward (running statistics are constants) ----
 * With relu, y (the forward output) masks dy. dx = dy*gamma/sqrt(running_var+eps),
 * dbeta = sum dy, dgamma = sum dy*(x-running_mean)/sqrt(running_var+eps). dx may alias dy. */
rcl_status rcl_batchnorm_backward_eval(rcl_device *d, int relu, const rcl_tensor *x, const rcl_tensor *y,
                                       const rcl_tensor *dy, const rcl_tensor *gamma,
                                       const rcl_tensor *running_mean, const rcl_tensor *running_var, float eps,
                                       rcl_tensor *dx, rcl_tensor *dgamma, rcl_tensor *dbeta);

/* textbook/paper: see rcl_attack_start below and robustcl/adversarial.h. */
typedef enum { RCL_ATTACK_TEXTBOOK = 0, RCL_ATTACK_PAPER = 1 } rcl_attack_mode;
/* ce: untargeted cross-entropy on the true label (maximised).
 * margin: the CW margin max_{j != y} z_j - z_y (maximised, not clamped). */
typedef enum { RCL_ATTACK_LOSS_CE = 0, RCL_ATTACK_LOSS_MARGIN = 1 } rcl_attack_loss;

/* ---- the attack's device ops (src/ops/attack.c); their double references are in src/ops/ref.h ----
 * Tensors are [n, c, h, w] pixel or network images; per-row buffers have n entries. */

/* x_pix = clamp(x_net*std[ch] + mean[ch], 0, 1); c <= 3. */
rcl_status rcl_attack_to_pixels(rcl_device *d, const rcl_tensor *x_net, const float *mean, const float *std,
                                rcl_tensor *x_pix);
/* out = x_net + (adv - x_pix)/std[ch] (out may alias x_net). */
rcl_status rcl_attack_to_network(rcl_device *d, const rcl_tensor *x_net, const rcl_tensor *x_pix, const rcl_tensor *adv,
                                 const float *std, rcl_tensor *out);
/* Start point and projection centre. Without random start: adv = centre = x. With it:
 * delta = eps*(2u-1) (u the uniform of rcl_attack's random start (robustcl/adversarial.h), keyed by index (device int32 [n]));
 * textbook adv = clamp(x + delta, 0, 1), centre = x; paper adv = centre = x + delta. */
rcl_status rcl_attack_start(rcl_device *d, const rcl_tensor *x_pix, cl_mem index, int random_start, float eps,
                            rcl_attack_mode mode, uint32_t seed, uint32_t counter, rcl_tensor *adv, rcl_tensor *centre);
/* adv = clamp(clamp(adv + step*sign(g), centre - eps, centre + eps), 0, 1); sign(0) = 0. */
rcl_status rcl_attack_step(rcl_device *d, const rcl_tensor *grad, const rcl_tensor *centre, float step, float eps,
                           rcl_tensor *adv);
/* Per row: the loss to maximise (row_loss), its gradient dlogits, and whether the
 * first maximum of the logits is the label (row_correct, int32). */
rcl_status rcl_attack_loss_grad(rcl_device *d, rcl_attack_loss loss, const rcl_tensor *logits, cl_mem labels,
                                rcl_tensor *dlogits, rcl_tensor *row_loss, cl_mem row_correct);
/* Keeps the worst case per row: where (misclassified now and correct before) or (same
 * correctness and higher loss), or when first != 0, copies adv into best and updates
 * best_loss/best_correct. */
rcl_status rcl_attack_keep_worst(rcl_device *d, const rcl_tensor *adv, const rcl_tensor *row_loss, cl_mem row_correct,
                                 int first, rcl_tensor *best, rcl_tensor *best_loss, cl_mem best_correct);
/* Per row: zero[r] = 1 when every element of grad's row r is 0; maxdiff[r] = max |a - b|
 * over the row (grad and zero may be NULL to skip the first). */
rcl_status rcl_attack_row_stats(rcl_device *d, const rcl_tensor *grad, cl_mem zero, const rcl_tensor *a,
                                const rcl_tensor *b, rcl_tensor *maxdiff);

/* dst = src in the rows r whose flag[r] (int32) is set. */
rcl_status rcl_attack_copy_rows(rcl_device *d, const rcl_tensor *src, cl_mem flag, rcl_tensor *dst);

/* ---- APGD's device ops (src/ops/apgd.c, spec §7.4); references in src/ops/ref.h ----
 * Pixel images [n, c, h, w]; per-row tensors [n]; int32 flags as cl_mem [n]. */

/* adv = clamp(x + eps*t/(|t|_row + 1e-12), 0, 1). L-inf (l2 = 0): |t| the max norm, t = 2u - 1
 * with u keyed as the PGD start's (robustcl/adversarial.h) by index (device int32 [n]), counter
 * and element; l2: |t| the 2-norm, t standard normal (Box-Muller on the draws 2e and 2e+1). */
rcl_status rcl_apgd_start(rcl_device *d, const rcl_tensor *x_pix, cl_mem index, float eps, uint32_t seed,
                          uint32_t counter, int l2, rcl_tensor *adv);
/* With P the projection onto [x - eps, x + eps] and then [0,1], and step[row]:
 * z = P(adv + step*sign(grad)); adv' = P(adv + momentum*(z - adv) + (1 - momentum)*(adv - old));
 * old' = adv. momentum is 1 at the first step and 0.75 after. */
rcl_status rcl_apgd_step(rcl_device *d, const rcl_tensor *x_pix, const rcl_tensor *grad, const rcl_tensor *step,
                         float eps, float momentum, rcl_tensor *old, rcl_tensor *adv);
/* The L2 step, rcl_apgd_step with sign(grad) replaced by grad/(|grad|_2 + 1e-12) and P the
 * projection of the reference: v -> clamp(x + (v - x)/(|v - x|_2 + 1e-12)*min(eps, |v - x|_2), 0, 1)
 * (norms per row). */
rcl_status rcl_apgd_step_l2(rcl_device *d, const rcl_tensor *x_pix, const rcl_tensor *grad, const rcl_tensor *step,
                            float eps, float momentum, rcl_tensor *old, rcl_tensor *adv);
/* dist[r] = |a_r - b_r|_2 for images a, b [n, c, h, w] and dist [n]. */
rcl_status rcl_apgd_row_l2(rcl_device *d, const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *dist);
/* target[r] = the index of row r's rank-th largest logit (ties: the lower index first). */
rcl_status rcl_apgd_target(rcl_device *d, const rcl_tensor *logits, int rank, cl_mem target);
/* The DLR loss per row (maximised) and its gradient; target NULL: untargeted
 * -(z_y - max_{j!=y} z_j)/(z_p1 - z_p3 + 1e-12) (K >= 3); else targeted
 * -(z_y - z_t)/(z_p1 - (z_p3 + z_p4)/2 + 1e-12) (K >= 4), p_i the i-th largest logit.
 * row_correct: the first maximum is the label. */
rcl_status rcl_apgd_dlr(rcl_device *d, const rcl_tensor *logits, cl_mem labels, cl_mem target, rcl_tensor *dlogits,
                        rcl_tensor *row_loss, cl_mem row_correct);
/* APGD's per-row state between steps. */
typedef struct rcl_apgd_state {
    rcl_tensor loss_best, loss_prev, loss_best_last, step; /* [n] */
    cl_mem count;        /* loss increases since the last checkpoint */
    cl_mem reduced_last; /* the step was halved at the last checkpoint */
    cl_mem fooled;       /* misclassified at some point */
    cl_mem flag;         /* track: the loss improved; checkpoint: restart from the best point */
} rcl_apgd_state;
/* After a forward at the start point (first: resets the state, step = 2 eps, flag = 1) or
 * at a step: fooled |= !correct, count += loss > loss_prev, flag = loss > loss_best. */
rcl_status rcl_apgd_track(rcl_device *d, const rcl_tensor *row_loss, cl_mem row_correct, float eps, int first,
                          rcl_apgd_state *s);
/* The checkpoint after `window` steps: flag = count <= rho*window or (not reduced last time and
 * no improvement since); flagged rows halve their step; count restarts. */
rcl_status rcl_apgd_checkpoint(rcl_device *d, int window, float rho, rcl_apgd_state *s);

/* ---- the Square Attack's device ops (src/ops/square.c, spec §7.4) ---- */

/* best = clamp(x + eps*sign, 0, 1), the sign drawn per (image, channel, column), keyed by
 * index, counter and (channel*w + column). */
rcl_status rcl_square_init(rcl_device *d, const rcl_tensor *x_pix, cl_mem index, float eps, uint32_t seed,
                           uint32_t counter, rcl_tensor *best);
/* cand = P(best + delta), delta = 2 eps*sign(image, channel) on [vh, vh+s) x [vw, vw+s), else 0. */
rcl_status rcl_square_propose(rcl_device *d, const rcl_tensor *x_pix, const rcl_tensor *best, cl_mem index, float eps,
                              int vh, int vw, int s, uint32_t seed, uint32_t counter, rcl_tensor *cand);
/* The L2 start (square.py): delta tiles the image with eta(s), s = h/5 (h >= 5), each tile's
 * eta transposed at random and signed at random per channel; best = clamp(x + eps*delta/|delta|_2,
 * 0, 1). eta(s): the authors' pattern of nested squares, +1 over the top s/2 rows, -1 below. */
rcl_status rcl_square_init_l2(rcl_device *d, const rcl_tensor *x_pix, cl_mem index, float eps, uint32_t seed,
                              uint32_t counter, rcl_tensor *best);
/* The two s x s windows of an L2 proposal: the one updated at (vh, vw), the one cleared at (vh2, vw2). */
typedef struct rcl_square_windows {
    int s, vh, vw, vh2, vw2;
} rcl_square_windows;
/* The L2 proposal (square.py): per channel, window 1 of delta = best - x becomes sign*eta(s) +
 * delta_w1/|delta_w1| rescaled to sqrt(max(eps^2 - |delta|^2, 0)/c + |delta on both windows|^2),
 * window 2 outside window 1 becomes 0; cand = clamp(x + eps*delta'/|delta'|_2, 0, 1). */
rcl_status rcl_square_propose_l2(rcl_device *d, const rcl_tensor *x_pix, const rcl_tensor *best, cl_mem index,
                                 float eps, const rcl_square_windows *win, uint32_t seed, uint32_t counter,
                                 rcl_tensor *cand);
/* m = -neg_margin[r] (neg_margin: rcl_attack_loss_grad's margin loss). first: margin_min = m,
 * accept = 0. Else accept = margin_min > 0 and (m < margin_min or m <= 0); accepted rows take m. */
rcl_status rcl_square_accept(rcl_device *d, const rcl_tensor *neg_margin, int first, rcl_tensor *margin_min,
                             cl_mem accept);

/* ---- FAB-T's device ops (src/ops/fab.c, spec §7.4); l2 selects the L2 norm, else L-inf ---- */

/* FAB's targeted f = z_t - z_y per row (row_loss) and its logit gradient e_t - e_y;
 * row_correct: the first maximum is the label. */
rcl_status rcl_fab_diff(rcl_device *d, const rcl_tensor *logits, cl_mem labels, cl_mem target, rcl_tensor *dlogits,
                        rcl_tensor *row_loss, cl_mem row_correct);
/* The projection's scratch: five tensors of the images' shape and int32 order[N*C*H*W]. */
typedef struct rcl_fab_scratch {
    rcl_tensor d1, d2, room, s, sb;
    cl_mem order;
} rcl_fab_scratch;
/* One step per row: grad is the network-input gradient of f (pixel gradient = grad/std per
 * channel); d1, d2 the smallest steps (in the norm) from x1 and x0 onto the linearised
 * boundary <w, z> = <w, x1> - f inside [0,1]; x1 = clamp((x1 + eta d1)(1 - a) + (x0 + eta d2) a),
 * a = min(|d1|/(|d1| + |d2|), alpha_max). */
rcl_status rcl_fab_step(rcl_device *d, const rcl_tensor *x0, const rcl_tensor *grad, const rcl_tensor *row_loss,
                        const float *std, float eta, float alpha_max, int l2, rcl_fab_scratch *sc, rcl_tensor *x1);
/* Rows whose x1 is misclassified (!correct): if |x1 - x0| (in the norm) < dist, best = x1 and
 * dist takes it; then x1 = x0 + beta (x1 - x0). */
rcl_status rcl_fab_track(rcl_device *d, const rcl_tensor *x0, cl_mem correct, float beta, int l2, rcl_tensor *x1,
                         rcl_tensor *best, rcl_tensor *dist);

#ifdef __cplusplus
}
#endif
#endif
