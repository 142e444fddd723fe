/* Conv3DTranspose: the transpose of Conv3D (sometimes called deconvolution), as Keras:
 * each input cell scatters a filters-deep copy of the kernel, scaled by its values, into
 * the output volume at stride steps; overlaps add up.
 *
 * It runs on the 2-D convolution kernels, one kernel depth tap at a time, as Conv3D does,
 * with each tap's planes a Conv2DTranspose (see conv2d_transpose.c: the input gradient of
 * the associated 2-D convolution, whose kernel (kh, kw, filters, C) is the tap's slice of
 * Keras' (kd, kh, kw, filters, C) kernel):
 *   out[b, d·sd + kd·dd - pad_front] += conv2d_transpose(x[b, d], kernel[kd])
 * for every input plane d and tap kd. The input planes are already a batch of B·D images;
 * a tap's B·D output planes land on planes d·sd + kd·dd of a padded output whose depth Dp
 * is a multiple of sd, which read as (B, Dp/sd, sd·plane) puts them in one window
 * (window2d_embed), added up over the taps. pad_front is TensorFlow's: the 'same' padding
 * of the 3-D convolution this layer transposes, over the layer's output; the padded
 * output's planes before it and past the output are cropped. Backward reads the same
 * windows of the padded output gradient (window2d_extract): conv2d_forward gives each
 * tap's input gradient (summed), conv2d_backward its kernel gradient; the bias gradient
 * is the column sums of the output gradient. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct conv3d_transpose_layer {
    nn_layer base;
    int filters;
    int kernel_size[3]; /* (depth, height, width) */
    int strides[3];
    int padding;        /* NN_PADDING_VALID or NN_PADDING_SAME */
    int data_format;    /* NN_CHANNELS_LAST or NN_CHANNELS_FIRST */
    int output_padding[3]; /* NN_PAIR_NONE in each: None */
    int dilation_rate[3];
    bool use_bias;
    nn_initializer kernel_initializer, bias_initializer;
    nn_regularizer kernel_regularizer, bias_regularizer;
    nn_constraint kernel_constraint, bias_constraint;
    /* Sizes filled by build. The depth axis: input D, output OD, planes of the padded
     * output before the output (pad_front), padded depth Dp (a multiple of the depth
     * stride, at least every plane a tap writes and pad_front + OD). */
    int64_t depth, out_depth, pad_front, padded_depth;
    /* The associated 2-D convolution of one depth tap, from an output plane (OH, OW,
     * filters) to an input plane (H, W, C); its batch is set per call to batch · D. */
    nn_conv2d_geometry plane;
} conv3d_transpose_layer;

#define ARG(field) offsetof(conv3d_transpose_layer, field)

/* In Keras 3's constructor order (data_format before output_padding, unlike
 * Conv2DTranspose), so that positional arguments mean what they mean there. */
static const nn_arg_spec conv3d_transpose_args[] = {
    {"filters", NN_ARG_INT, ARG(filters), true, 1, 1 << 30, false, NULL, NULL,
     "Number of output channels."},
    {"kernel_size", NN_ARG_TRIPLE, ARG(kernel_size), true, 1, 1 << 30, false, NULL, NULL,
     "Depth, height and width of the kernel; one int means a cube."},
    {"strides", NN_ARG_TRIPLE, ARG(strides), false, 1, 1 << 30, false, NULL, "(1, 1, 1)",
     "Step between the places two neighbouring input cells write to, along the depth, the "
     "height and the width: the output is about strides times larger. Cannot be combined "
     "with a dilation_rate other than 1."},
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, nn_padding_choices, "'valid'",
     "'valid': the output holds every cell the kernel reaches, input * strides + "
     "max(kernel - strides, 0) along each axis; 'same': exactly input * strides."},
    NN_VOLUME_DATA_FORMAT_ARG,
    {"output_padding", NN_ARG_OPTIONAL_TRIPLE, ARG(output_padding), false, 0, 1 << 30, false,
     NULL, "None",
     "Extra planes, rows and columns at the back, bottom and right, each smaller than the "
     "stride; with it the size is (input - 1) * strides + kernel - 2 * (kernel // 2 for "
     "'same', else 0) + output_padding along each axis. None picks the sizes above."},
    {"dilation_rate", NN_ARG_TRIPLE, ARG(dilation_rate), false, 1, 1 << 30, false, NULL,
     "(1, 1, 1)",
     "Spacing between the kernel's taps: a kernel of size k covers k + (k - 1)(d - 1) "
     "cells."},
    NN_CONV_WEIGHT_ARGS("Initializer for the kernel, of shape (kernel depth, kernel height, "
                        "kernel width, filters, input channels)."),
    NN_NAME_AND_INPUT_SHAPE_ARGS("conv3d_transpose"),
};

