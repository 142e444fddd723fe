/* Moving image cells on the CPU, channels-last: zero padding and cropping (a window of
 * a larger image), and nearest-neighbour upsampling with its gradient. Each output row
 * of cells is one contiguous run of floats, so the work is memcpy and short loops. Also
 * a bias added to every row and its gradient, the column sums (Conv2DTranspose). */
#include <math.h>
#include <string.h>

#include "cpu_kernels.h"

/* Below this many floats of work a parallel region costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 14 };

void nn_cpu_window2d_embed(float *outer, const float *inner, const nn_window2d_geometry *g)
{
    const size_t channels = (size_t)g->channels;
    const size_t outer_row = (size_t)g->outer_width * channels;
    const size_t inner_row = (size_t)g->inner_width * channels;
    const size_t work = (size_t)g->batch * (size_t)g->outer_height * outer_row;
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < g->batch; b++)
        for (int64_t h = 0; h < g->outer_height; h++) {
            float *row = outer + ((size_t)b * (size_t)g->outer_height + (size_t)h) * outer_row;
            int64_t ih = h - g->top;
            if (ih < 0 || ih >= g->inner_height) {
                memset(row, 0, outer_row * sizeof *row);
                continue;
            }
            size_t before = (size_t)g->left * channels;
            memset(row, 0, before * sizeof *row);
            memcpy(row + before,
                   inner + ((size_t)b * (size_t)g->inner_height + (size_t)ih) * inner_row,
                   inner_row * sizeof *row);
            memset(row + before + inner_row, 0, (outer_row - before - inner_row) * sizeof *row);
        }
}

void nn_cpu_window2d_extract(float *inner, const float *outer, const nn_window2d_geometry *g)
{
    const size_t channels = (size_t)g->channels;
    const size_t outer_row = (size_t)g->outer_width * channels;
    const size_t inner_row = (size_t)g->inner_width * channels;
    const size_t work = (size_t)g->batch * (size_t)g->inner_height * inner_row;
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < g->batch; b++)
        for (int64_t h = 0; h < g->inner_height; h++)
            memcpy(inner + ((size_t)b * (size_t)g->inner_height + (size_t)h) * inner_row,
                   outer + ((size_t)b * (size_t)g->outer_height + (size_t)(h + g->top)) *
                               outer_row + (size_t)g->left * channels,
                   inner_row * sizeof *inner);
}

/* Where output cell o of an axis upsampled from `in` to `out` cells reads, bilinearly:
 * its two input neighbours (clamped) and the weight of the upper one, as TensorFlow's
 * resize with half-pixel centers computes them (in float). */
typedef struct lerp_point {
    int64_t lower, upper;
    float lerp;
} lerp_point;

static lerp_point lerp_at(int64_t o, int64_t in, int64_t out)
{
    float scale = (float)in / (float)out;
    float position = ((float)o + 0.5f) * scale - 0.5f;
    float below = floorf(position);
    int64_t above = (int64_t)ceilf(position);
    lerp_point point = {below < 0.0f ? 0 : (int64_t)below, above > in - 1 ? in - 1 : above,
                        position - below};
    return point;
}

/* The weight output cell o gives input cell i along one axis (0 when it reads another). */
static float lerp_weight(lerp_point point, int64_t i)
{
    return (point.lower == i ? 1.0f - point.lerp : 0.0f) + (point.upper == i ? point.lerp : 0.0f);
}

static void bilinear_forward(float *out, const float *inp, const nn_upsample2d_geometry *g)
{
    const size_t channels = (size_t)g->channels;
    const int64_t out_height = g->height * g->size_height, out_width = g->width * g->size_width;
    const size_t work = (size_t)(g->batch * out_height * out_width) * channels;
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < g->batch; b++)
        for (int64_t oh = 0; oh < out_height; oh++) {
            lerp_point y = lerp_at(oh, g->height, out_height);
            const float *top_row = inp + ((size_t)b * (size_t)g->height + (size_t)y.lower) *
                                               (size_t)g->width * channels;
            const float *bottom_row = inp + ((size_t)b * (size_t)g->height + (size_t)y.upper) *
                                               (size_t)g->width * channels;
            float *row = out + ((size_t)b * (size_t)out_height + (size_t)oh) *
                                   (size_t)out_width * channels;
            for (int64_t ow = 0; ow < out_width; ow++) {
                lerp_point x = lerp_at(ow, g->width, out_width);
                for (size_t c = 0; c < channels; c++) {
                    float tl = top_row[(size_t)x.lower * channels + c];
                    float tr = top_row[(size_t)x.upper * channels + c];
                    float bl = bottom_row[(size_t)x.lower * channels + c];
                    float br = bottom_row[(size_t)x.upper * channels + c];
                    float top = tl + (tr - tl) * x.lerp;
                    float bottom = bl + (br - bl) * x.lerp;
                    row[(size_t)ow * channels + c] = top + (bottom - top) * y.lerp;
                }
            }
        }
}

/* Each input cell gathers from the output cells within a block of it either way that
 * may read it, rows then columns in order, weight (row weight · column weight). */
