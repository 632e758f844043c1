/* Batch norm, optionally fused with a following ReLU (kernels/batchnorm.cl). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/kernel.h"
#include "op_check.h"

/* CPU kernel variants (rcl_device_gpu_kernels 0): one work item per channel (bn_*_rows); the
 * group kernels' walk over a channel is then contiguous runs per work item (the sync and
 * eval-backward paths), strided on GPUs (coalesced loads). Fixed per device: deterministic. */
static int chunked(rcl_device *d) { return !rcl_device_gpu_kernels(d); }

rcl_status rcl_batchnorm_forward(rcl_device *d, rcl_bn_mode mode, int relu, const rcl_tensor *x,
                                 const rcl_tensor *gamma, const rcl_tensor *beta,
                                 rcl_tensor *running_mean, rcl_tensor *running_var, float momentum,
                                 float eps, rcl_tensor *y, rcl_tensor *save_mean,
                                 rcl_tensor *save_invstd) {
    return rcl_batchnorm_forward_split(d, mode, relu, 1, x, gamma, beta, running_mean, running_var, momentum, eps,
                                       y, save_mean, save_invstd);
}

rcl_status rcl_batchnorm_forward_split(rcl_device *d, rcl_bn_mode mode, int relu, int split, const rcl_tensor *x,
                                       const rcl_tensor *gamma, const rcl_tensor *beta,
                                       rcl_tensor *running_mean, rcl_tensor *running_var, float momentum,
                                       float eps, rcl_tensor *y, rcl_tensor *save_mean,
                                       rcl_tensor *save_invstd) {    int n = 0, c = 0, hw = 0;
    RCL_TRY(rcl_op_nc_dims(x, "batchnorm x", &n, &c, &hw));
    RCL_TRY(rcl_op_vec(gamma, "batchnorm gamma", c));
    RCL_TRY(rcl_op_vec(beta, "batchnorm beta", c));
    RCL_TRY(rcl_op_vec(running_mean, "batchnorm running_mean", c));
    RCL_TRY(rcl_op_vec(running_var, "batchnorm running_var", c));
    RCL_TRY(rcl_op_like(y, "batchnorm y", x));
    if (!(eps > 0.0f))
        return rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm: eps %g must be positive", (double)eps);
    if (mode == RCL_BN_EVAL) {
        size_t g = x->n;
        rcl_arg a[] = {RCL_MEM(x->buf),          RCL_MEM(gamma->buf),       RCL_MEM(beta->buf),
                       RCL_MEM(running_mean->buf), RCL_MEM(running_var->buf), RCL_MEM(y->buf),
                       RCL_UINT(x->n),           RCL_UINT(c),               RCL_UINT(hw),
                       RCL_FLOAT(eps),           RCL_INT(relu != 0)};
        return rcl_kernel_launch(d, RCL_K_bn_fwd_eval, 1, &g, NULL, 11, a);
    }
    if (mode != RCL_BN_TRAIN)
        return rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm: unknown mode %d", (int)mode);
    if (split < 1 || split > n)
        return rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm: %d sub-batches of a batch of %d", split, n);
    RCL_TRY(rcl_op_vec(save_mean, "batchnorm save_mean", split * c));
    RCL_TRY(rcl_op_vec(save_invstd, "batchnorm save_invstd", split * c));
    size_t m = (size_t)(n / split) * (size_t)hw; /* the smallest sub-batch */
    if (m < 2)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "batchnorm x: train mode needs more than one value per channel (shape N=%d in %d sub-batches, "
                        "%d per sample)", n, split, hw);
    if (chunked(d)) {
        size_t g = (size_t)c, one = 1;
        rcl_arg a[] = {RCL_MEM(x->buf),           RCL_MEM(gamma->buf),      RCL_MEM(beta->buf),
                       RCL_MEM(running_mean->buf), RCL_MEM(running_var->buf), RCL_MEM(y->buf),
                       RCL_MEM(save_mean->buf),    RCL_MEM(save_invstd->buf), RCL_UINT(n),
                       RCL_UINT(c),                RCL_UINT(hw),              RCL_FLOAT(momentum),
                       RCL_FLOAT(eps),             RCL_INT(relu != 0),        RCL_UINT(split)};
        return rcl_kernel_launch(d, RCL_K_bn_fwd_train_rows, 1, &g, &one, 15, a);
    }
    size_t l = rcl_op_group_size(d, m), g = l * (size_t)c;
    rcl_arg a[] = {RCL_MEM(x->buf),           RCL_MEM(gamma->buf),      RCL_MEM(beta->buf),
                   RCL_MEM(running_mean->buf), RCL_MEM(running_var->buf), RCL_MEM(y->buf),
                   RCL_MEM(save_mean->buf),    RCL_MEM(save_invstd->buf), RCL_UINT(n),
                   RCL_UINT(c),                RCL_UINT(hw),              RCL_FLOAT(momentum),
                   RCL_FLOAT(eps),             RCL_INT(relu != 0),        RCL_INT(chunked(d)),
                   RCL_UINT(split),            RCL_LOCAL(l * sizeof(float))};
    return rcl_kernel_launch(d, RCL_K_bn_fwd_train, 1, &g, &l, 17, a);
}

