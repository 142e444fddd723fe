// Dropout on the GPU: Philox masks identical to the CPU's (one 4-word block per thread),
// then the broadcast mask applied element by element; Gaussian noise, one block of four
// normals per thread.
#include "cuda_kernels.h"
#include "bodies/dropout_body.h"
#include "launch.cuh"

static __global__ void mask_kernel(uint8_t *mask, size_t count, uint64_t seed, uint64_t stream,
                                   float rate, size_t blocks)
{
    NN_FOR_EACH(block, blocks) nn_body_dropout_mask(mask, count, seed, stream, rate, block);
}

static __global__ void apply_kernel(float *out, const float *inp, const uint8_t *mask,
                                    nn_body_noise_map map, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_dropout_apply(out, inp, mask, &map, i);
}

static __global__ void gaussian_noise_kernel(float *out, const float *inp, size_t n,
                                             float stddev, bool multiplicative, uint64_t seed,
                                             uint64_t stream, size_t blocks)
{
    NN_FOR_EACH(block, blocks)
    nn_body_gaussian_noise(out, inp, n, stddev, multiplicative, seed, stream, block);
}

static __global__ void random_flip_kernel(float *out, const float *in, nn_flip_geometry g,
                                          uint64_t seed, uint64_t stream, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_random_flip(out, in, &g, seed, stream, i);
}

static size_t count_of(const int64_t *dims, int ndim)
{
    size_t count = 1;
    for (int i = 0; i < ndim; i++)
        count *= (size_t)dims[i];
    return count;
}

extern "C" void nn_cuda_dropout_forward(float *out, uint8_t *mask, const float *inp,
                                        const nn_dropout_geometry *geometry, uint64_t seed,
                                        uint64_t stream)
{
    size_t n = count_of(geometry->dims, geometry->ndim);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    size_t count = count_of(geometry->noise_dims, geometry->ndim);
    size_t blocks = (count + 3) / 4;
    mask_kernel<<<nn_blocks(blocks), NN_THREADS, 0, context->stream>>>(mask, count, seed, stream,
                                                                     geometry->rate, blocks);
    NN_CUDA_LAUNCHED("dropout_mask");
    apply_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        out, inp, mask, nn_body_noise_map_make(geometry), n);
    NN_CUDA_LAUNCHED("dropout_forward");
}

extern "C" void nn_cuda_dropout_backward(float *dinp, const float *dout, const uint8_t *mask,
                                         const nn_dropout_geometry *geometry)
{
    size_t n = count_of(geometry->dims, geometry->ndim);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    apply_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        dinp, dout, mask, nn_body_noise_map_make(geometry), n);
    NN_CUDA_LAUNCHED("dropout_backward");
}

extern "C" void nn_cuda_gaussian_noise(float *out, const float *inp, size_t n, float stddev,
                                       bool multiplicative, uint64_t seed, uint64_t stream)
{
    NN_CUDA_STREAM_OR_RETURN(context, n);
    size_t blocks = (n + 3) / 4;
    gaussian_noise_kernel<<<nn_blocks(blocks), NN_THREADS, 0, context->stream>>>(
        out, inp, n, stddev, multiplicative, seed, stream, blocks);
    NN_CUDA_LAUNCHED("gaussian_noise");
}

extern "C" void nn_cuda_random_flip(float *out, const float *in, const nn_flip_geometry *geometry,
                                    uint64_t seed, uint64_t stream)
{
    size_t n = (size_t)(geometry->batch * geometry->height * geometry->width *
                        geometry->channels);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    random_flip_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(out, in, *geometry, seed,
                                                                       stream, n);
    NN_CUDA_LAUNCHED("random_flip");
}
