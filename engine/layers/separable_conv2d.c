/* SeparableConv2D: a depthwise convolution (each input channel on its own, with
 * depth_multiplier windows) followed by a pointwise 1x1 convolution that mixes the
 * channels into `filters`, then the bias and the activation, as Keras. Both steps run on
 * the convolution kernels: the depthwise one as a convolution with one group per channel
 * (its kernel (kh, kw, channels, multiplier) has that kernel's memory layout), the
 * pointwise one as an ordinary 1x1 convolution.
 *
 * SeparableConv1D is the same layer on sequences seen as images one row high, as Conv1D is
 * Conv2D: its depthwise kernel (k, channels, multiplier) and pointwise kernel (1,
 * channels · multiplier, filters) have the memory of the 2-D ones with a height of 1. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct separable_conv2d_layer {
    nn_layer base;
    int filters;
    int kernel_size[2];
    int strides[2];
    int padding;
    int data_format;
    int dilation_rate[2];
    int depth_multiplier;
    bool use_bias;
    nn_initializer depthwise_initializer, pointwise_initializer, bias_initializer;
    nn_regularizer depthwise_regularizer, pointwise_regularizer, bias_regularizer;
    nn_constraint depthwise_constraint, pointwise_constraint, bias_constraint;
    /* The two convolutions (batch set per call): input -> middle -> output. */
    nn_conv2d_geometry depthwise, pointwise;
    /* The middle tensor of the last forward (channels-last), kept for backward; sized by
     * reserve, on the device the layer ran on. */
    nn_storage *middle;
} separable_conv2d_layer;

#define ARG(field) offsetof(separable_conv2d_layer, field)

/* What SeparableConv2D and SeparableConv1D take after depth_multiplier, in Keras' order. */
#define SEPARABLE_WEIGHT_ARGS                                                                  \
    {"activation", NN_ARG_ACTIVATION, ARG(base.activation), false, 0, 0, false, NULL, "None",  \
     "Activation function applied to the output; None means linear."},                         \
    {"use_bias", NN_ARG_BOOL, ARG(use_bias), false, 0, 1, false, NULL, "True",                 \
     "Whether the layer adds a bias vector (one value per filter)."},                          \
    {"depthwise_initializer", NN_ARG_INITIALIZER, ARG(depthwise_initializer), false, 0, 0,     \
     false, NULL, "'glorot_uniform'", "Initializer for the depthwise kernel."},                \
    {"pointwise_initializer", NN_ARG_INITIALIZER, ARG(pointwise_initializer), false, 0, 0,     \
     false, NULL, "'glorot_uniform'", "Initializer for the pointwise kernel."},                \
    {"bias_initializer", NN_ARG_INITIALIZER, ARG(bias_initializer), false, 0, 0, false, NULL,  \
     "'zeros'", "Initializer for the bias vector."},                                           \
    {"depthwise_regularizer", NN_ARG_REGULARIZER, ARG(depthwise_regularizer), false, 0, 0,     \
     false, NULL, "None", "Regularizer function applied to the depthwise kernel."},            \
    {"pointwise_regularizer", NN_ARG_REGULARIZER, ARG(pointwise_regularizer), false, 0, 0,     \
     false, NULL, "None", "Regularizer function applied to the pointwise kernel."},            \
    {"bias_regularizer", NN_ARG_REGULARIZER, ARG(bias_regularizer), false, 0, 0, false, NULL,  \
     "None", "Regularizer function applied to the bias vector."},                              \
    {"activity_regularizer", NN_ARG_REGULARIZER, ARG(base.activity_regularizer), false, 0, 0,  \
     false, NULL, "None", NN_ACTIVITY_REGULARIZER_DOC},                                        \
    {"depthwise_constraint", NN_ARG_CONSTRAINT, ARG(depthwise_constraint), false, 0, 0, false, \
     NULL, "None", "Constraint function applied to the depthwise kernel after each update."},  \
    {"pointwise_constraint", NN_ARG_CONSTRAINT, ARG(pointwise_constraint), false, 0, 0, false, \
     NULL, "None", "Constraint function applied to the pointwise kernel after each update."},  \
    {"bias_constraint", NN_ARG_CONSTRAINT, ARG(bias_constraint), false, 0, 0, false, NULL,     \
     "None", "Constraint function applied to the bias vector after each update."}

