/* The command line of every command: the input is split at NUL and newline bytes into
 * arguments (the first one names the command), and two "--help" are appended so every
 * command stops after parsing (a value-taking option can swallow only one of them).
 * The environment points the default device and dataset nowhere and breaks kernel
 * builds, so even a parser that fails to stop cannot start any heavy work. */
#include <sys/stat.h>

#include "fuzz_util.h"

int rcl_cli_main(int argc, char **argv); /* src/cli/main.c, renamed for this target */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    setenv("ROBUSTCL_DEVICE", "no-such-device-fuzz", 1);
    setenv("ROBUSTCL_INJECT", "build", 1);
    setenv("ROBUSTCL_QUIET", "1", 1);
    setenv("RCL_FASHION_MNIST_DIR", "/nonexistent-fuzz", 1);
    const char *dir = fuzz_path(0, "-cwd"); /* files a command might write land here */
    mkdir(dir, 0700);
    if (chdir(dir) != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    enum { MAX_ARGS = 24 };
    char *text = malloc(n + 1), *argv[MAX_ARGS + 4];
    if (!text)
        return 0;
    memcpy(text, data, n);
    text[n] = 0;
    int argc = 0;
    argv[argc++] = "robustcl";
    char *p = text;
    while (argc < MAX_ARGS + 1 && p <= text + n) {
        size_t len = strcspn(p, "\n");
        argv[argc++] = p;
        p[len] = 0;
        p += len + 1;
    }
    argv[argc++] = "--help";
    argv[argc++] = "--help";
    argv[argc] = NULL;
    rcl_cli_main(argc, argv);
    free(text);
    return 0;
}
