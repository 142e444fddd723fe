/* The CPU kernels' thread count (threads.h). */
#include "threads.h"

#include <cblas.h>
#include <omp.h>

void nn_cpu_set_thread_count(int count)
{
    if (count <= 0)
        count = omp_get_num_procs();
    /* OpenBLAS (built with OpenMP) caps the count at its build's maximum and sets
     * OpenMP's count itself, so it goes first and the kernels' own count last. */
    openblas_set_num_threads(count);
    omp_set_num_threads(count);
}

int nn_cpu_thread_count(void) { return omp_get_max_threads(); }
