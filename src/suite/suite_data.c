/* The mini suite's data (spec §11.1): a target pool that pre-training never sees, and the two
 * pre-training sources, built from one labelled training split. */
#include <stdlib.h>
#include <string.h>

#include "robustcl/metrics.h"
#include "suite_internal.h"

/* Rank of class `label` among the distinct classes of the list in ascending order (the
 * relabelling of rcl_dataset_keep_classes), or -1 when it is not in the list. */
static int class_rank(const int *classes, int k, int label) {
    int in = 0, rank = 0;
    for (int i = 0; i < k; i++) {
        int dup = 0;
        for (int j = 0; j < i; j++)
            dup |= classes[j] == classes[i];
        if (dup)
            continue;
        in |= classes[i] == label;
        rank += classes[i] < label;
    }
    return in ? rank : -1;
}

static int distinct(const int *classes, int k) {
    int n = 0;
    for (int i = 0; i < k; i++) {
        int dup = 0;
        for (int j = 0; j < i; j++)
            dup |= classes[j] == classes[i];
        n += !dup;
    }
    return n;
}

rcl_status rcl_suite_target_pool(const rcl_dataset *all, const int *target, int kt, int pool, uint64_t seed,
                                 unsigned char *in_pool) {
    memset(in_pool, 0, (size_t)all->n);
    int k = distinct(target, kt), nt = 0;
    int *pos = malloc((size_t)all->n * sizeof *pos), *lab = malloc((size_t)all->n * sizeof *lab);
    int *counts = calloc((size_t)k, sizeof *counts), *sel = NULL, m = 0;
    rcl_status s = pos && lab && counts ? RCL_OK : rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    for (int i = 0; s == RCL_OK && i < all->n; i++) {
        int r = class_rank(target, kt, all->labels[i]);
        if (r >= 0)
            pos[nt] = i, lab[nt++] = r, counts[r]++;
    }
    for (int r = 0; s == RCL_OK && r < k; r++) {
        if (counts[r] < pool)
            s = rcl_fail(RCL_ERR_INVALID_ARG, "%s: a target class has %d training images, fewer than the pool of %d "
                         "(--target-pool)", all->name, counts[r], pool);
        counts[r] = pool;
    }
    if (s == RCL_OK)
        s = rcl_imb_select(lab, nt, k, counts, seed, &sel, &m);
    for (int i = 0; s == RCL_OK && i < m; i++)
        in_pool[pos[sel[i]]] = 1;
    free(pos), free(lab), free(counts), free(sel);
    return s;
}

rcl_status rcl_suite_split_take(const rcl_dataset *all, const int *classes, int k, const unsigned char *pool,
                                int from_pool, rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    int *idx = malloc((size_t)all->n * sizeof *idx), n = 0;
    if (!idx)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    for (int i = 0; i < all->n; i++)
        if (class_rank(classes, k, all->labels[i]) >= 0 && (pool ? pool[i] : 0) == from_pool)
            idx[n++] = i;
    rcl_status s = n ? rcl_suite_copy_subset(all, idx, n, out)
                     : rcl_fail(RCL_ERR_INVALID_ARG, "%s: no training image of the classes asked for", all->name);
    free(idx);
    if (s == RCL_OK)
        s = rcl_dataset_keep_classes(out, classes, k);
    return s;
}

rcl_status rcl_suite_copy_subset(const rcl_dataset *src, const int *idx, int n, rcl_dataset *out) {
    RCL_TRY(rcl_dataset_alloc(out, n, src->c, src->h, src->w, src->num_classes, 0));
    size_t per = rcl_dataset_image_size(src);
    for (int i = 0; i < n; i++) {
        int j = idx ? idx[i] : i;
        memcpy(out->pixels + (size_t)i * per, src->pixels + (size_t)j * per, per);
        out->labels[i] = src->labels[j];
    }
    snprintf(out->name, sizeof out->name, "%s", src->name);
    snprintf(out->sha256, sizeof out->sha256, "%s", src->sha256);
    return RCL_OK;
}
