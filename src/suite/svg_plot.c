/* Plots as inline SVG for self-contained HTML pages (the suite's report, bench's device
 * comparison): axes, category ticks, legends, lines, markers, bars and spreads; no scripts, no external
 * files. */
#include <math.h>

#include "svg_plot.h"

#define W 420
#define H 280
#define ML 52 /* margins */
#define MR 14
#define MT 30
#define MB 40

double rcl_svg_px(const rcl_svg_plot *p, double x) { return ML + (x - p->x0) / (p->x1 - p->x0) * (W - ML - MR); }
double rcl_svg_py(const rcl_svg_plot *p, double y) { return H - MB - (y - p->y0) / (p->y1 - p->y0) * (H - MT - MB); }

void rcl_html_escape(FILE *f, const char *s) {
    for (; *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '\'': fputs("&#39;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
}

void rcl_svg_begin(rcl_svg_plot *p, FILE *f, const char *title, const char *xlabel, const char *ylabel,
                   double x0, double x1, double y0, double y1, int categories) {
    p->f = f, p->x0 = x0, p->x1 = x1 > x0 ? x1 : x0 + 1, p->y0 = y0, p->y1 = y1 > y0 ? y1 : y0 + 1;
    p->categories = categories;
    p->legend_bottom = 0;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d' role='img'>\n", W, H,
            W, H);
    fprintf(f, "<text x='%d' y='18' font-size='14' font-weight='bold'>", W / 2 - 150);
    rcl_html_escape(f, title);
    fprintf(f, "</text>\n<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#888'/>\n", ML, MT,
            W - ML - MR, H - MT - MB);
    for (int i = 0; i <= 4; i++) {
        double x = p->x0 + (p->x1 - p->x0) * i / 4, y = p->y0 + (p->y1 - p->y0) * i / 4;
        if (!p->categories)
            fprintf(f, "<text x='%.1f' y='%d' font-size='10' text-anchor='middle'>%.3g</text>\n", rcl_svg_px(p, x),
                    H - MB + 14, x);
        fprintf(f, "<text x='%d' y='%.1f' font-size='10' text-anchor='end'>%.3g</text>\n", ML - 4, rcl_svg_py(p, y) + 3, y);
        fprintf(f, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#eee'/>\n", ML, W - MR, rcl_svg_py(p, y), rcl_svg_py(p, y));
    }
    fprintf(f, "<text x='%d' y='%d' font-size='11' text-anchor='middle'>", (ML + W - MR) / 2, H - 6);
    rcl_html_escape(f, xlabel);
    fprintf(f, "</text>\n<text x='12' y='%d' font-size='11' text-anchor='middle' transform='rotate(-90 12 %d)'>",
            (MT + H - MB) / 2, (MT + H - MB) / 2);
    rcl_html_escape(f, ylabel);
    fprintf(f, "</text>\n");
}

void rcl_svg_category_ticks(rcl_svg_plot *p, int n, const char *const *labels) {
    p->categories = n;
    int step = n > 12 ? (n + 11) / 12 : 1;
    for (int i = 0; i < n; i += step) {
        fprintf(p->f, "<text x='%.1f' y='%d' font-size='10' text-anchor='middle'>", rcl_svg_px(p, i + 0.5), H - MB + 14);
        if (labels)
            rcl_html_escape(p->f, labels[i]);
        else
            fprintf(p->f, "%d", i);
        fprintf(p->f, "</text>\n");
    }
}

void rcl_svg_legend(rcl_svg_plot *p, int i, const char *color, const char *text, int dashed) {
    int y = p->legend_bottom ? H - MB - 10 - 14 * i : MT + 12 + 14 * i;
    int x = p->legend_bottom ? W - MR - 190 : ML + 8;
    fprintf(p->f, "<line x1='%d' x2='%d' y1='%d' y2='%d' stroke='%s' stroke-width='2'%s/>", x, x + 18, y, y, color,
            dashed ? " stroke-dasharray='4 3'" : "");
    fprintf(p->f, "<text x='%d' y='%d' font-size='10'>", x + 22, y + 3);
    rcl_html_escape(p->f, text);
    fprintf(p->f, "</text>\n");
}

void rcl_svg_polyline(rcl_svg_plot *p, const double *x, const double *y, int n, const char *color, int dashed) {
    fprintf(p->f, "<polyline fill='none' stroke='%s' stroke-width='2'%s points='", color,
            dashed ? " stroke-dasharray='4 3'" : "");
    for (int i = 0; i < n; i++)
        if (!isnan(x[i]) && !isnan(y[i]))
            fprintf(p->f, "%.1f,%.1f ", rcl_svg_px(p, x[i]), rcl_svg_py(p, y[i]));
    fprintf(p->f, "'/>\n");
}

void rcl_svg_bar(rcl_svg_plot *p, double x, double width, double y, const char *color) {
    if (isnan(y))
        return;
    double top = rcl_svg_py(p, y), bottom = rcl_svg_py(p, p->y0);
    fprintf(p->f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'/>\n", rcl_svg_px(p, x), top,
            rcl_svg_px(p, x + width) - rcl_svg_px(p, x), bottom - top, color);
}

void rcl_svg_markers(rcl_svg_plot *p, const double *x, const double *y, int n, int every, const char *color) {
    for (int i = 0; i < n; i += every > 0 ? every : 1)
        if (!isnan(x[i]) && !isnan(y[i]))
            fprintf(p->f, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>\n", rcl_svg_px(p, x[i]), rcl_svg_py(p, y[i]),
                    color);
}

/* y clamped to the plot's range, so that a spread never draws outside its frame. */
static double clamp_y(const rcl_svg_plot *p, double y) { return y < p->y0 ? p->y0 : y > p->y1 ? p->y1 : y; }

void rcl_svg_error_bars(rcl_svg_plot *p, const double *x, const double *y, const double *sd, int n,
                        const char *color) {
    for (int i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i]) || isnan(sd[i]) || sd[i] <= 0)
            continue;
        double px = rcl_svg_px(p, x[i]), lo = rcl_svg_py(p, clamp_y(p, y[i] - sd[i])),
               hi = rcl_svg_py(p, clamp_y(p, y[i] + sd[i]));
        fprintf(p->f, "<path d='M%.1f,%.1fV%.1fM%.1f,%.1fH%.1fM%.1f,%.1fH%.1f' stroke='%s' stroke-width='1.5'/>\n", px,
                lo, hi, px - 4, lo, px + 4, px - 4, hi, px + 4, color);
    }
}

void rcl_svg_band(rcl_svg_plot *p, const double *x, const double *y, const double *sd, int n, const char *color) {
    fprintf(p->f, "<polygon fill='%s' fill-opacity='0.2' stroke='none' points='", color);
    for (int i = 0; i < n; i++) /* up along y + sd, back along y - sd */
        if (!isnan(x[i]) && !isnan(y[i]) && !isnan(sd[i]))
            fprintf(p->f, "%.1f,%.1f ", rcl_svg_px(p, x[i]), rcl_svg_py(p, clamp_y(p, y[i] + sd[i])));
    for (int i = n - 1; i >= 0; i--)
        if (!isnan(x[i]) && !isnan(y[i]) && !isnan(sd[i]))
            fprintf(p->f, "%.1f,%.1f ", rcl_svg_px(p, x[i]), rcl_svg_py(p, clamp_y(p, y[i] - sd[i])));
    fprintf(p->f, "'/>\n");
}

void rcl_svg_end(rcl_svg_plot *p) { fprintf(p->f, "</svg>\n"); }
