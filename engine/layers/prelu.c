/* PReLU: Keras' parametric rectifier, x where x > 0 and alpha · x below, with alpha
 * learned for every element of a sample (alpha's shape is the input's without the batch
 * axis), or shared along shared_axes: shared_axes={1, 2} on images learns one alpha per
 * channel. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "layers.h"

typedef struct prelu_layer {
    nn_layer base;
    nn_initializer alpha_initializer;
    nn_regularizer alpha_regularizer;
    nn_constraint alpha_constraint;
    nn_shape shared_axes; /* ndim 0: None */
} prelu_layer;

#define ARG(field) offsetof(prelu_layer, field)

static const nn_arg_spec prelu_args[] = {
    {"alpha_initializer", NN_ARG_INITIALIZER, ARG(alpha_initializer), false, 0, 0, false, NULL,
     "'zeros'", "Initializer for alpha (zeros: the layer starts as a relu)."},
    {"alpha_regularizer", NN_ARG_REGULARIZER, ARG(alpha_regularizer), false, 0, 0, false, NULL,
     "None", "Regularizer for alpha."},
    {"alpha_constraint", NN_ARG_CONSTRAINT, ARG(alpha_constraint), false, 0, 0, false, NULL,
     "None", "Constraint for alpha."},
    {"shared_axes", NN_ARG_SHAPE, ARG(shared_axes), false, 1, NN_MAX_DIMS - 1, false, NULL,
     "None", "Axes along which alpha is shared, counted from 1 after the batch axis: {1, 2} on "
     "(batch, height, width, channels) learns one alpha per channel."},
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'p_re_lu', 'p_re_lu_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (without the batch axis), for the first layer."},
};

static void prelu_set_defaults(nn_layer *layer)
{
    ((prelu_layer *)layer)->alpha_initializer = nn_initializer_default(NN_INITIALIZER_ZEROS);
}

static nn_status prelu_validate(nn_layer *layer)
{
    const prelu_layer *prelu = (const prelu_layer *)layer;
    for (int i = 0; i < prelu->shared_axes.ndim; i++)
        for (int j = 0; j < i; j++)
            if (prelu->shared_axes.dims[i] == prelu->shared_axes.dims[j])
                return nn_error(NN_ERR_ARGUMENT, "PReLU \"%s\": shared_axes names axis %lld "
                                "twice", layer->name, (long long)prelu->shared_axes.dims[i]);
    return NN_OK;
}

static bool is_shared(const prelu_layer *prelu, int axis)
{
    for (int i = 0; i < prelu->shared_axes.ndim; i++)
        if (prelu->shared_axes.dims[i] == axis)
            return true;
    return false;
}

static nn_status prelu_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    prelu_layer *prelu = (prelu_layer *)layer;
    char text[128];
    for (int i = 0; i < prelu->shared_axes.ndim; i++)
        if (prelu->shared_axes.dims[i] >= input->ndim)
            return nn_error(NN_ERR_SHAPE, "PReLU \"%s\": shared_axes names axis %lld, but the "
                            "input %s has axes 1 to %d after the batch axis", layer->name,
                            (long long)prelu->shared_axes.dims[i],
                            nn_shape_format(input, text, sizeof text), input->ndim - 1);
    nn_shape alpha = {.ndim = input->ndim - 1};
    for (int axis = 1; axis < input->ndim; axis++)
        alpha.dims[axis - 1] = is_shared(prelu, axis) ? 1 : input->dims[axis];
    nn_layer_declare_param(layer, "alpha", &alpha, true, prelu->alpha_initializer,
                           prelu->alpha_regularizer, prelu->alpha_constraint);
    *output = *input;
    int64_t count = nn_shape_inner(&alpha, 0);
    snprintf(layer->explanation, sizeof layer->explanation,
             "unchanged: element by element, x where x > 0 and alpha * x below, with alpha "
             "learned: shape %s = %lld weight%s%s",
             nn_shape_format(&alpha, text, sizeof text), (long long)count,
             count == 1 ? "" : "s",
             prelu->shared_axes.ndim ? " (one for all the positions along shared_axes)" : "");
    return NN_OK;
}

/* The kernels' view of an input of shape `input` (batch axis first). */
static nn_prelu_geometry geometry_of(const nn_layer *layer, const nn_shape *input)
{
    nn_prelu_geometry g = {.ndim = input->ndim};
    const nn_shape *alpha = &layer->params[0].value->shape;
    g.dims[0] = input->dims[0];
    g.alpha_dims[0] = 1;
    for (int axis = 1; axis < g.ndim; axis++) {
        g.dims[axis] = input->dims[axis];
        g.alpha_dims[axis] = alpha->dims[axis - 1];
    }
    g.trailing = nn_prelu_trailing(&g);
    return g;
}

static size_t prelu_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                   int64_t batch)
{
    (void)backend;
    nn_shape shape = layer->input_shape;
    shape.dims[0] = batch;
    nn_prelu_geometry g = geometry_of(layer, &shape);
    return nn_prelu_scratch_floats(&g);
}

static nn_status prelu_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                               nn_tensor *output)
{
    nn_prelu_geometry g = geometry_of(layer, &input->shape);
    exec->backend->prelu(nn_tensor_f32(output), nn_tensor_f32(input), NULL,
                         nn_tensor_f32(layer->params[0].value), &g);
    return NN_OK;
}

static nn_status prelu_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                const nn_tensor *output, const nn_tensor *doutput,
                                nn_tensor *dinput)
{
    (void)output;
    nn_prelu_geometry g = geometry_of(layer, &input->shape);
    const nn_param *alpha = &layer->params[0];
    if (alpha->grad)
        exec->backend->prelu_alpha_gradient(nn_tensor_f32(alpha->grad), nn_tensor_f32(input),
                                            nn_tensor_f32(doutput), &g, exec->scratch);
    if (dinput)
        exec->backend->prelu(nn_tensor_f32(dinput), nn_tensor_f32(input),
                             nn_tensor_f32(doutput), nn_tensor_f32(alpha->value), &g);
    return NN_OK;
}

const nn_layer_class nn_prelu_class = {
    .name = "PReLU",
    .base_name = "p_re_lu",
    .doc = "Parametric rectifier: x for positive inputs, alpha * x for negative ones, where "
           "alpha is learned, one value per element of a sample, or one per position along "
           "the axes not in shared_axes. Starts as a relu (alpha 0).",
    .example = "local p = nn.layers.PReLU{alpha_initializer = nn.initializers.Constant{0.25}}\n"
               "print(p(nn.tensor{{-2, 3}}))   --> [[-0.5, 3]]\n"
               "print(p.alpha.shape)            --> (2,)",
    .size = sizeof(prelu_layer),
    .args = prelu_args,
    .arg_count = (int)(sizeof prelu_args / sizeof prelu_args[0]),
    .positional_count = 4,
    .set_defaults = prelu_set_defaults,
    .validate = prelu_validate,
    .build = prelu_build,
    .scratch_floats = prelu_scratch_floats,
    .forward = prelu_forward,
    .backward = prelu_backward,
    .mask_use = nn_mask_passes,
};
