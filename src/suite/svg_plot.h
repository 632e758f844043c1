/* Inline-SVG plots for self-contained HTML pages (internal to the library and its CLI). */
#ifndef RCL_SVG_PLOT_H
#define RCL_SVG_PLOT_H

#include <stdio.h>

typedef struct {
    FILE *f;
    double x0, x1, y0, y1;
    int categories; /* > 0: the x axis counts categories (classes, bars): tick i at i + 0.5 */
    int legend_bottom; /* stack the legend up from the lower right, where curves rarely are */
} rcl_svg_plot;

/* Writes s as HTML text (also safe inside quoted attributes). */
void rcl_html_escape(FILE *f, const char *s);
double rcl_svg_px(const rcl_svg_plot *p, double x);
double rcl_svg_py(const rcl_svg_plot *p, double y);
/* Opens a 420x280 plot with a title, axis labels and the data ranges; categories > 0 makes the
 * x axis count categories (0..categories). */
void rcl_svg_begin(rcl_svg_plot *p, FILE *f, const char *title, const char *xlabel, const char *ylabel,
                   double x0, double x1, double y0, double y1, int categories);
/* Integer ticks under categories 0..n-1 (at most about 12 labels), or the given labels. */
void rcl_svg_category_ticks(rcl_svg_plot *p, int n, const char *const *labels);
void rcl_svg_legend(rcl_svg_plot *p, int i, const char *color, const char *text, int dashed);
void rcl_svg_polyline(rcl_svg_plot *p, const double *x, const double *y, int n, const char *color, int dashed);
void rcl_svg_bar(rcl_svg_plot *p, double x, double width, double y, const char *color);
/* A dot at every `every`-th point (1: each). */
void rcl_svg_markers(rcl_svg_plot *p, const double *x, const double *y, int n, int every, const char *color);
/* Spread over seeds: y +- sd as capped vertical bars (a few points), or a shaded band (a curve). */
void rcl_svg_error_bars(rcl_svg_plot *p, const double *x, const double *y, const double *sd, int n,
                        const char *color);
void rcl_svg_band(rcl_svg_plot *p, const double *x, const double *y, const double *sd, int n, const char *color);
void rcl_svg_end(rcl_svg_plot *p);

#endif