static void bilinear_backward(float *dinp, const float *dout, const nn_upsample2d_geometry *g)
{
    const size_t channels = (size_t)g->channels;
    const int64_t out_height = g->height * g->size_height, out_width = g->width * g->size_width;
    const size_t work = (size_t)(g->batch * out_height * out_width) * channels * 9;
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < g->batch; b++)
        for (int64_t h = 0; h < g->height; h++) {
            int64_t first_oh = (h - 1) * g->size_height, last_oh = (h + 2) * g->size_height;
            first_oh = first_oh < 0 ? 0 : first_oh;
            last_oh = last_oh > out_height ? out_height : last_oh;
            for (int64_t w = 0; w < g->width; w++) {
                int64_t first_ow = (w - 1) * g->size_width, last_ow = (w + 2) * g->size_width;
                first_ow = first_ow < 0 ? 0 : first_ow;
                last_ow = last_ow > out_width ? out_width : last_ow;
                float *cell = dinp + (((size_t)b * (size_t)g->height + (size_t)h) *
                                          (size_t)g->width + (size_t)w) * channels;
                for (size_t c = 0; c < channels; c++) {
                    float total = 0.0f;
                    for (int64_t oh = first_oh; oh < last_oh; oh++) {
                        float wy = lerp_weight(lerp_at(oh, g->height, out_height), h);
                        if (wy == 0.0f)
                            continue;
                        const float *row = dout + ((size_t)b * (size_t)out_height + (size_t)oh) *
                                                      (size_t)out_width * channels;
                        for (int64_t ow = first_ow; ow < last_ow; ow++) {
                            float wx = lerp_weight(lerp_at(ow, g->width, out_width), w);
                            if (wx != 0.0f)
                                total += row[(size_t)ow * channels + c] * (wy * wx);
                        }
                    }
                    cell[c] = total;
                }
            }
        }
}

void nn_cpu_upsample2d_forward(float *out, const float *inp, const nn_upsample2d_geometry *g)
{
    if (g->bilinear) {
        bilinear_forward(out, inp, g);
        return;
    }
    const size_t channels = (size_t)g->channels;
    const int64_t out_height = g->height * g->size_height;
    const size_t out_row = (size_t)(g->width * g->size_width) * channels;
    const size_t work = (size_t)g->batch * (size_t)out_height * out_row;
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < g->batch; b++)
        for (int64_t oh = 0; oh < out_height; oh++) {
            const float *source = inp + ((size_t)b * (size_t)g->height +
                                         (size_t)(oh / g->size_height)) *
                                            (size_t)g->width * channels;
            float *row = out + ((size_t)b * (size_t)out_height + (size_t)oh) * out_row;
            for (int64_t w = 0; w < g->width; w++)
                for (int64_t r = 0; r < g->size_width; r++)
                    memcpy(row + (size_t)(w * g->size_width + r) * channels,
                           source + (size_t)w * channels, channels * sizeof *row);
        }
}

void nn_cpu_upsample2d_backward(float *dinp, const float *dout, const nn_upsample2d_geometry *g)
{
    if (g->bilinear) {
        bilinear_backward(dinp, dout, g);
        return;
    }
    /* Each input cell sums its block row by row, left to right: the order the CUDA body
     * uses, so both round alike. */
    const size_t channels = (size_t)g->channels;
    const size_t out_width = (size_t)(g->width * g->size_width);
    const size_t work = (size_t)g->batch * (size_t)g->height * (size_t)g->width * channels *
                        (size_t)(g->size_height * g->size_width);
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < g->batch; b++)
        for (int64_t h = 0; h < g->height; h++)
            for (int64_t w = 0; w < g->width; w++) {
                float *cell = dinp + (((size_t)b * (size_t)g->height + (size_t)h) *
                                          (size_t)g->width + (size_t)w) * channels;
                for (size_t c = 0; c < channels; c++) {
                    float sum = 0.0f;
                    for (int64_t i = 0; i < g->size_height; i++) {
                        size_t oh = (size_t)(h * g->size_height + i);
                        const float *row = dout + ((size_t)b * (size_t)(g->height * g->size_height) + oh) *
                                                      out_width * channels;
                        for (int64_t j = 0; j < g->size_width; j++)
                            sum += row[(size_t)(w * g->size_width + j) * channels + c];
                    }
                    cell[c] = sum;
                }
            }
}

void nn_cpu_bias_add(float *out, const float *bias, int64_t rows, int64_t width)
{
#pragma omp parallel for schedule(static) if (rows * width > PARALLEL_THRESHOLD)
    for (int64_t r = 0; r < rows; r++) {
        float *row = out + (size_t)r * (size_t)width;
        for (int64_t c = 0; c < width; c++)
            row[c] += bias[c];
    }
}

void nn_cpu_column_sums(float *sums, const float *rows, int64_t row_count, int64_t width)
{
    /* In double: a bias gradient sums every output cell of the batch, enough rows for float
     * sums to drift. Columns in parallel, rows in order. */
#pragma omp parallel for schedule(static) if (row_count * width > PARALLEL_THRESHOLD)
    for (int64_t c = 0; c < width; c++) {
        double total = 0.0;
        for (int64_t r = 0; r < row_count; r++)
            total += (double)rows[(size_t)r * (size_t)width + (size_t)c];
        sums[c] = (float)total;
    }
}
