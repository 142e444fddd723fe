/* The CUDA kernels' bodies (engine/cuda/bodies), run on the CPU over every index as a
 * GPU grid would, against the CPU backend on the same inputs. Where the body does the
 * same arithmetic in the same order the results must match bit for bit (activations,
 * layouts, pooling, dropout, optimizer steps, constraints); where it sums in another
 * order (slices) they must match to rounding. This checks the indexing, edge cases and
 * rounding of every CUDA kernel on machines without a GPU; tests/gpu runs the kernels
 * themselves where there is one. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_kernels.h"
#include "cuda/bodies/affine_body.h"
#include "cuda/bodies/batchnorm_body.h"
#include "cuda/bodies/dropout_body.h"
#include "cuda/bodies/elementwise_body.h"
#include "cuda/bodies/embedding_body.h"
#include "cuda/bodies/loss_body.h"
#include "cuda/bodies/pool_body.h"
#include "cuda/bodies/update_body.h"
#include "random.h"
#include "ref_conv.h"
#include "test_support.h"

/* Bit-for-bit equality; NaN equals NaN. */
static void expect_identical(const float *actual, const float *expected, size_t n,
                             const char *what)
{
    for (size_t i = 0; i < n; i++) {
        bool both_nan = isnan(actual[i]) && isnan(expected[i]);
        if (!both_nan && memcmp(&actual[i], &expected[i], sizeof(float)) != 0)
            cr_assert_fail("%s: element %zu: expected %.9g (CPU backend), got %.9g (CUDA body)",
                           what, i, (double)expected[i], (double)actual[i]);
    }
}

/* |actual - expected| <= tolerance · max(1, max |expected|): a normalised error. */
static void expect_close(const float *actual, const float *expected, size_t n, double tolerance,
                         const char *what)
{
    double scale = 1.0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs((double)expected[i]));
    for (size_t i = 0; i < n; i++) {
        double error = fabs((double)actual[i] - (double)expected[i]);
        if (!(error <= tolerance * scale) && !(isnan(actual[i]) && isnan(expected[i])))
            cr_assert_fail("%s: element %zu: expected %.9g (CPU backend), got %.9g (CUDA body), "
                           "normalised error %.3g > %.3g",
                           what, i, (double)expected[i], (double)actual[i], error / scale,
                           tolerance);
    }
}

static float *floats(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    cr_assert(p);
    return p;
}

static float *random_floats(size_t n, uint64_t seed, float low, float high)
{
    float *p = floats(n);
    ts_fill_uniform(p, n, seed, low, high);
    return p;
}

/* ---- activations ---- */

Test(cuda_bodies, every_activation_matches_the_cpu_forward_and_backward)
{
    enum { ROWS = 7, WIDTH = 13, N = ROWS * WIDTH };
    float *x = random_floats(N, 1, -6.0f, 6.0f);
    x[0] = 0.0f;
    x[1] = -0.0f;
    x[2] = 6.0f;
    float *dy = random_floats(N, 2, -1.0f, 1.0f);
    float *expected = floats(N), *actual = floats(N), *dexpected = floats(N), *dactual = floats(N);
    for (int kind = 0; kind < NN_ACTIVATION_COUNT; kind++) {
        nn_activation activation = nn_activation_default((nn_activation_kind)kind);
        char what[64];
        snprintf(what, sizeof what, "%s forward", nn_activation_name(activation.kind));
        nn_activation_forward(activation, expected, x, N, WIDTH);
        if (kind == NN_ACTIVATION_SOFTMAX) {
            for (size_t r = 0; r < ROWS; r++)
                nn_body_softmax_row(actual + r * WIDTH, x + r * WIDTH, WIDTH);
        } else if (kind == NN_ACTIVATION_LOG_SOFTMAX) {
            for (size_t r = 0; r < ROWS; r++)
                nn_body_log_softmax_row(actual + r * WIDTH, x + r * WIDTH, WIDTH);
        } else {
            memcpy(actual, x, sizeof(float) * N);
            for (size_t i = 0; i < N; i++)
                nn_body_bias_activate(actual, NULL, WIDTH, activation.kind, activation.alpha, i);
        }
        expect_identical(actual, expected, N, what);

        snprintf(what, sizeof what, "%s backward", nn_activation_name(activation.kind));
        nn_activation_backward(activation, dexpected, dy, x, expected, N, WIDTH);
        if (kind == NN_ACTIVATION_SOFTMAX) {
            for (size_t r = 0; r < ROWS; r++)
                nn_body_softmax_backward_row(dactual + r * WIDTH, dy + r * WIDTH,
                                             expected + r * WIDTH, WIDTH);
        } else if (kind == NN_ACTIVATION_LOG_SOFTMAX) {
            for (size_t r = 0; r < ROWS; r++)
                nn_body_log_softmax_backward_row(dactual + r * WIDTH, dy + r * WIDTH,
                                                 expected + r * WIDTH, WIDTH);
        } else {
            for (size_t i = 0; i < N; i++)
                dactual[i] = dy[i] * nn_body_activation_derivative(activation.kind,
                                                                   activation.alpha, x[i],
                                                                   expected[i]);
        }
        expect_identical(dactual, dexpected, N, what);
    }
    free(x), free(dy), free(expected), free(actual), free(dexpected), free(dactual);
}

Test(cuda_bodies, bias_then_activation_equals_the_dense_kernel_epilogue)
{
    enum { ROWS = 5, WIDTH = 9, N = ROWS * WIDTH };
    float *out = random_floats(N, 3, -2.0f, 2.0f), *bias = random_floats(WIDTH, 4, -1, 1);
    float *expected = floats(N);
    for (size_t i = 0; i < N; i++)
        expected[i] = out[i] + bias[i % WIDTH];
    nn_activation relu = nn_activation_default(NN_ACTIVATION_RELU);
    nn_activation_forward(relu, expected, expected, N, WIDTH);
    for (size_t i = 0; i < N; i++)
        nn_body_bias_activate(out, bias, WIDTH, relu.kind, relu.alpha, i);
    expect_identical(out, expected, N, "bias + relu");
    free(out), free(bias), free(expected);
}

/* ---- layouts, kernel order, padding, column sums ---- */

Test(cuda_bodies, channel_transposes_match_the_cpu_layout_functions)
{
    enum { B = 2, C = 5, S = 7, N = B * C * S };
    float *inp = random_floats(N, 5, -1, 1), *expected = floats(N), *actual = floats(N);
    nn_backend_cpu()->to_channels_last(expected, inp, B, C, S);
    for (size_t i = 0; i < N; i++)
        nn_body_to_channels_last(actual, inp, C, S, i);
    expect_identical(actual, expected, N, "to_channels_last");
    nn_backend_cpu()->to_channels_first(expected, inp, B, C, S);
    for (size_t i = 0; i < N; i++)
        nn_body_to_channels_first(actual, inp, C, S, i);
    expect_identical(actual, expected, N, "to_channels_first");
    free(inp), free(expected), free(actual);
}

