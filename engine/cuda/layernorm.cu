// Layer normalisation on the GPU: one thread per row forward and for the input gradient,
// one per column for the gradients of gamma and beta. Each runs a body from
// bodies/layernorm_body.h, the code the CPU runs too.
#include "cuda_kernels.h"
#include "bodies/layernorm_body.h"
#include "launch.cuh"

static __global__ void forward_kernel(float *y, float *mean, float *inv_std, const float *x,
                                      const float *gamma, const float *beta, size_t width,
                                      float epsilon, size_t rows)
{
    NN_FOR_EACH(r, rows) nn_body_layernorm_row(y, mean, inv_std, x, gamma, beta, width, epsilon, r);
}

static __global__ void dx_kernel(float *dx, const float *dy, const float *x, const float *gamma,
                                 const float *mean, const float *inv_std, size_t width,
                                 size_t rows)
{
    NN_FOR_EACH(r, rows) nn_body_layernorm_dx(dx, dy, x, gamma, mean, inv_std, width, r);
}

static __global__ void parameters_kernel(float *dgamma, float *dbeta, const float *dy,
                                         const float *x, const float *mean,
                                         const float *inv_std, size_t rows, size_t width)
{
    NN_FOR_EACH(c, width)
        nn_body_layernorm_parameters(dgamma, dbeta, dy, x, mean, inv_std, rows, width, c);
}

extern "C" void nn_cuda_layernorm_forward(float *y, float *mean, float *inv_std, const float *x,
                                          const float *gamma, const float *beta, int64_t rows,
                                          int64_t width, float epsilon)
{
    NN_CUDA_STREAM_OR_RETURN(context, (size_t)rows);
    forward_kernel<<<nn_blocks((size_t)rows), NN_THREADS, 0, context->stream>>>(
        y, mean, inv_std, x, gamma, beta, (size_t)width, epsilon, (size_t)rows);
    NN_CUDA_LAUNCHED("layernorm_forward");
}

extern "C" void nn_cuda_layernorm_backward(float *dx, float *dgamma, float *dbeta,
                                           const float *dy, const float *x, const float *gamma,
                                           const float *mean, const float *inv_std,
                                           int64_t rows, int64_t width)
{
    NN_CUDA_STREAM_OR_RETURN(context, (size_t)rows);
    if (dx) {
        dx_kernel<<<nn_blocks((size_t)rows), NN_THREADS, 0, context->stream>>>(
            dx, dy, x, gamma, mean, inv_std, (size_t)width, (size_t)rows);
        NN_CUDA_LAUNCHED("layernorm_backward (input)");
    }
    if (dgamma || dbeta) {
        parameters_kernel<<<nn_blocks((size_t)width), NN_THREADS, 0, context->stream>>>(
            dgamma, dbeta, dy, x, mean, inv_std, (size_t)rows, (size_t)width);
        NN_CUDA_LAUNCHED("layernorm_backward (gamma, beta)");
    }
}
