/* Controls of the emulated device (backend.h: nn_backend_emulated), for tests: a memory
 * limit that makes allocation fail as a full GPU would, and a kernel failure that check()
 * and synchronize() then report, as a failing CUDA launch would be. */
#ifndef NN_EMULATED_H
#define NN_EMULATED_H

#include <stddef.h>

/* Device memory beyond `bytes` in total is refused with NN_ERR_MEMORY; 0 = no limit.
 * NNSH_EMULATED_MEMORY=<bytes> sets it at start. */
void nn_emulated_set_memory_limit(size_t bytes);
/* Bytes of emulated device memory allocated now. */
size_t nn_emulated_memory_in_use(void);
/* The `count`-th kernel from now (1 = the next) records a failure; 0 = none. */
void nn_emulated_fail_kernel(long count);

#endif
