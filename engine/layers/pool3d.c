/* MaxPooling3D and AveragePooling3D: the largest value, or the mean, of each pool_size box
 * of a volume, per channel. Both run on the 2-D pooling kernels every backend has, as two
 * stages, since a box's maximum or mean splits by axis:
 *   1. the planes: the batch viewed as (B·D, H, W, C) pooled over (height, width);
 *   2. the depth: that result viewed as (B, D, 1, H'·W'·C), pooled over its "height" D
 *      with a window one cell wide.
 * Padded cells never win a maximum, so the two maxima are the box's. An average counts
 * only the cells inside the input, and a box's count is the product of its per-axis
 * counts, so the mean of plane means is the box's mean. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct pool3d_layer {
    nn_layer base;
    int pool_size[3];   /* (depth, height, width) */
    int strides[3];     /* NN_PAIR_NONE in each: None, the same as pool_size */
    int padding;        /* NN_PADDING_VALID or NN_PADDING_SAME */
    int data_format;    /* NN_CHANNELS_LAST or NN_CHANNELS_FIRST */
    bool average;       /* AveragePooling3D (set by its class's defaults) */
    /* The two stages' sizes, filled by build; batch is set per call (B·D for planes,
     * B for depths). */
    nn_pool2d_geometry planes; /* (B·D, H, W, C) -> (B·D, H', W', C) */
    nn_pool2d_geometry depths; /* (B, D, 1, H'·W'·C) -> (B, D', 1, H'·W'·C) */
    int depth;                 /* D, to size the planes' batch */
    /* Max pooling: each stage's winners (flat int32 indices into that stage's input) from
     * the last forward in training; sized by reserve, never inside forward. */
    nn_storage *plane_argmax, *depth_argmax;
    int64_t argmax_batch; /* batch of the forward that filled them; 0: none yet */
} pool3d_layer;

#define ARG(field) offsetof(pool3d_layer, field)

/* In Keras' constructor order, so that positional arguments mean what they mean there. */
#define POOL3D_ARGS(what, padding_note, base_name)                                          \
    {"pool_size", NN_ARG_TRIPLE, ARG(pool_size), false, 1, 1 << 30, false, NULL,             \
     "(2, 2, 2)",                                                                            \
     "Depth, height and width of the box to take the " what " over; one int means a "      \
     "cube."},                                                                               \
    {"strides", NN_ARG_OPTIONAL_TRIPLE, ARG(strides), false, 1, 1 << 30, false, NULL,        \
     "None",                                                                                 \
     "Step of the box along the depth, height and width; None means pool_size (boxes "     \
     "side by side, not overlapping)."},                                                     \
    {"padding", NN_ARG_CHOICE, ARG(padding), false, 0, 0, false, nn_padding_choices,         \
     "'valid'",                                                                              \
     "'valid': boxes stay inside the input; 'same': the input is padded so that the "      \
     "output has ceil(input / strides) cells along each axis (" padding_note ")."},          \
    NN_VOLUME_DATA_FORMAT_ARG,                                                               \
    NN_NAME_AND_INPUT_SHAPE_ARGS(base_name)

static const nn_arg_spec maxpool3d_args[] = {
    POOL3D_ARGS("maximum", "padded cells never win the maximum", "max_pooling3d")};
static const nn_arg_spec avgpool3d_args[] = {
    POOL3D_ARGS("mean", "padded cells are not counted in the mean", "average_pooling3d")};

/* The winners are int32 flat indices into a whole batch of input. */
static const int64_t INDEX_LIMIT = INT32_MAX;

static void maxpool3d_set_defaults(nn_layer *layer)
{
    pool3d_layer *pool = (pool3d_layer *)layer;
    for (int axis = 0; axis < 3; axis++) {
        pool->pool_size[axis] = 2;
        pool->strides[axis] = NN_PAIR_NONE;
    }
    pool->padding = NN_PADDING_VALID;
    pool->data_format = NN_CHANNELS_LAST;
}

static void avgpool3d_set_defaults(nn_layer *layer)
{
    maxpool3d_set_defaults(layer);
    ((pool3d_layer *)layer)->average = true;
}

