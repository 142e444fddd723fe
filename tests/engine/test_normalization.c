/* Normalization: the kernel against a naive reference in double (the last axis, a middle
 * axis, one mean for everything; inverted; the gradient, also against central
 * differences of the reference), adapt's mean and variance against sums by hand, and a
 * constant feature's 0 where a division by its 0 deviation would give NaN. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_kernels.h"
#include "layer_harness.h"

/* y of x (n = count) as Keras writes it, in double. */
static void reference(double *y, const double *x, const double *mean, const double *variance,
                      const nn_normalize_geometry *g)
{
    for (int64_t i = 0; i < g->count; i++) {
        int64_t c = i / g->inner % g->channels;
        double center = mean[c], std = fmax(sqrt(variance[c]), 1e-7);
        if (g->given) { /* the values in the geometry, one for all when there is one */
            int64_t k = g->given > 1 ? c : 0;
            center = g->mean[k], std = fmax(sqrt((double)g->variance[k]), 1e-7);
        }
        y[i] = g->invert ? center + x[i] * std : (x[i] - center) / std;
    }
}

typedef struct objective {
    const nn_normalize_geometry *g;
    const double *mean, *variance, *weights;
    double *y;
} objective;

/* sum(weights · y(x)): its gradient in x is the input's gradient for doutput = weights. */
static double objective_value(const double *x, size_t n, void *context)
{
    objective *o = context;
    reference(o->y, x, o->mean, o->variance, o->g);
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += o->weights[i] * o->y[i];
    return total;
}

Test(normalization_kernel, matches_the_reference_and_finite_differences)
{
    const nn_normalize_geometry cases[] = {
        {.count = 4 * 6, .channels = 6, .inner = 1},                  /* (4, 6), axis -1 */
        {.count = 3 * 5 * 4 * 2, .channels = 5, .inner = 8},          /* (3, 5, 4, 2), axis 1 */
        {.count = 30, .channels = 1, .inner = 1},                     /* axis None */
        {.count = 4 * 6, .channels = 6, .inner = 1, .invert = true},
        {.count = 3 * 5 * 4 * 2, .channels = 5, .inner = 8, .invert = true},
        {.count = 4 * 6, .channels = 6, .inner = 1, .given = 6,         /* given per index */
         .mean = {1, -1, 0.5f, 2, 0, 3}, .variance = {4, 0.25f, 1, 9, 0, 2}},
        {.count = 30, .channels = 1, .inner = 1, .invert = true, .given = 1, .mean = {2},
         .variance = {9}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const nn_normalize_geometry *g = &cases[k];
        size_t n = (size_t)g->count, c = (size_t)g->channels;
        float *x = malloc(n * 4), *dy = malloc(n * 4), *y = malloc(n * 4);
        float *mean = malloc(c * 4), *variance = malloc(c * 4);
        double *xd = malloc(n * 8), *dyd = malloc(n * 8), *expected = malloc(n * 8);
        double *meand = malloc(c * 8), *varianced = malloc(c * 8), *numeric = malloc(n * 8);
        ts_fill_uniform(x, n, 1 + k, -3, 3);
        ts_fill_uniform(dy, n, 2 + k, -1, 1);
        ts_fill_uniform(mean, c, 3 + k, -2, 2);
        ts_fill_uniform(variance, c, 4 + k, 0.1f, 4);
        variance[0] = 0; /* a constant feature: std is the floor, 1e-7 */
        ts_to_double(xd, x, n), ts_to_double(dyd, dy, n);
        ts_to_double(meand, mean, c), ts_to_double(varianced, variance, c);

        /* Given values travel in the geometry: no arrays. */
        const float *mean_in = g->given ? NULL : mean, *variance_in = g->given ? NULL : variance;
        nn_cpu_normalize(y, x, mean_in, variance_in, g, false);
        reference(expected, xd, meand, varianced, g);
        ts_comparison forward = ts_compare(y, expected, n, 1e-4, 1e-5);
        ts_report("normalize forward", &forward);
        cr_expect(forward.ok, "case %zu: forward differs", k);

        nn_cpu_normalize(y, dy, mean_in, variance_in, g, true);
        objective o = {g, meand, varianced, dyd, expected};
        ts_numeric_gradient(objective_value, &o, xd, n, 1e-3, numeric);
        /* Where the floor makes the slope 1e7, the difference quotient is exact only in
         * relative terms: compare relatively there. */
        ts_comparison backward = ts_compare(y, numeric, n, 1e-3, 1e-4);
        ts_report("normalize gradient vs finite differences", &backward);
        cr_expect(backward.ok, "case %zu: gradient differs", k);

        /* y may be x. */
        memcpy(y, x, n * 4);
        nn_cpu_normalize(y, y, mean_in, variance_in, g, false);
        reference(expected, xd, meand, varianced, g);
        ts_comparison in_place = ts_compare(y, expected, n, 1e-4, 1e-5);
        cr_expect(in_place.ok, "case %zu: in place differs", k);
        free(x), free(dy), free(y), free(mean), free(variance);
        free(xd), free(dyd), free(expected), free(meand), free(varianced), free(numeric);
    }
}

static nn_layer *make_normalization(int axis, bool axis_none)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_normalization_class), NN_OK);
    nn_optional_int *value = harness_arg(layer, "axis");
    *value = (nn_optional_int){!axis_none, axis};
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    return layer;
}

