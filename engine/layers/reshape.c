/* Reshape: (B, d1, ..., dn) -> (B, t1, ..., tm) with the same values in the same order.
 * One entry of the target may be -1: it takes whatever size makes the counts agree. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "layers.h"

typedef struct reshape_layer {
    nn_layer base;
    nn_shape target_shape; /* without the batch axis; one entry may be -1 */
} reshape_layer;

#define ARG(field) offsetof(reshape_layer, field)

static const nn_arg_spec reshape_args[] = {
    {"target_shape", NN_ARG_TARGET_SHAPE, ARG(target_shape), true, -1, 1 << 30, false, NULL, NULL,
     "Shape of one output sample, without the batch axis, e.g. {7, 7, 64}. One entry may "
     "be -1: its size is inferred so that the sample keeps its number of values."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'reshape', 'reshape_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void reshape_set_defaults(nn_layer *layer) { (void)layer; }

static int inferred_axis(const nn_shape *target)
{
    for (int i = 0; i < target->ndim; i++)
        if (target->dims[i] == -1)
            return i;
    return -1;
}

/* A target shape as the user wrote it: "(7, -1)". */
static char *target_format(const nn_shape *target, char *text, size_t size)
{
    size_t used = (size_t)snprintf(text, size, "(");
    for (int i = 0; i < target->ndim && used < size; i++)
        used += (size_t)snprintf(text + used, size - used, "%s%lld", i ? ", " : "",
                                 (long long)target->dims[i]);
    if (used < size)
        snprintf(text + used, size - used, target->ndim == 1 ? ",)" : ")");
    return text;
}

static nn_status reshape_validate(nn_layer *layer)
{
    const nn_shape *target = &((reshape_layer *)layer)->target_shape;
    char text[128];
    if (target->ndim < 1)
        return nn_error(NN_ERR_ARGUMENT,
                        "layer \"%s\": Reshape needs target_shape, the shape of one output "
                        "sample such as {7, 7, 64}", layer->name);
    int unknown = 0;
    for (int i = 0; i < target->ndim; i++) {
        if (target->dims[i] == 0 || target->dims[i] < -1)
            return nn_error(NN_ERR_ARGUMENT,
                            "layer \"%s\": target_shape %s has entry %lld at position %d; "
                            "entries must be positive sizes, or -1 for one inferred size",
                            layer->name, target_format(target, text, sizeof text),
                            (long long)target->dims[i], i + 1);
        unknown += target->dims[i] == -1;
    }
    if (unknown > 1)
        return nn_error(NN_ERR_ARGUMENT,
                        "layer \"%s\": target_shape %s has %d entries of -1; at most one size "
                        "can be inferred",
                        layer->name, target_format(target, text, sizeof text), unknown);
    return NN_OK;
}

/* "7 * 7 * 64 = 3136" (or just "64") into text, skipping the axis `skip`; returns the
 * product, or -1 when it does not fit in 63 bits. */
static int64_t product_text(const nn_shape *shape, int from, int skip, char *text,
                            size_t size)
{
    int64_t product = 1;
    size_t used = 0;
    text[0] = '\0';
    for (int i = from; i < shape->ndim; i++) {
        if (i == skip)
            continue;
        if (product >= 0 && __builtin_mul_overflow(product, shape->dims[i], &product))
            product = -1;
        if (used < size)
            used += (size_t)snprintf(text + used, size - used, "%s%lld", used ? " * " : "",
                                     (long long)shape->dims[i]);
    }
    if (used == 0)
        snprintf(text, size, "1");
    else if (strchr(text, '*') && used < size && product >= 0)
        snprintf(text + used, size - used, " = %lld", (long long)product);
    return product;
}

static nn_status reshape_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    const nn_shape *target = &((reshape_layer *)layer)->target_shape;
    char input_text[128], target_text[128], values_text[160], known_text[160];
    nn_shape_format(input, input_text, sizeof input_text);
    target_format(target, target_text, sizeof target_text);
    for (int i = 1; i < input->ndim; i++)
        if (input->dims[i] < 1)
            return nn_error(NN_ERR_SHAPE,
                            "Reshape needs every size of its input but the batch, got %s",
                            input_text);
    if (target->ndim + 1 > NN_MAX_DIMS)
        return nn_error(NN_ERR_SHAPE, "target_shape %s has %d axes; with the batch axis at most "
                        "%d are supported",
                        target_text, target->ndim, NN_MAX_DIMS);
    int64_t values = product_text(input, 1, -1, values_text, sizeof values_text);
    int unknown = inferred_axis(target);
    int64_t known = product_text(target, 0, unknown, known_text, sizeof known_text);
    if (values < 0 || known < 0)
        return nn_error(NN_ERR_SHAPE, "cannot reshape input %s to target_shape %s: %s holds "
                        "more values per sample than can be counted (2^63)",
                        input_text, target_text, values < 0 ? "the input" : "the target");
    output->ndim = target->ndim + 1;
    output->dims[0] = -1;
    memcpy(&output->dims[1], target->dims, (size_t)target->ndim * sizeof target->dims[0]);
    if (unknown < 0) {
        if (known != values)
            return nn_error(NN_ERR_SHAPE,
                            "cannot reshape input %s (%lld values per sample) to "
                            "target_shape %s (%lld values); the counts must match, or one "
                            "entry of target_shape can be -1",
                            input_text, (long long)values, target_text,
                            (long long)known);
        snprintf(layer->explanation, sizeof layer->explanation,
                 "values per sample: %s, the same as %s", values_text, known_text);
        return NN_OK;
    }
    if (values % known != 0)
        return nn_error(NN_ERR_SHAPE,
                        "cannot reshape input %s (%lld values per sample) to target_shape "
                        "%s: %lld is not a multiple of %s, so the -1 has no whole size",
                        input_text, (long long)values, target_text, (long long)values,
                        known_text);
    output->dims[unknown + 1] = values / known;
    snprintf(layer->explanation, sizeof layer->explanation,
             "values per sample: %s; the -1 becomes %lld / %lld = %lld", values_text,
             (long long)values, (long long)known, (long long)(values / known));
    return NN_OK;
}

static nn_status reshape_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                 nn_tensor *output)
{
    (void)layer;
    if (nn_tensor_f32(output) != nn_tensor_f32(input)) /* not a model's view */
        exec->backend->copy(nn_tensor_f32(output), nn_tensor_f32(input), nn_tensor_bytes(input));
    return NN_OK;
}

