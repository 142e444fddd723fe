/* Conv2DTranspose: the transpose of a convolution (sometimes called deconvolution), as
 * Keras. Each input cell scatters a filters-deep copy of the kernel, scaled by its
 * values, into the output at stride steps; overlaps add up.
 *
 * It runs on the convolution kernels, seen from the other side: the layer's output
 * space (OH, OW, filters) is the input of an "associated" convolution whose output is
 * the layer's input (H, W, C), with the same kernel, strides, dilation and padding. Its
 * kernel is then (kh, kw, filters, C), which is Keras' layout for this layer. So
 *   forward:   y  = conv2d_backward's input gradient for an output gradient x;
 *   backward:  dx = conv2d_forward(dy);  dkernel = conv2d_backward's kernel gradient for
 *              input dy and output gradient x;  dbias = the column sums of dy.
 * TensorFlow defines the layer the same way (the input gradient of a convolution).
 *
 * Conv1DTranspose is the same layer on sequences seen as images one row high, as Conv1D
 * is Conv2D: its kernel (k, filters, channels) has the memory of (1, k, filters, channels). */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct conv2d_transpose_layer {
    nn_layer base;
    int filters;
    int kernel_size[2];
    int strides[2];
    int padding;           /* NN_PADDING_VALID or NN_PADDING_SAME */
    int output_padding[2]; /* NN_PAIR_NONE: None */
    /* Conv1DTranspose's output_padding as given (None or one int); validate makes it the
     * pair (0, it). */
    nn_optional_int sequence_output_padding;
    int data_format;
    int dilation_rate[2];
    bool use_bias;
    nn_initializer kernel_initializer, bias_initializer;
    nn_regularizer kernel_regularizer, bias_regularizer;
    nn_constraint kernel_constraint, bias_constraint;
    /* The associated convolution (see above), batch set per call. */
    nn_conv2d_geometry geometry;
} conv2d_transpose_layer;

#define ARG(field) offsetof(conv2d_transpose_layer, field)

/* In Keras' constructor order. */
static const nn_arg_spec conv2d_transpose_args[] = {
    {"filters", NN_ARG_INT, ARG(filters), true, 1, 1 << 30, false, NULL, NULL,
     "Number of output channels."},
    {"kernel_size", NN_ARG_PAIR, ARG(kernel_size), true, 1, 1 << 30, false, NULL, NULL,
     "Height and width of the kernel; one int means a square."},
    {"strides", NN_ARG_PAIR, ARG(strides), false, 1, 1 << 30, false, NULL, "(1, 1)",
     "Step between the places two neighbouring input cells write to: the output is about "
     "strides times larger."},
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, nn_padding_choices, "'valid'",
     "'valid': the output holds every cell the kernel reaches, input * strides + "
     "max(kernel - strides, 0) along each axis; 'same': exactly input * strides."},
    {"output_padding", NN_ARG_OPTIONAL_PAIR, ARG(output_padding), false, 0, 1 << 30, false,
     NULL, "None",
     "Extra rows and columns at the bottom and right, each smaller than the stride; with "
     "it the size is (input - 1) * strides + kernel - 2 * (kernel // 2 for 'same', else 0) "
     "+ output_padding. None picks the sizes above."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, height, width, channels) or 'channels_first' (batch, "
     "channels, height, width)."},
    {"dilation_rate", NN_ARG_PAIR, ARG(dilation_rate), false, 1, 1 << 30, false, NULL,
     "(1, 1)", "Spacing between the kernel's taps; cannot be combined with strides > 1."},
    NN_CONV_WEIGHT_ARGS("Initializer for the kernel, of shape (kernel height, kernel "
                        "width, filters, input channels)."),
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'conv2d_transpose', 'conv2d_transpose_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

/* In Keras' constructor order; the sizes are the 2-D pairs' second entries, whose first (the
 * height of a one-row image) stays 1. */
