/* CategoryEncoding and Discretization against references written from Keras' definitions:
 * every output mode on ids of several shapes, buckets at and between boundaries, the
 * encoded buckets, adapt's quantiles, no gradient back, and the errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layer_harness.h"
#include "layers/layers.h"
#include "test_support.h"

static nn_layer *encoding(int tokens, const char *mode)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, &nn_category_encoding_class), NN_OK);
    harness_set_int(layer, "num_tokens", tokens);
    harness_set_choice(layer, "output_mode", mode);
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

/* Runs `layer` on `values` of `shape`; the output, which the caller frees. */
static nn_tensor *run(nn_layer *layer, nn_shape shape, const float *values, nn_shape *out_shape)
{
    nn_tensor *x = harness_tensor(&shape, values);
    harness_run result;
    cr_assert_eq(harness_forward(&result, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    *out_shape = result.output->shape;
    nn_tensor *copy = harness_tensor(out_shape, nn_tensor_f32(result.output));
    harness_run_free(&result);
    nn_tensor_free(x);
    return copy;
}

Test(category_encoding, every_mode_matches_the_reference)
{
    /* 3 samples of 4 ids among 5 tokens */
    const float ids[12] = {0, 4, 4, 1, 2, 2, 2, 2, 3, 0, 1, 4};
    nn_shape out;
    /* multi_hot and count: (3, 4) -> (3, 5) */
    for (int counting = 0; counting < 2; counting++) {
        nn_layer *layer = encoding(5, counting ? "count" : "multi_hot");
        nn_tensor *y = run(layer, NN_SHAPE(3, 4), ids, &out);
        cr_assert(out.ndim == 2 && out.dims[0] == 3 && out.dims[1] == 5);
        for (int s = 0; s < 3; s++)
            for (int t = 0; t < 5; t++) {
                int occurrences = 0;
                for (int j = 0; j < 4; j++)
                    occurrences += ids[s * 4 + j] == (float)t;
                float expected = counting ? (float)occurrences : occurrences > 0;
                cr_expect_eq(nn_tensor_f32(y)[s * 5 + t], expected, "%s sample %d token %d",
                             counting ? "count" : "multi_hot", s, t);
            }
        nn_tensor_free(y);
        nn_layer_release(layer);
    }
    /* one_hot: (3, 4) -> (3, 4, 5), a vector per id */
    nn_layer *layer = encoding(5, "one_hot");
    nn_tensor *y = run(layer, NN_SHAPE(3, 4), ids, &out);
    cr_assert(out.ndim == 3 && out.dims[2] == 5);
    for (int i = 0; i < 12; i++)
        for (int t = 0; t < 5; t++)
            cr_expect_eq(nn_tensor_f32(y)[i * 5 + t], ids[i] == (float)t ? 1.0f : 0.0f,
                         "one_hot id %d token %d", i, t);
    nn_tensor_free(y);
    nn_layer_release(layer);
    /* a last axis of 1 is replaced, not kept: (12, 1) -> (12, 5) */
    layer = encoding(5, "one_hot");
    y = run(layer, NN_SHAPE(12, 1), ids, &out);
    cr_expect(out.ndim == 2 && out.dims[1] == 5, "(12, 1) becomes (12, 5)");
    for (int i = 0; i < 12; i++)
        cr_expect_eq(nn_tensor_f32(y)[i * 5 + (int)ids[i]], 1.0f, "row %d", i);
    nn_tensor_free(y);
    nn_layer_release(layer);
}

Test(category_encoding, ids_outside_the_range_are_named)
{
    nn_layer *layer = encoding(4, "multi_hot");
    nn_shape shape = NN_SHAPE(2, 3);
    cr_assert_eq(nn_layer_build(layer, &shape), NN_OK);
    const float bad[][6] = {{0, 1, 2, 3, 4, 0}, {0, 1, 2, 3, 1.5f, 0}, {0, -1, 2, 3, 1, 0}};
    const char *shown[] = {"input[1, 1] = 4", "input[1, 1] = 1.5", "input[0, 1] = -1"};
    for (size_t k = 0; k < 3; k++) {
        nn_tensor *x = harness_tensor(&shape, bad[k]);
        cr_expect_eq(nn_layer_check_input(layer, x), NN_ERR_ARGUMENT);
        ASSERT_MENTIONS(nn_error_message(), shown[k], "whole numbers in [0, 4)", "num_tokens=4");
        nn_tensor_free(x);
    }
    nn_layer_release(layer);
}

static nn_layer *discretization(const float *boundaries, int count, int bins, const char *mode)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, &nn_discretization_class), NN_OK);
    if (count) {
        nn_optional_floats *given = harness_arg(layer, "bin_boundaries");
        *given = (nn_optional_floats){.present = true, .list = true, .count = count};
        memcpy(given->values, boundaries, sizeof(float) * (size_t)count);
    } else {
        *(nn_optional_int *)harness_arg(layer, "num_bins") = (nn_optional_int){true, bins};
    }
    harness_set_choice(layer, "output_mode", mode);
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

