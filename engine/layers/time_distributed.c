/* TimeDistributed: applies one layer to every step of a sequence, as Keras. A
 * (batch, steps, ...) input is (batch·steps, ...) to the wrapped layer: the same weights
 * see every step, and since a step's values are contiguous the reshape is free (views of
 * the same memory, in and out, forward and backward).
 *
 * The wrapper holds its own copy of the wrapped layer (its arguments, not its object, as
 * Bidirectional does), which nothing else can reach. The weights are the wrapper's: they
 * are what a model gathers, saves, moves and trains. The copy's weight list points at
 * the same tensors, and is pointed there again before every call, because a model may
 * replace a weight's tensor with a view of its own buffer. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "layers.h"

typedef struct time_distributed_layer {
    nn_layer base;
    nn_layer *inner; /* the wrapped layer's copy; its weights are base.params */
} time_distributed_layer;

#define ARG(field) offsetof(time_distributed_layer, field)

static const nn_arg_spec time_distributed_args[] = {
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",
     "Name of the layer; by default 'time_distributed', 'time_distributed_1', ..."},
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,
     "None", "Shape of one input sample (steps first, without the batch axis), for the first "
             "layer."},
};

static nn_layer *inner_of(const nn_layer *layer)
{
    return ((const time_distributed_layer *)layer)->inner;
}

/* The wrapped layer's weights are the wrapper's tensors, its trainable flag the
 * wrapper's (layer.trainable = false freezes both). Before every call that may read them
 * (reserve, forward, backward, the first weights' adjustment); the wrapped layer's
 * scratch size, value check and mask read none. */
static void point_inner_at_weights(nn_layer *layer)
{
    nn_layer *inner = inner_of(layer);
    for (int i = 0; i < layer->param_count; i++) {
        inner->params[i].value = layer->params[i].value;
        inner->params[i].grad = layer->params[i].grad;
    }
    inner->param_count = layer->param_count;
    inner->trainable = layer->trainable;
}

static nn_status arg_size(nn_arg_kind kind, size_t *size)
{
    switch (kind) {
    case NN_ARG_INT: case NN_ARG_CHOICE: case NN_ARG_AXIS: *size = sizeof(int); break;
    case NN_ARG_OPTIONAL_INT: *size = sizeof(nn_optional_int); break;
    case NN_ARG_FLOAT: *size = sizeof(float); break;
    case NN_ARG_BOOL: *size = sizeof(bool); break;
    case NN_ARG_PAIR: case NN_ARG_OPTIONAL_PAIR: *size = 2 * sizeof(int); break;
    case NN_ARG_SHAPE: case NN_ARG_TARGET_SHAPE: *size = sizeof(nn_shape); break;
    case NN_ARG_SIDES: *size = 4 * sizeof(int); break;
    case NN_ARG_TRIPLE: case NN_ARG_OPTIONAL_TRIPLE: *size = 3 * sizeof(int); break;
    case NN_ARG_SIDES3: *size = 6 * sizeof(int); break;
    case NN_ARG_AXES: *size = sizeof(nn_axes); break;
    case NN_ARG_ACTIVATION: *size = sizeof(nn_activation); break;
    case NN_ARG_INITIALIZER: *size = sizeof(nn_initializer); break;
    case NN_ARG_REGULARIZER: *size = sizeof(nn_regularizer); break;
    case NN_ARG_CONSTRAINT: *size = sizeof(nn_constraint); break;
    case NN_ARG_STRING: *size = NN_NAME_CAPACITY; break;
    case NN_ARG_FACTOR: *size = 2 * sizeof(float); break;
    case NN_ARG_OPTIONAL_FLOAT: *size = sizeof(nn_optional_float); break;
    case NN_ARG_OPTIONAL_FLOATS: *size = sizeof(nn_optional_floats); break;
    default: return nn_error(NN_ERR_ARGUMENT, "argument kind %d has no known size", (int)kind);
    }
    return NN_OK;
}

