/* One stage of a suite: build the model (scratch or a pre-trained trunk with a
 * new head), train it (plain, class-weighted, Forward/GLC, adversarial, trunk
 * frozen), evaluate it, and keep the result in the stage cache. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "robustcl/checkpoint.h"
#include "core/fileio.h"
#include "robustcl/metrics.h"
#include "core/progress.h"
#include "robustcl/train.h"
#include "report_provenance.h"
#include "suite_eval.h"
#include "suite_internal.h"

uint64_t rcl_suite_hash(uint64_t h, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return rcl_fnv1a(h, buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1));
}

static int exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

static const char *arm_name(const rcl_stage_spec *sp) { return sp->pretrained ? "pretrained" : "scratch"; }

static void stage_id(const rcl_stage_spec *sp, char *id, size_t cap) {
    if (sp->id)
        snprintf(id, cap, "%s", sp->id);
    else
        snprintf(id, cap, "%s%s%s/%g/%s/%s/seed=%d", sp->dataset, sp->dataset[0] ? "/" : "", sp->experiment,
                 sp->setting, sp->method, arm_name(sp), sp->seed);
}

static uint64_t attack_hash(uint64_t h, const rcl_attack_config *a) {
    char desc[256];
    return a ? rcl_suite_hash(h, "|%s", rcl_attack_describe(a, desc, sizeof desc)) : rcl_suite_hash(h, "|-");
}

/* Stages without corruptions keep the keys they had before; with them, a stage cached without
 * the mce (or with other images, corruptions or seed) re-runs. */
static uint64_t corruption_hash(uint64_t h, const rcl_stage_spec *sp) {
    if (sp->corrupted_dir)
        return rcl_suite_hash(h, "|corrupted %s", sp->corrupted_dir);
    if (!sp->corrupt_test)
        return h;
    h = rcl_suite_hash(h, "|corrupt %s %d seed %" PRIu64, sp->corrupt_test->name, sp->corrupt_test->n,
                       sp->corrupt_seed);
    for (int i = 0; i < sp->n_corruptions; i++)
        h = rcl_suite_hash(h, ",%d", sp->corruptions[i]);
    return h;
}

/* The AutoAttack a stage runs: its settings with the run's seed (the normalisation is the stage's,
 * set where it runs). */
static rcl_autoattack_config autoattack_of(const rcl_stage_spec *sp) {
    rcl_autoattack_config c = *sp->autoattack;
    c.seed = (uint64_t)sp->seed;
    return c;
}

/* Stages without AutoAttack keep the keys they had before; with it, a stage cached without it (or
 * with other settings) re-runs. */
static uint64_t autoattack_hash(uint64_t h, const rcl_stage_spec *sp) {
    if (!sp->autoattack)
        return h;
    char desc[256];
    rcl_autoattack_config c = autoattack_of(sp);
    return rcl_suite_hash(h, "|%s", rcl_autoattack_describe(&c, desc, sizeof desc));
}

uint64_t rcl_stage_hash(const rcl_stage_spec *sp) {
    char id[160];
    stage_id(sp, id, sizeof id);
    const rcl_wrn_config *n = &sp->net;
    uint64_t h = rcl_suite_hash(RCL_FNV_INIT, "stage v2|%s|%dx%dx%d|%d-%d|%d|%g|%d|%d|%d|%d|%g|%" PRIu64 "|%" PRIx64
                                "|%d|%" PRIu64 "|%d|%d|%d|%d|%d|%" PRIx64, id, n->in_c, n->in_h, n->in_w, n->depth,
                                n->widen, n->num_classes, n->dropout, n->fc_bias, sp->batch, sp->epochs, sp->min_steps,
                                sp->lr, sp->init_seed, sp->init_path ? sp->init_hash : 0, sp->freeze_trunk,
                                sp->train_seed, sp->noise ? (int)sp->noise->method : -1, sp->n_ood, sp->calibration,
                                sp->val ? sp->val->n : 0, sp->test ? sp->test->n : 0, sp->extra_hash);
    h = attack_hash(h, sp->adv_train);
    h = attack_hash(h, sp->adv_eval);
    rcl_normalization half = rcl_normalization_half();
    char name[96];
    if (sp->norm && !rcl_normalization_equal(sp->norm, &half)) /* 0.5/0.5 keeps the keys stages had before */
        h = rcl_suite_hash(h, "|norm %s", rcl_normalization_name(sp->norm, name, sizeof name));
    return autoattack_hash(corruption_hash(h, sp), sp);
}

