/* Datasets in host memory: loaders for the paper's data (IDX / Fashion-MNIST,
 * CIFAR-10/100 binary, .npy and Downsampled-ImageNet32 .npz or pickled batches,
 * SVHN .mat, image folders and Tiny ImageNet), the synthetic OOD sets of spec §8, class
 * selection / seeded subsets, and a one-string dataset spec.
 *
 * Every loader validates its input: malformed files (truncated, wrong magic,
 * wrong sizes, labels out of range, undecodable images) fail with
 * RCL_ERR_FORMAT, a missing file with RCL_ERR_IO, and rcl_last_error() names
 * the file and, where it applies, the record index. Allocation sizes are
 * bounded by the bytes actually present, never by a header's claim.
 * On failure *out is left zeroed (nothing to free). */
#ifndef ROBUSTCL_DATA_H
#define ROBUSTCL_DATA_H
#include <stddef.h>
#include <stdint.h>

#include "robustcl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcl_dataset {
    int n, c, h, w;          /* n images of c x h x w */
    int num_classes;         /* 0 when unlabelled */
    uint8_t *pixels;         /* n*c*h*w bytes, per image planar CHW, 0..255 (NULL for float sets) */
    float *values;           /* n*c*h*w floats in network space [-1,1] (synthetic sets; NULL otherwise) */
    int32_t *labels;         /* n labels in [0,num_classes), or -1 when unlabelled */
    char name[64];           /* e.g. "fashion-mnist:train" */
    char sha256[65];         /* SHA-256 of the files read (in order), hex: provenance */
} rcl_dataset;

void rcl_dataset_free(rcl_dataset *ds); /* frees the arrays and zeroes *ds; safe on a zeroed one */

/* c*h*w: elements per image. */
size_t rcl_dataset_image_size(const rcl_dataset *ds);

/* Allocates a zero-filled dataset (pixels, or values when `float_values`; labels set
 * to -1). Fails with RCL_ERR_INVALID_ARG on non-positive shapes. */
rcl_status rcl_dataset_alloc(rcl_dataset *ds, int n, int c, int h, int w, int num_classes,
                             int float_values);

/* ---- selection (in place; labels must be present where classes are used) ---- */

/* Keeps the images whose label is in classes[0..k) and relabels them 0..k'-1 in
 * ORIGINAL class order (classes=[7,5] maps 5->0, 7->1); duplicate entries are ignored.
 * num_classes becomes the number of distinct classes kept. */
rcl_status rcl_dataset_keep_classes(rcl_dataset *ds, const int *classes, int k);
/* Drops the images of classes[0..k) and relabels the remaining classes 0..K'-1 in order. */
rcl_status rcl_dataset_exclude_classes(rcl_dataset *ds, const int *classes, int k);
/* Keeps the images idx[0..m) in that order (indices in [0,n), repeats allowed). */
rcl_status rcl_dataset_take(rcl_dataset *ds, const int64_t *idx, int m);
/* Seeded subset of m images drawn without replacement, kept in file order.
 * RCL_ERR_INVALID_ARG if m > n. */
rcl_status rcl_dataset_subset(rcl_dataset *ds, int m, uint64_t seed);
/* Reads a class list file: one class per line as a 0-based index or an ImageNet wnid
 * (n01440764) mapped through map_path, ImageNet32's map_clsloc.txt (lines "n02119789 1
 * kit_fox": wnid, 1-based index, name; NULL: a wnid is an error); '#' comments and blank
 * lines ignored. Indices must be < num_classes (when num_classes > 0). *classes is
 * malloc'd. RCL_ERR_FORMAT names the file and line (an unknown wnid, a bad map line). */
rcl_status rcl_read_class_list_mapped(const char *path, const char *map_path, int num_classes, int **classes,
                                      int *k);
/* rcl_read_class_list_mapped without a map: indices only. */
rcl_status rcl_read_class_list(const char *path, int num_classes, int **classes, int *k);

/* ---- IDX (MNIST / Fashion-MNIST), raw or gzip ---- */

