/* Permute: every order of three axes (and of two and four) moves each value where Keras
 * puts it, over a batch of several samples, and backward moves each gradient back, the
 * adjoint of forward; dims that are not a permutation and inputs of the wrong rank are
 * errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_harness.h"

static nn_layer *permute_layer(nn_shape dims)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_permute_class), NN_OK);
    *(nn_shape *)harness_arg(layer, "dims") = dims;
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

/* The flat index in a (batch, sizes...) tensor of the element at (b, index...). */
static size_t flat(int64_t b, const int64_t *index, const int64_t *sizes, int n)
{
    size_t at = (size_t)b;
    for (int i = 0; i < n; i++)
        at = at * (size_t)sizes[i] + (size_t)index[i];
    return at;
}

/* Runs forward and backward for `order` (1-based) on (batch, sizes...) and checks
 * output[b, i_dims[0], ...] = input[b, i...] and dinput = doutput moved back. */
static void check_order(const int64_t *sizes, int n, const int64_t *order)
{
    nn_shape dims = nn_shape_from(order, n);
    nn_layer *layer = permute_layer(dims);
    int64_t batch = 3, all[NN_MAX_DIMS + 1] = {batch};
    for (int i = 0; i < n; i++)
        all[i + 1] = sizes[i];
    nn_shape shape = nn_shape_from(all, n + 1);
    nn_tensor *x = harness_tensor(&shape, NULL);
    for (size_t i = 0; i < nn_tensor_count(x); i++)
        nn_tensor_f32(x)[i] = (float)i;
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    nn_tensor *dy = harness_tensor(&run.output->shape, NULL), *dx = harness_tensor(&shape, NULL);
    for (size_t i = 0; i < nn_tensor_count(dy); i++)
        nn_tensor_f32(dy)[i] = (float)(1000 + i);
    cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK, "%s", nn_error_message());
    int64_t out_sizes[NN_MAX_DIMS];
    for (int i = 0; i < n; i++)
        out_sizes[i] = sizes[order[i] - 1];
    size_t per_sample = nn_tensor_count(x) / (size_t)batch;
    for (int64_t b = 0; b < batch; b++)
        for (size_t e = 0; e < per_sample; e++) {
            int64_t index[NN_MAX_DIMS], out_index[NN_MAX_DIMS];
            size_t rest = e;
            for (int i = n - 1; i >= 0; i--) {
                index[i] = (int64_t)(rest % (size_t)sizes[i]);
                rest /= (size_t)sizes[i];
            }
            for (int i = 0; i < n; i++)
                out_index[i] = index[order[i] - 1];
            size_t in_at = flat(b, index, sizes, n), out_at = flat(b, out_index, out_sizes, n);
            cr_assert_eq(nn_tensor_f32(run.output)[out_at], nn_tensor_f32(x)[in_at],
                         "forward, element %zu of sample %lld", e, (long long)b);
            cr_assert_eq(nn_tensor_f32(dx)[in_at], nn_tensor_f32(dy)[out_at],
                         "backward, element %zu of sample %lld", e, (long long)b);
        }
    nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
    harness_run_free(&run);
    nn_layer_release(layer);
}

Test(permute, every_order_of_three_axes_and_some_of_two_and_four)
{
    const int64_t three[] = {2, 3, 4};
    const int64_t orders[6][3] = {{1, 2, 3}, {1, 3, 2}, {2, 1, 3}, {2, 3, 1}, {3, 1, 2}, {3, 2, 1}};
    for (int k = 0; k < 6; k++)
        check_order(three, 3, orders[k]);
    const int64_t two[] = {5, 7}, swap[] = {2, 1}, keep[] = {1, 2};
    check_order(two, 2, swap);
    check_order(two, 2, keep);
    const int64_t four[] = {2, 3, 2, 5}, reversed[] = {4, 3, 2, 1}, mixed[] = {2, 4, 1, 3};
    check_order(four, 4, reversed);
    check_order(four, 4, mixed);
}

Test(permute, wrong_dims_and_ranks_are_explained)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_permute_class), NN_OK);
    *(nn_shape *)harness_arg(layer, "dims") = NN_SHAPE(1, 1);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "dims (1, 1)", "each of 1 to 2 once");
    nn_layer_release(layer);
    layer = permute_layer(NN_SHAPE(2, 1));
    nn_shape image = NN_SHAPE(4, 2, 3, 5);
    cr_assert_eq(nn_layer_build(layer, &image), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "orders 2 axes", "has 3");
    nn_layer_release(layer);
}
