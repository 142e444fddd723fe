/* Conv3D: output = activation(conv3d(input, kernel) + bias) over three spatial axes
 * (depth, height, width), with Keras' arguments (strides, 'valid'/'same' padding,
 * dilation, groups, data_format).
 *
 * It runs on the 2-D convolution kernels, one kernel depth tap at a time, so every
 * backend runs it without a 3-D kernel of its own:
 *   out[b, od] = bias + Σ_kd conv2d(x[b, od·sd + kd·dd - pad_front], kernel[kd])
 * where kernel[kd], the kd-th slice of Keras' (kd, kh, kw, C/G, F) kernel, is a contiguous
 * (kh, kw, C/G, F) Conv2D kernel. The input, padded along the depth (zero planes in front
 * and behind, then more behind until the padded depth Dp is a multiple of sd), is read as
 * (B, Dp/sd, sd·H·W·C): plane od·sd + kd·dd = (od + q)·sd + r, with kd·dd = q·sd + r, is
 * row od + q, columns from r·H·W·C, so the OD planes a tap reads are one window of that
 * view (window2d_extract), a batch of B·OD images for conv2d_forward. Backward runs the
 * same windows through conv2d_backward and adds each tap's input gradient back into a
 * padded gradient (window2d_embed, add), from which the input's part is cut. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct conv3d_layer {
    nn_layer base;
    int filters;
    int kernel_size[3]; /* (depth, height, width) */
    int strides[3];
    int padding;        /* NN_PADDING_VALID or NN_PADDING_SAME */
    int data_format;    /* NN_CHANNELS_LAST or NN_CHANNELS_FIRST */
    int dilation_rate[3];
    int groups;
    bool use_bias;
    nn_initializer kernel_initializer, bias_initializer;
    nn_regularizer kernel_regularizer, bias_regularizer;
    nn_constraint kernel_constraint, bias_constraint;
    /* Sizes filled by build. The depth axis: input D, output OD, zero planes before the
     * input (Keras' 'same': the smaller half of the padding), padded depth Dp (a multiple
     * of the depth stride, at least D plus the padding on both sides). */
    int64_t depth, out_depth, pad_front, padded_depth;
    /* The depth stride the taps' view uses: the layer's, or 1 when there is one output
     * plane (its stride then moves nothing, and the padded depth need not reach it). */
    int64_t depth_step;
    /* One depth tap's convolution over the (height, width) planes; its batch is set per
     * call to batch · OD. */
    nn_conv2d_geometry plane;
} conv3d_layer;

#define ARG(field) offsetof(conv3d_layer, field)

/* In Keras' constructor order, so that positional arguments mean what they mean there. */
static const nn_arg_spec conv3d_args[] = {
    {"filters", NN_ARG_INT, ARG(filters), true, 1, 1 << 30, false, NULL, NULL,
     "Number of output channels: how many filters the input is convolved with."},
    {"kernel_size", NN_ARG_TRIPLE, ARG(kernel_size), true, 1, 1 << 30, false, NULL, NULL,
     "Depth, height and width of the convolution window; one int means a cube."},
    {"strides", NN_ARG_TRIPLE, ARG(strides), false, 1, 1 << 30, false, NULL, "(1, 1, 1)",
     "Step of the window along the depth, the height and the width. Cannot be combined "
     "with a dilation_rate other than 1."},
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, nn_padding_choices,
     "'valid'",
     "'valid': no padding, the window stays inside the input; 'same': zeros around the "
     "input so that the output has ceil(input / strides) cells along each axis."},
    NN_VOLUME_DATA_FORMAT_ARG,
    {"dilation_rate", NN_ARG_TRIPLE, ARG(dilation_rate), false, 1, 1 << 30, false, NULL,
     "(1, 1, 1)",
     "Spacing between the kernel's taps (atrous convolution): a kernel of size k covers "
     "k + (k - 1)(d - 1) cells."},
    {"groups", NN_ARG_INT, ARG(groups), false, 1, 1 << 30, false, NULL, "1",
     "Number of groups the input channels are split into, each convolved with its own "
     "filters / groups filters; input channels and filters must both be divisible by it."},
    NN_CONV_WEIGHT_ARGS("Initializer for the kernel, of shape (kernel depth, kernel height, "
                        "kernel width, channels / groups, filters)."),
    NN_NAME_AND_INPUT_SHAPE_ARGS("conv3d"),
};

