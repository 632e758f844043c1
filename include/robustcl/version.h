/* The library's version. */
#ifndef ROBUSTCL_VERSION_H
#define ROBUSTCL_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

const char *rcl_version(void);        /* "0.1.0 (commit)" */
const char *rcl_version_number(void); /* "0.1.0" */
/* The git commit the library was built from ("1a2b3c4d5e6f", "-dirty" when the tree had
 * changes), "unknown" outside a git checkout. */
const char *rcl_version_commit(void);

#ifdef __cplusplus
}
#endif
#endif
