/* What every layer kind shares: the registry, creation from defaults, building with
 * weight allocation, and running a layer on its own. */
#include "layer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "layers/arg_check.h"
#include "layers/layers.h"
#include "random.h"

const char *const nn_padding_choices[] = {"valid", "same", NULL};
const char *const nn_data_format_choices[] = {"channels_last", "channels_first", NULL};

static const nn_layer_class *const layer_classes[] = {
    &nn_conv2d_class,  &nn_maxpool2d_class, &nn_flatten_class,    &nn_dense_class,
    &nn_dropout_class, &nn_batchnorm_class, &nn_activation_class,
    &nn_rescaling_class, &nn_avgpool2d_class, &nn_global_average_pooling2d_class,
    &nn_global_max_pooling2d_class, &nn_reshape_class, &nn_zero_padding2d_class,
    &nn_cropping2d_class, &nn_upsampling2d_class, &nn_leaky_relu_class, &nn_elu_class,
    &nn_softmax_class, &nn_conv2d_transpose_class, &nn_spatial_dropout2d_class,
    &nn_depthwise_conv2d_class, &nn_layernorm_class, &nn_separable_conv2d_class,
    &nn_conv1d_class, &nn_maxpool1d_class, &nn_avgpool1d_class,
    &nn_global_average_pooling1d_class, &nn_global_max_pooling1d_class,
    &nn_zero_padding1d_class, &nn_cropping1d_class, &nn_upsampling1d_class,
    &nn_simple_rnn_class, &nn_lstm_class, &nn_gru_class, &nn_embedding_class,
    &nn_bidirectional_class, &nn_repeat_vector_class, &nn_spatial_dropout1d_class,
    &nn_permute_class, &nn_gaussian_noise_class, &nn_gaussian_dropout_class,
    &nn_activity_regularization_class, &nn_alpha_dropout_class, &nn_random_flip_class,
    &nn_random_rotation_class, &nn_random_translation_class, &nn_random_zoom_class,
    &nn_relu_class,      &nn_masking_class, &nn_prelu_class, &nn_time_distributed_class,
    &nn_normalization_class, &nn_group_norm_class, &nn_random_contrast_class,
    &nn_random_brightness_class, &nn_resizing_class, &nn_center_crop_class,
    &nn_random_crop_class, &nn_identity_class, &nn_unit_normalization_class,
    &nn_category_encoding_class, &nn_discretization_class, &nn_rms_norm_class,
    &nn_depthwise_conv1d_class, &nn_conv1d_transpose_class, &nn_separable_conv1d_class,
    &nn_maxpool3d_class, &nn_avgpool3d_class, &nn_global_average_pooling3d_class,
    &nn_global_max_pooling3d_class, &nn_zero_padding3d_class, &nn_cropping3d_class,
    &nn_upsampling3d_class, &nn_spatial_dropout3d_class,
    &nn_conv3d_class, &nn_conv3d_transpose_class,
    NULL,
};

const nn_layer_class *const *nn_layer_classes(void) { return layer_classes; }

const nn_layer_class *nn_layer_class_find(const char *name)
{
    for (int i = 0; layer_classes[i]; i++) {
        const nn_layer_class *cls = layer_classes[i];
        if (strcmp(cls->name, name) == 0 || (cls->alias && strcmp(cls->alias, name) == 0))
            return cls;
    }
    return NULL;
}

const nn_arg_spec *nn_layer_class_arg(const nn_layer_class *cls, const char *name)
{
    for (int i = 0; i < cls->arg_count; i++)
        if (strcmp(cls->args[i].name, name) == 0)
            return &cls->args[i];
    return NULL;
}

nn_status nn_known_sizes(const nn_shape *input)
{
    char text[128];
    for (int i = 1; i < input->ndim; i++)
        if (input->dims[i] <= 0)
            return nn_error(NN_ERR_SHAPE, "this layer needs every size of its input but the "
                            "batch, got %s", nn_shape_format(input, text, sizeof text));
    return NN_OK;
}

const char *nn_pair_text(bool one_row, const int pair[2], char *text, size_t size)
{
    if (one_row)
        snprintf(text, size, "%d", pair[1]);
    else
        snprintf(text, size, "(%d, %d)", pair[0], pair[1]);
    return text;
}

const char *nn_triple_text(const int triple[3], char *text, size_t size)
{
    snprintf(text, size, "(%d, %d, %d)", triple[0], triple[1], triple[2]);
    return text;
}

nn_status nn_check_strides_or_dilation(const nn_layer *layer, const int *strides,
                                       const int *dilation_rate, int axes, bool one_row)
{
    bool strided = false, dilated = false;
    for (int axis = 0; axis < axes; axis++) {
        strided |= strides[axis] > 1;
        dilated |= dilation_rate[axis] > 1;
    }
    if (!strided || !dilated)
        return NN_OK;
    char strides_text[48], dilation_text[48];
    if (axes == 3) {
        nn_triple_text(strides, strides_text, sizeof strides_text);
        nn_triple_text(dilation_rate, dilation_text, sizeof dilation_text);
    } else {
        nn_pair_text(one_row, strides, strides_text, sizeof strides_text);
        nn_pair_text(one_row, dilation_rate, dilation_text, sizeof dilation_text);
    }
    return nn_error(NN_ERR_ARGUMENT,
                    "%s \"%s\": strides > 1 not supported in conjunction with dilation_rate "
                    "> 1. Received: strides=%s and dilation_rate=%s.",
                    layer->cls->name, layer->name, strides_text, dilation_text);
}

bool nn_product_within(const int64_t *factors, int count, int64_t limit, int64_t *product)
{
    int64_t total = 1;
    for (int i = 0; i < count; i++) {
        if (factors[i] != 0 && total > limit / factors[i])
            return false;
        total *= factors[i];
    }
    *product = total;
    return true;
}