/* Images: IDX ubyte, 3 dims (n, h, w); labels: IDX ubyte, 1 dim (n). Counts must
 * agree and labels be < num_classes (num_classes 0: max label + 1). `name` may be NULL. */
rcl_status rcl_idx_load(const char *images_path, const char *labels_path, int num_classes,
                        const char *name, rcl_dataset *out);
/* Writes an IDX ubyte file of `ndim` dims (1..4), gzip-compressed when `gzip` (tests, exports). */
rcl_status rcl_idx_save(const char *path, const uint8_t *data, int ndim, const int *dims, int gzip);
/* Fashion-MNIST: dir NULL = rcl_fashion_mnist_default_dir(). Reads
 * {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. 10 classes, 1x28x28. */
rcl_status rcl_fashion_mnist_load(const char *dir, int train, rcl_dataset *out);
/* The folder of a `fashion-mnist` spec without a path: the run configuration's data
 * directory (one per process, rcl_run_config_apply; $RCL_FASHION_MNIST_DIR on the command
 * line), else /usr/share/datasets/fashion-mnist (Debian). NULL or "": Debian's. */
void rcl_fashion_mnist_set_default_dir(const char *dir);
const char *rcl_fashion_mnist_default_dir(void);

/* ---- CIFAR binary ---- */

/* CIFAR-10 records: 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32). */
rcl_status rcl_cifar10_load_files(const char *const *paths, int nfiles, const char *name,
                                  rcl_dataset *out);
/* CIFAR-100 records: coarse label byte + fine label byte + 3072 bytes. Labels are the
 * fine ones (100 classes); the coarse ones (20) go to *coarse (malloc'd) unless NULL. */
rcl_status rcl_cifar100_load_files(const char *const *paths, int nfiles, const char *name,
                                   rcl_dataset *out, int32_t **coarse);
/* dir holds data_batch_1..5.bin / test_batch.bin (or a cifar-10-batches-bin/ subfolder). */
rcl_status rcl_cifar10_load(const char *dir, int train, rcl_dataset *out);
/* dir holds train.bin / test.bin (or a cifar-100-binary/ subfolder). */
rcl_status rcl_cifar100_load(const char *dir, int train, rcl_dataset *out, int32_t **coarse);

/* ---- .npy arrays ---- */

#define RCL_NPY_MAX_DIMS 8

typedef struct rcl_npy {
    char kind;                      /* 'u' unsigned, 'i' signed integer, 'f' float */
    int itemsize;                   /* bytes per element: 1, 2, 4 or 8 */
    int ndim;
    int64_t shape[RCL_NPY_MAX_DIMS];
    size_t count;                   /* number of elements (product of shape) */
    void *data;                     /* count*itemsize bytes, little-endian, C order (malloc'd) */
} rcl_npy;

/* Parses the header of a .npy (format v1, v2, v3) from its first `n` bytes: dtype
 * |u1 |i1 <i2 <i4 <i8 <u2 <u4 <u8 <f4 <f8, C order only. *header_bytes = offset of the data.
 * `what` names the file in errors. RCL_ERR_FORMAT if n is too short for the header. */
rcl_status rcl_npy_parse_header(const void *buf, size_t n, const char *what, rcl_npy *hdr,
                                size_t *header_bytes);
/* A whole .npy in memory (data copied; its size must match the header exactly). */
rcl_status rcl_npy_from_memory(const void *buf, size_t n, const char *what, rcl_npy *out);
rcl_status rcl_npy_load(const char *path, rcl_npy *out);
void rcl_npy_free(rcl_npy *a);
/* Integer array -> int32 labels minus `offset`, each checked in [0,num_classes);
 * errors name `what` and the index. */
rcl_status rcl_npy_to_labels(const rcl_npy *a, const char *what, int64_t offset, int num_classes,
                             int32_t *labels);
/* Writes a .npy v1 (tests, exports) atomically; descr like "|u1" or "<i8". */
rcl_status rcl_npy_save(const char *path, const char *descr, int ndim, const int64_t *shape,
                        const void *data);

