/* Optimizers with the update rules and defaults of Keras 3 (TF 2.11+): SGD, Adam, AdamW,
 * RMSprop, Adagrad; each is one loop over the model's flat weight buffer. */
#include "optimizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "names.h"

/* Below this many weights a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 15 };

static const char *const optimizer_names[] = {
    [NN_OPTIMIZER_SGD] = "sgd",         [NN_OPTIMIZER_ADAM] = "adam",
    [NN_OPTIMIZER_ADAMW] = "adamw",     [NN_OPTIMIZER_RMSPROP] = "rmsprop",
    [NN_OPTIMIZER_ADAGRAD] = "adagrad", [NN_OPTIMIZER_COUNT] = NULL,
};

nn_optimizer_config nn_optimizer_defaults(nn_optimizer_kind kind)
{
    nn_optimizer_config config = {
        .kind = kind,
        .learning_rate = kind == NN_OPTIMIZER_SGD ? 0.01 : 0.001,
        .momentum = 0.0,
        .nesterov = false,
        .beta_1 = 0.9,
        .beta_2 = 0.999,
        .epsilon = 1e-7,
        .amsgrad = false,
        .weight_decay = kind == NN_OPTIMIZER_ADAMW ? 0.004 : 0.0,
        .rho = 0.9,
        .centered = false,
        .initial_accumulator_value = 0.1,
        .clipnorm = 0.0,
        .clipvalue = 0.0,
    };
    return config;
}

/* Case does not matter: Keras' class names ("Adam", "RMSprop", "SGD") and its string
 * identifiers ("adam", "rmsprop", "sgd") name the same optimizers. */
nn_status nn_optimizer_parse(const char *name, nn_optimizer_kind *kind)
{
    for (int i = 0; i < NN_OPTIMIZER_COUNT; i++) {
        if (strcasecmp(name, optimizer_names[i]) == 0) {
            *kind = (nn_optimizer_kind)i;
            return NN_OK;
        }
    }
    char list[128];
    return nn_error(NN_ERR_ARGUMENT, "unknown optimizer '%s'; expected one of %s", name,
                    nn_names_join(list, sizeof list, optimizer_names));
}

const char *nn_optimizer_name(nn_optimizer_kind kind)
{
    return kind < NN_OPTIMIZER_COUNT ? optimizer_names[kind] : "unknown";
}

const char *const *nn_optimizer_names(void) { return optimizer_names; }

/* The state buffers a configuration needs, in slot order, with Keras' variable names.
 * Returns how many. */
static int slot_layout(const nn_optimizer_config *config, const char *names[3],
                       float initial[3])
{
    int count = 0;
    initial[0] = initial[1] = initial[2] = 0.0f;
    switch (config->kind) {
    case NN_OPTIMIZER_SGD:
        if (config->momentum != 0.0)
            names[count++] = "momentum";
        break;
    case NN_OPTIMIZER_ADAM:
    case NN_OPTIMIZER_ADAMW:
        names[count++] = "momentum";
        names[count++] = "velocity";
        if (config->amsgrad)
            names[count++] = "velocity_hat";
        break;
    case NN_OPTIMIZER_RMSPROP:
        names[count++] = "velocity";
        if (config->momentum > 0.0)
            names[count++] = "momentum";
        if (config->centered)
            names[count++] = "average_gradient";
        break;
    case NN_OPTIMIZER_ADAGRAD:
        initial[count] = (float)config->initial_accumulator_value;
        names[count++] = "accumulator";
        break;
    default:
        break;
    }
    return count;
}

/* A setting outside its range names the optimizer, the setting and the range. */
static nn_status check_range(const char *optimizer, const char *setting, double value,
                             double low, double high, bool high_inclusive)
{
    bool inside = value >= low && (high_inclusive ? value <= high : value < high);
    if (inside)
        return NN_OK;
    return nn_error(NN_ERR_ARGUMENT, "%s: %s must be in [%g, %g%s, got %g", optimizer, setting,
                    low, high, high_inclusive ? "]" : ")", value);
}

