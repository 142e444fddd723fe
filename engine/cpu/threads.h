/* How many threads the CPU kernels (OpenMP) and OpenBLAS run. No value a layer computes
 * depends on it (engine/cpu/gemm.h); only the speed does. */
#ifndef NN_CPU_THREADS_H
#define NN_CPU_THREADS_H

/* count ≥ 1, or 0 for one per logical processor. OpenBLAS keeps at most the number it
 * was built for (64 on Debian) and the kernels take the rest. */
void nn_cpu_set_thread_count(int count);
/* The threads the CPU kernels run now. */
int nn_cpu_thread_count(void);

#endif
