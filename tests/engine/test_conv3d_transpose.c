/* Conv3DTranspose: the layer (which runs the 2-D convolution kernels one kernel depth tap
 * at a time) against a naive double-precision reference written from the definition, a
 * scatter: every input cell (d, h, w) adds x · kernel[i, j, l, f, c] to output cell
 * (d·sd - pad + i·dd, h·sh - pad + j·dh, w·sw - pad + l·dw), with Keras' output sizes and
 * TensorFlow's padding (that of a 'same' convolution over the output), computed here
 * independently of the engine. Forward and every gradient across 'valid'/'same', strides,
 * kernels shorter than the stride, output_padding, dilation, both data formats; the
 * reference against central differences; Keras' shapes and explanation; the errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_harness.h"
#include "ref_conv.h"
#include "ref_layers.h"

/* Float layer against the double reference: values uniform in [-1, 1], an output sums at
 * most ~500 products, so float32 rounding is ~1e-6; atol 1e-5 with rtol 1e-4 leaves a
 * margin of ~10, while a wrong tap, plane or crop moves values by ~0.1. */
static const double LAYER_ATOL = 1e-5, LAYER_RTOL = 1e-4;
/* Reference backward against central differences in double (PyTorch gradcheck's). */
static const double GRADCHECK_ATOL = 1e-5, GRADCHECK_RTOL = 1e-3, GRADCHECK_EPS = 1e-6;

enum { NONE = NN_PAIR_NONE };

/* One case: axes in the order depth, height, width. */
typedef struct transpose_case {
    bool channels_first;
    int batch, size[3], channels, filters;
    int kernel[3], strides[3], dilation[3];
    bool same;
    int output_padding[3]; /* NONE in each: None */
    bool bias, training;
    nn_activation_kind activation;
} transpose_case;

/* ---- the naive reference ---- */

/* Keras' output size and TensorFlow's leading padding along one axis. */
static int axis_output(const transpose_case *c, int axis, int *pad)
{
    int in = c->size[axis], s = c->strides[axis];
    int extent = (c->kernel[axis] - 1) * c->dilation[axis] + 1;
    int out;
    if (c->output_padding[0] != NONE)
        out = (in - 1) * s + extent - 2 * (c->same ? extent / 2 : 0) + c->output_padding[axis];
    else if (c->same)
        out = in * s;
    else
        out = in * s + (extent > s ? extent - s : 0);
    int total = (in - 1) * s + extent - out;
    *pad = c->same && total > 0 ? total / 2 : 0;
    return out;
}

typedef struct case_counts {
    int out[3], pad[3];
    size_t in, out_count, kernel, in_spatial, out_spatial;
} case_counts;

static case_counts counts_of(const transpose_case *c)
{
    case_counts n;
    n.in_spatial = n.out_spatial = 1;
    for (int axis = 0; axis < 3; axis++) {
        n.out[axis] = axis_output(c, axis, &n.pad[axis]);
        cr_assert_gt(n.out[axis], 0);
        n.in_spatial *= (size_t)c->size[axis];
        n.out_spatial *= (size_t)n.out[axis];
    }
    n.in = (size_t)c->batch * n.in_spatial * (size_t)c->channels;
    n.out_count = (size_t)c->batch * n.out_spatial * (size_t)c->filters;
    n.kernel = (size_t)c->kernel[0] * (size_t)c->kernel[1] * (size_t)c->kernel[2] *
               (size_t)c->filters * (size_t)c->channels;
    return n;
}

static size_t at5(int i0, int i1, int i2, int i3, int i4, int n1, int n2, int n3, int n4)
{
    return ((((size_t)i0 * (size_t)n1 + (size_t)i1) * (size_t)n2 + (size_t)i2) * (size_t)n3 +
            (size_t)i3) * (size_t)n4 + (size_t)i4;
}

/* Runs the definition in channels-last: for every product inp[b, d, h, w, c] ·
 * kernel[i, j, l, f, c] that lands on out[b, od, oh, ow, f], calls visit with the three
 * flat indices. Cells landing outside the output are cropped. */
typedef void (*product_visit)(size_t out_index, size_t inp_index, size_t kernel_index,
                              void *context);

static void for_every_product(const transpose_case *c, product_visit visit, void *context)
{
    case_counts n = counts_of(c);
    const int *out = n.out;
    for (int b = 0; b < c->batch; b++)
        for (int d = 0; d < c->size[0]; d++)
            for (int h = 0; h < c->size[1]; h++)
                for (int w = 0; w < c->size[2]; w++)
                    for (int i = 0; i < c->kernel[0]; i++)
                        for (int j = 0; j < c->kernel[1]; j++)
                            for (int l = 0; l < c->kernel[2]; l++) {
                                int od = d * c->strides[0] - n.pad[0] + i * c->dilation[0];
                                int oh = h * c->strides[1] - n.pad[1] + j * c->dilation[1];
                                int ow = w * c->strides[2] - n.pad[2] + l * c->dilation[2];
                                if (od < 0 || od >= out[0] || oh < 0 || oh >= out[1] ||
                                    ow < 0 || ow >= out[2])
                                    continue;
                                for (int f = 0; f < c->filters; f++)
                                    for (int ch = 0; ch < c->channels; ch++)
                                        visit(at5(b, od, oh, ow, f, out[0], out[1], out[2],
                                                  c->filters),
                                              at5(b, d, h, w, ch, c->size[0], c->size[1],
                                                  c->size[2], c->channels),
                                              at5(i, j, l, f, ch, c->kernel[1], c->kernel[2],
                                                  c->filters, c->channels),
                                              context);
                            }
}

typedef struct reference_arrays {
    double *out, *dinp, *dkernel;
    const double *inp, *kernel, *dout;
} reference_arrays;

