/* suite paper end to end at a tiny scale on generated CIFAR-10/100 (binary) and
 * ImageNet32 (npz) files: the plan lists every run of every table once with its
 * dependency, --only runs exactly the runs asked for (and refuses a fine-tuning run
 * whose pre-trained model is missing), and the collected report has the paper's
 * tables with the paper's columns and values, our numbers recomputed from the stages;
 * with a released-style CIFAR-10-C beside the data every CIFAR-10 run has its mean
 * corruption error, CIFAR-100 (no folder) none, and a broken folder is refused. The
 * adversarial runs have their AutoAttack robust accuracy (cheap settings here) in Table 3
 * beside PGD-20 and a summary row with a verdict and no claim of the paper; with
 * --autoattack-n 0 a run has none. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "robustcl/checkpoint.h"
#include "robustcl/data.h"
#include "robustcl/json.h"
#include "robustcl/suite.h"

/* ---- fixtures ---- */

static unsigned char pixel(int i, int label, int e) { /* a class-dependent pattern plus noise */
    return (unsigned char)((label * 37 + (e % 3) * 60 + ((i * 7919 + e * 31) % 97)) & 255);
}

static void write_cifar(const char *path, int n, int classes, int fine_byte, int first) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "create %s", path);
    for (int i = 0; f && i < n; i++) {
        int label = (first + i) % classes;
        if (fine_byte)
            fputc(label / 5, f); /* coarse */
        fputc(label, f);
        for (int e = 0; e < 3072; e++)
            fputc(pixel(first + i, label, e), f);
    }
    if (f)
        fclose(f);
}

static uint32_t crc32_of(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put16(FILE *f, unsigned v) { fputc(v & 255, f), fputc(v >> 8 & 255, f); }
static void put32(FILE *f, uint32_t v) { put16(f, v & 0xffff), put16(f, v >> 16); }

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n ? *n : 1);
    if (b && fread(b, 1, *n, f) != *n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

/* An .npz as numpy.savez writes it: a zip of stored data.npy and labels.npy. */
static void write_npz(const char *path, const char *tmp, int n, int first) {
    unsigned char *data = malloc((size_t)n * 3072);
    int64_t *labels = malloc((size_t)n * sizeof *labels);
    for (int i = 0; i < n; i++) {
        labels[i] = 1 + (first + i) * 7 % 1000; /* 1-based in the files */
        for (int e = 0; e < 3072; e++)
            data[(size_t)i * 3072 + e] = pixel(first + i, (int)labels[i], e);
    }
    const char *names[2] = {"data.npy", "labels.npy"};
    char files[2][600];
    int64_t dshape[2] = {n, 3072}, lshape[1] = {n};
    snprintf(files[0], sizeof files[0], "%s/data.npy", tmp);
    snprintf(files[1], sizeof files[1], "%s/labels.npy", tmp);
    CHECK_OK(rcl_npy_save(files[0], "|u1", 2, dshape, data));
    CHECK_OK(rcl_npy_save(files[1], "<i8", 1, lshape, labels));
    free(data), free(labels);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "create %s", path);
    if (!f)
        return;
    uint32_t offset[2], crc[2], size[2];
    for (int k = 0; k < 2; k++) {
        size_t len = 0;
        unsigned char *b = slurp(files[k], &len);
        CHECK(b != NULL, "read %s", files[k]);
        offset[k] = (uint32_t)ftell(f), crc[k] = crc32_of(b, len), size[k] = (uint32_t)len;
        put32(f, 0x04034b50), put16(f, 20), put16(f, 0), put16(f, 0), put16(f, 0), put16(f, 0);
        put32(f, crc[k]), put32(f, size[k]), put32(f, size[k]), put16(f, (unsigned)strlen(names[k])), put16(f, 0);
        fputs(names[k], f);
        fwrite(b, 1, len, f);
        free(b);
    }
    uint32_t cd = (uint32_t)ftell(f);
    for (int k = 0; k < 2; k++) {
        put32(f, 0x02014b50), put16(f, 20), put16(f, 20), put16(f, 0), put16(f, 0), put16(f, 0), put16(f, 0);
        put32(f, crc[k]), put32(f, size[k]), put32(f, size[k]), put16(f, (unsigned)strlen(names[k]));
        put16(f, 0), put16(f, 0), put16(f, 0), put16(f, 0), put32(f, 0), put32(f, offset[k]);
        fputs(names[k], f);
    }
    uint32_t cd_size = (uint32_t)ftell(f) - cd;
    put32(f, 0x06054b50), put16(f, 0), put16(f, 0), put16(f, 2), put16(f, 2), put32(f, cd_size), put32(f, cd);
    put16(f, 0);
    fclose(f);
}

