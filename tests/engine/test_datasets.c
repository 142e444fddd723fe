/* The built-in data sets read from a folder of self-made IDX files ($NNSH_DATA): the
 * shapes each file must have, and messages that name both sample counts. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/datasets.h"
#include "data/idx.h"

/* A fresh folder that $NNSH_DATA points at; one per test (each runs in its own process). */
static char folder[64];

static void make_folder(void)
{
    snprintf(folder, sizeof folder, "/tmp/nnsh-datasets-XXXXXX");
    cr_assert_not_null(mkdtemp(folder));
    cr_assert_eq(setenv("NNSH_DATA", folder, 1), 0);
}

static void remove_folder(void)
{
    static const char *const stems[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    char path[128];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", folder, stems[i]);
        unlink(path);
    }
    rmdir(folder);
}

/* Writes a zero-filled uint8 IDX file of the given shape into the folder. */
static void write_file(const char *stem, nn_shape shape)
{
    char path[128];
    nn_tensor *tensor;
    snprintf(path, sizeof path, "%s/%s", folder, stem);
    cr_assert_eq(nn_tensor_create(&tensor, NN_DTYPE_U8, &shape), NN_OK);
    cr_assert_eq(nn_idx_save(tensor, path), NN_OK, "%s", nn_error_message());
    nn_tensor_free(tensor);
}

/* Loads MNIST from the folder and expects an error that contains every fragment. */
static void expect_error(const char *first, const char *second)
{
    nn_tensor *out[4];
    cr_assert_eq(nn_dataset_load(nn_dataset_find("mnist"), out, NULL, 0), NN_ERR_FORMAT);
    for (int i = 0; i < 4; i++)
        cr_assert_null(out[i]);
    const char *message = nn_error_message();
    cr_assert_not_null(strstr(message, first), "\"%s\" lacks \"%s\"", message, first);
    cr_assert_not_null(strstr(message, second), "\"%s\" lacks \"%s\"", message, second);
}

TestSuite(datasets, .init = make_folder, .fini = remove_folder);

Test(datasets, well_shaped_files_load)
{
    write_file("train-images-idx3-ubyte", NN_SHAPE(3, 4, 5));
    write_file("train-labels-idx1-ubyte", NN_SHAPE(3));
    write_file("t10k-images-idx3-ubyte", NN_SHAPE(2, 4, 5));
    write_file("t10k-labels-idx1-ubyte", NN_SHAPE(2));
    nn_tensor *out[4];
    cr_assert_eq(nn_dataset_load(nn_dataset_find("mnist"), out, NULL, 0), NN_OK, "%s",
                 nn_error_message());
    cr_assert_eq(out[0]->shape.ndim, 3);
    cr_assert_eq(out[3]->shape.dims[0], 2);
    for (int i = 0; i < 4; i++)
        nn_tensor_free(out[i]);
}

Test(datasets, images_of_rank_one_are_refused)
{
    write_file("train-images-idx3-ubyte", NN_SHAPE(3));
    write_file("train-labels-idx1-ubyte", NN_SHAPE(3));
    write_file("t10k-images-idx3-ubyte", NN_SHAPE(2, 4, 5));
    write_file("t10k-labels-idx1-ubyte", NN_SHAPE(2));
    expect_error("train-images-idx3-ubyte: expected images of rank 3", "found shape (3,)");
}

Test(datasets, labels_of_rank_three_are_refused)
{
    write_file("train-images-idx3-ubyte", NN_SHAPE(3, 4, 5));
    write_file("train-labels-idx1-ubyte", NN_SHAPE(3, 1, 1));
    write_file("t10k-images-idx3-ubyte", NN_SHAPE(2, 4, 5));
    write_file("t10k-labels-idx1-ubyte", NN_SHAPE(2));
    expect_error("train-labels-idx1-ubyte: expected labels of rank 1", "found shape (3, 1, 1)");
}

