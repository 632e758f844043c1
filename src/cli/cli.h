/* Shared helpers of the command-line front end. Each command is one
 * cmd_<name>.c with an int rcl_cmd_<name>(int argc, char **argv) returning the
 * exit status: 0 ok, 1 failure, 2 usage error. */
#ifndef RCL_CLI_H
#define RCL_CLI_H

#include "robustcl/robustcl.h"

int rcl_cmd_devices(int argc, char **argv);

/* Prints "robustcl: <message>" for the last failure and returns 1. */
int rcl_cli_error(void);
/* Prints "robustcl <cmd>: <msg>" plus a --help hint and returns 2. */
int rcl_cli_usage(const char *cmd, const char *fmt, ...);

#endif