/* DIR/CIFAR-10-C as released, at 2 images a severity: gaussian_noise and contrast, uint8
 * [10, 32, 32, 3], and their labels. Each error is a multiple of 50% a severity, so an mce of
 * these files is a multiple of 5%. */
static void write_corrupted(const char *root) {
    char path[700];
    snprintf(path, sizeof path, "%s/CIFAR-10-C", root);
    mkdir(path, 0755);
    static unsigned char images[10 * 32 * 32 * 3];
    int64_t labels[10], shape[4] = {10, 32, 32, 3};
    for (int i = 0; i < 10; i++) {
        labels[i] = i % 2 ? 3 : 7;
        for (int p = 0; p < 32 * 32 * 3; p++)
            images[i * 32 * 32 * 3 + p] = pixel(p, (int)labels[i], i);
    }
    const char *names[2] = {"gaussian_noise", "contrast"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/CIFAR-10-C/%s.npy", root, names[k]);
        CHECK_OK(rcl_npy_save(path, "|u1", 4, shape, images));
    }
    snprintf(path, sizeof path, "%s/CIFAR-10-C/labels.npy", root);
    CHECK_OK(rcl_npy_save(path, "<i8", 1, shape, labels));
}

static void make_data(const char *root) {
    char path[600];
    const char *sub[3] = {"cifar10", "cifar100", "imagenet32"};
    mkdir(root, 0755);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", root, sub[i]);
        mkdir(path, 0755);
    }
    for (int b = 1; b <= 5; b++) { /* 12 a batch: 6 per class */
        snprintf(path, sizeof path, "%s/cifar10/data_batch_%d.bin", root, b);
        write_cifar(path, 12, 10, 0, 12 * (b - 1));
    }
    snprintf(path, sizeof path, "%s/cifar10/test_batch.bin", root);
    write_cifar(path, 20, 10, 0, 1000);
    snprintf(path, sizeof path, "%s/cifar100/train.bin", root);
    write_cifar(path, 300, 100, 1, 0);
    snprintf(path, sizeof path, "%s/cifar100/test.bin", root);
    write_cifar(path, 100, 100, 1, 1000);
    snprintf(path, sizeof path, "%s/imagenet32/train_data_batch_1.npz", root);
    write_npz(path, root, 64, 0);
    snprintf(path, sizeof path, "%s/imagenet32/val_data.npz", root);
    write_npz(path, root, 20, 5000);
    snprintf(path, sizeof path, "%s/exclude.txt", root);
    FILE *f = fopen(path, "w");
    fprintf(f, "# three ImageNet32 classes left out, one by wnid (class 7 in the map beside the data)\n0\nn00000008\n999\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/imagenet32/map_clsloc.txt", root);
    f = fopen(path, "w");
    for (int c = 0; f && c < 1000; c++)
        fprintf(f, "n%08d %d class_%d\n", c + 1, c + 1, c);
    if (f)
        fclose(f);
    write_corrupted(root);
}

/* ---- the plan ---- */

typedef struct {
    char id[160], dep[64];
    int line;
} plan_line;

static int find(const plan_line *p, int n, const char *id) {
    for (int i = 0; i < n; i++)
        if (!strcmp(p[i].id, id))
            return i;
    return -1;
}