Test(cuda_bodies, kernel_goes_to_cudnn_order_and_back)
{
    enum { KH = 3, KW = 2, CG = 4, OC = 5, N = KH * KW * CG * OC };
    float *keras = random_floats(N, 6, -1, 1), *cudnn = floats(N), *back = floats(N);
    for (size_t i = 0; i < N; i++)
        nn_body_kernel_to_cudnn(cudnn, keras, KH, KW, CG, OC, i);
    /* cuDNN's (OC, KH, KW, Cg) element (oc, kh, kw, cg) is Keras' (kh, kw, cg, oc). */
    for (int oc = 0; oc < OC; oc++)
        for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++)
                for (int cg = 0; cg < CG; cg++)
                    cr_assert_eq(cudnn[((oc * KH + kh) * KW + kw) * CG + cg],
                                 keras[((kh * KW + kw) * CG + cg) * OC + oc],
                                 "kernel element (%d, %d, %d, %d) misplaced", kh, kw, cg, oc);
    for (size_t i = 0; i < N; i++)
        nn_body_kernel_from_cudnn(back, cudnn, KH, KW, CG, OC, i);
    expect_identical(back, keras, N, "kernel round trip");
    free(keras), free(cudnn), free(back);
}

Test(cuda_bodies, padding_places_the_input_and_cropping_takes_it_back)
{
    /* 'same' with stride 2 on an even size: one cell after, none before. Also a padded
     * size smaller than the input plus padding (rows no window reads are dropped). */
    const struct { int height, width, padded_height, padded_width, pad_top, pad_left; } cases[] = {
        {6, 6, 7, 7, 0, 0}, {5, 4, 7, 6, 1, 1}, {6, 5, 5, 6, 0, 1},
    };
    enum { B = 2, C = 3 };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nn_body_padding p = {C, cases[k].height, cases[k].width, cases[k].padded_height,
                             cases[k].padded_width, cases[k].pad_top, cases[k].pad_left};
        size_t n = (size_t)(B * p.height * p.width * C);
        size_t padded_n = (size_t)(B * p.padded_height * p.padded_width * C);
        float *inp = random_floats(n, 7 + k, -1, 1), *padded = floats(padded_n), *back = floats(n);
        for (size_t i = 0; i < padded_n; i++)
            nn_body_pad(padded, inp, p, i);
        for (int b = 0; b < B; b++)
            for (long hp = 0; hp < p.padded_height; hp++)
                for (long wp = 0; wp < p.padded_width; wp++)
                    for (int c = 0; c < C; c++) {
                        long h = hp - p.pad_top, w = wp - p.pad_left;
                        bool inside = h >= 0 && h < p.height && w >= 0 && w < p.width;
                        float want = inside ? inp[((b * p.height + h) * p.width + w) * C + c] : 0.0f;
                        cr_assert_eq(padded[((b * p.padded_height + hp) * p.padded_width + wp) * C + c],
                                     want, "case %zu: padded cell (%d, %ld, %ld, %d)", k, b, hp, wp, c);
                    }
        for (size_t i = 0; i < n; i++)
            nn_body_crop(back, padded, p, i);
        for (int b = 0; b < B; b++)
            for (long h = 0; h < p.height; h++)
                for (long w = 0; w < p.width; w++)
                    for (int c = 0; c < C; c++) {
                        bool kept = h + p.pad_top < p.padded_height && w + p.pad_left < p.padded_width;
                        size_t i = (size_t)(((b * p.height + h) * p.width + w) * C + c);
                        cr_assert_eq(back[i], kept ? inp[i] : 0.0f, "case %zu: cropped cell %zu", k, i);
                    }
        free(inp), free(padded), free(back);
    }
}

Test(cuda_bodies, column_sums_match_the_dense_bias_gradient)
{
    enum { ROWS = 33, WIDTH = 6 };
    float *dout = random_floats(ROWS * WIDTH, 8, -1, 1), *expected = floats(WIDTH);
    float *actual = floats(WIDTH), *sliced = floats(WIDTH);
    float *inp = random_floats(ROWS * 2, 9, -1, 1), *kernel = random_floats(2 * WIDTH, 10, -1, 1);
    nn_cpu_dense_backward(NULL, NULL, expected, dout, inp, kernel, ROWS, 2, WIDTH);
    for (size_t column = 0; column < WIDTH; column++)
        nn_body_column_sum(actual, dout, ROWS, WIDTH, column);
    expect_identical(actual, expected, WIDTH, "dense bias gradient");
    /* Sliced in double: to rounding of the float result. */
    const size_t slices = 4;
    double partials[4 * WIDTH];
    for (size_t t = 0; t < slices * WIDTH; t++)
        nn_body_column_partial(partials, dout, ROWS, WIDTH, slices, t);
    for (size_t column = 0; column < WIDTH; column++)
        nn_body_column_combine(sliced, partials, WIDTH, slices, column);
    expect_close(sliced, expected, WIDTH, 1e-6, "sliced bias gradient");
    free(dout), free(expected), free(actual), free(sliced), free(inp), free(kernel);
}

/* ---- pooling ---- */

/* Pools of several sizes, strides and paddings over odd and even images. */
static const struct {
    int height, width, pool, stride;
    bool same;
} pool_cases[] = {
    {8, 8, 2, 2, false}, {7, 9, 3, 2, true}, {5, 5, 3, 1, true},
    {6, 7, 2, 1, false}, {9, 6, 4, 3, true}, {4, 4, 5, 1, true},
};

static nn_pool2d_geometry pool_case_geometry(size_t k)
{
    return ref_pool_geometry(2, pool_cases[k].height, pool_cases[k].width, 3, pool_cases[k].pool,
                             pool_cases[k].stride, pool_cases[k].same);
}