static const nn_arg_spec conv1d_transpose_args[] = {
    {"filters", NN_ARG_INT, ARG(filters), true, 1, 1 << 30, false, NULL, NULL,
     "Number of output channels."},
    {"kernel_size", NN_ARG_INT, ARG(kernel_size[1]), true, 1, 1 << 30, false, NULL, NULL,
     "Length of the kernel, in steps."},
    {"strides", NN_ARG_INT, ARG(strides[1]), false, 1, 1 << 30, false, NULL, "1",
     "Step between the places two neighbouring input steps write to: the output is about "
     "strides times longer."},
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, nn_padding_choices, "'valid'",
     "'valid': the output holds every step the kernel reaches, steps * strides + "
     "max(kernel - strides, 0); 'same': exactly steps * strides."},
    {"output_padding", NN_ARG_OPTIONAL_INT, ARG(sequence_output_padding), false, 0, 1 << 30,
     false, NULL, "None",
     "Extra steps at the end, fewer than the stride; with it the length is (steps - 1) * "
     "strides + kernel - 2 * (kernel // 2 for 'same', else 0) + output_padding. None picks "
     "the lengths above."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, steps, channels) or 'channels_first' (batch, channels, steps)."},
    {"dilation_rate", NN_ARG_INT, ARG(dilation_rate[1]), false, 1, 1 << 30, false, NULL, "1",
     "Spacing between the kernel's taps; cannot be combined with strides > 1."},
    NN_CONV_WEIGHT_ARGS("Initializer for the kernel, of shape (kernel_size, filters, "
                        "input channels)."),
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'conv1d_transpose', 'conv1d_transpose_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), e.g. {25, 8}."},
};

/* The kernels index one sample, the kernel and im2col rows with int. */
static const int64_t SIZE_LIMIT = INT_MAX;

static void conv2d_transpose_set_defaults(nn_layer *layer)
{
    conv2d_transpose_layer *conv = (conv2d_transpose_layer *)layer;
    conv->strides[0] = conv->strides[1] = 1;
    conv->output_padding[0] = conv->output_padding[1] = NN_PAIR_NONE;
    conv->dilation_rate[0] = conv->dilation_rate[1] = 1;
    conv->use_bias = true;
    conv->kernel_initializer = nn_initializer_default(NN_INITIALIZER_GLOROT_UNIFORM);
    conv->bias_initializer = nn_initializer_default(NN_INITIALIZER_ZEROS);
}

static void conv1d_transpose_set_defaults(nn_layer *layer)
{
    conv2d_transpose_set_defaults(layer);
    ((conv2d_transpose_layer *)layer)->kernel_size[0] = 1;
}

static bool is_sequence(const nn_layer *layer)
{
    return layer->cls == &nn_conv1d_transpose_class;
}

static nn_status conv2d_transpose_validate(nn_layer *layer)
{
    conv2d_transpose_layer *conv = (conv2d_transpose_layer *)layer;
    bool sequence = is_sequence(layer);
    if (is_sequence(layer)) {
        const nn_optional_int *given = &conv->sequence_output_padding;
        conv->output_padding[0] = given->present ? 0 : NN_PAIR_NONE;
        conv->output_padding[1] = given->present ? (int)given->value : NN_PAIR_NONE;
    }
    char first[32], second[32];
    for (int axis = 0; axis < 2 && !nn_pair_is_none(conv->output_padding); axis++)
        if (conv->output_padding[axis] >= conv->strides[axis])
            return nn_error(NN_ERR_ARGUMENT,
                            "%s \"%s\": output_padding must be smaller than the strides%s. "
                            "Received: output_padding=%s, strides=%s",
                            layer->cls->name, layer->name, sequence ? "" : " along each axis",
                            nn_pair_text(sequence, conv->output_padding, first, sizeof first),
                            nn_pair_text(sequence, conv->strides, second, sizeof second));
    return nn_check_strides_or_dilation(layer, conv->strides, conv->dilation_rate, 2, sequence);
}