static rcl_normalization norm_of(const rcl_stage_spec *sp) {
    return sp->norm ? *sp->norm : rcl_normalization_half();
}

/* The attack with the stage's input normalisation. */
static rcl_attack_config attack_of(const rcl_stage_spec *sp, const rcl_attack_config *a) {
    rcl_attack_config c = *a;
    c.norm = norm_of(sp);
    return c;
}

/* ---- the model ---- */

static rcl_status model_reinit(void *ctx, rcl_model *m) {
    const rcl_stage_spec *sp = ctx;
    RCL_TRY(rcl_model_init(m, sp->init_seed));
    return sp->init_path ? rcl_checkpoint_load(m, sp->init_path, RCL_CKPT_TRUNK, NULL) : RCL_OK;
}

static rcl_status model_new(rcl_stage_env *env, const rcl_stage_spec *sp, rcl_model **m) {
    RCL_TRY(rcl_model_create(env->d, &sp->net, sp->batch, m));
    rcl_status s = model_reinit((void *)sp, *m);
    if (s == RCL_OK && sp->freeze_trunk)
        rcl_model_freeze_trunk(*m);
    if (s != RCL_OK) {
        rcl_model_free(*m);
        *m = NULL;
    }
    return s;
}

static int epochs_for(const rcl_stage_spec *sp, int images) {
    int per_epoch = (images + sp->batch - 1) / sp->batch;
    int need = sp->min_steps > 0 ? (sp->min_steps + per_epoch - 1) / per_epoch : 0;
    return need > sp->epochs ? need : sp->epochs;
}

static rcl_status train(rcl_stage_env *env, const rcl_stage_spec *sp, rcl_model *m, rcl_run_result *r) {
    int images = sp->indices ? sp->count : sp->train->n;
    rcl_train_config tc = rcl_train_defaults();
    tc.batch = sp->batch;
    tc.lr = sp->lr;
    tc.epochs = epochs_for(sp, images);
    tc.seed = sp->train_seed;
    tc.stop = env->stop;
    tc.label = sp->save_path ? "  pre-train" : "  train";
    tc.class_weights = sp->class_weights;
    tc.norm = norm_of(sp);
    rcl_step_hooks adv = {0};
    if (sp->adv_train) {
        rcl_attack_config ac = attack_of(sp, sp->adv_train);
        RCL_TRY(rcl_adv_train_hooks(&ac, m, &adv));
        tc.hooks = &adv;
    }
    rcl_train_result tr;
    rcl_status s;
    if (sp->noise) {
        rcl_noise_run nr = *sp->noise;
        nr.reinit = model_reinit;
        nr.reinit_ctx = (void *)sp;
        rcl_noise_result res;
        s = rcl_noise_train(m, sp->train, &nr, &tc, NULL, &res);
        tr = res.result;
        tr.seconds += res.phase1.seconds;
    } else {
        s = rcl_train(m, sp->train, sp->indices, sp->count, &tc, &tr);
    }
    if (sp->adv_train)
        rcl_adv_train_hooks_free(&adv);
    if (s == RCL_OK) {
        rcl_run_set(r, "train_seconds", tr.seconds);
        rcl_run_set(r, "steps", (double)tr.steps);
        rcl_run_set(r, "lr", sp->lr); /* with the steps: the run's recipe, which the report states */
    }
    if (s == RCL_OK && sp->save_path) {
        rcl_checkpoint_info info;
        rcl_train_state st = {tc.epochs, 0, tr.steps};
        rcl_checkpoint_info_fill(&info, m, sp->train, sp->train_seed, &st, tc.epochs, sp->lr);
        info.norm = tc.norm;
        s = rcl_checkpoint_save(m, sp->save_path, &info, 0);
    }
    return s;
}

