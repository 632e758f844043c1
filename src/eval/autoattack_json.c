/* AutoAttack's results as JSON, beside the PGD evaluation's (adversarial_json.c). */
#include "robustcl/autoattack.h"

void rcl_autoattack_result_json(rcl_json_writer *w, const rcl_autoattack_result *r) {
    char spec[512];
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "attack");
    rcl_jw_string(w, rcl_autoattack_describe(&r->cfg, spec, sizeof spec));
    rcl_jw_key(w, "eps");
    rcl_jw_number(w, r->cfg.eps);
    rcl_jw_key(w, "norm");
    rcl_jw_string(w, r->cfg.l2 ? "l2" : "linf");
    rcl_jw_key(w, "version");
    rcl_jw_string(w, r->cfg.rand_version ? "rand" : "standard");
    rcl_jw_key(w, "images");
    rcl_jw_int(w, r->count);
    rcl_jw_key(w, "clean_accuracy");
    rcl_jw_number(w, r->clean_accuracy);
    rcl_jw_key(w, "robust_accuracy");
    rcl_jw_number(w, r->robust_accuracy);
    rcl_jw_key(w, "max_linf");
    rcl_jw_number(w, r->max_linf);
    rcl_jw_key(w, "max_l2");
    rcl_jw_number(w, r->max_l2);
    rcl_jw_key(w, "seconds");
    rcl_jw_number(w, r->seconds);
    rcl_jw_key(w, "after");
    rcl_jw_begin_array(w);
    for (int a = 0; a < r->cfg.n_attacks; a++) {
        rcl_jw_begin_object(w);
        rcl_jw_key(w, "attack");
        rcl_jw_string(w, rcl_aa_kind_name(r->cfg.attacks[a]));
        rcl_jw_key(w, "robust_accuracy");
        rcl_jw_number(w, r->count ? (double)r->robust_after[a] / r->count : 0);
        rcl_jw_key(w, "seconds");
        rcl_jw_number(w, r->seconds_of[a]);
        rcl_jw_end_object(w);
    }
    rcl_jw_end_array(w);
    rcl_jw_end_object(w);
}
