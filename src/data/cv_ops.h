/* The few OpenCV 4 image operations that the spatter corruption's references call, restated on
 * one 8-bit or floating-point plane of h x w values, row-major (not public API; the tests call
 * them to check them against hand-computed values). */
#ifndef RCL_DATA_CV_OPS_H
#define RCL_DATA_CV_OPS_H
#include <stddef.h>
#include <stdint.h>

#include "robustcl/status.h"

/* cv2.Canny(src, low, high): 3x3 Sobel gradients (edges replicated), the L1 magnitude |dx| + |dy|
 * (OpenCV's default L2gradient=false), non-maximum suppression along the gradient's direction
 * rounded to 0, 45, 90 or 135 degrees, then hysteresis: a pixel above `low` that survives the
 * suppression is an edge when 8-connected through such pixels to one above `high`. edges: 255 on
 * an edge, 0 elsewhere. */
rcl_status rcl_cv_canny_detect(const uint8_t *src, int h, int w, int low, int high, uint8_t *edges);

/* cv2.distanceTransform(src, cv2.DIST_L2, 5): each pixel's distance to the nearest zero pixel
 * along a path of 5x5 chamfer steps (1 across or down, 1.4 diagonally, 2.1969 for a knight's
 * move), in OpenCV's 16.16 fixed point, in two passes. Without a zero pixel every distance is
 * 8192 (OpenCV's initial value). */
rcl_status rcl_cv_distance_transform(const uint8_t *src, int h, int w, float *dist);

/* cv2.equalizeHist of n values: each value v becomes round(255 * (count of values in (lo, v]) /
 * (n - count of lo)), lo the smallest value present, in OpenCV's float arithmetic; a constant
 * plane stays as it is. */
void rcl_cv_hist_equalize(const uint8_t *src, size_t n, uint8_t *dst);

/* OpenCV's BORDER_REFLECT_101 (d c b | a b c d | c b a) index into [0, n). */
int rcl_cv_reflect101(int i, int n);

/* The 3x3 correlation sum of src with k (k[0] top-left, cv2.filter2D's orientation),
 * OpenCV's BORDER_REFLECT_101 at the edges, in double: exact for the integer kernels and the
 * 8-bit or fixed-point values spatter sums. */
void rcl_cv_filter3_sum(const double *src, int h, int w, const double k[9], double *dst);

#endif
