/* UpSampling2D: each image made size[0] times taller and size[1] times wider by
 * repeating every cell over a block (nearest-neighbour interpolation, Keras' default;
 * its gradient sums each block back into its cell) or by bilinear interpolation. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

static const char *const interpolation_choices[] = {"nearest", "bilinear", NULL};
enum { INTERPOLATION_NEAREST, INTERPOLATION_BILINEAR };

typedef struct upsampling2d_layer {
    nn_layer base;
    int size[2];     /* rows and columns each cell becomes */
    int data_format; /* NN_CHANNELS_LAST or NN_CHANNELS_FIRST */
    int interpolation;
    bool sequence;   /* UpSampling1D: (batch, steps, channels), size[0] stays 1 */
    bool repeat;     /* RepeatVector: (batch, features) -> (batch, size[1], features) */
} upsampling2d_layer;

#define ARG(field) offsetof(upsampling2d_layer, field)

static const nn_arg_spec upsampling2d_args[] = {
    {"size", NN_ARG_PAIR, ARG(size), false, 1, 1 << 20, false, NULL, "(2, 2)",
     "Upsampling factors for rows and columns: an integer or a pair {height, width}."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, height, width, channels) or 'channels_first' (batch, "
     "channels, height, width)."},
    {"interpolation", NN_ARG_CHOICE, ARG(interpolation), false, 0, 0, false,
     interpolation_choices, "'nearest'",
     "How new cells get their values: 'nearest' repeats each cell; 'bilinear' blends the "
     "four nearest input cells (TensorFlow's resize with half-pixel centers)."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'up_sampling2d', 'up_sampling2d_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static const nn_arg_spec upsampling1d_args[] = {
    {"size", NN_ARG_INT, ARG(size[1]), false, 1, 1 << 20, false, NULL, "2",
     "How many times each step is repeated."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'up_sampling1d', 'up_sampling1d_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static const nn_arg_spec repeat_vector_args[] = {
    {"n", NN_ARG_INT, ARG(size[1]), true, 1, 1 << 20, false, NULL, NULL,
     "How many times the input vector is repeated: the steps of the output."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'repeat_vector', 'repeat_vector_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void upsampling2d_set_defaults(nn_layer *layer)
{
    upsampling2d_layer *upsampling = (upsampling2d_layer *)layer;
    upsampling->size[0] = upsampling->size[1] = 2;
}

static void upsampling1d_set_defaults(nn_layer *layer)
{
    upsampling2d_layer *upsampling = (upsampling2d_layer *)layer;
    upsampling->size[0] = 1;
    upsampling->size[1] = 2;
    upsampling->sequence = true;
}

static void repeat_vector_set_defaults(nn_layer *layer)
{
    upsampling2d_layer *upsampling = (upsampling2d_layer *)layer;
    upsampling->size[0] = 1;
    upsampling->repeat = true;
}

static nn_status upsampling2d_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    upsampling2d_layer *upsampling = (upsampling2d_layer *)layer;
    int64_t height, width, channels;
    if (upsampling->repeat) {
        char received[128];
        if (input->ndim != 2 || input->dims[1] <= 0)
            return nn_error(NN_ERR_SHAPE,
                            "Input 0 of layer \"%s\" is incompatible with the layer: expected "
                            "ndim=2 (batch, features), found ndim=%d. Full shape received: %s "
                            "(RepeatVector repeats one vector a sample; a recurrent layer "
                            "without return_sequences, or Flatten, gives one)",
                            layer->name, input->ndim,
                            nn_shape_format(input, received, sizeof received));
        *output = NN_SHAPE(-1, upsampling->size[1], input->dims[1]);
        snprintf(layer->explanation, sizeof layer->explanation,
                 "a new steps axis of n = %d: the %lld features of each sample repeated at "
                 "every step", upsampling->size[1], (long long)input->dims[1]);
        return NN_OK;
    }
    if (upsampling->sequence) {
        char received[128];
        if (input->ndim != 3 || input->dims[1] <= 0 || input->dims[2] <= 0)
            return nn_error(NN_ERR_SHAPE,
                            "Input 0 of layer \"%s\" is incompatible with the layer: expected "
                            "ndim=3 (batch, steps, channels) with known sizes. Full shape "
                            "received: %s",
                            layer->name, nn_shape_format(input, received, sizeof received));
        int64_t steps = input->dims[1] * upsampling->size[1];
        if (steps > (1 << 30))
            return nn_error(NN_ERR_SHAPE, "size %d makes sequences of %lld steps; at most %d "
                            "are supported", upsampling->size[1], (long long)steps, 1 << 30);
        *output = NN_SHAPE(-1, steps, input->dims[2]);
        snprintf(layer->explanation, sizeof layer->explanation,
                 "steps: %lld * %d = %lld; channels: %lld (unchanged)",
                 (long long)input->dims[1], upsampling->size[1], (long long)steps,
                 (long long)input->dims[2]);
        return NN_OK;
    }
    NN_TRY(nn_image_input(layer, input, upsampling->data_format, &height, &width, &channels));
    int64_t new_height = height * upsampling->size[0], new_width = width * upsampling->size[1];
    if (new_height > (1 << 30) || new_width > (1 << 30))
        return nn_error(NN_ERR_SHAPE, "size (%d, %d) makes images of %lld x %lld cells; at "
                        "most %d are supported on each axis",
                        upsampling->size[0], upsampling->size[1], (long long)new_height,
                        (long long)new_width, 1 << 30);
    bool last = upsampling->data_format == NN_CHANNELS_LAST;
    *output = last ? NN_SHAPE(-1, new_height, new_width, channels)
                   : NN_SHAPE(-1, channels, new_height, new_width);
    snprintf(layer->explanation, sizeof layer->explanation,
             "height: %lld * %d = %lld; width: %lld * %d = %lld; channels: %lld (unchanged)",
             (long long)height, upsampling->size[0], (long long)new_height, (long long)width,
             upsampling->size[1], (long long)new_width, (long long)channels);
    return NN_OK;
}

static nn_upsample2d_geometry geometry_of(const upsampling2d_layer *upsampling,
                                          const nn_shape *input)
{
    nn_upsample2d_geometry g;
    if (upsampling->repeat) /* each sample a one-cell image of its features, n cells wide */
        g.batch = input->dims[0], g.height = g.width = 1, g.channels = input->dims[1];
    else
        nn_image_kernel_view(input, upsampling->data_format, &g.batch, &g.height, &g.width,
                             &g.channels);
    g.size_height = upsampling->size[0];
    g.size_width = upsampling->size[1];
    g.bilinear = upsampling->interpolation == INTERPOLATION_BILINEAR;
    return g;
}

static nn_status upsampling2d_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                      nn_tensor *output)
{
    nn_upsample2d_geometry g = geometry_of((upsampling2d_layer *)layer, &input->shape);
    exec->backend->upsample2d_forward(nn_tensor_f32(output), nn_tensor_f32(input), &g);
    return NN_OK;
}

static nn_status upsampling2d_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                       const nn_tensor *output, const nn_tensor *doutput,
                                       nn_tensor *dinput)
{
    (void)output;
    if (!dinput)
        return NN_OK;
    nn_upsample2d_geometry g = geometry_of((upsampling2d_layer *)layer, &input->shape);
    exec->backend->upsample2d_backward(nn_tensor_f32(dinput), nn_tensor_f32(doutput), &g);
    return NN_OK;
}

const nn_layer_class nn_upsampling2d_class = {
    .name = "UpSampling2D",
    .base_name = "up_sampling2d",
    .doc = "Makes each image size[0] times taller and size[1] times wider, repeating every "
           "cell over a block ('nearest') or interpolating ('bilinear'). Used in decoders and "
           "autoencoders to undo pooling.",
    .example = "print(nn.layers.UpSampling2D{{2, 3}}(nn.ones(1, 7, 7, 8)).shape)  "
               "--> (1, 14, 21, 8)",
    .size = sizeof(upsampling2d_layer),
    .args = upsampling2d_args,
    .arg_count = (int)(sizeof upsampling2d_args / sizeof upsampling2d_args[0]),
    .positional_count = 1,
    .set_defaults = upsampling2d_set_defaults,
    .build = upsampling2d_build,
    .forward = upsampling2d_forward,
    .backward = upsampling2d_backward,
};

const nn_layer_class nn_upsampling1d_class = {
    .name = "UpSampling1D",
    .base_name = "up_sampling1d",
    .doc = "Makes each sequence `size` times longer by repeating every step.",
    .example = "print(nn.layers.UpSampling1D{3}(nn.ones(1, 4, 2)).shape)  --> (1, 12, 2)",
    .size = sizeof(upsampling2d_layer),
    .args = upsampling1d_args,
    .arg_count = (int)(sizeof upsampling1d_args / sizeof upsampling1d_args[0]),
    .positional_count = 1,
    .set_defaults = upsampling1d_set_defaults,
    .build = upsampling2d_build,
    .forward = upsampling2d_forward,
    .backward = upsampling2d_backward,
};

const nn_layer_class nn_repeat_vector_class = {
    .name = "RepeatVector",
    .base_name = "repeat_vector",
    .doc = "Repeats each sample's vector n times: (batch, features) becomes (batch, n, "
           "features). Between an encoder that ends in one state and a recurrent decoder "
           "that needs a sequence.",
    .example = "print(nn.layers.RepeatVector{3}(nn.ones(2, 4)).shape)  --> (2, 3, 4)",
    .size = sizeof(upsampling2d_layer),
    .args = repeat_vector_args,
    .arg_count = (int)(sizeof repeat_vector_args / sizeof repeat_vector_args[0]),
    .positional_count = 1,
    .set_defaults = repeat_vector_set_defaults,
    .build = upsampling2d_build,
    .forward = upsampling2d_forward,
    .backward = upsampling2d_backward,
};
