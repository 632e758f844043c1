/* `robustcl import`: an official PyTorch WRN state_dict (.pt, zip or legacy
 * serialisation, DataParallel "module." prefixes) to a robustcl checkpoint.
 * The architecture is read off the tensor shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/checkpoint.h"
#include "robustcl/torch_import.h"

static int blocks_in_group(const rcl_torch_state *st, int group) {
    int n = 0;
    for (;;) {
        char name[96];
        snprintf(name, sizeof name, "block%d.layer.%d.conv1.weight", group, n);
        if (!rcl_torch_find(st, name))
            return n;
        n++;
    }
}

static rcl_status infer_config(const rcl_torch_state *st, const char *path, rcl_wrn_config *cfg) {
    const rcl_torch_tensor *c1 = rcl_torch_find(st, "conv1.weight"), *fw = rcl_torch_find(st, "fc.weight");
    if (!c1 || !fw || c1->ndim != 4 || fw->ndim != 2)
        return rcl_fail(RCL_ERR_FORMAT, "%s: not a WRN state_dict (no conv1.weight [16,C,3,3] / fc.weight [K,F])", path);
    int n = blocks_in_group(st, 1);
    if (n < 1 || blocks_in_group(st, 2) != n || blocks_in_group(st, 3) != n || fw->shape[1] % 64)
        return rcl_fail(RCL_ERR_FORMAT, "%s: blocks per group %d/%d/%d and head width %lld do not form a WRN", path, n,
                        blocks_in_group(st, 2), blocks_in_group(st, 3), (long long)fw->shape[1]);
    memset(cfg, 0, sizeof *cfg);
    cfg->depth = 6 * n + 4;
    cfg->widen = (int)(fw->shape[1] / 64);
    cfg->in_c = (int)c1->shape[1];
    cfg->num_classes = (int)fw->shape[0];
    cfg->fc_bias = rcl_torch_find(st, "fc.bias") != NULL;
    return RCL_OK;
}

rcl_status rcl_checkpoint_import_torch(const char *pt_path, const char *out_path, int in_c, int in_h, int in_w,
                                       rcl_wrn_config *cfg) {
    rcl_torch_state st;
    RCL_TRY(rcl_torch_load(pt_path, &st));
    rcl_st_writer *w = NULL;
    rcl_status s = infer_config(&st, pt_path, cfg);
    if (s == RCL_OK && in_c > 0 && cfg->in_c != in_c)
        s = rcl_fail(RCL_ERR_INVALID_ARG, "%s: its first convolution takes %d-channel inputs, not %d (--input)",
                     pt_path, cfg->in_c, in_c);
    cfg->in_h = in_h;
    cfg->in_w = in_w;
    if (s == RCL_OK)
        s = rcl_st_writer_new(&w);
    for (size_t i = 0; i < st.n && s == RCL_OK; i++) {
        const rcl_torch_tensor *t = &st.t[i];
        size_t len = strlen(t->name);
        if (len > 20 && !strcmp(t->name + len - 20, ".num_batches_tracked")) {
            int64_t v = t->numel ? (int64_t)t->data[0] : 0;
            s = rcl_st_writer_add(w, t->name, RCL_DT_I64, 0, NULL, &v);
        } else {
            s = rcl_st_writer_add(w, t->name, RCL_DT_F32, t->ndim, t->shape, t->data);
        }
    }
    char buf[64];
    if (s == RCL_OK) {
        snprintf(buf, sizeof buf, "wrn-%d-%d", cfg->depth, cfg->widen);
        s = rcl_st_writer_set_metadata(w, "arch", buf);
    }
    if (s == RCL_OK) {
        snprintf(buf, sizeof buf, "%d", cfg->num_classes);
        s = rcl_st_writer_set_metadata(w, "num_classes", buf);
    }
    if (s == RCL_OK) {
        snprintf(buf, sizeof buf, "%dx%dx%d", cfg->in_c, in_h, in_w);
        s = rcl_st_writer_set_metadata(w, "input_shape", buf);
    }
    if (s == RCL_OK)
        s = rcl_st_writer_set_metadata(w, "fc_bias", cfg->fc_bias ? "1" : "0");
    if (s == RCL_OK)
        s = rcl_st_writer_set_metadata(w, "dropout", "0");
    if (s == RCL_OK)
        s = rcl_st_writer_set_metadata(w, "format", "robustcl-checkpoint-1");
    if (s == RCL_OK)
        s = rcl_st_writer_set_metadata(w, "imported_from", pt_path);
    if (s == RCL_OK)
        s = rcl_st_writer_set_metadata(w, "optimizer_state", "no");
    if (s == RCL_OK)
        s = rcl_st_writer_commit(w, out_path);
    rcl_st_writer_free(w);
    rcl_torch_state_free(&st);
    return s;
}
