/* The matrix product's tile with AVX2 and FMA: 6 rows by 2 vectors of 8 floats, so the 12
 * accumulators, a row of the panel and a broadcast fit the 16 registers; tails by masked
 * loads and stores. Compiled through target attributes and called only when
 * nn_simd_active() says so. */
#include "gemm.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#include "vector_lanes.h"

#define TARGET __attribute__((target("avx2,fma")))

enum { VECTOR = 8, VECTORS = 2, WIDTH = VECTOR * VECTORS };

static TARGET void tile(float *c, ptrdiff_t ldc, const float *const a[NN_GEMM_TILE_ROWS],
                        ptrdiff_t a_step, const float *panel, ptrdiff_t panel_stride, int depth,
                        int rows, int cols, nn_gemm_start start)
{
    enum { R = NN_GEMM_TILE_ROWS };
    const __m256i mask[VECTORS] = {nn_avx2_lanes(cols, 0), nn_avx2_lanes(cols, 1)};
    __m256 acc[R][VECTORS];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
#pragma GCC unroll 2
        for (int v = 0; v < VECTORS; v++)
            acc[r][v] = start == NN_GEMM_FROM_C && r < rows
                            ? _mm256_maskload_ps(c + r * ldc + VECTOR * v, mask[v])
                            : _mm256_setzero_ps();
    for (int p = 0; p < depth; p++) {
        const __m256 w0 = _mm256_loadu_ps(panel + p * panel_stride);
        const __m256 w1 = _mm256_loadu_ps(panel + p * panel_stride + VECTOR);
        const ptrdiff_t offset = p * a_step;
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            const __m256 x = _mm256_broadcast_ss(a[r] + offset);
            acc[r][0] = _mm256_fmadd_ps(x, w0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(x, w1, acc[r][1]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
        if (r < rows)
#pragma GCC unroll 2
            for (int v = 0; v < VECTORS; v++) {
                if (start == NN_GEMM_ADD_TO_C)
                    acc[r][v] = _mm256_add_ps(_mm256_maskload_ps(c + r * ldc + VECTOR * v, mask[v]),
                                              acc[r][v]);
                _mm256_maskstore_ps(c + r * ldc + VECTOR * v, mask[v], acc[r][v]);
            }
}

#define MULTIPLY_ADD(x, y, sum) __builtin_fmaf(x, y, sum)
#define NARROW_TARGET TARGET
#include "gemm_narrow.h"

const nn_gemm_tiles nn_gemm_tiles_avx2 = {
    .level = NN_SIMD_AVX2, .width = WIDTH, .tile = tile, .narrow = narrow};

#else
const nn_gemm_tiles nn_gemm_tiles_avx2 = {0};
#endif
