/* OOD metrics against committed sklearn numbers: $RCL_TEST_DATA/sklearn_metrics.txt,
 * written by tests/data/gen_sklearn_metrics.py (roc_auc_score, average_precision_score,
 * the official fpr_and_fdr_at_recall and roc_curve's first TPR >= 0.95). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "robustcl/metrics.h"

static int read_list(FILE *f, const char *tag, double *v, int n) {
    char word[64];
    if (fscanf(f, "%63s", word) != 1 || strcmp(word, tag) != 0)
        return 0;
    for (int i = 0; i < n; i++)
        if (fscanf(f, "%lf", &v[i]) != 1)
            return 0;
    return 1;
}

static void skip_comments(FILE *f) {
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (c == '#') {
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
        } else if (c != '\n' && c != ' ' && c != '\r' && c != '\t') {
            ungetc(c, f);
            return;
        }
    }
}

static void check_case(const char *name, const double *ood, int no, const double *id, int ni, const double want[4]) {
    rcl_ood_measures m;
    CHECK_OK(rcl_ood_measures_compute(ood, no, id, ni, RCL_FPR_RECALL, &m));
    /* sklearn sums in another order: agreement to 1e-10 is all rounding allows */
    CHECK(fabs(m.auroc - want[0]) <= 1e-10, "%s AUROC %.15f, sklearn %.15f", name, m.auroc, want[0]);
    CHECK(fabs(m.aupr - want[1]) <= 1e-10, "%s AP %.15f, sklearn %.15f", name, m.aupr, want[1]);
    CHECK(fabs(m.fpr_paper - want[2]) <= 1e-12, "%s FPR95 paper %.15f, official code %.15f", name, m.fpr_paper,
          want[2]);
    CHECK(fabs(m.fpr_first - want[3]) <= 1e-12, "%s FPR95 first %.15f, roc_curve %.15f", name, m.fpr_first, want[3]);

    /* AUROC is antisymmetric under swapping the classes */
    double swapped;
    CHECK_OK(rcl_ood_auroc(id, ni, ood, no, &swapped));
    CHECK(fabs(m.auroc + swapped - 1) <= 1e-12, "%s AUROC(ood,id) + AUROC(id,ood) = 1", name);

    /* the exported ROC curve integrates to the same AUROC */
    double *fpr = NULL, *tpr = NULL;
    int np = 0;
    CHECK_OK(rcl_ood_roc_curve(ood, no, id, ni, &fpr, &tpr, NULL, &np));
    double area = 0;
    for (int i = 1; i < np; i++)
        area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
    CHECK(fabs(area - want[0]) <= 1e-10, "%s ROC export area %.15f", name, area);
    free(fpr), free(tpr);
}

int main(void) {
    const char *dir = getenv("RCL_TEST_DATA");
    char path[4096];
    snprintf(path, sizeof path, "%s/sklearn_metrics.txt", dir ? dir : "tests/data");
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "open %s (set RCL_TEST_DATA)", path);
    if (!f)
        return rcl_test_finish();
    int cases = 0;
    for (;;) {
        skip_comments(f);
        char tag[16], name[64];
        int no, ni;
        double want[4];
        int got = fscanf(f, "%15s %63s %d %d %lf %lf %lf %lf", tag, name, &no, &ni, &want[0], &want[1], &want[2],
                         &want[3]);
        if (got == EOF)
            break;
        CHECK(got == 8 && !strcmp(tag, "case") && no > 0 && ni > 0, "case header %d of %s", cases + 1, path);
        if (got != 8 || no <= 0 || ni <= 0)
            break;
        double *ood = malloc(sizeof(double) * (size_t)no), *id = malloc(sizeof(double) * (size_t)ni);
        int ok = read_list(f, "ood", ood, no) && read_list(f, "id", id, ni);
        CHECK(ok, "read the scores of case %s", name);
        if (ok)
            check_case(name, ood, no, id, ni, want);
        free(ood), free(id);
        if (!ok)
            break;
        cases++;
    }
    fclose(f);
    CHECK(cases >= 5, "read %d cases", cases);
    return rcl_test_finish();
}