/* Every count the 2-D kernels index with an int (a batch of planes, one plane, the
 * kernel) stays below this. */
static const int64_t SIZE_LIMIT = INT_MAX;

static void conv3d_transpose_set_defaults(nn_layer *layer)
{
    conv3d_transpose_layer *conv = (conv3d_transpose_layer *)layer;
    for (int axis = 0; axis < 3; axis++) {
        conv->strides[axis] = conv->dilation_rate[axis] = 1;
        conv->output_padding[axis] = NN_PAIR_NONE;
    }
    conv->padding = NN_PADDING_VALID;
    conv->data_format = NN_CHANNELS_LAST;
    conv->use_bias = true;
    conv->kernel_initializer = nn_initializer_default(NN_INITIALIZER_GLOROT_UNIFORM);
    conv->bias_initializer = nn_initializer_default(NN_INITIALIZER_ZEROS);
}

static nn_status conv3d_transpose_validate(nn_layer *layer)
{
    conv3d_transpose_layer *conv = (conv3d_transpose_layer *)layer;
    char first[48], second[48];
    for (int axis = 0; axis < 3 && !nn_pair_is_none(conv->output_padding); axis++)
        if (conv->output_padding[axis] >= conv->strides[axis])
            return nn_error(NN_ERR_ARGUMENT,
                            "%s \"%s\": output_padding must be smaller than the strides "
                            "along each axis. Received: output_padding=%s, strides=%s",
                            layer->cls->name, layer->name,
                            nn_triple_text(conv->output_padding, first, sizeof first),
                            nn_triple_text(conv->strides, second, sizeof second));
    return nn_check_strides_or_dilation(layer, conv->strides, conv->dilation_rate, 3, false);
}

