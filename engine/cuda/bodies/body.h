/* Kernel bodies: what one GPU thread computes for one index, written as plain C so that
 * the .cu launchers and a CPU test (tests/engine/test_cuda_bodies.c) run the very same
 * code. The launchers add only the index arithmetic of the grid; the test runs every
 * index in a loop and compares with the CPU backend, so the indexing, the rounding and
 * the edge cases of every CUDA kernel are checked on machines without a GPU.
 *
 * Reductions are written the same way: thread s of S sums indices s, s + S, s + 2S, ...
 * (adjacent threads read adjacent memory) into partials[s], and one thread then adds the
 * S partials in order, so results do not depend on scheduling. */
#ifndef NN_CUDA_BODY_H
#define NN_CUDA_BODY_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __CUDACC__
#define NN_BODY static __host__ __device__ inline
#else
#define NN_BODY static inline
#endif

/* How many partial sums a reduction uses: enough threads to fill a GPU's memory
 * bandwidth for the sizes here, few enough for one thread to add them up. */
enum { NN_REDUCE_SLICES = 256 };

/* The high 32 bits of a 32 × 32-bit product (Philox's multiply). */
NN_BODY uint32_t nn_body_mulhi(uint32_t a, uint32_t b)
{
#ifdef __CUDA_ARCH__
    return __umulhi(a, b);
#else
    return (uint32_t)(((uint64_t)a * b) >> 32);
#endif
}

#endif
