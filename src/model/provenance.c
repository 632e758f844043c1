/* The run record of every result (robustcl/provenance.h), written here and nowhere else. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "robustcl/gemm.h"
#include "robustcl/provenance.h"
#include "robustcl/version.h"

/* /proc/cpuinfo's first "model name" (x86), or "unknown". */
static void cpu_model(char *out, size_t cap) {
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && colon) {
            colon += strspn(colon + 1, " \t") + 1;
            snprintf(out, cap, "%.*s", (int)strcspn(colon, "\n"), colon);
            break;
        }
    }
    if (f)
        fclose(f);
}

static double now_utc(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void host_json(rcl_json_writer *w) {
    char host[256] = "unknown", cpu[256];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = 0;
    cpu_model(cpu, sizeof cpu);
    rcl_jw_key(w, "host"), rcl_jw_string(w, host);
    rcl_jw_key(w, "cpu"), rcl_jw_string(w, cpu);
    rcl_jw_key(w, "cores"), rcl_jw_int(w, sysconf(_SC_NPROCESSORS_ONLN));
}

static void run_json(rcl_json_writer *w, const rcl_run_config *run) {
    char when[32] = "";
    time_t t = (time_t)run->started;
    struct tm tm;
    if (run->started > 0 && gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    rcl_jw_key(w, "command_line"), rcl_jw_string(w, run->command_line);
    rcl_jw_key(w, "started_utc"), when[0] ? rcl_jw_string(w, when) : rcl_jw_null(w);
    rcl_jw_key(w, "wall_seconds"), run->started > 0 ? rcl_jw_number(w, now_utc() - run->started) : rcl_jw_null(w);
}

/* Each device field, or null for a run that used no device. */
static void device_json(rcl_json_writer *w, rcl_device *d) {
    const rcl_device_info *inf = d ? rcl_device_get_info(d) : NULL;
    char policy[256] = "";
    if (d)
        rcl_conv_policy_string(d, policy, sizeof policy);
    const char *keys[] = {"platform", "platform_version", "device", "vendor", "driver", "opencl_c",
                          "gemm_params_source", "gemm_params", "conv_policy", "conv_params_source"};
    const char *values[] = {inf ? inf->platform_name : NULL, inf ? inf->platform_version : NULL,
                            inf ? inf->name : NULL, inf ? inf->vendor : NULL, inf ? inf->driver_version : NULL,
                            inf ? inf->c_version : NULL, d ? rcl_gemm_params_source(d) : NULL,
                            d ? rcl_gemm_params_string(d) : NULL, d ? policy : NULL,
                            d ? rcl_conv_params_source(d) : NULL};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        rcl_jw_key(w, keys[i]), values[i] ? rcl_jw_string(w, values[i]) : rcl_jw_null(w);
}

void rcl_provenance_json(rcl_json_writer *w, const rcl_run_config *run, rcl_device *d, rcl_model *m,
                         const rcl_dataset *data, uint64_t seed) {
    rcl_jw_begin_object(w);
    rcl_jw_key(w, "robustcl_version"), rcl_jw_string(w, rcl_version());
    rcl_jw_key(w, "version"), rcl_jw_string(w, rcl_version_number());
    rcl_jw_key(w, "commit"), rcl_jw_string(w, rcl_version_commit());
    rcl_jw_key(w, "clblast_version"), rcl_jw_string(w, rcl_gemm_clblast_version());
    device_json(w, d);
    if (m) {
        char conv[2048];
        rcl_model_conv_summary(m, conv, sizeof conv);
        rcl_jw_key(w, "conv_configs"), rcl_jw_string(w, conv);
    }
    run_json(w, run);
    host_json(w);
    if (data) {
        rcl_jw_key(w, "dataset"), rcl_jw_string(w, data->name);
        rcl_jw_key(w, "dataset_sha256"), rcl_jw_string(w, data->sha256);
        rcl_jw_key(w, "seed"), rcl_jw_uint(w, seed);
    }
    rcl_jw_end_object(w);
}
