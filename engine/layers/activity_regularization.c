/* ActivityRegularization: passes its input through and adds (l1·sum|x| + l2·sum(x²)) / rows
 * of each batch to the loss in training and evaluation, as Keras. The penalty is the activity
 * regularizer every layer has (the model adds it and its gradient); this layer only sets
 * it from its own two arguments. */
#include <stddef.h>
#include <stdio.h>

#include "layers.h"

#define ARG(field) offsetof(nn_layer, field)

static const nn_arg_spec activity_regularization_args[] = {
    {"l1", NN_ARG_FLOAT, ARG(activity_regularizer.l1), false, 0, 1e30, false, NULL, "0.0",
     "Factor of the L1 penalty: l1 * sum(|x|) over the batch's inputs, divided by its rows."},
    {"l2", NN_ARG_FLOAT, ARG(activity_regularizer.l2), false, 0, 1e30, false, NULL, "0.0",
     "Factor of the L2 penalty: l2 * sum(x^2) over the batch's inputs, divided by its rows."},
    {"name", NN_ARG_STRING, ARG(name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'activity_regularization', "
     "'activity_regularization_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(declared_input), false, 1, 1 << 30, false, NULL, "None",
     "Shape of one input sample (without the batch axis), for the first layer."},
};

static void activity_regularization_set_defaults(nn_layer *layer)
{
    layer->activity_regularizer = (nn_regularizer){0.0f, 0.0f};
}

static nn_status activity_regularization_build(nn_layer *layer, const nn_shape *input,
                                               nn_shape *output)
{
    *output = *input;
    snprintf(layer->explanation, sizeof layer->explanation,
             "unchanged: the input passes through, and (%g * sum(|x|) + %g * sum(x^2)) of it, "
             "divided by the batch's rows, joins the loss",
             (double)layer->activity_regularizer.l1, (double)layer->activity_regularizer.l2);
    return NN_OK;
}

static nn_status activity_regularization_forward(nn_layer *layer, nn_exec *exec,
                                                 const nn_tensor *input, nn_tensor *output)
{
    (void)layer;
    exec->backend->copy(nn_tensor_f32(output), nn_tensor_f32(input), nn_tensor_bytes(input));
    return NN_OK;
}

/* doutput already holds the penalty's gradient (the model added it). */
static nn_status activity_regularization_backward(nn_layer *layer, nn_exec *exec,
                                                  const nn_tensor *input,
                                                  const nn_tensor *output,
                                                  const nn_tensor *doutput, nn_tensor *dinput)
{
    (void)layer;
    (void)input;
    (void)output;
    if (dinput)
        exec->backend->copy(nn_tensor_f32(dinput), nn_tensor_f32(doutput),
                            nn_tensor_bytes(doutput));
    return NN_OK;
}

const nn_layer_class nn_activity_regularization_class = {
    .name = "ActivityRegularization",
    .base_name = "activity_regularization",
    .doc = "Leaves its input unchanged and adds a penalty on it to the loss: (l1 * sum(|x|) + "
           "l2 * sum(x^2)) over the batch, divided by the batch's rows as Keras does, in "
           "training and evaluation. Pushes the activations of the layer before toward small "
           "or sparse values.",
    .example = "local model = nn.Sequential{\n"
               "  nn.layers.Dense{64, activation='relu', input_shape={20}},\n"
               "  nn.layers.ActivityRegularization{l1=1e-4},\n"
               "  nn.layers.Dense{10, activation='softmax'},\n"
               "}",
    .size = sizeof(nn_layer),
    .args = activity_regularization_args,
    .arg_count =
        (int)(sizeof activity_regularization_args / sizeof activity_regularization_args[0]),
    .positional_count = 2,
    .set_defaults = activity_regularization_set_defaults,
    .build = activity_regularization_build,
    .forward = activity_regularization_forward,
    .backward = activity_regularization_backward,
    .mask_use = nn_mask_passes,
};
