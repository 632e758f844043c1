#include "run_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/adversarial.h"
#include "robustcl/checkpoint.h"
#include "robustcl/dist.h"
#include "core/fileio.h"

void rcl_run_options_default(rcl_run_options *o) {
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

int rcl_run_option(rcl_run_options *o, rcl_args *a) {
    if (rcl_args_is(a, "--data")) return (o->data = rcl_args_str(a)) != NULL;
    if (rcl_args_is(a, "--test")) return (o->test = rcl_args_str(a)) != NULL;
    if (rcl_args_is(a, "--arch")) return (o->arch = rcl_args_str(a)) != NULL;
    if (rcl_args_is(a, "--device")) return (o->device = rcl_args_str(a)) != NULL;
    if (rcl_args_is(a, "--out")) return (o->out = rcl_args_str(a)) != NULL;
    if (rcl_args_is(a, "--init")) return (o->init = rcl_args_str(a)) != NULL;
    if (rcl_args_is(a, "--log")) return (o->log = rcl_args_str(a)) != NULL;
    if (rcl_args_is(a, "--json")) return (o->json = rcl_args_str(a)) != NULL;
    if (rcl_args_is(a, "--adv-train")) return (o->adv_train = rcl_args_str(a)) != NULL;
    if (rcl_args_is(a, "--freeze-trunk")) return (o->freeze_trunk = 1) == 1;
    if (rcl_args_is(a, "--dropout")) return rcl_args_double(a, 0, 0.99, &o->dropout);
    if (rcl_args_is(a, "--lr")) return rcl_args_double(a, 1e-9, 100, &o->lr);
    if (rcl_args_is(a, "--wd")) return rcl_args_double(a, 0, 1, &o->wd);
    if (rcl_args_is(a, "--epochs")) return rcl_args_int(a, 1, 100000, &o->epochs);
    if (rcl_args_is(a, "--batch")) return rcl_args_int(a, 1, 65536, &o->batch);
    if (rcl_args_is(a, "--seed")) return rcl_args_int(a, 0, 2147483647, &o->seed);
    if (rcl_args_is(a, "--keep")) return rcl_args_int(a, 0, 1000, &o->keep);
    if (rcl_args_is(a, "--conv-algo")) return rcl_args_conv_algo(a);
    if (rcl_args_is(a, "--max-device-mem")) return rcl_args_int(a, 1, 1 << 24, &o->max_device_mem_mib);
    if (rcl_args_is(a, "--bn-split")) return rcl_args_int(a, 1, 1024, &o->bn_split);
    if (rcl_args_is(a, "--sync-bn")) return (o->sync_bn = 1) == 1;
    if (rcl_args_is(a, "--dist-timeout")) return rcl_args_double(a, 0.1, 1e7, &o->dist_timeout);
    if (rcl_args_is(a, "--no-augment")) return (o->augment = 0) == 0;
    if (rcl_args_is(a, "--resume")) return (o->resume = 1) == 1;
    if (rcl_args_is(a, "--force")) return (o->force = 1) == 1;
    if (rcl_args_is(a, "--normalize")) {
        const char *v = rcl_args_str(a);
        if (v && rcl_normalization_parse(v, &o->norm) != RCL_OK) {
            rcl_cli_usage(a->cmd, "--normalize: %s", rcl_last_error());
            a->bad = 1;
            return 0;
        }
        return (o->norm_given = v != NULL);
    }
    if (rcl_args_is(a, "--checkpoint-every")) {
        const char *v = rcl_args_str(a);
        char *end;
        if (!v)
            return 0;
        double x = strtod(v, &end);
        if (end == v || !(x > 0 && x <= 1e9) || (*end && strcmp(end, "m"))) {
            rcl_cli_usage(a->cmd, "--checkpoint-every '%s': expected N (steps) or Nm (minutes), 0 < N <= 1e9", v);
            a->bad = 1;
            return 0;
        }
        if (*end == 'm')
            o->every_minutes = x;
        else
            o->every_steps = (long)x;
        return 1;
    }
    return -1;
}

typedef struct {
    const rcl_run_options *o;
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

static rcl_status write_result(const rcl_run_options *o, rcl_model *m, const rcl_dataset *train,
                               const rcl_dataset *test, const rcl_train_result *r) {
    FILE *f = fopen(o->json, "w");
    if (!f)
        return rcl_fail(RCL_ERR_IO, "%s: cannot create the result file", o->json);
    rcl_json_writer w;
    rcl_jw_init(&w, f, 2);
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
    rcl_jw_number(&w, r->test_error);
    rcl_jw_key(&w, "test_accuracy");
    rcl_jw_number(&w, r->test_error >= 0 ? 1 - r->test_error : -1);
    rcl_jw_key(&w, "train_loss");
    rcl_jw_number(&w, r->train_loss);
    rcl_jw_key(&w, "train_error");
    rcl_jw_number(&w, r->train_error);
    rcl_jw_key(&w, "seconds");
    rcl_jw_number(&w, r->seconds);
    rcl_jw_key(&w, "images_per_second");
    rcl_jw_number(&w, r->images_per_s);
    rcl_jw_key(&w, "steps");
    rcl_jw_int(&w, r->steps);
    uint64_t bytes;
    double comm_s;
    long calls;
    rcl_dist_stats(&bytes, &comm_s, &calls);
    rcl_jw_key(&w, "ranks");
    rcl_jw_int(&w, rcl_dist_size());
    rcl_jw_key(&w, "global_batch");
    rcl_jw_int(&w, o->batch * rcl_dist_size());
    rcl_jw_key(&w, "allreduce_bytes_per_step");
    rcl_jw_number(&w, r->steps > 0 ? (double)bytes / r->steps : 0);
    rcl_jw_key(&w, "allreduce_seconds");
    rcl_jw_number(&w, comm_s);
    rcl_jw_key(&w, "test_set");
    rcl_jw_string(&w, test ? test->name : "");
    rcl_jw_key(&w, "provenance");
    rcl_checkpoint_provenance_json(&w, m, train, (uint64_t)o->seed);
    rcl_jw_end_object(&w);
    rcl_status s = rcl_jw_finish(&w);
    if (fclose(f) != 0 && s == RCL_OK)
        s = rcl_fail(RCL_ERR_IO, "%s: write failed", o->json);
    return s;
}

/* Batch-norm statistics summed over the ranks (--sync-bn). */
static rcl_status bn_sum(void *ctx, float *buf, int n) {
    (void)ctx;
    return rcl_dist_sum(buf, (size_t)n);
}
static const rcl_bn_sync bn_sync_all = {bn_sum, NULL};

/* This rank's device: item (local rank mod count) of a comma-separated --device list; without
 * --device, the local rank's GPU when there are GPUs, else the default device. */
static rcl_status rank_device(const rcl_run_options *o, char *sel, size_t cap, const char **out) {
    int lr = rcl_dist_local_rank();
    *out = o->device;
    if (rcl_dist_size() < 2)
        return RCL_OK;
    if (o->device) {
        int items = 1;
        for (const char *p = o->device; *p; p++)
            items += *p == ',';
        const char *p = o->device;
        for (int i = 0; i < lr % items; i++)
            p = strchr(p, ',') + 1;
        size_t len = strcspn(p, ",");
        snprintf(sel, cap, "%.*s", (int)len, p);
        *out = sel;
        return RCL_OK;
    }
    if (getenv("ROBUSTCL_DEVICE"))
        return RCL_OK;
    rcl_device_info *infos;
    int count, gpus = 0;
    RCL_TRY(rcl_device_list(&infos, &count));
    for (int i = 0; i < count; i++)
        gpus += infos[i].is_gpu;
    for (int i = 0, g = 0; i < count && gpus; i++)
        if (infos[i].is_gpu && g++ == lr % gpus) {
            snprintf(sel, cap, "%d:%d", infos[i].platform_index, infos[i].device_index);
            *out = sel;
        }
    free(infos);
    return RCL_OK;
}

rcl_status rcl_run_train(const rcl_run_options *o) {
    rcl_wrn_config cfg = {0};
    RCL_TRY(rcl_wrn_parse_arch(o->arch, &cfg));
    rcl_dataset train = {0}, test = {0};
    RCL_TRY(rcl_dataset_load(o->data, 1, &train));
    rcl_status s = rcl_dataset_load(o->test ? o->test : o->data, 0, &test);
    rcl_device *d = NULL;
    rcl_model *m = NULL;
    FILE *log = NULL;
    rcl_train_state start = {0, 0, 0};
    rcl_step_hooks adv = {0};
    rcl_normalization norm = o->norm;
    if (s != RCL_OK)
        goto done;
    cfg.in_c = train.c;
    cfg.in_h = train.h;
    cfg.in_w = train.w;
    cfg.num_classes = train.num_classes;
    cfg.dropout = (float)o->dropout;
    cfg.fc_bias = 1;
    int rank = rcl_dist_rank(), ranks = rcl_dist_size();
    char sel[256];
    rcl_device_options dopt = {0};
    if ((s = rank_device(o, sel, sizeof sel, &dopt.selector)) != RCL_OK)
        goto done;
    dopt.max_device_mem = (size_t)o->max_device_mem_mib << 20;
    dopt.notice = rcl_progress_notice;
    if ((s = rcl_device_open(&dopt, &d)) != RCL_OK || (s = rcl_selftest_gate(d, o->force)) != RCL_OK ||
        (s = rcl_model_create(d, &cfg, o->batch, &m)) != RCL_OK || (s = rcl_model_init(m, (uint64_t)o->seed)) != RCL_OK)
        goto done;
    if ((o->bn_split > 1 || (o->sync_bn && ranks > 1)) &&
        (s = rcl_model_set_bn(m, o->bn_split, o->sync_bn && ranks > 1 ? &bn_sync_all : NULL)) != RCL_OK)
        goto done;
    if (rank == 0 && o->out && !o->resume && (s = rcl_file_check_writable(o->out)) != RCL_OK)
        goto done; /* before any training time is spent */
    if (o->resume) {
        int gb = 0;
        if ((s = rcl_checkpoint_read_global_batch(o->out, &gb)) != RCL_OK)
            goto done;
        if (gb > 0 && gb != o->batch * ranks) {
            s = rcl_fail(RCL_ERR_INVALID_ARG, "%s: trained with a global batch of %d images, but --batch %d on %d "
                         "rank(s) makes %d: use --batch %d%s", o->out, gb, o->batch, ranks, o->batch * ranks,
                         gb / ranks, gb % ranks ? " (not divisible: choose another number of ranks)" : "");
            goto done;
        }
        rcl_normalization saved;
        char a[96], b[96];
        if ((s = rcl_checkpoint_read_normalization(o->out, &saved)) != RCL_OK)
            goto done;
        if (o->norm_given && !rcl_normalization_equal(&saved, &o->norm)) {
            s = rcl_fail(RCL_ERR_INVALID_ARG, "%s: trained with --normalize %s, a resume cannot switch to %s", o->out,
                         rcl_normalization_name(&saved, a, sizeof a), rcl_normalization_name(&o->norm, b, sizeof b));
            goto done;
        }
        norm = saved; /* a resume continues as it started */
        if ((s = rcl_checkpoint_load(m, o->out, RCL_CKPT_RESUME, &start)) != RCL_OK)
            goto done;
        if (rank == 0)
            fprintf(stderr, "robustcl: resuming %s at epoch %d, batch %d (step %ld)\n", o->out, start.epoch + 1,
                    start.batch, start.step);
    } else if (o->init) {
        if ((s = rcl_checkpoint_load(m, o->init, RCL_CKPT_FINETUNE, NULL)) != RCL_OK)
            goto done;
    }
    if (o->freeze_trunk)
        rcl_model_freeze_trunk(m);
    if (o->adv_train) {
        rcl_attack_config ac;
        if ((s = rcl_attack_parse(o->adv_train, &ac)) != RCL_OK)
            goto done;
        ac.norm = norm;
        if ((s = rcl_adv_train_hooks(&ac, m, &adv)) != RCL_OK)
            goto done;
    }
    if (rank == 0 && o->log && !(log = fopen(o->log, o->resume ? "a" : "w"))) {
        s = rcl_fail(RCL_ERR_IO, "%s: cannot open the log", o->log);
        goto done;
    }
    const rcl_device_info *di = rcl_device_get_info(d);
    if (rank == 0)
        fprintf(stderr, "robustcl: %s on %s: %s %d images %dx%dx%d, %d classes, %zu weights, %d epochs, batch %d%s\n",
                o->arch, di->name, train.name, train.n, train.c, train.h, train.w, train.num_classes,
                rcl_model_num_weights(m), o->epochs, o->batch, ranks > 1 ? " per rank" : "");
    if (rank == 0 && ranks > 1)
        fprintf(stderr, "robustcl: %d ranks, global batch %d, batch-norm statistics %s\n", ranks, o->batch * ranks,
                o->sync_bn ? "over all ranks (--sync-bn)" : "per rank");
    rcl_train_config tc = rcl_train_defaults();
    tc.epochs = o->epochs;
    tc.batch = o->batch;
    tc.lr = o->lr;
    tc.wd = o->wd;
    tc.seed = (uint64_t)o->seed;
    tc.augment = o->augment;
    tc.pad = train.h >= 64 ? 8 : 4;
    tc.test = &test;
    tc.log = log;
    tc.stop = o->stop;
    tc.start = start;
    tc.label = "train";
    tc.norm = norm;
    ckpt_ctx cc = {o, &train, NULL, &norm};
    tc.checkpoint = save_checkpoint;
    tc.checkpoint_ctx = &cc;
    tc.checkpoint_every_steps = o->every_steps;
    tc.checkpoint_every_minutes = o->every_minutes;
    tc.hooks = o->adv_train ? &adv : NULL;
    rcl_train_result r;
    s = rcl_train(m, &train, NULL, 0, &tc, &r);
    if (s == RCL_OK && rank == 0) {
        printf("test error %.2f%% (accuracy %.2f%%) on %s; %.1f s, %.1f images/s\n", 100 * r.test_error,
               100 * (1 - r.test_error), test.name, r.seconds, r.images_per_s);
        if (ranks > 1) {
            uint64_t bytes;
            double comm_s;
            long calls;
            rcl_dist_stats(&bytes, &comm_s, &calls);
            printf("allreduce: %.3f MB per step, %.1f s in %ld calls (%.1f%% of the run) on rank 0\n",
                   r.steps > 0 ? bytes / 1e6 / r.steps : 0.0, comm_s, calls,
                   r.seconds > 0 ? 100 * comm_s / r.seconds : 0.0);
        }
        if (o->json)
            s = write_result(o, m, &train, &test, &r);
    }
done:
    if (o->adv_train)
        rcl_adv_train_hooks_free(&adv);
    if (log)
        fclose(log);
    rcl_model_free(m);
    rcl_device_close(d);
    rcl_dataset_free(&train);
    rcl_dataset_free(&test);
    return s;
}
