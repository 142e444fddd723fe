/* Conv3D: the layer (which runs the 2-D kernels one kernel depth tap at a time) against a
 * naive double-precision 3-D reference, forward and backward, across 'valid'/'same',
 * strides, dilation, groups, both data formats, odd sizes and batches; that reference
 * against central differences; Keras' shapes, explanation and initializer fans; and its
 * errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_harness.h"
#include "ref_conv.h"
#include "ref_layers.h"

/* Float layer against the double reference: inputs and weights uniform in [-1, 1], an
 * output sums at most ~600 products, so float32 rounding is ~1e-6; atol 1e-5 with rtol
 * 1e-4 leaves a margin of ~10, while a wrong tap, a missed pad or a swapped group moves
 * values by ~0.1. */
static const double LAYER_ATOL = 1e-5, LAYER_RTOL = 1e-4;
/* Reference backward against central differences in double (PyTorch gradcheck's). */
static const double GRADCHECK_ATOL = 1e-5, GRADCHECK_RTOL = 1e-3, GRADCHECK_EPS = 1e-6;

/* ---- the naive reference ---- */

/* One case's sizes: axes in the order depth, height, width. */
typedef struct volume_case {
    bool channels_first;
    int batch, size[3], channels, filters;
    int kernel[3], strides[3], dilation[3], groups;
    bool same, bias, training;
    nn_activation_kind activation;
} volume_case;

/* The output sizes and leading padding of a case, by ref_window_output; false when the
 * window does not fit. */
static bool case_output(const volume_case *c, int out[3], int pad[3])
{
    for (int axis = 0; axis < 3; axis++) {
        out[axis] = ref_window_output(c->size[axis], c->kernel[axis], c->strides[axis],
                                      c->dilation[axis], c->same, &pad[axis]);
        if (out[axis] <= 0)
            return false;
    }
    return true;
}

static size_t at5(int i0, int i1, int i2, int i3, int i4, int n1, int n2, int n3, int n4)
{
    return ((((size_t)i0 * (size_t)n1 + (size_t)i1) * (size_t)n2 + (size_t)i2) * (size_t)n3 +
            (size_t)i3) * (size_t)n4 + (size_t)i4;
}

/* Runs the definition in channels-last: for every product inp[b, z, y, x, c] ·
 * kernel[kd, kh, kw, ci, oc] that feeds out[b, od, oh, ow, oc], calls visit with the three
 * flat indices. Padding cells are skipped (they read zero). */
typedef void (*tap_visit)(size_t out_index, size_t inp_index, size_t kernel_index,
                          void *context);