int64_t nn_window_output(int64_t input, int64_t window, int64_t stride, int64_t dilation,
                         int padding, int64_t *pad_before, char *text, size_t text_size)
{
    int64_t effective = window + (window - 1) * (dilation - 1);
    int64_t output;
    if (padding == NN_PADDING_SAME) {
        output = (input + stride - 1) / stride;
        int64_t total = (output - 1) * stride + effective - input;
        if (total < 0)
            total = 0;
        *pad_before = total / 2;
        snprintf(text, text_size, "ceil(%lld / %lld) = %lld", (long long)input,
                 (long long)stride, (long long)output);
    } else {
        *pad_before = 0;
        output = input >= effective ? (input - effective) / stride + 1 : 0;
        if (dilation > 1)
            snprintf(text, text_size,
                     "floor((%lld - %lld) / %lld) + 1 = %lld  [dilated window %lld + "
                     "(%lld - 1)*(%lld - 1) = %lld]",
                     (long long)input, (long long)effective, (long long)stride,
                     (long long)output, (long long)window, (long long)window,
                     (long long)dilation, (long long)effective);
        else
            snprintf(text, text_size, "floor((%lld - %lld) / %lld) + 1 = %lld",
                     (long long)input, (long long)window, (long long)stride,
                     (long long)output);
    }
    return output;
}

int64_t nn_transposed_window_output(int64_t input, int64_t window, int64_t stride,
                                    int64_t dilation, int padding, int output_padding,
                                    char *text, size_t text_size)
{
    int64_t extent = window + (window - 1) * (dilation - 1);
    if (output_padding != NN_PAIR_NONE) {
        int64_t pad = padding == NN_PADDING_SAME ? extent / 2 : 0;
        int64_t length = (input - 1) * stride + extent - 2 * pad + output_padding;
        snprintf(text, text_size, "(%lld - 1) * %lld + %lld - 2 * %lld + %d = %lld",
                 (long long)input, (long long)stride, (long long)extent, (long long)pad,
                 output_padding, (long long)length);
        return length;
    }
    if (padding == NN_PADDING_SAME) {
        snprintf(text, text_size, "%lld * %lld = %lld", (long long)input, (long long)stride,
                 (long long)(input * stride));
        return input * stride;
    }
    int64_t extra = extent > stride ? extent - stride : 0;
    snprintf(text, text_size, "%lld * %lld + max(%lld - %lld, 0) = %lld", (long long)input,
             (long long)stride, (long long)extent, (long long)stride,
             (long long)(input * stride + extra));
    return input * stride + extra;
}

nn_status nn_feature_axis(const nn_layer *layer, const nn_shape *input, int axis,
                          const char *batch_axis_advice, int *resolved)
{
    char text[128];
    nn_shape_format(input, text, sizeof text);
    if (input->ndim < 2)
        return nn_error(NN_ERR_SHAPE, "Input 0 of layer \"%s\" is incompatible with the layer: "
                        "expected min_ndim=2 (batch, features), found shape %s",
                        layer->name, text);
    *resolved = axis < 0 ? axis + input->ndim : axis;
    if (*resolved < 0 || *resolved >= input->ndim)
        return nn_error(NN_ERR_SHAPE, "axis %d is out of range for input %s (rank %d); axis "
                        "must be in [%d, %d]", axis, text, input->ndim, -input->ndim,
                        input->ndim - 1);
    if (batch_axis_advice && *resolved == 0)
        return nn_error(NN_ERR_SHAPE, "axis %d is the batch axis of input %s; %s", axis, text,
                        batch_axis_advice);
    return NN_OK;
}

nn_status nn_image_input(const nn_layer *layer, const nn_shape *input, int data_format,
                         int64_t *height, int64_t *width, int64_t *channels)
{
    char received[128];
    nn_shape_format(input, received, sizeof received);
    bool last = data_format == NN_CHANNELS_LAST;
    if (input->ndim != 4)
        return nn_error(NN_ERR_SHAPE,
                        "Input 0 of layer \"%s\" is incompatible with the layer: expected "
                        "ndim=4 (batch, %s), found ndim=%d. Full shape received: %s",
                        layer->name, last ? "height, width, channels" : "channels, height, width",
                        input->ndim, received);
    for (int axis = 1; axis < 4; axis++)
        if (input->dims[axis] <= 0)
            return nn_error(NN_ERR_SHAPE,
                            "Input 0 of layer \"%s\" is incompatible with the layer: every "
                            "axis but the batch axis must have a known positive size. Full "
                            "shape received: %s",
                            layer->name, received);
    *height = input->dims[last ? 1 : 2];
    *width = input->dims[last ? 2 : 3];
    *channels = input->dims[last ? 3 : 1];
    return NN_OK;
}

bool nn_axes_resolve(const nn_axes *axes, int ndim, int sorted[NN_MAX_DIMS])
{
    for (int i = 0; i < axes->count; i++) {
        int axis = axes->values[i] < 0 ? axes->values[i] + ndim : axes->values[i];
        if (axis < 0 || axis >= ndim)
            return false;
        int at = i;
        for (; at > 0 && sorted[at - 1] > axis; at--)
            sorted[at] = sorted[at - 1];
        if (at > 0 && sorted[at - 1] == axis)
            return false;
        sorted[at] = axis;
    }
    return true;
}

