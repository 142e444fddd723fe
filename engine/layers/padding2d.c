/* ZeroPadding2D and Cropping2D: rows and columns of zeros added around each image, or
 * removed from its edges, as Keras. ZeroPadding1D and Cropping1D do it at the start and
 * end of a sequence (batch, steps, channels), an image one row high. Each is the other's gradient: padding embeds the
 * input in a larger zero image and its backward cuts the window out again; cropping
 * cuts the window and its backward embeds the gradient. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

enum { ZERO_PADDING, CROPPING };

typedef struct padding2d_layer {
    nn_layer base;
    int sides[4];    /* top, bottom, left, right */
    int data_format; /* NN_CHANNELS_LAST or NN_CHANNELS_FIRST */
    int kind;        /* ZERO_PADDING or CROPPING, from the class */
    bool sequence;   /* the 1-D classes: sides[0..1] stay 0 */
} padding2d_layer;

#define ARG(field) offsetof(padding2d_layer, field)

#define DATA_FORMAT_ARG                                                                     \
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,                    \
     nn_data_format_choices, "'channels_last'",                                             \
     "'channels_last' (batch, height, width, channels) or 'channels_first' (batch, "        \
     "channels, height, width)."}
#define INPUT_SHAPE_ARG                                                                     \
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL, \
     "None", "Shape of one input sample (without the batch axis), for the first layer."}

static const nn_arg_spec zero_padding2d_args[] = {
    {"padding", NN_ARG_SIDES, ARG(sides), false, 0, 1 << 30, false, NULL, "((1, 1), (1, 1))",
     "Rows and columns of zeros to add: n on every side, {height, width} on both sides of "
     "each axis, or {{top, bottom}, {left, right}}."},
    DATA_FORMAT_ARG,
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'zero_padding2d', 'zero_padding2d_1', ..."},
    INPUT_SHAPE_ARG,
};

static const nn_arg_spec cropping2d_args[] = {
    {"cropping", NN_ARG_SIDES, ARG(sides), false, 0, 1 << 30, false, NULL, "((0, 0), (0, 0))",
     "Rows and columns to remove from the edges: n on every side, {height, width} on both "
     "sides of each axis, or {{top, bottom}, {left, right}}."},
    DATA_FORMAT_ARG,
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'cropping2d', 'cropping2d_1', ..."},
    INPUT_SHAPE_ARG,
};

