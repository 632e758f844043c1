/* The library's version. */
#ifndef ROBUSTCL_VERSION_H
#define ROBUSTCL_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

const char *rcl_version(void); /* "0.1.0 (commit)" */

#ifdef __cplusplus
}
#endif
#endif