/* ---- released common-corruption sets (CIFAR-10-C, CIFAR-100-C; spec §12) ---- */
/* The 15 corruptions of the benchmark, in its order, then its 4 extra ones. */
#define RCL_CORRUPTED_NAMES 19
#define RCL_CORRUPTED_STANDARD 15
extern const char *const rcl_corrupted_names[RCL_CORRUPTED_NAMES];
/* The index of a corruption name, or -1. */
int rcl_corrupted_find(const char *name);
/* DIR/NAME.npy: uint8 images [5*N, H, W, C] (C 1 or 3), severities 1..5 stacked in that
 * order, and DIR/labels.npy: 5*N integer labels. One dataset of all 5*N images (severity s
 * is images (s-1)*N .. s*N-1); classes = the largest label + 1; name "corrupted:NAME". */
rcl_status rcl_corrupted_load(const char *dir, const char *name, rcl_dataset *out);
typedef struct rcl_corrupt_options {
    uint64_t seed;         /* image k's random draws depend only on (seed, corruption, severity, k) */
    const char *frost_dir; /* the references' frost1.png .. frost5.jpg (NULL: frost unavailable) */
} rcl_corrupt_options;
/* Corruption `corruption` (of rcl_corrupted_names) at severity 1..5 of every image of in (8-bit),
 * into out (labels and classes kept; name "IN+NAME:S"). CIFAR-10-C's parameters for images up
 * to 32x32, ImageNet-C's above. RCL_ERR_INVALID_ARG for an unknown corruption or severity,
 * or frost without frost_dir. */
rcl_status rcl_corrupt_dataset(const rcl_dataset *in, int corruption, int severity, const rcl_corrupt_options *o,
                               rcl_dataset *out);
/* 1 when rcl_corrupt_dataset implements the corruption (every one of rcl_corrupted_names). */
int rcl_corrupt_built(int corruption);
/* "all" (every corruption built) or "NAME[,NAME...]" into out[0..*n), each once, in the order
 * given; RCL_ERR_INVALID_ARG names an unknown one. */
rcl_status rcl_corrupt_parse(const char *list, int out[RCL_CORRUPTED_NAMES], int *n);
/* rcl_corrupt_parse, then frost: without frost images, "all" leaves it out with a notice and a
 * list naming it fails (naming --frost). */
rcl_status rcl_corrupt_select(const char *list, const char *frost_dir, int out[RCL_CORRUPTED_NAMES], int *n);
/* Writes corruptions names[0..n) of in, severities 1..5, as a released set is laid out
 * (rcl_corrupted_load reads it): DIR/NAME.npy uint8 [5*N, H, W, C] and DIR/labels.npy. */
rcl_status rcl_corrupt_write(const rcl_dataset *in, const int *names, int n, const rcl_corrupt_options *o,
                             const char *dir);
/* Checks the headers of every corruption file in dir and of labels.npy (*found: how many);
 * RCL_ERR_IO when there is none. */
rcl_status rcl_corrupted_scan(const char *dir, int *found);

/* ---- Downsampled ImageNet 32x32 (.npz: `data` N x 3072 uint8 planar, `labels` 1..1000) ---- */

/* Files in order; labels minus 1, checked < 1000. Pixels stay uint8 (the train set is 3.9 GB). */
rcl_status rcl_imagenet32_load_files(const char *const *paths, int nfiles, const char *name,
                                     rcl_dataset *out);
/* The original pickled batches (dicts of `data`, `labels`, `mean`; read by the restricted
 * unpickler of src/io/pickle.h, which calls nothing), same checks and result. */
rcl_status rcl_imagenet32_pickle_load_files(const char *const *paths, int nfiles, const char *name,
                                            rcl_dataset *out);
/* train: dir/train_data_batch_1..10.npz (as many as exist, at least 1), else the pickled
 * dir/train_data_batch_1..10; test: dir/val_data.npz, else dir/val_data. dir may also be the
 * folder above Imagenet32_{train,val}_npz/ (as the official zips unpack). */
