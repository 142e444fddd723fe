/* RandomContrast and RandomBrightness: every output against the definition with the draw
 * each image made (read back from one unclipped value, then required of all the others),
 * the draws inside the range and different per image, the clip to value_range, both
 * layouts, identity in inference, backward against central differences (away from the
 * clip's corners), and bad arguments. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "layer_harness.h"
#include "layers/layers.h"
#include "random.h"
#include "test_support.h"

static void seed_globally(void) { nn_random_seed(20261127); }
TestSuite(random_color, .init = seed_globally);

/* A layer of `cls` with factor {lower, upper} (a pair) and value_range {low, high}. */
static nn_layer *color_layer(const nn_layer_class *cls, float lower, float upper, float low,
                             float high, const char *data_format)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, cls), NN_OK);
    if (cls == &nn_random_contrast_class) {
        *(nn_optional_floats *)harness_arg(layer, "factor") =
            (nn_optional_floats){.present = true, .list = true, .count = 2, .values = {lower, upper}};
    } else {
        float *factor = harness_arg(layer, "factor");
        factor[0] = lower, factor[1] = upper;
    }
    *(nn_optional_floats *)harness_arg(layer, "value_range") =
        (nn_optional_floats){.present = true, .list = true, .count = 2, .values = {low, high}};
    harness_set_choice(layer, "data_format", data_format);
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

/* Where element (b, y, x, c) lies in either layout. */
typedef struct images {
    int batch, height, width, channels;
    bool channels_first;
} images;

static size_t at(const images *s, int b, int k, int c)
{
    size_t plane = (size_t)s->height * s->width;
    return s->channels_first ? ((size_t)b * s->channels + c) * plane + k
                             : ((size_t)b * plane + k) * s->channels + c;
}

static double plane_mean(const float *x, const images *s, int b, int c)
{
    double sum = 0;
    for (int k = 0; k < s->height * s->width; k++)
        sum += x[at(s, b, k, c)];
    return sum / (s->height * s->width);
}

/* The value before the clip for a draw. */
static double adjusted(bool contrast, double x, double mean, double draw)
{
    return contrast ? (x - mean) * draw + mean : x + draw;
}

/* Checks y = clip(adjusted(x)) for every element with one draw per image inside
 * [range_low, range_high]; returns how many images drew distinct values. */
static int check_forward(bool contrast, const float *x, const float *y, const images *s,
                         double range_low, double range_high, double low, double high)
{
    int distinct = 0;
    double previous = NAN;
    for (int b = 0; b < s->batch; b++) {
        /* The draw, read from an element well inside the range and away from the mean. */
        double draw = NAN;
        for (int c = 0; c < s->channels && isnan(draw); c++) {
            double mean = plane_mean(x, s, b, c);
            for (int k = 0; k < s->height * s->width; k++) {
                size_t i = at(s, b, k, c);
                if (y[i] > low + 1e-3 && y[i] < high - 1e-3 && (!contrast || fabs(x[i] - mean) > 0.2)) {
                    draw = contrast ? (y[i] - mean) / (x[i] - mean) : y[i] - (double)x[i];
                    break;
                }
            }
        }
        cr_assert(!isnan(draw), "image %d has a value left unclipped", b);
        cr_expect(draw >= range_low - 1e-4 && draw <= range_high + 1e-4,
                  "image %d drew %g, outside [%g, %g]", b, draw, range_low, range_high);
        distinct += draw != previous;
        previous = draw;
        for (int c = 0; c < s->channels; c++) {
            double mean = plane_mean(x, s, b, c);
            for (int k = 0; k < s->height * s->width; k++) {
                size_t i = at(s, b, k, c);
                double expected = fmin(fmax(adjusted(contrast, x[i], mean, draw), low), high);
                cr_expect(fabs(y[i] - expected) <= 1e-4,
                          "image %d channel %d element %d: %.7g, expected %.7g (draw %g)", b, c,
                          k, (double)y[i], expected, draw);
            }
        }
    }
    return distinct;
}

