/* Naive double-precision references for Dense, every activation function and Flatten,
 * written from the definitions (Keras') for obviousness, for the tests to compare the
 * engine's float kernels against. */
#ifndef NN_REF_LAYERS_H
#define NN_REF_LAYERS_H

#include <stddef.h>

#include "activation.h"

/* out (B,N) = inp (B,K) @ kernel (K,N) + bias (N, or NULL for zero). */
void ref_dense_forward(double *out, const double *inp, const double *kernel,
                       const double *bias, int batch, int in_features, int out_features);
/* Gradients of sum(dout · out): dinp (B,K), dkernel (K,N), dbias (N); each may be NULL. */
void ref_dense_backward(double *dinp, double *dkernel, double *dbias, const double *dout,
                        const double *inp, const double *kernel, int batch, int in_features,
                        int out_features);

/* y = f(x) over n elements; softmax normalises each run of axis_size elements. */
void ref_activation_forward(nn_activation activation, double *y, const double *x, size_t n,
                            size_t axis_size);
/* dx = the gradient of sum(dy · f(x)), from the derivative written out for each
 * function (softmax: its Jacobian within each run of axis_size). */
void ref_activation_backward(nn_activation activation, double *dx, const double *dy,
                             const double *x, size_t n, size_t axis_size);

/* Flatten of inp (batch, dims[0], ..., dims[ndim-1]) into (batch, product of dims); with
 * channels_first the first of dims is the channel axis and moves last first. */
void ref_flatten_forward(double *out, const double *inp, int batch, const int *dims,
                         int ndim, int channels_first);

#endif
