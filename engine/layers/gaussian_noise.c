/* GaussianNoise and GaussianDropout: in training, additive noise of mean 0 and standard
 * deviation `stddev`, or multiplicative noise of mean 1 and standard deviation
 * sqrt(rate / (1 - rate)) (dropout's variance without its zeros), as Keras; in inference
 * both are the identity.
 *
 * The noise is a pure function of (seed, stream, index), so backward draws it again
 * instead of keeping it: GaussianDropout's gradient is the output's gradient times the
 * same noise, GaussianNoise's passes through unchanged. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct noise_layer {
    nn_layer base;
    float stddev;         /* GaussianNoise's */
    float rate;           /* GaussianDropout's */
    nn_optional_int seed; /* pins the noise to this seed instead of the global one */
    uint64_t own_calls;   /* calls on its own so far, with a seed: the noise's step */

    /* The last forward in training, which backward draws again. */
    bool noise_valid;
    uint64_t noise_seed, noise_stream;
} noise_layer;

#define ARG(field) offsetof(noise_layer, field)

#define SEED_ARG                                                                           \
    {"seed", NN_ARG_OPTIONAL_INT, ARG(seed), false, 0, 9007199254740991.0, false, NULL,   \
     "None", "Integer seed for the noise; None draws it from the global seed "             \
     "(nn.random.seed)."}
#define INPUT_SHAPE_ARG                                                                     \
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL, \
     "None", "Shape of one input sample (without the batch axis), for the first layer."}

static const nn_arg_spec gaussian_noise_args[] = {
    {"stddev", NN_ARG_FLOAT, ARG(stddev), true, 0, 1, false, NULL, NULL,
     "Standard deviation of the noise added in training, in [0, 1] as Keras allows (scale "
     "the data to a similar range first)."},
    SEED_ARG,
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'gaussian_noise', 'gaussian_noise_1', ..."},
    INPUT_SHAPE_ARG,
};

static const nn_arg_spec gaussian_dropout_args[] = {
    {"rate", NN_ARG_FLOAT, ARG(rate), true, 0, 1, true, NULL, NULL,
     "Drop probability, as Dropout's, in [0, 1): in training each input is multiplied by "
     "noise of mean 1 and standard deviation sqrt(rate / (1 - rate))."},
    SEED_ARG,
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'gaussian_dropout', 'gaussian_dropout_1', ..."},
    INPUT_SHAPE_ARG,
};

static bool is_multiplicative(const nn_layer *layer)
{
    return layer->cls == &nn_gaussian_dropout_class;
}

/* The standard deviation of the noise a training call draws. */
static float stddev_of(const noise_layer *noise)
{
    if (!is_multiplicative(&noise->base))
        return noise->stddev;
    return (float)sqrt((double)noise->rate / (1.0 - (double)noise->rate));
}

static void noise_set_defaults(nn_layer *layer)
{
    /* stddev and rate are required; 0 until given, so a forgotten one adds no noise. */
    noise_layer *noise = (noise_layer *)layer;
    noise->stddev = 0.0f;
    noise->rate = 0.0f;
}

static nn_status noise_validate(nn_layer *layer)
{
    noise_layer *noise = (noise_layer *)layer;
    if (is_multiplicative(layer) && !(noise->rate >= 0.0f && noise->rate < 1.0f))
        return nn_error(NN_ERR_ARGUMENT,
                        "layer \"%s\": GaussianDropout rate must be in [0, 1), got %g (the "
                        "noise's standard deviation sqrt(rate / (1 - rate)) grows without "
                        "bound as rate nears 1)",
                        layer->name, (double)noise->rate);
    if (!is_multiplicative(layer) && !(noise->stddev >= 0.0f && noise->stddev <= 1.0f))
        return nn_error(NN_ERR_ARGUMENT,
                        "layer \"%s\": GaussianNoise stddev must be in [0, 1], got %g",
                        layer->name, (double)noise->stddev);
    return NN_OK;
}

