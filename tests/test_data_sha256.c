/* SHA-256: FIPS 180-4 / NIST test vectors, streaming in odd pieces, files. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/fileio.h"
#include "core/sha256.h"

static void check_vec(const char *msg, size_t n, const char *want) {
    char hex[65];
    rcl_sha256_hex(msg, n, hex);
    CHECK(!strcmp(hex, want), "sha256 of %zu bytes: %s, want %s", n, hex, want);
    /* the same bytes fed in irregular pieces (crossing block boundaries) */
    rcl_sha256 s;
    rcl_sha256_init(&s);
    size_t at = 0, step = 1;
    while (at < n) {
        size_t k = step < n - at ? step : n - at;
        rcl_sha256_update(&s, msg + at, k);
        at += k;
        step = step * 3 % 97 + 1;
    }
    rcl_sha256_final_hex(&s, hex);
    CHECK(!strcmp(hex, want), "streamed sha256 of %zu bytes: %s", n, hex);
}

int main(void) {
    check_vec("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_vec("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_vec(m448, strlen(m448), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    check_vec(m896, strlen(m896), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    check_vec(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
    /* lengths around the padding boundary (55, 56, 63, 64 bytes) agree between one-shot and streamed */
    unsigned char bytes[768];
    for (int i = 0; i < 768; i++)
        bytes[i] = (unsigned char)i;
    check_vec((const char *)bytes, 768, "f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24a8b0f04e12b484c1dfe363");

    /* files: equals the buffer digest; a missing file is an I/O error naming it */
    char path[512], hex[65], want[65];
    snprintf(path, sizeof path, "%s/bytes.bin", rcl_test_tmpdir());
    CHECK_OK(rcl_file_write_atomic(path, bytes, sizeof bytes));
    CHECK_OK(rcl_sha256_file(path, hex));
    rcl_sha256_hex(bytes, sizeof bytes, want);
    CHECK(!strcmp(hex, want), "file digest %s", hex);
    snprintf(path, sizeof path, "%s/missing.bin", rcl_test_tmpdir());
    CHECK_FAILS(rcl_sha256_file(path, hex), RCL_ERR_IO);
    CHECK(strstr(rcl_last_error(), "missing.bin") != NULL, "names the file: %s", rcl_last_error());
    return rcl_test_finish();
}
