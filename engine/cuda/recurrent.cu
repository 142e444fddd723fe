// Recurrent steps on the GPU: the leading-axes swap and the LSTM and GRU cells, one thread
// per element. Each runs a body from bodies/recurrent_body.h, the code the CPU runs too.
#include "cuda_kernels.h"
#include "bodies/recurrent_body.h"
#include "launch.cuh"

static __global__ void swap_kernel(float *out, const float *inp, size_t d0, size_t d1,
                                   size_t inner, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_swap_leading_axes(out, inp, d0, d1, inner, i);
}

static __global__ void simple_rnn_forward_kernel(float *h, float *preact, const float *xw,
                                                 const float *hu, nn_activation activation,
                                                 size_t n)
{
    NN_FOR_EACH(i, n) nn_body_simple_rnn_forward(h, preact, xw, hu, activation, i);
}

static __global__ void lstm_forward_kernel(float *h, float *c, float *preact, float *gates,
                                           const float *xw, const float *hu,
                                           const float *c_prev, size_t units,
                                           nn_activation activation, nn_activation gate,
                                           size_t n)
{
    NN_FOR_EACH(i, n)
        nn_body_lstm_forward(h, c, preact, gates, xw, hu, c_prev, units, activation, gate, i);
}

static __global__ void lstm_backward_kernel(float *dpreact, float *dc, const float *dh,
                                            const float *preact, const float *gates,
                                            const float *c_prev, const float *c, size_t units,
                                            nn_activation activation, nn_activation gate,
                                            size_t n)
{
    NN_FOR_EACH(i, n)
        nn_body_lstm_backward(dpreact, dc, dh, preact, gates, c_prev, c, units, activation,
                              gate, i);
}

static __global__ void gru_forward_kernel(float *h, float *preact, float *gates, float *hu_h,
                                          const float *xw, const float *hu,
                                          const float *h_prev, size_t units,
                                          nn_activation activation, nn_activation gate,
                                          size_t n)
{
    NN_FOR_EACH(i, n)
        nn_body_gru_forward(h, preact, gates, hu_h, xw, hu, h_prev, units, activation, gate, i);
}

static __global__ void gru_backward_kernel(float *dxw, float *dhu, float *dh_prev,
                                           const float *dh, const float *preact,
                                           const float *gates, const float *hu_h,
                                           const float *h_prev, size_t units,
                                           nn_activation activation, nn_activation gate,
                                           size_t n)
{
    NN_FOR_EACH(i, n)
        nn_body_gru_backward(dxw, dhu, dh_prev, dh, preact, gates, hu_h, h_prev, units,
                             activation, gate, i);
}

extern "C" void nn_cuda_swap_leading_axes(float *out, const float *inp, int64_t d0, int64_t d1,
                                          int64_t inner)
{
    size_t n = (size_t)(d0 * d1 * inner);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    swap_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(out, inp, (size_t)d0,
                                                                  (size_t)d1, (size_t)inner, n);
    NN_CUDA_LAUNCHED("swap_leading_axes");
}

extern "C" void nn_cuda_simple_rnn_cell_forward(float *h, float *preact, const float *xw,
                                                const float *hu, const nn_recurrent_cell *cell)
{
    size_t n = (size_t)(cell->rows * cell->units);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    simple_rnn_forward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        h, preact, xw, hu, cell->activation, n);
    NN_CUDA_LAUNCHED("simple_rnn_cell_forward");
}

extern "C" void nn_cuda_lstm_cell_forward(float *h, float *c, float *preact, float *gates,
                                          const float *xw, const float *hu,
                                          const float *c_prev, const nn_recurrent_cell *cell)
{
    size_t n = (size_t)(cell->rows * cell->units);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    lstm_forward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        h, c, preact, gates, xw, hu, c_prev, (size_t)cell->units, cell->activation,
        cell->recurrent_activation, n);
    NN_CUDA_LAUNCHED("lstm_cell_forward");
}

extern "C" void nn_cuda_lstm_cell_backward(float *dpreact, float *dc, const float *dh,
                                           const float *preact, const float *gates,
                                           const float *c_prev, const float *c,
                                           const nn_recurrent_cell *cell)
{
    size_t n = (size_t)(cell->rows * cell->units);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    lstm_backward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        dpreact, dc, dh, preact, gates, c_prev, c, (size_t)cell->units, cell->activation,
        cell->recurrent_activation, n);
    NN_CUDA_LAUNCHED("lstm_cell_backward");
}

extern "C" void nn_cuda_gru_cell_forward(float *h, float *preact, float *gates, float *hu_h,
                                         const float *xw, const float *hu,
                                         const float *h_prev, const nn_recurrent_cell *cell)
{
    size_t n = (size_t)(cell->rows * cell->units);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    gru_forward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        h, preact, gates, hu_h, xw, hu, h_prev, (size_t)cell->units, cell->activation,
        cell->recurrent_activation, n);
    NN_CUDA_LAUNCHED("gru_cell_forward");
}

extern "C" void nn_cuda_gru_cell_backward(float *dxw, float *dhu, float *dh_prev,
                                          const float *dh, const float *preact,
                                          const float *gates, const float *hu_h,
                                          const float *h_prev, const nn_recurrent_cell *cell)
{
    size_t n = (size_t)(cell->rows * cell->units);
    NN_CUDA_STREAM_OR_RETURN(context, n);
    gru_backward_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        dxw, dhu, dh_prev, dh, preact, gates, hu_h, h_prev, (size_t)cell->units,
        cell->activation,
        cell->recurrent_activation, n);
    NN_CUDA_LAUNCHED("gru_cell_backward");
}
