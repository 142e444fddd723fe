/* Activation: applies an activation function to every element (softmax: the last axis). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "layers.h"

typedef struct activation_layer {
    nn_layer base;
} activation_layer;

#define ARG(field) offsetof(activation_layer, field)

static const nn_arg_spec activation_args[] = {
    {"activation", NN_ARG_ACTIVATION, ARG(base.activation), true, 0, 0, false, NULL, NULL,
     "Activation function to apply: 'relu', 'sigmoid', 'softmax', 'tanh', 'linear', ..."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'activation', 'activation_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void activation_set_defaults(nn_layer *layer) { (void)layer; }

static nn_status activation_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    *output = *input;
    snprintf(layer->explanation, sizeof layer->explanation,
             "unchanged: %s works element by element%s", nn_activation_name(layer->activation.kind),
             nn_activation_by_rows(layer->activation.kind) ? " (normalising the last axis)" : "");
    return NN_OK;
}

static size_t last_axis(const nn_tensor *tensor)
{
    return (size_t)tensor->shape.dims[tensor->shape.ndim - 1];
}

static nn_status activation_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                    nn_tensor *output)
{
    size_t n = nn_tensor_count(input);
    if (exec->logits)
        exec->backend->copy(exec->logits, nn_tensor_f32(input), n * sizeof(float));
    exec->backend->activation_forward(layer->activation, nn_tensor_f32(output),
                                      nn_tensor_f32(input), n, last_axis(input));
    return NN_OK;
}

static nn_status activation_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                     const nn_tensor *output, const nn_tensor *doutput,
                                     nn_tensor *dinput)
{
    if (!dinput)
        return NN_OK;
    size_t n = nn_tensor_count(input);
    if (exec->doutput_is_preactivation) {
        exec->backend->copy(nn_tensor_f32(dinput), nn_tensor_f32(doutput), n * sizeof(float));
        return NN_OK;
    }
    exec->backend->activation_backward(layer->activation, nn_tensor_f32(dinput),
                                       nn_tensor_f32(doutput), nn_tensor_f32(input),
                                       nn_tensor_f32(output), n, last_axis(input));
    return NN_OK;
}

const nn_layer_class nn_activation_class = {
    .name = "Activation",
    .base_name = "activation",
    .doc = "Applies an activation function to its input. The shape does not change.",
    .example = "local a = nn.layers.Activation{'relu'}\n"
               "print(a(nn.tensor{-1, 2}))   --> [0, 2]",
    .size = sizeof(activation_layer),
    .args = activation_args,
    .arg_count = (int)(sizeof activation_args / sizeof activation_args[0]),
    .positional_count = 1,
    .set_defaults = activation_set_defaults,
    .build = activation_build,
    .forward = activation_forward,
    .backward = activation_backward,
};
