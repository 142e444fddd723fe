/* Resizing against a reference in double written from TensorFlow's half-pixel rule (the
 * whole image, a centred crop, a padded canvas; bilinear and nearest; both layouts), its
 * backward as the adjoint of forward, and the layer's shapes and errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "layer_harness.h"
#include "layers/layers.h"
#include "test_support.h"

typedef struct setting {
    int out_height, out_width;
    bool nearest, crop, pad, channels_first;
    float fill_value;
} setting;

static nn_layer *resizing(const setting *s)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, &nn_resizing_class), NN_OK);
    harness_set_int(layer, "height", s->out_height);
    harness_set_int(layer, "width", s->out_width);
    harness_set_choice(layer, "interpolation", s->nearest ? "nearest" : "bilinear");
    harness_set_bool(layer, "crop_to_aspect_ratio", s->crop);
    harness_set_bool(layer, "pad_to_aspect_ratio", s->pad);
    *(float *)harness_arg(layer, "fill_value") = s->fill_value;
    harness_set_choice(layer, "data_format", s->channels_first ? "channels_first" : "channels_last");
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

/* Channel c of image b at (y, x), in either layout. */
static size_t at(const setting *s, int height, int width, int channels, int b, int y, int x,
                 int c)
{
    return s->channels_first ? (((size_t)b * channels + c) * height + y) * width + x
                             : (((size_t)b * height + y) * width + x) * channels + c;
}

/* One axis: the window Keras resizes (its start in the image's cells and its size). */
static void window(const setting *s, int size, int other, int target, int other_target,
                   int *start, int *length)
{
    *length = size;
    if (s->crop || s->pad) {
        int fitted = (int)((double)other * target / other_target);
        *length = s->crop ? (fitted < size ? fitted : size) : (fitted > size ? fitted : size);
        if (*length < 1)
            *length = 1;
    }
    *start = size >= *length ? (size - *length) / 2 : -((*length - size) / 2);
}

/* What output cell o of an axis reads: its window cells and the upper one's weight. */
static void reads(const setting *s, int o, int length, int out, int *lower, int *upper,
                  double *weight)
{
    double scale = (double)length / out;
    if (s->nearest) {
        int index = (int)floor((o + 0.5) * scale);
        *lower = *upper = index > length - 1 ? length - 1 : index;
        *weight = 0;
        return;
    }
    double position = (o + 0.5) * scale - 0.5;
    *lower = (int)floor(position), *upper = (int)ceil(position);
    *weight = position - floor(position);
    *lower = *lower < 0 ? 0 : *lower;
    *upper = *upper > length - 1 ? length - 1 : *upper;
}

static void reference(double *out, const float *in, const setting *s, int batch, int height,
                      int width, int channels)
{
    int top, window_height, left, window_width;
    window(s, height, width, s->out_height, s->out_width, &top, &window_height);
    window(s, width, height, s->out_width, s->out_height, &left, &window_width);
    setting out_layout = *s;
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < channels; c++)
            for (int oy = 0; oy < s->out_height; oy++)
                for (int ox = 0; ox < s->out_width; ox++) {
                    int y0, y1, x0, x1;
                    double wy, wx;
                    reads(s, oy, window_height, s->out_height, &y0, &y1, &wy);
                    reads(s, ox, window_width, s->out_width, &x0, &x1, &wx);
                    double v[2][2];
                    int ys[2] = {y0 + top, y1 + top}, xs[2] = {x0 + left, x1 + left};
                    for (int i = 0; i < 2; i++)
                        for (int j = 0; j < 2; j++)
                            v[i][j] = ys[i] < 0 || ys[i] >= height || xs[j] < 0 || xs[j] >= width
                                          ? s->fill_value
                                          : in[at(s, height, width, channels, b, ys[i], xs[j], c)];
                    double upper_row = v[0][0] + (v[0][1] - v[0][0]) * wx;
                    double lower_row = v[1][0] + (v[1][1] - v[1][0]) * wx;
                    out[at(&out_layout, s->out_height, s->out_width, channels, b, oy, ox, c)] =
                        upper_row + (lower_row - upper_row) * wy;
                }
}

