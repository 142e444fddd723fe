/* Activation: applies an activation function to every element (softmax: the last axis).
 * LeakyReLU, ELU and Softmax are the same layer with the function fixed by the class and
 * its parameter given as an argument, as Keras' advanced activation layers; Identity is
 * it with the linear function, Keras' placeholder that passes its input on.
 *
 * A Softmax over another axis moves that axis last, normalises, and moves it back. To
 * the model it is then a layer with no activation of its own: its output is what the
 * loss starts from, so the loss never fuses a softmax over the wrong axis into itself. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "layers.h"

typedef struct activation_layer {
    nn_layer base;
    float parameter; /* LeakyReLU's negative_slope, ELU's alpha */
    int axis;        /* Softmax's axis */
    /* A Softmax over an axis other than the last, seen as (before, size, after) with the
     * batch in `before` per sample: before_per_sample is 0 when the axis is the last. */
    int64_t before_per_sample, axis_size, after;
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

/* Softmax's axis on this input: the last one as every activation, or another one, which
 * the layer moves last around the function (the model then sees no activation). */
static nn_status softmax_build(activation_layer *softmax, const nn_shape *input)
{
    nn_layer *layer = &softmax->base;
    int axis = softmax->axis;
    int normalised = axis < 0 ? axis + input->ndim : axis;
    char text[128];
    nn_shape_format(input, text, sizeof text);
    if (normalised < 0 || normalised >= input->ndim)
        return nn_error(NN_ERR_SHAPE, "axis %d is out of range for input %s (%d axes)", axis,
                        text, input->ndim);
    if (normalised == 0)
        return nn_error(NN_ERR_SHAPE, "axis %d of input %s is the batch axis; a softmax "
                        "normalises within each sample", axis, text);
    softmax->before_per_sample = 0;
    layer->activation = nn_activation_default(NN_ACTIVATION_SOFTMAX);
    if (normalised == input->ndim - 1) {
        snprintf(layer->explanation, sizeof layer->explanation,
                 "unchanged: softmax works element by element (normalising the last axis)");
        return NN_OK;
    }
    softmax->before_per_sample = nn_shape_inner(input, 1) / nn_shape_inner(input, normalised);
    softmax->axis_size = input->dims[normalised];
    softmax->after = nn_shape_inner(input, normalised + 1);
    layer->activation = nn_activation_default(NN_ACTIVATION_LINEAR);
    snprintf(layer->explanation, sizeof layer->explanation,
             "unchanged: softmax normalises axis %d, so the %lld values along it sum to 1 for "
             "each position of the other axes", normalised, (long long)softmax->axis_size);
    return NN_OK;
}

static nn_status activation_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    *output = *input;
    if (layer->cls == &nn_softmax_class)
        return softmax_build((activation_layer *)layer, input);
    if (layer->cls == &nn_identity_class)
        snprintf(layer->explanation, sizeof layer->explanation,
                 "unchanged: the input passes through as it is");
    else
        snprintf(layer->explanation, sizeof layer->explanation,
                 "unchanged: %s works element by element%s",
                 nn_activation_name(layer->activation.kind),
                 nn_activation_by_rows(layer->activation.kind) ? " (normalising the last axis)"
                                                               : "");
    return NN_OK;
}

static size_t last_axis(const nn_tensor *tensor)
{
    return (size_t)tensor->shape.dims[tensor->shape.ndim - 1];
}

/* ---- Softmax over an axis other than the last ---- */

static bool across_axis(const nn_layer *layer)
{
    return layer->cls == &nn_softmax_class &&
           ((const activation_layer *)layer)->before_per_sample > 0;
}

/* Three copies of the input with the axis moved last (forward uses two). */
static size_t activation_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                        int64_t batch)
{
    (void)backend;
    if (!across_axis(layer))
        return 0;
    return 3 * (size_t)batch * (size_t)nn_shape_inner(&layer->output_shape, 1);
}

static int64_t before_of(const activation_layer *softmax, const nn_tensor *input)
{
    return input->shape.dims[0] * softmax->before_per_sample;
}

