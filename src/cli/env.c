/* The environment into the run configuration (env.h): the one place robustcl reads it, apart
 * from the test-only fault injection of src/core/fault.c. */
#include "env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A variable's value, NULL when unset or empty (an empty variable is no setting). */
static const char *var(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int is_on(const char *name) {
    const char *v = var(name);
    return v && strcmp(v, "0") != 0;
}

/* ROBUSTCL_CACHE_DIR, else $XDG_CACHE_HOME/robustcl, else ~/.cache/robustcl; none with
 * ROBUSTCL_CACHE=0. */
static const char *cache_dir(void) {
    static char dir[4096];
    const char *off = var("ROBUSTCL_CACHE"), *set = var("ROBUSTCL_CACHE_DIR"), *xdg = var("XDG_CACHE_HOME");
    const char *home = var("HOME");
    int n = 0;
    if (off && !strcmp(off, "0"))
        return NULL;
    if (set)
        n = snprintf(dir, sizeof dir, "%s", set);
    else if (xdg)
        n = snprintf(dir, sizeof dir, "%s/robustcl", xdg);
    else if (home)
        n = snprintf(dir, sizeof dir, "%s/.cache/robustcl", home);
    return n > 0 && (size_t)n < sizeof dir ? dir : NULL;
}

/* What the MPI and Slurm launchers export (rcl_dist_launch). */
static rcl_dist_launch launch(void) {
    static const char *const sizes[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"};
    static const char *const mpi[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"};
    rcl_dist_launch l = {1, 0};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes && l.tasks == 1; i++)
        if (var(sizes[i]) && atoi(var(sizes[i])) > 1)
            l.tasks = atoi(var(sizes[i]));
    for (size_t i = 0; i < sizeof mpi / sizeof *mpi; i++)
        l.mpi |= getenv(mpi[i]) != NULL;
    return l;
}

rcl_status rcl_env_read(rcl_run_config *c, const char **python) {
    rcl_device_options *d = &c->device;
    d->selector = var("ROBUSTCL_DEVICE");
    d->conv_policy = var("ROBUSTCL_CONV_ALGO");
    if (rcl_conv_policy_check(d->conv_policy) != RCL_OK)
        return rcl_fail(RCL_ERR_INVALID_ARG, "ROBUSTCL_CONV_ALGO: %s", rcl_last_error());
    const char *kc = var("ROBUSTCL_KERNEL_CLASS");
    if (kc && strcmp(kc, "gpu") && strcmp(kc, "cpu"))
        return rcl_fail(RCL_ERR_INVALID_ARG, "ROBUSTCL_KERNEL_CLASS '%s': expected gpu or cpu", kc);
    d->kernel_class = !kc ? RCL_KERNEL_CLASS_AUTO : !strcmp(kc, "gpu") ? RCL_KERNEL_CLASS_GPU : RCL_KERNEL_CLASS_CPU;
    d->kernel_dir = var("ROBUSTCL_KERNEL_DIR");
    d->cl_options = var("ROBUSTCL_CL_OPTIONS");
    const char *bc = var("ROBUSTCL_BINARY_CACHE");
    d->binary_cache = !bc ? 0 : strcmp(bc, "0") ? 1 : -1;
    c->cache_dir = cache_dir();
    c->quiet = is_on("ROBUSTCL_QUIET");
    c->fashion_mnist_dir = var("RCL_FASHION_MNIST_DIR");
    c->launch = launch();
    *python = var("ROBUSTCL_PYTHON");
    return RCL_OK;
}
