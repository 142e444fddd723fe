/* Normalization: Keras' preprocessing layer that takes a fixed mean off its input and
 * divides by a fixed standard deviation, one per index of `axis` (the features, by
 * default) or one for everything (axis=None). The mean and variance are given as numbers,
 * or learned from data before training by adapt (layer:adapt), which stores
 * them as the layer's non-trainable weights mean and variance (beside count, which Keras 3
 * keeps for older files and leaves at 0). With
 * invert=true it puts them back on instead. Nothing in it trains: the gradient passes
 * through the same division. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"

typedef struct normalization_layer {
    nn_layer base;
    nn_optional_int axis;           /* None: one mean and variance for everything */
    nn_optional_floats mean, variance; /* given: no weights; one value, or one per index */
    bool invert;
    nn_normalize_geometry geometry; /* from build; count per row of the batch */
} normalization_layer;

#define ARG(field) offsetof(normalization_layer, field)

static const nn_arg_spec normalization_args[] = {
    {"axis", NN_ARG_OPTIONAL_INT, ARG(axis), false, -(NN_MAX_DIMS - 1), NN_MAX_DIMS - 1, false,
     NULL, "-1",
     "The axis whose every index has its own mean and variance (-1: each feature of the last "
     "axis); nn.None: one mean and variance for the whole input."},
    {"mean", NN_ARG_OPTIONAL_FLOATS, ARG(mean), false, -1e30, 1e30, false, NULL, "None",
     "The mean to take off: a number for every index of axis, or a list of one per index "
     "(up to 64; then variance too, and no adapt)."},
    {"variance", NN_ARG_OPTIONAL_FLOATS, ARG(variance), false, 0, 1e30, false, NULL, "None",
     "The variance to divide by the root of: a number, or a list of one per index (with "
     "mean)."},
    {"invert", NN_ARG_BOOL, ARG(invert), false, 0, 1, false, NULL, "False",
     "Put the mean and standard deviation back on instead: mean + x * sqrt(variance)."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'normalization', 'normalization_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void normalization_set_defaults(nn_layer *layer)
{
    ((normalization_layer *)layer)->axis = (nn_optional_int){true, -1};
}

static nn_status normalization_validate(nn_layer *layer)
{
    const normalization_layer *norm = (const normalization_layer *)layer;
    if (norm->mean.present != norm->variance.present)
        return nn_error(NN_ERR_ARGUMENT, "Normalization \"%s\": give mean and variance "
                        "together (or neither, and adapt the layer to data), got only %s",
                        layer->name, norm->mean.present ? "mean" : "variance");
    if (norm->mean.present && norm->mean.count != norm->variance.count &&
        norm->mean.count > 1 && norm->variance.count > 1)
        return nn_error(NN_ERR_ARGUMENT, "Normalization \"%s\": mean has %d values and "
                        "variance %d; give one per index of axis for both (or one number)",
                        layer->name, norm->mean.count, norm->variance.count);
    return NN_OK;
}

static bool given(const normalization_layer *norm) { return norm->mean.present; }

static nn_status normalization_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    normalization_layer *norm = (normalization_layer *)layer;
    char text[128];
    nn_normalize_geometry g = {.count = nn_shape_inner(input, 1), .channels = 1, .inner = 1,
                               .invert = norm->invert};
    int axis = -1;
    if (norm->axis.present) {
        int64_t wanted = norm->axis.value;
        axis = (int)(wanted < 0 ? wanted + input->ndim : wanted);
        if (input->ndim == 1)
            return nn_error(NN_ERR_SHAPE, "Normalization \"%s\": a %s input has only the batch "
                            "axis, so axis=%lld has nothing to keep; use axis=nn.None for one "
                            "mean and variance", layer->name,
                            nn_shape_format(input, text, sizeof text), (long long)wanted);
        if (axis < 1 || axis >= input->ndim)
            return nn_error(NN_ERR_SHAPE, "Normalization \"%s\": axis=%lld %s of input %s; "
                            "give an axis from 1 to %d or from -1 to %d (or nn.None for one mean "
                            "and variance for everything)",
                            layer->name, (long long)wanted,
                            axis == 0 ? "is the batch axis, which has no fixed size,"
                                      : "is not an axis",
                            nn_shape_format(input, text, sizeof text), input->ndim - 1,
                            -(input->ndim - 1));
        if (input->dims[axis] < 1)
            return nn_error(NN_ERR_SHAPE, "Normalization \"%s\": axis %d of input %s has no "
                            "known size, and the axis to keep needs one (a mean for each index)",
                            layer->name, axis, nn_shape_format(input, text, sizeof text));
        g.channels = input->dims[axis];
        g.inner = nn_shape_inner(input, axis + 1);
    }
    int given_count = given(norm) ? (norm->mean.count > norm->variance.count
                                         ? norm->mean.count : norm->variance.count)
                                  : 0;
    if (given_count > 1 && given_count != g.channels)
        return nn_error(NN_ERR_SHAPE, "Normalization \"%s\": given %d means and variances, "
                        "but %s of input %s has %lld indices; give one per index, or one number",
                        layer->name, given_count, axis < 0 ? "axis=None" : "the axis",
                        nn_shape_format(input, text, sizeof text), (long long)g.channels);
    /* Given values travel in the geometry, so no device memory holds them; a single number
     * of either stands for every index. */
    g.given = given_count;
    for (int c = 0; c < given_count; c++) {
        g.mean[c] = norm->mean.values[norm->mean.count > 1 ? c : 0];
        g.variance[c] = norm->variance.values[norm->variance.count > 1 ? c : 0];
    }
    norm->geometry = g;
    *output = *input;
    if (!given(norm)) {
        nn_shape kept = NN_SHAPE(g.channels);
        if (axis < 0)
            kept = (nn_shape){.ndim = 0};
        nn_layer_declare_param(layer, "mean", &kept, false,
                               nn_initializer_default(NN_INITIALIZER_ZEROS),
                               (nn_regularizer){0, 0}, nn_constraint_default(NN_CONSTRAINT_NONE));
        nn_layer_declare_param(layer, "variance", &kept, false,
                               nn_initializer_default(NN_INITIALIZER_ONES),
                               (nn_regularizer){0, 0}, nn_constraint_default(NN_CONSTRAINT_NONE));
        nn_shape scalar = {.ndim = 0};
        nn_layer_declare_param(layer, "count", &scalar, false,
                               nn_initializer_default(NN_INITIALIZER_ZEROS),
                               (nn_regularizer){0, 0}, nn_constraint_default(NN_CONSTRAINT_NONE));
    }
    const char *what = norm->invert ? "mean + x * std" : "(x - mean) / std";
    if (axis < 0)
        snprintf(layer->explanation, sizeof layer->explanation,
                 "unchanged: %s, one mean and standard deviation for every value", what);
    else
        snprintf(layer->explanation, sizeof layer->explanation,
                 "unchanged: %s, a mean and standard deviation for each of the %lld indices "
                 "of axis %d%s",
                 what, (long long)g.channels, axis,
                 given(norm) ? "" : " (mean and variance: weights adapt sets)");
    return NN_OK;
}

/* y from x (`batch` rows), or with `gradient` the input's gradient from the output's: the
 * statistics are the weights, or the given values the geometry carries (NULL arrays). */
static void run(const normalization_layer *norm, nn_exec *exec, float *y, const float *x,
                int64_t batch, bool gradient)
{
    nn_normalize_geometry g = norm->geometry;
    g.count *= batch;
    const float *mean = NULL, *variance = NULL;
    if (!given(norm)) {
        mean = nn_tensor_f32(norm->base.params[0].value);
        variance = nn_tensor_f32(norm->base.params[1].value);
    }
    exec->backend->normalize(y, x, mean, variance, &g, gradient);
}

static nn_status normalization_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                       nn_tensor *output)
{
    run((const normalization_layer *)layer, exec, nn_tensor_f32(output), nn_tensor_f32(input),
        input->shape.dims[0], false);
    return NN_OK;
}

