/* Layer kinds whose gradients had no check of their own (DepthwiseConv2D/1D,
 * SeparableConv2D/1D, Conv1D with 'causal' padding, Conv2DTranspose/Conv1DTranspose, the
 * 1-D poolings, the global poolings of 1-D and 2-D inputs), each run through the public
 * layer API on the CPU and on the emulated device and compared with a naive reference in
 * double written here from Keras' definitions: the output against the reference, and
 * dinput and every weight's gradient against central differences of
 * sum(dout · reference(x, weights)). Then the kinds checked on the CPU in their own tests
 * run on the emulated device too, in training and inference, and must give the CPU's
 * numbers. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "layer_harness.h"
#include "ref_conv.h"
#include "ref_layers.h"

/* The float32 layer against the double reference. Each output and each gradient is a sum
 * of at most a few hundred products of numbers in [-1, 1], whose float32 rounding stays
 * near 1e-5; 1e-4 (absolute and relative) leaves room for that and no more: a gradient
 * off by 1% (scaled by 1.01) is off by 1e-2 of its size and fails. The central
 * differences are taken in double with eps 1e-4: the reference is linear in each argument
 * but for the tanh (error ~ eps^2) and the max (whose winner moves only when two cells
 * of a window lie within eps, which the data these seeds give does not). */
static const double VALUE_ATOL = 1e-4, VALUE_RTOL = 1e-4;
static const double GRADIENT_ATOL = 1e-4, GRADIENT_RTOL = 1e-4;
static const double DIFFERENCE_EPS = 1e-4;

typedef enum ref_kind {
    REF_CONV,          /* grouped convolution: kernel (kh, kw, channels / groups, filters) */
    REF_DEPTHWISE,     /* one group per channel: kernel (kh, kw, channels, multiplier) */
    REF_SEPARABLE,     /* depthwise, no bias, then a 1x1 convolution with the bias */
    REF_TRANSPOSE,     /* transposed convolution: kernel (kh, kw, filters, channels) */
    REF_MAX_POOL,      /* the max of the window's cells inside the input */
    REF_AVERAGE_POOL,  /* the mean of the window's cells inside the input */
    REF_GLOBAL_AVERAGE,/* the mean over every cell, per channel */
    REF_GLOBAL_MAX,    /* the max over every cell, per channel */
} ref_kind;

/* One layer and input. A sequence layer (Conv1D, MaxPooling1D...) has height 0: its input
 * is (batch, width, channels), and its sizes are (1, k) pairs. */
typedef struct grad_case {
    const char *cls;
    ref_kind kind;
    int batch, height, width, channels;
    int filters, multiplier, groups;
    int kernel[2], strides[2], dilation[2]; /* kernel: the pool's size for a pooling */
    const char *padding;                     /* "valid", "same", "causal"; NULL: default */
    bool has_output_padding;                 /* a transposed convolution's, else None */
    int output_padding[2];
    bool channels_first, no_bias;
    nn_activation_kind activation;
} grad_case;

/* Sizes of one case, computed here from Keras' rules. */
typedef struct ref_sizes {
    int in_height, out_height, out_width, out_channels;
    int pad_top, pad_left;
    size_t in_count, out_count;
} ref_sizes;

static bool is_pooling(const grad_case *c)
{
    return c->kind == REF_MAX_POOL || c->kind == REF_AVERAGE_POOL;
}

static bool is_global(const grad_case *c)
{
    return c->kind == REF_GLOBAL_AVERAGE || c->kind == REF_GLOBAL_MAX;
}

static int stride_of(const grad_case *c, int axis)
{
    /* A pooling's strides default to its pool size, as Keras. */
    return c->strides[axis] ? c->strides[axis] : is_pooling(c) ? c->kernel[axis] : 1;
}

static int dilation_of(const grad_case *c, int axis)
{
    return c->dilation[axis] ? c->dilation[axis] : 1;
}

/* Output length and padding before the first cell of one axis. 'causal' puts all of the
 * dilated window's extent before the first step (Keras' Conv1D). */
static int axis_output(const grad_case *c, int axis, int length, int *pad_before)
{
    int window = c->kernel[axis], stride = stride_of(c, axis), dilation = dilation_of(c, axis);
    if (c->padding && strcmp(c->padding, "causal") == 0) {
        *pad_before = (window - 1) * dilation;
        return (length - 1) / stride + 1;
    }
    bool same = c->padding && strcmp(c->padding, "same") == 0;
    return ref_window_output(length, window, stride, dilation, same, pad_before);
}

/* A transposed convolution's output length (Keras' deconv_output_length) and the padding
 * before its first cell: TensorFlow's, that of a 'same' (or 'valid') convolution over the
 * output giving the input back. */
static int transpose_axis_output(const grad_case *c, int axis, int length, int *pad_before)
{
    int window = c->kernel[axis], stride = stride_of(c, axis), dilation = dilation_of(c, axis);
    int extent = (window - 1) * dilation + 1;
    bool same = c->padding && strcmp(c->padding, "same") == 0;
    int out;
    if (!c->has_output_padding)
        out = same ? length * stride : length * stride + (extent > stride ? extent - stride : 0);
    else
        out = (length - 1) * stride + extent - 2 * (same ? extent / 2 : 0) +
              c->output_padding[axis];
    int total = (length - 1) * stride + extent - out;
    *pad_before = same && total > 0 ? total / 2 : 0;
    return out;
}

