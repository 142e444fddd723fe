/* The table of kernels one device provides. Layers and the training loop call kernels
 * only through a backend, so the model logic exists once for every device.
 *
 * All tensors are dense row-major float arrays. Convolution and pooling kernels work in
 * channels-last layout (B, H, W, C); channels-first layers transpose around them.
 * Kernels never allocate: scratch memory of the size the matching *_scratch_floats
 * function asks for is passed in. */
#ifndef NN_BACKEND_H
#define NN_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "activation.h"
#include "tensor.h"

/* Everything a 2-D convolution kernel needs to know about sizes. */
typedef struct nn_conv2d_geometry {
    int batch;
    int in_height, in_width, in_channels;
    int out_height, out_width, out_channels;
    int kernel_height, kernel_width;
    int stride_height, stride_width;
    int dilation_height, dilation_width;
    int pad_top, pad_left; /* 'same' puts the smaller half of the padding first, as Keras */
    int groups;            /* in_channels and out_channels are multiples of groups */
} nn_conv2d_geometry;

typedef struct nn_pool2d_geometry {
    int batch;
    int in_height, in_width, channels;
    int out_height, out_width;
    int pool_height, pool_width;
    int stride_height, stride_width;
    int pad_top, pad_left; /* padded cells never win the max */
} nn_pool2d_geometry;

typedef struct nn_backend {
    const char *name; /* "cpu", "cuda" */
    nn_device_kind device;

    /* out (B,OH,OW,OC) = conv(inp (B,H,W,C), kernel (KH,KW,C/G,OC)) + bias (OC) or NULL,
     * then the activation applied in place. */
    size_t (*conv2d_scratch_floats)(const nn_conv2d_geometry *geometry);
    void (*conv2d_forward)(float *out, const float *inp, const float *kernel,
                           const float *bias, nn_activation activation,
                           const nn_conv2d_geometry *geometry, float *scratch);
    /* Given dout (B,OH,OW,OC) (already through the activation's derivative), writes
     * dinp (B,H,W,C), dkernel (KH,KW,C/G,OC) and dbias (OC); each may be NULL. */
    void (*conv2d_backward)(float *dinp, float *dkernel, float *dbias, const float *dout,
                            const float *inp, const float *kernel,
                            const nn_conv2d_geometry *geometry, float *scratch);

    /* A convolution (bias, then relu when asked) followed by max pooling in one pass:
     * pooled (B,PH,PW,OC) and argmax (B,PH,PW,OC) or NULL come out as maxpool2d_forward
     * would leave them on the convolution's output (B,OH,OW,OC), which is never
     * written. Only for the sizes conv2d_maxpool2d_applies accepts (batch included);
     * scratch as conv2d_forward's. */
    bool (*conv2d_maxpool2d_applies)(const nn_conv2d_geometry *conv,
                                     const nn_pool2d_geometry *pool);
    void (*conv2d_maxpool2d_forward)(float *pooled, int32_t *argmax, const float *inp,
                                     const float *kernel, const float *bias, bool relu,
                                     const nn_conv2d_geometry *conv,
                                     const nn_pool2d_geometry *pool, float *scratch);

    /* out (B,OH,OW,C) = max over each window of inp (B,H,W,C); argmax (B,OH,OW,C)
     * receives the flat index into inp of each winner (may be NULL in inference). */
    void (*maxpool2d_forward)(float *out, int32_t *argmax, const float *inp,
                              const nn_pool2d_geometry *geometry);
    /* dinp (B,H,W,C) = scatter of dout (B,OH,OW,C) to the winners. */
    void (*maxpool2d_backward)(float *dinp, const float *dout, const int32_t *argmax,
                               const nn_pool2d_geometry *geometry);
    /* The same for an input that a ReLU produced, with the ReLU's derivative folded in:
     * only winners whose forward output out (B,OH,OW,C) is positive get their gradient
     * (a winner of 0 had a zero derivative; the others get none anyway). The layer
     * before then skips its own derivative pass. */
    void (*maxpool2d_backward_relu)(float *dinp, const float *dout, const int32_t *argmax,
                                    const float *out, const nn_pool2d_geometry *geometry);

    /* out (B,N) = inp (B,K) @ kernel (K,N) + bias (N) or NULL, then the activation. */
    void (*dense_forward)(float *out, const float *inp, const float *kernel,
                          const float *bias, nn_activation activation, int batch,
                          int in_features, int out_features);
    /* dinp (B,K) = dout @ kernelᵀ; dkernel (K,N) = inpᵀ @ dout; dbias (N) = Σ_b dout.
     * Each output may be NULL. */
    void (*dense_backward)(float *dinp, float *dkernel, float *dbias, const float *dout,
                           const float *inp, const float *kernel, int batch,
                           int in_features, int out_features);

    void (*activation_forward)(nn_activation activation, float *y, const float *x, size_t n,
                               size_t axis_size);
    void (*activation_backward)(nn_activation activation, float *dx, const float *dy,
                                const float *x, const float *y, size_t n, size_t axis_size);
} nn_backend;

/* The CPU backend (OpenBLAS and OpenMP). Always present. */
const nn_backend *nn_backend_cpu(void);

#endif