/* Keras' output length along one axis, with the arithmetic in text. */
static int64_t output_length(const conv2d_transpose_layer *conv, int axis, int64_t input,
                             char *text, size_t size)
{
    return nn_transposed_window_output(input, conv->kernel_size[axis], conv->strides[axis],
                                       conv->dilation_rate[axis], conv->padding,
                                       conv->output_padding[axis], text, size);
}

static nn_status conv2d_transpose_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    conv2d_transpose_layer *conv = (conv2d_transpose_layer *)layer;
    char received[128], height_text[160], width_text[160], check[64], lengths[340];
    char output_text[96], kernel_size[32], strides[32], dilation[32];
    nn_shape_format(input, received, sizeof received);
    int64_t height, width, channels;
    bool sequence = is_sequence(layer);
    NN_TRY((sequence ? nn_sequence_input : nn_image_input)(layer, input, conv->data_format,
                                                           &height, &width, &channels));
    int64_t out_height = output_length(conv, 0, height, height_text, sizeof height_text);
    int64_t out_width = output_length(conv, 1, width, width_text, sizeof width_text);
    /* The sizes as the user sees them: a sequence has no height. */
    if (sequence) {
        snprintf(lengths, sizeof lengths, "steps: %s", width_text);
        snprintf(output_text, sizeof output_text, "(%lld, %d)", (long long)out_width,
                 conv->filters);
    } else {
        snprintf(lengths, sizeof lengths, "height: %s; width: %s", height_text, width_text);
        snprintf(output_text, sizeof output_text, "(%lld, %lld, %d)", (long long)out_height,
                 (long long)out_width, conv->filters);
    }
    nn_pair_text(sequence, conv->kernel_size, kernel_size, sizeof kernel_size);
    nn_pair_text(sequence, conv->strides, strides, sizeof strides);
    nn_pair_text(sequence, conv->dilation_rate, dilation, sizeof dilation);
    if (out_height <= 0 || out_width <= 0 || out_height > SIZE_LIMIT || out_width > SIZE_LIMIT ||
        out_height * out_width > SIZE_LIMIT / conv->filters ||
        height * width > SIZE_LIMIT / channels ||
        (int64_t)conv->kernel_size[0] * conv->kernel_size[1] > SIZE_LIMIT / conv->filters / channels)
        return nn_error(NN_ERR_SHAPE,
                        "input %s gives an output of %s (%s) or a kernel outside what a layer "
                        "supports: every size positive, each sample and the kernel below %lld "
                        "values",
                        received, output_text, lengths, (long long)SIZE_LIMIT);
    /* The associated convolution maps the output back onto the input. */
    int64_t pad_top, pad_left;
    int64_t back_height = nn_window_output(out_height, conv->kernel_size[0], conv->strides[0],
                                           conv->dilation_rate[0], conv->padding, &pad_top,
                                           check, sizeof check);
    int64_t back_width = nn_window_output(out_width, conv->kernel_size[1], conv->strides[1],
                                          conv->dilation_rate[1], conv->padding, &pad_left,
                                          check, sizeof check);
    /* TensorFlow refuses these too: with an even dilated kernel and padding='same', a given
     * output_padding can make an output the convolution does not map back onto. */
    bool strided = conv->strides[0] > 1 || conv->strides[1] > 1;
    if (back_height != height || back_width != width)
        return nn_error(NN_ERR_SHAPE,
                        "input %s: an output of %s (%s) does not map back onto the input "
                        "with kernel_size=%s, strides=%s, padding='%s'; leave output_padding "
                        "None (the default)%s",
                        received, output_text, lengths, kernel_size, strides,
                        nn_padding_choices[conv->padding],
                        strided ? " or give another value below the strides" : "");

    /* The convolution kernels pad a sample of the output by the dilated window for 'same'
     * and index it with int. */
    int64_t padded_height = out_height + (int64_t)(conv->kernel_size[0] - 1) * conv->dilation_rate[0];
    int64_t padded_width = out_width + (int64_t)(conv->kernel_size[1] - 1) * conv->dilation_rate[1];
    if (padded_height > SIZE_LIMIT || padded_width > SIZE_LIMIT ||
        padded_height * padded_width > SIZE_LIMIT / conv->filters)
    {
        char padded[96];
        if (sequence)
            snprintf(padded, sizeof padded, "(%lld, %d)", (long long)padded_width,
                     conv->filters);
        else
            snprintf(padded, sizeof padded, "(%lld, %lld, %d)", (long long)padded_height,
                     (long long)padded_width, conv->filters);
        return nn_error(NN_ERR_SHAPE, "with kernel_size=%s and dilation_rate=%s one padded "
                        "output sample would have %s elements, more than the %lld a layer "
                        "supports", kernel_size, dilation, padded, (long long)SIZE_LIMIT);
    }
    nn_shape kernel_shape =
        sequence ? NN_SHAPE(conv->kernel_size[1], conv->filters, channels)
                 : NN_SHAPE(conv->kernel_size[0], conv->kernel_size[1], conv->filters, channels);
    nn_layer_declare_param(layer, "kernel", &kernel_shape, true, conv->kernel_initializer,
                           conv->kernel_regularizer, conv->kernel_constraint);
    if (conv->use_bias) {
        nn_shape bias_shape = NN_SHAPE(conv->filters);
        nn_layer_declare_param(layer, "bias", &bias_shape, true, conv->bias_initializer,
                               conv->bias_regularizer, conv->bias_constraint);
    }
    bool last = conv->data_format == NN_CHANNELS_LAST;
    if (sequence)
        *output = last ? NN_SHAPE(-1, out_width, conv->filters)
                       : NN_SHAPE(-1, conv->filters, out_width);
    else
        *output = last ? NN_SHAPE(-1, out_height, out_width, conv->filters)
                       : NN_SHAPE(-1, conv->filters, out_height, out_width);
    conv->geometry = (nn_conv2d_geometry){
        .in_height = (int)out_height,
        .in_width = (int)out_width,
        .in_channels = conv->filters,
        .out_height = (int)height,
        .out_width = (int)width,
        .out_channels = (int)channels,
        .kernel_height = conv->kernel_size[0],
        .kernel_width = conv->kernel_size[1],
        .stride_height = conv->strides[0],
        .stride_width = conv->strides[1],
        .dilation_height = conv->dilation_rate[0],
        .dilation_width = conv->dilation_rate[1],
        .pad_top = (int)pad_top,
        .pad_left = (int)pad_left,
        .groups = 1,
    };
    if (sequence)
        snprintf(layer->explanation, sizeof layer->explanation,
                 "steps: %s; channels: filters = %d", width_text, conv->filters);
    else
        snprintf(layer->explanation, sizeof layer->explanation,
                 "height: %s; width: %s; channels: filters = %d", height_text, width_text,
                 conv->filters);
    return NN_OK;
}