Test(cuda_bodies, max_pooling_matches_the_cpu_values_winners_and_gradients)
{
    for (size_t k = 0; k < sizeof pool_cases / sizeof pool_cases[0]; k++) {
        nn_pool2d_geometry g = pool_case_geometry(k);
        size_t in_n = (size_t)(g.batch * g.in_height * g.in_width * g.channels);
        size_t out_n = (size_t)(g.batch * g.out_height * g.out_width * g.channels);
        float *inp = random_floats(in_n, 11 + k, -1, 1);
        /* Ties (rounded values) and a NaN exercise the first-wins rule. */
        for (size_t i = 0; i < in_n; i++)
            inp[i] = roundf(inp[i] * 2.0f) / 2.0f;
        inp[in_n / 2] = NAN;
        float *expected = floats(out_n), *actual = floats(out_n);
        int32_t *expected_argmax = calloc(out_n, sizeof(int32_t));
        int32_t *actual_argmax = calloc(out_n, sizeof(int32_t));
        nn_cpu_maxpool2d_forward(expected, expected_argmax, inp, &g);
        for (size_t i = 0; i < out_n; i++)
            nn_body_maxpool_forward(actual, actual_argmax, inp, g, i);
        expect_identical(actual, expected, out_n, "maxpool forward");
        for (size_t i = 0; i < out_n; i++)
            cr_assert_eq(actual_argmax[i], expected_argmax[i],
                         "case %zu: winner of output %zu: expected %d, got %d", k, i,
                         expected_argmax[i], actual_argmax[i]);

        float *dout = random_floats(out_n, 21 + k, -1, 1);
        float *dexpected = floats(in_n), *dactual = floats(in_n);
        nn_cpu_maxpool2d_backward(dexpected, dout, expected_argmax, &g);
        for (size_t j = 0; j < in_n; j++)
            nn_body_maxpool_backward(dactual, dout, actual_argmax, NULL, g, j);
        expect_identical(dactual, dexpected, in_n, "maxpool backward");
        /* With a ReLU before the pooling: only positive winners pass their gradient. */
        nn_cpu_maxpool2d_backward_relu(dexpected, dout, expected_argmax, expected, &g);
        for (size_t j = 0; j < in_n; j++)
            nn_body_maxpool_backward(dactual, dout, actual_argmax, expected, g, j);
        expect_identical(dactual, dexpected, in_n, "maxpool backward through a ReLU");
        free(inp), free(expected), free(actual), free(expected_argmax), free(actual_argmax);
        free(dout), free(dexpected), free(dactual);
    }
}

Test(cuda_bodies, average_pooling_matches_the_cpu_values_and_gradients)
{
    for (size_t k = 0; k < sizeof pool_cases / sizeof pool_cases[0]; k++) {
        nn_pool2d_geometry g = pool_case_geometry(k);
        size_t in_n = (size_t)(g.batch * g.in_height * g.in_width * g.channels);
        size_t out_n = (size_t)(g.batch * g.out_height * g.out_width * g.channels);
        float *inp = random_floats(in_n, 31 + k, -1, 1);
        float *expected = floats(out_n), *actual = floats(out_n);
        nn_cpu_avgpool2d_forward(expected, inp, &g);
        for (size_t i = 0; i < out_n; i++)
            nn_body_avgpool_forward(actual, inp, g, i);
        expect_identical(actual, expected, out_n, "average pooling forward");
        float *dout = random_floats(out_n, 41 + k, -1, 1);
        float *dexpected = floats(in_n), *dactual = floats(in_n);
        nn_cpu_avgpool2d_backward(dexpected, dout, &g);
        for (size_t j = 0; j < in_n; j++)
            nn_body_avgpool_backward(dactual, dout, g, j);
        expect_identical(dactual, dexpected, in_n, "average pooling backward");
        free(inp), free(expected), free(actual), free(dout), free(dexpected), free(dactual);
    }
}

Test(cuda_bodies, padding_layers_and_upsampling_match_the_cpu)
{
    /* The padding layers' windows run the pad and crop bodies with the sizes
     * nn_cuda_window2d_embed and _extract (elementwise.cu) give them. */
    nn_window2d_geometry window = {.batch = 2, .channels = 3, .outer_height = 7,
                                   .outer_width = 6, .inner_height = 4, .inner_width = 3,
                                   .top = 2, .left = 1};
    nn_body_padding p = {(size_t)window.channels, (long)window.inner_height,
                         (long)window.inner_width, (long)window.outer_height,
                         (long)window.outer_width, (long)window.top, (long)window.left};
    size_t inner_n = (size_t)(window.batch * window.inner_height * window.inner_width * window.channels);
    size_t outer_n = (size_t)(window.batch * window.outer_height * window.outer_width * window.channels);
    float *inner = random_floats(inner_n, 51, -1, 1), *outer = random_floats(outer_n, 52, -1, 1);
    float *expected = floats(outer_n), *actual = floats(outer_n);
    nn_cpu_window2d_embed(expected, inner, &window);
    for (size_t i = 0; i < outer_n; i++)
        nn_body_pad(actual, inner, p, i);
    expect_identical(actual, expected, outer_n, "window embed");
    nn_cpu_window2d_extract(expected, outer, &window);
    for (size_t i = 0; i < inner_n; i++)
        nn_body_crop(actual, outer, p, i);
    expect_identical(actual, expected, inner_n, "window extract");
    free(inner), free(outer), free(expected), free(actual);

    const nn_upsample2d_geometry cases[] = {
        {.batch = 2, .height = 3, .width = 4, .channels = 3, .size_height = 2, .size_width = 2},
        {.batch = 1, .height = 5, .width = 2, .channels = 2, .size_height = 3, .size_width = 4},
    };
    for (size_t k = 0; k < 2 * (sizeof cases / sizeof cases[0]); k++) {
        nn_upsample2d_geometry g = cases[k / 2];
        g.bilinear = k % 2 == 1;
        size_t in_n = (size_t)(g.batch * g.height * g.width * g.channels);
        size_t out_n = in_n * (size_t)(g.size_height * g.size_width);
        float *inp = random_floats(in_n, 53 + k, -1, 1), *dout = random_floats(out_n, 55 + k, -1, 1);
        float *out_cpu = floats(out_n), *out_body = floats(out_n);
        float *dinp_cpu = floats(in_n), *dinp_body = floats(in_n);
        nn_cpu_upsample2d_forward(out_cpu, inp, &g);
        for (size_t i = 0; i < out_n; i++)
            nn_body_upsample_forward(out_body, inp, g, i);
        expect_identical(out_body, out_cpu, out_n, "upsampling forward");
        nn_cpu_upsample2d_backward(dinp_cpu, dout, &g);
        for (size_t j = 0; j < in_n; j++)
            nn_body_upsample_backward(dinp_body, dout, g, j);
        expect_identical(dinp_body, dinp_cpu, in_n, "upsampling backward");
        free(inp), free(dout), free(out_cpu), free(out_body), free(dinp_cpu), free(dinp_body);
    }
}

/* ---- embedding ---- */

