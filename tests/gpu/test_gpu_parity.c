/* Every kernel of a device backend, forward and backward, against the CPU backend on the
 * same inputs, within a normalised error: max |device - cpu| / max |cpu|. Run as
 * `test_gpu_parity cuda` (skipped without a GPU) and `test_gpu_parity emulated`.
 * Tolerances: cuDNN and cuBLAS sum in other orders (and may pick FFT or Winograd
 * algorithms), so convolutions and products get 1e-4 to 5e-4; element-wise kernels share
 * their arithmetic with the CPU (see engine/cuda/bodies) and differ by the last bits of
 * CUDA's libm at most. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_kernels.h"
#include "gpu_harness.h"

/* ---- helpers ---- */

static size_t conv_in(const nn_conv2d_geometry *g)
{
    return (size_t)g->batch * (size_t)g->in_height * (size_t)g->in_width * (size_t)g->in_channels;
}
static size_t conv_out(const nn_conv2d_geometry *g)
{
    return (size_t)g->batch * (size_t)g->out_height * (size_t)g->out_width * (size_t)g->out_channels;
}
static size_t conv_kernel(const nn_conv2d_geometry *g)
{
    return (size_t)g->kernel_height * (size_t)g->kernel_width *
           (size_t)(g->in_channels / g->groups) * (size_t)g->out_channels;
}

/* Keras' output size and leading padding. */
static int window(int input, int size, int stride, int dilation, bool same, int *pad_before)
{
    int effective = (size - 1) * dilation + 1;
    if (same) {
        int output = (input + stride - 1) / stride;
        int total = (output - 1) * stride + effective - input;
        *pad_before = total > 0 ? total / 2 : 0;
        return output;
    }
    *pad_before = 0;
    return input >= effective ? (input - effective) / stride + 1 : 0;
}

static nn_conv2d_geometry conv_geometry(int batch, int height, int width, int channels,
                                        int filters, int kernel, int stride, int dilation,
                                        bool same, int groups)
{
    nn_conv2d_geometry g = {.batch = batch, .in_height = height, .in_width = width,
                            .in_channels = channels, .out_channels = filters,
                            .kernel_height = kernel, .kernel_width = kernel,
                            .stride_height = stride, .stride_width = stride,
                            .dilation_height = dilation, .dilation_width = dilation,
                            .groups = groups};
    g.out_height = window(height, kernel, stride, dilation, same, &g.pad_top);
    g.out_width = window(width, kernel, stride, dilation, same, &g.pad_left);
    return g;
}

/* Forward and backward of one convolution on both backends; `sized_for` is the batch
 * the device scratch was sized for (a fit's last batch is shorter than the others). */
static void conv_case(const char *name, nn_conv2d_geometry g, bool bias, nn_activation act,
                      int sized_for)
{
    const nn_backend *cpu = nn_backend_cpu();
    size_t in_n = conv_in(&g), out_n = conv_out(&g), k_n = conv_kernel(&g);
    size_t oc = (size_t)g.out_channels;
    float *inp = gh_random(in_n, 1, -1, 1), *kernel = gh_random(k_n, 2, -0.5f, 0.5f);
    float *b = bias ? gh_random(oc, 3, -0.2f, 0.2f) : NULL;
    float *dout = gh_random(out_n, 4, -1, 1);
    float *out_cpu = calloc(out_n, 4), *out_dev = calloc(out_n, 4);
    float *dinp_cpu = calloc(in_n, 4), *dinp_dev = calloc(in_n, 4);
    float *dk_cpu = calloc(k_n, 4), *dk_dev = calloc(k_n, 4);
    float *db_cpu = calloc(oc, 4), *db_dev = calloc(oc, 4);
    float *scratch_cpu = calloc(cpu->conv2d_scratch_floats(&g) + 1, 4);

    cpu->conv2d_forward(out_cpu, inp, kernel, b, act, &g, scratch_cpu);
    cpu->conv2d_backward(dinp_cpu, dk_cpu, bias ? db_cpu : NULL, dout, inp, kernel, &g,
                         scratch_cpu);

    nn_conv2d_geometry sizing = g;
    sizing.batch = sized_for;
    size_t scratch_floats = gh_device->conv2d_scratch_floats(&sizing);
    float *d_in = gh_upload(inp, in_n * 4), *d_kernel = gh_upload(kernel, k_n * 4);
    float *d_bias = bias ? gh_upload(b, oc * 4) : NULL, *d_dout = gh_upload(dout, out_n * 4);
    float *d_out = gh_zeros(out_n * 4), *d_dinp = gh_zeros(in_n * 4);
    float *d_dk = gh_zeros(k_n * 4), *d_db = gh_zeros(oc * 4);
    float *d_scratch = gh_zeros((scratch_floats + 1) * 4);
    gh_device->conv2d_forward(d_out, d_in, d_kernel, d_bias, act, &g, d_scratch);
    gh_device->conv2d_backward(d_dinp, d_dk, bias ? d_db : NULL, d_dout, d_in, d_kernel, &g,
                               d_scratch);
    gh_sync(name);
    gh_download(out_dev, d_out, out_n * 4);
    gh_download(dinp_dev, d_dinp, in_n * 4);
    gh_download(dk_dev, d_dk, k_n * 4);
    gh_download(db_dev, d_db, oc * 4);
    char what[96];
    snprintf(what, sizeof what, "%s output", name);
    gh_expect_close(what, out_dev, out_cpu, out_n, 5e-4);
    snprintf(what, sizeof what, "%s input gradient", name);
    gh_expect_close(what, dinp_dev, dinp_cpu, in_n, 5e-4);
    snprintf(what, sizeof what, "%s kernel gradient", name);
    gh_expect_close(what, dk_dev, dk_cpu, k_n, 5e-4);
    if (bias) {
        snprintf(what, sizeof what, "%s bias gradient", name);
        gh_expect_close(what, db_dev, db_cpu, oc, 1e-5);
    }
    gh_free(d_in), gh_free(d_kernel), gh_free(d_bias), gh_free(d_dout), gh_free(d_out);
    gh_free(d_dinp), gh_free(d_dk), gh_free(d_db), gh_free(d_scratch);
    free(inp), free(kernel), free(b), free(dout), free(out_cpu), free(out_dev), free(dinp_cpu);
    free(dinp_dev), free(dk_cpu), free(dk_dev), free(db_cpu), free(db_dev), free(scratch_cpu);
}

/* ---- cases ---- */

static void seed_cnn_convolutions(void)
{
    nn_activation relu = nn_activation_default(NN_ACTIVATION_RELU);
    conv_case("conv 28x28x1->32 3x3 same relu", conv_geometry(64, 28, 28, 1, 32, 3, 1, 1, true, 1),
              true, relu, 64);
    conv_case("conv 14x14x32->64 3x3 same relu",
              conv_geometry(64, 14, 14, 32, 64, 3, 1, 1, true, 1), true, relu, 64);
    /* The last batch of an epoch (48000 % 64 = 0, but 60000 * 0.8 % 64 may not be). */
    conv_case("conv short batch 7 after 64", conv_geometry(7, 14, 14, 32, 64, 3, 1, 1, true, 1),
              true, relu, 64);
}

static void other_convolutions(void)
{
    nn_activation linear = nn_activation_default(NN_ACTIVATION_LINEAR);
    conv_case("conv valid stride 2", conv_geometry(3, 13, 11, 3, 8, 3, 2, 1, false, 1), true,
              linear, 3);
    conv_case("conv same stride 2 (explicit padding)",
              conv_geometry(3, 12, 10, 3, 8, 3, 2, 1, true, 1), true, linear, 3);
    conv_case("conv same 4x4 (explicit padding)", conv_geometry(2, 9, 9, 4, 6, 4, 1, 1, true, 1),
              false, linear, 2);
    conv_case("conv dilation 2", conv_geometry(2, 12, 12, 3, 5, 3, 1, 2, true, 1), true, linear, 2);
    conv_case("conv groups 2", conv_geometry(2, 8, 8, 6, 4, 3, 1, 1, false, 2), true, linear, 2);
    conv_case("conv softmax over channels", conv_geometry(2, 6, 6, 3, 5, 3, 1, 1, true, 1), true,
              nn_activation_default(NN_ACTIVATION_SOFTMAX), 2);
}

static void max_pooling(void)
{
    const struct { int h, w, pool, stride; bool same; } cases[] = {
        {28, 28, 2, 2, false}, {7, 9, 3, 2, true}, {6, 6, 3, 1, true}};
    for (size_t k = 0; k < 3; k++) {
        nn_pool2d_geometry g = {.batch = 5, .in_height = cases[k].h, .in_width = cases[k].w,
                                .channels = 8, .pool_height = cases[k].pool,
                                .pool_width = cases[k].pool, .stride_height = cases[k].stride,
                                .stride_width = cases[k].stride};
        g.out_height = window(g.in_height, g.pool_height, g.stride_height, 1, cases[k].same, &g.pad_top);
        g.out_width = window(g.in_width, g.pool_width, g.stride_width, 1, cases[k].same, &g.pad_left);
        size_t in_n = (size_t)(g.batch * g.in_height * g.in_width * g.channels);
        size_t out_n = (size_t)(g.batch * g.out_height * g.out_width * g.channels);
        float *inp = gh_random(in_n, 10 + k, -1, 1), *dout = gh_random(out_n, 20 + k, -1, 1);
        float *out_cpu = calloc(out_n, 4), *out_dev = calloc(out_n, 4);
        float *din_cpu = calloc(in_n, 4), *din_dev = calloc(in_n, 4);
        int32_t *arg_cpu = calloc(out_n, 4), *arg_dev = calloc(out_n, 4);
        nn_cpu_maxpool2d_forward(out_cpu, arg_cpu, inp, &g);
        nn_cpu_maxpool2d_backward(din_cpu, dout, arg_cpu, &g);
        float *d_in = gh_upload(inp, in_n * 4), *d_dout = gh_upload(dout, out_n * 4);
        float *d_out = gh_zeros(out_n * 4), *d_din = gh_zeros(in_n * 4);
        int32_t *d_arg = gh_zeros(out_n * 4);
        gh_device->maxpool2d_forward(d_out, d_arg, d_in, &g);
        gh_device->maxpool2d_backward(d_din, d_dout, d_arg, &g);
        gh_download(out_dev, d_out, out_n * 4);
        gh_download(din_dev, d_din, in_n * 4);
        gh_download(arg_dev, d_arg, out_n * 4);
        gh_expect_close("maxpool output", out_dev, out_cpu, out_n, 0.0);
        GH_CHECK(memcmp(arg_dev, arg_cpu, out_n * 4) == 0, "maxpool winners differ (case %zu)", k);
        gh_expect_close("maxpool input gradient", din_dev, din_cpu, in_n, 0.0);
        /* Average pooling: the same sums in the same order on both, so exactly equal. */
        nn_cpu_avgpool2d_forward(out_cpu, inp, &g);
        nn_cpu_avgpool2d_backward(din_cpu, dout, &g);
        gh_device->avgpool2d_forward(d_out, d_in, &g);
        gh_device->avgpool2d_backward(d_din, d_dout, &g);
        gh_download(out_dev, d_out, out_n * 4);
        gh_download(din_dev, d_din, in_n * 4);
        gh_expect_close("average pooling output", out_dev, out_cpu, out_n, 0.0);
        gh_expect_close("average pooling input gradient", din_dev, din_cpu, in_n, 0.0);
        nn_cpu_maxpool2d_forward(out_cpu, arg_cpu, inp, &g);
        gh_device->maxpool2d_forward(d_out, d_arg, d_in, &g);
        nn_cpu_maxpool2d_backward_relu(din_cpu, dout, arg_cpu, out_cpu, &g);
        gh_device->maxpool2d_backward_relu(d_din, d_dout, d_arg, d_out, &g);
        gh_download(din_dev, d_din, in_n * 4);
        gh_expect_close("maxpool input gradient through a ReLU", din_dev, din_cpu, in_n, 0.0);
        gh_free(d_in), gh_free(d_dout), gh_free(d_out), gh_free(d_din), gh_free(d_arg);
        free(inp), free(dout), free(out_cpu), free(out_dev), free(din_cpu), free(din_dev);
        free(arg_cpu), free(arg_dev);
    }
}

