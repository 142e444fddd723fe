// Group (and layer) normalisation on the GPU: one thread per (sample, group) forward and
// for the input gradient, one per channel for the gradients of gamma and beta. Each runs a
// body from bodies/group_norm_body.h, the code the CPU runs too.
#include "cuda_kernels.h"
#include "bodies/group_norm_body.h"
#include "launch.cuh"

static __global__ void forward_kernel(float *y, float *mean, float *inv_std, const float *x,
                                      const float *gamma, const float *beta,
                                      nn_group_norm_geometry g, size_t groups)
{
    NN_FOR_EACH(k, groups) nn_body_group_norm_forward(y, mean, inv_std, x, gamma, beta, &g, k);
}

static __global__ void dx_kernel(float *dx, const float *dy, const float *x, const float *gamma,
                                 const float *mean, const float *inv_std,
                                 nn_group_norm_geometry g, size_t groups)
{
    NN_FOR_EACH(k, groups) nn_body_group_norm_dx(dx, dy, x, gamma, mean, inv_std, &g, k);
}

static __global__ void parameters_kernel(float *dgamma, float *dbeta, const float *dy,
                                         const float *x, const float *mean,
                                         const float *inv_std, nn_group_norm_geometry g)
{
    NN_FOR_EACH(c, (size_t)g.channels)
        nn_body_group_norm_parameters(dgamma, dbeta, dy, x, mean, inv_std, &g, c);
}

extern "C" void nn_cuda_group_norm_forward(float *y, float *mean, float *inv_std,
                                           const float *x, const float *gamma,
                                           const float *beta, const nn_group_norm_geometry *g)
{
    size_t groups = (size_t)(g->samples * g->groups);
    NN_CUDA_STREAM_OR_RETURN(context, groups);
    forward_kernel<<<nn_blocks(groups), NN_THREADS, 0, context->stream>>>(
        y, mean, inv_std, x, gamma, beta, *g, groups);
    NN_CUDA_LAUNCHED("group_norm_forward");
}

extern "C" void nn_cuda_group_norm_backward(float *dx, float *dgamma, float *dbeta,
                                            const float *dy, const float *x,
                                            const float *gamma, const float *mean,
                                            const float *inv_std,
                                            const nn_group_norm_geometry *g)
{
    size_t groups = (size_t)(g->samples * g->groups);
    NN_CUDA_STREAM_OR_RETURN(context, groups);
    if (dx) {
        dx_kernel<<<nn_blocks(groups), NN_THREADS, 0, context->stream>>>(
            dx, dy, x, gamma, mean, inv_std, *g, groups);
        NN_CUDA_LAUNCHED("group_norm_backward (input)");
    }
    if (dgamma || dbeta) {
        parameters_kernel<<<nn_blocks((size_t)g->channels), NN_THREADS, 0, context->stream>>>(
            dgamma, dbeta, dy, x, mean, inv_std, *g);
        NN_CUDA_LAUNCHED("group_norm_backward (gamma, beta)");
    }
}