/* In Keras' constructor order. */
static const nn_arg_spec separable_conv2d_args[] = {
    {"filters", NN_ARG_INT, ARG(filters), true, 1, 1 << 30, false, NULL, NULL,
     "Number of output channels of the pointwise step."},
    {"kernel_size", NN_ARG_PAIR, ARG(kernel_size), true, 1, 1 << 30, false, NULL, NULL,
     "Height and width of the depthwise windows; one int means a square."},
    {"strides", NN_ARG_PAIR, ARG(strides), false, 1, 1 << 30, false, NULL, "(1, 1)",
     "Step of the depthwise windows along the height and the width."},
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, nn_padding_choices, "'valid'",
     "'valid': no padding; 'same': ceil(input / strides) cells along each axis."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, height, width, channels) or 'channels_first' (batch, "
     "channels, height, width)."},
    {"dilation_rate", NN_ARG_PAIR, ARG(dilation_rate), false, 1, 1 << 30, false, NULL,
     "(1, 1)", "Spacing between the depthwise kernel's taps; cannot be combined with "
     "strides > 1."},
    {"depth_multiplier", NN_ARG_INT, ARG(depth_multiplier), false, 1, 1 << 20, false, NULL,
     "1", "Depthwise windows per input channel."},
    SEPARABLE_WEIGHT_ARGS,
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'separable_conv2d', 'separable_conv2d_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

/* In Keras' constructor order; the sizes are the 2-D pairs' second entries, whose first (the
 * height of a one-row image) stays 1. */
static const nn_arg_spec separable_conv1d_args[] = {
    {"filters", NN_ARG_INT, ARG(filters), true, 1, 1 << 30, false, NULL, NULL,
     "Number of output channels of the pointwise step."},
    {"kernel_size", NN_ARG_INT, ARG(kernel_size[1]), true, 1, 1 << 30, false, NULL, NULL,
     "Length of the depthwise windows, in steps."},
    {"strides", NN_ARG_INT, ARG(strides[1]), false, 1, 1 << 30, false, NULL, "1",
     "Step of the depthwise windows along the sequence."},
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, nn_padding_choices, "'valid'",
     "'valid': no padding; 'same': ceil(steps / strides) outputs."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, steps, channels) or 'channels_first' (batch, channels, steps)."},
    {"dilation_rate", NN_ARG_INT, ARG(dilation_rate[1]), false, 1, 1 << 30, false, NULL, "1",
     "Spacing between the depthwise kernel's taps; cannot be combined with strides > 1."},
    {"depth_multiplier", NN_ARG_INT, ARG(depth_multiplier), false, 1, 1 << 20, false, NULL,
     "1", "Depthwise windows per input channel."},
    SEPARABLE_WEIGHT_ARGS,
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'separable_conv1d', 'separable_conv1d_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), e.g. {100, 8}."},
};

/* The kernels index one sample, a kernel and an im2col row with int. */
static const int64_t SIZE_LIMIT = INT_MAX;

static void separable_conv2d_set_defaults(nn_layer *layer)
{
    separable_conv2d_layer *conv = (separable_conv2d_layer *)layer;
    conv->strides[0] = conv->strides[1] = 1;
    conv->dilation_rate[0] = conv->dilation_rate[1] = 1;
    conv->depth_multiplier = 1;
    conv->use_bias = true;
    conv->depthwise_initializer = nn_initializer_default(NN_INITIALIZER_GLOROT_UNIFORM);
    conv->pointwise_initializer = nn_initializer_default(NN_INITIALIZER_GLOROT_UNIFORM);
    conv->bias_initializer = nn_initializer_default(NN_INITIALIZER_ZEROS);
}

static void separable_conv1d_set_defaults(nn_layer *layer)
{
    separable_conv2d_set_defaults(layer);
    ((separable_conv2d_layer *)layer)->kernel_size[0] = 1;
}

static bool is_sequence(const nn_layer *layer)
{
    return layer->cls == &nn_separable_conv1d_class;
}

static nn_status separable_conv2d_validate(nn_layer *layer)
{
    separable_conv2d_layer *conv = (separable_conv2d_layer *)layer;
    bool sequence = is_sequence(layer);
    return nn_check_strides_or_dilation(layer, conv->strides, conv->dilation_rate, 2, sequence);
}

