/* Bodies of max and average pooling, channels-last, as cpu/pool.c. Max pooling: forward scans each window row by
 * row and keeps the first maximum, or the first NaN (nn_body_pool_takes_over); backward gathers, for
 * each input cell, the gradients of the windows it won, in the order the CPU scatter
 * adds them, so no atomics are needed and the sums round identically. */
#ifndef NN_POOL_BODY_H
#define NN_POOL_BODY_H

#include "../../backend.h"
#include "body.h"

/* Whether a window's next value replaces the best so far: strictly greater (the first of
 * equals keeps the win), or a NaN over a number, so a NaN anywhere in the window is the
 * result, as TF and PyTorch give. */
NN_BODY bool nn_body_pool_takes_over(float candidate, float best)
{
    return candidate > best || (isnan(candidate) && !isnan(best));
}

/* The windows that cover input cell (h, w): rows [*first_oh, *last_oh] and columns
 * [*first_ow, *last_ow] of the output (window oh covers rows oh·s - pad_top ..
 * oh·s - pad_top + pool - 1). */
NN_BODY void nn_body_covering_windows(nn_pool2d_geometry g, int h, int w, int *first_oh,
                                      int *last_oh, int *first_ow, int *last_ow)
{
    int low_h = h + g.pad_top - g.pool_height + 1, low_w = w + g.pad_left - g.pool_width + 1;
    *first_oh = low_h <= 0 ? 0 : (low_h + g.stride_height - 1) / g.stride_height;
    *first_ow = low_w <= 0 ? 0 : (low_w + g.stride_width - 1) / g.stride_width;
    *last_oh = (h + g.pad_top) / g.stride_height;
    *last_ow = (w + g.pad_left) / g.stride_width;
    if (*last_oh > g.out_height - 1)
        *last_oh = g.out_height - 1;
    if (*last_ow > g.out_width - 1)
        *last_ow = g.out_width - 1;
}

/* Output element i of (B,OH,OW,C); argmax (may be NULL) gets the winner's flat index. */
NN_BODY void nn_body_maxpool_forward(float *out, int32_t *argmax, const float *inp,
                                     nn_pool2d_geometry g, size_t i)
{
    size_t channels = (size_t)g.channels;
    size_t c = i % channels;
    int ow = (int)((i / channels) % (size_t)g.out_width);
    int oh = (int)((i / (channels * (size_t)g.out_width)) % (size_t)g.out_height);
    size_t b = i / (channels * (size_t)g.out_width * (size_t)g.out_height);
    bool started = false;
    float best = -INFINITY;
    int32_t winner = -1;
    for (int ph = 0; ph < g.pool_height; ph++) {
        int h = oh * g.stride_height - g.pad_top + ph;
        if (h < 0 || h >= g.in_height)
            continue;
        for (int pw = 0; pw < g.pool_width; pw++) {
            int w = ow * g.stride_width - g.pad_left + pw;
            if (w < 0 || w >= g.in_width)
                continue;
            size_t at = ((b * (size_t)g.in_height + (size_t)h) * (size_t)g.in_width + (size_t)w) *
                            channels + c;
            float candidate = inp[at];
            if (!started || nn_body_pool_takes_over(candidate, best)) {
                best = candidate;
                winner = (int32_t)at;
                started = true;
            }
        }
    }
    out[i] = best;
    if (argmax)
        argmax[i] = winner;
}

/* Input element j of dinp (B,H,W,C): the sum of dout over the windows j won, windows in
 * row-major order. With `relu_out` (not NULL) only windows whose output was positive
 * count: the derivative of a ReLU before the pooling, folded in. */
