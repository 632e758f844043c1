/* Dataset specs (parsing and errors), class selection, exclusion lists and seeded subsets. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/data.h"
#include "core/fileio.h"

static char tmpd[512];

static void test_parse(void) {
    rcl_dataset_spec s;
    CHECK_OK(rcl_dataset_spec_parse("fashion-mnist", &s));
    CHECK(!strcmp(s.kind, "fashion-mnist") && !s.arg[0] && s.split == -1 && s.n == 0 && s.seed == 0, "plain");
    CHECK_OK(rcl_dataset_spec_parse("cifar10:/a/b:c,n=100,seed=5,split=test", &s));
    CHECK(!strcmp(s.kind, "cifar10") && !strcmp(s.arg, "/a/b:c") && s.n == 100 && s.seed == 5 && s.split == 0,
          "arg keeps later colons; options");
    CHECK_OK(rcl_dataset_spec_parse("fashion-mnist,classes=5-9,split=train", &s));
    CHECK(!strcmp(s.classes, "5-9") && s.split == 1, "classes and split");
    CHECK_OK(rcl_dataset_spec_parse("folder:/x,size=24x40,channels=1,layout=flat,exclude=/e.txt", &s));
    CHECK(s.size_h == 24 && s.size_w == 40 && s.channels == 1 && s.layout == RCL_FOLDER_FLAT &&
              !strcmp(s.exclude, "/e.txt"),
          "folder options");
    CHECK_OK(rcl_dataset_spec_parse("tinyimagenet:/t,size=32", &s));
    CHECK(s.size_h == 32 && s.size_w == 32, "size=S");
    CHECK_OK(rcl_dataset_spec_parse("blobs,shape=3x64x64,n=10,seed=18446744073709551615", &s));
    CHECK(s.shape_c == 3 && s.shape_h == 64 && s.shape_w == 64 && s.n == 10 && s.seed == UINT64_MAX, "synthetic");
    CHECK_OK(rcl_dataset_spec_parse("cifar100:/c,labels=coarse", &s));
    CHECK(s.coarse == 1, "labels=coarse");

    static const struct {
        const char *spec, *msg;
    } bad[] = {
        {"", "empty"},
        {"mnist", "unknown dataset 'mnist'"},
        {"cifar10", "needs a path"},
        {"cifar10,n=5", "needs a path"},
        {"gaussian:/x", "takes no"},
        {"fashion-mnist,n=0", "n"},
        {"fashion-mnist,n=12abc", "12abc"},
        {"fashion-mnist,n=-3", "-3"},
        {"fashion-mnist,classes=5-", "5-"},
        {"fashion-mnist,classes=9-5", "9-5"},
        {"fashion-mnist,classes=a", "classes"},
        {"fashion-mnist,classes=1++2", "classes"},
        {"fashion-mnist,classes=1+", "classes"},
        {"fashion-mnist,classes=0,2", "'2' is not KEY=VALUE"},
        {"fashion-mnist,split=dev", "dev"},
        {"fashion-mnist,foo=1", "unknown option 'foo'"},
        {"fashion-mnist,=1", "KEY=VALUE"},
        {"fashion-mnist,seed=x", "seed"},
        {"cifar10:/x,size=32", "does not apply"},
        {"cifar10:/x,labels=coarse", "does not apply"},
        {"cifar100:/x,labels=medium", "medium"},
        {"folder:/x,size=0", "size"},
        {"folder:/x,size=3x", "size"},
        {"folder:/x,size=3x4x5", "size"},
        {"folder:/x,channels=2", "channels"},
        {"folder:/x,layout=tree", "tree"},
        {"folder:/x,split=train", "does not apply"},
        {"blobs,shape=3x32", "shape"},
        {"blobs,classes=1", "does not apply"},
        {"fashion-mnist,exclude=", "exclude"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_FAILS(rcl_dataset_spec_parse(bad[i].spec, &s), RCL_ERR_INVALID_ARG);
        CHECK(strstr(rcl_last_error(), bad[i].msg) != NULL, "'%s': %s", bad[i].spec, rcl_last_error());
    }
    int *cl, k;
    CHECK_OK(rcl_parse_class_ranges("0-3+7+5", &cl, &k));
    CHECK(k == 6 && cl[0] == 0 && cl[3] == 3 && cl[4] == 7 && cl[5] == 5, "0-3+7+5");
    free(cl);
}

/* A 10-class labelled set: image i has label i % 10 and pixel value i. */
static void make(rcl_dataset *ds, int n) {
    CHECK_OK(rcl_dataset_alloc(ds, n, 1, 2, 2, 10, 0));
    for (int i = 0; i < n; i++) {
        ds->labels[i] = i % 10;
        memset(ds->pixels + 4 * i, i, 4);
    }
    snprintf(ds->name, sizeof ds->name, "made");
}

