/* Resizing: every image brought to height x width, as Keras' preprocessing layer: read at
 * TensorFlow's half-pixel positions, bilinearly or from the nearest pixel. With
 * crop_to_aspect_ratio the largest centred window of the target's aspect ratio is resized
 * (nothing stretched, the edges cut); with pad_to_aspect_ratio the image is centred on a
 * canvas of that ratio filled with fill_value (nothing stretched or cut). The same in
 * training and inference; its gradient flows back to the pixels each output read. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

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
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false, nn_data_format_choices,
     "'channels_last'",
     "'channels_last' (batch, height, width, channels) or 'channels_first' (batch, channels, "
     "height, width)."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'resizing', 'resizing_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void resizing_set_defaults(nn_layer *layer)
{
    resizing_layer *resizing = (resizing_layer *)layer;
    resizing->interpolation = INTERPOLATION_BILINEAR;
    resizing->fill_value = 0.0f;
}

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

/* The window of an image of height x width that is resized, in the image's cells: Keras'
 * centred crop or canvas of the output's aspect ratio (sizes rounded down as Keras'), or
 * the whole image. */
static void window_of(const resizing_layer *resizing, int64_t height, int64_t width,
                      nn_resize_geometry *g)
{
    int64_t target_height = resizing->height, target_width = resizing->width;
    int64_t window_height = height, window_width = width;
    if (resizing->crop_to_aspect_ratio || resizing->pad_to_aspect_ratio) {
        window_height = (int64_t)((float)(width * target_height) / (float)target_width);
        window_width = (int64_t)((float)(height * target_width) / (float)target_height);
        if (resizing->crop_to_aspect_ratio) {
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
    g->top = (height - window_height) >= 0 ? (height - window_height) / 2
                                           : -((window_height - height) / 2);
    g->left = (width - window_width) >= 0 ? (width - window_width) / 2
                                          : -((window_width - width) / 2);
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
    const char *how = resizing->interpolation == INTERPOLATION_NEAREST ? "nearest" : "bilinear";
    char window[160] = "";
    if (resizing->crop_to_aspect_ratio && (g.window_height != height || g.window_width != width))
        snprintf(window, sizeof window, " from the centred %lld x %lld window (the %s cut)",
                 (long long)g.window_height, (long long)g.window_width,
                 g.window_height != height ? "top and bottom" : "sides");
    else if (resizing->pad_to_aspect_ratio &&
             (g.window_height != height || g.window_width != width))
        snprintf(window, sizeof window, " from the image centred on a %lld x %lld canvas of %g",
                 (long long)g.window_height, (long long)g.window_width,
                 (double)resizing->fill_value);
    snprintf(layer->explanation, sizeof layer->explanation,
             "height: %lld -> %d; width: %lld -> %d (%s%s); channels: %lld (unchanged)",
             (long long)height, resizing->height, (long long)width, resizing->width, how, window,
             (long long)channels);
    return NN_OK;
}

static nn_resize_geometry geometry_of(const resizing_layer *resizing, const nn_shape *input)
{
    nn_resize_geometry g = {0};
    nn_image_kernel_view(input, resizing->data_format, &g.batch, &g.height, &g.width,
                         &g.channels);
    g.out_height = resizing->height;
    g.out_width = resizing->width;
    g.bilinear = resizing->interpolation == INTERPOLATION_BILINEAR;
    g.fill_value = resizing->fill_value;
    window_of(resizing, g.height, g.width, &g);
    return g;
}

static nn_status resizing_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                  nn_tensor *output)
{
    nn_resize_geometry g = geometry_of((resizing_layer *)layer, &input->shape);
    exec->backend->resize_forward(nn_tensor_f32(output), nn_tensor_f32(input), &g);
    return NN_OK;
}

static nn_status resizing_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                   const nn_tensor *output, const nn_tensor *doutput,
                                   nn_tensor *dinput)
{
    (void)output;
    if (!dinput)
        return NN_OK;
    nn_resize_geometry g = geometry_of((resizing_layer *)layer, &input->shape);
    exec->backend->resize_backward(nn_tensor_f32(dinput), nn_tensor_f32(doutput), &g);
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