static ref_sizes sizes_of(const grad_case *c)
{
    ref_sizes s = {.in_height = c->height ? c->height : 1};
    s.in_count = (size_t)c->batch * (size_t)s.in_height * (size_t)c->width *
                 (size_t)c->channels;
    if (is_global(c)) {
        s.out_height = s.out_width = 1;
        s.out_channels = c->channels;
    } else if (c->kind == REF_TRANSPOSE) {
        s.out_height = transpose_axis_output(c, 0, s.in_height, &s.pad_top);
        s.out_width = transpose_axis_output(c, 1, c->width, &s.pad_left);
        s.out_channels = c->filters;
    } else {
        s.out_height = axis_output(c, 0, s.in_height, &s.pad_top);
        s.out_width = axis_output(c, 1, c->width, &s.pad_left);
        s.out_channels = is_pooling(c)               ? c->channels
                         : c->kind == REF_DEPTHWISE ? c->channels * c->multiplier
                                                     : c->filters;
    }
    cr_assert(s.out_height > 0 && s.out_width > 0, "%s: the case has no output", c->cls);
    s.out_count = (size_t)c->batch * (size_t)s.out_height * (size_t)s.out_width *
                  (size_t)s.out_channels;
    return s;
}

/* out (B,OH,OW,OC) = bias + the sum over the window and the channels of the output
 * channel's group of x (B,H,W,C) · kernel (KH,KW,C/groups,OC); cells outside read 0. */
static void naive_conv(double *out, const double *x, const double *kernel, const double *bias,
                       const grad_case *c, const ref_sizes *s, int channels, int out_channels,
                       int groups, int kernel_height, int kernel_width)
{
    int group_in = channels / groups, group_out = out_channels / groups;
    for (int b = 0; b < c->batch; b++)
        for (int oh = 0; oh < s->out_height; oh++)
            for (int ow = 0; ow < s->out_width; ow++)
                for (int oc = 0; oc < out_channels; oc++) {
                    int group = oc / group_out;
                    double sum = bias ? bias[oc] : 0.0;
                    for (int kh = 0; kh < kernel_height; kh++)
                        for (int kw = 0; kw < kernel_width; kw++) {
                            int ih = oh * stride_of(c, 0) - s->pad_top + kh * dilation_of(c, 0);
                            int iw = ow * stride_of(c, 1) - s->pad_left + kw * dilation_of(c, 1);
                            if (ih < 0 || ih >= s->in_height || iw < 0 || iw >= c->width)
                                continue;
                            for (int ci = 0; ci < group_in; ci++)
                                sum += x[(((size_t)b * (size_t)s->in_height + (size_t)ih) *
                                              (size_t)c->width + (size_t)iw) * (size_t)channels +
                                         (size_t)(group * group_in + ci)] *
                                       kernel[(((size_t)kh * (size_t)kernel_width + (size_t)kw) *
                                                   (size_t)group_in + (size_t)ci) *
                                                  (size_t)out_channels + (size_t)oc];
                        }
                    out[(((size_t)b * (size_t)s->out_height + (size_t)oh) *
                             (size_t)s->out_width + (size_t)ow) * (size_t)out_channels +
                        (size_t)oc] = sum;
                }
}

/* out (B,OH,OW,F) = bias + every input cell (h, w) of x (B,H,W,C) scattered: it adds
 * x · kernel[i, j, f, c] to output cell (h·sh - pad_top + i·dh, w·sw - pad_left + j·dw),
 * cells falling outside the output dropped. */
static void naive_conv_transpose(double *out, const double *x, const double *kernel,
                                 const double *bias, const grad_case *c, const ref_sizes *s)
{
    int filters = c->filters, channels = c->channels;
    for (int b = 0; b < c->batch; b++)
        for (int oh = 0; oh < s->out_height; oh++)
            for (int ow = 0; ow < s->out_width; ow++)
                for (int f = 0; f < filters; f++)
                    out[(((size_t)b * (size_t)s->out_height + (size_t)oh) *
                             (size_t)s->out_width + (size_t)ow) * (size_t)filters +
                        (size_t)f] = bias ? bias[f] : 0.0;
    for (int b = 0; b < c->batch; b++)
        for (int h = 0; h < s->in_height; h++)
            for (int w = 0; w < c->width; w++)
                for (int i = 0; i < c->kernel[0]; i++)
                    for (int j = 0; j < c->kernel[1]; j++) {
                        int oh = h * stride_of(c, 0) - s->pad_top + i * dilation_of(c, 0);
                        int ow = w * stride_of(c, 1) - s->pad_left + j * dilation_of(c, 1);
                        if (oh < 0 || oh >= s->out_height || ow < 0 || ow >= s->out_width)
                            continue;
                        for (int f = 0; f < filters; f++)
                            for (int ch = 0; ch < channels; ch++)
                                out[(((size_t)b * (size_t)s->out_height + (size_t)oh) *
                                         (size_t)s->out_width + (size_t)ow) * (size_t)filters +
                                    (size_t)f] +=
                                    x[(((size_t)b * (size_t)s->in_height + (size_t)h) *
                                           (size_t)c->width + (size_t)w) * (size_t)channels +
                                      (size_t)ch] *
                                    kernel[(((size_t)i * (size_t)c->kernel[1] + (size_t)j) *
                                                (size_t)filters + (size_t)f) *
                                               (size_t)channels + (size_t)ch];
                    }
}

/* out (B,OH,OW,C): the max or the mean of each window's cells inside x (B,H,W,C); for the
 * global poolings the window is the whole image. */
static void naive_pool(double *out, const double *x, const grad_case *c, const ref_sizes *s)
{
    bool global = is_global(c);
    bool max = c->kind == REF_MAX_POOL || c->kind == REF_GLOBAL_MAX;
    int window_height = global ? s->in_height : c->kernel[0];
    int window_width = global ? c->width : c->kernel[1];
    for (int b = 0; b < c->batch; b++)
        for (int oh = 0; oh < s->out_height; oh++)
            for (int ow = 0; ow < s->out_width; ow++)
                for (int ch = 0; ch < c->channels; ch++) {
                    double best = -INFINITY, sum = 0.0;
                    int cells = 0;
                    for (int kh = 0; kh < window_height; kh++)
                        for (int kw = 0; kw < window_width; kw++) {
                            int ih = global ? kh : oh * stride_of(c, 0) - s->pad_top + kh;
                            int iw = global ? kw : ow * stride_of(c, 1) - s->pad_left + kw;
                            if (ih < 0 || ih >= s->in_height || iw < 0 || iw >= c->width)
                                continue;
                            double v = x[(((size_t)b * (size_t)s->in_height + (size_t)ih) *
                                              (size_t)c->width + (size_t)iw) *
                                             (size_t)c->channels + (size_t)ch];
                            best = v > best ? v : best;
                            sum += v;
                            cells++;
                        }
                    out[(((size_t)b * (size_t)s->out_height + (size_t)oh) *
                             (size_t)s->out_width + (size_t)ow) * (size_t)c->channels +
                        (size_t)ch] = max ? best : sum / cells;
                }
}