nn_status nn_volume_input(const nn_layer *layer, const nn_shape *input, int data_format,
                          int64_t sizes[3], int64_t *channels)
{
    char received[128];
    nn_shape_format(input, received, sizeof received);
    bool last = data_format == NN_CHANNELS_LAST;
    if (input->ndim != 5)
        return nn_error(NN_ERR_SHAPE,
                        "Input 0 of layer \"%s\" is incompatible with the layer: expected "
                        "ndim=5 (batch, %s), found ndim=%d. Full shape received: %s",
                        layer->name,
                        last ? "depth, height, width, channels" : "channels, depth, height, width",
                        input->ndim, received);
    for (int axis = 1; axis < 5; axis++)
        if (input->dims[axis] <= 0)
            return nn_error(NN_ERR_SHAPE,
                            "Input 0 of layer \"%s\" is incompatible with the layer: every "
                            "axis but the batch axis must have a known positive size. Full "
                            "shape received: %s",
                            layer->name, received);
    for (int axis = 0; axis < 3; axis++)
        sizes[axis] = input->dims[last ? 1 + axis : 2 + axis];
    *channels = input->dims[last ? 4 : 1];
    return NN_OK;
}

nn_status nn_sequence_input(const nn_layer *layer, const nn_shape *input, int data_format,
                            int64_t *height, int64_t *width, int64_t *channels)
{
    char received[128];
    bool last = data_format == NN_CHANNELS_LAST;
    if (input->ndim != 3 || input->dims[1] <= 0 || input->dims[2] <= 0)
        return nn_error(NN_ERR_SHAPE,
                        "Input 0 of layer \"%s\" is incompatible with the layer: expected "
                        "ndim=3 (batch, %s) with known sizes. Full shape received: %s",
                        layer->name, last ? "steps, channels" : "channels, steps",
                        nn_shape_format(input, received, sizeof received));
    *height = 1;
    *width = input->dims[last ? 1 : 2];
    *channels = input->dims[last ? 2 : 1];
    return NN_OK;
}

nn_conv2d_sizes nn_conv2d_sizes_of(const nn_conv2d_geometry *geometry, const nn_backend *backend,
                                   int64_t batch)
{
    nn_conv2d_sizes sizes = {.geometry = *geometry};
    sizes.geometry.batch = (int)batch;
    const nn_conv2d_geometry *g = &sizes.geometry;
    sizes.input_floats = nn_aligned_floats((size_t)batch * (size_t)g->in_height *
                                           (size_t)g->in_width * (size_t)g->in_channels);
    sizes.output_floats = nn_aligned_floats((size_t)batch * (size_t)g->out_height *
                                            (size_t)g->out_width * (size_t)g->out_channels);
    sizes.kernel_scratch = nn_aligned_floats(backend->conv2d_scratch_floats(g));
    return sizes;
}

void nn_image_kernel_view(const nn_shape *shape, int data_format, int64_t *batch,
                          int64_t *height, int64_t *width, int64_t *channels)
{
    bool last = data_format == NN_CHANNELS_LAST;
    *batch = shape->dims[0] * (last ? 1 : shape->dims[1]);
    if (shape->ndim == 3) { /* a sequence: an image one row high */
        *height = 1;
        *width = shape->dims[last ? 1 : 2];
        *channels = last ? shape->dims[2] : 1;
        return;
    }
    *height = shape->dims[last ? 1 : 2];
    *width = shape->dims[last ? 2 : 3];
    *channels = last ? shape->dims[3] : 1;
}

nn_status nn_layer_create(nn_layer **out, const nn_layer_class *cls)
{
    *out = NULL;
    nn_layer *layer = calloc(1, cls->size);
    if (!layer)
        return nn_error(NN_ERR_MEMORY, "out of memory creating a %s layer", cls->name);
    layer->cls = cls;
    layer->refcount = 1;
    layer->trainable = true;
    layer->activation = nn_activation_default(NN_ACTIVATION_LINEAR);
    snprintf(layer->name, sizeof layer->name, "%s", cls->base_name);
    cls->set_defaults(layer);
    *out = layer;
    return NN_OK;
}

/* Range checks of every spec, then the kind's own cross-checks. Run at creation and
 * again at build, since C callers may set arguments without going through a parser. */
static nn_status validate_arguments(nn_layer *layer)
{
    NN_TRY(nn_layer_check_arg_ranges(layer));
    if (layer->cls->validate)
        NN_TRY(layer->cls->validate(layer));
    return NN_OK;
}

nn_status nn_layer_finish(nn_layer *layer)
{
    NN_TRY(validate_arguments(layer));
    layer->seed = nn_random_global_seed();
    layer->stream = nn_random_next_stream();
    return NN_OK;
}

void *nn_layer_arg_pointer(nn_layer *layer, const nn_arg_spec *spec)
{
    return (char *)layer + spec->offset;
}

void nn_layer_retain(nn_layer *layer)
{
    if (layer)
        layer->refcount++;
}

static void free_params(nn_layer *layer)
{
    for (int i = 0; i < layer->param_count; i++) {
        nn_tensor_free(layer->params[i].value);
        nn_tensor_free(layer->params[i].grad);
        layer->params[i].value = NULL;
        layer->params[i].grad = NULL;
    }
    layer->param_count = 0;
}

void nn_layer_release(nn_layer *layer)
{
    if (!layer || --layer->refcount > 0)
        return;
    if (layer->cls->destroy)
        layer->cls->destroy(layer);
    free_params(layer);
    nn_storage_release(layer->preactivation);
    free(layer);
}

nn_status nn_layer_buffer_reserve(nn_storage **buffer, nn_device device, size_t bytes,
                                  const nn_layer *layer)
{
    if (*buffer && (*buffer)->bytes >= bytes && nn_device_equal((*buffer)->device, device))
        return NN_OK;
    nn_storage *grown = NULL;
    nn_status status = nn_storage_create_on(&grown, device, bytes);
    if (status != NN_OK)
        return nn_error_prefix(status, "reserving layer \"%s\"", layer->name);
    nn_storage_release(*buffer);
    *buffer = grown;
    return NN_OK;
}

void *nn_layer_buffer_reserved(const nn_storage *buffer, nn_device device, size_t bytes)
{
    if (!buffer || buffer->bytes < bytes || !nn_device_equal(buffer->device, device))
        return NULL;
    return buffer->data;
}

