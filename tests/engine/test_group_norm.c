/* LayerNormalization, GroupNormalization and RMSNormalization against a reference in
 * double written from the definition, their gradients (input, gamma, beta) against central
 * differences of that reference, and the layers' shape rules and errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "layer_harness.h"

/* x as (samples, before, channels, after), the channels in `groups` runs: each sample's
 * group normalised over its elements, y = (x - mean) / sqrt(var + epsilon) · gamma + beta
 * per channel. LayerNormalization is one group with before = after = 1; RMSNormalization
 * is that without centring (mean 0, so the variance is the mean square) and no beta. */
typedef struct layout {
    int samples, before, channels, after, groups;
    bool root_mean_square;
} layout;

static size_t at(const layout *l, int n, int b, int c, int a)
{
    return (((size_t)n * l->before + b) * l->channels + c) * l->after + a;
}

static void reference(double *y, const double *x, const double *gamma, const double *beta,
                      const layout *l, double epsilon)
{
    int width = l->channels / l->groups;
    double count = (double)l->before * width * l->after;
    for (int n = 0; n < l->samples; n++)
        for (int g = 0; g < l->groups; g++) {
            double mean = 0, variance = 0;
            for (int b = 0; b < l->before; b++)
                for (int c = g * width; c < (g + 1) * width; c++)
                    for (int a = 0; a < l->after; a++)
                        mean += l->root_mean_square ? 0 : x[at(l, n, b, c, a)] / count;
            for (int b = 0; b < l->before; b++)
                for (int c = g * width; c < (g + 1) * width; c++)
                    for (int a = 0; a < l->after; a++) {
                        double d = x[at(l, n, b, c, a)] - mean;
                        variance += d * d / count;
                    }
            for (int b = 0; b < l->before; b++)
                for (int c = g * width; c < (g + 1) * width; c++)
                    for (int a = 0; a < l->after; a++) {
                        size_t i = at(l, n, b, c, a);
                        y[i] = (x[i] - mean) / sqrt(variance + epsilon) * gamma[c] + beta[c];
                    }
        }
}

static size_t count_of(const layout *l)
{
    return (size_t)l->samples * l->before * l->channels * l->after;
}

/* sum(dy · y(x, gamma, beta)) for the central differences. */
static double objective(const double *x, const double *gamma, const double *beta,
                        const float *dy, const layout *l, double epsilon)
{
    double *y = malloc(count_of(l) * sizeof *y), total = 0;
    reference(y, x, gamma, beta, l, epsilon);
    for (size_t i = 0; i < count_of(l); i++)
        total += dy[i] * y[i];
    free(y);
    return total;
}