/* The layer's output (in the case's layout) from its input (in that layout) and its
 * weights, in the order the layer declares them. */
static void reference(double *out, const double *x, double *const *weights, const grad_case *c)
{
    ref_sizes s = sizes_of(c);
    int in_spatial = s.in_height * c->width, out_spatial = s.out_height * s.out_width;
    double *x_last = malloc(s.in_count * sizeof(double));
    double *out_last = malloc(s.out_count * sizeof(double));
    cr_assert(x_last && out_last);
    if (c->channels_first)
        ref_to_channels_last(x_last, x, c->batch, c->channels, in_spatial);
    else
        memcpy(x_last, x, s.in_count * sizeof(double));
    switch (c->kind) {
    case REF_CONV:
        naive_conv(out_last, x_last, weights[0], c->no_bias ? NULL : weights[1], c, &s,
                   c->channels, c->filters, c->groups ? c->groups : 1, c->kernel[0],
                   c->kernel[1]);
        break;
    case REF_DEPTHWISE:
        naive_conv(out_last, x_last, weights[0], c->no_bias ? NULL : weights[1], c, &s,
                   c->channels, s.out_channels, c->channels, c->kernel[0], c->kernel[1]);
        break;
    case REF_TRANSPOSE:
        naive_conv_transpose(out_last, x_last, weights[0], c->no_bias ? NULL : weights[1], c,
                             &s);
        break;
    case REF_SEPARABLE: {
        int mid_channels = c->channels * c->multiplier;
        size_t mid_count = (size_t)c->batch * (size_t)out_spatial * (size_t)mid_channels;
        double *mid = malloc(mid_count * sizeof(double));
        cr_assert(mid);
        naive_conv(mid, x_last, weights[0], NULL, c, &s, c->channels, mid_channels,
                   c->channels, c->kernel[0], c->kernel[1]);
        /* The pointwise step: a 1x1 convolution of stride 1 over the depthwise output. */
        grad_case pointwise = {.batch = c->batch, .height = s.out_height, .width = s.out_width,
                               .kernel = {1, 1}};
        ref_sizes pointwise_sizes = {.in_height = s.out_height, .out_height = s.out_height,
                                     .out_width = s.out_width};
        naive_conv(out_last, mid, weights[1], c->no_bias ? NULL : weights[2], &pointwise,
                   &pointwise_sizes, mid_channels, c->filters, 1, 1, 1);
        free(mid);
        break;
    }
    default:
        naive_pool(out_last, x_last, c, &s);
        break;
    }
    if (c->activation != NN_ACTIVATION_LINEAR) {
        double *activated = malloc(s.out_count * sizeof(double));
        cr_assert(activated);
        ref_activation_forward(nn_activation_default(c->activation), activated, out_last,
                               s.out_count, (size_t)s.out_channels);
        memcpy(out_last, activated, s.out_count * sizeof(double));
        free(activated);
    }
    if (c->channels_first && !is_global(c))
        ref_to_channels_first(out, out_last, c->batch, s.out_channels, out_spatial);
    else
        memcpy(out, out_last, s.out_count * sizeof(double));
    free(x_last);
    free(out_last);
}

/* ---- the layer ---- */

/* Sets a size argument: a pair takes (first, second); a 1-D layer's int (or optional int)
 * takes second, its only axis. */
static void set_size(nn_layer *layer, const char *name, int first, int second)
{
    const nn_arg_spec *spec = nn_layer_class_arg(layer->cls, name);
    cr_assert(spec != NULL, "%s has no argument '%s'", layer->cls->name, name);
    void *field = nn_layer_arg_pointer(layer, spec);
    switch (spec->kind) {
    case NN_ARG_INT: *(int *)field = second; break;
    case NN_ARG_OPTIONAL_INT: *(nn_optional_int *)field = (nn_optional_int){true, second}; break;
    case NN_ARG_PAIR: case NN_ARG_OPTIONAL_PAIR:
        ((int *)field)[0] = first;
        ((int *)field)[1] = second;
        break;
    default: cr_assert_fail("'%s' of %s is not a size", name, layer->cls->name);
    }
}

static nn_layer *make_layer(const grad_case *c)
{
    const nn_layer_class *cls = nn_layer_class_find(c->cls);
    cr_assert(cls != NULL, "no layer class %s", c->cls);
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, cls), NN_OK, "%s", nn_error_message());
    if (c->kind == REF_CONV || c->kind == REF_SEPARABLE || c->kind == REF_TRANSPOSE)
        harness_set_int(layer, "filters", c->filters);
    if (c->kind == REF_CONV && c->groups)
        harness_set_int(layer, "groups", c->groups);
    if (c->kind == REF_DEPTHWISE || c->kind == REF_SEPARABLE)
        harness_set_int(layer, "depth_multiplier", c->multiplier);
    if (!is_global(c))
        set_size(layer, is_pooling(c) ? "pool_size" : "kernel_size", c->kernel[0], c->kernel[1]);
    if (c->strides[1])
        set_size(layer, "strides", c->strides[0], c->strides[1]);
    if (c->dilation[1])
        set_size(layer, "dilation_rate", c->dilation[0], c->dilation[1]);
    if (c->padding)
        harness_set_choice(layer, "padding", c->padding);
    if (c->has_output_padding)
        set_size(layer, "output_padding", c->output_padding[0], c->output_padding[1]);
    if (c->channels_first)
        harness_set_choice(layer, "data_format", "channels_first");
    if (c->no_bias)
        harness_set_bool(layer, "use_bias", false);
    if (c->activation != NN_ACTIVATION_LINEAR)
        harness_set_activation(layer, nn_activation_default(c->activation));
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s: %s", c->cls, nn_error_message());
    return layer;
}

