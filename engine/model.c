/* Sequential models: adding and building layers with early shape errors, one weight
 * buffer, and the fit / evaluate / predict loops. */
#include "model.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "layers/layers.h"
#include "random.h"
#include "tensor_ops.h"

/* ---- logs and history ---- */

double nn_logs_get(const nn_logs *logs, const char *name)
{
    for (int i = 0; i < logs->count; i++)
        if (strcmp(logs->names[i], name) == 0)
            return logs->values[i];
    return NAN;
}

void nn_logs_set(nn_logs *logs, const char *name, double value)
{
    for (int i = 0; i < logs->count; i++) {
        if (strcmp(logs->names[i], name) == 0) {
            logs->values[i] = value;
            return;
        }
    }
    if (logs->count >= NN_MAX_LOGS)
        return;
    snprintf(logs->names[logs->count], sizeof logs->names[0], "%s", name);
    logs->values[logs->count++] = value;
}

void nn_history_free(nn_history *history)
{
    if (!history)
        return;
    free(history->rows);
    free(history->epoch_numbers);
    memset(history, 0, sizeof *history);
}

static nn_status history_append(nn_history *history, int epoch, const nn_logs *logs)
{
    if (!history)
        return NN_OK;
    if (history->epochs == history->capacity) {
        int capacity = history->capacity ? 2 * history->capacity : 16;
        nn_logs *rows = realloc(history->rows, (size_t)capacity * sizeof *rows);
        if (!rows)
            return nn_error(NN_ERR_MEMORY, "out of memory recording the history");
        history->rows = rows;
        int *numbers = realloc(history->epoch_numbers, (size_t)capacity * sizeof *numbers);
        if (!numbers)
            return nn_error(NN_ERR_MEMORY, "out of memory recording the history");
        history->epoch_numbers = numbers;
        history->capacity = capacity;
    }
    history->rows[history->epochs] = *logs;
    history->epoch_numbers[history->epochs] = epoch;
    history->epochs++;
    return NN_OK;
}

nn_fit_options nn_fit_defaults(void)
{
    return (nn_fit_options){.epochs = 1, .batch_size = 32, .shuffle = true,
                            .validation_freq = 1};
}

/* ---- creation ---- */

nn_status nn_model_create(nn_model **out, const char *name)
{
    *out = NULL;
    nn_model *model = calloc(1, sizeof *model);
    if (!model)
        return nn_error(NN_ERR_MEMORY, "out of memory creating a model");
    snprintf(model->name, sizeof model->name, "%s", name ? name : "sequential");
    model->refcount = 1;
    /* The device is chosen when the model first needs memory (place). */
    *out = model;
    return NN_OK;
}

void nn_model_retain(nn_model *model)
{
    if (model)
        model->refcount++;
}

/* Drops the model's hold on its execution buffers without freeing them. */
static void forget_buffers(nn_model *model)
{
    model->outputs = model->doutputs = NULL;
    model->masks = NULL;
    model->mask_storage = NULL;
    model->output_count = 0;
    model->logits = model->labels = model->row_weights = model->scratch = model->stats = NULL;
    model->metric_weights = NULL;
    model->curves = NULL;
    model->activity_gradient = NULL;
    for (int slot = 0; slot < 2; slot++) {
        model->pinned_inputs[slot] = model->pinned_labels[slot] = NULL;
        model->pinned_weights[slot] = NULL;
        model->landing_inputs[slot] = model->landing_labels[slot] = NULL;
        model->landing_weights[slot] = NULL;
    }
    model->pinned_backend = NULL;
    model->order = NULL;
    model->reserved_batch = 0;
    model->reserved_training = false;
    model->order_capacity = 0;
    model->scratch_floats = 0;
}

static void free_buffers(nn_model *model)
{
    for (int i = 0; model->outputs && i < model->output_count; i++)
        nn_tensor_free(model->outputs[i]);
    for (int i = 0; model->doutputs && i < model->output_count; i++)
        nn_tensor_free(model->doutputs[i]);
    for (int i = 0; model->mask_storage && i < model->output_count; i++)
        nn_storage_release(model->mask_storage[i]);
    free(model->outputs);
    free(model->doutputs);
    free(model->masks);
    free(model->mask_storage);
    nn_storage_release(model->logits);
    nn_storage_release(model->labels);
    nn_storage_release(model->row_weights);
    nn_storage_release(model->metric_weights);
    nn_storage_release(model->activity_gradient);
    nn_storage_release(model->scratch);
    nn_storage_release(model->stats);
    nn_storage_release(model->curves);
    for (int slot = 0; slot < 2; slot++) {
        if (model->pinned_backend) {
            model->pinned_backend->host_free(model->pinned_inputs[slot]);
            model->pinned_backend->host_free(model->pinned_labels[slot]);
            model->pinned_backend->host_free(model->pinned_weights[slot]);
        }
        nn_storage_release(model->landing_inputs[slot]);
        nn_storage_release(model->landing_labels[slot]);
        nn_storage_release(model->landing_weights[slot]);
    }
    free(model->order);
    forget_buffers(model);
}

void nn_model_release(nn_model *model)
{
    if (!model || --model->refcount > 0)
        return;
    free_buffers(model);
    for (int i = 0; i < model->layer_count; i++)
        nn_layer_release(model->layers[i]);
    free(model->layers);
    free(model->popped_names);
    nn_storage_release(model->weights);
    nn_storage_release(model->gradients);
    nn_optimizer_free(model->optimizer);
    nn_storage_release(model->decay_mask);
    free(model->gathered_trains);
    free(model);
}

/* ---- adding and building ---- */

/* Gives the layer the model's next free name for its kind: conv2d, conv2d_1, ... */
static void assign_name(nn_model *model, nn_layer *layer)
{
    /* Keras names a layer once: a layer shared with another model keeps its name. */
    if (layer->named_by_user || layer->numbered)
        return;
    layer->numbered = true;
    for (int number = 0;; number++) {
        char candidate[NN_NAME_CAPACITY];
        if (number == 0)
            snprintf(candidate, sizeof candidate, "%s", layer->cls->base_name);
        else
            snprintf(candidate, sizeof candidate, "%s_%d", layer->cls->base_name, number);
        bool taken = false;
        for (int i = 0; i < model->layer_count && !taken; i++)
            taken = strcmp(model->layers[i]->name, candidate) == 0;
        for (int i = 0; i < model->popped_count && !taken; i++)
            taken = strcmp(model->popped_names[i], candidate) == 0;
        if (!taken) {
            memcpy(layer->name, candidate, sizeof candidate);
            return;
        }
    }
}

/* The side of a square picture of n pixels with `channels` channels, or 0. */
static int64_t square_side(int64_t n, int64_t channels)
{
    if (n <= 0 || n % channels != 0)
        return 0;
    int64_t side = (int64_t)llround(sqrt((double)(n / channels)));
    return side > 1 && side * side * channels == n ? side : 0;
}

/* The likely fix when layer `index` of the model cannot take `input`, written into fix
 * (empty when there is none to offer). problem is the layer's own message. */
static void suggest_fix(const nn_model *model, int index, const nn_shape *input,
                        const char *problem, char *fix, size_t size)
{
    const nn_layer *layer = model->layers[index];
    const char *kind = layer->cls->name;
    bool image_layer = strcmp(kind, "Conv2D") == 0 || strcmp(kind, "MaxPooling2D") == 0;
    /* Whether what reaches the layer is still the model's input as given: only layers
     * that keep the shape (Rescaling, Dropout) come before it. */
    bool model_input = true;
    for (int i = 0; i < index && model_input; i++)
        model_input = nn_shape_equal(&model->layers[i]->output_shape, &model->input_shape);
    fix[0] = '\0';
    if (strcmp(kind, "Dense") == 0 && input->ndim > 2) {
        snprintf(fix, size, "%s",
                 input->ndim == 4 ? "add nn.layers.Flatten() before it (or, to apply it to "
                                    "every pixel on purpose, use nn.layers.Conv2D{units, 1})."
                                  : "Dense works on flat feature vectors: add "
                                    "nn.layers.Flatten() before it.");
        return;
    }
    if (image_layer && input->ndim == 2) {
        /* Where the input went flat: a Flatten (or global pooling) before this layer, the
         * model's input itself, or a Dense. */
        const nn_layer *flattening = NULL;
        for (int i = index - 1; i >= 0 && !flattening; i--) {
            const nn_shape *before = i == 0 ? &model->input_shape
                                            : &model->layers[i - 1]->output_shape;
            if (model->layers[i]->output_shape.ndim == 2 && before->ndim > 2)
                flattening = model->layers[i];
        }
        /* The pictures' shape, when the flat features are square ones (784 is 28 by 28). */
        int64_t features = input->dims[1];
        int64_t gray = square_side(features, 1), color = square_side(features, 3);
        char picture[96] = "{height, width, channels}";
        if (gray || color)
            snprintf(picture, sizeof picture, "{%lld, %lld, %d}", (long long)(gray ? gray : color),
                     (long long)(gray ? gray : color), gray ? 1 : 3);
        bool flattens = flattening && (strcmp(flattening->cls->name, "Flatten") == 0 ||
                                       strncmp(flattening->cls->name, "Global", 6) == 0);
        /* Right after the Flatten: move before it; with layers between (a decoder's
         * Dense), the flat features are reshaped instead. */
        if (flattens && flattening == model->layers[index - 1])
            snprintf(fix, size, "this layer needs (batch, height, width, channels) input, and "
                                "\"%s\" (%s) made it flat: move this layer before it.",
                     flattening->name, flattening->cls->name);
        else if (model_input)
            snprintf(fix, size, "this layer needs (batch, height, width, channels) input, and "
                                "the model's input is flat: give it the pictures' shape, "
                                "input_shape=%s, or put nn.layers.Reshape{%s} first.",
                     picture, picture);
        else if (!flattening || flattens)
            snprintf(fix, size, "this layer needs (batch, height, width, channels) input, and "
                                "the features reaching it from \"%s\" (%s) are flat: put "
                                "nn.layers.Reshape{%s} before this layer.",
                     model->layers[index - 1]->name, model->layers[index - 1]->cls->name,
                     picture);
        else
            snprintf(fix, size, "this layer needs (batch, height, width, channels) input; "
                                "put it before \"%s\" (%s), which outputs flat features, or "
                                "reshape them with nn.layers.Reshape{{height, width, "
                                "channels}}.",
                     flattening->name, flattening->cls->name);
        return;
    }
    if (image_layer && input->ndim != 4) {
        snprintf(fix, size, "this layer needs (batch, height, width, channels) input; reshape "
                            "the data or fix input_shape.");
        return;
    }
    /* (None, 1, 28, 28) given as the model's input: the channels written first, as PyTorch
     * and Keras' channels_first write them. A feature map of that shape further in is the
     * model's own. */
    const nn_arg_spec *format = nn_layer_class_arg(layer->cls, "data_format");
    bool channels_last = format && *(const int *)nn_layer_arg_pointer((nn_layer *)layer, format) ==
                                       NN_CHANNELS_LAST;
    bool channels_first = image_layer && model_input && input->ndim == 4 && channels_last &&
                          (input->dims[1] == 1 || input->dims[1] == 3) && input->dims[3] > 4;
    if (channels_first)
        snprintf(fix, size, "the input looks channels-first, (channels, height, width): give "
                            "input_shape={%lld, %lld, %lld} (channels last, Keras' default), "
                            "or data_format='channels_first'.",
                 (long long)input->dims[2], (long long)input->dims[3],
                 (long long)input->dims[1]);
    /* Only when the window is what does not fit (the layers' shape rules say "<= 0"), not
     * when the input is too large or an initializer's settings are wrong. */
    else if (image_layer && strstr(problem, "<= 0"))
        snprintf(fix, size, "the feature map is too small for this window: use "
                            "padding='same', a smaller kernel or pool size, smaller strides, or "
                            "fewer pooling layers before it.");
}

int nn_model_mask_source(const nn_model *model, int index)
{
    int source = -1;
    for (int i = 0; i < index; i++) {
        unsigned use = nn_layer_mask_use(model->layers[i]);
        if (use & NN_MASK_MAKES)
            source = i;
        else if (!(use & NN_MASK_PASSES))
            source = -1;
    }
    return source;
}

/* Keras documents that a layer which does not support masking raises when a mask reaches
 * it; the error says where the mask comes from and what would take it. */
static nn_status refuse_mask(const nn_model *model, int index, int source)
{
    const nn_layer *layer = model->layers[index], *maker = model->layers[source];
    /* Inside any TimeDistributed, the layers that make and refuse the mask. */
    const nn_layer *making = nn_time_distributed_innermost(maker);
    const nn_layer *refusing = nn_time_distributed_innermost(layer);
    bool embedding = strcmp(making->cls->name, "Embedding") == 0;
    /* Layers that take a mask in one setting only say which. */
    const char *setting = refusing->cls == &nn_global_average_pooling1d_class
                              ? " with data_format='channels_first'"
                          : refusing->cls == &nn_batchnorm_class
                              ? " over another axis than the last (the features')"
                              : "";
    return nn_error(NN_ERR_ARGUMENT,
                    "layer \"%s\" (%s) cannot take the mask over steps that \"%s\" (%s) "
                    "makes%s: %s does not support masking%s. Put a layer that uses the mask "
                    "before it (SimpleRNN, LSTM, GRU, Bidirectional, "
                    "GlobalAveragePooling1D over (batch, steps, channels)), or make no mask "
                    "(%s)",
                    layer->name, layer->cls->name, maker->name, maker->cls->name,
                    embedding ? " with mask_zero=True" : "", refusing->cls->name, setting,
                    embedding ? "mask_zero=False" : "leave the Masking layer out");
}

/* Builds `layer` on `input`; on failure rewrites the message to name the layer before
 * it (or the model input), both shapes, and the likely fix. */
