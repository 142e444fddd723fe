/* The noise layers (Keras' old keras.layers.noise): GaussianNoise and GaussianDropout —
 * the normals against Box-Muller worked in double from the raw Philox words, their
 * moments, identity in inference, repeatable noise, backward (pass-through, and the same
 * noise again for GaussianDropout), bad arguments — and AlphaDropout: every output one of
 * Keras' two affine values, mean and variance kept, backward. Backward is checked against
 * finite differences. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_kernels.h"
#include "layer_harness.h"
#include "layers/layers.h"
#include "random.h"
#include "test_support.h"

static void seed_globally(void) { nn_random_seed(20261127); }
TestSuite(noise_layers, .init = seed_globally);

static nn_layer *noise_layer(const nn_layer_class *cls, const char *name, float value)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, cls), NN_OK);
    *(float *)harness_arg(layer, name) = value;
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

static nn_tensor *filled(nn_shape shape, float value)
{
    nn_tensor *t = harness_tensor(&shape, NULL);
    float *data = nn_tensor_f32(t);
    for (size_t i = 0; i < nn_tensor_count(t); i++)
        data[i] = value;
    return t;
}

Test(noise_layers, normals_are_box_muller_on_the_philox_words)
{
    /* Normal i of a stream: block i / 4, pair (i % 4) / 2 of its words; the first word of
     * the pair gives u1 in (0, 1], the second u2 in [0, 1). */
    enum { N = 4099 }; /* not a multiple of 4: the last block is cut short */
    float *zeros = calloc(N, sizeof(float)), *out = malloc(N * sizeof(float));
    nn_cpu_gaussian_noise(out, zeros, N, 1.0f, false, 77, 5);
    double worst = 0;
    for (size_t i = 0; i < N; i++) {
        uint32_t words[4];
        nn_random_block(77, 5, i / 4, words);
        size_t pair = (i % 4) / 2;
        double u1 = ((double)(words[2 * pair] >> 8) + 1.0) / 16777216.0;
        double u2 = (double)(words[2 * pair + 1] >> 8) / 16777216.0;
        double radius = sqrt(-2.0 * log(u1)), angle = 2.0 * M_PI * u2;
        double expected = i % 2 == 0 ? radius * cos(angle) : radius * sin(angle);
        worst = fmax(worst, fabs(out[i] - expected));
    }
    cr_expect_lt(worst, 2e-5, "largest difference from Box-Muller in double: %g", worst);
    free(zeros);
    free(out);
}

Test(noise_layers, additive_noise_has_mean_0_and_the_stddev_asked)
{
    nn_layer *layer = noise_layer(&nn_gaussian_noise_class, "stddev", 0.25f);
    nn_tensor *x = filled(NN_SHAPE(500, 400), 3.0f);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    const float *y = nn_tensor_f32(run.output);
    size_t n = nn_tensor_count(x), within_one_sigma = 0;
    double sum = 0, squares = 0;
    for (size_t i = 0; i < n; i++) {
        double noise = y[i] - 3.0;
        sum += noise;
        squares += noise * noise;
        within_one_sigma += fabs(noise) < 0.25;
    }
    double mean = sum / (double)n, stddev = sqrt(squares / (double)n - mean * mean);
    /* 200,000 draws: the mean's standard error is 0.25 / 447 = 0.00056, the standard
     * deviation's 0.0004, the one-sigma fraction's 0.001 (normal: 0.6827). */
    cr_expect_lt(fabs(mean), 0.003, "mean %g", mean);
    cr_expect_lt(fabs(stddev - 0.25), 0.002, "stddev %g", stddev);
    double fraction = (double)within_one_sigma / (double)n;
    cr_expect_lt(fabs(fraction - 0.6827), 0.005, "fraction within one sigma %g", fraction);
    harness_run_free(&run);

    /* Inference: the input itself. */
    cr_assert_eq(harness_forward(&run, layer, x, false, NULL), NN_OK);
    cr_expect_eq(memcmp(nn_tensor_f32(run.output), nn_tensor_f32(x), nn_tensor_bytes(x)), 0);
    harness_run_free(&run);
    nn_tensor_free(x);
    nn_layer_release(layer);
}

