/* Bodies of the element-wise kernels: activations, softmax rows, bias, layout changes,
 * zero padding and cropping (for cuDNN and for the padding layers), nearest upsampling
 * and the column sums of bias gradients. Each mirrors the CPU code in activation.c,
 * cpu/dense.c, cpu/layout.c and cpu/resample.c. */
#ifndef NN_ELEMENTWISE_BODY_H
#define NN_ELEMENTWISE_BODY_H

#include "../../activation.h"
#include "../../backend.h"
#include "body.h"

#define NN_BODY_SELU_ALPHA 1.6732632423543772f
#define NN_BODY_SELU_SCALE 1.0507009873554805f
#define NN_BODY_SQRT1_2 0.70710678118654752440f

NN_BODY float nn_body_sigmoid(float x)
{
    /* Split by sign so exp never overflows. */
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* Keras' ReLU layer: above threshold x, capped at max_value (infinity for None); below
 * it negative_slope · (x - threshold). */
NN_BODY float nn_body_clipped_relu(float x, float negative_slope, float max_value,
                                   float threshold)
{
    if (x > threshold)
        return x < max_value ? x : max_value;
    /* A slope of 0 gives 0 even at -inf (0 · inf would be NaN); NaN stays NaN. */
    if (negative_slope == 0.0f && !isnan(x))
        return 0.0f;
    return negative_slope * (x - threshold) + 0.0f; /* + 0: never -0 */
}

/* Its derivative: 1 between threshold and max_value, 0 from max_value up, negative_slope
 * from threshold down. */
NN_BODY float nn_body_clipped_relu_derivative(float x, float negative_slope, float max_value,
                                              float threshold)
{
    if (x > threshold)
        return x < max_value ? 1.0f : 0.0f;
    return negative_slope;
}

/* out[i] = f(x[i]), or dout[i] · f'(x[i]) when dout is given (the backward). */
NN_BODY void nn_body_clipped_relu_apply(float *out, const float *x, const float *dout,
                                        float negative_slope, float max_value, float threshold,
                                        size_t i)
{
    out[i] = dout ? dout[i] * nn_body_clipped_relu_derivative(x[i], negative_slope, max_value,
                                                               threshold)
                  : nn_body_clipped_relu(x[i], negative_slope, max_value, threshold);
}

/* f(v) for every activation but softmax (done by rows); linear gives v. */
NN_BODY float nn_body_activate(nn_activation_kind kind, float alpha, float v)
{
    switch (kind) {
    case NN_ACTIVATION_RELU: return v <= 0.0f ? 0.0f : v; /* NaN stays NaN, as TF */
    case NN_ACTIVATION_SIGMOID: return nn_body_sigmoid(v);
    case NN_ACTIVATION_TANH: return tanhf(v);
    case NN_ACTIVATION_ELU: return v > 0.0f ? v : alpha * expm1f(v);
    case NN_ACTIVATION_SELU:
        return v > 0.0f ? NN_BODY_SELU_SCALE * v : NN_BODY_SELU_SCALE * NN_BODY_SELU_ALPHA * expm1f(v);
    case NN_ACTIVATION_GELU: return 0.5f * v * (1.0f + erff(v * NN_BODY_SQRT1_2));
    case NN_ACTIVATION_LEAKY_RELU: return v > 0.0f ? v : alpha * v;
    case NN_ACTIVATION_RELU6: return v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v;
    case NN_ACTIVATION_SOFTPLUS: return fmaxf(v, 0.0f) + log1pf(expf(-fabsf(v)));
    case NN_ACTIVATION_SOFTSIGN: return v / (1.0f + fabsf(v));
    case NN_ACTIVATION_SWISH: return v * nn_body_sigmoid(v);
    case NN_ACTIVATION_HARD_SIGMOID: {
        float h = v / 6.0f + 0.5f; /* Keras 3 */
        return h < 0.0f ? 0.0f : h > 1.0f ? 1.0f : h;
    }
    case NN_ACTIVATION_EXPONENTIAL: return expf(v);
    case NN_ACTIVATION_MISH: return v * tanhf(fmaxf(v, 0.0f) + log1pf(expf(-fabsf(v))));
    case NN_ACTIVATION_HARD_SILU: {
        float h = v / 6.0f + 0.5f;
        return v * (h < 0.0f ? 0.0f : h > 1.0f ? 1.0f : h);
    }
    default: return v;
    }
}

/* f'(x) from the input x and the output y (whichever the activation needs). */
NN_BODY float nn_body_activation_derivative(nn_activation_kind kind, float alpha, float x,
                                            float y)
{
    switch (kind) {
    case NN_ACTIVATION_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case NN_ACTIVATION_SIGMOID: return y * (1.0f - y);
    case NN_ACTIVATION_TANH: return 1.0f - y * y;
    case NN_ACTIVATION_ELU: return y > 0.0f ? 1.0f : y + alpha;
    case NN_ACTIVATION_SELU: return y > 0.0f ? NN_BODY_SELU_SCALE : y + NN_BODY_SELU_SCALE * NN_BODY_SELU_ALPHA;
    case NN_ACTIVATION_GELU: {
        float cdf = 0.5f * (1.0f + erff(x * NN_BODY_SQRT1_2));
        float pdf = expf(-0.5f * x * x) * 0.3989422804014327f;
        return cdf + x * pdf;
    }
    case NN_ACTIVATION_LEAKY_RELU: return x > 0.0f ? 1.0f : alpha;
    case NN_ACTIVATION_RELU6: return y > 0.0f && y < 6.0f ? 1.0f : 0.0f;
    case NN_ACTIVATION_SOFTPLUS: return nn_body_sigmoid(x);
    case NN_ACTIVATION_SOFTSIGN: {
        float s = 1.0f - fabsf(y);
        return s * s;
    }
    case NN_ACTIVATION_SWISH: {
        float s = nn_body_sigmoid(x);
        return s * (1.0f + x * (1.0f - s));
    }
    case NN_ACTIVATION_HARD_SIGMOID: return y > 0.0f && y < 1.0f ? 1.0f / 6.0f : 0.0f;
    case NN_ACTIVATION_EXPONENTIAL: return y;
    case NN_ACTIVATION_MISH: {
        float t = tanhf(fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))));
        return t + x * (1.0f - t * t) * nn_body_sigmoid(x);
    }
    case NN_ACTIVATION_HARD_SILU: return x < -3.0f ? 0.0f : x > 3.0f ? 1.0f : x / 3.0f + 0.5f;
    default: return 1.0f;
    }
}