static nn_status noise_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    noise_layer *noise = (noise_layer *)layer;
    *output = *input;
    if (is_multiplicative(layer))
        snprintf(layer->explanation, sizeof layer->explanation,
                 "unchanged: in training each input is multiplied by noise of mean 1 and "
                 "standard deviation sqrt(%g / (1 - %g)) = %g; in inference the input passes "
                 "through",
                 (double)noise->rate, (double)noise->rate, (double)stddev_of(noise));
    else
        snprintf(layer->explanation, sizeof layer->explanation,
                 "unchanged: in training each input gets noise of mean 0 and standard "
                 "deviation %g added; in inference the input passes through",
                 (double)noise->stddev);
    return NN_OK;
}

static nn_status noise_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                               nn_tensor *output)
{
    noise_layer *noise = (noise_layer *)layer;
    size_t n = nn_tensor_count(input);
    float stddev = stddev_of(noise);
    noise->noise_valid = false;
    if (!exec->training || stddev == 0.0f) {
        exec->backend->copy(nn_tensor_f32(output), nn_tensor_f32(input), n * sizeof(float));
        return NN_OK;
    }
    nn_random_call_stream(layer, exec, &noise->seed, &noise->own_calls, &noise->noise_seed,
                          &noise->noise_stream);
    exec->backend->gaussian_noise(nn_tensor_f32(output), nn_tensor_f32(input), n, stddev,
                                  is_multiplicative(layer), noise->noise_seed,
                                  noise->noise_stream);
    noise->noise_valid = true;
    return NN_OK;
}

static nn_status noise_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                const nn_tensor *output, const nn_tensor *doutput,
                                nn_tensor *dinput)
{
    (void)input;
    (void)output;
    noise_layer *noise = (noise_layer *)layer;
    if (!dinput)
        return NN_OK;
    size_t n = nn_tensor_count(doutput);
    if (!noise->noise_valid || !is_multiplicative(layer)) {
        exec->backend->copy(nn_tensor_f32(dinput), nn_tensor_f32(doutput), n * sizeof(float));
        return NN_OK;
    }
    exec->backend->gaussian_noise(nn_tensor_f32(dinput), nn_tensor_f32(doutput), n,
                                  stddev_of(noise), true, noise->noise_seed,
                                  noise->noise_stream);
    return NN_OK;
}

#define NOISE_CLASS(class_name, base, args_table, doc_text, example_text)                \
    {                                                                                    \
        .name = class_name, .base_name = base, .doc = doc_text, .example = example_text, \
        .size = sizeof(noise_layer), .args = args_table,                                 \
        .arg_count = (int)(sizeof args_table / sizeof args_table[0]),                    \
        .positional_count = 1, .set_defaults = noise_set_defaults,                       \
        .validate = noise_validate, .build = noise_build, .forward = noise_forward,      \
        .backward = noise_backward, .mask_use = nn_mask_passes,                          \
    }

const nn_layer_class nn_gaussian_noise_class = NOISE_CLASS(
    "GaussianNoise", "gaussian_noise", gaussian_noise_args,
    "Adds Gaussian noise of mean 0 and standard deviation `stddev` to every input in "
    "training, a regularizer that works like random data augmentation for real-valued "
    "inputs. In inference the layer does nothing.",
    "local g = nn.layers.GaussianNoise{0.1}\n"
    "local y = g(nn.zeros(2, 4), {training=true})  -- values around 0, spread 0.1\n"
    "print(g(nn.zeros(2, 4)))                      -- unchanged: all 0");

const nn_layer_class nn_gaussian_dropout_class = NOISE_CLASS(
    "GaussianDropout", "gaussian_dropout", gaussian_dropout_args,
    "Multiplies every input by Gaussian noise of mean 1 and standard deviation "
    "sqrt(rate / (1 - rate)) in training: dropout's variance without its zeros. In "
    "inference the layer does nothing.",
    "local g = nn.layers.GaussianDropout{0.2}\n"
    "local y = g(nn.ones(2, 4), {training=true})  -- values around 1, spread 0.5\n"
    "print(g(nn.ones(2, 4)))                      -- unchanged: all 1");
