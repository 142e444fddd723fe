/* Naive double-precision references for initializer fans, losses, constraints,
 * optimizers and batch normalization: each follows Keras' formulas line by line. */
#include "ref_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ref_fans(const int64_t *dims, int ndim, double *fan_in, double *fan_out)
{
    if (ndim == 0) {
        *fan_in = *fan_out = 1.0;
        return;
    }
    if (ndim == 1) {
        *fan_in = *fan_out = (double)dims[0];
        return;
    }
    double receptive = 1.0;
    for (int i = 0; i < ndim - 2; i++)
        receptive *= (double)dims[i];
    *fan_in = receptive * (double)dims[ndim - 2];
    *fan_out = receptive * (double)dims[ndim - 1];
}

void ref_activation(nn_activation_kind kind, double *y, const double *x, int64_t rows,
                    int64_t width)
{
    for (int64_t r = 0; r < rows; r++) {
        const double *in = x + r * width;
        double *out = y + r * width;
        if (kind == NN_ACTIVATION_SOFTMAX) {
            double peak = in[0], total = 0.0;
            for (int64_t j = 1; j < width; j++)
                peak = fmax(peak, in[j]);
            for (int64_t j = 0; j < width; j++)
                total += exp(in[j] - peak);
            for (int64_t j = 0; j < width; j++)
                out[j] = exp(in[j] - peak) / total;
            continue;
        }
        for (int64_t j = 0; j < width; j++) {
            double v = in[j];
            switch (kind) {
            case NN_ACTIVATION_RELU: out[j] = v > 0.0 ? v : 0.0; break;
            case NN_ACTIVATION_SIGMOID: out[j] = 1.0 / (1.0 + exp(-v)); break;
            case NN_ACTIVATION_TANH: out[j] = tanh(v); break;
            default: out[j] = v; break;
            }
        }
    }
}

static const double EPS = 1e-7;

static double clip(double p) { return fmin(fmax(p, EPS), 1.0 - EPS); }

/* -Σ_j t_j log softmax(z)_j for one row. */
static double log_softmax_crossentropy(const double *z, const double *t, int64_t width)
{
    double peak = z[0], total = 0.0, loss = 0.0;
    for (int64_t j = 1; j < width; j++)
        peak = fmax(peak, z[j]);
    for (int64_t j = 0; j < width; j++)
        total += exp(z[j] - peak);
    double lse = peak + log(total);
    for (int64_t j = 0; j < width; j++)
        loss -= t[j] * (z[j] - lse);
    return loss;
}

/* max(x, lower) */
static double at_least(double x, double lower) { return x > lower ? x : lower; }