static void forward_product(size_t o, size_t i, size_t k, void *context)
{
    reference_arrays *r = context;
    r->out[o] += r->inp[i] * r->kernel[k];
}

static void backward_product(size_t o, size_t i, size_t k, void *context)
{
    reference_arrays *r = context;
    r->dinp[i] += r->dout[o] * r->kernel[k];
    r->dkernel[k] += r->dout[o] * r->inp[i];
}

/* out (B,OD,OH,OW,F) = bias (F, or NULL) + the transposed 3-D convolution of inp
 * (B,D,H,W,C) with kernel (KD,KH,KW,F,C). */
static void ref_conv3d_transpose_forward(double *out, const double *inp, const double *kernel,
                                         const double *bias, const transpose_case *c)
{
    case_counts n = counts_of(c);
    for (size_t i = 0; i < n.out_count; i++)
        out[i] = bias ? bias[i % (size_t)c->filters] : 0.0;
    reference_arrays r = {.out = out, .inp = inp, .kernel = kernel};
    for_every_product(c, forward_product, &r);
}

/* Gradients of sum(dout · out) for the forward above, each overwritten; dbias may be
 * NULL. */
static void ref_conv3d_transpose_backward(double *dinp, double *dkernel, double *dbias,
                                          const double *dout, const double *inp,
                                          const double *kernel, const transpose_case *c)
{
    case_counts n = counts_of(c);
    memset(dinp, 0, n.in * sizeof(double));
    memset(dkernel, 0, n.kernel * sizeof(double));
    if (dbias) {
        memset(dbias, 0, (size_t)c->filters * sizeof(double));
        for (size_t i = 0; i < n.out_count; i++)
            dbias[i % (size_t)c->filters] += dout[i];
    }
    reference_arrays r = {.dinp = dinp, .dkernel = dkernel, .inp = inp, .kernel = kernel,
                          .dout = dout};
    for_every_product(c, backward_product, &r);
}

/* ---- helpers ---- */

static void *checked_calloc(size_t count, size_t size)
{
    void *memory = calloc(count > 0 ? count : 1, size);
    cr_assert(memory != NULL);
    return memory;
}

static char *describe_case(const transpose_case *c, char *buf, size_t size)
{
    char padding[48] = "None";
    if (c->output_padding[0] != NONE)
        snprintf(padding, sizeof padding, "%dx%dx%d", c->output_padding[0],
                 c->output_padding[1], c->output_padding[2]);
    snprintf(buf, size,
             "%s B%d %dx%dx%dx%d -> %d, kernel %dx%dx%d, strides %dx%dx%d, dilation "
             "%dx%dx%d, %s, output_padding %s, %s, %s, %s",
             c->channels_first ? "channels_first" : "channels_last", c->batch, c->size[0],
             c->size[1], c->size[2], c->channels, c->filters, c->kernel[0], c->kernel[1],
             c->kernel[2], c->strides[0], c->strides[1], c->strides[2], c->dilation[0],
             c->dilation[1], c->dilation[2], c->same ? "same" : "valid", padding,
             c->bias ? "bias" : "no bias", c->training ? "training" : "inference",
             nn_activation_name(c->activation));
    return buf;
}

typedef struct worst_tracker {
    ts_comparison worst;
    char where[320];
    int compared;
} worst_tracker;

static void track(worst_tracker *tracker, ts_comparison comparison, const char *where)
{
    if (tracker->compared++ == 0 || comparison.worst_ratio > tracker->worst.worst_ratio) {
        tracker->worst = comparison;
        snprintf(tracker->where, sizeof tracker->where, "%s", where);
    }
}

static void report_and_assert(const char *what, const worst_tracker *tracker)
{
    char label[128];
    snprintf(label, sizeof label, "%s (%d arrays)", what, tracker->compared);
    ts_report(label, &tracker->worst);
    cr_assert(tracker->compared > 0, "%s: nothing compared", what);
    cr_assert(tracker->worst.ok, "%s: worst at %s: expected %.9g, got %.9g (error %.3e)", what,
              tracker->where, tracker->worst.expected, tracker->worst.actual,
              tracker->worst.worst_error);
}

static void set_triple(nn_layer *layer, const char *name, const int triple[3])
{
    memcpy(harness_arg(layer, name), triple, 3 * sizeof(int));
}

static nn_layer *make_transpose(int filters, int kd, int kh, int kw)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_conv3d_transpose_class), NN_OK);
    harness_set_int(layer, "filters", filters);
    set_triple(layer, "kernel_size", (const int[3]){kd, kh, kw});
    return layer;
}