Test(cuda_bodies, embedding_lookup_and_table_gradient_match_the_cpu)
{
    /* Widths below, at and past the CPU's column blocks; repeated indices, rows never
     * used, and unchecked indices outside the table (a row of zeros, no gradient). */
    const struct { size_t count, rows, dim; } cases[] = {{1, 1, 1}, {37, 5, 3}, {50, 8, 64},
                                                         {29, 11, 130}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t count = cases[k].count, rows = cases[k].rows, dim = cases[k].dim;
        float *table = random_floats(rows * dim, 61 + k, -1, 1);
        float *dout = random_floats(count * dim, 63 + k, -1, 1);
        float *indices = random_floats(count, 65 + k, 0, (float)rows - 0.5f);
        for (size_t i = 0; i < count; i++)
            indices[i] = floorf(indices[i]);
        if (count > 3) {
            indices[1] = -1.0f;
            indices[2] = (float)rows;
            indices[3] = NAN;
        }
        float *expected = floats(count * dim), *actual = floats(count * dim);
        nn_cpu_embedding_gather(expected, table, indices, (int64_t)count, (int64_t)rows,
                                (int64_t)dim);
        for (size_t i = 0; i < count * dim; i++)
            nn_body_embedding_gather(actual, table, indices, rows, dim, i);
        expect_identical(actual, expected, count * dim, "embedding lookup");
        float *dexpected = random_floats(rows * dim, 67 + k, 5, 6);
        float *dactual = random_floats(rows * dim, 69 + k, 7, 8);
        nn_cpu_embedding_gather_backward(dexpected, dout, indices, (int64_t)count,
                                         (int64_t)rows, (int64_t)dim);
        for (size_t c = 0; c < dim; c++)
            nn_body_embedding_gather_backward(dactual, dout, indices, count, rows, dim, c);
        expect_identical(dactual, dexpected, rows * dim, "embedding table gradient");
        free(table), free(dout), free(indices), free(expected), free(actual);
        free(dexpected), free(dactual);
    }
}

/* ---- dropout ---- */

Test(cuda_bodies, philox_masks_are_the_cpu_random_numbers)
{
    const uint64_t seed = 0x1234567890ABCDEFull, stream = 77;
    for (uint64_t index = 0; index < 4000; index += 7) {
        uint32_t words[4];
        nn_body_philox(seed, stream, index / 4, words);
        float body = nn_body_uniform_from_bits(words[index % 4]);
        float cpu = nn_random_uniform_at(seed, stream, index);
        cr_assert_eq(body, cpu, "uniform %llu: expected %.9g, got %.9g",
                     (unsigned long long)index, (double)cpu, (double)body);
    }
}

Test(cuda_bodies, dropout_matches_the_cpu_with_and_without_noise_shape)
{
    const int64_t dims[4] = {3, 4, 5, 6};
    const int64_t noise_shapes[][4] = {{3, 4, 5, 6}, {3, 1, 1, 6}, {1, 4, 5, 1}, {1, 1, 1, 1}};
    size_t n = 3 * 4 * 5 * 6;
    float *inp = random_floats(n, 31, -2, 2);
    float *expected = floats(n), *actual = floats(n), *dexpected = floats(n), *dactual = floats(n);
    uint8_t *expected_mask = calloc(n, 1), *actual_mask = calloc(n, 1);
    for (size_t k = 0; k < sizeof noise_shapes / sizeof noise_shapes[0]; k++) {
        nn_dropout_geometry g = {.ndim = 4, .rate = 0.3f};
        size_t count = 1;
        for (int i = 0; i < 4; i++) {
            g.dims[i] = dims[i];
            g.noise_dims[i] = noise_shapes[k][i];
            count *= (size_t)noise_shapes[k][i];
        }
        nn_cpu_dropout_forward(expected, expected_mask, inp, &g, 99, 5 + k);
        for (size_t block = 0; block < (count + 3) / 4; block++)
            nn_body_dropout_mask(actual_mask, count, 99, 5 + k, g.rate, block);
        cr_assert(memcmp(actual_mask, expected_mask, count) == 0, "noise shape %zu: masks differ", k);
        nn_body_noise_map map = nn_body_noise_map_make(&g);
        for (size_t i = 0; i < n; i++)
            nn_body_dropout_apply(actual, inp, actual_mask, &map, i);
        expect_identical(actual, expected, n, "dropout forward");
        nn_cpu_dropout_backward(dexpected, inp, expected_mask, &g);
        for (size_t i = 0; i < n; i++)
            nn_body_dropout_apply(dactual, inp, actual_mask, &map, i);
        expect_identical(dactual, dexpected, n, "dropout backward");
    }
    free(inp), free(expected), free(actual), free(dexpected), free(dactual);
    free(expected_mask), free(actual_mask);
}

Test(cuda_bodies, random_flip_element_by_element_is_the_cpus_row_by_row)
{
    /* Both layouts, each mode, an odd width and height: the CUDA body's indexing against
     * the CPU kernel's row copies. */
    const size_t n = 7 * 3 * 5 * 2;
    float *inp = random_floats(n, 32, -2, 2), *expected = floats(n), *actual = floats(n);
    for (int layout = 0; layout < 2; layout++) {
        for (int mode = 0; mode < 3; mode++) {
            nn_flip_geometry g = {.batch = 7, .height = 3, .width = 5, .channels = 2,
                                  .channels_first = layout == 1, .horizontal = mode != 1,
                                  .vertical = mode != 0};
            nn_cpu_random_flip(expected, inp, &g, 41, 9 + (uint64_t)mode);
            for (size_t i = 0; i < n; i++)
                nn_body_random_flip(actual, inp, &g, 41, 9 + (uint64_t)mode, i);
            expect_identical(actual, expected, n, "random flip");
        }
    }
    free(inp), free(expected), free(actual);
}

/* A geometry for the affine tests: every kind of range at once, odd sizes. */
static nn_affine_geometry affine_test_geometry(bool channels_first, bool nearest,
                                               nn_fill_mode mode)
{
    nn_affine_geometry g = {.batch = 5, .height = 7, .width = 6, .channels = 2,
                            .channels_first = channels_first, .nearest = nearest,
                            .fill_mode = mode, .fill_value = 0.75f};
    g.rotation[0] = -0.6f, g.rotation[1] = 0.9f;
    g.shift_y[0] = -0.3f, g.shift_y[1] = 0.2f;
    g.shift_x[0] = -0.1f, g.shift_x[1] = 0.4f;
    g.zoom_y[0] = -0.3f, g.zoom_y[1] = 0.5f;
    g.zoom_x[0] = -0.2f, g.zoom_x[1] = 0.1f;
    return g;
}

Test(cuda_bodies, random_affine_point_by_point_is_the_cpus_image_by_image)
{
    const size_t n = 5 * 7 * 6 * 2;
    float *inp = random_floats(n, 33, -2, 2), *expected = floats(n), *actual = floats(n);
    for (int layout = 0; layout < 2; layout++)
        for (int nearest = 0; nearest < 2; nearest++)
            for (int mode = NN_FILL_REFLECT; mode <= NN_FILL_NEAREST; mode++) {
                nn_affine_geometry g = affine_test_geometry(layout, nearest, (nn_fill_mode)mode);
                nn_cpu_random_affine(expected, inp, &g, 43, 11);
                for (size_t i = 0; i < n; i++)
                    nn_body_random_affine(actual, inp, &g, 43, 11, i);
                expect_identical(actual, expected, n, "random affine");
            }
    free(inp), free(expected), free(actual);
}