Test(noise_layers, multiplicative_noise_has_mean_1_and_dropouts_variance)
{
    nn_layer *layer = noise_layer(&nn_gaussian_dropout_class, "rate", 0.2f);
    nn_tensor *x = filled(NN_SHAPE(400, 500), 2.0f);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    const float *y = nn_tensor_f32(run.output);
    size_t n = nn_tensor_count(x);
    double sum = 0, squares = 0;
    for (size_t i = 0; i < n; i++) {
        double factor = y[i] / 2.0;
        sum += factor;
        squares += factor * factor;
    }
    double mean = sum / (double)n, stddev = sqrt(squares / (double)n - mean * mean);
    /* sqrt(0.2 / 0.8) = 0.5. */
    cr_expect_lt(fabs(mean - 1.0), 0.006, "mean %g", mean);
    cr_expect_lt(fabs(stddev - 0.5), 0.004, "stddev %g", stddev);
    harness_run_free(&run);
    nn_tensor_free(x);
    nn_layer_release(layer);
}

/* Loss = sum(w · layer(x)) with the noise of one fixed call. */
typedef struct noisy_loss {
    nn_layer *layer;
    const float *weights;
    nn_shape shape;
} noisy_loss;

static double weighted_output(const double *x, size_t n, void *context)
{
    noisy_loss *loss = context;
    nn_tensor *input = harness_tensor(&loss->shape, NULL);
    ts_to_float(nn_tensor_f32(input), x, n);
    harness_run run;
    cr_assert_eq(harness_forward(&run, loss->layer, input, true, NULL), NN_OK);
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += (double)loss->weights[i] * nn_tensor_f32(run.output)[i];
    harness_run_free(&run);
    nn_tensor_free(input);
    return total;
}

static void check_backward(const nn_layer_class *cls, const char *arg_name, float value)
{
    nn_layer *layer = noise_layer(cls, arg_name, value);
    nn_shape shape = NN_SHAPE(3, 7);
    enum { N = 21 };
    float x[N], weights[N];
    ts_fill_uniform(x, N, 5, -2.0f, 2.0f);
    ts_fill_uniform(weights, N, 6, -1.0f, 1.0f);
    nn_tensor *input = harness_tensor(&shape, x), *doutput = harness_tensor(&shape, weights);
    nn_tensor *dinput = harness_tensor(&shape, NULL);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, input, true, NULL), NN_OK);
    cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, false), NN_OK);

    /* Every call of harness_forward runs at the same (seed, step), so the finite
     * differences see the very noise backward drew again. */
    double point[N], numeric[N];
    ts_to_double(point, x, N);
    noisy_loss loss = {layer, weights, shape};
    ts_numeric_gradient(weighted_output, &loss, point, N, 1e-2, numeric);
    ts_comparison comparison = ts_compare(nn_tensor_f32(dinput), numeric, N, 1e-3, 1e-3);
    ts_report(cls->name, &comparison);
    cr_expect(comparison.ok, "%s backward differs from finite differences", cls->name);
    if (cls == &nn_gaussian_noise_class)
        cr_expect_eq(memcmp(nn_tensor_f32(dinput), weights, sizeof weights), 0,
                     "additive noise passes the gradient through unchanged");
    harness_run_free(&run);
    nn_tensor_free(input);
    nn_tensor_free(doutput);
    nn_tensor_free(dinput);
    nn_layer_release(layer);
}

Test(noise_layers, backward_matches_finite_differences)
{
    check_backward(&nn_gaussian_noise_class, "stddev", 0.5f);
    check_backward(&nn_gaussian_dropout_class, "rate", 0.3f);
    check_backward(&nn_alpha_dropout_class, "rate", 0.4f);
}

