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

#endif
