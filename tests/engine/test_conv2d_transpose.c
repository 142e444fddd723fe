/* Conv2DTranspose against a naive reference written from the definition, in double:
 * every input cell (h, w) adds x · kernel[i, j, f, c] to output cell
 * (h·stride - pad + i·dilation, w·stride - pad + j·dilation), with TensorFlow's padding
 * (that of a 'same' convolution over the output). The reference's gradients come from
 * the same scatter read backwards, so the layer, which runs on the convolution kernels,
 * is checked by code that shares nothing with it. Keras' output sizes are checked too. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "layer_harness.h"

typedef struct transpose_case {
    int height, width, channels, filters, kernel, stride, dilation;
    bool same;
    int output_padding; /* NN_PAIR_NONE: None */
    bool channels_first;
    int out_height, out_width; /* Keras' sizes */
} transpose_case;

enum { NONE = NN_PAIR_NONE };

static const transpose_case cases[] = {
    {5, 5, 2, 3, 3, 1, 1, false, NONE, false, 7, 7},
    {4, 5, 3, 2, 3, 2, 1, true, NONE, false, 8, 10},
    {4, 4, 2, 3, 3, 2, 1, false, 1, false, 10, 10},
    {5, 4, 2, 2, 3, 2, 1, true, 1, false, 10, 8},
    {4, 4, 1, 2, 2, 3, 1, false, NONE, false, 12, 12}, /* kernel smaller than the stride */
    {5, 5, 2, 2, 3, 1, 2, false, NONE, false, 9, 9},   /* dilated */
    {4, 3, 2, 3, 3, 2, 1, true, NONE, true, 8, 6},
    {3, 4, 3, 2, 4, 2, 1, true, NONE, true, 6, 8},     /* even kernel, 'same' */
    {4, 4, 2, 2, 3, 2, 1, true, 0, false, 7, 7},       /* output_padding 0 is not None */
    {4, 4, 1, 2, 2, 3, 1, false, 0, false, 11, 11},
};

static nn_layer *make_layer(const transpose_case *c)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_conv2d_transpose_class), NN_OK);
    harness_set_int(layer, "filters", c->filters);
    harness_set_pair(layer, "kernel_size", c->kernel, c->kernel);
    harness_set_pair(layer, "strides", c->stride, c->stride);
    harness_set_pair(layer, "dilation_rate", c->dilation, c->dilation);
    harness_set_pair(layer, "output_padding", c->output_padding, c->output_padding);
    harness_set_choice(layer, "padding", c->same ? "same" : "valid");
    harness_set_choice(layer, "data_format", c->channels_first ? "channels_first" : "channels_last");
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

/* Index of (b, h, w, c) in a tensor of that layout. */
static size_t index_of(const transpose_case *c, bool first, int b, int h, int w, int ch,
                       int height, int width, int channels)
{
    (void)c;
    if (first)
        return (((size_t)b * channels + ch) * height + h) * width + w;
    return (((size_t)b * height + h) * width + w) * channels + ch;
}

typedef struct reference {
    double *y, *dx, *dkernel, *dbias;
} reference;

static void run_reference(reference *r, const transpose_case *c, int batch, const float *x,
                          const float *kernel, const float *bias, const float *dy)
{
    int oh_count = c->out_height, ow_count = c->out_width, k = c->kernel;
    int extent = k + (k - 1) * (c->dilation - 1);
    int pad_h = 0, pad_w = 0;
    if (c->same) {
        int total_h = (c->height - 1) * c->stride + extent - oh_count;
        int total_w = (c->width - 1) * c->stride + extent - ow_count;
        pad_h = total_h > 0 ? total_h / 2 : 0;
        pad_w = total_w > 0 ? total_w / 2 : 0;
    }
    size_t y_count = (size_t)batch * oh_count * ow_count * c->filters;
    size_t x_count = (size_t)batch * c->height * c->width * c->channels;
    r->y = calloc(y_count, sizeof(double));
    r->dx = calloc(x_count, sizeof(double));
    r->dkernel = calloc((size_t)k * k * c->filters * c->channels, sizeof(double));
    r->dbias = calloc((size_t)c->filters, sizeof(double));
    bool first = c->channels_first;
    for (int b = 0; b < batch; b++)
        for (int oh = 0; oh < oh_count; oh++)
            for (int ow = 0; ow < ow_count; ow++)
                for (int f = 0; f < c->filters; f++) {
                    size_t at = index_of(c, first, b, oh, ow, f, oh_count, ow_count, c->filters);
                    r->y[at] = bias[f];
                    r->dbias[f] += dy[at];
                }
    for (int b = 0; b < batch; b++)
        for (int h = 0; h < c->height; h++)
            for (int w = 0; w < c->width; w++)
                for (int ch = 0; ch < c->channels; ch++) {
                    size_t xi = index_of(c, first, b, h, w, ch, c->height, c->width, c->channels);
                    for (int i = 0; i < k; i++)
                        for (int j = 0; j < k; j++) {
                            int oh = h * c->stride - pad_h + i * c->dilation;
                            int ow = w * c->stride - pad_w + j * c->dilation;
                            if (oh < 0 || oh >= oh_count || ow < 0 || ow >= ow_count)
                                continue;
                            for (int f = 0; f < c->filters; f++) {
                                size_t ki = (((size_t)i * k + j) * c->filters + f) * c->channels + ch;
                                size_t yi = index_of(c, first, b, oh, ow, f, oh_count, ow_count,
                                                     c->filters);
                                r->y[yi] += (double)x[xi] * kernel[ki];
                                r->dx[xi] += (double)dy[yi] * kernel[ki];
                                r->dkernel[ki] += (double)dy[yi] * x[xi];
                            }
                        }
                }
}

