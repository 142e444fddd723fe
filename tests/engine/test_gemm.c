/* The layers' matrix product (engine/cpu/gemm.h): at every vector level against a plain
 * statement of its summation order, bit for bit where the level fuses multiply and add;
 * against a double reference for accuracy, a long sum included; leading dimensions and
 * untouched neighbours; and the same bits whatever the number of threads. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/gemm.h"
#include "cpu/simd.h"

static void *checked_calloc(size_t count, size_t size)
{
    void *memory = calloc(count > 0 ? count : 1, size);
    cr_assert(memory != NULL);
    return memory;
}

/* Uniform floats in [low, high) from a small fixed generator (xorshift). */
static void fill(float *values, size_t count, uint64_t seed, float low, float high)
{
    uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < count; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        values[i] = low + (high - low) * (float)(state >> 40) / (float)(1u << 24);
    }
}

typedef struct product {
    bool a_transposed, b_transposed, accumulate;
    int m, n, k;
    int lda, ldb, ldc; /* each at least its row length; larger ones leave gaps */
} product;

static float a_at(const product *p, const float *a, int i, int q)
{
    return p->a_transposed ? a[(size_t)q * (size_t)p->lda + (size_t)i]
                           : a[(size_t)i * (size_t)p->lda + (size_t)q];
}

static float b_at(const product *p, const float *b, int q, int j)
{
    return p->b_transposed ? b[(size_t)j * (size_t)p->ldb + (size_t)q]
                           : b[(size_t)q * (size_t)p->ldb + (size_t)j];
}

/* gemm.h's order stated plainly: the first run of NN_GEMM_RUN terms continues from the
 * start, each later one is summed from zero and added. */
static void ordered_reference(const product *p, const float *a, const float *b, float *c)
{
    for (int i = 0; i < p->m; i++)
        for (int j = 0; j < p->n; j++) {
            float *out = c + (size_t)i * (size_t)p->ldc + (size_t)j;
            float total = p->accumulate ? *out : 0.0f;
            for (int q0 = 0; q0 < p->k; q0 += NN_GEMM_RUN) {
                float run = q0 == 0 ? total : 0.0f;
                for (int q = q0; q < p->k && q < q0 + NN_GEMM_RUN; q++)
                    run = fmaf(a_at(p, a, i, q), b_at(p, b, q, j), run);
                total = q0 == 0 ? run : total + run;
            }
            *out = total;
        }
}

static double exact_at(const product *p, const float *a, const float *b, const float *c0,
                       int i, int j)
{
    double sum = p->accumulate ? c0[(size_t)i * (size_t)p->ldc + (size_t)j] : 0.0;
    for (int q = 0; q < p->k; q++)
        sum += (double)a_at(p, a, i, q) * (double)b_at(p, b, q, j);
    return sum;
}

static size_t a_floats(const product *p)
{
    return p->a_transposed ? (size_t)p->k * (size_t)p->lda : (size_t)p->m * (size_t)p->lda;
}

static size_t b_floats(const product *p)
{
    return p->b_transposed ? (size_t)p->n * (size_t)p->ldb : (size_t)p->k * (size_t)p->ldb;
}

/* Runs the product at the active level and checks it: every element equal to the ordered
 * reference (bit for bit when `exact`, else within float rounding of the double sum), and
 * the gaps between rows of C unchanged. */
