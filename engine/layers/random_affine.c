/* RandomRotation, RandomTranslation and RandomZoom: image augmentation as Keras 3's. In
 * training each image gets its own transform drawn from the layer's ranges (an angle, a
 * shift, a zoom factor), and every output point is sampled from the input where the
 * transform takes it, nearest or bilinear, points outside filled by the fill mode; in
 * inference each is the identity. One backend op does all three: a layer sets its own
 * ranges and leaves the others at the identity. Like RandomFlip, they augment on their
 * own calls unless told training=false. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct affine_layer {
    nn_layer base;
    float factor[2];        /* RandomRotation: fractions of a full turn */
    float height_factor[2]; /* RandomTranslation: of the height; RandomZoom: the zoom */
    float width_factor[2];  /* the same across; RandomZoom's may be None */
    int fill_mode;          /* nn_fill_mode */
    int interpolation;      /* 0 bilinear, 1 nearest */
    nn_optional_int seed;   /* pins the draws to this seed instead of the global one */
    float fill_value;
    int data_format;
    uint64_t own_calls; /* calls on its own so far, with a seed: the draws' step */

    /* The last forward in training, which backward draws again. */
    bool transformed;
    nn_affine_geometry geometry;
    uint64_t draw_seed, draw_stream;
} affine_layer;

#define ARG(field) offsetof(affine_layer, field)

static const char *const fill_mode_choices[] = {"reflect", "wrap", "constant", "nearest", NULL};
static const char *const interpolation_choices[] = {"bilinear", "nearest", NULL};

#define SAMPLING_ARGS(base_name)                                                              \
    {"fill_mode", NN_ARG_CHOICE, ARG(fill_mode), false, 0, 0, false, fill_mode_choices,       \
     "'reflect'",                                                                             \
     "How points outside the image are filled: 'reflect' (d c b a | a b c d | d c b a), "     \
     "'wrap' (a b c d | a b c d), 'constant' (fill_value) or 'nearest' (the edge)."},         \
        {"interpolation", NN_ARG_CHOICE, ARG(interpolation), false, 0, 0, false,              \
         interpolation_choices, "'bilinear'",                                                 \
         "How a point between pixels is read: 'bilinear' or 'nearest'."},                    \
        {"seed", NN_ARG_OPTIONAL_INT, ARG(seed), false, 0, 9007199254740991.0, false, NULL,   \
         "None", "Integer seed for the draws; None draws from the global seed."},             \
        {"fill_value", NN_ARG_FLOAT, ARG(fill_value), false, -1e30, 1e30, false, NULL, "0.0", \
         "The value of points outside the image when fill_mode is 'constant'."},              \
        NN_DATA_FORMAT_ARG, NN_NAME_AND_INPUT_SHAPE_ARGS(base_name)

static const nn_arg_spec rotation_args[] = {
    {"factor", NN_ARG_FACTOR, ARG(factor), true, -1, 1, false, NULL, NULL,
     "The range of the angle, in fractions of a full turn: f means -f to f, {lower, upper} "
     "itself; positive turns counter-clockwise (0.1 is up to 36 degrees either way)."},
    SAMPLING_ARGS("random_rotation"),
};

static const nn_arg_spec translation_args[] = {
    {"height_factor", NN_ARG_FACTOR, ARG(height_factor), true, -1, 1, false, NULL, NULL,
     "The range of the vertical shift, in fractions of the height: f means -f to f; "
     "positive moves the image down."},
    {"width_factor", NN_ARG_FACTOR, ARG(width_factor), true, -1, 1, false, NULL, NULL,
     "The range of the horizontal shift, in fractions of the width: f means -f to f; "
     "positive moves the image right."},
    SAMPLING_ARGS("random_translation"),
};

static const nn_arg_spec zoom_args[] = {
    {"height_factor", NN_ARG_FACTOR, ARG(height_factor), true, -1, 1, false, NULL, NULL,
     "The range of the vertical zoom, each end in [-1, 1]: with a draw d the output shows "
     "1 + d times the input's height, so positive zooms out and negative in (f means -f "
     "to f)."},
    {"width_factor", NN_ARG_FACTOR, ARG(width_factor), false, -1, 1, false, NULL, "None",
     "The same across; None zooms the width by the height's draw, keeping the aspect."},
    SAMPLING_ARGS("random_zoom"),
};

static void affine_set_defaults(nn_layer *layer)
{
    affine_layer *affine = (affine_layer *)layer;
    if (layer->cls == &nn_random_zoom_class)
        affine->width_factor[0] = affine->width_factor[1] = NAN;
}

static nn_status affine_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    affine_layer *affine = (affine_layer *)layer;
    int64_t height, width, channels;
    NN_TRY(nn_image_input(layer, input, affine->data_format, &height, &width, &channels));
    *output = *input;
    char *text = layer->explanation;
    size_t size = sizeof layer->explanation;
    if (layer->cls == &nn_random_rotation_class)
        snprintf(text, size,
                 "unchanged: in training each image is turned by an angle from %g to %g "
                 "degrees; in inference the input passes through",
                 (double)affine->factor[0] * 360.0, (double)affine->factor[1] * 360.0);
    else if (layer->cls == &nn_random_translation_class)
        snprintf(text, size,
                 "unchanged: in training each image is moved by %g to %g of its height and %g "
                 "to %g of its width; in inference the input passes through",
                 (double)affine->height_factor[0], (double)affine->height_factor[1],
                 (double)affine->width_factor[0], (double)affine->width_factor[1]);
    else if (nn_factor_is_none(affine->width_factor))
        snprintf(text, size,
                 "unchanged: in training each image is zoomed to show 1 + d times as much, d "
                 "from %g to %g (positive zooms out); in inference the input passes through",
                 (double)affine->height_factor[0], (double)affine->height_factor[1]);
    else
        snprintf(text, size,
                 "unchanged: in training each image is zoomed to show 1 + d times its height, d "
                 "from %g to %g, and 1 + e times its width, e from %g to %g (positive zooms "
                 "out); in inference the input passes through",
                 (double)affine->height_factor[0], (double)affine->height_factor[1],
                 (double)affine->width_factor[0], (double)affine->width_factor[1]);
    return NN_OK;
}