double ref_loss(nn_loss_kind kind, bool from_logits, double delta, nn_activation_kind last,
                const double *logits, const double *labels, int64_t batch, int64_t width)
{
    size_t n = (size_t)(batch * width);
    double *pred = malloc(n * sizeof *pred);
    double *target = malloc(n * sizeof *target);
    double *row = malloc((size_t)width * sizeof *row);
    ref_activation(last, pred, logits, batch, width);
    bool sparse = kind == NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t j = 0; j < width; j++)
            target[b * width + j] = sparse ? (j == (int64_t)labels[b] ? 1.0 : 0.0)
                                           : labels[b * width + j];
    /* Keras' hinge losses: labels that are all 0 or 1 (in the whole batch) mean -1 and 1. */
    bool all_binary = true;
    for (size_t i = 0; i < n; i++)
        all_binary = all_binary && (target[i] == 0.0 || target[i] == 1.0);
    const double epsilon = 1e-7;
    double total = 0.0;
    for (int64_t b = 0; b < batch; b++) {
        const double *z = logits + b * width, *p = pred + b * width, *t = target + b * width;
        double pos = 0.0, neg = -INFINITY, tt = 0.0, pp = 0.0, tp = 0.0;
        switch (kind) {
        case NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        case NN_LOSS_CATEGORICAL_CROSSENTROPY:
            if (last == NN_ACTIVATION_SOFTMAX) {
                total += log_softmax_crossentropy(z, t, width);
            } else if (from_logits) {
                total += log_softmax_crossentropy(p, t, width);
            } else if (sparse) {
                /* clip, log, then a softmax crossentropy on the logs */
                for (int64_t j = 0; j < width; j++)
                    row[j] = log(clip(p[j]));
                total += log_softmax_crossentropy(row, t, width);
            } else {
                /* normalise, clip, -Σ t log */
                double sum = 0.0;
                for (int64_t j = 0; j < width; j++)
                    sum += p[j];
                for (int64_t j = 0; j < width; j++)
                    total -= t[j] * log(clip(p[j] / sum));
            }
            break;
        case NN_LOSS_BINARY_CROSSENTROPY:
            for (int64_t j = 0; j < width; j++) {
                double term;
                if (last == NN_ACTIVATION_SIGMOID || from_logits) {
                    double x = last == NN_ACTIVATION_SIGMOID ? z[j] : p[j];
                    /* -t log σ(x) - (1 - t) log(1 - σ(x)), written without overflow */
                    double log_sigmoid = -log1p(exp(-fabs(x))) + fmin(x, 0.0);
                    double log_one_minus = -log1p(exp(-fabs(x))) + fmin(-x, 0.0);
                    term = -t[j] * log_sigmoid - (1.0 - t[j]) * log_one_minus;
                } else {
                    double c = clip(p[j]);
                    term = -(t[j] * log(c) + (1.0 - t[j]) * log(1.0 - c));
                }
                total += term / (double)width;
            }
            break;
        case NN_LOSS_MEAN_SQUARED_ERROR:
            for (int64_t j = 0; j < width; j++)
                total += (p[j] - t[j]) * (p[j] - t[j]) / (double)width;
            break;
        case NN_LOSS_MEAN_ABSOLUTE_ERROR:
            for (int64_t j = 0; j < width; j++)
                total += fabs(p[j] - t[j]) / (double)width;
            break;
        case NN_LOSS_HUBER:
            for (int64_t j = 0; j < width; j++) {
                double e = fabs(p[j] - t[j]);
                total += (e <= delta ? 0.5 * e * e : delta * e - 0.5 * delta * delta) /
                         (double)width;
            }
            break;
        case NN_LOSS_LOG_COSH:
            for (int64_t j = 0; j < width; j++)
                total += log(cosh(p[j] - t[j])) / (double)width;
            break;
        case NN_LOSS_KL_DIVERGENCE:
            for (int64_t j = 0; j < width; j++) {
                double ct = fmin(at_least(t[j], epsilon), 1.0);
                double cp = fmin(at_least(p[j], epsilon), 1.0);
                total += ct * log(ct / cp);
            }
            break;
        case NN_LOSS_POISSON:
            for (int64_t j = 0; j < width; j++)
                total += (p[j] - t[j] * log(p[j] + epsilon)) / (double)width;
            break;
        case NN_LOSS_HINGE:
        case NN_LOSS_SQUARED_HINGE:
            for (int64_t j = 0; j < width; j++) {
                double sign = all_binary ? 2.0 * t[j] - 1.0 : t[j];
                double margin = at_least(1.0 - sign * p[j], 0.0);
                total += (kind == NN_LOSS_HINGE ? margin : margin * margin) / (double)width;
            }
            break;
        case NN_LOSS_CATEGORICAL_HINGE:
            for (int64_t j = 0; j < width; j++) {
                pos += t[j] * p[j];
                neg = fmax(neg, (1.0 - t[j]) * p[j]);
            }
            total += at_least(neg - pos + 1.0, 0.0);
            break;
        case NN_LOSS_COSINE_SIMILARITY:
            for (int64_t j = 0; j < width; j++) {
                tt += t[j] * t[j];
                pp += p[j] * p[j];
                tp += t[j] * p[j];
            }
            total -= tp / (at_least(sqrt(tt), epsilon) * at_least(sqrt(pp), epsilon));
            break;
        case NN_LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR:
            for (int64_t j = 0; j < width; j++)
                total += 100.0 * fabs(t[j] - p[j]) / at_least(fabs(t[j]), epsilon) /
                         (double)width;
            break;
        case NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR:
            for (int64_t j = 0; j < width; j++) {
                double e = log(at_least(p[j], epsilon) + 1.0) - log(at_least(t[j], epsilon) + 1.0);
                total += e * e / (double)width;
            }
            break;
        default:
            break;
        }
    }
    free(pred);
    free(target);
    free(row);
    return total / (double)batch;
}