static void check_plan(const rcl_suite_paper_config *c, const char *out) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK_OK(rcl_suite_paper_plan(c, out, "robustcl", f));
    fclose(f);
    int cap = 1000, n = 0;
    plan_line *p = calloc((size_t)cap, sizeof *p);
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && n < cap; line = strtok_r(NULL, "\n", &save)) {
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        CHECK(t1 && t2, "plan line %d has three tab-separated fields: %s", n + 1, line);
        if (!t1 || !t2)
            continue;
        *t1 = *t2 = 0;
        snprintf(p[n].id, sizeof p[n].id, "%s", line);
        snprintf(p[n].dep, sizeof p[n].dep, "%s", t1 + 1);
        char want[256];
        snprintf(want, sizeof want, "--only '%s'", line);
        CHECK(strstr(t2 + 1, "robustcl suite paper --data-root ") == t2 + 1 && strstr(t2 + 1, want) &&
                  strstr(t2 + 1, "--scale 0.001") && strstr(t2 + 1, "--exclude ") &&
                  strstr(t2 + 1, " --autoattack-n 1000 "),
              "plan command of %s runs it alone with the same options: %s", line, t2 + 1);
        p[n].line = n;
        n++;
    }
    /* per target: noise 2 corruptions x 11 strengths x 4 methods x 2 arms, imbalance 7 gammas x
     * (4 scratch methods + pre-training), adversarial 4, OOD/calibration 2; two pre-trainings */
    int want_runs = 2 + 2 * (2 * 11 * 4 * 2 + 7 * 5 + 4 + 2);
    CHECK(n == want_runs, "plan lists %d runs, expected %d", n, want_runs);
    for (int i = 0; i < n; i++) {
        CHECK(find(p, i, p[i].id) < 0, "run %s listed once", p[i].id);
        int pre = strstr(p[i].id, "/pretrained/") != NULL, adv = strstr(p[i].id, "/adversarial/") != NULL;
        const char *want = !pre ? "-" : adv ? "pretrain-adv" : "pretrain";
        CHECK(!strcmp(p[i].dep, want), "%s depends on '%s' (expected '%s')", p[i].id, p[i].dep, want);
        int d = find(p, n, p[i].dep);
        CHECK(!pre || (d >= 0 && d < i), "%s comes after its dependency %s", p[i].id, p[i].dep);
    }
    const char *corruptions[2] = {"uniform", "flip"}, *methods[4] = {"normal", "forward", "glc5", "glc10"};
    const char *targets[2] = {"cifar10", "cifar100"}, *arms[2] = {"scratch", "pretrained"};
    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 2; k++)
            for (int s = 0; s <= 10; s++)
                for (int m = 0; m < 4; m++)
                    for (int a = 0; a < 2; a++) {
                        char id[160];
                        snprintf(id, sizeof id, "%s/noise-%s/%g/%s/%s/seed=1", targets[t], corruptions[k], s / 10.0,
                                 methods[m], arms[a]);
                        CHECK(find(p, n, id) >= 0, "plan has %s", id);
                    }
    const char *more[] = {"pretrain", "pretrain-adv", "cifar100/imbalance/1.5/smote/scratch/seed=1",
                          "cifar10/imbalance/0.2/normal/pretrained/seed=1", "cifar100/adversarial/8/normal/scratch/seed=1",
                          "cifar10/adversarial/8/pgd-last-layer/pretrained/seed=1", "cifar100/clean/0/normal/pretrained/seed=1"};
    for (size_t i = 0; i < sizeof more / sizeof *more; i++)
        CHECK(find(p, n, more[i]) >= 0, "plan has %s", more[i]);
    free(p);
    free(text);
}

/* ---- stages and the report ---- */

