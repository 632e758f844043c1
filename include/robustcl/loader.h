/* The input pipeline: a background thread prepares the next batch (seeded
 * shuffle, zero-padded random crop, horizontal flip, normalisation) while the
 * device computes. Every random choice is a function of (seed, epoch,
 * position), so a resumed run sees exactly the batches of an uninterrupted one. */
#ifndef ROBUSTCL_LOADER_H
#define ROBUSTCL_LOADER_H

#include <stdint.h>

#include "robustcl/data.h"
#include "robustcl/normalization.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcl_loader_options {
    int batch;
    int shuffle;       /* new permutation each epoch */
    int augment;       /* random crop with `pad` zero padding + horizontal flip p=0.5 */
    int pad;           /* 4 for 32x32 inputs (spec §3) */
    uint64_t seed;
    rcl_normalization norm; /* network input = (pixel/255 - mean)/std; spec §3 default 0.5/0.5 */
    /* Data parallelism: with shards > 1 `batch` is the global batch and this loader yields
     * only slice `shard` of each: images [shard*n/shards, (shard+1)*n/shards) of a batch of n,
     * augmented exactly as in the whole batch. 0 or 1: no sharding. */
    int shard, shards;
} rcl_loader_options;

/* Defaults: batch 128, shuffle, augment, pad 4, mean = std = 0.5. */
rcl_loader_options rcl_loader_defaults(void);

typedef struct rcl_loader rcl_loader;

/* Iterates over ds (or the `count` images listed in `indices`, when not NULL;
 * the list is copied). The last partial batch is kept (spec §2). */
rcl_status rcl_loader_create(const rcl_dataset *ds, const int *indices, int count,
                             const rcl_loader_options *opt, rcl_loader **out);
void rcl_loader_free(rcl_loader *l);
int rcl_loader_batches(const rcl_loader *l); /* per epoch */
int rcl_loader_size(const rcl_loader *l);    /* images per epoch */

/* Starts epoch `epoch` (0-based) at batch `first_batch` (for resuming). */
rcl_status rcl_loader_start(rcl_loader *l, int epoch, int first_batch);
/* The next batch: x [n, c, h, w] floats, labels and dataset indices, valid until the
 * next call. Returns RCL_OK with *n = 0 at the end of the epoch. */
rcl_status rcl_loader_next(rcl_loader *l, const float **x, const int32_t **labels, const int32_t **index, int *n);

/* Fills out [c*h*w] with image i of ds in network space (no augmentation). */
void rcl_loader_image(const rcl_dataset *ds, int i, const rcl_normalization *norm, float *out);

#ifdef __cplusplus
}
#endif
#endif
