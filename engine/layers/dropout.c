/* Dropout: in training, zeroes each input with probability `rate` and scales the rest by
 * 1/(1 - rate) (inverted dropout, as Keras); in inference it is the identity.
 * SpatialDropout2D is the same layer dropping whole feature maps: its noise shape is
 * (batch, 1, 1, channels) (channels first: (batch, channels, 1, 1)); SpatialDropout3D's,
 * for volumes, (batch, 1, 1, 1, channels).
 * AlphaDropout draws the same masks but sets dropped inputs to SELU's negative limit and
 * maps the result affinely so that mean and variance are kept, for self-normalizing
 * networks. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "random.h"


typedef struct dropout_layer {
    nn_layer base;
    float rate;
    nn_shape noise_shape; /* ndim 0: none given; entries -1 (None) take the input's size */
    nn_optional_int seed; /* pins the masks to this seed instead of the global one */
    int data_format;      /* SpatialDropout2D/3D: which axis holds the channels */
    uint64_t own_calls;   /* calls on its own so far, with a seed: its masks' step */

    /* The mask of the last forward in training: one byte per element of the noise
     * shape, 1 = kept, on the device the layer ran on. Sized by reserve for the largest
     * batch, freed by destroy. */
    nn_storage *mask;
    bool mask_valid;                 /* false: the last forward passed input through */
    nn_dropout_geometry geometry;    /* shapes and rate of the last forward */
} dropout_layer;

#define ARG(field) offsetof(dropout_layer, field)

