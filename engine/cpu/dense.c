/* Dense (fully connected) kernels: one sgemm each way, bias and activation fused after. */
#include <cblas.h>
#include <string.h>

#include "cpu_kernels.h"

void nn_cpu_dense_forward(float *out, const float *inp, const float *kernel,
                          const float *bias, nn_activation activation, int batch,
                          int in_features, int out_features)
{
    /* out (B,N) = inp (B,K) @ kernel (K,N); the bias is broadcast into out first so the
     * product can accumulate onto it (beta = 1) in one pass. */
    float beta = 0.0f;
    if (bias) {
        for (int b = 0; b < batch; b++)
            memcpy(out + (size_t)b * out_features, bias, sizeof(float) * (size_t)out_features);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, out_features, in_features,
                1.0f, inp, in_features, kernel, out_features, beta, out, out_features);
    if (activation.kind != NN_ACTIVATION_LINEAR)
        nn_activation_forward(activation, out, out, (size_t)batch * (size_t)out_features,
                              (size_t)out_features);
}

void nn_cpu_dense_backward(float *dinp, float *dkernel, float *dbias, const float *dout,
                           const float *inp, const float *kernel, int batch,
                           int in_features, int out_features)
{
    /* dinp (B,K) = dout (B,N) @ kernelᵀ (N,K) */
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, in_features, out_features,
                    1.0f, dout, out_features, kernel, out_features, 0.0f, dinp, in_features);
    /* dkernel (K,N) = inpᵀ (K,B) @ dout (B,N) */
    if (dkernel)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in_features, out_features, batch,
                    1.0f, inp, in_features, dout, out_features, 0.0f, dkernel, out_features);
    if (dbias) {
        memset(dbias, 0, sizeof(float) * (size_t)out_features);
        for (int b = 0; b < batch; b++) {
            const float *row = dout + (size_t)b * out_features;
            for (int n = 0; n < out_features; n++)
                dbias[n] += row[n];
        }
    }
}