static nn_status build_after(nn_model *model, int index, const nn_shape *input)
{
    nn_layer *layer = model->layers[index];
    char input_text[128], message[1024];
    nn_status status = NN_OK;
    /* Sequential Dense layers after image-shaped output are almost always a missing
     * Flatten: Keras would silently apply them per pixel. */
    if (strcmp(layer->cls->name, "Dense") == 0 && input->ndim == 4 && !layer->built)
        status = nn_error(NN_ERR_SHAPE, "a Dense layer right after a feature map is refused: "
                                        "Keras would apply it to every pixel, which here is "
                                        "almost always a missing Flatten");
    /* Values a layer checks (an Embedding's indices) are checked on the data, before the
     * first layer: a later layer would get them unchecked from the one before. */
    if (index > 0 && nn_layer_checks_input(layer))
        status = nn_error(NN_ERR_SHAPE, "%s takes values that nnsh checks on the data before "
                                        "any kernel sees them (an Embedding's indices), so it "
                                        "must be the model's first layer",
                          layer->cls->name);
    int mask_source = nn_model_mask_source(model, index);
    if (status == NN_OK && mask_source >= 0 && nn_layer_mask_use_on(layer, input) == 0)
        return refuse_mask(model, index, mask_source);
    if (status == NN_OK)
        status = nn_layer_build(layer, input);
    if (status == NN_OK)
        return NN_OK;
    snprintf(message, sizeof message, "%s", nn_error_message());
    size_t length = strlen(message);
    if (length > 0 && message[length - 1] == '.')
        message[length - 1] = '\0'; /* the fix, when there is one, follows after ". " */
    nn_shape_format(input, input_text, sizeof input_text);
    char fix[512];
    suggest_fix(model, index, input, message, fix, sizeof fix);
    /* A sentence of its own after the message. */
    fix[0] = (char)toupper((unsigned char)fix[0]);
    /* A setting the layer's weights cannot take (a constraint's axis, an initializer's
     * range) is the layer's own fault, whatever the shape before it. */
    if (status != NN_ERR_SHAPE)
        return nn_error(status, "layer \"%s\" (%s): %s%s%s", layer->name, layer->cls->name,
                        message, fix[0] ? ". " : "", fix);
    if (index == 0)
        return nn_error(status, "layer \"%s\" (%s) cannot take the model input of shape %s: "
                                "%s%s%s",
                        layer->name, layer->cls->name, input_text, message, fix[0] ? ". " : "",
                        fix);
    const nn_layer *previous = model->layers[index - 1];
    return nn_error(status,
                    "layer \"%s\" (%s) cannot follow \"%s\" (%s), which outputs %s: %s%s%s",
                    layer->name, layer->cls->name, previous->name, previous->cls->name,
                    input_text, message, fix[0] ? ". " : "", fix);
}

static nn_status build_from(nn_model *model, int first)
{
    nn_shape shape = first == 0 ? model->input_shape : model->layers[first - 1]->output_shape;
    for (int i = first; i < model->layer_count; i++) {
        NN_TRY(build_after(model, i, &shape));
        shape = model->layers[i]->output_shape;
    }
    model->built = true;
    model->weights_stale = true;
    return NN_OK;
}

/* Marks the layers of a model that starts a run, so that another model sharing one of
 * them cannot take its weights away (re-gather or move them) from a callback of the run;
 * unmarks what it marked when the run ends. */
static void mark_layers(nn_model *model, bool running)
{
    for (int i = 0; i < model->layer_count; i++) {
        nn_layer *layer = model->layers[i];
        if (running && !layer->running_in)
            layer->running_in = model;
        else if (!running && layer->running_in == model)
            layer->running_in = NULL;
    }
}

static void start_run(nn_model *model)
{
    model->running = true;
    mark_layers(model, true);
}

static void end_run(nn_model *model)
{
    mark_layers(model, false);
    model->running = false;
}

/* A shared layer of this model is in use by another model's run in progress. */
static nn_status refuse_layers_in_use(const nn_model *model, const char *what)
{
    for (int i = 0; i < model->layer_count; i++) {
        const nn_layer *layer = model->layers[i];
        if (layer->running_in && layer->running_in != model)
            return nn_error(NN_ERR_STATE, "layer \"%s\" of model \"%s\" is in use by model "
                            "\"%s\", which is in the middle of fit, evaluate or predict (this "
                            "call came from one of its callbacks), so model \"%s\" cannot %s "
                            "until that returns", layer->name, model->name,
                            layer->running_in->name, model->name, what);
    }
    return NN_OK;
}

/* add, build, compile, fit and to change what a run in progress relies on: refused from
 * its callbacks (evaluate and predict there run on buffers of their own). `what` completes
 * "it cannot ...". */
static nn_status refuse_while_running(const nn_model *model, const char *what)
{
    if (!model->running)
        return NN_OK;
    return nn_error(NN_ERR_STATE, "model \"%s\" is in the middle of fit, evaluate or predict "
                    "(this call came from one of its callbacks), so it cannot %s until that "
                    "returns", model->name, what);
}

/* Whether a layer's input_shape= is the shape the model already takes. */
static bool declared_input_matches(const nn_model *model, const nn_layer *layer)
{
    if (layer->declared_input.ndim + 1 != model->input_shape.ndim)
        return false;
    for (int i = 0; i < layer->declared_input.ndim; i++)
        if (layer->declared_input.dims[i] != model->input_shape.dims[i + 1])
            return false;
    return true;
}

nn_status nn_model_add(nn_model *model, nn_layer *layer)
{
    NN_TRY(refuse_while_running(model, "take new layers"));
    for (int i = 0; i < model->layer_count; i++)
        if (model->layers[i] == layer)
            return nn_error(NN_ERR_ARGUMENT, "layer \"%s\" is already in model \"%s\"; "
                                             "create a new layer to add another",
                            layer->name, model->name);
    nn_shape saved_input = model->input_shape;
    if (model->layer_count == 0 && model->input_declared &&
        layer->declared_input.ndim > 0 && !declared_input_matches(model, layer)) {
        char declared[128], input[128];
        return nn_error(NN_ERR_SHAPE, "layer \"%s\" declares input_shape %s, but model \"%s\" "
                        "already takes input of shape %s (from its Input); drop one of "
                        "them or make them agree",
                        layer->name, nn_shape_format(&layer->declared_input, declared,
                                                     sizeof declared),
                        model->name, nn_shape_format(&model->input_shape, input, sizeof input));
    }
    if (model->layer_count == 0 && model->input_shape.ndim == 0) {
        if (layer->declared_input.ndim >= NN_MAX_DIMS)
            return nn_error(NN_ERR_SHAPE, "layer \"%s\": input_shape has %d sizes; with the "
                            "batch axis at most %d axes are allowed, so at most %d sizes",
                            layer->name, layer->declared_input.ndim, NN_MAX_DIMS,
                            NN_MAX_DIMS - 1);
        if (layer->declared_input.ndim > 0) {
            model->input_shape.ndim = layer->declared_input.ndim + 1;
            model->input_shape.dims[0] = -1;
            for (int i = 0; i < layer->declared_input.ndim; i++)
                model->input_shape.dims[i + 1] = layer->declared_input.dims[i];
        } else if (layer->built) {
            model->input_shape = layer->input_shape;
        }
    }
    if (model->layer_count == model->layer_capacity) {
        int capacity = model->layer_capacity ? 2 * model->layer_capacity : 8;
        nn_layer **layers = realloc(model->layers, (size_t)capacity * sizeof *layers);
        if (!layers) {
            model->input_shape = saved_input;
            return nn_error(NN_ERR_MEMORY, "out of memory adding a layer");
        }
        model->layers = layers;
        model->layer_capacity = capacity;
    }
    char saved_name[NN_NAME_CAPACITY];
    memcpy(saved_name, layer->name, sizeof saved_name);
    bool saved_numbered = layer->numbered;
    assign_name(model, layer);
    nn_status status = NN_OK;
    for (int i = 0; i < model->layer_count && status == NN_OK; i++)
        if (strcmp(model->layers[i]->name, layer->name) == 0)
            status = nn_error(NN_ERR_ARGUMENT, "layer name \"%s\" is already used by layer "
                              "%d of model \"%s\"; the layers of a model need different "
                              "names (give this one name='...')", layer->name, i + 1,
                              model->name);
    int index = model->layer_count;
    if (status == NN_OK) {
        model->layers[model->layer_count++] = layer;
        if (model->input_shape.ndim > 0) {
            status = build_from(model, index);
            if (status != NN_OK)
                model->layer_count--;
        }
    }
    if (status != NN_OK) {
        /* Leave the model and the layer as they were: a failed add changes nothing. */
        model->input_shape = saved_input;
        memcpy(layer->name, saved_name, sizeof saved_name);
        layer->numbered = saved_numbered;
        return status;
    }
    nn_layer_retain(layer);
    free_buffers(model);
    model->weights_stale = true;
    return NN_OK;
}

nn_status nn_model_pop(nn_model *model, nn_layer **popped)
{
    *popped = NULL;
    NN_TRY(refuse_while_running(model, "lose layers"));
    if (model->layer_count == 0)
        return nn_error(NN_ERR_STATE, "model \"%s\" has no layers to pop", model->name);
    /* The buffers are sized for the layers as they are: free them before the count
     * changes, and gather the weights again (without the popped layer's) on next use. */
    free_buffers(model);
    *popped = model->layers[--model->layer_count];
    model->layers[model->layer_count] = NULL;
    char(*names)[NN_NAME_CAPACITY] =
        realloc(model->popped_names, sizeof *names * (size_t)(model->popped_count + 1));
    if (names) {
        model->popped_names = names;
        memcpy(names[model->popped_count++], (*popped)->name, NN_NAME_CAPACITY);
    }
    model->weights_stale = true;
    if (model->layer_count == 0)
        model->built = false;
    return NN_OK;
}

nn_status nn_model_declare_input(nn_model *model, const nn_shape *sample)
{
    char text[128];
    NN_TRY(refuse_while_running(model, "take an input"));
    if (model->layer_count > 0)
        return nn_error(NN_ERR_STATE, "an Input can only come first, but model \"%s\" "
                        "already has %d layer%s (to set the input shape of a model with "
                        "layers, call model:build)", model->name, model->layer_count,
                        model->layer_count == 1 ? "" : "s");
    if (sample->ndim < 1 || sample->ndim >= NN_MAX_DIMS)
        return nn_error(NN_ERR_SHAPE, "an input shape needs 1 to %d sizes besides the batch "
                        "axis, got %d", NN_MAX_DIMS - 1, sample->ndim);
    for (int i = 0; i < sample->ndim; i++)
        if (sample->dims[i] <= 0 || sample->dims[i] > (1 << 30))
            return nn_error(NN_ERR_SHAPE, "input shape %s has size %lld at position %d; "
                            "every size must be from 1 to %d",
                            nn_shape_format(sample, text, sizeof text),
                            (long long)sample->dims[i], i + 1, 1 << 30);
    if (model->input_declared) {
        char before[128];
        nn_shape batched = {.ndim = sample->ndim + 1};
        batched.dims[0] = -1;
        memcpy(&batched.dims[1], sample->dims, (size_t)sample->ndim * sizeof sample->dims[0]);
        return nn_error(NN_ERR_STATE, "model \"%s\" already has an Input, of shape %s; a "
                        "model takes one (this one would be %s)", model->name,
                        nn_shape_format(&model->input_shape, before, sizeof before),
                        nn_shape_format(&batched, text, sizeof text));
    }
    model->input_declared = true;
    model->input_shape.ndim = sample->ndim + 1;
    model->input_shape.dims[0] = -1;
    memcpy(&model->input_shape.dims[1], sample->dims, (size_t)sample->ndim * sizeof sample->dims[0]);
    return NN_OK;
}

nn_status nn_model_build(nn_model *model, const nn_shape *input)
{
    char expected[128], received[128];
    NN_TRY(refuse_while_running(model, "be built again"));
    if (model->layer_count == 0)
        return nn_error(NN_ERR_STATE, "model \"%s\" has no layers; add some first",
                        model->name);
    if (input->ndim < 2)
        return nn_error(NN_ERR_SHAPE, "an input shape needs the batch axis and at least one "
                        "more, got %s", nn_shape_format(input, received, sizeof received));
    for (int i = 1; i < input->ndim; i++)
        if (input->dims[i] <= 0)
            return nn_error(NN_ERR_SHAPE, "the input shape has size %lld at axis %d; every "
                            "size after the batch axis must be positive",
                            (long long)input->dims[i], i);
    nn_shape batched = *input;
    batched.dims[0] = -1;
    if (model->input_shape.ndim > 0) {
        bool same = batched.ndim == model->input_shape.ndim;
        for (int i = 1; same && i < batched.ndim; i++)
            same = batched.dims[i] == model->input_shape.dims[i];
        if (!same)
            return nn_error(NN_ERR_SHAPE, "model \"%s\" expects input of shape %s, but "
                                          "received input with shape %s",
                            model->name,
                            nn_shape_format(&model->input_shape, expected, sizeof expected),
                            nn_shape_format(input, received, sizeof received));
        if (model->built)
            return NN_OK;
    }
    model->input_shape = batched;
    nn_status status = build_from(model, 0);
    if (status != NN_OK)
        model->input_shape.ndim = 0;
    return status;
}

int64_t nn_model_count_params(const nn_model *model, bool trainable)
{
    int64_t total = 0;
    for (int i = 0; i < model->layer_count; i++)
        total += nn_layer_count_params(model->layers[i], trainable);
    return total;
}

const nn_shape *nn_model_output_shape(const nn_model *model)
{
    if (!model->built || model->layer_count == 0)
        return NULL;
    return &model->layers[model->layer_count - 1]->output_shape;
}

/* ---- the weight buffer ---- */

/* The model's device, chosen on first need. */
static nn_status place(nn_model *model)
{
    if (model->device_chosen)
        return NN_OK;
    nn_device device;
    NN_TRY(nn_device_default(&device));
    model->device = device;
    model->backend = nn_backend_for(device);
    model->device_chosen = true;
    return NN_OK;
}

nn_status nn_model_device(nn_model *model, nn_device *device)
{
    NN_TRY(place(model));
    *device = model->device;
    return NN_OK;
}

/* Whether every weight of the model's layers lives in the model's own block, in the
 * part its training state says (a gradient exactly for the weights that train: a layer
 * frozen or thawed since needs a new gathering). A layer shared with another model lives
 * in whichever model gathered it last. */
/* Whether a layer of the model was frozen or thawed since the model gathered its weights
 * (always false before the first gathering). */
static bool trainability_changed(const nn_model *model)
{
    if (!model->gathered_trains)
        return false;
    int k = 0;
    for (int i = 0; i < model->layer_count; i++) {
        const nn_layer *layer = model->layers[i];
        for (int p = 0; p < layer->param_count; p++, k++)
            if (k >= model->gathered_count ||
                model->gathered_trains[k] != nn_param_trains(layer, &layer->params[p]))
                return true;
    }
    return k != model->gathered_count;
}

