/* Initializers: Keras' bounds and moments for every kind, fans for 1-D, 2-D and 4-D
 * shapes, repeatability from (seed, stream), names and aliases. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"
#include "ref_core.h"

typedef struct moments {
    double mean, stddev, max_abs;
} moments;

static moments moments_of(const float *w, size_t n)
{
    double sum = 0.0, squares = 0.0, max_abs = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += w[i];
        max_abs = fmax(max_abs, fabs((double)w[i]));
    }
    double mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        squares += ((double)w[i] - mean) * ((double)w[i] - mean);
    return (moments){mean, sqrt(squares / (double)n), max_abs};
}

/* A filled tensor of `shape` from the initializer named `name`. */
static nn_tensor *filled(const char *name, nn_shape shape, uint64_t seed, uint64_t stream)
{
    nn_initializer initializer;
    cr_assert_eq(nn_initializer_parse(name, &initializer), NN_OK, "%s", nn_error_message());
    nn_tensor *t;
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &shape), NN_OK);
    cr_assert_eq(nn_initializer_fill(&initializer, t, seed, stream), NN_OK, "%s",
                 nn_error_message());
    return t;
}

static double fan_of(nn_shape shape, const char *mode)
{
    double fan_in, fan_out;
    ref_fans(shape.dims, shape.ndim, &fan_in, &fan_out);
    if (strcmp(mode, "in") == 0)
        return fan_in;
    return (fan_in + fan_out) / 2.0;
}

Test(initializers, glorot_uniform_bound_for_a_conv_kernel)
{
    /* fan_in = 3*3*1 = 9, fan_out = 3*3*32 = 288: L = sqrt(6 / 297). */
    nn_shape shape = NN_SHAPE(3, 3, 1, 32);
    double limit = sqrt(6.0 / (9.0 + 288.0));
    nn_tensor *t = filled("glorot_uniform", shape, 7, 1);
    moments m = moments_of(nn_tensor_f32(t), nn_tensor_count(t));
    fprintf(stderr, "[init] glorot_uniform (3,3,1,32): max |w| %.6f, limit %.6f\n", m.max_abs,
            limit);
    cr_assert(m.max_abs <= limit, "max |w| %.9f exceeds the limit %.9f", m.max_abs, limit);
    cr_assert(m.max_abs > 0.95 * limit, "max |w| %.6f is far below the limit %.6f", m.max_abs,
              limit);
    nn_tensor_free(t);
}

/* Uniform kinds: |w| <= limit, stddev = limit / sqrt(3), on a large tensor. */
static void check_uniform(const char *name, nn_shape shape, double limit)
{
    nn_tensor *t = filled(name, shape, 11, 3);
    moments m = moments_of(nn_tensor_f32(t), nn_tensor_count(t));
    double expected_stddev = limit / sqrt(3.0);
    fprintf(stderr, "[init] %-16s mean %+.2e stddev %.6f (expected %.6f) max %.6f (limit %.6f)\n",
            name, m.mean, m.stddev, expected_stddev, m.max_abs, limit);
    cr_assert(m.max_abs <= limit, "%s: max |w| %.9g > limit %.9g", name, m.max_abs, limit);
    cr_assert(m.max_abs > 0.999 * limit, "%s: max |w| %.9g far below %.9g", name, m.max_abs,
              limit);
    cr_assert(fabs(m.stddev / expected_stddev - 1.0) < 0.02, "%s: stddev %.6g, expected %.6g",
              name, m.stddev, expected_stddev);
    cr_assert(fabs(m.mean) < 0.02 * expected_stddev, "%s: mean %.3g", name, m.mean);
    nn_tensor_free(t);
}

/* Truncated-normal kinds: never beyond 2 stddev of the underlying normal, and the
 * truncated distribution's stddev (0.8796 of it). */
static void check_truncated(const char *name, nn_shape shape, double underlying_stddev)
{
    nn_tensor *t = filled(name, shape, 13, 5);
    moments m = moments_of(nn_tensor_f32(t), nn_tensor_count(t));
    double expected = underlying_stddev * 0.87962566103423978;
    double bound = 2.0 * underlying_stddev;
    fprintf(stderr, "[init] %-16s mean %+.2e stddev %.6f (expected %.6f) max %.6f (bound %.6f)\n",
            name, m.mean, m.stddev, expected, m.max_abs, bound);
    cr_assert(m.max_abs <= bound * (1.0 + 1e-6), "%s: max |w| %.9g beyond 2 stddev %.9g", name,
              m.max_abs, bound);
    cr_assert(m.max_abs > 0.99 * bound, "%s: max |w| %.6g, expected near %.6g", name,
              m.max_abs, bound);
    cr_assert(fabs(m.stddev / expected - 1.0) < 0.02, "%s: stddev %.6g, expected %.6g", name,
              m.stddev, expected);
    cr_assert(fabs(m.mean) < 0.02 * expected, "%s: mean %.3g", name, m.mean);
    nn_tensor_free(t);
}

