/* Stored kernel configurations (docs/convolution.md): the rows of the per-device cache file
 * that the tuner and auto write, and robustcl's database (kernels/tuned/database.txt,
 * compiled in), whose entries hold what the tuner found on the devices measured so far. */
#ifndef RCL_CONV2D_DATABASE_H
#define RCL_CONV2D_DATABASE_H

#include "conv2d_family.h"

/* One stored choice: "fwd 128 64 32 32 64 3 3 1 1 chan:VW=16:R=2:X=8 ms=43.800 from=tuned"
 * (pass, the shape it was measured on with n its batch, the config, its time, its source). */
typedef struct conv_row {
    rcl_conv_choice pub;
    conv_config cfg;
    int build; /* the config's kernel build on this device, -1 until first run */
} conv_row;

/* Parses one row; 0 (nothing written) when it is malformed or names an unknown config. */
int conv_row_parse(const char *line, conv_row *out);
/* Appends row r as one line (with its newline) at out + *len. */
void conv_row_format(const conv_row *r, char *out, size_t cap, size_t *len);

/* The batch bucket of a row's key: n rounded up to a power of two. */
int conv_batch_bucket(int n);
/* 1 when row r is for pass p of s: the same shape, the batch in the same bucket when
 * with_batch, else any batch. */
int conv_row_matches(const conv_row *r, rcl_conv_pass p, const rcl_conv_shape *s, int with_batch);
/* How far r's shape is from s (0: the same; channel counts weigh less than image sizes), or
 * -1 when r is of another pass or geometry (it cannot serve s). */
int conv_row_distance(const conv_row *r, rcl_conv_pass p, const rcl_conv_shape *s);

/* The database's entry for d: its patterns and rows. */
typedef struct conv_db_entry {
    char device[128], platform[128], driver[64]; /* the patterns that matched */
    conv_row *rows;
    int n;
} conv_db_entry;
/* Finds the first entry of `text` (the database's format) whose patterns match d; 0 when
 * none does (e then holds no rows). */
int conv_db_find(const rcl_device *d, const char *text, conv_db_entry *e);
void conv_db_free(conv_db_entry *e);

/* The engine's functions the tuner uses (conv2d_algo.c). */
/* Time of c on pass c->family->pass of s: best of `runs` after a warm-up that builds its
 * kernel; *ms = -1 when it does not handle s or fails; stops once slower than give_up_ms
 * (<= 0: never). */
rcl_status rcl_conv_time_config(rcl_device *d, const conv_config *c, const rcl_conv_shape *s,
                                const rcl_tensor *a, const rcl_tensor *b, rcl_tensor *out,
                                int runs, double give_up_ms, double *ms);
/* Stores c as the choice of pass p of s on d (the cache file), with its time and source. */
conv_row *rcl_conv_store_choice(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                                const conv_config *c, double ms, const char *source);
/* The configuration pass p of s runs with now, without measuring: 0 when auto has none. */
int rcl_conv_known_config(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p, conv_config *c);
/* The candidates auto would measure for pass p of s: count. */
int rcl_conv_candidate_configs(rcl_device *d, const rcl_conv_shape *s, rcl_conv_pass p,
                               conv_config *list, int cap);

#endif
