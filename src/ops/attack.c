/* Device ops of the PGD/FGSM attack (kernels/attack.cl); declared in robustcl/ops.h. */
#include <stdint.h>

#include "core/kernel.h"
#include "robustcl/ops.h"

static rcl_status image(const rcl_tensor *t, const char *what) {
    if (!t || !t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    if (t->ndim != 4 || t->n > UINT32_MAX)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: expected [N,C,H,W] of at most 2^32 elements (%d dims, %zu)", what,
                        t->ndim, t->n);
    return RCL_OK;
}

static rcl_status like(const rcl_tensor *t, const char *what, const rcl_tensor *ref) {
    if (!t || !t->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: tensor missing", what);
    return rcl_tensor_expect(t, what, 4, ref->shape[0], ref->shape[1], ref->shape[2], ref->shape[3]);
}

static rcl_status channels(const rcl_tensor *t, const char *what) {
    if (t->shape[1] > 3)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: %d channels, normalisation has at most 3", what, t->shape[1]);
    return RCL_OK;
}

static float at(const float *v, int c) { return v[c < 3 ? c : 2]; }

rcl_status rcl_attack_to_pixels(rcl_device *d, const rcl_tensor *x_net, const float *mean, const float *std,
                                rcl_tensor *x_pix) {
    RCL_TRY(image(x_net, "attack network input"));
    RCL_TRY(channels(x_net, "attack network input"));
    RCL_TRY(like(x_pix, "attack pixel image", x_net));
    size_t g = x_net->n;
    rcl_arg a[] = {RCL_MEM(x_net->buf),
                   RCL_MEM(x_pix->buf),
                   RCL_UINT(x_net->n),
                   RCL_UINT(x_net->shape[1]),
                   RCL_UINT(x_net->shape[2] * x_net->shape[3]),
                   RCL_FLOAT(at(mean, 0)),
                   RCL_FLOAT(at(mean, 1)),
                   RCL_FLOAT(at(mean, 2)),
                   RCL_FLOAT(at(std, 0)),
                   RCL_FLOAT(at(std, 1)),
                   RCL_FLOAT(at(std, 2))};
    return rcl_kernel_launch(d, RCL_K_attack_to_pixels, 1, &g, NULL, 11, a);
}

rcl_status rcl_attack_to_network(rcl_device *d, const rcl_tensor *x_net, const rcl_tensor *x_pix, const rcl_tensor *adv,
                                 const float *std, rcl_tensor *out) {
    RCL_TRY(image(x_net, "attack network input"));
    RCL_TRY(channels(x_net, "attack network input"));
    RCL_TRY(like(x_pix, "attack pixel image", x_net));
    RCL_TRY(like(adv, "attack adversarial image", x_net));
    RCL_TRY(like(out, "attack network output", x_net));
    size_t g = x_net->n;
    rcl_arg a[] = {RCL_MEM(x_net->buf),
                   RCL_MEM(x_pix->buf),
                   RCL_MEM(adv->buf),
                   RCL_MEM(out->buf),
                   RCL_UINT(x_net->n),
                   RCL_UINT(x_net->shape[1]),
                   RCL_UINT(x_net->shape[2] * x_net->shape[3]),
                   RCL_FLOAT(at(std, 0)),
                   RCL_FLOAT(at(std, 1)),
                   RCL_FLOAT(at(std, 2))};
    return rcl_kernel_launch(d, RCL_K_attack_to_network, 1, &g, NULL, 10, a);
}

rcl_status rcl_attack_start(rcl_device *d, const rcl_tensor *x_pix, cl_mem index, int random_start, float eps,
                            rcl_attack_mode mode, uint32_t seed, uint32_t counter, rcl_tensor *adv,
                            rcl_tensor *centre) {
    RCL_TRY(image(x_pix, "attack start x"));
    RCL_TRY(like(adv, "attack start adv", x_pix));
    RCL_TRY(like(centre, "attack start centre", x_pix));
    if (random_start && !index)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack start: a random start needs the dataset indices");
    if (!(eps >= 0.0f))
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack start: eps %g must be >= 0", (double)eps);
    size_t g = x_pix->n;
    cl_mem ib = index ? index : x_pix->buf; /* unused without a random start */
    uint32_t per = (uint32_t)(x_pix->n / (size_t)x_pix->shape[0]);
    rcl_arg a[] = {RCL_MEM(x_pix->buf),
                   RCL_MEM(ib),
                   RCL_MEM(adv->buf),
                   RCL_MEM(centre->buf),
                   RCL_UINT(x_pix->n),
                   RCL_UINT(per),
                   RCL_INT(random_start != 0),
                   RCL_FLOAT(eps),
                   RCL_INT(mode == RCL_ATTACK_PAPER),
                   RCL_UINT(seed),
                   RCL_UINT(counter)};
    return rcl_kernel_launch(d, RCL_K_attack_start, 1, &g, NULL, 11, a);
}

rcl_status rcl_attack_step(rcl_device *d, const rcl_tensor *grad, const rcl_tensor *centre, float step, float eps,
                           rcl_tensor *adv) {
    RCL_TRY(image(adv, "attack step adv"));
    RCL_TRY(like(grad, "attack step gradient", adv));
    RCL_TRY(like(centre, "attack step centre", adv));
    if (!(eps >= 0.0f) || !(step >= 0.0f))
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack step: eps %g and step %g must be >= 0", (double)eps, (double)step);
    size_t g = adv->n;
    rcl_arg a[] = {RCL_MEM(grad->buf), RCL_MEM(centre->buf), RCL_MEM(adv->buf),
                   RCL_UINT(adv->n),   RCL_FLOAT(step),      RCL_FLOAT(eps)};
    return rcl_kernel_launch(d, RCL_K_attack_step, 1, &g, NULL, 6, a);
}

rcl_status rcl_attack_loss_grad(rcl_device *d, rcl_attack_loss loss, const rcl_tensor *logits, cl_mem labels,
                                rcl_tensor *dlogits, rcl_tensor *row_loss, cl_mem row_correct) {
    if (!logits || !logits->buf || logits->ndim != 2 || logits->shape[1] < 2)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack loss: logits must be [N,K] with K >= 2");
    int n = logits->shape[0], k = logits->shape[1];
    if (!dlogits || !dlogits->buf || !row_loss || !row_loss->buf || !labels || !row_correct)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack loss: a buffer is missing");
    RCL_TRY(rcl_tensor_expect(dlogits, "attack loss dlogits", 2, n, k));
    RCL_TRY(rcl_tensor_expect(row_loss, "attack loss per row", 1, n));
    if (loss != RCL_ATTACK_LOSS_CE && loss != RCL_ATTACK_LOSS_MARGIN)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack loss: unknown loss %d", (int)loss);
    size_t g = (size_t)n;
    rcl_arg a[] = {
        RCL_MEM(logits->buf), RCL_MEM(labels), RCL_MEM(dlogits->buf), RCL_MEM(row_loss->buf),
        RCL_MEM(row_correct), RCL_UINT(n),     RCL_UINT(k),           RCL_INT(loss == RCL_ATTACK_LOSS_MARGIN)};
    return rcl_kernel_launch(d, RCL_K_attack_loss, 1, &g, NULL, 8, a);
}

rcl_status rcl_attack_keep_worst(rcl_device *d, const rcl_tensor *adv, const rcl_tensor *row_loss, cl_mem row_correct,
                                 int first, rcl_tensor *best, rcl_tensor *best_loss, cl_mem best_correct) {
    RCL_TRY(image(adv, "attack keep-worst adv"));
    RCL_TRY(like(best, "attack keep-worst best", adv));
    int n = adv->shape[0];
    RCL_TRY(rcl_tensor_expect(row_loss, "attack keep-worst loss", 1, n));
    RCL_TRY(rcl_tensor_expect(best_loss, "attack keep-worst best loss", 1, n));
    if (!row_correct || !best_correct)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack keep-worst: correctness buffer missing");
    size_t g = adv->n, gr = (size_t)n;
    uint32_t per = (uint32_t)(adv->n / (size_t)n);
    rcl_arg a[] = {RCL_MEM(adv->buf),  RCL_MEM(row_loss->buf),  RCL_MEM(row_correct),
                   RCL_MEM(best->buf), RCL_MEM(best_loss->buf), RCL_MEM(best_correct),
                   RCL_UINT(adv->n),   RCL_UINT(per),           RCL_INT(first != 0)};
    RCL_TRY(rcl_kernel_launch(d, RCL_K_attack_keep_worst, 1, &g, NULL, 9, a));
    rcl_arg b[] = {RCL_MEM(row_loss->buf), RCL_MEM(row_correct), RCL_MEM(best_loss->buf),
                   RCL_MEM(best_correct),  RCL_UINT(n),          RCL_INT(first != 0)};
    return rcl_kernel_launch(d, RCL_K_attack_keep_worst_rows, 1, &gr, NULL, 6, b);
}

rcl_status rcl_attack_row_stats(rcl_device *d, const rcl_tensor *grad, cl_mem zero, const rcl_tensor *a,
                                const rcl_tensor *b, rcl_tensor *maxdiff) {
    RCL_TRY(image(a, "attack row stats a"));
    RCL_TRY(like(b, "attack row stats b", a));
    int n = a->shape[0], has_grad = grad != NULL;
    if (has_grad) {
        RCL_TRY(like(grad, "attack row stats gradient", a));
        if (!zero)
            return rcl_fail(RCL_ERR_INVALID_ARG, "attack row stats: zero-gradient flags missing");
    }
    RCL_TRY(rcl_tensor_expect(maxdiff, "attack row stats maxdiff", 1, n));
    uint32_t per = (uint32_t)(a->n / (size_t)n);
    size_t max = rcl_device_get_info(d)->max_work_group, l = 1;
    while (l < 256 && l < per && l * 2 <= max)
        l *= 2;
    size_t g = l * (size_t)n;
    cl_mem gb = has_grad ? grad->buf : a->buf, zb = has_grad ? zero : maxdiff->buf; /* unused without grad */
    rcl_arg args[] = {RCL_MEM(gb),
                      RCL_MEM(zb),
                      RCL_MEM(a->buf),
                      RCL_MEM(b->buf),
                      RCL_MEM(maxdiff->buf),
                      RCL_UINT(per),
                      RCL_INT(has_grad),
                      RCL_LOCAL(l * sizeof(float)),
                      RCL_LOCAL(l * sizeof(int))};
    return rcl_kernel_launch(d, RCL_K_attack_row_stats, 1, &g, &l, 9, args);
}

rcl_status rcl_attack_copy_rows(rcl_device *d, const rcl_tensor *src, cl_mem flag, rcl_tensor *dst) {
    RCL_TRY(image(src, "attack copy rows source"));
    RCL_TRY(like(dst, "attack copy rows destination", src));
    if (!flag)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack copy rows: flags missing");
    size_t g = src->n;
    rcl_arg a[] = {RCL_MEM(src->buf), RCL_MEM(dst->buf), RCL_MEM(flag), RCL_UINT(g),
                   RCL_UINT(g / (size_t)src->shape[0])};
    return rcl_kernel_launch(d, RCL_K_attack_copy_rows, 1, &g, NULL, 5, a);
}
