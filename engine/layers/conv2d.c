/* Conv2D: output = activation(conv2d(input, kernel) + bias) over two spatial axes, with
 * Keras' arguments (strides, 'valid'/'same' padding, dilation, groups, data_format).
 *
 * DepthwiseConv2D is the same layer with one group per input channel: each channel is
 * convolved with its own depth_multiplier filters. Its depthwise_kernel
 * (kh, kw, channels, depth_multiplier) has the memory layout of the grouped kernel
 * (kh, kw, 1, channels · depth_multiplier), output channel c · depth_multiplier + m
 * coming from input channel c, as Keras orders them.
 *
 * Conv1D is the same layer on images one row high: a sequence (batch, steps, channels)
 * has the memory of (batch, 1, steps, channels), and its kernel (k, channels, filters)
 * that of (1, k, channels, filters). Its 'causal' padding puts all the padding before the
 * first step, so no output sees a later step. DepthwiseConv1D is DepthwiseConv2D on such
 * one-row images: its kernel (k, channels, depth_multiplier) has the memory of
 * (1, k, channels, depth_multiplier). */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "arg_check.h"
#include "layers.h"

typedef struct conv2d_layer {
    nn_layer base;
    int filters;
    int kernel_size[2];   /* (height, width) */
    int strides[2];
    int padding;          /* NN_PADDING_VALID, NN_PADDING_SAME or (Conv1D) PADDING_CAUSAL */
    int data_format;      /* NN_CHANNELS_LAST or NN_CHANNELS_FIRST */
    int dilation_rate[2];
    int groups;
    int depth_multiplier; /* DepthwiseConv2D; filters and groups follow from it in build */
    bool use_bias;
    nn_initializer kernel_initializer, bias_initializer;
    nn_regularizer kernel_regularizer, bias_regularizer;
    nn_constraint kernel_constraint, bias_constraint;
    /* Sizes of one call, filled by build; batch is set per call. */
    nn_conv2d_geometry geometry;
} conv2d_layer;

#define ARG(field) offsetof(conv2d_layer, field)

/* In Keras' constructor order, so that positional arguments mean what they mean there. */
static const nn_arg_spec conv2d_args[] = {
    {"filters", NN_ARG_INT, ARG(filters), true, 1, 1 << 30, false, NULL, NULL,
     "Number of output channels: how many filters the input is convolved with."},
    {"kernel_size", NN_ARG_PAIR, ARG(kernel_size), true, 1, 1 << 30, false, NULL, NULL,
     "Height and width of the convolution window; one int means a square window."},
    {"strides", NN_ARG_PAIR, ARG(strides), false, 1, 1 << 30, false, NULL, "(1, 1)",
     "Step of the window along the height and the width. Cannot be combined with a "
     "dilation_rate other than 1."},
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, nn_padding_choices,
     "'valid'",
     "'valid': no padding, the window stays inside the input; 'same': zeros around the "
     "input so that the output has ceil(input / strides) cells along each axis."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, height, width, channels) or 'channels_first' (batch, "
     "channels, height, width)."},
    {"dilation_rate", NN_ARG_PAIR, ARG(dilation_rate), false, 1, 1 << 30, false, NULL,
     "(1, 1)",
     "Spacing between the kernel's taps (atrous convolution): a kernel of size k covers "
     "k + (k - 1)(d - 1) cells."},
    {"groups", NN_ARG_INT, ARG(groups), false, 1, 1 << 30, false, NULL, "1",
     "Number of groups the input channels are split into, each convolved with its own "
     "filters / groups filters; input channels and filters must both be divisible by it."},
    NN_CONV_WEIGHT_ARGS("Initializer for the convolution kernel."),
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'conv2d', 'conv2d_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer, "
             "e.g. {28, 28, 1}."},
};

enum { PADDING_CAUSAL = 2 };
static const char *const conv1d_padding_choices[] = {"valid", "same", "causal", NULL};

/* In Keras' constructor order. The sizes are the second entry of the 2-D pairs, whose
 * first (the height of a one-row image) stays 1. */
