/* Dense: the CPU kernels against a naive double reference, that reference against
 * finite differences, the seed's example, the layer with fused and separate activations
 * and as a model's last layer, and its errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_kernels.h"
#include "cpu/simd.h"
#include "layer_harness.h"
#include "ref_layers.h"

/* Values in [-1, 1], at most 64 products per sum: float rounding stays near 1e-6 (see
 * test_conv2d.c for the argument), so atol 1e-5 + rtol 1e-4 has a wide margin. */
static const double KERNEL_ATOL = 1e-5, KERNEL_RTOL = 1e-4;
static const double GRADCHECK_ATOL = 1e-5, GRADCHECK_RTOL = 1e-3, GRADCHECK_EPS = 1e-6;

typedef struct dense_case {
    int batch, in_features, out_features;
    bool bias;
    nn_activation_kind activation;
} dense_case;

static const dense_case cases[] = {
    {1, 1, 1, true, NN_ACTIVATION_LINEAR},  {3, 5, 10, true, NN_ACTIVATION_RELU},
    {7, 13, 4, false, NN_ACTIVATION_TANH},  {64, 33, 17, true, NN_ACTIVATION_SOFTMAX},
    {2, 64, 3, false, NN_ACTIVATION_SIGMOID}, {5, 1, 9, true, NN_ACTIVATION_ELU},
};
enum { CASE_COUNT = sizeof cases / sizeof cases[0] };

static void *checked_calloc(size_t count, size_t size)
{
    void *memory = calloc(count > 0 ? count : 1, size);
    cr_assert(memory != NULL);
    return memory;
}

typedef struct dense_data {
    dense_case shape;
    size_t in_count, out_count, kernel_count;
    float *inp, *kernel, *bias, *out, *dout, *dinp, *dkernel, *dbias;
    double *inp64, *kernel64, *bias64, *out64, *dout64, *dinp64, *dkernel64, *dbias64;
} dense_data;

static void dense_data_init(dense_data *d, const dense_case *c, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    d->shape = *c;
    d->in_count = (size_t)c->batch * (size_t)c->in_features;
    d->out_count = (size_t)c->batch * (size_t)c->out_features;
    d->kernel_count = (size_t)c->in_features * (size_t)c->out_features;
    size_t n = (size_t)c->out_features;
    d->inp = checked_calloc(d->in_count, sizeof(float));
    d->kernel = checked_calloc(d->kernel_count, sizeof(float));
    d->bias = checked_calloc(n, sizeof(float));
    d->out = checked_calloc(d->out_count, sizeof(float));
    d->dout = checked_calloc(d->out_count, sizeof(float));
    d->dinp = checked_calloc(d->in_count, sizeof(float));
    d->dkernel = checked_calloc(d->kernel_count, sizeof(float));
    d->dbias = checked_calloc(n, sizeof(float));
    d->inp64 = checked_calloc(d->in_count, sizeof(double));
    d->kernel64 = checked_calloc(d->kernel_count, sizeof(double));
    d->bias64 = checked_calloc(n, sizeof(double));
    d->out64 = checked_calloc(d->out_count, sizeof(double));
    d->dout64 = checked_calloc(d->out_count, sizeof(double));
    d->dinp64 = checked_calloc(d->in_count, sizeof(double));
    d->dkernel64 = checked_calloc(d->kernel_count, sizeof(double));
    d->dbias64 = checked_calloc(n, sizeof(double));
    ts_fill_uniform(d->inp, d->in_count, seed, -1.0f, 1.0f);
    ts_fill_uniform(d->kernel, d->kernel_count, seed + 1, -1.0f, 1.0f);
    ts_fill_uniform(d->bias, n, seed + 2, -1.0f, 1.0f);
    ts_fill_uniform(d->dout, d->out_count, seed + 3, -1.0f, 1.0f);
    ts_to_double(d->inp64, d->inp, d->in_count);
    ts_to_double(d->kernel64, d->kernel, d->kernel_count);
    ts_to_double(d->bias64, d->bias, n);
    ts_to_double(d->dout64, d->dout, d->out_count);
}

