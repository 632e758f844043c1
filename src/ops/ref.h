/* Plain-C references of every device op (robustcl/ops.h), in double
 * precision: the ground truth the device results are tested against, and
 * what finite-difference gradient checks run on. Same semantics, host arrays. */
#ifndef ROBUSTCL_REF_H
#define ROBUSTCL_REF_H

#include <stdint.h>

#include "robustcl/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

void rcl_ref_conv2d_forward(const rcl_conv_shape *s, const double *x, const double *w, double *y);
void rcl_ref_conv2d_backward(const rcl_conv_shape *s, const double *x, const double *w,
                             const double *dy, double *dx /* may be NULL */, double *dw);
/* The layouts of the direct convolution families (kernels/conv2d_layout.cl). */
void rcl_ref_conv_pad(const double *src, double *dst, int planes, int h, int w, int hp, int wp,
                      int top, int left, int split);
void rcl_ref_conv_pack(const double *w, double *wq, int c_out, int c_in, int kk, int width,
                       int blocks, int transpose, int flip);
void rcl_ref_conv_block(const double *dy, double *db, int n, int c, int plane, int width);
void rcl_ref_conv_dw_reduce(const double *part, double *dw, int slices, int count);

void rcl_ref_batchnorm_forward(rcl_bn_mode mode, int relu, int n, int c, int hw, const double *x,
                               const double *gamma, const double *beta, double *running_mean,
                               double *running_var, double momentum, double eps, double *y,
                               double *save_mean, double *save_invstd);
void rcl_ref_batchnorm_backward(int relu, int n, int c, int hw, const double *x, const double *y,
                                const double *dy, const double *gamma, const double *save_mean,
                                const double *save_invstd, double *dx, double *dgamma, double *dbeta);

void rcl_ref_relu_forward(size_t n, const double *x, double *y);
void rcl_ref_relu_backward(size_t n, const double *y, const double *dy, double *dx);

void rcl_ref_dropout_forward(size_t n, double p, uint32_t seed, uint32_t counter, const double *x, double *y);
void rcl_ref_dropout_backward(size_t n, double p, uint32_t seed, uint32_t counter, const double *dy, double *dx);

void rcl_ref_avgpool_forward(int n, int c, int hw, const double *x, double *y);
void rcl_ref_avgpool_backward(int n, int c, int hw, const double *dy, double *dx);

void rcl_ref_linear_forward(int n, int f, int k, const double *x, const double *w, const double *b, double *y);
void rcl_ref_linear_backward(int n, int f, int k, const double *x, const double *w, const double *dy,
                             double *dx, double *dw, double *db);

/* p = softmax(z) over k entries; returns log sum exp(z). */
double rcl_ref_softmax_row(int k, const double *z, double *p);

/* returns the loss; probs [n,k] */
double rcl_ref_softmax_xent_forward(int n, int k, const double *logits, const int *labels,
                                    const double *class_w, const double *sample_w, double *probs);
void rcl_ref_softmax_xent_backward(int n, int k, const double *probs, const int *labels,
                                   const double *class_w, const double *sample_w, double *dlogits);

void rcl_ref_sgd_step(size_t n, double *w, const double *g, double *buf, double lr, double momentum,
                      double wd, int nesterov, int first);

/* Corrected loss (rcl_corrected_loss_forward): returns sum l_r / n; probs [n,k]; trusted may be NULL. */
double rcl_ref_corrected_loss_forward(int n, int k, const double *logits, const int *labels, const int *trusted,
                                      const double *C, double *probs);
void rcl_ref_corrected_loss_backward(int n, int k, const double *probs, const int *labels, const int *trusted,
                                     const double *C, double *dlogits);

void rcl_ref_batchnorm_backward_eval(int relu, int n, int c, int hw, const double *x, const double *y,
                                     const double *dy, const double *gamma, const double *running_mean,
                                     const double *running_var, double eps, double *dx, double *dgamma,
                                     double *dbeta);

/* ---- the attack ops ---- */
/* n images of per = c*hw elements (c channels of hw), double precision. */
void rcl_ref_attack_to_pixels(int n, int c, int hw, const double *x_net, const float *mean, const float *std,
                              double *x_pix);
void rcl_ref_attack_to_network(int n, int c, int hw, const double *x_net, const double *x_pix, const double *adv,
                               const float *std, double *out);