/* A new, unbuilt layer with the arguments of `layer`. */
static nn_status copy_arguments(nn_layer **out, const nn_layer *layer)
{
    *out = NULL;
    const nn_layer_class *cls = layer->cls;
    nn_layer *copy = NULL;
    NN_TRY(nn_layer_create(&copy, cls));
    nn_status status = NN_OK;
    for (int i = 0; i < cls->arg_count && status == NN_OK; i++) {
        size_t size = 0;
        status = arg_size(cls->args[i].kind, &size);
        if (status == NN_OK)
            memcpy(nn_layer_arg_pointer(copy, &cls->args[i]),
                   nn_layer_arg_pointer((nn_layer *)layer, &cls->args[i]), size);
    }
    copy->trainable = layer->trainable;
    copy->named_by_user = layer->named_by_user;
    if (status == NN_OK && cls == &nn_time_distributed_class)
        status = nn_time_distributed_wrap(copy, inner_of(layer));
    if (status == NN_OK)
        status = nn_layer_finish(copy);
    /* It draws the numbers the layer would (a Dropout's masks): a model file gives the
     * wrapped layer its own, to be kept. */
    copy->seed = layer->seed;
    copy->stream = layer->stream;
    if (status != NN_OK) {
        nn_layer_release(copy);
        return status;
    }
    *out = copy;
    return NN_OK;
}

nn_status nn_time_distributed_wrap(nn_layer *wrapper, const nn_layer *layer)
{
    if (wrapper->cls != &nn_time_distributed_class)
        return nn_error(NN_ERR_ARGUMENT, "layer \"%s\" is a %s, not a TimeDistributed",
                        wrapper->name, wrapper->cls->name);
    if (layer->built)
        return nn_error(NN_ERR_ARGUMENT, "TimeDistributed wraps a layer that is not built yet, "
                        "and makes the weights itself; \"%s\" is built already (make a new "
                        "nn.layers.%s{...})", layer->name, layer->cls->name);
    if (layer->declared_input.ndim > 0)
        return nn_error(NN_ERR_ARGUMENT, "the layer TimeDistributed wraps takes no input_shape "
                        "(\"%s\" has one); give the whole input's, steps first, to "
                        "TimeDistributed: nn.layers.TimeDistributed{layer, input_shape={steps, "
                        "...}}", layer->name);
    nn_layer *inner = NULL;
    NN_TRY(copy_arguments(&inner, layer));
    time_distributed_layer *td = (time_distributed_layer *)wrapper;
    nn_layer_release(td->inner);
    td->inner = inner;
    /* The model reads these from the layers it holds: the activation, to take the loss
     * from the last layer's logits (the wrapped layer writes them) and to share a ReLU's
     * derivative; the activity penalty, which it adds for each layer. */
    wrapper->activation = inner->activation;
    wrapper->activity_regularizer = inner->activity_regularizer;
    /* A frozen layer stays frozen when wrapped (trainable= given to the wrapper, read
     * after this, still decides). */
    wrapper->trainable = inner->trainable;
    return NN_OK;
}

const nn_layer *nn_time_distributed_inner(const nn_layer *layer)
{
    return layer->cls == &nn_time_distributed_class ? inner_of(layer) : NULL;
}

const nn_layer *nn_time_distributed_innermost(const nn_layer *layer)
{
    while (layer->cls == &nn_time_distributed_class)
        layer = inner_of(layer);
    return layer;
}

static void time_distributed_set_defaults(nn_layer *layer) { (void)layer; }

static nn_status time_distributed_validate(nn_layer *layer)
{
    if (!inner_of(layer))
        return nn_error(NN_ERR_ARGUMENT, "TimeDistributed \"%s\" has no layer to wrap "
                        "(nn.layers.TimeDistributed{nn.layers.Dense{8}})", layer->name);
    return NN_OK;
}

/* (batch, steps, a, b, ...) -> (batch, a, b, ...): one step of the input. */
static nn_shape step_shape(const nn_shape *shape)
{
    nn_shape step = {.ndim = shape->ndim - 1};
    step.dims[0] = shape->dims[0];
    for (int axis = 2; axis < shape->ndim; axis++)
        step.dims[axis - 1] = shape->dims[axis];
    return step;
}