static void test_selection(void) {
    rcl_dataset ds;
    make(&ds, 40);
    int keep[4] = {7, 5, 7, 9}; /* order and repeats do not matter: original order 5, 7, 9 */
    CHECK_OK(rcl_dataset_keep_classes(&ds, keep, 4));
    CHECK(ds.n == 12 && ds.num_classes == 3, "kept n=%d classes=%d", ds.n, ds.num_classes);
    CHECK(ds.labels[0] == 0 && ds.pixels[0] == 5 && ds.labels[1] == 1 && ds.pixels[4] == 7 && ds.labels[2] == 2 &&
              ds.pixels[8] == 9 && ds.labels[3] == 0 && ds.pixels[12] == 15,
          "relabelled 5->0, 7->1, 9->2, file order kept");
    int bad = 3;
    CHECK_FAILS(rcl_dataset_keep_classes(&ds, &bad, 1), RCL_ERR_INVALID_ARG);
    rcl_dataset_free(&ds);

    make(&ds, 40);
    int ex[2] = {0, 4};
    CHECK_OK(rcl_dataset_exclude_classes(&ds, ex, 2));
    CHECK(ds.n == 32 && ds.num_classes == 8 && ds.labels[0] == 0 && ds.pixels[0] == 1 && ds.labels[3] == 3 &&
              ds.pixels[12] == 5,
          "exclude 0 and 4: 1->0, 5->3");
    rcl_dataset_free(&ds);

    make(&ds, 100);
    CHECK_OK(rcl_dataset_subset(&ds, 30, 42));
    int sorted = 1;
    for (int i = 1; i < ds.n; i++)
        sorted &= ds.pixels[4 * i] > ds.pixels[4 * (i - 1)];
    CHECK(ds.n == 30 && sorted, "subset of 30, distinct, in file order");
    uint8_t first[30];
    for (int i = 0; i < 30; i++)
        first[i] = ds.pixels[4 * i];
    rcl_dataset_free(&ds);
    make(&ds, 100);
    CHECK_OK(rcl_dataset_subset(&ds, 30, 42));
    int same = 1;
    for (int i = 0; i < 30; i++)
        same &= ds.pixels[4 * i] == first[i];
    CHECK(same, "same seed, same subset");
    rcl_dataset_free(&ds);
    make(&ds, 100);
    CHECK_OK(rcl_dataset_subset(&ds, 30, 43));
    same = 1;
    for (int i = 0; i < 30; i++)
        same &= ds.pixels[4 * i] == first[i];
    CHECK(!same, "another seed, another subset");
    CHECK_FAILS(rcl_dataset_subset(&ds, 31, 1), RCL_ERR_INVALID_ARG);
    int64_t idx[3] = {2, 2, 0};
    CHECK_OK(rcl_dataset_take(&ds, idx, 3));
    CHECK(ds.n == 3 && ds.pixels[0] == ds.pixels[4], "take with repeats");
    idx[0] = 3;
    CHECK_FAILS(rcl_dataset_take(&ds, idx, 1), RCL_ERR_INVALID_ARG);
    rcl_dataset_free(&ds);
    CHECK_FAILS(rcl_dataset_alloc(&ds, 2, 0, 2, 2, 0, 0), RCL_ERR_INVALID_ARG);
    CHECK_OK(rcl_dataset_synthetic(RCL_SYNTH_GAUSSIAN, 4, 1, 2, 2, 0, &ds));
    CHECK_FAILS(rcl_dataset_keep_classes(&ds, keep, 1), RCL_ERR_INVALID_ARG); /* unlabelled */
    CHECK_OK(rcl_dataset_subset(&ds, 2, 0));
    CHECK(ds.n == 2 && ds.values, "float sets subset too");
    rcl_dataset_free(&ds);

    /* class list files */
    char p[700];
    snprintf(p, sizeof p, "%s/list.txt", tmpd);
    const char *good = "# excluded\n3\n  8 # trailing comment\r\n\n";
    CHECK_OK(rcl_file_write_atomic(p, good, strlen(good)));
    int *cl, k;
    CHECK_OK(rcl_read_class_list(p, 10, &cl, &k));
    CHECK(k == 2 && cl[0] == 3 && cl[1] == 8, "list: %d entries", k);
    free(cl);
    const char *badl = "3\n12\n";
    CHECK_OK(rcl_file_write_atomic(p, badl, strlen(badl)));
    CHECK_FAILS(rcl_read_class_list(p, 10, &cl, &k), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "list.txt:2") != NULL, "names file:line: %s", rcl_last_error());
    const char *badw = "n01440764\n";
    CHECK_OK(rcl_file_write_atomic(p, badw, strlen(badw)));
    CHECK_FAILS(rcl_read_class_list(p, 10, &cl, &k), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "list.txt:1") != NULL, "%s", rcl_last_error());
    snprintf(p, sizeof p, "%s/none.txt", tmpd);
    CHECK_FAILS(rcl_read_class_list(p, 10, &cl, &k), RCL_ERR_IO);

    /* wnids through a map_clsloc.txt-format map (wnid, 1-based index, name), mixed with indices */
    char map[700];
    snprintf(map, sizeof map, "%s/map_clsloc.txt", tmpd);
    const char *mapt = "n01440764 3 tench\nn01443537 1 goldfish\n\nn02119789 2 kit_fox\r\n";
    CHECK_OK(rcl_file_write_atomic(map, mapt, strlen(mapt)));
    snprintf(p, sizeof p, "%s/list.txt", tmpd);
    const char *wl = "# two wnids and an index\nn02119789\n  n01440764  # tench\r\n0\n";
    CHECK_OK(rcl_file_write_atomic(p, wl, strlen(wl)));
    CHECK_OK(rcl_read_class_list_mapped(p, map, 10, &cl, &k));
    CHECK(k == 3 && cl[0] == 1 && cl[1] == 2 && cl[2] == 0, "wnids map to 0-based indices: %d entries", k);
    free(cl);
    CHECK_FAILS(rcl_read_class_list_mapped(p, map, 2, &cl, &k), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "list.txt:3") && strstr(rcl_last_error(), "n01440764"),
          "a wnid whose index is out of range names the line: %s", rcl_last_error());
    const char *unk = "n02119789\nn09999999\n";
    CHECK_OK(rcl_file_write_atomic(p, unk, strlen(unk)));
    CHECK_FAILS(rcl_read_class_list_mapped(p, map, 10, &cl, &k), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "list.txt:2") && strstr(rcl_last_error(), "unknown wnid n09999999") &&
              strstr(rcl_last_error(), "map_clsloc.txt"),
          "unknown wnid: one error naming the file, line and map: %s", rcl_last_error());
    const char *badmap = "n01440764 3 tench\nn01443537 goldfish\n";
    CHECK_OK(rcl_file_write_atomic(map, badmap, strlen(badmap)));
    CHECK_FAILS(rcl_read_class_list_mapped(p, map, 10, &cl, &k), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "map_clsloc.txt:2") != NULL, "a bad map line is named: %s", rcl_last_error());
    remove(map);
    CHECK_FAILS(rcl_read_class_list_mapped(p, map, 10, &cl, &k), RCL_ERR_IO);
}

