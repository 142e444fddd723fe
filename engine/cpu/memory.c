/* The CPU backend's memory functions: device memory is ordinary host memory, copies are
 * memcpy, and there is never anything to wait for. */
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"

enum { CPU_ALIGNMENT = 256 };

nn_status nn_cpu_memory_alloc(void **out, size_t bytes, int index)
{
    (void)index;
    *out = NULL;
    size_t rounded = (bytes + CPU_ALIGNMENT - 1) / CPU_ALIGNMENT * CPU_ALIGNMENT;
    if (rounded < bytes)
        return nn_error(NN_ERR_MEMORY, "a buffer of %zu bytes is too large", bytes);
    void *memory = aligned_alloc(CPU_ALIGNMENT, rounded ? rounded : CPU_ALIGNMENT);
    if (!memory)
        return nn_error(NN_ERR_MEMORY, "out of memory allocating %zu bytes", bytes);
    memset(memory, 0, rounded ? rounded : CPU_ALIGNMENT);
    *out = memory;
    return NN_OK;
}

void nn_cpu_memory_free(void *pointer) { free(pointer); }

nn_status nn_cpu_host_alloc(void **out, size_t bytes) { return nn_cpu_memory_alloc(out, bytes, 0); }

void nn_cpu_host_free(void *pointer) { free(pointer); }

nn_status nn_cpu_copy_to_host(void *host, const void *source, size_t bytes)
{
    if (bytes && host != source)
        memmove(host, source, bytes);
    return NN_OK;
}

nn_status nn_cpu_copy_from_host(void *target, const void *host, size_t bytes)
{
    if (bytes && target != host)
        memmove(target, host, bytes);
    return NN_OK;
}

void nn_cpu_copy(void *target, const void *source, size_t bytes)
{
    if (bytes && target != source)
        memmove(target, source, bytes);
}

void nn_cpu_memory_zero(void *target, size_t bytes)
{
    if (bytes)
        memset(target, 0, bytes);
}

void nn_cpu_upload_async(void *target, const void *pinned, size_t bytes)
{
    nn_cpu_copy(target, pinned, bytes);
}

nn_status nn_cpu_synchronize(void) { return NN_OK; }

nn_status nn_cpu_select_device(int index)
{
    if (index != 0)
        return nn_error(NN_ERR_ARGUMENT, "the CPU is device 0, not %d", index);
    return NN_OK;
}

void nn_cpu_fill(float *target, float value, size_t n)
{
    for (size_t i = 0; i < n; i++)
        target[i] = value;
}

void nn_cpu_add(float *y, const float *x, size_t n)
{
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (size_t i = 0; i < n; i++)
        y[i] += x[i];
}

void nn_cpu_multiply(float *y, const float *a, const float *b, size_t n)
{
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (size_t i = 0; i < n; i++)
        y[i] = a[i] * b[i];
}

void nn_cpu_scale_shift(float *y, const float *x, float scale, float offset, size_t n)
{
    /* Memory-bound: a second thread pays only on large buffers. */
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] * scale + offset;
}
