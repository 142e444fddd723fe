/* 2-D max pooling on the CPU, channels-last: forward keeps where each maximum came from
 * so that backward is a scatter of the output gradient onto those winners. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "cpu_kernels.h"
#include "../cuda/bodies/pool_body.h"

/* Below this many floats of work a parallel region costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 14 };

void nn_cpu_maxpool2d_forward(float *out, int32_t *argmax, const float *inp,
                              const nn_pool2d_geometry *geometry)
{
    /* out (B,OH,OW,C), argmax (B,OH,OW,C) or NULL, inp (B,H,W,C). Windows are scanned
     * row by row, so among equal values the first one wins (and a NaN in the first cell
     * stays, as no comparison with it is true). Cells in the padding are
     * skipped rather than read as -inf: they never win and never receive gradient. The
     * caller guarantees that inp has at most INT32_MAX elements. */
    const nn_pool2d_geometry *g = geometry;
    const int channels = g->channels;
    const size_t work = (size_t)g->batch * (size_t)g->out_height * (size_t)g->out_width *
                        (size_t)channels * (size_t)g->pool_height * (size_t)g->pool_width;
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_THRESHOLD)
    for (int b = 0; b < g->batch; b++) {
        for (int oh = 0; oh < g->out_height; oh++) {
            for (int ow = 0; ow < g->out_width; ow++) {
                size_t at = (((size_t)b * (size_t)g->out_height + (size_t)oh) *
                                 (size_t)g->out_width + (size_t)ow) * (size_t)channels;
                float *best = out + at;
                int32_t *winner = argmax ? argmax + at : NULL;
                /* The first cell inside the input starts the window; later ones must be
                 * strictly greater, or NaN over a number: the first NaN wins and stays, as
                 * TF and PyTorch propagate it. */
                bool started = false;
                for (int ph = 0; ph < g->pool_height; ph++) {
                    int h = oh * g->stride_height - g->pad_top + ph;
                    if (h < 0 || h >= g->in_height)
                        continue;
                    for (int pw = 0; pw < g->pool_width; pw++) {
                        int w = ow * g->stride_width - g->pad_left + pw;
                        if (w < 0 || w >= g->in_width)
                            continue;
                        size_t pixel = (((size_t)b * (size_t)g->in_height + (size_t)h) *
                                            (size_t)g->in_width + (size_t)w) * (size_t)channels;
                        const float *candidate = inp + pixel;
                        if (!started) {
                            memcpy(best, candidate, sizeof(float) * (size_t)channels);
                            if (winner)
                                for (int c = 0; c < channels; c++)
                                    winner[c] = (int32_t)(pixel + (size_t)c);
                            started = true;
                        } else if (winner) {
                            /* Selects rather than branches, so the loop vectorizes. */
                            for (int c = 0; c < channels; c++) {
                                bool greater = nn_body_pool_takes_over(candidate[c], best[c]);
                                best[c] = greater ? candidate[c] : best[c];
                                winner[c] = greater ? (int32_t)(pixel + (size_t)c) : winner[c];
                            }
                        } else {
                            for (int c = 0; c < channels; c++)
                                best[c] = nn_body_pool_takes_over(candidate[c], best[c])
                                              ? candidate[c]
                                              : best[c];
                        }
                    }
                }
                if (!started) {
                    /* Unreachable with Keras geometry (every window overlaps the input);
                     * kept so a bad geometry yields defined values, not garbage. */
                    for (int c = 0; c < channels; c++)
                        best[c] = -INFINITY;
                    if (winner)
                        for (int c = 0; c < channels; c++)
                            winner[c] = -1;
                }
            }
        }
    }
}

/* 2×2 windows side by side from the top-left corner (stride 2, no padding): each input
 * cell belongs to at most one window. */
static bool disjoint_2x2(const nn_pool2d_geometry *g)
{
    return g->pool_height == 2 && g->pool_width == 2 && g->stride_height == 2 &&
           g->stride_width == 2 && g->pad_top == 0 && g->pad_left == 0 &&
           g->out_height == g->in_height / 2 && g->out_width == g->in_width / 2;
}

