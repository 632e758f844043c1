/* suite paper's plan as a SLURM script set: the two pre-trainings as data-parallel
 * jobs (`srun robustcl train`), the other runs as job arrays of `--only ID` commands,
 * fine-tuning arrays after their pre-training, the report after everything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "suite_internal.h"

/* The lists, by dependency: index 0 "-", 1 "pretrain", 2 "pretrain-adv". */
static const char *const list_names[3] = {"runs-scratch.txt", "runs-pretrain.txt", "runs-pretrain-adv.txt"};

static rcl_status open_file(const char *dir, const char *name, FILE **f) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(*f = fopen(path, "w")))
        return rcl_fail(RCL_ERR_IO, "%s: cannot create", path);
    return RCL_OK;
}

static rcl_status close_file(const char *dir, const char *name, FILE *f, int executable) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return rcl_fail(RCL_ERR_IO, "%s: write failed", path);
    if (executable && chmod(path, 0755) != 0)
        return rcl_fail(RCL_ERR_IO, "%s: cannot make it executable", path);
    return RCL_OK;
}

static void header(FILE *f, const char *what, const char *job, int ntasks, const char *output) {
    fprintf(f, "#!/bin/bash\n# robustcl suite paper: %s\n", what);
    fprintf(f, "#SBATCH --job-name=%s\n#SBATCH --ntasks=%d\n#SBATCH --gpus-per-task=1\n#SBATCH --output=logs/%s\n",
            job, ntasks, output);
    fprintf(f, "set -euo pipefail\n");
}

/* The ImageNet32 spec of pre-training; at --scale < 1 the suite's seeded subsets (n=, seed=). */
static void imagenet_spec(FILE *f, const rcl_suite_paper_config *c, int train, int images) {
    char spec[3300];
    int k = snprintf(spec, sizeof spec, "imagenet32:%s/imagenet32", c->data_root);
    if (!train)
        k += snprintf(spec + k, sizeof spec - (size_t)k, ",split=test");
    if (c->exclude[0])
        k += snprintf(spec + k, sizeof spec - (size_t)k, ",exclude=%s", c->exclude);
    if (c->exclude_map[0])
        k += snprintf(spec + k, sizeof spec - (size_t)k, ",map=%s", c->exclude_map);
    if (c->scale < 1 && k < (int)sizeof spec)
        snprintf(spec + k, sizeof spec - (size_t)k, ",n=%d,seed=%d", images, train ? 107 : 109);
    rcl_suite_quote(f, spec);
}

static rcl_status write_pretrain(const rcl_suite_paper_config *c, const char *out_dir, const char *program,
                                 const char *dir, int ranks, int adv) {
    const char *id = adv ? "pretrain-adv" : "pretrain";
    char name[64], model[4400], what[160];
    snprintf(name, sizeof name, "%s.sbatch", id);
    rcl_suite_paper_pretrain_model(c, out_dir, adv, model, sizeof model);
    int epochs, ntrain, nval;
    rcl_suite_paper_pretrain_sizes(c, &epochs, &ntrain, &nval);
    FILE *f;
    RCL_TRY(open_file(dir, name, &f));
    snprintf(what, sizeof what, "run %s, %sImageNet32 pre-training, data parallel over %d rank%s of %d images",
             id, adv ? "adversarial " : "", ranks, ranks == 1 ? "" : "s", c->pretrain_batch / ranks);
    char job[64];
    snprintf(job, sizeof job, "rcl-%s", id);
    header(f, what, job, ranks, "%x-%j.out");
    fprintf(f, "# run: %s\n", id);
    fprintf(f, "# The model goes where the fine-tuning runs load it; after an interruption, resubmit with\n"
               "# --resume added to the train command.\n");
    fprintf(f, "mkdir -p ");
    char stages[4400];
    snprintf(stages, sizeof stages, "%s/stages", out_dir);
    rcl_suite_quote(f, stages);
    fprintf(f, "\nsrun ");
    rcl_suite_quote(f, program);
    fprintf(f, " train --data ");
    imagenet_spec(f, c, 1, ntrain);
    fprintf(f, " --test ");
    imagenet_spec(f, c, 0, nval);
    fprintf(f, " --arch %s --epochs %d --lr 0.1 --batch %d --seed 1", adv ? c->adv_arch : c->arch, epochs,
            c->pretrain_batch / ranks);
    if (adv) {
        char spec[256];
        rcl_attack_config a = rcl_suite_paper_attack(10);
        fprintf(f, " --adv-train %s", rcl_attack_describe(&a, spec, sizeof spec));
    }
    if (c->run && c->run->device.selector)
        fprintf(f, " --device "), rcl_suite_quote(f, c->run->device.selector);
    fprintf(f, " --checkpoint-every 30m --out ");
    rcl_suite_quote(f, model);
    fprintf(f, " --json \"logs/%s-$SLURM_JOB_ID.json\"\n", id);
    return close_file(dir, name, f, 1);
}

