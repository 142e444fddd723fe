/* Resizing, CenterCrop and RandomCrop, as Keras' preprocessing layers: every image brought
 * to height x width by resizing a window of it, read at TensorFlow's half-pixel positions,
 * bilinearly or from the nearest pixel.
 * - Resizing: the whole image; with crop_to_aspect_ratio the largest centred window of the
 *   target's aspect ratio (nothing stretched, the edges cut); with pad_to_aspect_ratio a
 *   canvas of that ratio around the image, filled with fill_value (nothing cut).
 * - CenterCrop: the centred window of the target's size, copied as it is; an image
 *   smaller than that is resized from its centred window of the target's aspect ratio.
 * - RandomCrop: in training a window of the target's size at a random place, one place for
 *   the whole batch as Keras'; in inference (or for an image too small) resized as
 *   CenterCrop resizes a small one.
 * The gradient flows back to the pixels each output read. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"
#include "random.h"

enum { INTERPOLATION_BILINEAR, INTERPOLATION_NEAREST };

typedef struct resizing_layer {
    nn_layer base;
    int height, width;
    int interpolation;
    bool crop_to_aspect_ratio, pad_to_aspect_ratio;
    int fill_mode;
    float fill_value;
    bool antialias;
    int data_format;
    nn_optional_int seed; /* RandomCrop: pins the place to this seed, not the global one */
    uint64_t own_calls;   /* RandomCrop's calls on its own so far, with a seed */
    nn_resize_geometry last; /* the last forward's, which backward runs backward */
} resizing_layer;

#define ARG(field) offsetof(resizing_layer, field)

/* Keras' interpolations; nnsh has the first two. */
static const char *const interpolation_choices[] = {"bilinear", "nearest", "bicubic", "lanczos3",
                                                    "lanczos5", "area", NULL};
static const char *const fill_mode_choices[] = {"constant", NULL};

static const nn_arg_spec resizing_args[] = {
    {"height", NN_ARG_INT, ARG(height), true, 1, 1 << 30, false, NULL, NULL,
     "Height of the output images."},
    {"width", NN_ARG_INT, ARG(width), true, 1, 1 << 30, false, NULL, NULL,
     "Width of the output images."},
    {"interpolation", NN_ARG_CHOICE, ARG(interpolation), false, 0, 0, false,
     interpolation_choices, "'bilinear'",
     "How a point between pixels is read: 'bilinear' or 'nearest' (Keras' 'bicubic', "
     "'lanczos3', 'lanczos5' and 'area' are not in nnsh yet)."},
    {"crop_to_aspect_ratio", NN_ARG_BOOL, ARG(crop_to_aspect_ratio), false, 0, 1, false, NULL,
     "False",
     "If True, resize the largest centred window with the output's aspect ratio, cutting "
     "the edges that do not fit, so nothing is stretched."},
    {"pad_to_aspect_ratio", NN_ARG_BOOL, ARG(pad_to_aspect_ratio), false, 0, 1, false, NULL,
     "False",
     "If True, centre the image on a canvas with the output's aspect ratio, filled with "
     "fill_value, before resizing, so nothing is stretched or cut."},
    {"fill_mode", NN_ARG_CHOICE, ARG(fill_mode), false, 0, 0, false, fill_mode_choices,
     "'constant'", "How pad_to_aspect_ratio fills the canvas: 'constant' (fill_value)."},
    {"fill_value", NN_ARG_FLOAT, ARG(fill_value), false, -1e30, 1e30, false, NULL, "0.0",
     "The value of the canvas around a padded image."},
    {"antialias", NN_ARG_BOOL, ARG(antialias), false, 0, 1, false, NULL, "False",
     "Keras' filter against aliasing when shrinking; nnsh does not have it yet."},
    NN_DATA_FORMAT_ARG,
    NN_NAME_AND_INPUT_SHAPE_ARGS("resizing"),
};