static nn_status conv3d_transpose_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    conv3d_transpose_layer *conv = (conv3d_transpose_layer *)layer;
    char received[128];
    nn_shape_format(input, received, sizeof received);
    int64_t sizes[3], channels;
    NN_TRY(nn_volume_input(layer, input, conv->data_format, sizes, &channels));

    static const char *const axis_names[3] = {"depth", "height", "width"};
    char texts[3][160], lengths[520], output_text[96];
    int64_t outputs[3];
    bool positive = true;
    for (int axis = 0; axis < 3; axis++) {
        outputs[axis] = nn_transposed_window_output(
            sizes[axis], conv->kernel_size[axis], conv->strides[axis],
            conv->dilation_rate[axis], conv->padding, conv->output_padding[axis], texts[axis],
            sizeof texts[axis]);
        positive &= outputs[axis] > 0;
    }
    snprintf(lengths, sizeof lengths, "depth: %s; height: %s; width: %s", texts[0], texts[1],
             texts[2]);
    snprintf(output_text, sizeof output_text, "(%lld, %lld, %lld, %d)", (long long)outputs[0],
             (long long)outputs[1], (long long)outputs[2], conv->filters);
    char kernel_size[48], strides[48], dilation[48];
    nn_triple_text(conv->kernel_size, kernel_size, sizeof kernel_size);
    nn_triple_text(conv->strides, strides, sizeof strides);
    nn_triple_text(conv->dilation_rate, dilation, sizeof dilation);
    const char *padding_name = nn_padding_choices[conv->padding];
    /* Only a given output_padding can leave nothing: 'same' with an even kernel on one
     * plane, (1 - 1) * 2 + 2 - 2 * 1 + 0 = 0. */
    if (!positive)
        return nn_error(NN_ERR_SHAPE,
                        "input %s gives an output of %s (%s): every size must be positive",
                        received, output_text, lengths);

    /* The convolution this layer transposes maps the output back onto the input; its
     * 'same' padding is the planes, rows and columns cropped before the output. */
    int64_t pads[3];
    bool maps_back = true;
    for (int axis = 0; axis < 3; axis++) {
        char check[160];
        int64_t back = nn_window_output(outputs[axis], conv->kernel_size[axis],
                                        conv->strides[axis], conv->dilation_rate[axis],
                                        conv->padding, &pads[axis], check, sizeof check);
        maps_back &= back == sizes[axis];
    }
    /* As Conv2DTranspose (and TensorFlow): with an even dilated kernel and padding='same',
     * a given output_padding can make an output the convolution does not map back onto. */
    bool strided = conv->strides[0] > 1 || conv->strides[1] > 1 || conv->strides[2] > 1;
    if (!maps_back)
        return nn_error(NN_ERR_SHAPE,
                        "input %s: an output of %s (%s) does not map back onto the input "
                        "with kernel_size=%s, strides=%s, padding='%s'; leave output_padding "
                        "None (the default)%s",
                        received, output_text, lengths, kernel_size, strides, padding_name,
                        strided ? " or give another value below the strides" : "");

    /* The padded output, as the taps write it: the planes every tap reaches and the
     * output behind pad_front, then whole planes up to a multiple of the depth stride, so
     * that it is a (Dp / sd, sd · plane) matrix. (The output is about D · sd planes deep
     * already, so this adds less than sd.) */
    int64_t extents[3];
    for (int axis = 0; axis < 3; axis++)
        extents[axis] = (int64_t)(conv->kernel_size[axis] - 1) * conv->dilation_rate[axis];
    int64_t depth_stride = conv->strides[0];
    int64_t needed_depth = (sizes[0] - 1) * depth_stride + extents[0] + 1;
    if (needed_depth < pads[0] + outputs[0])
        needed_depth = pads[0] + outputs[0];
    int64_t padded_depth = (needed_depth + depth_stride - 1) / depth_stride * depth_stride;

    /* The 2-D kernels index one plane, the kernel's slice and the batch of planes with
     * ints, and pad an output plane by the dilated window; refuse sizes past that (and
     * volumes whose padded output passes it) before anything is allocated. */
    nn_shape kernel_shape = NN_SHAPE(conv->kernel_size[0], conv->kernel_size[1],
                                     conv->kernel_size[2], conv->filters, channels);
    char kernel_text[96];
    nn_shape_format(&kernel_shape, kernel_text, sizeof kernel_text);
    int64_t kernel_factors[] = {conv->kernel_size[0], conv->kernel_size[1],
                                conv->kernel_size[2], conv->filters, channels};
    int64_t input_factors[] = {sizes[0], sizes[1], sizes[2], channels};
    int64_t output_factors[] = {outputs[0], outputs[1], outputs[2], conv->filters};
    int64_t padded_factors[] = {padded_depth, outputs[1] + extents[1], outputs[2] + extents[2],
                                conv->filters};
    int64_t count;
    if (!nn_product_within(kernel_factors, 5, SIZE_LIMIT, &count))
        return nn_error(NN_ERR_MEMORY,
                        "the kernel %s would hold more than %lld weights, the most a layer "
                        "supports",
                        kernel_text, (long long)SIZE_LIMIT);
    if (!nn_product_within(input_factors, 4, SIZE_LIMIT, &count) ||
        !nn_product_within(output_factors, 4, SIZE_LIMIT, &count))
        return nn_error(NN_ERR_MEMORY,
                        "one sample of input %s or of output %s (%s) has more than %lld "
                        "elements, the most a layer supports",
                        received, output_text, lengths, (long long)SIZE_LIMIT);
    if (!nn_product_within(padded_factors, 4, SIZE_LIMIT, &count))
        return nn_error(NN_ERR_MEMORY,
                        "with kernel_size=%s, strides=%s and dilation_rate=%s one padded "
                        "output sample of input %s (%lld planes deep: the depth the taps "
                        "write, rounded up to a multiple of the depth stride, each plane "
                        "padded by the window) would have more than the %lld elements a "
                        "layer supports; use a smaller kernel, dilation_rate or depth stride",
                        kernel_size, strides, dilation, received, (long long)padded_depth,
                        (long long)SIZE_LIMIT);

    nn_layer_declare_param(layer, "kernel", &kernel_shape, true, conv->kernel_initializer,
                           conv->kernel_regularizer, conv->kernel_constraint);
    if (conv->use_bias) {
        nn_shape bias_shape = NN_SHAPE(conv->filters);
        nn_layer_declare_param(layer, "bias", &bias_shape, true, conv->bias_initializer,
                               conv->bias_regularizer, conv->bias_constraint);
    }
    *output = conv->data_format == NN_CHANNELS_LAST
                  ? NN_SHAPE(-1, outputs[0], outputs[1], outputs[2], conv->filters)
                  : NN_SHAPE(-1, conv->filters, outputs[0], outputs[1], outputs[2]);
    conv->depth = sizes[0];
    conv->out_depth = outputs[0];
    conv->pad_front = pads[0];
    conv->padded_depth = padded_depth;
    conv->plane = (nn_conv2d_geometry){
        .batch = 0,
        .in_height = (int)outputs[1],
        .in_width = (int)outputs[2],
        .in_channels = conv->filters,
        .out_height = (int)sizes[1],
        .out_width = (int)sizes[2],
        .out_channels = (int)channels,
        .kernel_height = conv->kernel_size[1],
        .kernel_width = conv->kernel_size[2],
        .stride_height = conv->strides[1],
        .stride_width = conv->strides[2],
        .dilation_height = conv->dilation_rate[1],
        .dilation_width = conv->dilation_rate[2],
        .pad_top = (int)pads[1],
        .pad_left = (int)pads[2],
        .groups = 1,
    };
    snprintf(layer->explanation, sizeof layer->explanation,
             "%s: %s; %s: %s; %s: %s; channels: filters = %d", axis_names[0], texts[0],
             axis_names[1], texts[1], axis_names[2], texts[2], conv->filters);
    return NN_OK;
}

