/* 2-D convolution on the CPU, channels-last. Stride 1 with one group goes to the direct
 * convolution (conv2d_direct.c); everything else to im2col (OpenMP) feeding the layers'
 * matrix product (gemm.h), one product per group, with bias and activation fused into
 * the output. */
#include <stdbool.h>
#include <string.h>

#include "cpu_kernels.h"
#include "gemm.h"

/* Floats of im2col matrix built at once (16 MiB). As many whole images as fit go into
 * one chunk, so each product is tall (the seed CNN's batch of 64 is a single chunk), while
 * a predict over thousands of images does not ask for gigabytes of scratch. The chunk
 * size depends only on the geometry, so the order in which dkernel accumulates chunk
 * after chunk never depends on the number of threads. */
enum { COLUMN_BUDGET_FLOATS = 1 << 22 };

/* Below this many floats of work a parallel region costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 14 };

/* Channels of the bias gradient summed together in double, per block. */
enum { BIAS_BLOCK = 64 };

/* A 1×1 window with stride 1 and no padding reads each input pixel exactly once, in
 * output order: the input already is the im2col matrix and no copy is needed. */
static bool is_pointwise(const nn_conv2d_geometry *g)
{
    return g->kernel_height == 1 && g->kernel_width == 1 && g->stride_height == 1 &&
           g->stride_width == 1 && g->pad_top == 0 && g->pad_left == 0 &&
           g->out_height == g->in_height && g->out_width == g->in_width;
}

/* Length of one im2col row of one group: the weights feeding one output value. */
static size_t patch_length(const nn_conv2d_geometry *g)
{
    return (size_t)g->kernel_height * (size_t)g->kernel_width *
           (size_t)(g->in_channels / g->groups);
}

static size_t column_floats_per_image(const nn_conv2d_geometry *g)
{
    return (size_t)g->out_height * (size_t)g->out_width * patch_length(g) * (size_t)g->groups;
}

static int images_per_chunk(const nn_conv2d_geometry *g)
{
    size_t per_image = column_floats_per_image(g);
    size_t images = per_image > 0 ? COLUMN_BUDGET_FLOATS / per_image : (size_t)g->batch;
    if (images < 1)
        images = 1;
    if (images > (size_t)g->batch)
        images = (size_t)g->batch;
    return (int)images;
}

size_t nn_cpu_conv2d_scratch_floats(const nn_conv2d_geometry *geometry)
{
    if (nn_cpu_conv2d_direct_applies(geometry))
        return nn_cpu_conv2d_direct_scratch_floats(geometry);
    if (is_pointwise(geometry) || geometry->batch <= 0)
        return 0;
    return (size_t)images_per_chunk(geometry) * column_floats_per_image(geometry);
}

/* columns (G, images·OH·OW, KH·KW·C/G) from images [first_image, first_image + images)
 * of inp (B,H,W,C). Row r of group g holds, in (kh, kw, c) order, the inputs that output
 * pixel r of that group's filters sees; cells in the padding read as zero. */
static void im2col(float *columns, const float *inp, const nn_conv2d_geometry *g,
                   int first_image, int images)
{
    const int group_channels = g->in_channels / g->groups;
    const size_t patch = patch_length(g);
    const size_t rows = (size_t)images * (size_t)g->out_height * (size_t)g->out_width;
    const size_t image_floats = (size_t)g->in_height * (size_t)g->in_width * (size_t)g->in_channels;
    const size_t work = rows * patch * (size_t)g->groups;
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_THRESHOLD)
    for (int image = 0; image < images; image++) {
        for (int oh = 0; oh < g->out_height; oh++) {
            const float *source = inp + (size_t)(first_image + image) * image_floats;
            for (int ow = 0; ow < g->out_width; ow++) {
                size_t row = ((size_t)image * (size_t)g->out_height + (size_t)oh) *
                                 (size_t)g->out_width + (size_t)ow;
                for (int group = 0; group < g->groups; group++) {
                    float *target = columns + ((size_t)group * rows + row) * patch;
                    for (int kh = 0; kh < g->kernel_height; kh++) {
                        int h = oh * g->stride_height - g->pad_top + kh * g->dilation_height;
                        for (int kw = 0; kw < g->kernel_width; kw++) {
                            int w = ow * g->stride_width - g->pad_left + kw * g->dilation_width;
                            if (h < 0 || h >= g->in_height || w < 0 || w >= g->in_width) {
                                for (int c = 0; c < group_channels; c++)
                                    target[c] = 0.0f;
                            } else {
                                const float *pixel = source +
                                    ((size_t)h * (size_t)g->in_width + (size_t)w) *
                                        (size_t)g->in_channels +
                                    (size_t)group * (size_t)group_channels;
                                for (int c = 0; c < group_channels; c++)
                                    target[c] = pixel[c];
                            }
                            target += group_channels;
                        }
                    }
                }
            }
        }
    }
}

/* The adjoint of im2col: dinp (B,H,W,C) for images [first_image, first_image + images)
 * = the sum, over every im2col cell that copied an input value, of dcolumns at that
 * cell. One thread owns one image, so the additions to a pixel always happen in the
 * same order whatever the thread count. */