static void resizing_set_defaults(nn_layer *layer)
{
    resizing_layer *resizing = (resizing_layer *)layer;
    resizing->interpolation = INTERPOLATION_BILINEAR;
    resizing->fill_value = 0.0f;
}

#define CROP_ARGS                                                                             \
    {"height", NN_ARG_INT, ARG(height), true, 1, 1 << 30, false, NULL, NULL,                  \
     "Height of the output images."},                                                         \
        {"width", NN_ARG_INT, ARG(width), true, 1, 1 << 30, false, NULL, NULL,                \
         "Width of the output images."}
static const nn_arg_spec center_crop_args[] = {
    CROP_ARGS,
    NN_DATA_FORMAT_ARG,
    NN_NAME_AND_INPUT_SHAPE_ARGS("center_crop"),
};

static const nn_arg_spec random_crop_args[] = {
    CROP_ARGS,
    {"seed", NN_ARG_OPTIONAL_INT, ARG(seed), false, 0, 9007199254740991.0, false, NULL, "None",
     "Integer seed for the crop's place; None draws it from the global seed."},
    NN_DATA_FORMAT_ARG,
    NN_NAME_AND_INPUT_SHAPE_ARGS("random_crop"),
};

static nn_status resizing_validate(nn_layer *layer)
{
    resizing_layer *resizing = (resizing_layer *)layer;
    if (resizing->interpolation > INTERPOLATION_NEAREST)
        return nn_error(NN_ERR_ARGUMENT, "Resizing \"%s\": interpolation='%s' is not available "
                        "in nnsh yet; 'bilinear' (the default) and 'nearest' are",
                        layer->name, interpolation_choices[resizing->interpolation]);
    if (resizing->antialias)
        return nn_error(NN_ERR_ARGUMENT, "Resizing \"%s\": antialias=True is not available in "
                        "nnsh yet; the default (False) is", layer->name);
    if (resizing->crop_to_aspect_ratio && resizing->pad_to_aspect_ratio)
        return nn_error(NN_ERR_ARGUMENT, "Resizing \"%s\": only one of crop_to_aspect_ratio "
                        "and pad_to_aspect_ratio can be True", layer->name);
    return NN_OK;
}

enum { WINDOW_WHOLE, WINDOW_CROP, WINDOW_PAD };

/* A window of an image of height x width, in the image's cells: the whole image, or
 * Keras' centred crop (inside the image) or canvas (around it) of the aspect ratio of
 * target_height x target_width, its sizes rounded down as Keras'. */
static void aspect_window(int kind, int64_t target_height, int64_t target_width,
                          int64_t height, int64_t width, nn_resize_geometry *g)
{
    int64_t window_height = height, window_width = width;
    if (kind != WINDOW_WHOLE) {
        window_height = (int64_t)((float)(width * target_height) / (float)target_width);
        window_width = (int64_t)((float)(height * target_width) / (float)target_height);
        if (kind == WINDOW_CROP) {
            window_height = window_height < height ? window_height : height;
            window_width = window_width < width ? window_width : width;
            window_height = window_height > 1 ? window_height : 1;
            window_width = window_width > 1 ? window_width : 1;
        } else {
            window_height = window_height > height ? window_height : height;
            window_width = window_width > width ? window_width : width;
        }
    }
    g->window_height = window_height;
    g->window_width = window_width;
    /* Keras' start of the crop inside the image, or of the image inside the canvas. */
    g->top = height >= window_height ? (height - window_height) / 2
                                     : -((window_height - height) / 2);
    g->left = width >= window_width ? (width - window_width) / 2 : -((window_width - width) / 2);
}

/* Whether RandomCrop crops at a random place: in training, from an image larger than the
 * output on both axes (Keras' rule; otherwise it resizes). */
static bool crops_at_random(const resizing_layer *resizing, bool training, int64_t height,
                            int64_t width)
{
    return resizing->base.cls == &nn_random_crop_class && training &&
           height > resizing->height && width > resizing->width;
}

/* The window this layer resizes from an image of height x width. RandomCrop's random
 * place is set by its forward. */
