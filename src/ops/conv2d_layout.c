/* Launchers of the layout kernels the direct families share (kernels/conv2d_layout.cl):
 * padding, weight packing, channel blocks of the output gradient, and the sum of a split
 * weight-gradient reduction. Their plain-C references are in conv2d_layout_ref.c. */
#include "conv2d_internal.h"
#include "core/kernel.h"

rcl_status rcl_conv_pad(rcl_device *d, cl_mem src, cl_mem dst, int planes, int h, int w, int hp,
                        int wp, int top, int left, int split) {
    size_t global = (size_t)planes;
    rcl_arg a[] = {RCL_MEM(src), RCL_INT(0),  RCL_MEM(dst), RCL_INT(planes), RCL_INT(h),    RCL_INT(w),
                   RCL_INT(hp),  RCL_INT(wp), RCL_INT(top), RCL_INT(left),   RCL_INT(split)};
    return rcl_kernel_launch(d, RCL_K_conv_pad, 1, &global, NULL, 11, a);
}

rcl_status rcl_conv_pack(rcl_device *d, cl_mem w, cl_mem wq, int c_out, int c_in, int kk,
                         int width, int blocks, int transpose, int flip) {
    size_t global = (size_t)blocks * (transpose ? c_out : c_in) * kk * width;
    rcl_arg a[] = {RCL_MEM(w),      RCL_MEM(wq),     RCL_INT(c_out),     RCL_INT(c_in), RCL_INT(kk),
                   RCL_INT(width), RCL_INT(blocks), RCL_INT(transpose), RCL_INT(flip)};
    return rcl_kernel_launch(d, RCL_K_conv_pack, 1, &global, NULL, 9, a);
}

rcl_status rcl_conv_block(rcl_device *d, cl_mem dy, cl_mem db, int n, int c, int plane, int width) {
    size_t global = (size_t)n * ((c + width - 1) / width) * ((plane + 63) / 64); /* = BLOCK_RUN */
    rcl_arg a[] = {RCL_MEM(dy), RCL_MEM(db), RCL_INT(n), RCL_INT(c), RCL_INT(plane), RCL_INT(width)};
    return rcl_kernel_launch(d, RCL_K_conv_block, 1, &global, NULL, 6, a);
}

rcl_status rcl_conv_dw_reduce(rcl_device *d, cl_mem part, cl_mem dw, int slices, int count) {
    size_t global = (size_t)count;
    rcl_arg a[] = {RCL_MEM(part), RCL_MEM(dw), RCL_INT(slices), RCL_INT(count)};
    return rcl_kernel_launch(d, RCL_K_conv_dw_reduce, 1, &global, NULL, 4, a);
}
