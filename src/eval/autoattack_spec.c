/* AutoAttack configurations as text: defaults, the autoattack: spec parser and the
 * canonical description (see robustcl/autoattack.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/attack_internal.h"
#include "robustcl/autoattack.h"

static const char *const kind_names[RCL_AA_KINDS] = {"apgd-ce", "apgd-t", "apgd-dlr", "square", "fab-t"};

const char *rcl_aa_kind_name(rcl_aa_kind kind) {
    return kind >= 0 && kind < RCL_AA_KINDS ? kind_names[kind] : "?";
}

static void set_version(rcl_autoattack_config *c, int rand_version) {
    c->rand_version = rand_version;
    c->restarts = rand_version ? 5 : 1;
    c->n_attacks = 0;
    c->attacks[c->n_attacks++] = RCL_AA_APGD_CE;
    if (rand_version) {
        c->attacks[c->n_attacks++] = RCL_AA_APGD_DLR;
        return;
    }
    c->attacks[c->n_attacks++] = RCL_AA_APGD_T;
    c->attacks[c->n_attacks++] = RCL_AA_FAB_T;
    c->attacks[c->n_attacks++] = RCL_AA_SQUARE;
}

rcl_autoattack_config rcl_autoattack_defaults(void) {
    rcl_autoattack_config c;
    memset(&c, 0, sizeof c);
    c.eps = 8.0 / 255.0;
    c.iters = 100;
    c.targets = 9;
    c.queries = 5000;
    c.norm = rcl_normalization_half();
    set_version(&c, 0);
    return c;
}

int rcl_autoattack_is_spec(const char *spec) {
    return spec && !strncmp(spec, "autoattack", 10) && (spec[10] == 0 || spec[10] == ':');
}

/* attacks=NAME+NAME: distinct names in the order given. */
static int parse_attacks(rcl_autoattack_config *c, const char *v) {
    c->n_attacks = 0;
    for (const char *p = v;; p++) {
        size_t len = strcspn(p, "+");
        int found = -1;
        for (int k = 0; k < RCL_AA_KINDS; k++)
            if (strlen(kind_names[k]) == len && !strncmp(p, kind_names[k], len))
                found = k;
        for (int i = 0; i < c->n_attacks; i++)
            if ((int)c->attacks[i] == found)
                return 0;
        if (found < 0 || c->n_attacks == RCL_AA_MAX_ATTACKS)
            return 0;
        c->attacks[c->n_attacks++] = (rcl_aa_kind)found;
        p += len;
        if (!*p)
            return 1;
    }
}

/* Sets option k to v: 0 if v is no value for k, -1 if k is no option. */
/* The largest L2 eps taken: beyond any image's diameter (a bound, not a check of it). */
#define AA_L2_EPS_MAX 1e4

/* The spec's flags beside the config: which options were given. */
typedef struct {
    int custom, restarts, eps;
} aa_given;

static int parse_option(rcl_autoattack_config *c, const char *k, const char *v, aa_given *given) {
    if (!strcmp(k, "eps"))
        return (given->eps = 1) && rcl_attack_parse_number(v, &c->eps) && c->eps >= 0 && c->eps <= AA_L2_EPS_MAX;
    if (!strcmp(k, "norm")) {
        c->l2 = !strcmp(v, "l2") || !strcmp(v, "L2");
        return c->l2 || !strcmp(v, "linf") || !strcmp(v, "Linf");
    }
    if (!strcmp(k, "version")) {
        if (strcmp(v, "standard") && strcmp(v, "rand"))
            return 0;
        set_version(c, !strcmp(v, "rand"));
        return 1;
    }
    if (!strcmp(k, "n"))
        return rcl_attack_parse_int(v, 0, 100000000, &c->n);
    if (!strcmp(k, "iters"))
        return rcl_attack_parse_int(v, 1, 100000, &c->iters);
    if (!strcmp(k, "restarts"))
        return (given->restarts = 1) && rcl_attack_parse_int(v, 1, 1000, &c->restarts);
    if (!strcmp(k, "targets"))
        return rcl_attack_parse_int(v, 1, 1000, &c->targets);
    if (!strcmp(k, "queries"))
        return rcl_attack_parse_int(v, 1, 10000000, &c->queries);
    if (!strcmp(k, "attacks"))
        return (given->custom = 1) && parse_attacks(c, v);
    if (!strcmp(k, "seed")) {
        char *end;
        errno = 0;
        c->seed = strtoull(v, &end, 10);
        return *end == 0 && !errno && isdigit((unsigned char)v[0]);
    }
    return -1;
}