static void expect_close(const float *actual, const double *expected, size_t n,
                         const char *what, size_t case_index)
{
    ts_comparison result = ts_compare(actual, expected, n, 1e-5, 1e-5);
    cr_expect(result.ok, "case %zu, %s: element %zu is %.9g, expected %.9g", case_index, what,
              result.worst_index, (double)actual[result.worst_index],
              expected[result.worst_index]);
}

Test(conv2d_transpose, forward_and_backward_match_the_reference)
{
    const int batch = 2;
    for (size_t n = 0; n < sizeof cases / sizeof cases[0]; n++) {
        const transpose_case *c = &cases[n];
        nn_layer *layer = make_layer(c);
        nn_shape input_shape = c->channels_first
                                   ? NN_SHAPE(batch, c->channels, c->height, c->width)
                                   : NN_SHAPE(batch, c->height, c->width, c->channels);
        cr_assert_eq(nn_layer_build(layer, &input_shape), NN_OK, "case %zu: %s", n,
                     nn_error_message());
        int64_t out_h = layer->output_shape.dims[c->channels_first ? 2 : 1];
        int64_t out_w = layer->output_shape.dims[c->channels_first ? 3 : 2];
        cr_assert_eq(out_h, c->out_height, "case %zu: output height %lld", n, (long long)out_h);
        cr_assert_eq(out_w, c->out_width, "case %zu: output width %lld", n, (long long)out_w);
        for (int i = 0; i < layer->param_count; i++)
            ts_fill_uniform(nn_tensor_f32(layer->params[i].value),
                            nn_tensor_count(layer->params[i].value), 70 + n + (uint64_t)i, -1, 1);
        nn_tensor *x = harness_tensor(&input_shape, NULL);
        ts_fill_uniform(nn_tensor_f32(x), nn_tensor_count(x), 80 + n, -1, 1);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "case %zu: %s", n,
                     nn_error_message());
        nn_tensor *dy = harness_tensor(&run.output->shape, NULL);
        ts_fill_uniform(nn_tensor_f32(dy), nn_tensor_count(dy), 90 + n, -1, 1);
        nn_tensor *dx = harness_tensor(&input_shape, NULL);
        cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK, "case %zu: %s", n,
                     nn_error_message());
        reference r;
        run_reference(&r, c, batch, nn_tensor_f32(x), nn_tensor_f32(layer->params[0].value),
                      nn_tensor_f32(layer->params[1].value), nn_tensor_f32(dy));
        expect_close(nn_tensor_f32(run.output), r.y, nn_tensor_count(run.output), "output", n);
        expect_close(nn_tensor_f32(dx), r.dx, nn_tensor_count(dx), "input gradient", n);
        expect_close(nn_tensor_f32(layer->params[0].grad), r.dkernel,
                     nn_tensor_count(layer->params[0].grad), "kernel gradient", n);
        expect_close(nn_tensor_f32(layer->params[1].grad), r.dbias, (size_t)c->filters,
                     "bias gradient", n);
        free(r.y), free(r.dx), free(r.dkernel), free(r.dbias);
        nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
}

Test(conv2d_transpose, bad_arguments_are_refused_with_the_reason)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_conv2d_transpose_class), NN_OK);
    harness_set_int(layer, "filters", 3);
    harness_set_pair(layer, "kernel_size", 3, 3);
    harness_set_pair(layer, "strides", 2, 2);
    harness_set_pair(layer, "output_padding", 2, 2);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "output_padding must be smaller than the strides",
                    "(2, 2)");
    harness_set_pair(layer, "output_padding", NN_PAIR_NONE, NN_PAIR_NONE);
    harness_set_pair(layer, "dilation_rate", 2, 2);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "strides > 1", "dilation_rate > 1");
    nn_layer_release(layer);
}
