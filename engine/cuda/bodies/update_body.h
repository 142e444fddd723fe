/* Bodies of the parameter updates as cpu/optimizer_step.c and cpu/loss_update.c: one
 * weight per call for the optimizers (decay, clipping and the update fused, in the CPU's
 * order of operations), slices for the sums (gradient norm, penalties) and one norm
 * group per call for the constraints. */
#ifndef NN_UPDATE_BODY_H
#define NN_UPDATE_BODY_H

#include "../../backend.h"
#include "body.h"

/* Whether a guarded update may run: no guard, or a finite total loss. */
NN_BODY int nn_body_guard_allows(const nn_batch_stats *guard)
{
    return !guard || isfinite(guard->loss + (guard->activity_penalty + guard->weight_penalty));
}

/* Everything one step needs besides the arrays, computed once on the host. */
typedef struct nn_body_step {
    nn_optimizer_kind kind;
    float learning_rate, momentum, epsilon, rho, one_minus_rho;
    float beta_1, beta_2, one_minus_beta_1, one_minus_beta_2;
    float alpha;      /* Adam's step size with both bias corrections folded in; Adamax's
                         learning_rate / (1 - beta_1^t) */
    float nadam_momentum, nadam_gradient; /* Nadam's weights of m and g in m_hat */
    float bias_2;     /* Nadam's 1 - beta_2^t */
    float ftrl_power; /* Ftrl's -learning_rate_power, the power of the accumulator */
    float l1, two_l2; /* Ftrl: l1 strength; 2 (l2 strength + beta / (2 learning_rate)) */
    float two_shrinkage; /* Ftrl: 2 · l2_shrinkage_regularization_strength */
    float decay;      /* weight_decay · learning_rate, 0 for none */
    float clipvalue;  /* 0 for none */
    int nesterov, amsgrad, centered, has_momentum;
} nn_body_step;

/* Nadam's momentum schedule (Dozat's, as Keras 3): step i weighs the momentum by
 * u_i = beta_1 (1 - 0.5 · 0.96^i). */
NN_BODY double nn_body_nadam_u(double beta_1, double i)
{
    return beta_1 * (1.0 - 0.5 * pow(0.96, i));
}

/* u_1 · u_2 · ... · u_t, which Keras keeps as the variable u_product and updates once a
 * step: a function of the step count alone, so it needs no slot and is exact again after
 * a model file is loaded. Past i = 1000, 0.5 · 0.96^i < 1e-18 and 1 - that is 1 in
 * double, so the product is beta_1^t times the first thousand factors of the rest (a
 * thousand multiplications: this runs once per step and weight tensor). */
NN_BODY double nn_body_nadam_product(double beta_1, long long t)
{
    double product = pow(beta_1, (double)t), power = 1.0;
    long long terms = t < 1000 ? t : 1000;
    for (long long i = 1; i <= terms; i++) {
        power *= 0.96;
        product *= 1.0 - 0.5 * power;
    }
    return product;
}

