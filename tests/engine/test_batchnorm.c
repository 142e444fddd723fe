/* BatchNormalization: the SPEC example, moving averages, forward against a double
 * reference for several axes and options, backward against finite differences,
 * weight counts, frozen layers and bad axes. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"
#include "random.h"
#include "ref_core.h"
#include "test_support.h"

static void seed_globally(void) { nn_random_seed(777); }
TestSuite(batchnorm, .init = seed_globally);

static void *arg(nn_layer *layer, const char *name)
{
    const nn_arg_spec *spec = nn_layer_class_arg(layer->cls, name);
    cr_assert_not_null(spec, "BatchNormalization has no argument %s", name);
    return nn_layer_arg_pointer(layer, spec);
}

/* A finished BatchNormalization layer. */
static nn_layer *batchnorm(int axis, bool center, bool scale)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, &nn_batchnorm_class), NN_OK);
    *(int *)arg(layer, "axis") = axis;
    *(bool *)arg(layer, "center") = center;
    *(bool *)arg(layer, "scale") = scale;
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

static nn_tensor *uniform_tensor(nn_shape shape, uint64_t seed, float low, float high)
{
    nn_tensor *t;
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &shape), NN_OK);
    ts_fill_uniform(nn_tensor_f32(t), nn_tensor_count(t), seed, low, high);
    return t;
}

/* Scratch for the kernels' per-channel sums (the layer asks for 70 floats a channel on
 * the CPU); every test here has at most a few hundred channels. */
enum { BN_SCRATCH = 1 << 16 };
static float bn_scratch[BN_SCRATCH];

static nn_tensor *empty_like(const nn_tensor *x)
{
    nn_tensor *t;
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &x->shape), NN_OK);
    return t;
}

static void build_and_reserve(nn_layer *layer, const nn_tensor *x)
{
    cr_assert_eq(nn_layer_build(layer, &x->shape), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_reserve(layer, x->shape.dims[0]), NN_OK, "%s", nn_error_message());
}

static void forward(nn_layer *layer, const nn_tensor *x, nn_tensor *y, bool training)
{
    build_and_reserve(layer, x);
    nn_exec exec = {.backend = nn_backend_cpu(), .scratch = bn_scratch,
                    .scratch_floats = BN_SCRATCH, .training = training, .seed = 1, .step = 1};
    cr_assert_eq(layer->cls->forward(layer, &exec, x, y), NN_OK, "%s", nn_error_message());
}

static float *param(nn_layer *layer, const char *name)
{
    nn_param *p = nn_layer_param(layer, name);
    return p ? nn_tensor_f32(p->value) : NULL;
}

/* Per-channel mean and biased variance of y (B, ..., C) for the last axis. */
static void channel_moments(const float *y, size_t n, int64_t channels, double *mean,
                            double *variance)
{
    size_t count = n / (size_t)channels;
    for (int64_t c = 0; c < channels; c++) {
        double sum = 0.0, squares = 0.0;
        for (size_t i = 0; i < count; i++)
            sum += y[i * (size_t)channels + (size_t)c];
        mean[c] = sum / (double)count;
        for (size_t i = 0; i < count; i++) {
            double d = y[i * (size_t)channels + (size_t)c] - mean[c];
            squares += d * d;
        }
        variance[c] = squares / (double)count;
    }
}

