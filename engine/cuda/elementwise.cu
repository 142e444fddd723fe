// Element-wise kernels of the CUDA backend: fill, scale and shift, layout changes, activations (softmax by
// rows), bias, bias-gradient sums, the kernel layout and padding conversions cuDNN
// needs (also the padding layers' windows) and nearest upsampling. Each thread runs one
// body from bodies/elementwise_body.h.
#include "cuda_kernels.h"
#include "bodies/elementwise_body.h"
#include "launch.cuh"

static __global__ void fill_kernel(float *target, float value, size_t n)
{
    NN_FOR_EACH(i, n) target[i] = value;
}

extern "C" void nn_cuda_fill(float *target, float value, size_t n)
{
    NN_CUDA_STREAM_OR_RETURN(context, n);
    fill_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(target, value, n);
    NN_CUDA_LAUNCHED("fill");
}

static __global__ void scale_shift_kernel(float *y, const float *x, float scale, float offset,
                                          size_t n)
{
    NN_FOR_EACH(i, n) y[i] = x[i] * scale + offset;
}

extern "C" void nn_cuda_scale_shift(float *y, const float *x, float scale, float offset,
                                    size_t n)
{
    NN_CUDA_STREAM_OR_RETURN(context, n);
    scale_shift_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(y, x, scale, offset,
                                                                           n);
    NN_CUDA_LAUNCHED("scale_shift");
}

static __global__ void add_kernel(float *y, const float *x, size_t n)
{
    NN_FOR_EACH(i, n) y[i] += x[i];
}

extern "C" void nn_cuda_add(float *y, const float *x, size_t n)
{
    NN_CUDA_STREAM_OR_RETURN(context, n);
    add_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(y, x, n);
    NN_CUDA_LAUNCHED("add");
}

static __global__ void clipped_relu_kernel(float *out, const float *x, const float *dout,
                                          size_t n, float negative_slope, float max_value,
                                          float threshold)
{
    NN_FOR_EACH(i, n)
    nn_body_clipped_relu_apply(out, x, dout, negative_slope, max_value, threshold, i);
}

extern "C" void nn_cuda_clipped_relu(float *out, const float *x, const float *dout, size_t n,
                                     float negative_slope, float max_value, float threshold)
{
    NN_CUDA_STREAM_OR_RETURN(context, n);
    clipped_relu_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        out, x, dout, n, negative_slope, max_value, threshold);
    NN_CUDA_LAUNCHED("clipped_relu");
}

static __global__ void multiply_kernel(float *y, const float *a, const float *b, size_t n)
{
    NN_FOR_EACH(i, n) y[i] = a[i] * b[i];
}

extern "C" void nn_cuda_multiply(float *y, const float *a, const float *b, size_t n)
{
    NN_CUDA_STREAM_OR_RETURN(context, n);
    multiply_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(y, a, b, n);
    NN_CUDA_LAUNCHED("multiply");
}

static __global__ void to_channels_last_kernel(float *out, const float *inp, size_t channels,
                                               size_t spatial, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_to_channels_last(out, inp, channels, spatial, i);
}

static __global__ void to_channels_first_kernel(float *out, const float *inp, size_t channels,
                                                size_t spatial, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_to_channels_first(out, inp, channels, spatial, i);
}

extern "C" void nn_cuda_to_channels_last(float *out, const float *inp, int64_t batch,
                                         int64_t channels, int64_t spatial)
{
    size_t n = (size_t)batch * (size_t)channels * (size_t)spatial;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    to_channels_last_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        out, inp, (size_t)channels, (size_t)spatial, n);
    NN_CUDA_LAUNCHED("to_channels_last");
}

extern "C" void nn_cuda_to_channels_first(float *out, const float *inp, int64_t batch,
                                          int64_t channels, int64_t spatial)
{
    size_t n = (size_t)batch * (size_t)channels * (size_t)spatial;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    to_channels_first_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        out, inp, (size_t)channels, (size_t)spatial, n);
    NN_CUDA_LAUNCHED("to_channels_first");
}

static __global__ void activation_forward_kernel(nn_activation_kind kind, float alpha, float *y,
                                                 const float *x, size_t n)
{
    NN_FOR_EACH(i, n) y[i] = nn_body_activate(kind, alpha, x[i]);
}

