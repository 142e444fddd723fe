/* BatchNormalization: normalises one feature axis with the batch's mean and variance in
 * training (updating moving averages) and with those moving averages in inference. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"

typedef struct batchnorm_layer {
    nn_layer base;
    int axis;
    float momentum;
    float epsilon;
    bool center, scale;
    nn_initializer beta_initializer, gamma_initializer;
    nn_initializer moving_mean_initializer, moving_variance_initializer;
    nn_regularizer beta_regularizer, gamma_regularizer;
    nn_constraint beta_constraint, gamma_constraint;
    bool synchronized;

    /* Set by build: the axis counted from the front, and where each weight sits in
     * base.params (-1 when absent). */
    int resolved_axis;
    int gamma_index, beta_index, moving_mean_index, moving_variance_index;

    /* Per-channel statistics the last forward normalised with, kept for backward: mean
     * and inv_std (C floats each, one buffer), on the device the layer ran on. Sized by
     * reserve, freed by destroy. */
    nn_storage *statistics;
    bool used_batch_statistics; /* the last forward normalised with the batch's own */
} batchnorm_layer;

#define ARG(field) offsetof(batchnorm_layer, field)

static const nn_arg_spec batchnorm_args[] = {
    {"axis", NN_ARG_AXIS, ARG(axis), false, -NN_MAX_DIMS, NN_MAX_DIMS - 1, false, NULL, "-1",
     "The axis that holds the features to normalise (each gets its own mean, variance, "
     "gamma and beta); -1 is the last. After a channels_first Conv2D use 1."},
    {"momentum", NN_ARG_FLOAT, ARG(momentum), false, 0, 1, false, NULL, "0.99",
     "Momentum of the moving averages: moving = moving * momentum + batch * (1 - momentum)."},
    {"epsilon", NN_ARG_FLOAT, ARG(epsilon), false, 1e-30, 1e30, false, NULL, "0.001",
     "Small float added to the variance to avoid dividing by zero."},
    {"center", NN_ARG_BOOL, ARG(center), false, 0, 1, false, NULL, "True",
     "If True, add the learned offset beta to the normalised tensor."},
    {"scale", NN_ARG_BOOL, ARG(scale), false, 0, 1, false, NULL, "True",
     "If True, multiply by the learned factor gamma."},
    {"beta_initializer", NN_ARG_INITIALIZER, ARG(beta_initializer), false, 0, 0, false, NULL,
     "'zeros'", "Initializer for the beta weight."},
    {"gamma_initializer", NN_ARG_INITIALIZER, ARG(gamma_initializer), false, 0, 0, false, NULL,
     "'ones'", "Initializer for the gamma weight."},
    {"moving_mean_initializer", NN_ARG_INITIALIZER, ARG(moving_mean_initializer), false, 0, 0,
     false, NULL, "'zeros'", "Initializer for the moving mean."},
    {"moving_variance_initializer", NN_ARG_INITIALIZER, ARG(moving_variance_initializer),
     false, 0, 0, false, NULL, "'ones'", "Initializer for the moving variance."},
    {"beta_regularizer", NN_ARG_REGULARIZER, ARG(beta_regularizer), false, 0, 0, false, NULL,
     "None", "Regularizer for the beta weight."},
    {"gamma_regularizer", NN_ARG_REGULARIZER, ARG(gamma_regularizer), false, 0, 0, false, NULL,
     "None", "Regularizer for the gamma weight."},
    {"beta_constraint", NN_ARG_CONSTRAINT, ARG(beta_constraint), false, 0, 0, false, NULL,
     "None", "Constraint for the beta weight."},
    {"gamma_constraint", NN_ARG_CONSTRAINT, ARG(gamma_constraint), false, 0, 0, false, NULL,
     "None", "Constraint for the gamma weight."},
    {"synchronized", NN_ARG_BOOL, ARG(synchronized), false, 0, 1, false, NULL, "False",
     "Synchronise the batch statistics across devices in distributed training; with one "
     "device it has no effect."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'batch_normalization', 'batch_normalization_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void batchnorm_set_defaults(nn_layer *layer)
{
    batchnorm_layer *bn = (batchnorm_layer *)layer;
    bn->axis = -1;
    bn->momentum = 0.99f;
    bn->epsilon = 0.001f;
    bn->center = true;
    bn->scale = true;
    bn->beta_initializer = nn_initializer_default(NN_INITIALIZER_ZEROS);
    bn->gamma_initializer = nn_initializer_default(NN_INITIALIZER_ONES);
    bn->moving_mean_initializer = nn_initializer_default(NN_INITIALIZER_ZEROS);
    bn->moving_variance_initializer = nn_initializer_default(NN_INITIALIZER_ONES);
    bn->gamma_index = bn->beta_index = bn->moving_mean_index = bn->moving_variance_index = -1;
}

static nn_status batchnorm_validate(nn_layer *layer)
{
    batchnorm_layer *bn = (batchnorm_layer *)layer;
    if (!(bn->momentum >= 0.0f && bn->momentum <= 1.0f))
        return nn_error(NN_ERR_ARGUMENT,
                        "layer \"%s\": BatchNormalization momentum must be in [0, 1], got %g",
                        layer->name, (double)bn->momentum);
    if (!(bn->epsilon > 0.0f) || !isfinite(bn->epsilon))
        return nn_error(NN_ERR_ARGUMENT,
                        "layer \"%s\": BatchNormalization epsilon must be a positive number, "
                        "got %g", layer->name, (double)bn->epsilon);
    return NN_OK;
}

static nn_status batchnorm_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    batchnorm_layer *bn = (batchnorm_layer *)layer;
    char text[128];
    int ndim = input->ndim;
    int axis = bn->axis < 0 ? bn->axis + ndim : bn->axis;
    if (axis < 0 || axis >= ndim)
        return nn_error(NN_ERR_SHAPE,
                        "invalid axis %d for an input of shape %s (rank %d); "
                        "axis must be in [%d, %d]",
                        bn->axis, nn_shape_format(input, text, sizeof text), ndim,
                        -ndim, ndim - 1);
    if (axis == 0)
        return nn_error(NN_ERR_SHAPE,
                        "axis %d is the batch axis of input %s; "
                        "BatchNormalization normalises a feature axis (-1 for channels_last, "
                        "1 for channels_first)",
                        bn->axis, nn_shape_format(input, text, sizeof text));
    int64_t channels = input->dims[axis];
    nn_shape shape = NN_SHAPE(channels);
    nn_regularizer no_regularizer = {0};
    nn_constraint no_constraint = nn_constraint_default(NN_CONSTRAINT_NONE);
    /* Keras' order: gamma, beta, moving_mean, moving_variance. */
    bn->gamma_index = bn->beta_index = -1;
    if (bn->scale)
        bn->gamma_index = nn_layer_declare_param(layer, "gamma", &shape, true,
                                                 bn->gamma_initializer, bn->gamma_regularizer,
                                                 bn->gamma_constraint);
    if (bn->center)
        bn->beta_index = nn_layer_declare_param(layer, "beta", &shape, true,
                                                bn->beta_initializer, bn->beta_regularizer,
                                                bn->beta_constraint);
    bn->moving_mean_index = nn_layer_declare_param(layer, "moving_mean", &shape, false,
                                                   bn->moving_mean_initializer, no_regularizer,
                                                   no_constraint);
    bn->moving_variance_index = nn_layer_declare_param(
        layer, "moving_variance", &shape, false, bn->moving_variance_initializer,
        no_regularizer, no_constraint);
    bn->resolved_axis = axis;
    *output = *input;
    int per_channel = 2 + (bn->scale ? 1 : 0) + (bn->center ? 1 : 0);
    const char *trainable = bn->scale && bn->center ? "gamma and beta are trainable; "
                            : bn->scale            ? "gamma is trainable; "
                            : bn->center           ? "beta is trainable; "
                                                   : "";
    snprintf(layer->explanation, sizeof layer->explanation,
             "unchanged: each of the %lld features on axis %d is normalised with the batch's "
             "mean and variance in training and with their moving averages in inference; "
             "weights %d x %lld = %lld (%smoving_mean and moving_variance are not)",
             (long long)channels, axis, per_channel, (long long)channels,
             (long long)per_channel * (long long)channels, trainable);
    return NN_OK;
}

static nn_status batchnorm_reserve(nn_layer *layer, nn_device device, int64_t batch)
{
    (void)batch; /* the buffers are per channel */
    batchnorm_layer *bn = (batchnorm_layer *)layer;
    size_t channels = (size_t)layer->input_shape.dims[bn->resolved_axis];
    return nn_layer_buffer_reserve(&bn->statistics, device, 2 * channels * sizeof(float), layer);
}

/* The kernels' view of an input: (outer, C, inner) around the feature axis. */
static nn_batchnorm_geometry geometry_of(const batchnorm_layer *bn, const nn_shape *shape)
{
    int axis = bn->resolved_axis;
    nn_batchnorm_geometry g = {.outer = 1, .channels = shape->dims[axis], .inner = 1,
                               .momentum = bn->momentum, .epsilon = bn->epsilon};
    for (int i = 0; i < axis; i++)
        g.outer *= shape->dims[i];
    for (int i = axis + 1; i < shape->ndim; i++)
        g.inner *= shape->dims[i];
    return g;
}

static size_t batchnorm_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                       int64_t batch)
{
    const batchnorm_layer *bn = (const batchnorm_layer *)layer;
    nn_shape shape = layer->input_shape;
    shape.dims[0] = batch;
    nn_batchnorm_geometry g = geometry_of(bn, &shape);
    return backend->batchnorm_scratch_floats(&g);
}