static bool weights_in_block(const nn_model *model)
{
    for (int i = 0; i < model->layer_count; i++) {
        const nn_layer *layer = model->layers[i];
        for (int p = 0; p < layer->param_count; p++)
            if (nn_tensor_home(layer->params[p].value, NULL) != model->weights)
                return false;
    }
    return !trainability_changed(model);
}

/* Whether weight decay applies to param, a trainable weight, given the parts of names
 * that exclude_from_weight_decay lists. */
static bool decays(const char (*exclusions)[NN_NAME_CAPACITY], int count, const nn_param *param)
{
    for (int i = 0; i < count; i++)
        if (param->name && strstr(param->name, exclusions[i]))
            return false;
    return true;
}

/* Moves every layer's weights into one buffer (trainable first) and their gradients
 * into another, so zeroing, updating and saving are single loops. Values are kept,
 * copied from wherever the layers had them to the model's device, and each layer's
 * weight storage becomes an alias of its place in the buffer. */

static nn_status gather_weights(nn_model *model)
{
    if (!model->weights_stale && weights_in_block(model))
        return NN_OK;
    NN_TRY(refuse_layers_in_use(model, "gather its weights"));
    /* The optimizer's state belongs to the weights that trained so far: a new set starts
     * it again (Keras asks for compile() after changing trainable for the same reason). */
    bool restart_optimizer = trainability_changed(model);
    NN_TRY(place(model));
    nn_device device = model->device;
    size_t trainable = 0, total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < model->layer_count; i++) {
            nn_layer *layer = model->layers[i];
            for (int p = 0; p < layer->param_count; p++) {
                if (nn_param_trains(layer, &layer->params[p]) == (pass == 0)) {
                    total += nn_tensor_count(layer->params[p].value);
                    if (pass == 0)
                        trainable = total;
                }
            }
        }
    }
    nn_storage *weights = NULL, *gradients = NULL, *decay_storage = NULL;
    NN_TRY(nn_storage_create_on(&weights, device, total * sizeof(float)));
    nn_status status = nn_storage_create_on(&gradients, device,
                                            (trainable ? trainable : 1) * sizeof(float));
    if (status == NN_OK)
        status = nn_storage_create_on(&decay_storage, device, trainable ? trainable : 1);
    unsigned char *decay_mask = status == NN_OK ? calloc(trainable ? trainable : 1, 1) : NULL;
    if (status == NN_OK && !decay_mask)
        status = nn_error(NN_ERR_MEMORY, "out of memory gathering the weights");
    /* First make every new view, so a failure leaves the layers untouched. */
    nn_tensor *values[256 * NN_LAYER_MAX_PARAMS], *grads[256 * NN_LAYER_MAX_PARAMS];
    int count = 0;
    size_t offset = 0;
    for (int pass = 0; pass < 2 && status == NN_OK; pass++) {
        for (int i = 0; i < model->layer_count && status == NN_OK; i++) {
            nn_layer *layer = model->layers[i];
            for (int p = 0; p < layer->param_count && status == NN_OK; p++) {
                nn_param *param = &layer->params[p];
                if (nn_param_trains(layer, param) != (pass == 0))
                    continue;
                if (count >= (int)(sizeof values / sizeof values[0])) {
                    status = nn_error(NN_ERR_ARGUMENT, "model \"%s\" has too many weight "
                                      "tensors", model->name);
                    break;
                }
                values[count] = grads[count] = NULL;
                status = nn_tensor_view(&values[count], weights, offset * sizeof(float),
                                        NN_DTYPE_F32, &param->shape);
                if (status == NN_OK && nn_param_trains(layer, param)) {
                    status = nn_tensor_view(&grads[count], gradients, offset * sizeof(float),
                                            NN_DTYPE_F32, &param->shape);
                    /* Keras 3 decays every trainable weight, biases and normalisation
                     * parameters included, unless exclude_from_weight_decay names it. */
                    if (status == NN_OK)
                        memset(decay_mask + offset,
                               decays(model->decay_exclusions, model->decay_exclusion_count,
                                      param),
                               nn_tensor_count(param->value));
                }
                if (status == NN_OK)
                    status = nn_tensor_copy_into(values[count], param->value);
                count++;
                offset += nn_tensor_count(param->value);
            }
        }
    }
    if (status == NN_OK)
        status = nn_memory_copy(device, decay_storage->data, nn_device_cpu(), decay_mask,
                                trainable ? trainable : 1);
    free(decay_mask);
    if (status != NN_OK) {
        for (int i = 0; i < count; i++) {
            nn_tensor_free(values[i]);
            nn_tensor_free(grads[i]);
        }
        nn_storage_release(weights);
        nn_storage_release(gradients);
        nn_storage_release(decay_storage);
        return status;
    }
    count = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < model->layer_count; i++) {
            nn_layer *layer = model->layers[i];
            for (int p = 0; p < layer->param_count; p++) {
                nn_param *param = &layer->params[p];
                if (nn_param_trains(layer, param) != (pass == 0))
                    continue;
                /* The layer's own storage becomes an alias of its place in the block, so
                 * views of it held elsewhere (a Lua `layer.kernel`) follow the training. */
                nn_storage *own = param->value->storage;
                if (param->value->offset == 0 && own->bytes == nn_tensor_bytes(param->value) &&
                    nn_storage_alias(own, weights, values[count]->offset) == NN_OK) {
                    nn_tensor_free(values[count]);
                } else {
                    nn_tensor_free(param->value);
                    param->value = values[count];
                }
                nn_tensor_free(param->grad);
                param->grad = grads[count];
                count++;
            }
        }
    }
    nn_storage_release(model->weights);
    nn_storage_release(model->gradients);
    nn_storage_release(model->decay_mask);
    model->weights = weights;
    model->gradients = gradients;
    model->decay_mask = decay_storage;
    model->weight_count = total;
    model->trainable_count = trainable;
    model->weights_stale = false;
    if (model->optimizer && (model->optimizer->count != trainable || restart_optimizer)) {
        nn_optimizer_free(model->optimizer);
        model->optimizer = NULL;
    }
    /* What trained, for trainability_changed. Without the record (out of memory) a later
     * change of trainable is still seen, as the count of weights that train. */
    free(model->gathered_trains);
    model->gathered_trains = malloc(sizeof(bool) * (size_t)(count > 0 ? count : 1));
    model->gathered_count = 0;
    for (int i = 0; model->gathered_trains && i < model->layer_count; i++)
        for (int p = 0; p < model->layers[i]->param_count; p++)
            model->gathered_trains[model->gathered_count++] =
                nn_param_trains(model->layers[i], &model->layers[i]->params[p]);
    return NN_OK;
}

nn_status nn_model_gather_weights(nn_model *model) { return gather_weights(model); }

size_t nn_model_weight_offset(const nn_param *param)
{
    size_t bytes;
    nn_tensor_home(param->value, &bytes);
    return bytes / sizeof(float);
}

float *nn_model_weights(nn_model *model)
{
    if (gather_weights(model) != NN_OK)
        return NULL;
    if (model->weights && model->weights->device.kind != NN_DEVICE_CPU) {
        char name[32];
        nn_error(NN_ERR_STATE, "the weights of model \"%s\" are on %s; copy them with "
                 "nn_model_read_weights", model->name,
                 nn_device_format(model->device, name, sizeof name));
        return NULL;
    }
    return model->weights ? (float *)model->weights->data : NULL;
}

nn_status nn_model_read_weights(nn_model *model, float *host)
{
    NN_TRY(gather_weights(model));
    if (!model->weights)
        return NN_OK;
    return nn_memory_copy(nn_device_cpu(), host, model->weights->device, model->weights->data,
                          model->weight_count * sizeof(float));
}

nn_status nn_model_write_weights(nn_model *model, const float *host)
{
    NN_TRY(gather_weights(model));
    if (!model->weights)
        return NN_OK;
    return nn_memory_copy(model->weights->device, model->weights->data, nn_device_cpu(), host,
                          model->weight_count * sizeof(float));
}

nn_status nn_model_to(nn_model *model, nn_device device)
{
    NN_TRY(nn_device_check(device));
    NN_TRY(refuse_while_running(model, "move to another device"));
    NN_TRY(refuse_layers_in_use(model, "move to another device"));
    if (model->device_chosen && nn_device_equal(model->device, device))
        return NN_OK;
    nn_model previous = *model;
    nn_device previous_device = model->device_chosen ? model->device : nn_device_cpu();
    nn_status status = NN_OK;
    if (model->weights && !model->weights_stale) {
        /* Everything or nothing: what moved goes back when a later move fails. */
        nn_storage *storages[3] = {model->weights, model->gradients, model->decay_mask};
        int moved = 0;
        while (moved < 3 && status == NN_OK) {
            if (storages[moved])
                status = nn_storage_move(storages[moved], device);
            if (status == NN_OK)
                moved++;
        }
        if (status == NN_OK && model->optimizer)
            status = nn_optimizer_move(model->optimizer, device);
        if (status != NN_OK) {
            for (int i = 0; i < moved; i++)
                if (storages[i])
                    nn_storage_move(storages[i], previous_device);
            return status;
        }
    }
    free_buffers(model);
    model->device = device;
    model->backend = nn_backend_for(device);
    model->device_chosen = true;
    if (model->built && (!model->weights || model->weights_stale)) {
        /* Not gathered yet (or layers changed): gather straight onto the new device, so
         * the layers' weights are there from now on. */
        status = gather_weights(model);
        if (status == NN_OK && model->optimizer)
            status = nn_optimizer_move(model->optimizer, device);
        if (status != NN_OK) {
            model->device = previous.device;
            model->backend = previous.backend;
            model->device_chosen = previous.device_chosen;
            return status;
        }
    }
    return NN_OK;
}

/* ---- compile ---- */

nn_status nn_model_exclude_from_weight_decay(nn_model *model, const char *const *names,
                                             int count)
{
    NN_TRY(refuse_while_running(model, "change exclude_from_weight_decay"));
    if (count < 0 || count > NN_MAX_DECAY_EXCLUSIONS)
        return nn_error(NN_ERR_ARGUMENT, "exclude_from_weight_decay: at most %d names, got %d",
                        NN_MAX_DECAY_EXCLUSIONS, count);
    for (int i = 0; i < count; i++) {
        size_t length = strlen(names[i]);
        if (length == 0 || length >= NN_NAME_CAPACITY)
            return nn_error(NN_ERR_ARGUMENT, "exclude_from_weight_decay: name %d must hold 1 "
                            "to %d characters, got %zu", i + 1, NN_NAME_CAPACITY - 1, length);
    }
    char staged[NN_MAX_DECAY_EXCLUSIONS][NN_NAME_CAPACITY];
    for (int i = 0; i < count; i++)
        snprintf(staged[i], sizeof staged[i], "%s", names[i]);
    if (model->decay_mask && !model->weights_stale && weights_in_block(model)) {
        /* The weights are gathered already: rewrite their mask in place (the next gather
         * writes it otherwise). The model takes the names only once that worked. */
        size_t bytes = model->trainable_count ? model->trainable_count : 1;
        unsigned char *mask = calloc(bytes, 1);
        if (!mask)
            return nn_error(NN_ERR_MEMORY, "out of memory for the weight decay mask");
        for (int i = 0; i < model->layer_count; i++) {
            const nn_layer *layer = model->layers[i];
            for (int p = 0; p < layer->param_count; p++) {
                const nn_param *param = &layer->params[p];
                if (nn_param_trains(layer, param))
                    memset(mask + nn_model_weight_offset(param), decays(staged, count, param),
                           nn_tensor_count(param->value));
            }
        }
        nn_status status = nn_memory_copy(model->decay_mask->device, model->decay_mask->data,
                                          nn_device_cpu(), mask, bytes);
        free(mask);
        NN_TRY(status);
    }
    memcpy(model->decay_exclusions, staged, sizeof staged[0] * (size_t)count);
    model->decay_exclusion_count = count;
    return NN_OK;
}

nn_status nn_model_compile(nn_model *model, const nn_optimizer_config *optimizer,
                           const nn_loss *loss, const char *const *metrics,
                           int metric_count)
{
    if (metric_count > NN_MAX_METRICS)
        return nn_error(NN_ERR_ARGUMENT, "compile: at most %d metrics, got %d", NN_MAX_METRICS,
                        metric_count);
    nn_metric parsed[NN_MAX_METRICS];
    for (int i = 0; i < metric_count; i++)
        NN_TRY(nn_metric_parse(metrics[i], loss, &parsed[i]));
    return nn_model_compile_metrics(model, optimizer, loss, parsed, metric_count);
}

nn_status nn_model_compile_metrics(nn_model *model, const nn_optimizer_config *optimizer,
                                   const nn_loss *loss, const nn_metric *parsed,
                                   int metric_count)
{
    return nn_model_compile_weighted_metrics(model, optimizer, loss, parsed, metric_count, NULL,
                                             0);
}

/* Checks one of compile's metric lists (`list` names it in messages): each metric fits
 * the loss, and no two share a name, which names their logs ("val_" + name too). */
static nn_status check_metric_list(const nn_metric *metrics, int count, const nn_loss *loss,
                                   const char *list)
{
    if (count < 0 || count > NN_MAX_METRICS)
        return nn_error(NN_ERR_ARGUMENT, "compile: at most %d %s, got %d", NN_MAX_METRICS, list,
                        count);
    for (int i = 0; i < count; i++) {
        nn_status status = nn_metric_check(&metrics[i], loss);
        if (status != NN_OK && strcmp(list, "metrics") != 0) /* metrics' messages as before */
            return nn_error_prefix(status, "compile: %s entry %d", list, i + 1);
        NN_TRY(status);
        for (int j = 0; j < i; j++)
            if (strcmp(metrics[i].name, metrics[j].name) == 0)
                return nn_error(NN_ERR_ARGUMENT, "compile: two %s are named '%s'; give one "
                                                 "another name (name = ... in nn.metrics)",
                                list, metrics[i].name);
        if (strcmp(metrics[i].name, "loss") == 0 || strncmp(metrics[i].name, "val_", 4) == 0)
            return nn_error(NN_ERR_ARGUMENT, "compile: a metric cannot be named '%s' (the logs "
                                             "call the loss 'loss' and validation values "
                                             "'val_...')",
                            metrics[i].name);
    }
    return NN_OK;
}

