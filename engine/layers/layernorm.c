/* LayerNormalization, GroupNormalization and RMSNormalization, as Keras': each sample
 * normalised on its own to mean 0 and variance 1, then scaled by gamma and shifted by beta
 * (one of each per feature). LayerNormalization normalises every position's last axis, or
 * its last few axes as one row (gamma and beta then have those axes' sizes);
 * GroupNormalization splits the channels into groups and normalises each group over the
 * whole sample (its positions and the group's channels); RMSNormalization divides every
 * position's last axis by its root mean square, without centring, and has a scale only.
 * None uses batch statistics, so training and inference compute the same thing. All run
 * the backend's group normalisation. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct layernorm_layer {
    nn_layer base;
    int groups; /* GroupNormalization: -1 is one per channel (instance normalisation) */
    int axis;   /* GroupNormalization's channel axis; RMSNormalization's axis */
    nn_axes axes; /* LayerNormalization's axis: one, or several normalised together */
    float epsilon;
    bool center, scale;
    bool rms_scaling; /* RMSNormalization: divided by the root mean square, not centred */
    nn_initializer beta_initializer, gamma_initializer;
    nn_regularizer beta_regularizer, gamma_regularizer;
    nn_constraint beta_constraint, gamma_constraint;

    int gamma_index, beta_index; /* in base.params, -1 when absent */
    /* Set by build: the channel axis counted from the front (LayerNormalization's and
     * RMSNormalization's first normalised axis; the rest follow it to the end). */
    int resolved_axis;
    int64_t group_count;         /* set by build: groups, -1 resolved */
    /* Each group's mean and inv_std from the last forward, kept for backward (2 · samples ·
     * groups floats), on the device the layer ran on; sized by reserve. */
    nn_storage *statistics;
} layernorm_layer;

#define ARG(field) offsetof(layernorm_layer, field)

/* The arguments both layers take, in Keras' order. */
#define EPSILON_CENTER_SCALE_ARGS                                                              \
    {"epsilon", NN_ARG_FLOAT, ARG(epsilon), false, 1e-30, 1e30, false, NULL, "0.001",          \
     "Small float added to the variance to avoid dividing by zero."},                          \
    {"center", NN_ARG_BOOL, ARG(center), false, 0, 1, false, NULL, "True",                     \
     "If True, add the learned offset beta to the normalised tensor."},                        \
    {"scale", NN_ARG_BOOL, ARG(scale), false, 0, 1, false, NULL, "True",                       \
     "If True, multiply by the learned factor gamma."}
#define GAMMA_BETA_ARGS                                                                        \
    {"beta_initializer", NN_ARG_INITIALIZER, ARG(beta_initializer), false, 0, 0, false, NULL,  \
     "'zeros'", "Initializer for the beta weight."},                                           \
    {"gamma_initializer", NN_ARG_INITIALIZER, ARG(gamma_initializer), false, 0, 0, false,      \
     NULL, "'ones'", "Initializer for the gamma weight."},                                     \
    {"beta_regularizer", NN_ARG_REGULARIZER, ARG(beta_regularizer), false, 0, 0, false, NULL,  \
     "None", "Regularizer for the beta weight."},                                              \
    {"gamma_regularizer", NN_ARG_REGULARIZER, ARG(gamma_regularizer), false, 0, 0, false,      \
     NULL, "None", "Regularizer for the gamma weight."},                                       \
    {"beta_constraint", NN_ARG_CONSTRAINT, ARG(beta_constraint), false, 0, 0, false, NULL,     \
     "None", "Constraint for the beta weight."},                                               \
    {"gamma_constraint", NN_ARG_CONSTRAINT, ARG(gamma_constraint), false, 0, 0, false, NULL,   \
     "None", "Constraint for the gamma weight."}

static const nn_arg_spec layernorm_args[] = {
    {"axis", NN_ARG_AXES, ARG(axes), false, -NN_MAX_DIMS, NN_MAX_DIMS - 1, false, NULL, "-1",
     "The axis normalised, or a list of axes normalised together (such as {1, 2, 3}: each "
     "image as a whole); they must be the last axes of the input. gamma and beta have their "
     "sizes."},
    EPSILON_CENTER_SCALE_ARGS,
    {"rms_scaling", NN_ARG_BOOL, ARG(rms_scaling), false, 0, 1, false, NULL, "False",
     "Keras' root-mean-square variant (no centering); nnsh does not have it yet."},
    GAMMA_BETA_ARGS,
    NN_NAME_AND_INPUT_SHAPE_ARGS("layer_normalization"),
};

