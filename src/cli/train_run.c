#include "train_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/adversarial.h"
#include "robustcl/checkpoint.h"
#include "robustcl/dist.h"
#include "core/fileio.h"

void rcl_train_run_defaults(rcl_train_run_options *o) {
    memset(o, 0, sizeof *o);
    o->data = "fashion-mnist";
    o->arch = "wrn-40-2";
    o->lr = 0.1;
    o->wd = 5e-4;
    o->epochs = 1;
    o->batch = 128;
    o->seed = 1;
    o->augment = 1;
    o->norm = rcl_normalization_half();
    o->bn_split = 1;
    o->dist_timeout = 600;
}

typedef struct {
    const rcl_train_run_options *o;
    const rcl_dataset *train;
    const char *gemm;
    const rcl_normalization *norm;
} ckpt_ctx;

static rcl_status save_checkpoint(void *vctx, rcl_model *m, const rcl_train_state *st, int final) {
    ckpt_ctx *c = vctx;
    if (!c->o->out)
        return RCL_OK;
    rcl_checkpoint_info info;
    rcl_checkpoint_info_fill(&info, m, c->train, c->o->seed, st, c->o->epochs, c->o->lr);
    info.global_batch = c->o->batch * rcl_dist_size();
    info.norm = *c->norm;
    if (!final && c->o->keep > 0) {
        char path[4200];
        snprintf(path, sizeof path, "%s.step%ld", c->o->out, st->step);
        RCL_TRY(rcl_checkpoint_save(m, path, &info, 1));
        if (st->step > 0 && c->o->every_steps > 0) { /* drop the one that fell out of the window */
            snprintf(path, sizeof path, "%s.step%ld", c->o->out, st->step - c->o->every_steps * c->o->keep);
            remove(path);
        }
    }
    return rcl_checkpoint_save(m, c->o->out, &info, 1);
}

/* Batch-norm statistics summed over the ranks (--sync-bn). */
static rcl_status bn_sum(void *ctx, float *buf, int n) {
    (void)ctx;
    return rcl_dist_sum(buf, (size_t)n);
}
static const rcl_bn_sync bn_sync_all = {bn_sum, NULL};

/* One run's state, from the data to the trained model. */
typedef struct {
    const rcl_train_run_options *o;
    rcl_dataset train, test;
    rcl_session s; /* the device and the model */
    FILE *log;
    rcl_train_state start;
    rcl_step_hooks adv;
    rcl_normalization norm;
    int rank, ranks;
} train_run;

static rcl_status write_result(const train_run *r, const rcl_train_result *res) {
    const rcl_train_run_options *o = r->o;
    rcl_json_writer w; /* in memory, then written atomically: a result file is whole or absent */
    rcl_jw_init(&w, NULL, 2);
    rcl_jw_begin_object(&w);
    rcl_jw_key(&w, "command");
    rcl_jw_string(&w, "train");
    rcl_jw_key(&w, "arch");
    rcl_jw_string(&w, o->arch);
    rcl_jw_key(&w, "epochs");
    rcl_jw_int(&w, o->epochs);
    rcl_jw_key(&w, "batch");
    rcl_jw_int(&w, o->batch);
    rcl_jw_key(&w, "lr");
    rcl_jw_number(&w, o->lr);
    rcl_jw_key(&w, "dropout");
    rcl_jw_number(&w, o->dropout);
    rcl_jw_key(&w, "test_error");
    rcl_jw_number(&w, res->test_error);
    rcl_jw_key(&w, "test_accuracy");
    rcl_jw_number(&w, res->test_error >= 0 ? 1 - res->test_error : -1);
    rcl_jw_key(&w, "train_loss");
    rcl_jw_number(&w, res->train_loss);
    rcl_jw_key(&w, "train_error");
    rcl_jw_number(&w, res->train_error);
    rcl_jw_key(&w, "seconds");
    rcl_jw_number(&w, res->seconds);
    rcl_jw_key(&w, "images_per_second");
    rcl_jw_number(&w, res->images_per_s);
    rcl_jw_key(&w, "steps");
    rcl_jw_int(&w, res->steps);
    uint64_t bytes;
    double comm_s;
    long calls;
    rcl_dist_stats(&bytes, &comm_s, &calls);
    rcl_jw_key(&w, "ranks");
    rcl_jw_int(&w, rcl_dist_size());
    rcl_jw_key(&w, "global_batch");
    rcl_jw_int(&w, o->batch * rcl_dist_size());
    rcl_jw_key(&w, "allreduce_bytes_per_step");
    rcl_jw_number(&w, res->steps > 0 ? (double)bytes / res->steps : 0);
    rcl_jw_key(&w, "allreduce_seconds");
    rcl_jw_number(&w, comm_s);
    rcl_jw_key(&w, "test_set");
    rcl_jw_string(&w, r->test.name);
    rcl_jw_key(&w, "provenance");
    rcl_provenance_json(&w, o->run, r->s.device, r->s.model, &r->train, (uint64_t)o->seed);
    rcl_jw_end_object(&w);
    return rcl_jw_save(&w, o->json);
}

