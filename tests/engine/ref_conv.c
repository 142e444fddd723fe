/* Naive references for convolution and max pooling: the definitions, looped directly
 * in double precision. Speed does not matter here, only being obviously right. */
#include "ref_conv.h"

#include <math.h>
#include <string.h>

int ref_window_output(int input, int window, int stride, int dilation, bool same,
                      int *pad_before)
{
    int dilated = (window - 1) * dilation + 1;
    if (!same) {
        *pad_before = 0;
        return (int)floor((double)(input - dilated) / stride) + 1;
    }
    int output = (int)ceil((double)input / stride);
    int needed = (output - 1) * stride + dilated; /* cells the windows span */
    int total = needed > input ? needed - input : 0;
    *pad_before = total / 2;
    return output;
}

/* Index helpers: row-major offsets of 4-D arrays. */
static size_t at4(int i0, int i1, int i2, int i3, int n1, int n2, int n3)
{
    return (((size_t)i0 * (size_t)n1 + (size_t)i1) * (size_t)n2 + (size_t)i2) * (size_t)n3 +
           (size_t)i3;
}

void ref_conv2d_forward(double *out, const double *inp, const double *kernel,
                        const double *bias, const nn_conv2d_geometry *g)
{
    int group_in = g->in_channels / g->groups;
    int group_out = g->out_channels / g->groups;
    for (int b = 0; b < g->batch; b++)
        for (int oh = 0; oh < g->out_height; oh++)
            for (int ow = 0; ow < g->out_width; ow++)
                for (int oc = 0; oc < g->out_channels; oc++) {
                    int group = oc / group_out;
                    double sum = bias ? bias[oc] : 0.0;
                    for (int kh = 0; kh < g->kernel_height; kh++)
                        for (int kw = 0; kw < g->kernel_width; kw++)
                            for (int ci = 0; ci < group_in; ci++) {
                                int h = oh * g->stride_height - g->pad_top + kh * g->dilation_height;
                                int w = ow * g->stride_width - g->pad_left + kw * g->dilation_width;
                                if (h < 0 || h >= g->in_height || w < 0 || w >= g->in_width)
                                    continue;
                                int c = group * group_in + ci;
                                sum += inp[at4(b, h, w, c, g->in_height, g->in_width, g->in_channels)] *
                                       kernel[at4(kh, kw, ci, oc, g->kernel_width, group_in,
                                                  g->out_channels)];
                            }
                    out[at4(b, oh, ow, oc, g->out_height, g->out_width, g->out_channels)] = sum;
                }
}

void ref_conv2d_backward(double *dinp, double *dkernel, double *dbias, const double *dout,
                         const double *inp, const double *kernel,
                         const nn_conv2d_geometry *g)
{
    int group_in = g->in_channels / g->groups;
    int group_out = g->out_channels / g->groups;
    size_t in_count = (size_t)g->batch * (size_t)g->in_height * (size_t)g->in_width *
                      (size_t)g->in_channels;
    size_t kernel_count = (size_t)g->kernel_height * (size_t)g->kernel_width *
                          (size_t)group_in * (size_t)g->out_channels;
    if (dinp)
        memset(dinp, 0, sizeof(double) * in_count);
    if (dkernel)
        memset(dkernel, 0, sizeof(double) * kernel_count);
    if (dbias)
        memset(dbias, 0, sizeof(double) * (size_t)g->out_channels);
    /* The same loops as forward: every product inp · kernel that fed out[b,oh,ow,oc]
     * passes dout[b,oh,ow,oc] back to both factors. */
    for (int b = 0; b < g->batch; b++)
        for (int oh = 0; oh < g->out_height; oh++)
            for (int ow = 0; ow < g->out_width; ow++)
                for (int oc = 0; oc < g->out_channels; oc++) {
                    int group = oc / group_out;
                    double grad = dout[at4(b, oh, ow, oc, g->out_height, g->out_width,
                                           g->out_channels)];
                    if (dbias)
                        dbias[oc] += grad;
                    for (int kh = 0; kh < g->kernel_height; kh++)
                        for (int kw = 0; kw < g->kernel_width; kw++)
                            for (int ci = 0; ci < group_in; ci++) {
                                int h = oh * g->stride_height - g->pad_top + kh * g->dilation_height;
                                int w = ow * g->stride_width - g->pad_left + kw * g->dilation_width;
                                if (h < 0 || h >= g->in_height || w < 0 || w >= g->in_width)
                                    continue;
                                int c = group * group_in + ci;
                                size_t i = at4(b, h, w, c, g->in_height, g->in_width, g->in_channels);
                                size_t k = at4(kh, kw, ci, oc, g->kernel_width, group_in,
                                               g->out_channels);
                                if (dinp)
                                    dinp[i] += grad * kernel[k];
                                if (dkernel)
                                    dkernel[k] += grad * inp[i];
                            }
                }
}

