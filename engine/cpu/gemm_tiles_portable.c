/* The matrix product's tile in plain C: the fallback for processors without AVX2, and the
 * simplest statement of what the vector versions compute. Where the compiler knows a fast
 * fused multiply-add it is used, so the values match the vector tiles; without one, each
 * product is rounded before it is added, as the direct convolution's portable tiles do,
 * rather than call a software fmaf per term. */
#include <math.h>

#include "gemm.h"

enum { WIDTH = 16 };

#ifdef FP_FAST_FMAF
#define MULTIPLY_ADD(x, y, sum) fmaf(x, y, sum)
#else
#define MULTIPLY_ADD(x, y, sum) ((x) * (y) + (sum))
#endif

static void tile(float *c, ptrdiff_t ldc, const float *const a[NN_GEMM_TILE_ROWS], ptrdiff_t a_step,
                 const float *panel, ptrdiff_t panel_stride, int depth, int rows, int cols,
                 nn_gemm_start start)
{
    float acc[NN_GEMM_TILE_ROWS][WIDTH];
    for (int r = 0; r < NN_GEMM_TILE_ROWS; r++)
        for (int j = 0; j < WIDTH; j++)
            acc[r][j] = start == NN_GEMM_FROM_C && r < rows && j < cols ? c[r * ldc + j] : 0.0f;
    for (int p = 0; p < depth; p++) {
        const float *w = panel + (ptrdiff_t)p * panel_stride;
        for (int r = 0; r < NN_GEMM_TILE_ROWS; r++) {
            float x = a[r][p * a_step];
            for (int j = 0; j < WIDTH; j++)
                acc[r][j] = MULTIPLY_ADD(x, w[j], acc[r][j]);
        }
    }
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++)
            c[r * ldc + j] = start == NN_GEMM_ADD_TO_C ? c[r * ldc + j] + acc[r][j] : acc[r][j];
}

#define NARROW_TARGET
#include "gemm_narrow.h"

const nn_gemm_tiles nn_gemm_tiles_portable = {
    .level = NN_SIMD_PORTABLE, .width = WIDTH, .tile = tile, .narrow = narrow};
