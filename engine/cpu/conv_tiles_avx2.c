/* The direct convolution's tiles with AVX2 and FMA: 8 floats per vector, blocks of up
 * to 2 vectors (16 output channels) so that 12 accumulators, the weights and a
 * broadcast fit the 16 registers; tails by masked loads and stores. Compiled through
 * target attributes and called only when nn_simd_active() says so. */
#include "conv_tiles.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#include "vector_lanes.h"

#define TARGET __attribute__((target("avx2,fma")))
#define BODY static inline __attribute__((always_inline)) TARGET

enum { VECTOR = 8, BLOCK_VECTORS = 2, MAX_GRADIENT_ROWS = 12 };


BODY void forward_body(const int vectors, float *out, ptrdiff_t out_stride,
                       const float *const x[NN_CONV_TILE_ROWS], const nn_conv_taps *taps,
                       int channels, const float *panel, const float *bias, bool relu,
                       int rows, int cols)
{
    enum { R = NN_CONV_TILE_ROWS };
    __m256 acc[R][BLOCK_VECTORS];
#pragma GCC unroll 2
    for (int v = 0; v < vectors; v++) {
        __m256 start = bias ? _mm256_maskload_ps(bias + VECTOR * v, nn_avx2_lanes(cols, v))
                            : _mm256_setzero_ps();
#pragma GCC unroll 6
        for (int r = 0; r < R; r++)
            acc[r][v] = start;
    }
    const float *w = panel;
    for (int i = 0; i < taps->kernel_height; i++) {
        for (int j = 0; j < taps->kernel_width; j++) {
            const ptrdiff_t offset = i * taps->row_step + j * taps->col_step;
            const float *p[R];
#pragma GCC unroll 6
            for (int r = 0; r < R; r++)
                p[r] = x[r] + offset;
            for (int c = 0; c < channels; c++, w += taps->weight_stride) {
                __m256 weights[BLOCK_VECTORS];
#pragma GCC unroll 2
                for (int v = 0; v < vectors; v++)
                    weights[v] = _mm256_loadu_ps(w + VECTOR * v);
#pragma GCC unroll 6
                for (int r = 0; r < R; r++) {
                    __m256 a = _mm256_broadcast_ss(&p[r][c]);
#pragma GCC unroll 2
                    for (int v = 0; v < vectors; v++)
                        acc[r][v] = _mm256_fmadd_ps(a, weights[v], acc[r][v]);
                }
            }
        }
    }
    /* relu as max(zero, x): MAXPS gives its second operand where either is NaN, so a NaN
     * stays NaN, as the unfused relu. */
    const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
        if (r >= rows)
            break;
#pragma GCC unroll 2
        for (int v = 0; v < vectors; v++) {
            /* max(acc, 0) gives 0 for NaN, as the scalar `acc > 0 ? acc : 0` does. */
            __m256 value = relu ? _mm256_max_ps(zero, acc[r][v]) : acc[r][v];
            _mm256_maskstore_ps(out + r * out_stride + VECTOR * v, nn_avx2_lanes(cols, v), value);
        }
    }
}

static TARGET void forward_1(float *out, ptrdiff_t out_stride,
                             const float *const x[NN_CONV_TILE_ROWS], const nn_conv_taps *taps,
                             int channels, const float *panel, const float *bias, bool relu,
                             int rows, int cols)
{
    forward_body(1, out, out_stride, x, taps, channels, panel, bias, relu, rows, cols);
}

static TARGET void forward_2(float *out, ptrdiff_t out_stride,
                             const float *const x[NN_CONV_TILE_ROWS], const nn_conv_taps *taps,
                             int channels, const float *panel, const float *bias, bool relu,
                             int rows, int cols)
{
    forward_body(2, out, out_stride, x, taps, channels, panel, bias, relu, rows, cols);
}

static void forward(float *out, ptrdiff_t out_stride, const float *const x[NN_CONV_TILE_ROWS],
                    const nn_conv_taps *taps, int channels, const float *panel, int vectors,
                    const float *bias, bool relu, int rows, int cols)
{
    if (vectors == 1)
        forward_1(out, out_stride, x, taps, channels, panel, bias, relu, rows, cols);
    else
        forward_2(out, out_stride, x, taps, channels, panel, bias, relu, rows, cols);
}