Test(batchnorm, spec_example_normalises_each_channel_and_updates_moving_statistics)
{
    /* BatchNormalization()(randn(4,4,4,3), {training=true}), with channels of different
     * offsets and spreads. */
    nn_tensor *x = uniform_tensor(NN_SHAPE(4, 4, 4, 3), 1, -3.0f, 3.0f);
    float *in = nn_tensor_f32(x);
    for (size_t i = 0; i < 192; i++)
        in[i] = in[i] * (float)(1 + i % 3) + (float)(i % 3) * 5.0f;
    nn_layer *layer = batchnorm(-1, true, true);
    nn_tensor *y;
    cr_assert_eq(nn_layer_call(layer, x, true, &y), NN_OK, "%s", nn_error_message());
    cr_assert(nn_shape_equal(&y->shape, &x->shape));

    double mean[3], variance[3], x_mean[3], x_variance[3];
    channel_moments(nn_tensor_f32(y), 192, 3, mean, variance);
    channel_moments(in, 192, 3, x_mean, x_variance);
    for (int c = 0; c < 3; c++) {
        /* Normalising by sqrt(var + eps) leaves a variance of var / (var + eps). */
        double expected = x_variance[c] / (x_variance[c] + 0.001);
        fprintf(stderr, "[batchnorm] channel %d: mean %+.2e variance %.6f (expected %.6f)\n", c,
                mean[c], variance[c], expected);
        cr_assert(fabs(mean[c]) < 1e-5, "channel %d mean %g", c, mean[c]);
        cr_assert(fabs(variance[c] - 1.0) <= 1e-3, "channel %d variance %g", c, variance[c]);
        cr_assert(fabs(variance[c] - expected) < 1e-5, "channel %d variance %.8f vs %.8f", c,
                  variance[c], expected);
        /* moving = moving * momentum + batch * (1 - momentum), from 0 and 1, in float
         * as the layer stores momentum (0.99f). */
        const float momentum = 0.99f, rest = 1.0f - 0.99f;
        float expected_mean = 0.0f * momentum + (float)x_mean[c] * rest;
        float expected_variance = 1.0f * momentum + (float)x_variance[c] * rest;
        float moving_mean = param(layer, "moving_mean")[c];
        float moving_variance = param(layer, "moving_variance")[c];
        cr_assert(fabsf(moving_mean - expected_mean) <= 1e-7f * fabsf(expected_mean),
                  "moving_mean %.9g vs %.9g", (double)moving_mean, (double)expected_mean);
        cr_assert(fabsf(moving_variance - expected_variance) <= 1e-7f * expected_variance,
                  "moving_variance %.9g vs %.9g", (double)moving_variance,
                  (double)expected_variance);
    }

    /* A second training step moves the averages again by the same rule. */
    float before_mean = param(layer, "moving_mean")[1];
    float before_variance = param(layer, "moving_variance")[1];
    nn_tensor *y2;
    cr_assert_eq(nn_layer_call(layer, x, true, &y2), NN_OK);
    float expected_mean = before_mean * 0.99f + (float)x_mean[1] * (1.0f - 0.99f);
    float expected_variance = before_variance * 0.99f + (float)x_variance[1] * (1.0f - 0.99f);
    cr_assert(fabsf(param(layer, "moving_mean")[1] - expected_mean) <=
              1e-7f * fabsf(expected_mean));
    cr_assert(fabsf(param(layer, "moving_variance")[1] - expected_variance) <=
              1e-7f * expected_variance);

    /* Inference uses the moving statistics and leaves them alone. */
    float moving_mean[3], moving_variance[3];
    memcpy(moving_mean, param(layer, "moving_mean"), sizeof moving_mean);
    memcpy(moving_variance, param(layer, "moving_variance"), sizeof moving_variance);
    nn_tensor *z;
    cr_assert_eq(nn_layer_call(layer, x, false, &z), NN_OK);
    double *xd = malloc(192 * sizeof *xd), *expected = malloc(192 * sizeof *expected);
    double mm[3], mv[3];
    ts_to_double(xd, in, 192);
    ts_to_double(mm, moving_mean, 3);
    ts_to_double(mv, moving_variance, 3);
    ref_batchnorm_forward(expected, NULL, NULL, xd, NULL, NULL, mm, mv, x->shape.dims, 4, 3,
                          0.001, false);
    ts_comparison c = ts_compare(nn_tensor_f32(z), expected, 192, 1e-5, 1e-5);
    ts_report("batchnorm inference with moving statistics", &c);
    cr_assert(c.ok);
    cr_assert(memcmp(moving_mean, param(layer, "moving_mean"), sizeof moving_mean) == 0);
    cr_assert(memcmp(moving_variance, param(layer, "moving_variance"), sizeof moving_variance) ==
              0);
    free(xd);
    free(expected);
    nn_tensor_free(x);
    nn_tensor_free(y);
    nn_tensor_free(y2);
    nn_tensor_free(z);
    nn_layer_release(layer);
}

