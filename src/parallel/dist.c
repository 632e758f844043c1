/* Data-parallel ranks over MPI, or a single rank without it (see robustcl/dist.h). */
#include "robustcl/dist.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/progress.h"
#include "robustcl/log.h"

#ifdef RCL_HAVE_MPI
#include <mpi.h>
#endif

static struct {
    int active, rank, size, local_rank;
    double timeout;
    int fault_rank, fault_hang;
    long fault_step;
    uint64_t bytes;
    double seconds;
    long calls;
} g = {0, 0, 1, 0, 600, -1, 0, -1, 0, 0, 0};

int rcl_dist_built(void) {
#ifdef RCL_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

static rcl_status parse_fault(void) {
    const char *f = rcl_fault_dist();
    if (!f)
        return RCL_OK;
    char mode[16];
    int used = 0;
    if (sscanf(f, "%d:%ld:%15[a-z]%n", &g.fault_rank, &g.fault_step, mode, &used) != 3 || f[used] ||
        (strcmp(mode, "exit") && strcmp(mode, "hang")))
        return rcl_fail(RCL_ERR_INVALID_ARG, "ROBUSTCL_DIST_FAULT '%s': expected RANK:STEP:exit or RANK:STEP:hang", f);
    g.fault_hang = !strcmp(mode, "hang");
    return RCL_OK;
}

rcl_status rcl_dist_init(double timeout_s, const rcl_dist_launch *launch) {
    if (!(timeout_s > 0))
        return rcl_fail(RCL_ERR_INVALID_ARG, "--dist-timeout %g: must be positive", timeout_s);
    g.timeout = timeout_s;
    RCL_TRY(parse_fault());
    int tasks = launch ? launch->tasks : 1, by_mpi = launch && launch->mpi;
#ifdef RCL_HAVE_MPI
    if (!by_mpi && tasks > 1) /* N copies would each train alone and write --out */
        return rcl_fail(RCL_ERR_INVALID_ARG, "started as one of %d tasks without an MPI environment: use "
                        "`srun --mpi=pmix` (or pmi2) or mpirun", tasks);
    if (!by_mpi)
        return RCL_OK;
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
        return rcl_fail(RCL_ERR_IO, "MPI_Init failed");
    g.active = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g.size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g.rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &g.local_rank);
    MPI_Comm_free(&node);
#else
    (void)by_mpi;
    if (tasks > 1)
        return rcl_fail(RCL_ERR_INVALID_ARG, "started as one of %d processes (mpirun, srun), but this robustcl was "
                        "built without MPI (configure with -DRCL_MPI=ON)", tasks);
#endif
    return RCL_OK;
}

void rcl_dist_finalize(void) {
#ifdef RCL_HAVE_MPI
    if (g.active)
        MPI_Finalize();
#endif
    g.active = 0;
}

void rcl_dist_abort(int code) {
#ifdef RCL_HAVE_MPI
    if (g.active && g.size > 1) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, code);
    }
#endif
    (void)code;
}

int rcl_dist_rank(void) { return g.rank; }
int rcl_dist_size(void) { return g.size; }
int rcl_dist_local_rank(void) { return g.local_rank; }

#ifdef RCL_HAVE_MPI
/* Polls a non-blocking collective until done or the deadline. */
static rcl_status wait_for(MPI_Request *req) {
    double t0 = rcl_now();
    for (;;) {
        int done = 0;
        if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return rcl_fail(RCL_ERR_IO, "rank %d: an MPI collective failed", g.rank);
        if (done)
            return RCL_OK;
        double waited = rcl_now() - t0;
        if (waited > g.timeout)
            return rcl_fail(RCL_ERR_IO, "rank %d: no reply from the other ranks within %g s (a rank died or hangs)",
                            g.rank, g.timeout);
        if (waited > 1e-3) { /* spin briefly (fast networks), then yield the core */
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
    }
}
#endif

rcl_status rcl_dist_sum(float *buf, size_t n) {
    if (g.size < 2)
        return RCL_OK;
#ifdef RCL_HAVE_MPI
    double t0 = rcl_now();
    MPI_Request req;
    for (size_t off = 0; off < n;) { /* MPI counts are int */
        int count = n - off > (size_t)1 << 30 ? 1 << 30 : (int)(n - off);
        if (MPI_Iallreduce(MPI_IN_PLACE, buf + off, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
            return rcl_fail(RCL_ERR_IO, "rank %d: MPI_Iallreduce failed", g.rank);
        RCL_TRY(wait_for(&req));
        off += (size_t)count;
    }
    g.bytes += n * sizeof *buf;
    g.seconds += rcl_now() - t0;
    g.calls++;
#else
    (void)buf;
    (void)n;
#endif
    return RCL_OK;
}

rcl_status rcl_dist_barrier(void) {
    if (g.size < 2)
        return RCL_OK;
#ifdef RCL_HAVE_MPI
    MPI_Request req;
    if (MPI_Ibarrier(MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return rcl_fail(RCL_ERR_IO, "rank %d: MPI_Ibarrier failed", g.rank);
    return wait_for(&req);
#else
    return RCL_OK;
#endif
}

/* Test-only (ROBUSTCL_DIST_FAULT): the rank vanishes without a word to the others, or stops
 * answering, which is what the timeout and the launcher must turn into a bounded failure. */
void rcl_dist_fault_point(long step) {
    if (g.fault_rank != g.rank || g.fault_step != step)
        return;
    rcl_log(RCL_LOG_WARNING, "rank %d: ROBUSTCL_DIST_FAULT: %s at step %ld", g.rank,
            g.fault_hang ? "hanging" : "exiting", step);
    if (!g.fault_hang)
        _exit(3);
    for (;;)
        pause();
}

void rcl_dist_stats(uint64_t *bytes, double *seconds, long *calls) {
    *bytes = g.bytes;
    *seconds = g.seconds;
    *calls = g.calls;
}
