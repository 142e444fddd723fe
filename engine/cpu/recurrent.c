/* Recurrent steps on the CPU: the leading-axes swap and the LSTM and GRU cells, one
 * element per (sample, unit), in parallel. The arithmetic is the CUDA bodies'
 * (cuda/bodies/recurrent_body.h), except for the forward steps of the usual cells (tanh
 * and sigmoid) on processors with AVX2: those take eight units at a time through glibc's
 * vector math library, as the exponentials and tanh are nearly all of a step's time one
 * element at a time. */
#include <immintrin.h>

#include "cpu_kernels.h"
#include "simd.h"
#include "../cuda/bodies/recurrent_body.h"

#define AVX2 __attribute__((target("avx2,fma")))

/* glibc's libmvec: expf and tanhf on 8 lanes under AVX2, within 4 ulp of the exact
 * values (the scalar ones are within 1). Declared with the target too, as clang refuses
 * 256-bit arguments to a function compiled without AVX. */
AVX2 __m256 _ZGVdN8v_expf(__m256 x);
AVX2 __m256 _ZGVdN8v_tanhf(__m256 x);

/* Below this many elements a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 10 };

/* Split by sign as the scalar body: e = exp(-|x|) never overflows, and below zero the
 * result is e / (1 + e), tiny but not 0 (0 would turn a huge cell value into NaN where
 * the scalar path gives a number). */
AVX2 static inline __m256 sigmoid8(__m256 x)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 magnitude = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    __m256 e = _ZGVdN8v_expf(_mm256_sub_ps(_mm256_setzero_ps(), magnitude));
    __m256 positive = _mm256_div_ps(one, _mm256_add_ps(one, e));
    __m256 negative = _mm256_mul_ps(e, positive);
    return _mm256_blendv_ps(negative, positive, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
}

/* Whether a cell takes the vector path: tanh and sigmoid, AVX2 allowed. */
static bool vector_cell(const nn_recurrent_cell *cell)
{
    return cell->activation.kind == NN_ACTIVATION_TANH &&
           cell->recurrent_activation.kind == NN_ACTIVATION_SIGMOID &&
           nn_simd_active() >= NN_SIMD_AVX2;
}

/* Eight elements of a SimpleRNN step with tanh, from i. Its own function because the
 * body of an OpenMP loop is outlined without the AVX2 target under clang. */
AVX2 static void simple_rnn_tanh8(float *h, float *preact, const float *xw, const float *hu,
                                  size_t i)
{
    __m256 pre = _mm256_add_ps(_mm256_loadu_ps(xw + i), _mm256_loadu_ps(hu + i));
    _mm256_storeu_ps(preact + i, pre);
    _mm256_storeu_ps(h + i, _ZGVdN8v_tanhf(pre));
}

/* A SimpleRNN step with tanh over n elements, eight at a time (in blocks of rows across
 * the threads), the rest by the scalar body. */
static void simple_rnn_tanh(float *h, float *preact, const float *xw, const float *hu, size_t n)
{
    size_t vectors = n / 8;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (size_t v = 0; v < vectors; v++)
        simple_rnn_tanh8(h, preact, xw, hu, 8 * v);
    for (size_t i = 8 * vectors; i < n; i++)
        nn_body_simple_rnn_forward(h, preact, xw, hu, nn_activation_default(NN_ACTIVATION_TANH),
                                   i);
}

/* One sample's LSTM step, eight units at a time, the rest by the scalar body. */
AVX2 static void lstm_forward_row(float *h, float *c, float *preact, float *gates,
                                  const float *xw, const float *hu, const float *c_prev,
                                  const nn_recurrent_cell *cell, size_t row)
{
    size_t units = (size_t)cell->units, unit = 0;
    size_t in = row * 4 * units, kept = row * 5 * units, state = row * units;
    for (; unit + 8 <= units; unit += 8) {
        size_t at = in + unit;
        __m256 pre[4];
        for (int g = 0; g < 4; g++) {
            size_t gate = at + (size_t)g * units;
            pre[g] = _mm256_add_ps(_mm256_loadu_ps(xw + gate), _mm256_loadu_ps(hu + gate));
            _mm256_storeu_ps(preact + gate, pre[g]);
        }
        __m256 input_gate = sigmoid8(pre[0]), forget_gate = sigmoid8(pre[1]);
        __m256 candidate = _ZGVdN8v_tanhf(pre[2]), output_gate = sigmoid8(pre[3]);
        __m256 cell_value = _mm256_add_ps(
            _mm256_mul_ps(forget_gate, _mm256_loadu_ps(c_prev + state + unit)),
            _mm256_mul_ps(input_gate, candidate));
        __m256 cell_out = _ZGVdN8v_tanhf(cell_value);
        float *k = gates + kept + unit;
        _mm256_storeu_ps(k, input_gate);
        _mm256_storeu_ps(k + units, forget_gate);
        _mm256_storeu_ps(k + 2 * units, candidate);
        _mm256_storeu_ps(k + 3 * units, output_gate);
        _mm256_storeu_ps(k + 4 * units, cell_out);
        _mm256_storeu_ps(c + state + unit, cell_value);
        _mm256_storeu_ps(h + state + unit, _mm256_mul_ps(output_gate, cell_out));
    }
    for (; unit < units; unit++)
        nn_body_lstm_forward(h, c, preact, gates, xw, hu, c_prev, units, cell->activation,
                             cell->recurrent_activation, state + unit);
}

