/* Dropout: exact inverted scaling, the dropped fraction, identity in inference, noise
 * shapes, repeatable masks from seeds, backward = mask · dout, and bad arguments. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"
#include "random.h"
#include "test_support.h"

/* A fixed global seed: every run of the suite draws the same masks. */
static void seed_globally(void) { nn_random_seed(20240601); }
TestSuite(dropout, .init = seed_globally);

static void *arg(nn_layer *layer, const char *name)
{
    const nn_arg_spec *spec = nn_layer_class_arg(layer->cls, name);
    cr_assert_not_null(spec, "Dropout has no argument %s", name);
    return nn_layer_arg_pointer(layer, spec);
}

/* A Dropout layer with `rate`, and optionally a noise shape and its own seed. Not
 * finished: the caller calls nn_layer_finish. */
static nn_layer *dropout_with(float rate, const nn_shape *noise_shape, const int64_t *seed)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, &nn_dropout_class), NN_OK);
    *(float *)arg(layer, "rate") = rate;
    if (noise_shape)
        *(nn_shape *)arg(layer, "noise_shape") = *noise_shape;
    if (seed)
        *(nn_optional_int *)arg(layer, "seed") = (nn_optional_int){true, *seed};
    return layer;
}

static nn_layer *dropout(float rate, const nn_shape *noise_shape, const int64_t *seed)
{
    nn_layer *layer = dropout_with(rate, noise_shape, seed);
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

static nn_tensor *call(nn_layer *layer, const nn_tensor *x, bool training)
{
    nn_tensor *y;
    cr_assert_eq(nn_layer_call(layer, x, training, &y), NN_OK, "%s", nn_error_message());
    return y;
}

/* Forward with a chosen (seed, step), as a model's training loop would run it. */
static void forward_at(nn_layer *layer, const nn_tensor *x, nn_tensor *y, bool training,
                       uint64_t seed, uint64_t step)
{
    cr_assert_eq(nn_layer_build(layer, &x->shape), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_reserve(layer, x->shape.dims[0]), NN_OK);
    nn_exec exec = {.backend = nn_backend_cpu(), .training = training, .seed = seed,
                    .step = step};
    cr_assert_eq(layer->cls->forward(layer, &exec, x, y), NN_OK, "%s", nn_error_message());
}

static nn_tensor *empty_like(const nn_tensor *x)
{
    nn_tensor *t;
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &x->shape), NN_OK);
    return t;
}

/* Counts the dropped elements and checks every kept one is x / (1 - rate), bit for bit. */
static size_t check_scaling(const nn_tensor *x, const nn_tensor *y, float rate)
{
    const float *in = nn_tensor_f32(x), *out = nn_tensor_f32(y);
    size_t n = nn_tensor_count(x), dropped = 0, wrong = 0, first_wrong = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i] == 0.0f) {
            dropped++;
        } else if (out[i] != in[i] / (1.0f - rate)) {
            if (wrong++ == 0)
                first_wrong = i;
        }
    }
    cr_assert_eq(wrong, 0, "%zu kept values are not x/(1-rate); first at %zu: %.9g vs %.9g",
                 wrong, first_wrong, (double)out[first_wrong],
                 (double)(in[first_wrong] / (1.0f - rate)));
    return dropped;
}

Test(dropout, kept_values_are_scaled_exactly_and_the_rate_is_honoured)
{
    const float rates[] = {0.5f, 0.3f, 0.9f, 0.1f};
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        nn_layer *layer = dropout(rates[r], NULL, NULL);
        nn_tensor *x = uniform_tensor(NN_SHAPE(64, 128), 1 + r, 0.5f, 1.5f);
        nn_tensor *y = call(layer, x, true);
        cr_assert(nn_shape_equal(&x->shape, &y->shape));
        size_t n = nn_tensor_count(x);
        double fraction = (double)check_scaling(x, y, rates[r]) / (double)n;
        double sigma = sqrt(rates[r] * (1.0 - rates[r]) / (double)n);
        fprintf(stderr, "[dropout] rate %.2f: dropped %.4f of %zu (|diff| %.2f sigma)\n",
                (double)rates[r], fraction, n, fabs(fraction - rates[r]) / sigma);
        cr_assert(fabs(fraction - rates[r]) < 5.0 * sigma, "rate %g dropped %g", (double)rates[r],
                  fraction);
        nn_tensor_free(x);
        nn_tensor_free(y);
        nn_layer_release(layer);
    }
}