NN_BODY nn_body_step nn_body_step_make(const nn_optimizer_config *c, long long iteration)
{
    nn_body_step step;
    double t = (double)iteration;
    step.kind = c->kind;
    step.learning_rate = (float)c->learning_rate;
    step.momentum = (float)c->momentum;
    step.epsilon = (float)c->epsilon;
    step.rho = (float)c->rho;
    step.one_minus_rho = (float)(1.0 - c->rho);
    step.beta_1 = (float)c->beta_1;
    step.beta_2 = (float)c->beta_2;
    step.one_minus_beta_1 = (float)(1.0 - c->beta_1);
    step.one_minus_beta_2 = (float)(1.0 - c->beta_2);
    if (c->kind == NN_OPTIMIZER_ADAMAX)
        step.alpha = (float)(c->learning_rate / (1.0 - pow(c->beta_1, t)));
    else
        step.alpha = (float)(c->learning_rate * sqrt(1.0 - pow(c->beta_2, t)) /
                             (1.0 - pow(c->beta_1, t)));
    step.nadam_momentum = step.nadam_gradient = step.bias_2 = 0.0f;
    if (c->kind == NN_OPTIMIZER_NADAM) {
        /* m_hat = u_{t+1} m / (1 - u_1...u_{t+1}) + (1 - u_t) g / (1 - u_1...u_t). */
        double product = nn_body_nadam_product(c->beta_1, iteration);
        double u_next = nn_body_nadam_u(c->beta_1, t + 1.0);
        step.nadam_momentum = (float)(u_next / (1.0 - product * u_next));
        step.nadam_gradient = (float)((1.0 - nn_body_nadam_u(c->beta_1, t)) / (1.0 - product));
        step.bias_2 = (float)(1.0 - pow(c->beta_2, t));
    }
    step.ftrl_power = (float)-c->learning_rate_power;
    step.l1 = (float)c->l1_regularization_strength;
    step.two_l2 = step.two_shrinkage = 0.0f;
    if (c->kind == NN_OPTIMIZER_FTRL) {
        step.two_l2 = (float)(2.0 * c->l2_regularization_strength + c->beta / c->learning_rate);
        step.two_shrinkage = (float)(2.0 * c->l2_shrinkage_regularization_strength);
    }
    step.decay = c->weight_decay > 0.0 ? (float)(c->weight_decay * c->learning_rate) : 0.0f;
    step.clipvalue = (float)c->clipvalue;
    step.nesterov = c->nesterov;
    step.amsgrad = c->amsgrad;
    step.centered = c->centered;
    step.has_momentum = c->momentum > 0.0;
    return step;
}

/* Slice s of Σ g² (for clipnorm). */
NN_BODY void nn_body_squares_partial(double *partials, const float *values, size_t n,
                                     size_t slices, size_t s)
{
    double total = 0.0;
    for (size_t i = s; i < n; i += slices)
        total += (double)values[i] * (double)values[i];
    partials[s] = total;
}

/* clip_by_norm's factor from Σ g²: clipnorm / max(‖g‖, clipnorm). */
NN_BODY float nn_body_clipnorm_scale(double squares, double clipnorm)
{
    return (float)(clipnorm / fmax(sqrt(squares), clipnorm));
}

/* Ftrl's accumulator to its power: the default 0.5 as a square root, which is exact on
 * every device (a GPU's powf is not correctly rounded). */
NN_BODY float nn_body_ftrl_power(float accumulator, float power)
{
    if (power == 0.5f)
        return sqrtf(accumulator);
    return power == 0.0f ? 1.0f : powf(accumulator, power);
}