nn_status nn_model_compile_weighted_metrics(nn_model *model,
                                            const nn_optimizer_config *optimizer,
                                            const nn_loss *loss, const nn_metric *metrics,
                                            int metric_count, const nn_metric *weighted,
                                            int weighted_count)
{
    NN_TRY(refuse_while_running(model, "be compiled again"));
    NN_TRY(nn_loss_check(loss)); /* first: the metric checks read its kind */
    NN_TRY(check_metric_list(metrics, metric_count, loss, "metrics"));
    NN_TRY(check_metric_list(weighted, weighted_count, loss, "weighted_metrics"));
    nn_metric parsed[NN_MAX_COMPILED_METRICS];
    char log_names[NN_MAX_COMPILED_METRICS][NN_METRIC_LOG_NAME_CAPACITY];
    int count = metric_count + weighted_count;
    if (metric_count > 0)
        memcpy(parsed, metrics, sizeof(nn_metric) * (size_t)metric_count);
    if (weighted_count > 0)
        memcpy(parsed + metric_count, weighted, sizeof(nn_metric) * (size_t)weighted_count);
    /* Keras 3 logs a weighted metric under its own name unless an unweighted one has it,
     * then as "weighted_" + name. nnsh refuses the rarer clash Keras numbers ("_1"). */
    for (int i = 0; i < count; i++) {
        bool renamed = false;
        for (int j = 0; i >= metric_count && j < metric_count; j++)
            renamed = renamed || strcmp(parsed[i].name, parsed[j].name) == 0;
        snprintf(log_names[i], sizeof log_names[i], "%s%s", renamed ? "weighted_" : "",
                 parsed[i].name);
        for (int j = 0; j < i; j++)
            if (strcmp(log_names[i], log_names[j]) == 0)
                return nn_error(NN_ERR_ARGUMENT, "compile: weighted_metrics entry '%s' would "
                                                 "log as '%s', as another metric does; give "
                                                 "one another name (name = ... in nn.metrics)",
                                parsed[i].name, log_names[i]);
    }
    int curve_offsets[NN_MAX_COMPILED_METRICS], curve_floats = 0;
    for (int i = 0; i < count; i++) {
        curve_offsets[i] = curve_floats;
        curve_floats += 2 * nn_metric_curve_thresholds(&parsed[i]);
    }
    if (curve_floats > NN_METRIC_CURVE_FLOATS)
        return nn_error(NN_ERR_ARGUMENT, "compile: the AUC metrics take %d thresholds in all, "
                                         "more than the %d they may share",
                        curve_floats / 2, NN_METRIC_CURVE_FLOATS / 2);
    if (!(optimizer->learning_rate >= 0) || !isfinite(optimizer->learning_rate))
        return nn_error(NN_ERR_ARGUMENT, "compile: learning_rate must be a finite number >= 0, "
                                         "got %g", optimizer->learning_rate);
    /* Checked here, not at the first fit, which would refuse every time. */
    NN_TRY(nn_optimizer_config_check(optimizer));
    if (count > 0) {
        memcpy(model->metrics, parsed, sizeof(nn_metric) * (size_t)count);
        memcpy(model->metric_log_names, log_names, sizeof log_names[0] * (size_t)count);
        memcpy(model->curve_offsets, curve_offsets, sizeof(int) * (size_t)count);
    }
    model->metric_count = count;
    model->weighted_metric_count = weighted_count;
    model->curve_floats = curve_floats;
    model->loss = *loss;
    model->optimizer_config = *optimizer;
    nn_optimizer_free(model->optimizer);
    model->optimizer = NULL;
    model->compiled = true;
    return NN_OK;
}

/* ---- execution buffers ---- */

/* Scratch the weight constraints need (the optimizer step's projections). */
static size_t constraint_scratch(const nn_model *model)
{
    size_t most = 0;
    for (int i = 0; i < model->layer_count; i++) {
        const nn_layer *layer = model->layers[i];
        for (int p = 0; p < layer->param_count; p++) {
            const nn_param *param = &layer->params[p];
            if (param->constraint.kind == NN_CONSTRAINT_NONE)
                continue;
            size_t need = model->backend->constraint_scratch_floats(&param->constraint,
                                                                    &param->shape);
            most = need > most ? need : most;
        }
    }
    return most;
}

/* Keras applies losses and metrics along the output's last axis: a (B, H, W, C) output
 * is B·H·W rows of C classes, each position with its own label, and the mean runs over
 * all of them. The positions of one sample (1 for a (B, classes) output): */
static int64_t output_positions(const nn_model *model)
{
    const nn_shape *shape = &model->layers[model->layer_count - 1]->output_shape;
    if (shape->ndim < 3)
        return 1;
    return nn_shape_inner(shape, 1) / shape->dims[shape->ndim - 1];
}

static nn_status reserve(nn_model *model, int64_t batch, bool training)
{
    NN_TRY(place(model));
    NN_TRY(model->backend->select_device(model->device.index));
    if (model->reserved_batch >= batch && (model->reserved_training || !training)) {
        /* A layer called on its own, or by another model, may have moved its buffers to
         * another device since; making sure costs a comparison per layer. */
        for (int i = 0; i < model->layer_count; i++)
            NN_TRY(nn_layer_reserve_on(model->layers[i], model->device, model->reserved_batch));
        return NN_OK;
    }
    free_buffers(model);
    const nn_backend *backend = model->backend;
    nn_device device = model->device;
    int count = model->layer_count;
    nn_status status = NN_OK;
    model->outputs = calloc((size_t)count + 1, sizeof *model->outputs);
    model->doutputs = calloc((size_t)count + 1, sizeof *model->doutputs);
    model->masks = calloc((size_t)count + 1, sizeof *model->masks);
    model->mask_storage = calloc((size_t)count + 1, sizeof *model->mask_storage);
    model->output_count = count + 1;
    if (!model->outputs || !model->doutputs || !model->masks || !model->mask_storage) {
        free_buffers(model);
        return nn_error(NN_ERR_MEMORY, "out of memory reserving model \"%s\" for batches of "
                        "%lld", model->name, (long long)batch);
    }
    size_t scratch = constraint_scratch(model);
    for (int i = 0; i <= count && status == NN_OK; i++) {
        nn_shape shape = i == 0 ? model->input_shape : model->layers[i - 1]->output_shape;
        shape.dims[0] = batch;
        const nn_layer *producer = i > 0 ? model->layers[i - 1] : NULL;
        if (producer && producer->cls->output_views_input &&
            producer->cls->output_views_input(producer)) {
            /* Flatten and the like: the same values, seen with another shape. */
            status = nn_tensor_view(&model->outputs[i], model->outputs[i - 1]->storage, 0,
                                    NN_DTYPE_F32, &shape);
            if (status == NN_OK && training)
                status = nn_tensor_view(&model->doutputs[i], model->doutputs[i - 1]->storage, 0,
                                        NN_DTYPE_F32, &shape);
        } else {
            status = nn_tensor_create_on(&model->outputs[i], NN_DTYPE_F32, &shape, device);
            if (status == NN_OK && training)
                status = nn_tensor_create_on(&model->doutputs[i], NN_DTYPE_F32, &shape, device);
        }
        if (status == NN_OK && i > 0) {
            /* The mask over this output's steps: made here, passed on, or none. */
            unsigned use = nn_layer_mask_use(producer);
            if (use & NN_MASK_MAKES) {
                size_t steps = (size_t)nn_layer_mask_steps(&shape);
                status = nn_storage_create_on(&model->mask_storage[i], device,
                                              (size_t)batch * steps * sizeof(float));
                if (status == NN_OK)
                    model->masks[i] = model->mask_storage[i]->data;
            } else if (use & NN_MASK_PASSES) {
                model->masks[i] = model->masks[i - 1];
            }
        }
        if (status == NN_OK && i < count) {
            nn_layer *layer = model->layers[i];
            status = nn_layer_reserve_on(layer, device, batch);
            size_t need = nn_layer_scratch_floats(layer, backend, batch);
            scratch = need > scratch ? need : scratch;
        }
    }
    size_t width = (size_t)nn_shape_inner(&model->layers[count - 1]->output_shape, 1);
    size_t batch_floats = (size_t)batch * width;
    if (status == NN_OK)
        status = nn_storage_create_on(&model->logits, device, batch_floats * sizeof(float));
    if (status == NN_OK)
        status = nn_storage_create_on(&model->labels, device, batch_floats * sizeof(float));
    /* Sample weights apply to every position of their sample (output_positions). */
    size_t weight_bytes = (size_t)batch * (size_t)output_positions(model) * sizeof(float);
    if (status == NN_OK)
        status = nn_storage_create_on(&model->row_weights, device, weight_bytes);
    if (status == NN_OK && model->masks[count])
        status = nn_storage_create_on(&model->metric_weights, device, weight_bytes);
    if (status == NN_OK && training &&
        nn_regularizer_active(&model->layers[count - 1]->activity_regularizer))
        status = nn_storage_create_on(&model->activity_gradient, device,
                                      batch_floats * sizeof(float));
    if (status == NN_OK)
        status = nn_storage_create_on(&model->scratch, device,
                                      (scratch ? scratch : 1) * sizeof(float));
    if (status == NN_OK)
        status = nn_storage_create_on(&model->stats, device, sizeof(nn_batch_stats));
    if (status == NN_OK)
        status = nn_storage_create_on(&model->curves, device,
                                      NN_METRIC_CURVE_FLOATS * sizeof(double));
    if (!backend->host_visible) {
        /* Two of each, so the host fills one while the device reads the other. */
        size_t input_bytes = nn_tensor_bytes(model->outputs[0]);
        for (int slot = 0; slot < 2 && status == NN_OK; slot++) {
            model->pinned_backend = backend;
            status = backend->host_alloc(&model->pinned_inputs[slot], input_bytes);
            if (status == NN_OK)
                status = backend->host_alloc(&model->pinned_labels[slot],
                                             batch_floats * sizeof(float));
            if (status == NN_OK)
                status = nn_storage_create_on(&model->landing_inputs[slot], device, input_bytes);
            if (status == NN_OK)
                status = nn_storage_create_on(&model->landing_labels[slot], device,
                                              batch_floats * sizeof(float));
            if (status == NN_OK)
                status = backend->host_alloc(&model->pinned_weights[slot], weight_bytes);
            if (status == NN_OK)
                status = nn_storage_create_on(&model->landing_weights[slot], device,
                                              weight_bytes);
        }
    }
    if (status != NN_OK) {
        free_buffers(model);
        status = nn_error_prefix(status, "reserving model \"%s\" for batches of %lld",
                                 model->name, (long long)batch);
        return nn_backend_clear_failure(backend, status);
    }
    model->scratch_floats = scratch;
    model->reserved_batch = batch;
    model->reserved_training = training;
    return NN_OK;
}

/* Points every buffer at the first `batch` rows (the last batch may be short). */
static void set_batch(nn_model *model, int64_t batch)
{
    for (int i = 0; i <= model->layer_count; i++) {
        model->outputs[i]->shape.dims[0] = batch;
        if (model->doutputs[i])
            model->doutputs[i]->shape.dims[0] = batch;
    }
}

/* The batches of one loop: rows order[first + k] (or first + k without an order) of x
 * and, when given, y and the sample weights, `batch_size` at a time. All on the host;
 * weights has output_positions floats per row of x (sample_weights_of). */
typedef struct batch_feed {
    const nn_tensor *x, *y;
    const int64_t *order;
    int64_t first, count, batch_size;
    const float *weights;
} batch_feed;

static int64_t feed_batch_rows(const batch_feed *feed, int64_t step)
{
    int64_t start = step * feed->batch_size;
    return feed->count - start < feed->batch_size ? feed->count - start : feed->batch_size;
}

/* Gathers batch `step` on the host, labels as floats: straight into the model's input
 * and label buffers when the host can write them (the CPU), else into the page-locked
 * buffers of slot step % 2, which then start their copy to the device. On a device this
 * runs while the batch before computes. */
static void feed_stage(nn_model *model, const batch_feed *feed, int64_t step)
{
    const nn_tensor *x = feed->x, *y = feed->y;
    int64_t batch = feed_batch_rows(feed, step), start = feed->first + step * feed->batch_size;
    const int64_t *order = feed->order;
    bool direct = model->backend->host_visible;
    int slot = (int)(step % 2);
    size_t row = (size_t)nn_shape_inner(&x->shape, 1);
    float *target = direct ? nn_tensor_f32(model->outputs[0]) : model->pinned_inputs[slot];
    /* order indexes rows counted from the start of the data; without it rows follow on
     * from `start`. */
    int64_t offset = order ? step * feed->batch_size : start;
    /* Images kept as bytes (a quarter of the memory) become floats here, a batch at a
     * time, as Keras casts a uint8 input to its first layer's float32. */
    const uint8_t *bytes = x->dtype == NN_DTYPE_U8 ? nn_tensor_data(x) : NULL;
#pragma omp parallel for schedule(static) if (batch * (int64_t)row > 65536)
    for (int64_t b = 0; b < batch; b++) {
        size_t index = (size_t)(order ? order[offset + b] : offset + b);
        float *to = target + (size_t)b * row;
        if (bytes)
            for (size_t j = 0; j < row; j++)
                to[j] = (float)bytes[index * row + j];
        else
            memcpy(to, nn_tensor_f32(x) + index * row, row * sizeof(float));
    }
    size_t label_width = y ? (size_t)nn_shape_inner(&y->shape, 1) : 0;
    float *labels = direct ? (float *)model->labels->data : model->pinned_labels[slot];
    for (int64_t b = 0; y && b < batch; b++) {
        int64_t index = order ? order[offset + b] : offset + b;
        for (size_t j = 0; j < label_width; j++)
            labels[(size_t)b * label_width + j] =
                (float)nn_tensor_get(y, (size_t)index * label_width + j);
    }
    float *weights = direct ? (float *)model->row_weights->data : model->pinned_weights[slot];
    int64_t positions = output_positions(model);
    for (int64_t b = 0; feed->weights && b < batch; b++) {
        int64_t sample = order ? order[offset + b] : offset + b;
        memcpy(weights + b * positions, feed->weights + sample * positions,
               (size_t)positions * sizeof(float));
    }
    if (direct)
        return;
    model->backend->upload_async(model->landing_inputs[slot]->data, target,
                                 (size_t)batch * row * sizeof(float));
    if (y)
        model->backend->upload_async(model->landing_labels[slot]->data, labels,
                                     (size_t)batch * label_width * sizeof(float));
    if (feed->weights)
        model->backend->upload_async(model->landing_weights[slot]->data, weights,
                                     (size_t)(batch * positions) * sizeof(float));
}

/* Makes batch `step`, staged before, the model's input: on a device, a copy from its
 * landing buffer queued after the upload (so the landing buffer is free for the batch
 * after next while this one computes). */
