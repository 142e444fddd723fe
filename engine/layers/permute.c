/* Permute: the axes of each sample reordered, dims = {2, 1} turning (batch, steps,
 * features) into (batch, features, steps), as Keras (the batch axis stays first; dims
 * count from 1). Any order is a series of swaps of neighbouring axes, each a transpose the
 * backends already have; backward runs the inverse order on the gradient. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "layers.h"

typedef struct permute_layer {
    nn_layer base;
    nn_shape dims; /* a permutation of 1..n, n the sample's axes */
} permute_layer;

#define ARG(field) offsetof(permute_layer, field)

static const nn_arg_spec permute_args[] = {
    {"dims", NN_ARG_SHAPE, ARG(dims), true, 1, NN_MAX_DIMS - 1, false, NULL, NULL,
     "The new order of the axes of one sample, counting from 1 (the batch axis is not "
     "counted): {2, 1} swaps the two axes of a sequence."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'permute', 'permute_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void permute_set_defaults(nn_layer *layer) { (void)layer; }

static nn_status permute_validate(nn_layer *layer)
{
    const nn_shape *dims = &((permute_layer *)layer)->dims;
    char text[128];
    nn_shape_format(dims, text, sizeof text);
    bool seen[NN_MAX_DIMS] = {false};
    for (int i = 0; i < dims->ndim; i++) {
        int64_t axis = dims->dims[i];
        if (axis < 1 || axis > dims->ndim || seen[axis - 1])
            return nn_error(NN_ERR_ARGUMENT, "layer \"%s\": dims %s must hold each of 1 to %d "
                            "once (the sample's axes, counted from 1)", layer->name, text,
                            dims->ndim);
        seen[axis - 1] = true;
    }
    return NN_OK;
}

static nn_status permute_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    const nn_shape *dims = &((permute_layer *)layer)->dims;
    char received[128], order[128];
    nn_shape_format(input, received, sizeof received);
    nn_shape_format(dims, order, sizeof order);
    if (input->ndim != dims->ndim + 1)
        return nn_error(NN_ERR_SHAPE, "Input 0 of layer \"%s\" is incompatible with the layer: "
                        "dims %s orders %d axes, but each sample of %s has %d", layer->name,
                        order, dims->ndim, received, input->ndim - 1);
    NN_TRY(nn_known_sizes(input));
    *output = *input;
    for (int i = 0; i < dims->ndim; i++)
        output->dims[i + 1] = input->dims[dims->dims[i]];
    char result[128];
    snprintf(layer->explanation, sizeof layer->explanation,
             "the axes of each sample in the order %s: %s becomes %s", order, received,
             nn_shape_format(output, result, sizeof result));
    return NN_OK;
}

/* out = inp with the sample axes (sizes `sizes`, n of them, after `batch` samples) in
 * the order `order` (0-based), by swaps of neighbouring axes; two scratch blocks of one
 * batch's values each take the steps between. */
static void permute_values(const nn_backend *backend, float *out, const float *inp,
                           int64_t batch, const int64_t *sizes, const int *order, int n,
                           float *scratch, size_t block)
{
    int current[NN_MAX_DIMS];
    int64_t size_of[NN_MAX_DIMS];
    for (int i = 0; i < n; i++)
        current[i] = i, size_of[i] = sizes[i];
    /* The swaps, found as a sort of `current` into `order`. */
    int swaps[NN_MAX_DIMS * NN_MAX_DIMS], count = 0;
    for (int p = 0; p < n; p++) {
        int q = p;
        while (current[q] != order[p])
            q++;
        for (; q > p; q--) {
            int kept = current[q];
            current[q] = current[q - 1];
            current[q - 1] = kept;
            swaps[count++] = q - 1;
        }
    }
    for (int i = 0; i < n; i++)
        current[i] = i;
    size_t total = block * (size_t)batch;
    if (count == 0) {
        backend->copy(out, inp, total * sizeof(float));
        return;
    }
    const float *from = inp;
    for (int k = 0; k < count; k++) {
        float *to = k == count - 1 ? out : scratch + (size_t)(k % 2) * nn_aligned_floats(total);
        int at = swaps[k];
        int64_t outer = batch, inner = 1;
        for (int i = 0; i < at; i++)
            outer *= size_of[current[i]];
        for (int i = at + 2; i < n; i++)
            inner *= size_of[current[i]];
        int64_t first = size_of[current[at]], second = size_of[current[at + 1]];
        if (inner == 1) {
            /* (outer, first, second) -> (outer, second, first): a channels-first move */
            backend->to_channels_first(to, from, outer, second, first);
        } else {
            size_t part = (size_t)(first * second * inner);
            for (int64_t o = 0; o < outer; o++)
                backend->swap_leading_axes(to + (size_t)o * part, from + (size_t)o * part,
                                           first, second, inner);
        }
        int kept = current[at];
        current[at] = current[at + 1];
        current[at + 1] = kept;
        from = to;
    }
}

/* Sizes and orders of a call: forward permutes the input's axes, backward the output's
 * back. */
static void axes_of(const permute_layer *permute, const nn_shape *shape, bool inverse,
                    int64_t *sizes, int *order)
{
    int n = permute->dims.ndim;
    for (int i = 0; i < n; i++)
        sizes[i] = shape->dims[i + 1];
    for (int i = 0; i < n; i++) {
        int axis = (int)permute->dims.dims[i] - 1;
        if (inverse)
            order[axis] = i;
        else
            order[i] = axis;
    }
}

static size_t permute_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                     int64_t batch)
{
    (void)backend;
    return 2 * nn_aligned_floats((size_t)batch * (size_t)nn_shape_inner(&layer->input_shape, 1));
}

/* to = from (a batch of `shape`) with its sample axes in the layer's order, or, for the
 * gradient, back from it (inverse). */
static nn_status permute_call(nn_layer *layer, nn_exec *exec, const nn_tensor *from,
                              nn_tensor *to, bool inverse)
{
    permute_layer *permute = (permute_layer *)layer;
    int64_t batch = from->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, INT64_MAX));
    int64_t sizes[NN_MAX_DIMS];
    int order[NN_MAX_DIMS];
    axes_of(permute, &from->shape, inverse, sizes, order);
    permute_values(exec->backend, nn_tensor_f32(to), nn_tensor_f32(from), batch, sizes, order,
                   permute->dims.ndim, exec->scratch, (size_t)nn_shape_inner(&from->shape, 1));
    return NN_OK;
}

static nn_status permute_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                 nn_tensor *output)
{
    return permute_call(layer, exec, input, output, false);
}

static nn_status permute_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                  const nn_tensor *output, const nn_tensor *doutput,
                                  nn_tensor *dinput)
{
    (void)input, (void)output;
    return dinput ? permute_call(layer, exec, doutput, dinput, true) : NN_OK;
}

const nn_layer_class nn_permute_class = {
    .name = "Permute",
    .base_name = "permute",
    .doc = "Reorders the axes of each sample (the batch axis stays first): dims = {2, 1} "
           "turns (batch, steps, features) into (batch, features, steps). dims counts the "
           "sample's axes from 1, as Keras.",
    .example = "print(nn.layers.Permute{{2, 1}}(nn.ones(4, 10, 64)).shape)  --> (4, 64, 10)",
    .size = sizeof(permute_layer),
    .args = permute_args,
    .arg_count = (int)(sizeof permute_args / sizeof permute_args[0]),
    .positional_count = 1,
    .set_defaults = permute_set_defaults,
    .validate = permute_validate,
    .build = permute_build,
    .scratch_floats = permute_scratch_floats,
    .forward = permute_forward,
    .backward = permute_backward,
};
