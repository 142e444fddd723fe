/* MaxPooling2D: the seed's exact examples, the CPU kernels against a naive reference
 * (values and winners exactly, gradients to rounding), that reference against finite
 * differences, the layer in both data formats, and its errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_kernels.h"
#include "layer_harness.h"
#include "random.h"
#include "ref_conv.h"

/* A maximum is one of its inputs, so forward must match exactly. Backward adds at most
 * pool_height · pool_width gradients per cell in float: a few ulps of values <= ~9. */
static const double EXACT = 1e-30;
static const double SCATTER_ATOL = 1e-6, SCATTER_RTOL = 1e-6;
/* PyTorch gradcheck's tolerance, for the reference against central differences. */
static const double GRADCHECK_ATOL = 1e-5, GRADCHECK_RTOL = 1e-3, GRADCHECK_EPS = 1e-6;

typedef struct pool_case {
    int batch, height, width, channels;
    int pool_height, pool_width;
    int stride_height, stride_width;
    bool same;
} pool_case;

static bool case_geometry(const pool_case *c, nn_pool2d_geometry *g)
{
    int pad_top, pad_left;
    int out_height = ref_window_output(c->height, c->pool_height, c->stride_height, 1,
                                       c->same, &pad_top);
    int out_width = ref_window_output(c->width, c->pool_width, c->stride_width, 1, c->same,
                                      &pad_left);
    if (out_height <= 0 || out_width <= 0)
        return false;
    *g = (nn_pool2d_geometry){.batch = c->batch, .in_height = c->height,
                              .in_width = c->width, .channels = c->channels,
                              .out_height = out_height, .out_width = out_width,
                              .pool_height = c->pool_height, .pool_width = c->pool_width,
                              .stride_height = c->stride_height,
                              .stride_width = c->stride_width, .pad_top = pad_top,
                              .pad_left = pad_left};
    return true;
}

static char *describe_case(const pool_case *c, char *buf, size_t size)
{
    snprintf(buf, size, "B%d %dx%dx%d, pool %dx%d, strides %dx%d, %s", c->batch, c->height,
             c->width, c->channels, c->pool_height, c->pool_width, c->stride_height,
             c->stride_width, c->same ? "same" : "valid");
    return buf;
}

enum { SWEEP_CAPACITY = 256 };

/* Pool shapes × strides (0 = the pool size, Keras' None) × padding, odd sizes, batch 1
 * and 3, 1 to 5 channels. */
static int pool_sweep(pool_case *cases, int capacity)
{
    static const int pools[][2] = {{1, 1}, {2, 2}, {3, 2}, {2, 3}, {3, 3}, {4, 1}};
    static const int strides[][2] = {{0, 0}, {1, 1}, {2, 1}, {3, 3}, {1, 2}};
    static const int sizes[][2] = {{7, 5}, {6, 6}, {5, 7}, {8, 8}, {3, 9}};
    static const int channels[] = {1, 3, 5};
    int count = 0;
    for (int p = 0; p < 6; p++)
        for (int s = 0; s < 5; s++)
            for (int same = 0; same < 2; same++)
                for (int z = 0; z < 2; z++) {
                    int index = ((p * 5 + s) * 2 + same) * 2 + z;
                    cr_assert(count < capacity);
                    pool_case *c = &cases[count++];
                    *c = (pool_case){.batch = index % 2 ? 3 : 1,
                                     .height = sizes[(index / 2) % 5][0] + z,
                                     .width = sizes[(index / 2) % 5][1],
                                     .channels = channels[index % 3],
                                     .pool_height = pools[p][0],
                                     .pool_width = pools[p][1],
                                     .stride_height = strides[s][0] ? strides[s][0] : pools[p][0],
                                     .stride_width = strides[s][1] ? strides[s][1] : pools[p][1],
                                     .same = same};
                }
    return count;
}

static void *checked_calloc(size_t count, size_t size)
{
    void *memory = calloc(count > 0 ? count : 1, size);
    cr_assert(memory != NULL);
    return memory;
}