/* Whether the layer keeps its pre-activation output for backward. A TimeDistributed
 * shows its wrapped layer's activation (for the model), but the wrapped layer applies it
 * and keeps the pre-activation. */
static bool keeps_preactivation(const nn_layer *layer)
{
    return nn_activation_backward_needs_input(layer->activation.kind) &&
           !nn_time_distributed_inner(layer);
}

nn_status nn_layer_reserve_on(nn_layer *layer, nn_device device, int64_t batch)
{
    if (keeps_preactivation(layer)) {
        size_t needed = (size_t)batch * (size_t)nn_shape_inner(&layer->output_shape, 1);
        NN_TRY(nn_layer_buffer_reserve(&layer->preactivation, device, needed * sizeof(float),
                                       layer));
    }
    if (layer->cls->reserve)
        return layer->cls->reserve(layer, device, batch);
    return NN_OK;
}

nn_status nn_layer_reserve(nn_layer *layer, int64_t batch)
{
    return nn_layer_reserve_on(layer, nn_device_cpu(), batch);
}

size_t nn_layer_scratch_floats(const nn_layer *layer, const nn_backend *backend, int64_t batch)
{
    return layer->cls->scratch_floats ? layer->cls->scratch_floats(layer, backend, batch) : 0;
}

nn_device nn_layer_device(const nn_layer *layer)
{
    for (int i = 0; i < layer->param_count; i++)
        if (layer->params[i].value)
            return nn_tensor_device(layer->params[i].value);
    return nn_device_cpu();
}

void nn_layer_activate_forward(nn_layer *layer, nn_exec *exec, float *out, size_t n,
                               size_t axis_size)
{
    if (exec->logits)
        exec->backend->copy(exec->logits, out, n * sizeof(float));
    if (layer->activation.kind == NN_ACTIVATION_LINEAR)
        return;
    if (exec->training && nn_activation_backward_needs_input(layer->activation.kind))
        exec->backend->copy(layer->preactivation->data, out, n * sizeof(float));
    exec->backend->activation_forward(layer->activation, out, out, n, axis_size);
}

void nn_layer_activate_backward(nn_layer *layer, nn_exec *exec, float *dz, const float *dy,
                                const float *y, size_t n, size_t axis_size)
{
    if (exec->doutput_is_preactivation || layer->activation.kind == NN_ACTIVATION_LINEAR) {
        if (dz != dy)
            exec->backend->copy(dz, dy, n * sizeof(float));
        return;
    }
    const float *x = layer->preactivation ? layer->preactivation->data : NULL;
    exec->backend->activation_backward(layer->activation, dz, dy, x, y, n, axis_size);
}

void nn_layer_activity_penalty(nn_layer *layer, nn_exec *exec, const nn_tensor *out,
                               float *dout)
{
    if (!nn_regularizer_active(&layer->activity_regularizer) || !exec->stats)
        return;
    /* Keras divides the penalty of a batch by its rows (tf.keras 2, and Keras 3 since
     * keras-team/keras#22021), so neither the loss nor the gradient's strength depends on
     * batch_size: the weight penalty's formula with both factors divided, which every
     * backend runs as it is, gradient included. */
    /* TimeDistributed runs its layer on (batch * steps) samples, as tf.keras 2 did, whose
     * penalty is divided by the rows that layer saw: each wrapper adds an axis. */
    int axes = 1;
    for (const nn_layer *inner = layer; (inner = nn_time_distributed_inner(inner)) != NULL;)
        axes++;
    float rows = 1.0f;
    for (int axis = 0; axis < axes && axis < out->shape.ndim; axis++)
        rows *= (float)out->shape.dims[axis];
    nn_regularizer per_row = {layer->activity_regularizer.l1 / rows,
                              layer->activity_regularizer.l2 / rows};
    exec->backend->weight_penalty(&exec->stats->activity_penalty, dout, nn_tensor_f32(out),
                                  nn_tensor_count(out), per_row);
}

int nn_layer_declare_param(nn_layer *layer, const char *name, const nn_shape *shape,
                           bool trainable, nn_initializer initializer,
                           nn_regularizer regularizer, nn_constraint constraint)
{
    int index = layer->param_count++;
    nn_param *param = &layer->params[index];
    *param = (nn_param){.name = name,
                        .shape = *shape,
                        .trainable = trainable,
                        .initializer = initializer,
                        .regularizer = regularizer,
                        .constraint = constraint};
    return index;
}

nn_param *nn_layer_param(nn_layer *layer, const char *name)
{
    for (int i = 0; i < layer->param_count; i++)
        if (strcmp(layer->params[i].name, name) == 0)
            return &layer->params[i];
    return NULL;
}

int64_t nn_layer_count_params(const nn_layer *layer, bool trainable)
{
    int64_t total = 0;
    for (int i = 0; i < layer->param_count; i++) {
        const nn_param *param = &layer->params[i];
        bool counts_as_trainable = nn_param_trains(layer, param);
        if (counts_as_trainable == trainable)
            total += nn_shape_inner(&param->shape, 0);
    }
    return total;
}

/* Whether input (batch axis ignored) is the shape the layer was built for. */
static bool is_built_shape(const nn_layer *layer, const nn_shape *input)
{
    bool same = input->ndim == layer->input_shape.ndim;
    for (int i = 1; same && i < input->ndim; i++)
        same = input->dims[i] == layer->input_shape.dims[i];
    return same;
}

/* Compares the non-batch axes of a new input with those the layer was built for. */
static nn_status check_built_input(const nn_layer *layer, const nn_shape *input)
{
    char expected[128], received[128];
    if (is_built_shape(layer, input))
        return NN_OK;
    return nn_error(NN_ERR_SHAPE,
                    "Input 0 of layer \"%s\" is incompatible with the layer: it was built "
                    "for input shape %s, but received input with shape %s",
                    layer->name, nn_shape_format(&layer->input_shape, expected, sizeof expected),
                    nn_shape_format(input, received, sizeof received));
}

