/* Batch normalisation on the CPU: per-channel sums in double over fixed blocks of rows
 * (summed in parallel, combined in order, so the result does not depend on the thread
 * count), then one pass that normalises or back-propagates. */
#include <math.h>
#include <string.h>

#include "../cuda/bodies/batchnorm_body.h"
#include "cpu_kernels.h"

/* Reductions split the rows into at most this many fixed blocks. */
enum { REDUCTION_BLOCKS = 16 };
/* Below this many elements a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 15 };

/* The scratch holds, in doubles: the batch mean (C), the sums (2, C) and the per-block
 * partial sums (REDUCTION_BLOCKS, 2, C). */
size_t nn_cpu_batchnorm_scratch_floats(const nn_batchnorm_geometry *geometry)
{
    size_t channels = (size_t)geometry->channels;
    return 2 * (channels + 2 * channels + REDUCTION_BLOCKS * 2 * channels);
}

typedef enum reduction_kind {
    SUM_X,                 /* sums[0][c] = Σ x */
    SUM_SQUARED_DEVIATION, /* sums[0][c] = Σ (x - center[c])² */
    SUM_DY_AND_DY_XHAT,    /* sums[0][c] = Σ dy, sums[1][c] = Σ dy · x̂ */
} reduction_kind;

/* Per-channel sums over every axis but the feature axis. x̂ = (x - mean) · inv_std for
 * SUM_DY_AND_DY_XHAT. partials (REDUCTION_BLOCKS, 2, C) is workspace; sums is (2, C). */
static void channel_sums(double *sums, double *partials, reduction_kind kind, const float *x,
                         const float *dy, const double *center, const float *mean,
                         const float *inv_std, const nn_batchnorm_geometry *g)
{
    const int64_t outer = g->outer, channels = g->channels, inner = g->inner;
    const int blocks = outer < REDUCTION_BLOCKS ? (int)outer : REDUCTION_BLOCKS;
#pragma omp parallel for schedule(static) if (outer * channels * inner > PARALLEL_THRESHOLD)
    for (int block = 0; block < blocks; block++) {
        double *first = partials + (size_t)block * 2 * (size_t)channels;
        double *second = first + channels;
        memset(first, 0, 2 * (size_t)channels * sizeof(double));
        int64_t start = outer * block / blocks, end = outer * (block + 1) / blocks;
        for (int64_t o = start; o < end; o++) {
            for (int64_t c = 0; c < channels; c++) {
                size_t base = (size_t)((o * channels + c) * inner);
                double a = 0.0, b = 0.0;
                for (int64_t k = 0; k < inner; k++) {
                    double value = x[base + (size_t)k];
                    /* Keras' masked moments weigh each row by its mask. */
                    double weight = g->mask ? (double)g->mask[o * inner + k] : 1.0;
                    if (kind == SUM_X) {
                        a += weight * value;
                    } else if (kind == SUM_SQUARED_DEVIATION) {
                        double deviation = value - center[c];
                        a += weight * deviation * deviation;
                    } else {
                        double gradient = dy[base + (size_t)k];
                        double normalized = (value - (double)mean[c]) * (double)inv_std[c];
                        a += gradient;
                        b += gradient * normalized;
                    }
                }
                first[c] += a;
                second[c] += b;
            }
        }
    }
    memset(sums, 0, 2 * (size_t)channels * sizeof(double));
    for (int block = 0; block < blocks; block++)
        for (int64_t c = 0; c < 2 * channels; c++)
            sums[c] += partials[(size_t)block * 2 * (size_t)channels + (size_t)c];
}

/* y = x · s + (beta - mean · s) with s = inv_std · gamma: tf.nn.batch_normalization's
 * form. */
static void normalize(float *y, const float *x, const float *gamma, const float *beta,
                      const float *mean, const float *inv_std, const nn_batchnorm_geometry *g)
{
    const int64_t outer = g->outer, channels = g->channels, inner = g->inner;
#pragma omp parallel for schedule(static) if (outer * channels * inner > PARALLEL_THRESHOLD)
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t c = 0; c < channels; c++) {
            float s = inv_std[c] * (gamma ? gamma[c] : 1.0f);
            float shift = (beta ? beta[c] : 0.0f) - mean[c] * s;
            size_t base = (size_t)((o * channels + c) * inner);
            for (int64_t k = 0; k < inner; k++)
                y[base + (size_t)k] = x[base + (size_t)k] * s + shift;
        }
    }
}