/* The padding layers' windows and nearest upsampling: copies and the CPU's summing
 * order, so exactly equal. */
static void resampling(void)
{
    nn_window2d_geometry w = {.batch = 3, .channels = 5, .outer_height = 30, .outer_width = 31,
                              .inner_height = 28, .inner_width = 27, .top = 1, .left = 3};
    size_t inner_n = (size_t)(w.batch * w.inner_height * w.inner_width * w.channels);
    size_t outer_n = (size_t)(w.batch * w.outer_height * w.outer_width * w.channels);
    float *inner = gh_random(inner_n, 61, -1, 1), *outer = gh_random(outer_n, 62, -1, 1);
    float *cpu = calloc(outer_n, 4), *dev = calloc(outer_n, 4);
    float *d_inner = gh_upload(inner, inner_n * 4), *d_outer = gh_upload(outer, outer_n * 4);
    float *d_result = gh_zeros(outer_n * 4);
    nn_cpu_window2d_embed(cpu, inner, &w);
    gh_device->window2d_embed(d_result, d_inner, &w);
    gh_download(dev, d_result, outer_n * 4);
    gh_expect_close("zero padding", dev, cpu, outer_n, 0.0);
    nn_cpu_window2d_extract(cpu, outer, &w);
    gh_device->window2d_extract(d_result, d_outer, &w);
    gh_download(dev, d_result, inner_n * 4);
    gh_expect_close("cropping", dev, cpu, inner_n, 0.0);
    gh_free(d_inner), gh_free(d_outer), gh_free(d_result);
    free(inner), free(outer), free(cpu), free(dev);

    nn_upsample2d_geometry u = {.batch = 4, .height = 14, .width = 13, .channels = 6,
                                .size_height = 2, .size_width = 3};
    size_t in_n = (size_t)(u.batch * u.height * u.width * u.channels);
    size_t out_n = in_n * (size_t)(u.size_height * u.size_width);
    float *inp = gh_random(in_n, 63, -1, 1), *dout = gh_random(out_n, 64, -1, 1);
    float *out_cpu = calloc(out_n, 4), *out_dev = calloc(out_n, 4);
    float *din_cpu = calloc(in_n, 4), *din_dev = calloc(in_n, 4);
    float *d_in = gh_upload(inp, in_n * 4), *d_dout = gh_upload(dout, out_n * 4);
    float *d_out = gh_zeros(out_n * 4), *d_din = gh_zeros(in_n * 4);
    nn_cpu_upsample2d_forward(out_cpu, inp, &u);
    nn_cpu_upsample2d_backward(din_cpu, dout, &u);
    gh_device->upsample2d_forward(d_out, d_in, &u);
    gh_device->upsample2d_backward(d_din, d_dout, &u);
    gh_download(out_dev, d_out, out_n * 4);
    gh_download(din_dev, d_din, in_n * 4);
    gh_expect_close("upsampling output", out_dev, out_cpu, out_n, 0.0);
    gh_expect_close("upsampling input gradient", din_dev, din_cpu, in_n, 0.0);
    u.bilinear = true;
    nn_cpu_upsample2d_forward(out_cpu, inp, &u);
    nn_cpu_upsample2d_backward(din_cpu, dout, &u);
    gh_device->upsample2d_forward(d_out, d_in, &u);
    gh_device->upsample2d_backward(d_din, d_dout, &u);
    gh_download(out_dev, d_out, out_n * 4);
    gh_download(din_dev, d_din, in_n * 4);
    /* The GPU may contract a * b + c into one rounding (fma); the CPU test of the bodies
     * checks the arithmetic bit for bit. */
    gh_expect_close("bilinear upsampling output", out_dev, out_cpu, out_n, 1e-6);
    gh_expect_close("bilinear upsampling input gradient", din_dev, din_cpu, in_n, 1e-6);
    gh_free(d_in), gh_free(d_dout), gh_free(d_out), gh_free(d_din);
    free(inp), free(dout), free(out_cpu), free(out_dev), free(din_cpu), free(din_dev);

    /* Conv2DTranspose's bias and its gradient (the CPU sums columns in double, the GPU in
     * float). */
    const int64_t rows = 3000, width = 7;
    float *values = gh_random((size_t)(rows * width), 65, -1, 1);
    float *bias = gh_random((size_t)width, 66, -1, 1);
    float *cpu_rows = malloc((size_t)(rows * width) * 4), *dev_rows = calloc((size_t)(rows * width), 4);
    float sums_cpu[7], sums_dev[7];
    memcpy(cpu_rows, values, (size_t)(rows * width) * 4);
    nn_cpu_bias_add(cpu_rows, bias, rows, width);
    nn_cpu_column_sums(sums_cpu, values, rows, width);
    float *d_rows = gh_upload(values, (size_t)(rows * width) * 4), *d_bias = gh_upload(bias, (size_t)width * 4);
    float *d_sums = gh_zeros((size_t)width * 4);
    gh_device->column_sums(d_sums, d_rows, rows, width);
    gh_device->bias_add(d_rows, d_bias, rows, width);
    gh_download(dev_rows, d_rows, (size_t)(rows * width) * 4);
    gh_download(sums_dev, d_sums, (size_t)width * 4);
    gh_expect_close("bias added to rows", dev_rows, cpu_rows, (size_t)(rows * width), 0.0);
    gh_expect_close("column sums", sums_dev, sums_cpu, (size_t)width, 1e-5);
    gh_free(d_rows), gh_free(d_bias), gh_free(d_sums);
    free(values), free(bias), free(cpu_rows), free(dev_rows);
}

/* gh_expect_close for the part (e.g. "output") of what a case checks. */
static void expect_close_part(const char *what, const char *part, const float *actual,
                              const float *expected, size_t n, double tolerance)
{
    char label[96];
    snprintf(label, sizeof label, "%s %s", what, part);
    gh_expect_close(label, actual, expected, n, tolerance);
}

/* Layer normalisation, or RMS normalisation (no centring): both backends run the same
 * bodies, so the results are equal up to the GPU's fused multiply-adds. */
static void row_normalization(bool root_mean_square)
{
    const char *what = root_mean_square ? "rms normalization" : "layer normalization";
    const int64_t rows = 500, width = 96;
    size_t n = (size_t)(rows * width);
    float *x = gh_random(n, 71, -2, 2), *dy = gh_random(n, 72, -1, 1);
    float *gamma = gh_random((size_t)width, 73, 0.5f, 1.5f), *beta = gh_random((size_t)width, 74, -1, 1);
    float *y_cpu = calloc(n, 4), *y_dev = calloc(n, 4), *dx_cpu = calloc(n, 4), *dx_dev = calloc(n, 4);
    float statistics_cpu[1000], statistics_dev[1000];
    float dgamma_cpu[96], dgamma_dev[96], dbeta_cpu[96], dbeta_dev[96];
    nn_group_norm_geometry geometry = {.samples = rows, .before = 1, .channels = width,
                                       .after = 1, .groups = 1, .epsilon = 1e-3f,
                                       .root_mean_square = root_mean_square};
    nn_cpu_group_norm_forward(y_cpu, statistics_cpu, statistics_cpu + rows, x, gamma, beta,
                              &geometry);
    nn_cpu_group_norm_backward(dx_cpu, dgamma_cpu, dbeta_cpu, dy, x, gamma, statistics_cpu,
                               statistics_cpu + rows, &geometry);
    float *d_x = gh_upload(x, n * 4), *d_dy = gh_upload(dy, n * 4);
    float *d_gamma = gh_upload(gamma, (size_t)width * 4), *d_beta = gh_upload(beta, (size_t)width * 4);
    float *d_y = gh_zeros(n * 4), *d_dx = gh_zeros(n * 4), *d_statistics = gh_zeros(2 * (size_t)rows * 4);
    float *d_dgamma = gh_zeros((size_t)width * 4), *d_dbeta = gh_zeros((size_t)width * 4);
    gh_device->group_norm_forward(d_y, d_statistics, d_statistics + rows, d_x, d_gamma, d_beta,
                                  &geometry);
    gh_device->group_norm_backward(d_dx, d_dgamma, d_dbeta, d_dy, d_x, d_gamma, d_statistics,
                                   d_statistics + rows, &geometry);
    gh_download(y_dev, d_y, n * 4);
    gh_download(dx_dev, d_dx, n * 4);
    gh_download(statistics_dev, d_statistics, 2 * (size_t)rows * 4);
    gh_download(dgamma_dev, d_dgamma, (size_t)width * 4);
    gh_download(dbeta_dev, d_dbeta, (size_t)width * 4);
    expect_close_part(what, "output", y_dev, y_cpu, n, 1e-6);
    expect_close_part(what, "statistics", statistics_dev, statistics_cpu, 2 * (size_t)rows, 1e-6);
    expect_close_part(what, "input gradient", dx_dev, dx_cpu, n, 1e-5);
    expect_close_part(what, "gamma gradient", dgamma_dev, dgamma_cpu, (size_t)width, 1e-5);
    expect_close_part(what, "beta gradient", dbeta_dev, dbeta_cpu, (size_t)width, 1e-6);
    gh_free(d_x), gh_free(d_dy), gh_free(d_gamma), gh_free(d_beta), gh_free(d_y), gh_free(d_dx);
    gh_free(d_statistics), gh_free(d_dgamma), gh_free(d_dbeta);
    free(x), free(dy), free(gamma), free(beta), free(y_cpu), free(y_dev), free(dx_cpu), free(dx_dev);
}

