/* rcl_log: with a callback set, the library's messages (notices, progress, long warnings)
 * reach it whole and nothing goes to stderr; NULL restores the stderr default. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "core/progress.h"
#include "robustcl/device.h"
#include "robustcl/log.h"

static struct {
    int n[4];
    char last[4][256];
    size_t longest;
} got;

static void capture(void *ctx, rcl_log_level level, const char *msg) {
    CHECK(ctx == &got, "callback gets its context");
    got.n[level]++;
    snprintf(got.last[level], sizeof got.last[level], "%s", msg);
    if (strlen(msg) > got.longest)
        got.longest = strlen(msg);
}

int main(void) {
    /* stderr into a scratch file, to see that nothing reaches it */
    char path[] = "/tmp/rcl_test_log_XXXXXX";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    CHECK(fd >= 0 && saved >= 0, "scratch stderr");
    fflush(stderr);
    dup2(fd, STDERR_FILENO);

    rcl_log_set(capture, &got, 0);
    CHECK(rcl_log_interactive() == 0, "a callback set as not interactive");
    rcl_device_notice(NULL, "device chosen");
    rcl_progress p;
    rcl_progress_begin(&p, "train", 10, 1);
    rcl_progress_update(&p, 10, "loss 1.0"); /* within 10 s of the start: not shown */
    rcl_progress_end(&p, "done");
    char *big = malloc(5000);
    memset(big, 'x', 4999);
    big[4999] = 0;
    rcl_log(RCL_LOG_WARNING, "build log:\n%s", big);
    free(big);

    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t written = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);

    CHECK(written == 0, "%lld bytes went to stderr with a callback set", (long long)written);
    CHECK(got.n[RCL_LOG_NOTICE] == 1 && !strcmp(got.last[RCL_LOG_NOTICE], "device chosen"), "notice: %s",
          got.last[RCL_LOG_NOTICE]);
    CHECK(got.n[RCL_LOG_PROGRESS] == 0, "progress throttled to one line per 10 s");
    CHECK(got.n[RCL_LOG_PROGRESS_DONE] == 1 && !strncmp(got.last[RCL_LOG_PROGRESS_DONE], "train 10/10", 11) &&
              strstr(got.last[RCL_LOG_PROGRESS_DONE], "done"),
          "last progress line: %s", got.last[RCL_LOG_PROGRESS_DONE]);
    CHECK(got.n[RCL_LOG_WARNING] == 1 && got.longest == strlen("build log:\n") + 4999,
          "a long warning arrives whole (%zu chars)", got.longest);

    rcl_log_set(capture, &got, 1);
    CHECK(rcl_log_interactive() == 1, "an interactive callback");
    rcl_log_set(NULL, NULL, 1);
    CHECK(rcl_log_interactive() == isatty(STDERR_FILENO), "the default is interactive on a terminal only");
    return rcl_test_finish();
}
