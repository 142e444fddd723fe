// The embedding lookup on the GPU: one thread per output element forward, one per column
// of the table backward (each walks every index in order, so the sums do not depend on
// scheduling). Each runs a body from bodies/embedding_body.h, the code the CPU matches.
#include "cuda_kernels.h"
#include "bodies/embedding_body.h"
#include "launch.cuh"

static __global__ void gather_kernel(float *out, const float *table, const float *indices,
                                     size_t rows, size_t dim, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_embedding_gather(out, table, indices, rows, dim, i);
}

static __global__ void gather_backward_kernel(float *dtable, const float *dout,
                                              const float *indices, size_t count, size_t rows,
                                              size_t dim)
{
    NN_FOR_EACH(c, dim)
        nn_body_embedding_gather_backward(dtable, dout, indices, count, rows, dim, c);
}

extern "C" void nn_cuda_embedding_gather(float *out, const float *table, const float *indices,
                                         int64_t count, int64_t rows, int64_t dim)
{
    size_t n = (size_t)count * (size_t)dim;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    gather_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        out, table, indices, (size_t)rows, (size_t)dim, n);
    NN_CUDA_LAUNCHED("embedding_gather");
}

extern "C" void nn_cuda_embedding_gather_backward(float *dtable, const float *dout,
                                                  const float *indices, int64_t count,
                                                  int64_t rows, int64_t dim)
{
    NN_CUDA_STREAM_OR_RETURN(context, (size_t)dim);
    gather_backward_kernel<<<nn_blocks((size_t)dim), NN_THREADS, 0, context->stream>>>(
        dtable, dout, indices, (size_t)count, (size_t)rows, (size_t)dim);
    NN_CUDA_LAUNCHED("embedding_gather_backward");
}
