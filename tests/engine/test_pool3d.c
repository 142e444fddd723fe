/* MaxPooling3D, AveragePooling3D and the global 3-D poolings: the layers (two stages of
 * the 2-D kernels) against a naive one-stage 3-D reference in double, in both data
 * formats, over odd sizes, strides and both paddings; the reference's gradients against
 * finite differences; ties, padding and the errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_harness.h"
#include "random.h"
#include "ref_conv.h"

/* A maximum is one of its inputs, so max forward must match exactly; its backward adds
 * at most a few gradients per cell. A mean of means rounds twice. */
static const double EXACT = 1e-30;
static const double SCATTER_ATOL = 1e-6, SCATTER_RTOL = 1e-6;
static const double MEAN_ATOL = 1e-6, MEAN_RTOL = 1e-5;
/* PyTorch gradcheck's tolerance, for the reference against central differences. */
static const double GRADCHECK_ATOL = 1e-5, GRADCHECK_RTOL = 1e-3, GRADCHECK_EPS = 1e-6;

/* One 3-D pooling, channels-last: input (B, D, H, W, C), axes in (depth, height, width)
 * order. strides 0 means None (the pool size). */
typedef struct box_case {
    int batch, sizes[3], channels;
    int pool[3], strides[3];
    bool same;
} box_case;

/* The case's sizes, by Keras' rules (ref_window_output, independent of the engine). */
typedef struct box_geometry {
    int batch, in[3], channels, out[3], pool[3], stride[3], pad[3];
} box_geometry;

static bool case_geometry(const box_case *c, box_geometry *g)
{
    *g = (box_geometry){.batch = c->batch, .channels = c->channels};
    for (int a = 0; a < 3; a++) {
        g->in[a] = c->sizes[a];
        g->pool[a] = c->pool[a];
        g->stride[a] = c->strides[a] ? c->strides[a] : c->pool[a];
        g->out[a] = ref_window_output(g->in[a], g->pool[a], g->stride[a], 1, c->same,
                                      &g->pad[a]);
        if (g->out[a] <= 0)
            return false;
    }
    return true;
}

static size_t in_count(const box_geometry *g)
{
    return (size_t)g->batch * (size_t)g->in[0] * (size_t)g->in[1] * (size_t)g->in[2] *
           (size_t)g->channels;
}

static size_t out_count(const box_geometry *g)
{
    return (size_t)g->batch * (size_t)g->out[0] * (size_t)g->out[1] * (size_t)g->out[2] *
           (size_t)g->channels;
}

static size_t in_index(const box_geometry *g, int b, int d, int h, int w, int c)
{
    return ((((size_t)b * (size_t)g->in[0] + (size_t)d) * (size_t)g->in[1] + (size_t)h) *
                (size_t)g->in[2] + (size_t)w) * (size_t)g->channels + (size_t)c;
}

/* The cells of box (od, oh, ow) inside the input: [low[a], high[a]) along each axis. */
static int box_cells(const box_geometry *g, const int o[3], int low[3], int high[3])
{
    int count = 1;
    for (int a = 0; a < 3; a++) {
        int start = o[a] * g->stride[a] - g->pad[a];
        low[a] = start < 0 ? 0 : start;
        high[a] = start + g->pool[a] > g->in[a] ? g->in[a] : start + g->pool[a];
        count *= high[a] - low[a];
    }
    return count;
}

/* out (B, OD, OH, OW, C) = the max of each box of inp (the first cell in (d, h, w) order
 * among equals wins: its flat index goes to argmax, which may be NULL) or its mean over
 * the cells inside the input. */
