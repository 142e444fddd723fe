/* The direct convolution's tiles with AVX-512F: 16 floats per vector, blocks of up to 4
 * vectors (64 output channels), tails by masked loads and stores. Compiled for AVX-512
 * through target attributes and called only when nn_simd_active() says so. */
#include "conv_tiles.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#include "vector_lanes.h"

#define TARGET __attribute__((target("avx512f")))
/* The bodies take their block size as a constant, so inlining them into one function
 * per size lets the compiler unroll the loops and keep every accumulator in a register. */
#define BODY static inline __attribute__((always_inline)) TARGET

enum { VECTOR = 16, BLOCK_VECTORS = 4, MAX_GRADIENT_ROWS = 12 };


BODY void forward_body(const int vectors, float *out, ptrdiff_t out_stride,
                       const float *const x[NN_CONV_TILE_ROWS], const nn_conv_taps *taps,
                       int channels, const float *panel, const float *bias, bool relu,
                       int rows, int cols)
{
    enum { R = NN_CONV_TILE_ROWS };
    __mmask16 mask[BLOCK_VECTORS];
    __m512 acc[R][BLOCK_VECTORS];
#pragma GCC unroll 4
    for (int v = 0; v < vectors; v++) {
        mask[v] = nn_avx512_lanes(cols, v);
        __m512 start = bias ? _mm512_maskz_loadu_ps(mask[v], bias + VECTOR * v)
                            : _mm512_setzero_ps();
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
                __m512 weights[BLOCK_VECTORS];
#pragma GCC unroll 4
                for (int v = 0; v < vectors; v++)
                    weights[v] = _mm512_loadu_ps(w + VECTOR * v);
#pragma GCC unroll 6
                for (int r = 0; r < R; r++) {
                    __m512 a = _mm512_set1_ps(p[r][c]);
#pragma GCC unroll 4
                    for (int v = 0; v < vectors; v++)
                        acc[r][v] = _mm512_fmadd_ps(a, weights[v], acc[r][v]);
                }
            }
        }
    }
    /* relu as max(zero, x): MAXPS gives its second operand where either is NaN, so a NaN
     * stays NaN, as the unfused relu. */
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
        if (r >= rows)
            break;
#pragma GCC unroll 4
        for (int v = 0; v < vectors; v++) {
            /* max(acc, 0) gives 0 for NaN, as the scalar `acc > 0 ? acc : 0` does. */
            __m512 value = relu ? _mm512_max_ps(zero, acc[r][v]) : acc[r][v];
            _mm512_mask_storeu_ps(out + r * out_stride + VECTOR * v, mask[v], value);
        }
    }
}

#define FORWARD(vectors)                                                                  \
    static TARGET void forward_##vectors(                                                 \
        float *out, ptrdiff_t out_stride, const float *const x[NN_CONV_TILE_ROWS],        \
        const nn_conv_taps *taps, int channels, const float *panel, const float *bias,    \
        bool relu, int rows, int cols)                                                    \
    {                                                                                     \
        forward_body(vectors, out, out_stride, x, taps, channels, panel, bias, relu, rows, \
                     cols);                                                               \
    }
FORWARD(1)
FORWARD(2)
FORWARD(3)
FORWARD(4)

static void forward(float *out, ptrdiff_t out_stride, const float *const x[NN_CONV_TILE_ROWS],
                    const nn_conv_taps *taps, int channels, const float *panel, int vectors,
                    const float *bias, bool relu, int rows, int cols)
{
    switch (vectors) {
    case 1: forward_1(out, out_stride, x, taps, channels, panel, bias, relu, rows, cols); break;
    case 2: forward_2(out, out_stride, x, taps, channels, panel, bias, relu, rows, cols); break;
    case 3: forward_3(out, out_stride, x, taps, channels, panel, bias, relu, rows, cols); break;
    default: forward_4(out, out_stride, x, taps, channels, panel, bias, relu, rows, cols); break;
    }
}