static const nn_arg_spec zero_padding1d_args[] = {
    {"padding", NN_ARG_PAIR, ARG(sides[2]), false, 0, 1 << 30, false, NULL, "(1, 1)",
     "Steps of zeros to add: n at both ends, or {start, end}."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, steps, channels) or 'channels_first' (batch, channels, "
     "steps)."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'zero_padding1d', 'zero_padding1d_1', ..."},
    INPUT_SHAPE_ARG,
};

static const nn_arg_spec cropping1d_args[] = {
    {"cropping", NN_ARG_PAIR, ARG(sides[2]), false, 0, 1 << 30, false, NULL, "(1, 1)",
     "Steps to remove: n at both ends, or {start, end}."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'cropping1d', 'cropping1d_1', ..."},
    INPUT_SHAPE_ARG,
};

static void zero_padding2d_set_defaults(nn_layer *layer)
{
    padding2d_layer *padding = (padding2d_layer *)layer;
    padding->kind = ZERO_PADDING;
    for (int side = 0; side < 4; side++)
        padding->sides[side] = 1;
}

static void cropping2d_set_defaults(nn_layer *layer)
{
    ((padding2d_layer *)layer)->kind = CROPPING;
}

static void zero_padding1d_set_defaults(nn_layer *layer)
{
    padding2d_layer *padding = (padding2d_layer *)layer;
    zero_padding2d_set_defaults(layer);
    padding->sides[0] = padding->sides[1] = 0;
    padding->sequence = true;
}

static void cropping1d_set_defaults(nn_layer *layer)
{
    padding2d_layer *padding = (padding2d_layer *)layer;
    padding->kind = CROPPING;
    padding->sides[2] = padding->sides[3] = 1;
    padding->sequence = true;
}

static nn_status padding2d_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    padding2d_layer *padding = (padding2d_layer *)layer;
    const int *s = padding->sides;
    int64_t height, width, channels;
    bool last = padding->data_format == NN_CHANNELS_LAST;
    NN_TRY((padding->sequence ? nn_sequence_input : nn_image_input)(
        layer, input, padding->data_format, &height, &width, &channels));
    int64_t sign = padding->kind == ZERO_PADDING ? 1 : -1;
    int64_t new_height = height + sign * ((int64_t)s[0] + s[1]);
    int64_t new_width = width + sign * ((int64_t)s[2] + s[3]);
    /* The kernels index rows and columns with int on the GPU. */
    if (new_height > (1 << 30) || new_width > (1 << 30))
        return nn_error(NN_ERR_SHAPE, "padding ((%d, %d), (%d, %d)) makes images of %lld x "
                        "%lld cells; at most %d are supported on each axis",
                        s[0], s[1], s[2], s[3], (long long)new_height, (long long)new_width,
                        1 << 30);
    if (padding->sequence && new_width < 1) {
        char received[128];
        return nn_error(NN_ERR_SHAPE,
                        "cropping (%d, %d) removes every step of input %s: it keeps %lld of "
                        "%lld; at least one must stay",
                        s[2], s[3], nn_shape_format(input, received, sizeof received),
                        (long long)(new_width > 0 ? new_width : 0), (long long)width);
    }
    if (new_height < 1 || new_width < 1) {
        char received[128];
        return nn_error(NN_ERR_SHAPE,
                        "cropping ((%d, %d), (%d, %d)) removes every %s of input %s: it keeps "
                        "%lld of %lld rows and %lld of %lld columns; at least one of each "
                        "must stay",
                        s[0], s[1], s[2], s[3], new_height < 1 ? "row" : "column",
                        nn_shape_format(input, received, sizeof received),
                        (long long)(new_height > 0 ? new_height : 0), (long long)height,
                        (long long)(new_width > 0 ? new_width : 0), (long long)width);
    }
    char op = padding->kind == ZERO_PADDING ? '+' : '-';
    if (padding->sequence) {
        *output = last ? NN_SHAPE(-1, new_width, channels) : NN_SHAPE(-1, channels, new_width);
        snprintf(layer->explanation, sizeof layer->explanation,
                 "steps: %lld %c %d %c %d = %lld; channels: %lld (unchanged)", (long long)width,
                 op, s[2], op, s[3], (long long)new_width, (long long)channels);
        return NN_OK;
    }
    *output = last ? NN_SHAPE(-1, new_height, new_width, channels)
                   : NN_SHAPE(-1, channels, new_height, new_width);
    snprintf(layer->explanation, sizeof layer->explanation,
             "height: %lld %c %d %c %d = %lld; width: %lld %c %d %c %d = %lld; channels: "
             "%lld (unchanged)",
             (long long)height, op, s[0], op, s[1], (long long)new_height, (long long)width, op,
             s[2], op, s[3], (long long)new_width, (long long)channels);
    return NN_OK;
}

/* The window of the larger image (padding's output, cropping's input) that the smaller
 * one is, for a batch of `larger` (whose sizes include the batch). */
static nn_window2d_geometry window_of(const padding2d_layer *padding, const nn_shape *larger)
{
    nn_window2d_geometry g;
    nn_image_kernel_view(larger, padding->data_format, &g.batch, &g.outer_height,
                         &g.outer_width, &g.channels);
    const int *s = padding->sides;
    g.top = s[0];
    g.left = s[2];
    g.inner_height = g.outer_height - s[0] - s[1];
    g.inner_width = g.outer_width - s[2] - s[3];
    return g;
}

static nn_status padding2d_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                   nn_tensor *output)
{
    padding2d_layer *padding = (padding2d_layer *)layer;
    if (padding->kind == ZERO_PADDING) {
        nn_window2d_geometry g = window_of(padding, &output->shape);
        exec->backend->window2d_embed(nn_tensor_f32(output), nn_tensor_f32(input), &g);
    } else {
        nn_window2d_geometry g = window_of(padding, &input->shape);
        exec->backend->window2d_extract(nn_tensor_f32(output), nn_tensor_f32(input), &g);
    }
    return NN_OK;
}

