/* Data-parallel processes (MPI ranks). One process is one rank of one: without MPI, or
 * when the program was not started by an MPI launcher (mpirun, srun), every call below
 * is the single-rank identity, so callers need no #ifdefs. Collectives wait at most the
 * timeout given to rcl_dist_init, then fail naming the rank: a rank that died or hangs
 * never leaves the others blocked forever. */
#ifndef ROBUSTCL_DIST_H
#define ROBUSTCL_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "robustcl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the launcher told the process, through its environment (the command line reads it:
 * OMPI_COMM_WORLD_SIZE, PMI_SIZE, SLURM_STEP_NUM_TASKS; PMIX_RANK, PMI_RANK). */
typedef struct rcl_dist_launch {
    int tasks; /* processes the launcher started (1: none or unknown) */
    int mpi;   /* 1: an MPI launcher (Open MPI, MPICH/Hydra, PMIx, e.g. srun --mpi=pmix) */
} rcl_dist_launch;

/* Joins the job when started by an MPI launcher (launch NULL: a single process);
 * timeout_s bounds every collective. Tests inject a rank that dies or hangs with
 * ROBUSTCL_DIST_FAULT=RANK:STEP:exit|hang (src/core/fault.c). */
rcl_status rcl_dist_init(double timeout_s, const rcl_dist_launch *launch);
/* Leaves the job cleanly (after a successful run). */
void rcl_dist_finalize(void);
/* Ends every rank of the job with `code` (after a failure on this rank; never returns
 * when there is more than one rank). */
void rcl_dist_abort(int code);

int rcl_dist_rank(void);
int rcl_dist_size(void);
int rcl_dist_local_rank(void); /* rank among the processes on this machine */
int rcl_dist_built(void);      /* 1: compiled with MPI */

/* buf[0..n) = its sum over the ranks, in place. */
rcl_status rcl_dist_sum(float *buf, size_t n);
rcl_status rcl_dist_barrier(void);

/* The fault injection point: called once per training step with the step about to run. */
void rcl_dist_fault_point(long step);

/* Totals since rcl_dist_init: bytes this rank passed to rcl_dist_sum, and seconds spent in it. */
void rcl_dist_stats(uint64_t *bytes, double *seconds, long *calls);

#ifdef __cplusplus
}
#endif
#endif