static nn_status separable_conv2d_build(nn_layer *layer, const nn_shape *input,
                                        nn_shape *output)
{
    separable_conv2d_layer *conv = (separable_conv2d_layer *)layer;
    char received[128], height_text[160], width_text[160], kernel_size[32], strides[32];
    char dilation[32];
    nn_shape_format(input, received, sizeof received);
    int64_t height, width, channels;
    bool sequence = is_sequence(layer);
    NN_TRY((sequence ? nn_sequence_input : nn_image_input)(layer, input, conv->data_format,
                                                           &height, &width, &channels));
    nn_pair_text(sequence, conv->kernel_size, kernel_size, sizeof kernel_size);
    nn_pair_text(sequence, conv->strides, strides, sizeof strides);
    nn_pair_text(sequence, conv->dilation_rate, dilation, sizeof dilation);
    int64_t pad_top, pad_left;
    int64_t out_height = nn_window_output(height, conv->kernel_size[0], conv->strides[0],
                                          conv->dilation_rate[0], conv->padding, &pad_top,
                                          height_text, sizeof height_text);
    int64_t out_width = nn_window_output(width, conv->kernel_size[1], conv->strides[1],
                                         conv->dilation_rate[1], conv->padding, &pad_left,
                                         width_text, sizeof width_text);
    if (sequence && out_width <= 0)
        return nn_error(NN_ERR_SHAPE,
                        "The output length is <= 0 in %s. Consider a longer input. Received "
                        "input shape %s with kernel_size=%s, strides=%s, dilation_rate=%s, "
                        "padding='%s': the window does not fit (steps: %s).",
                        layer->name, received, kernel_size, strides, dilation,
                        nn_padding_choices[conv->padding], width_text);
    if (out_height <= 0 || out_width <= 0)
        return nn_error(NN_ERR_SHAPE,
                        "One of the dimensions in the output is <= 0 due to downsampling in "
                        "%s. Received input shape %s with kernel_size=(%d, %d), strides=(%d, "
                        "%d), padding='%s' (height: %s; width: %s).",
                        layer->name, received, conv->kernel_size[0], conv->kernel_size[1],
                        conv->strides[0], conv->strides[1], nn_padding_choices[conv->padding],
                        height_text, width_text);
    /* The kernels index a (padded) sample, a kernel and an im2col row with int; every
     * product is checked before it is formed. */
    int64_t middle_channels = channels * conv->depth_multiplier;
    int64_t extent_height = (int64_t)(conv->kernel_size[0] - 1) * conv->dilation_rate[0] + 1;
    int64_t extent_width = (int64_t)(conv->kernel_size[1] - 1) * conv->dilation_rate[1] + 1;
    int64_t padded = 0, kernel = 0, output_cells = 0;
    bool fits = middle_channels <= SIZE_LIMIT / conv->filters &&
                !__builtin_mul_overflow(height + extent_height, width + extent_width, &padded) &&
                padded <= SIZE_LIMIT / middle_channels &&
                !__builtin_mul_overflow((int64_t)conv->kernel_size[0], conv->kernel_size[1],
                                        &kernel) &&
                kernel <= SIZE_LIMIT / middle_channels &&
                !__builtin_mul_overflow(out_height, out_width, &output_cells) &&
                output_cells <= SIZE_LIMIT / (middle_channels + conv->filters);
    if (!fits)
        return nn_error(NN_ERR_SHAPE, "input %s with kernel_size=%s, dilation_rate=%s, "
                        "depth_multiplier %d and %d filters makes a (padded) sample or a "
                        "kernel of more than %lld values, the most a layer supports",
                        received, kernel_size, dilation, conv->depth_multiplier,
                        conv->filters, (long long)SIZE_LIMIT);

    nn_shape depthwise_shape =
        sequence ? NN_SHAPE(conv->kernel_size[1], channels, conv->depth_multiplier)
                 : NN_SHAPE(conv->kernel_size[0], conv->kernel_size[1], channels,
                            conv->depth_multiplier);
    nn_layer_declare_param(layer, "depthwise_kernel", &depthwise_shape, true,
                           conv->depthwise_initializer, conv->depthwise_regularizer,
                           conv->depthwise_constraint);
    nn_shape pointwise_shape = sequence ? NN_SHAPE(1, middle_channels, conv->filters)
                                        : NN_SHAPE(1, 1, middle_channels, conv->filters);
    nn_layer_declare_param(layer, "pointwise_kernel", &pointwise_shape, true,
                           conv->pointwise_initializer, conv->pointwise_regularizer,
                           conv->pointwise_constraint);
    if (conv->use_bias) {
        nn_shape bias_shape = NN_SHAPE(conv->filters);
        nn_layer_declare_param(layer, "bias", &bias_shape, true, conv->bias_initializer,
                               conv->bias_regularizer, conv->bias_constraint);
    }
    conv->depthwise = (nn_conv2d_geometry){
        .in_height = (int)height, .in_width = (int)width, .in_channels = (int)channels,
        .out_height = (int)out_height, .out_width = (int)out_width,
        .out_channels = (int)middle_channels,
        .kernel_height = conv->kernel_size[0], .kernel_width = conv->kernel_size[1],
        .stride_height = conv->strides[0], .stride_width = conv->strides[1],
        .dilation_height = conv->dilation_rate[0], .dilation_width = conv->dilation_rate[1],
        .pad_top = (int)pad_top, .pad_left = (int)pad_left, .groups = (int)channels,
    };
    conv->pointwise = (nn_conv2d_geometry){
        .in_height = (int)out_height, .in_width = (int)out_width,
        .in_channels = (int)middle_channels, .out_height = (int)out_height,
        .out_width = (int)out_width, .out_channels = conv->filters, .kernel_height = 1,
        .kernel_width = 1, .stride_height = 1, .stride_width = 1, .dilation_height = 1,
        .dilation_width = 1, .groups = 1,
    };
    bool last = conv->data_format == NN_CHANNELS_LAST;
    if (sequence)
        *output = last ? NN_SHAPE(-1, out_width, conv->filters)
                       : NN_SHAPE(-1, conv->filters, out_width);
    else
        *output = last ? NN_SHAPE(-1, out_height, out_width, conv->filters)
                       : NN_SHAPE(-1, conv->filters, out_height, out_width);
    int written = 0;
    if (sequence)
        written = snprintf(layer->explanation, sizeof layer->explanation, "steps: %s; ",
                           width_text);
    else
        written = snprintf(layer->explanation, sizeof layer->explanation,
                           "height: %s; width: %s; ", height_text, width_text);
    if (written > 0 && (size_t)written < sizeof layer->explanation)
        snprintf(layer->explanation + written, sizeof layer->explanation - (size_t)written,
                 "channels: %lld * depth_multiplier %d = %lld after the depthwise step, then "
                 "filters = %d after the pointwise step",
                 (long long)channels, conv->depth_multiplier, (long long)middle_channels,
                 conv->filters);
    return NN_OK;
}