static void feed_use(nn_model *model, const batch_feed *feed, int64_t step)
{
    if (model->backend->host_visible)
        return;
    int slot = (int)(step % 2);
    int64_t batch = feed_batch_rows(feed, step);
    size_t row = (size_t)nn_shape_inner(&feed->x->shape, 1);
    model->backend->copy(nn_tensor_f32(model->outputs[0]), model->landing_inputs[slot]->data,
                         (size_t)batch * row * sizeof(float));
    if (feed->y)
        model->backend->copy(model->labels->data, model->landing_labels[slot]->data,
                             (size_t)batch * (size_t)nn_shape_inner(&feed->y->shape, 1) *
                                 sizeof(float));
    if (feed->weights)
        model->backend->copy(model->row_weights->data, model->landing_weights[slot]->data,
                             (size_t)(batch * output_positions(model)) * sizeof(float));
}

/* Where the first NaN or infinity of `count` floats at `data` (on `device`) is, read in
 * chunks so a large model needs no host copy of the whole; false when all are finite. */
static nn_status find_nonfinite(nn_device device, const float *data, size_t count,
                                size_t *index, bool *found)
{
    enum { CHUNK = 1 << 16 };
    *found = false;
    float *chunk = NULL;
    if (device.kind != NN_DEVICE_CPU && !(chunk = malloc(CHUNK * sizeof *chunk)))
        return nn_error(NN_ERR_MEMORY, "out of memory checking the weights");
    nn_status status = NN_OK;
    for (size_t start = 0; start < count && !*found; start += CHUNK) {
        size_t length = count - start < CHUNK ? count - start : CHUNK;
        const float *values = data + start;
        if (chunk) {
            status = nn_memory_copy(nn_device_cpu(), chunk, device, values,
                                    length * sizeof *chunk);
            if (status != NN_OK)
                break;
            values = chunk;
        }
        for (size_t i = 0; i < length; i++)
            if (!isfinite(values[i])) {
                *index = start + i;
                *found = true;
                break;
            }
    }
    free(chunk);
    return status;
}

/* The weight holding the float at `index` of the model's weight block. */
static const nn_param *weight_at(const nn_model *model, size_t index, const nn_layer **owner)
{
    for (int i = 0; i < model->layer_count; i++)
        for (int p = 0; p < model->layers[i]->param_count; p++) {
            const nn_param *param = &model->layers[i]->params[p];
            size_t offset = nn_model_weight_offset(param);
            if (index >= offset && index - offset < nn_tensor_count(param->value)) {
                *owner = model->layers[i];
                return param;
            }
        }
    *owner = NULL;
    return NULL;
}

/* After an epoch: a step can turn weights, or the optimizer's state, into NaN or infinity
 * while its own batch's loss was finite (a learning rate far too large, or gradients past
 * float32's range), and fit would end as if all were well with a model that predicts
 * NaN. An error names the first such value and what to do. */
static nn_status check_weights_finite(nn_model *model, int epoch)
{
    size_t index = 0;
    bool found = false;
    const char *slot = NULL;
    /* The state first: gradients past float32 make it infinite, and the weights NaN next,
     * which a smaller learning rate would not cure. */
    const nn_optimizer *optimizer = model->optimizer;
    for (int s = 0; !found && optimizer && s < optimizer->slot_count; s++) {
        NN_TRY(find_nonfinite(optimizer->device, optimizer->slots[s], optimizer->count, &index,
                              &found));
        if (found)
            slot = nn_optimizer_slot_name(optimizer, s);
    }
    if (!found)
        NN_TRY(find_nonfinite(model->weights->device, model->weights->data, model->weight_count,
                              &index, &found));
    if (!found)
        return NN_OK;
    const nn_layer *layer = NULL;
    const nn_param *param = weight_at(model, index, &layer);
    const char *layer_name = layer ? layer->name : "?", *weight = param ? param->name : "?";
    if (slot)
        return nn_error(NN_ERR_NUMERIC, "the optimizer's state (%s of layer \"%s\" %s) became "
                        "NaN or infinite during epoch %d, although every batch's loss was "
                        "finite: the gradients outgrew float32 (is the data far from the scale "
                        "of 1?). Training stopped; the weights are NaN or soon will be. Scale "
                        "the data, then build the model again or load a saved copy",
                        slot, layer_name, weight, epoch + 1);
    return nn_error(NN_ERR_NUMERIC, "the weights became NaN or infinite during epoch %d (layer "
                    "\"%s\" %s first), although every batch's loss was finite: an update was "
                    "far too large. Training stopped; the model no longer predicts anything "
                    "useful. Try a smaller learning_rate (it is %g) or clipnorm, then build "
                    "the model again or load a saved copy",
                    epoch + 1, layer_name, weight, model->optimizer->config.learning_rate);
}

/* The batch statistics, read back: the one wait per batch, which also reports any
 * failure of the work queued for the batch. */
static nn_status read_stats(nn_model *model, nn_batch_stats *stats)
{
    NN_TRY(model->backend->copy_to_host(stats, model->stats->data, sizeof *stats));
    return model->backend->check();
}

static nn_exec make_exec(nn_model *model, bool training)
{
    return (nn_exec){.backend = model->backend,
                     .device = model->device,
                     .training = training,
                     .seed = nn_random_global_seed(),
                     .step = model->step,
                     .scratch = model->scratch->data,
                     .scratch_floats = model->scratch_floats,
                     .stats = model->stats->data};
}

/* Whether layer i may compute layer i + 1's max pooling in its own forward
 * (forward_pooled), leaving its own output unwritten: nothing may need that output, so
 * no activity regularizer, not the model's last layers, and in training a backward that
 * does without it (linear, or a ReLU whose derivative the pooling applies). */
static bool pools_next(const nn_model *model, int i, const nn_exec *exec)
{
    if (model->separate_layers || i + 2 >= model->layer_count)
        return false;
    const nn_layer *layer = model->layers[i], *next = model->layers[i + 1];
    return layer->cls->forward_pooled && next->cls->prepare_pooling &&
           !nn_regularizer_active(&layer->activity_regularizer) &&
           !nn_regularizer_active(&next->activity_regularizer) &&
           (!exec->training || layer->activation.kind == NN_ACTIVATION_LINEAR ||
            next->applies_input_relu);
}

/* Layer i and the pooling after it in one pass; *done false when they could not be. */
static nn_status forward_pooled(nn_model *model, nn_exec *exec, int i, bool *done)
{
    nn_layer *layer = model->layers[i], *pool = model->layers[i + 1];
    nn_pool2d_geometry geometry;
    int32_t *argmax;
    *done = false;
    if (!pool->cls->prepare_pooling(pool, exec, model->outputs[i]->shape.dims[0], &geometry,
                                    &argmax))
        return NN_OK;
    nn_status status = layer->cls->forward_pooled(layer, exec, model->outputs[i],
                                                  model->outputs[i + 2], &geometry, argmax,
                                                  done);
    if (status != NN_OK)
        return nn_error_prefix(status, "layer \"%s\"", layer->name);
    return NN_OK;
}

/* Runs every layer on outputs[0]; the last layer also leaves its logits. */
static nn_status forward(nn_model *model, nn_exec *exec)
{
    for (int i = 0; i < model->layer_count; i++) {
        nn_layer *layer = model->layers[i];
        exec->logits = i == model->layer_count - 1 ? model->logits->data : NULL;
        exec->mask = model->masks[i];
        if (pools_next(model, i, exec)) {
            bool done;
            NN_TRY(forward_pooled(model, exec, i, &done));
            if (done) {
                i++; /* the pooling layer's output is written */
                continue;
            }
        }
        nn_status status = layer->cls->forward(layer, exec, model->outputs[i],
                                               model->outputs[i + 1]);
        if (status != NN_OK)
            return nn_error_prefix(status, "layer \"%s\"", layer->name);
        if (nn_layer_mask_use(layer) & NN_MASK_MAKES)
            layer->cls->make_mask(layer, exec, model->outputs[i], model->masks[i + 1]);
    }
    exec->logits = NULL;
    exec->mask = NULL;
    return NN_OK;
}

static nn_activation last_activation(const nn_model *model)
{
    return model->layers[model->layer_count - 1]->activation;
}

/* Activity penalties in inference (evaluate): every layer's, into the batch statistics,
 * as Keras counts them in the loss of test steps too. In training backward adds them
 * with their gradients (last_layer_activity the last layer's). */
static void inference_activity_penalties(nn_model *model, nn_exec *exec)
{
    for (int i = 0; i < model->layer_count; i++) {
        nn_layer *layer = model->layers[i];
        if (!nn_regularizer_active(&layer->activity_regularizer))
            continue;
        nn_layer_activity_penalty(layer, exec, model->outputs[i + 1], NULL);
    }
}

/* The last layer's activity penalty in training, with its gradient: the penalty's
 * gradient is with respect to the layer's output, dlogits with respect to what went into
 * its activation, so the penalty's goes through the activation's derivative first. */
static void last_layer_activity(nn_model *model, nn_exec *exec, float *dlogits)
{
    nn_layer *layer = model->layers[model->layer_count - 1];
    if (!nn_regularizer_active(&layer->activity_regularizer))
        return;
    const nn_backend *backend = model->backend;
    const nn_tensor *out = model->outputs[model->layer_count];
    size_t n = nn_tensor_count(out);
    float *gradient = model->activity_gradient->data;
    backend->memory_zero(gradient, n * sizeof(float));
    nn_layer_activity_penalty(layer, exec, out, gradient);
    if (layer->activation.kind != NN_ACTIVATION_LINEAR)
        backend->activation_backward(layer->activation, gradient, gradient, model->logits->data,
                                     nn_tensor_f32(out), n,
                                     (size_t)out->shape.dims[out->shape.ndim - 1]);
    backend->add(dlogits, gradient, n);
}

/* The batch's loss (and its gradient into dlogits, NULL in inference) and metric sums,
 * into the batch statistics on the device; `weighted`: the batch's sample weights are in
 * row_weights. Under a mask that reaches the output the loss is the mean over the kept
 * positions, as Keras 3's. Its compiled metrics get no sample weights and count every
 * position, and so do these. Its weighted metrics get them: a mean metric's
 * (MeanMetricWrapper) become sample weight · mask, when there are sample weights, and
 * without them it counts every position as the unweighted one; precision, recall and
 * AUC, which do not read the mask in Keras, take the sample weights alone. */
static void batch_loss(nn_model *model, int64_t batch, float *dlogits, bool weighted)
{
    const nn_tensor *prediction = model->outputs[model->layer_count];
    int64_t positions = output_positions(model);
    int64_t rows = batch * positions;
    int64_t width = nn_shape_inner(&prediction->shape, 1) / positions;
    nn_batch_stats *stats = model->stats->data;
    float *labels = model->labels->data;
    double *curves = model->curves->data;
    const float *mask = model->masks[model->layer_count];
    const float *sample_weights = weighted ? model->row_weights->data : NULL;
    const float *mean_weights = sample_weights;
    if (sample_weights && mask && model->weighted_metric_count > 0) {
        model->backend->multiply(model->metric_weights->data, sample_weights, mask,
                                 (size_t)rows);
        mean_weights = model->metric_weights->data;
    }
    int first_weighted = model->metric_count - model->weighted_metric_count;
    if (model->curve_floats > 0)
        model->backend->memory_zero(curves, (size_t)model->curve_floats * sizeof(double));
    for (int m = 0; m < model->metric_count; m++) {
        const nn_metric *metric = &model->metrics[m];
        bool ratio = nn_metric_denominator(metric->kind) != NN_METRIC_COUNT;
        /* AUC is counted by buckets; it has no sum. */
        int thresholds = nn_metric_curve_thresholds(metric);
        const float *weights = m < first_weighted        ? NULL
                               : ratio || thresholds > 0 ? sample_weights
                                                         : mean_weights;
        if (thresholds > 0) {
            model->backend->curve_counts(curves + model->curve_offsets[m],
                                         nn_tensor_f32(prediction), labels, weights,
                                         rows * width, width, thresholds);
            continue;
        }
        model->backend->metric_sum(&stats->metric_sums[m], metric, nn_tensor_f32(prediction),
                                   labels, weights, rows, width);
        /* The denominator counts with the metric's own threshold; a weighted mean's is the
         * weights' sum (the rows, without weights). */
        nn_metric denominator = *metric;
        denominator.kind = ratio ? nn_metric_denominator(metric->kind) : NN_METRIC_ROW_WEIGHT;
        if (ratio || m >= first_weighted)
            model->backend->metric_sum(&stats->metric_denominators[m], &denominator,
                                       nn_tensor_f32(prediction), labels, weights, rows,
                                       width);
    }
    /* Label smoothing changes what the loss aims at, not what the metrics compare: the
     * metrics above read the labels as given, then they are smoothed in place (the
     * next batch writes its own labels over them), in queue order on every backend. */
    float scale, offset;
    if (nn_loss_label_map(&model->loss, width, &scale, &offset))
        model->backend->scale_shift(labels, labels, scale, offset, (size_t)(rows * width));
    const float *weights = sample_weights;
    if (mask) { /* the sample weights (if any) are the batch's own: reweighed in place */
        model->backend->masked_loss_weights(model->row_weights->data, weights, mask,
                                            (size_t)rows);
        weights = model->row_weights->data;
    }
    model->backend->loss_forward_backward(&stats->loss, dlogits, &model->loss,
                                          last_activation(model), nn_tensor_f32(prediction),
                                          model->logits->data, labels, weights, rows, width);
}

/* One optimizer step over the trainable weights. A backend step clips by the norm of
 * the buffer it is given, so Keras' clipnorm (each weight tensor by its own norm) takes
 * one step per tensor, and global_clipnorm one step over the whole buffer. */
