/* Bodies of random colour augmentation (RandomContrast, RandomBrightness): each image's
 * draw from Philox, then every plane (one channel of one image) adjusted and clipped to
 * the value range, and the backward through the clip (and, for contrast, the plane's
 * mean). The CPU runs them plane by plane as the GPU's threads do, so both give the same
 * bits. */
#ifndef NN_COLOR_BODY_H
#define NN_COLOR_BODY_H

#include "../../backend.h"
#include "affine_body.h"
#include "body.h"

/* Element k (row-major over height and width) of plane p = image · channels + channel. */
NN_BODY size_t nn_body_color_index(const nn_color_geometry *g, size_t plane, size_t k)
{
    size_t channels = (size_t)g->channels, size = (size_t)(g->height * g->width);
    if (g->channels_first)
        return plane * size + k;
    return (plane / channels * size + k) * channels + plane % channels;
}

/* What image `image` draws: its contrast factor, or its brightness shift. */
NN_BODY float nn_body_color_draw(const nn_color_geometry *g, uint64_t seed, uint64_t stream,
                                 uint64_t image)
{
    uint32_t words[4];
    nn_body_philox(seed, stream, image, words);
    return nn_body_draw(g->range, words[0]);
}

/* The plane's mean (summed in double), which contrast keeps; 0 for brightness. */
NN_BODY float nn_body_color_mean(const float *in, const nn_color_geometry *g, size_t plane)
{
    if (!g->contrast)
        return 0.0f;
    size_t size = (size_t)(g->height * g->width);
    double sum = 0.0;
    for (size_t k = 0; k < size; k++)
        sum += (double)in[nn_body_color_index(g, plane, k)];
    return (float)(sum / (double)size);
}

/* The value before the clip. */
NN_BODY float nn_body_color_adjust(const nn_color_geometry *g, float x, float draw, float mean)
{
    return g->contrast ? (x - mean) * draw + mean : x + draw;
}

/* Whether an adjusted value lies inside the value range (so its gradient passes); NaN
 * is outside. */
NN_BODY bool nn_body_color_kept(const nn_color_geometry *g, float value)
{
    return value >= g->value_range[0] && value <= g->value_range[1];
}

/* Plane p of the output: adjusted, then clipped to the value range (NaN stays NaN). */
NN_BODY void nn_body_random_color_plane(float *out, const float *in, const nn_color_geometry *g,
                                        uint64_t seed, uint64_t stream, size_t plane)
{
    float draw = nn_body_color_draw(g, seed, stream, plane / (size_t)g->channels);
    float mean = nn_body_color_mean(in, g, plane);
    size_t size = (size_t)(g->height * g->width);
    for (size_t k = 0; k < size; k++) {
        size_t i = nn_body_color_index(g, plane, k);
        float value = nn_body_color_adjust(g, in[i], draw, mean);
        out[i] = value < g->value_range[0]   ? g->value_range[0]
                 : value > g->value_range[1] ? g->value_range[1]
                                             : value;
    }
}

/* Plane p of the input's gradient: the output's where it was not clipped; with contrast,
 * din_j = draw · d_j + (1 - draw) · mean(d) over the plane, d the unclipped gradient. */
NN_BODY void nn_body_random_color_backward_plane(float *din, const float *dout, const float *in,
                                                 const nn_color_geometry *g, uint64_t seed,
                                                 uint64_t stream, size_t plane)
{
    float draw = nn_body_color_draw(g, seed, stream, plane / (size_t)g->channels);
    float mean = nn_body_color_mean(in, g, plane);
    size_t size = (size_t)(g->height * g->width);
    double kept_sum = 0.0;
    if (g->contrast)
        for (size_t k = 0; k < size; k++) {
            size_t i = nn_body_color_index(g, plane, k);
            if (nn_body_color_kept(g, nn_body_color_adjust(g, in[i], draw, mean)))
                kept_sum += (double)dout[i];
        }
    float through_mean = g->contrast ? (float)((1.0 - (double)draw) * kept_sum / (double)size)
                                     : 0.0f;
    for (size_t k = 0; k < size; k++) {
        size_t i = nn_body_color_index(g, plane, k);
        bool kept = nn_body_color_kept(g, nn_body_color_adjust(g, in[i], draw, mean));
        float direct = kept ? (g->contrast ? dout[i] * draw : dout[i]) : 0.0f;
        din[i] = direct + through_mean;
    }
}

#endif
