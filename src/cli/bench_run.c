/* The device loop of robustcl bench: the benchmark on one device, or on each listed device in
 * turn with the table across them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* Opens the device (profiling kernels for step), runs the benchmark, closes it; name gets the
 * device's name, platform and driver for the comparison page. */
static rcl_status run_on(const rcl_bench_job *job, const char *sel, const rcl_bench_cfg *b,
                         rcl_json_writer *jw, rcl_bench_summary *sum, char *name, size_t cap) {
    rcl_device *d;
    RCL_TRY(rcl_cli_open_device(sel, !strcmp(job->what, "step"), &d));
    const rcl_device_info *inf = rcl_device_get_info(d);
    char gemm[256];
    rcl_gemm_params_describe(inf, gemm, sizeof gemm);
    if (snprintf(name, cap, "%s (%s, driver %s; GEMM parameters: %s)", inf->name, inf->platform_name,
                 inf->driver_version, gemm) >= (int)cap)
        name[cap - 1] = 0; /* a long name cut short */
    printf("device: %s\n", name); /* says so when the device has no tuned GEMM parameters */
    rcl_status s = !strcmp(job->what, "gemm")   ? rcl_bench_gemm(d, b, jw, sum)
                   : !strcmp(job->what, "conv") ? rcl_bench_conv(d, b, jw, sum)
                   : !strcmp(job->what, "step") ? rcl_bench_step(d, b, jw, sum)
                                                : rcl_bench_logits(d, job->model, job->input_tensor,
                                                                   job->reference, job->tol, jw);
    rcl_device_close(d);
    return s;
}

/* One device (sel NULL: the default), or every listed device in turn with the peer run with the
 * first only, then the table across them. A device that fails is reported and skipped; the run
 * then exits non-zero. JSON: the benchmark's object, or for a list {"bench", "devices", "table"}. */
int rcl_bench_run_devices(const rcl_bench_job *job, char **sel, int n, int single, rcl_bench_cfg b,
                       const char *json_path, const char *html) {
    rcl_bench_summary *sums = calloc((size_t)n, sizeof *sums);
    char(*names)[512] = calloc((size_t)n, sizeof *names);
    const char **np = calloc((size_t)n, sizeof *np);
    rcl_json_writer jw_, *jw = json_path ? &jw_ : NULL;
    rcl_jw_init(&jw_, NULL, 2);
    if (!sums || !names || !np) {
        free(sums), free(names), free(np);
        rcl_fail(RCL_ERR_NO_MEMORY, "out of host memory");
        return rcl_cli_error();
    }
    if (!single && jw) {
        rcl_jw_begin_object(jw);
        rcl_jw_key(jw, "bench"), rcl_jw_string(jw, job->what);
        rcl_jw_key(jw, "devices");
        rcl_jw_begin_array(jw);
    }
    int failed = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        if (!single)
            printf("%s== device %s ==\n", i ? "\n" : "", sel[i]);
        fflush(stdout);
        np[i] = names[i];
        if (run_on(job, sel[i], &b, jw, &sums[i], names[i], sizeof names[i]) != RCL_OK) {
            if (single) {
                rc = rcl_cli_error();
                break;
            }
            fprintf(stderr, "robustcl bench: device %s: %s\n", sel[i], rcl_last_error());
            snprintf(names[i], sizeof names[i], "failed: %s", rcl_last_error());
            failed++;
            memset(&sums[i], 0, sizeof sums[i]);
            if (jw) {
                rcl_jw_begin_object(jw);
                rcl_jw_key(jw, "selector"), rcl_jw_string(jw, sel[i]);
                rcl_jw_key(jw, "error"), rcl_jw_string(jw, rcl_last_error());
                rcl_jw_end_object(jw);
            }
        }
        b.peer = 0; /* the peer does not depend on the device: once is enough */
    }
    if (!single) {
        rcl_bench_print_table((const char *const *)sel, np, sums, n);
        if (jw) {
            rcl_jw_end_array(jw);
            rcl_bench_json_table(jw, (const char *const *)sel, np, sums, n);
            rcl_jw_end_object(jw);
        }
        rc = failed ? 1 : 0;
    }
    if ((rc == 0 || !single) && jw && rcl_jw_save(jw, json_path) != RCL_OK)
        rc = rcl_cli_error();
    const char *label = sel[0] ? sel[0] : "default device";
    if ((rc == 0 || !single) && html &&
        rcl_bench_write_html(html, job->what, single ? &label : (const char *const *)sel, np, sums, n) != RCL_OK)
        rc = rcl_cli_error();
    free(rcl_jw_take(&jw_, NULL));
    free(sums), free(names), free(np);
    return rc;
}
