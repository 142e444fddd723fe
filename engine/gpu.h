/* What the GPU side of this build offers: whether CUDA was compiled in, the library
 * versions, and each GPU the driver reports. Implemented by engine/cuda/ when CMake
 * built the CUDA backend and by engine/nocuda/ otherwise, so callers never test for
 * CUDA themselves.
 *
 *   char why[256];
 *   int count = nn_gpu_count(why, sizeof why);  (0: `why` says why none is used)
 *   for (int i = 0; i < count; i++) { nn_gpu_info info; nn_gpu_describe(i, &info); } */
#ifndef NN_GPU_H
#define NN_GPU_H

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "status.h"

/* One GPU as the driver reports it. */
typedef struct nn_gpu_info {
    int index;
    char name[256];              /* "NVIDIA H100 80GB HBM3" */
    size_t total_memory;         /* bytes */
    size_t free_memory;          /* bytes, when asked */
    int compute_major, compute_minor; /* compute capability, e.g. 9.0 */
    int multiprocessors;
} nn_gpu_info;

/* Versions as integers in CUDA's encodings (12040 = 12.4; cuDNN 91900 = 9.19.0);
 * 0 where unknown or absent. */
typedef struct nn_gpu_versions {
    bool built_with_cuda;
    int runtime_compiled, runtime;   /* CUDA runtime: the headers built with, the library */
    int driver;                      /* what the installed driver supports; 0 without one */
    int cudnn_compiled, cudnn;       /* cuDNN: headers, library */
    int cublas;                      /* cuBLAS library */
} nn_gpu_versions;

/* Number of GPUs this build can use. With none, writes the exact reason into why (may
 * be NULL): "this nnsh was built without the CUDA backend", or the failing call and
 * CUDA's message. The answer is computed once per process. */
int nn_gpu_count(char *why, size_t size);
/* Name, memory and compute capability of GPU `index` (and its free memory now). */
nn_status nn_gpu_describe(int index, nn_gpu_info *info);
void nn_gpu_get_versions(nn_gpu_versions *versions);

/* "12.4" from CUDA's encoding (runtime and driver versions); "none" for 0. */
char *nn_gpu_format_cuda_version(int version, char *buf, size_t size);
/* "9.19.0" from cuDNN's encoding (also cuBLAS's, as nn_gpu_versions holds it). */
char *nn_gpu_format_cudnn_version(int version, char *buf, size_t size);

/* The CUDA backend, or NULL when this build has none. */
const nn_backend *nn_backend_cuda(void);

#endif