static int count_stages(const char *out) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls %s/stages/*.json 2>/dev/null | wc -l", out);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = -1;
        pclose(f);
    }
    return n;
}

static double stage_metric(const char *out, const char *id, const char *key) {
    char path[700], safe[200];
    size_t j = 0;
    for (; id[j] && j + 1 < sizeof safe; j++)
        safe[j] = id[j] == '/' ? '_' : id[j];
    safe[j] = 0;
    snprintf(path, sizeof path, "%s/stages/%s.json", out, safe);
    rcl_json *js = NULL;
    if (rcl_json_parse_file(path, &js) != RCL_OK) {
        CHECK(0, "stage %s exists", path);
        return NAN;
    }
    double v = rcl_json_get_number(rcl_json_get(js, "metrics"), key, NAN);
    rcl_json_free(js);
    return v;
}

static const rcl_json *table(const rcl_json *report, const char *key) {
    const rcl_json *t = rcl_json_get(report, "tables");
    for (size_t i = 0; t && i < t->len; i++)
        if (!strcmp(rcl_json_get_string(&t->items[i], "key"), key))
            return &t->items[i];
    CHECK(0, "report has table %s", key);
    return NULL;
}

/* The cell of a table row (labels a, b) under a column name; NAN for null/absent. */
static double cell(const rcl_json *t, const char *a, const char *b, const char *col) {
    const rcl_json *cols = rcl_json_get(t, "columns"), *rows = rcl_json_get(t, "rows");
    int ci = -1;
    for (size_t i = 0; cols && i < cols->len; i++)
        if (!strcmp(cols->items[i].string, col))
            ci = (int)i;
    CHECK(ci >= 2, "table %s has column %s", rcl_json_get_string(t, "key"), col);
    for (size_t i = 0; ci >= 0 && rows && i < rows->len; i++) {
        const rcl_json *r = &rows->items[i];
        if (!strcmp(r->items[0].string, a) && !strcmp(r->items[1].string, b))
            return r->items[ci].type == RCL_JSON_NUMBER ? r->items[ci].number : NAN;
    }
    CHECK(0, "table %s has row %s / %s", rcl_json_get_string(t, "key"), a, b);
    return NAN;
}

static int close_to(double a, double b) { return fabs(a - b) < 1e-9 * (1 + fabs(b)); }

