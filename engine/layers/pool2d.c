/* MaxPooling2D and AveragePooling2D: the largest value, or the mean, of each pool_size
 * window, per channel, over the two spatial axes. Max pooling keeps where each maximum
 * came from for backward; average pooling counts only the cells inside the input (as
 * TensorFlow's 'same' padding does). MaxPooling1D and AveragePooling1D are the same
 * layers on one-row images: a sequence (batch, steps, channels) has the memory of
 * (batch, 1, steps, channels). */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "layers.h"

typedef struct maxpool2d_layer {
    nn_layer base;
    int pool_size[2];   /* (height, width) */
    int strides[2];     /* NN_PAIR_NONE: None, the same as pool_size */
    int padding;        /* NN_PADDING_VALID or NN_PADDING_SAME */
    int data_format;    /* NN_CHANNELS_LAST or NN_CHANNELS_FIRST */
    /* Sizes of one call, filled by build; batch is set per call. */
    nn_pool2d_geometry geometry;
    /* Flat index into the (channels-last) input of each output's winner, from the last
     * forward in training; sized by reserve, never inside forward. */
    nn_storage *argmax;     /* int32, on the device the layer ran on */
    int64_t argmax_batch;   /* batch of the forward that filled argmax; 0: none yet */
    bool average;           /* AveragePooling2D (set by its class's defaults) */
    bool sequence;          /* the 1-D classes: pool_size[0] is 1, strides_1d the strides */
    nn_optional_int strides_1d;
} maxpool2d_layer;

#define ARG(field) offsetof(maxpool2d_layer, field)

/* In Keras' constructor order, so that positional arguments mean what they mean there. */
static const nn_arg_spec maxpool2d_args[] = {
    {"pool_size", NN_ARG_PAIR, ARG(pool_size), false, 1, 1 << 30, false, NULL, "(2, 2)",
     "Height and width of the window to take the maximum over; one int means a square."},
    {"strides", NN_ARG_OPTIONAL_PAIR, ARG(strides), false, 1, 1 << 30, false, NULL, "None",
     "Step of the window along the height and the width; None means pool_size (windows "
     "side by side, not overlapping)."},
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, nn_padding_choices,
     "'valid'",
     "'valid': windows stay inside the input; 'same': the input is padded so that the "
     "output has ceil(input / strides) cells (padded cells never win the maximum)."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, height, width, channels) or 'channels_first' (batch, "
     "channels, height, width)."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'max_pooling2d', 'max_pooling2d_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static const nn_arg_spec avgpool2d_args[] = {
    {"pool_size", NN_ARG_PAIR, ARG(pool_size), false, 1, 1 << 30, false, NULL, "(2, 2)",
     "Height and width of the window to average over; one int means a square."},
    {"strides", NN_ARG_OPTIONAL_PAIR, ARG(strides), false, 1, 1 << 30, false, NULL, "None",
     "Step of the window along the height and the width; None means pool_size (windows "
     "side by side, not overlapping)."},
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, nn_padding_choices,
     "'valid'",
     "'valid': windows stay inside the input; 'same': the input is padded so that the "
     "output has ceil(input / strides) cells (padded cells are not counted in the mean)."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, height, width, channels) or 'channels_first' (batch, "
     "channels, height, width)."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'average_pooling2d', 'average_pooling2d_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

#define POOL1D_ARGS(what, base_name)                                                       \
    {"pool_size", NN_ARG_INT, ARG(pool_size[1]), false, 1, 1 << 30, false, NULL, "2",       \
     "Length of the window to take the " what " over, in steps."},                          \
    {"strides", NN_ARG_OPTIONAL_INT, ARG(strides_1d), false, 1, 1 << 30, false, NULL, "None", \
     "Step of the window along the sequence; None means pool_size."},                        \
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, nn_padding_choices,        \
     "'valid'", "'valid': windows stay inside the sequence; 'same': ceil(steps / strides) "  \
     "outputs."},                                                                            \
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,                    \
     nn_data_format_choices, "'channels_last'",                                             \
     "'channels_last' (batch, steps, channels) or 'channels_first' (batch, channels, "      \
     "steps)."},                                                                             \
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",               \
     "Name of the layer; by default '" base_name "', '" base_name "_1', ..."},              \
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL, \
     "None", "Shape of one input sample (without the batch axis), e.g. {100, 8}."}

static const nn_arg_spec maxpool1d_args[] = {POOL1D_ARGS("maximum", "max_pooling1d")};
static const nn_arg_spec avgpool1d_args[] = {POOL1D_ARGS("mean", "average_pooling1d")};

