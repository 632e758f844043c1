#include <stdlib.h>
#include <stdio.h>

#include "cli.h"

int rcl_cmd_devices(int argc, char **argv) {
    const rcl_cli_spec spec = {
        "devices",
        "usage: robustcl devices\n\nLists every OpenCL platform and device, what the default kernel parameters derive\n"
        "from (vector widths, compute units, local memory), where each device's GEMM parameters\n"
        "come from (tuned, built-in or CLBlast's) and its convolution kernels' (tuned on this\n"
        "device, robustcl's database, or start values derived from the device). Select one for other commands with\n--device P:D, --device "
        "SUBSTRING (of the name, vendor or platform, any case;\ne.g. 'Intel(R) OpenCL'), or ROBUSTCL_DEVICE;\nthe "
        "default is the first GPU, else the first device.\n",
        NULL, 0, 0, NULL, NULL};
    int rc;
    if (rcl_cli_parse(&spec, argc, argv, &rc))
        return rc;
    rcl_device_info *inf;
    int n;
    if (rcl_device_list(&inf, &n) != RCL_OK)
        return rcl_cli_error();
    int last_p = -1;
    for (int i = 0; i < n; i++) {
        rcl_device_info *d = &inf[i];
        if (d->platform_index != last_p) {
            printf("platform %d: %s (%s)\n", d->platform_index, d->platform_name, d->platform_version);
            last_p = d->platform_index;
        }
        printf("  device %d:%d  %s%s\n", d->platform_index, d->device_index, d->name,
               d->is_gpu ? "  [GPU]" : "");
        printf("    vendor %s, driver %s, %s, %s\n", d->vendor, d->driver_version, d->version, d->c_version);
        printf("    %u compute units at %u MHz, global memory %.1f GiB (max buffer %.1f GiB), local memory %llu KiB "
               "(%s), max work-group %zu, float vectors native %u preferred %u, fp16 %s, fp64 %s\n",
               d->compute_units, d->clock_mhz, d->global_mem / 1073741824.0, d->max_alloc / 1073741824.0,
               d->local_mem / 1024, d->local_mem_dedicated ? "on chip" : "emulated in global memory",
               d->max_work_group, d->vec_native, d->vec_preferred, d->fp16 ? "yes" : "no", d->fp64 ? "yes" : "no");
        char gemm[256];
        printf("    GEMM parameters: %s\n", rcl_gemm_params_describe(d, gemm, sizeof gemm));
        rcl_device *dev;
        char sel[32];
        snprintf(sel, sizeof sel, "%d:%d", d->platform_index, d->device_index);
        rcl_device_options o = {0};
        o.selector = sel;
        if (rcl_device_open(&o, &dev) == RCL_OK) { /* the kernel parameters are read per open device */
            printf("    convolution kernels: %s\n", rcl_conv_params_source(dev));
            rcl_device_close(dev);
        }
    }
    free(inf);
    return 0;
}
