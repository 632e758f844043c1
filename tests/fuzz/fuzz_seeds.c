/* Writes the seed corpus of every fuzz target: valid files made with robustcl's own
 * writers plus the format fixtures of tests/data. usage: fuzz_seeds OUTDIR TESTDATA */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "robustcl/data.h"
#include "core/fileio.h"
#include "robustcl/safetensors.h"

static const char *out_dir, *data_dir;

static void put(const char *target, const char *name, const void *data, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
        exit(1);
    }
}

static void put_str(const char *target, const char *name, const char *s) { put(target, name, s, strlen(s)); }

/* A fixture (path under tests/data), optionally behind a prefix byte; missing ones are skipped. */
static void fixture(const char *target, const char *rel, int prefix) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", data_dir, rel);
    unsigned char *d;
    size_t n;
    if (rcl_file_read(path, &d, &n) != RCL_OK)
        return;
    unsigned char *b = malloc(n + 1);
    b[0] = (unsigned char)prefix;
    memcpy(b + (prefix >= 0), d, n);
    const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
    put(target, base, b, n + (prefix >= 0));
    free(b);
    free(d);
}

static unsigned char *slurp(const char *path, size_t *n) {
    unsigned char *d;
    if (rcl_file_read(path, &d, n) != RCL_OK) {
        fprintf(stderr, "fuzz_seeds: %s\n", rcl_last_error());
        exit(1);
    }
    return d;
}

static void idx_seeds(void) {
    uint8_t img[3 * 5 * 4], lab[3] = {0, 7, 2};
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 37);
    int idims[3] = {3, 5, 4}, ldims[1] = {3};
    char ip[4096], lp[4096];
    for (int gz = 0; gz < 2; gz++) {
        snprintf(ip, sizeof ip, "%s/idx-images.tmp", out_dir);
        snprintf(lp, sizeof lp, "%s/idx-labels.tmp", out_dir);
        if (rcl_idx_save(ip, img, 3, idims, gz) != RCL_OK || rcl_idx_save(lp, lab, 1, ldims, gz) != RCL_OK)
            exit(1);
        size_t ni, nl;
        unsigned char *a = slurp(ip, &ni), *b = slurp(lp, &nl);
        unsigned char *s = malloc(2 + ni + nl);
        s[0] = (unsigned char)ni;
        s[1] = (unsigned char)(ni >> 8);
        memcpy(s + 2, a, ni);
        memcpy(s + 2 + ni, b, nl);
        put("idx", gz ? "pair.gz" : "pair", s, 2 + ni + nl);
        free(s);
        free(a);
        free(b);
        remove(ip);
        remove(lp);
    }
}

static void cifar_seeds(void) {
    for (int fmt = 0; fmt < 2; fmt++) {
        size_t rec = 3072 + 1 + (size_t)fmt, n = 1 + 2 * rec;
        unsigned char *s = calloc(1, n);
        s[0] = (unsigned char)fmt;
        for (int r = 0; r < 2; r++) {
            unsigned char *p = s + 1 + r * rec;
            p[0] = (unsigned char)(3 + r);
            if (fmt)
                p[1] = (unsigned char)(42 + r);
            for (int i = 0; i < 3072; i++)
                p[1 + fmt + i] = (unsigned char)(i ^ r);
        }
        put("cifar", fmt ? "cifar100" : "cifar10", s, n);
        free(s);
    }
}

static void image_seeds(void) {
    static const char *imgs[] = {"grey_50x20.png", "rgb_30x40.jpg", "rgb_9x13.png", "rgba_33x33.png"};
    char rel[256];
    for (int i = 0; i < 4; i++) {
        snprintf(rel, sizeof rel, "data_resize/%s", imgs[i]);
        fixture("image", rel, i * 3);
    }
    static const char ppm[] = "\x06P6\n3 2\n255\n\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c"
                              "\x0d\x0e\x0f\x10\x11\x12";
    put("image", "tiny.ppm", ppm, sizeof ppm - 1);
    uint8_t chw[3 * 6 * 5];
    for (size_t i = 0; i < sizeof chw; i++)
        chw[i] = (uint8_t)(i * 11);
    char p[4096];
    snprintf(p, sizeof p, "%s/png.tmp", out_dir);
    if (rcl_image_write_png(p, chw, 3, 6, 5) != RCL_OK)
        exit(1);
    size_t n;
    unsigned char *d = slurp(p, &n), *s = malloc(n + 1);
    s[0] = 2;
    memcpy(s + 1, d, n);
    put("image", "written.png", s, n + 1);
    free(s);
    free(d);
    remove(p);
}

