/* The option tables of the commands: parsing and --help both come from one table, so the
 * help cannot drift from what a command accepts. And the process's run configuration, which the
 * environment and then the options fill. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "env.h"

static rcl_run_config run;
static const char *python;

rcl_status rcl_cli_setup(int argc, char **argv) {
    rcl_run_config_init(&run, argc, argv);
    RCL_TRY(rcl_env_read(&run, &python));
    rcl_run_config_apply(&run);
    return RCL_OK;
}

rcl_run_config *rcl_cli_run(void) { return &run; }
const char *rcl_cli_python(void) { return python ? python : "/usr/bin/python3"; }

/* Splits the current argument into name and inline value (`--name=value`). */
static int args_next(rcl_args *a) {
    if (++a->i >= a->argc)
        return 0;
    const char *arg = a->argv[a->i];
    const char *eq = strchr(arg, '=');
    if (!strncmp(arg, "--", 2) && eq) {
        size_t n = (size_t)(eq - arg);
        if (n >= sizeof a->name_buf)
            n = sizeof a->name_buf - 1;
        memcpy(a->name_buf, arg, n);
        a->name_buf[n] = 0;
        a->name = a->name_buf;
        a->value = eq + 1;
    } else {
        a->name = arg;
        a->value = NULL;
    }
    return 1;
}

/* The current option's value: inline or the next argument. */
static const char *args_value(rcl_args *a) {
    if (a->value)
        return a->value;
    if (a->i + 1 >= a->argc) {
        rcl_cli_usage(a->cmd, "%s needs a value", a->name);
        return NULL;
    }
    return a->argv[++a->i];
}

static int parse_int(rcl_args *a, const rcl_cli_option *o, const char *s) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < (long)o->lo || v > (long)o->hi)
        return rcl_cli_usage(a->cmd, "%s '%s': expected an integer in %ld..%ld", a->name, s, (long)o->lo,
                             (long)o->hi);
    *(int *)o->ptr = (int)v;
    return 0;
}

static int parse_double(rcl_args *a, const rcl_cli_option *o, const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= o->lo && v <= o->hi))
        return rcl_cli_usage(a->cmd, "%s '%s': expected a number in %g..%g", a->name, s, o->lo, o->hi);
    *(double *)o->ptr = v;
    return 0;
}

int rcl_cli_choice(const char *choices, const char *s, size_t len) {
    int i = 0;
    for (const char *p = choices;; i++) {
        size_t n = strcspn(p, "|");
        if (n == len && !strncmp(p, s, len))
            return i;
        if (!p[n])
            return -1;
        p += n + 1;
    }
}

/* "a|b|c" as "a, b or c" for messages. */
static const char *choice_list(const char *choices, char *buf, size_t cap) {
    const char *last = strrchr(choices, '|');
    size_t w = 0;
    buf[0] = 0;
    for (const char *p = choices; *p && w + 8 < cap; p++) {
        if (*p != '|')
            buf[w++] = *p;
        else
            w += (size_t)snprintf(buf + w, cap - w, "%s", p == last ? " or " : ", ");
        buf[w] = 0;
    }
    return buf;
}

static int parse_choice(rcl_args *a, const rcl_cli_option *o, const char *s) {
    int i = rcl_cli_choice(o->choices, s, strlen(s));
    char list[256];
    if (i < 0)
        return rcl_cli_usage(a->cmd, "%s '%s': expected %s", a->name, s, choice_list(o->choices, list, sizeof list));
    *(int *)o->ptr = i;
    return 0;
}

/* Takes the current option by its table row: 0, or 2 after printing a usage error. */
static int take(rcl_args *a, const rcl_cli_option *o) {
    if (o->given)
        *o->given = 1;
    if (o->kind == RCL_OPT_FLAG) {
        *(int *)o->ptr = (int)o->lo;
        return 0;
    }
    const char *v = args_value(a);
    if (!v)
        return 2;
    if (!*v)
        return rcl_cli_usage(a->cmd, "%s: empty value", a->name);
    switch (o->kind) {
    case RCL_OPT_INT:
        return parse_int(a, o, v);
    case RCL_OPT_DOUBLE:
        return parse_double(a, o, v);
    case RCL_OPT_STRING:
        *(const char **)o->ptr = v;
        return 0;
    case RCL_OPT_BUF:
        snprintf(o->ptr, o->cap, "%s", v);
        return 0;
    case RCL_OPT_CHOICE:
        return parse_choice(a, o, v);
    case RCL_OPT_CALL:
        return o->fn(a, o, v);
    default:
        return 2;
    }
}