static const nn_arg_spec group_norm_args[] = {
    {"groups", NN_ARG_INT, ARG(groups), false, -1, 1 << 30, false, NULL, "32",
     "Number of groups the channels are split into; it must divide the number of channels. "
     "-1 makes each channel its own group (instance normalisation); 1 normalises the whole "
     "sample at once."},
    {"axis", NN_ARG_AXIS, ARG(axis), false, -NN_MAX_DIMS, NN_MAX_DIMS - 1, false, NULL, "-1",
     "The channel axis, which is split into groups; -1 is the last. Use 1 for "
     "channels_first images."},
    EPSILON_CENTER_SCALE_ARGS,
    GAMMA_BETA_ARGS,
    NN_NAME_AND_INPUT_SHAPE_ARGS("group_normalization"),
};

static void layernorm_set_defaults(nn_layer *layer)
{
    layernorm_layer *norm = (layernorm_layer *)layer;
    norm->axis = -1;
    norm->axes = (nn_axes){.count = 1, .values = {-1}};
    norm->epsilon = 0.001f;
    norm->center = norm->scale = true;
    norm->beta_initializer = nn_initializer_default(NN_INITIALIZER_ZEROS);
    norm->gamma_initializer = nn_initializer_default(NN_INITIALIZER_ONES);
    norm->gamma_index = norm->beta_index = -1;
}

static const nn_arg_spec rms_norm_args[] = {
    {"axis", NN_ARG_AXIS, ARG(axis), false, -NN_MAX_DIMS, NN_MAX_DIMS - 1, false, NULL, "-1",
     "The axis normalised; nnsh normalises the last one (-1)."},
    {"epsilon", NN_ARG_FLOAT, ARG(epsilon), false, 1e-30, 1e30, false, NULL, "1e-06",
     "Small float added to the mean square to avoid dividing by zero."},
    NN_NAME_AND_INPUT_SHAPE_ARGS("rms_normalization"),
};

static void group_norm_set_defaults(nn_layer *layer)
{
    layernorm_set_defaults(layer);
    ((layernorm_layer *)layer)->groups = 32;
}

static void rms_norm_set_defaults(nn_layer *layer)
{
    layernorm_set_defaults(layer);
    layernorm_layer *norm = (layernorm_layer *)layer;
    norm->epsilon = 1e-6f;
    norm->center = false;
    norm->rms_scaling = true;
}

static nn_status layernorm_validate(nn_layer *layer)
{
    if (((layernorm_layer *)layer)->rms_scaling)
        return nn_error(NN_ERR_ARGUMENT, "layer \"%s\": rms_scaling=True is not available "
                        "in nnsh: Keras releases differ on whether it centres first. "
                        "RMSNormalization divides by the root mean square without centring",
                        layer->name);
    return NN_OK;
}

/* gamma and beta, one per channel, as the flags ask; RMSNormalization calls its gamma
 * "scale", as Keras does. */
static void declare_weights(layernorm_layer *norm, nn_shape shape)
{
    nn_layer *layer = &norm->base;
    norm->gamma_index = norm->beta_index = -1;
    if (norm->scale)
        norm->gamma_index = nn_layer_declare_param(layer, norm->rms_scaling ? "scale" : "gamma",
                                                   &shape, true,
                                                   norm->gamma_initializer,
                                                   norm->gamma_regularizer,
                                                   norm->gamma_constraint);
    if (norm->center)
        norm->beta_index = nn_layer_declare_param(layer, "beta", &shape, true,
                                                  norm->beta_initializer,
                                                  norm->beta_regularizer, norm->beta_constraint);
}

/* What gamma and beta add to an explanation: " then multiplied by gamma and shifted by
 * beta (16 each)", or less. */
static const char *weights_text(const layernorm_layer *norm, int64_t channels, char *text,
                                size_t size)
{
    if (norm->scale && norm->center)
        snprintf(text, size, ", then multiplied by gamma and shifted by beta (%lld each)",
                 (long long)channels);
    else if (norm->scale || norm->center)
        snprintf(text, size, ", then %s (%lld)",
                 norm->scale ? (norm->rms_scaling ? "multiplied by scale" : "multiplied by gamma")
                             : "shifted by beta",
                 (long long)channels);
    else
        snprintf(text, size, "%s", "");
    return text;
}

