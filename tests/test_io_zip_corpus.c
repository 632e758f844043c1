/* Every zip-based file of the fixtures (tests/data: .zip, .npz, .pt) and of any folders
 * given as arguments (the fuzz seed corpus: tests/fuzz runs this over seeds/npz and
 * seeds/torch) goes through the libzip-backed reader, from disk and from memory, then
 * through the loader of its kind. A fixture that is meant to load must load; the broken
 * ones (and anything that is no zip at all) must fail with RCL_ERR_FORMAT and a message
 * naming the file; nothing may crash or return another status. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/fileio.h"
#include "io/zip.h"
#include "robustcl/data.h"
#include "robustcl/torch_import.h"

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Fixtures that are deliberately broken for their loader (their zip layer is sound). */
static int meant_to_fail(const char *name) {
    static const char *broken[] = {"data_imnet_badlabel.npz", "data_imnet_badshape.npz", "data_imnet_count.npz",
                                   "data_imnet_nolabels.npz", "data_imnet_shorthdr.npz", "io_torch_evil.pt"};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++)
        if (!strcmp(name, broken[i]))
            return 1;
    return 0;
}

/* PyTorch's legacy format is a pickle stream, not a zip. */
static int is_legacy_pt(const char *name) { return strstr(name, "legacy") != NULL; }

/* Reads every member whole and streamed; returns the first failure (OK if none). */
static rcl_status read_members(rcl_zip *z) {
    rcl_status first = RCL_OK;
    for (size_t i = 0; i < rcl_zip_count(z); i++) {
        const rcl_zip_entry *e = rcl_zip_entry_at(z, i);
        unsigned char *buf = NULL;
        size_t n = 0;
        rcl_status s = rcl_zip_read(z, e, &buf, &n);
        free(buf);
        CHECK(s == RCL_OK || s == RCL_ERR_FORMAT, "%s: %s: %s", rcl_zip_label(z), e->name, rcl_status_name(s));
        CHECK(s != RCL_OK || n == e->size, "%s: %s: %zu bytes read, %llu declared", rcl_zip_label(z), e->name, n,
              (unsigned long long)e->size);
        if (first == RCL_OK)
            first = s;
        rcl_zip_stream *st = NULL;
        if (rcl_zip_stream_open(z, e, &st) == RCL_OK) {
            unsigned char chunk[4093];
            size_t got = sizeof chunk;
            rcl_status r = RCL_OK;
            while (got == sizeof chunk && (r = rcl_zip_stream_read(st, chunk, sizeof chunk, &got)) == RCL_OK) {
            }
            CHECK(r == s, "%s: %s: streamed %s, whole %s", rcl_zip_label(z), e->name, rcl_status_name(r),
                  rcl_status_name(s));
        }
        rcl_zip_stream_close(st);
    }
    return first;
}

/* The zip layer alone, from disk and from memory: both agree. */
static rcl_status check_zip(const char *path, const char *name) {
    rcl_zip *z = NULL;
    rcl_status disk = rcl_zip_open(path, &z);
    if (disk == RCL_OK)
        disk = read_members(z);
    else
        CHECK(strstr(rcl_last_error(), path) != NULL, "%s: error names the file: %s", name, rcl_last_error());
    rcl_zip_close(z);

    unsigned char *buf = NULL;
    size_t size = 0;
    CHECK_OK(rcl_file_read(path, &buf, &size));
    z = NULL;
    rcl_status mem = rcl_zip_open_memory(buf, size, name, &z);
    if (mem == RCL_OK)
        mem = read_members(z);
    else
        CHECK(strstr(rcl_last_error(), name) != NULL, "%s: error names the buffer: %s", name, rcl_last_error());
    rcl_zip_close(z);
    free(buf);
    CHECK(disk == mem, "%s: %s from disk, %s from memory", name, rcl_status_name(disk), rcl_status_name(mem));
    return disk;
}

/* The loader of the file's kind: .pt checkpoints, .npz Downsampled-ImageNet batches. */
static rcl_status check_loader(const char *path) {
    if (ends_with(path, ".pt")) {
        rcl_torch_state st;
        rcl_status s = rcl_torch_load(path, &st);
        if (s == RCL_OK)
            rcl_torch_state_free(&st);
        return s;
    }
    rcl_dataset ds;
    const char *pp[1] = {path};
    rcl_status s = rcl_imagenet32_load_files(pp, 1, NULL, &ds);
    if (s == RCL_OK)
        rcl_dataset_free(&ds);
    return s;
}

/* fixture: 1 for tests/data (outcomes known), 0 for a corpus (only: no crash, no odd status) */
static int check_dir(const char *dir, int fixture) {
    DIR *d = opendir(dir);
    CHECK(d != NULL, "cannot list %s", dir);
    if (!d)
        return 0;
    int files = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        const char *name = ent->d_name;
        int zipfile = ends_with(name, ".zip"), loadable = ends_with(name, ".npz") || ends_with(name, ".pt");
        if (name[0] == '.' || (fixture && !zipfile && !loadable))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        files++;
        rcl_status z = check_zip(path, name);
        rcl_status l = loadable ? check_loader(path) : RCL_OK;
        CHECK(z == RCL_OK || z == RCL_ERR_FORMAT, "%s: zip layer: %s", name, rcl_status_name(z));
        CHECK(l == RCL_OK || l == RCL_ERR_FORMAT, "%s: loader: %s (%s)", name, rcl_status_name(l),
              rcl_last_error());
        if (!fixture)
            continue;
        int legacy = ends_with(name, ".pt") && is_legacy_pt(name);
        CHECK(z == (legacy ? RCL_ERR_FORMAT : RCL_OK), "%s: zip layer %s", name, rcl_status_name(z));
        CHECK(l == (meant_to_fail(name) ? RCL_ERR_FORMAT : RCL_OK), "%s: loader %s", name, rcl_status_name(l));
    }
    closedir(d);
    return files;
}

int main(int argc, char **argv) {
    const char *data = getenv("RCL_TEST_DATA");
    char sub[4096];
    data = data ? data : "tests/data";
    snprintf(sub, sizeof sub, "%s/data_imagenet32", data);
    int n = check_dir(data, 1) + check_dir(sub, 1);
    CHECK(n >= 20, "only %d zip, npz and pt fixtures found in %s", n, data);
    for (int i = 1; i < argc; i++)
        CHECK(check_dir(argv[i], 0) > 0, "no files in corpus %s", argv[i]);
    return rcl_test_finish();
}