/* argmax holds int32 flat indices into a whole batch of input. */
static const int64_t INDEX_LIMIT = INT32_MAX;

static void maxpool2d_set_defaults(nn_layer *layer)
{
    maxpool2d_layer *pool = (maxpool2d_layer *)layer;
    pool->pool_size[0] = pool->pool_size[1] = 2;
    pool->strides[0] = pool->strides[1] = NN_PAIR_NONE;
    pool->padding = NN_PADDING_VALID;
    pool->data_format = NN_CHANNELS_LAST;
}

static void avgpool2d_set_defaults(nn_layer *layer)
{
    maxpool2d_set_defaults(layer);
    ((maxpool2d_layer *)layer)->average = true;
}

static void maxpool1d_set_defaults(nn_layer *layer)
{
    maxpool2d_layer *pool = (maxpool2d_layer *)layer;
    maxpool2d_set_defaults(layer);
    pool->pool_size[0] = 1;
    pool->sequence = true;
}

static void avgpool1d_set_defaults(nn_layer *layer)
{
    maxpool1d_set_defaults(layer);
    ((maxpool2d_layer *)layer)->average = true;
}


/* Strides as used: None stands for pool_size. */
static void effective_strides(const maxpool2d_layer *pool, int strides[2])
{
    if (pool->sequence) {
        strides[0] = 1;
        strides[1] = pool->strides_1d.present ? (int)pool->strides_1d.value : pool->pool_size[1];
        return;
    }
    bool none = nn_pair_is_none(pool->strides);
    strides[0] = none ? pool->pool_size[0] : pool->strides[0];
    strides[1] = none ? pool->pool_size[1] : pool->strides[1];
}

static nn_status maxpool2d_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    maxpool2d_layer *pool = (maxpool2d_layer *)layer;
    char received[128];
    nn_shape_format(input, received, sizeof received);
    int64_t height, width, channels;
    bool last = pool->data_format == NN_CHANNELS_LAST;
    NN_TRY((pool->sequence ? nn_sequence_input : nn_image_input)(
        layer, input, pool->data_format, &height, &width, &channels));
    int strides[2];
    effective_strides(pool, strides);

    char height_text[160], width_text[160];
    int64_t pad_top, pad_left;
    int64_t out_height = nn_window_output(height, pool->pool_size[0], strides[0], 1,
                                          pool->padding, &pad_top, height_text,
                                          sizeof height_text);
    int64_t out_width = nn_window_output(width, pool->pool_size[1], strides[1], 1,
                                         pool->padding, &pad_left, width_text,
                                         sizeof width_text);
    if (pool->sequence && out_width <= 0)
        return nn_error(NN_ERR_SHAPE,
                        "The output length is <= 0 in %s: pool_size=%d is longer than the "
                        "input %s with padding='valid' (steps: %s). Consider a longer input "
                        "or padding='same'.",
                        layer->name, pool->pool_size[1], received, width_text);
    if (out_height <= 0 || out_width <= 0)
        return nn_error(NN_ERR_SHAPE,
                        "One of the dimensions in the output is <= 0 due to downsampling in "
                        "%s: pool_size=(%d, %d) is larger than the input %s with "
                        "padding='valid' (height: %s; width: %s). Consider increasing the "
                        "input size or using padding='same'.",
                        layer->name, pool->pool_size[0], pool->pool_size[1], received,
                        height_text, width_text);
    if (height * width > INDEX_LIMIT / channels)
        return nn_error(NN_ERR_MEMORY,
                        "one sample of input %s has more than %lld elements, "
                        "the most pooling supports",
                        received, (long long)INDEX_LIMIT);

    if (pool->sequence)
        *output = last ? NN_SHAPE(-1, out_width, channels) : NN_SHAPE(-1, channels, out_width);
    else
        *output = last ? NN_SHAPE(-1, out_height, out_width, channels)
                       : NN_SHAPE(-1, channels, out_height, out_width);
    pool->geometry = (nn_pool2d_geometry){
        .batch = 0,
        .in_height = (int)height,
        .in_width = (int)width,
        .channels = (int)channels,
        .out_height = (int)out_height,
        .out_width = (int)out_width,
        .pool_height = pool->pool_size[0],
        .pool_width = pool->pool_size[1],
        .stride_height = strides[0],
        .stride_width = strides[1],
        .pad_top = (int)pad_top,
        .pad_left = (int)pad_left,
    };
    if (pool->sequence)
        snprintf(layer->explanation, sizeof layer->explanation,
                 "steps: %s; channels: unchanged = %lld", width_text, (long long)channels);
    else
        snprintf(layer->explanation, sizeof layer->explanation,
                 "height: %s; width: %s; channels: unchanged = %lld", height_text, width_text,
                 (long long)channels);
    return NN_OK;
}