static void layer_normalization(void) { row_normalization(false); }

static void rms_normalization(void) { row_normalization(true); }

/* Group normalisation with positions on both sides of the channel axis: the same bodies
 * on both backends. */
static void group_normalization(void)
{
    nn_group_norm_geometry geometry = {.samples = 6, .before = 5, .channels = 12, .after = 7,
                                       .groups = 4, .epsilon = 1e-3f};
    const size_t n = 6 * 5 * 12 * 7, channels = 12, statistics = 2 * 6 * 4;
    float *x = gh_random(n, 91, -2, 2), *dy = gh_random(n, 92, -1, 1);
    float *gamma = gh_random(channels, 93, 0.5f, 1.5f), *beta = gh_random(channels, 94, -1, 1);
    float *y_cpu = calloc(n, 4), *y_dev = calloc(n, 4), *dx_cpu = calloc(n, 4), *dx_dev = calloc(n, 4);
    float statistics_cpu[48], statistics_dev[48];
    float dgamma_cpu[12], dgamma_dev[12], dbeta_cpu[12], dbeta_dev[12];
    nn_cpu_group_norm_forward(y_cpu, statistics_cpu, statistics_cpu + 24, x, gamma, beta,
                              &geometry);
    nn_cpu_group_norm_backward(dx_cpu, dgamma_cpu, dbeta_cpu, dy, x, gamma, statistics_cpu,
                               statistics_cpu + 24, &geometry);
    float *d_x = gh_upload(x, n * 4), *d_dy = gh_upload(dy, n * 4);
    float *d_gamma = gh_upload(gamma, channels * 4), *d_beta = gh_upload(beta, channels * 4);
    float *d_y = gh_zeros(n * 4), *d_dx = gh_zeros(n * 4), *d_statistics = gh_zeros(statistics * 4);
    float *d_dgamma = gh_zeros(channels * 4), *d_dbeta = gh_zeros(channels * 4);
    gh_device->group_norm_forward(d_y, d_statistics, d_statistics + 24, d_x, d_gamma, d_beta,
                                  &geometry);
    gh_device->group_norm_backward(d_dx, d_dgamma, d_dbeta, d_dy, d_x, d_gamma, d_statistics,
                                   d_statistics + 24, &geometry);
    gh_download(y_dev, d_y, n * 4);
    gh_download(dx_dev, d_dx, n * 4);
    gh_download(statistics_dev, d_statistics, statistics * 4);
    gh_download(dgamma_dev, d_dgamma, channels * 4);
    gh_download(dbeta_dev, d_dbeta, channels * 4);
    gh_expect_close("group normalization output", y_dev, y_cpu, n, 1e-6);
    gh_expect_close("group normalization statistics", statistics_dev, statistics_cpu, statistics, 1e-6);
    gh_expect_close("group normalization input gradient", dx_dev, dx_cpu, n, 1e-5);
    gh_expect_close("group normalization gamma gradient", dgamma_dev, dgamma_cpu, channels, 1e-5);
    gh_expect_close("group normalization beta gradient", dbeta_dev, dbeta_cpu, channels, 1e-6);
    gh_free(d_x), gh_free(d_dy), gh_free(d_gamma), gh_free(d_beta), gh_free(d_y), gh_free(d_dx);
    gh_free(d_statistics), gh_free(d_dgamma), gh_free(d_dbeta);
    free(x), free(dy), free(gamma), free(beta), free(y_cpu), free(y_dev), free(dx_cpu), free(dx_dev);
}

/* The recurrent steps and the leading-axes swap: the same bodies on both backends. */
static void recurrent_cells(void)
{
    const int64_t rows = 300, units = 40, steps = 7, features = 9;
    nn_recurrent_cell cell = {rows, units, nn_activation_default(NN_ACTIVATION_TANH),
                              nn_activation_default(NN_ACTIVATION_SIGMOID)};
    size_t state = (size_t)(rows * units), lstm = 4 * state, gru = 3 * state;
    size_t sequence = (size_t)(rows * steps * features);
    float *xw = gh_random(lstm, 81, -2, 2), *hu = gh_random(lstm, 82, -2, 2);
    float *previous = gh_random(state, 83, -1, 1), *dh = gh_random(state, 84, -1, 1);
    float *dc = gh_random(state, 85, -1, 1), *x = gh_random(sequence, 86, -1, 1);
    float *cpu[7], *dev[7], *d[7];
    for (int i = 0; i < 7; i++) /* 5 · state: an LSTM's kept gates, the largest */
        cpu[i] = calloc(5 * state, 4), dev[i] = calloc(5 * state, 4), d[i] = gh_zeros(5 * state * 4);
    float *d_xw = gh_upload(xw, lstm * 4), *d_hu = gh_upload(hu, lstm * 4);
    float *d_previous = gh_upload(previous, state * 4), *d_dh = gh_upload(dh, state * 4);
    float *d_dc = gh_upload(dc, state * 4), *d_x = gh_upload(x, sequence * 4);

    /* LSTM: h, c, preact, gates forward; dpreact and dc backward. */
    memcpy(cpu[4], dc, state * 4);
    nn_cpu_lstm_cell_forward(cpu[0], cpu[1], cpu[2], cpu[5], xw, hu, previous, &cell);
    nn_cpu_lstm_cell_backward(cpu[3], cpu[4], dh, cpu[2], cpu[5], previous, cpu[1], &cell);
    gh_device->copy(d[4], d_dc, state * 4);
    gh_device->lstm_cell_forward(d[0], d[1], d[2], d[5], d_xw, d_hu, d_previous, &cell);
    gh_device->lstm_cell_backward(d[3], d[4], d_dh, d[2], d[5], d_previous, d[1], &cell);
    const size_t lstm_sizes[] = {state, state, lstm, lstm, state, 5 * state};
    const char *lstm_names[] = {"lstm h", "lstm c", "lstm preact", "lstm dpreact", "lstm dc",
                                "lstm gates"};
    for (int i = 0; i < 6; i++) {
        gh_download(dev[i], d[i], lstm_sizes[i] * 4);
        gh_expect_close(lstm_names[i], dev[i], cpu[i], lstm_sizes[i], 1e-6);
    }

    /* GRU: h, preact, hu_h, gates forward; dxw, dhu, dh_prev backward. */
    nn_cpu_gru_cell_forward(cpu[0], cpu[1], cpu[6], cpu[2], xw, hu, previous, &cell);
    nn_cpu_gru_cell_backward(cpu[3], cpu[4], cpu[5], dh, cpu[1], cpu[6], cpu[2], previous, &cell);
    gh_device->gru_cell_forward(d[0], d[1], d[6], d[2], d_xw, d_hu, d_previous, &cell);
    gh_device->gru_cell_backward(d[3], d[4], d[5], d_dh, d[1], d[6], d[2], d_previous, &cell);
    const size_t gru_sizes[] = {state, gru, state, gru, gru, state, gru};
    const char *gru_names[] = {"gru h", "gru preact", "gru hu_h", "gru dxw", "gru dhu",
                               "gru dh_prev", "gru gates"};
    for (int i = 0; i < 7; i++) {
        gh_download(dev[i], d[i], gru_sizes[i] * 4);
        gh_expect_close(gru_names[i], dev[i], cpu[i], gru_sizes[i], 1e-6);
    }

    /* SimpleRNN: h and preact. */
    nn_cpu_simple_rnn_cell_forward(cpu[0], cpu[1], xw, hu, &cell);
    gh_device->simple_rnn_cell_forward(d[0], d[1], d_xw, d_hu, &cell);
    gh_download(dev[0], d[0], state * 4);
    gh_download(dev[1], d[1], state * 4);
    gh_expect_close("simple rnn h", dev[0], cpu[0], state, 1e-6);
    gh_expect_close("simple rnn preact", dev[1], cpu[1], state, 0.0);

    float *swapped_cpu = calloc(sequence, 4), *swapped_dev = calloc(sequence, 4);
    float *d_swapped = gh_zeros(sequence * 4);
    nn_cpu_swap_leading_axes(swapped_cpu, x, rows, steps, features);
    gh_device->swap_leading_axes(d_swapped, d_x, rows, steps, features);
    gh_download(swapped_dev, d_swapped, sequence * 4);
    gh_expect_close("swap_leading_axes", swapped_dev, swapped_cpu, sequence, 0.0);

    for (int i = 0; i < 7; i++)
        free(cpu[i]), free(dev[i]), gh_free(d[i]);
    gh_free(d_xw), gh_free(d_hu), gh_free(d_previous), gh_free(d_dh), gh_free(d_dc);
    gh_free(d_x), gh_free(d_swapped);
    free(xw), free(hu), free(previous), free(dh), free(dc), free(x);
    free(swapped_cpu), free(swapped_dev);
}

/* The embedding lookup and its table gradient: the same adds in the same order (each
 * column walks the indices in turn), so equal bit for bit, repeated indices included. */