static nn_status check_config(const nn_optimizer_config *config)
{
    if (config->kind >= NN_OPTIMIZER_COUNT)
        return nn_error(NN_ERR_ARGUMENT, "optimizer kind %d does not exist", (int)config->kind);
    const char *name = nn_optimizer_name(config->kind);
    NN_TRY(check_range(name, "learning_rate", config->learning_rate, 0.0, INFINITY, false));
    NN_TRY(check_range(name, "epsilon", config->epsilon, 0.0, INFINITY, false));
    NN_TRY(check_range(name, "weight_decay", config->weight_decay, 0.0, INFINITY, false));
    NN_TRY(check_range(name, "clipnorm", config->clipnorm, 0.0, INFINITY, false));
    NN_TRY(check_range(name, "clipvalue", config->clipvalue, 0.0, INFINITY, false));
    if (config->clipnorm > 0.0 && config->clipvalue > 0.0)
        return nn_error(NN_ERR_ARGUMENT,
                        "%s: only one of clipnorm and clipvalue can be set (got clipnorm=%g, "
                        "clipvalue=%g)", name, config->clipnorm, config->clipvalue);
    switch (config->kind) {
    case NN_OPTIMIZER_SGD:
        return check_range(name, "momentum", config->momentum, 0.0, 1.0, true);
    case NN_OPTIMIZER_ADAM:
    case NN_OPTIMIZER_ADAMW:
        NN_TRY(check_range(name, "beta_1", config->beta_1, 0.0, 1.0, false));
        return check_range(name, "beta_2", config->beta_2, 0.0, 1.0, false);
    case NN_OPTIMIZER_RMSPROP:
        NN_TRY(check_range(name, "rho", config->rho, 0.0, 1.0, true));
        return check_range(name, "momentum", config->momentum, 0.0, 1.0, true);
    case NN_OPTIMIZER_ADAGRAD:
        return check_range(name, "initial_accumulator_value",
                           config->initial_accumulator_value, 0.0, INFINITY, false);
    default:
        return NN_OK;
    }
}

nn_status nn_optimizer_create(nn_optimizer **out, const nn_optimizer_config *config,
                              size_t count)
{
    *out = NULL;
    NN_TRY(check_config(config));
    nn_optimizer *optimizer = calloc(1, sizeof *optimizer);
    if (!optimizer)
        return nn_error(NN_ERR_MEMORY, "out of memory creating optimizer %s",
                        nn_optimizer_name(config->kind));
    optimizer->config = *config;
    optimizer->count = count;
    const char *names[3];
    float initial[3];
    optimizer->slot_count = slot_layout(config, names, initial);
    for (int s = 0; s < optimizer->slot_count; s++) {
        optimizer->slots[s] = malloc((count ? count : 1) * sizeof(float));
        if (!optimizer->slots[s]) {
            nn_optimizer_free(optimizer);
            return nn_error(NN_ERR_MEMORY, "out of memory: optimizer %s needs %d state "
                            "buffers of %zu floats", nn_optimizer_name(config->kind),
                            optimizer->slot_count, count);
        }
        for (size_t i = 0; i < count; i++)
            optimizer->slots[s][i] = initial[s];
    }
    *out = optimizer;
    return NN_OK;
}

void nn_optimizer_free(nn_optimizer *optimizer)
{
    if (!optimizer)
        return;
    for (int s = 0; s < 3; s++)
        free(optimizer->slots[s]);
    free(optimizer);
}

const char *nn_optimizer_slot_name(const nn_optimizer *optimizer, int slot)
{
    const char *names[3];
    float initial[3];
    int count = slot_layout(&optimizer->config, names, initial);
    return slot >= 0 && slot < count ? names[slot] : NULL;
}

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

static void step_sgd(nn_optimizer *optimizer, float *w, const float *grads, float scale,
                     float clipvalue)
{
    const nn_optimizer_config *c = &optimizer->config;
    const float lr = (float)c->learning_rate, momentum = (float)c->momentum;
    const long n = (long)optimizer->count;
    if (c->momentum == 0.0) {
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
        for (long i = 0; i < n; i++)
            w[i] -= lr * clip_gradient(grads[i], scale, clipvalue);
        return;
    }
    float *m = optimizer->slots[0];
    const bool nesterov = c->nesterov;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        float g = clip_gradient(grads[i], scale, clipvalue);
        m[i] = momentum * m[i] - lr * g;
        w[i] += nesterov ? momentum * m[i] - lr * g : m[i];
    }
}

