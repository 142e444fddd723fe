/* Bodies of batch normalisation as cpu/batchnorm.c: per-channel sums in double, split
 * into NN_REDUCE_SLICES strided slices of the rows per channel and then added in slice
 * order; statistics per channel; normalisation and its gradient per element. The input
 * is (outer, C, inner), element (o, c, k) at (o·C + c)·inner + k, and "row" r = o·inner + k
 * runs over the outer·inner values of one channel. */
#ifndef NN_BATCHNORM_BODY_H
#define NN_BATCHNORM_BODY_H

#include "../../backend.h"
#include "body.h"

typedef enum nn_body_bn_sum {
    NN_BODY_BN_SUM_X,                 /* first = Σ x */
    NN_BODY_BN_SUM_SQUARED_DEVIATION, /* first = Σ (x - center)² */
    NN_BODY_BN_SUM_DY_AND_DY_XHAT     /* first = Σ dy, second = Σ dy·x̂ */
} nn_body_bn_sum;

NN_BODY size_t nn_body_bn_address(const nn_batchnorm_geometry *g, int64_t row, int64_t c)
{
    int64_t o = row / g->inner, k = row % g->inner;
    return (size_t)((o * g->channels + c) * g->inner + k);
}

/* How many rows the statistics average: all of them, or under a mask the kept ones plus
 * Keras' epsilon (summed in row order). */
NN_BODY double nn_body_bn_count(const nn_batchnorm_geometry *g)
{
    int64_t rows = g->outer * g->inner;
    if (!g->mask)
        return (double)rows;
    double kept = 0.0;
    for (int64_t row = 0; row < rows; row++)
        kept += (double)g->mask[row];
    return kept + 1e-7;
}

/* Thread t = slice·C + c: partials (slices, 2, C) at [slice][0][c] and [slice][1][c]. */
NN_BODY void nn_body_bn_partial(double *partials, nn_body_bn_sum kind, const float *x,
                                const float *dy, const double *center, const float *mean,
                                const float *inv_std, nn_batchnorm_geometry g, size_t slices,
                                size_t t)
{
    int64_t c = (int64_t)(t % (size_t)g.channels);
    size_t slice = t / (size_t)g.channels;
    int64_t rows = g.outer * g.inner;
    double a = 0.0, b = 0.0;
    for (int64_t row = (int64_t)slice; row < rows; row += (int64_t)slices) {
        size_t i = nn_body_bn_address(&g, row, c);
        double value = x[i], weight = g.mask ? (double)g.mask[row] : 1.0;
        if (kind == NN_BODY_BN_SUM_X) {
            a += weight * value;
        } else if (kind == NN_BODY_BN_SUM_SQUARED_DEVIATION) {
            double deviation = value - center[c];
            a += weight * deviation * deviation;
        } else {
            double gradient = dy[i];
            a += gradient;
            b += gradient * ((value - (double)mean[c]) * (double)inv_std[c]);
        }
    }
    partials[(slice * 2) * (size_t)g.channels + (size_t)c] = a;
    partials[(slice * 2 + 1) * (size_t)g.channels + (size_t)c] = b;
}

/* sums (2, C) for channel c: the slices added in order. */
NN_BODY void nn_body_bn_combine(double *sums, const double *partials, size_t channels,
                                size_t slices, size_t c)
{
    double a = 0.0, b = 0.0;
    for (size_t slice = 0; slice < slices; slice++) {
        a += partials[(slice * 2) * channels + c];
        b += partials[(slice * 2 + 1) * channels + c];
    }
    sums[c] = a;
    sums[channels + c] = b;
}

/* After nn_body_bn_combine of the squared deviations: the statistics of channel c, and
 * the moving averages moved toward them. */
NN_BODY void nn_body_bn_statistics(float *mean, float *inv_std, float *moving_mean,
                                   float *moving_variance, const double *batch_mean,
                                   const double *sums, nn_batchnorm_geometry g, double count,
                                   size_t c)
{
    double variance = sums[c] / count;
    const float momentum = g.momentum, rest = 1.0f - g.momentum;
    mean[c] = (float)batch_mean[c];
    inv_std[c] = (float)(1.0 / sqrt(variance + (double)g.epsilon));
    moving_mean[c] = moving_mean[c] * momentum + mean[c] * rest;
    moving_variance[c] = moving_variance[c] * momentum + (float)variance * rest;
}

NN_BODY void nn_body_bn_inference_statistics(float *mean, float *inv_std,
                                             const float *moving_mean,
                                             const float *moving_variance, float epsilon,
                                             size_t c)
{
    mean[c] = moving_mean[c];
    inv_std[c] = (float)(1.0 / sqrt((double)moving_variance[c] + (double)epsilon));
}

/* y = x · s + (beta - mean · s), s = inv_std · gamma, for element i. */
NN_BODY void nn_body_bn_normalize(float *y, const float *x, const float *gamma,
                                  const float *beta, const float *mean, const float *inv_std,
                                  nn_batchnorm_geometry g, size_t i)
{
    size_t c = (i / (size_t)g.inner) % (size_t)g.channels;
    float s = inv_std[c] * (gamma ? gamma[c] : 1.0f);
    float shift = (beta ? beta[c] : 0.0f) - mean[c] * s;
    y[i] = x[i] * s + shift;
}

/* dx for element i from the sums (2, C) of dy and dy·x̂ (over every row: each is
 * normalised with the statistics); the statistics reach only the rows they came from,
 * so under a mask those terms weigh the row by its mask. count: nn_body_bn_count. */
NN_BODY void nn_body_bn_dx(float *dx, const float *dy, const float *x, const float *gamma,
                           const float *mean, const float *inv_std, const double *sums,
                           int batch_statistics, nn_batchnorm_geometry g, double count,
                           size_t i)
{
    size_t c = (i / (size_t)g.inner) % (size_t)g.channels;
    double gain = gamma ? (double)gamma[c] : 1.0;
    double scale = inv_std[c];
    if (!batch_statistics) {
        dx[i] = dy[i] * (float)(gain * scale);
        return;
    }
    double factor = gain * scale / count;
    double normalized = ((double)x[i] - (double)mean[c]) * scale;
    double weight = 1.0;
    if (g.mask) {
        size_t o = i / ((size_t)g.inner * (size_t)g.channels), k = i % (size_t)g.inner;
        weight = (double)g.mask[o * (size_t)g.inner + k];
    }
    dx[i] = (float)(factor * (count * (double)dy[i] - weight * sums[c] -
                              weight * normalized * sums[(size_t)g.channels + c]));
}

#endif