static nn_status reshape_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                  const nn_tensor *output, const nn_tensor *doutput,
                                  nn_tensor *dinput)
{
    (void)layer, (void)input, (void)output;
    if (dinput && nn_tensor_f32(dinput) != nn_tensor_f32(doutput))
        exec->backend->copy(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                            nn_tensor_bytes(doutput));
    return NN_OK;
}

static bool reshape_output_views_input(const nn_layer *layer)
{
    (void)layer;
    return true;
}

const nn_layer_class nn_reshape_class = {
    .name = "Reshape",
    .base_name = "reshape",
    .doc = "Gives each sample a new shape holding the same values in the same order "
           "(row-major). The batch axis is left alone. Used to turn Dense features back into "
           "images, or a flat input into (28, 28, 1).",
    .example = "print(nn.layers.Reshape{{7, -1}}(nn.random.randn(2, 28)).shape)  --> (2, 7, 4)",
    .size = sizeof(reshape_layer),
    .args = reshape_args,
    .arg_count = (int)(sizeof reshape_args / sizeof reshape_args[0]),
    .positional_count = 1,
    .set_defaults = reshape_set_defaults,
    .validate = reshape_validate,
    .build = reshape_build,
    .forward = reshape_forward,
    .backward = reshape_backward,
    .output_views_input = reshape_output_views_input,
};
