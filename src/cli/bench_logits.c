/* bench logits: the cross-device check of bench/device-check.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "robustcl/safetensors.h"

/* Eval-mode logits of a checkpoint on a stored batch; optionally compared with a reference. */
rcl_status rcl_bench_logits(rcl_device *d, const char *model, const char *input_tensor, const char *reference,
                            double tol, rcl_json_writer *jw) {
    rcl_wrn_config cfg;
    RCL_TRY(rcl_checkpoint_read_config(model, &cfg));
    rcl_st_file *f;
    RCL_TRY(rcl_st_open(model, &f));
    const rcl_st_tensor *in = rcl_st_find(f, input_tensor);
    rcl_status s = RCL_OK;
    if (!in || in->dtype != RCL_DT_F32 || in->ndim != 4 || in->shape[1] != cfg.in_c ||
        in->shape[2] != cfg.in_h || in->shape[3] != cfg.in_w || in->shape[0] < 1) {
        rcl_st_close(f);
        return rcl_fail(RCL_ERR_FORMAT, "%s: no F32 tensor '%s' of shape [n, %d, %d, %d]", model,
                        input_tensor, cfg.in_c, cfg.in_h, cfg.in_w);
    }
    int n = (int)in->shape[0];
    rcl_model *m = NULL;
    rcl_tensor x = {0};
    float *host = malloc(in->nbytes), *out = malloc(sizeof(float) * (size_t)n * cfg.num_classes);
    const rcl_tensor *logits;
    rcl_json *ref = NULL;
    if (!host || !out)
        s = rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    else
        memcpy(host, in->data, in->nbytes); /* the file image may be unaligned */
    if (!s && !(s = rcl_model_create(d, &cfg, n, &m)) &&
        !(s = rcl_checkpoint_load(m, model, RCL_CKPT_EVAL, NULL)) &&
        !(s = rcl_tensor_create(d, &x, "input", 4, n, cfg.in_c, cfg.in_h, cfg.in_w)) &&
        !(s = rcl_tensor_upload(&x, host)) && !(s = rcl_model_forward(m, &x, 0, &logits)))
        s = rcl_tensor_download(logits, out);
    size_t nl = (size_t)n * cfg.num_classes;
    double max_diff = 0, max_ref = 0;
    if (!s && reference && !(s = rcl_json_parse_file(reference, &ref))) {
        const rcl_json *rl = rcl_json_get(ref, "logits");
        if (!rl || rl->type != RCL_JSON_ARRAY || rl->len != nl)
            s = rcl_fail(RCL_ERR_FORMAT, "%s: 'logits' is not an array of %zu numbers", reference, nl);
        for (size_t i = 0; !s && i < nl; i++) {
            double r = rl->items[i].number, diff = fabs(out[i] - r);
            max_diff = diff > max_diff ? diff : max_diff;
            max_ref = fabs(r) > max_ref ? fabs(r) : max_ref;
        }
    }
    if (!s) {
        printf("%s: %d x %d eval-mode logits on %s (CLBlast %s)\n", model, n, cfg.num_classes,
               rcl_device_get_info(d)->name, rcl_gemm_params_source(d));
        if (reference)
            printf("against %s: max |diff| %.3g, max |reference| %.3g, tolerance %.3g: %s\n", reference,
                   max_diff, max_ref, tol * max_ref, max_diff <= tol * max_ref ? "match" : "MISMATCH");
    }
    if (!s && jw) {
        rcl_jw_begin_object(jw);
        rcl_jw_key(jw, "bench"), rcl_jw_string(jw, "logits");
        rcl_jw_key(jw, "model"), rcl_jw_string(jw, model);
        rcl_jw_key(jw, "input_tensor"), rcl_jw_string(jw, input_tensor);
        rcl_jw_key(jw, "device"), rcl_jw_string(jw, rcl_device_get_info(d)->name);
        rcl_jw_key(jw, "driver"), rcl_jw_string(jw, rcl_device_get_info(d)->driver_version);
        rcl_jw_key(jw, "gemm_params_source"), rcl_jw_string(jw, rcl_gemm_params_source(d));
        rcl_jw_key(jw, "provenance");
        rcl_provenance_json(jw, rcl_cli_run(), d, m, NULL, 0);
        rcl_jw_key(jw, "shape");
        rcl_jw_begin_array(jw), rcl_jw_int(jw, n), rcl_jw_int(jw, cfg.num_classes), rcl_jw_end_array(jw);
        rcl_jw_key(jw, "logits");
        rcl_jw_begin_array(jw);
        for (size_t i = 0; i < nl; i++)
            rcl_jw_number(jw, out[i]);
        rcl_jw_end_array(jw);
        if (reference) {
            rcl_jw_key(jw, "reference"), rcl_jw_string(jw, reference);
            rcl_jw_key(jw, "max_abs_diff"), rcl_jw_number(jw, max_diff);
            rcl_jw_key(jw, "match"), rcl_jw_bool(jw, max_diff <= tol * max_ref);
        }
        rcl_jw_end_object(jw);
    }
    if (!s && reference && !(max_diff <= tol * max_ref))
        s = rcl_fail(RCL_ERR_GEMM, "logits differ from %s: max |diff| %.3g > %.3g x max |reference| %.3g",
                     reference, max_diff, tol, max_ref);
    rcl_json_free(ref);
    rcl_tensor_release(&x);
    rcl_model_free(m);
    free(host);
    free(out);
    rcl_st_close(f);
    return s;
}