/* The largest value of a row, as activation.c's row_peak. */
NN_BODY float nn_body_row_peak(const float *row, size_t axis_size)
{
    float peak = row[0];
    for (size_t i = 1; i < axis_size; i++)
        peak = row[i] > peak ? row[i] : peak;
    return peak;
}

/* One softmax row of axis_size elements; y may equal x (each x is read before its y is
 * written). */
NN_BODY void nn_body_softmax_row(float *y, const float *x, size_t axis_size)
{
    float peak = nn_body_row_peak(x, axis_size);
    double total = 0.0;
    for (size_t i = 0; i < axis_size; i++) {
        y[i] = expf(x[i] - peak);
        total += y[i];
    }
    float inverse = (float)(1.0 / total);
    for (size_t i = 0; i < axis_size; i++)
        y[i] *= inverse;
}

/* dx = y · (dy - Σ dy·y) over one row; dx may equal dy. */
NN_BODY void nn_body_softmax_backward_row(float *dx, const float *dy, const float *y,
                                          size_t axis_size)
{
    double dot = 0.0;
    for (size_t i = 0; i < axis_size; i++)
        dot += (double)dy[i] * y[i];
    for (size_t i = 0; i < axis_size; i++)
        dx[i] = y[i] * (dy[i] - (float)dot);
}

/* One log_softmax row, as activation.c: x - (peak + log Σ exp(x - peak)); y may equal x. */
NN_BODY void nn_body_log_softmax_row(float *y, const float *x, size_t axis_size)
{
    float peak = nn_body_row_peak(x, axis_size);
    double total = 0.0;
    for (size_t i = 0; i < axis_size; i++)
        total += (double)expf(x[i] - peak);
    float shift = peak + (float)log(total);
    for (size_t i = 0; i < axis_size; i++)
        y[i] = x[i] - shift;
}