/* Every count the 2-D kernels index with an int (a batch of planes, one plane, the
 * kernel) stays below this. */
static const int64_t SIZE_LIMIT = INT_MAX;

static void conv3d_set_defaults(nn_layer *layer)
{
    conv3d_layer *conv = (conv3d_layer *)layer;
    for (int axis = 0; axis < 3; axis++)
        conv->strides[axis] = conv->dilation_rate[axis] = 1;
    conv->groups = 1;
    conv->padding = NN_PADDING_VALID;
    conv->data_format = NN_CHANNELS_LAST;
    conv->use_bias = true;
    conv->kernel_initializer = nn_initializer_default(NN_INITIALIZER_GLOROT_UNIFORM);
    conv->bias_initializer = nn_initializer_default(NN_INITIALIZER_ZEROS);
}

static nn_status conv3d_validate(nn_layer *layer)
{
    conv3d_layer *conv = (conv3d_layer *)layer;
    if (conv->filters % conv->groups != 0)
        return nn_error(NN_ERR_ARGUMENT,
                        "%s \"%s\": the number of filters must be evenly divisible by "
                        "the number of groups. Received: groups=%d, filters=%d.",
                        layer->cls->name, layer->name, conv->groups, conv->filters);
    return nn_check_strides_or_dilation(layer, conv->strides, conv->dilation_rate, 3, false);
}

