/* The environment, read once (env.c): every variable robustcl honours goes into the run
 * configuration here and nowhere else (README "Environment" lists each and the option it feeds).
 * The test harness reads it the same way. */
#ifndef RCL_CLI_ENV_H
#define RCL_CLI_ENV_H

#include "robustcl/session.h"

/* Fills c's device selector, cache, kernel, quiet, data-directory and launcher fields from the
 * environment, and *python with the bench peer's interpreter (NULL: /usr/bin/python3).
 * RCL_ERR_INVALID_ARG naming the variable when a value is not one the option accepts. */
rcl_status rcl_env_read(rcl_run_config *c, const char **python);

#endif