static void safetensors_seeds(void) {
    fixture("safetensors", "io_st_ref.safetensors", -1);
    rcl_st_writer *w;
    if (rcl_st_writer_new(&w) != RCL_OK)
        exit(1);
    float f[6] = {1, -2, 3.5f, 0, 1e-3f, 7};
    int64_t shape[2] = {2, 3}, one = 1;
    int32_t i32 = -5;
    rcl_st_writer_add(w, "conv.weight", RCL_DT_F32, 2, shape, f);
    rcl_st_writer_add(w, "bn.num_batches_tracked", RCL_DT_I32, 1, &one, &i32);
    rcl_st_writer_set_metadata(w, "arch", "wrn-10-1");
    unsigned char *d;
    size_t n;
    if (rcl_st_writer_to_memory(w, &d, &n) != RCL_OK)
        exit(1);
    put("safetensors", "written.safetensors", d, n);
    free(d);
    rcl_st_writer_free(w);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_seeds OUTDIR TESTDATA\n");
        return 2;
    }
    out_dir = argv[1];
    data_dir = argv[2];
    if (rcl_mkdirs(out_dir) != RCL_OK) {
        fprintf(stderr, "fuzz_seeds: %s\n", rcl_last_error());
        return 1;
    }
    idx_seeds();
    cifar_seeds();
    image_seeds();
    safetensors_seeds();

    static const char *npy[] = {"data_npy_be.npy", "data_npy_fortran.npy", "data_npy_i1.npy", "data_npy_i4.npy",
                                "data_npy_v1_u1.npy", "data_npy_v2_i8.npy", "data_npy_v3_i2.npy"};
    for (size_t i = 0; i < sizeof npy / sizeof npy[0]; i++)
        fixture("npy", npy[i], -1);
    static const char *npz[] = {"data_imnet_badlabel.npz", "data_imnet_badshape.npz", "data_imnet_count.npz",
                                "data_imnet_nolabels.npz", "data_imnet_shorthdr.npz",
                                "data_imnet_zip64.npz", "data_imagenet32/val_data.npz",
                                "io_zip_descriptor.zip", "io_zip_eocd64.zip", "io_zip_force64.zip",
                                "io_zip_force64_descriptor.zip"};
    for (size_t i = 0; i < sizeof npz / sizeof npz[0]; i++)
        fixture("npz", npz[i], -1);
    static const char *mat[] = {"data_svhn.mat", "data_svhn_badlabel.mat", "data_svhn_badshape.mat",
                                "data_svhn_count.mat", "data_svhn_z.mat"};
    for (size_t i = 0; i < sizeof mat / sizeof mat[0]; i++)
        fixture("mat", mat[i], -1);
    static const char *pkl[] = {"data_imnet_evil.pkl", "data_imnet_list.pkl", "data_imnet_u16.pkl",
                                "io_pickle_cifar10_py2.pkl", "io_pickle_misc_p2.pkl", "io_pickle_misc_p5.pkl",
                                "data_imnet_badlabel.pkl"};
    for (size_t i = 0; i < sizeof pkl / sizeof pkl[0]; i++)
        fixture("pickle", pkl[i], -1);
    static const char *pt[] = {"io_torch_ckpt.pt", "io_torch_evil.pt", "io_torch_legacy.pt", "io_torch_zip.pt"};
    for (size_t i = 0; i < sizeof pt / sizeof pt[0]; i++)
        fixture("torch", pt[i], -1);

    put_str("json", "object", "{\"arch\": \"wrn-40-2\", \"epochs\": [1, 2.5e-3, -0], \"ok\": true, \"n\": null}");
    put_str("json", "strings", "[\"a\\u00e9\\ud83d\\ude00\\n\", \"\\\"\", 12345678901234567890, 1e400, {}]");
    put_str("json", "nested", "[[[[{\"a\":[[[]]]}]]]]");

    static const char *specs[] = {"fashion-mnist", "cifar10:/data/c10,classes=5-9,n=100,seed=3",
                                  "cifar100:DIR,labels=coarse,split=test", "folder:/x,size=32x48,channels=1,layout=flat",
                                  "gaussian,n=10,shape=3x32x32", "svhn:a.mat,exclude=list.txt,classes=0-3+7",
                                  "tinyimagenet:/t,size=64", "pgd:eps=8/255,steps=10,restarts=2,loss=cw",
                                  "autoattack:eps=4/255,version=rand,attacks=apgd-ce+square,n=10,seed=3",
                                  "autoattack:norm=l2,eps=0.5,attacks=apgd-t+square,targets=3,queries=50"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "spec%zu", i);
        put_str("spec", name, specs[i]);
    }
    static const char *cli[] = {"train\n--data\ngaussian,n=8\n--arch\nwrn-10-1\n--epochs=2\n--checkpoint-every\n5m",
                                "eval\n--model\nx.safetensors\n--json\nr.json",
                                "eval\n--model\nx.safetensors\n--corruptions\nc\n--baseline\nb.json",
                                "corrupt\n--out\nd\n--corrupt\nfog,frost\n--frost\nf\n--seed\n3",
                                "eval\n--model\nx.safetensors\n--attack\nautoattack:eps=1/255,n=4,attacks=square",
                                "bench\ngemm\n--device\n0:0",
                                "selftest\n--device\ncpu", "devices", "train\n--lr\n1e-3\n--resume\n--out"};
    for (size_t i = 0; i < sizeof cli / sizeof cli[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "cli%zu", i);
        put_str("cli", name, cli[i]);
    }
    return 0;
}
