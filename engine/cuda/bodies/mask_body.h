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

/* Keras' loss under a mask: the kept rows' losses averaged over the kept rows, which the
 * loss's usual sum over all `rows` divided by `rows` gives when row r weighs
 * weight_r · mask_r · rows / (kept + 1e-7) (Keras' epsilon; no row is kept: every weight 0).
 * The kept rows are summed in body.h's reduction order: slice s of `slices` ... */
NN_BODY float nn_body_mask_partial(const float *mask, size_t rows, size_t s, size_t slices)
{
    float sum = 0.0f;
    for (size_t r = s; r < rows; r += slices)
        sum += mask[r];
    return sum;
}

/* ... then the slices in order. */
NN_BODY float nn_body_sum_in_order(const float *partials, size_t slices)
{
    float sum = 0.0f;
    for (size_t s = 0; s < slices; s++)
        sum += partials[s];
    return sum;
}

/* Row r's weight; weights NULL reads as 1. out may be weights. */
NN_BODY void nn_body_masked_loss_weight(float *out, const float *weights, const float *mask,
                                        size_t rows, float kept, size_t r)
{
    float weight = weights ? weights[r] : 1.0f;
    out[r] = weight * mask[r] * ((float)rows / (kept + 1e-7f));
}

#endif