static float *param_data(nn_layer *layer, int index)
{
    return index >= 0 ? nn_tensor_f32(layer->params[index].value) : NULL;
}

/* Keras' masking: over the features of the last axis, a mask over the other axes (the
 * steps) leaves the masked rows out of the batch statistics, as Keras 3's masked moments;
 * the output keeps the mask. Another axis takes no mask. */
static unsigned batchnorm_mask_use(const nn_layer *layer, const nn_shape *input)
{
    const batchnorm_layer *bn = (const batchnorm_layer *)layer;
    int axis = bn->axis < 0 ? bn->axis + input->ndim : bn->axis;
    return axis == input->ndim - 1 ? NN_MASK_READS | NN_MASK_PASSES : 0;
}

/* The geometry of a call, with the model's mask when the layer reads it. */
static nn_batchnorm_geometry call_geometry(const batchnorm_layer *bn, const nn_exec *exec,
                                           const nn_shape *shape)
{
    nn_batchnorm_geometry g = geometry_of(bn, shape);
    if (exec->mask && g.inner == 1 && batchnorm_mask_use(&bn->base, shape))
        g.mask = exec->mask;
    return g;
}

static nn_status batchnorm_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                   nn_tensor *output)
{
    batchnorm_layer *bn = (batchnorm_layer *)layer;
    nn_batchnorm_geometry g = call_geometry(bn, exec, &input->shape);
    if (!nn_layer_buffer_reserved(bn->statistics, exec->device,
                                  2 * (size_t)g.channels * sizeof(float)))
        return nn_error(NN_ERR_STATE, "layer \"%s\": forward before nn_layer_reserve",
                        layer->name);
    float *mean = bn->statistics->data, *inv_std = mean + g.channels;
    const float *gamma = param_data(layer, bn->gamma_index);
    const float *beta = param_data(layer, bn->beta_index);
    float *moving_mean = param_data(layer, bn->moving_mean_index);
    float *moving_variance = param_data(layer, bn->moving_variance_index);

    /* A frozen layer (trainable = false) runs in inference mode, as in Keras. */
    bn->used_batch_statistics = exec->training && layer->trainable;
    if (bn->used_batch_statistics)
        exec->backend->batchnorm_forward_training(nn_tensor_f32(output), mean, inv_std,
                                                  moving_mean, moving_variance,
                                                  nn_tensor_f32(input), gamma, beta, &g,
                                                  exec->scratch);
    else
        exec->backend->batchnorm_forward_inference(nn_tensor_f32(output), mean, inv_std,
                                                   nn_tensor_f32(input), gamma, beta,
                                                   moving_mean, moving_variance, &g);
    return NN_OK;
}

