/* Activation functions by Keras' definitions, forward and backward. */
#include "activation.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

/* Below this many elements a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 15 };
/* The same for activations that call the math library (exp, tanh, erf, log): at some
 * 15 ns an element, a few thousand already pay for a second thread (a recurrent layer's
 * step is batch x units, often 8192). */
enum { MATH_PARALLEL_THRESHOLD = 1 << 11 };

/* Whether an element of the activation is a few comparisons or multiplications. */
static bool is_cheap(nn_activation_kind kind)
{
    switch (kind) {
    case NN_ACTIVATION_LINEAR:
    case NN_ACTIVATION_RELU:
    case NN_ACTIVATION_LEAKY_RELU:
    case NN_ACTIVATION_RELU6:
    case NN_ACTIVATION_SOFTSIGN:
    case NN_ACTIVATION_HARD_SIGMOID:
    case NN_ACTIVATION_HARD_SILU:
        return true;
    default:
        return false;
    }
}

static const float SELU_ALPHA = 1.6732632423543772f;
static const float SELU_SCALE = 1.0507009873554805f;

static const char *const activation_names[] = {
    [NN_ACTIVATION_LINEAR] = "linear",       [NN_ACTIVATION_RELU] = "relu",
    [NN_ACTIVATION_SIGMOID] = "sigmoid",     [NN_ACTIVATION_SOFTMAX] = "softmax",
    [NN_ACTIVATION_TANH] = "tanh",           [NN_ACTIVATION_ELU] = "elu",
    [NN_ACTIVATION_SELU] = "selu",           [NN_ACTIVATION_GELU] = "gelu",
    [NN_ACTIVATION_LEAKY_RELU] = "leaky_relu", [NN_ACTIVATION_RELU6] = "relu6",
    [NN_ACTIVATION_SOFTPLUS] = "softplus",   [NN_ACTIVATION_SOFTSIGN] = "softsign",
    [NN_ACTIVATION_SWISH] = "swish",         [NN_ACTIVATION_HARD_SIGMOID] = "hard_sigmoid",
    [NN_ACTIVATION_EXPONENTIAL] = "exponential", [NN_ACTIVATION_MISH] = "mish",
    [NN_ACTIVATION_HARD_SILU] = "hard_silu",  [NN_ACTIVATION_LOG_SOFTMAX] = "log_softmax",
    [NN_ACTIVATION_COUNT] = NULL,
};

const char *nn_activation_name(nn_activation_kind kind)
{
    return kind < NN_ACTIVATION_COUNT ? activation_names[kind] : "unknown";
}

const char *const *nn_activation_names(void) { return activation_names; }

nn_activation nn_activation_default(nn_activation_kind kind)
{
    nn_activation activation = {.kind = kind, .alpha = 0.0f};
    if (kind == NN_ACTIVATION_ELU)
        activation.alpha = 1.0f;
    else if (kind == NN_ACTIVATION_LEAKY_RELU)
        activation.alpha = 0.2f;
    return activation;
}

nn_status nn_activation_parse(const char *name, nn_activation *activation)
{
    if (strcmp(name, "none") == 0 || strcmp(name, "None") == 0) {
        *activation = nn_activation_default(NN_ACTIVATION_LINEAR);
        return NN_OK;
    }
    if (strcmp(name, "silu") == 0) {
        *activation = nn_activation_default(NN_ACTIVATION_SWISH);
        return NN_OK;
    }
    if (strcmp(name, "hard_swish") == 0) {
        *activation = nn_activation_default(NN_ACTIVATION_HARD_SILU);
        return NN_OK;
    }
    for (int kind = 0; kind < NN_ACTIVATION_COUNT; kind++) {
        if (strcmp(name, activation_names[kind]) == 0) {
            *activation = nn_activation_default((nn_activation_kind)kind);
            return NN_OK;
        }
    }
    char list[512], guess[128];
    return nn_error(NN_ERR_ARGUMENT, "unknown activation '%s'%s; expected one of %s", name,
                    nn_names_did_you_mean(guess, sizeof guess, name, activation_names),
                    nn_names_join(list, sizeof list, activation_names));
}

bool nn_activation_backward_needs_input(nn_activation_kind kind)
{
    switch (kind) {
    case NN_ACTIVATION_GELU:
    case NN_ACTIVATION_LEAKY_RELU:
    case NN_ACTIVATION_SOFTPLUS:
    case NN_ACTIVATION_SWISH:
    case NN_ACTIVATION_MISH:
    case NN_ACTIVATION_HARD_SILU:
        return true;
    default:
        return false;
    }
}