Test(cuda_bodies, random_affine_backward_is_the_adjoint_of_forward)
{
    /* <A x, y> = <x, A^T y> for every layout, sampling and fill mode: backward spreads
     * each gradient over exactly the points forward read, with the same weights. The
     * constant fill adds fill_value·weight to A x, which is not linear in x, so x's part
     * alone is compared there (forward of x minus forward of 0). */
    const size_t n = 5 * 7 * 6 * 2;
    float *x = random_floats(n, 34, -1, 1), *y = random_floats(n, 35, -1, 1);
    float *ax = floats(n), *a0 = floats(n), *aty = floats(n), *zeros = floats(n);
    for (int layout = 0; layout < 2; layout++)
        for (int nearest = 0; nearest < 2; nearest++)
            for (int mode = NN_FILL_REFLECT; mode <= NN_FILL_NEAREST; mode++) {
                nn_affine_geometry g = affine_test_geometry(layout, nearest, (nn_fill_mode)mode);
                nn_cpu_random_affine(ax, x, &g, 44, 12);
                nn_cpu_random_affine(a0, zeros, &g, 44, 12);
                nn_cpu_random_affine_backward(aty, y, &g, 44, 12);
                double left = 0, right = 0;
                for (size_t i = 0; i < n; i++) {
                    left += ((double)ax[i] - a0[i]) * y[i];
                    right += (double)x[i] * aty[i];
                }
                cr_expect(fabs(left - right) <= 1e-4 * (1 + fabs(left)),
                          "layout %d, nearest %d, fill %d: <Ax, y> = %.9g, <x, A^T y> = %.9g",
                          layout, nearest, mode, left, right);
            }
    free(x), free(y), free(ax), free(a0), free(aty), free(zeros);
}

/* ---- batch normalisation ---- */

/* The CUDA launcher's sequence of bodies, on the host. */
static void body_batchnorm_training(float *y, float *mean, float *inv_std, float *moving_mean,
                                    float *moving_variance, const float *x, const float *gamma,
                                    const float *beta, nn_batchnorm_geometry g, size_t slices)
{
    size_t channels = (size_t)g.channels;
    size_t n = (size_t)(g.outer * g.inner) * channels;
    double *partials = calloc(slices * 2 * channels, sizeof(double));
    double *sums = calloc(2 * channels, sizeof(double)), *batch_mean = calloc(channels, sizeof(double));
    double count = nn_body_bn_count(&g);
    for (size_t t = 0; t < slices * channels; t++)
        nn_body_bn_partial(partials, NN_BODY_BN_SUM_X, x, NULL, NULL, NULL, NULL, g, slices, t);
    for (size_t c = 0; c < channels; c++) {
        nn_body_bn_combine(sums, partials, channels, slices, c);
        batch_mean[c] = sums[c] / count;
    }
    for (size_t t = 0; t < slices * channels; t++)
        nn_body_bn_partial(partials, NN_BODY_BN_SUM_SQUARED_DEVIATION, x, NULL, batch_mean, NULL,
                           NULL, g, slices, t);
    for (size_t c = 0; c < channels; c++)
        nn_body_bn_combine(sums, partials, channels, slices, c);
    for (size_t c = 0; c < channels; c++)
        nn_body_bn_statistics(mean, inv_std, moving_mean, moving_variance, batch_mean, sums, g,
                              count, c);
    for (size_t i = 0; i < n; i++)
        nn_body_bn_normalize(y, x, gamma, beta, mean, inv_std, g, i);
    free(partials), free(sums), free(batch_mean);
}

static void body_batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                                    const float *x, const float *gamma, const float *mean,
                                    const float *inv_std, int batch_statistics,
                                    nn_batchnorm_geometry g, size_t slices)
{
    size_t channels = (size_t)g.channels;
    size_t n = (size_t)(g.outer * g.inner) * channels;
    double *partials = calloc(slices * 2 * channels, sizeof(double));
    double *sums = calloc(2 * channels, sizeof(double));
    for (size_t t = 0; t < slices * channels; t++)
        nn_body_bn_partial(partials, NN_BODY_BN_SUM_DY_AND_DY_XHAT, x, dy, NULL, mean, inv_std, g,
                           slices, t);
    for (size_t c = 0; c < channels; c++) {
        nn_body_bn_combine(sums, partials, channels, slices, c);
        dbeta[c] = (float)sums[c];
        dgamma[c] = (float)sums[channels + c];
    }
    for (size_t i = 0; i < n; i++)
        nn_body_bn_dx(dx, dy, x, gamma, mean, inv_std, sums, batch_statistics, g,
                      nn_body_bn_count(&g), i);
    free(partials), free(sums);
}