/* A batch normalization problem in double: input, weights and a random dout. */
typedef struct bn_problem {
    nn_shape shape;
    int axis; /* resolved, counted from the front */
    bool center, scale, training;
    size_t n;
    int64_t channels;
    double *x, *gamma, *beta, *moving_mean, *moving_variance, *dout, *y;
} bn_problem;

static bn_problem make_problem(nn_shape shape, int axis, bool center, bool scale,
                               bool training, uint64_t seed)
{
    bn_problem p = {.shape = shape, .axis = axis < 0 ? axis + shape.ndim : axis,
                    .center = center, .scale = scale, .training = training};
    p.n = (size_t)nn_shape_inner(&shape, 0);
    p.channels = shape.dims[p.axis];
    size_t c = (size_t)p.channels;
    p.x = malloc(p.n * sizeof(double));
    p.dout = malloc(p.n * sizeof(double));
    p.y = malloc(p.n * sizeof(double));
    p.gamma = malloc(c * sizeof(double));
    p.beta = malloc(c * sizeof(double));
    p.moving_mean = malloc(c * sizeof(double));
    p.moving_variance = malloc(c * sizeof(double));
    /* Values that are exact in float, so both sides see the same numbers. */
    float *values = malloc(p.n * sizeof(float));
    ts_fill_uniform(values, p.n, seed, -2.0f, 3.0f);
    ts_to_double(p.x, values, p.n);
    ts_fill_uniform(values, p.n, seed + 1, -1.0f, 1.0f);
    ts_to_double(p.dout, values, p.n);
    ts_fill_uniform(values, c, seed + 2, 0.5f, 1.5f);
    ts_to_double(p.gamma, values, c);
    ts_fill_uniform(values, c, seed + 3, -0.5f, 0.5f);
    ts_to_double(p.beta, values, c);
    ts_fill_uniform(values, c, seed + 4, -0.3f, 0.3f);
    ts_to_double(p.moving_mean, values, c);
    ts_fill_uniform(values, c, seed + 5, 0.5f, 2.0f);
    ts_to_double(p.moving_variance, values, c);
    free(values);
    return p;
}

static void free_problem(bn_problem *p)
{
    free(p->x);
    free(p->dout);
    free(p->y);
    free(p->gamma);
    free(p->beta);
    free(p->moving_mean);
    free(p->moving_variance);
}

static void reference_forward(bn_problem *p)
{
    ref_batchnorm_forward(p->y, NULL, NULL, p->x, p->scale ? p->gamma : NULL,
                          p->center ? p->beta : NULL, p->moving_mean, p->moving_variance,
                          p->shape.dims, p->shape.ndim, p->axis, 0.001, p->training);
}

/* Σ dout · y: its gradient with respect to anything is what backward computes. */
static double objective(const double *varied, size_t n, void *context)
{
    (void)varied; /* the problem's own array is the one being varied */
    (void)n;
    bn_problem *p = context;
    reference_forward(p);
    double total = 0.0;
    for (size_t i = 0; i < p->n; i++)
        total += p->dout[i] * p->y[i];
    return total;
}