static void check_product(const product *p, uint64_t seed, bool exact)
{
    float *a = checked_calloc(a_floats(p), sizeof(float));
    float *b = checked_calloc(b_floats(p), sizeof(float));
    size_t c_count = (size_t)p->m * (size_t)p->ldc;
    float *c = checked_calloc(c_count, sizeof(float));
    float *c0 = checked_calloc(c_count, sizeof(float));
    float *expected = checked_calloc(c_count, sizeof(float));
    fill(a, a_floats(p), seed, -1.0f, 1.0f);
    fill(b, b_floats(p), seed + 1, -1.0f, 1.0f);
    fill(c0, c_count, seed + 2, -1.0f, 1.0f);
    memcpy(c, c0, c_count * sizeof(float));
    memcpy(expected, c0, c_count * sizeof(float));
    nn_cpu_gemm(p->a_transposed, p->b_transposed, p->m, p->n, p->k, a, p->lda, b, p->ldb, c,
                p->ldc, p->accumulate);
    ordered_reference(p, a, b, expected);
    for (int i = 0; i < p->m; i++)
        for (int j = 0; j < p->ldc; j++) {
            size_t at = (size_t)i * (size_t)p->ldc + (size_t)j;
            if (j >= p->n) {
                cr_assert(memcmp(&c[at], &c0[at], sizeof(float)) == 0,
                          "%s: (%d, %d) lies outside C and was changed",
                          nn_simd_level_name(nn_simd_active()), i, j);
                continue;
            }
            if (exact) {
                cr_assert(memcmp(&c[at], &expected[at], sizeof(float)) == 0,
                          "%s, m=%d n=%d k=%d ta=%d tb=%d acc=%d: (%d, %d) is %.9g, the "
                          "ordered sum is %.9g",
                          nn_simd_level_name(nn_simd_active()), p->m, p->n, p->k,
                          p->a_transposed, p->b_transposed, p->accumulate, i, j, c[at],
                          expected[at]);
            } else {
                /* k products of size ≤ 1 each rounded once, runs of 256 terms: 1e-6 per
                 * term is far above float rounding and far below a wrong term. */
                double exact_sum = exact_at(p, a, b, c0, i, j);
                cr_assert(fabs(c[at] - exact_sum) <= 1e-6 * (p->k + 1),
                          "%s, m=%d n=%d k=%d: (%d, %d) is %.9g, the exact sum %.9g",
                          nn_simd_level_name(nn_simd_active()), p->m, p->n, p->k, i, j, c[at],
                          exact_sum);
            }
        }
    free(a);
    free(b);
    free(c);
    free(c0);
    free(expected);
}

/* Does this level round as the ordered reference does (one fused multiply-add)? */
static bool level_fuses(nn_simd_level level)
{
#ifdef FP_FAST_FMAF
    (void)level;
    return true;
#else
    return level != NN_SIMD_PORTABLE;
#endif
}

/* One product in each of the 8 layouts (A transposed or not, B transposed or not, summed
 * onto C or not) at the active level; leading dimensions beyond the row by 0 to 2. */
static void check_layouts(int m, int n, int k, uint64_t *seed, bool exact)
{
    for (int layout = 0; layout < 8; layout++) {
        product p = {.a_transposed = layout & 1, .b_transposed = (layout >> 1) & 1,
                     .accumulate = (layout >> 2) & 1, .m = m, .n = n, .k = k};
        int gap = (int)(*seed % 3);
        p.lda = (p.a_transposed ? p.m : p.k) + gap;
        p.ldb = (p.b_transposed ? p.k : p.n) + gap;
        p.ldc = p.n + gap;
        if (p.lda == 0)
            p.lda = 1;
        if (p.ldb == 0)
            p.ldb = 1;
        check_product(&p, (*seed)++, exact);
    }
}

Test(gemm, every_level_sums_in_the_stated_order_over_every_shape_and_layout)
{
    /* Sizes around the tiles' 6 rows and the narrow kernel's 8, the narrow kernel's 4
     * columns, 16- and 32-column panels and 256-term runs; then products taller than one
     * row group (96 rows of tiles, 128 of narrow calls). */
    static const int ms[] = {1, 5, 6, 7, 13};
    static const int ns[] = {1, 4, 5, 15, 16, 17, 33, 70};
    static const int ks[] = {0, 1, 9, 256, 257};
    static const int tall[][3] = {{40, 1, 257}, {200, 1, 9}, {200, 5, 257}, {200, 33, 300}};
    nn_simd_level saved = nn_simd_active();
    int levels = 0;
    uint64_t seed = 1;
    for (int level = 0; level < NN_SIMD_LEVEL_COUNT; level++) {
        if (!nn_simd_select((nn_simd_level)level))
            continue;
        levels++;
        bool exact = level_fuses((nn_simd_level)level);
        for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
            for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
                for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
                    check_layouts(ms[mi], ns[ni], ks[ki], &seed, exact);
        for (size_t i = 0; i < sizeof tall / sizeof tall[0]; i++)
            check_layouts(tall[i][0], tall[i][1], tall[i][2], &seed, exact);
    }
    cr_assert(nn_simd_select(saved));
    cr_assert_geq(levels, 1);
}

/* The driver packs panels into a buffer sized for the widest tile. */
Test(gemm, every_level_fits_the_packing_buffer)
{
    const nn_gemm_tiles *levels[] = {&nn_gemm_tiles_portable, &nn_gemm_tiles_avx2,
                                     &nn_gemm_tiles_avx512};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        cr_assert_leq(levels[i]->width, NN_GEMM_WIDEST_TILE);
        cr_assert_eq(levels[i]->width % 16, 0, "packed panel rows stay 64-byte aligned");
    }
}

