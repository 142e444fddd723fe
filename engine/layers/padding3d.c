/* ZeroPadding3D and Cropping3D: zeros added around each volume (batch, depth, height,
 * width, channels), or cells removed from its edges, as Keras. No kernel of their own: the
 * image window kernels run twice, first on every depth slice as an image (the batch
 * viewed as (B·D, H, W, C)), then along the depth, each slice one row of H'·W'·C values
 * (the batch viewed as (B, D, H'·W'·C, 1)). Each layer's backward is the other's forward.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

enum { ZERO_PADDING, CROPPING };

typedef struct padding3d_layer {
    nn_layer base;
    int sides[6];    /* front, back, top, bottom, left, right */
    int data_format; /* NN_CHANNELS_LAST or NN_CHANNELS_FIRST */
    int kind;        /* ZERO_PADDING or CROPPING, from the class */
} padding3d_layer;

#define ARG(field) offsetof(padding3d_layer, field)

static const nn_arg_spec zero_padding3d_args[] = {
    {"padding", NN_ARG_SIDES3, ARG(sides), false, 0, 1 << 30, false, NULL,
     "((1, 1), (1, 1), (1, 1))",
     "Slices, rows and columns of zeros to add: n on every side, {depth, height, width} on "
     "both sides of each axis, or {{front, back}, {top, bottom}, {left, right}}."},
    NN_VOLUME_DATA_FORMAT_ARG,
    NN_NAME_AND_INPUT_SHAPE_ARGS("zero_padding3d"),
};

static const nn_arg_spec cropping3d_args[] = {
    {"cropping", NN_ARG_SIDES3, ARG(sides), false, 0, 1 << 30, false, NULL,
     "((1, 1), (1, 1), (1, 1))",
     "Slices, rows and columns to remove from the edges: n on every side, {depth, height, "
     "width} on both sides of each axis, or {{front, back}, {top, bottom}, {left, right}}."},
    NN_VOLUME_DATA_FORMAT_ARG,
    NN_NAME_AND_INPUT_SHAPE_ARGS("cropping3d"),
};

/* Keras' defaults are the same for both: one on every side. */
static void zero_padding3d_set_defaults(nn_layer *layer)
{
    padding3d_layer *padding = (padding3d_layer *)layer;
    padding->kind = ZERO_PADDING;
    for (int side = 0; side < 6; side++)
        padding->sides[side] = 1;
}

static void cropping3d_set_defaults(nn_layer *layer)
{
    zero_padding3d_set_defaults(layer);
    ((padding3d_layer *)layer)->kind = CROPPING;
}