static void col2im(float *dinp, const float *dcolumns, const nn_conv2d_geometry *g,
                   int first_image, int images)
{
    const int group_channels = g->in_channels / g->groups;
    const size_t patch = patch_length(g);
    const size_t rows = (size_t)images * (size_t)g->out_height * (size_t)g->out_width;
    const size_t image_floats = (size_t)g->in_height * (size_t)g->in_width * (size_t)g->in_channels;
    const size_t work = rows * patch * (size_t)g->groups;
#pragma omp parallel for schedule(static) if (work > PARALLEL_THRESHOLD)
    for (int image = 0; image < images; image++) {
        float *target_image = dinp + (size_t)(first_image + image) * image_floats;
        memset(target_image, 0, sizeof(float) * image_floats);
        for (int oh = 0; oh < g->out_height; oh++) {
            for (int ow = 0; ow < g->out_width; ow++) {
                size_t row = ((size_t)image * (size_t)g->out_height + (size_t)oh) *
                                 (size_t)g->out_width + (size_t)ow;
                for (int group = 0; group < g->groups; group++) {
                    const float *source = dcolumns + ((size_t)group * rows + row) * patch;
                    for (int kh = 0; kh < g->kernel_height; kh++) {
                        int h = oh * g->stride_height - g->pad_top + kh * g->dilation_height;
                        for (int kw = 0; kw < g->kernel_width; kw++) {
                            int w = ow * g->stride_width - g->pad_left + kw * g->dilation_width;
                            if (h >= 0 && h < g->in_height && w >= 0 && w < g->in_width) {
                                float *pixel = target_image +
                                    ((size_t)h * (size_t)g->in_width + (size_t)w) *
                                        (size_t)g->in_channels +
                                    (size_t)group * (size_t)group_channels;
                                for (int c = 0; c < group_channels; c++)
                                    pixel[c] += source[c];
                            }
                            source += group_channels;
                        }
                    }
                }
            }
        }
    }
}

/* The epilogue of one chunk, while its output is still in cache: out (rows, channels)
 * += bias (channels) or NULL, then the activation. ReLU, by far the most common, is
 * done in the same pass; the others through nn_activation_forward over the chunk (a
 * call per row would pay a parallel-region setup each time). */
static void add_bias_and_activate(float *out, const float *bias, nn_activation activation,
                                  size_t rows, int channels)
{
    const bool relu = activation.kind == NN_ACTIVATION_RELU;
    if (bias || relu) {
#pragma omp parallel for schedule(static) if (rows * (size_t)channels > PARALLEL_THRESHOLD)
        for (size_t r = 0; r < rows; r++) {
            float *row = out + r * (size_t)channels;
            if (bias)
                for (int c = 0; c < channels; c++)
                    row[c] += bias[c];
            if (relu)
                for (int c = 0; c < channels; c++)
                    row[c] = row[c] <= 0.0f ? 0.0f : row[c]; /* NaN stays, as relu */
        }
    }
    if (!relu && activation.kind != NN_ACTIVATION_LINEAR)
        nn_activation_forward(activation, out, out, rows * (size_t)channels, (size_t)channels);
}

/* Where group `group` of a chunk's im2col matrix lives: the built columns in scratch,
 * or, for a pointwise convolution, the input itself (leading dimension C). */
static float *group_columns(float *columns, int group, int rows, const nn_conv2d_geometry *g,
                            int *leading)
{
    if (is_pointwise(g)) {
        *leading = g->in_channels;
        return columns + group * (g->in_channels / g->groups);
    }
    *leading = (int)patch_length(g);
    return columns + (size_t)group * (size_t)rows * patch_length(g);
}

void nn_cpu_conv2d_forward(float *out, const float *inp, const float *kernel,
                           const float *bias, nn_activation activation,
                           const nn_conv2d_geometry *geometry, float *scratch)
{
    /* out (B,OH,OW,OC), inp (B,H,W,C), kernel (KH,KW,C/G,OC) seen as a (KH·KW·C/G, OC)
     * matrix whose columns [g·OC/G, (g+1)·OC/G) belong to group g, bias (OC) or NULL,
     * scratch (nn_cpu_conv2d_scratch_floats floats). */
    const nn_conv2d_geometry *g = geometry;
    if (nn_cpu_conv2d_direct_applies(g)) {
        bool relu = activation.kind == NN_ACTIVATION_RELU;
        nn_cpu_conv2d_direct_forward(out, inp, kernel, bias, relu, g, scratch);
        if (!relu)
            add_bias_and_activate(out, NULL, activation,
                                  (size_t)g->batch * (size_t)g->out_height * (size_t)g->out_width,
                                  g->out_channels);
        return;
    }
    const int group_filters = g->out_channels / g->groups;
    const int patch = (int)patch_length(g);
    const size_t pixels = (size_t)g->out_height * (size_t)g->out_width;
    const size_t image_floats = (size_t)g->in_height * (size_t)g->in_width * (size_t)g->in_channels;
    const int chunk = images_per_chunk(g);
    for (int first = 0; first < g->batch; first += chunk) {
        int images = g->batch - first < chunk ? g->batch - first : chunk;
        int rows = images * (int)pixels;
        /* The pointwise case only reads through `columns`; the cast drops const for the
         * shared helper, never to write. */
        float *columns = (float *)(inp + (size_t)first * image_floats);
        if (!is_pointwise(g)) {
            im2col(scratch, inp, g, first, images);
            columns = scratch;
        }
        float *out_chunk = out + (size_t)first * pixels * (size_t)g->out_channels;
        for (int group = 0; group < g->groups; group++) {
            int leading;
            const float *a = group_columns(columns, group, rows, g, &leading);
            /* out_g (rows, OC/G) = columns_g (rows, patch) @ kernel_g (patch, OC/G) */
            nn_cpu_gemm(false, false, rows, group_filters, patch, a, leading,
                        kernel + group * group_filters, g->out_channels,
                        out_chunk + group * group_filters, g->out_channels, false);
        }
        add_bias_and_activate(out_chunk, bias, activation, (size_t)rows, g->out_channels);
    }
}

