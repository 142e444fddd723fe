/* Dense on the GPU: cuBLAS for the three products, small kernels for bias, activation and
 * the bias gradient. cuBLAS is column-major; a row-major (R, C) matrix is the column-major
 * (C, R) matrix, its transpose, so each row-major product is computed as its transpose:
 * out = inp · kernel becomes outᵀ = kernelᵀ · inpᵀ, with the operands' buffers unchanged. */
#include <cublas_v2.h>

#include "cublas_loader.h"
#include "cuda_internal.h"
#include "cuda_kernels.h"

void nn_cuda_dense_forward(float *out, const float *inp, const float *kernel,
                           const float *bias, nn_activation activation, int batch,
                           int in_features, int out_features)
{
    /* out (B,N) = inp (B,K) @ kernel (K,N): column-major outᵀ (N,B) = kernelᵀ (N,K) ·
     * inpᵀ (K,B), leading dimensions N, K and N. */
    /* The context exists only where cuBLAS loaded. */
    nn_cuda_context *context = nn_cuda_context_current();
    if (!context || batch <= 0 || out_features <= 0)
        return;
    const float one = 1.0f, zero = 0.0f;
    nn_cublas_ok(nn_cublas()->sgemm(context->cublas, CUBLAS_OP_N, CUBLAS_OP_N, out_features, batch,
                             in_features, &one, kernel, out_features, inp, in_features, &zero,
                             out, out_features),
                 "cublasSgemm (Dense forward)");
    nn_cuda_bias_activate(out, bias, (size_t)batch, (size_t)out_features, activation);
}

void nn_cuda_dense_backward(float *dinp, float *dkernel, float *dbias, const float *dout,
                            const float *inp, const float *kernel, int batch,
                            int in_features, int out_features)
{
    nn_cuda_context *context = nn_cuda_context_current();
    if (!context || batch <= 0)
        return;
    const float one = 1.0f, zero = 0.0f;
    /* dinp (B,K) = dout (B,N) @ kernelᵀ: column-major dinpᵀ (K,B) = kernel'ᵀ · doutᵀ, where
     * the kernel's buffer is the column-major (N,K) matrix kernel' (ld N). */
    if (dinp)
        nn_cublas_ok(nn_cublas()->sgemm(context->cublas, CUBLAS_OP_T, CUBLAS_OP_N, in_features, batch,
                                 out_features, &one, kernel, out_features, dout, out_features,
                                 &zero, dinp, in_features),
                     "cublasSgemm (Dense input gradient)");
    /* dkernel (K,N) = inpᵀ @ dout: column-major dkernelᵀ (N,K) = doutᵀ (N,B) · inp (B,K),
     * where inp's buffer is the column-major (K,B) matrix, hence op T. */
    if (dkernel)
        nn_cublas_ok(nn_cublas()->sgemm(context->cublas, CUBLAS_OP_N, CUBLAS_OP_T, out_features,
                                 in_features, batch, &one, dout, out_features, inp, in_features,
                                 &zero, dkernel, out_features),
                     "cublasSgemm (Dense kernel gradient)");
    if (dbias)
        nn_cuda_column_sums(dbias, dout, (size_t)batch, (size_t)out_features);
}
