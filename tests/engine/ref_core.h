/* Naive double-precision references for the core engine modules (fans, losses,
 * constraints, optimizers, batch normalization), written for clarity, not speed. */
#ifndef NN_REF_CORE_H
#define NN_REF_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "activation.h"
#include "loss.h"
#include "optimizer.h"
#include "param.h"

/* Keras' fan_in and fan_out of a weight of shape dims. */
void ref_fans(const int64_t *dims, int ndim, double *fan_in, double *fan_out);

/* y = f(x) for rows of `width` (softmax per row). Supports linear, relu, sigmoid,
 * softmax and tanh. */
void ref_activation(nn_activation_kind kind, double *y, const double *x, int64_t rows,
                    int64_t width);

/* The mean loss Keras computes for a last layer with activation `last` whose
 * pre-activation is logits (batch, width); labels are (batch,) class ids for the sparse
 * loss and (batch, width) otherwise; delta is huber's. */
double ref_loss(nn_loss_kind kind, bool from_logits, double delta, nn_activation_kind last,
                const double *logits, const double *labels, int64_t batch, int64_t width);

/* Applies a norm constraint (max_norm, unit_norm, min_max_norm) or non_neg in place,
 * norms taken over the axes set in `axes`. */
void ref_constraint(double *w, const int64_t *dims, int ndim, const nn_constraint *constraint);

/* An optimizer and its state, all in double. */
typedef struct ref_optimizer {
    nn_optimizer_config config;
    size_t count;
    int t;                     /* steps taken */
    double *m, *v, *v_hat;     /* adam(w), nadam (m, v), adamax (m), lion (m) */
    double *momentum;          /* sgd, rmsprop */
    double *velocity, *average;/* rmsprop */
    double *accumulator;       /* adagrad */
    double *norm;              /* adamax's u */
    double *accumulated_grad, *accumulated_delta; /* adadelta */
    double *linear;            /* ftrl (its accumulator is `accumulator`) */
    double u_product;          /* nadam: u_1 · ... · u_t, updated each step as Keras does */
} ref_optimizer;

void ref_optimizer_init(ref_optimizer *optimizer, const nn_optimizer_config *config,
                        size_t count);
/* One Keras update of w from g (clipping, weight decay on the masked weights, update). */
void ref_optimizer_step(ref_optimizer *optimizer, double *w, const double *g,
                        const unsigned char *decay_mask);
void ref_optimizer_free(ref_optimizer *optimizer);

/* Batch normalization of x (dims, ndim) over every axis but `axis`. In training the
 * batch statistics (biased variance) are used and written to batch_mean/batch_variance
 * (channel counts; may be NULL); otherwise moving_mean/moving_variance. gamma and beta
 * may be NULL (1 and 0). */
void ref_batchnorm_forward(double *y, double *batch_mean, double *batch_variance,
                           const double *x, const double *gamma, const double *beta,
                           const double *moving_mean, const double *moving_variance,
                           const int64_t *dims, int ndim, int axis, double epsilon,
                           bool training);

#endif
