/* LayerNormalization against a reference in double written from the definition, its
 * gradients (input, gamma, beta) against central differences of that reference, and the
 * layer's shape rules and errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "layer_harness.h"

/* y = (x - mean) / sqrt(var + epsilon) · gamma + beta over each row of width values. */
static void reference(double *y, const double *x, const double *gamma, const double *beta,
                      int rows, int width, double epsilon)
{
    for (int r = 0; r < rows; r++) {
        const double *row = x + (size_t)r * width;
        double mean = 0, variance = 0;
        for (int c = 0; c < width; c++)
            mean += row[c] / width;
        for (int c = 0; c < width; c++)
            variance += (row[c] - mean) * (row[c] - mean) / width;
        for (int c = 0; c < width; c++)
            y[(size_t)r * width + c] =
                (row[c] - mean) / sqrt(variance + epsilon) * gamma[c] + beta[c];
    }
}

/* sum(dy · y(x, gamma, beta)) for the central differences. */
static double objective(const double *x, const double *gamma, const double *beta,
                        const float *dy, int rows, int width, double epsilon)
{
    double *y = malloc((size_t)rows * width * sizeof *y), total = 0;
    reference(y, x, gamma, beta, rows, width, epsilon);
    for (size_t i = 0; i < (size_t)rows * width; i++)
        total += dy[i] * y[i];
    free(y);
    return total;
}

static double *to_double(const float *values, size_t n)
{
    double *out = malloc(n * sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = values[i];
    return out;
}

/* d objective / d values[i] by a central difference. */
static double central(double *values, size_t i, const double *x, const double *gamma,
                      const double *beta, const float *dy, int rows, int width, double epsilon)
{
    const double h = 1e-5;
    double saved = values[i];
    values[i] = saved + h;
    double up = objective(x, gamma, beta, dy, rows, width, epsilon);
    values[i] = saved - h;
    double down = objective(x, gamma, beta, dy, rows, width, epsilon);
    values[i] = saved;
    return (up - down) / (2 * h);
}

Test(layer_normalization, forward_and_gradients_match_the_reference)
{
    const struct { int batch, middle, width; float epsilon; } cases[] = {
        {4, 1, 8, 1e-3f}, {2, 3, 5, 1e-3f}, {3, 1, 1, 1e-3f}, {2, 2, 64, 1e-5f}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int rows = cases[k].batch * cases[k].middle, width = cases[k].width;
        nn_layer *layer = NULL;
        cr_assert_eq(nn_layer_create(&layer, &nn_layernorm_class), NN_OK);
        *(float *)harness_arg(layer, "epsilon") = cases[k].epsilon;
        cr_assert_eq(nn_layer_finish(layer), NN_OK);
        nn_shape shape = cases[k].middle == 1 ? NN_SHAPE(cases[k].batch, width)
                                              : NN_SHAPE(cases[k].batch, cases[k].middle, width);
        cr_assert_eq(nn_layer_build(layer, &shape), NN_OK, "%s", nn_error_message());
        /* gamma then beta, as Keras declares them */
        float *gamma = nn_tensor_f32(layer->params[0].value);
        float *beta = nn_tensor_f32(layer->params[1].value);
        ts_fill_uniform(gamma, (size_t)width, 10 + k, 0.5f, 1.5f);
        ts_fill_uniform(beta, (size_t)width, 20 + k, -0.5f, 0.5f);
        nn_tensor *x = harness_tensor(&shape, NULL);
        ts_fill_uniform(nn_tensor_f32(x), nn_tensor_count(x), 30 + k, -2, 2);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
        nn_tensor *dy = harness_tensor(&shape, NULL), *dx = harness_tensor(&shape, NULL);
        ts_fill_uniform(nn_tensor_f32(dy), nn_tensor_count(dy), 40 + k, -1, 1);
        cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK, "%s", nn_error_message());

        size_t n = nn_tensor_count(x);
        double *x64 = to_double(nn_tensor_f32(x), n), *gamma64 = to_double(gamma, (size_t)width);
        double *beta64 = to_double(beta, (size_t)width), *y64 = malloc(n * sizeof *y64);
        reference(y64, x64, gamma64, beta64, rows, width, cases[k].epsilon);
        ts_comparison forward = ts_compare(nn_tensor_f32(run.output), y64, n, 1e-5, 1e-5);
        cr_expect(forward.ok, "case %zu forward: element %zu is %.9g, expected %.9g", k,
                  forward.worst_index, (double)nn_tensor_f32(run.output)[forward.worst_index],
                  y64[forward.worst_index]);
        const float *dy32 = nn_tensor_f32(dy);
        for (size_t i = 0; i < n; i++) {
            double numeric = central(x64, i, x64, gamma64, beta64, dy32, rows, width, cases[k].epsilon);
            cr_expect(fabs(nn_tensor_f32(dx)[i] - numeric) <= 1e-3 * (1 + fabs(numeric)),
                      "case %zu: dx[%zu] is %.7g, the central difference %.7g", k, i,
                      (double)nn_tensor_f32(dx)[i], numeric);
        }
        for (int c = 0; c < width; c++) {
            double dgamma = central(gamma64, (size_t)c, x64, gamma64, beta64, dy32, rows, width, cases[k].epsilon);
            double dbeta = central(beta64, (size_t)c, x64, gamma64, beta64, dy32, rows, width, cases[k].epsilon);
            cr_expect(fabs(nn_tensor_f32(layer->params[0].grad)[c] - dgamma) <= 1e-3 * (1 + fabs(dgamma)),
                      "case %zu: dgamma[%d] is %.7g, the central difference %.7g", k, c,
                      (double)nn_tensor_f32(layer->params[0].grad)[c], dgamma);
            cr_expect(fabs(nn_tensor_f32(layer->params[1].grad)[c] - dbeta) <= 1e-3 * (1 + fabs(dbeta)),
                      "case %zu: dbeta[%d] is %.7g, the central difference %.7g", k, c,
                      (double)nn_tensor_f32(layer->params[1].grad)[c], dbeta);
        }
        free(x64), free(gamma64), free(beta64), free(y64);
        nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
}

Test(layer_normalization, only_the_last_axis_and_no_rms_scaling)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_layernorm_class), NN_OK);
    *(int *)harness_arg(layer, "axis") = 1;
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape shape = NN_SHAPE(2, 3, 4);
    cr_assert_eq(nn_layer_build(layer, &shape), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "axis 1", "(None, 3, 4)", "last axis only");
    nn_layer_release(layer);
    cr_assert_eq(nn_layer_create(&layer, &nn_layernorm_class), NN_OK);
    harness_set_bool(layer, "rms_scaling", true);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "rms_scaling=True");
    nn_layer_release(layer);
}