static void check_layer(const nn_layer_class *cls, float lower, float upper, float low,
                        float high, double range_low, double range_high, bool channels_first)
{
    images s = {6, 4, 5, 3, channels_first};
    nn_layer *layer = color_layer(cls, lower, upper, low, high,
                                  channels_first ? "channels_first" : "channels_last");
    nn_shape shape = channels_first ? NN_SHAPE(6, 3, 4, 5) : NN_SHAPE(6, 4, 5, 3);
    nn_tensor *x = harness_tensor(&shape, NULL);
    ts_fill_uniform(nn_tensor_f32(x), nn_tensor_count(x), 7, 0.0f, 1.0f);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    int distinct = check_forward(cls == &nn_random_contrast_class, nn_tensor_f32(x),
                                 nn_tensor_f32(run.output), &s, range_low, range_high, low, high);
    cr_expect(distinct >= 5, "%s: only %d of 6 images drew their own value", cls->name, distinct);
    harness_run_free(&run);
    cr_assert_eq(harness_forward(&run, layer, x, false, NULL), NN_OK);
    for (size_t i = 0; i < nn_tensor_count(x); i++)
        cr_expect_eq(nn_tensor_f32(run.output)[i], nn_tensor_f32(x)[i], "inference: identity");
    harness_run_free(&run);
    nn_tensor_free(x);
    nn_layer_release(layer);
}

Test(random_color, contrast_spreads_each_channel_from_its_mean)
{
    /* {0.5, 0.8}: a factor from 0.5 to 1.8; a wide value range clips nothing */
    check_layer(&nn_random_contrast_class, 0.5f, 0.8f, -100, 100, 0.5, 1.8, false);
    check_layer(&nn_random_contrast_class, 0.5f, 0.8f, -100, 100, 0.5, 1.8, true);
    /* images in [0, 1] spread up to 2x: clipped to the range */
    check_layer(&nn_random_contrast_class, 0.0f, 1.0f, 0, 1, 1.0, 2.0, false);
}

Test(random_color, brightness_shifts_each_image_by_a_fraction_of_the_range)
{
    /* {-0.3, 0.3} of a range 2 wide: shifts from -0.6 to 0.6, clipped to [0, 2] */
    check_layer(&nn_random_brightness_class, -0.3f, 0.3f, 0, 2, -0.6, 0.6, false);
    check_layer(&nn_random_brightness_class, -0.3f, 0.3f, 0, 2, -0.6, 0.6, true);
    check_layer(&nn_random_brightness_class, 0.5f, 0.9f, 0, 1, 0.5, 0.9, false);
}

/* Σ weights · output for the central differences (every harness_forward runs at the same
 * seed and step, so each sees the draws backward used). */
typedef struct weighted {
    nn_layer *layer;
    const float *weights;
    nn_shape shape;
} weighted;

static double weighted_output(const float *x, const weighted *w)
{
    nn_tensor *input = harness_tensor(&w->shape, x);
    harness_run run;
    cr_assert_eq(harness_forward(&run, w->layer, input, true, NULL), NN_OK);
    double total = 0;
    for (size_t i = 0; i < nn_tensor_count(input); i++)
        total += (double)w->weights[i] * nn_tensor_f32(run.output)[i];
    harness_run_free(&run);
    nn_tensor_free(input);
    return total;
}