static void window_of(const resizing_layer *resizing, int64_t height, int64_t width,
                      nn_resize_geometry *g)
{
    const nn_layer_class *cls = resizing->base.cls;
    int64_t target_height = resizing->height, target_width = resizing->width;
    if (cls == &nn_resizing_class) {
        int kind = resizing->crop_to_aspect_ratio ? WINDOW_CROP
                   : resizing->pad_to_aspect_ratio ? WINDOW_PAD
                                                   : WINDOW_WHOLE;
        aspect_window(kind, target_height, target_width, height, width, g);
    } else if (cls == &nn_center_crop_class && height >= target_height && width >= target_width) {
        g->window_height = target_height, g->window_width = target_width;
        g->top = (height - target_height) / 2, g->left = (width - target_width) / 2;
    } else {
        aspect_window(WINDOW_CROP, target_height, target_width, height, width, g);
    }
}

static nn_status resizing_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    resizing_layer *resizing = (resizing_layer *)layer;
    int64_t height, width, channels;
    NN_TRY(nn_image_input(layer, input, resizing->data_format, &height, &width, &channels));
    bool last = resizing->data_format == NN_CHANNELS_LAST;
    *output = last ? NN_SHAPE(-1, resizing->height, resizing->width, channels)
                   : NN_SHAPE(-1, channels, resizing->height, resizing->width);
    nn_resize_geometry g = {0};
    window_of(resizing, height, width, &g);
    const char *how = resizing->interpolation == INTERPOLATION_NEAREST
                          ? "read from the nearest pixels"
                          : "read between pixels (bilinear)";
    bool whole = g.window_height == height && g.window_width == width;
    bool inside = g.window_height <= height && g.window_width <= width;
    bool copied = g.window_height == resizing->height && g.window_width == resizing->width;
    char window[192];
    if (crops_at_random(resizing, true, height, width))
        snprintf(window, sizeof window, "in training a %d x %d window at a random place, one "
                 "for the whole batch; in inference resized (bilinear) from the centred %lld x "
                 "%lld window", resizing->height, resizing->width, (long long)g.window_height,
                 (long long)g.window_width);
    else if (copied && !whole)
        snprintf(window, sizeof window, "the centred window: rows %lld to %lld, columns %lld "
                 "to %lld", (long long)g.top, (long long)(g.top + g.window_height - 1),
                 (long long)g.left, (long long)(g.left + g.window_width - 1));
    else if (whole && height == resizing->height && width == resizing->width)
        snprintf(window, sizeof window, "already that size: the images pass through as they "
                 "are");
    else if (whole)
        snprintf(window, sizeof window, "%s", how);
    else if (inside)
        snprintf(window, sizeof window, "%s of the centred %lld x %lld window (the %s cut)",
                 how, (long long)g.window_height, (long long)g.window_width,
                 g.window_height != height ? "top and bottom" : "sides");
    else
        snprintf(window, sizeof window, "%s of the image centred on a %lld x %lld canvas "
                 "of %g", how, (long long)g.window_height, (long long)g.window_width,
                 (double)resizing->fill_value);
    snprintf(layer->explanation, sizeof layer->explanation,
             "height: %lld -> %d; width: %lld -> %d; channels: %lld (unchanged); %s",
             (long long)height, resizing->height, (long long)width, resizing->width,
             (long long)channels, window);
    return NN_OK;
}