/* Distinct values (a shuffled ramp over [-1, 1)), so every window has one clear winner
 * at least 2/n away from the runner-up, far beyond the finite-difference step. */
static void fill_distinct(float *out, size_t n, uint64_t seed)
{
    int64_t *order = checked_calloc(n, sizeof(int64_t));
    for (size_t i = 0; i < n; i++)
        order[i] = (int64_t)i;
    nn_rng rng;
    nn_rng_init(&rng, seed, 7);
    nn_rng_shuffle(&rng, order, n);
    for (size_t i = 0; i < n; i++)
        out[i] = -1.0f + 2.0f * (float)order[i] / (float)n;
    free(order);
}

typedef struct pool_data {
    nn_pool2d_geometry geometry;
    size_t in_count, out_count;
    float *inp, *out, *dout, *dinp;
    int32_t *argmax;
    double *inp64, *out64, *dout64, *dinp64;
    int64_t *argmax64;
} pool_data;

static void pool_data_init(pool_data *d, const nn_pool2d_geometry *g, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    d->geometry = *g;
    d->in_count = (size_t)g->batch * (size_t)g->in_height * (size_t)g->in_width *
                  (size_t)g->channels;
    d->out_count = (size_t)g->batch * (size_t)g->out_height * (size_t)g->out_width *
                   (size_t)g->channels;
    d->inp = checked_calloc(d->in_count, sizeof(float));
    d->out = checked_calloc(d->out_count, sizeof(float));
    d->dout = checked_calloc(d->out_count, sizeof(float));
    d->dinp = checked_calloc(d->in_count, sizeof(float));
    d->argmax = checked_calloc(d->out_count, sizeof(int32_t));
    d->inp64 = checked_calloc(d->in_count, sizeof(double));
    d->out64 = checked_calloc(d->out_count, sizeof(double));
    d->dout64 = checked_calloc(d->out_count, sizeof(double));
    d->dinp64 = checked_calloc(d->in_count, sizeof(double));
    d->argmax64 = checked_calloc(d->out_count, sizeof(int64_t));
    fill_distinct(d->inp, d->in_count, seed);
    ts_fill_uniform(d->dout, d->out_count, seed + 1, -1.0f, 1.0f);
    ts_to_double(d->inp64, d->inp, d->in_count);
    ts_to_double(d->dout64, d->dout, d->out_count);
}

static void pool_data_free(pool_data *d)
{
    void *buffers[] = {d->inp, d->out, d->dout, d->dinp, d->argmax, d->inp64,
                       d->out64, d->dout64, d->dinp64, d->argmax64};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        free(buffers[i]);
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

/* ---- the seed's examples, through the layer ---- */

static nn_layer *make_pool(int pool_height, int pool_width)
{
    nn_layer *layer = NULL;
    const nn_layer_class *cls = nn_layer_class_find("MaxPool2D");
    cr_assert_eq(cls, &nn_maxpool2d_class, "MaxPool2D is an alias of MaxPooling2D");
    cr_assert_eq(nn_layer_create(&layer, cls), NN_OK);
    cr_assert_str_eq(layer->name, "max_pooling2d");
    harness_set_pair(layer, "pool_size", pool_height, pool_width);
    return layer;
}

static nn_tensor *arange_8x8(void)
{
    nn_shape shape = NN_SHAPE(1, 8, 8, 1);
    nn_tensor *x = harness_tensor(&shape, NULL);
    for (int i = 0; i < 64; i++)
        nn_tensor_f32(x)[i] = (float)i;
    return x;
}

static void assert_values(const nn_tensor *y, const float *expected, size_t count)
{
    cr_assert_eq(nn_tensor_count(y), count);
    for (size_t i = 0; i < count; i++)
        if (nn_tensor_f32(y)[i] != expected[i])
            cr_assert_fail("element %zu: expected %g, got %g", i, (double)expected[i],
                           (double)nn_tensor_f32(y)[i]);
}

Test(maxpool2d_layer, seed_example_two_by_two)
{
    nn_tensor *x = arange_8x8(), *y = NULL;
    nn_layer *layer = make_pool(2, 2);
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_call(layer, x, false, &y), NN_OK, "%s", nn_error_message());
    char text[64];
    cr_assert_str_eq(nn_shape_format(&y->shape, text, sizeof text), "(1, 4, 4, 1)");
    const float expected[] = {9, 11, 13, 15, 25, 27, 29, 31, 41, 43, 45, 47, 57, 59, 61, 63};
    assert_values(y, expected, 16);
    cr_assert_str_eq(layer->explanation,
                     "height: floor((8 - 2) / 2) + 1 = 4; width: floor((8 - 2) / 2) + 1 = 4; "
                     "channels: unchanged = 1");
    cr_assert_eq(nn_layer_count_params(layer, true) + nn_layer_count_params(layer, false), 0);
    nn_tensor_free(y);
    nn_tensor_free(x);
    nn_layer_release(layer);
}