/* The associated convolution's sizes for a batch: its input is the layer's output
 * (input_floats) and its output the layer's input (output_floats). */
static nn_conv2d_sizes sizes_for_batch(const conv2d_transpose_layer *conv,
                                       const nn_backend *backend, int64_t batch)
{
    return nn_conv2d_sizes_of(&conv->geometry, backend, batch);
}

static size_t conv2d_transpose_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                              int64_t batch)
{
    const conv2d_transpose_layer *conv = (const conv2d_transpose_layer *)layer;
    nn_conv2d_sizes sizes = sizes_for_batch(conv, backend, batch);
    /* backward: the activation's gradient, then (channels_first) channels-last copies of
     * it, of the input and of the input gradient; the kernels' scratch last. Forward needs
     * less (copies of the input and the output). */
    if (conv->data_format == NN_CHANNELS_LAST)
        return sizes.input_floats + sizes.kernel_scratch;
    return 2 * sizes.input_floats + 2 * sizes.output_floats + sizes.kernel_scratch;
}


static nn_status conv2d_transpose_forward(nn_layer *layer, nn_exec *exec,
                                          const nn_tensor *input, nn_tensor *output)
{
    conv2d_transpose_layer *conv = (conv2d_transpose_layer *)layer;
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, SIZE_LIMIT));
    nn_conv2d_sizes sizes = sizes_for_batch(conv, exec->backend, batch);
    const nn_conv2d_geometry *g = &sizes.geometry;
    const float *kernel = nn_tensor_f32(layer->params[0].value);
    const float *bias = conv->use_bias ? nn_tensor_f32(layer->params[1].value) : NULL;
    float *out = nn_tensor_f32(output);
    size_t n = nn_tensor_count(output);
    int64_t out_spatial = (int64_t)g->in_height * g->in_width;
    if (conv->data_format == NN_CHANNELS_LAST) {
        exec->backend->conv2d_backward(out, NULL, NULL, nn_tensor_f32(input), NULL, kernel, g,
                                       exec->scratch);
        if (bias)
            exec->backend->bias_add(out, bias, batch * out_spatial, g->in_channels);
        nn_layer_activate_forward(layer, exec, out, n, (size_t)g->in_channels);
        return NN_OK;
    }
    float *input_last = exec->scratch;
    float *output_last = input_last + sizes.output_floats;
    float *kernel_scratch = output_last + sizes.input_floats;
    exec->backend->to_channels_last(input_last, nn_tensor_f32(input), batch, g->out_channels,
                                    (int64_t)g->out_height * g->out_width);
    exec->backend->conv2d_backward(output_last, NULL, NULL, input_last, NULL, kernel, g,
                                   kernel_scratch);
    if (bias)
        exec->backend->bias_add(output_last, bias, batch * out_spatial, g->in_channels);
    exec->backend->to_channels_first(out, output_last, batch, g->in_channels, out_spatial);
    /* As Conv2D: the activation sees the channels-first tensor (softmax: the width). */
    nn_layer_activate_forward(layer, exec, out, n, (size_t)g->in_width);
    return NN_OK;
}

