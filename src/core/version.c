#include "robustcl/robustcl.h"

const char *rcl_version(void) { return RCL_VERSION " (" RCL_COMMIT ")"; }
