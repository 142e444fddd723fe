/* The body of the matrix product's narrow kernel, included by each tile file with
 * MULTIPLY_ADD (fused where the level fuses) and NARROW_TARGET defined: one column of C,
 * NN_GEMM_NARROW_ROWS rows at a time as independent scalar chains. For a product one to
 * a few columns wide (a global average pool's sums, a depthwise convolution's single
 * filter) a tile would compute 16 or 32 columns to keep one. */
static NARROW_TARGET void narrow(float *c, ptrdiff_t ldc,
                                 const float *const a[NN_GEMM_NARROW_ROWS], ptrdiff_t a_step,
                                 const float *b, ptrdiff_t b_step, int depth, int rows,
                                 nn_gemm_start start)
{
    enum { R = NN_GEMM_NARROW_ROWS };
    float acc[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
        acc[r] = start == NN_GEMM_FROM_C && r < rows ? c[r * ldc] : 0.0f;
    for (int p = 0; p < depth; p++) {
        const float w = b[p * b_step];
        const ptrdiff_t offset = p * a_step;
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
            acc[r] = MULTIPLY_ADD(a[r][offset], w, acc[r]);
    }
    for (int r = 0; r < rows; r++)
        c[r * ldc] = start == NN_GEMM_ADD_TO_C ? c[r * ldc] + acc[r] : acc[r];
}
