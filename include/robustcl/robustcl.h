/* robustcl: Wide ResNet training and robustness evaluation on any OpenCL device. */
#ifndef ROBUSTCL_H
#define ROBUSTCL_H

#include "robustcl/status.h"
#include "robustcl/log.h"
#include "robustcl/device.h"
#include "robustcl/tensor.h"
#include "robustcl/gemm.h"
#include "robustcl/ops.h"
#include "robustcl/rng.h"
#include "robustcl/data.h"
#include "robustcl/loader.h"
#include "robustcl/normalization.h"
#include "robustcl/model.h"
#include "robustcl/train.h"
#include "robustcl/dist.h"
#include "robustcl/selftest.h"
#include "robustcl/json.h"
#include "robustcl/metrics.h"
#include "robustcl/checkpoint.h"
#include "robustcl/session.h"
#include "robustcl/provenance.h"
#include "robustcl/evaluate.h"
#include "robustcl/adversarial.h"
#include "robustcl/noise_methods.h"
#include "robustcl/imbalance_methods.h"
#include "robustcl/suite.h"

#include "robustcl/version.h"

#endif