static nn_status conv3d_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    conv3d_layer *conv = (conv3d_layer *)layer;
    char received[128];
    nn_shape_format(input, received, sizeof received);
    int64_t sizes[3], channels;
    NN_TRY(nn_volume_input(layer, input, conv->data_format, sizes, &channels));
    if (channels % conv->groups != 0)
        return nn_error(NN_ERR_SHAPE,
                        "Input 0 of layer \"%s\": the number of input channels must be "
                        "evenly divisible by the number of groups. Received groups=%d, but "
                        "the input has %lld channels (full input shape is %s).",
                        layer->name, conv->groups, (long long)channels, received);

    static const char *const axis_names[3] = {"depth", "height", "width"};
    char texts[3][160];
    int64_t outputs[3], pads[3];
    bool fits = true;
    for (int axis = 0; axis < 3; axis++) {
        outputs[axis] = nn_window_output(sizes[axis], conv->kernel_size[axis],
                                         conv->strides[axis], conv->dilation_rate[axis],
                                         conv->padding, &pads[axis], texts[axis],
                                         sizeof texts[axis]);
        fits &= outputs[axis] > 0;
    }
    char kernel_size[48], strides[48], dilation[48];
    nn_triple_text(conv->kernel_size, kernel_size, sizeof kernel_size);
    nn_triple_text(conv->strides, strides, sizeof strides);
    nn_triple_text(conv->dilation_rate, dilation, sizeof dilation);
    const char *padding_name = nn_padding_choices[conv->padding];
    if (!fits)
        return nn_error(NN_ERR_SHAPE,
                        "One of the dimensions in the output is <= 0 due to downsampling in "
                        "%s. Consider increasing the input size. Received input shape %s "
                        "with kernel_size=%s, strides=%s, dilation_rate=%s, padding='%s': "
                        "the window does not fit (depth: %s; height: %s; width: %s).",
                        layer->name, received, kernel_size, strides, dilation, padding_name,
                        texts[0], texts[1], texts[2]);

    /* The depth padded as the taps read it: 'same' pads the window's overhang, the
     * smaller half in front; then whole planes behind up to a multiple of the stride, so
     * that the padded input is a (Dp / sd, sd · plane) matrix. */
    int64_t extents[3];
    for (int axis = 0; axis < 3; axis++)
        extents[axis] = (int64_t)(conv->kernel_size[axis] - 1) * conv->dilation_rate[axis];
    int64_t depth_stride = outputs[0] == 1 ? 1 : conv->strides[0];
    int64_t needed_depth = (outputs[0] - 1) * depth_stride + extents[0] + 1;
    if (needed_depth < sizes[0] + pads[0])
        needed_depth = sizes[0] + pads[0];
    int64_t padded_depth = (needed_depth + depth_stride - 1) / depth_stride * depth_stride;

    /* The 2-D kernels index one plane of input and output, the kernel's slice and the
     * batch of planes with ints; refuse sizes past that (and volumes whose padded copy
     * passes it) before anything is allocated. */
    int64_t group_channels = channels / conv->groups;
    nn_shape kernel_shape = NN_SHAPE(conv->kernel_size[0], conv->kernel_size[1],
                                     conv->kernel_size[2], group_channels, conv->filters);
    char kernel_text[96], output_text[96];
    nn_shape_format(&kernel_shape, kernel_text, sizeof kernel_text);
    snprintf(output_text, sizeof output_text, "(%lld, %lld, %lld, %d)", (long long)outputs[0],
             (long long)outputs[1], (long long)outputs[2], conv->filters);
    int64_t kernel_factors[] = {conv->kernel_size[0], conv->kernel_size[1],
                                conv->kernel_size[2], group_channels, conv->filters};
    int64_t input_factors[] = {sizes[0], sizes[1], sizes[2], channels};
    int64_t output_factors[] = {outputs[0], outputs[1], outputs[2], conv->filters};
    int64_t padded_factors[] = {padded_depth, sizes[1] + extents[1], sizes[2] + extents[2],
                                channels};
    int64_t count;
    if (!nn_product_within(kernel_factors, 5, SIZE_LIMIT, &count))
        return nn_error(NN_ERR_MEMORY,
                        "the kernel %s would hold more than %lld weights, the most a layer "
                        "supports",
                        kernel_text, (long long)SIZE_LIMIT);
    if (!nn_product_within(input_factors, 4, SIZE_LIMIT, &count) ||
        !nn_product_within(output_factors, 4, SIZE_LIMIT, &count))
        return nn_error(NN_ERR_MEMORY,
                        "one sample of input %s or of output %s has more than %lld elements, "
                        "the most a layer supports",
                        received, output_text, (long long)SIZE_LIMIT);
    if (!nn_product_within(padded_factors, 4, SIZE_LIMIT, &count))
        return nn_error(NN_ERR_MEMORY,
                        "with padding='%s', kernel_size=%s, strides=%s and dilation_rate=%s "
                        "one padded sample of input %s (%lld planes deep: the depth the taps "
                        "read, rounded up to a multiple of the depth stride) would have more "
                        "than the %lld elements a layer supports; use a smaller "
                        "dilation_rate or depth stride%s",
                        padding_name, kernel_size, strides, dilation, received,
                        (long long)padded_depth, (long long)SIZE_LIMIT,
                        conv->padding == NN_PADDING_SAME ? ", or padding='valid'" : "");

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
    conv->depth_step = depth_stride;
    conv->plane = (nn_conv2d_geometry){
        .batch = 0,
        .in_height = (int)sizes[1],
        .in_width = (int)sizes[2],
        .in_channels = (int)channels,
        .out_height = (int)outputs[1],
        .out_width = (int)outputs[2],
        .out_channels = conv->filters,
        .kernel_height = conv->kernel_size[1],
        .kernel_width = conv->kernel_size[2],
        .stride_height = conv->strides[1],
        .stride_width = conv->strides[2],
        .dilation_height = conv->dilation_rate[1],
        .dilation_width = conv->dilation_rate[2],
        .pad_top = (int)pads[1],
        .pad_left = (int)pads[2],
        .groups = conv->groups,
    };
    int written = snprintf(layer->explanation, sizeof layer->explanation,
                           "%s: %s; %s: %s; %s: %s; channels: filters = %d", axis_names[0],
                           texts[0], axis_names[1], texts[1], axis_names[2], texts[2],
                           conv->filters);
    if (conv->groups > 1 && written > 0 && (size_t)written < sizeof layer->explanation)
        snprintf(layer->explanation + written, sizeof layer->explanation - (size_t)written,
                 " (%d groups: each filter sees %lld of the %lld input channels)",
                 conv->groups, (long long)group_channels, (long long)channels);
    return NN_OK;
}

/* The sizes of one call, in floats, each rounded up with nn_aligned_floats. */
typedef struct conv3d_sizes {
    nn_conv2d_sizes planes; /* a batch of batch · OD planes: one tap's slice and output */
    int64_t batch;
    int64_t plane_floats;   /* H · W · C: one depth plane of one sample */
    size_t kernel_slice;    /* one depth tap's 2-D kernel, (KH, KW, C / G, F), in floats */
    size_t volume;          /* the input batch */
    size_t padded;          /* the padded input batch, (B, Dp, H, W, C) */
    bool pads;              /* whether the padded input differs from the input */
    bool whole;             /* whether a tap's slice is the whole padded input (a kernel
                               one deep with depth stride 1), so nothing is extracted */
} conv3d_sizes;