static nn_layer *make_layer_for_case(const transpose_case *c)
{
    nn_layer *layer = make_transpose(c->filters, c->kernel[0], c->kernel[1], c->kernel[2]);
    set_triple(layer, "strides", c->strides);
    set_triple(layer, "dilation_rate", c->dilation);
    set_triple(layer, "output_padding", c->output_padding);
    harness_set_choice(layer, "padding", c->same ? "same" : "valid");
    harness_set_choice(layer, "data_format", c->channels_first ? "channels_first" : "channels_last");
    harness_set_bool(layer, "use_bias", c->bias);
    harness_set_activation(layer, nn_activation_default(c->activation));
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

static nn_shape case_input_shape(const transpose_case *c)
{
    return c->channels_first
               ? NN_SHAPE(c->batch, c->channels, c->size[0], c->size[1], c->size[2])
               : NN_SHAPE(c->batch, c->size[0], c->size[1], c->size[2], c->channels);
}

static nn_tensor *random_tensor(const nn_shape *shape, uint64_t seed)
{
    nn_tensor *tensor = harness_tensor(shape, NULL);
    ts_fill_uniform(nn_tensor_f32(tensor), nn_tensor_count(tensor), seed, -1.0f, 1.0f);
    return tensor;
}

/* Builds the layer and overwrites its weights with known random numbers. */
static void build_with_weights(nn_layer *layer, const nn_shape *input_shape, uint64_t seed)
{
    cr_assert_eq(nn_layer_build(layer, input_shape), NN_OK, "%s", nn_error_message());
    for (int i = 0; i < layer->param_count; i++)
        ts_fill_uniform(nn_tensor_f32(layer->params[i].value),
                        nn_tensor_count(layer->params[i].value), seed + (uint64_t)i, -1.0f,
                        1.0f);
}

/* A copy of n values in the case's layout as channels-last (or the reverse), in double. */
static double *to_last(const double *values, const transpose_case *c, int channels,
                       size_t spatial, size_t n)
{
    double *copy = checked_calloc(n, sizeof(double));
    if (c->channels_first)
        ref_to_channels_last(copy, values, c->batch, channels, (int)spatial);
    else
        memcpy(copy, values, n * sizeof(double));
    return copy;
}

static double *to_layout(const double *values, const transpose_case *c, int channels,
                         size_t spatial, size_t n)
{
    double *copy = checked_calloc(n, sizeof(double));
    if (c->channels_first)
        ref_to_channels_first(copy, values, c->batch, channels, (int)spatial);
    else
        memcpy(copy, values, n * sizeof(double));
    return copy;
}

/* What the layer should compute, in double: the reference in channels-last, then the
 * case's layout, then the activation over the last axis of that layout (Keras). */
typedef struct layer_expectation {
    case_counts n;
    double *preactivation, *output;   /* output layout */
    double *dinput, *dkernel, *dbias; /* input layout */
} layer_expectation;

static void expect_layer(layer_expectation *e, const transpose_case *c, const float *input,
                         const float *kernel, const float *bias, const float *doutput,
                         bool doutput_is_preactivation)
{
    e->n = counts_of(c);
    const case_counts *n = &e->n;
    double *inp = checked_calloc(n->in, sizeof(double));
    double *weights = checked_calloc(n->kernel, sizeof(double));
    double *offsets = checked_calloc((size_t)c->filters, sizeof(double));
    double *out_last = checked_calloc(n->out_count, sizeof(double));
    ts_to_double(inp, input, n->in);
    ts_to_double(weights, kernel, n->kernel);
    if (c->bias)
        ts_to_double(offsets, bias, (size_t)c->filters);
    double *inp_last = to_last(inp, c, c->channels, n->in_spatial, n->in);
    ref_conv3d_transpose_forward(out_last, inp_last, weights, c->bias ? offsets : NULL, c);
    e->preactivation = to_layout(out_last, c, c->filters, n->out_spatial, n->out_count);
    e->output = checked_calloc(n->out_count, sizeof(double));
    size_t axis = c->channels_first ? (size_t)n->out[2] : (size_t)c->filters;
    nn_activation activation = nn_activation_default(c->activation);
    ref_activation_forward(activation, e->output, e->preactivation, n->out_count, axis);

    e->dkernel = checked_calloc(n->kernel, sizeof(double));
    e->dbias = checked_calloc((size_t)c->filters, sizeof(double));
    if (doutput) {
        double *dy = checked_calloc(n->out_count, sizeof(double));
        double *dz = checked_calloc(n->out_count, sizeof(double));
        double *dinp_last = checked_calloc(n->in, sizeof(double));
        ts_to_double(dy, doutput, n->out_count);
        if (doutput_is_preactivation)
            memcpy(dz, dy, n->out_count * sizeof(double));
        else
            ref_activation_backward(activation, dz, dy, e->preactivation, n->out_count, axis);
        double *dz_last = to_last(dz, c, c->filters, n->out_spatial, n->out_count);
        ref_conv3d_transpose_backward(dinp_last, e->dkernel, e->dbias, dz_last, inp_last,
                                      weights, c);
        e->dinput = to_layout(dinp_last, c, c->channels, n->in_spatial, n->in);
        free(dy);
        free(dz);
        free(dz_last);
        free(dinp_last);
    } else {
        e->dinput = checked_calloc(n->in, sizeof(double));
    }
    free(inp);
    free(inp_last);
    free(weights);
    free(offsets);
    free(out_last);
}

static void expectation_free(layer_expectation *e)
{
    free(e->preactivation);
    free(e->output);
    free(e->dinput);
    free(e->dkernel);
    free(e->dbias);
}

/* ---- the reference against finite differences ---- */

typedef enum { VARIABLE_INPUT, VARIABLE_KERNEL, VARIABLE_BIAS } variable;

typedef struct objective {
    const transpose_case *c;
    variable which;
    const double *inp, *kernel, *bias, *dout;
    double *out;
} objective;

/* sum(dout · conv3d_transpose(inp, kernel, bias)) with the chosen variable replaced by
 * x. */
static double objective_value(const double *x, size_t count, void *context)
{
    (void)count;
    objective *o = context;
    ref_conv3d_transpose_forward(o->out, o->which == VARIABLE_INPUT ? x : o->inp,
                                 o->which == VARIABLE_KERNEL ? x : o->kernel,
                                 o->which == VARIABLE_BIAS ? x : o->bias, o->c);
    case_counts n = counts_of(o->c);
    double total = 0.0;
    for (size_t i = 0; i < n.out_count; i++)
        total += o->dout[i] * o->out[i];
    return total;
}

Test(conv3d_transpose_reference, backward_matches_finite_differences)
{
    /* channels-last only: the reference is; the layout is the layer's business */
    static const transpose_case cases[] = {
        /*        B  D  H  W    C  F  kernel     strides    dilation   same  output_padding */
        {false, 2, {3, 2, 3}, 2, 3, {2, 2, 3}, {1, 1, 1}, {1, 1, 1}, false, {NONE, NONE, NONE},
         true, true, 0},
        {false, 1, {3, 3, 2}, 3, 2, {3, 2, 2}, {2, 1, 2}, {1, 1, 1}, true, {NONE, NONE, NONE},
         true, true, 0},
        {false, 1, {2, 3, 3}, 2, 2, {3, 3, 2}, {2, 2, 1}, {1, 1, 1}, true, {1, 0, 0}, true,
         true, 0},
        {false, 2, {3, 2, 2}, 2, 3, {2, 1, 3}, {1, 1, 1}, {2, 1, 2}, false, {NONE, NONE, NONE},
         true, true, 0},
        {false, 1, {2, 2, 3}, 1, 2, {1, 2, 2}, {3, 2, 3}, {1, 1, 1}, false, {2, 1, 0}, true,
         true, 0},
    };
    worst_tracker trackers[3];
    memset(trackers, 0, sizeof trackers);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const transpose_case *c = &cases[i];
        case_counts n = counts_of(c);
        char where[320];
        describe_case(c, where, sizeof where);
        double *inp = checked_calloc(n.in, sizeof(double));
        double *kernel = checked_calloc(n.kernel, sizeof(double));
        double *bias = checked_calloc((size_t)c->filters, sizeof(double));
        double *dout = checked_calloc(n.out_count, sizeof(double));
        ts_fill_uniform_double(inp, n.in, 70 + i, -1.0, 1.0);
        ts_fill_uniform_double(kernel, n.kernel, 80 + i, -1.0, 1.0);
        ts_fill_uniform_double(bias, (size_t)c->filters, 90 + i, -1.0, 1.0);
        ts_fill_uniform_double(dout, n.out_count, 100 + i, -1.0, 1.0);
        double *dinp = checked_calloc(n.in, sizeof(double));
        double *dkernel = checked_calloc(n.kernel, sizeof(double));
        double *dbias = checked_calloc((size_t)c->filters, sizeof(double));
        ref_conv3d_transpose_backward(dinp, dkernel, dbias, dout, inp, kernel, c);
        double *variables[] = {inp, kernel, bias};
        const double *analytic[] = {dinp, dkernel, dbias};
        size_t sizes[] = {n.in, n.kernel, (size_t)c->filters};
        for (int v = 0; v < 3; v++) {
            double *numeric = checked_calloc(sizes[v], sizeof(double));
            objective o = {c, (variable)v, inp, kernel, bias, dout,
                           checked_calloc(n.out_count, sizeof(double))};
            ts_numeric_gradient(objective_value, &o, variables[v], sizes[v], GRADCHECK_EPS,
                                numeric);
            track(&trackers[v],
                  ts_compare_double(analytic[v], numeric, sizes[v], GRADCHECK_ATOL,
                                    GRADCHECK_RTOL),
                  where);
            free(o.out);
            free(numeric);
        }
        void *buffers[] = {inp, kernel, bias, dout, dinp, dkernel, dbias};
        for (size_t b = 0; b < sizeof buffers / sizeof buffers[0]; b++)
            free(buffers[b]);
    }
    report_and_assert("conv3d_transpose reference dinp vs finite differences", &trackers[0]);
    report_and_assert("conv3d_transpose reference dkernel vs finite differences", &trackers[1]);
    report_and_assert("conv3d_transpose reference dbias vs finite differences", &trackers[2]);
}

