/* The counter-based generator: pure in (seed, stream, counter), uniform enough. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "random.h"

Test(random, philox_matches_the_published_known_answer)
{
    /* Known-answer test of Random123 for philox4x32-10: counter and key all zero. */
    uint32_t block[4];
    nn_random_block(0, 0, 0, block);
    cr_assert_eq(block[0], 0x6627e8d5u);
    cr_assert_eq(block[1], 0xe169c58du);
    cr_assert_eq(block[2], 0xbc57ac4cu);
    cr_assert_eq(block[3], 0x9b00dbd8u);
}

Test(random, element_at_index_equals_sequential_draw)
{
    nn_rng rng;
    nn_rng_init(&rng, 42, 7);
    for (uint64_t i = 0; i < 100; i++) {
        float sequential = nn_rng_uniform(&rng);
        cr_assert_eq(sequential, nn_random_uniform_at(42, 7, i));
    }
}

Test(random, streams_and_seeds_differ)
{
    cr_assert_neq(nn_random_uniform_at(1, 1, 0), nn_random_uniform_at(1, 2, 0));
    cr_assert_neq(nn_random_uniform_at(1, 1, 0), nn_random_uniform_at(2, 1, 0));
}

Test(random, uniform_and_normal_moments)
{
    nn_rng rng;
    nn_rng_init(&rng, 3, 0);
    double sum = 0, sum_sq = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = nn_rng_uniform(&rng);
        cr_assert(u >= 0.0 && u < 1.0);
        sum += u;
    }
    cr_assert_float_eq(sum / n, 0.5, 0.005);
    sum = 0;
    for (int i = 0; i < n; i++) {
        double z = nn_rng_normal(&rng);
        sum += z;
        sum_sq += z * z;
    }
    cr_assert_float_eq(sum / n, 0.0, 0.01);
    cr_assert_float_eq(sum_sq / n, 1.0, 0.02);
}

Test(random, shuffle_is_a_permutation_and_repeatable)
{
    int64_t a[50], b[50];
    for (int i = 0; i < 50; i++)
        a[i] = b[i] = i;
    nn_rng r1, r2;
    nn_rng_init(&r1, 9, 1);
    nn_rng_init(&r2, 9, 1);
    nn_rng_shuffle(&r1, a, 50);
    nn_rng_shuffle(&r2, b, 50);
    int seen[50] = {0};
    int moved = 0;
    for (int i = 0; i < 50; i++) {
        cr_assert_eq(a[i], b[i]);
        seen[a[i]]++;
        moved += a[i] != i;
    }
    for (int i = 0; i < 50; i++)
        cr_assert_eq(seen[i], 1);
    cr_assert_gt(moved, 30);
}

Test(random, a_block_of_four_uniforms_equals_four_single_draws)
{
    for (uint64_t block = 0; block < 40; block += 7) {
        float four[4];
        nn_random_uniform_block(31, 5, block, four);
        for (int k = 0; k < 4; k++) {
            float single = nn_random_uniform_at(31, 5, 4 * block + (uint64_t)k);
            cr_assert(memcmp(&four[k], &single, sizeof(float)) == 0,
                      "element %llu: %.9g from the block, %.9g alone",
                      (unsigned long long)(4 * block + (uint64_t)k), four[k], single);
        }
    }
}
