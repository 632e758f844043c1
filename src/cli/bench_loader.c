/* bench loader: the input pipeline's speed, host only. */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

/* The input pipeline alone (background thread, crop + flip + normalisation): it must
 * outrun the device by far so training never waits for data. */
rcl_status rcl_bench_loader(const char *spec, int batch, rcl_json_writer *jw) {
    rcl_dataset ds = {0};
    RCL_TRY(rcl_dataset_load(spec, 1, &ds));
    rcl_loader_options o = rcl_loader_defaults();
    o.batch = batch;
    rcl_loader *l = NULL;
    rcl_status s = rcl_loader_create(&ds, NULL, 0, &o, &l);
    long images = 0;
    double t0 = rcl_now();
    if (s == RCL_OK && (s = rcl_loader_start(l, 0, 0)) == RCL_OK)
        for (;;) {
            const float *x;
            const int32_t *y, *idx;
            int n;
            if ((s = rcl_loader_next(l, &x, &y, &idx, &n)) != RCL_OK || n == 0)
                break;
            images += n;
        }
    double el = rcl_now() - t0;
    if (s == RCL_OK) {
        printf("loader on %s (%dx%dx%d, batch %d, crop+flip+normalise, one producer thread): %.0f images/s "
               "(%ld images in %.2f s)\n", ds.name, ds.c, ds.h, ds.w, batch, images / el, images, el);
        if (jw) {
            rcl_jw_begin_object(jw);
            rcl_jw_key(jw, "bench"), rcl_jw_string(jw, "loader");
            rcl_jw_key(jw, "data"), rcl_jw_string(jw, ds.name);
            rcl_jw_key(jw, "batch"), rcl_jw_int(jw, batch);
            rcl_jw_key(jw, "images_per_second"), rcl_jw_number(jw, images / el);
            rcl_cli_provenance(jw, NULL); /* host only: no device */
            rcl_jw_end_object(jw);
        }
    }
    rcl_loader_free(l);
    rcl_dataset_free(&ds);
    return s;
}

/* bench loader: host only, no device. */
int rcl_bench_run_loader(const char *data, int batch, const char *json_path) {
    rcl_json_writer jw;
    rcl_jw_init(&jw, NULL, 2);
    rcl_status s = rcl_bench_loader(data, batch, json_path ? &jw : NULL);
    if (!s && json_path)
        s = rcl_jw_save(&jw, json_path);
    free(rcl_jw_take(&jw, NULL));
    return s == RCL_OK ? 0 : rcl_cli_error();
}