rcl_status rcl_imagenet32_load(const char *dir, int train, rcl_dataset *out);

/* ---- SVHN (.mat v5 via libmatio; only when built with it) ---- */

/* 1 when SVHN support (libmatio) was compiled in. */
int rcl_data_have_matio(void);
/* X: 32x32x3xN uint8 (MATLAB column-major), y: N in 1..10 (10 = digit 0). Defined only
 * when rcl_data_have_matio(); the spec parser reports "built without libmatio" otherwise. */
rcl_status rcl_svhn_load(const char *path, rcl_dataset *out);

/* ---- images (stb_image) ---- */

enum { RCL_FOLDER_AUTO = 0, RCL_FOLDER_CLASSES = 1, RCL_FOLDER_FLAT = 2 };

typedef struct rcl_image_options {
    int h, w;      /* output size; 0,0 = 32x32 (64x64 for Tiny ImageNet) */
    int channels;  /* 3 (RGB, grey replicated, alpha dropped) or 1 (PIL "L"); 0 = 3 */
    int layout;    /* RCL_FOLDER_*: AUTO = flat if DIR has image files itself, else classes */
    int n;         /* > 0: read and decode only a seeded subset of n images, the same ones */
    uint64_t seed; /*      rcl_dataset_subset(all, n, seed) would keep (big OOD folders) */
} rcl_image_options;

/* Resize like PIL's Image.resize(BILINEAR) on 8-bit data (antialiased triangle filter,
 * fixed-point, horizontal pass first). src/dst interleaved HWC with c channels. */
rcl_status rcl_image_resize_u8(const uint8_t *src, int sw, int sh, int c, uint8_t *dst, int dw,
                               int dh);
/* The same with Pillow's BOX filter (Image.resize(BOX)). */
rcl_status rcl_image_resize_box_u8(const uint8_t *src, int sw, int sh, int c, uint8_t *dst, int dw, int dh);
/* The transform Resize(shorter side) + CenterCrop to h x w (torchvision): HWC in, CHW out.
 * Non-square targets scale so the image covers h x w. */
rcl_status rcl_image_fit_u8(const uint8_t *src, int sw, int sh, int c, uint8_t *chw, int h, int w);
/* Decodes one image file (PNG, JPEG, BMP, GIF, TGA, PNM) and fits it: out is c*h*w, CHW. */
rcl_status rcl_image_load_file(const char *path, const rcl_image_options *o, uint8_t *chw);
/* Decodes one image file at its own size into *rgb (interleaved RGB, malloc'd: free()). */
rcl_status rcl_image_read_rgb(const char *path, uint8_t **rgb, int *w, int *h);
/* Writes a CHW uint8 image as PNG (c = 1 or 3). */
rcl_status rcl_image_write_png(const char *path, const uint8_t *chw, int c, int h, int w);
/* ImageFolder convention: one subfolder per class (sorted by name; files found
 * recursively, sorted), or flat (every image under dir, unlabelled: labels -1). */
rcl_status rcl_image_folder_load(const char *dir, const rcl_image_options *o, rcl_dataset *out);
/* Tiny ImageNet: train/<wnid>/images/ *.JPEG (classes = sorted wnids, checked against
 * wnids.txt), or (train 0) val/images + val/val_annotations.txt. Default size 64x64. */
rcl_status rcl_tiny_imagenet_load(const char *dir, int train, const rcl_image_options *o,
                                  rcl_dataset *out);

/* ---- synthetic OOD sets (spec §8), values in network space ---- */

typedef enum {
    RCL_SYNTH_GAUSSIAN = 0,   /* clip(N(0, 0.5^2), -1, 1) */
    RCL_SYNTH_RADEMACHER = 1, /* +-1 */
    RCL_SYNTH_BLOBS = 2,      /* Bernoulli(0.7), 3-D gaussian blur, < 0.75 -> 0, then 2x-1 */
} rcl_synthetic_kind;

/* n images of c x h x w in ds->values (pixels NULL, unlabelled). Image i depends only on
 * (seed, i, shape), so a larger n extends a smaller one. sha256 = digest of the values. */