/* One weight's update. `scale` is the clipnorm factor (1 without clipnorm). */
NN_BODY void nn_body_optimizer_update(float *w, float *slot0, float *slot1, float *slot2,
                                      const float *grads, const unsigned char *decay_mask,
                                      const nn_body_step *step, float scale, size_t i)
{
    float weight = w[i];
    if (step->decay > 0.0f && (!decay_mask || decay_mask[i]))
        weight -= weight * step->decay;
    float g = grads[i] * scale;
    if (step->clipvalue > 0.0f)
        g = g > step->clipvalue ? step->clipvalue : g < -step->clipvalue ? -step->clipvalue : g;
    switch (step->kind) {
    case NN_OPTIMIZER_SGD:
        if (!step->has_momentum) {
            weight -= step->learning_rate * g;
        } else {
            float m = step->momentum * slot0[i] - step->learning_rate * g;
            slot0[i] = m;
            weight += step->nesterov ? step->momentum * m - step->learning_rate * g : m;
        }
        break;
    case NN_OPTIMIZER_ADAM:
    case NN_OPTIMIZER_ADAMW: {
        float m = slot0[i], v = slot1[i];
        m += (g - m) * step->one_minus_beta_1;
        v += (g * g - v) * step->one_minus_beta_2;
        slot0[i] = m;
        slot1[i] = v;
        float second = v;
        if (step->amsgrad) {
            float peak = slot2[i] > v ? slot2[i] : v;
            slot2[i] = peak;
            second = peak;
        }
        weight -= m * step->alpha / (sqrtf(second) + step->epsilon);
        break;
    }
    case NN_OPTIMIZER_RMSPROP: {
        float *moment = step->has_momentum ? slot1 : NULL;
        float *average = step->centered ? (moment ? slot2 : slot1) : NULL;
        float velocity = step->rho * slot0[i] + step->one_minus_rho * g * g;
        slot0[i] = velocity;
        float denominator;
        if (average) {
            float a = step->rho * average[i] + step->one_minus_rho * g;
            average[i] = a;
            denominator = velocity - a * a + step->epsilon;
            denominator = denominator > step->epsilon ? denominator : step->epsilon;
        } else {
            denominator = velocity + step->epsilon;
        }
        float increment = step->learning_rate * g / sqrtf(denominator);
        if (moment) {
            float m = step->momentum * moment[i] + increment;
            moment[i] = m;
            weight -= m;
        } else {
            weight -= increment;
        }
        break;
    }
    case NN_OPTIMIZER_ADAGRAD: {
        float accumulator = slot0[i] + g * g;
        slot0[i] = accumulator;
        weight -= step->learning_rate * g / sqrtf(accumulator + step->epsilon);
        break;
    }
    case NN_OPTIMIZER_NADAM: {
        float m = slot0[i], v = slot1[i];
        m += (g - m) * step->one_minus_beta_1;
        v += (g * g - v) * step->one_minus_beta_2;
        slot0[i] = m;
        slot1[i] = v;
        float m_hat = step->nadam_momentum * m + step->nadam_gradient * g;
        weight -= m_hat * step->learning_rate / (sqrtf(v / step->bias_2) + step->epsilon);
        break;
    }
    case NN_OPTIMIZER_ADAMAX: {
        float m = slot0[i] + (g - slot0[i]) * step->one_minus_beta_1;
        float decayed = step->beta_2 * slot1[i], size = fabsf(g);
        float norm = decayed > size ? decayed : size; /* a NaN gradient stays NaN */
        slot0[i] = m;
        slot1[i] = norm;
        weight -= step->alpha * m / (norm + step->epsilon);
        break;
    }
    case NN_OPTIMIZER_ADADELTA: {
        float accumulated_grad = step->rho * slot0[i] + step->one_minus_rho * g * g;
        float delta =
            -sqrtf(slot1[i] + step->epsilon) * g / sqrtf(accumulated_grad + step->epsilon);
        slot0[i] = accumulated_grad;
        slot1[i] = step->rho * slot1[i] + step->one_minus_rho * delta * delta;
        weight += step->learning_rate * delta;
        break;
    }
    case NN_OPTIMIZER_LION: {
        float m = slot0[i];
        float direction = step->beta_1 * m + step->one_minus_beta_1 * g;
        /* sign(), with sign(0) = 0 and a NaN kept, as Keras' ops.sign */
        float sign = direction > 0.0f ? 1.0f : direction < 0.0f ? -1.0f : direction;
        weight -= step->learning_rate * sign;
        slot0[i] = step->beta_2 * m + step->one_minus_beta_2 * g;
        break;
    }
    case NN_OPTIMIZER_FTRL: {
        /* Keras' Ftrl: the linear term follows the gradient (with shrinkage) less the
         * change of the per-weight rate times w; the weight is the regularised leader,
         * 0 while |linear| <= l1. */
        float accumulator = slot0[i], next = accumulator + g * g;
        float root = nn_body_ftrl_power(next, step->ftrl_power);
        float previous = nn_body_ftrl_power(accumulator, step->ftrl_power);
        float linear = slot1[i] + (g + step->two_shrinkage * weight) -
                       (root - previous) / step->learning_rate * weight;
        float quadratic = root / step->learning_rate + step->two_l2;
        float clipped = linear > step->l1 ? step->l1 : linear < -step->l1 ? -step->l1 : linear;
        weight = (clipped - linear) / quadratic;
        slot0[i] = next;
        slot1[i] = linear;
        break;
    }
    default:
        break;
    }
    w[i] = weight;
}

/* Slice s of Σ|w| (partials[2s]) and Σw² (partials[2s + 1]). */
NN_BODY void nn_body_penalty_partial(double *partials, const float *w, size_t n, size_t slices,
                                     size_t s)
{
    double sum_abs = 0.0, sum_squares = 0.0;
    for (size_t i = s; i < n; i += slices) {
        sum_abs += fabs((double)w[i]);
        sum_squares += (double)w[i] * (double)w[i];
    }
    partials[2 * s] = sum_abs;
    partials[2 * s + 1] = sum_squares;
}

