/* Attack configurations as text: the defaults, the pgd:/fgsm: spec parser, eps lists and
 * the one-line description (see robustcl/adversarial.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/attack_internal.h"

rcl_attack_config rcl_attack_defaults(void) {
    rcl_attack_config c;
    memset(&c, 0, sizeof c);
    c.kind = RCL_ATTACK_PGD;
    c.eps = 8.0 / 255.0;
    c.step = 2.0 / 255.0;
    c.steps = 20;
    c.restarts = 1;
    c.random_start = 1;
    c.mode = RCL_ATTACK_TEXTBOOK;
    c.loss = RCL_ATTACK_LOSS_CE;
    c.bn_train = -1;
    c.norm = rcl_normalization_half();
    return c;
}

const char *rcl_attack_mode_name(rcl_attack_mode mode) { return mode == RCL_ATTACK_PAPER ? "paper" : "textbook"; }

int rcl_attack_parse_number(const char *v, double *out) {
    char *end;
    errno = 0;
    double a = strtod(v, &end);
    if (end == v || errno)
        return 0;
    if (*end == '/') {
        const char *d = end + 1;
        double b = strtod(d, &end);
        if (end == d || errno || !(b > 0))
            return 0;
        a /= b;
    }
    if (*end || !isfinite(a))
        return 0;
    *out = a;
    return 1;
}

int rcl_attack_parse_int(const char *v, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi)
        return 0;
    *out = (int)x;
    return 1;
}

/* Sets option k of c to v: 0 if v is no value for k, -1 if k is no option; *pgd_only when
 * k is an option FGSM does not take. */
static int parse_option(rcl_attack_config *c, const char *k, const char *v, int *step_given, int *pgd_only) {
    *pgd_only = 0;
    if (!strcmp(k, "eps"))
        return rcl_attack_parse_number(v, &c->eps) && c->eps >= 0 && c->eps <= 1;
    if (!strcmp(k, "step")) {
        *step_given = *pgd_only = 1;
        return rcl_attack_parse_number(v, &c->step) && c->step >= 0 && c->step <= 1;
    }
    if (!strcmp(k, "steps")) {
        *pgd_only = 1;
        return rcl_attack_parse_int(v, 1, 100000, &c->steps);
    }
    if (!strcmp(k, "restarts")) {
        *pgd_only = 1;
        return rcl_attack_parse_int(v, 1, 10000, &c->restarts);
    }
    if (!strcmp(k, "start")) {
        *pgd_only = 1;
        c->random_start = !strcmp(v, "random");
        return !strcmp(v, "random") || !strcmp(v, "none");
    }
    if (!strcmp(k, "mode")) {
        c->mode = !strcmp(v, "paper") ? RCL_ATTACK_PAPER : RCL_ATTACK_TEXTBOOK;
        return !strcmp(v, "textbook") || !strcmp(v, "paper");
    }
    if (!strcmp(k, "loss")) {
        c->loss = !strcmp(v, "ce") ? RCL_ATTACK_LOSS_CE : RCL_ATTACK_LOSS_MARGIN;
        return !strcmp(v, "ce") || !strcmp(v, "margin") || !strcmp(v, "cw");
    }
    if (!strcmp(k, "seed")) {
        char *end;
        errno = 0;
        c->seed = strtoull(v, &end, 10);
        return *end == 0 && !errno && isdigit((unsigned char)v[0]);
    }
    if (!strcmp(k, "bn")) {
        c->bn_train = !strcmp(v, "train") ? 1 : (!strcmp(v, "eval") ? 0 : -1);
        return !strcmp(v, "auto") || !strcmp(v, "eval") || !strcmp(v, "train");
    }
    return -1;
}

rcl_status rcl_attack_spec_option(const char *spec, const char **p, char *opt, size_t cap, const char **value) {
    const char *comma = strchr(*p, ',');
    size_t len = comma ? (size_t)(comma - *p) : strlen(*p);
    if (len == 0 || len >= cap)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec '%s': empty or overlong option", spec);
    memcpy(opt, *p, len);
    opt[len] = 0;
    char *eq = strchr(opt, '=');
    if (!eq || eq == opt || !eq[1])
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec '%s': option '%s' is not KEY=VALUE", spec, opt);
    *eq = 0;
    *value = eq + 1;
    *p = comma ? comma + 1 : NULL;
    return RCL_OK;
}

