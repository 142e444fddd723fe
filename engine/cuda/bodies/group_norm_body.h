/* Bodies of group normalisation, which layer normalisation is a case of (see
 * nn_group_norm_geometry): one thread per (sample, group) forward and for the input
 * gradient (each group normalised on its own), one per channel for the gradients of gamma
 * and beta. The CPU (cpu/group_norm.c) runs the same bodies in the same order, so both
 * give the same bits. */
#ifndef NN_GROUP_NORM_BODY_H
#define NN_GROUP_NORM_BODY_H

#include "../../backend.h"
#include "body.h"

/* The element of x at (sample, position before the channel axis, channel, position
 * after it). */
NN_BODY size_t nn_body_group_norm_index(const nn_group_norm_geometry *g, size_t sample,
                                        size_t before, size_t channel, size_t after)
{
    return ((sample * (size_t)g->before + before) * (size_t)g->channels + channel) *
               (size_t)g->after + after;
}

/* How many elements one group normalises. */
NN_BODY size_t nn_body_group_norm_group_size(const nn_group_norm_geometry *g)
{
    return (size_t)(g->before * (g->channels / g->groups) * g->after);
}

/* Visits every element of group k (= sample · groups + group) in memory order; `index`
 * and `channel` name the element inside BODY. The channels-last case (nothing after the
 * channel axis: LayerNormalization's rows, images' groups) runs over contiguous channels,
 * a loop the compiler can vectorise; the order is the same either way. */
#define NN_GROUP_NORM_EACH(g, k, index, channel, BODY)                                        \
    do {                                                                                      \
        size_t group_width_ = (size_t)((g)->channels / (g)->groups);                          \
        size_t sample_ = (k) / (size_t)(g)->groups;                                           \
        size_t first_ = (k) % (size_t)(g)->groups * group_width_;                             \
        size_t after_count_ = (size_t)(g)->after;                                             \
        for (size_t before_ = 0; before_ < (size_t)(g)->before; before_++) {                  \
            size_t row_ = (sample_ * (size_t)(g)->before + before_) * (size_t)(g)->channels;  \
            if (after_count_ == 1) {                                                          \
                for (size_t channel = first_; channel < first_ + group_width_; channel++) {   \
                    size_t index = row_ + channel;                                            \
                    BODY;                                                                     \
                }                                                                             \
            } else {                                                                          \
                for (size_t channel = first_; channel < first_ + group_width_; channel++)     \
                    for (size_t after_ = 0; after_ < after_count_; after_++) {                \
                        size_t index = (row_ + channel) * after_count_ + after_;              \
                        BODY;                                                                 \
                    }                                                                         \
            }                                                                                 \
        }                                                                                     \
    } while (0)

/* Group k: its mean and 1/sqrt(biased variance + epsilon), summed in double, then
 * y = (x - mean) · inv_std · gamma + beta per channel (gamma, beta may be NULL). A
 * root-mean-square group keeps mean 0, which makes the variance the mean square. */
NN_BODY void nn_body_group_norm_forward(float *y, float *mean, float *inv_std, const float *x,
                                        const float *gamma, const float *beta,
                                        const nn_group_norm_geometry *g, size_t k)
{
    double count = (double)nn_body_group_norm_group_size(g);
    double center = 0.0;
    if (!g->root_mean_square) {
        double sum = 0.0;
        NN_GROUP_NORM_EACH(g, k, i, c, sum += (double)x[i]);
        center = sum / count;
    }
    double squares = 0.0;
    NN_GROUP_NORM_EACH(g, k, i, c, {
        double deviation = (double)x[i] - center;
        squares += deviation * deviation;
    });
    float group_mean = (float)center;
    float group_inv_std = (float)(1.0 / sqrt(squares / count + (double)g->epsilon));
    mean[k] = group_mean;
    inv_std[k] = group_inv_std;
    NN_GROUP_NORM_EACH(g, k, i, c, {
        float normalized = (x[i] - group_mean) * group_inv_std;
        y[i] = normalized * (gamma ? gamma[c] : 1.0f) + (beta ? beta[c] : 0.0f);
    });
}

/* Group k of dx: inv_std · (d - mean(d) - x̂ · mean(d · x̂)) with d = dy · gamma; a
 * root-mean-square group, whose mean does not move with x, has no mean(d) term. */
NN_BODY void nn_body_group_norm_dx(float *dx, const float *dy, const float *x,
                                   const float *gamma, const float *mean, const float *inv_std,
                                   const nn_group_norm_geometry *g, size_t k)
{
    double count = (double)nn_body_group_norm_group_size(g);
    double sum_d = 0.0, sum_d_xhat = 0.0;
    NN_GROUP_NORM_EACH(g, k, i, c, {
        float d = dy[i] * (gamma ? gamma[c] : 1.0f);
        float xhat = (x[i] - mean[k]) * inv_std[k];
        sum_d += (double)d;
        sum_d_xhat += (double)d * (double)xhat;
    });
    double mean_d = g->root_mean_square ? 0.0 : sum_d / count;
    double mean_d_xhat = sum_d_xhat / count;
    NN_GROUP_NORM_EACH(g, k, i, c, {
        float d = dy[i] * (gamma ? gamma[c] : 1.0f);
        float xhat = (x[i] - mean[k]) * inv_std[k];
        dx[i] = (float)((double)inv_std[k] * ((double)d - mean_d - (double)xhat * mean_d_xhat));
    });
}

/* Channel c of dgamma (Σ dy · x̂) and dbeta (Σ dy) over every sample and position, in
 * memory order; either may be NULL. */
NN_BODY void nn_body_group_norm_parameters(float *dgamma, float *dbeta, const float *dy,
                                           const float *x, const float *mean,
                                           const float *inv_std, const nn_group_norm_geometry *g,
                                           size_t c)
{
    size_t group = c / (size_t)(g->channels / g->groups), groups = (size_t)g->groups;
    size_t channels = (size_t)g->channels, samples = (size_t)g->samples;
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    if (g->before == 1 && g->after == 1) {
        /* LayerNormalization's rows (and features in groups): one element per sample */
        for (size_t sample = 0; sample < samples; sample++) {
            size_t k = sample * groups + group, i = sample * channels + c;
            float xhat = (x[i] - mean[k]) * inv_std[k];
            sum_dy += (double)dy[i];
            sum_dy_xhat += (double)dy[i] * (double)xhat;
        }
    } else {
        for (size_t sample = 0; sample < samples; sample++) {
            size_t k = sample * groups + group;
            for (size_t before = 0; before < (size_t)g->before; before++)
                for (size_t after = 0; after < (size_t)g->after; after++) {
                    size_t i = nn_body_group_norm_index(g, sample, before, c, after);
                    float xhat = (x[i] - mean[k]) * inv_std[k];
                    sum_dy += (double)dy[i];
                    sum_dy_xhat += (double)dy[i] * (double)xhat;
                }
        }
    }
    if (dgamma)
        dgamma[c] = (float)sum_dy_xhat;
    if (dbeta)
        dbeta[c] = (float)sum_dy;
}

#endif