static nn_status batchnorm_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                    const nn_tensor *output, const nn_tensor *doutput,
                                    nn_tensor *dinput)
{
    (void)output;
    batchnorm_layer *bn = (batchnorm_layer *)layer;
    nn_batchnorm_geometry g = call_geometry(bn, exec, &input->shape);
    const float *mean = bn->statistics->data, *inv_std = mean + g.channels;
    /* A frozen layer's weights have no gradients (NULL): only dx is wanted. */
    const nn_tensor *gamma_grad = bn->gamma_index >= 0 ? layer->params[bn->gamma_index].grad : NULL;
    const nn_tensor *beta_grad = bn->beta_index >= 0 ? layer->params[bn->beta_index].grad : NULL;
    float *dgamma = gamma_grad ? nn_tensor_f32(gamma_grad) : NULL;
    float *dbeta = beta_grad ? nn_tensor_f32(beta_grad) : NULL;
    exec->backend->batchnorm_backward(dinput ? nn_tensor_f32(dinput) : NULL, dgamma, dbeta,
                                      nn_tensor_f32(doutput), nn_tensor_f32(input),
                                      param_data(layer, bn->gamma_index), mean, inv_std,
                                      bn->used_batch_statistics, &g, exec->scratch);
    return NN_OK;
}

static void batchnorm_destroy(nn_layer *layer)
{
    batchnorm_layer *bn = (batchnorm_layer *)layer;
    nn_storage_release(bn->statistics);
    bn->statistics = NULL;
}

const nn_layer_class nn_batchnorm_class = {
    .name = "BatchNormalization",
    .base_name = "batch_normalization",
    .doc = "Normalises its input so that each feature has mean 0 and variance 1, then "
           "scales by gamma and shifts by beta: gamma * (x - mean) / sqrt(var + epsilon) + "
           "beta. In training mean and var are the batch's own and the moving averages are "
           "updated; in inference the moving averages are used.",
    .example = "local bn = nn.layers.BatchNormalization()\n"
               "local y = bn(nn.random.randn(4, 4, 4, 3), {training=true})\n"
               "print(y.shape)   --> (4, 4, 4, 3), each channel with mean ~0, variance ~1",
    .size = sizeof(batchnorm_layer),
    .args = batchnorm_args,
    .arg_count = (int)(sizeof batchnorm_args / sizeof batchnorm_args[0]),
    .positional_count = 1,
    .set_defaults = batchnorm_set_defaults,
    .validate = batchnorm_validate,
    .build = batchnorm_build,
    .scratch_floats = batchnorm_scratch_floats,
    .reserve = batchnorm_reserve,
    .forward = batchnorm_forward,
    .backward = batchnorm_backward,
    .destroy = batchnorm_destroy,
    .mask_use = batchnorm_mask_use,
};
