/* Keras' masking of steps on the CPU, on the CUDA kernels' own bodies. */
#include "../cuda/bodies/mask_body.h"
#include "cpu_kernels.h"

/* Below this many elements a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 15 };

void nn_cpu_step_mask(float *mask, const float *x, float value, size_t rows, size_t width)
{
    const long count = (long)rows;
#pragma omp parallel for schedule(static) if (count * (long)width > PARALLEL_THRESHOLD)
    for (long r = 0; r < count; r++)
        nn_body_step_mask(mask, x, value, width, (size_t)r);
}

void nn_cpu_select_rows(float *out, const float *kept, const float *masked, const float *mask,
                        size_t mask_stride, size_t rows, size_t width)
{
    const long count = (long)(rows * width);
#pragma omp parallel for schedule(static) if (count > PARALLEL_THRESHOLD)
    for (long i = 0; i < count; i++)
        nn_body_select_rows(out, kept, masked, mask, mask_stride, width, (size_t)i);
}

void nn_cpu_masked_loss_weights(float *out, const float *weights, const float *mask,
                                size_t rows)
{
    float partials[NN_REDUCE_SLICES];
    for (size_t s = 0; s < NN_REDUCE_SLICES; s++)
        partials[s] = nn_body_mask_partial(mask, rows, s, NN_REDUCE_SLICES);
    float kept = nn_body_sum_in_order(partials, NN_REDUCE_SLICES);
    for (size_t r = 0; r < rows; r++)
        nn_body_masked_loss_weight(out, weights, mask, rows, kept, r);
}

void nn_cpu_masked_mean_steps(float *out, const float *x, const float *mask, int64_t batch,
                              int64_t steps, int64_t channels)
{
    const long count = (long)(batch * channels);
#pragma omp parallel for schedule(static) if (count * steps > PARALLEL_THRESHOLD)
    for (long i = 0; i < count; i++)
        nn_body_masked_mean(out, x, mask, steps, channels, (size_t)i);
}

void nn_cpu_masked_mean_steps_backward(float *dx, const float *dout, const float *mask,
                                       int64_t batch, int64_t steps, int64_t channels)
{
    const long count = (long)(batch * channels);
#pragma omp parallel for schedule(static) if (count * steps > PARALLEL_THRESHOLD)
    for (long i = 0; i < count; i++)
        nn_body_masked_mean_backward(dx, dout, mask, steps, channels, (size_t)i);
}