static void softmax_across_forward(const activation_layer *softmax, nn_exec *exec,
                                   const nn_tensor *input, nn_tensor *output)
{
    const nn_backend *backend = exec->backend;
    size_t n = nn_tensor_count(input);
    int64_t before = before_of(softmax, input);
    float *moved = exec->scratch, *normalised = moved + n;
    backend->to_channels_last(moved, nn_tensor_f32(input), before, softmax->axis_size,
                              softmax->after);
    backend->activation_forward(nn_activation_default(NN_ACTIVATION_SOFTMAX), normalised, moved,
                                n, (size_t)softmax->axis_size);
    backend->to_channels_first(nn_tensor_f32(output), normalised, before, softmax->axis_size,
                               softmax->after);
    /* The model sees no activation here: what its loss starts from is the output. */
    if (exec->logits)
        backend->copy(exec->logits, nn_tensor_f32(output), n * sizeof(float));
}

/* The softmax's gradient needs only its output, so the input is not read. The gradient
 * arriving is always the output's: with no activation of its own, the layer's output is
 * its pre-activation as the model counts it. */
static void softmax_across_backward(const activation_layer *softmax, nn_exec *exec,
                                    const nn_tensor *output, const nn_tensor *doutput,
                                    nn_tensor *dinput)
{
    const nn_backend *backend = exec->backend;
    size_t n = nn_tensor_count(output);
    int64_t before = before_of(softmax, output);
    float *moved_output = exec->scratch, *moved_gradient = moved_output + n;
    float *moved_dinput = moved_gradient + n;
    backend->to_channels_last(moved_output, nn_tensor_f32(output), before, softmax->axis_size,
                              softmax->after);
    backend->to_channels_last(moved_gradient, nn_tensor_f32(doutput), before,
                              softmax->axis_size, softmax->after);
    backend->activation_backward(nn_activation_default(NN_ACTIVATION_SOFTMAX), moved_dinput,
                                 moved_gradient, moved_output, moved_output, n,
                                 (size_t)softmax->axis_size);
    backend->to_channels_first(nn_tensor_f32(dinput), moved_dinput, before, softmax->axis_size,
                               softmax->after);
}

/* ---- every activation layer ---- */

static nn_status activation_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                    nn_tensor *output)
{
    if (across_axis(layer)) {
        softmax_across_forward((const activation_layer *)layer, exec, input, output);
        return NN_OK;
    }
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
    if (across_axis(layer)) {
        softmax_across_backward((const activation_layer *)layer, exec, output, doutput, dinput);
        return NN_OK;
    }
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
    .mask_use = nn_mask_passes,
};

/* ---- LeakyReLU, ELU, Softmax ---- */

#define NAME_ARG(base_name)                                                           \
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",         \
     "Name of the layer; by default '" base_name "', '" base_name "_1', ..."}
#define INPUT_SHAPE_ARG                                                                     \
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL, \
     "None", "Shape of one input sample (without the batch axis), for the first layer."}

static const nn_arg_spec leaky_relu_args[] = {
    {"negative_slope", NN_ARG_FLOAT, ARG(parameter), false, 0, 1e30, false, NULL, "0.3",
     "Slope for negative inputs: f(x) = x for x > 0, negative_slope * x otherwise."},
    {"alpha", NN_ARG_FLOAT, ARG(parameter), false, 0, 1e30, false, NULL, "0.3",
     "Keras 2's name for negative_slope (the same value)."},
    NAME_ARG("leaky_re_lu"),
    INPUT_SHAPE_ARG,
};

static const nn_arg_spec elu_args[] = {
    {"alpha", NN_ARG_FLOAT, ARG(parameter), false, 0, 1e30, false, NULL, "1.0",
     "Scale of the negative part: f(x) = x for x > 0, alpha * (exp(x) - 1) otherwise; at "
     "least 0 in nnsh (the gradient is taken from the output, which needs it)."},
    NAME_ARG("elu"),
    INPUT_SHAPE_ARG,
};

static const nn_arg_spec softmax_args[] = {
    {"axis", NN_ARG_AXIS, ARG(axis), false, -NN_MAX_DIMS, NN_MAX_DIMS - 1, false, NULL, "-1",
     "The axis normalised: the values along it sum to 1 (-1, the last, by default)."},
    NAME_ARG("softmax"),
    INPUT_SHAPE_ARG,
};

