/* GlobalAveragePooling2D and GlobalMaxPooling2D: (B, H, W, C) -> (B, C), the mean or the
 * largest value of each channel over the whole image, as Keras; keepdims=true keeps
 * (B, 1, 1, C). Both run on kernels every backend already has: the maximum is a max
 * pooling whose window is the whole image, and the mean a matrix product of each
 * channel's H·W values with a column of ones (the channels first), then scaled. The 1-D
 * classes pool a sequence as a one-row image, the 3-D ones a volume (B, D, H, W, C) as
 * the image (B, D·H, W, C), which has its memory. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

enum { GLOBAL_AVERAGE, GLOBAL_MAX };

typedef struct global_pool2d_layer {
    nn_layer base;
    int data_format; /* NN_CHANNELS_LAST or NN_CHANNELS_FIRST */
    bool keepdims;
    int kind;        /* GLOBAL_AVERAGE or GLOBAL_MAX, from the class */
    bool sequence;   /* the 1-D classes: (batch, steps, channels), a one-row image */
    bool volume;     /* the 3-D classes: (batch, depth, height, width, channels) */
    /* Sizes of one call, filled by build (a window over the whole image); batch is set
     * per call. */
    nn_pool2d_geometry geometry;
    /* GLOBAL_MAX: each output's winner (a flat index into the channels-last input) from
     * the last forward in training; sized by reserve. */
    nn_storage *argmax;
    int64_t argmax_batch;
} global_pool2d_layer;

#define ARG(field) offsetof(global_pool2d_layer, field)

static const nn_arg_spec global_pool2d_args[] = {
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, height, width, channels) or 'channels_first' (batch, "
     "channels, height, width)."},
    {"keepdims", NN_ARG_BOOL, ARG(keepdims), false, 0, 0, false, NULL, "False",
     "Keep the height and width as axes of size 1: (batch, 1, 1, channels)."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default the class's in snake case ('global_average_pooling2d', "
     "'global_max_pooling2d'), numbered from the second on."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static const nn_arg_spec global_pool1d_args[] = {
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, steps, channels) or 'channels_first' (batch, channels, "
     "steps)."},
    {"keepdims", NN_ARG_BOOL, ARG(keepdims), false, 0, 0, false, NULL, "False",
     "Keep the steps as an axis of size 1: (batch, 1, channels)."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default the class's in snake case ('global_average_pooling1d', "
     "'global_max_pooling1d'), numbered from the second on."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), e.g. {100, 8}."},
};

static const nn_arg_spec global_pool3d_args[] = {
    NN_VOLUME_DATA_FORMAT_ARG,
    {"keepdims", NN_ARG_BOOL, ARG(keepdims), false, 0, 0, false, NULL, "False",
     "Keep the depth, height and width as axes of size 1: (batch, 1, 1, 1, channels)."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default the class's in snake case ('global_average_pooling3d', "
     "'global_max_pooling3d'), numbered from the second on."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), e.g. {16, 32, 32, 3}."},
};

/* Dense products and argmax take int sizes and indices. */
static const int64_t INDEX_LIMIT = INT32_MAX;

static void average_set_defaults(nn_layer *layer)
{
    ((global_pool2d_layer *)layer)->kind = GLOBAL_AVERAGE;
}

static void max_set_defaults(nn_layer *layer)
{
    ((global_pool2d_layer *)layer)->kind = GLOBAL_MAX;
}

static void average1d_set_defaults(nn_layer *layer)
{
    average_set_defaults(layer);
    ((global_pool2d_layer *)layer)->sequence = true;
}

static void max1d_set_defaults(nn_layer *layer)
{
    max_set_defaults(layer);
    ((global_pool2d_layer *)layer)->sequence = true;
}

static void average3d_set_defaults(nn_layer *layer)
{
    average_set_defaults(layer);
    ((global_pool2d_layer *)layer)->volume = true;
}

static void max3d_set_defaults(nn_layer *layer)
{
    max_set_defaults(layer);
    ((global_pool2d_layer *)layer)->volume = true;
}

/* Reads the input's sizes as an image's: a volume's depth and height make its height,
 * and *depth receives the depth (1 for an image or a sequence). */
static nn_status image_sizes(const global_pool2d_layer *pool, const nn_shape *input,
                             int64_t *height, int64_t *width, int64_t *channels,
                             int64_t *depth)
{
    const nn_layer *layer = &pool->base;
    *depth = 1;
    if (pool->sequence)
        return nn_sequence_input(layer, input, pool->data_format, height, width, channels);
    if (!pool->volume)
        return nn_image_input(layer, input, pool->data_format, height, width, channels);
    int64_t sizes[3];
    NN_TRY(nn_volume_input(layer, input, pool->data_format, sizes, channels));
    *depth = sizes[0];
    *height = sizes[0] * sizes[1];
    *width = sizes[2];
    return NN_OK;
}

