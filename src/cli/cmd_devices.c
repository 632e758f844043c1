#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void print_text(const rcl_device_info *inf, int n) {
    int last_p = -1;
    for (int i = 0; i < n; i++) {
        const rcl_device_info *d = &inf[i];
        if (d->platform_index != last_p) {
            printf("platform %d: %s (%s)\n", d->platform_index, d->platform_name, d->platform_version);
            last_p = d->platform_index;
        }
        printf("  device %d:%d  %s%s\n", d->platform_index, d->device_index, d->name, d->is_gpu ? "  [GPU]" : "");
        printf("    vendor %s, driver %s, %s, %s\n", d->vendor, d->driver_version, d->version, d->c_version);
        printf("    %u compute units at %u MHz, global memory %.1f GiB (max buffer %.1f GiB), local memory %llu KiB "
               "(%s), max work-group %zu, float vectors native %u preferred %u, fp16 %s, fp64 %s\n",
               d->compute_units, d->clock_mhz, d->global_mem / 1073741824.0, d->max_alloc / 1073741824.0,
               d->local_mem / 1024, d->local_mem_dedicated ? "on chip" : "emulated in global memory",
               d->max_work_group, d->vec_native, d->vec_preferred, d->fp16 ? "yes" : "no", d->fp64 ? "yes" : "no");
        char gemm[256], sel[32];
        printf("    GEMM parameters: %s\n", rcl_gemm_params_describe(d, gemm, sizeof gemm));
        snprintf(sel, sizeof sel, "%d:%d", d->platform_index, d->device_index);
        rcl_device *dev; /* the convolution kernels' parameters are read per open device */
        if (rcl_cli_open_device(sel, 0, &dev) == RCL_OK) {
            printf("    convolution kernels: %s\n", rcl_conv_params_source(dev));
            rcl_device_close(dev);
        }
    }
}

static void widths(rcl_json_writer *w, const char *key, const unsigned *v) {
    static const char *const types[7] = {"char", "short", "int", "long", "float", "double", "half"};
    rcl_jw_key(w, key);
    rcl_jw_begin_object(w);
    for (int i = 0; i < 7; i++)
        rcl_jw_key(w, types[i]), rcl_jw_int(w, v[i]);
    rcl_jw_end_object(w);
}

static void props_json(rcl_json_writer *w, const rcl_device_props *p) {
    rcl_jw_key(w, "type"), rcl_jw_string(w, p->type);
    rcl_jw_key(w, "profile"), rcl_jw_string(w, p->profile);
    const char *flags[] = {"available", "compiler_available", "image_support", "unified_memory", "little_endian",
                           "error_correction"};
    const int fv[] = {p->available, p->compiler_available, p->image_support, p->unified_memory, p->little_endian,
                      p->error_correction};
    for (int i = 0; i < 6; i++)
        rcl_jw_key(w, flags[i]), rcl_jw_bool(w, fv[i]);
    const char *nums[] = {"address_bits", "mem_base_addr_align_bits", "max_constant_buffer", "global_mem_cache",
                          "global_mem_cacheline", "max_parameter_size", "timer_resolution_ns"};
    const unsigned long long nv[] = {p->address_bits, p->mem_base_addr_align, p->max_constant_buffer,
                                     p->global_cache, p->global_cacheline, p->max_parameter_size,
                                     p->timer_resolution_ns};
    for (int i = 0; i < 7; i++)
        rcl_jw_key(w, nums[i]), rcl_jw_uint(w, nv[i]);
    rcl_jw_key(w, "max_work_item_sizes");
    rcl_jw_begin_array(w);
    for (unsigned i = 0; i < p->max_work_item_dims && i < 3; i++)
        rcl_jw_uint(w, p->max_work_item_sizes[i]);
    rcl_jw_end_array(w);
    widths(w, "vector_width_preferred", p->vec_preferred);
    widths(w, "vector_width_native", p->vec_native);
    rcl_jw_key(w, "extensions");
    rcl_jw_begin_array(w);
    for (const char *e = p->extensions + strspn(p->extensions, " "); *e; e += strspn(e, " ")) {
        size_t len = strcspn(e, " ");
        rcl_jw_string_n(w, e, len);
        e += len;
    }
    rcl_jw_end_array(w);
}

/* Which tuned parameters apply: GEMM's without opening the device, the convolutions' with it. */
static void tuned_json(rcl_json_writer *w, const rcl_device_info *d) {
    char gemm[256], sel[32];
    rcl_jw_key(w, "gemm_params"), rcl_jw_string(w, rcl_gemm_params_describe(d, gemm, sizeof gemm));
    snprintf(sel, sizeof sel, "%d:%d", d->platform_index, d->device_index);
    rcl_device *dev;
    if (rcl_cli_open_device(sel, 0, &dev) != RCL_OK) {
        rcl_jw_key(w, "conv_params_source"), rcl_jw_null(w);
        rcl_jw_key(w, "open_error"), rcl_jw_string(w, rcl_last_error());
        return;
    }
    rcl_jw_key(w, "conv_params_source"), rcl_jw_string(w, rcl_conv_params_source(dev));
    rcl_jw_key(w, "kernel_class"), rcl_jw_string(w, rcl_device_gpu_kernels(dev) ? "gpu" : "cpu");
    rcl_device_close(dev);
}

