/* Naive references for Dense, the activation functions and Flatten, in double precision,
 * each written straight from its definition. */
#include "ref_layers.h"

#include <math.h>
#include <string.h>

void ref_dense_forward(double *out, const double *inp, const double *kernel,
                       const double *bias, int batch, int in_features, int out_features)
{
    for (int b = 0; b < batch; b++)
        for (int n = 0; n < out_features; n++) {
            double sum = bias ? bias[n] : 0.0;
            for (int k = 0; k < in_features; k++)
                sum += inp[(size_t)b * (size_t)in_features + (size_t)k] *
                       kernel[(size_t)k * (size_t)out_features + (size_t)n];
            out[(size_t)b * (size_t)out_features + (size_t)n] = sum;
        }
}

void ref_dense_backward(double *dinp, double *dkernel, double *dbias, const double *dout,
                        const double *inp, const double *kernel, int batch, int in_features,
                        int out_features)
{
    if (dinp)
        memset(dinp, 0, sizeof(double) * (size_t)batch * (size_t)in_features);
    if (dkernel)
        memset(dkernel, 0, sizeof(double) * (size_t)in_features * (size_t)out_features);
    if (dbias)
        memset(dbias, 0, sizeof(double) * (size_t)out_features);
    for (int b = 0; b < batch; b++)
        for (int n = 0; n < out_features; n++) {
            double grad = dout[(size_t)b * (size_t)out_features + (size_t)n];
            if (dbias)
                dbias[n] += grad;
            for (int k = 0; k < in_features; k++) {
                size_t i = (size_t)b * (size_t)in_features + (size_t)k;
                size_t w = (size_t)k * (size_t)out_features + (size_t)n;
                if (dinp)
                    dinp[i] += grad * kernel[w];
                if (dkernel)
                    dkernel[w] += grad * inp[i];
            }
        }
}

/* SELU's constants from Klambauer et al. (2017), as Keras uses them. */
static const double SELU_ALPHA = 1.6732632423543772848170429916717;
static const double SELU_SCALE = 1.0507009873554804934193349852946;

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static double apply(nn_activation activation, double x)
{
    double alpha = activation.alpha;
    switch (activation.kind) {
    case NN_ACTIVATION_LINEAR: return x;
    case NN_ACTIVATION_RELU: return x > 0 ? x : 0;
    case NN_ACTIVATION_SIGMOID: return sigmoid(x);
    case NN_ACTIVATION_TANH: return tanh(x);
    case NN_ACTIVATION_ELU: return x > 0 ? x : alpha * (exp(x) - 1);
    case NN_ACTIVATION_SELU: return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * (exp(x) - 1));
    case NN_ACTIVATION_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case NN_ACTIVATION_LEAKY_RELU: return x > 0 ? x : alpha * x;
    case NN_ACTIVATION_RELU6: return fmin(fmax(x, 0), 6);
    case NN_ACTIVATION_SOFTPLUS: return log(1 + exp(x));
    case NN_ACTIVATION_SOFTSIGN: return x / (1 + fabs(x));
    case NN_ACTIVATION_SWISH: return x * sigmoid(x);
    case NN_ACTIVATION_HARD_SIGMOID: return fmin(fmax(x / 6 + 0.5, 0), 1);
    case NN_ACTIVATION_EXPONENTIAL: return exp(x);
    case NN_ACTIVATION_MISH: return x * tanh(log(1 + exp(x)));
    case NN_ACTIVATION_HARD_SILU: return x * fmin(fmax(x / 6 + 0.5, 0), 1);
    default: return NAN; /* softmax is not element by element */
    }
}

