#define _POSIX_C_SOURCE 200809L
#include "core/progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "robustcl/log.h"

double rcl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void rcl_progress_begin(rcl_progress *p, const char *label, long total, double items_per_unit) {
    memset(p, 0, sizeof *p);
    p->bar = rcl_log_interactive();
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
    p->t0 = p->last_print = rcl_now();
    p->unit_scale = items_per_unit;
}

static void fmt_time(double s, char *buf, size_t n) {
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void print_line(rcl_progress *p, const char *extra, int final) {
    double el = rcl_now() - p->t0;
    double rate = el > 0 ? p->done * p->unit_scale / el : 0;
    double eta = p->done > 0 ? el * (double)(p->total - p->done) / (double)p->done : 0;
    char e[32], t[32];
    fmt_time(eta, e, sizeof e);
    fmt_time(el, t, sizeof t);
    rcl_log_level level = final ? RCL_LOG_PROGRESS_DONE : RCL_LOG_PROGRESS;
    if (p->bar) {
        int width = 24, fill = p->total > 0 ? (int)(width * p->done / p->total) : 0;
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = 0;
        rcl_log(level, "%s [%s] %ld/%ld %.0f img/s %s %s %s", p->label, bar, p->done, p->total, rate,
                final ? "took" : "ETA", final ? t : e, extra ? extra : "");
    } else {
        rcl_log(level, "%s %ld/%ld %.0f img/s elapsed %s%s%s %s", p->label, p->done, p->total, rate, t,
                final ? "" : " ETA ", final ? "" : e, extra ? extra : "");
    }
}

void rcl_progress_update(rcl_progress *p, long done, const char *extra) {
    p->done = done;
    if (p->quiet)
        return;
    double now = rcl_now();
    if (now - p->last_print < (p->bar ? 0.2 : 10.0))
        return;
    p->last_print = now;
    print_line(p, extra, 0);
}

void rcl_progress_end(rcl_progress *p, const char *extra) {
    if (!p->quiet)
        print_line(p, extra, 1);
}