static nn_shape input_shape_of(const grad_case *c)
{
    if (c->height == 0)
        return c->channels_first ? NN_SHAPE(c->batch, c->channels, c->width)
                                 : NN_SHAPE(c->batch, c->width, c->channels);
    return c->channels_first ? NN_SHAPE(c->batch, c->channels, c->height, c->width)
                             : NN_SHAPE(c->batch, c->height, c->width, c->channels);
}

/* What one forward and backward on a device gave, read back to the host. */
typedef struct layer_result {
    float *output, *dinput;
    float *grads[NN_LAYER_MAX_PARAMS];
} layer_result;

/* Runs forward, then in training backward, on `device`, as nn_layer_call runs a layer
 * there: the weights and their gradients moved to it, the buffers reserved on it. */
static void run_on(layer_result *result, nn_layer *layer, nn_device device,
                   const nn_tensor *input, const float *doutput, size_t out_count,
                   bool training)
{
    const nn_backend *backend = nn_backend_for(device);
    cr_assert(backend != NULL);
    for (int i = 0; i < layer->param_count; i++) {
        cr_assert_eq(nn_storage_move(layer->params[i].value->storage, device), NN_OK);
        if (layer->params[i].grad)
            cr_assert_eq(nn_storage_move(layer->params[i].grad->storage, device), NN_OK);
    }
    int64_t batch = input->shape.dims[0];
    cr_assert_eq(nn_layer_reserve_on(layer, device, batch), NN_OK, "%s", nn_error_message());
    size_t scratch_floats = nn_layer_scratch_floats(layer, backend, batch);
    nn_storage *scratch = NULL;
    if (scratch_floats > 0)
        cr_assert_eq(nn_storage_create_on(&scratch, device, scratch_floats * sizeof(float)),
                     NN_OK);
    nn_shape output_shape = layer->output_shape;
    output_shape.dims[0] = batch;
    nn_tensor *x = NULL, *y = NULL, *dy = NULL, *dx = NULL;
    cr_assert_eq(nn_tensor_to(&x, input, device), NN_OK);
    cr_assert_eq(nn_tensor_create_on(&y, NN_DTYPE_F32, &output_shape, device), NN_OK);
    cr_assert_eq(nn_tensor_create_on(&dy, NN_DTYPE_F32, &output_shape, device), NN_OK);
    cr_assert_eq(nn_tensor_create_on(&dx, NN_DTYPE_F32, &input->shape, device), NN_OK);
    cr_assert_eq(nn_tensor_write(dy, doutput), NN_OK);
    nn_exec exec = {.backend = backend,
                    .device = device,
                    .training = training,
                    .seed = 1234,
                    .scratch = scratch ? scratch->data : NULL,
                    .scratch_floats = scratch_floats};
    cr_assert_eq(nn_layer_forward(layer, &exec, x, y), NN_OK, "%s", nn_error_message());
    if (training)
        cr_assert_eq(nn_layer_backward(layer, &exec, x, y, dy, dx), NN_OK, "%s",
                     nn_error_message());
    cr_assert_eq(backend->synchronize(), NN_OK, "%s", nn_error_message());

    cr_assert_eq(nn_tensor_count(y), out_count);
    result->output = malloc(out_count * sizeof(float));
    cr_assert(result->output);
    cr_assert_eq(nn_tensor_read(y, result->output), NN_OK);
    /* Backward ran only in training: in inference dx and the gradients hold nothing. */
    if (training) {
        result->dinput = malloc(nn_tensor_count(input) * sizeof(float));
        cr_assert(result->dinput);
        cr_assert_eq(nn_tensor_read(dx, result->dinput), NN_OK);
    }
    for (int i = 0; i < layer->param_count; i++) {
        /* A weight that does not train (a moving mean) has no gradient; its value, which
         * training moves, is compared instead. */
        nn_tensor *read = layer->params[i].grad ? layer->params[i].grad : layer->params[i].value;
        if (training) {
            result->grads[i] = malloc(nn_tensor_bytes(read));
            cr_assert(result->grads[i]);
            cr_assert_eq(nn_tensor_read(read, result->grads[i]), NN_OK);
        }
        cr_assert_eq(nn_storage_move(layer->params[i].value->storage, nn_device_cpu()), NN_OK);
        if (layer->params[i].grad)
            cr_assert_eq(nn_storage_move(layer->params[i].grad->storage, nn_device_cpu()),
                         NN_OK);
    }
    nn_tensor_free(x);
    nn_tensor_free(y);
    nn_tensor_free(dy);
    nn_tensor_free(dx);
    nn_storage_release(scratch);
}

static void result_free(layer_result *result, int param_count)
{
    free(result->output);
    free(result->dinput);
    for (int i = 0; i < param_count; i++)
        free(result->grads[i]);
}

/* ---- central differences of the reference ---- */

/* sum(dout · reference(x, weights)) as a function of x (argument -1) or of one weight. */
typedef struct objective {
    const grad_case *c;
    double *x;
    double *weights[NN_LAYER_MAX_PARAMS];
    const double *dout;
    double *out;
    size_t out_count;
    int argument;
} objective;

static double objective_value(const double *values, size_t n, void *context)
{
    (void)n;
    objective *o = context;
    double *saved = o->argument < 0 ? o->x : o->weights[o->argument];
    if (o->argument < 0)
        o->x = (double *)values;
    else
        o->weights[o->argument] = (double *)values;
    reference(o->out, o->x, o->weights, o->c);
    if (o->argument < 0)
        o->x = saved;
    else
        o->weights[o->argument] = saved;
    double sum = 0.0;
    for (size_t i = 0; i < o->out_count; i++)
        sum += o->dout[i] * o->out[i];
    return sum;
}