BODY void pooled_body(const int vectors, float *pooled, int32_t *argmax,
                      const float *const x[4], const int32_t first[4],
                      const nn_conv_taps *taps, int channels, const float *panel,
                      const float *bias, bool relu, int cols)
{
    __mmask16 mask[BLOCK_VECTORS];
    __m512 acc[4][BLOCK_VECTORS];
#pragma GCC unroll 4
    for (int v = 0; v < vectors; v++) {
        mask[v] = nn_avx512_lanes(cols, v);
        __m512 start = bias ? _mm512_maskz_loadu_ps(mask[v], bias + VECTOR * v)
                            : _mm512_setzero_ps();
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
                __m512 weights[BLOCK_VECTORS];
#pragma GCC unroll 4
                for (int v = 0; v < vectors; v++)
                    weights[v] = _mm512_loadu_ps(w + VECTOR * v);
#pragma GCC unroll 4
                for (int r = 0; r < 4; r++) {
                    __m512 a = _mm512_set1_ps(p[r][c]);
#pragma GCC unroll 4
                    for (int v = 0; v < vectors; v++)
                        acc[r][v] = _mm512_fmadd_ps(a, weights[v], acc[r][v]);
                }
            }
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#pragma GCC unroll 4
    for (int v = 0; v < vectors; v++) {
        __m512 best = relu ? _mm512_max_ps(zero, acc[0][v]) : acc[0][v];
        __m512i winner = _mm512_add_epi32(_mm512_set1_epi32(first[0] + VECTOR * v), lane);
#pragma GCC unroll 3
        for (int r = 1; r < 4; r++) {
            __m512 value = relu ? _mm512_max_ps(zero, acc[r][v]) : acc[r][v];
            /* Strictly greater, so the first of equals keeps the win; or NaN over a
             * number, so the first NaN wins and stays (nn_body_pool_takes_over). */
            __mmask16 greater =
                _mm512_cmp_ps_mask(value, best, _CMP_GT_OQ) |
                (_mm512_cmp_ps_mask(value, value, _CMP_UNORD_Q) &
                 (__mmask16)~_mm512_cmp_ps_mask(best, best, _CMP_UNORD_Q));
            best = _mm512_mask_blend_ps(greater, best, value);
            winner = _mm512_mask_blend_epi32(
                greater, winner, _mm512_add_epi32(_mm512_set1_epi32(first[r] + VECTOR * v), lane));
        }
        _mm512_mask_storeu_ps(pooled + VECTOR * v, mask[v], best);
        if (argmax)
            _mm512_mask_storeu_epi32(argmax + VECTOR * v, mask[v], winner);
    }
}

#define POOLED(vectors)                                                                   \
    static TARGET void pooled_##vectors(float *pooled, int32_t *argmax,                   \
                                        const float *const x[4], const int32_t first[4],  \
                                        const nn_conv_taps *taps, int channels,           \
                                        const float *panel, const float *bias, bool relu, \
                                        int cols)                                         \
    {                                                                                     \
        pooled_body(vectors, pooled, argmax, x, first, taps, channels, panel, bias, relu, \
                    cols);                                                                \
    }
POOLED(1)
POOLED(2)
POOLED(3)
POOLED(4)

static void forward_pooled(float *pooled, int32_t *argmax, const float *const x[4],
                           const int32_t first[4], const nn_conv_taps *taps, int channels,
                           const float *panel, int vectors, const float *bias, bool relu,
                           int cols)
{
    switch (vectors) {
    case 1: pooled_1(pooled, argmax, x, first, taps, channels, panel, bias, relu, cols); break;
    case 2: pooled_2(pooled, argmax, x, first, taps, channels, panel, bias, relu, cols); break;
    case 3: pooled_3(pooled, argmax, x, first, taps, channels, panel, bias, relu, cols); break;
    default: pooled_4(pooled, argmax, x, first, taps, channels, panel, bias, relu, cols); break;
    }
}

/* 24 accumulators (of 32 registers) whatever the block width; 12 rows at most so the
 * row offsets stay few. */
static int gradient_rows(int vectors)
{
    int rows = 24 / vectors;
    return rows < MAX_GRADIENT_ROWS ? rows : MAX_GRADIENT_ROWS;
}