static nn_status time_distributed_build(nn_layer *layer, const nn_shape *input,
                                        nn_shape *output)
{
    nn_layer *inner = inner_of(layer);
    char text[128], inner_text[128];
    if (input->ndim < 3)
        return nn_error(NN_ERR_SHAPE, "Input 0 of layer \"%s\" is incompatible with the "
                        "layer: TimeDistributed expects (batch, steps, ...) with at least one "
                        "axis per step, found shape %s; a (batch, features) input has no steps "
                        "(use the wrapped layer itself)",
                        layer->name, nn_shape_format(input, text, sizeof text));
    if (input->dims[1] < 1)
        return nn_error(NN_ERR_SHAPE, "Input 0 of layer \"%s\" is incompatible with the "
                        "layer: TimeDistributed needs a known number of steps, found shape %s",
                        layer->name, nn_shape_format(input, text, sizeof text));
    nn_shape step = step_shape(input), step_output = {0};
    /* The wrapped layer's shapes and weights, declared without allocating (so that
     * reading a model file may check them too); the weights become the wrapper's. Its
     * weight list is put back after: a built wrapper runs this again for a call on
     * another shape, and the wrapped layer's list must keep pointing at the weights. */
    nn_param kept[NN_LAYER_MAX_PARAMS];
    int kept_count = inner->param_count;
    memcpy(kept, inner->params, sizeof kept);
    inner->param_count = 0;
    inner->explanation[0] = '\0';
    nn_status status = inner->cls->build(inner, &step, &step_output);
    nn_param declared[NN_LAYER_MAX_PARAMS];
    int declared_count = inner->param_count;
    memcpy(declared, inner->params, sizeof declared);
    memcpy(inner->params, kept, sizeof kept);
    inner->param_count = kept_count;
    if (status != NN_OK)
        return nn_error_prefix(status, "applying \"%s\" to each step %s of its input "
                               "%s", inner->name,
                               nn_shape_format(&step, text, sizeof text),
                               nn_shape_format(input, inner_text, sizeof inner_text));
    /* Building may change what the model should see: a Softmax over another axis than
     * the last applies no activation the loss could take over. */
    layer->activation = inner->activation;
    if (step_output.ndim + 1 > NN_MAX_DIMS)
        return nn_error(NN_ERR_SHAPE, "TimeDistributed \"%s\": with the steps, the output would "
                        "have %d axes; nnsh allows at most %d", layer->name,
                        step_output.ndim + 1, NN_MAX_DIMS);
    for (int i = 0; i < declared_count; i++) {
        const nn_param *param = &declared[i];
        nn_layer_declare_param(layer, param->name, &param->shape, param->trainable,
                               param->initializer, param->regularizer, param->constraint);
    }
    *output = (nn_shape){.ndim = step_output.ndim + 1};
    output->dims[0] = -1;
    output->dims[1] = input->dims[1];
    for (int axis = 1; axis < step_output.ndim; axis++)
        output->dims[axis + 1] = step_output.dims[axis];
    inner->input_shape = step;
    inner->output_shape = step_output;
    snprintf(layer->explanation, sizeof layer->explanation,
             "%s \"%s\" on each of the %lld steps: %s -> %s%s%.300s", inner->cls->name,
             inner->name, (long long)input->dims[1],
             nn_shape_format(&step, text, sizeof text),
             nn_shape_format(&step_output, inner_text, sizeof inner_text),
             inner->explanation[0] ? "; " : "", inner->explanation);
    return NN_OK;
}

/* The weights are filled (host memory): the wrapped layer points at them, adjusts them as
 * it would its own (an LSTM's forget-gate bias) and counts as built. */
static void time_distributed_initialized(nn_layer *layer)
{
    nn_layer *inner = inner_of(layer);
    point_inner_at_weights(layer);
    if (inner->cls->initialized)
        inner->cls->initialized(inner);
    inner->built = true;
}

/* The rows the wrapped layer sees for `batch` rows of input. */
static int64_t inner_rows(const nn_layer *layer, int64_t batch)
{
    return batch * layer->input_shape.dims[1];
}

static size_t time_distributed_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                              int64_t batch)
{
    return nn_layer_scratch_floats(inner_of(layer), backend, inner_rows(layer, batch));
}

static nn_status time_distributed_reserve(nn_layer *layer, nn_device device, int64_t batch)
{
    point_inner_at_weights(layer);
    return nn_layer_reserve_on(inner_of(layer), device, inner_rows(layer, batch));
}

/* The same memory seen as (batch·steps, ...). */
static nn_tensor steps_as_rows(const nn_tensor *tensor)
{
    nn_tensor view = *tensor;
    view.shape = step_shape(&tensor->shape);
    view.shape.dims[0] = tensor->shape.dims[0] * tensor->shape.dims[1];
    return view;
}

static nn_status time_distributed_forward(nn_layer *layer, nn_exec *exec,
                                          const nn_tensor *input, nn_tensor *output)
{
    nn_layer *inner = inner_of(layer);
    point_inner_at_weights(layer);
    nn_tensor rows_in = steps_as_rows(input), rows_out = steps_as_rows(output);
    nn_status status = inner->cls->forward(inner, exec, &rows_in, &rows_out);
    if (status != NN_OK)
        return nn_error_prefix(status, "the layer TimeDistributed wraps");
    return NN_OK;
}