/* Finds the winner of one window and channel; -1 if the window is all padding. */
static int64_t window_winner(const double *inp, const nn_pool2d_geometry *g, int b, int oh,
                             int ow, int c)
{
    int64_t winner = -1;
    for (int ph = 0; ph < g->pool_height; ph++)
        for (int pw = 0; pw < g->pool_width; pw++) {
            int h = oh * g->stride_height - g->pad_top + ph;
            int w = ow * g->stride_width - g->pad_left + pw;
            if (h < 0 || h >= g->in_height || w < 0 || w >= g->in_width)
                continue;
            int64_t i = (int64_t)at4(b, h, w, c, g->in_height, g->in_width, g->channels);
            if (winner < 0 || inp[i] > inp[winner])
                winner = i;
        }
    return winner;
}

void ref_maxpool2d_forward(double *out, int64_t *argmax, const double *inp,
                           const nn_pool2d_geometry *g)
{
    for (int b = 0; b < g->batch; b++)
        for (int oh = 0; oh < g->out_height; oh++)
            for (int ow = 0; ow < g->out_width; ow++)
                for (int c = 0; c < g->channels; c++) {
                    size_t o = at4(b, oh, ow, c, g->out_height, g->out_width, g->channels);
                    int64_t winner = window_winner(inp, g, b, oh, ow, c);
                    out[o] = winner >= 0 ? inp[winner] : -INFINITY;
                    if (argmax)
                        argmax[o] = winner;
                }
}

void ref_maxpool2d_backward(double *dinp, const double *dout, const double *inp,
                            const nn_pool2d_geometry *g)
{
    size_t in_count = (size_t)g->batch * (size_t)g->in_height * (size_t)g->in_width *
                      (size_t)g->channels;
    memset(dinp, 0, sizeof(double) * in_count);
    for (int b = 0; b < g->batch; b++)
        for (int oh = 0; oh < g->out_height; oh++)
            for (int ow = 0; ow < g->out_width; ow++)
                for (int c = 0; c < g->channels; c++) {
                    int64_t winner = window_winner(inp, g, b, oh, ow, c);
                    if (winner >= 0)
                        dinp[winner] +=
                            dout[at4(b, oh, ow, c, g->out_height, g->out_width, g->channels)];
                }
}

void ref_to_channels_last(double *out, const double *inp, int batch, int channels,
                          int spatial)
{
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < channels; c++)
            for (int s = 0; s < spatial; s++)
                out[((size_t)b * (size_t)spatial + (size_t)s) * (size_t)channels + (size_t)c] =
                    inp[((size_t)b * (size_t)channels + (size_t)c) * (size_t)spatial + (size_t)s];
}

void ref_to_channels_first(double *out, const double *inp, int batch, int channels,
                           int spatial)
{
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < channels; c++)
            for (int s = 0; s < spatial; s++)
                out[((size_t)b * (size_t)channels + (size_t)c) * (size_t)spatial + (size_t)s] =
                    inp[((size_t)b * (size_t)spatial + (size_t)s) * (size_t)channels + (size_t)c];
}

nn_pool2d_geometry ref_pool_geometry(int batch, int height, int width, int channels, int pool,
                                     int stride, bool same)
{
    int pad_top, pad_left;
    int out_height = ref_window_output(height, pool, stride, 1, same, &pad_top);
    int out_width = ref_window_output(width, pool, stride, 1, same, &pad_left);
    return (nn_pool2d_geometry){.batch = batch, .in_height = height, .in_width = width,
                                .channels = channels, .out_height = out_height,
                                .out_width = out_width, .pool_height = pool, .pool_width = pool,
                                .stride_height = stride, .stride_width = stride,
                                .pad_top = pad_top, .pad_left = pad_left};
}

void ref_avgpool2d_forward(double *out, const double *inp, const nn_pool2d_geometry *g)
{
    for (int b = 0; b < g->batch; b++)
        for (int oh = 0; oh < g->out_height; oh++)
            for (int ow = 0; ow < g->out_width; ow++)
                for (int c = 0; c < g->channels; c++) {
                    double sum = 0.0;
                    int count = 0;
                    for (int ph = 0; ph < g->pool_height; ph++)
                        for (int pw = 0; pw < g->pool_width; pw++) {
                            int h = oh * g->stride_height - g->pad_top + ph;
                            int w = ow * g->stride_width - g->pad_left + pw;
                            if (h < 0 || h >= g->in_height || w < 0 || w >= g->in_width)
                                continue;
                            sum += inp[((b * g->in_height + h) * g->in_width + w) *
                                           g->channels + c];
                            count++;
                        }
                    out[((b * g->out_height + oh) * g->out_width + ow) * g->channels + c] =
                        sum / count;
                }
}