static void embedding(void)
{
    const int64_t count = 3000, rows = 50, dim = 96;
    size_t out_n = (size_t)(count * dim), table_n = (size_t)(rows * dim);
    float *table = gh_random(table_n, 81, -1, 1), *dout = gh_random(out_n, 82, -1, 1);
    float *indices = gh_random((size_t)count, 83, 0, (float)rows - 0.5f);
    for (int64_t i = 0; i < count; i++)
        indices[i] = floorf(indices[i]);
    float *out_cpu = calloc(out_n, 4), *out_dev = calloc(out_n, 4);
    float *dtable_cpu = calloc(table_n, 4), *dtable_dev = calloc(table_n, 4);
    nn_cpu_embedding_gather(out_cpu, table, indices, count, rows, dim);
    nn_cpu_embedding_gather_backward(dtable_cpu, dout, indices, count, rows, dim);
    float *d_table = gh_upload(table, table_n * 4), *d_dout = gh_upload(dout, out_n * 4);
    float *d_indices = gh_upload(indices, (size_t)count * 4);
    float *d_out = gh_zeros(out_n * 4), *d_dtable = gh_upload(dout, table_n * 4); /* overwritten */
    gh_device->embedding_gather(d_out, d_table, d_indices, count, rows, dim);
    gh_device->embedding_gather_backward(d_dtable, d_dout, d_indices, count, rows, dim);
    gh_download(out_dev, d_out, out_n * 4);
    gh_download(dtable_dev, d_dtable, table_n * 4);
    gh_expect_close("embedding lookup", out_dev, out_cpu, out_n, 0.0);
    gh_expect_close("embedding table gradient", dtable_dev, dtable_cpu, table_n, 0.0);
    gh_free(d_table), gh_free(d_dout), gh_free(d_indices), gh_free(d_out), gh_free(d_dtable);
    free(table), free(dout), free(indices), free(out_cpu), free(out_dev), free(dtable_cpu);
    free(dtable_dev);
}

static void dense_layers(void)
{
    const struct { int batch, in, out; bool bias; nn_activation_kind act; } cases[] = {
        {64, 3136, 128, true, NN_ACTIVATION_RELU}, {64, 128, 10, true, NN_ACTIVATION_SOFTMAX},
        {5, 7, 3, false, NN_ACTIVATION_LINEAR}, {1, 9, 4, true, NN_ACTIVATION_TANH}};
    for (size_t k = 0; k < 4; k++) {
        int B = cases[k].batch, K = cases[k].in, N = cases[k].out;
        nn_activation act = nn_activation_default(cases[k].act);
        float *inp = gh_random((size_t)B * K, 30 + k, -1, 1);
        float *kernel = gh_random((size_t)K * N, 40 + k, -0.1f, 0.1f);
        float *bias = cases[k].bias ? gh_random((size_t)N, 50 + k, -0.1f, 0.1f) : NULL;
        float *dout = gh_random((size_t)B * N, 60 + k, -1, 1);
        size_t on = (size_t)B * N, in_n = (size_t)B * K, kn = (size_t)K * N;
        float *out_cpu = calloc(on, 4), *out_dev = calloc(on, 4), *din_cpu = calloc(in_n, 4);
        float *din_dev = calloc(in_n, 4), *dk_cpu = calloc(kn, 4), *dk_dev = calloc(kn, 4);
        float *db_cpu = calloc((size_t)N, 4), *db_dev = calloc((size_t)N, 4);
        nn_cpu_dense_forward(out_cpu, inp, kernel, bias, act, B, K, N);
        nn_cpu_dense_backward(din_cpu, dk_cpu, db_cpu, dout, inp, kernel, B, K, N);
        float *d_in = gh_upload(inp, in_n * 4), *d_k = gh_upload(kernel, kn * 4);
        float *d_b = bias ? gh_upload(bias, (size_t)N * 4) : NULL;
        float *d_dout = gh_upload(dout, on * 4), *d_out = gh_zeros(on * 4);
        float *d_din = gh_zeros(in_n * 4), *d_dk = gh_zeros(kn * 4), *d_db = gh_zeros((size_t)N * 4);
        gh_device->dense_forward(d_out, d_in, d_k, d_b, act, B, K, N);
        gh_device->dense_backward(d_din, d_dk, d_db, d_dout, d_in, d_k, B, K, N);
        gh_download(out_dev, d_out, on * 4);
        gh_download(din_dev, d_din, in_n * 4);
        gh_download(dk_dev, d_dk, kn * 4);
        gh_download(db_dev, d_db, (size_t)N * 4);
        gh_expect_close("dense output", out_dev, out_cpu, on, 1e-4);
        gh_expect_close("dense input gradient", din_dev, din_cpu, in_n, 1e-4);
        gh_expect_close("dense kernel gradient", dk_dev, dk_cpu, kn, 1e-4);
        gh_expect_close("dense bias gradient", db_dev, db_cpu, (size_t)N, 1e-5);
        gh_free(d_in), gh_free(d_k), gh_free(d_b), gh_free(d_dout), gh_free(d_out);
        gh_free(d_din), gh_free(d_dk), gh_free(d_db);
        free(inp), free(kernel), free(bias), free(dout), free(out_cpu), free(out_dev);
        free(din_cpu), free(din_dev), free(dk_cpu), free(dk_dev), free(db_cpu), free(db_dev);
    }
}

static void activations(void)
{
    enum { ROWS = 33, WIDTH = 10, N = ROWS * WIDTH };
    float *x = gh_random(N, 70, -5, 5), *dy = gh_random(N, 71, -1, 1);
    float y_cpu[N], y_dev[N], dx_cpu[N], dx_dev[N];
    float *d_x = gh_upload(x, sizeof y_cpu), *d_dy = gh_upload(dy, sizeof y_cpu);
    float *d_y = gh_zeros(sizeof y_cpu), *d_dx = gh_zeros(sizeof y_cpu);
    for (int kind = 0; kind < NN_ACTIVATION_COUNT; kind++) {
        nn_activation a = nn_activation_default((nn_activation_kind)kind);
        nn_activation_forward(a, y_cpu, x, N, WIDTH);
        nn_activation_backward(a, dx_cpu, dy, x, y_cpu, N, WIDTH);
        gh_device->activation_forward(a, d_y, d_x, N, WIDTH);
        gh_device->activation_backward(a, d_dx, d_dy, d_x, d_y, N, WIDTH);
        gh_download(y_dev, d_y, sizeof y_dev);
        gh_download(dx_dev, d_dx, sizeof dx_dev);
        char what[64];
        snprintf(what, sizeof what, "%s forward", nn_activation_name(a.kind));
        gh_expect_close(what, y_dev, y_cpu, N, 1e-6);
        snprintf(what, sizeof what, "%s backward", nn_activation_name(a.kind));
        gh_expect_close(what, dx_dev, dx_cpu, N, 1e-6);
    }
    gh_free(d_x), gh_free(d_dy), gh_free(d_y), gh_free(d_dx);
    free(x), free(dy);
}

static void fill_and_layouts(void)
{
    enum { B = 3, C = 5, S = 49, N = B * C * S };
    float *x = gh_random(N, 80, -1, 1), cpu[N], dev[N];
    float *d_x = gh_upload(x, sizeof cpu), *d_y = gh_zeros(sizeof cpu);
    nn_backend_cpu()->to_channels_last(cpu, x, B, C, S);
    gh_device->to_channels_last(d_y, d_x, B, C, S);
    gh_download(dev, d_y, sizeof dev);
    gh_expect_close("to channels last", dev, cpu, N, 0.0);
    nn_backend_cpu()->to_channels_first(cpu, x, B, C, S);
    gh_device->to_channels_first(d_y, d_x, B, C, S);
    gh_download(dev, d_y, sizeof dev);
    gh_expect_close("to channels first", dev, cpu, N, 0.0);
    nn_backend_cpu()->scale_shift(cpu, x, 1.0f / 127.5f, -1.0f, N);
    gh_device->scale_shift(d_y, d_x, 1.0f / 127.5f, -1.0f, N);
    gh_download(dev, d_y, sizeof dev);
    gh_expect_close("scale and shift", dev, cpu, N, 1e-7);
    /* y += x, after the scale and shift above on both sides. */
    nn_backend_cpu()->add(cpu, x, N);
    gh_device->add(d_y, d_x, N);
    gh_download(dev, d_y, sizeof dev);
    gh_expect_close("add", dev, cpu, N, 1e-7);
    gh_device->fill(d_y, 2.5f, N);
    gh_device->copy(d_x, d_y, 4 * sizeof(float));
    gh_download(dev, d_x, sizeof dev);
    GH_CHECK(dev[3] == 2.5f && dev[4] == x[4], "fill + copy: got %g and %g", (double)dev[3],
             (double)dev[4]);
    /* Pinned upload. */
    float *pinned = NULL;
    GH_CHECK(gh_device->host_alloc((void **)&pinned, sizeof cpu) == NN_OK, "host_alloc");
    if (pinned) {
        for (int i = 0; i < N; i++)
            pinned[i] = (float)i;
        gh_device->upload_async(d_y, pinned, sizeof cpu);
        gh_download(dev, d_y, sizeof dev);
        GH_CHECK(dev[N - 1] == (float)(N - 1), "upload_async: got %g", (double)dev[N - 1]);
        gh_device->host_free(pinned);
    }
    gh_free(d_x), gh_free(d_y);
    free(x);
}

static void dropout(void)
{
    const int64_t noise_shapes[][4] = {{16, 12, 12, 8}, {16, 1, 1, 8}, {1, 12, 12, 1}};
    size_t n = 16 * 12 * 12 * 8;
    float *x = gh_random(n, 90, -1, 1), *cpu = calloc(n, 4), *dev = calloc(n, 4);
    uint8_t *mask_cpu = calloc(n, 1), *mask_dev = calloc(n, 1);
    float *d_x = gh_upload(x, n * 4), *d_y = gh_zeros(n * 4);
    uint8_t *d_mask = gh_zeros(n);
    for (size_t k = 0; k < 3; k++) {
        nn_dropout_geometry g = {.ndim = 4, .rate = 0.5f};
        size_t count = 1;
        for (int i = 0; i < 4; i++) {
            g.dims[i] = (int64_t[]){16, 12, 12, 8}[i];
            g.noise_dims[i] = noise_shapes[k][i];
            count *= (size_t)g.noise_dims[i];
        }
        nn_cpu_dropout_forward(cpu, mask_cpu, x, &g, 42, 7 + k);
        gh_device->dropout_forward(d_y, d_mask, d_x, &g, 42, 7 + k);
        gh_download(dev, d_y, n * 4);
        gh_download(mask_dev, d_mask, count);
        GH_CHECK(memcmp(mask_dev, mask_cpu, count) == 0, "dropout masks differ (noise shape %zu)", k);
        gh_expect_close("dropout forward (same masks)", dev, cpu, n, 0.0);
        nn_cpu_dropout_backward(cpu, x, mask_cpu, &g);
        gh_device->dropout_backward(d_y, d_x, d_mask, &g);
        gh_download(dev, d_y, n * 4);
        gh_expect_close("dropout backward", dev, cpu, n, 0.0);
    }
    gh_free(d_x), gh_free(d_y), gh_free(d_mask);
    free(x), free(cpu), free(dev), free(mask_cpu), free(mask_dev);
}

/* Gaussian noise draws the same normals on the device: its logf, sqrtf, cosf and sinf
 * may differ from the C library's in the last bits only. */