BODY void pooled_body(const int vectors, float *pooled, int32_t *argmax,
                      const float *const x[4], const int32_t first[4],
                      const nn_conv_taps *taps, int channels, const float *panel,
                      const float *bias, bool relu, int cols)
{
    __m256 acc[4][BLOCK_VECTORS];
#pragma GCC unroll 2
    for (int v = 0; v < vectors; v++) {
        __m256 start = bias ? _mm256_maskload_ps(bias + VECTOR * v, nn_avx2_lanes(cols, v))
                            : _mm256_setzero_ps();
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++)
            acc[r][v] = start;
    }
    const float *w = panel;
    for (int i = 0; i < taps->kernel_height; i++) {
        for (int j = 0; j < taps->kernel_width; j++) {
            const ptrdiff_t offset = i * taps->row_step + j * taps->col_step;
            const float *p[4];
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++)
                p[r] = x[r] + offset;
            for (int c = 0; c < channels; c++, w += taps->weight_stride) {
                __m256 weights[BLOCK_VECTORS];
#pragma GCC unroll 2
                for (int v = 0; v < vectors; v++)
                    weights[v] = _mm256_loadu_ps(w + VECTOR * v);
#pragma GCC unroll 4
                for (int r = 0; r < 4; r++) {
                    __m256 a = _mm256_broadcast_ss(&p[r][c]);
#pragma GCC unroll 2
                    for (int v = 0; v < vectors; v++)
                        acc[r][v] = _mm256_fmadd_ps(a, weights[v], acc[r][v]);
                }
            }
        }
    }
    const __m256 zero = _mm256_setzero_ps();
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
#pragma GCC unroll 2
    for (int v = 0; v < vectors; v++) {
        __m256 best = relu ? _mm256_max_ps(zero, acc[0][v]) : acc[0][v];
        __m256i winner = _mm256_add_epi32(_mm256_set1_epi32(first[0] + VECTOR * v), lane);
#pragma GCC unroll 3
        for (int r = 1; r < 4; r++) {
            __m256 value = relu ? _mm256_max_ps(zero, acc[r][v]) : acc[r][v];
            /* Strictly greater, so the first of equals keeps the win; or NaN over a
             * number, so the first NaN wins and stays (nn_body_pool_takes_over). */
            __m256 greater = _mm256_or_ps(
                _mm256_cmp_ps(value, best, _CMP_GT_OQ),
                _mm256_andnot_ps(_mm256_cmp_ps(best, best, _CMP_UNORD_Q),
                                 _mm256_cmp_ps(value, value, _CMP_UNORD_Q)));
            best = _mm256_blendv_ps(best, value, greater);
            __m256i candidate = _mm256_add_epi32(_mm256_set1_epi32(first[r] + VECTOR * v), lane);
            winner = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(winner),
                                                          _mm256_castsi256_ps(candidate), greater));
        }
        __m256i mask = nn_avx2_lanes(cols, v);
        _mm256_maskstore_ps(pooled + VECTOR * v, mask, best);
        if (argmax)
            _mm256_maskstore_epi32(argmax + VECTOR * v, mask, winner);
    }
}

static TARGET void pooled_1(float *pooled, int32_t *argmax, const float *const x[4],
                            const int32_t first[4], const nn_conv_taps *taps, int channels,
                            const float *panel, const float *bias, bool relu, int cols)
{
    pooled_body(1, pooled, argmax, x, first, taps, channels, panel, bias, relu, cols);
}

static TARGET void pooled_2(float *pooled, int32_t *argmax, const float *const x[4],
                            const int32_t first[4], const nn_conv_taps *taps, int channels,
                            const float *panel, const float *bias, bool relu, int cols)
{
    pooled_body(2, pooled, argmax, x, first, taps, channels, panel, bias, relu, cols);
}

static void forward_pooled(float *pooled, int32_t *argmax, const float *const x[4],
                           const int32_t first[4], const nn_conv_taps *taps, int channels,
                           const float *panel, int vectors, const float *bias, bool relu,
                           int cols)
{
    if (vectors == 1)
        pooled_1(pooled, argmax, x, first, taps, channels, panel, bias, relu, cols);
    else
        pooled_2(pooled, argmax, x, first, taps, channels, panel, bias, relu, cols);
}

/* 12 accumulators of 16 registers. */
static int gradient_rows(int vectors) { return vectors > 1 ? 6 : MAX_GRADIENT_ROWS; }