Test(datasets, different_counts_name_both)
{
    write_file("train-images-idx3-ubyte", NN_SHAPE(3, 4, 5));
    write_file("train-labels-idx1-ubyte", NN_SHAPE(3));
    write_file("t10k-images-idx3-ubyte", NN_SHAPE(2, 4, 5));
    write_file("t10k-labels-idx1-ubyte", NN_SHAPE(7));
    expect_error("2 images in t10k-images-idx3-ubyte", "7 labels in t10k-labels-idx1-ubyte");
}

/* Training labels that begin as Fashion-MNIST's, in a flat folder that both data sets
 * would take: found as fashion_mnist, passed over (and named) as mnist. */
Test(datasets, the_other_data_sets_files_are_passed_over)
{
    write_file("train-images-idx3-ubyte", NN_SHAPE(10, 4, 5));
    write_file("t10k-images-idx3-ubyte", NN_SHAPE(2, 4, 5));
    write_file("t10k-labels-idx1-ubyte", NN_SHAPE(2));
    static const unsigned char fashion[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
    nn_tensor *labels;
    nn_shape ten = NN_SHAPE(10);
    cr_assert_eq(nn_tensor_create(&labels, NN_DTYPE_U8, &ten), NN_OK);
    memcpy(nn_tensor_data(labels), fashion, sizeof fashion);
    char path[128];
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", folder);
    cr_assert_eq(nn_idx_save(labels, path), NN_OK, "%s", nn_error_message());
    nn_tensor_free(labels);
    cr_assert_eq(setenv("HOME", folder, 1), 0); /* no data directory of the machine's */
    cr_assert_eq(setenv("XDG_DATA_HOME", folder, 1), 0);

    nn_tensor *out[4];
    char where[256];
    cr_assert_eq(nn_dataset_load(nn_dataset_find("fashion_mnist"), out, where, sizeof where),
                 NN_OK, "%s", nn_error_message());
    cr_assert_str_eq(where, folder);
    for (int i = 0; i < 4; i++)
        nn_tensor_free(out[i]);
    nn_status status = nn_dataset_load(nn_dataset_find("mnist"), out, NULL, 0);
    if (status == NN_OK) { /* the machine's own MNIST, found further along the path */
        cr_assert_neq(memcmp(nn_tensor_data(out[1]), fashion, sizeof fashion), 0);
        for (int i = 0; i < 4; i++)
            nn_tensor_free(out[i]);
        return;
    }
    cr_assert_eq(status, NN_ERR_IO);
    char passed[160];
    snprintf(passed, sizeof passed, "%s (holds fashion_mnist, passed over)", folder);
    cr_assert_not_null(strstr(nn_error_message(), passed), "%s", nn_error_message());
}

/* $NNSH_DATA of any length: a 6,000-byte list whose last entry is the folder still finds
 * it, and search_path keeps every entry whole. */
Test(datasets, a_long_search_path_is_followed_to_its_end)
{
    write_file("train-images-idx3-ubyte", NN_SHAPE(3, 4, 5));
    write_file("train-labels-idx1-ubyte", NN_SHAPE(3));
    write_file("t10k-images-idx3-ubyte", NN_SHAPE(2, 4, 5));
    write_file("t10k-labels-idx1-ubyte", NN_SHAPE(2));
    char setting[7000] = "";
    for (int i = 0; i < 120; i++) {
        size_t used = strlen(setting);
        snprintf(setting + used, sizeof setting - used,
                 "/nowhere/of/nnsh/tests/entry-%03d/xxxxxxxxxxxxxxxxxxxxxxx:", i);
    }
    size_t used = strlen(setting);
    snprintf(setting + used, sizeof setting - used, "%s", folder);
    cr_assert_gt(strlen(setting), 6000);
    cr_assert_eq(setenv("NNSH_DATA", setting, 1), 0);

    char **dirs = nn_dataset_search_path(nn_dataset_find("mnist"));
    cr_assert_not_null(dirs);
    cr_assert_str_eq(dirs[0], "/nowhere/of/nnsh/tests/entry-000/xxxxxxxxxxxxxxxxxxxxxxx");
    cr_assert_str_eq(dirs[120], folder);
    nn_dataset_search_path_free(dirs);

    nn_tensor *out[4];
    char where[256];
    cr_assert_eq(nn_dataset_load(nn_dataset_find("mnist"), out, where, sizeof where), NN_OK, "%s",
                 nn_error_message());
    cr_assert_str_eq(where, folder);
    for (int i = 0; i < 4; i++)
        nn_tensor_free(out[i]);
}

/* Not found along a long path: the message lists what fits, a very long directory name
 * shortened in its middle, counts the rest, and still ends with how to get the data. */
Test(datasets, a_long_search_path_is_summed_up_when_nothing_is_found)
{
    char setting[7000] = "/nowhere/";
    for (int i = 0; i < 300; i++)
        strcat(setting, "d");
    strcat(setting, "/end-of-the-long-one");
    for (int i = 0; i < 60; i++) {
        size_t used = strlen(setting);
        snprintf(setting + used, sizeof setting - used, ":/nowhere/entry-%02d", i);
    }
    cr_assert_eq(setenv("NNSH_DATA", setting, 1), 0);
    cr_assert_eq(setenv("HOME", folder, 1), 0); /* no data directory of the machine's */
    cr_assert_eq(setenv("XDG_DATA_HOME", folder, 1), 0);
    nn_tensor *out[4];
    /* MNIST: Fashion-MNIST may be in its Debian folder, which no setting hides */
    cr_assert_eq(nn_dataset_load(nn_dataset_find("mnist"), out, NULL, 0), NN_ERR_IO, "%s",
                 nn_error_message());
    const char *message = nn_error_message();
    cr_assert_not_null(strstr(message, "\n  /nowhere/ddd"), "%s", message);
    cr_assert_not_null(strstr(message, "d...ddd"), "%s", message);
    cr_assert_not_null(strstr(message, "d/end-of-the-long-one/mnist\n"), "%s", message);
    cr_assert_not_null(strstr(message, "\n  /nowhere/entry-00/mnist\n"), "%s", message);
    cr_assert_null(strstr(message, "entry-59"), "%s", message);
    cr_assert_not_null(strstr(message, " more\n"), "%s", message);
    cr_assert_not_null(strstr(message, "scripts/fetch_mnist.sh"), "%s", message);
    cr_assert_not_null(strstr(message, "Set NNSH_DATA to use another directory."), "%s", message);
}

/* A float64 IDX file becomes float32: a value float32 cannot hold is refused with its
 * position, read from memory and from a gzip file alike, rather than read as infinity. */
Test(datasets, float64_beyond_float32_is_refused)
{
    /* magic 0x00000E01 (float64, rank 1), 3 elements: 0.5, 1e300, -inf (kept as it is) */
    uint8_t file[8 + 3 * 8] = {0, 0, 0x0E, 1, 0, 0, 0, 3};
    const double values[3] = {0.5, 1e300, -INFINITY};
    for (int i = 0; i < 3; i++) {
        uint64_t bits;
        memcpy(&bits, &values[i], sizeof bits);
        for (int b = 0; b < 8; b++)
            file[8 + 8 * i + b] = (uint8_t)(bits >> (56 - 8 * b));
    }
    nn_tensor *tensor = NULL;
    cr_assert_eq(nn_idx_parse(&tensor, file, sizeof file, "big.idx"), NN_ERR_FORMAT);
    cr_assert_null(tensor);
    const char *expected = "big.idx: the float64 value 1e+300 at position 2 is beyond "
                           "float32's range";
    cr_assert_not_null(strstr(nn_error_message(), expected), "expected \"%s\" in \"%s\"",
                       expected, nn_error_message());

    char path[128];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", folder); /* removed at the end */
    FILE *out = fopen(path, "wb");
    cr_assert_not_null(out);
    cr_assert_eq(fwrite(file, 1, sizeof file, out), sizeof file);
    fclose(out);
    cr_assert_eq(nn_idx_load(&tensor, path), NN_ERR_FORMAT);
    cr_assert_null(tensor);
    cr_assert_not_null(strstr(nn_error_message(), "at position 2 is beyond float32's range"),
                       "%s", nn_error_message());

    file[8 + 8] = 0x3F; /* 1e300 -> a value of float32's range: now the file loads */
    file[8 + 9] = 0xF0;
    for (int b = 2; b < 8; b++)
        file[8 + 8 + b] = 0;
    cr_assert_eq(nn_idx_parse(&tensor, file, sizeof file, "fine.idx"), NN_OK, "%s",
                 nn_error_message());
    cr_assert_float_eq(nn_tensor_f32(tensor)[1], 1.0f, 0.0f);
    cr_assert(isinf(nn_tensor_f32(tensor)[2]) && nn_tensor_f32(tensor)[2] < 0);
    nn_tensor_free(tensor);
}

/* A folder NNSH_DATA names that holds part of a set is an error naming what it lacks,
 * not a reason to load another copy further along the search path (XDG_DATA_HOME leads
 * to a complete set, to show it is not taken). */
static void expect_incomplete(const char *lacks)
{
    static const char *const stems[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    const nn_shape shapes[] = {NN_SHAPE(3, 4, 5), NN_SHAPE(3), NN_SHAPE(2, 4, 5), NN_SHAPE(2)};
    char home[96], data[128], path[192];
    snprintf(home, sizeof home, "%s/home", folder);
    snprintf(data, sizeof data, "%s/nnsh", home);
    cr_assert_eq(mkdir(home, 0777), 0);
    cr_assert_eq(mkdir(data, 0777), 0);
    snprintf(data, sizeof data, "%s/nnsh/datasets", home);
    cr_assert_eq(mkdir(data, 0777), 0);
    for (int i = 0; i < 4; i++) { /* a complete set, where XDG_DATA_HOME leads */
        nn_tensor *tensor;
        snprintf(path, sizeof path, "%s/%s", data, stems[i]);
        cr_assert_eq(nn_tensor_create(&tensor, NN_DTYPE_U8, &shapes[i]), NN_OK);
        cr_assert_eq(nn_idx_save(tensor, path), NN_OK, "%s", nn_error_message());
        nn_tensor_free(tensor);
    }
    cr_assert_eq(setenv("HOME", home, 1), 0);
    cr_assert_eq(setenv("XDG_DATA_HOME", home, 1), 0);
    nn_tensor *out[4];
    nn_status status = nn_dataset_load(nn_dataset_find("mnist"), out, NULL, 0);
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", data, stems[i]);
        unlink(path);
        if (status == NN_OK)
            nn_tensor_free(out[i]);
    }
    rmdir(data);
    snprintf(data, sizeof data, "%s/nnsh", home);
    rmdir(data);
    rmdir(home);
    cr_assert_eq(status, NN_ERR_IO, "the complete set further along was loaded");
    char expected[320];
    snprintf(expected, sizeof expected, "the mnist data set in %s, which NNSH_DATA names, is "
             "incomplete %s; copy the missing files there, or point NNSH_DATA elsewhere",
             folder, lacks);
    cr_assert_not_null(strstr(nn_error_message(), expected), "expected \"%s\" in \"%s\"",
                       expected, nn_error_message());
}

Test(datasets, a_folder_nnsh_data_names_with_some_files_is_an_error_naming_what_it_lacks)
{
    write_file("train-images-idx3-ubyte", NN_SHAPE(3, 4, 5));
    write_file("train-labels-idx1-ubyte", NN_SHAPE(3));
    write_file("t10k-labels-idx1-ubyte", NN_SHAPE(2));
    expect_incomplete("(has 3 of the 4 files; lacks t10k-images-idx3-ubyte[.gz])");
}

Test(datasets, with_half_the_files_both_missing_are_named)
{
    write_file("train-images-idx3-ubyte", NN_SHAPE(3, 4, 5));
    write_file("t10k-labels-idx1-ubyte", NN_SHAPE(2));
    expect_incomplete("(has 2 of the 4 files; lacks train-labels-idx1-ubyte[.gz], "
                      "t10k-images-idx3-ubyte[.gz])");
}