rcl_status rcl_attack_parse(const char *spec, rcl_attack_config *cfg) {
    rcl_attack_config c = rcl_attack_defaults();
    if (!spec || !*spec)
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec is empty: expected pgd[:OPTIONS] or fgsm[:OPTIONS]");
    const char *colon = strchr(spec, ':');
    size_t klen = colon ? (size_t)(colon - spec) : strlen(spec);
    if (klen == 3 && !strncmp(spec, "pgd", 3))
        c.kind = RCL_ATTACK_PGD;
    else if (klen == 4 && !strncmp(spec, "fgsm", 4))
        c.kind = RCL_ATTACK_FGSM;
    else
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec '%s': unknown attack '%.*s' (pgd or fgsm)", spec, (int)klen,
                        spec);
    int step_given = 0;
    const char *p = colon ? colon + 1 : NULL;
    while (p) {
        char opt[128];
        const char *k = opt, *v;
        RCL_TRY(rcl_attack_spec_option(spec, &p, opt, sizeof opt, &v));
        int pgd_only, ok = parse_option(&c, k, v, &step_given, &pgd_only);
        if (ok < 0)
            return rcl_fail(RCL_ERR_INVALID_ARG,
                            "attack spec '%s': unknown option '%s' (eps, step, steps, restarts, start, mode, loss, "
                            "seed, bn)",
                            spec, k);
        if (!ok)
            return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec '%s': bad value '%s' for %s", spec, v, k);
        if (pgd_only && c.kind == RCL_ATTACK_FGSM)
            return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec '%s': fgsm takes no '%s' (one step of eps, no start)",
                            spec, k);
    }
    if (c.kind == RCL_ATTACK_FGSM) {
        c.step = c.eps;
        c.steps = 1;
        c.restarts = 1;
        c.random_start = 0;
    } else if (!step_given) {
        c.step = c.eps / 4;
    }
    *cfg = c;
    return RCL_OK;
}

rcl_status rcl_attack_parse_eps_list(const char *list, double *eps, int cap, int *n) {
    *n = 0;
    if (!list || !*list)
        return rcl_fail(RCL_ERR_INVALID_ARG, "eps list is empty: expected e.g. 0,1/255,2/255,8/255");
    for (const char *p = list;; p++) {
        size_t len = strcspn(p, ",");
        char item[64];
        if (len == 0 || len >= sizeof item)
            return rcl_fail(RCL_ERR_INVALID_ARG, "eps list '%s': empty or overlong item", list);
        memcpy(item, p, len);
        item[len] = 0;
        if (*n == cap)
            return rcl_fail(RCL_ERR_INVALID_ARG, "eps list '%s': more than %d values", list, cap);
        if (!rcl_attack_parse_number(item, &eps[*n]) || eps[*n] < 0 || eps[*n] > 1)
            return rcl_fail(RCL_ERR_INVALID_ARG, "eps list '%s': '%s' is not a radius in [0,1] (a number or a/b)",
                            list, item);
        (*n)++;
        p += len;
        if (!*p)
            return RCL_OK;
    }
}

void rcl_attack_format_pixels(char *buf, size_t cap, double v) {
    double k = v * 255.0;
    if (fabs(k - round(k)) < 1e-9 && v != 0)
        snprintf(buf, cap, "%.0f/255", round(k));
    else
        snprintf(buf, cap, "%.9g", v);
}

const char *rcl_attack_describe(const rcl_attack_config *cfg, char *buf, size_t cap) {
    char eps[32], step[32], bn[16] = "";
    const char *loss = cfg->loss == RCL_ATTACK_LOSS_MARGIN ? "margin" : "ce";
    rcl_attack_format_pixels(eps, sizeof eps, cfg->eps);
    rcl_attack_format_pixels(step, sizeof step, cfg->step);
    if (cfg->bn_train >= 0)
        snprintf(bn, sizeof bn, ",bn=%s", cfg->bn_train ? "train" : "eval");
    if (cfg->kind == RCL_ATTACK_FGSM)
        snprintf(buf, cap, "fgsm:eps=%s,mode=%s,loss=%s,seed=%llu%s", eps, rcl_attack_mode_name(cfg->mode), loss,
                 (unsigned long long)cfg->seed, bn);
    else
        snprintf(buf, cap, "pgd:eps=%s,step=%s,steps=%d,restarts=%d,start=%s,mode=%s,loss=%s,seed=%llu%s", eps, step,
                 cfg->steps, cfg->restarts, cfg->random_start ? "random" : "none", rcl_attack_mode_name(cfg->mode),
                 loss, (unsigned long long)cfg->seed, bn);
    return buf;
}