/* l1·Σ|w| + l2·Σw² from the slices, added in order. */
NN_BODY double nn_body_penalty_total(const double *partials, size_t slices, float l1, float l2)
{
    double sum_abs = 0.0, sum_squares = 0.0;
    for (size_t s = 0; s < slices; s++) {
        sum_abs += partials[2 * s];
        sum_squares += partials[2 * s + 1];
    }
    return (double)l1 * sum_abs + (double)l2 * sum_squares;
}

/* grad[i] += l1·sign(w) + two_l2·w (a weight: two_l2 = 2·l2; an activity: l1 and 2·l2
 * divided by the batch size, as the CPU rounds them). */
NN_BODY void nn_body_penalty_gradient(float *grad, const float *w, float l1, float two_l2,
                                      size_t i)
{
    float sign = w[i] > 0.0f ? 1.0f : w[i] < 0.0f ? -1.0f : 0.0f;
    grad[i] += l1 * sign + two_l2 * w[i];
}

/* A weight's shape and the axes a constraint takes its norms over. */
typedef struct nn_body_norm_groups {
    int ndim;
    unsigned axes;                /* bit i: axis i is reduced */
    uint64_t dims[NN_MAX_DIMS];
} nn_body_norm_groups;

/* Element i's group: its coordinates on the kept axes, row-major. */
NN_BODY size_t nn_body_kept_index(const nn_body_norm_groups *g, size_t i)
{
    uint64_t index = 0, stride = 1, rest = (uint64_t)i;
    for (int axis = g->ndim - 1; axis >= 0; axis--) {
        uint64_t coordinate = rest % g->dims[axis];
        rest /= g->dims[axis];
        if (!(g->axes & (1u << axis))) {
            index += coordinate * stride;
            stride *= g->dims[axis];
        }
    }
    return (size_t)index;
}

/* factors[group] = desired norm / (ε + norm) of that group, its squares summed in the
 * order of the flat index, as the CPU does. */
NN_BODY void nn_body_constraint_factor(double *factors, const float *w,
                                       const nn_body_norm_groups *g, nn_constraint constraint,
                                       size_t group)
{
    /* The group's kept coordinates give its first element; the reduced axes are then
     * walked row-major. */
    uint64_t strides[NN_MAX_DIMS], base = 0, rest = (uint64_t)group, reduced = 1;
    uint64_t stride = 1;
    for (int axis = g->ndim - 1; axis >= 0; axis--) {
        strides[axis] = stride;
        stride *= g->dims[axis];
    }
    for (int axis = g->ndim - 1; axis >= 0; axis--) {
        if (g->axes & (1u << axis)) {
            reduced *= g->dims[axis];
        } else {
            base += (rest % g->dims[axis]) * strides[axis];
            rest /= g->dims[axis];
        }
    }
    double squares = 0.0;
    for (uint64_t r = 0; r < reduced; r++) {
        uint64_t offset = base, left = r;
        for (int axis = g->ndim - 1; axis >= 0; axis--) {
            if (g->axes & (1u << axis)) {
                offset += (left % g->dims[axis]) * strides[axis];
                left /= g->dims[axis];
            }
        }
        squares += (double)w[offset] * (double)w[offset];
    }
    double norm = sqrt(squares), desired;
    switch (constraint.kind) {
    case NN_CONSTRAINT_MAX_NORM:
        desired = fmin(norm, (double)constraint.max_value);
        break;
    case NN_CONSTRAINT_MIN_MAX_NORM:
        desired = (double)constraint.rate *
                      fmin(fmax(norm, (double)constraint.min_value), (double)constraint.max_value) +
                  (1.0 - (double)constraint.rate) * norm;
        break;
    default: /* unit_norm */
        desired = 1.0;
        break;
    }
    factors[group] = desired / (1e-7 + norm);
}

NN_BODY void nn_body_constraint_scale(float *w, const double *factors,
                                      const nn_body_norm_groups *g, size_t i)
{
    w[i] = (float)((double)w[i] * factors[nn_body_kept_index(g, i)]);
}

NN_BODY void nn_body_non_negative(float *w, size_t i) { w[i] = w[i] < 0.0f ? 0.0f : w[i]; }

#endif
