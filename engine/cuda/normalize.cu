// Keras' Normalization on the GPU, one thread an element. Body from bodies/normalize_body.h.
#include "cuda_kernels.h"
#include "bodies/normalize_body.h"
#include "launch.cuh"

static __global__ void normalize_kernel(float *y, const float *x, const float *mean,
                                        const float *variance, nn_normalize_geometry g,
                                        bool gradient, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_normalize(y, x, mean, variance, &g, gradient, i);
}

extern "C" void nn_cuda_normalize(float *y, const float *x, const float *mean,
                                  const float *variance, const nn_normalize_geometry *g,
                                  bool gradient)
{
    size_t n = (size_t)g->count;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    normalize_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(y, x, mean, variance, *g,
                                                                       gradient, n);
    NN_CUDA_LAUNCHED("normalize");
}