Test(dropout, identity_in_inference_and_at_rate_zero)
{
    nn_tensor *x = uniform_tensor(NN_SHAPE(8, 3, 5), 2, -1.0f, 1.0f);
    nn_layer *layer = dropout(0.5f, NULL, NULL);
    nn_tensor *y = call(layer, x, false);
    cr_assert(memcmp(nn_tensor_data(x), nn_tensor_data(y), nn_tensor_bytes(x)) == 0);
    nn_tensor_free(y);
    nn_layer_release(layer);
    layer = dropout(0.0f, NULL, NULL);
    y = call(layer, x, true);
    cr_assert(memcmp(nn_tensor_data(x), nn_tensor_data(y), nn_tensor_bytes(x)) == 0);
    nn_tensor_free(y);
    nn_layer_release(layer);
    nn_tensor_free(x);
}

Test(dropout, noise_shape_shares_the_mask_along_broadcast_axes)
{
    /* (None, 1, 1, C): whole feature maps are dropped or kept. */
    nn_shape noise = NN_SHAPE(-1, 1, 1, 8);
    nn_layer *layer = dropout(0.5f, &noise, NULL);
    nn_tensor *x = uniform_tensor(NN_SHAPE(4, 5, 6, 8), 3, 0.5f, 1.5f);
    nn_tensor *y = call(layer, x, true);
    check_scaling(x, y, 0.5f);
    const float *out = nn_tensor_f32(y);
    int dropped_maps = 0, mixed = 0;
    for (int b = 0; b < 4; b++) {
        for (int c = 0; c < 8; c++) {
            int zeros = 0;
            for (int s = 0; s < 30; s++)
                zeros += out[(b * 30 + s) * 8 + c] == 0.0f;
            mixed += zeros != 0 && zeros != 30;
            dropped_maps += zeros == 30;
        }
    }
    cr_assert_eq(mixed, 0, "%d feature maps are partly dropped", mixed);
    cr_assert(dropped_maps > 0 && dropped_maps < 32, "%d of 32 maps dropped", dropped_maps);
    nn_tensor_free(x);
    nn_tensor_free(y);
    nn_layer_release(layer);

    /* (1, None): one mask for every row of the batch. */
    nn_shape shared = NN_SHAPE(1, -1);
    layer = dropout(0.5f, &shared, NULL);
    x = uniform_tensor(NN_SHAPE(16, 32), 4, 0.5f, 1.5f);
    y = call(layer, x, true);
    out = nn_tensor_f32(y);
    for (int b = 1; b < 16; b++)
        for (int j = 0; j < 32; j++)
            cr_assert_eq(out[b * 32 + j] == 0.0f, out[j] == 0.0f, "row %d column %d", b, j);
    nn_tensor_free(x);
    nn_tensor_free(y);
    nn_layer_release(layer);
}