static const rcl_cli_option *find(const rcl_cli_spec *spec, const char *name) {
    for (int i = 0; i < spec->nopts; i++)
        if (spec->opts[i].kind != RCL_OPT_TEXT && !strcmp(spec->opts[i].name, name))
            return &spec->opts[i];
    return NULL;
}

int rcl_cli_parse(const rcl_cli_spec *spec, int argc, char **argv, int *exit_code) {
    rcl_args a;
    memset(&a, 0, sizeof a);
    a.cmd = spec->cmd;
    a.argc = argc;
    a.argv = argv;
    while (args_next(&a)) {
        if (!strcmp(a.name, "--help") || !strcmp(a.name, "-h")) {
            rcl_cli_help(spec, stdout);
            *exit_code = 0;
            return 1;
        }
        const rcl_cli_option *o = find(spec, a.name);
        int rc = o ? take(&a, o) : spec->operand ? spec->operand(&a, spec->ctx) : rcl_cli_unknown(&a);
        if (rc) {
            *exit_code = rc;
            return 1;
        }
    }
    return 0;
}

/* Prints text with every line after the first indented by `indent` spaces. */
static void print_indented(FILE *f, const char *text, int indent) {
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(f, "%.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
        if (*p)
            fprintf(f, "%*s", indent, "");
    }
}

void rcl_cli_help(const rcl_cli_spec *spec, FILE *f) {
    fputs(spec->usage, f);
    for (int i = 0; i < spec->nopts; i++) {
        const rcl_cli_option *o = &spec->opts[i];
        if (o->kind == RCL_OPT_TEXT) {
            fputs(o->help, f);
            continue;
        }
        int w = fprintf(f, "  %s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
        if (w < spec->column)
            fprintf(f, "%*s", spec->column - w, "");
        else /* too long for the column: the description goes below */
            fprintf(f, "\n%*s", spec->column, "");
        print_indented(f, o->help, spec->column);
    }
}

int rcl_cli_conv_algo(rcl_args *a, const rcl_cli_option *o, const char *v) {
    (void)o;
    if (rcl_conv_policy_check(v) != RCL_OK)
        return rcl_cli_usage(a->cmd, "--conv-algo: %s", rcl_last_error());
    rcl_cli_run()->device.conv_policy = v;
    return 0;
}

/* v into the option's target: a char buffer of o->cap bytes, or a const char *. */
static int store(rcl_args *a, const rcl_cli_option *o, const char *v) {
    if (!o->cap) {
        *(const char **)o->ptr = v;
        return 0;
    }
    if (strlen(v) >= o->cap)
        return rcl_cli_usage(a->cmd, "%s: longer than %zu characters", a->name, o->cap - 1);
    memcpy(o->ptr, v, strlen(v) + 1);
    return 0;
}

int rcl_cli_arch(rcl_args *a, const rcl_cli_option *o, const char *v) {
    rcl_wrn_config cfg;
    if (rcl_wrn_parse_arch(v, &cfg) != RCL_OK)
        return rcl_cli_usage(a->cmd, "%s: %s", a->name, rcl_last_error());
    return store(a, o, v);
}

int rcl_cli_dataset(rcl_args *a, const rcl_cli_option *o, const char *v) {
    rcl_dataset_spec spec;
    if (rcl_dataset_spec_parse(v, &spec) != RCL_OK)
        return rcl_cli_usage(a->cmd, "%s: %s", a->name, rcl_last_error());
    return store(a, o, v);
}

int rcl_cli_unknown(const rcl_args *a) { return rcl_cli_usage(a->cmd, "unknown argument '%s'", a->argv[a->i]); }

rcl_status rcl_cli_open_device(const char *selector, int profile, rcl_device **out) {
    rcl_run_config run = *rcl_cli_run();
    if (selector)
        run.device.selector = selector;
    rcl_session_spec spec = {.profile = profile};
    rcl_session s;
    RCL_TRY(rcl_session_open(&run, &spec, &s));
    *out = s.device; /* the caller's: no model to close with it */
    return RCL_OK;
}

void rcl_cli_provenance(rcl_json_writer *w, rcl_device *d) {
    rcl_jw_key(w, "provenance");
    rcl_provenance_json(w, rcl_cli_run(), d, NULL, NULL, 0);
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