/* The reference's sizes by hand, so that it is not checked against itself only. */
Test(conv3d_transpose_reference, sizes_and_padding_as_keras_and_tensorflow)
{
    transpose_case c = {false, 1, {4, 5, 3}, 1, 1, {3, 4, 2}, {2, 2, 3}, {1, 1, 1}, true,
                        {NONE, NONE, NONE}, true, true, 0};
    case_counts n = counts_of(&c);
    /* 'same': input * stride; padding (in - 1) * s + k - out, the smaller half first */
    cr_assert_eq(n.out[0], 8);
    cr_assert_eq(n.out[1], 10);
    cr_assert_eq(n.out[2], 9);
    cr_assert_eq(n.pad[0], 0); /* (4 - 1)·2 + 3 - 8 = 1: none before, 1 after */
    cr_assert_eq(n.pad[1], 1); /* 4·2 + 4 - 10 = 2 */
    cr_assert_eq(n.pad[2], 0); /* 2·3 + 2 - 9 < 0 */
    c.same = false;
    n = counts_of(&c);
    cr_assert_eq(n.out[0], 9);  /* 4·2 + max(3 - 2, 0) */
    cr_assert_eq(n.out[1], 12); /* 5·2 + max(4 - 2, 0) */
    cr_assert_eq(n.out[2], 9);  /* 3·3 + max(2 - 3, 0) */
    c.output_padding[0] = 1, c.output_padding[1] = 0, c.output_padding[2] = 2;
    n = counts_of(&c);
    cr_assert_eq(n.out[0], 10); /* (4 - 1)·2 + 3 + 1 */
    cr_assert_eq(n.out[1], 12); /* (5 - 1)·2 + 4 + 0 */
    cr_assert_eq(n.out[2], 10); /* (3 - 1)·3 + 2 + 2 */
}

/* ---- the layer against the reference ---- */

