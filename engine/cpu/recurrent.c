/* Recurrent steps on the CPU: the leading-axes swap and the LSTM and GRU cells, one
 * element per (sample, unit), in parallel. The arithmetic is the CUDA bodies'
 * (cuda/bodies/recurrent_body.h), so both backends give the same bits. */
#include "cpu_kernels.h"
#include "../cuda/bodies/recurrent_body.h"

/* Below this many elements a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 10 };

void nn_cpu_swap_leading_axes(float *out, const float *inp, int64_t d0, int64_t d1,
                              int64_t inner)
{
    int64_t n = d0 * d1 * inner;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++)
        nn_body_swap_leading_axes(out, inp, (size_t)d0, (size_t)d1, (size_t)inner, (size_t)i);
}

void nn_cpu_lstm_cell_forward(float *h, float *c, float *preact, float *gates, const float *xw,
                              const float *hu, const float *c_prev,
                              const nn_recurrent_cell *cell)
{
    int64_t n = cell->rows * cell->units;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++)
        nn_body_lstm_forward(h, c, preact, gates, xw, hu, c_prev, (size_t)cell->units,
                             cell->activation, cell->recurrent_activation, (size_t)i);
}

void nn_cpu_lstm_cell_backward(float *dpreact, float *dc, const float *dh, const float *preact,
                               const float *gates, const float *c_prev, const float *c,
                               const nn_recurrent_cell *cell)
{
    int64_t n = cell->rows * cell->units;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++)
        nn_body_lstm_backward(dpreact, dc, dh, preact, gates, c_prev, c, (size_t)cell->units,
                              cell->activation, cell->recurrent_activation, (size_t)i);
}

void nn_cpu_gru_cell_forward(float *h, float *preact, float *gates, float *hu_h, const float *xw,
                             const float *hu, const float *h_prev,
                             const nn_recurrent_cell *cell)
{
    int64_t n = cell->rows * cell->units;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++)
        nn_body_gru_forward(h, preact, gates, hu_h, xw, hu, h_prev, (size_t)cell->units,
                            cell->activation, cell->recurrent_activation, (size_t)i);
}

void nn_cpu_gru_cell_backward(float *dxw, float *dhu, float *dh_prev, const float *dh,
                              const float *preact, const float *gates, const float *hu_h,
                              const float *h_prev, const nn_recurrent_cell *cell)
{
    int64_t n = cell->rows * cell->units;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++)
        nn_body_gru_backward(dxw, dhu, dh_prev, dh, preact, gates, hu_h, h_prev,
                             (size_t)cell->units,
                             cell->activation, cell->recurrent_activation, (size_t)i);
}
