/* Bodies of the mask kernels: Keras' masking of steps, where a mask holds one float per
 * step of each sample (1 kept, 0 masked), the rows of a (batch, steps, ...) tensor. */
#ifndef NN_CUDA_MASK_BODY_H
#define NN_CUDA_MASK_BODY_H

#include "body.h"

/* Row r of x (width floats) is kept when any of its values is not `value`. */
NN_BODY void nn_body_step_mask(float *mask, const float *x, float value, size_t width,
                               size_t r)
{
    float kept = 0.0f;
    for (size_t j = 0; j < width; j++)
        if (x[r * width + j] != value)
            kept = 1.0f;
    mask[r] = kept;
}

/* Element i of rows of `width`: from `kept` where the row's mask (mask[row · stride]) is
 * set, else from `masked`; NULL reads as zeros. A select, not a product, so an infinity
 * in a masked row does not become a NaN. */
NN_BODY void nn_body_select_rows(float *out, const float *kept, const float *masked,
                                 const float *mask, size_t mask_stride, size_t width, size_t i)
{
    size_t row = i / width;
    const float *source = mask[row * mask_stride] != 0.0f ? kept : masked;
    out[i] = source ? source[i] : 0.0f;
}

/* How many of a sample's steps are kept. */
NN_BODY float nn_body_kept_steps(const float *mask, int64_t steps, int64_t b)
{
    float count = 0.0f;
    for (int64_t t = 0; t < steps; t++)
        count += mask[b * steps + t];
    return count;
}

/* Output i = (b, c) of a masked mean over steps, x (batch, steps, channels): the mean of
 * the kept steps, 0 when every step is masked (Keras divides 0 by 0 there). */
NN_BODY void nn_body_masked_mean(float *out, const float *x, const float *mask, int64_t steps,
                                 int64_t channels, size_t i)
{
    int64_t b = (int64_t)i / channels, c = (int64_t)i % channels;
    float sum = 0.0f, count = nn_body_kept_steps(mask, steps, b);
    for (int64_t t = 0; t < steps; t++)
        if (mask[b * steps + t] != 0.0f)
            sum += x[(b * steps + t) * channels + c];
    out[i] = count > 0.0f ? sum / count : 0.0f;
}

/* Its gradient for the column i = (b, c): dout / kept at every kept step, 0 elsewhere. */
NN_BODY void nn_body_masked_mean_backward(float *dx, const float *dout, const float *mask,
                                          int64_t steps, int64_t channels, size_t i)
{
    int64_t b = (int64_t)i / channels, c = (int64_t)i % channels;
    float count = nn_body_kept_steps(mask, steps, b);
    float share = count > 0.0f ? dout[i] / count : 0.0f;
    for (int64_t t = 0; t < steps; t++)
        dx[(b * steps + t) * channels + c] = mask[b * steps + t] != 0.0f ? share : 0.0f;
}

#endif