Test(maxpool2d_layer, seed_example_same_padding_stride_one)
{
    nn_tensor *x = arange_8x8(), *y = NULL;
    nn_layer *layer = make_pool(2, 2);
    harness_set_pair(layer, "strides", 1, 1);
    harness_set_choice(layer, "padding", "same");
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_call(layer, x, false, &y), NN_OK, "%s", nn_error_message());
    char text[64];
    cr_assert_str_eq(nn_shape_format(&y->shape, text, sizeof text), "(1, 8, 8, 1)");
    /* One row and column of padding after the input (Keras puts the odd one last), so
     * cell (h, w) sees rows h..h+1 and columns w..w+1, clipped at 7. */
    float expected[64];
    for (int h = 0; h < 8; h++)
        for (int w = 0; w < 8; w++)
            expected[h * 8 + w] = (float)((h < 7 ? h + 1 : 7) * 8 + (w < 7 ? w + 1 : 7));
    assert_values(y, expected, 64);
    cr_assert_str_eq(layer->explanation,
                     "height: ceil(8 / 1) = 8; width: ceil(8 / 1) = 8; channels: unchanged = 1");
    nn_tensor_free(y);
    nn_tensor_free(x);
    nn_layer_release(layer);
}

Test(maxpool2d_layer, seed_example_four_by_four_stride_four)
{
    nn_tensor *x = arange_8x8(), *y = NULL;
    nn_layer *layer = make_pool(4, 4);
    harness_set_pair(layer, "strides", 4, 4);
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_call(layer, x, false, &y), NN_OK, "%s", nn_error_message());
    char text[64];
    cr_assert_str_eq(nn_shape_format(&y->shape, text, sizeof text), "(1, 2, 2, 1)");
    const float expected[] = {27, 31, 59, 63};
    assert_values(y, expected, 4);
    nn_tensor_free(y);
    nn_tensor_free(x);
    nn_layer_release(layer);
}

Test(maxpool2d_layer, mnist_cnn_shapes)
{
    const int64_t inputs[][3] = {{28, 28, 32}, {14, 14, 64}};
    const char *expected[] = {"(None, 14, 14, 32)", "(None, 7, 7, 64)"};
    for (int i = 0; i < 2; i++) {
        nn_layer *layer = make_pool(2, 2);
        cr_assert_eq(nn_layer_finish(layer), NN_OK);
        nn_shape input = NN_SHAPE(-1, inputs[i][0], inputs[i][1], inputs[i][2]);
        cr_assert_eq(nn_layer_build(layer, &input), NN_OK, "%s", nn_error_message());
        char text[64];
        cr_assert_str_eq(nn_shape_format(&layer->output_shape, text, sizeof text), expected[i]);
        nn_layer_release(layer);
    }
}

/* ---- the CPU kernels against the reference ---- */