static nn_status global_pool2d_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    global_pool2d_layer *pool = (global_pool2d_layer *)layer;
    int64_t height, width, channels, depth;
    char received[128];
    bool last = pool->data_format == NN_CHANNELS_LAST;
    NN_TRY(image_sizes(pool, input, &height, &width, &channels, &depth));
    if (height * width > INDEX_LIMIT / channels)
        return nn_error(NN_ERR_MEMORY, "one sample of input %s has more than "
                        "%lld elements, the most global pooling supports",
                        nn_shape_format(input, received, sizeof received),
                        (long long)INDEX_LIMIT);
    if (!pool->keepdims)
        *output = NN_SHAPE(-1, channels);
    else if (pool->sequence)
        *output = last ? NN_SHAPE(-1, 1, channels) : NN_SHAPE(-1, channels, 1);
    else if (pool->volume)
        *output = last ? NN_SHAPE(-1, 1, 1, 1, channels) : NN_SHAPE(-1, channels, 1, 1, 1);
    else
        *output = last ? NN_SHAPE(-1, 1, 1, channels) : NN_SHAPE(-1, channels, 1, 1);
    pool->geometry = (nn_pool2d_geometry){
        .in_height = (int)height,
        .in_width = (int)width,
        .channels = (int)channels,
        .out_height = 1,
        .out_width = 1,
        .pool_height = (int)height,
        .pool_width = (int)width,
        .stride_height = (int)height,
        .stride_width = (int)width,
    };
    if (pool->sequence)
        snprintf(layer->explanation, sizeof layer->explanation,
                 "the %s of each channel over %lld steps; channels: unchanged = %lld%s",
                 pool->kind == GLOBAL_AVERAGE ? "mean" : "maximum", (long long)width,
                 (long long)channels, pool->keepdims ? " (steps kept as 1)" : "");
    else if (pool->volume)
        snprintf(layer->explanation, sizeof layer->explanation,
                 "the %s of each channel over %lld x %lld x %lld cells; channels: unchanged = "
                 "%lld%s",
                 pool->kind == GLOBAL_AVERAGE ? "mean" : "maximum", (long long)depth,
                 (long long)(height / depth), (long long)width, (long long)channels,
                 pool->keepdims ? " (depth, height and width kept as 1)" : "");
    else
        snprintf(layer->explanation, sizeof layer->explanation,
                 "the %s of each channel over %lld x %lld cells; channels: unchanged = %lld%s",
                 pool->kind == GLOBAL_AVERAGE ? "mean" : "maximum", (long long)height,
                 (long long)width, (long long)channels,
                 pool->keepdims ? " (height and width kept as 1)" : "");
    return NN_OK;
}

static size_t cells(const global_pool2d_layer *pool)
{
    return (size_t)pool->geometry.in_height * (size_t)pool->geometry.in_width;
}

static size_t input_floats(const global_pool2d_layer *pool, int64_t batch)
{
    return (size_t)batch * cells(pool) * (size_t)pool->geometry.channels;
}

/* The average: the channels-first input (B·C rows of H·W values, transposed into scratch
 * for channels_last) times a column (ones forward, 1/(H·W) backward) that follows it in
 * scratch. The maximum:
 * channels_first pools channels-last copies of the input and output. */
static size_t global_pool2d_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                           int64_t batch)
{
    (void)backend;
    const global_pool2d_layer *pool = (const global_pool2d_layer *)layer;
    size_t input = (input_floats(pool, batch) + 15) / 16 * 16;
    size_t output = (size_t)batch * (size_t)pool->geometry.channels;
    if (pool->kind == GLOBAL_AVERAGE)
        return input + cells(pool);
    return pool->data_format == NN_CHANNELS_LAST ? 0 : input + output;
}

static int32_t *argmax_for(const global_pool2d_layer *pool, int64_t batch, nn_device device)
{
    size_t outputs = (size_t)batch * (size_t)pool->geometry.channels;
    return nn_layer_buffer_reserved(pool->argmax, device, outputs * sizeof(int32_t));
}

