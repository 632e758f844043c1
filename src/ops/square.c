/* Device ops of the Square Attack (kernels/square.cl); declared in robustcl/ops.h. */
#include <stdint.h>

#include "core/kernel.h"
#include "ops/op_check.h"
#include "robustcl/ops.h"

/* x a pixel batch [N,C,H,W] (kernels index with uint) and y of its shape. */
static rcl_status images(const rcl_tensor *x, const rcl_tensor *y, const char *what) {
    RCL_TRY(rcl_op_need(x, what));
    if (x->ndim != 4 || x->shape[0] < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: expected [N,C,H,W] (%d dims)", what, x->ndim);
    return rcl_op_like(y, what, x);
}

rcl_status rcl_square_init(rcl_device *d, const rcl_tensor *x_pix, cl_mem index, float eps, uint32_t seed,
                           uint32_t counter, rcl_tensor *best) {
    RCL_TRY(images(x_pix, best, "square start"));
    if (!index || !(eps >= 0.0f))
        return rcl_fail(RCL_ERR_INVALID_ARG, "square start: dataset indices missing or eps %g < 0", (double)eps);
    size_t g = x_pix->n;
    rcl_arg a[] = {RCL_MEM(x_pix->buf),         RCL_MEM(index),           RCL_MEM(best->buf),
                   RCL_UINT(g),                 RCL_UINT(x_pix->shape[1]), RCL_UINT(x_pix->shape[2]),
                   RCL_UINT(x_pix->shape[3]),   RCL_FLOAT(eps),           RCL_UINT(seed),
                   RCL_UINT(counter)};
    return rcl_kernel_launch(d, RCL_K_square_init, 1, &g, NULL, 10, a);
}

rcl_status rcl_square_propose(rcl_device *d, const rcl_tensor *x_pix, const rcl_tensor *best, cl_mem index, float eps,
                              int vh, int vw, int s, uint32_t seed, uint32_t counter, rcl_tensor *cand) {
    RCL_TRY(images(x_pix, best, "square proposal best"));
    RCL_TRY(images(x_pix, cand, "square proposal candidate"));
    int h = x_pix->shape[2], w = x_pix->shape[3];
    if (!index || !(eps >= 0.0f) || s < 1 || vh < 0 || vw < 0 || vh + s > h || vw + s > w)
        return rcl_fail(RCL_ERR_INVALID_ARG, "square proposal: a %d-square at (%d,%d) does not fit %dx%d (eps %g)", s,
                        vh, vw, h, w, (double)eps);
    size_t g = x_pix->n;
    rcl_arg a[] = {RCL_MEM(x_pix->buf), RCL_MEM(best->buf), RCL_MEM(index),  RCL_MEM(cand->buf),
                   RCL_UINT(g),         RCL_UINT(x_pix->shape[1]),            RCL_UINT(h),
                   RCL_UINT(w),         RCL_FLOAT(eps),     RCL_UINT(vh),     RCL_UINT(vw),
                   RCL_UINT(s),         RCL_UINT(seed),     RCL_UINT(counter)};
    return rcl_kernel_launch(d, RCL_K_square_propose, 1, &g, NULL, 14, a);
}

rcl_status rcl_square_init_l2(rcl_device *d, const rcl_tensor *x_pix, cl_mem index, float eps, uint32_t seed,
                              uint32_t counter, rcl_tensor *best) {
    RCL_TRY(images(x_pix, best, "square L2 start"));
    if (!index || !(eps >= 0.0f) || x_pix->shape[2] < 5)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "square L2 start: dataset indices missing, eps %g < 0 or images below 5 rows", (double)eps);
    size_t g = (size_t)x_pix->shape[0];
    rcl_arg a[] = {RCL_MEM(x_pix->buf),       RCL_MEM(index),            RCL_MEM(best->buf),
                   RCL_UINT(g),               RCL_UINT(x_pix->shape[1]), RCL_UINT(x_pix->shape[2]),
                   RCL_UINT(x_pix->shape[3]), RCL_FLOAT(eps),            RCL_UINT(seed),
                   RCL_UINT(counter)};
    return rcl_kernel_launch(d, RCL_K_square_init_l2, 1, &g, NULL, 10, a);
}

static int fits(int v, int s, int size) { return v >= 0 && v + s <= size; }

rcl_status rcl_square_propose_l2(rcl_device *d, const rcl_tensor *x_pix, const rcl_tensor *best, cl_mem index,
                                 float eps, const rcl_square_windows *win, uint32_t seed, uint32_t counter,
                                 rcl_tensor *cand) {
    RCL_TRY(images(x_pix, best, "square L2 proposal best"));
    RCL_TRY(images(x_pix, cand, "square L2 proposal candidate"));
    int h = x_pix->shape[2], w = x_pix->shape[3], s = win ? win->s : 0;
    if (!index || !(eps >= 0.0f) || s < 1 || !fits(win->vh, s, h) || !fits(win->vw, s, w) || !fits(win->vh2, s, h) ||
        !fits(win->vw2, s, w))
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "square L2 proposal: %d-windows at (%d,%d), (%d,%d) do not fit %dx%d (eps %g)", s,
                        win ? win->vh : 0, win ? win->vw : 0, win ? win->vh2 : 0, win ? win->vw2 : 0, h, w,
                        (double)eps);
    size_t g = (size_t)x_pix->shape[0];
    rcl_arg a[] = {RCL_MEM(x_pix->buf), RCL_MEM(best->buf),        RCL_MEM(index),    RCL_MEM(cand->buf),
                   RCL_UINT(g),         RCL_UINT(x_pix->shape[1]), RCL_UINT(h),       RCL_UINT(w),
                   RCL_FLOAT(eps),      RCL_UINT(win->vh),         RCL_UINT(win->vw), RCL_UINT(win->vh2),
                   RCL_UINT(win->vw2),  RCL_UINT(s),               RCL_UINT(seed),    RCL_UINT(counter)};
    return rcl_kernel_launch(d, RCL_K_square_propose_l2, 1, &g, NULL, 16, a);
}

rcl_status rcl_square_accept(rcl_device *d, const rcl_tensor *neg_margin, int first, rcl_tensor *margin_min,
                             cl_mem accept) {
    if (!neg_margin || !neg_margin->buf || neg_margin->ndim != 1 || !accept)
        return rcl_fail(RCL_ERR_INVALID_ARG, "square accept: per-row margins or flags missing");
    int n = neg_margin->shape[0];
    if (!margin_min || !margin_min->buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "square accept: best margins missing");
    RCL_TRY(rcl_tensor_expect(margin_min, "square best margins", 1, n));
    size_t g = (size_t)n;
    rcl_arg a[] = {RCL_MEM(neg_margin->buf), RCL_MEM(margin_min->buf), RCL_MEM(accept), RCL_UINT(n),
                   RCL_INT(first != 0)};
    return rcl_kernel_launch(d, RCL_K_square_accept, 1, &g, NULL, 5, a);
}
