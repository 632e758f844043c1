#include "robustcl/loader.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "robustcl/rng.h"

typedef struct {
    float *x;
    int32_t *labels, *index;
    int n, batch_no, ready;
} slot;

struct rcl_loader {
    const rcl_dataset *ds;
    rcl_loader_options opt;
    int *items, count, nbatches, per_image;
    int *perm;
    int epoch, next_batch; /* next batch the producer makes */
    int consume_batch;     /* next batch the consumer takes */
    slot slots[2];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running, stop, busy;
};

rcl_loader_options rcl_loader_defaults(void) {
    rcl_loader_options o = {128, 1, 1, 4, 0, rcl_normalization_half(), 0, 1};
    return o;
}

void rcl_loader_image(const rcl_dataset *ds, int i, const rcl_normalization *norm, float *out) {
    size_t plane = (size_t)ds->h * ds->w, per = plane * ds->c;
    if (ds->values) {
        memcpy(out, ds->values + (size_t)i * per, per * sizeof *out);
        return;
    }
    const uint8_t *p = ds->pixels + (size_t)i * per;
    for (int c = 0; c < ds->c; c++) {
        float m = norm->mean[c < 3 ? c : 2], s = norm->std[c < 3 ? c : 2];
        for (size_t j = 0; j < plane; j++)
            out[c * plane + j] = ((float)p[c * plane + j] / 255.0f - m) / s;
    }
}

/* Random crop of the zero-padded image (zero in pixel space, i.e. -mean/std
 * in network space) plus a horizontal flip, per spec §3. */
static void augment(const rcl_dataset *ds, const rcl_loader_options *o, rcl_rng *r, const float *src, float *dst) {
    int h = ds->h, w = ds->w, pad = o->pad;
    int dy = (int)rcl_rng_below(r, (uint64_t)(2 * pad + 1)) - pad;
    int dx = (int)rcl_rng_below(r, (uint64_t)(2 * pad + 1)) - pad;
    int flip = rcl_rng_uniform(r) < 0.5;
    for (int c = 0; c < ds->c; c++) {
        float zero = ds->values ? 0.0f : -o->norm.mean[c < 3 ? c : 2] / o->norm.std[c < 3 ? c : 2];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int sy = y + dy, sx = (flip ? w - 1 - x : x) + dx;
                float v = (sy < 0 || sy >= h || sx < 0 || sx >= w) ? zero : src[(c * h + sy) * w + sx];
                dst[(c * h + y) * w + x] = v;
            }
    }
}

/* Images a shard holds of a batch of n (the shard's contiguous slice), at most. */
static int shard_cap(const rcl_loader_options *o) {
    return o->shards > 1 ? (o->batch + o->shards - 1) / o->shards : o->batch;
}

static void make_batch(rcl_loader *l, int b, slot *s) {
    const rcl_dataset *ds = l->ds;
    int start = b * l->opt.batch, n = l->count - start;
    if (n > l->opt.batch)
        n = l->opt.batch;
    if (l->opt.shards > 1) { /* positions stay global: augmentation does not depend on the shard count */
        int lo = (int)((long)l->opt.shard * n / l->opt.shards), hi = (int)((long)(l->opt.shard + 1) * n / l->opt.shards);
        start += lo;
        n = hi - lo;
    }
    float *tmp = l->opt.augment ? malloc((size_t)l->per_image * sizeof *tmp) : NULL;
    for (int i = 0; i < n; i++) {
        int pos = start + i, item = l->items[l->perm[pos]];
        float *dst = s->x + (size_t)i * l->per_image;
        if (tmp) {
            rcl_rng r = rcl_rng_seed(l->opt.seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(l->epoch + 1)) ^
                                     ((uint64_t)pos << 20));
            rcl_loader_image(ds, item, &l->opt.norm, tmp);
            augment(ds, &l->opt, &r, tmp, dst);
        } else {
            rcl_loader_image(ds, item, &l->opt.norm, dst);
        }
        s->labels[i] = ds->labels ? ds->labels[item] : -1;
        s->index[i] = item;
    }
    free(tmp);
    s->n = n;
    s->batch_no = b;
}

static void *producer(void *arg) {
    rcl_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->stop && (l->next_batch >= l->nbatches || (l->slots[0].ready && l->slots[1].ready)))
            pthread_cond_wait(&l->cv, &l->mu);
        if (l->stop)
            break;
        slot *s = l->slots[0].ready ? &l->slots[1] : &l->slots[0];
        int b = l->next_batch++;
        l->busy = 1;
        pthread_mutex_unlock(&l->mu);
        make_batch(l, b, s);
        pthread_mutex_lock(&l->mu);
        l->busy = 0;
        s->ready = 1;
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

