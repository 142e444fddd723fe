/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11). */
#include "random.h"

#include <math.h>
#include <time.h>
#include <unistd.h>

static const uint32_t PHILOX_M0 = 0xD2511F53u;
static const uint32_t PHILOX_M1 = 0xCD9E8D57u;
static const uint32_t PHILOX_W0 = 0x9E3779B9u;
static const uint32_t PHILOX_W1 = 0xBB67AE85u;

static inline void multiply_high_low(uint32_t a, uint32_t b, uint32_t *high, uint32_t *low)
{
    uint64_t product = (uint64_t)a * b;
    *high = (uint32_t)(product >> 32);
    *low = (uint32_t)product;
}

void nn_random_block(uint64_t seed, uint64_t stream, uint64_t counter, uint32_t out[4])
{
    uint32_t x0 = (uint32_t)counter, x1 = (uint32_t)(counter >> 32);
    uint32_t x2 = (uint32_t)stream, x3 = (uint32_t)(stream >> 32);
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        uint32_t high0, low0, high1, low1;
        multiply_high_low(PHILOX_M0, x0, &high0, &low0);
        multiply_high_low(PHILOX_M1, x2, &high1, &low1);
        uint32_t y0 = high1 ^ x1 ^ k0;
        uint32_t y2 = high0 ^ x3 ^ k1;
        x0 = y0;
        x1 = low1;
        x2 = y2;
        x3 = low0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = x0;
    out[1] = x1;
    out[2] = x2;
    out[3] = x3;
}

static inline float uniform_from_bits(uint32_t bits)
{
    return (float)(bits >> 8) * (1.0f / 16777216.0f);
}

float nn_random_uniform_at(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint32_t block[4];
    nn_random_block(seed, stream, index / 4, block);
    return uniform_from_bits(block[index % 4]);
}

void nn_random_uniform_block(uint64_t seed, uint64_t stream, uint64_t block, float out[4])
{
    uint32_t bits[4];
    nn_random_block(seed, stream, block, bits);
    for (int k = 0; k < 4; k++)
        out[k] = uniform_from_bits(bits[k]);
}

void nn_rng_init(nn_rng *rng, uint64_t seed, uint64_t stream)
{
    rng->seed = seed;
    rng->stream = stream;
    rng->counter = 0;
    rng->used = 4;
}

uint32_t nn_rng_u32(nn_rng *rng)
{
    if (rng->used == 4) {
        nn_random_block(rng->seed, rng->stream, rng->counter++, rng->block);
        rng->used = 0;
    }
    return rng->block[rng->used++];
}

float nn_rng_uniform(nn_rng *rng) { return uniform_from_bits(nn_rng_u32(rng)); }

double nn_rng_uniform_double(nn_rng *rng)
{
    uint64_t high = nn_rng_u32(rng) >> 5, low = nn_rng_u32(rng) >> 6;
    return (double)(high * 67108864u + low) * (1.0 / 9007199254740992.0);
}

double nn_rng_normal(nn_rng *rng)
{
    /* 1 - u lies in (0, 1], so the logarithm is finite. */
    double u1 = 1.0 - nn_rng_uniform_double(rng);
    double u2 = nn_rng_uniform_double(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t nn_rng_below(nn_rng *rng, uint64_t bound)
{
    /* Rejection sampling on 64-bit draws: values past the last whole multiple of bound
     * are redrawn, so every result is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    for (;;) {
        uint64_t value = ((uint64_t)nn_rng_u32(rng) << 32) | nn_rng_u32(rng);
        if (value < limit)
            return value % bound;
    }
}

void nn_rng_shuffle(nn_rng *rng, int64_t *indices, size_t count)
{
    for (size_t i = count; i > 1; i--) {
        size_t j = (size_t)nn_rng_below(rng, i);
        int64_t swap = indices[i - 1];
        indices[i - 1] = indices[j];
        indices[j] = swap;
    }
}

static uint64_t global_seed;
static uint64_t global_stream;
static int global_seeded;

static void ensure_seeded(void)
{
    if (global_seeded)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    global_seed = ((uint64_t)now.tv_sec * 1000000007u) ^ (uint64_t)now.tv_nsec ^
                  ((uint64_t)getpid() << 32);
    global_stream = 0;
    global_seeded = 1;
}

void nn_random_seed(uint64_t seed)
{
    global_seed = seed;
    global_stream = 0;
    global_seeded = 1;
}

uint64_t nn_random_global_seed(void)
{
    ensure_seeded();
    return global_seed;
}

uint64_t nn_random_next_stream(void)
{
    ensure_seeded();
    return ++global_stream;
}
