/* Flatten: (B, d1, ..., dn) -> (B, d1·...·dn). With channels_first the channel axis is
 * moved last first, so the order of features matches a channels_last model (Keras). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "layers.h"

typedef struct flatten_layer {
    nn_layer base;
    int data_format;
} flatten_layer;

#define ARG(field) offsetof(flatten_layer, field)

static const nn_arg_spec flatten_args[] = {
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, ..., channels) or 'channels_first' (batch, channels, ...); "
     "with channels_first the features come out in channels_last order."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'flatten', 'flatten_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void flatten_set_defaults(nn_layer *layer) { (void)layer; }

static nn_status flatten_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    char text[128];
    /* Keras flattens a (batch,) input to (batch, 1). */
    if (input->ndim < 1)
        return nn_error(NN_ERR_SHAPE,
                        "Input 0 of layer \"%s\" is incompatible with the layer: expected "
                        "min_ndim=1 besides the batch axis, found shape %s",
                        layer->name, nn_shape_format(input, text, sizeof text));
    int64_t features = nn_shape_inner(input, 1);
    *output = NN_SHAPE(-1, features);
    if (input->ndim == 1) {
        snprintf(layer->explanation, sizeof layer->explanation,
                 "features: 1 (one value per sample)");
        return NN_OK;
    }
    size_t used = (size_t)snprintf(layer->explanation, sizeof layer->explanation,
                                   "features: ");
    for (int i = 1; i < input->ndim && used < sizeof layer->explanation; i++)
        used += (size_t)snprintf(layer->explanation + used, sizeof layer->explanation - used,
                                 "%s%lld", i > 1 ? " * " : "", (long long)input->dims[i]);
    if (used < sizeof layer->explanation)
        snprintf(layer->explanation + used, sizeof layer->explanation - used, " = %lld",
                 (long long)features);
    return NN_OK;
}

static bool permutes(const flatten_layer *flatten, const nn_shape *input)
{
    return flatten->data_format == NN_CHANNELS_FIRST && input->ndim > 2;
}

static nn_status flatten_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                 nn_tensor *output)
{
    flatten_layer *flatten = (flatten_layer *)layer;
    /* channels_first: Keras flattens channels last, so the channel axis moves first. */
    if (permutes(flatten, &input->shape))
        exec->backend->to_channels_last(nn_tensor_f32(output), nn_tensor_f32(input),
                                        input->shape.dims[0], input->shape.dims[1],
                                        nn_shape_inner(&input->shape, 2));
    else if (nn_tensor_f32(output) != nn_tensor_f32(input)) /* not a model's view */
        exec->backend->copy(nn_tensor_f32(output), nn_tensor_f32(input), nn_tensor_bytes(input));
    return NN_OK;
}

static nn_status flatten_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                  const nn_tensor *output, const nn_tensor *doutput,
                                  nn_tensor *dinput)
{
    (void)output;
    flatten_layer *flatten = (flatten_layer *)layer;
    if (!dinput)
        return NN_OK;
    if (permutes(flatten, &input->shape))
        exec->backend->to_channels_first(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                                         input->shape.dims[0], input->shape.dims[1],
                                         nn_shape_inner(&input->shape, 2));
    else if (nn_tensor_f32(dinput) != nn_tensor_f32(doutput))
        exec->backend->copy(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                            nn_tensor_bytes(doutput));
    return NN_OK;
}

/* channels_last flattening keeps the order of the values. */
static bool flatten_output_views_input(const nn_layer *layer)
{
    return ((const flatten_layer *)layer)->data_format == NN_CHANNELS_LAST;
}

const nn_layer_class nn_flatten_class = {
    .name = "Flatten",
    .base_name = "flatten",
    .doc = "Lays each sample out in one row: every axis but the batch axis becomes one "
           "feature axis, (2, 4, 4, 3) giving (2, 48). Goes between convolution layers and "
           "Dense.",
    .example = "print(nn.layers.Flatten()(nn.random.randn(2, 4, 4, 3)).shape)  --> (2, 48)",
    .size = sizeof(flatten_layer),
    .args = flatten_args,
    .arg_count = (int)(sizeof flatten_args / sizeof flatten_args[0]),
    .positional_count = 1,
    .set_defaults = flatten_set_defaults,
    .build = flatten_build,
    .forward = flatten_forward,
    .backward = flatten_backward,
    .output_views_input = flatten_output_views_input,
};