static void ref_pool3d_forward(double *out, int64_t *argmax, const double *inp,
                               const box_geometry *g, bool average)
{
    size_t o_index = 0;
    for (int b = 0; b < g->batch; b++)
        for (int od = 0; od < g->out[0]; od++)
            for (int oh = 0; oh < g->out[1]; oh++)
                for (int ow = 0; ow < g->out[2]; ow++)
                    for (int c = 0; c < g->channels; c++, o_index++) {
                        int o[3] = {od, oh, ow}, low[3], high[3];
                        int count = box_cells(g, o, low, high);
                        double best = -INFINITY, sum = 0.0;
                        int64_t winner = -1;
                        for (int d = low[0]; d < high[0]; d++)
                            for (int h = low[1]; h < high[1]; h++)
                                for (int w = low[2]; w < high[2]; w++) {
                                    size_t i = in_index(g, b, d, h, w, c);
                                    sum += inp[i];
                                    if (winner < 0 || inp[i] > best) {
                                        best = inp[i];
                                        winner = (int64_t)i;
                                    }
                                }
                        out[o_index] = average ? sum / count : best;
                        if (argmax)
                            argmax[o_index] = winner;
                    }
}

/* dinp (overwritten) = the gradient of sum(dout · forward(inp)). */
static void ref_pool3d_backward(double *dinp, const double *dout, const double *inp,
                                const box_geometry *g, bool average)
{
    size_t outputs = out_count(g);
    memset(dinp, 0, in_count(g) * sizeof(double));
    if (!average) {
        double *out = calloc(outputs, sizeof(double));
        int64_t *argmax = calloc(outputs, sizeof(int64_t));
        cr_assert(out && argmax);
        ref_pool3d_forward(out, argmax, inp, g, false);
        for (size_t o = 0; o < outputs; o++)
            dinp[argmax[o]] += dout[o];
        free(out);
        free(argmax);
        return;
    }
    size_t o_index = 0;
    for (int b = 0; b < g->batch; b++)
        for (int od = 0; od < g->out[0]; od++)
            for (int oh = 0; oh < g->out[1]; oh++)
                for (int ow = 0; ow < g->out[2]; ow++)
                    for (int c = 0; c < g->channels; c++, o_index++) {
                        int o[3] = {od, oh, ow}, low[3], high[3];
                        int count = box_cells(g, o, low, high);
                        for (int d = low[0]; d < high[0]; d++)
                            for (int h = low[1]; h < high[1]; h++)
                                for (int w = low[2]; w < high[2]; w++)
                                    dinp[in_index(g, b, d, h, w, c)] += dout[o_index] / count;
                    }
}

/* Odd sizes, pools longer than an axis with 'same', strides below, at and above the pool,
 * a pool of one along an axis, 1 to 4 channels. */
static const box_case CASES[] = {
    {2, {4, 4, 4}, 3, {2, 2, 2}, {0, 0, 0}, false},
    {1, {5, 7, 6}, 2, {3, 2, 3}, {2, 1, 2}, true},
    {3, {5, 5, 5}, 1, {3, 3, 3}, {1, 1, 1}, true},
    {2, {7, 3, 5}, 2, {2, 3, 1}, {3, 1, 2}, false},
    {1, {3, 4, 5}, 4, {4, 2, 2}, {1, 2, 3}, true},
    {2, {6, 5, 4}, 3, {1, 2, 2}, {1, 1, 1}, false},
    {1, {2, 2, 3}, 1, {5, 5, 5}, {1, 1, 1}, true},
    {2, {5, 6, 7}, 2, {3, 1, 2}, {0, 0, 0}, true},
};
enum { CASE_COUNT = sizeof CASES / sizeof CASES[0] };

static char *describe(const box_case *c, bool average, bool first, char *buf, size_t size)
{
    snprintf(buf, size, "%s B%d %dx%dx%dx%d, pool (%d, %d, %d), strides (%d, %d, %d), %s, %s",
             average ? "AveragePooling3D" : "MaxPooling3D", c->batch, c->sizes[0],
             c->sizes[1], c->sizes[2], c->channels, c->pool[0], c->pool[1], c->pool[2],
             c->strides[0], c->strides[1], c->strides[2], c->same ? "same" : "valid",
             first ? "channels_first" : "channels_last");
    return buf;
}

static void *checked_calloc(size_t count, size_t size)
{
    void *memory = calloc(count > 0 ? count : 1, size);
    cr_assert(memory != NULL);
    return memory;
}