static size_t input_floats(const maxpool2d_layer *pool, int64_t batch)
{
    const nn_pool2d_geometry *g = &pool->geometry;
    return (size_t)batch * (size_t)g->in_height * (size_t)g->in_width * (size_t)g->channels;
}

static size_t output_floats(const maxpool2d_layer *pool, int64_t batch)
{
    const nn_pool2d_geometry *g = &pool->geometry;
    return (size_t)batch * (size_t)g->out_height * (size_t)g->out_width * (size_t)g->channels;
}

/* The winners of the last forward in training, if the buffer fits the batch on the
 * device (NULL otherwise: not reserved). */
static int32_t *argmax_for(const maxpool2d_layer *pool, int64_t batch, nn_device device)
{
    return nn_layer_buffer_reserved(pool->argmax, device,
                                    output_floats(pool, batch) * sizeof(int32_t));
}

static size_t maxpool2d_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                       int64_t batch)
{
    (void)backend;
    const maxpool2d_layer *pool = (const maxpool2d_layer *)layer;
    /* channels_first works on channels-last copies of input and output (forward) or of
     * their gradients (backward). */
    if (pool->data_format == NN_CHANNELS_LAST)
        return 0;
    return (input_floats(pool, batch) + 15) / 16 * 16 + output_floats(pool, batch);
}

static nn_status maxpool2d_reserve(nn_layer *layer, nn_device device, int64_t batch)
{
    maxpool2d_layer *pool = (maxpool2d_layer *)layer;
    if (!layer->built)
        return NN_OK; /* nothing to size yet */
    if (batch > INDEX_LIMIT / (int64_t)input_floats(pool, 1))
        return nn_error(NN_ERR_MEMORY,
                        "layer \"%s\": a batch of %lld inputs of %zu elements is more than "
                        "the %lld elements pooling can index",
                        layer->name, (long long)batch, input_floats(pool, 1),
                        (long long)INDEX_LIMIT);
    if (pool->average)
        return NN_OK; /* no winners to keep */
    return nn_layer_buffer_reserve(&pool->argmax, device,
                                   output_floats(pool, batch) * sizeof(int32_t), layer);
}

/* The pooling of the layer's kind over channels-last data. */
static void pool_forward(const maxpool2d_layer *pool, const nn_backend *backend, float *out,
                         int32_t *argmax, const float *inp, const nn_pool2d_geometry *g)
{
    if (pool->average)
        backend->avgpool2d_forward(out, inp, g);
    else
        backend->maxpool2d_forward(out, argmax, inp, g);
}

static void pool_backward(const maxpool2d_layer *pool, const nn_backend *backend, float *dinp,
                          const float *dout, const int32_t *argmax, const float *relu_out,
                          const nn_pool2d_geometry *g)
{
    if (pool->average)
        backend->avgpool2d_backward(dinp, dout, g);
    else if (relu_out)
        backend->maxpool2d_backward_relu(dinp, dout, argmax, relu_out, g);
    else
        backend->maxpool2d_backward(dinp, dout, argmax, g);
}

static nn_status maxpool2d_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                   nn_tensor *output)
{
    maxpool2d_layer *pool = (maxpool2d_layer *)layer;
    int64_t batch = input->shape.dims[0];
    /* Max pooling keeps its winners in training; average pooling has none to keep. */
    bool keeps_winners = exec->training && !pool->average;
    if (keeps_winners && !argmax_for(pool, batch, exec->device))
        return nn_error(NN_ERR_STATE, "layer \"%s\" was reserved for fewer than %lld "
                        "samples or another device; call nn_layer_reserve before training",
                        layer->name, (long long)batch);
    size_t scratch = maxpool2d_scratch_floats(layer, exec->backend, batch);
    if (exec->scratch_floats < scratch)
        return nn_error(NN_ERR_STATE, "layer \"%s\" needs %zu floats of scratch, the caller "
                        "gave %zu", layer->name, scratch, exec->scratch_floats);
    nn_pool2d_geometry g = pool->geometry;
    g.batch = (int)batch;
    /* Inference needs no winners; backward only follows a forward in training. */
    int32_t *argmax = keeps_winners ? argmax_for(pool, batch, exec->device) : NULL;
    if (keeps_winners)
        pool->argmax_batch = batch;
    if (pool->data_format == NN_CHANNELS_LAST) {
        pool_forward(pool, exec->backend, nn_tensor_f32(output), argmax, nn_tensor_f32(input),
                     &g);
        return NN_OK;
    }
    float *input_last = exec->scratch;
    float *output_last = input_last + (input_floats(pool, batch) + 15) / 16 * 16;
    exec->backend->to_channels_last(input_last, nn_tensor_f32(input), batch, g.channels,
                                    (int64_t)g.in_height * g.in_width);
    pool_forward(pool, exec->backend, output_last, argmax, input_last, &g);
    exec->backend->to_channels_first(nn_tensor_f32(output), output_last, batch, g.channels,
                                     (int64_t)g.out_height * g.out_width);
    return NN_OK;
}

