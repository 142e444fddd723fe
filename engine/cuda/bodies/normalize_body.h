/* Body of Keras' Normalization: a fixed mean and standard deviation per index of one axis
 * (or one for everything), taken off the input or, inverted, put back on. */
#ifndef NN_CUDA_NORMALIZE_BODY_H
#define NN_CUDA_NORMALIZE_BODY_H

#include "../../backend.h"
#include "body.h"

/* Element i: the output, or with `gradient` the input's gradient from the output's (x). */
NN_BODY void nn_body_normalize(float *y, const float *x, const float *mean,
                               const float *variance, const nn_normalize_geometry *g,
                               bool gradient, size_t i)
{
    size_t c = (size_t)((int64_t)i / g->inner % g->channels);
    size_t given = g->given > 1 ? c : 0;
    float center = mean ? mean[c] : g->mean[given];
    float std = sqrtf(variance ? variance[c] : g->variance[given]);
    /* Written so that NaN (from a negative variance) stays NaN, as Keras' maximum. */
    if (std < NN_NORMALIZE_EPSILON)
        std = NN_NORMALIZE_EPSILON;
    if (gradient)
        y[i] = g->invert ? x[i] * std : x[i] / std;
    else
        y[i] = g->invert ? center + x[i] * std : (x[i] - center) / std;
}

#endif
