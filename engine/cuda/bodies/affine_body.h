/* Bodies of random affine augmentation (RandomRotation, RandomTranslation, RandomZoom):
 * each image's transform drawn from Philox, the output points sampled from the input
 * (nearest or bilinear, outside points filled by the fill mode), and the adjoint that
 * spreads the output's gradient back over the points read. The CPU kernels call them
 * image by image, the CUDA launchers point by point (forward) and plane by plane
 * (backward, so each input point is written by one thread, in a fixed order). */
#ifndef NN_AFFINE_BODY_H
#define NN_AFFINE_BODY_H

#include "../../backend.h"
#include "body.h"
#include "dropout_body.h"

/* input point = (a·x + b·y + c, d·x + e·y + f) for output point (x, y). */
typedef struct nn_body_affine {
    float a, b, c, d, e, f;
} nn_body_affine;

/* lower + (upper - lower)·u */
NN_BODY float nn_body_draw(const float range[2], uint32_t bits)
{
    return range[0] + (range[1] - range[0]) * nn_body_uniform_from_bits(bits);
}

/* The transform of image `image`: output point p reads the input at
 * Z(R(p - shift)) with R the rotation and Z the zoom, both about the image's centre. */
NN_BODY nn_body_affine nn_body_affine_of(const nn_affine_geometry *g, uint64_t seed,
                                         uint64_t stream, uint64_t image)
{
    uint32_t first[4], second[4];
    nn_body_philox(seed, stream, 2 * image, first);
    nn_body_philox(seed, stream, 2 * image + 1, second);
    float height = (float)g->height, width = (float)g->width;
    float angle = nn_body_draw(g->rotation, first[0]);
    float shift_y = nn_body_draw(g->shift_y, first[1]) * height;
    float shift_x = nn_body_draw(g->shift_x, first[2]) * width;
    float zoom_y = 1.0f + nn_body_draw(g->zoom_y, first[3]);
    float zoom_x = g->zoom_keeps_aspect ? zoom_y : 1.0f + nn_body_draw(g->zoom_x, second[0]);
    float centre_y = (height - 1.0f) * 0.5f, centre_x = (width - 1.0f) * 0.5f;
    float cosine = cosf(angle), sine = sinf(angle);
    /* (x, y) -> (x - sx - cx, y - sy - cy) -> rotated -> zoomed -> + centre */
    nn_body_affine t;
    t.a = zoom_x * cosine;
    t.b = -zoom_x * sine;
    t.d = zoom_y * sine;
    t.e = zoom_y * cosine;
    float x0 = -shift_x - centre_x, y0 = -shift_y - centre_y;
    t.c = t.a * x0 + t.b * y0 + centre_x;
    t.f = t.d * x0 + t.e * y0 + centre_y;
    return t;
}

/* Where index i of an axis of `size` reads, by the fill mode; -1 for constant fill. */
NN_BODY int64_t nn_body_fill_index(int64_t i, int64_t size, nn_fill_mode mode)
{
    if (i >= 0 && i < size)
        return i;
    switch (mode) {
    case NN_FILL_REFLECT: {
        int64_t period = 2 * size;
        int64_t j = i % period;
        if (j < 0)
            j += period;
        return j < size ? j : period - 1 - j;
    }
    case NN_FILL_WRAP: {
        int64_t j = i % size;
        return j < 0 ? j + size : j;
    }
    case NN_FILL_NEAREST:
        return i < 0 ? 0 : size - 1;
    default:
        return -1;
    }
}

/* The (up to) four input points output point (x, y) of an image reads, and their weights:
 * index -1 means the fill value. Returns how many. */
NN_BODY int nn_body_affine_taps(const nn_affine_geometry *g, const nn_body_affine *t, int64_t x,
                                int64_t y, int64_t rows[4], int64_t columns[4],
                                float weights[4])
{
    float fx = t->a * (float)x + t->b * (float)y + t->c;
    float fy = t->d * (float)x + t->e * (float)y + t->f;
    if (g->nearest) {
        rows[0] = nn_body_fill_index((int64_t)floorf(fy + 0.5f), g->height, g->fill_mode);
        columns[0] = nn_body_fill_index((int64_t)floorf(fx + 0.5f), g->width, g->fill_mode);
        weights[0] = 1.0f;
        return 1;
    }
    float top = floorf(fy), left = floorf(fx);
    float down = fy - top, right = fx - left;
    for (int k = 0; k < 4; k++) {
        int64_t row = (int64_t)top + (k >> 1), column = (int64_t)left + (k & 1);
        rows[k] = nn_body_fill_index(row, g->height, g->fill_mode);
        columns[k] = nn_body_fill_index(column, g->width, g->fill_mode);
        weights[k] = ((k >> 1) ? down : 1.0f - down) * ((k & 1) ? right : 1.0f - right);
    }
    return 4;
}

