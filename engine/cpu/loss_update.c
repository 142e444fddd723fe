/* The CPU backend's entries for the loss, metrics, regularizers and constraints: thin
 * wrappers over loss.c and param.c, which stay the reference for every backend. */
#include <math.h>
#include <string.h>

#include "cpu_kernels.h"

/* Keras' backend epsilon, added to the norm before dividing by it. */
static const double CONSTRAINT_EPSILON = 1e-7;

void nn_cpu_loss_forward_backward(double *loss, float *dlogits, const nn_loss *loss_kind,
                                  nn_activation last, const float *pred, const float *logits,
                                  const float *labels, const float *row_weights,
                                  int64_t batch, int64_t width)
{
    *loss = nn_loss_forward_backward(loss_kind, last, dlogits, pred, logits, labels,
                                     row_weights, batch, width);
}

void nn_cpu_metric_sum(double *sum, const nn_metric *metric, const float *pred,
                       const float *labels, const float *row_weights, int64_t batch,
                       int64_t width)
{
    *sum += nn_metric_weighted_sum(metric, pred, labels, row_weights, batch, width);
}

void nn_cpu_curve_counts(double *counts, const float *pred, const float *labels,
                         const float *row_weights, int64_t n, int64_t width,
                         int64_t thresholds)
{
    nn_metric_curve_counts(counts, pred, labels, row_weights, n, width, thresholds);
}

void nn_cpu_weight_penalty(double *penalty, float *grad, const float *weights, size_t n,
                           nn_regularizer regularizer)
{
    *penalty += nn_regularizer_apply(&regularizer, weights, grad, n);
}

/* Index of element i's group: its coordinates on the axes that are not reduced,
 * flattened row-major (the keepdims norm it shares). */
static size_t kept_index(size_t i, const nn_shape *shape, unsigned axes)
{
    size_t index = 0, stride = 1;
    for (int axis = shape->ndim - 1; axis >= 0; axis--) {
        size_t dim = (size_t)shape->dims[axis];
        size_t coordinate = i % dim;
        i /= dim;
        if (!(axes & (1u << axis))) {
            index += coordinate * stride;
            stride *= dim;
        }
    }
    return index;
}

size_t nn_cpu_constraint_scratch_floats(const nn_constraint *constraint, const nn_shape *shape)
{
    return 2 * nn_constraint_groups(constraint, shape); /* one double per norm */
}

void nn_cpu_constraint_apply(float *weights, const nn_constraint *constraint,
                             const nn_shape *shape, const nn_batch_stats *guard,
                             float *scratch)
{
    if (constraint->kind == NN_CONSTRAINT_NONE ||
        (guard && !isfinite(nn_batch_stats_total(guard))))
        return;
    float *w = weights;
    size_t n = 1;
    for (int axis = 0; axis < shape->ndim; axis++)
        n *= (size_t)shape->dims[axis];
    if (constraint->kind == NN_CONSTRAINT_NON_NEG) {
        for (size_t i = 0; i < n; i++)
            w[i] = w[i] < 0.0f ? 0.0f : w[i];
        return;
    }
    size_t groups = nn_constraint_groups(constraint, shape);
    double *factor = (double *)(void *)scratch;
    memset(factor, 0, groups * sizeof *factor);
    for (size_t i = 0; i < n; i++)
        factor[kept_index(i, shape, constraint->axes)] += (double)w[i] * (double)w[i];
    for (size_t g = 0; g < groups; g++) {
        double norm = sqrt(factor[g]), desired;
        switch (constraint->kind) {
        case NN_CONSTRAINT_MAX_NORM:
            desired = fmin(norm, (double)constraint->max_value);
            break;
        case NN_CONSTRAINT_MIN_MAX_NORM:
            desired = (double)constraint->rate *
                          fmin(fmax(norm, (double)constraint->min_value),
                               (double)constraint->max_value) +
                      (1.0 - (double)constraint->rate) * norm;
            break;
        default: /* unit_norm */
            desired = 1.0;
            break;
        }
        factor[g] = desired / (CONSTRAINT_EPSILON + norm);
    }
    for (size_t i = 0; i < n; i++)
        w[i] = (float)((double)w[i] * factor[kept_index(i, shape, constraint->axes)]);
}
