/* The matrix products of the layers (Dense, the im2col convolutions, the recurrent cells),
 * computed so that every element's value is fixed by the data alone: one fused multiply-add
 * per term in order of the summed index, in runs of NN_GEMM_RUN terms, one thread per
 * element. No value then depends on the number of threads, on which kernels OpenBLAS picked
 * for the processor, or on AVX2 against AVX-512: the same seed trains to the same weights
 * on any processor with AVX2 and FMA. (On one without FMA, the portable tiles round each
 * product apart, as the direct convolution's do.) OpenBLAS still serves nn.matmul, where
 * its speed on large products matters more. */
#ifndef NN_CPU_GEMM_H
#define NN_CPU_GEMM_H

#include <stdbool.h>
#include <stddef.h>

#include "simd.h"

/* Rows of C one tile computes, and one call of the narrow kernel; the widest tile (the
 * driver's packing buffer is sized for it). */
enum { NN_GEMM_TILE_ROWS = 6, NN_GEMM_NARROW_ROWS = 8, NN_GEMM_WIDEST_TILE = 32 };

/* Terms summed in one run. The first run continues from the starting value; each later run
 * is summed from zero and then added, so a long sum (a weight gradient over a whole batch
 * of pixels) drifts as a blocked sum does, not as one chain of float additions. */
enum { NN_GEMM_RUN = 256 };

/* Where a tile's sums start. */
typedef enum nn_gemm_start {
    NN_GEMM_FROM_ZERO, /* c = Σ */
    NN_GEMM_FROM_C,    /* c = c + a·b + a·b + ..., one chain */
    NN_GEMM_ADD_TO_C,  /* c = c + (Σ from zero) */
} nn_gemm_start;

typedef struct nn_gemm_tiles {
    nn_simd_level level;
    int width; /* columns of C per tile, and floats per row of a packed panel */

    /* c (rows ≤ NN_GEMM_TILE_ROWS, cols ≤ width), rows ldc apart, gets the sum over p <
     * depth of a[r][p·a_step] · panel[p·panel_stride + j], one fused multiply-add per p in
     * order of p, started as `start` says. Pointers a[r] for r ≥ rows must still be
     * readable (the driver repeats the last row); the panel's rows are read `width` floats
     * wide: a packed panel has zeros past cols, and B read in place gives whole panels. */
    void (*tile)(float *c, ptrdiff_t ldc, const float *const a[NN_GEMM_TILE_ROWS], ptrdiff_t a_step,
                 const float *panel, ptrdiff_t panel_stride, int depth, int rows, int cols,
                 nn_gemm_start start);

    /* One column: c[r·ldc] for r < rows ≤ NN_GEMM_NARROW_ROWS gets the sum over p < depth
     * of a[r][p·a_step] · b[p·b_step], in the same order and rounding as tile. */
    void (*narrow)(float *c, ptrdiff_t ldc, const float *const a[NN_GEMM_NARROW_ROWS],
                   ptrdiff_t a_step, const float *b, ptrdiff_t b_step, int depth, int rows,
                   nn_gemm_start start);
} nn_gemm_tiles;

extern const nn_gemm_tiles nn_gemm_tiles_portable;
extern const nn_gemm_tiles nn_gemm_tiles_avx2; /* level and tile zero where not built */
extern const nn_gemm_tiles nn_gemm_tiles_avx512;

/* c (m, n), rows ldc apart: c[i][j] = (accumulate ? c[i][j] : 0) + Σ_{p < k} A[i][p] ·
 * B[p][j], summed in runs as above. A[i][p] is a[i·lda + p], or a[p·lda + i] when
 * a_transposed; B[p][j] is b[p·ldb + j], or b[j·ldb + p] when b_transposed. */
void nn_cpu_gemm(bool a_transposed, bool b_transposed, int m, int n, int k, const float *a, int lda,
                 const float *b, int ldb, float *c, int ldc, bool accumulate);

#endif