static __global__ void activation_backward_kernel(nn_activation_kind kind, float alpha,
                                                  float *dx, const float *dy, const float *x,
                                                  const float *y, size_t n)
{
    NN_FOR_EACH(i, n)
    {
        float input = x ? x[i] : 0.0f;
        dx[i] = dy[i] * nn_body_activation_derivative(kind, alpha, input, y[i]);
    }
}

// One thread per row: rows are short (class scores) and this keeps the CPU's order of
// additions.
static __global__ void softmax_kernel(float *y, const float *x, size_t rows, size_t axis_size)
{
    NN_FOR_EACH(r, rows) nn_body_softmax_row(y + r * axis_size, x + r * axis_size, axis_size);
}

static __global__ void log_softmax_kernel(float *y, const float *x, size_t rows,
                                          size_t axis_size)
{
    NN_FOR_EACH(r, rows) nn_body_log_softmax_row(y + r * axis_size, x + r * axis_size, axis_size);
}

static __global__ void log_softmax_backward_kernel(float *dx, const float *dy, const float *y,
                                                   size_t rows, size_t axis_size)
{
    NN_FOR_EACH(r, rows)
    nn_body_log_softmax_backward_row(dx + r * axis_size, dy + r * axis_size, y + r * axis_size,
                                     axis_size);
}

static __global__ void softmax_backward_kernel(float *dx, const float *dy, const float *y,
                                               size_t rows, size_t axis_size)
{
    NN_FOR_EACH(r, rows)
    nn_body_softmax_backward_row(dx + r * axis_size, dy + r * axis_size, y + r * axis_size,
                                 axis_size);
}

extern "C" void nn_cuda_activation_forward(nn_activation activation, float *y, const float *x,
                                           size_t n, size_t axis_size)
{
    NN_CUDA_STREAM_OR_RETURN(context, n);
    if (axis_size == 0)
        axis_size = n;
    switch (activation.kind) {
    case NN_ACTIVATION_LINEAR:
        if (y != x)
            nn_cuda_ok(cudaMemcpyAsync(y, x, n * sizeof(float), cudaMemcpyDeviceToDevice,
                                       context->stream),
                       "cudaMemcpyAsync (linear activation)");
        return;
    case NN_ACTIVATION_SOFTMAX:
        softmax_kernel<<<nn_blocks(n / axis_size), NN_THREADS, 0, context->stream>>>(
            y, x, n / axis_size, axis_size);
        NN_CUDA_LAUNCHED("softmax");
        return;
    case NN_ACTIVATION_LOG_SOFTMAX:
        log_softmax_kernel<<<nn_blocks(n / axis_size), NN_THREADS, 0, context->stream>>>(
            y, x, n / axis_size, axis_size);
        NN_CUDA_LAUNCHED("log_softmax");
        return;
    default:
        activation_forward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
            activation.kind, activation.alpha, y, x, n);
        NN_CUDA_LAUNCHED("activation_forward");
        return;
    }
}

extern "C" void nn_cuda_activation_backward(nn_activation activation, float *dx,
                                            const float *dy, const float *x, const float *y,
                                            size_t n, size_t axis_size)
{
    NN_CUDA_STREAM_OR_RETURN(context, n);
    if (axis_size == 0)
        axis_size = n;
    switch (activation.kind) {
    case NN_ACTIVATION_LINEAR:
        if (dx != dy)
            nn_cuda_ok(cudaMemcpyAsync(dx, dy, n * sizeof(float), cudaMemcpyDeviceToDevice,
                                       context->stream),
                       "cudaMemcpyAsync (linear activation gradient)");
        return;
    case NN_ACTIVATION_SOFTMAX:
        softmax_backward_kernel<<<nn_blocks(n / axis_size), NN_THREADS, 0, context->stream>>>(
            dx, dy, y, n / axis_size, axis_size);
        NN_CUDA_LAUNCHED("softmax_backward");
        return;
    case NN_ACTIVATION_LOG_SOFTMAX:
        log_softmax_backward_kernel<<<nn_blocks(n / axis_size), NN_THREADS, 0,
                                      context->stream>>>(dx, dy, y, n / axis_size, axis_size);
        NN_CUDA_LAUNCHED("log_softmax_backward");
        return;
    default:
        activation_backward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
            activation.kind, activation.alpha, dx, dy, x, y, n);
        NN_CUDA_LAUNCHED("activation_backward");
        return;
    }
}

