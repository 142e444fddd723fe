/* Group (and layer) normalisation on the CPU: each sample's group normalised on its own
 * (groups in parallel), the parameter gradients summed per channel. The arithmetic is the
 * CUDA bodies' (cuda/bodies/group_norm_body.h), group by group in the same order, so both
 * backends give the same bits. */
#include "cpu_kernels.h"
#include "../cuda/bodies/group_norm_body.h"

/* Below this many elements a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 15 };

static int64_t element_count(const nn_group_norm_geometry *g)
{
    return g->samples * g->before * g->channels * g->after;
}

void nn_cpu_group_norm_forward(float *y, float *mean, float *inv_std, const float *x,
                               const float *gamma, const float *beta,
                               const nn_group_norm_geometry *g)
{
    int64_t groups = g->samples * g->groups;
#pragma omp parallel for schedule(static) if (element_count(g) > PARALLEL_THRESHOLD)
    for (int64_t k = 0; k < groups; k++)
        nn_body_group_norm_forward(y, mean, inv_std, x, gamma, beta, g, (size_t)k);
}

void nn_cpu_group_norm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *gamma, const float *mean,
                                const float *inv_std, const nn_group_norm_geometry *g)
{
    if (dx) {
        int64_t groups = g->samples * g->groups;
#pragma omp parallel for schedule(static) if (element_count(g) > PARALLEL_THRESHOLD)
        for (int64_t k = 0; k < groups; k++)
            nn_body_group_norm_dx(dx, dy, x, gamma, mean, inv_std, g, (size_t)k);
    }
    if (dgamma || dbeta) {
#pragma omp parallel for schedule(static) if (element_count(g) > PARALLEL_THRESHOLD)
        for (int64_t c = 0; c < g->channels; c++)
            nn_body_group_norm_parameters(dgamma, dbeta, dy, x, mean, inv_std, g, (size_t)c);
    }
}
