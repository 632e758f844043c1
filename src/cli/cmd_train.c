#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run_common.h"

static volatile sig_atomic_t stop_requested;
static void on_sigint(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void help(void) {
    printf("usage: robustcl train [options]\n\n"
           "Trains a Wide ResNet with SGD (Nesterov 0.9, weight decay, cosine schedule to 1e-6 stepped\n"
           "per iteration, mean cross-entropy, random crop + flip), PROTOCOL sections 1-3.\n\n"
           "  --data SPEC          training set (default fashion-mnist; see `robustcl help data`)\n"
           "  --test SPEC          test set, evaluated after every epoch (default: the test split of --data)\n"
           "  --arch wrn-D-K       network (default wrn-40-2)\n"
           "  --dropout P          dropout inside blocks (default 0)\n"
           "  --epochs N           (default 1)\n"
           "  --lr X               initial learning rate (default 0.1)\n"
           "  --batch N            (default 128)\n"
           "  --wd X               weight decay (default 5e-4)\n"
           "  --seed N             initialisation, shuffling, augmentation, dropout (default 1)\n"
           "  --no-augment         no random crop / flip\n"
           "  --adv-train SPEC     adversarial training on attack examples only, e.g. pgd:steps=10 (PROTOCOL 7;\n"
           "                       the attack runs with BN in train mode; spec syntax as in eval --attack)\n"
           "  --freeze-trunk       train only fc (the paper's last-layer-only ablation)\n"
           "  --out FILE           checkpoint (.safetensors), written at the end, periodically and on Ctrl-C\n"
           "  --init FILE          start from a checkpoint's weights (fine-tuning: a new head if classes differ)\n"
           "  --resume             continue the interrupted run saved in --out, bit-identically\n"
           "  --checkpoint-every N[m]  every N steps, or N minutes with the m suffix\n"
           "  --keep N             also keep the last N periodic checkpoints as FILE.stepS (default 0)\n"
           "  --log FILE           per-epoch metrics as JSON lines\n"
           "  --json FILE          the final result as JSON (with provenance)\n"
           "  --device SEL         P:D or a name substring (default $ROBUSTCL_DEVICE, first GPU, first device)\n"
           "  --force              train even on a device whose self-test failed\n"
           "  --max-device-mem MiB refuse device allocations beyond this (clear error instead of an overcommit)\n");
}

int rcl_cmd_train(int argc, char **argv) {
    rcl_run_options o;
    rcl_run_options_default(&o);
    rcl_args a;
    rcl_args_init(&a, "train", argc, argv);
    while (rcl_args_next(&a)) {
        if (rcl_args_is(&a, "--help")) {
            help();
            return 0;
        }
        int r = rcl_run_option(&o, &a);
        if (r < 0)
            return rcl_args_unknown(&a);
    }
    if (a.bad)
        return 2;
    if (o.resume && !o.out)
        return rcl_cli_usage("train", "--resume needs --out (the checkpoint to continue)");
    signal(SIGINT, on_sigint);
    o.stop = &stop_requested;
    rcl_status s = rcl_run_train(&o);
    if (s == RCL_ERR_INTERRUPTED) {
        fprintf(stderr, "robustcl: %s; saved %s: continue with --resume\n", rcl_last_error(), o.out ? o.out : "(no --out)");
        return 130;
    }
    return s == RCL_OK ? 0 : rcl_cli_error();
}