static void gaussian_noise(void)
{
    size_t n = 10003;
    float *x = gh_random(n, 91, -1, 1), *cpu = calloc(n, 4), *dev = calloc(n, 4);
    float *d_x = gh_upload(x, n * 4), *d_y = gh_zeros(n * 4);
    for (int multiplicative = 0; multiplicative < 2; multiplicative++) {
        nn_cpu_gaussian_noise(cpu, x, n, 0.5f, multiplicative, 42, 9);
        gh_device->gaussian_noise(d_y, d_x, n, 0.5f, multiplicative, 42, 9);
        gh_download(dev, d_y, n * 4);
        gh_expect_close(multiplicative ? "gaussian noise, multiplicative" : "gaussian noise",
                        dev, cpu, n, 1e-5);
    }
    gh_free(d_x), gh_free(d_y);
    free(x), free(cpu), free(dev);
}

/* Random flips draw the same choices on the device and move values exactly. */
static void random_flip(void)
{
    size_t n = 9 * 6 * 5 * 3;
    float *x = gh_random(n, 92, -1, 1), *cpu = calloc(n, 4), *dev = calloc(n, 4);
    float *d_x = gh_upload(x, n * 4), *d_y = gh_zeros(n * 4);
    for (int layout = 0; layout < 2; layout++) {
        nn_flip_geometry g = {.batch = 9, .height = 6, .width = 5, .channels = 3,
                              .channels_first = layout == 1, .horizontal = true,
                              .vertical = true};
        nn_cpu_random_flip(cpu, x, &g, 42, 10);
        gh_device->random_flip(d_y, d_x, &g, 42, 10);
        gh_download(dev, d_y, n * 4);
        gh_expect_close(layout ? "random flip, channels first" : "random flip", dev, cpu, n,
                        0.0);
    }
    gh_free(d_x), gh_free(d_y);
    free(x), free(cpu), free(dev);
}

/* Random rotation, shift and zoom at once: the same draws and reads on the device (the
 * transform's sines and cosines may differ in the last bits), and the adjoint. */
static void random_affine(void)
{
    size_t n = 6 * 9 * 7 * 3;
    float *x = gh_random(n, 93, -1, 1), *cpu = calloc(n, 4), *dev = calloc(n, 4);
    float *d_x = gh_upload(x, n * 4), *d_y = gh_zeros(n * 4);
    for (int mode = NN_FILL_REFLECT; mode <= NN_FILL_NEAREST; mode++) {
        nn_affine_geometry g = {.batch = 6, .height = 9, .width = 7, .channels = 3,
                                .channels_first = mode % 2 == 1, .fill_mode = (nn_fill_mode)mode,
                                .fill_value = 0.5f};
        g.rotation[0] = -0.5f, g.rotation[1] = 0.5f;
        g.shift_y[0] = -0.2f, g.shift_y[1] = 0.2f;
        g.zoom_y[0] = -0.2f, g.zoom_y[1] = 0.3f;
        g.zoom_keeps_aspect = true;
        nn_cpu_random_affine(cpu, x, &g, 42, 11);
        gh_device->random_affine(d_y, d_x, &g, 42, 11);
        gh_download(dev, d_y, n * 4);
        gh_expect_close("random affine", dev, cpu, n, 1e-4);
        nn_cpu_random_affine_backward(cpu, x, &g, 42, 11);
        gh_device->random_affine_backward(d_y, d_x, &g, 42, 11);
        gh_download(dev, d_y, n * 4);
        gh_expect_close("random affine backward", dev, cpu, n, 1e-4);
    }
    gh_free(d_x), gh_free(d_y);
    free(x), free(cpu), free(dev);
}

/* Random contrast and brightness, both layouts, forward and backward: the same draws and
 * plane means on the device (fused multiply-adds may move the last bits). */
static void random_color(void)
{
    size_t n = 5 * 8 * 6 * 3;
    float *x = gh_random(n, 96, 0, 1), *dy = gh_random(n, 97, -1, 1);
    float *cpu = calloc(n, 4), *dev = calloc(n, 4);
    float *d_x = gh_upload(x, n * 4), *d_dy = gh_upload(dy, n * 4), *d_y = gh_zeros(n * 4);
    for (int kind = 0; kind < 4; kind++) {
        nn_color_geometry g = {.batch = 5, .height = 8, .width = 6, .channels = 3,
                               .channels_first = kind % 2 == 1, .contrast = kind < 2,
                               .value_range = {0.0f, 1.0f}};
        g.range[0] = kind < 2 ? 0.3f : -0.4f;
        g.range[1] = kind < 2 ? 1.9f : 0.4f;
        nn_cpu_random_color(cpu, x, &g, 42, 12);
        gh_device->random_color(d_y, d_x, &g, 42, 12);
        gh_download(dev, d_y, n * 4);
        gh_expect_close(kind < 2 ? "random contrast" : "random brightness", dev, cpu, n, 1e-5);
        nn_cpu_random_color_backward(cpu, dy, x, &g, 42, 12);
        gh_device->random_color_backward(d_y, d_dy, d_x, &g, 42, 12);
        gh_download(dev, d_y, n * 4);
        gh_expect_close(kind < 2 ? "random contrast backward" : "random brightness backward",
                        dev, cpu, n, 1e-5);
    }
    gh_free(d_x), gh_free(d_dy), gh_free(d_y);
    free(x), free(dy), free(cpu), free(dev);
}

/* Resizing up and down, bilinear and nearest, on a canvas and a crop: the same bodies on
 * both backends (fused multiply-adds may move the last bits). */
static void resizing(void)
{
    size_t n = 4 * 9 * 7 * 3;
    float *x = gh_random(n, 98, -1, 1), *dy = gh_random(4 * 12 * 11 * 3, 99, -1, 1);
    float *cpu = calloc(4 * 12 * 11 * 3, 4), *dev = calloc(4 * 12 * 11 * 3, 4);
    float *d_x = gh_upload(x, n * 4), *d_dy = gh_upload(dy, 4 * 12 * 11 * 3 * 4);
    float *d_out = gh_zeros(4 * 12 * 11 * 3 * 4);
    const struct { int64_t out_height, out_width, top, left, window_height, window_width; bool bilinear; } cases[] = {
        {12, 11, 0, 0, 9, 7, true}, {5, 3, 0, 0, 9, 7, false},
        {12, 11, -2, 0, 13, 7, true}, {4, 6, 2, 0, 4, 7, false}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nn_resize_geometry g = {.batch = 4, .height = 9, .width = 7, .channels = 3,
                                .out_height = cases[k].out_height, .out_width = cases[k].out_width,
                                .top = cases[k].top, .left = cases[k].left,
                                .window_height = cases[k].window_height,
                                .window_width = cases[k].window_width,
                                .bilinear = cases[k].bilinear, .fill_value = 0.5f};
        size_t out = (size_t)(4 * g.out_height * g.out_width * 3);
        nn_cpu_resize_forward(cpu, x, &g);
        gh_device->resize_forward(d_out, d_x, &g);
        gh_download(dev, d_out, out * 4);
        gh_expect_close("resize", dev, cpu, out, 1e-5);
        nn_cpu_resize_backward(cpu, dy, &g);
        gh_device->resize_backward(d_out, d_dy, &g);
        gh_download(dev, d_out, n * 4);
        gh_expect_close("resize backward", dev, cpu, n, 1e-5);
    }
    gh_free(d_x), gh_free(d_dy), gh_free(d_out);
    free(x), free(dy), free(cpu), free(dev);
}

/* Discretization's buckets and CategoryEncoding's vectors (of ids and of buckets): exact. */
static void category_encoding(void)
{
    size_t n = 300 * 7;
    float *x = gh_random(n, 102, -3, 3), *ids = calloc(n, 4);
    for (size_t i = 0; i < n; i++)
        ids[i] = (float)((i * 7919) % 11);
    nn_category_geometry g = {.rows = 300, .length = 7, .tokens = 11, .count = true,
                              .boundary_count = 4, .boundaries = {-2, -0.5f, 0.5f, 2}};
    float *cpu = calloc(300 * 11, 4), *dev = calloc(300 * 11, 4);
    float *d_x = gh_upload(x, n * 4), *d_ids = gh_upload(ids, n * 4), *d_out = gh_zeros(300 * 11 * 4);
    nn_cpu_bucketize(cpu, x, n, &g);
    gh_device->bucketize(d_out, d_x, n, &g);
    gh_download(dev, d_out, n * 4);
    gh_expect_close("bucketize", dev, cpu, n, 0);
    for (int mode = 0; mode < 3; mode++) {
        g.count = mode == 0, g.bucketize = mode == 2;
        g.tokens = mode == 2 ? 5 : 11;
        const float *input = mode == 2 ? x : ids;
        nn_cpu_category_encode(cpu, input, &g);
        gh_device->category_encode(d_out, mode == 2 ? d_x : d_ids, &g);
        gh_download(dev, d_out, (size_t)(300 * g.tokens) * 4);
        gh_expect_close("category encode", dev, cpu, (size_t)(300 * g.tokens), 0);
    }
    gh_free(d_x), gh_free(d_ids), gh_free(d_out);
    free(x), free(ids), free(cpu), free(dev);
}

/* UnitNormalization along a middle axis, with a run of zeros: the same bodies. */
static void unit_normalization(void)
{
    nn_unit_norm_geometry g = {.outer = 30, .length = 17, .inner = 5};
    size_t n = 30 * 17 * 5;
    float *x = gh_random(n, 100, -2, 2), *dy = gh_random(n, 101, -1, 1);
    for (int j = 0; j < 17; j++)
        x[j * 5] = 0.0f;
    float *cpu = calloc(n, 4), *dev = calloc(n, 4);
    float *d_x = gh_upload(x, n * 4), *d_dy = gh_upload(dy, n * 4), *d_y = gh_zeros(n * 4);
    nn_cpu_unit_norm_forward(cpu, x, &g);
    gh_device->unit_norm_forward(d_y, d_x, &g);
    gh_download(dev, d_y, n * 4);
    gh_expect_close("unit normalization", dev, cpu, n, 1e-6);
    nn_cpu_unit_norm_backward(cpu, dy, x, &g);
    gh_device->unit_norm_backward(d_y, d_dy, d_x, &g);
    gh_download(dev, d_y, n * 4);
    gh_expect_close("unit normalization backward", dev, cpu, n, 1e-5);
    gh_free(d_x), gh_free(d_dy), gh_free(d_y);
    free(x), free(dy), free(cpu), free(dev);
}