static __global__ void bias_activate_kernel(float *out, const float *bias, size_t width,
                                            nn_activation_kind kind, float alpha, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_bias_activate(out, bias, width, kind, alpha, i);
}

extern "C" void nn_cuda_bias_activate(float *out, const float *bias, size_t rows, size_t width,
                                      nn_activation activation)
{
    size_t n = rows * width;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    bool softmax = nn_activation_by_rows(activation.kind); /* softmax or log_softmax */
    if (!bias && (activation.kind == NN_ACTIVATION_LINEAR || softmax)) {
        if (softmax)
            nn_cuda_activation_forward(activation, out, out, n, width);
        return;
    }
    // Softmax and log_softmax normalise whole rows, so they run after the bias as their
    // own pass.
    nn_activation_kind kind = softmax ? NN_ACTIVATION_LINEAR : activation.kind;
    bias_activate_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        out, bias, width, kind, activation.alpha, n);
    NN_CUDA_LAUNCHED("bias_activate");
    if (softmax)
        nn_cuda_activation_forward(activation, out, out, n, width);
}

static __global__ void column_sum_kernel(float *sums, const float *rows, size_t row_count,
                                         size_t width)
{
    NN_FOR_EACH(column, width) nn_body_column_sum(sums, rows, row_count, width, column);
}

extern "C" void nn_cuda_column_sums(float *sums, const float *rows, size_t row_count,
                                    size_t width)
{
    NN_CUDA_STREAM_OR_RETURN(context, width);
    column_sum_kernel<<<nn_blocks(width), NN_THREADS, 0, context->stream>>>(sums, rows,
                                                                          row_count, width);
    NN_CUDA_LAUNCHED("column_sums");
}

static __global__ void column_partial_kernel(double *partials, const float *rows,
                                             size_t row_count, size_t width, size_t threads)
{
    NN_FOR_EACH(t, threads) nn_body_column_partial(partials, rows, row_count, width, NN_REDUCE_SLICES, t);
}

static __global__ void column_combine_kernel(float *sums, const double *partials, size_t width)
{
    NN_FOR_EACH(column, width) nn_body_column_combine(sums, partials, width, NN_REDUCE_SLICES, column);
}

extern "C" void nn_cuda_column_sums_sliced(float *sums, double *partials, const float *rows,
                                           size_t row_count, size_t width)
{
    NN_CUDA_STREAM_OR_RETURN(context, width);
    size_t threads = (size_t)NN_REDUCE_SLICES * width;
    column_partial_kernel<<<nn_blocks(threads), NN_THREADS, 0, context->stream>>>(
        partials, rows, row_count, width, threads);
    NN_CUDA_LAUNCHED("column_partial_sums");
    column_combine_kernel<<<nn_blocks(width), NN_THREADS, 0, context->stream>>>(sums, partials,
                                                                              width);
    NN_CUDA_LAUNCHED("column_combine");
}

static __global__ void kernel_to_cudnn_kernel(float *out, const float *in, size_t kh, size_t kw,
                                              size_t cg, size_t oc, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_kernel_to_cudnn(out, in, kh, kw, cg, oc, i);
}

static __global__ void kernel_from_cudnn_kernel(float *out, const float *in, size_t kh,
                                                size_t kw, size_t cg, size_t oc, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_kernel_from_cudnn(out, in, kh, kw, cg, oc, i);
}

extern "C" void nn_cuda_kernel_to_cudnn(float *out, const float *in, int kernel_height,
                                        int kernel_width, int group_channels, int out_channels)
{
    size_t n = (size_t)kernel_height * (size_t)kernel_width * (size_t)group_channels *
               (size_t)out_channels;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    kernel_to_cudnn_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        out, in, (size_t)kernel_height, (size_t)kernel_width, (size_t)group_channels,
        (size_t)out_channels, n);
    NN_CUDA_LAUNCHED("kernel_to_cudnn");
}

extern "C" void nn_cuda_kernel_from_cudnn(float *out, const float *in, int kernel_height,
                                          int kernel_width, int group_channels,
                                          int out_channels)
{
    size_t n = (size_t)kernel_height * (size_t)kernel_width * (size_t)group_channels *
               (size_t)out_channels;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    kernel_from_cudnn_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        out, in, (size_t)kernel_height, (size_t)kernel_width, (size_t)group_channels,
        (size_t)out_channels, n);
    NN_CUDA_LAUNCHED("kernel_from_cudnn");
}

