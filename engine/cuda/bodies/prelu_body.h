/* Bodies of PReLU (Keras' parametric rectifier): x above 0, alpha·x below, alpha learned
 * per element of the sample and shared along the batch axis and the shared_axes. */
#ifndef NN_CUDA_PRELU_BODY_H
#define NN_CUDA_PRELU_BODY_H

#include "../../backend.h"
#include "body.h"

/* The alpha element of input element i: its coordinates on the axes alpha does not share,
 * in alpha's row-major order. */
NN_BODY size_t nn_body_prelu_alpha_index(const nn_prelu_geometry *g, size_t i)
{
    if (g->trailing)
        return i % (size_t)g->trailing;
    uint64_t rest = (uint64_t)i, index = 0, stride = 1;
    for (int axis = g->ndim - 1; axis >= 0; axis--) {
        uint64_t size = (uint64_t)g->dims[axis], coordinate = rest % size;
        rest /= size;
        if (g->alpha_dims[axis] != 1) {
            index += coordinate * stride;
            stride *= size;
        }
    }
    return (size_t)index;
}

/* Element i: the output, or with dout its input gradient (0 at x = 0, where Keras' relu
 * pair has derivative 0 on both sides). */
NN_BODY void nn_body_prelu(float *out, const float *x, const float *dout, const float *alpha,
                           const nn_prelu_geometry *g, size_t i)
{
    float slope = alpha[nn_body_prelu_alpha_index(g, i)], value = x[i];
    if (dout)
        out[i] = value > 0.0f ? dout[i] : value < 0.0f ? slope * dout[i] : 0.0f;
    else
        out[i] = value > 0.0f ? value : slope * value;
}

/* alpha element a's gradient: dout · min(x, 0) summed over the input elements that share
 * it (the batch and the shared axes), in row-major order of those. */
NN_BODY void nn_body_prelu_alpha_gradient(float *dalpha, const float *x, const float *dout,
                                          const nn_prelu_geometry *g, size_t a)
{
    /* a's coordinate on each unshared axis, and how many elements share it. */
    uint64_t coordinates[NN_MAX_DIMS], rest = (uint64_t)a, shared = 1;
    for (int axis = g->ndim - 1; axis >= 0; axis--) {
        coordinates[axis] = 0;
        if (g->alpha_dims[axis] != 1) {
            coordinates[axis] = rest % (uint64_t)g->dims[axis];
            rest /= (uint64_t)g->dims[axis];
        } else {
            shared *= (uint64_t)g->dims[axis];
        }
    }
    double sum = 0.0;
    for (uint64_t k = 0; k < shared; k++) {
        /* k's digits fill the shared axes; the element's flat index follows. */
        uint64_t digits = k, index = 0, stride = 1;
        uint64_t local[NN_MAX_DIMS];
        for (int axis = g->ndim - 1; axis >= 0; axis--) {
            uint64_t size = (uint64_t)g->dims[axis];
            if (g->alpha_dims[axis] == 1) {
                local[axis] = digits % size;
                digits /= size;
            } else {
                local[axis] = coordinates[axis];
            }
        }
        for (int axis = g->ndim - 1; axis >= 0; axis--) {
            index += local[axis] * stride;
            stride *= (uint64_t)g->dims[axis];
        }
        float value = x[index];
        if (value < 0.0f)
            sum += (double)dout[index] * (double)value;
    }
    dalpha[a] = (float)sum;
}

/* The trailing case: slice `slice`'s part of alpha element a's gradient, over rows
 * slice, slice + NN_PRELU_SLICES, ... of the input seen as (rows, trailing). */
NN_BODY double nn_body_prelu_alpha_slice(const float *x, const float *dout, size_t trailing,
                                         size_t rows, size_t a, size_t slice)
{
    double sum = 0.0;
    for (size_t r = slice; r < rows; r += NN_PRELU_SLICES) {
        size_t i = r * trailing + a;
        if (x[i] < 0.0f)
            sum += (double)dout[i] * (double)x[i];
    }
    return sum;
}

/* How many alpha elements a geometry has. */
NN_BODY size_t nn_body_prelu_alpha_count(const nn_prelu_geometry *g)
{
    size_t count = 1;
    for (int axis = 0; axis < g->ndim; axis++)
        if (g->alpha_dims[axis] != 1)
            count *= (size_t)g->dims[axis];
    return count;
}

/* How many input elements. */
NN_BODY size_t nn_body_prelu_input_count(const nn_prelu_geometry *g)
{
    size_t count = 1;
    for (int axis = 0; axis < g->ndim; axis++)
        count *= (size_t)g->dims[axis];
    return count;
}

#endif
