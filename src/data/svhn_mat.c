/* SVHN cropped digits (.mat, MATLAB v5) via libmatio. Compiled only when matio is found
 * (the build defines RCL_HAVE_MATIO=1); X is 32x32x3xN uint8 column-major, y N x 1 in 1..10
 * with 10 standing for the digit 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <matio.h>

#include "data_internal.h"

int rcl_data_have_matio(void) { return 1; }

/* matio reports problems through a logger; keep the last message for our error text
 * instead of letting it print. */
static _Thread_local char mat_msg[256];

static void mat_log(int level, char *message) {
    (void)level;
    snprintf(mat_msg, sizeof mat_msg, "%s", message ? message : "");
}

static double mat_elem(const matvar_t *v, size_t i) {
    switch (v->class_type) {
    case MAT_C_DOUBLE: return ((const double *)v->data)[i];
    case MAT_C_SINGLE: return ((const float *)v->data)[i];
    case MAT_C_UINT8: return ((const uint8_t *)v->data)[i];
    case MAT_C_INT8: return ((const int8_t *)v->data)[i];
    case MAT_C_UINT16: return ((const uint16_t *)v->data)[i];
    case MAT_C_INT16: return ((const int16_t *)v->data)[i];
    case MAT_C_UINT32: return ((const uint32_t *)v->data)[i];
    case MAT_C_INT32: return ((const int32_t *)v->data)[i];
    default: return -1;
    }
}

static int mat_numeric(enum matio_classes c) {
    return c == MAT_C_DOUBLE || c == MAT_C_SINGLE || c == MAT_C_UINT8 || c == MAT_C_INT8 ||
           c == MAT_C_UINT16 || c == MAT_C_INT16 || c == MAT_C_UINT32 || c == MAT_C_INT32;
}

static size_t mat_count(const matvar_t *v) {
    size_t n = 1;
    for (int i = 0; i < v->rank; i++)
        n *= v->dims[i];
    return n;
}

/* libmatio allocates what an element's tag claims before reading it, so a 4 KB file can
 * ask for gigabytes (found by tests/fuzz/fuzz_mat). Refuse v5 files whose top-level
 * elements run past the end of the file before handing them to matio. */
static rcl_status check_v5_elements(const char *path, int64_t fsize) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return rcl_fail(RCL_ERR_IO, "%s: cannot open", path);
    unsigned char h[128];
    rcl_status st = RCL_OK;
    if (fread(h, 1, sizeof h, f) != sizeof h) {
        st = rcl_fail(RCL_ERR_FORMAT, "%s: too short for a MATLAB file", path);
    } else if (memcmp(h, "MATLAB 7.3", 10) != 0) { /* 7.3 is HDF5: matio checks that itself */
        int big = h[126] == 'M' && h[127] == 'I';
        /* without the v5 endian mark matio falls back to MAT v4, whose header's name length it
         * allocates unchecked (a 151-byte file took 1.7 GB: fuzz_mat); SVHN ships v5 files */
        if (!big && !(h[126] == 'I' && h[127] == 'M'))
            st = rcl_fail(RCL_ERR_FORMAT, "%s: not a MATLAB v5 or v7.3 file (no endian mark at byte 126)", path);
        for (int64_t off = 128; st == RCL_OK && off + 8 <= fsize;) {
            unsigned char t[8];
            if (fseek(f, (long)off, SEEK_SET) != 0 || fread(t, 1, 8, f) != 8)
                break;
            uint32_t type = big ? (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3]
                                : (uint32_t)t[3] << 24 | (uint32_t)t[2] << 16 | (uint32_t)t[1] << 8 | t[0];
            uint32_t bytes = big ? (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7]
                                 : (uint32_t)t[7] << 24 | (uint32_t)t[6] << 16 | (uint32_t)t[5] << 8 | t[4];
            if (type >> 16) { /* small element: data packed into the tag */
                off += 8;
                continue;
            }
            int64_t len = type == 15 /* miCOMPRESSED: not padded */ ? (int64_t)bytes : ((int64_t)bytes + 7) / 8 * 8;
            if (off + 8 + (int64_t)bytes > fsize)
                st = rcl_fail(RCL_ERR_FORMAT, "%s: element at byte %lld claims %u bytes, past the end of the file",
                              path, (long long)off, bytes);
            off += 8 + len;
        }
    }
    fclose(f);
    return st;
}