/* The three products a Dense layer of the seed CNN runs per step, at every level, within
 * float rounding of the double sums (the input gradient a quarter as wide as the seed's
 * 3136 features, which keeps the sanitizer build quick). */
Test(gemm, dense_layer_products_match_double_sums_at_every_level)
{
    static const product products[] = {
        {false, false, true, 64, 10, 128, 128, 10, 10},     /* forward onto the bias */
        {false, true, false, 64, 784, 128, 128, 128, 784},  /* input gradient */
        {true, false, false, 128, 10, 64, 128, 10, 10},     /* kernel gradient */
    };
    nn_simd_level saved = nn_simd_active();
    for (int level = 0; level < NN_SIMD_LEVEL_COUNT; level++) {
        if (!nn_simd_select((nn_simd_level)level))
            continue;
        for (size_t i = 0; i < sizeof products / sizeof products[0]; i++)
            check_product(&products[i], 100 + i, false);
    }
    cr_assert(nn_simd_select(saved));
}

/* A weight gradient over a batch of pixels sums tens of thousands of terms. Summed as one
 * chain of floats, terms of one sign and similar size drift: once the sum is large, each
 * addition rounds away the same part of the term. In runs of 256 the product stays far
 * closer. */
Test(gemm, long_sums_drift_as_blocked_sums_not_as_one_chain)
{
    enum { TERMS = 60000 };
    product p = {true, false, false, 2, 3, TERMS, 2, 3, 3};
    float *a = checked_calloc((size_t)TERMS * 2, sizeof(float));
    float *b = checked_calloc((size_t)TERMS * 3, sizeof(float));
    float c[6], chain_error = 0.0f;
    fill(a, (size_t)TERMS * 2, 7, 0.999f, 1.0f);
    fill(b, (size_t)TERMS * 3, 8, 0.1f, 0.1001f);
    nn_cpu_gemm(true, false, 2, 3, TERMS, a, 2, b, 3, c, 3, false);
    double worst = 0.0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) {
            double exact_sum = exact_at(&p, a, b, NULL, i, j);
            float chain = 0.0f;
            for (int q = 0; q < TERMS; q++)
                chain = fmaf(a[q * 2 + i], b[q * 3 + j], chain);
            double relative = fabs(c[i * 3 + j] - exact_sum) / exact_sum;
            worst = relative > worst ? relative : worst;
            double chain_relative = fabs(chain - exact_sum) / exact_sum;
            chain_error = chain_relative > chain_error ? (float)chain_relative : chain_error;
        }
    cr_log_info("relative error: one chain %.3g, the product %.3g", chain_error, worst);
    cr_assert_gt(chain_error, 1e-4, "the chain was expected to drift (%.3g)", chain_error);
    cr_assert_lt(worst, 5e-6, "the product drifted by %.3g of the sum", worst);
    free(a);
    free(b);
}

Test(gemm, results_do_not_depend_on_the_openmp_thread_count)
{
    product p = {true, true, true, 150, 77, 700, 150, 700, 77};
    float *a = checked_calloc(a_floats(&p), sizeof(float));
    float *b = checked_calloc(b_floats(&p), sizeof(float));
    size_t c_count = (size_t)p.m * (size_t)p.ldc;
    float *one = checked_calloc(c_count, sizeof(float));
    float *many = checked_calloc(c_count, sizeof(float));
    fill(a, a_floats(&p), 11, -1.0f, 1.0f);
    fill(b, b_floats(&p), 12, -1.0f, 1.0f);
    fill(one, c_count, 13, -1.0f, 1.0f);
    memcpy(many, one, c_count * sizeof(float));
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    nn_cpu_gemm(p.a_transposed, p.b_transposed, p.m, p.n, p.k, a, p.lda, b, p.ldb, one, p.ldc,
                p.accumulate);
    omp_set_num_threads(3);
    nn_cpu_gemm(p.a_transposed, p.b_transposed, p.m, p.n, p.k, a, p.lda, b, p.ldb, many,
                p.ldc, p.accumulate);
    omp_set_num_threads(threads);
    cr_assert(memcmp(one, many, c_count * sizeof(float)) == 0);
    free(a);
    free(b);
    free(one);
    free(many);
}