static double *to_double(const float *values, size_t n)
{
    double *out = malloc(n * sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = values[i];
    return out;
}

/* d objective / d values[i] by a central difference. */
static double central(double *values, size_t i, const double *x, const double *gamma,
                      const double *beta, const float *dy, const layout *l, double epsilon)
{
    const double h = 1e-5;
    double saved = values[i];
    values[i] = saved + h;
    double up = objective(x, gamma, beta, dy, l, epsilon);
    values[i] = saved - h;
    double down = objective(x, gamma, beta, dy, l, epsilon);
    values[i] = saved;
    return (up - down) / (2 * h);
}

/* Builds `layer` on `shape`, runs forward and backward on random values and compares
 * both with the reference laid out as `l`. */
static void check_against_reference(nn_layer *layer, nn_shape shape, const layout *l,
                                    float epsilon, unsigned seed, const char *what)
{
    cr_assert_eq(nn_layer_build(layer, &shape), NN_OK, "%s: %s", what, nn_error_message());
    int channels = l->channels;
    /* gamma then beta, as Keras declares them; RMSNormalization has no beta */
    bool has_beta = !l->root_mean_square;
    cr_assert_eq(layer->param_count, has_beta ? 2 : 1, "%s", what);
    float *gamma = nn_tensor_f32(layer->params[0].value);
    float *zeros = calloc((size_t)channels, sizeof *zeros);
    float *beta = has_beta ? nn_tensor_f32(layer->params[1].value) : zeros;
    ts_fill_uniform(gamma, (size_t)channels, 10 + seed, 0.5f, 1.5f);
    if (has_beta)
        ts_fill_uniform(beta, (size_t)channels, 20 + seed, -0.5f, 0.5f);
    nn_tensor *x = harness_tensor(&shape, NULL);
    cr_assert_eq(nn_tensor_count(x), count_of(l), "%s: the layout covers the input", what);
    ts_fill_uniform(nn_tensor_f32(x), nn_tensor_count(x), 30 + seed, -2, 2);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    nn_tensor *dy = harness_tensor(&shape, NULL), *dx = harness_tensor(&shape, NULL);
    ts_fill_uniform(nn_tensor_f32(dy), nn_tensor_count(dy), 40 + seed, -1, 1);
    cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK, "%s", nn_error_message());

    size_t n = nn_tensor_count(x);
    double *x64 = to_double(nn_tensor_f32(x), n), *gamma64 = to_double(gamma, (size_t)channels);
    double *beta64 = to_double(beta, (size_t)channels), *y64 = malloc(n * sizeof *y64);
    reference(y64, x64, gamma64, beta64, l, epsilon);
    ts_comparison forward = ts_compare(nn_tensor_f32(run.output), y64, n, 1e-5, 1e-5);
    cr_expect(forward.ok, "%s forward: element %zu is %.9g, expected %.9g", what,
              forward.worst_index, (double)nn_tensor_f32(run.output)[forward.worst_index],
              y64[forward.worst_index]);
    const float *dy32 = nn_tensor_f32(dy);
    for (size_t i = 0; i < n; i++) {
        double numeric = central(x64, i, x64, gamma64, beta64, dy32, l, epsilon);
        cr_expect(fabs(nn_tensor_f32(dx)[i] - numeric) <= 1e-3 * (1 + fabs(numeric)),
                  "%s: dx[%zu] is %.7g, the central difference %.7g", what, i,
                  (double)nn_tensor_f32(dx)[i], numeric);
    }
    for (int c = 0; c < channels; c++) {
        double dgamma = central(gamma64, (size_t)c, x64, gamma64, beta64, dy32, l, epsilon);
        cr_expect(fabs(nn_tensor_f32(layer->params[0].grad)[c] - dgamma) <= 1e-3 * (1 + fabs(dgamma)),
                  "%s: dgamma[%d] is %.7g, the central difference %.7g", what, c,
                  (double)nn_tensor_f32(layer->params[0].grad)[c], dgamma);
        if (!has_beta)
            continue;
        double dbeta = central(beta64, (size_t)c, x64, gamma64, beta64, dy32, l, epsilon);
        cr_expect(fabs(nn_tensor_f32(layer->params[1].grad)[c] - dbeta) <= 1e-3 * (1 + fabs(dbeta)),
                  "%s: dbeta[%d] is %.7g, the central difference %.7g", what, c,
                  (double)nn_tensor_f32(layer->params[1].grad)[c], dbeta);
    }
    free(x64), free(gamma64), free(beta64), free(y64), free(zeros);
    nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
    harness_run_free(&run);
}

/* A layer normalising each row of the last axis (LayerNormalization, RMSNormalization) on
 * 2-D and 3-D inputs: every row is a sample of its own. */
typedef struct row_case {
    int batch, middle, width;
    float epsilon;
} row_case;

static nn_layer *check_rows(const nn_layer_class *cls, const row_case *c, unsigned seed,
                            const char *what)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, cls), NN_OK);
    *(float *)harness_arg(layer, "epsilon") = c->epsilon;
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape shape = c->middle == 1 ? NN_SHAPE(c->batch, c->width)
                                    : NN_SHAPE(c->batch, c->middle, c->width);
    layout rows = {c->batch * c->middle, 1, c->width, 1, 1, cls == &nn_rms_norm_class};
    check_against_reference(layer, shape, &rows, c->epsilon, seed, what);
    return layer;
}

