/* Bodies of the recurrent kernels: the leading-axes swap that turns a batch into time
 * steps, and one step of a SimpleRNN, LSTM or GRU cell for one (sample, unit) element.
 * The CPU (cpu/recurrent.c) and the GPU (cuda/recurrent.cu) run these same functions,
 * so both give the same bits, except where the CPU takes tanh and sigmoid cells eight
 * units at a time (to within a few ulp); the activations are elementwise_body.h's. */
#ifndef NN_RECURRENT_BODY_H
#define NN_RECURRENT_BODY_H

#include "../../backend.h"
#include "body.h"
#include "elementwise_body.h"

/* Element i of out (d1, d0, inner) = inp (d0, d1, inner) with the leading axes swapped. */
NN_BODY void nn_body_swap_leading_axes(float *out, const float *inp, size_t d0, size_t d1,
                                       size_t inner, size_t i)
{
    size_t k = i % inner, a = (i / inner) % d0, b = i / (inner * d0);
    out[i] = inp[(a * d1 + b) * inner + k];
}

NN_BODY float nn_body_cell_activate(nn_activation activation, float v)
{
    return activation.kind == NN_ACTIVATION_LINEAR ? v
                                                   : nn_body_activate(activation.kind,
                                                                      activation.alpha, v);
}

NN_BODY float nn_body_cell_derivative(nn_activation activation, float x, float y)
{
    return nn_body_activation_derivative(activation.kind, activation.alpha, x, y);
}

/* Element i of a SimpleRNN step (see nn_backend.simple_rnn_cell_forward). */
NN_BODY void nn_body_simple_rnn_forward(float *h, float *preact, const float *xw,
                                        const float *hu, nn_activation activation, size_t i)
{
    float pre = xw[i] + hu[i];
    preact[i] = pre;
    h[i] = nn_body_cell_activate(activation, pre);
}

/* Element i = sample · units + unit of an LSTM step (see nn_backend.lstm_cell_forward). */
NN_BODY void nn_body_lstm_forward(float *h, float *c, float *preact, float *gates,
                                  const float *xw, const float *hu, const float *c_prev,
                                  size_t units,
                                  nn_activation activation, nn_activation gate_activation,
                                  size_t i)
{
    size_t unit = i % units, base = (i / units) * 4 * units + unit;
    size_t kept = (i / units) * 5 * units + unit; /* in gates: i, f, c̃, o, act(c) */
    float pre_i = xw[base] + hu[base];
    float pre_f = xw[base + units] + hu[base + units];
    float pre_c = xw[base + 2 * units] + hu[base + 2 * units];
    float pre_o = xw[base + 3 * units] + hu[base + 3 * units];
    preact[base] = pre_i;
    preact[base + units] = pre_f;
    preact[base + 2 * units] = pre_c;
    preact[base + 3 * units] = pre_o;
    float input_gate = nn_body_cell_activate(gate_activation, pre_i);
    float forget_gate = nn_body_cell_activate(gate_activation, pre_f);
    float candidate = nn_body_cell_activate(activation, pre_c);
    float output_gate = nn_body_cell_activate(gate_activation, pre_o);
    float cell = forget_gate * c_prev[i] + input_gate * candidate;
    float cell_out = nn_body_cell_activate(activation, cell);
    gates[kept] = input_gate;
    gates[kept + units] = forget_gate;
    gates[kept + 2 * units] = candidate;
    gates[kept + 3 * units] = output_gate;
    gates[kept + 4 * units] = cell_out;
    c[i] = cell;
    h[i] = output_gate * cell_out;
}

/* Element i of an LSTM step's backward (see nn_backend.lstm_cell_backward); dc is read
 * and then overwritten at the same index. */
NN_BODY void nn_body_lstm_backward(float *dpreact, float *dc, const float *dh,
                                   const float *preact, const float *gates,
                                   const float *c_prev, const float *c, size_t units,
                                   nn_activation activation, nn_activation gate_activation,
                                   size_t i)
{
    size_t unit = i % units, base = (i / units) * 4 * units + unit;
    size_t kept = (i / units) * 5 * units + unit;
    float pre_i = preact[base], pre_f = preact[base + units];
    float pre_c = preact[base + 2 * units], pre_o = preact[base + 3 * units];
    float input_gate = gates[kept], forget_gate = gates[kept + units];
    float candidate = gates[kept + 2 * units], output_gate = gates[kept + 3 * units];
    float cell_out = gates[kept + 4 * units];
    float dcell = dc[i] + dh[i] * output_gate * nn_body_cell_derivative(activation, c[i], cell_out);
    dpreact[base] = dcell * candidate * nn_body_cell_derivative(gate_activation, pre_i, input_gate);
    dpreact[base + units] =
        dcell * c_prev[i] * nn_body_cell_derivative(gate_activation, pre_f, forget_gate);
    dpreact[base + 2 * units] =
        dcell * input_gate * nn_body_cell_derivative(activation, pre_c, candidate);
    dpreact[base + 3 * units] =
        dh[i] * cell_out * nn_body_cell_derivative(gate_activation, pre_o, output_gate);
    dc[i] = dcell * forget_gate;
}

/* Element i = sample · units + unit of a GRU step (see nn_backend.gru_cell_forward). */
NN_BODY void nn_body_gru_forward(float *h, float *preact, float *gates, float *hu_h,
                                 const float *xw, const float *hu, const float *h_prev,
                                 size_t units,
                                 nn_activation activation, nn_activation gate_activation,
                                 size_t i)
{
    size_t unit = i % units, base = (i / units) * 3 * units + unit;
    float pre_z = xw[base] + hu[base];
    float pre_r = xw[base + units] + hu[base + units];
    float update = nn_body_cell_activate(gate_activation, pre_z);
    float reset = nn_body_cell_activate(gate_activation, pre_r);
    float state_part = hu[base + 2 * units];
    float pre_h = xw[base + 2 * units] + reset * state_part;
    float candidate = nn_body_cell_activate(activation, pre_h);
    preact[base] = pre_z;
    preact[base + units] = pre_r;
    preact[base + 2 * units] = pre_h;
    gates[base] = update;
    gates[base + units] = reset;
    gates[base + 2 * units] = candidate;
    hu_h[i] = state_part;
    h[i] = update * h_prev[i] + (1.0f - update) * candidate;
}

/* Element i of a GRU step's backward (see nn_backend.gru_cell_backward). */
NN_BODY void nn_body_gru_backward(float *dxw, float *dhu, float *dh_prev, const float *dh,
                                  const float *preact, const float *gates, const float *hu_h,
                                  const float *h_prev, size_t units, nn_activation activation,
                                  nn_activation gate_activation, size_t i)
{
    size_t unit = i % units, base = (i / units) * 3 * units + unit;
    float pre_z = preact[base], pre_r = preact[base + units], pre_h = preact[base + 2 * units];
    float update = gates[base], reset = gates[base + units], candidate = gates[base + 2 * units];
    float dpre_z = dh[i] * (h_prev[i] - candidate) *
                   nn_body_cell_derivative(gate_activation, pre_z, update);
    float dpre_h = dh[i] * (1.0f - update) * nn_body_cell_derivative(activation, pre_h, candidate);
    float dpre_r = dpre_h * hu_h[i] * nn_body_cell_derivative(gate_activation, pre_r, reset);
    dxw[base] = dhu[base] = dpre_z;
    dxw[base + units] = dhu[base + units] = dpre_r;
    dxw[base + 2 * units] = dpre_h;
    dhu[base + 2 * units] = dpre_h * reset;
    dh_prev[i] = dh[i] * update;
}

#endif
