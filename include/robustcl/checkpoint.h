/* Checkpoints: safetensors files with the official PyTorch parameter names
 * (spec §1, plus BN num_batches_tracked so PyTorch's strict loading works),
 * provenance metadata, and the optimizer and RNG state needed to resume a run
 * bit-identically. Written atomically. */
#ifndef ROBUSTCL_CHECKPOINT_H
#define ROBUSTCL_CHECKPOINT_H

#include "robustcl/data.h"
#include "robustcl/json.h"
#include "robustcl/model.h"
#include "robustcl/normalization.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a run stands: the next batch to train. */
typedef struct rcl_train_state {
    int epoch, batch;
    long step; /* updates done, 0-based count */
} rcl_train_state;

typedef struct rcl_checkpoint_info {
    rcl_train_state state;
    int total_epochs;
    double lr;
    uint64_t seed;
    char dataset[64], dataset_sha256[65];
    rcl_normalization norm; /* the input normalisation it was trained with (fill: 0.5/0.5) */
    int global_batch; /* images per step over all data-parallel ranks (0: not recorded) */
} rcl_checkpoint_info;

void rcl_checkpoint_info_fill(rcl_checkpoint_info *info, rcl_model *m, const rcl_dataset *ds, uint64_t seed,
                              const rcl_train_state *st, int total_epochs, double lr);

/* with_optimizer: also the momentum buffers and the dropout stream. */
rcl_status rcl_checkpoint_save(rcl_model *m, const char *path, const rcl_checkpoint_info *info, int with_optimizer);

typedef enum {
    RCL_CKPT_EVAL,     /* weights and BN statistics; the architecture must match exactly */
    RCL_CKPT_RESUME,   /* + optimizer and RNG state; *state receives the position */
    RCL_CKPT_FINETUNE, /* trunk from the file; the head too when its shape matches, else a new head */
    RCL_CKPT_TRUNK,    /* trunk from the file and always a new head (spec §4 fine-tuning) */
} rcl_checkpoint_mode;
rcl_status rcl_checkpoint_load(rcl_model *m, const char *path, rcl_checkpoint_mode mode, rcl_train_state *state);

/* The global batch a run was checkpointed with (0 when not recorded): `batch` and `step`
 * count global batches, so a resume with another number of ranks needs the same global batch. */
rcl_status rcl_checkpoint_read_global_batch(const char *path, int *global_batch);

/* The input normalisation a checkpoint was trained with ("normalisation" metadata:
 * "mean=M1,M2,M3 std=S1,S2,S3"); 0.5/0.5 for checkpoints that predate it. */
rcl_status rcl_checkpoint_read_normalization(const char *path, rcl_normalization *norm);

/* The model configuration a checkpoint was saved with (for building the model to load it into). */
rcl_status rcl_checkpoint_read_config(const char *path, rcl_wrn_config *cfg);

/* Converts an official PyTorch WRN state_dict (.pt: zip or legacy serialisation,
 * "module." prefixes stripped) into a robustcl checkpoint; the architecture and the input
 * channels are read off the shapes (*cfg receives them; in_c > 0 must agree), the input size
 * must be given. */
rcl_status rcl_checkpoint_import_torch(const char *pt_path, const char *out_path, int in_c, int in_h, int in_w,
                                       rcl_wrn_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