static nn_status optimizer_update(nn_model *model, float *weights, float *gradients,
                                  const nn_batch_stats *guard)
{
    nn_optimizer *optimizer = model->optimizer;
    /* A schedule's rate for this update; kept in the config so that callbacks and
     * model.learning_rate see the rate in use. A schedule that grows without bound
     * (ExponentialDecay with decay_rate > 1) stops here, before a weight changes. */
    double rate = nn_optimizer_rate_at(&optimizer->config, optimizer->iterations);
    if (!isfinite(rate) || rate < 0.0 || rate > NN_OPTIMIZER_SETTING_MAX)
        return nn_error(NN_ERR_NUMERIC,
                        "the learning-rate schedule %s gives %g at step %lld, outside [0, %g] "
                        "where a rate given as a number must lie; training stopped (weights "
                        "are those before this batch)",
                        nn_schedule_name(optimizer->config.schedule.kind), rate,
                        optimizer->iterations, NN_OPTIMIZER_SETTING_MAX);
    if (nn_optimizer_refuses_rate(optimizer->config.kind, rate))
        return nn_error(NN_ERR_NUMERIC,
                        "%s divides by the learning rate, which is %g at step %lld (%s), below "
                        "%g (float32's smallest normal number); training stopped (weights are "
                        "those before this batch)",
                        nn_optimizer_name(optimizer->config.kind), rate, optimizer->iterations,
                        optimizer->config.schedule.kind == NN_SCHEDULE_CONSTANT
                            ? "set with model.learning_rate"
                            : nn_schedule_name(optimizer->config.schedule.kind),
                        NN_OPTIMIZER_SMALLEST_DIVISOR);
    optimizer->config.learning_rate = rate;
    nn_optimizer_config config = optimizer->config;
    unsigned char *decay_mask = model->decay_mask->data;
    long long iteration = ++optimizer->iterations;
    if (config.clipnorm <= 0.0) {
        config.clipnorm = config.global_clipnorm;
        config.global_clipnorm = 0.0;
        model->backend->optimizer_step(weights, optimizer->slots, gradients, decay_mask, &config,
                                       iteration, optimizer->count, guard);
        return NN_OK;
    }
    for (int i = 0; i < model->layer_count; i++) {
        nn_layer *layer = model->layers[i];
        for (int p = 0; p < layer->param_count; p++) {
            const nn_param *param = &layer->params[p];
            if (!nn_param_trains(layer, param))
                continue;
            /* Trainable weights lead the block, so a weight's offset is its gradient's. */
            size_t offset = nn_model_weight_offset(param);
            float *slots[3];
            for (int s = 0; s < 3; s++)
                slots[s] = optimizer->slots[s] ? optimizer->slots[s] + offset : NULL;
            model->backend->optimizer_step(weights + offset, slots, gradients + offset,
                                           decay_mask + offset, &config, iteration,
                                           nn_tensor_count(param->value), guard);
        }
    }
    return NN_OK;
}

/* The weight regularizers' penalty into the batch statistics, in layer order, and with
 * with_gradient their gradients added to the weights' gradients. */
static void weight_penalty(nn_model *model, bool with_gradient)
{
    nn_batch_stats *stats = model->stats->data;
    for (int i = 0; i < model->layer_count; i++) {
        nn_layer *layer = model->layers[i];
        for (int p = 0; p < layer->param_count; p++) {
            nn_param *param = &layer->params[p];
            /* Keras 3 counts the penalties of the weights that train only. */
            if (!nn_regularizer_active(&param->regularizer) || !nn_param_trains(layer, param))
                continue;
            model->backend->weight_penalty(&stats->weight_penalty,
                                           with_gradient && param->grad
                                               ? nn_tensor_f32(param->grad) : NULL,
                                           nn_tensor_f32(param->value),
                                           nn_tensor_count(param->value), param->regularizer);
        }
    }
}

/* Lets each layer that can apply the ReLU derivative of the layer before do so, saving
 * that layer a pass over its output gradient; `on` false undoes it. Not when the layer
 * before has an activity regularizer, whose gradient joins doutput before the
 * derivative. Set per fit, as a layer may sit in several models. */
static void share_relu_derivatives(nn_model *model, bool on)
{
    for (int i = 1; i < model->layer_count; i++) {
        nn_layer *layer = model->layers[i], *before = model->layers[i - 1];
        layer->applies_input_relu =
            on && !model->separate_layers && layer->cls->can_apply_input_relu &&
            layer->cls->can_apply_input_relu(layer) &&
            before->activation.kind == NN_ACTIVATION_RELU &&
            !nn_regularizer_active(&before->activity_regularizer);
    }
}

/* The first layer with weights that train: gradients need not flow below it, as nothing
 * there learns (a Rescaling in front of the first convolution, a frozen base). */
static int first_layer_with_weights(const nn_model *model)
{
    for (int first = 0; first < model->layer_count; first++) {
        const nn_layer *layer = model->layers[first];
        for (int p = 0; p < layer->param_count; p++)
            if (nn_param_trains(layer, &layer->params[p]))
                return first;
    }
    return model->layer_count;
}

static nn_status backward(nn_model *model, nn_exec *exec)
{
    int first = first_layer_with_weights(model);
    for (int i = model->layer_count - 1; i >= 0; i--) {
        nn_layer *layer = model->layers[i];
        exec->doutput_is_preactivation = i == model->layer_count - 1 ||
                                         model->layers[i + 1]->applies_input_relu;
        if (i < model->layer_count - 1 && nn_regularizer_active(&layer->activity_regularizer))
            nn_layer_activity_penalty(layer, exec, model->outputs[i + 1],
                                      nn_tensor_f32(model->doutputs[i + 1]));
        if (i < first)
            continue;
        exec->mask = model->masks[i];
        nn_status status = layer->cls->backward(layer, exec, model->outputs[i],
                                                model->outputs[i + 1], model->doutputs[i + 1],
                                                i > first ? model->doutputs[i] : NULL);
        if (status != NN_OK)
            return nn_error_prefix(status, "layer \"%s\" (backward)", layer->name);
    }
    exec->doutput_is_preactivation = false;
    exec->mask = NULL;
    return NN_OK;
}

/* Projects constrained weights after a step, unless guard holds a non-finite loss (the
 * step was skipped). */
static nn_status apply_constraints(nn_model *model, const nn_batch_stats *guard)
{
    for (int i = 0; i < model->layer_count; i++) {
        nn_layer *layer = model->layers[i];
        for (int p = 0; p < layer->param_count; p++) {
            nn_param *param = &layer->params[p];
            /* Keras 3 projects the weights that train only: a frozen one stays as it is. */
            if (param->constraint.kind == NN_CONSTRAINT_NONE || !nn_param_trains(layer, param))
                continue;
            NN_TRY(nn_constraint_check(&param->constraint, param->value));
            model->backend->constraint_apply(nn_tensor_f32(param->value), &param->constraint,
                                             &param->shape, guard, model->scratch->data);
        }
    }
    return NN_OK;
}

/* ---- checks shared by the loops ---- */

/* The error for x of a shape the model does not take, with the likely fix. */
nn_status nn_model_input_shape_error(const nn_model *model, const char *what, const nn_shape *x)
{
    char text[128], expected[128];
    /* Where an axis of size 1 added to x gives the model's input: 0, one sample
     * without its batch axis; further on, a batch without an axis the model takes,
     * most often the channels of gray images ((60000, 28, 28) for (None, 28, 28, 1)). */
    char advice[192] = "";
    nn_shape target;
    for (int at = 0; at <= x->ndim && !advice[0]; at++) {
        if (nn_shape_expand_dims(x, at, &target) != NN_OK ||
            target.ndim != model->input_shape.ndim)
            break;
        bool fits = true;
        for (int i = 1; fits && i < target.ndim; i++)
            fits = target.dims[i] == model->input_shape.dims[i];
        char sizes[128];
        if (fits)
            snprintf(advice, sizeof advice, "%s%s",
                     at == 0 ? "; one sample needs a batch axis of 1: x:reshape"
                             : "; add the axis of size 1: x:reshape",
                     nn_sizes_format(&target, sizes, sizeof sizes));
    }
    /* (N, C, H, W) where the model takes (N, H, W, C): PyTorch's and Theano's order. */
    int ndim = x->ndim;
    bool channels_first = !advice[0] && ndim >= 3 && ndim == model->input_shape.ndim &&
                          x->dims[1] == model->input_shape.dims[ndim - 1];
    for (int i = 2; channels_first && i < ndim; i++)
        channels_first = x->dims[i] == model->input_shape.dims[i - 1];
    if (channels_first) {
        char order[64] = "{0";
        for (int i = 2; i < ndim; i++)
            snprintf(order + strlen(order), sizeof order - strlen(order), ", %d", i);
        snprintf(advice, sizeof advice, "; x looks channels-first, and nnsh takes the "
                 "channels last: x:transpose%s, 1}", order);
    }
    return nn_error(NN_ERR_SHAPE, "%s: model \"%s\" expects input of shape %s, but x has "
                                  "shape %s%s",
                    what, model->name,
                    nn_shape_format(&model->input_shape, expected, sizeof expected),
                    nn_shape_format(x, text, sizeof text), advice);
}

static nn_status check_inputs(nn_model *model, const char *what, const nn_tensor *x,
                              const nn_tensor *y)
{
    char text[128];
    if (model->layer_count == 0)
        return nn_error(NN_ERR_STATE, "%s: model \"%s\" has no layers", what, model->name);
    if (x->dtype != NN_DTYPE_F32 && x->dtype != NN_DTYPE_U8)
        return nn_error(NN_ERR_ARGUMENT, "%s: x must be float32 or uint8, got %s; convert "
                                         "with x:astype('float32')",
                        what, nn_dtype_name(x->dtype));
    if (x->shape.ndim < 1)
        return nn_error(NN_ERR_SHAPE, "%s: x must have a batch axis, got shape %s", what,
                        nn_shape_format(&x->shape, text, sizeof text));
    if (!model->built || model->input_shape.ndim == 0)
        NN_TRY(nn_model_build(model, &x->shape));
    bool same = x->shape.ndim == model->input_shape.ndim;
    for (int i = 1; same && i < x->shape.ndim; i++)
        same = x->shape.dims[i] == model->input_shape.dims[i];
    if (!same)
        return nn_model_input_shape_error(model, what, &x->shape);
    if (y) {
        if (y->shape.ndim < 1 || y->shape.dims[0] != x->shape.dims[0])
            return nn_error(NN_ERR_SHAPE, "%s: x has %lld samples but y has shape %s; they "
                                          "must have the same number of rows",
                            what, (long long)x->shape.dims[0],
                            nn_shape_format(&y->shape, text, sizeof text));
        const nn_shape *output = nn_model_output_shape(model);
        /* Prefixed, so that a bad label of validation_data is not sought in y. */
        nn_status status = nn_loss_check_labels(&model->loss, output, y);
        if (status != NN_OK)
            return nn_error_prefix(status, "%s", what);
        int64_t classes = output->dims[output->ndim - 1];
        for (int m = 0; m < model->metric_count; m++) {
            const nn_metric *metric = &model->metrics[m];
            if (metric->has_class_id && metric->class_id >= classes)
                return nn_error(NN_ERR_ARGUMENT, "%s: metric '%s' counts class_id %d, but the "
                                                 "output has %lld classes (0 to %lld)",
                                what, metric->name, metric->class_id, (long long)classes,
                                (long long)classes - 1);
        }
    }
    return gather_weights(model);
}

static nn_status ensure_order(nn_model *model, int64_t count)
{
    if (model->order_capacity >= count)
        return NN_OK;
    int64_t *order = realloc(model->order, (size_t)count * sizeof *order);
    if (!order)
        return nn_error(NN_ERR_MEMORY, "out of memory for %lld sample indices", (long long)count);
    model->order = order;
    model->order_capacity = count;
    return NN_OK;
}

/* The metrics' sums over the batches of a run so far, their denominators' sums, and the
 * AUC metrics' counts. */
typedef struct metric_totals {
    double sums[NN_MAX_COMPILED_METRICS];
    double denominators[NN_MAX_COMPILED_METRICS];
    double curves[NN_METRIC_CURVE_FLOATS];
} metric_totals;

/* Adds a batch's metrics (stats, and the curve counts still on the device). */
static nn_status add_batch_metrics(metric_totals *totals, const nn_model *model,
                                   const nn_batch_stats *stats)
{
    for (int m = 0; m < model->metric_count; m++) {
        totals->sums[m] += stats->metric_sums[m];
        totals->denominators[m] += stats->metric_denominators[m];
    }
    if (model->curve_floats == 0)
        return NN_OK;
    double batch[NN_METRIC_CURVE_FLOATS];
    NN_TRY(model->backend->copy_to_host(batch, model->curves->data,
                                        (size_t)model->curve_floats * sizeof(double)));
    NN_TRY(model->backend->check());
    for (int i = 0; i < model->curve_floats; i++)
        totals->curves[i] += batch[i];
    return NN_OK;
}

static void fill_logs(nn_logs *logs, const nn_model *model, const char *prefix, double loss,
                      const metric_totals *totals, int64_t samples)
{
    char name[NN_LOG_NAME_CAPACITY];
    snprintf(name, sizeof name, "%sloss", prefix);
    nn_logs_set(logs, name, loss);
    /* The metric sums run over every position of every sample (output_positions); the
     * means divide by those rows, precision and recall by their own counts. */
    double rows = (double)samples * (double)output_positions(model);
    int first_weighted = model->metric_count - model->weighted_metric_count;
    for (int m = 0; m < model->metric_count; m++) {
        const nn_metric *metric = &model->metrics[m];
        int thresholds = nn_metric_curve_thresholds(metric);
        /* The weighted means divide by the weights' sum, kept with the denominators. */
        bool ratio = nn_metric_denominator(metric->kind) != NN_METRIC_COUNT;
        double value =
            thresholds > 0
                ? nn_metric_curve_area(metric, totals->curves + model->curve_offsets[m],
                                       thresholds)
                : nn_metric_finish(metric, totals->sums[m],
                                   ratio || m >= first_weighted ? totals->denominators[m]
                                                                : rows);
        snprintf(name, sizeof name, "%s%s", prefix, model->metric_log_names[m]);
        nn_logs_set(logs, name, value);
    }
}

/* Loss and metrics of rows [start, start + count) of (x, y), in inference mode; weights
 * (NULL: none) holds a sample weight for every row of x. */