/* "-1" or "{1, 2, 3}": axes as given (in Lua). Returns text. */
static const char *axes_text(const nn_axes *axes, char *text, size_t size)
{
    size_t used = (size_t)snprintf(text, size, "%s", axes->list ? "{" : "");
    for (int i = 0; i < axes->count && used < size; i++)
        used += (size_t)snprintf(text + used, size - used, "%s%d", i ? ", " : "", axes->values[i]);
    if (axes->list && used < size)
        snprintf(text + used, size - used, "}");
    return text;
}

static nn_status layernorm_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    layernorm_layer *norm = (layernorm_layer *)layer;
    char text[128], weights[96], given[64];
    nn_shape_format(input, text, sizeof text);
    /* RMSNormalization takes one axis; LayerNormalization one or several. */
    nn_axes one_axis = {.count = 1, .values = {norm->axis}};
    const nn_axes *axes = layer->cls == &nn_layernorm_class ? &norm->axes : &one_axis;
    int first = 0;
    if (input->ndim < 2)
        return nn_feature_axis(layer, input, -1, NULL, &first);
    int sorted[NN_MAX_DIMS];
    axes_text(axes, given, sizeof given);
    for (int i = 0; i < axes->count; i++)
        if (axes->values[i] < -input->ndim || axes->values[i] >= input->ndim)
            return nn_error(NN_ERR_SHAPE, "axis %s is out of range for input %s (rank %d); "
                            "each axis must be in [%d, %d]", given, text, input->ndim,
                            -input->ndim, input->ndim - 1);
    if (!nn_axes_resolve(axes, input->ndim, sorted)) /* in range, so a repeat */
        return nn_error(NN_ERR_SHAPE, "axis %s names one axis of input %s twice (a negative "
                        "axis counts from the end: -1 is %d)", given, text, input->ndim - 1);
    first = sorted[0];
    bool last_ones = sorted[axes->count - 1] == input->ndim - 1 &&
                     sorted[axes->count - 1] - first == axes->count - 1;
    if (first == 0)
        return nn_error(NN_ERR_SHAPE, "axis %s of input %s includes the batch axis (0); each "
                        "sample is normalised on its own, over its last axes", given, text);
    if (!last_ones)
        return nn_error(NN_ERR_SHAPE, "normalisation over axis %s of input %s: nnsh "
                        "normalises %s", given, text,
                        layer->cls == &nn_layernorm_class
                            ? "the last axis (axis=-1) or the last few together, such as "
                              "{-2, -1}"
                            : "the last axis only (axis=-1)");
    NN_TRY(nn_known_sizes(input));
    nn_shape weight_shape = {.ndim = axes->count};
    int64_t width = 1;
    for (int i = 0; i < axes->count; i++) {
        weight_shape.dims[i] = input->dims[first + i];
        width *= input->dims[first + i];
    }
    /* Every listed axis adds its size to gamma's: (2^20, 2^20, 2) would ask for 8 TiB. */
    if (width > INT32_MAX)
        return nn_error(NN_ERR_MEMORY, "normalising axis %s of input %s together would give "
                        "gamma and beta %lld values each, more than the %d a layer supports",
                        given, text, (long long)width, INT32_MAX);
    declare_weights(norm, weight_shape);
    norm->resolved_axis = first;
    norm->group_count = 1;
    *output = *input;
    char over[64];
    if (axes->count == 1)
        snprintf(over, sizeof over, "along the last axis");
    else
        snprintf(over, sizeof over, "over its last %d axes together", axes->count);
    snprintf(layer->explanation, sizeof layer->explanation,
             "unchanged: each sample's %lld values %s are %s%s", (long long)width, over,
             norm->rms_scaling ? "divided by their root mean square"
                               : "shifted to mean 0 and scaled to variance 1",
             weights_text(norm, width, weights, sizeof weights));
    return NN_OK;
}

