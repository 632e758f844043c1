#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "robustcl/dist.h"
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
           "  --normalize N        input normalisation (pixel - mean)/std: half (0.5/0.5, default), cifar (the\n"
           "                       CIFAR mean/std of the official GLC/Forward scripts, PROTOCOL 3) or\n"
           "                       M1,M2,M3/S1,S2,S3; stored in the checkpoint, which eval then uses (a\n"
           "                       --resume keeps the checkpoint's; --init does not inherit it)\n"
           "  --out FILE           checkpoint (.safetensors), written at the end, periodically and on Ctrl-C\n"
           "  --init FILE          start from a checkpoint's weights (fine-tuning: a new head if classes differ)\n"
           "  --resume             continue the interrupted run saved in --out, bit-identically\n"
           "  --checkpoint-every N[m]  every N steps, or N minutes with the m suffix\n"
           "  --keep N             also keep the last N periodic checkpoints as FILE.stepS (default 0)\n"
           "  --log FILE           per-epoch metrics as JSON lines\n"
           "  --json FILE          the final result as JSON (with provenance)\n"
           "  --device SEL         P:D or a name substring (default $ROBUSTCL_DEVICE, first GPU, first device)\n"
           "  --force              train even on a device whose self-test failed\n"
           "  --max-device-mem MiB refuse device allocations beyond this (clear error instead of an overcommit)\n"
           RCL_CONV_ALGO_HELP
           "  --bn-split K         ghost batch norm: statistics per sub-batch of batch/K images (K devices' BN in\n"
           "                       one process; the paper's 2-GPU adversarial pre-training is --bn-split 2)\n\n"
           "Data parallel (MPI; `mpirun -np N robustcl train ...`, or `srun robustcl train ...` with Slurm's PMIx):\n"
           "each rank trains on its slice of every global batch of N x --batch images and gradients are\n"
           "averaged over the ranks.\n"
           "Rank 0 alone writes --out, --log and --json; a resume may use another N with the same global batch.\n"
           "  --device A,B,...     device of each rank on a machine, by local rank (default: one GPU per local rank)\n"
           "  --sync-bn            batch-norm statistics over all ranks (default: per rank, like DDP)\n"
           "  --dist-timeout S     fail every rank when another has not answered within S seconds (default 600)\n");
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
    if (o.sync_bn && o.bn_split > 1)
        return rcl_cli_usage("train", "--sync-bn and --bn-split: choose one");
    if (rcl_dist_init(o.dist_timeout) != RCL_OK)
        return rcl_cli_error();
    signal(SIGINT, on_sigint);
    o.stop = &stop_requested;
    rcl_status s = rcl_run_train(&o);
    int rc = 0;
    if (s == RCL_ERR_INTERRUPTED) {
        if (rcl_dist_rank() == 0)
            fprintf(stderr, "robustcl: %s; saved %s: continue with --resume\n", rcl_last_error(),
                    o.out ? o.out : "(no --out)");
        rc = 130;
    }
    /* a failed rank ends them all now; otherwise wait (bounded) for rank 0's last checkpoint,
     * since MPI_Finalize would wait for a hung rank forever */
    if (s != RCL_OK && s != RCL_ERR_INTERRUPTED)
        rc = rcl_cli_error();
    else if (rcl_dist_barrier() != RCL_OK)
        rc = rcl_cli_error();
    if (rc != 0 && rc != 130)
        rcl_dist_abort(rc);
    rcl_dist_finalize();
    return rc;
}