static nn_status maxpool2d_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                    const nn_tensor *output, const nn_tensor *doutput,
                                    nn_tensor *dinput)
{
    maxpool2d_layer *pool = (maxpool2d_layer *)layer;
    if (!dinput)
        return NN_OK;
    int64_t batch = input->shape.dims[0];
    const int32_t *argmax = pool->average ? NULL : argmax_for(pool, batch, exec->device);
    if (!pool->average && (pool->argmax_batch != batch || !argmax))
        return nn_error(NN_ERR_STATE, "layer \"%s\": backward needs a forward in training "
                        "on the same batch first", layer->name);
    size_t scratch = maxpool2d_scratch_floats(layer, exec->backend, batch);
    if (exec->scratch_floats < scratch)
        return nn_error(NN_ERR_STATE, "layer \"%s\" needs %zu floats of scratch, the caller "
                        "gave %zu", layer->name, scratch, exec->scratch_floats);
    nn_pool2d_geometry g = pool->geometry;
    g.batch = (int)batch;
    if (pool->data_format == NN_CHANNELS_LAST) {
        pool_backward(pool, exec->backend, nn_tensor_f32(dinput), nn_tensor_f32(doutput), argmax,
                      layer->applies_input_relu ? nn_tensor_f32(output) : NULL, &g);
        return NN_OK;
    }
    /* The winners index the channels-last copy of the input, so the gradients make the
     * same round trip (average pooling's too, to share the kernel). */
    float *dinput_last = exec->scratch;
    float *doutput_last = dinput_last + (input_floats(pool, batch) + 15) / 16 * 16;
    exec->backend->to_channels_last(doutput_last, nn_tensor_f32(doutput), batch, g.channels,
                                    (int64_t)g.out_height * g.out_width);
    pool_backward(pool, exec->backend, dinput_last, doutput_last, argmax, NULL, &g);
    exec->backend->to_channels_first(nn_tensor_f32(dinput), dinput_last, batch, g.channels,
                                     (int64_t)g.in_height * g.in_width);
    return NN_OK;
}

static bool maxpool2d_prepare_pooling(nn_layer *layer, nn_exec *exec, int64_t batch,
                                      nn_pool2d_geometry *geometry, int32_t **argmax)
{
    maxpool2d_layer *pool = (maxpool2d_layer *)layer;
    /* The layer's own forward reports a missing reserve. */
    if (pool->data_format != NN_CHANNELS_LAST ||
        (exec->training && !argmax_for(pool, batch, exec->device)))
        return false;
    *geometry = pool->geometry;
    geometry->batch = (int)batch;
    *argmax = exec->training ? argmax_for(pool, batch, exec->device) : NULL;
    if (exec->training)
        pool->argmax_batch = batch;
    return true;
}

/* Channels-last only: the channels-first path pools a transposed copy. */
static bool maxpool2d_can_apply_input_relu(const nn_layer *layer)
{
    return ((const maxpool2d_layer *)layer)->data_format == NN_CHANNELS_LAST;
}

static void maxpool2d_destroy(nn_layer *layer)
{
    maxpool2d_layer *pool = (maxpool2d_layer *)layer;
    nn_storage_release(pool->argmax);
    pool->argmax = NULL;
}