static nn_status time_distributed_backward(nn_layer *layer, nn_exec *exec,
                                           const nn_tensor *input, const nn_tensor *output,
                                           const nn_tensor *doutput, nn_tensor *dinput)
{
    nn_layer *inner = inner_of(layer);
    point_inner_at_weights(layer);
    nn_tensor rows_in = steps_as_rows(input), rows_out = steps_as_rows(output),
              rows_dout = steps_as_rows(doutput), rows_din;
    if (dinput)
        rows_din = steps_as_rows(dinput);
    nn_status status = inner->cls->backward(inner, exec, &rows_in, &rows_out, &rows_dout,
                                            dinput ? &rows_din : NULL);
    if (status != NN_OK)
        return nn_error_prefix(status, "the layer TimeDistributed wraps");
    return NN_OK;
}

static nn_status time_distributed_check_input(const nn_layer *layer, const nn_tensor *input)
{
    const nn_layer *inner = inner_of(layer);
    if (!inner->cls->check_input)
        return NN_OK;
    /* A check reads values one by one (an Embedding's indices) and takes the shape only to
     * say where a bad one is: in the whole input, which the user knows. */
    return inner->cls->check_input(inner, input);
}

/* A mask covers every axis of a sample but the last (see nn_layer_mask_steps), so the
 * mask over (batch, steps, ...) is, in the same order, the mask over (batch·steps, ...)
 * that the wrapped layer sees: the wrapper takes, makes and passes on masks as that layer
 * does (an Embedding with mask_zero makes one per step's sequence, an LSTM on each step
 * reads it, a Dense passes it on). */
static unsigned time_distributed_mask_use(const nn_layer *layer, const nn_shape *input)
{
    if (input->ndim < 3)
        return 0;
    nn_shape step = step_shape(input);
    return nn_layer_mask_use_on(inner_of(layer), &step);
}

static void time_distributed_make_mask(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                       float *mask)
{
    nn_layer *inner = inner_of(layer);
    nn_tensor rows = steps_as_rows(input);
    inner->cls->make_mask(inner, exec, &rows, mask);
}

static void time_distributed_destroy(nn_layer *layer)
{
    nn_layer *inner = inner_of(layer);
    if (!inner)
        return;
    /* The weights are the wrapper's, freed with it. */
    for (int i = 0; i < inner->param_count; i++)
        inner->params[i].value = inner->params[i].grad = NULL;
    inner->param_count = 0;
    nn_layer_release(inner);
}

const nn_layer_class nn_time_distributed_class = {
    .name = "TimeDistributed",
    .base_name = "time_distributed",
    .doc = "Applies one layer to every step of its input: (batch, steps, ...) goes through "
           "the wrapped layer as steps separate samples, with the same weights for every "
           "step, and comes out as (batch, steps, ...the layer's output). The weights are "
           "TimeDistributed's (its kernel, bias, ... are the wrapped layer's); the layer given "
           "is copied, and stays as it was. A Dense needs no wrapper (it acts on the last "
           "axis); TimeDistributed is for layers such as Conv2D on each frame of a video. The "
           "steps go through the layer together, as (batch * steps) samples: a "
           "BatchNormalization inside takes its statistics over every step of the batch at "
           "once, and the layer's activity penalty is divided by (batch * steps) rows, as "
           "tf.keras 2 did (Keras 3 normalises each step by its own and adds no such "
           "penalty).",
    .example = "local frames = nn.layers.TimeDistributed{\n"
               "  nn.layers.Conv2D{8, {3, 3}, activation='relu'}, input_shape={10, 28, 28, 1}}\n"
               "-- (None, 10, 28, 28, 1) -> (None, 10, 26, 26, 8)",
    .size = sizeof(time_distributed_layer),
    .args = time_distributed_args,
    .arg_count = (int)(sizeof time_distributed_args / sizeof time_distributed_args[0]),
    .positional_count = 0,
    .set_defaults = time_distributed_set_defaults,
    .validate = time_distributed_validate,
    .build = time_distributed_build,
    .initialized = time_distributed_initialized,
    .scratch_floats = time_distributed_scratch_floats,
    .reserve = time_distributed_reserve,
    .forward = time_distributed_forward,
    .backward = time_distributed_backward,
    .check_input = time_distributed_check_input,
    .destroy = time_distributed_destroy,
    .mask_use = time_distributed_mask_use,
    .make_mask = time_distributed_make_mask,
};