static const nn_arg_spec conv1d_args[] = {
    {"filters", NN_ARG_INT, ARG(filters), true, 1, 1 << 30, false, NULL, NULL,
     "Number of output channels: how many filters the sequence is convolved with."},
    {"kernel_size", NN_ARG_INT, ARG(kernel_size[1]), true, 1, 1 << 30, false, NULL, NULL,
     "Length of the convolution window, in steps."},
    {"strides", NN_ARG_INT, ARG(strides[1]), false, 1, 1 << 30, false, NULL, "1",
     "Step of the window along the sequence. Cannot be combined with a dilation_rate "
     "other than 1."},
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, conv1d_padding_choices,
     "'valid'",
     "'valid': no padding; 'same': ceil(steps / strides) outputs; 'causal': all the padding "
     "before the first step, so output t sees steps up to t only (for models of time)."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, steps, channels) or 'channels_first' (batch, channels, steps)."},
    {"dilation_rate", NN_ARG_INT, ARG(dilation_rate[1]), false, 1, 1 << 30, false, NULL, "1",
     "Spacing between the kernel's taps: a kernel of size k covers k + (k - 1)(d - 1) steps."},
    {"groups", NN_ARG_INT, ARG(groups), false, 1, 1 << 30, false, NULL, "1",
     "Number of groups the input channels are split into, each convolved with its own "
     "filters / groups filters."},
    NN_CONV_WEIGHT_ARGS("Initializer for the kernel, of shape (kernel_size, "
                        "channels / groups, filters)."),
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'conv1d', 'conv1d_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), e.g. {100, 8}."},
};

/* What DepthwiseConv2D and DepthwiseConv1D take after dilation_rate, in Keras' order. */
#define DEPTHWISE_WEIGHT_ARGS                                                                  \
    {"activation", NN_ARG_ACTIVATION, ARG(base.activation), false, 0, 0, false, NULL, "None",  \
     "Activation function applied to the output; None means linear."},                         \
    {"use_bias", NN_ARG_BOOL, ARG(use_bias), false, 0, 1, false, NULL, "True",                 \
     "Whether the layer adds a bias vector (one value per output channel)."},                  \
    {"depthwise_initializer", NN_ARG_INITIALIZER, ARG(kernel_initializer), false, 0, 0, false, \
     NULL, "'glorot_uniform'", "Initializer for the depthwise kernel."},                       \
    {"bias_initializer", NN_ARG_INITIALIZER, ARG(bias_initializer), false, 0, 0, false, NULL,  \
     "'zeros'", "Initializer for the bias vector."},                                           \
    {"depthwise_regularizer", NN_ARG_REGULARIZER, ARG(kernel_regularizer), false, 0, 0, false, \
     NULL, "None", "Regularizer function applied to the depthwise kernel."},                   \
    {"bias_regularizer", NN_ARG_REGULARIZER, ARG(bias_regularizer), false, 0, 0, false, NULL,  \
     "None", "Regularizer function applied to the bias vector."},                              \
    {"activity_regularizer", NN_ARG_REGULARIZER, ARG(base.activity_regularizer), false, 0, 0,  \
     false, NULL, "None", NN_ACTIVITY_REGULARIZER_DOC},                                        \
    {"depthwise_constraint", NN_ARG_CONSTRAINT, ARG(kernel_constraint), false, 0, 0, false,    \
     NULL, "None", "Constraint function applied to the depthwise kernel after each update."},  \
    {"bias_constraint", NN_ARG_CONSTRAINT, ARG(bias_constraint), false, 0, 0, false, NULL,     \
     "None", "Constraint function applied to the bias vector after each update."}

/* In Keras' constructor order. */
static const nn_arg_spec depthwise_conv2d_args[] = {
    {"kernel_size", NN_ARG_PAIR, ARG(kernel_size), true, 1, 1 << 30, false, NULL, NULL,
     "Height and width of each channel's window; one int means a square window."},
    {"strides", NN_ARG_PAIR, ARG(strides), false, 1, 1 << 30, false, NULL, "(1, 1)",
     "Step of the window along the height and the width."},
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, nn_padding_choices,
     "'valid'", "'valid': no padding; 'same': ceil(input / strides) cells along each axis."},
    {"depth_multiplier", NN_ARG_INT, ARG(depth_multiplier), false, 1, 1 << 20, false, NULL,
     "1", "Filters per input channel: the output has channels * depth_multiplier channels."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, height, width, channels) or 'channels_first' (batch, "
     "channels, height, width)."},
    {"dilation_rate", NN_ARG_PAIR, ARG(dilation_rate), false, 1, 1 << 30, false, NULL,
     "(1, 1)", "Spacing between the kernel's taps; cannot be combined with strides > 1."},
    DEPTHWISE_WEIGHT_ARGS,
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'depthwise_conv2d', 'depthwise_conv2d_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

