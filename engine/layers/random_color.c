/* RandomContrast and RandomBrightness: colour augmentation as Keras 3's. In training each
 * image draws one number from the layer's range: a contrast factor f, with which every
 * channel moves away from (or toward) its mean over the image, (x - mean) · f + mean, or
 * a brightness shift added to every value; the result is clipped to the value range. In
 * inference both are the identity. Like RandomFlip, they augment on their own calls
 * unless told training=false. The draws are a pure function of (seed, stream, image), so
 * backward draws them again instead of keeping them. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct color_layer {
    nn_layer base;
    nn_optional_floats contrast_factor; /* RandomContrast: lower, upper (or one for both) */
    float brightness_factor[2];         /* RandomBrightness: the shift's range, in [-1, 1] */
    nn_optional_floats value_range;     /* low, high */
    nn_optional_int seed; /* pins the draws to this seed instead of the global one */
    int data_format;
    uint64_t own_calls; /* calls on its own so far, with a seed: the draws' step */

    /* The last forward in training, which backward draws again. */
    bool adjusted;
    nn_color_geometry geometry;
    uint64_t draw_seed, draw_stream;
} color_layer;

#define ARG(field) offsetof(color_layer, field)

#define COMMON_ARGS(base_name)                                                                \
    {"value_range", NN_ARG_OPTIONAL_FLOATS, ARG(value_range), false, -1e30, 1e30, false,      \
     NULL, "(0, 255)",                                                                        \
     "{low, high}: the range of the images' values, to which the output is clipped; "         \
     "{0, 1} for images already divided by 255."},                                            \
        {"seed", NN_ARG_OPTIONAL_INT, ARG(seed), false, 0, 9007199254740991.0, false, NULL,   \
         "None", "Integer seed for the draws; None draws from the global seed."},             \
        NN_DATA_FORMAT_ARG, NN_NAME_AND_INPUT_SHAPE_ARGS(base_name)

static const nn_arg_spec contrast_args[] = {
    {"factor", NN_ARG_OPTIONAL_FLOATS, ARG(contrast_factor), true, 0, 1e30, false, NULL, NULL,
     "How far the contrast may change: f means a factor from 1 - f to 1 + f, {lower, upper} "
     "from 1 - lower to 1 + upper (lower at most 1), as Keras documents it (some Keras 3 "
     "releases draw f from 1 to 1 + f only)."},
    COMMON_ARGS("random_contrast"),
};

static const nn_arg_spec brightness_args[] = {
    {"factor", NN_ARG_FACTOR, ARG(brightness_factor), true, -1, 1, false, NULL, NULL,
     "The range of the shift, in fractions of the value range: f means -f to f, {lower, "
     "upper} itself; -1 makes an image black, 1 white."},
    COMMON_ARGS("random_brightness"),
};

static void color_set_defaults(nn_layer *layer)
{
    color_layer *color = (color_layer *)layer;
    color->value_range = (nn_optional_floats){.present = true, .list = true, .count = 2,
                                              .values = {0.0f, 255.0f}};
}

/* The contrast factor's range, from Keras' lower and upper. */
static void contrast_range(const color_layer *color, float range[2])
{
    const nn_optional_floats *factor = &color->contrast_factor;
    float lower = factor->values[0], upper = factor->values[factor->count > 1 ? 1 : 0];
    range[0] = 1.0f - lower;
    range[1] = 1.0f + upper;
}

static nn_status color_validate(nn_layer *layer)
{
    color_layer *color = (color_layer *)layer;
    nn_optional_floats *range = &color->value_range;
    if (!range->present || range->count != 2 || !range->list)
        return nn_error(NN_ERR_ARGUMENT, "%s \"%s\": value_range must be a list of two "
                        "numbers {low, high}, such as {0, 255} or {0, 1}", layer->cls->name,
                        layer->name);
    /* As Keras: {high, low} is the same range. */
    if (range->values[0] > range->values[1]) {
        float low = range->values[1];
        range->values[1] = range->values[0];
        range->values[0] = low;
    }
    if (!(range->values[0] < range->values[1]))
        return nn_error(NN_ERR_ARGUMENT, "%s \"%s\": value_range must span a range, got {%g, "
                        "%g}", layer->cls->name, layer->name, (double)range->values[0],
                        (double)range->values[1]);
    if (layer->cls == &nn_random_contrast_class) {
        const nn_optional_floats *factor = &color->contrast_factor;
        if (!factor->present)
            return nn_error(NN_ERR_ARGUMENT, "RandomContrast \"%s\": factor is required (a "
                            "number f for 1 - f to 1 + f, or {lower, upper})", layer->name);
        if (factor->count > 2 || (factor->list && factor->count != 2))
            return nn_error(NN_ERR_ARGUMENT, "RandomContrast \"%s\": factor must be a number "
                            "or a pair {lower, upper}, got a list of %d", layer->name,
                            factor->count);
        if (factor->values[0] > 1.0f)
            return nn_error(NN_ERR_ARGUMENT, "RandomContrast \"%s\": factor's lower bound "
                            "must be at most 1 (a factor of 1 - lower >= 0), got %g",
                            layer->name, (double)factor->values[0]);
    }
    return NN_OK;
}