static rcl_status write_array(const char *dir) {
    FILE *f;
    RCL_TRY(open_file(dir, "array.sbatch", &f));
    header(f, "one run per array task, line SLURM_ARRAY_TASK_ID + 1 of the list file given as $1", "rcl-run", 1,
           "%x-%A_%a.out");
    fprintf(f, "line=$((SLURM_ARRAY_TASK_ID + 1))\n"
               "cmd=$(sed -n \"${line}p\" \"$1\")\n"
               "if [ -z \"$cmd\" ]; then echo \"array.sbatch: no line $line in $1\" >&2; exit 1; fi\n"
               "eval \"$cmd\"\n");
    return close_file(dir, "array.sbatch", f, 1);
}

static rcl_status write_report(const char *out_dir, const char *program, const char *dir) {
    FILE *f;
    RCL_TRY(open_file(dir, "report.sbatch", &f));
    fprintf(f, "#!/bin/bash\n# robustcl suite paper: the report of every finished run\n"
               "#SBATCH --job-name=rcl-report\n#SBATCH --ntasks=1\n#SBATCH --output=logs/%%x-%%j.out\n"
               "set -euo pipefail\n");
    rcl_suite_quote(f, program);
    fprintf(f, " report ");
    rcl_suite_quote(f, out_dir);
    fprintf(f, " --out ");
    rcl_suite_quote(f, out_dir);
    fprintf(f, "\n");
    return close_file(dir, "report.sbatch", f, 1);
}

static rcl_status write_submit(const char *dir, const int *count) {
    FILE *f;
    RCL_TRY(open_file(dir, "submit.sh", &f));
    fprintf(f, "#!/bin/bash\n"
               "# Submits robustcl suite paper to SLURM: the pre-trainings (data parallel), the runs as job\n"
               "# arrays (fine-tuning after its pre-training: afterok) and the report after all of them.\n"
               "set -euo pipefail\n"
               "cd \"$(dirname \"$0\")\"\n"
               "mkdir -p logs\n"
               "submit() { local id; id=$(sbatch --parsable \"$@\"); echo \"${id%%%%;*}\"; }\n"
               "pretrain=$(submit pretrain.sbatch)\n"
               "pretrain_adv=$(submit pretrain-adv.sbatch)\n"
               "after=\"$pretrain:$pretrain_adv\"\n");
    static const char *const var[3] = {"", "$pretrain", "$pretrain_adv"};
    for (int l = 0; l < 3; l++) {
        if (!count[l])
            continue;
        fprintf(f, "job=$(submit --array=0-%d%s%s array.sbatch \"$PWD/%s\")\n", count[l] - 1,
                l ? " --dependency=afterok:" : "", var[l], list_names[l]);
        fprintf(f, "after=\"$after:$job\"\n");
    }
    fprintf(f, "report=$(submit --dependency=afterany:$after report.sbatch)\n"
               "echo \"submitted: pre-training $pretrain, adversarial pre-training $pretrain_adv, report $report "
               "(after jobs $after)\"\n");
    return close_file(dir, "submit.sh", f, 1);
}

rcl_status rcl_suite_paper_slurm(const rcl_suite_paper_config *c, const char *out_dir, const char *program,
                                 const char *dir, int ranks) {
    if (ranks < 1 || c->pretrain_batch % ranks)
        return rcl_fail(RCL_ERR_INVALID_ARG, "suite paper: %d ranks do not divide the pre-training batch %d", ranks,
                        c->pretrain_batch);
    rcl_plan_run *runs;
    int n;
    RCL_TRY(rcl_suite_paper_runs(c, &runs, &n));
    rcl_status s = rcl_mkdirs(dir);
    FILE *lists[3] = {NULL, NULL, NULL};
    int count[3] = {0, 0, 0};
    for (int l = 0; l < 3 && s == RCL_OK; l++)
        s = open_file(dir, list_names[l], &lists[l]);
    for (int i = 0; i < n && s == RCL_OK; i++) {
        if (!strcmp(runs[i].id, "pretrain") || !strcmp(runs[i].id, "pretrain-adv"))
            continue; /* their own jobs */
        int l = !strcmp(runs[i].depends, "pretrain") ? 1 : !strcmp(runs[i].depends, "pretrain-adv") ? 2 : 0;
        rcl_suite_paper_command(lists[l], c, out_dir, program, runs[i].id);
        fputc('\n', lists[l]);
        count[l]++;
    }
    for (int l = 0; l < 3; l++)
        if (lists[l]) {
            rcl_status cs = close_file(dir, list_names[l], lists[l], 0);
            if (s == RCL_OK)
                s = cs;
        }
    for (int adv = 0; adv < 2 && s == RCL_OK; adv++)
        s = write_pretrain(c, out_dir, program, dir, ranks, adv);
    if (s == RCL_OK)
        s = write_array(dir);
    if (s == RCL_OK)
        s = write_report(out_dir, program, dir);
    if (s == RCL_OK)
        s = write_submit(dir, count);
    free(runs);
    return s;
}