static inline float sigmoid(float x)
{
    /* Split by sign so exp never overflows. */
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* The largest value of a row: softmax and log_softmax shift by it so exp never overflows. */
static float row_peak(const float *row, size_t axis_size)
{
    float peak = row[0];
    for (size_t i = 1; i < axis_size; i++)
        peak = row[i] > peak ? row[i] : peak;
    return peak;
}

static void softmax_rows(float *y, const float *x, size_t n, size_t axis_size)
{
    size_t rows = n / axis_size;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (size_t r = 0; r < rows; r++) {
        const float *in = x + r * axis_size;
        float *out = y + r * axis_size;
        float peak = row_peak(in, axis_size);
        double total = 0.0;
        for (size_t i = 0; i < axis_size; i++) {
            out[i] = expf(in[i] - peak);
            total += out[i];
        }
        float inverse = (float)(1.0 / total);
        for (size_t i = 0; i < axis_size; i++)
            out[i] *= inverse;
    }
}

/* y = x - (peak + log Σ exp(x - peak)) per row, the logsumexp in double. */
static void log_softmax_rows(float *y, const float *x, size_t n, size_t axis_size)
{
    size_t rows = n / axis_size;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (size_t r = 0; r < rows; r++) {
        const float *in = x + r * axis_size;
        float *out = y + r * axis_size;
        float peak = row_peak(in, axis_size);
        double total = 0.0;
        for (size_t i = 0; i < axis_size; i++)
            total += (double)expf(in[i] - peak);
        float shift = peak + (float)log(total);
        for (size_t i = 0; i < axis_size; i++)
            out[i] = in[i] - shift;
    }
}

void nn_activation_forward(nn_activation activation, float *y, const float *x, size_t n,
                           size_t axis_size)
{
    const float alpha = activation.alpha;
    switch (activation.kind) {
    case NN_ACTIVATION_LINEAR:
        if (y != x)
            memmove(y, x, n * sizeof(float));
        return;
    case NN_ACTIVATION_SOFTMAX:
        softmax_rows(y, x, n, axis_size ? axis_size : n);
        return;
    case NN_ACTIVATION_LOG_SOFTMAX:
        log_softmax_rows(y, x, n, axis_size ? axis_size : n);
        return;
    default:
        break;
    }
    size_t threshold = is_cheap(activation.kind) ? PARALLEL_THRESHOLD : MATH_PARALLEL_THRESHOLD;
#pragma omp parallel for schedule(static) if (n > threshold)
    for (size_t i = 0; i < n; i++) {
        float v = x[i], r;
        switch (activation.kind) {
        case NN_ACTIVATION_RELU: r = v <= 0.0f ? 0.0f : v; break; /* NaN stays, as TF */
        case NN_ACTIVATION_SIGMOID: r = sigmoid(v); break;
        case NN_ACTIVATION_TANH: r = tanhf(v); break;
        case NN_ACTIVATION_ELU: r = v > 0.0f ? v : alpha * expm1f(v); break;
        case NN_ACTIVATION_SELU:
            r = v > 0.0f ? SELU_SCALE * v : SELU_SCALE * SELU_ALPHA * expm1f(v);
            break;
        case NN_ACTIVATION_GELU: r = 0.5f * v * (1.0f + erff(v * (float)M_SQRT1_2)); break;
        case NN_ACTIVATION_LEAKY_RELU: r = v > 0.0f ? v : alpha * v; break;
        case NN_ACTIVATION_RELU6: r = v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v; break;
        case NN_ACTIVATION_SOFTPLUS: r = fmaxf(v, 0.0f) + log1pf(expf(-fabsf(v))); break;
        case NN_ACTIVATION_SOFTSIGN: r = v / (1.0f + fabsf(v)); break;
        case NN_ACTIVATION_SWISH: r = v * sigmoid(v); break;
        case NN_ACTIVATION_HARD_SIGMOID: {
            /* Keras 3's x/6 + 1/2 (relu6(x + 3)/6); Keras 2 used 0.2·x + 0.5. */
            float h = v / 6.0f + 0.5f;
            r = h < 0.0f ? 0.0f : h > 1.0f ? 1.0f : h;
            break;
        }
        case NN_ACTIVATION_EXPONENTIAL: r = expf(v); break;
        case NN_ACTIVATION_MISH: r = v * tanhf(fmaxf(v, 0.0f) + log1pf(expf(-fabsf(v)))); break;
        case NN_ACTIVATION_HARD_SILU: {
            float h = v / 6.0f + 0.5f;
            r = v * (h < 0.0f ? 0.0f : h > 1.0f ? 1.0f : h);
            break;
        }
        default: r = v; break;
        }
        y[i] = r;
    }
}

static void softmax_backward_rows(float *dx, const float *dy, const float *y, size_t n,
                                  size_t axis_size)
{
    size_t rows = n / axis_size;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (size_t r = 0; r < rows; r++) {
        const float *g = dy + r * axis_size, *p = y + r * axis_size;
        float *out = dx + r * axis_size;
        double dot = 0.0;
        for (size_t i = 0; i < axis_size; i++)
            dot += (double)g[i] * p[i];
        for (size_t i = 0; i < axis_size; i++)
            out[i] = p[i] * (g[i] - (float)dot);
    }
}

/* dx = dy - softmax · Σ dy per row, softmax = exp(y). dx may equal dy. */
static void log_softmax_backward_rows(float *dx, const float *dy, const float *y, size_t n,
                                      size_t axis_size)
{
    size_t rows = n / axis_size;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (size_t r = 0; r < rows; r++) {
        const float *g = dy + r * axis_size, *p = y + r * axis_size;
        float *out = dx + r * axis_size;
        double sum = 0.0;
        for (size_t i = 0; i < axis_size; i++)
            sum += (double)g[i];
        for (size_t i = 0; i < axis_size; i++)
            out[i] = g[i] - expf(p[i]) * (float)sum;
    }
}

void nn_activation_backward(nn_activation activation, float *dx, const float *dy,
                            const float *x, const float *y, size_t n, size_t axis_size)
{
    const float alpha = activation.alpha;
    switch (activation.kind) {
    case NN_ACTIVATION_LINEAR:
        if (dx != dy)
            memmove(dx, dy, n * sizeof(float));
        return;
    case NN_ACTIVATION_SOFTMAX:
        softmax_backward_rows(dx, dy, y, n, axis_size ? axis_size : n);
        return;
    case NN_ACTIVATION_LOG_SOFTMAX:
        log_softmax_backward_rows(dx, dy, y, n, axis_size ? axis_size : n);
        return;
    default:
        break;
    }
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (size_t i = 0; i < n; i++) {
        float g = dy[i], d;
        switch (activation.kind) {
        case NN_ACTIVATION_RELU: d = y[i] > 0.0f ? 1.0f : 0.0f; break;
        case NN_ACTIVATION_SIGMOID: d = y[i] * (1.0f - y[i]); break;
        case NN_ACTIVATION_TANH: d = 1.0f - y[i] * y[i]; break;
        case NN_ACTIVATION_ELU: d = y[i] > 0.0f ? 1.0f : y[i] + alpha; break;
        case NN_ACTIVATION_SELU:
            d = y[i] > 0.0f ? SELU_SCALE : y[i] + SELU_SCALE * SELU_ALPHA;
            break;
        case NN_ACTIVATION_GELU: {
            float v = x[i];
            float cdf = 0.5f * (1.0f + erff(v * (float)M_SQRT1_2));
            float pdf = expf(-0.5f * v * v) * 0.3989422804014327f;
            d = cdf + v * pdf;
            break;
        }
        case NN_ACTIVATION_LEAKY_RELU: d = x[i] > 0.0f ? 1.0f : alpha; break;
        case NN_ACTIVATION_RELU6: d = y[i] > 0.0f && y[i] < 6.0f ? 1.0f : 0.0f; break;
        case NN_ACTIVATION_SOFTPLUS: d = sigmoid(x[i]); break;
        case NN_ACTIVATION_SOFTSIGN: {
            float s = 1.0f - fabsf(y[i]);
            d = s * s;
            break;
        }
        case NN_ACTIVATION_SWISH: {
            float s = sigmoid(x[i]);
            d = s * (1.0f + x[i] * (1.0f - s));
            break;
        }
        case NN_ACTIVATION_HARD_SIGMOID: d = y[i] > 0.0f && y[i] < 1.0f ? 1.0f / 6.0f : 0.0f; break;
        case NN_ACTIVATION_EXPONENTIAL: d = y[i]; break;
        case NN_ACTIVATION_MISH: {
            float v = x[i], t = tanhf(fmaxf(v, 0.0f) + log1pf(expf(-fabsf(v))));
            d = t + v * (1.0f - t * t) * sigmoid(v);
            break;
        }
        case NN_ACTIVATION_HARD_SILU: {
            float v = x[i];
            d = v < -3.0f ? 0.0f : v > 3.0f ? 1.0f : v / 3.0f + 0.5f;
            break;
        }
        default: d = 1.0f; break;
        }
        dx[i] = g * d;
    }
}
