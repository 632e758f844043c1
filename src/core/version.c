#include "robustcl/version.h"

const char *rcl_version(void) { return RCL_VERSION " (" RCL_COMMIT ")"; }