static nn_status padding3d_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    static const char *const axis_names[3] = {"depth", "height", "width"};
    static const char *const cell_names[3] = {"slice", "row", "column"};
    padding3d_layer *padding = (padding3d_layer *)layer;
    const int *s = padding->sides;
    int64_t sizes[3], channels, new_sizes[3];
    NN_TRY(nn_volume_input(layer, input, padding->data_format, sizes, &channels));
    int64_t sign = padding->kind == ZERO_PADDING ? 1 : -1;
    for (int axis = 0; axis < 3; axis++)
        new_sizes[axis] = sizes[axis] + sign * ((int64_t)s[2 * axis] + s[2 * axis + 1]);
    const char *what = padding->kind == ZERO_PADDING ? "padding" : "cropping";
    char received[128];
    nn_shape_format(input, received, sizeof received);
    for (int axis = 0; axis < 3; axis++)
        if (new_sizes[axis] < 1)
            return nn_error(NN_ERR_SHAPE,
                            "cropping ((%d, %d), (%d, %d), (%d, %d)) removes every %s of "
                            "input %s: it keeps %lld of %lld slices, %lld of %lld rows and "
                            "%lld of %lld columns; at least one of each must stay",
                            s[0], s[1], s[2], s[3], s[4], s[5], cell_names[axis], received,
                            (long long)(new_sizes[0] > 0 ? new_sizes[0] : 0),
                            (long long)sizes[0],
                            (long long)(new_sizes[1] > 0 ? new_sizes[1] : 0),
                            (long long)sizes[1],
                            (long long)(new_sizes[2] > 0 ? new_sizes[2] : 0),
                            (long long)sizes[2]);
    /* The kernels index rows and columns with int on the GPU; along the depth a row is
     * a whole slice of the output's height, width and (channels last) channels. */
    double slice = (double)new_sizes[1] * (double)new_sizes[2] *
                   (double)(padding->data_format == NN_CHANNELS_LAST ? channels : 1);
    if (new_sizes[0] > (1 << 30) || new_sizes[1] > (1 << 30) || new_sizes[2] > (1 << 30) ||
        slice > INT_MAX) /* in double: the product of sizes that large overflows int64 */
        return nn_error(NN_ERR_SHAPE,
                        "%s ((%d, %d), (%d, %d), (%d, %d)) makes volumes of %lld x %lld x "
                        "%lld cells with %lld channel%s; at most %d are supported on each "
                        "axis and %d values in a depth slice",
                        what, s[0], s[1], s[2], s[3], s[4], s[5], (long long)new_sizes[0],
                        (long long)new_sizes[1], (long long)new_sizes[2], (long long)channels,
                        channels == 1 ? "" : "s", 1 << 30, INT_MAX);
    bool last = padding->data_format == NN_CHANNELS_LAST;
    *output = last ? NN_SHAPE(-1, new_sizes[0], new_sizes[1], new_sizes[2], channels)
                   : NN_SHAPE(-1, channels, new_sizes[0], new_sizes[1], new_sizes[2]);
    char op = padding->kind == ZERO_PADDING ? '+' : '-';
    size_t used = 0;
    for (int axis = 0; axis < 3; axis++)
        used += (size_t)snprintf(layer->explanation + used, sizeof layer->explanation - used,
                                 "%s: %lld %c %d %c %d = %lld; ", axis_names[axis],
                                 (long long)sizes[axis], op, s[2 * axis], op, s[2 * axis + 1],
                                 (long long)new_sizes[axis]);
    snprintf(layer->explanation + used, sizeof layer->explanation - used,
             "channels: %lld (unchanged)", (long long)channels);
    return NN_OK;
}

/* A volume batch of `shape` as the channels-last batch the kernels take: itself with
 * channels last, (B·C, D, H, W, 1) with channels first (each channel a volume). */
static void volume_view(const padding3d_layer *padding, const nn_shape *shape, int64_t *batch,
                        int64_t sizes[3], int64_t *channels)
{
    bool last = padding->data_format == NN_CHANNELS_LAST;
    *batch = last ? shape->dims[0] : shape->dims[0] * shape->dims[1];
    for (int axis = 0; axis < 3; axis++)
        sizes[axis] = shape->dims[last ? 1 + axis : 2 + axis];
    *channels = last ? shape->dims[4] : 1;
}

/* The two windows of a call: `planes` on every depth slice of the input (B·D, H, W, C),
 * `depth` on the slices, (B, D, H'·W'·C, 1). Between them lies a batch of the input's
 * depth and the output's height and width, in scratch. */
typedef struct volume_windows {
    nn_window2d_geometry planes, depth;
} volume_windows;

static volume_windows windows_of(const padding3d_layer *padding, const nn_shape *input,
                                 const nn_shape *output)
{
    int64_t batch, in[3], out[3], channels;
    volume_view(padding, input, &batch, in, &channels);
    volume_view(padding, output, &batch, out, &channels);
    const int64_t *larger = padding->kind == ZERO_PADDING ? out : in;
    const int64_t *smaller = padding->kind == ZERO_PADDING ? in : out;
    const int *s = padding->sides;
    volume_windows w;
    w.planes = (nn_window2d_geometry){.batch = batch * in[0], .channels = channels,
                                      .outer_height = larger[1], .outer_width = larger[2],
                                      .inner_height = smaller[1], .inner_width = smaller[2],
                                      .top = s[2], .left = s[4]};
    int64_t slice = out[1] * out[2] * channels;
    w.depth = (nn_window2d_geometry){.batch = batch, .channels = 1,
                                     .outer_height = larger[0], .outer_width = slice,
                                     .inner_height = smaller[0], .inner_width = slice,
                                     .top = s[0], .left = 0};
    return w;
}

/* The floats between the two steps: the input's depth, the output's height and width. */
static size_t padding3d_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                       int64_t batch)
{
    (void)backend;
    const nn_shape *in = &layer->input_shape, *out = &layer->output_shape;
    /* Either layout holds the same cells: the sizes but the batch, multiplied. */
    bool last = ((const padding3d_layer *)layer)->data_format == NN_CHANNELS_LAST;
    int64_t depth = in->dims[last ? 1 : 2], channels = in->dims[last ? 4 : 1];
    int64_t height = out->dims[last ? 2 : 3], width = out->dims[last ? 3 : 4];
    return (size_t)batch * (size_t)depth * (size_t)height * (size_t)width * (size_t)channels;
}

