/* The run record every result carries: one "provenance" object, written by one function, that
 * says what produced the result: robustcl's version and commit, CLBlast's version, the
 * platform, device, driver and OpenCL C version, the GEMM and convolution parameters in force
 * and where they came from, the command line, the UTC start and the wall time, and the host. */
#ifndef ROBUSTCL_PROVENANCE_H
#define ROBUSTCL_PROVENANCE_H

#include <stdint.h>

#include "robustcl/json.h"
#include "robustcl/session.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes "provenance": {...} into the open JSON object w. d NULL: a run without a device
 * (its fields null); m: its convolution configurations too; data: the dataset, its SHA-256
 * and seed. */
void rcl_provenance_json(rcl_json_writer *w, const rcl_run_config *run, rcl_device *d, rcl_model *m,
                         const rcl_dataset *data, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif
