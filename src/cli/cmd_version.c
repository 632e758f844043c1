#include <stdio.h>

#include "cli.h"

int rcl_cmd_version(int argc, char **argv) {
    const rcl_cli_spec spec = {"version",
                               "usage: robustcl version\n\nPrints robustcl's version and the git commit it was "
                               "built from, and the CLBlast version it\nwas built with (as every result's "
                               "\"provenance\" records them; also robustcl --version).\n",
                               NULL, 0, 0, NULL, NULL};
    int rc;
    if (rcl_cli_parse(&spec, argc, argv, &rc))
        return rc;
    printf("robustcl %s\ncommit %s\nCLBlast %s\n", rcl_version_number(), rcl_version_commit(),
           rcl_gemm_clblast_version());
    return 0;
}