Test(resizing, forward_matches_the_reference_and_backward_is_its_adjoint)
{
    const setting cases[] = {
        {3, 5, false, false, false, false, 0}, {11, 4, false, false, false, true, 0},
        {3, 5, true, false, false, false, 0},  {14, 18, true, false, false, true, 0},
        {7, 9, false, false, false, false, 0}, {4, 8, false, true, false, false, 0},
        {8, 3, true, true, false, true, 0},    {4, 8, false, false, true, false, 2.5f},
        {9, 2, true, false, true, true, -1},   {5, 5, false, true, false, false, 0},
    };
    const int batch = 2, height = 7, width = 9, channels = 3;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const setting *s = &cases[k];
        nn_layer *layer = resizing(s);
        nn_shape shape = s->channels_first ? NN_SHAPE(batch, channels, height, width)
                                           : NN_SHAPE(batch, height, width, channels);
        nn_tensor *x = harness_tensor(&shape, NULL);
        ts_fill_uniform(nn_tensor_f32(x), nn_tensor_count(x), 40 + k, -2, 2);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
        size_t n = nn_tensor_count(run.output);
        cr_assert_eq(n, (size_t)(batch * channels * s->out_height * s->out_width), "case %zu size", k);
        double *expected = malloc(n * sizeof *expected);
        reference(expected, nn_tensor_f32(x), s, batch, height, width, channels);
        ts_comparison forward = ts_compare(nn_tensor_f32(run.output), expected, n, 1e-5, 1e-5);
        cr_expect(forward.ok, "case %zu: element %zu is %.7g, expected %.7g", k,
                  forward.worst_index, (double)nn_tensor_f32(run.output)[forward.worst_index],
                  expected[forward.worst_index]);

        /* forward(x) - forward(0) is linear in x: <dy, that> must equal <backward(dy), x>. */
        nn_tensor *zero = harness_tensor(&shape, NULL);
        memset(nn_tensor_f32(zero), 0, nn_tensor_bytes(zero));
        harness_run at_zero;
        cr_assert_eq(harness_forward(&at_zero, layer, zero, true, NULL), NN_OK);
        nn_tensor *dy = harness_tensor(&run.output->shape, NULL), *dx = harness_tensor(&shape, NULL);
        ts_fill_uniform(nn_tensor_f32(dy), n, 80 + k, -1, 1);
        cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK);
        double outputs = 0, inputs = 0;
        for (size_t i = 0; i < n; i++)
            outputs += (double)nn_tensor_f32(dy)[i] *
                       (nn_tensor_f32(run.output)[i] - nn_tensor_f32(at_zero.output)[i]);
        for (size_t i = 0; i < nn_tensor_count(x); i++)
            inputs += (double)nn_tensor_f32(dx)[i] * nn_tensor_f32(x)[i];
        cr_expect(fabs(outputs - inputs) <= 1e-4 * (1 + fabs(outputs)),
                  "case %zu: <dy, forward x> = %.9g but <backward dy, x> = %.9g", k, outputs,
                  inputs);
        free(expected);
        nn_tensor_free(x), nn_tensor_free(zero), nn_tensor_free(dy), nn_tensor_free(dx);
        harness_run_free(&run), harness_run_free(&at_zero);
        nn_layer_release(layer);
    }
}