Test(layer_normalization, forward_and_gradients_match_the_reference)
{
    const row_case cases[] = {{4, 1, 8, 1e-3f}, {2, 3, 5, 1e-3f}, {3, 1, 1, 1e-3f},
                              {2, 2, 64, 1e-5f}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char what[32];
        snprintf(what, sizeof what, "case %zu", k);
        nn_layer_release(check_rows(&nn_layernorm_class, &cases[k], (unsigned)k, what));
    }
}

Test(layer_normalization, several_last_axes_are_one_row_with_gamma_per_value)
{
    /* axis {1, 2, 3} of (2, 3, 2, 4) and {-2, -1} of (3, 2, 5): every sample's (or
     * position's) last axes form one row of the reference; gamma and beta have their sizes. */
    const struct { nn_axes axes; nn_shape shape, weights; layout layout; const char *what; } cases[] = {
        {{true, 3, {1, 2, 3}}, NN_SHAPE(2, 3, 2, 4), NN_SHAPE(3, 2, 4), {2, 1, 24, 1, 1, false},
         "each image as a whole"},
        {{true, 2, {-1, -2}}, NN_SHAPE(3, 2, 5), NN_SHAPE(2, 5), {3, 1, 10, 1, 1, false},
         "the last two axes, listed from the end"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nn_layer *layer = NULL;
        cr_assert_eq(nn_layer_create(&layer, &nn_layernorm_class), NN_OK);
        *(nn_axes *)harness_arg(layer, "axis") = cases[k].axes;
        cr_assert_eq(nn_layer_finish(layer), NN_OK);
        check_against_reference(layer, cases[k].shape, &cases[k].layout, 1e-3f,
                                200 + (unsigned)k, cases[k].what);
        for (int i = 0; i < layer->param_count; i++)
            cr_expect(nn_shape_equal(&layer->params[i].shape, &cases[k].weights),
                      "%s: weight %d has the normalised axes' sizes", cases[k].what, i);
        nn_layer_release(layer);
    }
}

Test(group_normalization, forward_and_gradients_match_the_reference)
{
    const struct { int groups, axis; nn_shape shape; layout layout; const char *what; } cases[] = {
        {2, -1, NN_SHAPE(2, 3, 3, 4), {2, 9, 4, 1, 2, false}, "images, 2 groups of 2 channels"},
        {-1, -1, NN_SHAPE(2, 2, 2, 3), {2, 4, 3, 1, 3, false}, "groups=-1: instance normalisation"},
        {1, -1, NN_SHAPE(3, 5), {3, 1, 5, 1, 1, false}, "features, one group"},
        {3, 1, NN_SHAPE(2, 6, 2, 2), {2, 1, 6, 4, 3, false}, "channels_first, axis=1"},
        {2, 2, NN_SHAPE(2, 3, 4, 2), {2, 3, 4, 2, 2, false}, "axis=2, positions on both sides"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nn_layer *layer = NULL;
        cr_assert_eq(nn_layer_create(&layer, &nn_group_norm_class), NN_OK);
        *(int *)harness_arg(layer, "groups") = cases[k].groups;
        *(int *)harness_arg(layer, "axis") = cases[k].axis;
        cr_assert_eq(nn_layer_finish(layer), NN_OK);
        check_against_reference(layer, cases[k].shape, &cases[k].layout, 1e-3f,
                                100 + (unsigned)k, cases[k].what);
        nn_layer_release(layer);
    }
}

Test(rms_normalization, forward_and_gradients_match_the_reference)
{
    const row_case cases[] = {{4, 1, 8, 1e-6f}, {2, 3, 5, 1e-3f}, {3, 1, 1, 1e-6f},
                              {2, 2, 64, 1e-5f}, {3, 2, 4, 2.0f}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char what[32];
        snprintf(what, sizeof what, "rms case %zu", k);
        nn_layer *layer = check_rows(&nn_rms_norm_class, &cases[k], 200 + (unsigned)k, what);
        cr_expect_str_eq(layer->params[0].name, "scale", "Keras calls the weight scale");
        nn_layer_release(layer);
    }
}

Test(rms_normalization, known_values)
{
    /* (3, 4): mean square 12.5, so 3 / sqrt(12.5 + 1e-6) and 4 / sqrt(12.5 + 1e-6); a row of
     * zeros stays zeros. */
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_rms_norm_class), NN_OK);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape shape = NN_SHAPE(2, 2);
    cr_assert_eq(nn_layer_build(layer, &shape), NN_OK, "%s", nn_error_message());
    float values[] = {3, 4, 0, 0};
    nn_tensor *x = harness_tensor(&shape, values);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, false, NULL), NN_OK, "%s", nn_error_message());
    const float *y = nn_tensor_f32(run.output);
    double rms = sqrt(12.5 + 1e-6);
    cr_expect_float_eq(y[0], 3 / rms, 1e-6);
    cr_expect_float_eq(y[1], 4 / rms, 1e-6);
    cr_expect_eq(y[2], 0.0f);
    cr_expect_eq(y[3], 0.0f);
    ASSERT_MENTIONS(layer->explanation, "divided by their root mean square",
                    "multiplied by scale (2)");
    nn_tensor_free(x);
    harness_run_free(&run);
    nn_layer_release(layer);
}