/* The ranges of this layer's kind; the others stay at the identity. */
static nn_affine_geometry geometry_of(const affine_layer *affine, const nn_tensor *input)
{
    bool last = affine->data_format == NN_CHANNELS_LAST;
    const int64_t *dims = input->shape.dims;
    nn_affine_geometry g = {
        .batch = dims[0],
        .height = dims[last ? 1 : 2],
        .width = dims[last ? 2 : 3],
        .channels = dims[last ? 3 : 1],
        .channels_first = !last,
        .nearest = affine->interpolation == 1,
        .fill_mode = (nn_fill_mode)affine->fill_mode,
        .fill_value = affine->fill_value,
    };
    const nn_layer_class *cls = affine->base.cls;
    const float turn = 6.2831853071795865f;
    if (cls == &nn_random_rotation_class) {
        g.rotation[0] = affine->factor[0] * turn;
        g.rotation[1] = affine->factor[1] * turn;
    } else if (cls == &nn_random_translation_class) {
        g.shift_y[0] = affine->height_factor[0], g.shift_y[1] = affine->height_factor[1];
        g.shift_x[0] = affine->width_factor[0], g.shift_x[1] = affine->width_factor[1];
    } else {
        g.zoom_y[0] = affine->height_factor[0], g.zoom_y[1] = affine->height_factor[1];
        g.zoom_keeps_aspect = nn_factor_is_none(affine->width_factor);
        if (!g.zoom_keeps_aspect)
            g.zoom_x[0] = affine->width_factor[0], g.zoom_x[1] = affine->width_factor[1];
    }
    return g;
}

static nn_status affine_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                nn_tensor *output)
{
    affine_layer *affine = (affine_layer *)layer;
    affine->transformed = false;
    if (!exec->training) {
        exec->backend->copy(nn_tensor_f32(output), nn_tensor_f32(input), nn_tensor_bytes(input));
        return NN_OK;
    }
    affine->geometry = geometry_of(affine, input);
    nn_random_call_stream(layer, exec, &affine->seed, &affine->own_calls, &affine->draw_seed,
                          &affine->draw_stream);
    exec->backend->random_affine(nn_tensor_f32(output), nn_tensor_f32(input), &affine->geometry,
                                 affine->draw_seed, affine->draw_stream);
    affine->transformed = true;
    return NN_OK;
}

static nn_status affine_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                 const nn_tensor *output, const nn_tensor *doutput,
                                 nn_tensor *dinput)
{
    (void)input;
    (void)output;
    affine_layer *affine = (affine_layer *)layer;
    if (!dinput)
        return NN_OK;
    if (!affine->transformed) {
        exec->backend->copy(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                            nn_tensor_bytes(doutput));
        return NN_OK;
    }
    exec->backend->random_affine_backward(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                                          &affine->geometry, affine->draw_seed,
                                          affine->draw_stream);
    return NN_OK;
}

#define AFFINE_CLASS(class_name, base, args_table, positional, doc_text, example_text)     \
    {                                                                                      \
        .name = class_name, .base_name = base, .doc = doc_text, .example = example_text,   \
        .size = sizeof(affine_layer), .args = args_table,                                  \
        .arg_count = (int)(sizeof args_table / sizeof args_table[0]),                      \
        .positional_count = positional, .set_defaults = affine_set_defaults,               \
        .build = affine_build, .forward = affine_forward,                                  \
        .backward = affine_backward, .augments = true,                                     \
    }

const nn_layer_class nn_random_rotation_class = AFFINE_CLASS(
    "RandomRotation", "random_rotation", rotation_args, 1,
    "Image augmentation: in training each image is turned about its centre by an angle "
    "drawn from the factor's range (fractions of a full turn). Called on its own it turns, "
    "as Keras 3's does, unless training=false; in a model only in fit.",
    "local rotate = nn.layers.RandomRotation{0.1}   -- up to 36 degrees either way\n"
    "local turned = rotate(nn.random.uniform(2, 28, 28, 1))");

const nn_layer_class nn_random_translation_class = AFFINE_CLASS(
    "RandomTranslation", "random_translation", translation_args, 2,
    "Image augmentation: in training each image is moved by a shift drawn from the "
    "factors' ranges (fractions of its height and width). Called on its own it shifts, as "
    "Keras 3's does, unless training=false; in a model only in fit.",
    "local shift = nn.layers.RandomTranslation{0.1, 0.1}   -- up to 10% each way\n"
    "local moved = shift(nn.random.uniform(2, 28, 28, 1))");

const nn_layer_class nn_random_zoom_class = AFFINE_CLASS(
    "RandomZoom", "random_zoom", zoom_args, 2,
    "Image augmentation: in training each image is zoomed about its centre by a factor "
    "drawn from the range (positive zooms out, negative in). Called on its own it zooms, as "
    "Keras 3's does, unless training=false; in a model only in fit.",
    "local zoom = nn.layers.RandomZoom{0.2}   -- 80% to 120% of the view\n"
    "local zoomed = zoom(nn.random.uniform(2, 28, 28, 1))");