/* A layer set up with the problem's weights (gamma, beta, moving statistics). */
static nn_layer *layer_for(const bn_problem *p, int axis_argument, const nn_tensor *x)
{
    nn_layer *layer = batchnorm(axis_argument, p->center, p->scale);
    build_and_reserve(layer, x);
    size_t c = (size_t)p->channels;
    if (p->scale)
        ts_to_float(param(layer, "gamma"), p->gamma, c);
    if (p->center)
        ts_to_float(param(layer, "beta"), p->beta, c);
    ts_to_float(param(layer, "moving_mean"), p->moving_mean, c);
    ts_to_float(param(layer, "moving_variance"), p->moving_variance, c);
    return layer;
}

static nn_tensor *tensor_of(const nn_shape *shape, const double *values)
{
    nn_tensor *t;
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, shape), NN_OK);
    ts_to_float(nn_tensor_f32(t), values, nn_tensor_count(t));
    return t;
}

/* Forward and backward of one configuration against the reference and finite
 * differences; logs the largest errors. */
static void check_configuration(const char *what, nn_shape shape, int axis, bool center,
                                bool scale, bool training, uint64_t seed)
{
    bn_problem p = make_problem(shape, axis, center, scale, training, seed);
    nn_tensor *x = tensor_of(&shape, p.x), *dout = tensor_of(&shape, p.dout);
    nn_tensor *y = empty_like(x), *dx = empty_like(x);
    nn_layer *layer = layer_for(&p, axis, x);
    nn_exec exec = {.backend = nn_backend_cpu(), .scratch = bn_scratch,
                    .scratch_floats = BN_SCRATCH, .training = training, .seed = 1, .step = 1};
    cr_assert_eq(layer->cls->forward(layer, &exec, x, y), NN_OK, "%s", nn_error_message());
    cr_assert_eq(layer->cls->backward(layer, &exec, x, y, dout, dx), NN_OK, "%s",
                 nn_error_message());
    char label[160];

    reference_forward(&p);
    ts_comparison c = ts_compare(nn_tensor_f32(y), p.y, p.n, 1e-5, 1e-5);
    snprintf(label, sizeof label, "%s: forward", what);
    ts_report(label, &c);
    cr_expect(c.ok, "%s", label);

    double *numeric = malloc(p.n * sizeof *numeric);
    ts_numeric_gradient(objective, &p, p.x, p.n, 1e-5, numeric);
    c = ts_compare(nn_tensor_f32(dx), numeric, p.n, 1e-5, 1e-3);
    snprintf(label, sizeof label, "%s: dx vs finite differences", what);
    ts_report(label, &c);
    cr_expect(c.ok, "%s", label);
    size_t channels = (size_t)p.channels;
    if (scale) {
        ts_numeric_gradient(objective, &p, p.gamma, channels, 1e-5, numeric);
        c = ts_compare(nn_tensor_f32(nn_layer_param(layer, "gamma")->grad), numeric, channels,
                       1e-5, 1e-3);
        snprintf(label, sizeof label, "%s: dgamma vs finite differences", what);
        ts_report(label, &c);
        cr_expect(c.ok, "%s", label);
    }
    if (center) {
        ts_numeric_gradient(objective, &p, p.beta, channels, 1e-5, numeric);
        c = ts_compare(nn_tensor_f32(nn_layer_param(layer, "beta")->grad), numeric, channels,
                       1e-5, 1e-3);
        snprintf(label, sizeof label, "%s: dbeta vs finite differences", what);
        ts_report(label, &c);
        cr_expect(c.ok, "%s", label);
    }
    free(numeric);
    nn_tensor_free(x);
    nn_tensor_free(dout);
    nn_tensor_free(y);
    nn_tensor_free(dx);
    nn_layer_release(layer);
    free_problem(&p);
}

Test(batchnorm, channels_last_forward_and_backward)
{
    check_configuration("bn axis -1 (4,3,3,5) training", NN_SHAPE(4, 3, 3, 5), -1, true, true,
                        true, 10);
    check_configuration("bn axis -1 (6,4) training", NN_SHAPE(6, 4), -1, true, true, true, 11);
    check_configuration("bn axis -1 (4,3,3,5) inference", NN_SHAPE(4, 3, 3, 5), -1, true, true,
                        false, 12);
}

