/* One run set-up for every command and both suites (robustcl/session.h): the device with its
 * tuned parameters, the self-test gate, the model and its input normalisation. */
#include <string.h>

#include "robustcl/checkpoint.h"
#include "robustcl/log.h"
#include "robustcl/selftest.h"
#include "robustcl/session.h"

/* The checkpoint's net and normalisation (replaced by spec->norm, with a warning, when it differs). */
static rcl_status from_checkpoint(const rcl_session_spec *spec, rcl_wrn_config *cfg, rcl_normalization *norm) {
    RCL_TRY(rcl_checkpoint_read_config(spec->checkpoint, cfg));
    RCL_TRY(rcl_checkpoint_read_normalization(spec->checkpoint, norm));
    if (spec->norm && !rcl_normalization_equal(norm, spec->norm)) {
        char was[96], now[96];
        rcl_log(RCL_LOG_WARNING,
                "warning: %s records --normalize %s (half when it records none); evaluating with %s as asked",
                spec->checkpoint, rcl_normalization_name(norm, was, sizeof was),
                rcl_normalization_name(spec->norm, now, sizeof now));
        *norm = *spec->norm;
    }
    return RCL_OK;
}

static rcl_status build_model(rcl_session *s, const rcl_session_spec *spec) {
    rcl_wrn_config cfg;
    s->norm = spec->norm ? *spec->norm : rcl_normalization_half();
    if (spec->checkpoint) {
        RCL_TRY(from_checkpoint(spec, &cfg, &s->norm));
        RCL_TRY(rcl_model_create(s->device, &cfg, spec->batch, &s->model));
        return rcl_checkpoint_load(s->model, spec->checkpoint, RCL_CKPT_EVAL, NULL);
    }
    const rcl_dataset *ds = spec->data;
    RCL_TRY(rcl_wrn_config_make(spec->arch, ds->c, ds->h, ds->w, ds->num_classes, &cfg));
    cfg.dropout = spec->dropout;
    RCL_TRY(rcl_model_create(s->device, &cfg, spec->batch, &s->model));
    return rcl_model_init(s->model, spec->seed);
}

static rcl_status open_all(const rcl_run_config *run, const rcl_session_spec *spec, rcl_session *s) {
    rcl_device_options o = run->device;
    o.profile |= spec->profile;
    RCL_TRY(rcl_device_open(&o, &s->device));
    /* the policy checked and the stored choices read now, not at the first convolution */
    RCL_TRY(rcl_conv_set_policy(s->device, o.conv_policy));
    if (spec->gate)
        RCL_TRY(rcl_selftest_gate(s->device, run->force));
    s->norm = rcl_normalization_half();
    return spec->arch || spec->checkpoint ? build_model(s, spec) : RCL_OK;
}

rcl_status rcl_session_open(const rcl_run_config *run, const rcl_session_spec *spec, rcl_session *s) {
    static const rcl_session_spec device_only = {0};
    memset(s, 0, sizeof *s);
    s->run = run;
    rcl_status st = open_all(run, spec ? spec : &device_only, s);
    if (st != RCL_OK)
        rcl_session_close(s);
    return st;
}

void rcl_session_close(rcl_session *s) {
    rcl_model_free(s->model);
    rcl_device_close(s->device);
    memset(s, 0, sizeof *s);
}