static const nn_arg_spec dropout_args[] = {
    {"rate", NN_ARG_FLOAT, ARG(rate), true, 0, 1, true, NULL, NULL,
     "Fraction of the input units to drop, in [0, 1). Only in training: in inference the "
     "layer passes its input through."},
    {"noise_shape", NN_ARG_SHAPE, ARG(noise_shape), false, -1, 1 << 30, false, NULL, "None",
     "Shape of the binary dropout mask, one entry per input axis (batch axis included); an "
     "entry of 1 shares one mask value along that axis, None takes the input's size. E.g. "
     "(None, 1, 1, C) drops whole feature maps."},
    {"seed", NN_ARG_OPTIONAL_INT, ARG(seed), false, 0, 9007199254740991.0, false, NULL,
     "None", "Integer seed for the random masks; None draws them from the global seed "
     "(nn.random.seed)."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'dropout', 'dropout_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static const nn_arg_spec spatial_dropout2d_args[] = {
    {"rate", NN_ARG_FLOAT, ARG(rate), true, 0, 1, true, NULL, NULL,
     "Fraction of the feature maps (channels) to drop, in [0, 1). Only in training."},
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,
     nn_data_format_choices, "'channels_last'",
     "'channels_last' (batch, height, width, channels) or 'channels_first' (batch, "
     "channels, height, width)."},
    {"seed", NN_ARG_OPTIONAL_INT, ARG(seed), false, 0, 9007199254740991.0, false, NULL,
     "None", "Integer seed for the random masks; None draws them from the global seed."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'spatial_dropout2d', 'spatial_dropout2d_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static const nn_arg_spec spatial_dropout3d_args[] = {
    {"rate", NN_ARG_FLOAT, ARG(rate), true, 0, 1, true, NULL, NULL,
     "Fraction of the feature volumes (channels) to drop, in [0, 1). Only in training."},
    NN_VOLUME_DATA_FORMAT_ARG,
    {"seed", NN_ARG_OPTIONAL_INT, ARG(seed), false, 0, 9007199254740991.0, false, NULL,
     "None", "Integer seed for the random masks; None draws them from the global seed."},
    NN_NAME_AND_INPUT_SHAPE_ARGS("spatial_dropout3d"),
};

static const nn_arg_spec spatial_dropout1d_args[] = {
    {"rate", NN_ARG_FLOAT, ARG(rate), true, 0, 1, true, NULL, NULL,
     "Fraction of the features (channels) to drop, in [0, 1). Only in training."},
    {"seed", NN_ARG_OPTIONAL_INT, ARG(seed), false, 0, 9007199254740991.0, false, NULL,
     "None", "Integer seed for the random masks; None draws them from the global seed."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'spatial_dropout1d', 'spatial_dropout1d_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static const nn_arg_spec alpha_dropout_args[] = {
    {"rate", NN_ARG_FLOAT, ARG(rate), true, 0, 1, true, NULL, NULL,
     "Fraction of the inputs to drop, in [0, 1). Only in training: dropped inputs take "
     "SELU's negative limit and everything is then scaled and shifted to keep the mean "
     "and variance."},
    {"noise_shape", NN_ARG_SHAPE, ARG(noise_shape), false, -1, 1 << 30, false, NULL, "None",
     "Shape of the binary dropout mask, one entry per input axis (batch axis included), "
     "as Dropout's."},
    {"seed", NN_ARG_OPTIONAL_INT, ARG(seed), false, 0, 9007199254740991.0, false, NULL,
     "None", "Integer seed for the random masks; None draws them from the global seed."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'alpha_dropout', 'alpha_dropout_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

/* AlphaDropout's affine map (Keras' formulas): a dropped input becomes alpha_p =
 * -alpha·scale of SELU, then y = a·x + b with a = ((1 - rate)(1 + rate·alpha_p²))^-1/2
 * and b = -a·alpha_p·rate, which keep a zero mean and unit variance. */
typedef struct alpha_map {
    double alpha_p, a, b;
} alpha_map;

static alpha_map alpha_map_of(double rate)
{
    const double alpha = 1.6732632423543772848170429916717;
    const double scale = 1.0507009873554804934193349852946;
    alpha_map map;
    map.alpha_p = -alpha * scale;
    map.a = 1.0 / sqrt((1.0 - rate) * (1.0 + rate * map.alpha_p * map.alpha_p));
    map.b = -map.a * map.alpha_p * rate;
    return map;
}

static bool is_alpha(const nn_layer *layer) { return layer->cls == &nn_alpha_dropout_class; }

static void dropout_set_defaults(nn_layer *layer)
{
    /* rate is required; 0 until it is given, so a forgotten rate drops nothing. */
    dropout_layer *dropout = (dropout_layer *)layer;
    dropout->rate = 0.0f;
}

static nn_status dropout_validate(nn_layer *layer)
{
    dropout_layer *dropout = (dropout_layer *)layer;
    char text[128];
    if (!(dropout->rate >= 0.0f && dropout->rate < 1.0f))
        return nn_error(NN_ERR_ARGUMENT,
                        "layer \"%s\": %s rate must be in [0, 1), got %g (rate is the "
                        "fraction of units dropped; 1 would drop everything)",
                        layer->name, layer->cls->name, (double)dropout->rate);
    for (int i = 0; i < dropout->noise_shape.ndim; i++)
        if (dropout->noise_shape.dims[i] == 0 || dropout->noise_shape.dims[i] < -1)
            return nn_error(NN_ERR_ARGUMENT,
                            "layer \"%s\": noise_shape %s has entry %lld at axis %d; entries "
                            "must be positive sizes or None",
                            layer->name,
                            nn_shape_format(&dropout->noise_shape, text, sizeof text),
                            (long long)dropout->noise_shape.dims[i], i);
    return NN_OK;
}

static nn_status dropout_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    dropout_layer *dropout = (dropout_layer *)layer;
    if (layer->cls == &nn_spatial_dropout1d_class) {
        int64_t height, width, channels;
        NN_TRY(nn_sequence_input(layer, input, NN_CHANNELS_LAST, &height, &width, &channels));
        dropout->noise_shape = NN_SHAPE(-1, 1, -1); /* one draw per (sample, feature) */
    }
    if (layer->cls == &nn_spatial_dropout2d_class) {
        int64_t height, width, channels;
        NN_TRY(nn_image_input(layer, input, dropout->data_format, &height, &width, &channels));
        bool last = dropout->data_format == NN_CHANNELS_LAST;
        dropout->noise_shape = last ? NN_SHAPE(-1, 1, 1, -1) : NN_SHAPE(-1, -1, 1, 1);
    }
    if (layer->cls == &nn_spatial_dropout3d_class) {
        int64_t sizes[3], channels;
        NN_TRY(nn_volume_input(layer, input, dropout->data_format, sizes, &channels));
        bool last = dropout->data_format == NN_CHANNELS_LAST;
        dropout->noise_shape = last ? NN_SHAPE(-1, 1, 1, 1, -1) : NN_SHAPE(-1, -1, 1, 1, 1);
    }
    const nn_shape *noise = &dropout->noise_shape;
    char noise_text[128], input_text[128];
    if (noise->ndim > 0) {
        nn_shape_format(noise, noise_text, sizeof noise_text);
        nn_shape_format(input, input_text, sizeof input_text);
        if (noise->ndim != input->ndim)
            return nn_error(NN_ERR_SHAPE,
                            "noise_shape %s has %d entries but the input %s has "
                            "%d axes; give one entry per axis, the batch axis included",
                            noise_text, noise->ndim, input_text, input->ndim);
        /* The batch axis is checked per call, when its size is known. */
        for (int i = 1; i < input->ndim; i++)
            if (noise->dims[i] != -1 && noise->dims[i] != 1 &&
                noise->dims[i] != input->dims[i])
                return nn_error(NN_ERR_SHAPE,
                                "noise_shape %s does not broadcast to the input "
                                "%s: axis %d must be 1, None or %lld",
                                noise_text, input_text, i,
                                (long long)input->dims[i]);
    }
    *output = *input;
    double rate = dropout->rate;
    if (is_alpha(layer)) {
        alpha_map map = alpha_map_of(rate);
        snprintf(layer->explanation, sizeof layer->explanation,
                 "unchanged: in training each input is set to %.4f with probability %g, "
                 "then all are mapped to %.4f * x + %.4f, which keeps mean 0 and variance "
                 "1; in inference the input passes through",
                 map.alpha_p, rate, map.a, map.b);
        return NN_OK;
    }
    snprintf(layer->explanation, sizeof layer->explanation,
             "unchanged: in training each input is zeroed with probability %g and the rest "
             "are scaled by 1/(1 - %g) = %g; in inference the input passes through",
             rate, rate, 1.0 / (1.0 - rate));
    return NN_OK;
}

/* The noise shape for a batch of `batch` rows: None entries take the input's size.
 * Without a noise_shape it is the input's shape. */
static nn_status resolve_noise(const dropout_layer *dropout, const nn_shape *input,
                               int64_t batch, int64_t *dims, size_t *count)
{
    const nn_layer *layer = &dropout->base;
    const nn_shape *noise = &dropout->noise_shape;
    *count = 1;
    for (int i = 0; i < input->ndim; i++) {
        int64_t size = i == 0 ? batch : input->dims[i];
        dims[i] = noise->ndim > 0 && noise->dims[i] != -1 ? noise->dims[i] : size;
        if (dims[i] != 1 && dims[i] != size) {
            char text[128];
            return nn_error(NN_ERR_SHAPE,
                            "layer \"%s\": noise_shape %s does not broadcast to a batch of "
                            "%lld: its batch entry must be 1, None or %lld",
                            layer->name, nn_shape_format(noise, text, sizeof text),
                            (long long)batch, (long long)batch);
        }
        *count *= (size_t)dims[i];
    }
    return NN_OK;
}

static nn_status dropout_reserve(nn_layer *layer, nn_device device, int64_t batch)
{
    dropout_layer *dropout = (dropout_layer *)layer;
    int64_t dims[NN_MAX_DIMS];
    size_t count;
    NN_TRY(resolve_noise(dropout, &layer->input_shape, batch, dims, &count));
    return nn_layer_buffer_reserve(&dropout->mask, device, count, layer);
}

/* Mixes two 64-bit values into one stream number (splitmix64's finalizer), so that each
 * layer and each step draw an unrelated stream. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* A fixed tag for layers with their own seed: their masks depend on that seed and the
 * step only, not on the order layers were created in. */
static const uint64_t OWN_SEED_STREAM_TAG = 0xD50F0A7u;
/* Spreads the masks one call draws (see nn_dropout_stream). */
static const uint64_t MASK_TAG = 0x6A09E667F3BCC909ull;

void nn_dropout_stream(const nn_layer *layer, const nn_exec *exec,
                       const nn_optional_int *own_seed, uint64_t own_calls, uint64_t mask,
                       uint64_t *seed, uint64_t *stream)
{
    /* The mask's number is mixed on its own, so that no (step, mask) pair meets another
     * (mask 0 gives the streams Dropout always had). */
    uint64_t which = mask ? mix64(mask * MASK_TAG) : 0;
    if (own_seed->present) {
        /* A seeded layer called on its own counts its own calls, as a Keras layer's seed
         * generator does: two layers of one seed give the same masks, call by call. In a
         * model's loop the training step serves, the same for every layer. */
        uint64_t step = exec->on_its_own ? own_calls : exec->step;
        *seed = (uint64_t)own_seed->value;
        *stream = mix64(OWN_SEED_STREAM_TAG ^ mix64(step) ^ which);
    } else {
        *seed = exec->seed;
        *stream = mix64(layer->stream ^ mix64(exec->step) ^ which);
    }
}

void nn_random_call_stream(const nn_layer *layer, const nn_exec *exec,
                           const nn_optional_int *own_seed, uint64_t *own_calls,
                           uint64_t *seed, uint64_t *stream)
{
    nn_dropout_stream(layer, exec, own_seed, *own_calls, 0, seed, stream);
    if (own_seed->present && exec->on_its_own)
        (*own_calls)++;
}

static nn_status dropout_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                 nn_tensor *output)
{
    dropout_layer *dropout = (dropout_layer *)layer;
    size_t n = nn_tensor_count(input);
    dropout->mask_valid = false;
    if (!exec->training || dropout->rate == 0.0f) {
        exec->backend->copy(nn_tensor_f32(output), nn_tensor_f32(input), n * sizeof(float));
        return NN_OK;
    }

    const nn_shape *shape = &input->shape;
    nn_dropout_geometry *g = &dropout->geometry;
    size_t noise_count;
    NN_TRY(resolve_noise(dropout, shape, shape->dims[0], g->noise_dims, &noise_count));
    if (!nn_layer_buffer_reserved(dropout->mask, exec->device, noise_count))
        return nn_error(NN_ERR_STATE,
                        "layer \"%s\": a batch of %lld arrived but the layer was reserved for "
                        "fewer rows or another device (call nn_layer_reserve first)",
                        layer->name, (long long)shape->dims[0]);
    g->ndim = shape->ndim;
    for (int i = 0; i < shape->ndim; i++)
        g->dims[i] = shape->dims[i];
    g->rate = dropout->rate;

    uint64_t seed, stream;
    nn_random_call_stream(layer, exec, &dropout->seed, &dropout->own_calls, &seed, &stream);
    if (!is_alpha(layer)) {
        exec->backend->dropout_forward(nn_tensor_f32(output), dropout->mask->data,
                                       nn_tensor_f32(input), g, seed, stream);
        dropout->mask_valid = true;
        return NN_OK;
    }
    /* With m the mask, a·(m·x + (1 - m)·alpha_p) + b = a·m·(x - alpha_p) + a·alpha_p + b:
     * dropout's kernel gives m·(x - alpha_p)/(1 - rate), and one scale and shift the
     * rest, on every backend without a kernel of its own. */
    alpha_map map = alpha_map_of(dropout->rate);
    float *out = nn_tensor_f32(output);
    exec->backend->scale_shift(out, nn_tensor_f32(input), 1.0f, (float)-map.alpha_p, n);
    exec->backend->dropout_forward(out, dropout->mask->data, out, g, seed, stream);
    exec->backend->scale_shift(out, out, (float)(map.a * (1.0 - dropout->rate)),
                               (float)(map.a * map.alpha_p + map.b), n);
    dropout->mask_valid = true;
    return NN_OK;
}

static nn_status dropout_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                  const nn_tensor *output, const nn_tensor *doutput,
                                  nn_tensor *dinput)
{
    (void)input;
    (void)output;
    dropout_layer *dropout = (dropout_layer *)layer;
    if (!dinput)
        return NN_OK;
    if (!dropout->mask_valid) {
        exec->backend->copy(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                            nn_tensor_bytes(doutput));
        return NN_OK;
    }
    exec->backend->dropout_backward(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                                    dropout->mask->data, &dropout->geometry);
    if (is_alpha(layer)) /* dinput = a·m·doutput */
        exec->backend->scale_shift(nn_tensor_f32(dinput), nn_tensor_f32(dinput),
                                   (float)(alpha_map_of(dropout->rate).a *
                                           (1.0 - dropout->rate)),
                                   0.0f, nn_tensor_count(dinput));
    return NN_OK;
}

static void dropout_destroy(nn_layer *layer)
{
    dropout_layer *dropout = (dropout_layer *)layer;
    nn_storage_release(dropout->mask);
    dropout->mask = NULL;
}

/* Every kind here shares the struct and the operations; its class adds its name, its
 * arguments and its texts. */
#define DROPOUT_CLASS(class_name, base, args_table, doc_text, example_text)              \
    {                                                                                    \
        .name = class_name, .base_name = base, .doc = doc_text, .example = example_text, \
        .size = sizeof(dropout_layer), .args = args_table,                               \
        .arg_count = (int)(sizeof args_table / sizeof args_table[0]),                    \
        .positional_count = 1, .set_defaults = dropout_set_defaults,                     \
        .validate = dropout_validate, .build = dropout_build, .reserve = dropout_reserve, \
        .forward = dropout_forward, .backward = dropout_backward,                        \
        .destroy = dropout_destroy, .mask_use = nn_mask_passes,                          \
    }

const nn_layer_class nn_dropout_class = DROPOUT_CLASS(
    "Dropout", "dropout", dropout_args,
    "Applies dropout to the input: in training, each unit is set to 0 with "
    "probability `rate` and the others are scaled up by 1/(1 - rate), so the sum "
    "over all inputs is unchanged on average. In inference the layer does nothing.",
    "local d = nn.layers.Dropout{0.5}\n"
    "local y = d(nn.ones(2, 8), {training=true})  -- about half 0, the rest 2\n"
    "print(d(nn.ones(2, 8)))                        -- unchanged: all 1");

const nn_layer_class nn_spatial_dropout2d_class = DROPOUT_CLASS(
    "SpatialDropout2D", "spatial_dropout2d", spatial_dropout2d_args,
    "Dropout of whole feature maps: in training each channel of each image is zeroed "
    "with probability `rate` (all its cells together) and the others are scaled by "
    "1/(1 - rate). Neighbouring cells are strongly correlated, so dropping single "
    "cells regularizes a convolution little; dropping maps does.",
    "local d = nn.layers.SpatialDropout2D{0.5}\n"
    "local y = d(nn.ones(1, 2, 2, 4), {training=true})  -- each channel all 0 or all 2");

const nn_layer_class nn_spatial_dropout3d_class = DROPOUT_CLASS(
    "SpatialDropout3D", "spatial_dropout3d", spatial_dropout3d_args,
    "Dropout of whole feature volumes: in training each channel of each volume "
    "(batch, depth, height, width, channels) is zeroed with probability `rate` (all its "
    "cells together) and the others are scaled by 1/(1 - rate), as SpatialDropout2D "
    "does for images.",
    "local d = nn.layers.SpatialDropout3D{0.5}\n"
    "local y = d(nn.ones(1, 2, 2, 2, 4), {training=true})  -- each channel all 0 or all 2");

const nn_layer_class nn_spatial_dropout1d_class = DROPOUT_CLASS(
    "SpatialDropout1D", "spatial_dropout1d", spatial_dropout1d_args,
    "Dropout of whole features of a sequence: in training each feature (channel) of "
    "each sample is zeroed with probability `rate` at every step together, and the "
    "others are scaled by 1/(1 - rate). Often put after an Embedding, where "
    "neighbouring steps are strongly correlated.",
    "local d = nn.layers.SpatialDropout1D{0.5}\n"
    "local y = d(nn.ones(1, 3, 4), {training=true})  -- each feature all 0 or all 2");

const nn_layer_class nn_alpha_dropout_class = DROPOUT_CLASS(
    "AlphaDropout", "alpha_dropout", alpha_dropout_args,
    "Dropout for self-normalizing networks (SELU activations, lecun_normal "
    "initializer): in training each input is set with probability `rate` to SELU's "
    "negative limit, -1.7581, and the result is scaled and shifted so that inputs of "
    "mean 0 and variance 1 keep them. In inference the layer does nothing.",
    "local model = nn.Sequential{\n"
    "  nn.layers.Dense{64, activation='selu', kernel_initializer='lecun_normal',\n"
    "                  input_shape={20}},\n"
    "  nn.layers.AlphaDropout{0.1},\n"
    "  nn.layers.Dense{10, activation='softmax'},\n"
    "}");