static void assert_close(const char *what, const grad_case *c, const char *device,
                         const float *actual, const double *expected, size_t n, double atol,
                         double rtol)
{
    char label[160];
    snprintf(label, sizeof label, "%s %s on %s", c->cls, what, device);
    ts_comparison comparison = ts_compare(actual, expected, n, atol, rtol);
    ts_report(label, &comparison);
    cr_assert(comparison.ok,
              "%s: element %zu is %.8g, the reference gives %.8g (error %.3g, %.2f times the "
              "tolerance)",
              label, comparison.worst_index, comparison.actual, comparison.expected,
              comparison.worst_error, comparison.worst_ratio);
}

/* Checks one case on the CPU and on the emulated device. */
static void check_case(const grad_case *c, uint64_t seed)
{
    ref_sizes s = sizes_of(c);
    nn_layer *layer = make_layer(c);
    nn_shape input_shape = input_shape_of(c);
    cr_assert_eq(nn_layer_build(layer, &input_shape), NN_OK, "%s: %s", c->cls,
                 nn_error_message());
    objective o = {.c = c, .out_count = s.out_count, .argument = -1};
    for (int i = 0; i < layer->param_count; i++) {
        /* Random weights, biases included (zeros would hide a missing bias gradient). */
        size_t count = nn_tensor_count(layer->params[i].value);
        ts_fill_uniform(nn_tensor_f32(layer->params[i].value), count, seed + 10 + (uint64_t)i,
                        -1.0f, 1.0f);
        o.weights[i] = malloc(count * sizeof(double));
        cr_assert(o.weights[i]);
        ts_to_double(o.weights[i], nn_tensor_f32(layer->params[i].value), count);
    }
    nn_tensor *input = harness_tensor(&input_shape, NULL);
    ts_fill_uniform(nn_tensor_f32(input), s.in_count, seed, -1.0f, 1.0f);
    float *doutput = malloc(s.out_count * sizeof(float));
    double *dout = malloc(s.out_count * sizeof(double));
    double *expected = malloc(s.out_count * sizeof(double));
    o.x = malloc(s.in_count * sizeof(double));
    o.out = malloc(s.out_count * sizeof(double));
    cr_assert(doutput && dout && expected && o.x && o.out);
    ts_fill_uniform(doutput, s.out_count, seed + 1, -1.0f, 1.0f);
    ts_to_double(dout, doutput, s.out_count);
    o.dout = dout;
    ts_to_double(o.x, nn_tensor_f32(input), s.in_count);
    reference(expected, o.x, o.weights, c);

    /* The differences once, then both devices against them. */
    double *dx = malloc(s.in_count * sizeof(double));
    double *dweights[NN_LAYER_MAX_PARAMS] = {0};
    cr_assert(dx);
    o.argument = -1;
    ts_numeric_gradient(objective_value, &o, o.x, s.in_count, DIFFERENCE_EPS, dx);
    for (int i = 0; i < layer->param_count; i++) {
        size_t count = nn_tensor_count(layer->params[i].value);
        dweights[i] = malloc(count * sizeof(double));
        cr_assert(dweights[i]);
        o.argument = i;
        ts_numeric_gradient(objective_value, &o, o.weights[i], count, DIFFERENCE_EPS,
                            dweights[i]);
    }

    const nn_device devices[] = {nn_device_cpu(), {NN_DEVICE_EMULATED, 0}};
    const char *device_names[] = {"cpu", "emulated"};
    for (int d = 0; d < 2; d++) {
        layer_result result = {0};
        run_on(&result, layer, devices[d], input, doutput, s.out_count, true);
        assert_close("output", c, device_names[d], result.output, expected, s.out_count,
                     VALUE_ATOL, VALUE_RTOL);
        assert_close("dinput", c, device_names[d], result.dinput, dx, s.in_count,
                     GRADIENT_ATOL, GRADIENT_RTOL);
        for (int i = 0; i < layer->param_count; i++) {
            char what[64];
            snprintf(what, sizeof what, "d%s", layer->params[i].name);
            assert_close(what, c, device_names[d], result.grads[i], dweights[i],
                         nn_tensor_count(layer->params[i].value), GRADIENT_ATOL,
                         GRADIENT_RTOL);
        }
        result_free(&result, layer->param_count);
    }

    for (int i = 0; i < layer->param_count; i++) {
        free(o.weights[i]);
        free(dweights[i]);
    }
    free(dx);
    free(o.x);
    free(o.out);
    free(expected);
    free(dout);
    free(doutput);
    nn_tensor_free(input);
    nn_layer_release(layer);
}

static void check_cases(const grad_case *cases, size_t count, uint64_t seed)
{
    for (size_t i = 0; i < count; i++)
        check_case(&cases[i], seed + 100 * (uint64_t)i);
}

#define CHECK_CASES(cases, seed) check_cases((cases), sizeof(cases) / sizeof((cases)[0]), (seed))

Test(layer_gradients, depthwise_conv2d_across_padding_strides_dilation_and_layouts)
{
    const grad_case cases[] = {
        {"DepthwiseConv2D", REF_DEPTHWISE, .batch = 2, .height = 5, .width = 6, .channels = 3,
         .multiplier = 2, .kernel = {3, 3}, .padding = "same"},
        {"DepthwiseConv2D", REF_DEPTHWISE, .batch = 2, .height = 7, .width = 6, .channels = 2,
         .multiplier = 1, .kernel = {3, 2}, .strides = {2, 3}, .padding = "same",
         .activation = NN_ACTIVATION_TANH},
        {"DepthwiseConv2D", REF_DEPTHWISE, .batch = 1, .height = 7, .width = 7, .channels = 3,
         .multiplier = 3, .kernel = {2, 3}, .dilation = {2, 2}, .padding = "valid"},
        {"DepthwiseConv2D", REF_DEPTHWISE, .batch = 2, .height = 5, .width = 4, .channels = 3,
         .multiplier = 2, .kernel = {3, 3}, .strides = {2, 1}, .padding = "same",
         .channels_first = true, .no_bias = true},
    };
    CHECK_CASES(cases, 1000);
}