rcl_status rcl_loader_create(const rcl_dataset *ds, const int *indices, int count,
                             const rcl_loader_options *opt, rcl_loader **out) {
    *out = NULL;
    if (!indices)
        count = ds->n;
    if (opt->batch < 1 || count < 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "loader for %s: batch %d over %d images", ds->name, opt->batch, count);
    if (opt->shards > 1 && (opt->shard < 0 || opt->shard >= opt->shards))
        return rcl_fail(RCL_ERR_INVALID_ARG, "loader: shard %d of %d", opt->shard, opt->shards);
    if (opt->augment && (opt->pad < 0 || opt->pad >= ds->h || opt->pad >= ds->w))
        return rcl_fail(RCL_ERR_INVALID_ARG, "loader: crop padding %d too large for %dx%d images", opt->pad,
                        ds->h, ds->w);
    rcl_loader *l = calloc(1, sizeof *l);
    if (!l)
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
    l->ds = ds;
    l->opt = *opt;
    l->count = count;
    l->nbatches = (count + opt->batch - 1) / opt->batch;
    l->per_image = ds->c * ds->h * ds->w;
    l->items = malloc((size_t)count * sizeof *l->items);
    l->perm = malloc((size_t)count * sizeof *l->perm);
    int ok = l->items && l->perm;
    size_t cap = (size_t)shard_cap(opt);
    for (int i = 0; i < 2 && ok; i++) {
        l->slots[i].x = malloc(cap * l->per_image * sizeof(float));
        l->slots[i].labels = malloc(cap * sizeof(int32_t));
        l->slots[i].index = malloc(cap * sizeof(int32_t));
        ok = l->slots[i].x && l->slots[i].labels && l->slots[i].index;
    }
    if (!ok) {
        rcl_loader_free(l);
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory for batches of %d", opt->batch);
    }
    for (int i = 0; i < count; i++) {
        int item = indices ? indices[i] : i;
        if (item < 0 || item >= ds->n) {
            rcl_loader_free(l);
            return rcl_fail(RCL_ERR_INVALID_ARG, "loader: index %d outside %s (%d images)", item, ds->name, ds->n);
        }
        l->items[i] = item;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->next_batch = l->nbatches; /* idle until started */
    if (pthread_create(&l->thread, NULL, producer, l) != 0) {
        rcl_loader_free(l);
        return rcl_fail(RCL_ERR_NO_MEMORY, "cannot start the loader thread");
    }
    l->running = 1;
    *out = l;
    return RCL_OK;
}

void rcl_loader_free(rcl_loader *l) {
    if (!l)
        return;
    if (l->running) {
        pthread_mutex_lock(&l->mu);
        l->stop = 1;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
    }
    for (int i = 0; i < 2; i++) {
        free(l->slots[i].x);
        free(l->slots[i].labels);
        free(l->slots[i].index);
    }
    free(l->items);
    free(l->perm);
    free(l);
}

int rcl_loader_batches(const rcl_loader *l) { return l->nbatches; }
int rcl_loader_size(const rcl_loader *l) { return l->count; }

rcl_status rcl_loader_start(rcl_loader *l, int epoch, int first_batch) {
    pthread_mutex_lock(&l->mu);
    /* let a batch in flight finish before the permutation changes under it */
    while (l->busy)
        pthread_cond_wait(&l->cv, &l->mu);
    for (int i = 0; i < l->count; i++)
        l->perm[i] = i;
    if (l->opt.shuffle) {
        rcl_rng r = rcl_rng_seed(l->opt.seed * 1000003ULL + (uint64_t)epoch);
        rcl_rng_shuffle(&r, l->perm, l->count);
    }
    l->epoch = epoch;
    l->slots[0].ready = l->slots[1].ready = 0;
    l->next_batch = first_batch < 0 ? 0 : first_batch;
    l->consume_batch = l->next_batch;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return RCL_OK;
}

rcl_status rcl_loader_next(rcl_loader *l, const float **x, const int32_t **labels, const int32_t **index, int *n) {
    pthread_mutex_lock(&l->mu);
    /* release the slot handed out last time */
    for (int i = 0; i < 2; i++)
        if (l->slots[i].ready && l->slots[i].batch_no == l->consume_batch - 1)
            l->slots[i].ready = 0;
    pthread_cond_broadcast(&l->cv);
    if (l->consume_batch >= l->nbatches) {
        pthread_mutex_unlock(&l->mu);
        *n = 0;
        return RCL_OK;
    }
    slot *s = NULL;
    while (!s) {
        for (int i = 0; i < 2; i++)
            if (l->slots[i].ready && l->slots[i].batch_no == l->consume_batch)
                s = &l->slots[i];
        if (!s)
            pthread_cond_wait(&l->cv, &l->mu);
    }
    l->consume_batch++;
    pthread_mutex_unlock(&l->mu);
    *x = s->x;
    *labels = s->labels;
    *index = s->index;
    *n = s->n;
    return RCL_OK;
}
