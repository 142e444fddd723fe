/* BatchNormalization: normalises one feature axis with the batch's mean and variance in
 * training (updating moving averages) and with those moving averages in inference. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"

/* Reductions split the rows into at most this many fixed blocks, summed in parallel and
 * combined in order: the result does not depend on the thread count. */
enum { REDUCTION_BLOCKS = 16 };

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

    /* Per-channel buffers sized by reserve, freed by destroy. `mean` and `inv_std` hold
     * the statistics the last forward normalised with; backward reuses them. */
    float *mean, *inv_std;
    double *batch_mean; /* (C) the batch mean in double, between the two passes */
    double *sums;     /* (2, C) */
    double *partials; /* (REDUCTION_BLOCKS, 2, C) */
    int64_t channels_capacity;
    bool used_batch_statistics; /* the last forward normalised with the batch's own */
} batchnorm_layer;

#define ARG(field) offsetof(batchnorm_layer, field)

static const nn_arg_spec batchnorm_args[] = {
    {"axis", NN_ARG_AXIS, ARG(axis), false, -NN_MAX_DIMS, NN_MAX_DIMS - 1, false, NULL, "-1",
     "The axis that holds the features to normalise (each gets its own mean, variance, "
     "gamma and beta); -1 is the last. After a channels_first Conv2D use 1."},
    {"momentum", NN_ARG_FLOAT, ARG(momentum), false, 0, 1, false, NULL, "0.99",
     "Momentum of the moving averages: moving = moving * momentum + batch * (1 - momentum)."},
    {"epsilon", NN_ARG_FLOAT, ARG(epsilon), false, 0, 1e30, false, NULL, "0.001",
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
                        "layer \"%s\": invalid axis %d for an input of shape %s (rank %d); "
                        "axis must be in [%d, %d]",
                        layer->name, bn->axis, nn_shape_format(input, text, sizeof text), ndim,
                        -ndim, ndim - 1);
    if (axis == 0)
        return nn_error(NN_ERR_SHAPE,
                        "layer \"%s\": axis %d is the batch axis of input %s; "
                        "BatchNormalization normalises a feature axis (-1 for channels_last, "
                        "1 for channels_first)",
                        layer->name, bn->axis, nn_shape_format(input, text, sizeof text));
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

static nn_status batchnorm_reserve(nn_layer *layer, int64_t batch)
{
    (void)batch; /* the buffers are per channel */
    batchnorm_layer *bn = (batchnorm_layer *)layer;
    int64_t channels = layer->input_shape.dims[bn->resolved_axis];
    if (channels <= bn->channels_capacity)
        return NN_OK;
    size_t c = (size_t)channels;
    float *mean = realloc(bn->mean, c * sizeof(float));
    if (mean)
        bn->mean = mean;
    float *inv_std = realloc(bn->inv_std, c * sizeof(float));
    if (inv_std)
        bn->inv_std = inv_std;
    double *batch_mean = realloc(bn->batch_mean, c * sizeof(double));
    if (batch_mean)
        bn->batch_mean = batch_mean;
    double *sums = realloc(bn->sums, 2 * c * sizeof(double));
    if (sums)
        bn->sums = sums;
    double *partials = realloc(bn->partials, REDUCTION_BLOCKS * 2 * c * sizeof(double));
    if (partials)
        bn->partials = partials;
    if (!mean || !inv_std || !batch_mean || !sums || !partials)
        return nn_error(NN_ERR_MEMORY, "out of memory reserving layer \"%s\"", layer->name);
    bn->channels_capacity = channels;
    return NN_OK;
}

/* An input seen as (outer, C, inner): the axes before the feature axis, the features,
 * and the axes after it. Element (o, c, k) sits at (o * C + c) * inner + k. */
typedef struct bn_layout {
    int64_t outer, channels, inner;
} bn_layout;

static bn_layout layout_of(const nn_shape *shape, int axis)
{
    bn_layout layout = {1, shape->dims[axis], 1};
    for (int i = 0; i < axis; i++)
        layout.outer *= shape->dims[i];
    for (int i = axis + 1; i < shape->ndim; i++)
        layout.inner *= shape->dims[i];
    return layout;
}

typedef enum reduction_kind {
    SUM_X,                    /* sums[0][c] = Σ x */
    SUM_SQUARED_DEVIATION,    /* sums[0][c] = Σ (x - center[c])² */
    SUM_DY_AND_DY_XHAT,       /* sums[0][c] = Σ dy, sums[1][c] = Σ dy · x̂ */
} reduction_kind;

/* Per-channel sums over every axis but the feature axis. x̂ = (x - mean) · inv_std for
 * SUM_DY_AND_DY_XHAT. partials (REDUCTION_BLOCKS, 2, C) is workspace; sums is (2, C). */
static void channel_sums(double *sums, double *partials, reduction_kind kind, const float *x,
                         const float *dy, const double *center, const float *mean,
                         const float *inv_std, bn_layout layout)
{
    const int64_t outer = layout.outer, channels = layout.channels, inner = layout.inner;
    const int blocks = outer < REDUCTION_BLOCKS ? (int)outer : REDUCTION_BLOCKS;
#pragma omp parallel for schedule(static) if (outer * channels * inner > (1 << 15))
    for (int block = 0; block < blocks; block++) {
        double *first = partials + (size_t)block * 2 * (size_t)channels;
        double *second = first + channels;
        memset(first, 0, 2 * (size_t)channels * sizeof(double));
        int64_t start = outer * block / blocks, end = outer * (block + 1) / blocks;
        for (int64_t o = start; o < end; o++) {
            for (int64_t c = 0; c < channels; c++) {
                size_t base = (size_t)((o * channels + c) * inner);
                double a = 0.0, b = 0.0;
                for (int64_t k = 0; k < inner; k++) {
                    double value = x[base + (size_t)k];
                    if (kind == SUM_X) {
                        a += value;
                    } else if (kind == SUM_SQUARED_DEVIATION) {
                        double deviation = value - center[c];
                        a += deviation * deviation;
                    } else {
                        double gradient = dy[base + (size_t)k];
                        double normalized = (value - (double)mean[c]) * (double)inv_std[c];
                        a += gradient;
                        b += gradient * normalized;
                    }
                }
                first[c] += a;
                second[c] += b;
            }
        }
    }
    memset(sums, 0, 2 * (size_t)channels * sizeof(double));
    for (int block = 0; block < blocks; block++)
        for (int64_t c = 0; c < 2 * channels; c++)
            sums[c] += partials[(size_t)block * 2 * (size_t)channels + (size_t)c];
}

static float *param_data(nn_layer *layer, int index)
{
    return index >= 0 ? nn_tensor_f32(layer->params[index].value) : NULL;
}

static nn_status batchnorm_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                   nn_tensor *output)
{
    batchnorm_layer *bn = (batchnorm_layer *)layer;
    bn_layout layout = layout_of(&input->shape, bn->resolved_axis);
    const int64_t channels = layout.channels;
    if (!bn->mean || channels > bn->channels_capacity)
        return nn_error(NN_ERR_STATE, "layer \"%s\": forward before nn_layer_reserve",
                        layer->name);
    const float *x = nn_tensor_f32(input);
    float *y = nn_tensor_f32(output);
    const float *gamma = param_data(layer, bn->gamma_index);
    const float *beta = param_data(layer, bn->beta_index);
    float *moving_mean = param_data(layer, bn->moving_mean_index);
    float *moving_variance = param_data(layer, bn->moving_variance_index);

    /* A frozen layer (trainable = false) runs in inference mode, as in Keras. */
    bn->used_batch_statistics = exec->training && layer->trainable;
    if (bn->used_batch_statistics) {
        /* Two passes (mean, then squared deviations) keep the variance accurate when the
         * mean is large compared with the spread. The variance is the biased one (divided
         * by N), for normalising and for the moving average alike, as in Keras 3. */
        double count = (double)(layout.outer * layout.inner);
        channel_sums(bn->sums, bn->partials, SUM_X, x, NULL, NULL, NULL, NULL, layout);
        for (int64_t c = 0; c < channels; c++)
            bn->batch_mean[c] = bn->sums[c] / count;
        channel_sums(bn->sums, bn->partials, SUM_SQUARED_DEVIATION, x, NULL, bn->batch_mean,
                     NULL, NULL, layout);
        const float momentum = bn->momentum, rest = 1.0f - bn->momentum;
        for (int64_t c = 0; c < channels; c++) {
            double variance = bn->sums[c] / count;
            bn->mean[c] = (float)bn->batch_mean[c];
            bn->inv_std[c] = (float)(1.0 / sqrt(variance + (double)bn->epsilon));
            moving_mean[c] = moving_mean[c] * momentum + bn->mean[c] * rest;
            moving_variance[c] = moving_variance[c] * momentum + (float)variance * rest;
        }
    } else {
        for (int64_t c = 0; c < channels; c++) {
            bn->mean[c] = moving_mean[c];
            bn->inv_std[c] = (float)(1.0 / sqrt((double)moving_variance[c] + (double)bn->epsilon));
        }
    }

    const int64_t outer = layout.outer, inner = layout.inner;
#pragma omp parallel for schedule(static) if (outer * channels * inner > (1 << 15))
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t c = 0; c < channels; c++) {
            /* tf.nn.batch_normalization's form: x · s + (beta - mean · s). */
            float s = bn->inv_std[c] * (gamma ? gamma[c] : 1.0f);
            float shift = (beta ? beta[c] : 0.0f) - bn->mean[c] * s;
            size_t base = (size_t)((o * channels + c) * inner);
            for (int64_t k = 0; k < inner; k++)
                y[base + (size_t)k] = x[base + (size_t)k] * s + shift;
        }
    }
    return NN_OK;
}