static const transpose_case layer_cases[] = {
    /* first  B  D  H  W    C  F  kernel     strides    dilation   same  output_padding
     *                                                                    bias  train activation */
    {false, 2, {3, 4, 3}, 3, 4, {3, 2, 3}, {1, 1, 1}, {1, 1, 1}, false, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_LINEAR},
    {true, 2, {3, 4, 3}, 3, 4, {3, 2, 3}, {1, 1, 1}, {1, 1, 1}, false, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_RELU},
    /* strides, 'same' (the odd kernel's extra planes cropped at the back) */
    {false, 2, {3, 3, 4}, 2, 3, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, true, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_TANH},
    {true, 2, {3, 3, 4}, 2, 3, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, true, {NONE, NONE, NONE},
     false, true, NN_ACTIVATION_TANH},
    /* even kernels, 'same', strides per axis */
    {false, 1, {4, 3, 2}, 3, 2, {4, 2, 2}, {2, 1, 3}, {1, 1, 1}, true, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_SIGMOID},
    {true, 2, {3, 2, 3}, 2, 2, {2, 3, 4}, {3, 2, 1}, {1, 1, 1}, false, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_ELU},
    /* kernels shorter than the stride: planes of bias only between the taps' */
    {false, 2, {3, 3, 2}, 2, 3, {2, 1, 2}, {3, 2, 3}, {1, 1, 1}, false, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_LINEAR},
    {true, 1, {3, 2, 3}, 3, 2, {1, 2, 1}, {2, 3, 2}, {1, 1, 1}, true, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_SWISH},
    /* output_padding, 'valid' and 'same', 0 not being None */
    {false, 2, {3, 3, 3}, 2, 3, {3, 2, 3}, {2, 2, 3}, {1, 1, 1}, false, {1, 0, 2}, true, true,
     NN_ACTIVATION_LINEAR},
    {true, 2, {3, 3, 3}, 2, 3, {3, 2, 3}, {2, 2, 3}, {1, 1, 1}, true, {1, 1, 0}, true, true,
     NN_ACTIVATION_RELU},
    {false, 1, {2, 4, 3}, 3, 2, {4, 3, 2}, {3, 2, 2}, {1, 1, 1}, true, {2, 1, 1}, true, true,
     NN_ACTIVATION_GELU},
    {false, 2, {3, 3, 2}, 2, 2, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, true, {0, 0, 0}, true, true,
     NN_ACTIVATION_LINEAR},
    /* dilation along each axis */
    {false, 2, {4, 3, 3}, 2, 3, {3, 2, 2}, {1, 1, 1}, {2, 2, 1}, false, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_GELU},
    {true, 2, {4, 3, 3}, 2, 3, {2, 2, 3}, {1, 1, 1}, {3, 1, 2}, true, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_LEAKY_RELU},
    /* softmax over the filters (channels last) or the width (channels first) */
    {false, 2, {3, 2, 3}, 3, 5, {2, 2, 2}, {2, 1, 1}, {1, 1, 1}, true, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_SOFTMAX},
    {true, 2, {3, 2, 3}, 3, 5, {3, 1, 2}, {1, 2, 1}, {1, 1, 1}, false, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_SOFTMAX},
    /* a kernel one deep: with depth stride 1 the taps' planes are the whole output */
    {false, 3, {3, 4, 3}, 2, 3, {1, 3, 3}, {1, 2, 1}, {1, 1, 1}, true, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_RELU},
    {true, 2, {3, 4, 3}, 2, 3, {1, 2, 2}, {1, 1, 1}, {1, 1, 1}, false, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_LINEAR},
    {false, 2, {3, 2, 2}, 2, 2, {1, 2, 2}, {2, 1, 1}, {1, 1, 1}, false, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_LINEAR},
    /* one input plane with a depth stride (the taps' view steps by 1) */
    {false, 2, {1, 3, 3}, 2, 3, {2, 2, 2}, {3, 1, 2}, {1, 1, 1}, false, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_TANH},
    {true, 2, {1, 3, 3}, 2, 3, {3, 2, 3}, {2, 2, 1}, {1, 1, 1}, true, {1, 1, 0}, true,
     true, NN_ACTIVATION_LINEAR},
    /* 'same' with a kernel larger than the output */
    {false, 2, {2, 1, 2}, 2, 3, {5, 4, 3}, {1, 1, 1}, {1, 1, 1}, true, {NONE, NONE, NONE},
     true, true, NN_ACTIVATION_ELU},
    /* inference only */
    {false, 2, {3, 3, 3}, 2, 4, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, true, {NONE, NONE, NONE},
     true, false, NN_ACTIVATION_SIGMOID},
};

