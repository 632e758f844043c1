#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "robustcl/dist.h"
#include "train_run.h"

static volatile sig_atomic_t stop_requested;
static void on_sigint(int sig) {
    (void)sig;
    stop_requested = 1;
}

static int parse_normalize(rcl_args *a, const rcl_cli_option *opt, const char *v) {
    rcl_train_run_options *o = opt->ptr;
    if (rcl_normalization_parse(v, &o->norm) != RCL_OK)
        return rcl_cli_usage(a->cmd, "--normalize: %s", rcl_last_error());
    o->norm_given = 1;
    return 0;
}

/* N (steps) or Nm (minutes). */
static int parse_every(rcl_args *a, const rcl_cli_option *opt, const char *v) {
    rcl_train_run_options *o = opt->ptr;
    char *end;
    double x = strtod(v, &end);
    if (end == v || !(x > 0 && x <= 1e9) || (*end && strcmp(end, "m")))
        return rcl_cli_usage(a->cmd, "--checkpoint-every '%s': expected N (steps) or Nm (minutes), 0 < N <= 1e9", v);
    if (*end == 'm')
        o->every_minutes = x;
    else
        o->every_steps = (long)x;
    return 0;
}

static const char usage[] =
    "usage: robustcl train [options]\n\n"
    "Trains a Wide ResNet with SGD (Nesterov 0.9, weight decay, cosine schedule to 1e-6 stepped\n"
    "per iteration, mean cross-entropy, random crop + flip), spec §1-3 (docs/specification.md).\n\n";

