// Max and average pooling on the GPU: one thread per output cell forward, one per input
// cell backward (a gather over the windows that cover that cell, so no atomics).
#include "cuda_kernels.h"
#include "bodies/pool_body.h"
#include "launch.cuh"

static size_t count_of(int batch, int height, int width, int channels)
{
    return (size_t)batch * (size_t)height * (size_t)width * (size_t)channels;
}

static __global__ void maxpool_forward_kernel(float *out, int32_t *argmax, const float *inp,
                                              nn_pool2d_geometry g, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_maxpool_forward(out, argmax, inp, g, i);
}

static __global__ void maxpool_backward_kernel(float *dinp, const float *dout,
                                               const int32_t *argmax, const float *relu_out,
                                               nn_pool2d_geometry g, size_t n)
{
    NN_FOR_EACH(j, n) nn_body_maxpool_backward(dinp, dout, argmax, relu_out, g, j);
}

extern "C" void nn_cuda_maxpool2d_forward(float *out, int32_t *argmax, const float *inp,
                                          const nn_pool2d_geometry *geometry)
{
    size_t n = count_of(geometry->batch, geometry->out_height, geometry->out_width,
                        geometry->channels);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    maxpool_forward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(out, argmax, inp,
                                                                           *geometry, n);
    NN_CUDA_LAUNCHED("maxpool2d_forward");
}

static void backward(float *dinp, const float *dout, const int32_t *argmax,
                     const float *relu_out, const nn_pool2d_geometry *geometry)
{
    size_t n = count_of(geometry->batch, geometry->in_height, geometry->in_width,
                        geometry->channels);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    maxpool_backward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        dinp, dout, argmax, relu_out, *geometry, n);
    NN_CUDA_LAUNCHED("maxpool2d_backward");
}

extern "C" void nn_cuda_maxpool2d_backward(float *dinp, const float *dout,
                                           const int32_t *argmax,
                                           const nn_pool2d_geometry *geometry)
{
    backward(dinp, dout, argmax, NULL, geometry);
}

extern "C" void nn_cuda_maxpool2d_backward_relu(float *dinp, const float *dout,
                                                const int32_t *argmax, const float *out,
                                                const nn_pool2d_geometry *geometry)
{
    backward(dinp, dout, argmax, out, geometry);
}

// Convolution and pooling stay two steps on the GPU: cuDNN's convolution is already
// bound by memory traffic the fusion would not save.
extern "C" bool nn_cuda_conv2d_maxpool2d_applies(const nn_conv2d_geometry *conv,
                                                 const nn_pool2d_geometry *pool)
{
    (void)conv;
    (void)pool;
    return false;
}

extern "C" void nn_cuda_conv2d_maxpool2d_forward(float *pooled, int32_t *argmax,
                                                 const float *inp, const float *kernel,
                                                 const float *bias, bool relu,
                                                 const nn_conv2d_geometry *conv,
                                                 const nn_pool2d_geometry *pool, float *scratch)
{
    (void)pooled, (void)argmax, (void)inp, (void)kernel, (void)bias, (void)relu;
    (void)conv, (void)pool, (void)scratch;
    nn_cuda_note(NN_ERR_DEVICE, "nnsh", "conv2d_maxpool2d_forward", "not supported",
                 "the CUDA backend does not fuse convolution and pooling "
                 "(conv2d_maxpool2d_applies is false)");
}

static __global__ void avgpool_forward_kernel(float *out, const float *inp,
                                              nn_pool2d_geometry g, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_avgpool_forward(out, inp, g, i);
}

static __global__ void avgpool_backward_kernel(float *dinp, const float *dout,
                                               nn_pool2d_geometry g, size_t n)
{
    NN_FOR_EACH(j, n) nn_body_avgpool_backward(dinp, dout, g, j);
}

extern "C" void nn_cuda_avgpool2d_forward(float *out, const float *inp,
                                          const nn_pool2d_geometry *geometry)
{
    size_t n = count_of(geometry->batch, geometry->out_height, geometry->out_width,
                        geometry->channels);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    avgpool_forward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(out, inp,
                                                                           *geometry, n);
    NN_CUDA_LAUNCHED("avgpool2d_forward");
}

extern "C" void nn_cuda_avgpool2d_backward(float *dinp, const float *dout,
                                           const nn_pool2d_geometry *geometry)
{
    size_t n = count_of(geometry->batch, geometry->in_height, geometry->in_width,
                        geometry->channels);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    avgpool_backward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(dinp, dout,
                                                                            *geometry, n);
    NN_CUDA_LAUNCHED("avgpool2d_backward");
}