/* ReLU with all three settings, forward and backward: comparisons only, exact. */
static void clipped_relu(void)
{
    size_t n = 5000;
    float *x = gh_random(n, 94, -3, 6), *dy = gh_random(n, 95, -1, 1);
    float *cpu = calloc(n, 4), *dev = calloc(n, 4);
    float *d_x = gh_upload(x, n * 4), *d_dy = gh_upload(dy, n * 4), *d_y = gh_zeros(n * 4);
    nn_cpu_clipped_relu(cpu, x, NULL, n, 0.3f, 4.0f, 0.5f);
    gh_device->clipped_relu(d_y, d_x, NULL, n, 0.3f, 4.0f, 0.5f);
    gh_download(dev, d_y, n * 4);
    gh_expect_close("ReLU forward", dev, cpu, n, 0.0);
    nn_cpu_clipped_relu(cpu, x, dy, n, 0.3f, 4.0f, 0.5f);
    gh_device->clipped_relu(d_y, d_x, d_dy, n, 0.3f, 4.0f, 0.5f);
    gh_download(dev, d_y, n * 4);
    gh_expect_close("ReLU backward", dev, cpu, n, 0.0);
    gh_free(d_x), gh_free(d_dy), gh_free(d_y);
    free(x), free(dy), free(cpu), free(dev);
}

/* PReLU, alpha per channel, per element and shared along a middle axis, each through the
 * general path and (where alpha's axes are the last) the sliced one: the output and input
 * gradient exactly, alpha's gradient summed in the same order (exact too). */
static void prelu(void)
{
    const nn_prelu_geometry geometries[] = {
        {.ndim = 4, .dims = {6, 9, 7, 5}, .alpha_dims = {1, 1, 1, 5}},
        {.ndim = 3, .dims = {4, 33, 3}, .alpha_dims = {1, 33, 3}},
        {.ndim = 4, .dims = {5, 4, 6, 3}, .alpha_dims = {1, 4, 1, 3}},
    };
    for (size_t k = 0; k < 2 * sizeof geometries / sizeof geometries[0]; k++) {
        nn_prelu_geometry variant = geometries[k / 2];
        variant.trailing = k % 2 ? nn_prelu_trailing(&variant) : 0;
        const nn_prelu_geometry *g = &variant;
        size_t n = 1, alphas = 1;
        for (int axis = 0; axis < g->ndim; axis++) {
            n *= (size_t)g->dims[axis];
            alphas *= (size_t)g->alpha_dims[axis];
        }
        float *x = gh_random(n, 98, -2, 2), *dy = gh_random(n, 99, -1, 1);
        float *alpha = gh_random(alphas, 100, -0.5f, 1);
        float *cpu = calloc(n, 4), *dev = calloc(n, 4);
        float *d_x = gh_upload(x, n * 4), *d_dy = gh_upload(dy, n * 4);
        float *d_alpha = gh_upload(alpha, alphas * 4), *d_y = gh_zeros(n * 4);
        nn_cpu_prelu(cpu, x, NULL, alpha, g);
        gh_device->prelu(d_y, d_x, NULL, d_alpha, g);
        gh_download(dev, d_y, n * 4);
        gh_expect_close("PReLU forward", dev, cpu, n, 0.0);
        nn_cpu_prelu(cpu, x, dy, alpha, g);
        gh_device->prelu(d_y, d_x, d_dy, d_alpha, g);
        gh_download(dev, d_y, n * 4);
        gh_expect_close("PReLU input gradient", dev, cpu, n, 0.0);
        size_t scratch_floats = nn_prelu_scratch_floats(g) + 1;
        float *scratch = calloc(scratch_floats, 4), *d_scratch = gh_zeros(scratch_floats * 4);
        nn_cpu_prelu_alpha_gradient(cpu, x, dy, g, scratch);
        gh_device->prelu_alpha_gradient(d_y, d_x, d_dy, g, d_scratch);
        gh_download(dev, d_y, alphas * 4);
        gh_expect_close("PReLU alpha gradient", dev, cpu, alphas, 0.0);
        gh_free(d_x), gh_free(d_dy), gh_free(d_alpha), gh_free(d_y), gh_free(d_scratch);
        free(x), free(dy), free(alpha), free(cpu), free(dev), free(scratch);
    }
}

/* Normalization on a middle axis, forward (also inverted) and gradient, with a variance of
 * 0 (the floor): one expression per element, exact. */
static void normalization(void)
{
    const nn_normalize_geometry geometries[] = {
        {.count = 3 * 7 * 5, .channels = 7, .inner = 5},
        {.count = 3 * 7 * 5, .channels = 7, .inner = 5, .invert = true},
        {.count = 100, .channels = 1, .inner = 1},
        {.count = 3 * 7 * 5, .channels = 7, .inner = 5, .given = 7,
         .mean = {1, -2, 0.5f, 3, 0, -1, 2}, .variance = {4, 0, 0.25f, 9, 1, 2, 16}},
        {.count = 40, .channels = 1, .inner = 1, .invert = true, .given = 1, .mean = {2},
         .variance = {9}},
    };
    for (size_t k = 0; k < sizeof geometries / sizeof geometries[0]; k++) {
        const nn_normalize_geometry *g = &geometries[k];
        size_t n = (size_t)g->count, c = (size_t)g->channels;
        float *x = gh_random(n, 101, -3, 3), *mean = gh_random(c, 102, -1, 1);
        float *variance = gh_random(c, 103, 0.1f, 2);
        variance[0] = 0;
        float *cpu = calloc(n, 4), *dev = calloc(n, 4);
        float *d_x = gh_upload(x, n * 4), *d_mean = gh_upload(mean, c * 4);
        float *d_variance = gh_upload(variance, c * 4), *d_y = gh_zeros(n * 4);
        bool given = g->given > 0; /* the values travel in the geometry */
        for (int gradient = 0; gradient < 2; gradient++) {
            nn_cpu_normalize(cpu, x, given ? NULL : mean, given ? NULL : variance, g, gradient);
            gh_device->normalize(d_y, d_x, given ? NULL : d_mean, given ? NULL : d_variance, g,
                                 gradient);
            gh_download(dev, d_y, n * 4);
            gh_expect_close(gradient ? "normalization gradient" : "normalization", dev, cpu, n,
                            0.0);
        }
        gh_free(d_x), gh_free(d_mean), gh_free(d_variance), gh_free(d_y);
        free(x), free(mean), free(variance), free(cpu), free(dev);
    }
}

/* Keras' masking: the step mask, the row select with a stride and NULL sources, the loss
 * weights under a mask (the same order of sums: exact), the masked mean over steps and its
 * backward. */
static void step_masks(void)
{
    enum { BATCH = 7, STEPS = 33, WIDTH = 5 };
    size_t rows = BATCH * STEPS, n = rows * WIDTH;
    float *x = gh_random(n, 96, -1, 1), *dy = gh_random(BATCH * WIDTH, 97, -1, 1);
    for (size_t r = 0; r < rows; r += 3) /* every third step all 0.25: masked */
        for (size_t j = 0; j < WIDTH; j++)
            x[r * WIDTH + j] = 0.25f;
    float *cpu = calloc(n, 4), *dev = calloc(n, 4), *mask = calloc(rows, 4);
    float *d_x = gh_upload(x, n * 4), *d_dy = gh_upload(dy, BATCH * WIDTH * 4);
    float *d_y = gh_zeros(n * 4), *d_mask = gh_zeros(rows * 4);
    nn_cpu_step_mask(mask, x, 0.25f, rows, WIDTH);
    gh_device->step_mask(d_mask, d_x, 0.25f, rows, WIDTH);
    gh_download(dev, d_mask, rows * 4);
    gh_expect_close("step mask", dev, mask, rows, 0.0);
    nn_cpu_select_rows(cpu, x, NULL, mask + 4, STEPS, BATCH, WIDTH);
    gh_device->select_rows(d_y, d_x, NULL, d_mask + 4, STEPS, BATCH, WIDTH);
    gh_download(dev, d_y, BATCH * WIDTH * 4);
    gh_expect_close("select rows, one step", dev, cpu, BATCH * WIDTH, 0.0);
    nn_cpu_select_rows(cpu, NULL, x, mask, 1, rows, WIDTH);
    gh_device->select_rows(d_y, NULL, d_x, d_mask, 1, rows, WIDTH);
    gh_download(dev, d_y, n * 4);
    gh_expect_close("select rows, masked ones", dev, cpu, n, 0.0);
    nn_cpu_masked_loss_weights(cpu, x, mask, rows);
    gh_device->masked_loss_weights(d_y, d_x, d_mask, rows);
    gh_download(dev, d_y, rows * 4);
    gh_expect_close("masked loss weights", dev, cpu, rows, 0.0);
    nn_cpu_masked_mean_steps(cpu, x, mask, BATCH, STEPS, WIDTH);
    gh_device->masked_mean_steps(d_y, d_x, d_mask, BATCH, STEPS, WIDTH);
    gh_download(dev, d_y, BATCH * WIDTH * 4);
    gh_expect_close("masked mean", dev, cpu, BATCH * WIDTH, 1e-6);
    nn_cpu_masked_mean_steps_backward(cpu, dy, mask, BATCH, STEPS, WIDTH);
    gh_device->masked_mean_steps_backward(d_y, d_dy, d_mask, BATCH, STEPS, WIDTH);
    gh_download(dev, d_y, n * 4);
    gh_expect_close("masked mean backward", dev, cpu, n, 1e-6);
    gh_free(d_x), gh_free(d_dy), gh_free(d_y), gh_free(d_mask);
    free(x), free(dy), free(cpu), free(dev), free(mask);
}

