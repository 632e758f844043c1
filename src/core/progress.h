/* Progress of long work, told through rcl_log (robustcl/log.h): a bar with rate and ETA
 * when the log is interactive, plain lines (at most every 10 s) otherwise. */
#ifndef ROBUSTCL_PROGRESS_H
#define ROBUSTCL_PROGRESS_H

typedef struct rcl_progress {
    int bar;   /* the log shows progress in place (rcl_log_interactive) */
    int quiet; /* set by the caller to say nothing (a data-parallel rank other than 0) */
    char label[64];
    long total, done;
    double t0, last_print, unit_scale; /* unit_scale: items (images) per unit of progress */
} rcl_progress;

double rcl_now(void); /* monotonic seconds */
void rcl_progress_begin(rcl_progress *p, const char *label, long total, double items_per_unit);
/* done units so far; extra: a short status string (loss, accuracy). */
void rcl_progress_update(rcl_progress *p, long done, const char *extra);
void rcl_progress_end(rcl_progress *p, const char *extra);

#endif
