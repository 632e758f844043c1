/* The adversarial evaluation's results as JSON, beside the OOD and calibration reports'. */
#include "robustcl/adversarial.h"

void rcl_adv_result_json(rcl_json_writer *w, const rcl_adv_result *r) {
    char spec[256];
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "attack");
    rcl_jw_string(w, rcl_attack_describe(&r->cfg, spec, sizeof spec));
    rcl_jw_key(w, "mode");
    rcl_jw_string(w, rcl_attack_mode_name(r->cfg.mode));
    rcl_jw_key(w, "eps");
    rcl_jw_number(w, r->cfg.eps);
    rcl_jw_key(w, "images");
    rcl_jw_int(w, r->count);
    rcl_jw_key(w, "clean_accuracy");
    rcl_jw_number(w, r->clean_accuracy);
    rcl_jw_key(w, "adversarial_accuracy");
    rcl_jw_number(w, r->adv_accuracy);
    rcl_jw_key(w, "max_linf");
    rcl_jw_number(w, r->max_linf);
    rcl_jw_key(w, "zero_gradient_images");
    rcl_jw_int(w, r->zero_grad);
    rcl_jw_key(w, "seconds");
    rcl_jw_number(w, r->seconds);
    rcl_jw_end_object(w);
}

void rcl_adv_sweep_json(rcl_json_writer *w, const rcl_attack_config *base, const rcl_adv_result *r, int n) {
    char spec[256];
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "attack");
    rcl_jw_string(w, rcl_attack_describe(base, spec, sizeof spec));
    rcl_jw_key(w, "mode");
    rcl_jw_string(w, rcl_attack_mode_name(base->mode));
    rcl_jw_key(w, "images");
    rcl_jw_int(w, r[0].count);
    rcl_jw_key(w, "clean_accuracy");
    rcl_jw_number(w, r[0].clean_accuracy);
    rcl_jw_key(w, "points");
    rcl_jw_begin_array(w);
    for (int i = 0; i < n; i++) {
        rcl_jw_begin_object(w);
        rcl_jw_key(w, "eps");
        rcl_jw_number(w, r[i].cfg.eps);
        rcl_jw_key(w, "step");
        rcl_jw_number(w, r[i].cfg.step);
        rcl_jw_key(w, "adversarial_accuracy");
        rcl_jw_number(w, r[i].adv_accuracy);
        rcl_jw_key(w, "max_linf");
        rcl_jw_number(w, r[i].max_linf);
        rcl_jw_key(w, "zero_gradient_images");
        rcl_jw_int(w, r[i].zero_grad);
        rcl_jw_key(w, "seconds");
        rcl_jw_number(w, r[i].seconds);
        rcl_jw_end_object(w);
    }
    rcl_jw_end_array(w);
    rcl_jw_end_object(w);
}