void rcl_ref_attack_start(int n, int per, const double *x_pix, const int32_t *index, int random_start, double eps,
                          rcl_attack_mode mode, uint32_t seed, uint32_t counter, double *adv, double *centre);
void rcl_ref_attack_step(size_t total, const double *grad, const double *centre, double step, double eps, double *adv);
void rcl_ref_attack_loss(rcl_attack_loss loss, int n, int k, const double *logits, const int32_t *labels,
                         double *dlogits, double *row_loss, int32_t *row_correct);
void rcl_ref_attack_keep_worst(int n, int per, const double *adv, const double *row_loss, const int32_t *row_correct,
                               int first, double *best, double *best_loss, int32_t *best_correct);
void rcl_ref_attack_copy_rows(int n, int per, const double *src, const int32_t *flag, double *dst);

/* ---- APGD and Square (spec §7.4) ---- */
void rcl_ref_apgd_start(int n, int per, const double *x_pix, const int32_t *index, double eps, uint32_t seed,
                        uint32_t counter, int l2, double *adv);
void rcl_ref_apgd_step_l2(int n, int per, const double *x_pix, const double *grad, const double *step, double eps,
                          double momentum, double *old, double *adv);
void rcl_ref_apgd_row_l2(int n, int per, const double *a, const double *b, double *dist);
void rcl_ref_apgd_step(int n, int per, const double *x_pix, const double *grad, const double *step, double eps,
                       double momentum, double *old, double *adv);
void rcl_ref_apgd_target(int n, int k, const double *logits, int rank, int32_t *target);
/* target NULL: untargeted. */
void rcl_ref_apgd_dlr(int n, int k, const double *logits, const int32_t *labels, const int32_t *target,
                      double *dlogits, double *row_loss, int32_t *row_correct);
/* The host mirror of rcl_apgd_state. */
typedef struct rcl_ref_apgd_state {
    double *loss_best, *loss_prev, *loss_best_last, *step;
    int32_t *count, *reduced_last, *fooled, *flag;
} rcl_ref_apgd_state;
void rcl_ref_apgd_track(int n, const double *row_loss, const int32_t *row_correct, double eps, int first,
                        rcl_ref_apgd_state *s);
void rcl_ref_apgd_checkpoint(int n, int window, double rho, rcl_ref_apgd_state *s);
void rcl_ref_square_init(int n, int c, int h, int w, const double *x_pix, const int32_t *index, double eps,
                         uint32_t seed, uint32_t counter, double *best);
void rcl_ref_square_propose(int n, int c, int h, int w, const double *x_pix, const double *best,
                            const int32_t *index, double eps, int vh, int vw, int s, uint32_t seed, uint32_t counter,
                            double *cand);
void rcl_ref_square_init_l2(int n, int c, int h, int w, const double *x_pix, const int32_t *index, double eps,
                            uint32_t seed, uint32_t counter, double *best);
void rcl_ref_square_propose_l2(int n, int c, int h, int w, const double *x_pix, const double *best,
                               const int32_t *index, double eps, int s, int vh, int vw, int vh2, int vw2,
                               uint32_t seed, uint32_t counter, double *cand);
void rcl_ref_square_accept(int n, const double *neg_margin, int first, double *margin_min, int32_t *accept);

/* ---- FAB-T (spec §7.4) ---- */
void rcl_ref_fab_diff(int n, int k, const double *logits, const int32_t *labels, const int32_t *target,
                      double *dlogits, double *row_loss, int32_t *row_correct);
/* d = the smallest L-inf step from t[per] onto <w, z> = b with t + d in [0,1] (the nearest
 * box corner when the box cannot reach it); returns max |d|. */
double rcl_ref_fab_project(int per, const double *t, const double *w, double b, double *d);
/* The same in the L2 norm: d_e = clamp(-alpha w_e) for the alpha that lands on the hyperplane
 * (weights |w_e| <= 1e-8 do not move, as in the reference); returns ||d||_2. */
double rcl_ref_fab_project_l2(int per, const double *t, const double *w, double b, double *d);
/* grad: network-input gradients; std per channel; l2: the L2 norm, else L-inf (as rcl_fab_step). */
void rcl_ref_fab_step(int n, int c, int hw, const double *x0, const double *grad, const double *row_loss,
                      const float *std, double eta, double alpha_max, int l2, double *x1);
void rcl_ref_fab_track(int n, int per, const double *x0, const int32_t *correct, double beta, int l2, double *x1,
                       double *best, double *dist);

#ifdef __cplusplus
}
#endif
#endif