static nn_status global_pool2d_reserve(nn_layer *layer, nn_device device, int64_t batch)
{
    global_pool2d_layer *pool = (global_pool2d_layer *)layer;
    if (!layer->built)
        return NN_OK;
    if (batch > INDEX_LIMIT / (int64_t)input_floats(pool, 1))
        return nn_error(NN_ERR_MEMORY, "layer \"%s\": a batch of %lld inputs of %zu elements "
                        "is more than the %lld elements global pooling can index",
                        layer->name, (long long)batch, input_floats(pool, 1),
                        (long long)INDEX_LIMIT);
    if (pool->kind != GLOBAL_MAX)
        return NN_OK;
    return nn_layer_buffer_reserve(&pool->argmax, device,
                                   (size_t)batch * (size_t)pool->geometry.channels *
                                       sizeof(int32_t),
                                   layer);
}

static nn_status check_scratch(const nn_layer *layer, const nn_exec *exec, int64_t batch)
{
    size_t need = global_pool2d_scratch_floats(layer, exec->backend, batch);
    if (exec->scratch_floats < need)
        return nn_error(NN_ERR_STATE, "layer \"%s\" needs %zu floats of scratch, the caller "
                        "gave %zu", layer->name, need, exec->scratch_floats);
    return NN_OK;
}

static void average_forward(global_pool2d_layer *pool, nn_exec *exec, const float *input,
                            float *output, int64_t batch)
{
    const nn_backend *backend = exec->backend;
    int64_t channels = pool->geometry.channels, area = (int64_t)cells(pool);
    float *rows = exec->scratch;
    float *column = rows + (input_floats(pool, batch) + 15) / 16 * 16;
    bool last = pool->data_format == NN_CHANNELS_LAST;
    if (last)
        backend->to_channels_first(rows, input, batch, channels, area);
    /* The sum, then one division's worth of rounding, as a mean of the values. */
    backend->fill(column, 1.0f, (size_t)area);
    backend->dense_forward(output, last ? rows : input, column, NULL,
                           nn_activation_default(NN_ACTIVATION_LINEAR), (int)(batch * channels),
                           (int)area, 1);
    backend->scale_shift(output, output, 1.0f / (float)area, 0.0f, (size_t)(batch * channels));
}

static void average_backward(global_pool2d_layer *pool, nn_exec *exec, const float *doutput,
                             float *dinput, int64_t batch)
{
    const nn_backend *backend = exec->backend;
    int64_t channels = pool->geometry.channels, area = (int64_t)cells(pool);
    float *rows = exec->scratch;
    float *column = rows + (input_floats(pool, batch) + 15) / 16 * 16;
    bool last = pool->data_format == NN_CHANNELS_LAST;
    backend->fill(column, 1.0f / (float)area, (size_t)area);
    /* Each cell gets its channel's gradient / (H·W). */
    backend->dense_backward(last ? rows : dinput, NULL, NULL, doutput, NULL, column,
                            (int)(batch * channels), (int)area, 1);
    if (last)
        backend->to_channels_last(dinput, rows, batch, channels, area);
}

/* GlobalAveragePooling1D over (batch, steps, channels) takes Keras' mask over the steps:
 * the mean of the kept steps. */
static unsigned global_pool_mask_use(const nn_layer *layer, const nn_shape *input)
{
    (void)input;
    const global_pool2d_layer *pool = (const global_pool2d_layer *)layer;
    return pool->sequence && pool->kind == GLOBAL_AVERAGE &&
                   pool->data_format == NN_CHANNELS_LAST
               ? NN_MASK_READS
               : 0;
}

static bool reads_mask(const nn_layer *layer)
{
    return global_pool_mask_use(layer, &layer->input_shape) != 0;
}

static nn_status global_pool2d_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                       nn_tensor *output)
{
    global_pool2d_layer *pool = (global_pool2d_layer *)layer;
    int64_t batch = input->shape.dims[0];
    NN_TRY(check_scratch(layer, exec, batch));
    if (exec->mask && reads_mask(layer)) {
        exec->backend->masked_mean_steps(nn_tensor_f32(output), nn_tensor_f32(input),
                                         exec->mask, batch, pool->geometry.in_width,
                                         pool->geometry.channels);
        return NN_OK;
    }
    if (pool->kind == GLOBAL_AVERAGE) {
        average_forward(pool, exec, nn_tensor_f32(input), nn_tensor_f32(output), batch);
        return NN_OK;
    }
    int32_t *argmax = exec->training ? argmax_for(pool, batch, exec->device) : NULL;
    if (exec->training && !argmax)
        return nn_error(NN_ERR_STATE, "layer \"%s\" was reserved for fewer than %lld samples "
                        "or another device; call nn_layer_reserve before training",
                        layer->name, (long long)batch);
    if (exec->training)
        pool->argmax_batch = batch;
    nn_pool2d_geometry g = pool->geometry;
    g.batch = (int)batch;
    /* One output cell per channel: (B, 1, 1, C) has the layout of (B, C) either way. */
    if (pool->data_format == NN_CHANNELS_LAST) {
        exec->backend->maxpool2d_forward(nn_tensor_f32(output), argmax, nn_tensor_f32(input),
                                         &g);
        return NN_OK;
    }
    float *input_last = exec->scratch;
    exec->backend->to_channels_last(input_last, nn_tensor_f32(input), batch, g.channels,
                                    (int64_t)cells(pool));
    exec->backend->maxpool2d_forward(nn_tensor_f32(output), argmax, input_last, &g);
    return NN_OK;
}

