/* Version numbers of the GPU libraries as people write them. */
#include <stdio.h>

#include "gpu.h"

char *nn_gpu_format_cuda_version(int version, char *buf, size_t size)
{
    /* CUDA encodes 1000 · major + 10 · minor (12040 is 12.4). */
    if (version <= 0)
        snprintf(buf, size, "none");
    else
        snprintf(buf, size, "%d.%d", version / 1000, version % 1000 / 10);
    return buf;
}

char *nn_gpu_format_cudnn_version(int version, char *buf, size_t size)
{
    /* cuDNN 9 encodes 10000 · major + 100 · minor + patch (91900 is 9.19.0); cuDNN 8
     * and before 1000 · major + 100 · minor + patch (8907 is 8.9.7). nnsh encodes
     * cuBLAS like cuDNN 9. */
    if (version <= 0)
        snprintf(buf, size, "none");
    else if (version >= 10000)
        snprintf(buf, size, "%d.%d.%d", version / 10000, version % 10000 / 100, version % 100);
    else
        snprintf(buf, size, "%d.%d.%d", version / 1000, version % 1000 / 100, version % 100);
    return buf;
}