/* Floats of one side of each convolution for a batch, and the kernels' scratch. */
typedef struct separable_sizes {
    nn_conv2d_geometry depthwise, pointwise;
    size_t input_floats, middle_floats, output_floats, kernel_scratch;
} separable_sizes;

static separable_sizes sizes_for_batch(const separable_conv2d_layer *conv,
                                       const nn_backend *backend, int64_t batch)
{
    nn_conv2d_sizes depthwise = nn_conv2d_sizes_of(&conv->depthwise, backend, batch);
    nn_conv2d_sizes pointwise = nn_conv2d_sizes_of(&conv->pointwise, backend, batch);
    separable_sizes sizes = {
        .depthwise = depthwise.geometry,
        .pointwise = pointwise.geometry,
        .input_floats = depthwise.input_floats,
        .middle_floats = depthwise.output_floats,
        .output_floats = pointwise.output_floats,
        .kernel_scratch = depthwise.kernel_scratch > pointwise.kernel_scratch
                              ? depthwise.kernel_scratch
                              : pointwise.kernel_scratch,
    };
    return sizes;
}

static size_t separable_conv2d_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                              int64_t batch)
{
    separable_sizes sizes =
        sizes_for_batch((const separable_conv2d_layer *)layer, backend, batch);
    /* backward: the activation's gradient and the middle's gradient; channels_first also
     * channels-last copies of the output gradient, the input and the input gradient.
     * Forward needs less. Then the kernels' scratch. */
    size_t floats = sizes.output_floats + sizes.middle_floats + sizes.kernel_scratch;
    if (((const separable_conv2d_layer *)layer)->data_format == NN_CHANNELS_FIRST)
        floats += sizes.output_floats + 2 * sizes.input_floats;
    return floats;
}

static nn_status separable_conv2d_reserve(nn_layer *layer, nn_device device, int64_t batch)
{
    separable_conv2d_layer *conv = (separable_conv2d_layer *)layer;
    const nn_conv2d_geometry *d = &conv->depthwise;
    size_t floats = (size_t)batch * (size_t)d->out_height * (size_t)d->out_width *
                    (size_t)d->out_channels;
    return nn_layer_buffer_reserve(&conv->middle, device, floats * sizeof(float), layer);
}