BODY void gradient_body(const int vectors, const int K, float *dkernel,
                        ptrdiff_t dkernel_stride, int count, const ptrdiff_t *offsets,
                        const float *src, ptrdiff_t src_row, ptrdiff_t src_col, int height,
                        int width, const float *dout, ptrdiff_t dout_stride, int cols,
                        bool accumulate)
{
    __m256i mask[BLOCK_VECTORS];
    __m256 acc[MAX_GRADIENT_ROWS][BLOCK_VECTORS];
    ptrdiff_t offset[MAX_GRADIENT_ROWS];
#pragma GCC unroll 12
    for (int k = 0; k < K; k++)
        offset[k] = offsets[k < count ? k : count - 1]; /* spare rows repeat the last */
#pragma GCC unroll 2
    for (int v = 0; v < vectors; v++) {
        mask[v] = nn_avx2_lanes(cols, v);
#pragma GCC unroll 12
        for (int k = 0; k < K; k++)
            acc[k][v] = _mm256_setzero_ps();
    }
    for (int y = 0; y < height; y++) {
        const float *pixel = src + y * src_row;
        const float *d = dout + (ptrdiff_t)y * width * dout_stride;
        for (int x = 0; x < width; x++, pixel += src_col, d += dout_stride) {
            __m256 gradient[BLOCK_VECTORS];
#pragma GCC unroll 2
            for (int v = 0; v < vectors; v++)
                gradient[v] = _mm256_maskload_ps(d + VECTOR * v, mask[v]);
#pragma GCC unroll 12
            for (int k = 0; k < K; k++) {
                __m256 a = _mm256_broadcast_ss(&pixel[offset[k]]);
#pragma GCC unroll 2
                for (int v = 0; v < vectors; v++)
                    acc[k][v] = _mm256_fmadd_ps(a, gradient[v], acc[k][v]);
            }
        }
    }
#pragma GCC unroll 12
    for (int k = 0; k < K; k++) {
        if (k >= count)
            break;
#pragma GCC unroll 2
        for (int v = 0; v < vectors; v++) {
            float *target = dkernel + k * dkernel_stride + VECTOR * v;
            __m256 sum = acc[k][v];
            if (accumulate)
                sum = _mm256_add_ps(_mm256_maskload_ps(target, mask[v]), sum);
            _mm256_maskstore_ps(target, mask[v], sum);
        }
    }
}

static TARGET void gradient_1(float *dkernel, ptrdiff_t dkernel_stride, int count,
                              const ptrdiff_t *offsets, const float *src, ptrdiff_t src_row,
                              ptrdiff_t src_col, int height, int width, const float *dout,
                              ptrdiff_t dout_stride, int cols, bool accumulate)
{
    gradient_body(1, MAX_GRADIENT_ROWS, dkernel, dkernel_stride, count, offsets, src, src_row,
                  src_col, height, width, dout, dout_stride, cols, accumulate);
}

static TARGET void gradient_2(float *dkernel, ptrdiff_t dkernel_stride, int count,
                              const ptrdiff_t *offsets, const float *src, ptrdiff_t src_row,
                              ptrdiff_t src_col, int height, int width, const float *dout,
                              ptrdiff_t dout_stride, int cols, bool accumulate)
{
    gradient_body(2, 6, dkernel, dkernel_stride, count, offsets, src, src_row, src_col,
                  height, width, dout, dout_stride, cols, accumulate);
}

static void weight_gradient(float *dkernel, ptrdiff_t dkernel_stride, int count,
                            const ptrdiff_t *offsets, const float *src, ptrdiff_t src_row,
                            ptrdiff_t src_col, int height, int width, const float *dout,
                            ptrdiff_t dout_stride, int vectors, int cols, bool accumulate)
{
    if (vectors == 1)
        gradient_1(dkernel, dkernel_stride, count, offsets, src, src_row, src_col, height,
                   width, dout, dout_stride, cols, accumulate);
    else
        gradient_2(dkernel, dkernel_stride, count, offsets, src, src_row, src_col, height,
                   width, dout, dout_stride, cols, accumulate);
}

static TARGET void bias_gradient(float *dbias, const float *dout, ptrdiff_t dout_stride,
                                 int rows, int vectors, int cols, bool accumulate)
{
    for (int v = 0; v < vectors; v++) {
        __m256i mask = nn_avx2_lanes(cols, v);
        __m256 sum = _mm256_setzero_ps();
        for (int r = 0; r < rows; r++)
            sum = _mm256_add_ps(sum, _mm256_maskload_ps(dout + r * dout_stride + VECTOR * v,
                                                        mask));
        if (accumulate)
            sum = _mm256_add_ps(_mm256_maskload_ps(dbias + VECTOR * v, mask), sum);
        _mm256_maskstore_ps(dbias + VECTOR * v, mask, sum);
    }
}

const nn_conv_tiles nn_conv_tiles_avx2 = {
    .level = NN_SIMD_AVX2,
    .vector_floats = VECTOR,
    .block_vectors = BLOCK_VECTORS,
    .forward = forward,
    .forward_pooled = forward_pooled,
    .gradient_rows = gradient_rows,
    .weight_gradient = weight_gradient,
    .bias_gradient = bias_gradient,
};

#else
const nn_conv_tiles nn_conv_tiles_avx2 = {0};
#endif