Test(maxpool2d_kernel, forward_matches_reference_values_and_winners)
{
    pool_case cases[SWEEP_CAPACITY];
    int count = pool_sweep(cases, SWEEP_CAPACITY);
    worst_tracker values = {0}, inference = {0};
    int run = 0;
    for (int i = 0; i < count; i++) {
        nn_pool2d_geometry g;
        if (!case_geometry(&cases[i], &g))
            continue;
        run++;
        char where[256];
        describe_case(&cases[i], where, sizeof where);
        pool_data d;
        pool_data_init(&d, &g, 100 + (uint64_t)i);
        nn_cpu_maxpool2d_forward(d.out, d.argmax, d.inp, &g);
        ref_maxpool2d_forward(d.out64, d.argmax64, d.inp64, &g);
        track(&values, ts_compare(d.out, d.out64, d.out_count, EXACT, 0.0), where);
        for (size_t o = 0; o < d.out_count; o++)
            if (d.argmax[o] != d.argmax64[o])
                cr_assert_fail("%s: output %zu won by input %d, reference says %lld", where, o,
                               d.argmax[o], (long long)d.argmax64[o]);
        /* Inference (no argmax) gives the same values. */
        memset(d.out, 0, d.out_count * sizeof(float));
        nn_cpu_maxpool2d_forward(d.out, NULL, d.inp, &g);
        track(&inference, ts_compare(d.out, d.out64, d.out_count, EXACT, 0.0), where);
        pool_data_free(&d);
    }
    cr_assert_gt(run, 90, "the sweep should run most of its %d cases, ran %d", count, run);
    report_and_assert("maxpool2d cpu forward vs reference", &values);
    report_and_assert("maxpool2d cpu forward without argmax vs reference", &inference);
}

Test(maxpool2d_kernel, backward_matches_reference)
{
    pool_case cases[SWEEP_CAPACITY];
    int count = pool_sweep(cases, SWEEP_CAPACITY);
    worst_tracker tracker = {0};
    for (int i = 0; i < count; i++) {
        nn_pool2d_geometry g;
        if (!case_geometry(&cases[i], &g))
            continue;
        char where[256];
        describe_case(&cases[i], where, sizeof where);
        pool_data d;
        pool_data_init(&d, &g, 200 + (uint64_t)i);
        /* Garbage in dinp first: backward must overwrite, not accumulate. */
        ts_fill_uniform(d.dinp, d.in_count, 1, 5.0f, 6.0f);
        nn_cpu_maxpool2d_forward(d.out, d.argmax, d.inp, &g);
        nn_cpu_maxpool2d_backward(d.dinp, d.dout, d.argmax, &g);
        ref_maxpool2d_backward(d.dinp64, d.dout64, d.inp64, &g);
        track(&tracker, ts_compare(d.dinp, d.dinp64, d.in_count, SCATTER_ATOL, SCATTER_RTOL),
              where);
        pool_data_free(&d);
    }
    report_and_assert("maxpool2d cpu backward vs reference", &tracker);
}

/* Pooling a ReLU's output: the backward with the ReLU derivative folded in equals the
 * derivative taken separately (dout where the pooled value is positive, else 0) and
 * then the plain backward. Inputs are clamped at 0 as a ReLU leaves them, so many
 * windows hold zeros and some are all zero (winner 0, derivative 0). */