static nn_status check_call(const nn_layer *layer, const nn_exec *exec, int64_t batch)
{
    const separable_conv2d_layer *conv = (const separable_conv2d_layer *)layer;
    NN_TRY(nn_layer_check_call(layer, exec, batch, SIZE_LIMIT));
    const nn_conv2d_geometry *d = &conv->depthwise;
    size_t middle = (size_t)batch * (size_t)d->out_height * (size_t)d->out_width *
                    (size_t)d->out_channels * sizeof(float);
    if (!nn_layer_buffer_reserved(conv->middle, exec->device, middle))
        return nn_error(NN_ERR_STATE, "layer \"%s\": a batch of %lld arrived but the layer "
                        "was reserved for fewer rows or another device (call nn_layer_reserve "
                        "first)", layer->name, (long long)batch);
    return NN_OK;
}

static nn_status separable_conv2d_forward(nn_layer *layer, nn_exec *exec,
                                          const nn_tensor *input, nn_tensor *output)
{
    separable_conv2d_layer *conv = (separable_conv2d_layer *)layer;
    int64_t batch = input->shape.dims[0];
    NN_TRY(check_call(layer, exec, batch));
    separable_sizes sizes = sizes_for_batch(conv, exec->backend, batch);
    const nn_conv2d_geometry *d = &sizes.depthwise, *p = &sizes.pointwise;
    const float *depthwise = nn_tensor_f32(layer->params[0].value);
    const float *pointwise = nn_tensor_f32(layer->params[1].value);
    const float *bias = conv->use_bias ? nn_tensor_f32(layer->params[2].value) : NULL;
    nn_activation linear = nn_activation_default(NN_ACTIVATION_LINEAR);
    float *middle = conv->middle->data, *out = nn_tensor_f32(output);
    size_t n = nn_tensor_count(output);
    float *kernel_scratch = exec->scratch;
    const float *input_last = nn_tensor_f32(input);
    bool last = conv->data_format == NN_CHANNELS_LAST;
    float *output_last = out;
    if (!last) {
        float *input_copy = exec->scratch;
        output_last = input_copy + sizes.input_floats;
        kernel_scratch = output_last + sizes.output_floats;
        exec->backend->to_channels_last(input_copy, nn_tensor_f32(input), batch, d->in_channels,
                                        (int64_t)d->in_height * d->in_width);
        input_last = input_copy;
    }
    exec->backend->conv2d_forward(middle, input_last, depthwise, NULL, linear, d, kernel_scratch);
    exec->backend->conv2d_forward(output_last, middle, pointwise, bias, linear, p,
                                  kernel_scratch);
    if (!last)
        exec->backend->to_channels_first(out, output_last, batch, p->out_channels,
                                         (int64_t)p->out_height * p->out_width);
    /* As Conv2D: channels first, the activation sees the channels-first tensor. */
    nn_layer_activate_forward(layer, exec, out, n,
                              last ? (size_t)p->out_channels : (size_t)p->out_width);
    return NN_OK;
}

static nn_status separable_conv2d_backward(nn_layer *layer, nn_exec *exec,
                                           const nn_tensor *input, const nn_tensor *output,
                                           const nn_tensor *doutput, nn_tensor *dinput)
{
    separable_conv2d_layer *conv = (separable_conv2d_layer *)layer;
    int64_t batch = input->shape.dims[0];
    NN_TRY(check_call(layer, exec, batch));
    separable_sizes sizes = sizes_for_batch(conv, exec->backend, batch);
    const nn_conv2d_geometry *d = &sizes.depthwise, *p = &sizes.pointwise;
    const float *depthwise = nn_tensor_f32(layer->params[0].value);
    const float *pointwise = nn_tensor_f32(layer->params[1].value);
    float *ddepthwise = layer->params[0].grad ? nn_tensor_f32(layer->params[0].grad) : NULL;
    float *dpointwise = layer->params[1].grad ? nn_tensor_f32(layer->params[1].grad) : NULL;
    float *dbias = conv->use_bias && layer->params[2].grad ? nn_tensor_f32(layer->params[2].grad)
                                                           : NULL;
    bool last = conv->data_format == NN_CHANNELS_LAST;
    size_t n = nn_tensor_count(output);
    int64_t in_spatial = (int64_t)d->in_height * d->in_width;
    float *dz = exec->scratch;
    float *dmiddle = dz + sizes.output_floats;
    float *rest = dmiddle + sizes.middle_floats;
    nn_layer_activate_backward(layer, exec, dz, nn_tensor_f32(doutput), nn_tensor_f32(output), n,
                               last ? (size_t)p->out_channels : (size_t)p->out_width);
    const float *dz_last = dz, *input_last = nn_tensor_f32(input);
    float *dinput_last = dinput ? nn_tensor_f32(dinput) : NULL;
    if (!last) {
        float *dz_copy = rest;
        float *input_copy = dz_copy + sizes.output_floats;
        float *dinput_copy = input_copy + sizes.input_floats;
        rest = dinput_copy + sizes.input_floats;
        exec->backend->to_channels_last(dz_copy, dz, batch, p->out_channels,
                                        (int64_t)p->out_height * p->out_width);
        exec->backend->to_channels_last(input_copy, nn_tensor_f32(input), batch, d->in_channels,
                                        in_spatial);
        dz_last = dz_copy, input_last = input_copy;
        dinput_last = dinput ? dinput_copy : NULL;
    }
    exec->backend->conv2d_backward(dmiddle, dpointwise, dbias, dz_last, conv->middle->data,
                                   pointwise, p, rest);
    exec->backend->conv2d_backward(dinput_last, ddepthwise, NULL, dmiddle, input_last, depthwise,
                                   d, rest);
    if (dinput && !last)
        exec->backend->to_channels_first(nn_tensor_f32(dinput), dinput_last, batch,
                                         d->in_channels, in_spatial);
    return NN_OK;
}