static void check_report(const char *out) {
    CHECK_OK(rcl_suite_report(rcl_test_run_config(), &out, 1, out, NULL));
    char path[700];
    snprintf(path, sizeof path, "%s/report.html", out);
    size_t len = 0;
    char *html = (char *)slurp(path, &len);
    CHECK(html && strstr(html, "Table 1") && strstr(html, "Table 5") && strstr(html, "(paper)") &&
              strstr(html, "Common corruptions: mean corruption error") && strstr(html, "<th>AutoAttack</th>") &&
              strstr(html, "AutoAttack robust accuracy (%): APGD-CE, APGD-T, FAB-T and Square"),
          "report.html has the tables with the paper's columns, the AutoAttack column and the corruption table");
    free(html);
    snprintf(path, sizeof path, "%s/report.json", out);
    rcl_json *j = NULL;
    CHECK_OK(rcl_json_parse_file(path, &j));
    if (!j)
        return;
    /* Table 1: over the strengths that ran (uniform 0 and 1 here) the area is their mean */
    const rcl_json *t1 = table(j, "table1");
    const char *arm_col[2] = {"normal", "pre-trained"}, *arm_id[2] = {"scratch", "pretrained"};
    for (int a = 0; t1 && a < 2; a++) {
        char id0[160], id1[160], pcol[40];
        snprintf(id0, sizeof id0, "cifar10/noise-uniform/0/normal/%s/seed=1", arm_id[a]);
        snprintf(id1, sizeof id1, "cifar10/noise-uniform/1/normal/%s/seed=1", arm_id[a]);
        double want = (stage_metric(out, id0, "error") + stage_metric(out, id1, "error")) / 2;
        double got = cell(t1, "cifar10", "No correction", arm_col[a]);
        CHECK(close_to(got, want), "Table 1 C10 no correction %s: %g, expected %g", arm_col[a], got, want);
        snprintf(pcol, sizeof pcol, "%s (paper)", arm_col[a]);
        CHECK(cell(t1, "cifar100", "GLC 10%", pcol) == (a ? 28.4 : 38.9), "Table 1 has the paper's C100 GLC 10%%");
        CHECK(isnan(cell(t1, "cifar100", "GLC 10%", arm_col[a])), "Table 1 C100 GLC 10%% did not run");
    }
    const rcl_json *t2 = table(j, "table2");
    if (t2) {
        double want = stage_metric(out, "cifar10/imbalance/0.2/smote/scratch/seed=1", "minority_error");
        CHECK(close_to(cell(t2, "cifar10 g=0.2", "SMOTE", "minority"), want), "Table 2 SMOTE minority error");
        CHECK(cell(t2, "cifar10 g=0.2", "Pre-training", "total (paper)") == 8.0, "Table 2 paper value");
    }
    const rcl_json *t3 = table(j, "table3");
    if (t3) {
        const char *rows[4] = {"Normal training", "Adversarial training", "Adv. pre-training + tuning",
                               "Tuning only the last layer"};
        const char *ids[4] = {"cifar10/adversarial/8/normal/scratch/seed=1", "cifar10/adversarial/8/pgd/scratch/seed=1",
                              "cifar10/adversarial/8/pgd/pretrained/seed=1",
                              "cifar10/adversarial/8/pgd-last-layer/pretrained/seed=1"};
        for (int i = 0; i < 4; i++) {
            double adv = cell(t3, "cifar10", rows[i], "adversarial");
            CHECK(close_to(adv, stage_metric(out, ids[i], "adversarial_accuracy")) && adv >= 0 && adv <= 100,
                  "Table 3 %s adversarial accuracy %g", rows[i], adv);
            CHECK(stage_metric(out, ids[i], "max_linf") <= 2 * 8.0 / 255 + 1e-6, "paper-mode PGD within 2 eps");
            double aa = cell(t3, "cifar10", rows[i], "AutoAttack");
            CHECK(close_to(aa, stage_metric(out, ids[i], "autoattack")) && aa >= 0 && aa <= 100 &&
                      aa <= stage_metric(out, ids[i], "autoattack_apgd_ce"),
                  "Table 3 %s AutoAttack robust accuracy %g", rows[i], aa);
        }
        const char *note = rcl_json_get_string(t3, "note");
        CHECK(note && strstr(note, "FAB-T") && strstr(note, "54.92"), "Table 3's note on AutoAttack");
        CHECK(isnan(cell(t3, "cifar100", "Adversarial training", "AutoAttack")), "no CIFAR-100 adversarial runs");
        const rcl_json *sum = rcl_json_get(j, "summary"), *row = NULL;
        for (size_t i = 0; sum && i < sum->len; i++) {
            const char *ds = rcl_json_get_string(&sum->items[i], "dataset");
            const char *method = rcl_json_get_string(&sum->items[i], "method");
            const char *metric = rcl_json_get_string(&sum->items[i], "metric");
            if (ds && method && metric && !strcmp(ds, "cifar10") && !strcmp(method, "pgd") &&
                !strcmp(metric, "autoattack"))
                row = &sum->items[i];
        }
        const char *verdict = row ? rcl_json_get_string(row, "verdict") : NULL;
        CHECK(verdict && !strncmp(verdict, "n = 1: ", 7) && !rcl_json_get(row, "paper"),
              "summary: the AutoAttack row of adversarial pre-training has a verdict (%s), no claim of the paper",
              verdict ? verdict : "-");
        CHECK(cell(t3, "cifar100", "Tuning only the last layer", "adversarial (paper)") == 26.1, "Table 3 paper value");
    }
    const char *t45[2] = {"table4", "table5"}, *col[2] = {"AUROC", "RMS"}, *key[2] = {"auroc", "rms_paper"};
    for (int k = 0; k < 2; k++) {
        const rcl_json *t = table(j, t45[k]);
        for (int d = 0; t && d < 2; d++) {
            const char *ds = d ? "cifar100" : "cifar10";
            char id[160];
            snprintf(id, sizeof id, "%s/clean/0/normal/pretrained/seed=1", ds);
            double v = cell(t, ds, "Pre-training", col[k]);
            CHECK(close_to(v, stage_metric(out, id, key[k])) && v >= 0 && v <= 100, "%s %s pre-trained %s %g", t45[k],
                  ds, col[k], v);
        }
    }
    CHECK(cell(table(j, "table4"), "cifar100", "Normal", "AUPR (paper)") == 29.7, "Table 4 paper value");
    CHECK(cell(table(j, "table5"), "cifar10", "Pre-training", "MAD (paper)") == 1.2, "Table 5 paper value");
    const rcl_json *tc = table(j, "corruptions");
    for (int a = 0; tc && a < 2; a++) {
        char id[160];
        snprintf(id, sizeof id, "cifar10/clean/0/normal/%s/seed=1", arm_id[a]);
        double v = cell(tc, "cifar10", a ? "Pre-training" : "Normal", "mCE");
        CHECK(close_to(v, stage_metric(out, id, "mce")) && v >= 0 && v <= 100 && fabs(remainder(v, 5)) < 1e-9,
              "corruption table, CIFAR-10 %s: mCE %g of the released files", arm_id[a], v);
        CHECK(isnan(cell(tc, "cifar100", a ? "Pre-training" : "Normal", "mCE")), "no CIFAR-100-C: no mCE");
    }
    const rcl_json *tp = table(j, "pretraining");
    if (tp)
        CHECK(close_to(cell(tp, "imagenet32", "WRN (clean)", "error"), stage_metric(out, "pretrain", "error")),
              "pre-training error in the report");
    rcl_json_free(j);
}

