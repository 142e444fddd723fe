/* Activations: every function's float forward and backward against a double reference
 * written from Keras' definitions, that reference's derivative against finite
 * differences, and the Activation layer (including the last-layer logits protocol). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_harness.h"
#include "ref_layers.h"

/* expf, tanhf, erff and friends are correct to a few ulps (~2e-7 relative); a few more
 * operations around them keep float results within ~1e-6 of double, so atol 1e-6 with
 * rtol 1e-5 still catches a wrong constant (SELU's, GELU's 1/√2) or a wrong branch. */
static const double FLOAT_ATOL = 1e-6, FLOAT_RTOL = 1e-5;
static const double GRADCHECK_ATOL = 1e-5, GRADCHECK_RTOL = 1e-3, GRADCHECK_EPS = 1e-6;

enum { ROWS = 6, AXIS = 7, COUNT = ROWS * AXIS };

/* Inputs over [-8, 8], moved off the kinks (relu's 0, relu6's 6, hard_sigmoid's ±3)
 * by more than the difference step, where the derivative is not defined. */
static void fill_inputs(float *x, size_t n, uint64_t seed)
{
    static const double kinks[] = {0.0, 6.0, 3.0, -3.0};
    ts_fill_uniform(x, n, seed, -8.0f, 8.0f);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof kinks / sizeof kinks[0]; k++)
            if (fabs(x[i] - kinks[k]) < 0.05)
                x[i] = (float)(kinks[k] + 0.1);
}

static nn_activation activation_at(int kind)
{
    return nn_activation_default((nn_activation_kind)kind);
}

Test(activation, float_forward_matches_reference_for_every_function)
{
    bool all_ok = true;
    char failed[512] = "";
    for (int kind = 0; kind < NN_ACTIVATION_COUNT; kind++) {
        nn_activation activation = activation_at(kind);
        float x[COUNT], y[COUNT];
        double x64[COUNT], y64[COUNT];
        fill_inputs(x, COUNT, 10 + (uint64_t)kind);
        ts_to_double(x64, x, COUNT);
        nn_activation_forward(activation, y, x, COUNT, AXIS);
        ref_activation_forward(activation, y64, x64, COUNT, AXIS);
        ts_comparison result = ts_compare(y, y64, COUNT, FLOAT_ATOL, FLOAT_RTOL);
        char label[64];
        snprintf(label, sizeof label, "activation %s forward", nn_activation_name(activation.kind));
        ts_report(label, &result);
        if (!result.ok) {
            all_ok = false;
            strncat(failed, nn_activation_name(activation.kind), sizeof failed - strlen(failed) - 2);
            strcat(failed, " ");
        }
    }
    cr_assert(all_ok, "forward differs from the reference for: %s", failed);
}

Test(activation, float_backward_matches_reference_for_every_function)
{
    bool all_ok = true;
    char failed[512] = "";
    for (int kind = 0; kind < NN_ACTIVATION_COUNT; kind++) {
        nn_activation activation = activation_at(kind);
        float x[COUNT], y[COUNT], dy[COUNT], dx[COUNT];
        double x64[COUNT], dy64[COUNT], dx64[COUNT];
        fill_inputs(x, COUNT, 20 + (uint64_t)kind);
        ts_fill_uniform(dy, COUNT, 30 + (uint64_t)kind, -1.0f, 1.0f);
        ts_to_double(x64, x, COUNT);
        ts_to_double(dy64, dy, COUNT);
        nn_activation_forward(activation, y, x, COUNT, AXIS);
        /* x is handed over whether or not the function needs it, as a layer would. */
        nn_activation_backward(activation, dx, dy, x, y, COUNT, AXIS);
        ref_activation_backward(activation, dx64, dy64, x64, COUNT, AXIS);
        ts_comparison result = ts_compare(dx, dx64, COUNT, FLOAT_ATOL, FLOAT_RTOL);
        char label[64];
        snprintf(label, sizeof label, "activation %s backward", nn_activation_name(activation.kind));
        ts_report(label, &result);
        if (!result.ok) {
            all_ok = false;
            strncat(failed, nn_activation_name(activation.kind), sizeof failed - strlen(failed) - 2);
            strcat(failed, " ");
        }
    }
    cr_assert(all_ok, "backward differs from the reference for: %s", failed);
}