Test(conv3d_transpose_layer, forward_and_backward_match_reference_in_both_data_formats)
{
    worst_tracker output_tracker = {0}, dinput_tracker = {0}, dkernel_tracker = {0},
                  dbias_tracker = {0};
    int count = (int)(sizeof layer_cases / sizeof layer_cases[0]);
    for (int i = 0; i < count; i++) {
        transpose_case c = layer_cases[i];
        char where[320];
        describe_case(&c, where, sizeof where);
        nn_layer *layer = make_layer_for_case(&c);
        nn_shape input_shape = case_input_shape(&c);
        build_with_weights(layer, &input_shape, 300 + (uint64_t)i);
        cr_assert_eq(layer->param_count, c.bias ? 2 : 1, "%s", where);
        nn_tensor *input = random_tensor(&input_shape, 400 + (uint64_t)i);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, input, c.training, NULL), NN_OK, "%s: %s",
                     where, nn_error_message());
        nn_tensor *doutput = random_tensor(&run.output->shape, 500 + (uint64_t)i);
        const float *bias = c.bias ? nn_tensor_f32(layer->params[1].value) : NULL;
        layer_expectation e;
        expect_layer(&e, &c, nn_tensor_f32(input), nn_tensor_f32(layer->params[0].value), bias,
                     c.training ? nn_tensor_f32(doutput) : NULL, false);
        cr_assert_eq(nn_tensor_count(run.output), e.n.out_count, "%s", where);
        track(&output_tracker,
              ts_compare(nn_tensor_f32(run.output), e.output, e.n.out_count, LAYER_ATOL,
                         LAYER_RTOL),
              where);
        if (c.training) {
            nn_tensor *dinput = harness_tensor(&input_shape, NULL);
            /* Stale values must not leak into the gradients, which are overwritten. */
            nn_tensor_fill(dinput, 7.0);
            for (int p = 0; p < layer->param_count; p++)
                nn_tensor_fill(layer->params[p].grad, 7.0);
            cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, false), NN_OK,
                         "%s: %s", where, nn_error_message());
            track(&dinput_tracker,
                  ts_compare(nn_tensor_f32(dinput), e.dinput, e.n.in, LAYER_ATOL, LAYER_RTOL),
                  where);
            track(&dkernel_tracker,
                  ts_compare(nn_tensor_f32(layer->params[0].grad), e.dkernel, e.n.kernel,
                             LAYER_ATOL, LAYER_RTOL),
                  where);
            if (c.bias)
                track(&dbias_tracker,
                      ts_compare(nn_tensor_f32(layer->params[1].grad), e.dbias,
                                 (size_t)c.filters, LAYER_ATOL, LAYER_RTOL),
                      where);
            nn_tensor_free(dinput);
        }
        expectation_free(&e);
        nn_tensor_free(doutput);
        nn_tensor_free(input);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
    report_and_assert("Conv3DTranspose layer forward vs reference", &output_tracker);
    report_and_assert("Conv3DTranspose layer dinput vs reference", &dinput_tracker);
    report_and_assert("Conv3DTranspose layer dkernel vs reference", &dkernel_tracker);
    report_and_assert("Conv3DTranspose layer dbias vs reference", &dbias_tracker);
}

/* As the first layer of a model: no input gradient is asked for, and the weights' are
 * the same as when it is. */
Test(conv3d_transpose_layer, first_layer_without_input_gradient_gives_the_same_weight_gradients)
{
    for (int first = 0; first < 2; first++) {
        transpose_case c = {first, 2, {3, 3, 2}, 2, 3, {3, 2, 2}, {2, 1, 2}, {1, 1, 1}, true,
                            {NONE, NONE, NONE}, true, true, NN_ACTIVATION_TANH};
        nn_layer *layer = make_layer_for_case(&c);
        nn_shape input_shape = case_input_shape(&c);
        build_with_weights(layer, &input_shape, 61);
        nn_tensor *input = random_tensor(&input_shape, 62);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, input, true, NULL), NN_OK, "%s",
                     nn_error_message());
        nn_tensor *doutput = random_tensor(&run.output->shape, 63);
        cr_assert_eq(harness_backward(&run, layer, input, doutput, NULL, false), NN_OK, "%s",
                     nn_error_message());
        layer_expectation e;
        expect_layer(&e, &c, nn_tensor_f32(input), nn_tensor_f32(layer->params[0].value),
                     nn_tensor_f32(layer->params[1].value), nn_tensor_f32(doutput), false);
        ts_comparison dkernel = ts_compare(nn_tensor_f32(layer->params[0].grad), e.dkernel,
                                           e.n.kernel, LAYER_ATOL, LAYER_RTOL);
        ts_comparison dbias = ts_compare(nn_tensor_f32(layer->params[1].grad), e.dbias,
                                         (size_t)c.filters, LAYER_ATOL, LAYER_RTOL);
        cr_assert(dkernel.ok, "dkernel off by %.3e", dkernel.worst_error);
        cr_assert(dbias.ok, "dbias off by %.3e", dbias.worst_error);
        expectation_free(&e);
        nn_tensor_free(doutput);
        nn_tensor_free(input);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
}

/* As the model's last layer: forward hands out the logits (pre-activation), and backward
 * receives a gradient already taken through the activation. */
Test(conv3d_transpose_layer, last_layer_gives_logits_and_takes_preactivation_gradient)
{
    for (int first = 0; first < 2; first++) {
        transpose_case c = {first, 2, {2, 3, 2}, 3, 4, {2, 3, 2}, {2, 1, 1}, {1, 1, 1}, true,
                            {NONE, NONE, NONE}, true, true, NN_ACTIVATION_SOFTMAX};
        char where[320];
        describe_case(&c, where, sizeof where);
        nn_layer *layer = make_layer_for_case(&c);
        nn_shape input_shape = case_input_shape(&c);
        build_with_weights(layer, &input_shape, 42);
        nn_tensor *input = random_tensor(&input_shape, 43);
        case_counts n = counts_of(&c);
        float *logits = checked_calloc(n.out_count, sizeof(float));
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, input, true, logits), NN_OK, "%s",
                     nn_error_message());
        nn_tensor *doutput = random_tensor(&run.output->shape, 44);
        nn_tensor *dinput = harness_tensor(&input_shape, NULL);
        cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, true), NN_OK, "%s",
                     nn_error_message());
        layer_expectation e;
        expect_layer(&e, &c, nn_tensor_f32(input), nn_tensor_f32(layer->params[0].value),
                     nn_tensor_f32(layer->params[1].value), nn_tensor_f32(doutput), true);
        ts_comparison checks[] = {
            ts_compare(logits, e.preactivation, n.out_count, LAYER_ATOL, LAYER_RTOL),
            ts_compare(nn_tensor_f32(run.output), e.output, n.out_count, LAYER_ATOL, LAYER_RTOL),
            ts_compare(nn_tensor_f32(dinput), e.dinput, n.in, LAYER_ATOL, LAYER_RTOL),
            ts_compare(nn_tensor_f32(layer->params[0].grad), e.dkernel, n.kernel, LAYER_ATOL,
                       LAYER_RTOL)};
        const char *names[] = {"logits", "output", "dinput", "dkernel"};
        for (int i = 0; i < 4; i++)
            cr_assert(checks[i].ok, "%s: %s off by %.3e (expected %.9g, got %.9g)", where,
                      names[i], checks[i].worst_error, checks[i].expected, checks[i].actual);
        expectation_free(&e);
        free(logits);
        nn_tensor_free(doutput);
        nn_tensor_free(dinput);
        nn_tensor_free(input);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
}