/* In Keras' constructor order; the sizes are the 2-D pairs' second entries, as Conv1D's. */
static const nn_arg_spec depthwise_conv1d_args[] = {
    {"kernel_size", NN_ARG_INT, ARG(kernel_size[1]), true, 1, 1 << 30, false, NULL, NULL,
     "Length of each channel's window, in steps."},
    {"strides", NN_ARG_INT, ARG(strides[1]), false, 1, 1 << 30, false, NULL, "1",
     "Step of the window along the sequence."},
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, nn_padding_choices,
     "'valid'", "'valid': no padding; 'same': ceil(steps / strides) outputs."},
    {"depth_multiplier", NN_ARG_INT, ARG(depth_multiplier), false, 1, 1 << 20, false, NULL,
     "1", "Filters per input channel: the output has channels * depth_multiplier channels."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, steps, channels) or 'channels_first' (batch, channels, steps)."},
    {"dilation_rate", NN_ARG_INT, ARG(dilation_rate[1]), false, 1, 1 << 30, false, NULL, "1",
     "Spacing between the kernel's taps; cannot be combined with strides > 1."},
    DEPTHWISE_WEIGHT_ARGS,
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'depthwise_conv1d', 'depthwise_conv1d_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), e.g. {100, 8}."},
};

/* Every count the kernels index with an int (BLAS sizes, leading dimensions) stays
 * below this. */
static const int64_t SIZE_LIMIT = INT_MAX;

static void conv2d_set_defaults(nn_layer *layer)
{
    conv2d_layer *conv = (conv2d_layer *)layer;
    conv->strides[0] = conv->strides[1] = 1;
    conv->dilation_rate[0] = conv->dilation_rate[1] = 1;
    conv->groups = 1;
    conv->padding = NN_PADDING_VALID;
    conv->data_format = NN_CHANNELS_LAST;
    conv->use_bias = true;
    conv->kernel_initializer = nn_initializer_default(NN_INITIALIZER_GLOROT_UNIFORM);
    conv->bias_initializer = nn_initializer_default(NN_INITIALIZER_ZEROS);
}

static void conv1d_set_defaults(nn_layer *layer)
{
    conv2d_set_defaults(layer);
    ((conv2d_layer *)layer)->kernel_size[0] = 1;
}

static void depthwise_conv2d_set_defaults(nn_layer *layer)
{
    conv2d_set_defaults(layer);
    ((conv2d_layer *)layer)->depth_multiplier = 1;
}

static void depthwise_conv1d_set_defaults(nn_layer *layer)
{
    depthwise_conv2d_set_defaults(layer);
    ((conv2d_layer *)layer)->kernel_size[0] = 1;
}

/* Conv1D and DepthwiseConv1D: sequences, seen as images one row high. */
static bool is_sequence(const nn_layer *layer)
{
    return layer->cls == &nn_conv1d_class || layer->cls == &nn_depthwise_conv1d_class;
}

/* DepthwiseConv2D and DepthwiseConv1D: one group per input channel. */
static bool is_depthwise(const nn_layer *layer)
{
    return layer->cls == &nn_depthwise_conv2d_class || layer->cls == &nn_depthwise_conv1d_class;
}

static nn_status conv2d_validate(nn_layer *layer)
{
    conv2d_layer *conv = (conv2d_layer *)layer;
    bool sequence = is_sequence(layer);
    if (conv->filters % conv->groups != 0)
        return nn_error(NN_ERR_ARGUMENT,
                        "%s \"%s\": the number of filters must be evenly divisible by "
                        "the number of groups. Received: groups=%d, filters=%d.",
                        layer->cls->name, layer->name, conv->groups, conv->filters);
    return nn_check_strides_or_dilation(layer, conv->strides, conv->dilation_rate, 2, sequence);
}

/* *product = a * b for non-negative a and b; false when it passes SIZE_LIMIT. */
static bool multiply_within_limit(int64_t a, int64_t b, int64_t *product)
{
    if (a != 0 && b > SIZE_LIMIT / a)
        return false;
    *product = a * b;
    return true;
}

static bool product_within_limit(const int64_t *factors, int count, int64_t *product)
{
    int64_t total = 1;
    for (int i = 0; i < count; i++)
        if (!multiply_within_limit(total, factors[i], &total))
            return false;
    *product = total;
    return true;
}

