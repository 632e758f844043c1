/* Downsampled ImageNet 32x32 folders: finds the npz or the pickled batches. */
#include <stdio.h>
#include <string.h>

#include "data_internal.h"

rcl_status rcl_imagenet32_load(const char *dir, int train, rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    /* the official zips unpack into Imagenet32_{train,val}_npz/: accept DIR above them too */
    char sub[1024], probe[1100];
    snprintf(sub, sizeof sub, "%s/%s", dir, train ? "Imagenet32_train_npz" : "Imagenet32_val_npz");
    snprintf(probe, sizeof probe, "%s/%s", dir, train ? "train_data_batch_1" : "val_data");
    char probe_npz[1110];
    snprintf(probe_npz, sizeof probe_npz, "%s.npz", probe);
    if (!rcl_data_is_file(probe_npz) && !rcl_data_is_file(probe) && rcl_data_is_dir(sub))
        dir = sub;
    char paths[10][1100];
    const char *pp[10];
    int nf = 0, pickled = 0;
    for (int pass = 0; pass < 2 && nf == 0; pass++) { /* .npz first, then the pickled files */
        const char *ext = pass == 0 ? ".npz" : "";
        for (int i = 1; i <= (train ? 10 : 1); i++) {
            if (train)
                snprintf(paths[nf], sizeof paths[nf], "%s/train_data_batch_%d%s", dir, i, ext);
            else
                snprintf(paths[nf], sizeof paths[nf], "%s/val_data%s", dir, ext);
            if (rcl_data_is_file(paths[nf])) {
                pp[nf] = paths[nf];
                nf++;
            }
        }
        pickled = pass == 1;
    }
    if (nf == 0)
        return rcl_fail(RCL_ERR_IO, "%s/%s: no such file (nor the pickled form without .npz)", dir,
                        train ? "train_data_batch_1.npz" : "val_data.npz");
    const char *name = train ? "imagenet32:train" : "imagenet32:val";
    return pickled ? rcl_imagenet32_pickle_load_files(pp, nf, name, out)
                   : rcl_imagenet32_load_files(pp, nf, name, out);
}