Test(layer_normalization, only_the_last_axes_and_no_rms_scaling)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_layernorm_class), NN_OK);
    *(nn_axes *)harness_arg(layer, "axis") = (nn_axes){.count = 1, .values = {1}};
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape shape = NN_SHAPE(2, 3, 4);
    cr_assert_eq(nn_layer_build(layer, &shape), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "axis 1", "(None, 3, 4)", "the last few together");
    nn_layer_release(layer);
    cr_assert_eq(nn_layer_create(&layer, &nn_layernorm_class), NN_OK);
    harness_set_bool(layer, "rms_scaling", true);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "rms_scaling=True", "RMSNormalization");
    nn_layer_release(layer);
}

Test(group_normalization, groups_must_divide_the_channels)
{
    const struct { int groups, axis; nn_shape shape; nn_status status; const char *a, *b; } cases[] = {
        {32, -1, NN_SHAPE(2, 4, 4, 16), NN_ERR_SHAPE, "Number of groups (32)", "channels (16)"},
        {3, -1, NN_SHAPE(2, 4, 4, 16), NN_ERR_SHAPE, "16 channels", "do not split into 3 groups"},
        {2, 0, NN_SHAPE(2, 4), NN_ERR_SHAPE, "axis 0 is the batch axis", "(None, 4)"},
        {2, 3, NN_SHAPE(2, 4), NN_ERR_SHAPE, "axis 3 is out of range", "[-2, 1]"},
        {2, -1, NN_SHAPE(4), NN_ERR_SHAPE, "expected min_ndim=2", "(None,)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nn_layer *layer = NULL;
        cr_assert_eq(nn_layer_create(&layer, &nn_group_norm_class), NN_OK);
        *(int *)harness_arg(layer, "groups") = cases[k].groups;
        *(int *)harness_arg(layer, "axis") = cases[k].axis;
        cr_assert_eq(nn_layer_finish(layer), NN_OK);
        cr_expect_eq(nn_layer_build(layer, &cases[k].shape), cases[k].status, "case %zu", k);
        ASSERT_MENTIONS(nn_error_message(), cases[k].a, cases[k].b);
        nn_layer_release(layer);
    }
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_group_norm_class), NN_OK);
    *(int *)harness_arg(layer, "groups") = 0;
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "groups must be", "got 0");
    nn_layer_release(layer);
}