Test(discretization, buckets_and_their_encodings)
{
    const float boundaries[3] = {0, 1, 2};
    const float x[8] = {-1.5f, 0, 0.5f, 1, 1.9999f, 2, 3.4f, -0.0001f};
    const float buckets[8] = {0, 1, 1, 2, 2, 3, 3, 0}; /* how many boundaries are <= x */
    nn_shape out;
    nn_layer *layer = discretization(boundaries, 3, 0, "int");
    nn_tensor *y = run(layer, NN_SHAPE(2, 4), x, &out);
    cr_expect(out.ndim == 2 && out.dims[1] == 4, "int keeps the shape");
    for (int i = 0; i < 8; i++)
        cr_expect_eq(nn_tensor_f32(y)[i], buckets[i], "x = %g", (double)x[i]);
    nn_tensor_free(y);
    nn_layer_release(layer);
    layer = discretization(boundaries, 3, 0, "count");
    y = run(layer, NN_SHAPE(2, 4), x, &out);
    cr_assert(out.ndim == 2 && out.dims[1] == 4, "4 buckets");
    const float counts[8] = {1, 2, 1, 0, 1, 0, 1, 2}; /* buckets {0, 1, 1, 2}, {2, 3, 3, 0} */
    for (int i = 0; i < 8; i++)
        cr_expect_eq(nn_tensor_f32(y)[i], counts[i], "count of bucket %d in row %d", i % 4, i / 4);
    /* no gradient flows back to numbers through their buckets */
    nn_shape in_shape = NN_SHAPE(2, 4);
    nn_tensor *input = harness_tensor(&in_shape, x), *dy = harness_tensor(&out, NULL);
    nn_tensor *dx = harness_tensor(&in_shape, NULL);
    for (int i = 0; i < 8; i++)
        nn_tensor_f32(dy)[i] = 1.0f, nn_tensor_f32(dx)[i] = 7.0f;
    harness_run result;
    cr_assert_eq(harness_forward(&result, layer, input, true, NULL), NN_OK);
    cr_assert_eq(harness_backward(&result, layer, input, dy, dx, false), NN_OK);
    for (int i = 0; i < 8; i++)
        cr_expect_eq(nn_tensor_f32(dx)[i], 0.0f, "dx[%d]", i);
    harness_run_free(&result);
    nn_tensor_free(input), nn_tensor_free(dy), nn_tensor_free(dx), nn_tensor_free(y);
    nn_layer_release(layer);
}

Test(discretization, adapt_puts_the_boundaries_at_the_quantiles)
{
    nn_layer *layer = discretization(NULL, 0, 4, "int");
    nn_shape shape = NN_SHAPE(100, 1);
    nn_tensor *data = harness_tensor(&shape, NULL);
    for (int i = 0; i < 100; i++) /* 99, 98, ..., 0 and one NaN, which adapt leaves out */
        nn_tensor_f32(data)[i] = i == 50 ? NAN : (float)(99 - i);
    cr_assert_eq(nn_layer_adapt(layer, data), NN_OK, "%s", nn_error_message());
    const nn_optional_floats *learned = harness_arg(layer, "bin_boundaries");
    cr_assert_eq(learned->count, 3);
    /* 99 finite values sorted: the k/4 quantiles are sorted[24], sorted[49], sorted[74] */
    const float sorted_at[3] = {24, 50, 75}; /* 49 is the NaN's place, so 50 moves down */
    for (int k = 0; k < 3; k++)
        cr_expect_eq(learned->values[k], sorted_at[k], "boundary %d", k);
    cr_expect(!((nn_optional_int *)harness_arg(layer, "num_bins"))->present,
              "after adapt the boundaries stand for num_bins");
    nn_tensor_free(data);
    nn_layer_release(layer);

    const float given[2] = {0, 1};
    layer = discretization(given, 2, 0, "int");
    nn_shape some_shape = NN_SHAPE(2, 1);
    nn_tensor *some = harness_tensor(&some_shape, NULL);
    cr_expect_eq(nn_layer_adapt(layer, some), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "was given its bin_boundaries", "num_bins=");
    nn_tensor_free(some);
    nn_layer_release(layer);
}

Test(discretization, bad_arguments)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, &nn_discretization_class), NN_OK);
    cr_expect_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "either bin_boundaries", "got neither");
    nn_layer_release(layer);
    const float unsorted[3] = {0, 2, 1};
    cr_assert_eq(nn_layer_create(&layer, &nn_discretization_class), NN_OK);
    nn_optional_floats *given = harness_arg(layer, "bin_boundaries");
    *given = (nn_optional_floats){.present = true, .list = true, .count = 3};
    memcpy(given->values, unsorted, sizeof unsorted);
    cr_expect_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "must be sorted", "entry 3 (1) is below entry 2 (2)");
    nn_layer_release(layer);
}