Test(maxpool2d_kernel, backward_through_a_relu_matches_reference)
{
    pool_case cases[SWEEP_CAPACITY];
    int count = pool_sweep(cases, SWEEP_CAPACITY);
    worst_tracker tracker = {0};
    for (int i = 0; i < count; i++) {
        nn_pool2d_geometry g;
        if (!case_geometry(&cases[i], &g))
            continue;
        char where[256];
        describe_case(&cases[i], where, sizeof where);
        pool_data d;
        pool_data_init(&d, &g, 300 + (uint64_t)i);
        for (size_t k = 0; k < d.in_count; k++) {
            d.inp[k] = d.inp[k] > 0.3f ? d.inp[k] : 0.0f;
            d.inp64[k] = d.inp[k];
        }
        ts_fill_uniform(d.dinp, d.in_count, 1, 5.0f, 6.0f);
        nn_cpu_maxpool2d_forward(d.out, d.argmax, d.inp, &g);
        nn_cpu_maxpool2d_backward_relu(d.dinp, d.dout, d.argmax, d.out, &g);
        ref_maxpool2d_forward(d.out64, NULL, d.inp64, &g);
        for (size_t o = 0; o < d.out_count; o++)
            d.dout64[o] = d.out64[o] > 0.0 ? d.dout64[o] : 0.0;
        ref_maxpool2d_backward(d.dinp64, d.dout64, d.inp64, &g);
        track(&tracker, ts_compare(d.dinp, d.dinp64, d.in_count, SCATTER_ATOL, SCATTER_RTOL),
              where);
        pool_data_free(&d);
    }
    report_and_assert("maxpool2d cpu backward through a relu vs reference", &tracker);
}

Test(maxpool2d_kernel, ties_go_to_the_first_cell_and_padding_never_wins)
{
    /* All equal: the top-left cell of each window inside the input wins. All negative
     * with 'same' padding: the padding (which would read 0) must not win. */
    pool_case c = {.batch = 1, .height = 5, .width = 5, .channels = 2, .pool_height = 3,
                   .pool_width = 3, .stride_height = 2, .stride_width = 2, .same = true};
    nn_pool2d_geometry g;
    cr_assert(case_geometry(&c, &g));
    cr_assert_eq(g.pad_top, 1, "5 cells, window 3, stride 2: padding 2, one before");
    pool_data d;
    pool_data_init(&d, &g, 3);
    for (size_t i = 0; i < d.in_count; i++)
        d.inp[i] = -3.0f;
    nn_cpu_maxpool2d_forward(d.out, d.argmax, d.inp, &g);
    for (int oh = 0; oh < g.out_height; oh++)
        for (int ow = 0; ow < g.out_width; ow++)
            for (int ch = 0; ch < 2; ch++) {
                size_t o = ((size_t)oh * (size_t)g.out_width + (size_t)ow) * 2 + (size_t)ch;
                int h = oh * 2 - 1 < 0 ? 0 : oh * 2 - 1;
                int w = ow * 2 - 1 < 0 ? 0 : ow * 2 - 1;
                cr_assert_eq(d.out[o], -3.0f, "padding won at output %zu", o);
                cr_assert_eq(d.argmax[o], (h * 5 + w) * 2 + ch, "output %zu won by %d", o,
                             d.argmax[o]);
            }
    pool_data_free(&d);
}

/* ---- the reference against finite differences ---- */

typedef struct pool_objective {
    const pool_data *data;
    double *out;
} pool_objective;

static double pool_objective_value(const double *x, size_t n, void *context)
{
    (void)n;
    pool_objective *objective = context;
    const pool_data *d = objective->data;
    ref_maxpool2d_forward(objective->out, NULL, x, &d->geometry);
    double total = 0.0;
    for (size_t i = 0; i < d->out_count; i++)
        total += d->dout64[i] * objective->out[i];
    return total;
}

Test(maxpool2d_reference, backward_matches_finite_differences)
{
    pool_case cases[SWEEP_CAPACITY];
    int count = pool_sweep(cases, SWEEP_CAPACITY);
    worst_tracker tracker = {0};
    for (int i = 0; i < count; i += 7) {
        nn_pool2d_geometry g;
        if (!case_geometry(&cases[i], &g))
            continue;
        char where[256];
        describe_case(&cases[i], where, sizeof where);
        pool_data d;
        pool_data_init(&d, &g, 300 + (uint64_t)i);
        ref_maxpool2d_backward(d.dinp64, d.dout64, d.inp64, &g);
        double *numeric = checked_calloc(d.in_count, sizeof(double));
        pool_objective objective = {&d, checked_calloc(d.out_count, sizeof(double))};
        ts_numeric_gradient(pool_objective_value, &objective, d.inp64, d.in_count,
                            GRADCHECK_EPS, numeric);
        track(&tracker,
              ts_compare_double(d.dinp64, numeric, d.in_count, GRADCHECK_ATOL, GRADCHECK_RTOL),
              where);
        free(objective.out);
        free(numeric);
        pool_data_free(&d);
    }
    report_and_assert("maxpool2d reference backward vs finite differences", &tracker);
}