/* The backward of disjoint 2×2 windows: every input cell is written once, with its
 * window's gradient where it won (and relu_out, when given, is positive), else 0; no
 * clearing pass and no scatter. A leftover odd row or column is zero. */
static void backward_2x2(float *dinp, const float *dout, const int32_t *argmax,
                         const float *relu_out, const nn_pool2d_geometry *g)
{
    const int channels = g->channels;
    const size_t row_floats = (size_t)g->in_width * (size_t)channels;
    const size_t work = (size_t)g->batch * (size_t)g->in_height * row_floats;
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_THRESHOLD)
    for (int b = 0; b < g->batch; b++) {
        for (int h = 0; h < g->in_height; h++) {
            float *target = dinp + ((size_t)b * (size_t)g->in_height + (size_t)h) * row_floats;
            int py = h / 2;
            if (py >= g->out_height) {
                memset(target, 0, sizeof(float) * row_floats);
                continue;
            }
            for (int w = 0; w < g->in_width; w++, target += channels) {
                int px = w / 2;
                if (px >= g->out_width) {
                    memset(target, 0, sizeof(float) * (size_t)channels);
                    continue;
                }
                size_t window = (((size_t)b * (size_t)g->out_height + (size_t)py) *
                                     (size_t)g->out_width + (size_t)px) * (size_t)channels;
                int32_t cell = (int32_t)(((size_t)b * (size_t)g->in_height + (size_t)h) *
                                             row_floats + (size_t)w * (size_t)channels);
                const int32_t *winner = argmax + window;
                const float *gradient = dout + window;
                /* Bitwise & and an unconditional load: no branch, so the loop vectorizes. */
                if (relu_out) {
                    const float *out = relu_out + window;
                    for (int c = 0; c < channels; c++) {
                        float value = gradient[c];
                        target[c] = ((winner[c] == cell + c) & (out[c] > 0.0f)) ? value : 0.0f;
                    }
                } else {
                    for (int c = 0; c < channels; c++) {
                        float value = gradient[c];
                        target[c] = winner[c] == cell + c ? value : 0.0f;
                    }
                }
            }
        }
    }
}

/* dinp = scatter of dout to the winners, each gradient kept only where relu_out (the
 * pooled output) is positive when relu_out is given. Winners of image b lie in image b,
 * so one thread per image adds in a fixed order whatever the thread count. */
static void scatter_to_winners(float *dinp, const float *dout, const int32_t *argmax,
                               const float *relu_out, const nn_pool2d_geometry *g)
{
    if (disjoint_2x2(g)) {
        backward_2x2(dinp, dout, argmax, relu_out, g);
        return;
    }
    const size_t image_in = (size_t)g->in_height * (size_t)g->in_width * (size_t)g->channels;
    const size_t image_out = (size_t)g->out_height * (size_t)g->out_width * (size_t)g->channels;
#pragma omp parallel for schedule(static) if ((size_t)g->batch * image_in > PARALLEL_THRESHOLD)
    for (int b = 0; b < g->batch; b++) {
        memset(dinp + (size_t)b * image_in, 0, sizeof(float) * image_in);
        const size_t first = (size_t)b * image_out;
        for (size_t i = first; i < first + image_out; i++)
            if (argmax[i] >= 0 && (!relu_out || relu_out[i] > 0.0f))
                dinp[argmax[i]] += dout[i];
    }
}

void nn_cpu_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax,
                               const nn_pool2d_geometry *geometry)
{
    /* dinp (B,H,W,C) is overwritten; dout and argmax (B,OH,OW,C) come from forward.
     * Overlapping windows (stride < pool) can share a winner, whose gradient is then
     * the sum. */
    scatter_to_winners(dinp, dout, argmax, NULL, geometry);
}

void nn_cpu_maxpool2d_backward_relu(float *dinp, const float *dout, const int32_t *argmax,
                                    const float *out, const nn_pool2d_geometry *geometry)
{
    /* As nn_cpu_maxpool2d_backward, for an input that came out of a ReLU: out
     * (B,OH,OW,C) is the forward result, and a winner of 0 had a zero ReLU derivative. */
    scatter_to_winners(dinp, dout, argmax, out, geometry);
}

/* ---- average pooling ---- */

