/* Softmax over any axis but the batch's: forward against a double reference, backward
 * against the softmax's analytic gradient in double and against central differences of
 * sum(dy · softmax(x)), for every axis of rank-3 and rank-4 inputs. Over another axis
 * than the last the layer has no activation as the model sees it: its output is what the
 * loss starts from (the logits buffer holds it), and a gradient arriving as the model's
 * "pre-activation" gradient still goes through the softmax. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "layer_harness.h"

static nn_layer *softmax_layer(int axis)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_softmax_class), NN_OK);
    harness_set_int(layer, "axis", axis);
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

/* (before, size, after) of axis `axis` (1-based past the batch) of shape. */
static void split_at(const nn_shape *shape, int axis, int64_t *before, int64_t *size,
                     int64_t *after)
{
    *before = *after = 1;
    for (int i = 0; i < axis; i++)
        *before *= shape->dims[i];
    *size = shape->dims[axis];
    for (int i = axis + 1; i < shape->ndim; i++)
        *after *= shape->dims[i];
}

/* y = softmax of x along the axis, in double. */
static void reference_softmax(double *y, const double *x, const nn_shape *shape, int axis)
{
    int64_t before, size, after;
    split_at(shape, axis, &before, &size, &after);
    for (int64_t o = 0; o < before; o++)
        for (int64_t i = 0; i < after; i++) {
            const double *in = x + o * size * after + i;
            double *out = y + o * size * after + i, peak = in[0], total = 0.0;
            for (int64_t k = 1; k < size; k++)
                peak = fmax(peak, in[k * after]);
            for (int64_t k = 0; k < size; k++)
                total += exp(in[k * after] - peak);
            for (int64_t k = 0; k < size; k++)
                out[k * after] = exp(in[k * after] - peak) / total;
        }
}

/* dx = y · (dy - Σ_k dy·y) along the axis, in double. */
static void reference_gradient(double *dx, const double *y, const double *dy,
                               const nn_shape *shape, int axis)
{
    int64_t before, size, after;
    split_at(shape, axis, &before, &size, &after);
    for (int64_t o = 0; o < before; o++)
        for (int64_t i = 0; i < after; i++) {
            size_t first = (size_t)(o * size * after + i);
            double dot = 0.0;
            for (int64_t k = 0; k < size; k++)
                dot += dy[first + (size_t)(k * after)] * y[first + (size_t)(k * after)];
            for (int64_t k = 0; k < size; k++) {
                size_t at = first + (size_t)(k * after);
                dx[at] = y[at] * (dy[at] - dot);
            }
        }
}

/* Σ dy · softmax(x) in double: the function central differences are taken of. */
static double weighted_sum(const double *x, const double *dy, const nn_shape *shape, int axis,
                           size_t n)
{
    double *y = malloc(n * sizeof *y), total = 0.0;
    cr_assert(y != NULL);
    reference_softmax(y, x, shape, axis);
    for (size_t i = 0; i < n; i++)
        total += dy[i] * y[i];
    free(y);
    return total;
}

static void check_axis(const int64_t *dims, int rank, int axis_argument)
{
    nn_shape shape = nn_shape_from(dims, rank);
    int axis = axis_argument < 0 ? axis_argument + rank : axis_argument;
    bool last = axis == rank - 1;
    size_t n = (size_t)nn_shape_inner(&shape, 0);
    nn_tensor *x = harness_tensor(&shape, NULL), *dy = harness_tensor(&shape, NULL);
    nn_tensor *dx = harness_tensor(&shape, NULL);
    double *x64 = malloc(n * sizeof *x64), *dy64 = malloc(n * sizeof *dy64);
    double *y64 = malloc(n * sizeof *y64), *dx64 = malloc(n * sizeof *dx64);
    float *logits = malloc(n * sizeof *logits);
    cr_assert(x64 && dy64 && y64 && dx64 && logits);
    for (size_t i = 0; i < n; i++) {
        /* Distinct values of both signs, some far apart, so no softmax is uniform. */
        nn_tensor_f32(x)[i] = (float)(3.0 * sin(1.7 * (double)i + 0.3));
        nn_tensor_f32(dy)[i] = (float)cos(0.9 * (double)i);
        x64[i] = nn_tensor_f32(x)[i];
        dy64[i] = nn_tensor_f32(dy)[i];
    }
    reference_softmax(y64, x64, &shape, axis);
    reference_gradient(dx64, y64, dy64, &shape, axis);

    nn_layer *layer = softmax_layer(axis_argument);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, logits), NN_OK, "%s", nn_error_message());
    cr_assert_eq(layer->activation.kind,
                 last ? NN_ACTIVATION_SOFTMAX : NN_ACTIVATION_LINEAR,
                 "axis %d of rank %d: the model sees %s", axis_argument, rank,
                 last ? "the softmax" : "no activation");
    for (size_t i = 0; i < n; i++) {
        cr_assert_float_eq(nn_tensor_f32(run.output)[i], y64[i], 2e-7,
                           "axis %d, output %zu", axis_argument, i);
        /* The last axis keeps the softmax's input as the logits; another axis its output. */
        cr_assert_eq(logits[i], last ? nn_tensor_f32(x)[i] : nn_tensor_f32(run.output)[i],
                     "axis %d, logits %zu", axis_argument, i);
    }
    cr_assert_eq(harness_backward(&run, layer, x, dy, dx, !last), NN_OK, "%s",
                 nn_error_message());
    for (size_t i = 0; i < n; i++)
        cr_assert_float_eq(nn_tensor_f32(dx)[i], dx64[i], 2e-7, "axis %d, gradient %zu",
                           axis_argument, i);
    /* Central differences of Σ dy·y agree with the analytic reference. */
    for (size_t i = 0; i < n; i += 7) {
        const double h = 1e-5;
        double saved = x64[i];
        x64[i] = saved + h;
        double up = weighted_sum(x64, dy64, &shape, axis, n);
        x64[i] = saved - h;
        double down = weighted_sum(x64, dy64, &shape, axis, n);
        x64[i] = saved;
        cr_assert_float_eq((up - down) / (2 * h), dx64[i], 1e-8, "axis %d, difference at %zu",
                           axis_argument, i);
    }
    free(x64), free(dy64), free(y64), free(dx64), free(logits);
    nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
    harness_run_free(&run);
    nn_layer_release(layer);
}

Test(softmax_axis, every_axis_of_rank_three_and_four_inputs)
{
    const int64_t cube[] = {3, 4, 5, 6}, sequence[] = {2, 7, 3};
    for (int axis = 1; axis < 4; axis++) {
        check_axis(cube, 4, axis);
        check_axis(cube, 4, axis - 4);
    }
    for (int axis = 1; axis < 3; axis++)
        check_axis(sequence, 3, axis);
}

Test(softmax_axis, the_batch_axis_and_axes_past_the_rank_are_refused)
{
    const int64_t dims[] = {2, 3, 4};
    nn_shape shape = nn_shape_from(dims, 3);
    nn_layer *layer = softmax_layer(0);
    cr_assert_eq(nn_layer_build(layer, &shape), NN_ERR_SHAPE);
    harness_assert_mentions(nn_error_message(),
                            (const char *[]){"axis 0 of input (None, 3, 4) is the batch axis",
                                             NULL});
    nn_layer_release(layer);
    layer = softmax_layer(3);
    cr_assert_eq(nn_layer_build(layer, &shape), NN_ERR_SHAPE);
    harness_assert_mentions(nn_error_message(),
                            (const char *[]){"axis 3 is out of range for input (None, 3, 4)",
                                             NULL});
    nn_layer_release(layer);
}
