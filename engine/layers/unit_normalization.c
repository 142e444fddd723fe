/* UnitNormalization, as Keras 3's: every run of values along one axis (the features of a
 * sample, by default) divided by its L2 norm, so each has length 1; a norm below 1e-12
 * counts as 1e-12, so a run of zeros stays zeros. Masks pass on. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

typedef struct unit_norm_layer {
    nn_layer base;
    int axis;
    int resolved_axis; /* set by build: the axis counted from the front */
} unit_norm_layer;

#define ARG(field) offsetof(unit_norm_layer, field)

static const nn_arg_spec unit_norm_args[] = {
    {"axis", NN_ARG_AXIS, ARG(axis), false, -NN_MAX_DIMS, NN_MAX_DIMS - 1, false, NULL, "-1",
     "The axis along which each run is normalised; -1 is the last (the features)."},
    NN_NAME_AND_INPUT_SHAPE_ARGS("unit_normalization"),
};

static void unit_norm_set_defaults(nn_layer *layer) { ((unit_norm_layer *)layer)->axis = -1; }

static nn_status unit_norm_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    unit_norm_layer *norm = (unit_norm_layer *)layer;
    int axis = 0;
    NN_TRY(nn_feature_axis(layer, input, norm->axis,
                           "UnitNormalization normalises along a feature axis (-1 for the last)",
                           &axis));
    NN_TRY(nn_known_sizes(input));
    norm->resolved_axis = axis;
    *output = *input;
    snprintf(layer->explanation, sizeof layer->explanation,
             "unchanged: every run of %lld values along axis %d is divided by its length "
             "(the square root of its sum of squares), so it has length 1",
             (long long)input->dims[axis], axis);
    return NN_OK;
}

static nn_unit_norm_geometry geometry_of(const unit_norm_layer *norm, const nn_shape *shape)
{
    nn_unit_norm_geometry g = {.outer = 1, .length = shape->dims[norm->resolved_axis],
                               .inner = 1};
    for (int i = 0; i < norm->resolved_axis; i++)
        g.outer *= shape->dims[i];
    for (int i = norm->resolved_axis + 1; i < shape->ndim; i++)
        g.inner *= shape->dims[i];
    return g;
}

static nn_status unit_norm_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                   nn_tensor *output)
{
    nn_unit_norm_geometry g = geometry_of((unit_norm_layer *)layer, &input->shape);
    exec->backend->unit_norm_forward(nn_tensor_f32(output), nn_tensor_f32(input), &g);
    return NN_OK;
}

static nn_status unit_norm_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                    const nn_tensor *output, const nn_tensor *doutput,
                                    nn_tensor *dinput)
{
    (void)output;
    if (!dinput)
        return NN_OK;
    nn_unit_norm_geometry g = geometry_of((unit_norm_layer *)layer, &input->shape);
    exec->backend->unit_norm_backward(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                                      nn_tensor_f32(input), &g);
    return NN_OK;
}

const nn_layer_class nn_unit_normalization_class = {
    .name = "UnitNormalization",
    .base_name = "unit_normalization",
    .doc = "Divides every run of values along an axis (each sample's features, by default) "
           "by its L2 norm, so each has length 1: vectors compared by direction only, as "
           "before a cosine similarity.",
    .example = "print(nn.layers.UnitNormalization()(nn.tensor{{3, 4}}))   --> [0.6, 0.8]",
    .size = sizeof(unit_norm_layer),
    .args = unit_norm_args,
    .arg_count = (int)(sizeof unit_norm_args / sizeof unit_norm_args[0]),
    .positional_count = 1,
    .set_defaults = unit_norm_set_defaults,
    .build = unit_norm_build,
    .forward = unit_norm_forward,
    .backward = unit_norm_backward,
    .mask_use = nn_mask_passes,
};
