/* PyTorch parity, both ways.
 * 1. A small WRN written by tests/data/gen_torch_parity.py (the official model
 *    code, PyTorch's own init) loads as a robustcl checkpoint and gives PyTorch's
 *    eval logits, train-mode logits, loss, every parameter gradient and the input
 *    gradient; the same weights saved by torch.save (zip with "module." prefixes,
 *    and legacy) go through rcl_checkpoint_import_torch to the same eval logits.
 * 2. A checkpoint written by robustcl, loaded into PyTorch with strict=True by
 *    tests/data/gen_torch_load.py, gave logits robustcl reproduces. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/checkpoint.h"
#include "robustcl/safetensors.h"

static const rcl_st_tensor *want(const rcl_st_file *f, const char *name) {
    const rcl_st_tensor *t = rcl_st_find(f, name);
    CHECK(t != NULL, "reference file holds %s", name);
    return t;
}

static void compare(const char *what, const float *got, const rcl_st_tensor *ref, size_t n, double rel) {
    if (!ref)
        return;
    CHECK(ref->numel == n, "%s: %zu values, reference has %zu", what, n, ref->numel);
    if (ref->numel != n)
        return;
    double *w = malloc(n * sizeof *w);
    float *tmp = malloc(n * sizeof *tmp);
    memcpy(tmp, ref->data, n * sizeof *tmp);
    rcl_to_double(tmp, w, n);
    rcl_check_close(what, got, w, n, rel, 1e-6, 1e-3);
    free(w);
    free(tmp);
}

static void eval_logits(rcl_device *d, const char *ckpt, const rcl_st_tensor *input, const rcl_st_tensor *want_logits,
                        const char *what) {
    rcl_wrn_config cfg;
    rcl_model *m = NULL;
    CHECK_OK(rcl_checkpoint_read_config(ckpt, &cfg));
    if (!input || !want_logits || input->ndim != 4)
        return;
    int n = (int)input->shape[0];
    CHECK_OK(rcl_model_create(d, &cfg, n, &m));
    CHECK_OK(rcl_checkpoint_load(m, ckpt, RCL_CKPT_EVAL, NULL));
    rcl_tensor x;
    CHECK_OK(rcl_tensor_create(d, &x, "x", 4, n, cfg.in_c, cfg.in_h, cfg.in_w));
    float *buf = malloc(input->nbytes + want_logits->nbytes);
    memcpy(buf, input->data, input->nbytes);
    CHECK_OK(rcl_tensor_upload(&x, buf));
    const rcl_tensor *logits;
    CHECK_OK(rcl_model_forward(m, &x, 0, &logits));
    CHECK_OK(rcl_tensor_download(logits, buf));
    compare(what, buf, want_logits, logits->n, 1e-5);
    free(buf);
    rcl_tensor_release(&x);
    rcl_model_free(m);
}

static void other_direction_and_import(rcl_device *d, const rcl_st_file *parity, const char *dir) {
    char pt[1024], out[1024];
    const char *formats[2] = {"zip", "legacy"};
    for (int i = 0; i < 2; i++) {
        snprintf(pt, sizeof pt, "%s/torch_parity_%s.pt", dir, formats[i]);
        snprintf(out, sizeof out, "%s/imported_%s.safetensors", rcl_test_tmpdir(), formats[i]);
        rcl_wrn_config cfg;
        CHECK_OK(rcl_checkpoint_import_torch(pt, out, 0, 12, 12, &cfg));
        CHECK(cfg.depth == 10 && cfg.widen == 1 && cfg.num_classes == 5 && cfg.in_c == 3 && cfg.fc_bias,
              "architecture read off %s: WRN-%d-%d, %d classes", pt, cfg.depth, cfg.widen, cfg.num_classes);
        char what[64];
        snprintf(what, sizeof what, "imported (%s .pt) eval logits", formats[i]);
        eval_logits(d, out, rcl_st_find(parity, "parity.input"), rcl_st_find(parity, "parity.eval_logits"), what);
    }
    char ckpt[1024], ref[1024];
    snprintf(ckpt, sizeof ckpt, "%s/rcl_trained.safetensors", dir);
    snprintf(ref, sizeof ref, "%s/rcl_trained_torch.safetensors", dir);
    rcl_st_file *f = NULL;
    CHECK_OK(rcl_st_open(ref, &f));
    if (f)
        eval_logits(d, ckpt, want(f, "input"), want(f, "logits"), "robustcl checkpoint in PyTorch: eval logits");
    rcl_st_close(f);
}

int main(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/torch_parity.safetensors", getenv("RCL_TEST_DATA") ? getenv("RCL_TEST_DATA") : "tests/data");
    rcl_st_file *f = NULL;
    CHECK_OK(rcl_st_open(path, &f));
    rcl_wrn_config cfg;
    CHECK_OK(rcl_checkpoint_read_config(path, &cfg));
    if (!f)
        return rcl_test_finish();
    rcl_device *d = rcl_test_device(0);
    rcl_model *m = NULL;
    int n = 4;
    CHECK_OK(rcl_model_create(d, &cfg, n, &m));
    CHECK_OK(rcl_checkpoint_load(m, path, RCL_CKPT_EVAL, NULL));
    const rcl_st_tensor *xin = want(f, "parity.input"), *lab = want(f, "parity.labels");
    rcl_tensor x, dx, probs, dl, loss;
    cl_mem labels;
    CHECK_OK(rcl_tensor_create(d, &x, "x", 4, n, cfg.in_c, cfg.in_h, cfg.in_w));
    CHECK_OK(rcl_tensor_create(d, &dx, "dx", 4, n, cfg.in_c, cfg.in_h, cfg.in_w));
    CHECK_OK(rcl_tensor_create(d, &probs, "p", 2, n, cfg.num_classes));
    CHECK_OK(rcl_tensor_create(d, &dl, "dl", 2, n, cfg.num_classes));
    CHECK_OK(rcl_tensor_create(d, &loss, "loss", 1, 1));
    CHECK_OK(rcl_device_alloc(d, sizeof(cl_int) * n, "labels", &labels));
    float *buf = malloc(sizeof(float) * 1 << 20);
    memcpy(buf, xin->data, x.n * sizeof(float));
    CHECK_OK(rcl_tensor_upload(&x, buf));
    clEnqueueWriteBuffer(rcl_device_queue(d), labels, CL_TRUE, 0, sizeof(cl_int) * n, lab->data, 0, NULL, NULL);

    const rcl_tensor *logits;
    CHECK_OK(rcl_model_forward(m, &x, 0, &logits));
    CHECK_OK(rcl_tensor_download(logits, buf));
    compare("eval logits", buf, want(f, "parity.eval_logits"), logits->n, 1e-5);

    CHECK_OK(rcl_model_forward(m, &x, 1, &logits));
    CHECK_OK(rcl_tensor_download(logits, buf));
    compare("train-mode logits", buf, want(f, "parity.train_logits"), logits->n, 1e-5);
    CHECK_OK(rcl_softmax_xent_forward(d, logits, labels, NULL, NULL, &probs, &loss));
    CHECK_OK(rcl_softmax_xent_backward(d, &probs, labels, NULL, NULL, &dl));
    CHECK_OK(rcl_model_backward(m, &dl, &dx));
    CHECK_OK(rcl_tensor_download(&loss, buf));
    compare("loss", buf, want(f, "parity.loss"), 1, 1e-5);
    CHECK_OK(rcl_tensor_download(&dx, buf));
    compare("input gradient", buf, want(f, "parity.input_grad"), dx.n, 1e-4);
    int ngrads = 0;
    for (int i = 0; i < rcl_model_param_count(m); i++) {
        rcl_param *p = rcl_model_param(m, i);
        if (!p->trainable)
            continue;
        char name[160];
        snprintf(name, sizeof name, "parity.grad.%s", p->name);
        CHECK_OK(rcl_tensor_download(&p->grad, buf));
        compare(name, buf, want(f, name), p->value.n, 1e-4);
        ngrads++;
    }
    CHECK(ngrads > 20, "compared %d parameter gradients", ngrads);
    other_direction_and_import(d, f, getenv("RCL_TEST_DATA") ? getenv("RCL_TEST_DATA") : "tests/data");
    free(buf);
    rcl_device_free(d, labels, sizeof(cl_int) * n);
    rcl_tensor_release(&x), rcl_tensor_release(&dx), rcl_tensor_release(&probs), rcl_tensor_release(&dl),
        rcl_tensor_release(&loss);
    rcl_model_free(m);
    rcl_device_close(d);
    rcl_st_close(f);
    return rcl_test_finish();
}
