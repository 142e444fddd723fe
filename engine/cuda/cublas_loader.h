/* cuBLAS, loaded on first use: linking it would make every start of nnsh map and
 * relocate cuBLASLt (half a gigabyte, a tenth of a second, 200 MB resident) even when
 * no GPU is ever used. The functions nnsh calls, through pointers. */
#ifndef NN_CUBLAS_LOADER_H
#define NN_CUBLAS_LOADER_H

#include <cublas_v2.h>
#include <library_types.h>

typedef struct nn_cublas_api {
    cublasStatus_t (*create)(cublasHandle_t *handle);
    cublasStatus_t (*destroy)(cublasHandle_t handle);
    cublasStatus_t (*set_stream)(cublasHandle_t handle, cudaStream_t stream);
    cublasStatus_t (*set_math_mode)(cublasHandle_t handle, cublasMath_t mode);
    cublasStatus_t (*sgemm)(cublasHandle_t handle, cublasOperation_t transa,
                            cublasOperation_t transb, int m, int n, int k, const float *alpha,
                            const float *A, int lda, const float *B, int ldb, const float *beta,
                            float *C, int ldc);
    cublasStatus_t (*get_property)(libraryPropertyType type, int *value);
    const char *(*status_name)(cublasStatus_t status);
    const char *(*status_string)(cublasStatus_t status);
} nn_cublas_api;

/* The loaded library, or NULL (the failure, with dlerror's message, is recorded as a
 * device error the next check reports). Loads at most once. */
const nn_cublas_api *nn_cublas(void);

#endif
