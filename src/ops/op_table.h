/* The op table: one row per device op, naming its kernel file, its kernels, its op file, its
 * plain-C reference and its argument checks, with test shapes and a check that runs the op
 * and its reference on generated inputs and compares every output (forward and backward).
 * It drives `robustcl selftest`, the op tests (tests/test_ops.c, one op at a time under
 * oclgrind in .ci/run) and the coverage test of the kernels (tests/test_op_table.c).
 * docs/ops.md: the columns, and how to add an op. */
#ifndef RCL_OP_TABLE_H
#define RCL_OP_TABLE_H

#include "robustcl/ops.h"
#include "robustcl/rng.h"

/* Norm-wise relative error ||device - ref|| / ||ref|| at most this passes. */
#define RCL_OP_TOL 1e-4
#define RCL_OP_MAX_SHAPES 6

/* A test shape: numbers whose meaning each row's check defines; big ones are left out of
 * RCL_TEST_SMALL runs (oclgrind). */
typedef struct rcl_op_shape {
    int v[8];
    int big;
} rcl_op_shape;

/* Where a check sends each comparison (op: "<row> <output>"). */
typedef struct rcl_op_run {
    rcl_device *d;
    rcl_rng rng;
    void (*report)(void *ctx, const char *op, const char *shape, double rel_err);
    void *ctx;
} rcl_op_run;

typedef struct rcl_op_entry {
    const char *name;        /* the op; its comparisons are reported as "<name> <output>" */
    const char *kernel_file; /* under kernels/; the same stem as op_file */
    const char *kernels;     /* every kernel of kernel_file, space-separated ("prefix*": a macro's) */
    const char *op_file;     /* under src/: the host side (launch sizes, argument checks) */
    const char *reference;   /* under src/: the plain-C double reference (NULL: in the check) */
    const char *arg_check;   /* the function that refuses bad arguments */
    int gemm;                /* runs CLBlast's GEMM (oclgrind: the data-race pass only) */
    rcl_op_shape shapes[RCL_OP_MAX_SHAPES]; /* ends at the first all-zero shape */
    rcl_status (*check)(rcl_op_run *r, const rcl_op_shape *s);
} rcl_op_entry;

extern const rcl_op_entry rcl_op_table[];
extern const int rcl_op_count;

/* The row named name, or NULL. */
const rcl_op_entry *rcl_op_find(const char *name);
/* Runs e's check on each of its shapes (not the big ones when small). */
rcl_status rcl_op_run_entry(rcl_op_run *r, const rcl_op_entry *e, int small);

#endif