/* ---- the layer in both data formats ---- */

Test(maxpool2d_layer, forward_and_backward_match_reference_in_both_data_formats)
{
    /* channels_last and channels_first must agree with the reference on the same data. */
    pool_case c = {.batch = 3, .height = 7, .width = 5, .channels = 4, .pool_height = 3,
                   .pool_width = 2, .stride_height = 2, .stride_width = 1, .same = true};
    nn_pool2d_geometry g;
    cr_assert(case_geometry(&c, &g));
    pool_data d;
    pool_data_init(&d, &g, 11);
    ref_maxpool2d_forward(d.out64, NULL, d.inp64, &g);
    ref_maxpool2d_backward(d.dinp64, d.dout64, d.inp64, &g);
    int in_spatial = c.height * c.width, out_spatial = g.out_height * g.out_width;
    for (int first = 0; first < 2; first++) {
        nn_layer *layer = make_pool(3, 2);
        harness_set_pair(layer, "strides", 2, 1);
        harness_set_choice(layer, "padding", "same");
        harness_set_choice(layer, "data_format", first ? "channels_first" : "channels_last");
        cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
        nn_shape input_shape = first ? NN_SHAPE(3, 4, 7, 5) : NN_SHAPE(3, 7, 5, 4);
        nn_tensor *input = harness_tensor(&input_shape, NULL);
        nn_tensor *dinput = harness_tensor(&input_shape, NULL);
        double *expected_out = checked_calloc(d.out_count, sizeof(double));
        double *expected_dinp = checked_calloc(d.in_count, sizeof(double));
        double *values = checked_calloc(d.in_count, sizeof(double));
        double *gradients = checked_calloc(d.out_count, sizeof(double));
        if (first) {
            ref_to_channels_first(values, d.inp64, c.batch, c.channels, in_spatial);
            ref_to_channels_first(gradients, d.dout64, c.batch, c.channels, out_spatial);
            ref_to_channels_first(expected_out, d.out64, c.batch, c.channels, out_spatial);
            ref_to_channels_first(expected_dinp, d.dinp64, c.batch, c.channels, in_spatial);
        } else {
            memcpy(values, d.inp64, d.in_count * sizeof(double));
            memcpy(gradients, d.dout64, d.out_count * sizeof(double));
            memcpy(expected_out, d.out64, d.out_count * sizeof(double));
            memcpy(expected_dinp, d.dinp64, d.in_count * sizeof(double));
        }
        ts_to_float(nn_tensor_f32(input), values, d.in_count);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, input, true, NULL), NN_OK, "%s",
                     nn_error_message());
        char text[64];
        cr_assert_str_eq(nn_shape_format(&run.output->shape, text, sizeof text),
                         first ? "(3, 4, 4, 5)" : "(3, 4, 5, 4)");
        nn_tensor *doutput = harness_tensor(&run.output->shape, NULL);
        ts_to_float(nn_tensor_f32(doutput), gradients, d.out_count);
        cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, false), NN_OK, "%s",
                     nn_error_message());
        ts_comparison forward = ts_compare(nn_tensor_f32(run.output), expected_out,
                                           d.out_count, EXACT, 0.0);
        ts_comparison backward = ts_compare(nn_tensor_f32(dinput), expected_dinp, d.in_count,
                                            SCATTER_ATOL, SCATTER_RTOL);
        ts_report(first ? "MaxPooling2D layer channels_first forward"
                        : "MaxPooling2D layer channels_last forward",
                  &forward);
        ts_report(first ? "MaxPooling2D layer channels_first backward"
                        : "MaxPooling2D layer channels_last backward",
                  &backward);
        cr_assert(forward.ok && backward.ok);
        free(expected_out);
        free(expected_dinp);
        free(values);
        free(gradients);
        nn_tensor_free(doutput);
        nn_tensor_free(dinput);
        nn_tensor_free(input);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
    pool_data_free(&d);
}