static nn_status batchnorm_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                    const nn_tensor *output, const nn_tensor *doutput,
                                    nn_tensor *dinput)
{
    (void)exec;
    (void)output;
    batchnorm_layer *bn = (batchnorm_layer *)layer;
    bn_layout layout = layout_of(&input->shape, bn->resolved_axis);
    const int64_t outer = layout.outer, channels = layout.channels, inner = layout.inner;
    const float *x = nn_tensor_f32(input);
    const float *dy = nn_tensor_f32(doutput);
    const float *gamma = param_data(layer, bn->gamma_index);

    channel_sums(bn->sums, bn->partials, SUM_DY_AND_DY_XHAT, x, dy, NULL, bn->mean, bn->inv_std,
                 layout);
    const double *dbeta_sum = bn->sums, *dgamma_sum = bn->sums + channels;
    if (bn->gamma_index >= 0) {
        float *dgamma = nn_tensor_f32(layer->params[bn->gamma_index].grad);
        for (int64_t c = 0; c < channels; c++)
            dgamma[c] = (float)dgamma_sum[c];
    }
    if (bn->beta_index >= 0) {
        float *dbeta = nn_tensor_f32(layer->params[bn->beta_index].grad);
        for (int64_t c = 0; c < channels; c++)
            dbeta[c] = (float)dbeta_sum[c];
    }
    if (!dinput)
        return NN_OK;

    float *dx = nn_tensor_f32(dinput);
    const double count = (double)(outer * inner);
    const bool batch_statistics = bn->used_batch_statistics;
#pragma omp parallel for schedule(static) if (outer * channels * inner > (1 << 15))
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t c = 0; c < channels; c++) {
            size_t base = (size_t)((o * channels + c) * inner);
            double g = gamma ? (double)gamma[c] : 1.0;
            double inv_std = bn->inv_std[c], mean = bn->mean[c];
            if (!batch_statistics) {
                /* Fixed statistics: the normalisation is an affine map of x. */
                float s = (float)(g * inv_std);
                for (int64_t k = 0; k < inner; k++)
                    dx[base + (size_t)k] = dy[base + (size_t)k] * s;
                continue;
            }
            /* dx = g · inv_std / N · (N · dy - Σdy - x̂ · Σ(dy · x̂)), the gradient through
             * the batch mean and variance. */
            double factor = g * inv_std / count;
            double sum_dy = dbeta_sum[c], sum_dy_xhat = dgamma_sum[c];
            for (int64_t k = 0; k < inner; k++) {
                size_t i = base + (size_t)k;
                double normalized = ((double)x[i] - mean) * inv_std;
                dx[i] = (float)(factor * (count * (double)dy[i] - sum_dy -
                                          normalized * sum_dy_xhat));
            }
        }
    }
    return NN_OK;
}

static void batchnorm_destroy(nn_layer *layer)
{
    batchnorm_layer *bn = (batchnorm_layer *)layer;
    free(bn->mean);
    free(bn->inv_std);
    free(bn->batch_mean);
    free(bn->sums);
    free(bn->partials);
    bn->mean = bn->inv_std = NULL;
    bn->batch_mean = bn->sums = bn->partials = NULL;
    bn->channels_capacity = 0;
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
    .reserve = batchnorm_reserve,
    .forward = batchnorm_forward,
    .backward = batchnorm_backward,
    .destroy = batchnorm_destroy,
};