static conv3d_sizes conv3d_sizes_of(const conv3d_layer *conv, const nn_backend *backend,
                                    int64_t batch)
{
    conv3d_sizes s;
    const nn_conv2d_geometry *g = &conv->plane;
    s.planes = nn_conv2d_sizes_of(g, backend, batch * conv->out_depth);
    s.batch = batch;
    s.plane_floats = (int64_t)g->in_height * g->in_width * g->in_channels;
    s.kernel_slice = (size_t)g->kernel_height * (size_t)g->kernel_width *
                     (size_t)(g->in_channels / g->groups) * (size_t)g->out_channels;
    s.volume = nn_aligned_floats((size_t)(batch * conv->depth * s.plane_floats));
    s.padded = nn_aligned_floats((size_t)(batch * conv->padded_depth * s.plane_floats));
    s.pads = conv->pad_front != 0 || conv->padded_depth != conv->depth;
    s.whole = conv->depth_step == 1 && conv->out_depth == conv->padded_depth;
    return s;
}

static size_t conv3d_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                    int64_t batch)
{
    const conv3d_layer *conv = (const conv3d_layer *)layer;
    conv3d_sizes s = conv3d_sizes_of(conv, backend, batch);
    bool first = conv->data_format == NN_CHANNELS_FIRST;
    size_t padded = s.pads ? s.padded : 0;
    size_t slice = s.whole ? 0 : s.planes.input_floats;
    /* forward: [channels-last input and output] + padded input + slice + one tap's output
     * + the 2-D kernel's scratch */
    size_t forward = (first ? s.volume + s.planes.output_floats : 0) + padded + slice +
                     (conv->kernel_size[0] > 1 ? s.planes.output_floats : 0) +
                     s.planes.kernel_scratch;
    /* backward: the activation's gradient + [its channels-last copy, the channels-last
     * input and input gradient] + padded input + slice + slice gradient + padded
     * gradient + one tap's padded gradient + the 2-D kernel's scratch */
    size_t backward = s.planes.output_floats +
                      (first ? s.planes.output_floats + 2 * s.volume : 0) + padded + slice +
                      s.planes.input_floats + padded +
                      (conv->kernel_size[0] > 1 ? s.padded : 0) + s.planes.kernel_scratch;
    return forward > backward ? forward : backward;
}

/* The (B, Dp/sd, sd · plane) view of the padded input, and in it the window of the OD
 * planes kernel depth tap `tap` reads. */
static nn_window2d_geometry tap_window(const conv3d_layer *conv, const conv3d_sizes *s, int tap)
{
    int64_t stride = conv->depth_step;
    int64_t offset = (int64_t)tap * conv->dilation_rate[0];
    return (nn_window2d_geometry){
        .batch = s->batch,
        .channels = 1,
        .outer_height = conv->padded_depth / stride,
        .outer_width = stride * s->plane_floats,
        .inner_height = conv->out_depth,
        .inner_width = s->plane_floats,
        .top = offset / stride,
        .left = offset % stride * s->plane_floats,
    };
}

/* The input's place in the padded input, both seen as (B, depth, plane). */
static nn_window2d_geometry input_window(const conv3d_layer *conv, const conv3d_sizes *s)
{
    return (nn_window2d_geometry){
        .batch = s->batch,
        .channels = 1,
        .outer_height = conv->padded_depth,
        .outer_width = s->plane_floats,
        .inner_height = conv->depth,
        .inner_width = s->plane_floats,
        .top = conv->pad_front,
        .left = 0,
    };
}