/* Parses the options into o: 0, or 1 with the exit status in *rc (help, usage error). */
static int parse(int argc, char **argv, rcl_train_run_options *o, int *max_mib, int *rc) {

    const rcl_cli_option opts[] = {
        RCL_CLI_DATASET("--data", &o->data, "training set (default fashion-mnist; see `robustcl help data`)"),
        RCL_CLI_DATASET("--test", &o->test,
                        "test set, evaluated after every epoch (default: the test split of --data)"),
        RCL_CLI_ARCH(&o->arch, "network (default wrn-40-2: the paper's, spec §4)"),
        RCL_CLI_DOUBLE("--dropout", "P", &o->dropout, 0, 0.99, "dropout inside blocks (default 0)"),
        RCL_CLI_INT("--epochs", "N", &o->epochs, 1, 100000, "(default 1)"),
        RCL_CLI_DOUBLE("--lr", "X", &o->lr, 1e-9, 100, "initial learning rate (default 0.1)"),
        RCL_CLI_INT("--batch", "N", &o->batch, 1, 65536, "(default 128: the paper's, spec §4)"),
        RCL_CLI_DOUBLE("--wd", "X", &o->wd, 0, 1, "weight decay (default 5e-4)"),
        RCL_CLI_INT("--seed", "N", &o->seed, 0, 2147483647,
                    "initialisation, shuffling, augmentation, dropout (default 1)"),
        RCL_CLI_FLAG_SET("--no-augment", &o->augment, 0, "no random crop / flip"),
        RCL_CLI_STRING("--adv-train", "SPEC", &o->adv_train,
                       "adversarial training on attack examples only, e.g. pgd:steps=10 (spec §7;\n"
                       "the attack runs with BN in train mode; spec syntax as in eval --attack)"),
        RCL_CLI_FLAG("--freeze-trunk", &o->freeze_trunk, "train only fc (the paper's last-layer-only ablation)"),
        RCL_CLI_CALL("--normalize", "N", parse_normalize, o,
                     "input normalisation (pixel - mean)/std: half (0.5/0.5, default), cifar (the\n"
                     "CIFAR mean/std of the official GLC/Forward scripts, spec §3) or\n"
                     "M1,M2,M3/S1,S2,S3; stored in the checkpoint, which eval then uses (a\n"
                     "--resume keeps the checkpoint's; --init does not inherit it)"),
        RCL_CLI_STRING("--out", "FILE", &o->out,
                       "checkpoint (.safetensors), written at the end, periodically and on Ctrl-C"),
        RCL_CLI_STRING("--init", "FILE", &o->init,
                       "start from a checkpoint's weights (fine-tuning: a new head if classes differ)"),
        RCL_CLI_FLAG("--resume", &o->resume, "continue the interrupted run saved in --out, bit-identically"),
        RCL_CLI_CALL("--checkpoint-every", "N[m]", parse_every, o, "every N steps, or N minutes with the m suffix"),
        RCL_CLI_INT("--keep", "N", &o->keep, 0, 1000,
                    "also keep the last N periodic checkpoints as FILE.stepS (default 0)"),
        RCL_CLI_STRING("--log", "FILE", &o->log, "per-epoch metrics as JSON lines"),
        RCL_CLI_STRING("--json", "FILE", &o->json, "the final result as JSON (with provenance)"),
        RCL_CLI_DEVICE("P:D or a name substring (default $ROBUSTCL_DEVICE, first GPU, first device);\n"
                       "data parallel: a list A,B,... (below)"),
        RCL_CLI_FORCE("train even on a device whose self-test failed"),
        RCL_CLI_INT("--max-device-mem", "MiB", max_mib, 1, 1 << 24,
                    "refuse device allocations beyond this (clear error instead of an overcommit)"),
        RCL_CLI_CONV_ALGO,
        RCL_CLI_INT("--bn-split", "K", &o->bn_split, 1, 1024,
                    "ghost batch norm: statistics per sub-batch of batch/K images (K devices' BN in\n"
                    "one process; the paper's 2-GPU adversarial pre-training is --bn-split 2)"),
        RCL_CLI_TEXT("\nData parallel (MPI; `mpirun -np N robustcl train ...`, or `srun robustcl train ...` with "
                     "Slurm's PMIx):\neach rank trains on its slice of every global batch of N x --batch images "
                     "and gradients are\naveraged over the ranks.\nRank 0 alone writes --out, --log and --json; a "
                     "resume may use another N with the same global batch.\n"
                     "  --device A,B,...     device of each rank on a machine, by local rank (default: one GPU per "
                     "local rank)\n"),
        RCL_CLI_FLAG("--sync-bn", &o->sync_bn, "batch-norm statistics over all ranks (default: per rank, like DDP)"),
        RCL_CLI_DOUBLE("--dist-timeout", "S", &o->dist_timeout, 0.1, 1e7,
                       "fail every rank when another has not answered within S seconds (default 600)"),
    };
    const rcl_cli_spec spec = {"train", usage, opts, RCL_CLI_COUNT(opts), 23, NULL, NULL};
    if (rcl_cli_parse(&spec, argc, argv, rc))
        return 1;
    if (o->resume && !o->out)
        return *rc = rcl_cli_usage("train", "--resume needs --out (the checkpoint to continue)"), 1;
    if (o->sync_bn && o->bn_split > 1)
        return *rc = rcl_cli_usage("train", "--sync-bn and --bn-split: choose one"), 1;
    return 0;
}

int rcl_cmd_train(int argc, char **argv) {
    rcl_train_run_options o;
    rcl_train_run_defaults(&o);
    int rc = 0, max_mib = 0;
    if (parse(argc, argv, &o, &max_mib, &rc))
        return rc;
    rcl_run_config *run = rcl_cli_run();
    if (rcl_dist_init(o.dist_timeout, &run->launch) != RCL_OK)
        return rcl_cli_error();
    run->device.local_rank = rcl_dist_local_rank();
    run->device.max_device_mem = (size_t)max_mib << 20;
    o.run = run;
    signal(SIGINT, on_sigint);
    o.stop = &stop_requested;
    rcl_status s = rcl_train_run(&o);
    if (s == RCL_ERR_INTERRUPTED) {
        if (rcl_dist_rank() == 0 && o.out)
            fprintf(stderr, "robustcl: %s; saved %s: continue with --resume\n", rcl_last_error(), o.out);
        else if (rcl_dist_rank() == 0)
            fprintf(stderr, "robustcl: %s; nothing saved (no --out)\n", rcl_last_error());
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
