/* CPU kernels behind nn_backend_cpu(). Signatures match the backend table; see
 * backend.h for the shapes of every pointer. */
#ifndef NN_CPU_KERNELS_H
#define NN_CPU_KERNELS_H

#include <stdbool.h>

#include "../backend.h"

size_t nn_cpu_conv2d_scratch_floats(const nn_conv2d_geometry *geometry);
void nn_cpu_conv2d_forward(float *out, const float *inp, const float *kernel,
                           const float *bias, nn_activation activation,
                           const nn_conv2d_geometry *geometry, float *scratch);
void nn_cpu_conv2d_backward(float *dinp, float *dkernel, float *dbias, const float *dout,
                            const float *inp, const float *kernel,
                            const nn_conv2d_geometry *geometry, float *scratch);

/* The direct convolution (conv2d_direct.c), used by the two above when it applies:
 * stride 1 and one group. Same shapes; relu is fused, other activations are not. */
bool nn_cpu_conv2d_direct_applies(const nn_conv2d_geometry *geometry);
size_t nn_cpu_conv2d_direct_scratch_floats(const nn_conv2d_geometry *geometry);
void nn_cpu_conv2d_direct_forward(float *out, const float *inp, const float *kernel,
                                  const float *bias, bool relu,
                                  const nn_conv2d_geometry *geometry, float *scratch);
void nn_cpu_conv2d_direct_backward(float *dinp, float *dkernel, float *dbias,
                                   const float *dout, const float *inp, const float *kernel,
                                   const nn_conv2d_geometry *geometry, float *scratch);

/* Convolution, bias, relu? and 2×2 max pooling in one pass (conv2d_direct.c): see
 * nn_backend.conv2d_maxpool2d_forward. */
bool nn_cpu_conv2d_maxpool2d_applies(const nn_conv2d_geometry *conv,
                                     const nn_pool2d_geometry *pool);
void nn_cpu_conv2d_maxpool2d_forward(float *pooled, int32_t *argmax, const float *inp,
                                     const float *kernel, const float *bias, bool relu,
                                     const nn_conv2d_geometry *conv,
                                     const nn_pool2d_geometry *pool, float *scratch);

void nn_cpu_maxpool2d_forward(float *out, int32_t *argmax, const float *inp,
                              const nn_pool2d_geometry *geometry);
void nn_cpu_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax,
                               const nn_pool2d_geometry *geometry);
void nn_cpu_maxpool2d_backward_relu(float *dinp, const float *dout, const int32_t *argmax,
                                    const float *out, const nn_pool2d_geometry *geometry);

void nn_cpu_dense_forward(float *out, const float *inp, const float *kernel,
                          const float *bias, nn_activation activation, int batch,
                          int in_features, int out_features);
void nn_cpu_dense_backward(float *dinp, float *dkernel, float *dbias, const float *dout,
                           const float *inp, const float *kernel, int batch,
                           int in_features, int out_features);

#endif