static void check_backward(const nn_layer_class *cls, float lower, float upper, float high)
{
    nn_layer *layer = color_layer(cls, lower, upper, 0, high, "channels_last");
    nn_shape shape = NN_SHAPE(3, 3, 4, 2);
    enum { N = 72 };
    float x[N], weights[N];
    ts_fill_uniform(x, N, 11, 0.0f, 1.0f);
    ts_fill_uniform(weights, N, 12, -1.0f, 1.0f);
    nn_tensor *input = harness_tensor(&shape, x), *doutput = harness_tensor(&shape, weights);
    nn_tensor *dinput = harness_tensor(&shape, NULL);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, input, true, NULL), NN_OK);
    float y[N];
    memcpy(y, nn_tensor_f32(run.output), sizeof y);
    cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, false), NN_OK);
    weighted w = {layer, weights, shape};
    const float h = 1e-3f;
    int checked = 0;
    for (int i = 0; i < N; i++) {
        /* Skip elements whose output sits at or next to the clip (the derivative jumps). */
        if (y[i] <= 2e-2f || y[i] >= high - 2e-2f)
            continue;
        float saved = x[i];
        x[i] = saved + h;
        double up = weighted_output(x, &w);
        x[i] = saved - h;
        double down = weighted_output(x, &w);
        x[i] = saved;
        double numeric = (up - down) / (2 * h);
        cr_expect(fabs(nn_tensor_f32(dinput)[i] - numeric) <= 2e-3 * (1 + fabs(numeric)),
                  "%s: dx[%d] is %.6g, the central difference %.6g", cls->name, i,
                  (double)nn_tensor_f32(dinput)[i], numeric);
        checked++;
    }
    cr_expect(checked >= N / 3, "%s: only %d elements away from the clip", cls->name, checked);
    /* Clipped outputs pass no gradient of their own. */
    if (cls == &nn_random_brightness_class)
        for (int i = 0; i < N; i++)
            if (y[i] == 0.0f || y[i] == high)
                cr_expect_eq(nn_tensor_f32(dinput)[i], 0.0f, "clipped element %d", i);
    harness_run_free(&run);
    nn_tensor_free(input), nn_tensor_free(doutput), nn_tensor_free(dinput);
    nn_layer_release(layer);
}

Test(random_color, backward_matches_central_differences)
{
    check_backward(&nn_random_contrast_class, 0.5f, 0.5f, 100); /* nothing clipped */
    check_backward(&nn_random_contrast_class, 0.2f, 1.0f, 1);   /* some clipped */
    check_backward(&nn_random_brightness_class, -0.4f, 0.4f, 1);
}

Test(random_color, bad_arguments_say_what_is_allowed)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, &nn_random_contrast_class), NN_OK);
    *(nn_optional_floats *)harness_arg(layer, "factor") =
        (nn_optional_floats){.present = true, .list = true, .count = 2, .values = {1.5f, 0.2f}};
    cr_expect_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "lower bound must be at most 1", "1.5");
    nn_layer_release(layer);

    cr_assert_eq(nn_layer_create(&layer, &nn_random_contrast_class), NN_OK);
    *(nn_optional_floats *)harness_arg(layer, "factor") =
        (nn_optional_floats){.present = true, .list = true, .count = 3, .values = {0.1f, 0.2f, 0.3f}};
    cr_expect_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "a pair {lower, upper}", "a list of 3");
    nn_layer_release(layer);

    cr_assert_eq(nn_layer_create(&layer, &nn_random_contrast_class), NN_OK);
    cr_expect_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "factor is required");
    nn_layer_release(layer);

    cr_assert_eq(nn_layer_create(&layer, &nn_random_brightness_class), NN_OK);
    float *factor = harness_arg(layer, "factor");
    factor[0] = -0.2f, factor[1] = 1.5f;
    cr_expect_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "factor=(-0.2, 1.5) is out of range", "[-1, 1]");
    nn_layer_release(layer);

    cr_assert_eq(nn_layer_create(&layer, &nn_random_brightness_class), NN_OK);
    factor = harness_arg(layer, "factor");
    factor[0] = -0.2f, factor[1] = 0.2f;
    *(nn_optional_floats *)harness_arg(layer, "value_range") =
        (nn_optional_floats){.present = true, .list = true, .count = 2, .values = {1, 1}};
    cr_expect_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "value_range must span a range", "{1, 1}");
    nn_layer_release(layer);

    layer = color_layer(&nn_random_brightness_class, -0.1f, 0.1f, 0, 1, "channels_last");
    nn_shape flat = NN_SHAPE(2, 8);
    cr_expect_eq(nn_layer_build(layer, &flat), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "(None, 8)");
    nn_layer_release(layer);
}