rcl_status rcl_svhn_load(const char *path, rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    int64_t fsize = rcl_data_file_size(path);
    if (fsize < 0)
        return rcl_fail(RCL_ERR_IO, "%s: no such file", path);
    rcl_sha256 hash;
    rcl_sha256_init(&hash);
    RCL_TRY(rcl_sha256_update_file(&hash, path));
    RCL_TRY(check_v5_elements(path, fsize));
    Mat_LogInitFunc("robustcl", mat_log);
    mat_msg[0] = 0;
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mat)
        return rcl_fail(RCL_ERR_FORMAT, "%s: not a readable MATLAB file%s%s", path, mat_msg[0] ? ": " : "", mat_msg);
    rcl_status st = RCL_OK;
    matvar_t *x = NULL, *y = NULL;
    x = Mat_VarReadInfo(mat, "X");
    y = Mat_VarReadInfo(mat, "y");
    size_t n = 0;
    if (!x || !y) {
        st = rcl_fail(RCL_ERR_FORMAT, "%s: no variable %s", path, !x ? "X" : "y");
    } else if (x->rank != 4 || x->dims[0] != 32 || x->dims[1] != 32 || x->dims[2] != 3 ||
               x->class_type != MAT_C_UINT8 || x->isComplex) {
        st = rcl_fail(RCL_ERR_FORMAT, "%s: X must be a 32x32x3xN uint8 array", path);
    } else {
        n = x->dims[3];
        /* deflate's ratio limit bounds what a real file can hold: never trust dims beyond it */
        if (n == 0 || n > INT32_MAX || (double)n * 3072.0 > (double)fsize * 1100.0 + 4096.0)
            st = rcl_fail(RCL_ERR_FORMAT, "%s: X claims %zu images, impossible for a %lld-byte file", path, n,
                          (long long)fsize);
        else if (y->isComplex || mat_count(y) != n || (y->rank == 2 && y->dims[0] != n && y->dims[1] != n))
            st = rcl_fail(RCL_ERR_FORMAT, "%s: y has %zu entries for %zu images", path, mat_count(y), n);
    }
    Mat_VarFree(x);
    Mat_VarFree(y);
    x = y = NULL;
    if (st == RCL_OK) {
        x = Mat_VarRead(mat, "X");
        y = Mat_VarRead(mat, "y");
        if (!x || !y || !x->data || !y->data || mat_count(x) != n * 3072 || mat_count(y) != n ||
            x->class_type != MAT_C_UINT8)
            st = rcl_fail(RCL_ERR_FORMAT, "%s: cannot read %s%s%s", path, (!x || !x->data) ? "X" : "y",
                          mat_msg[0] ? ": " : "", mat_msg);
        else if (!mat_numeric(y->class_type))
            st = rcl_fail(RCL_ERR_FORMAT, "%s: y has an unsupported MATLAB class %d", path, (int)y->class_type);
    }
    if (st == RCL_OK)
        st = rcl_dataset_alloc(out, (int)n, 3, 32, 32, 10, 0);
    for (size_t i = 0; st == RCL_OK && i < n; i++) {
        double v = mat_elem(y, i);
        if (!(v >= 1 && v <= 10) || v != (int)v) {
            st = rcl_fail(RCL_ERR_FORMAT, "%s: y of record %zu is %g, expected an integer 1..10", path, i, v);
            break;
        }
        out->labels[i] = (int)v == 10 ? 0 : (int)v;
        /* X(row, col, ch, i) at row + 32 col + 1024 ch + 3072 i; row = image y, col = image x */
        const uint8_t *src = (const uint8_t *)x->data + i * 3072;
        uint8_t *dst = out->pixels + i * 3072;
        for (int ch = 0; ch < 3; ch++)
            for (int r = 0; r < 32; r++)
                for (int c = 0; c < 32; c++)
                    dst[ch * 1024 + r * 32 + c] = src[r + 32 * c + 1024 * ch];
    }
    Mat_VarFree(x);
    Mat_VarFree(y);
    Mat_Close(mat);
    if (st != RCL_OK) {
        rcl_dataset_free(out);
        return st;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    rcl_data_set_name(out, "svhn:%s", strncmp(base, "train", 5) == 0 ? "train"
                                       : strncmp(base, "test", 4) == 0 ? "test"
                                       : strncmp(base, "extra", 5) == 0 ? "extra" : base);
    rcl_sha256_final_hex(&hash, out->sha256);
    return RCL_OK;
}