/* This rank's device (the run configuration's selector by local rank) and the model on it,
 * initialised from the seed, its batch norm as asked. */
static rcl_status open_model(train_run *r) {
    const rcl_train_run_options *o = r->o;
    rcl_session_spec spec = {.gate = 1, .arch = o->arch, .data = &r->train, .dropout = (float)o->dropout,
                             .seed = (uint64_t)o->seed, .batch = o->batch, .norm = &o->norm};
    RCL_TRY(rcl_session_open(o->run, &spec, &r->s));
    int sync = o->sync_bn && r->ranks > 1;
    if (o->bn_split > 1 || sync)
        RCL_TRY(rcl_model_set_bn(r->s.model, o->bn_split, sync ? &bn_sync_all : NULL));
    return RCL_OK;
}

/* --resume: the checkpoint in --out must match this run's global batch and normalisation;
 * the run then continues as it started, from the saved state. */
static rcl_status resume(train_run *r) {
    const rcl_train_run_options *o = r->o;
    int gb = 0, ranks = r->ranks;
    RCL_TRY(rcl_checkpoint_read_global_batch(o->out, &gb));
    if (gb > 0 && gb != o->batch * ranks)
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: trained with a global batch of %d images, but --batch %d on %d "
                        "rank(s) makes %d: use --batch %d%s", o->out, gb, o->batch, ranks, o->batch * ranks,
                        gb / ranks, gb % ranks ? " (not divisible: choose another number of ranks)" : "");
    rcl_normalization saved;
    char a[96], b[96];
    RCL_TRY(rcl_checkpoint_read_normalization(o->out, &saved));
    if (o->norm_given && !rcl_normalization_equal(&saved, &o->norm))
        return rcl_fail(RCL_ERR_INVALID_ARG, "%s: trained with --normalize %s, a resume cannot switch to %s", o->out,
                        rcl_normalization_name(&saved, a, sizeof a), rcl_normalization_name(&o->norm, b, sizeof b));
    r->norm = saved; /* a resume continues as it started */
    RCL_TRY(rcl_checkpoint_load(r->s.model, o->out, RCL_CKPT_RESUME, &r->start));
    if (r->rank == 0)
        fprintf(stderr, "robustcl: resuming %s at epoch %d, batch %d (step %ld)\n", o->out, r->start.epoch + 1,
                r->start.batch, r->start.step);
    return RCL_OK;
}

/* Where the weights start (--resume, --init or the seed), which train (--freeze-trunk), and the
 * adversarial training hooks (--adv-train). */
static rcl_status prepare(train_run *r) {
    const rcl_train_run_options *o = r->o;
    rcl_model *m = r->s.model;
    rcl_normalization norm;
    if (r->rank == 0 && o->out && !o->resume)
        RCL_TRY(rcl_file_check_writable(o->out)); /* before any training time is spent */
    if (o->resume)
        RCL_TRY(resume(r));
    else if (o->init)
        RCL_TRY(rcl_checkpoint_load(m, o->init, RCL_CKPT_FINETUNE, NULL));
    norm = r->norm;
    if (o->freeze_trunk)
        rcl_model_freeze_trunk(m);
    if (o->adv_train) {
        rcl_attack_config ac;
        RCL_TRY(rcl_attack_parse(o->adv_train, &ac));
        ac.norm = norm;
        RCL_TRY(rcl_adv_train_hooks(&ac, m, &r->adv));
    }
    if (r->rank == 0 && o->log && !(r->log = fopen(o->log, o->resume ? "a" : "w")))
        return rcl_fail(RCL_ERR_IO, "%s: cannot open the log", o->log);
    return RCL_OK;
}

