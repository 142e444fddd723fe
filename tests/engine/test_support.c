/* Helpers shared by the engine tests. */
#include "test_support.h"

#include <math.h>
#include <stdio.h>

#include "random.h"

void ts_fill_uniform(float *out, size_t n, uint64_t seed, float low, float high)
{
    nn_rng rng;
    nn_rng_init(&rng, seed, 0xC0FFEE);
    for (size_t i = 0; i < n; i++)
        out[i] = low + (high - low) * nn_rng_uniform(&rng);
}

void ts_fill_uniform_double(double *out, size_t n, uint64_t seed, double low, double high)
{
    nn_rng rng;
    nn_rng_init(&rng, seed, 0xC0FFEE);
    for (size_t i = 0; i < n; i++)
        out[i] = low + (high - low) * nn_rng_uniform_double(&rng);
}

void ts_to_double(double *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[i];
}

void ts_to_float(float *out, const double *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (float)in[i];
}

ts_comparison ts_compare_double(const double *actual, const double *expected, size_t n,
                                double atol, double rtol)
{
    ts_comparison result = {.ok = true, .worst_ratio = -1.0};
    for (size_t i = 0; i < n; i++) {
        double error = fabs(actual[i] - expected[i]);
        double ratio = error / (atol + rtol * fabs(expected[i]));
        if (isnan(actual[i]) != isnan(expected[i]))
            ratio = INFINITY;
        if (ratio > result.worst_ratio) {
            result.worst_ratio = ratio;
            result.worst_index = i;
            result.worst_error = error;
            result.expected = expected[i];
            result.actual = actual[i];
        }
    }
    result.ok = result.worst_ratio <= 1.0;
    return result;
}

ts_comparison ts_compare(const float *actual, const double *expected, size_t n, double atol,
                         double rtol)
{
    ts_comparison result = {.ok = true, .worst_ratio = -1.0};
    for (size_t i = 0; i < n; i++) {
        double value = actual[i];
        double error = fabs(value - expected[i]);
        double ratio = error / (atol + rtol * fabs(expected[i]));
        if (isnan(value) != isnan(expected[i]))
            ratio = INFINITY;
        if (ratio > result.worst_ratio) {
            result.worst_ratio = ratio;
            result.worst_index = i;
            result.worst_error = error;
            result.expected = expected[i];
            result.actual = value;
        }
    }
    result.ok = result.worst_ratio <= 1.0;
    return result;
}

void ts_numeric_gradient(ts_scalar_fn f, void *context, double *x, size_t n, double eps,
                         double *grad)
{
    for (size_t i = 0; i < n; i++) {
        double saved = x[i];
        x[i] = saved + eps;
        double plus = f(x, n, context);
        x[i] = saved - eps;
        double minus = f(x, n, context);
        x[i] = saved;
        grad[i] = (plus - minus) / (2.0 * eps);
    }
}

void ts_report(const char *what, const ts_comparison *comparison)
{
    fprintf(stderr, "[max error] %-48s max |error| %.3e at %zu (expected %.6g, got %.6g), "
                    "worst/tolerance %.3f%s\n",
            what, comparison->worst_error, comparison->worst_index, comparison->expected,
            comparison->actual, comparison->worst_ratio, comparison->ok ? "" : "  FAILED");
}
