/* Shared by the attack engine (attack.c) and the adversarial evaluation (adversarial.c). */
#ifndef RCL_EVAL_ATTACK_INTERNAL_H
#define RCL_EVAL_ATTACK_INTERNAL_H

#include "robustcl/adversarial.h"

/* The first n images of a batch tensor. */
static inline rcl_tensor rcl_attack_rows(const rcl_tensor *t, int n) {
    rcl_tensor v = *t;
    v.n = t->n / (size_t)t->shape[0] * (size_t)n;
    v.shape[0] = n;
    return v;
}

/* The configuration that runs (FGSM: one step of eps, no start), as rcl_attack_create settled it. */
const rcl_attack_config *rcl_attack_config_of(const rcl_attack *a);

/* Spec values (src/eval/attack_spec.c), 1 when `v` is wholly one: a number or a fraction a/b;
 * an integer in [lo, hi]. */
int rcl_attack_parse_number(const char *v, double *out);
int rcl_attack_parse_int(const char *v, long lo, long hi, int *out);
/* The next KEY=VALUE of an attack spec's option list at *p (advanced to the next one, NULL at the
 * end): the key into opt[cap], *value into opt after it. Errors name the spec. */
rcl_status rcl_attack_spec_option(const char *spec, const char **p, char *opt, size_t cap, const char **value);
/* A radius as k/255 when it is one, else %.9g. */
void rcl_attack_format_pixels(char *buf, size_t cap, double v);

#endif