static void for_every_product(const volume_case *c, tap_visit visit, void *context)
{
    int out[3], pad[3];
    cr_assert(case_output(c, out, pad));
    int group_in = c->channels / c->groups, group_out = c->filters / c->groups;
    for (int b = 0; b < c->batch; b++)
        for (int od = 0; od < out[0]; od++)
            for (int oh = 0; oh < out[1]; oh++)
                for (int ow = 0; ow < out[2]; ow++)
                    for (int oc = 0; oc < c->filters; oc++) {
                        int group = oc / group_out;
                        size_t o = at5(b, od, oh, ow, oc, out[0], out[1], out[2], c->filters);
                        for (int kd = 0; kd < c->kernel[0]; kd++)
                            for (int kh = 0; kh < c->kernel[1]; kh++)
                                for (int kw = 0; kw < c->kernel[2]; kw++) {
                                    int z = od * c->strides[0] - pad[0] + kd * c->dilation[0];
                                    int y = oh * c->strides[1] - pad[1] + kh * c->dilation[1];
                                    int x = ow * c->strides[2] - pad[2] + kw * c->dilation[2];
                                    if (z < 0 || z >= c->size[0] || y < 0 || y >= c->size[1] ||
                                        x < 0 || x >= c->size[2])
                                        continue;
                                    for (int ci = 0; ci < group_in; ci++) {
                                        size_t i = at5(b, z, y, x, group * group_in + ci,
                                                       c->size[0], c->size[1], c->size[2],
                                                       c->channels);
                                        size_t k = at5(kd, kh, kw, ci, oc, c->kernel[1],
                                                       c->kernel[2], group_in, c->filters);
                                        visit(o, i, k, context);
                                    }
                                }
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

typedef struct case_counts {
    size_t in, out, kernel, plane_out;
    int out_size[3];
} case_counts;

static case_counts counts_of(const volume_case *c)
{
    case_counts n;
    int pad[3];
    cr_assert(case_output(c, n.out_size, pad));
    n.in = (size_t)c->batch * (size_t)c->size[0] * (size_t)c->size[1] * (size_t)c->size[2] *
           (size_t)c->channels;
    n.plane_out = (size_t)n.out_size[0] * (size_t)n.out_size[1] * (size_t)n.out_size[2];
    n.out = (size_t)c->batch * n.plane_out * (size_t)c->filters;
    n.kernel = (size_t)c->kernel[0] * (size_t)c->kernel[1] * (size_t)c->kernel[2] *
               (size_t)(c->channels / c->groups) * (size_t)c->filters;
    return n;
}

/* out (B,OD,OH,OW,F) = bias (F, or NULL) + the 3-D convolution of inp (B,D,H,W,C) with
 * kernel (KD,KH,KW,C/G,F). */
static void ref_conv3d_forward(double *out, const double *inp, const double *kernel,
                               const double *bias, const volume_case *c)
{
    case_counts n = counts_of(c);
    for (size_t i = 0; i < n.out; i++)
        out[i] = bias ? bias[i % (size_t)c->filters] : 0.0;
    reference_arrays r = {.out = out, .inp = inp, .kernel = kernel};
    for_every_product(c, forward_product, &r);
}

/* Gradients of sum(dout · out) for the forward above, each overwritten; dbias may be
 * NULL. */
static void ref_conv3d_backward(double *dinp, double *dkernel, double *dbias, const double *dout,
                                const double *inp, const double *kernel, const volume_case *c)
{
    case_counts n = counts_of(c);
    memset(dinp, 0, n.in * sizeof(double));
    memset(dkernel, 0, n.kernel * sizeof(double));
    if (dbias) {
        memset(dbias, 0, (size_t)c->filters * sizeof(double));
        for (size_t i = 0; i < n.out; i++)
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

static char *describe_case(const volume_case *c, char *buf, size_t size)
{
    snprintf(buf, size,
             "%s B%d %dx%dx%dx%d -> %d, kernel %dx%dx%d, strides %dx%dx%d, dilation "
             "%dx%dx%d, groups %d, %s, %s, %s, %s",
             c->channels_first ? "channels_first" : "channels_last", c->batch, c->size[0],
             c->size[1], c->size[2], c->channels, c->filters, c->kernel[0], c->kernel[1],
             c->kernel[2], c->strides[0], c->strides[1], c->strides[2], c->dilation[0],
             c->dilation[1], c->dilation[2], c->groups, c->same ? "same" : "valid",
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

static nn_layer *make_conv3d(int filters, int kd, int kh, int kw)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_conv3d_class), NN_OK);
    harness_set_int(layer, "filters", filters);
    set_triple(layer, "kernel_size", (const int[3]){kd, kh, kw});
    return layer;
}

static nn_layer *make_layer_for_case(const volume_case *c)
{
    nn_layer *layer = make_conv3d(c->filters, c->kernel[0], c->kernel[1], c->kernel[2]);
    set_triple(layer, "strides", c->strides);
    set_triple(layer, "dilation_rate", c->dilation);
    harness_set_int(layer, "groups", c->groups);
    harness_set_choice(layer, "padding", c->same ? "same" : "valid");
    harness_set_choice(layer, "data_format", c->channels_first ? "channels_first" : "channels_last");
    harness_set_bool(layer, "use_bias", c->bias);
    harness_set_activation(layer, nn_activation_default(c->activation));
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

static nn_shape case_input_shape(const volume_case *c)
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

/* What the layer should compute, in double: the convolution in channels-last, then the
 * case's layout, then the activation over the last axis of that layout (Keras). */
typedef struct layer_expectation {
    case_counts n;
    double *preactivation, *output;   /* output layout */
    double *dinput, *dkernel, *dbias; /* input layout */
} layer_expectation;

static void expect_layer(layer_expectation *e, const volume_case *c, const float *input,
                         const float *kernel, const float *bias, const float *doutput,
                         bool doutput_is_preactivation)
{
    e->n = counts_of(c);
    const case_counts *n = &e->n;
    int in_spatial = c->size[0] * c->size[1] * c->size[2], out_spatial = (int)n->plane_out;
    double *inp = checked_calloc(n->in, sizeof(double));
    double *inp_last = checked_calloc(n->in, sizeof(double));
    double *weights = checked_calloc(n->kernel, sizeof(double));
    double *offsets = checked_calloc((size_t)c->filters, sizeof(double));
    double *out_last = checked_calloc(n->out, sizeof(double));
    ts_to_double(inp, input, n->in);
    ts_to_double(weights, kernel, n->kernel);
    if (c->bias)
        ts_to_double(offsets, bias, (size_t)c->filters);
    if (c->channels_first)
        ref_to_channels_last(inp_last, inp, c->batch, c->channels, in_spatial);
    else
        memcpy(inp_last, inp, n->in * sizeof(double));
    ref_conv3d_forward(out_last, inp_last, weights, c->bias ? offsets : NULL, c);
    e->preactivation = checked_calloc(n->out, sizeof(double));
    e->output = checked_calloc(n->out, sizeof(double));
    if (c->channels_first)
        ref_to_channels_first(e->preactivation, out_last, c->batch, c->filters, out_spatial);
    else
        memcpy(e->preactivation, out_last, n->out * sizeof(double));
    size_t axis = c->channels_first ? (size_t)n->out_size[2] : (size_t)c->filters;
    nn_activation activation = nn_activation_default(c->activation);
    ref_activation_forward(activation, e->output, e->preactivation, n->out, axis);

    e->dinput = checked_calloc(n->in, sizeof(double));
    e->dkernel = checked_calloc(n->kernel, sizeof(double));
    e->dbias = checked_calloc((size_t)c->filters, sizeof(double));
    if (doutput) {
        double *dy = checked_calloc(n->out, sizeof(double));
        double *dz = checked_calloc(n->out, sizeof(double));
        double *dz_last = checked_calloc(n->out, sizeof(double));
        double *dinp_last = checked_calloc(n->in, sizeof(double));
        ts_to_double(dy, doutput, n->out);
        if (doutput_is_preactivation)
            memcpy(dz, dy, n->out * sizeof(double));
        else
            ref_activation_backward(activation, dz, dy, e->preactivation, n->out, axis);
        if (c->channels_first)
            ref_to_channels_last(dz_last, dz, c->batch, c->filters, out_spatial);
        else
            memcpy(dz_last, dz, n->out * sizeof(double));
        ref_conv3d_backward(dinp_last, e->dkernel, e->dbias, dz_last, inp_last, weights, c);
        if (c->channels_first)
            ref_to_channels_first(e->dinput, dinp_last, c->batch, c->channels, in_spatial);
        else
            memcpy(e->dinput, dinp_last, n->in * sizeof(double));
        free(dy);
        free(dz);
        free(dz_last);
        free(dinp_last);
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
    const volume_case *c;
    variable which;
    const double *inp, *kernel, *bias, *dout;
    double *out;
} objective;

/* sum(dout · conv3d(inp, kernel, bias)) with the chosen variable replaced by x. */
static double objective_value(const double *x, size_t count, void *context)
{
    (void)count;
    objective *o = context;
    ref_conv3d_forward(o->out, o->which == VARIABLE_INPUT ? x : o->inp,
                       o->which == VARIABLE_KERNEL ? x : o->kernel,
                       o->which == VARIABLE_BIAS ? x : o->bias, o->c);
    case_counts n = counts_of(o->c);
    double total = 0.0;
    for (size_t i = 0; i < n.out; i++)
        total += o->dout[i] * o->out[i];
    return total;
}

Test(conv3d_reference, backward_matches_finite_differences)
{
    /* channels-last only: the reference is; the layout is the layer's business */
    static const volume_case cases[] = {
        /*       B  D H W     C  F  kernel     strides    dilation   G  same */
        {false, 2, {4, 3, 5}, 2, 3, {2, 2, 3}, {1, 1, 1}, {1, 1, 1}, 1, false, true, true, 0},
        {false, 1, {5, 4, 3}, 4, 4, {3, 2, 2}, {2, 1, 2}, {1, 1, 1}, 2, true, true, true, 0},
        {false, 2, {6, 3, 4}, 3, 3, {2, 3, 1}, {1, 1, 1}, {2, 1, 1}, 3, true, true, true, 0},
        {false, 1, {3, 5, 4}, 2, 2, {3, 3, 3}, {3, 2, 1}, {1, 1, 1}, 1, false, true, true, 0},
    };
    worst_tracker trackers[3];
    memset(trackers, 0, sizeof trackers);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const volume_case *c = &cases[i];
        case_counts n = counts_of(c);
        char where[320];
        describe_case(c, where, sizeof where);
        double *inp = checked_calloc(n.in, sizeof(double));
        double *kernel = checked_calloc(n.kernel, sizeof(double));
        double *bias = checked_calloc((size_t)c->filters, sizeof(double));
        double *dout = checked_calloc(n.out, sizeof(double));
        ts_fill_uniform_double(inp, n.in, 70 + i, -1.0, 1.0);
        ts_fill_uniform_double(kernel, n.kernel, 80 + i, -1.0, 1.0);
        ts_fill_uniform_double(bias, (size_t)c->filters, 90 + i, -1.0, 1.0);
        ts_fill_uniform_double(dout, n.out, 100 + i, -1.0, 1.0);
        double *dinp = checked_calloc(n.in, sizeof(double));
        double *dkernel = checked_calloc(n.kernel, sizeof(double));
        double *dbias = checked_calloc((size_t)c->filters, sizeof(double));
        ref_conv3d_backward(dinp, dkernel, dbias, dout, inp, kernel, c);
        double *variables[] = {inp, kernel, bias};
        const double *analytic[] = {dinp, dkernel, dbias};
        size_t sizes[] = {n.in, n.kernel, (size_t)c->filters};
        for (int v = 0; v < 3; v++) {
            double *numeric = checked_calloc(sizes[v], sizeof(double));
            objective o = {c, (variable)v, inp, kernel, bias, dout,
                           checked_calloc(n.out, sizeof(double))};
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
    report_and_assert("conv3d reference dinp vs finite differences", &trackers[0]);
    report_and_assert("conv3d reference dkernel vs finite differences", &trackers[1]);
    report_and_assert("conv3d reference dbias vs finite differences", &trackers[2]);
}

/* ---- the layer against the reference ---- */

static const volume_case layer_cases[] = {
    /* first  B  D  H  W     C  F  kernel     strides    dilation   G same  bias  train activation */
    {false, 3, {5, 4, 6}, 3, 4, {3, 2, 3}, {1, 1, 1}, {1, 1, 1}, 1, false, true, true,
     NN_ACTIVATION_LINEAR},
    {true, 3, {5, 4, 6}, 3, 4, {3, 2, 3}, {1, 1, 1}, {1, 1, 1}, 1, false, true, true,
     NN_ACTIVATION_RELU},
    {false, 2, {7, 5, 4}, 4, 6, {3, 3, 2}, {1, 1, 1}, {1, 1, 1}, 2, true, true, true,
     NN_ACTIVATION_TANH},
    {true, 2, {7, 5, 4}, 4, 6, {3, 3, 2}, {1, 1, 1}, {1, 1, 1}, 2, true, false, true,
     NN_ACTIVATION_TANH},
    /* depth strides: the padded depth rounded up to a multiple of the stride */
    {false, 2, {7, 5, 5}, 2, 3, {3, 2, 2}, {2, 2, 1}, {1, 1, 1}, 1, false, true, true,
     NN_ACTIVATION_SIGMOID},
    {true, 1, {7, 5, 5}, 2, 3, {2, 3, 2}, {3, 1, 2}, {1, 1, 1}, 1, true, true, true,
     NN_ACTIVATION_ELU},
    {false, 3, {8, 3, 4}, 3, 3, {4, 1, 3}, {3, 1, 1}, {1, 1, 1}, 3, true, true, true,
     NN_ACTIVATION_SWISH},
    {false, 1, {9, 4, 3}, 2, 2, {2, 2, 2}, {4, 1, 1}, {1, 1, 1}, 1, false, true, true,
     NN_ACTIVATION_LINEAR},
    /* dilation along each axis */
    {false, 2, {8, 6, 5}, 2, 4, {3, 2, 2}, {1, 1, 1}, {2, 2, 1}, 2, false, true, true,
     NN_ACTIVATION_GELU},
    {true, 2, {8, 6, 5}, 2, 4, {2, 2, 2}, {1, 1, 1}, {3, 1, 2}, 1, true, true, true,
     NN_ACTIVATION_LEAKY_RELU},
    /* softmax over the filters (channels last) or the width (channels first) */
    {false, 2, {4, 3, 5}, 3, 5, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, 1, false, true, true,
     NN_ACTIVATION_SOFTMAX},
    {true, 2, {4, 3, 5}, 3, 5, {3, 1, 2}, {1, 2, 1}, {1, 1, 1}, 1, true, true, true,
     NN_ACTIVATION_SOFTMAX},
    /* a kernel one deep, and one as deep as the input */
    {false, 3, {3, 5, 4}, 4, 4, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, 4, true, true, true,
     NN_ACTIVATION_RELU},
    {true, 2, {3, 5, 4}, 2, 3, {3, 2, 2}, {1, 2, 2}, {1, 1, 1}, 1, false, true, true,
     NN_ACTIVATION_LINEAR},
    /* 'same' lets the window be larger than the input, as in Keras */
    {false, 2, {2, 3, 1}, 2, 3, {5, 4, 3}, {1, 1, 1}, {1, 1, 1}, 1, true, true, true,
     NN_ACTIVATION_ELU},
    /* inference only */
    {false, 2, {5, 5, 5}, 2, 4, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, 2, true, true, false,
     NN_ACTIVATION_SIGMOID},
};

Test(conv3d_layer, forward_and_backward_match_reference_in_both_data_formats)
{
    worst_tracker output_tracker = {0}, dinput_tracker = {0}, dkernel_tracker = {0},
                  dbias_tracker = {0};
    int count = (int)(sizeof layer_cases / sizeof layer_cases[0]);
    for (int i = 0; i < count; i++) {
        const volume_case *c = &layer_cases[i];
        char where[320];
        describe_case(c, where, sizeof where);
        nn_layer *layer = make_layer_for_case(c);
        nn_shape input_shape = case_input_shape(c);
        build_with_weights(layer, &input_shape, 300 + (uint64_t)i);
        cr_assert_eq(layer->param_count, c->bias ? 2 : 1, "%s", where);
        nn_tensor *input = random_tensor(&input_shape, 400 + (uint64_t)i);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, input, c->training, NULL), NN_OK, "%s: %s",
                     where, nn_error_message());
        nn_tensor *doutput = random_tensor(&run.output->shape, 500 + (uint64_t)i);
        const float *bias = c->bias ? nn_tensor_f32(layer->params[1].value) : NULL;
        layer_expectation e;
        expect_layer(&e, c, nn_tensor_f32(input), nn_tensor_f32(layer->params[0].value), bias,
                     c->training ? nn_tensor_f32(doutput) : NULL, false);
        cr_assert_eq(nn_tensor_count(run.output), e.n.out, "%s", where);
        track(&output_tracker,
              ts_compare(nn_tensor_f32(run.output), e.output, e.n.out, LAYER_ATOL, LAYER_RTOL),
              where);
        if (c->training) {
            nn_tensor *dinput = harness_tensor(&input_shape, NULL);
            /* Stale values must not leak into the gradients, which are overwritten. */
            nn_tensor_fill(dinput, 7.0);
            nn_tensor_fill(layer->params[0].grad, 7.0);
            cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, false), NN_OK,
                         "%s: %s", where, nn_error_message());
            track(&dinput_tracker,
                  ts_compare(nn_tensor_f32(dinput), e.dinput, e.n.in, LAYER_ATOL, LAYER_RTOL),
                  where);
            track(&dkernel_tracker,
                  ts_compare(nn_tensor_f32(layer->params[0].grad), e.dkernel, e.n.kernel,
                             LAYER_ATOL, LAYER_RTOL),
                  where);
            if (c->bias)
                track(&dbias_tracker,
                      ts_compare(nn_tensor_f32(layer->params[1].grad), e.dbias,
                                 (size_t)c->filters, LAYER_ATOL, LAYER_RTOL),
                      where);
            nn_tensor_free(dinput);
        }
        expectation_free(&e);
        nn_tensor_free(doutput);
        nn_tensor_free(input);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
    report_and_assert("Conv3D layer forward vs reference", &output_tracker);
    report_and_assert("Conv3D layer dinput vs reference", &dinput_tracker);
    report_and_assert("Conv3D layer dkernel vs reference", &dkernel_tracker);
    report_and_assert("Conv3D layer dbias vs reference", &dbias_tracker);
}

/* As the first layer of a model: no input gradient is asked for, and the weights' are
 * the same as when it is. */
Test(conv3d_layer, first_layer_without_input_gradient_gives_the_same_weight_gradients)
{
    for (int first = 0; first < 2; first++) {
        volume_case c = {first, 2, {6, 4, 5}, 2, 4, {3, 2, 2}, {2, 1, 1}, {1, 1, 1}, 2, true,
                         true, true, NN_ACTIVATION_TANH};
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
Test(conv3d_layer, last_layer_gives_logits_and_takes_preactivation_gradient)
{
    for (int first = 0; first < 2; first++) {
        volume_case c = {first, 2, {4, 5, 3}, 4, 6, {2, 3, 3}, {1, 1, 1}, {1, 1, 1}, 2, true,
                         true, true, NN_ACTIVATION_SOFTMAX};
        char where[320];
        describe_case(&c, where, sizeof where);
        nn_layer *layer = make_layer_for_case(&c);
        nn_shape input_shape = case_input_shape(&c);
        build_with_weights(layer, &input_shape, 42);
        nn_tensor *input = random_tensor(&input_shape, 43);
        case_counts n = counts_of(&c);
        float *logits = checked_calloc(n.out, sizeof(float));
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
            ts_compare(logits, e.preactivation, n.out, LAYER_ATOL, LAYER_RTOL),
            ts_compare(nn_tensor_f32(run.output), e.output, n.out, LAYER_ATOL, LAYER_RTOL),
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

Test(conv3d_layer, shapes_explanation_and_parameters_as_keras)
{
    nn_shape input_shape = NN_SHAPE(2, 8, 16, 16, 3);
    nn_tensor *x = random_tensor(&input_shape, 1);
    char text[96];
    nn_layer *same = make_conv3d(8, 3, 3, 3);
    harness_set_choice(same, "padding", "same");
    cr_assert_eq(nn_layer_finish(same), NN_OK, "%s", nn_error_message());
    nn_tensor *y = NULL;
    cr_assert_eq(nn_layer_call(same, x, false, &y), NN_OK, "%s", nn_error_message());
    cr_assert_str_eq(nn_shape_format(&y->shape, text, sizeof text), "(2, 8, 16, 16, 8)");
    cr_assert_str_eq(nn_shape_format(&nn_layer_param(same, "kernel")->shape, text, sizeof text),
                     "(3, 3, 3, 3, 8)");
    cr_assert_str_eq(nn_shape_format(&nn_layer_param(same, "bias")->shape, text, sizeof text),
                     "(8,)");
    cr_assert_eq(nn_layer_count_params(same, true), 3 * 3 * 3 * 3 * 8 + 8);
    cr_assert_str_eq(same->explanation,
                     "depth: ceil(8 / 1) = 8; height: ceil(16 / 1) = 16; width: ceil(16 / 1) = "
                     "16; channels: filters = 8");
    nn_tensor_free(y);
    nn_layer_release(same);

    /* valid, strides per axis, groups, channels first */
    nn_layer *strided = make_conv3d(6, 2, 3, 1);
    set_triple(strided, "strides", (const int[3]){2, 1, 3});
    harness_set_int(strided, "groups", 3);
    harness_set_choice(strided, "data_format", "channels_first");
    cr_assert_eq(nn_layer_finish(strided), NN_OK, "%s", nn_error_message());
    nn_shape first = NN_SHAPE(-1, 3, 9, 7, 10);
    cr_assert_eq(nn_layer_build(strided, &first), NN_OK, "%s", nn_error_message());
    cr_assert_str_eq(nn_shape_format(&strided->output_shape, text, sizeof text),
                     "(None, 6, 4, 5, 4)");
    cr_assert_str_eq(nn_shape_format(&nn_layer_param(strided, "kernel")->shape, text,
                                     sizeof text),
                     "(2, 3, 1, 1, 6)");
    cr_assert_str_eq(strided->explanation,
                     "depth: floor((9 - 2) / 2) + 1 = 4; height: floor((7 - 3) / 1) + 1 = 5; "
                     "width: floor((10 - 1) / 3) + 1 = 4; channels: filters = 6 (3 groups: each "
                     "filter sees 1 of the 3 input channels)");
    nn_layer_release(strided);
    nn_tensor_free(x);
}

Test(conv3d_layer, glorot_uniform_counts_the_whole_receptive_field_in_its_fans)
{
    /* Keras: fan_in = kd·kh·kw·C/G, fan_out = kd·kh·kw·F, limit sqrt(6 / (fan_in + fan_out)). */
    nn_layer *layer = make_conv3d(16, 3, 2, 4);
    harness_set_int(layer, "groups", 2);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, 6, 6, 6, 8);
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK, "%s", nn_error_message());
    double receptive = 3 * 2 * 4, limit = sqrt(6.0 / (receptive * 4 + receptive * 16));
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
    /* uniform in [-limit, limit]: variance limit² / 3 */
    double variance = sum_squares / (double)n;
    cr_assert(fabs(variance / (limit * limit / 3.0) - 1.0) < 0.1, "variance %.6g, expected %.6g",
              variance, limit * limit / 3.0);
    nn_layer_release(layer);
}

/* ---- errors ---- */

Test(conv3d_errors, filters_must_divide_into_groups)
{
    nn_layer *layer = make_conv3d(6, 3, 3, 3);
    harness_set_int(layer, "groups", 4);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "Conv3D", "filters must be evenly divisible",
                    "groups=4", "filters=6");
    nn_layer_release(layer);
}

Test(conv3d_errors, input_channels_must_divide_into_groups)
{
    nn_layer *layer = make_conv3d(4, 3, 3, 3);
    harness_set_int(layer, "groups", 2);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, 8, 8, 8, 3);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "conv3d",
                    "number of input channels must be evenly divisible", "groups=2",
                    "3 channels", "(None, 8, 8, 8, 3)");
    cr_assert(!layer->built);
    nn_layer_release(layer);
}

Test(conv3d_errors, strides_with_dilation_are_rejected)
{
    nn_layer *layer = make_conv3d(4, 3, 3, 3);
    set_triple(layer, "strides", (const int[3]){2, 1, 1});
    set_triple(layer, "dilation_rate", (const int[3]){1, 1, 2});
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "Conv3D", "strides > 1", "dilation_rate > 1",
                    "strides=(2, 1, 1)", "dilation_rate=(1, 1, 2)");
    nn_layer_release(layer);
}

Test(conv3d_errors, zero_sizes_are_rejected_by_validate)
{
    nn_layer *layer = make_conv3d(4, 3, 0, 3);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "kernel_size=(3, 0, 3)", "out of range", "must be >= 1");
    nn_layer_release(layer);
}