static nn_status group_norm_validate(nn_layer *layer)
{
    int groups = ((layernorm_layer *)layer)->groups;
    if (groups == 0)
        return nn_error(NN_ERR_ARGUMENT, "GroupNormalization \"%s\": groups must be a number "
                        "of groups >= 1, or -1 for one per channel; got 0", layer->name);
    return NN_OK;
}

static nn_status group_norm_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    layernorm_layer *norm = (layernorm_layer *)layer;
    char text[128], weights[96];
    nn_shape_format(input, text, sizeof text);
    int axis = 0;
    NN_TRY(nn_feature_axis(layer, input, norm->axis,
                           "GroupNormalization groups a channel axis (-1 for channels_last, 1 "
                           "for channels_first)",
                           &axis));
    int64_t channels = input->dims[axis];
    if (channels <= 0)
        return nn_error(NN_ERR_SHAPE, "Axis %d of input tensor should have a defined dimension "
                        "but the layer received an input with shape %s.", norm->axis, text);
    int64_t groups = norm->groups == -1 ? channels : norm->groups;
    if (groups > channels)
        return nn_error(NN_ERR_SHAPE, "Number of groups (%lld) cannot be more "
                        "than the number of channels (%lld) of input %s.",
                        (long long)groups, (long long)channels, text);
    if (channels % groups != 0)
        return nn_error(NN_ERR_SHAPE, "the %lld channels of input %s do not "
                        "split into %lld groups; groups must divide the number of channels "
                        "(for example %lld)", (long long)channels, text,
                        (long long)groups, (long long)(channels % 2 == 0 ? 2 : 1));
    declare_weights(norm, NN_SHAPE(channels));
    norm->resolved_axis = axis;
    norm->group_count = groups;
    *output = *input;
    int64_t width = channels / groups;
    if (input->ndim == 2)
        snprintf(layer->explanation, sizeof layer->explanation,
                 "unchanged: each sample's %lld features form %lld groups of %lld, each "
                 "shifted to mean 0 and scaled to variance 1%s",
                 (long long)channels, (long long)groups, (long long)width,
                 weights_text(norm, channels, weights, sizeof weights));
    else
        snprintf(layer->explanation, sizeof layer->explanation,
                 "unchanged: each sample's %lld channels form %lld groups of %lld, each "
                 "shifted to mean 0 and scaled to variance 1 over all its positions%s",
                 (long long)channels, (long long)groups, (long long)width,
                 weights_text(norm, channels, weights, sizeof weights));
    return NN_OK;
}

/* The backend's view of an input of `shape`: LayerNormalization's rows of the last axis
 * (each its own sample), GroupNormalization's samples split around the channel axis. */
static nn_group_norm_geometry geometry_of(const layernorm_layer *norm, const nn_shape *shape,
                                          int64_t batch)
{
    nn_group_norm_geometry g = {.samples = batch, .before = 1, .after = 1,
                                .channels = shape->dims[norm->resolved_axis],
                                .groups = norm->group_count, .epsilon = norm->epsilon,
                                .root_mean_square = norm->rms_scaling};
    for (int i = 1; i < norm->resolved_axis; i++)
        g.before *= shape->dims[i];
    for (int i = norm->resolved_axis + 1; i < shape->ndim; i++)
        g.after *= shape->dims[i];
    if (norm->base.cls != &nn_group_norm_class) {
        g.samples *= g.before; /* every position is a sample of its own */
        g.before = 1;
        g.channels *= g.after; /* the normalised axes, one row of gamma's values */
        g.after = 1;
    }
    return g;
}

/* Floats of mean and inv_std a call of geometry g keeps: one of each per group. */
static size_t statistics_floats(const nn_group_norm_geometry *g)
{
    return 2 * (size_t)(g->samples * g->groups);
}