/* Distinct values (a shuffled ramp over [-1, 1)), so every box has one clear winner at
 * least 2/n away from the runner-up, far beyond the finite-difference step. They are
 * floats, so the reference sees what the layers see. */
static void fill_distinct(double *out, size_t n, uint64_t seed)
{
    int64_t *order = checked_calloc(n, sizeof(int64_t));
    for (size_t i = 0; i < n; i++)
        order[i] = (int64_t)i;
    nn_rng rng;
    nn_rng_init(&rng, seed, 7);
    nn_rng_shuffle(&rng, order, n);
    for (size_t i = 0; i < n; i++)
        out[i] = (float)(-1.0 + 2.0 * (double)order[i] / (double)n);
    free(order);
}

static void set_triple(nn_layer *layer, const char *name, const int triple[3])
{
    memcpy(harness_arg(layer, name), triple, 3 * sizeof(int));
}

static nn_layer *make_pool3d(const char *class_name, const box_case *c, bool first)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, nn_layer_class_find(class_name)), NN_OK);
    set_triple(layer, "pool_size", c->pool);
    if (c->strides[0])
        set_triple(layer, "strides", c->strides);
    harness_set_choice(layer, "padding", c->same ? "same" : "valid");
    harness_set_choice(layer, "data_format", first ? "channels_first" : "channels_last");
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

/* (B, D, H, W, C) -> (B, C, D, H, W) for channels_first, a copy otherwise. */
static void to_format(double *out, const double *inp, const box_geometry *g, bool first,
                      const int cells[3])
{
    int spatial = cells[0] * cells[1] * cells[2];
    if (first)
        ref_to_channels_first(out, inp, g->batch, g->channels, spatial);
    else
        memcpy(out, inp, (size_t)g->batch * (size_t)spatial * (size_t)g->channels *
                             sizeof(double));
}

typedef struct worst_tracker {
    ts_comparison worst;
    char where[256];
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
    cr_assert(tracker->worst.ok, "%s: off by %.3e (expected %.9g, got %.9g) in case: %s",
              what, tracker->worst.worst_error, tracker->worst.expected,
              tracker->worst.actual, tracker->where);
}

/* The layer's forward and backward on one case against the reference, on `values`
 * (channels-last, in_count of them). */
static void compare_layer(const box_case *c, bool average, bool first, const double *values,
                          uint64_t seed, worst_tracker *forward, worst_tracker *backward)
{
    box_geometry g;
    cr_assert(case_geometry(c, &g));
    char where[256];
    describe(c, average, first, where, sizeof where);
    size_t n_in = in_count(&g), n_out = out_count(&g);
    double *out64 = checked_calloc(n_out, sizeof(double));
    double *dout64 = checked_calloc(n_out, sizeof(double));
    double *dinp64 = checked_calloc(n_in, sizeof(double));
    double *formatted_in = checked_calloc(n_in, sizeof(double));
    double *formatted_out = checked_calloc(n_out, sizeof(double));
    float *dout32 = checked_calloc(n_out, sizeof(float));
    /* Gradients rounded to float first, so the reference sees what the layer sees. */
    ts_fill_uniform(dout32, n_out, seed, -1.0f, 1.0f);
    ts_to_double(dout64, dout32, n_out);
    ref_pool3d_forward(out64, NULL, values, &g, average);
    ref_pool3d_backward(dinp64, dout64, values, &g, average);

    nn_layer *layer = make_pool3d(average ? "AveragePooling3D" : "MaxPooling3D", c, first);
    nn_shape shape = first ? NN_SHAPE(g.batch, g.channels, g.in[0], g.in[1], g.in[2])
                           : NN_SHAPE(g.batch, g.in[0], g.in[1], g.in[2], g.channels);
    nn_tensor *input = harness_tensor(&shape, NULL);
    nn_tensor *dinput = harness_tensor(&shape, NULL);
    to_format(formatted_in, values, &g, first, g.in);
    ts_to_float(nn_tensor_f32(input), formatted_in, n_in);
    /* Garbage in dinput first: backward must overwrite, not accumulate. */
    ts_fill_uniform(nn_tensor_f32(dinput), n_in, 1, 5.0f, 6.0f);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, input, true, NULL), NN_OK, "%s: %s", where,
                 nn_error_message());
    nn_tensor *doutput = harness_tensor(&run.output->shape, NULL);
    to_format(formatted_out, dout64, &g, first, g.out);
    ts_to_float(nn_tensor_f32(doutput), formatted_out, n_out);
    cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, false), NN_OK, "%s: %s",
                 where, nn_error_message());

    to_format(formatted_out, out64, &g, first, g.out);
    track(forward, ts_compare(nn_tensor_f32(run.output), formatted_out, n_out,
                              average ? MEAN_ATOL : EXACT, average ? MEAN_RTOL : 0.0),
          where);
    to_format(formatted_in, dinp64, &g, first, g.in);
    track(backward, ts_compare(nn_tensor_f32(dinput), formatted_in, n_in,
                               average ? MEAN_ATOL : SCATTER_ATOL,
                               average ? MEAN_RTOL : SCATTER_RTOL),
          where);

    harness_run_free(&run);
    nn_tensor_free(doutput);
    nn_tensor_free(dinput);
    nn_tensor_free(input);
    nn_layer_release(layer);
    free(out64), free(dout64), free(dinp64), free(formatted_in), free(formatted_out);
    free(dout32);
}