Test(conv3d_errors, wrong_rank_names_expected_and_received)
{
    nn_layer *layer = make_conv3d(4, 3, 3, 3);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(2, 28, 28, 3);
    nn_tensor *x = harness_tensor(&input, NULL);
    nn_tensor *y = NULL;
    cr_assert_eq(nn_layer_call(layer, x, false, &y), NN_ERR_SHAPE);
    cr_assert_null(y);
    ASSERT_MENTIONS(nn_error_message(), "conv3d", "expected ndim=5",
                    "(batch, depth, height, width, channels)", "found ndim=4",
                    "(None, 28, 28, 3)");
    nn_tensor_free(x);
    nn_layer_release(layer);
}

Test(conv3d_errors, kernel_larger_than_valid_input_gives_no_output)
{
    nn_layer *layer = make_conv3d(4, 3, 3, 3);
    snprintf(layer->name, sizeof layer->name, "conv3d_3");
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, 2, 5, 5, 1);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(),
                    "One of the dimensions in the output is <= 0 due to downsampling in "
                    "conv3d_3. Consider increasing the input size.",
                    "(None, 2, 5, 5, 1)", "kernel_size=(3, 3, 3)",
                    "depth: floor((2 - 3) / 1) + 1");
    nn_layer_release(layer);
}

Test(conv3d_errors, sizes_whose_product_overflows_fail_cleanly)
{
    nn_layer *layer = make_conv3d(1 << 20, 1 << 10, 1 << 10, 1 << 10);
    harness_set_choice(layer, "padding", "same");
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    nn_shape input = NN_SHAPE(-1, 4, 4, 4, 3);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_MEMORY);
    ASSERT_MENTIONS(nn_error_message(), "kernel (1024, 1024, 1024, 3, 1048576)", "more than");
    cr_assert_eq(layer->param_count, 0);
    nn_layer_release(layer);

    /* An output sample past 2^31 elements: 2048 × 2048 × 1024 × 1 input, 1 filter. */
    layer = make_conv3d(1, 1, 1, 1);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape huge = NN_SHAPE(-1, 2048, 2048, 1024, 1);
    cr_assert_eq(nn_layer_build(layer, &huge), NN_ERR_MEMORY);
    ASSERT_MENTIONS(nn_error_message(), "one sample of input (None, 2048, 2048, 1024, 1)",
                    "more than");
    nn_layer_release(layer);
}