/* Offset of point (row, column) of channel c within an image. */
NN_BODY size_t nn_body_affine_offset(const nn_affine_geometry *g, int64_t row, int64_t column,
                                     int64_t c)
{
    return g->channels_first ? (size_t)((c * g->height + row) * g->width + column)
                             : (size_t)((row * g->width + column) * g->channels + c);
}

/* Output element i (the whole batch), its image's transform given. */
NN_BODY float nn_body_affine_sample(const nn_affine_geometry *g, const nn_body_affine *t,
                                    const float *image, int64_t x, int64_t y, int64_t c)
{
    int64_t rows[4], columns[4];
    float weights[4], sum = 0.0f;
    int taps = nn_body_affine_taps(g, t, x, y, rows, columns, weights);
    for (int k = 0; k < taps; k++) {
        float value = rows[k] < 0 || columns[k] < 0
                          ? g->fill_value
                          : image[nn_body_affine_offset(g, rows[k], columns[k], c)];
        sum += weights[k] * value;
    }
    return sum;
}

/* The point (image, y, x, c) of element i. */
NN_BODY void nn_body_affine_point(const nn_affine_geometry *g, size_t i, int64_t *image,
                                  int64_t *y, int64_t *x, int64_t *c)
{
    int64_t rest = (int64_t)i;
    if (g->channels_first) {
        *x = rest % g->width, rest /= g->width;
        *y = rest % g->height, rest /= g->height;
        *c = rest % g->channels, rest /= g->channels;
    } else {
        *c = rest % g->channels, rest /= g->channels;
        *x = rest % g->width, rest /= g->width;
        *y = rest % g->height, rest /= g->height;
    }
    *image = rest;
}

NN_BODY void nn_body_random_affine(float *out, const float *in, const nn_affine_geometry *g,
                                   uint64_t seed, uint64_t stream, size_t i)
{
    int64_t image, y, x, c;
    nn_body_affine_point(g, i, &image, &y, &x, &c);
    nn_body_affine t = nn_body_affine_of(g, seed, stream, (uint64_t)image);
    size_t size = (size_t)(g->height * g->width * g->channels);
    out[i] = nn_body_affine_sample(g, &t, in + (size_t)image * size, x, y, c);
}

/* The adjoint for one plane (image, channel): zeroes the plane of din, then adds each
 * output point's gradient to the points it read, in order. */
NN_BODY void nn_body_random_affine_backward_plane(float *din, const float *dout,
                                                  const nn_affine_geometry *g, uint64_t seed,
                                                  uint64_t stream, size_t plane)
{
    int64_t image = (int64_t)plane / g->channels, c = (int64_t)plane % g->channels;
    size_t size = (size_t)(g->height * g->width * g->channels);
    float *target = din + (size_t)image * size;
    const float *gradient = dout + (size_t)image * size;
    for (int64_t y = 0; y < g->height; y++)
        for (int64_t x = 0; x < g->width; x++)
            target[nn_body_affine_offset(g, y, x, c)] = 0.0f;
    nn_body_affine t = nn_body_affine_of(g, seed, stream, (uint64_t)image);
    for (int64_t y = 0; y < g->height; y++)
        for (int64_t x = 0; x < g->width; x++) {
            int64_t rows[4], columns[4];
            float weights[4];
            int taps = nn_body_affine_taps(g, &t, x, y, rows, columns, weights);
            float value = gradient[nn_body_affine_offset(g, y, x, c)];
            for (int k = 0; k < taps; k++)
                if (rows[k] >= 0 && columns[k] >= 0)
                    target[nn_body_affine_offset(g, rows[k], columns[k], c)] +=
                        weights[k] * value;
        }
}

#endif
