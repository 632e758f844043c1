/* PyTorch parity: a small WRN written by tests/data/gen_torch_parity.py (the
 * official model code, PyTorch's own init) loads as a robustcl checkpoint and
 * gives PyTorch's eval logits, train-mode logits, loss, every parameter
 * gradient and the input gradient. */
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
    free(buf);
    rcl_device_free(d, labels, sizeof(cl_int) * n);
    rcl_tensor_release(&x), rcl_tensor_release(&dx), rcl_tensor_release(&probs), rcl_tensor_release(&dl),
        rcl_tensor_release(&loss);
    rcl_model_free(m);
    rcl_device_close(d);
    rcl_st_close(f);
    return rcl_test_finish();
}
