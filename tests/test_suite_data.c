/* The mini suite's data split (spec §11.1): the target pool is held out of both pre-training
 * sources, the class-covering source holds every other image of the source and target classes,
 * the class-excluded one the source classes alone. Checked by image identity: each generated
 * image carries its own index in its pixels. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "suite/suite_internal.h"

enum { N = 600, K = 6, POOL = 7 };

/* Image i: label i % K (class 5 has only a few images), pixels 0-1 hold i. */
static void make(rcl_dataset *all) {
    CHECK_OK(rcl_dataset_alloc(all, N, 1, 2, 2, K, 0));
    for (int i = 0; i < N; i++) {
        all->labels[i] = i % K == 5 && i > 30 ? 4 : i % K; /* class 5: 5 images */
        all->pixels[4 * i] = (uint8_t)(i & 255), all->pixels[4 * i + 1] = (uint8_t)(i >> 8);
    }
    snprintf(all->name, sizeof all->name, "generated");
}

static int image_id(const rcl_dataset *ds, int j) {
    return ds->pixels[4 * j] | ds->pixels[4 * j + 1] << 8;
}

/* Each image of ds, by its id: seen[id] += 1; the original class of each must be in classes. */
static void mark(const rcl_dataset *ds, const rcl_dataset *all, const int *classes, int k, int *seen) {
    for (int j = 0; j < ds->n; j++) {
        int id = image_id(ds, j), ok = 0;
        seen[id]++;
        for (int c = 0; c < k; c++)
            ok |= all->labels[id] == classes[c];
        CHECK(ok, "image %d of class %d is not of the classes asked for", id, all->labels[id]);
        int rank = 0;
        for (int c = 0; c < k; c++)
            rank += classes[c] < all->labels[id];
        CHECK(ds->labels[j] == rank, "image %d: label %d, expected %d (ascending class order)", id, ds->labels[j],
              rank);
    }
}

int main(void) {
    rcl_dataset all, pool_set, covering, excluded;
    make(&all);
    const int source[3] = {0, 1, 2}, target[2] = {4, 3}, both[5] = {0, 1, 2, 4, 3};
    unsigned char *pool = malloc(N), *again = malloc(N);
    CHECK_OK(rcl_suite_target_pool(&all, target, 2, POOL, 5, pool));
    CHECK_OK(rcl_suite_target_pool(&all, target, 2, POOL, 5, again));
    CHECK(!memcmp(pool, again, N), "the pool is the same draw every time");
    CHECK_OK(rcl_suite_split_take(&all, target, 2, pool, 1, &pool_set));
    CHECK_OK(rcl_suite_split_take(&all, both, 5, pool, 0, &covering));
    CHECK_OK(rcl_suite_split_take(&all, source, 3, pool, 0, &excluded));
    CHECK(pool_set.n == 2 * POOL && pool_set.num_classes == 2, "pool: %d images of %d classes", pool_set.n,
          pool_set.num_classes);
    int per[2] = {0, 0};
    for (int j = 0; j < pool_set.n; j++)
        per[pool_set.labels[j]]++;
    CHECK(per[0] == POOL && per[1] == POOL, "pool per class: %d %d", per[0], per[1]);
    int in_pool[N] = {0}, in_cov[N] = {0}, in_exc[N] = {0};
    mark(&pool_set, &all, target, 2, in_pool);
    mark(&covering, &all, both, 5, in_cov);
    mark(&excluded, &all, source, 3, in_exc);
    CHECK(covering.num_classes == 5 && excluded.num_classes == 3, "classes: covering %d, excluded %d",
          covering.num_classes, excluded.num_classes);
    for (int i = 0; i < N; i++) {
        int c = all.labels[i], is_target = c == 3 || c == 4, is_source = c <= 2;
        CHECK(in_pool[i] <= 1 && in_cov[i] <= 1 && in_exc[i] <= 1, "image %d taken twice", i);
        CHECK(!(in_pool[i] && (in_cov[i] || in_exc[i])), "pool image %d is in a pre-training source", i);
        CHECK(in_pool[i] == (pool[i] != 0), "image %d: pool mark and pool set differ", i);
        CHECK(in_cov[i] == ((is_source || is_target) && !pool[i]), "image %d: covering source", i);
        CHECK(in_exc[i] == is_source, "image %d: excluded source", i);
    }
    rcl_dataset_free(&pool_set), rcl_dataset_free(&covering), rcl_dataset_free(&excluded);
    CHECK_FAILS(rcl_suite_target_pool(&all, (const int[]){5}, 1, POOL, 5, pool), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "fewer than the pool"), "a class smaller than the pool is named: %s",
          rcl_last_error());
    free(pool), free(again);
    rcl_dataset_free(&all);
    return rcl_test_finish();
}