Test(initializers, variance_scaling_uniform_kinds)
{
    nn_shape conv = NN_SHAPE(3, 3, 64, 128);
    check_uniform("glorot_uniform", conv, sqrt(3.0 / fan_of(conv, "avg")));
    check_uniform("he_uniform", conv, sqrt(6.0 / fan_of(conv, "in")));
    check_uniform("lecun_uniform", conv, sqrt(3.0 / fan_of(conv, "in")));
    nn_shape dense = NN_SHAPE(300, 200);
    check_uniform("glorot_uniform", dense, sqrt(6.0 / 500.0));
    check_uniform("he_uniform", dense, sqrt(6.0 / 300.0));
}

Test(initializers, variance_scaling_normal_kinds_are_truncated)
{
    nn_shape dense = NN_SHAPE(256, 512);
    /* he_normal: the truncated draw has stddev sqrt(2 / fan_in). */
    check_truncated("he_normal", dense, sqrt(2.0 / 256.0) / 0.87962566103423978);
    check_truncated("lecun_normal", dense, sqrt(1.0 / 256.0) / 0.87962566103423978);
    check_truncated("glorot_normal", dense, sqrt(2.0 / 768.0) / 0.87962566103423978);
    nn_shape conv = NN_SHAPE(3, 3, 32, 64);
    check_truncated("he_normal", conv, sqrt(2.0 / 288.0) / 0.87962566103423978);
}

Test(initializers, he_normal_stddev_is_sqrt_two_over_fan_in)
{
    nn_shape shape = NN_SHAPE(400, 300);
    nn_tensor *t = filled("he_normal", shape, 21, 2);
    moments m = moments_of(nn_tensor_f32(t), nn_tensor_count(t));
    double expected = sqrt(2.0 / 400.0);
    cr_assert(fabs(m.stddev / expected - 1.0) < 0.01, "he_normal stddev %.6g, expected %.6g",
              m.stddev, expected);
    nn_tensor_free(t);
}

Test(initializers, keras_default_random_kinds)
{
    nn_shape shape = NN_SHAPE(200000);
    check_uniform("random_uniform", shape, 0.05);
    check_truncated("truncated_normal", shape, 0.05);
    nn_tensor *t = filled("random_normal", shape, 3, 9);
    moments m = moments_of(nn_tensor_f32(t), nn_tensor_count(t));
    cr_assert(fabs(m.stddev / 0.05 - 1.0) < 0.01, "random_normal stddev %.6g", m.stddev);
    cr_assert(fabs(m.mean) < 1e-3, "random_normal mean %.3g", m.mean);
    cr_assert(m.max_abs > 4.0 * 0.05, "random_normal is not truncated: max %.4g", m.max_abs);
    nn_tensor_free(t);
}

Test(initializers, arguments_change_the_distribution)
{
    nn_initializer normal = nn_initializer_default(NN_INITIALIZER_RANDOM_NORMAL);
    normal.a = 3.0;
    normal.b = 0.5;
    nn_shape shape = NN_SHAPE(100000);
    nn_tensor *t;
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &shape), NN_OK);
    cr_assert_eq(nn_initializer_fill(&normal, t, 1, 1), NN_OK);
    moments m = moments_of(nn_tensor_f32(t), nn_tensor_count(t));
    cr_assert(fabs(m.mean - 3.0) < 0.01 && fabs(m.stddev - 0.5) < 0.01, "mean %g stddev %g",
              m.mean, m.stddev);
    nn_initializer uniform = nn_initializer_default(NN_INITIALIZER_RANDOM_UNIFORM);
    uniform.a = 2.0;
    uniform.b = 4.0;
    cr_assert_eq(nn_initializer_fill(&uniform, t, 1, 1), NN_OK);
    float *w = nn_tensor_f32(t);
    float low = w[0], high = w[0];
    for (size_t i = 0; i < nn_tensor_count(t); i++) {
        low = fminf(low, w[i]);
        high = fmaxf(high, w[i]);
    }
    cr_assert(low >= 2.0f && high <= 4.0f && low < 2.01f && high > 3.99f, "range [%g, %g]",
              (double)low, (double)high);
    uniform.a = 5.0; /* minval > maxval */
    cr_assert_eq(nn_initializer_fill(&uniform, t, 1, 1), NN_ERR_ARGUMENT);
    nn_tensor_free(t);
}