BODY void gradient_body(const int vectors, const int K, float *dkernel,
                        ptrdiff_t dkernel_stride, int count, const ptrdiff_t *offsets,
                        const float *src, ptrdiff_t src_row, ptrdiff_t src_col, int height,
                        int width, const float *dout, ptrdiff_t dout_stride, int cols,
                        bool accumulate)
{
    __mmask16 mask[BLOCK_VECTORS];
    __m512 acc[MAX_GRADIENT_ROWS][BLOCK_VECTORS];
    ptrdiff_t offset[MAX_GRADIENT_ROWS];
#pragma GCC unroll 12
    for (int k = 0; k < K; k++)
        offset[k] = offsets[k < count ? k : count - 1]; /* spare rows repeat the last */
#pragma GCC unroll 4
    for (int v = 0; v < vectors; v++) {
        mask[v] = nn_avx512_lanes(cols, v);
#pragma GCC unroll 12
        for (int k = 0; k < K; k++)
            acc[k][v] = _mm512_setzero_ps();
    }
    for (int y = 0; y < height; y++) {
        const float *pixel = src + y * src_row;
        const float *d = dout + (ptrdiff_t)y * width * dout_stride;
        for (int x = 0; x < width; x++, pixel += src_col, d += dout_stride) {
            __m512 gradient[BLOCK_VECTORS];
#pragma GCC unroll 4
            for (int v = 0; v < vectors; v++)
                gradient[v] = _mm512_maskz_loadu_ps(mask[v], d + VECTOR * v);
#pragma GCC unroll 12
            for (int k = 0; k < K; k++) {
                __m512 a = _mm512_set1_ps(pixel[offset[k]]);
#pragma GCC unroll 4
                for (int v = 0; v < vectors; v++)
                    acc[k][v] = _mm512_fmadd_ps(a, gradient[v], acc[k][v]);
            }
        }
    }
#pragma GCC unroll 12
    for (int k = 0; k < K; k++) {
        if (k >= count)
            break;
#pragma GCC unroll 4
        for (int v = 0; v < vectors; v++) {
            float *target = dkernel + k * dkernel_stride + VECTOR * v;
            __m512 sum = acc[k][v];
            if (accumulate)
                sum = _mm512_add_ps(_mm512_maskz_loadu_ps(mask[v], target), sum);
            _mm512_mask_storeu_ps(target, mask[v], sum);
        }
    }
}

#define GRADIENT(vectors, rows)                                                           \
    static TARGET void gradient_##vectors(                                                \
        float *dkernel, ptrdiff_t dkernel_stride, int count, const ptrdiff_t *offsets,    \
        const float *src, ptrdiff_t src_row, ptrdiff_t src_col, int height, int width,    \
        const float *dout, ptrdiff_t dout_stride, int cols, bool accumulate)              \
    {                                                                                     \
        gradient_body(vectors, rows, dkernel, dkernel_stride, count, offsets, src,        \
                      src_row, src_col, height, width, dout, dout_stride, cols,           \
                      accumulate);                                                        \
    }
GRADIENT(1, 12)
GRADIENT(2, 12)
GRADIENT(3, 8)
GRADIENT(4, 6)

static void weight_gradient(float *dkernel, ptrdiff_t dkernel_stride, int count,
                            const ptrdiff_t *offsets, const float *src, ptrdiff_t src_row,
                            ptrdiff_t src_col, int height, int width, const float *dout,
                            ptrdiff_t dout_stride, int vectors, int cols, bool accumulate)
{
    switch (vectors) {
    case 1:
        gradient_1(dkernel, dkernel_stride, count, offsets, src, src_row, src_col, height,
                   width, dout, dout_stride, cols, accumulate);
        break;
    case 2:
        gradient_2(dkernel, dkernel_stride, count, offsets, src, src_row, src_col, height,
                   width, dout, dout_stride, cols, accumulate);
        break;
    case 3:
        gradient_3(dkernel, dkernel_stride, count, offsets, src, src_row, src_col, height,
                   width, dout, dout_stride, cols, accumulate);
        break;
    default:
        gradient_4(dkernel, dkernel_stride, count, offsets, src, src_row, src_col, height,
                   width, dout, dout_stride, cols, accumulate);
        break;
    }
}

static TARGET void bias_gradient(float *dbias, const float *dout, ptrdiff_t dout_stride,
                                 int rows, int vectors, int cols, bool accumulate)
{
    for (int v = 0; v < vectors; v++) {
        __mmask16 mask = nn_avx512_lanes(cols, v);
        __m512 sum = _mm512_setzero_ps();
        for (int r = 0; r < rows; r++)
            sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(mask, dout + r * dout_stride +
                                                                   VECTOR * v));
        if (accumulate)
            sum = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, dbias + VECTOR * v), sum);
        _mm512_mask_storeu_ps(dbias + VECTOR * v, mask, sum);
    }
}

const nn_conv_tiles nn_conv_tiles_avx512 = {
    .level = NN_SIMD_AVX512,
    .vector_floats = VECTOR,
    .block_vectors = BLOCK_VECTORS,
    .forward = forward,
    .forward_pooled = forward_pooled,
    .gradient_rows = gradient_rows,
    .weight_gradient = weight_gradient,
    .bias_gradient = bias_gradient,
};

#else
/* Not an x86-64 GCC-compatible compiler: never selected (nn_simd_supported says
 * portable), so the portable tiles stand in. */
const nn_conv_tiles nn_conv_tiles_avx512 = {0};
#endif