Test(normalization_layer, adapt_takes_each_index_mean_and_population_variance)
{
    /* (4, 2, 3), axis 1: index 0 of axis 1 holds 0..2 and 6..8 of each pair of rows. */
    nn_shape shape = NN_SHAPE(4, 2, 3);
    nn_tensor *data = harness_tensor(&shape, NULL);
    float *values = nn_tensor_f32(data);
    for (int i = 0; i < 24; i++)
        values[i] = (float)(i * i % 11);
    nn_layer *layer = make_normalization(1, false);
    cr_assert_eq(nn_layer_adapt(layer, data), NN_OK, "%s", nn_error_message());
    for (int c = 0; c < 2; c++) {
        double sum = 0, squares = 0;
        for (int row = 0; row < 4; row++)
            for (int j = 0; j < 3; j++)
                sum += values[row * 6 + c * 3 + j];
        double mean = sum / 12;
        for (int row = 0; row < 4; row++)
            for (int j = 0; j < 3; j++) {
                double d = values[row * 6 + c * 3 + j] - mean;
                squares += d * d;
            }
        cr_expect_float_eq(nn_tensor_f32(layer->params[0].value)[c], (float)mean, 1e-6);
        cr_expect_float_eq(nn_tensor_f32(layer->params[1].value)[c], (float)(squares / 12),
                           1e-5);
    }
    cr_expect_eq(nn_tensor_f32(layer->params[2].value)[0], 0.0f,
                 "count: Keras 3 keeps it for older files and never sets it");

    /* Adapted, the layer gives each index mean 0 and variance 1 on that data. */
    nn_tensor *out = NULL;
    cr_assert_eq(nn_layer_call(layer, data, false, &out), NN_OK, "%s", nn_error_message());
    for (int c = 0; c < 2; c++) {
        double sum = 0, squares = 0;
        for (int row = 0; row < 4; row++)
            for (int j = 0; j < 3; j++) {
                double v = nn_tensor_f32(out)[row * 6 + c * 3 + j];
                sum += v, squares += v * v;
            }
        cr_expect(fabs(sum / 12) < 1e-6 && fabs(squares / 12 - 1) < 1e-5,
                  "index %d: mean %g, variance %g", c, sum / 12, squares / 12);
    }
    nn_tensor_free(out);

    /* Data of another shape is refused and changes nothing. */
    nn_shape other = NN_SHAPE(4, 3, 3);
    nn_tensor *wrong = harness_tensor(&other, NULL);
    float before = nn_tensor_f32(layer->params[0].value)[0];
    cr_expect_neq(nn_layer_adapt(layer, wrong), NN_OK);
    ASSERT_MENTIONS(nn_error_message(), "normalization");
    cr_expect_eq(nn_tensor_f32(layer->params[0].value)[0], before);
    nn_tensor_free(wrong);
    nn_tensor_free(data);
    nn_layer_release(layer);
}

Test(normalization_layer, a_constant_feature_gives_zero_and_the_batch_axis_is_refused)
{
    nn_shape shape = NN_SHAPE(3, 2);
    const float values[] = {5, 1, 5, 2, 5, 3};
    nn_tensor *data = harness_tensor(&shape, values), *out = NULL;
    nn_layer *layer = make_normalization(-1, false);
    cr_assert_eq(nn_layer_adapt(layer, data), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_call(layer, data, false, &out), NN_OK);
    for (int row = 0; row < 3; row++)
        cr_expect_eq(nn_tensor_f32(out)[row * 2], 0.0f, "the constant feature is 0, not NaN");
    nn_tensor_free(out);
    nn_layer_release(layer);

    layer = make_normalization(0, false);
    cr_expect_eq(nn_layer_adapt(layer, data), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "axis=0 is the batch axis");
    nn_layer_release(layer);
    nn_tensor_free(data);
}