Test(initializers, constant_zeros_and_ones_are_exact)
{
    nn_shape shape = NN_SHAPE(7, 5);
    nn_tensor *t = filled("ones", shape, 1, 1);
    for (size_t i = 0; i < 35; i++)
        cr_assert_eq(nn_tensor_f32(t)[i], 1.0f);
    nn_tensor_free(t);
    t = filled("zeros", shape, 1, 1);
    for (size_t i = 0; i < 35; i++)
        cr_assert_eq(nn_tensor_f32(t)[i], 0.0f);
    nn_initializer constant = nn_initializer_default(NN_INITIALIZER_CONSTANT);
    constant.a = -2.25;
    cr_assert_eq(nn_initializer_fill(&constant, t, 1, 1), NN_OK);
    for (size_t i = 0; i < 35; i++)
        cr_assert_eq(nn_tensor_f32(t)[i], -2.25f);
    nn_tensor_free(t);
}

Test(initializers, same_seed_and_stream_give_the_same_numbers)
{
    nn_shape shape = NN_SHAPE(3, 3, 8, 16);
    const char *kinds[] = {"glorot_uniform", "he_normal", "random_normal", "truncated_normal"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        nn_tensor *a = filled(kinds[k], shape, 42, 7);
        nn_tensor *b = filled(kinds[k], shape, 42, 7);
        nn_tensor *c = filled(kinds[k], shape, 42, 8);
        cr_assert(memcmp(nn_tensor_data(a), nn_tensor_data(b), nn_tensor_bytes(a)) == 0,
                  "%s: same seed and stream differ", kinds[k]);
        cr_assert(memcmp(nn_tensor_data(a), nn_tensor_data(c), nn_tensor_bytes(a)) != 0,
                  "%s: another stream gave the same numbers", kinds[k]);
        nn_tensor_free(a);
        nn_tensor_free(b);
        nn_tensor_free(c);
    }
}

Test(initializers, own_seed_pins_the_numbers)
{
    nn_initializer initializer = nn_initializer_default(NN_INITIALIZER_GLOROT_UNIFORM);
    initializer.has_seed = true;
    initializer.seed = 1234;
    nn_shape shape = NN_SHAPE(10, 10);
    nn_tensor *a, *b;
    cr_assert_eq(nn_tensor_create(&a, NN_DTYPE_F32, &shape), NN_OK);
    cr_assert_eq(nn_tensor_create(&b, NN_DTYPE_F32, &shape), NN_OK);
    cr_assert_eq(nn_initializer_fill(&initializer, a, 1, 1), NN_OK);
    cr_assert_eq(nn_initializer_fill(&initializer, b, 99, 77), NN_OK);
    cr_assert(memcmp(nn_tensor_data(a), nn_tensor_data(b), nn_tensor_bytes(a)) == 0);
    nn_tensor_free(a);
    nn_tensor_free(b);
}

Test(initializers, fans_follow_keras_for_each_rank)
{
    double fan_in, fan_out;
    ref_fans(NN_SHAPE(3, 3, 1, 32).dims, 4, &fan_in, &fan_out);
    cr_assert(fan_in == 9.0 && fan_out == 288.0);
    /* A vector uses its length for both fans: glorot_uniform limit sqrt(6 / (2n)). */
    nn_shape vector = NN_SHAPE(50000);
    check_uniform("glorot_uniform", vector, sqrt(6.0 / 100000.0));
    /* A scalar has fans of 1. */
    nn_shape scalar = {.ndim = 0};
    nn_tensor *t = filled("he_uniform", scalar, 1, 1);
    cr_assert(fabsf(nn_tensor_f32(t)[0]) <= (float)sqrt(6.0));
    nn_tensor_free(t);
}

Test(initializers, names_and_aliases)
{
    static const struct {
        const char *name;
        nn_initializer_kind kind;
    } cases[] = {
        {"glorot_uniform", NN_INITIALIZER_GLOROT_UNIFORM},
        {"GlorotUniform", NN_INITIALIZER_GLOROT_UNIFORM},
        {"HeNormal", NN_INITIALIZER_HE_NORMAL},
        {"uniform", NN_INITIALIZER_RANDOM_UNIFORM},
        {"normal", NN_INITIALIZER_RANDOM_NORMAL},
        {"zero", NN_INITIALIZER_ZEROS},
        {"Ones", NN_INITIALIZER_ONES},
        {"lecun_normal", NN_INITIALIZER_LECUN_NORMAL},
        {"TruncatedNormal", NN_INITIALIZER_TRUNCATED_NORMAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nn_initializer initializer;
        cr_assert_eq(nn_initializer_parse(cases[i].name, &initializer), NN_OK, "%s",
                     cases[i].name);
        cr_assert_eq(initializer.kind, cases[i].kind, "%s", cases[i].name);
    }
    nn_initializer uniform;
    nn_initializer_parse("random_uniform", &uniform);
    cr_assert(uniform.a == -0.05 && uniform.b == 0.05, "Keras defaults minval/maxval");
    for (int kind = 0; kind < NN_INITIALIZER_COUNT; kind++) {
        nn_initializer back;
        cr_assert_eq(nn_initializer_parse(nn_initializer_name((nn_initializer_kind)kind), &back),
                     NN_OK);
        cr_assert_eq((int)back.kind, kind);
    }
    int count = 0;
    for (const char *const *name = nn_initializer_names(); *name; name++)
        count++;
    cr_assert_eq(count, NN_INITIALIZER_COUNT);
}

Test(initializers, unknown_names_list_the_valid_ones)
{
    nn_initializer initializer;
    cr_assert_eq(nn_initializer_parse("glorot_uniformm", &initializer), NN_ERR_ARGUMENT);
    const char *message = nn_error_message();
    cr_assert(strstr(message, "'glorot_uniformm'") && strstr(message, "'he_normal'") &&
                  strstr(message, "'zeros'"),
              "%s", message);
}

Test(initializers, non_float_tensors_are_rejected)
{
    nn_shape shape = NN_SHAPE(4);
    nn_tensor *t;
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_I32, &shape), NN_OK);
    nn_initializer initializer = nn_initializer_default(NN_INITIALIZER_ONES);
    cr_assert_eq(nn_initializer_fill(&initializer, t, 1, 1), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "int32"), "%s", nn_error_message());
    nn_tensor_free(t);
}