static nn_status conv2d_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    conv2d_layer *conv = (conv2d_layer *)layer;
    char received[128];
    nn_shape_format(input, received, sizeof received);
    int64_t height, width, channels;
    bool last = conv->data_format == NN_CHANNELS_LAST;
    bool sequence = is_sequence(layer);
    NN_TRY((sequence ? nn_sequence_input : nn_image_input)(layer, input, conv->data_format,
                                                           &height, &width, &channels));
    bool depthwise = is_depthwise(layer);
    if (depthwise) {
        if (channels * conv->depth_multiplier > (1 << 30))
            return nn_error(NN_ERR_SHAPE, "input %s with depth_multiplier %d gives %lld output "
                            "channels; at most %d are supported", received,
                            conv->depth_multiplier,
                            (long long)(channels * conv->depth_multiplier), 1 << 30);
        conv->groups = (int)channels;
        conv->filters = (int)channels * conv->depth_multiplier;
    }
    if (channels % conv->groups != 0)
        return nn_error(NN_ERR_SHAPE,
                        "Input 0 of layer \"%s\": the number of input channels must be "
                        "evenly divisible by the number of groups. Received groups=%d, but "
                        "the input has %lld channels (full input shape is %s).",
                        layer->name, conv->groups, (long long)channels, received);

    char height_text[160], width_text[160];
    int64_t pad_top, pad_left;
    int64_t out_height = nn_window_output(height, conv->kernel_size[0], conv->strides[0],
                                          conv->dilation_rate[0], conv->padding, &pad_top,
                                          height_text, sizeof height_text);
    int64_t out_width;
    if (conv->padding == PADDING_CAUSAL) {
        /* Keras pads (k - 1)·d steps before the sequence, none after, then convolves
         * 'valid'. */
        int64_t extent = (int64_t)(conv->kernel_size[1] - 1) * conv->dilation_rate[1] + 1;
        pad_left = extent - 1;
        out_width = (width + pad_left - extent) / conv->strides[1] + 1;
        snprintf(width_text, sizeof width_text,
                 "causal: %lld steps of padding before; floor((%lld + %lld - %lld) / %d) + 1 = "
                 "%lld", (long long)pad_left, (long long)width, (long long)pad_left,
                 (long long)extent, conv->strides[1], (long long)out_width);
    } else {
        out_width = nn_window_output(width, conv->kernel_size[1], conv->strides[1],
                                     conv->dilation_rate[1], conv->padding, &pad_left,
                                     width_text, sizeof width_text);
    }
    const char *padding_name =
        sequence ? conv1d_padding_choices[conv->padding] : nn_padding_choices[conv->padding];
    if (sequence && out_width <= 0)
        return nn_error(NN_ERR_SHAPE,
                        "The output length is <= 0 in %s. Consider a longer input. Received "
                        "input shape %s with kernel_size=%d, strides=%d, dilation_rate=%d, "
                        "padding='%s': the window does not fit (steps: %s).",
                        layer->name, received, conv->kernel_size[1], conv->strides[1],
                        conv->dilation_rate[1], padding_name, width_text);
    if (out_height <= 0 || out_width <= 0)
        return nn_error(NN_ERR_SHAPE,
                        "One of the dimensions in the output is <= 0 due to downsampling in "
                        "%s. Consider increasing the input size. Received input shape %s "
                        "with kernel_size=(%d, %d), strides=(%d, %d), dilation_rate=(%d, %d), "
                        "padding='%s': the window does not fit (height: %s; width: %s).",
                        layer->name, received, conv->kernel_size[0], conv->kernel_size[1],
                        conv->strides[0], conv->strides[1], conv->dilation_rate[0],
                        conv->dilation_rate[1], padding_name, height_text, width_text);

    /* The kernels index one sample's input and output, the kernel and one im2col row
     * with ints; refuse sizes past that before anything is allocated. */
    int64_t group_channels = channels / conv->groups;
    int64_t kernel_count, input_count, output_count;
    int64_t kernel_factors[] = {conv->kernel_size[0], conv->kernel_size[1], group_channels,
                                conv->filters};
    int64_t input_factors[] = {height, width, channels};
    int64_t output_factors[] = {out_height, out_width, conv->filters};
    /* Keras' shapes: (k, channels / groups, filters) for a sequence, with the height in
     * front for images; a depthwise kernel ends in (channels, depth_multiplier). */
    int64_t kernel_in = depthwise ? channels : group_channels;
    int64_t kernel_out = depthwise ? conv->depth_multiplier : conv->filters;
    nn_shape kernel_shape =
        sequence ? NN_SHAPE(conv->kernel_size[1], kernel_in, kernel_out)
                 : NN_SHAPE(conv->kernel_size[0], conv->kernel_size[1], kernel_in, kernel_out);
    char kernel_text[96], output_text[96], kernel_size[32], dilation[32];
    nn_shape_format(&kernel_shape, kernel_text, sizeof kernel_text);
    if (sequence)
        snprintf(output_text, sizeof output_text, "(%lld, %d)", (long long)out_width,
                 conv->filters);
    else
        snprintf(output_text, sizeof output_text, "(%lld, %lld, %d)", (long long)out_height,
                 (long long)out_width, conv->filters);
    if (!product_within_limit(kernel_factors, 4, &kernel_count))
        return nn_error(NN_ERR_MEMORY,
                        "the kernel %s would hold more than %lld weights, the "
                        "most a layer supports",
                        kernel_text, (long long)SIZE_LIMIT);
    if (!product_within_limit(input_factors, 3, &input_count) ||
        !product_within_limit(output_factors, 3, &output_count))
        return nn_error(NN_ERR_MEMORY,
                        "one sample of input %s or of output %s has more than "
                        "%lld elements, the most a layer supports",
                        received, output_text, (long long)SIZE_LIMIT);
    if (conv->padding != NN_PADDING_VALID) {
        /* 'same' and 'causal' pad a sample by the dilated window's extent, and the kernels
         * index the padded sample with ints as well (a 3x3 kernel dilated 2^30 times
         * overflowed). */
        int64_t extent_height = (int64_t)(conv->kernel_size[0] - 1) * conv->dilation_rate[0];
        int64_t extent_width = (int64_t)(conv->kernel_size[1] - 1) * conv->dilation_rate[1];
        int64_t padded_factors[] = {height + extent_height, width + extent_width, channels};
        int64_t padded_count;
        char padded_text[96];
        if (sequence)
            snprintf(padded_text, sizeof padded_text, "(%lld, %lld)",
                     (long long)padded_factors[1], (long long)padded_factors[2]);
        else
            snprintf(padded_text, sizeof padded_text, "(%lld, %lld, %lld)",
                     (long long)padded_factors[0], (long long)padded_factors[1],
                     (long long)padded_factors[2]);
        if (!product_within_limit(padded_factors, 3, &padded_count))
            return nn_error(NN_ERR_MEMORY,
                            "with padding='%s', kernel_size=%s and dilation_rate=%s one padded "
                            "sample of input %s would have %s elements, more than the %lld a "
                            "layer supports; use a smaller dilation_rate or padding='valid'",
                            padding_name,
                            nn_pair_text(sequence, conv->kernel_size, kernel_size,
                                         sizeof kernel_size),
                            nn_pair_text(sequence, conv->dilation_rate, dilation, sizeof dilation),
                            received, padded_text, (long long)SIZE_LIMIT);
    }

    nn_layer_declare_param(layer, depthwise ? "depthwise_kernel" : "kernel", &kernel_shape, true,
                           conv->kernel_initializer, conv->kernel_regularizer,
                           conv->kernel_constraint);
    if (conv->use_bias) {
        nn_shape bias_shape = NN_SHAPE(conv->filters);
        nn_layer_declare_param(layer, "bias", &bias_shape, true, conv->bias_initializer,
                               conv->bias_regularizer, conv->bias_constraint);
    }
    if (sequence)
        *output = last ? NN_SHAPE(-1, out_width, conv->filters)
                       : NN_SHAPE(-1, conv->filters, out_width);
    else
        *output = last ? NN_SHAPE(-1, out_height, out_width, conv->filters)
                       : NN_SHAPE(-1, conv->filters, out_height, out_width);
    conv->geometry = (nn_conv2d_geometry){
        .batch = 0,
        .in_height = (int)height,
        .in_width = (int)width,
        .in_channels = (int)channels,
        .out_height = (int)out_height,
        .out_width = (int)out_width,
        .out_channels = conv->filters,
        .kernel_height = conv->kernel_size[0],
        .kernel_width = conv->kernel_size[1],
        .stride_height = conv->strides[0],
        .stride_width = conv->strides[1],
        .dilation_height = conv->dilation_rate[0],
        .dilation_width = conv->dilation_rate[1],
        .pad_top = (int)pad_top,
        .pad_left = (int)pad_left,
        .groups = conv->groups,
    };
    int written = snprintf(layer->explanation, sizeof layer->explanation,
                           "height: %s; width: %s; channels: filters = %d", height_text,
                           width_text, conv->filters);
    if (sequence && depthwise)
        snprintf(layer->explanation, sizeof layer->explanation,
                 "steps: %s; channels: %lld * depth_multiplier %d = %d (each channel convolved "
                 "on its own)", width_text, (long long)channels, conv->depth_multiplier,
                 conv->filters);
    else if (sequence)
        snprintf(layer->explanation, sizeof layer->explanation,
                 "steps: %s; channels: filters = %d", width_text, conv->filters);
    else if (depthwise)
        snprintf(layer->explanation, sizeof layer->explanation,
                 "height: %s; width: %s; channels: %lld * depth_multiplier %d = %d (each "
                 "channel convolved on its own)",
                 height_text, width_text, (long long)channels, conv->depth_multiplier,
                 conv->filters);
    else if (conv->groups > 1 && written > 0 && (size_t)written < sizeof layer->explanation)
        snprintf(layer->explanation + written, sizeof layer->explanation - (size_t)written,
                 " (%d groups: each filter sees %lld of the %lld input channels)",
                 conv->groups, (long long)group_channels, (long long)channels);
    return NN_OK;
}

