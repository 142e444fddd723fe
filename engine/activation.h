/* Activation functions: names, forward and backward on float arrays (CPU). */
#ifndef NN_ACTIVATION_H
#define NN_ACTIVATION_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

typedef enum nn_activation_kind {
    NN_ACTIVATION_LINEAR,
    NN_ACTIVATION_RELU,
    NN_ACTIVATION_SIGMOID,
    NN_ACTIVATION_SOFTMAX,
    NN_ACTIVATION_TANH,
    NN_ACTIVATION_ELU,
    NN_ACTIVATION_SELU,
    NN_ACTIVATION_GELU,
    NN_ACTIVATION_LEAKY_RELU,
    NN_ACTIVATION_RELU6,
    NN_ACTIVATION_SOFTPLUS,
    NN_ACTIVATION_SOFTSIGN,
    NN_ACTIVATION_SWISH,
    NN_ACTIVATION_HARD_SIGMOID,
    NN_ACTIVATION_EXPONENTIAL,
    NN_ACTIVATION_MISH,      /* x · tanh(softplus(x)) */
    NN_ACTIVATION_HARD_SILU, /* x · hard_sigmoid(x), Keras 3's hard_silu = hard_swish */
    NN_ACTIVATION_LOG_SOFTMAX, /* x - logsumexp(x) over the last axis, as softmax */
    NN_ACTIVATION_COUNT
} nn_activation_kind;

typedef struct nn_activation {
    nn_activation_kind kind;
    float alpha; /* elu's alpha, leaky_relu's negative slope; ignored by the others */
} nn_activation;

/* Looks an activation up by its Keras name ("relu", "silu" = "swish", "hard_swish" =
 * "hard_silu", "linear" or "none"); an unknown name is an error that lists the valid
 * ones. */
nn_status nn_activation_parse(const char *name, nn_activation *activation);
/* The Keras name of an activation ("relu"). */
const char *nn_activation_name(nn_activation_kind kind);
/* NULL-terminated list of every accepted name, for errors, help and completion. */
const char *const *nn_activation_names(void);
/* The activation with Keras' default parameter (elu alpha 1, leaky_relu 0.2). */
nn_activation nn_activation_default(nn_activation_kind kind);

/* Whether the activation normalises whole runs of the last axis (softmax, log_softmax)
 * rather than acting element by element. */
static inline bool nn_activation_by_rows(nn_activation_kind kind)
{
    return kind == NN_ACTIVATION_SOFTMAX || kind == NN_ACTIVATION_LOG_SOFTMAX;
}

/* Whether backward needs the input x (true) or can work from the output y alone. */
bool nn_activation_backward_needs_input(nn_activation_kind kind);

/* y = f(x) over n elements; softmax normalises each run of `axis_size` consecutive
 * elements (the last axis). y may equal x. */
void nn_activation_forward(nn_activation activation, float *y, const float *x, size_t n,
                           size_t axis_size);
/* dx = dy * f'(x), with y = f(x) given too (x may be NULL where backward_needs_input is
 * false). dx may equal dy. */
void nn_activation_backward(nn_activation activation, float *dx, const float *dy,
                            const float *x, const float *y, size_t n, size_t axis_size);

#endif
