/* Keras' Normalization, UnitNormalization, Discretization and CategoryEncoding on the
 * CPU: bodies from ../cuda/bodies/normalize_body.h, unit_norm_body.h and category_body.h. */
#include "../cuda/bodies/category_body.h"
#include "../cuda/bodies/normalize_body.h"
#include "../cuda/bodies/unit_norm_body.h"
#include "cpu_kernels.h"

/* Below this many elements a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 15 };

void nn_cpu_normalize(float *y, const float *x, const float *mean, const float *variance,
                      const nn_normalize_geometry *g, bool gradient)
{
    const long count = (long)g->count;
#pragma omp parallel for schedule(static) if (count > PARALLEL_THRESHOLD)
    for (long i = 0; i < count; i++)
        nn_body_normalize(y, x, mean, variance, g, gradient, (size_t)i);
}

void nn_cpu_unit_norm_forward(float *y, const float *x, const nn_unit_norm_geometry *g)
{
    const long runs = (long)(g->outer * g->inner);
#pragma omp parallel for schedule(static) if (runs * g->length > PARALLEL_THRESHOLD)
    for (long run = 0; run < runs; run++)
        nn_body_unit_norm_forward(y, x, g, (size_t)run);
}

void nn_cpu_unit_norm_backward(float *dx, const float *dy, const float *x,
                               const nn_unit_norm_geometry *g)
{
    const long runs = (long)(g->outer * g->inner);
#pragma omp parallel for schedule(static) if (runs * g->length > PARALLEL_THRESHOLD)
    for (long run = 0; run < runs; run++)
        nn_body_unit_norm_backward(dx, dy, x, g, (size_t)run);
}

void nn_cpu_bucketize(float *out, const float *x, size_t n, const nn_category_geometry *g)
{
    const long count = (long)n;
#pragma omp parallel for schedule(static) if (count > PARALLEL_THRESHOLD)
    for (long i = 0; i < count; i++)
        nn_body_bucketize(out, x, g, (size_t)i);
}

void nn_cpu_category_encode(float *out, const float *x, const nn_category_geometry *g)
{
    const long rows = (long)g->rows;
#pragma omp parallel for schedule(static) if (rows * (g->length + g->tokens) > PARALLEL_THRESHOLD)
    for (long r = 0; r < rows; r++)
        nn_body_category_encode(out, x, g, (size_t)r);
}