static void sweep(bool average, const char *forward_label, const char *backward_label)
{
    worst_tracker forward = {0}, backward = {0};
    for (int k = 0; k < CASE_COUNT; k++) {
        box_geometry g;
        cr_assert(case_geometry(&CASES[k], &g), "case %d should fit", k);
        size_t n = in_count(&g);
        double *values = checked_calloc(n, sizeof(double));
        fill_distinct(values, n, 40 + (uint64_t)k);
        for (int first = 0; first < 2; first++)
            compare_layer(&CASES[k], average, first, values, 90 + (uint64_t)k, &forward,
                          &backward);
        free(values);
    }
    report_and_assert(forward_label, &forward);
    report_and_assert(backward_label, &backward);
}

Test(pool3d_layer, max_forward_and_backward_match_the_reference)
{
    sweep(false, "MaxPooling3D forward vs reference", "MaxPooling3D backward vs reference");
}

Test(pool3d_layer, average_forward_and_backward_match_the_reference)
{
    sweep(true, "AveragePooling3D forward vs reference",
          "AveragePooling3D backward vs reference");
}

Test(pool3d_layer, ties_go_to_the_first_cell_and_padding_never_wins)
{
    /* All equal and negative, 'same' padding on every axis: each box's maximum is -3
     * (the padding, read as 0, must not win) and its gradient goes to the box's first
     * cell inside the input in (depth, height, width) order, as the reference says. */
    const box_case c = {1, {5, 5, 5}, 2, {3, 3, 3}, {2, 2, 2}, true};
    box_geometry g;
    cr_assert(case_geometry(&c, &g));
    cr_assert_eq(g.pad[0], 1, "5 cells, pool 3, stride 2: padding 2, one before");
    double *values = checked_calloc(in_count(&g), sizeof(double));
    for (size_t i = 0; i < in_count(&g); i++)
        values[i] = -3.0;
    worst_tracker forward = {0}, backward = {0};
    for (int first = 0; first < 2; first++)
        compare_layer(&c, false, first, values, 5, &forward, &backward);
    report_and_assert("MaxPooling3D ties forward", &forward);
    report_and_assert("MaxPooling3D ties backward", &backward);
    free(values);
}