/* Whether one sample of shape (the sizes after the batch axis) has a count of values that
 * fits in 63 bits, so that the layers' products of sizes cannot overflow. */
/* Whether one sample (every axis but the batch; unknown sizes left out) holds at most
 * NN_MAX_SAMPLE_VALUES values. */
static bool sample_within_limit(const nn_shape *shape)
{
    int64_t count = 1;
    for (int i = 1; i < shape->ndim; i++)
        if (shape->dims[i] > 0 && (__builtin_mul_overflow(count, shape->dims[i], &count) ||
                                   count > NN_MAX_SAMPLE_VALUES))
            return false;
    return true;
}

nn_status nn_layer_check_call(const nn_layer *layer, const nn_exec *exec, int64_t batch,
                              int64_t batch_limit)
{
    if (batch > batch_limit)
        return nn_error(NN_ERR_MEMORY, "layer \"%s\": a batch of %lld is more than the %lld "
                        "a layer supports", layer->name, (long long)batch,
                        (long long)batch_limit);
    size_t needed = layer->cls->scratch_floats
                        ? layer->cls->scratch_floats(layer, exec->backend, batch)
                        : 0;
    if (exec->scratch_floats < needed)
        return nn_error(NN_ERR_STATE, "layer \"%s\" needs %zu floats of scratch for a batch "
                        "of %lld, but the caller gave %zu", layer->name, needed,
                        (long long)batch, exec->scratch_floats);
    return NN_OK;
}

/* The random stream weight i of a layer starts from: four per layer, as when layers had
 * at most four weights (so their numbers stay what they were), and the fifth and sixth
 * in a range of their own. */
static uint64_t param_stream(const nn_layer *layer, int i)
{
    uint64_t first = layer->stream * 4;
    return i < 4 ? first + (uint64_t)i : (UINT64_C(1) << 62) + first + (uint64_t)(i - 4);
}

nn_status nn_layer_build(nn_layer *layer, const nn_shape *input)
{
    if (layer->built)
        return check_built_input(layer, input);
    nn_shape batched = *input;
    if (batched.ndim > 0)
        batched.dims[0] = -1;
    nn_shape output = {0};
    char text[128];
    NN_TRY(validate_arguments(layer));
    if (!sample_within_limit(&batched))
        return nn_error(NN_ERR_SHAPE, "one sample of input %s holds more than 2^40 values, "
                        "the most nnsh takes", nn_shape_format(&batched, text, sizeof text));
    layer->param_count = 0;
    layer->explanation[0] = '\0';
    nn_status status = layer->cls->build(layer, &batched, &output);
    if (status == NN_OK && !sample_within_limit(&output))
        status = nn_error(NN_ERR_SHAPE, "one sample of its output %s would hold more than "
                          "2^40 values, the most nnsh takes",
                          nn_shape_format(&output, text, sizeof text));
    if (status != NN_OK) {
        layer->param_count = 0;
        return status;
    }
    for (int i = 0; i < layer->param_count; i++) {
        nn_param *param = &layer->params[i];
        status = nn_tensor_create(&param->value, NN_DTYPE_F32, &param->shape);
        if (status == NN_OK)
            status = nn_initializer_fill(&param->initializer, param->value, layer->seed,
                                         param_stream(layer, i));
        if (status == NN_OK && param->trainable)
            status = nn_tensor_create(&param->grad, NN_DTYPE_F32, &param->shape);
        if (status != NN_OK) {
            free_params(layer);
            return nn_error_prefix(status, "creating its weight \"%s\"", param->name);
        }
        /* A constraint that cannot apply to this weight is refused now, not after the
         * first optimizer step of fit has already moved it. */
        status = nn_constraint_check(&param->constraint, param->value);
        if (status != NN_OK) {
            free_params(layer);
            return nn_error_prefix(status, "its weight \"%s\"", param->name);
        }
    }
    if (layer->cls->initialized)
        layer->cls->initialized(layer);
    layer->input_shape = batched;
    layer->output_shape = output;
    layer->built = true;
    return NN_OK;
}

/* Checks that tensor has the layer's shape `expected` (batch axis -1) with `batch` rows,
 * and is float32. */
static nn_status check_tensor(const nn_layer *layer, const char *what, const nn_tensor *tensor,
                              const nn_shape *expected, int64_t batch)
{
    char want[128], got[128];
    nn_shape shape = *expected;
    if (shape.ndim > 0)
        shape.dims[0] = batch;
    if (tensor->dtype != NN_DTYPE_F32)
        return nn_error(NN_ERR_ARGUMENT, "layer \"%s\": %s must be float32, got %s", layer->name,
                        what, nn_dtype_name(tensor->dtype));
    if (!nn_shape_equal(&tensor->shape, &shape))
        return nn_error(NN_ERR_SHAPE, "layer \"%s\": %s has shape %s, expected %s", layer->name,
                        what, nn_shape_format(&tensor->shape, got, sizeof got),
                        nn_shape_format(&shape, want, sizeof want));
    return NN_OK;
}