rcl_status rcl_dataset_synthetic(rcl_synthetic_kind kind, int n, int c, int h, int w,
                                 uint64_t seed, rcl_dataset *out);
/* "gaussian" | "rademacher" | "blobs" -> kind; -1 if none. */
int rcl_synthetic_kind_from_name(const char *name);
/* Blobs blur sigma for an image size: 1.5, or 2.0 when min(h,w) >= 64. */
double rcl_blobs_sigma(int h, int w);
/* scipy.ndimage's gaussian kernel: radius int(truncate*sigma+0.5), normalised taps
 * (2*radius+1 of them). Returns the tap count, or -1 if it exceeds max_taps. */
int rcl_gaussian_kernel1d(double sigma, double truncate, double *taps, int max_taps);
/* scipy.ndimage.gaussian_filter(x, sigma, mode='nearest', truncate=4.0) on one image held
 * as CHW floats, over the axes H, W, C in that order (scipy's axis order for HWC data),
 * rounding to float after each axis like scipy does. A length-1 axis is left as it is. */
rcl_status rcl_blobs_blur(float *chw, int c, int h, int w, double sigma);

/* ---- dataset specs ---- */

/* A spec: KIND[:ARG][,OPTION=VALUE]... with KIND one of fashion-mnist[:DIR], cifar10:DIR,
 * cifar100:DIR, imagenet32:DIR, svhn:FILE|DIR, folder:DIR, tinyimagenet:DIR, gaussian,
 * rademacher, blobs. Options:
 *   classes=5-9 | 0+2+4 | 0-3+7   keep these classes, relabelled 0..K'-1 in original order
 *   exclude=FILE                  drop the classes listed in FILE (one a line: a 0-based index or a
 *                                 wnid, mapped through map= or DIR/map_clsloc.txt when it exists)
 *   map=FILE                      the wnid map of exclude= (map_clsloc.txt format)
 *   n=1000                        seeded subset (after class selection), file order kept
 *   seed=N                        seed for n= and for synthetic sets (default 0)
 *   split=train|test              overrides the `train` argument
 *   size=S | HxW                  image folders / Tiny ImageNet output size
 *   channels=1|3                  image folders
 *   layout=auto|classes|flat      image folders
 *   labels=fine|coarse            cifar100 (coarse = the 20 superclasses)
 *   shape=CxHxW                   synthetic sets (else taken from `like`)
 * Synthetic sets take n and shape from the options, else from `like` (n = like->n). */
typedef struct rcl_dataset_spec {
    char kind[32];
    char arg[1024];          /* DIR or FILE; "" if none */
    int split;               /* -1 not given, 0 test, 1 train */
    char classes[256];       /* raw classes= value, "" if none */
    char exclude[1024];      /* exclude= file, "" if none */
    char map[1024];          /* map= file (wnids of the exclude list), "" if none */
    int n;                   /* 0 = all */
    uint64_t seed;
    int size_h, size_w;      /* 0 = default */
    int channels;            /* 0 = default */
    int layout;              /* RCL_FOLDER_* */
    int coarse;              /* cifar100 labels=coarse */
    int shape_c, shape_h, shape_w; /* synthetic; 0 = from `like` */
} rcl_dataset_spec;

/* Parses without touching the file system; RCL_ERR_INVALID_ARG names the bad part. */
rcl_status rcl_dataset_spec_parse(const char *spec, rcl_dataset_spec *out);
/* Parses a classes= value ("5-9", "0+2+4", "0-3+7") into a malloc'd list. */
rcl_status rcl_parse_class_ranges(const char *text, int **classes, int *k);
rcl_status rcl_dataset_load(const char *spec, int train, rcl_dataset *out);
/* Same; `like` (may be NULL) gives synthetic sets their shape and default count. */
rcl_status rcl_dataset_load_like(const char *spec, int train, const rcl_dataset *like,
                                 rcl_dataset *out);

#ifdef __cplusplus
}
#endif
#endif
