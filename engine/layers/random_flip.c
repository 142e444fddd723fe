/* RandomFlip: image augmentation, as Keras 3's. In training each image is flipped with
 * probability one half, drawn per image: left-right, top-bottom, or both together (a half
 * turn) for 'horizontal_and_vertical'; in inference the layer is the identity. The flips are a pure function of (seed, stream,
 * image), so backward mirrors the gradient the same way without keeping them. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

enum { FLIP_HORIZONTAL, FLIP_VERTICAL, FLIP_BOTH };

typedef struct random_flip_layer {
    nn_layer base;
    int mode;
    nn_optional_int seed; /* pins the flips to this seed instead of the global one */
    int data_format;
    uint64_t own_calls;   /* calls on its own so far, with a seed: the flips' step */

    /* The last forward in training, which backward mirrors again. */
    bool flipped;
    nn_flip_geometry geometry;
    uint64_t flip_seed, flip_stream;
} random_flip_layer;

#define ARG(field) offsetof(random_flip_layer, field)

static const char *const mode_choices[] = {"horizontal", "vertical", "horizontal_and_vertical",
                                           NULL};

static const nn_arg_spec random_flip_args[] = {
    {"mode", NN_ARG_CHOICE, ARG(mode), false, 0, 0, false, mode_choices,
     "'horizontal_and_vertical'",
     "Which flips: 'horizontal' (left-right), 'vertical' (top-bottom) or "
     "'horizontal_and_vertical' (both together, a half turn, as Keras 3 draws one number "
     "an image)."},
    {"seed", NN_ARG_OPTIONAL_INT, ARG(seed), false, 0, 9007199254740991.0, false, NULL, "None",
     "Integer seed for the flips; None draws them from the global seed (nn.random.seed)."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false, nn_data_format_choices,
     "'channels_last'",
     "'channels_last' (batch, height, width, channels) or 'channels_first' (batch, "
     "channels, height, width)."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'random_flip', 'random_flip_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void random_flip_set_defaults(nn_layer *layer)
{
    ((random_flip_layer *)layer)->mode = FLIP_BOTH;
}

static nn_status random_flip_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    random_flip_layer *flip = (random_flip_layer *)layer;
    int64_t height, width, channels;
    NN_TRY(nn_image_input(layer, input, flip->data_format, &height, &width, &channels));
    *output = *input;
    static const char *const what[] = {"left-right", "top-bottom",
                                       "left-right and top-bottom together (a half turn)"};
    snprintf(layer->explanation, sizeof layer->explanation,
             "unchanged: in training each image is mirrored %s with probability 1/2; in "
             "inference the input passes through",
             what[flip->mode]);
    return NN_OK;
}

static nn_status random_flip_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                     nn_tensor *output)
{
    random_flip_layer *flip = (random_flip_layer *)layer;
    flip->flipped = false;
    if (!exec->training) {
        exec->backend->copy(nn_tensor_f32(output), nn_tensor_f32(input), nn_tensor_bytes(input));
        return NN_OK;
    }
    bool last = flip->data_format == NN_CHANNELS_LAST;
    const int64_t *dims = input->shape.dims;
    flip->geometry = (nn_flip_geometry){
        .batch = dims[0],
        .height = dims[last ? 1 : 2],
        .width = dims[last ? 2 : 3],
        .channels = dims[last ? 3 : 1],
        .channels_first = !last,
        .horizontal = flip->mode != FLIP_VERTICAL,
        .vertical = flip->mode != FLIP_HORIZONTAL,
    };
    nn_random_call_stream(layer, exec, &flip->seed, &flip->own_calls, &flip->flip_seed,
                          &flip->flip_stream);
    exec->backend->random_flip(nn_tensor_f32(output), nn_tensor_f32(input), &flip->geometry,
                               flip->flip_seed, flip->flip_stream);
    flip->flipped = true;
    return NN_OK;
}

static nn_status random_flip_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                      const nn_tensor *output, const nn_tensor *doutput,
                                      nn_tensor *dinput)
{
    (void)input;
    (void)output;
    random_flip_layer *flip = (random_flip_layer *)layer;
    if (!dinput)
        return NN_OK;
    if (!flip->flipped) {
        exec->backend->copy(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                            nn_tensor_bytes(doutput));
        return NN_OK;
    }
    exec->backend->random_flip(nn_tensor_f32(dinput), nn_tensor_f32(doutput), &flip->geometry,
                               flip->flip_seed, flip->flip_stream);
    return NN_OK;
}

const nn_layer_class nn_random_flip_class = {
    .name = "RandomFlip",
    .base_name = "random_flip",
    .doc = "Image augmentation: in training each image is flipped at random (probability "
           "1/2): left-right, top-bottom, or both together, so the model sees more varied "
           "data. Called on its own it flips, as Keras 3's does, unless training=false; in "
           "a model it flips in fit only, never in evaluate or predict.",
    .example = "local flip = nn.layers.RandomFlip{'horizontal'}\n"
               "local images = nn.arange(8):reshape(2, 2, 2, 1)\n"
               "print(flip(images))                      -- some images mirrored\n"
               "print(flip(images, {training = false}))  -- unchanged",
    .size = sizeof(random_flip_layer),
    .args = random_flip_args,
    .arg_count = (int)(sizeof random_flip_args / sizeof random_flip_args[0]),
    .positional_count = 1,
    .set_defaults = random_flip_set_defaults,
    .build = random_flip_build,
    .forward = random_flip_forward,
    .backward = random_flip_backward,
    .augments = true,
};
