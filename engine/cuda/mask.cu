// Keras' masking of steps on the GPU: the step mask, the row select and the masked mean
// over steps. Each thread runs one body from bodies/mask_body.h.
#include "cuda_kernels.h"
#include "bodies/mask_body.h"
#include "launch.cuh"

static __global__ void step_mask_kernel(float *mask, const float *x, float value, size_t rows,
                                        size_t width)
{
    NN_FOR_EACH(r, rows) nn_body_step_mask(mask, x, value, width, r);
}

extern "C" void nn_cuda_step_mask(float *mask, const float *x, float value, size_t rows,
                                  size_t width)
{
    NN_CUDA_STREAM_OR_RETURN(context, rows);
    step_mask_kernel<<<nn_blocks(rows), NN_THREADS, 0, context->stream>>>(mask, x, value, rows,
                                                                          width);
    NN_CUDA_LAUNCHED("step_mask");
}

static __global__ void select_rows_kernel(float *out, const float *kept, const float *masked,
                                          const float *mask, size_t mask_stride, size_t width,
                                          size_t n)
{
    NN_FOR_EACH(i, n) nn_body_select_rows(out, kept, masked, mask, mask_stride, width, i);
}

extern "C" void nn_cuda_select_rows(float *out, const float *kept, const float *masked,
                                    const float *mask, size_t mask_stride, size_t rows,
                                    size_t width)
{
    size_t n = rows * width;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    select_rows_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        out, kept, masked, mask, mask_stride, width, n);
    NN_CUDA_LAUNCHED("select_rows");
}

// One block: its threads sum the mask in body.h's order, then weigh the rows.
static __global__ void masked_loss_weights_kernel(float *out, const float *weights,
                                                  const float *mask, size_t rows)
{
    __shared__ float partials[NN_REDUCE_SLICES];
    __shared__ float kept;
    size_t s = threadIdx.x;
    partials[s] = nn_body_mask_partial(mask, rows, s, NN_REDUCE_SLICES);
    __syncthreads();
    if (s == 0)
        kept = nn_body_sum_in_order(partials, NN_REDUCE_SLICES);
    __syncthreads();
    for (size_t r = s; r < rows; r += NN_REDUCE_SLICES)
        nn_body_masked_loss_weight(out, weights, mask, rows, kept, r);
}

extern "C" void nn_cuda_masked_loss_weights(float *out, const float *weights, const float *mask,
                                            size_t rows)
{
    NN_CUDA_STREAM_OR_RETURN(context, rows);
    masked_loss_weights_kernel<<<1, NN_REDUCE_SLICES, 0, context->stream>>>(out, weights, mask,
                                                                            rows);
    NN_CUDA_LAUNCHED("masked_loss_weights");
}

static __global__ void masked_mean_kernel(float *out, const float *x, const float *mask,
                                          int64_t steps, int64_t channels, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_masked_mean(out, x, mask, steps, channels, i);
}

extern "C" void nn_cuda_masked_mean_steps(float *out, const float *x, const float *mask,
                                          int64_t batch, int64_t steps, int64_t channels)
{
    size_t n = (size_t)(batch * channels);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    masked_mean_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(out, x, mask, steps,
                                                                         channels, n);
    NN_CUDA_LAUNCHED("masked_mean_steps");
}

static __global__ void masked_mean_backward_kernel(float *dx, const float *dout,
                                                   const float *mask, int64_t steps,
                                                   int64_t channels, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_masked_mean_backward(dx, dout, mask, steps, channels, i);
}

extern "C" void nn_cuda_masked_mean_steps_backward(float *dx, const float *dout,
                                                   const float *mask, int64_t batch,
                                                   int64_t steps, int64_t channels)
{
    size_t n = (size_t)(batch * channels);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    masked_mean_backward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        dx, dout, mask, steps, channels, n);
    NN_CUDA_LAUNCHED("masked_mean_steps_backward");
}