rcl_status rcl_batchnorm_backward(rcl_device *d, int relu, const rcl_tensor *x, const rcl_tensor *y,
                                  const rcl_tensor *dy, const rcl_tensor *gamma,
                                  const rcl_tensor *save_mean, const rcl_tensor *save_invstd,
                                  rcl_tensor *dx, rcl_tensor *dgamma, rcl_tensor *dbeta) {
    return rcl_batchnorm_backward_split(d, relu, 1, x, y, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta);
}

/* The shapes every backward variant needs; save_mean/save_invstd hold split sets of c. */
static rcl_status check_backward(int relu, int split, const rcl_tensor *x, const rcl_tensor *y, const rcl_tensor *dy,
                                 const rcl_tensor *gamma, const rcl_tensor *save_mean, const rcl_tensor *save_invstd,
                                 const rcl_tensor *dx, const rcl_tensor *dgamma, const rcl_tensor *dbeta, int *n,
                                 int *c, int *hw) {
    RCL_TRY(rcl_op_nc_dims(x, "batchnorm backward x", n, c, hw));
    if (relu)
        RCL_TRY(rcl_op_like(y, "batchnorm backward y", x));
    RCL_TRY(rcl_op_like(dy, "batchnorm backward dy", x));
    RCL_TRY(rcl_op_like(dx, "batchnorm backward dx", x));
    RCL_TRY(rcl_op_vec(gamma, "batchnorm backward gamma", *c));
    if (split < 1 || split > *n)
        return rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm backward: %d sub-batches of a batch of %d", split, *n);
    RCL_TRY(rcl_op_vec(save_mean, "batchnorm backward save_mean", split * *c));
    RCL_TRY(rcl_op_vec(save_invstd, "batchnorm backward save_invstd", split * *c));
    RCL_TRY(rcl_op_vec(dgamma, "batchnorm backward dgamma", *c));
    RCL_TRY(rcl_op_vec(dbeta, "batchnorm backward dbeta", *c));
    if (dx->buf == dy->buf || dx->buf == x->buf || (relu && dx->buf == y->buf))
        return rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm backward dx: must not alias x, y or dy");
    return RCL_OK;
}

rcl_status rcl_batchnorm_backward_split(rcl_device *d, int relu, int split, const rcl_tensor *x,
                                        const rcl_tensor *y, const rcl_tensor *dy, const rcl_tensor *gamma,
                                        const rcl_tensor *save_mean, const rcl_tensor *save_invstd,
                                        rcl_tensor *dx, rcl_tensor *dgamma, rcl_tensor *dbeta) {
    int n = 0, c = 0, hw = 0;
    RCL_TRY(check_backward(relu, split, x, y, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta, &n, &c, &hw));
    cl_mem ybuf = relu ? y->buf : x->buf; /* unused without relu */
    if (chunked(d)) {
        size_t g = (size_t)c, one = 1;
        rcl_arg a[] = {RCL_MEM(x->buf),     RCL_MEM(ybuf),           RCL_MEM(dy->buf),
                       RCL_MEM(gamma->buf), RCL_MEM(save_mean->buf), RCL_MEM(save_invstd->buf),
                       RCL_MEM(dx->buf),    RCL_MEM(dgamma->buf),    RCL_MEM(dbeta->buf),
                       RCL_UINT(n),         RCL_UINT(c),             RCL_UINT(hw),
                       RCL_INT(relu != 0),  RCL_UINT(split)};
        return rcl_kernel_launch(d, RCL_K_bn_bwd_rows, 1, &g, &one, 14, a);
    }
    size_t m = (size_t)(n / split) * (size_t)hw;
    size_t l = rcl_op_group_size(d, m), g = l * (size_t)c;
    rcl_arg a[] = {RCL_MEM(x->buf),           RCL_MEM(ybuf),         RCL_MEM(dy->buf),
                   RCL_MEM(gamma->buf),       RCL_MEM(save_mean->buf), RCL_MEM(save_invstd->buf),
                   RCL_MEM(dx->buf),          RCL_MEM(dgamma->buf),  RCL_MEM(dbeta->buf),
                   RCL_UINT(n),               RCL_UINT(c),           RCL_UINT(hw),
                   RCL_INT(relu != 0),        RCL_INT(chunked(d)),   RCL_UINT(split),
                   RCL_LOCAL(l * sizeof(float))};
    return rcl_kernel_launch(d, RCL_K_bn_bwd, 1, &g, &l, 16, a);
}

