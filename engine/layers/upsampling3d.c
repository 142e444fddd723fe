/* UpSampling3D: each volume (batch, depth, height, width, channels) made size[0] times
 * deeper, size[1] taller and size[2] wider by repeating every cell over a block, as Keras
 * (nearest neighbour only). No kernel of its own: the image upsampling runs twice, first
 * on every depth slice as an image (the batch viewed as (B·D, H, W, C)), then along the
 * depth, each slice one cell of H'·W'·C channels (the batch viewed as (B, D, 1, H'·W'·C));
 * backward sums the blocks back in the reverse order. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct upsampling3d_layer {
    nn_layer base;
    int size[3];     /* slices, rows and columns each cell becomes */
    int data_format; /* NN_CHANNELS_LAST or NN_CHANNELS_FIRST */
} upsampling3d_layer;

#define ARG(field) offsetof(upsampling3d_layer, field)

static const nn_arg_spec upsampling3d_args[] = {
    {"size", NN_ARG_TRIPLE, ARG(size), false, 1, 1 << 20, false, NULL, "(2, 2, 2)",
     "Upsampling factors for depth, rows and columns: an integer or a triple {depth, height, "
     "width}."},
    NN_VOLUME_DATA_FORMAT_ARG,
    NN_NAME_AND_INPUT_SHAPE_ARGS("up_sampling3d"),
};

static void upsampling3d_set_defaults(nn_layer *layer)
{
    upsampling3d_layer *upsampling = (upsampling3d_layer *)layer;
    for (int axis = 0; axis < 3; axis++)
        upsampling->size[axis] = 2;
}

static nn_status upsampling3d_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    upsampling3d_layer *upsampling = (upsampling3d_layer *)layer;
    const int *size = upsampling->size;
    int64_t sizes[3], channels, new_sizes[3];
    NN_TRY(nn_volume_input(layer, input, upsampling->data_format, sizes, &channels));
    static const char *const axis_names[3] = {"depth", "height", "width"};
    for (int axis = 0; axis < 3; axis++) {
        /* Checked before multiplying: a size near 2^62 times the factor overflows. */
        if (sizes[axis] > (1 << 30) / size[axis]) {
            char received[128];
            return nn_error(NN_ERR_SHAPE, "size (%d, %d, %d) on input %s makes the %s %lld x "
                            "%d, longer than the %d cells supported", size[0], size[1],
                            size[2], nn_shape_format(input, received, sizeof received),
                            axis_names[axis], (long long)sizes[axis], size[axis], 1 << 30);
        }
        new_sizes[axis] = sizes[axis] * size[axis];
    }
    bool last = upsampling->data_format == NN_CHANNELS_LAST;
    *output = last ? NN_SHAPE(-1, new_sizes[0], new_sizes[1], new_sizes[2], channels)
                   : NN_SHAPE(-1, channels, new_sizes[0], new_sizes[1], new_sizes[2]);
    snprintf(layer->explanation, sizeof layer->explanation,
             "depth: %lld * %d = %lld; height: %lld * %d = %lld; width: %lld * %d = %lld; "
             "channels: %lld (unchanged)",
             (long long)sizes[0], size[0], (long long)new_sizes[0], (long long)sizes[1],
             size[1], (long long)new_sizes[1], (long long)sizes[2], size[2],
             (long long)new_sizes[2], (long long)channels);
    return NN_OK;
}

/* The two steps of a call on an input of `shape`: `planes` upsamples every depth slice
 * (B·D, H, W, C) by (size[1], size[2]); `depth` repeats each slice, (B, D, 1, H'·W'·C) by
 * (size[0], 1). Channels first, the batch is (B·C, D, H, W, 1), each channel a volume. */
typedef struct volume_steps {
    nn_upsample2d_geometry planes, depth;
} volume_steps;

static volume_steps steps_of(const upsampling3d_layer *upsampling, const nn_shape *shape)
{
    bool last = upsampling->data_format == NN_CHANNELS_LAST;
    int64_t batch = last ? shape->dims[0] : shape->dims[0] * shape->dims[1];
    const int64_t *sizes = shape->dims + (last ? 1 : 2);
    int64_t channels = last ? shape->dims[4] : 1;
    const int *size = upsampling->size;
    volume_steps steps;
    steps.planes = (nn_upsample2d_geometry){.batch = batch * sizes[0], .height = sizes[1],
                                            .width = sizes[2], .channels = channels,
                                            .size_height = size[1], .size_width = size[2]};
    steps.depth = (nn_upsample2d_geometry){
        .batch = batch, .height = sizes[0], .width = 1,
        .channels = sizes[1] * size[1] * sizes[2] * size[2] * channels,
        .size_height = size[0], .size_width = 1};
    return steps;
}

/* The floats between the two steps: the input's depth, the output's height and width. */
static size_t upsampling3d_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                          int64_t batch)
{
    (void)backend;
    size_t floats = (size_t)batch;
    for (int axis = 1; axis < 5; axis++)
        floats *= (size_t)layer->input_shape.dims[axis];
    const int *size = ((const upsampling3d_layer *)layer)->size;
    return floats * (size_t)size[1] * (size_t)size[2];
}

static nn_status upsampling3d_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                      nn_tensor *output)
{
    NN_TRY(nn_layer_check_call(layer, exec, input->shape.dims[0], INT64_MAX));
    volume_steps steps = steps_of((upsampling3d_layer *)layer, &input->shape);
    exec->backend->upsample2d_forward(exec->scratch, nn_tensor_f32(input), &steps.planes);
    exec->backend->upsample2d_forward(nn_tensor_f32(output), exec->scratch, &steps.depth);
    return NN_OK;
}

static nn_status upsampling3d_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                       const nn_tensor *output, const nn_tensor *doutput,
                                       nn_tensor *dinput)
{
    (void)output;
    if (!dinput)
        return NN_OK;
    NN_TRY(nn_layer_check_call(layer, exec, input->shape.dims[0], INT64_MAX));
    volume_steps steps = steps_of((upsampling3d_layer *)layer, &input->shape);
    exec->backend->upsample2d_backward(exec->scratch, nn_tensor_f32(doutput), &steps.depth);
    exec->backend->upsample2d_backward(nn_tensor_f32(dinput), exec->scratch, &steps.planes);
    return NN_OK;
}

const nn_layer_class nn_upsampling3d_class = {
    .name = "UpSampling3D",
    .base_name = "up_sampling3d",
    .doc = "Makes each volume size[0] times deeper, size[1] times taller and size[2] times "
           "wider, repeating every cell over a block. Used in 3-D decoders to undo pooling.",
    .example = "print(nn.layers.UpSampling3D{{2, 3, 1}}(nn.ones(1, 2, 4, 4, 8)).shape)  "
               "--> (1, 4, 12, 4, 8)",
    .size = sizeof(upsampling3d_layer),
    .args = upsampling3d_args,
    .arg_count = (int)(sizeof upsampling3d_args / sizeof upsampling3d_args[0]),
    .positional_count = 1,
    .set_defaults = upsampling3d_set_defaults,
    .build = upsampling3d_build,
    .scratch_floats = upsampling3d_scratch_floats,
    .forward = upsampling3d_forward,
    .backward = upsampling3d_backward,
};