static nn_status conv3d_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                nn_tensor *output)
{
    conv3d_layer *conv = (conv3d_layer *)layer;
    const nn_backend *backend = exec->backend;
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, SIZE_LIMIT / conv->out_depth));
    conv3d_sizes s = conv3d_sizes_of(conv, backend, batch);
    const nn_conv2d_geometry *g = &s.planes.geometry;
    bool last = conv->data_format == NN_CHANNELS_LAST;
    const float *kernel = nn_tensor_f32(layer->params[0].value);
    const float *bias = conv->use_bias ? nn_tensor_f32(layer->params[1].value) : NULL;
    float *out = nn_tensor_f32(output);
    size_t n = nn_tensor_count(output);
    int64_t out_spatial = conv->out_depth * g->out_height * g->out_width;

    float *next = exec->scratch;
    const float *volume = nn_tensor_f32(input);
    float *out_last = out;
    if (!last) {
        float *input_last = next;
        out_last = input_last + s.volume;
        next = out_last + s.planes.output_floats;
        backend->to_channels_last(input_last, volume, batch, g->in_channels,
                                  conv->depth * g->in_height * g->in_width);
        volume = input_last;
    }
    const float *padded = volume;
    if (s.pads) {
        nn_window2d_geometry place = input_window(conv, &s);
        backend->window2d_embed(next, volume, &place);
        padded = next;
        next += s.padded;
    }
    float *slice = next;
    if (!s.whole)
        next += s.planes.input_floats;
    float *tap_output = next;
    if (conv->kernel_size[0] > 1)
        next += s.planes.output_floats;
    float *kernel_scratch = next;

    nn_activation linear = nn_activation_default(NN_ACTIVATION_LINEAR);
    for (int tap = 0; tap < conv->kernel_size[0]; tap++) {
        const float *planes = padded;
        if (!s.whole) {
            nn_window2d_geometry window = tap_window(conv, &s, tap);
            backend->window2d_extract(slice, padded, &window);
            planes = slice;
        }
        /* The first tap writes the output with the bias; the others add to it. */
        backend->conv2d_forward(tap == 0 ? out_last : tap_output, planes,
                                kernel + (size_t)tap * s.kernel_slice, tap == 0 ? bias : NULL,
                                linear, g, kernel_scratch);
        if (tap > 0)
            backend->add(out_last, tap_output, n);
    }
    if (!last)
        backend->to_channels_first(out, out_last, batch, g->out_channels, out_spatial);
    /* As Conv2D: Keras applies the activation to the tensor in its own layout, so a
     * channels-first softmax normalises the width. */
    nn_layer_activate_forward(layer, exec, out, n,
                              last ? (size_t)g->out_channels : (size_t)g->out_width);
    return NN_OK;
}

