#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void rcl_args_init(rcl_args *a, const char *cmd, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->argc = argc;
    a->argv = argv;
    a->i = 0;
}

static char name_buf[128];

int rcl_args_next(rcl_args *a) {
    if (a->bad || ++a->i >= a->argc)
        return 0;
    const char *arg = a->argv[a->i];
    const char *eq = strchr(arg, '=');
    if (!strncmp(arg, "--", 2) && eq) {
        size_t n = (size_t)(eq - arg);
        if (n >= sizeof name_buf)
            n = sizeof name_buf - 1;
        memcpy(name_buf, arg, n);
        name_buf[n] = 0;
        a->name = name_buf;
        a->value = eq + 1;
    } else {
        a->name = arg;
        a->value = NULL;
    }
    return 1;
}

int rcl_args_is(rcl_args *a, const char *name) { return !strcmp(a->name, name); }

const char *rcl_args_str(rcl_args *a) {
    if (a->value)
        return a->value;
    if (a->i + 1 >= a->argc) {
        rcl_cli_usage(a->cmd, "%s needs a value", a->name);
        a->bad = 1;
        return NULL;
    }
    return a->argv[++a->i];
}

int rcl_args_int(rcl_args *a, long lo, long hi, int *out) {
    const char *s = rcl_args_str(a);
    if (!s)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        rcl_cli_usage(a->cmd, "%s '%s': expected an integer in %ld..%ld", a->name, s, lo, hi);
        a->bad = 1;
        return 0;
    }
    *out = (int)v;
    return 1;
}

int rcl_args_double(rcl_args *a, double lo, double hi, double *out) {
    const char *s = rcl_args_str(a);
    if (!s)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        rcl_cli_usage(a->cmd, "%s '%s': expected a number in %g..%g", a->name, s, lo, hi);
        a->bad = 1;
        return 0;
    }
    *out = v;
    return 1;
}

int rcl_args_unknown(rcl_args *a) {
    a->bad = 1;
    return rcl_cli_usage(a->cmd, "unknown argument '%s'", a->argv[a->i]);
}

int rcl_args_conv_algo(rcl_args *a) {
    const char *v = rcl_args_str(a);
    if (!v)
        return 0;
    if (rcl_conv_policy_check(v) != RCL_OK) {
        rcl_cli_usage(a->cmd, "--conv-algo: %s", rcl_last_error());
        a->bad = 1;
        return 0;
    }
    setenv("ROBUSTCL_CONV_ALGO", v, 1);
    return 1;
}

rcl_status rcl_cli_open_device(const char *selector, int profile, rcl_device **out) {
    rcl_device_options o = {0};
    o.selector = selector;
    o.profile = profile;
    o.notice = rcl_progress_notice;
    return rcl_device_open(&o, out);
}

int rcl_cli_error(void) {
    fprintf(stderr, "robustcl: %s\n", rcl_last_error());
    return 1;
}

int rcl_cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "robustcl %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see robustcl %s --help)\n", cmd);
    return 2;
}