static size_t conv2d_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                    int64_t batch)
{
    const conv2d_layer *conv = (const conv2d_layer *)layer;
    nn_conv2d_sizes sizes = nn_conv2d_sizes_of(&conv->geometry, backend, batch);
    /* channels_last: backward's activation gradient, then the kernel's scratch.
     * channels_first: that plus channels-last copies of the output gradient, the input
     * and the input gradient (forward needs less: input and output copies). */
    if (conv->data_format == NN_CHANNELS_LAST)
        return sizes.output_floats + sizes.kernel_scratch;
    return 2 * sizes.output_floats + 2 * sizes.input_floats + sizes.kernel_scratch;
}

static nn_status conv2d_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                nn_tensor *output)
{
    conv2d_layer *conv = (conv2d_layer *)layer;
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, SIZE_LIMIT));
    nn_conv2d_sizes sizes = nn_conv2d_sizes_of(&conv->geometry, exec->backend, batch);
    const nn_conv2d_geometry *g = &sizes.geometry;
    const float *kernel = nn_tensor_f32(layer->params[0].value);
    const float *bias = conv->use_bias ? nn_tensor_f32(layer->params[1].value) : NULL;
    float *out = nn_tensor_f32(output);
    size_t n = nn_tensor_count(output);
    if (conv->data_format == NN_CHANNELS_LAST) {
        /* As in Dense: the kernel applies the activation unless the model wants the
         * logits or backward will need the pre-activation values. */
        bool fuse = exec->logits == NULL &&
                    !(exec->training && nn_activation_backward_needs_input(layer->activation.kind));
        nn_activation fused = fuse ? layer->activation : nn_activation_default(NN_ACTIVATION_LINEAR);
        exec->backend->conv2d_forward(out, nn_tensor_f32(input), kernel, bias, fused, g,
                                      exec->scratch);
        if (!fuse)
            nn_layer_activate_forward(layer, exec, out, n, (size_t)g->out_channels);
        return NN_OK;
    }
    float *input_last = exec->scratch;
    float *output_last = input_last + sizes.input_floats;
    float *kernel_scratch = output_last + sizes.output_floats;
    exec->backend->to_channels_last(input_last, nn_tensor_f32(input), batch, g->in_channels,
                                    (int64_t)g->in_height * g->in_width);
    exec->backend->conv2d_forward(output_last, input_last, kernel, bias,
                                  nn_activation_default(NN_ACTIVATION_LINEAR), g,
                                  kernel_scratch);
    exec->backend->to_channels_first(out, output_last, batch, g->out_channels,
                                     (int64_t)g->out_height * g->out_width);
    /* Keras applies the activation to the channels-first tensor, so softmax normalises
     * its last axis, the width. */
    nn_layer_activate_forward(layer, exec, out, n, (size_t)g->out_width);
    return NN_OK;
}