Test(cuda_bodies, batch_normalization_matches_the_cpu_in_both_layouts)
{
    /* channels last (outer B·H·W, inner 1) and channels first (outer B, inner H·W), and
     * channels last under a mask over the rows. */
    float mask[4 * 5 * 6];
    for (size_t r = 0; r < sizeof mask / sizeof mask[0]; r++)
        mask[r] = r % 4 == 1 || r % 7 == 0 ? 0.0f : 1.0f;
    const nn_batchnorm_geometry geometries[] = {
        {.outer = 4 * 5 * 6, .channels = 7, .inner = 1, .momentum = 0.99f, .epsilon = 1e-3f},
        {.outer = 4, .channels = 7, .inner = 30, .momentum = 0.9f, .epsilon = 1e-5f},
        {.outer = 4 * 5 * 6, .channels = 7, .inner = 1, .momentum = 0.9f, .epsilon = 1e-3f,
         .mask = mask},
    };
    for (size_t k = 0; k < 3; k++) {
        nn_batchnorm_geometry g = geometries[k];
        size_t c = (size_t)g.channels, n = (size_t)(g.outer * g.inner) * c;
        float *x = random_floats(n, 41 + k, 2.0f, 5.0f), *dy = random_floats(n, 43 + k, -1, 1);
        float *gamma = random_floats(c, 45, 0.5f, 1.5f), *beta = random_floats(c, 46, -1, 1);
        float *scratch = floats(nn_cpu_batchnorm_scratch_floats(&g));
        float *y_cpu = floats(n), *y_body = floats(n);
        float *mean_cpu = floats(c), *mean_body = floats(c), *std_cpu = floats(c), *std_body = floats(c);
        float *mm_cpu = random_floats(c, 47, -1, 1), *mv_cpu = random_floats(c, 48, 0.5f, 2);
        float *mm_body = floats(c), *mv_body = floats(c);
        memcpy(mm_body, mm_cpu, c * sizeof(float));
        memcpy(mv_body, mv_cpu, c * sizeof(float));
        nn_cpu_batchnorm_forward_training(y_cpu, mean_cpu, std_cpu, mm_cpu, mv_cpu, x, gamma,
                                          beta, &g, scratch);
        body_batchnorm_training(y_body, mean_body, std_body, mm_body, mv_body, x, gamma, beta, g,
                                NN_REDUCE_SLICES);
        expect_close(y_body, y_cpu, n, 1e-5, "batchnorm forward");
        expect_close(mean_body, mean_cpu, c, 1e-6, "batch mean");
        expect_close(std_body, std_cpu, c, 1e-5, "inverse standard deviation");
        expect_close(mm_body, mm_cpu, c, 1e-6, "moving mean");
        expect_close(mv_body, mv_cpu, c, 1e-5, "moving variance");

        float *dx_cpu = floats(n), *dx_body = floats(n);
        float *dg_cpu = floats(c), *dg_body = floats(c), *db_cpu = floats(c), *db_body = floats(c);
        for (int batch_statistics = 0; batch_statistics < 2; batch_statistics++) {
            nn_cpu_batchnorm_backward(dx_cpu, dg_cpu, db_cpu, dy, x, gamma, mean_cpu, std_cpu,
                                      batch_statistics, &g, scratch);
            body_batchnorm_backward(dx_body, dg_body, db_body, dy, x, gamma, mean_cpu, std_cpu,
                                    batch_statistics, g, 3);
            expect_close(dx_body, dx_cpu, n, 1e-4, "batchnorm dx");
            expect_close(dg_body, dg_cpu, c, 1e-5, "dgamma");
            expect_close(db_body, db_cpu, c, 1e-5, "dbeta");
        }
        /* Inference statistics: the same formula exactly. */
        nn_cpu_batchnorm_forward_inference(y_cpu, mean_cpu, std_cpu, x, gamma, beta, mm_cpu,
                                           mv_cpu, &g);
        for (size_t ch = 0; ch < c; ch++)
            nn_body_bn_inference_statistics(mean_body, std_body, mm_cpu, mv_cpu, g.epsilon, ch);
        for (size_t i = 0; i < n; i++)
            nn_body_bn_normalize(y_body, x, gamma, beta, mean_body, std_body, g, i);
        expect_identical(y_body, y_cpu, n, "batchnorm inference");
        free(x), free(dy), free(gamma), free(beta), free(scratch), free(y_cpu), free(y_body);
        free(mean_cpu), free(mean_body), free(std_cpu), free(std_body), free(mm_cpu);
        free(mv_cpu), free(mm_body), free(mv_body), free(dx_cpu), free(dx_body);
        free(dg_cpu), free(dg_body), free(db_cpu), free(db_body);
    }
}

/* ---- losses and metrics ---- */

/* loss.c runs the same row bodies one row at a time, so these comparisons check what the
 * CUDA launchers add: slices summed in another order, sample weights, the batch-wide
 * count of non-0/1 labels and the last activation's derivative. The formulas themselves
 * are held to naive references in test_loss.c. */

/* The CUDA launcher's sequence: plan, sliced rows, scaled sum, then (when the plan says so)
 * the last activation's derivative. */
static double body_loss(float *dlogits, const nn_loss *loss, nn_activation last,
                        const float *pred, const float *logits, const float *labels,
                        const float *weights, int64_t batch, int64_t width)
{
    nn_body_loss_plan plan = nn_body_loss_plan_make(loss, last, pred, logits, batch, width);
    enum { SLICES = 3 };
    double partials[SLICES], nonbinary = 0.0;
    if (nn_body_loss_counts_nonbinary(loss->kind)) {
        for (size_t s = 0; s < SLICES; s++)
            nn_body_nonbinary_partial(partials, labels, (size_t)(batch * width), SLICES, s);
        nonbinary = nn_body_sum_partials(partials, SLICES);
        plan.nonbinary_labels = &nonbinary;
    }
    for (size_t s = 0; s < SLICES; s++)
        nn_body_loss_partial(partials, dlogits, plan, labels, weights, batch, width, SLICES, s);
    double value = nn_body_sum_partials(partials, SLICES) * plan.loss_scale;
    if (dlogits && plan.through_activation)
        nn_activation_backward(last, dlogits, dlogits, logits, pred, (size_t)(batch * width),
                               (size_t)width);
    return value;
}

Test(cuda_bodies, every_loss_matches_the_cpu_value_and_gradient)
{
    enum { B = 6, W = 4, N = B * W };
    float *logits = random_floats(N, 51, -3, 3), *pred = floats(N);
    float *onehot = floats(N), *ids = floats(B), *targets = random_floats(N, 52, 0, 1);
    float *signs = floats(N); /* 0/1 labels, which the hinge losses read as -1/1 */
    for (int b = 0; b < B; b++) {
        ids[b] = (float)(b % W);
        onehot[b * W + b % W] = 1.0f;
    }
    for (int i = 0; i < N; i++)
        signs[i] = targets[i] > 0.5f ? 1.0f : 0.0f;
    const nn_activation_kind lasts[] = {NN_ACTIVATION_SOFTMAX, NN_ACTIVATION_SIGMOID,
                                        NN_ACTIVATION_LINEAR, NN_ACTIVATION_SWISH};
    float *expected = floats(N), *actual = floats(N);
    float weights[B] = {1.0f, 0.0f, 2.5f, 0.25f, 1.0f, 3.0f};
    for (int run = 0; run < 3 * NN_LOSS_COUNT; run++) {
        int kind = run % NN_LOSS_COUNT;
        bool weighted = run >= NN_LOSS_COUNT, binary = run >= 2 * NN_LOSS_COUNT;
        for (int from_logits = 0; from_logits < 2; from_logits++) {
            for (size_t l = 0; l < sizeof lasts / sizeof lasts[0]; l++) {
                /* Poisson takes the log of the prediction: NaN below zero, on both. */
                if (kind == NN_LOSS_POISSON && lasts[l] != NN_ACTIVATION_SOFTMAX &&
                    lasts[l] != NN_ACTIVATION_SIGMOID)
                    continue;
                nn_loss loss = {(nn_loss_kind)kind, from_logits, 0.0, 0.5};
                nn_activation last = nn_activation_default(lasts[l]);
                nn_activation_forward(last, pred, logits, N, W);
                const float *labels = kind == NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? ids
                                      : kind == NN_LOSS_CATEGORICAL_CROSSENTROPY ||
                                              kind == NN_LOSS_CATEGORICAL_HINGE
                                          ? onehot
                                      : binary ? signs
                                               : targets;
                const float *row_weights = weighted ? weights : NULL;
                double want = nn_loss_forward_backward(&loss, last, expected, pred, logits,
                                                       labels, row_weights, B, W);
                double got = body_loss(actual, &loss, last, pred, logits, labels, row_weights,
                                       B, W);
                char what[160];
                snprintf(what, sizeof what, "%s (from_logits=%d) after %s%s%s",
                         nn_loss_name(loss.kind), from_logits, nn_activation_name(last.kind),
                         weighted ? " with sample weights" : "", binary ? ", 0/1 labels" : "");
                cr_assert(fabs(got - want) <= 1e-12 * fmax(1.0, fabs(want)),
                          "%s: loss expected %.17g, got %.17g", what, want, got);
                expect_identical(actual, expected, N, what);
            }
        }
    }
    /* A class id out of range: NaN and no gradient, on both. */
    ids[2] = (float)W;
    nn_loss sparse = {NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, false, 0.0, 1.0};
    nn_activation softmax = nn_activation_default(NN_ACTIVATION_SOFTMAX);
    cr_assert(isnan(body_loss(actual, &sparse, softmax, pred, logits, ids, NULL, B, W)));
    for (int j = 0; j < W; j++)
        cr_assert_eq(actual[2 * W + j], 0.0f);
    free(logits), free(pred), free(onehot), free(ids), free(targets), free(signs);
    free(expected), free(actual);
}