static nn_status pool3d_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    pool3d_layer *pool = (pool3d_layer *)layer;
    int64_t sizes[3], channels;
    NN_TRY(nn_volume_input(layer, input, pool->data_format, sizes, &channels));
    char received[128];
    nn_shape_format(input, received, sizeof received);
    /* Strides as used: None stands for pool_size. */
    int strides[3];
    int64_t outputs[3], pads[3];
    char texts[3][160];
    for (int axis = 0; axis < 3; axis++) {
        strides[axis] = nn_pair_is_none(pool->strides) ? pool->pool_size[axis]
                                                       : pool->strides[axis];
        outputs[axis] = nn_window_output(sizes[axis], pool->pool_size[axis], strides[axis], 1,
                                         pool->padding, &pads[axis], texts[axis],
                                         sizeof texts[axis]);
    }
    if (outputs[0] <= 0 || outputs[1] <= 0 || outputs[2] <= 0)
        return nn_error(NN_ERR_SHAPE,
                        "One of the dimensions in the output is <= 0 due to downsampling in "
                        "%s: pool_size=(%d, %d, %d) is larger than the input %s with "
                        "padding='valid' (depth: %s; height: %s; width: %s). Consider "
                        "increasing the input size or using padding='same'.",
                        layer->name, pool->pool_size[0], pool->pool_size[1],
                        pool->pool_size[2], received, texts[0], texts[1], texts[2]);
    /* in double: the product of three large sizes overflows int64 */
    if ((double)sizes[0] * (double)sizes[1] * (double)sizes[2] > (double)(INDEX_LIMIT / channels))
        return nn_error(NN_ERR_MEMORY,
                        "one sample of input %s has more than %lld elements, "
                        "the most pooling supports",
                        received, (long long)INDEX_LIMIT);

    *output = pool->data_format == NN_CHANNELS_LAST
                  ? NN_SHAPE(-1, outputs[0], outputs[1], outputs[2], channels)
                  : NN_SHAPE(-1, channels, outputs[0], outputs[1], outputs[2]);
    pool->depth = (int)sizes[0];
    pool->planes = (nn_pool2d_geometry){
        .in_height = (int)sizes[1],
        .in_width = (int)sizes[2],
        .channels = (int)channels,
        .out_height = (int)outputs[1],
        .out_width = (int)outputs[2],
        .pool_height = pool->pool_size[1],
        .pool_width = pool->pool_size[2],
        .stride_height = strides[1],
        .stride_width = strides[2],
        .pad_top = (int)pads[1],
        .pad_left = (int)pads[2],
    };
    /* A plane's pooled cells are the channels of the depth stage. */
    pool->depths = (nn_pool2d_geometry){
        .in_height = (int)sizes[0],
        .in_width = 1,
        .channels = (int)(outputs[1] * outputs[2] * channels),
        .out_height = (int)outputs[0],
        .out_width = 1,
        .pool_height = pool->pool_size[0],
        .pool_width = 1,
        .stride_height = strides[0],
        .stride_width = 1,
        .pad_top = (int)pads[0],
    };
    snprintf(layer->explanation, sizeof layer->explanation,
             "depth: %s; height: %s; width: %s; channels: unchanged = %lld", texts[0],
             texts[1], texts[2], (long long)channels);
    return NN_OK;
}

/* Floats of a batch of input, of the planes' result (the depth stage's input) and of
 * output. */
static size_t input_floats(const pool3d_layer *pool, int64_t batch)
{
    const nn_pool2d_geometry *g = &pool->planes;
    return (size_t)batch * (size_t)pool->depth * (size_t)g->in_height * (size_t)g->in_width *
           (size_t)g->channels;
}

static size_t planes_floats(const pool3d_layer *pool, int64_t batch)
{
    return (size_t)batch * (size_t)pool->depth * (size_t)pool->depths.channels;
}

static size_t output_floats(const pool3d_layer *pool, int64_t batch)
{
    return (size_t)batch * (size_t)pool->depths.out_height * (size_t)pool->depths.channels;
}

/* The two stages' geometries for a call on `batch` volumes. */
static void call_geometries(const pool3d_layer *pool, int64_t batch, nn_pool2d_geometry *planes,
                            nn_pool2d_geometry *depths)
{
    *planes = pool->planes;
    planes->batch = (int)(batch * pool->depth);
    *depths = pool->depths;
    depths->batch = (int)batch;
}

/* Scratch, forward: the planes' result, then (channels_first) channels-last copies of
 * the input and output. Backward uses the same parts for the gradients. */
static size_t pool3d_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                    int64_t batch)
{
    (void)backend;
    const pool3d_layer *pool = (const pool3d_layer *)layer;
    size_t floats = nn_aligned_floats(planes_floats(pool, batch));
    if (pool->data_format == NN_CHANNELS_FIRST)
        floats += nn_aligned_floats(input_floats(pool, batch)) + output_floats(pool, batch);
    return floats;
}

/* A stage's winners from the last forward in training, if its buffer fits the batch on
 * the device (NULL otherwise: not reserved). */