Test(pool3d_layer, hand_values_and_explanation)
{
    /* 0 .. 63 in a 4x4x4 volume: cell (d, h, w) holds 16d + 4h + w. */
    nn_shape shape = NN_SHAPE(1, 4, 4, 4, 1);
    nn_tensor *x = harness_tensor(&shape, NULL);
    for (int i = 0; i < 64; i++)
        nn_tensor_f32(x)[i] = (float)i;
    const box_case c = {1, {4, 4, 4}, 1, {2, 2, 2}, {0, 0, 0}, false};
    const char *classes[] = {"MaxPool3D", "AvgPool3D"};
    const float expected[2][8] = {{21, 23, 29, 31, 53, 55, 61, 63},
                                  {10.5f, 12.5f, 18.5f, 20.5f, 42.5f, 44.5f, 50.5f, 52.5f}};
    for (int k = 0; k < 2; k++) {
        nn_layer *layer = make_pool3d(classes[k], &c, false);
        cr_assert_str_eq(layer->name, k ? "average_pooling3d" : "max_pooling3d");
        nn_tensor *y = NULL;
        cr_assert_eq(nn_layer_call(layer, x, false, &y), NN_OK, "%s", nn_error_message());
        char text[64];
        cr_assert_str_eq(nn_shape_format(&y->shape, text, sizeof text), "(1, 2, 2, 2, 1)");
        for (int i = 0; i < 8; i++)
            cr_expect_eq(nn_tensor_f32(y)[i], expected[k][i], "%s output %d: expected %g, got %g",
                         classes[k], i, (double)expected[k][i], (double)nn_tensor_f32(y)[i]);
        cr_assert_str_eq(layer->explanation,
                         "depth: floor((4 - 2) / 2) + 1 = 2; height: floor((4 - 2) / 2) + 1 = "
                         "2; width: floor((4 - 2) / 2) + 1 = 2; channels: unchanged = 1");
        nn_tensor_free(y);
        nn_layer_release(layer);
    }
    nn_tensor_free(x);
}

/* ---- the reference against finite differences ---- */

typedef struct box_objective {
    const box_geometry *g;
    const double *dout;
    double *out;
    bool average;
} box_objective;

static double objective_value(const double *x, size_t n, void *context)
{
    (void)n;
    box_objective *o = context;
    ref_pool3d_forward(o->out, NULL, x, o->g, o->average);
    double total = 0.0;
    for (size_t i = 0; i < out_count(o->g); i++)
        total += o->dout[i] * o->out[i];
    return total;
}

Test(pool3d_reference, backward_matches_finite_differences)
{
    worst_tracker tracker = {0};
    for (int k = 0; k < CASE_COUNT; k++) {
        for (int average = 0; average < 2; average++) {
            box_geometry g;
            cr_assert(case_geometry(&CASES[k], &g));
            char where[256];
            describe(&CASES[k], average, false, where, sizeof where);
            size_t n_in = in_count(&g), n_out = out_count(&g);
            double *x = checked_calloc(n_in, sizeof(double));
            double *dout = checked_calloc(n_out, sizeof(double));
            double *analytic = checked_calloc(n_in, sizeof(double));
            double *numeric = checked_calloc(n_in, sizeof(double));
            fill_distinct(x, n_in, 500 + (uint64_t)k);
            ts_fill_uniform_double(dout, n_out, 600 + (uint64_t)k, -1.0, 1.0);
            ref_pool3d_backward(analytic, dout, x, &g, average);
            box_objective objective = {&g, dout, checked_calloc(n_out, sizeof(double)),
                                       average};
            ts_numeric_gradient(objective_value, &objective, x, n_in, GRADCHECK_EPS, numeric);
            track(&tracker,
                  ts_compare_double(analytic, numeric, n_in, GRADCHECK_ATOL, GRADCHECK_RTOL),
                  where);
            free(objective.out), free(x), free(dout), free(analytic), free(numeric);
        }
    }
    report_and_assert("3-D pooling reference backward vs finite differences", &tracker);
}

/* ---- global pooling over a volume ---- */

