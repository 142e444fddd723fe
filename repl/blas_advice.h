/* Whether OpenBLAS picked kernels below what this CPU can run. OpenBLAS chooses its
 * kernels by CPU model; a model it does not know (a new processor, or a virtual machine
 * that hides the model) falls back to generic SSE3 kernels ("Prescott") that run matrix
 * products several times slower than the AVX2 or AVX-512 ones the CPU supports. */
#ifndef NNSH_BLAS_ADVICE_H
#define NNSH_BLAS_ADVICE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct nnsh_cpu_features {
    bool avx2_fma; /* AVX2 and FMA: OpenBLAS' Haswell kernels */
    bool avx512;   /* AVX-512 F, BW, DQ and VL: its SkylakeX kernels */
} nnsh_cpu_features;

/* The features of the CPU running this program (none on a CPU that is not x86-64). */
nnsh_cpu_features nnsh_cpu_features_probe(void);

/* The OPENBLAS_CORETYPE value that would give faster kernels than `core` (as
 * openblas_get_corename names it) on a CPU with `features`, or NULL when `core` already
 * uses the best this CPU has, or is not a core this knows. */
const char *nnsh_blas_better_core(const char *core, nnsh_cpu_features features);

#endif