Test(resizing, shapes_and_errors)
{
    setting s = {32, 24, false, false, false, false, 0};
    nn_layer *layer = resizing(&s);
    nn_shape input = NN_SHAPE(-1, 28, 28, 3), output;
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK);
    output = layer->output_shape;
    cr_expect_eq(output.dims[1], 32);
    cr_expect_eq(output.dims[2], 24);
    cr_expect_eq(output.dims[3], 3);
    ASSERT_MENTIONS(layer->explanation, "height: 28 -> 32", "width: 28 -> 24", "(bilinear)");
    nn_layer_release(layer);

    s.crop = true;
    layer = resizing(&s);
    cr_assert_eq(nn_layer_build(layer, &input), NN_OK);
    ASSERT_MENTIONS(layer->explanation, "centred 28 x 21 window", "sides cut");
    nn_layer_release(layer);

    layer = resizing(&s);
    nn_shape flat = NN_SHAPE(-1, 28);
    cr_expect_eq(nn_layer_build(layer, &flat), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "(None, 28)");
    nn_layer_release(layer);

    const struct { const char *arg, *choice; bool flag; const char *message; } bad[] = {
        {"interpolation", "bicubic", false, "interpolation='bicubic' is not available"},
        {"antialias", NULL, true, "antialias=True is not available"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        cr_assert_eq(nn_layer_create(&layer, &nn_resizing_class), NN_OK);
        harness_set_int(layer, "height", 4);
        harness_set_int(layer, "width", 4);
        if (bad[k].choice)
            harness_set_choice(layer, bad[k].arg, bad[k].choice);
        else
            harness_set_bool(layer, bad[k].arg, bad[k].flag);
        cr_expect_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
        ASSERT_MENTIONS(nn_error_message(), bad[k].message);
        nn_layer_release(layer);
    }
    cr_assert_eq(nn_layer_create(&layer, &nn_resizing_class), NN_OK);
    harness_set_int(layer, "height", 4);
    harness_set_int(layer, "width", 4);
    harness_set_bool(layer, "crop_to_aspect_ratio", true);
    harness_set_bool(layer, "pad_to_aspect_ratio", true);
    cr_expect_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "only one of crop_to_aspect_ratio and pad_to_aspect_ratio");
    nn_layer_release(layer);
}

Test(resizing, random_crop_cuts_one_window_for_the_batch_and_sends_its_gradient_back)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, &nn_random_crop_class), NN_OK);
    harness_set_int(layer, "height", 4);
    harness_set_int(layer, "width", 5);
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    nn_shape shape = NN_SHAPE(3, 7, 9, 2);
    nn_tensor *x = harness_tensor(&shape, NULL);
    float *in = nn_tensor_f32(x);
    for (size_t i = 0; i < nn_tensor_count(x); i++)
        in[i] = (float)i; /* every value tells its place */
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    const float *out = nn_tensor_f32(run.output);
    /* The first output's value gives the place: element ((b·7 + y)·9 + x)·2 + c. */
    int top = (int)out[0] / 18, left = (int)out[0] / 2 % 9;
    cr_assert(top <= 3 && left <= 4, "the window (%d, %d) lies inside the image", top, left);
    for (int b = 0; b < 3; b++)
        for (int y = 0; y < 4; y++)
            for (int x_ = 0; x_ < 5; x_++)
                for (int c = 0; c < 2; c++)
                    cr_expect_eq(out[((b * 4 + y) * 5 + x_) * 2 + c],
                                 in[((b * 7 + y + top) * 9 + x_ + left) * 2 + c],
                                 "image %d cell (%d, %d): the same window in every image", b, y, x_);
    nn_tensor *dy = harness_tensor(&run.output->shape, NULL), *dx = harness_tensor(&shape, NULL);
    for (size_t i = 0; i < nn_tensor_count(dy); i++)
        nn_tensor_f32(dy)[i] = (float)(i + 1);
    cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK);
    for (int b = 0; b < 3; b++)
        for (int y = 0; y < 7; y++)
            for (int x_ = 0; x_ < 9; x_++)
                for (int c = 0; c < 2; c++) {
                    bool inside = y >= top && y < top + 4 && x_ >= left && x_ < left + 5;
                    float expected =
                        inside ? nn_tensor_f32(dy)[((b * 4 + y - top) * 5 + x_ - left) * 2 + c]
                               : 0.0f;
                    cr_expect_eq(nn_tensor_f32(dx)[((b * 7 + y) * 9 + x_) * 2 + c], expected,
                                 "gradient of image %d cell (%d, %d)", b, y, x_);
                }
    nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
    harness_run_free(&run);
    nn_layer_release(layer);
}