Test(cuda_bodies, every_metric_matches_the_cpu_sum)
{
    enum { B = 9, W = 3 };
    float *pred = random_floats(B * W, 61, 0, 1), *onehot = floats(B * W), *ids = floats(B);
    float *targets = random_floats(B * W, 62, 0, 1);
    for (int b = 0; b < B; b++) {
        ids[b] = (float)((b * 2) % W);
        onehot[b * W + (b * 2) % W] = 1.0f;
    }
    float *signs = floats(B * W);
    for (int i = 0; i < B * W; i++)
        signs[i] = targets[i] > 0.5f ? 1.0f : 0.0f;
    /* Sample weights for every row of either layout (B * W rows of one column), a zero
     * among them: each metric is summed without and with them. */
    float *weights = random_floats(B * W, 63, 0, 3);
    weights[4] = 0.0f;
    for (int run = 0; run < 2 * NN_METRIC_COUNT; run++) {
        int kind = run % NN_METRIC_COUNT;
        bool binary = run >= NN_METRIC_COUNT; /* 0/1 labels, -1/1 to the hinge metrics */
        nn_metric metric = {.kind = (nn_metric_kind)kind};
        if (binary) { /* settings of metric objects (ignored by the kinds without them) */
            metric.top_k = 2;
            metric.has_threshold = true;
            metric.threshold = 0.3f;
        }
        bool by_class = kind == NN_METRIC_SPARSE_CATEGORICAL_ACCURACY ||
                        kind == NN_METRIC_CATEGORICAL_ACCURACY ||
                        kind == NN_METRIC_TOP_K_CATEGORICAL_ACCURACY ||
                        kind == NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY;
        const float *labels = kind == NN_METRIC_SPARSE_CATEGORICAL_ACCURACY ||
                                      kind == NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY
                                  ? ids
                              : kind == NN_METRIC_CATEGORICAL_ACCURACY ||
                                      kind == NN_METRIC_ACCURACY ||
                                      kind == NN_METRIC_TOP_K_CATEGORICAL_ACCURACY ||
                                      kind == NN_METRIC_CATEGORICAL_HINGE
                                  ? onehot
                              : binary ? signs
                                       : targets;
        for (int64_t width = 1; width <= W; width += W - 1) {
            int64_t batch = B * W / width;
            if (by_class)
                batch = B, width = W;
            double partials[4], nonbinary = 0.0;
            nn_body_metric resolved = nn_body_metric_of(&metric, width);
            if (nn_body_metric_counts_nonbinary(resolved.kind)) {
                for (size_t s = 0; s < 4; s++)
                    nn_body_nonbinary_partial(partials, labels, (size_t)(batch * width), 4, s);
                nonbinary = nn_body_sum_partials(partials, 4);
            }
            for (int weighted = 0; weighted < 2; weighted++) {
                const float *row_weights = weighted ? weights : NULL;
                double want =
                    nn_metric_weighted_sum(&metric, pred, labels, row_weights, batch, width);
                /* The weighted sum is each row's own sum (the batch-wide hinge look
                 * aside) times its weight. */
                double naive = 0.0;
                for (int64_t b = 0; weighted && b < batch; b++)
                    naive += (double)weights[b] *
                             nn_metric_weighted_sum(&metric, pred + b * width,
                                                    labels + b * (by_class && labels == ids
                                                                      ? 1
                                                                      : width),
                                                    NULL, 1, width);
                for (size_t s = 0; s < 4; s++)
                    nn_body_metric_partial(partials, resolved, pred, labels, row_weights,
                                           nn_body_metric_counts_nonbinary(resolved.kind)
                                               ? &nonbinary
                                               : NULL,
                                           batch, width, 4, s);
                double got = nn_body_sum_partials(partials, 4);
                cr_assert(isfinite(want), "metric %d, width %lld: %g", kind, (long long)width,
                          want);
                cr_assert(fabs(got - want) <= 1e-12 * fmax(1.0, fabs(want)),
                          "metric %d, width %lld, weighted %d: expected %.17g, got %.17g", kind,
                          (long long)width, weighted, want, got);
                if (weighted && !nn_body_metric_counts_nonbinary(resolved.kind))
                    cr_assert(fabs(naive - want) <= 1e-12 * fmax(1.0, fabs(want)),
                              "metric %d, width %lld: weighted sum %.17g, rows by hand %.17g",
                              kind, (long long)width, want, naive);
            }
            if (by_class)
                break;
        }
    }
    free(pred), free(onehot), free(ids), free(targets), free(signs), free(weights);
}

/* ---- optimizers, penalties, constraints ---- */

static void body_optimizer_step(float *w, float *slots[3], const float *g,
                                const unsigned char *mask, const nn_optimizer_config *config,
                                long long iteration, size_t n)
{
    nn_body_step step = nn_body_step_make(config, iteration);
    float scale = 1.0f;
    if (config->clipnorm > 0.0) {
        double partials[5];
        for (size_t s = 0; s < 5; s++)
            nn_body_squares_partial(partials, g, n, 5, s);
        double squares = 0.0;
        for (size_t s = 0; s < 5; s++)
            squares += partials[s];
        scale = nn_body_clipnorm_scale(squares, config->clipnorm);
    }
    for (size_t i = 0; i < n; i++)
        nn_body_optimizer_update(w, slots[0], slots[1], slots[2], g, mask, &step, scale, i);
}