static int32_t *plane_winners(const pool3d_layer *pool, int64_t batch, nn_device device)
{
    return nn_layer_buffer_reserved(pool->plane_argmax, device,
                                    planes_floats(pool, batch) * sizeof(int32_t));
}

static int32_t *depth_winners(const pool3d_layer *pool, int64_t batch, nn_device device)
{
    return nn_layer_buffer_reserved(pool->depth_argmax, device,
                                    output_floats(pool, batch) * sizeof(int32_t));
}

static nn_status pool3d_reserve(nn_layer *layer, nn_device device, int64_t batch)
{
    pool3d_layer *pool = (pool3d_layer *)layer;
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
    NN_TRY(nn_layer_buffer_reserve(&pool->plane_argmax, device,
                                   planes_floats(pool, batch) * sizeof(int32_t), layer));
    return nn_layer_buffer_reserve(&pool->depth_argmax, device,
                                   output_floats(pool, batch) * sizeof(int32_t), layer);
}

static nn_status check_scratch(const nn_layer *layer, const nn_exec *exec, int64_t batch)
{
    size_t need = pool3d_scratch_floats(layer, exec->backend, batch);
    if (exec->scratch_floats < need)
        return nn_error(NN_ERR_STATE, "layer \"%s\" needs %zu floats of scratch, the caller "
                        "gave %zu", layer->name, need, exec->scratch_floats);
    return NN_OK;
}

/* out = the pooling of the layer's kind over channels-last inp, one stage. */
static void stage_forward(const pool3d_layer *pool, const nn_backend *backend, float *out,
                          int32_t *argmax, const float *inp, const nn_pool2d_geometry *g)
{
    if (pool->average)
        backend->avgpool2d_forward(out, inp, g);
    else
        backend->maxpool2d_forward(out, argmax, inp, g);
}

static void stage_backward(const pool3d_layer *pool, const nn_backend *backend, float *dinp,
                           const float *dout, const int32_t *argmax,
                           const nn_pool2d_geometry *g)
{
    if (pool->average)
        backend->avgpool2d_backward(dinp, dout, g);
    else
        backend->maxpool2d_backward(dinp, dout, argmax, g);
}

static nn_status pool3d_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                nn_tensor *output)
{
    pool3d_layer *pool = (pool3d_layer *)layer;
    int64_t batch = input->shape.dims[0];
    /* Max pooling keeps its winners in training; average pooling has none to keep. */
    bool keeps_winners = exec->training && !pool->average;
    int32_t *plane_argmax = keeps_winners ? plane_winners(pool, batch, exec->device) : NULL;
    int32_t *depth_argmax = keeps_winners ? depth_winners(pool, batch, exec->device) : NULL;
    if (keeps_winners && (!plane_argmax || !depth_argmax))
        return nn_error(NN_ERR_STATE, "layer \"%s\" was reserved for fewer than %lld "
                        "samples or another device; call nn_layer_reserve before training",
                        layer->name, (long long)batch);
    NN_TRY(check_scratch(layer, exec, batch));
    if (keeps_winners)
        pool->argmax_batch = batch;
    nn_pool2d_geometry planes, depths;
    call_geometries(pool, batch, &planes, &depths);
    const nn_backend *backend = exec->backend;
    bool last = pool->data_format == NN_CHANNELS_LAST;
    float *planes_out = exec->scratch;
    float *input_last = planes_out + nn_aligned_floats(planes_floats(pool, batch));
    float *output_last = input_last + nn_aligned_floats(input_floats(pool, batch));
    int64_t in_cells = (int64_t)pool->depth * planes.in_height * planes.in_width;
    int64_t out_cells = (int64_t)depths.out_height * planes.out_height * planes.out_width;
    if (!last)
        backend->to_channels_last(input_last, nn_tensor_f32(input), batch, planes.channels,
                                  in_cells);
    stage_forward(pool, backend, planes_out, plane_argmax,
                  last ? nn_tensor_f32(input) : input_last, &planes);
    stage_forward(pool, backend, last ? nn_tensor_f32(output) : output_last, depth_argmax,
                  planes_out, &depths);
    if (!last)
        backend->to_channels_first(nn_tensor_f32(output), output_last, batch, planes.channels,
                                   out_cells);
    return NN_OK;
}