static nn_status resizing_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                  nn_tensor *output)
{
    resizing_layer *resizing = (resizing_layer *)layer;
    nn_resize_geometry g = {0};
    nn_image_kernel_view(&input->shape, resizing->data_format, &g.batch, &g.height, &g.width,
                         &g.channels);
    g.out_height = resizing->height;
    g.out_width = resizing->width;
    g.bilinear = resizing->interpolation == INTERPOLATION_BILINEAR;
    g.fill_value = resizing->fill_value;
    if (crops_at_random(resizing, exec->training, g.height, g.width)) {
        uint64_t seed, stream;
        nn_random_call_stream(layer, exec, &resizing->seed, &resizing->own_calls, &seed,
                              &stream);
        /* As Keras: a uniform draw over [0, room + 1) for each axis, rounded down. */
        int64_t rows = g.height - resizing->height + 1, columns = g.width - resizing->width + 1;
        int64_t top = (int64_t)(nn_random_uniform_at(seed, stream, 0) * (float)rows);
        int64_t left = (int64_t)(nn_random_uniform_at(seed, stream, 1) * (float)columns);
        g.top = top < rows - 1 ? top : rows - 1;
        g.left = left < columns - 1 ? left : columns - 1;
        g.window_height = resizing->height, g.window_width = resizing->width;
    } else {
        window_of(resizing, g.height, g.width, &g);
    }
    resizing->last = g;
    exec->backend->resize_forward(nn_tensor_f32(output), nn_tensor_f32(input), &g);
    return NN_OK;
}

static nn_status resizing_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                   const nn_tensor *output, const nn_tensor *doutput,
                                   nn_tensor *dinput)
{
    (void)input;
    (void)output;
    if (!dinput)
        return NN_OK;
    exec->backend->resize_backward(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                                   &((resizing_layer *)layer)->last);
    return NN_OK;
}

const nn_layer_class nn_resizing_class = {
    .name = "Resizing",
    .base_name = "resizing",
    .doc = "Brings every image to height x width, reading between pixels ('bilinear') or "
           "from the nearest one. crop_to_aspect_ratio cuts the edges instead of stretching; "
           "pad_to_aspect_ratio adds a border of fill_value instead. Put it first to feed "
           "images of another size to a model.",
    .example = "print(nn.layers.Resizing{32, 32}(nn.ones(1, 28, 28, 1)).shape)  "
               "--> (1, 32, 32, 1)",
    .size = sizeof(resizing_layer),
    .args = resizing_args,
    .arg_count = (int)(sizeof resizing_args / sizeof resizing_args[0]),
    .positional_count = 2,
    .set_defaults = resizing_set_defaults,
    .validate = resizing_validate,
    .build = resizing_build,
    .forward = resizing_forward,
    .backward = resizing_backward,
};

const nn_layer_class nn_center_crop_class = {
    .name = "CenterCrop",
    .base_name = "center_crop",
    .doc = "Keeps the centred height x width window of every image, as it is. An image "
           "smaller than that is resized (bilinear) from its largest centred window of the "
           "output's aspect ratio instead, as Keras does.",
    .example = "print(nn.layers.CenterCrop{24, 24}(nn.ones(1, 28, 28, 1)).shape)  "
               "--> (1, 24, 24, 1)",
    .size = sizeof(resizing_layer),
    .args = center_crop_args,
    .arg_count = (int)(sizeof center_crop_args / sizeof center_crop_args[0]),
    .positional_count = 2,
    .set_defaults = resizing_set_defaults,
    .build = resizing_build,
    .forward = resizing_forward,
    .backward = resizing_backward,
};

const nn_layer_class nn_random_crop_class = {
    .name = "RandomCrop",
    .base_name = "random_crop",
    .doc = "Image augmentation: in training keeps a height x width window of the images at "
           "a random place, one place for the whole batch as Keras'. In inference, or for "
           "an image no larger than the window, it resizes (bilinear) from the centred "
           "window of the output's aspect ratio. Called on its own it crops at random, as "
           "Keras 3's does, unless training=false; in a model only in fit.",
    .example = "local crop = nn.layers.RandomCrop{24, 24}\n"
               "print(crop(nn.ones(1, 28, 28, 1)).shape)  --> (1, 24, 24, 1)",
    .size = sizeof(resizing_layer),
    .args = random_crop_args,
    .arg_count = (int)(sizeof random_crop_args / sizeof random_crop_args[0]),
    .positional_count = 2,
    .set_defaults = resizing_set_defaults,
    .build = resizing_build,
    .forward = resizing_forward,
    .backward = resizing_backward,
    .augments = true,
};
