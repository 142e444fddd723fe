/* Bodies of Keras' Resizing: each output cell reads a window of the image (the whole image,
 * a centred crop, or a padded canvas around it) at TensorFlow's half-pixel positions,
 * bilinearly or from the nearest cell, and the adjoint that gathers each input cell's
 * gradient from the output cells that read it. One thread per element both ways; the CPU
 * runs the same bodies in a loop. */
#ifndef NN_RESIZE_BODY_H
#define NN_RESIZE_BODY_H

#include "../../backend.h"
#include "body.h"
#include "elementwise_body.h"

/* Where output cell o of an axis reads the window of `window` cells: bilinearly its two
 * neighbours (nn_body_lerp_at), or the nearest cell, floor((o + 0.5) · window / out) as
 * TensorFlow's half-pixel nearest (lower = upper, lerp 0). */
NN_BODY nn_body_lerp nn_body_resize_axis(long o, long window, long out, bool bilinear)
{
    if (bilinear)
        return nn_body_lerp_at(o, window, out);
    float scale = (float)window / (float)out;
    long index = (long)floorf(((float)o + 0.5f) * scale);
    nn_body_lerp point;
    point.lower = point.upper = index > window - 1 ? window - 1 : index;
    point.lerp = 0.0f;
    return point;
}

/* Cell (y, x) of the window in channel c of image b: the image's, or fill_value where the
 * window lies outside it (a padded canvas). */
NN_BODY float nn_body_resize_read(const float *inp, const nn_resize_geometry *g, size_t b,
                                  long y, long x, size_t c)
{
    long row = y + (long)g->top, column = x + (long)g->left;
    if (row < 0 || row >= (long)g->height || column < 0 || column >= (long)g->width)
        return g->fill_value;
    return inp[((b * (size_t)g->height + (size_t)row) * (size_t)g->width + (size_t)column) *
                   (size_t)g->channels + c];
}

/* Element i of out (B, out_height, out_width, C). */
NN_BODY void nn_body_resize_forward(float *out, const float *inp, const nn_resize_geometry *g,
                                    size_t i)
{
    size_t channels = (size_t)g->channels;
    size_t c = i % channels;
    long ow = (long)((i / channels) % (size_t)g->out_width);
    long oh = (long)((i / (channels * (size_t)g->out_width)) % (size_t)g->out_height);
    size_t b = i / (channels * (size_t)g->out_width * (size_t)g->out_height);
    nn_body_lerp y = nn_body_resize_axis(oh, (long)g->window_height, (long)g->out_height,
                                         g->bilinear);
    nn_body_lerp x = nn_body_resize_axis(ow, (long)g->window_width, (long)g->out_width,
                                         g->bilinear);
    float tl = nn_body_resize_read(inp, g, b, y.lower, x.lower, c);
    float tr = nn_body_resize_read(inp, g, b, y.lower, x.upper, c);
    float bl = nn_body_resize_read(inp, g, b, y.upper, x.lower, c);
    float br = nn_body_resize_read(inp, g, b, y.upper, x.upper, c);
    float top = tl + (tr - tl) * x.lerp;
    float bottom = bl + (br - bl) * x.lerp;
    out[i] = top + (bottom - top) * y.lerp;
}

/* The output cells [*first, *last) along an axis that may read window cell i: those whose
 * position lies within a cell of it, with one more either side for rounding. The bounds
 * reach past either end of the output for the first and last cells, which also catch the
 * positions the clamp sends there. */
NN_BODY void nn_body_resize_readers(long i, long window, long out, long *first, long *last)
{
    float scale = (float)window / (float)out;
    long from = (long)floorf(((float)i - 0.5f) / scale - 0.5f) - 1;
    long to = (long)ceilf(((float)i + 1.5f) / scale - 0.5f) + 2;
    *first = from < 0 ? 0 : from;
    *last = to > out ? out : to;
}

/* Element j of dinp (B, H, W, C): the output cells that read it, rows then columns, each
 * times (row weight · column weight); 0 for cells outside the window. */
NN_BODY void nn_body_resize_backward(float *dinp, const float *dout, const nn_resize_geometry *g,
                                     size_t j)
{
    size_t channels = (size_t)g->channels;
    size_t c = j % channels;
    /* the cell's place in the window */
    long column = (long)((j / channels) % (size_t)g->width) - (long)g->left;
    long row = (long)((j / (channels * (size_t)g->width)) % (size_t)g->height) - (long)g->top;
    size_t b = j / (channels * (size_t)g->width * (size_t)g->height);
    float total = 0.0f;
    if (row >= 0 && row < (long)g->window_height && column >= 0 &&
        column < (long)g->window_width) {
        long first_oh, last_oh, first_ow, last_ow;
        nn_body_resize_readers(row, (long)g->window_height, (long)g->out_height, &first_oh,
                               &last_oh);
        nn_body_resize_readers(column, (long)g->window_width, (long)g->out_width, &first_ow,
                               &last_ow);
        for (long oh = first_oh; oh < last_oh; oh++) {
            float wy = nn_body_lerp_weight(
                nn_body_resize_axis(oh, (long)g->window_height, (long)g->out_height,
                                    g->bilinear),
                row);
            if (wy == 0.0f)
                continue;
            const float *dout_row =
                dout + (b * (size_t)g->out_height + (size_t)oh) * (size_t)g->out_width * channels;
            for (long ow = first_ow; ow < last_ow; ow++) {
                float wx = nn_body_lerp_weight(
                    nn_body_resize_axis(ow, (long)g->window_width, (long)g->out_width,
                                        g->bilinear),
                    column);
                if (wx != 0.0f)
                    total += dout_row[(size_t)ow * channels + c] * (wy * wx);
            }
        }
    }
    dinp[j] = total;
}

#endif