static nn_status normalization_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                        const nn_tensor *output, const nn_tensor *doutput,
                                        nn_tensor *dinput)
{
    (void)input;
    (void)output;
    if (dinput)
        run((const normalization_layer *)layer, exec, nn_tensor_f32(dinput),
            nn_tensor_f32(doutput), doutput->shape.dims[0], true);
    return NN_OK;
}

/* Refuses data (values in host memory) holding NaN or inf before adapt changes anything:
 * Keras would store a NaN mean, which makes every output NaN later. */
static nn_status check_finite_data(const nn_layer *layer, const nn_tensor *values)
{
    size_t count = nn_tensor_count(values);
    for (size_t i = 0; i < count; i++) {
        double value = nn_tensor_get(values, i);
        if (isfinite(value))
            continue;
        size_t row_size = count / (size_t)values->shape.dims[0];
        return nn_error(NN_ERR_ARGUMENT, "Normalization \"%s\": adapt got %s in sample %zu "
                        "(value %zu of it); the mean and variance would be NaN: remove or "
                        "replace such values first", layer->name,
                        isnan(value) ? "NaN" : value > 0 ? "inf" : "-inf", i / row_size + 1,
                        i % row_size + 1);
    }
    return NN_OK;
}

/* adapt's work, on its data's values in host memory. */
static nn_status adapt_to(nn_layer *layer, const nn_tensor *values)
{
    normalization_layer *norm = (normalization_layer *)layer;
    char built_text[128], data_text[128];
    NN_TRY(check_finite_data(layer, values));
    if (!layer->built)
        NN_TRY(nn_layer_build(layer, &values->shape));
    nn_normalize_geometry geometry = {.channels = 1, .inner = 1};
    if (norm->axis.present) {
        int axis = (int)(norm->axis.value < 0 ? norm->axis.value + values->shape.ndim
                                              : norm->axis.value);
        if (values->shape.dims[axis] != norm->geometry.channels)
            return nn_error(NN_ERR_SHAPE, "Normalization \"%s\" was built for input %s, with "
                            "%lld indices on axis %d; adapt got data of shape %s, with %lld",
                            layer->name,
                            nn_shape_format(&layer->input_shape, built_text, sizeof built_text),
                            (long long)norm->geometry.channels, axis,
                            nn_shape_format(&values->shape, data_text, sizeof data_text),
                            (long long)values->shape.dims[axis]);
        geometry.channels = values->shape.dims[axis];
        geometry.inner = nn_shape_inner(&values->shape, axis + 1);
    }
    const nn_normalize_geometry *g = &geometry;
    size_t channels = (size_t)g->channels, count = nn_tensor_count(values);
    double *sums = calloc(2 * channels, sizeof *sums);
    float *result = malloc(2 * channels * sizeof *result);
    if (!sums || !result) {
        free(sums);
        free(result);
        return nn_error(NN_ERR_MEMORY, "Normalization \"%s\": out of memory adapting",
                        layer->name);
    }
    /* Two passes in double: the mean, then the mean square deviation from it (the
     * population variance, as Keras'). */
    double per_channel = (double)count / (double)channels;
    for (size_t i = 0; i < count; i++)
        sums[(i / (size_t)g->inner) % channels] += nn_tensor_get(values, i);
    for (size_t c = 0; c < channels; c++)
        sums[c] /= per_channel;
    for (size_t i = 0; i < count; i++) {
        size_t c = (i / (size_t)g->inner) % channels;
        double deviation = nn_tensor_get(values, i) - sums[c];
        sums[channels + c] += deviation * deviation;
    }
    for (size_t c = 0; c < channels; c++) {
        result[c] = (float)sums[c];
        result[channels + c] = (float)(sums[channels + c] / per_channel);
    }
    free(sums);
    /* count stays as it is: Keras 3 keeps the weight for older files and never sets it. */
    nn_status status = nn_tensor_write(layer->params[0].value, result);
    if (status == NN_OK)
        status = nn_tensor_write(layer->params[1].value, result + channels);
    free(result);
    return status;
}