/* dbias (OC) = Σ over every output pixel of dout (rows, OC). Summed in double: a batch
 * of 64 images of 28×28 is 50 176 terms per channel, enough for float sums to drift. */
static void sum_bias_gradient(float *dbias, const float *dout, size_t rows, int channels)
{
    int blocks = (channels + BIAS_BLOCK - 1) / BIAS_BLOCK;
#pragma omp parallel for schedule(static) if (rows * (size_t)channels > PARALLEL_THRESHOLD)
    for (int block = 0; block < blocks; block++) {
        int first = block * BIAS_BLOCK;
        int count = channels - first < BIAS_BLOCK ? channels - first : BIAS_BLOCK;
        double sums[BIAS_BLOCK] = {0};
        for (size_t r = 0; r < rows; r++) {
            const float *row = dout + r * (size_t)channels + first;
            for (int c = 0; c < count; c++)
                sums[c] += row[c];
        }
        for (int c = 0; c < count; c++)
            dbias[first + c] = (float)sums[c];
    }
}

void nn_cpu_conv2d_backward(float *dinp, float *dkernel, float *dbias, const float *dout,
                            const float *inp, const float *kernel,
                            const nn_conv2d_geometry *geometry, float *scratch)
{
    /* dinp (B,H,W,C), dkernel (KH,KW,C/G,OC) and dbias (OC) are overwritten (each may be
     * NULL); dout (B,OH,OW,OC) is the gradient of the linear output; inp and kernel are
     * those of the forward pass; scratch as for forward. */
    const nn_conv2d_geometry *g = geometry;
    if (nn_cpu_conv2d_direct_applies(g)) {
        nn_cpu_conv2d_direct_backward(dinp, dkernel, dbias, dout, inp, kernel, g, scratch);
        return;
    }
    const int group_filters = g->out_channels / g->groups;
    const int patch = (int)patch_length(g);
    const size_t pixels = (size_t)g->out_height * (size_t)g->out_width;
    const size_t image_floats = (size_t)g->in_height * (size_t)g->in_width * (size_t)g->in_channels;
    const int chunk = images_per_chunk(g);
    const bool pointwise = is_pointwise(g);
    if (dbias)
        sum_bias_gradient(dbias, dout, (size_t)g->batch * pixels, g->out_channels);
    for (int first = 0; first < g->batch && (dkernel || dinp); first += chunk) {
        int images = g->batch - first < chunk ? g->batch - first : chunk;
        int rows = images * (int)pixels;
        const float *dout_chunk = dout + (size_t)first * pixels * (size_t)g->out_channels;
        if (dkernel) {
            float *columns = (float *)(inp + (size_t)first * image_floats); /* read only */
            if (!pointwise) {
                im2col(scratch, inp, g, first, images);
                columns = scratch;
            }
            for (int group = 0; group < g->groups; group++) {
                int leading;
                const float *a = group_columns(columns, group, rows, g, &leading);
                /* dkernel_g (patch, OC/G) (+)= columns_gᵀ @ dout_g, chunk after chunk */
                nn_cpu_gemm(true, false, patch, group_filters, rows, a, leading,
                            dout_chunk + group * group_filters, g->out_channels,
                            dkernel + group * group_filters, g->out_channels, first > 0);
            }
        }
        if (dinp) {
            /* dcolumns_g (rows, patch) = dout_g @ kernel_gᵀ. A pointwise convolution
             * writes them straight into dinp; otherwise they reuse the columns' buffer
             * (no longer needed) and are scattered back by col2im. */
            float *dcolumns = pointwise ? dinp + (size_t)first * image_floats : scratch;
            for (int group = 0; group < g->groups; group++) {
                int leading;
                float *c = group_columns(dcolumns, group, rows, g, &leading);
                nn_cpu_gemm(false, true, rows, patch, group_filters,
                            dout_chunk + group * group_filters, g->out_channels,
                            kernel + group * group_filters, g->out_channels, c, leading, false);
            }
            if (!pointwise)
                col2im(dinp, scratch, g, first, images);
        }
    }
}