static void dense_data_free(dense_data *d)
{
    void *buffers[] = {d->inp, d->kernel, d->bias, d->out, d->dout, d->dinp, d->dkernel,
                       d->dbias, d->inp64, d->kernel64, d->bias64, d->out64, d->dout64,
                       d->dinp64, d->dkernel64, d->dbias64};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        free(buffers[i]);
}

/* Reports the worst of several comparisons and asserts they all pass. */
static void report_worst(const char *what, const ts_comparison *comparisons, int count)
{
    ts_comparison worst = comparisons[0];
    for (int i = 1; i < count; i++)
        if (comparisons[i].worst_ratio > worst.worst_ratio)
            worst = comparisons[i];
    ts_report(what, &worst);
    cr_assert(worst.ok, "%s: off by %.3e (expected %.9g, got %.9g)", what, worst.worst_error,
              worst.expected, worst.actual);
}

Test(dense_kernel, forward_matches_reference)
{
    ts_comparison results[CASE_COUNT];
    for (int i = 0; i < CASE_COUNT; i++) {
        const dense_case *c = &cases[i];
        dense_data d;
        dense_data_init(&d, c, 10 + (uint64_t)i * 10);
        nn_activation activation = nn_activation_default(c->activation);
        nn_cpu_dense_forward(d.out, d.inp, d.kernel, c->bias ? d.bias : NULL, activation,
                             c->batch, c->in_features, c->out_features);
        ref_dense_forward(d.out64, d.inp64, d.kernel64, c->bias ? d.bias64 : NULL, c->batch,
                          c->in_features, c->out_features);
        ref_activation_forward(activation, d.out64, d.out64, d.out_count,
                               (size_t)c->out_features);
        results[i] = ts_compare(d.out, d.out64, d.out_count, KERNEL_ATOL, KERNEL_RTOL);
        dense_data_free(&d);
    }
    report_worst("dense cpu forward vs reference", results, CASE_COUNT);
}

Test(dense_kernel, backward_matches_reference)
{
    ts_comparison dinp[CASE_COUNT], dkernel[CASE_COUNT], dbias[CASE_COUNT];
    for (int i = 0; i < CASE_COUNT; i++) {
        const dense_case *c = &cases[i];
        dense_data d;
        dense_data_init(&d, c, 100 + (uint64_t)i * 10);
        nn_cpu_dense_backward(d.dinp, d.dkernel, c->bias ? d.dbias : NULL, d.dout, d.inp,
                              d.kernel, c->batch, c->in_features, c->out_features);
        ref_dense_backward(d.dinp64, d.dkernel64, d.dbias64, d.dout64, d.inp64, d.kernel64,
                           c->batch, c->in_features, c->out_features);
        dinp[i] = ts_compare(d.dinp, d.dinp64, d.in_count, KERNEL_ATOL, KERNEL_RTOL);
        dkernel[i] = ts_compare(d.dkernel, d.dkernel64, d.kernel_count, KERNEL_ATOL, KERNEL_RTOL);
        dbias[i] = c->bias ? ts_compare(d.dbias, d.dbias64, (size_t)c->out_features,
                                        KERNEL_ATOL, KERNEL_RTOL)
                           : (ts_comparison){.ok = true, .worst_ratio = -1.0};
        dense_data_free(&d);
    }
    report_worst("dense cpu backward dinp vs reference", dinp, CASE_COUNT);
    report_worst("dense cpu backward dkernel vs reference", dkernel, CASE_COUNT);
    report_worst("dense cpu backward dbias vs reference", dbias, CASE_COUNT);
}

/* Widths that are whole vectors go through the convolution tiles (forward, kernel and
 * bias gradients) instead of OpenBLAS: the seed CNN's 3136 -> 128, a short last row tile
 * (batch 13), one and several column blocks, at every vector level. Sums run up to 3136
 * products of values in [-1, 1], so float rounding reaches ~1e-5 there: atol 1e-4. */
