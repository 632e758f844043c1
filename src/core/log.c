/* The library's one way to say something (robustcl/log.h). */
#include "robustcl/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static rcl_log_fn sink = rcl_log_stderr;
static void *sink_ctx;
static int sink_interactive = -1; /* -1: the default's, bars when stderr is a terminal */
static int quiet;

void rcl_log_set_quiet(int q) { quiet = q != 0; }

void rcl_log_set(rcl_log_fn fn, void *ctx, int interactive) {
    sink = fn ? fn : rcl_log_stderr;
    sink_ctx = fn ? ctx : NULL;
    sink_interactive = fn ? interactive != 0 : -1;
}

int rcl_log_interactive(void) {
    if (sink_interactive < 0)
        sink_interactive = isatty(STDERR_FILENO);
    return sink_interactive;
}

void rcl_log(rcl_log_level level, const char *fmt, ...) {
    if (quiet && level != RCL_LOG_WARNING)
        return;
    char small[512], *msg = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* build logs run long: format those again at their full length */
    if ((size_t)n >= sizeof small && (msg = malloc((size_t)n + 1)) != NULL) {
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    sink(sink_ctx, level, msg ? msg : small);
    if (msg != small)
        free(msg);
}

void rcl_log_stderr(void *ctx, rcl_log_level level, const char *msg) {
    (void)ctx;
    if (level == RCL_LOG_WARNING || level == RCL_LOG_NOTICE)
        fprintf(stderr, "robustcl: %s\n", msg);
    else if (rcl_log_interactive()) /* the bar redrawn in place, ended by the last line */
        fprintf(stderr, "\r%s\033[K%s", msg, level == RCL_LOG_PROGRESS_DONE ? "\n" : "");
    else
        fprintf(stderr, "%s\n", msg);
    fflush(stderr);
}
