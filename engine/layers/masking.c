/* Masking: marks the steps of a (batch, steps, features) input whose features all equal
 * mask_value, as Keras: the layers after it that support masking skip those steps (a
 * recurrent layer carries its state over them), and the output is the input with those
 * steps set to 0. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct masking_layer {
    nn_layer base;
    float mask_value;
} masking_layer;

#define ARG(field) offsetof(masking_layer, field)

static const nn_arg_spec masking_args[] = {
    {"mask_value", NN_ARG_FLOAT, ARG(mask_value), false, -3.4e38, 3.4e38, false, NULL, "0.0",
     "A step whose features all equal this value is masked."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'masking', 'masking_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer: "
     "{steps, features}."},
};

static void masking_set_defaults(nn_layer *layer)
{
    ((masking_layer *)layer)->mask_value = 0.0f;
}

static nn_status masking_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    const masking_layer *masking = (const masking_layer *)layer;
    char text[128];
    if (input->ndim < 2)
        return nn_error(NN_ERR_SHAPE, "Masking \"%s\" needs (batch, steps, features) or at "
                        "least (batch, features), got %s",
                        layer->name, nn_shape_format(input, text, sizeof text));
    *output = *input;
    snprintf(layer->explanation, sizeof layer->explanation,
             "unchanged in shape: a step whose %lld features all equal %g is masked (set to "
             "0 here, and skipped by the layers after it that support masking)",
             (long long)input->dims[input->ndim - 1], (double)masking->mask_value);
    return NN_OK;
}

/* The rows (steps of every sample) and the width (features) of a call. */
static void rows_of(const nn_tensor *input, size_t *rows, size_t *width)
{
    *width = (size_t)input->shape.dims[input->shape.ndim - 1];
    *rows = nn_tensor_count(input) / *width;
}

static size_t masking_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                     int64_t batch)
{
    (void)backend;
    return (size_t)(batch * nn_layer_mask_steps(&layer->input_shape));
}

static void masking_make_mask(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                              float *mask)
{
    size_t rows, width;
    rows_of(input, &rows, &width);
    exec->backend->step_mask(mask, nn_tensor_f32(input),
                             ((const masking_layer *)layer)->mask_value, rows, width);
}

/* to = from on the kept steps of the input, 0 on the masked ones: the output, and the
 * input's gradient. */
static nn_status keep_unmasked(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                               float *to, const float *from)
{
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, INT64_MAX));
    size_t rows, width;
    rows_of(input, &rows, &width);
    masking_make_mask(layer, exec, input, exec->scratch);
    exec->backend->select_rows(to, from, NULL, exec->scratch, 1, rows, width);
    return NN_OK;
}

static nn_status masking_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                 nn_tensor *output)
{
    return keep_unmasked(layer, exec, input, nn_tensor_f32(output), nn_tensor_f32(input));
}

static nn_status masking_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                  const nn_tensor *output, const nn_tensor *doutput,
                                  nn_tensor *dinput)
{
    (void)output;
    if (!dinput)
        return NN_OK;
    return keep_unmasked(layer, exec, input, nn_tensor_f32(dinput), nn_tensor_f32(doutput));
}

static unsigned masking_mask_use(const nn_layer *layer, const nn_shape *input)
{
    (void)input;
    (void)layer;
    return NN_MASK_MAKES;
}

const nn_layer_class nn_masking_class = {
    .name = "Masking",
    .base_name = "masking",
    .doc = "Masks the steps of a (batch, steps, features) input whose features all equal "
           "mask_value: the layers after it that support masking skip them (SimpleRNN, LSTM "
           "and GRU carry their state over a masked step; GlobalAveragePooling1D averages "
           "the kept steps only; a loss over steps leaves them out), and the output holds 0 "
           "there. For sequences padded to one length. The mask goes from layer to layer "
           "within a model; a layer called on its own gets none.",
    .example = "local x = nn.tensor{{{1, 2}, {3, 4}, {0, 0}}}   -- the last step is padding\n"
               "print(nn.layers.Masking{mask_value=0}(x))",
    .size = sizeof(masking_layer),
    .args = masking_args,
    .arg_count = (int)(sizeof masking_args / sizeof masking_args[0]),
    .positional_count = 1,
    .set_defaults = masking_set_defaults,
    .build = masking_build,
    .scratch_floats = masking_scratch_floats,
    .forward = masking_forward,
    .backward = masking_backward,
    .mask_use = masking_mask_use,
    .make_mask = masking_make_mask,
};