static double derivative(nn_activation activation, double x)
{
    double alpha = activation.alpha;
    switch (activation.kind) {
    case NN_ACTIVATION_LINEAR: return 1;
    case NN_ACTIVATION_RELU: return x > 0 ? 1 : 0;
    case NN_ACTIVATION_SIGMOID: return sigmoid(x) * (1 - sigmoid(x));
    case NN_ACTIVATION_TANH: return 1 - tanh(x) * tanh(x);
    case NN_ACTIVATION_ELU: return x > 0 ? 1 : alpha * exp(x);
    case NN_ACTIVATION_SELU: return SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * exp(x));
    case NN_ACTIVATION_GELU: {
        double cdf = 0.5 * (1 + erf(x / sqrt(2.0)));
        double pdf = exp(-0.5 * x * x) / sqrt(2 * M_PI);
        return cdf + x * pdf;
    }
    case NN_ACTIVATION_LEAKY_RELU: return x > 0 ? 1 : alpha;
    case NN_ACTIVATION_RELU6: return x > 0 && x < 6 ? 1 : 0;
    case NN_ACTIVATION_SOFTPLUS: return sigmoid(x);
    case NN_ACTIVATION_SOFTSIGN: return 1 / ((1 + fabs(x)) * (1 + fabs(x)));
    case NN_ACTIVATION_SWISH: return sigmoid(x) + x * sigmoid(x) * (1 - sigmoid(x));
    case NN_ACTIVATION_HARD_SIGMOID: return x > -3 && x < 3 ? 1.0 / 6 : 0;
    case NN_ACTIVATION_EXPONENTIAL: return exp(x);
    case NN_ACTIVATION_MISH: {
        double t = tanh(log(1 + exp(x)));
        return t + x * (1 - t * t) * sigmoid(x);
    }
    case NN_ACTIVATION_HARD_SILU: return x < -3 ? 0 : x > 3 ? 1 : x / 3 + 0.5;
    default: return NAN;
    }
}

void ref_activation_forward(nn_activation activation, double *y, const double *x, size_t n,
                            size_t axis_size)
{
    if (!nn_activation_by_rows(activation.kind)) {
        for (size_t i = 0; i < n; i++)
            y[i] = apply(activation, x[i]);
        return;
    }
    bool logarithm = activation.kind == NN_ACTIVATION_LOG_SOFTMAX;
    for (size_t row = 0; row < n / axis_size; row++) {
        const double *in = x + row * axis_size;
        double *out = y + row * axis_size;
        double peak = in[0], total = 0;
        for (size_t i = 1; i < axis_size; i++)
            peak = fmax(peak, in[i]);
        for (size_t i = 0; i < axis_size; i++)
            total += exp(in[i] - peak);
        for (size_t i = 0; i < axis_size; i++)
            out[i] = logarithm ? in[i] - peak - log(total) : exp(in[i] - peak) / total;
    }
}

void ref_activation_backward(nn_activation activation, double *dx, const double *dy,
                             const double *x, size_t n, size_t axis_size)
{
    if (!nn_activation_by_rows(activation.kind)) {
        for (size_t i = 0; i < n; i++)
            dx[i] = dy[i] * derivative(activation, x[i]);
        return;
    }
    /* d softmax_j / d x_i = s_j (δ_ij - s_i) and d log_softmax_j / d x_i = δ_ij - s_i: the
     * full Jacobian, summed term by term. */
    bool logarithm = activation.kind == NN_ACTIVATION_LOG_SOFTMAX;
    for (size_t row = 0; row < n / axis_size; row++) {
        const double *in = x + row * axis_size;
        double peak = in[0], total = 0;
        for (size_t i = 1; i < axis_size; i++)
            peak = fmax(peak, in[i]);
        for (size_t i = 0; i < axis_size; i++)
            total += exp(in[i] - peak);
        for (size_t i = 0; i < axis_size; i++) {
            double s_i = exp(in[i] - peak) / total;
            double sum = 0;
            for (size_t j = 0; j < axis_size; j++) {
                double s_j = exp(in[j] - peak) / total;
                sum += dy[row * axis_size + j] * (logarithm ? 1.0 : s_j) *
                       ((i == j ? 1.0 : 0.0) - s_i);
            }
            dx[row * axis_size + i] = sum;
        }
    }
}

void ref_flatten_forward(double *out, const double *inp, int batch, const int *dims,
                         int ndim, int channels_first)
{
    size_t features = 1;
    for (int i = 0; i < ndim; i++)
        features *= (size_t)dims[i];
    if (!channels_first || ndim < 2) {
        memcpy(out, inp, sizeof(double) * (size_t)batch * features);
        return;
    }
    /* (B, C, S) → (B, S, C): feature s·C + c comes from channel c at position s. */
    size_t channels = (size_t)dims[0], spatial = features / channels;
    for (size_t b = 0; b < (size_t)batch; b++)
        for (size_t c = 0; c < channels; c++)
            for (size_t s = 0; s < spatial; s++)
                out[b * features + s * channels + c] = inp[b * features + c * spatial + s];
}
