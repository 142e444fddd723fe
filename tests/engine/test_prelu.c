/* PReLU: the layer's output against a naive reference written here, with alpha per element
 * and shared along axes, and its input and alpha gradients against central differences of
 * that reference; shapes and bad shared_axes. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_kernels.h"
#include "layer_harness.h"

/* The layer on input (batch, dims...) with shared axes, its alpha filled from a seed. */
static nn_layer *prelu_layer(const nn_shape *input, const int *shared, int shared_count)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_prelu_class), NN_OK);
    nn_shape *axes = harness_arg(layer, "shared_axes");
    axes->ndim = shared_count;
    for (int i = 0; i < shared_count; i++)
        axes->dims[i] = shared[i];
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_build(layer, input), NN_OK, "%s", nn_error_message());
    nn_tensor *alpha = layer->params[0].value;
    ts_fill_uniform(nn_tensor_f32(alpha), nn_tensor_count(alpha), 31, -0.5f, 1.5f);
    return layer;
}

typedef struct reference {
    nn_shape input;         /* batch axis included */
    nn_shape alpha;         /* without the batch axis, 1 on shared axes */
    double *x, *alpha_values, *which;
    const float *dy;
} reference;

/* The alpha index of element i, by coordinates. */
static size_t alpha_index(const reference *r, size_t i)
{
    size_t index = 0, stride = 1;
    for (int axis = r->input.ndim - 1; axis >= 1; axis--) {
        size_t coordinate = i % (size_t)r->input.dims[axis];
        i /= (size_t)r->input.dims[axis];
        size_t size = (size_t)r->alpha.dims[axis - 1];
        index += (size == 1 ? 0 : coordinate) * stride;
        stride *= size;
    }
    return index;
}

static double objective(const double *values, size_t n, void *context)
{
    (void)values, (void)n;
    const reference *r = context;
    size_t count = (size_t)nn_shape_inner(&r->input, 0);
    double total = 0.0;
    for (size_t i = 0; i < count; i++) {
        double x = r->x[i], a = r->alpha_values[alpha_index(r, i)];
        total += r->dy[i] * (x > 0 ? x : a * x);
    }
    return total;
}

static void check(nn_shape input, const int *shared, int shared_count, size_t expected_alpha)
{
    nn_layer *layer = prelu_layer(&input, shared, shared_count);
    nn_tensor *alpha = layer->params[0].value;
    cr_assert_eq(nn_tensor_count(alpha), expected_alpha, "alpha has %zu elements",
                 nn_tensor_count(alpha));
    nn_tensor *x = harness_tensor(&input, NULL);
    size_t count = nn_tensor_count(x);
    ts_fill_uniform(nn_tensor_f32(x), count, 32, -2, 2);
    nn_tensor_f32(x)[0] = 0.0f; /* the kink: output 0, gradients 0 */
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    nn_tensor *dy = harness_tensor(&input, NULL), *dx = harness_tensor(&input, NULL);
    ts_fill_uniform(nn_tensor_f32(dy), count, 33, -1, 1);
    nn_param *param = &layer->params[0];
    cr_assert(param->grad != NULL);
    memset(nn_tensor_f32(param->grad), 0x7f, nn_tensor_bytes(param->grad)); /* overwritten */
    cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK, "%s",
                 nn_error_message());

    reference r = {.input = input, .alpha = alpha->shape, .dy = nn_tensor_f32(dy)};
    r.x = malloc(count * sizeof *r.x);
    r.alpha_values = malloc(expected_alpha * sizeof *r.alpha_values);
    ts_to_double(r.x, nn_tensor_f32(x), count);
    ts_to_double(r.alpha_values, nn_tensor_f32(alpha), expected_alpha);
    double *expected = malloc(count * sizeof *expected);
    for (size_t i = 0; i < count; i++) {
        double a = r.alpha_values[alpha_index(&r, i)];
        expected[i] = r.x[i] > 0 ? r.x[i] : a * r.x[i];
    }
    ts_comparison forward = ts_compare(nn_tensor_f32(run.output), expected, count, 1e-7, 1e-6);
    cr_expect(forward.ok, "forward: element %zu is %.9g, expected %.9g", forward.worst_index,
              (double)nn_tensor_f32(run.output)[forward.worst_index],
              expected[forward.worst_index]);
    cr_expect_eq(nn_tensor_f32(dx)[0], 0.0f, "no gradient at the kink");
    double *numeric = malloc(count * sizeof *numeric);
    /* x[0] = 0 sits on the kink, where central differences straddle it: start from 1. */
    ts_numeric_gradient(objective, &r, r.x + 1, count - 1, 1e-4, numeric + 1);
    numeric[0] = 0.0;
    ts_comparison dinput = ts_compare(nn_tensor_f32(dx), numeric, count, 1e-5, 1e-4);
    cr_expect(dinput.ok, "dx: element %zu is %.9g, the central difference %.9g",
              dinput.worst_index, (double)nn_tensor_f32(dx)[dinput.worst_index],
              numeric[dinput.worst_index]);
    double *dalpha = malloc(expected_alpha * sizeof *dalpha);
    ts_numeric_gradient(objective, &r, r.alpha_values, expected_alpha, 1e-4, dalpha);
    ts_comparison gradient = ts_compare(nn_tensor_f32(param->grad), dalpha, expected_alpha,
                                        1e-4, 1e-4);
    cr_expect(gradient.ok, "dalpha: element %zu is %.9g, the central difference %.9g",
              gradient.worst_index, (double)nn_tensor_f32(param->grad)[gradient.worst_index],
              dalpha[gradient.worst_index]);
    free(r.x), free(r.alpha_values), free(expected), free(numeric), free(dalpha);
    nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
    harness_run_free(&run);
    nn_layer_release(layer);
}

Test(prelu, alpha_per_element_matches_the_reference_and_its_central_differences)
{
    check(NN_SHAPE(3, 4, 5), NULL, 0, 20);
}

Test(prelu, alpha_shared_along_axes_matches_the_reference_and_its_central_differences)
{
    const int per_channel[] = {1, 2}; /* images: one alpha per channel */
    check(NN_SHAPE(2, 3, 4, 5), per_channel, 2, 5);
    const int middle[] = {2};
    check(NN_SHAPE(2, 3, 4, 5), middle, 1, 15);
    const int all[] = {1, 2, 3};
    check(NN_SHAPE(2, 3, 2, 2), all, 3, 1);
}

Test(prelu, starts_as_a_relu_and_explains_its_weights)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_prelu_class), NN_OK);
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    nn_shape input = NN_SHAPE(-1, 6, 6, 8);
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK, "%s", nn_error_message());
    const nn_tensor *alpha = layer->params[0].value;
    for (size_t i = 0; i < nn_tensor_count(alpha); i++)
        cr_expect_eq(nn_tensor_f32(alpha)[i], 0.0f, "alpha starts at 0");
    ASSERT_MENTIONS(layer->explanation, "(6, 6, 8) = 288 weights");
    nn_layer_release(layer);
}

Test(prelu, shared_axes_must_name_axes_of_the_input_once)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_prelu_class), NN_OK);
    nn_shape *axes = harness_arg(layer, "shared_axes");
    *axes = NN_SHAPE(1, 1);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "shared_axes names axis 1 twice");
    *axes = NN_SHAPE(3);
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    nn_shape input = NN_SHAPE(-1, 4, 5);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "shared_axes names axis 3", "(None, 4, 5)",
                    "axes 1 to 2");
    nn_layer_release(layer);
}
