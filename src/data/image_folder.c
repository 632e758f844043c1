/* Folders of images: ImageFolder (class per subfolder), flat unlabelled sets, Tiny ImageNet. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data_internal.h"

#define MAX_DEPTH 32

typedef struct {
    char *dir, *name; /* os.walk order: sorted by directory path, then file name */
    int label;
} entry;

typedef struct {
    entry *e;
    int n, cap;
} entry_list;

typedef struct {
    char **s;
    int n, cap;
} str_list;

static void entries_free(entry_list *l) {
    for (int i = 0; i < l->n; i++) {
        free(l->e[i].dir);
        free(l->e[i].name);
    }
    free(l->e);
    memset(l, 0, sizeof *l);
}

static void strs_free(str_list *l) {
    for (int i = 0; i < l->n; i++)
        free(l->s[i]);
    free(l->s);
    memset(l, 0, sizeof *l);
}

static rcl_status strs_add(str_list *l, const char *s) {
    if (l->n == l->cap) {
        int nc = l->cap ? 2 * l->cap : 64;
        char **ns = realloc(l->s, (size_t)nc * sizeof *ns);
        if (!ns)
            return rcl_fail(RCL_ERR_NO_MEMORY, "out of memory listing files");
        l->s = ns, l->cap = nc;
    }
    if (!(l->s[l->n] = strdup(s)))
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of memory listing files");
    l->n++;
    return RCL_OK;
}

