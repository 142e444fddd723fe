/* Register-tiled inner loops of the direct convolution (conv2d_direct.c), one set per
 * vector instruction level. Each works on a tile small enough to live in registers and
 * reads its input straight from a (zero-padded) image, so no im2col matrix is ever
 * written.
 *
 * Weights are packed into panels: the columns (output channels) are cut into blocks of
 * `block_vectors` vectors (the last block shorter, rounded up to whole vectors and
 * padded with zeros), and each block is stored as its own (K, width) row-major matrix,
 * block after block, so the block starting at column n0 begins at panel + K·n0. */
#ifndef NN_CPU_CONV_TILES_H
#define NN_CPU_CONV_TILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "simd.h"

/* Output pixels of one forward tile. */
enum { NN_CONV_TILE_ROWS = 6 };

/* The window of a tile: taps (i, j) for i < kernel_height, j < kernel_width, whose
 * input sits row_step·i + col_step·j floats after the tile row's base pointer, and
 * whose weights for input channel c are row (i·kernel_width + j)·channels + c of the
 * panel block, rows weight_stride floats apart: the block's width when packed, or the
 * kernel's own row length when a (K, OC) kernel is read in place (OC a whole number of
 * vectors, so no row is read past its end). */
typedef struct nn_conv_taps {
    int kernel_height, kernel_width;
    ptrdiff_t row_step, col_step;
    ptrdiff_t weight_stride;
} nn_conv_taps;

typedef struct nn_conv_tiles {
    nn_simd_level level;
    int vector_floats; /* floats per vector */
    int block_vectors; /* vectors per full panel block */

    /* out (rows, cols), rows `out_stride` apart, = activation(bias + Σ_taps Σ_c
     * x_r[tap offset + c] · panel[(tap·channels + c)·weight_stride + n]): rows ≤ 6
     * output pixels whose windows start at x[r] (entries past `rows` must still point at
     * readable input), `vectors` vectors of output channels of which the first
     * cols ≤ width are stored. bias (cols) may be NULL; relu clamps at zero (NaN gives
     * 0). */
    void (*forward)(float *out, ptrdiff_t out_stride, const float *const x[NN_CONV_TILE_ROWS],
                    const nn_conv_taps *taps, int channels, const float *panel, int vectors,
                    const float *bias, bool relu, int rows, int cols);

    /* One 2×2 max-pooling window over the forward: the output pixels whose windows
     * start at x[0..3] (the pooling window row by row) go through bias and relu as in
     * forward, then pooled (cols) gets their maximum and, when argmax is not NULL,
     * argmax (cols) gets first[r] + n for the winning pixel r: the first of equal
     * values, and a NaN first stays, as max pooling scans. */
    void (*forward_pooled)(float *pooled, int32_t *argmax, const float *const x[4],
                           const int32_t first[4], const nn_conv_taps *taps, int channels,
                           const float *panel, int vectors, const float *bias, bool relu,
                           int cols);

    /* How many rows of the kernel gradient one weight-gradient tile holds, for a block
     * of `vectors` vectors. */
    int (*gradient_rows)(int vectors);
    /* dkernel rows j < count (rows `dkernel_stride` apart, cols ≤ width stored) =
     * (accumulate ? dkernel : 0) + Σ over output pixels (y, x) < (height, width) of
     * src[y·src_row + x·src_col + offsets[j]] · dout[(y·width + x)·dout_stride + n].
     * count ≤ gradient_rows(vectors). The sum starts from zero and is added at the end,
     * so a caller that cuts a long sum into calls of a few hundred terms keeps float
     * rounding from growing with it. */
    void (*weight_gradient)(float *dkernel, ptrdiff_t dkernel_stride, int count,
                            const ptrdiff_t *offsets, const float *src, ptrdiff_t src_row,
                            ptrdiff_t src_col, int height, int width, const float *dout,
                            ptrdiff_t dout_stride, int vectors, int cols, bool accumulate);
    /* dbias (cols) = (accumulate ? dbias : 0) + Σ_r dout[r·dout_stride + n], r < rows,
     * summed from zero as above. */
    void (*bias_gradient)(float *dbias, const float *dout, ptrdiff_t dout_stride, int rows,
                          int vectors, int cols, bool accumulate);
} nn_conv_tiles;

extern const nn_conv_tiles nn_conv_tiles_portable;
extern const nn_conv_tiles nn_conv_tiles_avx2;
extern const nn_conv_tiles nn_conv_tiles_avx512;

#endif