/* dx = dy - exp(y) · Σ dy over one row; dx may equal dy. */
NN_BODY void nn_body_log_softmax_backward_row(float *dx, const float *dy, const float *y,
                                              size_t axis_size)
{
    double sum = 0.0;
    for (size_t i = 0; i < axis_size; i++)
        sum += (double)dy[i];
    for (size_t i = 0; i < axis_size; i++)
        dx[i] = dy[i] - expf(y[i]) * (float)sum;
}

/* out[i] = f(out[i] + bias[i mod width]) for an activation applied element-wise;
 * bias may be NULL. */
NN_BODY void nn_body_bias_activate(float *out, const float *bias, size_t width,
                                   nn_activation_kind kind, float alpha, size_t i)
{
    float v = out[i];
    if (bias)
        v += bias[i % width];
    out[i] = kind == NN_ACTIVATION_LINEAR ? v : nn_body_activate(kind, alpha, v);
}

/* sums[column] = Σ_r rows[r][column] over row_count rows of `width`, in row order (the
 * bias gradient of Dense and Conv2D). */
NN_BODY void nn_body_column_sum(float *sums, const float *rows, size_t row_count, size_t width,
                                size_t column)
{
    float total = 0.0f;
    for (size_t r = 0; r < row_count; r++)
        total += rows[r * width + column];
    sums[column] = total;
}

/* Thread t = slice·width + column of a sliced column sum: rows slice, slice + slices, ...
 * of that column, in double, into partials (slices, width). For the bias gradient of a
 * convolution, whose rows are every output pixel of the batch. */
NN_BODY void nn_body_column_partial(double *partials, const float *rows, size_t row_count,
                                    size_t width, size_t slices, size_t t)
{
    size_t column = t % width, slice = t / width;
    double total = 0.0;
    for (size_t r = slice; r < row_count; r += slices)
        total += rows[r * width + column];
    partials[slice * width + column] = total;
}

/* sums[column] = the slices of that column added in order. */
NN_BODY void nn_body_column_combine(float *sums, const double *partials, size_t width,
                                    size_t slices, size_t column)
{
    double total = 0.0;
    for (size_t slice = 0; slice < slices; slice++)
        total += partials[slice * width + column];
    sums[column] = (float)total;
}

/* Element i of out (B,S,C) = inp (B,C,S) with the channel axis moved last. */
NN_BODY void nn_body_to_channels_last(float *out, const float *inp, size_t channels,
                                      size_t spatial, size_t i)
{
    size_t c = i % channels, s = (i / channels) % spatial, b = i / (channels * spatial);
    out[i] = inp[(b * channels + c) * spatial + s];
}

/* Element i of out (B,C,S) = inp (B,S,C). */
NN_BODY void nn_body_to_channels_first(float *out, const float *inp, size_t channels,
                                       size_t spatial, size_t i)
{
    size_t s = i % spatial, c = (i / spatial) % channels, b = i / (spatial * channels);
    out[i] = inp[(b * spatial + s) * channels + c];
}

/* Element i of a kernel in cuDNN's order out (OC,KH,KW,Cg) from Keras' in (KH,KW,Cg,OC). */
NN_BODY void nn_body_kernel_to_cudnn(float *out, const float *in, size_t kernel_height,
                                     size_t kernel_width, size_t group_channels,
                                     size_t out_channels, size_t i)
{
    size_t cg = i % group_channels;
    size_t kw = (i / group_channels) % kernel_width;
    size_t kh = (i / (group_channels * kernel_width)) % kernel_height;
    size_t oc = i / (group_channels * kernel_width * kernel_height);
    out[i] = in[((kh * kernel_width + kw) * group_channels + cg) * out_channels + oc];
}

/* The inverse: element i of out (KH,KW,Cg,OC) from in (OC,KH,KW,Cg). */
NN_BODY void nn_body_kernel_from_cudnn(float *out, const float *in, size_t kernel_height,
                                       size_t kernel_width, size_t group_channels,
                                       size_t out_channels, size_t i)
{
    size_t oc = i % out_channels;
    size_t cg = (i / out_channels) % group_channels;
    size_t kw = (i / (out_channels * group_channels)) % kernel_width;
    size_t kh = i / (out_channels * group_channels * kernel_width);
    out[i] = in[((oc * kernel_height + kh) * kernel_width + kw) * group_channels + cg];
}