/* Sets the mean and variance to those of `data`, on any device, of any dtype: over every
 * axis but the layer's, as Keras' adapt. Builds the layer on data's shape first when it
 * is not built; a built one takes data whose kept axis matches (the other axes may
 * differ, as images of another size). Refused for a layer given its mean and variance, or
 * in use by a running model. */
static nn_status normalization_adapt(nn_layer *layer, const nn_tensor *data)
{
    normalization_layer *norm = (normalization_layer *)layer;
    if (given(norm))
        return nn_error(NN_ERR_ARGUMENT, "Normalization \"%s\" was given its mean and variance; "
                        "adapt learns them from data instead (make it without mean= and "
                        "variance=)", layer->name);
    if (layer->running_in)
        return nn_error(NN_ERR_STATE, "Normalization \"%s\" is in use by a model in the middle "
                        "of fit, evaluate or predict; adapt it before", layer->name);
    if (data->shape.ndim < 1)
        return nn_error(NN_ERR_SHAPE, "Normalization \"%s\": adapt needs samples along a "
                        "batch axis, got a scalar", layer->name);
    /* As Keras: a built layer takes data whose kept axis matches (images of another size
     * for a mean per channel), an unbuilt one is built on the data's shape. */
    char built_text[128], data_text[128];
    if (layer->built && data->shape.ndim != layer->input_shape.ndim)
        return nn_error(NN_ERR_SHAPE, "Normalization \"%s\" was built for input %s; adapt got "
                        "data of shape %s, with %d axes instead of %d", layer->name,
                        nn_shape_format(&layer->input_shape, built_text, sizeof built_text),
                        nn_shape_format(&data->shape, data_text, sizeof data_text),
                        data->shape.ndim, layer->input_shape.ndim);
    /* One host copy of device data serves the check and the statistics. */
    nn_tensor *host = NULL;
    if (!nn_tensor_on_host(data))
        NN_TRY(nn_tensor_to(&host, data, nn_device_cpu()));
    nn_status status = adapt_to(layer, host ? host : data);
    nn_tensor_free(host);
    return status;
}

const nn_layer_class nn_normalization_class = {
    .name = "Normalization",
    .base_name = "normalization",
    .doc = "Takes a fixed mean off its input and divides by a fixed standard deviation, "
           "max(sqrt(variance), 1e-7): one of each for every index of axis (each feature, by "
           "default), or one for everything with axis=nn.None. Give mean= and variance=, or let "
           "layer:adapt(x) learn them from the training data before fit (weights mean and "
           "variance, which do not train, and count, which Keras 3 keeps at 0). invert=true "
           "puts them back on instead.",
    .example = "local normalize = nn.layers.Normalization{}\n"
               "normalize:adapt(x_train)          -- each feature's mean and variance\n"
               "local model = nn.Sequential{normalize, nn.layers.Dense{1}}",
    .size = sizeof(normalization_layer),
    .args = normalization_args,
    .arg_count = (int)(sizeof normalization_args / sizeof normalization_args[0]),
    .positional_count = 4,
    .set_defaults = normalization_set_defaults,
    .validate = normalization_validate,
    .build = normalization_build,
    .forward = normalization_forward,
    .backward = normalization_backward,
    .mask_use = nn_mask_passes,
    .adapt = normalization_adapt,
};