/* One sample's GRU step, eight units at a time, the rest by the scalar body. */
AVX2 static void gru_forward_row(float *h, float *preact, float *gates, float *hu_h,
                                 const float *xw, const float *hu, const float *h_prev,
                                 const nn_recurrent_cell *cell, size_t row)
{
    size_t units = (size_t)cell->units, unit = 0;
    size_t in = row * 3 * units, state = row * units;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; unit + 8 <= units; unit += 8) {
        size_t z = in + unit, r = z + units, c = r + units;
        __m256 pre_z = _mm256_add_ps(_mm256_loadu_ps(xw + z), _mm256_loadu_ps(hu + z));
        __m256 pre_r = _mm256_add_ps(_mm256_loadu_ps(xw + r), _mm256_loadu_ps(hu + r));
        __m256 update = sigmoid8(pre_z), reset = sigmoid8(pre_r);
        __m256 state_part = _mm256_loadu_ps(hu + c);
        __m256 pre_h = _mm256_add_ps(_mm256_loadu_ps(xw + c), _mm256_mul_ps(reset, state_part));
        __m256 candidate = _ZGVdN8v_tanhf(pre_h);
        _mm256_storeu_ps(preact + z, pre_z);
        _mm256_storeu_ps(preact + r, pre_r);
        _mm256_storeu_ps(preact + c, pre_h);
        _mm256_storeu_ps(gates + z, update);
        _mm256_storeu_ps(gates + r, reset);
        _mm256_storeu_ps(gates + c, candidate);
        _mm256_storeu_ps(hu_h + state + unit, state_part);
        __m256 previous = _mm256_loadu_ps(h_prev + state + unit);
        _mm256_storeu_ps(h + state + unit,
                         _mm256_add_ps(_mm256_mul_ps(update, previous),
                                       _mm256_mul_ps(_mm256_sub_ps(one, update), candidate)));
    }
    for (; unit < units; unit++)
        nn_body_gru_forward(h, preact, gates, hu_h, xw, hu, h_prev, units, cell->activation,
                            cell->recurrent_activation, state + unit);
}


void nn_cpu_swap_leading_axes(float *out, const float *inp, int64_t d0, int64_t d1,
                              int64_t inner)
{
    int64_t n = d0 * d1 * inner;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++)
        nn_body_swap_leading_axes(out, inp, (size_t)d0, (size_t)d1, (size_t)inner, (size_t)i);
}

void nn_cpu_simple_rnn_cell_forward(float *h, float *preact, const float *xw, const float *hu,
                                    const nn_recurrent_cell *cell)
{
    int64_t n = cell->rows * cell->units;
    if (cell->activation.kind == NN_ACTIVATION_TANH && nn_simd_active() >= NN_SIMD_AVX2) {
        simple_rnn_tanh(h, preact, xw, hu, (size_t)n);
        return;
    }
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++)
        nn_body_simple_rnn_forward(h, preact, xw, hu, cell->activation, (size_t)i);
}

void nn_cpu_lstm_cell_forward(float *h, float *c, float *preact, float *gates, const float *xw,
                              const float *hu, const float *c_prev,
                              const nn_recurrent_cell *cell)
{
    int64_t n = cell->rows * cell->units;
    if (vector_cell(cell)) {
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
        for (int64_t row = 0; row < cell->rows; row++)
            lstm_forward_row(h, c, preact, gates, xw, hu, c_prev, cell, (size_t)row);
        return;
    }
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
    if (vector_cell(cell)) {
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
        for (int64_t row = 0; row < cell->rows; row++)
            gru_forward_row(h, preact, gates, hu_h, xw, hu, h_prev, cell, (size_t)row);
        return;
    }
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