Test(batchnorm, channels_first_and_middle_axes)
{
    check_configuration("bn axis 1 (3,4,3,3) training", NN_SHAPE(3, 4, 3, 3), 1, true, true,
                        true, 20);
    check_configuration("bn axis 1 (3,4,3,3) inference", NN_SHAPE(3, 4, 3, 3), 1, true, true,
                        false, 21);
    check_configuration("bn axis -2 (3,5,2) training", NN_SHAPE(3, 5, 2), -2, true, true, true,
                        22);
}

Test(batchnorm, center_and_scale_off)
{
    check_configuration("bn center off", NN_SHAPE(5, 2, 2, 3), -1, false, true, true, 30);
    check_configuration("bn scale off", NN_SHAPE(5, 2, 2, 3), -1, true, false, true, 31);
    check_configuration("bn center and scale off", NN_SHAPE(5, 2, 2, 3), 1, false, false, true,
                        32);
}

Test(batchnorm, weights_and_counts_follow_keras)
{
    nn_layer *layer = batchnorm(-1, true, true);
    nn_shape input = NN_SHAPE(-1, 28, 28, 32);
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK);
    cr_assert_str_eq(layer->name, "batch_normalization");
    const char *names[] = {"gamma", "beta", "moving_mean", "moving_variance"};
    const bool trainable[] = {true, true, false, false};
    cr_assert_eq(layer->param_count, 4);
    for (int i = 0; i < 4; i++) {
        cr_assert_str_eq(layer->params[i].name, names[i]);
        cr_assert_eq(layer->params[i].trainable, trainable[i], "%s", names[i]);
        cr_assert_eq(layer->params[i].shape.dims[0], 32);
        cr_assert_eq(layer->params[i].grad != NULL, trainable[i], "%s", names[i]);
    }
    cr_assert_eq(nn_layer_count_params(layer, true), 64);
    cr_assert_eq(nn_layer_count_params(layer, false), 64);
    cr_assert(param(layer, "gamma")[5] == 1.0f && param(layer, "beta")[5] == 0.0f &&
              param(layer, "moving_mean")[5] == 0.0f && param(layer, "moving_variance")[5] == 1.0f);
    cr_assert(strstr(layer->explanation, "4 x 32 = 128"), "%s", layer->explanation);
    nn_layer_release(layer);

    layer = batchnorm(-1, false, true);
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK);
    cr_assert_eq(nn_layer_count_params(layer, true), 32);
    cr_assert_eq(nn_layer_count_params(layer, false), 64);
    nn_layer_release(layer);
}

Test(batchnorm, frozen_layer_runs_in_inference_mode)
{
    nn_tensor *x = uniform_tensor(NN_SHAPE(8, 6), 40, -2.0f, 2.0f);
    nn_layer *layer = batchnorm(-1, true, true), *reference = batchnorm(-1, true, true);
    layer->trainable = false;
    nn_tensor *y = empty_like(x), *z = empty_like(x);
    forward(layer, x, y, true);
    forward(reference, x, z, false);
    cr_assert(memcmp(nn_tensor_data(y), nn_tensor_data(z), nn_tensor_bytes(x)) == 0);
    cr_assert_eq(param(layer, "moving_mean")[0], 0.0f);
    cr_assert_eq(param(layer, "moving_variance")[0], 1.0f);
    nn_tensor_free(x);
    nn_tensor_free(y);
    nn_tensor_free(z);
    nn_layer_release(layer);
    nn_layer_release(reference);
}