static void step_adam(nn_optimizer *optimizer, float *w, const float *grads, float scale,
                      float clipvalue)
{
    const nn_optimizer_config *c = &optimizer->config;
    const double t = (double)optimizer->iterations; /* already counts this step */
    /* The bias corrections of both moments folded into one step size. */
    const float alpha = (float)(c->learning_rate * sqrt(1.0 - pow(c->beta_2, t)) /
                                (1.0 - pow(c->beta_1, t)));
    const float one_minus_beta_1 = (float)(1.0 - c->beta_1);
    const float one_minus_beta_2 = (float)(1.0 - c->beta_2);
    const float epsilon = (float)c->epsilon;
    float *m = optimizer->slots[0], *v = optimizer->slots[1];
    float *v_hat = c->amsgrad ? optimizer->slots[2] : NULL;
    const long n = (long)optimizer->count;
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

static void step_rmsprop(nn_optimizer *optimizer, float *w, const float *grads, float scale,
                         float clipvalue)
{
    const nn_optimizer_config *c = &optimizer->config;
    const float lr = (float)c->learning_rate, rho = (float)c->rho;
    const float one_minus_rho = (float)(1.0 - c->rho);
    const float momentum = (float)c->momentum, epsilon = (float)c->epsilon;
    float *velocity = optimizer->slots[0];
    float *moment = c->momentum > 0.0 ? optimizer->slots[1] : NULL;
    float *average = c->centered ? optimizer->slots[moment ? 2 : 1] : NULL;
    const long n = (long)optimizer->count;
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

static void step_adagrad(nn_optimizer *optimizer, float *w, const float *grads, float scale,
                         float clipvalue)
{
    const nn_optimizer_config *c = &optimizer->config;
    const float lr = (float)c->learning_rate, epsilon = (float)c->epsilon;
    float *accumulator = optimizer->slots[0];
    const long n = (long)optimizer->count;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++) {
        float g = clip_gradient(grads[i], scale, clipvalue);
        accumulator[i] += g * g;
        w[i] -= lr * g / sqrtf(accumulator[i] + epsilon);
    }
}

/* Keras applies decoupled weight decay before the gradient update:
 * w ← w - w · weight_decay · learning_rate, on the weights the mask selects. */
static void apply_weight_decay(const nn_optimizer *optimizer, float *w,
                               const unsigned char *decay_mask)
{
    const float decay = (float)(optimizer->config.weight_decay * optimizer->config.learning_rate);
    const long n = (long)optimizer->count;
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (long i = 0; i < n; i++)
        if (!decay_mask || decay_mask[i])
            w[i] -= w[i] * decay;
}

void nn_optimizer_step(nn_optimizer *optimizer, float *weights, const float *grads,
                       const unsigned char *decay_mask)
{
    const nn_optimizer_config *c = &optimizer->config;
    optimizer->iterations++;
    float scale = clipnorm_scale(grads, optimizer->count, c->clipnorm);
    float clipvalue = (float)c->clipvalue;
    if (c->weight_decay > 0.0)
        apply_weight_decay(optimizer, weights, decay_mask);
    switch (c->kind) {
    case NN_OPTIMIZER_SGD:
        step_sgd(optimizer, weights, grads, scale, clipvalue);
        break;
    case NN_OPTIMIZER_ADAM:
    case NN_OPTIMIZER_ADAMW:
        step_adam(optimizer, weights, grads, scale, clipvalue);
        break;
    case NN_OPTIMIZER_RMSPROP:
        step_rmsprop(optimizer, weights, grads, scale, clipvalue);
        break;
    case NN_OPTIMIZER_ADAGRAD:
        step_adagrad(optimizer, weights, grads, scale, clipvalue);
        break;
    default:
        break;
    }
}