/* The flat index of element i's group: i with the reduced axes' coordinates removed. */
static size_t group_of(size_t i, const int64_t *dims, int ndim, unsigned axes)
{
    int64_t coordinates[NN_MAX_DIMS];
    for (int a = ndim - 1; a >= 0; a--) {
        coordinates[a] = (int64_t)(i % (size_t)dims[a]);
        i /= (size_t)dims[a];
    }
    size_t group = 0;
    for (int a = 0; a < ndim; a++)
        if (!(axes & (1u << a)))
            group = group * (size_t)dims[a] + (size_t)coordinates[a];
    return group;
}

void ref_constraint(double *w, const int64_t *dims, int ndim, const nn_constraint *constraint)
{
    size_t n = 1;
    for (int a = 0; a < ndim; a++)
        n *= (size_t)dims[a];
    if (constraint->kind == NN_CONSTRAINT_NON_NEG) {
        for (size_t i = 0; i < n; i++)
            w[i] = fmax(w[i], 0.0);
        return;
    }
    double *squares = calloc(n, sizeof *squares);
    for (size_t i = 0; i < n; i++)
        squares[group_of(i, dims, ndim, constraint->axes)] += w[i] * w[i];
    for (size_t i = 0; i < n; i++) {
        double norm = sqrt(squares[group_of(i, dims, ndim, constraint->axes)]);
        double desired = norm;
        if (constraint->kind == NN_CONSTRAINT_MAX_NORM)
            desired = fmin(fmax(norm, 0.0), constraint->max_value);
        else if (constraint->kind == NN_CONSTRAINT_UNIT_NORM)
            desired = 1.0;
        else if (constraint->kind == NN_CONSTRAINT_MIN_MAX_NORM)
            desired = constraint->rate * fmin(fmax(norm, constraint->min_value),
                                              constraint->max_value) +
                      (1.0 - constraint->rate) * norm;
        w[i] = w[i] * desired / (1e-7 + norm);
    }
    free(squares);
}

static double *zeros(size_t n) { return calloc(n ? n : 1, sizeof(double)); }

void ref_optimizer_init(ref_optimizer *optimizer, const nn_optimizer_config *config,
                        size_t count)
{
    memset(optimizer, 0, sizeof *optimizer);
    optimizer->config = *config;
    optimizer->count = count;
    optimizer->m = zeros(count);
    optimizer->v = zeros(count);
    optimizer->v_hat = zeros(count);
    optimizer->momentum = zeros(count);
    optimizer->velocity = zeros(count);
    optimizer->average = zeros(count);
    optimizer->accumulator = zeros(count);
    optimizer->norm = zeros(count);
    optimizer->accumulated_grad = zeros(count);
    optimizer->accumulated_delta = zeros(count);
    optimizer->linear = zeros(count);
    optimizer->u_product = 1.0;
    for (size_t i = 0; i < count; i++)
        optimizer->accumulator[i] = config->initial_accumulator_value;
}

void ref_optimizer_free(ref_optimizer *optimizer)
{
    free(optimizer->m);
    free(optimizer->v);
    free(optimizer->v_hat);
    free(optimizer->momentum);
    free(optimizer->velocity);
    free(optimizer->average);
    free(optimizer->accumulator);
    free(optimizer->norm);
    free(optimizer->accumulated_grad);
    free(optimizer->accumulated_delta);
    free(optimizer->linear);
}