Test(dropout, same_seed_same_mask_and_a_new_mask_every_step)
{
    int64_t seed = 42, other_seed = 43;
    nn_tensor *x = uniform_tensor(NN_SHAPE(32, 64), 5, 0.5f, 1.5f);
    nn_tensor *a = empty_like(x), *b = empty_like(x), *c = empty_like(x), *d = empty_like(x);
    /* Two layers with the same seed, driven at the same step under different global
     * seeds: the masks depend on their own seed only. */
    nn_layer *first = dropout(0.5f, NULL, &seed), *second = dropout(0.5f, NULL, &seed);
    nn_layer *third = dropout(0.5f, NULL, &other_seed);
    forward_at(first, x, a, true, 1, 7);
    forward_at(second, x, b, true, 999, 7);
    forward_at(first, x, c, true, 1, 8);
    forward_at(third, x, d, true, 1, 7);
    size_t bytes = nn_tensor_bytes(x);
    cr_assert(memcmp(nn_tensor_data(a), nn_tensor_data(b), bytes) == 0, "same seed differs");
    cr_assert(memcmp(nn_tensor_data(a), nn_tensor_data(c), bytes) != 0, "step did not change "
              "the mask");
    cr_assert(memcmp(nn_tensor_data(a), nn_tensor_data(d), bytes) != 0, "another seed gave the "
              "same mask");
    nn_layer_release(first);
    nn_layer_release(second);
    nn_layer_release(third);

    /* Without a seed of its own: the global seed makes the run repeatable, and two
     * layers in one model (same exec) draw different masks. */
    nn_random_seed(2024);
    nn_layer *layer = dropout(0.5f, NULL, NULL);
    nn_tensor *y1 = call(layer, x, true), *y2 = call(layer, x, true);
    nn_random_seed(2024);
    nn_layer *again = dropout(0.5f, NULL, NULL);
    nn_tensor *y3 = call(again, x, true);
    cr_assert(memcmp(nn_tensor_data(y1), nn_tensor_data(y3), bytes) == 0, "not repeatable");
    cr_assert(memcmp(nn_tensor_data(y1), nn_tensor_data(y2), bytes) != 0, "same mask twice");
    nn_layer *neighbour = dropout(0.5f, NULL, NULL); /* created after `again` */
    forward_at(again, x, a, true, 5, 1);
    forward_at(neighbour, x, b, true, 5, 1);
    cr_assert(memcmp(nn_tensor_data(a), nn_tensor_data(b), bytes) != 0,
              "two layers drew the same mask in one step");
    nn_layer_release(neighbour);
    nn_tensor_free(y1);
    nn_tensor_free(y2);
    nn_tensor_free(y3);
    nn_layer_release(layer);
    nn_layer_release(again);
    nn_tensor_free(x);
    nn_tensor_free(a);
    nn_tensor_free(b);
    nn_tensor_free(c);
    nn_tensor_free(d);
}

Test(dropout, backward_is_mask_times_dout)
{
    nn_shape noise = NN_SHAPE(-1, 1, 6);
    const nn_shape *noises[] = {NULL, &noise};
    for (int k = 0; k < 2; k++) {
        nn_layer *layer = dropout(0.25f, noises[k], NULL);
        nn_tensor *x = uniform_tensor(NN_SHAPE(10, 4, 6), 6, 0.5f, 1.5f);
        nn_tensor *dy = uniform_tensor(NN_SHAPE(10, 4, 6), 7, -1.0f, 1.0f);
        nn_tensor *y = empty_like(x), *dx = empty_like(x);
        forward_at(layer, x, y, true, 3, 4);
        nn_exec exec = {.backend = nn_backend_cpu(), .training = true, .seed = 3, .step = 4};
        cr_assert_eq(layer->cls->backward(layer, &exec, x, y, dy, dx), NN_OK);
        const float *out = nn_tensor_f32(y), *g = nn_tensor_f32(dy), *d = nn_tensor_f32(dx);
        size_t bad = 0;
        for (size_t i = 0; i < nn_tensor_count(x); i++) {
            float expected = out[i] != 0.0f ? g[i] / 0.75f : 0.0f;
            bad += d[i] != expected;
        }
        cr_assert_eq(bad, 0, "%zu gradients differ from mask * dout", bad);
        /* After an inference forward the gradient passes through. */
        forward_at(layer, x, y, false, 3, 5);
        exec.training = false;
        cr_assert_eq(layer->cls->backward(layer, &exec, x, y, dy, dx), NN_OK);
        cr_assert(memcmp(nn_tensor_data(dx), nn_tensor_data(dy), nn_tensor_bytes(dy)) == 0);
        nn_tensor_free(x);
        nn_tensor_free(dy);
        nn_tensor_free(y);
        nn_tensor_free(dx);
        nn_layer_release(layer);
    }
}