/* The planes' batch (B·D, or B·C·D channels first) is an int on the GPU. */
static nn_status check_call(const nn_layer *layer, const nn_exec *exec, int64_t batch)
{
    const nn_shape *in = &layer->input_shape;
    bool last = ((const padding3d_layer *)layer)->data_format == NN_CHANNELS_LAST;
    int64_t planes = last ? in->dims[1] : in->dims[1] * in->dims[2];
    return nn_layer_check_call(layer, exec, batch, INT_MAX / planes);
}

static nn_status padding3d_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                   nn_tensor *output)
{
    padding3d_layer *padding = (padding3d_layer *)layer;
    NN_TRY(check_call(layer, exec, input->shape.dims[0]));
    volume_windows w = windows_of(padding, &input->shape, &output->shape);
    const nn_backend *backend = exec->backend;
    if (padding->kind == ZERO_PADDING) {
        backend->window2d_embed(exec->scratch, nn_tensor_f32(input), &w.planes);
        backend->window2d_embed(nn_tensor_f32(output), exec->scratch, &w.depth);
    } else {
        backend->window2d_extract(exec->scratch, nn_tensor_f32(input), &w.planes);
        backend->window2d_extract(nn_tensor_f32(output), exec->scratch, &w.depth);
    }
    return NN_OK;
}

static nn_status padding3d_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                    const nn_tensor *output, const nn_tensor *doutput,
                                    nn_tensor *dinput)
{
    padding3d_layer *padding = (padding3d_layer *)layer;
    if (!dinput)
        return NN_OK;
    NN_TRY(check_call(layer, exec, input->shape.dims[0]));
    volume_windows w = windows_of(padding, &input->shape, &output->shape);
    const nn_backend *backend = exec->backend;
    if (padding->kind == ZERO_PADDING) {
        backend->window2d_extract(exec->scratch, nn_tensor_f32(doutput), &w.depth);
        backend->window2d_extract(nn_tensor_f32(dinput), exec->scratch, &w.planes);
    } else {
        backend->window2d_embed(exec->scratch, nn_tensor_f32(doutput), &w.depth);
        backend->window2d_embed(nn_tensor_f32(dinput), exec->scratch, &w.planes);
    }
    return NN_OK;
}

const nn_layer_class nn_zero_padding3d_class = {
    .name = "ZeroPadding3D",
    .base_name = "zero_padding3d",
    .doc = "Adds slices, rows and columns of zeros at the front, back, top, bottom, left and "
           "right of each volume (batch, depth, height, width, channels).",
    .example = "print(nn.layers.ZeroPadding3D{{{1, 0}, {2, 2}, 1}}(nn.ones(1, 4, 5, 5, "
               "2)).shape)  --> (1, 5, 9, 7, 2)",
    .size = sizeof(padding3d_layer),
    .args = zero_padding3d_args,
    .arg_count = (int)(sizeof zero_padding3d_args / sizeof zero_padding3d_args[0]),
    .positional_count = 1,
    .set_defaults = zero_padding3d_set_defaults,
    .build = padding3d_build,
    .scratch_floats = padding3d_scratch_floats,
    .forward = padding3d_forward,
    .backward = padding3d_backward,
};

const nn_layer_class nn_cropping3d_class = {
    .name = "Cropping3D",
    .base_name = "cropping3d",
    .doc = "Removes slices, rows and columns from the front, back, top, bottom, left and "
           "right edges of each volume (batch, depth, height, width, channels).",
    .example = "print(nn.layers.Cropping3D{{2, 4, 2}}(nn.ones(2, 28, 28, 10, 3)).shape)  "
               "--> (2, 24, 20, 6, 3)",
    .size = sizeof(padding3d_layer),
    .args = cropping3d_args,
    .arg_count = (int)(sizeof cropping3d_args / sizeof cropping3d_args[0]),
    .positional_count = 1,
    .set_defaults = cropping3d_set_defaults,
    .build = padding3d_build,
    .scratch_floats = padding3d_scratch_floats,
    .forward = padding3d_forward,
    .backward = padding3d_backward,
};