static nn_status conv2d_forward_pooled(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                       nn_tensor *pooled, const nn_pool2d_geometry *pool,
                                       int32_t *argmax, bool *done)
{
    conv2d_layer *conv = (conv2d_layer *)layer;
    nn_activation_kind kind = layer->activation.kind;
    *done = false;
    if (conv->data_format != NN_CHANNELS_LAST || exec->logits ||
        (kind != NN_ACTIVATION_RELU && kind != NN_ACTIVATION_LINEAR) ||
        !exec->backend->conv2d_maxpool2d_forward)
        return NN_OK;
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, SIZE_LIMIT));
    nn_conv2d_sizes sizes = nn_conv2d_sizes_of(&conv->geometry, exec->backend, batch);
    if (!exec->backend->conv2d_maxpool2d_applies(&sizes.geometry, pool))
        return NN_OK;
    exec->backend->conv2d_maxpool2d_forward(
        nn_tensor_f32(pooled), argmax, nn_tensor_f32(input), nn_tensor_f32(layer->params[0].value),
        conv->use_bias ? nn_tensor_f32(layer->params[1].value) : NULL, kind == NN_ACTIVATION_RELU,
        &sizes.geometry, pool, exec->scratch);
    *done = true;
    return NN_OK;
}

static nn_status conv2d_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                 const nn_tensor *output, const nn_tensor *doutput,
                                 nn_tensor *dinput)
{
    conv2d_layer *conv = (conv2d_layer *)layer;
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, SIZE_LIMIT));
    nn_conv2d_sizes sizes = nn_conv2d_sizes_of(&conv->geometry, exec->backend, batch);
    const nn_conv2d_geometry *g = &sizes.geometry;
    const float *kernel = nn_tensor_f32(layer->params[0].value);
    float *dkernel = layer->params[0].grad ? nn_tensor_f32(layer->params[0].grad) : NULL;
    float *dbias = conv->use_bias && layer->params[1].grad ? nn_tensor_f32(layer->params[1].grad)
                                                           : NULL;
    bool last = conv->data_format == NN_CHANNELS_LAST;
    size_t n = nn_tensor_count(output);
    /* The derivative of the activation goes into scratch so doutput stays intact; a
     * channels-last layer with none to take (linear, or already taken by the model)
     * reads doutput itself. */
    float *dz = exec->scratch;
    bool as_is = last && (exec->doutput_is_preactivation ||
                          layer->activation.kind == NN_ACTIVATION_LINEAR);
    if (!as_is)
        nn_layer_activate_backward(layer, exec, dz, nn_tensor_f32(doutput),
                                   nn_tensor_f32(output), n,
                                   last ? (size_t)g->out_channels : (size_t)g->out_width);
    if (last) {
        const float *gradient = as_is ? nn_tensor_f32(doutput) : dz;
        exec->backend->conv2d_backward(dinput ? nn_tensor_f32(dinput) : NULL, dkernel, dbias,
                                       gradient, nn_tensor_f32(input), kernel, g,
                                       dz + sizes.output_floats);
        return NN_OK;
    }
    float *dz_last = dz + sizes.output_floats;
    float *input_last = dz_last + sizes.output_floats;
    float *dinput_last = input_last + sizes.input_floats;
    float *kernel_scratch = dinput_last + sizes.input_floats;
    int64_t in_spatial = (int64_t)g->in_height * g->in_width;
    exec->backend->to_channels_last(dz_last, dz, batch, g->out_channels,
                                    (int64_t)g->out_height * g->out_width);
    exec->backend->to_channels_last(input_last, nn_tensor_f32(input), batch, g->in_channels,
                                    in_spatial);
    exec->backend->conv2d_backward(dinput ? dinput_last : NULL, dkernel, dbias, dz_last,
                                   input_last, kernel, g, kernel_scratch);
    if (dinput)
        exec->backend->to_channels_first(nn_tensor_f32(dinput), dinput_last, batch,
                                         g->in_channels, in_spatial);
    return NN_OK;
}