/* Spec loading end to end on a small Fashion-MNIST-shaped folder, then the real one. */
static void test_load(void) {
    char d[700], p[800];
    snprintf(d, sizeof d, "%s/fm", tmpd);
    CHECK_OK(rcl_mkdirs(d));
    enum { N = 50 };
    uint8_t im[N * 28 * 28], lb[N];
    for (int i = 0; i < N; i++) {
        lb[i] = (uint8_t)(i % 10);
        memset(im + i * 784, i, 784);
    }
    int di[3] = {N, 28, 28}, dl[1] = {N};
    const char *names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                            "t10k-labels-idx1-ubyte.gz"};
    for (int f = 0; f < 4; f++) {
        snprintf(p, sizeof p, "%s/%s", d, names[f]);
        CHECK_OK(f % 2 ? rcl_idx_save(p, lb, 1, dl, 1) : rcl_idx_save(p, im, 3, di, 1));
    }
    char spec[2600];
    rcl_dataset ds;
    snprintf(spec, sizeof spec, "fashion-mnist:%s,classes=5-9", d);
    CHECK_OK(rcl_dataset_load(spec, 1, &ds));
    CHECK(ds.n == 25 && ds.num_classes == 5 && ds.labels[0] == 0 && ds.pixels[0] == 5 && ds.labels[4] == 4,
          "classes=5-9 relabelled 0..4: n=%d", ds.n);
    CHECK(!strcmp(ds.name, "fashion-mnist:train,classes=5-9"), "name %s", ds.name);
    rcl_dataset_free(&ds);
    snprintf(spec, sizeof spec, "fashion-mnist:%s,classes=0+2,n=6,seed=4,split=test", d);
    CHECK_OK(rcl_dataset_load(spec, 1, &ds));
    int ok = ds.n == 6 && ds.num_classes == 2;
    for (int i = 0; ok && i < 6; i++)
        ok &= ds.labels[i] == (ds.pixels[784 * i] % 10 == 2) && (i == 0 || ds.pixels[784 * i] > ds.pixels[784 * (i - 1)]);
    CHECK(ok, "classes then a seeded subset, in file order");
    CHECK(strstr(ds.name, "fashion-mnist:test,classes=0+2,n=6,seed=4") == ds.name, "name %s", ds.name);
    rcl_dataset_free(&ds);
    snprintf(p, sizeof p, "%s/ex.txt", tmpd);
    CHECK_OK(rcl_file_write_atomic(p, "0\n1\n2\n3\n4\n", 10));
    snprintf(spec, sizeof spec, "fashion-mnist:%s,exclude=%s", d, p);
    CHECK_OK(rcl_dataset_load(spec, 1, &ds));
    CHECK(ds.n == 25 && ds.num_classes == 5 && ds.pixels[0] == 5, "exclude file = classes=5-9");
    rcl_dataset_free(&ds);
    /* the same list as wnids: the map next to the data by default, or map=FILE */
    char map[800], ml[400] = "";
    for (int c = 0; c < 10; c++)
        snprintf(ml + strlen(ml), sizeof ml - strlen(ml), "n%08d %d class%d\n", 100 + c, c + 1, c);
    snprintf(map, sizeof map, "%s/map_clsloc.txt", d);
    CHECK_OK(rcl_file_write_atomic(map, ml, strlen(ml)));
    CHECK_OK(rcl_file_write_atomic(p, "n00000100\nn00000101\n2\nn00000103\nn00000104\n", 42));
    snprintf(spec, sizeof spec, "fashion-mnist:%s,exclude=%s", d, p);
    CHECK_OK(rcl_dataset_load(spec, 1, &ds));
    CHECK(ds.n == 25 && ds.num_classes == 5 && ds.pixels[0] == 5, "wnid exclude list (DIR/map_clsloc.txt) = classes=5-9");
    rcl_dataset_free(&ds);
    char moved[540];
    snprintf(moved, sizeof moved, "%s/other_map.txt", tmpd);
    CHECK(rename(map, moved) == 0, "move the map");
    CHECK_FAILS(rcl_dataset_load(spec, 1, &ds), RCL_ERR_FORMAT);
    CHECK(strstr(rcl_last_error(), "ex.txt:1") && strstr(rcl_last_error(), "map"), "no map: %s", rcl_last_error());
    snprintf(spec, sizeof spec, "fashion-mnist:%s,exclude=%s,map=%s", d, p, moved);
    CHECK_OK(rcl_dataset_load(spec, 1, &ds));
    CHECK(ds.n == 25 && ds.num_classes == 5, "map=FILE");
    rcl_dataset_free(&ds);
    snprintf(spec, sizeof spec, "fashion-mnist:%s,map=%s", d, moved);
    CHECK_FAILS(rcl_dataset_load(spec, 1, &ds), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "exclude=") != NULL, "map= without exclude=: %s", rcl_last_error());
    snprintf(spec, sizeof spec, "fashion-mnist:%s,n=51", d);
    CHECK_FAILS(rcl_dataset_load(spec, 1, &ds), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "51") != NULL, "%s", rcl_last_error());
    snprintf(spec, sizeof spec, "fashion-mnist:%s,classes=3-12", d);
    CHECK_FAILS(rcl_dataset_load(spec, 1, &ds), RCL_ERR_INVALID_ARG);
    CHECK(strstr(rcl_last_error(), "class 10") != NULL, "%s", rcl_last_error());
    snprintf(spec, sizeof spec, "fashion-mnist:%s/nowhere", tmpd);
    CHECK_FAILS(rcl_dataset_load(spec, 1, &ds), RCL_ERR_IO);
    CHECK(strstr(rcl_last_error(), "nowhere") != NULL, "%s", rcl_last_error());
    CHECK(ds.pixels == NULL && ds.n == 0, "failed loads leave *out empty");

    /* the real set through the default directory, the mini suite's target split */
    FILE *f = fopen("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "rb");
    if (!f) {
        printf("SKIP real Fashion-MNIST spec: not installed\n");
        return;
    }
    fclose(f);
    CHECK_OK(rcl_dataset_load("fashion-mnist,classes=5-9", 0, &ds));
    int counts[5] = {0};
    for (int i = 0; i < ds.n; i++)
        if (ds.labels[i] >= 0 && ds.labels[i] < 5)
            counts[ds.labels[i]]++;
    CHECK(ds.n == 5000 && ds.num_classes == 5 && counts[0] == 1000 && counts[4] == 1000,
          "test classes 5-9: %d images", ds.n);
    rcl_dataset_free(&ds);
}

int main(void) {
    snprintf(tmpd, sizeof tmpd, "%s", rcl_test_tmpdir());
    test_parse();
    test_selection();
    test_load();
    return rcl_test_finish();
}
