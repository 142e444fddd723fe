/* Rescaling: y = x · scale + offset, element by element, as Keras' Rescaling. With it a
 * model takes images as bytes (uint8, a quarter of the memory of floats) and scales each
 * batch itself: nn.layers.Rescaling{1/255} first, then the layers of the seed. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct rescaling_layer {
    nn_layer base;
    float scale, offset;
} rescaling_layer;

#define ARG(field) offsetof(rescaling_layer, field)

static const nn_arg_spec rescaling_args[] = {
    {"scale", NN_ARG_FLOAT, ARG(scale), true, -1e9, 1e9, false, NULL, NULL,
     "The factor every input value is multiplied by, e.g. 1/255 to map bytes 0..255 to "
     "[0, 1]."},
    {"offset", NN_ARG_FLOAT, ARG(offset), false, -1e9, 1e9, false, NULL, "0.0",
     "Added after scaling, e.g. -1 with scale 1/127.5 for [-1, 1]."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'rescaling', 'rescaling_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void rescaling_set_defaults(nn_layer *layer)
{
    rescaling_layer *rescaling = (rescaling_layer *)layer;
    rescaling->scale = 1.0f;
    rescaling->offset = 0.0f;
}

static nn_status rescaling_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    const rescaling_layer *rescaling = (const rescaling_layer *)layer;
    *output = *input;
    snprintf(layer->explanation, sizeof layer->explanation,
             "unchanged: each value becomes x * %g + %g", (double)rescaling->scale,
             (double)rescaling->offset);
    return NN_OK;
}

static nn_status rescaling_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                   nn_tensor *output)
{
    const rescaling_layer *rescaling = (const rescaling_layer *)layer;
    exec->backend->scale_shift(nn_tensor_f32(output), nn_tensor_f32(input), rescaling->scale,
                               rescaling->offset, nn_tensor_count(input));
    return NN_OK;
}

static nn_status rescaling_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                    const nn_tensor *output, const nn_tensor *doutput,
                                    nn_tensor *dinput)
{
    (void)input;
    (void)output;
    const rescaling_layer *rescaling = (const rescaling_layer *)layer;
    if (dinput) /* the first layer of a model needs no input gradient */
        exec->backend->scale_shift(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                                   rescaling->scale, 0.0f, nn_tensor_count(doutput));
    return NN_OK;
}

const nn_layer_class nn_rescaling_class = {
    .name = "Rescaling",
    .base_name = "rescaling",
    .doc = "Multiplies every input value by `scale` and adds `offset`. The shape does not "
           "change. As the first layer it lets a model take uint8 images as they are "
           "loaded: fit, evaluate and predict turn each batch into floats, and the layer "
           "scales it, so the data set stays in memory as bytes.",
    .example = "local r = nn.layers.Rescaling{1 / 255}\n"
               "print(r(nn.tensor{0, 51, 255}))   --> [0, 0.2, 1]",
    .size = sizeof(rescaling_layer),
    .args = rescaling_args,
    .arg_count = (int)(sizeof rescaling_args / sizeof rescaling_args[0]),
    .positional_count = 2,
    .set_defaults = rescaling_set_defaults,
    .build = rescaling_build,
    .forward = rescaling_forward,
    .backward = rescaling_backward,
};