static nn_body_padding padding_of(int height, int width, int channels, int padded_height,
                                  int padded_width, int pad_top, int pad_left)
{
    nn_body_padding p;
    p.channels = (size_t)channels;
    p.height = height;
    p.width = width;
    p.padded_height = padded_height;
    p.padded_width = padded_width;
    p.pad_top = pad_top;
    p.pad_left = pad_left;
    return p;
}

static __global__ void pad_kernel(float *padded, const float *inp, nn_body_padding p, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_pad(padded, inp, p, i);
}

static __global__ void crop_kernel(float *out, const float *padded, nn_body_padding p, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_crop(out, padded, p, i);
}

extern "C" void nn_cuda_pad(float *padded, const float *inp, int batch, int height, int width,
                            int channels, int padded_height, int padded_width, int pad_top,
                            int pad_left)
{
    size_t n = (size_t)batch * (size_t)padded_height * (size_t)padded_width * (size_t)channels;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    pad_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        padded, inp,
        padding_of(height, width, channels, padded_height, padded_width, pad_top, pad_left), n);
    NN_CUDA_LAUNCHED("pad");
}

extern "C" void nn_cuda_crop(float *out, const float *padded, int batch, int height, int width,
                             int channels, int padded_height, int padded_width, int pad_top,
                             int pad_left)
{
    size_t n = (size_t)batch * (size_t)height * (size_t)width * (size_t)channels;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    crop_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        out, padded,
        padding_of(height, width, channels, padded_height, padded_width, pad_top, pad_left), n);
    NN_CUDA_LAUNCHED("crop");
}

// The padding layers' windows: the same kernels, with a window's sizes.
extern "C" void nn_cuda_window2d_embed(float *outer, const float *inner,
                                       const nn_window2d_geometry *g)
{
    nn_cuda_pad(outer, inner, (int)g->batch, (int)g->inner_height, (int)g->inner_width,
                (int)g->channels, (int)g->outer_height, (int)g->outer_width, (int)g->top,
                (int)g->left);
}

extern "C" void nn_cuda_window2d_extract(float *inner, const float *outer,
                                         const nn_window2d_geometry *g)
{
    nn_cuda_crop(inner, outer, (int)g->batch, (int)g->inner_height, (int)g->inner_width,
                 (int)g->channels, (int)g->outer_height, (int)g->outer_width, (int)g->top,
                 (int)g->left);
}

static __global__ void upsample_forward_kernel(float *out, const float *inp,
                                               nn_upsample2d_geometry g, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_upsample_forward(out, inp, g, i);
}

static __global__ void upsample_backward_kernel(float *dinp, const float *dout,
                                                nn_upsample2d_geometry g, size_t n)
{
    NN_FOR_EACH(j, n) nn_body_upsample_backward(dinp, dout, g, j);
}

extern "C" void nn_cuda_upsample2d_forward(float *out, const float *inp,
                                           const nn_upsample2d_geometry *g)
{
    size_t n = (size_t)g->batch * (size_t)(g->height * g->size_height) *
               (size_t)(g->width * g->size_width) * (size_t)g->channels;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    upsample_forward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(out, inp, *g, n);
    NN_CUDA_LAUNCHED("upsample2d_forward");
}

extern "C" void nn_cuda_upsample2d_backward(float *dinp, const float *dout,
                                            const nn_upsample2d_geometry *g)
{
    size_t n = (size_t)g->batch * (size_t)g->height * (size_t)g->width * (size_t)g->channels;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    upsample_backward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(dinp, dout, *g,
                                                                               n);
    NN_CUDA_LAUNCHED("upsample2d_backward");
}

// Conv2DTranspose's bias and its gradient, on the kernels Dense and Conv2D use.
extern "C" void nn_cuda_bias_add(float *out, const float *bias, int64_t rows, int64_t width)
{
    nn_activation linear;
    linear.kind = NN_ACTIVATION_LINEAR;
    linear.alpha = 0.0f;
    nn_cuda_bias_activate(out, bias, (size_t)rows, (size_t)width, linear);
}

extern "C" void nn_cuda_column_sums_of(float *sums, const float *rows, int64_t row_count,
                                       int64_t width)
{
    nn_cuda_column_sums(sums, rows, (size_t)row_count, (size_t)width);
}
