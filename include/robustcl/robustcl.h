/* robustcl: Wide ResNet training and robustness evaluation on any OpenCL device. */
#ifndef ROBUSTCL_H
#define ROBUSTCL_H

#include "robustcl/status.h"
#include "robustcl/device.h"
#include "robustcl/tensor.h"
#include "robustcl/gemm.h"
#include "robustcl/ops.h"
#include "robustcl/rng.h"
#include "robustcl/fileio.h"

const char *rcl_version(void); /* "0.1.0 (commit)" */

#endif
