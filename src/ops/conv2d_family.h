/* Kernel families of the convolution (docs/convolution.md). A family is one pass's kernel
 * design (the channel-vector forward, the pixel-vector weight gradient, im2col + GEMM, ...);
 * it declares its tunable parameters once, with every value they may take, and that one
 * declaration drives:
 *   - the build: a parameter marked `build` becomes a -D option of the family's .cl file
 *     (with the geometry: -DK= -DP= -DS=), one program per distinct set (rcl_program_variant);
 *   - the geometry checks: the family runs the geometries it lists, on the shapes its
 *     `valid` accepts;
 *   - the tests: tests/test_conv2d.c and the op table run every value of every parameter;
 *   - the tuner (conv2d_tune.c): the search space is every valid combination.
 * A config is a family and one value per parameter; its text form, used by --conv-algo, the
 * cache files and the database, is "chan:VW=16:R=2:X=8" (gemm: "gemm"). */
#ifndef RCL_CONV2D_FAMILY_H
#define RCL_CONV2D_FAMILY_H

#include "conv2d_internal.h"

#define CONV_MAX_PARAMS 6
#define CONV_MAX_VALUES 8
#define CONV_MAX_GEOMETRIES 4
#define CONV_CONFIG_LEN RCL_CONV_CONFIG_LEN

typedef struct conv_param {
    const char *name; /* "VW": the -D option (build) and the name in a config */
    int build;        /* 1: a -D option of the .cl build; 0: a launch setting */
    int nvalues;
    int values[CONV_MAX_VALUES];
    const char *what; /* what it sets (docs/convolution.md lists these) */
} conv_param;

typedef struct conv_geometry {
    int k, pad, stride; /* square kernels */
} conv_geometry;

typedef struct conv_family conv_family;

/* A family with one value per parameter, and the build of its kernel with them. */
typedef struct conv_config {
    const conv_family *family;
    int v[CONV_MAX_PARAMS];
} conv_config;

struct conv_family {
    const char *name;  /* "chan" */
    rcl_conv_pass pass;
    const char *file;  /* its kernel file under kernels/ ("tuned/conv2d_chan.cl"); NULL: gemm */
    const char *kernels[2]; /* the kernels it launches from that file (index 0, 1; NULL: none),
                             * resolved once per build */
    int ngeom;         /* 0: every geometry */
    conv_geometry geom[CONV_MAX_GEOMETRIES];
    int nparams;
    conv_param params[CONV_MAX_PARAMS];
    /* 1 when the values run pass `pass` of s on d (beyond the geometry: register budget,
     * buffer sizes under 2^31 elements and the workspace cap, work-group size) */
    int (*valid)(const rcl_device *d, const rcl_conv_shape *s, const int *v);
    /* the values a device starts from before any tuning, derived from what it reports */
    void (*start)(const rcl_device *d, const rcl_conv_shape *s, int *v);
    /* runs the pass: build is the handle of the family's kernel built for c and s */
    rcl_status (*run)(rcl_device *d, const rcl_conv_shape *s, const conv_config *c, int build,
                      const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out);
};

/* Every family, in the order a pass's candidates are listed (gemm first): conv2d_families.c. */
extern const conv_family *const rcl_conv_family_table[];
extern const int rcl_conv_family_table_size;

/* The families' declarations, beside their code. */
extern const conv_family rcl_conv_gemm_fwd_family, rcl_conv_gemm_dx_family, rcl_conv_gemm_dw_family;
extern const conv_family rcl_conv_direct_fwd_family, rcl_conv_direct_dx_family,
    rcl_conv_direct_dw_family;
extern const conv_family rcl_conv_chan_fwd_family, rcl_conv_chan_dx_family, rcl_conv_chan_dw_family;
extern const conv_family rcl_conv_local_fwd_family, rcl_conv_local_dx_family, rcl_conv_local_dw_family;

/* 1 when v is one of q's declared values. */
int conv_param_declared(const conv_param *q, int v);
/* The index of parameter `name` in f, or -1. */
int conv_param_index(const conv_family *f, const char *name);
/* c's value of parameter `name` (the family must declare it). */
int conv_value(const conv_config *c, const char *name);
/* 1 when f runs s's geometry. */
int conv_geometry_ok(const conv_family *f, const rcl_conv_shape *s);
/* 1 when config c runs s on d: geometry, declared values, the family's constraints. */
int conv_config_ok(const rcl_device *d, const conv_config *c, const rcl_conv_shape *s);
/* The family's start values for s on d. */
void conv_config_start(const rcl_device *d, const conv_family *f, const rcl_conv_shape *s,
                       conv_config *c);
/* "chan:VW=16:R=2:X=8". */
void conv_config_format(const conv_config *c, char *out, size_t cap);
/* Parses a config of pass p; a parameter left out keeps the value already in *c when c's
 * family is the one named, else the family's first value (callers fill starts after).
 * *given is set to 1 when at least one parameter was named. Fails naming what is wrong. */
rcl_status conv_config_parse(const char *text, size_t len, rcl_conv_pass p, conv_config *c,
                             int *given);
int conv_config_same(const conv_config *a, const conv_config *b);
/* The family's build for c on s's geometry (compiled on first use, then looked up): *build. */
rcl_status conv_config_build(rcl_device *d, const conv_config *c, const rcl_conv_shape *s, int *build);
/* Runs pass c->family->pass of s with c (building it on first use). */
rcl_status conv_config_run(rcl_device *d, const conv_config *c, const rcl_conv_shape *s,
                           const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out);

/* Steps *c to the next combination of its family's declared values (mixed radix, the last
 * parameter fastest); returns 0 after the last. Start from conv_config_first. */
void conv_config_first(const conv_family *f, conv_config *c);
int conv_config_next(conv_config *c);
/* The number of combinations of f's declared values. */
long conv_family_space(const conv_family *f);

/* Helpers of the families' `valid` and `run`. */
static inline int conv_round_up(int a, int m) { return (a + m - 1) / m * m; }
static inline int conv_ceil_div(int a, int m) { return (a + m - 1) / m; }
/* 1 when a buffer of `elements` floats has int indices and fits the workspace cap. */
int conv_fits(const rcl_device *d, size_t elements);
/* The work-group size a family's WG value gives on d: 1 on CPU kernels (one tile per work
 * item: PoCL would turn a larger group into a loop over items). */
int conv_wg_ok(const rcl_device *d, int wg);
/* Registers of the vector unit a family's start values plan for: 32 when the native vector
 * width is 16 floats (AVX-512's 32 zmm registers), else 16. */
int conv_vector_registers(const rcl_device *d);
/* The lanes a start config uses: the native float vector width, as 4, 8 or 16. */
int conv_start_lanes(const rcl_device *d);

#endif
