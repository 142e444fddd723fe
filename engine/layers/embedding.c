/* Embedding: turns each integer index of the input into a row of a learned table, as
 * Keras: input (batch, ...) of indices in [0, input_dim), output (batch, ..., output_dim).
 * The indices are checked on the host (check_input) before any kernel sees them. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "layers.h"

typedef struct embedding_layer {
    nn_layer base;
    int input_dim, output_dim;
    nn_initializer embeddings_initializer;
    nn_regularizer embeddings_regularizer;
    nn_constraint embeddings_constraint;
    bool mask_zero;
    nn_optional_int input_length; /* Keras 2: declares the input shape (input_length,) */
} embedding_layer;

#define ARG(field) offsetof(embedding_layer, field)

static const nn_arg_spec embedding_args[] = {
    {"input_dim", NN_ARG_INT, ARG(input_dim), true, 1, 1 << 24, false, NULL, NULL,
     "Size of the vocabulary: the indices run from 0 to input_dim - 1. At most 16777216 "
     "(2^24): indices travel through the model as float32, exact for whole numbers up to "
     "there."},
    {"output_dim", NN_ARG_INT, ARG(output_dim), true, 1, 1 << 30, false, NULL, NULL,
     "Dimension of the dense embedding: the length of the vector each index becomes."},
    {"embeddings_initializer", NN_ARG_INITIALIZER, ARG(embeddings_initializer), false, 0, 0,
     false, NULL, "'uniform'", "Initializer for the embeddings matrix."},
    {"embeddings_regularizer", NN_ARG_REGULARIZER, ARG(embeddings_regularizer), false, 0, 0,
     false, NULL, "None", "Regularizer function applied to the embeddings matrix."},
    {"activity_regularizer", NN_ARG_REGULARIZER, ARG(base.activity_regularizer), false, 0, 0,
     false, NULL, "None", NN_ACTIVITY_REGULARIZER_DOC},
    {"embeddings_constraint", NN_ARG_CONSTRAINT, ARG(embeddings_constraint), false, 0, 0,
     false, NULL, "None", "Constraint function applied to the embeddings matrix."},
    {"mask_zero", NN_ARG_BOOL, ARG(mask_zero), false, 0, 1, false, NULL, "False",
     "Whether index 0 is padding: its steps are masked, and the layers after that support "
     "masking skip them (a recurrent layer carries its state over them)."},
    {"input_length", NN_ARG_OPTIONAL_INT, ARG(input_length), false, 1, 1 << 30, false, NULL,
     "None", "Length of the input sequences (Keras 2): declares the input shape "
     "(input_length,), as input_shape would."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'embedding', 'embedding_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void embedding_set_defaults(nn_layer *layer)
{
    embedding_layer *embedding = (embedding_layer *)layer;
    embedding->embeddings_initializer = nn_initializer_default(NN_INITIALIZER_RANDOM_UNIFORM);
}

static nn_status embedding_validate(nn_layer *layer)
{
    embedding_layer *embedding = (embedding_layer *)layer;
    if (!embedding->input_length.present)
        return NN_OK;
    /* input_length is Keras 2's way of writing input_shape=(input_length,): the layer
     * declares that input, so a model knows its shape before any data comes. */
    nn_shape declared = NN_SHAPE(embedding->input_length.value);
    if (layer->declared_input.ndim == 0) {
        layer->declared_input = declared;
        return NN_OK;
    }
    if (!nn_shape_equal(&layer->declared_input, &declared)) {
        char text[128];
        return nn_error(NN_ERR_ARGUMENT, "Embedding \"%s\": input_length=%lld declares inputs "
                        "of shape (%lld,), but input_shape is %s", layer->name,
                        (long long)embedding->input_length.value,
                        (long long)embedding->input_length.value,
                        nn_shape_format(&layer->declared_input, text, sizeof text));
    }
    return NN_OK;
}

static nn_status embedding_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    embedding_layer *embedding = (embedding_layer *)layer;
    char text[128];
    nn_shape_format(input, text, sizeof text);
    if (input->ndim >= NN_MAX_DIMS)
        return nn_error(NN_ERR_SHAPE, "Input 0 of layer \"%s\" is incompatible with the layer: "
                        "the output adds an axis, and %d axes is the most a tensor has. Full "
                        "shape received: %s", layer->name, NN_MAX_DIMS, text);
    for (int i = 1; i < input->ndim; i++)
        if (input->dims[i] <= 0)
            return nn_error(NN_ERR_SHAPE, "Input 0 of layer \"%s\" is incompatible with the "
                            "layer: every axis but the batch axis must have a known positive "
                            "size. Full shape received: %s", layer->name, text);
    if (embedding->input_length.present &&
        (input->ndim != 2 || input->dims[1] != embedding->input_length.value))
        return nn_error(NN_ERR_SHAPE, "Input 0 of layer \"%s\" is incompatible with the layer: "
                        "input_length=%lld expects shape (None, %lld). Full shape received: %s",
                        layer->name, (long long)embedding->input_length.value,
                        (long long)embedding->input_length.value, text);
    *output = *input;
    output->dims[output->ndim++] = embedding->output_dim;
    nn_shape table = NN_SHAPE(embedding->input_dim, embedding->output_dim);
    nn_layer_declare_param(layer, "embeddings", &table, true,
                           embedding->embeddings_initializer,
                           embedding->embeddings_regularizer, embedding->embeddings_constraint);
    snprintf(layer->explanation, sizeof layer->explanation,
             "a new last axis of output_dim = %d: each index of the input picks its row of "
             "the embeddings table (input_dim %d x output_dim %d = %lld weights)",
             embedding->output_dim, embedding->input_dim, embedding->output_dim,
             (long long)embedding->input_dim * embedding->output_dim);
    if (embedding->mask_zero) {
        size_t used = strlen(layer->explanation);
        snprintf(layer->explanation + used, sizeof layer->explanation - used,
                 "; mask_zero=True: the steps whose index is 0 are masked for the layers "
                 "after it");
    }
    return NN_OK;
}

static nn_status embedding_check_input(const nn_layer *layer, const nn_tensor *input)
{
    return nn_check_ids(layer, input, ((const embedding_layer *)layer)->input_dim, "input_dim");
}

static nn_status embedding_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                   nn_tensor *output)
{
    embedding_layer *embedding = (embedding_layer *)layer;
    exec->backend->embedding_gather(nn_tensor_f32(output), nn_tensor_f32(layer->params[0].value),
                                    nn_tensor_f32(input), (int64_t)nn_tensor_count(input),
                                    embedding->input_dim, embedding->output_dim);
    nn_layer_activate_forward(layer, exec, nn_tensor_f32(output), nn_tensor_count(output),
                              (size_t)embedding->output_dim);
    return NN_OK;
}