static const dense_case tiled_cases[] = {
    {64, 3136, 128, true, NN_ACTIVATION_RELU}, {13, 40, 16, false, NN_ACTIVATION_LINEAR},
    {1, 7, 32, true, NN_ACTIVATION_TANH},      {6, 70, 80, true, NN_ACTIVATION_RELU},
};
enum { TILED_COUNT = sizeof tiled_cases / sizeof tiled_cases[0] };

Test(dense_kernel, whole_vector_widths_match_reference_at_every_level)
{
    nn_simd_level saved = nn_simd_active();
    for (int level = 0; level < NN_SIMD_LEVEL_COUNT; level++) {
        if (!nn_simd_select((nn_simd_level)level))
            continue;
        ts_comparison results[4 * TILED_COUNT];
        int count = 0;
        for (int i = 0; i < TILED_COUNT; i++) {
            const dense_case *c = &tiled_cases[i];
            dense_data d;
            dense_data_init(&d, c, 500 + (uint64_t)i * 10);
            nn_activation activation = nn_activation_default(c->activation);
            nn_cpu_dense_forward(d.out, d.inp, d.kernel, c->bias ? d.bias : NULL, activation,
                                 c->batch, c->in_features, c->out_features);
            nn_cpu_dense_backward(d.dinp, d.dkernel, c->bias ? d.dbias : NULL, d.dout, d.inp,
                                  d.kernel, c->batch, c->in_features, c->out_features);
            ref_dense_forward(d.out64, d.inp64, d.kernel64, c->bias ? d.bias64 : NULL,
                              c->batch, c->in_features, c->out_features);
            ref_activation_forward(activation, d.out64, d.out64, d.out_count,
                                   (size_t)c->out_features);
            ref_dense_backward(d.dinp64, d.dkernel64, d.dbias64, d.dout64, d.inp64,
                               d.kernel64, c->batch, c->in_features, c->out_features);
            results[count++] = ts_compare(d.out, d.out64, d.out_count, 1e-4, KERNEL_RTOL);
            results[count++] = ts_compare(d.dinp, d.dinp64, d.in_count, 1e-4, KERNEL_RTOL);
            results[count++] = ts_compare(d.dkernel, d.dkernel64, d.kernel_count, 1e-4,
                                          KERNEL_RTOL);
            if (c->bias)
                results[count++] = ts_compare(d.dbias, d.dbias64, (size_t)c->out_features,
                                              1e-4, KERNEL_RTOL);
            dense_data_free(&d);
        }
        char what[96];
        snprintf(what, sizeof what, "dense tiled widths (%s) vs reference",
                 nn_simd_level_name((nn_simd_level)level));
        report_worst(what, results, count);
    }
    cr_assert(nn_simd_select(saved));
}

Test(dense_kernel, backward_outputs_are_optional)
{
    dense_data d;
    dense_data_init(&d, &cases[1], 7);
    /* Only dkernel: the others are NULL and must not be touched. */
    nn_cpu_dense_backward(NULL, d.dkernel, NULL, d.dout, d.inp, d.kernel, 3, 5, 10);
    ref_dense_backward(NULL, d.dkernel64, NULL, d.dout64, d.inp64, d.kernel64, 3, 5, 10);
    cr_assert(ts_compare(d.dkernel, d.dkernel64, d.kernel_count, KERNEL_ATOL, KERNEL_RTOL).ok);
    dense_data_free(&d);
}

typedef enum dense_variable { DENSE_INPUT, DENSE_KERNEL, DENSE_BIAS } dense_variable;

typedef struct dense_objective {
    const dense_data *data;
    dense_variable variable;
    double *out;
} dense_objective;