static nn_status evaluate_rows(nn_model *model, const nn_tensor *x, const nn_tensor *y,
                               const float *weights, int64_t start, int64_t count,
                               int64_t batch_size, nn_progress *progress, double *loss_out,
                               metric_totals *totals)
{
    double loss_sum = 0.0;
    memset(totals, 0, sizeof *totals);
    int64_t steps = (count + batch_size - 1) / batch_size;
    nn_exec exec = make_exec(model, false);
    batch_feed feed = {x, y, NULL, start, count, batch_size, weights};
    nn_batch_stats stats;
    feed_stage(model, &feed, 0);
    for (int64_t step = 0; step < steps; step++) {
        int64_t batch = feed_batch_rows(&feed, step), seen = step * batch_size + batch;
        set_batch(model, batch);
        feed_use(model, &feed, step);
        model->backend->memory_zero(model->stats->data, sizeof stats);
        NN_TRY(forward(model, &exec));
        inference_activity_penalties(model, &exec);
        batch_loss(model, batch, NULL, weights != NULL);
        if (step + 1 < steps)
            feed_stage(model, &feed, step + 1);
        NN_TRY(read_stats(model, &stats));
        loss_sum += (stats.loss + stats.activity_penalty) * (double)batch;
        NN_TRY(add_batch_metrics(totals, model, &stats));
        if (progress && progress->batch_end) {
            nn_logs logs = {0};
            fill_logs(&logs, model, "", loss_sum / (double)seen, totals, seen);
            nn_status status = progress->batch_end(progress->user, 0, step + 1, steps, &logs);
            if (status != NN_OK)
                return status;
        }
        if (progress && progress->stop_requested && *progress->stop_requested)
            return nn_error(NN_ERR_STOPPED, "stopped by the user after batch %lld of %lld",
                            (long long)(step + 1), (long long)steps);
    }
    model->backend->memory_zero(model->stats->data, sizeof stats);
    weight_penalty(model, false);
    NN_TRY(read_stats(model, &stats));
    *loss_out = loss_sum / (double)count + stats.weight_penalty;
    return NN_OK;
}

/* x (and y) on the host: itself, or a copy in *copy (freed by the caller). Batches are
 * gathered by the host, so data on a device is read back once. */
static nn_status data_on_host(const nn_tensor *data, const nn_tensor **host, nn_tensor **copy)
{
    *copy = NULL;
    *host = data;
    if (!data || nn_tensor_on_host(data))
        return NN_OK;
    NN_TRY(nn_tensor_to(copy, data, nn_device_cpu()));
    *host = *copy;
    return NN_OK;
}

/* The first layer's check of the values of x (an Embedding's indices), once on the host
 * copy the batches are gathered from, so that no kernel meets a value it cannot take. */
static nn_status check_input_values(const nn_model *model, const nn_tensor *x, const char *what)
{
    if (!x)
        return NN_OK;
    nn_status status = nn_layer_check_input(model->layers[0], x);
    return status == NN_OK ? NN_OK : nn_error_prefix(status, "%s", what);
}

/* ---- fit ---- */

/* Refuses NaN and infinity in what a fit learns from: a ReLU hides a NaN input from the
 * loss while its gradient turns the first layer's weights into NaN, so the model would
 * be ruined without a word. In validation data they would make every validation loss
 * NaN, and so every callback watching it blind. Integer and byte data cannot hold them. */
static const char TRAINING_HARM[] = "training on it would turn the weights into NaN";
static const char VALIDATION_HARM[] =
    "every validation loss would be NaN, and callbacks watching it blind";

static nn_status check_finite(const nn_tensor *data, const char *what, const char *harm)
{
    if (!data || data->dtype != NN_DTYPE_F32 || data->shape.ndim == 0)
        return NN_OK;
    const uint32_t *bits = nn_tensor_data(data);
    size_t count = nn_tensor_count(data), chunk = 4096;
    for (size_t start = 0; start < count; start += chunk) {
        size_t end = count - start < chunk ? count : start + chunk;
        uint32_t special = 0; /* an all-ones exponent: infinity or NaN */
        for (size_t i = start; i < end; i++)
            special |= (bits[i] & 0x7f800000u) == 0x7f800000u;
        if (!special)
            continue;
        for (size_t i = start; i < end; i++) {
            float value = nn_tensor_f32(data)[i];
            if (isfinite(value))
                continue;
            size_t row_size = count / (size_t)data->shape.dims[0];
            return nn_error(NN_ERR_ARGUMENT, "%s holds %s in sample %zu (value %zu of it); "
                            "%s: remove or replace such values first", what,
                            isnan(value) ? "NaN" : value > 0 ? "inf" : "-inf",
                            i / row_size + 1, i % row_size + 1, harm);
        }
    }
    return NN_OK;
}

/* Whether weights of shape `shape` give one weight per position of each of `rows`
 * samples of a model whose output is `output`: (rows, *middle axes*), with or without a
 * trailing axis of 1, as Keras takes (N, T) weights for a (N, T, C) output. */
static bool weighs_positions(const nn_shape *shape, const nn_shape *output, int64_t rows)
{
    int middle = output->ndim - 2;
    if (middle < 1 || shape->dims[0] != rows)
        return false;
    if (!(shape->ndim == 1 + middle ||
          (shape->ndim == 2 + middle && shape->dims[shape->ndim - 1] == 1)))
        return false;
    for (int i = 1; i <= middle; i++)
        if (shape->dims[i] != output->dims[i])
            return false;
    return true;
}

/* Keras' sample weights as one float per loss row (output_positions per sample): *out
 * (malloc'd; NULL when weights is NULL) from a tensor of finite numbers >= 0 of shape
 * (rows,) or (rows, 1), one per sample and so for each of its positions, or one per
 * position (weighs_positions). */
static nn_status sample_weights_of(const nn_model *model, const nn_tensor *weights,
                                   int64_t rows, const char *what, float **out)
{
    *out = NULL;
    if (!weights)
        return NN_OK;
    char text[128], positions_text[128] = "";
    const nn_shape *shape = &weights->shape, *output = nn_model_output_shape(model);
    int64_t positions = output_positions(model);
    bool per_sample = shape->dims[0] == rows &&
                      (shape->ndim == 1 || (shape->ndim == 2 && shape->dims[1] == 1));
    bool per_position = weighs_positions(shape, output, rows);
    if (!per_sample && !per_position) {
        if (positions > 1) {
            nn_shape expected = *output;
            expected.ndim--;
            expected.dims[0] = rows;
            char expected_text[96];
            snprintf(positions_text, sizeof positions_text, ", or one per position of the "
                     "output, shape %s", nn_shape_format(&expected, expected_text,
                                                         sizeof expected_text));
        }
        return nn_error(NN_ERR_SHAPE, "%s must hold one weight per sample, shape (%lld,) or "
                                      "(%lld, 1)%s; got shape %s",
                        what, (long long)rows, (long long)rows, positions_text,
                        nn_shape_format(shape, text, sizeof text));
    }
    const nn_tensor *host;
    nn_tensor *copy;
    NN_TRY(data_on_host(weights, &host, &copy));
    size_t count = (size_t)rows * (size_t)positions;
    float *values = malloc((count > 0 ? count : 1) * sizeof *values);
    nn_status status = values ? NN_OK
                              : nn_error(NN_ERR_MEMORY, "out of memory for %s of %lld samples",
                                         what, (long long)rows);
    for (size_t i = 0; status == NN_OK && i < count; i++) {
        size_t sample = i / (size_t)positions;
        double value = nn_tensor_get(host, per_position ? i : sample);
        if (!(value >= 0.0 && value <= FLT_MAX))
            status = nn_error(NN_ERR_ARGUMENT, "%s must be finite float32 numbers >= 0, got "
                                               "%g for sample %zu",
                              what, value, sample + 1);
        else
            values[i] = (float)value;
    }
    nn_tensor_free(copy);
    if (status != NN_OK) {
        free(values);
        return status;
    }
    *out = values;
    return NN_OK;
}

/* Keras' class_weight as one weight per sample of y (on the host): the weight of the
 * sample's class, 1 for a class past the end of class_weight. *out is malloc'd. */
static nn_status class_sample_weights(const nn_model *model, const nn_tensor *y,
                                      const double *class_weight, int count, float **out)
{
    *out = NULL;
    int64_t width = nn_shape_inner(nn_model_output_shape(model), 1);
    int64_t classes = width > 1 ? width : 2; /* one sigmoid column: classes 0 and 1 */
    if (count < 0 || count > classes)
        return nn_error(NN_ERR_ARGUMENT, "fit: class_weight gives a weight for class %d, but "
                                         "the model's output has %lld classes (0 to %lld); "
                                         "class ids count from 0, as the labels do",
                        count - 1, (long long)classes, (long long)(classes - 1));
    for (int c = 0; c < count; c++)
        if (!(class_weight[c] >= 0.0 && class_weight[c] <= FLT_MAX))
            return nn_error(NN_ERR_ARGUMENT, "fit: class_weight must be finite float32 "
                                             "numbers >= 0, got %g for class %d",
                            class_weight[c], c);
    /* One class per sample: labels (N,), (N, 1) or one-hot (N, classes). Keras refuses
     * class_weight for targets of more axes too. */
    char text[128];
    if (y->shape.ndim > 2 || nn_model_output_shape(model)->ndim > 2)
        return nn_error(NN_ERR_SHAPE, "fit: class_weight needs one class per sample, labels of "
                                      "shape (N,), (N, 1) or (N, classes); y has shape %s",
                        nn_shape_format(&y->shape, text, sizeof text));
    int64_t rows = y->shape.dims[0], label_width = nn_shape_inner(&y->shape, 1);
    float *values = malloc((size_t)(rows > 0 ? rows : 1) * sizeof *values);
    if (!values)
        return nn_error(NN_ERR_MEMORY, "out of memory for the class weights of %lld samples",
                        (long long)rows);
    for (int64_t i = 0; i < rows; i++) {
        size_t first = (size_t)(i * label_width);
        int64_t best = 0;
        if (label_width > 1) {
            /* One-hot (or soft) labels: the class is the largest column, as Keras. */
            for (int64_t j = 1; j < label_width; j++)
                if (nn_tensor_get(y, first + (size_t)j) > nn_tensor_get(y, first + (size_t)best))
                    best = j;
        } else {
            /* Rounded half to even, as Keras' np.round: a soft label of 0.5 is class 0. */
            double rounded = nearbyint(nn_tensor_get(y, first));
            best = rounded >= 0 && rounded < (double)count ? (int64_t)rounded : -1;
        }
        values[i] = best >= 0 && best < count ? (float)class_weight[best] : 1.0f;
    }
    *out = values;
    return NN_OK;
}

/* The loop itself, with x, y and the validation data on the host. train_weights (NULL:
 * none) holds a sample weight per row of x; val_weights one per row of the validation
 * data: of x (the same array, or none when the weights come from class_weight) with
 * validation_split, of validation_x otherwise. */