/* ---- shapes, explanation, weights ---- */

Test(conv3d_transpose_layer, shapes_explanation_and_parameters_as_keras)
{
    nn_shape input_shape = NN_SHAPE(2, 4, 8, 8, 16);
    nn_tensor *x = random_tensor(&input_shape, 1);
    char text[96];
    nn_layer *same = make_transpose(8, 3, 3, 3);
    set_triple(same, "strides", (const int[3]){2, 2, 2});
    harness_set_choice(same, "padding", "same");
    cr_assert_eq(nn_layer_finish(same), NN_OK, "%s", nn_error_message());
    nn_tensor *y = NULL;
    cr_assert_eq(nn_layer_call(same, x, false, &y), NN_OK, "%s", nn_error_message());
    cr_assert_str_eq(nn_shape_format(&y->shape, text, sizeof text), "(2, 8, 16, 16, 8)");
    cr_assert_str_eq(nn_shape_format(&nn_layer_param(same, "kernel")->shape, text, sizeof text),
                     "(3, 3, 3, 8, 16)");
    cr_assert_str_eq(nn_shape_format(&nn_layer_param(same, "bias")->shape, text, sizeof text),
                     "(8,)");
    cr_assert_eq(nn_layer_count_params(same, true), 3 * 3 * 3 * 8 * 16 + 8);
    cr_assert_str_eq(same->explanation,
                     "depth: 4 * 2 = 8; height: 8 * 2 = 16; width: 8 * 2 = 16; channels: "
                     "filters = 8");
    nn_tensor_free(y);
    nn_layer_release(same);

    /* valid, strides and output_padding per axis, channels first */
    nn_layer *padded = make_transpose(6, 2, 3, 1);
    set_triple(padded, "strides", (const int[3]){3, 1, 2});
    set_triple(padded, "output_padding", (const int[3]){2, 0, 1});
    harness_set_choice(padded, "data_format", "channels_first");
    cr_assert_eq(nn_layer_finish(padded), NN_OK, "%s", nn_error_message());
    nn_shape first = NN_SHAPE(-1, 3, 5, 7, 4);
    cr_assert_eq(nn_layer_build(padded, &first), NN_OK, "%s", nn_error_message());
    cr_assert_str_eq(nn_shape_format(&padded->output_shape, text, sizeof text),
                     "(None, 6, 16, 9, 8)");
    cr_assert_str_eq(nn_shape_format(&nn_layer_param(padded, "kernel")->shape, text,
                                     sizeof text),
                     "(2, 3, 1, 6, 3)");
    cr_assert_str_eq(padded->explanation,
                     "depth: (5 - 1) * 3 + 2 - 2 * 0 + 2 = 16; height: (7 - 1) * 1 + 3 - 2 * 0 "
                     "+ 0 = 9; width: (4 - 1) * 2 + 1 - 2 * 0 + 1 = 8; channels: filters = 6");
    nn_layer_release(padded);

    /* valid without output_padding: kernels longer and shorter than the stride */
    nn_layer *valid = make_transpose(2, 3, 1, 2);
    set_triple(valid, "strides", (const int[3]){2, 3, 1});
    cr_assert_eq(nn_layer_finish(valid), NN_OK, "%s", nn_error_message());
    nn_shape small = NN_SHAPE(-1, 4, 5, 6, 1);
    cr_assert_eq(nn_layer_build(valid, &small), NN_OK, "%s", nn_error_message());
    cr_assert_str_eq(nn_shape_format(&valid->output_shape, text, sizeof text),
                     "(None, 9, 15, 7, 2)");
    cr_assert_str_eq(valid->explanation,
                     "depth: 4 * 2 + max(3 - 2, 0) = 9; height: 5 * 3 + max(1 - 3, 0) = 15; "
                     "width: 6 * 1 + max(2 - 1, 0) = 7; channels: filters = 2");
    nn_layer_release(valid);
    nn_tensor_free(x);
}

Test(conv3d_transpose_layer, glorot_uniform_counts_the_whole_receptive_field_in_its_fans)
{
    /* Keras: for a kernel (kd, kh, kw, F, C) fan_in = kd·kh·kw·F, fan_out = kd·kh·kw·C
     * (its last two axes read as (in, out)); the limit sqrt(6 / (fan_in + fan_out)) is
     * symmetric in them. */
    nn_layer *layer = make_transpose(16, 3, 2, 4);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, 4, 4, 4, 4);
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK, "%s", nn_error_message());
    double receptive = 3 * 2 * 4, limit = sqrt(6.0 / (receptive * 16 + receptive * 4));
    const nn_tensor *kernel = layer->params[0].value;
    double largest = 0.0, sum_squares = 0.0;
    size_t n = nn_tensor_count(kernel);
    for (size_t i = 0; i < n; i++) {
        double w = nn_tensor_f32(kernel)[i];
        largest = fmax(largest, fabs(w));
        sum_squares += w * w;
    }
    cr_assert_leq(largest, limit * (1 + 1e-6), "a weight %.6f past the limit %.6f", largest, limit);
    cr_assert_geq(largest, limit * 0.98, "largest %.6f far below the limit %.6f", largest, limit);
    double variance = sum_squares / (double)n;
    cr_assert(fabs(variance / (limit * limit / 3.0) - 1.0) < 0.1, "variance %.6g, expected %.6g",
              variance, limit * limit / 3.0);
    nn_layer_release(layer);
}

