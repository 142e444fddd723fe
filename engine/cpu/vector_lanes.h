/* Which lanes of a vector hold real columns, for the masked loads and stores at the ragged
 * right edge of the AVX2 and AVX-512 tiles (the direct convolution's and the matrix
 * product's). Included only by files built for x86-64 by a GCC-compatible compiler; each
 * function carries its own target attribute. */
#ifndef NN_CPU_VECTOR_LANES_H
#define NN_CPU_VECTOR_LANES_H

#include <immintrin.h>

/* All-ones lanes for the columns of 8-float vector v among the first `cols`. */
static inline __attribute__((target("avx2"))) __m256i nn_avx2_lanes(int cols, int v)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8 * v),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Lanes of 16-float vector v that hold one of the first `cols` columns. */
static inline __attribute__((target("avx512f"))) __mmask16 nn_avx512_lanes(int cols, int v)
{
    int n = cols - 16 * v;
    if (n >= 16)
        return (__mmask16)0xFFFF;
    if (n <= 0)
        return (__mmask16)0;
    return (__mmask16)((1u << n) - 1u);
}

#endif