void ref_optimizer_step(ref_optimizer *optimizer, double *w, const double *grads,
                        const unsigned char *decay_mask)
{
    const nn_optimizer_config *c = &optimizer->config;
    size_t n = optimizer->count;
    optimizer->t++;
    double t = optimizer->t, lr = c->learning_rate;
    /* Nadam's momentum schedule: Keras multiplies u_product by this step's u first. */
    double u_t = c->beta_1 * (1.0 - 0.5 * pow(0.96, t));
    double u_next = c->beta_1 * (1.0 - 0.5 * pow(0.96, t + 1.0));
    optimizer->u_product *= u_t;
    double norm = 0.0;
    for (size_t i = 0; i < n; i++)
        norm += grads[i] * grads[i];
    norm = sqrt(norm);
    for (size_t i = 0; i < n; i++) {
        double g = grads[i];
        if (c->clipnorm > 0.0)
            g = g * c->clipnorm / fmax(norm, c->clipnorm);
        if (c->clipvalue > 0.0)
            g = fmin(fmax(g, -c->clipvalue), c->clipvalue);
        if (c->weight_decay > 0.0 && (!decay_mask || decay_mask[i]))
            w[i] = w[i] - w[i] * c->weight_decay * lr;
        switch (c->kind) {
        case NN_OPTIMIZER_SGD:
            if (c->momentum == 0.0) {
                w[i] -= lr * g;
            } else {
                double *m = &optimizer->momentum[i];
                *m = c->momentum * *m - lr * g;
                w[i] += c->nesterov ? c->momentum * *m - lr * g : *m;
            }
            break;
        case NN_OPTIMIZER_ADAM:
        case NN_OPTIMIZER_ADAMW: {
            double alpha = lr * sqrt(1.0 - pow(c->beta_2, t)) / (1.0 - pow(c->beta_1, t));
            double *m = &optimizer->m[i], *v = &optimizer->v[i];
            *m = *m + (g - *m) * (1.0 - c->beta_1);
            *v = *v + (g * g - *v) * (1.0 - c->beta_2);
            double second = *v;
            if (c->amsgrad) {
                optimizer->v_hat[i] = fmax(optimizer->v_hat[i], *v);
                second = optimizer->v_hat[i];
            }
            w[i] -= *m * alpha / (sqrt(second) + c->epsilon);
            break;
        }
        case NN_OPTIMIZER_RMSPROP: {
            double *velocity = &optimizer->velocity[i];
            *velocity = c->rho * *velocity + (1.0 - c->rho) * g * g;
            double denominator = *velocity + c->epsilon;
            if (c->centered) {
                double *average = &optimizer->average[i];
                *average = c->rho * *average + (1.0 - c->rho) * g;
                denominator = *velocity - *average * *average + c->epsilon;
            }
            double increment = lr * g / sqrt(denominator);
            if (c->momentum > 0.0) {
                optimizer->momentum[i] = c->momentum * optimizer->momentum[i] + increment;
                w[i] -= optimizer->momentum[i];
            } else {
                w[i] -= increment;
            }
            break;
        }
        case NN_OPTIMIZER_ADAGRAD:
            optimizer->accumulator[i] += g * g;
            w[i] -= lr * g / sqrt(optimizer->accumulator[i] + c->epsilon);
            break;
        case NN_OPTIMIZER_NADAM: {
            double *m = &optimizer->m[i], *v = &optimizer->v[i];
            *m += (g - *m) * (1.0 - c->beta_1);
            *v += (g * g - *v) * (1.0 - c->beta_2);
            double m_hat = u_next * *m / (1.0 - optimizer->u_product * u_next) +
                           (1.0 - u_t) * g / (1.0 - optimizer->u_product);
            double v_hat = *v / (1.0 - pow(c->beta_2, t));
            w[i] -= m_hat * lr / (sqrt(v_hat) + c->epsilon);
            break;
        }
        case NN_OPTIMIZER_ADAMAX: {
            double *m = &optimizer->m[i], *u = &optimizer->norm[i];
            *m += (g - *m) * (1.0 - c->beta_1);
            *u = fmax(c->beta_2 * *u, fabs(g));
            w[i] -= lr * *m / ((1.0 - pow(c->beta_1, t)) * (*u + c->epsilon));
            break;
        }
        case NN_OPTIMIZER_ADADELTA: {
            double *a = &optimizer->accumulated_grad[i], *d = &optimizer->accumulated_delta[i];
            *a = c->rho * *a + (1.0 - c->rho) * g * g;
            double delta = -sqrt(*d + c->epsilon) * g / sqrt(*a + c->epsilon);
            *d = c->rho * *d + (1.0 - c->rho) * delta * delta;
            w[i] += lr * delta;
            break;
        }
        case NN_OPTIMIZER_FTRL: {
            double *n_acc = &optimizer->accumulator[i], *z = &optimizer->linear[i];
            double power = -c->learning_rate_power;
            double l2 = c->l2_regularization_strength + c->beta / (2.0 * lr);
            double shrunk = g + 2.0 * c->l2_shrinkage_regularization_strength * w[i];
            double next = *n_acc + g * g;
            *z += shrunk - (pow(next, power) - pow(*n_acc, power)) / lr * w[i];
            double quadratic = pow(next, power) / lr + 2.0 * l2;
            double l1 = c->l1_regularization_strength;
            w[i] = (fmin(fmax(*z, -l1), l1) - *z) / quadratic;
            *n_acc = next;
            break;
        }
        case NN_OPTIMIZER_LION: {
            double *m = &optimizer->m[i];
            double direction = *m * c->beta_1 + g * (1.0 - c->beta_1);
            w[i] -= lr * (direction > 0.0 ? 1.0 : direction < 0.0 ? -1.0 : 0.0);
            *m = *m * c->beta_2 + g * (1.0 - c->beta_2);
            break;
        }
        default:
            break;
        }
    }
}