Test(global_pool3d_layer, forward_and_backward_match_a_naive_reduction)
{
    /* (2, 3, 4, 5, 3) channels last, or its channels-first transpose: per sample and
     * channel, the mean or max of 60 cells; backward spreads the mean's gradient evenly
     * and gives the max's to its winner. */
    const box_case c = {2, {3, 4, 5}, 3, {3, 4, 5}, {0, 0, 0}, false};
    box_geometry g;
    cr_assert(case_geometry(&c, &g));
    size_t n_in = in_count(&g), n_out = out_count(&g);
    cr_assert_eq(n_out, 6);
    double *values = checked_calloc(n_in, sizeof(double));
    fill_distinct(values, n_in, 77);
    const char *classes[] = {"GlobalMaxPooling3D", "GlobalAveragePooling3D"};
    for (int average = 0; average < 2; average++)
        for (int first = 0; first < 2; first++) {
            double out64[6], dout64[6] = {0.5, -1, 0.25, 2, -0.75, 1};
            double *dinp64 = checked_calloc(n_in, sizeof(double));
            double *formatted = checked_calloc(n_in, sizeof(double));
            ref_pool3d_forward(out64, NULL, values, &g, average);
            ref_pool3d_backward(dinp64, dout64, values, &g, average);
            nn_layer *layer = NULL;
            cr_assert_eq(nn_layer_create(&layer, nn_layer_class_find(classes[average])), NN_OK);
            harness_set_choice(layer, "data_format", first ? "channels_first" : "channels_last");
            cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
            nn_shape shape = first ? NN_SHAPE(2, 3, 3, 4, 5) : NN_SHAPE(2, 3, 4, 5, 3);
            nn_tensor *input = harness_tensor(&shape, NULL);
            nn_tensor *dinput = harness_tensor(&shape, NULL);
            to_format(formatted, values, &g, first, g.in);
            ts_to_float(nn_tensor_f32(input), formatted, n_in);
            harness_run run;
            cr_assert_eq(harness_forward(&run, layer, input, true, NULL), NN_OK, "%s",
                         nn_error_message());
            char text[64];
            cr_assert_str_eq(nn_shape_format(&run.output->shape, text, sizeof text), "(2, 3)");
            nn_shape dshape = NN_SHAPE(2, 3);
            float dout32[6];
            for (int i = 0; i < 6; i++)
                dout32[i] = (float)dout64[i];
            nn_tensor *doutput = harness_tensor(&dshape, dout32);
            cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, false), NN_OK,
                         "%s", nn_error_message());
            ts_comparison forward = ts_compare(nn_tensor_f32(run.output), out64, n_out,
                                               average ? MEAN_ATOL : EXACT,
                                               average ? MEAN_RTOL : 0.0);
            to_format(formatted, dinp64, &g, first, g.in);
            ts_comparison backward = ts_compare(nn_tensor_f32(dinput), formatted, n_in,
                                                SCATTER_ATOL, MEAN_RTOL);
            cr_expect(forward.ok, "%s %s forward: output %zu = %.9g, expected %.9g",
                      classes[average], first ? "channels_first" : "channels_last",
                      forward.worst_index, forward.actual, forward.expected);
            cr_expect(backward.ok, "%s %s backward: dinput %zu = %.9g, expected %.9g",
                      classes[average], first ? "channels_first" : "channels_last",
                      backward.worst_index, backward.actual, backward.expected);
            cr_assert_str_eq(layer->explanation,
                             average ? "the mean of each channel over 3 x 4 x 5 cells; "
                                       "channels: unchanged = 3"
                                     : "the maximum of each channel over 3 x 4 x 5 cells; "
                                       "channels: unchanged = 3");
            harness_run_free(&run);
            nn_tensor_free(doutput);
            nn_tensor_free(dinput);
            nn_tensor_free(input);
            nn_layer_release(layer);
            free(dinp64), free(formatted);
        }
    free(values);
}

Test(global_pool3d_layer, keepdims_keeps_three_axes_of_one)
{
    for (int first = 0; first < 2; first++) {
        nn_layer *layer = NULL;
        cr_assert_eq(nn_layer_create(&layer, nn_layer_class_find("GlobalAvgPool3D")), NN_OK);
        harness_set_bool(layer, "keepdims", true);
        harness_set_choice(layer, "data_format", first ? "channels_first" : "channels_last");
        cr_assert_eq(nn_layer_finish(layer), NN_OK);
        nn_shape input = NN_SHAPE(-1, 3, 4, 5, 6);
        cr_assert_eq(nn_layer_build(layer, &input), NN_OK, "%s", nn_error_message());
        char text[64];
        cr_assert_str_eq(nn_shape_format(&layer->output_shape, text, sizeof text),
                         first ? "(None, 3, 1, 1, 1)" : "(None, 1, 1, 1, 6)");
        nn_layer_release(layer);
    }
}