const nn_layer_class nn_maxpool2d_class = {
    .name = "MaxPooling2D",
    .alias = "MaxPool2D",
    .base_name = "max_pooling2d",
    .doc = "Max pooling over the height and width: each output cell is the largest input "
           "value in its pool_size window, channel by channel. Halves each spatial size "
           "with the default 2×2 pool; has no weights.",
    .example = "local x = nn.arange(64):reshape(1, 8, 8, 1)\n"
               "print(nn.layers.MaxPool2D{{2, 2}}(x):reshape(4, 4))\n"
               "--> 9 11 13 15 / 25 27 29 31 / 41 43 45 47 / 57 59 61 63",
    .size = sizeof(maxpool2d_layer),
    .args = maxpool2d_args,
    .arg_count = (int)(sizeof maxpool2d_args / sizeof maxpool2d_args[0]),
    .positional_count = 4,
    .set_defaults = maxpool2d_set_defaults,
    .build = maxpool2d_build,
    .scratch_floats = maxpool2d_scratch_floats,
    .reserve = maxpool2d_reserve,
    .forward = maxpool2d_forward,
    .backward = maxpool2d_backward,
    .destroy = maxpool2d_destroy,
    .prepare_pooling = maxpool2d_prepare_pooling,
    .can_apply_input_relu = maxpool2d_can_apply_input_relu,
};

const nn_layer_class nn_avgpool2d_class = {
    .name = "AveragePooling2D",
    .alias = "AvgPool2D",
    .base_name = "average_pooling2d",
    .doc = "Average pooling over the height and width: each output cell is the mean of the "
           "input values in its pool_size window, channel by channel (with padding='same' "
           "only the cells inside the input count). Halves each spatial size with the "
           "default 2×2 pool; has no weights.",
    .example = "local x = nn.arange(16):reshape(1, 4, 4, 1)\n"
               "print(nn.layers.AveragePooling2D{{2, 2}}(x):reshape(2, 2))\n"
               "--> 2.5 4.5 / 10.5 12.5",
    .size = sizeof(maxpool2d_layer),
    .args = avgpool2d_args,
    .arg_count = (int)(sizeof avgpool2d_args / sizeof avgpool2d_args[0]),
    .positional_count = 4,
    .set_defaults = avgpool2d_set_defaults,
    .build = maxpool2d_build,
    .scratch_floats = maxpool2d_scratch_floats,
    .reserve = maxpool2d_reserve,
    .forward = maxpool2d_forward,
    .backward = maxpool2d_backward,
    .destroy = maxpool2d_destroy,
};

const nn_layer_class nn_maxpool1d_class = {
    .name = "MaxPooling1D",
    .alias = "MaxPool1D",
    .base_name = "max_pooling1d",
    .doc = "Max pooling along a sequence: each output step is the largest input value in "
           "its pool_size window, channel by channel. Halves the length with the default "
           "pool of 2; has no weights.",
    .example = "print(nn.layers.MaxPool1D{2}(nn.arange(8):reshape(1, 8, 1)):reshape(4))\n"
               "--> 1 3 5 7",
    .size = sizeof(maxpool2d_layer),
    .args = maxpool1d_args,
    .arg_count = (int)(sizeof maxpool1d_args / sizeof maxpool1d_args[0]),
    .positional_count = 4,
    .set_defaults = maxpool1d_set_defaults,
    .build = maxpool2d_build,
    .scratch_floats = maxpool2d_scratch_floats,
    .reserve = maxpool2d_reserve,
    .forward = maxpool2d_forward,
    .backward = maxpool2d_backward,
    .destroy = maxpool2d_destroy,
    .prepare_pooling = maxpool2d_prepare_pooling,
    .can_apply_input_relu = maxpool2d_can_apply_input_relu,
};

const nn_layer_class nn_avgpool1d_class = {
    .name = "AveragePooling1D",
    .alias = "AvgPool1D",
    .base_name = "average_pooling1d",
    .doc = "Average pooling along a sequence: each output step is the mean of the input "
           "values in its pool_size window, channel by channel (with padding='same' only the "
           "steps inside the input count); has no weights.",
    .example = "print(nn.layers.AvgPool1D{2}(nn.arange(8):reshape(1, 8, 1)):reshape(4))\n"
               "--> 0.5 2.5 4.5 6.5",
    .size = sizeof(maxpool2d_layer),
    .args = avgpool1d_args,
    .arg_count = (int)(sizeof avgpool1d_args / sizeof avgpool1d_args[0]),
    .positional_count = 4,
    .set_defaults = avgpool1d_set_defaults,
    .build = maxpool2d_build,
    .scratch_floats = maxpool2d_scratch_floats,
    .reserve = maxpool2d_reserve,
    .forward = maxpool2d_forward,
    .backward = maxpool2d_backward,
    .destroy = maxpool2d_destroy,
};
