/* Helpers shared by the engine tests: random data, closeness checks that report the
 * worst element, and central finite differences in double precision. */
#ifndef NN_TEST_SUPPORT_H
#define NN_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deterministic uniform numbers in [low, high). */
void ts_fill_uniform(float *out, size_t n, uint64_t seed, float low, float high);
void ts_fill_uniform_double(double *out, size_t n, uint64_t seed, double low, double high);
void ts_to_double(double *out, const float *in, size_t n);
void ts_to_float(float *out, const double *in, size_t n);

/* Result of comparing an array against a reference. */
typedef struct ts_comparison {
    bool ok;
    size_t worst_index;   /* the element furthest outside (or closest to) tolerance */
    double worst_error;   /* |actual - expected| there */
    double worst_ratio;   /* error / (atol + rtol * |expected|); <= 1 passes */
    double expected, actual;
} ts_comparison;

/* Every |actual - expected| <= atol + rtol * |expected|. */
ts_comparison ts_compare(const float *actual, const double *expected, size_t n, double atol,
                         double rtol);
ts_comparison ts_compare_double(const double *actual, const double *expected, size_t n,
                                double atol, double rtol);

/* A scalar function of x[0..n), e.g. sum(weights * forward(x)). */
typedef double (*ts_scalar_fn)(const double *x, size_t n, void *context);

/* grad[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps). x is restored. */
void ts_numeric_gradient(ts_scalar_fn f, void *context, double *x, size_t n, double eps,
                         double *grad);

/* Logs "<what>: max |error| = ..., worst ratio ..." to stderr, so the suite output shows
 * the largest error per kernel. */
void ts_report(const char *what, const ts_comparison *comparison);

#endif