static nn_status fit_loop(nn_model *model, const nn_tensor *x, const nn_tensor *y,
                          const float *train_weights, const float *val_weights,
                          const nn_fit_options *options, nn_progress *progress,
                          nn_history *history)
{
    int64_t samples = x->shape.dims[0];
    int64_t train_count = samples;
    const nn_tensor *val_x = NULL, *val_y = NULL;
    int64_t val_start = 0, val_count = 0;
    if (options->validation_x) {
        val_x = options->validation_x;
        val_y = options->validation_y;
        val_count = val_x->shape.dims[0];
    } else if (options->validation_split > 0.0) {
        /* Keras takes the validation rows from the end, before any shuffling. */
        train_count = (int64_t)floor((double)samples * (1.0 - options->validation_split));
        val_x = x;
        val_y = y;
        val_start = train_count;
        val_count = samples - train_count;
        if (train_count == 0 || val_count == 0)
            return nn_error(NN_ERR_ARGUMENT, "fit: validation_split=%g of %lld samples leaves "
                                             "%lld for training and %lld for validation; "
                                             "both must be non-empty",
                            options->validation_split, (long long)samples,
                            (long long)train_count, (long long)val_count);
    }
    int64_t batch_size = options->batch_size < train_count ? options->batch_size : train_count;
    int64_t steps = (train_count + batch_size - 1) / batch_size;
    /* More steps than the data makes would go round it again within an epoch; Keras
     * warns that the data ran out and stops. Said before any training instead. */
    if (options->steps_per_epoch > steps)
        return nn_error(NN_ERR_ARGUMENT, "fit: steps_per_epoch is %lld, but %lld training "
                                         "samples in batches of %lld make only %lld; give "
                                         "at most %lld, or leave it out for all of them",
                        (long long)options->steps_per_epoch, (long long)train_count,
                        (long long)batch_size, (long long)steps, (long long)steps);
    if (options->steps_per_epoch > 0)
        steps = options->steps_per_epoch;
    int64_t val_batch_size = options->validation_batch_size > 0 ? options->validation_batch_size
                                                                : batch_size;
    if (val_batch_size > val_count)
        val_batch_size = val_count;
    /* One reservation serves both loops: each batch uses the first rows it needs. */
    NN_TRY(reserve(model, val_batch_size > batch_size ? val_batch_size : batch_size, true));
    NN_TRY(ensure_order(model, train_count));
    if (!model->optimizer)
        NN_TRY(nn_optimizer_create_on(&model->optimizer, &model->optimizer_config,
                                      model->trainable_count, model->device));

    /* Each epoch shuffles from its own stream (this fit's stream number and the epoch),
     * so a run resumed at epoch k draws the same order as an uninterrupted one. */
    uint64_t fit_stream = nn_random_next_stream();
    uint64_t seed = nn_random_global_seed();
    float *weights = (float *)model->weights->data;
    float *gradients = (float *)model->gradients->data;
    const nn_backend *backend = model->backend;
    nn_batch_stats *device_stats = model->stats->data;
    /* An update after a non-finite loss is skipped on the device, so the host need not
     * wait for the loss before queuing the rest of the batch. */
    const nn_batch_stats *guard = options->allow_nonfinite_loss ? NULL : device_stats;
    nn_status status = NN_OK;
    nn_logs logs = {0};
    bool trained_whole_epoch = false;
    model->stop_training = false;
    model->initial_epoch = options->initial_epoch;
    share_relu_derivatives(model, true);
    if (progress && progress->train_begin)
        status = progress->train_begin(progress->user, options->epochs, steps, train_count);

    for (int epoch = model->initial_epoch; status == NN_OK && epoch < options->epochs; epoch++) {
        if (progress && progress->epoch_begin && (status = progress->epoch_begin(progress->user, epoch)) != NN_OK)
            break;
        for (int64_t i = 0; i < train_count; i++)
            model->order[i] = i;
        if (options->shuffle) {
            nn_rng shuffle_rng;
            nn_rng_init(&shuffle_rng, seed, UINT64_C(1) << 63 | fit_stream << 24 | (uint64_t)epoch);
            nn_rng_shuffle(&shuffle_rng, model->order, (size_t)train_count);
        }
        double loss_sum = 0.0;
        metric_totals totals;
        memset(&totals, 0, sizeof totals);
        int64_t seen = 0;
        memset(&logs, 0, sizeof logs);
        batch_feed feed = {x, y, model->order, 0, train_count, batch_size, train_weights};
        feed_stage(model, &feed, 0);
        for (int64_t step = 0; step < steps; step++) {
            int64_t batch = feed_batch_rows(&feed, step);
            set_batch(model, batch);
            feed_use(model, &feed, step);
            nn_exec exec = make_exec(model, true);
            if (progress && progress->batch_begin &&
                (status = progress->batch_begin(progress->user, epoch, step + 1, steps)) != NN_OK)
                break;
            backend->memory_zero(device_stats, sizeof(nn_batch_stats));
            status = forward(model, &exec);
            if (status != NN_OK)
                break;
            float *dlogits = nn_tensor_f32(model->doutputs[model->layer_count]);
            batch_loss(model, batch, dlogits, train_weights != NULL);
            last_layer_activity(model, &exec, dlogits);
            status = backward(model, &exec);
            if (status != NN_OK)
                break;
            weight_penalty(model, true);
            if ((status = optimizer_update(model, weights, gradients, guard)) != NN_OK ||
                (status = apply_constraints(model, guard)) != NN_OK)
                break;
            if (step + 1 < steps)
                feed_stage(model, &feed, step + 1);
            nn_batch_stats stats;
            if ((status = read_stats(model, &stats)) != NN_OK)
                break;
            double loss = nn_batch_stats_total(&stats);
            if (!isfinite(loss) && !options->allow_nonfinite_loss) {
                model->optimizer->iterations--; /* the guarded step did nothing */
                status = nn_error(NN_ERR_NUMERIC,
                                  "the loss became %s at epoch %d, batch %lld; training "
                                  "stopped (weights are those before this batch). Try a "
                                  "smaller learning_rate or check the data for NaN/Inf",
                                  isnan(loss) ? "NaN" : "infinite", epoch + 1,
                                  (long long)(step + 1));
                break;
            }
            model->step++;
            seen += batch;
            loss_sum += loss * (double)batch;
            if ((status = add_batch_metrics(&totals, model, &stats)) != NN_OK)
                break;
            fill_logs(&logs, model, "", loss_sum / (double)seen, &totals, seen);
            if (progress && progress->batch_end &&
                (status = progress->batch_end(progress->user, epoch, step + 1, steps, &logs)) != NN_OK)
                break;
            if (progress && progress->stop_requested && *progress->stop_requested) {
                status = nn_error(NN_ERR_STOPPED, "training stopped by the user at epoch %d, "
                                                  "batch %lld of %lld",
                                  epoch + 1, (long long)(step + 1), (long long)steps);
                trained_whole_epoch = step + 1 == steps;
                break;
            }
            /* A callback set model.stop_training: Keras ends the epoch after this batch
             * (its validation and epoch-end callbacks still run) and then training. */
            if (model->stop_training)
                break;
        }
        if (status != NN_OK) {
            /* Stopped after the epoch's last batch, the epoch trained whole: the history
             * keeps it (without validation, which the stop skips), as Keras keeps an
             * epoch that a callback stops after. */
            if (status == NN_ERR_STOPPED && trained_whole_epoch &&
                history_append(history, epoch, &logs) != NN_OK)
                status = nn_error(NN_ERR_STOPPED, "training stopped by the user after epoch "
                                                  "%d (out of memory recording it)", epoch + 1);
            break;
        }
        if (!options->allow_nonfinite_loss && (status = check_weights_finite(model, epoch)) != NN_OK)
            break;
        /* Keras 3 counts epochs from 1 here: validation_freq=2 validates after the
         * second, fourth, ... epoch, and the others have no val_ logs at all. */
        if (val_count > 0 && (epoch + 1) % options->validation_freq == 0) {
            double val_loss;
            metric_totals val_metrics;
            status = evaluate_rows(model, val_x, val_y, val_weights, val_start, val_count,
                                   val_batch_size, NULL, &val_loss, &val_metrics);
            if (status != NN_OK)
                break;
            fill_logs(&logs, model, "val_", val_loss, &val_metrics, val_count);
        }
        if (progress && progress->epoch_end)
            status = progress->epoch_end(progress->user, epoch, &logs);
        nn_status recorded = history_append(history, epoch, &logs);
        if (status == NN_OK)
            status = recorded;
        if (model->stop_training)
            break;
        /* A stop asked for during validation or the epoch's callbacks (Ctrl-C at a
         * callback's question): training ends here, before the next epoch's first batch
         * moves the weights. */
        if (status == NN_OK && epoch + 1 < options->epochs && progress &&
            progress->stop_requested && *progress->stop_requested) {
            status = nn_error(NN_ERR_STOPPED, "training stopped by the user after epoch %d",
                              epoch + 1);
            break;
        }
    }
    share_relu_derivatives(model, false);
    bool stopped = status == NN_ERR_STOPPED;
    if (progress && progress->train_end && (status == NN_OK || stopped)) {
        nn_status end_status = progress->train_end(progress->user, &logs);
        if (status == NN_OK)
            status = end_status;
    }
    return status;
}

nn_status nn_model_fit(nn_model *model, const nn_tensor *x, const nn_tensor *y,
                       const nn_fit_options *options, nn_progress *progress,
                       nn_history *history)
{
    NN_TRY(refuse_while_running(model, "start another fit"));
    if (!model->compiled)
        return nn_error(NN_ERR_STATE, "fit: model \"%s\" must be compiled first: call "
                                      "model:compile{optimizer=..., loss=...}", model->name);
    if (options->epochs < 0 || options->initial_epoch < 0)
        return nn_error(NN_ERR_ARGUMENT, "fit: epochs must be >= 0, got %d", options->epochs);
    if (options->batch_size <= 0 || options->batch_size > (INT64_C(1) << 31))
        return nn_error(NN_ERR_ARGUMENT, "fit: batch_size must be a positive integer, got %lld",
                        (long long)options->batch_size);
    if (!(options->validation_split >= 0.0 && options->validation_split < 1.0))
        return nn_error(NN_ERR_ARGUMENT, "fit: validation_split must be in [0, 1), got %g",
                        options->validation_split);
    if (options->validation_freq < 1)
        return nn_error(NN_ERR_ARGUMENT, "fit: validation_freq must be a positive integer "
                                         "(validate every N epochs), got %d",
                        options->validation_freq);
    if (options->validation_batch_size < 0 || options->validation_batch_size > (INT64_C(1) << 31))
        return nn_error(NN_ERR_ARGUMENT, "fit: validation_batch_size must be a positive "
                                         "integer, got %lld",
                        (long long)options->validation_batch_size);
    NN_TRY(check_inputs(model, "fit", x, y));

    if (options->validation_x)
        NN_TRY(check_inputs(model, "fit: validation_data", options->validation_x,
                            options->validation_y));
    const nn_tensor *hx, *hy, *hvx, *hvy;
    nn_tensor *cx = NULL, *cy = NULL, *cvx = NULL, *cvy = NULL;
    nn_status status = data_on_host(x, &hx, &cx);
    if (status == NN_OK)
        status = data_on_host(y, &hy, &cy);
    if (status == NN_OK)
        status = data_on_host(options->validation_x, &hvx, &cvx);
    if (status == NN_OK)
        status = data_on_host(options->validation_y, &hvy, &cvy);
    if (status == NN_OK)
        status = check_input_values(model, hx, "fit");
    if (status == NN_OK)
        status = check_input_values(model, hvx, "fit: validation_data");
    if (status == NN_OK)
        status = check_finite(hx, "fit: x", TRAINING_HARM);
    if (status == NN_OK)
        status = check_finite(hy, "fit: y", TRAINING_HARM);
    if (status == NN_OK)
        status = check_finite(hvx, "fit: validation x", VALIDATION_HARM);
    if (status == NN_OK)
        status = check_finite(hvy, "fit: validation y", VALIDATION_HARM);
    float *weights = NULL, *validation_weights = NULL;
    if (status == NN_OK && options->class_weight)
        status = options->sample_weight
                     ? nn_error(NN_ERR_ARGUMENT, "fit: give class_weight or sample_weight, not "
                                                 "both (as Keras); to use both, multiply each "
                                                 "sample's class weight into sample_weight")
                     : class_sample_weights(model, hy, options->class_weight,
                                            options->class_weight_count, &weights);
    if (status == NN_OK && options->sample_weight)
        status = sample_weights_of(model, options->sample_weight, x->shape.dims[0],
                                   "fit: sample_weight", &weights);
    if (status == NN_OK && hvx)
        status = sample_weights_of(model, options->validation_sample_weight, hvx->shape.dims[0],
                                   "fit: validation_data's sample weights", &validation_weights);
    if (status == NN_OK) {
        nn_fit_options host_options = *options;
        host_options.validation_x = hvx;
        host_options.validation_y = hvy;
        /* Keras splits sample_weight with x and y; class weights stay with training. */
        const float *val_weights = hvx                       ? validation_weights
                                   : options->sample_weight ? weights
                                                            : NULL;
        start_run(model);
        status = fit_loop(model, hx, hy, weights, val_weights, &host_options, progress,
                          history);
        end_run(model);
    }
    free(weights);
    free(validation_weights);
    nn_tensor_free(cx);
    nn_tensor_free(cy);
    nn_tensor_free(cvx);
    nn_tensor_free(cvy);
    return nn_backend_clear_failure(model->backend, status);
}

/* A callback of a fit (or evaluate, or predict) in progress evaluates or predicts with
 * the same model: the run goes through a copy of the model's header with buffers of its
 * own, so the batch in flight, its statistics and the sample order stay as they were. */
static nn_model nested_run(const nn_model *model)
{
    nn_model shadow = *model;
    forget_buffers(&shadow);
    shadow.running = false;
    return shadow;
}

nn_status nn_model_evaluate(nn_model *model, const nn_tensor *x, const nn_tensor *y,
                            const nn_tensor *sample_weight, int64_t batch_size,
                            nn_progress *progress, nn_logs *logs)
{
    if (model->running) {
        nn_model shadow = nested_run(model);
        nn_status status = nn_model_evaluate(&shadow, x, y, sample_weight, batch_size,
                                             progress, logs);
        free_buffers(&shadow);
        return status;
    }
    if (!model->compiled)
        return nn_error(NN_ERR_STATE, "evaluate: model \"%s\" must be compiled first",
                        model->name);
    if (batch_size <= 0)
        return nn_error(NN_ERR_ARGUMENT, "evaluate: batch_size must be positive, got %lld",
                        (long long)batch_size);
    NN_TRY(check_inputs(model, "evaluate", x, y));
    int64_t count = x->shape.dims[0];
    if (batch_size > count)
        batch_size = count;
    NN_TRY(reserve(model, batch_size, false));
    const nn_tensor *hx, *hy;
    nn_tensor *cx = NULL, *cy = NULL;
    double loss;
    metric_totals totals;
    float *weights = NULL;
    nn_status status = sample_weights_of(model, sample_weight, count, "evaluate: sample_weight",
                                         &weights);
    if (status == NN_OK)
        status = data_on_host(x, &hx, &cx);
    if (status == NN_OK)
        status = data_on_host(y, &hy, &cy);
    if (status == NN_OK)
        status = check_input_values(model, hx, "evaluate");
    if (status == NN_OK) {
        start_run(model);
        status = evaluate_rows(model, hx, hy, weights, 0, count, batch_size, progress, &loss,
                               &totals);
        end_run(model);
    }
    free(weights);
    nn_tensor_free(cx);
    nn_tensor_free(cy);
    NN_TRY(nn_backend_clear_failure(model->backend, status));
    memset(logs, 0, sizeof *logs);
    fill_logs(logs, model, "", loss, &totals, count);
    return NN_OK;
}

static nn_status predict_rows(nn_model *model, const nn_tensor *x, int64_t batch_size,
                              nn_progress *progress, nn_tensor *result)
{
    int64_t count = x->shape.dims[0];
    size_t row = (size_t)nn_shape_inner(&result->shape, 1);
    int64_t steps = (count + batch_size - 1) / batch_size;
    nn_exec exec = make_exec(model, false);
    batch_feed feed = {x, NULL, NULL, 0, count, batch_size, NULL};
    feed_stage(model, &feed, 0);
    for (int64_t step = 0; step < steps; step++) {
        int64_t first = step * batch_size, batch = feed_batch_rows(&feed, step);
        set_batch(model, batch);
        feed_use(model, &feed, step);
        NN_TRY(forward(model, &exec));
        if (step + 1 < steps)
            feed_stage(model, &feed, step + 1);
        /* Waits for the batch, and reports what failed on the device. */
        NN_TRY(model->backend->copy_to_host(nn_tensor_f32(result) + (size_t)first * row,
                                            nn_tensor_f32(model->outputs[model->layer_count]),
                                            (size_t)batch * row * sizeof(float)));
        if (progress && progress->batch_end)
            NN_TRY(progress->batch_end(progress->user, 0, step + 1, steps, NULL));
        if (progress && progress->stop_requested && *progress->stop_requested)
            return nn_error(NN_ERR_STOPPED, "prediction stopped by the user after batch %lld "
                                            "of %lld", (long long)(step + 1), (long long)steps);
    }
    return NN_OK;
}

nn_status nn_model_predict(nn_model *model, const nn_tensor *x, int64_t batch_size,
                           nn_progress *progress, nn_tensor **out)
{
    *out = NULL;
    if (model->running) {
        nn_model shadow = nested_run(model);
        nn_status status = nn_model_predict(&shadow, x, batch_size, progress, out);
        free_buffers(&shadow);
        return status;
    }
    if (batch_size <= 0)
        return nn_error(NN_ERR_ARGUMENT, "predict: batch_size must be positive, got %lld",
                        (long long)batch_size);
    NN_TRY(check_inputs(model, "predict", x, NULL));
    int64_t count = x->shape.dims[0];
    if (batch_size > count)
        batch_size = count;
    NN_TRY(reserve(model, batch_size, false));
    nn_shape shape = *nn_model_output_shape(model);
    shape.dims[0] = count;
    nn_tensor *result = NULL, *cx = NULL;
    const nn_tensor *hx;
    nn_status status = nn_tensor_create(&result, NN_DTYPE_F32, &shape);
    if (status == NN_OK)
        status = data_on_host(x, &hx, &cx);
    if (status == NN_OK)
        status = check_input_values(model, hx, "predict");
    if (status == NN_OK) {
        start_run(model);
        status = predict_rows(model, hx, batch_size, progress, result);
        end_run(model);
    }
    nn_tensor_free(cx);
    if (status != NN_OK) {
        nn_tensor_free(result);
        return nn_backend_clear_failure(model->backend, status);
    }
    *out = result;
    return NN_OK;
}