Test(layer_gradients, separable_conv2d_across_padding_strides_dilation_and_layouts)
{
    const grad_case cases[] = {
        {"SeparableConv2D", REF_SEPARABLE, .batch = 2, .height = 5, .width = 6, .channels = 3,
         .filters = 4, .multiplier = 2, .kernel = {3, 3}, .padding = "same"},
        {"SeparableConv2D", REF_SEPARABLE, .batch = 2, .height = 7, .width = 6, .channels = 2,
         .filters = 3, .multiplier = 1, .kernel = {3, 2}, .strides = {2, 2}, .padding = "valid",
         .activation = NN_ACTIVATION_TANH},
        {"SeparableConv2D", REF_SEPARABLE, .batch = 1, .height = 7, .width = 8, .channels = 2,
         .filters = 3, .multiplier = 2, .kernel = {3, 3}, .dilation = {2, 1},
         .padding = "same", .channels_first = true},
    };
    CHECK_CASES(cases, 2000);
}

Test(layer_gradients, conv1d_with_causal_padding_dilation_strides_and_groups)
{
    const grad_case cases[] = {
        {"Conv1D", REF_CONV, .batch = 2, .width = 9, .channels = 3, .filters = 4,
         .kernel = {1, 3}, .padding = "causal"},
        {"Conv1D", REF_CONV, .batch = 2, .width = 10, .channels = 2, .filters = 3,
         .kernel = {1, 3}, .dilation = {1, 2}, .padding = "causal",
         .activation = NN_ACTIVATION_TANH},
        {"Conv1D", REF_CONV, .batch = 2, .width = 11, .channels = 4, .filters = 4,
         .kernel = {1, 4}, .strides = {1, 3}, .padding = "same", .groups = 2},
        {"Conv1D", REF_CONV, .batch = 2, .width = 9, .channels = 3, .filters = 2,
         .kernel = {1, 3}, .strides = {1, 2}, .padding = "valid", .channels_first = true},
    };
    CHECK_CASES(cases, 3000);
}

Test(layer_gradients, depthwise_and_separable_conv1d)
{
    const grad_case cases[] = {
        {"DepthwiseConv1D", REF_DEPTHWISE, .batch = 2, .width = 9, .channels = 3,
         .multiplier = 2, .kernel = {1, 3}, .strides = {1, 2}, .padding = "same"},
        {"DepthwiseConv1D", REF_DEPTHWISE, .batch = 2, .width = 10, .channels = 2,
         .multiplier = 1, .kernel = {1, 3}, .dilation = {1, 3}, .padding = "valid",
         .channels_first = true},
        {"SeparableConv1D", REF_SEPARABLE, .batch = 2, .width = 9, .channels = 3,
         .filters = 4, .multiplier = 2, .kernel = {1, 3}, .padding = "same",
         .activation = NN_ACTIVATION_TANH},
        {"SeparableConv1D", REF_SEPARABLE, .batch = 2, .width = 11, .channels = 2,
         .filters = 3, .multiplier = 2, .kernel = {1, 4}, .strides = {1, 2},
         .padding = "valid", .no_bias = true},
    };
    CHECK_CASES(cases, 4000);
}

Test(layer_gradients, pooling1d_max_and_average_with_padding_and_strides)
{
    const grad_case cases[] = {
        {"MaxPooling1D", REF_MAX_POOL, .batch = 2, .width = 9, .channels = 3,
         .kernel = {1, 3}, .strides = {1, 2}, .padding = "same"},
        {"MaxPooling1D", REF_MAX_POOL, .batch = 2, .width = 8, .channels = 2,
         .kernel = {1, 2}, .padding = "valid", .channels_first = true},
        {"AveragePooling1D", REF_AVERAGE_POOL, .batch = 2, .width = 10, .channels = 3,
         .kernel = {1, 3}, .strides = {1, 2}, .padding = "same"},
        {"AveragePooling1D", REF_AVERAGE_POOL, .batch = 2, .width = 9, .channels = 2,
         .kernel = {1, 4}, .strides = {1, 1}, .padding = "valid", .channels_first = true},
    };
    CHECK_CASES(cases, 5000);
}

Test(layer_gradients, pooling2d_max_and_average_with_uneven_windows)
{
    const grad_case cases[] = {
        {"MaxPooling2D", REF_MAX_POOL, .batch = 2, .height = 7, .width = 6, .channels = 3,
         .kernel = {3, 2}, .strides = {2, 1}, .padding = "same"},
        {"AveragePooling2D", REF_AVERAGE_POOL, .batch = 2, .height = 7, .width = 5,
         .channels = 2, .kernel = {3, 3}, .strides = {2, 2}, .padding = "same",
         .channels_first = true},
        {"AveragePooling2D", REF_AVERAGE_POOL, .batch = 2, .height = 6, .width = 7,
         .channels = 3, .kernel = {2, 3}, .strides = {1, 2}, .padding = "valid"},
    };
    CHECK_CASES(cases, 6000);
}

Test(layer_gradients, global_pooling_of_sequences_and_images)
{
    const grad_case cases[] = {
        {"GlobalAveragePooling2D", REF_GLOBAL_AVERAGE, .batch = 2, .height = 4, .width = 5,
         .channels = 3},
        {"GlobalAveragePooling2D", REF_GLOBAL_AVERAGE, .batch = 2, .height = 3, .width = 5,
         .channels = 3, .channels_first = true},
        {"GlobalMaxPooling2D", REF_GLOBAL_MAX, .batch = 2, .height = 4, .width = 5,
         .channels = 3},
        {"GlobalMaxPooling2D", REF_GLOBAL_MAX, .batch = 2, .height = 3, .width = 4,
         .channels = 2, .channels_first = true},
        {"GlobalAveragePooling1D", REF_GLOBAL_AVERAGE, .batch = 2, .width = 7, .channels = 3},
        {"GlobalMaxPooling1D", REF_GLOBAL_MAX, .batch = 3, .width = 6, .channels = 4},
    };
    CHECK_CASES(cases, 7000);
}