/* The sizes of one call, in floats, each rounded up with nn_aligned_floats. */
typedef struct conv3d_transpose_sizes {
    /* the associated convolution over a batch of batch · D planes: its input_floats are
     * one tap's output planes, its output_floats the input volume */
    nn_conv2d_sizes planes;
    int64_t batch;
    int64_t plane_floats;   /* OH · OW · filters: one output plane of one sample */
    size_t kernel_slice;    /* one depth tap's (KH, KW, filters, C) kernel, in floats */
    size_t output;          /* the output batch (B, OD, OH, OW, filters) */
    size_t padded_count;    /* the padded output batch (B, Dp, OH, OW, filters), exactly */
    size_t padded;          /* the same, rounded up */
    bool pads;              /* whether the padded output differs from the output */
    bool whole;             /* whether a tap's planes are the whole output (a kernel one
                               deep, depth stride 1, nothing cropped) */
} conv3d_transpose_sizes;

static conv3d_transpose_sizes sizes_of(const conv3d_transpose_layer *conv,
                                       const nn_backend *backend, int64_t batch)
{
    conv3d_transpose_sizes s;
    const nn_conv2d_geometry *g = &conv->plane;
    s.planes = nn_conv2d_sizes_of(g, backend, batch * conv->depth);
    s.batch = batch;
    s.plane_floats = (int64_t)g->in_height * g->in_width * g->in_channels;
    s.kernel_slice = (size_t)g->kernel_height * (size_t)g->kernel_width *
                     (size_t)g->in_channels * (size_t)g->out_channels;
    s.output = nn_aligned_floats((size_t)(batch * conv->out_depth * s.plane_floats));
    s.padded_count = (size_t)(batch * conv->padded_depth * s.plane_floats);
    s.padded = nn_aligned_floats(s.padded_count);
    s.pads = conv->pad_front != 0 || conv->padded_depth != conv->out_depth;
    s.whole = conv->kernel_size[0] == 1 && conv->strides[0] == 1 && !s.pads &&
              conv->out_depth == conv->depth;
    return s;
}