void nn_cpu_batchnorm_forward_training(float *y, float *mean, float *inv_std,
                                       float *moving_mean, float *moving_variance,
                                       const float *x, const float *gamma, const float *beta,
                                       const nn_batchnorm_geometry *geometry, float *scratch)
{
    /* Two passes (mean, then squared deviations) keep the variance accurate when the
     * mean is large compared with the spread. The variance is the biased one (divided
     * by N), for normalising and for the moving average alike, as in Keras 3. */
    const nn_batchnorm_geometry *g = geometry;
    const int64_t channels = g->channels;
    double *batch_mean = (double *)(void *)scratch;
    double *sums = batch_mean + channels;
    double *partials = sums + 2 * channels;
    double count = nn_body_bn_count(g);
    channel_sums(sums, partials, SUM_X, x, NULL, NULL, NULL, NULL, g);
    for (int64_t c = 0; c < channels; c++)
        batch_mean[c] = sums[c] / count;
    channel_sums(sums, partials, SUM_SQUARED_DEVIATION, x, NULL, batch_mean, NULL, NULL, g);
    const float momentum = g->momentum, rest = 1.0f - g->momentum;
    for (int64_t c = 0; c < channels; c++) {
        double variance = sums[c] / count;
        mean[c] = (float)batch_mean[c];
        inv_std[c] = (float)(1.0 / sqrt(variance + (double)g->epsilon));
        moving_mean[c] = moving_mean[c] * momentum + mean[c] * rest;
        moving_variance[c] = moving_variance[c] * momentum + (float)variance * rest;
    }
    normalize(y, x, gamma, beta, mean, inv_std, g);
}

void nn_cpu_batchnorm_forward_inference(float *y, float *mean, float *inv_std,
                                        const float *x, const float *gamma, const float *beta,
                                        const float *moving_mean, const float *moving_variance,
                                        const nn_batchnorm_geometry *geometry)
{
    const nn_batchnorm_geometry *g = geometry;
    for (int64_t c = 0; c < g->channels; c++) {
        mean[c] = moving_mean[c];
        inv_std[c] = (float)(1.0 / sqrt((double)moving_variance[c] + (double)g->epsilon));
    }
    normalize(y, x, gamma, beta, mean, inv_std, g);
}

void nn_cpu_batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                               const float *x, const float *gamma, const float *mean,
                               const float *inv_std, bool batch_statistics,
                               const nn_batchnorm_geometry *geometry, float *scratch)
{
    const nn_batchnorm_geometry *g = geometry;
    const int64_t outer = g->outer, channels = g->channels, inner = g->inner;
    double *sums = (double *)(void *)scratch + channels;
    double *partials = sums + 2 * channels;
    channel_sums(sums, partials, SUM_DY_AND_DY_XHAT, x, dy, NULL, mean, inv_std, g);
    const double *dbeta_sum = sums, *dgamma_sum = sums + channels;
    if (dgamma)
        for (int64_t c = 0; c < channels; c++)
            dgamma[c] = (float)dgamma_sum[c];
    if (dbeta)
        for (int64_t c = 0; c < channels; c++)
            dbeta[c] = (float)dbeta_sum[c];
    if (!dx)
        return;
    const double count = nn_body_bn_count(g);
#pragma omp parallel for schedule(static) if (outer * channels * inner > PARALLEL_THRESHOLD)
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t c = 0; c < channels; c++) {
            size_t base = (size_t)((o * channels + c) * inner);
            double gain = gamma ? (double)gamma[c] : 1.0;
            double scale = inv_std[c], center = mean[c];
            if (!batch_statistics) {
                /* Fixed statistics: the normalisation is an affine map of x. */
                float s = (float)(gain * scale);
                for (int64_t k = 0; k < inner; k++)
                    dx[base + (size_t)k] = dy[base + (size_t)k] * s;
                continue;
            }
            /* dx = g · inv_std / N · (N · dy - Σdy - x̂ · Σ(dy · x̂)), the gradient through
             * the batch mean and variance. */
            double factor = gain * scale / count;
            double sum_dy = dbeta_sum[c], sum_dy_xhat = dgamma_sum[c];
            for (int64_t k = 0; k < inner; k++) {
                size_t i = base + (size_t)k;
                double normalized = ((double)x[i] - center) * scale;
                /* Under a mask the statistics reach the kept rows only. */
                double weight = g->mask ? (double)g->mask[o * inner + k] : 1.0;
                dx[i] = (float)(factor * (count * (double)dy[i] - weight * sum_dy -
                                          weight * normalized * sum_dy_xhat));
            }
        }
    }
}
