// Random affine augmentation on the GPU: one thread per output point (each draws its
// image's transform again: a few Philox rounds against a memory-bound read), and one per
// plane for the adjoint, so every input point's sum is one thread's, in a fixed order.
// Random colour: one thread per plane both ways, as each needs its plane's mean.
#include "cuda_kernels.h"
#include "bodies/affine_body.h"
#include "bodies/color_body.h"
#include "launch.cuh"

static __global__ void random_affine_kernel(float *out, const float *in, nn_affine_geometry g,
                                            uint64_t seed, uint64_t stream, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_random_affine(out, in, &g, seed, stream, i);
}

static __global__ void random_affine_backward_kernel(float *din, const float *dout,
                                                     nn_affine_geometry g, uint64_t seed,
                                                     uint64_t stream, size_t planes)
{
    NN_FOR_EACH(plane, planes)
    nn_body_random_affine_backward_plane(din, dout, &g, seed, stream, plane);
}

extern "C" void nn_cuda_random_affine(float *out, const float *in,
                                      const nn_affine_geometry *geometry, uint64_t seed,
                                      uint64_t stream)
{
    size_t n = (size_t)(geometry->batch * geometry->height * geometry->width *
                        geometry->channels);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    random_affine_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(out, in, *geometry,
                                                                         seed, stream, n);
    NN_CUDA_LAUNCHED("random_affine");
}

extern "C" void nn_cuda_random_affine_backward(float *din, const float *dout,
                                               const nn_affine_geometry *geometry,
                                               uint64_t seed, uint64_t stream)
{
    size_t planes = (size_t)(geometry->batch * geometry->channels);
    NN_CUDA_STREAM_OR_RETURN(context, planes);
    random_affine_backward_kernel<<<nn_blocks(planes), NN_THREADS, 0, context->stream>>>(
        din, dout, *geometry, seed, stream, planes);
    NN_CUDA_LAUNCHED("random_affine_backward");
}

static __global__ void random_color_kernel(float *out, const float *in, nn_color_geometry g,
                                           uint64_t seed, uint64_t stream, size_t planes)
{
    NN_FOR_EACH(plane, planes) nn_body_random_color_plane(out, in, &g, seed, stream, plane);
}

static __global__ void random_color_backward_kernel(float *din, const float *dout,
                                                    const float *in, nn_color_geometry g,
                                                    uint64_t seed, uint64_t stream,
                                                    size_t planes)
{
    NN_FOR_EACH(plane, planes)
    nn_body_random_color_backward_plane(din, dout, in, &g, seed, stream, plane);
}

extern "C" void nn_cuda_random_color(float *out, const float *in,
                                     const nn_color_geometry *geometry, uint64_t seed,
                                     uint64_t stream)
{
    size_t planes = (size_t)(geometry->batch * geometry->channels);
    NN_CUDA_STREAM_OR_RETURN(context, planes);
    random_color_kernel<<<nn_blocks(planes), NN_THREADS, 0, context->stream>>>(
        out, in, *geometry, seed, stream, planes);
    NN_CUDA_LAUNCHED("random_color");
}

extern "C" void nn_cuda_random_color_backward(float *din, const float *dout, const float *in,
                                              const nn_color_geometry *geometry, uint64_t seed,
                                              uint64_t stream)
{
    size_t planes = (size_t)(geometry->batch * geometry->channels);
    NN_CUDA_STREAM_OR_RETURN(context, planes);
    random_color_backward_kernel<<<nn_blocks(planes), NN_THREADS, 0, context->stream>>>(
        din, dout, in, *geometry, seed, stream, planes);
    NN_CUDA_LAUNCHED("random_color_backward");
}