static rcl_status entries_add(entry_list *l, const char *dir, const char *name, int label) {
    if (l->n == l->cap) {
        int nc = l->cap ? 2 * l->cap : 256;
        entry *ne = realloc(l->e, (size_t)nc * sizeof *ne);
        if (!ne)
            return rcl_fail(RCL_ERR_NO_MEMORY, "out of memory listing files");
        l->e = ne, l->cap = nc;
    }
    entry *e = &l->e[l->n];
    e->dir = strdup(dir);
    e->name = strdup(name);
    e->label = label;
    if (!e->dir || !e->name) {
        free(e->dir);
        free(e->name);
        return rcl_fail(RCL_ERR_NO_MEMORY, "out of memory listing files");
    }
    l->n++;
    return RCL_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmp_entry(const void *a, const void *b) {
    const entry *x = a, *y = b;
    int c = strcmp(x->dir, y->dir);
    return c ? c : strcmp(x->name, y->name);
}

/* torchvision's IMG_EXTENSIONS; stb_image decodes all but .tif/.tiff/.webp, which then
 * fail loudly instead of being skipped silently. */
static int is_image_name(const char *name) {
    static const char *ext[] = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"};
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
        if (!strcasecmp(dot, ext[i]))
            return 1;
    return 0;
}

/* Sorted names in dir: regular files (images only when `images`) and subfolders.
 * Hidden entries (".*") are skipped. */
static rcl_status list_dir(const char *dir, int images, str_list *files, str_list *dirs) {
    DIR *d = opendir(dir);
    if (!d)
        return rcl_fail(RCL_ERR_IO, "%s: cannot open folder", dir);
    rcl_status st = RCL_OK;
    struct dirent *de;
    char p[4096];
    while (st == RCL_OK && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        st = rcl_data_join(p, sizeof p, dir, de->d_name);
        if (st != RCL_OK)
            break;
        if (rcl_data_is_dir(p)) {
            if (dirs)
                st = strs_add(dirs, de->d_name);
        } else if (files && rcl_data_is_file(p) && (!images || is_image_name(de->d_name))) {
            st = strs_add(files, de->d_name);
        }
    }
    closedir(d);
    if (files && files->n)
        qsort(files->s, (size_t)files->n, sizeof(char *), cmp_str);
    if (dirs && dirs->n)
        qsort(dirs->s, (size_t)dirs->n, sizeof(char *), cmp_str);
    return st;
}

/* Every image under dir (recursively, following links up to MAX_DEPTH), labelled `label`. */
static rcl_status walk(const char *dir, int label, int depth, entry_list *out) {
    if (depth > MAX_DEPTH)
        return rcl_fail(RCL_ERR_FORMAT, "%s: folders nested deeper than %d (a link loop?)", dir, MAX_DEPTH);
    str_list files = {0}, dirs = {0};
    rcl_status st = list_dir(dir, 1, &files, &dirs);
    for (int i = 0; st == RCL_OK && i < files.n; i++)
        st = entries_add(out, dir, files.s[i], label);
    char p[4096];
    for (int i = 0; st == RCL_OK && i < dirs.n; i++) {
        st = rcl_data_join(p, sizeof p, dir, dirs.s[i]);
        if (st == RCL_OK)
            st = walk(p, label, depth + 1, out);
    }
    strs_free(&files);
    strs_free(&dirs);
    return st;
}

/* Reads and decodes the listed files (in list order) into a new dataset. */
static rcl_status load_entries(const entry_list *l, int num_classes, const rcl_image_options *o,
                               int def_size, rcl_dataset *out) {
    rcl_image_options opt = o ? *o : (rcl_image_options){0};
    if (opt.h <= 0 || opt.w <= 0)
        opt.h = opt.w = def_size;
    if (opt.channels <= 0)
        opt.channels = 3;
    /* a subset is chosen from the listing, so only its files are read and decoded */
    int64_t *pick = NULL;
    int m = l->n;
    if (opt.n > 0) {
        RCL_TRY(rcl_data_pick(l->n ? l->e[0].dir : "images", l->n, opt.n, opt.seed, &pick));
        m = opt.n;
    }
    rcl_status st = rcl_dataset_alloc(out, m, opt.channels, opt.h, opt.w, num_classes, 0);
    if (st != RCL_OK) {
        free(pick);
        return st;
    }
    size_t img = rcl_dataset_image_size(out);
    rcl_sha256 hash;
    rcl_sha256_init(&hash);
    char p[4096];
    for (int k = 0; k < m && st == RCL_OK; k++) {
        int i = pick ? (int)pick[k] : k;
        st = rcl_data_join(p, sizeof p, l->e[i].dir, l->e[i].name);
        unsigned char *data = NULL;
        size_t n = 0;
        if (st == RCL_OK)
            st = rcl_data_read_file(p, &hash, &data, &n);
        if (st == RCL_OK) {
            st = rcl_data_decode_image(p, data, n, &opt, out->pixels + (size_t)k * img);
            if (st != RCL_OK && st != RCL_ERR_NO_MEMORY) {
                char msg[1024];
                snprintf(msg, sizeof msg, "%s", rcl_last_error());
                st = rcl_fail(st, "%s (image %d)", msg, i);
            }
        }
        free(data);
        out->labels[k] = l->e[i].label;
    }
    free(pick);
    if (st != RCL_OK) {
        rcl_dataset_free(out);
        return st;
    }
    rcl_sha256_final_hex(&hash, out->sha256);
    return RCL_OK;
}

rcl_status rcl_image_folder_load(const char *dir, const rcl_image_options *o, rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    int layout = o ? o->layout : RCL_FOLDER_AUTO;
    str_list top_files = {0}, classes = {0};
    entry_list l = {0};
    rcl_status st = list_dir(dir, 1, &top_files, &classes);
    if (st == RCL_OK && layout == RCL_FOLDER_AUTO)
        layout = top_files.n > 0 ? RCL_FOLDER_FLAT : RCL_FOLDER_CLASSES;
    int k = 0;
    if (st == RCL_OK && layout == RCL_FOLDER_FLAT) {
        st = walk(dir, -1, 0, &l);
        if (st == RCL_OK && l.n > 1)
            qsort(l.e, (size_t)l.n, sizeof *l.e, cmp_entry);
    } else if (st == RCL_OK) {
        if (classes.n == 0)
            st = rcl_fail(RCL_ERR_FORMAT, "%s: no class subfolders", dir);
        char p[4096];
        for (int c = 0; st == RCL_OK && c < classes.n; c++) {
            int before = l.n;
            st = rcl_data_join(p, sizeof p, dir, classes.s[c]);
            if (st == RCL_OK)
                st = walk(p, c, 0, &l);
            if (st == RCL_OK && l.n == before)
                st = rcl_fail(RCL_ERR_FORMAT, "%s: class folder has no image files", p);
            if (st == RCL_OK && l.n - before > 1)
                qsort(l.e + before, (size_t)(l.n - before), sizeof *l.e, cmp_entry);
        }
        k = classes.n;
    }
    if (st == RCL_OK && l.n == 0)
        st = rcl_fail(RCL_ERR_FORMAT, "%s: no image files", dir);
    if (st == RCL_OK)
        st = load_entries(&l, k, o, 32, out);
    if (st == RCL_OK)
        rcl_data_set_name(out, "folder:%s", dir);
    strs_free(&top_files);
    strs_free(&classes);
    entries_free(&l);
    return st;
}

/* wnids: sorted list of class ids from wnids.txt, else from the train/ subfolders. */
static rcl_status tiny_classes(const char *dir, str_list *wnids) {
    char p[4096];
    RCL_TRY(rcl_data_join(p, sizeof p, dir, "wnids.txt"));
    if (rcl_data_is_file(p)) {
        unsigned char *text;
        size_t n;
        RCL_TRY(rcl_data_read_file(p, NULL, &text, &n));
        rcl_status st = RCL_OK;
        int line = 0;
        for (char *s = (char *)text, *e; st == RCL_OK && s < (char *)text + n; s = e + 1) {
            e = memchr(s, '\n', (size_t)((char *)text + n - s));
            if (!e)
                e = (char *)text + n;
            *e = 0;
            line++;
            size_t len = strcspn(s, " \t\r");
            s[len] = 0;
            if (len == 0)
                continue;
            if (strchr(s, '/'))
                st = rcl_fail(RCL_ERR_FORMAT, "%s:%d: bad class id \"%s\"", p, line, s);
            else
                st = strs_add(wnids, s);
        }
        free(text);
        if (st != RCL_OK)
            return st;
        if (wnids->n == 0)
            return rcl_fail(RCL_ERR_FORMAT, "%s: no class ids", p);
        qsort(wnids->s, (size_t)wnids->n, sizeof(char *), cmp_str);
        for (int i = 1; i < wnids->n; i++)
            if (!strcmp(wnids->s[i], wnids->s[i - 1]))
                return rcl_fail(RCL_ERR_FORMAT, "%s: class id %s listed twice", p, wnids->s[i]);
        return RCL_OK;
    }
    RCL_TRY(rcl_data_join(p, sizeof p, dir, "train"));
    RCL_TRY(list_dir(p, 1, NULL, wnids));
    if (wnids->n == 0)
        return rcl_fail(RCL_ERR_FORMAT, "%s: no wnids.txt and no class folders in %s", dir, p);
    return RCL_OK;
}

static int find_class(const str_list *wnids, const char *id) {
    char *key = (char *)id;
    char **hit = bsearch(&key, wnids->s, (size_t)wnids->n, sizeof(char *), cmp_str);
    return hit ? (int)(hit - wnids->s) : -1;
}

static rcl_status tiny_train(const char *dir, const str_list *wnids, entry_list *l) {
    char tdir[4096], cdir[4096], idir[4096];
    RCL_TRY(rcl_data_join(tdir, sizeof tdir, dir, "train"));
    str_list sub = {0};
    rcl_status st = list_dir(tdir, 1, NULL, &sub);
    for (int i = 0; st == RCL_OK && i < sub.n; i++)
        if (find_class(wnids, sub.s[i]) < 0)
            st = rcl_fail(RCL_ERR_FORMAT, "%s/%s: class folder not listed in wnids.txt", tdir, sub.s[i]);
    for (int c = 0; st == RCL_OK && c < wnids->n; c++) {
        int before = l->n;
        st = rcl_data_join(cdir, sizeof cdir, tdir, wnids->s[c]);
        if (st == RCL_OK)
            st = rcl_data_join(idir, sizeof idir, cdir, "images");
        if (st == RCL_OK && !rcl_data_is_dir(idir))
            st = rcl_fail(RCL_ERR_IO, "%s: no such folder", idir);
        if (st == RCL_OK)
            st = walk(idir, c, 0, l);
        if (st == RCL_OK && l->n == before)
            st = rcl_fail(RCL_ERR_FORMAT, "%s: no image files", idir);
        if (st == RCL_OK)
            qsort(l->e + before, (size_t)(l->n - before), sizeof *l->e, cmp_entry);
    }
    strs_free(&sub);
    return st;
}

/* val/val_annotations.txt: "<file>\t<wnid>\t<box...>" per line, kept in file order. */
static rcl_status tiny_val(const char *dir, const str_list *wnids, entry_list *l) {
    char vdir[4096], idir[4096], ann[4096], p[4096];
    RCL_TRY(rcl_data_join(vdir, sizeof vdir, dir, "val"));
    RCL_TRY(rcl_data_join(idir, sizeof idir, vdir, "images"));
    RCL_TRY(rcl_data_join(ann, sizeof ann, vdir, "val_annotations.txt"));
    unsigned char *text;
    size_t n;
    RCL_TRY(rcl_data_read_file(ann, NULL, &text, &n));
    rcl_status st = RCL_OK;
    int line = 0;
    for (char *s = (char *)text, *e; st == RCL_OK && s < (char *)text + n; s = e + 1) {
        e = memchr(s, '\n', (size_t)((char *)text + n - s));
        if (!e)
            e = (char *)text + n;
        *e = 0;
        line++;
        if (e > s && e[-1] == '\r')
            e[-1] = 0;
        if (!*s)
            continue;
        char *tab = strchr(s, '\t');
        if (!tab) {
            st = rcl_fail(RCL_ERR_FORMAT, "%s:%d: expected \"file<TAB>wnid...\"", ann, line);
            break;
        }
        *tab = 0;
        char *id = tab + 1;
        id[strcspn(id, "\t")] = 0;
        int c = find_class(wnids, id);
        if (c < 0) {
            st = rcl_fail(RCL_ERR_FORMAT, "%s:%d: class %s is not in wnids.txt", ann, line, id);
            break;
        }
        if (!*s || strchr(s, '/')) {
            st = rcl_fail(RCL_ERR_FORMAT, "%s:%d: bad file name \"%s\"", ann, line, s);
            break;
        }
        st = rcl_data_join(p, sizeof p, idir, s);
        if (st == RCL_OK && !rcl_data_is_file(p))
            st = rcl_fail(RCL_ERR_IO, "%s: no such file (listed in %s:%d)", p, ann, line);
        if (st == RCL_OK)
            st = entries_add(l, idir, s, c);
    }
    free(text);
    if (st == RCL_OK && l->n == 0)
        st = rcl_fail(RCL_ERR_FORMAT, "%s: no annotations", ann);
    return st;
}

rcl_status rcl_tiny_imagenet_load(const char *dir, int train, const rcl_image_options *o,
                                  rcl_dataset *out) {
    memset(out, 0, sizeof *out);
    /* the official zip unpacks into tiny-imagenet-200/: accept DIR above it too */
    char sub[4096], probe[4096];
    RCL_TRY(rcl_data_join(probe, sizeof probe, dir, train ? "train" : "val"));
    RCL_TRY(rcl_data_join(sub, sizeof sub, dir, "tiny-imagenet-200"));
    if (!rcl_data_is_dir(probe) && rcl_data_is_dir(sub))
        dir = sub;
    str_list wnids = {0};
    entry_list l = {0};
    rcl_status st = tiny_classes(dir, &wnids);
    if (st == RCL_OK)
        st = train ? tiny_train(dir, &wnids, &l) : tiny_val(dir, &wnids, &l);
    if (st == RCL_OK)
        st = load_entries(&l, wnids.n, o, 64, out);
    if (st == RCL_OK)
        rcl_data_set_name(out, "tinyimagenet:%s", train ? "train" : "val");
    strs_free(&wnids);
    entries_free(&l);
    return st;
}