static void leaky_relu_set_defaults(nn_layer *layer)
{
    ((activation_layer *)layer)->parameter = 0.3f;
}

static void elu_set_defaults(nn_layer *layer) { ((activation_layer *)layer)->parameter = 1.0f; }

static void softmax_set_defaults(nn_layer *layer) { ((activation_layer *)layer)->axis = -1; }

/* The function follows from the class and its argument, so it is set here, after every
 * argument (and again after a model file's arguments are read). */
static nn_status parametric_validate(nn_layer *layer)
{
    activation_layer *activation = (activation_layer *)layer;
    nn_activation_kind kind = layer->cls == &nn_leaky_relu_class ? NN_ACTIVATION_LEAKY_RELU
                              : layer->cls == &nn_elu_class      ? NN_ACTIVATION_ELU
                              : layer->cls == &nn_identity_class ? NN_ACTIVATION_LINEAR
                                                                 : NN_ACTIVATION_SOFTMAX;
    layer->activation = nn_activation_default(kind);
    if (kind == NN_ACTIVATION_LEAKY_RELU || kind == NN_ACTIVATION_ELU)
        layer->activation.alpha = activation->parameter;
    return NN_OK;
}

/* Keras' Softmax layer reads a mask as one over its own axis, not over steps; the others
 * pass a mask on. */
static unsigned parametric_mask_use(const nn_layer *layer, const nn_shape *input)
{
    (void)input;
    return layer->cls == &nn_softmax_class ? 0 : NN_MASK_PASSES;
}

#define PARAMETRIC_CLASS(class_name, base, args_table, defaults, doc_text, example_text) \
    {                                                                                    \
        .name = class_name, .base_name = base, .doc = doc_text, .example = example_text, \
        .size = sizeof(activation_layer), .args = args_table,                            \
        .arg_count = (int)(sizeof args_table / sizeof args_table[0]),                    \
        .positional_count = 1, .set_defaults = defaults,                                 \
        .validate = parametric_validate, .build = activation_build,                      \
        .forward = activation_forward, .backward = activation_backward,                  \
        .scratch_floats = activation_scratch_floats, .mask_use = parametric_mask_use,    \
    }

const nn_layer_class nn_leaky_relu_class = PARAMETRIC_CLASS(
    "LeakyReLU", "leaky_re_lu", leaky_relu_args, leaky_relu_set_defaults,
    "Leaky rectifier: passes positive inputs and scales negative ones by negative_slope.",
    "print(nn.layers.LeakyReLU{0.1}(nn.tensor{-2, 3}))   --> [-0.2, 3]");

const nn_layer_class nn_elu_class = PARAMETRIC_CLASS(
    "ELU", "elu", elu_args, elu_set_defaults,
    "Exponential linear unit: x for positive inputs, alpha * (exp(x) - 1) otherwise.",
    "print(nn.layers.ELU{alpha = 0.5}(nn.tensor{-1, 2}))");

const nn_layer_class nn_softmax_class = PARAMETRIC_CLASS(
    "Softmax", "softmax", softmax_args, softmax_set_defaults,
    "Softmax over an axis (the last by default): the values along it become probabilities "
    "that sum to 1.",
    "print(nn.layers.Softmax()(nn.tensor{{1, 2, 3}}))");

static const nn_arg_spec identity_args[] = {
    NAME_ARG("identity"),
    INPUT_SHAPE_ARG,
};

const nn_layer_class nn_identity_class = {
    .name = "Identity",
    .base_name = "identity",
    .doc = "Passes its input on unchanged, mask included: a placeholder where a model wants "
           "a layer that does nothing (a switch in a script, a name in a summary).",
    .example = "print(nn.layers.Identity()(nn.tensor{1, 2}))   --> [1, 2]",
    .size = sizeof(activation_layer),
    .args = identity_args,
    .arg_count = (int)(sizeof identity_args / sizeof identity_args[0]),
    .positional_count = 0,
    .set_defaults = activation_set_defaults,
    .validate = parametric_validate,
    .build = activation_build,
    .forward = activation_forward,
    .backward = activation_backward,
    .mask_use = nn_mask_passes,
};
