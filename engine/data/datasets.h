/* The built-in data sets (MNIST, Fashion-MNIST) and where they are looked for. */
#ifndef NN_DATASETS_H
#define NN_DATASETS_H

#include <stddef.h>

#include "../tensor.h"

typedef struct nn_dataset {
    const char *name;        /* "mnist", "fashion_mnist" */
    const char *folder;      /* folder name inside a data directory */
    const char *system_dir;  /* where a Debian package puts it, or NULL */
    const char *how_to_get;  /* one sentence for the error message */
    /* Its first ten training labels: both data sets use the same file names, so a
     * directory that holds the other one is told apart by these. */
    unsigned char first_labels[10];
} nn_dataset;

/* Finds a data set by name; NULL if unknown. */
const nn_dataset *nn_dataset_find(const char *name);
/* NULL-terminated list of every data set. */
const nn_dataset *const *nn_datasets(void);

/* The directories searched, in order: each entry of $NNSH_DATA (colon-separated), then
 * $XDG_DATA_HOME/nnsh/datasets (or ~/.local/share/nnsh/datasets),
 * /usr/local/share/nnsh/datasets, /usr/share/nnsh/datasets, and the data set's system
 * folder. In each directory the files may sit in the data set's folder or directly
 * inside. A NULL-terminated list of any length, to free with
 * nn_dataset_search_path_free; NULL when out of memory. */
char **nn_dataset_search_path(const nn_dataset *dataset);
void nn_dataset_search_path_free(char **dirs);

/* Loads train images, train labels, test images and test labels (uint8) into out[0..3].
 * A directory whose training labels begin as another built-in data set's is passed over
 * (NNSH_DATA pointing at Fashion-MNIST's files never gives them as MNIST); files that
 * are neither's (a user's own) are taken. On success `where` (if not NULL) receives the
 * directory used. A missing data set is an
 * NN_ERR_IO error listing every place looked in and how to get it. */
nn_status nn_dataset_load(const nn_dataset *dataset, nn_tensor *out[4], char *where,
                          size_t where_size);

#endif