/* ---- errors ---- */

Test(conv3d_transpose_errors, output_padding_must_be_below_the_strides)
{
    nn_layer *layer = make_transpose(4, 3, 3, 3);
    set_triple(layer, "strides", (const int[3]){2, 2, 1});
    set_triple(layer, "output_padding", (const int[3]){1, 1, 1});
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "Conv3DTranspose",
                    "output_padding must be smaller than the strides along each axis",
                    "output_padding=(1, 1, 1)", "strides=(2, 2, 1)");
    nn_layer_release(layer);
}

Test(conv3d_transpose_errors, strides_with_dilation_are_rejected)
{
    nn_layer *layer = make_transpose(4, 3, 3, 3);
    set_triple(layer, "strides", (const int[3]){2, 1, 1});
    set_triple(layer, "dilation_rate", (const int[3]){1, 1, 2});
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "Conv3DTranspose", "strides > 1", "dilation_rate > 1",
                    "strides=(2, 1, 1)", "dilation_rate=(1, 1, 2)");
    nn_layer_release(layer);
}

Test(conv3d_transpose_errors, wrong_rank_names_expected_and_received)
{
    nn_layer *layer = make_transpose(4, 3, 3, 3);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(2, 28, 28, 3);
    nn_tensor *x = harness_tensor(&input, NULL);
    nn_tensor *y = NULL;
    cr_assert_eq(nn_layer_call(layer, x, false, &y), NN_ERR_SHAPE);
    cr_assert_null(y);
    ASSERT_MENTIONS(nn_error_message(), "conv3d_transpose", "expected ndim=5",
                    "(batch, depth, height, width, channels)", "found ndim=4",
                    "(None, 28, 28, 3)");
    nn_tensor_free(x);
    nn_layer_release(layer);
}

Test(conv3d_transpose_errors, outputs_the_convolution_does_not_map_back_are_refused)
{
    /* 'same', kernel 4, stride 3, output_padding 2 along the height: (3 - 1)·3 + 4 - 4 + 2
     * = 8 rows, which a 'same' convolution of stride 3 maps onto ceil(8 / 3) = 3 rows;
     * along the depth output_padding 0 gives (2 - 1)·3 + 4 - 4 + 0 = 3 planes, mapped onto
     * 1, not 2. */
    nn_layer *layer = make_transpose(2, 4, 4, 1);
    set_triple(layer, "strides", (const int[3]){3, 3, 1});
    set_triple(layer, "output_padding", (const int[3]){0, 2, 0});
    harness_set_choice(layer, "padding", "same");
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    nn_shape input = NN_SHAPE(-1, 2, 3, 3, 1);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "(None, 2, 3, 3, 1)", "(3, 8, 3, 2)",
                    "does not map back onto the input", "kernel_size=(4, 4, 1)",
                    "strides=(3, 3, 1)", "padding='same'", "leave output_padding None");
    cr_assert(!layer->built);
    nn_layer_release(layer);

    /* an even kernel on one plane with output_padding 0 leaves nothing */
    layer = make_transpose(2, 2, 1, 1);
    set_triple(layer, "strides", (const int[3]){2, 1, 1});
    set_triple(layer, "output_padding", (const int[3]){0, 0, 0});
    harness_set_choice(layer, "padding", "same");
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    nn_shape flat = NN_SHAPE(-1, 1, 3, 3, 1);
    cr_assert_eq(nn_layer_build(layer, &flat), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "(None, 1, 3, 3, 1)", "an output of (0, 3, 3, 2)",
                    "depth: (1 - 1) * 2 + 2 - 2 * 1 + 0 = 0", "every size must be positive");
    nn_layer_release(layer);
}

Test(conv3d_transpose_errors, sizes_whose_product_overflows_fail_cleanly)
{
    nn_layer *layer = make_transpose(1 << 20, 1 << 10, 1 << 10, 1 << 10);
    harness_set_choice(layer, "padding", "same");
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    nn_shape input = NN_SHAPE(-1, 4, 4, 4, 3);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_MEMORY);
    ASSERT_MENTIONS(nn_error_message(), "kernel (1024, 1024, 1024, 1048576, 3)", "more than");
    cr_assert_eq(layer->param_count, 0);
    nn_layer_release(layer);

    /* An output sample past 2^31 elements: 1024 × 1024 × 1024 input, strides 2. */
    layer = make_transpose(1, 1, 1, 1);
    set_triple(layer, "strides", (const int[3]){2, 2, 2});
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape huge = NN_SHAPE(-1, 1024, 1024, 1024, 1);
    cr_assert_eq(nn_layer_build(layer, &huge), NN_ERR_MEMORY);
    ASSERT_MENTIONS(nn_error_message(), "one sample of input (None, 1024, 1024, 1024, 1)",
                    "(2048, 2048, 2048, 1)", "more than");
    nn_layer_release(layer);

    /* The output fits, the padded one does not: a kernel 2^15 deep on 2^15 x 2^15 x 1 planes
     * one deep ('same', so the output is 1 x 2^15 x 2^15 x 1). */
    layer = make_transpose(1, 1 << 15, 2, 1);
    harness_set_choice(layer, "padding", "same");
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape wide = NN_SHAPE(-1, 1, 1 << 15, 1 << 15, 1);
    cr_assert_eq(nn_layer_build(layer, &wide), NN_ERR_MEMORY);
    ASSERT_MENTIONS(nn_error_message(), "one padded output sample", "32768 planes deep",
                    "more than");
    nn_layer_release(layer);
}