/* ---- synchronised batch norm: device passes around host-staged sums over the ranks ---- */

static rcl_status read_floats(rcl_device *d, cl_mem m, float *dst, int n) {
    cl_int e = clEnqueueReadBuffer(rcl_device_queue(d), m, CL_TRUE, 0, (size_t)n * sizeof *dst, dst, 0, NULL, NULL);
    return e == CL_SUCCESS ? RCL_OK : rcl_fail(RCL_ERR_OPENCL, "batchnorm: reading statistics failed: %s",
                                               rcl_cl_error_name(e));
}

static rcl_status write_floats(rcl_device *d, cl_mem m, const float *src, int n) {
    cl_int e = clEnqueueWriteBuffer(rcl_device_queue(d), m, CL_TRUE, 0, (size_t)n * sizeof *src, src, 0, NULL, NULL);
    return e == CL_SUCCESS ? RCL_OK : rcl_fail(RCL_ERR_OPENCL, "batchnorm: writing statistics failed: %s",
                                               rcl_cl_error_name(e));
}

/* out[ch] = sum over the batch of x (pass 0) or (x - mean)^2 (pass 1), then summed over the ranks
 * into host[0..c); host[c] receives the number of values per channel over all ranks. */
static rcl_status global_sum(rcl_device *d, const rcl_bn_sync *sync, const rcl_tensor *x, int n, int c, int hw,
                             int pass, const rcl_tensor *mean, rcl_tensor *out, float *host) {
    size_t m = (size_t)n * (size_t)hw, l = rcl_op_group_size(d, m), g = l * (size_t)c;
    rcl_arg a[] = {RCL_MEM(x->buf), RCL_MEM(mean->buf), RCL_MEM(out->buf), RCL_UINT(n),
                   RCL_UINT(c),     RCL_UINT(hw),       RCL_INT(pass),     RCL_INT(chunked(d)),
                   RCL_LOCAL(l * sizeof(float))};
    RCL_TRY(rcl_kernel_launch(d, RCL_K_bn_stats, 1, &g, &l, 9, a));
    RCL_TRY(read_floats(d, out->buf, host, c));
    host[c] = (float)m;
    return sync->sum(sync->ctx, host, c + 1);
}

rcl_status rcl_batchnorm_forward_sync(rcl_device *d, int relu, const rcl_bn_sync *sync, const rcl_tensor *x,
                                      const rcl_tensor *gamma, const rcl_tensor *beta, rcl_tensor *running_mean,
                                      rcl_tensor *running_var, float momentum, float eps, rcl_tensor *y,
                                      rcl_tensor *save_mean, rcl_tensor *save_invstd) {
    int n = 0, c = 0, hw = 0;
    RCL_TRY(rcl_op_nc_dims(x, "batchnorm x", &n, &c, &hw));
    RCL_TRY(rcl_op_vec(gamma, "batchnorm gamma", c));
    RCL_TRY(rcl_op_vec(beta, "batchnorm beta", c));
    RCL_TRY(rcl_op_vec(running_mean, "batchnorm running_mean", c));
    RCL_TRY(rcl_op_vec(running_var, "batchnorm running_var", c));
    RCL_TRY(rcl_op_vec(save_mean, "batchnorm save_mean", c));
    RCL_TRY(rcl_op_vec(save_invstd, "batchnorm save_invstd", c));
    RCL_TRY(rcl_op_like(y, "batchnorm y", x));
    if (!(eps > 0.0f))
        return rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm: eps %g must be positive", (double)eps);
    float *h = malloc(sizeof *h * (size_t)(5 * c + 1));
    if (!h)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    float *mean = h + c + 1, *var = mean + c, *rm = var + c, *rv = rm + c;
    /* two passes like the single-device kernel: the mean, then squared deviations from it */
    rcl_status s = global_sum(d, sync, x, n, c, hw, 0, save_mean, save_invstd, h);
    float m = h[c];
    if (s == RCL_OK && !(m >= 2.0f))
        s = rcl_fail(RCL_ERR_INVALID_ARG, "batchnorm x: train mode needs more than one value per channel");
    for (int i = 0; s == RCL_OK && i < c; i++)
        mean[i] = h[i] / m;
    if (s == RCL_OK && (s = write_floats(d, save_mean->buf, mean, c)) == RCL_OK)
        s = global_sum(d, sync, x, n, c, hw, 1, save_mean, save_invstd, h);
    for (int i = 0; s == RCL_OK && i < c; i++) {
        var[i] = h[i] / m;
        h[i] = 1.0f / sqrtf(var[i] + eps);
    }
    if (s == RCL_OK && (s = write_floats(d, save_invstd->buf, h, c)) == RCL_OK) {
        size_t g = x->n;
        rcl_arg a[] = {RCL_MEM(x->buf),         RCL_MEM(gamma->buf), RCL_MEM(beta->buf), RCL_MEM(save_mean->buf),
                       RCL_MEM(save_invstd->buf), RCL_MEM(y->buf),     RCL_UINT(x->n),     RCL_UINT(c),
                       RCL_UINT(hw),            RCL_INT(relu != 0)};
        s = rcl_kernel_launch(d, RCL_K_bn_fwd_apply, 1, &g, NULL, 10, a);
    }
    if (s == RCL_OK && (s = read_floats(d, running_mean->buf, rm, c)) == RCL_OK &&
        (s = read_floats(d, running_var->buf, rv, c)) == RCL_OK) {
        for (int i = 0; i < c; i++) {
            rm[i] = (1.0f - momentum) * rm[i] + momentum * mean[i];
            rv[i] = (1.0f - momentum) * rv[i] + momentum * (var[i] * (m / (m - 1.0f)));
        }
        if ((s = write_floats(d, running_mean->buf, rm, c)) == RCL_OK)
            s = write_floats(d, running_var->buf, rv, c);
    }
    free(h);
    return s;
}