/* Q·Qᵀ or Qᵀ·Q (whichever side is the smaller) of a (rows, cols) matrix, against the
 * identity times gain²: the largest difference. */
static double orthogonality_error(const float *q, size_t rows, size_t cols, double gain)
{
    size_t small = rows < cols ? rows : cols, large = rows < cols ? cols : rows;
    double worst = 0.0;
    for (size_t a = 0; a < small; a++)
        for (size_t b = 0; b < small; b++) {
            double dot = 0.0;
            for (size_t k = 0; k < large; k++)
                dot += rows >= cols ? (double)q[k * cols + a] * q[k * cols + b]
                                    : (double)q[a * cols + k] * q[b * cols + k];
            worst = fmax(worst, fabs(dot - (a == b ? gain * gain : 0.0)));
        }
    return worst;
}

Test(initializers, orthogonal_gives_orthonormal_rows_or_columns_times_gain)
{
    /* Tall (recurrent kernels are square; a (3, 4, 8) kernel is 12 rows of 8), square and
     * wide matrices. */
    const struct {
        nn_shape shape;
        size_t rows, cols;
    } cases[] = {
        {NN_SHAPE(16, 16), 16, 16},
        {NN_SHAPE(3, 4, 8), 12, 8},
        {NN_SHAPE(5, 20), 5, 20},
        {NN_SHAPE(32, 128), 32, 128},
        {NN_SHAPE(600, 200), 600, 200}, /* large enough for LAPACK's blocked QR */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nn_tensor *t = filled("orthogonal", cases[i].shape, 7, 3);
        double error = orthogonality_error(nn_tensor_f32(t), cases[i].rows, cases[i].cols, 1.0);
        cr_assert(error < 1e-5, "case %zu: %g", i, error);
        nn_tensor *again = filled("Orthogonal", cases[i].shape, 7, 3);
        cr_assert(memcmp(nn_tensor_f32(t), nn_tensor_f32(again),
                         nn_tensor_count(t) * sizeof(float)) == 0, "repeatable");
        nn_tensor_free(again);
        nn_tensor_free(t);
    }
    nn_initializer initializer;
    cr_assert_eq(nn_initializer_parse("orthogonal", &initializer), NN_OK);
    cr_assert(initializer.a == 1.0, "gain 1 by default");
    initializer.a = 0.5;
    nn_shape shape = NN_SHAPE(6, 6);
    nn_tensor *t;
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &shape), NN_OK);
    cr_assert_eq(nn_initializer_fill(&initializer, t, 1, 1), NN_OK);
    cr_assert(orthogonality_error(nn_tensor_f32(t), 6, 6, 0.5) < 1e-6);
    /* A (2, 2) draw is not orthogonal before the process (the check can fail). */
    nn_tensor *normal = filled("random_normal", NN_SHAPE(2, 2), 1, 1);
    cr_assert(orthogonality_error(nn_tensor_f32(normal), 2, 2, 1.0) > 0.5);
    nn_tensor_free(normal);
    nn_tensor_free(t);
}

Test(initializers, orthogonal_refuses_vectors)
{
    nn_shape shape = NN_SHAPE(8);
    nn_tensor *t;
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &shape), NN_OK);
    nn_initializer initializer = nn_initializer_default(NN_INITIALIZER_ORTHOGONAL);
    cr_assert_eq(nn_initializer_fill(&initializer, t, 1, 1), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "matrix"), "%s", nn_error_message());
    nn_tensor_free(t);
}
