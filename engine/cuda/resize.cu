// Resizing on the GPU: one thread per output element forward, one per input element for
// the adjoint (each gathers from the output cells that read it, so no atomics). Bodies
// from bodies/resize_body.h, the code the CPU runs too.
#include "cuda_kernels.h"
#include "bodies/resize_body.h"
#include "launch.cuh"

static __global__ void resize_forward_kernel(float *out, const float *inp, nn_resize_geometry g,
                                             size_t n)
{
    NN_FOR_EACH(i, n) nn_body_resize_forward(out, inp, &g, i);
}

static __global__ void resize_backward_kernel(float *dinp, const float *dout,
                                              nn_resize_geometry g, size_t n)
{
    NN_FOR_EACH(j, n) nn_body_resize_backward(dinp, dout, &g, j);
}

extern "C" void nn_cuda_resize_forward(float *out, const float *inp, const nn_resize_geometry *g)
{
    size_t n = (size_t)(g->batch * g->out_height * g->out_width * g->channels);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    resize_forward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(out, inp, *g, n);
    NN_CUDA_LAUNCHED("resize_forward");
}

extern "C" void nn_cuda_resize_backward(float *dinp, const float *dout,
                                        const nn_resize_geometry *g)
{
    size_t n = (size_t)(g->batch * g->height * g->width * g->channels);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    resize_backward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(dinp, dout, *g, n);
    NN_CUDA_LAUNCHED("resize_backward");
}