const nn_layer_class nn_conv2d_class = {
    .name = "Conv2D",
    .alias = "Convolution2D",
    .base_name = "conv2d",
    .doc = "2D convolution layer: slides `filters` learned windows of size kernel_size over "
           "the height and width of the input and sums over its channels, giving one "
           "output channel per filter: output = activation(conv2d(input, kernel) + bias). "
           "The kernel has shape (kernel height, kernel width, input channels / groups, "
           "filters).",
    .example = "local x = nn.random.randn(2, 28, 28, 3)\n"
               "local c = nn.layers.Conv2D{32, {3, 3}, padding='same', activation='relu'}\n"
               "print(c(x).shape)        --> (2, 28, 28, 32)\n"
               "print(c.kernel.shape)    --> (3, 3, 3, 32)",
    .size = sizeof(conv2d_layer),
    .args = conv2d_args,
    .arg_count = (int)(sizeof conv2d_args / sizeof conv2d_args[0]),
    /* Keras accepts every constructor argument by position; positions past the
     * activation are not used in practice. */
    .positional_count = 8,
    .set_defaults = conv2d_set_defaults,
    .validate = conv2d_validate,
    .build = conv2d_build,
    .scratch_floats = conv2d_scratch_floats,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
    .forward_pooled = conv2d_forward_pooled,
};