static nn_status pool3d_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                 const nn_tensor *output, const nn_tensor *doutput,
                                 nn_tensor *dinput)
{
    (void)output;
    pool3d_layer *pool = (pool3d_layer *)layer;
    if (!dinput)
        return NN_OK;
    int64_t batch = input->shape.dims[0];
    const int32_t *plane_argmax = NULL, *depth_argmax = NULL;
    if (!pool->average) {
        plane_argmax = plane_winners(pool, batch, exec->device);
        depth_argmax = depth_winners(pool, batch, exec->device);
        if (pool->argmax_batch != batch || !plane_argmax || !depth_argmax)
            return nn_error(NN_ERR_STATE, "layer \"%s\": backward needs a forward in "
                            "training on the same batch first", layer->name);
    }
    NN_TRY(check_scratch(layer, exec, batch));
    nn_pool2d_geometry planes, depths;
    call_geometries(pool, batch, &planes, &depths);
    const nn_backend *backend = exec->backend;
    bool last = pool->data_format == NN_CHANNELS_LAST;
    /* The stages in reverse: the depth's gradient lands on the planes' result, whose
     * gradient lands on the input. channels_first makes the round trip forward made. */
    float *dplanes = exec->scratch;
    float *dinput_last = dplanes + nn_aligned_floats(planes_floats(pool, batch));
    float *doutput_last = dinput_last + nn_aligned_floats(input_floats(pool, batch));
    int64_t in_cells = (int64_t)pool->depth * planes.in_height * planes.in_width;
    int64_t out_cells = (int64_t)depths.out_height * planes.out_height * planes.out_width;
    if (!last)
        backend->to_channels_last(doutput_last, nn_tensor_f32(doutput), batch, planes.channels,
                                  out_cells);
    stage_backward(pool, backend, dplanes, last ? nn_tensor_f32(doutput) : doutput_last,
                   depth_argmax, &depths);
    stage_backward(pool, backend, last ? nn_tensor_f32(dinput) : dinput_last, dplanes,
                   plane_argmax, &planes);
    if (!last)
        backend->to_channels_first(nn_tensor_f32(dinput), dinput_last, batch, planes.channels,
                                   in_cells);
    return NN_OK;
}

static void pool3d_destroy(nn_layer *layer)
{
    pool3d_layer *pool = (pool3d_layer *)layer;
    nn_storage_release(pool->plane_argmax);
    nn_storage_release(pool->depth_argmax);
    pool->plane_argmax = pool->depth_argmax = NULL;
}

const nn_layer_class nn_maxpool3d_class = {
    .name = "MaxPooling3D",
    .alias = "MaxPool3D",
    .base_name = "max_pooling3d",
    .doc = "Max pooling over the depth, height and width of a volume (a video, a 3-D "
           "scan): each output cell is the largest input value in its pool_size box, "
           "channel by channel. Halves each spatial size with the default 2×2×2 pool; has "
           "no weights.",
    .example = "local x = nn.arange(64):reshape(1, 4, 4, 4, 1)\n"
               "print(nn.layers.MaxPool3D{2}(x):reshape(2, 2, 2))\n"
               "--> 21 23 / 29 31 // 53 55 / 61 63",
    .size = sizeof(pool3d_layer),
    .args = maxpool3d_args,
    .arg_count = (int)(sizeof maxpool3d_args / sizeof maxpool3d_args[0]),
    .positional_count = 4,
    .set_defaults = maxpool3d_set_defaults,
    .build = pool3d_build,
    .scratch_floats = pool3d_scratch_floats,
    .reserve = pool3d_reserve,
    .forward = pool3d_forward,
    .backward = pool3d_backward,
    .destroy = pool3d_destroy,
};

const nn_layer_class nn_avgpool3d_class = {
    .name = "AveragePooling3D",
    .alias = "AvgPool3D",
    .base_name = "average_pooling3d",
    .doc = "Average pooling over the depth, height and width of a volume: each output cell "
           "is the mean of the input values in its pool_size box, channel by channel (with "
           "padding='same' only the cells inside the input count). Halves each spatial size "
           "with the default 2×2×2 pool; has no weights.",
    .example = "local x = nn.arange(64):reshape(1, 4, 4, 4, 1)\n"
               "print(nn.layers.AveragePooling3D{2}(x):reshape(2, 2, 2))\n"
               "--> 10.5 12.5 / 18.5 20.5 // 42.5 44.5 / 50.5 52.5",
    .size = sizeof(pool3d_layer),
    .args = avgpool3d_args,
    .arg_count = (int)(sizeof avgpool3d_args / sizeof avgpool3d_args[0]),
    .positional_count = 4,
    .set_defaults = avgpool3d_set_defaults,
    .build = pool3d_build,
    .scratch_floats = pool3d_scratch_floats,
    .reserve = pool3d_reserve,
    .forward = pool3d_forward,
    .backward = pool3d_backward,
    .destroy = pool3d_destroy,
};