static nn_status global_pool2d_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                        const nn_tensor *output, const nn_tensor *doutput,
                                        nn_tensor *dinput)
{
    (void)output;
    global_pool2d_layer *pool = (global_pool2d_layer *)layer;
    if (!dinput)
        return NN_OK;
    int64_t batch = input->shape.dims[0];
    NN_TRY(check_scratch(layer, exec, batch));
    if (exec->mask && reads_mask(layer)) {
        exec->backend->masked_mean_steps_backward(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                                                  exec->mask, batch, pool->geometry.in_width,
                                                  pool->geometry.channels);
        return NN_OK;
    }
    if (pool->kind == GLOBAL_AVERAGE) {
        average_backward(pool, exec, nn_tensor_f32(doutput), nn_tensor_f32(dinput), batch);
        return NN_OK;
    }
    const int32_t *argmax = argmax_for(pool, batch, exec->device);
    if (pool->argmax_batch != batch || !argmax)
        return nn_error(NN_ERR_STATE, "layer \"%s\": backward needs a forward in training on "
                        "the same batch first", layer->name);
    nn_pool2d_geometry g = pool->geometry;
    g.batch = (int)batch;
    if (pool->data_format == NN_CHANNELS_LAST) {
        exec->backend->maxpool2d_backward(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                                          argmax, &g);
        return NN_OK;
    }
    float *dinput_last = exec->scratch;
    exec->backend->maxpool2d_backward(dinput_last, nn_tensor_f32(doutput), argmax, &g);
    exec->backend->to_channels_first(nn_tensor_f32(dinput), dinput_last, batch, g.channels,
                                     (int64_t)cells(pool));
    return NN_OK;
}

static void global_pool2d_destroy(nn_layer *layer)
{
    global_pool2d_layer *pool = (global_pool2d_layer *)layer;
    nn_storage_release(pool->argmax);
    pool->argmax = NULL;
}

const nn_layer_class nn_global_average_pooling2d_class = {
    .name = "GlobalAveragePooling2D",
    .alias = "GlobalAvgPool2D",
    .base_name = "global_average_pooling2d",
    .doc = "The mean of each channel over the whole image: (batch, height, width, channels) "
           "becomes (batch, channels). Often replaces Flatten before the last Dense layers; "
           "has no weights.",
    .example = "print(nn.layers.GlobalAveragePooling2D()(nn.random.randn(2, 7, 7, 64)).shape)"
               "  --> (2, 64)",
    .size = sizeof(global_pool2d_layer),
    .args = global_pool2d_args,
    .arg_count = (int)(sizeof global_pool2d_args / sizeof global_pool2d_args[0]),
    .positional_count = 2,
    .set_defaults = average_set_defaults,
    .build = global_pool2d_build,
    .scratch_floats = global_pool2d_scratch_floats,
    .reserve = global_pool2d_reserve,
    .forward = global_pool2d_forward,
    .backward = global_pool2d_backward,
    .destroy = global_pool2d_destroy,
};

const nn_layer_class nn_global_max_pooling2d_class = {
    .name = "GlobalMaxPooling2D",
    .alias = "GlobalMaxPool2D",
    .base_name = "global_max_pooling2d",
    .doc = "The largest value of each channel over the whole image: (batch, height, width, "
           "channels) becomes (batch, channels); has no weights.",
    .example = "print(nn.layers.GlobalMaxPooling2D()(nn.random.randn(2, 7, 7, 64)).shape)"
               "  --> (2, 64)",
    .size = sizeof(global_pool2d_layer),
    .args = global_pool2d_args,
    .arg_count = (int)(sizeof global_pool2d_args / sizeof global_pool2d_args[0]),
    .positional_count = 2,
    .set_defaults = max_set_defaults,
    .build = global_pool2d_build,
    .scratch_floats = global_pool2d_scratch_floats,
    .reserve = global_pool2d_reserve,
    .forward = global_pool2d_forward,
    .backward = global_pool2d_backward,
    .destroy = global_pool2d_destroy,
};

