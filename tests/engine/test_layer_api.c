/* The checked layer entry points: wrong shapes, dtypes, missing scratch or reserve, and
 * mismatched gradients are errors naming the layer, never a crash. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"
#include "layers/layers.h"
#include "model.h"

static nn_layer *built_dense(int units, int64_t in_features)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, &nn_dense_class), NN_OK);
    *(int *)nn_layer_arg_pointer(layer, nn_layer_class_arg(&nn_dense_class, "units")) = units;
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, in_features);
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK);
    cr_assert_eq(nn_layer_reserve(layer, 4), NN_OK);
    return layer;
}

static nn_tensor *tensor_of(nn_dtype dtype, nn_shape shape)
{
    nn_tensor *tensor;
    cr_assert_eq(nn_tensor_create(&tensor, dtype, &shape), NN_OK);
    return tensor;
}

static float scratch[64];

static nn_exec make_exec(void)
{
    return (nn_exec){.backend = nn_backend_cpu(), .training = true, .scratch = scratch,
                     .scratch_floats = 64};
}

Test(layer_api, forward_runs_on_matching_shapes)
{
    nn_layer *layer = built_dense(3, 5);
    nn_tensor *x = tensor_of(NN_DTYPE_F32, NN_SHAPE(4, 5));
    nn_tensor *y = tensor_of(NN_DTYPE_F32, NN_SHAPE(4, 3));
    nn_exec exec = make_exec();
    cr_assert_eq(nn_layer_forward(layer, &exec, x, y), NN_OK, "%s", nn_error_message());
    nn_tensor_free(x), nn_tensor_free(y);
    nn_layer_release(layer);
}

Test(layer_api, forward_rejects_wrong_input_output_and_dtype)
{
    nn_layer *layer = built_dense(3, 5);
    nn_exec exec = make_exec();
    nn_tensor *x = tensor_of(NN_DTYPE_F32, NN_SHAPE(4, 6));
    nn_tensor *y = tensor_of(NN_DTYPE_F32, NN_SHAPE(4, 3));
    cr_assert_eq(nn_layer_forward(layer, &exec, x, y), NN_ERR_SHAPE);
    cr_assert(strstr(nn_error_message(), "dense") && strstr(nn_error_message(), "(4, 6)") &&
                  strstr(nn_error_message(), "(4, 5)"),
              "%s", nn_error_message());
    nn_tensor_free(x);
    x = tensor_of(NN_DTYPE_F32, NN_SHAPE(4, 5));
    nn_tensor *short_output = tensor_of(NN_DTYPE_F32, NN_SHAPE(2, 3));
    cr_assert_eq(nn_layer_forward(layer, &exec, x, short_output), NN_ERR_SHAPE);
    nn_tensor *bytes = tensor_of(NN_DTYPE_U8, NN_SHAPE(4, 5));
    cr_assert_eq(nn_layer_forward(layer, &exec, bytes, y), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "float32"), "%s", nn_error_message());
    nn_tensor_free(x), nn_tensor_free(y), nn_tensor_free(short_output), nn_tensor_free(bytes);
    nn_layer_release(layer);
}

Test(layer_api, backward_rejects_mismatched_gradients)
{
    nn_layer *layer = built_dense(3, 5);
    nn_exec exec = make_exec();
    nn_tensor *x = tensor_of(NN_DTYPE_F32, NN_SHAPE(4, 5));
    nn_tensor *y = tensor_of(NN_DTYPE_F32, NN_SHAPE(4, 3));
    cr_assert_eq(nn_layer_forward(layer, &exec, x, y), NN_OK);
    nn_tensor *dy_wrong = tensor_of(NN_DTYPE_F32, NN_SHAPE(4, 4));
    nn_tensor *dx = tensor_of(NN_DTYPE_F32, NN_SHAPE(4, 5));
    cr_assert_eq(nn_layer_backward(layer, &exec, x, y, dy_wrong, dx), NN_ERR_SHAPE);
    cr_assert(strstr(nn_error_message(), "output gradient"), "%s", nn_error_message());
    nn_tensor *dy = tensor_of(NN_DTYPE_F32, NN_SHAPE(4, 3));
    nn_tensor *dx_wrong = tensor_of(NN_DTYPE_F32, NN_SHAPE(3, 5));
    cr_assert_eq(nn_layer_backward(layer, &exec, x, y, dy, dx_wrong), NN_ERR_SHAPE);
    cr_assert(strstr(nn_error_message(), "input gradient"), "%s", nn_error_message());
    cr_assert_eq(nn_layer_backward(layer, &exec, x, y, dy, dx), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_backward(layer, &exec, x, y, dy, NULL), NN_OK);
    nn_tensor_free(x), nn_tensor_free(y), nn_tensor_free(dy), nn_tensor_free(dx);
    nn_tensor_free(dy_wrong), nn_tensor_free(dx_wrong);
    nn_layer_release(layer);
}

Test(layer_api, unbuilt_layers_and_missing_scratch_are_errors)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, &nn_dense_class), NN_OK);
    *(int *)nn_layer_arg_pointer(layer, nn_layer_class_arg(&nn_dense_class, "units")) = 2;
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_tensor *x = tensor_of(NN_DTYPE_F32, NN_SHAPE(4, 5));
    nn_tensor *y = tensor_of(NN_DTYPE_F32, NN_SHAPE(4, 2));
    nn_exec exec = make_exec();
    cr_assert_eq(nn_layer_forward(layer, &exec, x, y), NN_ERR_STATE);
    nn_shape input = NN_SHAPE(-1, 5);
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK);
    nn_exec no_scratch = {.backend = nn_backend_cpu(), .training = true};
    nn_tensor *dy = tensor_of(NN_DTYPE_F32, NN_SHAPE(4, 2));
    cr_assert_eq(nn_layer_forward(layer, &no_scratch, x, y), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "scratch"), "%s", nn_error_message());
    cr_assert_eq(nn_layer_backward(layer, &no_scratch, x, y, dy, NULL), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "scratch"), "%s", nn_error_message());
    nn_tensor_free(x), nn_tensor_free(y), nn_tensor_free(dy);
    nn_layer_release(layer);
}

Test(layer_api, parameter_counts_that_overflow_are_errors)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, &nn_dense_class), NN_OK);
    *(int *)nn_layer_arg_pointer(layer, nn_layer_class_arg(&nn_dense_class, "units")) = 1 << 30;
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, INT64_C(1) << 40);
    nn_status status = nn_layer_build(layer, &input);
    cr_assert(status == NN_ERR_MEMORY || status == NN_ERR_SHAPE, "status %d", status);
    cr_assert(!layer->built);
    nn_layer_release(layer);
}

Test(layer_api, a_weight_that_cannot_be_initialized_is_named_and_the_layer_stays_unbuilt)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, &nn_dense_class), NN_OK);
    *(int *)nn_layer_arg_pointer(layer, nn_layer_class_arg(&nn_dense_class, "units")) = 2;
    nn_initializer *initializer = nn_layer_arg_pointer(
        layer, nn_layer_class_arg(&nn_dense_class, "kernel_initializer"));
    cr_assert_eq(nn_initializer_parse("random_uniform", initializer), NN_OK);
    initializer->a = 1.0, initializer->b = 0.0; /* minval above maxval */
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, 3);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_ARGUMENT);
    const char *message = nn_error_message();
    cr_assert(strstr(message, "creating its weight \"kernel\": initializer 'random_uniform' "
                              "needs finite minval <= maxval") == message, "%s", message);
    cr_assert(!layer->built);
    nn_layer_release(layer);
}

Test(layer_api, a_model_refuses_an_input_shape_with_too_many_axes)
{
    nn_layer *layer;
    nn_model *model;
    cr_assert_eq(nn_layer_create(&layer, &nn_dense_class), NN_OK);
    *(int *)nn_layer_arg_pointer(layer, nn_layer_class_arg(&nn_dense_class, "units")) = 2;
    layer->declared_input = NN_SHAPE(1, 1, 1, 1, 1, 1, 1, 2);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    cr_assert_eq(nn_model_create(&model, "m"), NN_OK);
    cr_assert_eq(nn_model_add(model, layer), NN_ERR_SHAPE);
    cr_assert(strstr(nn_error_message(), "input_shape"), "%s", nn_error_message());
    cr_assert_eq(model->layer_count, 0);
    nn_model_release(model);
    nn_layer_release(layer);
}