Test(batchnorm, results_do_not_depend_on_the_thread_count)
{
    const int axes[] = {-1, 1};
    for (int k = 0; k < 2; k++) {
        nn_tensor *x = uniform_tensor(NN_SHAPE(64, 16, 16, 8), 50, -1.0f, 4.0f);
        nn_tensor *dout = uniform_tensor(NN_SHAPE(64, 16, 16, 8), 51, -1.0f, 1.0f);
        nn_tensor *y[2], *dx[2];
        float dgamma[2][16], moving[2][16];
        int threads = omp_get_max_threads();
        for (int run = 0; run < 2; run++) {
            omp_set_num_threads(run == 0 ? 1 : (threads > 1 ? threads : 2));
            nn_layer *layer = batchnorm(axes[k], true, true);
            y[run] = empty_like(x);
            dx[run] = empty_like(x);
            forward(layer, x, y[run], true);
            nn_exec exec = {.backend = nn_backend_cpu(), .scratch = bn_scratch,
                            .scratch_floats = BN_SCRATCH, .training = true};
            cr_assert_eq(layer->cls->backward(layer, &exec, x, y[run], dout, dx[run]), NN_OK);
            int64_t channels = x->shape.dims[axes[k] < 0 ? 3 : 1];
            memcpy(dgamma[run], nn_tensor_f32(nn_layer_param(layer, "gamma")->grad),
                   (size_t)channels * sizeof(float));
            memcpy(moving[run], param(layer, "moving_variance"), (size_t)channels * sizeof(float));
            nn_layer_release(layer);
        }
        omp_set_num_threads(threads);
        size_t channels = (size_t)x->shape.dims[axes[k] < 0 ? 3 : 1];
        cr_assert(memcmp(nn_tensor_data(y[0]), nn_tensor_data(y[1]), nn_tensor_bytes(x)) == 0);
        cr_assert(memcmp(nn_tensor_data(dx[0]), nn_tensor_data(dx[1]), nn_tensor_bytes(x)) == 0);
        cr_assert(memcmp(dgamma[0], dgamma[1], channels * sizeof(float)) == 0);
        cr_assert(memcmp(moving[0], moving[1], channels * sizeof(float)) == 0);
        for (int run = 0; run < 2; run++) {
            nn_tensor_free(y[run]);
            nn_tensor_free(dx[run]);
        }
        nn_tensor_free(x);
        nn_tensor_free(dout);
    }
}

Test(batchnorm, bad_axes_and_arguments_are_rejected)
{
    nn_tensor *x = uniform_tensor(NN_SHAPE(2, 3, 3, 4), 60, 0.0f, 1.0f), *y;
    const int axes[] = {4, -5, 0, -4};
    const char *messages[] = {"invalid axis 4", "invalid axis -5", "batch axis",
                              "batch axis"};
    for (int i = 0; i < 4; i++) {
        nn_layer *layer = batchnorm(axes[i], true, true);
        cr_assert_eq(nn_layer_call(layer, x, true, &y), NN_ERR_SHAPE, "axis %d", axes[i]);
        cr_assert(strstr(nn_error_message(), messages[i]), "%s", nn_error_message());
        cr_assert(strstr(nn_error_message(), "(None, 3, 3, 4)"), "%s", nn_error_message());
        nn_layer_release(layer);
    }
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, &nn_batchnorm_class), NN_OK);
    *(float *)arg(layer, "momentum") = 1.5f;
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    *(float *)arg(layer, "momentum") = 0.9f;
    *(float *)arg(layer, "epsilon") = 0.0f;
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "epsilon"), "%s", nn_error_message());
    *(float *)arg(layer, "epsilon") = 1e-3f;
    *(bool *)arg(layer, "synchronized") = true; /* accepted, no effect on one device */
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    cr_assert_eq(nn_layer_call(layer, x, true, &y), NN_OK);
    nn_tensor_free(y);
    nn_layer_release(layer);
    nn_tensor_free(x);
    cr_assert_eq(nn_layer_class_find("BatchNormalization"), &nn_batchnorm_class);
}