/* The channel of element i: its coordinate on `axis`. */
static int64_t channel_of(size_t i, const int64_t *dims, int ndim, int axis)
{
    for (int a = ndim - 1; a > axis; a--)
        i /= (size_t)dims[a];
    return (int64_t)(i % (size_t)dims[axis]);
}

void ref_batchnorm_forward(double *y, double *batch_mean, double *batch_variance,
                           const double *x, const double *gamma, const double *beta,
                           const double *moving_mean, const double *moving_variance,
                           const int64_t *dims, int ndim, int axis, double epsilon,
                           bool training)
{
    size_t n = 1;
    for (int a = 0; a < ndim; a++)
        n *= (size_t)dims[a];
    int64_t channels = dims[axis];
    double *mean = zeros((size_t)channels), *variance = zeros((size_t)channels);
    if (training) {
        double count = (double)n / (double)channels;
        for (size_t i = 0; i < n; i++)
            mean[channel_of(i, dims, ndim, axis)] += x[i] / count;
        for (size_t i = 0; i < n; i++) {
            int64_t c = channel_of(i, dims, ndim, axis);
            variance[c] += (x[i] - mean[c]) * (x[i] - mean[c]) / count;
        }
    } else {
        memcpy(mean, moving_mean, (size_t)channels * sizeof(double));
        memcpy(variance, moving_variance, (size_t)channels * sizeof(double));
    }
    for (size_t i = 0; i < n; i++) {
        int64_t c = channel_of(i, dims, ndim, axis);
        double normalized = (x[i] - mean[c]) / sqrt(variance[c] + epsilon);
        y[i] = normalized * (gamma ? gamma[c] : 1.0) + (beta ? beta[c] : 0.0);
    }
    if (batch_mean)
        memcpy(batch_mean, mean, (size_t)channels * sizeof(double));
    if (batch_variance)
        memcpy(batch_variance, variance, (size_t)channels * sizeof(double));
    free(mean);
    free(variance);
}