static void separable_conv2d_destroy(nn_layer *layer)
{
    separable_conv2d_layer *conv = (separable_conv2d_layer *)layer;
    nn_storage_release(conv->middle);
    conv->middle = NULL;
}

const nn_layer_class nn_separable_conv2d_class = {
    .name = "SeparableConv2D",
    .alias = "SeparableConvolution2D",
    .base_name = "separable_conv2d",
    .doc = "Depthwise separable 2D convolution: a depthwise step (each input channel "
           "convolved on its own with depth_multiplier windows) then a pointwise 1x1 "
           "convolution mixing the channels into `filters`, the bias and the activation. "
           "Far fewer weights than Conv2D for the same output (Xception, MobileNet).",
    .example = "local s = nn.layers.SeparableConv2D{64, 3, padding = 'same'}\n"
               "print(s(nn.random.randn(2, 28, 28, 32)).shape)   --> (2, 28, 28, 64)\n"
               "print(s.depthwise_kernel.shape, s.pointwise_kernel.shape)",
    .size = sizeof(separable_conv2d_layer),
    .args = separable_conv2d_args,
    .arg_count = (int)(sizeof separable_conv2d_args / sizeof separable_conv2d_args[0]),
    .positional_count = 7,
    .set_defaults = separable_conv2d_set_defaults,
    .validate = separable_conv2d_validate,
    .build = separable_conv2d_build,
    .scratch_floats = separable_conv2d_scratch_floats,
    .reserve = separable_conv2d_reserve,
    .forward = separable_conv2d_forward,
    .backward = separable_conv2d_backward,
    .destroy = separable_conv2d_destroy,
};

const nn_layer_class nn_separable_conv1d_class = {
    .name = "SeparableConv1D",
    .alias = "SeparableConvolution1D",
    .base_name = "separable_conv1d",
    .doc = "Depthwise separable 1D convolution: a depthwise step along a sequence (batch, "
           "steps, channels), each channel convolved on its own with depth_multiplier "
           "windows, then a pointwise convolution of kernel size 1 mixing the channels into "
           "`filters`, the bias and the activation. Far fewer weights than Conv1D for the "
           "same output.",
    .example = "local s = nn.layers.SeparableConv1D{32, 5, padding = 'same'}\n"
               "print(s(nn.random.randn(2, 100, 16)).shape)   --> (2, 100, 32)\n"
               "print(s.depthwise_kernel.shape, s.pointwise_kernel.shape)",
    .size = sizeof(separable_conv2d_layer),
    .args = separable_conv1d_args,
    .arg_count = (int)(sizeof separable_conv1d_args / sizeof separable_conv1d_args[0]),
    .positional_count = 7,
    .set_defaults = separable_conv1d_set_defaults,
    .validate = separable_conv2d_validate,
    .build = separable_conv2d_build,
    .scratch_floats = separable_conv2d_scratch_floats,
    .reserve = separable_conv2d_reserve,
    .forward = separable_conv2d_forward,
    .backward = separable_conv2d_backward,
    .destroy = separable_conv2d_destroy,
};
