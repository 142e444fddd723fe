/* Layer normalisation on the CPU: each row of the last axis normalised on its own (rows
 * in parallel), the parameter gradients summed down the columns. The arithmetic is the
 * CUDA bodies' (cuda/bodies/layernorm_body.h), row by row in the same order, so both
 * backends give the same bits. */
#include "cpu_kernels.h"
#include "../cuda/bodies/layernorm_body.h"

/* Below this many elements a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 15 };

void nn_cpu_layernorm_forward(float *y, float *mean, float *inv_std, const float *x,
                              const float *gamma, const float *beta, int64_t rows,
                              int64_t width, float epsilon)
{
#pragma omp parallel for schedule(static) if (rows * width > PARALLEL_THRESHOLD)
    for (int64_t r = 0; r < rows; r++)
        nn_body_layernorm_row(y, mean, inv_std, x, gamma, beta, (size_t)width, epsilon,
                              (size_t)r);
}

void nn_cpu_layernorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                               const float *x, const float *gamma, const float *mean,
                               const float *inv_std, int64_t rows, int64_t width)
{
    if (dx) {
#pragma omp parallel for schedule(static) if (rows * width > PARALLEL_THRESHOLD)
        for (int64_t r = 0; r < rows; r++)
            nn_body_layernorm_dx(dx, dy, x, gamma, mean, inv_std, (size_t)width, (size_t)r);
    }
    if (dgamma || dbeta) {
#pragma omp parallel for schedule(static) if (rows * width > PARALLEL_THRESHOLD)
        for (int64_t c = 0; c < width; c++)
            nn_body_layernorm_parameters(dgamma, dbeta, dy, x, mean, inv_std, (size_t)rows,
                                         (size_t)width, (size_t)c);
    }
}