/* The cells of window (oh, ow) inside the input: rows [*h0, *h1), columns [*w0, *w1). */
static int window_cells(const nn_pool2d_geometry *g, int oh, int ow, int *h0, int *h1,
                        int *w0, int *w1)
{
    int top = oh * g->stride_height - g->pad_top, left = ow * g->stride_width - g->pad_left;
    *h0 = top < 0 ? 0 : top;
    *h1 = top + g->pool_height > g->in_height ? g->in_height : top + g->pool_height;
    *w0 = left < 0 ? 0 : left;
    *w1 = left + g->pool_width > g->in_width ? g->in_width : left + g->pool_width;
    return (*h1 - *h0) * (*w1 - *w0);
}

void nn_cpu_avgpool2d_forward(float *out, const float *inp, const nn_pool2d_geometry *geometry)
{
    const nn_pool2d_geometry *g = geometry;
    const size_t channels = (size_t)g->channels;
    const size_t work = (size_t)g->batch * (size_t)g->out_height * (size_t)g->out_width *
                        channels * (size_t)g->pool_height * (size_t)g->pool_width;
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_THRESHOLD)
    for (int b = 0; b < g->batch; b++) {
        for (int oh = 0; oh < g->out_height; oh++) {
            for (int ow = 0; ow < g->out_width; ow++) {
                float *sum = out + (((size_t)b * (size_t)g->out_height + (size_t)oh) *
                                        (size_t)g->out_width + (size_t)ow) * channels;
                memset(sum, 0, sizeof(float) * channels);
                int h0, h1, w0, w1;
                int count = window_cells(g, oh, ow, &h0, &h1, &w0, &w1);
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) {
                        const float *cell = inp + (((size_t)b * (size_t)g->in_height +
                                                    (size_t)h) * (size_t)g->in_width +
                                                   (size_t)w) * channels;
                        for (size_t c = 0; c < channels; c++)
                            sum[c] += cell[c];
                    }
                for (size_t c = 0; c < channels; c++)
                    sum[c] = count > 0 ? sum[c] / (float)count : 0.0f;
            }
        }
    }
}

void nn_cpu_avgpool2d_backward(float *dinp, const float *dout, const nn_pool2d_geometry *geometry)
{
    /* A gather per input cell over the windows covering it, in row-major order: the same
     * sums, in the same order, as the GPU's. */
    const nn_pool2d_geometry *g = geometry;
    const size_t channels = (size_t)g->channels;
    const size_t work = (size_t)g->batch * (size_t)g->in_height * (size_t)g->in_width *
                        channels * (size_t)g->pool_height * (size_t)g->pool_width;
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_THRESHOLD)
    for (int b = 0; b < g->batch; b++) {
        for (int h = 0; h < g->in_height; h++) {
            int low_h = h + g->pad_top - g->pool_height + 1;
            int first_oh = low_h <= 0 ? 0 : (low_h + g->stride_height - 1) / g->stride_height;
            int last_oh = (h + g->pad_top) / g->stride_height;
            if (last_oh > g->out_height - 1)
                last_oh = g->out_height - 1;
            for (int w = 0; w < g->in_width; w++) {
                int low_w = w + g->pad_left - g->pool_width + 1;
                int first_ow = low_w <= 0 ? 0 : (low_w + g->stride_width - 1) / g->stride_width;
                int last_ow = (w + g->pad_left) / g->stride_width;
                if (last_ow > g->out_width - 1)
                    last_ow = g->out_width - 1;
                float *total = dinp + (((size_t)b * (size_t)g->in_height + (size_t)h) *
                                           (size_t)g->in_width + (size_t)w) * channels;
                memset(total, 0, sizeof(float) * channels);
                for (int oh = first_oh; oh <= last_oh; oh++)
                    for (int ow = first_ow; ow <= last_ow; ow++) {
                        int h0, h1, w0, w1;
                        float count = (float)window_cells(g, oh, ow, &h0, &h1, &w0, &w1);
                        const float *gradient = dout + (((size_t)b * (size_t)g->out_height +
                                                         (size_t)oh) * (size_t)g->out_width +
                                                        (size_t)ow) * channels;
                        for (size_t c = 0; c < channels; c++)
                            total[c] += gradient[c] / count;
                    }
            }
        }
    }
}