/* Sizes of an explicit zero padding: inp (B,H,W,C) placed at (pad_top, pad_left) inside
 * padded (B,Hp,Wp,C); rows or columns past Hp, Wp are dropped (no window reads them). */
typedef struct nn_body_padding {
    size_t channels;
    long height, width, padded_height, padded_width, pad_top, pad_left;
} nn_body_padding;

/* Element i of padded (B,Hp,Wp,C). */
NN_BODY void nn_body_pad(float *padded, const float *inp, nn_body_padding p, size_t i)
{
    size_t c = i % p.channels;
    long wp = (long)((i / p.channels) % (size_t)p.padded_width);
    long hp = (long)((i / (p.channels * (size_t)p.padded_width)) % (size_t)p.padded_height);
    size_t b = i / (p.channels * (size_t)p.padded_width * (size_t)p.padded_height);
    long h = hp - p.pad_top, w = wp - p.pad_left;
    bool inside = h >= 0 && h < p.height && w >= 0 && w < p.width;
    padded[i] = inside ? inp[((b * (size_t)p.height + (size_t)h) * (size_t)p.width + (size_t)w) *
                                 p.channels + c]
                       : 0.0f;
}

/* Element i of out (B,H,W,C) from padded (B,Hp,Wp,C): the gradient of nn_body_pad. */
NN_BODY void nn_body_crop(float *out, const float *padded, nn_body_padding p, size_t i)
{
    size_t c = i % p.channels;
    long w = (long)((i / p.channels) % (size_t)p.width);
    long h = (long)((i / (p.channels * (size_t)p.width)) % (size_t)p.height);
    size_t b = i / (p.channels * (size_t)p.width * (size_t)p.height);
    long hp = h + p.pad_top, wp = w + p.pad_left;
    bool inside = hp < p.padded_height && wp < p.padded_width;
    out[i] = inside ? padded[((b * (size_t)p.padded_height + (size_t)hp) *
                                  (size_t)p.padded_width + (size_t)wp) * p.channels + c]
                    : 0.0f;
}

/* Bilinear upsampling's reading position along one axis (cpu/resample.c, lerp_at). */
typedef struct nn_body_lerp {
    long lower, upper;
    float lerp;
} nn_body_lerp;

NN_BODY nn_body_lerp nn_body_lerp_at(long o, long in, long out)
{
    float scale = (float)in / (float)out;
    float position = ((float)o + 0.5f) * scale - 0.5f;
    float below = floorf(position);
    long above = (long)ceilf(position);
    nn_body_lerp point;
    point.lower = below < 0.0f ? 0 : (long)below;
    point.upper = above > in - 1 ? in - 1 : above;
    point.lerp = position - below;
    return point;
}

NN_BODY float nn_body_lerp_weight(nn_body_lerp point, long i)
{
    return (point.lower == i ? 1.0f - point.lerp : 0.0f) + (point.upper == i ? point.lerp : 0.0f);
}

/* Element i of out (B,H·SH,W·SW,C), bilinear. */
NN_BODY void nn_body_upsample_bilinear_forward(float *out, const float *inp,
                                               nn_upsample2d_geometry g, size_t i)
{
    size_t channels = (size_t)g.channels;
    long out_width = (long)(g.width * g.size_width), out_height = (long)(g.height * g.size_height);
    size_t c = i % channels;
    long ow = (long)((i / channels) % (size_t)out_width);
    long oh = (long)((i / (channels * (size_t)out_width)) % (size_t)out_height);
    size_t b = i / (channels * (size_t)out_width * (size_t)out_height);
    nn_body_lerp y = nn_body_lerp_at(oh, (long)g.height, out_height);
    nn_body_lerp x = nn_body_lerp_at(ow, (long)g.width, out_width);
    const float *top_row = inp + (b * (size_t)g.height + (size_t)y.lower) * (size_t)g.width * channels;
    const float *bottom_row = inp + (b * (size_t)g.height + (size_t)y.upper) * (size_t)g.width * channels;
    float tl = top_row[(size_t)x.lower * channels + c], tr = top_row[(size_t)x.upper * channels + c];
    float bl = bottom_row[(size_t)x.lower * channels + c];
    float br = bottom_row[(size_t)x.upper * channels + c];
    float top = tl + (tr - tl) * x.lerp;
    float bottom = bl + (br - bl) * x.lerp;
    out[i] = top + (bottom - top) * y.lerp;
}

