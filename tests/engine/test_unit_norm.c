/* UnitNormalization against a reference in double written from the definition, along
 * every axis of a 4-d input and with a run of zeros; its gradient against central
 * differences of that reference; shapes and errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "layer_harness.h"
#include "layers/layers.h"
#include "test_support.h"

/* x as (outer, length, inner): each run along the middle divided by max(norm, 1e-12). */
static void reference(double *y, const double *x, int outer, int length, int inner)
{
    for (int o = 0; o < outer; o++)
        for (int k = 0; k < inner; k++) {
            double squares = 0;
            for (int j = 0; j < length; j++)
                squares += x[((size_t)o * length + j) * inner + k] * x[((size_t)o * length + j) * inner + k];
            double divisor = fmax(sqrt(squares), 1e-12);
            for (int j = 0; j < length; j++)
                y[((size_t)o * length + j) * inner + k] = x[((size_t)o * length + j) * inner + k] / divisor;
        }
}

static double objective(const double *x, const float *dy, int outer, int length, int inner)
{
    size_t n = (size_t)outer * length * inner;
    double *y = malloc(n * sizeof *y), total = 0;
    reference(y, x, outer, length, inner);
    for (size_t i = 0; i < n; i++)
        total += dy[i] * y[i];
    free(y);
    return total;
}

Test(unit_normalization, every_axis_matches_the_reference_and_its_differences)
{
    const int dims[4] = {2, 3, 4, 5};
    for (int axis = 1; axis <= 3; axis++) {
        nn_layer *layer;
        cr_assert_eq(nn_layer_create(&layer, &nn_unit_normalization_class), NN_OK);
        *(int *)harness_arg(layer, "axis") = axis == 3 ? -1 : axis;
        cr_assert_eq(nn_layer_finish(layer), NN_OK);
        nn_shape shape = NN_SHAPE(2, 3, 4, 5);
        nn_tensor *x = harness_tensor(&shape, NULL);
        size_t n = nn_tensor_count(x);
        float *in = nn_tensor_f32(x);
        ts_fill_uniform(in, n, 50 + (uint64_t)axis, -2, 2);
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++)
            outer *= dims[i];
        for (int i = axis + 1; i < 4; i++)
            inner *= dims[i];
        for (int j = 0; j < dims[axis]; j++) /* run 0 all zeros: it stays zeros */
            in[(size_t)j * inner] = 0.0f;
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
        double *x64 = malloc(n * sizeof *x64), *y64 = malloc(n * sizeof *y64);
        for (size_t i = 0; i < n; i++)
            x64[i] = in[i];
        reference(y64, x64, outer, dims[axis], inner);
        ts_comparison forward = ts_compare(nn_tensor_f32(run.output), y64, n, 1e-6, 1e-5);
        cr_expect(forward.ok, "axis %d: element %zu is %.7g, expected %.7g", axis,
                  forward.worst_index, (double)nn_tensor_f32(run.output)[forward.worst_index],
                  y64[forward.worst_index]);
        nn_tensor *dy = harness_tensor(&shape, NULL), *dx = harness_tensor(&shape, NULL);
        ts_fill_uniform(nn_tensor_f32(dy), n, 60 + (uint64_t)axis, -1, 1);
        cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK);
        for (size_t i = 0; i < n; i++) {
            if (i % (size_t)inner == 0 && i / (size_t)inner < (size_t)dims[axis])
                continue; /* the zero run: its norm sits at the clamp, no central difference */
            const double h = 1e-5;
            double saved = x64[i];
            x64[i] = saved + h;
            double up = objective(x64, nn_tensor_f32(dy), outer, dims[axis], inner);
            x64[i] = saved - h;
            double down = objective(x64, nn_tensor_f32(dy), outer, dims[axis], inner);
            x64[i] = saved;
            double numeric = (up - down) / (2 * h);
            cr_expect(fabs(nn_tensor_f32(dx)[i] - numeric) <= 1e-3 * (1 + fabs(numeric)),
                      "axis %d: dx[%zu] is %.7g, the central difference %.7g", axis, i,
                      (double)nn_tensor_f32(dx)[i], numeric);
        }
        free(x64), free(y64);
        nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
}

Test(unit_normalization, shapes_and_errors)
{
    const struct { int axis; nn_shape shape; const char *a, *b; } bad[] = {
        {0, NN_SHAPE(2, 4), "axis 0 is the batch axis", "(None, 4)"},
        {2, NN_SHAPE(2, 4), "axis 2 is out of range", "[-2, 1]"},
        {-1, NN_SHAPE(4), "expected min_ndim=2", "(None,)"},
        {-1, NN_SHAPE(2, -1, 4), "needs every size", "(None, None, 4)"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        nn_layer *layer;
        cr_assert_eq(nn_layer_create(&layer, &nn_unit_normalization_class), NN_OK);
        *(int *)harness_arg(layer, "axis") = bad[k].axis;
        cr_assert_eq(nn_layer_finish(layer), NN_OK);
        cr_expect_eq(nn_layer_build(layer, &bad[k].shape), NN_ERR_SHAPE, "case %zu", k);
        ASSERT_MENTIONS(nn_error_message(), bad[k].a, bad[k].b);
        nn_layer_release(layer);
    }
}
