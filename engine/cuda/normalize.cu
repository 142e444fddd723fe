// Keras' Normalization on the GPU, one thread an element, UnitNormalization, one thread a
// run, Discretization's buckets, one an element, and CategoryEncoding, one a row. Bodies
// from bodies/normalize_body.h, unit_norm_body.h and category_body.h.
#include "cuda_kernels.h"
#include "bodies/category_body.h"
#include "bodies/normalize_body.h"
#include "bodies/unit_norm_body.h"
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

static __global__ void unit_norm_forward_kernel(float *y, const float *x, nn_unit_norm_geometry g,
                                                size_t runs)
{
    NN_FOR_EACH(run, runs) nn_body_unit_norm_forward(y, x, &g, run);
}

static __global__ void unit_norm_backward_kernel(float *dx, const float *dy, const float *x,
                                                 nn_unit_norm_geometry g, size_t runs)
{
    NN_FOR_EACH(run, runs) nn_body_unit_norm_backward(dx, dy, x, &g, run);
}

extern "C" void nn_cuda_unit_norm_forward(float *y, const float *x, const nn_unit_norm_geometry *g)
{
    size_t runs = (size_t)(g->outer * g->inner);
    NN_CUDA_STREAM_OR_RETURN(context, runs);
    unit_norm_forward_kernel<<<nn_blocks(runs), NN_THREADS, 0, context->stream>>>(y, x, *g, runs);
    NN_CUDA_LAUNCHED("unit_norm_forward");
}

extern "C" void nn_cuda_unit_norm_backward(float *dx, const float *dy, const float *x,
                                           const nn_unit_norm_geometry *g)
{
    size_t runs = (size_t)(g->outer * g->inner);
    NN_CUDA_STREAM_OR_RETURN(context, runs);
    unit_norm_backward_kernel<<<nn_blocks(runs), NN_THREADS, 0, context->stream>>>(dx, dy, x,
                                                                                 *g, runs);
    NN_CUDA_LAUNCHED("unit_norm_backward");
}

static __global__ void bucketize_kernel(float *out, const float *x, nn_category_geometry g,
                                        size_t n)
{
    NN_FOR_EACH(i, n) nn_body_bucketize(out, x, &g, i);
}

static __global__ void category_encode_kernel(float *out, const float *x, nn_category_geometry g)
{
    NN_FOR_EACH(r, (size_t)g.rows) nn_body_category_encode(out, x, &g, r);
}

extern "C" void nn_cuda_bucketize(float *out, const float *x, size_t n,
                                  const nn_category_geometry *g)
{
    NN_CUDA_STREAM_OR_RETURN(context, n);
    bucketize_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(out, x, *g, n);
    NN_CUDA_LAUNCHED("bucketize");
}

extern "C" void nn_cuda_category_encode(float *out, const float *x, const nn_category_geometry *g)
{
    NN_CUDA_STREAM_OR_RETURN(context, (size_t)g->rows);
    category_encode_kernel<<<nn_blocks((size_t)g->rows), NN_THREADS, 0, context->stream>>>(
        out, x, *g);
    NN_CUDA_LAUNCHED("category_encode");
}