Test(dropout, masks_do_not_depend_on_the_thread_count)
{
    nn_tensor *x = uniform_tensor(NN_SHAPE(256, 512), 8, 0.5f, 1.5f);
    nn_tensor *a = empty_like(x), *b = empty_like(x);
    nn_layer *layer = dropout(0.4f, NULL, NULL);
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    forward_at(layer, x, a, true, 11, 12);
    omp_set_num_threads(threads > 1 ? threads : 2);
    forward_at(layer, x, b, true, 11, 12);
    omp_set_num_threads(threads);
    cr_assert(memcmp(nn_tensor_data(a), nn_tensor_data(b), nn_tensor_bytes(x)) == 0);
    nn_tensor_free(x);
    nn_tensor_free(a);
    nn_tensor_free(b);
    nn_layer_release(layer);
}

Test(dropout, bad_rates_are_rejected)
{
    const float rates[] = {-0.1f, 1.0f, 1.5f, NAN};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        nn_layer *layer = dropout_with(rates[i], NULL, NULL);
        cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT, "rate %g accepted",
                     (double)rates[i]);
        cr_assert(strstr(nn_error_message(), "[0, 1)"), "%s", nn_error_message());
        nn_layer_release(layer);
    }
    const nn_arg_spec *rate = nn_layer_class_arg(&nn_dropout_class, "rate");
    cr_assert(rate->required && rate->exclusive_max && rate->min == 0.0 && rate->max == 1.0);
}

Test(dropout, bad_noise_shapes_are_rejected)
{
    nn_tensor *x = uniform_tensor(NN_SHAPE(4, 5, 6, 8), 9, 0.0f, 1.0f), *y;
    nn_shape wrong_rank = NN_SHAPE(-1, 1, 8);
    nn_layer *layer = dropout(0.5f, &wrong_rank, NULL);
    cr_assert_eq(nn_layer_call(layer, x, true, &y), NN_ERR_SHAPE);
    cr_assert(strstr(nn_error_message(), "noise_shape (None, 1, 8) has 3 entries"), "%s",
              nn_error_message());
    nn_layer_release(layer);
    nn_shape not_broadcast = NN_SHAPE(-1, 1, 3, 8);
    layer = dropout(0.5f, &not_broadcast, NULL);
    cr_assert_eq(nn_layer_call(layer, x, true, &y), NN_ERR_SHAPE);
    cr_assert(strstr(nn_error_message(), "axis 2"), "%s", nn_error_message());
    nn_layer_release(layer);
    nn_shape bad_batch = NN_SHAPE(3, 1, 1, 8);
    layer = dropout(0.5f, &bad_batch, NULL);
    cr_assert_eq(nn_layer_call(layer, x, true, &y), NN_ERR_SHAPE);
    cr_assert(strstr(nn_error_message(), "batch"), "%s", nn_error_message());
    nn_layer_release(layer);
    nn_shape zero = NN_SHAPE(-1, 0, 1, 8);
    layer = dropout_with(0.5f, &zero, NULL);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    nn_layer_release(layer);
    nn_tensor_free(x);
}

Test(dropout, is_found_by_name_and_has_no_weights)
{
    cr_assert_eq(nn_layer_class_find("Dropout"), &nn_dropout_class);
    nn_layer *layer = dropout(0.5f, NULL, NULL);
    nn_shape input = NN_SHAPE(-1, 128);
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK);
    cr_assert_eq(layer->param_count, 0);
    cr_assert(nn_shape_equal(&layer->output_shape, &input));
    cr_assert_str_eq(layer->name, "dropout");
    cr_assert(strstr(layer->explanation, "= 2"), "%s", layer->explanation);
    nn_layer_release(layer);
}
