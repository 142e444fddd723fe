/* The direct convolution's tiles in plain C: the fallback for processors without AVX2,
 * and the simplest statement of what the vector versions compute. "Vectors" here are
 * 8 floats, so that blocks and panels look as they do for AVX2. */
#include "conv_tiles.h"
#include "../cuda/bodies/pool_body.h"

enum { VECTOR = 8, BLOCK_VECTORS = 2, WIDTH = VECTOR * BLOCK_VECTORS, MAX_GRADIENT_ROWS = 12 };

static void forward(float *out, ptrdiff_t out_stride, const float *const x[NN_CONV_TILE_ROWS],
                    const nn_conv_taps *taps, int channels, const float *panel, int vectors,
                    const float *bias, bool relu, int rows, int cols)
{
    const int width = vectors * VECTOR;
    float acc[NN_CONV_TILE_ROWS][WIDTH];
    for (int r = 0; r < NN_CONV_TILE_ROWS; r++)
        for (int n = 0; n < width; n++)
            acc[r][n] = bias && n < cols ? bias[n] : 0.0f;
    const float *w = panel;
    for (int i = 0; i < taps->kernel_height; i++) {
        for (int j = 0; j < taps->kernel_width; j++) {
            ptrdiff_t offset = i * taps->row_step + j * taps->col_step;
            for (int c = 0; c < channels; c++, w += taps->weight_stride) {
                for (int r = 0; r < NN_CONV_TILE_ROWS; r++) {
                    float a = x[r][offset + c];
                    for (int n = 0; n < width; n++)
                        acc[r][n] += a * w[n];
                }
            }
        }
    }
    for (int r = 0; r < rows; r++) {
        float *row = out + r * out_stride;
        for (int n = 0; n < cols; n++)
            row[n] = relu ? (acc[r][n] <= 0.0f ? 0.0f : acc[r][n]) : acc[r][n];
    }
}

static void forward_pooled(float *pooled, int32_t *argmax, const float *const x[4],
                           const int32_t first[4], const nn_conv_taps *taps, int channels,
                           const float *panel, int vectors, const float *bias, bool relu,
                           int cols)
{
    const int width = vectors * VECTOR;
    float acc[4][WIDTH];
    for (int r = 0; r < 4; r++)
        for (int n = 0; n < width; n++)
            acc[r][n] = bias && n < cols ? bias[n] : 0.0f;
    const float *w = panel;
    for (int i = 0; i < taps->kernel_height; i++) {
        for (int j = 0; j < taps->kernel_width; j++) {
            ptrdiff_t offset = i * taps->row_step + j * taps->col_step;
            for (int c = 0; c < channels; c++, w += taps->weight_stride) {
                for (int r = 0; r < 4; r++) {
                    float a = x[r][offset + c];
                    for (int n = 0; n < width; n++)
                        acc[r][n] += a * w[n];
                }
            }
        }
    }
    for (int n = 0; n < cols; n++) {
        float best = 0.0f;
        int winner = 0;
        for (int r = 0; r < 4; r++) {
            float value = relu ? (acc[r][n] <= 0.0f ? 0.0f : acc[r][n]) : acc[r][n];
            if (r == 0 || nn_body_pool_takes_over(value, best)) {
                best = value;
                winner = r;
            }
        }
        pooled[n] = best;
        if (argmax)
            argmax[n] = first[winner] + n;
    }
}

static int gradient_rows(int vectors) { return vectors > 1 ? 6 : MAX_GRADIENT_ROWS; }

static void weight_gradient(float *dkernel, ptrdiff_t dkernel_stride, int count,
                            const ptrdiff_t *offsets, const float *src, ptrdiff_t src_row,
                            ptrdiff_t src_col, int height, int width, const float *dout,
                            ptrdiff_t dout_stride, int vectors, int cols, bool accumulate)
{
    (void)vectors;
    float acc[MAX_GRADIENT_ROWS][WIDTH];
    for (int k = 0; k < count; k++)
        for (int n = 0; n < cols; n++)
            acc[k][n] = 0.0f;
    for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
            const float *pixel = src + y * src_row + x * src_col;
            const float *d = dout + ((ptrdiff_t)y * width + x) * dout_stride;
            for (int k = 0; k < count; k++) {
                float a = pixel[offsets[k]];
                for (int n = 0; n < cols; n++)
                    acc[k][n] += a * d[n];
            }
        }
    }
    for (int k = 0; k < count; k++)
        for (int n = 0; n < cols; n++)
            dkernel[k * dkernel_stride + n] =
                accumulate ? dkernel[k * dkernel_stride + n] + acc[k][n] : acc[k][n];
}

static void bias_gradient(float *dbias, const float *dout, ptrdiff_t dout_stride, int rows,
                          int vectors, int cols, bool accumulate)
{
    (void)vectors;
    float acc[WIDTH];
    for (int n = 0; n < cols; n++)
        acc[n] = 0.0f;
    for (int r = 0; r < rows; r++)
        for (int n = 0; n < cols; n++)
            acc[n] += dout[r * dout_stride + n];
    for (int n = 0; n < cols; n++)
        dbias[n] = accumulate ? dbias[n] + acc[n] : acc[n];
}

const nn_conv_tiles nn_conv_tiles_portable = {
    .level = NN_SIMD_PORTABLE,
    .vector_floats = VECTOR,
    .block_vectors = BLOCK_VECTORS,
    .forward = forward,
    .forward_pooled = forward_pooled,
    .gradient_rows = gradient_rows,
    .weight_gradient = weight_gradient,
    .bias_gradient = bias_gradient,
};