static nn_status color_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    color_layer *color = (color_layer *)layer;
    int64_t height, width, channels;
    NN_TRY(nn_image_input(layer, input, color->data_format, &height, &width, &channels));
    *output = *input;
    const float *values = color->value_range.values;
    if (layer->cls == &nn_random_contrast_class) {
        float range[2];
        contrast_range(color, range);
        snprintf(layer->explanation, sizeof layer->explanation,
                 "unchanged: in training each image's channels are spread from their mean by "
                 "a factor from %g to %g and clipped to [%g, %g]; in inference the input "
                 "passes through",
                 (double)range[0], (double)range[1], (double)values[0], (double)values[1]);
    } else {
        snprintf(layer->explanation, sizeof layer->explanation,
                 "unchanged: in training each image is shifted by %g to %g of the value "
                 "range and clipped to [%g, %g]; in inference the input passes through",
                 (double)color->brightness_factor[0], (double)color->brightness_factor[1],
                 (double)values[0], (double)values[1]);
    }
    return NN_OK;
}

static nn_color_geometry geometry_of(const color_layer *color, const nn_tensor *input)
{
    bool last = color->data_format == NN_CHANNELS_LAST;
    const int64_t *dims = input->shape.dims;
    const float *values = color->value_range.values;
    nn_color_geometry g = {
        .batch = dims[0],
        .height = dims[last ? 1 : 2],
        .width = dims[last ? 2 : 3],
        .channels = dims[last ? 3 : 1],
        .channels_first = !last,
        .contrast = color->base.cls == &nn_random_contrast_class,
        .value_range = {values[0], values[1]},
    };
    if (g.contrast) {
        contrast_range(color, g.range);
    } else {
        float span = values[1] - values[0];
        g.range[0] = color->brightness_factor[0] * span;
        g.range[1] = color->brightness_factor[1] * span;
    }
    return g;
}

static nn_status color_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                               nn_tensor *output)
{
    color_layer *color = (color_layer *)layer;
    color->adjusted = false;
    if (!exec->training) {
        exec->backend->copy(nn_tensor_f32(output), nn_tensor_f32(input), nn_tensor_bytes(input));
        return NN_OK;
    }
    color->geometry = geometry_of(color, input);
    nn_random_call_stream(layer, exec, &color->seed, &color->own_calls, &color->draw_seed,
                          &color->draw_stream);
    exec->backend->random_color(nn_tensor_f32(output), nn_tensor_f32(input), &color->geometry,
                                color->draw_seed, color->draw_stream);
    color->adjusted = true;
    return NN_OK;
}

static nn_status color_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                const nn_tensor *output, const nn_tensor *doutput,
                                nn_tensor *dinput)
{
    (void)output;
    color_layer *color = (color_layer *)layer;
    if (!dinput)
        return NN_OK;
    if (!color->adjusted) {
        exec->backend->copy(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                            nn_tensor_bytes(doutput));
        return NN_OK;
    }
    exec->backend->random_color_backward(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                                         nn_tensor_f32(input), &color->geometry,
                                         color->draw_seed, color->draw_stream);
    return NN_OK;
}

#define COLOR_CLASS(class_name, base, args_table, doc_text, example_text)                  \
    {                                                                                      \
        .name = class_name, .base_name = base, .doc = doc_text, .example = example_text,   \
        .size = sizeof(color_layer), .args = args_table,                                   \
        .arg_count = (int)(sizeof args_table / sizeof args_table[0]),                      \
        .positional_count = 1, .set_defaults = color_set_defaults,                         \
        .validate = color_validate, .build = color_build, .forward = color_forward,        \
        .backward = color_backward, .augments = true,                                      \
    }

const nn_layer_class nn_random_contrast_class = COLOR_CLASS(
    "RandomContrast", "random_contrast", contrast_args,
    "Image augmentation: in training each image's contrast changes by a factor drawn from "
    "1 - lower to 1 + upper: every channel is spread from (or pulled toward) its mean over "
    "the image, then clipped to value_range. Called on its own it adjusts, as Keras 3's "
    "does, unless training=false; in a model only in fit.",
    "local contrast = nn.layers.RandomContrast{0.3, value_range = {0, 1}}\n"
    "local adjusted = contrast(nn.random.uniform(2, 28, 28, 1))");

const nn_layer_class nn_random_brightness_class = COLOR_CLASS(
    "RandomBrightness", "random_brightness", brightness_args,
    "Image augmentation: in training each image is made lighter or darker by a shift drawn "
    "from the factor's range (fractions of value_range) and clipped to value_range. Called "
    "on its own it adjusts, as Keras 3's does, unless training=false; in a model only in "
    "fit.",
    "local brightness = nn.layers.RandomBrightness{0.2, value_range = {0, 1}}\n"
    "local adjusted = brightness(nn.random.uniform(2, 28, 28, 1))");