static nn_status check_run(const nn_layer *layer, const nn_exec *exec, const nn_tensor *input,
                           const nn_tensor *output, int64_t *batch)
{
    if (!layer->built)
        return nn_error(NN_ERR_STATE, "layer \"%s\" is not built yet", layer->name);
    if (input->shape.ndim < 1 || input->shape.dims[0] < 1)
        return nn_error(NN_ERR_SHAPE, "layer \"%s\": the input has no batch axis", layer->name);
    *batch = input->shape.dims[0];
    NN_TRY(check_tensor(layer, "the input", input, &layer->input_shape, *batch));
    NN_TRY(check_tensor(layer, "the output", output, &layer->output_shape, *batch));
    size_t needed = nn_layer_scratch_floats(layer, exec->backend, *batch);
    if (exec->scratch_floats < needed || (needed > 0 && !exec->scratch))
        return nn_error(NN_ERR_ARGUMENT, "layer \"%s\": needs %zu floats of scratch for a batch "
                        "of %lld, got %zu", layer->name, needed, (long long)*batch,
                        exec->scratch_floats);
    size_t preactivation_bytes =
        (size_t)*batch * (size_t)nn_shape_inner(&layer->output_shape, 1) * sizeof(float);
    if (keeps_preactivation(layer) &&
        !nn_layer_buffer_reserved(layer->preactivation, exec->device, preactivation_bytes))
        return nn_error(NN_ERR_STATE, "layer \"%s\": call nn_layer_reserve for a batch of %lld "
                        "first", layer->name, (long long)*batch);
    return NN_OK;
}

nn_status nn_layer_check_input(const nn_layer *layer, const nn_tensor *input)
{
    if (!nn_layer_checks_input(layer))
        return NN_OK;
    if (nn_tensor_on_host(input))
        return layer->cls->check_input(layer, input);
    nn_tensor *host = NULL;
    NN_TRY(nn_tensor_to(&host, input, nn_device_cpu()));
    nn_status status = layer->cls->check_input(layer, host);
    nn_tensor_free(host);
    return status;
}

bool nn_layer_checks_input(const nn_layer *layer)
{
    return nn_time_distributed_innermost(layer)->cls->check_input != NULL;
}

/* "[3, 7]": the position of flat element `index` in a tensor of `shape`. */
static void format_position(const nn_shape *shape, size_t index, char *text, size_t size)
{
    size_t coordinates[NN_MAX_DIMS];
    for (int axis = shape->ndim - 1; axis >= 0; axis--) {
        size_t extent = (size_t)shape->dims[axis];
        coordinates[axis] = index % extent;
        index /= extent;
    }
    size_t used = (size_t)snprintf(text, size, "[");
    for (int axis = 0; axis < shape->ndim && used < size; axis++)
        used += (size_t)snprintf(text + used, size - used, "%s%zu", axis ? ", " : "",
                                 coordinates[axis]);
    if (used < size)
        snprintf(text + used, size - used, "]");
}

nn_status nn_check_ids(const nn_layer *layer, const nn_tensor *input, int64_t limit,
                       const char *limit_name)
{
    size_t count = nn_tensor_count(input);
    const float *values = input->dtype == NN_DTYPE_F32 ? nn_tensor_f32(input) : NULL;
    for (size_t i = 0; i < count; i++) {
        double value = values ? (double)values[i] : nn_tensor_get(input, i);
        /* Written so that NaN fails too. */
        if (value >= 0.0 && value < (double)limit && value == floor(value))
            continue;
        char position[128], number[32];
        format_position(&input->shape, i, position, sizeof position);
        if (isnan(value))
            snprintf(number, sizeof number, "NaN");
        else if (value == floor(value) && fabs(value) < 1e15) /* ids read as ids */
            snprintf(number, sizeof number, "%.0f", value);
        else
            snprintf(number, sizeof number, "%.9g", value);
        /* The position is NumPy's, every axis from 0, unlike x[i]'s rows from 1: said so. */
        return nn_error(NN_ERR_ARGUMENT, "%s \"%s\": input%s = %s is not a valid index; "
                        "indices must be whole numbers in [0, %lld) (%s=%lld); the position "
                        "counts each axis from 0",
                        layer->cls->name, layer->name, position, number, (long long)limit,
                        limit_name, (long long)limit);
    }
    return NN_OK;
}

nn_status nn_layer_adapt(nn_layer *layer, const nn_tensor *data)
{
    if (!layer->cls->adapt)
        return nn_error(NN_ERR_ARGUMENT, "layer \"%s\" (%s) has no adapt: Normalization and "
                        "Discretization learn from data that way", layer->name,
                        layer->cls->name);
    return layer->cls->adapt(layer, data);
}

nn_status nn_layer_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                           nn_tensor *output)
{
    int64_t batch = 0;
    NN_TRY(check_run(layer, exec, input, output, &batch));
    NN_TRY(nn_layer_check_input(layer, input));
    return layer->cls->forward(layer, exec, input, output);
}

nn_status nn_layer_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                            const nn_tensor *output, const nn_tensor *doutput,
                            nn_tensor *dinput)
{
    int64_t batch = 0;
    NN_TRY(check_run(layer, exec, input, output, &batch));
    NN_TRY(check_tensor(layer, "the output gradient", doutput, &layer->output_shape, batch));
    if (dinput)
        NN_TRY(check_tensor(layer, "the input gradient", dinput, &layer->input_shape, batch));
    for (int i = 0; i < layer->param_count; i++) {
        const nn_param *param = &layer->params[i];
        if (nn_param_trains(layer, param) &&
            (!param->grad || !nn_shape_equal(&param->grad->shape, &param->shape)))
            return nn_error(NN_ERR_SHAPE, "layer \"%s\": the gradient of %s is missing or "
                            "misshapen", layer->name, param->name);
    }
    return layer->cls->backward(layer, exec, input, output, doutput, dinput);
}

/* ---- a built layer called on another input shape ----
 *
 * Keras lets a layer built on one shape run on any other its weights fit: pooling on
 * another image size, Dense on more leading axes, an LSTM on more steps. The weights'
 * shapes are what the class's build declares, so running that build again on the new
 * shape (the weights left alone) tells whether they fit, and leaves the layer's
 * shape-dependent state (geometry, step counts, what reserve and scratch_floats size)
 * right for this call. The layer keeps the shape of its first build as its input_shape
 * and output_shape, as Keras records them: after the call the same build runs on that
 * shape again, which puts everything back, since a build depends only on the arguments
 * and the shape. */