static nn_status conv2d_transpose_backward(nn_layer *layer, nn_exec *exec,
                                           const nn_tensor *input, const nn_tensor *output,
                                           const nn_tensor *doutput, nn_tensor *dinput)
{
    conv2d_transpose_layer *conv = (conv2d_transpose_layer *)layer;
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, SIZE_LIMIT));
    nn_conv2d_sizes sizes = sizes_for_batch(conv, exec->backend, batch);
    const nn_conv2d_geometry *g = &sizes.geometry;
    const float *kernel = nn_tensor_f32(layer->params[0].value);
    float *dkernel = layer->params[0].grad ? nn_tensor_f32(layer->params[0].grad) : NULL;
    float *dbias = conv->use_bias && layer->params[1].grad ? nn_tensor_f32(layer->params[1].grad)
                                                           : NULL;
    bool last = conv->data_format == NN_CHANNELS_LAST;
    size_t n = nn_tensor_count(output);
    int64_t out_spatial = (int64_t)g->in_height * g->in_width;
    int64_t in_spatial = (int64_t)g->out_height * g->out_width;
    float *dz = exec->scratch;
    bool as_is = last && (exec->doutput_is_preactivation ||
                          layer->activation.kind == NN_ACTIVATION_LINEAR);
    if (!as_is)
        nn_layer_activate_backward(layer, exec, dz, nn_tensor_f32(doutput),
                                   nn_tensor_f32(output), n,
                                   last ? (size_t)g->in_channels : (size_t)g->in_width);
    const float *dz_last = as_is ? nn_tensor_f32(doutput) : dz;
    const float *input_last = nn_tensor_f32(input);
    float *dinput_last = dinput ? nn_tensor_f32(dinput) : NULL;
    float *kernel_scratch = dz + sizes.input_floats;
    if (!last) {
        float *dz_copy = dz + sizes.input_floats;
        float *input_copy = dz_copy + sizes.input_floats;
        float *dinput_copy = input_copy + sizes.output_floats;
        kernel_scratch = dinput_copy + sizes.output_floats;
        exec->backend->to_channels_last(dz_copy, dz, batch, g->in_channels, out_spatial);
        exec->backend->to_channels_last(input_copy, nn_tensor_f32(input), batch,
                                        g->out_channels, in_spatial);
        dz_last = dz_copy, input_last = input_copy;
        dinput_last = dinput ? dinput_copy : NULL;
    }
    if (dbias)
        exec->backend->column_sums(dbias, dz_last, batch * out_spatial, g->in_channels);
    if (dkernel)
        exec->backend->conv2d_backward(NULL, dkernel, NULL, input_last, dz_last, kernel, g,
                                       kernel_scratch);
    if (dinput_last)
        exec->backend->conv2d_forward(dinput_last, dz_last, kernel, NULL,
                                      nn_activation_default(NN_ACTIVATION_LINEAR), g,
                                      kernel_scratch);
    if (dinput && !last)
        exec->backend->to_channels_first(nn_tensor_f32(dinput), dinput_last, batch,
                                         g->out_channels, in_spatial);
    return NN_OK;
}

