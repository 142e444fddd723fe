/* Bodies of UnitNormalization: each run of values along one axis divided by its L2 norm
 * (at least NN_UNIT_NORM_EPSILON), and the gradient back through it. One thread per run
 * both ways; the CPU runs the same bodies run by run, so both give the same bits. */
#ifndef NN_UNIT_NORM_BODY_H
#define NN_UNIT_NORM_BODY_H

#include "../../backend.h"
#include "body.h"

/* Element j of run r: run r = outer · inner + k holds (o, 0..length-1, k). */
NN_BODY size_t nn_body_unit_norm_index(const nn_unit_norm_geometry *g, size_t run, size_t j)
{
    size_t inner = (size_t)g->inner;
    return (run / inner * (size_t)g->length + j) * inner + run % inner;
}

/* The run's divisor: max(sqrt(sum of squares), epsilon), the squares summed in double. */
NN_BODY float nn_body_unit_norm_divisor(const float *x, const nn_unit_norm_geometry *g,
                                        size_t run)
{
    double squares = 0.0;
    for (size_t j = 0; j < (size_t)g->length; j++) {
        double value = (double)x[nn_body_unit_norm_index(g, run, j)];
        squares += value * value;
    }
    float norm = (float)sqrt(squares);
    /* Written so that a NaN norm stays NaN. */
    return norm < NN_UNIT_NORM_EPSILON ? NN_UNIT_NORM_EPSILON : norm;
}

NN_BODY void nn_body_unit_norm_forward(float *y, const float *x, const nn_unit_norm_geometry *g,
                                       size_t run)
{
    float divisor = nn_body_unit_norm_divisor(x, g, run);
    for (size_t j = 0; j < (size_t)g->length; j++) {
        size_t i = nn_body_unit_norm_index(g, run, j);
        y[i] = x[i] / divisor;
    }
}

/* dx = (dy - y · (dy · y)) / norm, y = x / norm; below epsilon the divisor is a constant,
 * so dx = dy / epsilon. */
NN_BODY void nn_body_unit_norm_backward(float *dx, const float *dy, const float *x,
                                        const nn_unit_norm_geometry *g, size_t run)
{
    float divisor = nn_body_unit_norm_divisor(x, g, run);
    bool clamped = divisor == NN_UNIT_NORM_EPSILON;
    double dot = 0.0;
    for (size_t j = 0; !clamped && j < (size_t)g->length; j++) {
        size_t i = nn_body_unit_norm_index(g, run, j);
        dot += (double)dy[i] * (double)(x[i] / divisor);
    }
    for (size_t j = 0; j < (size_t)g->length; j++) {
        size_t i = nn_body_unit_norm_index(g, run, j);
        float along = clamped ? 0.0f : (x[i] / divisor) * (float)dot;
        dx[i] = (dy[i] - along) / divisor;
    }
}

#endif