Test(activation, backward_from_y_alone_where_the_function_allows_it)
{
    /* Layers fuse an activation into their kernel only when backward needs no x; check
     * that those functions really work with x = NULL. */
    for (int kind = 0; kind < NN_ACTIVATION_COUNT; kind++) {
        if (nn_activation_backward_needs_input((nn_activation_kind)kind))
            continue;
        nn_activation activation = activation_at(kind);
        float x[COUNT], y[COUNT], dy[COUNT], with_x[COUNT], without_x[COUNT];
        fill_inputs(x, COUNT, 40 + (uint64_t)kind);
        ts_fill_uniform(dy, COUNT, 50, -1.0f, 1.0f);
        nn_activation_forward(activation, y, x, COUNT, AXIS);
        nn_activation_backward(activation, with_x, dy, x, y, COUNT, AXIS);
        nn_activation_backward(activation, without_x, dy, NULL, y, COUNT, AXIS);
        cr_assert(memcmp(with_x, without_x, sizeof with_x) == 0, "%s needs x after all",
                  nn_activation_name(activation.kind));
    }
}

typedef struct activation_objective {
    nn_activation activation;
    const double *dy;
    double *y;
} activation_objective;

static double activation_objective_value(const double *x, size_t n, void *context)
{
    activation_objective *objective = context;
    ref_activation_forward(objective->activation, objective->y, x, n, AXIS);
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        total += objective->dy[i] * objective->y[i];
    return total;
}

Test(activation, reference_derivatives_match_finite_differences)
{
    bool all_ok = true;
    char failed[512] = "";
    for (int kind = 0; kind < NN_ACTIVATION_COUNT; kind++) {
        nn_activation activation = activation_at(kind);
        float x32[COUNT], dy32[COUNT];
        double x[COUNT], dy[COUNT], y[COUNT], analytic[COUNT], numeric[COUNT];
        fill_inputs(x32, COUNT, 60 + (uint64_t)kind);
        ts_fill_uniform(dy32, COUNT, 70 + (uint64_t)kind, -1.0f, 1.0f);
        ts_to_double(x, x32, COUNT);
        ts_to_double(dy, dy32, COUNT);
        ref_activation_backward(activation, analytic, dy, x, COUNT, AXIS);
        activation_objective objective = {activation, dy, y};
        ts_numeric_gradient(activation_objective_value, &objective, x, COUNT, GRADCHECK_EPS,
                            numeric);
        ts_comparison result =
            ts_compare_double(analytic, numeric, COUNT, GRADCHECK_ATOL, GRADCHECK_RTOL);
        char label[64];
        snprintf(label, sizeof label, "activation %s reference vs differences",
                 nn_activation_name(activation.kind));
        ts_report(label, &result);
        if (!result.ok) {
            all_ok = false;
            strncat(failed, nn_activation_name(activation.kind), sizeof failed - strlen(failed) - 2);
            strcat(failed, " ");
        }
    }
    cr_assert(all_ok, "derivative differs from finite differences for: %s", failed);
}

Test(activation, other_alphas_are_honoured)
{
    const nn_activation cases[] = {{NN_ACTIVATION_ELU, 0.5f}, {NN_ACTIVATION_LEAKY_RELU, 0.01f}};
    for (int i = 0; i < 2; i++) {
        float x[COUNT], y[COUNT], dy[COUNT], dx[COUNT];
        double x64[COUNT], y64[COUNT], dy64[COUNT], dx64[COUNT];
        fill_inputs(x, COUNT, 80);
        ts_fill_uniform(dy, COUNT, 81, -1.0f, 1.0f);
        ts_to_double(x64, x, COUNT);
        ts_to_double(dy64, dy, COUNT);
        nn_activation_forward(cases[i], y, x, COUNT, AXIS);
        nn_activation_backward(cases[i], dx, dy, x, y, COUNT, AXIS);
        ref_activation_forward(cases[i], y64, x64, COUNT, AXIS);
        ref_activation_backward(cases[i], dx64, dy64, x64, COUNT, AXIS);
        cr_assert(ts_compare(y, y64, COUNT, FLOAT_ATOL, FLOAT_RTOL).ok);
        cr_assert(ts_compare(dx, dx64, COUNT, FLOAT_ATOL, FLOAT_RTOL).ok);
    }
}