Test(noise_layers, alpha_dropout_gives_keras_values_and_keeps_mean_and_variance)
{
    /* Keras: alpha_p = -1.6732632 · 1.0507010, a = ((1 - r)(1 + r·alpha_p²))^-1/2,
     * b = -a·alpha_p·r; kept inputs become a·x + b, dropped ones a·alpha_p + b. */
    const double rate = 0.2, alpha_p = -1.6732632423543772 * 1.0507009873554805;
    const double a = 1.0 / sqrt((1 - rate) * (1 + rate * alpha_p * alpha_p));
    const double b = -a * alpha_p * rate, dropped_value = a * alpha_p + b;
    nn_layer *layer = noise_layer(&nn_alpha_dropout_class, "rate", (float)rate);
    nn_shape shape = NN_SHAPE(400, 500);
    nn_tensor *x = harness_tensor(&shape, NULL);
    size_t n = nn_tensor_count(x);
    /* Standard normal inputs, SELU's fixed point. */
    float *zeros = calloc(n, sizeof(float));
    nn_cpu_gaussian_noise(nn_tensor_f32(x), zeros, n, 1.0f, false, 3, 4);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    const float *in = nn_tensor_f32(x), *out = nn_tensor_f32(run.output);
    size_t dropped = 0;
    double sum = 0, squares = 0, worst = 0;
    for (size_t i = 0; i < n; i++) {
        double kept_error = fabs(out[i] - (a * in[i] + b));
        double dropped_error = fabs(out[i] - dropped_value);
        dropped += dropped_error < kept_error;
        worst = fmax(worst, fmin(kept_error, dropped_error));
        sum += out[i];
        squares += (double)out[i] * out[i];
    }
    cr_expect_lt(worst, 2e-6, "an output is neither a·x + b nor a·alpha_p + b: off by %g",
                 worst);
    double fraction = (double)dropped / (double)n;
    double mean = sum / (double)n, variance = squares / (double)n - mean * mean;
    /* 200,000 inputs: the dropped fraction's standard error is 0.0009. */
    cr_expect_lt(fabs(fraction - rate), 0.005, "dropped fraction %g", fraction);
    cr_expect_lt(fabs(mean), 0.01, "mean %g", mean);
    cr_expect_lt(fabs(variance - 1.0), 0.015, "variance %g", variance);
    harness_run_free(&run);
    cr_assert_eq(harness_forward(&run, layer, x, false, NULL), NN_OK);
    cr_expect_eq(memcmp(nn_tensor_f32(run.output), in, nn_tensor_bytes(x)), 0,
                 "inference passes through");
    harness_run_free(&run);
    free(zeros);
    nn_tensor_free(x);
    nn_layer_release(layer);
}

Test(noise_layers, own_seed_repeats_and_steps_differ)
{
    nn_layer *first, *second;
    cr_assert_eq(nn_layer_create(&first, &nn_gaussian_noise_class), NN_OK);
    cr_assert_eq(nn_layer_create(&second, &nn_gaussian_noise_class), NN_OK);
    nn_layer *layers[] = {first, second};
    for (int k = 0; k < 2; k++) {
        *(float *)harness_arg(layers[k], "stddev") = 1.0f;
        *(nn_optional_int *)harness_arg(layers[k], "seed") = (nn_optional_int){true, 42};
        cr_assert_eq(nn_layer_finish(layers[k]), NN_OK);
    }
    nn_tensor *x = filled(NN_SHAPE(4, 8), 0.0f), *y[2][2];
    for (int call = 0; call < 2; call++)
        for (int k = 0; k < 2; k++)
            cr_assert_eq(nn_layer_call(layers[k], x, true, &y[k][call]), NN_OK);
    size_t bytes = nn_tensor_bytes(x);
    for (int call = 0; call < 2; call++)
        cr_expect_eq(memcmp(nn_tensor_f32(y[0][call]), nn_tensor_f32(y[1][call]), bytes), 0,
                     "two layers of one seed draw the same noise at call %d", call + 1);
    cr_expect_neq(memcmp(nn_tensor_f32(y[0][0]), nn_tensor_f32(y[0][1]), bytes), 0,
                  "the second call draws fresh noise");
    for (int call = 0; call < 2; call++)
        for (int k = 0; k < 2; k++)
            nn_tensor_free(y[k][call]);
    nn_tensor_free(x);
    nn_layer_release(first);
    nn_layer_release(second);
}

Test(noise_layers, bad_arguments_say_what_is_allowed)
{
    struct {
        const nn_layer_class *cls;
        const char *name;
        float value;
        const char *word;
    } cases[] = {
        {&nn_gaussian_noise_class, "stddev", -0.1f, "stddev"},
        {&nn_gaussian_noise_class, "stddev", 1.5f, "[0, 1]"},
        {&nn_gaussian_noise_class, "stddev", NAN, "stddev"},
        {&nn_gaussian_dropout_class, "rate", 1.0f, "[0, 1)"},
        {&nn_gaussian_dropout_class, "rate", -0.5f, "rate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nn_layer *layer;
        cr_assert_eq(nn_layer_create(&layer, cases[i].cls), NN_OK);
        *(float *)harness_arg(layer, cases[i].name) = cases[i].value;
        cr_expect_neq(nn_layer_finish(layer), NN_OK, "%s %s=%g accepted", cases[i].cls->name,
                      cases[i].name, (double)cases[i].value);
        ASSERT_MENTIONS(nn_error_message(), cases[i].word);
        nn_layer_release(layer);
    }
}