static size_t conv3d_transpose_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                              int64_t batch)
{
    const conv3d_transpose_layer *conv = (const conv3d_transpose_layer *)layer;
    conv3d_transpose_sizes s = sizes_of(conv, backend, batch);
    bool first = conv->data_format == NN_CHANNELS_FIRST;
    bool deep = conv->kernel_size[0] > 1;
    size_t volume = s.planes.output_floats;
    size_t padded = s.pads ? s.padded : 0;
    size_t tap = s.whole ? 0 : s.planes.input_floats;
    /* forward: [channels-last input and output] + padded output + one tap's planes + one
     * tap's padded output + the 2-D kernels' scratch */
    size_t forward = (first ? volume + s.output : 0) + padded + tap + (deep ? s.padded : 0) +
                     s.planes.kernel_scratch;
    /* backward: the activation's gradient + [its channels-last copy, the channels-last
     * input and input gradient] + padded gradient + one tap's planes of it + one tap's
     * input gradient + the 2-D kernels' scratch */
    size_t backward = s.output + (first ? s.output + 2 * volume : 0) + padded + tap +
                      (deep ? volume : 0) + s.planes.kernel_scratch;
    return forward > backward ? forward : backward;
}

/* The (B, Dp/sd, sd · plane) view of the padded output, and in it the window of the D
 * planes kernel depth tap `tap` writes. */
static nn_window2d_geometry tap_window(const conv3d_transpose_layer *conv,
                                       const conv3d_transpose_sizes *s, int tap)
{
    int64_t step = conv->strides[0];
    int64_t offset = (int64_t)tap * conv->dilation_rate[0];
    return (nn_window2d_geometry){
        .batch = s->batch,
        .channels = 1,
        .outer_height = conv->padded_depth / step,
        .outer_width = step * s->plane_floats,
        .inner_height = conv->depth,
        .inner_width = s->plane_floats,
        .top = offset / step,
        .left = offset % step * s->plane_floats,
    };
}

/* The output's place in the padded output, both seen as (B, depth, plane). */
static nn_window2d_geometry output_window(const conv3d_transpose_layer *conv,
                                          const conv3d_transpose_sizes *s)
{
    return (nn_window2d_geometry){
        .batch = s->batch,
        .channels = 1,
        .outer_height = conv->padded_depth,
        .outer_width = s->plane_floats,
        .inner_height = conv->out_depth,
        .inner_width = s->plane_floats,
        .top = conv->pad_front,
        .left = 0,
    };
}

