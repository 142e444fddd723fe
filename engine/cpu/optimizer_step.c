/* Optimizer updates on the CPU: one loop over the model's flat weight buffer per step,
 * with Keras 3's formulas. Each weight's update reads only its own state, so the result
 * does not depend on the thread count. */
#include <math.h>

#include "../cuda/bodies/update_body.h"
#include "cpu_kernels.h"

/* Below this many weights a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 15 };

/* The gradient after clipping: scaled by the clipnorm factor, then clamped to
 * ±clipvalue when that is set (Keras allows only one of the two). */
static inline float clip_gradient(float g, float scale, float clipvalue)
{
    g *= scale;
    if (clipvalue > 0.0f)
        g = g > clipvalue ? clipvalue : g < -clipvalue ? -clipvalue : g;
    return g;
}

/* Keras' clip_by_norm, over the whole buffer: g · clipnorm / max(‖g‖, clipnorm). The sum
 * runs serially so the result does not depend on the thread count. */
static float clipnorm_scale(const float *grads, size_t count, double clipnorm)
{
    if (clipnorm <= 0.0)
        return 1.0f;
    double squares = 0.0;
    for (size_t i = 0; i < count; i++)
        squares += (double)grads[i] * (double)grads[i];
    return (float)(clipnorm / fmax(sqrt(squares), clipnorm));
}

static void step_sgd(const nn_optimizer_config *c, float *const slots[3], float *w,
                     const float *grads, long n, float scale, float clipvalue)
{
    const float lr = (float)c->learning_rate, momentum = (float)c->momentum;
    if (c->momentum == 0.0) {
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
        for (long i = 0; i < n; i++)
            w[i] -= lr * clip_gradient(grads[i], scale, clipvalue);
        return;
    }
    float *m = slots[0];
    const bool nesterov = c->nesterov;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        float g = clip_gradient(grads[i], scale, clipvalue);
        m[i] = momentum * m[i] - lr * g;
        w[i] += nesterov ? momentum * m[i] - lr * g : m[i];
    }
}

static void step_adam(const nn_optimizer_config *c, float *const slots[3], float *w,
                      const float *grads, long n, long long iteration, float scale,
                      float clipvalue)
{
    const double t = (double)iteration;
    /* The bias corrections of both moments folded into one step size. */
    const float alpha = (float)(c->learning_rate * sqrt(1.0 - pow(c->beta_2, t)) /
                                (1.0 - pow(c->beta_1, t)));
    const float one_minus_beta_1 = (float)(1.0 - c->beta_1);
    const float one_minus_beta_2 = (float)(1.0 - c->beta_2);
    const float epsilon = (float)c->epsilon;
    float *m = slots[0], *v = slots[1];
    float *v_hat = c->amsgrad ? slots[2] : NULL;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        float g = clip_gradient(grads[i], scale, clipvalue);
        m[i] += (g - m[i]) * one_minus_beta_1;
        v[i] += (g * g - v[i]) * one_minus_beta_2;
        float second = v[i];
        if (v_hat) {
            v_hat[i] = v_hat[i] > v[i] ? v_hat[i] : v[i];
            second = v_hat[i];
        }
        w[i] -= m[i] * alpha / (sqrtf(second) + epsilon);
    }
}

static void step_rmsprop(const nn_optimizer_config *c, float *const slots[3], float *w,
                         const float *grads, long n, float scale, float clipvalue)
{
    const float lr = (float)c->learning_rate, rho = (float)c->rho;
    const float one_minus_rho = (float)(1.0 - c->rho);
    const float momentum = (float)c->momentum, epsilon = (float)c->epsilon;
    float *velocity = slots[0];
    float *moment = c->momentum > 0.0 ? slots[1] : NULL;
    float *average = c->centered ? slots[moment ? 2 : 1] : NULL;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        float g = clip_gradient(grads[i], scale, clipvalue);
        velocity[i] = rho * velocity[i] + one_minus_rho * g * g;
        float denominator;
        if (average) {
            average[i] = rho * average[i] + one_minus_rho * g;
            /* v - a² >= 0 in exact arithmetic; rounding may dip below, so keep the
             * square root real (Keras would give NaN there). */
            denominator = velocity[i] - average[i] * average[i] + epsilon;
            denominator = denominator > epsilon ? denominator : epsilon;
        } else {
            denominator = velocity[i] + epsilon;
        }
        float increment = lr * g / sqrtf(denominator);
        if (moment) {
            moment[i] = momentum * moment[i] + increment;
            w[i] -= moment[i];
        } else {
            w[i] -= increment;
        }
    }
}

static void step_adagrad(const nn_optimizer_config *c, float *const slots[3], float *w,
                         const float *grads, long n, float scale, float clipvalue)
{
    const float lr = (float)c->learning_rate, epsilon = (float)c->epsilon;
    float *accumulator = slots[0];
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        float g = clip_gradient(grads[i], scale, clipvalue);
        accumulator[i] += g * g;
        w[i] -= lr * g / sqrtf(accumulator[i] + epsilon);
    }
}

/* Keras applies decoupled weight decay before the gradient update:
 * w ← w - w · weight_decay · learning_rate, on the weights the mask selects. */
static void apply_weight_decay(const nn_optimizer_config *c, float *w,
                               const unsigned char *decay_mask, long n)
{
    const float decay = (float)(c->weight_decay * c->learning_rate);
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++)
        if (!decay_mask || decay_mask[i])
            w[i] -= w[i] * decay;
}

void nn_cpu_optimizer_step(float *weights, float *const slots[3], const float *grads,
                           const unsigned char *decay_mask, const nn_optimizer_config *config,
                           long long iteration, size_t count, const nn_batch_stats *guard)
{
    if (guard && !isfinite(nn_batch_stats_total(guard)))
        return;
    const nn_optimizer_config *c = config;
    const long n = (long)count;
    float scale = clipnorm_scale(grads, count, c->clipnorm);
    float clipvalue = (float)c->clipvalue;
    bool shares_body = c->kind == NN_OPTIMIZER_NADAM || c->kind == NN_OPTIMIZER_ADAMAX ||
                       c->kind == NN_OPTIMIZER_ADADELTA || c->kind == NN_OPTIMIZER_LION ||
                       c->kind == NN_OPTIMIZER_FTRL;
    if (shares_body) {
        /* The later optimizers run the CUDA kernel's body (decay, clipping and update in
         * one pass), so the two backends share one copy of their formulas. */
        const nn_body_step step = nn_body_step_make(c, iteration);
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
        for (long i = 0; i < n; i++)
            nn_body_optimizer_update(weights, slots[0], slots[1], slots[2], grads, decay_mask,
                                     &step, scale, (size_t)i);
        return;
    }
    if (c->weight_decay > 0.0)
        apply_weight_decay(c, weights, decay_mask, n);
    switch (c->kind) {
    case NN_OPTIMIZER_SGD:
        step_sgd(c, slots, weights, grads, n, scale, clipvalue);
        break;
    case NN_OPTIMIZER_ADAM:
    case NN_OPTIMIZER_ADAMW:
        step_adam(c, slots, weights, grads, n, iteration, scale, clipvalue);
        break;
    case NN_OPTIMIZER_RMSPROP:
        step_rmsprop(c, slots, weights, grads, n, scale, clipvalue);
        break;
    case NN_OPTIMIZER_ADAGRAD:
        step_adagrad(c, slots, weights, grads, n, scale, clipvalue);
        break;
    default:
        break;
    }
}