static double dense_objective_value(const double *x, size_t n, void *context)
{
    (void)n;
    dense_objective *objective = context;
    const dense_data *d = objective->data;
    const dense_case *c = &d->shape;
    ref_dense_forward(objective->out, objective->variable == DENSE_INPUT ? x : d->inp64,
                      objective->variable == DENSE_KERNEL ? x : d->kernel64,
                      objective->variable == DENSE_BIAS ? x : d->bias64, c->batch,
                      c->in_features, c->out_features);
    double total = 0.0;
    for (size_t i = 0; i < d->out_count; i++)
        total += d->dout64[i] * objective->out[i];
    return total;
}

Test(dense_reference, backward_matches_finite_differences)
{
    ts_comparison results[3 * CASE_COUNT];
    for (int i = 0; i < CASE_COUNT; i++) {
        dense_data d;
        dense_data_init(&d, &cases[i], 200 + (uint64_t)i);
        ref_dense_backward(d.dinp64, d.dkernel64, d.dbias64, d.dout64, d.inp64, d.kernel64,
                           cases[i].batch, cases[i].in_features, cases[i].out_features);
        double *variables[] = {d.inp64, d.kernel64, d.bias64};
        const double *analytic[] = {d.dinp64, d.dkernel64, d.dbias64};
        size_t sizes[] = {d.in_count, d.kernel_count, (size_t)cases[i].out_features};
        for (int v = 0; v < 3; v++) {
            double *numeric = checked_calloc(sizes[v], sizeof(double));
            dense_objective objective = {&d, (dense_variable)v,
                                         checked_calloc(d.out_count, sizeof(double))};
            ts_numeric_gradient(dense_objective_value, &objective, variables[v], sizes[v],
                                GRADCHECK_EPS, numeric);
            results[3 * i + v] = ts_compare_double(analytic[v], numeric, sizes[v],
                                                   GRADCHECK_ATOL, GRADCHECK_RTOL);
            free(objective.out);
            free(numeric);
        }
        dense_data_free(&d);
    }
    report_worst("dense reference backward vs finite differences", results, 3 * CASE_COUNT);
}

/* ---- the layer ---- */

static nn_layer *make_dense(int units, nn_activation_kind activation, bool use_bias)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_dense_class), NN_OK);
    harness_set_int(layer, "units", units);
    harness_set_activation(layer, nn_activation_default(activation));
    harness_set_bool(layer, "use_bias", use_bias);
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

static void fill_weights(nn_layer *layer, uint64_t seed)
{
    for (int i = 0; i < layer->param_count; i++)
        ts_fill_uniform(nn_tensor_f32(layer->params[i].value),
                        nn_tensor_count(layer->params[i].value), seed + (uint64_t)i, -1.0f,
                        1.0f);
}

Test(dense_layer, seed_example_shapes_and_values)
{
    nn_layer *layer = make_dense(10, NN_ACTIVATION_RELU, true);
    nn_shape shape = NN_SHAPE(3, 5);
    cr_assert_eq(nn_layer_build(layer, &shape), NN_OK, "%s", nn_error_message());
    fill_weights(layer, 1);
    nn_tensor *x = harness_tensor(&shape, NULL);
    ts_fill_uniform(nn_tensor_f32(x), 15, 2, -1.0f, 1.0f);
    nn_tensor *y = NULL;
    cr_assert_eq(nn_layer_call(layer, x, false, &y), NN_OK, "%s", nn_error_message());
    char text[64];
    cr_assert_str_eq(nn_shape_format(&y->shape, text, sizeof text), "(3, 10)");
    cr_assert_str_eq(nn_shape_format(&nn_layer_param(layer, "kernel")->shape, text, sizeof text),
                     "(5, 10)");
    cr_assert_str_eq(nn_shape_format(&nn_layer_param(layer, "bias")->shape, text, sizeof text),
                     "(10,)");
    cr_assert_eq(nn_layer_count_params(layer, true), 60);
    double x64[15], kernel[50], bias[10], expected[30];
    ts_to_double(x64, nn_tensor_f32(x), 15);
    ts_to_double(kernel, nn_tensor_f32(layer->params[0].value), 50);
    ts_to_double(bias, nn_tensor_f32(layer->params[1].value), 10);
    ref_dense_forward(expected, x64, kernel, bias, 3, 5, 10);
    ref_activation_forward(layer->activation, expected, expected, 30, 10);
    ts_comparison result = ts_compare(nn_tensor_f32(y), expected, 30, KERNEL_ATOL, KERNEL_RTOL);
    ts_report("Dense{10, relu} seed example vs reference", &result);
    cr_assert(result.ok);
    nn_tensor_free(x);
    nn_tensor_free(y);
    nn_layer_release(layer);
}