/* Runs the class's build on `input` (batch axis -1) for the shapes alone: the layer's
 * weights stay exactly as they are. *misfit is the index of the first weight the build
 * declares with another shape than the layer's own, or the first one only one side
 * has (a class whose count of weights depends on the shape), -1 when they all fit;
 * *wanted is the shape it declared there (ndim 0 where it declared none). */
static nn_status build_shapes_only(nn_layer *layer, const nn_shape *input, nn_shape *output,
                                   int *misfit, nn_shape *wanted)
{
    nn_param kept[NN_LAYER_MAX_PARAMS];
    int kept_count = layer->param_count;
    memcpy(kept, layer->params, sizeof kept);
    layer->param_count = 0;
    layer->explanation[0] = '\0';
    nn_status status = layer->cls->build(layer, input, output);
    *misfit = -1;
    if (status == NN_OK) {
        int count = layer->param_count > kept_count ? layer->param_count : kept_count;
        for (int i = 0; i < count && *misfit < 0; i++)
            if (i >= layer->param_count || i >= kept_count ||
                !nn_shape_equal(&layer->params[i].shape, &kept[i].shape)) {
                *misfit = i;
                *wanted = i < layer->param_count ? layer->params[i].shape : (nn_shape){0};
            }
    }
    memcpy(layer->params, kept, sizeof kept);
    layer->param_count = kept_count;
    return status;
}

/* Puts back what build_shapes_only changed: the state of the shape the layer was built
 * for. */
static nn_status restore_built_shapes(nn_layer *layer, const nn_shape *input,
                                      const nn_shape *output)
{
    nn_shape rebuilt = {0}, wanted;
    int misfit = -1;
    nn_status status = build_shapes_only(layer, input, &rebuilt, &misfit, &wanted);
    layer->input_shape = *input;
    layer->output_shape = *output;
    if (status == NN_OK && (misfit >= 0 || !nn_shape_equal(&rebuilt, output)))
        status = nn_error(NN_ERR_STATE, "layer \"%s\" did not come back to the shapes it "
                          "was built for after a call on another shape", layer->name);
    return status;
}

/* Which axis of the built input the weights fix, found by changing one axis at a time
 * from the built shape to the received one (axes matched from the last, so that a Dense
 * built on (None, 5) and given (2, 4, 6) names the features). Returns the axis of the
 * built shape, or -1 when no single axis explains the misfit. */
static int axis_the_weights_fix(nn_layer *layer, const nn_shape *built,
                                const nn_shape *received)
{
    for (int from_end = 1; from_end < built->ndim && from_end < received->ndim; from_end++) {
        int axis = built->ndim - from_end;
        int64_t size = received->dims[received->ndim - from_end];
        if (built->dims[axis] == size)
            continue;
        nn_shape probe = *built, output, wanted;
        probe.dims[axis] = size;
        int misfit = -1;
        if (build_shapes_only(layer, &probe, &output, &misfit, &wanted) == NN_OK && misfit >= 0)
            return axis;
    }
    return -1;
}

/* The error for an input whose shape the weights cannot take, in Keras' words where one
 * axis is to blame. Leaves the layer's state that of `built`: call restore after. */
static nn_status weights_misfit_error(nn_layer *layer, const nn_shape *built,
                                      const nn_shape *received, int misfit,
                                      const nn_shape *wanted)
{
    char built_text[128], received_text[128], weight_text[128], wanted_text[128];
    nn_shape_format(built, built_text, sizeof built_text);
    nn_shape_format(received, received_text, sizeof received_text);
    if (misfit >= layer->param_count)
        return nn_error(NN_ERR_SHAPE, "Input 0 of layer \"%s\" is incompatible with the layer: "
                        "it was built for input shape %s, with %d weights, but input with "
                        "shape %s would need more", layer->name, built_text,
                        layer->param_count, received_text);
    const nn_param *param = &layer->params[misfit];
    nn_shape_format(&param->shape, weight_text, sizeof weight_text);
    int axis = axis_the_weights_fix(layer, built, received);
    if (axis >= 0) {
        /* As Keras numbers it: the last axis -1 (Dense's features, channels_last
         * channels), the others from the front. */
        int shown = axis == built->ndim - 1 || built->ndim != received->ndim
                        ? axis - built->ndim
                        : axis;
        return nn_error(NN_ERR_SHAPE, "Input 0 of layer \"%s\" is incompatible with the layer: "
                        "expected axis %d of input shape to have value %lld, but received "
                        "input with shape %s (it was built for input shape %s, and its weight "
                        "\"%s\" of shape %s fixes that axis)",
                        layer->name, shown, (long long)built->dims[axis], received_text,
                        built_text, param->name, weight_text);
    }
    if (wanted->ndim > 0)
        nn_shape_format(wanted, wanted_text, sizeof wanted_text);
    return nn_error(NN_ERR_SHAPE, "Input 0 of layer \"%s\" is incompatible with the layer: it "
                    "was built for input shape %s, but received input with shape %s, for "
                    "which its weight \"%s\" of shape %s would need %s",
                    layer->name, built_text, received_text, param->name, weight_text,
                    wanted->ndim > 0 ? wanted_text : "to be left out");
}

/* Makes a built layer's shapes those of input for one call; on an error the layer is as
 * it was. */
