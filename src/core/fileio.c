#define _POSIX_C_SOURCE 200809L
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fault.h"

rcl_status rcl_file_read(const char *path, unsigned char **data, size_t *size) {
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rcl_fail(RCL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        cap *= 2;
        unsigned char *nb = realloc(buf, cap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
        } else {
            buf = nb;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!buf)
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory reading the file", path);
    if (err) {
        free(buf);
        return rcl_fail(RCL_ERR_IO, "%s: read error", path);
    }
    buf[n] = 0;
    *data = buf;
    *size = n;
    return RCL_OK;
}

/* Fault injection for the crash-safety tests (core/fault.h): after the budget, every write
 * fails as with ENOSPC (a full disk), leaving the temp file partly written. */
static long long write_budget(void) {
    static long long budget = -2; /* -2: not read yet */
    if (budget == -2)
        budget = rcl_fault_write_budget();
    return budget;
}
static long long bytes_written;

struct rcl_atomic_file {
    FILE *f;
    char *path, *tmp;
    int failed;
};

rcl_status rcl_atomic_open(const char *path, rcl_atomic_file **out) {
    *out = NULL;
    rcl_atomic_file *a = calloc(1, sizeof *a);
    size_t n = strlen(path);
    if (a) {
        a->path = strdup(path);
        a->tmp = malloc(n + 32);
    }
    if (!a || !a->path || !a->tmp) {
        if (a) {
            free(a->path);
            free(a->tmp);
        }
        free(a);
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    /* Past RLIMIT_FSIZE the kernel sends SIGXFSZ, which kills (by default, and through
     * the crash handler LLVM installs inside OpenCL compilers); ignored, the write fails
     * with EFBIG and is reported like any other write error. */
    signal(SIGXFSZ, SIG_IGN);
    snprintf(a->tmp, n + 32, "%s.tmp.%ld", path, (long)getpid());
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        rcl_status s = rcl_fail(RCL_ERR_IO, "%s: cannot create: %s", a->tmp, strerror(errno));
        free(a->path);
        free(a->tmp);
        free(a);
        return s;
    }
    *out = a;
    return RCL_OK;
}

rcl_status rcl_atomic_write(rcl_atomic_file *a, const void *data, size_t n) {
    if (a->failed)
        return RCL_ERR_IO;
    long long budget = write_budget();
    if (budget >= 0 && bytes_written + (long long)n > budget) {
        size_t part = (size_t)(budget - bytes_written);
        fwrite(data, 1, part, a->f);
        bytes_written = budget;
        a->failed = 1;
        return rcl_fail(RCL_ERR_IO, "%s: write failed: %s (ROBUSTCL_FAIL_WRITE_AFTER)", a->path,
                        strerror(ENOSPC));
    }
    bytes_written += (long long)n;
    if (n && fwrite(data, 1, n, a->f) != n) {
        a->failed = 1;
        return rcl_fail(RCL_ERR_IO, "%s: write failed: %s", a->path, strerror(errno));
    }
    return RCL_OK;
}

void rcl_atomic_abort(rcl_atomic_file *a) {
    if (!a)
        return;
    if (a->f)
        fclose(a->f);
    unlink(a->tmp);
    free(a->path);
    free(a->tmp);
    free(a);
}

rcl_status rcl_atomic_commit(rcl_atomic_file *a) {
    rcl_status s = RCL_OK;
    if (a->failed)
        s = RCL_ERR_IO;
    else if (fflush(a->f) != 0 || fsync(fileno(a->f)) != 0)
        s = rcl_fail(RCL_ERR_IO, "%s: write failed: %s", a->path, strerror(errno));
    int closed = fclose(a->f);
    a->f = NULL;
    if (s == RCL_OK && closed != 0)
        s = rcl_fail(RCL_ERR_IO, "%s: write failed: %s", a->path, strerror(errno));
    if (s == RCL_OK && rename(a->tmp, a->path) != 0)
        s = rcl_fail(RCL_ERR_IO, "%s: rename failed: %s", a->path, strerror(errno));
    if (s == RCL_OK) { /* make the rename itself durable */
        char *dir = strdup(a->path);
        if (dir) {
            int fd = open(dirname(dir), O_RDONLY);
            if (fd >= 0) {
                fsync(fd);
                close(fd);
            }
            free(dir);
        }
    }
    if (s != RCL_OK)
        unlink(a->tmp);
    free(a->path);
    free(a->tmp);
    free(a);
    return s;
}

rcl_status rcl_file_write_atomic(const char *path, const void *data, size_t n) {
    rcl_atomic_file *a;
    RCL_TRY(rcl_atomic_open(path, &a));
    rcl_status s = rcl_atomic_write(a, data, n);
    if (s != RCL_OK) {
        rcl_atomic_abort(a);
        return s;
    }
    return rcl_atomic_commit(a);
}

rcl_status rcl_file_check_writable(const char *path) {
    rcl_atomic_file *a;
    RCL_TRY(rcl_atomic_open(path, &a));
    rcl_atomic_abort(a);
    return RCL_OK;
}

rcl_status rcl_mkdirs(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return rcl_fail(RCL_ERR_INVALID_ARG, "path too long: %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return rcl_fail(RCL_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return rcl_fail(RCL_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
    return RCL_OK;
}

rcl_status rcl_text_open(rcl_text_out *t, const char *path) {
    t->buf = NULL, t->len = 0;
    if (!(t->f = open_memstream(&t->buf, &t->len)))
        return rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory for its text", path);
    return RCL_OK;
}

rcl_status rcl_text_commit(rcl_text_out *t, const char *path) {
    int bad = ferror(t->f);
    rcl_status s = fclose(t->f) != 0 || bad ? rcl_fail(RCL_ERR_NO_MEMORY, "%s: out of memory for its text", path)
                                            : rcl_file_write_atomic(path, t->buf, t->len);
    free(t->buf);
    t->f = NULL, t->buf = NULL, t->len = 0;
    return s;
}
