/* Dense: output = activation(input @ kernel + bias) over the last axis. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct dense_layer {
    nn_layer base;
    int units;
    bool use_bias;
    nn_initializer kernel_initializer, bias_initializer;
    nn_regularizer kernel_regularizer, bias_regularizer;
    nn_constraint kernel_constraint, bias_constraint;
} dense_layer;

#define ARG(field) offsetof(dense_layer, field)

static const nn_arg_spec dense_args[] = {
    {"units", NN_ARG_INT, ARG(units), true, 1, 1 << 30, false, NULL, NULL,
     "Dimensionality of the output space: the number of neurons."},
    {"activation", NN_ARG_ACTIVATION, ARG(base.activation), false, 0, 0, false, NULL, "None",
     "Activation function applied to the output, e.g. 'relu', 'sigmoid', 'softmax'; "
     "None means linear."},
    {"use_bias", NN_ARG_BOOL, ARG(use_bias), false, 0, 1, false, NULL, "True",
     "Whether the layer adds a bias vector."},
    {"kernel_initializer", NN_ARG_INITIALIZER, ARG(kernel_initializer), false, 0, 0, false,
     NULL, "'glorot_uniform'", "Initializer for the kernel weights matrix."},
    {"bias_initializer", NN_ARG_INITIALIZER, ARG(bias_initializer), false, 0, 0, false, NULL,
     "'zeros'", "Initializer for the bias vector."},
    {"kernel_regularizer", NN_ARG_REGULARIZER, ARG(kernel_regularizer), false, 0, 0, false,
     NULL, "None", "Regularizer function applied to the kernel weights matrix."},
    {"bias_regularizer", NN_ARG_REGULARIZER, ARG(bias_regularizer), false, 0, 0, false, NULL,
     "None", "Regularizer function applied to the bias vector."},
    {"activity_regularizer", NN_ARG_REGULARIZER, ARG(base.activity_regularizer), false, 0, 0,
     false, NULL, "None", NN_ACTIVITY_REGULARIZER_DOC},
    {"kernel_constraint", NN_ARG_CONSTRAINT, ARG(kernel_constraint), false, 0, 0, false, NULL,
     "None", "Constraint function applied to the kernel weights matrix."},
    {"bias_constraint", NN_ARG_CONSTRAINT, ARG(bias_constraint), false, 0, 0, false, NULL,
     "None", "Constraint function applied to the bias vector."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'dense', 'dense_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void dense_set_defaults(nn_layer *layer)
{
    dense_layer *dense = (dense_layer *)layer;
    dense->use_bias = true;
    dense->kernel_initializer = nn_initializer_default(NN_INITIALIZER_GLOROT_UNIFORM);
    dense->bias_initializer = nn_initializer_default(NN_INITIALIZER_ZEROS);
}

static nn_status dense_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    dense_layer *dense = (dense_layer *)layer;
    char text[128];
    if (input->ndim < 2)
        return nn_error(NN_ERR_SHAPE,
                        "Input 0 of layer \"%s\" is incompatible with the layer: expected "
                        "min_ndim=2, found ndim=%d. Full shape received: %s",
                        layer->name, input->ndim, nn_shape_format(input, text, sizeof text));
    int64_t in_features = input->dims[input->ndim - 1];
    *output = *input;
    output->dims[output->ndim - 1] = dense->units;
    nn_shape kernel_shape = NN_SHAPE(in_features, dense->units);
    nn_layer_declare_param(layer, "kernel", &kernel_shape, true, dense->kernel_initializer,
                           dense->kernel_regularizer, dense->kernel_constraint);
    if (dense->use_bias) {
        nn_shape bias_shape = NN_SHAPE(dense->units);
        nn_layer_declare_param(layer, "bias", &bias_shape, true, dense->bias_initializer,
                               dense->bias_regularizer, dense->bias_constraint);
    }
    snprintf(layer->explanation, sizeof layer->explanation,
             "last axis: units = %d (the kernel maps %lld inputs to %d outputs)", dense->units,
             (long long)in_features, dense->units);
    return NN_OK;
}

static nn_status dense_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                               nn_tensor *output)
{
    dense_layer *dense = (dense_layer *)layer;
    int in_features = (int)input->shape.dims[input->shape.ndim - 1];
    int rows = (int)(nn_tensor_count(input) / (size_t)in_features);
    const float *bias = dense->use_bias ? nn_tensor_f32(layer->params[1].value) : NULL;
    bool fuse = exec->logits == NULL &&
                !(exec->training && nn_activation_backward_needs_input(layer->activation.kind));
    nn_activation fused = fuse ? layer->activation : nn_activation_default(NN_ACTIVATION_LINEAR);
    exec->backend->dense_forward(nn_tensor_f32(output), nn_tensor_f32(input),
                                 nn_tensor_f32(layer->params[0].value), bias, fused, rows,
                                 in_features, dense->units);
    if (!fuse)
        nn_layer_activate_forward(layer, exec, nn_tensor_f32(output), nn_tensor_count(output),
                                  (size_t)dense->units);
    return NN_OK;
}

static nn_status dense_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                const nn_tensor *output, const nn_tensor *doutput,
                                nn_tensor *dinput)
{
    dense_layer *dense = (dense_layer *)layer;
    int in_features = (int)input->shape.dims[input->shape.ndim - 1];
    int rows = (int)(nn_tensor_count(input) / (size_t)in_features);
    size_t n = nn_tensor_count(output);
    /* The derivative of the activation goes into scratch so doutput stays intact. */
    float *dz = exec->scratch;
    nn_layer_activate_backward(layer, exec, dz, nn_tensor_f32(doutput), nn_tensor_f32(output),
                               n, (size_t)dense->units);
    /* A frozen layer's weights have no gradients (NULL): only dinput is wanted. */
    const nn_tensor *dkernel = layer->params[0].grad;
    const nn_tensor *dbias = dense->use_bias ? layer->params[1].grad : NULL;
    exec->backend->dense_backward(dinput ? nn_tensor_f32(dinput) : NULL,
                                  dkernel ? nn_tensor_f32(dkernel) : NULL,
                                  dbias ? nn_tensor_f32(dbias) : NULL,
                                  dz, nn_tensor_f32(input),
                                  nn_tensor_f32(layer->params[0].value), rows, in_features,
                                  dense->units);
    return NN_OK;
}

static size_t dense_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                   int64_t batch)
{
    (void)backend;
    return (size_t)batch * (size_t)nn_shape_inner(&layer->output_shape, 1);
}

const nn_layer_class nn_dense_class = {
    .name = "Dense",
    .base_name = "dense",
    .doc = "Every input feature connected to every output unit: output = "
           "activation(dot(input, kernel) + bias). The kernel has shape (input features, "
           "units). It acts on the last axis, so a sequence (batch, steps, features) stays a sequence. In a model, "
           "a Dense right after a 4-D feature map is refused as a missing Flatten, where "
           "Keras would apply it to every pixel; Conv2D{units, 1} does that on purpose.",
    .example = "local d = nn.layers.Dense{10, activation='relu'}\n"
               "print(d(nn.random.randn(3, 5)).shape)   --> (3, 10)\n"
               "print(d.kernel.shape, d.bias.shape)      --> (5, 10)  (10,)",
    .size = sizeof(dense_layer),
    .args = dense_args,
    .arg_count = (int)(sizeof dense_args / sizeof dense_args[0]),
    .positional_count = 2,
    .set_defaults = dense_set_defaults,
    .build = dense_build,
    .scratch_floats = dense_scratch_floats,
    .forward = dense_forward,
    .backward = dense_backward,
    .mask_use = nn_mask_passes,
};