rcl_status rcl_autoattack_parse(const char *spec, rcl_autoattack_config *cfg) {
    rcl_autoattack_config c = rcl_autoattack_defaults();
    if (!rcl_autoattack_is_spec(spec))
        return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec '%s': expected autoattack[:OPTIONS]", spec ? spec : "");
    aa_given given = {0, 0, 0};
    int restarts = 0;
    rcl_aa_kind attacks[RCL_AA_MAX_ATTACKS] = {RCL_AA_APGD_CE};
    int n_attacks = 0;
    for (const char *p = spec[10] ? spec + 11 : NULL; p;) {
        char opt[128];
        const char *v;
        RCL_TRY(rcl_attack_spec_option(spec, &p, opt, sizeof opt, &v));
        int ok = parse_option(&c, opt, v, &given);
        if (ok < 0)
            return rcl_fail(RCL_ERR_INVALID_ARG,
                            "attack spec '%s': unknown option '%s' (eps, norm, version, n, seed, iters, restarts, "
                            "targets, queries, attacks)",
                            spec, opt);
        if (!ok)
            return rcl_fail(RCL_ERR_INVALID_ARG, "attack spec '%s': bad value '%s' for %s%s", spec, v, opt,
                            !strcmp(opt, "norm") ? " (linf or l2)"
                            : !strcmp(opt, "eps") ? " (a number >= 0, or a/b)"
                            : !strcmp(opt, "attacks") ? " (distinct names of apgd-ce, apgd-t, apgd-dlr, fab-t, square joined by +)"
                                                      : "");
        if (!strcmp(opt, "restarts"))
            restarts = c.restarts;
        if (!strcmp(opt, "attacks"))
            memcpy(attacks, c.attacks, sizeof attacks), n_attacks = c.n_attacks;
    }
    /* a version given after restarts= or attacks= must not undo them */
    if (given.restarts)
        c.restarts = restarts;
    if (given.custom)
        memcpy(c.attacks, attacks, sizeof attacks), c.n_attacks = n_attacks;
    if (c.l2 && !given.eps)
        c.eps = 0.5; /* the authors' L2 radius (CIFAR-10), as 8/255 is their L-inf one */
    if (!c.l2 && c.eps > 1)
        return rcl_fail(RCL_ERR_INVALID_ARG,
                        "attack spec '%s': eps %g beyond 1, the L-inf ball's largest (norm=l2 takes more)", spec, c.eps);
    *cfg = c;
    return RCL_OK;
}

const char *rcl_autoattack_describe(const rcl_autoattack_config *cfg, char *buf, size_t cap) {
    char eps[32], list[64] = "";
    if (cfg->l2) /* an L2 radius is no pixel level */
        snprintf(eps, sizeof eps, "%.9g", cfg->eps);
    else
        rcl_attack_format_pixels(eps, sizeof eps, cfg->eps);
    for (int i = 0; i < cfg->n_attacks; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? "+" : "", rcl_aa_kind_name(cfg->attacks[i]));
    }
    snprintf(buf, cap,
             "autoattack:eps=%s,norm=%s,version=%s,n=%d,seed=%llu,iters=%d,restarts=%d,targets=%d,queries=%d,"
             "attacks=%s",
             eps, cfg->l2 ? "l2" : "linf", cfg->rand_version ? "rand" : "standard", cfg->n,
             (unsigned long long)cfg->seed, cfg->iters, cfg->restarts, cfg->targets, cfg->queries, list);
    return buf;
}