static rcl_status evaluate(const rcl_stage_spec *sp, rcl_model *m, const char *id, rcl_run_result *r) {
    char dump[4400] = "";
    if (sp->n_ood > 0 && sp->dump_dir) { /* per-sample scores, so any metric can be recomputed */
        RCL_TRY(rcl_mkdirs(sp->dump_dir));
        char safe[160];
        size_t j = 0;
        for (; id[j] && j + 1 < sizeof safe; j++)
            safe[j] = id[j] == '/' ? '_' : id[j];
        safe[j] = 0;
        snprintf(dump, sizeof dump, "%s/%s.tsv", sp->dump_dir, safe);
    }
    rcl_normalization norm = norm_of(sp);
    RCL_TRY(rcl_suite_eval(m, &norm, sp->test, sp->val, sp->ood, sp->ood_names, sp->n_ood, sp->minority, sp->calibration,
                           (uint64_t)sp->seed * 31u, dump[0] ? dump : NULL, r));
    if (sp->corrupt_test || sp->corrupted_dir)
        RCL_TRY(rcl_suite_corruption_eval(m, &norm, sp->corrupt_test, sp->corruptions, sp->n_corruptions,
                                          sp->corrupt_seed, sp->corrupted_dir, rcl_run_get(r, "error", NAN), r));
    if (sp->adv_eval) {
        rcl_adv_result ar;
        rcl_attack_config ac = attack_of(sp, sp->adv_eval);
        RCL_TRY(rcl_adv_evaluate(m, sp->test, NULL, 0, &ac, &ar));
        rcl_run_set(r, "clean_accuracy", 100 * ar.clean_accuracy);
        rcl_run_set(r, "adversarial_accuracy", 100 * ar.adv_accuracy);
        rcl_run_set(r, "max_linf", ar.max_linf);
        rcl_run_set(r, "zero_gradient_inputs", (double)ar.zero_grad);
    }
    if (!sp->autoattack)
        return RCL_OK;
    rcl_autoattack_config aa = autoattack_of(sp);
    return rcl_suite_autoattack_eval(m, &norm, sp->test, &aa, r);
}

static void log_run(const rcl_stage_env *env, const rcl_run_result *r, int cached) {
    rcl_device_notice(env->d, "[%6.0fs] %-56s %s error %.2f%%", rcl_now() - env->t0, r->id,
                      cached ? "cached " : "done   ", rcl_run_get(r, "error", 0.0 / 0.0));
}

rcl_status rcl_stage_run(rcl_stage_env *env, const rcl_stage_spec *sp, rcl_run_result *r) {
    memset(r, 0, sizeof *r);
    stage_id(sp, r->id, sizeof r->id);
    snprintf(r->dataset, sizeof r->dataset, "%s", sp->dataset);
    snprintf(r->experiment, sizeof r->experiment, "%s", sp->experiment);
    snprintf(r->method, sizeof r->method, "%s", sp->method);
    snprintf(r->arm, sizeof r->arm, "%s", arm_name(sp));
    r->setting = sp->setting;
    r->seed = sp->seed;
    r->hash = rcl_stage_hash(sp);
    rcl_run_result cached;
    if ((!sp->save_path || exists(sp->save_path)) && rcl_stage_load(env->out, r->id, r->hash, &cached)) {
        env->stages_cached++;
        log_run(env, &cached, 1);
        *r = cached;
        return RCL_OK;
    }
    if (sp->init_path && !exists(sp->init_path))
        return rcl_fail(RCL_ERR_IO, "stage %s: its pre-trained model %s does not exist (run its dependency first)",
                        r->id, sp->init_path);
    rcl_run_config record = *env->run; /* with the stage's own start and wall time */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    record.started = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
    rcl_model *m = NULL;
    RCL_TRY(model_new(env, sp, &m));
    rcl_status s = train(env, sp, m, r);
    if (s == RCL_OK)
        s = evaluate(sp, m, r->id, r);
    if (s == RCL_OK && !(r->provenance = rcl_report_provenance_text(&record, env->d, m, sp->train, sp->train_seed)))
        s = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    rcl_model_free(m);
    if (s == RCL_OK)
        s = rcl_stage_store(env->out, r);
    if (s != RCL_OK) {
        rcl_run_free(r);
        return s;
    }
    env->stages_run++;
    log_run(env, r, 0);
    return RCL_OK;
}

rcl_status rcl_suite_cap_per_class(rcl_dataset *ds, int per_class, uint64_t seed) {
    if (per_class <= 0)
        return RCL_OK;
    int k = ds->num_classes, *counts = calloc((size_t)k, sizeof *counts), *idx = NULL, m = 0, needed = 0;
    if (!counts)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    for (int i = 0; i < ds->n; i++)
        counts[ds->labels[i]]++;
    for (int j = 0; j < k; j++)
        if (counts[j] > per_class)
            counts[j] = per_class, needed = 1;
    rcl_status s = RCL_OK;
    if (needed && (s = rcl_imb_select((const int *)ds->labels, ds->n, k, counts, seed, &idx, &m)) == RCL_OK) {
        int64_t *take = malloc((size_t)(m ? m : 1) * sizeof *take);
        for (int i = 0; take && i < m; i++)
            take[i] = idx[i];
        s = take ? rcl_dataset_take(ds, take, m) : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
        free(take);
    }
    free(idx);
    free(counts);
    return s;
}