const nn_layer_class nn_global_average_pooling1d_class = {
    .name = "GlobalAveragePooling1D",
    .alias = "GlobalAvgPool1D",
    .base_name = "global_average_pooling1d",
    .doc = "The mean of each channel over the whole sequence: (batch, steps, channels) "
           "becomes (batch, channels); has no weights. Under a mask over the steps (an "
           "Embedding with mask_zero=True, Masking) the mean of the kept steps only, 0 for a "
           "sample with none.",
    .example = "print(nn.layers.GlobalAveragePooling1D()(nn.random.randn(2, 100, 16)).shape)"
               "  --> (2, 16)",
    .size = sizeof(global_pool2d_layer),
    .args = global_pool1d_args,
    .arg_count = (int)(sizeof global_pool1d_args / sizeof global_pool1d_args[0]),
    .positional_count = 2,
    .set_defaults = average1d_set_defaults,
    .build = global_pool2d_build,
    .scratch_floats = global_pool2d_scratch_floats,
    .reserve = global_pool2d_reserve,
    .forward = global_pool2d_forward,
    .backward = global_pool2d_backward,
    .destroy = global_pool2d_destroy,
    .mask_use = global_pool_mask_use,
};

const nn_layer_class nn_global_max_pooling1d_class = {
    .name = "GlobalMaxPooling1D",
    .alias = "GlobalMaxPool1D",
    .base_name = "global_max_pooling1d",
    .doc = "The largest value of each channel over the whole sequence: (batch, steps, "
           "channels) becomes (batch, channels); has no weights.",
    .example = "print(nn.layers.GlobalMaxPooling1D()(nn.random.randn(2, 100, 16)).shape)"
               "  --> (2, 16)",
    .size = sizeof(global_pool2d_layer),
    .args = global_pool1d_args,
    .arg_count = (int)(sizeof global_pool1d_args / sizeof global_pool1d_args[0]),
    .positional_count = 2,
    .set_defaults = max1d_set_defaults,
    .build = global_pool2d_build,
    .scratch_floats = global_pool2d_scratch_floats,
    .reserve = global_pool2d_reserve,
    .forward = global_pool2d_forward,
    .backward = global_pool2d_backward,
    .destroy = global_pool2d_destroy,
};

const nn_layer_class nn_global_average_pooling3d_class = {
    .name = "GlobalAveragePooling3D",
    .alias = "GlobalAvgPool3D",
    .base_name = "global_average_pooling3d",
    .doc = "The mean of each channel over the whole volume: (batch, depth, height, width, "
           "channels) becomes (batch, channels); has no weights.",
    .example = "print(nn.layers.GlobalAveragePooling3D()(nn.random.randn(2, 4, 7, 7, 16)).shape)"
               "  --> (2, 16)",
    .size = sizeof(global_pool2d_layer),
    .args = global_pool3d_args,
    .arg_count = (int)(sizeof global_pool3d_args / sizeof global_pool3d_args[0]),
    .positional_count = 2,
    .set_defaults = average3d_set_defaults,
    .build = global_pool2d_build,
    .scratch_floats = global_pool2d_scratch_floats,
    .reserve = global_pool2d_reserve,
    .forward = global_pool2d_forward,
    .backward = global_pool2d_backward,
    .destroy = global_pool2d_destroy,
};

const nn_layer_class nn_global_max_pooling3d_class = {
    .name = "GlobalMaxPooling3D",
    .alias = "GlobalMaxPool3D",
    .base_name = "global_max_pooling3d",
    .doc = "The largest value of each channel over the whole volume: (batch, depth, height, "
           "width, channels) becomes (batch, channels); has no weights.",
    .example = "print(nn.layers.GlobalMaxPooling3D()(nn.random.randn(2, 4, 7, 7, 16)).shape)"
               "  --> (2, 16)",
    .size = sizeof(global_pool2d_layer),
    .args = global_pool3d_args,
    .arg_count = (int)(sizeof global_pool3d_args / sizeof global_pool3d_args[0]),
    .positional_count = 2,
    .set_defaults = max3d_set_defaults,
    .build = global_pool2d_build,
    .scratch_floats = global_pool2d_scratch_floats,
    .reserve = global_pool2d_reserve,
    .forward = global_pool2d_forward,
    .backward = global_pool2d_backward,
    .destroy = global_pool2d_destroy,
};
