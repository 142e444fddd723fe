/* Dense (fully connected) kernels. A dense layer is a 1×1 convolution over a row of
 * `batch` pixels, so when the outputs are a whole number of vectors (every level reads
 * such a kernel in place, with no scratch) the direct convolution's tiles do the forward
 * (bias and ReLU fused) and the weight and bias gradients; the layers' matrix product
 * (gemm.h) does the rest. Both sum each value in a fixed order, so no result depends on
 * the number of threads or on the processor's BLAS kernels. */
#include <string.h>

#include "cpu_kernels.h"
#include "gemm.h"

/* Outputs per row that every vector level reads in place (16 floats, or 2 × 8). */
enum { WHOLE_VECTORS = 16 };

/* The dense product as a convolution: one image of 1 × batch pixels. */
static nn_conv2d_geometry as_pointwise(int batch, int in_features, int out_features)
{
    return (nn_conv2d_geometry){.batch = 1, .in_height = 1, .in_width = batch,
                                .in_channels = in_features, .out_height = 1,
                                .out_width = batch, .out_channels = out_features,
                                .kernel_height = 1, .kernel_width = 1, .stride_height = 1,
                                .stride_width = 1, .dilation_height = 1, .dilation_width = 1,
                                .groups = 1};
}

static bool tiles_apply(int batch, int out_features)
{
    return batch > 0 && out_features % WHOLE_VECTORS == 0;
}

void nn_cpu_dense_forward(float *out, const float *inp, const float *kernel,
                          const float *bias, nn_activation activation, int batch,
                          int in_features, int out_features)
{
    /* out (B,N) = inp (B,K) @ kernel (K,N) + bias (N), then the activation. */
    bool relu = activation.kind == NN_ACTIVATION_RELU;
    if (tiles_apply(batch, out_features)) {
        nn_conv2d_geometry g = as_pointwise(batch, in_features, out_features);
        nn_cpu_conv2d_direct_forward(out, inp, kernel, bias, relu, &g, NULL);
    } else {
        /* The bias is broadcast into out first so the product sums onto it, as the
         * tiles' sums start from it. */
        if (bias)
            for (int b = 0; b < batch; b++)
                memcpy(out + (size_t)b * out_features, bias, sizeof(float) * (size_t)out_features);
        nn_cpu_gemm(false, false, batch, out_features, in_features, inp, in_features, kernel,
                    out_features, out, out_features, bias != NULL);
        relu = false;
    }
    if (activation.kind != NN_ACTIVATION_LINEAR && !relu)
        nn_activation_forward(activation, out, out, (size_t)batch * (size_t)out_features,
                              (size_t)out_features);
}

void nn_cpu_dense_backward(float *dinp, float *dkernel, float *dbias, const float *dout,
                           const float *inp, const float *kernel, int batch,
                           int in_features, int out_features)
{
    /* dinp (B,K) = dout (B,N) @ kernelᵀ (N,K) */
    if (dinp)
        nn_cpu_gemm(false, true, batch, in_features, out_features, dout, out_features, kernel,
                    out_features, dinp, in_features, false);
    if (tiles_apply(batch, out_features) && (dkernel || dbias)) {
        /* dkernel (K,N) = inpᵀ @ dout and dbias (N) = Σ_b dout, each summed over the
         * batch in order by one thread. */
        nn_conv2d_geometry g = as_pointwise(batch, in_features, out_features);
        nn_cpu_conv2d_direct_backward(NULL, dkernel, dbias, dout, inp, kernel, &g, NULL);
        return;
    }
    /* dkernel (K,N) = inpᵀ (K,B) @ dout (B,N) */
    if (dkernel)
        nn_cpu_gemm(true, false, in_features, out_features, batch, inp, in_features, dout,
                    out_features, dkernel, out_features, false);
    if (dbias) {
        memset(dbias, 0, sizeof(float) * (size_t)out_features);
        for (int b = 0; b < batch; b++) {
            const float *row = dout + (size_t)b * out_features;
            for (int n = 0; n < out_features; n++)
                dbias[n] += row[n];
        }
    }
}
