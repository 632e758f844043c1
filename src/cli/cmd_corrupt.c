#include <string.h>

#include "cli.h"

/* What `robustcl corrupt` was asked to do. */
typedef struct {
    const char *data, *out, *list;
    int names[RCL_CORRUPTED_NAMES], n, seed;
    rcl_corrupt_options opt;
} corrupt_options;

static int parse_names(rcl_args *a, const rcl_cli_option *opt, const char *v) {
    corrupt_options *o = opt->ptr;
    if (rcl_corrupt_parse(v, o->names, &o->n) != RCL_OK)
        return rcl_cli_usage(a->cmd, "--corrupt: %s", rcl_last_error());
    o->list = v;
    return 0;
}

static const char usage[] =
    "usage: robustcl corrupt --data SPEC --out DIR [--corrupt all|NAME[,NAME...]] [--seed N] [--frost DIR]\n\n"
    "Writes common corruptions of a labelled dataset (spec §12) laid out as the released\n"
    "CIFAR-10-C is: DIR/NAME.npy, uint8 [5*N, H, W, C] with severities 1-5 stacked, and\n"
    "DIR/labels.npy; `robustcl eval --corruptions DIR` evaluates them. CIFAR-10-C's parameters\n"
    "for images up to 32x32, ImageNet-C's above. The same seed gives the same files.\n\n";

int rcl_cmd_corrupt(int argc, char **argv) {
    corrupt_options o = {0};
    o.data = "fashion-mnist,split=test";
    const rcl_cli_option opts[] = {
        RCL_CLI_DATASET("--data", &o.data, "labelled images (default: the test split of fashion-mnist)"),
        RCL_CLI_STRING("--out", "DIR", &o.out, "the folder to write (created; files in it are replaced)"),
        RCL_CLI_CALL("--corrupt", "all|NAME[,NAME]", parse_names, &o,
                     "which corruptions (default all 19 of spec §12)"),
        RCL_CLI_INT("--seed", "N", &o.seed, 0, 2147483647, "seed of the random corruptions (default 0)"),
        RCL_CLI_STRING("--frost", "DIR", &o.opt.frost_dir,
                       "the references' frost1.png .. frost5.jpg, which frost blends in (without\n"
                       "it, all leaves frost out)"),
    };
    const rcl_cli_spec spec = {"corrupt", usage, opts, RCL_CLI_COUNT(opts), 23, NULL, NULL};
    int rc;
    if (rcl_cli_parse(&spec, argc, argv, &rc))
        return rc;
    if (!o.out)
        return rcl_cli_usage("corrupt", "--out is required");
    o.opt.seed = (uint64_t)o.seed;
    if (rcl_corrupt_select(o.list ? o.list : "all", o.opt.frost_dir, o.names, &o.n) != RCL_OK)
        return rcl_cli_usage("corrupt", "--corrupt: %s", rcl_last_error());
    rcl_dataset ds;
    rcl_status s = rcl_dataset_load(o.data, 0, &ds);
    if (s == RCL_OK)
        s = rcl_corrupt_write(&ds, o.names, o.n, &o.opt, o.out);
    rcl_dataset_free(&ds);
    return s == RCL_OK ? 0 : rcl_cli_error();
}
