/* nnsh --doctor's advice on OpenBLAS kernels: a better OPENBLAS_CORETYPE is named only
 * when the CPU runs wider vectors than the kernels OpenBLAS chose. */
#include <criterion/criterion.h>

#include "blas_advice.h"

static const nnsh_cpu_features sse_only = {false, false};
static const nnsh_cpu_features avx2 = {true, false};
static const nnsh_cpu_features avx512 = {true, true};

Test(blas_advice, a_fallback_core_on_a_newer_cpu_is_named)
{
    cr_assert_str_eq(nnsh_blas_better_core("Prescott", avx512), "SkylakeX");
    cr_assert_str_eq(nnsh_blas_better_core("Prescott", avx2), "Haswell");
    cr_assert_str_eq(nnsh_blas_better_core("Sandybridge", avx2), "Haswell");
    cr_assert_str_eq(nnsh_blas_better_core("Haswell", avx512), "SkylakeX");
    cr_assert_str_eq(nnsh_blas_better_core("ZEN", avx512), "SkylakeX", "names in any case");
}

Test(blas_advice, the_best_core_for_the_cpu_gets_no_advice)
{
    cr_assert_null(nnsh_blas_better_core("SkylakeX", avx512));
    cr_assert_null(nnsh_blas_better_core("Cooperlake", avx512));
    cr_assert_null(nnsh_blas_better_core("Haswell", avx2));
    cr_assert_null(nnsh_blas_better_core("Zen", avx2));
    cr_assert_null(nnsh_blas_better_core("Prescott", sse_only));
}

Test(blas_advice, cores_it_does_not_know_get_no_advice)
{
    cr_assert_null(nnsh_blas_better_core("neoversen1", avx512), "an ARM core");
    cr_assert_null(nnsh_blas_better_core(NULL, avx512));
}
