/* The epsilon sweep: one adversarial evaluation per radius, the step scaled with it. */
#include "robustcl/adversarial.h"

rcl_status rcl_adv_sweep_classifier(const rcl_classifier *f, const rcl_dataset *ds, const int *indices, int count,
                                    const rcl_attack_config *cfg, const double *eps, int neps, rcl_adv_result *res) {
    for (int i = 0; i < neps; i++) {
        rcl_attack_config c = *cfg;
        c.eps = eps[i];
        if (cfg->eps > 0)
            c.step = cfg->step * eps[i] / cfg->eps;
        if (c.kind == RCL_ATTACK_FGSM)
            c.step = c.eps;
        RCL_TRY(rcl_adv_evaluate_classifier(f, ds, indices, count, &c, &res[i]));
    }
    return RCL_OK;
}

rcl_status rcl_adv_sweep(rcl_model *m, const rcl_dataset *ds, const int *indices, int count,
                         const rcl_attack_config *cfg, const double *eps, int neps, rcl_adv_result *res) {
    rcl_classifier f = rcl_model_classifier(m);
    return rcl_adv_sweep_classifier(&f, ds, indices, count, cfg, eps, neps, res);
}
