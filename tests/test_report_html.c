/* The suite's report.html escapes every name that came from outside (experiment, method,
 * metric and OOD set names, the run records of its footer): a name like <script>&"' comes out
 * as text, never as markup. The footer shows the report's own record and names a field in which
 * the stages' records differ. The clean runs' corruption row (mce) has its cells, verdict and note. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/fileio.h"
#include "suite/suite_internal.h"

#define EVIL "<script>&\"'"
#define EVIL_ESCAPED "&lt;script&gt;&amp;&quot;&#39;"

static void add(rcl_run_result *r, const char *experiment, const char *method, const char *arm, int seed) {
    memset(r, 0, sizeof *r);
    snprintf(r->experiment, sizeof r->experiment, "%s", experiment);
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->arm, sizeof r->arm, "%s", arm);
    r->seed = seed;
    rcl_run_set(r, "auroc_" EVIL, 80 + seed);
    rcl_run_set(r, "error", 10 + seed);
    char record[128]; /* the stages of seed 2 ran on another device */
    snprintf(record, sizeof record, "{\"robustcl_version\": \"0.1.0\", \"device\": \"gpu%d\"}", seed);
    r->provenance = strdup(record);
}

int main(void) {
    static rcl_run_result runs[8];
    int n = 0;
    for (int s = 1; s <= 2; s++) {
        add(&runs[n++], EVIL, "m" EVIL, "scratch", s);
        add(&runs[n++], EVIL, "m" EVIL, "pretrained", s);
    }
    /* a clean run pair with ROC curves of an OOD set with that name (the plot titles) and a mean
     * corruption error 5 lower when pre-trained */
    const double fpr[3] = {0, 0.5, 1}, tpr[3] = {0, 0.8, 1};
    for (int a = 0; a < 2; a++) {
        add(&runs[n], "clean", "normal", a ? "pretrained" : "scratch", 1);
        rcl_run_series(&runs[n], "roc_" EVIL "_fpr", fpr, 3);
        rcl_run_series(&runs[n], "roc_" EVIL "_tpr", tpr, 3);
        rcl_run_set(&runs[n], "mce", 30 - 5 * a);
        n++;
    }
    rcl_suite_config c;
    rcl_suite_defaults(&c, 1);
    char dir[] = "/tmp/rcl_report_html_XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/report.html", dir);
    const char *self = "{\"command_line\": \"robustcl suite mini --out <script>&\\\"'\", \"wall_seconds\": 12.5}";
    CHECK_OK(rcl_report_html(path, &c, self, runs, n));

    unsigned char *html = NULL;
    size_t len = 0;
    CHECK_OK(rcl_file_read(path, &html, &len));
    const char *h = html ? (const char *)html : "";
    CHECK(strstr(h, "<script") == NULL, "no <script> tag in report.html");
    CHECK(strstr(h, "<td class='l'>" EVIL_ESCAPED "</td>") != NULL, "experiment name escaped in its cell");
    CHECK(strstr(h, "<td class='l'>m" EVIL_ESCAPED "</td>") != NULL, "method name escaped in its cell");
    CHECK(strstr(h, "auroc_" EVIL_ESCAPED) != NULL, "metric name (OOD set) escaped in its cell");
    CHECK(strstr(h, "ROC, " EVIL_ESCAPED " (clean, 1 seed)") != NULL, "OOD set name escaped in the plot title");
    CHECK(strstr(h, "<td class='l'>clean</td><td class='l'>normal</td><td>0</td><td class='l'>mce</td>"
                    "<td>30.00 (n = 1)</td><td>25.00 (n = 1)</td><td>-5.00</td>") &&
              strstr(h, ">n = 1: better</td><td class='l'></td><td class='l'></td></tr>"),
          "the corruption row: both arms, the difference, a verdict and no claim of the paper");
    CHECK(strstr(h, "<p class='corruption'>mce: the mean corruption error") && strstr(h, "Frost is left out"),
          "the corruption row's note");
    CHECK(strstr(h, "corruptions (clean runs, both arms): mean corruption error (mce) on 4 target test images"),
          "the grid states the corruption subset");
    CHECK(strstr(h, "<footer") && strstr(h, "--out " EVIL_ESCAPED) != NULL, "the footer's record, escaped");
    CHECK(strstr(h, "12.5") != NULL, "the footer shows the record's numbers");
    CHECK(strstr(h, "differ in device: &#39;gpu1&#39; (4 stages), &#39;gpu2&#39; (2 stages)") != NULL,
          "the footer names the field in which the stages differ");
    CHECK(strstr(h, "differ in robustcl_version") == NULL, "and only fields that differ");
    free(html);
    for (int i = 0; i < n; i++)
        rcl_run_free(&runs[i]);
    remove(path);
    rmdir(dir);
    return rcl_test_finish();
}
