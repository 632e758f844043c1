/* Where the library's messages go. Library code prints nothing itself: kernel build logs,
 * notices (device choice, caches, resumes) and the progress of long work all go through
 * rcl_log to one callback. Without a callback they go to stderr (rcl_log_stderr), so a
 * program that sets nothing still sees warnings; set one to route, reformat or drop them.
 * Set it before starting work: the callback is process-wide and not synchronised. */
#ifndef ROBUSTCL_LOG_H
#define ROBUSTCL_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RCL_LOG_WARNING,       /* the user should see it: a kernel's build log, an injected fault */
    RCL_LOG_NOTICE,        /* what the library chose or did: device, cache, stages run */
    RCL_LOG_PROGRESS,      /* a progress line of long work (training, an attack), superseding the last */
    RCL_LOG_PROGRESS_DONE, /* the last progress line of that work */
} rcl_log_level;

/* msg has no trailing newline (a kernel build log spans several lines). */
typedef void (*rcl_log_fn)(void *ctx, rcl_log_level level, const char *msg);

/* fn NULL restores the default: rcl_log_stderr, interactive when stderr is a terminal.
 * interactive: fn shows progress in place on a terminal, so progress lines come as bars up
 * to 5 times a second; otherwise as plain lines, one every 10 s. */
void rcl_log_set(rcl_log_fn fn, void *ctx, int interactive);
/* Whether progress lines are currently bars for a terminal (see rcl_log_set). */
int rcl_log_interactive(void);
void rcl_log(rcl_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* quiet 1: rcl_log passes warnings only, dropping notices and progress (the run
 * configuration's quiet, $ROBUSTCL_QUIET on the command line); 0, the default: everything. */
void rcl_log_set_quiet(int quiet);
/* The default: "robustcl: MESSAGE" lines on stderr; progress lines as they are, or redrawn in
 * place when interactive. */
void rcl_log_stderr(void *ctx, rcl_log_level level, const char *msg);

#ifdef __cplusplus
}
#endif
#endif