static void device_json(rcl_json_writer *w, const rcl_device_info *d) {
    char sel[32];
    snprintf(sel, sizeof sel, "%d:%d", d->platform_index, d->device_index);
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "selector"), rcl_jw_string(w, sel);
    const char *keys[] = {"platform", "platform_version", "name", "vendor", "driver", "version", "opencl_c"};
    const char *vals[] = {d->platform_name, d->platform_version, d->name, d->vendor, d->driver_version, d->version,
                          d->c_version};
    for (int i = 0; i < 7; i++)
        rcl_jw_key(w, keys[i]), rcl_jw_string(w, vals[i]);
    rcl_jw_key(w, "compute_units"), rcl_jw_uint(w, d->compute_units);
    rcl_jw_key(w, "clock_mhz"), rcl_jw_uint(w, d->clock_mhz);
    rcl_jw_key(w, "global_mem"), rcl_jw_uint(w, d->global_mem);
    rcl_jw_key(w, "max_alloc"), rcl_jw_uint(w, d->max_alloc);
    rcl_jw_key(w, "local_mem"), rcl_jw_uint(w, d->local_mem);
    rcl_jw_key(w, "local_mem_dedicated"), rcl_jw_bool(w, d->local_mem_dedicated);
    rcl_jw_key(w, "max_work_group"), rcl_jw_uint(w, d->max_work_group);
    rcl_jw_key(w, "fp16"), rcl_jw_bool(w, d->fp16);
    rcl_jw_key(w, "fp64"), rcl_jw_bool(w, d->fp64);
    rcl_device_props p;
    if (rcl_device_props_get(d->platform_index, d->device_index, &p) == RCL_OK)
        props_json(w, &p);
    tuned_json(w, d);
    rcl_jw_end_object(w);
}

static rcl_status write_json(const char *path, const rcl_device_info *inf, int n) {
    rcl_json_writer w; /* in memory, then written atomically */
    rcl_jw_init(&w, NULL, 2);
    rcl_jw_begin_object(&w);
    rcl_jw_key(&w, "command"), rcl_jw_string(&w, "devices");
    rcl_jw_key(&w, "devices");
    rcl_jw_begin_array(&w);
    for (int i = 0; i < n; i++)
        device_json(&w, &inf[i]);
    rcl_jw_end_array(&w);
    rcl_cli_provenance(&w, NULL);
    rcl_jw_end_object(&w);
    if (strcmp(path, "-"))
        return rcl_jw_save(&w, path);
    rcl_status s = rcl_jw_finish(&w);
    char *text = rcl_jw_take(&w, NULL);
    if (text)
        printf("%s\n", text);
    free(text);
    return s;
}

int rcl_cmd_devices(int argc, char **argv) {
    const char *json = NULL;
    const rcl_cli_option opts[] = {
        RCL_CLI_STRING("--json", "FILE", &json,
                       "every device's properties as JSON (- : stdout), clinfo-like: limits, clocks,\n"
                       "extensions, preferred and native vector widths, and which tuned parameters\n"
                       "apply (GEMM; the convolutions', which opens each device)"),
    };
    const rcl_cli_spec spec = {
        "devices",
        "usage: robustcl devices [--json FILE]\n\nLists every OpenCL platform and device, what the default kernel "
        "parameters derive\nfrom (vector widths, compute units, local memory), where each device's GEMM parameters\n"
        "come from (tuned, built-in or CLBlast's) and its convolution kernels' (tuned on this\n"
        "device, robustcl's database, or start values derived from the device). Select one for other commands with\n--device P:D, "
        "--device SUBSTRING (of the name, vendor or platform, any case;\ne.g. 'Intel(R) OpenCL'), or "
        "ROBUSTCL_DEVICE;\nthe default is the first GPU, else the first device.\n\n",
        opts, RCL_CLI_COUNT(opts), 23, NULL, NULL};
    int rc;
    if (rcl_cli_parse(&spec, argc, argv, &rc))
        return rc;
    rcl_device_info *inf;
    int n;
    if (rcl_device_list(&inf, &n) != RCL_OK)
        return rcl_cli_error();
    rcl_status s = RCL_OK;
    if (json)
        s = write_json(json, inf, n);
    else
        print_text(inf, n);
    free(inf);
    return s == RCL_OK ? 0 : rcl_cli_error();
}