NN_BODY void nn_body_maxpool_backward(float *dinp, const float *dout, const int32_t *argmax,
                                      const float *relu_out, nn_pool2d_geometry g, size_t j)
{
    size_t channels = (size_t)g.channels;
    size_t c = j % channels;
    int w = (int)((j / channels) % (size_t)g.in_width);
    int h = (int)((j / (channels * (size_t)g.in_width)) % (size_t)g.in_height);
    size_t b = j / (channels * (size_t)g.in_width * (size_t)g.in_height);
    int first_oh, last_oh, first_ow, last_ow;
    nn_body_covering_windows(g, h, w, &first_oh, &last_oh, &first_ow, &last_ow);
    float total = 0.0f;
    for (int oh = first_oh; oh <= last_oh; oh++) {
        for (int ow = first_ow; ow <= last_ow; ow++) {
            size_t at = ((b * (size_t)g.out_height + (size_t)oh) * (size_t)g.out_width +
                         (size_t)ow) * channels + c;
            if (argmax[at] == (int32_t)j && (!relu_out || relu_out[at] > 0.0f))
                total += dout[at];
        }
    }
    dinp[j] = total;
}

/* ---- average pooling, as cpu/pool.c ---- */

/* The cells of window (oh, ow) inside the input: rows [*h0, *h1), columns [*w0, *w1). */
NN_BODY int nn_body_window_cells(nn_pool2d_geometry g, int oh, int ow, int *h0, int *h1,
                                 int *w0, int *w1)
{
    int top = oh * g.stride_height - g.pad_top, left = ow * g.stride_width - g.pad_left;
    *h0 = top < 0 ? 0 : top;
    *h1 = top + g.pool_height > g.in_height ? g.in_height : top + g.pool_height;
    *w0 = left < 0 ? 0 : left;
    *w1 = left + g.pool_width > g.in_width ? g.in_width : left + g.pool_width;
    return (*h1 - *h0) * (*w1 - *w0);
}

/* Output element i of (B,OH,OW,C): the window's cells summed row by row, divided once. */
NN_BODY void nn_body_avgpool_forward(float *out, const float *inp, nn_pool2d_geometry g,
                                     size_t i)
{
    size_t channels = (size_t)g.channels;
    size_t c = i % channels;
    int ow = (int)((i / channels) % (size_t)g.out_width);
    int oh = (int)((i / (channels * (size_t)g.out_width)) % (size_t)g.out_height);
    size_t b = i / (channels * (size_t)g.out_width * (size_t)g.out_height);
    int h0, h1, w0, w1;
    int count = nn_body_window_cells(g, oh, ow, &h0, &h1, &w0, &w1);
    float sum = 0.0f;
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++)
            sum += inp[((b * (size_t)g.in_height + (size_t)h) * (size_t)g.in_width +
                        (size_t)w) * channels + c];
    out[i] = count > 0 ? sum / (float)count : 0.0f;
}

/* Input element j of dinp (B,H,W,C): dout / count over the windows covering it, windows
 * in row-major order. */
NN_BODY void nn_body_avgpool_backward(float *dinp, const float *dout, nn_pool2d_geometry g,
                                      size_t j)
{
    size_t channels = (size_t)g.channels;
    size_t c = j % channels;
    int w = (int)((j / channels) % (size_t)g.in_width);
    int h = (int)((j / (channels * (size_t)g.in_width)) % (size_t)g.in_height);
    size_t b = j / (channels * (size_t)g.in_width * (size_t)g.in_height);
    int first_oh, last_oh, first_ow, last_ow;
    nn_body_covering_windows(g, h, w, &first_oh, &last_oh, &first_ow, &last_ow);
    float total = 0.0f;
    for (int oh = first_oh; oh <= last_oh; oh++)
        for (int ow = first_ow; ow <= last_ow; ow++) {
            int h0, h1, w0, w1;
            float count = (float)nn_body_window_cells(g, oh, ow, &h0, &h1, &w0, &w1);
            total += dout[((b * (size_t)g.out_height + (size_t)oh) * (size_t)g.out_width +
                           (size_t)ow) * channels + c] / count;
        }
    dinp[j] = total;
}

#endif
