/* Input normalisation (spec §3): the network sees (pixel - mean)/std per channel,
 * pixels in [0,1]. "half" = 0.5/0.5 (input 2x-1, the default); "cifar" = the CIFAR
 * mean/std (125.3,123.0,113.9)/255, (63.0,62.1,66.7)/255 that the official GLC/Forward
 * scripts use even when fine-tuning (QUIRK). Checkpoints record theirs. */
#ifndef ROBUSTCL_NORMALIZATION_H
#define ROBUSTCL_NORMALIZATION_H

#include <stddef.h>

#include "robustcl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcl_normalization {
    float mean[3], std[3]; /* per channel; 1-channel data uses index 0 */
} rcl_normalization;

rcl_normalization rcl_normalization_half(void);
rcl_normalization rcl_normalization_cifar(void);
/* half | cifar | M1,M2,M3/S1,S2,S3 (numbers in [0,1] scale, std > 0). Errors
 * (RCL_ERR_INVALID_ARG) name the spec and what is wrong. */
rcl_status rcl_normalization_parse(const char *spec, rcl_normalization *out);
int rcl_normalization_equal(const rcl_normalization *a, const rcl_normalization *b);
/* "half", "cifar" or "M1,M2,M3/S1,S2,S3" (%.9g), which rcl_normalization_parse reads back. */
const char *rcl_normalization_name(const rcl_normalization *n, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