static nn_status embedding_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                    const nn_tensor *output, const nn_tensor *doutput,
                                    nn_tensor *dinput)
{
    (void)output;
    embedding_layer *embedding = (embedding_layer *)layer;
    /* Indices are not a continuous function of anything: no gradient flows through them
     * (and none is asked for when the layer comes first, as it does). */
    if (dinput)
        exec->backend->memory_zero(nn_tensor_f32(dinput), nn_tensor_bytes(dinput));
    /* A frozen layer's weights have no gradient (NULL). */
    const nn_tensor *dtable = layer->params[0].grad;
    if (dtable)
        exec->backend->embedding_gather_backward(nn_tensor_f32(dtable), nn_tensor_f32(doutput),
                                                 nn_tensor_f32(input),
                                                 (int64_t)nn_tensor_count(input),
                                                 embedding->input_dim, embedding->output_dim);
    return NN_OK;
}

/* mask_zero: the steps whose index is 0 are masked. */
static unsigned embedding_mask_use(const nn_layer *layer, const nn_shape *input)
{
    (void)input;
    return ((const embedding_layer *)layer)->mask_zero ? NN_MASK_MAKES : 0;
}

static void embedding_make_mask(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                float *mask)
{
    (void)layer;
    exec->backend->step_mask(mask, nn_tensor_f32(input), 0.0f, nn_tensor_count(input), 1);
}

const nn_layer_class nn_embedding_class = {
    .name = "Embedding",
    .base_name = "embedding",
    .doc = "A lookup table of learned vectors, one per whole-number index: each index i "
           "of the input becomes row i of the embeddings table (input_dim, output_dim), so "
           "an input (batch, ...) gives (batch, ..., output_dim). The indices must be whole "
           "numbers in [0, input_dim) (in a float or integer tensor); any other value is an "
           "error that names it and its position. Usually the first layer of a model over "
           "sequences of word or category ids.",
    .example = "local e = nn.layers.Embedding{1000, 64}\n"
               "local ids = nn.random.randint(0, 1000, 32, 10)\n"
               "print(e(ids).shape)          --> (32, 10, 64)\n"
               "print(e.embeddings.shape)    --> (1000, 64)",
    .size = sizeof(embedding_layer),
    .args = embedding_args,
    .arg_count = (int)(sizeof embedding_args / sizeof embedding_args[0]),
    .positional_count = 2,
    .set_defaults = embedding_set_defaults,
    .validate = embedding_validate,
    .build = embedding_build,
    .check_input = embedding_check_input,
    .forward = embedding_forward,
    .backward = embedding_backward,
    .mask_use = embedding_mask_use,
    .make_mask = embedding_make_mask,
};