const nn_layer_class nn_conv2d_transpose_class = {
    .name = "Conv2DTranspose",
    .alias = "Convolution2DTranspose",
    .base_name = "conv2d_transpose",
    .doc = "Transposed 2D convolution (deconvolution): the reverse of Conv2D's shape change. "
           "With strides 2 it doubles the height and width; used in decoders, autoencoders "
           "and generators. The kernel has shape (kernel height, kernel width, filters, input "
           "channels).",
    .example = "local up = nn.layers.Conv2DTranspose{16, 3, strides = 2, padding = 'same'}\n"
               "print(up(nn.random.randn(2, 7, 7, 32)).shape)   --> (2, 14, 14, 16)",
    .size = sizeof(conv2d_transpose_layer),
    .args = conv2d_transpose_args,
    .arg_count = (int)(sizeof conv2d_transpose_args / sizeof conv2d_transpose_args[0]),
    .positional_count = 8,
    .set_defaults = conv2d_transpose_set_defaults,
    .validate = conv2d_transpose_validate,
    .build = conv2d_transpose_build,
    .scratch_floats = conv2d_transpose_scratch_floats,
    .forward = conv2d_transpose_forward,
    .backward = conv2d_transpose_backward,
};

const nn_layer_class nn_conv1d_transpose_class = {
    .name = "Conv1DTranspose",
    .alias = "Convolution1DTranspose",
    .base_name = "conv1d_transpose",
    .doc = "Transposed 1D convolution: the reverse of Conv1D's shape change. With strides 2 "
           "it doubles the length of a sequence (batch, steps, channels); used in decoders "
           "of sequences and audio. The kernel has shape (kernel_size, filters, input "
           "channels).",
    .example = "local up = nn.layers.Conv1DTranspose{8, 3, strides = 2, padding = 'same'}\n"
               "print(up(nn.random.randn(2, 25, 16)).shape)   --> (2, 50, 8)",
    .size = sizeof(conv2d_transpose_layer),
    .args = conv1d_transpose_args,
    .arg_count = (int)(sizeof conv1d_transpose_args / sizeof conv1d_transpose_args[0]),
    .positional_count = 8,
    .set_defaults = conv1d_transpose_set_defaults,
    .validate = conv2d_transpose_validate,
    .build = conv2d_transpose_build,
    .scratch_floats = conv2d_transpose_scratch_floats,
    .forward = conv2d_transpose_forward,
    .backward = conv2d_transpose_backward,
};