rcl_status rcl_batchnorm_backward_sync(rcl_device *d, int relu, const rcl_bn_sync *sync, const rcl_tensor *x,
                                       const rcl_tensor *y, const rcl_tensor *dy, const rcl_tensor *gamma,
                                       const rcl_tensor *save_mean, const rcl_tensor *save_invstd,
                                       rcl_tensor *dx, rcl_tensor *dgamma, rcl_tensor *dbeta) {
    int n = 0, c = 0, hw = 0;
    RCL_TRY(check_backward(relu, 1, x, y, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta, &n, &c, &hw));
    cl_mem ybuf = relu ? y->buf : x->buf;
    size_t m = (size_t)n * (size_t)hw, l = rcl_op_group_size(d, m), g = l * (size_t)c;
    rcl_arg a[] = {RCL_MEM(x->buf),      RCL_MEM(ybuf),        RCL_MEM(dy->buf),
                   RCL_MEM(save_mean->buf), RCL_MEM(save_invstd->buf), RCL_MEM(dgamma->buf),
                   RCL_MEM(dbeta->buf),  RCL_UINT(n),          RCL_UINT(c),
                   RCL_UINT(hw),         RCL_INT(relu != 0),   RCL_INT(chunked(d)),
                   RCL_LOCAL(l * sizeof(float))};
    RCL_TRY(rcl_kernel_launch(d, RCL_K_bn_bwd_sums, 1, &g, &l, 13, a));
    float *h = malloc(sizeof *h * (size_t)(2 * c + 1));
    if (!h)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    cl_mem sums = NULL;
    rcl_status s = read_floats(d, dgamma->buf, h, c);
    if (s == RCL_OK)
        s = read_floats(d, dbeta->buf, h + c, c);
    h[2 * c] = (float)m;
    if (s == RCL_OK)
        s = sync->sum(sync->ctx, h, 2 * c + 1);
    if (s == RCL_OK)
        s = rcl_device_alloc(d, sizeof *h * (size_t)(2 * c), "batchnorm sums", &sums);
    if (s == RCL_OK && (s = write_floats(d, sums, h, 2 * c)) == RCL_OK) {
        size_t ge = x->n;
        rcl_arg b[] = {RCL_MEM(x->buf),        RCL_MEM(ybuf),           RCL_MEM(dy->buf),
                       RCL_MEM(gamma->buf),    RCL_MEM(save_mean->buf), RCL_MEM(save_invstd->buf),
                       RCL_MEM(sums),          RCL_MEM(dx->buf),        RCL_UINT(x->n),
                       RCL_UINT(c),            RCL_UINT(hw),            RCL_FLOAT(h[2 * c]),
                       RCL_INT(relu != 0)};
        s = rcl_kernel_launch(d, RCL_K_bn_bwd_apply, 1, &ge, NULL, 13, b);
    }
    if (sums)
        rcl_device_free(d, sums, sizeof *h * (size_t)(2 * c));
    free(h);
    return s;
}
