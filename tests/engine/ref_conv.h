/* Naive double-precision references for convolution and max pooling, written for
 * obviousness (one loop per index, no tricks) so the fast kernels can be checked
 * against them. Layouts are channels-last, as in backend.h. */
#ifndef NN_REF_CONV_H
#define NN_REF_CONV_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

/* Output length and padding before the first cell of one spatial axis, by Keras'
 * rules, computed independently of the engine: 'valid' floor((n - dk) / s) + 1,
 * 'same' ceil(n / s) with the smaller half of the padding first. Returns the length
 * (<= 0 when the window does not fit). */
int ref_window_output(int input, int window, int stride, int dilation, bool same,
                      int *pad_before);

/* The geometry of a square pool (pool x pool, stride x stride) over a batch of images,
 * sized by ref_window_output. */
nn_pool2d_geometry ref_pool_geometry(int batch, int height, int width, int channels, int pool,
                                     int stride, bool same);
/* out (B,OH,OW,C) = the mean of each window's cells inside inp (B,H,W,C): padded cells
 * are not counted (TensorFlow's average pooling). */
void ref_avgpool2d_forward(double *out, const double *inp, const nn_pool2d_geometry *g);

/* out (B,OH,OW,OC) = bias (OC, or NULL for zero) + the sum over kh, kw and the channels
 * of the filter's group of inp (B,H,W,C) · kernel (KH,KW,C/G,OC); padding reads zero. */
void ref_conv2d_forward(double *out, const double *inp, const double *kernel,
                        const double *bias, const nn_conv2d_geometry *geometry);
/* Gradients of sum(dout · out) for the forward above: dinp (B,H,W,C), dkernel
 * (KH,KW,C/G,OC), dbias (OC); each may be NULL and each is overwritten. */
void ref_conv2d_backward(double *dinp, double *dkernel, double *dbias, const double *dout,
                         const double *inp, const double *kernel,
                         const nn_conv2d_geometry *geometry);

/* out (B,OH,OW,C) = the max of each window of inp (B,H,W,C), skipping padded cells;
 * argmax (may be NULL) = the flat index into inp of the first cell holding it. */
void ref_maxpool2d_forward(double *out, int64_t *argmax, const double *inp,
                           const nn_pool2d_geometry *geometry);
/* dinp (B,H,W,C) = the gradient of sum(dout · out): each window's dout goes to its
 * winner (found again from inp), sums where windows share a winner. */
void ref_maxpool2d_backward(double *dinp, const double *dout, const double *inp,
                            const nn_pool2d_geometry *geometry);

/* out (B, S, C) = inp (B, C, S), and back. */
void ref_to_channels_last(double *out, const double *inp, int batch, int channels,
                          int spatial);
void ref_to_channels_first(double *out, const double *inp, int batch, int channels,
                           int spatial);

#endif
