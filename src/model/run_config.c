/* The run configuration (robustcl/session.h): its defaults, the command line it records, and
 * the parts that hold for the whole process. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "robustcl/log.h"
#include "robustcl/session.h"

/* arg as a POSIX shell reads it back: bare when it has no special character, else quoted. */
static size_t append_arg(char *out, size_t len, size_t cap, const char *arg) {
    int bare = *arg && strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%") ==
                           strlen(arg);
    if (len && len < cap)
        len += (size_t)snprintf(out + len, cap - len, " ");
    if (bare && len < cap)
        return len + (size_t)snprintf(out + len, cap - len, "%s", arg);
    if (len < cap)
        len += (size_t)snprintf(out + len, cap - len, "'");
    for (const char *p = arg; *p && len < cap; p++)
        len += (size_t)snprintf(out + len, cap - len, *p == '\'' ? "'\\''" : "%c", *p);
    if (len < cap)
        len += (size_t)snprintf(out + len, cap - len, "'");
    return len;
}

void rcl_run_config_init(rcl_run_config *c, int argc, char **argv) {
    memset(c, 0, sizeof *c);
    c->launch.tasks = 1;
    size_t len = 0;
    for (int i = 0; i < argc && len < sizeof c->command_line; i++)
        len = append_arg(c->command_line, len, sizeof c->command_line, argv[i]);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    c->started = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void rcl_run_config_apply(const rcl_run_config *c) {
    rcl_cache_set_dir(c->cache_dir);
    rcl_fashion_mnist_set_default_dir(c->fashion_mnist_dir);
    rcl_log_set_quiet(c->quiet);
}