/* ---- errors ---- */

Test(maxpool2d_errors, pool_larger_than_valid_input)
{
    nn_layer *layer = make_pool(3, 3);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, 2, 2, 1);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "max_pooling2d", "<= 0", "pool_size=(3, 3)",
                    "(None, 2, 2, 1)", "padding='same'");
    cr_assert(!layer->built);
    /* 'same' pads instead, as in Keras: a 3×3 pool over 2×2 gives 1×1. */
    harness_set_choice(layer, "padding", "same");
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK, "%s", nn_error_message());
    char text[64];
    cr_assert_str_eq(nn_shape_format(&layer->output_shape, text, sizeof text),
                     "(None, 1, 1, 1)");
    nn_layer_release(layer);
}

Test(maxpool2d_errors, zero_sizes_are_rejected_by_validate)
{
    nn_layer *layer = make_pool(0, 2);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "max_pooling2d", "pool_size=(0, 2)", "out of range");
    nn_layer_release(layer);

    layer = make_pool(2, 2);
    harness_set_pair(layer, "strides", 0, 1);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "max_pooling2d", "strides=(0, 1)", "out of range");
    harness_set_pair(layer, "strides", 0, 0);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "strides=(0, 0)", "out of range");
    /* None: strides follow pool_size. */
    harness_set_pair(layer, "strides", NN_PAIR_NONE, NN_PAIR_NONE);
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    nn_layer_release(layer);
}

Test(maxpool2d_errors, wrong_rank)
{
    nn_layer *layer = make_pool(2, 2);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, 28, 28, 1, 1);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "max_pooling2d", "expected ndim=4", "found ndim=5",
                    "(None, 28, 28, 1, 1)");
    nn_layer_release(layer);
}

Test(maxpool2d_errors, built_layer_rejects_a_different_input_shape)
{
    nn_layer *layer = make_pool(2, 2);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape first = NN_SHAPE(-1, 28, 28, 32);
    cr_assert_eq(nn_layer_build(layer, &first), NN_OK);
    nn_shape second = NN_SHAPE(-1, 28, 26, 32);
    cr_assert_eq(nn_layer_build(layer, &second), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "max_pooling2d", "(None, 28, 28, 32)",
                    "(None, 28, 26, 32)");
    nn_layer_release(layer);
}

Test(maxpool2d_errors, backward_needs_a_training_forward_on_that_batch)
{
    nn_layer *layer = make_pool(2, 2);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape shape = NN_SHAPE(2, 4, 4, 1);
    nn_tensor *input = harness_tensor(&shape, NULL);
    nn_tensor *dinput = harness_tensor(&shape, NULL);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, input, false, NULL), NN_OK);
    cr_assert_eq(harness_backward(&run, layer, input, run.output, dinput, false), NN_ERR_STATE);
    ASSERT_MENTIONS(nn_error_message(), "max_pooling2d", "forward in training");
    harness_run_free(&run);
    nn_tensor_free(input);
    nn_tensor_free(dinput);
    nn_layer_release(layer);
}

Test(maxpool2d_errors, batches_past_int32_indexing_are_refused_by_reserve)
{
    nn_layer *layer = make_pool(2, 2);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, 1024, 1024, 64);
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_reserve(layer, 64), NN_ERR_MEMORY);
    ASSERT_MENTIONS(nn_error_message(), "max_pooling2d", "a batch of 64");
    nn_layer_release(layer);
}