Test(layer_gradients, conv_transpose_2d_and_1d_with_strides_dilation_and_output_padding)
{
    const grad_case cases[] = {
        {"Conv2DTranspose", REF_TRANSPOSE, .batch = 2, .height = 3, .width = 4, .channels = 3,
         .filters = 2, .kernel = {3, 3}, .strides = {2, 2}, .padding = "same"},
        {"Conv2DTranspose", REF_TRANSPOSE, .batch = 2, .height = 3, .width = 3, .channels = 2,
         .filters = 3, .kernel = {2, 3}, .strides = {3, 2}, .padding = "valid",
         .activation = NN_ACTIVATION_TANH},
        {"Conv2DTranspose", REF_TRANSPOSE, .batch = 1, .height = 4, .width = 3, .channels = 2,
         .filters = 2, .kernel = {3, 2}, .dilation = {2, 2}, .padding = "same",
         .channels_first = true},
        {"Conv2DTranspose", REF_TRANSPOSE, .batch = 2, .height = 3, .width = 3, .channels = 2,
         .filters = 2, .kernel = {3, 3}, .strides = {2, 3}, .padding = "same",
         .has_output_padding = true, .output_padding = {0, 2}},
        {"Conv2DTranspose", REF_TRANSPOSE, .batch = 2, .height = 2, .width = 3, .channels = 3,
         .filters = 2, .kernel = {2, 2}, .strides = {3, 2}, .padding = "valid",
         .has_output_padding = true, .output_padding = {2, 1}, .no_bias = true},
        {"Conv1DTranspose", REF_TRANSPOSE, .batch = 2, .width = 5, .channels = 3, .filters = 2,
         .kernel = {1, 3}, .strides = {1, 2}, .padding = "same"},
        {"Conv1DTranspose", REF_TRANSPOSE, .batch = 2, .width = 4, .channels = 2, .filters = 3,
         .kernel = {1, 4}, .strides = {1, 3}, .padding = "valid", .has_output_padding = true,
         .output_padding = {0, 1}, .channels_first = true},
        {"Conv1DTranspose", REF_TRANSPOSE, .batch = 2, .width = 5, .channels = 2, .filters = 2,
         .kernel = {1, 3}, .dilation = {1, 2}, .padding = "same",
         .activation = NN_ACTIVATION_TANH},
    };
    CHECK_CASES(cases, 8000);
}

/* ---- the emulated device against the CPU, for the kinds checked on the CPU elsewhere ---- */

/* One layer kind set up for the comparison. */
typedef struct device_case {
    const char *cls;
    nn_shape input; /* batch first */
    void (*set)(nn_layer *layer);
    float low, high; /* the input's range (ids for an Embedding) */
} device_case;

static void set_dense(nn_layer *l)
{
    harness_set_int(l, "units", 5);
    harness_set_activation(l, nn_activation_default(NN_ACTIVATION_TANH));
}
static void set_conv2d(nn_layer *l)
{
    harness_set_int(l, "filters", 4);
    harness_set_pair(l, "kernel_size", 3, 3);
    harness_set_pair(l, "strides", 2, 1);
    harness_set_choice(l, "padding", "same");
    harness_set_int(l, "groups", 2);
    harness_set_activation(l, nn_activation_default(NN_ACTIVATION_SIGMOID));
}
static void set_conv3d(nn_layer *l)
{
    harness_set_int(l, "filters", 3);
    int *kernel = harness_arg(l, "kernel_size");
    kernel[0] = kernel[1] = kernel[2] = 2;
    harness_set_choice(l, "padding", "same");
}
static void set_conv3d_transpose(nn_layer *l)
{
    harness_set_int(l, "filters", 2);
    int *kernel = harness_arg(l, "kernel_size"), *strides = harness_arg(l, "strides");
    kernel[0] = kernel[1] = kernel[2] = 3;
    strides[0] = strides[1] = strides[2] = 2;
    harness_set_choice(l, "padding", "same");
}
static void set_pool3d(nn_layer *l)
{
    int *pool = harness_arg(l, "pool_size");
    pool[0] = pool[1] = pool[2] = 2;
    harness_set_choice(l, "padding", "same");
}
static void set_units(nn_layer *l) { harness_set_int(l, "units", 4); }
static void set_sequences(nn_layer *l)
{
    harness_set_int(l, "units", 3);
    harness_set_bool(l, "return_sequences", true);
}
static void set_embedding(nn_layer *l)
{
    harness_set_int(l, "input_dim", 7);
    harness_set_int(l, "output_dim", 3);
}
static void set_groups(nn_layer *l) { harness_set_int(l, "groups", 2); }
static void set_bilinear(nn_layer *l)
{
    harness_set_pair(l, "size", 2, 3);
    harness_set_choice(l, "interpolation", "bilinear");
}
static void set_resizing(nn_layer *l)
{
    harness_set_int(l, "height", 5);
    harness_set_int(l, "width", 3);
}
static void set_nothing(nn_layer *l) { (void)l; }

/* Runs the case on the CPU and on the emulated device (training and inference) and
 * requires the same numbers: the emulated device runs the CPU kernels, so any difference
 * is a data-path bug (a buffer left on the host, a copy missed), and the CPU results are
 * checked against references and central differences in the kinds' own tests. */
