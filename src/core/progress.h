/* Progress of long work: a bar with rate and ETA on a terminal, plain lines
 * (at most every few seconds) otherwise. */
#ifndef ROBUSTCL_PROGRESS_H
#define ROBUSTCL_PROGRESS_H

#include <stdio.h>

typedef struct rcl_progress {
    FILE *out;
    int tty, quiet;
    char label[64];
    long total, done;
    double t0, last_print, unit_scale; /* unit_scale: items (images) per unit of progress */
} rcl_progress;

double rcl_now(void); /* monotonic seconds */
void rcl_progress_begin(rcl_progress *p, const char *label, long total, double items_per_unit);
/* done units so far; extra: a short status string (loss, accuracy). */
void rcl_progress_update(rcl_progress *p, long done, const char *extra);
void rcl_progress_end(rcl_progress *p, const char *extra);
/* An rcl_notice_fn (robustcl/device.h) for front ends: "robustcl: MESSAGE" on stderr, unless
 * ROBUSTCL_QUIET is set. ctx is unused. */
void rcl_progress_notice(void *ctx, const char *message);

#endif