static void announce(const train_run *r) {
    const rcl_train_run_options *o = r->o;
    const rcl_dataset *train = &r->train;
    if (r->rank != 0)
        return;
    fprintf(stderr, "robustcl: %s on %s: %s %d images %dx%dx%d, %d classes, %zu weights, %d epochs, batch %d%s\n",
            o->arch, rcl_device_get_info(r->s.device)->name, train->name, train->n, train->c, train->h, train->w,
            train->num_classes, rcl_model_num_weights(r->s.model), o->epochs, o->batch,
            r->ranks > 1 ? " per rank" : "");
    if (r->ranks > 1)
        fprintf(stderr, "robustcl: %d ranks, global batch %d, batch-norm statistics %s\n", r->ranks,
                o->batch * r->ranks, o->sync_bn ? "over all ranks (--sync-bn)" : "per rank");
}

/* The trainer's configuration: the options, the resumed state, the checkpoint callback. */
static rcl_train_config train_config(train_run *r, ckpt_ctx *cc) {
    const rcl_train_run_options *o = r->o;
    rcl_normalization norm = r->norm;
    rcl_train_config tc = rcl_train_defaults();
    tc.epochs = o->epochs;
    tc.batch = o->batch;
    tc.lr = o->lr;
    tc.wd = o->wd;
    tc.seed = (uint64_t)o->seed;
    tc.augment = o->augment;
    tc.pad = r->train.h >= 64 ? 8 : 4;
    tc.test = &r->test;
    tc.log = r->log;
    tc.stop = o->stop;
    tc.start = r->start;
    tc.label = "train";
    tc.norm = norm;
    tc.checkpoint = save_checkpoint;
    tc.checkpoint_ctx = cc;
    tc.checkpoint_every_steps = o->every_steps;
    tc.checkpoint_every_minutes = o->every_minutes;
    tc.hooks = o->adv_train ? &r->adv : NULL;
    return tc;
}

/* Rank 0 prints the result (and the allreduce traffic of a multi-rank run) and writes --json. */
static rcl_status report(const train_run *r, const rcl_train_result *res) {
    if (r->rank != 0)
        return RCL_OK;
    printf("test error %.2f%% (accuracy %.2f%%) on %s; %.1f s, %.1f images/s\n", 100 * res->test_error,
           100 * (1 - res->test_error), r->test.name, res->seconds, res->images_per_s);
    if (r->ranks > 1) {
        uint64_t bytes;
        double comm_s;
        long calls;
        rcl_dist_stats(&bytes, &comm_s, &calls);
        printf("allreduce: %.3f MB per step, %.1f s in %ld calls (%.1f%% of the run) on rank 0\n",
               res->steps > 0 ? bytes / 1e6 / res->steps : 0.0, comm_s, calls,
               res->seconds > 0 ? 100 * comm_s / res->seconds : 0.0);
    }
    return r->o->json ? write_result(r, res) : RCL_OK;
}

rcl_status rcl_train_run(const rcl_train_run_options *o) {
    train_run r = {0};
    r.o = o;
    r.norm = o->norm;
    r.rank = rcl_dist_rank();
    r.ranks = rcl_dist_size();
    rcl_train_result res;
    ckpt_ctx cc = {o, &r.train, NULL, &r.norm};
    rcl_status s = rcl_dataset_load(o->data, 1, &r.train);
    if (s == RCL_OK)
        s = rcl_dataset_load(o->test ? o->test : o->data, 0, &r.test);
    if (s == RCL_OK && (s = open_model(&r)) == RCL_OK && (s = prepare(&r)) == RCL_OK) {
        announce(&r);
        rcl_train_config tc = train_config(&r, &cc);
        if ((s = rcl_train(r.s.model, &r.train, NULL, 0, &tc, &res)) == RCL_OK)
            s = report(&r, &res);
    }
    if (o->adv_train)
        rcl_adv_train_hooks_free(&r.adv);
    if (r.log)
        fclose(r.log);
    rcl_session_close(&r.s);
    rcl_dataset_free(&r.train);
    rcl_dataset_free(&r.test);
    return s;
}
