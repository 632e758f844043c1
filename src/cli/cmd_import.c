#include <stdio.h>
#include <string.h>

#include "cli.h"

/* FILE.pt OUT.safetensors: the two arguments that are no options. */
static int add_file(rcl_args *a, void *ctx) {
    const char **files = ctx;
    const char *arg = a->argv[a->i];
    if (arg[0] == '-' || (files[0] && files[1]))
        return rcl_cli_unknown(a);
    files[files[0] != NULL] = arg;
    return 0;
}

/* "HxW", or "HxWxC" (*c 0 when not given). */
static int parse_input(const char *s, int *h, int *w, int *c) {
    int used = 0;
    *c = 0;
    if (sscanf(s, "%dx%dx%d%n", h, w, c, &used) == 3 && !s[used])
        return *c >= 1;
    *c = used = 0;
    return sscanf(s, "%dx%d%n", h, w, &used) == 2 && !s[used];
}

int rcl_cmd_import(int argc, char **argv) {
    const char *files[2] = {NULL, NULL}, *input = "32x32";
    int check = 1;
    const rcl_cli_option opts[] = {
        RCL_CLI_STRING("--input", "HxW[xC]", &input,
                       "the input the network was trained on (default 32x32; C, which the weights\n"
                       "determine, is checked against them when given, as HxWxC elsewhere)"),
        RCL_CLI_FLAG_SET("--no-check", &check, 0, "do not load the result into a model on the device"),
        RCL_CLI_DEVICE("P:D or a name substring: the device of the check"),
    };
    const rcl_cli_spec spec = {
        "import",
        "usage: robustcl import FILE.pt OUT.safetensors [--input HxW[xC]] [--no-check] [--device SEL]\n\n"
        "Converts a PyTorch state_dict of the official WRN (e.g. the paper's released pre-trained\n"
        "ImageNet32 WRN-40-2; zip or legacy torch.save format; 'module.' prefixes stripped; any head,\n"
        "e.g. 1000-way) into a robustcl checkpoint, reading the architecture off the tensor shapes.\n"
        "--input gives the image size the network was trained on (default 32x32). The result is\n"
        "then loaded into a model on the device as a check (unless --no-check). Use it with\n"
        "`robustcl train --init OUT.safetensors` to fine-tune (a new head when classes differ).\n"
        "The pickle reader is restricted: it only rebuilds tensors and containers, never runs code.\n\n",
        opts, RCL_CLI_COUNT(opts), 23, add_file, files};
    int rc;
    if (rcl_cli_parse(&spec, argc, argv, &rc))
        return rc;
    const char *in = files[0], *out = files[1];
    int h, w, c;
    if (!in || !out)
        return rcl_cli_usage("import", "expected FILE.pt OUT.safetensors");
    if (!parse_input(input, &h, &w, &c) || h < 4 || w < 4)
        return rcl_cli_usage("import", "--input '%s': expected HxW or HxWxC, e.g. 32x32 or 32x32x3", input);
    rcl_wrn_config cfg;
    if (rcl_checkpoint_import_torch(in, out, c, h, w, &cfg) != RCL_OK)
        return rcl_cli_error();
    printf("%s: WRN-%d-%d, %d input channels, %d classes%s -> %s\n", in, cfg.depth, cfg.widen, cfg.in_c,
           cfg.num_classes, cfg.fc_bias ? "" : " (head without bias)", out);
    if (!check)
        return 0;
    rcl_session_spec check_spec = {.checkpoint = out, .batch = 1}; /* the checkpoint loaded into its model */
    rcl_session session;
    if (rcl_session_open(rcl_cli_run(), &check_spec, &session) != RCL_OK)
        return rcl_cli_error();
    printf("checked: every parameter loads into a WRN-%d-%d (%zu weights)\n", cfg.depth, cfg.widen,
           rcl_model_num_weights(session.model));
    rcl_session_close(&session);
    return 0;
}
