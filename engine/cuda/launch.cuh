/* Grid arithmetic shared by the .cu files: 256 threads a block, at most 2^20 blocks,
 * and grid-stride loops so any n is covered. */
#ifndef NN_CUDA_LAUNCH_CUH
#define NN_CUDA_LAUNCH_CUH

#include <stddef.h>

#include "cuda_internal.h"

#define NN_THREADS 256

static inline unsigned nn_blocks(size_t n)
{
    size_t blocks = (n + NN_THREADS - 1) / NN_THREADS;
    const size_t limit = (size_t)1 << 20;
    return (unsigned)(blocks == 0 ? 1 : blocks > limit ? limit : blocks);
}

/* for i over [0, n) in this thread's share of the grid */
#define NN_FOR_EACH(i, n)                                                          \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (size_t)(n); \
         i += (size_t)blockDim.x * gridDim.x)

/* Start of every launcher: the stream of the current GPU, or return on a failure
 * already recorded (or nothing to do). */
#define NN_CUDA_STREAM_OR_RETURN(context, n)           \
    nn_cuda_context *context = nn_cuda_context_current(); \
    if (!context || (n) == 0)                          \
        return

#endif