int main(void) {
    setenv("ROBUSTCL_QUIET", "1", 1);
    char root[512], out[512], exclude[600];
    snprintf(root, sizeof root, "%s/paper-data", rcl_test_tmpdir());
    snprintf(out, sizeof out, "%s/paper-out", rcl_test_tmpdir());
    snprintf(exclude, sizeof exclude, "%s/exclude.txt", root);
    make_data(root);

    rcl_suite_paper_config c;
    rcl_suite_paper_defaults(&c);
    c.run = rcl_test_run_config();
    snprintf(c.data_root, sizeof c.data_root, "%s", root);
    snprintf(c.exclude, sizeof c.exclude, "%s", exclude);
    snprintf(c.arch, sizeof c.arch, "wrn-10-1");
    snprintf(c.adv_arch, sizeof c.adv_arch, "wrn-10-1");
    c.batch = 32;
    c.pretrain_batch = 64;
    c.scale = 0.001; /* 5 (C10) / 2 (C100) training and 1 test image per class, 1 epoch */
    c.autoattack.iters = 4, c.autoattack.targets = 2, c.autoattack.queries = 20; /* seconds, not minutes */
    check_plan(&c, out);

    /* --only one run: the pre-training, and nothing else */
    CHECK_OK(rcl_suite_paper_run(&c, out, "pretrain", NULL));
    CHECK(count_stages(out) == 1, "--only pretrain ran %d stages, expected 1", count_stages(out));
    double err = stage_metric(out, "pretrain", "error");
    CHECK(err >= 0 && err <= 100, "pre-training error %g", err);
    /* the exclusion list reached pre-training: 1000 - 3 classes in the saved model's head */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls %s/stages/pretrain_*.safetensors", out);
    FILE *f = popen(cmd, "r");
    char ckpt[600] = "";
    if (f) {
        if (!fgets(ckpt, sizeof ckpt, f))
            ckpt[0] = 0;
        pclose(f);
    }
    ckpt[strcspn(ckpt, "\n")] = 0;
    rcl_wrn_config wc;
    CHECK(ckpt[0] && rcl_checkpoint_read_config(ckpt, &wc) == RCL_OK && wc.num_classes == 997,
          "pre-trained model %s has 997 classes", ckpt);
    /* the SLURM pre-training job writes its model where the fine-tuning runs look for it */
    char sdir[700], sfile[760];
    snprintf(sdir, sizeof sdir, "%s/slurm", out);
    CHECK_OK(rcl_suite_paper_slurm(&c, out, "robustcl", sdir, 2));
    snprintf(sfile, sizeof sfile, "%s/pretrain.sbatch", sdir);
    size_t slen = 0;
    char *sbatch = (char *)slurp(sfile, &slen), want_out[700];
    snprintf(want_out, sizeof want_out, "--out '%s'", ckpt);
    CHECK(ckpt[0] && sbatch && strstr(sbatch, want_out), "pretrain.sbatch writes %s", ckpt);
    free(sbatch);

    /* a fine-tuning run whose pre-trained model does not exist yet fails and names it */
    CHECK_FAILS(rcl_suite_paper_run(&c, out, "cifar10/adversarial/8/pgd/pretrained/seed=1", NULL), RCL_ERR_IO);
    CHECK(strstr(rcl_last_error(), "pretrain-adv") != NULL, "error names the missing dependency: %s", rcl_last_error());
    CHECK_FAILS(rcl_suite_paper_run(&c, out, "cifar10/no-such-run", NULL), RCL_ERR_INVALID_ARG);

    /* runs of every table, as a scheduler would start them (patterns, dependencies first) */
    const char *only = "pretrain-adv,cifar10/noise-uniform/[01]/normal/*,cifar10/noise-flip/0.5/glc5/*,"
                       "cifar10/noise-flip/0.5/forward/pretrained/*,cifar10/imbalance/0.2/*,cifar10/adversarial/*,"
                       "cifar10/clean/*,cifar100/clean/*";
    CHECK_OK(rcl_suite_paper_run(&c, out, only, NULL));
    int want = 1 + 1 + 4 + 2 + 1 + 5 + 4 + 2 + 2;
    CHECK(count_stages(out) == want, "%d stages after the selected runs, expected %d", count_stages(out), want);
    check_report(out);
    /* every CIFAR-10 model, not only the clean ones; none of CIFAR-100, whose folder is absent */
    double mce = stage_metric(out, "cifar10/imbalance/0.2/smote/scratch/seed=1", "mce");
    CHECK(mce >= 0 && mce <= 100, "an imbalance run's mce %g", mce);
    mce = stage_metric(out, "cifar10/adversarial/8/pgd-last-layer/pretrained/seed=1", "mce");
    CHECK(mce >= 0 && mce <= 100, "an adversarial run's mce %g", mce);
    CHECK(isnan(stage_metric(out, "cifar100/clean/0/normal/pretrained/seed=1", "mce")), "no CIFAR-100-C, no mce");
    CHECK(isnan(stage_metric(out, "cifar10/clean/0/normal/pretrained/seed=1", "autoattack")),
          "AutoAttack: the adversarial runs only");
    /* --autoattack-n 0: an adversarial run re-runs without it */
    c.autoattack_n = 0;
    CHECK_OK(rcl_suite_paper_run(&c, out, "cifar10/adversarial/8/normal/scratch/seed=1", NULL));
    CHECK(isnan(stage_metric(out, "cifar10/adversarial/8/normal/scratch/seed=1", "autoattack")) &&
              !isnan(stage_metric(out, "cifar10/adversarial/8/normal/scratch/seed=1", "adversarial_accuracy")),
          "--autoattack-n 0: PGD-20 only");
    c.autoattack_n = 1000;
    /* a CIFAR-100-C folder without the released files is refused, naming it */
    char broken[700];
    snprintf(broken, sizeof broken, "%s/CIFAR-100-C", root);
    mkdir(broken, 0755);
    CHECK_FAILS(rcl_suite_paper_run(&c, out, "cifar100/clean/0/normal/scratch/seed=1", NULL), RCL_ERR_IO);
    CHECK(strstr(rcl_last_error(), "CIFAR-100-C") != NULL, "the error names the folder: %s", rcl_last_error());
    rmdir(broken);

    /* a rerun of finished runs loads them from the stage cache: their files stay untouched */
    char stage[700];
    snprintf(stage, sizeof stage, "%s/stages/cifar10_imbalance_0.2_smote_scratch_seed=1.json", out);
    struct stat before, after;
    CHECK(stat(stage, &before) == 0, "stat %s", stage);
    CHECK_OK(rcl_suite_paper_run(&c, out, "cifar10/imbalance/0.2/*", NULL));
    CHECK(stat(stage, &after) == 0 && after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
              after.st_mtim.tv_nsec == before.st_mtim.tv_nsec,
          "cached stage %s not rewritten", stage);

    /* --quirk-normalize cifar is in the Forward/GLC runs' keys (they re-run) and no other run's */
    rcl_suite_paper_config q = c;
    q.quirk_normalize = 1;
    char glc[700], normal[700];
    snprintf(glc, sizeof glc, "%s/stages/cifar10_noise-flip_0.5_glc5_scratch_seed=1.json", out);
    snprintf(normal, sizeof normal, "%s/stages/cifar10_noise-uniform_0_normal_scratch_seed=1.json", out);
    struct stat glc0, glc1, normal0, normal1;
    CHECK(stat(glc, &glc0) == 0 && stat(normal, &normal0) == 0, "stat %s, %s", glc, normal);
    CHECK_OK(rcl_suite_paper_run(&q, out, "cifar10/noise-flip/0.5/glc5/scratch/*,cifar10/noise-uniform/0/normal/scratch/*",
                                 NULL));
    CHECK(stat(glc, &glc1) == 0 && stat(normal, &normal1) == 0, "stat again");
    CHECK(glc1.st_mtim.tv_sec != glc0.st_mtim.tv_sec || glc1.st_mtim.tv_nsec != glc0.st_mtim.tv_nsec,
          "the GLC run re-ran with the CIFAR normalisation");
    CHECK(normal1.st_mtim.tv_sec == normal0.st_mtim.tv_sec && normal1.st_mtim.tv_nsec == normal0.st_mtim.tv_nsec,
          "the normal run stayed cached");

    /* the CIFAR-LT profile beside the power law: 5 more runs per target in the plan, and a run of
     * it cuts its training set with the exponential profile (stage "imbalance-exp", rho 100) */
    rcl_suite_paper_config lt = c;
    lt.imbalance_profiles = RCL_SUITE_PROFILE_POWER | RCL_SUITE_PROFILE_EXP;
    char *plan = NULL;
    size_t plan_len = 0;
    FILE *pf = open_memstream(&plan, &plan_len);
    CHECK_OK(rcl_suite_paper_plan(&lt, out, "robustcl", pf));
    fclose(pf);
    int lines = 0, lt_runs = 0;
    for (char *q = plan; q && *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : NULL) {
        lines++;
        lt_runs += !strncmp(q, "cifar10/imbalance-exp/100/", 26) || !strncmp(q, "cifar100/imbalance-exp/100/", 27);
    }
    CHECK(lines == 436 + 10 && lt_runs == 10, "plan with both profiles: %d runs (%d CIFAR-LT), expected 446 (10)",
          lines, lt_runs);
    const char *lt_line = plan ? strstr(plan, "\ncifar10/imbalance-exp/100/smote/scratch/seed=1\t") : NULL;
    CHECK(lt_line && strstr(lt_line, " --imbalance-profile both ") &&
              strstr(lt_line, " --imbalance-profile both ") < strchr(lt_line + 1, '\n'),
          "the plan's commands carry the profile");
    free(plan);
    int before_lt = count_stages(out);
    CHECK_OK(rcl_suite_paper_run(&lt, out, "cifar10/imbalance-exp/100/normal/scratch/seed=1", NULL));
    CHECK(count_stages(out) == before_lt + 1, "one CIFAR-LT stage ran");
    double lt_err = stage_metric(out, "cifar10/imbalance-exp/100/normal/scratch/seed=1", "error");
    CHECK(lt_err >= 0 && lt_err <= 100, "CIFAR-LT stage error %g", lt_err);

    /* the same through the command line: the plan's line count and `robustcl report` */
    const char *bin = getenv("RCL_BIN");
    if (bin) {
        char line[2000];
        snprintf(line, sizeof line, "'%s' suite paper --data-root '%s' --plan | wc -l", bin, root);
        FILE *p = popen(line, "r");
        int lines = -1;
        if (p) {
            if (fscanf(p, "%d", &lines) != 1)
                lines = -1;
            pclose(p);
        }
        CHECK(lines == 436, "robustcl suite paper --plan printed %d lines, expected 436", lines);
        snprintf(line, sizeof line, "'%s' report '%s' --out '%s/cli' > '%s/cli.txt'", bin, out, out, out);
        CHECK(system(line) == 0, "%s", line);
        snprintf(line, sizeof line, "%s/cli.txt", out);
        size_t len = 0;
        char *txt = (char *)slurp(line, &len);
        CHECK(txt && strstr(txt, "Table 1: label corruption") && strstr(txt, "Table 5: calibration") &&
                  strstr(txt, "pre-trained (paper)") && strstr(txt, "Common corruptions: mean corruption error"),
              "robustcl report prints the tables");
        free(txt);
        snprintf(line, sizeof line, "%s/cli/report.json", out);
        rcl_json *j = NULL;
        CHECK_OK(rcl_json_parse_file(line, &j));
        rcl_json_free(j);
    }
    return rcl_test_finish();
}