/* Element j of dinp (B,H,W,C), bilinear: the output cells near it that read it, rows then
 * columns, each times (row weight · column weight), as the CPU gathers them. */
NN_BODY void nn_body_upsample_bilinear_backward(float *dinp, const float *dout,
                                                nn_upsample2d_geometry g, size_t j)
{
    size_t channels = (size_t)g.channels;
    long out_width = (long)(g.width * g.size_width), out_height = (long)(g.height * g.size_height);
    size_t c = j % channels;
    long w = (long)((j / channels) % (size_t)g.width);
    long h = (long)((j / (channels * (size_t)g.width)) % (size_t)g.height);
    size_t b = j / (channels * (size_t)g.width * (size_t)g.height);
    long first_oh = (h - 1) * (long)g.size_height, last_oh = (h + 2) * (long)g.size_height;
    long first_ow = (w - 1) * (long)g.size_width, last_ow = (w + 2) * (long)g.size_width;
    first_oh = first_oh < 0 ? 0 : first_oh;
    last_oh = last_oh > out_height ? out_height : last_oh;
    first_ow = first_ow < 0 ? 0 : first_ow;
    last_ow = last_ow > out_width ? out_width : last_ow;
    float total = 0.0f;
    for (long oh = first_oh; oh < last_oh; oh++) {
        float wy = nn_body_lerp_weight(nn_body_lerp_at(oh, (long)g.height, out_height), h);
        if (wy == 0.0f)
            continue;
        const float *row = dout + (b * (size_t)out_height + (size_t)oh) * (size_t)out_width * channels;
        for (long ow = first_ow; ow < last_ow; ow++) {
            float wx = nn_body_lerp_weight(nn_body_lerp_at(ow, (long)g.width, out_width), w);
            if (wx != 0.0f)
                total += row[(size_t)ow * channels + c] * (wy * wx);
        }
    }
    dinp[j] = total;
}

/* Element i of out (B,H·SH,W·SW,C): the input cell whose block holds it (nearest
 * upsampling, cpu/resample.c). */
NN_BODY void nn_body_upsample_forward(float *out, const float *inp, nn_upsample2d_geometry g,
                                      size_t i)
{
    if (g.bilinear) {
        nn_body_upsample_bilinear_forward(out, inp, g, i);
        return;
    }
    size_t channels = (size_t)g.channels;
    size_t out_width = (size_t)(g.width * g.size_width);
    size_t out_height = (size_t)(g.height * g.size_height);
    size_t c = i % channels;
    size_t ow = (i / channels) % out_width;
    size_t oh = (i / (channels * out_width)) % out_height;
    size_t b = i / (channels * out_width * out_height);
    size_t h = oh / (size_t)g.size_height, w = ow / (size_t)g.size_width;
    out[i] = inp[((b * (size_t)g.height + h) * (size_t)g.width + w) * channels + c];
}

/* Element j of dinp (B,H,W,C): its block of dout summed row by row, as the CPU does. */
NN_BODY void nn_body_upsample_backward(float *dinp, const float *dout, nn_upsample2d_geometry g,
                                       size_t j)
{
    if (g.bilinear) {
        nn_body_upsample_bilinear_backward(dinp, dout, g, j);
        return;
    }
    size_t channels = (size_t)g.channels;
    size_t c = j % channels;
    size_t w = (j / channels) % (size_t)g.width;
    size_t h = (j / (channels * (size_t)g.width)) % (size_t)g.height;
    size_t b = j / (channels * (size_t)g.width * (size_t)g.height);
    size_t out_width = (size_t)(g.width * g.size_width);
    size_t out_height = (size_t)(g.height * g.size_height);
    float sum = 0.0f;
    for (size_t i = 0; i < (size_t)g.size_height; i++) {
        size_t oh = h * (size_t)g.size_height + i;
        for (size_t k = 0; k < (size_t)g.size_width; k++)
            sum += dout[((b * out_height + oh) * out_width + w * (size_t)g.size_width + k) *
                            channels + c];
    }
    dinp[j] = sum;
}

#endif
