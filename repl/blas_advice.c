#include "blas_advice.h"

#include <strings.h>

nnsh_cpu_features nnsh_cpu_features_probe(void)
{
    nnsh_cpu_features features = {false, false};
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    features.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    features.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#endif
    return features;
}

static bool named(const char *core, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcasecmp(core, names[i]) == 0)
            return true;
    return false;
}

const char *nnsh_blas_better_core(const char *core, nnsh_cpu_features features)
{
    /* x86-64 cores of OpenBLAS' DYNAMIC_ARCH builds, by the widest vectors they use. */
    static const char *const avx512_cores[] = {"SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    static const char *const avx2_cores[] = {"Haswell", "Zen", NULL};
    static const char *const older_cores[] = {
        "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Sandybridge", "Atom",
        "Opteron", "Opteron_SSE3", "Barcelona", "Bobcat", "Bulldozer", "Piledriver",
        "Steamroller", "Excavator", "Nano", "Katmai", "Coppermine", "Northwood", "Banias",
        "Athlon", NULL};
    if (!core || named(core, avx512_cores))
        return NULL;
    bool avx2 = named(core, avx2_cores);
    if (!avx2 && !named(core, older_cores))
        return NULL;
    if (features.avx512)
        return "SkylakeX";
    if (features.avx2_fma && !avx2)
        return "Haswell";
    return NULL;
}
