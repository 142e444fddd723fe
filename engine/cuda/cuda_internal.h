/* What the CUDA backend's files share: the state of each GPU (its streams, library
 * handles and a small reduction workspace) and the recording of failed calls. C and
 * CUDA files include it; only cudnn_ops.c includes cudnn.h. */
#ifndef NN_CUDA_INTERNAL_H
#define NN_CUDA_INTERNAL_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdbool.h>

#include "../status.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    NN_CUDA_MAX_DEVICES = 16,
    /* Partial sums of the reductions (two per slice) and a few scalars after them. */
    NN_CUDA_REDUCE_DOUBLES = 2 * 256 + 8,
};

/* One GPU's state, created on its first use and kept for the process. Everything the
 * backend queues goes to `stream`, in order; only the uploads of the next batch use
 * `copy_stream`, and `stream` waits for them through `uploaded`. */
typedef struct nn_cuda_context {
    int index;
    bool ready;
    cudaStream_t stream;
    cudaStream_t copy_stream;
    cudaEvent_t uploaded;
    cublasHandle_t cublas;
    void *cudnn;           /* cudnnHandle_t, made by cudnn_ops.c on first use */
    double *reduce;        /* device memory, NN_CUDA_REDUCE_DOUBLES */
    bool allow_tf32;       /* NNSH_CUDA_TF32 (default on, as TensorFlow) */
} nn_cuda_context;

/* The current GPU's state, created on first use; NULL (with the failure recorded) when
 * it cannot be. */
nn_cuda_context *nn_cuda_context_current(void);

/* Record a failed call (success records nothing); return whether the call succeeded.
 * Out-of-memory errors become NN_ERR_MEMORY, the rest NN_ERR_DEVICE. */
bool nn_cuda_ok(cudaError_t error, const char *call);
bool nn_cublas_ok(cublasStatus_t status, const char *call);
void nn_cuda_note(nn_status status, const char *library, const char *call, const char *name,
                  const char *text);
/* After a kernel launch: records a bad launch (configuration, missing kernel image). */
#define NN_CUDA_LAUNCHED(kernel) nn_cuda_ok(cudaGetLastError(), kernel " launch")

#ifdef __cplusplus
}
#endif

#endif