static void check_devices_agree(const device_case *c, uint64_t seed)
{
    for (int training = 0; training < 2; training++) {
        layer_result results[2] = {{0}};
        int param_count = 0;
        size_t in_count = 0, out_count = 0, weight_bytes[NN_LAYER_MAX_PARAMS] = {0};
        const char *weight_names[NN_LAYER_MAX_PARAMS] = {0};
        const nn_device devices[] = {nn_device_cpu(), {NN_DEVICE_EMULATED, 0}};
        for (int d = 0; d < 2; d++) {
            const nn_layer_class *cls = nn_layer_class_find(c->cls);
            cr_assert(cls != NULL, "no layer class %s", c->cls);
            nn_layer *layer = NULL;
            cr_assert_eq(nn_layer_create(&layer, cls), NN_OK);
            c->set(layer);
            cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s: %s", c->cls, nn_error_message());
            cr_assert_eq(nn_layer_build(layer, &c->input), NN_OK, "%s: %s", c->cls,
                         nn_error_message());
            for (int i = 0; i < layer->param_count; i++)
                if (layer->params[i].trainable)
                    ts_fill_uniform(nn_tensor_f32(layer->params[i].value),
                                    nn_tensor_count(layer->params[i].value),
                                    seed + 10 + (uint64_t)i, -1.0f, 1.0f);
            nn_tensor *input = harness_tensor(&c->input, NULL);
            in_count = nn_tensor_count(input);
            ts_fill_uniform(nn_tensor_f32(input), in_count, seed, c->low, c->high);
            if (strcmp(c->cls, "Embedding") == 0)
                for (size_t i = 0; i < in_count; i++)
                    nn_tensor_f32(input)[i] = floorf(nn_tensor_f32(input)[i]);
            nn_shape output_shape = layer->output_shape;
            output_shape.dims[0] = c->input.dims[0];
            cr_assert_eq(nn_shape_count(&output_shape, &out_count), NN_OK);
            float *doutput = malloc(out_count * sizeof(float));
            cr_assert(doutput);
            ts_fill_uniform(doutput, out_count, seed + 1, -1.0f, 1.0f);
            run_on(&results[d], layer, devices[d], input, doutput, out_count, training);
            param_count = layer->param_count;
            for (int i = 0; i < param_count; i++) {
                weight_bytes[i] = nn_tensor_bytes(layer->params[i].value);
                weight_names[i] = layer->params[i].name; /* static strings */
            }
            free(doutput);
            nn_tensor_free(input);
            nn_layer_release(layer);
        }
        char what[96];
        snprintf(what, sizeof what, "%s (%s) output", c->cls, training ? "training" : "inference");
        bool any = false; /* agreeing on zeros everywhere would prove nothing */
        for (size_t i = 0; i < out_count; i++)
            any = any || results[0].output[i] != 0.0f;
        cr_assert(any, "%s is all zeros", what);
        cr_assert(memcmp(results[0].output, results[1].output, out_count * sizeof(float)) == 0,
                  "%s differs on the emulated device", what);
        if (training) {
            /* Embedding takes ids: no gradient flows to its input. */
            bool any_dinput = strcmp(c->cls, "Embedding") == 0;
            for (size_t i = 0; i < in_count; i++)
                any_dinput = any_dinput || results[0].dinput[i] != 0.0f;
            cr_assert(any_dinput, "%s dinput is all zeros", c->cls);
            cr_assert(memcmp(results[0].dinput, results[1].dinput, in_count * sizeof(float)) == 0,
                      "%s dinput differs on the emulated device", c->cls);
            /* Each weight's gradient, or the new value of one training moves itself. */
            for (int i = 0; i < param_count; i++)
                cr_assert(memcmp(results[0].grads[i], results[1].grads[i], weight_bytes[i]) == 0,
                          "%s d%s differs on the emulated device", c->cls, weight_names[i]);
        }
        fprintf(stderr, "[devices] %-48s cpu = emulated%s\n", what,
                training ? ", with dinput and every weight's gradient" : "");
        for (int d = 0; d < 2; d++)
            result_free(&results[d], param_count);
    }
}

Test(layer_gradients, the_emulated_device_gives_the_cpus_numbers_for_every_kind_with_arithmetic)
{
    const device_case cases[] = {
        {"Dense", NN_SHAPE(3, 2, 6), set_dense, -1, 1},
        {"Conv2D", NN_SHAPE(2, 5, 6, 4), set_conv2d, -1, 1},
        {"Conv3D", NN_SHAPE(2, 3, 4, 3, 2), set_conv3d, -1, 1},
        {"Conv3DTranspose", NN_SHAPE(2, 2, 3, 2, 2), set_conv3d_transpose, -1, 1},
        {"MaxPooling3D", NN_SHAPE(2, 3, 5, 4, 2), set_pool3d, -1, 1},
        {"AveragePooling3D", NN_SHAPE(2, 3, 5, 4, 2), set_pool3d, -1, 1},
        {"BatchNormalization", NN_SHAPE(4, 3, 3, 5), set_nothing, -2, 2},
        {"LayerNormalization", NN_SHAPE(3, 4, 6), set_nothing, -2, 2},
        {"GroupNormalization", NN_SHAPE(2, 3, 3, 4), set_groups, -2, 2},
        {"RMSNormalization", NN_SHAPE(3, 4, 6), set_nothing, -2, 2},
        {"UnitNormalization", NN_SHAPE(3, 4, 6), set_nothing, -2, 2},
        {"PReLU", NN_SHAPE(3, 4, 5), set_nothing, -2, 2},
        {"LeakyReLU", NN_SHAPE(3, 7), set_nothing, -2, 2},
        {"ELU", NN_SHAPE(3, 7), set_nothing, -2, 2},
        {"ReLU", NN_SHAPE(3, 7), set_nothing, -2, 2},
        {"Softmax", NN_SHAPE(3, 7), set_nothing, -2, 2},
        {"SimpleRNN", NN_SHAPE(2, 5, 3), set_units, -1, 1},
        {"LSTM", NN_SHAPE(2, 5, 3), set_sequences, -1, 1},
        {"GRU", NN_SHAPE(2, 5, 3), set_units, -1, 1},
        {"Embedding", NN_SHAPE(3, 4), set_embedding, 0, 7},
        {"UpSampling2D", NN_SHAPE(2, 3, 4, 2), set_bilinear, -1, 1},
        {"Resizing", NN_SHAPE(2, 4, 6, 2), set_resizing, -1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_devices_agree(&cases[i], 9000 + 100 * (uint64_t)i);
}
