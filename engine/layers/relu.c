/* ReLU: Keras' rectifier layer with its three settings. From threshold up it passes x,
 * capped at max_value; below threshold it gives negative_slope · (x - threshold). With the
 * defaults it is the plain relu; ReLU{max_value=6} is relu6, ReLU{negative_slope=a} a
 * leaky relu. Backward needs the input, which the model keeps for every layer. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct relu_layer {
    nn_layer base;
    nn_optional_float max_value;
    float negative_slope;
    float threshold;
} relu_layer;

#define ARG(field) offsetof(relu_layer, field)

static const nn_arg_spec relu_args[] = {
    {"max_value", NN_ARG_OPTIONAL_FLOAT, ARG(max_value), false, 0, 1e30, false, NULL, "None",
     "The largest output: inputs above it give max_value (6 gives relu6); None caps "
     "nothing."},
    {"negative_slope", NN_ARG_FLOAT, ARG(negative_slope), false, 0, 1e30, false, NULL, "0.0",
     "The slope below threshold: f(x) = negative_slope * (x - threshold) there (a leaky "
     "relu when above 0)."},
    {"threshold", NN_ARG_FLOAT, ARG(threshold), false, 0, 1e30, false, NULL, "0.0",
     "Where the rectifier bends: inputs up to it are treated as negative."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 're_lu', 're_lu_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static float cap_of(const relu_layer *relu)
{
    return relu->max_value.present ? relu->max_value.value : INFINITY;
}

static void relu_set_defaults(nn_layer *layer) { (void)layer; }

static nn_status relu_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    relu_layer *relu = (relu_layer *)layer;
    *output = *input;
    char cap[48] = "";
    if (relu->max_value.present)
        snprintf(cap, sizeof cap, " capped at %g", (double)relu->max_value.value);
    snprintf(layer->explanation, sizeof layer->explanation,
             "unchanged: element by element, x from %g up%s, and %g * (x - %g) below",
             (double)relu->threshold, cap, (double)relu->negative_slope,
             (double)relu->threshold);
    return NN_OK;
}

static nn_status relu_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                              nn_tensor *output)
{
    relu_layer *relu = (relu_layer *)layer;
    exec->backend->clipped_relu(nn_tensor_f32(output), nn_tensor_f32(input), NULL,
                                nn_tensor_count(input), relu->negative_slope, cap_of(relu),
                                relu->threshold);
    return NN_OK;
}

static nn_status relu_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                               const nn_tensor *output, const nn_tensor *doutput,
                               nn_tensor *dinput)
{
    (void)output;
    relu_layer *relu = (relu_layer *)layer;
    if (!dinput)
        return NN_OK;
    exec->backend->clipped_relu(nn_tensor_f32(dinput), nn_tensor_f32(input),
                                nn_tensor_f32(doutput), nn_tensor_count(input),
                                relu->negative_slope, cap_of(relu), relu->threshold);
    return NN_OK;
}

const nn_layer_class nn_relu_class = {
    .name = "ReLU",
    .base_name = "re_lu",
    .doc = "Rectified linear unit as a layer, with Keras' settings: x from threshold up "
           "(capped at max_value when given), negative_slope * (x - threshold) below. Often "
           "placed after BatchNormalization.",
    .example = "print(nn.layers.ReLU()(nn.tensor{-2, 3}))                 --> [0, 3]\n"
               "print(nn.layers.ReLU{max_value = 6}(nn.tensor{-1, 8}))    --> [0, 6]",
    .size = sizeof(relu_layer),
    .args = relu_args,
    .arg_count = (int)(sizeof relu_args / sizeof relu_args[0]),
    .positional_count = 3,
    .set_defaults = relu_set_defaults,
    .build = relu_build,
    .forward = relu_forward,
    .backward = relu_backward,
    .mask_use = nn_mask_passes,
};
