/* LayerNormalization: each sample normalised over its last axis to mean 0 and variance 1,
 * then scaled by gamma and shifted by beta (one of each per feature), as Keras. Unlike
 * BatchNormalization it uses no batch statistics, so training and inference compute the
 * same thing. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct layernorm_layer {
    nn_layer base;
    int axis;
    float epsilon;
    bool center, scale, rms_scaling;
    nn_initializer beta_initializer, gamma_initializer;
    nn_regularizer beta_regularizer, gamma_regularizer;
    nn_constraint beta_constraint, gamma_constraint;

    int gamma_index, beta_index; /* in base.params, -1 when absent */
    /* Each row's mean and inv_std from the last forward, kept for backward (2 · rows
     * floats), on the device the layer ran on; sized by reserve. */
    nn_storage *statistics;
} layernorm_layer;

#define ARG(field) offsetof(layernorm_layer, field)

static const nn_arg_spec layernorm_args[] = {
    {"axis", NN_ARG_AXIS, ARG(axis), false, -NN_MAX_DIMS, NN_MAX_DIMS - 1, false, NULL, "-1",
     "The axis normalised; nnsh normalises the last one (-1)."},
    {"epsilon", NN_ARG_FLOAT, ARG(epsilon), false, 1e-30, 1e30, false, NULL, "0.001",
     "Small float added to the variance to avoid dividing by zero."},
    {"center", NN_ARG_BOOL, ARG(center), false, 0, 1, false, NULL, "True",
     "If True, add the learned offset beta to the normalised tensor."},
    {"scale", NN_ARG_BOOL, ARG(scale), false, 0, 1, false, NULL, "True",
     "If True, multiply by the learned factor gamma."},
    {"rms_scaling", NN_ARG_BOOL, ARG(rms_scaling), false, 0, 1, false, NULL, "False",
     "Keras' root-mean-square variant (no centering); nnsh does not have it yet."},
    {"beta_initializer", NN_ARG_INITIALIZER, ARG(beta_initializer), false, 0, 0, false, NULL,
     "'zeros'", "Initializer for the beta weight."},
    {"gamma_initializer", NN_ARG_INITIALIZER, ARG(gamma_initializer), false, 0, 0, false, NULL,
     "'ones'", "Initializer for the gamma weight."},
    {"beta_regularizer", NN_ARG_REGULARIZER, ARG(beta_regularizer), false, 0, 0, false, NULL,
     "None", "Regularizer for the beta weight."},
    {"gamma_regularizer", NN_ARG_REGULARIZER, ARG(gamma_regularizer), false, 0, 0, false, NULL,
     "None", "Regularizer for the gamma weight."},
    {"beta_constraint", NN_ARG_CONSTRAINT, ARG(beta_constraint), false, 0, 0, false, NULL,
     "None", "Constraint for the beta weight."},
    {"gamma_constraint", NN_ARG_CONSTRAINT, ARG(gamma_constraint), false, 0, 0, false, NULL,
     "None", "Constraint for the gamma weight."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'layer_normalization', 'layer_normalization_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void layernorm_set_defaults(nn_layer *layer)
{
    layernorm_layer *norm = (layernorm_layer *)layer;
    norm->axis = -1;
    norm->epsilon = 0.001f;
    norm->center = norm->scale = true;
    norm->beta_initializer = nn_initializer_default(NN_INITIALIZER_ZEROS);
    norm->gamma_initializer = nn_initializer_default(NN_INITIALIZER_ONES);
    norm->gamma_index = norm->beta_index = -1;
}

static nn_status layernorm_validate(nn_layer *layer)
{
    if (((layernorm_layer *)layer)->rms_scaling)
        return nn_error(NN_ERR_ARGUMENT, "layer \"%s\": rms_scaling=True is not available in "
                        "nnsh yet; the default (False) is", layer->name);
    return NN_OK;
}

static nn_status layernorm_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    layernorm_layer *norm = (layernorm_layer *)layer;
    char text[128];
    nn_shape_format(input, text, sizeof text);
    if (input->ndim < 2)
        return nn_error(NN_ERR_SHAPE, "Input 0 of layer \"%s\" is incompatible with the layer: "
                        "expected min_ndim=2 (batch, features), found shape %s",
                        layer->name, text);
    int axis = norm->axis < 0 ? norm->axis + input->ndim : norm->axis;
    if (axis < 0 || axis >= input->ndim)
        return nn_error(NN_ERR_SHAPE, "axis %d is out of range for input %s (%d axes)",
                        norm->axis, text, input->ndim);
    if (axis != input->ndim - 1)
        return nn_error(NN_ERR_SHAPE, "layer normalisation over axis %d of input %s: nnsh "
                        "normalises the last axis only (axis=-1)", norm->axis, text);
    for (int i = 1; i < input->ndim; i++)
        if (input->dims[i] <= 0)
            return nn_error(NN_ERR_SHAPE, "layer \"%s\" needs every size of its input but the "
                            "batch, got %s", layer->name, text);
    int64_t width = input->dims[input->ndim - 1];
    nn_shape shape = NN_SHAPE(width);
    norm->gamma_index = norm->beta_index = -1;
    if (norm->scale)
        norm->gamma_index = nn_layer_declare_param(layer, "gamma", &shape, true,
                                                   norm->gamma_initializer,
                                                   norm->gamma_regularizer,
                                                   norm->gamma_constraint);
    if (norm->center)
        norm->beta_index = nn_layer_declare_param(layer, "beta", &shape, true,
                                                  norm->beta_initializer,
                                                  norm->beta_regularizer, norm->beta_constraint);
    *output = *input;
    snprintf(layer->explanation, sizeof layer->explanation,
             "unchanged: each sample's %lld values along the last axis are shifted to mean 0 "
             "and scaled to variance 1, then multiplied by gamma and shifted by beta (%lld "
             "each)",
             (long long)width, (long long)width);
    return NN_OK;
}

/* Rows of the last axis in a batch of `batch`. */
static int64_t rows_of(const nn_shape *shape, int64_t batch)
{
    int64_t rows = batch;
    for (int i = 1; i < shape->ndim - 1; i++)
        rows *= shape->dims[i];
    return rows;
}

static nn_status layernorm_reserve(nn_layer *layer, nn_device device, int64_t batch)
{
    layernorm_layer *norm = (layernorm_layer *)layer;
    size_t rows = (size_t)rows_of(&layer->input_shape, batch);
    return nn_layer_buffer_reserve(&norm->statistics, device, 2 * rows * sizeof(float), layer);
}

static float *param_data(nn_layer *layer, int index)
{
    return index >= 0 ? nn_tensor_f32(layer->params[index].value) : NULL;
}

static nn_status layernorm_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                   nn_tensor *output)
{
    layernorm_layer *norm = (layernorm_layer *)layer;
    const nn_shape *shape = &input->shape;
    int64_t rows = rows_of(shape, shape->dims[0]), width = shape->dims[shape->ndim - 1];
    if (!norm->statistics || norm->statistics->bytes < 2 * (size_t)rows * sizeof(float) ||
        !nn_device_equal(norm->statistics->device, exec->device))
        return nn_error(NN_ERR_STATE, "layer \"%s\": a batch of %lld arrived but the layer "
                        "was reserved for fewer rows or another device (call nn_layer_reserve "
                        "first)", layer->name, (long long)shape->dims[0]);
    float *mean = norm->statistics->data, *inv_std = mean + rows;
    exec->backend->layernorm_forward(nn_tensor_f32(output), mean, inv_std, nn_tensor_f32(input),
                                     param_data(layer, norm->gamma_index),
                                     param_data(layer, norm->beta_index), rows, width,
                                     norm->epsilon);
    nn_layer_activate_forward(layer, exec, nn_tensor_f32(output), nn_tensor_count(output),
                              (size_t)width);
    return NN_OK;
}

