/* Reference conv2d: the definition, in double precision, as plain loops.
 * y[b][co][oy][ox] = sum_{ci,i,j} x[b][ci][oy*stride-pad+i][ox*stride-pad+j] * w[co][ci][i][j]
 * (x is 0 outside the image). Backward is the same loop nest with the
 * products' partial derivatives accumulated. */
#include <string.h>

#include "ops/ref.h"

void rcl_ref_conv2d_forward(const rcl_conv_shape *s, const double *x, const double *w, double *y) {
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s);
    for (int b = 0; b < s->n; b++)
        for (int co = 0; co < s->c_out; co++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    double sum = 0;
                    for (int ci = 0; ci < s->c_in; ci++)
                        for (int i = 0; i < s->kh; i++) {
                            int iy = oy * s->stride - s->pad + i;
                            if (iy < 0 || iy >= s->h)
                                continue;
                            for (int j = 0; j < s->kw; j++) {
                                int ix = ox * s->stride - s->pad + j;
                                if (ix < 0 || ix >= s->w)
                                    continue;
                                sum += x[(((size_t)b * s->c_in + ci) * s->h + iy) * s->w + ix] *
                                       w[(((size_t)co * s->c_in + ci) * s->kh + i) * s->kw + j];
                            }
                        }
                    y[(((size_t)b * s->c_out + co) * ho + oy) * wo + ox] = sum;
                }
}

void rcl_ref_conv2d_backward(const rcl_conv_shape *s, const double *x, const double *w,
                             const double *dy, double *dx, double *dw) {
    int ho = rcl_conv_out_h(s), wo = rcl_conv_out_w(s);
    if (dx)
        memset(dx, 0, sizeof(double) * (size_t)s->n * s->c_in * s->h * s->w);
    memset(dw, 0, sizeof(double) * (size_t)s->c_out * s->c_in * s->kh * s->kw);
    for (int b = 0; b < s->n; b++)
        for (int co = 0; co < s->c_out; co++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    double g = dy[(((size_t)b * s->c_out + co) * ho + oy) * wo + ox];
                    for (int ci = 0; ci < s->c_in; ci++)
                        for (int i = 0; i < s->kh; i++) {
                            int iy = oy * s->stride - s->pad + i;
                            if (iy < 0 || iy >= s->h)
                                continue;
                            for (int j = 0; j < s->kw; j++) {
                                int ix = ox * s->stride - s->pad + j;
                                if (ix < 0 || ix >= s->w)
                                    continue;
                                size_t xi = (((size_t)b * s->c_in + ci) * s->h + iy) * s->w + ix;
                                size_t wi = (((size_t)co * s->c_in + ci) * s->kh + i) * s->kw + j;
                                dw[wi] += x[xi] * g;
                                if (dx)
                                    dx[xi] += w[wi] * g;
                            }
                        }
                }
}