Test(cuda_bodies, every_optimizer_step_matches_the_cpu_bit_for_bit)
{
    enum { N = 101, STEPS = 5 };
    nn_optimizer_config configs[16];
    int count = 0;
    for (int kind = 0; kind < NN_OPTIMIZER_COUNT; kind++)
        configs[count++] = nn_optimizer_defaults((nn_optimizer_kind)kind);
    nn_optimizer_config c = nn_optimizer_defaults(NN_OPTIMIZER_SGD);
    c.momentum = 0.9;
    configs[count++] = c;
    c.nesterov = true;
    configs[count++] = c;
    c = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
    c.amsgrad = true;
    c.clipvalue = 0.05;
    configs[count++] = c;
    c = nn_optimizer_defaults(NN_OPTIMIZER_RMSPROP);
    c.momentum = 0.5;
    c.centered = true;
    configs[count++] = c;
    c.momentum = 0.0;
    configs[count++] = c;
    c = nn_optimizer_defaults(NN_OPTIMIZER_ADAMW);
    c.clipnorm = 0.1;
    configs[count++] = c;
    unsigned char mask[N];
    for (int i = 0; i < N; i++)
        mask[i] = (unsigned char)(i % 3 != 0);
    for (int k = 0; k < count; k++) {
        float *w_cpu = random_floats(N, 71, -1, 1), *w_body = floats(N);
        memcpy(w_body, w_cpu, sizeof(float) * N);
        float *slots_cpu[3], *slots_body[3];
        for (int s = 0; s < 3; s++) {
            slots_cpu[s] = random_floats(N, 72 + (uint64_t)s, 0, 0.01f);
            slots_body[s] = floats(N);
            memcpy(slots_body[s], slots_cpu[s], sizeof(float) * N);
        }
        for (long long step = 1; step <= STEPS; step++) {
            float *g = random_floats(N, 80 + (uint64_t)step, -1, 1);
            nn_cpu_optimizer_step(w_cpu, slots_cpu, g, mask, &configs[k], step, N, NULL);
            body_optimizer_step(w_body, slots_body, g, mask, &configs[k], step, N);
            free(g);
        }
        char what[64];
        snprintf(what, sizeof what, "%s config %d", nn_optimizer_name(configs[k].kind), k);
        if (configs[k].clipnorm > 0.0) /* the norm is summed in another order */
            expect_close(w_body, w_cpu, N, 1e-6, what);
        else
            expect_identical(w_body, w_cpu, N, what);
        for (int s = 0; s < 3; s++)
            free(slots_cpu[s]), free(slots_body[s]);
        free(w_cpu), free(w_body);
    }
}

Test(cuda_bodies, guards_stop_updates_after_a_non_finite_loss)
{
    nn_batch_stats finite = {.loss = 1.0}, infinite = {.loss = 1.0, .weight_penalty = INFINITY};
    nn_batch_stats nan_loss = {.loss = NAN};
    cr_assert(nn_body_guard_allows(NULL));
    cr_assert(nn_body_guard_allows(&finite));
    cr_assert(!nn_body_guard_allows(&infinite));
    cr_assert(!nn_body_guard_allows(&nan_loss));
    /* The CPU backend honours the same guard. */
    float w = 1.0f, g = 1.0f;
    float *none[3] = {NULL, NULL, NULL};
    nn_optimizer_config sgd = nn_optimizer_defaults(NN_OPTIMIZER_SGD);
    nn_cpu_optimizer_step(&w, none, &g, NULL, &sgd, 1, 1, &nan_loss);
    cr_assert_eq(w, 1.0f, "a guarded step after a NaN loss changed the weight");
    nn_cpu_optimizer_step(&w, none, &g, NULL, &sgd, 1, 1, &finite);
    cr_assert_eq(w, 1.0f - 0.01f);
}

Test(cuda_bodies, penalties_match_the_cpu_regularizers)
{
    enum { N = 57 };
    float *w = random_floats(N, 91, -1, 1);
    w[3] = 0.0f;
    float *grad_cpu = random_floats(N, 92, -1, 1), *grad_body = floats(N);
    memcpy(grad_body, grad_cpu, sizeof(float) * N);
    nn_regularizer r = {0.01f, 0.02f};
    double want = 0.0, got = 0.0;
    nn_cpu_weight_penalty(&want, grad_cpu, w, N, r);
    double partials[2 * 4];
    for (size_t s = 0; s < 4; s++)
        nn_body_penalty_partial(partials, w, N, 4, s);
    got += nn_body_penalty_total(partials, 4, r.l1, r.l2);
    for (size_t i = 0; i < N; i++)
        nn_body_penalty_gradient(grad_body, w, r.l1, 2.0f * r.l2, i);
    cr_assert(fabs(got - want) <= 1e-14, "weight penalty: expected %.17g, got %.17g", want, got);
    expect_identical(grad_body, grad_cpu, N, "weight penalty gradient");

    free(w), free(grad_cpu), free(grad_body);
}

Test(cuda_bodies, constraints_match_the_cpu_bit_for_bit)
{
    const nn_shape shapes[] = {NN_SHAPE(3, 3, 4, 5), NN_SHAPE(6, 7), NN_SHAPE(9)};
    const unsigned masks[] = {1u, 7u, 2u, 5u};
    for (size_t s = 0; s < 3; s++) {
        size_t n = 1;
        for (int axis = 0; axis < shapes[s].ndim; axis++)
            n *= (size_t)shapes[s].dims[axis];
        for (int kind = NN_CONSTRAINT_MAX_NORM; kind < NN_CONSTRAINT_COUNT; kind++) {
            for (size_t m = 0; m < 4; m++) {
                nn_constraint constraint = nn_constraint_default((nn_constraint_kind)kind);
                constraint.axes = masks[m] & ((1u << shapes[s].ndim) - 1u);
                if (constraint.axes == 0)
                    continue;
                if (kind == NN_CONSTRAINT_MIN_MAX_NORM)
                    constraint.min_value = 0.5f, constraint.max_value = 0.8f, constraint.rate = 0.7f;
                float *w_cpu = random_floats(n, 100 + s + m, -1, 1), *w_body = floats(n);
                memcpy(w_body, w_cpu, n * sizeof(float));
                size_t groups = nn_constraint_groups(&constraint, &shapes[s]);
                float *scratch = floats(nn_cpu_constraint_scratch_floats(&constraint, &shapes[s]));
                nn_cpu_constraint_apply(w_cpu, &constraint, &shapes[s], NULL, scratch);
                if (kind == NN_CONSTRAINT_NON_NEG) {
                    for (size_t i = 0; i < n; i++)
                        nn_body_non_negative(w_body, i);
                } else {
                    nn_body_norm_groups g = {.ndim = shapes[s].ndim, .axes = constraint.axes};
                    for (int axis = 0; axis < shapes[s].ndim; axis++)
                        g.dims[axis] = (uint64_t)shapes[s].dims[axis];
                    double *factors = calloc(groups, sizeof(double));
                    for (size_t group = 0; group < groups; group++)
                        nn_body_constraint_factor(factors, w_body, &g, constraint, group);
                    for (size_t i = 0; i < n; i++)
                        nn_body_constraint_scale(w_body, factors, &g, i);
                    free(factors);
                }
                char what[96];
                snprintf(what, sizeof what, "%s over axes 0x%x of shape %zu",
                         nn_constraint_name(constraint.kind), constraint.axes, s);
                expect_identical(w_body, w_cpu, n, what);
                free(w_cpu), free(w_body), free(scratch);
            }
        }
    }
}