static void batch_normalization(void)
{
    /* The third is (batch 16, steps 20, 8 features) under a mask: Keras' masked moments. */
    enum { MASKED_ROWS = 16 * 20 };
    float *mask = calloc(MASKED_ROWS, 4);
    for (size_t r = 0; r < MASKED_ROWS; r++)
        mask[r] = r % 20 < 5 + r / 20 % 13 ? 1.0f : 0.0f; /* samples of 5 to 17 steps */
    float *d_mask = gh_upload(mask, MASKED_ROWS * 4);
    const nn_batchnorm_geometry geometries[] = {
        {.outer = 64 * 14 * 14, .channels = 32, .inner = 1, .momentum = 0.99f, .epsilon = 1e-3f},
        {.outer = 8, .channels = 6, .inner = 50, .momentum = 0.9f, .epsilon = 1e-5f},
        {.outer = MASKED_ROWS, .channels = 8, .inner = 1, .momentum = 0.9f, .epsilon = 1e-3f,
         .mask = mask}};
    for (size_t k = 0; k < 3; k++) {
        nn_batchnorm_geometry g = geometries[k], device_g = g; /* the mask where each runs */
        if (g.mask)
            device_g.mask = d_mask;
        size_t c = (size_t)g.channels, n = (size_t)(g.outer * g.inner) * c;
        float *x = gh_random(n, 100 + k, 1, 3), *dy = gh_random(n, 102 + k, -1, 1);
        float *gamma = gh_random(c, 104, 0.5f, 1.5f), *beta = gh_random(c, 105, -1, 1);
        float *mm = gh_random(c, 106, -1, 1), *mv = gh_random(c, 107, 0.5f, 2);
        float *y_cpu = calloc(n, 4), *y_dev = calloc(n, 4), *dx_cpu = calloc(n, 4), *dx_dev = calloc(n, 4);
        float *stats_cpu = calloc(6 * c, 4), *stats_dev = calloc(6 * c, 4);
        float *d_x = gh_upload(x, n * 4), *d_dy = gh_upload(dy, n * 4);
        float *d_gamma = gh_upload(gamma, c * 4), *d_beta = gh_upload(beta, c * 4);
        float *d_mm = gh_upload(mm, c * 4), *d_mv = gh_upload(mv, c * 4);
        float *d_y = gh_zeros(n * 4), *d_dx = gh_zeros(n * 4), *d_stats = gh_zeros(4 * c * 4);
        float *scratch_cpu = calloc(nn_cpu_batchnorm_scratch_floats(&g), 4);
        float *d_scratch = gh_zeros(gh_device->batchnorm_scratch_floats(&g) * 4);
        /* stats: mean, inv_std, dgamma, dbeta (each C) */
        nn_cpu_batchnorm_forward_training(y_cpu, stats_cpu, stats_cpu + c, mm, mv, x, gamma, beta,
                                          &g, scratch_cpu);
        gh_device->batchnorm_forward_training(d_y, d_stats, d_stats + c, d_mm, d_mv, d_x, d_gamma,
                                              d_beta, &device_g, d_scratch);
        nn_cpu_batchnorm_backward(dx_cpu, stats_cpu + 2 * c, stats_cpu + 3 * c, dy, x, gamma,
                                  stats_cpu, stats_cpu + c, true, &g, scratch_cpu);
        gh_device->batchnorm_backward(d_dx, d_stats + 2 * c, d_stats + 3 * c, d_dy, d_x, d_gamma,
                                      d_stats, d_stats + c, true, &device_g, d_scratch);
        gh_download(y_dev, d_y, n * 4);
        gh_download(dx_dev, d_dx, n * 4);
        gh_download(stats_dev, d_stats, 4 * c * 4);
        gh_download(stats_dev + 4 * c, d_mm, c * 4);
        gh_download(stats_dev + 5 * c, d_mv, c * 4);
        memcpy(stats_cpu + 4 * c, mm, c * 4);
        memcpy(stats_cpu + 5 * c, mv, c * 4);
        gh_expect_close("batchnorm training output", y_dev, y_cpu, n, 1e-5);
        gh_expect_close("batchnorm statistics and moving averages", stats_dev, stats_cpu, 2 * c, 1e-5);
        gh_expect_close("batchnorm dgamma, dbeta", stats_dev + 2 * c, stats_cpu + 2 * c, 2 * c, 1e-5);
        gh_expect_close("batchnorm moving mean, variance", stats_dev + 4 * c, stats_cpu + 4 * c, 2 * c, 1e-5);
        gh_expect_close("batchnorm input gradient", dx_dev, dx_cpu, n, 1e-4);
        nn_cpu_batchnorm_forward_inference(y_cpu, stats_cpu, stats_cpu + c, x, gamma, beta, mm,
                                           mv, &g);
        gh_device->batchnorm_forward_inference(d_y, d_stats, d_stats + c, d_x, d_gamma, d_beta,
                                               d_mm, d_mv, &device_g);
        gh_download(y_dev, d_y, n * 4);
        gh_expect_close("batchnorm inference output", y_dev, y_cpu, n, 1e-6);
        gh_free(d_x), gh_free(d_dy), gh_free(d_gamma), gh_free(d_beta), gh_free(d_mm);
        gh_free(d_mv), gh_free(d_y), gh_free(d_dx), gh_free(d_stats), gh_free(d_scratch);
        free(x), free(dy), free(gamma), free(beta), free(mm), free(mv), free(y_cpu);
        free(y_dev), free(dx_cpu), free(dx_dev), free(stats_cpu), free(stats_dev), free(scratch_cpu);
    }
    gh_free(d_mask);
    free(mask);
}

static void losses_and_metrics(void)
{
    enum { B = 64, W = 10, N = B * W };
    float *logits = gh_random(N, 110, -4, 4), pred[N], onehot[N] = {0}, ids[B];
    float *targets = gh_random(N, 111, 0, 1), d_cpu[N], d_dev[N];
    for (int b = 0; b < B; b++) {
        ids[b] = (float)((b * 7) % W);
        onehot[b * W + (b * 7) % W] = 1.0f;
    }
    float *d_logits = gh_upload(logits, sizeof pred), *d_pred = gh_zeros(sizeof pred);
    float *d_ids = gh_upload(ids, sizeof ids), *d_onehot = gh_upload(onehot, sizeof onehot);
    float *d_targets = gh_upload(targets, sizeof pred), *d_grad = gh_zeros(sizeof pred);
    /* Sample weights, zero included; every loss runs without and with them. */
    float *weights = gh_random(B, 112, 0, 3);
    weights[5] = 0.0f;
    float *d_weights = gh_upload(weights, B * sizeof(float));
    nn_batch_stats *d_stats = gh_zeros(sizeof(nn_batch_stats));
    const nn_activation_kind lasts[] = {NN_ACTIVATION_SOFTMAX, NN_ACTIVATION_SIGMOID,
                                        NN_ACTIVATION_LINEAR};
    for (int run = 0; run < 2 * NN_LOSS_COUNT; run++) {
        int kind = run % NN_LOSS_COUNT;
        bool weighted = run >= NN_LOSS_COUNT;
        for (size_t l = 0; l < 3; l++) {
            if (kind == NN_LOSS_POISSON && lasts[l] == NN_ACTIVATION_LINEAR)
                continue; /* the log of a negative prediction: NaN on both */
            nn_loss loss = {(nn_loss_kind)kind, false, 0.0, 1.0};
            nn_activation last = nn_activation_default(lasts[l]);
            nn_activation_forward(last, pred, logits, N, W);
            gh_device->activation_forward(last, d_pred, d_logits, N, W);
            const float *labels = kind == NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? ids
                                  : kind == NN_LOSS_CATEGORICAL_CROSSENTROPY      ? onehot
                                                                                  : targets;
            const float *d_labels = kind == NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? d_ids
                                    : kind == NN_LOSS_CATEGORICAL_CROSSENTROPY      ? d_onehot
                                                                                    : d_targets;
            double want = nn_loss_forward_backward(&loss, last, d_cpu, pred, logits, labels,
                                                   weighted ? weights : NULL, B, W);
            gh_device->loss_forward_backward(&d_stats->loss, d_grad, &loss, last, d_pred,
                                             d_logits, d_labels, weighted ? d_weights : NULL,
                                             B, W);
            nn_batch_stats stats;
            gh_download(&stats, d_stats, sizeof stats);
            gh_download(d_dev, d_grad, sizeof d_dev);
            char what[112];
            const char *weighing = weighted ? " with sample weights" : "";
            snprintf(what, sizeof what, "%s after %s%s: loss", nn_loss_name(loss.kind),
                     nn_activation_name(last.kind), weighing);
            gh_expect_double(what, stats.loss, want, 1e-6);
            snprintf(what, sizeof what, "%s after %s%s: gradient", nn_loss_name(loss.kind),
                     nn_activation_name(last.kind), weighing);
            gh_expect_close(what, d_dev, d_cpu, N, 1e-5);
        }
    }
    /* Metrics accumulate into the batch statistics. Both sides get the same predictions
     * (the device's own softmax differs in the last bits, which moves the error metrics
     * by about 1e-9), so only the order of the double sums may differ. */
    nn_activation softmax = nn_activation_default(NN_ACTIVATION_SOFTMAX);
    nn_activation_forward(softmax, pred, logits, N, W);
    gh_free(d_pred);
    d_pred = gh_upload(pred, sizeof pred);
    gh_device->memory_zero(d_stats, sizeof(nn_batch_stats));
    /* The sparse ones read class ids; hinge reads the one-hot labels as -1/1 after its
     * batch-wide look at them. */
    const nn_metric_kind metrics[] = {
        NN_METRIC_SPARSE_CATEGORICAL_ACCURACY, NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY,
        NN_METRIC_CATEGORICAL_ACCURACY,        NN_METRIC_MEAN_SQUARED_ERROR,
        NN_METRIC_MEAN_ABSOLUTE_ERROR,         NN_METRIC_BINARY_ACCURACY,
        NN_METRIC_HINGE,                       NN_METRIC_COSINE_SIMILARITY};
    enum { METRICS = sizeof metrics / sizeof metrics[0] };
    /* The weighted sums (weighted metrics) land in the denominators' slots. */
    double want[METRICS], want_weighted[METRICS];
    for (int m = 0; m < METRICS; m++) {
        nn_metric metric = {.kind = metrics[m]};
        bool sparse = m < 2;
        want[m] = 2 * nn_metric_sum(&metric, pred, sparse ? ids : onehot, B, W);
        want_weighted[m] =
            nn_metric_weighted_sum(&metric, pred, sparse ? ids : onehot, weights, B, W);
        for (int twice = 0; twice < 2; twice++)
            gh_device->metric_sum(&d_stats->metric_sums[m], &metric, d_pred,
                                  sparse ? d_ids : d_onehot, NULL, B, W);
        gh_device->metric_sum(&d_stats->metric_denominators[m], &metric, d_pred,
                              sparse ? d_ids : d_onehot, d_weights, B, W);
    }
    nn_batch_stats stats;
    gh_download(&stats, d_stats, sizeof stats);
    for (int m = 0; m < METRICS; m++) {
        char what[48];
        snprintf(what, sizeof what, "metric %d summed twice", (int)metrics[m]);
        gh_expect_double(what, stats.metric_sums[m], want[m], 1e-12);
        snprintf(what, sizeof what, "metric %d weighted", (int)metrics[m]);
        gh_expect_double(what, stats.metric_denominators[m], want_weighted[m], 1e-12);
    }
    /* AUC's weighted bucket counts: each value counts its row's weight. */
    enum { THRESHOLDS = 11 };
    double curve_want[2 * THRESHOLDS] = {0}, curve_got[2 * THRESHOLDS];
    nn_metric_curve_counts(curve_want, pred, onehot, weights, B * W, W, THRESHOLDS);
    double *d_curve = gh_zeros(sizeof curve_got);
    gh_device->curve_counts(d_curve, d_pred, d_onehot, d_weights, B * W, W, THRESHOLDS);
    gh_download(curve_got, d_curve, sizeof curve_got);
    for (int i = 0; i < 2 * THRESHOLDS; i++)
        gh_expect_double("weighted curve count", curve_got[i], curve_want[i], 1e-12);
    gh_free(d_curve);
    gh_free(d_logits), gh_free(d_pred), gh_free(d_ids), gh_free(d_onehot), gh_free(d_targets);
    gh_free(d_grad), gh_free(d_stats), gh_free(d_weights);
    free(logits), free(targets), free(weights);
}