static nn_status padding2d_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                    const nn_tensor *output, const nn_tensor *doutput,
                                    nn_tensor *dinput)
{
    padding2d_layer *padding = (padding2d_layer *)layer;
    if (!dinput)
        return NN_OK;
    if (padding->kind == ZERO_PADDING) {
        nn_window2d_geometry g = window_of(padding, &output->shape);
        exec->backend->window2d_extract(nn_tensor_f32(dinput), nn_tensor_f32(doutput), &g);
    } else {
        nn_window2d_geometry g = window_of(padding, &input->shape);
        exec->backend->window2d_embed(nn_tensor_f32(dinput), nn_tensor_f32(doutput), &g);
    }
    return NN_OK;
}

const nn_layer_class nn_zero_padding2d_class = {
    .name = "ZeroPadding2D",
    .base_name = "zero_padding2d",
    .doc = "Adds rows and columns of zeros at the top, bottom, left and right of each "
           "image, as a convolution's 'same' padding does, but explicitly.",
    .example = "print(nn.layers.ZeroPadding2D{{{1, 2}, {3, 4}}}(nn.ones(1, 5, 5, 2)).shape)  "
               "--> (1, 8, 12, 2)",
    .size = sizeof(padding2d_layer),
    .args = zero_padding2d_args,
    .arg_count = (int)(sizeof zero_padding2d_args / sizeof zero_padding2d_args[0]),
    .positional_count = 1,
    .set_defaults = zero_padding2d_set_defaults,
    .build = padding2d_build,
    .forward = padding2d_forward,
    .backward = padding2d_backward,
};

const nn_layer_class nn_cropping2d_class = {
    .name = "Cropping2D",
    .base_name = "cropping2d",
    .doc = "Removes rows and columns from the top, bottom, left and right edges of each "
           "image.",
    .example = "print(nn.layers.Cropping2D{{{2, 2}, {4, 4}}}(nn.ones(1, 28, 28, 3)).shape)  "
               "--> (1, 24, 20, 3)",
    .size = sizeof(padding2d_layer),
    .args = cropping2d_args,
    .arg_count = (int)(sizeof cropping2d_args / sizeof cropping2d_args[0]),
    .positional_count = 1,
    .set_defaults = cropping2d_set_defaults,
    .build = padding2d_build,
    .forward = padding2d_forward,
    .backward = padding2d_backward,
};

const nn_layer_class nn_zero_padding1d_class = {
    .name = "ZeroPadding1D",
    .base_name = "zero_padding1d",
    .doc = "Adds steps of zeros at the start and the end of each sequence.",
    .example = "print(nn.layers.ZeroPadding1D{{1, 2}}(nn.ones(1, 5, 3)).shape)  --> (1, 8, 3)",
    .size = sizeof(padding2d_layer),
    .args = zero_padding1d_args,
    .arg_count = (int)(sizeof zero_padding1d_args / sizeof zero_padding1d_args[0]),
    .positional_count = 1,
    .set_defaults = zero_padding1d_set_defaults,
    .build = padding2d_build,
    .forward = padding2d_forward,
    .backward = padding2d_backward,
};

const nn_layer_class nn_cropping1d_class = {
    .name = "Cropping1D",
    .base_name = "cropping1d",
    .doc = "Removes steps from the start and the end of each sequence (batch, steps, "
           "channels).",
    .example = "print(nn.layers.Cropping1D{{1, 2}}(nn.ones(1, 10, 3)).shape)  --> (1, 7, 3)",
    .size = sizeof(padding2d_layer),
    .args = cropping1d_args,
    .arg_count = (int)(sizeof cropping1d_args / sizeof cropping1d_args[0]),
    .positional_count = 1,
    .set_defaults = cropping1d_set_defaults,
    .build = padding2d_build,
    .forward = padding2d_forward,
    .backward = padding2d_backward,
};