static nn_status enter_call_shape(nn_layer *layer, const nn_shape *input)
{
    nn_shape built_input = layer->input_shape, built_output = layer->output_shape;
    nn_shape batched = *input, output = {0}, wanted = {0};
    batched.dims[0] = -1;
    char text[128];
    int misfit = -1;
    nn_status status = NN_OK;
    if (!sample_within_limit(&batched))
        return nn_error(NN_ERR_SHAPE, "one sample of input %s holds more than 2^40 values, "
                        "the most nnsh takes", nn_shape_format(&batched, text, sizeof text));
    status = build_shapes_only(layer, &batched, &output, &misfit, &wanted);
    if (status == NN_OK && !sample_within_limit(&output))
        status = nn_error(NN_ERR_SHAPE, "one sample of its output %s would hold more than "
                          "2^40 values, the most nnsh takes",
                          nn_shape_format(&output, text, sizeof text));
    if (status == NN_OK && misfit >= 0)
        status = weights_misfit_error(layer, &built_input, input, misfit, &wanted);
    if (status != NN_OK) {
        nn_status restored = restore_built_shapes(layer, &built_input, &built_output);
        return restored == NN_OK ? status : restored;
    }
    layer->input_shape = batched;
    layer->output_shape = output;
    return NN_OK;
}

/* nn_layer_call once the layer is built for the input's shape. */
static nn_status call_built(nn_layer *layer, const nn_tensor *input, bool training,
                            bool new_build, nn_tensor **out)
{
    NN_TRY(nn_layer_check_input(layer, input));
    /* A layer runs where its weights are; one built just now follows its input. */
    nn_device device = nn_layer_device(layer);
    if (layer->param_count == 0 || (new_build && !nn_tensor_on_host(input)))
        device = nn_tensor_device(input);
    /* Its weights and buffers would move under the model using them. */
    if (layer->running_in && !nn_device_equal(device, nn_layer_device(layer)))
        return nn_error(NN_ERR_STATE, "layer \"%s\" is in use by a model in the middle of "
                        "fit, evaluate or predict, so it cannot run on another device until "
                        "that returns", layer->name);
    for (int i = 0; i < layer->param_count; i++) {
        NN_TRY(nn_storage_move(layer->params[i].value->storage, device));
        if (layer->params[i].grad)
            NN_TRY(nn_storage_move(layer->params[i].grad->storage, device));
    }
    const nn_backend *backend = nn_backend_for(device);
    int64_t batch = input->shape.dims[0];
    nn_shape output_shape = layer->output_shape;
    output_shape.dims[0] = batch;
    NN_TRY(backend->select_device(device.index));
    NN_TRY(nn_layer_reserve_on(layer, device, batch));
    size_t scratch_floats = nn_layer_scratch_floats(layer, backend, batch);
    nn_storage *scratch = NULL;
    nn_tensor *output = NULL, *moved_input = NULL;
    nn_status status = NN_OK;
    if (scratch_floats > 0)
        status = nn_storage_create_on(&scratch, device, scratch_floats * sizeof(float));
    if (status == NN_OK)
        status = nn_tensor_to(&moved_input, input, device);
    if (status == NN_OK)
        status = nn_tensor_create_on(&output, NN_DTYPE_F32, &output_shape, device);
    if (status == NN_OK) {
        nn_exec exec = {.backend = backend,
                        .device = device,
                        .training = training,
                        .seed = nn_random_global_seed(),
                        .step = nn_random_next_stream(),
                        .on_its_own = true,
                        .scratch = scratch ? scratch->data : NULL,
                        .scratch_floats = scratch_floats};
        status = layer->cls->forward(layer, &exec, moved_input, output);
        /* A device reports failed kernels when asked: ask before the result is used. */
        nn_status device_status = backend->synchronize();
        if (status == NN_OK && device_status != NN_OK)
            status = nn_error_prefix(device_status, "layer \"%s\"", layer->name);
    }
    nn_storage_release(scratch);
    nn_tensor_free(moved_input);
    if (status != NN_OK) {
        nn_tensor_free(output);
        return nn_backend_clear_failure(backend, status);
    }
    *out = output;
    return NN_OK;
}

nn_status nn_layer_call(nn_layer *layer, const nn_tensor *input, bool training,
                        nn_tensor **out)
{
    *out = NULL;
    if (input->dtype != NN_DTYPE_F32)
        return nn_error(NN_ERR_ARGUMENT,
                        "layer \"%s\" expects float32 input, got %s (convert with "
                        ":astype('float32'))",
                        layer->name, nn_dtype_name(input->dtype));
    if (input->shape.ndim < 1)
        return nn_error(NN_ERR_SHAPE, "layer \"%s\": the input has no batch axis", layer->name);
    if (!layer->built || is_built_shape(layer, &input->shape)) {
        bool new_build = !layer->built;
        NN_TRY(nn_layer_build(layer, &input->shape));
        return call_built(layer, input, training, new_build, out);
    }
    nn_shape built_input = layer->input_shape, built_output = layer->output_shape;
    NN_TRY(enter_call_shape(layer, &input->shape));
    nn_status status = call_built(layer, input, training, false, out);
    nn_status restored = restore_built_shapes(layer, &built_input, &built_output);
    if (status == NN_OK && restored != NN_OK) {
        nn_tensor_free(*out);
        *out = NULL;
        status = restored;
    }
    return status;
}

unsigned nn_layer_mask_use_on(const nn_layer *layer, const nn_shape *input)
{
    return layer->cls->mask_use ? layer->cls->mask_use(layer, input) : 0;
}

unsigned nn_layer_mask_use(const nn_layer *layer)
{
    return nn_layer_mask_use_on(layer, &layer->input_shape);
}

int64_t nn_layer_mask_steps(const nn_shape *shape)
{
    int64_t steps = 1;
    for (int axis = 1; axis < shape->ndim - 1; axis++)
        steps *= shape->dims[axis];
    return steps;
}

unsigned nn_mask_passes(const nn_layer *layer, const nn_shape *input)
{
    (void)layer;
    (void)input;
    return NN_MASK_PASSES;
}

char *nn_layer_describe(const nn_layer *layer, char *buf, size_t size)
{
    snprintf(buf, size, "%s", layer->cls->name);
    return buf;
}