static nn_status layernorm_reserve(nn_layer *layer, nn_device device, int64_t batch)
{
    layernorm_layer *norm = (layernorm_layer *)layer;
    nn_group_norm_geometry g = geometry_of(norm, &layer->input_shape, batch);
    return nn_layer_buffer_reserve(&norm->statistics, device,
                                   statistics_floats(&g) * sizeof(float), layer);
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
    nn_group_norm_geometry g = geometry_of(norm, shape, shape->dims[0]);
    size_t count = statistics_floats(&g);
    if (!nn_layer_buffer_reserved(norm->statistics, exec->device, count * sizeof(float)))
        return nn_error(NN_ERR_STATE, "layer \"%s\": a batch of %lld arrived but the layer "
                        "was reserved for fewer samples or another device (call "
                        "nn_layer_reserve first)", layer->name, (long long)shape->dims[0]);
    float *mean = norm->statistics->data, *inv_std = mean + count / 2;
    exec->backend->group_norm_forward(nn_tensor_f32(output), mean, inv_std, nn_tensor_f32(input),
                                      param_data(layer, norm->gamma_index),
                                      param_data(layer, norm->beta_index), &g);
    nn_layer_activate_forward(layer, exec, nn_tensor_f32(output), nn_tensor_count(output),
                              (size_t)shape->dims[shape->ndim - 1]);
    return NN_OK;
}

static nn_status layernorm_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                    const nn_tensor *output, const nn_tensor *doutput,
                                    nn_tensor *dinput)
{
    (void)output;
    layernorm_layer *norm = (layernorm_layer *)layer;
    const nn_shape *shape = &input->shape;
    nn_group_norm_geometry g = geometry_of(norm, shape, shape->dims[0]);
    const float *mean = norm->statistics->data, *inv_std = mean + statistics_floats(&g) / 2;
    /* A frozen layer's weights have no gradients (NULL): only dx is wanted. */
    const nn_tensor *gamma_grad =
        norm->gamma_index >= 0 ? layer->params[norm->gamma_index].grad : NULL;
    const nn_tensor *beta_grad = norm->beta_index >= 0 ? layer->params[norm->beta_index].grad : NULL;
    exec->backend->group_norm_backward(dinput ? nn_tensor_f32(dinput) : NULL,
                                       gamma_grad ? nn_tensor_f32(gamma_grad) : NULL,
                                       beta_grad ? nn_tensor_f32(beta_grad) : NULL,
                                       nn_tensor_f32(doutput), nn_tensor_f32(input),
                                       param_data(layer, norm->gamma_index), mean, inv_std, &g);
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
           "size. axis={1, 2, 3} normalises the last three axes together (each image as a "
           "whole), with gamma and beta of their sizes.",
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

const nn_layer_class nn_group_norm_class = {
    .name = "GroupNormalization",
    .base_name = "group_normalization",
    .doc = "Splits the channels into groups and normalises each sample's group on its own "
           "(mean 0, variance 1 over the group's channels at every position), then scales "
           "by gamma and shifts by beta, one of each per channel. Like LayerNormalization it "
           "uses no batch statistics, so it suits small batches; groups=-1 (one channel a "
           "group) is instance normalisation.",
    .example = "local n = nn.layers.GroupNormalization{2}\n"
               "print(n(nn.tensor{{1, 3, 10, 20}}))   --> about [-1, 1, -1, 1]",
    .size = sizeof(layernorm_layer),
    .args = group_norm_args,
    .arg_count = (int)(sizeof group_norm_args / sizeof group_norm_args[0]),
    .positional_count = 1,
    .set_defaults = group_norm_set_defaults,
    .validate = group_norm_validate,
    .build = group_norm_build,
    .reserve = layernorm_reserve,
    .forward = layernorm_forward,
    .backward = layernorm_backward,
    .destroy = layernorm_destroy,
    .mask_use = nn_mask_passes,
};

const nn_layer_class nn_rms_norm_class = {
    .name = "RMSNormalization",
    .base_name = "rms_normalization",
    .doc = "Divides each sample's values along the last axis by their root mean square, "
           "sqrt(mean(x^2) + epsilon), then multiplies by a learned scale, one per feature. "
           "Unlike LayerNormalization it does not subtract the mean and has no offset, as in "
           "the normalisation of many transformers.",
    .example = "local n = nn.layers.RMSNormalization()\n"
               "print(n(nn.tensor{{3, 4}}))   --> about [0.849, 1.131]",
    .size = sizeof(layernorm_layer),
    .args = rms_norm_args,
    .arg_count = (int)(sizeof rms_norm_args / sizeof rms_norm_args[0]),
    .positional_count = 1,
    .set_defaults = rms_norm_set_defaults,
    .build = layernorm_build,
    .reserve = layernorm_reserve,
    .forward = layernorm_forward,
    .backward = layernorm_backward,
    .destroy = layernorm_destroy,
    .mask_use = nn_mask_passes,
};