static void penalties(void)
{
    enum { N = 4099 };
    float *w = gh_random(N, 120, -1, 1), *g = gh_random(N, 121, -1, 1), cpu[N], dev[N];
    nn_regularizer r = {0.01f, 0.001f};
    double want_weight = 0.0;
    memcpy(cpu, g, sizeof cpu);
    nn_cpu_weight_penalty(&want_weight, cpu, w, N, r);
    float *d_w = gh_upload(w, sizeof cpu), *d_g = gh_upload(g, sizeof cpu);
    nn_batch_stats *d_stats = gh_zeros(sizeof(nn_batch_stats));
    gh_device->weight_penalty(&d_stats->weight_penalty, d_g, d_w, N, r);
    nn_batch_stats stats;
    gh_download(&stats, d_stats, sizeof stats);
    gh_download(dev, d_g, sizeof dev);
    gh_expect_double("weight penalty", stats.weight_penalty, want_weight, 1e-12);
    gh_expect_close("penalty gradients", dev, cpu, N, 1e-7);
    gh_free(d_w), gh_free(d_g), gh_free(d_stats);
    free(w), free(g);
}

static void optimizers(void)
{
    enum { N = 70001, STEPS = 4 };
    nn_optimizer_config configs[NN_OPTIMIZER_COUNT + 8];
    int count = 0;
    for (int kind = 0; kind < NN_OPTIMIZER_COUNT; kind++)
        configs[count++] = nn_optimizer_defaults((nn_optimizer_kind)kind);
    nn_optimizer_config c = nn_optimizer_defaults(NN_OPTIMIZER_SGD);
    c.momentum = 0.9, c.nesterov = true;
    configs[count++] = c;
    c = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
    c.amsgrad = true, c.clipnorm = 1.0;
    configs[count++] = c;
    c = nn_optimizer_defaults(NN_OPTIMIZER_RMSPROP);
    c.momentum = 0.5, c.centered = true, c.clipvalue = 0.01;
    configs[count++] = c;
    c = nn_optimizer_defaults(NN_OPTIMIZER_NADAM);
    c.clipnorm = 1.0, c.weight_decay = 0.1;
    configs[count++] = c;
    c = nn_optimizer_defaults(NN_OPTIMIZER_ADADELTA);
    c.learning_rate = 1.0, c.clipvalue = 0.01;
    configs[count++] = c;
    c = nn_optimizer_defaults(NN_OPTIMIZER_LION);
    c.weight_decay = 0.5, c.beta_1 = 0.5;
    configs[count++] = c;
    c = nn_optimizer_defaults(NN_OPTIMIZER_FTRL);
    c.learning_rate = 0.1, c.l1_regularization_strength = 0.05, c.beta = 0.2;
    c.l2_shrinkage_regularization_strength = 0.1;
    configs[count++] = c;
    unsigned char *mask = malloc(N);
    for (int i = 0; i < N; i++)
        mask[i] = (unsigned char)(i % 5 != 0);
    unsigned char *d_mask = gh_upload(mask, N);
    float *w_cpu = malloc(N * 4), *w_dev = malloc(N * 4);
    for (int k = 0; k < count; k++) {
        float *w0 = gh_random(N, 130, -1, 1);
        memcpy(w_cpu, w0, N * 4);
        float *slots_cpu[3], *slots_dev[3];
        for (int s = 0; s < 3; s++) {
            slots_cpu[s] = calloc(N, 4);
            slots_dev[s] = gh_zeros(N * 4);
        }
        float *d_w = gh_upload(w0, N * 4);
        for (long long step = 1; step <= STEPS; step++) {
            float *g = gh_random(N, 140 + (uint64_t)step, -1, 1);
            float *d_g = gh_upload(g, N * 4);
            nn_cpu_optimizer_step(w_cpu, slots_cpu, g, mask, &configs[k], step, N, NULL);
            gh_device->optimizer_step(d_w, slots_dev, d_g, d_mask, &configs[k], step, N, NULL);
            gh_sync("optimizer step");
            gh_free(d_g);
            free(g);
        }
        gh_download(w_dev, d_w, N * 4);
        char what[64];
        snprintf(what, sizeof what, "%s (config %d) after %d steps",
                 nn_optimizer_name(configs[k].kind), k, STEPS);
        /* Same arithmetic in the same order: exact, but for clipnorm's sum. */
        gh_expect_close(what, w_dev, w_cpu, N, configs[k].clipnorm > 0 ? 1e-6 : 0.0);
        for (int s = 0; s < 3; s++) {
            free(slots_cpu[s]);
            gh_free(slots_dev[s]);
        }
        gh_free(d_w);
        free(w0);
    }
    /* A non-finite loss in the batch statistics stops the step on the device. */
    nn_batch_stats bad = {.loss = NAN};
    nn_batch_stats *d_bad = gh_upload(&bad, sizeof bad);
    float one = 1.0f, back = 0.0f;
    float *d_one = gh_upload(&one, 4), *d_grad = gh_upload(&one, 4);
    float *no_slots[3] = {NULL, NULL, NULL};
    gh_device->optimizer_step(d_one, no_slots, d_grad, NULL, &configs[0], 1, 1, d_bad);
    gh_download(&back, d_one, 4);
    GH_CHECK(back == 1.0f, "a guarded step after a NaN loss changed the weight to %g", (double)back);
    gh_free(d_bad), gh_free(d_one), gh_free(d_grad), gh_free(d_mask);
    free(mask), free(w_cpu), free(w_dev);
}

static void constraints(void)
{
    const nn_shape shape = NN_SHAPE(3, 3, 32, 64);
    size_t n = 3 * 3 * 32 * 64;
    float *w = gh_random(n, 150, -0.5f, 0.5f), *cpu = malloc(n * 4), *dev = malloc(n * 4);
    for (int kind = NN_CONSTRAINT_MAX_NORM; kind < NN_CONSTRAINT_COUNT; kind++) {
        nn_constraint constraint = nn_constraint_default((nn_constraint_kind)kind);
        constraint.axes = 7u; /* Keras' axis=[0, 1, 2] for a Conv2D kernel */
        constraint.max_value = 1.0f;
        memcpy(cpu, w, n * 4);
        float *scratch = calloc(nn_cpu_constraint_scratch_floats(&constraint, &shape) + 1, 4);
        nn_cpu_constraint_apply(cpu, &constraint, &shape, NULL, scratch);
        float *d_w = gh_upload(w, n * 4);
        float *d_scratch = gh_zeros((gh_device->constraint_scratch_floats(&constraint, &shape) + 1) * 4);
        gh_device->constraint_apply(d_w, &constraint, &shape, NULL, d_scratch);
        gh_download(dev, d_w, n * 4);
        gh_expect_close(nn_constraint_name(constraint.kind), dev, cpu, n, 0.0);
        gh_free(d_w), gh_free(d_scratch);
        free(scratch);
    }
    free(w), free(cpu), free(dev);
}

static void out_of_memory(void)
{
    /* Far more than any device has: an error that says so, and the device still works. */
    void *memory = NULL;
    nn_status status = gh_device->memory_alloc(&memory, (size_t)1 << 50, gh_device_id.index);
    if (gh_device_id.kind == NN_DEVICE_EMULATED && status == NN_OK) {
        gh_free(memory); /* the emulated device maps lazily; nothing to learn here */
        return;
    }
    GH_CHECK(status == NN_ERR_MEMORY, "a 1 PiB allocation returned %s", nn_status_name(status));
    GH_CHECK(strstr(nn_error_message(), "out of") != NULL, "message: %s", nn_error_message());
    printf("    message: %s\n", nn_error_message());
    float value = 3.0f, back = 0.0f;
    float *d_value = gh_upload(&value, 4);
    gh_download(&back, d_value, 4);
    GH_CHECK(back == 3.0f, "the device did not work after running out of memory");
    gh_free(d_value);
}

int main(int argc, char **argv)
{
    int start = gh_start(argc, argv);
    if (start != 0)
        return start;
    static const gh_case cases[] = {
        {"fill, scale and shift, copies, layouts, pinned upload", fill_and_layouts},
        {"seed CNN convolutions", seed_cnn_convolutions},
        {"other convolutions", other_convolutions},
        {"max pooling", max_pooling},
        {"padding, cropping and upsampling", resampling},
        {"resizing", resizing},
        {"layer normalization", layer_normalization},
        {"rms normalization", rms_normalization},
        {"group normalization", group_normalization},
        {"recurrent cells and the leading-axes swap", recurrent_cells},
        {"embedding", embedding},
        {"dense", dense_layers},
        {"activations", activations},
        {"ReLU layer", clipped_relu},
        {"step masks", step_masks},
        {"PReLU", prelu},
        {"normalization", normalization},
        {"unit normalization", unit_normalization},
        {"category encoding and discretization", category_encoding},
        {"dropout", dropout},
        {"gaussian noise", gaussian_noise},
        {"random flip", random_flip},
        {"random rotation, translation and zoom", random_affine},
        {"random contrast and brightness", random_color},
        {"batch normalization", batch_normalization},
        {"losses and metrics", losses_and_metrics},
        {"penalties", penalties},
        {"optimizers", optimizers},
        {"constraints", constraints},
        {"out of memory", out_of_memory},
    };
    return gh_run(cases, sizeof cases / sizeof cases[0], argc, argv);
}