const nn_layer_class nn_depthwise_conv2d_class = {
    .name = "DepthwiseConv2D",
    .base_name = "depthwise_conv2d",
    .doc = "Depthwise 2D convolution: each input channel is convolved with its own "
           "depth_multiplier windows, with no sum over channels, giving channels * "
           "depth_multiplier output channels. With a 1x1 Conv2D after it, it makes the "
           "separable convolution of MobileNet. The kernel has shape (kernel height, kernel "
           "width, channels, depth_multiplier).",
    .example = "local d = nn.layers.DepthwiseConv2D{3, depth_multiplier = 2, padding = 'same'}\n"
               "print(d(nn.random.randn(2, 28, 28, 8)).shape)   --> (2, 28, 28, 16)",
    .size = sizeof(conv2d_layer),
    .args = depthwise_conv2d_args,
    .arg_count = (int)(sizeof depthwise_conv2d_args / sizeof depthwise_conv2d_args[0]),
    .positional_count = 4,
    .set_defaults = depthwise_conv2d_set_defaults,
    .validate = conv2d_validate,
    .build = conv2d_build,
    .scratch_floats = conv2d_scratch_floats,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
    .forward_pooled = conv2d_forward_pooled,
};

const nn_layer_class nn_conv1d_class = {
    .name = "Conv1D",
    .alias = "Convolution1D",
    .base_name = "conv1d",
    .doc = "1D convolution layer: slides `filters` learned windows of kernel_size steps "
           "along a sequence (batch, steps, channels), summing over its channels: output = "
           "activation(conv1d(input, kernel) + bias). The kernel has shape (kernel_size, "
           "channels / groups, filters).",
    .example = "local c = nn.layers.Conv1D{16, 5, padding = 'causal', activation = 'relu'}\n"
               "print(c(nn.random.randn(2, 100, 8)).shape)   --> (2, 100, 16)",
    .size = sizeof(conv2d_layer),
    .args = conv1d_args,
    .arg_count = (int)(sizeof conv1d_args / sizeof conv1d_args[0]),
    .positional_count = 8,
    .set_defaults = conv1d_set_defaults,
    .validate = conv2d_validate,
    .build = conv2d_build,
    .scratch_floats = conv2d_scratch_floats,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
    .forward_pooled = conv2d_forward_pooled,
};

const nn_layer_class nn_depthwise_conv1d_class = {
    .name = "DepthwiseConv1D",
    .base_name = "depthwise_conv1d",
    .doc = "Depthwise 1D convolution: each channel of a sequence (batch, steps, channels) is "
           "convolved with its own depth_multiplier windows, with no sum over channels, "
           "giving channels * depth_multiplier output channels. With a Conv1D of kernel "
           "size 1 after it, it makes a separable convolution. The kernel has shape "
           "(kernel_size, channels, depth_multiplier).",
    .example = "local d = nn.layers.DepthwiseConv1D{5, depth_multiplier = 2, padding = 'same'}\n"
               "print(d(nn.random.randn(2, 100, 8)).shape)   --> (2, 100, 16)",
    .size = sizeof(conv2d_layer),
    .args = depthwise_conv1d_args,
    .arg_count = (int)(sizeof depthwise_conv1d_args / sizeof depthwise_conv1d_args[0]),
    .positional_count = 4,
    .set_defaults = depthwise_conv1d_set_defaults,
    .validate = conv2d_validate,
    .build = conv2d_build,
    .scratch_floats = conv2d_scratch_floats,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
    .forward_pooled = conv2d_forward_pooled,
};
