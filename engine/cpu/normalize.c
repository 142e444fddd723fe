/* Keras' Normalization on the CPU: bodies from ../cuda/bodies/normalize_body.h. */
#include "../cuda/bodies/normalize_body.h"
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
