/* Run-time choice of the vector instruction set (see simd.h). */
#include "simd.h"

#include <stdlib.h>
#include <string.h>

static const char *const level_names[NN_SIMD_LEVEL_COUNT] = {
    [NN_SIMD_PORTABLE] = "portable", [NN_SIMD_AVX2] = "avx2", [NN_SIMD_AVX512] = "avx512"};

/* -1 until first asked; then a level. */
static int active_level = -1;

const char *nn_simd_level_name(nn_simd_level level)
{
    return level < NN_SIMD_LEVEL_COUNT ? level_names[level] : "unknown";
}

nn_simd_level nn_simd_supported(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    /* libgcc checks the operating system saves the wider registers (XGETBV) too. */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return NN_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return NN_SIMD_AVX2;
#endif
    return NN_SIMD_PORTABLE;
}

/* The supported level, lowered to NNSH_SIMD when that names a level. */
static nn_simd_level initial_level(void)
{
    nn_simd_level level = nn_simd_supported();
    const char *cap = getenv("NNSH_SIMD");
    for (int i = 0; cap && i < NN_SIMD_LEVEL_COUNT; i++)
        if (strcmp(cap, level_names[i]) == 0 && (nn_simd_level)i < level)
            level = (nn_simd_level)i;
    return level;
}

nn_simd_level nn_simd_active(void)
{
    if (active_level < 0)
        active_level = (int)initial_level();
    return (nn_simd_level)active_level;
}

bool nn_simd_select(nn_simd_level level)
{
    if (level >= NN_SIMD_LEVEL_COUNT || level > nn_simd_supported())
        return false;
    active_level = (int)level;
    return true;
}