/* ---- errors ---- */

Test(pool3d_errors, pool_larger_than_valid_input)
{
    const box_case c = {1, {2, 2, 2}, 1, {3, 3, 3}, {0, 0, 0}, false};
    nn_layer *layer = make_pool3d("MaxPooling3D", &c, false);
    nn_shape input = NN_SHAPE(-1, 2, 2, 2, 1);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "max_pooling3d", "<= 0", "pool_size=(3, 3, 3)",
                    "(None, 2, 2, 2, 1)", "depth: floor((2 - 3) / 3) + 1", "padding='same'");
    cr_assert(!layer->built);
    /* 'same' pads instead, as in Keras: a 3x3x3 pool over 2x2x2 gives 1x1x1. */
    harness_set_choice(layer, "padding", "same");
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK, "%s", nn_error_message());
    char text[64];
    cr_assert_str_eq(nn_shape_format(&layer->output_shape, text, sizeof text),
                     "(None, 1, 1, 1, 1)");
    nn_layer_release(layer);
}

Test(pool3d_errors, wrong_rank_names_the_layer_and_the_expected_axes)
{
    const char *classes[] = {"AveragePooling3D", "GlobalMaxPooling3D"};
    const char *names[] = {"average_pooling3d", "global_max_pooling3d"};
    for (int k = 0; k < 2; k++) {
        nn_layer *layer = NULL;
        cr_assert_eq(nn_layer_create(&layer, nn_layer_class_find(classes[k])), NN_OK);
        cr_assert_eq(nn_layer_finish(layer), NN_OK);
        nn_shape input = NN_SHAPE(-1, 28, 28, 1);
        cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_SHAPE);
        ASSERT_MENTIONS(nn_error_message(), names[k], "expected ndim=5",
                        "depth, height, width, channels", "found ndim=4", "(None, 28, 28, 1)");
        nn_layer_release(layer);
    }
}

Test(pool3d_errors, zero_sizes_are_rejected)
{
    const box_case c = {1, {4, 4, 4}, 1, {2, 0, 2}, {0, 0, 0}, false};
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_maxpool3d_class), NN_OK);
    set_triple(layer, "pool_size", c.pool);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "max_pooling3d", "pool_size", "out of range");
    nn_layer_release(layer);
}

Test(pool3d_errors, backward_needs_a_training_forward_on_that_batch)
{
    const box_case c = {2, {4, 4, 4}, 1, {2, 2, 2}, {0, 0, 0}, false};
    nn_layer *layer = make_pool3d("MaxPooling3D", &c, false);
    nn_shape shape = NN_SHAPE(2, 4, 4, 4, 1);
    nn_tensor *input = harness_tensor(&shape, NULL);
    nn_tensor *dinput = harness_tensor(&shape, NULL);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, input, false, NULL), NN_OK);
    cr_assert_eq(harness_backward(&run, layer, input, run.output, dinput, false), NN_ERR_STATE);
    ASSERT_MENTIONS(nn_error_message(), "max_pooling3d", "forward in training");
    harness_run_free(&run);
    nn_tensor_free(input);
    nn_tensor_free(dinput);
    nn_layer_release(layer);
}

Test(pool3d_errors, batches_past_int32_indexing_are_refused_by_reserve)
{
    const box_case c = {1, {64, 256, 256}, 1, {2, 2, 2}, {0, 0, 0}, false};
    nn_layer *layer = make_pool3d("MaxPooling3D", &c, false);
    nn_shape input = NN_SHAPE(-1, 64, 256, 256, 16);
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_reserve(layer, 64), NN_ERR_MEMORY);
    ASSERT_MENTIONS(nn_error_message(), "max_pooling3d", "a batch of 64");
    nn_layer_release(layer);
}
