// Keras' PReLU on the GPU: the rectifier and its input gradient one thread an element,
// alpha's gradient one thread an alpha element. Bodies from bodies/prelu_body.h.
#include "cuda_kernels.h"
#include "bodies/prelu_body.h"
#include "launch.cuh"

static __global__ void prelu_kernel(float *out, const float *x, const float *dout,
                                    const float *alpha, nn_prelu_geometry g, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_prelu(out, x, dout, alpha, &g, i);
}

extern "C" void nn_cuda_prelu(float *out, const float *x, const float *dout, const float *alpha,
                              const nn_prelu_geometry *g)
{
    size_t n = nn_body_prelu_input_count(g);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    prelu_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(out, x, dout, alpha, *g, n);
    NN_CUDA_LAUNCHED("prelu");
}

static __global__ void prelu_alpha_gradient_kernel(float *dalpha, const float *x,
                                                   const float *dout, nn_prelu_geometry g,
                                                   size_t n)
{
    NN_FOR_EACH(a, n) nn_body_prelu_alpha_gradient(dalpha, x, dout, &g, a);
}

// The trailing case: a block per alpha element, its NN_PRELU_SLICES threads summing the
// slices, the first adding them in order (the CPU's sums exactly).
static __global__ void prelu_alpha_slices_kernel(float *dalpha, const float *x,
                                                 const float *dout, size_t trailing,
                                                 size_t rows)
{
    __shared__ double partials[NN_PRELU_SLICES];
    size_t a = blockIdx.x, slice = threadIdx.x;
    partials[slice] = nn_body_prelu_alpha_slice(x, dout, trailing, rows, a, slice);
    __syncthreads();
    if (slice == 0) {
        double total = 0.0;
        for (int s = 0; s < NN_PRELU_SLICES; s++)
            total += partials[s];
        dalpha[a] = (float)total;
    }
}

// The scratch is the CPU's: the slices' sums live in each block's shared memory here.
extern "C" void nn_cuda_prelu_alpha_gradient(float *dalpha, const float *x, const float *dout,
                                             const nn_prelu_geometry *g, float *scratch)
{
    (void)scratch;
    size_t n = nn_body_prelu_alpha_count(g);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    if (g->trailing) {
        size_t trailing = (size_t)g->trailing;
        size_t rows = nn_body_prelu_input_count(g) / trailing;
        prelu_alpha_slices_kernel<<<(unsigned)trailing, NN_PRELU_SLICES, 0, context->stream>>>(
            dalpha, x, dout, trailing, rows);
        NN_CUDA_LAUNCHED("prelu_alpha_gradient");
        return;
    }
    prelu_alpha_gradient_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(dalpha, x,
                                                                                  dout, *g, n);
    NN_CUDA_LAUNCHED("prelu_alpha_gradient");
}