Test(dense_layer, mnist_cnn_parameter_counts)
{
    /* SPEC §3: 401 536 and 1 290 parameters. */
    nn_layer *hidden = make_dense(128, NN_ACTIVATION_RELU, true);
    nn_shape flat = NN_SHAPE(-1, 3136);
    cr_assert_eq(nn_layer_build(hidden, &flat), NN_OK);
    cr_assert_eq(nn_layer_count_params(hidden, true), 401536);
    nn_layer *last = make_dense(10, NN_ACTIVATION_SOFTMAX, true);
    nn_shape features = NN_SHAPE(-1, 128);
    cr_assert_eq(nn_layer_build(last, &features), NN_OK);
    cr_assert_eq(nn_layer_count_params(last, true), 1290);
    nn_layer_release(hidden);
    nn_layer_release(last);
}

/* Forward and backward through the layer, fused (relu, softmax, tanh in inference or
 * training) and separate (gelu, leaky_relu, swish in training need x), on 2-D and 3-D
 * inputs, and as the last layer (logits given, pre-activation gradient taken). */
Test(dense_layer, forward_and_backward_match_reference)
{
    struct {
        int64_t dims[3];
        int ndim, units;
        nn_activation_kind activation;
        bool bias, training, last_layer;
    } layer_cases[] = {
        {{4, 6}, 2, 5, NN_ACTIVATION_RELU, true, true, false},
        {{4, 6}, 2, 5, NN_ACTIVATION_GELU, true, true, false},
        {{4, 6}, 2, 5, NN_ACTIVATION_LEAKY_RELU, false, true, false},
        {{2, 3, 6}, 3, 4, NN_ACTIVATION_SWISH, true, true, false},
        {{2, 3, 6}, 3, 4, NN_ACTIVATION_TANH, true, false, false},
        {{4, 6}, 2, 5, NN_ACTIVATION_SOFTMAX, true, true, false},
        {{4, 6}, 2, 5, NN_ACTIVATION_SOFTMAX, true, true, true},
        {{4, 6}, 2, 5, NN_ACTIVATION_SIGMOID, false, true, true},
    };
    ts_comparison results[4 * 8];
    int count = 0;
    for (int i = 0; i < 8; i++) {
        nn_layer *layer = make_dense(layer_cases[i].units, layer_cases[i].activation,
                                     layer_cases[i].bias);
        nn_shape shape = nn_shape_from(layer_cases[i].dims, layer_cases[i].ndim);
        cr_assert_eq(nn_layer_build(layer, &shape), NN_OK, "%s", nn_error_message());
        fill_weights(layer, 300 + (uint64_t)i);
        nn_tensor *input = harness_tensor(&shape, NULL);
        size_t in_count = nn_tensor_count(input);
        int in_features = 6, units = layer_cases[i].units;
        int rows = (int)(in_count / (size_t)in_features);
        size_t out_count = (size_t)rows * (size_t)units;
        ts_fill_uniform(nn_tensor_f32(input), in_count, 400 + (uint64_t)i, -1.0f, 1.0f);
        float *logits = layer_cases[i].last_layer ? checked_calloc(out_count, sizeof(float))
                                                  : NULL;
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, input, layer_cases[i].training, logits),
                     NN_OK, "%s", nn_error_message());
        double *x = checked_calloc(in_count, sizeof(double));
        double *kernel = checked_calloc((size_t)in_features * (size_t)units, sizeof(double));
        double *bias = checked_calloc((size_t)units, sizeof(double));
        double *z = checked_calloc(out_count, sizeof(double));
        double *y = checked_calloc(out_count, sizeof(double));
        ts_to_double(x, nn_tensor_f32(input), in_count);
        ts_to_double(kernel, nn_tensor_f32(layer->params[0].value), (size_t)in_features * (size_t)units);
        if (layer_cases[i].bias)
            ts_to_double(bias, nn_tensor_f32(layer->params[1].value), (size_t)units);
        ref_dense_forward(z, x, kernel, layer_cases[i].bias ? bias : NULL, rows, in_features,
                          units);
        ref_activation_forward(layer->activation, y, z, out_count, (size_t)units);
        results[count++] = ts_compare(nn_tensor_f32(run.output), y, out_count, KERNEL_ATOL,
                                      KERNEL_RTOL);
        if (logits)
            results[count++] = ts_compare(logits, z, out_count, KERNEL_ATOL, KERNEL_RTOL);
        if (layer_cases[i].training) {
            nn_tensor *doutput = harness_tensor(&run.output->shape, NULL);
            nn_tensor *dinput = harness_tensor(&shape, NULL);
            ts_fill_uniform(nn_tensor_f32(doutput), out_count, 500 + (uint64_t)i, -1.0f, 1.0f);
            cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput,
                                          layer_cases[i].last_layer),
                         NN_OK, "%s", nn_error_message());
            double *dy = checked_calloc(out_count, sizeof(double));
            double *dz = checked_calloc(out_count, sizeof(double));
            double *dx = checked_calloc(in_count, sizeof(double));
            double *dkernel = checked_calloc((size_t)in_features * (size_t)units, sizeof(double));
            ts_to_double(dy, nn_tensor_f32(doutput), out_count);
            if (layer_cases[i].last_layer)
                memcpy(dz, dy, out_count * sizeof(double));
            else
                ref_activation_backward(layer->activation, dz, dy, z, out_count, (size_t)units);
            ref_dense_backward(dx, dkernel, NULL, dz, x, kernel, rows, in_features, units);
            results[count++] = ts_compare(nn_tensor_f32(dinput), dx, in_count, KERNEL_ATOL,
                                          KERNEL_RTOL);
            results[count++] = ts_compare(nn_tensor_f32(layer->params[0].grad), dkernel,
                                          (size_t)in_features * (size_t)units, KERNEL_ATOL,
                                          KERNEL_RTOL);
            free(dy);
            free(dz);
            free(dx);
            free(dkernel);
            nn_tensor_free(doutput);
            nn_tensor_free(dinput);
        }
        for (int r = 0; r < count; r++)
            cr_assert(results[r].ok, "case %d, comparison %d: off by %.3e (expected %.9g, got %.9g)",
                      i, r, results[r].worst_error, results[r].expected, results[r].actual);
        free(logits);
        free(x);
        free(kernel);
        free(bias);
        free(z);
        free(y);
        nn_tensor_free(input);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
    report_worst("Dense layer forward/backward vs reference", results, count);
}

/* ---- errors ---- */

Test(dense_errors, input_needs_a_feature_axis)
{
    nn_layer *layer = make_dense(10, NN_ACTIVATION_LINEAR, true);
    nn_shape vector = NN_SHAPE(5);
    cr_assert_eq(nn_layer_build(layer, &vector), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "dense", "min_ndim=2", "found ndim=1");
    nn_layer_release(layer);
}

Test(dense_errors, built_layer_rejects_other_feature_counts)
{
    nn_layer *layer = make_dense(10, NN_ACTIVATION_LINEAR, true);
    nn_shape first = NN_SHAPE(3, 5);
    cr_assert_eq(nn_layer_build(layer, &first), NN_OK);
    nn_shape second = NN_SHAPE(3, 6);
    nn_tensor *x = harness_tensor(&second, NULL), *y = NULL;
    cr_assert_eq(nn_layer_call(layer, x, false, &y), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "dense", "(None, 5)", "(3, 6)");
    nn_tensor_free(x);
    nn_layer_release(layer);
}
