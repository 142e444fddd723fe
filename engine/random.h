/* Counter-based random numbers (Philox4x32-10).
 *
 * Every number is a pure function of (seed, stream, counter), so a kernel that splits
 * its work across threads draws exactly the numbers a single thread would: with a fixed
 * seed, runs are bit-for-bit repeatable whatever the thread count. */
#ifndef NN_RANDOM_H
#define NN_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* A sequential generator over one stream. */
typedef struct nn_rng {
    uint64_t seed;
    uint64_t stream;
    uint64_t counter;    /* next 128-bit block to generate */
    uint32_t block[4];   /* the current block */
    int used;            /* words of block already handed out (4 = empty) */
} nn_rng;

/* The 4 words of block `counter` of `stream` under `seed`. */
void nn_random_block(uint64_t seed, uint64_t stream, uint64_t counter, uint32_t out[4]);

/* Element `index` of the stream as a uniform float in [0, 1). Pure: threads may call it
 * for any indices in any order. */
float nn_random_uniform_at(uint64_t seed, uint64_t stream, uint64_t index);

/* Elements [4·block, 4·block + 4) of the stream, as nn_random_uniform_at gives them, for
 * the price of one. */
void nn_random_uniform_block(uint64_t seed, uint64_t stream, uint64_t block, float out[4]);

void nn_rng_init(nn_rng *rng, uint64_t seed, uint64_t stream);
uint32_t nn_rng_u32(nn_rng *rng);
/* Uniform in [0, 1) with 24 random bits (exactly representable as float). */
float nn_rng_uniform(nn_rng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double nn_rng_uniform_double(nn_rng *rng);
/* Standard normal (Box-Muller on two uniforms). */
double nn_rng_normal(nn_rng *rng);
/* Uniform integer in [0, bound), without modulo bias. bound must be > 0. */
uint64_t nn_rng_below(nn_rng *rng, uint64_t bound);
/* Fisher-Yates shuffle of indices[0..count). */
void nn_rng_shuffle(nn_rng *rng, int64_t *indices, size_t count);

/* The process-wide seed that layers, initializers and fit draw their streams from.
 * nn_random_seed() makes everything after it repeatable; until it is called the seed
 * comes from the clock and process id. */
void nn_random_seed(uint64_t seed);
uint64_t nn_random_global_seed(void);
/* A fresh stream number for the next consumer (a layer's initializer, a fit). */
uint64_t nn_random_next_stream(void);

#endif
