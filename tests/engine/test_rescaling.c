/* Rescaling: forward against x · scale + offset in double, backward against central
 * finite differences of that reference, the shape explanation, and bad settings. */
#include <criterion/criterion.h>
#include <math.h>

#include "layer_harness.h"

enum { ROWS = 3, FEATURES = 5, COUNT = ROWS * FEATURES };
static const double FLOAT_ATOL = 1e-6, FLOAT_RTOL = 1e-5;
static const double GRADCHECK_EPS = 1e-6;

static nn_layer *make_rescaling(float scale, float offset)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_rescaling_class), NN_OK);
    *(float *)harness_arg(layer, "scale") = scale;
    *(float *)harness_arg(layer, "offset") = offset;
    return layer;
}

typedef struct reference {
    double scale, offset;
    const double *weights; /* the upstream gradient, as the weights of a sum */
} reference;

static void reference_forward(const reference *r, double *y, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] * r->scale + r->offset;
}

/* sum(weights · forward(x)): its gradient is the backward of weights. */
static double weighted_output(const double *x, size_t n, void *context)
{
    const reference *r = context;
    double y[COUNT], total = 0.0;
    reference_forward(r, y, x, n);
    for (size_t i = 0; i < n; i++)
        total += r->weights[i] * y[i];
    return total;
}

Test(rescaling_layer, forward_and_backward_match_reference)
{
    const float settings[][2] = {{1.0f / 255.0f, 0.0f}, {1.0f / 127.5f, -1.0f}, {-3.0f, 0.5f}};
    for (size_t s = 0; s < sizeof settings / sizeof settings[0]; s++) {
        nn_layer *layer = make_rescaling(settings[s][0], settings[s][1]);
        cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
        nn_shape shape = NN_SHAPE(ROWS, FEATURES);
        nn_tensor *input = harness_tensor(&shape, NULL);
        nn_tensor *doutput = harness_tensor(&shape, NULL);
        nn_tensor *dinput = harness_tensor(&shape, NULL);
        ts_fill_uniform(nn_tensor_f32(input), COUNT, 10 + s, 0.0f, 255.0f);
        ts_fill_uniform(nn_tensor_f32(doutput), COUNT, 20 + s, -1.0f, 1.0f);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, input, true, NULL), NN_OK, "%s",
                     nn_error_message());
        cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, false), NN_OK);

        double x[COUNT], dy[COUNT], y[COUNT], numeric[COUNT];
        ts_to_double(x, nn_tensor_f32(input), COUNT);
        ts_to_double(dy, nn_tensor_f32(doutput), COUNT);
        reference r = {settings[s][0], settings[s][1], dy};
        reference_forward(&r, y, x, COUNT);
        ts_numeric_gradient(weighted_output, &r, x, COUNT, GRADCHECK_EPS, numeric);
        ts_comparison forward = ts_compare(nn_tensor_f32(run.output), y, COUNT, FLOAT_ATOL,
                                           FLOAT_RTOL);
        ts_report("rescaling forward", &forward);
        cr_assert(forward.ok);
        ts_comparison backward = ts_compare(nn_tensor_f32(dinput), numeric, COUNT, FLOAT_ATOL,
                                            FLOAT_RTOL);
        ts_report("rescaling backward", &backward);
        cr_assert(backward.ok);
        harness_run_free(&run);
        nn_tensor_free(input);
        nn_tensor_free(doutput);
        nn_tensor_free(dinput);
        nn_layer_release(layer);
    }
}

Test(rescaling_layer, keeps_the_shape_and_explains_it)
{
    nn_layer *layer = make_rescaling(0.5f, 1.0f);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, 28, 28, 1);
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK, "%s", nn_error_message());
    char text[64];
    cr_assert_str_eq(nn_shape_format(&layer->output_shape, text, sizeof text),
                     "(None, 28, 28, 1)");
    cr_assert_str_eq(layer->explanation, "unchanged: each value becomes x * 0.5 + 1");
    cr_assert_eq(layer->param_count, 0);
    nn_layer_release(layer);
}

/* The range (±1e9) also keeps out NaN and the infinities, which would poison every
 * value after the layer. */
Test(rescaling_layer, rejects_numbers_out_of_range)
{
    const float bad[][2] = {{NAN, 0.0f}, {INFINITY, 0.0f}, {1.0f, -INFINITY}, {2e9f, 0.0f}};
    const char *const names[] = {"scale=", "scale=", "offset=", "scale="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nn_layer *layer = make_rescaling(bad[i][0], bad[i][1]);
        cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
        ASSERT_MENTIONS(nn_error_message(), "Rescaling", names[i], "out of range");
        nn_layer_release(layer);
    }
}