static nn_status conv3d_transpose_forward(nn_layer *layer, nn_exec *exec,
                                          const nn_tensor *input, nn_tensor *output)
{
    conv3d_transpose_layer *conv = (conv3d_transpose_layer *)layer;
    const nn_backend *backend = exec->backend;
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, SIZE_LIMIT / conv->depth));
    conv3d_transpose_sizes s = sizes_of(conv, backend, batch);
    const nn_conv2d_geometry *g = &s.planes.geometry;
    bool last = conv->data_format == NN_CHANNELS_LAST;
    const float *kernel = nn_tensor_f32(layer->params[0].value);
    const float *bias = conv->use_bias ? nn_tensor_f32(layer->params[1].value) : NULL;
    float *out = nn_tensor_f32(output);
    size_t n = nn_tensor_count(output);
    int64_t out_spatial = conv->out_depth * g->in_height * g->in_width;

    float *next = exec->scratch;
    const float *volume = nn_tensor_f32(input);
    float *out_last = out;
    if (!last) {
        float *input_last = next;
        out_last = input_last + s.planes.output_floats;
        next = out_last + s.output;
        backend->to_channels_last(input_last, volume, batch, g->out_channels,
                                  conv->depth * g->out_height * g->out_width);
        volume = input_last;
    }
    /* The taps' planes are summed in the padded output: the output itself when nothing
     * is cropped. */
    float *padded = out_last;
    if (s.pads) {
        padded = next;
        next += s.padded;
    }
    float *tap_planes = next;
    if (!s.whole)
        next += s.planes.input_floats;
    float *tap_padded = next;
    if (conv->kernel_size[0] > 1)
        next += s.padded;
    float *kernel_scratch = next;

    for (int tap = 0; tap < conv->kernel_size[0]; tap++) {
        const float *slice = kernel + (size_t)tap * s.kernel_slice;
        if (s.whole) {
            backend->conv2d_backward(out_last, NULL, NULL, volume, NULL, slice, g,
                                     kernel_scratch);
            continue;
        }
        backend->conv2d_backward(tap_planes, NULL, NULL, volume, NULL, slice, g,
                                 kernel_scratch);
        /* The first tap's planes, zeros around, start the sum; the others add to it. */
        nn_window2d_geometry window = tap_window(conv, &s, tap);
        backend->window2d_embed(tap == 0 ? padded : tap_padded, tap_planes, &window);
        if (tap > 0)
            backend->add(padded, tap_padded, s.padded_count);
    }
    if (s.pads) {
        nn_window2d_geometry place = output_window(conv, &s);
        backend->window2d_extract(out_last, padded, &place);
    }
    if (bias)
        backend->bias_add(out_last, bias, batch * out_spatial, g->in_channels);
    if (!last)
        backend->to_channels_first(out, out_last, batch, g->in_channels, out_spatial);
    /* As Conv2DTranspose: the activation sees the tensor in its own layout, so a
     * channels-first softmax normalises the width. */
    nn_layer_activate_forward(layer, exec, out, n,
                              last ? (size_t)g->in_channels : (size_t)g->in_width);
    return NN_OK;
}