Test(activation, unknown_names_list_the_valid_ones)
{
    nn_activation activation;
    cr_assert_eq(nn_activation_parse("rleu", &activation), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "'rleu'", "'relu'", "'softmax'", "'swish'");
    cr_assert_eq(nn_activation_parse("silu", &activation), NN_OK);
    cr_assert_eq(activation.kind, NN_ACTIVATION_SWISH);
}

/* ---- the Activation layer ---- */

static nn_layer *make_activation_layer(nn_activation_kind kind)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_activation_class), NN_OK);
    harness_set_activation(layer, nn_activation_default(kind));
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    return layer;
}

Test(activation_layer, forward_and_backward_match_reference)
{
    const nn_activation_kind kinds[] = {NN_ACTIVATION_RELU, NN_ACTIVATION_SOFTMAX,
                                        NN_ACTIVATION_GELU, NN_ACTIVATION_TANH};
    for (int i = 0; i < 4; i++) {
        nn_layer *layer = make_activation_layer(kinds[i]);
        nn_shape shape = NN_SHAPE(ROWS, AXIS);
        nn_tensor *input = harness_tensor(&shape, NULL);
        nn_tensor *doutput = harness_tensor(&shape, NULL);
        nn_tensor *dinput = harness_tensor(&shape, NULL);
        fill_inputs(nn_tensor_f32(input), COUNT, 90 + (uint64_t)i);
        ts_fill_uniform(nn_tensor_f32(doutput), COUNT, 91, -1.0f, 1.0f);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, input, true, NULL), NN_OK, "%s",
                     nn_error_message());
        cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, false), NN_OK);
        double x[COUNT], dy[COUNT], y[COUNT], dx[COUNT];
        ts_to_double(x, nn_tensor_f32(input), COUNT);
        ts_to_double(dy, nn_tensor_f32(doutput), COUNT);
        ref_activation_forward(layer->activation, y, x, COUNT, AXIS);
        ref_activation_backward(layer->activation, dx, dy, x, COUNT, AXIS);
        cr_assert(ts_compare(nn_tensor_f32(run.output), y, COUNT, FLOAT_ATOL, FLOAT_RTOL).ok,
                  "%s forward", nn_activation_name(kinds[i]));
        cr_assert(ts_compare(nn_tensor_f32(dinput), dx, COUNT, FLOAT_ATOL, FLOAT_RTOL).ok,
                  "%s backward", nn_activation_name(kinds[i]));
        char text[64];
        cr_assert_str_eq(nn_shape_format(&layer->output_shape, text, sizeof text),
                         "(None, 7)");
        harness_run_free(&run);
        nn_tensor_free(input);
        nn_tensor_free(doutput);
        nn_tensor_free(dinput);
        nn_layer_release(layer);
    }
}

Test(activation_layer, last_layer_gives_logits_and_passes_preactivation_gradient)
{
    nn_layer *layer = make_activation_layer(NN_ACTIVATION_SOFTMAX);
    nn_shape shape = NN_SHAPE(ROWS, AXIS);
    nn_tensor *input = harness_tensor(&shape, NULL);
    nn_tensor *doutput = harness_tensor(&shape, NULL);
    nn_tensor *dinput = harness_tensor(&shape, NULL);
    fill_inputs(nn_tensor_f32(input), COUNT, 95);
    ts_fill_uniform(nn_tensor_f32(doutput), COUNT, 96, -1.0f, 1.0f);
    float logits[COUNT];
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, input, true, logits), NN_OK);
    cr_assert(memcmp(logits, nn_tensor_f32(input), sizeof logits) == 0);
    cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, true), NN_OK);
    cr_assert(memcmp(nn_tensor_f32(dinput), nn_tensor_f32(doutput), sizeof logits) == 0);
    harness_run_free(&run);
    nn_tensor_free(input);
    nn_tensor_free(doutput);
    nn_tensor_free(dinput);
    nn_layer_release(layer);
}