static nn_status layernorm_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                    const nn_tensor *output, const nn_tensor *doutput,
                                    nn_tensor *dinput)
{
    (void)output;
    layernorm_layer *norm = (layernorm_layer *)layer;
    const nn_shape *shape = &input->shape;
    int64_t rows = rows_of(shape, shape->dims[0]), width = shape->dims[shape->ndim - 1];
    const float *mean = norm->statistics->data, *inv_std = mean + rows;
    /* A frozen layer's weights have no gradients (NULL): only dx is wanted. */
    const nn_tensor *gamma_grad =
        norm->gamma_index >= 0 ? layer->params[norm->gamma_index].grad : NULL;
    const nn_tensor *beta_grad = norm->beta_index >= 0 ? layer->params[norm->beta_index].grad : NULL;
    exec->backend->layernorm_backward(dinput ? nn_tensor_f32(dinput) : NULL,
                                      gamma_grad ? nn_tensor_f32(gamma_grad) : NULL,
                                      beta_grad ? nn_tensor_f32(beta_grad) : NULL,
                                      nn_tensor_f32(doutput), nn_tensor_f32(input),
                                      param_data(layer, norm->gamma_index), mean, inv_std, rows,
                                      width);
    return NN_OK;
}

static void layernorm_destroy(nn_layer *layer)
{
    layernorm_layer *norm = (layernorm_layer *)layer;
    nn_storage_release(norm->statistics);
    norm->statistics = NULL;
}

const nn_layer_class nn_layernorm_class = {
    .name = "LayerNormalization",
    .base_name = "layer_normalization",
    .doc = "Normalises each sample on its own over its last axis (mean 0, variance 1), then "
           "scales by gamma and shifts by beta, one of each per feature. It uses no batch "
           "statistics, so it works the same in training and inference and for any batch "
           "size.",
    .example = "local n = nn.layers.LayerNormalization()\n"
               "print(n(nn.tensor{{1, 2, 3}}))   --> about [-1.22, 0, 1.22]",
    .size = sizeof(layernorm_layer),
    .args = layernorm_args,
    .arg_count = (int)(sizeof layernorm_args / sizeof layernorm_args[0]),
    .positional_count = 1,
    .set_defaults = layernorm_set_defaults,
    .validate = layernorm_validate,
    .build = layernorm_build,
    .reserve = layernorm_reserve,
    .forward = layernorm_forward,
    .backward = layernorm_backward,
    .destroy = layernorm_destroy,
    .mask_use = nn_mask_passes,
};