static nn_status conv3d_transpose_backward(nn_layer *layer, nn_exec *exec,
                                           const nn_tensor *input, const nn_tensor *output,
                                           const nn_tensor *doutput, nn_tensor *dinput)
{
    conv3d_transpose_layer *conv = (conv3d_transpose_layer *)layer;
    const nn_backend *backend = exec->backend;
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, SIZE_LIMIT / conv->depth));
    conv3d_transpose_sizes s = sizes_of(conv, backend, batch);
    const nn_conv2d_geometry *g = &s.planes.geometry;
    bool last = conv->data_format == NN_CHANNELS_LAST;
    const float *kernel = nn_tensor_f32(layer->params[0].value);
    float *dkernel = layer->params[0].grad ? nn_tensor_f32(layer->params[0].grad) : NULL;
    float *dbias = conv->use_bias && layer->params[1].grad ? nn_tensor_f32(layer->params[1].grad)
                                                           : NULL;
    size_t n = nn_tensor_count(output);
    int64_t in_spatial = conv->depth * g->out_height * g->out_width;
    int64_t out_spatial = conv->out_depth * g->in_height * g->in_width;

    /* The derivative of the activation goes into scratch so doutput stays intact; a
     * channels-last layer with none to take (linear, or already taken by the model)
     * reads doutput itself. As Conv2DTranspose. */
    float *dz = exec->scratch;
    float *next = dz + s.output;
    bool as_is = last && (exec->doutput_is_preactivation ||
                          layer->activation.kind == NN_ACTIVATION_LINEAR);
    if (!as_is)
        nn_layer_activate_backward(layer, exec, dz, nn_tensor_f32(doutput),
                                   nn_tensor_f32(output), n,
                                   last ? (size_t)g->in_channels : (size_t)g->in_width);
    const float *gradient = as_is ? nn_tensor_f32(doutput) : dz;
    const float *volume = nn_tensor_f32(input);
    float *dvolume = dinput ? nn_tensor_f32(dinput) : NULL;
    if (!last) {
        float *dz_last = next;
        float *input_last = dz_last + s.output;
        float *dinput_last = input_last + s.planes.output_floats;
        next = dinput_last + s.planes.output_floats;
        backend->to_channels_last(dz_last, dz, batch, g->in_channels, out_spatial);
        backend->to_channels_last(input_last, volume, batch, g->out_channels, in_spatial);
        gradient = dz_last;
        volume = input_last;
        dvolume = dinput ? dinput_last : NULL;
    }
    if (dbias)
        backend->column_sums(dbias, gradient, batch * out_spatial, g->in_channels);
    if (dkernel || dvolume) {
        /* The output gradient in the padded output, zeros on the cropped planes. */
        const float *padded = gradient;
        if (s.pads) {
            float *padded_gradient = next;
            next += s.padded;
            nn_window2d_geometry place = output_window(conv, &s);
            backend->window2d_embed(padded_gradient, gradient, &place);
            padded = padded_gradient;
        }
        float *tap_planes = next;
        if (!s.whole)
            next += s.planes.input_floats;
        float *tap_dvolume = next;
        if (conv->kernel_size[0] > 1)
            next += s.planes.output_floats;
        float *kernel_scratch = next;

        size_t volume_count = (size_t)(batch * in_spatial) * (size_t)g->out_channels;
        for (int tap = 0; tap < conv->kernel_size[0]; tap++) {
            const float *slice = kernel + (size_t)tap * s.kernel_slice;
            const float *planes = padded;
            if (!s.whole) {
                nn_window2d_geometry window = tap_window(conv, &s, tap);
                backend->window2d_extract(tap_planes, padded, &window);
                planes = tap_planes;
            }
            /* The associated convolution's kernel gradient, its input the tap's planes
             * of the output gradient and its output gradient the layer's input. */
            if (dkernel)
                backend->conv2d_backward(NULL, dkernel + (size_t)tap * s.kernel_slice, NULL,
                                         volume, planes, slice, g, kernel_scratch);
            if (!dvolume)
                continue;
            /* The first tap writes the input gradient; the others add to it. */
            backend->conv2d_forward(tap == 0 ? dvolume : tap_dvolume, planes, slice, NULL,
                                    nn_activation_default(NN_ACTIVATION_LINEAR), g,
                                    kernel_scratch);
            if (tap > 0)
                backend->add(dvolume, tap_dvolume, volume_count);
        }
    }
    if (dinput && !last)
        backend->to_channels_first(nn_tensor_f32(dinput), dvolume, batch, g->out_channels,
                                   in_spatial);
    return NN_OK;
}

const nn_layer_class nn_conv3d_transpose_class = {
    .name = "Conv3DTranspose",
    .alias = "Convolution3DTranspose",
    .base_name = "conv3d_transpose",
    .doc = "Transposed 3D convolution (deconvolution): the reverse of Conv3D's shape change "
           "on volumes (batch, depth, height, width, channels). With strides 2 it doubles "
           "the depth, height and width; used in the decoders of 3-D autoencoders and "
           "segmentation networks (scans, video). The kernel has shape (kernel depth, kernel "
           "height, kernel width, filters, input channels).",
    .example = "local up = nn.layers.Conv3DTranspose{8, 3, strides = 2, padding = 'same'}\n"
               "print(up(nn.random.randn(2, 4, 8, 8, 16)).shape)   --> (2, 8, 16, 16, 8)\n"
               "print(up.kernel.shape)    --> (3, 3, 3, 8, 16)",
    .size = sizeof(conv3d_transpose_layer),
    .args = conv3d_transpose_args,
    .arg_count = (int)(sizeof conv3d_transpose_args / sizeof conv3d_transpose_args[0]),
    /* As Conv2DTranspose: Keras accepts every argument by position; the first eight are
     * used. */
    .positional_count = 8,
    .set_defaults = conv3d_transpose_set_defaults,
    .validate = conv3d_transpose_validate,
    .build = conv3d_transpose_build,
    .scratch_floats = conv3d_transpose_scratch_floats,
    .forward = conv3d_transpose_forward,
    .backward = conv3d_transpose_backward,
};