static nn_status conv3d_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                 const nn_tensor *output, const nn_tensor *doutput,
                                 nn_tensor *dinput)
{
    conv3d_layer *conv = (conv3d_layer *)layer;
    const nn_backend *backend = exec->backend;
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, SIZE_LIMIT / conv->out_depth));
    conv3d_sizes s = conv3d_sizes_of(conv, backend, batch);
    const nn_conv2d_geometry *g = &s.planes.geometry;
    bool last = conv->data_format == NN_CHANNELS_LAST;
    const float *kernel = nn_tensor_f32(layer->params[0].value);
    float *dkernel = layer->params[0].grad ? nn_tensor_f32(layer->params[0].grad) : NULL;
    float *dbias = conv->use_bias && layer->params[1].grad ? nn_tensor_f32(layer->params[1].grad)
                                                           : NULL;
    size_t n = nn_tensor_count(output);
    int64_t in_spatial = conv->depth * g->in_height * g->in_width;
    int64_t out_spatial = conv->out_depth * g->out_height * g->out_width;

    /* The derivative of the activation goes into scratch so doutput stays intact; a
     * channels-last layer with none to take (linear, or already taken by the model)
     * reads doutput itself. As Conv2D. */
    float *dz = exec->scratch;
    float *next = dz + s.planes.output_floats;
    bool as_is = last && (exec->doutput_is_preactivation ||
                          layer->activation.kind == NN_ACTIVATION_LINEAR);
    if (!as_is)
        nn_layer_activate_backward(layer, exec, dz, nn_tensor_f32(doutput),
                                   nn_tensor_f32(output), n,
                                   last ? (size_t)g->out_channels : (size_t)g->out_width);
    const float *gradient = as_is ? nn_tensor_f32(doutput) : dz;
    const float *volume = nn_tensor_f32(input);
    float *dvolume = dinput ? nn_tensor_f32(dinput) : NULL;
    if (!last) {
        float *dz_last = next;
        float *input_last = dz_last + s.planes.output_floats;
        float *dinput_last = input_last + s.volume;
        next = dinput_last + s.volume;
        backend->to_channels_last(dz_last, dz, batch, g->out_channels, out_spatial);
        backend->to_channels_last(input_last, volume, batch, g->in_channels, in_spatial);
        gradient = dz_last;
        volume = input_last;
        dvolume = dinput ? dinput_last : NULL;
    }
    const float *padded = volume;
    if (s.pads) {
        nn_window2d_geometry place = input_window(conv, &s);
        backend->window2d_embed(next, volume, &place);
        padded = next;
        next += s.padded;
    }
    float *slice = next;
    if (!s.whole)
        next += s.planes.input_floats;
    float *dslice = next;
    next += s.planes.input_floats;
    /* Each tap's input gradient, placed in the padded depth, is summed in dpadded: the
     * input gradient itself when nothing is padded. */
    float *dpadded = dvolume;
    if (s.pads) {
        dpadded = next;
        next += s.padded;
    }
    float *dtap = next;
    if (conv->kernel_size[0] > 1)
        next += s.padded;
    float *kernel_scratch = next;

    size_t padded_count = (size_t)(batch * conv->padded_depth * s.plane_floats);
    for (int tap = 0; tap < conv->kernel_size[0]; tap++) {
        float *tap_dkernel = dkernel ? dkernel + (size_t)tap * s.kernel_slice : NULL;
        /* The bias gradient, the sum of the output gradient, is the same for every tap. */
        float *tap_dbias = tap == 0 ? dbias : NULL;
        if (!tap_dkernel && !tap_dbias && !dvolume)
            continue;
        nn_window2d_geometry window = tap_window(conv, &s, tap);
        const float *planes = padded;
        if (!s.whole) {
            backend->window2d_extract(slice, padded, &window);
            planes = slice;
        }
        if (dvolume && s.whole) {
            /* One tap, reading the whole padded input: its gradient is dpadded. */
            backend->conv2d_backward(dpadded, tap_dkernel, tap_dbias, gradient, planes,
                                     kernel + (size_t)tap * s.kernel_slice, g, kernel_scratch);
            continue;
        }
        backend->conv2d_backward(dvolume ? dslice : NULL, tap_dkernel, tap_dbias, gradient,
                                 planes, kernel + (size_t)tap * s.kernel_slice, g,
                                 kernel_scratch);
        if (!dvolume)
            continue;
        /* The first tap's gradient, zeros around, starts the sum; the others add to it. */
        backend->window2d_embed(tap == 0 ? dpadded : dtap, dslice, &window);
        if (tap > 0)
            backend->add(dpadded, dtap, padded_count);
    }
    if (dvolume && s.pads) {
        nn_window2d_geometry place = input_window(conv, &s);
        backend->window2d_extract(dvolume, dpadded, &place);
    }
    if (dinput && !last)
        backend->to_channels_first(nn_tensor_f32(dinput), dvolume, batch, g->in_channels,
                                   in_spatial);
    return NN_OK;
}

const nn_layer_class nn_conv3d_class = {
    .name = "Conv3D",
    .alias = "Convolution3D",
    .base_name = "conv3d",
    .doc = "3D convolution layer: slides `filters` learned windows of size kernel_size over "
           "the depth, height and width of a volume (batch, depth, height, width, channels) "
           "- video frames, or the slices of a scan - and sums over its channels, giving "
           "one output channel per filter: output = activation(conv3d(input, kernel) + "
           "bias). The kernel has shape (kernel depth, kernel height, kernel width, input "
           "channels / groups, filters).",
    .example = "local x = nn.random.randn(2, 8, 16, 16, 3)\n"
               "local c = nn.layers.Conv3D{8, 3, padding='same', activation='relu'}\n"
               "print(c(x).shape)        --> (2, 8, 16, 16, 8)\n"
               "print(c.kernel.shape)    --> (3, 3, 3, 3, 8)",
    .size = sizeof(conv3d_layer),
    .args = conv3d_args,
    .arg_count = (int)(sizeof conv3d_args / sizeof conv3d_args[0]),
    /* As Conv2D: Keras accepts every argument by position; the first eight are used. */
    .positional_count = 8,
    .set_defaults = conv3d_set_defaults,
    .validate = conv3d_validate,
    .build = conv3d_build,
    .scratch_floats = conv3d_scratch_floats,
    .forward = conv3d_forward,
    .backward = conv3d_backward,
};
