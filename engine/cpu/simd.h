/* Which vector instructions the CPU kernels use: the best the processor supports, found
 * once at run time, or a lower level chosen by tests (to prove every path against the
 * references) and by benchmarks. The environment variable NNSH_SIMD (portable, avx2,
 * avx512) caps the level for a whole run, e.g. under valgrind, which lacks AVX-512. */
#ifndef NN_CPU_SIMD_H
#define NN_CPU_SIMD_H

#include <stdbool.h>

typedef enum nn_simd_level {
    NN_SIMD_PORTABLE, /* plain C, whatever the compiler makes of it */
    NN_SIMD_AVX2,     /* AVX2 and FMA: 8 floats per vector */
    NN_SIMD_AVX512,   /* AVX-512F: 16 floats per vector, masked tails */
    NN_SIMD_LEVEL_COUNT
} nn_simd_level;

/* The best level this processor (and operating system) supports. */
nn_simd_level nn_simd_supported(void);
/* The level the kernels use now: the supported one, capped by NNSH_SIMD and by
 * nn_simd_select. */
nn_simd_level nn_simd_active(void);
/* Makes the kernels use `level`. Returns false, changing nothing, when the processor
 * lacks it. Call between kernels, never while one runs on another thread. */
bool nn_simd_select(nn_simd_level level);
const char *nn_simd_level_name(nn_simd_level level);

#endif
